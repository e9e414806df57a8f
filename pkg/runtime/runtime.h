/* cove runtime: create and run a container from its OCI config.json.  */
#ifndef COVE_RUNTIME_H
#define COVE_RUNTIME_H

#include <stdbool.h>
#include <sys/types.h>

#include "net/net.h"
#include "pkg/util/error.h"

/* A created container's first process.  */
struct cove_runtime_process
{
  pid_t pid;        /* in the caller's pid namespace */
  int pidfd;        /* O_CLOEXEC pidfd of PID */
  int console_fd;   /* pty master when process.terminal, else -1 */
  /* --network slirp (config.json's annotations io.cove.network = slirp):
     the container's tap device, for the monitor to serve with NET's
     settings; else -1.  */
  int tap_fd;
  struct cove_net_slirp_options net;
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
   returned in OUT->console_fd.  With a slirp network the tap device made
   in the container's netns comes back in OUT->tap_fd.

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

/* What `cove exec` runs in a running container; NULL/false fields keep
   the container's config.json.  */
struct cove_runtime_exec_options
{
  int init_pidfd;       /* pidfd of the container's init (its namespaces) */
  pid_t init_pid;       /* its pid, in the caller's pid namespace */
  char *const *args;    /* the command, NULL-terminated, at least one */
  char *const *env;     /* KEY=VALUE, replacing the config's same KEY */
  const char *user;     /* "name|uid[:group|gid]", in the container's
                           /etc/passwd and /etc/group */
  const char *workdir;  /* relative: to the config's cwd */
  bool terminal;        /* a pty of the container's devpts */
  bool privileged;      /* every capability, no seccomp */
  bool detach;          /* own session, stdio on /dev/null, no pty */
};

/* Run OPTS->args inside the running container whose directory (with its
   config.json) is BUNDLE: join the namespaces its config lists (mount,
   pid, ipc, uts, network, cgroup) through OPTS->init_pidfd, which makes it
   race-free against the reuse of the init's pid, and apply the config's
   confinement (user and groups, capabilities, no_new_privs, seccomp,
   rlimits, environment) with OPTS's overrides.  The caller must be in the
   container's user namespace.  STATE_DIR: as for cove_runtime_create.
   Returns once the process has exec'd, with OUT filled as by
   cove_runtime_create (the process is the caller's child:
   cove_runtime_wait follows it).  Without a terminal the process gets the
   caller's stdio, in a session of its own.  With OPTS->detach the caller
   does not wait: it closes OUT's fds, and the process is reparented when
   the caller exits.

   On failure -1, *ERR set, and *OUT_STATUS 127 (command not found, errnum
   ENOENT), 126 (cannot be executed) or 125 (ESRCH: the container's init
   is gone; ENOENT from -u: no such user; anything else).  */
int cove_runtime_exec (const char *bundle, const char *state_dir,
                       const struct cove_runtime_exec_options *opts,
                       struct cove_runtime_process *out, int *out_status,
                       struct cove_error **err);

/* The container's /etc/passwd (GROUP: /etc/group) under ROOTFD, an fd of
   its root (/proc/PID/root): opened inside it, capped at 4 MiB, "" when
   missing.  Caller frees.  The same as cove_spec_iddb_read/_name
   (pkg/spec/spec.h), which do the work.  */
char *cove_runtime_iddb_read (int rootfd, bool group, struct cove_error **err);
/* The name of ID in DB (as read above; untrusted, parsed defensively), or
   ID in decimal when it has none.  Caller frees.  */
char *cove_runtime_iddb_name (const char *db, unsigned int id);

#endif
