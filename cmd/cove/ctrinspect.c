/* cove: podman 4.3's `container inspect` document, built from a
   container's record and its config.json (both the user's own files,
   written by cove: still every field is type-checked, as a file may have
   been edited or truncated).  */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrinspect.h"
#include "cmd/cove/ps.h"
#include "pkg/spec/spec.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#define CONFIG_MAX (4 << 20)

static const char *
str_or (json_t *v, const char *dflt)
{
  return json_is_string (v) ? json_string_value (v) : dflt;
}

static json_t *
array_or_empty (json_t *v)
{
  return json_is_array (v) ? json_incref (v) : json_array ();
}

/* The container's config.json, or NULL when absent or unreadable.  */
static json_t *
load_config (const struct cove_storage_paths *paths, const char *id)
{
  cleanup_free char *path = cove_ctr_file (paths, id, "config.json");
  cleanup_error struct cove_error *err = NULL;
  size_t len;
  cleanup_free char *data = cove_file_read_at (AT_FDCWD, path, CONFIG_MAX, &len, &err);
  if (data == NULL)
    return NULL;
  json_t *cfg = json_loadb (data, len, 0, NULL);
  if (!json_is_object (cfg))
    {
      json_decref (cfg);
      return NULL;
    }
  return cfg;
}

/* The command as the user gave it: the record's "command", else
   process.args, without --init's "/run/cove-init --" prefix.  */
static json_t *
user_command (const struct cove_state_container *c, json_t *cfg)
{
  json_t *cmd = json_object_get (c->extra, "command");
  if (!json_is_array (cmd))
    cmd = json_object_get (json_object_get (cfg, "process"), "args");
  if (!json_is_array (cmd))
    return json_array ();
  size_t skip = 0;
  if (strcmp (str_or (json_array_get (cmd, 0), ""), COVE_SPEC_INIT_PATH) == 0)
    skip = strcmp (str_or (json_array_get (cmd, 1), ""), "--") == 0 ? 2 : 1;
  json_t *out = json_array ();
  for (size_t i = skip; i < json_array_size (cmd); i++)
    json_array_append (out, json_array_get (cmd, i));
  return out;
}

/* A user mount of config.json: -v/--mount binds and --tmpfs, as opposed
   to the defaults pkg/spec adds (proc, /dev, /dev/shm, sysfs, cgroup,
   --read-only's tmpfs with options rw,rprivate,... and --init's binary).
   A user's --tmpfs always gets "rw,noexec,..." first (pkg/spec).  */
static bool
user_mount (json_t *m)
{
  const char *type = str_or (json_object_get (m, "type"), "");
  const char *dst = str_or (json_object_get (m, "destination"), "");
  if (strcmp (type, "bind") == 0)
    return strcmp (dst, COVE_SPEC_INIT_PATH) != 0;
  if (strcmp (type, "tmpfs") != 0 || strcmp (dst, "/dev") == 0
      || strcmp (dst, "/dev/shm") == 0)
    return false;
  json_t *opts = json_object_get (m, "options");
  return strcmp (str_or (json_array_get (opts, 1), ""), "noexec") == 0;
}

json_t *
cove_ctr_mount_destinations (const struct cove_storage_paths *paths,
                             const struct cove_state_container *c)
{
  json_t *out = json_array ();
  json_t *cfg = load_config (paths, c->id);
  size_t i;
  json_t *m;
  json_array_foreach (json_object_get (cfg, "mounts"), i, m)
    if (user_mount (m))
      json_array_append_new (out, json_string (str_or (json_object_get (m, "destination"), "")));
  json_decref (cfg);
  return out;
}

static bool
has_option (json_t *opts, const char *o)
{
  size_t i;
  json_t *v;
  json_array_foreach (opts, i, v)
    if (strcmp (str_or (v, ""), o) == 0)
      return true;
  return false;
}

/* The volume name of SRC when it lies in DATA_DIR/volumes/NAME/, else
   NULL.  Caller frees.  */
