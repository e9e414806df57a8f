#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pkg/util/signals.h"

static const struct
{
  const char *name;
  int sig;
} signals[] = {
  { "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
  { "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
  { "IOT", SIGIOT }, { "BUS", SIGBUS }, { "FPE", SIGFPE },
  { "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },
  { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },
  { "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },
  { "CLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
  { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
  { "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
  { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
  { "IO", SIGIO }, { "POLL", SIGPOLL }, { "PWR", SIGPWR },
  { "SYS", SIGSYS },
};

static int
parse_number (const char *s, long *out)
{
  if (!isdigit ((unsigned char) s[0]))
    return -1;
  char *end;
  errno = 0;
  long v = strtol (s, &end, 10);
  if (errno || *end != '\0')
    return -1;
  *out = v;
  return 0;
}

/* "RTMIN", "RTMIN+N", "RTMAX", "RTMAX-N" (after any SIG prefix).  */
static int
parse_rt (const char *s, long *out)
{
  long base, n = 0;
  int sign;
  if (strncasecmp (s, "RTMIN", 5) == 0)
    base = SIGRTMIN, sign = 1;
  else if (strncasecmp (s, "RTMAX", 5) == 0)
    base = SIGRTMAX, sign = -1;
  else
    return -1;
  s += 5;
  if (*s != '\0')
    {
      if (*s != (sign > 0 ? '+' : '-') || parse_number (s + 1, &n) < 0)
        return -1;
    }
  *out = base + sign * n;
  return 0;
}

int
cove_signal_parse (const char *s, int *out, struct cove_error **err)
{
  long v = -1;
  const char *name = strncasecmp (s, "SIG", 3) == 0 ? s + 3 : s;
  if (parse_number (s, &v) < 0 && parse_rt (name, &v) < 0)
    {
      v = -1;
      for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (strcasecmp (name, signals[i].name) == 0)
          v = signals[i].sig;
    }
  if (v < 1 || v > SIGRTMAX)
    return cove_error_set (err, EINVAL, "invalid signal: %s", s);
  *out = (int) v;
  return 0;
}

const char *
cove_signal_name (int sig)
{
  static const char *const named[] = {
    [SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT",
    [SIGILL] = "SIGILL", [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
    [SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE", [SIGKILL] = "SIGKILL",
    [SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
    [SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
    [SIGSTKFLT] = "SIGSTKFLT", [SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",
    [SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP", [SIGTTIN] = "SIGTTIN",
    [SIGTTOU] = "SIGTTOU", [SIGURG] = "SIGURG", [SIGXCPU] = "SIGXCPU",
    [SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",
    [SIGWINCH] = "SIGWINCH", [SIGIO] = "SIGIO", [SIGPWR] = "SIGPWR",
    [SIGSYS] = "SIGSYS",
  };
  static __thread char buf[24];
  if (sig > 0 && (size_t) sig < sizeof named / sizeof named[0] && named[sig])
    return named[sig];
  if (sig >= SIGRTMIN && sig <= SIGRTMAX)
    {
      snprintf (buf, sizeof buf, "SIGRTMIN+%d", sig - SIGRTMIN);
      return buf;
    }
  return NULL;
}
