/* cove: execution of a parsed --format template over a jansson value.

   Values are jansson references owned by whoever holds them; NULL stands for
   Go's invalid value (a missing map key), printed `<no value>`.  Every
   action and call is counted against the template's budget of steps, and
   every byte of output or of a computed string against its budget of
   bytes: the template is the user's, but `{{range}}` nested over a large
   list must still end.  */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/format-internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

static int eval_pipe (struct exec *x, const struct pipe *pp, json_t *dot,
                      bool bind, json_t **out);

static int
line_col (const char *src, size_t pos, int *out_col)
{
  int line = 1;
  size_t bol = 0;
  for (size_t i = 0; i < pos && src[i]; i++)
    if (src[i] == '\n')
      {
        line++;
        bol = i + 1;
      }
  *out_col = (int) (pos - bol);
  return line;
}

int
format_exec_error (struct exec *x, size_t pos, size_t len, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  /* Go names the failing node, cut at 20 bytes.  */
  cleanup_free char *ctx = xstrndup (x->f->src + pos, len);
  if (strlen (ctx) > 20)
    {
      ctx[20] = '\0';
      char *longer = xasprintf ("%s...", ctx);
      free (ctx);
      ctx = longer;
    }
  int col;
  int line = line_col (x->f->src, pos, &col);
  return cove_error_set (x->err, EINVAL,
                         "template: %s:%d:%d: executing \"%s\" at <%s>: %s",
                         x->f->name, line, col, x->f->name, ctx,
                         msg ? msg : "error");
}

int
format_exec_charge (struct exec *x, size_t size, size_t pos, size_t len)
{
  x->bytes += size;
  if (x->bytes <= x->f->max_bytes)
    return 0;
  return cove_error_set (x->err, E2BIG,
                         "template: %s: output exceeds %zu bytes",
                         x->f->name, x->f->max_bytes);
}

