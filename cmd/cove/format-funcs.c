/* cove: the functions a --format template may call: Go's text/template
   builtins and those podman adds (containers/common pkg/report).  */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/format-internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

static int __attribute__ ((format (printf, 3, 4)))
fn_error (struct exec *x, const struct command *c, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  return format_exec_error (x, c->pos, c->len, "error calling %s: %s",
                     c->args[0].name, msg ? msg : "error");
}

static int
want_string (struct exec *x, const struct command *c, json_t *v,
             const char **out, size_t *out_len)
{
  if (v == NULL)
    return format_exec_error (x, c->pos, c->len, "invalid value; expected string");
  if (!json_is_string (v))
    return format_exec_error (x, c->pos, c->len,
                       "wrong type for value; expected string; got %s",
                       format_type_name (v));
  *out = json_string_value (v);
  *out_len = json_string_length (v);
  return 0;
}

static int
want_int (struct exec *x, const struct command *c, json_t *v, long long *out)
{
  if (json_is_integer (v))
    {
      *out = json_integer_value (v);
      return 0;
    }
  /* A literal such as 1.0 or 1e3 is an integer constant in Go.  */
  double d = json_real_value (v);
  if (json_is_real (v) && fabs (d) < 9.2e18 && d == floor (d))
    {
      *out = (long long) json_real_value (v);
      return 0;
    }
  if (v == NULL)
    return format_exec_error (x, c->pos, c->len, "invalid value; expected int");
  return format_exec_error (x, c->pos, c->len,
                     "wrong type for value; expected int; got %s",
                     format_type_name (v));
}

/* A computed string, counted against the budget.  */
static int
new_string (struct exec *x, const struct command *c, const char *s, size_t n,
            json_t **out)
{
  if (format_exec_charge (x, n, c->pos, c->len) < 0)
    return -1;
  *out = json_stringn_nocheck (s, n);
  return 0;
}

static int
new_buf_string (struct exec *x, const struct command *c, struct buf *b,
                json_t **out)
{
  int r = new_string (x, c, b->data ? b->data : "", b->len, out);
  free (b->data);
  return r;
}

static int
fn_len (struct exec *x, const struct command *c, json_t **a, size_t n,
        json_t **out)
{
  size_t len;
  if (json_is_string (a[0]))
    len = json_string_length (a[0]);
  else if (json_is_array (a[0]) || json_is_object (a[0]))
    len = json_is_array (a[0]) ? json_array_size (a[0]) : json_object_size (a[0]);
  else if (json_is_null (a[0]))
    len = 0;
  else
    return fn_error (x, c, "len of type %s", format_type_name (a[0]));
  *out = json_integer ((json_int_t) len);
  return 0;
}

static int
index_one (struct exec *x, const struct command *c, json_t *item, json_t *i,
           json_t **out)
{
  if (json_is_array (item) || json_is_string (item))
    {
      if (!json_is_integer (i))
        return fn_error (x, c, "cannot index slice/array with type %s",
                         format_type_name (i));
      json_int_t k = json_integer_value (i);
      size_t size = json_is_array (item) ? json_array_size (item)
                                         : json_string_length (item);
      if (k < 0 || (size_t) k >= size)
        return fn_error (x, c, "index out of range: %" JSON_INTEGER_FORMAT, k);
      if (json_is_string (item))
        *out = json_integer ((unsigned char) json_string_value (item)[k]);
      else
        *out = json_incref (json_array_get (item, (size_t) k));
      return 0;
    }
  if (json_is_object (item))
    {
      if (!json_is_string (i))
        return fn_error (x, c, "value has type %s; should be string",
                         format_type_name (i));
      json_t *v = json_object_get (item, json_string_value (i));
      /* A missing key gives the zero value, as for podman's map[string]string
         labels.  */
      *out = v ? json_incref (v) : json_string ("");
      return 0;
    }
  if (item == NULL || json_is_null (item))
    return fn_error (x, c, "index of untyped nil");
  return fn_error (x, c, "can't index item of type %s", format_type_name (item));
}

