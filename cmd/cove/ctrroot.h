/* cove: a container's root filesystem opened from outside, for cp, diff
   and export.  */
#ifndef COVE_CMD_CTRROOT_H
#define COVE_CMD_CTRROOT_H

#include <stdbool.h>

#include "cmd/cove/ctr.h"
#include "storage/storage.h"

enum cove_ctr_root_mode
{
  /* cp out: a running container's live root (mounts and volumes
     included), else a read-only view of its filesystem.  */
  COVE_CTR_ROOT_READ,
  /* cp in: a running container's live root, else its root filesystem
     mounted read-write in a mount namespace of this process.  */
  COVE_CTR_ROOT_WRITE,
  /* export: the filesystem only (no /proc, no volumes), read-only, running
     or not.  */
  COVE_CTR_ROOT_FS,
};

struct cove_ctr_root
{
  struct cove_storage_paths paths;
  struct cove_state_store st;
  struct cove_state_container c;  /* the record */
  struct cove_storage *s;         /* NULL unless the image was needed */
  struct cove_storage_image img;
  int fd;                         /* the root directory (O_CLOEXEC) */
  bool live;                      /* fd is /proc/PID/root of a running one */
  char *mounted;                  /* a mount of ours to detach, or NULL */
  bool opened;
};

/* Enter the user namespace (the files belong to mapped ids), load
   NAME_OR_ID and open its root as MODE says into OUT.  A stopped
   container's root is mounted in a new mount namespace of this process
   (unshare CLONE_NEWNS), which nothing outside sees.  Paths below OUT->fd
   come from the container (untrusted): resolve them with
   cove_open_in_root.  errnum ENOENT: no such container (podman's
   message).  Close with cove_ctr_root_close, also after a failure.  */
int cove_ctr_root_open (const char *name_or_id, enum cove_ctr_root_mode mode,
                        struct cove_ctr_root *out, struct cove_error **err);
void cove_ctr_root_close (struct cove_ctr_root *r);

/* Is C's root an image's (mounted by storage/), or a --rootfs
   directory?  */
bool cove_ctr_root_from_image (const struct cove_state_container *c);

#endif