static char *
volume_name (const struct cove_storage_paths *paths, const char *src)
{
  cleanup_free char *prefix = xasprintf ("%s/volumes/", paths->data_dir);
  size_t n = strlen (prefix);
  if (strncmp (src, prefix, n) != 0 || src[n] == '\0')
    return NULL;
  const char *end = strchr (src + n, '/');
  return end ? xstrndup (src + n, (size_t) (end - (src + n))) : xstrdup (src + n);
}

/* podman's Mounts entry, HostConfig.Binds entry, for a bind mount M.  */
static void
add_bind (const struct cove_storage_paths *paths, json_t *m, json_t *mounts,
          json_t *binds)
{
  const char *src = str_or (json_object_get (m, "source"), "");
  const char *dst = str_or (json_object_get (m, "destination"), "");
  json_t *opts = json_object_get (m, "options");
  bool ro = has_option (opts, "ro");
  cleanup_free char *vol = volume_name (paths, src);
  json_t *e = json_pack ("{s:s}", "Type", vol ? "volume" : "bind");
  if (vol)
    json_object_set_new (e, "Name", json_string (vol));
  json_object_set_new (e, "Source", json_string (src));
  json_object_set_new (e, "Destination", json_string (dst));
  json_object_set_new (e, "Driver", json_string (vol ? "local" : ""));
  json_object_set_new (e, "Mode", json_string (""));
  json_t *o = json_array ();
  size_t i;
  json_t *v;
  json_array_foreach (opts, i, v)
    if (strcmp (str_or (v, ""), "ro") && strcmp (str_or (v, ""), "rw"))
      json_array_append (o, v);
  json_object_set_new (e, "Options", o);
  json_object_set_new (e, "RW", json_boolean (!ro));
  json_object_set_new (e, "Propagation", json_string ("rprivate"));
  json_array_append_new (mounts, e);
  json_array_append_new (binds, json_sprintf ("%s:%s:%s,rprivate,%s",
                                              vol ? vol : src, dst,
                                              ro ? "ro" : "rw",
                                              has_option (opts, "bind") ? "bind" : "rbind"));
}

/* Mounts, HostConfig.Binds and HostConfig.Tmpfs from config.json.  */
static void
user_mounts (const struct cove_storage_paths *paths, json_t *cfg,
             json_t **out_mounts, json_t **out_binds, json_t **out_tmpfs)
{
  *out_mounts = json_array ();
  *out_binds = json_array ();
  *out_tmpfs = json_object ();
  size_t i;
  json_t *m;
  json_array_foreach (json_object_get (cfg, "mounts"), i, m)
    {
      if (!user_mount (m))
        continue;
      if (strcmp (str_or (json_object_get (m, "type"), ""), "bind") == 0)
        {
          add_bind (paths, m, *out_mounts, *out_binds);
          continue;
        }
      /* --tmpfs: "rw,noexec,nosuid,nodev[,user options]".  */
      size_t j;
      json_t *o;
      cleanup_free char *opts = xstrdup ("");
      json_array_foreach (json_object_get (m, "options"), j, o)
        {
          char *next = xasprintf ("%s%s%s", opts, j ? "," : "", str_or (o, ""));
          free (opts);
          opts = next;
        }
      json_object_set_new (*out_tmpfs, str_or (json_object_get (m, "destination"), ""),
                           json_string (opts));
    }
}

/* "UID[:GID]" of process.user, "" for root.  */
static json_t *
user_string (json_t *process)
{
  json_t *u = json_object_get (process, "user");
  json_int_t uid = json_integer_value (json_object_get (u, "uid"));
  json_int_t gid = json_integer_value (json_object_get (u, "gid"));
  if (uid == 0 && gid == 0)
    return json_string ("");
  if (gid == 0)
    return json_sprintf ("%lld", (long long) uid);
  return json_sprintf ("%lld:%lld", (long long) uid, (long long) gid);
}

