/* cove save: writing layers back as tars and the archive or layout that
   holds them.  */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cove/saveload.h"
#include "pkg/archive/archive.h"
#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#define BUF_SIZE (64 * 1024)

struct tar_out
{
  int fd;
  struct cove_oci_hasher *h;
  int64_t size;
};

static int
tar_out_write (void *ctx, const void *buf, size_t len, struct cove_error **err)
{
  struct tar_out *t = ctx;
  cove_oci_hasher_update (t->h, buf, len);
  t->size += len;
  return cove_write_all (t->fd, buf, len, err);
}

int
cove_sl_layer_tar (const char *data_dir, const char *diff_path,
                   char **out_digest, int64_t *out_size,
                   struct cove_error **err)
{
  cleanup_close int dirfd = open (diff_path, O_RDONLY | O_DIRECTORY
                                  | O_CLOEXEC | O_NOFOLLOW);
  if (dirfd < 0)
    return cove_error_set (err, errno, "open `%s`", diff_path);
  cleanup_close int fd = cove_sl_tmpfile (data_dir, err);
  if (fd < 0)
    return -1;
  struct tar_out t = { fd, cove_oci_hasher_new (), 0 };
  if (cove_archive_write_tree (dirfd, COVE_ARCHIVE_TAR, true, tar_out_write,
                               &t, err) < 0)
    {
      cove_oci_hasher_free (t.h);
      return cove_error_wrap (err, "write layer `%s`", diff_path);
    }
  *out_digest = cove_oci_hasher_finish (t.h);
  *out_size = t.size;
  return steal_fd (&fd);
}

/* ---- the sink ---- */

static la_ssize_t
sink_write_cb (struct archive *a, void *ctx, const void *buf, size_t len)
{
  int fd = *(int *) ctx;
  cleanup_error struct cove_error *err = NULL;
  if (cove_write_all (fd, buf, len, &err) < 0)
    {
      archive_set_error (a, err->errnum, "%s", err->msg);
      return -1;
    }
  return len;
}

/* The id outside the user namespace that our (inner) id 0 maps to, as
   read from MAP (/proc/self/uid_map): entries of the archive are owned by
   the user as the host sees them, as podman writes them; a tool that
   unpacks the archive without privileges (skopeo) must be able to chown
   them.  */
static int64_t
outer_id (const char *map, int64_t inner)
{
  if (inner != 0)
    return inner;
  cleanup_fclose FILE *f = fopen (map, "re");
  long long in, out, count;
  while (f != NULL && fscanf (f, "%lld %lld %lld", &in, &out, &count) == 3)
    if (in == 0)
      return out;
  return 0;
}

int
cove_sl_sink_open_fd (struct sl_sink *out, int fd, struct cove_error **err)
{
  /* OUT stays where the caller has it while the archive is written: the
     write callback reads the fd from it.  */
  *out = (struct sl_sink) { .dirfd = -1, .fd = fd };
  out->uid = outer_id ("/proc/self/uid_map", getuid ());
  out->gid = outer_id ("/proc/self/gid_map", getgid ());
  out->a = archive_write_new ();
  archive_write_set_format_pax_restricted (out->a);
  archive_write_set_bytes_in_last_block (out->a, 1);
  if (archive_write_open (out->a, &out->fd, NULL, sink_write_cb, NULL)
      != ARCHIVE_OK)
    {
      cove_error_set (err, EIO, "write the archive: %s",
                      archive_error_string (out->a));
      archive_write_free (out->a);
      out->a = NULL;
      return -1;
    }
  return 0;
}

int
cove_sl_sink_open_dir (struct sl_sink *out, const char *path,
                       struct cove_error **err)
{
  *out = (struct sl_sink) { .dirfd = -1, .fd = -1 };
  cleanup_free char *blobs = xasprintf ("%s/blobs/sha256", path);
  if (cove_mkdir_p (blobs, 0755, err) < 0)
    return -1;
  out->dirfd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (out->dirfd < 0)
    return cove_error_set (err, errno, "open `%s`", path);
  return 0;
}

