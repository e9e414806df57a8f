/* cove top: podman's `top`, the processes of a running container in the
   columns of its format descriptors (psgo's: ps(1)'s names and AIX
   codes), laid out as podman's tabwriter does.  Descriptors it does not
   know are handed to the container's own ps(1), as podman does.  */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcmd.h"
#include "cmd/cove/ctrops.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "cmd/cove/top.h"
#include "pkg/runtime/runtime.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

enum { OPT_HELP = 1, OPT_LATEST };

static const struct cove_opt top_opts[] = {
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for top" },
  { "latest", 'l', COVE_OPT_BOOL, OPT_LATEST, NULL, "Act on the latest container cove is aware of" },
  { NULL, 0, 0, 0, NULL, NULL },
};

static const char top_usage[] = "cove top [options] CONTAINER [FORMAT-DESCRIPTORS|ARGS...]";
static const char top_desc[]
    = "Display the running processes of a container.\n\n"
      "  The top command extends the ps(1) compatible AIX descriptors with "
      "container-specific ones.";

/* What every column may need, read once.  */
struct top_ctx
{
  char *passwd;         /* the container's /etc/passwd (untrusted) */
  char *group;
  char *uid_map;        /* /proc/self/uid_map: ids to the host's */
  char *gid_map;
  long long now_ns;     /* CLOCK_BOOTTIME, as /proc's start times */
  long hz;
};

/* The columns, one per descriptor.  */
enum column
{
  COL_ARGS, COL_CAPAMB, COL_CAPBND, COL_CAPEFF, COL_CAPINH, COL_CAPPRM,
  COL_COMM, COL_ETIME, COL_GROUP, COL_HGROUP, COL_HPID, COL_HUSER, COL_NICE,
  COL_PCPU, COL_PGID, COL_PID, COL_PPID, COL_RGROUP, COL_RSS, COL_RUSER,
  COL_SECCOMP, COL_STATE, COL_STIME, COL_TIME, COL_TTY, COL_USER, COL_VSZ,
};

struct descriptor
{
  const char *name;
  const char *aix;      /* NULL when none */
  const char *header;
  enum column col;
};

static long long
elapsed_ns (const struct cove_top_proc *p, const struct top_ctx *x)
{
  return x->now_ns - (long long) (p->start * (1000000000ULL / (unsigned long long) x->hz));
}

static long long
cpu_ns (const struct cove_top_proc *p, const struct top_ctx *x)
{
  return (long long) ((p->utime + p->stime) * (1000000000ULL / (unsigned long long) x->hz));
}

/* The host's id of ID through MAP (uid_map lines: inside outside count).  */
static char *
host_id (const char *map, unsigned id)
{
  for (const char *l = map; l && *l; l = strchr (l, '\n') ? strchr (l, '\n') + 1 : NULL)
    {
      unsigned long long in, out, count;
      if (sscanf (l, "%llu %llu %llu", &in, &out, &count) == 3 && id >= in
          && id - in < count)
        return xasprintf ("%llu", out + (id - in));
    }
  return xstrdup ("?");
}

static char *
col_pcpu (const struct cove_top_proc *p, const struct top_ctx *x)
{
  long long e = elapsed_ns (p, x);
  return xasprintf ("%.3f", e > 0 ? 100.0 * (double) cpu_ns (p, x) / (double) e : 0.0);
}

