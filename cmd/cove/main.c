/* cove: the command table.  Parses the global options, finds the command,
   runs it, and exits with what it returns.  */
#include <errno.h>
#include <stdarg.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/conf.h"
#include "cmd/cove/output.h"
#include "cmd/cove/runvolumes.h"
#include "cmd/cove/store.h"
#include "pkg/monitor/monitor.h"
#include "pkg/util/cleanup.h"
#include "rootless/rootless.h"
#include "storage/storage.h"

struct command
{
  const char *name;
  int (*run) (int argc, char **argv);  /* NULL in the light binary when heavy */
  const char *summary;
};

/* The light binary (`cove`) links only what the hot path needs (runtime,
   store records); commands that need libcurl, libarchive or libcrypto
   (pulling, pushing, archives, building) run in `cove-full`, which this
   binary execs: those libraries cost ~30 ms of loading per start here,
   which `cove run` and `cove ps` must not pay.  */
#ifdef COVE_LIGHT
#define HEAVY(fn) NULL
#else
#define HEAVY(fn) fn
#endif

static const struct command commands[] = {
  { "attach", cove_cmd_attach, "Attach to a running container" },
  { "build", HEAVY (cove_cmd_build), "Build an image using instructions from Containerfiles" },
  { "commit", HEAVY (cove_cmd_commit), "Create new image based on the changed container" },
  { "container", cove_cmd_container, "Manage containers" },
  { "cp", cove_cmd_cp, "Copy files/folders between a container and the local filesystem" },
  { "create", cove_cmd_create, "Create but do not start a container" },
  { "diff", cove_cmd_diff, "Display the changes to the object's file system" },
  { "exec", cove_cmd_exec, "Run a process in a running container" },
  { "export", HEAVY (cove_cmd_export), "Export container's filesystem contents as a tar archive" },
  { "history", cove_cmd_history, "Show history of a specified image" },
  { "image", cove_cmd_image, "Manage images" },
  { "images", cove_cmd_images, "List images in local storage" },
  { "import", HEAVY (cove_cmd_import), "Import a tarball to create a filesystem image" },
  { "info", cove_cmd_info, "Display cove related system information" },
  { "inspect", cove_cmd_inspect, "Display the configuration of object denoted by ID" },
  { "kill", cove_cmd_kill, "Kill one or more running containers with a specific signal" },
  { "load", HEAVY (cove_cmd_load), "Load image(s) from a tar archive" },
  { "login", HEAVY (cove_cmd_login), "Log in to a container registry" },
  { "logout", HEAVY (cove_cmd_logout), "Log out of a container registry" },
  { "logs", cove_cmd_logs, "Fetch the logs of one or more containers" },
  { "pause", cove_cmd_pause, "Pause all the processes in one or more containers" },
  { "pod", cove_cmd_pod, "Manage pods" },
  { "port", cove_cmd_port, "List port mappings or a specific mapping for the container" },
  { "pull", HEAVY (cove_cmd_pull), "Pull an image from a registry" },
  { "push", HEAVY (cove_cmd_push), "Push an image to a specified destination" },
  { "ps", cove_cmd_ps, "List containers" },
  { "rename", cove_cmd_rename, "Rename an existing container" },
  { "restart", cove_cmd_restart, "Restart one or more containers" },
  { "rm", cove_cmd_rm, "Remove one or more containers" },
  { "rmi", cove_cmd_rmi, "Removes one or more images from local storage" },
  { "run", cove_cmd_run, "Run a command in a new container" },
  { "save", HEAVY (cove_cmd_save), "Save image(s) to an archive" },
  { "search", HEAVY (cove_cmd_search), "Search a registry for an image" },
  { "start", cove_cmd_start, "Start one or more containers" },
  { "stop", cove_cmd_stop, "Stop one or more containers" },
  { "system", cove_cmd_system, "Manage cove" },
  { "tag", cove_cmd_tag, "Add an additional name to a local image" },
  { "top", cove_cmd_top, "Display the running processes of a container" },
  { "unpause", cove_cmd_unpause, "Unpause the processes in one or more containers" },
  { "unshare", cove_cmd_unshare, "Run a command in a modified user namespace" },
  { "untag", cove_cmd_untag, "Remove a name from a local image" },
  { "version", cove_cmd_version, "Display the cove version information" },
  { "volume", cove_cmd_volume, "Manage volumes" },
  { "wait", cove_cmd_wait, "Block on one or more containers" },
  { NULL, NULL, NULL },
};

