/* cove rm, container prune, rename, container exists, port.  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcmd.h"
#include "cmd/cove/ctrops.h"
#include "cmd/cove/output.h"
#include "cmd/cove/pod.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* podman's exit codes for rm: 1 no such container, 2 running without
   -f, 125 other failures.  */
static int
rm_status (const struct cove_error *err)
{
  if (err->errnum == ENOENT)
    return 1;
  if (err->errnum == EBUSY)
    return 2;
  return 125;
}

static int
rm_one (struct cove_ctr_cmd *cc, const char *name, const struct cove_ctr_flags *f)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_state_container c;
  if (cove_ctr_load (&cc->st, name, &c, &err) < 0)
    {
      if (f->ignore && err->errnum == ENOENT)
        return 0;
      return cove_cmd_fail (&err, rm_status (err));
    }
  int r = cove_pod_rm_check (&cc->st, &c, &err);
  if (r == 0)
    r = cove_ctr_remove (&cc->paths, &cc->st, &c, f->force, f->volumes, &err);
  cove_state_container_free (&c);
  if (r < 0)
    {
      if (f->ignore && err->errnum == ENOENT)
        return 0;
      return cove_cmd_fail (&err, rm_status (err));
    }
  printf ("%s\n", name);
  fflush (stdout);
  return 0;
}

/* The ids of every container (ALL) or of the latest.  */
static char **
select_ids (struct cove_state_store *st, bool latest, bool only_stopped,
            struct cove_error **err)
{
  struct cove_state_container *all = NULL;
  size_t n = 0;
  char **warnings = NULL;
  if (cove_state_list (st, &all, &n, &warnings, err) < 0)
    return NULL;
  for (char **w = warnings; *w; w++)
    fprintf (stderr, "WARN[0000] %s\n", *w);
  cove_strv_free (warnings);
  char **ids = xmalloc0 (sizeof *ids);
  for (size_t i = latest && n ? n - 1 : 0; i < n; i++)
    {
      enum cove_state_status s = cove_state_effective (&all[i], NULL);
      if (!only_stopped || (s != COVE_STATE_RUNNING && s != COVE_STATE_PAUSED))
        cove_strv_append (&ids, all[i].id);
    }
  cove_state_container_list_free (all, n);
  return ids;
}

static const struct cove_opt rm_opts[] = {
  { "all", 'a', COVE_OPT_BOOL, CTR_OPT_ALL, NULL, "Remove all containers" },
  { "force", 'f', COVE_OPT_BOOL, CTR_OPT_FORCE, NULL, "Force removal of a running or unusable container" },
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for rm" },
  { "ignore", 'i', COVE_OPT_BOOL, CTR_OPT_IGNORE, NULL, "Ignore errors when a specified container is missing" },
  { "latest", 'l', COVE_OPT_BOOL, CTR_OPT_LATEST, NULL, "Act on the latest container cove is aware of" },
  { "time", 't', COVE_OPT_VALUE, CTR_OPT_ACCEPTED, "int", "Seconds to wait for stop before killing the container (accepted; rm -f kills at once)" },
  { "volumes", 'v', COVE_OPT_BOOL, CTR_OPT_VOLUMES, NULL, "Remove anonymous volumes associated with the container" },
  { NULL, 0, 0, 0, NULL, NULL },
};

int
cove_cmd_rm (int argc, char **argv)
{
  struct cove_ctr_flags f;
  cove_ctr_flags_init (&f);
  int n, status;
  cleanup_free char **rest = cove_ctr_parse (argc, argv, rm_opts,
                                             "cove rm [options] CONTAINER [CONTAINER...]",
                                             "Remove one or more containers",
                                             cove_ctr_flags_opt, &f, &n, &status);
  if (rest == NULL)
    return status;
  if (n == 0 && !f.all && !f.latest)
    return cove_cmd_usage_error ("you must provide at least one container name or ID");
  if (n > 0 && (f.all || f.latest))
    return cove_cmd_usage_error ("--all and --latest cannot be used with "
                                 "container names or IDs");
  cleanup_error struct cove_error *err = NULL;
  struct cove_ctr_cmd cc;
  if (cove_ctr_cmd_open (&cc, true, &err) < 0)
    return cove_cmd_fail (&err, 125);
  cleanup_strv char **ids = NULL;
  int ret = f.all ? cove_pod_rm_all (&cc.paths, &cc.st, f.force) : 0;
  if (f.all || f.latest)
    {
      ids = select_ids (&cc.st, f.latest, false, &err);
      if (ids == NULL)
        {
          cove_ctr_cmd_close (&cc);
          return cove_cmd_fail (&err, 125);
        }
    }
  for (int i = 0; i < n; i++)
    {
      int r = rm_one (&cc, rest[i], &f);
      ret = r ? r : ret;
    }
  for (size_t i = 0; ids && ids[i]; i++)
    {
      int r = rm_one (&cc, ids[i], &f);
      ret = r ? r : ret;
    }
  cove_ctr_cmd_close (&cc);
  return ret;
}

/* ---- container prune ---- */

int
cove_cmd_container_prune (int argc, char **argv)
{
  struct cove_ctr_flags f;
  cove_ctr_flags_init (&f);
  int n, status;
  cleanup_free char **rest = cove_ctr_parse (argc, argv, cove_ctr_prune_opts,
                                             "cove container prune [options]",
                                             "Remove all non running containers",
                                             cove_ctr_flags_opt, &f, &n, &status);
  if (rest == NULL)
    return status;
  if (n > 0)
    return cove_cmd_usage_error ("`cove container prune` takes no arguments");
  if (!f.force && !cove_cmd_confirm (stdout, "WARNING! This will remove all "
                                     "non running containers.\n"))
    return 0;
  cleanup_error struct cove_error *err = NULL;
  struct cove_ctr_cmd cc;
  if (cove_ctr_cmd_open (&cc, true, &err) < 0)
    return cove_cmd_fail (&err, 125);
  cleanup_strv char **ids = select_ids (&cc.st, false, true, &err);
  int ret = ids ? 0 : cove_cmd_fail (&err, 125);
  for (size_t i = 0; ids && ids[i]; i++)
    {
      struct cove_state_container c;
      if (cove_ctr_load (&cc.st, ids[i], &c, &err) < 0)
        {
          cove_error_release (&err);
          continue;  /* removed meanwhile */
        }
      if (cove_ctr_extra_bool (&c, "pod_infra"))
        ;  /* its pod's: pod rm and pod prune remove it */
      else if (cove_ctr_remove (&cc.paths, &cc.st, &c, false, false, &err) == 0)
        printf ("%s\n", c.id);
      else if (err->errnum != ENOENT && err->errnum != EBUSY)
        ret = cove_cmd_fail (&err, 125);
      cove_error_release (&err);
      cove_state_container_free (&c);
    }
  cove_ctr_cmd_close (&cc);
  return ret;
}
