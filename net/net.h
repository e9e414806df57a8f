/* cove net: the container's network.  Only loopback for now; slirp NAT and
   port forwards come with the networking issue.  */
#ifndef COVE_NET_H
#define COVE_NET_H

#include "pkg/util/error.h"

/* Bring up `lo` in the calling process's network namespace.  Runs inside the
   container's fresh netns, where lo starts down.  */
int cove_net_loopback_up (struct cove_error **err);

#endif
