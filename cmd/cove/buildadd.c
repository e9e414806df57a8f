/* cove build: what ADD and COPY take from elsewhere than the plain copy
   of the context's files, with docker's rules:
   - ADD of a local tar archive (recognised by its content: plain, gzip,
     bzip2, xz or zstd, as docker) unpacks it into the destination;
   - ADD of an http(s) URL downloads the file (mode 0600, mtime from
     Last-Modified, never unpacked, --checksum verified);
   - a heredoc source (`COPY <<EOF /dest`) becomes a file named after its
     delimiter.

   An archive may come from anyone, whatever context holds it: it is
   unpacked by pkg/archive's layer reader (every path kept inside the
   directory, symlinks of the archive never followed, no device node a
   rootless user cannot make) into a scratch directory, then copied like
   COPY's files.  A URL's bytes (untrusted too) go to an unlinked
   temporary file, never into memory whole.  */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>

#include "cmd/cove/build.h"
#include "cmd/cove/cptree.h"
#include "pkg/archive/archive.h"
#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

/* ---- local archives ---- */

/* A reader of FD's bytes with every decompression docker knows.  */
static struct archive *
decompressor (int fd, bool raw)
{
  struct archive *ar = archive_read_new ();
  if (ar == NULL)
    return NULL;
  archive_read_support_filter_gzip (ar);
  archive_read_support_filter_bzip2 (ar);
  archive_read_support_filter_xz (ar);
  archive_read_support_filter_zstd (ar);
  archive_read_support_filter_none (ar);
  if (raw)
    archive_read_support_format_raw (ar);
  else
    archive_read_support_format_tar (ar);
  struct archive_entry *e;
  int r = archive_read_open_fd (ar, fd, 65536);
  if (r == ARCHIVE_OK)
    r = archive_read_next_header (ar, &e);
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
    {
      archive_read_free (ar);
      return NULL;
    }
  return ar;
}

int
build_add_is_archive (int fd)
{
  struct stat st;
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    return 0;
  /* FD may be O_PATH: read through a new open file, from offset 0.  */
  cleanup_close int in = cove_cp_reopen (fd, O_RDONLY, NULL);
  if (in < 0)
    return 0;
  /* As docker's isArchivePath: the first tar header reads.  An empty tar
     (only its end blocks) is no archive: it is copied.  */
  struct archive *ar = decompressor (in, false);
  if (ar == NULL)
    return 0;
  archive_read_free (ar);
  return 1;
}

/* cove_archive_apply's source: the decompressed bytes.  */
static ssize_t
unpack_read (void *ctx, const void **out_buf, struct cove_error **err)
{
  struct archive *ar = ctx;
  for (;;)
    {
      size_t len;
      la_int64_t off;
      int r = archive_read_data_block (ar, out_buf, &len, &off);
      if (r == ARCHIVE_EOF)
        return 0;
      if (r < ARCHIVE_WARN)
        {
          const char *why = archive_error_string (ar);
          return cove_error_set (err, EIO, "decompress: %s",
                                 why ? why : "unknown error");
        }
      if (len > 0)
        return (ssize_t) len;
    }
}

/* Unpack the archive FD into the new directory TMP, then copy its
   content into DDIR with owner O.  */
static int
unpack_via (int fd, const char *tmp, int ddir, const struct cove_cp_owner *o,
            struct cove_error **err)
{
  cleanup_close int tfd = open (tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tfd < 0)
    return cove_error_set (err, errno, "open `%s`", tmp);
  struct archive *ar = decompressor (fd, true);
  if (ar == NULL)
    return cove_error_set (err, EIO, "decompress: not readable");
  /* The layer reader's rules are the ones wanted here: paths cleaned and
     kept beneath TFD, the archive's own uids (as mapped in the user
     namespace), devices skipped with a warning.  */
  int r = cove_archive_apply (tfd, unpack_read, ar, NULL, err);
  archive_read_free (ar);
  if (r == 0)
    r = cove_cp_children (tfd, ddir, o, err);
  return r;
}

