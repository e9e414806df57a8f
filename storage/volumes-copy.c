/* The copy-up of a volume: the image's content at the volume's
   destination copied into its _data on first use, as podman does.  The
   source is an image's tree (untrusted): every entry is opened relative
   to its parent with O_NOFOLLOW, symlinks are copied as links and never
   followed, devices are skipped (no mknod in a user namespace).  Runs in
   the user namespace, so that owners are the container's ids.  The
   entry copies (cove_storage_copy_file, _copy_symlink, _set_meta) serve
   the vfs driver and cove cp too.  */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "storage/internal.h"
#include "storage/volumes-copy.h"

#define MAX_DEPTH 128

/* Owner, mode and times of ST onto FD.  */
static int
copy_meta (int fd, const struct stat *st, const char *name,
           struct cove_error **err)
{
  return cove_storage_set_meta (fd, st, st->st_uid, st->st_gid, name, err);
}

int
cove_storage_set_meta (int fd, const struct stat *st, uid_t uid, gid_t gid,
                       const char *name, struct cove_error **err)
{
  /* chown first: it clears the setuid and setgid bits fchmod sets.  */
  if (fchown (fd, uid, gid) < 0)
    return cove_error_set (err, errno, "chown `%s`", name);
  if (fchmod (fd, st->st_mode & 07777) < 0)
    return cove_error_set (err, errno, "chmod `%s`", name);
  struct timespec times[2] = { st->st_atim, st->st_mtim };
  (void) futimens (fd, times);
  return 0;
}

