/* The registry client: connection setup, ping and scheme choice,
   sequential requests (manifests, small blobs) with bounded bodies.
   Authentication is in auth.c, parallel blobs in fetch.c.  */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pkg/oci/oci.h"
#include "pkg/registry/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

struct response
{
  long status;
  char *body;
  size_t len, cap, max;
  bool overflow;
  char *content_type;
  char *www_auth;
};

static void
response_reset (struct response *r)
{
  free (r->body);
  free (r->content_type);
  free (r->www_auth);
  size_t max = r->max;
  memset (r, 0, sizeof *r);
  r->max = max;
}

static size_t
on_body (char *data, size_t size, size_t nmemb, void *userdata)
{
  struct response *r = userdata;
  size_t len = size * nmemb;
  /* Untrusted length: stop the transfer at the bound instead of buffering
     whatever the registry sends.  */
  if (len > r->max - r->len)
    {
      r->overflow = true;
      return 0;
    }
  if (r->len + len + 1 > r->cap)
    {
      size_t cap = r->cap ? r->cap : 16384;
      while (cap < r->len + len + 1)
        cap *= 2;
      r->body = xrealloc (r->body, cap);
      r->cap = cap;
    }
  memcpy (r->body + r->len, data, len);
  r->len += len;
  r->body[r->len] = '\0';
  return len;
}

char *
registry_header_value (const char *line, size_t len, const char *name)
{
  size_t n = strlen (name);
  if (len <= n || strncasecmp (line, name, n) != 0 || line[n] != ':')
    return NULL;
  const char *v = line + n + 1, *end = line + len;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
    end--;
  return xstrndup (v, end - v);
}

static size_t
on_header (char *data, size_t size, size_t nmemb, void *userdata)
{
  struct response *r = userdata;
  size_t len = size * nmemb;
  char *v;
  if (len >= 5 && strncmp (data, "HTTP/", 5) == 0)
    {
      /* A new response (after a redirect): forget the last one's.  */
      free (r->content_type);
      free (r->www_auth);
      r->content_type = r->www_auth = NULL;
    }
  else if ((v = registry_header_value (data, len, "Content-Type")))
    {
      free (r->content_type);
      r->content_type = v;
    }
  else if ((v = registry_header_value (data, len, "WWW-Authenticate")))
    {
      if (r->www_auth == NULL)
        r->www_auth = v;    /* the first challenge is the one followed */
      else
        free (v);
    }
  return len;
}

int
registry_curl_errno (CURLcode code)
{
  switch (code)
    {
    case CURLE_COULDNT_CONNECT:
      return ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return EHOSTUNREACH;
    case CURLE_OPERATION_TIMEDOUT:
      return ETIMEDOUT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
      return EPROTO;
    case CURLE_FILESIZE_EXCEEDED:
      return EFBIG;
    case CURLE_TOO_MANY_REDIRECTS:
      return ELOOP;
    default:
      return EIO;
    }
}