void
cove_sl_sink_abort (struct sl_sink *sink)
{
  if (sink->a != NULL)
    archive_write_free (sink->a);
  if (sink->dirfd >= 0)
    close (sink->dirfd);
  cove_strv_free (sink->written);
  *sink = (struct sl_sink) { .dirfd = -1, .fd = -1 };
}

int
cove_sl_sink_close (struct sl_sink *sink, struct cove_error **err)
{
  int ret = 0;
  if (sink->a != NULL && archive_write_close (sink->a) != ARCHIVE_OK)
    ret = cove_error_set (err, EIO, "write the archive: %s",
                          archive_error_string (sink->a));
  cove_sl_sink_abort (sink);
  return ret;
}

bool
cove_sl_sink_has (struct sl_sink *sink, const char *name)
{
  for (size_t i = 0; sink->written && sink->written[i]; i++)
    if (strcmp (sink->written[i], name) == 0)
      return true;
  return false;
}

/* Start entry NAME of SIZE bytes: a tar header, or a new file, whose fd
   goes to *OUT_FD (-1 for an archive).  */
static int
entry_begin (struct sl_sink *sink, const char *name, int64_t size,
             int *out_fd, struct cove_error **err)
{
  cove_strv_append (&sink->written, name);
  *out_fd = -1;
  if (sink->dirfd >= 0)
    {
      *out_fd = openat (sink->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC
                        | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (*out_fd < 0)
        return cove_error_set (err, errno, "create `%s`", name);
      return 0;
    }
  struct archive_entry *e = archive_entry_new ();
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, size < 0 ? AE_IFDIR : AE_IFREG);
  archive_entry_set_perm (e, size < 0 ? 0755 : 0644);
  archive_entry_set_size (e, size < 0 ? 0 : size);
  archive_entry_set_uid (e, sink->uid);
  archive_entry_set_gid (e, sink->gid);
  archive_entry_set_mtime (e, 0, 0);
  int r = archive_write_header (sink->a, e);
  archive_entry_free (e);
  if (r != ARCHIVE_OK)
    return cove_error_set (err, EIO, "write the archive: %s",
                           archive_error_string (sink->a));
  return 0;
}

static int
entry_write (struct sl_sink *sink, int fd, const void *buf, size_t len,
             struct cove_error **err)
{
  if (fd >= 0)
    return cove_write_all (fd, buf, len, err);
  la_ssize_t n = archive_write_data (sink->a, buf, len);
  if (n < 0 || (size_t) n != len)
    return cove_error_set (err, EIO, "write the archive: %s",
                           archive_error_string (sink->a));
  return 0;
}

int
cove_sl_sink_dir (struct sl_sink *sink, const char *name,
                  struct cove_error **err)
{
  if (sink->a == NULL)
    return 0;   /* oci-dir: made by cove_sl_sink_open_dir */
  int fd;
  return entry_begin (sink, name, -1, &fd, err);
}

int
cove_sl_sink_data (struct sl_sink *sink, const char *name, const void *data,
                   size_t len, struct cove_error **err)
{
  cleanup_close int fd = -1;
  if (entry_begin (sink, name, len, &fd, err) < 0)
    return -1;
  return entry_write (sink, fd, data, len, err);
}

int
cove_sl_sink_fd (struct sl_sink *sink, const char *name, int src, int64_t size,
                 struct cove_error **err)
{
  if (lseek (src, 0, SEEK_SET) < 0)
    return cove_error_set (err, errno, "seek");
  cleanup_close int fd = -1;
  if (entry_begin (sink, name, size, &fd, err) < 0)
    return -1;
  cleanup_free char *buf = xmalloc (BUF_SIZE);
  int64_t left = size;
  while (left > 0)
    {
      ssize_t n = read (src, buf, left < BUF_SIZE ? left : BUF_SIZE);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return cove_error_set (err, n < 0 ? errno : EIO, "read a layer");
      if (entry_write (sink, fd, buf, n, err) < 0)
        return -1;
      left -= n;
    }
  return 0;
}
