/* cove: `printf` in --format templates: Go's fmt.Sprintf for the verbs
   scripts use (%v %s %q %d %x %X %o %c %t %e %f %g and %%), with Go's
   flags (- + # 0 space), width and precision, and Go's way of reporting a
   bad call inline: %!d(string=x), %!s(MISSING), %!(EXTRA int=1).  */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/format-internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* Go refuses widths and precisions above 1e6 (fmt's tooLarge).  */
#define MAX_WIDTH 1000000

struct spec
{
  bool minus, plus, sharp, zero, space;
  int width, prec;      /* -1: not given */
  char verb;
};

static size_t
runes (const char *s, size_t n)
{
  size_t r = 0;
  for (size_t i = 0; i < n; i++)
    r += ((unsigned char) s[i] & 0xc0) != 0x80;
  return r;
}

static void
pad_n (struct buf *b, char c, size_t n)
{
  for (size_t i = 0; i < n; i++)
    format_buf_addc (b, c);
}

/* S padded to the width, as fmt.padString (zeros allowed, as Go does).  */
static void
pad_out (struct buf *b, const struct spec *sp, const char *s, size_t n)
{
  size_t w = runes (s, n);
  size_t fill = sp->width > 0 && (size_t) sp->width > w ? (size_t) sp->width - w : 0;
  if (!sp->minus)
    pad_n (b, sp->zero ? '0' : ' ', fill);
  format_buf_add (b, s, n);
  if (sp->minus)
    pad_n (b, ' ', fill);
}

/* SIGN PREFIX DIGITS padded as fmt.fmtInteger: zeros go after the sign.  */
static void
pad_number (struct buf *b, const struct spec *sp, const char *sign,
            const char *prefix, const char *digits, bool zero_ok)
{
  size_t len = strlen (sign) + strlen (prefix) + strlen (digits);
  size_t fill = sp->width > 0 && (size_t) sp->width > len ? (size_t) sp->width - len : 0;
  bool zeros = sp->zero && !sp->minus && zero_ok;
  if (!sp->minus && !zeros)
    pad_n (b, ' ', fill);
  format_buf_adds (b, sign);
  format_buf_adds (b, prefix);
  if (zeros)
    pad_n (b, '0', fill);
  format_buf_adds (b, digits);
  if (sp->minus)
    pad_n (b, ' ', fill);
}

static const char *
sign_of (const struct spec *sp, bool negative)
{
  return negative ? "-" : sp->plus ? "+" : sp->space ? " " : "";
}

static void
fmt_integer (struct buf *b, const struct spec *sp, long long v)
{
  unsigned long long m = v < 0 ? 0ULL - (unsigned long long) v : (unsigned long long) v;
  unsigned base = sp->verb == 'o' ? 8 : sp->verb == 'b' ? 2
                  : sp->verb == 'x' || sp->verb == 'X' ? 16 : 10;
  const char *dig = sp->verb == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  char tmp[80];
  size_t n = 0;
  do
    {
      tmp[n++] = dig[m % base];
      m /= base;
    }
  while (m);
  /* Precision: at least that many digits; %.0d of 0 prints nothing.  */
  size_t want = sp->prec >= 0 ? (size_t) sp->prec : 1;
  if (sp->prec == 0 && v == 0)
    n = 0;
  struct buf d = { 0 };
  for (size_t i = n; i < want; i++)
    format_buf_addc (&d, '0');
  for (size_t i = n; i > 0; i--)
    format_buf_addc (&d, tmp[i - 1]);
  const char *prefix = "";
  if (sp->sharp)
    prefix = base == 16 ? (sp->verb == 'X' ? "0X" : "0x") : base == 8 ? "0" : "";
  cleanup_free char *digits = format_buf_steal (&d);
  pad_number (b, sp, sign_of (sp, v < 0), prefix, digits, sp->prec < 0);
}

static void
fmt_real (struct buf *b, const struct spec *sp, double d)
{
  struct buf m = { 0 };
  double a = fabs (d);
  int prec = sp->prec >= 0 ? sp->prec : 6;
  switch (sp->verb)
    {
    case 'e':
      format_buf_printf (&m, "%.*e", prec, a);
      break;
    case 'E':
      format_buf_printf (&m, "%.*E", prec, a);
      break;
    case 'f':
    case 'F':
      format_buf_printf (&m, "%.*f", prec, a);
      break;
    case 'G':
      format_buf_printf (&m, "%.*G", sp->prec, a);
      break;
    default:
      /* %g and %v without a precision: the shortest representation.  */
      if (sp->prec < 0)
        format_float (&m, a, false);
      else
        format_buf_printf (&m, "%.*g", sp->prec, a);
    }
  cleanup_free char *digits = format_buf_steal (&m);
  pad_number (b, sp, sign_of (sp, signbit (d)), "", digits, true);
}

static void
fmt_bad (struct buf *b, char verb, json_t *v)
{
  format_buf_printf (b, "%%!%c(", verb);
  if (v == NULL || json_is_null (v))
    format_buf_adds (b, "<nil>");
  else
    {
      format_buf_adds (b, format_type_name (v));
      format_buf_addc (b, '=');
      format_print_value (b, v);
    }
  format_buf_addc (b, ')');
}

static void
fmt_string_verb (struct buf *b, const struct spec *sp, json_t *v)
{
  const char *s = json_string_value (v);
  size_t n = json_string_length (v);
  if (sp->verb == 'q')
    {
      struct buf q = { 0 };
      format_quote (&q, s, n);
      pad_out (b, sp, q.data, q.len);
      free (q.data);
      return;
    }
  if (sp->verb == 'x' || sp->verb == 'X')
    {
      struct buf h = { 0 };
      for (size_t i = 0; i < n; i++)
        format_buf_printf (&h, sp->verb == 'x' ? "%02x" : "%02X", (unsigned char) s[i]);
      pad_out (b, sp, h.data ? h.data : "", h.len);
      free (h.data);
      return;
    }
  /* %s, %v: precision counts runes.  */
  if (sp->prec >= 0)
    {
      size_t i = 0, r = 0;
      for (; i < n; i++)
        if (((unsigned char) s[i] & 0xc0) != 0x80 && r++ == (size_t) sp->prec)
          break;
      n = i;
    }
  pad_out (b, sp, s, n);
}

static void
fmt_one (struct buf *b, const struct spec *sp, json_t *v)
{
  char verb = sp->verb;
  if (json_is_string (v) && strchr ("svqxX", verb))
    fmt_string_verb (b, sp, v);
  else if (json_is_integer (v) && strchr ("vdoxXb", verb))
    fmt_integer (b, sp, json_integer_value (v));
  else if (json_is_integer (v) && verb == 'c')
    {
      struct buf u = { 0 };
      json_int_t cp = json_integer_value (v);
      if (cp < 0 || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
        cp = 0xfffd;
      format_put_utf8 (&u, (unsigned long) cp);
      pad_out (b, sp, u.data, u.len);
      free (u.data);
    }
  else if (json_is_real (v) && strchr ("veEfFgG", verb))
    fmt_real (b, sp, json_real_value (v));
  else if (json_is_boolean (v) && (verb == 't' || verb == 'v'))
    pad_out (b, sp, json_is_true (v) ? "true" : "false", json_is_true (v) ? 4 : 5);
  else if (verb == 'v' || ((json_is_array (v) || json_is_object (v)) && verb == 's'))
    {
      struct buf p = { 0 };
      format_print_value (&p, v);
      pad_out (b, sp, p.data, p.len);
      free (p.data);
    }
  else
    fmt_bad (b, verb, v);
}

/* Parse flags, width, precision and verb at *P; false when no verb.  */
static bool
parse_spec (const char **p, struct spec *sp, struct buf *b)
{
  const char *s = *p;
  memset (sp, 0, sizeof *sp);
  sp->width = sp->prec = -1;
  for (;; s++)
    {
      if (*s == '-')
        sp->minus = true;
      else if (*s == '+')
        sp->plus = true;
      else if (*s == '#')
        sp->sharp = true;
      else if (*s == '0')
        sp->zero = true;
      else if (*s == ' ')
        sp->space = true;
      else
        break;
    }
  bool bad_width = false, bad_prec = false;
  for (; *s >= '0' && *s <= '9'; s++)
    {
      sp->width = (sp->width < 0 ? 0 : sp->width) * 10 + (*s - '0');
      if (sp->width > MAX_WIDTH)
        bad_width = true, sp->width = MAX_WIDTH + 1;
    }
  if (*s == '.')
    {
      sp->prec = 0;
      for (s++; *s >= '0' && *s <= '9'; s++)
        {
          sp->prec = sp->prec * 10 + (*s - '0');
          if (sp->prec > MAX_WIDTH)
            bad_prec = true, sp->prec = MAX_WIDTH + 1;
        }
    }
  if (bad_width)
    format_buf_adds (b, "%!(BADWIDTH)"), sp->width = -1;
  if (bad_prec)
    format_buf_adds (b, "%!(BADPREC)"), sp->prec = -1;
  sp->verb = *s;
  *p = *s ? s + 1 : s;
  return *s != '\0';
}

int
format_fn_printf (struct exec *x, const struct command *c, json_t **args,
                  size_t n, json_t **out)
{
  if (!json_is_string (args[0]))
    return format_exec_error (x, c->pos, c->len,
                       "wrong type for value; expected string; got %s",
                       format_type_name (args[0]));
  const char *f = json_string_value (args[0]);
  const char *end = f + json_string_length (args[0]);
  struct buf b = { 0 };
  size_t argi = 1;
  while (f < end)
    {
      const char *pct = memchr (f, '%', (size_t) (end - f));
      if (pct == NULL)
        {
          format_buf_add (&b, f, (size_t) (end - f));
          break;
        }
      format_buf_add (&b, f, (size_t) (pct - f));
      f = pct + 1;
      struct spec sp;
      if (!parse_spec (&f, &sp, &b))
        format_buf_adds (&b, "%!(NOVERB)");
      else if (sp.verb == '%')
        format_buf_addc (&b, '%');
      else if (argi >= n)
        format_buf_printf (&b, "%%!%c(MISSING)", sp.verb);
      else
        fmt_one (&b, &sp, args[argi++]);
      /* Each verb adds at most about MAX_WIDTH bytes: check as we go.  */
      if (x->bytes + b.len > x->f->max_bytes)
        {
          size_t l = b.len;
          free (b.data);
          return format_exec_charge (x, l, c->pos, c->len);
        }
    }
  if (argi < n)
    {
      format_buf_adds (&b, "%!(EXTRA ");
      for (size_t i = argi; i < n; i++)
        {
          if (i > argi)
            format_buf_adds (&b, ", ");
          format_buf_adds (&b, format_type_name (args[i]));
          format_buf_addc (&b, '=');
          format_print_value (&b, args[i]);
        }
      format_buf_addc (&b, ')');
    }
  if (format_exec_charge (x, b.len, c->pos, c->len) < 0)
    {
      free (b.data);
      return -1;
    }
  *out = json_stringn_nocheck (b.data ? b.data : "", b.len);
  free (b.data);
  return 0;
}
