/* Unit tests of pkg/spec: request -> config.json.  */
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

#include "pkg/spec/spec.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

static char rootfs[64];

static void
write_file (const char *rel, const char *text)
{
  char *p = xasprintf ("%s/%s", rootfs, rel);
  FILE *f = fopen (p, "w");
  assert_non_null (f);
  fputs (text, f);
  fclose (f);
  free (p);
}

static int
setup (void **state)
{
  snprintf (rootfs, sizeof rootfs, "/tmp/cove-spec-XXXXXX");
  if (mkdtemp (rootfs) == NULL)
    return -1;
  char *etc = xasprintf ("%s/etc", rootfs);
  mkdir (etc, 0755);
  free (etc);
  write_file ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                            "# a comment line\n"
                            "broken line\n"
                            "tester:x:1000:1001::/home/tester:/bin/sh\n");
  write_file ("etc/group", "root:x:0:\ntester:x:1001:\nextra:x:2000:tester,other\n");
  write_file ("env", "# comment\nFROM_FILE=yes\n\nA=file\n");
  return 0;
}

static int
teardown (void **state)
{
  cove_rm_rf (rootfs, NULL);
  return 0;
}

static void
request_init (struct cove_spec_request *r, char **command)
{
  memset (r, 0, sizeof *r);
  r->id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  r->rootfs = rootfs;
  r->command = command;
  r->seccomp = "unconfined";  /* the seccomp table has tests of its own */
}

static const char *
str_at (json_t *doc, const char *path0, const char *path1, size_t i)
{
  json_t *v = json_object_get (json_object_get (doc, path0), path1);
  return json_string_value (json_array_get (v, i));
}

static void
test_generate_defaults (void **state)
{
  char *cmd[] = { "sh", "-c", "true", NULL };
  struct cove_spec_request r;
  struct cove_error *err = NULL;
  request_init (&r, cmd);
  json_t *doc = cove_spec_generate (&r, &err);
  assert_null (err);
  assert_non_null (doc);
  assert_string_equal (json_string_value (json_object_get (doc, "hostname")), "0123456789ab");
  assert_string_equal (str_at (doc, "process", "args", 2), "true");
  json_t *proc = json_object_get (doc, "process");
  assert_string_equal (json_string_value (json_object_get (proc, "cwd")), "/");
  json_t *caps = json_object_get (json_object_get (proc, "capabilities"), "effective");
  assert_int_equal (json_array_size (caps), 11);
  json_t *lin = json_object_get (doc, "linux");
  assert_int_equal (json_array_size (json_object_get (lin, "namespaces")), 6);
  assert_null (json_object_get (lin, "seccomp"));
  assert_true (json_array_size (json_object_get (lin, "maskedPaths")) > 5);
  assert_string_equal (json_string_value (json_object_get (json_object_get (doc, "root"), "path")), rootfs);
  json_decref (doc);
}

static void
test_generate_options (void **state)
{
  char *cmd[] = { "id", NULL };
  char *env[] = { "A=cli", "B=2", NULL };
  char *files[] = { NULL, NULL };
  char *groups[] = { "root", NULL };
  char *drop[] = { "ALL", NULL };
  char *add[] = { "sys_admin", NULL };
  char *vol[1 + 1] = { NULL, NULL };
  char *ulimit[] = { "nofile=100:200", NULL };
  struct cove_spec_request r;
  struct cove_error *err = NULL;
  request_init (&r, cmd);
  files[0] = xasprintf ("%s/env", rootfs);
  vol[0] = xasprintf ("%s:/data:ro", rootfs);
  r.env = env;
  r.env_files = files;
  r.user = "tester";
  r.groups = groups;
  r.cap_drop = drop;
  r.cap_add = add;
  r.volumes = vol;
  r.ulimits = ulimit;
  r.workdir = "/tmp";
  r.ns[COVE_SPEC_NS_PID] = COVE_SPEC_NS_HOST;
  json_t *doc = cove_spec_generate (&r, &err);
  free (files[0]);
  free (vol[0]);
  assert_null (err);
  json_t *proc = json_object_get (doc, "process");
  json_t *user = json_object_get (proc, "user");
  assert_int_equal (json_integer_value (json_object_get (user, "uid")), 1000);
  assert_int_equal (json_integer_value (json_object_get (user, "gid")), 1001);
  json_t *gids = json_object_get (user, "additionalGids");
  assert_int_equal (json_array_size (gids), 2);  /* extra (member), root (--group-add) */
  char *envs = json_dumps (json_object_get (proc, "env"), 0);
  assert_non_null (strstr (envs, "\"A=cli\""));  /* -e wins over --env-file */
  assert_non_null (strstr (envs, "\"FROM_FILE=yes\""));
  assert_non_null (strstr (envs, "\"HOME=/home/tester\""));
  free (envs);
  json_t *bounding = json_object_get (json_object_get (proc, "capabilities"), "bounding");
  assert_int_equal (json_array_size (bounding), 1);
  assert_string_equal (json_string_value (json_array_get (bounding, 0)), "CAP_SYS_ADMIN");
  char *mounts = json_dumps (json_object_get (doc, "mounts"), 0);
  assert_non_null (strstr (mounts, "\"destination\": \"/data\""));
  free (mounts);
  json_t *lin = json_object_get (doc, "linux");
  assert_int_equal (json_array_size (json_object_get (lin, "namespaces")), 5);
  char *rl = json_dumps (json_object_get (proc, "rlimits"), 0);
  assert_non_null (strstr (rl, "\"soft\": 100, \"hard\": 200"));
  free (rl);
  json_decref (doc);
}

