/* Published ports: what ports.c (TCP, the helper, the slirp handler) and
   ports-udp.c (UDP) share.  Private to those files.  */
#ifndef COVE_MONITOR_PORTS_INTERNAL_H
#define COVE_MONITOR_PORTS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/net.h"
#include "pkg/util/error.h"

struct monitor_ports;
struct ports_udp;

/* ports.c */

/* A new non-blocking socket of TYPE made in the container's network
   namespace (through the helper), or -1.  */
int ports_container_socket (struct monitor_ports *p, int type);

/* ports-udp.c: the host's UDP sockets and their flows.  Each source
   address (host side) gets a socket of its own in the container's
   namespace, connected to 127.0.0.1:PORT there, so that the replies find
   their way back; a flow idle for PORTS_UDP_IDLE_MS goes, and there are
   at most PORTS_UDP_FLOWS_MAX (the least recently used one makes room).  */
#define PORTS_UDP_IDLE_MS 60000
#define PORTS_UDP_FLOWS_MAX 1024

struct ports_udp *ports_udp_new (void);
/* Take FD, a bound host UDP socket, to forward to container port CPORT.  */
void ports_udp_add (struct ports_udp *u, int fd, uint16_t cport);
/* Drop every flow (the container exited); the host sockets stay.  */
void ports_udp_stop (struct ports_udp *u);
/* Close the host sockets too.  */
void ports_udp_close_hosts (struct ports_udp *u);
void ports_udp_free (struct ports_udp *u);
/* The host sockets and flows in the poll set; *TIMEOUT_MS lowered to the
   next expiry of a flow.  */
void ports_udp_fill (struct ports_udp *u, struct cove_net_pollset *ps,
                     int *timeout_ms);
void ports_udp_handle (struct ports_udp *u, struct monitor_ports *p,
                       const struct cove_net_pollset *ps);

#endif
