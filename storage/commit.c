/* A container's changes as a new layer of the store (commit, and each
   step of a build): the changes storage/changes.c reports, written as a
   gzip'ed OCI layer tar (deletions as `.wh.` whiteouts), kept as a blob
   for push, and unpacked as a layer on top of the image's.

   The tar is first written to a file of a tmp/ entry, because three
   readers need it: the hash of the compressed bytes, the unpacking (which
   hashes the tar inside: the diff_id) and the blob store.  */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/archive/archive.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "storage/internal.h"

#define COMMIT_CHUNK (256 * 1024)

struct layer_walk
{
  struct cove_archive_writer *w;
  const char *const *skip;
  size_t n;
};

static int
write_fd (void *ctx, const void *buf, size_t len, struct cove_error **err)
{
  return cove_write_all (*(int *) ctx, buf, len, err);
}

/* A file or directory cove made as the target of a bind mount (the
   container's /etc/hosts, /run/cove-init...): empty, and not the
   container's own change.  */
static bool
skipped (const struct layer_walk *lw, const struct cove_storage_change *c)
{
  if (c->kind != 'A' || c->st == NULL
      || (S_ISREG (c->st->st_mode) && c->st->st_size != 0)
      || !(S_ISREG (c->st->st_mode) || S_ISDIR (c->st->st_mode)))
    return false;
  for (size_t i = 0; lw->skip && lw->skip[i]; i++)
    if (strcmp (c->path, lw->skip[i]) == 0)
      return true;
  return false;
}

static int
add_change (void *ctx, const struct cove_storage_change *c,
            struct cove_error **err)
{
  struct layer_walk *lw = ctx;
  if (skipped (lw, c))
    return 0;
  /* Paths come as "/etc/passwd"; a tar's are relative.  */
  const char *path = c->path[0] == '/' ? c->path + 1 : c->path;
  if (*path == '\0')
    return 0;
  lw->n++;
  if (c->kind == 'D')
    return cove_archive_writer_whiteout (lw->w, path, err);
  return cove_archive_writer_add (lw->w, c->dirfd, c->name, path, c->st, err);
}

/* Write the layer tar of the container's changes to FD.  */
static int
write_layer (struct cove_storage *s, const struct cove_storage_image *img,
             const char *container_id, const char *const *skip, int fd,
             size_t *out_n, struct cove_error **err)
{
  struct layer_walk lw = { .skip = skip };
  lw.w = cove_archive_writer_new (COVE_ARCHIVE_TAR_GZIP, write_fd, &fd, err);
  if (lw.w == NULL)
    return -1;
  int r = cove_storage_container_changes (s, img, container_id, add_change,
                                          &lw, err);
  if (r == 0)
    r = cove_archive_writer_finish (lw.w, err);
  cove_archive_writer_free (lw.w);
  *out_n = lw.n;
  return r;
}

struct file_source
{
  int fd;
  char buf[COMMIT_CHUNK];
};

static ssize_t
file_read (void *ctx, const void **out_buf, struct cove_error **err)
{
  struct file_source *f = ctx;
  ssize_t n;
  do
    n = read (f->fd, f->buf, sizeof f->buf);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return cove_error_set (err, errno, "read the layer");
  *out_buf = f->buf;
  return n;
}

/* Keep the compressed bytes as blob DIGEST, for push.  */
static int
store_blob (struct cove_storage *s, struct file_source *f, const char *digest,
            struct cove_error **err)
{
  if (cove_storage_blob_exists (s, digest))
    return 0;
  struct stat st;
  if (fstat (f->fd, &st) < 0 || lseek (f->fd, 0, SEEK_SET) < 0)
    return cove_error_set (err, errno, "the layer file");
  struct cove_storage_blob_writer *bw
    = cove_storage_blob_begin (s, digest, st.st_size, err);
  if (bw == NULL)
    return -1;
  for (;;)
    {
      const void *buf;
      ssize_t n = file_read (f, &buf, err);
      if (n < 0 || (n > 0 && cove_storage_blob_write (bw, buf, (size_t) n,
                                                      err) < 0))
        {
          cove_storage_blob_abort (bw);
          return -1;
        }
      if (n == 0)
        break;
    }
  return cove_storage_blob_commit (bw, err);
}

/* Unpack the layer file on top of the image's top layer, and keep it.  */
static int
import_layer (struct cove_storage *s, const struct cove_storage_image *img,
              int fd, struct cove_storage_commit *out, struct cove_error **err)
{
  const char *parent = NULL;
  for (size_t i = 0; img->layers && img->layers[i]; i++)
    parent = img->layers[i];
  cleanup_free struct file_source *f = xmalloc (sizeof *f);
  f->fd = fd;
  if (lseek (fd, 0, SEEK_SET) < 0)
    return cove_error_set (err, errno, "the layer file");
  if (cove_storage_layer_import (s, parent, file_read, f, &out->diff_id,
                                 &out->chain_id, err) < 0)
    return -1;
  struct cove_storage_layer info;
  if (cove_storage_layer_info (s, out->chain_id, &info, err) < 0)
    return -1;
  out->blob_digest = steal_pointer (&info.compressed_digest);
  cove_storage_layer_free (&info);
  struct stat st;
  if (fstat (fd, &st) < 0)
    return cove_error_set (err, errno, "the layer file");
  out->blob_size = st.st_size;
  if (out->blob_digest == NULL)
    return cove_error_set (err, EIO, "layer %s: no digest of its bytes",
                           out->chain_id);
  /* Nothing may collect them before the image that uses them is
     recorded.  */
  if (storage_lock (s, err) < 0)
    return -1;
  storage_lease_add (s, out->chain_id);
  storage_lease_add (s, out->blob_digest);
  storage_unlock (s);
  return store_blob (s, f, out->blob_digest, err);
}

int
cove_storage_commit_layer (struct cove_storage *s,
                           const struct cove_storage_image *img,
                           const char *container_id, const char *const *skip,
                           struct cove_storage_commit *out,
                           struct cove_error **err)
{
  memset (out, 0, sizeof *out);
  cleanup_free char *entry = NULL;
  cleanup_close int lock = storage_tmp_entry (s, &entry, err);
  if (lock < 0)
    return -1;
  cleanup_free char *file = xasprintf ("%s/layer.tar.gz", entry);
  int r = -1;
  int fd = open (file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    cove_error_set (err, errno, "create `%s`", file);
  else if (write_layer (s, img, container_id, skip, fd, &out->n_changes,
                        err) == 0)
    r = import_layer (s, img, fd, out, err);
  if (fd >= 0)
    close (fd);
  (void) cove_rm_rf (entry, NULL);
  if (r < 0)
    cove_storage_commit_free (out);
  return r;
}

void
cove_storage_commit_free (struct cove_storage_commit *c)
{
  free (c->diff_id);
  free (c->chain_id);
  free (c->blob_digest);
  memset (c, 0, sizeof *c);
}
