/* Unit tests of pkg/archive: applying layer tars (kept metadata, whiteouts,
   hostile entries that must not write outside the layer, compression,
   truncation) and writing trees back to tars.  Tar streams are made in
   memory with libarchive's writer, or by hand for malformed headers.  */
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

/* ---- tar streams in memory ---- */

struct buf
{
  char *data;
  size_t len;
};

static la_ssize_t
buf_write (struct archive *a, void *ud, const void *b, size_t n)
{
  struct buf *o = ud;
  o->data = xrealloc (o->data, o->len + n + 1);
  memcpy (o->data + o->len, b, n);
  o->len += n;
  return (la_ssize_t) n;
}

enum { F_NONE, F_GZIP, F_ZSTD };

static struct archive *
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

static void
tb_end (struct archive *a)
{
  assert_int_equal (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
}

struct ent
{
  const char *path;
  unsigned type;          /* AE_IF*; 0: regular file */
  unsigned perm;          /* 0: 0644 (0755 for directories) */
  const char *data;       /* regular file content */
  const char *link;       /* symlink target */
  const char *hardlink;
  unsigned uid, gid;
  time_t mtime;
  dev_t rdev;
  const char *xname, *xval;
  const char *xname2, *xval2;
};

static void
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

#define ADD(a, ...) tb_add ((a), (struct ent) { __VA_ARGS__ })

/* The read callback: the stream in chunks of CHUNK bytes; FAIL_AT > 0
   makes it fail with ECONNRESET there.  */
struct src
{
  const char *data;
  size_t len, pos, chunk, fail_at;
};

static ssize_t
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

struct fx
{
  char base[64];
  char *outer, *layer, *sentinel;
  int layerfd;
};

static int
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

static int
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

static char *
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

static void
assert_names (const char *dir, const char *want)
{
  char *got = names_of (dir);
  assert_string_equal (got, want);
  free (got);
}

/* Nothing outside the layer directory was written or changed.  */
static void
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

static int
apply_mem (int dirfd, const struct buf *b, size_t chunk,
           struct cove_archive_apply_stats *st, struct cove_error **err)
{
  struct src s = { b->data, b->len, 0, chunk, 0 };
  return cove_archive_apply (dirfd, src_read, &s, st, err);
}

static char *
at (struct fx *f, const char *rel)
{
  return xasprintf ("%s/%s", f->layer, rel);
}

static struct stat
lstat_at (struct fx *f, const char *rel)
{
  struct stat st;
  char *p = at (f, rel);
  if (lstat (p, &st) < 0)
    fail_msg ("lstat %s: %s", p, strerror (errno));
  free (p);
  return st;
}

static char *
read_at (struct fx *f, const char *rel)
{
  char *p = at (f, rel);
  char *c = cove_file_read_at (AT_FDCWD, p, 1 << 20, NULL, NULL);
  free (p);
  assert_non_null (c);
  return c;
}

static bool
exists_at (struct fx *f, const char *rel)
{
  struct stat st;
  char *p = at (f, rel);
  bool r = lstat (p, &st) == 0;
  free (p);
  return r;
}

static ssize_t
xattr_at (struct fx *f, const char *rel, const char *name, char *val,
          size_t size)
{
  char *p = at (f, rel);
  ssize_t n = lgetxattr (p, name, val, size);
  free (p);
  return n;
}

/* A security.capability v2 value: cap_net_bind_service permitted.  */
static const char cap_v2[20] = { 0, 0, 0, 2, 0, 4, 0, 0 };

/* ---- applying ---- */

static void
test_apply_kept (void **state)
{
  struct fx *f = *state;
  struct buf b;
  struct archive *a = tb_new (F_NONE, &b);
  char cap[21];
  memcpy (cap, cap_v2, 20);
  ADD (a, .path = "./", .type = AE_IFDIR, .perm = 0751, .mtime = 1500000000);
  ADD (a, .path = "d/", .type = AE_IFDIR, .perm = 0750, .uid = 1000, .gid = 2000,
       .mtime = 1400000000, .xname = "user.dir", .xval = "dv");
  ADD (a, .path = "d/f", .data = "hello", .perm = 04755, .uid = 1000, .gid = 2000,
       .mtime = 1300000000, .xname = "user.k", .xval = "v",
       .xname2 = "trusted.no", .xval2 = "x");
  ADD (a, .path = "d/g", .data = "gid", .perm = 02711);
  ADD (a, .path = "sticky", .type = AE_IFDIR, .perm = 01777);
  ADD (a, .path = "d/hl", .hardlink = "d/f");
  ADD (a, .path = "abs", .type = AE_IFLNK, .link = "/etc/nowhere", .uid = 7);
  ADD (a, .path = "rel", .type = AE_IFLNK, .link = "../../../x");
  ADD (a, .path = "no/parent/entry", .data = "deep");
  ADD (a, .path = "./dot/./slash//name", .data = "n");
  ADD (a, .path = "forged", .data = "", .xname = "user.overlay.opaque", .xval = "y");
  tb_end (a);
  /* security.capability (binary) must survive the chown before it.  */
  struct cove_archive_apply_stats st;
  struct cove_error *err = NULL;
  struct buf b2;
  a = tb_new (F_NONE, &b2);
  struct archive_entry *e = archive_entry_new ();
  archive_entry_set_pathname (e, "capbin");
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0755);
  archive_entry_set_uid (e, 3);
  archive_entry_set_size (e, 0);
  archive_entry_xattr_add_entry (e, "security.capability", cap, 20);
  assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
  archive_entry_free (e);
  tb_end (a);

  assert_int_equal (apply_mem (f->layerfd, &b2, 1 << 20, NULL, &err), 0);
  assert_int_equal (apply_mem (f->layerfd, &b, 1000, &st, &err), 0);
  assert_null (err);
  assert_int_equal (st.entries, 11);

  struct stat s = lstat_at (f, "d/f");
  assert_int_equal (s.st_mode & 07777, 04755);
  assert_int_equal (s.st_uid, 1000);
  assert_int_equal (s.st_gid, 2000);
  assert_int_equal (s.st_mtime, 1300000000);
  assert_int_equal (s.st_nlink, 2);
  assert_int_equal (lstat_at (f, "d/hl").st_ino, s.st_ino);
  char *c = read_at (f, "d/f");
  assert_string_equal (c, "hello");
  free (c);
  char v[64];
  assert_int_equal (xattr_at (f, "d/f", "user.k", v, sizeof v), 1);
  assert_int_equal (xattr_at (f, "d/f", "trusted.no", v, sizeof v), -1);
  assert_int_equal (xattr_at (f, "d", "user.dir", v, sizeof v), 2);
  assert_int_equal (xattr_at (f, "forged", "user.overlay.opaque", v, sizeof v), -1);
  assert_int_equal (xattr_at (f, "capbin", "security.capability", v, sizeof v), 20);
  assert_memory_equal (v, cap_v2, 20);
  assert_int_equal (lstat_at (f, "d/g").st_mode & 07777, 02711);
  s = lstat_at (f, "d");
  assert_int_equal (s.st_mode & 07777, 0750);
  assert_int_equal (s.st_mtime, 1400000000);     /* set after its content */
  assert_int_equal (s.st_uid, 1000);
  assert_int_equal (lstat_at (f, "sticky").st_mode & 07777, 01777);
  s = lstat_at (f, "abs");
  assert_true (S_ISLNK (s.st_mode));
  assert_int_equal (s.st_uid, 7);
  char *p = at (f, "abs");
  ssize_t n = readlink (p, v, sizeof v);
  assert_int_equal (n, 12);
  assert_memory_equal (v, "/etc/nowhere", 12);
  free (p);
  p = at (f, "rel");
  n = readlink (p, v, sizeof v);
  assert_memory_equal (v, "../../../x", 10);
  free (p);
  c = read_at (f, "no/parent/entry");
  assert_string_equal (c, "deep");
  free (c);
  assert_true (exists_at (f, "dot/slash/name"));
  s = lstat_at (f, ".");
  assert_int_equal (s.st_mode & 07777, 0751);
  assert_int_equal (s.st_mtime, 1500000000);
  free (b.data);
  free (b2.data);
  assert_outside_untouched (f);
}

