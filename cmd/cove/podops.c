/* cove pod start, stop, restart, kill, rm, prune, exists: what the
   container commands do, to every container of a pod, the infra
   container first up and last down.  */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcmd.h"
#include "cmd/cove/ctrcreate.h"
#include "cmd/cove/ctrops.h"
#include "cmd/cove/output.h"
#include "cmd/cove/pod.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

typedef int (*pod_action) (struct cove_pod_cmd *pc,
                           const struct cove_state_container *pod,
                           struct cove_state_container *v, size_t n,
                           const struct cove_ctr_flags *f,
                           struct cove_error **err);

/* The ids of every pod.  */
static char **
all_pods (struct cove_state_store *pods, struct cove_error **err)
{
  struct cove_state_container *v = NULL;
  size_t n = 0;
  char **warnings = NULL;
  if (cove_state_list (pods, &v, &n, &warnings, err) < 0)
    return NULL;
  cove_strv_free (warnings);
  char **ids = xmalloc0 (sizeof *ids);
  for (size_t i = 0; i < n; i++)
    cove_strv_append (&ids, v[i].id);
  cove_state_container_list_free (v, n);
  return ids;
}

static int rm_pod (struct cove_pod_cmd *pc, const struct cove_state_container *pod,
                   struct cove_state_container *v, size_t n,
                   const struct cove_ctr_flags *f, struct cove_error **err);

/* ACTION on the pod NAME and its containers; prints the pod's id.
   Returns 0 or an exit status after printing the error (podman's 1 for
   pod rm of a missing pod).  */
static int
act_on (struct cove_pod_cmd *pc, const char *name,
        const struct cove_ctr_flags *f, pod_action action)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_state_container pod;
  if (cove_pod_load (&pc->pods, name, &pod, &err) < 0)
    {
      if (f->ignore && err->errnum == ENOENT)
        return 0;
      return cove_cmd_fail (&err, err->errnum == ENOENT && action == rm_pod ? 1 : 125);
    }
  struct cove_state_container *v = NULL;
  size_t n = 0;
  int r = cove_pod_members (&pc->st, pod.id, &v, &n, &err);
  if (r == 0)
    {
      r = action (pc, &pod, v, n, f, &err);
      cove_state_container_list_free (v, n);
    }
  /* 1: nothing was done (kill of a pod with nothing running), which
     podman does not report.  */
  if (r == 0)
    {
      printf ("%s\n", pod.id);
      fflush (stdout);
    }
  cove_state_container_free (&pod);
  return r < 0 ? cove_cmd_fail (&err, 125) : 0;
}

/* A pod command: TABLE's options, then ACTION on each pod named (or all
   with -a).  */
static int
pod_command (int argc, char **argv, const struct cove_opt *table,
             const char *usage, const char *desc, pod_action action)
{
  struct cove_ctr_flags f;
  cove_ctr_flags_init (&f);
  int n, status;
  cleanup_free char **rest = cove_ctr_parse (argc, argv, table, usage, desc,
                                             cove_ctr_flags_opt, &f, &n, &status);
  if (rest == NULL)
    return status;
  if (n == 0 && !f.all)
    return cove_cmd_usage_error ("you must provide pod name or id");
  if (n > 0 && f.all)
    return cove_cmd_usage_error ("when using the --all switch, you may not "
                                 "pass any pod names or IDs");
  cleanup_error struct cove_error *err = NULL;
  struct cove_pod_cmd pc;
  if (cove_pod_cmd_open (&pc, true, &err) < 0)
    return cove_cmd_fail (&err, 125);
  cleanup_strv char **names = f.all ? all_pods (&pc.pods, &err)
                                    : cove_strv_dup (rest);
  int ret = names ? 0 : cove_cmd_fail (&err, 125);
  for (size_t i = 0; names && names[i]; i++)
    {
      int r = act_on (&pc, names[i], &f, action);
      if (r)
        ret = r;
    }
  cove_pod_cmd_close (&pc);
  return ret;
}

/* ---- start ---- */

