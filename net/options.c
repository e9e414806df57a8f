/* The options of a slirp network (podman's slirp4netns ones), shared by
   the spec (checking the command line), the runtime (the tap's addresses)
   and the monitor (libslirp's settings).  */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/net.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

void
cove_net_slirp_options_init (struct cove_net_slirp_options *o)
{
  memset (o, 0, sizeof *o);
  o->mtu = COVE_NET_DEFAULT_MTU;
  o->net.s_addr = htonl (0x0a000200);  /* 10.0.2.0 */
  o->prefix = 24;
  o->ipv6 = true;
}

static int
parse_bool (const char *key, const char *value, bool *out,
            struct cove_error **err)
{
  if (strcmp (value, "true") == 0)
    *out = true;
  else if (strcmp (value, "false") == 0)
    *out = false;
  else
    return cove_error_set (err, EINVAL, "invalid slirp option `%s=%s`: "
                           "must be true or false", key, value);
  return 0;
}

/* slirp4netns's limits: at least the Ethernet minimum, at most 65521.  */
static int
parse_mtu (const char *value, unsigned *out, struct cove_error **err)
{
  char *end;
  errno = 0;
  unsigned long v = strtoul (value, &end, 10);
  if (errno || end == value || *end || value[0] == '-' || v < 68 || v > 65521)
    return cove_error_set (err, EINVAL, "invalid slirp mtu `%s`: "
                           "must be between 68 and 65521", value);
  *out = (unsigned) v;
  return 0;
}

/* A.B.C.D/N; the host bits are dropped.  The prefix must leave room for
   .100 (N at most 25).  */
static int
parse_cidr (struct cove_net_slirp_options *o, const char *value,
            struct cove_error **err)
{
  const char *slash = strchr (value, '/');
  cleanup_free char *addr = slash ? xstrndup (value, (size_t) (slash - value)) : NULL;
  struct in_addr a;
  char *end;
  unsigned long n = 0;
  if (slash)
    {
      errno = 0;
      n = strtoul (slash + 1, &end, 10);
    }
  if (slash == NULL || inet_pton (AF_INET, addr, &a) != 1 || errno
      || end == slash + 1 || *end || n < 1 || n > 25)
    return cove_error_set (err, EINVAL, "invalid slirp cidr `%s`: must be "
                           "an IPv4 network A.B.C.D/N with N from 1 to 25",
                           value);
  uint32_t mask = 0xffffffffu << (32 - n);
  o->net.s_addr = htonl (ntohl (a.s_addr) & mask);
  o->prefix = (unsigned) n;
  return 0;
}

static int
parse_outbound (struct cove_net_slirp_options *o, const char *value,
                struct cove_error **err)
{
  if (inet_pton (AF_INET, value, &o->outbound4) == 1)
    o->outbound_family = AF_INET;
  else if (inet_pton (AF_INET6, value, &o->outbound6) == 1)
    o->outbound_family = AF_INET6;
  else
    return cove_error_set (err, EINVAL, "invalid slirp outbound_addr `%s`: "
                           "must be an IPv4 or IPv6 address", value);
  return 0;
}

/* podman's names; its rootlesskit is a relay as ours is.  */
static int
parse_port_handler (const char *value, enum cove_net_port_handler *out,
                    struct cove_error **err)
{
  if (strcmp (value, "relay") == 0 || strcmp (value, "rootlesskit") == 0)
    *out = COVE_NET_PORT_HANDLER_RELAY;
  else if (strcmp (value, "slirp") == 0 || strcmp (value, "slirp4netns") == 0)
    *out = COVE_NET_PORT_HANDLER_SLIRP;
  else
    return cove_error_set (err, EINVAL, "invalid slirp port_handler `%s`: "
                           "must be relay or slirp", value);
  return 0;
}

int
cove_net_slirp_option_set (struct cove_net_slirp_options *o, const char *key,
                           const char *value, struct cove_error **err)
{
  if (strcmp (key, "mtu") == 0)
    return parse_mtu (value, &o->mtu, err);
  if (strcmp (key, "cidr") == 0)
    return parse_cidr (o, value, err);
  if (strcmp (key, "enable_ipv6") == 0)
    return parse_bool (key, value, &o->ipv6, err);
  if (strcmp (key, "allow_host_loopback") == 0)
    return parse_bool (key, value, &o->allow_host_loopback, err);
  if (strcmp (key, "outbound_addr") == 0)
    return parse_outbound (o, value, err);
  if (strcmp (key, "port_handler") == 0)
    return parse_port_handler (value, &o->port_handler, err);
  return cove_error_set (err, EINVAL, "unknown slirp option `%s`", key);
}

struct in_addr
cove_net_slirp_addr4 (const struct cove_net_slirp_options *o, unsigned n)
{
  return (struct in_addr) { .s_addr = htonl (ntohl (o->net.s_addr) + n) };
}

struct in6_addr
cove_net_slirp_addr6 (unsigned n)
{
  struct in6_addr a = { .s6_addr = { 0xfd, 0x00 } };
  a.s6_addr[14] = (uint8_t) (n >> 8);
  a.s6_addr[15] = (uint8_t) n;
  return a;
}
