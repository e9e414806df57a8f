/* cove: HEALTHCHECK's arguments and Go durations (--interval=1m30s).  */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

#include "pkg/build/internal.h"
#include "pkg/util/xalloc.h"

struct unit
{
  const char *name;
  uint64_t ns;
};

/* Longest names first: "ms" before "m".  */
static const struct unit units[] = {
  { "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
  { "ms", 1000000 }, { "s", 1000000000ULL }, { "m", 60000000000ULL },
  { "h", 3600000000000ULL },
};

/* Digits at *P into *V, saturating at UINT64_MAX; their count.  With
   SCALE (a fraction), digits past the 18th are skipped: they add nothing
   at nanosecond precision.  */
static size_t
read_digits (const char **p, uint64_t *v, uint64_t *scale)
{
  size_t n = 0;
  for (; **p >= '0' && **p <= '9'; (*p)++, n++)
    {
      unsigned d = (unsigned) (**p - '0');
      if (scale && n >= 18)
        continue;
      if (*v > (UINT64_MAX - d) / 10)
        {
          *v = UINT64_MAX;
          continue;
        }
      *v = *v * 10 + d;
      if (scale)
        *scale *= 10;
    }
  return n;
}

static const struct unit *
read_unit (const char **p)
{
  const char *s = *p;
  size_t n = 0;
  while (s[n] && !(s[n] >= '0' && s[n] <= '9') && s[n] != '.')
    n++;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strlen (units[i].name) == n && strncmp (units[i].name, s, n) == 0)
      {
        *p = s + n;
        return &units[i];
      }
  return NULL;
}

int
bld_parse_duration (const char *s, int64_t *out)
{
  bool neg = *s == '-';
  if (*s == '-' || *s == '+')
    s++;
  if (strcmp (s, "0") == 0)
    {
      *out = 0;
      return 0;
    }
  if (*s == '\0')
    return -1;
  uint64_t total = 0;
  while (*s)
    {
      uint64_t whole = 0, frac = 0, scale = 1;
      size_t nd = read_digits (&s, &whole, NULL), nf = 0;
      if (*s == '.')
        {
          s++;
          nf = read_digits (&s, &frac, &scale);
        }
      const struct unit *u = read_unit (&s);
      if ((nd == 0 && nf == 0) || u == NULL || whole == UINT64_MAX
          || whole > (uint64_t) INT64_MAX / u->ns)
        return -1;
      /* The fraction (at most 18 digits) in double: its rounding is far
         below a nanosecond for any duration a healthcheck uses.  */
      double f = (double) frac * ((double) u->ns / (double) scale);
      uint64_t v = whole * u->ns + (uint64_t) f;
      if (v > (uint64_t) INT64_MAX - total)
        return -1;
      total += v;
    }
  *out = neg ? -(int64_t) total : (int64_t) total;
  return 0;
}

/* A duration flag: 0 when absent; otherwise at least 1ms (docker's
   container.MinimumDuration) or exactly 0.  */
static int
duration_flag (struct cove_build_instr *instr, const char *name,
               int64_t *out, struct cove_error **err)
{
  const char *v = cove_build_instr_flag (instr, name);
  *out = 0;
  if (v == NULL || *v == '\0')
    return 0;
  if (bld_parse_duration (v, out) < 0)
    return cove_error_set_plain (err, EINVAL, "invalid duration \"%s\" of --%s",
                                 v, name);
  if (*out != 0 && *out < 1000000)
    return cove_error_set_plain (err, EINVAL,
                                 "interval \"%s\" cannot be less than 1ms",
                                 name);
  return 0;
}

static int
retries_flag (struct cove_build_instr *instr, struct cove_error **err)
{
  const char *v = cove_build_instr_flag (instr, "retries");
  instr->health.retries = 0;
  if (v == NULL || *v == '\0')
    return 0;
  const char *p = v + (*v == '-' || *v == '+');
  long long n = 0;
  if (*p == '\0')
    return cove_error_set_plain (err, EINVAL, "invalid --retries \"%s\"", v);
  for (; *p; p++)
    {
      if (*p < '0' || *p > '9' || n > INT_MAX)
        return cove_error_set_plain (err, EINVAL, "invalid --retries \"%s\"",
                                     v);
      n = n * 10 + (*p - '0');
    }
  if (*v == '-' && n > 0)
    return cove_error_set_plain (err, EINVAL,
                                 "--retries cannot be negative (-%lld)", n);
  if (n > INT_MAX)
    return cove_error_set_plain (err, EINVAL, "invalid --retries \"%s\"", v);
  instr->health.retries = (int) n;
  return 0;
}

/* `NONE`, or `CMD` and a command in exec or shell form.  */
int
bld_args_healthcheck (struct cove_build_instr *instr, const char *rest,
                      struct cove_error **err)
{
  size_t tlen = 0;
  while (rest[tlen] && !is_space (rest[tlen]))
    tlen++;
  if (tlen == 0)
    return bld_err_at_least_one (err);
  char *type = xstrndup (rest, tlen);
  const char *cmd = rest + tlen;
  while (is_space (*cmd))
    cmd++;
  int r = 0;
  if (strcasecmp (type, "NONE") == 0)
    {
      if (*cmd || instr->n_flags)
        r = cove_error_set_plain (err, EINVAL,
                                  "HEALTHCHECK NONE takes no arguments");
      else
        {
          instr->health.none = true;
          cove_strv_append (&instr->args, "NONE");
        }
      free (type);
      return r;
    }
  if (strcasecmp (type, "CMD") != 0)
    r = cove_error_set_plain (err, EINVAL,
                              "unknown type \"%s\" in HEALTHCHECK (try CMD)",
                              type);
  free (type);
  if (r < 0 || bld_args_maybe_json (instr, cmd, err) < 0)
    return -1;
  if (instr->args[0] == NULL)
    return cove_error_set_plain (err, EINVAL,
                                 "missing command after HEALTHCHECK CMD");
  /* args: "CMD" then the command.  */
  char **args = xmalloc0 ((cove_strv_len (instr->args) + 2) * sizeof (char *));
  args[0] = xstrdup ("CMD");
  memcpy (args + 1, instr->args, cove_strv_len (instr->args) * sizeof (char *));
  free (instr->args);
  instr->args = args;
  struct cove_build_health *h = &instr->health;
  if (duration_flag (instr, "interval", &h->interval, err) < 0
      || duration_flag (instr, "timeout", &h->timeout, err) < 0
      || duration_flag (instr, "start-period", &h->start_period, err) < 0
      || duration_flag (instr, "start-interval", &h->start_interval, err) < 0)
    return -1;
  return retries_flag (instr, err);
}
