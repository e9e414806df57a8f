/* Unit tests of pkg/state: records, the store, concurrency, corruption,
   crashes, liveness and the cost of a listing.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pkg/state/state.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

/* A listing of 200 records costs a few ms (`cove ps -a` < 20 ms in total:
   that is for the benchmarks to show); the bound here only catches a
   listing gone quadratic, loose enough for a loaded CI machine.
   Sanitizers make everything ten times slower.  */
#if defined(__SANITIZE_ADDRESS__)
#define LIST_BOUND_MS 2000.0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LIST_BOUND_MS 2000.0
#endif
#endif
#ifndef LIST_BOUND_MS
#define LIST_BOUND_MS 200.0
#endif

static char dir[64];
static struct cove_state_store store;

static int
setup (void **state)
{
  snprintf (dir, sizeof dir, "/tmp/cove-state-XXXXXX");
  if (mkdtemp (dir) == NULL)
    return -1;
  return cove_state_store_open (&store, dir, NULL);
}

static int
teardown (void **state)
{
  cove_state_store_close (&store);
  return cove_rm_rf (dir, NULL);
}

static char *
make (const char *name)
{
  struct cove_state_container t = { 0 }, out = { 0 };
  struct cove_error *err = NULL;
  t.name = (char *) name;
  t.state = COVE_STATE_CREATED;
  t.image_name = (char *) "docker.io/library/alpine:latest";
  if (cove_state_create (&store, &t, &out, &err) < 0)
    fail_msg ("create: %s", err->msg);
  char *id = xstrdup (out.id);
  cove_state_container_free (&out);
  return id;
}

static void
test_record_roundtrip (void **state)
{
  struct cove_state_container c = { 0 }, d = { 0 };
  struct cove_error *err = NULL;
  c.id = xstrdup ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  c.name = xstrdup ("web");
  c.state = COVE_STATE_PAUSED;
  c.pid = 42;
  c.pid_start = 1234567;
  c.exit_code = -1;
  c.oom_killed = true;
  c.restart_count = 3;
  cove_strv_append (&c.labels, "a=b=c");
  c.extra = json_pack ("{s:i}", "x", 1);
  cleanup_free char *js = cove_state_container_dump (&c);
  assert_int_equal (cove_state_container_parse (js, strlen (js), &d, &err), 0);
  assert_string_equal (d.name, "web");
  assert_int_equal (d.state, COVE_STATE_PAUSED);
  assert_int_equal (d.pid, 42);
  assert_int_equal (d.pid_start, 1234567);
  assert_int_equal (d.exit_code, -1);
  assert_true (d.oom_killed);
  assert_int_equal (d.restart_count, 3);
  assert_string_equal (d.labels[0], "a=b=c");
  assert_int_equal (json_integer_value (json_object_get (d.extra, "x")), 1);
  cove_state_container_free (&c);
  cove_state_container_free (&d);

  static const char *const bad[] = {
    "", "{", "[]", "{\"id\":\"xyz\",\"state\":\"running\"}",
    "{\"id\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}",
    "{\"id\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
    "\"state\":\"bogus\"}",
    "{\"id\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
    "\"state\":\"running\",\"name\":\"../x\"}",
    "{\"id\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
    "\"state\":\"running\",\"pid\":-4}",
    "{\"id\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
    "\"state\":\"running\",\"labels\":{\"a\":1}}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      assert_int_equal (cove_state_container_parse (bad[i], strlen (bad[i]), &d, &err), -1);
      assert_int_equal (err->errnum, EINVAL);
      assert_null (d.id);
      cove_error_release (&err);
    }
}

