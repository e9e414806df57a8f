/* Published UDP ports: the relay's datagram side.  The host socket is
   bound before the container starts (ports.c); each host source address
   that sends to it becomes a flow with a socket of its own made in the
   container's network namespace and connected to 127.0.0.1:PORT there.
   What the container answers on that socket goes back to that source
   through the host socket.  UDP has no end: a flow goes after
   PORTS_UDP_IDLE_MS without a datagram either way, and the number of
   flows is bounded (each holds an fd).

   A host socket bound to every address answers from the address the
   client sent to (IP_PKTINFO / IPV6_PKTINFO): a reply from another of
   the host's addresses would be dropped by a connected client.

   Datagrams from the host are untrusted and never parsed: their bytes
   are passed on as they are.  */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pkg/monitor/ports-internal.h"
#include "pkg/util/xalloc.h"

/* The largest UDP payload (65535 - 8 - 20) fits.  */
#define DGRAM_MAX 65536
/* Datagrams moved per socket and poll round, so that one busy flow does
   not starve the monitor's other work.  */
#define DGRAMS_PER_ROUND 64

struct udp_host
{
  int fd;
  uint16_t cport;
};

/* The host address a datagram came to (ipi_spec_dst / ipi6_addr), the
   source of the replies; family 0 when unknown.  */
struct udp_local
{
  int family;
  union
  {
    struct in_addr v4;
    struct in6_addr v6;
  };
};

struct udp_flow
{
  struct sockaddr_storage peer;  /* the host-side source */
  socklen_t peer_len;
  struct udp_local local;        /* the host-side destination */
  size_t host;                   /* index in hs */
  int fd;                        /* connected, in the container's netns */
  int64_t last_ms;
};

struct ports_udp
{
  struct udp_host *hs;
  size_t n_hs;
  struct udp_flow *fs;
  size_t n_fs;
  size_t base;                   /* hosts' first index in the poll set */
  size_t n_polled;               /* flows in the poll set, after the hosts */
  char *buf;                     /* one datagram */
};

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct ports_udp *
ports_udp_new (void)
{
  struct ports_udp *u = xmalloc0 (sizeof *u);
  return u;
}

