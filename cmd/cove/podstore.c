/* cove: pods' records and their containers: loading, membership, status,
   the infra container started before its members, and the members'
   namespaces pointed at its process.  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcreate.h"
#include "cmd/cove/output.h"
#include "cmd/cove/pod.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

int
cove_pod_cmd_open (struct cove_pod_cmd *pc, bool userns, struct cove_error **err)
{
  memset (pc, 0, sizeof *pc);
  pc->pods.dirfd = -1;
  if (userns && cove_cmd_enter_userns (err) < 0)
    return -1;
  if (cove_ctr_store_open (&pc->paths, &pc->st, err) < 0)
    return -1;
  if (cove_state_pod_store_open (&pc->pods, pc->paths.data_dir, err) < 0)
    {
      cove_ctr_store_close (&pc->paths, &pc->st);
      return -1;
    }
  return 0;
}

void
cove_pod_cmd_close (struct cove_pod_cmd *pc)
{
  cove_state_store_close (&pc->pods);
  cove_ctr_store_close (&pc->paths, &pc->st);
}

int
cove_pod_load (struct cove_state_store *pods, const char *name_or_id,
               struct cove_state_container *out, struct cove_error **err)
{
  cleanup_error struct cove_error *local = NULL;
  if (cove_state_load (pods, name_or_id, out, &local) == 0)
    return 0;
  if (local->errnum == ENOENT)
    return cove_error_set_plain (err, ENOENT, "no pod with name or ID %s "
                                 "found: no such pod", name_or_id);
  *err = steal_pointer (&local);
  return -1;
}

int
cove_pod_members (struct cove_state_store *st, const char *pod_id,
                  struct cove_state_container **out, size_t *out_n,
                  struct cove_error **err)
{
  struct cove_state_container *all = NULL;
  size_t n = 0, kept = 0;
  char **warnings = NULL;
  if (cove_state_list (st, &all, &n, &warnings, err) < 0)
    return -1;
  cove_strv_free (warnings);
  for (size_t i = 0; i < n; i++)
    {
      const char *p = cove_ctr_extra_str (&all[i], "pod");
      if (p && strcmp (p, pod_id) == 0)
        {
          all[i].state = cove_state_effective (&all[i], NULL);
          all[kept++] = all[i];
        }
      else
        cove_state_container_free (&all[i]);
    }
  *out = all;
  *out_n = kept;
  return 0;
}

bool
cove_pod_ctr_running (const struct cove_state_container *c)
{
  enum cove_state_status s = cove_state_effective (c, NULL);
  return s == COVE_STATE_RUNNING || s == COVE_STATE_PAUSED;
}

/* As podman's pod status: every container in one state names it; some
   running make it Degraded.  */
const char *
cove_pod_status (const struct cove_state_container *v, size_t n)
{
  size_t running = 0, paused = 0, stopped = 0, created = 0;
  for (size_t i = 0; i < n; i++)
    switch (cove_state_effective (&v[i], NULL))
      {
      case COVE_STATE_RUNNING: running++; break;
      case COVE_STATE_PAUSED: paused++; break;
      case COVE_STATE_STOPPED: case COVE_STATE_EXITED: stopped++; break;
      default: created++; break;
      }
  if (n == 0 || created == n)
    return "Created";
  if (running == n)
    return "Running";
  if (paused == n)
    return "Paused";
  if (stopped == n)
    return "Exited";
  if (running > 0)
    return "Degraded";
  return stopped > 0 ? "Exited" : "Created";
}

bool
cove_pod_shares (const struct cove_state_container *pod, const char *kind)
{
  json_t *share = json_object_get (pod->extra, "share");
  size_t i;
  json_t *e;
  json_array_foreach (share, i, e)
    if (strcmp (json_string_value (e) ?: "", kind) == 0)
      return true;
  return false;
}

