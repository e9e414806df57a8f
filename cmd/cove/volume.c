/* cove volume: create, ls, inspect, rm, prune, exists.  The records are
   storage/'s (volumes section); which containers use a volume is read
   from their records (cove_volumes_users).  */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/format.h"
#include "cmd/cove/listing.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "cmd/cove/runvolumes.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"
#include "storage/storage.h"

enum
{
  OPT_HELP = 1, OPT_LABEL, OPT_IGNORE, OPT_DRIVER, OPT_OPT, OPT_QUIET,
  OPT_FORMAT, OPT_FILTER, OPT_NOHEADING, OPT_ALL, OPT_FORCE,
};

/* What one subcommand was given.  */
struct vol_args
{
  char **labels, **filters, **opts;
  const char *format, *driver;
  bool ignore, quiet, noheading, all, force;
  char **rest;       /* positional arguments (borrowed) */
  int nrest;
};

static void
vol_args_free (struct vol_args *a)
{
  cove_strv_free (a->labels);
  cove_strv_free (a->filters);
  cove_strv_free (a->opts);
  free (a->rest);
}

/* Parse ARGV with OPTS into A.  Returns 0, 1 after --help (printed), or
   an exit status > 1 after an error (printed).  */
static int
parse_args (int argc, char **argv, const struct cove_opt *opts,
            const char *usage, const char *desc, struct vol_args *a)
{
  memset (a, 0, sizeof *a);
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, opts, argc, argv, true);
  const char *v;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    {
      bool on = v && strcmp (v, "true") == 0;
      switch (id)
        {
        case OPT_HELP:
          cove_opts_print_help (stdout, usage, desc, opts);
          cove_opts_free (&p);
          return 1;
        case OPT_LABEL: cove_strv_append (&a->labels, v); break;
        case OPT_FILTER: cove_strv_append (&a->filters, v); break;
        case OPT_FORMAT: a->format = v; break;
        case OPT_DRIVER: a->driver = v; break;
        case OPT_OPT: cove_strv_append (&a->opts, v); break;
        case OPT_IGNORE: a->ignore = on; break;
        case OPT_QUIET: a->quiet = on; break;
        case OPT_NOHEADING: a->noheading = on; break;
        case OPT_ALL: a->all = on; break;
        case OPT_FORCE: a->force = on; break;
        default: break;
        }
    }
  a->rest = cove_opts_rest (&p, &a->nrest);
  cove_opts_free (&p);
  if (id < 0)
    return cove_cmd_fail (&err, 125);
  return 0;
}

/* podman's `volume inspect` object for V.  */
static json_t *
volume_json (const struct cove_storage_volume *v)
{
  json_t *j = json_pack ("{s:s, s:s, s:s, s:s, s:O, s:s, s:O}",
                         "Name", v->name, "Driver", "local",
                         "Mountpoint", v->mountpoint,
                         "CreatedAt", v->created_at, "Labels", v->labels,
                         "Scope", "local", "Options", v->options);
  if (v->anonymous)
    json_object_set_new (j, "Anonymous", json_true ());
  json_object_set_new (j, "MountCount", json_integer (0));
  if (v->needs_copy_up)
    json_object_set_new (j, "NeedsCopyUp", json_true ());
  return j;
}

/* The users map, loaded once; NULL after an error (printed by caller).  */
static int
load_users (json_t **users, struct cove_error **err)
{
  if (*users)
    return 0;
  struct cove_storage_paths paths;
  if (cove_storage_paths_init (&paths, err) < 0)
    return -1;
  int r = cove_volumes_users (&paths, NULL, users, err);
  cove_storage_paths_free (&paths);
  return r;
}

/* ---- create ---- */

