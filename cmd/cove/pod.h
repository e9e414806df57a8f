/* cove: pods, as the commands see them.  A pod is a record of the pod
   store (pkg/state, DATA_DIR/pods/ID/state.json) and the containers whose
   record's extra says "pod": ID.  Its infra container is an ordinary
   container, made by cove_ctr_create from run options, whose process is
   cove-init --pause in a root filesystem of the pod's own
   (DATA_DIR/pods/ID/rootfs); its monitor owns the pod's network (slirp
   and the published ports), and the members join its namespaces.

   Keys of a pod record's extra:
     "infra_id"        string     the infra container, absent with --infra=false
     "hostname"        string     the pod's hostname (default: its name)
     "share"           [string]   the namespaces shared: net, ipc, uts
     "publish"         [string]   pod create -p, as given
     "network"         string     pod create --network, as given
     "create_command"  [string]   the command line that made it

   Keys the pod adds to a container record's extra (cmd/cove/ctr.h):
     "pod"             string     the pod's id
     "pod_infra"       bool       this is the pod's infra container  */
#ifndef COVE_CMD_POD_H
#define COVE_CMD_POD_H

#include <stdbool.h>
#include <stddef.h>

#include "cmd/cove/runopts.h"
#include "pkg/state/state.h"
#include "storage/storage.h"

/* The stores a pod command works on.  */
struct cove_pod_cmd
{
  struct cove_storage_paths paths;
  struct cove_state_store st;     /* containers */
  struct cove_state_store pods;
};

/* Open both stores, in the user namespace when USERNS.  */
int cove_pod_cmd_open (struct cove_pod_cmd *pc, bool userns,
                       struct cove_error **err);
void cove_pod_cmd_close (struct cove_pod_cmd *pc);

/* Load the pod NAME_OR_ID (full id, name, unique id prefix).  errnum
   ENOENT with podman's "no pod with name or ID X found: no such pod".  */
int cove_pod_load (struct cove_state_store *pods, const char *name_or_id,
                   struct cove_state_container *out, struct cove_error **err);

/* The containers of pod POD_ID, oldest first (the infra container
   first: it is made with the pod), liveness corrected.  Free with
   cove_state_container_list_free.  */
int cove_pod_members (struct cove_state_store *st, const char *pod_id,
                      struct cove_state_container **out, size_t *out_n,
                      struct cove_error **err);

/* podman's pod status of those containers: Created, Running, Degraded,
   Paused, Exited, Stopped.  Static string.  */
const char *cove_pod_status (const struct cove_state_container *v, size_t n);

/* true when C is running or paused.  */
bool cove_pod_ctr_running (const struct cove_state_container *c);

/* Whether the pod record POD shares the namespace KIND ("net", "ipc",
   "uts").  */
bool cove_pod_shares (const struct cove_state_container *pod, const char *kind);

/* Start the infra container of POD unless it runs; *OUT_PID (may be
   NULL) gets its init's pid, 0 for a pod without one.  The caller is in
   the user namespace.  */
int cove_pod_infra_start (const struct cove_storage_paths *paths,
                          struct cove_state_store *st,
                          const struct cove_state_container *pod,
                          pid_t *out_pid, struct cove_error **err);

/* Before C is started (start, pod start, restart): nothing for a
   container outside any pod or for an infra container; for a member,
   start the infra container if it is not running and point the joined
   namespaces of C's config.json at its current process.  */
int cove_pod_prestart (const struct cove_storage_paths *paths,
                       struct cove_state_store *st,
                       const struct cove_state_container *c,
                       struct cove_error **err);

/* rm of C: refused (errnum EPERM, podman's message) when C is the infra
   container of a pod: pod rm removes it.  */
int cove_pod_rm_check (struct cove_state_store *st,
                       const struct cove_state_container *c,
                       struct cove_error **err);

/* rm -a: remove every pod whose containers may go (all with FORCE, else
   those with none running) with its containers, printing their ids, as
   podman's rm -a does; the caller then removes the other containers.
   Returns 0 or 125 after printing an error.  */
int cove_pod_rm_all (const struct cove_storage_paths *paths,
                     struct cove_state_store *st, bool force);

/* run/create --pod, called by cove_ctr_create before the network is
   prepared: find (or with new:NAME make) the pod, refuse --network and
   -p when it shares net, start its infra container when STARTING, join
   its namespaces, take its hostname, and record "pod" in EXTRA.  */
int cove_pod_join (struct cove_run_options *o,
                   const struct cove_storage_paths *paths,
                   struct cove_state_store *st, json_t *extra, bool starting,
                   struct cove_error **err);

/* After the network is prepared: a member sharing the pod's network
   uses the infra container's /etc/hosts and resolv.conf, and its
   hostname file when it shares uts.  */
void cove_pod_join_files (struct cove_run_options *o,
                          const struct cove_storage_paths *paths);

/* Make a pod from pod create's options (podcreate.c); ARGV[0] "create".
   *OUT_ID gets its id.  Used by pod create and --pod new:NAME.  */
int cove_pod_create (int argc, char **argv, char **out_id,
                     struct cove_error **err);

/* For cove ps: the name of the pod POD_ID ("" when unknown; the pods
   are read once per process); FILTERS with each pod=NAME turned into
   pod=ID (a new vector: psfilter.c matches ids without reading pods).  */
const char *cove_pod_name_of (const char *pod_id);
char **cove_pod_resolve_filters (char *const *filters);

/* The pod subcommands (podcmd.c, podops.c, podps.c, podtop.c).  */
int cove_cmd_pod_create (int argc, char **argv);
int cove_cmd_pod_start (int argc, char **argv);
int cove_cmd_pod_stop (int argc, char **argv);
int cove_cmd_pod_restart (int argc, char **argv);
int cove_cmd_pod_kill (int argc, char **argv);
int cove_cmd_pod_rm (int argc, char **argv);
int cove_cmd_pod_prune (int argc, char **argv);
int cove_cmd_pod_exists (int argc, char **argv);
int cove_cmd_pod_ps (int argc, char **argv);
int cove_cmd_pod_inspect (int argc, char **argv);
int cove_cmd_pod_top (int argc, char **argv);
int cove_cmd_pod_logs (int argc, char **argv);

#endif
