/* A container's root filesystem opened from outside: /proc/PID/root of a
   running container's init, a read-only overlay view, or its root
   filesystem mounted in a private mount namespace.  */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cmd/cove/conf.h"
#include "cmd/cove/ctrroot.h"
#include "cmd/cove/output.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)

bool
cove_ctr_root_from_image (const struct cove_state_container *c)
{
  return cove_ctr_extra_bool (c, "image_rootfs");
}

/* /proc/PID/root of the running container's init, or -1 (errno ESRCH)
   when it is not running after all.  The start time is checked after
   the open: the fd is then known to be the container's, not a later
   process's with the same pid.  */
static int
open_live (const struct cove_state_container *c)
{
  if ((c->state != COVE_STATE_RUNNING && c->state != COVE_STATE_PAUSED)
      || c->pid <= 0)
    {
      errno = ESRCH;
      return -1;
    }
  cleanup_free char *p = xasprintf ("/proc/%d/root", (int) c->pid);
  int fd = open (p, DIR_FLAGS);
  if (fd < 0)
    return -1;
  if (!cove_state_proc_alive (c->pid, c->pid_start))
    {
      close (fd);
      errno = ESRCH;
      return -1;
    }
  return fd;
}

/* Our own mount namespace, whose mounts nobody else sees and which goes
   away with this process.  */
static int
private_mounts (struct cove_error **err)
{
  if (unshare (CLONE_NEWNS) < 0)
    return cove_error_set (err, errno, "create mount namespace");
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return cove_error_set (err, errno, "make mounts private");
  return 0;
}

/* Mount the root filesystem read-write with the driver that made it.  */
static int
mount_rw (struct cove_ctr_root *r, struct cove_error **err)
{
  enum cove_storage_driver driver;
  cleanup_free char *used = cove_storage_rootfs_driver (r->s, r->c.id);
  if (used != NULL)
    used[strcspn (used, "\n")] = '\0';
  if (used != NULL ? cove_storage_driver_parse (used, &driver, err) < 0
      : cove_conf_storage_driver (&r->paths, &driver, err) < 0)
    return -1;
  char *path = NULL;
  if (cove_storage_rootfs_mount (r->s, &r->img, r->c.id, driver, &path, err) < 0)
    return -1;
  size_t len = strlen (path);
  /* vfs mounts nothing: its copy is at containers/ID/rootfs.  */
  if (len < 7 || strcmp (path + len - 7, "/rootfs") != 0)
    r->mounted = xstrdup (path);
  r->fd = open (path, DIR_FLAGS);
  if (r->fd < 0)
    cove_error_set (err, errno, "open `%s`", path);
  free (path);
  return r->fd < 0 ? -1 : 0;
}

static int
open_image_root (struct cove_ctr_root *r, enum cove_ctr_root_mode mode,
                 struct cove_error **err)
{
  if (cove_storage_open (&r->paths, &r->s, err) < 0)
    return -1;
  if (r->c.image_id == NULL)
    return cove_error_set (err, EINVAL, "container %s has no image", r->c.name);
  if (cove_storage_image_lookup (r->s, r->c.image_id, &r->img, err) < 0)
    return cove_error_wrap (err, "image of container %s", r->c.name);
  if (private_mounts (err) < 0)
    return -1;
  if (mode == COVE_CTR_ROOT_WRITE)
    return mount_rw (r, err);
  cleanup_error struct cove_error *local = NULL;
  r->fd = cove_storage_rootfs_view (r->s, &r->img, r->c.id, &local);
  if (r->fd >= 0)
    return 0;
  /* The kernel will not mount overlay here (fuse-overlayfs systems):
     a stopped container's root can be mounted as it runs.  */
  if (r->c.state == COVE_STATE_RUNNING || r->c.state == COVE_STATE_PAUSED)
    {
      *err = steal_pointer (&local);
      return -1;
    }
  return mount_rw (r, err);
}

int
cove_ctr_root_open (const char *name_or_id, enum cove_ctr_root_mode mode,
                    struct cove_ctr_root *out, struct cove_error **err)
{
  memset (out, 0, sizeof *out);
  out->fd = -1;
  if (cove_cmd_enter_userns (err) < 0)
    return -1;
  if (cove_ctr_store_open (&out->paths, &out->st, err) < 0)
    return -1;
  out->opened = true;
  if (cove_ctr_load (&out->st, name_or_id, &out->c, err) < 0)
    return -1;
  if (mode != COVE_CTR_ROOT_FS)
    {
      out->fd = open_live (&out->c);
      if (out->fd >= 0)
        {
          out->live = true;
          return 0;
        }
      /* Only a container that is not running (any more) is mounted here:
         a second read-write mount of a running one's upper would corrupt
         it.  */
      if (errno != ESRCH && errno != ENOENT)
        return cove_error_set (err, errno, "open the root of container %s",
                               out->c.name);
    }
  if (!cove_ctr_root_from_image (&out->c))
    {
      /* A --rootfs container: the directory is its root.  */
      out->fd = open (out->c.rootfs, DIR_FLAGS);
      if (out->fd < 0)
        return cove_error_set (err, errno, "open `%s`", out->c.rootfs);
      return 0;
    }
  return open_image_root (out, mode, err);
}

void
cove_ctr_root_close (struct cove_ctr_root *r)
{
  if (r->fd >= 0)
    close (r->fd);
  r->fd = -1;
  /* Only our namespace's mount: the container may be started meanwhile
     by another process, whose mount of the same upper must not lose its
     work directory (cove_storage_rootfs_unmount would remove it).  */
  if (r->mounted != NULL)
    umount2 (r->mounted, MNT_DETACH);
  free (r->mounted);
  r->mounted = NULL;
  if (r->s != NULL)
    {
      cove_storage_image_free (&r->img);
      cove_storage_close (r->s);
      r->s = NULL;
    }
  if (r->opened)
    {
      cove_state_container_free (&r->c);
      cove_ctr_store_close (&r->paths, &r->st);
      r->opened = false;
    }
}
