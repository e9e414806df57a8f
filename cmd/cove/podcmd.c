/* cove pod: the pod subcommands.  */
#include <stdio.h>
#include <string.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/output.h"
#include "cmd/cove/pod.h"

static const struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} pod_commands[] = {
  { "create", cove_cmd_pod_create, "Create a new empty pod" },
  { "exists", cove_cmd_pod_exists, "Check if a pod exists in local storage" },
  { "inspect", cove_cmd_pod_inspect, "Displays a pod configuration" },
  { "kill", cove_cmd_pod_kill, "Send the specified signal or SIGKILL to containers in pod" },
  { "list", cove_cmd_pod_ps, "List pods" },
  { "logs", cove_cmd_pod_logs, "Fetch logs for pod with one or more containers" },
  { "ls", cove_cmd_pod_ps, "List pods" },
  { "prune", cove_cmd_pod_prune, "Remove all stopped pods and their containers" },
  { "ps", cove_cmd_pod_ps, "List pods" },
  { "restart", cove_cmd_pod_restart, "Restart one or more pods" },
  { "rm", cove_cmd_pod_rm, "Remove one or more pods" },
  { "start", cove_cmd_pod_start, "Start one or more pods" },
  { "stop", cove_cmd_pod_stop, "Stop one or more pods" },
  { "top", cove_cmd_pod_top, "Display the running processes of containers in a pod" },
  { NULL, NULL, NULL },
};

int
cove_cmd_pod (int argc, char **argv)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      FILE *out = argc < 2 ? stderr : stdout;
      fputs ("Manage pods\n\nUsage:\n  cove pod [command]\n\n"
             "Available Commands:\n", out);
      for (size_t i = 0; pod_commands[i].name; i++)
        fprintf (out, "  %-12s %s\n", pod_commands[i].name,
                 pod_commands[i].summary);
      return argc < 2 ? cove_cmd_usage_error ("missing command 'cove pod COMMAND'") : 0;
    }
  for (size_t i = 0; pod_commands[i].name; i++)
    if (strcmp (pod_commands[i].name, argv[1]) == 0)
      return pod_commands[i].run (argc - 1, argv + 1);
  return cove_cmd_usage_error ("unrecognized command `cove pod %s`\n"
                               "Try 'cove pod --help' for more information",
                               argv[1]);
}
