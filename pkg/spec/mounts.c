/* The container's mounts, devices and masked paths: podman's defaults plus
   -v, --tmpfs and --read-only.  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pkg/spec/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

static json_t *
strv_json (const char *const *v)
{
  json_t *a = json_array ();
  for (size_t i = 0; v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

static void
add_mount (json_t *mounts, const char *dst, const char *type, const char *src,
           const char *const *options)
{
  json_array_append_new (mounts, json_pack ("{s:s, s:s, s:s, s:o}",
                                            "destination", dst, "type", type,
                                            "source", src,
                                            "options", strv_json (options)));
}

/* devpts wants gid=5 (tty) only where gid 5 is mapped: with the single
   mapping fallback only gid 0 exists in the namespace.  */
static bool
gid_mapped (unsigned gid)
{
  cleanup_fclose FILE *f = fopen ("/proc/self/gid_map", "re");
  unsigned inside, outside, count;
  while (f && fscanf (f, "%u %u %u", &inside, &outside, &count) == 3)
    if (gid >= inside && gid - inside < count)
      return true;
  return false;
}

static void
default_mounts (json_t *m)
{
  static const char *const proc[] = { "nosuid", "noexec", "nodev", NULL };
  static const char *const dev[] = { "nosuid", "strictatime", "mode=755",
                                     "size=65536k", NULL };
  static const char *const pts[] = { "nosuid", "noexec", "newinstance",
                                     "ptmxmode=0666", "mode=0620", "gid=5", NULL };
  static const char *const pts_nogid[] = { "nosuid", "noexec", "newinstance",
                                           "ptmxmode=0666", "mode=0620", NULL };
  static const char *const mqueue[] = { "nosuid", "noexec", "nodev", NULL };
  static const char *const shm[] = { "nosuid", "noexec", "nodev", "mode=1777",
                                     "size=65536k", NULL };
  static const char *const sys[] = { "nosuid", "noexec", "nodev", "ro", NULL };
  static const char *const cgroup[] = { "rprivate", "nosuid", "noexec", "nodev",
                                        "relatime", "ro", NULL };
  add_mount (m, "/proc", "proc", "proc", proc);
  add_mount (m, "/dev", "tmpfs", "tmpfs", dev);
  add_mount (m, "/dev/pts", "devpts", "devpts", gid_mapped (5) ? pts : pts_nogid);
  add_mount (m, "/dev/mqueue", "mqueue", "mqueue", mqueue);
  add_mount (m, "/dev/shm", "tmpfs", "shm", shm);
  add_mount (m, "/sys", "sysfs", "sysfs", sys);
  add_mount (m, "/sys/fs/cgroup", "cgroup", "cgroup", cgroup);
}

static bool
is_known_option (const char *o)
{
  static const char *const known[] = { "ro", "rw", "z", "Z", "bind", "rbind",
                                       "private", "rprivate", "shared",
                                       "rshared", "slave", "rslave", "nosuid",
                                       "suid", "nodev", "dev", "noexec", "exec",
                                       "nocopy", "copy", NULL };
  for (size_t i = 0; known[i]; i++)
    if (strcmp (o, known[i]) == 0)
      return true;
  return false;
}

bool
cove_spec_mount_option_has (const char *opts, const char *word)
{
  size_t n = strlen (word);
  for (const char *o = opts; o != NULL;)
    {
      if (strncmp (o, word, n) == 0 && (o[n] == ',' || o[n] == '\0'))
        return true;
      o = strchr (o, ',');
      if (o)
        o++;
    }
  return false;
}

/* -v SRC:DST[:OPTS] with SRC an absolute host path (cmd/ turned volume
   names into their directories already).  */
static int
add_volume (json_t *m, const char *spec, struct cove_error **err)
{
  cleanup_free char *copy = xstrdup (spec);
  char *dst = strchr (copy, ':');
  if (dst == NULL || copy[0] == '\0')
    return cove_error_set (err, EINVAL, "invalid volume `%s`: "
                           "must be HOST-DIR:CONTAINER-DIR[:OPTIONS]", spec);
  *dst++ = '\0';
  char *opts = strchr (dst, ':');
  if (opts)
    *opts++ = '\0';
  if (copy[0] != '/')
    return cove_error_set (err, EINVAL, "invalid volume `%s`: named volumes "
                           "are not supported yet, the source must be an "
                           "absolute path", spec);
  if (dst[0] != '/')
    return cove_error_set (err, EINVAL, "invalid volume `%s`: the container "
                           "path must be absolute", spec);
  struct stat st;
  if (stat (copy, &st) < 0)
    return cove_error_set (err, errno, "bind mount source `%s`", copy);
  /* "bind" asks for a bind mount without the mounts below SRC.  */
  bool bind = cove_spec_mount_option_has (opts, "bind");
  json_t *options = json_pack ("[s]", bind ? "bind" : "rbind");
  cleanup_free char *optcopy = xstrdup (opts ? opts : "");
  for (char *o = optcopy, *next; o && *o; o = next)
    {
      next = strchr (o, ',');
      if (next)
        *next++ = '\0';
      if (!is_known_option (o))
        {
          json_decref (options);
          return cove_error_set (err, EINVAL, "invalid volume `%s`: "
                                 "unknown option `%s`", spec, o);
        }
      if (strcmp (o, "z") && strcmp (o, "Z") && strcmp (o, "rbind")
          && strcmp (o, "bind") && strcmp (o, "rw") && strcmp (o, "nocopy")
          && strcmp (o, "copy"))
        json_array_append_new (options, json_string (o));
    }
  json_array_append_new (m, json_pack ("{s:s, s:s, s:s, s:o}", "destination",
                                       dst, "type", "bind", "source", copy,
                                       "options", options));
  return 0;
}

