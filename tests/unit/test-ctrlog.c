/* Unit tests of pkg/ctrlog: the k8s-file writer (format, partial pieces,
   rotation), the line and time parsers, and the reader (filters, --tail
   from the end, corrupt files, long lines, following a live writer).  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pkg/ctrlog/ctrlog.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

static char dir[64];
static char logpath[128];

static int
setup (void **state)
{
  snprintf (dir, sizeof dir, "/tmp/cove-ctrlog-XXXXXX");
  if (mkdtemp (dir) == NULL)
    return -1;
  snprintf (logpath, sizeof logpath, "%s/ctr.log", dir);
  return 0;
}

static int
teardown (void **state)
{
  return cove_rm_rf (dir, NULL);
}

static char *
slurp (const char *path, size_t *out_len)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  assert_true (fd >= 0);
  char *s = cove_fd_read_all (fd, 1 << 26, out_len, NULL);
  assert_non_null (s);
  return s;
}

static void
write_file (const char *path, const char *s, size_t len)
{
  cleanup_close int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true (fd >= 0);
  assert_int_equal (cove_write_all (fd, s, len, NULL), 0);
}

static void
log_str (struct cove_ctrlog *l, int stream, const char *s)
{
  assert_int_equal (cove_ctrlog_write (l, stream, s, strlen (s), NULL), 0);
}

/* What the reader passed on, as "O|E|R F|P data\n" lines.  */
struct collect
{
  char *out;
  size_t len, n;
  int stop_after;   /* > 0: return 7 at that many entries */
  pid_t child;      /* follow: stop when it has exited */
};

static int
collect_fn (const struct cove_ctrlog_entry *e, void *data)
{
  struct collect *c = data;
  const char *s = e->stream == 1 ? "O" : e->stream == 2 ? "E" : "R";
  cleanup_free char *line = xasprintf ("%s %s %.*s\n", s, e->partial ? "P" : "F",
                                       (int) e->len, e->data);
  c->out = xrealloc (c->out, c->len + strlen (line) + 1);
  memcpy (c->out + c->len, line, strlen (line) + 1);
  c->len += strlen (line);
  c->n++;
  return c->stop_after > 0 && (int) c->n >= c->stop_after ? 7 : 0;
}

static char *
read_log (const char *path, const struct cove_ctrlog_filter *f)
{
  struct collect c = { .out = xstrdup ("") };
  assert_int_equal (cove_ctrlog_read (path, f, collect_fn, NULL, &c, NULL), 0);
  return c.out;
}

static const struct cove_ctrlog_filter all = { .tail = -1 };

