/* cove archive: paths of an untrusted tar, resolved inside the layer.

   Every name of a layer tar comes from a registry or an archive file and
   is hostile until shown otherwise.  Two rules keep writes inside the
   layer directory:
   - names are cleaned lexically first: absolute paths and `..` components
     are refused, so a name can only go down;
   - the directories on the way are opened beneath the layer with
     RESOLVE_NO_SYMLINKS: a symlink of the tar (`l -> /etc`, `l -> ..`) is
     never followed.  A layer is applied into its own empty directory, so
     any symlink met on the way was made by this very tar; a genuine layer
     never writes through one of its own symlinks (tar does not descend
     into them), so such a tar is refused instead of being guessed at.
   The last component is then created with *at() calls relative to the
   opened parent, with O_EXCL / O_NOFOLLOW / AT_SYMLINK_NOFOLLOW.  */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pkg/archive/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

int
arc_clean_path (const char *in, const char *what, char **out,
                struct cove_error **err)
{
  if (in == NULL || *in == '\0')
    return cove_error_set (err, EINVAL, "empty %s", what);
  if (in[0] == '/')
    return cove_error_set (err, EINVAL, "absolute %s", what);
  size_t n = strlen (in);
  if (n >= PATH_MAX)
    return cove_error_set (err, EINVAL, "%s longer than %d bytes", what,
                           PATH_MAX - 1);
  cleanup_free char *buf = xmalloc (n + 1);
  size_t len = 0;
  for (const char *p = in; *p;)
    {
      const char *e = strchrnul (p, '/');
      size_t cl = (size_t) (e - p);
      if (cl == 2 && p[0] == '.' && p[1] == '.')
        return cove_error_set (err, EINVAL, "%s has a `..` component", what);
      if (cl > NAME_MAX)
        return cove_error_set (err, EINVAL, "%s has a component longer than "
                               "%d bytes", what, NAME_MAX);
      if (cl > 0 && !(cl == 1 && p[0] == '.'))
        {
          if (len > 0)
            buf[len++] = '/';
          memcpy (buf + len, p, cl);
          len += cl;
        }
      p = *e ? e + 1 : e;
    }
  buf[len] = '\0';
  *out = steal_pointer (&buf);
  return 0;
}

/* openat2 beneath DIRFD, following no symlink at all (not even magic
   links), not crossing mounts.  */
static int
open_beneath (int dirfd, const char *path, int flags)
{
  struct open_how how = {
    .flags = (uint64_t) (flags | O_CLOEXEC),
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS
               | RESOLVE_NO_XDEV,
  };
  int fd;
  do
    fd = (int) syscall (SYS_openat2, dirfd, path, &how, sizeof how);
  while (fd < 0 && errno == EAGAIN);
  return fd;
}

/* The errno of a failed walk as the error of the entry: a symlink or a
   non-directory on the way is the tar's doing (EINVAL).  */
static int
walk_error (int errnum, struct cove_error **err)
{
  if (errnum == ELOOP || errnum == ENOTDIR || errnum == EXDEV)
    return cove_error_set (err, EINVAL, "a parent directory is a symlink "
                           "or not a directory");
  if (errnum == ENAMETOOLONG)
    return cove_error_set (err, EINVAL, "path too long");
  return cove_error_set (err, errnum, "open parent directory");
}

/* mkdir -p of DIR (clean, relative) beneath ROOT, one component at a time
   with O_NOFOLLOW.  Returns an O_PATH fd of DIR.  */