static json_t *
config_doc (const struct cove_state_container *c, json_t *cfg)
{
  json_t *process = json_object_get (cfg, "process");
  json_t *annotations = json_object_get (cfg, "annotations");
  json_t *doc = json_pack (
      "{s:s, s:s, s:o, s:b, s:b, s:b, s:b, s:b, s:b, s:o, s:o, s:s, s:n, s:s, s:s, s:n}",
      "Hostname", str_or (json_object_get (cfg, "hostname"), ""),
      "Domainname", "", "User", user_string (process),
      "AttachStdin", false, "AttachStdout", false, "AttachStderr", false,
      "Tty", json_is_true (json_object_get (process, "terminal")),
      "OpenStdin", cove_ctr_extra_bool (c, "interactive"), "StdinOnce", false,
      "Env", array_or_empty (json_object_get (process, "env")),
      "Cmd", user_command (c, cfg), "Image", c->image_name ? c->image_name : "",
      "Volumes", "WorkingDir", str_or (json_object_get (process, "cwd"), "/"),
      "Entrypoint", "", "OnBuild");
  /* Labels as a map: podman prints an empty one as null in JSON, but its
     templates see an empty map (`map[]`, `index` works): the latter is
     what scripts rely on.  */
  json_object_set_new (doc, "Labels", cove_ps_labels_json (c));
  json_object_set_new (doc, "Annotations", json_is_object (annotations)
                                               ? json_incref (annotations) : json_object ());
  long long sig = cove_ctr_extra_int (c, "stop_signal", 0);
  json_object_set_new (doc, "StopSignal", json_integer (sig > 0 ? sig : SIGTERM));
  json_object_set_new (doc, "HealthcheckOnFailureAction", json_string ("none"));
  json_t *cc = json_object_get (c->extra, "create_command");
  if (json_is_array (cc))
    json_object_set (doc, "CreateCommand", cc);
  json_object_set_new (doc, "Umask", json_string ("0022"));
  json_object_set_new (doc, "Timeout", json_integer (0));
  json_object_set_new (doc, "StopTimeout",
                       json_integer (cove_ctr_extra_int (c, "stop_timeout", 10)));
  json_object_set_new (doc, "Passwd", json_true ());
  return doc;
}

static json_t *
state_doc (const struct cove_state_container *c, json_t *cfg)
{
  bool monitor_alive;
  enum cove_state_status eff = cove_state_effective (c, &monitor_alive);
  struct cove_ps_view v;
  cove_ps_view_of (c, eff, monitor_alive, &v);
  cleanup_free char *started = cove_ps_rfc3339_ns (c->started_at);
  cleanup_free char *finished = cove_ps_rfc3339_ns (v.finished_at);
  bool live = v.state == COVE_STATE_RUNNING || v.state == COVE_STATE_PAUSED;
  json_t *doc = json_pack (
      "{s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:i}",
      "OciVersion", str_or (json_object_get (cfg, "ociVersion"), "1.0.2"),
      "Status", cove_ps_state_word (v.state),
      "Running", v.state == COVE_STATE_RUNNING, "Paused", v.state == COVE_STATE_PAUSED,
      "Restarting", false, "OOMKilled", c->oom_killed, "Dead", false,
      "Pid", (int) v.pid);
  /* podman omits ConmonPid (omitempty) once the container is down.  */
  if (live && c->monitor_pid > 0)
    json_object_set_new (doc, "ConmonPid", json_integer (c->monitor_pid));
  json_object_set_new (doc, "ExitCode", json_integer (v.exit_code));
  json_object_set_new (doc, "Error", json_string (""));
  json_object_set_new (doc, "StartedAt", json_string (started));
  json_object_set_new (doc, "FinishedAt", json_string (finished));
  json_object_set_new (doc, "Health", json_pack ("{s:s, s:i, s:n}", "Status", "",
                                                 "FailingStreak", 0, "Log"));
  json_object_set_new (doc, "CheckpointedAt", json_string ("0001-01-01T00:00:00Z"));
  json_object_set_new (doc, "RestoredAt", json_string ("0001-01-01T00:00:00Z"));
  return doc;
}

/* The 14 capabilities docker grants by default: podman's CapAdd and
   CapDrop are the container's bounding set against these.  */
static const char *const base_caps[] = {
  "CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER",
  "CAP_FSETID", "CAP_KILL", "CAP_MKNOD", "CAP_NET_BIND_SERVICE",
  "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID",
  "CAP_SYS_CHROOT", NULL,
};

