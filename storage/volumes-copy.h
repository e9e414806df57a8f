/* storage/: the copy-up of a volume (volumes-copy.c).  Private to
   storage/volumes.c.  */
#ifndef COVE_STORAGE_VOLUMES_COPY_H
#define COVE_STORAGE_VOLUMES_COPY_H

#include "pkg/util/error.h"

/* Copy the tree at PATH inside ROOTFS (resolved in root) into the empty
   directory DEST, DEST taking PATH's owner, mode and times.  PATH missing
   or not a directory, or DEST not empty: nothing is copied, and 0.  */
int storage_volume_copy_tree (const char *rootfs, const char *path,
                              const char *dest, struct cove_error **err);

#endif
