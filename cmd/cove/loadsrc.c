/* cove load: reading an archive or an OCI layout directory.  The archive
   is untrusted: members are looked up by name, never extracted to disk;
   small members are held in memory within bounds; layers are streamed
   into the store, which verifies them.  */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cove/saveload.h"
#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

/* Bounds on what is held in memory from an untrusted archive.  */
#define SMALL_MEMBER_MAX COVE_OCI_DOCUMENT_MAX
#define SMALL_TOTAL_MAX (64 * 1024 * 1024)
#define MEMBERS_MAX 10000
#define BUF_SIZE (64 * 1024)

char *
cove_sl_clean_name (const char *name, struct cove_error **err)
{
  if (name == NULL || name[0] == '\0' || name[0] == '/')
    {
      cove_error_set (err, EINVAL, "invalid path `%s` in archive",
                      name ? name : "");
      return NULL;
    }
  while (strncmp (name, "./", 2) == 0)
    name += 2;
  for (const char *p = name; *p;)
    {
      size_t l = strcspn (p, "/");
      if (l == 2 && p[0] == '.' && p[1] == '.')
        {
          cove_error_set (err, EINVAL, "invalid path `%s` in archive: "
                          "it leaves the archive", name);
          return NULL;
        }
      p += l;
      while (*p == '/')
        p++;
    }
  return xstrdup (name);
}

int
cove_sl_tmpfile (const char *data_dir, struct cove_error **err)
{
  cleanup_free char *dir = xasprintf ("%s/tmp", data_dir);
  if (cove_mkdir_p (dir, 0700, err) < 0)
    return -1;
  int fd = open (dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0)
    return fd;
  /* O_TMPFILE is not supported by every filesystem.  */
  cleanup_free char *tmpl = xasprintf ("%s/sl-XXXXXX", dir);
  fd = mkostemp (tmpl, O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno, "create a file in `%s`", dir);
  unlink (tmpl);
  return fd;
}

static int
spool_stdin (const char *data_dir, struct cove_error **err)
{
  cleanup_close int fd = cove_sl_tmpfile (data_dir, err);
  if (fd < 0)
    return -1;
  cleanup_free char *buf = xmalloc (BUF_SIZE);
  for (;;)
    {
      ssize_t n = read (STDIN_FILENO, buf, BUF_SIZE);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return cove_error_set (err, errno, "read stdin");
      if (n == 0)
        break;
      if (cove_write_all (fd, buf, n, err) < 0)
        return -1;
    }
  if (lseek (fd, 0, SEEK_SET) < 0)
    return cove_error_set (err, errno, "seek");
  return steal_fd (&fd);
}

static struct archive *
reader_open (int fd, struct cove_error **err)
{
  if (lseek (fd, 0, SEEK_SET) < 0)
    {
      cove_error_set (err, errno, "seek the archive");
      return NULL;
    }
  struct archive *a = archive_read_new ();
  archive_read_support_filter_all (a);
  archive_read_support_format_tar (a);
  if (archive_read_open_fd (a, fd, BUF_SIZE) != ARCHIVE_OK)
    {
      cove_error_set (err, EIO, "read the archive: %s",
                      archive_error_string (a));
      archive_read_free (a);
      return NULL;
    }
  return a;
}

