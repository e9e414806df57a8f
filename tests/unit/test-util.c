/* Unit tests of pkg/util: errors, files.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

static char dir[64];

static int
setup (void **state)
{
  snprintf (dir, sizeof dir, "/tmp/cove-util-XXXXXX");
  return mkdtemp (dir) ? 0 : -1;
}

static int
teardown (void **state)
{
  return cove_rm_rf (dir, NULL);
}

static void
test_error_set_wrap (void **state)
{
  struct cove_error *err = NULL;
  assert_int_equal (cove_error_set (&err, ENOENT, "open `%s`", "x"), -1);
  assert_int_equal (cove_error_wrap (&err, "load %d", 3), -1);
  assert_string_equal (err->msg, "load 3: open `x`");
  /* the first error stays */
  cove_error_set (&err, EPERM, "second");
  assert_int_equal (err->errnum, ENOENT);
  char *s = cove_error_string (err);
  assert_string_equal (s, "load 3: open `x`: No such file or directory");
  free (s);
  cove_error_release (&err);
  assert_null (err);
  assert_int_equal (cove_error_wrap (&err, "nothing"), -1);
  assert_null (err);
}

static void
test_error_pipe (void **state)
{
  int p[2];
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  struct cove_error e = { .errnum = EACCES, .msg = (char *) "exec `x`" };
  cove_error_send (p[1], &e);
  close (p[1]);
  struct cove_error *got = NULL, *err = NULL;
  assert_int_equal (cove_error_recv (p[0], &got, &err), 1);
  assert_int_equal (got->errnum, EACCES);
  assert_string_equal (got->msg, "exec `x`");
  cove_error_free (got);
  got = NULL;
  assert_int_equal (cove_error_recv (p[0], &got, &err), 0);  /* EOF: none */
  assert_null (got);
  close (p[0]);
  /* A plain error stays plain: no strerror appended on the other side.  */
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  struct cove_error plain = { .errnum = EADDRINUSE, .msg = (char *) "port in use",
                              .plain = 1 };
  cove_error_send (p[1], &plain);
  close (p[1]);
  assert_int_equal (cove_error_recv (p[0], &got, &err), 1);
  assert_int_equal (got->errnum, EADDRINUSE);
  assert_true (got->plain);
  char *text = cove_error_string (got);
  assert_string_equal (text, "port in use");
  free (text);
  cove_error_free (got);
  got = NULL;
  close (p[0]);
  /* a short header is a protocol error */
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  assert_int_equal (write (p[1], "ab", 2), 2);
  close (p[1]);
  assert_int_equal (cove_error_recv (p[0], &got, &err), -1);
  assert_int_equal (err->errnum, EPROTO);
  cove_error_free (err);
  close (p[0]);
}

static void
test_write_atomic (void **state)
{
  struct cove_error *err = NULL;
  char *path = xasprintf ("%s/f.json", dir);
  assert_int_equal (cove_file_write_atomic (path, "one", 3, 0600, COVE_FILE_SYNC, &err), 0);
  assert_int_equal (cove_file_write_atomic (path, "two!", 4, 0644, 0, &err), 0);
  size_t len;
  char *text = cove_file_read_at (AT_FDCWD, path, 100, &len, &err);
  assert_string_equal (text, "two!");
  assert_int_equal (len, 4);
  free (text);
  struct stat st;
  assert_int_equal (stat (path, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0644);
  assert_null (cove_file_read_at (AT_FDCWD, path, 2, NULL, &err));
  assert_int_equal (err->errnum, EFBIG);
  cove_error_release (&err);
  free (path);
  /* failure: the directory does not exist, nothing is left behind */
  path = xasprintf ("%s/missing/f.json", dir);
  assert_int_equal (cove_file_write_atomic (path, "x", 1, 0600, COVE_FILE_SYNC, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_release (&err);
  free (path);
}

static void
test_mkdir_rm_rf (void **state)
{
  struct cove_error *err = NULL;
  char *deep = xasprintf ("%s/a/b/c/", dir);
  assert_int_equal (cove_mkdir_p (deep, 0700, &err), 0);
  assert_int_equal (cove_mkdir_p (deep, 0700, &err), 0);
  char *file = xasprintf ("%s/a/b/c/f", dir);
  FILE *f = fopen (file, "w");
  fclose (f);
  assert_int_equal (cove_mkdir_p (file, 0700, &err), -1);
  assert_int_equal (err->errnum, ENOTDIR);
  cove_error_release (&err);
  /* a symlink to a directory outside is removed, not followed */
  char *outside = xasprintf ("%s/outside", dir);
  mkdir (outside, 0700);
  char *keep = xasprintf ("%s/outside/keep", dir);
  fclose (fopen (keep, "w"));
  char *link = xasprintf ("%s/a/b/link", dir);
  assert_int_equal (symlink (outside, link), 0);
  char *a = xasprintf ("%s/a", dir);
  assert_int_equal (cove_rm_rf (a, &err), 0);
  assert_int_equal (access (a, F_OK), -1);
  assert_int_equal (access (keep, F_OK), 0);
  assert_int_equal (cove_rm_rf (a, &err), 0);  /* missing: fine */
  free (deep); free (file); free (outside); free (keep); free (link); free (a);
}

static void
test_open_in_root (void **state)
{
  struct cove_error *err = NULL;
  char *etc = xasprintf ("%s/etc", dir);
  mkdir (etc, 0755);
  char *inside = xasprintf ("%s/etc/hostname", dir);
  FILE *f = fopen (inside, "w");
  fputs ("inside", f);
  fclose (f);
  char *link = xasprintf ("%s/escape", dir);
  assert_int_equal (symlink ("../../../../../../etc/hostname", link), 0);
  int root = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int fd = cove_open_in_root (root, "/escape", O_RDONLY, &err);
  assert_true (fd >= 0);
  char *text = cove_fd_read_all (fd, 100, NULL, &err);
  assert_string_equal (text, "inside");
  free (text);
  close (fd);
  assert_int_equal (cove_open_in_root (root, "/nope", O_RDONLY, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_release (&err);
  close (root);
  free (etc); free (inside); free (link);
}

static void
test_send_recv_fd (void **state)
{
  int sv[2];
  struct cove_error *err = NULL;
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_int_equal (cove_send_fd (sv[0], fd, &err), 0);
  int got = cove_recv_fd (sv[1], &err);
  assert_true (got >= 0);
  assert_true (fcntl (got, F_GETFD) & FD_CLOEXEC);
  close (got);
  close (fd);
  close (sv[0]);
  assert_int_equal (cove_recv_fd (sv[1], &err), -1);
  assert_int_equal (err->errnum, ECONNRESET);
  cove_error_release (&err);
  close (sv[1]);
}

static void
test_strv (void **state)
{
  char **v = NULL;
  cove_strv_append (&v, "a");
  cove_strv_append (&v, "b");
  assert_int_equal (cove_strv_len (v), 2);
  char **d = cove_strv_dup (v);
  assert_string_equal (d[1], "b");
  assert_null (d[2]);
  cove_strv_free (v);
  cove_strv_free (d);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_error_set_wrap),
    cmocka_unit_test (test_error_pipe),
    cmocka_unit_test (test_write_atomic),
    cmocka_unit_test (test_mkdir_rm_rf),
    cmocka_unit_test (test_open_in_root),
    cmocka_unit_test (test_send_recv_fd),
    cmocka_unit_test (test_strv),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
