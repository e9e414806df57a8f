/* A read-only view of a container's root filesystem as it is now, for
   `cove export` and `cove cp` out of a container: an overlay mount with
   the container's upper directory as the top lower layer and no upper, so
   that it mounts beside the container's own (running) mount without
   touching its upper or work directory, and nothing can be written.  The
   mount is detached (fsmount without move_mount): it exists as the
   returned fd only and goes away when the fd is closed.  */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"
#include "storage/internal.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Before lowerdir+ (6.8): one "lowerdir=A:B" option.  */
static int
set_lowerdir_legacy (int fs, char **dirs, struct cove_error **err)
{
  cleanup_free char *v = xstrdup ("");
  for (size_t i = 0; dirs[i]; i++)
    {
      if (strpbrk (dirs[i], ":,\\"))
        return cove_error_set (err, EINVAL, "layer path `%s` has `:` or `,`",
                               dirs[i]);
      char *n = xasprintf ("%s%s%s", v, i ? ":" : "", dirs[i]);
      free (v);
      v = n;
    }
  if (fsconfig (fs, FSCONFIG_SET_STRING, "lowerdir", v, 0) < 0)
    return cove_error_set (err, errno, "overlay option lowerdir");
  return 0;
}

/* A detached read-only overlay of DIRS (top first, at least two).  */
static int
mount_lowers (char **dirs, struct cove_error **err)
{
  cleanup_close int fs = fsopen ("overlay", FSOPEN_CLOEXEC);
  if (fs < 0)
    return cove_error_set (err, errno, "fsopen overlay");
  for (size_t i = 0; dirs[i]; i++)
    if (fsconfig (fs, FSCONFIG_SET_STRING, "lowerdir+", dirs[i], 0) < 0)
      {
        if (i == 0 && errno == EINVAL)
          {
            if (set_lowerdir_legacy (fs, dirs, err) < 0)
              return -1;
            break;
          }
        return cove_error_set (err, errno, "overlay lower dir `%s`", dirs[i]);
      }
  /* The trees were written by overlay in a user namespace: user.overlay.*
     xattrs mark their opaque directories.  */
  if (fsconfig (fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
    return cove_error_set (err, errno, "overlay option userxattr");
  if (fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return cove_error_set (err, errno, "create overlay");
  int mnt = fsmount (fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV
                     | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
  if (mnt < 0)
    return cove_error_set (err, errno, "fsmount overlay");
  return mnt;
}

int
cove_storage_rootfs_view (struct cove_storage *s,
                          const struct cove_storage_image *img,
                          const char *container_id, struct cove_error **err)
{
  if (strchr (container_id, '/') || container_id[0] == '.' || container_id[0] == '\0')
    return cove_error_set (err, EINVAL, "invalid container id `%s`", container_id);
  cleanup_free char *cdir = xasprintf ("%s/containers/%s", s->root, container_id);
  cleanup_free char *driver = cove_storage_rootfs_driver (s, container_id);
  if (driver != NULL && strcmp (driver, "vfs") == 0)
    {
      cleanup_free char *rootfs = xasprintf ("%s/rootfs", cdir);
      int fd = open (rootfs, DIR_FLAGS);
      if (fd < 0)
        return cove_error_set (err, errno, "open `%s`", rootfs);
      return fd;
    }
  cleanup_strv char **dirs = NULL;
  cleanup_free char *upper = xasprintf ("%s/upper", cdir);
  struct stat st;
  if (stat (upper, &st) == 0)
    cove_strv_append (&dirs, upper);
  for (size_t n = cove_strv_len (img->layers); n > 0; n--)
    {
      if (storage_digest_hex (img->layers[n - 1]) == NULL)
        return cove_error_set (err, EINVAL, "invalid layer id `%s`",
                               img->layers[n - 1]);
      cleanup_free char *l = storage_layer_path (s, img->layers[n - 1]);
      cleanup_free char *diff = xasprintf ("%s/diff", l);
      cove_strv_append (&dirs, diff);
    }
  if (cove_strv_len (dirs) == 0)
    return cove_error_set (err, ENOENT, "container %.12s has no root "
                           "filesystem", container_id);
  if (cove_strv_len (dirs) == 1)
    {
      /* overlay wants two lower dirs without an upper; one is the view.  */
      int fd = open (dirs[0], DIR_FLAGS);
      if (fd < 0)
        return cove_error_set (err, errno, "open `%s`", dirs[0]);
      return fd;
    }
  return mount_lowers (dirs, err);
}
