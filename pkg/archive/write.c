/* cove archive: a directory tree written as a tar stream (commit, push,
   save, export).

   pax (restricted: extended headers only where ustar cannot say it),
   entries in a fixed order (depth first, each directory's names sorted by
   bytes), no atime/ctime and no gzip timestamp: the same tree gives the
   same bytes, hence the same layer digest.  The tree is ours (an upper
   directory, a layer): it is walked with O_NOFOLLOW relative to each
   directory, so a symlink in it is written as a symlink, never followed.  */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "pkg/archive/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

#define COPY_BUF_SIZE (1024 * 1024)

struct writer
{
  struct archive *ar;
  struct archive_entry_linkresolver *links;
  cove_archive_write_fn write;
  void *ctx;
  struct cove_error *write_err;   /* from WRITE */
  bool diff;
  char *buf;
};

static int
ar_error (struct writer *w, const char *what, struct cove_error **err)
{
  if (w->write_err != NULL)
    {
      struct cove_error *e = steal_pointer (&w->write_err);
      if (err != NULL && *err == NULL)
        *err = e;
      else
        cove_error_free (e);
      return -1;
    }
  const char *why = archive_error_string (w->ar);
  int errnum = archive_errno (w->ar);
  return cove_error_set (err, errnum > 0 ? errnum : EIO, "%s: %s", what,
                         why ? why : "libarchive error");
}

static la_ssize_t
write_cb (struct archive *ar, void *data, const void *buf, size_t len)
{
  struct writer *w = data;
  if (w->write (w->ctx, buf, len, &w->write_err) < 0)
    {
      if (w->write_err == NULL)
        cove_error_set (&w->write_err, EIO, "write archive");
      archive_set_error (ar, EIO, "write failed");
      return -1;
    }
  return (la_ssize_t) len;
}

static int
cmp_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The names in the directory DFD, sorted.  Caller frees (strv).  */
static char **
list_sorted (int dfd, size_t *out_n, struct cove_error **err)
{
  int fd = openat (dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      cove_error_set (err, errno, "open directory");
      return NULL;
    }
  cleanup_dir DIR *d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      cove_error_set (err, errno, "opendir");
      return NULL;
    }
  char **v = xmalloc0 (sizeof *v);
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      v = xrealloc (v, (n + 2) * sizeof *v);
      v[n++] = xstrdup (de->d_name);
      v[n] = NULL;
    }
  qsort (v, n, sizeof *v, cmp_names);
  *out_n = n;
  return v;
}

/* The kept xattrs of FD (security.capability, user.* but overlay's),
   sorted by name.  */
static void
add_xattrs (struct archive_entry *entry, int fd)
{
  ssize_t n = flistxattr (fd, NULL, 0);
  if (n <= 0)
    return;
  cleanup_free char *list = xmalloc ((size_t) n);
  n = flistxattr (fd, list, (size_t) n);
  if (n <= 0)
    return;
  cleanup_free char **names = xmalloc0 (((size_t) n + 1) * sizeof *names);
  size_t count = 0;
  for (char *p = list; p < list + n; p += strlen (p) + 1)
    if (arc_xattr_kept (p))
      names[count++] = p;
  qsort (names, count, sizeof *names, cmp_names);
  for (size_t i = 0; i < count; i++)
    {
      ssize_t vn = fgetxattr (fd, names[i], NULL, 0);
      if (vn < 0)
        continue;
      cleanup_free char *val = xmalloc ((size_t) vn + 1);
      vn = fgetxattr (fd, names[i], val, (size_t) vn);
      if (vn >= 0)
        archive_entry_xattr_add_entry (entry, names[i], val, (size_t) vn);
    }
}

static bool
xattr_is (int fd, const char *name, char want)
{
  char v[2];
  return fgetxattr (fd, name, v, sizeof v) == 1 && v[0] == want;
}

/* An empty regular file NAME standing for a whiteout or an opaque marker,
   with the owner, permissions and mtime of ST.  */
static int
write_marker (struct writer *w, const char *name, const struct stat *st,
              struct cove_error **err)
{
  struct archive_entry *e = archive_entry_new ();
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, st->st_mode & 0777);
  archive_entry_set_uid (e, st->st_uid);
  archive_entry_set_gid (e, st->st_gid);
  archive_entry_set_mtime (e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
  archive_entry_set_size (e, 0);
  int r = archive_write_header (w->ar, e);
  archive_entry_free (e);
  if (r < ARCHIVE_WARN)
    return ar_error (w, "write whiteout", err);
  return 0;
}

