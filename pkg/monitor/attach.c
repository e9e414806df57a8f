/* The client side of the attach socket: a foreground `cove run`, `cove
   attach` and `cove start -a` relay their terminal through it.  */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "pkg/monitor/monitor.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

/* Forwarded with --sig-proxy, as podman does (see pkg/runtime/wait.c).  */
static const int proxied_signals[] = {
  SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGCONT,
  SIGPWR, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ,
};

int
cove_monitor_connect (const char *runtime_dir, const char *id,
                      struct cove_error **err)
{
  cleanup_free char *dir = xasprintf ("%s/%s", runtime_dir, id);
  cleanup_close int dfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return cove_error_set (err, errno, "attach to %.12s", id);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf (sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/attach", dfd);
  int fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return cove_error_set (err, errno, "socket");
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      int e = errno;
      close (fd);
      return cove_error_set (err, e, "attach to %.12s", id);
    }
  return fd;
}

int
cove_monitor_detach_keys (const char *spec, unsigned char *out, size_t max,
                          struct cove_error **err)
{
  size_t n = 0;
  const char *p = spec;
  while (*p)
    {
      const char *end = strchr (p, ',');
      size_t len = end ? (size_t) (end - p) : strlen (p);
      int c = -1;
      if (len == 1)
        c = (unsigned char) p[0];
      else if (len == 6 && strncmp (p, "ctrl-", 5) == 0)
        {
          int k = tolower ((unsigned char) p[5]);
          if (k >= 'a' && k <= 'z')
            c = k - 'a' + 1;
          else if (strchr ("@[\\]^_", k))
            c = k == '@' ? 0 : k - '[' + 27;
        }
      if (c < 0 || n == max)
        return cove_error_set (err, EINVAL, "invalid detach keys `%s`", spec);
      out[n++] = (unsigned char) c;
      p += len;
      if (*p == ',')
        p++;
    }
  return (int) n;
}

struct client
{
  int sock;
  int sfd;
  bool stdin_open;
  bool tty;
  unsigned char keys[16];
  size_t n_keys;
  size_t matched;       /* detach keys seen so far, held back */
  int status;           /* -2 running, -1 detached, else the exit status */
};

static void
send_packet (int sock, char type, const void *data, size_t len)
{
  char buf[COVE_MONITOR_PACKET_MAX];
  if (len > sizeof buf - 1)
    len = sizeof buf - 1;
  buf[0] = type;
  memcpy (buf + 1, data, len);
  (void) send (sock, buf, len + 1, MSG_NOSIGNAL);
}

static void
send_winsize (struct client *c)
{
  struct winsize ws;
  if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) < 0
      && ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
    return;
  char text[32];
  int n = snprintf (text, sizeof text, "%u %u", ws.ws_row, ws.ws_col);
  send_packet (c->sock, COVE_ATTACH_RESIZE, text, (size_t) n);
}

/* Our stdin to the container; the detach keys (with a tty) end the
   attachment instead: a partial match is held back until it fails.  */
static void
relay_stdin (struct client *c)
{
  unsigned char in[8192], out[8192 + 16];
  ssize_t n = read (STDIN_FILENO, in, sizeof in);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0)
    {
      c->stdin_open = false;
      send_packet (c->sock, COVE_ATTACH_CLOSE_STDIN, NULL, 0);
      return;
    }
  size_t k = 0;
  for (ssize_t i = 0; i < n; i++)
    {
      if (c->tty && c->n_keys && in[i] == c->keys[c->matched])
        {
          if (++c->matched == c->n_keys)
            {
              c->status = -1;
              return;
            }
          continue;
        }
      /* A failed match: what was held back goes through after all.  */
      memcpy (out + k, c->keys, c->matched);
      k += c->matched;
      c->matched = 0;
      out[k++] = in[i];
    }
  if (k > 0)
    send_packet (c->sock, COVE_ATTACH_STDIN, out, k);
}

