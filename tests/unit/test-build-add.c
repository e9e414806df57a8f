/* Unit tests of cmd/cove/buildadd.c: the file name of a download, the
   recognition of tar archives by content, heredoc sources (named after
   their delimiter, expanded unless quoted) and the checks on sources that
   fail before anything is fetched.  No network: URLs that would be
   fetched are only ever refused here.  */
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
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cove/build.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

static void
name_is (const char *url, const char *want)
{
  char *got = build_add_url_name (url);
  if (strcmp (got, want) != 0)
    fail_msg ("%s: got \"%s\", want \"%s\"", url, got, want);
  free (got);
}

static void
test_url_name (void **state)
{
  (void) state;
  name_is ("http://h/a/b/file.tar.gz", "file.tar.gz");
  name_is ("https://h:8080/dir/x.txt?v=1&y=/z#frag", "x.txt");
  name_is ("http://h/dir/sub/", "sub");
  name_is ("http://h/a%20b%2Fc", "c");
  name_is ("http://h/a%20b", "a b");
  name_is ("http://h/bad%zzname", "bad%zzname");
  name_is ("http://h/nul%00", "nul%00");
  name_is ("http://h", "__unnamed__");
  name_is ("http://h/", "__unnamed__");
  name_is ("http://h?q=/x", "__unnamed__");
  name_is ("http://h/..", "__unnamed__");
}

/* A file of TEXT's bytes in a new directory; its path.  */
static char *
write_tmp (const char *name, const void *data, size_t len)
{
  char *dir = xstrdup ("/tmp/test-build-add.XXXXXX");
  assert_non_null (mkdtemp (dir));
  char *path = xasprintf ("%s/%s", dir, name);
  int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, data, len), (ssize_t) len);
  close (fd);
  free (dir);
  return path;
}

static int
is_archive (const char *path)
{
  int fd = open (path, O_PATH | O_CLOEXEC);
  assert_true (fd >= 0);
  int r = build_add_is_archive (fd);
  close (fd);
  return r;
}

static void
rm_parent (char *path)
{
  *strrchr (path, '/') = '\0';
  assert_int_equal (cove_rm_rf (path, NULL), 0);
  free (path);
}

static void
test_is_archive (void **state)
{
  (void) state;
  /* A ustar header for "a" (size 0), checksum filled in, then the end.  */
  unsigned char tar[2048] = { 0 };
  memcpy (tar, "a", 1);
  memcpy (tar + 100, "0000644", 7);
  memcpy (tar + 108, "0000000", 7);
  memcpy (tar + 116, "0000000", 7);
  memcpy (tar + 124, "00000000000", 11);
  memcpy (tar + 136, "00000000000", 11);
  tar[156] = '0';
  memcpy (tar + 257, "ustar\00000", 8);
  memset (tar + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; i++)
    sum += tar[i];
  snprintf ((char *) tar + 148, 8, "%06o", sum);
  char *p = write_tmp ("x.tar", tar, sizeof tar);
  assert_int_equal (is_archive (p), 1);
  rm_parent (p);
  /* Named like one, not one: copied.  Empty: copied.  */
  p = write_tmp ("y.tar", "not a tar\n", 10);
  assert_int_equal (is_archive (p), 0);
  rm_parent (p);
  p = write_tmp ("e.tar", "", 0);
  assert_int_equal (is_archive (p), 0);
  rm_parent (p);
  /* Only its end blocks: no first header, copied (docker's test).  */
  memset (tar, 0, sizeof tar);
  p = write_tmp ("z.tar", tar, sizeof tar);
  assert_int_equal (is_archive (p), 0);
  /* A directory is no archive.  */
  *strrchr (p, '/') = '\0';
  assert_int_equal (is_archive (p), 0);
  assert_int_equal (cove_rm_rf (p, NULL), 0);
  free (p);
}

/* The sources of the first COPY/ADD of TEXT (after FROM), sorted by
   build_add_sources with VARS; *OUT filled, the step's error returned
   (NULL: success).  */
struct fixture
{
  struct build b;
  struct build_options o;
  char *dir;
};

