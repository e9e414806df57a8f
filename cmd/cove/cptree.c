/* cove cp's tree copy.  Either side may be a container's tree (untrusted:
   its processes may change it while we copy), so each entry is opened
   relative to its directory's fd with O_NOFOLLOW, a new file is created
   with O_EXCL after removing what was there, and a directory is entered
   only through an fd opened with O_NOFOLLOW | O_DIRECTORY.  */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cove/cptree.h"
#include "pkg/util/cleanup.h"
#include "storage/storage.h"

int
cove_cp_reopen (int fd, int flags, struct cove_error **err)
{
  char p[64];
  snprintf (p, sizeof p, "/proc/self/fd/%d", fd);
  int r = open (p, flags | O_CLOEXEC);
  if (r < 0)
    return cove_error_set (err, errno, "reopen");
  return r;
}

/* Make room for a non-directory NAME in DDIR.  */
static int
clear_for_file (int ddir, const char *name, struct cove_error **err)
{
  struct stat st;
  if (fstatat (ddir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : cove_error_set (err, errno, "stat `%s`", name);
  if (S_ISDIR (st.st_mode))
    return cove_error_set (err, EISDIR, "cannot overwrite directory `%s` "
                           "with non-directory", name);
  if (unlinkat (ddir, name, 0) < 0)
    return cove_error_set (err, errno, "remove `%s`", name);
  return 0;
}

/* The owner a copy of ST gets, as O says.  */
static uid_t
uid_of (const struct cove_cp_owner *o, const struct stat *st)
{
  return o->keep ? st->st_uid : o->uid;
}

static gid_t
gid_of (const struct cove_cp_owner *o, const struct stat *st)
{
  return o->keep ? st->st_gid : o->gid;
}

/* Owner, mode and times of ST onto FD.  */
static int
set_meta (int fd, const struct stat *st, const char *name,
          const struct cove_cp_owner *o, struct cove_error **err)
{
  return cove_storage_set_meta (fd, st, uid_of (o, st), gid_of (o, st), name,
                                err);
}

/* Owner and times of the non-regular NAME (no fd of it: by name, not
   followed).  */
static int
set_meta_at (int ddir, const char *name, const struct stat *st,
             const struct cove_cp_owner *o, struct cove_error **err)
{
  return cove_storage_set_meta_at (ddir, name, st, uid_of (o, st),
                                   gid_of (o, st), err);
}

static int
copy_file (int src, const struct stat *st, int ddir, const char *name,
           const struct cove_cp_owner *o, struct cove_error **err)
{
  cleanup_close int in = cove_cp_reopen (src, O_RDONLY | O_NOCTTY, err);
  if (in < 0)
    return cove_error_wrap (err, "open `%s`", name);
  if (clear_for_file (ddir, name, err) < 0)
    return -1;
  cleanup_close int out = cove_storage_copy_file (in, ddir, name, err);
  if (out < 0)
    return -1;
  return set_meta (out, st, name, o, err);
}

static int
copy_symlink (int src, const struct stat *st, int ddir, const char *name,
              const struct cove_cp_owner *o, struct cove_error **err)
{
  if (clear_for_file (ddir, name, err) < 0
      || cove_storage_copy_symlink (src, "", ddir, name, err) < 0)
    return -1;
  return set_meta_at (ddir, name, st, o, err);
}

static int
copy_node (const struct stat *st, int ddir, const char *name,
           const struct cove_cp_owner *o, struct cove_error **err)
{
  if (S_ISSOCK (st->st_mode))
    return 0;   /* sockets are runtime state; tar has none either */
  /* A 0/0 character device is an overlay whiteout: made in a mounted
     overlay it would delete what the image has there.  */
  if (S_ISCHR (st->st_mode) && st->st_rdev == 0)
    return 0;
  if (clear_for_file (ddir, name, err) < 0)
    return -1;
  if (mknodat (ddir, name, st->st_mode & (S_IFMT | 07777), st->st_rdev) < 0)
    {
      if (errno == EPERM && !S_ISFIFO (st->st_mode))
        {
          fprintf (stderr, "Warning: cannot create device `%s`: %s\n", name,
                   strerror (errno));
          return 0;
        }
      return cove_error_set (err, errno, "create `%s`", name);
    }
  return set_meta_at (ddir, name, st, o, err);
}

int
cove_cp_children (int src, int ddir, const struct cove_cp_owner *o,
                  struct cove_error **err)
{
  int in = cove_cp_reopen (src, O_RDONLY | O_DIRECTORY, err);
  if (in < 0)
    return -1;
  cleanup_dir DIR *d = fdopendir (in);
  if (d == NULL)
    {
      close (in);
      return cove_error_set (err, errno, "opendir");
    }
  struct dirent *de;
  errno = 0;
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      cleanup_close int c = openat (in, de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (c < 0)
        return cove_error_set (err, errno, "open `%s`", de->d_name);
      if (cove_cp_entry (c, ddir, de->d_name, o, err) < 0)
        return -1;
      errno = 0;
    }
  if (errno != 0)
    return cove_error_set (err, errno, "read directory");
  return 0;
}

static int
copy_dir (int src, const struct stat *st, int ddir, const char *name,
          const struct cove_cp_owner *o, struct cove_error **err)
{
  if (mkdirat (ddir, name, 0700) < 0 && errno != EEXIST)
    return cove_error_set (err, errno, "mkdir `%s`", name);
  cleanup_close int dfd = openat (ddir, name, O_RDONLY | O_DIRECTORY
                                  | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return cove_error_set (err, errno == ELOOP ? ENOTDIR : errno,
                           "cannot overwrite non-directory `%s` with "
                           "directory", name);
  if (cove_cp_children (src, dfd, o, err) < 0)
    return -1;
  return set_meta (dfd, st, name, o, err);
}

int
cove_cp_entry (int src, int ddir, const char *name,
               const struct cove_cp_owner *o, struct cove_error **err)
{
  struct stat st;
  if (fstat (src, &st) < 0)
    return cove_error_set (err, errno, "stat `%s`", name);
  if (S_ISDIR (st.st_mode))
    return copy_dir (src, &st, ddir, name, o, err);
  if (S_ISREG (st.st_mode))
    return copy_file (src, &st, ddir, name, o, err);
  if (S_ISLNK (st.st_mode))
    return copy_symlink (src, &st, ddir, name, o, err);
  return copy_node (&st, ddir, name, o, err);
}
