/* cove cp's tree copy.  Either side may be a container's tree (untrusted:
   its processes may change it while we copy), so each entry is opened
   relative to its directory's fd with O_NOFOLLOW, a new file is created
   with O_EXCL after removing what was there, and a directory is entered
   only through an fd opened with O_NOFOLLOW | O_DIRECTORY.  */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cove/cptree.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

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

static void
owner_of (const struct cove_cp_owner *o, const struct stat *st, uid_t *uid,
          gid_t *gid)
{
  *uid = o->keep ? st->st_uid : o->uid;
  *gid = o->keep ? st->st_gid : o->gid;
}

static int
copy_data (int in, int out, const char *name, struct cove_error **err)
{
  char buf[64 * 1024];
  for (;;)
    {
      ssize_t n = read (in, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return cove_error_set (err, errno, "read `%s`", name);
      if (n == 0)
        return 0;
      if (cove_write_all (out, buf, (size_t) n, err) < 0)
        return cove_error_wrap (err, "write `%s`", name);
    }
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
  cleanup_close int out = openat (ddir, name, O_WRONLY | O_CREAT | O_EXCL
                                  | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return cove_error_set (err, errno, "create `%s`", name);
  if (copy_data (in, out, name, err) < 0)
    return -1;
  uid_t uid;
  gid_t gid;
  owner_of (o, st, &uid, &gid);
  /* chown first: it clears the setuid and setgid bits fchmod sets.  */
  if (fchown (out, uid, gid) < 0)
    return cove_error_set (err, errno, "chown `%s`", name);
  if (fchmod (out, st->st_mode & 07777) < 0)
    return cove_error_set (err, errno, "chmod `%s`", name);
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  futimens (out, ts);
  return 0;
}

/* Owner and times of the non-regular NAME (no fd of it: fchownat and
   utimensat without following it).  */
static int
set_meta_at (int ddir, const char *name, const struct stat *st,
             const struct cove_cp_owner *o, struct cove_error **err)
{
  uid_t uid;
  gid_t gid;
  owner_of (o, st, &uid, &gid);
  if (fchownat (ddir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return cove_error_set (err, errno, "chown `%s`", name);
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  utimensat (ddir, name, ts, AT_SYMLINK_NOFOLLOW);
  return 0;
}

static int
copy_symlink (int src, const struct stat *st, int ddir, const char *name,
              const struct cove_cp_owner *o, struct cove_error **err)
{
  char target[PATH_MAX];
  ssize_t n = readlinkat (src, "", target, sizeof target - 1);
  if (n < 0)
    return cove_error_set (err, errno, "read link `%s`", name);
  target[n] = '\0';
  if (clear_for_file (ddir, name, err) < 0)
    return -1;
  if (symlinkat (target, ddir, name) < 0)
    return cove_error_set (err, errno, "create symlink `%s`", name);
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
  uid_t uid;
  gid_t gid;
  owner_of (o, st, &uid, &gid);
  if (fchown (dfd, uid, gid) < 0)
    return cove_error_set (err, errno, "chown `%s`", name);
  if (fchmod (dfd, st->st_mode & 07777) < 0)
    return cove_error_set (err, errno, "chmod `%s`", name);
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  futimens (dfd, ts);
  return 0;
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