static struct cove_error *
sources (struct fixture *fx, const char *text, struct cove_build_vars *vars,
         struct build_add_sources *out)
{
  struct cove_error *err = NULL;
  fx->b.file = cove_build_parse ("Containerfile", text, strlen (text), &err);
  if (fx->b.file == NULL)
    fail_msg ("%s: %s", text, err->msg);
  const struct cove_build_instr *in = &fx->b.file->stages[0].instrs[0];
  char **words = NULL;
  size_t n = cove_strv_len (in->args);
  for (size_t i = 0; i + 1 < n; i++)
    cove_strv_append (&words, in->args[i]);
  if (build_add_sources (&fx->b, in, words, vars, out, &err) == 0)
    assert_null (err);
  cove_strv_free (words);
  return err;
}

static int
setup (void **state)
{
  struct fixture *fx = xmalloc0 (sizeof *fx);
  fx->dir = xstrdup ("/tmp/test-build-add.XXXXXX");
  assert_non_null (mkdtemp (fx->dir));
  fx->b.o = &fx->o;
  fx->b.paths.data_dir = fx->dir;
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *fx = *state;
  cove_build_file_free (fx->b.file);
  assert_int_equal (cove_rm_rf (fx->dir, NULL), 0);
  free (fx->dir);
  free (fx);
  return 0;
}

static char *
content (const struct build_add_file *f)
{
  char buf[256];
  ssize_t n = pread (f->fd, buf, sizeof buf - 1, 0);
  assert_true (n >= 0);
  return xstrndup (buf, (size_t) n);
}

static void
test_heredocs (void **state)
{
  struct fixture *fx = *state;
  struct cove_build_vars *v = cove_build_vars_new ();
  cove_build_vars_set (v, "NAME", "world");
  struct build_add_sources s;
  assert_null (sources (fx, "FROM scratch\n"
                        "COPY <<A local <<\"B\" /dir/\n"
                        "hi $NAME \"q\" ${NAME:-x} \\$NAME\n"
                        "A\n"
                        "raw $NAME\n"
                        "B\n", v, &s));
  assert_int_equal (s.n_files, 2);
  assert_string_equal (s.local[0], "local");
  assert_null (s.local[1]);
  assert_string_equal (s.files[0].name, "A");
  assert_int_equal (s.files[0].mode, 0644);
  char *c = content (&s.files[0]);
  assert_string_equal (c, "hi world \"q\" world \\$NAME\n");
  free (c);
  c = content (&s.files[1]);
  assert_string_equal (c, "raw $NAME\n");
  free (c);
  assert_string_equal (s.files[1].digest, "sha256:"
                       "044fa86acbe2bb187f069d763fe009b65d12e39eb7a2a47c7b2f9f19069c22a3");
  build_add_sources_clear (&s);
  cove_build_vars_free (v);
}

static void
refused (struct fixture *fx, const char *text, int errnum, const char *want)
{
  struct build_add_sources s;
  struct cove_error *err = sources (fx, text, NULL, &s);
  assert_non_null (err);
  assert_int_equal (err->errnum, errnum);
  if (strstr (err->msg, want) == NULL)
    fail_msg ("%s: message \"%s\" lacks \"%s\"", text, err->msg, want);
  cove_error_free (err);
  build_add_sources_clear (&s);
  cove_build_file_free (fx->b.file);
  fx->b.file = NULL;
}

static void
test_refused (void **state)
{
  struct fixture *fx = *state;
  refused (fx, "FROM scratch\nCOPY http://h/x /x\n", EINVAL,
           "source can't be a URL for COPY");
  refused (fx, "FROM scratch\nADD ftp://h/x /x\n", ENOTSUP,
           "only http and https URLs");
  refused (fx, "FROM scratch\nADD --checksum=sha256:00 http://h/x /x\n",
           EINVAL, "not a sha256:<64 hex digits> digest");
  refused (fx, "FROM scratch\nADD --checksum=md5:00 http://h/x /x\n",
           EINVAL, "not a sha256");
  refused (fx, "FROM scratch\nADD --checksum=sha256:"
           "0000000000000000000000000000000000000000000000000000000000000000"
           " local /x\n", EINVAL, "exactly one source, an http(s) URL");
  /* Nothing was left in the store's directory (temporary files are
     unlinked).  */
  assert_int_equal (rmdir (fx->dir), 0);
  assert_int_equal (mkdir (fx->dir, 0700), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_url_name),
    cmocka_unit_test (test_is_archive),
    cmocka_unit_test_setup_teardown (test_heredocs, setup, teardown),
    cmocka_unit_test_setup_teardown (test_refused, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
