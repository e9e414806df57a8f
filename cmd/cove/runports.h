/* cove: published ports of run/create (-p, -P) into the record's
   extra "ports", which the container's monitor serves (pkg/monitor).  */
#ifndef COVE_CMD_RUNPORTS_H
#define COVE_CMD_RUNPORTS_H

#include <jansson.h>

#include "cmd/cove/runopts.h"
#include "pkg/util/error.h"

/* Parse O->publish (-p [hostIP:][hostPort:]containerPort[/PROTO], PROTO
   tcp (the default), udp or "tcp,udp"; ranges "8000-8010:80-90") and
   O->publish_all (-P: the image's ExposedPorts, tcp and udp) into EXTRA's
   "ports": [{"host_ip", "host_port", "container_port", "protocol"}];
   host_ip "" = every address, host_port 0 = the monitor picks a free one.
   errnum EINVAL for a bad spec, ENOTSUP for sctp.  */
int cove_run_ports_prepare (struct cove_run_options *o, json_t *extra,
                            struct cove_error **err);

#endif