static void
test_apply_replace (void **state)
{
  struct fx *f = *state;
  struct buf b;
  struct archive *a = tb_new (F_NONE, &b);
  ADD (a, .path = "f", .data = "old");
  ADD (a, .path = "f", .data = "new");
  ADD (a, .path = "d", .type = AE_IFDIR);
  ADD (a, .path = "d/keep", .data = "k");
  ADD (a, .path = "d", .type = AE_IFDIR, .perm = 0700);
  ADD (a, .path = "x", .type = AE_IFDIR);
  ADD (a, .path = "x/sub", .data = "s");
  ADD (a, .path = "x", .data = "file now");
  ADD (a, .path = "l", .type = AE_IFLNK, .link = "f");
  ADD (a, .path = "l", .data = "not through the link");
  ADD (a, .path = "y", .data = "file");
  ADD (a, .path = "y", .type = AE_IFDIR);
  tb_end (a);
  struct cove_error *err = NULL;
  assert_int_equal (apply_mem (f->layerfd, &b, 4096, NULL, &err), 0);
  char *c = read_at (f, "f");
  assert_string_equal (c, "new");
  free (c);
  assert_true (exists_at (f, "d/keep"));
  assert_int_equal (lstat_at (f, "d").st_mode & 07777, 0700);
  c = read_at (f, "x");
  assert_string_equal (c, "file now");
  free (c);
  assert_true (S_ISREG (lstat_at (f, "l").st_mode));
  c = read_at (f, "f");
  assert_string_equal (c, "new");
  free (c);
  assert_true (S_ISDIR (lstat_at (f, "y").st_mode));
  free (b.data);
  assert_outside_untouched (f);
}

