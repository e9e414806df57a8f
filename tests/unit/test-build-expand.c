/* Unit tests of pkg/build: variable expansion, ARG scoping (build
   variables) and RUN --mount.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/build/build.h"
#include "pkg/util/xalloc.h"

static struct cove_build_file *
parse_ok (const char *text)
{
  struct cove_error *err = NULL;
  struct cove_build_file *f = cove_build_parse ("Containerfile", text,
                                                strlen (text), &err);
  if (f == NULL)
    fail_msg ("%s: %s", text, err->msg);
  return f;
}

static void
parse_fail (const char *text, const char *want)
{
  struct cove_error *err = NULL;
  assert_null (cove_build_parse ("Containerfile", text, strlen (text), &err));
  assert_int_equal (err->errnum, EINVAL);
  if (strstr (err->msg, want) == NULL)
    fail_msg ("%s: message \"%s\" lacks \"%s\"", text, err->msg, want);
  cove_error_free (err);
}

/* Variables of the expansion tests.  */
static const char *
vars (void *ctx, const char *name)
{
  static const char *const v[][2] = {
    { "A", "apple" }, { "E", "" }, { "P", "/usr/local/bin.tar.gz" },
    { "S", "a b" }, { "1", "one" },
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    if (strcmp (v[i][0], name) == 0)
      return v[i][1];
  return NULL;
}

static void
expect_expand (const char *word, char escape, const char *want)
{
  char *out = NULL;
  struct cove_error *err = NULL;
  if (cove_build_expand (word, vars, NULL, escape, &out, &err) < 0)
    fail_msg ("%s: %s", word, err->msg);
  if (strcmp (out, want) != 0)
    fail_msg ("%s: got \"%s\", want \"%s\"", word, out, want);
  free (out);
}

static void
expect_expand_fail (const char *word, const char *want)
{
  char *out = NULL;
  struct cove_error *err = NULL;
  assert_int_equal (cove_build_expand (word, vars, NULL, '\\', &out, &err), -1);
  assert_null (out);
  assert_int_equal (err->errnum, EINVAL);
  if (strstr (err->msg, want) == NULL)
    fail_msg ("%s: message \"%s\" lacks \"%s\"", word, err->msg, want);
  cove_error_free (err);
}

static void
test_expand (void **state)
{
  expect_expand ("$A", '\\', "apple");
  expect_expand ("x${A}y", '\\', "xappley");
  expect_expand ("$U-$A_b", '\\', "-");
  expect_expand ("${U:-def}", '\\', "def");
  expect_expand ("${E:-def}", '\\', "def");
  expect_expand ("${E-def}", '\\', "");
  expect_expand ("${A:-def}", '\\', "apple");
  expect_expand ("${U:-${A:-no}x}", '\\', "applex");
  expect_expand ("${A:+alt}", '\\', "alt");
  expect_expand ("${E:+alt}", '\\', "");
  expect_expand ("${E+alt}", '\\', "alt");
  expect_expand ("${U+alt}", '\\', "");
  expect_expand ("${A:?oops}", '\\', "apple");
  expect_expand ("'$A \"q\"'", '\\', "$A \"q\"");
  expect_expand ("\"$A 'q' \\$A \\x\"", '\\', "apple 'q' $A \\x");
  expect_expand ("\\$A \\\\", '\\', "$A \\");
  expect_expand ("`$A \\$A", '`', "$A \\apple");
  expect_expand ("$ $1 $$ a$", '\\', "$ one  a$");
  expect_expand ("${P#*/}", '\\', "usr/local/bin.tar.gz");
  expect_expand ("${P##*/}", '\\', "bin.tar.gz");
  expect_expand ("${P%.*}", '\\', "/usr/local/bin.tar");
  expect_expand ("${P%%.*}", '\\', "/usr/local/bin");
  expect_expand ("${P#nomatch}", '\\', "/usr/local/bin.tar.gz");
  expect_expand ("$S", '\\', "a b");
  expect_expand ("", '\\', "");
  char *out = NULL;
  assert_int_equal (cove_build_expand ("$A${B}", NULL, NULL, '\\', &out, NULL), 0);
  assert_string_equal (out, "");
  free (out);
}

static void
test_expand_fail (void **state)
{
  char *out = NULL;
  expect_expand_fail ("${U?}", "U: is not allowed to be unset");
  expect_expand_fail ("${E:?must be set}", "E: must be set");
  expect_expand_fail ("${A", "missing '}'");
  expect_expand_fail ("${A:-x", "missing '}'");
  expect_expand_fail ("${}", "bad substitution");
  expect_expand_fail ("${:x}", "bad substitution");
  expect_expand_fail ("${A/x/y}", "unsupported modifier (/)");
  expect_expand_fail ("${A:x}", "unsupported modifier (:x)");
  expect_expand_fail ("'open", "matching single-quote");
  expect_expand_fail ("\"open", "matching double-quote");
  struct cove_error *err = NULL;
  assert_int_equal (cove_build_expand ("x", NULL, NULL, 'x', &out, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_free (err);
}

static const char *
build_args (void *ctx, const char *name)
{
  if (strcmp (name, "OVER") == 0)
    return "from-cli";
  return NULL;
}

static void
test_vars (void **state)
{
  struct cove_build_file *f
    = parse_ok ("ARG BASE=alpine\nARG TAG=${BASE}-1\nARG OVER=default\n"
                "ARG NOVAL\nFROM $BASE:$TAG\n"
                "ARG BASE\nARG OVER NEW=${BASE}x NOVAL TAG=mine\n"
                "FROM b\nARG X=${BASE:-none}\n");
  struct cove_build_vars *pre = cove_build_vars_new ();
  cove_build_vars_set_platform (pre, "TARGET", "linux", "amd64", NULL);
  cove_build_vars_set_platform (pre, "BUILD", "linux", "arm", "v7");
  assert_string_equal (cove_build_vars_get (pre, "TARGETPLATFORM"),
                       "linux/amd64");
  assert_string_equal (cove_build_vars_get (pre, "TARGETVARIANT"), "");
  assert_string_equal (cove_build_vars_get (pre, "BUILDPLATFORM"),
                       "linux/arm/v7");
  assert_string_equal (cove_build_vars_get (pre, "BUILDVARIANT"), "v7");
  struct cove_error *err = NULL;
  struct cove_build_vars *g = cove_build_global_vars (f, pre, build_args,
                                                      NULL, &err);
  assert_non_null (g);
  assert_string_equal (cove_build_vars_get (g, "TARGETARCH"), "amd64");
  assert_string_equal (cove_build_vars_get (g, "TAG"), "alpine-1");
  assert_string_equal (cove_build_vars_get (g, "OVER"), "from-cli");
  assert_null (cove_build_vars_get (g, "NOVAL"));
  char *img = NULL;
  assert_int_equal (cove_build_expand (f->stages[0].image,
                                       cove_build_vars_lookup, g, f->escape,
                                       &img, &err), 0);
  assert_string_equal (img, "alpine:alpine-1");
  free (img);

  /* Stage 0: BASE re-declared comes in, TAG's default is the stage's.  */
  struct cove_build_arg_ctx ac = { .file = f, .globals = g,
                                   .build_args = build_args };
  struct cove_build_vars *st = cove_build_vars_new ();
  for (size_t i = 0; i < f->stages[0].n_instrs; i++)
    assert_int_equal (cove_build_vars_apply_arg (st, &f->stages[0].instrs[i],
                                                 &ac, NULL, NULL, &err), 0);
  assert_string_equal (cove_build_vars_get (st, "BASE"), "alpine");
  assert_string_equal (cove_build_vars_get (st, "OVER"), "from-cli");
  assert_string_equal (cove_build_vars_get (st, "NEW"), "alpinex");
  assert_string_equal (cove_build_vars_get (st, "TAG"), "mine");
  assert_null (cove_build_vars_get (st, "NOVAL"));
  char **env = cove_build_vars_environ (st);
  assert_string_equal (env[0], "BASE=alpine");
  assert_int_equal (cove_strv_len (env), 4);
  cove_strv_free (env);
  cove_build_vars_free (st);

  /* Stage 1: a global ARG not re-declared is not visible.  */
  st = cove_build_vars_new ();
  assert_int_equal (cove_build_vars_apply_arg (st, &f->stages[1].instrs[0],
                                               &ac, cove_build_vars_lookup,
                                               st, &err), 0);
  assert_string_equal (cove_build_vars_get (st, "X"), "none");
  cove_build_vars_free (st);
  cove_build_vars_free (g);
  cove_build_vars_free (pre);
  cove_build_file_free (f);
}

/* A default that cannot expand: the file and line in the message.  */
static void
test_vars_fail (void **state)
{
  struct cove_error *err = NULL;
  struct cove_build_vars *pre = cove_build_vars_new ();
  struct cove_build_arg_ctx ac = { .build_args = build_args };
  struct cove_build_vars *st;
  struct cove_build_file *f = parse_ok ("ARG A=${\nFROM a\nARG B=${C:?noC}\n");
  assert_null (cove_build_global_vars (f, NULL, NULL, NULL, &err));
  assert_int_equal (err->errnum, EINVAL);
  assert_non_null (strstr (err->msg, "Containerfile:1: ARG: "));
  cove_error_free (err);
  err = NULL;
  ac.file = f;
  ac.globals = pre;
  st = cove_build_vars_new ();
  assert_int_equal (cove_build_vars_apply_arg (st, &f->stages[0].instrs[0],
                                               &ac, NULL, NULL, &err), -1);
  assert_non_null (strstr (err->msg, "Containerfile:3: ARG: "));
  assert_non_null (strstr (err->msg, "C: noC"));
  assert_null (cove_build_vars_get (st, "B"));
  cove_error_free (err);
  cove_build_vars_free (st);
  cove_build_vars_free (pre);
  cove_build_file_free (f);
}

static struct cove_build_mount
mount_ok (const char *flag, bool expand)
{
  struct cove_build_mount m;
  struct cove_error *err = NULL;
  if (cove_build_mount_parse (flag, expand ? vars : NULL, NULL, '\\', &m,
                              &err) < 0)
    fail_msg ("%s: %s", flag, err->msg);
  return m;
}

static void
mount_fail (const char *flag, const char *want)
{
  struct cove_build_mount m;
  struct cove_error *err = NULL;
  assert_int_equal (cove_build_mount_parse (flag, vars, NULL, '\\', &m, &err),
                    -1);
  assert_int_equal (err->errnum, EINVAL);
  if (strstr (err->msg, want) == NULL)
    fail_msg ("%s: message \"%s\" lacks \"%s\"", flag, err->msg, want);
  cove_error_free (err);
  cove_build_mount_clear (&m);
}

static void
test_mount (void **state)
{
  struct cove_build_mount m
    = mount_ok ("type=cache,target=/root/.cache,sharing=LOCKED,id=pip,"
                "mode=0755,uid=1000", true);
  assert_int_equal (m.type, COVE_BUILD_MOUNT_CACHE);
  assert_string_equal (m.target, "/root/.cache");
  assert_string_equal (m.sharing, "locked");
  assert_string_equal (m.id, "pip");
  assert_int_equal (m.mode, 0755);
  assert_int_equal (m.uid, 1000);
  assert_int_equal (m.gid, -1);
  assert_false (m.readonly);
  cove_build_mount_clear (&m);
  m = mount_ok ("target=/src", true);
  assert_int_equal (m.type, COVE_BUILD_MOUNT_BIND);
  assert_true (m.readonly);
  assert_null (m.source);
  cove_build_mount_clear (&m);
  m = mount_ok ("type=bind,source=.,from=build,target=/src,rw", true);
  assert_false (m.readonly);
  assert_string_equal (m.from, "build");
  cove_build_mount_clear (&m);
  m = mount_ok ("TYPE=Bind,dst=/x,readonly=false", true);
  assert_false (m.readonly);
  assert_string_equal (m.target, "/x");
  cove_build_mount_clear (&m);
}

static void
test_mount_types (void **state)
{
  struct cove_build_mount m
    = mount_ok ("type=tmpfs,destination=/tmp,size=64m", true);
  assert_int_equal (m.size, 64 << 20);
  assert_false (m.readonly);
  cove_build_mount_clear (&m);
  m = mount_ok ("type=secret,id=token,target=/run/t,required,env=TOKEN", true);
  assert_true (m.required);
  assert_true (m.readonly);
  assert_string_equal (m.env, "TOKEN");
  cove_build_mount_clear (&m);
  m = mount_ok ("type=tmpfs,target=/t,size=1.5 KiB", true);
  assert_int_equal (m.size, 1536);
  cove_build_mount_clear (&m);
  m = mount_ok ("type=ssh", true);
  assert_true (m.readonly);
  cove_build_mount_clear (&m);
  m = mount_ok ("\"target=/a,\"\"b\"\"\",type=bind", false);
  assert_string_equal (m.target, "/a,\"b\"");
  cove_build_mount_clear (&m);
  m = mount_ok ("type=cache,target=/$A,uid=${U:-7}", true);
  assert_string_equal (m.target, "/apple");
  assert_int_equal (m.uid, 7);
  cove_build_mount_clear (&m);
  /* Without expansion, values with a `$` are left for later.  */
  m = mount_ok ("type=cache,target=/$A,uid=$UID", false);
  assert_string_equal (m.target, "/$A");
  assert_int_equal (m.uid, -1);
  cove_build_mount_clear (&m);
}

static void
test_mount_fail (void **state)
{
  mount_fail ("type=nfs,target=/x", "unsupported mount type \"nfs\"");
  mount_fail ("target=/x,sharing=locked", "invalid cache sharing set for bind");
  mount_fail ("type=cache,target=/x,sharing=sometimes", "unsupported sharing");
  mount_fail ("target=/x,mode=0755", "not allowed for \"bind\" mounts");
  mount_fail ("type=cache,target=/x,uid=abc", "invalid value for uid: abc");
  mount_fail ("type=cache,target=/x,mode=9", "invalid value for mode");
  mount_fail ("type=tmpfs,target=/x,size=lots", "invalid value for size");
  mount_fail ("type=tmpfs,target=/x,size=1e3", "invalid value for size");
  mount_fail ("type=tmpfs,target=/x,size=1.", "invalid value for size");
  mount_fail ("target=/x,size=1m", "unexpected key 'size' for mount type 'bind'");
  mount_fail ("target=/x,required", "unexpected key 'required'");
  mount_fail ("target=/x,bogus=1", "unexpected key 'bogus'");
  mount_fail ("target=/x,bogus", "must be a key=value pair");
  mount_fail ("target=/x,ro=maybe", "invalid value for ro");
  mount_fail ("type=cache", "mount target is required");
  mount_fail ("type=secret", "one of source, target required");
  mount_fail ("type=secret,id=a,source=b", "both source and id");
  mount_fail ("type=secret,id=a,from=x", "should not have a from");
  mount_fail ("target=a\"b", "bare \"");
  mount_fail ("\"target=a", "extraneous or missing \"");
  mount_fail ("\"a\"b", "extraneous or missing \"");
  mount_fail ("", "empty mount");
  mount_fail ("type=cache,target=${A", "missing '}'");
  parse_fail ("FROM a\nRUN --mount=from=$A,target=/x ls\n",
              "doesn't support variable expansion");
  parse_fail ("FROM a\nRUN --mount=type=nfs,target=/x ls\n",
              "Containerfile:2: RUN: --mount=type=nfs,target=/x: unsupported");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_expand),
    cmocka_unit_test (test_expand_fail),
    cmocka_unit_test (test_vars),
    cmocka_unit_test (test_vars_fail),
    cmocka_unit_test (test_mount),
    cmocka_unit_test (test_mount_types),
    cmocka_unit_test (test_mount_fail),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
