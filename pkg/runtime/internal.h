/* pkg/runtime private declarations.  */
#ifndef COVE_RUNTIME_INTERNAL_H
#define COVE_RUNTIME_INTERNAL_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "net/net.h"
#include "pkg/runtime/runtime.h"
#include "pkg/runtime/seccomp-filter.h"

/* The capability sets of process.capabilities, as bit masks (bit N =
   capability N; numbers above 63 are unknown to cove and dropped).  */
enum runtime_capset
{
  RUNTIME_CAP_BOUNDING,
  RUNTIME_CAP_EFFECTIVE,
  RUNTIME_CAP_INHERITABLE,
  RUNTIME_CAP_PERMITTED,
  RUNTIME_CAP_AMBIENT,
  RUNTIME_CAP_N
};

struct runtime_mount
{
  char *destination;  /* absolute, inside the container */
  char *type;         /* "bind" for bind mounts, never NULL */
  char *source;       /* may be NULL */
  char **options;     /* NULL-terminated, never NULL */
};

struct runtime_namespace
{
  int flag;           /* CLONE_NEW* */
  char *path;         /* join this one; NULL: create a new one */
};

struct runtime_device
{
  char *path;         /* absolute, inside the container */
  char type;          /* 'c', 'b', 'u' or 'p' */
};

struct runtime_rlimit
{
  int resource;       /* RLIMIT_* */
  rlim_t soft;
  rlim_t hard;
};

/* config.json as the runtime uses it.  Every string is owned.  */
struct runtime_config
{
  char *root_path;    /* absolute (joined to the bundle when relative) */
  bool root_readonly;
  char *hostname;     /* NULL: leave it */

  bool terminal;
  uid_t uid;
  gid_t gid;
  gid_t *additional_gids;
  size_t n_additional_gids;
  char **args;        /* NULL-terminated, at least one */
  char **env;         /* NULL-terminated, never NULL */
  char *cwd;          /* absolute */
  bool has_caps;      /* process.capabilities present */
  uint64_t caps[RUNTIME_CAP_N];
  struct runtime_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privs;

  struct runtime_mount *mounts;
  size_t n_mounts;
  struct runtime_namespace *namespaces;
  size_t n_namespaces;
  struct runtime_device *devices;
  size_t n_devices;
  char **masked_paths;    /* NULL-terminated, never NULL */
  char **readonly_paths;  /* NULL-terminated, never NULL */
  char **sysctl_keys;     /* NULL-terminated, never NULL */
  char **sysctl_values;   /* parallel to sysctl_keys */
  json_t *seccomp;        /* linux.seccomp, a reference; NULL: none */
  /* annotations io.cove.network = slirp: a tap device for the monitor.  */
  bool tap;
  struct cove_net_slirp_options net;
  /* SECCOMP compiled by the parent before clone (compiling allocates and
     takes milliseconds; the child only loads it).  */
  bool has_filter;
  struct cove_runtime_seccomp filter;
};

/* net.c */

/* The slirp annotations of ROOT (config.json) into CFG->tap and ->net.
   errnum EINVAL: a bad option.  */
int runtime_config_parse_network (json_t *root, struct runtime_config *cfg,
                                  struct cove_error **err);
/* In the child, in its namespaces: with a new netns bring lo up and, with
   CFG->tap, create the tap device and send its fd over SYNC.  */
int runtime_net_setup (const struct runtime_config *cfg, int sync,
                       struct cove_error **err);

/* config.c */

/* Parse the config.json document DATA (LEN bytes) of the bundle directory
   BUNDLE.  Caller frees the result with runtime_config_free.  errnum
   EINVAL: malformed JSON, a missing or ill-typed required field, an unknown
   namespace type, rlimit or capability name.  */
struct runtime_config *runtime_config_parse (const char *data, size_t len,
                                             const char *bundle,
                                             struct cove_error **err);
void runtime_config_free (struct runtime_config *cfg);

/* The CLONE_NEW* flags of the namespaces to create (those without path).  */
int runtime_config_clone_flags (const struct runtime_config *cfg);
/* The namespace of type FLAG, or NULL when it is shared with the caller.  */
const struct runtime_namespace *
runtime_config_namespace (const struct runtime_config *cfg, int flag);

/* mounts.c: in the child, in its new mount namespace.  */

/* Make the mount tree private, bind the rootfs onto itself and return an
   O_PATH fd of it.  */
int runtime_rootfs_prepare (const struct runtime_config *cfg,
                            struct cove_error **err);
/* Mount the config's mounts under ROOTFD, then /dev's devices.  */
int runtime_mounts_apply (const struct runtime_config *cfg, int rootfd,
                          struct cove_error **err);
/* Mask and write-protect linux.maskedPaths and readonlyPaths.  */
int runtime_paths_protect (const struct runtime_config *cfg, int rootfd,
                           struct cove_error **err);
/* pivot_root into ROOTFD and detach the old root.  */
int runtime_rootfs_pivot (int rootfd, struct cove_error **err);
/* After pivot_root: make / read-only when root.readonly.  */
int runtime_rootfs_finish (const struct runtime_config *cfg,
                           struct cove_error **err);

/* Open PATH (absolute, inside the container) under ROOTFD, never leaving
   it (RESOLVE_IN_ROOT).  FLAGS as for open; O_CLOEXEC is added.  */
int runtime_open_in_root (int rootfd, const char *path, int flags,
                          struct cove_error **err);
/* Bind SRCFD (an fd of the source, recursive when RECURSIVE) onto DSTFD with
   the MOUNT_ATTR_* bits ATTRS set.  Uses open_tree/mount_setattr/move_mount
   so that flags the source has locked (nosuid, nodev...) are kept.  */
