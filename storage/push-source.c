/* Layer blobs for push when the store does not keep the compressed bytes
   a layer came from (pulled layers are kept unpacked only; load and import
   keep no layer blob either): the blob is made again from the layer's
   tree.  The tree is written twice, once as the plain tar (its digest is
   the layer's diff_id) and once compressed into a file: the writer is
   deterministic, so both passes see the same tar, and no plain copy of a
   large layer is kept.  */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/archive/archive.h"
#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "storage/push-internal.h"

struct hashed_out
{
  int fd;                     /* -1: hash only */
  struct cove_oci_hasher *h;
  int64_t size;
};

static int
hashed_write (void *ctx, const void *buf, size_t len, struct cove_error **err)
{
  struct hashed_out *o = ctx;
  cove_oci_hasher_update (o->h, buf, len);
  o->size += (int64_t) len;
  return o->fd < 0 ? 0 : cove_write_all (o->fd, buf, len, err);
}

/* One pass of the tree at DIRFD in FORMAT into FD (-1: none); *OUT_DIGEST
   and *OUT_SIZE of what was written.  */
static int
write_pass (int dirfd, enum cove_archive_format format, int fd,
            char **out_digest, int64_t *out_size, struct cove_error **err)
{
  struct hashed_out o = { .fd = fd, .h = cove_oci_hasher_new () };
  if (cove_archive_write_tree (dirfd, format, true, hashed_write, &o, err) < 0)
    {
      cove_oci_hasher_free (o.h);
      return -1;
    }
  *out_digest = cove_oci_hasher_finish (o.h);
  *out_size = o.size;
  return 0;
}

static enum cove_archive_format
archive_format (enum push_compression comp)
{
  switch (comp)
    {
    case PUSH_COMP_GZIP:
      return COVE_ARCHIVE_TAR_GZIP;
    case PUSH_COMP_ZSTD:
      return COVE_ARCHIVE_TAR_ZSTD;
    default:
      return COVE_ARCHIVE_TAR;
    }
}

/* A file in TMPDIR (a tmp/ entry of the store) that has no name: nothing
   to clean up whatever happens.  Where O_TMPFILE is refused, a named file
   unlinked at once.  */
static int
unnamed_file (const char *tmpdir, struct cove_error **err)
{
  int fd = open (tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
    return fd >= 0 ? fd : cove_error_set (err, errno, "create a file in `%s`", tmpdir);
  cleanup_free char *path = xasprintf ("%s/layer-XXXXXX", tmpdir);
  fd = mkostemp (path, O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno, "create a file in `%s`", tmpdir);
  unlink (path);
  return fd;
}

int
push_make_layer (const char *diff_path, enum push_compression comp,
                 const char *tmpdir, struct push_made_layer *out,
                 struct cove_error **err)
{
  *out = (struct push_made_layer) { .fd = -1 };
  cleanup_close int dirfd = open (diff_path, O_RDONLY | O_DIRECTORY
                                  | O_CLOEXEC | O_NOFOLLOW);
  if (dirfd < 0)
    return cove_error_set (err, errno, "open `%s`", diff_path);
  cleanup_close int fd = unnamed_file (tmpdir, err);
  if (fd < 0)
    return -1;
  int64_t tar_size = 0;
  cleanup_free char *diff_id = NULL;
  if (comp != PUSH_COMP_NONE
      && write_pass (dirfd, COVE_ARCHIVE_TAR, -1, &diff_id, &tar_size, err) < 0)
    return cove_error_wrap (err, "write layer `%s`", diff_path);
  if (lseek (dirfd, 0, SEEK_SET) < 0)
    return cove_error_set (err, errno, "rewind `%s`", diff_path);
  if (write_pass (dirfd, archive_format (comp), fd, &out->digest, &out->size,
                  err) < 0)
    return cove_error_wrap (err, "write layer `%s`", diff_path);
  out->diff_id = diff_id ? steal_pointer (&diff_id) : xstrdup (out->digest);
  out->fd = steal_fd (&fd);
  return 0;
}

void
push_made_layer_free (struct push_made_layer *m)
{
  if (m->fd >= 0)
    close (m->fd);
  free (m->digest);
  free (m->diff_id);
  *m = (struct push_made_layer) { .fd = -1 };
}

enum push_compression
push_sniff (int fd)
{
  unsigned char magic[4] = { 0 };
  ssize_t n = pread (fd, magic, sizeof magic, 0);
  if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
    return PUSH_COMP_GZIP;
  if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f
      && magic[3] == 0xfd)
    return PUSH_COMP_ZSTD;
  return PUSH_COMP_NONE;
}

int
push_media_compression (const char *mt)
{
  if (mt == NULL)
    return -1;
  if (strcmp (mt, COVE_OCI_MT_LAYER_GZIP) == 0
      || strcmp (mt, COVE_DOCKER_MT_LAYER_GZIP) == 0)
    return PUSH_COMP_GZIP;
  if (strcmp (mt, COVE_OCI_MT_LAYER_ZSTD) == 0)
    return PUSH_COMP_ZSTD;
  if (strcmp (mt, COVE_OCI_MT_LAYER) == 0)
    return PUSH_COMP_NONE;
  return -1;
}

const char *
push_layer_media_type (bool oci, enum push_compression comp)
{
  switch (comp)
    {
    case PUSH_COMP_GZIP:
      return oci ? COVE_OCI_MT_LAYER_GZIP : COVE_DOCKER_MT_LAYER_GZIP;
    case PUSH_COMP_ZSTD:
      return oci ? COVE_OCI_MT_LAYER_ZSTD : NULL;
    default:
      return oci ? COVE_OCI_MT_LAYER : NULL;
    }
}
