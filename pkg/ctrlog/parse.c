/* cove: parsing k8s-file log lines and the times of --since/--until.

   Log lines come from a file the container's output fills: the content is
   untrusted bytes, and the file may be cut anywhere (disk full, a crash
   during a write, a rotation).  Every field is checked; nothing here
   allocates or fails.  */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "pkg/ctrlog/ctrlog.h"
#include "pkg/ctrlog/internal.h"

/* N digits at S as a number; -1 when one is not a digit.  */
static int
digits (const char *s, int n)
{
  int v = 0;
  for (int i = 0; i < n; i++)
    {
      if (s[i] < '0' || s[i] > '9')
        return -1;
      v = v * 10 + (s[i] - '0');
    }
  return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
   days_from_civil): no timegm, so no TZ and no time_t range to mind.  */
static int64_t
days_from_civil (int64_t y, int m, int d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static bool
leap (int y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "YYYY-MM-DD" at S (LEN >= 10) into days since the epoch.  */
static int
parse_date (const char *s, size_t len, int64_t *out_days)
{
  static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  if (len < 10 || s[4] != '-' || s[7] != '-')
    return -1;
  int y = digits (s, 4), m = digits (s + 5, 2), d = digits (s + 8, 2);
  if (y < 0 || m < 1 || m > 12 || d < 1)
    return -1;
  if (d > mdays[m - 1] + (m == 2 && leap (y)))
    return -1;
  *out_days = days_from_civil (y, m, d);
  return 0;
}

/* "Z" or "+HH:MM"/"-HH:MM" at S, exactly LEN bytes: the offset in
   seconds east of UTC.  */
static int
parse_zone (const char *s, size_t len, int *out_off)
{
  if (len == 1 && s[0] == 'Z')
    {
      *out_off = 0;
      return 0;
    }
  if (len != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
    return -1;
  int h = digits (s + 1, 2), m = digits (s + 4, 2);
  if (h < 0 || h > 23 || m < 0 || m > 59)
    return -1;
  *out_off = (s[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
  return 0;
}

/* "HH:MM:SS[.fraction]" at S: seconds of the day and nanoseconds; the
   number of bytes used.  */
static int
parse_clock (const char *s, size_t len, int *out_secs, long *out_nsec)
{
  if (len < 8 || s[2] != ':' || s[5] != ':')
    return -1;
  int h = digits (s, 2), m = digits (s + 3, 2), sec = digits (s + 6, 2);
  if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59)
    return -1;
  size_t i = 8;
  long nsec = 0;
  if (i < len && s[i] == '.')
    {
      size_t start = ++i;
      for (long scale = 100000000; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        {
          nsec += (s[i] - '0') * scale;  /* digits past the 9th count 0 */
          scale /= 10;
        }
      if (i == start)
        return -1;
    }
  *out_secs = h * 3600 + m * 60 + sec;
  *out_nsec = nsec;
  return (int) i;
}

int
cove_ctrlog_parse_stamp (const char *s, size_t len, bool zone_required,
                         struct timespec *out)
{
  int64_t days;
  int secs = 0, off = 0;
  long nsec = 0;
  if (parse_date (s, len, &days) < 0)
    return -1;
  size_t i = 10;
  if (i < len && s[i] == 'T')
    {
      int n = parse_clock (s + i + 1, len - i - 1, &secs, &nsec);
      if (n < 0)
        return -1;
      i += 1 + n;
    }
  else if (i < len && s[i] != 'Z' && s[i] != '+' && s[i] != '-')
    return -1;
  if (i == len ? zone_required : parse_zone (s + i, len - i, &off) < 0)
    return -1;
  out->tv_sec = (time_t) (days * 86400 + secs - off);
  out->tv_nsec = nsec;
  return 0;
}

int
cove_ctrlog_parse_line (const char *line, size_t len,
                        struct cove_ctrlog_entry *out)
{
  memset (out, 0, sizeof *out);
  out->data = line;
  out->len = len;
  const char *sp = memchr (line, ' ', len);
  if (sp == NULL)
    return -1;
  size_t slen = (size_t) (sp - line);
  struct timespec t;
  if (slen < 20 || line[10] != 'T'
      || cove_ctrlog_parse_stamp (line, slen, true, &t) < 0)
    return -1;
  /* The rest: "stdout F content" (conmon always writes the space after
     the tag; a line cut right after the tag is taken as empty).  */
  const char *p = sp + 1;
  size_t rest = len - slen - 1;
  int stream;
  if (rest >= 7 && memcmp (p, "stdout ", 7) == 0)
    stream = COVE_CTRLOG_STDOUT;
  else if (rest >= 7 && memcmp (p, "stderr ", 7) == 0)
    stream = COVE_CTRLOG_STDERR;
  else
    return -1;
  p += 7;
  rest -= 7;
  if (rest < 1 || (p[0] != 'F' && p[0] != 'P') || (rest > 1 && p[1] != ' '))
    return -1;
  out->time = t;
  out->stream = stream;
  out->partial = p[0] == 'P';
  out->data = rest > 1 ? p + 2 : p + 1;
  out->len = rest > 1 ? rest - 2 : 0;
  out->stamp = line;
  out->stamp_len = slen;
  return 0;
}

size_t
cove_ctrlog_format_stamp (const char *stamp, size_t len, char *buf,
                          size_t size)
{
  /* As Go's time.RFC3339Nano prints what podman parsed: the fraction
     without trailing zeros (and without the dot when it is zero), a zero
     offset as Z.  STAMP was validated by parse_line.  */
  size_t n = 0, i = 19;
  if (size < 64 || len < 20 || len > 60)
    return 0;
  memcpy (buf, stamp, 19);
  n = 19;
  if (stamp[i] == '.')
    {
      size_t end = i + 1;
      while (end < len && stamp[end] >= '0' && stamp[end] <= '9')
        end++;
      size_t last = end;
      while (last > i + 1 && stamp[last - 1] == '0')
        last--;
      if (last > i + 1)
        {
          size_t keep = last - i > 10 ? 10 : last - i;
          memcpy (buf + n, stamp + i, keep);
          n += keep;
        }
      i = end;
    }
  if (len - i == 6 && memcmp (stamp + i + 1, "00:00", 5) == 0)
    buf[n++] = 'Z';
  else
    {
      memcpy (buf + n, stamp + i, len - i);
      n += len - i;
    }
  buf[n] = '\0';
  return n;
}
