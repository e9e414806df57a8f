/* A small, strict parser for the subset of TOML that registries.conf(5)
   files use, into a JSON tree (jansson): comments; `key = value` where the
   value is a basic or literal string, a boolean, an integer or a
   (multi-line) array of those; tables `[a.b]`; arrays of tables `[[a.b]]`.
   Everything else (floats, dates, inline tables, dotted keys, multi-line
   strings, nested arrays) is refused with EINVAL and the line number,
   rather than half-understood.  The file is the user's, but it decides
   which registries cove trusts, so it is parsed as untrusted input.  */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/registry/config.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* Dotted components of a table header, at most.  */
#define HEADER_KEYS_MAX 8

struct parser
{
  const char *p, *end;
  int line;
  json_t *root, *cur;
  /* Tables defined by a header, and arrays made by [[...]] headers: the
     only arrays a header may append to.  Pointers into ROOT.  */
  json_t **defined, **table_arrays;
  size_t n_defined, n_table_arrays;
  struct cove_error **err;
};

static int __attribute__ ((format (printf, 2, 3)))
fail (struct parser *ps, const char *fmt, ...)
{
  char buf[256];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  return cove_error_set (ps->err, EINVAL, "line %d: %s", ps->line, buf);
}

static bool
at_end (struct parser *ps)
{
  return ps->p >= ps->end;
}

static int
peek (struct parser *ps, size_t off)
{
  return ps->p + off < ps->end ? (unsigned char) ps->p[off] : -1;
}

static void
skip_ws (struct parser *ps)
{
  while (!at_end (ps) && (*ps->p == ' ' || *ps->p == '\t'))
    ps->p++;
}

static int
skip_comment (struct parser *ps)
{
  if (peek (ps, 0) != '#')
    return 0;
  for (; !at_end (ps) && *ps->p != '\n'; ps->p++)
    {
      unsigned char c = *ps->p;
      if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
        return fail (ps, "control character in a comment");
    }
  return 0;
}

/* At a newline (or the end): consume it.  Returns 1 when one was there.  */
static int
eat_newline (struct parser *ps)
{
  if (peek (ps, 0) == '\n')
    {
      ps->p++;
      ps->line++;
      return 1;
    }
  if (peek (ps, 0) == '\r' && peek (ps, 1) == '\n')
    {
      ps->p += 2;
      ps->line++;
      return 1;
    }
  return 0;
}

/* Whitespace, comments and newlines, as allowed inside arrays.  */
static int
skip_blank (struct parser *ps)
{
  for (;;)
    {
      skip_ws (ps);
      if (skip_comment (ps) < 0)
        return -1;
      if (!eat_newline (ps))
        return 0;
    }
}

static void
put_utf8 (char **buf, size_t *len, unsigned long cp)
{
  char tmp[4];
  size_t n;
  if (cp < 0x80)
    tmp[0] = cp, n = 1;
  else if (cp < 0x800)
    tmp[0] = 0xc0 | (cp >> 6), tmp[1] = 0x80 | (cp & 0x3f), n = 2;
  else if (cp < 0x10000)
    tmp[0] = 0xe0 | (cp >> 12), tmp[1] = 0x80 | ((cp >> 6) & 0x3f),
    tmp[2] = 0x80 | (cp & 0x3f), n = 3;
  else
    tmp[0] = 0xf0 | (cp >> 18), tmp[1] = 0x80 | ((cp >> 12) & 0x3f),
    tmp[2] = 0x80 | ((cp >> 6) & 0x3f), tmp[3] = 0x80 | (cp & 0x3f), n = 4;
  *buf = xrealloc (*buf, *len + n + 1);
  memcpy (*buf + *len, tmp, n);
  *len += n;
}

static void
put_byte (char **buf, size_t *len, char c)
{
  *buf = xrealloc (*buf, *len + 2);
  (*buf)[(*len)++] = c;
}

static int
unicode_escape (struct parser *ps, size_t digits, char **buf, size_t *len)
{
  unsigned long cp = 0;
  for (size_t i = 0; i < digits; i++)
    {
      int c = peek (ps, i);
      int v = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (v < 0)
        return fail (ps, "invalid \\u escape");
      cp = cp * 16 + v;
    }
  ps->p += digits;
  /* NUL would cut the C string short: refused like surrogates.  */
  if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
    return fail (ps, "invalid unicode scalar in \\u escape");
  put_utf8 (buf, len, cp);
  return 0;
}

static int
escape (struct parser *ps, char **buf, size_t *len)
{
  static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
  int c = peek (ps, 0);
  ps->p++;
  if (c == 'u' || c == 'U')
    return unicode_escape (ps, c == 'u' ? 4 : 8, buf, len);
  const char *f = c > 0 ? strchr (from, c) : NULL;
  if (f == NULL)
    return fail (ps, "invalid escape sequence in a string");
  put_byte (buf, len, to[f - from]);
  return 0;
}

