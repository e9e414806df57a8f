/* cove_runtime_exec: a new process in a running container.

   The caller (cove, in the user namespace) reads the container's
   config.json and applies `cove exec`'s overrides to it, then clones an
   intermediate process that joins the container's namespaces with one
   setns on the init's pidfd (atomic, and immune to the reuse of its pid)
   and clones the process proper as the caller's child (CLONE_PARENT): a
   pid namespace joined by setns applies to children only, and the caller
   itself stays in its own mount namespace, where DATA_DIR is.  The
   process then confines itself as the container's first process does
   (runtime_process_exec) and reports over the same sync socket protocol as
   create.c.  */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "pkg/runtime/internal.h"
#include "pkg/spec/spec.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* The namespaces an exec joins: every one of the config's but the user
   namespace, which the caller is in already.  */
#define EXEC_NS_FLAGS \
  (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET \
   | CLONE_NEWCGROUP)

/* What the process to start needs, prepared by the caller before any
   clone (the children allocate nothing they could not on a copy).  */
struct exec_ctx
{
  struct runtime_config *cfg;
  int init_pidfd;
  int ns_flags;       /* CLONE_NEW* to join */
  int devnull;        /* detach: its stdio; else -1 */
  bool detach;
};

/* ---- the config and its overrides, in the caller ---- */

/* Set KV ("KEY=VALUE") in *ENV, replacing an entry with the same KEY.  */
static void
env_set (char ***env, const char *kv)
{
  const char *eq = strchr (kv, '=');
  size_t klen = eq ? (size_t) (eq - kv) + 1 : strlen (kv);
  for (char **e = *env; *e; e++)
    if (strncmp (*e, kv, klen) == 0)
      {
        free (*e);
        *e = xstrdup (kv);
        return;
      }
  cove_strv_append (env, kv);
}

static bool
env_has (char *const *env, const char *key)
{
  size_t klen = strlen (key);
  for (; env && *env; env++)
    if (strncmp (*env, key, klen) == 0 && (*env)[klen] == '=')
      return true;
  return false;
}

/* -u: the user, its groups and (unless -e gives one) its HOME.  A user
   other than root loses the config's capabilities but the bounding set,
   as in podman: they were granted to the container's own user.  */
static int
override_user (struct runtime_config *cfg, int rootfd, const char *spec,
               char *const *opt_env, struct cove_error **err)
{
  struct cove_spec_user u;
  if (cove_spec_user_resolve (rootfd, spec, NULL, &u, err) < 0)
    return -1;
  bool same = u.uid == cfg->uid;
  cfg->uid = u.uid;
  cfg->gid = u.gid;
  free (cfg->additional_gids);
  cfg->additional_gids = steal_pointer (&u.gids);
  cfg->n_additional_gids = u.n_gids;
  if (!env_has (opt_env, "HOME"))
    {
      cleanup_free char *home = xasprintf ("HOME=%s", u.home);
      env_set (&cfg->env, home);
    }
  cove_spec_user_free (&u);
  if (cfg->has_caps && !same && cfg->uid != 0)
    for (int s = 0; s < RUNTIME_CAP_N; s++)
      if (s != RUNTIME_CAP_BOUNDING)
        cfg->caps[s] = 0;
  return 0;
}

/* --privileged: every capability cove has itself (its bounding set: in
   the user's user namespace, all the kernel knows), and no seccomp.  */
