/* Unit tests of pkg/runtime: config.json parsing, exit status mapping, and
   (as root, with busybox) a real container run.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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

static struct runtime_config *
parse (const char *doc, struct cove_error **err)
{
  return runtime_config_parse (doc, strlen (doc), "/b", err);
}

#define MINIMAL \
  "{\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":\"rootfs\"}"

static void
test_parse_minimal (void **state)
{
  struct cove_error *err = NULL;
  struct runtime_config *cfg = parse (MINIMAL "}", &err);
  assert_non_null (cfg);
  assert_null (err);
  assert_string_equal (cfg->root_path, "/b/rootfs");
  assert_string_equal (cfg->args[0], "sh");
  assert_null (cfg->args[1]);
  assert_null (cfg->env[0]);
  assert_string_equal (cfg->cwd, "/");
  assert_false (cfg->terminal);
  assert_false (cfg->has_caps);
  assert_int_equal (cfg->n_mounts, 0);
  assert_int_equal (cfg->n_namespaces, 0);
  assert_null (cfg->masked_paths[0]);
  assert_null (cfg->seccomp);
  runtime_config_free (cfg);
}

static const char full_doc[] =
  "{\"process\":{\"terminal\":true,\"user\":{\"uid\":1000,\"gid\":100,"
  "\"additionalGids\":[5,10]},\"args\":[\"/bin/sh\",\"-c\",\"true\"],"
  "\"env\":[\"PATH=/bin\"],\"cwd\":\"/tmp\",\"noNewPrivileges\":true,"
  "\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\"],"
  "\"effective\":[\"CAP_KILL\"],\"ambient\":[]},"
  "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":4096}]},"
  "\"root\":{\"path\":\"/r\",\"readonly\":true},\"hostname\":\"h\","
  "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
  "{\"destination\":\"/v\",\"source\":\"vol\",\"options\":[\"rbind\",\"ro\"]}],"
  "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},"
  "{\"type\":\"user\"},{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"}],"
  "\"devices\":[{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229}],"
  "\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"],"
  "\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"},"
  "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"}}}";

static void
test_parse_full (void **state)
{
  struct cove_error *err = NULL;
  struct runtime_config *cfg = parse (full_doc, &err);
  assert_non_null (cfg);
  assert_true (cfg->terminal);
  assert_int_equal (cfg->uid, 1000);
  assert_int_equal (cfg->gid, 100);
  assert_int_equal (cfg->n_additional_gids, 2);
  assert_int_equal (cfg->additional_gids[1], 10);
  assert_string_equal (cfg->cwd, "/tmp");
  assert_true (cfg->no_new_privs);
  assert_true (cfg->has_caps);
  assert_int_equal (cfg->caps[RUNTIME_CAP_BOUNDING], (1 << 0) | (1 << 5));
  assert_int_equal (cfg->caps[RUNTIME_CAP_EFFECTIVE], 1 << 5);
  assert_int_equal (cfg->caps[RUNTIME_CAP_PERMITTED], 0);
  assert_int_equal (cfg->n_rlimits, 1);
  assert_int_equal (cfg->rlimits[0].resource, RLIMIT_NOFILE);
  assert_int_equal (cfg->rlimits[0].soft, 1024);
  assert_int_equal (cfg->rlimits[0].hard, 4096);
  assert_string_equal (cfg->root_path, "/r");
  assert_true (cfg->root_readonly);
  assert_string_equal (cfg->hostname, "h");
  assert_int_equal (cfg->n_mounts, 2);
  /* No type but a bind option: a bind mount, source relative to bundle.  */
  assert_string_equal (cfg->mounts[1].type, "bind");
  assert_string_equal (cfg->mounts[1].source, "/b/vol");
  /* "user" is the caller's own: not kept.  */
  assert_int_equal (cfg->n_namespaces, 3);
  assert_int_equal (runtime_config_clone_flags (cfg), CLONE_NEWPID | CLONE_NEWNS);
  assert_string_equal (runtime_config_namespace (cfg, CLONE_NEWNET)->path,
                       "/proc/1/ns/net");
  assert_null (runtime_config_namespace (cfg, CLONE_NEWIPC));
  assert_int_equal (cfg->n_devices, 1);
  assert_int_equal (cfg->devices[0].type, 'c');
  assert_string_equal (cfg->masked_paths[0], "/proc/kcore");
  assert_string_equal (cfg->readonly_paths[0], "/proc/sys");
  assert_string_equal (cfg->sysctl_keys[0], "net.ipv4.ip_forward");
  assert_string_equal (cfg->sysctl_values[0], "1");
  assert_non_null (cfg->seccomp);
  runtime_config_free (cfg);
}

/* DOC must fail with EINVAL and a message containing WHAT.  */
static void
expect_invalid (const char *doc, const char *what)
{
  struct cove_error *err = NULL;
  assert_null (parse (doc, &err));
  assert_non_null (err);
  assert_int_equal (err->errnum, EINVAL);
  if (strstr (err->msg, what) == NULL)
    fail_msg ("message `%s` lacks `%s`", err->msg, what);
  cove_error_free (err);
}