/* One packet from the monitor.  Returns false when the monitor is gone.  */
static bool
relay_packet (struct client *c)
{
  char buf[COVE_MONITOR_PACKET_MAX + 1];
  ssize_t n = recv (c->sock, buf, sizeof buf - 1, 0);
  if (n < 0 && errno == EINTR)
    return true;
  if (n <= 0)
    return false;
  buf[n] = '\0';
  if (buf[0] == COVE_ATTACH_STDOUT)
    (void) cove_write_all (STDOUT_FILENO, buf + 1, (size_t) n - 1, NULL);
  else if (buf[0] == COVE_ATTACH_STDERR)
    (void) cove_write_all (STDERR_FILENO, buf + 1, (size_t) n - 1, NULL);
  else if (buf[0] == COVE_ATTACH_EXIT)
    {
      char *end;
      long v = strtol (buf + 1, &end, 10);
      c->status = (end != buf + 1 && v >= 0 && v < 256) ? (int) v : 125;
    }
  return true;
}

static void
relay_signals (struct client *c)
{
  struct signalfd_siginfo si;
  while (read (c->sfd, &si, sizeof si) == (ssize_t) sizeof si)
    {
      if ((int) si.ssi_signo == SIGWINCH)
        send_winsize (c);
      else
        {
          char text[16];
          int n = snprintf (text, sizeof text, "%u", si.ssi_signo);
          send_packet (c->sock, COVE_ATTACH_SIGNAL, text, (size_t) n);
        }
    }
}

static int
relay_loop (struct client *c, struct cove_error **err)
{
  while (c->status == -2)
    {
      struct pollfd p[3] = {
        { .fd = c->sock, .events = POLLIN },
        { .fd = c->stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
        { .fd = c->sfd, .events = POLLIN },
      };
      if (poll (p, 3, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return cove_error_set (err, errno, "poll");
        }
      if (p[2].revents)
        relay_signals (c);
      if (p[1].revents)
        relay_stdin (c);
      if (p[0].revents && !relay_packet (c))
        return cove_error_set (err, EPIPE, "the container's monitor went "
                               "away without an exit status");
    }
  return 0;
}

static int
catch_signals (struct client *c, const struct cove_attach_options *o,
               sigset_t *old, struct cove_error **err)
{
  sigset_t set;
  sigemptyset (&set);
  if (o->sig_proxy)
    for (size_t i = 0; i < sizeof proxied_signals / sizeof proxied_signals[0]; i++)
      sigaddset (&set, proxied_signals[i]);
  if (o->tty)
    sigaddset (&set, SIGWINCH);
  int e = pthread_sigmask (SIG_BLOCK, &set, old);
  if (e != 0)
    return cove_error_set (err, e, "block signals");
  c->sfd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (c->sfd < 0)
    {
      e = errno;
      pthread_sigmask (SIG_SETMASK, old, NULL);
      return cove_error_set (err, e, "signalfd");
    }
  return 0;
}

int
cove_monitor_attach (int sock, const struct cove_attach_options *o,
                     int *out_status, struct cove_error **err)
{
  struct client c = { .sock = sock, .sfd = -1, .stdin_open = o->stdin,
                      .tty = o->tty, .status = -2 };
  *out_status = 125;
  int k = cove_monitor_detach_keys (o->detach_keys ? o->detach_keys
                                    : "ctrl-p,ctrl-q", c.keys,
                                    sizeof c.keys, err);
  if (k < 0)
    {
      close (sock);
      return -1;
    }
  c.n_keys = o->stdin ? (size_t) k : 0;
  sigset_t old;
  if (catch_signals (&c, o, &old, err) < 0)
    {
      close (sock);
      return -1;
    }
  struct termios saved;
  bool raw = o->tty && o->stdin && tcgetattr (STDIN_FILENO, &saved) == 0;
  if (raw)
    {
      struct termios t = saved;
      cfmakeraw (&t);
      raw = tcsetattr (STDIN_FILENO, TCSANOW, &t) == 0;
    }
  if (o->tty)
    send_winsize (&c);
  int r = relay_loop (&c, err);
  if (raw)
    (void) tcsetattr (STDIN_FILENO, TCSADRAIN, &saved);
  close (c.sfd);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  close (sock);
  if (r < 0)
    return -1;
  *out_status = c.status;
  return 0;
}
