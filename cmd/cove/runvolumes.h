/* cove: the volumes and --init of `cove run`/`create`: -v, --mount,
   --volumes-from and the image's VOLUMEs turned into the bind and tmpfs
   mounts pkg/spec understands, named and anonymous volumes made as
   needed (storage/, volumes section), and the init binary found.  */
#ifndef COVE_CMD_RUNVOLUMES_H
#define COVE_CMD_RUNVOLUMES_H

#include <jansson.h>

#include "cmd/cove/runopts.h"
#include "pkg/state/state.h"
#include "pkg/util/error.h"
#include "storage/storage.h"

/* With O->init, find cove-init and set O->req.init_path to it:
   O->init_path (--init-path, made absolute), else `cove-init` beside this
   binary, else ../cove-init/cove-init from it (a build tree), else
   COVE_LIBEXECDIR/cove-init.  The path lives as long as the process.
   errnum ENOENT when none is there.  Nothing to do without O->init.  */
int cove_run_init_prepare (struct cove_run_options *o,
                           struct cove_error **err);

/* Called by run/create once the image is resolved (O->image_config set)
   and O->req.id is known, before config.json is written.  Rewrites
   O->req.volumes into "HOSTPATH:DST[:OPTS]" entries (absolute sources)
   and appends to O->req.tmpfs, from:
     -v NAME:/dst[:opts]    a named volume, created when missing
     -v /host:/dst[:opts]   a bind mount (./rel is made absolute); z and Z
                            are accepted and ignored (no SELinux)
     -v /dst                an anonymous volume
     --mount type=bind|volume|tmpfs,source=,target=,ro,...  (O->mounts)
     --volumes-from CTR[:ro|rw]  CTR's volumes and bind mounts, read from
                            its config.json (O->volumes_from)
     the image's VOLUMEs    an anonymous volume each, unless a mount above
                            has that destination.
   Sets in EXTRA (the record's extra object; may be NULL) "volumes" (the
   names of every volume mounted) and "anon_volumes" (those made here
   for the image or `-v /dst`), when there are any.  When O->req.rootfs is
   set (a --rootfs run, or an image's rootfs already mounted) new volumes
   get their content copied up; otherwise call cove_run_volumes_copy_up
   once it is mounted.  Runs in the user namespace.  errnum EINVAL for a
   malformed option (podman's messages), ENOENT: no such container for
   --volumes-from.  On failure the volumes made here are removed again.  */
int cove_run_volumes_prepare (struct cove_run_options *o,
                              const struct cove_storage_paths *paths,
                              json_t *extra, struct cove_error **err);

/* The copy-up of the volumes in O->req.volumes (as rewritten by
   cove_run_volumes_prepare) from the root filesystem O->req.rootfs: each
   volume that still needs it gets the content of its destination in the
   image (not with the nocopy option).  Idempotent.  */
int cove_run_volumes_copy_up (const struct cove_run_options *o,
                              const struct cove_storage_paths *paths,
                              struct cove_error **err);

/* `rm -v`: remove the anonymous volumes of C (its extra "anon_volumes")
   that no other container uses; a volume already gone is not an error.
   Runs in the user namespace.  Every volume is tried; the first failure
   is returned.  */
int cove_volumes_remove_anonymous (const struct cove_storage_paths *paths,
                                   const struct cove_state_container *c,
                                   struct cove_error **err);

/* Which containers use which volumes: *OUT gets an object mapping a
   volume name to an array of the ids of the containers whose record
   lists it in extra "volumes", leaving out container EXCEPT_ID (may be
   NULL).  Caller owns it.  */
int cove_volumes_users (const struct cove_storage_paths *paths,
                        const char *except_id, json_t **out,
                        struct cove_error **err);

#endif
