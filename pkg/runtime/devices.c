/* /dev of the container, in the child before pivot_root.  mknod is refused
   in a user namespace, and a tmpfs mounted there is nodev anyway, so each
   device is the host's node bind-mounted onto an empty file (as crun does
   rootless).  The bind keeps the flags of the host's /dev mount.  */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "pkg/runtime/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* Every container has these (runtime-spec "Default Devices").  */
static const char *const default_devices[] = {
  "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
  "/dev/tty",
};

static const struct
{
  const char *name;
  const char *target;
} dev_symlinks[] = {
  { "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
  { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
};

/* Bind the host's node PATH onto DSTFD.  */
static int
bind_host_node (const char *path, int dstfd, struct cove_error **err)
{
  /* The same path on the host: config devices name host devices.  */
  cleanup_close int src = open (path, O_PATH | O_CLOEXEC);
  if (src < 0)
    return cove_error_set (err, errno, "device `%s`", path);
  if (runtime_bind_fd (src, dstfd, false, 0, err) < 0)
    return cove_error_wrap (err, "device `%s`", path);
  return 0;
}

static int
bind_device (int rootfd, const char *path, struct cove_error **err)
{
  cleanup_close int dst = runtime_mountpoint (rootfd, path, true, err);
  if (dst < 0)
    return cove_error_wrap (err, "device `%s`", path);
  return bind_host_node (path, dst, err);
}

/* A default device in the fresh tmpfs open at DEVFD: the file is known
   not to exist, so it is created directly.  */
static int
bind_default_device (int devfd, const char *path, struct cove_error **err)
{
  const char *name = path + strlen ("/dev/");
  cleanup_close int dst = openat (devfd, name, O_CREAT | O_EXCL | O_WRONLY
                                  | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (dst < 0)
    return cove_error_set (err, errno, "device `%s`", path);
  return bind_host_node (path, dst, err);
}

static bool
has_mount (const struct runtime_config *cfg, const char *dest, const char *type)
{
  for (size_t i = 0; i < cfg->n_mounts; i++)
    if (strcmp (cfg->mounts[i].destination, dest) == 0
        && (type == NULL || strcmp (cfg->mounts[i].type, type) == 0))
      return true;
  return false;
}

static bool
is_default_device (const char *path)
{
  for (size_t i = 0; i < sizeof default_devices / sizeof default_devices[0]; i++)
    if (strcmp (default_devices[i], path) == 0)
      return true;
  return false;
}

static int
dev_links (const struct runtime_config *cfg, int devfd, struct cove_error **err)
{
  for (size_t i = 0; i < sizeof dev_symlinks / sizeof dev_symlinks[0]; i++)
    if (symlinkat (dev_symlinks[i].target, devfd, dev_symlinks[i].name) < 0
        && errno != EEXIST)
      return cove_error_set (err, errno, "symlink `/dev/%s`", dev_symlinks[i].name);
  /* The ptmx of the container's own devpts instance, not the host's.  */
  if (has_mount (cfg, "/dev/pts", "devpts")
      && symlinkat ("pts/ptmx", devfd, "ptmx") < 0 && errno != EEXIST)
    return cove_error_set (err, errno, "symlink `/dev/ptmx`");
  return 0;
}

int
runtime_devices_create (const struct runtime_config *cfg, int rootfd,
                        struct cove_error **err)
{
  /* Without a /dev mount, /dev is the image's own directory: leave it.  */
  bool own_dev = has_mount (cfg, "/dev", "tmpfs");
  cleanup_close int devfd = -1;
  if (own_dev)
    {
      devfd = runtime_open_in_root (rootfd, "/dev", O_PATH | O_DIRECTORY, err);
      if (devfd < 0)
        return -1;
      for (size_t i = 0; i < sizeof default_devices / sizeof default_devices[0]; i++)
        if (bind_default_device (devfd, default_devices[i], err) < 0)
          return -1;
    }
  for (size_t i = 0; i < cfg->n_devices; i++)
    {
      if (own_dev && is_default_device (cfg->devices[i].path))
        continue;
      if (bind_device (rootfd, cfg->devices[i].path, err) < 0)
        return -1;
    }
  return own_dev ? dev_links (cfg, devfd, err) : 0;
}
