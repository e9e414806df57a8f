/* cove_runtime_create: clone the container's first process into its
   namespaces and follow it until it has exec'd.

   Parent and child talk over a SOCK_SEQPACKET socket pair whose child end
   is close-on-exec: the child sends the pty master (a 1-byte packet with
   SCM_RIGHTS) when it has a terminal, an error (cove_error_send: an 8-byte
   header packet, then the message) when a step fails, and nothing else.  EOF
   without an error means the exec succeeded.  */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/net.h"
#include "pkg/runtime/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* Upper bound of a config.json: a large seccomp profile is ~100 KiB.  */
#define CONFIG_MAX (16 * 1024 * 1024)

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

/* In the child, in its new namespaces: everything up to the exec.  */
static int
child_setup (const struct runtime_config *cfg, int sync, struct cove_error **err)
{
  if (join_namespaces (cfg, err) < 0)
    return -1;
  /* A fresh network namespace has lo down.  */
  if ((runtime_config_clone_flags (cfg) & CLONE_NEWNET)
      && cove_net_loopback_up (err) < 0)
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

static void __attribute__ ((noreturn))
child_main (const struct runtime_config *cfg, int sync)
{
  struct cove_error *err = NULL;
  int status = 125;
  if (child_setup (cfg, sync, &err) == 0)
    runtime_process_exec (cfg, &status, &err);
  if (err == NULL)
    cove_error_set (&err, 0, "container setup failed");
  cove_error_send (sync, err);
  _exit (status);
}

/* clone3 with the config's new namespaces and EXTRA flags, returning the
   pid (0 in the child) and, when OUT_PIDFD, a pidfd.  The caller is assumed
   single-threaded here, as for fork: the child runs on a copy of this stack
   and heap.  */
static pid_t
clone_child (const struct runtime_config *cfg, uint64_t extra, int *out_pidfd,
             struct cove_error **err)
{
  struct clone_args args = {
    .flags = (uint64_t) runtime_config_clone_flags (cfg) | extra,
    /* With CLONE_PARENT the exit signal is the parent's own.  */
    .exit_signal = (extra & CLONE_PARENT) ? 0 : SIGCHLD,
  };
  if (out_pidfd)
    {
      args.flags |= CLONE_PIDFD;
      args.pidfd = (uint64_t) (uintptr_t) out_pidfd;
    }
  pid_t pid = (pid_t) syscall (SYS_clone3, &args, sizeof args);
  if (pid < 0)
    return cove_error_set (err, errno, "clone container process");
  return pid;
}

/* In the intermediate process of spawn_in_pidns: enter the pid namespace
   and clone the container's process as a sibling (CLONE_PARENT), so that
   it is cove's own child.  Reports its pid or -errno over PIPE_W.  Returns
   0 in the container's process; the intermediate itself _exits.  */
static pid_t
intermediate (const struct runtime_config *cfg,
              const struct runtime_namespace *pidns, int pipe_w)
{
  cleanup_error struct cove_error *e = NULL;
  int32_t r = -EINVAL;
  if (join_namespace (pidns, &e) == 0)
    {
      pid_t pid = clone_child (cfg, CLONE_PARENT, NULL, &e);
      if (pid == 0)
        {
          close (pipe_w);
          return 0;
        }
      r = pid > 0 ? pid : 0;
    }
  if (e)
    r = -e->errnum;
  (void) cove_write_all (pipe_w, &r, sizeof r, NULL);
  _exit (0);
}

/* A pid namespace given by path applies to children only, and cove cannot
   go back to its own after setns (it has no CAP_SYS_ADMIN over it): an
   intermediate process enters it and clones the container from there.  */
static pid_t
spawn_in_pidns (const struct runtime_config *cfg,
                const struct runtime_namespace *pidns, int *out_pidfd,
                struct cove_error **err)
{
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return cove_error_set (err, errno, "pipe");
  cleanup_close int pipe_r = p[0];
  cleanup_close int ifd = -1;
  pid_t ipid = clone_child (&(struct runtime_config) { 0 }, 0, &ifd, err);
  if (ipid == 0)
    {
      close (steal_fd (&pipe_r));
      return intermediate (cfg, pidns, p[1]);
    }
  close (p[1]);
  if (ipid < 0)
    return -1;
  int32_t r = 0;
  ssize_t n;
  do
    n = read (pipe_r, &r, sizeof r);
  while (n < 0 && errno == EINTR);
  siginfo_t info;
  while (waitid ((idtype_t) P_PIDFD, ifd, &info, WEXITED) < 0 && errno == EINTR)
    ;
  if (n != sizeof r || r <= 0)
    return cove_error_set (err, n == sizeof r ? -r : EPROTO,
                           "start container in pid namespace `%s`", pidns->path);
  /* Our child until we reap it: the pid cannot be reused meanwhile.  */
  *out_pidfd = pidfd_open (r, 0);
  if (*out_pidfd < 0)
    {
      cove_error_set (err, errno, "pidfd_open");
      kill (r, SIGKILL);
      waitpid (r, NULL, 0);
      return -1;
    }
  return r;
}

static pid_t
spawn (const struct runtime_config *cfg, int *out_pidfd, struct cove_error **err)
{
  const struct runtime_namespace *pidns = runtime_config_namespace (cfg, CLONE_NEWPID);
  if (pidns == NULL || pidns->path == NULL)
    return clone_child (cfg, 0, out_pidfd, err);
  return spawn_in_pidns (cfg, pidns, out_pidfd, err);
}

/* Read what the child sends until EOF (exec'd) or an error.  Returns 0 and
   sets *OUT_CHILD_ERR when the child failed; -1 when talking to it did.  */
static int
sync_with_child (int sock, int *console, struct cove_error **out_child_err,
                 struct cove_error **err)
{
  for (;;)
    {
      /* MSG_TRUNC: the length of the next packet, without reading it.  */
      ssize_t n = recv (sock, NULL, 0, MSG_PEEK | MSG_TRUNC);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return cove_error_set (err, errno, "read from container process");
      if (n == 0)
        return 0;
      if (n != 1)
        return cove_error_recv (sock, out_child_err, err) < 0 ? -1 : 0;
      int fd = cove_recv_fd (sock, err);
      if (fd < 0)
        return cove_error_wrap (err, "receive pty master");
      if (*console >= 0)
        {
          close (fd);
          return cove_error_set (err, EPROTO, "container sent two pty masters");
        }
      *console = fd;
    }
}

/* The exit code of a child that failed before exec: its own verdict for
   126 and 127, 125 for everything else.  */
static int
reap_failed (int pidfd, bool kill_it)
{
  if (kill_it)
    pidfd_send_signal (pidfd, SIGKILL, NULL, 0);
  siginfo_t info = { 0 };
  while (waitid ((idtype_t) P_PIDFD, pidfd, &info, WEXITED) < 0 && errno == EINTR)
    ;
  if (info.si_code == CLD_EXITED && (info.si_status == 126 || info.si_status == 127))
    return info.si_status;
  return 125;
}

static struct runtime_config *
load_config (const char *bundle, struct cove_error **err)
{
  cleanup_free char *path = xasprintf ("%s/config.json", bundle);
  size_t len = 0;
  cleanup_free char *data = cove_file_read_at (AT_FDCWD, path, CONFIG_MAX, &len, err);
  if (data == NULL)
    return NULL;
  struct runtime_config *cfg = runtime_config_parse (data, len, bundle, err);
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

/* Compile linux.seccomp here, in the parent: the child only loads it.
   Compiled programs are cached per user in STATE_DIR/seccomp.  */
static int
compile_seccomp (struct runtime_config *cfg, const char *state_dir,
                 struct cove_error **err)
{
  if (cfg->seccomp == NULL)
    return 0;
  cleanup_free char *cache = state_dir ? xasprintf ("%s/seccomp", state_dir) : NULL;
  if (cove_runtime_seccomp_compile (cfg->seccomp, cache, &cfg->filter, err) < 0)
    return cove_error_wrap (err, "seccomp profile");
  cfg->has_filter = true;
  return 0;
}

static int
start (const struct runtime_config *cfg, struct cove_runtime_process *out,
       int *out_status, struct cove_error **err)
{
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return cove_error_set (err, errno, "socketpair");
  cleanup_close int sock = sv[0];
  int pidfd = -1;
  pid_t pid = spawn (cfg, &pidfd, err);
  if (pid == 0)
    {
      close (sock);
      child_main (cfg, sv[1]);
    }
  close (sv[1]);
  if (pid < 0)
    return -1;
  cleanup_close int console = -1;
  struct cove_error *child_err = NULL;
  if (sync_with_child (sock, &console, &child_err, err) < 0 || child_err != NULL)
    {
      *out_status = reap_failed (pidfd, child_err == NULL);
      close (pidfd);
      if (child_err && err && *err == NULL)
        *err = child_err;
      else
        cove_error_free (child_err);
      return -1;
    }
  if (cfg->terminal && console < 0)
    {
      *out_status = reap_failed (pidfd, true);
      close (pidfd);
      return cove_error_set (err, EPROTO, "container sent no pty master");
    }
  out->pid = pid;
  out->pidfd = pidfd;
  out->console_fd = steal_fd (&console);
  return 0;
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
  struct runtime_config *cfg = load_config (bundle, err);
  if (cfg == NULL)
    return -1;
  int r = compile_seccomp (cfg, state_dir, err);
  if (r == 0)
    r = start (cfg, out, out_status, err);
  runtime_config_free (cfg);
  if (r == 0)
    *out_status = 0;
  return r;
}

/* The parent's side of the sync protocol, shared with exec.c.  */
int
runtime_sync_child (int sock, int *console, struct cove_error **out_child_err,
                    struct cove_error **err)
{
  return sync_with_child (sock, console, out_child_err, err);
}

int
runtime_reap_failed (int pidfd, bool kill_it)
{
  return reap_failed (pidfd, kill_it);
}
