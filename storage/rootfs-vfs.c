/* The vfs driver: the layers copied one over the other into a directory,
   as overlayfs would show them: a whiteout (character device 0/0) removes
   what lower layers had at its path, an opaque directory
   (user.overlay.opaque=y) hides their content, hard links within a layer
   stay hard links.  Every step is relative to directory fds opened with
   O_NOFOLLOW: the trees hold symlinks from images (untrusted), and none is
   ever followed.  */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "storage/internal.h"

struct vfs_copy
{
  int rootfd;       /* the target's top */
  json_t *links;    /* "dev:ino" -> path below rootfd, per layer */
};

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Remove NAME (any type, a tree too) from the directory DFD.  */
static int
remove_at (int dfd, const char *name, struct cove_error **err)
{
  if (unlinkat (dfd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return cove_error_set (err, errno, "remove `%s`", name);
  cleanup_close int sub = openat (dfd, name, DIR_FLAGS);
  if (sub < 0)
    return cove_error_set (err, errno, "open `%s`", name);
  cleanup_dir DIR *d = fdopendir (dup (sub));
  if (d == NULL)
    return cove_error_set (err, errno, "opendir `%s`", name);
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, "..")
        && remove_at (sub, de->d_name, err) < 0)
      return -1;
  if (unlinkat (dfd, name, AT_REMOVEDIR) < 0)
    return cove_error_set (err, errno, "rmdir `%s`", name);
  return 0;
}

static bool
is_opaque (int fd)
{
  char v[4];
  ssize_t n = fgetxattr (fd, "user.overlay.opaque", v, sizeof v);
  if (n < 0)
    n = fgetxattr (fd, "trusted.overlay.opaque", v, sizeof v);
  return n == 1 && v[0] == 'y';
}

/* Copy the xattrs of SFD to DFD but overlay's own; failures are skipped
   (a namespace the user may not write, e.g. trusted.*).  */
static void
copy_xattrs (int sfd, int dfd)
{
  char names[4096];
  ssize_t n = flistxattr (sfd, names, sizeof names);
  for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t) strlen (names + off) + 1)
    {
      const char *k = names + off;
      if (strstr (k, ".overlay."))
        continue;
      char val[4096];
      ssize_t vl = fgetxattr (sfd, k, val, sizeof val);
      if (vl >= 0)
        fsetxattr (dfd, k, val, (size_t) vl, 0);
    }
}

/* Ownership, then mode (chown clears setuid), xattrs, times.  */
static int
copy_meta (int sfd, int dfd, const struct stat *st, struct cove_error **err)
{
  if (fchown (dfd, st->st_uid, st->st_gid) < 0 && errno != EPERM && errno != EINVAL)
    return cove_error_set (err, errno, "chown");
  if (fchmod (dfd, st->st_mode & 07777) < 0)
    return cove_error_set (err, errno, "chmod");
  copy_xattrs (sfd, dfd);
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  futimens (dfd, ts);
  return 0;
}

static int
copy_file (int sdir, int ddir, const char *name, const struct stat *st,
           struct cove_error **err)
{
  cleanup_close int in = -1;
  cleanup_close int out = storage_copy_file_at (sdir, ddir, name, &in, err);
  if (out < 0)
    return -1;
  return copy_meta (in, out, st, err);
}