static int
write_whiteout (struct writer *w, const char *path, const struct stat *st,
                struct cove_error **err)
{
  const char *slash = strrchr (path, '/');
  cleanup_free char *name = slash
    ? xasprintf ("%.*s/.wh.%s", (int) (slash - path), path, slash + 1)
    : xasprintf (".wh.%s", path);
  return write_marker (w, name, st, err);
}

static int
copy_data (struct writer *w, int fd, off_t size, const char *path,
           struct cove_error **err)
{
  while (size > 0)
    {
      size_t want = size < COPY_BUF_SIZE ? (size_t) size : COPY_BUF_SIZE;
      ssize_t n = read (fd, w->buf, want);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return cove_error_set (err, errno, "read `%s`", path);
      if (n == 0)
        return cove_error_set (err, EIO, "`%s` shrank while being read",
                               path);
      if (archive_write_data (w->ar, w->buf, (size_t) n) < 0)
        return ar_error (w, "write archive", err);
      size -= n;
    }
  return 0;
}

static struct archive_entry *
make_entry (int dfd, const char *name, const char *path, const struct stat *st,
            int fd)
{
  struct archive_entry *e = archive_entry_new ();
  archive_entry_copy_stat (e, st);
  archive_entry_set_pathname (e, path);
  /* Only the mtime: atime and ctime change on every read.  */
  archive_entry_unset_atime (e);
  archive_entry_unset_ctime (e);
  archive_entry_unset_birthtime (e);
  if (!S_ISREG (st->st_mode))
    archive_entry_set_size (e, 0);
  if (S_ISLNK (st->st_mode))
    {
      char target[PATH_MAX + 1];
      ssize_t n = readlinkat (dfd, name, target, PATH_MAX);
      if (n >= 0)
        {
          target[n] = '\0';
          archive_entry_copy_symlink (e, target);
        }
    }
  if (fd >= 0)
    add_xattrs (e, fd);
  return e;
}

/* Write the entry NAME of the directory DFD, at PATH in the archive.
   DIRFD_OF_IT is its fd when it is a directory.  */
