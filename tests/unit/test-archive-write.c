/* Unit tests of pkg/archive: writing trees back to tars (round trips,
   errors, layer diffs with whiteouts), and applied layers mounted with
   overlay in a user namespace.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <locale.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "pkg/archive/archive.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#include "tests/unit/archive-fixture.h"
static int
buf_sink (void *ctx, const void *p, size_t n, struct cove_error **err)
{
  buf_write (NULL, ctx, p, n);
  return 0;
}

static void
set_time (const char *dir, const char *rel, long sec)
{
  char *p = xasprintf ("%s/%s", dir, rel);
  struct timespec ts[2] = { { sec, 500 }, { sec, 500 } };
  assert_int_equal (utimensat (AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
  free (p);
}

static void
compare_trees (const char *a, const char *b)
{
  char *na = names_of (a);
  assert_names (b, na);
  struct dirent **list;
  int n = scandir (a, &list, NULL, alphasort);
  for (int i = 0; i < n; i++)
    {
      const char *name = list[i]->d_name;
      if (strcmp (name, ".") && strcmp (name, ".."))
        {
          char *pa = xasprintf ("%s/%s", a, name);
          char *pb = xasprintf ("%s/%s", b, name);
          struct stat sa, sb;
          assert_int_equal (lstat (pa, &sa), 0);
          assert_int_equal (lstat (pb, &sb), 0);
          print_message ("compare %s\n", pa);
          assert_int_equal (sa.st_mode, sb.st_mode);
          assert_int_equal (sa.st_uid, sb.st_uid);
          assert_int_equal (sa.st_gid, sb.st_gid);
          assert_int_equal (sa.st_mtim.tv_sec, sb.st_mtim.tv_sec);
          /* pax_restricted keeps whole seconds only.  */
          assert_int_equal (sa.st_rdev, sb.st_rdev);
          if (S_ISREG (sa.st_mode))
            {
              char *ca = cove_file_read_at (AT_FDCWD, pa, 1 << 20, NULL, NULL);
              char *cb = cove_file_read_at (AT_FDCWD, pb, 1 << 20, NULL, NULL);
              assert_string_equal (ca, cb);
              free (ca);
              free (cb);
            }
          char va[64] = "", vb[64] = "";
          assert_int_equal (lgetxattr (pa, "user.k", va, sizeof va),
                            lgetxattr (pb, "user.k", vb, sizeof vb));
          assert_string_equal (va, vb);
          assert_int_equal (lgetxattr (pa, "security.capability", va, sizeof va),
                            lgetxattr (pb, "security.capability", vb, sizeof vb));
          if (S_ISLNK (sa.st_mode))
            {
              ssize_t la = readlink (pa, va, sizeof va - 1);
              ssize_t lb = readlink (pb, vb, sizeof vb - 1);
              assert_int_equal (la, lb);
              assert_memory_equal (va, vb, (size_t) la);
            }
          if (S_ISDIR (sa.st_mode))
            compare_trees (pa, pb);
          free (pa);
          free (pb);
        }
      free (list[i]);
    }
  free (list);
  free (na);
}

