/* cove: parser of --format templates (Go's text/template syntax).

   Untrusted input: the template text comes from the user's command line (or
   a script).  Every read is bounds-checked against the NUL-terminated text,
   nesting of blocks and parentheses is limited to FORMAT_MAX_DEPTH, and every
   error is reported with Go's wording, `template: NAME:LINE: MESSAGE`.  */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/format-internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

struct parser
{
  const char *src;
  size_t pos;
  const char *name;
  int depth;
  int range_depth;
  size_t action;        /* start of the action being parsed */      /* {{break}} and {{continue}} only inside range */
  bool trim_next;       /* a ` -}}` was seen: trim the next text's start */
  char **vars;          /* variables in scope, innermost last */
  size_t nvars, capvars;
  struct cove_error **err;
};

enum term { TERM_EOF, TERM_END, TERM_ELSE };

static int parse_pipe (struct parser *p, struct pipe *out, bool decl,
                       bool in_paren, const char *what);
static void pipe_free (struct pipe *pp);

static int
line_of (const char *src, size_t pos)
{
  int line = 1;
  for (size_t i = 0; i < pos && src[i]; i++)
    line += src[i] == '\n';
  return line;
}

static int __attribute__ ((format (printf, 3, 4)))
parse_error (struct parser *p, size_t pos, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  return cove_error_set (p->err, EINVAL, "template: %s:%d: %s", p->name,
                         line_of (p->src, pos), msg ? msg : "parse error");
}

static bool
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_ident (char c)
{
  return isalnum ((unsigned char) c) || c == '_'
         || (unsigned char) c >= 0x80;
}

static void
skip_space (struct parser *p)
{
  while (is_space (p->src[p->pos]))
    p->pos++;
}

/* At the end of an action: `}}`, or ` -}}` which also trims what follows.  */
static bool
at_close (struct parser *p, size_t *out_len)
{
  const char *s = p->src + p->pos;
  if (s[0] == '}' && s[1] == '}')
    {
      *out_len = 2;
      return true;
    }
  if (s[0] == '-' && s[1] == '}' && s[2] == '}' && p->pos > 0
      && is_space (p->src[p->pos - 1]))
    {
      *out_len = 3;
      return true;
    }
  return false;
}

static int
expect_close (struct parser *p)
{
  size_t n;
  skip_space (p);
  if (!at_close (p, &n))
    {
      if (p->src[p->pos] == '\0')
        return parse_error (p, p->action, "unclosed action");
      return parse_error (p, p->pos, "unexpected \"%c\" in action",
                          p->src[p->pos]);
    }
  p->trim_next = n == 3;
  p->pos += n;
  return 0;
}

static void
list_add (struct node_list *l, struct node *n)
{
  if (l->n == l->cap)
    {
      l->cap = l->cap ? 2 * l->cap : 8;
      l->items = xrealloc (l->items, l->cap * sizeof *l->items);
    }
  l->items[l->n++] = n;
}

static void list_free (struct node_list *l);

static void
node_free (struct node *n)
{
  if (n == NULL)
    return;
  free (n->text);
  pipe_free (n->pipe);
  list_free (&n->list);
  list_free (&n->else_list);
  free (n);
}

static void
list_free (struct node_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    node_free (l->items[i]);
  free (l->items);
  l->items = NULL;
  l->n = l->cap = 0;
}

static void
arg_clear (struct arg *a)
{
  free (a->name);
  for (size_t i = 0; i < a->nchain; i++)
    free (a->chain[i]);
  free (a->chain);
  json_decref (a->lit);
  pipe_free (a->pipe);
}

static void
pipe_free (struct pipe *pp)
{
  if (pp == NULL)
    return;
  for (size_t i = 0; i < pp->ncmds; i++)
    {
      for (size_t j = 0; j < pp->cmds[i].nargs; j++)
        arg_clear (&pp->cmds[i].args[j]);
      free (pp->cmds[i].args);
    }
  free (pp->cmds);
  free (pp->decl[0]);
  free (pp->decl[1]);
  free (pp);
}

