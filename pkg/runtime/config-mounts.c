/* The `mounts` of config.json, in the child, in its new mount namespace,
   before pivot_root.  Destinations are resolved under the rootfs fd
   (RESOLVE_IN_ROOT: the image's symlinks cannot lead out); bind sources are
   host paths.  */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/runtime/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

struct mount_opts
{
  unsigned long flags;        /* MS_* for mount(2) */
  unsigned long propagation;  /* MS_PRIVATE, MS_SHARED... | MS_REC, or 0 */
  bool bind;
  bool recursive;
  uint64_t attrs;             /* MOUNT_ATTR_* of FLAGS, for bind mounts */
  char *data;                 /* the options mount(2) passes to the fs */
};

static const struct
{
  const char *name;
  unsigned long set;
  unsigned long clear;
} flag_options[] = {
  { "defaults", 0, 0 }, { "ro", MS_RDONLY, 0 }, { "rw", 0, MS_RDONLY },
  { "nosuid", MS_NOSUID, 0 }, { "suid", 0, MS_NOSUID },
  { "nodev", MS_NODEV, 0 }, { "dev", 0, MS_NODEV },
  { "noexec", MS_NOEXEC, 0 }, { "exec", 0, MS_NOEXEC },
  { "sync", MS_SYNCHRONOUS, 0 }, { "async", 0, MS_SYNCHRONOUS },
  { "dirsync", MS_DIRSYNC, 0 }, { "noatime", MS_NOATIME, 0 },
  { "atime", 0, MS_NOATIME }, { "nodiratime", MS_NODIRATIME, 0 },
  { "diratime", 0, MS_NODIRATIME }, { "relatime", MS_RELATIME, 0 },
  { "norelatime", 0, MS_RELATIME }, { "strictatime", MS_STRICTATIME, 0 },
  { "nostrictatime", 0, MS_STRICTATIME }, { "nosymfollow", MS_NOSYMFOLLOW, 0 },
  { "mand", 0, 0 }, { "nomand", 0, 0 }, { "remount", 0, 0 },
};

