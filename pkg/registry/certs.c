/* certs.d: per-registry CA certificates and client certificates, as
   containers-certs.d(5): HOST[:PORT]/ *.crt are CAs added to the system
   ones, NAME.cert with NAME.key a client certificate.  */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/registry/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#define CERT_FILE_MAX (1024 * 1024)
#define SYSTEM_BUNDLE_MAX (16 * 1024 * 1024)

static bool
has_suffix (const char *s, const char *suffix)
{
  size_t n = strlen (s), m = strlen (suffix);
  return n > m && strcmp (s + n - m, suffix) == 0;
}

static void
append (char **buf, size_t *len, const char *data, size_t n)
{
  *buf = xrealloc (*buf, *len + n + 2);
  memcpy (*buf + *len, data, n);
  *len += n;
  (*buf)[(*len)++] = '\n';    /* a file without a final newline */
  (*buf)[*len] = '\0';
}

/* Add the *.crt and the first NAME.cert/NAME.key pair of DIR.  */
static int
load_dir (struct cove_registry_client *c, const char *dir, char **cas,
          size_t *cas_len, struct cove_error **err)
{
  cleanup_dir DIR *d = opendir (dir);
  if (d == NULL)
    return errno == ENOENT || errno == ENOTDIR || errno == EACCES ? 0
      : cove_error_set (err, errno, "open `%s`", dir);
  struct dirent *de;
  while ((de = readdir (d)))
    {
      cleanup_free char *path = xasprintf ("%s/%s", dir, de->d_name);
      if (has_suffix (de->d_name, ".crt"))
        {
          size_t n = 0;
          cleanup_free char *pem = cove_file_read_at (AT_FDCWD, path, CERT_FILE_MAX, &n, err);
          if (pem == NULL)
            return cove_error_wrap (err, "reading certificates of %s", c->registry);
          append (cas, cas_len, pem, n);
        }
      else if (has_suffix (de->d_name, ".cert") && c->client_cert == NULL)
        {
          size_t base = strlen (path) - strlen (".cert");
          cleanup_free char *key = xasprintf ("%.*s.key", (int) base, path);
          if (access (key, R_OK) < 0)
            return cove_error_set (err, ENOENT, "missing key %s for client certificate %s",
                                   key, path);
          c->client_cert = steal_pointer (&path);
          c->client_key = steal_pointer (&key);
        }
    }
  return 0;
}

/* The system CA bundle libcurl would use (CURLOPT_CAINFO_BLOB replaces it,
   and certs.d adds to it, as in podman).  */
static void
system_bundle (CURL *easy, char **buf, size_t *len)
{
  char *path = NULL;
  if (curl_easy_getinfo (easy, CURLINFO_CAINFO, &path) != CURLE_OK || path == NULL)
    path = "/etc/ssl/certs/ca-certificates.crt";
  size_t n = 0;
  cleanup_free char *pem = cove_file_read_at (AT_FDCWD, path, SYSTEM_BUNDLE_MAX, &n, NULL);
  if (pem)
    append (buf, len, pem, n);
}

int
registry_load_certs (struct cove_registry_client *c, const char *const *dirs,
                     const char *cert_dir, struct cove_error **err)
{
  const char *home = getenv ("HOME");
  cleanup_free char *user_dir = home ? xasprintf ("%s/.config/containers/certs.d", home) : NULL;
  const char *defaults[] = { user_dir ? user_dir : "/nonexistent",
                             "/etc/containers/certs.d", "/etc/docker/certs.d",
                             NULL };
  if (dirs == NULL)
    dirs = defaults;
  cleanup_free char *cas = NULL;
  size_t cas_len = 0;
  if (cert_dir && load_dir (c, cert_dir, &cas, &cas_len, err) < 0)
    return -1;
  for (size_t i = 0; cert_dir == NULL && dirs[i]; i++)
    {
      cleanup_free char *dir = xasprintf ("%s/%s", dirs[i], c->registry);
      if (load_dir (c, dir, &cas, &cas_len, err) < 0)
        return -1;
    }
  if (cas == NULL)
    return 0;
  char *bundle = NULL;
  size_t len = 0;
  system_bundle (c->easy, &bundle, &len);
  append (&bundle, &len, cas, cas_len);
  c->ca_blob = bundle;
  c->ca_len = len;
  return 0;
}
