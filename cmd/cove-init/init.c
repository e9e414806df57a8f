/* cove-init: the tiny init of `cove run --init`.  Runs as pid 1 of the
   container's pid namespace: starts the command (argv after `--`),
   forwards every signal it can catch to it, reaps every process that is
   reparented to it, and exits with the command's status (128+N when a
   signal N ended it) once the command is gone.

   Static and free of stdio: it is bind-mounted into containers whose
   rootfs may have no libc at all, and it should cost next to nothing in
   memory for as long as the container runs.  Its input (argv) is the
   container's configured command: it only execs it, as the runtime
   would have.

   `cove-init --pause` (also as `cove-init -- --pause`, how --init runs
   it) is the pause process of a pod's infra container: it runs nothing,
   reaps whatever is reparented to it, and exits 0 on SIGTERM or SIGINT.
   It only holds the pod's namespaces open for its members to join.  */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void
say (const char *a, const char *b, const char *c, const char *d)
{
  const char *parts[] = { "cove-init: ", a, b, c, d, "\n" };
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    if (parts[i] && write (2, parts[i], strlen (parts[i])) < 0)
      return;
}

/* In the child: a process group of its own that owns the terminal (as
   tini), so that the terminal's job-control signals reach the command
   once, not once from the terminal and once more from us.  Signals are
   still blocked here, so tcsetpgrp from what is now a background group
   raises no SIGTTOU.  */
static void
exec_command (char **argv, const sigset_t *saved)
{
  (void) setpgid (0, 0);
  if (isatty (0))
    (void) tcsetpgrp (0, getpgrp ());
  sigprocmask (SIG_SETMASK, saved, NULL);
  execvp (argv[0], argv);
  int e = errno;
  say ("exec `", argv[0], "`: ", strerror (e));
  _exit (e == ENOENT ? 127 : 126);
}

/* Reap every child that has ended; returns true once CHILD is one of
   them, with its status in *STATUS.  */
static int
reap (pid_t child, int *status)
{
  int found = 0;
  for (;;)
    {
      int st;
      pid_t p = waitpid (-1, &st, WNOHANG);
      if (p < 0 && errno == EINTR)
        continue;
      if (p <= 0)
        return found;
      if (p == child)
        {
          found = 1;
          *status = WIFEXITED (st) ? WEXITSTATUS (st)
                    : WIFSIGNALED (st) ? 128 + WTERMSIG (st) : 125;
        }
    }
}

/* The infra container's process: every signal blocked and taken with
   sigwaitinfo (as pid 1 it gets only those it handles).  */
static int
pause_forever (void)
{
  sigset_t all;
  sigfillset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  for (;;)
    {
      siginfo_t info;
      int sig = sigwaitinfo (&all, &info);
      if (sig == SIGTERM || sig == SIGINT)
        return 0;
      if (sig == SIGCHLD)
        while (waitpid (-1, NULL, WNOHANG) > 0)
          ;
    }
}

int
main (int argc, char **argv)
{
  int first = 1;
  if (argc > 1 && strcmp (argv[1], "--") == 0)
    first = 2;
  if (first + 1 == argc && strcmp (argv[first], "--pause") == 0)
    return pause_forever ();
  if (first >= argc)
    {
      say ("usage: cove-init -- COMMAND [ARG...]", NULL, NULL, NULL);
      return 125;
    }
  /* Every signal is blocked and taken with sigwaitinfo: a pid 1 gets
     only the signals it handles, and blocked ones count as handled.  */
  sigset_t all, saved;
  sigfillset (&all);
  sigprocmask (SIG_SETMASK, &all, &saved);
  pid_t child = fork ();
  if (child < 0)
    {
      say ("fork: ", strerror (errno), NULL, NULL);
      return 125;
    }
  if (child == 0)
    exec_command (argv + first, &saved);
  int status = 125;
  for (;;)
    {
      siginfo_t info;
      int sig = sigwaitinfo (&all, &info);
      if (sig < 0)
        continue;
      if (sig == SIGCHLD)
        {
          if (reap (child, &status))
            return status;
          continue;
        }
      /* Forwarded to the command alone; what it does with it (or what
         its own children get) is its business.  */
      (void) kill (child, sig);
    }
}
