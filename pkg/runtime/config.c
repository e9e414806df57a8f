/* Parse an OCI runtime-spec config.json into struct runtime_config.  The
   document is written by cove itself (pkg/spec), but may be edited by the
   user, so every field is type-checked and errors name the field.  */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/capability.h>

#include "pkg/runtime/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

static int
bad (struct cove_error **err, const char *field, const char *what)
{
  return cove_error_set (err, EINVAL, "config.json: `%s` %s", field, what);
}

/* Copy the optional string KEY of OBJ into *OUT (NULL when absent).  */
static int
get_string (json_t *obj, const char *key, const char *field, char **out,
            struct cove_error **err)
{
  json_t *v = json_object_get (obj, key);
  *out = NULL;
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_string (v))
    return bad (err, field, "is not a string");
  *out = xstrdup (json_string_value (v));
  return 0;
}

/* An optional array of strings as a NULL-terminated vector (empty when
   absent).  */
static int
get_strv (json_t *obj, const char *key, const char *field, char ***out,
          struct cove_error **err)
{
  json_t *v = json_object_get (obj, key);
  cleanup_strv char **r = xmalloc0 (sizeof (char *));
  if (v != NULL && !json_is_null (v))
    {
      if (!json_is_array (v))
        return bad (err, field, "is not an array");
      size_t i;
      json_t *e;
      json_array_foreach (v, i, e)
        {
          if (!json_is_string (e))
            return bad (err, field, "has an element that is not a string");
          cove_strv_append (&r, json_string_value (e));
        }
    }
  *out = steal_pointer (&r);
  return 0;
}

static int
get_uint (json_t *obj, const char *key, const char *field, uint64_t max,
          uint64_t *out, struct cove_error **err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_integer (v) || json_integer_value (v) < 0
      || (uint64_t) json_integer_value (v) > max)
    return bad (err, field, "is not a valid number");
  *out = (uint64_t) json_integer_value (v);
  return 0;
}

static int
get_bool (json_t *obj, const char *key, const char *field, bool *out,
          struct cove_error **err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_boolean (v))
    return bad (err, field, "is not a boolean");
  *out = json_is_true (v);
  return 0;
}

static int
parse_user (json_t *process, struct runtime_config *cfg,
            struct cove_error **err)
{
  json_t *user = json_object_get (process, "user");
  if (user == NULL)
    return 0;
  if (!json_is_object (user))
    return bad (err, "process.user", "is not an object");
  uint64_t uid = 0, gid = 0;
  if (get_uint (user, "uid", "process.user.uid", UINT32_MAX - 1, &uid, err) < 0
      || get_uint (user, "gid", "process.user.gid", UINT32_MAX - 1, &gid, err) < 0)
    return -1;
  cfg->uid = uid;
  cfg->gid = gid;
  json_t *gids = json_object_get (user, "additionalGids");
  if (gids == NULL || json_is_null (gids))
    return 0;
  if (!json_is_array (gids))
    return bad (err, "process.user.additionalGids", "is not an array");
  cfg->additional_gids = xmalloc0 ((json_array_size (gids) + 1) * sizeof (gid_t));
  size_t i;
  json_t *e;
  json_array_foreach (gids, i, e)
    {
      if (!json_is_integer (e) || json_integer_value (e) < 0
          || json_integer_value (e) >= UINT32_MAX)
        return bad (err, "process.user.additionalGids", "has an invalid gid");
      cfg->additional_gids[cfg->n_additional_gids++] = json_integer_value (e);
    }
  return 0;
}