static int
fn_index (struct exec *x, const struct command *c, json_t **a, size_t n,
          json_t **out)
{
  json_t *v = a[0] ? json_incref (a[0]) : NULL;
  for (size_t i = 1; i < n; i++)
    {
      json_t *next = NULL;
      int r = index_one (x, c, v, a[i], &next);
      json_decref (v);
      if (r < 0)
        return -1;
      v = next;
    }
  *out = v;
  return 0;
}

static int
fn_slice (struct exec *x, const struct command *c, json_t **a, size_t n,
          json_t **out)
{
  size_t size;
  if (json_is_string (a[0]))
    size = json_string_length (a[0]);
  else if (json_is_array (a[0]))
    size = json_array_size (a[0]);
  else
    return fn_error (x, c, "can't slice item of type %s", format_type_name (a[0]));
  long long lo = 0, hi = (long long) size;
  if ((n > 1 && want_int (x, c, a[1], &lo) < 0)
      || (n > 2 && want_int (x, c, a[2], &hi) < 0))
    return -1;
  if (lo < 0 || hi < lo || (size_t) hi > size)
    return fn_error (x, c, "index out of range: %lld", lo < 0 ? lo : hi);
  if (json_is_string (a[0]))
    return new_string (x, c, json_string_value (a[0]) + lo, (size_t) (hi - lo), out);
  *out = json_array ();
  for (long long i = lo; i < hi; i++)
    json_array_append (*out, json_array_get (a[0], (size_t) i));
  return 0;
}

static int
fn_print (struct exec *x, const struct command *c, json_t **a, size_t n,
          json_t **out)
{
  bool ln = strcmp (c->args[0].name, "println") == 0;
  struct buf b = { 0 };
  for (size_t i = 0; i < n; i++)
    {
      /* Sprint puts spaces between operands when neither is a string.  */
      if (i > 0 && (ln || (!json_is_string (a[i - 1]) && !json_is_string (a[i]))))
        format_buf_addc (&b, ' ');
      format_print_value (&b, a[i]);
    }
  if (ln)
    format_buf_addc (&b, '\n');
  return new_buf_string (x, c, &b, out);
}

static int
fn_not (struct exec *x, const struct command *c, json_t **a, size_t n,
        json_t **out)
{
  *out = json_boolean (!format_truth (a[0]));
  return 0;
}

static int
fn_logic (struct exec *x, const struct command *c, json_t **a, size_t n,
          json_t **out)
{
  /* Only reached in header mode; and/or are evaluated lazily elsewhere.  */
  *out = a[n - 1] ? json_incref (a[n - 1]) : NULL;
  return 0;
}

static bool
is_number (json_t *v)
{
  return json_is_integer (v) || json_is_real (v);
}

/* Compare A and B: *OUT_CMP < 0, 0, > 0.  ORDERED: lt/le/gt/ge, for which
   only numbers and strings compare.  */
static int
compare (struct exec *x, const struct command *c, json_t *a, json_t *b,
         bool ordered, int *out_cmp)
{
  if (is_number (a) && is_number (b))
    {
      if (json_is_integer (a) && json_is_integer (b))
        {
          json_int_t p = json_integer_value (a), q = json_integer_value (b);
          *out_cmp = (p > q) - (p < q);
        }
      else
        {
          double p = json_number_value (a), q = json_number_value (b);
          *out_cmp = (p > q) - (p < q);
        }
      return 0;
    }
  if (json_is_string (a) && json_is_string (b))
    {
      size_t la = json_string_length (a), lb = json_string_length (b);
      int r = memcmp (json_string_value (a), json_string_value (b),
                      la < lb ? la : lb);
      *out_cmp = r ? r : (la > lb) - (la < lb);
      return 0;
    }
  bool a_nil = a == NULL || json_is_null (a), b_nil = b == NULL || json_is_null (b);
  if (!ordered && (a_nil || b_nil))
    {
      *out_cmp = !(a_nil && b_nil);
      return 0;
    }
  if (!ordered && json_typeof (a) == json_typeof (b))
    {
      *out_cmp = !json_equal (a, b);
      return 0;
    }
  if (!ordered && json_is_boolean (a) && json_is_boolean (b))
    {
      *out_cmp = json_typeof (a) != json_typeof (b);
      return 0;
    }
  if (a_nil || b_nil || json_typeof (a) == json_typeof (b)
      || (json_is_boolean (a) && json_is_boolean (b)))
    return fn_error (x, c, "invalid type for comparison");
  return fn_error (x, c, "incompatible types for comparison");
}

