/* The monitor's poll loop: the container's output to the log and the
   attached clients, the clients' input, signals and window sizes to the
   container, new clients on the attach socket, until the pidfd says the
   process exited; with --network slirp also libslirp's tap, sockets and
   timers.  One thread.  */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "pkg/ctrlog/ctrlog.h"
#include "pkg/monitor/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* One packet buffer: the monitor is single-threaded.  */
static char packet[COVE_MONITOR_PACKET_MAX];

/* A client that does not take a packet for this long is dropped, so that
   one stuck terminal cannot stall the container for ever.  */
#define CLIENT_SEND_TIMEOUT_S 10

void
monitor_client_add (struct monitor *m, int fd)
{
  if (m->n_clients == MONITOR_MAX_CLIENTS)
    {
      close (fd);
      return;
    }
  struct timeval tv = { .tv_sec = CLIENT_SEND_TIMEOUT_S };
  (void) setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  (void) fcntl (fd, F_SETFD, FD_CLOEXEC);
  m->clients[m->n_clients++] = fd;
}

static void
client_drop (struct monitor *m, size_t i)
{
  close (m->clients[i]);
  m->clients[i] = m->clients[--m->n_clients];
}

/* Close every client gracefully: a unix socket closed with unread data
   (a window size, a signal the client sent as the container ended) makes
   the peer's recv fail with ECONNRESET before it reads what we sent last,
   the exit status.  So: no more writes, then read until each client has
   closed (it does on the exit packet), for a second at most.  */
void
monitor_clients_close (struct monitor *m)
{
  char buf[COVE_MONITOR_PACKET_MAX];
  for (size_t i = 0; i < m->n_clients; i++)
    (void) shutdown (m->clients[i], SHUT_WR);
  struct timespec start;
  clock_gettime (CLOCK_MONOTONIC, &start);
  while (m->n_clients > 0)
    {
      struct pollfd p[MONITOR_MAX_CLIENTS];
      for (size_t i = 0; i < m->n_clients; i++)
        p[i] = (struct pollfd) { .fd = m->clients[i], .events = POLLIN };
      struct timespec now;
      clock_gettime (CLOCK_MONOTONIC, &now);
      long left = 1000 - ((now.tv_sec - start.tv_sec) * 1000
                          + (now.tv_nsec - start.tv_nsec) / 1000000);
      if (left <= 0 || poll (p, m->n_clients, (int) left) <= 0)
        break;
      for (size_t i = m->n_clients; i-- > 0;)
        {
          if (!p[i].revents)
            continue;
          ssize_t n = recv (m->clients[i], buf, sizeof buf, MSG_DONTWAIT);
          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            client_drop (m, i);
        }
    }
  while (m->n_clients > 0)
    client_drop (m, m->n_clients - 1);
}

void
monitor_broadcast (struct monitor *m, char type, const void *data, size_t len)
{
  if (len > sizeof packet - 1)
    len = sizeof packet - 1;
  packet[0] = type;
  memcpy (packet + 1, data, len);
  for (size_t i = m->n_clients; i-- > 0;)
    if (send (m->clients[i], packet, len + 1, MSG_NOSIGNAL) < 0)
      client_drop (m, i);
}

