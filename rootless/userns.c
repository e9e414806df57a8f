/* cove rootless: move the calling process into the user's user namespace.

   Deviation from DESIGN.md ("re-execute /proc/self/exe in a new user
   namespace"): cove is a single-threaded C program, so it joins the
   namespace itself and keeps its pid, terminal, signal dispositions and
   parsed state, without paying for a second exec.  The namespace is made by
   a short-lived "holder" child rather than by unshare() in the caller:

     1. fork the holder; it calls unshare (CLONE_NEWUSER) and says so;
     2. the caller, still in the host namespace, writes the holder's maps
        (newuidmap/newgidmap on its pid, or directly for the single
        mapping), which it may since it is the namespace's owner;
     3. the caller setns()es into the holder's namespace (the owner has
        CAP_SYS_ADMIN there) and becomes uid/gid 0 in it;
     4. the holder is told to exit and reaped.

   Until step 3 succeeds the caller is untouched, so every failure (no
   newuidmap, a range newuidmap refuses, ...) leaves the process as it was,
   in the host namespace, with nothing left running.  unshare() in the
   caller could not be undone once newuidmap failed.  */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "rootless/internal.h"

struct userns_plan
{
  uid_t uid;
  gid_t gid;
  bool single;                  /* no subids: map the user alone */
  struct cove_idmap uidmap;
  struct cove_idmap gidmap;
  char *newuidmap;              /* NULL when single */
  char *newgidmap;
};

static void
plan_clear (struct userns_plan *plan)
{
  free (plan->newuidmap);
  free (plan->newgidmap);
}

/* The value of a numeric sysctl, or -1 when it is missing (older or
   non-Debian kernels) or unreadable: then only unshare() can tell.  */
static long
read_sysctl (const char *path)
{
  cleanup_error struct cove_error *ignored = NULL;
  cleanup_free char *text = cove_file_read_at (AT_FDCWD, path, 64, NULL,
                                               &ignored);
  if (text == NULL)
    return -1;
  char *end = NULL;
  errno = 0;
  long v = strtol (text, &end, 10);
  if (errno != 0 || end == text)
    return -1;
  return v;
}

static int
check_sysctls (struct cove_error **err)
{
  if (read_sysctl ("/proc/sys/user/max_user_namespaces") == 0)
    return cove_error_set (err, EPERM, "user namespaces are disabled: "
                           "sysctl user.max_user_namespaces=0");
  if (read_sysctl ("/proc/sys/kernel/unprivileged_userns_clone") == 0)
    return cove_error_set (err, EPERM, "unprivileged user namespaces are "
                           "disabled: sysctl kernel.unprivileged_userns_clone=0");
  return 0;
}

static const char *
subid_path (const char *env, const char *fallback)
{
  /* Test hook, see rootless.h.  */
  const char *p = getenv (env);
  return p && *p ? p : fallback;
}

static void
warn_no_subids (const char *name, const char *kind, const char *path)
{
  fprintf (stderr, "WARN[0000] cannot find mappings for user %s: no %s ranges "
           "found for user \"%s\" in %s; add one with: usermod --add-subuids "
           "100000-165535 --add-subgids 100000-165535 %s\n",
           name, kind, name, path, name);
}

/* Read both files into PLAN.  ENOENT (file or entry missing) turns into the
   single mapping with a warning; other errors are returned.  */
static int
plan_subids (struct userns_plan *plan, struct cove_idmap *out_uids,
             struct cove_idmap *out_gids, struct cove_error **err)
{
  struct passwd *pw = getpwuid (plan->uid);
  cleanup_free char *name = pw ? xstrdup (pw->pw_name)
                               : xasprintf ("%u", (unsigned) plan->uid);
  const char *kinds[2] = { "subuid", "subgid" };
  const char *paths[2] = { subid_path ("COVE_SUBUID_FILE", "/etc/subuid"),
                           subid_path ("COVE_SUBGID_FILE", "/etc/subgid") };
  struct cove_idmap *outs[2] = { out_uids, out_gids };
  for (int i = 0; i < 2; i++)
    {
      cleanup_error struct cove_error *e = NULL;
      if (cove_rootless_read_subid (paths[i], name, plan->uid, outs[i], &e) == 0)
        continue;
      if (e->errnum != ENOENT)
        {
          *err = steal_pointer (&e);
          return cove_error_wrap (err, "read %s ranges", kinds[i]);
        }
      warn_no_subids (name, kinds[i], paths[i]);
      plan->single = true;
      return 0;
    }
  return 0;
}

