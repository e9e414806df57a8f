/* cove state: per-user JSON records of containers.

   Layout under DATA_DIR/containers (the store's root):
     <id>/state.json      the record (this module); config.json, the rootfs
                          and the log live beside it, written by others
     names/<name>         a symlink whose target is the id: the names index.
                          symlink(2) is atomic and fails with EEXIST, so a
                          name is reserved without any lock, and a process
                          killed at any instant leaves either no name or a
                          whole one
     lock                 the short store lock, taken only to repair a
                          dangling name (never while a container runs)
     .init-<id>/          a staging dir for an instant: made, locked, then
                          renamed to .new-<id> (swept when over 60 s old)
     .new-<id>/           a record being created: its name reserved and
                          state.json written, then renamed to <id>; its
                          creator holds flock on it, so a staging dir whose
                          flock is free is a crash leftover
     .rm-<id>/            a record being removed (renamed aside first: the
                          rename is the one atomic step, so of N concurrent
                          removes exactly one wins)
     .corrupt-<id>        a record set aside by cove_state_check

   Each record is locked with flock on its directory, held only while it
   is read, modified and rewritten.  */
#ifndef COVE_STATE_H
#define COVE_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pkg/util/error.h"

#define COVE_STATE_ID_LEN 64      /* ids are 64 lowercase hex digits */
#define COVE_STATE_NAME_MAX 128   /* longest container name */

enum cove_state_status
{
  COVE_STATE_CONFIGURED = 0,  /* recorded; nothing made yet */
  COVE_STATE_CREATED,         /* rootfs and config ready, process not started */
  COVE_STATE_RUNNING,
  COVE_STATE_PAUSED,
  COVE_STATE_STOPPED,         /* stopped by cove (stop/kill) */
  COVE_STATE_EXITED,          /* the process ended by itself */
  COVE_STATE_REMOVING,
};

/* The record of one container.  Strings may be NULL (absent).  */
struct cove_state_container
{
  char *id;                   /* 64 hex */
  char *name;
  int64_t created;            /* ns since the epoch */
  char *image_id;
  char *image_name;
  char *rootfs;
  enum cove_state_status state;
  pid_t pid;                  /* container's init, 0 when none */
  uint64_t pid_start;         /* its start time (/proc/PID/stat field 22) */
  pid_t monitor_pid;
  uint64_t monitor_start;
  int exit_code;
  int64_t started_at;         /* ns since the epoch, 0 when never */
  int64_t finished_at;
  bool oom_killed;
  unsigned restart_count;
  bool auto_remove;           /* --rm: the record never outlives its run,
                                 so it is never fsync'ed */
  char **labels;              /* NULL-terminated "key=value" strings, or NULL */
  json_t *extra;              /* an object owned by the record, for other
                                 modules; never NULL after parse/create */
};

/* An open store.  */
struct cove_state_store
{
  char *root;                 /* DATA_DIR/containers */
  int dirfd;                  /* of root (O_DIRECTORY); every access is
                                 relative to it */
  /* Tests only: called at named points of create and remove so that a test
     can kill the process there ("create:init", "create:named",
     "create:staged",
     "remove:renamed", "remove:unnamed").  NULL in production.  */
  void (*test_hook) (const char *point);
};

/* ---- records (record.c) ---- */

const char *cove_state_status_string (enum cove_state_status s);
/* errnum EINVAL for an unknown word.  */
int cove_state_status_parse (const char *s, enum cove_state_status *out,
                             struct cove_error **err);

/* Parse a state.json of LEN bytes (local but possibly truncated or
   corrupt: every field is type-checked, the id and name are validated
   since they become path components).  Fills OUT (free with
   cove_state_container_free).  errnum EINVAL on anything malformed.  */
int cove_state_container_parse (const char *data, size_t len,
                                struct cove_state_container *out,
                                struct cove_error **err);
/* Serialise C; caller frees.  */
char *cove_state_container_dump (const struct cove_state_container *c);
/* Free the fields of C (not C itself) and zero it.  */
void cove_state_container_free (struct cove_state_container *c);
/* Free an array of N records and the array.  */
void cove_state_container_list_free (struct cove_state_container *v, size_t n);

/* true when NAME is a valid container name: [a-zA-Z0-9][a-zA-Z0-9_.-]*,
   at most COVE_STATE_NAME_MAX bytes (podman's rule).  */
bool cove_state_name_valid (const char *name);
/* true when ID is 64 lowercase hex digits.  */
bool cove_state_id_valid (const char *id);

/* ---- the store (store.c) ---- */

/* Open (creating, 0700) DATA_DIR/containers and its names/ folder.  */
int cove_state_store_open (struct cove_state_store *out, const char *data_dir,
                           struct cove_error **err);
void cove_state_store_close (struct cove_state_store *s);

/* Record a new container.  TEMPLATE gives the fields; its id and name may
   be NULL: then a random id is made, and a free podman-style
   "adjective_surname" name is chosen.  The record is written (fsync'ed:
   a stopped container outlives a reboot) with TEMPLATE's state, and
   created set to now when 0.  On success OUT (may be NULL) gets a copy of
   the record.  errnum EEXIST "the container name X is already in use by
   Y", EINVAL for an invalid name or id.  Nothing is left behind on
   failure, and a crash at any instant leaves either no container or a
   whole one (staging leftovers are swept by list and check).  */
int cove_state_create (struct cove_state_store *s,
                       const struct cove_state_container *tmpl,
                       struct cove_state_container *out,
                       struct cove_error **err);