static void
make_src_tree (const char *src)
{
  char *p;
#define P(rel) (free (p), p = xasprintf ("%s/%s", src, rel))
  p = NULL;
  assert_int_equal (mkdir (P ("d"), 0750), 0);
  assert_int_equal (chown (p, 1000, 1000), 0);
  assert_int_equal (mkdir (P ("d/sub"), 02775), 0);
  assert_int_equal (chmod (p, 02775), 0);
  assert_int_equal (cove_file_write_atomic (P ("d/f"), "hello", 5, 0755, 0, NULL), 0);
  assert_int_equal (chown (p, 1000, 1000), 0);
  assert_int_equal (chmod (p, 04755), 0);
  assert_int_equal (setxattr (p, "user.k", "v", 1, 0), 0);
  char *f2 = xasprintf ("%s/d/f2", src);
  assert_int_equal (link (p, f2), 0);
  free (f2);
  assert_int_equal (cove_file_write_atomic (P ("d/sub/deep"), "x", 1, 0600, 0, NULL), 0);
  assert_int_equal (cove_file_write_atomic (P ("empty"), "", 0, 0644, 0, NULL), 0);
  assert_int_equal (cove_file_write_atomic (P ("cap"), "c", 1, 0755, 0, NULL), 0);
  assert_int_equal (setxattr (p, "security.capability", cap_v2, 20, 0), 0);
  assert_int_equal (symlink ("d/f", P ("link")), 0);
  assert_int_equal (symlink ("/etc/passwd", P ("abs")), 0);
  assert_int_equal (mkfifo (P ("fifo"), 0640), 0);
  assert_int_equal (mknod (P ("null"), S_IFCHR | 0666, makedev (1, 3)), 0);
  free (p);
#undef P
  const char *order[] = { "d/f", "d/sub/deep", "d/sub", "d", "empty", "cap",
                          "link", "abs", "fifo", "null" };
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
    set_time (src, order[i], 1200000000 + (long) i);
}