static void
test_status_and_names (void **state)
{
  enum cove_state_status st;
  struct cove_error *err = NULL;
  assert_int_equal (cove_state_status_parse ("exited", &st, &err), 0);
  assert_int_equal (st, COVE_STATE_EXITED);
  assert_string_equal (cove_state_status_string (COVE_STATE_REMOVING), "removing");
  assert_int_equal (cove_state_status_parse ("dead", &st, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  assert_true (cove_state_name_valid ("a.b-c_d9"));
  assert_false (cove_state_name_valid ("_x"));
  assert_false (cove_state_name_valid ("a/b"));
  assert_false (cove_state_name_valid (".."));
  assert_false (cove_state_name_valid (""));
  cleanup_free char *g = cove_state_name_generate ();
  assert_true (cove_state_name_valid (g));
  assert_non_null (strchr (g, '_'));
}

static void
test_create_load (void **state)
{
  struct cove_error *err = NULL;
  cleanup_free char *id = make ("web");
  cleanup_free char *auto_id = make (NULL);
  struct cove_state_container c = { 0 };
  assert_int_equal (cove_state_load (&store, "web", &c, &err), 0);
  assert_string_equal (c.id, id);
  assert_int_equal (c.state, COVE_STATE_CREATED);
  assert_true (c.created > 0);
  cove_state_container_free (&c);
  assert_int_equal (cove_state_load (&store, id, &c, &err), 0);
  cove_state_container_free (&c);
  char prefix[13];
  snprintf (prefix, sizeof prefix, "%.12s", auto_id);
  assert_int_equal (cove_state_load (&store, prefix, &c, &err), 0);
  assert_string_equal (c.id, auto_id);
  assert_true (cove_state_name_valid (c.name));
  cove_state_container_free (&c);

  /* taken name, invalid name, unknown container */
  struct cove_state_container t = { 0 };
  t.name = (char *) "web";
  assert_int_equal (cove_state_create (&store, &t, NULL, &err), -1);
  assert_int_equal (err->errnum, EEXIST);
  assert_non_null (strstr (err->msg, "already in use by"));
  cove_error_release (&err);
  t.name = NULL;
  t.extra = json_array ();
  assert_int_equal (cove_state_create (&store, &t, NULL, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  json_decref (t.extra);
  t.extra = NULL;
  t.name = (char *) "bad/name";
  assert_int_equal (cove_state_create (&store, &t, NULL, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  assert_int_equal (cove_state_load (&store, "nothere", &c, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  assert_non_null (strstr (err->msg, "no container with name or ID"));
  cove_error_release (&err);

  /* nothing left behind by the failures */
  struct cove_state_container *v = NULL;
  size_t n = 0;
  cleanup_strv char **w = NULL;
  assert_int_equal (cove_state_list (&store, &v, &n, &w, &err), 0);
  assert_int_equal (n, 2);
  assert_null (w[0]);
  cove_state_container_list_free (v, n);
}

static void
test_ambiguous_prefix (void **state)
{
  struct cove_error *err = NULL;
  struct cove_state_container t = { 0 }, c = { 0 };
  t.id = (char *) "abc0000000000000000000000000000000000000000000000000000000000000";
  assert_int_equal (cove_state_create (&store, &t, NULL, &err), 0);
  t.id = (char *) "abd0000000000000000000000000000000000000000000000000000000000000";
  assert_int_equal (cove_state_create (&store, &t, NULL, &err), 0);
  assert_int_equal (cove_state_load (&store, "ab", &c, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  assert_int_equal (cove_state_load (&store, "abd", &c, &err), 0);
  cove_state_container_free (&c);
  /* the same id twice */
  assert_int_equal (cove_state_create (&store, &t, NULL, &err), -1);
  assert_int_equal (err->errnum, EEXIST);
  cove_error_release (&err);
}

static int
set_running (struct cove_state_container *c, void *ctx, struct cove_error **err)
{
  c->state = COVE_STATE_RUNNING;
  c->pid = *(int *) ctx;
  free (c->name);
  c->name = xstrdup ("hijack");  /* ignored: names are the store's */
  return 0;
}

static int
refuse (struct cove_state_container *c, void *ctx, struct cove_error **err)
{
  c->state = COVE_STATE_EXITED;
  return cove_error_set (err, EPERM, "no");
}

static int
corrupt_pid (struct cove_state_container *c, void *ctx, struct cove_error **err)
{
  c->pid = -5;
  return 0;
}

static void
test_update (void **state)
{
  struct cove_error *err = NULL;
  cleanup_free char *id = make ("db");
  int pid = 77;
  struct cove_state_container c = { 0 };
  assert_int_equal (cove_state_update (&store, id, set_running, &pid, &c, &err), 0);
  assert_int_equal (c.state, COVE_STATE_RUNNING);
  assert_string_equal (c.name, "db");
  cove_state_container_free (&c);
  assert_int_equal (cove_state_update (&store, id, refuse, NULL, NULL, &err), -1);
  assert_int_equal (err->errnum, EPERM);
  cove_error_release (&err);
  assert_int_equal (cove_state_load (&store, "db", &c, &err), 0);
  assert_int_equal (c.state, COVE_STATE_RUNNING);
  assert_int_equal (c.pid, 77);
  cove_state_container_free (&c);
  /* what would not read back is not written */
  assert_int_equal (cove_state_update (&store, id, corrupt_pid, NULL, NULL, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  assert_int_equal (cove_state_load (&store, id, &c, &err), 0);
  assert_int_equal (c.pid, 77);
  cove_state_container_free (&c);
  const char *gone = "ffff000000000000000000000000000000000000000000000000000000000000";
  assert_int_equal (cove_state_update (&store, gone, set_running, &pid, NULL, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_release (&err);
}

static void
test_remove (void **state)
{
  struct cove_error *err = NULL;
  cleanup_free char *id = make ("tmp");
  assert_int_equal (cove_state_remove (&store, id, &err), 0);
  assert_int_equal (cove_state_remove (&store, id, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_release (&err);
  struct stat st;
  assert_int_equal (fstatat (store.dirfd, id, &st, 0), -1);
  assert_int_equal (fstatat (store.dirfd, "names/tmp", &st, AT_SYMLINK_NOFOLLOW), -1);
  /* the name is free again */
  cleanup_free char *id2 = make ("tmp");
  assert_string_not_equal (id, id2);
}

/* Fork N children that wait on a barrier pipe, then run FN (ARG); returns
   how many exited 0 and how many exited with WANT (an errno).  */
static void
fork_many (int n, int (*fn) (const char *), const char *arg, int *out_ok,
           int *out_enoent, int idpipe, int want)
{
  int barrier[2];
  assert_int_equal (pipe2 (barrier, O_CLOEXEC), 0);
  pid_t *pids = xmalloc (n * sizeof *pids);
  for (int i = 0; i < n; i++)
    {
      pids[i] = fork ();
      assert_true (pids[i] >= 0);
      if (pids[i] == 0)
        {
          char b;
          close (barrier[1]);
          if (read (barrier[0], &b, 1) != 0)
            _exit (99);
          _exit (fn (arg));
        }
    }
  close (barrier[0]);
  close (barrier[1]);  /* everyone starts now */
  if (idpipe >= 0)
    close (idpipe);
  *out_ok = *out_enoent = 0;
  for (int i = 0; i < n; i++)
    {
      int status;
      assert_int_equal (waitpid (pids[i], &status, 0), pids[i]);
      assert_true (WIFEXITED (status));
      if (WEXITSTATUS (status) == 0)
        (*out_ok)++;
      else if (WEXITSTATUS (status) == want)
        (*out_enoent)++;
    }
  free (pids);
}

static int idpipe_w = -1;  /* test-only: where create_child writes its id */

static int
create_child (const char *arg)
{
  struct cove_state_store s;
  struct cove_state_container t = { 0 }, out = { 0 };
  struct cove_error *err = NULL;
  t.name = (char *) arg;
  if (cove_state_store_open (&s, dir, &err) < 0
      || cove_state_create (&s, &t, &out, &err) < 0)
    return err->errnum ? err->errnum : 1;
  char line[256];
  int len = snprintf (line, sizeof line, "%s %s\n", out.id, out.name);
  return write (idpipe_w, line, (size_t) len) == len ? 0 : 1;
}

static int
remove_child (const char *id)
{
  struct cove_state_store s;
  struct cove_error *err = NULL;
  if (cove_state_store_open (&s, dir, &err) < 0
      || cove_state_remove (&s, id, &err) < 0)
    return err->errnum ? err->errnum : 1;
  return 0;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
test_concurrency (void **state)
{
  int p[2], ok, enoent;
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  idpipe_w = p[1];
  fork_many (50, create_child, NULL, &ok, &enoent, p[1], 0);
  assert_int_equal (ok, 50);
  cleanup_free char *all = cove_fd_read_all (p[0], 1 << 20, NULL, NULL);
  close (p[0]);
  char *ids[50], *names[50], *save = all;
  for (int i = 0; i < 50; i++)
    {
      ids[i] = save;
      char *sp = strchr (save, ' ');
      *sp = '\0';
      names[i] = sp + 1;
      save = strchr (names[i], '\n');
      *save++ = '\0';
    }
  qsort (ids, 50, sizeof ids[0], cmp_str);
  qsort (names, 50, sizeof names[0], cmp_str);
  for (int i = 1; i < 50; i++)
    {
      assert_string_not_equal (ids[i - 1], ids[i]);
      assert_string_not_equal (names[i - 1], names[i]);
    }
  struct cove_state_container *v = NULL;
  size_t n = 0;
  cleanup_strv char **w = NULL;
  assert_int_equal (cove_state_list (&store, &v, &n, &w, NULL), 0);
  assert_int_equal (n, 50);
  assert_null (w[0]);
  cove_state_container_list_free (v, n);

  fork_many (20, remove_child, ids[7], &ok, &enoent, -1, ENOENT);
  assert_int_equal (ok, 1);
  assert_int_equal (enoent, 19);
  cleanup_strv char **w2 = NULL;
  assert_int_equal (cove_state_list (&store, &v, &n, &w2, NULL), 0);
  assert_int_equal (n, 49);
  cove_state_container_list_free (v, n);
  struct cove_state_problem *pr = NULL;
  size_t npr = 0;
  assert_int_equal (cove_state_check (&store, false, &pr, &npr, NULL), 0);
  assert_int_equal (npr, 0);
  cove_state_problems_free (pr, npr);

  /* 20 creates of the same name: one wins, the others EEXIST */
  int q[2];
  assert_int_equal (pipe2 (q, O_CLOEXEC), 0);
  idpipe_w = q[1];
  fork_many (20, create_child, "same", &ok, &enoent, q[1], EEXIST);
  close (q[0]);
  assert_int_equal (ok, 1);
  assert_int_equal (enoent, 19);
  cleanup_strv char **w3 = NULL;
  assert_int_equal (cove_state_list (&store, &v, &n, &w3, NULL), 0);
  assert_int_equal (n, 50);
  cove_state_container_list_free (v, n);
}

static void
test_corruption (void **state)
{
  struct cove_error *err = NULL;
  cleanup_free char *good = make ("good");
  cleanup_free char *trunc = make ("trunc");
  cleanup_free char *garb = make ("garbage");
  cleanup_free char *half = make ("half");
  cleanup_free char *p1 = xasprintf ("%s/%s/state.json", store.root, trunc);
  assert_int_equal (truncate (p1, 20), 0);
  cleanup_free char *p2 = xasprintf ("%s/%s/state.json", store.root, garb);
  assert_int_equal (cove_file_write_atomic (p2, "\x01\xffgarbage", 9, 0600, 0, &err), 0);
  cleanup_free char *p3 = xasprintf ("%s/%s/state.json", store.root, half);
  assert_int_equal (unlink (p3), 0);

  struct cove_state_container *v = NULL;
  size_t n = 0;
  cleanup_strv char **w = NULL;
  assert_int_equal (cove_state_list (&store, &v, &n, &w, &err), 0);
  assert_int_equal (n, 1);
  assert_string_equal (v[0].id, good);
  cove_state_container_list_free (v, n);
  assert_int_equal (cove_strv_len (w), 3);
  int seen = 0;
  for (char **i = w; *i; i++)
    seen |= (strstr (*i, p1) ? 1 : 0) | (strstr (*i, p2) ? 2 : 0)
            | (strstr (*i, p3) ? 4 : 0);
  assert_int_equal (seen, 7);

  struct cove_state_problem *pr = NULL;
  size_t npr = 0;
  assert_int_equal (cove_state_check (&store, false, &pr, &npr, &err), 0);
  assert_int_equal (npr, 3);  /* the names of the broken point to records */
  cove_state_problems_free (pr, npr);
  assert_int_equal (cove_state_check (&store, true, &pr, &npr, &err), 0);
  assert_true (npr >= 6);  /* 3 records + their 3 names, now dangling */
  for (size_t i = 0; i < npr; i++)
    assert_true (pr[i].repaired);
  cove_state_problems_free (pr, npr);
  assert_int_equal (cove_state_check (&store, false, &pr, &npr, &err), 0);
  assert_int_equal (npr, 0);
  cove_state_problems_free (pr, npr);
  cleanup_strv char **w2 = NULL;
  assert_int_equal (cove_state_list (&store, &v, &n, &w2, &err), 0);
  assert_int_equal (n, 1);
  assert_null (w2[0]);
  cove_state_container_list_free (v, n);
  /* the quarantined record is kept aside, its name is free */
  cleanup_free char *aside = xasprintf (".corrupt-%s", garb);
  struct stat st;
  assert_int_equal (fstatat (store.dirfd, aside, &st, 0), 0);
  cleanup_free char *again = make ("garbage");
}

static void
test_dangling_and_unnamed (void **state)
{
  struct cove_error *err = NULL;
  const char *ghost = "dead000000000000000000000000000000000000000000000000000000000000";
  assert_int_equal (symlinkat (ghost, store.dirfd, "names/ghost"), 0);
  /* a create takes a dangling name over */
  cleanup_free char *id = make ("ghost");
  cleanup_free char *id2 = make ("lost");
  assert_int_equal (unlinkat (store.dirfd, "names/lost", 0), 0);
  assert_int_equal (symlinkat (ghost, store.dirfd, "names/other"), 0);
  struct cove_state_problem *pr = NULL;
  size_t npr = 0;
  assert_int_equal (cove_state_check (&store, true, &pr, &npr, &err), 0);
  assert_int_equal (npr, 2);
  int kinds = 0;
  for (size_t i = 0; i < npr; i++)
    {
      kinds |= 1 << pr[i].kind;
      assert_true (pr[i].repaired);
    }
  assert_int_equal (kinds, (1 << COVE_STATE_PROBLEM_UNNAMED)
                           | (1 << COVE_STATE_PROBLEM_DANGLING_NAME));
  cove_state_problems_free (pr, npr);
  struct cove_state_container c = { 0 };
  assert_int_equal (cove_state_load (&store, "lost", &c, &err), 0);
  assert_string_equal (c.id, id2);
  cove_state_container_free (&c);
}

static const char *crash_point;

static void
crash_hook (const char *point)
{
  if (strcmp (point, crash_point) == 0)
    kill (getpid (), SIGKILL);
}

/* In a child, run create (or remove ID) and die at POINT.  */
static void
crash_at (const char *point, const char *id)
{
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      struct cove_state_container t = { 0 };
      t.name = (char *) "victim";
      crash_point = point;
      store.test_hook = crash_hook;
      if (id)
        cove_state_remove (&store, id, NULL);
      else
        cove_state_create (&store, &t, NULL, NULL);
      _exit (0);
    }
  int status;
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFSIGNALED (status));
}

static void
assert_store_clean (size_t expect)
{
  struct cove_state_container *v = NULL;
  size_t n = 0;
  cleanup_strv char **w = NULL;
  assert_int_equal (cove_state_list (&store, &v, &n, &w, NULL), 0);
  assert_int_equal (n, expect);
  assert_null (w[0]);
  cove_state_container_list_free (v, n);
  struct cove_state_problem *pr = NULL;
  size_t npr = 0;
  assert_int_equal (cove_state_check (&store, true, &pr, &npr, NULL), 0);
  cove_state_problems_free (pr, npr);
  assert_int_equal (cove_state_check (&store, false, &pr, &npr, NULL), 0);
  assert_int_equal (npr, 0);
  cove_state_problems_free (pr, npr);
}

static void
test_crash (void **state)
{
  cleanup_free char *keep = make ("keep");
  static const char *const create_points[] = { "create:init", "create:named",
                                               "create:staged" };
  for (size_t i = 0; i < 3; i++)
    {
      crash_at (create_points[i], NULL);
      assert_store_clean (1);
      /* and the name is usable */
      cleanup_free char *id = make ("victim");
      assert_int_equal (cove_state_remove (&store, id, NULL), 0);
    }
  static const char *const rm_points[] = { "remove:renamed", "remove:unnamed" };
  for (size_t i = 0; i < 2; i++)
    {
      cleanup_free char *id = make ("victim");
      crash_at (rm_points[i], id);
      struct cove_state_container c = { 0 };
      struct cove_error *err = NULL;
      assert_int_equal (cove_state_load (&store, id, &c, &err), -1);
      assert_int_equal (err->errnum, ENOENT);
      cove_error_release (&err);
      assert_store_clean (1);
      cleanup_free char *again = make ("victim");
      assert_int_equal (cove_state_remove (&store, again, NULL), 0);
    }
}

static void
test_liveness (void **state)
{
  struct cove_error *err = NULL;
  struct cove_state_container c = { 0 };
  c.state = COVE_STATE_RUNNING;
  c.pid = getpid ();
  assert_int_equal (cove_state_proc_start_time (c.pid, &c.pid_start, &err), 0);
  assert_true (c.pid_start > 0);
  c.monitor_pid = getppid ();
  assert_int_equal (cove_state_proc_start_time (c.monitor_pid, &c.monitor_start, &err), 0);
  bool mon = false;
  assert_int_equal (cove_state_effective (&c, &mon), COVE_STATE_RUNNING);
  assert_true (mon);
  /* live pid, other start time: the pid was reused */
  c.pid_start++;
  assert_int_equal (cove_state_effective (&c, NULL), COVE_STATE_EXITED);
  /* a dead pid */
  pid_t pid = fork ();
  if (pid == 0)
    _exit (0);
  assert_int_equal (waitpid (pid, NULL, 0), pid);
  c.pid = pid;
  c.monitor_pid = pid;
  assert_int_equal (cove_state_effective (&c, &mon), COVE_STATE_EXITED);
  assert_false (mon);
  assert_int_equal (cove_state_proc_start_time (pid, &c.pid_start, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_release (&err);
  /* a stopped record stays stopped */
  c.state = COVE_STATE_STOPPED;
  assert_int_equal (cove_state_effective (&c, NULL), COVE_STATE_STOPPED);
}

static void
test_list_200 (void **state)
{
  for (int i = 0; i < 200; i++)
    free (make (NULL));
  struct timespec a, b;
  double best = 1e9;
  for (int round = 0; round < 5; round++)
    {
      struct cove_state_container *v = NULL;
      size_t n = 0;
      cleanup_strv char **w = NULL;
      clock_gettime (CLOCK_MONOTONIC, &a);
      assert_int_equal (cove_state_list (&store, &v, &n, &w, NULL), 0);
      clock_gettime (CLOCK_MONOTONIC, &b);
      assert_int_equal (n, 200);
      for (size_t i = 1; i < n; i++)
        assert_true (v[i - 1].created <= v[i].created);
      cove_state_container_list_free (v, n);
      double ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
      if (ms < best)
        best = ms;
    }
  print_message ("listing 200 records: %.2f ms (best of 5)\n", best);
  assert_true (best < LIST_BOUND_MS);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_record_roundtrip),
    cmocka_unit_test (test_status_and_names),
    cmocka_unit_test_setup_teardown (test_create_load, setup, teardown),
    cmocka_unit_test_setup_teardown (test_ambiguous_prefix, setup, teardown),
    cmocka_unit_test_setup_teardown (test_update, setup, teardown),
    cmocka_unit_test_setup_teardown (test_remove, setup, teardown),
    cmocka_unit_test_setup_teardown (test_concurrency, setup, teardown),
    cmocka_unit_test_setup_teardown (test_corruption, setup, teardown),
    cmocka_unit_test_setup_teardown (test_dangling_and_unnamed, setup, teardown),
    cmocka_unit_test_setup_teardown (test_crash, setup, teardown),
    cmocka_unit_test_setup_teardown (test_liveness, setup, teardown),
    cmocka_unit_test_setup_teardown (test_list_200, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