static bool
strv_json_has (json_t *a, const char *s)
{
  return has_option (a, s);
}

static void
cap_diff (json_t *bounding, json_t **out_add, json_t **out_drop)
{
  *out_add = json_array ();
  *out_drop = json_array ();
  size_t i;
  json_t *v;
  json_array_foreach (bounding, i, v)
    {
      bool base = false;
      for (const char *const *b = base_caps; *b && !base; b++)
        base = strcmp (*b, str_or (v, "")) == 0;
      if (!base)
        json_array_append (*out_add, v);
    }
  for (const char *const *b = base_caps; *b; b++)
    if (!strv_json_has (bounding, *b))
      json_array_append_new (*out_drop, json_string (*b));
}

/* "private" when config.json gives the container its own TYPE
   namespace, else "host".  */
static const char *
ns_mode (json_t *cfg, const char *type, const char *private_word)
{
  size_t i;
  json_t *ns;
  json_array_foreach (json_object_get (json_object_get (cfg, "linux"), "namespaces"), i, ns)
    if (strcmp (str_or (json_object_get (ns, "type"), ""), type) == 0)
      return private_word;
  return "host";
}

static json_t *
ulimits (json_t *process)
{
  json_t *out = json_array ();
  size_t i;
  json_t *r;
  json_array_foreach (json_object_get (process, "rlimits"), i, r)
    json_array_append_new (out, json_pack ("{s:s, s:I, s:I}", "Name",
                                           str_or (json_object_get (r, "type"), ""),
                                           "Soft", json_integer_value (json_object_get (r, "soft")),
                                           "Hard", json_integer_value (json_object_get (r, "hard"))));
  return out;
}

static json_t *
restart_policy (const struct cove_state_container *c)
{
  const char *name = cove_ctr_extra_str (c, "restart");
  if (name == NULL || strcmp (name, "no") == 0)
    name = "";
  return json_pack ("{s:s, s:I}", "Name", name, "MaximumRetryCount",
                    (json_int_t) cove_ctr_extra_int (c, "restart_max", 0));
}

static json_t *
log_config (const struct cove_storage_paths *paths,
            const struct cove_state_container *c)
{
  const char *driver = cove_ctr_extra_str (c, "log_driver");
  cleanup_free char *path = cove_ctr_file (paths, c->id, "ctr.log");
  long long max = cove_ctr_extra_int (c, "log_max_size", 0);
  json_t *size = max > 0 ? json_sprintf ("%lldB", max) : json_string ("0B");
  return json_pack ("{s:s, s:n, s:s, s:s, s:o}", "Type", driver ? driver : "k8s-file",
                    "Config", "Path", driver && strcmp (driver, "none") == 0 ? "" : path,
                    "Tag", "", "Size", size);
}

/* The resource fields of HostConfig, in podman's order: cove sets no
   limits, so each has its type's empty value.  */
static void
host_config_more (json_t *h, json_t *process)
{
  static const struct { const char *name; char kind; } fields[] = {
    { "CpuShares", 'i' }, { "Memory", 'i' }, { "NanoCpus", 'i' },
    { "CgroupParent", 's' }, { "BlkioWeight", 'i' },
    { "BlkioWeightDevice", 'n' }, { "BlkioDeviceReadBps", 'n' },
    { "BlkioDeviceWriteBps", 'n' }, { "BlkioDeviceReadIOps", 'n' },
    { "BlkioDeviceWriteIOps", 'n' }, { "CpuPeriod", 'i' },
    { "CpuQuota", 'i' }, { "CpuRealtimePeriod", 'i' },
    { "CpuRealtimeRuntime", 'i' }, { "CpusetCpus", 's' },
    { "CpusetMems", 's' }, { "Devices", 'a' }, { "DiskQuota", 'i' },
    { "KernelMemory", 'i' }, { "MemoryReservation", 'i' },
    { "MemorySwap", 'i' }, { "MemorySwappiness", 'i' },
    { "OomKillDisable", 'b' }, { "PidsLimit", 'i' },
  };
  json_object_set_new (h, "ShmSize", json_integer (65536000));
  json_object_set_new (h, "Runtime", json_string ("oci"));
  json_object_set_new (h, "ConsoleSize", json_pack ("[i,i]", 0, 0));
  json_object_set_new (h, "Isolation", json_string (""));
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    json_object_set_new (h, fields[i].name,
                         fields[i].kind == 'i' ? json_integer (0)
                         : fields[i].kind == 's' ? json_string ("")
                         : fields[i].kind == 'a' ? json_array ()
                         : fields[i].kind == 'b' ? json_false ()
                         : json_null ());
  json_object_set_new (h, "Ulimits", ulimits (process));
  static const char *const tail[] = { "CpuCount", "CpuPercent",
                                      "IOMaximumIOps", "IOMaximumBandwidth",
                                      NULL };
  for (const char *const *t = tail; *t; t++)
    json_object_set_new (h, *t, json_integer (0));
  json_object_set_new (h, "CgroupConf", json_null ());
}

