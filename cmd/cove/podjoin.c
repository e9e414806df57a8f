/* cove: run/create --pod: a container made a member of a pod, joining the
   namespaces of its infra container.  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cove/ctr.h"
#include "cmd/cove/pod.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* The kinds a pod may share, in pkg/spec's terms.  */
static const struct
{
  const char *kind;
  int ns;
} kinds[] = {
  { "net", COVE_SPEC_NS_NET },
  { "ipc", COVE_SPEC_NS_IPC },
  { "uts", COVE_SPEC_NS_UTS },
};

/* --pod new:NAME: make the pod, giving it the member's -p and --network
   (podman moves them to the pod: the member could not have them).
   *OUT_ID gets its id.  */
static int
make_new_pod (struct cove_run_options *o, const char *name, char **out_id,
              struct cove_error **err)
{
  cleanup_strv char **argv = NULL;
  cove_strv_append (&argv, "create");
  cove_strv_append (&argv, "--name");
  cove_strv_append (&argv, name);
  for (char **p = o->publish; p && *p; p++)
    {
      cove_strv_append (&argv, "--publish");
      cove_strv_append (&argv, *p);
    }
  if (o->net_value)
    {
      cove_strv_append (&argv, "--network");
      cove_strv_append (&argv, o->net_value);
    }
  cove_strv_free (o->publish);
  o->publish = NULL;
  free (o->net_value);
  o->net_value = NULL;
  /* Its options pointed into the value: the pod's network is joined.  */
  memset (&o->req.slirp, 0, sizeof o->req.slirp);
  return cove_pod_create ((int) cove_strv_len (argv), argv, out_id, err);
}

/* podman's refusals for a member of a pod that shares its network.  */
static int
check_member (const struct cove_run_options *o,
              const struct cove_state_container *pod, struct cove_error **err)
{
  if (!cove_pod_shares (pod, "net"))
    return 0;
  if (o->net_value)
    return cove_error_set_plain (err, EINVAL, "invalid config provided: "
                                 "networks must be defined when the pod is "
                                 "created: network cannot be configured when "
                                 "it is shared with a pod");
  if (o->publish || o->publish_all)
    return cove_error_set_plain (err, EINVAL, "invalid config provided: "
                                 "published or exposed ports must be defined "
                                 "when the pod is created: network cannot be "
                                 "configured when it is shared with a pod");
  if (o->req.hostname && cove_pod_shares (pod, "uts"))
    return cove_error_set_plain (err, EINVAL, "invalid config provided: "
                                 "cannot set hostname when joining the pod "
                                 "UTS namespace");
  return 0;
}

/* Join POD's shared namespaces, those of the infra process PID (0: not
   running yet: a path that cannot be opened stands in, and
   cove_pod_prestart points it at the infra container when the member
   starts).  */
static void
join_namespaces (struct cove_run_options *o,
                 const struct cove_state_container *pod, pid_t pid,
                 json_t *extra)
{
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    {
      if (!cove_pod_shares (pod, kinds[i].kind))
        continue;
      free (o->pod_state[2 + i]);
      o->pod_state[2 + i] = pid > 0
        ? xasprintf ("/proc/%d/ns/%s", (int) pid, kinds[i].kind)
        : xasprintf ("/nonexistent/cove-pod-infra/ns/%s", kinds[i].kind);
      o->req.ns[kinds[i].ns] = COVE_SPEC_NS_PATH;
      o->req.ns_path[kinds[i].ns] = o->pod_state[2 + i];
    }
  if (cove_pod_shares (pod, "net"))
    {
      o->net_container = NULL;
      json_object_set_new (extra, "network_mode",
                           json_sprintf ("container:%s", o->pod_state[1]));
    }
  const char *hostname = cove_ctr_extra_str (pod, "hostname");
  if (cove_pod_shares (pod, "uts") && hostname)
    {
      free (o->pod_state[5]);
      o->pod_state[5] = xstrdup (hostname);
      o->req.hostname = o->pod_state[5];
    }
}

/* The pod's infra container: its id in O, and its process when it runs
   (started first when STARTING).  */
static int
find_infra (struct cove_run_options *o, const struct cove_storage_paths *paths,
            struct cove_state_store *st, const struct cove_state_container *pod,
            bool starting, pid_t *out_pid, struct cove_error **err)
{
  *out_pid = 0;
  const char *infra = cove_ctr_extra_str (pod, "infra_id");
  if (infra == NULL)
    return 0;
  o->pod_state[1] = xstrdup (infra);
  if (starting)
    return cove_pod_infra_start (paths, st, pod, out_pid, err);
  struct cove_state_container c;
  if (cove_ctr_load (st, infra, &c, err) < 0)
    return -1;
  if (cove_pod_ctr_running (&c))
    *out_pid = c.pid;
  cove_state_container_free (&c);
  return 0;
}

int
cove_pod_join (struct cove_run_options *o,
               const struct cove_storage_paths *paths,
               struct cove_state_store *st, json_t *extra, bool starting,
               struct cove_error **err)
{
  cleanup_free char *made = NULL;
  if (strncmp (o->pod, "new:", 4) == 0
      && make_new_pod (o, o->pod + 4, &made, err) < 0)
    return -1;
  struct cove_state_store pods;
  if (cove_state_pod_store_open (&pods, paths->data_dir, err) < 0)
    return -1;
  struct cove_state_container pod;
  int r = cove_pod_load (&pods, made ? made : o->pod, &pod, err);
  cove_state_store_close (&pods);
  if (r < 0)
    return -1;
  pid_t pid = 0;
  r = check_member (o, &pod, err);
  if (r == 0)
    r = find_infra (o, paths, st, &pod, starting, &pid, err);
  if (r == 0)
    {
      free (o->pod_state[0]);
      o->pod_state[0] = xstrdup (pod.id);
      json_object_set_new (extra, "pod", json_string (pod.id));
      if (o->pod_state[1])
        join_namespaces (o, &pod, pid, extra);
    }
  cove_state_container_free (&pod);
  return r;
}

void
cove_pod_join_files (struct cove_run_options *o,
                     const struct cove_storage_paths *paths)
{
  if (o->pod_state[1] == NULL)
    return;
  static const char *const names[3] = { "hosts", "resolv.conf", "hostname" };
  const char **slots[3] = { &o->req.etc_hosts, &o->req.etc_resolv,
                            &o->req.etc_hostname };
  /* net shared: hosts and resolv.conf; uts shared: hostname.  */
  bool take[3] = { o->req.ns[COVE_SPEC_NS_NET] == COVE_SPEC_NS_PATH,
                   o->req.ns[COVE_SPEC_NS_NET] == COVE_SPEC_NS_PATH,
                   o->req.ns[COVE_SPEC_NS_UTS] == COVE_SPEC_NS_PATH };
  for (size_t i = 0; i < 3; i++)
    {
      if (!take[i] || (names[i] == names[0] && o->no_hosts))
        continue;
      char *path = cove_ctr_file (paths, o->pod_state[1], names[i]);
      if (access (path, F_OK) < 0)
        {
          free (path);
          continue;
        }
      free (o->etc_files[i]);
      o->etc_files[i] = path;
      *slots[i] = path;
    }
}
