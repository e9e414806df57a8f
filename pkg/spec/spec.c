/* Request -> OCI runtime-spec config.json.  */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "net/net.h"
#include "pkg/spec/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Set KEY=VALUE in the env array ENV, replacing an entry of the same key.  */
static void
env_set (json_t *env, const char *kv)
{
  size_t klen = strcspn (kv, "=");
  size_t i;
  json_t *e;
  json_array_foreach (env, i, e)
    {
      const char *s = json_string_value (e);
      if (strncmp (s, kv, klen) == 0 && s[klen] == '=')
        {
          json_array_set_new (env, i, json_string (kv));
          return;
        }
    }
  json_array_append_new (env, json_string (kv));
}

static json_t *
build_env (const struct cove_spec_request *req, const struct cove_spec_user *u,
           const char *hostname, struct cove_error **err)
{
  json_t *env = json_array ();
  env_set (env, DEFAULT_PATH);
  for (size_t i = 0; req->image_env && req->image_env[i]; i++)
    if (strchr (req->image_env[i], '=') && req->image_env[i][0] != '=')
      env_set (env, req->image_env[i]);
  if (req->terminal)
    env_set (env, "TERM=xterm");
  env_set (env, "container=cove");
  cleanup_free char *h = xasprintf ("HOSTNAME=%s", hostname);
  env_set (env, h);
  cleanup_free char *home = xasprintf ("HOME=%s", u->home);
  env_set (env, home);
  char **given = cove_spec_env_collect (req->env_files, req->env, err);
  if (given == NULL)
    {
      json_decref (env);
      return NULL;
    }
  for (size_t i = 0; given[i]; i++)
    env_set (env, given[i]);
  cove_strv_free (given);
  return env;
}

static json_t *
build_args (const struct cove_spec_request *req, struct cove_error **err)
{
  json_t *args = json_array ();
  char **entrypoint = req->entrypoint_set ? req->entrypoint : req->image_entrypoint;
  /* A command given replaces the image's Cmd; --entrypoint drops it too.  */
  char **cmd = (req->command && req->command[0]) ? req->command
               : req->entrypoint_set ? NULL : req->image_cmd;
  for (size_t i = 0; entrypoint && entrypoint[i]; i++)
    json_array_append_new (args, json_string (entrypoint[i]));
  for (size_t i = 0; cmd && cmd[i]; i++)
    json_array_append_new (args, json_string (cmd[i]));
  if (json_array_size (args) == 0)
    {
      json_decref (args);
      cove_error_set (err, EINVAL, "no command or entrypoint provided, and no "
                      "CMD or ENTRYPOINT from image");
      return NULL;
    }
  if (req->init_path)
    {
      json_array_insert_new (args, 0, json_string ("--"));
      json_array_insert_new (args, 0, json_string (COVE_SPEC_INIT_PATH));
    }
  return args;
}

static json_t *
build_rlimits (const struct cove_spec_request *req, struct cove_error **err)
{
  json_t *a = json_array ();
  /* Rootless podman raises the soft limit of open files to the hard one.  */
  struct rlimit nofile;
  if (getrlimit (RLIMIT_NOFILE, &nofile) == 0)
    json_array_append_new (a, json_pack ("{s:s, s:I, s:I}", "type",
                                         "RLIMIT_NOFILE", "soft",
                                         (json_int_t) nofile.rlim_max, "hard",
                                         (json_int_t) nofile.rlim_max));
  for (size_t i = 0; req->ulimits && req->ulimits[i]; i++)
    {
      json_t *r = spec_rlimit_parse (req->ulimits[i], err);
      if (r == NULL)
        {
          json_decref (a);
          return NULL;
        }
      /* A later limit of the same type replaces an earlier one.  */
      size_t j;
      json_t *e;
      json_array_foreach (a, j, e)
        if (json_equal (json_object_get (e, "type"), json_object_get (r, "type")))
          {
            json_array_remove (a, j);
            break;
          }
      json_array_append_new (a, r);
    }
  return a;
}

/* Root gets the set in every capability set; another user keeps it only
   in the bounding set, as in podman (a file capability or setuid binary
   can still raise it).  */
static json_t *
build_caps (json_t *caps, uint32_t uid)
{
  json_t *empty = json_array ();
  json_t *r = json_pack ("{s:O, s:O, s:O, s:O, s:O}", "bounding", caps,
                         "effective", uid == 0 ? caps : empty,
                         "inheritable", empty,
                         "permitted", uid == 0 ? caps : empty,
                         "ambient", empty);
  json_decref (empty);
  return r;
}

