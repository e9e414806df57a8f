/* net/: the options of a slirp network (defaults, parsing, derived
   addresses), the poll set, and libslirp through the wrapper: an ARP
   request written on a fake tap (a datagram socket pair) gets slirp's
   answer for the gateway.  The tap device itself needs a network
   namespace: tests/system/300-network.bats.  */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "net/net.h"
#include "pkg/util/error.h"

static const char *
addr4 (struct in_addr a, char *buf)
{
  return inet_ntop (AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void
test_defaults (void **state)
{
  (void) state;
  struct cove_net_slirp_options o;
  char b[INET_ADDRSTRLEN];
  cove_net_slirp_options_init (&o);
  assert_int_equal (o.mtu, 65520);
  assert_int_equal (o.prefix, 24);
  assert_true (o.ipv6);
  assert_false (o.allow_host_loopback);
  assert_int_equal (o.outbound_family, 0);
  assert_string_equal (addr4 (o.net, b), "10.0.2.0");
  assert_string_equal (addr4 (cove_net_slirp_addr4 (&o, 100), b), "10.0.2.100");
  assert_string_equal (addr4 (cove_net_slirp_addr4 (&o, 2), b), "10.0.2.2");
  assert_string_equal (addr4 (cove_net_slirp_addr4 (&o, 3), b), "10.0.2.3");
  char b6[INET6_ADDRSTRLEN];
  struct in6_addr a6 = cove_net_slirp_addr6 (0x100);
  assert_string_equal (inet_ntop (AF_INET6, &a6, b6, sizeof b6), "fd00::100");
  a6 = cove_net_slirp_addr6 (2);
  assert_string_equal (inet_ntop (AF_INET6, &a6, b6, sizeof b6), "fd00::2");
}

static void
test_options (void **state)
{
  (void) state;
  struct cove_net_slirp_options o;
  struct cove_error *err = NULL;
  char b[INET_ADDRSTRLEN];
  cove_net_slirp_options_init (&o);
  assert_int_equal (cove_net_slirp_option_set (&o, "mtu", "1500", &err), 0);
  assert_int_equal (o.mtu, 1500);
  /* Host bits are dropped: the network of the address.  */
  assert_int_equal (cove_net_slirp_option_set (&o, "cidr", "192.168.7.9/16", &err), 0);
  assert_string_equal (addr4 (o.net, b), "192.168.0.0");
  assert_int_equal (o.prefix, 16);
  assert_string_equal (addr4 (cove_net_slirp_addr4 (&o, 100), b), "192.168.0.100");
  assert_int_equal (cove_net_slirp_option_set (&o, "enable_ipv6", "false", &err), 0);
  assert_false (o.ipv6);
  assert_int_equal (cove_net_slirp_option_set (&o, "allow_host_loopback", "true", &err), 0);
  assert_true (o.allow_host_loopback);
  assert_int_equal (cove_net_slirp_option_set (&o, "outbound_addr", "192.0.2.7", &err), 0);
  assert_int_equal (o.outbound_family, AF_INET);
  assert_int_equal (cove_net_slirp_option_set (&o, "outbound_addr", "2001:db8::1", &err), 0);
  assert_int_equal (o.outbound_family, AF_INET6);
  assert_int_equal (o.port_handler, COVE_NET_PORT_HANDLER_RELAY);
  assert_int_equal (cove_net_slirp_option_set (&o, "port_handler", "slirp", &err), 0);
  assert_int_equal (o.port_handler, COVE_NET_PORT_HANDLER_SLIRP);
  assert_int_equal (cove_net_slirp_option_set (&o, "port_handler", "rootlesskit", &err), 0);
  assert_int_equal (o.port_handler, COVE_NET_PORT_HANDLER_RELAY);
  assert_int_equal (cove_net_slirp_option_set (&o, "port_handler", "slirp4netns", &err), 0);
  assert_int_equal (o.port_handler, COVE_NET_PORT_HANDLER_SLIRP);
  assert_null (err);
}

static void
test_bad_options (void **state)
{
  (void) state;
  static const char *const bad[][2] = {
    { "mtu", "" }, { "mtu", "67" }, { "mtu", "65522" }, { "mtu", "-1500" },
    { "mtu", "15x" }, { "cidr", "10.0.2.0" }, { "cidr", "10.0.2.0/26" },
    { "cidr", "10.0.2.0/0" }, { "cidr", "10.0.2/24" }, { "cidr", "fd00::/64" },
    { "cidr", "10.0.2.0/24x" }, { "cidr", "10.0.2.0/" }, { "enable_ipv6", "yes" },
    { "allow_host_loopback", "" }, { "outbound_addr", "eth0" },
    { "port_handler", "" }, { "port_handler", "Slirp" }, { "nope", "1" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct cove_net_slirp_options o;
      struct cove_error *err = NULL;
      cove_net_slirp_options_init (&o);
      assert_int_equal (cove_net_slirp_option_set (&o, bad[i][0], bad[i][1], &err), -1);
      assert_non_null (err);
      assert_int_equal (err->errnum, EINVAL);
      assert_non_null (strstr (err->msg, bad[i][0]));
      cove_error_free (err);
      /* A failed option leaves the others as they were.  */
      assert_int_equal (o.mtu, 65520);
      assert_int_equal (o.prefix, 24);
    }
}

static void
test_pollset (void **state)
{
  (void) state;
  struct cove_net_pollset ps = { 0 };
  for (int i = 0; i < 100; i++)
    assert_int_equal (cove_net_pollset_add (&ps, i, POLLIN), (size_t) i);
  assert_int_equal (ps.n, 100);
  assert_int_equal (ps.fds[42].fd, 42);
  assert_int_equal (ps.fds[42].events, POLLIN);
  cove_net_pollset_free (&ps);
  assert_null (ps.fds);
  assert_int_equal (ps.n, 0);
}

/* An ARP request from the container (10.0.2.100) for the gateway.  */
static size_t
arp_request (uint8_t *f)
{
  static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
  memset (f, 0, 42);
  memset (f, 0xff, 6);
  memcpy (f + 6, mac, 6);
  f[12] = 0x08, f[13] = 0x06;                       /* ARP */
  f[15] = 1, f[16] = 0x08, f[18] = 6, f[19] = 4;    /* Ethernet, IPv4 */
  f[21] = 1;                                        /* request */
  memcpy (f + 22, mac, 6);
  memcpy (f + 28, (uint8_t[]) { 10, 0, 2, 100 }, 4);
  memcpy (f + 38, (uint8_t[]) { 10, 0, 2, 2 }, 4);
  return 42;
}

static void
test_slirp_arp (void **state)
{
  (void) state;
  int sv[2];
  assert_int_equal (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                                0, sv), 0);
  struct cove_net_slirp_options o;
  cove_net_slirp_options_init (&o);
  struct cove_error *err = NULL;
  struct cove_net_slirp *s = cove_net_slirp_new (sv[0], &o, &err);
  if (s == NULL && err && err->errnum == ENOSYS)
    {
      cove_error_free (err);
      close (sv[1]);
      skip ();
    }
  assert_non_null (s);
  uint8_t f[128];
  assert_int_equal (write (sv[1], f, arp_request (f)), 42);
  struct cove_net_pollset ps = { 0 };
  int timeout = -1;
  cove_net_slirp_fill (s, &ps, &timeout);
  assert_true (ps.n >= 1);
  assert_int_equal (ps.fds[0].fd, sv[0]);
  /* slirp's own timers bound the wait: never for ever.  */
  assert_true (timeout >= 0 && timeout <= 1000);
  assert_true (poll (ps.fds, ps.n, 1000) >= 1);
  cove_net_slirp_handle (s, &ps, false);
  ssize_t n = read (sv[1], f, sizeof f);
  assert_true (n >= 42);
  assert_int_equal (f[12], 0x08);
  assert_int_equal (f[13], 0x06);
  assert_int_equal (f[21], 2);  /* reply */
  assert_memory_equal (f + 28, ((uint8_t[]) { 10, 0, 2, 2 }), 4);
  cove_net_pollset_free (&ps);
  cove_net_slirp_free (s);
  close (sv[1]);
}

/* port_handler=slirp: libslirp binds the host port; one taken fails with
   the reason, a bad address with EINVAL.  */
static void
test_slirp_forward (void **state)
{
  (void) state;
  int sv[2];
  assert_int_equal (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                                0, sv), 0);
  struct cove_net_slirp_options o;
  cove_net_slirp_options_init (&o);
  struct cove_error *err = NULL;
  struct cove_net_slirp *s = cove_net_slirp_new (sv[0], &o, &err);
  if (s == NULL && err && err->errnum == ENOSYS)
    {
      cove_error_free (err);
      close (sv[1]);
      skip ();
    }
  assert_non_null (s);
  /* A port of ours, taken for the failure case.  */
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET,
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t sl = sizeof sa;
  assert_int_equal (bind (fd, (struct sockaddr *) &sa, sizeof sa), 0);
  assert_int_equal (listen (fd, 1), 0);
  assert_int_equal (getsockname (fd, (struct sockaddr *) &sa, &sl), 0);
  uint16_t taken = ntohs (sa.sin_port);
  assert_int_equal (cove_net_slirp_forward (s, false, "127.0.0.1", taken, 80, &err), -1);
  assert_non_null (strstr (err->msg, "address already in use"));
  cove_error_free (err);
  err = NULL;
  /* The same port for UDP is free.  */
  assert_int_equal (cove_net_slirp_forward (s, true, "127.0.0.1", taken, 53, &err), 0);
  assert_int_equal (cove_net_slirp_forward (s, false, "127.0.0.300", 1, 80, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_free (err);
  err = NULL;
  close (fd);
  /* Now free: slirp takes it.  */
  assert_int_equal (cove_net_slirp_forward (s, false, "127.0.0.1", taken, 80, &err), 0);
  assert_null (err);
  cove_net_slirp_free (s);
  close (sv[1]);
  /* And frees it with the instance.  */
  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  (void) setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  assert_int_equal (bind (fd, (struct sockaddr *) &sa, sizeof sa), 0);
  close (fd);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_defaults),
    cmocka_unit_test (test_options),
    cmocka_unit_test (test_bad_options),
    cmocka_unit_test (test_pollset),
    cmocka_unit_test (test_slirp_arp),
    cmocka_unit_test (test_slirp_forward),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