static int
plan_make (struct userns_plan *plan, struct cove_error **err)
{
  *plan = (struct userns_plan) { .uid = getuid (), .gid = getgid () };
  struct cove_idmap uids = { 0 }, gids = { 0 };
  if (plan_subids (plan, &uids, &gids, err) < 0)
    return -1;
  if (plan->single)
    uids.n = gids.n = 0;
  cove_rootless_build_map (plan->uid, &uids, &plan->uidmap);
  cove_rootless_build_map (plan->gid, &gids, &plan->gidmap);
  if (plan->single)
    return 0;
  /* Found before the holder is forked: the usual failures cost nothing.  */
  plan->newuidmap = cove_rootless_find_idmap_tool ("newuidmap", err);
  if (plan->newuidmap == NULL)
    return -1;
  plan->newgidmap = cove_rootless_find_idmap_tool ("newgidmap", err);
  return plan->newgidmap ? 0 : -1;
}

struct holder
{
  pid_t pid;
  int ready_fd;     /* holder -> us: errno of its unshare(), 0 on success */
  int done_fd;      /* us -> holder: closed when it may exit */
};

/* Runs in the forked holder: never returns.  */
static void __attribute__ ((noreturn))
holder_main (int ready_fd, int done_fd)
{
  int32_t result = unshare (CLONE_NEWUSER) < 0 ? errno : 0;
  if (write (ready_fd, &result, sizeof result) != sizeof result || result)
    _exit (125);
  /* Stay alive (and so keep the namespace and /proc/PID) until the parent
     has joined; EOF also comes if the parent dies.  A byte asks for a pause
     process: a child of ours, in the namespace, that outlives us.  */
  char c;
  ssize_t n;
  while ((n = read (done_fd, &c, 1)) < 0 && errno == EINTR)
    ;
  if (n != 1)
    _exit (0);
  int32_t pid = fork ();
  if (pid == 0)
    cove_rootless_pause_main ();
  if (write (ready_fd, &pid, sizeof pid) != sizeof pid)
    _exit (125);
  _exit (0);
}

static int
holder_spawn (struct holder *h, struct cove_error **err)
{
  int ready[2], done[2];
  if (pipe2 (ready, O_CLOEXEC) < 0)
    return cove_error_set (err, errno, "pipe");
  if (pipe2 (done, O_CLOEXEC) < 0)
    {
      close (ready[0]);
      close (ready[1]);
      return cove_error_set (err, errno, "pipe");
    }
  h->pid = fork ();
  if (h->pid == 0)
    {
      close (ready[0]);
      close (done[1]);
      holder_main (ready[1], done[0]);
    }
  int saved = errno;
  close (ready[1]);
  close (done[0]);
  h->ready_fd = ready[0];
  h->done_fd = done[1];
  if (h->pid < 0)
    {
      close (h->ready_fd);
      close (h->done_fd);
      return cove_error_set (err, saved, "fork");
    }
  return 0;
}

