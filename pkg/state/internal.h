/* cove state: private declarations.  */
#ifndef COVE_STATE_INTERNAL_H
#define COVE_STATE_INTERNAL_H

#include <dirent.h>

#include <errno.h>
#include <stdlib.h>

#include "pkg/state/state.h"

#define STATE_FILE "state.json"
#define STATE_MAX_SIZE (1 << 20)   /* a record is a few hundred bytes */
#define INIT_PREFIX ".init-"
#define NEW_PREFIX ".new-"
#define INIT_STALE_SECONDS 60  /* an .init- dir lives microseconds */
#define RM_PREFIX ".rm-"
#define CORRUPT_PREFIX ".corrupt-"

/* Call the store's test hook at POINT, when one is set.  */
static inline void
state_hook (struct cove_state_store *s, const char *point)
{
  if (s->test_hook)
    s->test_hook (point);
}

/* Read and parse ID's state.json below the record dir RECFD.  */
/* Open (making it) the store of records DATA_DIR/FOLDER: containers,
   pods.  */
int state_store_open_dir (struct cove_state_store *out, const char *data_dir,
                          const char *folder, struct cove_error **err);

int state_read_record (int recfd, const char *id,
                       struct cove_state_container *out,
                       struct cove_error **err);

/* The id names/NAME points to (caller frees), or NULL with errno set
   (ENOENT when the name is free).  */
char *state_name_target (struct cove_state_store *s, const char *name);

/* Remove names/NAME if it still points to ID: done under the store lock,
   so that it cannot remove a name another process has just re-reserved.  */
int state_name_release (struct cove_state_store *s, const char *name,
                        const char *id, struct cove_error **err);

/* Whether record C must survive a power cut (fsync'ed): a created or
   stopped container outlives a reboot; one being configured, running or
   paused, or --rm, does not (state_proc tells the truth after a boot).  */
static inline bool
state_durable (const struct cove_state_container *c)
{
  return !c->auto_remove && c->state != COVE_STATE_CONFIGURED
         && c->state != COVE_STATE_RUNNING && c->state != COVE_STATE_PAUSED;
}

/* Reserve NAME for ID: 0, or 1 when in use by a record (its id in
   *OUT_OWNER), or -1.  A name left by a dead process is taken over.  */
int state_name_reserve (struct cove_state_store *s, const char *name,
                        const char *id, char **out_owner,
                        struct cove_error **err);

/* A DIR stream over the store's root (a new fd, so that S->dirfd stays
   usable), or NULL with *ERR.  */
DIR *state_open_root (struct cove_state_store *s, struct cove_error **err);

/* true when the record ID is complete (ID/ exists) or being created by a
   live process (.new-ID/ whose flock is held).  */
bool state_record_present (struct cove_state_store *s, const char *id);

/* Try to sweep a staging leftover ENTRY (.new-* or .rm-*) of the root:
   returns 1 when it was one of a dead process and is removed, 0 when it is
   in use or not a leftover.  */
int state_sweep_leftover (struct cove_state_store *s, const char *entry,
                          bool do_remove, struct cove_error **err);

#endif
