/* cove: command-line options in podman's shape: `--name value`,
   `--name=value`, `-n value`, `-nvalue`, clustered short flags (`-it`),
   `--flag=true|false` for booleans, `--` to end options.  */
#ifndef COVE_CMD_OPTS_H
#define COVE_CMD_OPTS_H

#include <stdbool.h>
#include <stdio.h>

#include "pkg/util/error.h"

enum cove_opt_kind
{
  COVE_OPT_BOOL,    /* a flag; the value given to the handler is "true" or "false" */
  COVE_OPT_VALUE,   /* takes one value */
};

struct cove_opt
{
  const char *name;     /* long name without "--" */
  char short_name;      /* 0 when none */
  enum cove_opt_kind kind;
  int id;               /* given back to the caller, > 0 */
  const char *value_name;  /* for the help text, e.g. "string" */
  const char *help;     /* one line */
};

struct cove_opts_parser
{
  const struct cove_opt *opts;  /* terminated by an entry with name NULL */
  int argc;
  char **argv;
  int index;            /* next argv element to look at */
  int short_pos;        /* position inside a cluster of short flags, or 0 */
  bool interspersed;    /* options may follow positional arguments */
  bool done;            /* `--` seen, or the first positional when not interspersed */
  char **positional;    /* collected positionals (interspersed mode), NULL-terminated */
};

/* Start parsing ARGV[1..] (ARGV[0] is the command's name).  */
void cove_opts_init (struct cove_opts_parser *p, const struct cove_opt *opts,
                     int argc, char **argv, bool interspersed);
void cove_opts_free (struct cove_opts_parser *p);

/* The next option: returns its id and sets *OUT_VALUE (for a bool "true" or
   "false"), 0 at the end of the options, -1 on a bad option (*ERR says
   which, in podman's words: "unknown flag: --x", "flag needs an argument:
   --x", "invalid argument \"x\" for \"--x\" flag").  After 0, the
   positional arguments are cove_opts_rest ().  */
int cove_opts_next (struct cove_opts_parser *p, const char **out_value,
                    struct cove_error **err);

/* The positional arguments after parsing: in non-interspersed mode
   argv[index..]; in interspersed mode those collected plus the rest.  A new
   NULL-terminated array of borrowed pointers; caller frees the array only.  */
char **cove_opts_rest (struct cove_opts_parser *p, int *out_count);

/* Parse "true"/"false" (and 1/0) as podman does.  -1 when neither.  */
int cove_opts_parse_bool (const char *s);

/* Print a help text: "Usage: USAGE", DESCRIPTION, then the options in
   podman's layout.  */
void cove_opts_print_help (FILE *out, const char *usage,
                           const char *description,
                           const struct cove_opt *opts);

#endif