static json_t *
build_namespaces (const struct cove_spec_request *req)
{
  static const char *const names[COVE_SPEC_NS_COUNT] = {
    [COVE_SPEC_NS_PID] = "pid", [COVE_SPEC_NS_NET] = "network",
    [COVE_SPEC_NS_IPC] = "ipc", [COVE_SPEC_NS_UTS] = "uts",
    [COVE_SPEC_NS_CGROUP] = "cgroup",
  };
  json_t *a = json_array ();
  for (int k = 0; k < COVE_SPEC_NS_COUNT; k++)
    if (req->ns[k] == COVE_SPEC_NS_PATH && req->ns_path[k])
      json_array_append_new (a, json_pack ("{s:s, s:s}", "type", names[k],
                                           "path", req->ns_path[k]));
    else if (req->ns[k] != COVE_SPEC_NS_HOST)
      json_array_append_new (a, json_pack ("{s:s}", "type", names[k]));
  json_array_append_new (a, json_pack ("{s:s}", "type", "mount"));
  return a;
}

/* --network slirp: annotations that ask the runtime for a tap device and
   tell the monitor how to serve it (net/net.h), checked here so that a bad
   option fails the run before anything starts.  *OUT NULL without slirp.  */
static int
build_network_annotations (const struct cove_spec_request *req, json_t **out,
                           struct cove_error **err)
{
  *out = NULL;
  if (req->ns[COVE_SPEC_NS_NET] != COVE_SPEC_NS_SLIRP)
    return 0;
  const struct cove_spec_slirp *sl = &req->slirp;
  struct cove_net_slirp_options o;
  cove_net_slirp_options_init (&o);
  cleanup_free char *mtu = xasprintf ("%u", sl->mtu ? sl->mtu : o.mtu);
  const char *kv[][2] = {
    { "mtu", mtu }, { "cidr", sl->cidr ? sl->cidr : COVE_NET_DEFAULT_CIDR },
    { "enable_ipv6", sl->disable_ipv6 ? "false" : "true" },
    { "allow_host_loopback", sl->allow_host_loopback ? "true" : "false" },
    { "outbound_addr", sl->outbound_addr },
    { "port_handler", sl->port_handler },
  };
  json_t *a = json_pack ("{s:s}", COVE_NET_ANNOTATION, "slirp");
  for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
    {
      if (kv[i][1] == NULL)
        continue;
      if (cove_net_slirp_option_set (&o, kv[i][0], kv[i][1], err) < 0)
        {
          json_decref (a);
          return -1;
        }
      cleanup_free char *key = xasprintf ("%s%s", COVE_NET_ANNOTATION_SLIRP_PREFIX,
                                          kv[i][0]);
      json_object_set_new (a, key, json_string (kv[i][1]));
    }
  *out = a;
  return 0;
}

