/* cove system: check (and repair) the container store; info.  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcmd.h"
#include "cmd/cove/output.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

static const char *const kind_names[] = {
  [COVE_STATE_PROBLEM_CORRUPT] = "corrupt record",
  [COVE_STATE_PROBLEM_HALF_CREATED] = "half-created record",
  [COVE_STATE_PROBLEM_DANGLING_NAME] = "dangling name",
  [COVE_STATE_PROBLEM_UNNAMED] = "unnamed record",
  [COVE_STATE_PROBLEM_LEFTOVER] = "leftover",
};

/* Records that say running while their process is gone (a monitor killed
   with SIGKILL, a reboot): loading one corrects it.  */
static size_t
fix_stale (struct cove_state_store *st, bool repair)
{
  struct cove_state_container *all = NULL;
  size_t n = 0, stale = 0;
  char **warnings = NULL;
  if (cove_state_list (st, &all, &n, &warnings, NULL) < 0)
    return 0;
  cove_strv_free (warnings);
  for (size_t i = 0; i < n; i++)
    {
      bool monitor_alive;
      if (cove_state_effective (&all[i], &monitor_alive) == all[i].state
          || monitor_alive)
        continue;
      stale++;
      struct cove_state_container c;
      if (repair && cove_ctr_load (st, all[i].id, &c, NULL) == 0)
        cove_state_container_free (&c);
      printf ("  %s: stale state: says %s but its process is gone%s\n",
              all[i].id, cove_state_status_string (all[i].state),
              repair ? " (recorded as exited)" : "");
    }
  cove_state_container_list_free (all, n);
  return stale;
}

static const struct cove_opt check_opts[] = {
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for check" },
  { "quiet", 'q', COVE_OPT_BOOL, CTR_OPT_QUIET, NULL, "Print nothing when the store is sound" },
  { "repair", 'r', COVE_OPT_BOOL, CTR_OPT_REPAIR, NULL, "Repair what is found" },
  { NULL, 0, 0, 0, NULL, NULL },
};

int
cove_cmd_system_check (int argc, char **argv)
{
  struct cove_ctr_flags f;
  cove_ctr_flags_init (&f);
  int n, status;
  cleanup_free char **rest = cove_ctr_parse (argc, argv, check_opts,
                                             "cove system check [options]",
                                             "Check the container store for consistency",
                                             cove_ctr_flags_opt, &f, &n, &status);
  if (rest == NULL)
    return status;
  if (n > 0)
    return cove_cmd_usage_error ("`cove system check` takes no arguments");
  bool repair = f.repair, quiet = f.quiet;
  cleanup_error struct cove_error *err = NULL;
  struct cove_ctr_cmd cc;
  if (cove_ctr_cmd_open (&cc, repair, &err) < 0)
    return cove_cmd_fail (&err, 125);
  struct cove_state_problem *v = NULL;
  size_t np = 0;
  if (cove_state_check (&cc.st, repair, &v, &np, &err) < 0)
    {
      cove_ctr_cmd_close (&cc);
      return cove_cmd_fail (&err, 125);
    }
  size_t unrepaired = 0;
  for (size_t i = 0; i < np; i++)
    {
      printf ("  %s: %s: %s%s\n", v[i].path, kind_names[v[i].kind], v[i].msg,
              v[i].repaired ? " (repaired)" : "");
      unrepaired += !v[i].repaired;
    }
  size_t stale = fix_stale (&cc.st, repair);
  if (!repair)
    unrepaired += stale;
  if (np + stale == 0 && !quiet)
    printf ("No problems found\n");
  else if (np + stale > 0)
    printf ("%zu problem(s) found, %zu left%s\n", np + stale, unrepaired,
            unrepaired && !repair ? ": run `cove system check --repair`" : "");
  cove_state_problems_free (v, np);
  cove_ctr_cmd_close (&cc);
  return unrepaired ? 1 : 0;
}
