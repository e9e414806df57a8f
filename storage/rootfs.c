/* Container root filesystems: containers/ID/{upper,work,merged} over the
   image's layers, by kernel overlayfs, the fuse-overlayfs program, or a
   plain copy (containers/ID/rootfs).  The driver used is recorded in
   containers/ID/storage-driver so that unmount (maybe in another process)
   knows what to undo.  Runs in the user namespace, in the mount namespace
   the caller chose: the mount is made there.  */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "storage/internal.h"

static const char *const driver_names[] = {
  [COVE_STORAGE_OVERLAY] = "overlay",
  [COVE_STORAGE_FUSE_OVERLAY] = "fuse-overlayfs",
  [COVE_STORAGE_VFS] = "vfs",
  [COVE_STORAGE_AUTO] = "auto",
};

const char *
cove_storage_driver_name (enum cove_storage_driver d)
{
  return (unsigned) d <= COVE_STORAGE_AUTO ? driver_names[d] : "unknown";
}

int
cove_storage_driver_parse (const char *name, enum cove_storage_driver *out,
                           struct cove_error **err)
{
  for (unsigned i = 0; i <= COVE_STORAGE_AUTO; i++)
    if (strcmp (name, driver_names[i]) == 0)
      {
        *out = (enum cove_storage_driver) i;
        return 0;
      }
  if (strcmp (name, "") == 0)
    {
      *out = COVE_STORAGE_AUTO;
      return 0;
    }
  return cove_error_set (err, EINVAL, "unknown storage driver `%s`", name);
}

/* The layers' diff dirs, top first (overlay's order).  */
static char **
lower_dirs (struct cove_storage *s, const struct cove_storage_image *img,
            const char *cdir, size_t *out_n, struct cove_error **err)
{
  size_t n = cove_strv_len (img->layers);
  char **v = xmalloc0 ((n + 2) * sizeof *v);
  for (size_t i = 0; i < n; i++)
    {
      if (storage_digest_hex (img->layers[i]) == NULL)
        {
          cove_strv_free (v);
          cove_error_set (err, EINVAL, "invalid layer id `%s`", img->layers[i]);
          return NULL;
        }
      cleanup_free char *l = storage_layer_path (s, img->layers[i]);
      v[n - 1 - i] = xasprintf ("%s/diff", l);
    }
  if (n == 0)
    {
      /* An image without layers (FROM scratch + nothing): overlay wants
         a lower dir all the same.  */
      v[0] = xasprintf ("%s/empty", cdir);
      if (mkdir (v[0], 0755) < 0 && errno != EEXIST)
        {
          cove_strv_free (v);
          cove_error_set (err, errno, "mkdir `%s/empty`", cdir);
          return NULL;
        }
      n = 1;
    }
  *out_n = n;
  return v;
}

static int
mkdirs (const char *cdir, struct cove_error **err)
{
  static const char *const sub[] = { "upper", "work", "merged" };
  if (cove_mkdir_p (cdir, 0700, err) < 0)
    return -1;
  for (size_t i = 0; i < 3; i++)
    {
      cleanup_free char *p = xasprintf ("%s/%s", cdir, sub[i]);
      /* upper's mode becomes the mode of the container's `/`.  */
      if (mkdir (p, i == 0 ? 0755 : 0700) < 0 && errno != EEXIST)
        return cove_error_set (err, errno, "mkdir `%s`", p);
    }
  return 0;
}