static json_t *
host_config_doc (const struct cove_storage_paths *paths,
                 const struct cove_state_container *c, json_t *cfg,
                 json_t *binds, json_t *tmpfs)
{
  json_t *add, *drop;
  json_t *caps = json_object_get (json_object_get (cfg, "process"), "capabilities");
  cap_diff (json_object_get (caps, "bounding"), &add, &drop);
  const char *net = cove_ctr_extra_str (c, "network_mode");
  json_t *h = json_pack (
      "{s:o, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:b, s:s, s:n, s:o, s:o}",
      "Binds", binds, "CgroupManager", "cgroupfs", "CgroupMode", "host",
      "ContainerIDFile", cove_ctr_extra_str (c, "cidfile") ?: "",
      "LogConfig", log_config (paths, c),
      "NetworkMode", net ? net : ns_mode (cfg, "network", "none"),
      "PortBindings", cove_ps_ports_bindings (json_object_get (c->extra, "ports")),
      "RestartPolicy", restart_policy (c),
      "AutoRemove", cove_ctr_extra_bool (c, "rm"), "VolumeDriver", "",
      "VolumesFrom", "CapAdd", add, "CapDrop", drop);
  static const char *const empty[] = { "Dns", "DnsOptions", "DnsSearch",
                                       "ExtraHosts", "GroupAdd", NULL };
  for (const char *const *e = empty; *e; e++)
    json_object_set_new (h, *e, json_array ());
  json_object_set_new (h, "IpcMode", json_string (ns_mode (cfg, "ipc", "private")));
  json_object_set_new (h, "Cgroup", json_string (""));
  json_object_set_new (h, "Cgroups", json_string ("default"));
  json_object_set_new (h, "Links", json_null ());
  json_object_set_new (h, "OomScoreAdj", json_integer (0));
  json_object_set_new (h, "PidMode", json_string (ns_mode (cfg, "pid", "private")));
  json_object_set_new (h, "Privileged", json_boolean (cove_ctr_extra_bool (c, "privileged")));
  json_object_set_new (h, "PublishAllPorts", json_false ());
  json_object_set_new (h, "ReadonlyRootfs", json_boolean (json_is_true (
                           json_object_get (json_object_get (cfg, "root"), "readonly"))));
  json_object_set_new (h, "SecurityOpt", json_array ());
  json_object_set_new (h, "Tmpfs", tmpfs);
  json_object_set_new (h, "UTSMode", json_string (ns_mode (cfg, "uts", "private")));
  json_object_set_new (h, "UsernsMode", json_string (""));
  host_config_more (h, json_object_get (cfg, "process"));
  return h;
}

/* The driver recorded in containers/ID/storage-driver (storage/ writes
   it when it mounts the root), or NULL.  Caller frees.  */
static char *
read_driver (const struct cove_storage_paths *paths, const char *id)
{
  cleanup_free char *path = cove_ctr_file (paths, id, "storage-driver");
  cleanup_error struct cove_error *err = NULL;
  size_t len;
  char *s = cove_file_read_at (AT_FDCWD, path, 64, &len, &err);
  if (s == NULL)
    return NULL;
  s[strcspn (s, "\n")] = '\0';
  if (s[0] == '\0')
    {
      free (s);
      return NULL;
    }
  return s;
}