static void
test_apply_whiteouts (void **state)
{
  struct fx *f = *state;
  struct buf b;
  struct archive *a = tb_new (F_GZIP, &b);
  ADD (a, .path = "d/f", .data = "in this layer");
  ADD (a, .path = "d/sub/x", .data = "x");
  ADD (a, .path = "d/.wh.f");
  ADD (a, .path = "d/.wh.sub");
  ADD (a, .path = ".wh.gone");
  ADD (a, .path = "o/.wh..wh..opq");
  ADD (a, .path = "o/new", .data = "n");
  ADD (a, .path = ".wh..wh.plnk/123", .data = "aufs");
  tb_end (a);
  struct cove_error *err = NULL;
  struct cove_archive_apply_stats st;
  assert_int_equal (apply_mem (f->layerfd, &b, 100, &st, &err), 0);
  assert_null (err);
  const char *wh[] = { "d/f", "d/sub", "gone" };
  for (size_t i = 0; i < 3; i++)
    {
      struct stat s = lstat_at (f, wh[i]);
      assert_true (S_ISCHR (s.st_mode));
      assert_int_equal (s.st_rdev, makedev (0, 0));
    }
  assert_false (exists_at (f, ".wh.gone"));
  assert_false (exists_at (f, ".wh..wh.plnk"));
  char v[4];
  assert_int_equal (xattr_at (f, "o", "user.overlay.opaque", v, sizeof v), 1);
  assert_int_equal (v[0], 'y');
  assert_true (exists_at (f, "o/new"));
  assert_false (exists_at (f, "o/.wh..wh..opq"));
  assert_int_equal (st.skipped_devices, 0);
  free (b.data);
  assert_outside_untouched (f);
}

static void
test_apply_devices (void **state)
{
  struct fx *f = *state;
  struct buf b;
  struct archive *a = tb_new (F_NONE, &b);
  ADD (a, .path = "dev/null", .type = AE_IFCHR, .perm = 0666, .rdev = makedev (1, 3));
  ADD (a, .path = "dev/loop", .type = AE_IFBLK, .perm = 0660, .rdev = makedev (7, 0));
  ADD (a, .path = "p", .type = AE_IFIFO, .perm = 0600);
  tb_end (a);
  struct cove_archive_apply_stats st;
  assert_int_equal (apply_mem (f->layerfd, &b, 4096, &st, NULL), 0);
  /* As root outside a user namespace, mknod works.  */
  if (geteuid () == 0 && st.skipped_devices == 0)
    {
      assert_int_equal (lstat_at (f, "dev/null").st_rdev, makedev (1, 3));
      assert_true (S_ISBLK (lstat_at (f, "dev/loop").st_mode));
    }
  assert_true (S_ISFIFO (lstat_at (f, "p").st_mode));
  assert_int_equal (st.entries, 3);
  free (b.data);
}

/* Run FN in a child where mknodat fails with EPERM, as in a user
   namespace that may not make devices (nor, on old kernels, 0/0).  */