static void
expect_failure (struct cove_spec_request *r, int errnum, const char *text)
{
  struct cove_error *err = NULL;
  assert_null (cove_spec_generate (r, &err));
  assert_non_null (err);
  assert_int_equal (err->errnum, errnum);
  if (strstr (err->msg, text) == NULL)
    fail_msg ("`%s` not in `%s`", text, err->msg);
  cove_error_free (err);
}

static void
test_generate_failures (void **state)
{
  char *cmd[] = { "id", NULL };
  struct cove_spec_request r;
  request_init (&r, cmd);
  r.user = "nosuchuser";
  expect_failure (&r, ENOENT, "unable to find user nosuchuser");
  request_init (&r, cmd);
  r.user = "0:nosuchgroup";
  expect_failure (&r, ENOENT, "unable to find group nosuchgroup");
  request_init (&r, cmd);
  char *vol[] = { "/nonexistent-cove:/x", NULL };
  r.volumes = vol;
  expect_failure (&r, ENOENT, "bind mount source `/nonexistent-cove`");
  request_init (&r, cmd);
  char *cap[] = { "CAP_BOGUS", NULL };
  r.cap_add = cap;
  expect_failure (&r, EINVAL, "unknown capability `CAP_BOGUS`");
  request_init (&r, cmd);
  char *ul[] = { "nofile=10:5", NULL };
  r.ulimits = ul;
  expect_failure (&r, EINVAL, "soft limit above hard limit");
  request_init (&r, cmd);
  r.workdir = "relative";
  expect_failure (&r, EINVAL, "must be an absolute path");
  request_init (&r, cmd);
  char *envf[] = { "/nonexistent-cove-env", NULL };
  r.env_files = envf;
  expect_failure (&r, ENOENT, "env file");
  char *none[] = { NULL };
  request_init (&r, none);
  expect_failure (&r, EINVAL, "no command or entrypoint provided");
}

/* /etc/passwd of the rootfs is untrusted: a symlink out of the rootfs must
   resolve inside it, never to the host's file.  */
static void
test_passwd_symlink_stays_inside (void **state)
{
  char *p = xasprintf ("%s/etc/passwd", rootfs);
  char *saved = xasprintf ("%s/etc/passwd.real", rootfs);
  assert_int_equal (rename (p, saved), 0);
  assert_int_equal (symlink ("/../../../../../etc/passwd.real", p), 0);
  char *cmd[] = { "id", NULL };
  struct cove_spec_request r;
  struct cove_error *err = NULL;
  request_init (&r, cmd);
  r.user = "tester";
  json_t *doc = cove_spec_generate (&r, &err);
  assert_null (err);  /* resolved inside the root: etc/passwd.real */
  json_decref (doc);
  unlink (p);
  assert_int_equal (symlink ("/etc/shadow-not-here", p), 0);
  r.user = "root";  /* exists on the host, not in the rootfs */
  expect_failure (&r, ENOENT, "unable to find user root");
  unlink (p);
  assert_int_equal (rename (saved, p), 0);
  free (p);
  free (saved);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_generate_defaults),
    cmocka_unit_test (test_generate_options),
    cmocka_unit_test (test_generate_failures),
    cmocka_unit_test (test_passwd_symlink_stays_inside),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
