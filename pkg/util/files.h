/* cove: file helpers.  */
#ifndef COVE_UTIL_FILES_H
#define COVE_UTIL_FILES_H

#include <stddef.h>
#include <sys/types.h>

#include "pkg/util/error.h"

/* Write all LEN bytes of BUF to FD, retrying on EINTR and short writes.  */
int cove_write_all (int fd, const void *buf, size_t len, struct cove_error **err);

/* Read the whole of PATH (relative to DIRFD, or AT_FDCWD) into a new
   NUL-terminated buffer; *OUT_LEN (may be NULL) gets its length.  Files over
   MAX bytes fail with EFBIG.  Caller frees.  */
char *cove_file_read_at (int dirfd, const char *path, size_t max,
                         size_t *out_len, struct cove_error **err);

/* Read all of FD (up to MAX bytes, else EFBIG).  Caller frees.  */
char *cove_fd_read_all (int fd, size_t max, size_t *out_len,
                        struct cove_error **err);

/* Flags of cove_file_write_atomic.  */
#define COVE_FILE_SYNC 1  /* also durable across power loss (fsync) */

/* Replace PATH atomically: write a temporary file in the same directory and
   rename it over PATH.  A process killed at any instant leaves either the
   old or the new content, never a mix, and no temporary file once the
   write failed.  With COVE_FILE_SYNC the file and then the directory are
   fsync'ed, so that the new content also survives a power loss; that costs
   milliseconds, which files that do not outlive a boot (a running
   container's config, a pid file) need not pay.  */
int cove_file_write_atomic (const char *path, const void *data, size_t len,
                            mode_t mode, int flags, struct cove_error **err);

/* mkdir -p: create PATH and its missing parents with MODE.  An existing
   directory is not an error; an existing non-directory is (ENOTDIR).  */
int cove_mkdir_p (const char *path, mode_t mode, struct cove_error **err);

/* rm -rf PATH without following symlinks and without leaving the directory
   tree (each level opened with O_NOFOLLOW relative to its parent) nor its
   filesystem (a mount point below PATH: EBUSY, nothing removed through
   it).  A missing PATH is not an error.  */
int cove_rm_rf (const char *path, struct cove_error **err);

/* A source of bytes read from an fd, in the shape of the read callbacks
   of storage/ and pkg/archive (ssize_t (*) (void *ctx, const void **buf,
   struct cove_error **err)): WHAT names the stream in errors.  */
struct cove_fd_source
{
  int fd;
  const char *what;
  char buf[64 * 1024];
};

/* Read the next chunk of SRC (a struct cove_fd_source): its length, 0 at
   the end, -1 with *ERR.  */
ssize_t cove_fd_source_read (void *src, const void **out_buf,
                             struct cove_error **err);

/* Send FD over the unix socket SOCK (SCM_RIGHTS).  */
int cove_send_fd (int sock, int fd, struct cove_error **err);
/* Receive one fd from SOCK; returns it (O_CLOEXEC) or -1.  */
int cove_recv_fd (int sock, struct cove_error **err);

#endif

/* Open PATH (absolute or relative; either way taken inside the tree) below
   the directory ROOTFD as if ROOTFD were `/`: symlinks and `..` cannot leave
   it (openat2 RESOLVE_IN_ROOT).  For reading files of an image or a
   container, whose content is untrusted.  */
int cove_open_in_root (int rootfd, const char *path, int flags,
                       struct cove_error **err);
