/* cove_runtime_wait: relay the console and signals until the container's
   first process exits.  Runs in the caller (cove's process, in the user
   namespace but not in the container's other namespaces).  One poll loop,
   no timers: it wakes only for the pidfd, a signal, or terminal I/O.  */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "pkg/runtime/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* Forwarded to the container with sig_proxy (as podman does).  SIGTSTP,
   SIGTTIN and SIGTTOU stop cove itself; SIGCHLD, SIGPIPE and SIGURG are
   about cove's own children, pipes and sockets.  */
static const int proxied_signals[] = {
  SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGCONT,
  SIGPWR, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ,
};

struct relay
{
  int pidfd;
  int console;          /* pty master, -1 without a terminal */
  int sfd;              /* signalfd, -1 when no signal is caught */
  bool sig_proxy;
  bool stdin_open;
  bool console_open;
  char buf[4096];       /* stdin data not yet written to the master */
  size_t len;
  size_t off;
};

int
runtime_exit_status (const siginfo_t *info)
{
  if (info->si_code == CLD_EXITED)
    return info->si_status & 0xff;
  if (info->si_code == CLD_KILLED || info->si_code == CLD_DUMPED)
    return 128 + info->si_status;
  return 125;
}

static void
copy_winsize (int console)
{
  struct winsize ws;
  if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) == 0
      || ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
    (void) ioctl (console, TIOCSWINSZ, &ws);
}

static void
handle_signals (struct relay *r)
{
  struct signalfd_siginfo si;
  while (read (r->sfd, &si, sizeof si) == (ssize_t) sizeof si)
    {
      if ((int) si.ssi_signo == SIGWINCH)
        {
          if (r->console >= 0)
            copy_winsize (r->console);
        }
      else if (r->sig_proxy)
        /* ESRCH: it is exiting; the pidfd says so next.  */
        (void) pidfd_send_signal (r->pidfd, (int) si.ssi_signo, NULL, 0);
    }
}

/* Container output to our stdout.  Returns false once the pty is closed
   or would block.  Errors writing stdout drop the output: the container
   keeps running, as it would with its stdout closed.  */
static bool
relay_output (struct relay *r)
{
  char buf[16384];
  ssize_t n = read (r->console, buf, sizeof buf);
  if (n < 0 && errno == EINTR)
    return true;
  if (n <= 0)
    {
      /* EIO: every slave fd is closed.  EAGAIN: nothing more for now.  */
      if (n == 0 || errno != EAGAIN)
        r->console_open = false;
      return false;
    }
  (void) cove_write_all (STDOUT_FILENO, buf, (size_t) n, NULL);
  return true;
}

static void
relay_input (struct relay *r, short revents)
{
  if (r->len == 0 && (revents & (POLLIN | POLLHUP | POLLERR)))
    {
      ssize_t n = read (STDIN_FILENO, r->buf, sizeof r->buf);
      if (n > 0)
        {
          r->len = (size_t) n;
          r->off = 0;
        }
      else if (n == 0 || (errno != EINTR && errno != EAGAIN))
        /* EOF: stop reading; the container runs on.  */
        r->stdin_open = false;
    }
  if (r->len > 0)
    {
      ssize_t n = write (r->console, r->buf + r->off, r->len);
      if (n > 0)
        {
          r->off += (size_t) n;
          r->len -= (size_t) n;
        }
      else if (n < 0 && errno != EAGAIN && errno != EINTR)
        r->len = 0;
    }
}