static void
test_write_round_trip (void **state)
{
  if (geteuid () != 0)
    skip ();
  char src[] = "/tmp/cove-test-archive-src-XXXXXX";
  assert_non_null (mkdtemp (src));
  make_src_tree (src);
  int srcfd = open (src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const enum cove_archive_format fmts[] = { COVE_ARCHIVE_TAR,
    COVE_ARCHIVE_TAR_GZIP, COVE_ARCHIVE_TAR_ZSTD };
  for (int i = 0; i < 3; i++)
    {
      struct buf one = { 0 }, two = { 0 };
      struct cove_error *err = NULL;
      assert_int_equal (cove_archive_write_tree (srcfd, fmts[i], false,
                                                 buf_sink, &one, &err), 0);
      assert_int_equal (cove_archive_write_tree (srcfd, fmts[i], false,
                                                 buf_sink, &two, &err), 0);
      /* The same tree gives the same bytes.  */
      assert_int_equal (one.len, two.len);
      assert_memory_equal (one.data, two.data, one.len);
      char dst[] = "/tmp/cove-test-archive-dst-XXXXXX";
      assert_non_null (mkdtemp (dst));
      int dstfd = open (dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      assert_int_equal (apply_mem (dstfd, &one, 65536, NULL, &err), 0);
      compare_trees (src, dst);
      char *a = xasprintf ("%s/d/f", dst), *b = xasprintf ("%s/d/f2", dst);
      struct stat sa, sb;
      assert_int_equal (lstat (a, &sa), 0);
      assert_int_equal (lstat (b, &sb), 0);
      assert_int_equal (sa.st_ino, sb.st_ino);
      free (a);
      free (b);
      close (dstfd);
      assert_int_equal (cove_rm_rf (dst, NULL), 0);
      free (one.data);
      free (two.data);
    }
  /* A failing WRITE fails the whole, with its error.  */
  close (srcfd);
  assert_int_equal (cove_rm_rf (src, NULL), 0);
}

static int
failing_sink (void *ctx, const void *p, size_t n, struct cove_error **err)
{
  return cove_error_set (err, ENOSPC, "disk full");
}

static void
test_write_errors (void **state)
{
  struct fx *f = *state;
  struct cove_error *err = NULL;
  char *p = at (f, "file");
  assert_int_equal (cove_file_write_atomic (p, "abc", 3, 0644, 0, NULL), 0);
  free (p);
  assert_int_equal (cove_archive_write_tree (f->layerfd, COVE_ARCHIVE_TAR, false,
                                             failing_sink, NULL, &err), -1);
  assert_int_equal (err->errnum, ENOSPC);
  cove_error_free (err);
  err = NULL;
  struct buf b = { 0 };
  assert_int_equal (cove_archive_write_tree (-1, COVE_ARCHIVE_TAR, false,
                                             buf_sink, &b, &err), -1);
  assert_int_equal (err->errnum, EBADF);
  cove_error_free (err);
  free (b.data);
}

/* The entry names of the tar in B, "name name ...".  */
static char *
tar_names (const struct buf *b, bool *out_overlay_xattr)
{
  struct archive *a = archive_read_new ();
  archive_read_support_format_tar (a);
  assert_int_equal (archive_read_open_memory (a, b->data, b->len), ARCHIVE_OK);
  char *r = xstrdup ("");
  struct archive_entry *e;
  *out_overlay_xattr = false;
  while (archive_read_next_header (a, &e) == ARCHIVE_OK)
    {
      char *t = xasprintf ("%s%s ", r, archive_entry_pathname (e));
      free (r);
      r = t;
      const char *name;
      const void *v;
      size_t n;
      archive_entry_xattr_reset (e);
      while (archive_entry_xattr_next (e, &name, &v, &n) == ARCHIVE_OK)
        if (strncmp (name, "user.overlay.", 13) == 0)
          *out_overlay_xattr = true;
    }
  archive_read_free (a);
  return r;
}

static void
test_write_layer_diff (void **state)
{
  if (geteuid () != 0)
    skip ();   /* trusted.overlay.opaque needs CAP_SYS_ADMIN */
  char up[] = "/tmp/cove-test-archive-upper-XXXXXX";
  assert_non_null (mkdtemp (up));
  char *p = NULL;
#define P(rel) (free (p), p = xasprintf ("%s/%s", up, rel))
  assert_int_equal (mknod (P ("gone"), S_IFCHR, makedev (0, 0)), 0);
  assert_int_equal (mkdir (P ("opq"), 0755), 0);
  assert_int_equal (setxattr (p, "user.overlay.opaque", "y", 1, 0), 0);
  assert_int_equal (cove_file_write_atomic (P ("opq/new"), "n", 1, 0644, 0, NULL), 0);
  assert_int_equal (mkdir (P ("tro"), 0755), 0);
  assert_int_equal (setxattr (p, "trusted.overlay.opaque", "y", 1, 0), 0);
  assert_int_equal (cove_file_write_atomic (P ("wx"), "", 0, 0644, 0, NULL), 0);
  assert_int_equal (setxattr (p, "user.overlay.whiteout", "y", 1, 0), 0);
  assert_int_equal (mkdir (P ("xmark"), 0755), 0);
  assert_int_equal (setxattr (p, "user.overlay.opaque", "x", 1, 0), 0);
  assert_int_equal (cove_file_write_atomic (P ("xmark/f"), "f", 1, 0644, 0, NULL), 0);
  assert_int_equal (cove_file_write_atomic (P ("plain"), "p", 1, 0644, 0, NULL), 0);
  assert_int_equal (setxattr (p, "user.overlay.origin", "o", 1, 0), 0);
  free (p);
#undef P
  int fd = open (up, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct buf b = { 0 };
  assert_int_equal (cove_archive_write_tree (fd, COVE_ARCHIVE_TAR, true,
                                             buf_sink, &b, NULL), 0);
  bool overlay_xattr;
  char *names = tar_names (&b, &overlay_xattr);
  assert_string_equal (names, ".wh.gone opq/ opq/.wh..wh..opq opq/new plain "
                       "tro/ tro/.wh..wh..opq .wh.wx xmark/ xmark/f ");
  assert_false (overlay_xattr);
  free (names);
  /* Applied again, the whiteouts are overlay's again.  */
  char dst[] = "/tmp/cove-test-archive-dst-XXXXXX";
  assert_non_null (mkdtemp (dst));
  int dstfd = open (dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_int_equal (apply_mem (dstfd, &b, 4096, NULL, NULL), 0);
  struct stat st;
  char *g = xasprintf ("%s/wx", dst);
  assert_int_equal (lstat (g, &st), 0);
  assert_true (S_ISCHR (st.st_mode));
  free (g);
  g = xasprintf ("%s/tro", dst);
  char v[2];
  assert_int_equal (getxattr (g, "user.overlay.opaque", v, sizeof v), 1);
  free (g);
  close (dstfd);
  close (fd);
  free (b.data);
  assert_int_equal (cove_rm_rf (dst, NULL), 0);
  assert_int_equal (cove_rm_rf (up, NULL), 0);
}

/* The entry-by-entry writer: what is added, in that order, whiteouts as
   `.wh.` markers; a failing sink's error comes back.  */
static void
test_writer_entries (void **state)
{
  struct fx *f = *state;
  struct cove_error *err = NULL;
  char *p = at (f, "dir");
  assert_int_equal (mkdir (p, 0750), 0);
  free (p);
  p = at (f, "dir/file");
  assert_int_equal (cove_file_write_atomic (p, "abc", 3, 0640, 0, NULL), 0);
  free (p);
  struct buf b = { 0 };
  struct cove_archive_writer *w
    = cove_archive_writer_new (COVE_ARCHIVE_TAR, buf_sink, &b, &err);
  assert_non_null (w);
  struct stat st;
  assert_int_equal (fstatat (f->layerfd, "dir", &st, AT_SYMLINK_NOFOLLOW), 0);
  assert_int_equal (cove_archive_writer_add (w, f->layerfd, "dir", "dir", &st, &err), 0);
  int dfd = openat (f->layerfd, "dir", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_int_equal (fstatat (dfd, "file", &st, AT_SYMLINK_NOFOLLOW), 0);
  assert_int_equal (cove_archive_writer_add (w, dfd, "file", "dir/file", &st, &err), 0);
  assert_int_equal (cove_archive_writer_whiteout (w, "dir/gone", &err), 0);
  assert_int_equal (cove_archive_writer_whiteout (w, "top", &err), 0);
  /* A name that is not there: the error names it, the stream goes on.  */
  st.st_mode = S_IFREG | 0644;
  assert_int_equal (cove_archive_writer_add (w, dfd, "missing", "dir/missing", &st, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_free (err);
  err = NULL;
  assert_int_equal (cove_archive_writer_finish (w, &err), 0);
  cove_archive_writer_free (w);
  close (dfd);
  bool overlay_xattr;
  char *names = tar_names (&b, &overlay_xattr);
  assert_string_equal (names, "dir/ dir/file dir/.wh.gone .wh.top ");
  free (names);
  free (b.data);
  /* The sink's error is the writer's.  */
  w = cove_archive_writer_new (COVE_ARCHIVE_TAR_GZIP, failing_sink, NULL, &err);
  assert_non_null (w);
  assert_int_equal (cove_archive_writer_whiteout (w, "x", &err), 0);
  assert_int_equal (cove_archive_writer_finish (w, &err), -1);
  assert_int_equal (err->errnum, ENOSPC);
  cove_error_free (err);
  cove_archive_writer_free (w);
}

/* ---- in a user namespace, as an unprivileged user: ownership, setuid,
   whiteouts, and what kernel overlayfs makes of them ---- */

#define CK(c) do { if (!(c)) { fprintf (stderr, "userns: line %d: %s\n", \
                                        __LINE__, #c); _exit (1); } } while (0)

static bool
write_file (const char *path, const char *s)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  bool ok = fd >= 0 && write (fd, s, strlen (s)) == (ssize_t) strlen (s);
  if (fd >= 0)
    close (fd);
  return ok;
}

static int
apply_into (const char *base, const char *name, const struct buf *b,
            struct cove_error **err)
{
  char *dir = xasprintf ("%s/%s", base, name);
  CK (mkdir (dir, 0755) == 0);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CK (fd >= 0);
  int r = apply_mem (fd, b, 4096, NULL, err);
  close (fd);
  free (dir);
  return r;
}

static void
userns_child (const char *base, const struct buf *l1, const struct buf *l2,
              const struct buf *l3)
{
  CK (setgroups (0, NULL) == 0 && setgid (65534) == 0 && setuid (65534) == 0);
  prctl (PR_SET_DUMPABLE, 1, 0, 0, 0);
  if (unshare (CLONE_NEWUSER | CLONE_NEWNS) < 0)
    _exit (77);
  CK (write_file ("/proc/self/uid_map", "0 65534 1"));
  CK (write_file ("/proc/self/setgroups", "deny"));
  CK (write_file ("/proc/self/gid_map", "0 65534 1"));
  struct cove_error *err = NULL;
  CK (apply_into (base, "l1", l1, &err) == 0);
  CK (apply_into (base, "l2", l2, &err) == 0);
  /* An id outside the namespace's map: the error says so.  */
  CK (apply_into (base, "l3", l3, &err) == -1 && err->errnum == EINVAL
      && strstr (err->msg, "not mapped"));
  char *su = xasprintf ("%s/l1/sbin/su", base);
  struct stat st;
  CK (lstat (su, &st) == 0 && (st.st_mode & 07777) == 04755 && st.st_uid == 0);
  char *merged = xasprintf ("%s/merged", base);
  CK (mkdir (merged, 0755) == 0);
  char *opts = xasprintf ("lowerdir=%s/l2:%s/l1,userxattr", base, base);
  if (mount ("overlay", merged, "overlay", MS_RDONLY, opts) < 0)
    {
      fprintf (stderr, "userns: mount overlay: %s\n", strerror (errno));
      _exit (78);
    }
  char *q;
#define M(rel) (q = xasprintf ("%s/%s", merged, rel))
  CK (lstat (M ("a"), &st) < 0 && errno == ENOENT);
  CK (lstat (M ("d/x"), &st) < 0 && errno == ENOENT);
  CK (lstat (M ("d/y"), &st) == 0);
  CK (lstat (M ("opq/old"), &st) < 0 && errno == ENOENT);
  CK (lstat (M ("opq/new"), &st) == 0);
  CK (lstat (M ("sbin/su"), &st) == 0 && (st.st_mode & 07777) == 04755);
#undef M
  _exit (0);
}

static void
test_userns_overlay (void **state)
{
  if (geteuid () != 0)
    skip ();   /* switches to an unprivileged uid first */
  struct buf l1, l2, l3;
  struct archive *a = tb_new (F_GZIP, &l1);
  ADD (a, .path = "a", .data = "a");
  ADD (a, .path = "d/x", .data = "x");
  ADD (a, .path = "d/y", .data = "y");
  ADD (a, .path = "opq/old", .data = "o");
  ADD (a, .path = "sbin/su", .data = "su", .perm = 04755);
  tb_end (a);
  a = tb_new (F_ZSTD, &l2);
  ADD (a, .path = ".wh.a");
  ADD (a, .path = "d/.wh.x");
  ADD (a, .path = "opq/.wh..wh..opq");
  ADD (a, .path = "opq/new", .data = "n");
  tb_end (a);
  a = tb_new (F_NONE, &l3);
  ADD (a, .path = "owned", .data = "o", .uid = 1000);
  tb_end (a);
  char base[] = "/tmp/cove-test-archive-userns-XXXXXX";
  assert_non_null (mkdtemp (base));
  assert_int_equal (chown (base, 65534, 65534), 0);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    userns_child (base, &l1, &l2, &l3);
  int status;
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_int_equal (cove_rm_rf (base, NULL), 0);
  free (l1.data);
  free (l2.data);
  free (l3.data);
  assert_true (WIFEXITED (status));
  if (WEXITSTATUS (status) == 77)
    skip ();   /* no user namespaces here */
  assert_int_equal (WEXITSTATUS (status), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_write_round_trip),
    cmocka_unit_test_setup_teardown (test_write_errors, fx_setup, fx_teardown),
    cmocka_unit_test (test_write_layer_diff),
    cmocka_unit_test_setup_teardown (test_writer_entries, fx_setup, fx_teardown),
    cmocka_unit_test (test_userns_overlay),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
