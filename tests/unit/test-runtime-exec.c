/* Unit tests of cove_runtime_exec and the container user lookup
   (pkg/runtime/exec.c, exec-user.c): resolving users in a root directory,
   and (as root, with busybox) processes started in a running container.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/runtime/internal.h"
#include "pkg/runtime/runtime.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

static char bundle[64];

static void
put (const char *rel, const char *text)
{
  cleanup_free char *path = xasprintf ("%s/%s", bundle, rel);
  cleanup_free char *dir = xstrdup (path);
  *strrchr (dir, '/') = '\0';
  assert_int_equal (cove_mkdir_p (dir, 0755, NULL), 0);
  assert_int_equal (cove_file_write_atomic (path, text, strlen (text), 0644, 0,
                                            NULL), 0);
}

static void
make_dbs (void)
{
  put ("rootfs/etc/passwd",
       "root:x:0:0:root:/root:/bin/sh\n"
       "user:x:1000:1001:U:/home/user:/bin/sh\n"
       "nohome:x:1002:1002::relative:/bin/sh\n");
  put ("rootfs/etc/group",
       "root:x:0:\n"
       "grp:x:1001:\n"
       "extra:x:50:nohome,user\n"
       "other:x:60:root\n");
}

static int
root_fd (void)
{
  cleanup_free char *path = xasprintf ("%s/rootfs", bundle);
  int fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  assert_true (fd >= 0);
  return fd;
}

static void
test_user_resolve (void **state)
{
  (void) state;
  snprintf (bundle, sizeof bundle, "/tmp/cove-exec-XXXXXX");
  assert_non_null (mkdtemp (bundle));
  make_dbs ();
  /* Lines that are not records are skipped.  */
  put ("rootfs/etc/passwd",
       "bad line\nroot:x:0:0:root:/root:/bin/sh\nx:x:y:z::/:/\n"
       "user:x:1000:1001:U:/home/user:/bin/sh\n"
       "nohome:x:1002:1002::relative:/bin/sh\n");
  cleanup_close int root = root_fd ();
  struct runtime_user u;
  struct cove_error *err = NULL;

  assert_int_equal (runtime_user_resolve (root, "user", &u, &err), 0);
  assert_int_equal (u.uid, 1000);
  assert_int_equal (u.gid, 1001);
  assert_string_equal (u.home, "/home/user");
  assert_int_equal (u.n_gids, 1);
  assert_int_equal (u.gids[0], 50);
  runtime_user_free (&u);

  assert_int_equal (runtime_user_resolve (root, "1002:grp", &u, &err), 0);
  assert_int_equal (u.uid, 1002);
  assert_int_equal (u.gid, 1001);
  assert_string_equal (u.home, "/");
  runtime_user_free (&u);

  /* A uid without an entry runs with gid 0, as in podman.  */
  assert_int_equal (runtime_user_resolve (root, "4242:77", &u, &err), 0);
  assert_int_equal (u.uid, 4242);
  assert_int_equal (u.gid, 77);
  assert_int_equal (u.n_gids, 0);
  runtime_user_free (&u);

  assert_int_equal (runtime_user_resolve (root, "nobody", &u, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  assert_string_equal (err->msg, "unable to find user nobody: no matching "
                       "entries in passwd file");
  assert_null (u.home);
  cove_error_release (&err);
  assert_int_equal (runtime_user_resolve (root, "user:nogroup", &u, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_release (&err);
  assert_int_equal (runtime_user_resolve (root, "user:", &u, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  assert_int_equal (cove_rm_rf (bundle, NULL), 0);
}

static void
test_iddb (void **state)
{
  (void) state;
  snprintf (bundle, sizeof bundle, "/tmp/cove-exec-XXXXXX");
  assert_non_null (mkdtemp (bundle));
  make_dbs ();
  cleanup_close int root = root_fd ();
  cleanup_free char *pw = cove_runtime_iddb_read (root, false, NULL);
  cleanup_free char *gr = cove_runtime_iddb_read (root, true, NULL);
  assert_non_null (pw);
  assert_non_null (gr);
  cleanup_free char *a = cove_runtime_iddb_name (pw, 1000);
  cleanup_free char *b = cove_runtime_iddb_name (pw, 5);
  cleanup_free char *c = cove_runtime_iddb_name (gr, 60);
  assert_string_equal (a, "user");
  assert_string_equal (b, "5");
  assert_string_equal (c, "other");
  /* A container without /etc/passwd: numbers.  */
  cleanup_free char *path = xasprintf ("%s/rootfs/etc/passwd", bundle);
  assert_int_equal (unlink (path), 0);
  cleanup_free char *none = cove_runtime_iddb_read (root, false, NULL);
  assert_string_equal (none, "");
  cleanup_free char *d = cove_runtime_iddb_name (none, 0);
  assert_string_equal (d, "0");
  assert_int_equal (cove_rm_rf (bundle, NULL), 0);
}

/* ---- real containers: root and busybox only ---- */

static bool
make_bundle (void)
{
  const char *bb = access ("/bin/busybox", X_OK) == 0 ? "/bin/busybox"
                                                      : "/usr/bin/busybox";
  if (geteuid () != 0 || access (bb, X_OK) != 0)
    return false;
  snprintf (bundle, sizeof bundle, "/tmp/cove-exec-XXXXXX");
  assert_non_null (mkdtemp (bundle));
  make_dbs ();
  put ("rootfs/tmp/.keep", "");
  put ("rootfs/bin/.keep", "");
  size_t len = 0;
  cleanup_free char *data = cove_file_read_at (AT_FDCWD, bb, 1 << 30, &len, NULL);
  assert_non_null (data);
  cleanup_free char *dst = xasprintf ("%s/rootfs/bin/busybox", bundle);
  assert_int_equal (cove_file_write_atomic (dst, data, len, 0755, 0, NULL), 0);
  const char *links[] = { "sh", "true", "sleep", "grep", "id", "hostname",
                          "touch", "pwd", "cat" };
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
    {
      cleanup_free char *l = xasprintf ("%s/rootfs/bin/%s", bundle, links[i]);
      assert_int_equal (symlink ("busybox", l), 0);
    }
  put ("config.json",
       "{\"process\":{\"args\":[\"sleep\",\"30\"],"
       "\"env\":[\"PATH=/bin\",\"FOO=config\",\"KEEP=1\"],\"cwd\":\"/\","
       "\"capabilities\":{\"bounding\":[\"CAP_CHOWN\"],\"effective\":"
       "[\"CAP_CHOWN\"],\"permitted\":[\"CAP_CHOWN\"]}},"
       "\"root\":{\"path\":\"rootfs\"},\"hostname\":\"ctr\",\"mounts\":["
       "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
       "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
       "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
       "\"options\":[\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]}],"
       "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},"
       "{\"type\":\"uts\"},{\"type\":\"ipc\"},{\"type\":\"network\"}]}}");
  return true;
}

static struct cove_runtime_process init;

#define NEED_CONTAINER() \
  do \
    if (init.pidfd < 0 || init.pid <= 0) \
      skip (); \
  while (0)

static int
exec_opts (struct cove_runtime_exec_options *o, struct cove_error **err)
{
  struct cove_runtime_process p;
  int status = -1;
  o->init_pidfd = init.pidfd;
  o->init_pid = init.pid;
  if (cove_runtime_exec (bundle, NULL, o, &p, &status, err) < 0)
    return status;
  assert_int_equal (status, 0);
  assert_true (p.pidfd >= 0);
  assert_true ((p.console_fd >= 0) == o->terminal);
  assert_int_equal (cove_runtime_wait (&p, false, &status, err), 0);
  return status;
}

static int
exec_sh (const char *script, struct cove_error **err)
{
  char *args[] = { "sh", "-c", (char *) script, NULL };
  struct cove_runtime_exec_options o = { .args = args };
  return exec_opts (&o, err);
}

static void
test_exec_namespaces (void **state)
{
  (void) state;
  NEED_CONTAINER ();
  struct cove_error *err = NULL;
  /* Its own pid (not 1), the init as pid 1, the container's hostname, and
     a file written where the init sees it.  */
  assert_int_equal (exec_sh ("[ $$ != 1 ] && grep -q sleep /proc/1/comm && "
                             "[ $(hostname) = ctr ] && touch /tmp/made && "
                             "exit 7", &err), 7);
  assert_null (err);
  cleanup_free char *seen = xasprintf ("/proc/%d/root/tmp/made", (int) init.pid);
  assert_int_equal (access (seen, F_OK), 0);
  /* Not found, not executable.  */
  char *nf[] = { "nonexistent", NULL };
  struct cove_runtime_exec_options o = { .args = nf };
  assert_int_equal (exec_opts (&o, &err), 127);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_release (&err);
  char *dir[] = { "/bin", NULL };
  o.args = dir;
  assert_int_equal (exec_opts (&o, &err), 126);
  cove_error_release (&err);
  assert_int_equal (waitpid (-1, NULL, WNOHANG), 0);  /* only the init */
}

static void
test_exec_overrides (void **state)
{
  (void) state;
  NEED_CONTAINER ();
  struct cove_error *err = NULL;
  char *env[] = { "FOO=exec", "NEW=1", NULL };
  char *check_env[] = { "sh", "-c", "[ $FOO = exec ] && [ $NEW = 1 ] && "
                        "[ $KEEP = 1 ] && [ $HOME = /home/user ] && "
                        "[ $(id -u):$(id -g) = 1000:1001 ] && "
                        "[ \"$(id -G)\" = '1001 50' ] && [ $(pwd) = /tmp ] && "
                        "grep -q 'CapEff:.0000000000000000' /proc/self/status",
                        NULL };
  struct cove_runtime_exec_options o = { .args = check_env, .env = env,
                                         .user = "user", .workdir = "tmp" };
  assert_int_equal (exec_opts (&o, &err), 0);
  assert_null (err);

  o = (struct cove_runtime_exec_options) { .user = "nosuchuser",
                                           .args = check_env };
  assert_int_equal (exec_opts (&o, &err), 125);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_release (&err);

  /* The config's bounding set, or every capability when privileged.  */
  char *bnd[] = { "grep", "-q", "CapBnd:.0000000000000001", "/proc/self/status",
                  NULL };
  o = (struct cove_runtime_exec_options) { .args = bnd };
  assert_int_equal (exec_opts (&o, &err), 0);
  o.privileged = true;
  int status = exec_opts (&o, &err);
  if (err)
    fprintf (stderr, "privileged: %s (%d)\n", err->msg, err->errnum);
  assert_int_equal (status, 1);
  assert_null (err);
}

static void
test_exec_terminal_detach (void **state)
{
  (void) state;
  NEED_CONTAINER ();
  struct cove_error *err = NULL;
  char *tty[] = { "sh", "-c", "[ -t 0 ] && [ -t 1 ] && [ $TERM = xterm ] && "
                  "exit 3", NULL };
  struct cove_runtime_exec_options o = { .args = tty, .terminal = true };
  int saved = dup (STDOUT_FILENO);
  cleanup_close int null = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  dup2 (null, STDOUT_FILENO);  /* the relayed output */
  int status = exec_opts (&o, &err);
  dup2 (saved, STDOUT_FILENO);
  close (saved);
  assert_null (err);
  assert_int_equal (status, 3);

  char *bg[] = { "sh", "-c", "[ ! -t 1 ] && touch /tmp/detached", NULL };
  o = (struct cove_runtime_exec_options) { .args = bg, .detach = true,
                                           .init_pidfd = init.pidfd,
                                           .init_pid = init.pid };
  struct cove_runtime_process p;
  assert_int_equal (cove_runtime_exec (bundle, NULL, &o, &p, &status, &err), 0);
  assert_int_equal (p.console_fd, -1);
  assert_int_equal (cove_runtime_wait (&p, false, &status, &err), 0);
  assert_int_equal (status, 0);
  cleanup_free char *seen = xasprintf ("%s/rootfs/tmp/detached", bundle);
  assert_int_equal (access (seen, F_OK), 0);
}

/* Once the init is gone, exec fails with ESRCH and leaves nothing.  */
static void
test_exec_after_exit (void **state)
{
  (void) state;
  NEED_CONTAINER ();
  struct cove_error *err = NULL;
  int pidfd = pidfd_open (init.pid, 0);
  assert_true (pidfd >= 0);
  pid_t pid = init.pid;
  assert_int_equal (pidfd_send_signal (init.pidfd, SIGKILL, NULL, 0), 0);
  int status;
  assert_int_equal (cove_runtime_wait (&init, false, &status, &err), 0);
  assert_int_equal (status, 137);
  char *args[] = { "true", NULL };
  struct cove_runtime_exec_options o = { .args = args, .init_pidfd = pidfd,
                                         .init_pid = pid };
  struct cove_runtime_process p;
  assert_int_equal (cove_runtime_exec (bundle, NULL, &o, &p, &status, &err), -1);
  assert_int_equal (err->errnum, ESRCH);
  assert_int_equal (status, 125);
  assert_int_equal (p.pidfd, -1);
  cove_error_release (&err);
  close (pidfd);
  assert_int_equal (waitpid (-1, NULL, WNOHANG), -1);
  assert_int_equal (errno, ECHILD);
}

static int
setup_container (void **state)
{
  (void) state;
  if (!make_bundle ())
    return 0;
  struct cove_error *err = NULL;
  int status;
  if (cove_runtime_create (bundle, NULL, &init, &status, &err) < 0)
    {
      /* A sandbox that forbids namespaces: nothing to test here.  */
      fprintf (stderr, "cannot create a container: %s\n", err->msg);
      cove_error_free (err);
      init.pidfd = -1;
    }
  return 0;
}

static int
teardown_container (void **state)
{
  (void) state;
  if (init.pidfd >= 0)
    {
      int status;
      pidfd_send_signal (init.pidfd, SIGKILL, NULL, 0);
      cove_runtime_wait (&init, false, &status, NULL);
    }
  if (bundle[0])
    cove_rm_rf (bundle, NULL);
  return 0;
}


int
main (void)
{
  const struct CMUnitTest units[] = {
    cmocka_unit_test (test_user_resolve),
    cmocka_unit_test (test_iddb),
  };
  const struct CMUnitTest live[] = {
    cmocka_unit_test (test_exec_namespaces),
    cmocka_unit_test (test_exec_overrides),
    cmocka_unit_test (test_exec_terminal_detach),
    cmocka_unit_test (test_exec_after_exit),
  };
  int r = cmocka_run_group_tests (units, NULL, NULL);
  bundle[0] = '\0';
  init.pidfd = -1;
  return r + cmocka_run_group_tests (live, setup_container, teardown_container);
}
