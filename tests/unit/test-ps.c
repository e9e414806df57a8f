/* Unit tests of cmd/cove/psfilter.c: what `cove ps` shows of a record
   (status words and strings, the command column, Go's time formats) and
   its --filter.  Also times a listing of 200 records (the `ps -a` budget
   is 20 ms); with COVE_TEST_PS_STORE=DIR it leaves those 200 records in
   DIR/containers for timing the binary by hand.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cove/ps.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#define S 1000000000LL

static struct cove_state_container
record (const char *name, enum cove_state_status st)
{
  struct cove_state_container c = { 0 };
  c.id = xstrdup ("3bb454bfc5426785dfec0b182415af5796f29345ed3fbfeb1e699fa70755afec");
  c.name = xstrdup (name);
  c.state = st;
  c.image_name = xstrdup ("localhost/busybox:latest");
  c.image_id = xstrdup ("b0f4e04540861e2f4a8a685cabd231bf3145e65e2a9afbfba29281f6339cd02c");
  c.extra = json_object ();
  return c;
}

static void
view (const struct cove_state_container *c, struct cove_ps_view *v)
{
  cove_ps_view_of (c, c->state, true, v);
}

static void
test_state_words (void **state)
{
  (void) state;
  assert_string_equal (cove_ps_state_word (COVE_STATE_CONFIGURED), "created");
  assert_string_equal (cove_ps_state_word (COVE_STATE_CREATED), "created");
  assert_string_equal (cove_ps_state_word (COVE_STATE_RUNNING), "running");
  assert_string_equal (cove_ps_state_word (COVE_STATE_PAUSED), "paused");
  assert_string_equal (cove_ps_state_word (COVE_STATE_STOPPED), "exited");
  assert_string_equal (cove_ps_state_word (COVE_STATE_EXITED), "exited");
  assert_string_equal (cove_ps_state_word (COVE_STATE_REMOVING), "removing");
  assert_string_equal (cove_ps_state_word ((enum cove_state_status) 99), "unknown");
}

static void
check_status (struct cove_state_container *c, time_t now, const char *want)
{
  struct cove_ps_view v;
  view (c, &v);
  char *s = cove_ps_status_string (c, &v, now);
  assert_string_equal (s, want);
  free (s);
}

static void
test_status_strings (void **state)
{
  (void) state;
  time_t now = 1800000000;
  struct cove_state_container c = record ("a", COVE_STATE_CREATED);
  check_status (&c, now, "Created");
  c.state = COVE_STATE_CONFIGURED;
  check_status (&c, now, "Created");
  c.state = COVE_STATE_RUNNING;
  c.started_at = (now - 5) * S + 123;
  check_status (&c, now, "Up 5 seconds ago");
  c.started_at = (now - 90) * S;
  check_status (&c, now, "Up About a minute ago");
  c.started_at = now * S;
  check_status (&c, now, "Up Less than a second ago");
  c.state = COVE_STATE_EXITED;
  c.exit_code = 3;
  c.finished_at = (now - 3) * S;
  check_status (&c, now, "Exited (3) 3 seconds ago");
  c.state = COVE_STATE_STOPPED;
  c.exit_code = 137;
  check_status (&c, now, "Exited (137) 3 seconds ago");
  c.state = COVE_STATE_PAUSED;
  check_status (&c, now, "Paused");
  c.state = COVE_STATE_REMOVING;
  check_status (&c, now, "Removing");
  cove_state_container_free (&c);
}

/* A record saying running whose process is gone: shown exited, 137 when
   its monitor is gone too, and nothing written.  */