static int
mount_overlay (char **lowers, size_t n, const char *cdir,
               struct cove_error **err)
{
  cleanup_free char *upper = xasprintf ("%s/upper", cdir);
  cleanup_free char *work = xasprintf ("%s/work", cdir);
  cleanup_free char *merged = xasprintf ("%s/merged", cdir);
  cleanup_close int fd = storage_overlay_mount_fd (lowers, n, upper, work, err);
  if (fd < 0)
    return -1;
  if (move_mount (fd, "", AT_FDCWD, merged, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return cove_error_set (err, errno, "attach overlay at `%s`", merged);
  return 0;
}

static int
mount_with (enum cove_storage_driver d, char **lowers, size_t n,
            const char *cdir, struct cove_error **err)
{
  if (d == COVE_STORAGE_OVERLAY)
    return mount_overlay (lowers, n, cdir, err);
  if (d == COVE_STORAGE_FUSE_OVERLAY)
    {
      cleanup_free char *upper = xasprintf ("%s/upper", cdir);
      cleanup_free char *work = xasprintf ("%s/work", cdir);
      cleanup_free char *merged = xasprintf ("%s/merged", cdir);
      return storage_fuse_overlay_mount (lowers, n, upper, work, merged, err);
    }
  cleanup_free char *rootfs = xasprintf ("%s/rootfs", cdir);
  struct stat st;
  /* Already copied (a container started again): its changes live there.  */
  if (stat (rootfs, &st) == 0)
    return 0;
  cleanup_free char *tmp = xasprintf ("%s/rootfs.tmp", cdir);
  cove_rm_rf (tmp, NULL);
  /* vfs wants the layers bottom first.  */
  char **bottom = xmalloc0 ((n + 1) * sizeof *bottom);
  for (size_t i = 0; i < n; i++)
    bottom[i] = lowers[n - 1 - i];
  int r = storage_vfs_copy (bottom, n, tmp, err);
  free (bottom);
  if (r == 0 && rename (tmp, rootfs) < 0)
    r = cove_error_set (err, errno, "rename `%s`", tmp);
  if (r < 0)
    cove_rm_rf (tmp, NULL);
  return r;
}

int
cove_storage_rootfs_mount (struct cove_storage *s,
                           const struct cove_storage_image *img,
                           const char *container_id,
                           enum cove_storage_driver driver, char **out_path,
                           struct cove_error **err)
{
  if (strchr (container_id, '/') || container_id[0] == '.' || container_id[0] == '\0')
    return cove_error_set (err, EINVAL, "invalid container id `%s`", container_id);
  cleanup_free char *cdir = xasprintf ("%s/containers/%s", s->root, container_id);
  if (mkdirs (cdir, err) < 0)
    return -1;
  size_t n = 0;
  cleanup_strv char **lowers = lower_dirs (s, img, cdir, &n, err);
  if (lowers == NULL)
    return -1;
  enum cove_storage_driver used = driver;
  int r;
  if (driver != COVE_STORAGE_AUTO)
    r = mount_with (driver, lowers, n, cdir, err);
  else
    {
      /* Fall back in order; the last error is the one reported.  */
      r = -1;
      for (used = COVE_STORAGE_OVERLAY; r < 0 && used <= COVE_STORAGE_VFS; used++)
        {
          cove_error_release (err);
          r = mount_with (used, lowers, n, cdir, err);
        }
      used--;
    }
  if (r < 0)
    return cove_error_wrap (err, "mount root filesystem (%s)",
                            cove_storage_driver_name (used));
  cleanup_free char *dfile = xasprintf ("%s/storage-driver", cdir);
  const char *name = cove_storage_driver_name (used);
  if (cove_file_write_atomic (dfile, name, strlen (name), 0600, 0, err) < 0)
    {
      cove_storage_rootfs_unmount (s, container_id, NULL);
      return -1;
    }
  *out_path = xasprintf ("%s/%s", cdir, used == COVE_STORAGE_VFS ? "rootfs" : "merged");
  return 0;
}

int
cove_storage_rootfs_unmount (struct cove_storage *s, const char *container_id,
                             struct cove_error **err)
{
  if (strchr (container_id, '/') || container_id[0] == '.' || container_id[0] == '\0')
    return cove_error_set (err, EINVAL, "invalid container id `%s`", container_id);
  cleanup_free char *cdir = xasprintf ("%s/containers/%s", s->root, container_id);
  cleanup_free char *dfile = xasprintf ("%s/storage-driver", cdir);
  cleanup_free char *name = cove_file_read_at (AT_FDCWD, dfile, 64, NULL, NULL);
  if (name && strcmp (name, "vfs") == 0)
    return 0;  /* nothing mounted; rootfs holds the container's changes */
  cleanup_free char *merged = xasprintf ("%s/merged", cdir);
  /* EINVAL: not a mount point (never mounted, or unmounted already).  */
  if (umount2 (merged, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    return cove_error_set (err, errno, "unmount `%s`", merged);
  cleanup_free char *work = xasprintf ("%s/work", cdir);
  if (cove_rm_rf (work, err) < 0)
    return -1;
  if (rmdir (merged) < 0 && errno != ENOENT)
    return cove_error_set (err, errno, "rmdir `%s`", merged);
  return 0;
}

char *
cove_storage_rootfs_driver (struct cove_storage *s, const char *container_id)
{
  if (strchr (container_id, '/') || container_id[0] == '.')
    return NULL;
  cleanup_free char *dfile = xasprintf ("%s/containers/%s/storage-driver",
                                        s->root, container_id);
  return cove_file_read_at (AT_FDCWD, dfile, 64, NULL, NULL);
}
