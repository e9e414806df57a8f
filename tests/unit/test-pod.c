/* Unit tests of pkg/state's pod store (pod.c): opened beside the
   container store, with the store's guarantees (one of two creates of a
   name wins, remove is whole), and a failure that leaves nothing.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/state/state.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

static char dir[64];

static int
setup (void **state)
{
  (void) state;
  snprintf (dir, sizeof dir, "/tmp/cove-pod-XXXXXX");
  return mkdtemp (dir) ? 0 : -1;
}

static int
teardown (void **state)
{
  (void) state;
  return cove_rm_rf (dir, NULL);
}

static bool
exists (const char *rel)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, rel);
  struct stat st;
  return lstat (p, &st) == 0;
}

static void
test_open_create_load_remove (void **state)
{
  (void) state;
  struct cove_state_store pods, ctrs;
  struct cove_error *err = NULL;
  assert_int_equal (cove_state_pod_store_open (&pods, dir, &err), 0);
  assert_int_equal (cove_state_store_open (&ctrs, dir, &err), 0);
  assert_true (exists ("pods/names"));
  assert_true (exists ("pods/lock"));
  struct cove_state_container t = { .name = (char *) "web",
                                    .state = COVE_STATE_CREATED };
  t.extra = json_pack ("{s:[s, s]}", "share", "net", "uts");
  struct cove_state_container out = { 0 };
  assert_int_equal (cove_state_create (&pods, &t, &out, &err), 0);
  assert_true (cove_state_id_valid (out.id));
  /* A pod's name is its own: a container may have the same.  */
  struct cove_state_container c = { .name = (char *) "web",
                                    .state = COVE_STATE_CREATED };
  struct cove_state_container cout = { 0 };
  assert_int_equal (cove_state_create (&ctrs, &c, &cout, &err), 0);
  /* A second pod of the name: EEXIST, nothing left.  */
  assert_int_equal (cove_state_create (&pods, &t, NULL, &err), -1);
  assert_int_equal (err->errnum, EEXIST);
  cove_error_release (&err);
  struct cove_state_container *v = NULL;
  size_t n = 0;
  char **warnings = NULL;
  assert_int_equal (cove_state_list (&pods, &v, &n, &warnings, &err), 0);
  assert_int_equal (n, 1);
  assert_string_equal (v[0].id, out.id);
  cove_strv_free (warnings);
  cove_state_container_list_free (v, n);
  /* Found by name and prefix, with its extra.  */
  struct cove_state_container got = { 0 };
  cleanup_free char *prefix = xstrndup (out.id, 8);
  assert_int_equal (cove_state_load (&pods, prefix, &got, &err), 0);
  assert_string_equal (got.name, "web");
  assert_int_equal (json_array_size (json_object_get (got.extra, "share")), 2);
  cove_state_container_free (&got);
  assert_int_equal (cove_state_remove (&pods, out.id, &err), 0);
  assert_int_equal (cove_state_load (&pods, "web", &got, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_release (&err);
  cleanup_free char *rec = xasprintf ("pods/%s", out.id);
  assert_false (exists (rec));
  assert_false (exists ("pods/names/web"));
  /* The container of the same name is untouched.  */
  assert_true (exists ("containers/names/web"));
  json_decref (t.extra);
  cove_state_container_free (&out);
  cove_state_container_free (&cout);
  cove_state_store_close (&pods);
  cove_state_store_close (&ctrs);
}

/* Many processes create the same pod name at once: exactly one wins.  */
static void
test_concurrent_create (void **state)
{
  (void) state;
  enum { N = 8 };
  pid_t pids[N];
  for (int i = 0; i < N; i++)
    {
      pids[i] = fork ();
      assert_true (pids[i] >= 0);
      if (pids[i] == 0)
        {
          struct cove_state_store s;
          struct cove_state_container t = { .name = (char *) "race",
                                            .state = COVE_STATE_CREATED };
          int r = cove_state_pod_store_open (&s, dir, NULL) == 0
                  && cove_state_create (&s, &t, NULL, NULL) == 0;
          _exit (r ? 0 : 1);
        }
    }
  int won = 0;
  for (int i = 0; i < N; i++)
    {
      int st;
      assert_int_equal (waitpid (pids[i], &st, 0), pids[i]);
      won += WIFEXITED (st) && WEXITSTATUS (st) == 0;
    }
  assert_int_equal (won, 1);
}

static void
test_open_fails (void **state)
{
  (void) state;
  /* DATA_DIR/pods is a file: the open fails and sets nothing.  */
  cleanup_free char *file = xasprintf ("%s/pods", dir);
  assert_int_equal (cove_file_write_atomic (file, "x", 1, 0600, 0, NULL), 0);
  struct cove_state_store pods;
  struct cove_error *err = NULL;
  assert_int_equal (cove_state_pod_store_open (&pods, dir, &err), -1);
  assert_non_null (err);
  assert_true (err->errnum == ENOTDIR || err->errnum == EEXIST);
  assert_int_equal (pods.dirfd, -1);
  assert_null (pods.root);
  cove_error_release (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_open_create_load_remove, setup, teardown),
    cmocka_unit_test_setup_teardown (test_concurrent_create, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_fails, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
