/* cove system: check (and repair) the container and pod stores; info.  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcmd.h"
#include "cmd/cove/ctrops.h"
#include "cmd/cove/output.h"
#include "cmd/cove/pod.h"
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

/* The problems of STORE (the container or the pod store) printed; the
   number found, *LEFT increased by those not repaired.  -1 on error.  */
static ssize_t
check_store (struct cove_state_store *store, bool repair, size_t *left,
             struct cove_error **err)
{
  struct cove_state_problem *v = NULL;
  size_t np = 0;
  if (cove_state_check (store, repair, &v, &np, err) < 0)
    return -1;
  for (size_t i = 0; i < np; i++)
    {
      printf ("  %s: %s: %s%s\n", v[i].path, kind_names[v[i].kind], v[i].msg,
              v[i].repaired ? " (repaired)" : "");
      *left += !v[i].repaired;
    }
  cove_state_problems_free (v, np);
  return (ssize_t) np;
}

static bool
has_id (const struct cove_state_container *v, size_t n, const char *id)
{
  for (size_t i = 0; id && i < n; i++)
    if (strcmp (v[i].id, id) == 0)
      return true;
  return false;
}

/* Pods and containers that point at each other: a pod whose infra
   container is gone (a `pod rm` killed before it removed the record) is
   removed with REPAIR when no container is left in it; a container whose
   pod is gone is reported, and removed with REPAIR when it is the pod's
   infra container (`cove rm` removes the others).  The number
   found; *LEFT increased by those not repaired.  */
static size_t
check_pod_links (struct cove_pod_cmd *pc, bool repair, size_t *left)
{
  struct cove_state_container *pods = NULL, *ctrs = NULL;
  size_t np = 0, nc = 0, found = 0;
  char **w1 = NULL, **w2 = NULL;
  if (cove_state_list (&pc->pods, &pods, &np, &w1, NULL) == 0
      && cove_state_list (&pc->st, &ctrs, &nc, &w2, NULL) == 0)
    {
      for (size_t i = 0; i < np; i++)
        {
          const char *infra = cove_ctr_extra_str (&pods[i], "infra_id");
          if (infra == NULL || has_id (ctrs, nc, infra))
            continue;
          bool empty = true;
          for (size_t k = 0; k < nc; k++)
            {
              const char *pod = cove_ctr_extra_str (&ctrs[k], "pod");
              if (pod != NULL && strcmp (pod, pods[i].id) == 0)
                empty = false;
            }
          bool fixed = repair && empty
                       && cove_state_remove (&pc->pods, pods[i].id, NULL) == 0;
          printf ("  %s: pod: its infra container %s is gone%s\n", pods[i].id,
                  infra, fixed ? " (pod removed)"
                         : empty ? "" : ": remove it with `cove pod rm -f`");
          found++;
          *left += !fixed;
        }
      for (size_t k = 0; k < nc; k++)
        {
          const char *pod = cove_ctr_extra_str (&ctrs[k], "pod");
          if (pod == NULL || has_id (pods, np, pod))
            continue;
          /* An infra container serves nothing without its pod.  */
          bool fixed = repair && cove_ctr_extra_bool (&ctrs[k], "pod_infra")
                       && cove_ctr_remove (&pc->paths, &pc->st, &ctrs[k], true,
                                           false, NULL) == 0;
          printf ("  %s: container: its pod %s is gone%s\n", ctrs[k].id, pod,
                  fixed ? " (infra container removed)"
                        : ": remove it with `cove rm -f`");
          found++;
          *left += !fixed;
        }
    }
  cove_strv_free (w1);
  cove_strv_free (w2);
  cove_state_container_list_free (pods, np);
  cove_state_container_list_free (ctrs, nc);
  return found;
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
  struct cove_pod_cmd pc;
  if (cove_pod_cmd_open (&pc, repair, &err) < 0)
    return cove_cmd_fail (&err, 125);
  size_t unrepaired = 0;
  ssize_t nc = check_store (&pc.st, repair, &unrepaired, &err);
  ssize_t np = nc < 0 ? -1 : check_store (&pc.pods, repair, &unrepaired, &err);
  if (np < 0)
    {
      cove_pod_cmd_close (&pc);
      return cove_cmd_fail (&err, 125);
    }
  size_t links = check_pod_links (&pc, repair, &unrepaired);
  size_t stale = fix_stale (&pc.st, repair);
  if (!repair)
    unrepaired += stale;
  size_t found = (size_t) nc + (size_t) np + links + stale;
  if (found == 0 && !quiet)
    printf ("No problems found\n");
  else if (found > 0)
    printf ("%zu problem(s) found, %zu left%s\n", found, unrepaired,
            unrepaired && !repair ? ": run `cove system check --repair`" : "");
  cove_pod_cmd_close (&pc);
  return unrepaired ? 1 : 0;
}
