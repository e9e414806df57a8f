/* Unit tests of storage/: per-user paths, the image store (blobs, layers,
   images, garbage collection, crash safety) and root filesystems.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <archive.h>
#include <archive_entry.h>

#include "pkg/util/files.h"
#include "pkg/oci/oci.h"
#include "pkg/util/xalloc.h"
#include "storage/storage.h"

static void
test_paths_xdg (void **state)
{
  setenv ("XDG_DATA_HOME", "/d", 1);
  setenv ("XDG_CONFIG_HOME", "/c", 1);
  setenv ("XDG_RUNTIME_DIR", "/r", 1);
  struct cove_storage_paths p;
  struct cove_error *err = NULL;
  assert_int_equal (cove_storage_paths_init (&p, &err), 0);
  assert_string_equal (p.data_dir, "/d/cove");
  assert_string_equal (p.config_dir, "/c/cove");
  assert_string_equal (p.runtime_dir, "/r/cove");
  cove_storage_paths_free (&p);
}

static void
test_paths_fallbacks (void **state)
{
  unsetenv ("XDG_DATA_HOME");
  setenv ("XDG_CONFIG_HOME", "relative", 1);  /* ignored: not absolute */
  unsetenv ("XDG_RUNTIME_DIR");
  setenv ("HOME", "/home/u", 1);
  struct cove_storage_paths p;
  struct cove_error *err = NULL;
  assert_int_equal (cove_storage_paths_init (&p, &err), 0);
  assert_string_equal (p.data_dir, "/home/u/.local/share/cove");
  assert_string_equal (p.config_dir, "/home/u/.config/cove");
  char *rt = xasprintf ("/tmp/cove-%u", (unsigned) getuid ());
  assert_string_equal (p.runtime_dir, rt);
  free (rt);
  cove_storage_paths_free (&p);
  unsetenv ("HOME");
  assert_int_equal (cove_storage_paths_init (&p, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_free (err);
}

static void
test_container_dir (void **state)
{
  char tmp[] = "/tmp/cove-storage-XXXXXX";
  assert_non_null (mkdtemp (tmp));
  setenv ("XDG_DATA_HOME", tmp, 1);
  setenv ("XDG_CONFIG_HOME", tmp, 1);
  struct cove_storage_paths p;
  struct cove_error *err = NULL;
  assert_int_equal (cove_storage_paths_init (&p, &err), 0);
  char *dir = cove_storage_container_dir_create (&p, "abc", &err);
  assert_non_null (dir);
  struct stat st;
  assert_int_equal (stat (dir, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0700);
  assert_null (cove_storage_container_dir_create (&p, "abc", &err));
  assert_int_equal (err->errnum, EEXIST);
  cove_error_free (err);
  free (dir);
  cove_storage_paths_free (&p);
  cove_rm_rf (tmp, NULL);
}

/* ---- the image store ---- */

struct fixture
{
  char dir[64];
  struct cove_storage_paths paths;
  struct cove_storage *s;
};

static struct fixture *
fixture_new (void)
{
  struct fixture *f = xmalloc0 (sizeof *f);
  snprintf (f->dir, sizeof f->dir, "/tmp/cove-store-XXXXXX");
  assert_non_null (mkdtemp (f->dir));
  setenv ("XDG_DATA_HOME", f->dir, 1);
  setenv ("XDG_CONFIG_HOME", f->dir, 1);
  struct cove_error *err = NULL;
  assert_int_equal (cove_storage_paths_init (&f->paths, &err), 0);
  assert_int_equal (cove_storage_open (&f->paths, &f->s, &err), 0);
  return f;
}

static void
fixture_free (struct fixture *f)
{
  cove_storage_close (f->s);
  cove_storage_paths_free (&f->paths);
  cove_rm_rf (f->dir, NULL);
  free (f);
}

/* Entries in DIR below the store (ignoring . and ..).  */
static int
count_entries (struct fixture *f, const char *sub)
{
  char *path = xasprintf ("%s/%s", f->paths.data_dir, sub);
  DIR *d = opendir (path);
  free (path);
  if (d == NULL)
    return -1;
  int n = 0;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    if (de->d_name[0] != '.')
      n++;
  closedir (d);
  return n;
}

/* Does data_dir/PREFIX ARG SUFFIX exist?  */
static bool
store_has (struct fixture *f, const char *prefix, const char *arg,
           const char *suffix)
{
  char *path = xasprintf ("%s/%s%s%s", f->paths.data_dir, prefix, arg, suffix);
  bool r = access (path, F_OK) == 0;
  free (path);
  return r;
}

static void
test_store_open (void **state)
{
  struct fixture *f = fixture_new ();
  static const char *const dirs[] = { "", "/blobs/sha256", "/layers",
                                      "/images", "/tmp" };
  for (size_t i = 0; i < 5; i++)
    {
      char *p = xasprintf ("%s%s", f->paths.data_dir, dirs[i]);
      struct stat st;
      assert_int_equal (stat (p, &st), 0);
      assert_int_equal (st.st_mode & 0777, 0700);
      free (p);
    }
  assert_true (store_has (f, "storage.lock", "", ""));
  /* A second open of the same store works alongside the first.  */
  struct cove_storage *s2 = NULL;
  struct cove_error *err = NULL;
  assert_int_equal (cove_storage_open (&f->paths, &s2, &err), 0);
  cove_storage_close (s2);
  fixture_free (f);
}

static char *
put_blob (struct fixture *f, const char *text)
{
  char *d = cove_oci_digest_buffer (text, strlen (text));
  struct cove_error *err = NULL;
  assert_int_equal (cove_storage_blob_put (f->s, d, text, strlen (text), &err), 0);
  return d;
}

static void
test_blob (void **state)
{
  struct fixture *f = fixture_new ();
  struct cove_error *err = NULL;
  const char *text = "hello blob";
  char *d = cove_oci_digest_buffer (text, strlen (text));
  struct cove_storage_blob_writer *w = cove_storage_blob_begin (f->s, d, 10, &err);
  assert_non_null (w);
  assert_int_equal (cove_storage_blob_write (w, text, 5, &err), 0);
  assert_int_equal (cove_storage_blob_write (w, text + 5, 5, &err), 0);
  assert_int_equal (cove_storage_blob_commit (w, &err), 0);
  assert_true (cove_storage_blob_exists (f->s, d));
  size_t len;
  char *back = cove_storage_blob_read (f->s, d, 100, &len, &err);
  assert_int_equal (len, 10);
  assert_memory_equal (back, text, 10);
  free (back);

  /* Wrong content: EBADMSG, nothing kept.  */
  char *other = cove_oci_digest_buffer ("x", 1);
  w = cove_storage_blob_begin (f->s, other, -1, &err);
  assert_int_equal (cove_storage_blob_write (w, "y", 1, &err), 0);
  assert_int_equal (cove_storage_blob_commit (w, &err), -1);
  assert_int_equal (err->errnum, EBADMSG);
  cove_error_release (&err);
  assert_false (cove_storage_blob_exists (f->s, other));
  /* Wrong size: EIO, and a server sending more than announced is cut.  */
  w = cove_storage_blob_begin (f->s, other, 2, &err);
  assert_int_equal (cove_storage_blob_write (w, "x", 1, &err), 0);
  assert_int_equal (cove_storage_blob_commit (w, &err), -1);
  assert_int_equal (err->errnum, EIO);
  cove_error_release (&err);
  w = cove_storage_blob_begin (f->s, other, 0, &err);
  assert_int_equal (cove_storage_blob_write (w, "x", 1, &err), -1);
  assert_int_equal (err->errnum, EIO);
  cove_error_release (&err);
  cove_storage_blob_abort (w);
  assert_null (cove_storage_blob_begin (f->s, "sha256:xyz", 1, &err));
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  assert_int_equal (count_entries (f, "blobs/sha256"), 1);
  /* Only this store's lease is left in tmp/.  */
  assert_int_equal (count_entries (f, "tmp"), 1);
  free (other);
  free (d);
  fixture_free (f);
}

/* ---- tars made with libarchive ---- */

struct tar_file
{
  const char *path;
  const char *content;   /* NULL: a directory */
  const char *link;      /* hard link target (content ignored) */
};

static unsigned char *
make_tar (const struct tar_file *files, bool gzip, size_t *out_len)
{
  size_t cap = 1 << 20;
  for (const struct tar_file *t = files; t->path; t++)
    cap += t->content ? strlen (t->content) + 4096 : 4096;
  unsigned char *buf = xmalloc (cap);
  struct archive *a = archive_write_new ();
  archive_write_set_format_pax_restricted (a);
  if (gzip)
    archive_write_add_filter_gzip (a);
  archive_write_set_bytes_in_last_block (a, 1);
  assert_int_equal (archive_write_open_memory (a, buf, cap, out_len), ARCHIVE_OK);
  for (const struct tar_file *t = files; t->path; t++)
    {
      struct archive_entry *e = archive_entry_new ();
      archive_entry_set_pathname (e, t->path);
      /* Owned by us: unpacks without privilege too.  */
      archive_entry_set_uid (e, getuid ());
      archive_entry_set_gid (e, getgid ());
      archive_entry_set_mtime (e, 1000000, 0);
      if (t->link)
        {
          archive_entry_set_filetype (e, AE_IFREG);
          archive_entry_set_hardlink (e, t->link);
          archive_entry_set_perm (e, 0644);
        }
      else if (t->content == NULL)
        {
          archive_entry_set_filetype (e, AE_IFDIR);
          archive_entry_set_perm (e, 0755);
        }
      else
        {
          archive_entry_set_filetype (e, AE_IFREG);
          archive_entry_set_perm (e, 0644);
          archive_entry_set_size (e, (la_int64_t) strlen (t->content));
        }
      assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
      if (t->content && !t->link)
        archive_write_data (a, t->content, strlen (t->content));
      archive_entry_free (e);
    }
  assert_int_equal (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
  return buf;
}

/* A read callback over a buffer, in small odd chunks; DIE_AT: _exit there
   (a cove killed mid-download).  */
struct mem_src
{
  const unsigned char *buf;
  size_t len, off, chunk;
  ssize_t die_at;
};

static ssize_t
mem_read (void *ctx, const void **out, struct cove_error **err)
{
  struct mem_src *m = ctx;
  if (m->die_at >= 0 && m->off >= (size_t) m->die_at)
    _exit (0);
  size_t n = m->len - m->off < m->chunk ? m->len - m->off : m->chunk;
  *out = m->buf + m->off;
  m->off += n;
  return (ssize_t) n;
}

struct layer
{
  char *diff_id, *chain, *compressed;
  unsigned char *tar, *gz;
  size_t tar_len, gz_len;
};

static void
layer_make (struct layer *l, const struct tar_file *files, const char *parent)
{
  l->tar = make_tar (files, false, &l->tar_len);
  l->gz = make_tar (files, true, &l->gz_len);
  l->diff_id = cove_oci_digest_buffer (l->tar, l->tar_len);
  l->compressed = cove_oci_digest_buffer (l->gz, l->gz_len);
  l->chain = cove_storage_chain_id (parent, l->diff_id);
}

static void
layer_clear (struct layer *l)
{
  free (l->diff_id);
  free (l->chain);
  free (l->compressed);
  free (l->tar);
  free (l->gz);
}

static int
layer_store (struct fixture *f, struct layer *l, const char *parent, bool gz,
             struct cove_error **err)
{
  struct mem_src m = { gz ? l->gz : l->tar, gz ? l->gz_len : l->tar_len, 0,
                       gz ? 3 : 1000, -1 };
  return cove_storage_layer_create (f->s, l->chain, parent, l->diff_id,
                                    gz ? l->compressed : NULL, mem_read, &m, err);
}

static const struct tar_file files1[] = {
  { "etc", NULL, NULL },
  { "etc/hello", "hello from layer 1\n", NULL },
  { "etc/gone", "to be deleted\n", NULL },
  { "etc/link", NULL, "etc/hello" },
  { NULL, NULL, NULL },
};
static const struct tar_file files2[] = {
  { "etc", NULL, NULL },
  { "etc/second", "layer 2\n", NULL },
  { NULL, NULL, NULL },
};

static void
test_chain_id (void **state)
{
  const char *d = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  char *c = cove_storage_chain_id (NULL, d);
  assert_string_equal (c, d);
  char *c2 = cove_storage_chain_id (c, d);
  char *s = xasprintf ("%s %s", d, d);
  char *want = cove_oci_digest_buffer (s, strlen (s));
  assert_string_equal (c2, want);
  free (c);
  free (c2);
  free (s);
  free (want);
}

static void
test_layer_create (void **state)
{
  struct fixture *f = fixture_new ();
  struct cove_error *err = NULL;
  struct layer l1, l2;
  layer_make (&l1, files1, NULL);
  layer_make (&l2, files2, l1.chain);
  /* gzip, verified both ways.  */
  assert_int_equal (layer_store (f, &l1, NULL, true, &err), 0);
  assert_true (cove_storage_layer_exists (f->s, l1.chain));
  assert_true (store_has (f, "layers/", l1.chain + 7, "/diff/etc/hello"));
  struct cove_storage_layer info;
  assert_int_equal (cove_storage_layer_info (f->s, l1.chain, &info, &err), 0);
  assert_string_equal (info.diff_id, l1.diff_id);
  assert_string_equal (info.compressed_digest, l1.compressed);
  assert_int_equal (info.size, l1.tar_len);
  assert_null (info.parent);
  char *hello = xasprintf ("%s/etc/hello", info.diff_path);
  char *link = xasprintf ("%s/etc/link", info.diff_path);
  struct stat a, b;
  assert_int_equal (stat (hello, &a), 0);
  assert_int_equal (stat (link, &b), 0);
  assert_int_equal (a.st_ino, b.st_ino);
  free (hello);
  free (link);
  cove_storage_layer_free (&info);
  /* Again: reused, the stream is not read.  */
  struct mem_src none = { NULL, 0, 0, 1, 0 };
  assert_int_equal (cove_storage_layer_create (f->s, l1.chain, NULL, l1.diff_id,
                                               l1.compressed, mem_read, &none, &err), 0);
  /* Plain tar on top, its own diff_id.  */
  assert_int_equal (layer_store (f, &l2, l1.chain, false, &err), 0);

  /* A diff_id that the content does not have: EBADMSG, nothing left.  */
  struct layer bad;
  layer_make (&bad, files2, NULL);
  free (bad.diff_id);
  bad.diff_id = xstrdup (l1.diff_id);
  free (bad.chain);
  bad.chain = xstrdup (l1.diff_id);
  assert_int_equal (cove_storage_layer_exists (f->s, bad.chain), true);
  free (bad.chain);
  free (bad.diff_id);
  bad.diff_id = cove_oci_digest_buffer ("nope", 4);
  bad.chain = xstrdup (bad.diff_id);
  assert_int_equal (layer_store (f, &bad, NULL, true, &err), -1);
  assert_int_equal (err->errnum, EBADMSG);
  cove_error_release (&err);
  /* A compressed digest that does not match.  */
  free (bad.compressed);
  bad.compressed = cove_oci_digest_buffer ("nope", 4);
  assert_int_equal (layer_store (f, &bad, NULL, true, &err), -1);
  assert_int_equal (err->errnum, EBADMSG);
  cove_error_release (&err);
  /* A chain id that does not derive from the diff_id.  */
  assert_int_equal (cove_storage_layer_create (f->s, l1.chain, l1.chain, l2.diff_id,
                                               NULL, mem_read, &none, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  assert_int_equal (count_entries (f, "layers"), 2);
  assert_int_equal (count_entries (f, "tmp"), 1);
  layer_clear (&bad);
  layer_clear (&l1);
  layer_clear (&l2);
  fixture_free (f);
}

/* The two-thread unpack (storage/pipeline.c): every way it can fail ends
   with the error, no hang (alarm) and nothing left behind.  BIG is larger
   than the ring between the threads, so the reader blocks on a full ring
   when the tar side stops early.  A source failing with ECONNRESET after
   FAIL_AT bytes.  */
struct fail_src
{
  struct mem_src m;
  size_t fail_at;
};

static ssize_t
fail_read (void *ctx, const void **out, struct cove_error **err)
{
  struct fail_src *f = ctx;
  if (f->m.off >= f->fail_at)
    return cove_error_set (err, ECONNRESET, "connection reset");
  return mem_read (&f->m, out, err);
}

static void
expect_layer_fails (struct fixture *f, struct layer *l, bool gz, size_t cut,
                    size_t fail_at, int errnum)
{
  struct cove_error *err = NULL;
  struct fail_src src = { { gz ? l->gz : l->tar, gz ? l->gz_len : l->tar_len,
                            0, 65536, -1 }, fail_at };
  src.m.len = cut < src.m.len ? cut : src.m.len;
  assert_int_equal (cove_storage_layer_create (f->s, l->chain, NULL, l->diff_id,
                                               gz ? l->compressed : NULL,
                                               fail_read, &src, &err), -1);
  assert_non_null (err);
  assert_int_equal (err->errnum, errnum);
  cove_error_release (&err);
  assert_false (cove_storage_layer_exists (f->s, l->chain));
  assert_int_equal (count_entries (f, "layers"), 0);
  assert_int_equal (count_entries (f, "tmp"), 0);   /* not even a lease */
}

static void
test_layer_pipeline (void **state)
{
  alarm (60);
  struct fixture *f = fixture_new ();
  size_t big_len = 8 << 20;
  char *big = xmalloc (big_len + 1);
  for (size_t i = 0; i < big_len; i++)
    big[i] = (char) ('a' + (i * 7 + i / 4096) % 26);
  big[big_len] = '\0';
  const struct tar_file hostile[] = {
    { "../evil", "out\n", NULL }, { "big", big, NULL }, { NULL, NULL, NULL },
  };
  const struct tar_file fine[] = {
    { "big", big, NULL }, { "small", "x\n", NULL }, { NULL, NULL, NULL },
  };
  struct layer h, l;
  layer_make (&h, hostile, NULL);
  layer_make (&l, fine, NULL);
  for (int gz = 0; gz <= 1; gz++)
    {
      /* The tar side fails at the first entry: the reader is stopped.  */
      expect_layer_fails (f, &h, gz, SIZE_MAX, SIZE_MAX, EINVAL);
      /* Truncated: a gzip stream without its end, a tar without its
         last blocks.  */
      size_t len = gz ? l.gz_len : l.tar_len;
      expect_layer_fails (f, &l, gz, len / 2, SIZE_MAX, EIO);
      /* The source's own error, handed on as it is.  */
      expect_layer_fails (f, &l, gz, SIZE_MAX, len / 3, ECONNRESET);
    }
  /* Whole but not what the digests say.  */
  char *good = l.diff_id;
  l.diff_id = cove_oci_digest_buffer ("nope", 4);
  free (l.chain);
  l.chain = xstrdup (l.diff_id);
  expect_layer_fails (f, &l, true, SIZE_MAX, SIZE_MAX, EBADMSG);
  expect_layer_fails (f, &l, false, SIZE_MAX, SIZE_MAX, EBADMSG);
  free (l.diff_id);
  l.diff_id = good;
  free (l.chain);
  l.chain = xstrdup (good);
  /* And whole and right: the big file is there, byte for byte.  */
  struct cove_error *err = NULL;
  assert_int_equal (layer_store (f, &l, NULL, true, &err), 0);
  char *path = xasprintf ("%s/layers/%s/diff/big", f->paths.data_dir,
                          l.chain + 7);
  size_t got_len = 0;
  char *got = NULL;
  FILE *fp = fopen (path, "re");
  assert_non_null (fp);
  got = xmalloc (big_len + 1);
  got_len = fread (got, 1, big_len + 1, fp);
  fclose (fp);
  assert_int_equal (got_len, big_len);
  assert_memory_equal (got, big, big_len);
  free (got);
  free (path);
  layer_clear (&h);
  layer_clear (&l);
  free (big);
  fixture_free (f);
  alarm (0);
}

static void
test_layer_import (void **state)
{
  struct fixture *f = fixture_new ();
  struct cove_error *err = NULL;
  struct layer l1;
  layer_make (&l1, files1, NULL);
  struct mem_src m = { l1.gz, l1.gz_len, 0, 4096, -1 };
  char *diff = NULL, *chain = NULL;
  assert_int_equal (cove_storage_layer_import (f->s, NULL, mem_read, &m, &diff,
                                               &chain, &err), 0);
  assert_string_equal (diff, l1.diff_id);
  assert_string_equal (chain, l1.chain);
  free (diff);
  free (chain);
  layer_clear (&l1);
  fixture_free (f);
}

/* Store a config blob of TEXT and image of it with LAYERS (NULL-ended).  */
static char *
add_image (struct fixture *f, const char *text, char **layers, const char *name)
{
  char *d = put_blob (f, text);
  struct cove_storage_image img = { .id = d + 7, .layers = layers };
  struct cove_error *err = NULL;
  assert_int_equal (cove_storage_image_add (f->s, &img, name, &err), 0);
  char *id = xstrdup (d + 7);
  free (d);
  return id;
}

static void
test_images (void **state)
{
  struct fixture *f = fixture_new ();
  struct cove_error *err = NULL;
  struct layer l1, l2;
  layer_make (&l1, files1, NULL);
  layer_make (&l2, files2, l1.chain);
  assert_int_equal (layer_store (f, &l1, NULL, true, &err), 0);
  assert_int_equal (layer_store (f, &l2, l1.chain, true, &err), 0);
  char *la[] = { l1.chain, NULL };
  char *lb[] = { l1.chain, l2.chain, NULL };
  char *a = add_image (f, "{\"created\":\"2024-01-02T03:04:05Z\",\"a\":1}", la,
                       "localhost/a:latest");
  char *b = add_image (f, "{\"b\":1}", lb, "localhost/b:1");

  struct cove_storage_image img;
  assert_int_equal (cove_storage_image_lookup (f->s, "localhost/a:latest", &img, &err), 0);
  assert_string_equal (img.id, a);
  assert_int_equal (img.created, 1704164645);
  assert_int_equal (img.size, l1.tar_len);
  assert_string_equal (img.names[0], "localhost/a:latest");
  cove_storage_image_free (&img);
  assert_int_equal (cove_storage_image_lookup (f->s, "localhost/a", &img, &err), 0);
  cove_storage_image_free (&img);
  assert_int_equal (cove_storage_image_lookup (f->s, b, &img, &err), 0);
  assert_int_equal (img.size, l1.tar_len + l2.tar_len);
  assert_string_equal (img.layers[1], l2.chain);
  cove_storage_image_free (&img);
  char pre[8];
  snprintf (pre, sizeof pre, "%.5s", b);
  assert_int_equal (cove_storage_image_lookup (f->s, pre, &img, &err), 0);
  assert_string_equal (img.id, b);
  cove_storage_image_free (&img);
  assert_int_equal (cove_storage_image_lookup (f->s, "localhost/nope", &img, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_release (&err);

  /* An ambiguous prefix: find two configs whose ids share 3 digits.  */
  char *ids[4096] = { NULL };
  char *c1 = NULL, *c2 = NULL;
  for (int i = 0; c2 == NULL; i++)
    {
      char *text = xasprintf ("{\"n\":%d}", i);
      char *d = cove_oci_digest_buffer (text, strlen (text));
      char three[4] = { d[7], d[8], d[9], 0 };
      unsigned slot = (unsigned) strtoul (three, NULL, 16);
      if (ids[slot])
        {
          c1 = ids[slot];
          c2 = text;
        }
      else
        ids[slot] = text;
      free (d);
    }
  char *i1 = add_image (f, c1, NULL, NULL);
  char *i2 = add_image (f, c2, NULL, NULL);
  snprintf (pre, sizeof pre, "%.3s", i1);
  assert_int_equal (cove_storage_image_lookup (f->s, pre, &img, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  assert_non_null (strstr (err->msg, "ambiguous"));
  cove_error_release (&err);

  /* Tag moves a name; untag of the last name leaves a dangling image.  */
  assert_int_equal (cove_storage_image_tag (f->s, a, "localhost/b:1", &err), 0);
  assert_int_equal (cove_storage_image_lookup (f->s, "localhost/b:1", &img, &err), 0);
  assert_string_equal (img.id, a);
  assert_int_equal (cove_strv_len (img.names), 2);
  cove_storage_image_free (&img);
  assert_int_equal (cove_storage_image_lookup (f->s, b, &img, &err), 0);
  assert_int_equal (cove_strv_len (img.names), 0);
  cove_storage_image_free (&img);
  assert_int_equal (cove_storage_image_untag (f->s, "localhost/b:1", &err), 0);
  assert_int_equal (cove_storage_image_untag (f->s, "localhost/b:1", &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_release (&err);
  assert_int_equal (cove_storage_image_tag (f->s, "nope", "x", &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_release (&err);

  struct cove_storage_image *list;
  size_t n;
  assert_int_equal (cove_storage_image_list (f->s, &list, &n, &err), 0);
  assert_int_equal (n, 4);
  for (size_t i = 0; i < n; i++)
    cove_storage_image_free (&list[i]);
  free (list);

  /* An image whose layer is not stored is refused.  */
  char *missing[] = { l2.diff_id, NULL };
  char *d = put_blob (f, "{\"c\":1}");
  struct cove_storage_image bad = { .id = d + 7, .layers = missing };
  assert_int_equal (cove_storage_image_add (f->s, &bad, NULL, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_release (&err);
  free (d);

  /* Remove with GC: l1 stays while b uses it.  */
  assert_int_equal (cove_storage_image_remove (f->s, a, &err), 0);
  assert_true (store_has (f, "layers/", l1.chain + 7, ""));
  assert_false (store_has (f, "blobs/sha256/", a, ""));
  assert_int_equal (cove_storage_image_remove (f->s, b, &err), 0);
  assert_int_equal (cove_storage_image_remove (f->s, i1, &err), 0);
  assert_int_equal (cove_storage_image_remove (f->s, i2, &err), 0);
  assert_int_equal (cove_storage_image_remove (f->s, i2, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_release (&err);
  assert_int_equal (cove_storage_gc (f->s, &err), 0);
  assert_int_equal (count_entries (f, "layers"), 0);
  assert_int_equal (count_entries (f, "blobs/sha256"), 0);
  assert_int_equal (count_entries (f, "images"), 1);  /* names.json */
  for (size_t i = 0; i < 4096; i++)
    free (ids[i]);
  free (c2);
  free (a);
  free (b);
  free (i1);
  free (i2);
  layer_clear (&l1);
  layer_clear (&l2);
  fixture_free (f);
}

/* A cove killed mid-blob and mid-layer: the next open sweeps tmp/, and
   nothing half-made is visible.  */
static void
test_crash (void **state)
{
  struct fixture *f = fixture_new ();
  struct layer l1;
  layer_make (&l1, files1, NULL);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      struct cove_storage *s = NULL;
      struct cove_error *err = NULL;
      if (cove_storage_open (&f->paths, &s, &err) < 0)
        _exit (2);
      struct cove_storage_blob_writer *w
        = cove_storage_blob_begin (s, l1.compressed, (int64_t) l1.gz_len, &err);
      if (w == NULL || cove_storage_blob_write (w, l1.gz, 10, &err) < 0)
        _exit (3);
      struct mem_src m = { l1.gz, l1.gz_len, 0, 16, (ssize_t) l1.gz_len / 2 };
      cove_storage_layer_create (s, l1.chain, NULL, l1.diff_id, l1.compressed,
                                 mem_read, &m, &err);
      _exit (4);  /* not reached: mem_read exits */
    }
  int status;
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
  assert_int_equal (count_entries (f, "tmp"), 2);
  /* A record write killed before its rename.  */
  char *junk = xasprintf ("%s/images/names.json.tmp-AbCdEf", f->paths.data_dir);
  assert_int_equal (cove_file_write_atomic (junk, "{", 1, 0600, 0, NULL), 0);
  free (junk);
  cove_storage_close (f->s);
  struct cove_error *err = NULL;
  assert_int_equal (cove_storage_open (&f->paths, &f->s, &err), 0);
  assert_int_equal (count_entries (f, "tmp"), 0);
  assert_int_equal (count_entries (f, "images"), 0);
  assert_int_equal (count_entries (f, "layers"), 0);
  assert_int_equal (count_entries (f, "blobs/sha256"), 0);
  assert_false (cove_storage_layer_exists (f->s, l1.chain));
  /* And the store works: the same layer unpacks now.  */
  assert_int_equal (layer_store (f, &l1, NULL, true, &err), 0);
  layer_clear (&l1);
  fixture_free (f);
}

/* A blob committed by a live cove (a pull not yet recorded) survives the
   GC of another; once that cove is gone, it is collected.  */
static void
test_gc_lease (void **state)
{
  struct fixture *f = fixture_new ();
  int go[2], done[2];
  assert_int_equal (pipe (go), 0);
  assert_int_equal (pipe (done), 0);
  const char *text = "pulled, not yet recorded";
  char *d = cove_oci_digest_buffer (text, strlen (text));
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      struct cove_storage *s = NULL;
      struct cove_error *err = NULL;
      char c;
      close (done[1]);
      if (cove_storage_open (&f->paths, &s, &err) < 0
          || cove_storage_blob_put (s, d, text, strlen (text), &err) < 0)
        _exit (2);
      if (write (go[1], "x", 1) != 1 || read (done[0], &c, 1) < 0)
        _exit (3);
      _exit (0);  /* no close: as if killed */
    }
  close (go[1]);
  close (done[0]);
  char c;
  assert_int_equal (read (go[0], &c, 1), 1);
  struct cove_error *err = NULL;
  assert_int_equal (cove_storage_gc (f->s, &err), 0);
  assert_true (cove_storage_blob_exists (f->s, d));
  close (done[1]);
  int status;
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_int_equal (WEXITSTATUS (status), 0);
  /* blob_exists leased it for us: our own lease does not hold against our
     own GC.  */
  assert_int_equal (cove_storage_gc (f->s, &err), 0);
  assert_int_equal (count_entries (f, "blobs/sha256"), 0);
  close (go[0]);
  free (d);
  fixture_free (f);
}

static const struct tar_file files3[] = {
  { "etc", NULL, NULL },
  { "etc/.wh.gone", "", NULL },
  { NULL, NULL, NULL },
};

static bool
has (const char *dir, const char *rel)
{
  char *p = xasprintf ("%s/%s", dir, rel);
  struct stat st;
  bool r = lstat (p, &st) == 0;
  free (p);
  return r;
}

static void
rootfs_check (struct fixture *f, enum cove_storage_driver driver)
{
  struct cove_error *err = NULL;
  struct layer l1, l2, l3;
  layer_make (&l1, files1, NULL);
  layer_make (&l2, files2, l1.chain);
  layer_make (&l3, files3, l2.chain);
  assert_int_equal (layer_store (f, &l1, NULL, true, &err), 0);
  assert_int_equal (layer_store (f, &l2, l1.chain, false, &err), 0);
  assert_int_equal (layer_store (f, &l3, l2.chain, true, &err), 0);
  char *ls[] = { l1.chain, l2.chain, l3.chain, NULL };
  char *id = add_image (f, "{}", ls, "localhost/r:latest");
  struct cove_storage_image img;
  assert_int_equal (cove_storage_image_lookup (f->s, id, &img, &err), 0);
  char *path = NULL;
  if (cove_storage_rootfs_mount (f->s, &img, "c1", driver, &path, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_true (has (path, "etc/hello"));
  assert_true (has (path, "etc/second"));
  assert_false (has (path, "etc/gone"));
  char *newf = xasprintf ("%s/etc/new", path);
  assert_int_equal (cove_file_write_atomic (newf, "x", 1, 0644, 0, &err), 0);
  char *drv = cove_storage_rootfs_driver (f->s, "c1");
  assert_string_equal (drv, cove_storage_driver_name (driver));
  if (driver != COVE_STORAGE_VFS)
    {
      char *upper = xasprintf ("%s/containers/c1/upper", f->paths.data_dir);
      assert_true (has (upper, "etc/new"));
      free (upper);
    }
  assert_int_equal (cove_storage_rootfs_unmount (f->s, "c1", &err), 0);
  assert_int_equal (driver == COVE_STORAGE_VFS, has (path, "etc/new"));
  free (drv);
  free (newf);
  free (path);
  free (id);
  cove_storage_image_free (&img);
  layer_clear (&l1);
  layer_clear (&l2);
  layer_clear (&l3);
}

static void
test_rootfs_overlay (void **state)
{
  if (getuid () != 0)
    skip ();
  /* Our own mount namespace: nothing leaks onto the host's mounts.  */
  assert_int_equal (unshare (CLONE_NEWNS), 0);
  assert_int_equal (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
  struct fixture *f = fixture_new ();
  rootfs_check (f, COVE_STORAGE_OVERLAY);
  fixture_free (f);
}

static void
test_rootfs_vfs (void **state)
{
  if (getuid () != 0)
    skip ();  /* whiteouts are character devices: mknod needs privilege */
  struct fixture *f = fixture_new ();
  rootfs_check (f, COVE_STORAGE_VFS);
  fixture_free (f);
}

static void
test_rootfs_fuse (void **state)
{
  if (getuid () != 0 || access ("/dev/fuse", R_OK | W_OK) < 0
      || (access ("/usr/bin/fuse-overlayfs", X_OK) < 0
          && access ("/usr/local/bin/fuse-overlayfs", X_OK) < 0))
    skip ();
  assert_int_equal (unshare (CLONE_NEWNS), 0);
  assert_int_equal (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
  struct fixture *f = fixture_new ();
  rootfs_check (f, COVE_STORAGE_FUSE_OVERLAY);
  fixture_free (f);
}

static void
test_driver_names (void **state)
{
  enum cove_storage_driver d;
  struct cove_error *err = NULL;
  assert_int_equal (cove_storage_driver_parse ("fuse-overlayfs", &d, &err), 0);
  assert_int_equal (d, COVE_STORAGE_FUSE_OVERLAY);
  assert_string_equal (cove_storage_driver_name (COVE_STORAGE_VFS), "vfs");
  assert_int_equal (cove_storage_driver_parse ("btrfs", &d, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
}

#define STORE_TESTS \
    cmocka_unit_test (test_store_open), \
    cmocka_unit_test (test_blob), \
    cmocka_unit_test (test_chain_id), \
    cmocka_unit_test (test_layer_create), \
    cmocka_unit_test (test_layer_pipeline), \
    cmocka_unit_test (test_layer_import), \
    cmocka_unit_test (test_images), \
    cmocka_unit_test (test_crash), \
    cmocka_unit_test (test_gc_lease), \
    cmocka_unit_test (test_driver_names), \
    cmocka_unit_test (test_rootfs_vfs), \
    cmocka_unit_test (test_rootfs_overlay), \
    cmocka_unit_test (test_rootfs_fuse),

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_paths_xdg),
    cmocka_unit_test (test_paths_fallbacks),
    cmocka_unit_test (test_container_dir),
    STORE_TESTS
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
