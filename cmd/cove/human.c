#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd/cove/human.h"
#include "pkg/util/xalloc.h"

/* Three significant digits of BYTES in decimal units, SEP between the
   number and the unit.  */
static char *
size_with (int64_t bytes, const char *sep)
{
  static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
  double v = (double) bytes;
  size_t u = 0;
  while (v >= 1000 && u + 1 < sizeof units / sizeof units[0])
    {
      v /= 1000;
      u++;
    }
  /* %.3g as Go's strconv 'g' with precision 3 (no exponent for these).  */
  return xasprintf ("%.3g%s%s", v, sep, units[u]);
}

char *
cove_human_size (int64_t bytes)
{
  return size_with (bytes, " ");
}

char *
cove_human_size_compact (int64_t bytes)
{
  return size_with (bytes, "");
}

char *
cove_human_duration (int64_t s)
{
  if (s < 1)
    return xstrdup ("Less than a second");
  if (s == 1)
    return xstrdup ("1 second");
  if (s < 60)
    return xasprintf ("%lld seconds", (long long) s);
  int64_t m = s / 60;
  if (m == 1)
    return xstrdup ("About a minute");
  if (m < 60)
    return xasprintf ("%lld minutes", (long long) m);
  int64_t h = (int64_t) llround ((double) s / 3600);
  if (h == 1)
    return xstrdup ("About an hour");
  if (h < 48)
    return xasprintf ("%lld hours", (long long) h);
  if (h < 24 * 7 * 2)
    return xasprintf ("%lld days", (long long) (h / 24));
  if (h < 24 * 30 * 2)
    return xasprintf ("%lld weeks", (long long) (h / 24 / 7));
  if (h < 24 * 365 * 2)
    return xasprintf ("%lld months", (long long) (h / 24 / 30));
  return xasprintf ("%lld years", (long long) (h / 24 / 365));
}

char *
cove_human_since (time_t when, time_t now)
{
  char *d = cove_human_duration (now > when ? (int64_t) (now - when) : 0);
  char *r = xasprintf ("%s ago", d);
  free (d);
  return r;
}

char *
cove_human_go_time (time_t when)
{
  struct tm tm;
  localtime_r (&when, &tm);
  char buf[64];
  strftime (buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
  return xstrdup (buf);
}

char *
cove_human_rfc3339 (time_t when)
{
  struct tm tm;
  localtime_r (&when, &tm);
  char buf[64];
  if (tm.tm_gmtoff == 0)
    strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  else
    {
      strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
      /* Go writes the offset with a colon: +01:00.  */
      size_t n = strlen (buf);
      memmove (buf + n - 1, buf + n - 2, 3);
      buf[n - 2] = ':';
    }
  return xstrdup (buf);
}