/* Poll until the pidfd is readable (the process exited).  */
static int
relay_loop (struct relay *r, struct cove_error **err)
{
  for (;;)
    {
      bool want_in = r->console_open && r->stdin_open && r->len == 0;
      struct pollfd p[4] = {
        { .fd = r->pidfd, .events = POLLIN },
        { .fd = r->sfd, .events = POLLIN },
        { .fd = want_in ? STDIN_FILENO : -1, .events = POLLIN },
        { .fd = r->console_open ? r->console : -1,
          .events = POLLIN | (r->len > 0 ? POLLOUT : 0) },
      };
      if (poll (p, 4, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return cove_error_set (err, errno, "poll");
        }
      if (p[0].revents)
        return 0;
      if (p[1].revents)
        handle_signals (r);
      if (p[3].revents & (POLLIN | POLLHUP | POLLERR))
        relay_output (r);
      if (p[2].revents || (p[3].revents & POLLOUT))
        relay_input (r, p[2].revents);
    }
}

static int
block_signals (struct relay *r, sigset_t *old, struct cove_error **err)
{
  sigset_t set;
  sigemptyset (&set);
  if (r->sig_proxy)
    for (size_t i = 0; i < sizeof proxied_signals / sizeof proxied_signals[0]; i++)
      sigaddset (&set, proxied_signals[i]);
  if (r->console >= 0)
    sigaddset (&set, SIGWINCH);
  /* Blocked so that they queue on the signalfd instead of acting on cove.  */
  int e = pthread_sigmask (SIG_BLOCK, &set, old);
  if (e != 0)
    return cove_error_set (err, e, "block signals");
  r->sfd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (r->sfd < 0)
    {
      e = errno;
      pthread_sigmask (SIG_SETMASK, old, NULL);
      return cove_error_set (err, e, "signalfd");
    }
  return 0;
}

static int
wait_exit (int pidfd, int *out_status, struct cove_error **err)
{
  siginfo_t info = { 0 };
  while (waitid ((idtype_t) P_PIDFD, pidfd, &info, WEXITED) < 0)
    if (errno != EINTR)
      return cove_error_set (err, errno, "wait for container process");
  *out_status = runtime_exit_status (&info);
  return 0;
}

static int
run_relay (struct relay *r, struct cove_error **err)
{
  struct termios saved;
  bool raw = r->console >= 0 && tcgetattr (STDIN_FILENO, &saved) == 0;
  if (raw)
    {
      struct termios t = saved;
      cfmakeraw (&t);
      raw = tcsetattr (STDIN_FILENO, TCSANOW, &t) == 0;
    }
  if (r->console >= 0)
    {
      copy_winsize (r->console);
      (void) fcntl (r->console, F_SETFL, fcntl (r->console, F_GETFL) | O_NONBLOCK);
    }
  int ret = relay_loop (r, err);
  /* What the process wrote before exiting may still be in the pty.  */
  while (ret == 0 && r->console_open && relay_output (r))
    ;
  if (raw)
    (void) tcsetattr (STDIN_FILENO, TCSADRAIN, &saved);
  return ret;
}

int
cove_runtime_wait (struct cove_runtime_process *proc, bool sig_proxy,
                   int *out_status, struct cove_error **err)
{
  struct relay r = { .pidfd = proc->pidfd, .console = proc->console_fd,
                     .sfd = -1, .sig_proxy = sig_proxy, .stdin_open = true,
                     .console_open = proc->console_fd >= 0 };
  *out_status = 125;
  int ret = 0;
  if (sig_proxy || r.console >= 0)
    {
      sigset_t old;
      ret = block_signals (&r, &old, err);
      if (ret == 0)
        {
          ret = run_relay (&r, err);
          /* Drop what was caught but not forwarded: unblocked, it would
             act on cove after the container is gone.  */
          handle_signals (&(struct relay) { .pidfd = -1, .sfd = r.sfd });
          close (r.sfd);
          pthread_sigmask (SIG_SETMASK, &old, NULL);
        }
    }
  if (ret == 0)
    ret = wait_exit (proc->pidfd, out_status, err);
  else
    {
      /* The relay failed: nobody would follow the container any more.  */
      int ignored;
      (void) pidfd_send_signal (proc->pidfd, SIGKILL, NULL, 0);
      (void) wait_exit (proc->pidfd, &ignored, NULL);
    }
  close (proc->pidfd);
  proc->pidfd = -1;
  if (proc->console_fd >= 0)
    close (proc->console_fd);
  proc->console_fd = -1;
  if (proc->tap_fd >= 0)
    close (proc->tap_fd);
  proc->tap_fd = -1;
  return ret;
}
