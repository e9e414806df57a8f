/* cove_runtime_create: clone the container's first process into its
   namespaces and follow it until it has exec'd (over the sync socket of
   spawn.c, shared with exec.c).  */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>

#include "pkg/runtime/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

static int
join_namespace (const struct runtime_namespace *ns, struct cove_error **err)
{
  cleanup_close int fd = open (ns->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno, "open namespace `%s`", ns->path);
  if (setns (fd, ns->flag) < 0)
    return cove_error_set (err, errno, "join namespace `%s`", ns->path);
  return 0;
}

/* In the child: join the namespaces given by path (pid was joined by the
   parent, since it only applies to children), the mount one last so that
   the paths of the others are looked up in the caller's mount tree.  */
static int
join_namespaces (const struct runtime_config *cfg, struct cove_error **err)
{
  for (size_t i = 0; i < cfg->n_namespaces; i++)
    {
      const struct runtime_namespace *ns = &cfg->namespaces[i];
      if (ns->path && ns->flag != CLONE_NEWPID && ns->flag != CLONE_NEWNS
          && join_namespace (ns, err) < 0)
        return -1;
    }
  const struct runtime_namespace *mnt = runtime_config_namespace (cfg, CLONE_NEWNS);
  if (mnt->path && join_namespace (mnt, err) < 0)
    return -1;
  return 0;
}

/* In the child, in its new namespaces (runtime_starter.setup, CTX the
   config): everything up to the exec.  */
static int
child_setup (const void *ctx, int sync, struct cove_error **err)
{
  const struct runtime_config *cfg = ctx;
  if (join_namespaces (cfg, err) < 0)
    return -1;
  if (runtime_net_setup (cfg, sync, err) < 0)
    return -1;
  if (runtime_process_rlimits (cfg, err) < 0
      || runtime_process_hostname (cfg, err) < 0)
    return -1;
  cleanup_close int rootfd = runtime_rootfs_prepare (cfg, err);
  if (rootfd < 0
      || runtime_mounts_apply (cfg, rootfd, err) < 0
      || runtime_process_sysctl (cfg, rootfd, err) < 0
      || runtime_paths_protect (cfg, rootfd, err) < 0
      || runtime_rootfs_pivot (rootfd, err) < 0
      || runtime_rootfs_finish (cfg, err) < 0)
    return -1;
  if (cfg->terminal && runtime_process_terminal (sync, err) < 0)
    return -1;
  return 0;
}

static int
join_pidns (const void *ns, struct cove_error **err)
{
  return join_namespace (ns, err);
}

/* The container's process, with the config's new namespaces
   (runtime_starter.spawn, CTX the config).  A pid namespace given by path
   applies to children only, and cove cannot go back to its own after
   setns (it has no CAP_SYS_ADMIN over it): an intermediate process enters
   it and clones the container from there.  */
static pid_t
spawn (const void *ctx, int *out_pidfd, struct cove_error **err)
{
  const struct runtime_config *cfg = ctx;
  uint64_t flags = (uint64_t) runtime_config_clone_flags (cfg);
  const struct runtime_namespace *pidns = runtime_config_namespace (cfg, CLONE_NEWPID);
  if (pidns && pidns->path)
    {
      cleanup_free char *what = xasprintf ("start container in pid namespace "
                                           "`%s`", pidns->path);
      struct runtime_join j = { .join = join_pidns, .ctx = pidns,
                                .child_flags = flags, .what = what };
      return runtime_spawn_joined (&j, out_pidfd, err);
    }
  pid_t pid = runtime_clone3 (flags, out_pidfd);
  if (pid < 0)
    return cove_error_set (err, errno, "clone container process");
  return pid;
}

static struct runtime_config *
load_config (const char *bundle, struct cove_error **err)
{
  struct runtime_config *cfg = runtime_config_load (bundle, err);
  if (cfg == NULL)
    return NULL;
  const struct runtime_namespace *uts = runtime_config_namespace (cfg, CLONE_NEWUTS);
  if (runtime_config_namespace (cfg, CLONE_NEWNS) == NULL)
    cove_error_set (err, EINVAL, "config.json: no mount namespace");
  else if (cfg->hostname && (uts == NULL || uts->path != NULL))
    cove_error_set (err, EINVAL, "config.json: `hostname` without a new uts namespace");
  else
    return cfg;
  runtime_config_free (cfg);
  return NULL;
}

int
cove_runtime_create (const char *bundle, const char *state_dir,
                     struct cove_runtime_process *out,
                     int *out_status, struct cove_error **err)
{
  *out_status = 125;
  out->pid = -1;
  out->pidfd = -1;
  out->console_fd = -1;
  out->tap_fd = -1;
  struct runtime_config *cfg = load_config (bundle, err);
  if (cfg == NULL)
    return -1;
  struct runtime_starter s = { .cfg = cfg, .spawn = spawn, .setup = child_setup,
                               .ctx = cfg, .what = "container",
                               .tap = cfg->tap };
  int r = runtime_seccomp_prepare (cfg, state_dir, err);
  if (r == 0)
    r = runtime_start (&s, out, out_status, err);
  runtime_config_free (cfg);
  if (r == 0)
    *out_status = 0;
  return r;
}