void
ports_udp_add (struct ports_udp *u, int fd, uint16_t cport)
{
  /* Without it, replies leave with the address routing picks.  */
  int one = 1;
  (void) setsockopt (fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
  (void) setsockopt (fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
  u->hs = xrealloc (u->hs, (u->n_hs + 1) * sizeof *u->hs);
  u->hs[u->n_hs++] = (struct udp_host) { .fd = fd, .cport = cport };
}

static void
flow_drop (struct ports_udp *u, size_t i)
{
  close (u->fs[i].fd);
  u->fs[i] = u->fs[--u->n_fs];
}

void
ports_udp_stop (struct ports_udp *u)
{
  if (u == NULL)
    return;
  while (u->n_fs > 0)
    flow_drop (u, u->n_fs - 1);
  u->n_polled = 0;
}

void
ports_udp_close_hosts (struct ports_udp *u)
{
  if (u == NULL)
    return;
  ports_udp_stop (u);
  for (size_t i = 0; i < u->n_hs; i++)
    close (u->hs[i].fd);
  u->n_hs = 0;
}

void
ports_udp_free (struct ports_udp *u)
{
  if (u == NULL)
    return;
  ports_udp_close_hosts (u);
  free (u->hs);
  free (u->fs);
  free (u->buf);
  free (u);
}

void
ports_udp_fill (struct ports_udp *u, struct cove_net_pollset *ps,
                int *timeout_ms)
{
  u->base = ps->n;
  for (size_t i = 0; i < u->n_hs; i++)
    cove_net_pollset_add (ps, u->hs[i].fd, POLLIN);
  if (u->n_fs == 0)
    {
      u->n_polled = 0;
      return;
    }
  int64_t now = now_ms (), next = INT64_MAX;
  for (size_t i = 0; i < u->n_fs; i++)
    {
      cove_net_pollset_add (ps, u->fs[i].fd, POLLIN);
      int64_t left = u->fs[i].last_ms + PORTS_UDP_IDLE_MS - now;
      if (left < next)
        next = left < 0 ? 0 : left;
    }
  u->n_polled = u->n_fs;
  /* A little late rather than early: the expiry is a lower bound.  */
  next += 10;
  if (*timeout_ms < 0 || next < *timeout_ms)
    *timeout_ms = next > INT32_MAX ? INT32_MAX : (int) next;
}

/* Control space for one in_pktinfo or in6_pktinfo.  */
union pktinfo_cmsg
{
  char buf[CMSG_SPACE (sizeof (struct in6_pktinfo))];
  struct cmsghdr align;
};

/* Send N bytes of U->buf from host socket FD to F's peer, from the
   address F came to.  */
static void
reply_to (struct ports_udp *u, int fd, const struct udp_flow *f, size_t n)
{
  struct iovec iov = { .iov_base = u->buf, .iov_len = n };
  union pktinfo_cmsg c;
  memset (&c, 0, sizeof c);
  struct msghdr mh = { .msg_name = (void *) &f->peer,
                       .msg_namelen = f->peer_len, .msg_iov = &iov,
                       .msg_iovlen = 1 };
  if (f->local.family != 0)
    {
      bool v4 = f->local.family == AF_INET;
      mh.msg_control = c.buf;
      mh.msg_controllen = v4 ? CMSG_SPACE (sizeof (struct in_pktinfo))
                             : CMSG_SPACE (sizeof (struct in6_pktinfo));
      struct cmsghdr *cm = CMSG_FIRSTHDR (&mh);
      cm->cmsg_level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
      cm->cmsg_type = v4 ? IP_PKTINFO : IPV6_PKTINFO;
      cm->cmsg_len = v4 ? CMSG_LEN (sizeof (struct in_pktinfo))
                        : CMSG_LEN (sizeof (struct in6_pktinfo));
      if (v4)
        {
          struct in_pktinfo pi = { .ipi_spec_dst = f->local.v4 };
          memcpy (CMSG_DATA (cm), &pi, sizeof pi);
        }
      else
        {
          struct in6_pktinfo pi = { .ipi6_addr = f->local.v6 };
          memcpy (CMSG_DATA (cm), &pi, sizeof pi);
        }
    }
  /* A full host socket drops the datagram, as a network would.  */
  (void) sendmsg (fd, &mh, MSG_DONTWAIT);
}

/* The destination address of a datagram received with MH.  */
static struct udp_local
local_of (struct msghdr *mh)
{
  struct udp_local l = { 0 };
  for (struct cmsghdr *cm = CMSG_FIRSTHDR (mh); cm != NULL;
       cm = CMSG_NXTHDR (mh, cm))
    if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO)
      {
        struct in_pktinfo pi;
        memcpy (&pi, CMSG_DATA (cm), sizeof pi);
        l.family = AF_INET;
        l.v4 = pi.ipi_addr;
      }
    else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO)
      {
        struct in6_pktinfo pi;
        memcpy (&pi, CMSG_DATA (cm), sizeof pi);
        l.family = AF_INET6;
        l.v6 = pi.ipi6_addr;
      }
  return l;
}

/* The container's answers on flow I, to its source.  */
static void
flow_replies (struct ports_udp *u, size_t i)
{
  struct udp_flow *f = &u->fs[i];
  for (int k = 0; k < DGRAMS_PER_ROUND; k++)
    {
      ssize_t n = recv (f->fd, u->buf, DGRAM_MAX, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR)
        continue;
      /* ECONNREFUSED: nothing listens on the port inside (an ICMP error
         on the connected socket); the flow waits for the next one.  */
      if (n < 0)
        return;
      f->last_ms = now_ms ();
      reply_to (u, u->hs[f->host].fd, f, (size_t) n);
    }
}

