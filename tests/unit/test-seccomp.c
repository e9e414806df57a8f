/* Unit tests of seccomp: the default profile and the converter of docker
   profiles (pkg/spec), the compiler and loader (pkg/runtime).  Filters are
   loaded in forked children, which report through their exit code.  */
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
#include <signal.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pkg/runtime/seccomp-filter.h"
#include "pkg/spec/spec.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

static char dir[64];

static const char *const default_caps[] = {
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
  "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
  "CAP_SETUID", "CAP_SYS_CHROOT", NULL,
};

static int
setup (void **state)
{
  snprintf (dir, sizeof dir, "/tmp/cove-seccomp-XXXXXX");
  return mkdtemp (dir) ? 0 : -1;
}

static int
teardown (void **state)
{
  return cove_rm_rf (dir, NULL);
}

static double
now_ms (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* The action of the first argument-less rule naming NAME, or NULL;
   *OUT_ERRNO its errnoRet (0 if none).  */
static const char *
rule_for (json_t *profile, const char *name, int *out_errno)
{
  size_t i, j;
  json_t *row, *n;
  json_array_foreach (json_object_get (profile, "syscalls"), i, row)
    {
      if (json_object_get (row, "args"))
        continue;
      json_array_foreach (json_object_get (row, "names"), j, n)
        if (strcmp (json_string_value (n), name) == 0)
          {
            *out_errno = (int) json_integer_value (json_object_get (row, "errnoRet"));
            return json_string_value (json_object_get (row, "action"));
          }
    }
  *out_errno = 0;
  return NULL;
}

static void
write_file (const char *name, const char *content, char **out_path)
{
  *out_path = xasprintf ("%s/%s", dir, name);
  assert_int_equal (cove_file_write_atomic (*out_path, content,
                                            strlen (content), 0644, 0, NULL), 0);
}

static void
test_default_profile (void **state)
{
  struct cove_error *err = NULL;
  json_t *p = cove_spec_seccomp_default (default_caps, &err);
  assert_non_null (p);
  assert_null (err);
  assert_string_equal (json_string_value (json_object_get (p, "defaultAction")),
                       "SCMP_ACT_ERRNO");
  assert_int_equal (json_integer_value (json_object_get (p, "defaultErrnoRet")),
                    ENOSYS);
#ifdef __x86_64__
  json_t *arches = json_object_get (p, "architectures");
  assert_int_equal (json_array_size (arches), 3);
  assert_string_equal (json_string_value (json_array_get (arches, 0)),
                       "SCMP_ARCH_X86_64");
#endif
  int e;
  assert_string_equal (rule_for (p, "read", &e), "SCMP_ACT_ALLOW");
  assert_string_equal (rule_for (p, "keyctl", &e), "SCMP_ACT_ERRNO");
  assert_int_equal (e, EPERM);
  assert_string_equal (rule_for (p, "mount", &e), "SCMP_ACT_ERRNO");
  assert_int_equal (e, EPERM);
  assert_string_equal (rule_for (p, "chroot", &e), "SCMP_ACT_ALLOW");
  assert_string_equal (rule_for (p, "clone3", &e), "SCMP_ACT_ERRNO");
  assert_int_equal (e, ENOSYS);
  assert_null (rule_for (p, "io_uring_setup", &e));
  /* clone only with the namespace-flags rule.  */
  assert_null (rule_for (p, "clone", &e));
  json_decref (p);
}

static void
test_default_profile_caps (void **state)
{
  const char *const caps[] = { "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", NULL };
  json_t *p = cove_spec_seccomp_default (caps, NULL);
  int e;
  assert_string_equal (rule_for (p, "mount", &e), "SCMP_ACT_ALLOW");
  assert_string_equal (rule_for (p, "clone", &e), "SCMP_ACT_ALLOW");
  assert_string_equal (rule_for (p, "clone3", &e), "SCMP_ACT_ALLOW");
  assert_string_equal (rule_for (p, "kcmp", &e), "SCMP_ACT_ALLOW");
  /* No CAP_SYS_CHROOT here.  */
  assert_string_equal (rule_for (p, "chroot", &e), "SCMP_ACT_ERRNO");
  json_decref (p);
}

static const char small_profile[] =
  "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1,"
  " \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\","
  "   \"subArchitectures\": [\"SCMP_ARCH_X86\"]},"
  "  {\"architecture\": \"SCMP_ARCH_AARCH64\","
  "   \"subArchitectures\": [\"SCMP_ARCH_ARM\"]}],"
  " \"syscalls\": ["
  "  {\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\","
  "   \"args\": [], \"comment\": \"\", \"includes\": {}, \"excludes\": {}},"
  "  {\"name\": \"getpid\", \"action\": \"SCMP_ACT_ALLOW\"},"
  "  {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\","
  "   \"args\": [{\"index\": 0, \"value\": 8, \"valueTwo\": 0,"
  "              \"op\": \"SCMP_CMP_EQ\"}]},"
  "  {\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ALLOW\","
  "   \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},"
  "  {\"names\": [\"chown\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13,"
  "   \"excludes\": {\"caps\": [\"CAP_CHOWN\"]}},"
  "  {\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ALLOW\","
  "   \"includes\": {\"minKernel\": \"4.8\"}},"
  "  {\"names\": [\"uselib\"], \"action\": \"SCMP_ACT_ALLOW\","
  "   \"includes\": {\"minKernel\": \"999.1\"}},"
  "  {\"names\": [\"iopl\"], \"action\": \"SCMP_ACT_ALLOW\","
  "   \"includes\": {\"arches\": [\"s390x\"]}}]}";

static void
test_from_file (void **state)
{
  cleanup_free char *path = NULL;
  write_file ("small.json", small_profile, &path);
  struct cove_error *err = NULL;
  const char *const caps[] = { "CAP_CHOWN", NULL };
  json_t *p = cove_spec_seccomp_from_file (path, caps, &err);
  assert_null (err);
  assert_non_null (p);
  assert_int_equal (json_integer_value (json_object_get (p, "defaultErrnoRet")), 1);
#ifdef __x86_64__
  json_t *arches = json_object_get (p, "architectures");
  assert_int_equal (json_array_size (arches), 2);
  assert_string_equal (json_string_value (json_array_get (arches, 1)),
                       "SCMP_ARCH_X86");
#endif
  int e;
  assert_string_equal (rule_for (p, "write", &e), "SCMP_ACT_ALLOW");
  assert_string_equal (rule_for (p, "getpid", &e), "SCMP_ACT_ALLOW");
  assert_string_equal (rule_for (p, "ptrace", &e), "SCMP_ACT_ALLOW");
  assert_null (rule_for (p, "mount", &e));
  assert_null (rule_for (p, "chown", &e));
  assert_null (rule_for (p, "uselib", &e));
  assert_null (rule_for (p, "iopl", &e));
  /* read, write; getpid; personality; ptrace */
  assert_int_equal (json_array_size (json_object_get (p, "syscalls")), 4);
  json_t *pers = json_array_get (json_object_get (p, "syscalls"), 2);
  json_t *arg = json_array_get (json_object_get (pers, "args"), 0);
  assert_string_equal (json_string_value (json_object_get (arg, "op")),
                       "SCMP_CMP_EQ");
  assert_int_equal (json_integer_value (json_object_get (arg, "value")), 8);
  json_decref (p);

  p = cove_spec_seccomp_from_file (path, NULL, &err);
  assert_string_equal (rule_for (p, "chown", &e), "SCMP_ACT_ERRNO");
  assert_int_equal (e, EACCES);
  json_decref (p);
}

static void
test_from_file_missing (void **state)
{
  struct cove_error *err = NULL;
  cleanup_free char *path = xasprintf ("%s/none.json", dir);
  assert_null (cove_spec_seccomp_from_file (path, NULL, &err));
  assert_non_null (err);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_release (&err);
}

static void
expect_einval (const char *doc, const char *needle)
{
  struct cove_error *err = NULL;
  json_t *p = cove_spec_seccomp_from_buffer (doc, strlen (doc), NULL, &err);
  assert_null (p);
  assert_non_null (err);
  assert_int_equal (err->errnum, EINVAL);
  if (strstr (err->msg, needle) == NULL)
    fail_msg ("`%s` does not name `%s`", err->msg, needle);
  cove_error_release (&err);
}

static void
test_from_file_malformed (void **state)
{
  cleanup_free char *path = NULL;
  write_file ("bad.json", "{\"defaultAction\": \"SCMP_ACT_NOPE\"}", &path);
  struct cove_error *err = NULL;
  assert_null (cove_spec_seccomp_from_file (path, NULL, &err));
  assert_int_equal (err->errnum, EINVAL);
  assert_non_null (strstr (err->msg, "bad.json"));
  assert_non_null (strstr (err->msg, "SCMP_ACT_NOPE"));
  cove_error_release (&err);

  expect_einval ("{\"defaultAction\": ", "not valid JSON");
  expect_einval ("[1]", "not a JSON object");
  expect_einval ("{}", "defaultAction");
  expect_einval ("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
                 "[{\"names\": \"read\", \"action\": \"SCMP_ACT_ERRNO\"}]}",
                 "syscalls[0].names");
  expect_einval ("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
                 "[{\"names\": [\"read\"], \"action\": \"SCMP_ACT_FOO\"}]}",
                 "syscalls[0].action");
  expect_einval ("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
                 "[{\"names\": [\"read\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
                 "NOTIFY");
  expect_einval ("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
                 "[{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\","
                 " \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_XX\"}]}]}",
                 "args[0].op");
  expect_einval ("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
                 "[{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\","
                 " \"args\": [{\"index\": 6, \"op\": \"SCMP_CMP_EQ\"}]}]}",
                 "args[0].index");
  expect_einval ("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
                 "[{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
                 " \"errnoRet\": 1}]}", "errnoRet");
  expect_einval ("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
                 "[{\"name\": \"read\", \"names\": [\"read\"],"
                 " \"action\": \"SCMP_ACT_ERRNO\"}]}", "both");
  expect_einval ("{\"defaultAction\": \"SCMP_ACT_ALLOW\","
                 " \"architectures\": [\"SCMP_ARCH_Z80\"]}", "architectures[0]");
  expect_einval ("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
                 "[{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\","
                 " \"includes\": {\"caps\": [1]}}]}", "includes.caps[0]");
  expect_einval ("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
                 "[{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\","
                 " \"includes\": {\"minKernel\": \"four\"}}]}", "minKernel");
  expect_einval ("{\"defaultAction\": \"SCMP_ACT_ALLOW\","
                 " \"defaultAction\": \"SCMP_ACT_KILL\"}", "duplicate");
  expect_einval ("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"X\"]}",
                 "flags[0]");
}

static void
test_from_file_too_big (void **state)
{
  cleanup_free char *path = xasprintf ("%s/big.json", dir);
  int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  assert_true (fd >= 0);
  assert_int_equal (ftruncate (fd, 9 << 20), 0);
  close (fd);
  struct cove_error *err = NULL;
  assert_null (cove_spec_seccomp_from_file (path, NULL, &err));
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
}

/* Exit codes of the child: 0 all as expected, else the failed check.  */
static int
check_default_filter (void)
{
  errno = 0;
  if (syscall (__NR_keyctl, 0, 0, 0, 0, 0) != -1 || errno != EPERM)
    return 10;
  if (syscall (__NR_add_key, 0, 0, 0, 0, 0) != -1 || errno != EPERM)
    return 11;
  if (syscall (__NR_mount, 0, 0, 0, 0, 0) != -1 || errno != EPERM)
    return 12;
  /* Not listed: ENOSYS (the kernel would say EFAULT or EINVAL).  */
  if (syscall (__NR_io_uring_setup, 0, NULL) != -1 || errno != ENOSYS)
    return 13;
  if (syscall (__NR_getpid) != getpid () || getpid () <= 0)
    return 14;
  if (personality (0xffffffff) == -1)
    return 15;
  if (personality (ADDR_NO_RANDOMIZE) != -1 || errno != ENOSYS)
    return 16;
  int s = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return 17;
  close (s);
  if (syscall (__NR_unshare, 0x10000000) != -1 || errno != EPERM)
    return 18;
  /* clone: plain is allowed (fork), with CLONE_NEWUSER refused.  */
  pid_t pid = fork ();
  if (pid == 0)
    _exit (0);
  if (pid < 0 || waitpid (pid, NULL, 0) != pid)
    return 19;
  long r = syscall (__NR_clone, 0x10000000 | SIGCHLD, 0, 0, 0, 0);
  if (r == 0)
    _exit (0);
  if (r != -1 || errno != EPERM)
    return 20;
  return 0;
}

static int
child_status (pid_t pid)
{
  int status;
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static void
test_load_default (void **state)
{
  json_t *p = cove_spec_seccomp_default (default_caps, NULL);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      struct cove_error *err = NULL;
      double t0 = now_ms ();
      if (cove_runtime_seccomp_load (p, true, &err) < 0)
        {
          fprintf (stderr, "load: %s: %s\n", err->msg, strerror (err->errnum));
          _exit (1);
        }
      fprintf (stderr, "compile+load of the default profile: %.2f ms\n",
               now_ms () - t0);
      _exit (check_default_filter ());
    }
  assert_int_equal (child_status (pid), 0);
  json_decref (p);
}

static void
test_compile_cached (void **state)
{
  json_t *p = cove_spec_seccomp_default (default_caps, NULL);
  cleanup_free char *cache = xasprintf ("%s/cache", dir);
  struct cove_runtime_seccomp f1, f2;
  struct cove_error *err = NULL;
  double t0 = now_ms ();
  assert_int_equal (cove_runtime_seccomp_compile (p, cache, &f1, &err), 0);
  double t1 = now_ms ();
  assert_int_equal (cove_runtime_seccomp_compile (p, cache, &f2, &err), 0);
  double t2 = now_ms ();
  fprintf (stderr, "compile: %.2f ms, from the cache: %.2f ms\n", t1 - t0,
           t2 - t1);
  assert_int_equal (f1.len, f2.len);
  assert_memory_equal (f1.bpf, f2.bpf, f1.len);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      double a = now_ms ();
      if (cove_runtime_seccomp_apply (&f2, true, NULL) < 0)
        _exit (1);
      fprintf (stderr, "apply: %.3f ms\n", now_ms () - a);
      _exit (check_default_filter ());
    }
  assert_int_equal (child_status (pid), 0);
  cove_runtime_seccomp_free (&f1);
  cove_runtime_seccomp_free (&f2);
  assert_null (f1.bpf);
  json_decref (p);
}

