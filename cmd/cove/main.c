/* cove: the command table.  Parses the global options, finds the command,
   runs it, and exits with what it returns.  */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/output.h"
#include "pkg/util/cleanup.h"
#include "rootless/rootless.h"
#include "storage/storage.h"

struct command
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
};

static const struct command commands[] = {
  { "info", cove_cmd_info, "Display cove related system information" },
  { "run", cove_cmd_run, "Run a command in a new container" },
  { "unshare", cove_cmd_unshare, "Run a command in a modified user namespace" },
  { "version", cove_cmd_version, "Display the cove version information" },
  { NULL, NULL, NULL },
};

int
cove_cmd_fail (struct cove_error **err, int status)
{
  cleanup_free char *s = cove_error_string (*err);
  fprintf (stderr, "Error: %s\n", s);
  cove_error_release (err);
  return status ? status : 125;
}

int
cove_cmd_usage_error (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fputs ("Error: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  return 125;
}

int
cove_cmd_enter_userns (struct cove_error **err)
{
  struct cove_storage_paths paths;
  if (cove_storage_paths_init (&paths, err) < 0)
    return -1;
  int r = cove_rootless_enter (paths.runtime_dir, err);
  cove_storage_paths_free (&paths);
  return r;
}

static void
print_help (FILE *out)
{
  fputs ("Manage pods, containers and images\n\n"
         "Usage:\n  cove [options] [command]\n\nAvailable Commands:\n", out);
  for (const struct command *c = commands; c->name; c++)
    fprintf (out, "  %-12s %s\n", c->name, c->summary);
  fputs ("\nOptions:\n"
         "  -h, --help      help for cove\n"
         "  -v, --version   version for cove\n"
         "\nSee `cove COMMAND --help` or `man cove-COMMAND` for a command's "
         "options.\n", out);
}

int
main (int argc, char **argv)
{
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++)
    {
      const char *a = argv[i];
      if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          print_help (stdout);
          return 0;
        }
      if (strcmp (a, "-v") == 0 || strcmp (a, "--version") == 0)
        {
          printf ("cove version %s\n", COVE_VERSION);
          return 0;
        }
      return cove_cmd_usage_error ("unknown flag: %s\n"
                                   "See 'cove --help'", a);
    }
  if (i == argc)
    {
      print_help (stderr);
      return cove_cmd_usage_error ("missing command 'cove COMMAND'");
    }
  if (strcmp (argv[i], "help") == 0)
    {
      if (i + 1 == argc)
        {
          print_help (stdout);
          return 0;
        }
      char *help_argv[] = { argv[i + 1], (char *) "--help", NULL };
      for (const struct command *c = commands; c->name; c++)
        if (strcmp (c->name, argv[i + 1]) == 0)
          return c->run (2, help_argv);
      return cove_cmd_usage_error ("unrecognized command `cove %s`", argv[i + 1]);
    }
  for (const struct command *c = commands; c->name; c++)
    if (strcmp (c->name, argv[i]) == 0)
      return c->run (argc - i, argv + i);
  return cove_cmd_usage_error ("unrecognized command `cove %s`\n"
                               "Try 'cove --help' for more information",
                               argv[i]);
}