static int
write_node (struct writer *w, int dfd, const char *name, const char *path,
            const struct stat *st, int dirfd_of_it, struct cove_error **err)
{
  if (S_ISSOCK (st->st_mode))
    return 0;     /* tar has no sockets; they are runtime state anyway */
  cleanup_close int own = -1;
  if (S_ISREG (st->st_mode))
    {
      own = openat (dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (own < 0)
        return cove_error_set (err, errno, "open `%s`", path);
    }
  int fd = S_ISDIR (st->st_mode) ? dirfd_of_it : own;
  if (w->diff && ((S_ISCHR (st->st_mode) && st->st_rdev == 0)
                  || (S_ISREG (st->st_mode) && st->st_size == 0
                      && fgetxattr (fd, "user.overlay.whiteout", NULL, 0) >= 0)))
    return write_whiteout (w, path, st, err);
  struct archive_entry *e = make_entry (dfd, name, path, st, fd);
  struct archive_entry *spare = NULL;
  if (!S_ISDIR (st->st_mode) && st->st_nlink > 1)
    archive_entry_linkify (w->links, &e, &spare);
  int r = archive_write_header (w->ar, e);
  int64_t size = archive_entry_size_is_set (e) ? archive_entry_size (e) : 0;
  bool link = archive_entry_hardlink (e) != NULL;
  archive_entry_free (e);
  archive_entry_free (spare);
  if (r < ARCHIVE_WARN)
    return ar_error (w, "write archive header", err);
  if (S_ISREG (st->st_mode) && !link && size > 0
      && copy_data (w, own, (off_t) size, path, err) < 0)
    return -1;
  if (w->diff && S_ISDIR (st->st_mode)
      && (xattr_is (fd, "user.overlay.opaque", 'y')
          || xattr_is (fd, "trusted.overlay.opaque", 'y')))
    {
      cleanup_free char *opq = xasprintf ("%s/.wh..wh..opq", path);
      return write_marker (w, opq, st, err);
    }
  return 0;
}

static int
walk (struct writer *w, int dfd, const char *prefix, struct cove_error **err)
{
  size_t n = 0;
  cleanup_strv char **names = list_sorted (dfd, &n, err);
  if (names == NULL)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      struct stat st;
      cleanup_free char *path = prefix ? xasprintf ("%s/%s", prefix, names[i])
                                       : xstrdup (names[i]);
      if (fstatat (dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
        return cove_error_set (err, errno, "stat `%s`", path);
      cleanup_close int sub = -1;
      if (S_ISDIR (st.st_mode))
        {
          sub = openat (dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW
                        | O_CLOEXEC);
          if (sub < 0)
            return cove_error_set (err, errno, "open `%s`", path);
        }
      if (write_node (w, dfd, names[i], path, &st, sub, err) < 0)
        return -1;
      if (sub >= 0 && walk (w, sub, path, err) < 0)
        return -1;
    }
  return 0;
}

static int
setup (struct writer *w, enum cove_archive_format format,
       struct cove_error **err)
{
  int r = archive_write_set_format_pax_restricted (w->ar);
  if (r == ARCHIVE_OK && format == COVE_ARCHIVE_TAR_GZIP)
    {
      r = archive_write_add_filter_gzip (w->ar);
      /* No timestamp in the gzip header: reproducible bytes.  */
      if (r == ARCHIVE_OK)
        r = archive_write_set_filter_option (w->ar, "gzip", "timestamp", NULL);
    }
  else if (r == ARCHIVE_OK && format == COVE_ARCHIVE_TAR_ZSTD)
    r = archive_write_add_filter_zstd (w->ar);
  else if (r == ARCHIVE_OK)
    r = archive_write_add_filter_none (w->ar);
  /* Blocks of 64 KiB to WRITE, and no padding after the end of the tar
     (it would be garbage after a compressed stream).  */
  if (r == ARCHIVE_OK)
    r = archive_write_set_bytes_per_block (w->ar, 64 * 1024);
  if (r == ARCHIVE_OK)
    r = archive_write_set_bytes_in_last_block (w->ar, 1);
  if (r == ARCHIVE_OK)
    r = archive_write_open (w->ar, w, NULL, write_cb, NULL);
  if (r != ARCHIVE_OK)
    return ar_error (w, "start archive", err);
  archive_entry_linkresolver_set_strategy (w->links,
                                           ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
  return 0;
}

struct cove_archive_writer *
cove_archive_writer_new (enum cove_archive_format format,
                         cove_archive_write_fn write, void *ctx,
                         struct cove_error **err)
{
  struct writer *w = xmalloc (sizeof *w);
  *w = (struct writer) { .write = write, .ctx = ctx };
  w->ar = archive_write_new ();
  w->links = archive_entry_linkresolver_new ();
  if (w->ar == NULL || w->links == NULL)
    {
      cove_archive_writer_free ((struct cove_archive_writer *) w);
      cove_error_set (err, ENOMEM, "libarchive");
      return NULL;
    }
  w->buf = xmalloc (COPY_BUF_SIZE);
  if (setup (w, format, err) < 0)
    {
      cove_archive_writer_free ((struct cove_archive_writer *) w);
      return NULL;
    }
  return (struct cove_archive_writer *) w;
}

int
cove_archive_writer_add (struct cove_archive_writer *aw, int dfd,
                         const char *name, const char *path,
                         const struct stat *st, struct cove_error **err)
{
  struct writer *w = (struct writer *) aw;
  cleanup_close int sub = -1;
  if (S_ISDIR (st->st_mode))
    {
      sub = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0)
        return cove_error_set (err, errno, "open `%s`", path);
    }
  return write_node (w, dfd, name, path, st, sub, err);
}

int
cove_archive_writer_whiteout (struct cove_archive_writer *aw, const char *path,
                              struct cove_error **err)
{
  /* Owned by root, no permissions, no time: as the OCI layer spec's
     examples, and the same bytes for the same change.  */
  struct stat st = { .st_mode = S_IFREG };
  return write_whiteout ((struct writer *) aw, path, &st, err);
}

int
cove_archive_writer_finish (struct cove_archive_writer *aw,
                            struct cove_error **err)
{
  struct writer *w = (struct writer *) aw;
  if (archive_write_close (w->ar) != ARCHIVE_OK)
    return ar_error (w, "finish archive", err);
  return 0;
}

void
cove_archive_writer_free (struct cove_archive_writer *aw)
{
  struct writer *w = (struct writer *) aw;
  if (w == NULL)
    return;
  archive_write_free (w->ar);
  archive_entry_linkresolver_free (w->links);
  cove_error_free (w->write_err);
  free (w->buf);
  free (w);
}

int
cove_archive_write_tree (int dirfd, enum cove_archive_format format,
                         bool as_layer_diff, cove_archive_write_fn write,
                         void *ctx, struct cove_error **err)
{
  struct cove_archive_writer *aw = cove_archive_writer_new (format, write,
                                                            ctx, err);
  if (aw == NULL)
    return -1;
  struct writer *w = (struct writer *) aw;
  w->diff = as_layer_diff;
  int r = walk (w, dirfd, NULL, err);
  if (r == 0)
    r = cove_archive_writer_finish (aw, err);
  cove_archive_writer_free (aw);
  return r;
}
