/* Blobs, the reading side: what the light `cove` binary needs (an image's
   config), without the hashing writer of blobs.c and its libcrypto.  */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "storage/internal.h"

bool
cove_storage_blob_exists (struct cove_storage *s, const char *digest)
{
  if (storage_digest_hex (digest) == NULL)
    return false;
  cleanup_free char *path = storage_blob_path (s, digest);
  if (storage_lock (s, NULL) < 0)
    return false;
  /* A caller that finds a blob will use it (a pull skips the download):
     lease it so that a concurrent GC does not take it away meanwhile.  */
  bool ok = access (path, F_OK) == 0;
  if (ok)
    storage_lease_add (s, digest);
  storage_unlock (s);
  return ok;
}

int
cove_storage_blob_open (struct cove_storage *s, const char *digest,
                        struct cove_error **err)
{
  if (storage_digest_hex (digest) == NULL)
    return cove_error_set (err, EINVAL, "invalid blob digest `%s`",
                           digest ? digest : "(null)");
  cleanup_free char *path = storage_blob_path (s, digest);
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return cove_error_set (err, errno, "open blob %s", digest);
  return fd;
}

char *
cove_storage_blob_read (struct cove_storage *s, const char *digest,
                        size_t max, size_t *out_len, struct cove_error **err)
{
  cleanup_close int fd = cove_storage_blob_open (s, digest, err);
  if (fd < 0)
    return NULL;
  char *r = cove_fd_read_all (fd, max, out_len, err);
  if (r == NULL)
    cove_error_wrap (err, "read blob %s", digest);
  return r;
}