static const struct command image_commands[] = {
  { "build", HEAVY (cove_cmd_build), "Build an image using instructions from Containerfiles" },
  { "history", cove_cmd_history, "Show history of a specified image" },
  { "import", HEAVY (cove_cmd_import), "Import a tarball to create a filesystem image" },
  { "inspect", cove_cmd_image_inspect, "Display the configuration of an image" },
  { "list", cove_cmd_images, "List images in local storage" },
  { "load", HEAVY (cove_cmd_load), "Load image(s) from a tar archive" },
  { "ls", cove_cmd_images, "List images in local storage" },
  { "prune", cove_cmd_image_prune, "Remove unused images" },
  { "pull", HEAVY (cove_cmd_pull), "Pull an image from a registry" },
  { "push", HEAVY (cove_cmd_push), "Push an image to a specified destination" },
  { "rm", cove_cmd_rmi, "Removes one or more images from local storage" },
  { "save", HEAVY (cove_cmd_save), "Save image(s) to an archive" },
  { "tag", cove_cmd_tag, "Add an additional name to a local image" },
  { "untag", cove_cmd_untag, "Remove a name from a local image" },
  { NULL, NULL, NULL },
};

static const struct command container_commands[] = {
  { "attach", cove_cmd_attach, "Attach to a running container" },
  { "commit", HEAVY (cove_cmd_commit), "Create new image based on the changed container" },
  { "cp", cove_cmd_cp, "Copy files/folders between a container and the local filesystem" },
  { "create", cove_cmd_create, "Create but do not start a container" },
  { "diff", cove_cmd_diff, "Inspect changes on container's file systems" },
  { "exec", cove_cmd_exec, "Run a process in a running container" },
  { "exists", cove_cmd_container_exists, "Check if a container exists in local storage" },
  { "export", HEAVY (cove_cmd_export), "Export container's filesystem contents as a tar archive" },
  { "inspect", cove_cmd_container_inspect, "Display the configuration of a container" },
  { "kill", cove_cmd_kill, "Kill one or more running containers with a specific signal" },
  { "list", cove_cmd_ps, "List containers" },
  { "logs", cove_cmd_logs, "Fetch the logs of one or more containers" },
  { "ls", cove_cmd_ps, "List containers" },
  { "pause", cove_cmd_pause, "Pause all the processes in one or more containers" },
  { "port", cove_cmd_port, "List port mappings or a specific mapping for the container" },
  { "prune", cove_cmd_container_prune, "Remove all non running containers" },
  { "ps", cove_cmd_ps, "List containers" },
  { "rename", cove_cmd_rename, "Rename an existing container" },
  { "restart", cove_cmd_restart, "Restart one or more containers" },
  { "rm", cove_cmd_rm, "Remove one or more containers" },
  { "run", cove_cmd_run, "Run a command in a new container" },
  { "start", cove_cmd_start, "Start one or more containers" },
  { "stop", cove_cmd_stop, "Stop one or more containers" },
  { "top", cove_cmd_top, "Display the running processes of a container" },
  { "unpause", cove_cmd_unpause, "Unpause the processes in one or more containers" },
  { "wait", cove_cmd_wait, "Block on one or more containers" },
  { NULL, NULL, NULL },
};

static const struct command system_commands[] = {
  { "check", cove_cmd_system_check, "Check the container store for consistency and repair it" },
  { "info", cove_cmd_info, "Display cove related system information" },
  { NULL, NULL, NULL },
};

/* Run a heavy command in cove-full, with the same arguments.  */
static int
exec_full (char **argv)
{
  char *full = cove_cmd_full_binary ();
  char *saved = argv[0];
  argv[0] = full;
  execv (full, argv);
  argv[0] = saved;
  int e = errno;
  fprintf (stderr, "Error: run `%s`: %s\n", full, strerror (e));
  free (full);
  return e == ENOENT ? 127 : 126;
}

static int
dispatch (const struct command *table, int argc, char **argv, char **full_argv)
{
  for (const struct command *c = table; c->name; c++)
    if (strcmp (c->name, argv[0]) == 0)
      return c->run ? c->run (argc, argv) : exec_full (full_argv);
  return -1;
}