static void
test_view_of_dead (void **state)
{
  (void) state;
  struct cove_state_container c = record ("a", COVE_STATE_RUNNING);
  pid_t pid = fork ();
  if (pid == 0)
    _exit (0);
  assert_true (pid > 0);
  assert_int_equal (waitpid (pid, NULL, 0), pid);
  c.pid = pid;                  /* reaped: no such process now */
  c.pid_start = 1;
  c.started_at = 5 * S;
  c.exit_code = 0;
  bool monitor_alive = true;
  enum cove_state_status eff = cove_state_effective (&c, &monitor_alive);
  assert_int_equal (eff, COVE_STATE_EXITED);
  assert_false (monitor_alive);
  struct cove_ps_view v;
  cove_ps_view_of (&c, eff, monitor_alive, &v);
  assert_int_equal (v.state, COVE_STATE_EXITED);
  assert_int_equal (v.pid, 0);
  assert_int_equal (v.exit_code, 137);
  assert_true (v.finished_at > c.started_at);
  assert_int_equal (c.state, COVE_STATE_RUNNING);  /* the record is as it was */
  /* Its monitor alive (recording the exit): the record's code stands.  */
  cove_ps_view_of (&c, eff, true, &v);
  assert_int_equal (v.exit_code, 0);
  cove_state_container_free (&c);
}

static void
test_command_string (void **state)
{
  (void) state;
  json_t *cmd = json_pack ("[s,s,s]", "sh", "-c", "echo hello world this is long");
  char *s = cove_ps_command_string (cmd, false);
  assert_string_equal (s, "sh -c echo hello ...");
  free (s);
  s = cove_ps_command_string (cmd, true);
  assert_string_equal (s, "sh -c echo hello world this is long");
  free (s);
  json_decref (cmd);
  cmd = json_pack ("[s,s]", "sleep", "1000");
  s = cove_ps_command_string (cmd, false);
  assert_string_equal (s, "sleep 1000");
  free (s);
  json_decref (cmd);
  cmd = json_pack ("[s]", "12345678901234567");  /* 17 bytes: kept */
  s = cove_ps_command_string (cmd, false);
  assert_string_equal (s, "12345678901234567");
  free (s);
  json_decref (cmd);
  s = cove_ps_command_string (NULL, false);
  assert_string_equal (s, "");
  free (s);
}

static void
test_go_times (void **state)
{
  (void) state;
  setenv ("TZ", "UTC", 1);
  tzset ();
  int64_t t = 1795920294LL * S + 246169395;
  char *s = cove_ps_go_time_ns (t);
  assert_string_equal (s, "2026-11-29 02:44:54.246169395 +0000 UTC");
  free (s);
  s = cove_ps_go_time_ns (1795920294LL * S + 500000000);
  assert_string_equal (s, "2026-11-29 02:44:54.5 +0000 UTC");
  free (s);
  s = cove_ps_rfc3339_ns (t);
  assert_string_equal (s, "2026-11-29T02:44:54.246169395Z");
  free (s);
  s = cove_ps_rfc3339_ns (1795920294LL * S);
  assert_string_equal (s, "2026-11-29T02:44:54Z");
  free (s);
  s = cove_ps_rfc3339_ns (0);
  assert_string_equal (s, "0001-01-01T00:00:00Z");
  free (s);
  setenv ("TZ", "CET-1", 1);
  tzset ();
  s = cove_ps_rfc3339_ns (1795920294LL * S);
  assert_string_equal (s, "2026-11-29T03:44:54+01:00");
  free (s);
  setenv ("TZ", "UTC", 1);
  tzset ();
  assert_int_equal (cove_ps_unix_or_zero (0), -62135596800LL);
  assert_int_equal (cove_ps_unix_or_zero (7 * S + 5), 7);
}

/* Three records for the filter tests: c1 created with labels, r1 running,
   e1 exited (3), created in that order.  */