static json_t *
build_seccomp (const struct cove_spec_request *req, json_t *caps,
               struct cove_error **err)
{
  size_t n = json_array_size (caps);
  cleanup_free const char **names = xmalloc ((n + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    names[i] = json_string_value (json_array_get (caps, i));
  names[n] = NULL;
  if (req->seccomp == NULL)
    return cove_spec_seccomp_default (names, err);
  return cove_spec_seccomp_from_file (req->seccomp, names, err);
}

static const char *
workdir (const struct cove_spec_request *req)
{
  if (req->workdir)
    return req->workdir;
  if (req->image_workdir && req->image_workdir[0] == '/')
    return req->image_workdir;
  return "/";
}

static json_t *
build_process (const struct cove_spec_request *req, const struct cove_spec_user *u,
               json_t *caps, const char *hostname, struct cove_error **err)
{
  json_t *args = build_args (req, err);
  json_t *env = args ? build_env (req, u, hostname, err) : NULL;
  json_t *rlimits = env ? build_rlimits (req, err) : NULL;
  if (rlimits == NULL)
    {
      json_decref (args);
      json_decref (env);
      return NULL;
    }
  json_t *gids = json_array ();
  for (size_t i = 0; i < u->n_gids; i++)
    json_array_append_new (gids, json_integer (u->gids[i]));
  return json_pack ("{s:b, s:{s:I, s:I, s:o}, s:o, s:o, s:s, s:o, s:o, s:b}",
                    "terminal", req->terminal, "user", "uid",
                    (json_int_t) u->uid, "gid", (json_int_t) u->gid,
                    "additionalGids", gids, "args", args,
                    "env", env, "cwd", workdir (req),
                    "capabilities", build_caps (caps, u->uid),
                    "rlimits", rlimits,
                    "noNewPrivileges", req->no_new_privileges);
}

static int
check_request (const struct cove_spec_request *req, struct cove_error **err)
{
  if (req->rootfs == NULL || req->rootfs[0] != '/')
    return cove_error_set (err, EINVAL, "the rootfs must be an absolute path");
  if (req->workdir && req->workdir[0] != '/')
    return cove_error_set (err, EINVAL, "invalid --workdir `%s`: "
                           "must be an absolute path", req->workdir);
  if (req->hostname && req->ns[COVE_SPEC_NS_UTS] == COVE_SPEC_NS_HOST)
    return cove_error_set (err, EINVAL, "invalid config: cannot set a "
                           "hostname when sharing the host's UTS namespace");
  if (req->hostname && (req->hostname[0] == '\0' || strlen (req->hostname) > 64))
    return cove_error_set (err, EINVAL, "invalid --hostname `%s`", req->hostname);
  return 0;
}

static json_t *
build_linux (const struct cove_spec_request *req, json_t *caps,
             struct cove_error **err)
{
  json_t *lin = json_pack ("{s:o, s:o, s:o, s:o}", "namespaces",
                           build_namespaces (req), "devices", spec_devices (),
                           "maskedPaths", spec_masked_paths (),
                           "readonlyPaths", spec_readonly_paths ());
  if (req->seccomp && strcmp (req->seccomp, "unconfined") == 0)
    return lin;
  json_t *seccomp = build_seccomp (req, caps, err);
  if (seccomp == NULL)
    {
      json_decref (lin);
      return NULL;
    }
  json_object_set_new (lin, "seccomp", seccomp);
  return lin;
}

/* -u, else the image's User, else root; resolved in the rootfs's own
   /etc/passwd and /etc/group (user.c).  */
static int
resolve_user (const struct cove_spec_request *req, struct cove_spec_user *out,
              struct cove_error **err)
{
  memset (out, 0, sizeof *out);
  const char *user = req->user ? req->user
                     : (req->image_user && req->image_user[0]) ? req->image_user
                     : "0";
  cleanup_close int root = open (req->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return cove_error_set (err, errno, "open rootfs `%s`", req->rootfs);
  return cove_spec_user_resolve (root, user, req->groups, out, err);
}

json_t *
cove_spec_generate (const struct cove_spec_request *req, struct cove_error **err)
{
  if (check_request (req, err) < 0)
    return NULL;
  cleanup_free char *hostname = req->hostname ? xstrdup (req->hostname)
                                : xstrndup (req->id ? req->id : "cove", 12);
  struct cove_spec_user u;
  if (resolve_user (req, &u, err) < 0)
    return NULL;
  json_t *caps = spec_capabilities (req->cap_add, req->cap_drop, err);
  json_t *process = caps ? build_process (req, &u, caps, hostname, err) : NULL;
  json_t *mounts = process ? spec_mounts (req, err) : NULL;
  json_t *lin = mounts ? build_linux (req, caps, err) : NULL;
  json_t *annotations = NULL;
  if (lin && build_network_annotations (req, &annotations, err) < 0)
    {
      json_decref (lin);
      lin = NULL;
    }
  cove_spec_user_free (&u);
  json_decref (caps);
  if (lin == NULL)
    {
      json_decref (process);
      json_decref (mounts);
      return NULL;
    }
  json_t *doc = json_pack ("{s:s, s:o, s:{s:s, s:b}, s:o, s:o}",
                           "ociVersion", "1.0.2", "process", process, "root",
                           "path", req->rootfs, "readonly", req->read_only,
                           "mounts", mounts, "linux", lin);
  /* A shared UTS namespace keeps the host's name (check_request refused
     --hostname with it); a joined one (a pod's) keeps its owner's.  */
  if (req->ns[COVE_SPEC_NS_UTS] != COVE_SPEC_NS_HOST
      && req->ns[COVE_SPEC_NS_UTS] != COVE_SPEC_NS_PATH)
    json_object_set_new (doc, "hostname", json_string (hostname));
  if (annotations)
    json_object_set_new (doc, "annotations", annotations);
  return doc;
}