/* A "basic" or 'literal' single-line string at ps->p.  New string in
   *OUT, valid UTF-8 (jansson checks it).  */
static int
parse_string (struct parser *ps, json_t **out)
{
  char quote = *ps->p;
  if (peek (ps, 1) == quote && peek (ps, 2) == quote)
    return fail (ps, "multi-line strings are not supported");
  ps->p++;
  cleanup_free char *buf = xmalloc (1);
  size_t len = 0;
  for (;;)
    {
      int c = peek (ps, 0);
      if (c < 0 || c == '\n' || c == '\r')
        return fail (ps, "unterminated string");
      if (c == quote)
        break;
      if ((c < 0x20 && c != '\t') || c == 0x7f)
        return fail (ps, "control character in a string");
      if (c == '\\' && quote == '"')
        {
          ps->p++;
          if (escape (ps, &buf, &len) < 0)
            return -1;
          continue;
        }
      put_byte (&buf, &len, (char) c);
      ps->p++;
    }
  ps->p++;
  buf[len] = '\0';
  *out = json_stringn (buf, len);
  if (*out == NULL)
    return fail (ps, "invalid UTF-8 in a string");
  return 0;
}

static bool
is_bare (int c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
         || c == '_' || c == '-';
}

/* A bare or quoted key; new string in *OUT.  */
static int
parse_key (struct parser *ps, char **out)
{
  int c = peek (ps, 0);
  if (c == '"' || c == '\'')
    {
      json_t *s = NULL;
      if (parse_string (ps, &s) < 0)
        return -1;
      *out = xstrdup (json_string_value (s));
      json_decref (s);
      return 0;
    }
  const char *start = ps->p;
  while (!at_end (ps) && is_bare (*ps->p))
    ps->p++;
  if (ps->p == start)
    return fail (ps, "expected a key");
  *out = xstrndup (start, ps->p - start);
  return 0;
}

static int
parse_integer (struct parser *ps, json_t **out)
{
  const char *start = ps->p;
  while (!at_end (ps) && (is_bare (*ps->p) || *ps->p == '+' || *ps->p == '.' || *ps->p == ':'))
    ps->p++;
  size_t n = ps->p - start, i = 0, digits = 0;
  bool neg = false;
  long long v = 0;
  if (n > 0 && (start[0] == '+' || start[0] == '-'))
    neg = start[i++] == '-';
  for (; i < n; i++)
    {
      char c = start[i];
      /* '_' only between digits, as TOML says.  */
      if (c == '_' && digits > 0 && i + 1 < n && start[i + 1] >= '0' && start[i + 1] <= '9')
        continue;
      if (c < '0' || c > '9' || digits >= 18)
        return fail (ps, "invalid value `%.*s` (floats and dates are not supported)",
                     (int) (n < 40 ? n : 40), start);
      if (digits == 1 && v == 0)
        return fail (ps, "leading zero in an integer");
      v = v * 10 + (c - '0');
      digits++;
    }
  if (digits == 0)
    return fail (ps, "invalid value");
  *out = json_integer (neg ? -v : v);
  return 0;
}

static int
parse_scalar (struct parser *ps, json_t **out)
{
  int c = peek (ps, 0);
  if (c == '"' || c == '\'')
    return parse_string (ps, out);
  if (c == '{')
    return fail (ps, "inline tables are not supported");
  if (c == '[')
    return fail (ps, "nested arrays are not supported");
  const char *words[] = { "true", "false" };
  for (size_t i = 0; i < 2; i++)
    {
      size_t n = strlen (words[i]);
      if ((size_t) (ps->end - ps->p) >= n && memcmp (ps->p, words[i], n) == 0
          && !is_bare (peek (ps, n)))
        {
          ps->p += n;
          *out = json_boolean (i == 0);
          return 0;
        }
    }
  if (c == '+' || c == '-' || (c >= '0' && c <= '9'))
    return parse_integer (ps, out);
  return fail (ps, "invalid value");
}

static int
parse_array (struct parser *ps, json_t **out)
{
  json_t *arr = json_array ();
  ps->p++;
  for (;;)
    {
      json_t *v = NULL;
      if (skip_blank (ps) < 0)
        goto fail;
      if (peek (ps, 0) == ']')
        break;
      if (at_end (ps))
        {
          fail (ps, "unterminated array");
          goto fail;
        }
      if (parse_scalar (ps, &v) < 0)
        goto fail;
      json_array_append_new (arr, v);
      if (skip_blank (ps) < 0)
        goto fail;
      if (peek (ps, 0) == ',')
        ps->p++;
      else if (peek (ps, 0) != ']')
        {
          fail (ps, "expected `,` or `]` in an array");
          goto fail;
        }
    }
  ps->p++;
  *out = arr;
  return 0;
fail:
  json_decref (arr);
  return -1;
}