/* Variables, checked at parse time as Go does.  Lookups are linear, as in
   Go: the number in scope is bounded so that a long template of variables
   cannot make parsing or execution quadratic.  */
static int
var_push (struct parser *p, const char *name)
{
  if (p->nvars >= FORMAT_MAX_VARS)
    return parse_error (p, p->pos, "too many variables");
  if (p->nvars == p->capvars)
    {
      p->capvars = p->capvars ? 2 * p->capvars : 8;
      p->vars = xrealloc (p->vars, p->capvars * sizeof *p->vars);
    }
  p->vars[p->nvars++] = xstrdup (name);
  return 0;
}

static void
var_pop_to (struct parser *p, size_t n)
{
  while (p->nvars > n)
    free (p->vars[--p->nvars]);
}

static bool
var_known (struct parser *p, const char *name)
{
  for (size_t i = 0; i < p->nvars; i++)
    if (strcmp (p->vars[i], name) == 0)
      return true;
  return false;
}

/* `.A.B` adjacent to the operand just read.  */
static void
parse_chain (struct parser *p, struct arg *a)
{
  while (p->src[p->pos] == '.' && is_ident (p->src[p->pos + 1]))
    {
      size_t start = ++p->pos;
      while (is_ident (p->src[p->pos]))
        p->pos++;
      a->chain = xrealloc (a->chain, (a->nchain + 1) * sizeof *a->chain);
      a->chain[a->nchain++] = xstrndup (p->src + start, p->pos - start);
    }
}

static int
parse_var_name (struct parser *p, char **out)
{
  size_t start = p->pos++;
  while (is_ident (p->src[p->pos]))
    p->pos++;
  *out = xstrndup (p->src + start, p->pos - start);
  return 0;
}

/* A quoted string or character constant starting at p->pos.  */
static int
parse_quoted (struct parser *p, struct buf *b)
{
  size_t start = p->pos;
  char quote = p->src[p->pos++];
  for (;;)
    {
      char c = p->src[p->pos];
      if (c == '\0' || (c == '\n' && quote != '`'))
        return parse_error (p, start, quote == '\'' ? "unterminated character constant"
                                                     : "unterminated quoted string");
      p->pos++;
      if (c == quote)
        return 0;
      if (c == '\\' && quote != '`')
        {
          size_t n = format_unescape (p->src + p->pos, quote, b);
          if (n == 0)
            return parse_error (p, start, "invalid syntax in quoted string");
          p->pos += n;
          continue;
        }
      format_buf_addc (b, c);
    }
}

static int
parse_char_const (struct parser *p, struct arg *a)
{
  size_t start = p->pos;
  struct buf b = { 0 };
  if (parse_quoted (p, &b) < 0)
    {
      free (b.data);
      return -1;
    }
  /* Decode one UTF-8 sequence (or take the byte).  */
  const unsigned char *s = (const unsigned char *) b.data;
  long v = -1;
  if (b.len == 1)
    v = s[0];
  else if (b.len == 2 && (s[0] & 0xe0) == 0xc0)
    v = ((s[0] & 0x1f) << 6) | (s[1] & 0x3f);
  else if (b.len == 3 && (s[0] & 0xf0) == 0xe0)
    v = ((s[0] & 0x0f) << 12) | ((s[1] & 0x3f) << 6) | (s[2] & 0x3f);
  else if (b.len == 4 && (s[0] & 0xf8) == 0xf0)
    v = ((long) (s[0] & 0x07) << 18) | ((s[1] & 0x3f) << 12)
        | ((s[2] & 0x3f) << 6) | (s[3] & 0x3f);
  free (b.data);
  if (v < 0)
    return parse_error (p, start, "malformed character constant");
  a->kind = ARG_LITERAL;
  a->lit = json_integer (v);
  a->lit_is_const_int = true;
  return 1;
}

