#include <errno.h>
#include <stdio.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cove/runnet.h"
#include "cmd/cove/runopts.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/signals.h"
#include "pkg/util/xalloc.h"

enum
{
  OPT_HELP = 1, OPT_ROOTFS, OPT_ENV, OPT_ENV_FILE, OPT_WORKDIR, OPT_USER,
  OPT_GROUP_ADD, OPT_HOSTNAME, OPT_INTERACTIVE, OPT_TTY, OPT_ENTRYPOINT,
  OPT_READ_ONLY, OPT_TMPFS, OPT_VOLUME, OPT_CAP_ADD, OPT_CAP_DROP,
  OPT_SECURITY_OPT, OPT_ULIMIT, OPT_PID, OPT_IPC, OPT_UTS, OPT_NETWORK,
  OPT_CGROUPNS, OPT_RM, OPT_NAME, OPT_SIG_PROXY, OPT_PULL, OPT_PLATFORM,
  OPT_TLS_VERIFY, OPT_DETACH, OPT_CIDFILE, OPT_LABEL, OPT_RESTART,
  OPT_STOP_SIGNAL, OPT_STOP_TIMEOUT, OPT_INIT, OPT_INIT_PATH, OPT_LOG_DRIVER,
  OPT_LOG_OPT, OPT_MOUNT, OPT_VOLUMES_FROM, OPT_DETACH_KEYS, OPT_MEMORY,
  OPT_MEMORY_SWAP, OPT_CPUS, OPT_CPU_SHARES, OPT_PIDS_LIMIT, OPT_DNS,
  OPT_DNS_SEARCH, OPT_DNS_OPTION, OPT_ADD_HOST, OPT_NO_HOSTS, OPT_PUBLISH,
  OPT_PUBLISH_ALL, OPT_POD,
};

