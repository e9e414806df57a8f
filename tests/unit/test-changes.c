/* Unit tests of storage/changes.c: a container's changes (A/C/D) from a
   fake overlay upper, or a fake vfs copy, over fake layers in a temporary
   directory.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "storage/storage.h"

static char *top;   /* the test's temporary directory */

static int
setup (void **state)
{
  (void) state;
  char tmpl[] = "/var/tmp/cove-changes-XXXXXX";
  assert_non_null (mkdtemp (tmpl));
  top = xstrdup (tmpl);
  return 0;
}

static int
teardown (void **state)
{
  (void) state;
  assert_int_equal (cove_rm_rf (top, NULL), 0);
  free (top);
  return 0;
}

static char *
at (const char *rel)
{
  return xasprintf ("%s/%s", top, rel);
}

static void
mkd (const char *rel)
{
  char *p = at (rel);
  assert_int_equal (cove_mkdir_p (p, 0755, NULL), 0);
  free (p);
}

static void
put (const char *rel, const char *content)
{
  char *p = at (rel);
  FILE *f = fopen (p, "we");
  assert_non_null (f);
  fputs (content, f);
  fclose (f);
  free (p);
}

static void
lnk (const char *rel, const char *target)
{
  char *p = at (rel);
  assert_int_equal (symlink (target, p), 0);
  free (p);
}

static void
whiteout (const char *rel)
{
  char *p = at (rel);
  int r = mknod (p, S_IFCHR | 0600, makedev (0, 0));
  free (p);
  if (r < 0 && errno == EPERM)
    skip ();    /* not root: overlay's whiteouts cannot be made here */
  assert_int_equal (r, 0);
}

static void
xattr (const char *rel, const char *name, const char *value)
{
  char *p = at (rel);
  assert_int_equal (lsetxattr (p, name, value, strlen (value), 0), 0);
  free (p);
}

