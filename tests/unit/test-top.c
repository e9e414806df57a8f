/* Unit tests of cove top's process reading (cmd/cove/topproc.c): Go's
   duration format, and the processes of a namespace read from /proc.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cove/top.h"
#include "pkg/util/cleanup.h"

static void
check_duration (long long ns, const char *want)
{
  cleanup_free char *s = cove_top_duration (ns);
  assert_string_equal (s, want);
}

static void
test_duration (void **state)
{
  (void) state;
  check_duration (0, "0s");
  check_duration (-5, "0s");
  check_duration (999, "999ns");
  check_duration (1500, "1.5µs");
  check_duration (20000000, "20ms");
  check_duration (20500000, "20.5ms");
  check_duration (1000000000, "1s");
  check_duration (4817573263LL, "4.817573263s");
  check_duration (123500000000LL, "2m3.5s");
  check_duration (3600000000000LL, "1h0m0s");
  check_duration (90061000000000LL, "25h1m1s");
}

/* This process and a child named by prctl: listed with their pids, the
   child's parent, its name and command line.  */
static void
test_list_self (void **state)
{
  (void) state;
  int p[2];
  assert_int_equal (pipe (p), 0);
  pid_t child = fork ();
  assert_true (child >= 0);
  if (child == 0)
    {
      prctl (PR_SET_NAME, "top) x\033[1m", 0, 0, 0);
      close (p[0]);
      close (p[1]);  /* ready */
      pause ();
      _exit (0);
    }
  close (p[1]);
  char c;
  assert_int_equal (read (p[0], &c, 1), 0);
  close (p[0]);
  struct cove_top_proc *v = NULL;
  size_t n = 0;
  struct cove_error *err = NULL;
  assert_int_equal (cove_top_list (getpid (), &v, &n, &err), 0);
  assert_null (err);
  size_t si = n, ki = n;
  for (size_t i = 0; i < n; i++)
    {
      if (v[i].hpid == getpid ())
        si = i;
      if (v[i].hpid == child)
        ki = i;
      if (i > 0)
        assert_true (v[i - 1].pid < v[i].pid);
    }
  assert_true (si < n && ki < n);
  const struct cove_top_proc *self = &v[si], *kid = &v[ki];
  assert_int_equal (kid->ppid, self->pid);
  /* A name with ") " in it does not confuse the stat parser, and its
     control characters do not reach the user's terminal.  */
  assert_string_equal (kid->comm, "top) x?[1m");
  assert_non_null (strstr (self->args, "test-top "));
  assert_int_equal (kid->euid, geteuid ());
  assert_true (kid->state == 'S');
  cove_top_list_free (v, n);
  kill (child, SIGKILL);
  waitpid (child, NULL, 0);
}

static void
test_list_gone (void **state)
{
  (void) state;
  struct cove_top_proc *v = NULL;
  size_t n = 0;
  struct cove_error *err = NULL;
  pid_t child = fork ();
  if (child == 0)
    _exit (0);
  waitpid (child, NULL, 0);
  assert_int_equal (cove_top_list (child, &v, &n, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  assert_null (v);
  cove_error_free (err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_duration),
    cmocka_unit_test (test_list_self),
    cmocka_unit_test (test_list_gone),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