static void
run_without_mknod (void (*fn) (void *), void *arg)
{
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      struct sock_filter filter[] = {
        BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr)),
        BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, __NR_mknodat, 0, 1),
        BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      };
      struct sock_fprog prog = { sizeof filter / sizeof filter[0], filter };
      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0
          || prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
        _exit (2);
      fn (arg);
      _exit (0);
    }
  int status;
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
}

struct nomknod
{
  struct fx *f;
  struct buf b;
};

static void
apply_nomknod (void *arg)
{
  struct nomknod *n = arg;
  struct cove_archive_apply_stats st;
  if (apply_mem (n->f->layerfd, &n->b, 4096, &st, NULL) < 0
      || st.skipped_devices != 2)
    _exit (1);
}

static void
test_apply_no_mknod (void **state)
{
  struct fx *f = *state;
  struct nomknod n = { f };
  struct archive *a = tb_new (F_NONE, &n.b);
  ADD (a, .path = "dev/null", .type = AE_IFCHR, .rdev = makedev (1, 3));
  ADD (a, .path = "fifo", .type = AE_IFIFO);
  ADD (a, .path = "d/f", .data = "x");
  ADD (a, .path = "d/.wh.f");
  ADD (a, .path = "o/.wh..wh..opq");
  ADD (a, .path = "o/.wh.g");
  tb_end (a);
  run_without_mknod (apply_nomknod, &n);
  assert_false (exists_at (f, "dev/null"));
  assert_false (exists_at (f, "fifo"));
  /* The xattr whiteout: an empty file, its directory marked "x" (holds
     xattr whiteouts), an opaque "y" not downgraded.  */
  struct stat s = lstat_at (f, "d/f");
  assert_true (S_ISREG (s.st_mode));
  assert_int_equal (s.st_size, 0);
  char v[4];
  assert_int_equal (xattr_at (f, "d/f", "user.overlay.whiteout", v, sizeof v), 1);
  assert_int_equal (xattr_at (f, "d", "user.overlay.opaque", v, sizeof v), 1);
  assert_int_equal (v[0], 'x');
  assert_int_equal (xattr_at (f, "o", "user.overlay.opaque", v, sizeof v), 1);
  assert_int_equal (v[0], 'y');
  assert_int_equal (xattr_at (f, "o/g", "user.overlay.whiteout", v, sizeof v), 1);
  free (n.b.data);
  assert_outside_untouched (f);
}

/* ---- hostile tars: an error, and nothing written outside the layer ---- */

struct hostile
{
  const char *what;
  void (*build) (struct archive *a, const char *sentinel);
};

static void
h_dotdot (struct archive *a, const char *s)
{
  ADD (a, .path = "../../x", .data = "x");
}
static void
h_dotdot_inner (struct archive *a, const char *s)
{
  ADD (a, .path = "a/b/../../../sentinel/file", .data = "x");
}
static void
h_abs (struct archive *a, const char *s)
{
  ADD (a, .path = "/abs", .data = "x");
}
static void
h_sibling (struct archive *a, const char *s)
{
  ADD (a, .path = "../sentinel/file", .data = "pwned");
}
static void
h_link_up (struct archive *a, const char *s)
{
  ADD (a, .path = "l", .type = AE_IFLNK, .link = "..");
  ADD (a, .path = "l/x", .data = "x");
}
static void
h_link_out (struct archive *a, const char *s)
{
  ADD (a, .path = "l", .type = AE_IFLNK, .link = s);
  ADD (a, .path = "l/file", .data = "pwned");
}
static void
h_link_out_rel (struct archive *a, const char *s)
{
  ADD (a, .path = "l", .type = AE_IFLNK, .link = "../sentinel");
  ADD (a, .path = "l/new", .type = AE_IFDIR);
}
static void
h_link_out_whiteout (struct archive *a, const char *s)
{
  ADD (a, .path = "l", .type = AE_IFLNK, .link = s);
  ADD (a, .path = "l/.wh.file");
}
static void
h_link_out_opaque (struct archive *a, const char *s)
{
  ADD (a, .path = "l", .type = AE_IFLNK, .link = s);
  ADD (a, .path = "l/.wh..wh..opq");
}
static void
h_dir_then_link (struct archive *a, const char *s)
{
  /* The cached parent `d` must not outlive its replacement by a link.  */
  ADD (a, .path = "d/a", .data = "a");
  ADD (a, .path = "d", .type = AE_IFLNK, .link = s);
  ADD (a, .path = "d/file", .data = "pwned");
}
static void
h_hard_abs (struct archive *a, const char *s)
{
  ADD (a, .path = "h", .hardlink = "/etc/passwd");
}
static void
h_hard_sibling (struct archive *a, const char *s)
{
  ADD (a, .path = "h", .hardlink = "../sentinel/file");
}
static void
h_hard_through_link (struct archive *a, const char *s)
{
  ADD (a, .path = "l", .type = AE_IFLNK, .link = s);
  ADD (a, .path = "h", .hardlink = "l/file");
}
static void
h_hard_missing (struct archive *a, const char *s)
{
  ADD (a, .path = "h", .hardlink = "etc/passwd");
}
static void
h_long_path (struct archive *a, const char *s)
{
  char *p = xmalloc (PATH_MAX + 100);
  for (size_t i = 0; i < PATH_MAX + 98; i += 2)
    memcpy (p + i, "a/", 2);
  p[PATH_MAX + 98] = 'x';
  p[PATH_MAX + 99] = '\0';
  ADD (a, .path = p, .data = "x");
  free (p);
}
static void
h_long_name (struct archive *a, const char *s)
{
  char p[400];
  memset (p, 'n', sizeof p - 1);
  p[sizeof p - 1] = '\0';
  ADD (a, .path = p, .data = "x");
}
static void
h_whiteout_empty (struct archive *a, const char *s)
{
  ADD (a, .path = "d/.wh.");
}

