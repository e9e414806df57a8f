/* Content-addressed blobs: blobs/sha256/<hex>.  A blob is written into a
   tmp/ entry while its bytes are hashed, and renamed into place only when
   digest and size match; a blob in blobs/ is therefore always complete and
   verified.  Blobs are not fsync'ed: a kill -9 cannot tear a renamed file,
   and the records that point at blobs are durable on their own.  */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "storage/internal.h"

struct cove_storage_blob_writer
{
  struct cove_storage *s;
  char *digest;                 /* expected, "sha256:<hex>" */
  int64_t expected_size;        /* -1: unknown */
  int64_t written;
  struct cove_oci_hasher *hasher;
  char *entry;                  /* tmp/<entry> */
  int entry_fd;                 /* its lock */
  int fd;                       /* entry/data */
};

struct cove_storage_blob_writer *
cove_storage_blob_begin (struct cove_storage *s, const char *expected_digest,
                         int64_t expected_size, struct cove_error **err)
{
  const char *hex = storage_digest_hex (expected_digest);
  if (hex == NULL || strncmp (expected_digest, "sha256:", 7) != 0)
    {
      cove_error_set (err, EINVAL, "invalid blob digest `%s`",
                      expected_digest ? expected_digest : "(null)");
      return NULL;
    }
  struct cove_storage_blob_writer *w = xmalloc0 (sizeof *w);
  w->s = s;
  w->digest = xstrdup (expected_digest);
  w->expected_size = expected_size;
  w->fd = -1;
  w->entry_fd = storage_tmp_entry (s, &w->entry, err);
  if (w->entry_fd >= 0)
    {
      cleanup_free char *data = xasprintf ("%s/data", w->entry);
      w->fd = open (data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (w->fd < 0)
        cove_error_set (err, errno, "create `%s`", data);
    }
  if (w->fd < 0)
    {
      cove_storage_blob_abort (w);
      return NULL;
    }
  w->hasher = cove_oci_hasher_new ();
  return w;
}

int
cove_storage_blob_write (struct cove_storage_blob_writer *w, const void *buf,
                         size_t len, struct cove_error **err)
{
  /* Bytes from a registry: never let a lying server fill the disk past
     the size the manifest announced.  */
  if (w->expected_size >= 0 && w->written + (int64_t) len > w->expected_size)
    return cove_error_set (err, EIO, "blob %s: more than the %lld bytes expected",
                           w->digest, (long long) w->expected_size);
  if (cove_write_all (w->fd, buf, len, err) < 0)
    return cove_error_wrap (err, "write blob %s", w->digest);
  cove_oci_hasher_update (w->hasher, buf, len);
  w->written += (int64_t) len;
  return 0;
}

void
cove_storage_blob_abort (struct cove_storage_blob_writer *w)
{
  if (w == NULL)
    return;
  if (w->fd >= 0)
    close (w->fd);
  if (w->entry)
    cove_rm_rf (w->entry, NULL);
  if (w->entry_fd >= 0)
    close (w->entry_fd);
  if (w->hasher)
    cove_oci_hasher_free (w->hasher);
  free (w->entry);
  free (w->digest);
  free (w);
}

/* Rename the verified DATA into blobs/ under the store lock, and lease it:
   until this store is closed, no other process's GC collects it.  */
static int
blob_install (struct cove_storage *s, const char *data, const char *digest,
              struct cove_error **err)
{
  cleanup_free char *dst = storage_blob_path (s, digest);
  if (storage_lock (s, err) < 0)
    return -1;
  int r = 0;
  if (rename (data, dst) < 0)
    r = cove_error_set (err, errno, "rename `%s` to `%s`", data, dst);
  else
    storage_lease_add (s, digest);
  storage_unlock (s);
  return r;
}

/* Close and verify W's data: size, then digest.  */
static int
blob_check (struct cove_storage_blob_writer *w, struct cove_error **err)
{
  int fd = w->fd;
  w->fd = -1;
  if (close (fd) < 0)
    return cove_error_set (err, errno, "close blob %s", w->digest);
  cleanup_free char *got = cove_oci_hasher_finish (w->hasher);
  w->hasher = NULL;
  if (w->expected_size >= 0 && w->written != w->expected_size)
    return cove_error_set (err, EIO, "blob %s: got %lld bytes, expected %lld",
                           w->digest, (long long) w->written,
                           (long long) w->expected_size);
  if (got == NULL || strcmp (got, w->digest) != 0)
    return cove_error_set (err, EBADMSG, "blob %s: content has digest %s",
                           w->digest, got ? got : "(none)");
  return 0;
}

int
cove_storage_blob_commit (struct cove_storage_blob_writer *w,
                          struct cove_error **err)
{
  int r = blob_check (w, err);
  if (r == 0)
    {
      cleanup_free char *data = xasprintf ("%s/data", w->entry);
      r = blob_install (w->s, data, w->digest, err);
    }
  cove_storage_blob_abort (w);
  return r;
}

/* Import a blob of known content (a config or manifest the caller holds in
   memory) in one call.  */
int
cove_storage_blob_put (struct cove_storage *s, const char *digest,
                       const void *data, size_t len, struct cove_error **err)
{
  struct cove_storage_blob_writer *w
    = cove_storage_blob_begin (s, digest, (int64_t) len, err);
  if (w == NULL)
    return -1;
  if (cove_storage_blob_write (w, data, len, err) < 0)
    {
      cove_storage_blob_abort (w);
      return -1;
    }
  return cove_storage_blob_commit (w, err);
}