static bool
ptr_in (json_t *const *v, size_t n, json_t *p)
{
  for (size_t i = 0; i < n; i++)
    if (v[i] == p)
      return true;
  return false;
}

static void
ptr_add (json_t ***v, size_t *n, json_t *p)
{
  *v = xrealloc (*v, (*n + 1) * sizeof **v);
  (*v)[(*n)++] = p;
}

/* The table KEY of T, made when missing; through an array of tables, its
   last table.  */
static json_t *
descend (struct parser *ps, json_t *t, const char *key)
{
  json_t *v = json_object_get (t, key);
  if (v == NULL)
    {
      v = json_object ();
      json_object_set_new (t, key, v);
      return v;
    }
  if (json_is_array (v) && ptr_in (ps->table_arrays, ps->n_table_arrays, v))
    return json_array_get (v, json_array_size (v) - 1);
  if (json_is_object (v))
    return v;
  fail (ps, "`%.100s` is not a table", key);
  return NULL;
}

static int
open_table (struct parser *ps, json_t *parent, const char *key, bool array)
{
  json_t *v = json_object_get (parent, key);
  if (array)
    {
      if (v == NULL)
        {
          v = json_array ();
          json_object_set_new (parent, key, v);
          ptr_add (&ps->table_arrays, &ps->n_table_arrays, v);
        }
      else if (!json_is_array (v) || !ptr_in (ps->table_arrays, ps->n_table_arrays, v))
        return fail (ps, "`%.100s` is not an array of tables", key);
      ps->cur = json_object ();
      json_array_append_new (v, ps->cur);
      return 0;
    }
  if (v == NULL)
    {
      v = json_object ();
      json_object_set_new (parent, key, v);
    }
  else if (!json_is_object (v) || ptr_in (ps->defined, ps->n_defined, v))
    return fail (ps, "table `%.100s` is defined twice", key);
  ptr_add (&ps->defined, &ps->n_defined, v);
  ps->cur = v;
  return 0;
}

static int
parse_header (struct parser *ps)
{
  bool array = peek (ps, 1) == '[';
  ps->p += array ? 2 : 1;
  json_t *t = ps->root;
  for (size_t n = 0;; n++)
    {
      cleanup_free char *key = NULL;
      skip_ws (ps);
      if (n == HEADER_KEYS_MAX)
        return fail (ps, "table name too deep");
      if (parse_key (ps, &key) < 0)
        return -1;
      skip_ws (ps);
      if (peek (ps, 0) == '.')
        {
          ps->p++;
          if ((t = descend (ps, t, key)) == NULL)
            return -1;
          continue;
        }
      if (peek (ps, 0) != ']' || (array && peek (ps, 1) != ']'))
        return fail (ps, "expected `%s` after a table name", array ? "]]" : "]");
      ps->p += array ? 2 : 1;
      return open_table (ps, t, key, array);
    }
}

static int
parse_keyval (struct parser *ps)
{
  cleanup_free char *key = NULL;
  json_t *v = NULL;
  if (parse_key (ps, &key) < 0)
    return -1;
  skip_ws (ps);
  if (peek (ps, 0) == '.')
    return fail (ps, "dotted keys are not supported");
  if (peek (ps, 0) != '=')
    return fail (ps, "expected `=` after key `%.100s`", key);
  ps->p++;
  skip_ws (ps);
  if (json_object_get (ps->cur, key))
    return fail (ps, "duplicate key `%.100s`", key);
  if ((peek (ps, 0) == '[' ? parse_array (ps, &v) : parse_scalar (ps, &v)) < 0)
    return -1;
  json_object_set_new (ps->cur, key, v);
  return 0;
}

static int
parse_line (struct parser *ps)
{
  skip_ws (ps);
  int c = peek (ps, 0);
  if (c == '[' && parse_header (ps) < 0)
    return -1;
  if (c != '[' && c != '#' && c != '\n' && c != '\r' && c >= 0 && parse_keyval (ps) < 0)
    return -1;
  skip_ws (ps);
  if (skip_comment (ps) < 0)
    return -1;
  if (!at_end (ps) && !eat_newline (ps))
    return fail (ps, "expected the end of the line");
  return 0;
}

json_t *
cove_registry_toml_parse (const char *data, size_t len, struct cove_error **err)
{
  struct parser ps = { .p = data, .end = data + len, .line = 1, .err = err };
  if (len > 0 && memchr (data, '\0', len))
    {
      cove_error_set (err, EINVAL, "NUL byte in a TOML file");
      return NULL;
    }
  ps.root = ps.cur = json_object ();
  while (!at_end (&ps))
    if (parse_line (&ps) < 0)
      {
        json_decref (ps.root);
        ps.root = NULL;
        break;
      }
  free (ps.defined);
  free (ps.table_arrays);
  return ps.root;
}
