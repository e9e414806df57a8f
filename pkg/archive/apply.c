/* cove archive: applying a layer tar stream.

   Two libarchive readers in a row: the outer one only decompresses (gzip,
   zstd or nothing, detected; the "raw" format), the inner one reads tar
   (ustar, pax, gnu) from the outer one's blocks.  Between them the
   uncompressed bytes are hashed, which gives the layer's DiffID without a
   second pass.  The stream (untrusted: a registry's blob or an archive
   file) is read block by block as it arrives; nothing is buffered whole.  */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "pkg/archive/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

struct stream
{
  cove_archive_read_fn read;
  void *ctx;
  struct arc_apply *a;        /* its read_err gets the stream's errors */
  struct archive *outer;      /* decompresses */
  struct archive *inner;      /* reads tar */
  EVP_MD_CTX *sha;            /* of the uncompressed bytes: the DiffID */
  bool outer_eof;
  uint64_t bytes;
};

int
arc_stream_error (struct arc_apply *a, struct archive *ar,
                  struct cove_error **err)
{
  a->stream_failed = true;
  if (a->read_err != NULL)
    {
      struct cove_error *e = steal_pointer (&a->read_err);
      if (err != NULL && *err == NULL)
        *err = e;
      else
        cove_error_free (e);
      return -1;
    }
  const char *why = archive_error_string (ar);
  return cove_error_set (err, EIO, "truncated or corrupt layer: %s",
                         why ? why : "unknown error");
}

/* libarchive callbacks: they return -1 with the cause kept in
   a->read_err, which arc_stream_error hands on.  */
static la_ssize_t
outer_read (struct archive *ar, void *data, const void **out_buf)
{
  struct stream *s = data;
  if (s->a->read_err != NULL)
    return -1;
  ssize_t n = s->read (s->ctx, out_buf, &s->a->read_err);
  if (n >= 0)
    return n;
  if (s->a->read_err == NULL)
    cove_error_set (&s->a->read_err, EIO, "read layer");
  archive_set_error (ar, EIO, "read failed");
  return -1;
}

/* The next block of uncompressed bytes, hashed on the way.  */
static la_ssize_t
inner_read (struct archive *ar, void *data, const void **out_buf)
{
  struct stream *s = data;
  while (!s->outer_eof)
    {
      size_t len;
      la_int64_t off;
      int r = archive_read_data_block (s->outer, out_buf, &len, &off);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        {
          if (s->a->read_err == NULL)
            {
              const char *why = archive_error_string (s->outer);
              cove_error_set (&s->a->read_err, EIO, "truncated or corrupt "
                              "layer: %s", why ? why : "unknown error");
            }
          archive_set_error (ar, EIO, "decompression failed");
          return -1;
        }
      if (len == 0)
        continue;
      EVP_DigestUpdate (s->sha, *out_buf, len);
      s->bytes += len;
      return (la_ssize_t) len;
    }
  s->outer_eof = true;
  return 0;
}

static int
open_readers (struct stream *s, struct cove_error **err)
{
  s->outer = archive_read_new ();
  s->inner = archive_read_new ();
  if (s->outer == NULL || s->inner == NULL)
    return cove_error_set (err, ENOMEM, "libarchive");
  archive_read_support_filter_gzip (s->outer);
  archive_read_support_filter_zstd (s->outer);
  archive_read_support_filter_none (s->outer);
  archive_read_support_format_raw (s->outer);
  archive_read_support_format_empty (s->outer);
  if (archive_read_open (s->outer, s, NULL, outer_read, NULL) != ARCHIVE_OK)
    return arc_stream_error (s->a, s->outer, err);
  struct archive_entry *e;
  int r = archive_read_next_header (s->outer, &e);
  if (r == ARCHIVE_EOF)
    s->outer_eof = true;      /* an empty stream: no entries */
  else if (r < ARCHIVE_WARN)
    return arc_stream_error (s->a, s->outer, err);
  archive_read_support_format_tar (s->inner);
  archive_read_support_format_empty (s->inner);
  if (archive_read_open (s->inner, s, NULL, inner_read, NULL) != ARCHIVE_OK)
    return arc_stream_error (s->a, s->inner, err);
  return 0;
}

