/* The container's mount tree.  Everything here runs in the child, in its
   new mount namespace, as root of the caller's user namespace.  Paths inside
   the rootfs come from config.json and the rootfs itself is the image's
   (untrusted: its symlinks may point anywhere), so every destination is
   resolved from an fd of the rootfs with RESOLVE_IN_ROOT; sources of bind
   mounts are host paths, chosen by the user.  */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pkg/runtime/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

int
runtime_open_in_root (int rootfd, const char *path, int flags,
                      struct cove_error **err)
{
  struct open_how how = {
    .flags = (uint64_t) (flags | O_CLOEXEC),
    /* Magic links (/proc/self/...) inside the rootfs could lead out.  */
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  int fd;
  do
    fd = (int) syscall (SYS_openat2, rootfd, path, &how, sizeof how);
  while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  if (fd < 0)
    return cove_error_set (err, errno, "open `%s`", path);
  return fd;
}

/* Create the missing last component of PATH (whose parent exists).  */
static int
create_last (int rootfd, const char *path, bool as_file, struct cove_error **err)
{
  cleanup_free char *parent = xstrdup (path);
  char *slash = strrchr (parent, '/');
  const char *name = path + (slash - parent) + 1;
  slash[slash == parent ? 1 : 0] = '\0';
  cleanup_close int pfd = runtime_mountpoint (rootfd, parent, false, err);
  if (pfd < 0)
    return -1;
  if (as_file)
    {
      int fd = openat (pfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW
                       | O_CLOEXEC, 0644);
      if (fd < 0 && errno != EEXIST)
        return cove_error_set (err, errno, "create mount point `%s`", path);
      if (fd >= 0)
        close (fd);
    }
  else if (mkdirat (pfd, name, 0755) < 0 && errno != EEXIST)
    return cove_error_set (err, errno, "create mount point `%s`", path);
  return 0;
}

int
runtime_mountpoint (int rootfd, const char *path, bool as_file,
                    struct cove_error **err)
{
  cleanup_error struct cove_error *tmp = NULL;
  int fd = runtime_open_in_root (rootfd, path, O_PATH, &tmp);
  if (fd >= 0)
    return fd;
  if (tmp->errnum != ENOENT)
    {
      *err = steal_pointer (&tmp);
      return -1;
    }
  /* Strip trailing slashes: "/a/b/" creates b in /a.  */
  cleanup_free char *p = xstrdup (path);
  size_t len = strlen (p);
  while (len > 1 && p[len - 1] == '/')
    p[--len] = '\0';
  if (create_last (rootfd, p, as_file, err) < 0)
    return -1;
  return runtime_open_in_root (rootfd, p, O_PATH, err);
}

int
runtime_bind_fd (int srcfd, int dstfd, bool recursive, uint64_t attrs,
                 struct cove_error **err)
{
  unsigned rec = recursive ? AT_RECURSIVE : 0;
  cleanup_close int tree = open_tree (srcfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC
                                      | AT_EMPTY_PATH | rec);
  if (tree < 0)
    return cove_error_set (err, errno, "clone mount tree");
  if (attrs != 0)
    {
      /* Only the bits asked for change: nosuid, nodev... that the source
         has (and may have locked, from the host) stay as they are.  */
      struct mount_attr attr = { .attr_set = attrs };
      if (mount_setattr (tree, "", AT_EMPTY_PATH | rec, &attr, sizeof attr) < 0)
        return cove_error_set (err, errno, "set mount attributes");
    }
  if (move_mount (tree, "", dstfd, "", MOVE_MOUNT_F_EMPTY_PATH
                  | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return cove_error_set (err, errno, "attach mount");
  return 0;
}

int
runtime_rootfs_prepare (const struct runtime_config *cfg,
                        struct cove_error **err)
{
  /* Nothing mounted in here may propagate back to the caller's mounts.  */
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return cove_error_set (err, errno, "make mounts private");
  /* pivot_root needs the new root to be a mount point.  */
  if (mount (cfg->root_path, cfg->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return cove_error_set (err, errno, "bind rootfs `%s`", cfg->root_path);
  int fd = open (cfg->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno, "open rootfs `%s`", cfg->root_path);
  return fd;
}

int
runtime_rootfs_pivot (int rootfd, struct cove_error **err)
{
  if (fchdir (rootfd) < 0)
    return cove_error_set (err, errno, "chdir to rootfs");
  /* pivot_root(".", "."): the old root ends up mounted on top of the new
     one, so no put_old directory is needed; detaching it leaves the new
     root visible.  */
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return cove_error_set (err, errno, "pivot_root");
  if (umount2 (".", MNT_DETACH) < 0)
    return cove_error_set (err, errno, "detach old root");
  if (chdir ("/") < 0)
    return cove_error_set (err, errno, "chdir `/`");
  return 0;
}

int
runtime_rootfs_finish (const struct runtime_config *cfg,
                       struct cove_error **err)
{
  if (!cfg->root_readonly)
    return 0;
  /* Only the root mount: /proc, /dev, /tmp... keep their own flags.  */
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
  if (mount_setattr (AT_FDCWD, "/", 0, &attr, sizeof attr) < 0)
    return cove_error_set (err, errno, "make `/` read-only");
  return 0;
}

/* A read-only empty tmpfs over the directory FD.  */
static int
mask_dir (int fd, const char *path, struct cove_error **err)
{
  cleanup_free char *target = xasprintf ("/proc/self/fd/%d", fd);
  if (mount ("tmpfs", target, "tmpfs", MS_RDONLY, NULL) < 0)
    return cove_error_set (err, errno, "mask `%s`", path);
  return 0;
}

static int
mask_path (int rootfd, int nullfd, const char *path, struct cove_error **err)
{
  cleanup_error struct cove_error *tmp = NULL;
  cleanup_close int fd = runtime_open_in_root (rootfd, path, O_PATH, &tmp);
  if (fd < 0)
    {
      if (tmp->errnum == ENOENT)
        return 0;
      *err = steal_pointer (&tmp);
      return cove_error_wrap (err, "mask `%s`", path);
    }
  struct stat st;
  if (fstat (fd, &st) < 0)
    return cove_error_set (err, errno, "stat `%s`", path);
  if (S_ISDIR (st.st_mode))
    return mask_dir (fd, path, err);
  if (runtime_bind_fd (nullfd, fd, false, 0, err) < 0)
    return cove_error_wrap (err, "mask `%s`", path);
  return 0;
}

static int
readonly_path (int rootfd, const char *path, struct cove_error **err)
{
  cleanup_error struct cove_error *tmp = NULL;
  cleanup_close int fd = runtime_open_in_root (rootfd, path, O_PATH, &tmp);
  if (fd < 0)
    {
      if (tmp->errnum == ENOENT)
        return 0;
      *err = steal_pointer (&tmp);
      return cove_error_wrap (err, "make `%s` read-only", path);
    }
  if (runtime_bind_fd (fd, fd, true, MOUNT_ATTR_RDONLY, err) < 0)
    return cove_error_wrap (err, "make `%s` read-only", path);
  return 0;
}

int
runtime_paths_protect (const struct runtime_config *cfg, int rootfd,
                       struct cove_error **err)
{
  if (cfg->masked_paths[0] != NULL)
    {
      /* The host's /dev/null: the container may have none.  */
      cleanup_close int nullfd = open ("/dev/null", O_PATH | O_CLOEXEC);
      if (nullfd < 0)
        return cove_error_set (err, errno, "open `/dev/null`");
      for (char **p = cfg->masked_paths; *p; p++)
        if (mask_path (rootfd, nullfd, *p, err) < 0)
          return -1;
    }
  for (char **p = cfg->readonly_paths; *p; p++)
    if (readonly_path (rootfd, *p, err) < 0)
      return -1;
  return 0;
}