static bool
same_local (const struct udp_local *a, const struct udp_local *b)
{
  if (a->family != b->family)
    return false;
  if (a->family == AF_INET)
    return a->v4.s_addr == b->v4.s_addr;
  return a->family == 0 || memcmp (&a->v6, &b->v6, sizeof a->v6) == 0;
}

static bool
same_peer (const struct udp_flow *f, size_t host,
           const struct sockaddr_storage *peer, socklen_t len,
           const struct udp_local *local)
{
  return f->host == host && f->peer_len == len
         && memcmp (&f->peer, peer, len) == 0 && same_local (&f->local, local);
}

/* The flow of PEER to LOCAL on host H: found, or made (the least recently
   used one makes room when there are too many); NULL when no socket can
   be made.  */
static struct udp_flow *
flow_get (struct ports_udp *u, struct monitor_ports *p, size_t h,
          const struct sockaddr_storage *peer, socklen_t len,
          const struct udp_local *local)
{
  for (size_t i = 0; i < u->n_fs; i++)
    if (same_peer (&u->fs[i], h, peer, len, local))
      return &u->fs[i];
  int fd = ports_container_socket (p, SOCK_DGRAM);
  if (fd < 0)
    return NULL;
  struct sockaddr_in sa = { .sin_family = AF_INET,
                            .sin_port = htons (u->hs[h].cport),
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      close (fd);
      return NULL;
    }
  if (u->n_fs == PORTS_UDP_FLOWS_MAX)
    {
      size_t lru = 0;
      for (size_t i = 1; i < u->n_fs; i++)
        if (u->fs[i].last_ms < u->fs[lru].last_ms)
          lru = i;
      flow_drop (u, lru);
    }
  u->fs = xrealloc (u->fs, (u->n_fs + 1) * sizeof *u->fs);
  struct udp_flow *f = &u->fs[u->n_fs++];
  *f = (struct udp_flow) { .peer_len = len, .local = *local, .host = h,
                           .fd = fd };
  memcpy (&f->peer, peer, len);
  return f;
}

/* Datagrams that came to host socket H, each to its flow.  */
static void
host_datagrams (struct ports_udp *u, struct monitor_ports *p, size_t h)
{
  for (int k = 0; k < DGRAMS_PER_ROUND; k++)
    {
      struct sockaddr_storage peer;
      struct iovec iov = { .iov_base = u->buf, .iov_len = DGRAM_MAX };
      union pktinfo_cmsg c;
      struct msghdr mh = { .msg_name = &peer, .msg_namelen = sizeof peer,
                           .msg_iov = &iov, .msg_iovlen = 1,
                           .msg_control = c.buf,
                           .msg_controllen = sizeof c.buf };
      ssize_t n = recvmsg (u->hs[h].fd, &mh, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return;
      struct udp_local local = local_of (&mh);
      struct udp_flow *f = flow_get (u, p, h, &peer, mh.msg_namelen, &local);
      if (f == NULL)
        continue;  /* dropped */
      f->last_ms = now_ms ();
      (void) send (f->fd, u->buf, (size_t) n, MSG_DONTWAIT);
    }
}

void
ports_udp_handle (struct ports_udp *u, struct monitor_ports *p,
                  const struct cove_net_pollset *ps)
{
  if (u->n_hs == 0 || ps->n < u->base + u->n_hs + u->n_polled)
    return;
  if (u->buf == NULL)
    u->buf = xmalloc (DGRAM_MAX);
  const struct pollfd *f = ps->fds + u->base;
  /* Flows first: host datagrams may add flows or evict one, which moves
     them in fs.  */
  for (size_t i = 0; i < u->n_polled && i < u->n_fs; i++)
    if (f[u->n_hs + i].revents && u->fs[i].fd == f[u->n_hs + i].fd)
      flow_replies (u, i);
  for (size_t h = 0; h < u->n_hs; h++)
    if (f[h].revents & POLLIN)
      host_datagrams (u, p, h);
  int64_t now = now_ms ();
  for (size_t i = u->n_fs; i-- > 0;)
    if (now - u->fs[i].last_ms >= PORTS_UDP_IDLE_MS)
      flow_drop (u, i);
}
