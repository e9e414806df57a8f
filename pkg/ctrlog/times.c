/* cove: the time values of `logs --since/--until`, read as podman does
   (util.ParseInputTime): an RFC 3339 time (or a prefix of one), Unix
   seconds, or a Go duration counted from now.  */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "pkg/ctrlog/ctrlog.h"
#include "pkg/ctrlog/internal.h"

#define NSEC 1000000000LL

/* [+-]?digits[.digits] (Go's ParseFloat would also take exponents, which
   no one writes for a time) into seconds and nanoseconds, exactly.  */
static int
parse_unix (const char *s, struct timespec *out)
{
  bool neg = *s == '-';
  if (*s == '+' || *s == '-')
    s++;
  int64_t sec = 0, nsec = 0, scale = NSEC / 10;
  bool any = false;
  for (; *s >= '0' && *s <= '9'; s++, any = true)
    {
      if (sec > (INT64_MAX / NSEC - 9) / 10)
        return -1;
      sec = sec * 10 + (*s - '0');
    }
  if (*s == '.')
    for (s++; *s >= '0' && *s <= '9'; s++, any = true, scale /= 10)
      nsec += (*s - '0') * scale;
  if (*s != '\0' || !any)
    return -1;
  if (neg && nsec > 0)
    {
      sec = -sec - 1;
      nsec = NSEC - nsec;
    }
  else if (neg)
    sec = -sec;
  out->tv_sec = (time_t) sec;
  out->tv_nsec = (long) nsec;
  return 0;
}

/* The unit at *S in nanoseconds, advancing *S; 0 when unknown.  */
static int64_t
duration_unit (const char **s)
{
  static const struct { const char *name; int64_t ns; } units[] = {
    { "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
    { "ms", 1000000 }, { "s", NSEC }, { "m", 60 * NSEC }, { "h", 3600 * NSEC },
  };
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    {
      size_t n = strlen (units[i].name);
      /* "m" must not take the "m" of "ms": longer names come first.  */
      if (strncmp (*s, units[i].name, n) == 0)
        {
          *s += n;
          return units[i].ns;
        }
    }
  return 0;
}

/* A Go duration ("1h30m", "1.5s", "-10m", "0") in nanoseconds.  */
static int
parse_duration (const char *s, int64_t *out)
{
  bool neg = *s == '-';
  if (*s == '+' || *s == '-')
    s++;
  if (strcmp (s, "0") == 0)
    {
      *out = 0;
      return 0;
    }
  if (*s == '\0')
    return -1;
  int64_t total = 0;
  while (*s)
    {
      int64_t whole = 0, frac = 0, fscale = 1;
      bool any = false;
      for (; *s >= '0' && *s <= '9'; s++, any = true)
        {
          if (whole > (INT64_MAX - 9) / 10)
            return -1;
          whole = whole * 10 + (*s - '0');
        }
      if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++, any = true)
          if (fscale < NSEC * 10)
            {
              frac = frac * 10 + (*s - '0');
              fscale *= 10;
            }
      int64_t unit = any ? duration_unit (&s) : 0;
      if (unit == 0 || whole > INT64_MAX / unit)
        return -1;
      int64_t v = whole * unit + (int64_t) ((double) frac * unit / fscale);
      if (v < 0 || total > INT64_MAX - v)
        return -1;
      total += v;
    }
  *out = neg ? -total : total;
  return 0;
}

static void
add_ns (struct timespec *t, int64_t ns)
{
  int64_t sec = ns / NSEC, rem = ns % NSEC;
  t->tv_sec += (time_t) sec;
  t->tv_nsec += (long) rem;
  if (t->tv_nsec < 0)
    {
      t->tv_nsec += NSEC;
      t->tv_sec--;
    }
  else if (t->tv_nsec >= NSEC)
    {
      t->tv_nsec -= NSEC;
      t->tv_sec++;
    }
}

int
cove_ctrlog_parse_time (const char *s, bool since, const struct timespec *now,
                        struct timespec *out, struct cove_error **err)
{
  int64_t d;
  /* S is the user's; the formats are tried in podman's order.  */
  if (cove_ctrlog_parse_stamp (s, strlen (s), false, out) == 0
      || parse_unix (s, out) == 0)
    return 0;
  if (parse_duration (s, &d) == 0)
    {
      *out = *now;
      add_ns (out, since ? -d : d);
      return 0;
    }
  return cove_error_set_plain (err, EINVAL, "unable to interpret time value");
}
