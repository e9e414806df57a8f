/* cove top: the processes of a running container, read from /proc.

   A process belongs to the container when it is in the pid namespace of
   the container's init (or, for a container sharing the caller's pid
   namespace, in its mount namespace).  Everything under /proc/PID is
   written by the kernel but describes processes the container controls
   (its command line, its name): parsed defensively.  A process that exits
   while it is read is skipped.  */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cove/top.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#define PROC_FILE_MAX (256 * 1024)

static int
ns_of (pid_t pid, const char *ns, struct stat *out)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/ns/%s", (int) pid, ns);
  return stat (path, out);
}

static char *
proc_read (pid_t pid, const char *name, size_t *out_len)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/%s", (int) pid, name);
  return cove_file_read_at (AT_FDCWD, path, PROC_FILE_MAX, out_len, NULL);
}

/* Control characters of S (set by the container: a command line can
   hold escape sequences aimed at the user's terminal) become '?'.  */
static void
sanitize (char *s)
{
  for (; *s; s++)
    if ((unsigned char) *s < 0x20 || *s == 0x7f)
      *s = '?';
}

/* The fields of /proc/PID/stat after the command name, which is in
   parentheses and may itself hold spaces and parentheses: it ends at the
   last ')'.  */
static int
parse_stat (char *text, struct cove_top_proc *p, pid_t *out_ppid,
            pid_t *out_pgid)
{
  char *open = strchr (text, '(');
  char *close = strrchr (text, ')');
  if (open == NULL || close == NULL || close < open || close[1] != ' ')
    return -1;
  p->comm = xstrndup (open + 1, (size_t) (close - open - 1));
  sanitize (p->comm);
  long long ppid, pgid, tty, nice;
  unsigned long long utime, stime, start, vsize;
  long long rss;
  /* Fields 3 (state) to 24 (rss); %*s skips those not shown.  */
  int n = sscanf (close + 2,
                  "%c %lld %lld %*s %lld %*s %*s %*s %*s %*s %*s %llu %llu "
                  "%*s %*s %*s %lld %*s %*s %llu %llu %lld",
                  &p->state, &ppid, &pgid, &tty, &utime, &stime, &nice,
                  &start, &vsize, &rss);
  if (n != 10)
    return -1;
  *out_ppid = (pid_t) ppid;
  *out_pgid = (pid_t) pgid;
  p->tty_nr = (int) tty;
  p->utime = utime;
  p->stime = stime;
  p->nice = (int) nice;
  p->start = start;
  p->vsz_kb = vsize / 1024;
  p->rss_kb = rss > 0 ? (unsigned long long) rss * (unsigned long long) sysconf (_SC_PAGESIZE) / 1024 : 0;
  return 0;
}

static const char *
status_field (const char *status, const char *key)
{
  size_t klen = strlen (key);
  for (const char *l = status; l && *l; l = strchr (l, '\n') ? strchr (l, '\n') + 1 : NULL)
    if (strncmp (l, key, klen) == 0 && l[klen] == ':')
      return l + klen + 1;
  return NULL;
}

/* The last number of NSpid: the pid as the innermost namespace sees it.  */
static pid_t
innermost_pid (const char *nspid)
{
  long last = -1;
  while (nspid && *nspid && *nspid != '\n')
    {
      char *end;
      long v = strtol (nspid, &end, 10);
      if (end == nspid)
        break;
      last = v;
      nspid = end;
    }
  return (pid_t) last;
}

static int
parse_status (const char *status, struct cove_top_proc *p)
{
  const char *u = status_field (status, "Uid");
  const char *g = status_field (status, "Gid");
  unsigned ru, eu, rg, eg;
  if (u == NULL || g == NULL || sscanf (u, "%u %u", &ru, &eu) != 2
      || sscanf (g, "%u %u", &rg, &eg) != 2)
    return -1;
  p->ruid = ru;
  p->euid = eu;
  p->rgid = rg;
  p->egid = eg;
  p->pid = innermost_pid (status_field (status, "NSpid"));
  const char *sc = status_field (status, "Seccomp");
  p->seccomp = sc ? (int) strtol (sc, NULL, 10) : 0;
  static const char *const capkeys[COVE_TOP_CAP_N] = { "CapInh", "CapPrm", "CapEff",
                                                       "CapBnd", "CapAmb" };
  for (int i = 0; i < COVE_TOP_CAP_N; i++)
    {
      const char *c = status_field (status, capkeys[i]);
      p->caps[i] = c ? strtoull (c, NULL, 16) : 0;
    }
  return p->pid > 0 ? 0 : -1;
}

/* The command line, NULs as spaces (each argument followed by one, as
   psgo shows it); a process without one (a zombie) shows [comm].  */
static char *
read_args (pid_t pid, const char *comm)
{
  size_t len = 0;
  char *cmd = proc_read (pid, "cmdline", &len);
  if (cmd == NULL || len == 0)
    {
      free (cmd);
      return xasprintf ("[%s]", comm);
    }
  for (size_t i = 0; i < len; i++)
    if (cmd[i] == '\0' || cmd[i] == '\n' || cmd[i] == '\t')
      cmd[i] = ' ';
  sanitize (cmd);
  return cmd;
}

