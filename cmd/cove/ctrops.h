/* cove: what the lifecycle commands do to a container: signal it, stop
   it, wait for its monitor, remove it.  The caller is in the user
   namespace (cove_cmd_enter_userns): only there may it signal a process
   of a mapped uid other than its own.  */
#ifndef COVE_CMD_CTROPS_H
#define COVE_CMD_CTROPS_H

#include <stdbool.h>

#include "pkg/state/state.h"
#include "storage/storage.h"

/* A pidfd of C's init, checked to be that process (its start time), or
   -1 with errnum ESRCH when it is gone.  */
int cove_ctr_pidfd (const struct cove_state_container *c,
                    struct cove_error **err);

/* Send SIG to C's init.  errnum ESRCH when it is not running.  */
int cove_ctr_kill (const struct cove_state_container *c, int sig,
                   struct cove_error **err);

/* Record that a stop was asked for (no restart policy applies then).  */
int cove_ctr_request_stop (struct cove_state_store *st, const char *id,
                           struct cove_error **err);

/* Stop C: its stop signal (or SIGTERM), TIMEOUT seconds (-1: its own
   stop timeout), then SIGKILL; then wait for its monitor to record the
   exit.  A container that is not running is left as it is.  */
int cove_ctr_stop (struct cove_state_store *st,
                   const struct cove_state_container *c, int timeout,
                   struct cove_error **err);

/* Wait until C's monitor (if alive) has exited, at most TIMEOUT_MS; then
   correct a record that still says running.  */
void cove_ctr_wait_monitor (struct cove_state_store *st,
                            const struct cove_state_container *c,
                            int timeout_ms);

/* Remove C: with FORCE a running one is killed first (errnum EBUSY
   without it: podman's "container state improper", exit 2); with VOLUMES
   its anonymous volumes go too.  errnum ENOENT when another remove won.  */
int cove_ctr_remove (const struct cove_storage_paths *paths,
                     struct cove_state_store *st,
                     const struct cove_state_container *c, bool force,
                     bool volumes, struct cove_error **err);

/* Send SIG to every process of C's pid namespace (pause/unpause).  */
int cove_ctr_kill_all (const struct cove_state_container *c, int sig,
                       struct cove_error **err);

#endif
