/* cove archive: layer tar streams.  Applying a layer writes an untrusted
   tar (from a registry or an archive) into a layer directory: nothing may
   land outside it, whatever the tar says.  */
#ifndef COVE_ARCHIVE_H
#define COVE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "pkg/util/error.h"

/* Where the compressed bytes come from: called until it returns 0 (end) or
   -1 (error, *ERR set).  Returns the number of bytes in *OUT_BUF, which
   stays valid until the next call.  */
typedef ssize_t (*cove_archive_read_fn) (void *ctx, const void **out_buf,
                                         struct cove_error **err);

struct cove_archive_apply_stats
{
  uint64_t entries;
  uint64_t uncompressed_bytes;
  uint64_t skipped_devices;   /* device nodes that could not be created */
  /* "sha256:<64 hex>" of the uncompressed tar stream, the whole of it
     (also what follows the end-of-archive blocks): the layer's DiffID, to
     compare with the image config's rootfs.diff_ids.  */
  char diff_id[72];
};

/* Apply the tar stream READ(CTX) (gzip, zstd or plain: detected) onto the
   directory open at LAYER_DIRFD, which becomes the layer's tree as kernel
   overlayfs in a user namespace understands it:
   - OCI whiteouts `.wh.NAME` become a character device 0/0 NAME (or, where
     mknod is refused, a `user.overlay.whiteout` xattr file, see below),
     `.wh..wh..opq` sets `user.overlay.opaque=y` on its directory;
   - regular files, directories, symlinks and hard links (to entries of the
     same layer only) keep mode (setuid/setgid/sticky), uid/gid (as seen in
     the caller's user namespace), mtime, and xattrs (security.capability,
     user.*); device nodes that cannot be made are skipped with one warning
     line each on stderr;
   - every path is resolved inside LAYER_DIRFD (openat2 RESOLVE_IN_ROOT or
     equivalent): `..`, absolute paths, and symlinks of the tar pointing
     outside cannot make a write land outside; a hard link to a path
     outside the layer is refused.
   Runs in the user namespace, so that ownership lands on the mapped ids.
   errnum EINVAL: a malformed or hostile entry (the message names it and
   says why; the caller removes the half-written layer); EIO: the stream is
   truncated or corrupt (or not a tar); an error of READ is returned as
   READ set it; others from the filesystem.  The whole stream is read, up
   to READ's end, also after the tar's end-of-archive blocks.  OUT_STATS
   may be NULL.

   Paths are cleaned first: an absolute path or a `..` component is
   refused (EINVAL).  Directories are opened beneath LAYER_DIRFD without
   following any symlink: a tar writing through one of its own symlinks
   (`l -> /etc` then `l/passwd`, `l -> ..` then `l/x`) is refused (EINVAL),
   as is a hard link whose target is not an entry of this layer.  A later
   entry replaces an earlier one of the same name (a directory over a
   directory is kept).  Whiteouts are character devices 0/0; the xattr
   form (empty file with user.overlay.whiteout, parent marked
   user.overlay.opaque=x) only where mknod 0/0 is refused.  */
int cove_archive_apply (int layer_dirfd, cove_archive_read_fn read, void *ctx,
                        struct cove_archive_apply_stats *out_stats,
                        struct cove_error **err);

/* Where tar bytes go when writing an archive: write all LEN bytes or fail.  */
typedef int (*cove_archive_write_fn) (void *ctx, const void *buf, size_t len,
                                      struct cove_error **err);

enum cove_archive_format
{
  COVE_ARCHIVE_TAR,
  COVE_ARCHIVE_TAR_GZIP,
  COVE_ARCHIVE_TAR_ZSTD,
};

/* Write the tree open at DIRFD as a tar stream (pax, with xattrs) to
   WRITE(CTX), in FORMAT.  With AS_LAYER_DIFF, the tree is an overlay upper
   directory: character devices 0/0 become `.wh.NAME` whiteouts and opaque
   directories (user.overlay.opaque / trusted.overlay.opaque) get a
   `.wh..wh..opq` entry, and empty files with a user.overlay.whiteout
   xattr become `.wh.NAME` too; user.overlay.* xattrs are never written.
   Entries are written depth first, each directory's names sorted by
   bytes, the top directory itself not included; hard links (same dev and
   inode) as tar hard links; mtimes in whole seconds, no atime/ctime, no
   gzip timestamp: the same tree gives the same bytes.  Sockets are
   skipped.  errnum: an error of WRITE as WRITE set it; others from reading
   the tree.  */
int cove_archive_write_tree (int dirfd, enum cove_archive_format format,
                             bool as_layer_diff, cove_archive_write_fn write,
                             void *ctx, struct cove_error **err);

/* The same tar stream, entry by entry, for a layer made of a list of
   changes (commit, build).  Entries are written as the caller adds them
   (a parent directory before its content, as tar readers expect), with
   the rules of cove_archive_write_tree (pax, xattrs, hard links among
   the added entries, whole-second mtimes).  Free with
   cove_archive_writer_free, after finish or instead of it (a stream
   abandoned halfway).  */
struct cove_archive_writer;
struct cove_archive_writer *
cove_archive_writer_new (enum cove_archive_format format,
                         cove_archive_write_fn write, void *ctx,
                         struct cove_error **err);
/* The entry NAME of the directory DFD, with its stat ST (not followed),
   at PATH in the archive (relative: no leading slash).  A directory's own
   entry only, not its content.  */
int cove_archive_writer_add (struct cove_archive_writer *w, int dfd,
                             const char *name, const char *path,
                             const struct stat *st, struct cove_error **err);
/* A deletion: the OCI whiteout `DIR/.wh.NAME` for PATH.  */
int cove_archive_writer_whiteout (struct cove_archive_writer *w,
                                  const char *path, struct cove_error **err);
/* The end of the archive, flushed to WRITE.  */
int cove_archive_writer_finish (struct cove_archive_writer *w,
                                struct cove_error **err);
void cove_archive_writer_free (struct cove_archive_writer *w);

#endif