/* Keep member E in memory when it is small enough.  */
static int
keep_member (struct sl_source *src, struct archive *a,
             struct archive_entry *e, size_t *total, struct cove_error **err)
{
  if (archive_entry_filetype (e) != AE_IFREG || !archive_entry_size_is_set (e)
      || archive_entry_size (e) > SMALL_MEMBER_MAX)
    return 0;
  cleanup_error struct cove_error *ignored = NULL;
  cleanup_free char *name = cove_sl_clean_name (archive_entry_pathname (e),
                                                &ignored);
  if (name == NULL)
    return 0;   /* a hostile name is never looked up */
  size_t len = archive_entry_size (e);
  cleanup_free char *data = xmalloc (len + 1);
  la_ssize_t got = archive_read_data (a, data, len);
  if (got < 0 || (size_t) got != len)
    return cove_error_set (err, EIO, "read `%s` in the archive: %s", name,
                           got < 0 ? archive_error_string (a) : "truncated");
  data[len] = '\0';
  /* Only JSON documents are kept (manifests, configs, indexes): small
     layers are streamed in the second pass like the others.  */
  size_t ws = strspn (data, " \t\r\n");
  if (data[ws] != '{' && data[ws] != '[')
    return 0;
  if (src->n_members >= MEMBERS_MAX || *total + len > SMALL_TOTAL_MAX)
    return cove_error_set (err, EFBIG, "too many documents in the archive");
  *total += len;
  src->members = xrealloc (src->members,
                           (src->n_members + 1) * sizeof *src->members);
  src->members[src->n_members++] = (struct sl_member) {
    steal_pointer (&name), steal_pointer (&data), len };
  return 0;
}

static int
read_members (struct sl_source *src, struct cove_error **err)
{
  struct archive *a = reader_open (src->fd, err);
  if (a == NULL)
    return -1;
  struct archive_entry *e;
  size_t total = 0;
  int r, ret = 0;
  while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK)
    if (keep_member (src, a, e, &total, err) < 0)
      {
        ret = -1;
        break;
      }
  if (ret == 0 && r != ARCHIVE_EOF)
    ret = cove_error_set (err, EIO, "read the archive: %s",
                          archive_error_string (a));
  archive_read_free (a);
  return ret;
}

int
cove_sl_source_open (const char *input, const char *data_dir,
                     struct sl_source *out, struct cove_error **err)
{
  *out = (struct sl_source) { .dirfd = -1, .fd = -1 };
  if (input == NULL || strcmp (input, "-") == 0)
    out->fd = spool_stdin (data_dir, err);
  else
    {
      int fd = open (input, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return cove_error_set (err, errno, "open `%s`", input);
      struct stat st;
      if (fstat (fd, &st) < 0)
        {
          close (fd);
          return cove_error_set (err, errno, "stat `%s`", input);
        }
      if (S_ISDIR (st.st_mode))
        {
          out->dirfd = fd;
          return 0;
        }
      out->fd = fd;
    }
  if (out->fd < 0)
    return -1;
  if (read_members (out, err) < 0)
    {
      cove_sl_source_close (out);
      return -1;
    }
  return 0;
}

void
cove_sl_source_close (struct sl_source *src)
{
  for (size_t i = 0; i < src->n_members; i++)
    {
      free (src->members[i].name);
      free (src->members[i].data);
    }
  free (src->members);
  if (src->fd >= 0)
    close (src->fd);
  if (src->dirfd >= 0)
    close (src->dirfd);
  *src = (struct sl_source) { .dirfd = -1, .fd = -1 };
}

const char *
cove_sl_source_get (struct sl_source *src, const char *name, size_t max,
                    size_t *out_len, struct cove_error **err)
{
  for (size_t i = 0; i < src->n_members; i++)
    if (strcmp (src->members[i].name, name) == 0)
      {
        if (src->members[i].len > max)
          {
            cove_error_set (err, EFBIG, "`%s` in the archive is too large",
                            name);
            return NULL;
          }
        *out_len = src->members[i].len;
        return src->members[i].data;
      }
  if (src->dirfd < 0)
    {
      cove_error_set (err, ENOENT, "`%s` is not in the archive", name);
      return NULL;
    }
  cleanup_close int fd = cove_open_in_root (src->dirfd, name,
                                            O_RDONLY | O_CLOEXEC, err);
  if (fd < 0)
    return NULL;
  size_t len;
  char *data = cove_fd_read_all (fd, max, &len, err);
  if (data == NULL)
    return NULL;
  src->members = xrealloc (src->members,
                           (src->n_members + 1) * sizeof *src->members);
  src->members[src->n_members++] = (struct sl_member) { xstrdup (name),
                                                        data, len };
  *out_len = len;
  return data;
}

void
cove_sl_layers_free (struct sl_layer *layers, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (layers[i].member);
      free (layers[i].chain_id);
      free (layers[i].parent);
      free (layers[i].diff_id);
      free (layers[i].compressed_digest);
    }
  free (layers);
}