static int
parse_number (struct parser *p, struct arg *a)
{
  size_t start = p->pos;
  const char *s = p->src;
  if (s[p->pos] == '+' || s[p->pos] == '-')
    p->pos++;
  while (isalnum ((unsigned char) s[p->pos]) || s[p->pos] == '.'
         || s[p->pos] == '_'
         || ((s[p->pos] == '+' || s[p->pos] == '-')
             && strchr ("eEpP", s[p->pos - 1])))
    p->pos++;
  cleanup_free char *text = xstrndup (s + start, p->pos - start);
  cleanup_free char *clean = xmalloc (strlen (text) + 1);
  size_t n = 0;
  for (const char *c = text; *c; c++)
    if (*c != '_')
      clean[n++] = *c;
  clean[n] = '\0';
  char *end;
  errno = 0;
  long long i = strtoll (clean, &end, 0);
  a->kind = ARG_LITERAL;
  if (*end == '\0' && errno == 0 && end != clean)
    {
      a->lit = json_integer (i);
      a->lit_is_const_int = true;
      return 1;
    }
  errno = 0;
  double d = strtod (clean, &end);
  bool hexish = strchr (clean, 'x') || strchr (clean, 'X');
  if (*end != '\0' || end == clean || errno != 0 || !isfinite (d)
      || (hexish && !strpbrk (clean, "pP")))
    return parse_error (p, start, "bad number syntax: \"%s\"", text);
  a->lit = json_real (d);
  a->lit_is_const_int = d == floor (d) && fabs (d) < 9.2e18;
  return 1;
}

static int
parse_ident (struct parser *p, struct arg *a)
{
  size_t start = p->pos;
  while (is_ident (p->src[p->pos]))
    p->pos++;
  cleanup_free char *id = xstrndup (p->src + start, p->pos - start);
  if (strcmp (id, "true") == 0 || strcmp (id, "false") == 0)
    {
      a->kind = ARG_LITERAL;
      a->lit = json_boolean (id[0] == 't');
      return 1;
    }
  if (strcmp (id, "nil") == 0)
    {
      a->kind = ARG_NIL;
      return 1;
    }
  if (format_func_lookup (id) == NULL)
    return parse_error (p, start, "function \"%s\" not defined", id);
  a->kind = ARG_IDENT;
  a->name = steal_pointer (&id);
  return 1;
}

static int
parse_paren (struct parser *p, struct arg *a)
{
  if (++p->depth > FORMAT_MAX_DEPTH)
    return parse_error (p, p->pos, "template nested too deeply");
  p->pos++;
  a->kind = ARG_PIPE;
  a->pipe = xmalloc0 (sizeof *a->pipe);
  if (parse_pipe (p, a->pipe, false, true, "parenthesized pipeline") < 0)
    return -1;
  p->depth--;
  parse_chain (p, a);
  return 1;
}

/* One operand at p->pos: 1 when read into A, 0 when none starts here.  */
static int
parse_operand (struct parser *p, struct arg *a)
{
  const char *s = p->src + p->pos;
  a->pos = p->pos;
  int r = 1;
  if (s[0] == '.' && !isdigit ((unsigned char) s[1]))
    {
      a->kind = ARG_FIELD;
      if (is_ident (s[1]))
        parse_chain (p, a);
      else
        p->pos++;
    }
  else if (s[0] == '$')
    {
      a->kind = ARG_VAR;
      parse_var_name (p, &a->name);
      if (!var_known (p, a->name))
        return parse_error (p, a->pos, "undefined variable \"%s\"", a->name);
      parse_chain (p, a);
    }
  else if (s[0] == '(')
    r = parse_paren (p, a);
  else if (s[0] == '"' || s[0] == '`')
    {
      struct buf b = { 0 };
      if (parse_quoted (p, &b) < 0)
        {
          free (b.data);
          return -1;
        }
      a->kind = ARG_LITERAL;
      a->lit = json_stringn_nocheck (b.data ? b.data : "", b.len);
      free (b.data);
    }
  else if (s[0] == '\'')
    r = parse_char_const (p, a);
  else if (isdigit ((unsigned char) s[0])
           || ((s[0] == '-' || s[0] == '+' || s[0] == '.')
               && (isdigit ((unsigned char) s[1])
                   || (s[1] == '.' && isdigit ((unsigned char) s[2])))))
    r = parse_number (p, a);
  else if (isalpha ((unsigned char) s[0]) || s[0] == '_')
    r = parse_ident (p, a);
  else
    return 0;
  a->len = p->pos - a->pos;
  return r;
}