static void
three (struct cove_state_container v[3])
{
  v[0] = record ("c1", COVE_STATE_CREATED);
  v[1] = record ("r1", COVE_STATE_RUNNING);
  v[2] = record ("e1", COVE_STATE_EXITED);
  free (v[1].id);
  v[1].id = xstrdup ("cbb934b042848d79d59a4c4e5951cbed98d1451392fa90aeb1cf6fa75b76857d");
  free (v[2].id);
  v[2].id = xstrdup ("9c733eac6641a8c8fc3bbf36af22417663042a3630f98af23fe376c9a7ba3054");
  free (v[2].image_name);
  v[2].image_name = xstrdup ("docker.io/library/debian:12");
  free (v[2].image_id);
  v[2].image_id = xstrdup ("aaaa4e04540861e2f4a8a685cabd231bf3145e65e2a9afbfba29281f6339cd0");
  v[2].exit_code = 3;
  cove_strv_append (&v[0].labels, "a=b");
  cove_strv_append (&v[0].labels, "foo=bar");
  cove_strv_append (&v[1].labels, "a=c");
  for (int i = 0; i < 3; i++)
    v[i].created = (i + 1) * S;
}

/* The names of V passing FILTERS, space-separated ("" for none), or the
   error message.  */
static char *
run_filter (struct cove_state_container v[3], const char *const *filters)
{
  struct cove_error *err = NULL;
  struct cove_ps_filter *f = cove_ps_filter_new ((char *const *) filters, v, 3, &err);
  if (f == NULL)
    {
      assert_non_null (err);
      char *m = cove_error_string (err);
      cove_error_free (err);
      return m;
    }
  char *out = xstrdup ("");
  for (int i = 0; i < 3; i++)
    {
      struct cove_ps_view pv;
      view (&v[i], &pv);
      if (cove_ps_filter_match (f, &v[i], &pv))
        {
          char *n = xasprintf ("%s%s%s", out, out[0] ? " " : "", v[i].name);
          free (out);
          out = n;
        }
    }
  cove_ps_filter_free (f);
  return out;
}

static void
expect (struct cove_state_container v[3], const char *want, ...)
{
  const char *filters[8] = { NULL };
  va_list ap;
  va_start (ap, want);
  for (size_t i = 0; i < 7 && (filters[i] = va_arg (ap, const char *)); i++)
    ;
  va_end (ap);
  char *got = run_filter (v, filters);
  assert_string_equal (got, want);
  free (got);
}

static void
test_filters (void **state)
{
  (void) state;
  struct cove_state_container v[3];
  three (v);
  /* One filter each: { what it selects, the filter }, by key.  */
  static const char *const one[][2] = {
    { "e1", "status=exited" }, { "e1", "status=stopped" }, { "r1", "status=running" }, { "", "status=paused" },
    { "c1", "name=^c" }, { "c1 r1 e1", "name=1" },
    { "c1 r1", "label=a" }, { "", "label=a=x" },
    /* id is a regex on the full id, as podman: "3bb" is also inside e1's.  */
    { "c1 e1", "id=3bb" }, { "c1", "id=^3bb" },
    { "c1 r1", "ancestor=busybox" }, { "c1 r1", "ancestor=localhost/busybox:latest" },
    { "e1", "ancestor=debian:12" }, { "e1", "ancestor=aaaa4e" }, { "e1", "ancestor=sha256:aaaa4e" },
    { "", "ancestor=nothing" },
    { "e1", "exited=3" }, { "", "exited=0" },
    { "r1 e1", "since=c1" }, { "c1", "before=r1" }, { "c1", "before=cbb9" },
  };
  for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
    expect (v, one[i][0], one[i][1], NULL);
  expect (v, "c1 r1 e1", NULL);
  /* Filters of one key OR.  */
  expect (v, "c1 e1", "status=exited", "status=created", NULL);
  expect (v, "c1 r1", "name=c1", "name=r1", NULL);
  /* Different keys AND; labels all must match.  */
  expect (v, "c1", "name=1", "label=a=b", NULL);
  expect (v, "c1", "label=a", "label=foo", NULL);
  cove_state_container_free (&v[2]);
  v[2] = record ("x", COVE_STATE_EXITED);
  expect (v, "bogus is an invalid filter", "bogus=1", NULL);
  expect (v, "nokey is an invalid filter", "nokey", NULL);
  expect (v, "unknown container state: bogus: invalid argument", "status=bogus", NULL);
  expect (v, "no container with name or ID \"nope\" found: no such container",
          "since=nope", NULL);
  char *bad = run_filter (v, (const char *const[]) { "name=(", NULL });
  assert_non_null (strstr (bad, "invalid regular expression `(`"));
  free (bad);
  struct cove_error *err = NULL;
  struct cove_ps_filter *f = cove_ps_filter_new (NULL, v, 3, &err);
  assert_non_null (f);
  assert_false (cove_ps_filter_has_status (f));
  cove_ps_filter_free (f);
  f = cove_ps_filter_new ((char *const[]) { "status=running", NULL }, v, 3, &err);
  assert_true (cove_ps_filter_has_status (f));
  cove_ps_filter_free (f);
  for (int i = 0; i < 3; i++)
    cove_state_container_free (&v[i]);
}