static int
copy_special (int sdir, int ddir, const char *name, const struct stat *st,
              struct cove_error **err)
{
  if (S_ISLNK (st->st_mode))
    {
      if (cove_storage_copy_symlink (sdir, name, ddir, name, err) < 0)
        return -1;
      fchownat (ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
      struct timespec ts[2] = { st->st_atim, st->st_mtim };
      utimensat (ddir, name, ts, AT_SYMLINK_NOFOLLOW);
      return 0;
    }
  /* fifos, sockets, devices: a user namespace may not make devices; the
     runtime bind-mounts the ones a container gets.  */
  if (mknodat (ddir, name, st->st_mode, st->st_rdev) == 0)
    fchownat (ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
  return 0;
}

static int copy_dir (struct vfs_copy *c, int sdir, int ddir, const char *rel,
                     struct cove_error **err);

static int
copy_subdir (struct vfs_copy *c, int sdir, int ddir, const char *name,
             const char *rel, const struct stat *st, struct cove_error **err)
{
  struct stat dst;
  if (fstatat (ddir, name, &dst, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR (dst.st_mode)
      && remove_at (ddir, name, err) < 0)
    return -1;
  if (mkdirat (ddir, name, 0700) < 0 && errno != EEXIST)
    return cove_error_set (err, errno, "mkdir `%s`", rel);
  cleanup_close int s2 = openat (sdir, name, DIR_FLAGS);
  cleanup_close int d2 = openat (ddir, name, DIR_FLAGS);
  if (s2 < 0 || d2 < 0)
    return cove_error_set (err, errno, "open `%s`", rel);
  if (is_opaque (s2))
    {
      /* Hide the lower layers' content: empty it, then copy ours.  */
      if (remove_at (ddir, name, err) < 0 || mkdirat (ddir, name, 0700) < 0)
        return err && *err ? -1 : cove_error_set (err, errno, "mkdir `%s`", rel);
      close (d2);
      d2 = openat (ddir, name, DIR_FLAGS);
      if (d2 < 0)
        return cove_error_set (err, errno, "open `%s`", rel);
    }
  if (copy_dir (c, s2, d2, rel, err) < 0)
    return -1;
  return copy_meta (s2, d2, st, err);
}

static int
copy_entry (struct vfs_copy *c, int sdir, int ddir, const char *name,
            const char *rel, struct cove_error **err)
{
  struct stat st;
  if (fstatat (sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return cove_error_set (err, errno, "stat `%s`", rel);
  if (S_ISDIR (st.st_mode))
    return copy_subdir (c, sdir, ddir, name, rel, &st, err);
  if (remove_at (ddir, name, err) < 0)
    return -1;
  if (S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0))
    return 0;  /* a whiteout: the removal was all */
  cleanup_free char *key = xasprintf ("%lu:%lu", (unsigned long) st.st_dev,
                                      (unsigned long) st.st_ino);
  const char *first = json_string_value (json_object_get (c->links, key));
  if (st.st_nlink > 1 && !S_ISDIR (st.st_mode) && first)
    {
      if (linkat (c->rootfd, first, ddir, name, 0) < 0)
        return cove_error_set (err, errno, "link `%s` to `%s`", rel, first);
      return 0;
    }
  if (st.st_nlink > 1)
    json_object_set_new (c->links, key, json_string (rel));
  if (S_ISREG (st.st_mode))
    return copy_file (sdir, ddir, name, &st, err);
  return copy_special (sdir, ddir, name, &st, err);
}

static int
copy_dir (struct vfs_copy *c, int sdir, int ddir, const char *rel,
          struct cove_error **err)
{
  int fd = dup (sdir);
  cleanup_dir DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  if (d == NULL)
    return cove_error_set (err, errno, "opendir `%s`", rel);
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      cleanup_free char *sub = rel[0] ? xasprintf ("%s/%s", rel, de->d_name)
                                      : xstrdup (de->d_name);
      if (copy_entry (c, sdir, ddir, de->d_name, sub, err) < 0)
        return -1;
    }
  return 0;
}

int
storage_vfs_copy (char *const *layers, size_t n, const char *target,
                  struct cove_error **err)
{
  if (mkdir (target, 0755) < 0)
    return cove_error_set (err, errno, "mkdir `%s`", target);
  cleanup_close int root = open (target, DIR_FLAGS);
  if (root < 0)
    return cove_error_set (err, errno, "open `%s`", target);
  struct vfs_copy c = { .rootfd = root };
  for (size_t i = 0; i < n; i++)
    {
      cleanup_close int src = open (layers[i], DIR_FLAGS);
      if (src < 0)
        return cove_error_set (err, errno, "open `%s`", layers[i]);
      c.links = json_object ();
      struct stat st;
      int r = copy_dir (&c, src, root, "", err);
      if (r == 0 && fstat (src, &st) == 0)
        r = copy_meta (src, root, &st, err);
      json_decref (c.links);
      if (r < 0)
        return cove_error_wrap (err, "copy layer `%s`", layers[i]);
    }
  return 0;
}