int
build_add_unpack (int sdir, const char *name, int ddir,
                  const struct cove_cp_owner *o, const char *scratch,
                  struct cove_error **err)
{
  cleanup_close int fd = openat (sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno, "open `%s`", name);
  if (!build_add_is_archive (fd))
    return 0;
  /* The archive's warnings (skipped device nodes) go to stderr: after
     the STEP line, not before it.  */
  fflush (stdout);
  cleanup_free char *tmp = xasprintf ("%s/unpack-XXXXXX", scratch);
  if (mkdtemp (tmp) == NULL)
    return cove_error_set (err, errno, "mkdtemp `%s`", tmp);
  int r = unpack_via (fd, tmp, ddir, o, err);
  (void) cove_rm_rf (tmp, NULL);
  return r < 0 ? -1 : 1;
}

/* ---- files made here: heredocs, downloads ---- */

/* An unlinked file in the store's directory (not memory: a download may
   be large; not /tmp: it may be small).  */
static int
tmp_file (struct build *b, struct cove_error **err)
{
  int fd = open (b->paths.data_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0)
    return fd;
  cleanup_free char *path = xasprintf ("%s/add-XXXXXX", b->paths.data_dir);
  fd = mkostemp (path, O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno, "create a file in `%s`",
                           b->paths.data_dir);
  unlink (path);
  return fd;
}

static void
file_clear (struct build_add_file *f)
{
  free (f->name);
  free (f->digest);
  if (f->fd >= 0)
    close (f->fd);
}

void
build_add_sources_clear (struct build_add_sources *s)
{
  cove_strv_free (s->local);
  for (size_t i = 0; i < s->n_files; i++)
    file_clear (&s->files[i]);
  free (s->files);
  memset (s, 0, sizeof *s);
}

/* The length of the variable reference at P ($NAME or ${...}), 0 when P
   starts none.  */
static size_t
var_len (const char *p)
{
  if (p[0] != '$')
    return 0;
  if (p[1] == '{')
    {
      int depth = 0;
      for (size_t i = 1; p[i]; i++)
        if (p[i] == '{')
          depth++;
        else if (p[i] == '}' && --depth == 0)
          return i + 1;
      return 0;
    }
  size_t i = 1;
  while (p[i] == '_' || (p[i] >= 'a' && p[i] <= 'z')
         || (p[i] >= 'A' && p[i] <= 'Z') || (i > 1 && p[i] >= '0' && p[i] <= '9'))
    i++;
  return i > 1 ? i : 0;
}

/* BODY with its variables expanded and everything else (quotes, escapes)
   as written, as buildkit expands a COPY heredoc (its lexer's RawQuotes
   and RawEscapes): an escaped `$` stays, with its escape.  */
static char *
expand_body (const char *body, struct cove_build_vars *vars, char escape,
             struct cove_error **err)
{
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&out, &len);
  if (f == NULL)
    {
      cove_error_set (err, errno, "open_memstream");
      return NULL;
    }
  int r = 0;
  for (const char *p = body; r == 0 && *p;)
    {
      size_t n = var_len (p);
      if (*p == escape && p[1] != '\0')
        {
          fwrite (p, 1, 2, f);
          p += 2;
        }
      else if (n == 0)
        fputc (*p++, f);
      else
        {
          cleanup_free char *word = xstrndup (p, n);
          cleanup_free char *v = NULL;
          r = cove_build_expand (word, cove_build_vars_lookup, vars, escape,
                                 &v, err);
          if (r == 0)
            fputs (v, f);
          p += n;
        }
    }
  fclose (f);
  if (r < 0)
    {
      free (out);
      return NULL;
    }
  return out;
}

/* Write LEN bytes of DATA to a new temporary file as *OUT's content.  */
static int
file_from_data (struct build *b, const char *data, size_t len,
                struct build_add_file *out, struct cove_error **err)
{
  out->fd = tmp_file (b, err);
  if (out->fd < 0 || cove_write_all (out->fd, data, len, err) < 0)
    return -1;
  struct cove_oci_hasher *h = cove_oci_hasher_new ();
  cove_oci_hasher_update (h, data, len);
  out->digest = cove_oci_hasher_finish (h);
  return 0;
}