static const struct cove_opt create_opts[] = {
  { "driver", 'd', COVE_OPT_VALUE, OPT_DRIVER, "string", "Specify volume driver name (default \"local\")" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for create" },
  { "ignore", 0, COVE_OPT_BOOL, OPT_IGNORE, NULL, "Don't fail if volume already exists" },
  { "label", 'l', COVE_OPT_VALUE, OPT_LABEL, "stringArray", "Set metadata for a volume (e.g. --label mykey=value)" },
  { "opt", 'o', COVE_OPT_VALUE, OPT_OPT, "stringArray", "Set driver specific options (none for the local driver)" },
  { NULL, 0, 0, 0, NULL, NULL },
};

static int
volume_create (int argc, char **argv)
{
  struct vol_args a;
  int r = parse_args (argc, argv, create_opts, "cove volume create [options] [NAME]",
                      "Create a new volume", &a);
  if (r)
    {
      vol_args_free (&a);
      return r == 1 ? 0 : r;
    }
  cleanup_error struct cove_error *err = NULL;
  if (a.nrest > 1)
    r = cove_cmd_usage_error ("too many arguments, create takes at most 1 argument");
  else if (a.driver && strcmp (a.driver, "local") != 0)
    r = cove_cmd_usage_error ("volume plugin %s not found: no such volume plugin "
                              "(cove has the local driver only)", a.driver);
  else if (a.opts)
    /* The local driver's options mount a device or a tmpfs: not done.  */
    r = cove_cmd_usage_error ("invalid mount option %.*s for driver 'local': "
                              "invalid argument", (int) strcspn (a.opts[0], "="),
                              a.opts[0]);
  if (r)
    {
      vol_args_free (&a);
      return r;
    }
  const char *name = a.nrest ? a.rest[0] : NULL;
  struct cove_storage_paths paths;
  struct cove_storage_volume v;
  if (cove_storage_paths_init (&paths, &err) == 0)
    {
      r = cove_storage_volume_create (&paths, name, a.labels, false, &v, &err);
      if (r == 0)
        {
          printf ("%s\n", v.name);
          cove_storage_volume_free (&v);
        }
      else if (a.ignore && err->errnum == EEXIST)
        {
          printf ("%s\n", name);
          cove_error_release (&err);
          r = 0;
        }
      cove_storage_paths_free (&paths);
    }
  vol_args_free (&a);
  return err ? cove_cmd_fail (&err, 125) : 0;
}

/* ---- ls ---- */

static const struct cove_opt ls_opts[] = {
  { "filter", 'f', COVE_OPT_VALUE, OPT_FILTER, "stringArray", "Filter volume output (name=, label=, dangling=, driver=)" },
  { "format", 0, COVE_OPT_VALUE, OPT_FORMAT, "string", "Format volume output using JSON or a Go template" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for ls" },
  { "noheading", 'n', COVE_OPT_BOOL, OPT_NOHEADING, NULL, "Do not print headers" },
  { "quiet", 'q', COVE_OPT_BOOL, OPT_QUIET, NULL, "Print volume output in quiet mode" },
  { NULL, 0, 0, 0, NULL, NULL },
};

/* One --filter KEY=VALUE against V.  */
static int
filter_one (const struct cove_storage_volume *v, const char *f, json_t **users,
            bool *out, struct cove_error **err)
{
  const char *val = strchr (f, '=');
  size_t klen = val ? (size_t) (val - f) : strlen (f);
  val = val ? val + 1 : "";
  if (klen == 4 && strncmp (f, "name", 4) == 0)
    {
      /* podman matches names with a regular expression, unanchored.  */
      regex_t re;
      if (regcomp (&re, val, REG_EXTENDED | REG_NOSUB) != 0)
        return cove_error_set (err, EINVAL, "invalid filter `%s`: bad "
                               "regular expression", f);
      *out = regexec (&re, v->name, 0, NULL, 0) == 0;
      regfree (&re);
    }
  else if (klen == 5 && strncmp (f, "label", 5) == 0)
    {
      const char *eq = strchr (val, '=');
      cleanup_free char *key = eq ? xstrndup (val, eq - val) : xstrdup (val);
      const char *have = json_string_value (json_object_get (v->labels, key));
      *out = have && (eq == NULL || strcmp (have, eq + 1) == 0);
    }
  else if (klen == 8 && strncmp (f, "dangling", 8) == 0)
    {
      if (load_users (users, err) < 0)
        return -1;
      bool dangling = json_object_get (*users, v->name) == NULL;
      *out = dangling == (strcmp (val, "true") == 0 || strcmp (val, "1") == 0);
    }
  else if (klen == 6 && strncmp (f, "driver", 6) == 0)
    *out = strcmp (val, "local") == 0;
  else
    return cove_error_set_plain (err, EINVAL, "%.*s is an invalid volume "
                                 "filter", (int) klen, f);
  return 0;
}

/* Filters of one key are OR'ed, different keys AND'ed, as in podman.  */
static int
passes (const struct cove_storage_volume *v, char **filters, json_t **users,
        bool *out, struct cove_error **err)
{
  *out = true;
  for (size_t i = 0; filters && filters[i]; i++)
    {
      size_t klen = strcspn (filters[i], "=");
      bool any = false;
      for (size_t k = 0; filters[k]; k++)
        {
          bool m = false;
          if (strncmp (filters[k], filters[i], klen) != 0
              || filters[k][klen] != filters[i][klen])
            continue;
          if (filter_one (v, filters[k], users, &m, err) < 0)
            return -1;
          any = any || m;
        }
      if (!any)
        {
          *out = false;
          return 0;
        }
    }
  return 0;
}

/* Refuse an unknown filter before anything is listed, as podman.  */
static int
check_filters (char **filters, struct cove_error **err)
{
  static const char *const keys[] = { "name", "label", "dangling", "driver",
                                      NULL };
  for (size_t i = 0; filters && filters[i]; i++)
    {
      size_t klen = strcspn (filters[i], "=");
      bool known = false;
      for (size_t k = 0; keys[k] && !known; k++)
        known = strlen (keys[k]) == klen && strncmp (keys[k], filters[i], klen) == 0;
      if (!known || filters[i][klen] != '=')
        return cove_error_set_plain (err, EINVAL, "%.*s is an invalid volume "
                                     "filter", (int) klen, filters[i]);
    }
  return 0;
}

/* The volumes passing FILTERS, as inspect objects.  */
static json_t *
matching (char **filters, struct cove_error **err)
{
  if (check_filters (filters, err) < 0)
    return NULL;
  struct cove_storage_paths paths;
  if (cove_storage_paths_init (&paths, err) < 0)
    return NULL;
  struct cove_storage_volume *all = NULL;
  size_t n = 0;
  char **warnings = NULL;
  int r = cove_storage_volume_list (&paths, &all, &n, &warnings, err);
  cove_storage_paths_free (&paths);
  if (r < 0)
    return NULL;
  for (size_t i = 0; warnings[i]; i++)
    fprintf (stderr, "WARN[0000] %s\n", warnings[i]);
  cove_strv_free (warnings);
  json_t *users = NULL, *out = json_array ();
  for (size_t i = 0; i < n && r == 0; i++)
    {
      bool ok;
      r = passes (&all[i], filters, &users, &ok, err);
      if (r == 0 && ok)
        json_array_append_new (out, volume_json (&all[i]));
    }
  cove_storage_volume_list_free (all, n);
  json_decref (users);
  if (r < 0)
    {
      json_decref (out);
      return NULL;
    }
  return out;
}

static int
volume_ls (int argc, char **argv)
{
  struct vol_args a;
  int r = parse_args (argc, argv, ls_opts, "cove volume ls [options]",
                      "List volumes", &a);
  if (r == 0 && a.nrest > 0)
    r = cove_cmd_usage_error ("`cove volume ls` takes no arguments");
  if (r)
    {
      vol_args_free (&a);
      return r == 1 ? 0 : r;
    }
  cleanup_error struct cove_error *err = NULL;
  json_t *items = matching (a.filters, &err);
  if (items == NULL)
    r = cove_cmd_fail (&err, 125);
  else
    {
      static const char *const headers[] = { "Name", "VOLUME NAME", NULL };
      r = cove_listing_print (items, items, a.quiet ? "{{.Name}}" : a.format,
                              "table {{.Driver}}\t{{.Name}}", headers,
                              a.noheading);
      json_decref (items);
    }
  vol_args_free (&a);
  return r;
}


/* ---- inspect ---- */

static const struct cove_opt inspect_opts[] = {
  { "all", 'a', COVE_OPT_BOOL, OPT_ALL, NULL, "Inspect all volumes" },
  { "format", 'f', COVE_OPT_VALUE, OPT_FORMAT, "string", "Format volume output using Go template" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for inspect" },
  { NULL, 0, 0, 0, NULL, NULL },
};

/* Print DOCS as podman's inspect: an indented JSON array, or FORMAT for
   each.  */
static int
print_docs (json_t *docs, const char *format)
{
  if (format == NULL || cove_format_is_json (format))
    {
      json_dumpf (docs, stdout, JSON_INDENT (4) | JSON_PRESERVE_ORDER);
      fputc ('\n', stdout);
      return 0;
    }
  return cove_listing_print (docs, docs, format, format, NULL, true);
}

static int
volume_inspect (int argc, char **argv)
{
  struct vol_args a;
  int r = parse_args (argc, argv, inspect_opts,
                      "cove volume inspect [options] VOLUME [VOLUME...]",
                      "Display detailed information on one or more volumes", &a);
  if (r == 0 && a.nrest == 0 && !a.all)
    r = cove_cmd_usage_error ("provide one or more volume names or use --all");
  else if (r == 0 && a.nrest > 0 && a.all)
    r = cove_cmd_usage_error ("provide one or more volume names or use --all, "
                              "not both");
  if (r)
    {
      vol_args_free (&a);
      return r == 1 ? 0 : r;
    }
  cleanup_error struct cove_error *err = NULL;
  json_t *docs = a.all ? matching (NULL, &err) : json_array ();
  struct cove_storage_paths paths;
  if (docs && cove_storage_paths_init (&paths, &err) == 0)
    {
      for (int i = 0; i < a.nrest && err == NULL; i++)
        {
          struct cove_storage_volume v;
          if (cove_storage_volume_load (&paths, a.rest[i], &v, &err) < 0)
            {
              if (err->errnum == ENOENT)
                {
                  cove_error_release (&err);
                  cove_error_set_plain (&err, ENOENT, "inspecting object: no "
                                        "such volume %s", a.rest[i]);
                }
              break;
            }
          json_array_append_new (docs, volume_json (&v));
          cove_storage_volume_free (&v);
        }
      cove_storage_paths_free (&paths);
    }
  /* As podman: what was found is printed, then the error.  */
  r = docs ? print_docs (docs, a.format) : 0;
  json_decref (docs);
  vol_args_free (&a);
  return err ? cove_cmd_fail (&err, 125) : r;
}

/* ---- rm, prune ---- */

static const struct cove_opt rm_opts[] = {
  { "all", 'a', COVE_OPT_BOOL, OPT_ALL, NULL, "Remove all volumes" },
  { "force", 'f', COVE_OPT_BOOL, OPT_FORCE, NULL, "Do not fail on a volume that does not exist" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for rm" },
  { NULL, 0, 0, 0, NULL, NULL },
};

/* Remove NAME unless a container uses it (podman's error).  */
static int
remove_one (const struct cove_storage_paths *paths, json_t *users,
            const char *name, struct cove_error **err)
{
  json_t *ids = json_object_get (users, name);
  if (ids)
    {
      cleanup_free char *list = xstrdup ("");
      size_t i;
      json_t *e;
      json_array_foreach (ids, i, e)
        {
          char *n = xasprintf ("%s%s%s", list, i ? ", " : "",
                               json_string_value (e));
          free (list);
          list = n;
        }
      return cove_error_set_plain (err, EBUSY, "volume %s is being used by "
                                   "the following container(s): %s: volume "
                                   "is being used", name, list);
    }
  return cove_storage_volume_remove (paths, name, err);
}

/* Remove each of NAMES (N) and print its name; the first error is
   printed last, the others before it, as podman.  */
static int
remove_names (char **names, size_t n, bool force)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_storage_paths paths;
  json_t *users = NULL;
  if (cove_cmd_enter_userns (&err) < 0 || cove_storage_paths_init (&paths, &err) < 0)
    return cove_cmd_fail (&err, 125);
  int status = 0;
  if (cove_volumes_users (&paths, NULL, &users, &err) < 0)
    status = cove_cmd_fail (&err, 125);
  for (size_t i = 0; i < n && status == 0; i++)
    {
      if (remove_one (&paths, users, names[i], &err) == 0)
        {
          printf ("%s\n", names[i]);
          continue;
        }
      if (force && err->errnum == ENOENT)
        cove_error_release (&err);
      else
        {
          fflush (stdout);
          cove_cmd_fail (&err, 125);
          status = 125;
        }
    }
  json_decref (users);
  cove_storage_paths_free (&paths);
  return status;
}

/* The names of the volumes FILTERS select (with "dangling=true" for
   prune).  */
static char **
select_names (char **filters, size_t *out_n, struct cove_error **err)
{
  json_t *items = matching (filters, err);
  if (items == NULL)
    return NULL;
  char **names = xmalloc0 ((json_array_size (items) + 1) * sizeof (char *));
  size_t i;
  json_t *e;
  json_array_foreach (items, i, e)
    names[i] = xstrdup (json_string_value (json_object_get (e, "Name")));
  *out_n = json_array_size (items);
  json_decref (items);
  return names;
}

static int
volume_rm (int argc, char **argv)
{
  struct vol_args a;
  int r = parse_args (argc, argv, rm_opts,
                      "cove volume rm [options] VOLUME [VOLUME...]",
                      "Remove one or more volumes", &a);
  if (r == 0 && (a.nrest == 0) == !a.all)
    r = cove_cmd_usage_error ("choose either one or more volumes or all");
  if (r)
    {
      vol_args_free (&a);
      return r == 1 ? 0 : r;
    }
  if (!a.all)
    r = remove_names (a.rest, a.nrest, a.force);
  else
    {
      cleanup_error struct cove_error *err = NULL;
      size_t n = 0;
      char **names = select_names (NULL, &n, &err);
      r = names ? remove_names (names, n, a.force) : cove_cmd_fail (&err, 125);
      cove_strv_free (names);
    }
  vol_args_free (&a);
  return r;
}

static const struct cove_opt prune_opts[] = {
  { "filter", 0, COVE_OPT_VALUE, OPT_FILTER, "stringArray", "Provide filter values (e.g. 'label=<key>=<value>')" },
  { "force", 'f', COVE_OPT_BOOL, OPT_FORCE, NULL, "Do not prompt for confirmation" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for prune" },
  { NULL, 0, 0, 0, NULL, NULL },
};

/* podman's question, after the volumes that would go.  */
static bool
confirm (char **names)
{
  fputs ("WARNING! This will remove all volumes not used by at least one "
         "container. The following volumes will be removed:\n", stdout);
  for (size_t i = 0; names[i]; i++)
    printf ("%s\n", names[i]);
  return cove_cmd_confirm (stdout, "");
}

static int
volume_prune (int argc, char **argv)
{
  struct vol_args a;
  int r = parse_args (argc, argv, prune_opts, "cove volume prune [options]",
                      "Remove all unused volumes", &a);
  if (r == 0 && a.nrest > 0)
    r = cove_cmd_usage_error ("`cove volume prune` takes no arguments");
  if (r)
    {
      vol_args_free (&a);
      return r == 1 ? 0 : r;
    }
  cove_strv_append (&a.filters, "dangling=true");
  cleanup_error struct cove_error *err = NULL;
  size_t n = 0;
  char **names = select_names (a.filters, &n, &err);
  if (names == NULL)
    r = cove_cmd_fail (&err, 125);
  else if (n > 0 && (a.force || confirm (names)))
    r = remove_names (names, n, true);
  cove_strv_free (names);
  vol_args_free (&a);
  return r;
}

/* ---- exists ---- */

static const struct cove_opt exists_opts[] = {
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for exists" },
  { NULL, 0, 0, 0, NULL, NULL },
};

static int
volume_exists (int argc, char **argv)
{
  struct vol_args a;
  int r = parse_args (argc, argv, exists_opts, "cove volume exists VOLUME",
                      "Check if the given volume exists", &a);
  if (r == 0 && a.nrest != 1)
    r = cove_cmd_usage_error ("`cove volume exists` requires exactly 1 argument");
  if (r)
    {
      vol_args_free (&a);
      return r == 1 ? 0 : r;
    }
  cleanup_error struct cove_error *err = NULL;
  struct cove_storage_paths paths;
  struct cove_storage_volume v;
  if (cove_storage_paths_init (&paths, &err) < 0)
    r = cove_cmd_fail (&err, 125);
  else
    {
      if (cove_storage_volume_load (&paths, a.rest[0], &v, &err) == 0)
        cove_storage_volume_free (&v);
      else
        r = err->errnum == ENOENT ? 1 : cove_cmd_fail (&err, 125);
      cove_storage_paths_free (&paths);
    }
  vol_args_free (&a);
  return r;
}

/* ---- cove volume ---- */

static const struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} volume_commands[] = {
  { "create", volume_create, "Create a new volume" },
  { "exists", volume_exists, "Check if volume exists" },
  { "inspect", volume_inspect, "Display detailed information on one or more volumes" },
  { "list", volume_ls, "List volumes" },
  { "ls", volume_ls, "List volumes" },
  { "prune", volume_prune, "Remove all unused volumes" },
  { "remove", volume_rm, "Remove one or more volumes" },
  { "rm", volume_rm, "Remove one or more volumes" },
  { NULL, NULL, NULL },
};

int
cove_cmd_volume (int argc, char **argv)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      FILE *out = argc < 2 ? stderr : stdout;
      fputs ("Manage volumes\n\nUsage:\n  cove volume [command]\n\n"
             "Available Commands:\n", out);
      for (size_t i = 0; volume_commands[i].name; i++)
        fprintf (out, "  %-12s %s\n", volume_commands[i].name,
                 volume_commands[i].summary);
      return argc < 2 ? cove_cmd_usage_error ("missing command 'cove volume COMMAND'") : 0;
    }
  for (size_t i = 0; volume_commands[i].name; i++)
    if (strcmp (volume_commands[i].name, argv[1]) == 0)
      return volume_commands[i].run (argc - 1, argv + 1);
  return cove_cmd_usage_error ("unrecognized command `cove volume %s`\n"
                               "Try 'cove volume --help' for more information",
                               argv[1]);
}
