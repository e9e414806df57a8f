/* The layer tee: sits between a layer's byte source (a registry download,
   an archive member) and cove_archive_apply, and hashes what goes through
   so that a layer is verified while it streams, in one pass.

   Why storage decompresses gzip itself: a layer is stored under its chain
   id, which derives from the diff_ids (digests of the UNcompressed tars)
   that the image config lists, and a stored layer is reused by every later
   image that names the same chain id.  Trusting the config's diff_id
   without checking it would let one hostile image plant content under the
   chain id of a popular base layer and poison every image pulled after it.
   cove_archive_apply decompresses internally and exposes no hook for the
   uncompressed bytes, so the tee inflates gzip (zlib) itself, hashes both
   the compressed bytes (checked against the manifest's digest) and the
   tar (checked against the diff_id), and hands apply the plain tar: the
   data is still decompressed exactly once.
   zstd layers (rare; no libzstd-dev in the build) pass through compressed:
   for them the diff_id is trusted when the compressed digest, pinned by
   the manifest, verified, and refused when there is no compressed digest.
   Plain tars (docker save) are their own diff_id.  */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pkg/oci/oci.h"
#include "pkg/util/xalloc.h"
#include "storage/internal.h"

#define TEE_OUT_SIZE (256 * 1024)

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
      t->out = xmalloc (TEE_OUT_SIZE);
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
      t->z.next_out = t->out;
      t->z.avail_out = TEE_OUT_SIZE;
      int rc = inflate (&t->z, Z_NO_FLUSH);
      if (rc == Z_STREAM_END)
        t->z_ended = true;
      else if (rc != Z_OK && rc != Z_BUF_ERROR)
        return cove_error_set (err, EIO, "layer: corrupt gzip stream: %s",
                               t->z.msg ? t->z.msg : "inflate failed");
      size_t produced = TEE_OUT_SIZE - t->z.avail_out;
      if (produced > 0)
        {
          cove_oci_hasher_update (t->hu, t->out, produced);
          t->uncompressed_bytes += produced;
          *out = t->out;
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
  t->hu = cove_oci_hasher_new ();
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
  char *u = cove_oci_hasher_finish (t->hu);
  t->hu = NULL;
  if (t->mode == STORAGE_TEE_GZIP)
    t->diff_id = u;
  else
    {
      free (u);
      if (t->mode != STORAGE_TEE_ZSTD)
        t->diff_id = xstrdup (t->compressed_digest);
    }
  return 0;
}

void
storage_tee_free (struct storage_tee *t)
{
  if (t->hc)
    cove_oci_hasher_free (t->hc);
  if (t->hu)
    cove_oci_hasher_free (t->hu);
  if (t->z_init)
    inflateEnd (&t->z);
  free (t->out);
  free (t->pend);
  free (t->compressed_digest);
  free (t->diff_id);
  memset (t, 0, sizeof *t);
}