static void
override_privileged (struct runtime_config *cfg)
{
  uint64_t all = 0;
  for (int cap = 0; cap < (int) cap_max_bits () && cap < 64; cap++)
    if (prctl (PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
      all |= UINT64_C (1) << cap;
  cfg->has_caps = true;
  /* Not inheritable nor ambient, as podman since CVE-2022-27649: a
     program the process execs gets capabilities from its own file caps
     only.  */
  for (int s = 0; s < RUNTIME_CAP_N; s++)
    cfg->caps[s] = s == RUNTIME_CAP_INHERITABLE || s == RUNTIME_CAP_AMBIENT ? 0 : all;
  json_decref (cfg->seccomp);
  cfg->seccomp = NULL;
}

static int
apply_overrides (struct runtime_config *cfg, int rootfd,
                 const struct cove_runtime_exec_options *o,
                 struct cove_error **err)
{
  if (o->args == NULL || o->args[0] == NULL || o->args[0][0] == '\0')
    return cove_error_set_plain (err, EINVAL, "exec requires a command");
  cove_strv_free (cfg->args);
  cfg->args = cove_strv_dup (o->args);
  for (size_t i = 0; o->env && o->env[i]; i++)
    {
      if (o->env[i][0] == '=' || strchr (o->env[i], '=') == NULL)
        return cove_error_set_plain (err, EINVAL, "invalid environment "
                                     "variable `%s`", o->env[i]);
      env_set (&cfg->env, o->env[i]);
    }
  if (o->user && override_user (cfg, rootfd, o->user, o->env, err) < 0)
    return -1;
  if (o->workdir)
    {
      size_t l = strlen (cfg->cwd);
      char *cwd = o->workdir[0] == '/'
                      ? xstrdup (o->workdir)
                      : xasprintf ("%s%s%s", cfg->cwd,
                                   l && cfg->cwd[l - 1] == '/' ? "" : "/",
                                   o->workdir);
      free (cfg->cwd);
      cfg->cwd = cwd;
    }
  cfg->terminal = o->terminal && !o->detach;
  if (cfg->terminal && !env_has (cfg->env, "TERM"))
    env_set (&cfg->env, "TERM=xterm");
  if (o->privileged)
    override_privileged (cfg);
  return 0;
}

/* The root of the container, as its init sees it.  Opened by pid, then
   checked against the pidfd: a pid cannot be reused while its process
   (even a zombie) exists, so if the init still lives the fd is its.  */
static int
open_root (const struct cove_runtime_exec_options *o, struct cove_error **err)
{
  cleanup_free char *path = xasprintf ("/proc/%d/root", (int) o->init_pid);
  cleanup_close int fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int e = errno;
  if (pidfd_send_signal (o->init_pidfd, 0, NULL, 0) < 0)
    return cove_error_set (err, ESRCH, "the container's process has exited");
  if (fd < 0)
    return cove_error_set (err, e, "open `%s`", path);
  return steal_fd (&fd);
}

static int
exec_ns_flags (const struct runtime_config *cfg)
{
  int flags = 0;
  for (size_t i = 0; i < cfg->n_namespaces; i++)
    flags |= cfg->namespaces[i].flag & EXEC_NS_FLAGS;
  return flags;
}

static int
prepare (const char *bundle, const char *state_dir,
         const struct cove_runtime_exec_options *o, struct exec_ctx *x,
         struct cove_error **err)
{
  x->cfg = runtime_config_load (bundle, err);
  if (x->cfg == NULL)
    return -1;
  cleanup_close int rootfd = open_root (o, err);
  if (rootfd < 0 || apply_overrides (x->cfg, rootfd, o, err) < 0
      || runtime_seccomp_prepare (x->cfg, state_dir, err) < 0)
    return -1;
  x->ns_flags = exec_ns_flags (x->cfg);
  x->init_pidfd = o->init_pidfd;
  x->detach = o->detach;
  if (o->detach)
    {
      x->devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
      if (x->devnull < 0)
        return cove_error_set (err, errno, "open `/dev/null`");
    }
  return 0;
}

/* ---- the process, in the container's namespaces ---- */

/* Its stdio and session, then rlimits (runtime_starter.setup, CTX the
   exec_ctx).  Without a terminal it still leaves the caller's session:
   the caller's terminal, which it may hold as stdio, must not be its
   controlling one (TIOCSTI would let it type into the user's shell).
   The caller relays signals (cove_runtime_wait).  */
static int
child_setup (const void *ctx, int sync, struct cove_error **err)
{
  const struct exec_ctx *x = ctx;
  if (x->cfg->terminal)
    {
      if (runtime_process_terminal (sync, err) < 0)
        return -1;
    }
  else if (setsid () < 0)
    return cove_error_set (err, errno, "setsid");
  else if (x->detach)
    for (int fd = 0; fd < 3; fd++)
      if (dup2 (x->devnull, fd) < 0)
        return cove_error_set (err, errno, "dup2 /dev/null to %d", fd);
  return runtime_process_rlimits (x->cfg, err);
}

/* In the intermediate: one setns on the init's pidfd.  */
static int
join_init (const void *ctx, struct cove_error **err)
{
  const struct exec_ctx *x = ctx;
  if (setns (x->init_pidfd, x->ns_flags) < 0)
    return cove_error_set (err, errno, "setns");
  return 0;
}

/* runtime_starter.spawn: always through an intermediate, which joins.  */
static pid_t
spawn (const void *ctx, int *out_pidfd, struct cove_error **err)
{
  struct runtime_join j = { .join = join_init, .ctx = ctx,
                            .what = "join the container's namespaces" };
  return runtime_spawn_joined (&j, out_pidfd, err);
}

int
cove_runtime_exec (const char *bundle, const char *state_dir,
                   const struct cove_runtime_exec_options *opts,
                   struct cove_runtime_process *out, int *out_status,
                   struct cove_error **err)
{
  *out_status = 125;
  out->pid = -1;
  out->pidfd = -1;
  out->console_fd = -1;
  out->tap_fd = -1;
  struct exec_ctx x = { .devnull = -1, .init_pidfd = -1 };
  struct runtime_starter s = { .spawn = spawn, .setup = child_setup,
                               .ctx = &x, .what = "exec process" };
  int r = prepare (bundle, state_dir, opts, &x, err);
  if (r == 0)
    {
      s.cfg = x.cfg;
      r = runtime_start (&s, out, out_status, err);
    }
  runtime_config_free (x.cfg);
  if (x.devnull >= 0)
    close (x.devnull);
  if (r == 0)
    *out_status = 0;
  return r;
}