/* The heredoc H of a COPY/ADD: a file of mode 0644 named after it.  */
static int
heredoc_file (struct build *b, const struct cove_build_heredoc *h,
              struct cove_build_vars *vars, struct build_add_file *out,
              struct cove_error **err)
{
  if (h->name[0] == '\0' || strchr (h->name, '/') != NULL
      || strcmp (h->name, ".") == 0 || strcmp (h->name, "..") == 0)
    return cove_error_set_plain (err, EINVAL, "heredoc `%s`: not a file "
                                 "name", h->name);
  cleanup_free char *body = h->expand
    ? expand_body (h->body, vars, b->file->escape, err) : xstrdup (h->body);
  if (body == NULL)
    return -1;
  out->name = xstrdup (h->name);
  out->mode = 0644;
  out->mtime = (struct timespec) { .tv_nsec = UTIME_NOW };
  return file_from_data (b, body, strlen (body), out, err);
}

/* ---- downloads ---- */

char *
build_add_url_name (const char *url)
{
  /* The path's last element, as buildkit's path.Base(u.Path): without
     the query or fragment, percent-decoded, trailing slashes dropped.  */
  const char *p = strstr (url, "://");
  p = p ? p + 3 : url;
  p += strcspn (p, "/?#");
  size_t n = *p == '/' ? strcspn (p, "?#") : 0;
  cleanup_free char *path = xmalloc (n + 1);
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    {
      unsigned int c = 0;
      /* %00 stays as written: a name has no NUL.  */
      if (p[i] == '%' && i + 2 < n && isxdigit ((unsigned char) p[i + 1])
          && isxdigit ((unsigned char) p[i + 2])
          && sscanf (p + i + 1, "%2x", &c) == 1 && c != 0)
        {
          path[len++] = (char) c;
          i += 2;
        }
      else
        path[len++] = p[i];
    }
  path[len] = '\0';
  while (len > 0 && path[len - 1] == '/')
    path[--len] = '\0';
  const char *base = strrchr (path, '/') ? strrchr (path, '/') + 1 : path;
  if (*base == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
    return xstrdup ("__unnamed__");   /* buildkit's name for "no name" */
  return xstrdup (base);
}

struct fetch
{
  int fd;
  struct cove_oci_hasher *h;
  struct cove_error *werr;
  char status[96];          /* the last status line's code and reason */
};

static size_t
on_data (char *p, size_t size, size_t n, void *ctx)
{
  struct fetch *f = ctx;
  if (cove_write_all (f->fd, p, size * n, &f->werr) < 0)
    return 0;             /* curl stops: CURLE_WRITE_ERROR */
  cove_oci_hasher_update (f->h, p, size * n);
  return size * n;
}

static size_t
on_header (char *p, size_t size, size_t n, void *ctx)
{
  struct fetch *f = ctx;
  size_t len = size * n;
  const char *sp = len > 5 && memcmp (p, "HTTP/", 5) == 0
    ? memchr (p, ' ', len) : NULL;
  if (sp == NULL)
    return len;
  size_t k = len - (size_t) (sp + 1 - p);
  k = k < sizeof f->status ? k : sizeof f->status - 1;
  memcpy (f->status, sp + 1, k);
  f->status[k] = '\0';
  /* The server's words, for a message: printable only.  */
  for (size_t i = 0; i < k; i++)
    if ((unsigned char) f->status[i] < 0x20 || f->status[i] == 0x7f)
      f->status[i] = i + 2 >= k ? '\0' : '?';
  return len;
}

static void
setup_easy (CURL *e, const char *url, struct fetch *f, char *errbuf)
{
  curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (e, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (e, CURLOPT_URL, url);
  /* http(s) only, redirects included (never file:// or others); TLS
     verified against the system's CAs; proxies from the environment, as
     libcurl does by default.  */
  curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (e, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt (e, CURLOPT_USERAGENT, "cove/" COVE_VERSION);
  curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt (e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (e, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt (e, CURLOPT_FILETIME, 1L);
  curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt (e, CURLOPT_WRITEDATA, f);
  curl_easy_setopt (e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (e, CURLOPT_HEADERDATA, f);
}

/* GET URL into F; *OUT_MTIME its Last-Modified (-1: none).  */
static int
fetch (const char *url, struct fetch *f, curl_off_t *out_mtime,
       struct cove_error **err)
{
  CURL *e = curl_easy_init ();
  if (e == NULL)
    return cove_error_set (err, ENOMEM, "curl_easy_init");
  char errbuf[CURL_ERROR_SIZE] = "";
  setup_easy (e, url, f, errbuf);
  CURLcode code = curl_easy_perform (e);
  long status = 0;
  curl_easy_getinfo (e, CURLINFO_RESPONSE_CODE, &status);
  *out_mtime = -1;
  curl_easy_getinfo (e, CURLINFO_FILETIME_T, out_mtime);
  curl_easy_cleanup (e);
  if (f->werr != NULL)
    {
      *err = steal_pointer (&f->werr);
      return cove_error_wrap (err, "download `%s`", url);
    }
  if (code != CURLE_OK)
    return cove_error_set_plain (err, EIO, "download `%s`: %s", url,
                                 errbuf[0] ? errbuf : curl_easy_strerror (code));
  if (status < 200 || status > 299)
    {
      char num[24];
      snprintf (num, sizeof num, "%ld", status);
      return cove_error_set_plain (err, EIO, "download `%s`: HTTP status %s",
                                   url, f->status[0] ? f->status : num);
    }
  return 0;
}

/* ADD's URL: downloaded, checked against CHECKSUM (may be NULL).  */
static int
url_file (struct build *b, const char *url, const char *checksum,
          struct build_add_file *out, struct cove_error **err)
{
  out->name = build_add_url_name (url);
  out->mode = 0600;
  out->fd = tmp_file (b, err);
  if (out->fd < 0)
    return -1;
  struct fetch f = { .fd = out->fd, .h = cove_oci_hasher_new () };
  curl_off_t mtime;
  int r = fetch (url, &f, &mtime, err);
  out->digest = cove_oci_hasher_finish (f.h);
  if (r < 0)
    return -1;
  out->mtime = mtime >= 0 ? (struct timespec) { .tv_sec = (time_t) mtime }
                          : (struct timespec) { .tv_nsec = UTIME_NOW };
  if (checksum != NULL && strcasecmp (checksum, out->digest) != 0)
    return cove_error_set_plain (err, EINVAL, "download `%s`: checksum "
                                 "mismatch: expected %s, got %s", url,
                                 checksum, out->digest);
  return 0;
}

static bool
is_url (const char *s)
{
  return strncmp (s, "http://", 7) == 0 || strncmp (s, "https://", 8) == 0;
}

/* --checksum: one http(s) source, and a sha256 digest.  */
static int
check_checksum (const struct cove_build_instr *in, char *const *words,
                const char **out, struct cove_error **err)
{
  *out = cove_build_instr_flag (in, "checksum");
  if (*out == NULL)
    return 0;
  if (words[0] == NULL || words[1] != NULL || !is_url (words[0]))
    return cove_error_set_plain (err, EINVAL, "--checksum needs exactly one "
                                 "source, an http(s) URL");
  const char *hex = strncmp (*out, "sha256:", 7) == 0 ? *out + 7 : "";
  if (strlen (hex) != 64 || strspn (hex, "0123456789abcdefABCDEF") != 64)
    return cove_error_set_plain (err, EINVAL, "--checksum=%s: not a "
                                 "sha256:<64 hex digits> digest", *out);
  return 0;
}

int
build_add_sources (struct build *b, const struct cove_build_instr *in,
                   char *const *words, struct cove_build_vars *vars,
                   struct build_add_sources *out, struct cove_error **err)
{
  memset (out, 0, sizeof *out);
  out->local = xmalloc0 (sizeof *out->local);
  bool add = in->kind == COVE_BUILD_ADD;
  const char *checksum = NULL;
  if (add && check_checksum (in, words, &checksum, err) < 0)
    return -1;
  for (size_t i = 0; words[i]; i++)
    {
      const struct cove_build_heredoc *h = in->json_form ? NULL
        : cove_build_instr_heredoc (in, in->args[i]);
      if (h == NULL && !is_url (words[i]))
        {
          if (add && strstr (words[i], "://") != NULL)
            return cove_error_set_plain (err, ENOTSUP, "ADD `%s`: only "
                                         "http and https URLs are "
                                         "supported", words[i]);
          cove_strv_append (&out->local, words[i]);
          continue;
        }
      if (h == NULL && !add)
        return cove_error_set_plain (err, EINVAL, "source can't be a URL "
                                     "for COPY: `%s`", words[i]);
      out->files = xrealloc (out->files, (out->n_files + 1) * sizeof *out->files);
      struct build_add_file *f = &out->files[out->n_files++];
      *f = (struct build_add_file) { .fd = -1 };
      if ((h ? heredoc_file (b, h, vars, f, err)
             : url_file (b, words[i], checksum, f, err)) < 0)
        return -1;
    }
  return 0;
}

char *
build_add_files_key (const struct build_add_file *f, size_t n)
{
  char *key = xstrdup ("");
  for (size_t i = 0; i < n; i++)
    {
      long long mtime = f[i].mtime.tv_nsec == UTIME_NOW
        ? -1 : (long long) f[i].mtime.tv_sec;
      char *k = xasprintf ("%s%s %s %o %lld\n", key, f[i].name, f[i].digest,
                           (unsigned) f[i].mode, mtime);
      free (key);
      key = k;
    }
  return key;
}

/* ---- writing them ---- */

static int
copy_content (int in, int out, struct cove_error **err)
{
  char buf[65536];
  off_t off = 0;
  for (;;)
    {
      ssize_t n = pread (in, buf, sizeof buf, off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return cove_error_set (err, errno, "read");
      if (n == 0)
        return 0;
      if (cove_write_all (out, buf, (size_t) n, err) < 0)
        return -1;
      off += n;
    }
}

static int
put_file (int ddir, const char *name, const struct build_add_file *f,
          const struct cove_cp_owner *o, mode_t chmod, struct cove_error **err)
{
  if (unlinkat (ddir, name, 0) < 0 && errno != ENOENT)
    return cove_error_set (err, errno, "replace `%s`", name);
  cleanup_close int out = openat (ddir, name, O_WRONLY | O_CREAT | O_EXCL
                                  | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return cove_error_set (err, errno, "create `%s`", name);
  if (copy_content (f->fd, out, err) < 0)
    return cove_error_wrap (err, "write `%s`", name);
  struct timespec times[2] = { f->mtime, f->mtime };
  /* The owner first: chown clears setuid bits that a --chmod may set.  */
  if (fchown (out, o->uid, o->gid) < 0 || fchmod (out, chmod ? chmod : f->mode) < 0
      || futimens (out, times) < 0)
    return cove_error_set (err, errno, "set the metadata of `%s`", name);
  return 0;
}

int
build_add_put (int ddir, const char *name, const struct build_add_file *f,
               const struct cove_cp_owner *o, mode_t chmod,
               struct cove_error **err)
{
  /* NAME an existing directory: the file goes into it, by its own name
     (as buildkit).  */
  cleanup_close int sub = openat (ddir, name, O_RDONLY | O_DIRECTORY
                                  | O_NOFOLLOW | O_CLOEXEC);
  if (sub >= 0)
    return put_file (sub, f->name, f, o, chmod, err);
  return put_file (ddir, name, f, o, chmod, err);
}
