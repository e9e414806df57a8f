/* Unit tests of pkg/build: the .containerignore / .dockerignore matcher,
   with docker's rules.  */
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

static struct cove_build_ignore *
ig_ok (const char *text)
{
  struct cove_error *err = NULL;
  struct cove_build_ignore *ig = cove_build_ignore_parse (text, strlen (text),
                                                          &err);
  if (ig == NULL)
    fail_msg ("%s: %s", text, err->msg);
  return ig;
}

static void
ig_fail (const char *text, const char *want)
{
  struct cove_error *err = NULL;
  assert_null (cove_build_ignore_parse (text, strlen (text), &err));
  assert_non_null (err);
  assert_int_equal (err->errnum, EINVAL);
  if (strstr (err->msg, want) == NULL)
    fail_msg ("%s: message \"%s\" lacks \"%s\"", text, err->msg, want);
  cove_error_free (err);
}

struct match_case
{
  const char *path;
  bool excluded;
};

static void
check (const char *text, const struct match_case *cases, size_t n)
{
  struct cove_build_ignore *ig = ig_ok (text);
  for (size_t i = 0; i < n; i++)
    if (cove_build_ignore_match (ig, cases[i].path) != cases[i].excluded)
      fail_msg ("patterns \"%s\": %s should %sbe excluded", text,
                cases[i].path, cases[i].excluded ? "" : "not ");
  cove_build_ignore_free (ig);
}

#define CHECK(text, ...)                                                \
  do                                                                    \
    {                                                                   \
      static const struct match_case c_[] = { __VA_ARGS__ };            \
      check (text, c_, sizeof c_ / sizeof c_[0]);                       \
    }                                                                   \
  while (0)

static void
test_globs (void **state)
{
  CHECK ("*.go\n", { "a.go", true }, { "dir/a.go", false }, { "a.gox", false },
         { ".go", true });
  CHECK ("**/*.go\n", { "a.go", true }, { "dir/a.go", true },
         { "x/y/z.go", true }, { "x/y/z.c", false });
  CHECK ("temp?\n", { "temp1", true }, { "temp12", false }, { "temp", false });
  CHECK ("*/temp*\n", { "a/temporary", true }, { "a/b/temp", false },
         { "temp", false });
  CHECK ("[a-c].txt\n[^x-z]y\n", { "b.txt", true }, { "d.txt", false },
         { "ay", true }, { "xy", false });
  CHECK ("[!a]\n", { "!", true }, { "a", true }, { "b", false });
  CHECK ("a/**/b\n", { "a/b", true }, { "a/x/b", true }, { "a/x/y/b", true },
         { "ab", false }, { "a/x/bc", false }, { "a/b/c", true });
  CHECK ("**\n", { "a", true }, { "a/b/c", true });
  CHECK ("foo/**\n", { "foo/x", true }, { "foo/x/y", true },
         { "foobar", false });
  CHECK ("**foo\n", { "xfoo", true }, { "a/bfoo", true }, { "foox", false });
  CHECK ("\\*\n", { "*", true }, { "a", false });
  CHECK ("*a*a*a*a*a*a*a*a*a*a*a*b\n",
         { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
           false },
         { "aaaaaaaaaaaab", true });
}

static void
test_rules (void **state)
{
  /* Comments, blank lines, cleaning, a leading / removed, CRLF.  */
  CHECK ("# comment\n\n   \n/abs/x/\n./a/../b\r\n  #notcomment  \n",
         { "abs/x", true }, { "abs/x/y", true }, { "b", true },
         { "a", false }, { "#notcomment", true }, { "# comment", false },
         { "comment", false });
  /* A directory pattern excludes what is in it.  */
  CHECK ("dir\n", { "dir", true }, { "dir/x", true }, { "dir/y/z", true },
         { "dirx", false }, { "x/dir", false });
  /* Exceptions; the last matching pattern wins.  */
  CHECK ("*.md\n!README*.md\nREADME-secret.md\n", { "x.md", true },
         { "README.md", false }, { "README-secret.md", true });
  CHECK ("dir\n! dir/keep\n", { "dir/keep", false }, { "dir/keep/sub", false },
         { "dir/other", true }, { "dir", true });
  CHECK ("!x\n", { "x", false });
  CHECK ("\xef\xbb\xbf" "bom\n", { "bom", true });
  /* Paths given uncleaned are cleaned.  */
  CHECK ("a/b\n", { "./a/b", true }, { "a//b/", true });
}

static void
test_reinclude (void **state)
{
  struct cove_build_ignore *ig = ig_ok ("dir\nother\n!dir/sub/keep\n");
  assert_true (cove_build_ignore_match (ig, "dir"));
  assert_true (cove_build_ignore_may_reinclude (ig, "dir"));
  assert_true (cove_build_ignore_may_reinclude (ig, "dir/sub"));
  assert_false (cove_build_ignore_may_reinclude (ig, "dir/other"));
  assert_false (cove_build_ignore_may_reinclude (ig, "other"));
  assert_false (cove_build_ignore_match (ig, "dir/sub/keep"));
  assert_true (cove_build_ignore_match (ig, "dir/sub/x"));
  cove_build_ignore_free (ig);

  ig = ig_ok ("build\n!**/*.keep\n");
  assert_true (cove_build_ignore_may_reinclude (ig, "build"));
  assert_true (cove_build_ignore_may_reinclude (ig, "build/a/b"));
  assert_false (cove_build_ignore_match (ig, "build/a/b/x.keep"));
  assert_true (cove_build_ignore_match (ig, "build/a/b/x.o"));
  cove_build_ignore_free (ig);

  /* Without exceptions nothing under an excluded directory comes back.  */
  ig = ig_ok ("node_modules\n");
  assert_false (cove_build_ignore_may_reinclude (ig, "node_modules"));
  cove_build_ignore_free (ig);

  /* The builder re-includes its Containerfile.  */
  ig = ig_ok ("*\n");
  assert_true (cove_build_ignore_match (ig, "Containerfile"));
  assert_int_equal (cove_build_ignore_add (ig, "!Containerfile", NULL), 0);
  assert_false (cove_build_ignore_match (ig, "Containerfile"));
  assert_true (cove_build_ignore_match (ig, "other"));
  struct cove_error *err = NULL;
  assert_int_equal (cove_build_ignore_add (ig, "[", &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_free (err);
  assert_true (cove_build_ignore_match (ig, "other"));
  cove_build_ignore_free (ig);

  ig = ig_ok ("");
  assert_false (cove_build_ignore_match (ig, "anything"));
  assert_false (cove_build_ignore_may_reinclude (ig, "anything"));
  cove_build_ignore_free (ig);
}

static void
test_bad (void **state)
{
  ig_fail ("ok\n[\n", "line 2: syntax error in pattern \"[\"");
  ig_fail ("[a-\n", "syntax error");
  ig_fail ("[z-a]\n", "syntax error");
  ig_fail ("[]a]\n", "syntax error");
  ig_fail ("[]\n", "syntax error");
  ig_fail ("a\\\n", "syntax error");
  ig_fail ("!\n", "line 1: illegal exclusion pattern");
  ig_fail ("  !  \n", "illegal exclusion pattern");
  struct cove_error *err = NULL;
  assert_null (cove_build_ignore_parse ("a\0b\n", 4, &err));
  assert_int_equal (err->errnum, EINVAL);
  cove_error_free (err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_globs),
    cmocka_unit_test (test_rules),
    cmocka_unit_test (test_reinclude),
    cmocka_unit_test (test_bad),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
