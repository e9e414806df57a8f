/* cove: .containerignore / .dockerignore, with docker's rules
   (moby/patternmatcher): patterns cleaned as filepath.Clean does, `*` and
   `?` not matching '/', `[...]` classes, `**` any number of directories,
   `!` exceptions, the last matching pattern deciding, a pattern that
   matches a parent directory matching its contents.  The file comes with
   the build context (untrusted): a pattern is compiled to tokens matched
   by a set-of-states simulation, linear in pattern times path, never a
   backtracking matcher that a pattern like `*a*a*a*a*b` could stall.  */
#include <errno.h>
#include <string.h>

#include "pkg/build/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

enum tok_kind
{
  TOK_LIT,
  TOK_ANY,          /* ? */
  TOK_STAR,         /* *: [^/]* */
  TOK_CLASS,        /* [...] */
  TOK_DIRS,         /* ** before more pattern: (.*\/)? */
  TOK_REST,         /* ** at the end: .* */
};

struct tok
{
  enum tok_kind kind;
  unsigned char c;
  unsigned char set[32];    /* TOK_CLASS: bit per byte */
};

struct pattern
{
  char *text;         /* cleaned, without the `!` */
  bool exception;
  struct tok *toks;
  size_t n;
};

struct cove_build_ignore
{
  struct pattern *pats;
  size_t n;
  bool has_exceptions;
};

/* filepath.Clean for '/'-separated paths.  */
static char *
clean_path (const char *p)
{
  bool rooted = *p == '/';
  size_t max = strlen (p) / 2 + 1, n = 0;
  cleanup_free const char **elem = xmalloc0 (max * sizeof *elem);
  cleanup_free size_t *elen = xmalloc0 (max * sizeof *elen);
  while (*p)
    {
      while (*p == '/')
        p++;
      size_t l = strcspn (p, "/");
      bool dotdot = l == 2 && p[0] == '.' && p[1] == '.';
      if (l == 0 || (l == 1 && p[0] == '.'))
        ;
      else if (dotdot && n > 0 && !(elen[n - 1] == 2
                                    && memcmp (elem[n - 1], "..", 2) == 0))
        n--;
      else if (!(dotdot && rooted))
        {
          elem[n] = p;
          elen[n++] = l;
        }
      p += l;
    }
  struct sbuf b = { 0 };
  bld_sbuf_addn (&b, rooted ? "/" : "", rooted ? 1 : 0);
  for (size_t i = 0; i < n; i++)
    {
      if (i)
        bld_sbuf_addc (&b, '/');
      bld_sbuf_addn (&b, elem[i], elen[i]);
    }
  if (b.len == 0)
    bld_sbuf_addc (&b, '.');
  return bld_sbuf_steal (&b);
}

static void
set_bit (struct tok *t, unsigned c)
{
  t->set[c / 8] |= (unsigned char) (1u << (c % 8));
}

static bool
has_bit (const struct tok *t, unsigned char c)
{
  return (t->set[c / 8] >> (c % 8)) & 1;
}

/* A class member as filepath.Match reads it: a byte or `\byte`; `-` and
   `]` must be escaped.  */
static int
class_char (const char **p, unsigned char *out)
{
  if (**p == '\0' || **p == '-' || **p == ']')
    return -1;
  if (**p == '\\')
    (*p)++;
  if (**p == '\0')
    return -1;
  *out = (unsigned char) *(*p)++;
  return **p ? 0 : -1;
}

/* `[` already read: `^`? then ranges up to `]`.  */
static int
compile_class (const char **p, struct tok *t)
{
  bool neg = **p == '^';
  size_t nrange = 0;
  t->kind = TOK_CLASS;
  if (neg)
    (*p)++;
  for (;;)
    {
      if (**p == ']' && nrange > 0)
        {
          (*p)++;
          break;
        }
      unsigned char lo, hi;
      if (class_char (p, &lo) < 0)
        return -1;
      hi = lo;
      if (**p == '-')
        {
          (*p)++;
          if (class_char (p, &hi) < 0 || hi < lo)
            return -1;
        }
      for (unsigned c = lo; c <= hi; c++)
        set_bit (t, c);
      nrange++;
    }
  if (neg)
    for (size_t i = 0; i < sizeof t->set; i++)
      t->set[i] = (unsigned char) ~t->set[i];
  return 0;
}

