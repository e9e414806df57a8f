/* cove spec: a request (and later an image config) becomes an OCI runtime
   config.json.  The document is the one description of a container.  */
#ifndef COVE_SPEC_H
#define COVE_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pkg/util/error.h"

/* Where the init of --init is mounted in the container.  */
#define COVE_SPEC_INIT_PATH "/run/cove-init"

/* How a namespace of the container is made.  */
enum cove_spec_ns
{
  COVE_SPEC_NS_PRIVATE = 0,  /* a new namespace (the default) */
  COVE_SPEC_NS_HOST,         /* share the caller's */
  COVE_SPEC_NS_NONE,         /* network only: a new netns with lo alone */
  COVE_SPEC_NS_PATH,         /* join the namespace at ns_path[kind]
                                (--network container:NAME, ns:PATH) */
  COVE_SPEC_NS_SLIRP,        /* network only: a new netns with lo and a tap
                                device that the monitor serves with
                                libslirp (issue 5) */
};

/* --network slirp[:OPTIONS], podman's slirp4netns options.  */
struct cove_spec_slirp
{
  unsigned mtu;               /* 0: 65520 */
  bool disable_ipv6;          /* enable_ipv6=false */
  bool allow_host_loopback;
  const char *cidr;           /* NULL: 10.0.2.0/24 */
  const char *outbound_addr;  /* NULL: the host's choice */
  const char *port_handler;   /* NULL: the default; "slirp" or "relay" */
};

enum cove_spec_ns_kind
{
  COVE_SPEC_NS_PID,
  COVE_SPEC_NS_NET,
  COVE_SPEC_NS_IPC,
  COVE_SPEC_NS_UTS,
  COVE_SPEC_NS_CGROUP,
  COVE_SPEC_NS_COUNT,
};

/* What `cove run`/`create` asked for, already parsed from argv by cmd/.
   Arrays of strings are NULL-terminated and may be NULL.  */
struct cove_spec_request
{
  const char *id;           /* 64 hex digits */
  const char *rootfs;       /* absolute path of the root filesystem */
  char **command;           /* CMD [ARG...] given after the image/--rootfs */
  char **entrypoint;        /* --entrypoint, split; NULL when not given */
  bool entrypoint_set;      /* --entrypoint given (even as "") */
  char **env;               /* -e KEY=VALUE or KEY (taken from the caller) */
  char **env_files;         /* --env-file paths */
  const char *workdir;      /* -w */
  const char *user;         /* -u user[:group], names or numbers */
  char **groups;            /* --group-add */
  const char *hostname;     /* --hostname; default: first 12 of id */
  bool terminal;            /* -t */
  bool read_only;           /* --read-only */
  bool no_new_privileges;   /* --security-opt no-new-privileges */
  char **cap_add;           /* --cap-add (ALL allowed) */
  char **cap_drop;          /* --cap-drop (ALL allowed) */
  const char *seccomp;      /* NULL: default profile, "unconfined", or a file */
  char **volumes;           /* -v SRC:DST[:OPTS] */
  char **tmpfs;             /* --tmpfs DST[:OPTS] */
  const char *init_path;    /* --init: this host file (cove-init) is
                               bind-mounted read-only at /run/cove-init
                               and process.args becomes
                               ["/run/cove-init", "--", ARGS...] */
  char **ulimits;           /* --ulimit NAME=SOFT[:HARD] */
  enum cove_spec_ns ns[COVE_SPEC_NS_COUNT];
  const char *ns_path[COVE_SPEC_NS_COUNT];  /* with COVE_SPEC_NS_PATH */
  struct cove_spec_slirp slirp;             /* with COVE_SPEC_NS_SLIRP */
  /* Files of the container's directory bound over the image's (NULL:
     none): /etc/hosts, /etc/resolv.conf, /etc/hostname.  */
  const char *etc_hosts;
  const char *etc_resolv;
  const char *etc_hostname;
  /* From the image's config (all NULL for a --rootfs run).  The request's
     own options win over them, as in podman: an explicit COMMAND replaces
     the image's Cmd, --entrypoint replaces its Entrypoint and drops its
     Cmd, -e overrides Env, -w WorkingDir, -u User.  */
  char **image_env;
  char **image_cmd;
  char **image_entrypoint;
  const char *image_workdir;
  const char *image_user;
};

/* Build the config.json document for REQ.  Names of users and groups are
   resolved from the rootfs's /etc/passwd and /etc/group, read inside the
   rootfs (openat2 RESOLVE_IN_ROOT).  errnum EINVAL: a malformed option (the
   message names it); ENOENT: an unknown user or group, a missing volume
   source or env file.  Caller owns the result (json_decref).  */
