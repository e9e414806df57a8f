/* cove archive: one tar entry written into the layer.

   PATH is already clean (no `..`, not absolute; see resolve.c) and its
   parent is opened without following symlinks; here the last component
   is created relative to that parent with calls that do not follow it
   either.  A later entry replaces an earlier one of the same name, as tar
   extraction does, except that a directory over a directory is kept.  */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "pkg/archive/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#define WH_PREFIX ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"

static void
add_dir_fixup (struct arc_apply *a, const char *path,
               struct archive_entry *entry)
{
  if (a->n_dirs == a->cap_dirs)
    {
      a->cap_dirs = a->cap_dirs ? a->cap_dirs * 2 : 64;
      a->dirs = xrealloc (a->dirs, a->cap_dirs * sizeof *a->dirs);
    }
  struct arc_dir_fixup *d = &a->dirs[a->n_dirs++];
  d->path = xstrdup (path);
  d->mode = archive_entry_perm (entry) & 07777;
  d->times[0].tv_nsec = d->times[1].tv_nsec = UTIME_OMIT;
  if (archive_entry_mtime_is_set (entry))
    {
      d->times[1].tv_sec = archive_entry_mtime (entry);
      d->times[1].tv_nsec = archive_entry_mtime_nsec (entry);
      d->times[0] = d->times[1];
    }
  if (archive_entry_atime_is_set (entry))
    {
      d->times[0].tv_sec = archive_entry_atime (entry);
      d->times[0].tv_nsec = archive_entry_atime_nsec (entry);
    }
}

/* Copy the entry's data into FD.  Sparse entries come as blocks at
   offsets; the holes stay holes.  */
static int
copy_data (struct arc_apply *a, struct archive *ar, int fd, int64_t size,
           struct cove_error **err)
{
  int64_t pos = 0;
  for (;;)
    {
      const void *buf;
      size_t len;
      la_int64_t off;
      int r = archive_read_data_block (ar, &buf, &len, &off);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        return arc_stream_error (a, ar, err);
      if (off != pos && lseek (fd, off, SEEK_SET) < 0)
        return cove_error_set (err, errno, "seek");
      if (cove_write_all (fd, buf, len, err) < 0)
        return -1;
      pos = off + (int64_t) len;
    }
  if (pos < size && ftruncate (fd, size) < 0)
    return cove_error_set (err, errno, "truncate");
  return 0;
}

static int
apply_file (struct arc_apply *a, struct archive *ar,
            struct archive_entry *entry, int parent, const char *name,
            struct cove_error **err)
{
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  cleanup_close int fd = openat (parent, name, flags, 0600);
  if (fd < 0 && errno == EEXIST)
    {
      if (arc_remove_at (a, parent, name, err) < 0)
        return -1;
      fd = openat (parent, name, flags, 0600);
    }
  if (fd < 0)
    return cove_error_set (err, errno, "create file");
  if (copy_data (a, ar, fd, archive_entry_size (entry), err) < 0)
    return -1;
  struct arc_meta m = { parent, name, a->shown, fd, true, true };
  return arc_set_meta (entry, &m, err);
}