int
monitor_listen (struct monitor *m, struct cove_error **err)
{
  if (cove_mkdir_p (m->runtime_dir, 0700, err) < 0)
    return -1;
  if (mkdir (m->run_dir, 0700) < 0 && errno != EEXIST)
    return cove_error_set (err, errno, "mkdir `%s`", m->run_dir);
  /* sun_path holds 108 bytes; a long XDG_RUNTIME_DIR would not fit, so the
     socket is named through an fd of its directory.  */
  cleanup_close int dfd = open (m->run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return cove_error_set (err, errno, "open `%s`", m->run_dir);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf (sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/attach", dfd);
  (void) unlink (sa.sun_path);
  int fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return cove_error_set (err, errno, "socket");
  if (bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen (fd, 16) < 0)
    {
      int e = errno;
      close (fd);
      return cove_error_set (err, e, "listen on `%s/attach`", m->run_dir);
    }
  m->listen_fd = fd;
  return 0;
}

/* Output of STREAM (1, 2) from FD: to the log and the clients.  Returns
   false at EOF or when nothing more is there now.  */
static bool
pump_output (struct monitor *m, int *fd, int stream)
{
  ssize_t n = read (*fd, packet + 1, sizeof packet - 1);
  if (n < 0 && errno == EINTR)
    return true;
  if (n <= 0)
    {
      /* EIO from a pty master: every slave is closed.  */
      if (n == 0 || errno != EAGAIN)
        {
          if (*fd != m->proc.console_fd)
            close (*fd);
          *fd = -1;
        }
      return false;
    }
  if (m->log)
    (void) cove_ctrlog_write (m->log, stream, packet + 1, (size_t) n, NULL);
  char type = stream == 1 ? COVE_ATTACH_STDOUT : COVE_ATTACH_STDERR;
  /* monitor_broadcast copies within packet: memmove-safe by offset 1.  */
  packet[0] = type;
  for (size_t i = m->n_clients; i-- > 0;)
    if (send (m->clients[i], packet, (size_t) n + 1, MSG_NOSIGNAL) < 0)
      client_drop (m, i);
  return true;
}

static void
flush_stdin (struct monitor *m)
{
  while (m->in_len > 0 && m->in_fd >= 0)
    {
      ssize_t n = write (m->in_fd, m->in_buf + m->in_off, m->in_len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0)
        {
          /* The container closed its stdin: what is left is dropped.  */
          m->in_len = 0;
          return;
        }
      m->in_off += (size_t) n;
      m->in_len -= (size_t) n;
    }
}

static void
close_stdin (struct monitor *m)
{
  if (m->in_fd >= 0 && !m->tty)
    {
      close (m->in_fd);
      m->in_fd = -1;
    }
}

/* One packet from client I.  */
static void
client_packet (struct monitor *m, size_t i)
{
  char buf[COVE_MONITOR_PACKET_MAX + 1];
  ssize_t n = recv (m->clients[i], buf, sizeof buf - 1, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      client_drop (m, i);
      return;
    }
  buf[n] = '\0';
  switch (buf[0])
    {
    case COVE_ATTACH_STDIN:
      if (m->in_fd >= 0 && n > 1)
        {
          if (m->in_buf == NULL)
            m->in_buf = xmalloc (COVE_MONITOR_PACKET_MAX);
          memcpy (m->in_buf, buf + 1, (size_t) n - 1);
          m->in_len = (size_t) n - 1;
          m->in_off = 0;
          flush_stdin (m);
        }
      break;
    case COVE_ATTACH_CLOSE_STDIN:
      close_stdin (m);
      break;
    case COVE_ATTACH_RESIZE:
      {
        unsigned rows, cols;
        if (m->tty && m->proc.console_fd >= 0
            && sscanf (buf + 1, "%u %u", &rows, &cols) == 2)
          (void) ioctl (m->proc.console_fd, TIOCSWINSZ,
                        &(struct winsize) { .ws_row = (unsigned short) rows,
                                            .ws_col = (unsigned short) cols });
        break;
      }
    case COVE_ATTACH_SIGNAL:
      {
        char *end;
        long sig = strtol (buf + 1, &end, 10);
        if (end != buf + 1 && *end == '\0' && sig > 0 && sig < NSIG
            && m->proc.pidfd >= 0)
          (void) pidfd_send_signal (m->proc.pidfd, (int) sig, NULL, 0);
        break;
      }
    default:
      break;  /* unknown: a newer client; ignored */
    }
}

static void
accept_clients (struct monitor *m)
{
  for (;;)
    {
      int fd = accept4 (m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (fd < 0)
        return;
      monitor_client_add (m, fd);
    }
}

static int
reap (struct monitor *m, int *out_status, struct cove_error **err)
{
  siginfo_t info = { 0 };
  while (waitid ((idtype_t) P_PIDFD, m->proc.pidfd, &info, WEXITED) < 0)
    if (errno != EINTR)
      return cove_error_set (err, errno, "wait for the container");
  if (info.si_code == CLD_EXITED)
    *out_status = info.si_status & 0xff;
  else
    *out_status = 128 + info.si_status;
  return 0;
}

enum { SLOT_PID, SLOT_OUT, SLOT_ERR, SLOT_IN, SLOT_LISTEN, SLOT_CLIENTS };

/* The poll set of one round: our fds at the SLOT_ indexes, then slirp's
   (the tap and its sockets); *TIMEOUT_MS the next of slirp's timers.  */
static void
fill_pollset (struct monitor *m, int *timeout_ms)
{
  struct cove_net_pollset *ps = &m->ps;
  ps->n = 0;
  cove_net_pollset_add (ps, m->proc.pidfd, POLLIN);
  cove_net_pollset_add (ps, m->out_fd, POLLIN);
  cove_net_pollset_add (ps, m->err_fd, POLLIN);
  cove_net_pollset_add (ps, m->in_len ? m->in_fd : -1, POLLOUT);
  cove_net_pollset_add (ps, m->listen_fd, POLLIN);
  /* While stdin bytes wait, clients are not read: back-pressure.  */
  for (size_t i = 0; i < m->n_clients; i++)
    cove_net_pollset_add (ps, m->clients[i], m->in_len ? 0 : POLLIN);
  *timeout_ms = -1;
  monitor_ports_fill (m, ps, timeout_ms);
  if (m->slirp)
    cove_net_slirp_fill (m->slirp, ps, timeout_ms);
}

int
monitor_loop (struct monitor *m, int *out_status, struct cove_error **err)
{
  for (;;)
    {
      int timeout_ms;
      size_t nc = m->n_clients;
      fill_pollset (m, &timeout_ms);
      int r = poll (m->ps.fds, m->ps.n, timeout_ms);
      if (r < 0 && errno != EINTR)
        return cove_error_set (err, errno, "poll");
      if (m->slirp)
        cove_net_slirp_handle (m->slirp, &m->ps, r < 0);
      if (r < 0)
        continue;
      struct pollfd *p = m->ps.fds;
      if (p[SLOT_OUT].revents)
        pump_output (m, &m->out_fd, 1);
      if (p[SLOT_ERR].revents)
        pump_output (m, &m->err_fd, 2);
      if (p[SLOT_IN].revents)
        flush_stdin (m);
      for (size_t i = nc; i-- > 0;)
        if (p[SLOT_CLIENTS + i].revents && i < m->n_clients
            && m->clients[i] == p[SLOT_CLIENTS + i].fd)
          client_packet (m, i);
      if (p[SLOT_LISTEN].revents)
        accept_clients (m);
      monitor_ports_handle (m, &m->ps);
      if (p[SLOT_PID].revents)
        break;
    }
  /* The process is gone, and with its pid namespace every writer of its
     pipes: what they wrote is all there, read it to the end.  */
  while (m->out_fd >= 0 && pump_output (m, &m->out_fd, 1))
    ;
  while (m->err_fd >= 0 && pump_output (m, &m->err_fd, 2))
    ;
  return reap (m, out_status, err);
}