int
cove_pod_infra_start (const struct cove_storage_paths *paths,
                      struct cove_state_store *st,
                      const struct cove_state_container *pod,
                      pid_t *out_pid, struct cove_error **err)
{
  if (out_pid)
    *out_pid = 0;
  const char *infra = cove_ctr_extra_str (pod, "infra_id");
  if (infra == NULL)
    return 0;
  struct cove_state_container c;
  if (cove_ctr_load (st, infra, &c, err) < 0)
    return cove_error_wrap (err, "the infra container of pod %s", pod->name);
  int r = 0;
  if (!cove_pod_ctr_running (&c))
    {
      int status;
      r = cove_ctr_launch (paths, &c, -1, &status, err);
      cove_state_container_free (&c);
      if (r == 0)
        r = cove_ctr_load (st, infra, &c, err);
      if (r < 0)
        return cove_error_wrap (err, "start the infra container of pod %s",
                                pod->name);
    }
  if (out_pid)
    *out_pid = c.pid;
  cove_state_container_free (&c);
  return r;
}

/* The OCI name of a shared namespace and its /proc file.  */
static const struct
{
  const char *kind, *oci, *proc;
} shared_ns[] = {
  { "net", "network", "net" },
  { "ipc", "ipc", "ipc" },
  { "uts", "uts", "uts" },
};

/* Point the joined namespaces of the config.json at PATH to PID's.  */
static int
repoint_config (const char *path, const struct cove_state_container *pod,
                pid_t pid, struct cove_error **err)
{
  json_error_t jerr;
  json_t *doc = json_load_file (path, 0, &jerr);
  if (doc == NULL)
    return cove_error_set (err, EINVAL, "read `%s`: %s", path, jerr.text);
  json_t *ns = json_object_get (json_object_get (doc, "linux"), "namespaces");
  size_t i;
  json_t *e;
  json_array_foreach (ns, i, e)
    for (size_t k = 0; k < sizeof shared_ns / sizeof shared_ns[0]; k++)
      if (strcmp (json_string_value (json_object_get (e, "type")) ?: "",
                  shared_ns[k].oci) == 0
          && json_object_get (e, "path") && cove_pod_shares (pod, shared_ns[k].kind))
        json_object_set_new (e, "path", json_sprintf ("/proc/%d/ns/%s", (int) pid,
                                                      shared_ns[k].proc));
  cleanup_free char *text = json_dumps (doc, JSON_INDENT (2) | JSON_COMPACT);
  json_decref (doc);
  if (text == NULL)
    return cove_error_set (err, ENOMEM, "serialise `%s`", path);
  return cove_file_write_atomic (path, text, strlen (text), 0600, 0, err);
}

int
cove_pod_prestart (const struct cove_storage_paths *paths,
                   struct cove_state_store *st,
                   const struct cove_state_container *c, struct cove_error **err)
{
  const char *pod_id = cove_ctr_extra_str (c, "pod");
  if (pod_id == NULL || cove_ctr_extra_bool (c, "pod_infra"))
    return 0;
  struct cove_state_store pods;
  if (cove_state_pod_store_open (&pods, paths->data_dir, err) < 0)
    return -1;
  struct cove_state_container pod;
  int r = cove_pod_load (&pods, pod_id, &pod, err);
  cove_state_store_close (&pods);
  if (r < 0)
    return -1;
  pid_t pid = 0;
  r = cove_pod_infra_start (paths, st, &pod, &pid, err);
  if (r == 0 && pid > 0)
    {
      cleanup_free char *config = cove_ctr_file (paths, c->id, "config.json");
      r = repoint_config (config, &pod, pid, err);
    }
  cove_state_container_free (&pod);
  return r;
}

int
cove_pod_rm_check (struct cove_state_store *st,
                   const struct cove_state_container *c, struct cove_error **err)
{
  (void) st;
  const char *pod_id = cove_ctr_extra_str (c, "pod");
  /* As podman: only pod rm removes it, members or not, so that no pod is
     left without the namespaces its members were made to join.  */
  if (pod_id && cove_ctr_extra_bool (c, "pod_infra"))
    return cove_error_set_plain (err, EPERM, "container %s is the infra "
                                 "container of pod %s and cannot be removed "
                                 "without removing the pod", c->id, pod_id);
  return 0;
}
