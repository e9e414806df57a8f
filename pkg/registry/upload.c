/* The writing side of the registry client (`cove push`): blob HEAD, cross
   repository mounts, uploads (POST, then one PUT, or PATCH chunks and a
   closing PUT), manifest PUT.  Every answer is untrusted: bodies are
   bounded, an upload Location must stay on the registry's own scheme and
   host (the credentials go with it), redirects of writes are not
   followed, and only the statuses of the distribution spec count as
   success.  */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "pkg/oci/oci.h"
#include "pkg/registry/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* A Location longer than this is refused (a registry's is ~300 bytes).  */
#define LOCATION_MAX 8192

struct up_resp
{
  long status;
  char *body;
  size_t len;
  bool overflow;
  char *location;
  char *digest;       /* Docker-Content-Digest */
  char *www_auth;
};

/* The bytes of a request: [OFF, END) of FD (pread), or of DATA.  */
struct up_body
{
  int fd;
  const char *data;
  int64_t off, end, pos;
};

struct up_req
{
  const char *method;         /* "HEAD", "POST", "PUT", "PATCH", "DELETE" */
  const char *url;
  const char *content_type;   /* NULL: none */
  struct up_body *body;       /* NULL: no body */
  bool follow;                /* follow redirects (HEAD only) */
  const struct cove_registry_upload *progress;  /* may be NULL */
  int64_t progress_base;      /* bytes of the blob sent before this */
};

static void
up_resp_reset (struct up_resp *r)
{
  free (r->body);
  free (r->location);
  free (r->digest);
  free (r->www_auth);
  memset (r, 0, sizeof *r);
}

static size_t
up_on_body (char *data, size_t size, size_t nmemb, void *userdata)
{
  struct up_resp *r = userdata;
  size_t len = size * nmemb;
  /* Only error messages are read from an answer: a registry that sends
     more than that is cut off.  */
  if (len > REGISTRY_ERROR_BODY_MAX - r->len)
    {
      r->overflow = true;
      return 0;
    }
  r->body = xrealloc (r->body, r->len + len + 1);
  memcpy (r->body + r->len, data, len);
  r->len += len;
  r->body[r->len] = '\0';
  return len;
}

static bool
header_is (const char *line, size_t len, const char *name, char **out)
{
  char *v = registry_header_value (line, len, name);
  if (v == NULL)
    return false;
  free (*out);
  *out = v;
  return true;
}

static size_t
up_on_header (char *data, size_t size, size_t nmemb, void *userdata)
{
  struct up_resp *r = userdata;
  size_t len = size * nmemb;
  if (len >= 5 && strncmp (data, "HTTP/", 5) == 0)
    {
      free (r->location);
      free (r->digest);
      free (r->www_auth);
      r->location = r->digest = r->www_auth = NULL;
      return len;
    }
  if (!header_is (data, len, "Location", &r->location)
      && !header_is (data, len, "Docker-Content-Digest", &r->digest)
      && r->www_auth == NULL)
    header_is (data, len, "WWW-Authenticate", &r->www_auth);
  return len;
}

static size_t
up_on_read (char *buf, size_t size, size_t nmemb, void *userdata)
{
  struct up_body *b = userdata;
  size_t want = size * nmemb;
  if ((int64_t) want > b->end - b->pos)
    want = (size_t) (b->end - b->pos);
  if (want == 0)
    return 0;
  if (b->data)
    {
      memcpy (buf, b->data + b->pos, want);
      b->pos += (int64_t) want;
      return want;
    }
  ssize_t n;
  do
    n = pread (b->fd, buf, want, b->pos);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return CURL_READFUNC_ABORT;   /* the file shrank: never send less */
  b->pos += n;
  return (size_t) n;
}

static int
up_on_progress (void *ctx, curl_off_t dltotal, curl_off_t dlnow,
                curl_off_t ultotal, curl_off_t ulnow)
{
  (void) dltotal;
  (void) dlnow;
  (void) ultotal;
  const struct up_req *q = ctx;
  if (q->progress && q->progress->progress)
    q->progress->progress (q->progress->progress_ctx,
                           q->progress_base + (int64_t) ulnow);
  return 0;
}

