/* libslirp in the monitor: user-mode NAT for the container's tap device.
   libslirp 4.7 needs glib, whose load and constructors would cost every
   `cove` command start-up time; so the library is opened here, the first
   time a container asks for it, and its functions are looked up by name.  */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <slirp/libslirp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/net.h"
#include "pkg/util/xalloc.h"

#define SLIRP_SONAME "libslirp.so.0"
/* Frames read from the tap per poll round, so that a busy container does
   not starve the monitor's other work.  */
#define TAP_READS_MAX 64

static struct
{
  bool loaded;
  Slirp *(*new) (const SlirpConfig *, const SlirpCb *, void *);
  void (*cleanup) (Slirp *);
  void (*fill) (Slirp *, uint32_t *, SlirpAddPollCb, void *);
  void (*poll) (Slirp *, int, SlirpGetREventsCb, void *);
  void (*input) (Slirp *, const uint8_t *, int);
  int (*add_hostxfwd) (Slirp *, const struct sockaddr *, socklen_t,
                       const struct sockaddr *, socklen_t, int);
} lib;

struct net_timer
{
  struct net_timer *next;
  SlirpTimerCb cb;
  void *cb_opaque;
  int64_t expire_ms;          /* -1: not armed */
};

struct cove_net_slirp
{
  Slirp *slirp;
  int tap_fd;
  size_t tap_slot;            /* index of the tap in the poll set */
  struct cove_net_pollset *ps;  /* during fill and handle */
  struct net_timer *timers;
  uint8_t *frame;             /* one frame from the tap */
  size_t frame_len;
  struct in_addr guest4;      /* the container's addresses, for -p */
  bool ipv6;
};

static int
load (struct cove_error **err)
{
  if (lib.loaded)
    return 0;
  void *h = dlopen (SLIRP_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL)
    return cove_error_set (err, ENOSYS, "cannot load %s (install libslirp0): %s",
                           SLIRP_SONAME, dlerror ());
  /* POSIX's way to turn the void * of dlsym into a function pointer.  */
  *(void **) &lib.new = dlsym (h, "slirp_new");
  *(void **) &lib.cleanup = dlsym (h, "slirp_cleanup");
  *(void **) &lib.fill = dlsym (h, "slirp_pollfds_fill");
  *(void **) &lib.poll = dlsym (h, "slirp_pollfds_poll");
  *(void **) &lib.input = dlsym (h, "slirp_input");
  *(void **) &lib.add_hostxfwd = dlsym (h, "slirp_add_hostxfwd");
  if (!lib.new || !lib.cleanup || !lib.fill || !lib.poll || !lib.input
      || !lib.add_hostxfwd)
    return cove_error_set (err, ENOSYS, "%s lacks a function cove needs",
                           SLIRP_SONAME);
  /* Never closed: glib does not support being unloaded.  */
  lib.loaded = true;
  return 0;
}

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- slirp's callbacks ---- */

static ssize_t
cb_send_packet (const void *buf, size_t len, void *opaque)
{
  struct cove_net_slirp *s = opaque;
  ssize_t n;
  do
    n = write (s->tap_fd, buf, len);
  while (n < 0 && errno == EINTR);
  /* EAGAIN: the container's queue is full; the frame is lost as on a
     real link, and TCP resends it.  */
  return n;
}

static void
cb_guest_error (const char *msg, void *opaque)
{
  (void) msg;
  (void) opaque;
}