static void
test_write_format (void **state)
{
  struct cove_error *err = NULL;
  struct cove_ctrlog *l = cove_ctrlog_open (logpath, 0, &err);
  assert_non_null (l);
  log_str (l, 1, "one\ntwo\nthr");
  log_str (l, 1, "ee\n");
  log_str (l, 2, "err with  spaces\n\n");
  cove_ctrlog_close (l);

  struct stat st;
  assert_int_equal (stat (logpath, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0600);
  size_t len;
  cleanup_free char *s = slurp (logpath, &len);
  regex_t re;
  const char *pat =
    "^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}[+-][0-9]{2}:[0-9]{2}) stdout F one\n"
    "\\1 stdout F two\n"
    "\\1 stdout P thr\n"
    "[0-9T:.+-]{35} stdout F ee\n"
    "[0-9T:.+-]{35} stderr F err with  spaces\n"
    "[0-9T:.+-]{35} stderr F \n$";
  assert_int_equal (regcomp (&re, pat, REG_EXTENDED), 0);
  assert_int_equal (regexec (&re, s, 0, NULL, 0), 0);
  regfree (&re);

  /* Appends to what is there.  */
  l = cove_ctrlog_open (logpath, 0, NULL);
  log_str (l, 2, "x\n");
  cove_ctrlog_close (l);
  cleanup_free char *got = read_log (logpath, &all);
  assert_string_equal (got, "O F one\nO F two\nO P thr\nO F ee\n"
                       "E F err with  spaces\nE F \nE F x\n");
}

static void
test_write_errors (void **state)
{
  struct cove_error *err = NULL;
  cleanup_free char *bad = xasprintf ("%s/nodir/ctr.log", dir);
  assert_null (cove_ctrlog_open (bad, 0, &err));
  assert_int_equal (err->errnum, ENOENT);
  cove_error_free (err);
  err = NULL;

  struct cove_ctrlog *l = cove_ctrlog_open (logpath, 0, NULL);
  assert_int_equal (cove_ctrlog_write (l, 3, "x", 1, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_free (err);
  assert_int_equal (cove_ctrlog_write (l, 1, "", 0, NULL), 0);
  cove_ctrlog_close (l);
  struct stat st;
  assert_int_equal (stat (logpath, &st), 0);
  assert_int_equal (st.st_size, 0);
  cove_ctrlog_close (NULL);
}

static void
test_rotation (void **state)
{
  /* Each entry is 45 + 6 = 51 bytes: 4 fit in 220.  */
  struct cove_ctrlog *l = cove_ctrlog_open (logpath, 220, NULL);
  assert_non_null (l);
  for (int i = 0; i < 10; i++)
    {
      char line[32];
      snprintf (line, sizeof line, "line%d\n", i);
      log_str (l, 1, line);
      struct stat st;
      assert_int_equal (stat (logpath, &st), 0);
      assert_true (st.st_size <= 220);
    }
  cove_ctrlog_close (l);
  cleanup_free char *got = read_log (logpath, &all);
  assert_string_equal (got, "O F line8\nO F line9\n");
  cleanup_free char *tmp = xasprintf ("%s.tmp", logpath);
  assert_int_equal (access (tmp, F_OK), -1);

  /* An entry bigger than the limit is still written, alone.  */
  l = cove_ctrlog_open (logpath, 60, NULL);
  log_str (l, 1, "a-line-that-is-longer-than-the-limit-allows\n");
  log_str (l, 1, "b\n");
  cove_ctrlog_close (l);
  cleanup_free char *got2 = read_log (logpath, &all);
  assert_string_equal (got2, "O F b\n");
}

static void
test_parse_line (void **state)
{
  struct cove_ctrlog_entry e;
  const char *ok = "2026-11-29T02:40:06.123456789+01:00 stderr P a b ";
  assert_int_equal (cove_ctrlog_parse_line (ok, strlen (ok), &e), 0);
  assert_int_equal (e.stream, 2);
  assert_true (e.partial);
  assert_int_equal (e.len, 4);
  assert_memory_equal (e.data, "a b ", 4);
  assert_int_equal (e.stamp_len, 35);
  assert_int_equal (e.time.tv_sec, 1795920006L - 3600);
  assert_int_equal (e.time.tv_nsec, 123456789);

  const char *z = "2026-11-29T02:40:06Z stdout F";
  assert_int_equal (cove_ctrlog_parse_line (z, strlen (z), &e), 0);
  assert_int_equal (e.len, 0);
  assert_false (e.partial);
  assert_int_equal (e.time.tv_nsec, 0);

  const char *bad[] = {
    "", "garbage", "2026-11-29T02:40:06.1+00:00", "2026-11-29 stdout F x",
    "2026-11-29T02:40:06.1+00:00 stdin F x",
    "2026-11-29T02:40:06.1+00:00 stdout X x",
    "2026-11-29T02:40:06.1+00:00 stdout Fx",
    "2026-13-29T02:40:06.1+00:00 stdout F x",
    "2026-02-30T02:40:06.1+00:00 stdout F x",
    "2026-11-29T24:40:06.1+00:00 stdout F x",
    "2026-11-29T02:40:06.+00:00 stdout F x",
    "2026-11-29T02:40:06.1+0000 stdout F x",
    "2026-11-29T02:40:06.1 stdout F x",
    "2026-11-29T02:40:06.1+00:00 stdout",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      assert_int_equal (cove_ctrlog_parse_line (bad[i], strlen (bad[i]), &e), -1);
      assert_int_equal (e.stream, 0);
      assert_ptr_equal (e.data, bad[i]);
      assert_int_equal (e.len, strlen (bad[i]));
    }
}

static void
test_format_stamp (void **state)
{
  char buf[64];
  const struct { const char *in, *out; } cases[] = {
    { "2026-11-29T02:40:06.123456789+00:00", "2026-11-29T02:40:06.123456789Z" },
    { "2026-11-29T02:40:06.120000000+00:00", "2026-11-29T02:40:06.12Z" },
    { "2026-11-29T02:40:06.000000000-05:30", "2026-11-29T02:40:06-05:30" },
    { "2026-11-29T02:40:06Z", "2026-11-29T02:40:06Z" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      size_t n = cove_ctrlog_format_stamp (cases[i].in, strlen (cases[i].in),
                                           buf, sizeof buf);
      assert_int_equal (n, strlen (cases[i].out));
      assert_string_equal (buf, cases[i].out);
    }
  assert_int_equal (cove_ctrlog_format_stamp ("x", 1, buf, sizeof buf), 0);
}

static void
test_parse_time (void **state)
{
  struct timespec now = { 1795920006, 500000000 }, t;
  struct cove_error *err = NULL;
  const struct { const char *in; bool since; time_t sec; long nsec; } ok[] = {
    { "2026-11-29T02:40:06.25+01:00", true, 1795920006 - 3600, 250000000 },
    { "2026-11-29T02:40:06Z", true, 1795920006, 0 },
    { "2026-11-29T02:40:06", true, 1795920006, 0 },
    { "2026-11-29T02:40:06.5", true, 1795920006, 500000000 },
    { "2026-11-29", true, 1795920006 - 9606, 0 },
    { "2026-11-29+02:00", true, 1795920006 - 9606 - 7200, 0 },
    { "1795920006", true, 1795920006, 0 },
    { "1795920006.75", true, 1795920006, 750000000 },
    { "10m", true, 1795920006 - 600, 500000000 },
    { "1h30m", true, 1795920006 - 5400, 500000000 },
    { "1.5s", true, 1795920005, 0 },
    { "250ms", false, 1795920006, 750000000 },
    { "10m", false, 1795920606, 500000000 },
    { "0", true, 0, 0 },  /* Unix seconds come before durations */
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    {
      assert_int_equal (cove_ctrlog_parse_time (ok[i].in, ok[i].since, &now, &t, NULL), 0);
      assert_int_equal (t.tv_sec, ok[i].sec);
      assert_int_equal (t.tv_nsec, ok[i].nsec);
    }
  const char *bad[] = { "", "bogus", "10", "10x", "m", "1h-", "2026-11-29T", "2026-11-29T02:40",
                        "99999999999999999999h", "1.2.3", "-" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      if (strcmp (bad[i], "10") == 0)
        continue;  /* Unix seconds: valid */
      assert_int_equal (cove_ctrlog_parse_time (bad[i], true, &now, &t, &err), -1);
      assert_int_equal (err->errnum, EINVAL);
      assert_string_equal (err->msg, "unable to interpret time value");
      cove_error_free (err);
      err = NULL;
    }
}

/* A log with known times: entry I at second 1000 + I.  */
static const char sample[] =
  "1970-01-01T00:16:40.000000000+00:00 stdout F out1\n"
  "1970-01-01T00:16:41.000000000+00:00 stdout F out2\n"
  "1970-01-01T00:16:42.000000000+00:00 stdout P non\n"
  "1970-01-01T00:16:43.000000000+00:00 stderr F err1\n"
  "1970-01-01T00:16:44.000000000+00:00 stdout P l\n"
  "1970-01-01T00:16:45.000000000+00:00 stdout F ast\n";

static void
test_read_filters (void **state)
{
  write_file (logpath, sample, strlen (sample));
  cleanup_free char *a = read_log (logpath, &all);
  assert_string_equal (a, "O F out1\nO F out2\nO P non\nE F err1\nO P l\nO F ast\n");

  struct cove_ctrlog_filter f = { .tail = -1, .has_since = true, .since = { 1001, 0 } };
  cleanup_free char *b = read_log (logpath, &f);
  assert_string_equal (b, "O P non\nE F err1\nO P l\nO F ast\n");
  f.has_until = true;
  f.until = (struct timespec) { 1003, 1 };
  cleanup_free char *c = read_log (logpath, &f);
  assert_string_equal (c, "O P non\nE F err1\n");

  const struct { int64_t n; const char *want; } tails[] = {
    { 0, "" },
    { 1, "O P l\nO F ast\n" },
    /* "non" is continued by "l": pieces of one line, but a stream's
       line cut by the other's is counted from its last piece.  */
    { 2, "O P non\nE F err1\nO P l\nO F ast\n" },
    { 3, "O F out2\nO P non\nE F err1\nO P l\nO F ast\n" },
    { 4, "O F out1\nO F out2\nO P non\nE F err1\nO P l\nO F ast\n" },
    { 100, "O F out1\nO F out2\nO P non\nE F err1\nO P l\nO F ast\n" },
  };
  for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++)
    {
      struct cove_ctrlog_filter t = { .tail = tails[i].n };
      cleanup_free char *got = read_log (logpath, &t);
      assert_string_equal (got, tails[i].want);
    }

  /* A callback's stop is returned.  */
  struct collect s = { .out = xstrdup (""), .stop_after = 2 };
  assert_int_equal (cove_ctrlog_read (logpath, &all, collect_fn, NULL, &s, NULL), 7);
  assert_string_equal (s.out, "O F out1\nO F out2\n");
  free (s.out);
}

static void
test_read_corrupt (void **state)
{
  struct cove_error *err = NULL;
  struct collect c = { 0 };
  assert_int_equal (cove_ctrlog_read (logpath, &all, collect_fn, NULL, &c, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_free (err);

  const char corrupt[] =
    "\n\ngarbage\x01\xff\n"
    "1970-01-01T00:16:40.000000000+00:00 stdout F ok\n"
    "1970-01-01T00:16:40.000000000+00:00 stdout F cut-in-the-mi";
  write_file (logpath, corrupt, sizeof corrupt - 1);
  cleanup_free char *a = read_log (logpath, &all);
  assert_string_equal (a, "R F garbage\x01\xff\nO F ok\nO F cut-in-the-mi\n");
  struct cove_ctrlog_filter t = { .tail = 1 };
  cleanup_free char *b = read_log (logpath, &t);
  assert_string_equal (b, "O F cut-in-the-mi\n");
  t.tail = 2;
  cleanup_free char *d = read_log (logpath, &t);
  assert_string_equal (d, "O F ok\nO F cut-in-the-mi\n");

  write_file (logpath, "", 0);
  cleanup_free char *e = read_log (logpath, &t);
  assert_string_equal (e, "");
}

static int
count_fn (const struct cove_ctrlog_entry *e, void *data)
{
  size_t *n = data;
  n[0]++;
  n[1] += e->len;
  n[2] += e->partial;
  return 0;
}

static void
test_read_long (void **state)
{
  /* 3 MiB on one line, as only a corrupt file has: passed on in pieces,
     all its bytes, the last piece with the line's own tag.  */
  size_t big = 3 * 1024 * 1024;
  const char *head = "1970-01-01T00:16:40.000000000+00:00 stdout F ";
  char *s = xmalloc (big + 100);
  size_t hl = strlen (head);
  memcpy (s, head, hl);
  memset (s + hl, 'x', big);
  s[hl + big] = '\n';
  memcpy (s + hl + big + 1, head, hl);
  memcpy (s + 2 * hl + big + 1, "y\n", 2);
  write_file (logpath, s, 2 * hl + big + 3);
  free (s);
  size_t n[3] = { 0, 0, 0 };
  assert_int_equal (cove_ctrlog_read (logpath, &all, count_fn, NULL, n, NULL), 0);
  assert_true (n[0] >= 3);
  assert_int_equal (n[1], big + 1);
  assert_int_equal (n[2], n[0] - 2);
  struct cove_ctrlog_filter t = { .tail = 1 };
  memset (n, 0, sizeof n);
  assert_int_equal (cove_ctrlog_read (logpath, &t, count_fn, NULL, n, NULL), 0);
  assert_int_equal (n[0], 1);
  assert_int_equal (n[1], 1);
}

static bool
child_gone (void *data)
{
  struct collect *c = data;
  return waitpid (c->child, NULL, WNOHANG) == c->child;
}

/* A writer in another process, with pauses and rotations; the follower
   gets every line written after the last rotation it saw... and, since
   rotation replaces the file, at least the lines of the last file.  */
static void
test_follow (void **state)
{
  struct cove_ctrlog *l = cove_ctrlog_open (logpath, 0, NULL);
  log_str (l, 1, "before\n");
  cove_ctrlog_close (l);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      struct cove_ctrlog *w = cove_ctrlog_open (logpath, 0, NULL);
      for (int i = 0; i < 5; i++)
        {
          char line[32];
          snprintf (line, sizeof line, "n%d\n", i);
          usleep (50000);
          if (cove_ctrlog_write (w, i % 2 + 1, line, strlen (line), NULL) < 0)
            _exit (1);
        }
      (void) cove_ctrlog_write (w, 1, "end", 3, NULL);
      cove_ctrlog_close (w);
      _exit (0);
    }
  struct collect c = { .out = xstrdup (""), .child = pid };
  struct cove_ctrlog_filter f = { .tail = -1, .follow = true };
  assert_int_equal (cove_ctrlog_read (logpath, &f, collect_fn, child_gone, &c, NULL), 0);
  assert_string_equal (c.out, "O F before\nO F n0\nE F n1\nO F n2\nE F n3\nO F n4\nO P end\n");
  free (c.out);
}

static void
test_follow_rotation (void **state)
{
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      /* Entries of 48 bytes, 2 per file.  */
      struct cove_ctrlog *w = cove_ctrlog_open (logpath, 100, NULL);
      for (int i = 0; i < 6; i++)
        {
          char line[32];
          snprintf (line, sizeof line, "r%d\n", i);
          if (cove_ctrlog_write (w, 1, line, strlen (line), NULL) < 0)
            _exit (1);
          usleep (150000);
        }
      cove_ctrlog_close (w);
      _exit (0);
    }
  /* Wait for the file to exist.  */
  for (int i = 0; i < 100 && access (logpath, F_OK) < 0; i++)
    usleep (10000);
  struct collect c = { .out = xstrdup (""), .child = pid };
  struct cove_ctrlog_filter f = { .tail = -1, .follow = true };
  assert_int_equal (cove_ctrlog_read (logpath, &f, collect_fn, child_gone, &c, NULL), 0);
  assert_string_equal (c.out, "O F r0\nO F r1\nO F r2\nO F r3\nO F r4\nO F r5\n");
  free (c.out);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_write_format, setup, teardown),
    cmocka_unit_test_setup_teardown (test_write_errors, setup, teardown),
    cmocka_unit_test_setup_teardown (test_rotation, setup, teardown),
    cmocka_unit_test (test_parse_line),
    cmocka_unit_test (test_format_stamp),
    cmocka_unit_test (test_parse_time),
    cmocka_unit_test_setup_teardown (test_read_filters, setup, teardown),
    cmocka_unit_test_setup_teardown (test_read_corrupt, setup, teardown),
    cmocka_unit_test_setup_teardown (test_read_long, setup, teardown),
    cmocka_unit_test_setup_teardown (test_follow, setup, teardown),
    cmocka_unit_test_setup_teardown (test_follow_rotation, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
