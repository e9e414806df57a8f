/* cove runtime: create and run a container from its OCI config.json.  */
#ifndef COVE_RUNTIME_H
#define COVE_RUNTIME_H

#include <stdbool.h>
#include <sys/types.h>

#include "pkg/util/error.h"

/* A created container's first process.  */
struct cove_runtime_process
{
  pid_t pid;        /* in the caller's pid namespace */
  int pidfd;        /* O_CLOEXEC pidfd of PID */
  int console_fd;   /* pty master when process.terminal, else -1 */
};

/* Create the container described by BUNDLE/config.json (root.path relative
   to BUNDLE when not absolute) and start its process: new namespaces as the
   config lists them, mounts, pivot_root, devices, masked and read-only
   paths, hostname, rlimits, user and groups, capabilities, no_new_privs,
   seccomp, then exec of process.args.  The caller must already be in the
   user namespace (rootless/).  STATE_DIR (the user's runtime directory, or
   NULL) keeps compiled seccomp programs between runs (STATE_DIR/seccomp):
   compiling the default profile costs tens of milliseconds, loading a
   compiled one a fraction of one.  Returns once the process has exec'd.  The
   container's stdin/stdout/stderr are the caller's, unless process.terminal,
   where a pty is opened in the container's own devpts and its master
   returned in OUT->console_fd.

   On failure returns -1 and sets *ERR, and *OUT_STATUS to the exit code cove
   must report: 127 when process.args[0] is not found (errnum ENOENT), 126
   when it cannot be executed (EACCES, ENOEXEC, ...), 125 for every other
   failure.  Nothing is left running or mounted after a failure.  */
int cove_runtime_create (const char *bundle, const char *state_dir,
                         struct cove_runtime_process *out,
                         int *out_status, struct cove_error **err);

/* Wait for PROC to exit while relaying: with a console, the caller's
   terminal (raw mode, restored after; window size copied at start and on
   SIGWINCH) <-> the pty master; signals delivered to the caller (SIGTERM,
   SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, ...) forwarded to the container
   when SIG_PROXY.  *OUT_STATUS: the exit code, or 128+N when the process
   died of signal N.  Closes PROC's fds.  */
int cove_runtime_wait (struct cove_runtime_process *proc, bool sig_proxy,
                       int *out_status, struct cove_error **err);

#endif