static int
fn_compare (struct exec *x, const struct command *c, json_t **a, size_t n,
            json_t **out)
{
  const char *op = c->args[0].name;
  bool ordered = op[0] == 'l' || op[0] == 'g';
  int cmp = 0;
  if (strcmp (op, "eq") == 0)
    {
      /* eq a b c: a equals any of b, c.  */
      bool any = false;
      for (size_t i = 1; i < n && !any; i++)
        {
          if (compare (x, c, a[0], a[i], false, &cmp) < 0)
            return -1;
          any = cmp == 0;
        }
      *out = json_boolean (any);
      return 0;
    }
  if (compare (x, c, a[0], a[1], ordered, &cmp) < 0)
    return -1;
  bool r = op[0] == 'n' ? cmp != 0
           : op[0] == 'l' ? (op[1] == 't' ? cmp < 0 : cmp <= 0)
                          : (op[1] == 't' ? cmp > 0 : cmp >= 0);
  *out = json_boolean (r);
  return 0;
}

static int
fn_join (struct exec *x, const struct command *c, json_t **a, size_t n,
         json_t **out)
{
  const char *sep;
  size_t seplen;
  if (want_string (x, c, a[1], &sep, &seplen) < 0)
    return -1;
  if (!json_is_array (a[0]) && a[0] != NULL && !json_is_null (a[0]))
    return format_exec_error (x, c->pos, c->len,
                       "wrong type for value; expected []string; got %s",
                       format_type_name (a[0]));
  struct buf b = { 0 };
  for (size_t i = 0; i < json_array_size (a[0]); i++)
    {
      if (i)
        format_buf_add (&b, sep, seplen);
      format_print_value (&b, json_array_get (a[0], i));
      if (x->bytes + b.len > x->f->max_bytes)
        {
          size_t l = b.len;
          free (b.data);
          return format_exec_charge (x, l, c->pos, c->len);
        }
    }
  return new_buf_string (x, c, &b, out);
}

static int
fn_json (struct exec *x, const struct command *c, json_t **a, size_t n,
         json_t **out)
{
  struct buf b = { 0 };
  format_json (&b, a[0]);
  return new_buf_string (x, c, &b, out);
}

/* lower, upper, title: ASCII case mapping, bytes >= 0x80 kept.  */
static int
fn_case (struct exec *x, const struct command *c, json_t **a, size_t n,
         json_t **out)
{
  const char *s;
  size_t len;
  if (want_string (x, c, a[0], &s, &len) < 0)
    return -1;
  char mode = c->args[0].name[0];
  cleanup_free char *r = xmalloc (len + 1);
  bool sep = true;
  for (size_t i = 0; i < len; i++)
    {
      unsigned char ch = (unsigned char) s[i];
      if (mode == 'l')
        r[i] = (char) tolower (ch);
      else if (mode == 'u' || sep)
        r[i] = (char) toupper (ch);
      else
        r[i] = (char) ch;
      /* strings.Title: words start after anything but letters, digits and
         underscore.  */
      sep = ch < 0x80 && !isalnum (ch) && ch != '_';
    }
  return new_string (x, c, r, len, out);
}