static void
test_parse_malformed (void **state)
{
  expect_invalid ("{\"process\":", "config.json: line 1");
  expect_invalid ("[]", "not an object");
  expect_invalid ("{\"root\":{\"path\":\"r\"}}", "`process`");
  expect_invalid (MINIMAL ",\"root\":{}}", "config.json");
  expect_invalid ("{\"process\":{\"args\":\"sh\"},\"root\":{\"path\":\"r\"}}",
                  "`process.args` is not an array");
  expect_invalid ("{\"process\":{\"args\":[1]},\"root\":{\"path\":\"r\"}}",
                  "`process.args`");
  expect_invalid ("{\"process\":{\"args\":[\"sh\"],\"cwd\":\"rel\"},"
                  "\"root\":{\"path\":\"r\"}}", "`process.cwd`");
  expect_invalid ("{\"process\":{\"args\":[\"sh\"],\"user\":{\"uid\":-1}},"
                  "\"root\":{\"path\":\"r\"}}", "`process.user.uid`");
}

static void
test_parse_missing_args (void **state)
{
  expect_invalid ("{\"process\":{},\"root\":{\"path\":\"r\"}}",
                  "`process.args` is missing or empty");
  expect_invalid ("{\"process\":{\"args\":[]},\"root\":{\"path\":\"r\"}}",
                  "`process.args` is missing or empty");
  expect_invalid ("{\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"\"]}}",
                  "`process.args`");
}

static void
test_parse_bad_names (void **state)
{
  expect_invalid ("{\"process\":{\"args\":[\"sh\"],\"rlimits\":[{\"type\":"
                  "\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]},\"root\":{\"path\":\"r\"}}",
                  "unknown rlimit `RLIMIT_BOGUS`");
  expect_invalid ("{\"process\":{\"args\":[\"sh\"],\"capabilities\":{\"bounding\":"
                  "[\"CAP_BOGUS\"]}},\"root\":{\"path\":\"r\"}}",
                  "unknown capability `CAP_BOGUS`");
  expect_invalid (MINIMAL ",\"linux\":{\"namespaces\":[{\"type\":\"bogus\"}]}}",
                  "unknown namespace `bogus`");
  expect_invalid (MINIMAL ",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},"
                  "{\"type\":\"pid\"}]}}", "listed twice");
  expect_invalid (MINIMAL ",\"mounts\":[{\"destination\":\"x\",\"type\":\"tmpfs\"}]}",
                  "`mounts.destination`");
  expect_invalid (MINIMAL ",\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\"}]}",
                  "`mounts.source`");
  expect_invalid (MINIMAL ",\"linux\":{\"sysctl\":{\"../x\":\"1\"}}}",
                  "invalid sysctl");
  expect_invalid (MINIMAL ",\"linux\":{\"devices\":[{\"path\":\"/dev/x\","
                  "\"type\":\"z\"}]}}", "`linux.devices.type`");
}

static void
test_exit_status (void **state)
{
  siginfo_t info = { 0 };
  info.si_code = CLD_EXITED;
  info.si_status = 7;
  assert_int_equal (runtime_exit_status (&info), 7);
  info.si_status = 0;
  assert_int_equal (runtime_exit_status (&info), 0);
  info.si_code = CLD_KILLED;
  info.si_status = SIGKILL;
  assert_int_equal (runtime_exit_status (&info), 137);
  info.si_code = CLD_DUMPED;
  info.si_status = SIGSEGV;
  assert_int_equal (runtime_exit_status (&info), 139);
}

static void
test_create_no_bundle (void **state)
{
  struct cove_runtime_process p = { 42, 42, 42 };
  struct cove_error *err = NULL;
  int status = 0;
  assert_int_equal (cove_runtime_create ("/nonexistent/bundle", NULL, &p, &status, &err), -1);
  assert_non_null (err);
  assert_int_equal (err->errnum, ENOENT);
  assert_int_equal (status, 125);
  assert_int_equal (p.pidfd, -1);
  assert_int_equal (p.console_fd, -1);
  cove_error_free (err);
}

static char bundle[64];

static void
write_config (const char *json)
{
  cleanup_free char *path = xasprintf ("%s/config.json", bundle);
  assert_int_equal (cove_file_write_atomic (path, json, strlen (json), 0644, 0, NULL), 0);
}