static int
parse_command (struct parser *p, struct command *c)
{
  for (;;)
    {
      skip_space (p);
      if (c->nargs == 0)
        c->pos = p->pos;
      struct arg a = { 0 };
      int r = parse_operand (p, &a);
      if (r <= 0)
        {
          arg_clear (&a);
          if (r < 0)
            return -1;
          break;
        }
      c->args = xrealloc (c->args, (c->nargs + 1) * sizeof *c->args);
      c->args[c->nargs++] = a;
      c->len = p->pos - c->pos;
      char next = p->src[p->pos];
      if (!is_space (next) && next != '|' && next != ')' && next != '}'
          && next != '\0')
        return parse_error (p, p->pos, "unexpected \"%c\" in operand", next);
    }
  if (c->nargs == 0)
    return parse_error (p, p->pos, "missing value for command");
  return 0;
}

/* `$x :=`, `$x =`, `$i, $e :=` at the start of a pipeline.  */
static int
parse_decl (struct parser *p, struct pipe *out)
{
  size_t save = p->pos;
  skip_space (p);
  if (p->src[p->pos] != '$')
    goto none;
  parse_var_name (p, &out->decl[0]);
  skip_space (p);
  if (p->src[p->pos] == ',')
    {
      p->pos++;
      skip_space (p);
      if (p->src[p->pos] != '$')
        return parse_error (p, p->pos, "too many declarations in pipeline");
      parse_var_name (p, &out->decl[1]);
      skip_space (p);
    }
  out->ndecl = out->decl[1] ? 2 : 1;
  if (p->src[p->pos] == ':' && p->src[p->pos + 1] == '=')
    {
      p->pos += 2;
      return 0;
    }
  if (p->src[p->pos] == '=' && p->src[p->pos + 1] != '=' && !out->decl[1])
    {
      if (!var_known (p, out->decl[0]))
        return parse_error (p, save, "undefined variable \"%s\"", out->decl[0]);
      p->pos++;
      out->assign = true;
      return 0;
    }
none:
  free (out->decl[0]);
  free (out->decl[1]);
  out->decl[0] = out->decl[1] = NULL;
  out->ndecl = 0;
  p->pos = save;
  return 0;
}

static int
parse_pipe (struct parser *p, struct pipe *out, bool decl, bool in_paren,
            const char *what)
{
  out->pos = p->pos;
  if (decl && parse_decl (p, out) < 0)
    return -1;
  for (;;)
    {
      skip_space (p);
      size_t n;
      char c = p->src[p->pos];
      if ((!in_paren && at_close (p, &n)) || (in_paren && c == ')'))
        break;
      if (c == '\0' || (in_paren && at_close (p, &n)))
        return parse_error (p, in_paren ? p->pos : p->action,
                            in_paren ? "unclosed left paren" : "unclosed action");
      if (out->ncmds > 0)
        {
          if (c != '|')
            return parse_error (p, p->pos, "unexpected \"%c\" in %s", c, what);
          p->pos++;
        }
      if (out->ncmds == 0)
        out->pos = p->pos;
      out->cmds = xrealloc (out->cmds, (out->ncmds + 1) * sizeof *out->cmds);
      memset (&out->cmds[out->ncmds], 0, sizeof *out->cmds);
      if (parse_command (p, &out->cmds[out->ncmds++]) < 0)
        return -1;
      c = p->src[p->pos];
      if (c == '}' && p->src[p->pos + 1] != '}')
        return parse_error (p, p->pos, "bad character U+007D '}'");
      if (c == ')' && !in_paren)
        return parse_error (p, p->pos, "unexpected right paren U+0029 ')'");
    }
  if (out->ncmds == 0)
    return parse_error (p, p->pos, "missing value for %s", what);
  out->len = p->pos - out->pos;
  if (in_paren)
    p->pos++;
  for (size_t i = 0; i < out->ndecl && !out->assign; i++)
    if (var_push (p, out->decl[i]) < 0)
      return -1;
  return 0;
}