void
registry_setup_easy (struct cove_registry_client *c, CURL *e, char *errbuf)
{
  curl_easy_setopt (e, CURLOPT_SHARE, c->share);
  curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (e, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
  /* Blobs redirect to storage (S3...).  curl drops the Authorization
     header when the host or port changes (CURLOPT_UNRESTRICTED_AUTH stays
     0); a plain-http redirect is followed only for an insecure registry. */
  curl_easy_setopt (e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (e, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt (e, CURLOPT_REDIR_PROTOCOLS_STR,
                    c->allow_http ? "http,https" : "https");
  curl_easy_setopt (e, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt (e, CURLOPT_USERAGENT, "cove/" COVE_VERSION);
  curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT, 30L);
  /* A registry that stops sending for a minute is given up on (a paused
     transfer is not counted as slow by curl).  */
  curl_easy_setopt (e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (e, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt (e, CURLOPT_SSL_VERIFYPEER, c->verify ? 1L : 0L);
  curl_easy_setopt (e, CURLOPT_SSL_VERIFYHOST, c->verify ? 2L : 0L);
  if (c->ca_blob)
    {
      struct curl_blob blob = { .data = c->ca_blob, .len = c->ca_len,
                                .flags = CURL_BLOB_NOCOPY };
      curl_easy_setopt (e, CURLOPT_CAINFO_BLOB, &blob);
    }
  if (c->client_cert)
    {
      curl_easy_setopt (e, CURLOPT_SSLCERT, c->client_cert);
      curl_easy_setopt (e, CURLOPT_SSLKEY, c->client_key);
    }
}

/* One GET of URL with ACCEPT (may be NULL) and C's credentials for REPO;
   the body is bounded by R->max.  Transport failures set *ERR.  */
static int
perform (struct cove_registry_client *c, const char *url, const char *accept,
         const char *auth, struct response *r, struct cove_error **err)
{
  char errbuf[CURL_ERROR_SIZE] = "";
  CURL *e = c->easy;
  curl_easy_reset (e);
  registry_setup_easy (c, e, errbuf);
  cleanup_free char *accept_hdr = accept ? xasprintf ("Accept: %s", accept) : NULL;
  struct curl_slist *headers = NULL;
  if (accept_hdr)
    headers = curl_slist_append (headers, accept_hdr);
  if (auth)
    headers = curl_slist_append (headers, auth);
  curl_easy_setopt (e, CURLOPT_URL, url);
  curl_easy_setopt (e, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (e, CURLOPT_WRITEDATA, r);
  curl_easy_setopt (e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (e, CURLOPT_HEADERDATA, r);
  CURLcode code = curl_easy_perform (e);
  curl_easy_getinfo (e, CURLINFO_RESPONSE_CODE, &r->status);
  curl_easy_setopt (e, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all (headers);
  if (code == CURLE_OK)
    return 0;
  if (r->overflow || code == CURLE_FILESIZE_EXCEEDED)
    return cove_error_set (err, EFBIG, "%s: body larger than %zu bytes", url, r->max);
  return cove_error_set (err, registry_curl_errno (code), "%s: %s", url,
                         errbuf[0] ? errbuf : curl_easy_strerror (code));
}

static int
ping_scheme (struct cove_registry_client *c, const char *scheme,
             struct cove_error **err)
{
  cleanup_free char *url = cove_registry_url (scheme, c->registry, NULL, NULL, NULL);
  struct response r = { .max = REGISTRY_ERROR_BODY_MAX };
  free (c->scheme);
  c->scheme = xstrdup (scheme);   /* for the redirect policy */
  int ret = perform (c, url, NULL, NULL, &r, err);
  if (ret == 0 && r.status != 200 && r.status != 401)
    ret = cove_error_set (err, EIO, "%s: unexpected status %ld", url, r.status);
  if (ret == 0 && r.status == 401 && r.www_auth)
    {
      cove_registry_challenge_free (&c->challenge);
      if (cove_registry_challenge_parse (r.www_auth, &c->challenge, err) < 0)
        ret = -1;
    }
  response_reset (&r);
  if (ret < 0)
    {
      free (c->scheme);
      c->scheme = NULL;
    }
  return ret;
}

int
cove_registry_ping (struct cove_registry_client *c, struct cove_error **err)
{
  if (c->scheme)
    return 0;
  cleanup_error struct cove_error *https_err = NULL;
  if (ping_scheme (c, "https", &https_err) == 0)
    return 0;
  /* As podman: an insecure registry may speak plain http.  */
  if (c->allow_http && ping_scheme (c, "http", NULL) == 0)
    return 0;
  cove_error_set (err, https_err->errnum, "%s", https_err->msg);
  return cove_error_wrap (err, "pinging container registry %s", c->registry);
}

const char *
cove_registry_scheme (const struct cove_registry_client *c)
{
  return c->scheme;
}

char *
registry_error_message (const char *body, size_t len)
{
  if (body == NULL)
    return NULL;
  /* Untrusted: {"errors":[{"code":..,"message":..}]}; anything else is
     ignored.  */
  json_t *doc = json_loadb (body, len, 0, NULL);
  json_t *e0 = json_array_get (json_object_get (doc, "errors"), 0);
  const char *msg = json_string_value (json_object_get (e0, "message"));
  if (msg == NULL || msg[0] == '\0')
    msg = json_string_value (json_object_get (e0, "code"));
  char *out = msg ? registry_sanitize (msg, 200) : NULL;
  json_decref (doc);
  return out;
}

/* GET URL for REPO, authenticating on a 401 and retrying once.  */
static int
request (struct cove_registry_client *c, const char *repo, const char *url,
         const char *accept, struct response *r, struct cove_error **err)
{
  if (cove_registry_ping (c, err) < 0 || registry_prepare_auth (c, repo, err) < 0)
    return -1;
  for (int attempt = 0;; attempt++)
    {
      if (perform (c, url, accept, registry_auth_header (c, repo), r, err) < 0)
        return -1;
      if (r->status != 401 || attempt > 0)
        return 0;
      int again = registry_authenticate (c, repo, r->www_auth, err);
      if (again < 0)
        return -1;
      if (again == 0)
        return 0;
      response_reset (r);
    }
}

/* The error of a non-2xx answer R to "WHAT".  */
static int
status_error (const struct response *r, const char *what,
              struct cove_error **err)
{
  cleanup_free char *msg = r->status >= 400 && r->status < 600
    ? registry_error_message (r->body, r->len) : NULL;
  int errnum = EIO;
  if (r->status == 404)
    errnum = ENOENT;
  else if (r->status == 401 || r->status == 403)
    errnum = EACCES;
  if (msg == NULL)
    msg = r->status == 404 ? xstrdup ("manifest unknown")
      : r->status == 401 ? xstrdup ("authentication required")
      : xasprintf ("unexpected status %ld", r->status);
  if (r->status == 404 && strstr (what, "blob"))
    {
      free (msg);
      msg = xstrdup ("blob unknown");
    }
  return cove_error_set (err, errnum, "%s: %s", what, msg);
}

static const char manifest_accept[] =
  COVE_OCI_MT_MANIFEST ", " COVE_OCI_MT_INDEX ", "
  COVE_DOCKER_MT_MANIFEST ", " COVE_DOCKER_MT_LIST;

/* Move R's body into OUT, checking it against EXPECTED (may be NULL).  */
static int
take_document (struct response *r, const char *expected,
               struct cove_registry_document *out, const char *what,
               struct cove_error **err)
{
  cleanup_free char *digest = cove_oci_digest_buffer (r->body ? r->body : "", r->len);
  if (expected && strcmp (digest, expected) != 0)
    return cove_error_set (err, EBADMSG, "%s: digest mismatch: expected %s, got %s",
                           what, expected, digest);
  out->data = r->body ? r->body : xstrdup ("");
  out->len = r->len;
  out->media_type = r->content_type;
  out->digest = steal_pointer (&digest);
  r->body = r->content_type = NULL;
  return 0;
}

int
cove_registry_manifest_get (struct cove_registry_client *c, const char *repo,
                            const char *reference,
                            struct cove_registry_document *out,
                            struct cove_error **err)
{
  cleanup_free char *what = xasprintf ("reading manifest %s in %s/%s",
                                       reference, c->registry, repo);
  if (cove_registry_ping (c, err) < 0)
    return -1;
  cleanup_free char *url = cove_registry_url (c->scheme, c->registry, repo,
                                              "manifests", reference);
  struct response r = { .max = COVE_OCI_DOCUMENT_MAX };
  int ret = request (c, repo, url, manifest_accept, &r, err);
  if (ret == 0 && r.status / 100 != 2)
    ret = status_error (&r, what, err);
  else if (ret < 0)
    cove_error_wrap (err, "%s", what);
  if (ret == 0)
    {
      json_t *doc = json_loadb (r.body ? r.body : "", r.len, 0, NULL);
      if (doc == NULL || !json_is_object (doc))
        ret = cove_error_set (err, EINVAL, "%s: the answer is not a JSON document", what);
      json_decref (doc);
    }
  const char *expected = strncmp (reference, "sha256:", 7) == 0 ? reference : NULL;
  if (ret == 0)
    ret = take_document (&r, expected, out, what, err);
  response_reset (&r);
  return ret;
}

int
cove_registry_blob_get (struct cove_registry_client *c, const char *repo,
                        const char *digest, size_t max,
                        struct cove_registry_document *out,
                        struct cove_error **err)
{
  cleanup_free char *what = xasprintf ("reading blob %s", digest);
  if (cove_registry_ping (c, err) < 0)
    return -1;
  cleanup_free char *url = cove_registry_url (c->scheme, c->registry, repo,
                                              "blobs", digest);
  struct response r = { .max = max };
  int ret = request (c, repo, url, NULL, &r, err);
  if (ret == 0 && r.status / 100 != 2)
    ret = status_error (&r, what, err);
  else if (ret < 0)
    cove_error_wrap (err, "%s", what);
  if (ret == 0)
    ret = take_document (&r, digest, out, what, err);
  response_reset (&r);
  return ret;
}

void
cove_registry_document_free (struct cove_registry_document *d)
{
  if (d == NULL)
    return;
  free (d->data);
  free (d->media_type);
  free (d->digest);
  memset (d, 0, sizeof *d);
}

/* Fetch a token: GET URL with BASIC (may be NULL), bounded.  */
int
registry_token_get (struct cove_registry_client *c, const char *url,
                    const char *basic, char **out_token,
                    struct cove_error **err)
{
  struct response r = { .max = REGISTRY_TOKEN_MAX };
  int ret = perform (c, url, NULL, basic, &r, err);
  if (ret == 0 && r.status / 100 != 2)
    ret = cove_error_set (err, r.status == 401 || r.status == 403 ? EACCES : EIO,
                          "requesting bearer token: %s",
                          r.status == 401 ? "invalid username/password"
                          : "unexpected status");
  json_t *doc = ret == 0 ? json_loadb (r.body ? r.body : "", r.len, 0, NULL) : NULL;
  const char *tok = json_string_value (json_object_get (doc, "token"));
  if (tok == NULL || tok[0] == '\0')
    tok = json_string_value (json_object_get (doc, "access_token"));
  if (ret == 0 && (tok == NULL || tok[0] == '\0'))
    ret = cove_error_set (err, EIO, "requesting bearer token: no token in the answer");
  /* The token goes into a header: refuse anything that could end it.  */
  for (const char *p = tok; ret == 0 && *p; p++)
    if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f)
      ret = cove_error_set (err, EIO, "requesting bearer token: invalid token");
  if (ret == 0)
    *out_token = xstrdup (tok);
  json_decref (doc);
  response_reset (&r);
  return ret;
}

int
cove_registry_client_new (const char *registry,
                          const struct cove_registry_options *opts,
                          struct cove_registry_client **out,
                          struct cove_error **err)
{
  if (registry[0] == '\0' || strpbrk (registry, "/@?# \t\r\n") != NULL)
    return cove_error_set (err, EINVAL, "invalid registry name `%s`", registry);
  struct cove_registry_client *c = xmalloc0 (sizeof *c);
  c->registry = xstrdup (registry);
  c->verify = opts->tls_verify == 1 || (opts->tls_verify == -1 && !opts->insecure);
  c->allow_http = !c->verify;
  if (opts->username)
    {
      c->user = xstrdup (opts->username);
      c->password = xstrdup (opts->password ? opts->password : "");
      c->creds_known = true;
    }
  c->auth_lookup = opts->auth_lookup;
  c->auth_ctx = opts->auth_ctx;
  c->easy = curl_easy_init ();
  c->share = curl_share_init ();
  if (c->easy == NULL || c->share == NULL)
    {
      cove_registry_client_free (c);
      return cove_error_set (err, ENOMEM, "initializing libcurl");
    }
  curl_share_setopt (c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  curl_share_setopt (c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt (c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  if (registry_load_certs (c, opts->certs_dirs, opts->cert_dir, err) < 0)
    {
      cove_registry_client_free (c);
      return -1;
    }
  *out = c;
  return 0;
}

void
cove_registry_client_free (struct cove_registry_client *c)
{
  if (c == NULL)
    return;
  if (c->easy)
    curl_easy_cleanup (c->easy);
  if (c->share)
    curl_share_cleanup (c->share);
  for (size_t i = 0; i < c->n_tokens; i++)
    {
      free (c->tokens[i].scope);
      free (c->tokens[i].header);
    }
  free (c->tokens);
  cove_registry_challenge_free (&c->challenge);
  free (c->registry);
  free (c->scheme);
  free (c->user);
  free (c->password);
  free (c->basic_header);
  free (c->ca_blob);
  free (c->client_cert);
  free (c->client_key);
  free (c);
}

int
cove_registry_login_check (struct cove_registry_client *c,
                           struct cove_error **err)
{
  if (cove_registry_ping (c, err) < 0)
    return -1;
  if (c->challenge.scheme == NULL)
    return 0;  /* the registry asks for no credentials */
  cleanup_free char *url = xasprintf ("%s://%s/v2/", c->scheme,
                                      cove_registry_endpoint_host (c->registry));
  struct response r = { .max = 65536 };
  int ret = request (c, NULL, url, NULL, &r, err);
  if (ret == 0 && (r.status == 401 || r.status == 403))
    ret = cove_error_set (err, EACCES, "logging into %s: invalid username/password",
                          c->registry);
  else if (ret == 0 && r.status / 100 != 2)
    ret = status_error (&r, "logging in", err);
  response_reset (&r);
  return ret;
}

/* The names of BODY's "repositories" (or v1 "results"[].name) array.  */
static int
catalog_names (const char *body, size_t len, bool v1, char ***out,
               struct cove_error **err)
{
  json_t *doc = json_loadb (body ? body : "", len, 0, NULL);
  json_t *list = v1 ? json_object_get (doc, "results")
                    : json_object_get (doc, "repositories");
  if (!json_is_array (list))
    {
      json_decref (doc);
      return cove_error_set (err, EINVAL, "the registry's %s is not a list",
                             v1 ? "search answer" : "catalog");
    }
  size_t i;
  json_t *e;
  char **names = xmalloc0 ((json_array_size (list) + 1) * sizeof (char *));
  size_t k = 0;
  json_array_foreach (list, i, e)
    {
      const char *n = json_string_value (v1 ? json_object_get (e, "name") : e);
      /* Untrusted: names only of the characters a repository may have.  */
      if (n && n[0] && strlen (n) < 256 && strspn (n, "abcdefghijklmnopqrstuvwxyz0123456789._-/") == strlen (n))
        names[k++] = xstrdup (n);
    }
  json_decref (doc);
  *out = names;
  return 0;
}

int
cove_registry_search (struct cove_registry_client *c, const char *term,
                      int limit, char ***out_names, struct cove_error **err)
{
  if (cove_registry_ping (c, err) < 0)
    return -1;
  const char *host = cove_registry_endpoint_host (c->registry);
  cleanup_free char *url = xasprintf ("%s://%s/v2/_catalog?n=%d", c->scheme,
                                      host, limit > 0 ? limit * 10 : 1000);
  struct response r = { .max = COVE_OCI_DOCUMENT_MAX };
  int ret = request (c, "registry:catalog:*", url, NULL, &r, err);
  bool v1 = false;
  if (ret == 0 && r.status == 404)
    {
      /* No catalog: docker's v1 search, where the registry has it.  */
      response_reset (&r);
      char *q = curl_easy_escape (c->easy, term, 0);
      free (url);
      url = xasprintf ("%s://%s/v1/search?q=%s&n=%d", c->scheme, host, q ? q : "",
                       limit > 0 ? limit : 25);
      curl_free (q);
      ret = request (c, NULL, url, NULL, &r, err);
      v1 = true;
    }
  if (ret == 0 && r.status / 100 != 2)
    ret = status_error (&r, "searching the registry", err);
  if (ret == 0)
    ret = catalog_names (r.body, r.len, v1, out_names, err);
  response_reset (&r);
  return ret;
}
