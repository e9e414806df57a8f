/* The layer tee: sits between a layer's byte source (a registry download,
   an archive member) and cove_archive_apply, and hashes what goes through
   so that a layer is verified while it streams, in one pass.

   Why storage decompresses gzip itself: a layer is stored under its chain
   id, which derives from the diff_ids (digests of the UNcompressed tars)
   that the image config lists, and a stored layer is reused by every later
   image that names the same chain id.  Trusting the config's diff_id
   without checking it would let one hostile image plant content under the
   chain id of a popular base layer and poison every image pulled after it.
   The tee inflates gzip (zlib) itself, hashes the compressed bytes
   (checked against the manifest's digest), and hands apply the plain tar:
   apply hashes exactly the bytes it parses as tar (its stats.diff_id),
   which is the diff_id checked, so the tar is hashed once, decompressed
   once, and what lands on disk is what the diff_id names.  Inflating here
   rather than in apply lets the inflate run on another core than the tar
   (pipeline.c).
   zstd layers (rare; no libzstd-dev in the build) pass through compressed:
   for them the diff_id is trusted when the compressed digest, pinned by
   the manifest, verified, and refused when there is no compressed digest.
   Plain tars (docker save) are their own diff_id.  */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pkg/archive/archive.h"
#include "pkg/oci/oci.h"
#include "pkg/util/xalloc.h"
#include "storage/internal.h"

static ssize_t
pull_upstream (struct storage_tee *t, const void **out, struct cove_error **err)
{
  ssize_t n = t->read (t->ctx, out, err);
  if (n < 0)
    return -1;
  if (n == 0)
    t->eof = true;
  else
    {
      cove_oci_hasher_update (t->hc, *out, (size_t) n);
      t->compressed_bytes += (uint64_t) n;
    }
  return n;
}

/* The next compressed chunk: the bytes kept by detection first.  */
static ssize_t
next_input (struct storage_tee *t, const void **out, struct cove_error **err)
{
  if (t->pend_len > 0)
    {
      if (t->pend_given)
        {
          free (t->pend);
          t->pend = NULL;
          t->pend_len = 0;
        }
      else
        {
          t->pend_given = true;
          *out = t->pend;
          return (ssize_t) t->pend_len;
        }
    }
  if (t->eof)
    return 0;
  return pull_upstream (t, out, err);
}

/* Read at least 4 bytes (or to the end) and look at the magic.  */
static int
detect (struct storage_tee *t, struct cove_error **err)
{
  while (t->pend_len < 4 && !t->eof)
    {
      const void *buf;
      ssize_t n = pull_upstream (t, &buf, err);
      if (n < 0)
        return -1;
      t->pend = xrealloc (t->pend, t->pend_len + (size_t) n + 1);
      memcpy (t->pend + t->pend_len, buf, (size_t) n);
      t->pend_len += (size_t) n;
    }
  const unsigned char *p = t->pend;
  if (t->pend_len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
    {
      t->mode = STORAGE_TEE_GZIP;
      memset (&t->z, 0, sizeof t->z);
      if (inflateInit2 (&t->z, 16 + MAX_WBITS) != Z_OK)
        return cove_error_set (err, ENOMEM, "inflateInit2");
      t->z_init = true;
      /* A tar whose sha256 is checked needs no CRC-32 besides (a few %
         of the inflate's time); kept where nothing else would see a
         corrupt gzip (an imported tarball's diff_id is computed, not
         checked).  */
      if (t->tar_digest_checked)
        inflateValidate (&t->z, 0);
      t->out = xmalloc (STORAGE_TEE_CHUNK);
    }
  else if (t->pend_len >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f
           && p[3] == 0xfd)
    t->mode = STORAGE_TEE_ZSTD;
  else
    t->mode = STORAGE_TEE_PLAIN;
  return 0;
}

static ssize_t
gunzip (struct storage_tee *t, const void **out, struct cove_error **err)
{
  for (;;)
    {
      if (t->z.avail_in == 0)
        {
          const void *buf = NULL;
          ssize_t n = next_input (t, &buf, err);
          if (n < 0)
            return -1;
          if (n == 0)
            {
              if (!t->z_ended)
                return cove_error_set (err, EIO, "layer: truncated gzip stream");
              return 0;
            }
          t->z.next_in = (Bytef *) buf;
          t->z.avail_in = (uInt) n;
        }
      if (t->z_ended)
        {
          /* Another gzip member follows (multistream, as Go reads it).  */
          inflateReset (&t->z);
          t->z_ended = false;
        }
      /* zlib keeps its own window: the output buffer may change between
         calls.  */
      unsigned char *dst = t->out_into ? t->out_into : t->out;
      t->z.next_out = dst;
      t->z.avail_out = STORAGE_TEE_CHUNK;
      int rc = inflate (&t->z, Z_NO_FLUSH);
      if (rc == Z_STREAM_END)
        t->z_ended = true;
      else if (rc != Z_OK && rc != Z_BUF_ERROR)
        return cove_error_set (err, EIO, "layer: corrupt gzip stream: %s",
                               t->z.msg ? t->z.msg : "inflate failed");
      size_t produced = STORAGE_TEE_CHUNK - t->z.avail_out;
      if (produced > 0)
        {
          t->uncompressed_bytes += produced;
          *out = dst;
          return (ssize_t) produced;
        }
    }
}

ssize_t
storage_tee_read (void *ctx, const void **out, struct cove_error **err)
{
  struct storage_tee *t = ctx;
  if (t->mode == STORAGE_TEE_DETECT && detect (t, err) < 0)
    return -1;
  if (t->mode == STORAGE_TEE_GZIP)
    return gunzip (t, out, err);
  ssize_t n = next_input (t, out, err);
  if (n > 0 && t->mode == STORAGE_TEE_PLAIN)
    t->uncompressed_bytes += (uint64_t) n;
  return n;
}

void
storage_tee_init (struct storage_tee *t, cove_storage_read_fn read, void *ctx)
{
  memset (t, 0, sizeof *t);
  t->read = read;
  t->ctx = ctx;
  t->hc = cove_oci_hasher_new ();
}

int
storage_tee_finish (struct storage_tee *t, struct cove_error **err)
{
  /* The tar reader may stop at the end-of-archive blocks before the end of
     the stream: the digests cover every byte, so read on to the end.  */
  const void *buf;
  ssize_t n;
  while ((n = storage_tee_read (t, &buf, err)) > 0)
    ;
  if (n < 0)
    return -1;
  t->compressed_digest = cove_oci_hasher_finish (t->hc);
  t->hc = NULL;
  if (t->mode != STORAGE_TEE_ZSTD && t->mode != STORAGE_TEE_GZIP)
    t->diff_id = xstrdup (t->compressed_digest);
  return 0;
}

int
storage_tee_take_diff_id (struct storage_tee *t,
                          const struct cove_archive_apply_stats *st,
                          struct cove_error **err)
{
  if (t->mode != STORAGE_TEE_GZIP)
    return 0;
  /* Apply decompresses again what looks compressed: a gzip whose content
     is itself compressed was not hashed as the tar the registry means.  */
  if (st->uncompressed_bytes != t->uncompressed_bytes)
    return cove_error_set (err, ENOTSUP, "layer: compressed twice");
  t->diff_id = xstrdup (st->diff_id);
  return 0;
}

void
storage_tee_free (struct storage_tee *t)
{
  if (t->hc)
    cove_oci_hasher_free (t->hc);
  if (t->z_init)
    inflateEnd (&t->z);
  free (t->out);
  free (t->pend);
  free (t->compressed_digest);
  free (t->diff_id);
  memset (t, 0, sizeof *t);
}
