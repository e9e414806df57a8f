/* Private declarations of pkg/archive, included by nobody outside the
   folder.  Internal names start with arc_ (archive_ is libarchive's).  */
#ifndef COVE_ARCHIVE_INTERNAL_H
#define COVE_ARCHIVE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <sys/types.h>

#include "pkg/archive/archive.h"

struct archive;
struct archive_entry;

/* A directory whose mode and times are set once the whole layer is
   written: creating its children would change its mtime, and a mode
   without write permission would stop them being created.  */
struct arc_dir_fixup
{
  char *path;                 /* clean, relative to the layer; "" = root */
  mode_t mode;
  struct timespec times[2];   /* atime, mtime (UTIME_OMIT when absent) */
};

/* One layer being applied.  */
struct arc_apply
{
  int root;                   /* the layer directory; not owned */
  char *cached_dir;           /* parent path of the last entry ("" root) */
  int cached_fd;              /* O_PATH fd of CACHED_DIR (or ROOT), or -1 */
  struct arc_dir_fixup *dirs;
  size_t n_dirs, cap_dirs;
  struct cove_archive_apply_stats *stats;
  bool whiteout_xattr;        /* mknod 0/0 refused: use the xattr form */
  const char *shown;          /* the current entry's name, printable */
  struct cove_error *read_err;  /* from the caller's READ or inflating */
  bool stream_failed;         /* the error is the stream's, not an entry's */
};

/* apply.c */

/* The error of a failed libarchive read on AR: the caller's or the
   decompressor's error when there is one, else EIO (a truncated or
   corrupt tar).  Returns -1.  */
int arc_stream_error (struct arc_apply *a, struct archive *ar,
                      struct cove_error **err);

/* resolve.c */

/* Turn the tar path IN (untrusted) into a clean relative path: empty and
   `.` components dropped, a trailing `/` dropped; `..` components, an
   absolute path, a path longer than PATH_MAX or a component longer than
   NAME_MAX are refused with EINVAL.  The layer root is "".  Caller frees
   *OUT.  WHAT names the field in the message ("path", "link target").  */
int arc_clean_path (const char *in, const char *what, char **out,
                    struct cove_error **err);

/* The directory that holds the clean PATH, resolved beneath the layer
   without following any symlink (a tar that writes through one of its own
   symlinks is refused with EINVAL), missing directories created 0755.
   Returns an O_PATH fd owned by A (valid until the next call or
   arc_apply_forget); *OUT_NAME points at PATH's last component.  */
int arc_parent (struct arc_apply *a, const char *path, const char **out_name,
                struct cove_error **err);

/* Like arc_parent, but never creates anything: errnum ENOENT when a
   directory is missing.  */
int arc_parent_existing (struct arc_apply *a, const char *path,
                         const char **out_name, struct cove_error **err);

/* Drop the cached parent: after anything was removed, it may be gone.  */
void arc_apply_forget (struct arc_apply *a);

/* rm -rf NAME in DIRFD, never following symlinks.  A missing NAME is not
   an error.  Removing a directory forgets the cached parent unless it is
   DIRFD, which stays valid for the caller.  */
int arc_remove_at (struct arc_apply *a, int dirfd, const char *name,
                   struct cove_error **err);

/* entry.c */

/* Write the entry ENTRY, whose data follows in AR, into the layer.  PATH
   is its clean path.  */
int arc_apply_entry (struct arc_apply *a, struct archive *ar,
                     struct archive_entry *entry, const char *path,
                     struct cove_error **err);

/* Set the deferred modes and times of the directories.  */
int arc_apply_fixup_dirs (struct arc_apply *a, struct cove_error **err);

/* meta.c */

/* Set owner, mode (after the owner: chown clears setuid), xattrs and
   times of the entry NAME in PARENT; FD is an open fd of it (regular
   files, directories) or -1.  SET_MODE false for symlinks; SET_TIMES
   false for directories (deferred).  */
struct arc_meta
{
  int parent;
  const char *name;
  const char *path;     /* for messages */
  int fd;
  bool set_mode;
  bool set_times;
};
int arc_set_meta (struct archive_entry *entry, const struct arc_meta *m,
                  struct cove_error **err);

/* Whether the xattr NAME of a tar is one cove keeps: security.capability
   and user.* except user.overlay.* (overlay's own, which a tar must not
   forge: only whiteouts and opaque markers set them, from OCI names).  */
bool arc_xattr_kept (const char *name);

/* Print one warning line on stderr (the logger is cmd/'s; libraries only
   warn about what they skipped and carry on).  */
void arc_warn (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif
