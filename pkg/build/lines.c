/* cove: the lines of a Containerfile: parser directives, comments and line
   continuations, as BuildKit's parser reads them.  The text is untrusted
   (it comes with the build context); every loop is bounded by its
   length.  */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/build/internal.h"
#include "pkg/util/xalloc.h"

void
bld_sbuf_addn (struct sbuf *b, const char *s, size_t n)
{
  if (b->len + n + 1 > b->cap)
    {
      size_t cap = b->cap ? b->cap : 64;
      while (cap < b->len + n + 1)
        cap *= 2;
      b->s = xrealloc (b->s, cap);
      b->cap = cap;
    }
  if (n)
    memcpy (b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void
bld_sbuf_add (struct sbuf *b, const char *s)
{
  bld_sbuf_addn (b, s, strlen (s));
}

void
bld_sbuf_addc (struct sbuf *b, char c)
{
  bld_sbuf_addn (b, &c, 1);
}

char *
bld_sbuf_steal (struct sbuf *b)
{
  if (b->s == NULL)
    return xstrdup ("");
  char *s = b->s;
  b->s = NULL;
  b->len = b->cap = 0;
  return s;
}

void
bld_sbuf_free (struct sbuf *b)
{
  free (b->s);
  b->s = NULL;
  b->len = b->cap = 0;
}

bool
bld_line_next (struct line_reader *r, const char **out, size_t *out_len)
{
  if (r->pos >= r->len)
    return false;
  const char *start = r->text + r->pos;
  const char *nl = memchr (start, '\n', r->len - r->pos);
  size_t n = nl ? (size_t) (nl - start) + 1 : r->len - r->pos;
  r->pos += n;
  r->lineno++;
  *out = start;
  *out_len = n;
  return true;
}

/* Go's bytes.TrimRight (s, "\r\n").  */
static size_t
trim_newline (const char *s, size_t n)
{
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
    n--;
  return n;
}

static size_t
skip_blanks (const char *s, size_t n)
{
  size_t i = 0;
  while (i < n && is_space (s[i]))
    i++;
  return i;
}

static bool
is_comment (const char *s, size_t n)
{
  size_t i = skip_blanks (s, n);
  return i < n && s[i] == '#';
}

/* A trailing escape character, perhaps followed by blanks, continues the
   line (BuildKit's `\\[ \t]*$`): remove it and return true.  */
static bool
trim_continuation (char escape, const char *s, size_t *n)
{
  size_t e = *n;
  while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t'))
    e--;
  if (e == 0 || s[e - 1] != escape)
    return false;
  *n = e - 1;
  return true;
}

static bool
is_alpha (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_alnum (char c)
{
  return is_alpha (c) || (c >= '0' && c <= '9');
}

static bool
is_re_space (char c)
{
  /* RE2's \s */
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* Match `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`: key and value
   spans.  */
static bool
match_directive (const char *s, size_t n, size_t *ks, size_t *kl, size_t *vs,
                 size_t *vl)
{
  size_t i = 0;
  if (n == 0 || s[i++] != '#')
    return false;
  while (i < n && is_re_space (s[i]))
    i++;
  if (i >= n || !is_alpha (s[i]))
    return false;
  *ks = i;
  while (i < n && is_alnum (s[i]))
    i++;
  *kl = i - *ks;
  while (i < n && is_re_space (s[i]))
    i++;
  if (i >= n || s[i] != '=')
    return false;
  i++;
  while (i < n && is_re_space (s[i]))
    i++;
  size_t e = n;
  while (e > i && is_re_space (s[e - 1]))
    e--;
  if (e == i)
    return false;
  *vs = i;
  *vl = e - i;
  return true;
}

/* Directives are only read at the top of the file: the first line that is
   not one (a comment, a blank line, an instruction, an unknown directive)
   ends them, as the Dockerfile reference says.  */
static int
parse_directive (struct lex *lx, const char *s, size_t n,
                 struct cove_error **err)
{
  size_t ks, kl, vs, vl;
  if (lx->directives_done)
    return 0;
  if (!match_directive (s, n, &ks, &kl, &vs, &vl))
    {
      lx->directives_done = true;
      return 0;
    }
  char key[16] = "";
  bool *seen = NULL;
  if (kl < sizeof key)
    for (size_t i = 0; i < kl; i++)
      key[i] = (char) (s[ks + i] | 0x20);
  if (strcmp (key, "escape") == 0)
    seen = &lx->seen_escape;
  else if (strcmp (key, "syntax") == 0)
    seen = &lx->seen_syntax;
  else if (strcmp (key, "check") == 0)
    seen = &lx->seen_check;
  if (seen == NULL)
    {
      lx->directives_done = true;
      return 0;
    }
  if (*seen)
    return cove_error_set_plain (err, EINVAL,
                                 "only one %s parser directive can be used",
                                 key);
  *seen = true;
  if (seen == &lx->seen_escape)
    {
      if (vl != 1 || (s[vs] != '\\' && s[vs] != '`'))
        return cove_error_set_plain (err, EINVAL,
                                     "invalid escape token '%.*s' does not "
                                     "match ` or \\", (int) vl, s + vs);
      lx->escape = s[vs];
    }
  else if (seen == &lx->seen_syntax)
    lx->syntax = xstrndup (s + vs, vl);
  return 0;
}

/* The lines after a continued one, up to the first that does not end with
   the escape character.  Comment lines and blank lines among them are
   dropped (docker warns about the blank ones); their leading blanks are
   kept.  */
static void
read_continuation (struct lex *lx, struct sbuf *out)
{
  const char *raw;
  size_t n;
  bool more = true;
  while (more && bld_line_next (&lx->r, &raw, &n))
    {
      n = trim_newline (raw, n);
      if (is_comment (raw, n))
        continue;
      if (skip_blanks (raw, n) == n)
        {
          lx->empty_continuation = true;
          continue;
        }
      more = trim_continuation (lx->escape, raw, &n);
      bld_sbuf_addn (out, raw, n);
    }
}

int
bld_lex_next (struct lex *lx, struct sbuf *out, size_t *out_line,
              struct cove_error **err)
{
  const char *raw;
  size_t n;
  out->len = 0;
  lx->empty_continuation = false;
  while (bld_line_next (&lx->r, &raw, &n))
    {
      if (lx->r.lineno == 1 && n >= 3 && memcmp (raw, "\xef\xbb\xbf", 3) == 0)
        {
          raw += 3;
          n -= 3;
        }
      n = trim_newline (raw, n);
      size_t lead = skip_blanks (raw, n);
      raw += lead;
      n -= lead;
      *out_line = lx->r.lineno;
      if (parse_directive (lx, raw, n, err) < 0)
        return -1;
      if (n > 0 && raw[0] == '#')
        n = 0;
      bool cont = trim_continuation (lx->escape, raw, &n);
      if (!cont && n == 0)
        continue;
      bld_sbuf_addn (out, raw, n);
      if (cont)
        read_continuation (lx, out);
      return 1;
    }
  return 0;
}

char *
bld_strip_tabs (const char *body)
{
  struct sbuf b = { 0 };
  bool at_start = true;
  for (const char *p = body; *p; p++)
    {
      if (at_start && *p == '\t')
        continue;
      at_start = *p == '\n';
      bld_sbuf_addc (&b, *p);
    }
  return bld_sbuf_steal (&b);
}