/* Let the holder go, reap it.  Its status does not matter any more.  */
static void
holder_release (struct holder *h)
{
  close (h->done_fd);
  close (h->ready_fd);
  while (waitpid (h->pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

static int
holder_wait_ready (struct holder *h, struct cove_error **err)
{
  int32_t result;
  ssize_t n;
  while ((n = read (h->ready_fd, &result, sizeof result)) < 0 && errno == EINTR)
    ;
  if (n != sizeof result)
    return cove_error_set (err, n < 0 ? errno : EPROTO,
                           "create user namespace: helper process died");
  if (result == 0)
    return 0;
  if (result == EPERM
      && read_sysctl ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") > 0)
    return cove_error_set (err, result, "create user namespace (AppArmor "
                           "restricts it: sysctl "
                           "kernel.apparmor_restrict_unprivileged_userns=1)");
  return cove_error_set (err, result, "create user namespace");
}

static int
write_proc (pid_t pid, const char *file, const char *text,
            struct cove_error **err)
{
  cleanup_free char *path = xasprintf ("/proc/%d/%s", (int) pid, file);
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno, "open `%s`", path);
  if (cove_write_all (fd, text, strlen (text), err) < 0)
    return cove_error_wrap (err, "write `%s`", path);
  return 0;
}

/* newuidmap and newgidmap write different files of PID, so they run at
   the same time: each is a setuid exec costing milliseconds.  */
static int
run_idmap_tools (const struct userns_plan *plan, pid_t pid,
                 struct cove_error **err)
{
  struct cove_rootless_idmap_job uidjob, gidjob;
  if (cove_rootless_idmap_start (plan->newuidmap, pid, &plan->uidmap,
                                 &uidjob, err) < 0)
    return cove_error_wrap (err, "write id maps");
  cleanup_error struct cove_error *giderr = NULL;
  int gr = cove_rootless_idmap_start (plan->newgidmap, pid, &plan->gidmap,
                                      &gidjob, &giderr);
  int ur = cove_rootless_idmap_finish (&uidjob, err);
  if (gr == 0)
    gr = cove_rootless_idmap_finish (&gidjob, &giderr);
  /* The uid map's error first: when both fail it is the same cause.  */
  if (ur == 0 && gr < 0)
    *err = steal_pointer (&giderr);
  if (ur < 0 || gr < 0)
    return cove_error_wrap (err, "write id maps");
  return 0;
}

static int
write_maps (const struct userns_plan *plan, pid_t pid, struct cove_error **err)
{
  if (!plan->single)
    return run_idmap_tools (plan, pid, err);
  /* The owner may map its own ids alone; the gid map only once setgroups is
     denied (else a dropped group could be regained, user_namespaces(7)).  */
  cleanup_free char *uid_map = cove_rootless_map_format (&plan->uidmap);
  cleanup_free char *gid_map = cove_rootless_map_format (&plan->gidmap);
  if (write_proc (pid, "setgroups", "deny", err) < 0
      || write_proc (pid, "uid_map", uid_map, err) < 0
      || write_proc (pid, "gid_map", gid_map, err) < 0)
    return -1;
  return 0;
}

/* Join the user namespace open at NSFD and become uid/gid 0 there.  */
static int
join_fd (int nsfd, struct cove_error **err)
{
  if (setns (nsfd, CLONE_NEWUSER) < 0)
    return cove_error_set (err, errno, "join user namespace");
  /* Our own ids are mapped to 0 already; this also resets the saved ids.
     The kernel ids do not change, so the process stays dumpable and keeps
     its parent-death signal; cove_rootless_enter checks it all the same.  */
  if (setresgid (0, 0, 0) < 0)
    return cove_error_set (err, errno, "setresgid 0");
  if (setresuid (0, 0, 0) < 0)
    return cove_error_set (err, errno, "setresuid 0");
  return 0;
}

static int
join (pid_t pid, struct cove_error **err)
{
  cleanup_free char *path = xasprintf ("/proc/%d/ns/user", (int) pid);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno, "open `%s`", path);
  return join_fd (fd, err);
}

/* Ask the holder for a pause process and record it in DIR.  Best effort:
   without one the next command makes the namespace again.  */
static void
keep_pause (struct holder *h, const char *dir)
{
  int32_t pid;
  ssize_t n;
  if (write (h->done_fd, "p", 1) != 1)
    return;
  while ((n = read (h->ready_fd, &pid, sizeof pid)) < 0 && errno == EINTR)
    ;
  if (n != sizeof pid || pid <= 0)
    return;
  cleanup_error struct cove_error *ignored = NULL;
  if (cove_rootless_pause_record (dir, pid, &ignored) < 0)
    kill (pid, SIGKILL);
}

static int
enter_namespace (const struct userns_plan *plan, const char *pause_dir,
                 struct cove_error **err)
{
  struct holder h = { .pid = -1, .ready_fd = -1, .done_fd = -1 };
  if (holder_spawn (&h, err) < 0)
    return -1;
  int r = holder_wait_ready (&h, err);
  if (r == 0)
    r = write_maps (plan, h.pid, err);
  if (r == 0)
    r = join (h.pid, err);
  if (r == 0 && pause_dir)
    keep_pause (&h, pause_dir);
  holder_release (&h);
  return r;
}

/* Join the namespace of a recorded pause process; false when there is none
   to join.  */
static bool
join_pause (const char *dir)
{
  cleanup_close int nsfd = cove_rootless_pause_open_ns (dir);
  cleanup_error struct cove_error *ignored = NULL;
  return nsfd >= 0 && join_fd (nsfd, &ignored) == 0;
}

static int
create_namespace (const char *pause_dir, struct cove_error **err)
{
  if (check_sysctls (err) < 0)
    return -1;
  /* Serialise creation so that commands started together share one
     namespace; the fast path (join_pause) takes no lock.  */
  cleanup_close int lock = -1;
  if (pause_dir)
    {
      lock = cove_rootless_pause_lock (pause_dir, err);
      if (lock < 0)
        return -1;
      if (join_pause (pause_dir))
        return 0;
    }
  struct userns_plan plan;
  int r = plan_make (&plan, err);
  if (r == 0)
    r = enter_namespace (&plan, pause_dir, err);
  plan_clear (&plan);
  return r;
}

int
cove_rootless_enter (const char *pause_dir, struct cove_error **err)
{
  /* Root needs no namespace; euid 0 is also what we are once inside.  */
  if (geteuid () == 0)
    return 0;
  int dumpable = prctl (PR_GET_DUMPABLE, 0, 0, 0, 0);
  int pdeathsig = 0;
  (void) prctl (PR_GET_PDEATHSIG, &pdeathsig, 0, 0, 0);
  if (!(pause_dir && join_pause (pause_dir))
      && create_namespace (pause_dir, err) < 0)
    return -1;
  /* A credential change may reset both (commit_creds); ours should not,
     but the runtime relies on /proc/self being ours and on the signal.  */
  if (dumpable > 0 && prctl (PR_GET_DUMPABLE, 0, 0, 0, 0) != dumpable)
    (void) prctl (PR_SET_DUMPABLE, dumpable, 0, 0, 0);
  int now = 0;
  if (prctl (PR_GET_PDEATHSIG, &now, 0, 0, 0) == 0 && now != pdeathsig)
    (void) prctl (PR_SET_PDEATHSIG, pdeathsig, 0, 0, 0);
  return 0;
}

/* Host id of id 0 in MAP_PATH, or FALLBACK.  */
static unsigned
host_id_of_zero (const char *map_path, unsigned fallback)
{
  cleanup_error struct cove_error *ignored = NULL;
  cleanup_free char *text = cove_file_read_at (AT_FDCWD, map_path, 65536,
                                               NULL, &ignored);
  if (text == NULL)
    return fallback;
  for (char *line = text; line && *line;)
    {
      unsigned inside, outside, count;
      if (sscanf (line, "%u %u %u", &inside, &outside, &count) == 3
          && inside == 0 && count > 0)
        return outside;
      line = strchr (line, '\n');
      if (line)
        line++;
    }
  return fallback;
}

uid_t
cove_rootless_host_uid (void)
{
  uid_t uid = getuid ();
  return uid == 0 ? host_id_of_zero ("/proc/self/uid_map", 0) : uid;
}

gid_t
cove_rootless_host_gid (void)
{
  gid_t gid = getgid ();
  return gid == 0 ? host_id_of_zero ("/proc/self/gid_map", 0) : gid;
}