json_t *cove_spec_generate (const struct cove_spec_request *req,
                            struct cove_error **err);

/* The default capability set of podman: CHOWN DAC_OVERRIDE FOWNER FSETID
   KILL NET_BIND_SERVICE SETFCAP SETGID SETPCAP SETUID SYS_CHROOT, as
   "CAP_..." strings; NULL-terminated, static.  */
extern const char *const cove_spec_default_caps[];

/* Seccomp (pkg/spec/seccomp.c).  The built-in default profile, with the
   semantics of the default profile of containers-common and docker, as an
   OCI `linux.seccomp` object.  CAPS (NULL-terminated "CAP_..." names) are
   the container's capabilities, for the rules that depend on them.  Caller
   owns the result.  */
json_t *cove_spec_seccomp_default (const char *const *caps,
                                   struct cove_error **err);

/* Load a Docker/OCI JSON seccomp profile from PATH (docker's format:
   defaultAction, defaultErrnoRet, architectures/archMap, syscalls with
   names/action/errnoRet/args/includes/excludes) and convert it to an OCI
   `linux.seccomp` object for CAPS.  errnum ENOENT: no such file; EINVAL: not
   a valid profile (the message says what is wrong).  Caller owns it.  */
json_t *cove_spec_seccomp_from_file (const char *path,
                                     const char *const *caps,
                                     struct cove_error **err);

/* The same, for a profile held in BUF (LEN bytes, no NUL needed); used by
   cove_spec_seccomp_from_file and the fuzzer.  errnum EINVAL.  */
json_t *cove_spec_seccomp_from_buffer (const char *buf, size_t len,
                                       const char *const *caps,
                                       struct cove_error **err);

/* Users (pkg/spec/user.c).  A process identity resolved in a container's
   own /etc/passwd and /etc/group.  */
struct cove_spec_user
{
  uid_t uid;
  gid_t gid;
  gid_t *gids;        /* supplementary groups, no repeats; owned */
  size_t n_gids;
  char *home;         /* from passwd, "/" when unknown; owned */
};

/* Resolve USER ("name|uid[:group|gid]") and GROUPS (--group-add names or
   gids, NULL-terminated, may be NULL) under ROOTFD, an fd of the
   container's root: its rootfs before it runs (`run -u`), /proc/PID/root
   of its init after (`exec -u`).  /etc/passwd and /etc/group are opened
   inside the root (openat2 RESOLVE_IN_ROOT; untrusted, parsed
   defensively), a missing one reads as empty.  The supplementary groups
   are those listing the user as a member, then GROUPS.  A uid without a
   passwd entry gets gid 0 and HOME "/", as in podman.  On failure OUT is
   zeroed.  errnum EINVAL: an empty user or group; ENOENT: no such user
   or group (podman's message).  Free OUT with cove_spec_user_free.  */
int cove_spec_user_resolve (int rootfd, const char *user, char *const *groups,
                            struct cove_spec_user *out,
                            struct cove_error **err);
void cove_spec_user_free (struct cove_spec_user *u);

/* The container's /etc/passwd (GROUP: /etc/group) under ROOTFD, as above:
   opened inside it, capped at 4 MiB, "" when missing.  Caller frees.  */
char *cove_spec_iddb_read (int rootfd, bool group, struct cove_error **err);
/* The name of ID in DB (as read above; untrusted, parsed defensively), or
   ID in decimal when it has none.  Caller frees.  */
char *cove_spec_iddb_name (const char *db, unsigned int id);

/* Environment (pkg/spec/env.c).  The entries of --env-file and -e of
   run, create and exec: each line of the files ENV_FILES in order (blank
   lines and `#` comments skipped, leading blanks and a CR at the end
   dropped), then each of ENV.  KEY=VALUE is taken as it is; KEY alone
   takes the caller's value and is dropped when the caller has none, as
   in podman.  The vector keeps that order, with repeated keys: a later
   entry wins over an earlier one.  Returns a NULL-terminated vector
   (empty when there is nothing), freed with cove_strv_free.  errnum
   EINVAL: an entry empty or starting with `=`; a file's read errors
   (ENOENT...), with the message naming the file.  */
char **cove_spec_env_collect (char *const *env_files, char *const *env,
                              struct cove_error **err);

/* Mount options: true when the comma-separated OPTS (may be NULL) hold
   the option WORD (an exact item: "ro" is not in "rom").  */
bool cove_spec_mount_option_has (const char *opts, const char *word);

#endif
