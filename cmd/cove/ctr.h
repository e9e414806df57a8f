/* cove: containers as the commands see them.  Where a container's files
   are, what its record's `extra` object holds, and loading a record by
   name or id with its liveness corrected.

   Files of container ID:
     DATA_DIR/containers/ID/state.json   the record (pkg/state)
     DATA_DIR/containers/ID/config.json  its OCI config (pkg/spec); its
                                         process.args is the command
     DATA_DIR/containers/ID/ctr.log      stdout/stderr, k8s-file format
     DATA_DIR/containers/ID/upper|work|merged|rootfs|storage-driver
                                         the root filesystem (storage/)
     RUNTIME_DIR/ID/attach               the monitor's attach socket
                                         (SOCK_SEQPACKET), while it runs

   Keys of the record's `extra` object (all optional; absent = default):
     "command"        [string]   process.args, for ps and inspect
     "image_rootfs"   bool       the rootfs is an image's, mounted by
                                 storage/ (false: a --rootfs directory)
     "tty", "interactive", "rm", "init"   bool
     "restart"        string     no | on-failure | always | unless-stopped
     "restart_max"    int        on-failure's retry count, 0 = no limit
     "stop_signal"    int        0: the image's StopSignal or SIGTERM
     "stop_timeout"   int        seconds, default 10
     "log_driver"     string     k8s-file (default) | none
     "log_max_size"   int        bytes, 0 = no limit
     "stop_requested" bool       set by stop/kill/rm -f before they signal,
                                 so that no restart policy brings it back
     "volumes"        [string]   names of the named and anonymous volumes
                                 it mounts
     "anon_volumes"   [string]   those of them made for the image's VOLUMEs
                                 (removed by rm -v)
     "ports"          [object]   published ports (issue 5)
     "cidfile"        string
     "pod"            string     the id of its pod (cmd/cove/pod.h)
     "pod_infra"      bool       it is its pod's infra container
*/
#ifndef COVE_CMD_CTR_H
#define COVE_CMD_CTR_H

#include <stdbool.h>

#include "pkg/state/state.h"
#include "pkg/util/error.h"
#include "storage/storage.h"

/* Fill *PATHS and open the container store (no user namespace needed:
   the records belong to the user).  Close with cove_ctr_store_close.  */
int cove_ctr_store_open (struct cove_storage_paths *paths,
                         struct cove_state_store *st, struct cove_error **err);
void cove_ctr_store_close (struct cove_storage_paths *paths,
                           struct cove_state_store *st);

/* Paths of container ID; caller frees.  */
char *cove_ctr_dir (const struct cove_storage_paths *p, const char *id);
char *cove_ctr_file (const struct cove_storage_paths *p, const char *id,
                     const char *name);  /* DATA_DIR/containers/ID/NAME */
char *cove_ctr_run_dir (const struct cove_storage_paths *p, const char *id);

/* Load NAME_OR_ID (full id, name, or unique id prefix).  A record that
   says running or paused whose process is gone is reported as exited
   (and rewritten so, when its monitor is dead too).  errnum ENOENT with
   podman's message "no container with name or ID \"X\" found: no such
   container".  */
int cove_ctr_load (struct cove_state_store *st, const char *name_or_id,
                   struct cove_state_container *out, struct cove_error **err);

/* A named point of a command where the tests may have cove killed
   (COVE_TEST_KILL_AT); nothing in production.  */
void cove_ctr_test_point (const char *point);

/* The paths of a container's root that the runtime and cove mount over
   (/etc/hosts, /proc, /run/cove-init...), NULL-terminated: `diff` does
   not list them, as podman's does not, and `commit` leaves them out when
   it was cove that made them (empty).  */
extern const char *const cove_ctr_mount_targets[];
bool cove_ctr_is_mount_target (const char *path);

/* Typed reads of the record's extra object, with defaults.  */
bool cove_ctr_extra_bool (const struct cove_state_container *c,
                          const char *key);
long long cove_ctr_extra_int (const struct cove_state_container *c,
                              const char *key, long long dflt);
const char *cove_ctr_extra_str (const struct cove_state_container *c,
                                const char *key);

#endif