static int parse_list (struct parser *p, struct node_list *l, enum term *t);

/* After `{{if`, `{{range`, `{{with` (or `{{else if`): the pipeline, the
   body, an optional else part, and the shared `{{end}}`.  */
static int
parse_block (struct parser *p, struct node *n, const char *what)
{
  if (++p->depth > FORMAT_MAX_DEPTH)
    return parse_error (p, n->pos, "template nested too deeply");
  size_t mark = p->nvars;
  n->pipe = xmalloc0 (sizeof *n->pipe);
  enum term t;
  if (parse_pipe (p, n->pipe, true, false, what) < 0)
    return -1;
  if (n->pipe->ndecl == 2 && n->kind != NODE_RANGE)
    return parse_error (p, n->pos, "too many declarations in %s", what);
  p->range_depth += n->kind == NODE_RANGE;
  if (expect_close (p) < 0 || parse_list (p, &n->list, &t) < 0)
    return -1;
  p->range_depth -= n->kind == NODE_RANGE;
  if (t == TERM_ELSE)
    {
      skip_space (p);
      const char *s = p->src + p->pos;
      size_t kw = n->kind == NODE_IF ? 2 : n->kind == NODE_WITH ? 4 : 0;
      if (kw && strncmp (s, what, kw) == 0 && is_space (s[kw]))
        {
          /* `{{else if x}}` is `{{else}}{{if x}}...{{end}}{{end}}` with
             one shared end.  */
          struct node *in = xmalloc0 (sizeof *in);
          in->kind = n->kind;
          in->pos = p->pos;
          list_add (&n->else_list, in);
          p->pos += kw;
          if (parse_block (p, in, what) < 0)
            return -1;
          t = TERM_END;
        }
      else if (expect_close (p) < 0 || parse_list (p, &n->else_list, &t) < 0)
        return -1;
      else if (t == TERM_ELSE)
        return parse_error (p, p->pos, "expected end; found {{else}}");
    }
  if (t != TERM_END)
    return parse_error (p, p->pos, "unexpected EOF");
  var_pop_to (p, mark);
  p->depth--;
  return 0;
}

static void
add_text (struct parser *p, struct node_list *l, size_t start, size_t end,
          bool trim_right)
{
  if (p->trim_next)
    while (start < end && is_space (p->src[start]))
      start++;
  p->trim_next = false;
  if (trim_right)
    while (end > start && is_space (p->src[end - 1]))
      end--;
  if (end == start)
    return;
  struct node *n = xmalloc0 (sizeof *n);
  n->kind = NODE_TEXT;
  n->pos = start;
  n->text = xstrndup (p->src + start, end - start);
  n->textlen = end - start;
  list_add (l, n);
}

static int
parse_comment (struct parser *p)
{
  const char *end = strstr (p->src + p->pos + 2, "*/");
  if (end == NULL)
    return parse_error (p, p->pos, "unclosed comment");
  p->pos = (size_t) (end - p->src) + 2;
  size_t n;
  if (!at_close (p, &n))
    {
      skip_space (p);
      if (!at_close (p, &n) || n != 3)
        return parse_error (p, p->pos, "comment ends before closing delimiter");
    }
  p->trim_next = n == 3;
  p->pos += n;
  return 0;
}

/* The keyword of an action at p->pos, or NULL.  */
static const char *
keyword (struct parser *p)
{
  static const char *const kws[] = { "if", "range", "with", "else", "end",
                                     "break", "continue", "define",
                                     "template", "block", NULL };
  const char *s = p->src + p->pos;
  for (size_t i = 0; kws[i]; i++)
    {
      size_t n = strlen (kws[i]);
      if (strncmp (s, kws[i], n) == 0 && !is_ident (s[n]))
        return kws[i];
    }
  return NULL;
}