/* overlay's lowerdir: the image's layers, top first.  */
static json_t *
lower_dirs (const struct cove_storage_paths *paths, struct cove_storage *store,
            const char *image_id)
{
  struct cove_storage_image img;
  cleanup_error struct cove_error *err = NULL;
  if (store == NULL || image_id == NULL
      || cove_storage_image_lookup (store, image_id, &img, &err) < 0)
    return NULL;
  cleanup_free char *s = xstrdup ("");
  for (size_t i = cove_strv_len (img.layers); i > 0; i--)
    {
      char *next = xasprintf ("%s%s%s/layers/%s/diff", s, s[0] ? ":" : "",
                              paths->data_dir, img.layers[i - 1]);
      free (s);
      s = next;
    }
  cove_storage_image_free (&img);
  return json_string (s);
}

static json_t *
graph_driver (const struct cove_storage_paths *paths,
              const struct cove_state_container *c, struct cove_storage *store)
{
  cleanup_free char *driver = read_driver (paths, c->id);
  if (driver == NULL || strcmp (driver, "vfs") == 0)
    return json_pack ("{s:s, s:n}", "Name", driver ? driver : "", "Data");
  json_t *data = json_object ();
  json_t *lower = lower_dirs (paths, store, c->image_id);
  if (lower)
    json_object_set_new (data, "LowerDir", lower);
  static const char *const dirs[][2] = { { "MergedDir", "merged" },
                                         { "UpperDir", "upper" },
                                         { "WorkDir", "work" } };
  for (size_t i = 0; i < 3; i++)
    {
      cleanup_free char *p = cove_ctr_file (paths, c->id, dirs[i][1]);
      json_object_set_new (data, dirs[i][0], json_string (p));
    }
  return json_pack ("{s:s, s:o}", "Name", driver, "Data", data);
}

/* Bytes of the files under DIRFD (consumed), not following symlinks,
   at most 512 levels deep.  */