/* `cove GROUP SUBCOMMAND ...` (image, container).  */
static int
group (const char *name, const char *summary, const struct command *table,
       int argc, char **argv)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      FILE *out = argc < 2 ? stderr : stdout;
      fprintf (out, "%s\n\nUsage:\n  cove %s [command]\n\n"
               "Available Commands:\n", summary, name);
      for (const struct command *c = table; c->name; c++)
        fprintf (out, "  %-12s %s\n", c->name, c->summary);
      return argc < 2 ? cove_cmd_usage_error ("missing command 'cove %s COMMAND'", name) : 0;
    }
  /* argv - 1 is the full command line from the group on; exec_full gets
     the original argv, whose [0] it replaces.  */
  int r = dispatch (table, argc - 1, argv + 1, argv - 1);
  if (r < 0)
    return cove_cmd_usage_error ("unrecognized command `cove %s %s`\n"
                                 "Try 'cove %s --help' for more information",
                                 name, argv[1], name);
  return r;
}

int
cove_cmd_image (int argc, char **argv)
{
  return group ("image", "Manage images", image_commands, argc, argv);
}

int
cove_cmd_system (int argc, char **argv)
{
  return group ("system", "Manage cove", system_commands, argc, argv);
}

int
cove_cmd_container (int argc, char **argv)
{
  return group ("container", "Manage containers", container_commands, argc, argv);
}

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

bool
cove_cmd_confirm (FILE *out, const char *warning)
{
  fputs (warning, out);
  fputs ("Are you sure you want to continue? [y/N] ", out);
  fflush (out);
  char line[64];
  if (fgets (line, sizeof line, stdin) == NULL)
    return false;
  return line[0] == 'y' || line[0] == 'Y';
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
         "      --storage-driver string   Select which storage driver is used "
         "(overlay, fuse-overlayfs, vfs, auto)\n"
         "  -v, --version   version for cove\n"
         "\nSee `cove COMMAND --help` or `man cove-COMMAND` for a command's "
         "options.\n", out);
}

/* An --rm container's anonymous volumes go with it, as in podman.  */
static void
monitor_removed (const char *data_dir, const char *runtime_dir,
                 const struct cove_state_container *c)
{
  struct cove_storage_paths paths = { .data_dir = (char *) data_dir,
                                      .runtime_dir = (char *) runtime_dir };
  (void) cove_volumes_remove_anonymous (&paths, c, NULL);
}

static const struct cove_monitor_hooks monitor_hooks = {
  .removed = monitor_removed,
};

int
main (int argc, char **argv)
{
  /* The pause process that keeps the user namespace (rootless/pause.c).  */
  if (argc == 1 && strcmp (argv[0], COVE_ROOTLESS_PAUSE_NAME) == 0)
    for (;;)
      pause ();
  /* A container's monitor (pkg/monitor/launch.c execs it so).  */
  if (strcmp (argv[0], COVE_MONITOR_NAME) == 0)
    cove_monitor_main (argc, argv, &monitor_hooks);
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
      /* The global --storage-driver reaches the command, and cove-full,
         through the environment.  */
      if (strncmp (a, "--storage-driver=", 17) == 0)
        {
          setenv (COVE_ENV_STORAGE_DRIVER, a + 17, 1);
          continue;
        }
      if (strcmp (a, "--storage-driver") == 0 && i + 1 < argc)
        {
          setenv (COVE_ENV_STORAGE_DRIVER, argv[++i], 1);
          continue;
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
      char *help_argv[] = { argv[0], argv[i + 1], (char *) "--help", NULL };
      int r = dispatch (commands, 2, help_argv + 1, help_argv);
      if (r >= 0)
        return r;
      return cove_cmd_usage_error ("unrecognized command `cove %s`", argv[i + 1]);
    }
  /* cove-full is exec'd with the whole command line, global options
     included; argv[i - 1] is a slot whose content exec_full replaces.  */
  int r = dispatch (commands, argc - i, argv + i, argv + i - 1);
  if (r >= 0)
    return r;
  return cove_cmd_usage_error ("unrecognized command `cove %s`\n"
                               "Try 'cove --help' for more information",
                               argv[i]);
}