static int
compare_keys (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static int
step (struct exec *x)
{
  if (++x->steps <= x->f->max_steps)
    return 0;
  return cove_error_set (x->err, E2BIG,
                         "template: %s: execution exceeds %zu steps",
                         x->f->name, x->f->max_steps);
}

static void
var_push (struct exec *x, const char *name, json_t *value)
{
  if (x->nvars == x->capvars)
    {
      x->capvars = x->capvars ? 2 * x->capvars : 8;
      x->vars = xrealloc (x->vars, x->capvars * sizeof *x->vars);
    }
  x->vars[x->nvars].name = (char *) name;
  x->vars[x->nvars++].value = value ? json_incref (value) : NULL;
}

static void
var_pop_to (struct exec *x, size_t n)
{
  while (x->nvars > n)
    json_decref (x->vars[--x->nvars].value);
}

static struct var *
var_find (struct exec *x, const char *name)
{
  for (size_t i = x->nvars; i > 0; i--)
    if (strcmp (x->vars[i - 1].name, name) == 0)
      return &x->vars[i - 1];
  return NULL;
}

/* Walk A's field chain from V (a reference this function takes).  */
static int
walk_chain (struct exec *x, const struct arg *a, json_t *v, json_t **out)
{
  if (x->header)
    {
      json_decref (v);
      struct buf path = { 0 };
      for (size_t i = 0; i < a->nchain; i++)
        {
          if (i)
            format_buf_addc (&path, '.');
          format_buf_adds (&path, a->chain[i]);
        }
      cleanup_free char *p = format_buf_steal (&path);
      cleanup_free char *title = format_title (p, x->titles);
      *out = json_string_nocheck (title);
      return 0;
    }
  for (size_t i = 0; i < a->nchain; i++)
    {
      json_t *next = NULL;
      if (json_is_object (v))
        {
          next = json_object_get (v, a->chain[i]);
          if (next == NULL && format_is_struct (v))
            {
              json_decref (v);
              return format_exec_error (x, a->pos, a->len,
                                 "can't evaluate field %s in type object",
                                 a->chain[i]);
            }
          json_incref (next);
        }
      else if (v != NULL && !json_is_null (v))
        {
          const char *t = format_type_name (v);
          json_decref (v);
          return format_exec_error (x, a->pos, a->len,
                             "can't evaluate field %s in type %s",
                             a->chain[i], t);
        }
      json_decref (v);
      v = next;
    }
  *out = v;
  return 0;
}

static int call_func (struct exec *x, const struct command *c, json_t *dot,
                      json_t *final, bool has_final, json_t **out);

static int
eval_arg (struct exec *x, const struct arg *a, json_t *dot, json_t **out)
{
  json_t *v = NULL;
  switch (a->kind)
    {
    case ARG_FIELD:
      if (a->nchain == 0)
        {
          *out = dot ? json_incref (dot) : NULL;
          return 0;
        }
      return walk_chain (x, a, dot ? json_incref (dot) : NULL, out);
    case ARG_VAR:
      {
        struct var *var = var_find (x, a->name);
        v = var && var->value ? json_incref (var->value) : NULL;
        return a->nchain ? walk_chain (x, a, v, out) : (*out = v, 0);
      }
    case ARG_PIPE:
      if (eval_pipe (x, a->pipe, dot, false, &v) < 0)
        return -1;
      return a->nchain ? walk_chain (x, a, v, out) : (*out = v, 0);
    case ARG_LITERAL:
      *out = json_incref (a->lit);
      return 0;
    case ARG_NIL:
      *out = json_null ();
      return 0;
    case ARG_IDENT:
      {
        /* A function name as an argument: called without arguments.  */
        struct command c = { .args = (struct arg *) a, .nargs = 1,
                             .pos = a->pos, .len = a->len };
        return call_func (x, &c, dot, NULL, false, out);
      }
    }
  return format_exec_error (x, a->pos, a->len, "bad operand");
}

static bool
field_like (const struct arg *a)
{
  return a->kind == ARG_FIELD || a->kind == ARG_VAR || a->kind == ARG_PIPE;
}

/* `and` and `or` evaluate their arguments only as far as needed.  */
static int
call_logic (struct exec *x, const struct command *c, json_t *dot,
            json_t *final, bool has_final, json_t **out)
{
  bool is_and = c->args[0].name[0] == 'a';
  size_t n = c->nargs - 1 + has_final;
  if (n == 0)
    return format_exec_error (x, c->pos, c->len,
                       "wrong number of args for %s: want at least 1 got 0",
                       c->args[0].name);
  for (size_t i = 0; i < n; i++)
    {
      json_t *v;
      if (i + 1 < c->nargs)
        {
          if (eval_arg (x, &c->args[i + 1], dot, &v) < 0)
            return -1;
        }
      else
        v = final ? json_incref (final) : NULL;
      if (i + 1 == n || format_truth (v) != is_and)
        {
          *out = v;
          return 0;
        }
      json_decref (v);
    }
  return 0;
}

/* Header mode: a function that is not a string transformation shows the
   title of its first field argument (`{{json .Config}}` -> CONFIG).  */
static int
header_call (struct exec *x, const struct command *c, json_t **args,
             size_t n, json_t **out)
{
  const struct format_func *fn = format_func_lookup (c->args[0].name);
  if (fn->header_passthrough)
    {
      struct cove_error *local = NULL;
      struct cove_error **saved = x->err;
      x->err = &local;
      int r = fn->fn (x, c, args, n, out);
      x->err = saved;
      cove_error_free (local);
      if (r == 0)
        return 0;
    }
  for (size_t i = 0; i < n; i++)
    if ((i + 1 >= c->nargs || field_like (&c->args[i + 1]))
        && json_is_string (args[i]))
      {
        *out = json_incref (args[i]);
        return 0;
      }
  *out = json_string ("");
  return 0;
}

static int
call_func (struct exec *x, const struct command *c, json_t *dot,
           json_t *final, bool has_final, json_t **out)
{
  const char *name = c->args[0].name;
  const struct format_func *fn = format_func_lookup (name);
  if (step (x) < 0)
    return -1;
  if (!x->header && (strcmp (name, "and") == 0 || strcmp (name, "or") == 0))
    return call_logic (x, c, dot, final, has_final, out);
  size_t n = c->nargs - 1 + has_final;
  if ((int) n < fn->min_args || (fn->max_args >= 0 && (int) n > fn->max_args))
    return format_exec_error (x, c->pos, c->len,
                       "wrong number of args for %s: want %s%d got %zu", name,
                       fn->max_args < 0 ? "at least " : "",
                       (int) n < fn->min_args ? fn->min_args : fn->max_args, n);
  json_t **args = xmalloc0 ((n + 1) * sizeof *args);
  int r = 0;
  for (size_t i = 0; i + 1 < c->nargs && r == 0; i++)
    r = eval_arg (x, &c->args[i + 1], dot, &args[i]);
  if (has_final)
    args[n - 1] = final ? json_incref (final) : NULL;
  if (r == 0)
    r = x->header ? header_call (x, c, args, n, out)
                  : fn->fn (x, c, args, n, out);
  for (size_t i = 0; i < n; i++)
    json_decref (args[i]);
  free (args);
  return r;
}

static int
eval_cmd (struct exec *x, const struct command *c, json_t *dot,
          json_t *final, bool has_final, json_t **out)
{
  const struct arg *first = &c->args[0];
  if (first->kind == ARG_IDENT)
    return call_func (x, c, dot, final, has_final, out);
  if (c->nargs > 1 || has_final)
    return format_exec_error (x, c->pos, c->len,
                       "can't give argument to non-function %.*s",
                       (int) first->len, x->f->src + first->pos);
  if (first->kind == ARG_NIL)
    return format_exec_error (x, c->pos, c->len, "nil is not a command");
  return eval_arg (x, first, dot, out);
}

/* Evaluate PP; BIND: assign its declared variables (not for range, which
   binds them per element).  */
static int
eval_pipe (struct exec *x, const struct pipe *pp, json_t *dot, bool bind,
           json_t **out)
{
  json_t *v = NULL;
  if (++x->depth > FORMAT_MAX_DEPTH * 2)
    return cove_error_set (x->err, EINVAL, "template: %s: nested too deeply",
                           x->f->name);
  for (size_t i = 0; i < pp->ncmds; i++)
    {
      json_t *next = NULL;
      if (eval_cmd (x, &pp->cmds[i], dot, v, i > 0, &next) < 0)
        {
          json_decref (v);
          return -1;
        }
      json_decref (v);
      v = next;
    }
  x->depth--;
  if (bind && pp->ndecl == 1)
    {
      struct var *var = pp->assign ? var_find (x, pp->decl[0]) : NULL;
      if (var)
        {
          json_decref (var->value);
          var->value = v ? json_incref (v) : NULL;
        }
      else
        var_push (x, pp->decl[0], v);
    }
  *out = v;
  return 0;
}

static int
emit (struct exec *x, const char *s, size_t n, size_t pos)
{
  if (format_exec_charge (x, n, pos, 0) < 0)
    return -1;
  format_buf_add (&x->out, s, n);
  return 0;
}

static int
exec_range_item (struct exec *x, const struct node *n, json_t *key,
                 json_t *elem)
{
  size_t mark = x->nvars;
  if (n->pipe->ndecl == 2)
    var_push (x, n->pipe->decl[0], key);
  if (n->pipe->ndecl > 0)
    var_push (x, n->pipe->decl[n->pipe->ndecl - 1], elem);
  int r = format_exec_list (x, &n->list, elem);
  var_pop_to (x, mark);
  return r;
}

/* Returns the number of iterations, or -1.  */
static long
exec_range_over (struct exec *x, const struct node *n, json_t *v)
{
  long count = 0;
  if (json_is_array (v) || x->header)
    {
      size_t len = x->header ? 1 : json_array_size (v);
      for (size_t i = 0; i < len && x->loop != LOOP_BREAK; i++, count++)
        {
          json_t *key = x->header ? json_incref (v) : json_integer ((json_int_t) i);
          json_t *elem = x->header ? v : json_array_get (v, i);
          x->loop = 0;
          int r = exec_range_item (x, n, key, elem);
          json_decref (key);
          if (r < 0)
            return -1;
        }
    }
  else if (json_is_object (v))
    {
      /* Go ranges over a map in sorted key order.  */
      const char *k;
      json_t *val;
      cleanup_free const char **keys = xmalloc ((json_object_size (v) + 1) * sizeof *keys);
      size_t nk = 0;
      json_object_foreach (v, k, val)
        keys[nk++] = k;
      qsort (keys, nk, sizeof *keys, compare_keys);
      for (size_t i = 0; i < nk && x->loop != LOOP_BREAK; i++, count++)
        {
          json_t *key = json_string_nocheck (keys[i]);
          x->loop = 0;
          int r = exec_range_item (x, n, key, json_object_get (v, keys[i]));
          json_decref (key);
          if (r < 0)
            return -1;
        }
    }
  else if (v != NULL && !json_is_null (v))
    {
      struct buf b = { 0 };
      format_print_value (&b, v);
      cleanup_free char *s = format_buf_steal (&b);
      return format_exec_error (x, n->pipe->pos, n->pipe->len,
                         "range can't iterate over %s", s);
    }
  x->loop = 0;
  return count;
}

static int
exec_block (struct exec *x, const struct node *n, json_t *dot)
{
  size_t mark = x->nvars;
  json_t *v = NULL;
  int r = eval_pipe (x, n->pipe, dot, n->kind != NODE_RANGE, &v);
  if (r == 0 && n->kind == NODE_RANGE)
    {
      long count = exec_range_over (x, n, v);
      if (count < 0)
        r = -1;
      else if (count == 0)
        r = format_exec_list (x, &n->else_list, dot);
    }
  else if (r == 0)
    {
      if (x->header || format_truth (v))
        r = format_exec_list (x, &n->list, n->kind == NODE_WITH ? v : dot);
      else
        r = format_exec_list (x, &n->else_list, dot);
    }
  json_decref (v);
  var_pop_to (x, mark);
  return r;
}

static int
exec_node (struct exec *x, const struct node *n, json_t *dot)
{
  if (step (x) < 0)
    return -1;
  switch (n->kind)
    {
    case NODE_TEXT:
      return emit (x, n->text, n->textlen, n->pos);
    case NODE_ACTION:
      {
        json_t *v = NULL;
        if (eval_pipe (x, n->pipe, dot, true, &v) < 0)
          return -1;
        int r = 0;
        if (n->pipe->ndecl == 0)
          {
            struct buf b = { 0 };
            format_print_value (&b, v);
            r = emit (x, b.data ? b.data : "", b.len, n->pos);
            free (b.data);
          }
        json_decref (v);
        return r;
      }
    case NODE_IF:
    case NODE_RANGE:
    case NODE_WITH:
      return exec_block (x, n, dot);
    case NODE_BREAK:
      x->loop = LOOP_BREAK;
      return 0;
    case NODE_CONTINUE:
      x->loop = LOOP_CONTINUE;
      return 0;
    }
  return 0;
}

int
format_exec_list (struct exec *x, const struct node_list *l, json_t *dot)
{
  for (size_t i = 0; i < l->n && x->loop == 0; i++)
    if (exec_node (x, l->items[i], dot) < 0)
      return -1;
  return 0;
}

char *
format_render (const struct cove_format *f, json_t *data, bool header,
               const char *const *titles, size_t *out_len,
               struct cove_error **err)
{
  struct exec x = { .f = f, .err = err, .header = header, .titles = titles };
  json_t *dot = header ? json_string ("") : json_incref (data);
  var_push (&x, "$", dot);
  int r = format_exec_list (&x, &f->root, dot);
  var_pop_to (&x, 0);
  free (x.vars);
  json_decref (dot);
  if (r < 0)
    {
      free (x.out.data);
      return NULL;
    }
  if (out_len)
    *out_len = x.out.len;
  return format_buf_steal (&x.out);
}

char *
cove_format_render (const struct cove_format *f, json_t *data,
                    struct cove_error **err)
{
  return format_render (f, data, false, NULL, NULL, err);
}

int
cove_format_execute (const struct cove_format *f, json_t *data, FILE *out,
                     struct cove_error **err)
{
  size_t n = 0;
  cleanup_free char *s = format_render (f, data, false, NULL, &n, err);
  if (s == NULL)
    return -1;
  if (fwrite (s, 1, n, out) != n)
    return cove_error_set (err, EIO, "write formatted output");
  return 0;
}
