/* What cove_runtime_create (create.c) and cove_runtime_exec (exec.c) share
   to start a process: reading and compiling the config, clone3, cloning
   through an intermediate that joins namespaces first, and the parent's
   side of the sync socket.

   Parent and child talk over a SOCK_SEQPACKET socket pair whose child end
   is close-on-exec: the child sends its tap device first with a slirp
   network, then the pty master when it has a terminal (each a 1-byte
   packet with SCM_RIGHTS), an error (cove_error_send: an 8-byte
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

#include "pkg/runtime/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* Upper bound of a config.json: a large seccomp profile is ~100 KiB.  */
#define CONFIG_MAX (16 * 1024 * 1024)

/* ---- the config, in the caller ---- */

struct runtime_config *
runtime_config_load (const char *bundle, struct cove_error **err)
{
  cleanup_free char *path = xasprintf ("%s/config.json", bundle);
  size_t len = 0;
  cleanup_free char *data = cove_file_read_at (AT_FDCWD, path, CONFIG_MAX,
                                               &len, err);
  if (data == NULL)
    return NULL;
  return runtime_config_parse (data, len, bundle, err);
}

int
runtime_seccomp_prepare (struct runtime_config *cfg, const char *state_dir,
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

/* ---- cloning ---- */

pid_t
runtime_clone3 (uint64_t flags, int *out_pidfd)
{
  struct clone_args args = {
    .flags = flags | (out_pidfd ? CLONE_PIDFD : 0),
    .pidfd = (uint64_t) (uintptr_t) out_pidfd,
    /* With CLONE_PARENT the exit signal is the parent's own.  */
    .exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD,
  };
  return (pid_t) syscall (SYS_clone3, &args, sizeof args);
}

/* In the intermediate of runtime_spawn_joined: join, then clone the
   process as the caller's sibling (CLONE_PARENT), that is the caller's
   child.  Reports its pid (or -errno) over PIPE_W and _exits; returns 0
   in the process itself.  */
static pid_t
intermediate (const struct runtime_join *j, int pipe_w)
{
  cleanup_error struct cove_error *e = NULL;
  int32_t r;
  if (j->join (j->ctx, &e) < 0)
    r = -e->errnum;
  else
    {
      pid_t pid = runtime_clone3 (j->child_flags | CLONE_PARENT, NULL);
      if (pid == 0)
        {
          close (pipe_w);
          return 0;
        }
      r = pid > 0 ? pid : -errno;
    }
  (void) cove_write_all (pipe_w, &r, sizeof r, NULL);
  _exit (0);
}

pid_t
runtime_spawn_joined (const struct runtime_join *j, int *out_pidfd,
                      struct cove_error **err)
{
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return cove_error_set (err, errno, "pipe");
  cleanup_close int pipe_r = p[0];
  cleanup_close int ifd = -1;
  pid_t ipid = runtime_clone3 (0, &ifd);
  if (ipid == 0)
    {
      close (steal_fd (&pipe_r));
      return intermediate (j, p[1]);
    }
  int e = errno;
  close (p[1]);
  if (ipid < 0)
    return cove_error_set (err, e, "clone");
  int32_t r = 0;
  ssize_t n;
  do
    n = read (pipe_r, &r, sizeof r);
  while (n < 0 && errno == EINTR);
  siginfo_t info;
  while (waitid ((idtype_t) P_PIDFD, ifd, &info, WEXITED) < 0 && errno == EINTR)
    ;
  if (n != sizeof r || r <= 0)
    return cove_error_set (err, n == sizeof r ? -r : EPROTO, "%s", j->what);
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

/* ---- the sync socket ---- */

/* Read what the child sends until EOF (exec'd) or an error.  Returns 0 and
   sets *OUT_CHILD_ERR when the child failed; -1 when talking to it did.  */
static int
sync_with_child (int sock, int *tap, int *console,
                 struct cove_error **out_child_err, struct cove_error **err)
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
      /* TAP is -2 until the expected tap fd comes (always first).  */
      bool is_tap = *tap == -2;
      int fd = cove_recv_fd (sock, err);
      if (fd < 0)
        return cove_error_wrap (err, is_tap ? "receive tap device"
                                : "receive pty master");
      if (is_tap)
        {
          *tap = fd;
          continue;
        }
      if (*console >= 0)
        {
          close (fd);
          return cove_error_set (err, EPROTO, "container sent two pty masters");
        }
      *console = fd;
    }
}

/* The exit code of a child that failed before exec (killed first when
   KILL_IT): its own verdict for 126 and 127, 125 for everything else.  */
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

static void __attribute__ ((noreturn))
child_main (const struct runtime_starter *s, int sync)
{
  struct cove_error *err = NULL;
  int status = 125;
  if (s->setup (s->ctx, sync, &err) == 0)
    runtime_process_exec (s->cfg, &status, &err);
  if (err == NULL)
    cove_error_set (&err, 0, "%s setup failed", s->what);
  cove_error_send (sync, err);
  _exit (status);
}

int
runtime_start (const struct runtime_starter *s,
               struct cove_runtime_process *out, int *out_status,
               struct cove_error **err)
{
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return cove_error_set (err, errno, "socketpair");
  cleanup_close int sock = sv[0];
  int pidfd = -1;
  pid_t pid = s->spawn (s->ctx, &pidfd, err);
  if (pid == 0)
    {
      close (sock);
      child_main (s, sv[1]);
    }
  close (sv[1]);
  if (pid < 0)
    return -1;
  cleanup_close int console = -1;
  cleanup_close int tap = s->tap ? -2 : -1;
  struct cove_error *child_err = NULL;
  if (sync_with_child (sock, &tap, &console, &child_err, err) < 0
      || child_err != NULL || (s->cfg->terminal && console < 0) || tap == -2)
    {
      *out_status = reap_failed (pidfd, child_err == NULL);
      close (pidfd);
      if (child_err)
        {
          if (err && *err == NULL)
            *err = child_err;
          else
            cove_error_free (child_err);
        }
      else if (err && *err == NULL)
        cove_error_set (err, EPROTO, "%s sent no %s", s->what,
                        tap == -2 ? "tap device" : "pty master");
      if (tap == -2)
        tap = -1;
      return -1;
    }
  out->pid = pid;
  out->pidfd = pidfd;
  out->console_fd = steal_fd (&console);
  out->tap_fd = steal_fd (&tap);
  out->net = s->cfg->net;
  return 0;
}
