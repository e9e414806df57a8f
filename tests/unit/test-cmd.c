/* Unit tests of cmd/: option parsing and the `cove run` request.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/opts.h"
#include "cmd/cove/runopts.h"

enum { O_FLAG = 1, O_VALUE, O_I, O_T };
static const struct cove_opt table[] = {
  { "flag", 0, COVE_OPT_BOOL, O_FLAG, NULL, "a flag" },
  { "value", 'e', COVE_OPT_VALUE, O_VALUE, "string", "a value" },
  { "interactive", 'i', COVE_OPT_BOOL, O_I, NULL, "i" },
  { "tty", 't', COVE_OPT_BOOL, O_T, NULL, "t" },
  { NULL, 0, 0, 0, NULL, NULL },
};

static void
test_opts_forms (void **state)
{
  char *argv[] = { "x", "--flag=false", "--value", "a", "--value=b", "-ec",
                   "-it", "-e", "d", "pos", "--flag", NULL };
  struct cove_opts_parser p;
  struct cove_error *err = NULL;
  cove_opts_init (&p, table, 11, argv, false);
  const char *v;
  const char *expect[][2] = { { "1", "false" }, { "2", "a" }, { "2", "b" },
                              { "2", "c" }, { "3", "true" }, { "4", "true" },
                              { "2", "d" } };
  for (size_t i = 0; i < 7; i++)
    {
      int id = cove_opts_next (&p, &v, &err);
      assert_int_equal (id, expect[i][0][0] - '0');
      assert_string_equal (v, expect[i][1]);
    }
  assert_int_equal (cove_opts_next (&p, &v, &err), 0);
  assert_null (err);
  int n;
  char **rest = cove_opts_rest (&p, &n);
  assert_int_equal (n, 2);
  assert_string_equal (rest[0], "pos");
  assert_string_equal (rest[1], "--flag");  /* not interspersed: stays */
  free (rest);
  cove_opts_free (&p);
}

static void
test_opts_errors (void **state)
{
  const char *cases[][2] = {
    { "--bogus", "unknown flag: --bogus" },
    { "--value", "flag needs an argument: --value" },
    { "--flag=maybe", "invalid argument \"maybe\" for \"--flag\" flag" },
    { "-x", "unknown shorthand flag: 'x' in -x" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      char *argv[] = { "x", (char *) cases[i][0], NULL };
      struct cove_opts_parser p;
      struct cove_error *err = NULL;
      const char *v;
      cove_opts_init (&p, table, 2, argv, true);
      assert_int_equal (cove_opts_next (&p, &v, &err), -1);
      assert_non_null (err);
      assert_non_null (strstr (err->msg, cases[i][1]));
      cove_error_free (err);
      cove_opts_free (&p);
    }
}

static void
test_opts_interspersed (void **state)
{
  char *argv[] = { "x", "a", "--flag", "b", "--", "--value", NULL };
  struct cove_opts_parser p;
  struct cove_error *err = NULL;
  const char *v;
  cove_opts_init (&p, table, 6, argv, true);
  assert_int_equal (cove_opts_next (&p, &v, &err), O_FLAG);
  assert_int_equal (cove_opts_next (&p, &v, &err), 0);
  int n;
  char **rest = cove_opts_rest (&p, &n);
  assert_int_equal (n, 3);
  assert_string_equal (rest[0], "a");
  assert_string_equal (rest[1], "b");
  assert_string_equal (rest[2], "--value");
  free (rest);
  cove_opts_free (&p);
}

static void
test_run_options (void **state)
{
  char *argv[] = { "run", "--rootfs", "/", "-it", "-e", "A=1", "--pid", "host",
                   "--network=host", "-u", "1000:1000", "--security-opt",
                   "seccomp=unconfined", "--entrypoint", "[\"a\",\"b\"]",
                   "sh", "-c", "exit 7", NULL };
  struct cove_run_options o;
  struct cove_error *err = NULL;
  assert_int_equal (cove_run_options_parse (&o, 18, argv, &err), 0);
  assert_null (err);
  assert_true (o.interactive);
  assert_true (o.req.terminal);
  assert_string_equal (o.req.rootfs, "/");
  assert_string_equal (o.req.env[0], "A=1");
  assert_int_equal (o.req.ns[COVE_SPEC_NS_PID], COVE_SPEC_NS_HOST);
  assert_int_equal (o.req.ns[COVE_SPEC_NS_NET], COVE_SPEC_NS_HOST);
  assert_int_equal (o.req.ns[COVE_SPEC_NS_IPC], COVE_SPEC_NS_PRIVATE);
  assert_string_equal (o.req.user, "1000:1000");
  assert_string_equal (o.req.seccomp, "unconfined");
  assert_string_equal (o.req.entrypoint[1], "b");
  assert_string_equal (o.req.command[0], "sh");
  assert_string_equal (o.req.command[2], "exit 7");
  assert_null (o.req.command[3]);
  cove_run_options_free (&o);
}

static void
test_run_options_bad (void **state)
{
  const char *cases[][3] = {
    { "--rootfs", "/nonexistent-cove-test", "rootfs `/nonexistent-cove-test`" },
    { "--pid", "container:x", "invalid value `container:x` for --pid" },
    { "--network", "bridge", "unsupported network mode `bridge`" },
    { "-u", "1:2:3", "invalid --user `1:2:3`" },
    { "--security-opt", "bogus", "invalid --security-opt `bogus`" },
    { "--entrypoint", "[1]", "invalid --entrypoint" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      char *argv[] = { "run", "--rootfs", "/", (char *) cases[i][0],
                       (char *) cases[i][1], "true", NULL };
      struct cove_run_options o;
      struct cove_error *err = NULL;
      assert_int_equal (cove_run_options_parse (&o, 6, argv, &err), -1);
      assert_non_null (err);
      assert_non_null (strstr (err->msg, cases[i][2]));
      cove_error_free (err);
      cove_run_options_free (&o);
    }
  char *argv[] = { "run", "--rootfs", "/", NULL };
  struct cove_run_options o;
  struct cove_error *err = NULL;
  assert_int_equal (cove_run_options_parse (&o, 3, argv, &err), -1);
  assert_non_null (strstr (err->msg, "no command given"));
  cove_error_free (err);
  cove_run_options_free (&o);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_opts_forms),
    cmocka_unit_test (test_opts_errors),
    cmocka_unit_test (test_opts_interspersed),
    cmocka_unit_test (test_run_options),
    cmocka_unit_test (test_run_options_bad),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
