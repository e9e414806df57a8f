#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/opts.h"
#include "pkg/util/xalloc.h"

void
cove_opts_init (struct cove_opts_parser *p, const struct cove_opt *opts,
                int argc, char **argv, bool interspersed)
{
  memset (p, 0, sizeof *p);
  p->opts = opts;
  p->argc = argc;
  p->argv = argv;
  p->index = 1;
  p->interspersed = interspersed;
}

void
cove_opts_free (struct cove_opts_parser *p)
{
  free (p->positional);
  p->positional = NULL;
}

int
cove_opts_parse_bool (const char *s)
{
  if (strcmp (s, "true") == 0 || strcmp (s, "1") == 0 || strcmp (s, "t") == 0
      || strcmp (s, "TRUE") == 0 || strcmp (s, "True") == 0)
    return 1;
  if (strcmp (s, "false") == 0 || strcmp (s, "0") == 0 || strcmp (s, "f") == 0
      || strcmp (s, "FALSE") == 0 || strcmp (s, "False") == 0)
    return 0;
  return -1;
}

static void
push_positional (struct cove_opts_parser *p, char *arg)
{
  size_t n = 0;
  while (p->positional && p->positional[n])
    n++;
  p->positional = xrealloc (p->positional, (n + 2) * sizeof (char *));
  p->positional[n] = arg;
  p->positional[n + 1] = NULL;
}

static const struct cove_opt *
find_long (const struct cove_opt *opts, const char *name, size_t len)
{
  for (const struct cove_opt *o = opts; o->name; o++)
    if (strlen (o->name) == len && strncmp (o->name, name, len) == 0)
      return o;
  return NULL;
}

static const struct cove_opt *
find_short (const struct cove_opt *opts, char c)
{
  for (const struct cove_opt *o = opts; o->name; o++)
    if (o->short_name == c)
      return o;
  return NULL;
}

static int
parse_long (struct cove_opts_parser *p, const char *arg,
            const char **out_value, struct cove_error **err)
{
  const char *name = arg + 2;
  const char *eq = strchr (name, '=');
  size_t len = eq ? (size_t) (eq - name) : strlen (name);
  const struct cove_opt *o = find_long (p->opts, name, len);
  if (o == NULL)
    return cove_error_set (err, 0, "unknown flag: --%.*s", (int) len, name);
  if (o->kind == COVE_OPT_BOOL)
    {
      if (eq == NULL)
        *out_value = "true";
      else if (cove_opts_parse_bool (eq + 1) < 0)
        return cove_error_set (err, 0,
                               "invalid argument \"%s\" for \"--%s\" flag: "
                               "strconv.ParseBool: parsing \"%s\": invalid syntax",
                               eq + 1, o->name, eq + 1);
      else
        *out_value = cove_opts_parse_bool (eq + 1) ? "true" : "false";
      return o->id;
    }
  if (eq)
    *out_value = eq + 1;
  else if (p->index < p->argc)
    *out_value = p->argv[p->index++];
  else
    return cove_error_set (err, 0, "flag needs an argument: --%s", o->name);
  return o->id;
}

/* One flag of a short cluster such as "-it" or "-eFOO=bar".  */
static int
parse_short (struct cove_opts_parser *p, const char **out_value,
             struct cove_error **err)
{
  const char *arg = p->argv[p->index];
  int pos = p->short_pos;
  char c = arg[pos];
  const struct cove_opt *o = find_short (p->opts, c);
  bool last = arg[pos + 1] == '\0';
  if (o == NULL || o->kind != COVE_OPT_BOOL || last)
    {
      /* The cluster ends here: either with an error, a value-taking flag
         (whose value is the rest of the cluster or the next argument), or
         its last flag.  */
      p->short_pos = 0;
      p->index++;
    }
  else
    p->short_pos++;
  if (o == NULL)
    return cove_error_set (err, 0, "unknown shorthand flag: '%c' in %s", c, arg);
  if (o->kind == COVE_OPT_BOOL)
    {
      *out_value = "true";
      return o->id;
    }
  if (!last)
    *out_value = arg + pos + 1;
  else if (p->index < p->argc)
    *out_value = p->argv[p->index++];
  else
    return cove_error_set (err, 0, "flag needs an argument: '%c' in -%c", c, c);
  return o->id;
}

int
cove_opts_next (struct cove_opts_parser *p, const char **out_value,
                struct cove_error **err)
{
  *out_value = NULL;
  if (p->short_pos > 0)
    return parse_short (p, out_value, err);
  while (!p->done && p->index < p->argc)
    {
      char *arg = p->argv[p->index];
      if (strcmp (arg, "--") == 0)
        {
          p->index++;
          p->done = true;
          break;
        }
      if (arg[0] == '-' && arg[1] == '-')
        {
          p->index++;
          return parse_long (p, arg, out_value, err);
        }
      if (arg[0] == '-' && arg[1] != '\0')
        {
          p->short_pos = 1;
          return parse_short (p, out_value, err);
        }
      if (!p->interspersed)
        {
          p->done = true;
          break;
        }
      push_positional (p, arg);
      p->index++;
    }
  return 0;
}

char **
cove_opts_rest (struct cove_opts_parser *p, int *out_count)
{
  size_t n = 0;
  while (p->positional && p->positional[n])
    n++;
  int rest = p->argc - p->index;
  char **r = xmalloc ((n + rest + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    r[i] = p->positional[i];
  for (int i = 0; i < rest; i++)
    r[n + i] = p->argv[p->index + i];
  r[n + rest] = NULL;
  if (out_count)
    *out_count = (int) (n + rest);
  return r;
}

void
cove_opts_print_help (FILE *out, const char *usage, const char *description,
                      const struct cove_opt *opts)
{
  fprintf (out, "%s\n\nUsage:\n  %s\n", description, usage);
  fprintf (out, "\nOptions:\n");
  for (const struct cove_opt *o = opts; o->name; o++)
    {
      char left[64];
      if (o->short_name)
        snprintf (left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name,
                  o->value_name ? " " : "", o->value_name ? o->value_name : "");
      else
        snprintf (left, sizeof left, "    --%s%s%s", o->name,
                  o->value_name ? " " : "", o->value_name ? o->value_name : "");
      fprintf (out, "  %-32s %s\n", left, o->help);
    }
}