static void
test_load_user_profile (void **state)
{
  /* Unknown syscall names are skipped; args and errnoRet are obeyed.  */
  static const char doc[] =
    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
    " {\"names\": [\"no_such_syscall\", \"getppid\"],"
    "  \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13},"
    " {\"names\": [\"dup3\"], \"action\": \"SCMP_ACT_ERRNO\","
    "  \"args\": [{\"index\": 2, \"value\": 4, \"valueTwo\": 4,"
    "             \"op\": \"SCMP_CMP_MASKED_EQ\"}]}]}";
  json_t *p = cove_spec_seccomp_from_buffer (doc, sizeof doc - 1, NULL, NULL);
  assert_non_null (p);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      if (cove_runtime_seccomp_load (p, true, NULL) < 0)
        _exit (1);
      if (syscall (__NR_getppid) != -1 || errno != EACCES)
        _exit (2);
      if (dup3 (0, 100, O_CLOEXEC) != 100)
        _exit (3);
      /* 4 is not a valid dup3 flag; the filter answers first.  */
      if (dup3 (0, 101, 4) != -1 || errno != EPERM)
        _exit (4);
      _exit (0);
    }
  assert_int_equal (child_status (pid), 0);
  json_decref (p);
}

static void
expect_load_einval (const char *doc)
{
  struct cove_error *err = NULL;
  json_t *p = json_loads (doc, 0, NULL);
  assert_non_null (p);
  /* These fail before anything is loaded: no fork needed.  */
  assert_int_equal (cove_runtime_seccomp_load (p, true, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  json_decref (p);
}

static void
test_load_malformed (void **state)
{
  expect_load_einval ("[]");
  expect_load_einval ("{\"defaultAction\": \"SCMP_ACT_BAD\"}");
  expect_load_einval ("{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}");
  expect_load_einval ("{\"defaultAction\": \"SCMP_ACT_ALLOW\","
                      " \"architectures\": [\"SCMP_ARCH_Z80\"]}");
  expect_load_einval ("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\":"
                      " [{\"names\": \"read\", \"action\": \"SCMP_ACT_KILL\"}]}");
  expect_load_einval ("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\":"
                      " [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_KILL\","
                      " \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"X\"}]}]}");
  struct cove_runtime_seccomp bad = { .bpf = NULL, .len = 0 };
  struct cove_error *err = NULL;
  assert_int_equal (cove_runtime_seccomp_apply (&bad, true, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_default_profile),
    cmocka_unit_test (test_default_profile_caps),
    cmocka_unit_test (test_from_file),
    cmocka_unit_test (test_from_file_missing),
    cmocka_unit_test (test_from_file_malformed),
    cmocka_unit_test (test_from_file_too_big),
    cmocka_unit_test (test_load_default),
    cmocka_unit_test (test_compile_cached),
    cmocka_unit_test (test_load_user_profile),
    cmocka_unit_test (test_load_malformed),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