/* ---- streaming the layers ---- */

struct ar_reader
{
  struct archive *a;
  char buf[BUF_SIZE];
};

static ssize_t
read_archive (void *ctx, const void **out_buf, struct cove_error **err)
{
  struct ar_reader *r = ctx;
  la_ssize_t n = archive_read_data (r->a, r->buf, sizeof r->buf);
  if (n < 0)
    return cove_error_set (err, EIO, "read the archive: %s",
                           archive_error_string (r->a));
  *out_buf = r->buf;
  return n;
}

static int
create_layer (struct cove_storage *s, struct sl_layer *l,
              cove_storage_read_fn read, void *ctx, struct cove_error **err)
{
  if (cove_storage_layer_create (s, l->chain_id, l->parent, l->diff_id,
                                 l->compressed_digest, read, ctx, err) < 0)
    return cove_error_wrap (err, "layer `%s`", l->member);
  l->done = true;
  return 0;
}

static int
unpack_from_dir (struct sl_source *src, struct cove_storage *s,
                 struct sl_layer *l, struct cove_error **err)
{
  cleanup_close int fd = cove_open_in_root (src->dirfd, l->member,
                                            O_RDONLY | O_CLOEXEC, err);
  if (fd < 0)
    return -1;
  cleanup_free struct cove_fd_source *r = xmalloc (sizeof *r);
  r->fd = fd;
  r->what = "a layer";
  return create_layer (s, l, cove_fd_source_read, r, err);
}

/* One pass over the archive, unpacking at most one layer per member;
   *OUT_PROGRESS tells whether any was.  */
static int
unpack_pass (struct sl_source *src, struct cove_storage *s,
             struct sl_layer *layers, size_t n, bool *out_progress,
             struct cove_error **err)
{
  struct archive *a = reader_open (src->fd, err);
  if (a == NULL)
    return -1;
  cleanup_free struct ar_reader *rd = xmalloc (sizeof *rd);
  rd->a = a;
  struct archive_entry *e;
  int r = ARCHIVE_OK, ret = 0;
  *out_progress = false;
  while (ret == 0 && (r = archive_read_next_header (a, &e)) == ARCHIVE_OK)
    {
      if (archive_entry_filetype (e) != AE_IFREG)
        continue;
      cleanup_error struct cove_error *ignored = NULL;
      cleanup_free char *name = cove_sl_clean_name (archive_entry_pathname (e),
                                                    &ignored);
      for (size_t i = 0; name != NULL && i < n; i++)
        if (!layers[i].done && strcmp (layers[i].member, name) == 0)
          {
            ret = create_layer (s, &layers[i], read_archive, rd, err);
            *out_progress = true;
            break;
          }
    }
  if (ret == 0 && r != ARCHIVE_EOF)
    ret = cove_error_set (err, EIO, "read the archive: %s",
                          archive_error_string (a));
  archive_read_free (a);
  return ret;
}

static struct sl_layer *
first_missing (struct sl_layer *layers, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!layers[i].done)
      return &layers[i];
  return NULL;
}

int
cove_sl_source_unpack (struct sl_source *src, struct cove_storage *s,
                       struct sl_layer *layers, size_t n,
                       struct cove_error **err)
{
  for (size_t i = 0; i < n; i++)
    if (cove_storage_layer_exists (s, layers[i].chain_id))
      layers[i].done = true;
  struct sl_layer *l;
  while ((l = first_missing (layers, n)) != NULL)
    {
      bool progress = true;
      if (src->dirfd >= 0)
        {
          if (unpack_from_dir (src, s, l, err) < 0)
            return -1;
          continue;
        }
      /* A member used by two layers (the same tar at two places of one
         image) needs one pass each.  */
      if (unpack_pass (src, s, layers, n, &progress, err) < 0)
        return -1;
      if (!progress)
        break;
    }
  l = first_missing (layers, n);
  if (l != NULL)
    return cove_error_set (err, ENOENT, "layer `%s` is not in the archive",
                           l->member);
  return 0;
}