/* Set the method and body of Q on E.  */
static void
up_setup_method (CURL *e, const struct up_req *q)
{
  if (strcmp (q->method, "HEAD") == 0)
    curl_easy_setopt (e, CURLOPT_NOBODY, 1L);
  else if (strcmp (q->method, "DELETE") == 0)
    curl_easy_setopt (e, CURLOPT_CUSTOMREQUEST, "DELETE");
  else if (strcmp (q->method, "POST") == 0)
    {
      curl_easy_setopt (e, CURLOPT_POST, 1L);
      curl_easy_setopt (e, CURLOPT_POSTFIELDS, "");
      curl_easy_setopt (e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) 0);
    }
  else
    {
      /* PUT and PATCH: curl's upload, renamed for PATCH.  */
      curl_easy_setopt (e, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt (e, CURLOPT_READFUNCTION, up_on_read);
      curl_easy_setopt (e, CURLOPT_READDATA, q->body);
      curl_easy_setopt (e, CURLOPT_INFILESIZE_LARGE,
                        (curl_off_t) (q->body ? q->body->end - q->body->off : 0));
      if (strcmp (q->method, "PATCH") == 0)
        curl_easy_setopt (e, CURLOPT_CUSTOMREQUEST, "PATCH");
    }
}

static int
up_perform (struct cove_registry_client *c, const struct up_req *q,
            const char *auth, const char *extra, struct up_resp *r,
            struct cove_error **err)
{
  char errbuf[CURL_ERROR_SIZE] = "";
  CURL *e = c->easy;
  curl_easy_reset (e);
  registry_setup_easy (c, e, errbuf);
  if (!q->follow)
    curl_easy_setopt (e, CURLOPT_FOLLOWLOCATION, 0L);
  if (q->body)
    q->body->pos = q->body->off;
  cleanup_free char *ctype = q->content_type
    ? xasprintf ("Content-Type: %s", q->content_type) : NULL;
  struct curl_slist *headers = curl_slist_append (NULL, "Expect:");
  if (ctype)
    headers = curl_slist_append (headers, ctype);
  if (auth)
    headers = curl_slist_append (headers, auth);
  if (extra)
    headers = curl_slist_append (headers, extra);
  curl_easy_setopt (e, CURLOPT_URL, q->url);
  curl_easy_setopt (e, CURLOPT_HTTPHEADER, headers);
  up_setup_method (e, q);
  curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, up_on_body);
  curl_easy_setopt (e, CURLOPT_WRITEDATA, r);
  curl_easy_setopt (e, CURLOPT_HEADERFUNCTION, up_on_header);
  curl_easy_setopt (e, CURLOPT_HEADERDATA, r);
  curl_easy_setopt (e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (e, CURLOPT_XFERINFOFUNCTION, up_on_progress);
  curl_easy_setopt (e, CURLOPT_XFERINFODATA, q);
  CURLcode code = curl_easy_perform (e);
  curl_easy_getinfo (e, CURLINFO_RESPONSE_CODE, &r->status);
  curl_easy_setopt (e, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all (headers);
  if (code == CURLE_OK)
    return 0;
  if (r->overflow)
    return cove_error_set (err, EFBIG, "%s %s: answer larger than %d bytes",
                           q->method, q->url, REGISTRY_ERROR_BODY_MAX);
  return cove_error_set (err, registry_curl_errno (code), "%s %s: %s", q->method,
                         q->url, errbuf[0] ? errbuf : curl_easy_strerror (code));
}

/* Q with SCOPE's credentials; on a 401, authenticate and retry once.  */
static int
up_request (struct cove_registry_client *c, const char *scope,
            const struct up_req *q, const char *extra, struct up_resp *r,
            struct cove_error **err)
{
  if (registry_prepare_auth (c, scope, err) < 0)
    return -1;
  for (int attempt = 0;; attempt++)
    {
      up_resp_reset (r);
      if (up_perform (c, q, registry_auth_header (c, scope), extra, r, err) < 0)
        return -1;
      if (r->status != 401 || attempt > 0)
        return 0;
      int again = registry_authenticate (c, scope, r->www_auth, err);
      if (again <= 0)
        return again;
    }
}

/* The error of answer R to WHAT (a status the spec does not give).  */
static int
up_status_error (const struct up_resp *r, const char *what,
                 struct cove_error **err)
{
  cleanup_free char *msg = registry_error_message (r->body, r->len);
  int errnum = EIO;
  if (r->status == 401 || r->status == 403)
    errnum = EACCES;
  else if (r->status == 404)
    errnum = ENOENT;
  if (msg == NULL && r->status == 401)
    msg = xstrdup ("authentication required");
  else if (msg == NULL && r->status == 403)
    msg = xstrdup ("requested access to the resource is denied");
  /* The registry's words (or the status) say it all: no strerror.  */
  if (msg)
    return cove_error_set_plain (err, errnum, "%s: %s", what, msg);
  return cove_error_set_plain (err, errnum, "%s: unexpected status %ld", what,
                               r->status);
}

char *
cove_registry_push_scope (const char *repo)
{
  return xasprintf ("repository:%s:pull,push", repo);
}

int
cove_registry_blob_exists (struct cove_registry_client *c, const char *repo,
                           const char *digest, struct cove_error **err)
{
  cleanup_free char *what = xasprintf ("checking whether a blob %s exists in %s/%s",
                                       digest, c->registry, repo);
  if (cove_registry_ping (c, err) < 0)
    return -1;
  cleanup_free char *url = cove_registry_url (c->scheme, c->registry, repo,
                                              "blobs", digest);
  cleanup_free char *scope = cove_registry_push_scope (repo);
  struct up_req q = { .method = "HEAD", .url = url, .follow = true };
  struct up_resp r = { 0 };
  int ret = up_request (c, scope, &q, NULL, &r, err);
  if (ret < 0)
    cove_error_wrap (err, "%s", what);
  else if (r.status == 200)
    ret = 1;
  else if (r.status == 404)
    ret = 0;
  else
    ret = up_status_error (&r, what, err);
  up_resp_reset (&r);
  return ret;
}

/* The absolute URL of an upload's Location LOC (untrusted): a path on the
   registry, or an absolute URL on the registry's scheme and host.  */
static char *
resolve_location (struct cove_registry_client *c, const char *loc,
                  struct cove_error **err)
{
  if (loc == NULL || loc[0] == '\0')
    {
      cove_error_set (err, EPROTO, "the registry gave no upload location");
      return NULL;
    }
  size_t n = strnlen (loc, LOCATION_MAX + 1);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char) loc[i] <= 0x20 || (unsigned char) loc[i] >= 0x7f
        || loc[i] == '#')
      n = LOCATION_MAX + 1;
  if (n > LOCATION_MAX)
    {
      cove_error_set (err, EPROTO, "invalid upload location from the registry");
      return NULL;
    }
  cleanup_free char *base = xasprintf ("%s://%s", c->scheme,
                                       cove_registry_endpoint_host (c->registry));
  if (loc[0] == '/' && loc[1] != '/')
    return xasprintf ("%s%s", base, loc);
  size_t bl = strlen (base);
  if (strncasecmp (loc, base, bl) == 0 && loc[bl] == '/')
    return xstrdup (loc);
  cleanup_free char *shown = registry_sanitize (loc, 200);
  cove_error_set_plain (err, EPROTO, "the registry's upload location `%s` is "
                        "not on %s", shown, base);
  return NULL;
}