static int
fn_split (struct exec *x, const struct command *c, json_t **a, size_t n,
          json_t **out)
{
  const char *s, *sep;
  size_t len, seplen;
  if (want_string (x, c, a[0], &s, &len) < 0
      || want_string (x, c, a[1], &sep, &seplen) < 0)
    return -1;
  /* Each element costs its bytes and its jansson value: "" splits into one
     element per character.  */
  if (format_exec_charge (x, len + 64 * (seplen ? len / seplen + 1 : len),
                   c->pos, c->len) < 0)
    return -1;
  json_t *r = json_array ();
  size_t start = 0;
  for (size_t i = 0; i < len;)
    {
      if (seplen == 0)
        {
          size_t step = 1;
          while (i + step < len && ((unsigned char) s[i + step] & 0xc0) == 0x80
                 && step < 4)
            step++;
          json_array_append_new (r, json_stringn_nocheck (s + i, step));
          i += step;
          start = i;
        }
      else if (len - i >= seplen && memcmp (s + i, sep, seplen) == 0)
        {
          json_array_append_new (r, json_stringn_nocheck (s + start, i - start));
          i += seplen;
          start = i;
        }
      else
        i++;
    }
  if (seplen > 0)
    json_array_append_new (r, json_stringn_nocheck (s + start, len - start));
  *out = r;
  return 0;
}

static int
fn_truncate (struct exec *x, const struct command *c, json_t **a, size_t n,
             json_t **out)
{
  const char *s;
  size_t len;
  long long k;
  if (want_string (x, c, a[0], &s, &len) < 0 || want_int (x, c, a[1], &k) < 0)
    return -1;
  if (k < 0)
    return fn_error (x, c, "runtime error: slice bounds out of range [:%lld]", k);
  return new_string (x, c, s, (size_t) k < len ? (size_t) k : len, out);
}

static int
fn_pad (struct exec *x, const struct command *c, json_t **a, size_t n,
        json_t **out)
{
  const char *s;
  size_t len;
  long long pre, post;
  if (want_string (x, c, a[0], &s, &len) < 0 || want_int (x, c, a[1], &pre) < 0
      || want_int (x, c, a[2], &post) < 0)
    return -1;
  if (pre < 0 || post < 0)
    return fn_error (x, c, "strings: negative Repeat count");
  if (len == 0)
    return new_string (x, c, "", 0, out);
  size_t max = x->f->max_bytes;
  if ((unsigned long long) pre > max || (unsigned long long) post > max)
    return format_exec_charge (x, max + 1, c->pos, c->len);
  if (format_exec_charge (x, (size_t) (pre + post), c->pos, c->len) < 0)
    return -1;
  size_t total = (size_t) pre + len + (size_t) post;
  cleanup_free char *r = xmalloc (total + 1);
  memset (r, ' ', total);
  memcpy (r + pre, s, len);
  return new_string (x, c, r, total, out);
}

static const struct format_func funcs[] = {
  { "and", fn_logic, 1, -1, false },
  { "eq", fn_compare, 2, -1, false },
  { "ge", fn_compare, 2, 2, false },
  { "gt", fn_compare, 2, 2, false },
  { "index", fn_index, 1, -1, false },
  { "join", fn_join, 2, 2, false },
  { "json", fn_json, 1, 1, false },
  { "le", fn_compare, 2, 2, false },
  { "len", fn_len, 1, 1, false },
  { "lower", fn_case, 1, 1, true },
  { "lt", fn_compare, 2, 2, false },
  { "ne", fn_compare, 2, 2, false },
  { "not", fn_not, 1, 1, false },
  { "or", fn_logic, 1, -1, false },
  { "pad", fn_pad, 3, 3, true },
  { "print", fn_print, 0, -1, false },
  { "printf", format_fn_printf, 1, -1, false },
  { "println", fn_print, 0, -1, false },
  { "slice", fn_slice, 1, 3, false },
  { "split", fn_split, 2, 2, false },
  { "title", fn_case, 1, 1, true },
  { "truncate", fn_truncate, 2, 2, true },
  { "upper", fn_case, 1, 1, true },
};

const struct format_func *
format_func_lookup (const char *name)
{
  for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
    if (strcmp (funcs[i].name, name) == 0)
      return &funcs[i];
  return NULL;
}