static int64_t
cb_clock_get_ns (void *opaque)
{
  (void) opaque;
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *
cb_timer_new (SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
  struct cove_net_slirp *s = opaque;
  struct net_timer *t = xmalloc0 (sizeof *t);
  t->cb = cb;
  t->cb_opaque = cb_opaque;
  t->expire_ms = -1;
  t->next = s->timers;
  s->timers = t;
  return t;
}

static void
cb_timer_free (void *timer, void *opaque)
{
  struct cove_net_slirp *s = opaque;
  for (struct net_timer **p = &s->timers; *p; p = &(*p)->next)
    if (*p == timer)
      {
        *p = (*p)->next;
        free (timer);
        return;
      }
}

/* EXPIRE_MS is on the clock of cb_clock_get_ns, in milliseconds.  */
static void
cb_timer_mod (void *timer, int64_t expire_ms, void *opaque)
{
  (void) opaque;
  ((struct net_timer *) timer)->expire_ms = expire_ms;
}

static void
cb_poll_fd (int fd, void *opaque)
{
  (void) fd;
  (void) opaque;
}

static void
cb_notify (void *opaque)
{
  (void) opaque;
}

static const SlirpCb callbacks = {
  .send_packet = cb_send_packet,
  .guest_error = cb_guest_error,
  .clock_get_ns = cb_clock_get_ns,
  .timer_new = cb_timer_new,
  .timer_free = cb_timer_free,
  .timer_mod = cb_timer_mod,
  .register_poll_fd = cb_poll_fd,
  .unregister_poll_fd = cb_poll_fd,
  .notify = cb_notify,
};

/* ---- the poll set ---- */

size_t
cove_net_pollset_add (struct cove_net_pollset *ps, int fd, short events)
{
  if (ps->n == ps->cap)
    {
      ps->cap = ps->cap ? ps->cap * 2 : 16;
      ps->fds = xrealloc (ps->fds, ps->cap * sizeof *ps->fds);
    }
  ps->fds[ps->n] = (struct pollfd) { .fd = fd, .events = events };
  return ps->n++;
}

void
cove_net_pollset_free (struct cove_net_pollset *ps)
{
  free (ps->fds);
  *ps = (struct cove_net_pollset) { 0 };
}

static int
cb_add_poll (int fd, int events, void *opaque)
{
  struct cove_net_slirp *s = opaque;
  short ev = 0;
  ev |= (events & SLIRP_POLL_IN) ? POLLIN : 0;
  ev |= (events & SLIRP_POLL_OUT) ? POLLOUT : 0;
  ev |= (events & SLIRP_POLL_PRI) ? POLLPRI : 0;
  ev |= (events & SLIRP_POLL_ERR) ? POLLERR : 0;
  ev |= (events & SLIRP_POLL_HUP) ? POLLHUP : 0;
  return (int) cove_net_pollset_add (s->ps, fd, ev);
}

static int
cb_get_revents (int idx, void *opaque)
{
  struct cove_net_slirp *s = opaque;
  if (idx < 0 || (size_t) idx >= s->ps->n)
    return 0;
  short r = s->ps->fds[idx].revents;
  int ev = 0;
  ev |= (r & POLLIN) ? SLIRP_POLL_IN : 0;
  ev |= (r & POLLOUT) ? SLIRP_POLL_OUT : 0;
  ev |= (r & POLLPRI) ? SLIRP_POLL_PRI : 0;
  ev |= (r & POLLERR) ? SLIRP_POLL_ERR : 0;
  ev |= (r & POLLHUP) ? SLIRP_POLL_HUP : 0;
  return ev;
}

/* ---- the instance ---- */

static void
slirp_config (const struct cove_net_slirp_options *o, SlirpConfig *c,
              struct sockaddr_in *out4, struct sockaddr_in6 *out6)
{
  memset (c, 0, sizeof *c);
  c->version = 4;
  c->restricted = 0;
  c->in_enabled = true;
  c->vnetwork = o->net;
  c->vnetmask.s_addr = htonl (0xffffffffu << (32 - o->prefix));
  c->vhost = cove_net_slirp_addr4 (o, 2);
  c->vnameserver = cove_net_slirp_addr4 (o, 3);
  c->vdhcp_start = cove_net_slirp_addr4 (o, 15);
  c->in6_enabled = o->ipv6;
  c->vprefix_addr6 = cove_net_slirp_addr6 (0);
  c->vprefix_len = 64;
  c->vhost6 = cove_net_slirp_addr6 (2);
  c->vnameserver6 = cove_net_slirp_addr6 (3);
  c->if_mtu = o->mtu;
  c->if_mru = o->mtu;
  c->disable_host_loopback = !o->allow_host_loopback;
  c->enable_emu = false;
  if (o->outbound_family == AF_INET)
    {
      *out4 = (struct sockaddr_in) { .sin_family = AF_INET, .sin_addr = o->outbound4 };
      c->outbound_addr = out4;
    }
  else if (o->outbound_family == AF_INET6)
    {
      *out6 = (struct sockaddr_in6) { .sin6_family = AF_INET6,
                                      .sin6_addr = o->outbound6 };
      c->outbound_addr6 = out6;
    }
}

struct cove_net_slirp *
cove_net_slirp_new (int tap_fd, const struct cove_net_slirp_options *o,
                    struct cove_error **err)
{
  if (load (err) < 0)
    {
      close (tap_fd);
      return NULL;
    }
  struct cove_net_slirp *s = xmalloc0 (sizeof *s);
  s->tap_fd = tap_fd;
  SlirpConfig c;
  struct sockaddr_in out4;
  struct sockaddr_in6 out6;
  slirp_config (o, &c, &out4, &out6);
  s->slirp = lib.new (&c, &callbacks, s);
  if (s->slirp == NULL)
    {
      cove_error_set (err, EINVAL, "cannot set up libslirp");
      cove_net_slirp_free (s);
      return NULL;
    }
  /* An Ethernet header (and a VLAN tag) around an MTU of payload.  */
  s->frame_len = o->mtu + 18;
  s->frame = xmalloc (s->frame_len);
  s->guest4 = cove_net_slirp_addr4 (o, 100);
  s->ipv6 = o->ipv6;
  return s;
}

int
cove_net_slirp_forward (struct cove_net_slirp *s, bool udp, const char *host_ip,
                        uint16_t host_port, uint16_t guest_port,
                        struct cove_error **err)
{
  struct sockaddr_in h4 = { .sin_family = AF_INET, .sin_port = htons (host_port) };
  struct sockaddr_in6 h6 = { .sin6_family = AF_INET6, .sin6_port = htons (host_port) };
  struct sockaddr_in g4 = { .sin_family = AF_INET, .sin_port = htons (guest_port),
                            .sin_addr = s->guest4 };
  struct sockaddr_in6 g6 = { .sin6_family = AF_INET6, .sin6_port = htons (guest_port),
                             .sin6_addr = cove_net_slirp_addr6 (0x100) };
  bool v6 = strchr (host_ip, ':') != NULL;
  if (v6 ? inet_pton (AF_INET6, host_ip, &h6.sin6_addr) != 1 || !s->ipv6
         : host_ip[0] && inet_pton (AF_INET, host_ip, &h4.sin_addr) != 1)
    return cove_error_set_plain (err, EINVAL, "cannot forward %s to the "
                                 "container with slirp", host_ip);
  int flags = (udp ? SLIRP_HOSTFWD_UDP : 0) | (v6 ? SLIRP_HOSTFWD_V6ONLY : 0);
  int r = v6 ? lib.add_hostxfwd (s->slirp, (struct sockaddr *) &h6, sizeof h6,
                                 (struct sockaddr *) &g6, sizeof g6, flags)
             : lib.add_hostxfwd (s->slirp, (struct sockaddr *) &h4, sizeof h4,
                                 (struct sockaddr *) &g4, sizeof g4, flags);
  /* libslirp says no more than -1; binding is what fails in practice.  */
  if (r < 0)
    return cove_error_set_plain (err, 0, "cannot listen on the %s port %u: "
                                 "address already in use (slirp port handler)",
                                 udp ? "UDP" : "TCP", (unsigned) host_port);
  return 0;
}

void
cove_net_slirp_free (struct cove_net_slirp *s)
{
  if (s == NULL)
    return;
  if (s->slirp)
    lib.cleanup (s->slirp);  /* frees its timers through cb_timer_free */
  while (s->timers)
    {
      struct net_timer *t = s->timers;
      s->timers = t->next;
      free (t);
    }
  if (s->tap_fd >= 0)
    close (s->tap_fd);
  free (s->frame);
  free (s);
}

void
cove_net_slirp_fill (struct cove_net_slirp *s, struct cove_net_pollset *ps,
                     int *timeout_ms)
{
  s->ps = ps;
  s->tap_slot = cove_net_pollset_add (ps, s->tap_fd, POLLIN);
  uint32_t t = *timeout_ms < 0 ? UINT32_MAX : (uint32_t) *timeout_ms;
  lib.fill (s->slirp, &t, cb_add_poll, s);
  int64_t now = now_ms ();
  for (struct net_timer *tm = s->timers; tm; tm = tm->next)
    if (tm->expire_ms >= 0)
      {
        int64_t left = tm->expire_ms > now ? tm->expire_ms - now : 0;
        if (left < (int64_t) t)
          t = (uint32_t) left;
      }
  *timeout_ms = t >= (uint32_t) INT32_MAX ? -1 : (int) t;
}

static void
read_tap (struct cove_net_slirp *s)
{
  for (int i = 0; i < TAP_READS_MAX; i++)
    {
      ssize_t n = read (s->tap_fd, s->frame, s->frame_len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      /* The container's frame (untrusted): libslirp parses it.  */
      lib.input (s->slirp, s->frame, (int) n);
    }
}

/* A timer's callback may arm or free timers: restart the scan after each.  */
static void
run_timers (struct cove_net_slirp *s)
{
  int64_t now = now_ms ();
  bool fired = true;
  while (fired)
    {
      fired = false;
      for (struct net_timer *t = s->timers; t; t = t->next)
        if (t->expire_ms >= 0 && t->expire_ms <= now)
          {
            t->expire_ms = -1;
            t->cb (t->cb_opaque);
            fired = true;
            break;
          }
    }
}

void
cove_net_slirp_handle (struct cove_net_slirp *s,
                       const struct cove_net_pollset *ps, bool poll_failed)
{
  /* cb_get_revents reads through s->ps; const only for the caller.  */
  s->ps = (struct cove_net_pollset *) ps;
  if (!poll_failed && s->tap_slot < ps->n && ps->fds[s->tap_slot].revents)
    read_tap (s);
  lib.poll (s->slirp, poll_failed ? 1 : 0, cb_get_revents, s);
  run_timers (s);
  s->ps = NULL;
}