static bool
has_wildcards (const char *s)
{
  for (; *s; s++)
    {
      if (*s == '\\' && s[1])
        s++;
      else if (*s == '*' || *s == '?' || *s == '[')
        return true;
    }
  return false;
}

static int
compile (struct pattern *pat)
{
  const char *p = pat->text;
  pat->toks = xmalloc0 ((strlen (p) + 1) * sizeof *pat->toks);
  while (*p)
    {
      struct tok *t = &pat->toks[pat->n];
      memset (t, 0, sizeof *t);
      char c = *p++;
      if (c == '*' && *p == '*')
        {
          p++;
          if (*p == '/')
            p++;
          t->kind = *p ? TOK_DIRS : TOK_REST;
          /* docker: a leading ** before a plain suffix is a suffix test
             ("**foo" matches "xfoo").  */
          if (pat->n == 0 && *p && *p != '/' && !has_wildcards (p)
              && p[-1] != '/')
            t->kind = TOK_REST;
        }
      else if (c == '*')
        t->kind = TOK_STAR;
      else if (c == '?')
        t->kind = TOK_ANY;
      else if (c == '[')
        {
          if (compile_class (&p, t) < 0)
            return -1;
        }
      else
        {
          if (c == '\\' && (c = *p++) == '\0')
            return -1;
          t->kind = TOK_LIT;
          t->c = (unsigned char) c;
        }
      pat->n++;
    }
  return 0;
}

/* Add state I and what it reaches without input.  */
static void
closure (const struct pattern *pat, bool *states, size_t i)
{
  for (; i <= pat->n && !states[i]; i++)
    {
      states[i] = true;
      if (i == pat->n || (pat->toks[i].kind != TOK_STAR
                          && pat->toks[i].kind != TOK_DIRS
                          && pat->toks[i].kind != TOK_REST))
        break;
    }
}

/* Run PAT over S; the states alive after it in STATES (n + 1 entries).
   Returns whether any state is alive.  */
static bool
run (const struct pattern *pat, const char *s, size_t len, bool *states)
{
  size_t n = pat->n + 1;
  cleanup_free bool *nxt = xmalloc0 (n * sizeof *nxt);
  memset (states, 0, n * sizeof *states);
  closure (pat, states, 0);
  for (size_t k = 0; k < len; k++)
    {
      unsigned char c = (unsigned char) s[k];
      bool alive = false;
      memset (nxt, 0, n * sizeof *nxt);
      for (size_t i = 0; i < pat->n; i++)
        {
          if (!states[i])
            continue;
          const struct tok *t = &pat->toks[i];
          bool adv = (t->kind == TOK_LIT && t->c == c)
                     || (t->kind == TOK_ANY && c != '/')
                     || (t->kind == TOK_CLASS && has_bit (t, c))
                     || (t->kind == TOK_DIRS && c == '/');
          bool stay = (t->kind == TOK_STAR && c != '/')
                      || t->kind == TOK_DIRS || t->kind == TOK_REST;
          if (stay)
            closure (pat, nxt, i);
          if (adv)
            closure (pat, nxt, i + 1);
          alive |= adv || stay;
        }
      memcpy (states, nxt, n * sizeof *nxt);
      if (!alive)
        return false;
    }
  return true;
}

static bool
pattern_match (const struct pattern *pat, const char *s, size_t len)
{
  cleanup_free bool *states = xmalloc0 ((pat->n + 1) * sizeof *states);
  return run (pat, s, len, states) && states[pat->n];
}

/* PAT matches PATH or one of its parent directories.  */
static bool
match_or_parent (const struct pattern *pat, const char *path)
{
  if (pattern_match (pat, path, strlen (path)))
    return true;
  for (const char *p = path; (p = strchr (p, '/')) != NULL; p++)
    if (pattern_match (pat, path, (size_t) (p - path)))
      return true;
  return false;
}