static void
test_create_no_mount_ns (void **state)
{
  snprintf (bundle, sizeof bundle, "/tmp/cove-runtime-XXXXXX");
  assert_non_null (mkdtemp (bundle));
  write_config (MINIMAL "}");
  struct cove_runtime_process p;
  struct cove_error *err = NULL;
  int status = 0;
  assert_int_equal (cove_runtime_create (bundle, NULL, &p, &status, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  assert_int_equal (status, 125);
  cove_error_free (err);
  assert_int_equal (cove_rm_rf (bundle, NULL), 0);
}

/* A busybox rootfs in a fresh bundle; false (skip) when this cannot run a
   container: not root, or no static busybox.  */
static bool
make_bundle (void)
{
  const char *bb = access ("/bin/busybox", X_OK) == 0 ? "/bin/busybox" : "/usr/bin/busybox";
  if (geteuid () != 0 || access (bb, X_OK) != 0)
    return false;
  snprintf (bundle, sizeof bundle, "/tmp/cove-runtime-XXXXXX");
  assert_non_null (mkdtemp (bundle));
  cleanup_free char *bin = xasprintf ("%s/rootfs/bin", bundle);
  assert_int_equal (cove_mkdir_p (bin, 0755, NULL), 0);
  size_t len = 0;
  cleanup_free char *data = cove_file_read_at (AT_FDCWD, bb, 1 << 30, &len, NULL);
  assert_non_null (data);
  cleanup_free char *dst = xasprintf ("%s/busybox", bin);
  assert_int_equal (cove_file_write_atomic (dst, data, len, 0755, 0, NULL), 0);
  const char *links[] = { "sh", "true", "sleep" };
  for (size_t i = 0; i < 3; i++)
    {
      cleanup_free char *l = xasprintf ("%s/%s", bin, links[i]);
      assert_int_equal (symlink ("busybox", l), 0);
    }
  return true;
}

static int
create (const char *args, const char *extra, struct cove_runtime_process *p,
        int *status, struct cove_error **err)
{
  cleanup_free char *json = xasprintf (
    "{\"process\":{\"args\":%s,\"env\":[\"PATH=/bin\"]},"
    "\"root\":{\"path\":\"rootfs\"},\"hostname\":\"t\",\"mounts\":["
    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
    "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}],"
    "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},"
    "{\"type\":\"uts\"},{\"type\":\"ipc\"},{\"type\":\"network\"}]%s}}",
    args, extra);
  write_config (json);
  return cove_runtime_create (bundle, NULL, p, status, err);
}

static int
run (const char *args, const char *extra, struct cove_error **err)
{
  struct cove_runtime_process p;
  int status = -1;
  if (create (args, extra, &p, &status, err) < 0)
    return status;
  assert_int_equal (p.console_fd, -1);
  assert_true (p.pidfd >= 0);
  assert_int_equal (cove_runtime_wait (&p, false, &status, err), 0);
  assert_int_equal (p.pidfd, -1);
  return status;
}

static int
count_fds (void)
{
  cleanup_dir DIR *d = opendir ("/proc/self/fd");
  int n = 0;
  while (d && readdir (d))
    n++;
  return n;
}

static void
test_create_run (void **state)
{
  if (!make_bundle ())
    skip ();
  struct cove_error *err = NULL;
  int status = run ("[\"sh\",\"-c\",\"[ $$ = 1 ] && [ $(hostname) = t ] && exit 7\"]",
                    "", &err);
  if (status == 125 && err->errnum == EPERM)
    {
      /* A sandbox that forbids namespaces: nothing to test here.  */
      cove_error_release (&err);
      cove_rm_rf (bundle, NULL);
      skip ();
    }
  assert_null (err);
  assert_int_equal (status, 7);
  /* pid 1 killed from outside its pid namespace.  */
  struct cove_runtime_process p;
  assert_int_equal (create ("[\"sleep\",\"10\"]", "", &p, &status, &err), 0);
  assert_int_equal (pidfd_send_signal (p.pidfd, SIGKILL, NULL, 0), 0);
  assert_int_equal (cove_runtime_wait (&p, true, &status, &err), 0);
  assert_int_equal (status, 137);
  assert_int_equal (run ("[\"true\"]", ",\"maskedPaths\":[\"/proc/kcore\"],"
                         "\"readonlyPaths\":[\"/proc/sys\"]", &err), 0);
  assert_null (err);

  /* A failed create leaves no fd (nor process) behind.  */
  int fds = count_fds ();
  assert_int_equal (run ("[\"nonexistent\"]", "", &err), 127);
  assert_int_equal (count_fds (), fds);
  assert_int_equal (waitpid (-1, NULL, WNOHANG), -1);
  assert_int_equal (errno, ECHILD);
  assert_int_equal (err->errnum, ENOENT);
  assert_string_equal (err->msg, "executable file `nonexistent` not found in $PATH");
  cove_error_release (&err);

  assert_int_equal (run ("[\"/bin\"]", "", &err), 126);
  cove_error_release (&err);

  assert_int_equal (run ("[\"true\"]", ",\"sysctl\":{\"no.such.key\":\"1\"}", &err), 125);
  assert_int_equal (err->errnum, ENOENT);
  assert_non_null (strstr (err->msg, "sysctl `no.such.key`"));
  cove_error_release (&err);
  assert_int_equal (cove_rm_rf (bundle, NULL), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_minimal),
    cmocka_unit_test (test_parse_full),
    cmocka_unit_test (test_parse_malformed),
    cmocka_unit_test (test_parse_missing_args),
    cmocka_unit_test (test_parse_bad_names),
    cmocka_unit_test (test_exit_status),
    cmocka_unit_test (test_create_no_bundle),
    cmocka_unit_test (test_create_no_mount_ns),
    cmocka_unit_test (test_create_run),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
