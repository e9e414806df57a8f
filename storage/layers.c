/* Layers: layers/<chain-hex>/{diff/,layer.json}.  A layer is unpacked into
   a tmp/ entry while the tee verifies its digests (see tee.c), then the
   whole entry is renamed to layers/<chain-hex> in one step: a layer
   directory exists only complete and verified, and is shared by every image
   whose layer stack has that chain id.
   No file of a layer is fsync'ed: against kill -9 the rename is the commit
   (a killed process cannot tear what the page cache holds), and an fsync
   per file would cost more than the whole unpacking (podman does not sync
   layers either).  A power loss may lose a recent layer's data; the image
   record written after it is durable, so such a layer would be seen, and
   `cove rmi` + pull again repairs it.  */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/archive/archive.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "storage/internal.h"

char *
cove_storage_chain_id (const char *parent_chain, const char *diff_id)
{
  if (parent_chain == NULL)
    return xstrdup (diff_id);
  cleanup_free char *s = xasprintf ("%s %s", parent_chain, diff_id);
  return cove_oci_digest_buffer (s, strlen (s));
}

/* Unpack READ(CTX) into a new tmp/ entry's diff/.  On success the entry
   (path and lock fd) is the caller's, and T holds the digests.  */
static int
layer_unpack (struct cove_storage *s, struct storage_tee *t,
              struct cove_archive_apply_stats *stats, char **out_entry,
              struct cove_error **err)
{
  cleanup_free char *entry = NULL;
  int entry_fd = storage_tmp_entry (s, &entry, err);
  if (entry_fd < 0)
    return -1;
  cleanup_free char *diff = xasprintf ("%s/diff", entry);
  int diff_fd = -1;
  if (mkdir (diff, 0755) < 0)
    cove_error_set (err, errno, "mkdir `%s`", diff);
  else if ((diff_fd = open (diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    cove_error_set (err, errno, "open `%s`", diff);
  int r = -1;
  if (diff_fd >= 0)
    {
      r = storage_unpack_threaded (diff_fd, t, stats, err);
      if (r == 0)
        r = storage_tee_take_diff_id (t, stats, err);
      close (diff_fd);
    }
  if (r < 0)
    {
      cove_rm_rf (entry, NULL);
      close (entry_fd);
      return cove_error_wrap (err, "unpack layer");
    }
  *out_entry = steal_pointer (&entry);
  return entry_fd;
}

/* Write ENTRY/layer.json from the fields, then rename ENTRY to layers/,
   under the lock.  A layer that appeared meanwhile (another cove pulled it)
   wins and ours is dropped.  Consumes ENTRY_FD.  */
static int
layer_install (struct cove_storage *s, const char *entry, int entry_fd,
               const char *chain_id, json_t *rec, struct cove_error **err)
{
  cleanup_free char *dst = storage_layer_path (s, chain_id);
  cleanup_free char *recpath = xasprintf ("%s/layer.json", entry);
  cleanup_free char *text = json_dumps (rec, JSON_COMPACT | JSON_SORT_KEYS);
  /* Not atomic nor synced on its own: the entry is invisible until the
     rename below, which publishes record and tree together.  */
  int r = cove_file_write_atomic (recpath, text, strlen (text), 0600, 0, err);
  if (r == 0)
    r = storage_lock (s, err);
  bool drop = r < 0;
  if (r == 0)
    {
      if (renameat2 (AT_FDCWD, entry, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
        storage_lease_add (s, chain_id);
      else
        {
          drop = true;
          if (errno == EEXIST || errno == ENOTEMPTY)
            storage_lease_add (s, chain_id);  /* theirs, now ours to use */
          else
            r = cove_error_set (err, errno, "rename `%s` to `%s`", entry, dst);
        }
      storage_unlock (s);
    }
  if (drop)
    cove_rm_rf (entry, NULL);
  close (entry_fd);
  return r;
}

static json_t *
layer_record (const char *chain_id, const char *parent, const char *diff_id,
              const char *compressed_digest, uint64_t size)
{
  return json_pack ("{s:s, s:s?, s:s, s:s?, s:I}", "id", chain_id,
                    "parent", parent, "diff_id", diff_id,
                    "compressed_digest", compressed_digest,
                    "size", (json_int_t) size);
}

static uint64_t
tee_size (const struct storage_tee *t, const struct cove_archive_apply_stats *st)
{
  return t->mode == STORAGE_TEE_ZSTD ? st->uncompressed_bytes : t->uncompressed_bytes;
}

/* The tee's digests against what the caller expects.  */
static int
layer_verify (const struct storage_tee *t, const char *diff_id,
              const char *compressed_digest, struct cove_error **err)
{
  if (compressed_digest && strcmp (t->compressed_digest, compressed_digest) != 0)
    return cove_error_set (err, EBADMSG, "layer %s: content has digest %s",
                           compressed_digest, t->compressed_digest);
  if (t->diff_id == NULL)
    {
      if (compressed_digest == NULL)
        return cove_error_set (err, ENOTSUP,
                               "layer %s: zstd layer without a digest: cannot "
                               "verify its diff_id", diff_id);
      return 0;
    }
  if (strcmp (t->diff_id, diff_id) != 0)
    return cove_error_set (err, EBADMSG, "layer: uncompressed content has digest "
                           "%s, the image config says %s", t->diff_id, diff_id);
  return 0;
}

static int
check_args (const char *chain_id,
            const char *parent_chain, const char *diff_id,
            const char *compressed_digest, struct cove_error **err)
{
  if (storage_digest_hex (diff_id) == NULL || strncmp (diff_id, "sha256:", 7)
      || (parent_chain && storage_digest_hex (parent_chain) == NULL)
      || (compressed_digest && storage_digest_hex (compressed_digest) == NULL))
    return cove_error_set (err, EINVAL, "layer: invalid digest");
  /* Chain ids name shared layers: one that does not derive from its diff
     ids would let a record claim a layer it does not have.  */
  cleanup_free char *want = cove_storage_chain_id (parent_chain, diff_id);
  if (chain_id == NULL || strcmp (want, chain_id) != 0)
    return cove_error_set (err, EINVAL, "layer: chain id %s is not %s",
                           chain_id ? chain_id : "(null)", want);
  /* The parent need not be stored yet: layers are independent trees, so
     a pull may unpack them in parallel; image_add checks that every layer
     of an image is there.  */
  return 0;
}

int
cove_storage_layer_create (struct cove_storage *s, const char *chain_id,
                           const char *parent_chain, const char *diff_id,
                           const char *compressed_digest,
                           cove_storage_read_fn read, void *ctx,
                           struct cove_error **err)
{
  if (check_args (chain_id, parent_chain, diff_id, compressed_digest, err) < 0)
    return -1;
  if (cove_storage_layer_exists (s, chain_id))
    return 0;
  struct storage_tee t;
  struct cove_archive_apply_stats stats = { 0 };
  cleanup_free char *entry = NULL;
  storage_tee_init (&t, read, ctx);
  t.tar_digest_checked = true;    /* layer_verify, before the rename */
  int entry_fd = layer_unpack (s, &t, &stats, &entry, err);
  if (entry_fd < 0)
    {
      storage_tee_free (&t);
      return -1;
    }
  if (layer_verify (&t, diff_id, compressed_digest, err) < 0)
    {
      cove_rm_rf (entry, NULL);
      close (entry_fd);
      storage_tee_free (&t);
      return -1;
    }
  json_t *rec = layer_record (chain_id, parent_chain, diff_id,
                              t.compressed_digest, tee_size (&t, &stats));
  int r = layer_install (s, entry, entry_fd, chain_id, rec, err);
  json_decref (rec);
  storage_tee_free (&t);
  return r;
}

int
cove_storage_layer_import (struct cove_storage *s, const char *parent_chain,
                           cove_storage_read_fn read, void *ctx,
                           char **out_diff_id, char **out_chain_id,
                           struct cove_error **err)
{
  if (parent_chain && storage_digest_hex (parent_chain) == NULL)
    return cove_error_set (err, EINVAL, "layer: invalid parent `%s`", parent_chain);
  struct storage_tee t;
  struct cove_archive_apply_stats stats = { 0 };
  cleanup_free char *entry = NULL;
  storage_tee_init (&t, read, ctx);
  int entry_fd = layer_unpack (s, &t, &stats, &entry, err);
  if (entry_fd < 0)
    {
      storage_tee_free (&t);
      return -1;
    }
  if (t.diff_id == NULL)
    {
      cove_rm_rf (entry, NULL);
      close (entry_fd);
      storage_tee_free (&t);
      return cove_error_set (err, ENOTSUP, "import: zstd tarballs are not supported");
    }
  cleanup_free char *chain = cove_storage_chain_id (parent_chain, t.diff_id);
  json_t *rec = layer_record (chain, parent_chain, t.diff_id,
                              t.compressed_digest, tee_size (&t, &stats));
  int r = layer_install (s, entry, entry_fd, chain, rec, err);
  json_decref (rec);
  if (r == 0)
    {
      *out_diff_id = steal_pointer (&t.diff_id);
      *out_chain_id = steal_pointer (&chain);
    }
  storage_tee_free (&t);
  return r;
}
