/* cove: cove's own settings ($XDG_CONFIG_HOME/cove/cove.conf) and the
   global options that override them.  */
#ifndef COVE_CMD_CONF_H
#define COVE_CMD_CONF_H

#include "pkg/util/error.h"
#include "storage/storage.h"

/* The environment variable through which the global --storage-driver
   reaches the command (and cove-full, which cove execs).  */
#define COVE_ENV_STORAGE_DRIVER "COVE_STORAGE_DRIVER"

/* The storage driver to use: --storage-driver, else cove.conf's
   `[storage] driver = "..."`, else auto (overlay, fuse-overlayfs, vfs).
   errnum EINVAL: an unknown driver name or a malformed cove.conf (the
   message names the file and line).  */
int cove_conf_storage_driver (const struct cove_storage_paths *paths,
                              enum cove_storage_driver *out,
                              struct cove_error **err);

/* The driver AUTO resolves to on this machine, for `cove info`: overlay
   when the kernel's overlayfs can be mounted in a user namespace (Linux
   5.11+ and overlay in /proc/filesystems), else fuse-overlayfs when
   /dev/fuse is usable and the program is installed, else vfs.  */
enum cove_storage_driver cove_conf_probe_driver (void);

#endif