static int
apply_dir (struct arc_apply *a, struct archive_entry *entry, int parent,
           const char *name, const char *path, struct cove_error **err)
{
  if (mkdirat (parent, name, 0700) < 0)
    {
      struct stat st;
      if (errno != EEXIST)
        return cove_error_set (err, errno, "mkdir");
      if (fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return cove_error_set (err, errno, "stat existing entry");
      if (!S_ISDIR (st.st_mode))
        {
          if (arc_remove_at (a, parent, name, err) < 0)
            return -1;
          if (mkdirat (parent, name, 0700) < 0)
            return cove_error_set (err, errno, "mkdir");
        }
    }
  struct arc_meta m = { parent, name, a->shown, -1, false, false };
  if (arc_set_meta (entry, &m, err) < 0)
    return -1;
  add_dir_fixup (a, path, entry);
  return 0;
}

static int
apply_symlink (struct arc_apply *a, struct archive_entry *entry, int parent,
               const char *name, struct cove_error **err)
{
  /* The target is kept verbatim: it is resolved inside the container
     later, never by us.  */
  const char *target = archive_entry_symlink (entry);
  if (target == NULL || *target == '\0')
    return cove_error_set (err, EINVAL, "symlink with an empty target");
  int r = symlinkat (target, parent, name);
  if (r < 0 && errno == EEXIST)
    {
      if (arc_remove_at (a, parent, name, err) < 0)
        return -1;
      r = symlinkat (target, parent, name);
    }
  if (r < 0)
    return cove_error_set (err, errno, "symlink");
  struct arc_meta m = { parent, name, a->shown, -1, false, true };
  return arc_set_meta (entry, &m, err);
}

static int
apply_hardlink (struct arc_apply *a, struct archive_entry *entry,
                const char *path, const char *link, struct cove_error **err)
{
  cleanup_free char *target = NULL;
  if (arc_clean_path (link, "hard link target", &target, err) < 0)
    return -1;
  if (strcmp (target, path) == 0 || *target == '\0')
    return cove_error_set (err, EINVAL, "hard link to itself or the root");
  /* The target's directories are opened like any parent, without
     following symlinks, and linkat() with flags 0 does not follow the
     last component either: a link can only be made to an inode of this
     layer.  */
  const char *tname;
  cleanup_error struct cove_error *terr = NULL;
  cleanup_close int tdir = arc_parent_existing (a, target, &tname, &terr);
  if (tdir < 0 && (terr->errnum == ENOENT || terr->errnum == EINVAL))
    return cove_error_set (err, EINVAL, "hard link target not in the layer "
                           "(%s)", terr->msg);
  if (tdir < 0)
    return cove_error_set (err, terr->errnum, "hard link: %s", terr->msg);
  const char *name;
  int parent = arc_parent (a, path, &name, err);
  if (parent < 0)
    return -1;
  int r = linkat (tdir, tname, parent, name, 0);
  if (r < 0 && errno == EEXIST)
    {
      if (arc_remove_at (a, parent, name, err) < 0)
        return -1;
      r = linkat (tdir, tname, parent, name, 0);
    }
  if (r == 0)
    return 0;
  if (errno == ENOENT)
    return cove_error_set (err, EINVAL, "hard link target not in the layer");
  return cove_error_set (err, errno, "hard link");
}

/* Block and character devices and fifos.  A user namespace may not make
   devices (other than 0/0): those are skipped, one warning each.  */
static int
apply_node (struct arc_apply *a, struct archive_entry *entry, int parent,
            const char *name, struct cove_error **err)
{
  mode_t mode = archive_entry_filetype (entry) | (archive_entry_perm (entry)
                                                  & 0777);
  dev_t dev = archive_entry_rdev (entry);
  int r = mknodat (parent, name, mode, dev);
  if (r < 0 && errno == EEXIST)
    {
      if (arc_remove_at (a, parent, name, err) < 0)
        return -1;
      r = mknodat (parent, name, mode, dev);
    }
  if (r < 0 && (errno == EPERM || errno == EACCES))
    {
      arc_warn ("skipping %s `%s`", S_ISFIFO (mode) ? "fifo" : "device node",
                a->shown);
      a->stats->skipped_devices++;
      return 0;
    }
  if (r < 0)
    return cove_error_set (err, errno, "mknod");
  struct arc_meta m = { parent, name, a->shown, -1, true, true };
  return arc_set_meta (entry, &m, err);
}

/* Set user.overlay.opaque of the directory PARENT (an O_PATH fd): "y"
   makes it opaque, "x" only says it holds xattr whiteouts (and must not
   downgrade a "y").  */
static int
set_opaque (int parent, const char *value, struct cove_error **err)
{
  cleanup_close int fd = openat (parent, ".", O_RDONLY | O_DIRECTORY
                                 | O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno, "open directory");
  char cur[2];
  if (strcmp (value, "x") == 0
      && fgetxattr (fd, "user.overlay.opaque", cur, sizeof cur) == 1
      && cur[0] == 'y')
    return 0;
  if (fsetxattr (fd, "user.overlay.opaque", value, 1, 0) < 0)
    return cove_error_set (err, errno, "set user.overlay.opaque");
  return 0;
}

/* A whiteout of NAME in PARENT, as overlayfs in a user namespace reads
   them: a character device 0/0, which unprivileged users may create since
   Linux 5.8; where that is refused, an empty file with the
   user.overlay.whiteout xattr in a directory marked opaque=x (honoured by
   overlayfs with userxattr since Linux 6.7).  */
static int
make_whiteout (struct arc_apply *a, int parent, const char *name,
               struct cove_error **err)
{
  if (!a->whiteout_xattr)
    {
      if (mknodat (parent, name, S_IFCHR, makedev (0, 0)) == 0)
        return 0;
      if (errno != EPERM)
        return cove_error_set (err, errno, "create whiteout");
      a->whiteout_xattr = true;
    }
  cleanup_close int fd = openat (parent, name, O_WRONLY | O_CREAT | O_EXCL
                                 | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return cove_error_set (err, errno, "create whiteout");
  if (fsetxattr (fd, "user.overlay.whiteout", "y", 1, 0) < 0)
    return cove_error_set (err, errno, "set user.overlay.whiteout");
  return set_opaque (parent, "x", err);
}

/* OCI whiteouts: `.wh..wh..opq` makes its directory opaque, `.wh.NAME`
   hides NAME of the layers below (and removes a NAME of this layer written
   before it, as docker does).  Other `.wh..wh.` names are aufs metadata,
   skipped as docker skips them.  */
static int
apply_whiteout (struct arc_apply *a, const char *path, const char *base,
                struct cove_error **err)
{
  const char *name;
  int parent = arc_parent (a, path, &name, err);
  if (parent < 0)
    return -1;
  if (strcmp (base, WH_OPAQUE) == 0)
    return set_opaque (parent, "y", err);
  if (strncmp (base, WH_META_PREFIX, strlen (WH_META_PREFIX)) == 0)
    return 0;
  const char *victim = base + strlen (WH_PREFIX);
  if (*victim == '\0' || strcmp (victim, ".") == 0 || strcmp (victim, "..") == 0)
    return cove_error_set (err, EINVAL, "whiteout of an invalid name");
  if (arc_remove_at (a, parent, victim, err) < 0)
    return -1;
  return make_whiteout (a, parent, victim, err);
}

/* The entry `./` of the tar: the layer directory itself.  */
static int
apply_root (struct arc_apply *a, struct archive_entry *entry,
            struct cove_error **err)
{
  if (archive_entry_filetype (entry) != AE_IFDIR
      || archive_entry_hardlink (entry) != NULL)
    return cove_error_set (err, EINVAL, "the root is not a directory");
  struct arc_meta m = { a->root, ".", a->shown, -1, false, false };
  if (arc_set_meta (entry, &m, err) < 0)
    return -1;
  add_dir_fixup (a, "", entry);
  return 0;
}

int
arc_apply_entry (struct arc_apply *a, struct archive *ar,
                 struct archive_entry *entry, const char *path,
                 struct cove_error **err)
{
  if (*path == '\0')
    return apply_root (a, entry, err);
  /* aufs metadata at the top (`.wh..wh.plnk/...`): skipped as docker
     skips it.  */
  if (strncmp (path, WH_META_PREFIX, strlen (WH_META_PREFIX)) == 0
      && strcmp (path, WH_OPAQUE) != 0)
    return 0;
  const char *slash = strrchr (path, '/');
  const char *base = slash ? slash + 1 : path;
  if (strncmp (base, WH_PREFIX, strlen (WH_PREFIX)) == 0)
    return apply_whiteout (a, path, base, err);
  const char *link = archive_entry_hardlink (entry);
  if (link != NULL)
    return apply_hardlink (a, entry, path, link, err);
  const char *name;
  int parent = arc_parent (a, path, &name, err);
  if (parent < 0)
    return -1;
  switch (archive_entry_filetype (entry))
    {
    case AE_IFREG:
      return apply_file (a, ar, entry, parent, name, err);
    case AE_IFDIR:
      return apply_dir (a, entry, parent, name, path, err);
    case AE_IFLNK:
      return apply_symlink (a, entry, parent, name, err);
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
      return apply_node (a, entry, parent, name, err);
    default:
      arc_warn ("skipping `%s`: unsupported file type", a->shown);
      return 0;
    }
}

static int
fixup_dir (struct arc_apply *a, const struct arc_dir_fixup *d,
           struct cove_error **err)
{
  cleanup_close int fd = -1;
  if (*d->path == '\0')
    fd = openat (a->root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  else
    {
      /* A later entry may have removed or replaced the directory: then
         there is nothing to fix.  */
      cleanup_error struct cove_error *ignored = NULL;
      const char *name;
      cleanup_close int p = arc_parent_existing (a, d->path, &name, &ignored);
      if (p < 0)
        return 0;
      fd = openat (p, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
        return 0;
    }
  if (fd < 0)
    return cove_error_set (err, errno, "open directory `%s`", d->path);
  if (fchmod (fd, d->mode) < 0)
    return cove_error_set (err, errno, "chmod directory `%s`", d->path);
  if (futimens (fd, d->times) < 0)
    return cove_error_set (err, errno, "set times of directory `%s`",
                           d->path);
  return 0;
}

int
arc_apply_fixup_dirs (struct arc_apply *a, struct cove_error **err)
{
  for (size_t i = 0; i < a->n_dirs; i++)
    if (fixup_dir (a, &a->dirs[i], err) < 0)
      return -1;
  return 0;
}