/* One `{{...}}` at p->pos (after the delimiter and trim marker).  Returns
   1 when it ended the list (end/else: *T set), 0 otherwise.  */
static int
parse_action (struct parser *p, struct node_list *l, enum term *t)
{
  skip_space (p);
  if (p->src[p->pos] == '/' && p->src[p->pos + 1] == '*')
    return parse_comment (p);
  size_t start = p->pos;
  const char *kw = keyword (p);
  if (kw && (strcmp (kw, "end") == 0 || strcmp (kw, "else") == 0))
    {
      if (p->depth == 0)
        return parse_error (p, start, "unexpected {{%s}}", kw);
      p->pos += strlen (kw);
      *t = kw[1] == 'n' ? TERM_END : TERM_ELSE;
      if (*t == TERM_END && expect_close (p) < 0)
        return -1;
      return 1;
    }
  struct node *n = xmalloc0 (sizeof *n);
  n->pos = start;
  list_add (l, n);
  if (kw == NULL)
    {
      n->kind = NODE_ACTION;
      n->pipe = xmalloc0 (sizeof *n->pipe);
      if (parse_pipe (p, n->pipe, true, false, "command") < 0)
        return -1;
      if (n->pipe->ndecl == 2)
        return parse_error (p, start, "too many declarations in command");
      return expect_close (p);
    }
  p->pos += strlen (kw);
  if (strcmp (kw, "break") == 0 || strcmp (kw, "continue") == 0)
    {
      n->kind = kw[0] == 'b' ? NODE_BREAK : NODE_CONTINUE;
      if (p->range_depth == 0)
        return parse_error (p, start, "{{%s}} outside {{range}}", kw);
      return expect_close (p);
    }
  if (kw[0] == 'd' || kw[0] == 't' || kw[0] == 'b')
    return parse_error (p, start, "{{%s}} is not supported", kw);
  n->kind = kw[0] == 'i' ? NODE_IF : kw[0] == 'r' ? NODE_RANGE : NODE_WITH;
  return parse_block (p, n, kw);
}

static int
parse_list (struct parser *p, struct node_list *l, enum term *t)
{
  for (;;)
    {
      const char *open = strstr (p->src + p->pos, "{{");
      size_t end = open ? (size_t) (open - p->src) : strlen (p->src);
      bool trim = open && open[2] == '-' && is_space (open[3]);
      add_text (p, l, p->pos, end, trim);
      if (open == NULL)
        {
          p->pos = end;
          *t = TERM_EOF;
          return 0;
        }
      p->action = end;
      p->pos = end + 2 + (trim ? 2 : 0);
      int r = parse_action (p, l, t);
      if (r != 0)
        return r < 0 ? -1 : 0;
    }
}

struct cove_format *
cove_format_parse (const char *name, const char *text, struct cove_error **err)
{
  struct parser p = { .src = text, .name = name ? name : "format", .err = err };
  struct cove_format *f = xmalloc0 (sizeof *f);
  f->name = xstrdup (p.name);
  f->src = xstrdup (text);
  f->max_steps = 10 * 1000 * 1000;
  f->max_bytes = 64 << 20;
  p.src = f->src;
  enum term t = TERM_EOF;
  (void) var_push (&p, "$");
  int r = parse_list (&p, &f->root, &t);
  var_pop_to (&p, 0);
  free (p.vars);
  if (r < 0)
    {
      cove_format_free (f);
      return NULL;
    }
  return f;
}

void
cove_format_free (struct cove_format *f)
{
  if (f == NULL)
    return;
  list_free (&f->root);
  free (f->name);
  free (f->src);
  free (f);
}

void
cove_format_set_budget (struct cove_format *f, size_t max_steps,
                        size_t max_bytes)
{
  f->max_steps = max_steps;
  f->max_bytes = max_bytes;
}