/* POST REPO's uploads/ (QUERY: "?mount=...&from=..." or ""): 201 sets
   *OUT_MOUNTED, 202 gives the session's URL in *OUT_URL.  */
static int
upload_start (struct cove_registry_client *c, const char *repo,
              const char *scope, const char *query, bool *out_mounted,
              char **out_url, struct cove_error **err)
{
  const char *host = cove_registry_endpoint_host (c->registry);
  cleanup_free char *url = xasprintf ("%s://%s/v2/%s/blobs/uploads/%s", c->scheme,
                                      host, repo, query);
  struct up_req q = { .method = "POST", .url = url };
  struct up_resp r = { 0 };
  int ret = up_request (c, scope, &q, NULL, &r, err);
  *out_mounted = false;
  if (ret == 0 && r.status == 201 && query[0])
    *out_mounted = true;
  else if (ret == 0 && r.status == 202)
    ret = (*out_url = resolve_location (c, r.location, err)) ? 0 : -1;
  else if (ret == 0)
    ret = up_status_error (&r, "initiating the upload", err);
  up_resp_reset (&r);
  return ret;
}

int
cove_registry_blob_mount (struct cove_registry_client *c, const char *repo,
                          const char *digest, const char *from,
                          struct cove_error **err)
{
  if (cove_registry_ping (c, err) < 0)
    return -1;
  /* The token must also allow pulling FROM (space-separated scopes, as
     the token spec's scope parameter allows).  */
  cleanup_free char *scope = xasprintf ("repository:%s:pull,push repository:%s:pull",
                                        repo, from);
  cleanup_free char *efrom = registry_percent_encode (from);
  cleanup_free char *edigest = registry_percent_encode (digest);
  cleanup_free char *query = xasprintf ("?mount=%s&from=%s", edigest, efrom);
  cleanup_free char *session = NULL;
  bool mounted = false;
  if (upload_start (c, repo, scope, query, &mounted, &session, err) < 0)
    return cove_error_wrap (err, "mounting blob %s from %s", digest, from);
  /* Not mounted: the registry opened an upload session instead; cancel
     it, as podman does (best effort: it expires anyway).  */
  if (session)
    {
      struct up_req q = { .method = "DELETE", .url = session };
      struct up_resp r = { 0 };
      up_request (c, scope, &q, NULL, &r, NULL);
      up_resp_reset (&r);
    }
  return mounted ? 1 : 0;
}

/* URL with "digest=DIGEST" added to its query.  */
static char *
with_digest (const char *url, const char *digest)
{
  cleanup_free char *e = registry_percent_encode (digest);
  return xasprintf ("%s%cdigest=%s", url, strchr (url, '?') ? '&' : '?', e);
}

