/* cove: the network options of run/create (--network, --dns, --add-host)
   and the container's /etc/hosts, /etc/resolv.conf and /etc/hostname.  */
#ifndef COVE_CMD_RUNNET_H
#define COVE_CMD_RUNNET_H

#include <jansson.h>

#include "cmd/cove/runopts.h"
#include "pkg/state/state.h"
#include "storage/storage.h"

/* Parse --network VALUE into O: none, host, private, slirp[:k=v,...],
   container:NAME (kept in O->net_container for cove_run_net_prepare),
   ns:PATH.  errnum EINVAL for anything else.  */
int cove_run_net_parse (struct cove_run_options *o, const char *value,
                        struct cove_error **err);

/* --add-host NAME:IP (IPv6 addresses may be bracketed).  */
int cove_run_net_check_host (const char *value, struct cove_error **err);

/* After the container's id and directory exist: resolve container:NAME
   to the other container's network namespace (it must run), write the
   container's hosts, resolv.conf and hostname files in DIR and point
   O->req at those that are to be bound, and record the network mode in
   EXTRA ("network_mode").  */
int cove_run_net_prepare (struct cove_run_options *o, struct cove_state_store *st,
                          const char *dir, json_t *extra,
                          struct cove_error **err);

#endif