bool
cove_build_ignore_match (const struct cove_build_ignore *ig,
                         const char *relpath)
{
  cleanup_free char *path = clean_path (relpath);
  bool matched = false;
  for (size_t i = 0; i < ig->n; i++)
    {
      /* Only a pattern that could change the verdict is looked at.  */
      if (ig->pats[i].exception != matched)
        continue;
      if (match_or_parent (&ig->pats[i], path))
        matched = !ig->pats[i].exception;
    }
  return matched;
}

bool
cove_build_ignore_may_reinclude (const struct cove_build_ignore *ig,
                                 const char *reldir)
{
  if (!ig->has_exceptions)
    return false;
  cleanup_free char *dir = clean_path (reldir);
  cleanup_free char *prefix = xasprintf ("%s/", dir);
  for (size_t i = 0; i < ig->n; i++)
    {
      const struct pattern *pat = &ig->pats[i];
      cleanup_free bool *states = xmalloc0 ((pat->n + 1) * sizeof *states);
      /* Alive after "DIR/": some path below DIR may match.  */
      if (pat->exception && run (pat, prefix, strlen (prefix), states))
        return true;
    }
  return false;
}

void
cove_build_ignore_free (struct cove_build_ignore *ig)
{
  if (ig == NULL)
    return;
  for (size_t i = 0; i < ig->n; i++)
    {
      free (ig->pats[i].text);
      free (ig->pats[i].toks);
    }
  free (ig->pats);
  free (ig);
}

/* One line of the file (docker's ignorefile.ReadAll then
   patternmatcher.New).  A bad pattern is not kept.  */
static int
add_line (struct cove_build_ignore *ig, const char *line, size_t len,
          size_t lineno, struct cove_error **err)
{
  while (len > 0 && is_space (line[len - 1]))
    len--;
  while (len > 0 && is_space (*line))
    line++, len--;
  if (len == 0)
    return 0;
  bool exception = *line == '!';
  if (exception)
    {
      line++, len--;
      while (len > 0 && is_space (*line))
        line++, len--;
    }
  cleanup_free char *raw = xstrndup (line, len);
  char *text = len ? clean_path (raw) : xstrdup ("");
  if (text[0] == '/' && text[1] != '\0')
    memmove (text, text + 1, strlen (text));
  ig->pats = xrealloc (ig->pats, (ig->n + 1) * sizeof *ig->pats);
  struct pattern *pat = &ig->pats[ig->n++];
  *pat = (struct pattern) { .text = text, .exception = exception };
  int r = 0;
  if (exception && *text == '\0')
    r = cove_error_set_plain (err, EINVAL, "line %zu: illegal exclusion "
                              "pattern: \"!\"", lineno);
  else if (compile (pat) < 0)
    r = cove_error_set_plain (err, EINVAL, "line %zu: syntax error in "
                              "pattern \"%s\"", lineno, text);
  if (r < 0)
    {
      free (pat->text);
      free (pat->toks);
      ig->n--;
      return -1;
    }
  ig->has_exceptions |= exception;
  return 0;
}

struct cove_build_ignore *
cove_build_ignore_parse (const char *text, size_t len,
                         struct cove_error **err)
{
  struct cove_build_ignore *ig = xmalloc0 (sizeof *ig);
  struct line_reader r = { .text = text, .len = len };
  const char *line;
  size_t n;
  while (bld_line_next (&r, &line, &n))
    {
      if (r.lineno == 1 && n >= 3 && memcmp (line, "\xef\xbb\xbf", 3) == 0)
        line += 3, n -= 3;
      if (n > 0 && line[0] == '#')
        continue;
      if (memchr (line, '\0', n))
        cove_error_set_plain (err, EINVAL, "line %zu: NUL byte", r.lineno);
      if (memchr (line, '\0', n) || add_line (ig, line, n, r.lineno, err) < 0)
        {
          cove_build_ignore_free (ig);
          return NULL;
        }
    }
  return ig;
}

int
cove_build_ignore_add (struct cove_build_ignore *ig, const char *pattern,
                       struct cove_error **err)
{
  if (pattern[0] == '#')
    return 0;
  return add_line (ig, pattern, strlen (pattern), ig->n + 1, err);
}