int
cove_storage_set_meta_at (int ddir, const char *name, const struct stat *st,
                          uid_t uid, gid_t gid, struct cove_error **err)
{
  if (fchownat (ddir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return cove_error_set (err, errno, "chown `%s`", name);
  struct timespec times[2] = { st->st_atim, st->st_mtim };
  (void) utimensat (ddir, name, times, AT_SYMLINK_NOFOLLOW);
  return 0;
}

static int
copy_data (int sfd, int dfd, const char *name, struct cove_error **err)
{
  for (;;)
    {
      ssize_t n = copy_file_range (sfd, NULL, dfd, NULL, 1 << 30, 0);
      if (n == 0)
        return 0;
      if (n > 0)
        continue;
      if (errno == EINTR)
        continue;
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS
          && errno != EOPNOTSUPP)
        return cove_error_set (err, errno, "copy `%s`", name);
      break;
    }
  char buf[65536];
  for (;;)
    {
      ssize_t n = read (sfd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return cove_error_set (err, errno, "read `%s`", name);
      if (n == 0)
        return 0;
      if (cove_write_all (dfd, buf, (size_t) n, err) < 0)
        return cove_error_wrap (err, "write `%s`", name);
    }
}

int
cove_storage_copy_file (int in, int ddir, const char *name,
                        struct cove_error **err)
{
  cleanup_close int out = openat (ddir, name, O_WRONLY | O_CREAT | O_EXCL
                                  | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return cove_error_set (err, errno, "create `%s`", name);
  if (copy_data (in, out, name, err) < 0)
    return -1;
  return steal_fd (&out);
}

int
storage_copy_file_at (int sdir, int ddir, const char *name, int *out_src,
                      struct cove_error **err)
{
  cleanup_close int in = openat (sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0)
    return cove_error_set (err, errno, "open `%s`", name);
  int out = cove_storage_copy_file (in, ddir, name, err);
  if (out >= 0 && out_src)
    *out_src = steal_fd (&in);
  return out;
}

int
cove_storage_copy_symlink (int sdir, const char *sname, int ddir,
                           const char *name, struct cove_error **err)
{
  char target[PATH_MAX];
  ssize_t n = readlinkat (sdir, sname, target, sizeof target - 1);
  if (n < 0)
    return cove_error_set (err, errno, "readlink `%s`", name);
  target[n] = '\0';
  if (symlinkat (target, ddir, name) < 0)
    return cove_error_set (err, errno, "symlink `%s`", name);
  return 0;
}

static int copy_dir (int sfd, int dfd, int depth, struct cove_error **err);

static int
copy_subdir (int sdir, int ddir, const char *name, const struct stat *st,
             int depth, struct cove_error **err)
{
  if (depth >= MAX_DEPTH)
    return cove_error_set (err, ELOOP, "`%s`: directories nested too deep", name);
  if (mkdirat (ddir, name, 0700) < 0)
    return cove_error_set (err, errno, "mkdir `%s`", name);
  cleanup_close int sfd = openat (sdir, name, O_RDONLY | O_DIRECTORY
                                  | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int dfd = openat (ddir, name, O_RDONLY | O_DIRECTORY
                                  | O_NOFOLLOW | O_CLOEXEC);
  if (sfd < 0 || dfd < 0)
    return cove_error_set (err, errno, "open `%s`", name);
  if (copy_dir (sfd, dfd, depth + 1, err) < 0)
    return -1;
  return copy_meta (dfd, st, name, err);
}

static int
copy_entry (int sfd, int dfd, const char *name, int depth,
            struct cove_error **err)
{
  struct stat st;
  if (fstatat (sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return cove_error_set (err, errno, "stat `%s`", name);
  switch (st.st_mode & S_IFMT)
    {
    case S_IFDIR:
      return copy_subdir (sfd, dfd, name, &st, depth, err);
    case S_IFREG:
      {
        cleanup_close int fd = storage_copy_file_at (sfd, dfd, name, NULL, err);
        return fd < 0 ? -1 : copy_meta (fd, &st, name, err);
      }
    case S_IFLNK:
      if (cove_storage_copy_symlink (sfd, name, dfd, name, err) < 0)
        return -1;
      return cove_storage_set_meta_at (dfd, name, &st, st.st_uid, st.st_gid,
                                       err);
    case S_IFIFO:
      if (mkfifoat (dfd, name, st.st_mode & 07777) < 0)
        return cove_error_set (err, errno, "mkfifo `%s`", name);
      if (fchownat (dfd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        return cove_error_set (err, errno, "chown `%s`", name);
      return 0;
    default:
      /* Devices and sockets: nothing a user namespace can make.  */
      return 0;
    }
}

static int
copy_dir (int sfd, int dfd, int depth, struct cove_error **err)
{
  int dup_fd = fcntl (sfd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0)
    return cove_error_set (err, errno, "dup");
  cleanup_dir DIR *d = fdopendir (dup_fd);
  if (d == NULL)
    {
      close (dup_fd);
      return cove_error_set (err, errno, "opendir");
    }
  struct dirent *e;
  while ((e = readdir (d)))
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      if (copy_entry (sfd, dfd, e->d_name, depth, err) < 0)
        return cove_error_wrap (err, "%s", e->d_name);
    }
  return 0;
}

static bool
is_empty (int fd)
{
  int dup_fd = fcntl (fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0)
    return false;
  cleanup_dir DIR *d = fdopendir (dup_fd);
  if (d == NULL)
    {
      close (dup_fd);
      return false;
    }
  struct dirent *e;
  while ((e = readdir (d)))
    if (strcmp (e->d_name, ".") && strcmp (e->d_name, ".."))
      return false;
  return true;
}

int
storage_volume_copy_tree (const char *rootfs, const char *path,
                          const char *dest, struct cove_error **err)
{
  cleanup_close int rootfd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return cove_error_set (err, errno, "open `%s`", rootfs);
  cleanup_error struct cove_error *local = NULL;
  cleanup_close int sfd = cove_open_in_root (rootfd, path, O_RDONLY
                                             | O_DIRECTORY, &local);
  if (sfd < 0)
    {
      if (local->errnum == ENOENT || local->errnum == ENOTDIR)
        return 0;
      *err = steal_pointer (&local);
      return -1;
    }
  cleanup_close int dfd = open (dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW
                                | O_CLOEXEC);
  if (dfd < 0)
    return cove_error_set (err, errno, "open `%s`", dest);
  if (!is_empty (dfd))
    return 0;
  struct stat st;
  if (fstat (sfd, &st) < 0)
    return cove_error_set (err, errno, "stat `%s`", path);
  if (copy_dir (sfd, dfd, 0, err) < 0)
    return -1;
  return copy_meta (dfd, &st, dest, err);
}
