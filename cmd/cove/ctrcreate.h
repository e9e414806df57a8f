/* cove: making a container from run/create options: its record, root
   filesystem, volumes and config.json; and starting one through its
   monitor.  */
#ifndef COVE_CMD_CTRCREATE_H
#define COVE_CMD_CTRCREATE_H

#include "cmd/cove/runopts.h"
#include "pkg/state/state.h"
#include "storage/storage.h"

/* Enter the user namespace and create the container O describes: pull
   the image when the policy says so, record it, mount its root
   filesystem in a mount namespace of this process (which a monitor
   launched afterwards inherits), write config.json, and leave it
   created (STARTING: the caller starts it at once; it is left
   configured, which is not fsync'ed, for its monitor to record running).
   *OUT_ID gets its id (caller frees).  On failure nothing is left
   behind; *OUT_STATUS says the exit code (125, or a pull's).  */
int cove_ctr_create (struct cove_run_options *o,
                     const struct cove_storage_paths *paths,
                     struct cove_state_store *st, bool starting,
                     char **out_id, int *out_status,
                     struct cove_error **err);

/* Mount the root filesystem of the created or exited container C in this
   process's mount namespace (made private once, on first use).  Nothing
   to do for a --rootfs container.  */
int cove_ctr_mount (const struct cove_storage_paths *paths,
                    const struct cove_state_container *c,
                    struct cove_error **err);

/* Launch C's monitor (its root filesystem mounted by the caller) and
   return once the container runs; ATTACH_FD: -1 or the first client's
   socket end.  */
int cove_ctr_launch (const struct cove_storage_paths *paths,
                     const struct cove_state_container *c, int attach_fd,
                     int *out_status, struct cove_error **err);

/* 64 random hex digits (getrandom), as podman's container ids, in OUT.
   errnum from getrandom.  */
int cove_ctr_make_id (char out[65], struct cove_error **err);

#endif