static const struct hostile hostile_cases[] = {
  { "../../x", h_dotdot },
  { "a/b/../../../sentinel/file", h_dotdot_inner },
  { "/abs", h_abs },
  { "../sentinel/file", h_sibling },
  { "l -> .. + l/x", h_link_up },
  { "l -> SENTINEL + l/file", h_link_out },
  { "l -> ../sentinel + l/new/", h_link_out_rel },
  { "l -> SENTINEL + l/.wh.file", h_link_out_whiteout },
  { "l -> SENTINEL + l/.wh..wh..opq", h_link_out_opaque },
  { "d/a, d -> SENTINEL, d/file", h_dir_then_link },
  { "hard link to /etc/passwd", h_hard_abs },
  { "hard link to ../sentinel/file", h_hard_sibling },
  { "hard link through l -> SENTINEL", h_hard_through_link },
  { "hard link to a missing entry", h_hard_missing },
  { "path over PATH_MAX", h_long_path },
  { "component over NAME_MAX", h_long_name },
  { "whiteout of an empty name", h_whiteout_empty },
};

static void
test_apply_hostile (void **state)
{
  for (size_t i = 0; i < sizeof hostile_cases / sizeof hostile_cases[0]; i++)
    {
      void *st;
      fx_setup (&st);
      struct fx *f = st;
      print_message ("hostile: %s\n", hostile_cases[i].what);
      struct buf b;
      struct archive *a = tb_new (F_NONE, &b);
      hostile_cases[i].build (a, f->sentinel);
      tb_end (a);
      struct cove_error *err = NULL;
      assert_int_equal (apply_mem (f->layerfd, &b, 512, NULL, &err), -1);
      assert_non_null (err);
      print_message ("  -> %s\n", err->msg);
      assert_int_equal (err->errnum, EINVAL);
      cove_error_free (err);
      assert_outside_untouched (f);
      free (b.data);
      fx_teardown (&st);
    }
}

/* A hard link to one of the tar's symlinks links the symlink itself:
   nothing is followed, and writing that name later replaces the link.  */
static void
test_apply_hardlink_to_symlink (void **state)
{
  struct fx *f = *state;
  char *target = xasprintf ("%s/file", f->sentinel);
  struct buf b;
  struct archive *a = tb_new (F_NONE, &b);
  ADD (a, .path = "l", .type = AE_IFLNK, .link = target);
  ADD (a, .path = "h", .hardlink = "l");
  ADD (a, .path = "h", .data = "pwned?");
  ADD (a, .path = "h2", .hardlink = "l");
  tb_end (a);
  struct cove_error *err = NULL;
  assert_int_equal (apply_mem (f->layerfd, &b, 512, NULL, &err), 0);
  assert_true (S_ISLNK (lstat_at (f, "h2").st_mode));
  assert_int_equal (lstat_at (f, "h2").st_ino, lstat_at (f, "l").st_ino);
  char *c = read_at (f, "h");
  assert_string_equal (c, "pwned?");
  free (c);
  free (target);
  free (b.data);
  assert_outside_untouched (f);
}

