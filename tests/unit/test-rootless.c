/* Unit tests of rootless/: subuid parsing, maps, and entering a user
   namespace (in a forked child, with the single-mapping fallback, so that
   no /etc/subuid entry or setuid newuidmap is needed).  */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
/* The module's own private header: its test may use it.  */
#include "rootless/internal.h"
#include "rootless/rootless.h"

struct fixture
{
  char dir[64];
  char path[96];
};

static int
setup (void **state)
{
  struct fixture *f = xmalloc0 (sizeof *f);
  snprintf (f->dir, sizeof f->dir, "/tmp/test-rootless.XXXXXX");
  /* Readable by the user the enter tests drop to when run as root.  */
  if (mkdtemp (f->dir) == NULL || chmod (f->dir, 0755) < 0)
    return -1;
  snprintf (f->path, sizeof f->path, "%s/subuid", f->dir);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  unlink (f->path);
  rmdir (f->dir);
  free (f);
  return 0;
}

static const char *
write_subid (void **state, const char *content)
{
  struct fixture *f = *state;
  cleanup_close int fd = open (f->path, O_WRONLY | O_CREAT | O_TRUNC
                               | O_CLOEXEC, 0644);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, content, strlen (content)),
                    (ssize_t) strlen (content));
  return f->path;
}

/* Expect read_subid to fail with ERRNUM and a message containing WHAT, and
   leave OUT alone.  */
static void
expect_failure (const char *path, const char *user, uid_t uid, int errnum,
                const char *what)
{
  struct cove_idmap out = { .n = 7 };
  cleanup_error struct cove_error *err = NULL;
  assert_int_equal (cove_rootless_read_subid (path, user, uid, &out, &err), -1);
  assert_non_null (err);
  assert_int_equal (err->errnum, errnum);
  if (what && strstr (err->msg, what) == NULL)
    fail_msg ("message \"%s\" lacks \"%s\"", err->msg, what);
  assert_int_equal (out.n, 7);
}

static void
test_read_by_name (void **state)
{
  const char *p = write_subid (state, "# subordinate ids\n\n"
                               "alice:100000:65536\n"
                               "bob:200000:65536\n");
  struct cove_idmap out;
  cleanup_error struct cove_error *err = NULL;
  assert_int_equal (cove_rootless_read_subid (p, "bob", 1001, &out, &err), 0);
  assert_null (err);
  assert_int_equal (out.n, 1);
  assert_int_equal (out.ranges[0].container, 0);
  assert_int_equal (out.ranges[0].host, 200000);
  assert_int_equal (out.ranges[0].size, 65536);
}

static void
test_read_numeric_and_several (void **state)
{
  /* Ranges by name and by uid both count, in file order; blanks, CRLF and
     indented comments are skipped.  */
  const char *p = write_subid (state, "alice:100000:10\r\n"
                               "   \n"
                               "  # 1000:1:1\n"
                               "bob:5:5\n"
                               "1000:300000:20  \n"
                               "\talice:400000:30");
  struct cove_idmap out;
  cleanup_error struct cove_error *err = NULL;
  assert_int_equal (cove_rootless_read_subid (p, "alice", 1000, &out, &err), 0);
  assert_int_equal (out.n, 3);
  assert_int_equal (out.ranges[0].host, 100000);
  assert_int_equal (out.ranges[1].host, 300000);
  assert_int_equal (out.ranges[1].size, 20);
  assert_int_equal (out.ranges[2].host, 400000);
  /* A uid with no passwd entry is matched by number alone.  */
  assert_int_equal (cove_rootless_read_subid (p, NULL, 1000, &out, &err), 0);
  assert_int_equal (out.n, 1);
  assert_int_equal (out.ranges[0].host, 300000);
}

static void
test_read_missing (void **state)
{
  struct fixture *f = *state;
  expect_failure (f->path, "alice", 1000, ENOENT, f->path);
  const char *p = write_subid (state, "bob:100000:65536\n# alice:1:1\n");
  expect_failure (p, "alice", 1000, ENOENT, "alice");
  /* Prefixes of a name are not the name.  */
  p = write_subid (state, "alicex:100000:65536\n");
  expect_failure (p, "alice", 1000, ENOENT, NULL);
}