/* NAME (untrusted) for messages: control characters replaced, at most
   200 bytes.  Caller frees.  */
static char *
printable (const char *name)
{
  if (name == NULL)
    return xstrdup ("(no name)");
  size_t n = strnlen (name, 200);
  char *r = xstrndup (name, n);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char) r[i] < 0x20 || r[i] == 0x7f)
      r[i] = '?';
  return r;
}

static int
apply_one (struct arc_apply *a, struct archive *ar,
           struct archive_entry *entry, struct cove_error **err)
{
  const char *raw = archive_entry_pathname (entry);
  cleanup_free char *shown = printable (raw);
  cleanup_free char *path = NULL;
  a->shown = shown;
  int r = arc_clean_path (raw, "path", &path, err);
  if (r == 0)
    {
      /* Warnings name the entry as it lands: `./dev/null` is `dev/null`.  */
      free (shown);
      shown = printable (path);
      a->shown = shown;
      r = arc_apply_entry (a, ar, entry, path, err);
    }
  a->shown = NULL;
  /* The stream's errors (the caller's READ, a truncated tar) are not the
     entry's: they keep their own message.  */
  if (r < 0 && !a->stream_failed)
    return cove_error_wrap (err, "layer entry `%s`", shown);
  if (r < 0)
    return -1;
  a->stats->entries++;
  return 0;
}

static int
run (struct arc_apply *a, struct stream *s, struct cove_error **err)
{
  if (open_readers (s, err) < 0)
    return -1;
  for (;;)
    {
      struct archive_entry *entry;
      int r = archive_read_next_header (s->inner, &entry);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        return arc_stream_error (a, s->inner, err);
      if (apply_one (a, s->inner, entry, err) < 0)
        return -1;
    }
  /* The bytes after the end of the tar count in the DiffID, and reading
     them lets the caller check the compressed digest of the whole blob.  */
  const void *buf;
  la_ssize_t n;
  while ((n = inner_read (s->inner, s, &buf)) > 0)
    ;
  if (n < 0)
    return arc_stream_error (a, s->inner, err);
  return arc_apply_fixup_dirs (a, err);
}

static void
finish_stats (struct stream *s, struct cove_archive_apply_stats *stats)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex (s->sha, md, &len);
  char *p = stats->diff_id;
  memcpy (p, "sha256:", 7);
  p += 7;
  for (unsigned int i = 0; i < len && i < 32; i++, p += 2)
    snprintf (p, 3, "%02x", md[i]);
  stats->uncompressed_bytes = s->bytes;
}

int
cove_archive_apply (int layer_dirfd, cove_archive_read_fn read, void *ctx,
                    struct cove_archive_apply_stats *out_stats,
                    struct cove_error **err)
{
  struct cove_archive_apply_stats local;
  struct cove_archive_apply_stats *stats = out_stats ? out_stats : &local;
  memset (stats, 0, sizeof *stats);
  struct arc_apply a = { .root = layer_dirfd, .cached_fd = -1,
                         .stats = stats };
  struct stream s = { .read = read, .ctx = ctx, .a = &a };
  s.sha = EVP_MD_CTX_new ();
  if (s.sha == NULL || EVP_DigestInit_ex (s.sha, EVP_sha256 (), NULL) != 1)
    {
      EVP_MD_CTX_free (s.sha);
      return cove_error_set (err, ENOMEM, "sha256");
    }
  int r = run (&a, &s, err);
  if (r == 0)
    finish_stats (&s, stats);
  archive_read_free (s.inner);
  archive_read_free (s.outer);
  EVP_MD_CTX_free (s.sha);
  arc_apply_forget (&a);
  for (size_t i = 0; i < a.n_dirs; i++)
    free (a.dirs[i].path);
  free (a.dirs);
  cove_error_free (a.read_err);
  return r;
}