/* Capability names ("CAP_SYS_ADMIN") to a bit mask.  */
static int
parse_capset (json_t *caps, const char *key, uint64_t *out,
              struct cove_error **err)
{
  cleanup_free char *field = xasprintf ("process.capabilities.%s", key);
  cleanup_strv char **names = NULL;
  if (get_strv (caps, key, field, &names, err) < 0)
    return -1;
  *out = 0;
  for (char **n = names; *n; n++)
    {
      cleanup_free char *lower = xstrdup (*n);
      for (char *c = lower; *c; c++)
        *c = tolower ((unsigned char) *c);
      cap_value_t cap;
      if (cap_from_name (lower, &cap) < 0)
        return cove_error_set (err, EINVAL, "config.json: unknown capability `%s`",
                               *n);
      /* Capabilities newer than 63 do not exist yet; none to keep.  */
      if (cap >= 0 && cap < 64)
        *out |= UINT64_C (1) << cap;
    }
  return 0;
}

static int
parse_caps (json_t *process, struct runtime_config *cfg,
            struct cove_error **err)
{
  static const char *const keys[RUNTIME_CAP_N] = {
    [RUNTIME_CAP_BOUNDING] = "bounding",
    [RUNTIME_CAP_EFFECTIVE] = "effective",
    [RUNTIME_CAP_INHERITABLE] = "inheritable",
    [RUNTIME_CAP_PERMITTED] = "permitted",
    [RUNTIME_CAP_AMBIENT] = "ambient",
  };
  json_t *caps = json_object_get (process, "capabilities");
  if (caps == NULL || json_is_null (caps))
    return 0;
  if (!json_is_object (caps))
    return bad (err, "process.capabilities", "is not an object");
  cfg->has_caps = true;
  for (int i = 0; i < RUNTIME_CAP_N; i++)
    if (parse_capset (caps, keys[i], &cfg->caps[i], err) < 0)
      return -1;
  return 0;
}