/* A ustar header made by hand (for what libarchive's writer refuses).  */
static void
ustar_header (char *h, const char *name, char type, size_t size)
{
  memset (h, 0, 512);
  memcpy (h, name, strnlen (name, 100));
  snprintf (h + 100, 8, "%07o", 0644);
  snprintf (h + 108, 8, "%07o", 0);
  snprintf (h + 116, 8, "%07o", 0);
  snprintf (h + 124, 12, "%011zo", size);
  snprintf (h + 136, 12, "%011o", 1600000000);
  memset (h + 148, ' ', 8);
  h[156] = type;
  memcpy (h + 257, "ustar", 6);
  memcpy (h + 263, "00", 2);
  unsigned sum = 0;
  for (int i = 0; i < 512; i++)
    sum += (unsigned char) h[i];
  snprintf (h + 148, 8, "%06o", sum);
}

static void
test_apply_malformed (void **state)
{
  struct fx *f = *state;
  char tar[512 * 4] = { 0 };
  struct cove_error *err = NULL;
  /* An empty name.  */
  ustar_header (tar, "", '0', 0);
  struct buf b = { tar, sizeof tar };
  assert_int_equal (apply_mem (f->layerfd, &b, 512, NULL, &err), -1);
  assert_true (err->errnum == EINVAL || err->errnum == EIO);
  cove_error_free (err);
  err = NULL;
  /* A bad checksum.  */
  ustar_header (tar, "ok", '0', 0);
  tar[148] = '7';
  assert_int_equal (apply_mem (f->layerfd, &b, 512, NULL, &err), -1);
  assert_int_equal (err->errnum, EIO);
  cove_error_free (err);
  err = NULL;
  /* `..` as the whole name.  */
  ustar_header (tar, "..", '5', 0);
  assert_int_equal (apply_mem (f->layerfd, &b, 512, NULL, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_free (err);
  err = NULL;
  /* Not a tar at all (a zip's magic).  */
  memset (tar, 0, sizeof tar);
  memcpy (tar, "PK\003\004", 4);
  assert_int_equal (apply_mem (f->layerfd, &b, 512, NULL, &err), -1);
  assert_int_equal (err->errnum, EIO);
  cove_error_free (err);
  assert_names (f->layer, "");
  assert_outside_untouched (f);
}

/* ---- streams: compression, truncation, the caller's errors ---- */

static void
sha256_hex (const void *data, size_t len, char out[72])
{
  unsigned char md[32];
  unsigned int n = 0;
  EVP_Digest (data, len, md, &n, EVP_sha256 (), NULL);
  memcpy (out, "sha256:", 7);
  for (unsigned int i = 0; i < 32; i++)
    snprintf (out + 7 + 2 * i, 3, "%02x", md[i]);
}

/* TAR compressed with FILTER as one stream (libarchive's raw writer).  */
static void
compress_buf (const struct buf *tar, int filter, struct buf *out)
{
  struct archive *a = archive_write_new ();
  archive_write_set_format_raw (a);
  if (filter == F_GZIP)
    archive_write_add_filter_gzip (a);
  else
    archive_write_add_filter_zstd (a);
  archive_write_set_bytes_in_last_block (a, 1);
  memset (out, 0, sizeof *out);
  assert_int_equal (archive_write_open (a, out, NULL, buf_write, NULL), ARCHIVE_OK);
  struct archive_entry *e = archive_entry_new ();
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_pathname (e, "raw");
  assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
  archive_entry_free (e);
  assert_int_equal (archive_write_data (a, tar->data, tar->len), (la_ssize_t) tar->len);
  tb_end (a);
}

static void
test_apply_compressed (void **state)
{
  struct fx *f = *state;
  struct buf tar, z;
  struct archive *a = tb_new (F_NONE, &tar);
  char big[100000];
  for (size_t i = 0; i < sizeof big - 1; i++)
    big[i] = (char) ('a' + (i * 7919) % 26);
  big[sizeof big - 1] = '\0';
  ADD (a, .path = "big", .data = big);
  ADD (a, .path = "small", .data = "s");
  tb_end (a);
  char want[72];
  sha256_hex (tar.data, tar.len, want);
  const int filters[] = { F_NONE, F_GZIP, F_ZSTD };
  for (int i = 0; i < 3; i++)
    {
      void *st2;
      fx_setup (&st2);
      struct fx *g = st2;
      if (filters[i] == F_NONE)
        z = (struct buf) { xmalloc (tar.len), tar.len };
      if (filters[i] == F_NONE)
        memcpy (z.data, tar.data, tar.len);
      else
        compress_buf (&tar, filters[i], &z);
      struct cove_archive_apply_stats st;
      struct cove_error *err = NULL;
      assert_int_equal (apply_mem (g->layerfd, &z, 3000, &st, &err), 0);
      assert_string_equal (st.diff_id, want);
      assert_int_equal (st.uncompressed_bytes, tar.len);
      char *c = read_at (g, "big");
      assert_string_equal (c, big);
      free (c);
      /* Truncated: EIO, whatever the compression.  */
      z.len = z.len * 2 / 3;
      assert_int_equal (apply_mem (f->layerfd, &z, 3000, NULL, &err), -1);
      assert_int_equal (err->errnum, EIO);
      cove_error_free (err);
      free (z.data);
      fx_teardown (&st2);
    }
  /* The caller's read error comes back as it was set.  */
  struct src s = { tar.data, tar.len, 0, 1000, 5000 };
  struct cove_error *err = NULL;
  assert_int_equal (cove_archive_apply (f->layerfd, src_read, &s, NULL, &err), -1);
  assert_int_equal (err->errnum, ECONNRESET);
  assert_string_equal (err->msg, "network went away");
  cove_error_free (err);
  /* Trailing bytes after the tar count in the DiffID.  */
  tar.data = xrealloc (tar.data, tar.len + 4096);
  memset (tar.data + tar.len, 0, 4096);
  tar.len += 4096;
  sha256_hex (tar.data, tar.len, want);
  struct cove_archive_apply_stats st;
  assert_int_equal (apply_mem (f->layerfd, &tar, 1 << 16, &st, NULL), 0);
  assert_string_equal (st.diff_id, want);
  free (tar.data);
  /* An empty stream is an empty layer.  */
  struct buf empty = { "", 0 };
  assert_int_equal (apply_mem (f->layerfd, &empty, 10, &st, NULL), 0);
  assert_int_equal (st.entries, 0);
  assert_outside_untouched (f);
}

static void
test_apply_utf8_names (void **state)
{
  struct fx *f = *state;
  /* Written as Go and GNU tar write them (UTF-8 pax paths), applied in
     the C locale that cove runs in.  */
  struct buf b;
  if (setlocale (LC_CTYPE, "C.UTF-8") == NULL)
    skip ();
  struct archive *a = tb_new (F_NONE, &b);
  ADD (a, .path = "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac", .data = "u");
  ADD (a, .path = "longer-than-100-\xc3\xa9-0123456789012345678901234567890123456789"
       "01234567890123456789012345678901234567890123456789", .data = "l");
  tb_end (a);
  setlocale (LC_CTYPE, "C");
  assert_int_equal (apply_mem (f->layerfd, &b, 512, NULL, NULL), 0);
  assert_true (exists_at (f, "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac"));
  assert_true (exists_at (f, "longer-than-100-\xc3\xa9-0123456789012345678901234567890123456789"
                          "01234567890123456789012345678901234567890123456789"));
  free (b.data);
}

/* ---- writing trees ---- */

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
#define T(fn) cmocka_unit_test_setup_teardown (fn, fx_setup, fx_teardown)
    T (test_apply_kept),
    T (test_apply_replace),
    T (test_apply_whiteouts),
    T (test_apply_devices),
    T (test_apply_no_mknod),
    cmocka_unit_test (test_apply_hostile),
    T (test_apply_hardlink_to_symlink),
    T (test_apply_malformed),
    T (test_apply_compressed),
    T (test_apply_utf8_names),
    cmocka_unit_test (test_write_round_trip),
    T (test_write_errors),
    cmocka_unit_test (test_write_layer_diff),
    cmocka_unit_test (test_userns_overlay),
#undef T
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