static int
make_dirs (int root, const char *dir, struct cove_error **err)
{
  cleanup_free char *copy = xstrdup (dir);
  cleanup_close int cur = fcntl (root, F_DUPFD_CLOEXEC, 3);
  if (cur < 0)
    return cove_error_set (err, errno, "dup");
  char *save = copy;
  for (char *p = copy; p && *p; p = save)
    {
      char *slash = strchr (p, '/');
      save = slash ? slash + 1 : NULL;
      if (slash)
        *slash = '\0';
      int fd = openat (cur, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT)
        {
          if (mkdirat (cur, p, 0755) < 0 && errno != EEXIST)
            return cove_error_set (err, errno, "mkdir parent `%s`", p);
          fd = openat (cur, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
      if (fd < 0)
        return walk_error (errno, err);
      close (cur);
      cur = fd;
    }
  return steal_fd (&cur);
}

static size_t
dir_len (const char *path, const char **out_name)
{
  const char *slash = strrchr (path, '/');
  *out_name = slash ? slash + 1 : path;
  return slash ? (size_t) (slash - path) : 0;
}

int
arc_parent (struct arc_apply *a, const char *path, const char **out_name,
            struct cove_error **err)
{
  size_t n = dir_len (path, out_name);
  if (n == 0)
    return a->root;
  /* Tars list a directory's entries together: the parent of the previous
     entry is usually this one's too.  The cache stays valid because the
     only things ever removed are children of the current parent.  */
  if (a->cached_fd >= 0 && strlen (a->cached_dir) == n
      && memcmp (a->cached_dir, path, n) == 0)
    return a->cached_fd;
  cleanup_free char *dir = xstrndup (path, n);
  int fd = open_beneath (a->root, dir, O_PATH | O_DIRECTORY);
  if (fd < 0 && errno == ENOENT)
    {
      fd = make_dirs (a->root, dir, err);
      if (fd < 0)
        return -1;
    }
  else if (fd < 0)
    return walk_error (errno, err);
  if (a->cached_fd >= 0)
    close (a->cached_fd);
  free (a->cached_dir);
  a->cached_dir = steal_pointer (&dir);
  a->cached_fd = fd;
  return fd;
}

int
arc_parent_existing (struct arc_apply *a, const char *path,
                     const char **out_name, struct cove_error **err)
{
  size_t n = dir_len (path, out_name);
  if (n == 0)
    {
      int fd = fcntl (a->root, F_DUPFD_CLOEXEC, 3);
      return fd < 0 ? cove_error_set (err, errno, "dup") : fd;
    }
  cleanup_free char *dir = xstrndup (path, n);
  int fd = open_beneath (a->root, dir, O_PATH | O_DIRECTORY);
  if (fd < 0 && errno == ENOENT)
    return cove_error_set (err, ENOENT, "a parent directory is missing");
  if (fd < 0)
    return walk_error (errno, err);
  return fd;
}

void
arc_apply_forget (struct arc_apply *a)
{
  if (a->cached_fd >= 0)
    close (a->cached_fd);
  a->cached_fd = -1;
  free (a->cached_dir);
  a->cached_dir = NULL;
}

/* Empty the directory open at DFD.  Each level is opened with O_NOFOLLOW
   relative to its parent, so the walk never leaves the tree.  */
static int
empty_dir (int dfd, struct cove_error **err)
{
  int dupfd = openat (dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dupfd < 0)
    return cove_error_set (err, errno, "open directory to remove");
  cleanup_dir DIR *d = fdopendir (dupfd);
  if (d == NULL)
    {
      close (dupfd);
      return cove_error_set (err, errno, "opendir");
    }
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (unlinkat (dfd, de->d_name, 0) == 0 || errno == ENOENT)
        continue;
      if (errno != EISDIR)
        return cove_error_set (err, errno, "remove `%s`", de->d_name);
      cleanup_close int sub = openat (dfd, de->d_name, O_RDONLY | O_DIRECTORY
                                      | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0)
        return cove_error_set (err, errno, "open `%s`", de->d_name);
      if (empty_dir (sub, err) < 0)
        return -1;
      if (unlinkat (dfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return cove_error_set (err, errno, "remove `%s`", de->d_name);
    }
  return 0;
}

int
arc_remove_at (struct arc_apply *a, int dirfd, const char *name,
               struct cove_error **err)
{
  if (unlinkat (dirfd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR)
    return cove_error_set (err, errno, "remove existing entry");
  /* The cached parent may be inside the directory going away, unless it
     is DIRFD itself (the directory's parent).  */
  if (a->cached_fd != dirfd)
    arc_apply_forget (a);
  cleanup_close int sub = openat (dirfd, name, O_RDONLY | O_DIRECTORY
                                  | O_NOFOLLOW | O_CLOEXEC);
  if (sub < 0)
    return cove_error_set (err, errno, "open existing directory");
  if (empty_dir (sub, err) < 0)
    return -1;
  if (unlinkat (dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return cove_error_set (err, errno, "remove existing directory");
  return 0;
}