/* --tmpfs DST[:OPTS], with podman's defaults rw,noexec,nosuid,nodev.  */
static int
add_tmpfs (json_t *m, const char *spec, struct cove_error **err)
{
  cleanup_free char *copy = xstrdup (spec);
  char *opts = strchr (copy, ':');
  if (opts)
    *opts++ = '\0';
  if (copy[0] != '/')
    return cove_error_set (err, EINVAL, "invalid --tmpfs `%s`: "
                           "the path must be absolute", spec);
  json_t *options = json_pack ("[s,s,s,s]", "rw", "noexec", "nosuid", "nodev");
  cleanup_free char *optcopy = xstrdup (opts ? opts : "");
  for (char *o = optcopy, *next; o && *o; o = next)
    {
      next = strchr (o, ',');
      if (next)
        *next++ = '\0';
      json_array_append_new (options, json_string (o));
    }
  json_array_append_new (m, json_pack ("{s:s, s:s, s:s, s:o}", "destination",
                                       copy, "type", "tmpfs", "source", "tmpfs",
                                       "options", options));
  return 0;
}

/* --init: the host's cove-init, read-only, at COVE_SPEC_INIT_PATH.  */
static int
add_init (json_t *m, const char *path, struct cove_error **err)
{
  static const char *const opts[] = { "bind", "ro", "nosuid", "nodev", NULL };
  struct stat st;
  if (path[0] != '/')
    return cove_error_set (err, EINVAL, "invalid init path `%s`: "
                           "must be absolute", path);
  if (stat (path, &st) < 0)
    return cove_error_set (err, errno, "init binary `%s`", path);
  if (!S_ISREG (st.st_mode))
    return cove_error_set (err, EINVAL, "init binary `%s`: not a regular "
                           "file", path);
  add_mount (m, COVE_SPEC_INIT_PATH, "bind", path, opts);
  return 0;
}

json_t *
spec_mounts (const struct cove_spec_request *req, struct cove_error **err)
{
  json_t *m = json_array ();
  default_mounts (m);
  /* --read-only-tmpfs, on by default in podman: scratch space stays
     writable under a read-only root.  */
  static const char *const rw_tmp[] = { "rw", "rprivate", "nosuid", "nodev",
                                        NULL };
  if (req->read_only)
    for (const char *const *d = (const char *const[]) { "/run", "/tmp",
                                                        "/var/tmp", NULL };
         *d; d++)
      add_mount (m, *d, "tmpfs", "tmpfs", rw_tmp);
  /* The container's own /etc/hosts, resolv.conf and hostname, from its
     directory (the image's files stay as they are); before the volumes,
     so that a -v over one of them wins, as in podman.  */
  static const char *const etc_opts[] = { "bind", "rprivate", "nosuid",
                                          "nodev", "noexec", NULL };
  const char *const etc[][2] = { { "/etc/hosts", req->etc_hosts },
                                 { "/etc/resolv.conf", req->etc_resolv },
                                 { "/etc/hostname", req->etc_hostname } };
  for (size_t i = 0; i < 3; i++)
    if (etc[i][1])
      add_mount (m, etc[i][0], "bind", etc[i][1], etc_opts);
  for (size_t i = 0; req->volumes && req->volumes[i]; i++)
    if (add_volume (m, req->volumes[i], err) < 0)
      goto fail;
  for (size_t i = 0; req->tmpfs && req->tmpfs[i]; i++)
    if (add_tmpfs (m, req->tmpfs[i], err) < 0)
      goto fail;
  /* Last, so that no tmpfs of /run (--read-only) hides it.  */
  if (req->init_path && add_init (m, req->init_path, err) < 0)
    goto fail;
  return m;
fail:
  json_decref (m);
  return NULL;
}

json_t *
spec_devices (void)
{
  static const struct { const char *path; int major, minor; } devs[] = {
    { "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 }, { "/dev/full", 1, 7 },
    { "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
  };
  json_t *a = json_array ();
  for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++)
    json_array_append_new (a, json_pack ("{s:s, s:s, s:i, s:i, s:i, s:i, s:i}",
                                         "path", devs[i].path, "type", "c",
                                         "major", devs[i].major,
                                         "minor", devs[i].minor,
                                         "fileMode", 0666, "uid", 0, "gid", 0));
  return a;
}

json_t *
spec_masked_paths (void)
{
  static const char *const masked[] = {
    "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/proc/scsi", "/sys/firmware", "/sys/fs/selinux", "/sys/dev/block", NULL,
  };
  return strv_json (masked);
}

json_t *
spec_readonly_paths (void)
{
  static const char *const ro[] = {
    "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
    "/proc/sysrq-trigger", NULL,
  };
  return strv_json (ro);
}
