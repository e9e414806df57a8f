/* Unit tests of storage/: per-user paths.  */
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
#include <unistd.h>

#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "storage/storage.h"

static void
test_paths_xdg (void **state)
{
  setenv ("XDG_DATA_HOME", "/d", 1);
  setenv ("XDG_CONFIG_HOME", "/c", 1);
  setenv ("XDG_RUNTIME_DIR", "/r", 1);
  struct cove_storage_paths p;
  struct cove_error *err = NULL;
  assert_int_equal (cove_storage_paths_init (&p, &err), 0);
  assert_string_equal (p.data_dir, "/d/cove");
  assert_string_equal (p.config_dir, "/c/cove");
  assert_string_equal (p.runtime_dir, "/r/cove");
  cove_storage_paths_free (&p);
}

static void
test_paths_fallbacks (void **state)
{
  unsetenv ("XDG_DATA_HOME");
  setenv ("XDG_CONFIG_HOME", "relative", 1);  /* ignored: not absolute */
  unsetenv ("XDG_RUNTIME_DIR");
  setenv ("HOME", "/home/u", 1);
  struct cove_storage_paths p;
  struct cove_error *err = NULL;
  assert_int_equal (cove_storage_paths_init (&p, &err), 0);
  assert_string_equal (p.data_dir, "/home/u/.local/share/cove");
  assert_string_equal (p.config_dir, "/home/u/.config/cove");
  char *rt = xasprintf ("/tmp/cove-%u", (unsigned) getuid ());
  assert_string_equal (p.runtime_dir, rt);
  free (rt);
  cove_storage_paths_free (&p);
  unsetenv ("HOME");
  assert_int_equal (cove_storage_paths_init (&p, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_free (err);
}

static void
test_container_dir (void **state)
{
  char tmp[] = "/tmp/cove-storage-XXXXXX";
  assert_non_null (mkdtemp (tmp));
  setenv ("XDG_DATA_HOME", tmp, 1);
  setenv ("XDG_CONFIG_HOME", tmp, 1);
  struct cove_storage_paths p;
  struct cove_error *err = NULL;
  assert_int_equal (cove_storage_paths_init (&p, &err), 0);
  char *dir = cove_storage_container_dir_create (&p, "abc", &err);
  assert_non_null (dir);
  struct stat st;
  assert_int_equal (stat (dir, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0700);
  assert_null (cove_storage_container_dir_create (&p, "abc", &err));
  assert_int_equal (err->errnum, EEXIST);
  cove_error_free (err);
  free (dir);
  cove_storage_paths_free (&p);
  cove_rm_rf (tmp, NULL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_paths_xdg),
    cmocka_unit_test (test_paths_fallbacks),
    cmocka_unit_test (test_container_dir),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
