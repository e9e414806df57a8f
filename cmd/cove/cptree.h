/* cove cp: copying a tree between a container and the host, every step
   relative to directory fds, never following a symlink below the top.  */
#ifndef COVE_CMD_CPTREE_H
#define COVE_CMD_CPTREE_H

#include <stdbool.h>
#include <sys/types.h>

#include "pkg/util/error.h"

struct cove_cp_owner
{
  bool keep;        /* keep the source's uid/gid (cp -a) */
  uid_t uid;        /* else every copy gets these */
  gid_t gid;
};

/* Copy the entry open as SRC (an O_PATH fd: opened with O_NOFOLLOW it may
   be a symlink, copied as one) to NAME in the directory DDIR: files,
   directories (recursively; onto an existing directory their content is
   merged), symlinks, fifos and device nodes (skipped with a warning where
   they cannot be made), with mode, owner as O says, and mtime.  An
   existing non-directory NAME is replaced.  Below SRC and DDIR no symlink
   is followed: both trees may belong to a container.  errnum EISDIR:
   NAME is a directory and SRC is not; ENOTDIR: the reverse.  */
int cove_cp_entry (int src, int ddir, const char *name,
                   const struct cove_cp_owner *o, struct cove_error **err);

/* Copy the content of the directory SRC (an O_PATH fd) into the directory
   DDIR, whose own metadata is kept.  */
int cove_cp_children (int src, int ddir, const struct cove_cp_owner *o,
                      struct cove_error **err);

/* Open again, with FLAGS, the file an O_PATH fd FD refers to (through
   /proc/self/fd, which does not resolve any path again).  */
int cove_cp_reopen (int fd, int flags, struct cove_error **err);

#endif