static void
test_read_malformed (void **state)
{
  static const char *const bad[] = {
    "alice:100000\n", "alice:100000:65536:1\n", ":100000:65536\n",
    "alice::65536\n", "alice:100000:\n", "alice:-1:65536\n",
    "alice:+5:65536\n", "alice: 5:65536\n", "alice:100000:0\n",
    "alice:10x:65536\n", "alice:4294967296:1\n", "alice:100000:99999999999\n",
    /* start + count past 2^32 */
    "alice:4294967295:1\n", "alice:4000000000:294967296\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      cleanup_free char *text = xasprintf ("# comment\n\nbob:1:1\n%s", bad[i]);
      const char *p = write_subid (state, text);
      cleanup_free char *where = xasprintf ("%s:4:", p);
      expect_failure (p, "alice", 1000, EINVAL, where);
    }
  /* A broken line of another user is still an error: the file is broken.  */
  const char *p = write_subid (state, "alice:1:1\nbob:x:1\n");
  expect_failure (p, "alice", 1000, EINVAL, ":2:");
}

static void
test_read_overflow (void **state)
{
  /* Each range is valid, their sizes add up past the 32-bit id space.  */
  const char *p = write_subid (state, "alice:0:4000000000\n"
                               "alice:0:4000000000\n");
  expect_failure (p, "alice", 1000, EINVAL, ":2:");
  cleanup_free char *many = xstrdup ("");
  for (int i = 0; i < COVE_ROOTLESS_MAX_RANGES; i++)
    {
      char *next = xasprintf ("%salice:%d:10\n", many, 100000 + i * 10);
      free (many);
      many = next;
    }
  p = write_subid (state, many);
  expect_failure (p, "alice", 1000, E2BIG, NULL);
}

static void
test_build_map (void **state)
{
  struct cove_idmap subids = { .n = 2, .ranges = {
    { .host = 100000, .size = 65536 }, { .host = 300000, .size = 10 } } };
  struct cove_idmap map;
  cove_rootless_build_map (1000, &subids, &map);
  assert_int_equal (map.n, 3);
  assert_int_equal (map.ranges[0].container, 0);
  assert_int_equal (map.ranges[0].host, 1000);
  assert_int_equal (map.ranges[0].size, 1);
  assert_int_equal (map.ranges[1].container, 1);
  assert_int_equal (map.ranges[1].host, 100000);
  assert_int_equal (map.ranges[2].container, 65537);
  assert_int_equal (map.ranges[2].host, 300000);
  assert_int_equal (map.ranges[2].size, 10);

  struct cove_idmap none = { 0 };
  cove_rootless_build_map (1000, &none, &map);
  assert_int_equal (map.n, 1);
}

static void
test_map_format (void **state)
{
  struct cove_idmap map = { .n = 2, .ranges = {
    { 0, 1000, 1 }, { 1, 4294967294u, 1 } } };
  cleanup_free char *text = cove_rootless_map_format (&map);
  assert_string_equal (text, "0 1000 1\n1 4294967294 1\n");
  struct cove_idmap empty = { 0 };
  cleanup_free char *nothing = cove_rootless_map_format (&empty);
  assert_string_equal (nothing, "");
}

