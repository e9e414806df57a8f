/* cove: jansson values printed as Go prints them (fmt %v, json.Marshal,
   strconv.Quote), so that --format output matches podman's byte for byte.  */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/format-internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

void
format_buf_add (struct buf *b, const char *s, size_t n)
{
  if (b->len + n + 1 > b->cap)
    {
      b->cap = b->cap ? b->cap : 64;
      while (b->len + n + 1 > b->cap)
        b->cap *= 2;
      b->data = xrealloc (b->data, b->cap);
    }
  memcpy (b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void
format_buf_adds (struct buf *b, const char *s)
{
  format_buf_add (b, s, strlen (s));
}

void
format_buf_addc (struct buf *b, char c)
{
  format_buf_add (b, &c, 1);
}

void
format_buf_printf (struct buf *b, const char *fmt, ...)
{
  char *s = NULL;
  va_list ap;
  va_start (ap, fmt);
  int n = vasprintf (&s, fmt, ap);
  va_end (ap);
  if (n < 0)
    abort ();
  format_buf_add (b, s, (size_t) n);
  free (s);
}

char *
format_buf_steal (struct buf *b)
{
  char *r = b->data ? b->data : xstrdup ("");
  b->data = NULL;
  b->len = b->cap = 0;
  return r;
}

void
format_put_utf8 (struct buf *b, unsigned long cp)
{
  char u[4];
  size_t n;
  if (cp < 0x80)
    u[0] = (char) cp, n = 1;
  else if (cp < 0x800)
    {
      u[0] = (char) (0xc0 | (cp >> 6));
      n = 2;
    }
  else if (cp < 0x10000)
    {
      u[0] = (char) (0xe0 | (cp >> 12));
      n = 3;
    }
  else
    {
      u[0] = (char) (0xf0 | (cp >> 18));
      n = 4;
    }
  for (size_t i = 1; i < n; i++)
    u[i] = (char) (0x80 | ((cp >> (6 * (n - 1 - i))) & 0x3f));
  format_buf_add (b, u, n);
}

bool
format_truth (json_t *v)
{
  switch (v ? json_typeof (v) : JSON_NULL)
    {
    case JSON_TRUE:
      return true;
    case JSON_INTEGER:
      return json_integer_value (v) != 0;
    case JSON_REAL:
      return json_real_value (v) != 0;
    case JSON_STRING:
      return json_string_length (v) > 0;
    case JSON_ARRAY:
      return json_array_size (v) > 0;
    case JSON_OBJECT:
      return json_object_size (v) > 0;
    default:
      return false;
    }
}

const char *
format_type_name (json_t *v)
{
  switch (v ? json_typeof (v) : JSON_NULL)
    {
    case JSON_TRUE:
    case JSON_FALSE:
      return "bool";
    case JSON_INTEGER:
      return "int";
    case JSON_REAL:
      return "float64";
    case JSON_STRING:
      return "string";
    case JSON_ARRAY:
      return "[]interface {}";
    case JSON_OBJECT:
      return "map[string]interface {}";
    default:
      return "<nil>";
    }
}

/* Go structs have exported (capitalised) fields; maps have any keys.  */
bool
format_is_struct (json_t *o)
{
  const char *key;
  json_t *v;
  if (json_object_size (o) == 0)
    return false;
  json_object_foreach (o, key, v)
    if (key[0] < 'A' || key[0] > 'Z')
      return false;
  return true;
}

/* Shortest decimal digits of D > 0 that read back as D, and the exponent
   of the first digit (D = 0.DIGITS * 10^(EXP+1)).  */
static size_t
shortest_digits (double d, char digits[20], int *out_exp)
{
  char tmp[40];
  for (int prec = 1; prec <= 17; prec++)
    {
      snprintf (tmp, sizeof tmp, "%.*e", prec - 1, d);
      if (strtod (tmp, NULL) == d)
        break;
    }
  size_t nd = 0;
  const char *p = tmp;
  for (; *p && *p != 'e'; p++)
    if (*p >= '0' && *p <= '9')
      digits[nd++] = *p;
  while (nd > 1 && digits[nd - 1] == '0')
    nd--;
  digits[nd] = '\0';
  *out_exp = *p == 'e' ? (int) strtol (p + 1, NULL, 10) : 0;
  return nd;
}

/* Go's strconv.FormatFloat with precision -1, in 'g' form as fmt's %v, or
   as encoding/json writes a float64 (JSON).  */
void
format_float (struct buf *b, double d, bool json)
{
  if (d == 0)
    {
      format_buf_adds (b, signbit (d) ? "-0" : "0");
      return;
    }
  if (d < 0)
    format_buf_addc (b, '-');
  double a = fabs (d);
  char digits[20];
  int exp;
  size_t nd = shortest_digits (a, digits, &exp);
  /* fmt's %v is %g, which switches to an exponent at 1e+06 for the
     shortest precision; encoding/json only below 1e-6 or from 1e21.  */
  bool use_e = json ? (a < 1e-6 || a >= 1e21) : (exp < -4 || exp >= 6);
  if (use_e)
    {
      format_buf_addc (b, digits[0]);
      if (nd > 1)
        {
          format_buf_addc (b, '.');
          format_buf_add (b, digits + 1, nd - 1);
        }
      int e = exp < 0 ? -exp : exp;
      format_buf_printf (b, "e%c%0*d", exp < 0 ? '-' : '+', json && exp < 0 ? 1 : 2, e);
      return;
    }
  int dp = exp + 1;
  if (dp <= 0)
    {
      format_buf_adds (b, "0.");
      for (int i = 0; i < -dp; i++)
        format_buf_addc (b, '0');
      format_buf_add (b, digits, nd);
    }
  else if ((size_t) dp >= nd)
    {
      format_buf_add (b, digits, nd);
      for (size_t i = nd; i < (size_t) dp; i++)
        format_buf_addc (b, '0');
    }
  else
    {
      format_buf_add (b, digits, (size_t) dp);
      format_buf_addc (b, '.');
      format_buf_add (b, digits + dp, nd - (size_t) dp);
    }
}

static int
compare_keys (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

void
format_print_value (struct buf *b, json_t *v)
{
  if (v == NULL)
    {
      format_buf_adds (b, "<no value>");
      return;
    }
  switch (json_typeof (v))
    {
    case JSON_STRING:
      format_buf_add (b, json_string_value (v), json_string_length (v));
      break;
    case JSON_INTEGER:
      format_buf_printf (b, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
      break;
    case JSON_REAL:
      format_float (b, json_real_value (v), false);
      break;
    case JSON_TRUE:
      format_buf_adds (b, "true");
      break;
    case JSON_FALSE:
      format_buf_adds (b, "false");
      break;
    case JSON_NULL:
      format_buf_adds (b, "<nil>");
      break;
    case JSON_ARRAY:
      format_buf_addc (b, '[');
      for (size_t i = 0; i < json_array_size (v); i++)
        {
          if (i)
            format_buf_addc (b, ' ');
          format_print_value (b, json_array_get (v, i));
        }
      format_buf_addc (b, ']');
      break;
    case JSON_OBJECT:
      {
        /* fmt prints maps with sorted keys.  */
        const char *k;
        json_t *val;
        size_t nk = 0;
        cleanup_free const char **keys = xmalloc ((json_object_size (v) + 1) * sizeof *keys);
        json_object_foreach (v, k, val)
          keys[nk++] = k;
        qsort (keys, nk, sizeof *keys, compare_keys);
        format_buf_adds (b, "map[");
        for (size_t i = 0; i < nk; i++)
          {
            if (i)
              format_buf_addc (b, ' ');
            format_buf_adds (b, keys[i]);
            format_buf_addc (b, ':');
            format_print_value (b, json_object_get (v, keys[i]));
          }
        format_buf_addc (b, ']');
        break;
      }
    }
}

/* Length of the valid UTF-8 sequence at S (N bytes left), 0 if invalid;
   *OUT_CP receives the code point.  */
static size_t
utf8_next (const unsigned char *s, size_t n, unsigned long *out_cp)
{
  size_t len;
  unsigned long cp, min;
  if (s[0] < 0x80)
    {
      *out_cp = s[0];
      return 1;
    }
  if ((s[0] & 0xe0) == 0xc0)
    len = 2, cp = s[0] & 0x1f, min = 0x80;
  else if ((s[0] & 0xf0) == 0xe0)
    len = 3, cp = s[0] & 0x0f, min = 0x800;
  else if ((s[0] & 0xf8) == 0xf0)
    len = 4, cp = s[0] & 0x07, min = 0x10000;
  else
    return 0;
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++)
    {
      if ((s[i] & 0xc0) != 0x80)
        return 0;
      cp = (cp << 6) | (s[i] & 0x3f);
    }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
    return 0;
  *out_cp = cp;
  return len;
}

/* Go's encodeState.string with escapeHTML false.  */
static void
json_string_out (struct buf *b, const char *str, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *) str;
  format_buf_addc (b, '"');
  for (size_t i = 0; i < n;)
    {
      unsigned long cp;
      size_t len = utf8_next (s + i, n - i, &cp);
      if (len == 0)
        {
          format_buf_adds (b, "\\ufffd");
          i++;
          continue;
        }
      if (cp == '"' || cp == '\\')
        {
          format_buf_addc (b, '\\');
          format_buf_addc (b, (char) cp);
        }
      else if (cp == '\n' || cp == '\r' || cp == '\t')
        format_buf_adds (b, cp == '\n' ? "\\n" : cp == '\r' ? "\\r" : "\\t");
      else if (cp < 0x20)
        {
          format_buf_adds (b, "\\u00");
          format_buf_addc (b, hex[cp >> 4]);
          format_buf_addc (b, hex[cp & 0xf]);
        }
      else if (cp == 0x2028 || cp == 0x2029)
        format_buf_adds (b, cp == 0x2028 ? "\\u2028" : "\\u2029");
      else
        format_buf_add (b, str + i, len);
      i += len;
    }
  format_buf_addc (b, '"');
}

void
format_json (struct buf *b, json_t *v)
{
  switch (v ? json_typeof (v) : JSON_NULL)
    {
    case JSON_STRING:
      json_string_out (b, json_string_value (v), json_string_length (v));
      break;
    case JSON_REAL:
      format_float (b, json_real_value (v), true);
      break;
    case JSON_ARRAY:
      format_buf_addc (b, '[');
      for (size_t i = 0; i < json_array_size (v); i++)
        {
          if (i)
            format_buf_addc (b, ',');
          format_json (b, json_array_get (v, i));
        }
      format_buf_addc (b, ']');
      break;
    case JSON_OBJECT:
      {
        /* json.Marshal writes a struct's fields in order, a map's keys
           sorted.  */
        const char *k;
        json_t *val;
        size_t nk = 0;
        cleanup_free const char **keys = xmalloc ((json_object_size (v) + 1) * sizeof *keys);
        json_object_foreach (v, k, val)
          keys[nk++] = k;
        if (!format_is_struct (v))
          qsort (keys, nk, sizeof *keys, compare_keys);
        format_buf_addc (b, '{');
        for (size_t i = 0; i < nk; i++)
          {
            if (i)
              format_buf_addc (b, ',');
            json_string_out (b, keys[i], strlen (keys[i]));
            format_buf_addc (b, ':');
            format_json (b, json_object_get (v, keys[i]));
          }
        format_buf_addc (b, '}');
        break;
      }
    case JSON_NULL:
      format_buf_adds (b, "null");
      break;
    default:
      format_print_value (b, v);
    }
}

/* Go's strconv.Quote: printable runes as they are, others escaped.  */
void
format_quote (struct buf *b, const char *str, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *) str;
  format_buf_addc (b, '"');
  for (size_t i = 0; i < n;)
    {
      unsigned long cp;
      size_t len = utf8_next (s + i, n - i, &cp);
      const char *esc = NULL;
      static const char names[] = "\aa\bb\ff\nn\rr\tt\vv\"\"\\\\";
      for (size_t j = 0; len && names[j]; j += 2)
        if (cp == (unsigned char) names[j])
          esc = names + j + 1;
      if (esc)
        {
          format_buf_addc (b, '\\');
          format_buf_addc (b, *esc);
        }
      else if (len == 0 || cp < 0x20 || cp == 0x7f)
        {
          unsigned c = len == 0 ? s[i] : (unsigned) cp;
          format_buf_adds (b, "\\x");
          format_buf_addc (b, hex[c >> 4]);
          format_buf_addc (b, hex[c & 0xf]);
        }
      else if ((cp >= 0x80 && cp < 0xa0) || cp == 0xad || cp == 0xfeff)
        format_buf_printf (b, "\\u%04lx", cp);
      else
        format_buf_add (b, str + i, len);
      i += len ? len : 1;
    }
  format_buf_addc (b, '"');
}

static int
hexval (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c = (char) tolower ((unsigned char) c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One escape sequence after the backslash at S, as strconv.Unquote.
   Returns the number of bytes consumed, 0 when invalid.  */
size_t
format_unescape (const char *s, char quote, struct buf *b)
{
  static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\";
  for (size_t i = 0; simple[i]; i += 2)
    if (s[0] == simple[i])
      {
        format_buf_addc (b, simple[i + 1]);
        return 1;
      }
  if (s[0] == quote)
    {
      format_buf_addc (b, quote);
      return 1;
    }
  int ndig = s[0] == 'x' ? 2 : s[0] == 'u' ? 4 : s[0] == 'U' ? 8 : 0;
  unsigned long v = 0;
  if (ndig)
    {
      for (int i = 1; i <= ndig; i++)
        {
          int h = hexval (s[i]);
          if (h < 0)
            return 0;
          v = v * 16 + (unsigned long) h;
        }
      if (s[0] == 'x')
        format_buf_addc (b, (char) v);
      else if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000))
        return 0;
      else
        format_put_utf8 (b, v);
      return (size_t) ndig + 1;
    }
  for (int i = 0; i < 3; i++)
    {
      if (s[i] < '0' || s[i] > '7')
        return 0;
      v = v * 8 + (unsigned long) (s[i] - '0');
    }
  if (v > 255)
    return 0;
  format_buf_addc (b, (char) v);
  return 3;
}