static int64_t
dir_bytes (int dirfd, int depth)
{
  DIR *d = fdopendir (dirfd);
  if (d == NULL)
    {
      close (dirfd);
      return 0;
    }
  int64_t total = 0;
  for (struct dirent *e; (e = readdir (d));)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      struct stat st;
      if (fstatat (dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (!S_ISDIR (st.st_mode))
        total += st.st_size;
      else if (depth < 512)
        {
          int fd = openat (dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW
                           | O_CLOEXEC);
          if (fd >= 0)
            total += dir_bytes (fd, depth + 1);
        }
    }
  closedir (d);
  return total;
}

void
cove_ctr_size (const struct cove_storage_paths *paths,
               const struct cove_state_container *c,
               struct cove_storage *store, int64_t *out_rw,
               int64_t *out_rootfs)
{
  cleanup_free char *driver = read_driver (paths, c->id);
  bool vfs = driver && strcmp (driver, "vfs") == 0;
  cleanup_free char *dir = cove_ctr_file (paths, c->id, vfs ? "rootfs" : "upper");
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  *out_rw = fd < 0 ? 0 : dir_bytes (fd, 0);
  *out_rootfs = *out_rw;
  struct cove_storage_image img;
  cleanup_error struct cove_error *err = NULL;
  /* A vfs copy holds the image's files already.  */
  if (!vfs && store && c->image_id
      && cove_storage_image_lookup (store, c->image_id, &img, &err) == 0)
    {
      *out_rootfs += img.size;
      cove_storage_image_free (&img);
    }
}

static json_t *
network_settings (json_t *ports)
{
  return json_pack ("{s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:s, s:s, s:s, s:b,"
                    " s:s, s:i, s:o, s:s}",
                    "EndpointID", "", "Gateway", "", "IPAddress", "",
                    "IPPrefixLen", 0, "IPv6Gateway", "", "GlobalIPv6Address", "",
                    "GlobalIPv6PrefixLen", 0, "MacAddress", "", "Bridge", "",
                    "SandboxID", "", "HairpinMode", false,
                    "LinkLocalIPv6Address", "", "LinkLocalIPv6PrefixLen", 0,
                    "Ports", cove_ps_ports_bindings (ports), "SandboxKey", "");
}

/* Id .. PidFile: where things are.  */
static json_t *
head_doc (const struct cove_storage_paths *paths,
          const struct cove_state_container *c, json_t *cfg)
{
  cleanup_free char *created = cove_ps_rfc3339_ns (c->created);
  cleanup_free char *dir = cove_ctr_dir (paths, c->id);
  cleanup_free char *config = cove_ctr_file (paths, c->id, "config.json");
  json_t *cmd = user_command (c, cfg);
  json_t *args = json_array ();
  for (size_t i = 1; i < json_array_size (cmd); i++)
    json_array_append (args, json_array_get (cmd, i));
  bool own_rootfs = json_object_get (c->extra, "image_rootfs") != NULL
                    && !cove_ctr_extra_bool (c, "image_rootfs");
  json_t *doc = json_pack (
      "{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
      " s:s, s:s, s:s}",
      "Id", c->id, "Created", created,
      "Path", str_or (json_array_get (cmd, 0), ""), "Args", args,
      "State", state_doc (c, cfg), "Image", c->image_id ? c->image_id : "",
      "ImageName", c->image_name ? c->image_name : "",
      "Rootfs", own_rootfs && c->rootfs ? c->rootfs : "",
      "Pod", cove_ctr_extra_str (c, "pod") ? cove_ctr_extra_str (c, "pod") : "",
      "ResolvConfPath", "", "HostnamePath", "", "HostsPath", "",
      "StaticDir", dir, "OCIConfigPath", config, "OCIRuntime", "cove",
      "ConmonPidFile", "", "PidFile", "");
  json_decref (cmd);
  return doc;
}

json_t *
cove_ctr_inspect_json (const struct cove_storage_paths *paths,
                       const struct cove_state_container *c,
                       struct cove_storage *store, bool size)
{
  json_t *cfg = load_config (paths, c->id);
  json_t *doc = head_doc (paths, c, cfg);
  json_t *caps = json_object_get (json_object_get (cfg, "process"), "capabilities");
  cleanup_free char *driver = read_driver (paths, c->id);
  json_object_set_new (doc, "Name", json_string (c->name ? c->name : ""));
  json_object_set_new (doc, "RestartCount", json_integer (c->restart_count));
  json_object_set_new (doc, "Driver", json_string (driver ? driver : ""));
  json_object_set_new (doc, "MountLabel", json_string (""));
  json_object_set_new (doc, "ProcessLabel", json_string (""));
  json_object_set_new (doc, "AppArmorProfile", json_string (""));
  json_object_set_new (doc, "EffectiveCaps", array_or_empty (json_object_get (caps, "effective")));
  json_object_set_new (doc, "BoundingCaps", array_or_empty (json_object_get (caps, "bounding")));
  json_object_set_new (doc, "ExecIDs", json_array ());
  json_object_set_new (doc, "GraphDriver", graph_driver (paths, c, store));
  if (size)
    {
      int64_t rw, rootfs;
      cove_ctr_size (paths, c, store, &rw, &rootfs);
      json_object_set_new (doc, "SizeRw", json_integer (rw));
      json_object_set_new (doc, "SizeRootFs", json_integer (rootfs));
    }
  json_t *mounts, *binds, *tmpfs;
  user_mounts (paths, cfg, &mounts, &binds, &tmpfs);
  json_object_set_new (doc, "Mounts", mounts);
  json_object_set_new (doc, "Dependencies", json_array ());
  json_object_set_new (doc, "NetworkSettings", network_settings (json_object_get (c->extra, "ports")));
  json_object_set_new (doc, "Namespace", json_string (""));
  json_object_set_new (doc, "IsInfra", json_false ());
  json_object_set_new (doc, "IsService", json_false ());
  json_object_set_new (doc, "Config", config_doc (c, cfg));
  json_object_set_new (doc, "HostConfig", host_config_doc (paths, c, cfg, binds, tmpfs));
  json_decref (cfg);
  return doc;
}
