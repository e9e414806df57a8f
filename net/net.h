/* cove net: the container's network.  Loopback, the tap device of
   `--network slirp` (made inside the container's netns, served by the
   monitor through libslirp) and the options they share.  */
#ifndef COVE_NET_H
#define COVE_NET_H

#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg/util/error.h"

/* Bring up `lo` in the calling process's network namespace.  Runs inside the
   container's fresh netns, where lo starts down.  */
int cove_net_loopback_up (struct cove_error **err);

/* ---- options (options.c) ---- */

/* The annotations of config.json that ask for a slirp network: NETWORK is
   "slirp"; each option is the prefix + its key of
   cove_net_slirp_option_set, with a string value.  */
#define COVE_NET_ANNOTATION "io.cove.network"
#define COVE_NET_ANNOTATION_SLIRP_PREFIX "io.cove.slirp."

#define COVE_NET_DEFAULT_MTU 65520
#define COVE_NET_DEFAULT_CIDR "10.0.2.0/24"

/* Who forwards the published ports (-p) of a slirp network: the monitor's
   relay (a socket inside the container's netns per connection or UDP
   flow: the container sees 127.0.0.1 as the source), or libslirp's host
   forwarding (through the tap to the container's address: it sees the
   gateway, .2).  */
enum cove_net_port_handler
{
  COVE_NET_PORT_HANDLER_RELAY,
  COVE_NET_PORT_HANDLER_SLIRP,
};

/* Settings of a slirp network, as podman's slirp4netns: in NET/PREFIX the
   container is .100, the gateway (the host) .2, the DNS forwarder .3,
   DHCP starts at .15; IPv6 fd00::/64 with fd00::100, ::2 and ::3.  */
struct cove_net_slirp_options
{
  unsigned mtu;
  struct in_addr net;         /* network byte order, host bits zero */
  unsigned prefix;            /* 1..25 */
  bool ipv6;
  bool allow_host_loopback;
  int outbound_family;        /* 0: the host's choice; AF_INET, AF_INET6 */
  struct in_addr outbound4;
  struct in6_addr outbound6;
  enum cove_net_port_handler port_handler;
};

/* The defaults: MTU 65520, 10.0.2.0/24, IPv6 on, host loopback closed,
   ports forwarded by the relay.  */
void cove_net_slirp_options_init (struct cove_net_slirp_options *o);

/* Set option KEY ("mtu", "cidr", "enable_ipv6", "allow_host_loopback",
   "outbound_addr", "port_handler": "relay", "slirp" or podman's
   "rootlesskit", taken as "relay") from VALUE (untrusted: from the command line or a
   config.json).  errnum EINVAL: an unknown key or a bad value (the message
   names it).  */
int cove_net_slirp_option_set (struct cove_net_slirp_options *o,
                               const char *key, const char *value,
                               struct cove_error **err);

/* The address N of O's network (N = 100: the container, 2: the gateway,
   3: the DNS forwarder), network byte order.  */
struct in_addr cove_net_slirp_addr4 (const struct cove_net_slirp_options *o,
                                     unsigned n);
/* fd00::N.  */
struct in6_addr cove_net_slirp_addr6 (unsigned n);

/* ---- the tap device (tap.c) ---- */

#define COVE_NET_TAP_NAME "tap0"

/* In the container's network namespace (the caller's): create tap0 (no
   packet info), set its MTU and address (.100/PREFIX, fd00::100/64 with
   IPv6), bring it up and route the default through the gateway.  Returns
   the tap's fd (O_CLOEXEC) for the monitor.  */
int cove_net_tap_create (const struct cove_net_slirp_options *o,
                         struct cove_error **err);

/* ---- libslirp (slirp.c) ---- */

/* A growable poll set that the monitor polls once for all its fds.  */
struct cove_net_pollset
{
  struct pollfd *fds;
  size_t n, cap;
};

/* Append FD with EVENTS; returns its index.  */
size_t cove_net_pollset_add (struct cove_net_pollset *ps, int fd, short events);
void cove_net_pollset_free (struct cove_net_pollset *ps);

struct cove_net_slirp;

/* Serve the tap TAP_FD (taken: closed by cove_net_slirp_free) with a
   libslirp instance set up from O.  libslirp (and the glib it needs) is
   loaded here, on first use (dlopen of libslirp.so.0), so that cove's
   own start-up does not pay for it.  errnum ENOSYS: no libslirp.  */
struct cove_net_slirp *cove_net_slirp_new (int tap_fd,
                                           const struct cove_net_slirp_options *o,
                                           struct cove_error **err);
void cove_net_slirp_free (struct cove_net_slirp *s);

/* Before the poll: add the tap and slirp's sockets to PS, and lower
   *TIMEOUT_MS (-1: none) to the next of slirp's timers.  */
void cove_net_slirp_fill (struct cove_net_slirp *s, struct cove_net_pollset *ps,
                          int *timeout_ms);
/* Forward the host's HOST_IP ("" = every IPv4 address; an IPv6 one goes
   to the container's fd00::100) port HOST_PORT, TCP or UDP, to the
   container's port GUEST_PORT on its tap address.  libslirp binds the
   host socket now and keeps it until cove_net_slirp_free.  errnum 0 when
   it cannot (libslirp gives no reason; the message says the likely one:
   the port is taken), EINVAL for a bad address.  */
int cove_net_slirp_forward (struct cove_net_slirp *s, bool udp,
                            const char *host_ip, uint16_t host_port,
                            uint16_t guest_port, struct cove_error **err);

/* After the poll (POLL_FAILED when poll itself failed): frames from the
   tap into slirp, slirp's sockets, then its expired timers.  */
void cove_net_slirp_handle (struct cove_net_slirp *s,
                            const struct cove_net_pollset *ps,
                            bool poll_failed);

#endif