static char *
col_stime (const struct cove_top_proc *p, const struct top_ctx *x)
{
  time_t t = time (NULL) - (time_t) (elapsed_ns (p, x) / 1000000000LL);
  struct tm tm;
  char buf[64];
  if (localtime_r (&t, &tm) == NULL
      || strftime (buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z %Z", &tm) == 0)
    return xstrdup ("?");
  return xstrdup (buf);
}

/* The terminal's name from its device number: the container's ptys are
   pts/N, as psgo shows them; no terminal is "?".  */
static char *
col_tty (const struct cove_top_proc *p)
{
  unsigned major = ((unsigned) p->tty_nr >> 8) & 0xfff;
  unsigned minor = ((unsigned) p->tty_nr & 0xff) | (((unsigned) p->tty_nr >> 12) & 0xfff00);
  if (p->tty_nr == 0)
    return xstrdup ("?");
  if (major >= 136 && major <= 143)
    return xasprintf ("pts/%u", (major - 136) * 256 + minor);
  if (major == 4 && minor < 64)
    return xasprintf ("tty%u", minor);
  return xstrdup ("?");
}

static char *
col_seccomp (const struct cove_top_proc *p)
{
  static const char *const modes[] = { "disabled", "strict", "filter" };
  return xstrdup (p->seccomp >= 0 && p->seccomp <= 2 ? modes[p->seccomp] : "?");
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* psgo's capability lists: "none", "full", or the names without CAP_ in
   alphabetical order.  */
static char *
caps_string (uint64_t set)
{
  int last = (int) cap_max_bits ();
  uint64_t full = last >= 64 ? UINT64_MAX : (UINT64_C (1) << last) - 1;
  if (set == 0)
    return xstrdup ("none");
  if ((set & full) == full)
    return xstrdup ("full");
  cleanup_strv char **names = NULL;
  for (int cap = 0; cap < 64; cap++)
    if (set & (UINT64_C (1) << cap))
      {
        char *name = cap_to_name (cap);
        const char *n = name && strncasecmp (name, "cap_", 4) == 0 ? name + 4 : name;
        /* Sorted as podman shows them: upper case ('_' after 'L').  */
        char *up = xstrdup (n ? n : "?");
        for (char *c = up; *c; c++)
          if (*c >= 'a' && *c <= 'z')
            *c = (char) (*c - 'a' + 'A');
        cove_strv_append (&names, up);
        free (up);
        cap_free (name);
      }
  size_t n = cove_strv_len (names);
  qsort (names, n, sizeof *names, cmp_str);
  size_t len = 1;
  for (size_t i = 0; i < n; i++)
    len += strlen (names[i]) + 1;
  char *out = xmalloc0 (len);
  for (size_t i = 0, off = 0; i < n; i++)
    {
      for (const char *c = names[i]; *c; c++)
        out[off++] = *c;
      if (i + 1 < n)
        out[off++] = ',';
    }
  return out;
}

/* The value of column C for P; caller frees.  */
static char *
column_value (enum column c, const struct cove_top_proc *p,
              const struct top_ctx *x)
{
  switch (c)
    {
    case COL_ARGS: return xstrdup (p->args);
    case COL_CAPAMB: return caps_string (p->caps[COVE_TOP_CAP_AMB]);
    case COL_CAPBND: return caps_string (p->caps[COVE_TOP_CAP_BND]);
    case COL_CAPEFF: return caps_string (p->caps[COVE_TOP_CAP_EFF]);
    case COL_CAPINH: return caps_string (p->caps[COVE_TOP_CAP_INH]);
    case COL_CAPPRM: return caps_string (p->caps[COVE_TOP_CAP_PRM]);
    case COL_COMM: return xstrdup (p->comm);
    case COL_ETIME: return cove_top_duration (elapsed_ns (p, x));
    case COL_GROUP: return cove_runtime_iddb_name (x->group, p->egid);
    case COL_HGROUP: return host_id (x->gid_map, p->egid);
    case COL_HPID: return xasprintf ("%d", (int) p->hpid);
    case COL_HUSER: return host_id (x->uid_map, p->euid);
    case COL_NICE: return xasprintf ("%d", p->nice);
    case COL_PCPU: return col_pcpu (p, x);
    case COL_PGID: return xasprintf ("%d", (int) p->pgid);
    case COL_PID: return xasprintf ("%d", (int) p->pid);
    case COL_PPID: return xasprintf ("%d", (int) p->ppid);
    case COL_RGROUP: return cove_runtime_iddb_name (x->group, p->rgid);
    case COL_RSS: return xasprintf ("%llu", p->rss_kb);
    case COL_RUSER: return cove_runtime_iddb_name (x->passwd, p->ruid);
    case COL_SECCOMP: return col_seccomp (p);
    case COL_STATE: return xasprintf ("%c", p->state);
    case COL_STIME: return col_stime (p, x);
    case COL_TIME: return cove_top_duration (cpu_ns (p, x));
    case COL_TTY: return col_tty (p);
    case COL_USER: return cove_runtime_iddb_name (x->passwd, p->euid);
    case COL_VSZ: return xasprintf ("%llu", p->vsz_kb);
    }
  return xstrdup ("?");
}

static const struct descriptor descriptors[] = {
  { "args", "%a", "COMMAND", COL_ARGS },
  { "capamb", NULL, "AMBIENT CAPS", COL_CAPAMB },
  { "capbnd", NULL, "BOUNDING CAPS", COL_CAPBND },
  { "capeff", NULL, "EFFECTIVE CAPS", COL_CAPEFF },
  { "capinh", NULL, "INHERITED CAPS", COL_CAPINH },
  { "capprm", NULL, "PERMITTED CAPS", COL_CAPPRM },
  { "comm", "%c", "COMMAND", COL_COMM },
  { "etime", "%t", "ELAPSED", COL_ETIME },
  { "group", "%G", "GROUP", COL_GROUP },
  { "hgroup", NULL, "HGROUP", COL_HGROUP },
  { "hpid", NULL, "HPID", COL_HPID },
  { "huser", NULL, "HUSER", COL_HUSER },
  { "nice", "%n", "NI", COL_NICE },
  { "pcpu", "%C", "%CPU", COL_PCPU },
  { "pgid", "%r", "PGID", COL_PGID },
  { "pid", "%p", "PID", COL_PID },
  { "ppid", "%P", "PPID", COL_PPID },
  { "rgroup", "%g", "RGROUP", COL_RGROUP },
  { "rss", NULL, "RSS", COL_RSS },
  { "ruser", "%u", "RUSER", COL_RUSER },
  { "seccomp", NULL, "SECCOMP", COL_SECCOMP },
  { "state", NULL, "STATE", COL_STATE },
  { "stime", NULL, "STIME", COL_STIME },
  { "time", "%x", "TIME", COL_TIME },
  { "tty", "%y", "TTY", COL_TTY },
  { "user", "%U", "USER", COL_USER },
  { "vsz", "%z", "VSZ", COL_VSZ },
};

#define N_DESCRIPTORS (sizeof descriptors / sizeof descriptors[0])

static const char *const default_descriptors[]
    = { "user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args", NULL };

static const struct descriptor *
find_descriptor (const char *s)
{
  for (size_t i = 0; i < N_DESCRIPTORS; i++)
    if (strcmp (s, descriptors[i].name) == 0
        || (descriptors[i].aix && strcmp (s, descriptors[i].aix) == 0))
      return &descriptors[i];
  return NULL;
}

/* ARGS (comma-separated lists, or none for podman's defaults) to
   descriptors; NULL with *OUT_UNKNOWN the first unknown one.  */
static const struct descriptor **
parse_descriptors (char **args, size_t *out_n, char **out_unknown)
{
  cleanup_strv char **words = NULL;
  for (size_t i = 0; args[i]; i++)
    {
      cleanup_free char *copy = xstrdup (args[i]);
      for (char *w = copy, *next; w; w = next)
        {
          next = strchr (w, ',');
          if (next)
            *next++ = '\0';
          if (*w)
            cove_strv_append (&words, w);
        }
    }
  if (words == NULL)
    words = cove_strv_dup ((char *const *) default_descriptors);
  size_t n = cove_strv_len (words);
  const struct descriptor **v = xmalloc0 ((n + 1) * sizeof *v);
  for (size_t i = 0; i < n; i++)
    if ((v[i] = find_descriptor (words[i])) == NULL)
      {
        *out_unknown = xstrdup (words[i]);
        free (v);
        return NULL;
      }
  *out_n = n;
  return v;
}

/* podman's tabwriter (minwidth 12, padding 2): every column but the last
   as wide as its widest cell plus 2, at least 12.  */
static void
print_table (char ***rows, size_t nrows, size_t ncols)
{
  size_t *w = xmalloc0 (ncols * sizeof *w);
  for (size_t r = 0; r < nrows; r++)
    for (size_t c = 0; c < ncols; c++)
      if (strlen (rows[r][c]) + 2 > w[c])
        w[c] = strlen (rows[r][c]) + 2;
  for (size_t r = 0; r < nrows; r++)
    {
      for (size_t c = 0; c + 1 < ncols; c++)
        printf ("%-*s", (int) (w[c] < 12 ? 12 : w[c]), rows[r][c]);
      printf ("%s\n", rows[r][ncols - 1]);
    }
  free (w);
}

static void
print_procs (const struct descriptor **d, size_t nd,
             const struct cove_top_proc *v, size_t n, const struct top_ctx *x)
{
  char ***rows = xmalloc0 ((n + 1) * sizeof *rows);
  for (size_t r = 0; r <= n; r++)
    {
      rows[r] = xmalloc0 ((nd + 1) * sizeof **rows);
      for (size_t c = 0; c < nd; c++)
        rows[r][c] = r == 0 ? xstrdup (d[c]->header) : column_value (d[c]->col, &v[r - 1], x);
    }
  print_table (rows, n + 1, nd);
  for (size_t r = 0; r <= n; r++)
    cove_strv_free (rows[r]);
  free (rows);
}

char *
cove_top_iddb (pid_t init, bool group, struct cove_error **err)
{
  cleanup_free char *root = xasprintf ("/proc/%d/root", (int) init);
  cleanup_close int rootfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    {
      cove_error_set (err, errno, "open `%s`", root);
      return NULL;
    }
  return cove_runtime_iddb_read (rootfd, group, err);
}

static int
ctx_init (struct top_ctx *x, pid_t init, struct cove_error **err)
{
  x->passwd = cove_top_iddb (init, false, err);
  x->group = x->passwd ? cove_top_iddb (init, true, err) : NULL;
  if (x->group == NULL)
    return -1;
  x->uid_map = cove_file_read_at (AT_FDCWD, "/proc/self/uid_map", 65536, NULL, NULL);
  x->gid_map = cove_file_read_at (AT_FDCWD, "/proc/self/gid_map", 65536, NULL, NULL);
  struct timespec ts;
  clock_gettime (CLOCK_BOOTTIME, &ts);
  x->now_ns = (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
  x->hz = sysconf (_SC_CLK_TCK);
  if (x->hz <= 0)
    x->hz = 100;
  return 0;
}

static void
ctx_free (struct top_ctx *x)
{
  free (x->passwd);
  free (x->group);
  free (x->uid_map);
  free (x->gid_map);
}

/* Descriptors psgo does not know (or ps(1) options such as -eo): the
   container's own `ps ARGS`, as podman does.  */
static int
run_ps (const struct cove_ctr_cmd *cc, const struct cove_state_container *c,
        int pidfd, char **args, const char *unknown, struct cove_error **err)
{
  cleanup_strv char **argv = NULL;
  cove_strv_append (&argv, "ps");
  for (size_t i = 0; args[i]; i++)
    cove_strv_append (&argv, args[i]);
  struct cove_runtime_exec_options o = { .init_pidfd = pidfd, .init_pid = c->pid,
                                         .args = argv };
  cleanup_free char *bundle = cove_ctr_dir (&cc->paths, c->id);
  struct cove_runtime_process proc;
  int status = 125;
  cleanup_close int null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null >= 0)
    dup2 (null, STDIN_FILENO);
  if (cove_runtime_exec (bundle, cc->paths.runtime_dir, &o, &proc, &status, err) < 0)
    {
      if (status != 127)
        return cove_error_wrap (err, "executing ps(1) in the container");
      cove_error_release (err);
      return cove_error_set_plain (err, EINVAL, "'%s': unknown descriptor", unknown);
    }
  if (cove_runtime_wait (&proc, true, &status, err) < 0)
    return -1;
  return status;
}

static int
top_of (const struct cove_ctr_cmd *cc, const struct cove_state_container *c,
        char **args, struct cove_error **err)
{
  cleanup_error struct cove_error *gone = NULL;
  cleanup_close int pidfd = c->state == COVE_STATE_RUNNING ? cove_ctr_pidfd (c, &gone) : -1;
  if (pidfd < 0)
    return cove_error_set_plain (err, EINVAL, "top can only be used on running "
                                 "containers");
  size_t nd = 0;
  cleanup_free char *unknown = NULL;
  cleanup_free const struct descriptor **d = parse_descriptors (args, &nd, &unknown);
  if (d == NULL)
    return run_ps (cc, c, pidfd, args, unknown, err);
  struct top_ctx x = { 0 };
  struct cove_top_proc *v = NULL;
  size_t n = 0;
  int r = ctx_init (&x, c->pid, err);
  if (r == 0)
    r = cove_top_list (c->pid, &v, &n, err);
  /* Still the same init: what was read is the container's.  */
  if (r == 0 && pidfd_send_signal (pidfd, 0, NULL, 0) < 0)
    r = cove_error_set_plain (err, ESRCH, "top can only be used on running "
                              "containers");
  if (r == 0)
    print_procs (d, nd, v, n, &x);
  cove_top_list_free (v, n);
  ctx_free (&x);
  return r;
}

int
cove_cmd_top (int argc, char **argv)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, top_opts, argc, argv, false);
  const char *v;
  int id;
  bool latest = false;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    {
      if (id == OPT_HELP)
        {
          cove_opts_print_help (stdout, top_usage, top_desc, top_opts);
          cove_opts_free (&p);
          return 0;
        }
      latest = strcmp (v, "true") == 0;
    }
  cleanup_free char **rest = cove_opts_rest (&p, NULL);
  cove_opts_free (&p);
  if (id < 0)
    return cove_cmd_fail (&err, 125);
  if (!latest && rest[0] == NULL)
    return cove_cmd_usage_error ("you must provide the name or id of a running "
                                 "container");
  struct cove_ctr_cmd cc;
  if (cove_ctr_cmd_open (&cc, true, &err) < 0)
    return cove_cmd_fail (&err, 125);
  cleanup_free char *last = latest ? cove_ctr_latest (&cc.st, &err) : NULL;
  struct cove_state_container c = { 0 };
  int r = -1;
  if ((last || !latest) && cove_ctr_load (&cc.st, last ? last : rest[0], &c, &err) == 0)
    {
      r = top_of (&cc, &c, latest ? rest : rest + 1, &err);
      cove_state_container_free (&c);
    }
  else if (err && err->errnum == ENOENT && !latest)
    cove_error_wrap (&err, "unable to look up requested container");
  cove_ctr_cmd_close (&cc);
  return r < 0 ? cove_cmd_fail (&err, 125) : r;
}