static const struct
{
  const char *name;
  int resource;
} rlimit_names[] = {
  { "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU }, { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE }, { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE }, { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC }, { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO }, { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

static int
parse_rlimit (json_t *e, struct runtime_rlimit *out, struct cove_error **err)
{
  json_t *type = json_object_get (e, "type");
  if (!json_is_string (type))
    return bad (err, "process.rlimits.type", "is missing or not a string");
  out->resource = -1;
  for (size_t i = 0; i < sizeof rlimit_names / sizeof rlimit_names[0]; i++)
    if (strcmp (rlimit_names[i].name, json_string_value (type)) == 0)
      out->resource = rlimit_names[i].resource;
  if (out->resource < 0)
    return cove_error_set (err, EINVAL, "config.json: unknown rlimit `%s`",
                           json_string_value (type));
  uint64_t soft = 0, hard = 0;
  if (get_uint (e, "soft", "process.rlimits.soft", UINT64_MAX, &soft, err) < 0
      || get_uint (e, "hard", "process.rlimits.hard", UINT64_MAX, &hard, err) < 0)
    return -1;
  out->soft = soft;
  out->hard = hard;
  return 0;
}

static int
parse_rlimits (json_t *process, struct runtime_config *cfg,
               struct cove_error **err)
{
  json_t *rl = json_object_get (process, "rlimits");
  if (rl == NULL || json_is_null (rl))
    return 0;
  if (!json_is_array (rl))
    return bad (err, "process.rlimits", "is not an array");
  cfg->rlimits = xmalloc0 ((json_array_size (rl) + 1) * sizeof *cfg->rlimits);
  size_t i;
  json_t *e;
  json_array_foreach (rl, i, e)
    {
      if (!json_is_object (e))
        return bad (err, "process.rlimits", "has an element that is not an object");
      if (parse_rlimit (e, &cfg->rlimits[cfg->n_rlimits++], err) < 0)
        return -1;
    }
  return 0;
}

static int
parse_process (json_t *root, struct runtime_config *cfg,
               struct cove_error **err)
{
  json_t *process = json_object_get (root, "process");
  if (!json_is_object (process))
    return bad (err, "process", "is missing or not an object");
  if (get_bool (process, "terminal", "process.terminal", &cfg->terminal, err) < 0
      || get_bool (process, "noNewPrivileges", "process.noNewPrivileges",
                   &cfg->no_new_privs, err) < 0
      || get_strv (process, "args", "process.args", &cfg->args, err) < 0
      || get_strv (process, "env", "process.env", &cfg->env, err) < 0
      || get_string (process, "cwd", "process.cwd", &cfg->cwd, err) < 0)
    return -1;
  if (cfg->args[0] == NULL || cfg->args[0][0] == '\0')
    return bad (err, "process.args", "is missing or empty");
  if (cfg->cwd == NULL)
    cfg->cwd = xstrdup ("/");
  if (cfg->cwd[0] != '/')
    return bad (err, "process.cwd", "is not an absolute path");
  if (parse_user (process, cfg, err) < 0 || parse_caps (process, cfg, err) < 0)
    return -1;
  return parse_rlimits (process, cfg, err);
}

static int
parse_root (json_t *root, const char *bundle, struct runtime_config *cfg,
            struct cove_error **err)
{
  json_t *r = json_object_get (root, "root");
  if (!json_is_object (r))
    return bad (err, "root", "is missing or not an object");
  cleanup_free char *path = NULL;
  if (get_string (r, "path", "root.path", &path, err) < 0)
    return -1;
  if (path == NULL || path[0] == '\0')
    return bad (err, "root.path", "is missing");
  if (path[0] == '/')
    cfg->root_path = steal_pointer (&path);
  else
    cfg->root_path = xasprintf ("%s/%s", bundle, path);
  if (get_bool (r, "readonly", "root.readonly", &cfg->root_readonly, err) < 0)
    return -1;
  return get_string (root, "hostname", "hostname", &cfg->hostname, err);
}

static int
parse_mount (json_t *e, const char *bundle, struct runtime_mount *m,
             struct cove_error **err)
{
  if (!json_is_object (e))
    return bad (err, "mounts", "has an element that is not an object");
  if (get_string (e, "destination", "mounts.destination", &m->destination, err) < 0
      || get_string (e, "type", "mounts.type", &m->type, err) < 0
      || get_string (e, "source", "mounts.source", &m->source, err) < 0
      || get_strv (e, "options", "mounts.options", &m->options, err) < 0)
    return -1;
  if (m->destination == NULL || m->destination[0] != '/')
    return bad (err, "mounts.destination", "is missing or not absolute");
  /* A mount without type but with a bind option is a bind mount (runc).  */
  for (char **o = m->options; m->type == NULL && *o; o++)
    if (strcmp (*o, "bind") == 0 || strcmp (*o, "rbind") == 0)
      m->type = xstrdup ("bind");
  if (m->type == NULL)
    return bad (err, "mounts.type", "is missing");
  if (strcmp (m->type, "bind") != 0)
    return 0;
  if (m->source == NULL || m->source[0] == '\0')
    return bad (err, "mounts.source", "is missing for a bind mount");
  /* A relative bind source is relative to the bundle (runtime-spec).  */
  if (m->source[0] != '/')
    {
      char *abs = xasprintf ("%s/%s", bundle, m->source);
      free (m->source);
      m->source = abs;
    }
  return 0;
}

static int
parse_mounts (json_t *root, const char *bundle, struct runtime_config *cfg,
              struct cove_error **err)
{
  json_t *mounts = json_object_get (root, "mounts");
  size_t n = json_is_array (mounts) ? json_array_size (mounts) : 0;
  if (mounts != NULL && !json_is_null (mounts) && !json_is_array (mounts))
    return bad (err, "mounts", "is not an array");
  cfg->mounts = xmalloc0 ((n + 1) * sizeof *cfg->mounts);
  for (size_t i = 0; i < n; i++)
    {
      /* Counted first, so that a partly parsed mount is freed too.  */
      cfg->n_mounts++;
      if (parse_mount (json_array_get (mounts, i), bundle, &cfg->mounts[i], err) < 0)
        return -1;
    }
  return 0;
}

static int
namespace_flag (const char *type)
{
  static const struct
  {
    const char *name;
    int flag;
  } types[] = {
    { "pid", CLONE_NEWPID }, { "network", CLONE_NEWNET },
    { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
    { "mount", CLONE_NEWNS }, { "cgroup", CLONE_NEWCGROUP },
    { "time", CLONE_NEWTIME }, { "user", CLONE_NEWUSER },
  };
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcmp (types[i].name, type) == 0)
      return types[i].flag;
  return -1;
}

static int
parse_namespaces (json_t *linux_, struct runtime_config *cfg,
                  struct cove_error **err)
{
  json_t *nss = json_object_get (linux_, "namespaces");
  if (nss == NULL || json_is_null (nss))
    return 0;
  if (!json_is_array (nss))
    return bad (err, "linux.namespaces", "is not an array");
  cfg->namespaces = xmalloc0 ((json_array_size (nss) + 1) * sizeof *cfg->namespaces);
  size_t i;
  json_t *e;
  json_array_foreach (nss, i, e)
    {
      json_t *type = json_object_get (e, "type");
      if (!json_is_string (type))
        return bad (err, "linux.namespaces.type", "is missing or not a string");
      int flag = namespace_flag (json_string_value (type));
      if (flag < 0)
        return cove_error_set (err, EINVAL, "config.json: unknown namespace `%s`",
                               json_string_value (type));
      /* The caller is already in the container's user namespace.  */
      if (flag == CLONE_NEWUSER)
        continue;
      if (runtime_config_namespace (cfg, flag) != NULL)
        return cove_error_set (err, EINVAL, "config.json: namespace `%s` listed twice",
                               json_string_value (type));
      struct runtime_namespace *ns = &cfg->namespaces[cfg->n_namespaces++];
      ns->flag = flag;
      if (get_string (e, "path", "linux.namespaces.path", &ns->path, err) < 0)
        return -1;
    }
  return 0;
}

static int
parse_devices (json_t *linux_, struct runtime_config *cfg,
               struct cove_error **err)
{
  json_t *devs = json_object_get (linux_, "devices");
  if (devs == NULL || json_is_null (devs))
    return 0;
  if (!json_is_array (devs))
    return bad (err, "linux.devices", "is not an array");
  cfg->devices = xmalloc0 ((json_array_size (devs) + 1) * sizeof *cfg->devices);
  size_t i;
  json_t *e;
  json_array_foreach (devs, i, e)
    {
      struct runtime_device *d = &cfg->devices[cfg->n_devices++];
      cleanup_free char *type = NULL;
      if (get_string (e, "path", "linux.devices.path", &d->path, err) < 0
          || get_string (e, "type", "linux.devices.type", &type, err) < 0)
        return -1;
      if (d->path == NULL || d->path[0] != '/')
        return bad (err, "linux.devices.path", "is missing or not absolute");
      if (type == NULL || strlen (type) != 1 || strchr ("cbup", type[0]) == NULL)
        return bad (err, "linux.devices.type", "is not one of c, b, u, p");
      d->type = type[0];
    }
  return 0;
}

static int
parse_sysctl (json_t *linux_, struct runtime_config *cfg,
              struct cove_error **err)
{
  json_t *sysctl = json_object_get (linux_, "sysctl");
  if (sysctl == NULL || json_is_null (sysctl))
    return 0;
  if (!json_is_object (sysctl))
    return bad (err, "linux.sysctl", "is not an object");
  const char *key;
  json_t *v;
  json_object_foreach (sysctl, key, v)
    {
      if (!json_is_string (v))
        return bad (err, "linux.sysctl", "has a value that is not a string");
      /* The key becomes a path under /proc/sys: no way out of it.  */
      if (key[0] == '\0' || key[0] == '.' || key[0] == '/' || strstr (key, "..")
          || strchr (key, '/') != NULL)
        return cove_error_set (err, EINVAL, "config.json: invalid sysctl `%s`", key);
      cove_strv_append (&cfg->sysctl_keys, key);
      cove_strv_append (&cfg->sysctl_values, json_string_value (v));
    }
  return 0;
}

static int
parse_linux (json_t *root, struct runtime_config *cfg, struct cove_error **err)
{
  cfg->sysctl_keys = xmalloc0 (sizeof (char *));
  cfg->sysctl_values = xmalloc0 (sizeof (char *));
  json_t *linux_ = json_object_get (root, "linux");
  if (linux_ == NULL || json_is_null (linux_))
    linux_ = json_object ();
  else if (!json_is_object (linux_))
    return bad (err, "linux", "is not an object");
  else
    json_incref (linux_);
  int r = -1;
  if (parse_namespaces (linux_, cfg, err) < 0 || parse_devices (linux_, cfg, err) < 0
      || get_strv (linux_, "maskedPaths", "linux.maskedPaths", &cfg->masked_paths, err) < 0
      || get_strv (linux_, "readonlyPaths", "linux.readonlyPaths",
                   &cfg->readonly_paths, err) < 0
      || parse_sysctl (linux_, cfg, err) < 0)
    goto out;
  json_t *seccomp = json_object_get (linux_, "seccomp");
  if (seccomp != NULL && !json_is_null (seccomp))
    {
      if (!json_is_object (seccomp))
        {
          bad (err, "linux.seccomp", "is not an object");
          goto out;
        }
      cfg->seccomp = json_incref (seccomp);
    }
  r = 0;
out:
  json_decref (linux_);
  return r;
}

struct runtime_config *
runtime_config_parse (const char *data, size_t len, const char *bundle,
                      struct cove_error **err)
{
  json_error_t jerr;
  json_t *root = json_loadb (data, len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL)
    {
      cove_error_set (err, EINVAL, "config.json: line %d: %s", jerr.line, jerr.text);
      return NULL;
    }
  struct runtime_config *cfg = xmalloc0 (sizeof *cfg);
  if (!json_is_object (root))
    bad (err, "(document)", "is not an object");
  else if (parse_process (root, cfg, err) == 0 && parse_root (root, bundle, cfg, err) == 0
           && parse_mounts (root, bundle, cfg, err) == 0 && parse_linux (root, cfg, err) == 0
           && runtime_config_parse_network (root, cfg, err) == 0)
    {
      json_decref (root);
      return cfg;
    }
  json_decref (root);
  runtime_config_free (cfg);
  return NULL;
}

void
runtime_config_free (struct runtime_config *cfg)
{
  if (cfg == NULL)
    return;
  free (cfg->root_path);
  free (cfg->hostname);
  free (cfg->additional_gids);
  cove_strv_free (cfg->args);
  cove_strv_free (cfg->env);
  free (cfg->cwd);
  free (cfg->rlimits);
  for (size_t i = 0; i < cfg->n_mounts; i++)
    {
      free (cfg->mounts[i].destination);
      free (cfg->mounts[i].type);
      free (cfg->mounts[i].source);
      cove_strv_free (cfg->mounts[i].options);
    }
  free (cfg->mounts);
  for (size_t i = 0; i < cfg->n_namespaces; i++)
    free (cfg->namespaces[i].path);
  free (cfg->namespaces);
  for (size_t i = 0; i < cfg->n_devices; i++)
    free (cfg->devices[i].path);
  free (cfg->devices);
  cove_strv_free (cfg->masked_paths);
  cove_strv_free (cfg->readonly_paths);
  cove_strv_free (cfg->sysctl_keys);
  cove_strv_free (cfg->sysctl_values);
  json_decref (cfg->seccomp);
  if (cfg->has_filter)
    cove_runtime_seccomp_free (&cfg->filter);
  free (cfg);
}

int
runtime_config_clone_flags (const struct runtime_config *cfg)
{
  int flags = 0;
  for (size_t i = 0; i < cfg->n_namespaces; i++)
    if (cfg->namespaces[i].path == NULL)
      flags |= cfg->namespaces[i].flag;
  return flags;
}

const struct runtime_namespace *
runtime_config_namespace (const struct runtime_config *cfg, int flag)
{
  for (size_t i = 0; i < cfg->n_namespaces; i++)
    if (cfg->namespaces[i].flag == flag)
      return &cfg->namespaces[i];
  return NULL;
}