static void
test_find_idmap_tool (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *old_path = xstrdup (getenv ("PATH") ? getenv ("PATH") : "");
  cleanup_error struct cove_error *err = NULL;
  assert_null (cove_rootless_find_idmap_tool ("cove-no-such-tool", &err));
  assert_int_equal (err->errnum, ENOENT);
  assert_non_null (strstr (err->msg, "uidmap package"));
  cove_error_release (&err);

  /* An executable that is neither setuid nor capable cannot write maps.  */
  cleanup_free char *fake = xasprintf ("%s/cove-fake-idmap", f->dir);
  cleanup_close int fd = open (fake, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
  assert_true (fd >= 0);
  setenv ("PATH", f->dir, 1);
  char *found = cove_rootless_find_idmap_tool ("cove-fake-idmap", &err);
  setenv ("PATH", old_path, 1);
  unlink (fake);
  assert_null (found);
  assert_int_equal (err->errnum, EPERM);
  assert_non_null (strstr (err->msg, "setuid"));
}

/* Runs in a forked child: become an ordinary user if root, enter with the
   fallback forced by COVE_SUBUID_FILE, check the result.  Exit 0 on
   success, 77 to skip, else the number of the failed step.  */
static int __attribute__ ((noreturn))
child_enter (const char *subuid_file, bool expect_ok)
{
  if (geteuid () == 0)
    {
      if (setgroups (0, NULL) < 0 || setresgid (65534, 65534, 65534) < 0
          || setresuid (65534, 65534, 65534) < 0)
        _exit (2);
      /* As after an exec: dropping privileges cleared it.  */
      prctl (PR_SET_DUMPABLE, 1, 0, 0, 0);
    }
  uid_t uid = getuid ();
  char before[64] = "", after[64] = "";
  if (readlink ("/proc/self/ns/user", before, sizeof before - 1) < 0)
    _exit (3);
  setenv ("COVE_SUBUID_FILE", subuid_file, 1);
  struct cove_error *err = NULL;
  int r = cove_rootless_enter (NULL, &err);
  if (readlink ("/proc/self/ns/user", after, sizeof after - 1) < 0)
    _exit (4);
  if (r < 0)   /* for the failure message of the parent */
    fprintf (stderr, "errnum %d: %s\n", err->errnum, err->msg);
  if (!expect_ok && r < 0 && err->errnum == EPERM)
    _exit (77);         /* user namespaces disabled here */
  if (!expect_ok)
    /* Failed, and left as it was: same namespace, same uid, no child.  */
    _exit (r == -1 && err && err->errnum == EINVAL && getuid () == uid
           && strcmp (before, after) == 0 && waitpid (-1, NULL, WNOHANG) < 0
           ? 0 : 5);
  if (r < 0)
    _exit (err->errnum == EPERM || err->errnum == ENOSPC ? 77 : 6);
  if (getuid () != 0 || geteuid () != 0 || getgid () != 0
      || strcmp (before, after) == 0)
    _exit (7);
  if (cove_rootless_host_uid () != uid)
    _exit (8);
  struct cove_error *rerr = NULL;
  char *map = cove_file_read_at (AT_FDCWD, "/proc/self/uid_map", 4096, NULL,
                                 &rerr);
  unsigned a, b, c;
  if (map == NULL || sscanf (map, "%u %u %u", &a, &b, &c) != 3
      || a != 0 || b != uid || c != 1 || waitpid (-1, NULL, WNOHANG) >= 0)
    _exit (9);
  _exit (0);
}

/* Fork CHILD_ENTER, return its status, and its stderr in *OUT_STDERR.  */
static int
run_child (const char *subuid_file, bool expect_ok, char **out_stderr)
{
  int fds[2];
  assert_int_equal (pipe2 (fds, O_CLOEXEC), 0);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      dup2 (fds[1], STDERR_FILENO);
      child_enter (subuid_file, expect_ok);
    }
  close (fds[1]);
  cleanup_error struct cove_error *err = NULL;
  *out_stderr = cove_fd_read_all (fds[0], 65536, NULL, &err);
  close (fds[0]);
  int status;
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static void
test_enter_fallback (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *out = NULL;
  int st = run_child (f->path, true, &out);
  if (st == 77)
    skip ();
  if (st != 0)
    {
      print_error ("stderr of the child: %s\n", out ? out : "");
      free (steal_pointer (&out));
      fail_msg ("child failed at step %d", st);
    }
  /* Exactly one warning line, telling how to fix it.  */
  assert_non_null (out);
  assert_non_null (strstr (out, "WARN[0000] cannot find mappings for user"));
  assert_non_null (strstr (out, "usermod --add-subuids"));
  size_t lines = 0;
  for (const char *c = out; *c; c++)
    lines += *c == '\n';
  assert_int_equal (lines, 1);
}

static void
test_enter_bad_subuid (void **state)
{
  const char *p = write_subid (state, "nobody:1:x\n");
  cleanup_free char *out = NULL;
  int st = run_child (p, false, &out);
  if (st == 77)
    skip ();
  if (st != 0)
    {
      print_error ("stderr of the child: %s\n", out ? out : "");
      free (steal_pointer (&out));
      fail_msg ("child failed at step %d", st);
    }
}

static void
test_enter_as_root (void **state)
{
  if (geteuid () != 0)
    skip ();
  cleanup_error struct cove_error *err = NULL;
  char before[64] = "", after[64] = "";
  assert_true (readlink ("/proc/self/ns/user", before, sizeof before - 1) > 0);
  assert_int_equal (cove_rootless_enter (NULL, &err), 0);
  assert_null (err);
  assert_true (readlink ("/proc/self/ns/user", after, sizeof after - 1) > 0);
  assert_string_equal (before, after);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_read_by_name, setup, teardown),
    cmocka_unit_test_setup_teardown (test_read_numeric_and_several, setup,
                                     teardown),
    cmocka_unit_test_setup_teardown (test_read_missing, setup, teardown),
    cmocka_unit_test_setup_teardown (test_read_malformed, setup, teardown),
    cmocka_unit_test_setup_teardown (test_read_overflow, setup, teardown),
    cmocka_unit_test (test_build_map),
    cmocka_unit_test (test_map_format),
    cmocka_unit_test_setup_teardown (test_find_idmap_tool, setup, teardown),
    cmocka_unit_test_setup_teardown (test_enter_fallback, setup, teardown),
    cmocka_unit_test_setup_teardown (test_enter_bad_subuid, setup, teardown),
    cmocka_unit_test (test_enter_as_root),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
