/* The fixture of the archive unit tests (see archive-fixture.h).  */
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
/* ---- tar streams in memory ---- */


la_ssize_t
buf_write (struct archive *a, void *ud, const void *b, size_t n)
{
  struct buf *o = ud;
  o->data = xrealloc (o->data, o->len + n + 1);
  memcpy (o->data + o->len, b, n);
  o->len += n;
  return (la_ssize_t) n;
}


struct archive *
tb_new (int filter, struct buf *out)
{
  struct archive *a = archive_write_new ();
  archive_write_set_format_pax_restricted (a);
  if (filter == F_GZIP)
    archive_write_add_filter_gzip (a);
  else if (filter == F_ZSTD)
    archive_write_add_filter_zstd (a);
  archive_write_set_bytes_in_last_block (a, 1);
  memset (out, 0, sizeof *out);
  assert_int_equal (archive_write_open (a, out, NULL, buf_write, NULL),
                    ARCHIVE_OK);
  return a;
}

void
tb_end (struct archive *a)
{
  assert_int_equal (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
}


void
tb_add (struct archive *a, struct ent e)
{
  struct archive_entry *x = archive_entry_new ();
  unsigned type = e.type ? e.type : AE_IFREG;
  archive_entry_set_pathname (x, e.path);
  archive_entry_set_filetype (x, type);
  archive_entry_set_perm (x, e.perm ? e.perm : type == AE_IFDIR ? 0755 : 0644);
  archive_entry_set_uid (x, e.uid);
  archive_entry_set_gid (x, e.gid);
  archive_entry_set_mtime (x, e.mtime ? e.mtime : 1600000000, 0);
  size_t len = e.data ? strlen (e.data) : 0;
  archive_entry_set_size (x, type == AE_IFREG && !e.hardlink ? (la_int64_t) len : 0);
  if (e.link)
    archive_entry_set_symlink (x, e.link);
  if (e.hardlink)
    archive_entry_set_hardlink (x, e.hardlink);
  if (e.rdev)
    archive_entry_set_rdev (x, e.rdev);
  if (e.xname)
    archive_entry_xattr_add_entry (x, e.xname, e.xval, strlen (e.xval));
  if (e.xname2)
    archive_entry_xattr_add_entry (x, e.xname2, e.xval2, strlen (e.xval2));
  assert_int_equal (archive_write_header (a, x), ARCHIVE_OK);
  if (len && !e.hardlink)
    assert_int_equal (archive_write_data (a, e.data, len), (la_ssize_t) len);
  archive_entry_free (x);
}



ssize_t
src_read (void *ctx, const void **out, struct cove_error **err)
{
  struct src *s = ctx;
  if (s->fail_at && s->pos >= s->fail_at)
    return cove_error_set (err, ECONNRESET, "network went away");
  size_t n = s->len - s->pos < s->chunk ? s->len - s->pos : s->chunk;
  *out = s->data + s->pos;
  s->pos += n;
  return (ssize_t) n;
}

/* ---- fixture: BASE/outer/{layer,sentinel/file} ---- */


int
fx_setup (void **state)
{
  struct fx *f = xmalloc0 (sizeof *f);
  snprintf (f->base, sizeof f->base, "/tmp/cove-test-archive-XXXXXX");
  assert_non_null (mkdtemp (f->base));
  f->outer = xasprintf ("%s/outer", f->base);
  f->layer = xasprintf ("%s/layer", f->outer);
  f->sentinel = xasprintf ("%s/sentinel", f->outer);
  assert_int_equal (mkdir (f->outer, 0755), 0);
  assert_int_equal (mkdir (f->layer, 0755), 0);
  assert_int_equal (mkdir (f->sentinel, 0755), 0);
  char *file = xasprintf ("%s/file", f->sentinel);
  assert_int_equal (cove_file_write_atomic (file, "original", 8, 0644, 0, NULL), 0);
  struct timespec ts[2] = { { 1000000, 0 }, { 1000000, 0 } };
  assert_int_equal (utimensat (AT_FDCWD, file, ts, 0), 0);
  assert_int_equal (utimensat (AT_FDCWD, f->sentinel, ts, 0), 0);
  free (file);
  f->layerfd = open (f->layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true (f->layerfd >= 0);
  *state = f;
  return 0;
}

int
fx_teardown (void **state)
{
  struct fx *f = *state;
  close (f->layerfd);
  assert_int_equal (cove_rm_rf (f->base, NULL), 0);
  free (f->outer);
  free (f->layer);
  free (f->sentinel);
  free (f);
  return 0;
}

char *
names_of (const char *dir)
{
  struct dirent **list;
  int n = scandir (dir, &list, NULL, alphasort);
  assert_true (n >= 0);
  char *r = xstrdup ("");
  for (int i = 0; i < n; i++)
    {
      if (strcmp (list[i]->d_name, ".") && strcmp (list[i]->d_name, ".."))
        {
          char *t = xasprintf ("%s%s ", r, list[i]->d_name);
          free (r);
          r = t;
        }
      free (list[i]);
    }
  free (list);
  return r;
}

void
assert_names (const char *dir, const char *want)
{
  char *got = names_of (dir);
  assert_string_equal (got, want);
  free (got);
}

/* Nothing outside the layer directory was written or changed.  */
void
assert_outside_untouched (struct fx *f)
{
  assert_names (f->base, "outer ");
  assert_names (f->outer, "layer sentinel ");
  assert_names (f->sentinel, "file ");
  char *file = xasprintf ("%s/file", f->sentinel);
  struct stat st;
  assert_int_equal (lstat (file, &st), 0);
  assert_true (S_ISREG (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0644);
  assert_int_equal (st.st_nlink, 1);
  assert_int_equal (st.st_mtime, 1000000);
  char *c = cove_file_read_at (AT_FDCWD, file, 100, NULL, NULL);
  assert_string_equal (c, "original");
  assert_int_equal (lstat (f->sentinel, &st), 0);
  assert_int_equal (st.st_mtime, 1000000);
  free (c);
  free (file);
}

int
apply_mem (int dirfd, const struct buf *b, size_t chunk,
           struct cove_archive_apply_stats *st, struct cove_error **err)
{
  struct src s = { b->data, b->len, 0, chunk, 0 };
  return cove_archive_apply (dirfd, src_read, &s, st, err);
}

char *
at (struct fx *f, const char *rel)
{
  return xasprintf ("%s/%s", f->layer, rel);
}

struct stat
lstat_at (struct fx *f, const char *rel)
{
  struct stat st;
  char *p = at (f, rel);
  if (lstat (p, &st) < 0)
    fail_msg ("lstat %s: %s", p, strerror (errno));
  free (p);
  return st;
}

char *
read_at (struct fx *f, const char *rel)
{
  char *p = at (f, rel);
  char *c = cove_file_read_at (AT_FDCWD, p, 1 << 20, NULL, NULL);
  free (p);
  assert_non_null (c);
  return c;
}

bool
exists_at (struct fx *f, const char *rel)
{
  struct stat st;
  char *p = at (f, rel);
  bool r = lstat (p, &st) == 0;
  free (p);
  return r;
}

ssize_t
xattr_at (struct fx *f, const char *rel, const char *name, char *val,
          size_t size)
{
  char *p = at (f, rel);
  ssize_t n = lgetxattr (p, name, val, size);
  free (p);
  return n;
}


/* ---- applying ---- */