/* Find a container by full id, name, or unique id prefix (in that order,
   as podman).  OUT is filled.  errnum ENOENT "no container with name or ID
   X found", EINVAL when a prefix matches several.  */
int cove_state_load (struct cove_state_store *s, const char *name_or_id,
                     struct cove_state_container *out, struct cove_error **err);

/* Resolve NAME_OR_ID to a full id (caller frees) without reading the
   record; same errors as cove_state_load.  */
char *cove_state_lookup (struct cove_state_store *s, const char *name_or_id,
                         struct cove_error **err);

/* Called under the record lock with the current record; may change any
   field but id and name.  Returning -1 (with *ERR set) aborts the update
   and nothing is written.  */
typedef int (*cove_state_update_fn) (struct cove_state_container *c,
                                     void *ctx, struct cove_error **err);

/* Read-modify-write the record ID (a full id) under its lock.  The record
   is fsync'ed unless its new state is configured, running or paused, or
   it is auto_remove: those are facts of this boot (or of one command),
   which a power loss makes false anyway and which the liveness check
   corrects, and run -d should not pay for an fsync.  OUT
   (may be NULL) gets the record as written.  errnum ENOENT when the
   container is gone (also when removed while we waited for the lock).  */
int cove_state_update (struct cove_state_store *s, const char *id,
                       cove_state_update_fn fn, void *ctx,
                       struct cove_state_container *out,
                       struct cove_error **err);

/* Give the record ID the name NEW_NAME: the new name is reserved, the
   record rewritten, then the old name released.  errnum EEXIST when the
   name is taken, EINVAL when invalid, ENOENT when the record is gone.  */
int cove_state_rename (struct cove_state_store *s, const char *id,
                       const char *new_name, struct cove_error **err);

/* Remove the record ID (a full id): its whole directory and its name.
   Idempotent and race-free: of several concurrent removes exactly one
   returns 0, the others ENOENT.  */
int cove_state_remove (struct cove_state_store *s, const char *id,
                       struct cove_error **err);

/* All records, sorted by creation time (oldest first).  A record that
   cannot be read (truncated, garbage, missing state.json) is skipped and
   described in *OUT_WARNINGS (a NULL-terminated "FILE: why" list, never
   NULL on success; caller frees with cove_strv_free) for the caller to
   print.  Crash leftovers of create and remove are swept on the way.
   *OUT gets a new array of *OUT_N records (free with
   cove_state_container_list_free).  */
int cove_state_list (struct cove_state_store *s,
                     struct cove_state_container **out, size_t *out_n,
                     char ***out_warnings, struct cove_error **err);

/* ---- liveness (proc.c) ---- */

/* Start time of PID (/proc/PID/stat field 22, clock ticks since boot),
   the key that tells a pid from a later reuse of the same number.  errnum
   ENOENT when there is no such process.  */
int cove_state_proc_start_time (pid_t pid, uint64_t *out,
                                struct cove_error **err);

/* true when PID exists and started at START (a zombie counts as dead).  */
bool cove_state_proc_alive (pid_t pid, uint64_t start);

/* What C's state really is: for a record saying running or paused whose
   process (pid + start time) is gone, COVE_STATE_EXITED; otherwise
   C->state.  *OUT_MONITOR_ALIVE (may be NULL) tells whether the monitor
   is alive.  The record is not changed: the caller updates it.  */
enum cove_state_status cove_state_effective (const struct cove_state_container *c,
                                             bool *out_monitor_alive);

/* ---- cove system check (check.c) ---- */

enum cove_state_problem_kind
{
  COVE_STATE_PROBLEM_CORRUPT,        /* state.json unreadable or invalid */
  COVE_STATE_PROBLEM_HALF_CREATED,   /* record dir without state.json */
  COVE_STATE_PROBLEM_DANGLING_NAME,  /* names/X points to no record */
  COVE_STATE_PROBLEM_UNNAMED,        /* record whose name is not indexed */
  COVE_STATE_PROBLEM_LEFTOVER,       /* .new-/.rm- staging of a dead process */
};

struct cove_state_problem
{
  enum cove_state_problem_kind kind;
  char *path;                 /* the file or directory concerned */
  char *msg;                  /* what is wrong, and what was done */
  bool repaired;
};

/* Find the problems of the store; with REPAIR also fix them: dangling
   names are removed, corrupt and half-created records are renamed aside
   to .corrupt-<id> (kept for inspection, out of every listing), unnamed
   records get their name back when it is free, leftovers are removed.
   *OUT gets a new array of *OUT_N problems (free with
   cove_state_problems_free).  */
int cove_state_check (struct cove_state_store *s, bool repair,
                      struct cove_state_problem **out, size_t *out_n,
                      struct cove_error **err);
void cove_state_problems_free (struct cove_state_problem *v, size_t n);

/* ---- pods (pod.c) ---- */

/* Open (creating, 0700) DATA_DIR/pods: a store of pod records, laid out
   as the container store and used with the same functions (create, load,
   update, remove, list), whose records are pods: id, name, created,
   labels and the pod's settings in extra.  Their errors name containers
   ("no container with name or ID"): the caller words them for pods by
   errnum (ENOENT, EEXIST).  Close with cove_state_store_close.  */
int cove_state_pod_store_open (struct cove_state_store *out,
                               const char *data_dir, struct cove_error **err);

/* ---- names (names.c) ---- */

/* A random "adjective_surname" name; caller frees.  */
char *cove_state_name_generate (void);

#endif
