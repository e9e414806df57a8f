/* The tap device of a slirp network, made inside the container's network
   namespace (we are root of its user namespace there) with ioctls: no
   netlink code needed for one device, one address and one route each.  */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/route.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"

/* linux/ipv6.h conflicts with netinet/in.h; this is its in6_ifreq.  */
struct net_in6_ifreq
{
  struct in6_addr addr;
  uint32_t prefixlen;
  int ifindex;
};

static void
tap_ifreq (struct ifreq *ifr)
{
  memset (ifr, 0, sizeof *ifr);
  strncpy (ifr->ifr_name, COVE_NET_TAP_NAME, IFNAMSIZ - 1);
}

static int
tap_open (struct cove_error **err)
{
  int fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return cove_error_set (err, errno, "open /dev/net/tun");
  struct ifreq ifr;
  tap_ifreq (&ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl (fd, TUNSETIFF, &ifr) < 0)
    {
      int e = errno;
      close (fd);
      return cove_error_set (err, e, "create %s", COVE_NET_TAP_NAME);
    }
  /* Persistent: the device then goes with the network namespace, in the
     kernel's own time, and the monitor's close of the fd after the
     container exits is cheap.  Closing the last fd of a non-persistent
     tap unregisters the device there and then, ~14 ms of RCU grace
     periods in the path of `run --rm` and `stop` (measured).  */
  if (ioctl (fd, TUNSETPERSIST, 1) < 0)
    {
      int e = errno;
      close (fd);
      return cove_error_set (err, e, "make %s persistent", COVE_NET_TAP_NAME);
    }
  return fd;
}

static void
set_sin (struct sockaddr *sa, struct in_addr a)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = a };
  memcpy (sa, &sin, sizeof sin);
}

static int
tap_ipv4 (int s, const struct cove_net_slirp_options *o, struct cove_error **err)
{
  struct ifreq ifr;
  tap_ifreq (&ifr);
  ifr.ifr_mtu = (int) o->mtu;
  if (ioctl (s, SIOCSIFMTU, &ifr) < 0)
    return cove_error_set (err, errno, "set MTU %u of %s", o->mtu, COVE_NET_TAP_NAME);
  set_sin (&ifr.ifr_addr, cove_net_slirp_addr4 (o, 100));
  if (ioctl (s, SIOCSIFADDR, &ifr) < 0)
    return cove_error_set (err, errno, "set address of %s", COVE_NET_TAP_NAME);
  struct in_addr mask = { .s_addr = htonl (0xffffffffu << (32 - o->prefix)) };
  set_sin (&ifr.ifr_netmask, mask);
  if (ioctl (s, SIOCSIFNETMASK, &ifr) < 0)
    return cove_error_set (err, errno, "set netmask of %s", COVE_NET_TAP_NAME);
  if (ioctl (s, SIOCGIFFLAGS, &ifr) < 0)
    return cove_error_set (err, errno, "get flags of %s", COVE_NET_TAP_NAME);
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl (s, SIOCSIFFLAGS, &ifr) < 0)
    return cove_error_set (err, errno, "bring up %s", COVE_NET_TAP_NAME);
  struct rtentry rt;
  memset (&rt, 0, sizeof rt);
  set_sin (&rt.rt_dst, (struct in_addr) { 0 });
  set_sin (&rt.rt_genmask, (struct in_addr) { 0 });
  set_sin (&rt.rt_gateway, cove_net_slirp_addr4 (o, 2));
  rt.rt_flags = RTF_UP | RTF_GATEWAY;
  rt.rt_dev = (char *) COVE_NET_TAP_NAME;
  if (ioctl (s, SIOCADDRT, &rt) < 0)
    return cove_error_set (err, errno, "add the default route of %s",
                           COVE_NET_TAP_NAME);
  return 0;
}

/* Duplicate address detection would keep fd00::100 tentative (unusable)
   for a second after the container starts; nothing else is on the link.
   Best effort: a host without IPv6 has no such file.  */
static void
no_dad (void)
{
  int fd = open ("/proc/sys/net/ipv6/conf/" COVE_NET_TAP_NAME "/accept_dad",
                 O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  (void) cove_write_all (fd, "0\n", 2, NULL);
  close (fd);
}

static int
tap_ipv6 (struct cove_error **err)
{
  cleanup_close int s = socket (AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0 && errno == EAFNOSUPPORT)
    return 0;  /* a kernel without IPv6: the container has IPv4 only */
  if (s < 0)
    return cove_error_set (err, errno, "socket (IPv6)");
  int ifindex = (int) if_nametoindex (COVE_NET_TAP_NAME);
  struct net_in6_ifreq r = { .addr = cove_net_slirp_addr6 (0x100),
                             .prefixlen = 64, .ifindex = ifindex };
  if (ioctl (s, SIOCSIFADDR, &r) < 0)
    return cove_error_set (err, errno, "set IPv6 address of %s", COVE_NET_TAP_NAME);
  struct in6_rtmsg rt;
  memset (&rt, 0, sizeof rt);
  rt.rtmsg_gateway = cove_net_slirp_addr6 (2);
  rt.rtmsg_flags = RTF_UP | RTF_GATEWAY;
  rt.rtmsg_metric = 1;
  rt.rtmsg_ifindex = ifindex;
  /* EEXIST: slirp's router advertisement came first.  */
  if (ioctl (s, SIOCADDRT, &rt) < 0 && errno != EEXIST)
    return cove_error_set (err, errno, "add the IPv6 default route of %s",
                           COVE_NET_TAP_NAME);
  return 0;
}

int
cove_net_tap_create (const struct cove_net_slirp_options *o,
                     struct cove_error **err)
{
  cleanup_close int fd = tap_open (err);
  if (fd < 0)
    return -1;
  cleanup_close int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return cove_error_set (err, errno, "socket");
  if (o->ipv6)
    no_dad ();
  if (tap_ipv4 (s, o, err) < 0 || (o->ipv6 && tap_ipv6 (err) < 0))
    return -1;
  return steal_fd (&fd);
}
