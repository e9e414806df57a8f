#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cove/runopts.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

enum
{
  OPT_HELP = 1, OPT_ROOTFS, OPT_ENV, OPT_ENV_FILE, OPT_WORKDIR, OPT_USER,
  OPT_GROUP_ADD, OPT_HOSTNAME, OPT_INTERACTIVE, OPT_TTY, OPT_ENTRYPOINT,
  OPT_READ_ONLY, OPT_TMPFS, OPT_VOLUME, OPT_CAP_ADD, OPT_CAP_DROP,
  OPT_SECURITY_OPT, OPT_ULIMIT, OPT_PID, OPT_IPC, OPT_UTS, OPT_NETWORK,
  OPT_CGROUPNS, OPT_RM, OPT_NAME, OPT_SIG_PROXY, OPT_PULL, OPT_PLATFORM,
  OPT_TLS_VERIFY,
};

const struct cove_opt cove_run_option_table[] = {
  { "cap-add", 0, COVE_OPT_VALUE, OPT_CAP_ADD, "strings", "Add capabilities to the container" },
  { "cap-drop", 0, COVE_OPT_VALUE, OPT_CAP_DROP, "strings", "Drop capabilities from the container" },
  { "cgroupns", 0, COVE_OPT_VALUE, OPT_CGROUPNS, "string", "cgroup namespace to use: host or private" },
  { "entrypoint", 0, COVE_OPT_VALUE, OPT_ENTRYPOINT, "string", "Overwrite the default ENTRYPOINT (a string or a JSON array)" },
  { "env", 'e', COVE_OPT_VALUE, OPT_ENV, "stringArray", "Set environment variables in container" },
  { "env-file", 0, COVE_OPT_VALUE, OPT_ENV_FILE, "stringArray", "Read in a file of environment variables" },
  { "group-add", 0, COVE_OPT_VALUE, OPT_GROUP_ADD, "strings", "Add additional groups to the primary container process" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for run" },
  { "hostname", 0, COVE_OPT_VALUE, OPT_HOSTNAME, "string", "Set container hostname" },
  { "interactive", 'i', COVE_OPT_BOOL, OPT_INTERACTIVE, NULL, "Keep STDIN open even if not attached" },
  { "ipc", 0, COVE_OPT_VALUE, OPT_IPC, "string", "IPC namespace to use: host or private" },
  { "name", 0, COVE_OPT_VALUE, OPT_NAME, "string", "Assign a name to the container" },
  { "network", 0, COVE_OPT_VALUE, OPT_NETWORK, "string", "Network mode: none (default) or host" },
  { "net", 0, COVE_OPT_VALUE, OPT_NETWORK, "string", "Alias of --network" },
  { "pid", 0, COVE_OPT_VALUE, OPT_PID, "string", "PID namespace to use: host or private" },
  { "platform", 0, COVE_OPT_VALUE, OPT_PLATFORM, "string", "Specify the platform for selecting the image when pulling (os/arch[/variant])" },
  { "pull", 0, COVE_OPT_VALUE, OPT_PULL, "string", "Pull image policy: missing (default), always, never, newer" },
  { "read-only", 0, COVE_OPT_BOOL, OPT_READ_ONLY, NULL, "Make the container's root filesystem read-only" },
  { "rm", 0, COVE_OPT_BOOL, OPT_RM, NULL, "Remove container (and pod if created) after exit" },
  { "rootfs", 0, COVE_OPT_VALUE, OPT_ROOTFS, "string", "The directory to use as the container's root filesystem" },
  { "security-opt", 0, COVE_OPT_VALUE, OPT_SECURITY_OPT, "stringArray", "Security options: no-new-privileges, seccomp=unconfined|FILE" },
  { "sig-proxy", 0, COVE_OPT_BOOL, OPT_SIG_PROXY, NULL, "Proxy received signals to the process (default true)" },
  { "tls-verify", 0, COVE_OPT_BOOL, OPT_TLS_VERIFY, NULL, "Require HTTPS and verify certificates when contacting registries for pulling images" },
  { "tmpfs", 0, COVE_OPT_VALUE, OPT_TMPFS, "tmpfs", "Mount a temporary filesystem (tmpfs) into a container" },
  { "tty", 't', COVE_OPT_BOOL, OPT_TTY, NULL, "Allocate a pseudo-TTY for container" },
  { "ulimit", 0, COVE_OPT_VALUE, OPT_ULIMIT, "ulimit", "Ulimit options (NAME=SOFT[:HARD])" },
  { "user", 'u', COVE_OPT_VALUE, OPT_USER, "string", "Username or UID (format: <name|uid>[:<group|gid>])" },
  { "uts", 0, COVE_OPT_VALUE, OPT_UTS, "string", "UTS namespace to use: host or private" },
  { "volume", 'v', COVE_OPT_VALUE, OPT_VOLUME, "stringArray", "Bind mount a volume into the container (HOST-DIR:CONTAINER-DIR[:ro])" },
  { "workdir", 'w', COVE_OPT_VALUE, OPT_WORKDIR, "string", "Working directory inside the container" },
  { NULL, 0, 0, 0, NULL, NULL },
};

/* Append a copy of S to the request array *V, remembering it for free.  */
static void
add (char ***v, const char *s)
{
  cove_strv_append (v, s);
}

static int
parse_ns (const char *flag, const char *value, enum cove_spec_ns *out,
          struct cove_error **err)
{
  if (strcmp (value, "host") == 0)
    *out = COVE_SPEC_NS_HOST;
  else if (strcmp (value, "private") == 0 || strcmp (value, "") == 0)
    *out = COVE_SPEC_NS_PRIVATE;
  else
    return cove_error_set (err, EINVAL, "invalid value `%s` for --%s: "
                           "must be host or private", value, flag);
  return 0;
}

static int
parse_network (const char *value, struct cove_spec_request *req,
               struct cove_error **err)
{
  if (strcmp (value, "none") == 0)
    req->ns[COVE_SPEC_NS_NET] = COVE_SPEC_NS_NONE;
  else if (strcmp (value, "host") == 0)
    req->ns[COVE_SPEC_NS_NET] = COVE_SPEC_NS_HOST;
  else
    return cove_error_set (err, EINVAL, "unsupported network mode `%s`: "
                           "use none or host", value);
  return 0;
}

static int
parse_security_opt (const char *value, struct cove_spec_request *req,
                    struct cove_error **err)
{
  if (strcmp (value, "no-new-privileges") == 0
      || strcmp (value, "no-new-privileges=true") == 0
      || strcmp (value, "no-new-privileges:true") == 0)
    req->no_new_privileges = true;
  else if (strcmp (value, "no-new-privileges=false") == 0
           || strcmp (value, "no-new-privileges:false") == 0)
    req->no_new_privileges = false;
  else if (strncmp (value, "seccomp=", 8) == 0 && value[8] != '\0')
    req->seccomp = value + 8;
  else if (strcmp (value, "label=disable") == 0
           || strcmp (value, "apparmor=unconfined") == 0)
    ; /* no LSM is driven by cove: accepted as podman users write them */
  else
    return cove_error_set (err, EINVAL, "invalid --security-opt `%s`", value);
  return 0;
}

/* --entrypoint is either a JSON array or one command, as in podman.  */
static int
parse_entrypoint (const char *value, struct cove_spec_request *req,
                  struct cove_error **err)
{
  req->entrypoint_set = true;
  if (value[0] != '[')
    {
      if (value[0] != '\0')
        add (&req->entrypoint, value);
      return 0;
    }
  json_error_t jerr;
  json_t *a = json_loads (value, 0, &jerr);
  if (a == NULL || !json_is_array (a))
    {
      json_decref (a);
      return cove_error_set (err, EINVAL, "invalid --entrypoint `%s`: "
                             "not a JSON array of strings", value);
    }
  size_t i;
  json_t *e;
  json_array_foreach (a, i, e)
    {
      if (!json_is_string (e))
        {
          json_decref (a);
          return cove_error_set (err, EINVAL, "invalid --entrypoint `%s`: "
                                 "not a JSON array of strings", value);
        }
      add (&req->entrypoint, json_string_value (e));
    }
  json_decref (a);
  return 0;
}

static int
parse_pull (struct cove_run_options *o, const char *v, struct cove_error **err)
{
  if (strcmp (v, "missing") == 0 || strcmp (v, "newer") == 0)
    o->pull = COVE_RUN_PULL_MISSING;
  else if (strcmp (v, "always") == 0 || strcmp (v, "true") == 0)
    o->pull = COVE_RUN_PULL_ALWAYS;
  else if (strcmp (v, "never") == 0 || strcmp (v, "false") == 0)
    o->pull = COVE_RUN_PULL_NEVER;
  else
    return cove_error_set (err, EINVAL, "invalid --pull `%s`: must be "
                           "missing, always, never or newer", v);
  return 0;
}

static int
check_user (const char *value, struct cove_error **err)
{
  const char *colon = strchr (value, ':');
  if (value[0] == '\0' || value[0] == ':' || (colon && (colon[1] == '\0'
                                                        || strchr (colon + 1, ':'))))
    return cove_error_set (err, EINVAL, "invalid --user `%s`: "
                           "must be <name|uid>[:<group|gid>]", value);
  return 0;
}

static int
apply_option (struct cove_run_options *o, int id, const char *v,
              struct cove_error **err)
{
  struct cove_spec_request *r = &o->req;
  bool on = v && strcmp (v, "true") == 0;
  switch (id)
    {
    case OPT_ROOTFS: free (o->rootfs); o->rootfs = xstrdup (v); return 0;
    case OPT_ENV: add (&r->env, v); return 0;
    case OPT_ENV_FILE: add (&r->env_files, v); return 0;
    case OPT_WORKDIR: r->workdir = v; return 0;
    case OPT_USER: r->user = v; return check_user (v, err);
    case OPT_GROUP_ADD: add (&r->groups, v); return 0;
    case OPT_HOSTNAME: r->hostname = v; return 0;
    case OPT_INTERACTIVE: o->interactive = on; return 0;
    case OPT_TTY: r->terminal = on; return 0;
    case OPT_ENTRYPOINT: return parse_entrypoint (v, r, err);
    case OPT_READ_ONLY: r->read_only = on; return 0;
    case OPT_TMPFS: add (&r->tmpfs, v); return 0;
    case OPT_VOLUME: add (&r->volumes, v); return 0;
    case OPT_CAP_ADD: add (&r->cap_add, v); return 0;
    case OPT_CAP_DROP: add (&r->cap_drop, v); return 0;
    case OPT_SECURITY_OPT: return parse_security_opt (v, r, err);
    case OPT_ULIMIT: add (&r->ulimits, v); return 0;
    case OPT_PID: return parse_ns ("pid", v, &r->ns[COVE_SPEC_NS_PID], err);
    case OPT_IPC: return parse_ns ("ipc", v, &r->ns[COVE_SPEC_NS_IPC], err);
    case OPT_UTS: return parse_ns ("uts", v, &r->ns[COVE_SPEC_NS_UTS], err);
    case OPT_CGROUPNS: return parse_ns ("cgroupns", v, &r->ns[COVE_SPEC_NS_CGROUP], err);
    case OPT_NETWORK: return parse_network (v, r, err);
    case OPT_RM: o->rm = on; return 0;
    case OPT_NAME: o->name = v; return 0;
    case OPT_SIG_PROXY: o->sig_proxy = on; return 0;
    case OPT_PULL: return parse_pull (o, v, err);
    case OPT_PLATFORM: o->platform = v; return 0;
    case OPT_TLS_VERIFY: o->tls_verify = on ? 1 : 0; return 0;
    default: return cove_error_set (err, EINVAL, "unhandled option %d", id);
    }
}

static int
check_rootfs (struct cove_run_options *o, struct cove_error **err)
{
  char *abs = realpath (o->rootfs, NULL);
  if (abs == NULL)
    return cove_error_set (err, errno, "rootfs `%s`", o->rootfs);
  free (o->rootfs);
  o->rootfs = abs;
  struct stat st;
  if (stat (abs, &st) < 0)
    return cove_error_set (err, errno, "rootfs `%s`", abs);
  if (!S_ISDIR (st.st_mode))
    return cove_error_set (err, ENOTDIR, "rootfs `%s`", abs);
  o->req.rootfs = abs;
  return 0;
}

int
cove_run_options_parse (struct cove_run_options *o, int argc, char **argv,
                        struct cove_error **err)
{
  memset (o, 0, sizeof *o);
  o->sig_proxy = true;
  o->tls_verify = -1;
  o->req.ns[COVE_SPEC_NS_NET] = COVE_SPEC_NS_NONE;
  struct cove_opts_parser p;
  cove_opts_init (&p, cove_run_option_table, argc, argv, false);
  const char *v;
  int id;
  while ((id = cove_opts_next (&p, &v, err)) > 0)
    {
      if (id == OPT_HELP)
        {
          cove_opts_free (&p);
          return COVE_RUN_OPTIONS_HELP;
        }
      if (apply_option (o, id, v, err) < 0)
        break;
    }
  char **rest = cove_opts_rest (&p, NULL);
  cove_opts_free (&p);
  if (id < 0 || (err && *err))
    {
      free (rest);
      return -1;
    }
  if (o->rootfs == NULL)
    {
      /* IMAGE [COMMAND [ARG...]]: the image comes first.  */
      if (rest[0] == NULL)
        {
          free (rest);
          return cove_error_set (err, EINVAL, "requires at least 1 arg(s), "
                                 "only received 0");
        }
      o->image = rest[0];
      o->req.command = cove_strv_dup (rest + 1);
      free (rest);
      return 0;
    }
  o->req.command = cove_strv_dup (rest);
  free (rest);
  if (check_rootfs (o, err) < 0)
    return -1;
  if (o->req.command[0] == NULL && o->req.entrypoint == NULL)
    return cove_error_set (err, EINVAL, "no command given: "
                           "cove run --rootfs DIR COMMAND [ARG...]");
  return 0;
}

void
cove_run_options_free (struct cove_run_options *o)
{
  struct cove_spec_request *r = &o->req;
  char ***arrays[] = { &r->command, &r->entrypoint, &r->env, &r->env_files,
                       &r->groups, &r->cap_add, &r->cap_drop, &r->volumes,
                       &r->tmpfs, &r->ulimits, &r->image_env,
                       &r->image_cmd, &r->image_entrypoint };
  for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
    {
      cove_strv_free (*arrays[i]);
      *arrays[i] = NULL;
    }
  free (o->rootfs);
  o->rootfs = NULL;
  json_decref (o->image_config);
  o->image_config = NULL;
}
