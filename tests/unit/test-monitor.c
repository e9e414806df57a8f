/* pkg/monitor: the attach client (detach keys, the packet protocol) and
   signal names (pkg/util/signals).  The monitor process itself is tested
   by the system tests (tests/system/200-lifecycle.bats).  */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "pkg/monitor/monitor.h"
#include "pkg/util/error.h"
#include "pkg/util/signals.h"

static void
test_detach_keys (void **state)
{
  (void) state;
  unsigned char k[8];
  struct cove_error *err = NULL;
  assert_int_equal (cove_monitor_detach_keys ("ctrl-p,ctrl-q", k, sizeof k, &err), 2);
  assert_int_equal (k[0], 0x10);
  assert_int_equal (k[1], 0x11);
  assert_int_equal (cove_monitor_detach_keys ("a,ctrl-@,ctrl-[", k, sizeof k, &err), 3);
  assert_int_equal (k[0], 'a');
  assert_int_equal (k[1], 0);
  assert_int_equal (k[2], 27);
  assert_int_equal (cove_monitor_detach_keys ("", k, sizeof k, &err), 0);
  const char *bad[] = { "ctrl-", "ctrl-pp", "ab", "ctrl-1", ",", NULL };
  for (const char **b = bad; *b; b++)
    {
      assert_int_equal (cove_monitor_detach_keys (*b, k, sizeof k, &err), -1);
      assert_int_equal (err->errnum, EINVAL);
      cove_error_release (&err);
    }
  /* More keys than room.  */
  assert_int_equal (cove_monitor_detach_keys ("a,b,c", k, 2, &err), -1);
  cove_error_release (&err);
}

static void
test_signals (void **state)
{
  (void) state;
  int sig;
  struct cove_error *err = NULL;
  const struct { const char *s; int sig; } ok[] = {
    { "TERM", SIGTERM }, { "SIGTERM", SIGTERM }, { "sigkill", SIGKILL },
    { "9", 9 }, { "HUP", SIGHUP }, { "USR1", SIGUSR1 },
    { "RTMIN", SIGRTMIN }, { "RTMIN+2", SIGRTMIN + 2 },
    { "SIGRTMAX-1", SIGRTMAX - 1 }, { "WINCH", SIGWINCH },
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    {
      assert_int_equal (cove_signal_parse (ok[i].s, &sig, &err), 0);
      assert_int_equal (sig, ok[i].sig);
    }
  const char *bad[] = { "", "0", "-1", "NOPE", "99999", "RTMIN-1", "RTMAX+1",
                        "SIG", "15x", NULL };
  for (const char **b = bad; *b; b++)
    {
      assert_int_equal (cove_signal_parse (*b, &sig, &err), -1);
      assert_int_equal (err->errnum, EINVAL);
      cove_error_release (&err);
    }
  assert_string_equal (cove_signal_name (SIGTERM), "SIGTERM");
  assert_string_equal (cove_signal_name (SIGRTMIN + 3), "SIGRTMIN+3");
  assert_null (cove_signal_name (0));
}

/* The client side of the attach protocol against a fake monitor: output
   packets reach our stdout and stderr, the exit packet ends it with the
   status.  */
static void
test_attach_relay (void **state)
{
  (void) state;
  int sp[2], out[2], errp[2];
  assert_int_equal (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
  assert_int_equal (pipe (out), 0);
  assert_int_equal (pipe (errp), 0);
  int saved_out = dup (1), saved_err = dup (2);
  dup2 (out[1], 1);
  dup2 (errp[1], 2);
  const char *packets[] = { "1hello ", "2oops", "1world", "x42" };
  for (size_t i = 0; i < 4; i++)
    assert_int_equal (send (sp[1], packets[i], strlen (packets[i]), 0),
                      (ssize_t) strlen (packets[i]));
  struct cove_attach_options o = { .stdin = false, .tty = false,
                                   .sig_proxy = false };
  int status = -5;
  struct cove_error *err = NULL;
  int r = cove_monitor_attach (sp[0], &o, &status, &err);
  dup2 (saved_out, 1);
  dup2 (saved_err, 2);
  close (out[1]);
  close (errp[1]);
  assert_int_equal (r, 0);
  assert_int_equal (status, 42);
  char buf[64] = { 0 };
  assert_int_equal (read (out[0], buf, sizeof buf - 1), 11);
  assert_string_equal (buf, "hello world");
  memset (buf, 0, sizeof buf);
  assert_int_equal (read (errp[0], buf, sizeof buf - 1), 4);
  assert_string_equal (buf, "oops");
  /* A monitor gone without an exit packet is an error.  */
  int sp2[2];
  assert_int_equal (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp2), 0);
  close (sp2[1]);
  assert_int_equal (cove_monitor_attach (sp2[0], &o, &status, &err), -1);
  assert_int_equal (err->errnum, EPIPE);
  cove_error_release (&err);
  close (sp[1]);
  close (out[0]);
  close (errp[0]);
  close (saved_out);
  close (saved_err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_detach_keys),
    cmocka_unit_test (test_signals),
    cmocka_unit_test (test_attach_relay),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