static int
start_pod (struct cove_pod_cmd *pc, const struct cove_state_container *pod,
           struct cove_state_container *v, size_t n,
           const struct cove_ctr_flags *f, struct cove_error **err)
{
  (void) f;
  if (cove_pod_infra_start (&pc->paths, &pc->st, pod, NULL, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      if (cove_ctr_extra_bool (&v[i], "pod_infra") || cove_pod_ctr_running (&v[i]))
        continue;
      int status;
      if (cove_pod_prestart (&pc->paths, &pc->st, &v[i], err) < 0
          || cove_ctr_mount (&pc->paths, &v[i], err) < 0
          || cove_ctr_launch (&pc->paths, &v[i], -1, &status, err) < 0)
        return cove_error_wrap (err, "start container %s of pod %s",
                                v[i].name, pod->name);
    }
  return 0;
}

/* ---- stop, restart, kill ---- */

/* The members from the newest, then the infra container.  */
static int
stop_pod (struct cove_pod_cmd *pc, const struct cove_state_container *pod,
          struct cove_state_container *v, size_t n,
          const struct cove_ctr_flags *f, struct cove_error **err)
{
  (void) pod;
  for (size_t pass = 0; pass < 2; pass++)
    for (size_t i = n; i-- > 0;)
      if (cove_ctr_extra_bool (&v[i], "pod_infra") == (pass == 1)
          && cove_ctr_stop (&pc->st, &v[i], f->time, err) < 0)
        return -1;
  return 0;
}

static int
restart_pod (struct cove_pod_cmd *pc, const struct cove_state_container *pod,
             struct cove_state_container *v, size_t n,
             const struct cove_ctr_flags *f, struct cove_error **err)
{
  if (stop_pod (pc, pod, v, n, f, err) < 0)
    return -1;
  struct cove_state_container *now = NULL;
  size_t m = 0;
  if (cove_pod_members (&pc->st, pod->id, &now, &m, err) < 0)
    return -1;
  int r = start_pod (pc, pod, now, m, f, err);
  cove_state_container_list_free (now, m);
  return r;
}

static int
kill_pod (struct cove_pod_cmd *pc, const struct cove_state_container *pod,
          struct cove_state_container *v, size_t n,
          const struct cove_ctr_flags *f, struct cove_error **err)
{
  size_t killed = 0;
  for (size_t i = n; i-- > 0;)
    {
      if (!cove_pod_ctr_running (&v[i]))
        continue;
      int sig = f->signal;
      if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
        (void) cove_ctr_request_stop (&pc->st, v[i].id, NULL);
      if (cove_ctr_kill (&v[i], sig, err) < 0)
        return -1;
      killed++;
    }
  if (killed == 0)
    return 1;  /* as podman: nothing to signal is no error */
  /* As kill: return once the signal is sent; but a SIGKILL ends the
     containers for sure, so wait for their monitors to say so.  */
  for (size_t i = 0; f->signal == SIGKILL && i < n; i++)
    cove_ctr_wait_monitor (&pc->st, &v[i], 15000);
  return 0;
}

/* ---- rm, prune ---- */

static int
rm_pod (struct cove_pod_cmd *pc, const struct cove_state_container *pod,
        struct cove_state_container *v, size_t n,
        const struct cove_ctr_flags *f, struct cove_error **err)
{
  for (size_t i = n; i-- > 0 && !f->force;)
    if (cove_pod_ctr_running (&v[i]))
      return cove_error_set_plain (err, EBUSY, "removing container %s from "
                                   "pod %s: cannot remove container %s as it "
                                   "is running - running or paused containers "
                                   "cannot be removed without force: "
                                   "container state improper", v[i].id,
                                   pod->id, v[i].id);
  /* Members first (newest first), the infra container last.  */
  for (size_t pass = 0; pass < 2; pass++)
    for (size_t i = n; i-- > 0;)
      {
        if (cove_ctr_extra_bool (&v[i], "pod_infra") != (pass == 1))
          continue;
        cleanup_error struct cove_error *local = NULL;
        if (cove_ctr_remove (&pc->paths, &pc->st, &v[i], true, false, &local) < 0
            && local->errnum != ENOENT)
          {
            *err = steal_pointer (&local);
            return cove_error_wrap (err, "removing container %s from pod %s",
                                    v[i].id, pod->id);
          }
      }
  cleanup_error struct cove_error *local = NULL;
  if (cove_state_remove (&pc->pods, pod->id, &local) < 0 && local->errnum != ENOENT)
    {
      *err = steal_pointer (&local);
      return -1;
    }
  return 0;
}

static const struct cove_opt start_opts[] = {
  { "all", 'a', COVE_OPT_BOOL, CTR_OPT_ALL, NULL, "Start all pods" },
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for start" },
  { NULL, 0, 0, 0, NULL, NULL },
};

static const struct cove_opt stop_opts[] = {
  { "all", 'a', COVE_OPT_BOOL, CTR_OPT_ALL, NULL, "Stop all running pods" },
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for stop" },
  { "ignore", 'i', COVE_OPT_BOOL, CTR_OPT_IGNORE, NULL, "Ignore errors when a specified pod is missing" },
  { "time", 't', COVE_OPT_VALUE, CTR_OPT_TIME, "uint", "Seconds to wait for pod stop before killing the container (default 10)" },
  { NULL, 0, 0, 0, NULL, NULL },
};

static const struct cove_opt restart_opts[] = {
  { "all", 'a', COVE_OPT_BOOL, CTR_OPT_ALL, NULL, "Restart all running pods" },
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for restart" },
  { NULL, 0, 0, 0, NULL, NULL },
};

static const struct cove_opt kill_opts[] = {
  { "all", 'a', COVE_OPT_BOOL, CTR_OPT_ALL, NULL, "Kill all running pods" },
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for kill" },
  { "signal", 's', COVE_OPT_VALUE, CTR_OPT_SIGNAL, "string", "Signal to send to the containers in the pod (default \"KILL\")" },
  { NULL, 0, 0, 0, NULL, NULL },
};

static const struct cove_opt rm_opts[] = {
  { "all", 'a', COVE_OPT_BOOL, CTR_OPT_ALL, NULL, "Remove all running pods" },
  { "force", 'f', COVE_OPT_BOOL, CTR_OPT_FORCE, NULL, "Force removal of a running pod by first stopping all containers, then removing all containers in the pod.  The default is false" },
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for rm" },
  { "ignore", 'i', COVE_OPT_BOOL, CTR_OPT_IGNORE, NULL, "Ignore errors when a specified pod is missing" },
  { NULL, 0, 0, 0, NULL, NULL },
};

int
cove_cmd_pod_start (int argc, char **argv)
{
  return pod_command (argc, argv, start_opts, "cove pod start [options] POD [POD...]",
                      "Start one or more pods", start_pod);
}

int
cove_cmd_pod_stop (int argc, char **argv)
{
  return pod_command (argc, argv, stop_opts, "cove pod stop [options] POD [POD...]",
                      "Stop one or more pods", stop_pod);
}

int
cove_cmd_pod_restart (int argc, char **argv)
{
  return pod_command (argc, argv, restart_opts, "cove pod restart [options] POD [POD...]",
                      "Restart one or more pods", restart_pod);
}

int
cove_cmd_pod_kill (int argc, char **argv)
{
  return pod_command (argc, argv, kill_opts, "cove pod kill [options] POD [POD...]",
                      "Send the specified signal or SIGKILL to containers in pod", kill_pod);
}

int
cove_cmd_pod_rm (int argc, char **argv)
{
  return pod_command (argc, argv, rm_opts, "cove pod rm [options] POD [POD...]",
                      "Remove one or more pods", rm_pod);
}

/* pod prune removes the pods none of whose containers runs.  */
static int
prune_if_stopped (struct cove_pod_cmd *pc, const struct cove_state_container *pod,
                  struct cove_state_container *v, size_t n,
                  const struct cove_ctr_flags *f, struct cove_error **err)
{
  const char *s = cove_pod_status (v, n);
  if (strcmp (s, "Exited") != 0 && strcmp (s, "Stopped") != 0
      && strcmp (s, "Created") != 0)
    return 1;
  return rm_pod (pc, pod, v, n, f, err);
}

int
cove_cmd_pod_prune (int argc, char **argv)
{
  struct cove_ctr_flags f;
  cove_ctr_flags_init (&f);
  int n, status;
  cleanup_free char **rest = cove_ctr_parse (argc, argv, cove_ctr_prune_opts,
                                             "cove pod prune [options]",
                                             "Remove all stopped pods and their containers",
                                             cove_ctr_flags_opt, &f, &n, &status);
  if (rest == NULL)
    return status;
  if (n > 0)
    return cove_cmd_usage_error ("`cove pod prune` takes no arguments");
  if (!f.force && !cove_cmd_confirm (stdout, "WARNING! This will remove all "
                                     "stopped/exited pods..\n"))
    return 0;
  cleanup_error struct cove_error *err = NULL;
  struct cove_pod_cmd pc;
  if (cove_pod_cmd_open (&pc, true, &err) < 0)
    return cove_cmd_fail (&err, 125);
  cleanup_strv char **ids = all_pods (&pc.pods, &err);
  int ret = ids ? 0 : cove_cmd_fail (&err, 125);
  f.ignore = true;
  for (size_t i = 0; ids && ids[i]; i++)
    {
      struct cove_state_container pod;
      if (cove_pod_load (&pc.pods, ids[i], &pod, &err) < 0)
        {
          cove_error_release (&err);
          continue;  /* removed meanwhile */
        }
      struct cove_state_container *v = NULL;
      size_t m = 0;
      int r = cove_pod_members (&pc.st, pod.id, &v, &m, &err);
      if (r == 0)
        r = prune_if_stopped (&pc, &pod, v, m, &f, &err);
      if (r == 0)
        printf ("%s\n", pod.id);
      else if (r < 0)
        ret = cove_cmd_fail (&err, 125);
      cove_state_container_list_free (v, m);
      cove_state_container_free (&pod);
    }
  cove_pod_cmd_close (&pc);
  return ret;
}

int
cove_cmd_pod_exists (int argc, char **argv)
{
  if (argc == 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
    {
      puts ("Check if a pod exists in local storage\n\n"
            "Usage:\n  cove pod exists POD");
      return 0;
    }
  if (argc != 2)
    return cove_cmd_usage_error ("accepts 1 arg(s), received %d", argc - 1);
  cleanup_error struct cove_error *err = NULL;
  struct cove_pod_cmd pc;
  if (cove_pod_cmd_open (&pc, false, &err) < 0)
    return cove_cmd_fail (&err, 125);
  struct cove_state_container pod;
  int r = cove_pod_load (&pc.pods, argv[1], &pod, &err);
  cove_pod_cmd_close (&pc);
  if (r == 0)
    {
      cove_state_container_free (&pod);
      return 0;
    }
  return err->errnum == ENOENT ? 1 : cove_cmd_fail (&err, 125);
}

/* ---- rm -a (ctrrm.c) ---- */

int
cove_pod_rm_all (const struct cove_storage_paths *paths,
                 struct cove_state_store *st, bool force)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_pod_cmd pc = { .paths = *paths, .st = *st };
  if (cove_state_pod_store_open (&pc.pods, paths->data_dir, &err) < 0)
    return cove_cmd_fail (&err, 125);
  cleanup_strv char **ids = all_pods (&pc.pods, &err);
  int ret = ids ? 0 : cove_cmd_fail (&err, 125);
  struct cove_ctr_flags f;
  cove_ctr_flags_init (&f);
  f.force = true;
  for (size_t i = 0; ids && ids[i]; i++)
    {
      struct cove_state_container pod;
      struct cove_state_container *v = NULL;
      size_t n = 0;
      if (cove_pod_load (&pc.pods, ids[i], &pod, &err) < 0)
        {
          cove_error_release (&err);
          continue;
        }
      bool running = false;
      int r = cove_pod_members (&pc.st, pod.id, &v, &n, &err);
      for (size_t k = 0; r == 0 && k < n; k++)
        running = running || cove_pod_ctr_running (&v[k]);
      /* A running pod without -f is left to rm's own refusals.  */
      if (r == 0 && (force || !running))
        {
          r = rm_pod (&pc, &pod, v, n, &f, &err);
          for (size_t k = n; r == 0 && k-- > 0;)
            printf ("%s\n", v[k].id);
        }
      if (r < 0)
        ret = cove_cmd_fail (&err, 125);
      cove_state_container_list_free (v, n);
      cove_state_container_free (&pod);
    }
  cove_state_store_close (&pc.pods);
  fflush (stdout);
  return ret;
}
