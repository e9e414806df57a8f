/* Unit tests of pkg/archive: applying layer tars (kept metadata, whiteouts,
   hostile entries that must not write outside the layer, compression,
   truncation) (writing trees back: test-archive-write.c).  Tar streams are made in
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

#include "tests/unit/archive-fixture.h"
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
#undef T
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