static const struct
{
  const char *name;
  unsigned long flag;
} propagation_options[] = {
  { "private", MS_PRIVATE }, { "rprivate", MS_PRIVATE | MS_REC },
  { "shared", MS_SHARED }, { "rshared", MS_SHARED | MS_REC },
  { "slave", MS_SLAVE }, { "rslave", MS_SLAVE | MS_REC },
  { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

/* Options podman and docker write for their runtimes' own use (crun
   extensions, SELinux relabelling, chown): no meaning to the kernel.  */
static const char *const ignored_options[] = {
  "tmpcopyup", "notmpcopyup", "z", "Z", "U", "copy", "nocopy", "idmap",
  "rro", "rrw", "rnosuid", "rnodev", "rnoexec", "O",
};

static bool
option_flag (const char *o, struct mount_opts *out)
{
  for (size_t i = 0; i < sizeof flag_options / sizeof flag_options[0]; i++)
    if (strcmp (flag_options[i].name, o) == 0)
      {
        out->flags = (out->flags & ~flag_options[i].clear) | flag_options[i].set;
        return true;
      }
  for (size_t i = 0; i < sizeof propagation_options / sizeof propagation_options[0]; i++)
    if (strcmp (propagation_options[i].name, o) == 0)
      {
        out->propagation = propagation_options[i].flag;
        return true;
      }
  for (size_t i = 0; i < sizeof ignored_options / sizeof ignored_options[0]; i++)
    if (strcmp (ignored_options[i], o) == 0)
      return true;
  return false;
}

static void
parse_options (char **options, struct mount_opts *out)
{
  memset (out, 0, sizeof *out);
  for (char **o = options; *o; o++)
    {
      if (strcmp (*o, "bind") == 0 || strcmp (*o, "rbind") == 0)
        {
          out->bind = true;
          out->recursive = (*o)[0] == 'r';
        }
      else if (!option_flag (*o, out))
        {
          char *d = out->data ? xasprintf ("%s,%s", out->data, *o) : xstrdup (*o);
          free (out->data);
          out->data = d;
        }
    }
  static const struct
  {
    unsigned long ms;
    uint64_t attr;
  } attrs[] = {
    { MS_RDONLY, MOUNT_ATTR_RDONLY }, { MS_NOSUID, MOUNT_ATTR_NOSUID },
    { MS_NODEV, MOUNT_ATTR_NODEV }, { MS_NOEXEC, MOUNT_ATTR_NOEXEC },
    { MS_NODIRATIME, MOUNT_ATTR_NODIRATIME },
    { MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW },
  };
  for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
    if (out->flags & attrs[i].ms)
      out->attrs |= attrs[i].attr;
}

/* Where a filesystem the kernel will not mount here (a pid, net or ipc
   namespace shared with the host, cgroup v1) is taken from instead.  */
static const char *
fallback_source (const char *type)
{
  if (strcmp (type, "proc") == 0)
    return "/proc";
  if (strcmp (type, "sysfs") == 0)
    return "/sys";
  if (strcmp (type, "cgroup") == 0 || strcmp (type, "cgroup2") == 0)
    return "/sys/fs/cgroup";
  if (strcmp (type, "mqueue") == 0)
    return "/dev/mqueue";
  return NULL;
}

static int
bind_host (const char *source, const char *dest, int dstfd,
           const struct mount_opts *o, struct cove_error **err)
{
  cleanup_close int srcfd = open (source, O_PATH | O_CLOEXEC);
  if (srcfd < 0)
    return cove_error_set (err, errno, "bind mount source `%s`", source);
  if (runtime_bind_fd (srcfd, dstfd, o->recursive, o->attrs, err) < 0)
    return cove_error_wrap (err, "bind mount `%s` to `%s`", source, dest);
  return 0;
}

/* A fresh filesystem of M's type, or the host's when refused.  */
static int
mount_fresh (const struct runtime_mount *m, int dstfd, struct mount_opts *o,
             struct cove_error **err)
{
  cleanup_free char *target = xasprintf ("/proc/self/fd/%d", dstfd);
  const char *src = m->source ? m->source : m->type;
  if (mount (src, target, m->type, o->flags, o->data) == 0)
    return 0;
  int saved = errno;
  /* devpts's gid=5 is not mapped with a single-id user namespace.  */
  char *gid = o->data ? strstr (o->data, "gid=") : NULL;
  if (strcmp (m->type, "devpts") == 0 && saved == EINVAL && gid != NULL)
    {
      char *end = strchr (gid, ',');
      memmove (gid, end ? end + 1 : gid + strlen (gid), strlen (end ? end + 1 : "") + 1);
      if (mount (src, target, m->type, o->flags, o->data) == 0)
        return 0;
    }
  const char *host = fallback_source (m->type);
  if (host == NULL)
    return cove_error_set (err, saved, "mount `%s` to `%s`", m->type, m->destination);
  struct mount_opts fb = { .recursive = true, .attrs = o->attrs };
  int r = bind_host (host, m->destination, dstfd, &fb, err);
  /* cgroup v1 hierarchies may be out of reach, a host may have no
     /dev/mqueue: the container runs without.  */
  if (r < 0 && (strncmp (m->type, "cgroup", 6) == 0 || strcmp (m->type, "mqueue") == 0))
    {
      cove_error_release (err);
      return 0;
    }
  return r;
}

static int
apply_propagation (int rootfd, const struct runtime_mount *m,
                   const struct mount_opts *o, struct cove_error **err)
{
  if (o->propagation == 0)
    return 0;
  /* Reopened: the fd of the mount point is below the new mount.  */
  cleanup_close int fd = runtime_open_in_root (rootfd, m->destination, O_PATH, err);
  if (fd < 0)
    return -1;
  cleanup_free char *target = xasprintf ("/proc/self/fd/%d", fd);
  if (mount (NULL, target, NULL, o->propagation, NULL) < 0)
    return cove_error_set (err, errno, "set propagation of `%s`", m->destination);
  return 0;
}

static int
apply_mount (int rootfd, const struct runtime_mount *m, struct cove_error **err)
{
  struct mount_opts o;
  parse_options (m->options, &o);
  cleanup_free char *data = o.data;
  bool bind = o.bind || strcmp (m->type, "bind") == 0;
  bool as_file = false;
  if (bind)
    {
      struct stat st;
      if (stat (m->source, &st) < 0)
        return cove_error_set (err, errno, "bind mount source `%s`", m->source);
      as_file = !S_ISDIR (st.st_mode);
    }
  cleanup_close int dstfd = runtime_mountpoint (rootfd, m->destination, as_file, err);
  if (dstfd < 0)
    return cove_error_wrap (err, "mount `%s`", m->destination);
  int r = bind ? bind_host (m->source, m->destination, dstfd, &o, err)
               : mount_fresh (m, dstfd, &o, err);
  if (r < 0)
    return -1;
  return apply_propagation (rootfd, m, &o, err);
}

int
runtime_mounts_apply (const struct runtime_config *cfg, int rootfd,
                      struct cove_error **err)
{
  for (size_t i = 0; i < cfg->n_mounts; i++)
    if (apply_mount (rootfd, &cfg->mounts[i], err) < 0)
      return -1;
  return runtime_devices_create (cfg, rootfd, err);
}