const struct cove_opt cove_run_option_table[] = {
  { "add-host", 0, COVE_OPT_VALUE, OPT_ADD_HOST, "strings", "Add a custom host-to-IP mapping (host:ip)" },
  { "cap-add", 0, COVE_OPT_VALUE, OPT_CAP_ADD, "strings", "Add capabilities to the container" },
  { "cap-drop", 0, COVE_OPT_VALUE, OPT_CAP_DROP, "strings", "Drop capabilities from the container" },
  { "cidfile", 0, COVE_OPT_VALUE, OPT_CIDFILE, "string", "Write the container ID to the file" },
  { "cgroupns", 0, COVE_OPT_VALUE, OPT_CGROUPNS, "string", "cgroup namespace to use: host or private" },
  { "cpu-shares", 'c', COVE_OPT_VALUE, OPT_CPU_SHARES, "uint", "CPU shares (relative weight); needs a delegated cgroup v2 tree" },
  { "cpus", 0, COVE_OPT_VALUE, OPT_CPUS, "float", "Number of CPUs; needs a delegated cgroup v2 tree" },
  { "detach", 'd', COVE_OPT_BOOL, OPT_DETACH, NULL, "Run container in background and print container ID" },
  { "detach-keys", 0, COVE_OPT_VALUE, OPT_DETACH_KEYS, "string", "Override the key sequence for detaching a container (default \"ctrl-p,ctrl-q\")" },
  { "dns", 0, COVE_OPT_VALUE, OPT_DNS, "strings", "Set custom DNS servers" },
  { "dns-option", 0, COVE_OPT_VALUE, OPT_DNS_OPTION, "strings", "Set custom DNS options" },
  { "dns-search", 0, COVE_OPT_VALUE, OPT_DNS_SEARCH, "strings", "Set custom DNS search domains" },
  { "entrypoint", 0, COVE_OPT_VALUE, OPT_ENTRYPOINT, "string", "Overwrite the default ENTRYPOINT (a string or a JSON array)" },
  { "env", 'e', COVE_OPT_VALUE, OPT_ENV, "stringArray", "Set environment variables in container" },
  { "env-file", 0, COVE_OPT_VALUE, OPT_ENV_FILE, "stringArray", "Read in a file of environment variables" },
  { "group-add", 0, COVE_OPT_VALUE, OPT_GROUP_ADD, "strings", "Add additional groups to the primary container process" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for run" },
  { "hostname", 0, COVE_OPT_VALUE, OPT_HOSTNAME, "string", "Set container hostname" },
  { "init", 0, COVE_OPT_BOOL, OPT_INIT, NULL, "Run an init inside the container that forwards signals and reaps processes" },
  { "init-path", 0, COVE_OPT_VALUE, OPT_INIT_PATH, "string", "Path to the container-init binary" },
  { "interactive", 'i', COVE_OPT_BOOL, OPT_INTERACTIVE, NULL, "Keep STDIN open even if not attached" },
  { "ipc", 0, COVE_OPT_VALUE, OPT_IPC, "string", "IPC namespace to use: host or private" },
  { "label", 'l', COVE_OPT_VALUE, OPT_LABEL, "stringArray", "Set metadata on container" },
  { "log-driver", 0, COVE_OPT_VALUE, OPT_LOG_DRIVER, "string", "Logging driver for the container: k8s-file (default) or none" },
  { "log-opt", 0, COVE_OPT_VALUE, OPT_LOG_OPT, "stringArray", "Logging driver options (max-size=SIZE)" },
  { "memory", 'm', COVE_OPT_VALUE, OPT_MEMORY, "string", "Memory limit (format: <number>[<unit>]); needs a delegated cgroup v2 tree" },
  { "memory-swap", 0, COVE_OPT_VALUE, OPT_MEMORY_SWAP, "string", "Swap limit equal to memory plus swap; needs a delegated cgroup v2 tree" },
  { "mount", 0, COVE_OPT_VALUE, OPT_MOUNT, "stringArray", "Attach a filesystem mount to the container (type=bind|volume|tmpfs,...)" },
  { "name", 0, COVE_OPT_VALUE, OPT_NAME, "string", "Assign a name to the container" },
  { "network", 0, COVE_OPT_VALUE, OPT_NETWORK, "string", "Network mode: none (default), host, slirp[:OPTIONS], container:NAME, ns:PATH" },
  { "net", 0, COVE_OPT_VALUE, OPT_NETWORK, "string", "Alias of --network" },
  { "no-hosts", 0, COVE_OPT_BOOL, OPT_NO_HOSTS, NULL, "Do not create /etc/hosts within the container, instead use the image's" },
  { "pid", 0, COVE_OPT_VALUE, OPT_PID, "string", "PID namespace to use: host or private" },
  { "pids-limit", 0, COVE_OPT_VALUE, OPT_PIDS_LIMIT, "int", "Tune container pids limit; needs a delegated cgroup v2 tree" },
  { "platform", 0, COVE_OPT_VALUE, OPT_PLATFORM, "string", "Specify the platform for selecting the image when pulling (os/arch[/variant])" },
  { "publish", 'p', COVE_OPT_VALUE, OPT_PUBLISH, "strings", "Publish a container's port, or a range of ports, to the host ([ip:][hostPort:]containerPort[/tcp|/udp])" },
  { "pod", 0, COVE_OPT_VALUE, OPT_POD, "string", "Run container in an existing pod (NAME or ID), or a new one (new:NAME)" },
  { "publish-all", 'P', COVE_OPT_BOOL, OPT_PUBLISH_ALL, NULL, "Publish all exposed ports to random ports on the host interfaces" },
  { "pull", 0, COVE_OPT_VALUE, OPT_PULL, "string", "Pull image policy: missing (default), always, never, newer" },
  { "read-only", 0, COVE_OPT_BOOL, OPT_READ_ONLY, NULL, "Make the container's root filesystem read-only" },
  { "restart", 0, COVE_OPT_VALUE, OPT_RESTART, "string", "Restart policy to apply when a container exits (no, on-failure[:N], always, unless-stopped)" },
  { "rm", 0, COVE_OPT_BOOL, OPT_RM, NULL, "Remove container (and pod if created) after exit" },
  { "rootfs", 0, COVE_OPT_VALUE, OPT_ROOTFS, "string", "The directory to use as the container's root filesystem" },
  { "security-opt", 0, COVE_OPT_VALUE, OPT_SECURITY_OPT, "stringArray", "Security options: no-new-privileges, seccomp=unconfined|FILE" },
  { "sig-proxy", 0, COVE_OPT_BOOL, OPT_SIG_PROXY, NULL, "Proxy received signals to the process (default true)" },
  { "stop-signal", 0, COVE_OPT_VALUE, OPT_STOP_SIGNAL, "string", "Signal to stop a container. Default is SIGTERM" },
  { "stop-timeout", 0, COVE_OPT_VALUE, OPT_STOP_TIMEOUT, "uint", "Timeout (in seconds) to stop a container. Default is 10" },
  { "tls-verify", 0, COVE_OPT_BOOL, OPT_TLS_VERIFY, NULL, "Require HTTPS and verify certificates when contacting registries for pulling images" },
  { "tmpfs", 0, COVE_OPT_VALUE, OPT_TMPFS, "tmpfs", "Mount a temporary filesystem (tmpfs) into a container" },
  { "tty", 't', COVE_OPT_BOOL, OPT_TTY, NULL, "Allocate a pseudo-TTY for container" },
  { "ulimit", 0, COVE_OPT_VALUE, OPT_ULIMIT, "ulimit", "Ulimit options (NAME=SOFT[:HARD])" },
  { "user", 'u', COVE_OPT_VALUE, OPT_USER, "string", "Username or UID (format: <name|uid>[:<group|gid>])" },
  { "uts", 0, COVE_OPT_VALUE, OPT_UTS, "string", "UTS namespace to use: host or private" },
  { "volume", 'v', COVE_OPT_VALUE, OPT_VOLUME, "stringArray", "Bind mount a volume into the container (HOST-DIR:CONTAINER-DIR[:ro])" },
  { "volumes-from", 0, COVE_OPT_VALUE, OPT_VOLUMES_FROM, "stringArray", "Mount volumes from the specified container(s)" },
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
parse_restart (struct cove_run_options *o, const char *v,
               struct cove_error **err)
{
  o->restart_max = 0;
  if (strcmp (v, "no") == 0 || strcmp (v, "") == 0)
    o->restart = COVE_RUN_RESTART_NO;
  else if (strcmp (v, "always") == 0)
    o->restart = COVE_RUN_RESTART_ALWAYS;
  else if (strcmp (v, "unless-stopped") == 0)
    o->restart = COVE_RUN_RESTART_UNLESS_STOPPED;
  else if (strncmp (v, "on-failure", 10) == 0 && (v[10] == '\0' || v[10] == ':'))
    {
      o->restart = COVE_RUN_RESTART_ON_FAILURE;
      if (v[10] == ':')
        {
          char *end;
          errno = 0;
          unsigned long n = strtoul (v + 11, &end, 10);
          if (v[11] == '\0' || v[11] == '-' || *end || errno || n > UINT_MAX)
            return cove_error_set (err, EINVAL, "invalid restart policy `%s`: "
                                   "the retry count must be a number", v);
          o->restart_max = (unsigned) n;
        }
    }
  else
    return cove_error_set (err, EINVAL, "invalid restart policy `%s`: must be "
                           "no, on-failure[:N], always or unless-stopped", v);
  if (o->restart != COVE_RUN_RESTART_ON_FAILURE && strchr (v, ':'))
    return cove_error_set (err, EINVAL, "invalid restart policy `%s`: only "
                           "on-failure takes a retry count", v);
  return 0;
}

/* A size as docker's units.FromHumanSize: decimal, "10", "10k", "1.5MB".  */
static int
parse_size (const char *v, int64_t *out, struct cove_error **err)
{
  char *end;
  errno = 0;
  double d = strtod (v, &end);
  if (end == v || errno || d < 0)
    return cove_error_set (err, EINVAL, "invalid size `%s`", v);
  static const char units[] = "kmgtp";
  double mult = 1;
  if (*end)
    {
      const char *u = strchr (units, *end | 0x20);
      if (u == NULL)
        return cove_error_set (err, EINVAL, "invalid size `%s`", v);
      for (const char *q = units; q <= u; q++)
        mult *= 1000;
      end++;
      if ((*end | 0x20) == 'b')
        end++;
      else if (*end == 'i' && (end[1] | 0x20) == 'b')
        end += 2;
      if (*end)
        return cove_error_set (err, EINVAL, "invalid size `%s`", v);
    }
  if (d * mult > 9.0e18)
    return cove_error_set (err, EINVAL, "invalid size `%s`", v);
  *out = (int64_t) (d * mult);
  return 0;
}

static int
parse_log_opt (struct cove_run_options *o, const char *v,
               struct cove_error **err)
{
  if (strncmp (v, "max-size=", 9) == 0)
    {
      if (parse_size (v + 9, &o->log_max_size, err) < 0)
        return cove_error_wrap (err, "invalid --log-opt `%s`", v);
      return 0;
    }
  if (strncmp (v, "tag=", 4) == 0)
    return 0;  /* only meaningful to journald; accepted as podman does */
  return cove_error_set (err, EINVAL, "invalid --log-opt `%s`: cove knows "
                         "max-size=SIZE", v);
}

static int
parse_label (struct cove_run_options *o, const char *v,
             struct cove_error **err)
{
  if (v[0] == '=' || v[0] == '\0')
    return cove_error_set (err, EINVAL, "invalid label `%s`: "
                           "must be KEY=VALUE or KEY", v);
  if (strchr (v, '='))
    add (&o->labels, v);
  else
    {
      cleanup_free char *kv = xasprintf ("%s=", v);
      add (&o->labels, kv);
    }
  return 0;
}

static int
parse_stop_timeout (struct cove_run_options *o, const char *v,
                    struct cove_error **err)
{
  char *end;
  errno = 0;
  long n = strtol (v, &end, 10);
  if (v[0] == '\0' || *end || errno || n < 0 || n > INT_MAX)
    return cove_error_set (err, EINVAL, "invalid argument \"%s\" for "
                           "\"--stop-timeout\" flag", v);
  o->stop_timeout = (int) n;
  return 0;
}

static int
parse_log_driver (struct cove_run_options *o, const char *v,
                  struct cove_error **err)
{
  if (strcmp (v, "k8s-file") != 0 && strcmp (v, "none") != 0)
    return cove_error_set (err, EINVAL, "invalid --log-driver `%s`: cove "
                           "knows k8s-file and none", v);
  o->log_driver = v;
  return 0;
}

/* --memory, --cpus...: validated, then (cove_run_options_parse) a
   warning that they cannot apply, as rootless podman on cgroup v1.  */
static int
parse_limit (struct cove_run_options *o, int id, const char *v,
             struct cove_error **err)
{
  char *end;
  int64_t size;
  errno = 0;
  if (id == OPT_MEMORY || id == OPT_MEMORY_SWAP)
    {
      if (strcmp (v, "-1") != 0 && parse_size (v, &size, err) < 0)
        return -1;
    }
  else if (id == OPT_CPUS)
    {
      double d = strtod (v, &end);
      if (end == v || *end || errno || d < 0)
        return cove_error_set (err, EINVAL, "invalid argument \"%s\" for "
                               "\"--cpus\" flag", v);
    }
  else
    {
      long long n = strtoll (v, &end, 10);
      if (end == v || *end || errno || n < -1)
        return cove_error_set (err, EINVAL, "invalid argument \"%s\" for "
                               "a resource limit", v);
    }
  o->resource_limits = true;
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
    case OPT_NETWORK: return cove_run_net_parse (o, v, err);
    case OPT_DNS: add (&o->dns, v); return 0;
    case OPT_DNS_SEARCH: add (&o->dns_search, v); return 0;
    case OPT_DNS_OPTION: add (&o->dns_options, v); return 0;
    case OPT_ADD_HOST:
      add (&o->add_hosts, v);
      return cove_run_net_check_host (v, err);
    case OPT_NO_HOSTS: o->no_hosts = on; return 0;
    case OPT_PUBLISH: add (&o->publish, v); return 0;
    case OPT_PUBLISH_ALL: o->publish_all = on; return 0;
    case OPT_POD: o->pod = v; return 0;
    case OPT_RM: o->rm = on; return 0;
    case OPT_NAME: o->name = v; return 0;
    case OPT_SIG_PROXY: o->sig_proxy = on; return 0;
    case OPT_PULL: return parse_pull (o, v, err);
    case OPT_PLATFORM: o->platform = v; return 0;
    case OPT_TLS_VERIFY: o->tls_verify = on ? 1 : 0; return 0;
    case OPT_DETACH: o->detach = on; return 0;
    case OPT_CIDFILE: o->cidfile = v; return 0;
    case OPT_LABEL: return parse_label (o, v, err);
    case OPT_RESTART: return parse_restart (o, v, err);
    case OPT_STOP_SIGNAL: return cove_signal_parse (v, &o->stop_signal, err);
    case OPT_STOP_TIMEOUT: return parse_stop_timeout (o, v, err);
    case OPT_INIT: o->init = on; return 0;
    case OPT_INIT_PATH: o->init_path = v; return 0;
    case OPT_LOG_DRIVER: return parse_log_driver (o, v, err);
    case OPT_LOG_OPT: return parse_log_opt (o, v, err);
    case OPT_MOUNT: add (&o->mounts, v); return 0;
    case OPT_VOLUMES_FROM: add (&o->volumes_from, v); return 0;
    case OPT_DETACH_KEYS: o->detach_keys = v; return 0;
    case OPT_MEMORY: case OPT_MEMORY_SWAP: case OPT_CPUS:
    case OPT_CPU_SHARES: case OPT_PIDS_LIMIT:
      return parse_limit (o, id, v, err);
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
  o->stop_timeout = -1;
  /* podman's rootless default: a NAT of the container's own (slirp).  */
  o->req.ns[COVE_SPEC_NS_NET] = COVE_SPEC_NS_SLIRP;
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
  if (o->rm && o->restart != COVE_RUN_RESTART_NO)
    {
      free (rest);
      return cove_error_set (err, EINVAL, "the --rm option conflicts with "
                             "--restart, when the restart policy is not "
                             "\"no\"");
    }
  if (o->resource_limits)
    fputs ("WARN[0000] Resource limits are not supported and ignored: they "
           "need a cgroup v2 tree delegated to the user (this host has "
           "none)\n", stderr);
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
                       &r->image_cmd, &r->image_entrypoint, &o->labels,
                       &o->mounts, &o->volumes_from, &o->dns,
                       &o->dns_search, &o->dns_options, &o->add_hosts,
                       &o->publish };
  for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
    {
      cove_strv_free (*arrays[i]);
      *arrays[i] = NULL;
    }
  free (o->rootfs);
  o->rootfs = NULL;
  free (o->net_value);
  o->net_value = NULL;
  free (o->net_ns_path);
  o->net_ns_path = NULL;
  for (size_t i = 0; i < sizeof o->pod_state / sizeof o->pod_state[0]; i++)
    {
      free (o->pod_state[i]);
      o->pod_state[i] = NULL;
    }
  for (size_t i = 0; i < 3; i++)
    {
      free (o->etc_files[i]);
      o->etc_files[i] = NULL;
    }
  json_decref (o->image_config);
  o->image_config = NULL;
}