/* Read process HPID; false when it is gone (or unreadable).  */
static bool
read_proc (pid_t hpid, struct cove_top_proc *p, pid_t *out_hppid,
           pid_t *out_hpgid)
{
  memset (p, 0, sizeof *p);
  p->hpid = hpid;
  cleanup_free char *stat = proc_read (hpid, "stat", NULL);
  cleanup_free char *status = proc_read (hpid, "status", NULL);
  if (stat == NULL || status == NULL
      || parse_stat (stat, p, out_hppid, out_hpgid) < 0
      || parse_status (status, p) < 0)
    {
      free (p->comm);
      return false;
    }
  p->args = read_args (hpid, p->comm);
  return true;
}

static bool
same_ns (const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The namespace that tells the container's processes: its pid namespace,
   or its mount namespace when it shares ours.  */
static int
member_key (pid_t init, const char **out_ns, struct stat *out,
            struct cove_error **err)
{
  struct stat mine;
  *out_ns = "pid";
  if (ns_of (init, "pid", out) < 0)
    return cove_error_set (err, errno, "namespace of process %d", (int) init);
  if (ns_of (getpid (), "pid", &mine) == 0 && same_ns (&mine, out))
    {
      *out_ns = "mnt";
      if (ns_of (init, "mnt", out) < 0)
        return cove_error_set (err, errno, "namespace of process %d", (int) init);
    }
  return 0;
}

static int
by_pid (const void *a, const void *b)
{
  const struct cove_top_proc *x = a, *y = b;
  return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Host pids to the container's: 0 for a process outside (the init's
   parent).  */
static pid_t
inner_of (const struct cove_top_proc *v, size_t n, pid_t hpid)
{
  for (size_t i = 0; i < n; i++)
    if (v[i].hpid == hpid)
      return v[i].pid;
  return 0;
}

static void
collect (DIR *d, const char *ns, const struct stat *key,
         struct cove_top_proc **v, pid_t **hrel, size_t *n)
{
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    {
      char *end;
      long hpid = strtol (e->d_name, &end, 10);
      struct stat st;
      if (*end != '\0' || hpid <= 0 || ns_of ((pid_t) hpid, ns, &st) < 0
          || !same_ns (&st, key))
        continue;
      *v = xrealloc (*v, (*n + 1) * sizeof **v);
      *hrel = xrealloc (*hrel, (*n + 1) * 2 * sizeof **hrel);
      if (read_proc ((pid_t) hpid, &(*v)[*n], &(*hrel)[2 * *n],
                     &(*hrel)[2 * *n + 1]))
        (*n)++;
    }
}

int
cove_top_list (pid_t init, struct cove_top_proc **out, size_t *out_n,
               struct cove_error **err)
{
  const char *ns;
  struct stat key;
  if (member_key (init, &ns, &key, err) < 0)
    return -1;
  cleanup_dir DIR *d = opendir ("/proc");
  if (d == NULL)
    return cove_error_set (err, errno, "open `/proc`");
  struct cove_top_proc *v = NULL;
  cleanup_free pid_t *hrel = NULL;  /* host ppid, pgid of each */
  size_t n = 0;
  collect (d, ns, &key, &v, &hrel, &n);
  for (size_t i = 0; i < n; i++)
    {
      v[i].ppid = inner_of (v, n, hrel[2 * i]);
      v[i].pgid = inner_of (v, n, hrel[2 * i + 1]);
    }
  qsort (v, n, sizeof *v, by_pid);
  *out = v;
  *out_n = n;
  return 0;
}

void
cove_top_list_free (struct cove_top_proc *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (v[i].comm);
      free (v[i].args);
    }
  free (v);
}

/* Go's time.Duration.String, which podman prints: "0s", "15ms",
   "4.817573263s", "2m3.5s", "1h0m0s".  */
char *
cove_top_duration (long long ns)
{
  if (ns <= 0)
    return xstrdup ("0s");
  char frac[16] = "";
  if (ns < 1000)
    return xasprintf ("%lldns", ns);
  if (ns < 1000000000LL)
    {
      long long unit = ns < 1000000 ? 1000 : 1000000;
      snprintf (frac, sizeof frac, ".%0*lld", unit == 1000 ? 3 : 6, ns % unit);
      for (size_t l = strlen (frac); l > 0 && (frac[l - 1] == '0' || frac[l - 1] == '.'); l--)
        frac[l - 1] = '\0';
      return xasprintf ("%lld%s%s", ns / unit, frac, unit == 1000 ? "µs" : "ms");
    }
  long long s = ns / 1000000000LL, h = s / 3600, m = s / 60 % 60;
  snprintf (frac, sizeof frac, ".%09lld", ns % 1000000000LL);
  for (size_t l = strlen (frac); l > 0 && (frac[l - 1] == '0' || frac[l - 1] == '.'); l--)
    frac[l - 1] = '\0';
  if (h)
    return xasprintf ("%lldh%lldm%lld%ss", h, m, s % 60, frac);
  if (m)
    return xasprintf ("%lldm%lld%ss", m, s % 60, frac);
  return xasprintf ("%lld%ss", s % 60, frac);
}