/* PATCH the bytes [OFF, END) of U to the session *URL, which moves on to
   the Location of the answer.  */
static int
upload_chunk (struct cove_registry_client *c, const char *scope,
              const struct cove_registry_upload *u, struct up_body *b,
              char **url, struct cove_error **err)
{
  cleanup_free char *range = xasprintf ("Content-Range: %lld-%lld",
                                        (long long) b->off, (long long) b->end - 1);
  struct up_req q = { .method = "PATCH", .url = *url, .body = b,
                      .content_type = "application/octet-stream",
                      .progress = u, .progress_base = b->off };
  struct up_resp r = { 0 };
  int ret = up_request (c, scope, &q, range, &r, err);
  if (ret == 0 && r.status != 202)
    ret = up_status_error (&r, "uploading a chunk", err);
  char *next = ret == 0 ? resolve_location (c, r.location, err) : NULL;
  if (ret == 0 && next == NULL)
    ret = -1;
  if (next)
    {
      free (*url);
      *url = next;
    }
  up_resp_reset (&r);
  return ret;
}

/* The closing PUT of session URL, with the bytes [B->off, B->end) (may
   be empty).  */
static int
upload_finish (struct cove_registry_client *c, const char *scope,
               const struct cove_registry_upload *u, struct up_body *b,
               const char *url, struct cove_error **err)
{
  cleanup_free char *put = with_digest (url, u->digest);
  struct up_req q = { .method = "PUT", .url = put, .body = b,
                      .content_type = "application/octet-stream",
                      .progress = u, .progress_base = b->off };
  struct up_resp r = { 0 };
  int ret = up_request (c, scope, &q, NULL, &r, err);
  if (ret == 0 && r.status != 201)
    ret = up_status_error (&r, "completing the upload", err);
  if (ret == 0 && r.digest && strcmp (r.digest, u->digest) != 0)
    {
      cleanup_free char *shown = registry_sanitize (r.digest, 80);
      ret = cove_error_set_plain (err, EBADMSG, "the registry stored %s as %s",
                                  u->digest, shown);
    }
  up_resp_reset (&r);
  return ret;
}

int
cove_registry_blob_upload (struct cove_registry_client *c, const char *repo,
                           const struct cove_registry_upload *u,
                           struct cove_error **err)
{
  if (cove_registry_ping (c, err) < 0)
    return -1;
  cleanup_free char *scope = cove_registry_push_scope (repo);
  cleanup_free char *url = NULL;
  bool mounted;
  int ret = upload_start (c, repo, scope, "", &mounted, &url, err);
  int64_t chunk = u->chunk_size > 0 ? u->chunk_size : COVE_REGISTRY_CHUNK;
  struct up_body b = { .fd = u->fd, .data = u->data, .off = 0, .end = 0 };
  /* A large blob goes in chunks, each PATCH bounded: a failure costs one
     chunk's time, and no single request carries gigabytes.  */
  while (ret == 0 && u->size > chunk && b.end < u->size)
    {
      b.off = b.end;
      b.end = b.off + chunk < u->size ? b.off + chunk : u->size;
      ret = upload_chunk (c, scope, u, &b, &url, err);
      b.off = b.end;
    }
  if (ret == 0 && u->size <= chunk)
    b.end = u->size;
  if (ret == 0)
    ret = upload_finish (c, scope, u, &b, url, err);
  if (ret < 0)
    cove_error_wrap (err, "writing blob %s", u->digest);
  return ret;
}

int
cove_registry_manifest_put (struct cove_registry_client *c, const char *repo,
                            const char *tag, const char *media_type,
                            const char *data, size_t len,
                            struct cove_error **err)
{
  cleanup_free char *what = xasprintf ("writing manifest to %s/%s:%s",
                                       c->registry, repo, tag);
  if (cove_registry_ping (c, err) < 0)
    return -1;
  cleanup_free char *url = cove_registry_url (c->scheme, c->registry, repo,
                                              "manifests", tag);
  cleanup_free char *scope = cove_registry_push_scope (repo);
  struct up_body b = { .fd = -1, .data = data, .end = (int64_t) len };
  struct up_req q = { .method = "PUT", .url = url, .body = &b,
                      .content_type = media_type };
  struct up_resp r = { 0 };
  int ret = up_request (c, scope, &q, NULL, &r, err);
  if (ret < 0)
    cove_error_wrap (err, "%s", what);
  else if (r.status != 201 && r.status != 200)
    ret = up_status_error (&r, what, err);
  cleanup_free char *digest = cove_oci_digest_buffer (data, len);
  if (ret == 0 && r.digest && strcmp (r.digest, digest) != 0)
    ret = cove_error_set_plain (err, EBADMSG, "%s: the registry stored it under "
                                "another digest", what);
  up_resp_reset (&r);
  return ret;
}