static double
ms_since (const struct timespec *t0)
{
  struct timespec t1;
  clock_gettime (CLOCK_MONOTONIC, &t1);
  return (double) (t1.tv_sec - t0->tv_sec) * 1e3 + (double) (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* 200 records: listed, filtered and given their status strings.  */
static void
test_list_200 (void **state)
{
  (void) state;
  const char *keep = getenv ("COVE_TEST_PS_STORE");
  char tmp[] = "/tmp/cove-test-ps-XXXXXX";
  const char *dir = keep ? keep : mkdtemp (tmp);
  assert_non_null (dir);
  struct cove_state_store st;
  struct cove_error *err = NULL;
  assert_int_equal (cove_state_store_open (&st, dir, &err), 0);
  for (int i = 0; i < 200; i++)
    {
      char name[16];
      snprintf (name, sizeof name, "bench%03d", i);
      struct cove_state_container t = record (name, i % 3 ? COVE_STATE_EXITED
                                                           : COVE_STATE_CREATED);
      free (t.id);
      t.id = NULL;
      t.exit_code = i % 7;
      t.started_at = t.finished_at = 1700000000LL * S;
      json_object_set_new (t.extra, "command", json_pack ("[s,s,s]", "sh", "-c", "echo hi"));
      cove_strv_append (&t.labels, "bench=yes");
      assert_int_equal (cove_state_create (&st, &t, NULL, &err), 0);
      cove_state_container_free (&t);
    }
  struct timespec t0;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  struct cove_state_container *all;
  size_t n;
  char **warnings;
  assert_int_equal (cove_state_list (&st, &all, &n, &warnings, &err), 0);
  assert_int_equal (n, 200);
  assert_null (warnings[0]);
  struct cove_ps_filter *f = cove_ps_filter_new ((char *const[]) { "label=bench=yes", NULL },
                                                 all, n, &err);
  size_t shown = 0;
  for (size_t i = 0; i < n; i++)
    {
      bool alive = false;
      struct cove_ps_view v;
      /* Apart: the order of evaluation of arguments is unspecified.  */
      enum cove_state_status eff = cove_state_effective (&all[i], &alive);
      cove_ps_view_of (&all[i], eff, alive, &v);
      char *s = cove_ps_status_string (&all[i], &v, time (NULL));
      shown += cove_ps_filter_match (f, &all[i], &v);
      free (s);
    }
  double ms = ms_since (&t0);
  print_message ("list + filter + status of 200 records: %.2f ms\n", ms);
  assert_int_equal (shown, 200);
  cove_ps_filter_free (f);
  cove_state_container_list_free (all, n);
  cove_strv_free (warnings);
  cove_state_store_close (&st);
  if (!keep)
    assert_int_equal (cove_rm_rf (dir, NULL), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_state_words),
    cmocka_unit_test (test_status_strings),
    cmocka_unit_test (test_view_of_dead),
    cmocka_unit_test (test_command_string),
    cmocka_unit_test (test_go_times),
    cmocka_unit_test (test_filters),
    cmocka_unit_test (test_list_200),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
