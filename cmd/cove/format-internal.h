/* cove: private declarations of the --format engine (format*.c only).  */
#ifndef COVE_CMD_FORMAT_INTERNAL_H
#define COVE_CMD_FORMAT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "cmd/cove/format.h"

/* Nesting of blocks and parenthesised pipelines: the template comes from the
   user's command line, and both the parser and the executor recurse.  */
#define FORMAT_MAX_DEPTH 100
/* Variables in scope at once.  */
#define FORMAT_MAX_VARS 1000

/* A growing byte buffer (not NUL-terminated until buf_str).  */
struct buf
{
  char *data;
  size_t len, cap;
};
void format_buf_add (struct buf *b, const char *s, size_t n);
void format_buf_adds (struct buf *b, const char *s);
void format_buf_addc (struct buf *b, char c);
void format_buf_printf (struct buf *b, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
/* One escape sequence of a Go quoted string (after the backslash at S,
   NUL-terminated), as strconv.Unquote: appended to B.  Returns the bytes
   consumed, 0 when invalid.  QUOTE: the quote character of the literal.  */
size_t format_unescape (const char *s, char quote, struct buf *b);
/* Append code point CP (valid, not a surrogate) as UTF-8.  */
void format_put_utf8 (struct buf *b, unsigned long cp);
/* NUL-terminate and hand the bytes over; B is empty afterwards.  */
char *format_buf_steal (struct buf *b);

enum arg_kind
{
  ARG_FIELD,    /* `.` (nchain 0) or `.A.B` on dot */
  ARG_VAR,      /* `$name` then an optional chain */
  ARG_PIPE,     /* `( pipeline )` then an optional chain */
  ARG_IDENT,    /* a function name */
  ARG_LITERAL,  /* string, number, bool: LIT */
  ARG_NIL,
};

struct pipe;

struct arg
{
  enum arg_kind kind;
  size_t pos, len;      /* span in the template text, for errors */
  char *name;           /* variable (with `$`) or function name */
  char **chain;         /* field names */
  size_t nchain;
  json_t *lit;          /* ARG_LITERAL */
  bool lit_is_const_int; /* a number literal usable as an int argument */
  struct pipe *pipe;    /* ARG_PIPE */
};

struct command
{
  struct arg *args;
  size_t nargs;
  size_t pos, len;
};

struct pipe
{
  char *decl[2];        /* declared or assigned variables, NULL when none */
  size_t ndecl;
  bool assign;          /* `=` rather than `:=` */
  struct command *cmds;
  size_t ncmds;
  size_t pos, len;
};

enum node_kind
{
  NODE_TEXT,
  NODE_ACTION,
  NODE_IF,
  NODE_RANGE,
  NODE_WITH,
  NODE_BREAK,
  NODE_CONTINUE,
};

struct node_list
{
  struct node **items;
  size_t n, cap;
};

struct node
{
  enum node_kind kind;
  size_t pos;
  char *text;           /* NODE_TEXT */
  size_t textlen;
  struct pipe *pipe;    /* action, if, range, with */
  struct node_list list, else_list;
};

struct cove_format
{
  char *name;
  char *src;            /* the template text, for line/column of errors */
  struct node_list root;
  size_t max_steps, max_bytes;
};

/* Execution state of one cove_format_execute.  */
struct exec
{
  const struct cove_format *f;
  struct buf out;
  struct var { char *name; json_t *value; } *vars;
  size_t nvars, capvars;
  size_t steps, bytes;
  int depth;
  int loop;             /* 0, or LOOP_BREAK / LOOP_CONTINUE pending */
  /* Header mode: fields evaluate to column titles (table headers).  */
  bool header;
  const char *const *titles;
  struct cove_error **err;
};
enum { LOOP_BREAK = 1, LOOP_CONTINUE = 2 };

/* format-exec.c */
int format_exec_list (struct exec *x, const struct node_list *l, json_t *dot);
int format_exec_error (struct exec *x, size_t pos, size_t len, const char *fmt, ...)
  __attribute__ ((format (printf, 4, 5)));
/* Execute F over DATA, or its header row when HEADER (fields evaluate to
   their titles, see cove_format_table_new).  *OUT_LEN (may be NULL): the
   length, as the output may hold NUL bytes.  */
char *format_render (const struct cove_format *f, json_t *data, bool header,
                     const char *const *titles, size_t *out_len,
                     struct cove_error **err);
/* Count SIZE bytes of output or intermediate strings against the budget.  */
int format_exec_charge (struct exec *x, size_t size, size_t pos, size_t len);

/* format-funcs.c: the functions callable from a template.  */
typedef int (*format_fn) (struct exec *x, const struct command *c,
                          json_t **args, size_t n, json_t **out);
struct format_func
{
  const char *name;
  format_fn fn;
  int min_args, max_args;   /* max -1: variadic */
  bool header_passthrough;  /* in header mode, applied to the title */
};
const struct format_func *format_func_lookup (const char *name);
bool format_truth (json_t *v);
/* Whether object O stands for a Go struct (all keys capitalised, not
   empty) rather than a map.  */
bool format_is_struct (json_t *o);
/* Print V as Go's fmt %v does (NULL: `<no value>`).  */
void format_print_value (struct buf *b, json_t *v);
/* Go's json.Marshal of V (encoder with SetEscapeHTML(false)).  */
void format_json (struct buf *b, json_t *v);
/* Go's strconv.Quote of S.  */
void format_quote (struct buf *b, const char *s, size_t n);
/* Go's `%v` of a float64.  */
void format_float (struct buf *b, double d, bool json);
const char *format_type_name (json_t *v);

/* format-printf.c */
int format_fn_printf (struct exec *x, const struct command *c,
                      json_t **args, size_t n, json_t **out);

/* format-table.c */
char *format_title (const char *path, const char *const *titles);

#endif