static int
fix_time (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) st, (void) flag, (void) ftw;
  struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
  return utimensat (AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

/* Every entry gets the same mtime: directories copied up unchanged look
   the same as their layer's.  */
static void
same_times (void)
{
  assert_int_equal (nftw (top, fix_time, 16, FTW_PHYS | FTW_DEPTH), 0);
}

static void
touch (const char *rel)
{
  char *p = at (rel);
  struct timespec ts[2] = { { 2000000000, 0 }, { 2000000000, 0 } };
  assert_int_equal (utimensat (AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
  free (p);
}

static int
opendir_rel (const char *rel)
{
  char *p = at (rel);
  int fd = open (p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true (fd >= 0);
  free (p);
  return fd;
}

/* The callback: "K /path\n" lines appended to a string.  */
static int
collect (void *ctx, const struct cove_storage_change *c,
         struct cove_error **err)
{
  (void) err;
  char **out = ctx;
  char *n = xasprintf ("%s%c %s\n", *out, (char) c->kind, c->path);
  free (*out);
  *out = n;
  if (c->kind == COVE_STORAGE_CHANGE_DELETED)
    assert_null (c->st);
  else
    {
      struct stat st;
      assert_int_equal (fstatat (c->dirfd, c->name, &st, AT_SYMLINK_NOFOLLOW), 0);
      assert_int_equal (st.st_ino, c->st->st_ino);
    }
  return 0;
}

/* Two layers: the bottom one with the usual files, the top one deleting
   /etc/motd and adding /etc/group.  */
static void
make_layers (void)
{
  mkd ("l1/etc");
  put ("l1/etc/passwd", "root:x:0:0\n");
  put ("l1/etc/hosts", "127.0.0.1 localhost\n");
  put ("l1/etc/motd", "hi\n");
  mkd ("l1/bin");
  put ("l1/bin/sh", "ELF");
  mkd ("l1/var/lib");
  put ("l1/gone", "x");
  mkd ("l1/d");
  put ("l1/d/a", "a");
  put ("l1/d/b", "b");
  mkd ("l2/etc");
  put ("l2/etc/group", "root:x:0:\n");
  whiteout ("l2/etc/motd");
}

static char *
run_overlay (int *out_r, struct cove_error **err)
{
  int fds[2] = { opendir_rel ("l2"), opendir_rel ("l1") };
  int upper = opendir_rel ("upper");
  char *out = xstrdup ("");
  *out_r = cove_storage_changes_overlay (upper, fds, 2, collect, &out, err);
  close (upper);
  close (fds[0]);
  close (fds[1]);
  return out;
}

static void
test_overlay_changes (void **state)
{
  (void) state;
  make_layers ();
  mkd ("upper/etc");
  put ("upper/etc/passwd", "root:x:0:0\nme:x:1000:1000\n");  /* copied up */
  mkd ("upper/var/lib");
  put ("upper/var/lib/new", "n");                  /* added */
  whiteout ("upper/gone");                         /* deleted */
  mkd ("upper/bin");
  put ("upper/bin/sh", "");                        /* deleted, xattr form */
  mkd ("upper/d");                                 /* rm -rf d; mkdir d */
  put ("upper/d/a", "new a");
  put ("upper/d/c", "c");
  mkd ("upper/new/sub");
  put ("upper/new/sub/f", "f");
  put ("upper/etc/motd", "back\n");                /* was deleted by l2 */
  same_times ();
  touch ("upper/var/lib");     /* an entry was added: its mtime moved */
  xattr ("upper/bin/sh", "user.overlay.whiteout", "y");
  xattr ("upper/bin", "user.overlay.opaque", "x");   /* not opaque */
  xattr ("upper/d", "user.overlay.opaque", "y");
  struct cove_error *err = NULL;
  int r;
  char *out = run_overlay (&r, &err);
  assert_null (err);
  assert_int_equal (r, 0);
  assert_string_equal (out,
                       "C /bin\n"
                       "D /bin/sh\n"
                       "C /d\n"
                       "C /d/a\n"
                       "D /d/b\n"
                       "A /d/c\n"
                       "C /etc\n"
                       "A /etc/motd\n"
                       "C /etc/passwd\n"
                       "D /gone\n"
                       "A /new\n"
                       "A /new/sub\n"
                       "A /new/sub/f\n"
                       "C /var/lib\n"
                       "A /var/lib/new\n");
  free (out);
}

static void
test_overlay_empty_upper (void **state)
{
  (void) state;
  make_layers ();
  mkd ("upper");
  struct cove_error *err = NULL;
  int r;
  char *out = run_overlay (&r, &err);
  assert_int_equal (r, 0);
  assert_string_equal (out, "");
  free (out);
}

static int
refuse (void *ctx, const struct cove_storage_change *c,
        struct cove_error **err)
{
  (void) c;
  ++*(int *) ctx;
  return cove_error_set (err, ENOSPC, "full");
}

static void
test_overlay_errors (void **state)
{
  (void) state;
  make_layers ();
  mkd ("upper/x");
  put ("upper/x/y", "");
  int fds[1] = { opendir_rel ("l1") };
  int upper = opendir_rel ("upper");
  struct cove_error *err = NULL;
  int calls = 0;
  /* The callback's error ends the walk and comes back as it was.  */
  assert_int_equal (cove_storage_changes_overlay (upper, fds, 1, refuse, &calls, &err), -1);
  assert_int_equal (err->errnum, ENOSPC);
  assert_int_equal (calls, 1);
  cove_error_free (err);
  err = NULL;
  /* A bad upper fd.  */
  char *out = xstrdup ("");
  assert_int_equal (cove_storage_changes_overlay (-1, fds, 1, collect, &out, &err), -1);
  assert_int_equal (err->errnum, EBADF);
  assert_string_equal (out, "");
  cove_error_free (err);
  free (out);
  close (upper);
  close (fds[0]);
}

/* A vfs copy: the layers as copied, then changed.  */
static void
test_copy_changes (void **state)
{
  (void) state;
  make_layers ();
  mkd ("rootfs/etc");
  put ("rootfs/etc/passwd", "root:x:0:0\n");
  put ("rootfs/etc/hosts", "127.0.0.1 localhost\n");
  put ("rootfs/etc/group", "root:x:0:\n");
  mkd ("rootfs/bin");
  put ("rootfs/bin/sh", "ELF");
  mkd ("rootfs/var/lib");
  mkd ("rootfs/d");
  put ("rootfs/d/a", "a");
  put ("rootfs/d/b", "b");
  put ("rootfs/gone", "x");
  lnk ("l1/link", "/etc/passwd");
  lnk ("rootfs/link", "/etc/passwd");
  same_times ();
  /* Unchanged so far.  */
  int fds[2] = { opendir_rel ("l2"), opendir_rel ("l1") };
  int root = opendir_rel ("rootfs");
  struct cove_error *err = NULL;
  char *out = xstrdup ("");
  assert_int_equal (cove_storage_changes_copy (root, fds, 2, collect, &out, &err), 0);
  assert_string_equal (out, "");
  /* Now change it: a bigger file, a new file, a deleted one, a symlink
     pointing elsewhere (same length, same mtime), a chmod.  */
  put ("rootfs/etc/passwd", "root:x:0:0\nme:x:1000:1000\n");
  put ("rootfs/var/lib/new", "n");
  char *p = at ("rootfs/gone");
  assert_int_equal (unlink (p), 0);
  free (p);
  p = at ("rootfs/link");
  unlink (p);
  free (p);
  lnk ("rootfs/link", "/etc/shadow");
  p = at ("rootfs/bin/sh");
  assert_int_equal (chmod (p, 0700), 0);
  free (p);
  same_times ();
  touch ("rootfs/etc/passwd");
  free (out);
  out = xstrdup ("");
  assert_int_equal (cove_storage_changes_copy (root, fds, 2, collect, &out, &err), 0);
  assert_null (err);
  assert_string_equal (out,
                       "C /bin/sh\n"
                       "C /etc/passwd\n"
                       "D /gone\n"
                       "C /link\n"
                       "C /var/lib\n"
                       "A /var/lib/new\n");
  free (out);
  close (root);
  close (fds[0]);
  close (fds[1]);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_overlay_changes, setup, teardown),
    cmocka_unit_test_setup_teardown (test_overlay_empty_upper, setup, teardown),
    cmocka_unit_test_setup_teardown (test_overlay_errors, setup, teardown),
    cmocka_unit_test_setup_teardown (test_copy_changes, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