int runtime_bind_fd (int srcfd, int dstfd, bool recursive, uint64_t attrs,
                     struct cove_error **err);
/* Create the mount point PATH under ROOTFD when it is missing: a directory,
   or an empty file when AS_FILE, with missing parents.  Returns an O_PATH fd
   of it.  */
int runtime_mountpoint (int rootfd, const char *path, bool as_file,
                        struct cove_error **err);

/* devices.c: in the child, before pivot_root.  */

/* The device nodes (the runtime-spec defaults and linux.devices), bound
   from the host onto empty files, and /dev's symlinks.  The defaults and
   symlinks only when /dev is a tmpfs of the config, so that an image's own
   /dev is never written to.  */
int runtime_devices_create (const struct runtime_config *cfg, int rootfd,
                            struct cove_error **err);

/* process.c: in the child.  */

int runtime_process_hostname (const struct runtime_config *cfg,
                              struct cove_error **err);
int runtime_process_rlimits (const struct runtime_config *cfg,
                             struct cove_error **err);
/* Before pivot_root: write linux.sysctl to the container's /proc/sys under
   ROOTFD (its fresh proc, showing the child's namespaces).  */
int runtime_process_sysctl (const struct runtime_config *cfg, int rootfd,
                            struct cove_error **err);
/* After pivot_root: open a pty in the container's devpts, make its slave
   the controlling terminal and stdio, and send the master over SYNC.  */
int runtime_process_terminal (int sync, struct cove_error **err);
/* caps.c: become the config's user (groups, gid, uid) with its
   capabilities.  Needs CAP_SETPCAP, CAP_SETUID and CAP_SETGID on entry.  */
int runtime_process_identity (const struct runtime_config *cfg,
                              struct cove_error **err);
/* chdir to cwd, become the user, set capabilities, no_new_privs and
   seccomp, and exec process.args.  Returns only on failure, with
   *OUT_STATUS 127 (not found), 126 (cannot run) or 125.  */
int runtime_process_exec (const struct runtime_config *cfg, int *out_status,
                          struct cove_error **err);

/* spawn.c: what create.c and exec.c share to start a process.  */

/* BUNDLE/config.json, parsed (runtime_config_parse), capped at 16 MiB.  */
struct runtime_config *runtime_config_load (const char *bundle,
                                            struct cove_error **err);
/* Compile CFG's linux.seccomp (if any) into CFG->filter, in the parent:
   the child only loads it.  Compiled programs are cached per user in
   STATE_DIR/seccomp (STATE_DIR may be NULL).  */
int runtime_seccomp_prepare (struct runtime_config *cfg, const char *state_dir,
                             struct cove_error **err);
/* clone3 with FLAGS and, when OUT_PIDFD, CLONE_PIDFD; SIGCHLD as exit
   signal unless CLONE_PARENT.  Returns the pid, 0 in the child, -1 with
   errno.  The caller is assumed single-threaded, as for fork: the child
   runs on a copy of this stack and heap.  */
pid_t runtime_clone3 (uint64_t flags, int *out_pidfd);

/* How runtime_spawn_joined gets the process into namespaces that apply
   to children only (a pid namespace joined by setns), without the caller
   leaving its own: an intermediate process runs JOIN, then clones the
   process with CHILD_FLAGS as the caller's child (CLONE_PARENT).  */
struct runtime_join
{
  int (*join) (const void *ctx, struct cove_error **err);
  const void *ctx;
  uint64_t child_flags;   /* CLONE_NEW* the process gets after JOIN */
  const char *what;       /* the error's message when that fails */
};
/* Returns the process's pid in the caller, with *OUT_PIDFD (the caller
   reaps it), and 0 in the process itself.  */
pid_t runtime_spawn_joined (const struct runtime_join *j, int *out_pidfd,
                            struct cove_error **err);

/* How runtime_start makes its process: SPAWN clones it (0 in it; its pid
   and a pidfd in the caller), SETUP runs in it up to the exec of CFG's
   process (runtime_process_exec), with SYNC its end of the socket.  */
struct runtime_starter
{
  const struct runtime_config *cfg;
  pid_t (*spawn) (const void *ctx, int *out_pidfd, struct cove_error **err);
  int (*setup) (const void *ctx, int sync, struct cove_error **err);
  const void *ctx;
  const char *what;       /* "container", "exec process": for messages */
  bool tap;               /* the child sends a tap fd first (net.c) */
};
/* Start the process and follow it over the sync socket (see spawn.c)
   until it has exec'd: OUT as for cove_runtime_create.  A process that
   failed is reaped, and *OUT_STATUS is its 126 or 127, else 125.  */
int runtime_start (const struct runtime_starter *s,
                   struct cove_runtime_process *out, int *out_status,
                   struct cove_error **err);

/* exec-user.c: a user of a running container, "name|uid[:group|gid]",
   resolved by cove_spec_user_resolve (pkg/spec, the resolver of `run -u`)
   under ROOTFD (the container's root, untrusted).  errnum ENOENT: no such
   user or group (podman's message); EINVAL: malformed.  */
struct runtime_user
{
  uid_t uid;
  gid_t gid;
  gid_t *gids;        /* supplementary groups, owned */
  size_t n_gids;
  char *home;         /* from passwd, "/" when unknown */
};
int runtime_user_resolve (int rootfd, const char *spec,
                          struct runtime_user *out, struct cove_error **err);
void runtime_user_free (struct runtime_user *u);

/* wait.c */

/* The exit code of a process from its waitid result: its status, or 128+N
   when it died of signal N.  */
int runtime_exit_status (const siginfo_t *info);

#endif
