/* cove registry: a client of the OCI distribution API v2 on libcurl.
   Everything a registry sends is untrusted: bodies are bounded while they
   download, documents are checked against their digests, sizes against the
   descriptors.  Not thread-safe: one client is used by one thread (the
   parallel blob download runs every transfer from the calling thread).  */
#ifndef COVE_REGISTRY_H
#define COVE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pkg/util/error.h"

/* Credentials of REGISTRY ("docker.io", "localhost:5000"): returns 1 and
   sets *OUT_USER and *OUT_PASSWORD (caller frees) when some are known, 0
   when none, -1 on error (*ERR set).  */
typedef int (*cove_registry_auth_fn) (void *ctx, const char *registry,
                                      char **out_user, char **out_password,
                                      struct cove_error **err);

struct cove_registry_options
{
  /* -1: verify TLS unless INSECURE; 0: never verify (and allow http);
     1: always verify, even for an insecure registry (podman's
     --tls-verify=true wins over registries.conf).  */
  int tls_verify;
  /* registries.conf says `insecure = true`: https is tried first without
     verification, then plain http.  */
  bool insecure;
  /* Explicit credentials (--creds); they win over AUTH_LOOKUP.  */
  const char *username;
  const char *password;
  cove_registry_auth_fn auth_lookup;  /* may be NULL */
  void *auth_ctx;
  /* certs.d roots searched for a HOST[:PORT] folder, NULL-terminated;
     NULL: ~/.config/containers/certs.d, /etc/containers/certs.d,
     /etc/docker/certs.d.  */
  const char *const *certs_dirs;
  /* --cert-dir: a folder holding the registry's *.crt, *.cert and *.key
     itself; when set, certs.d is not searched.  */
  const char *cert_dir;
};

struct cove_registry_client;

/* A client for REGISTRY (host[:port] as in a reference; "docker.io" talks
   to registry-1.docker.io).  Nothing is sent yet.  errnum EINVAL: a bad
   registry name; others while reading certs.d.  */
int cove_registry_client_new (const char *registry,
                              const struct cove_registry_options *opts,
                              struct cove_registry_client **out,
                              struct cove_error **err);
void cove_registry_client_free (struct cove_registry_client *c);

/* GET /v2/: picks the scheme (https; http only for an insecure registry or
   tls_verify 0) and learns the authentication challenge.  The other calls
   ping first when needed.  errnum ECONNREFUSED, EHOSTUNREACH, EPROTO (TLS)
   and EIO (other transport errors, unexpected answers).  */
int cove_registry_ping (struct cove_registry_client *c, struct cove_error **err);

/* Check the client's credentials (`cove login`): GET /v2/ authenticated as
   the registry's challenge asks.  errnum EACCES: refused ("invalid
   username/password"); the errors of cove_registry_ping.  */
int cove_registry_login_check (struct cove_registry_client *c,
                               struct cove_error **err);

/* Search the registry for repositories: the catalog (GET /v2/_catalog,
   scope registry:catalog:*), else docker's v1 search (GET /v1/search?q=).
   *OUT_NAMES: a NULL-terminated vector of repository names (caller frees
   with cove_strv_free), not yet filtered by TERM for the catalog.  LIMIT
   bounds what is asked for (0: the registry's default).  errnum EINVAL: an
   answer that is not a list; the errors of the requests.  */
int cove_registry_search (struct cove_registry_client *c, const char *term,
                          int limit, char ***out_names,
                          struct cove_error **err);

/* "https" or "http" once pinged, else NULL.  */
const char *cove_registry_scheme (const struct cove_registry_client *c);

struct cove_registry_document
{
  char *data;           /* the body, NUL-terminated (LEN excludes it) */
  size_t len;
  char *media_type;     /* the Content-Type sent, NULL when none */
  char *digest;         /* "sha256:..." of DATA, computed here */
};
void cove_registry_document_free (struct cove_registry_document *d);

/* GET the manifest REFERENCE (a tag or a digest) of REPO, accepting OCI
   manifests and indexes and Docker schema 2 manifests and lists.  A
   manifest asked by digest is checked against it; one asked by tag gets
   its digest computed.  The body is cut off at COVE_OCI_DOCUMENT_MAX while
   it downloads.  errnum ENOENT: manifest or repository unknown (message:
   "reading manifest REF in REGISTRY/REPO: manifest unknown"); EACCES:
   authentication refused; EFBIG: too large; EBADMSG: digest mismatch;
   EINVAL: not JSON; EIO and transport errnums.  */
int cove_registry_manifest_get (struct cove_registry_client *c,
                                const char *repo, const char *reference,
                                struct cove_registry_document *out,
                                struct cove_error **err);

/* GET the blob DIGEST of REPO (at most MAX bytes: EFBIG beyond), checked
   against DIGEST (EBADMSG).  For configs and other small blobs.  */
int cove_registry_blob_get (struct cove_registry_client *c, const char *repo,
                            const char *digest, size_t max,
                            struct cove_registry_document *out,
                            struct cove_error **err);

/* ---- parallel blob download (curl multi) ---- */

struct cove_registry_blob_job
{
  const char *digest;   /* "sha256:..." */
  int64_t size;         /* from the descriptor: more or fewer bytes fail */
  /* Check the bytes against DIGEST here; false when the consumer hashes
     them itself (storage does for layers).  */
  bool verify;
  /* Set by ops->start: the O_NONBLOCK write end of a socket (a stream
     socketpair: written with MSG_NOSIGNAL, so a consumer that stops reading
     costs EPIPE, not SIGPIPE).  The fetch owns and closes it when the blob
     ends, after storing STATUS.  */
  int fd;
  /* Written by the fetch: bytes received so far; STATUS 0 while running,
     1 complete and checked, -1 failed; stored with release semantics
     before FD is closed so that a reader that sees EOF can load it
     (__atomic_load_n, acquire) and tell an end from a failure.  */
  int64_t received;
  int status;
  struct cove_error *error;   /* why it failed (owned by the job) */
};

struct cove_registry_fetch_ops
{
  /* Called right before job I starts; sets jobs[I].fd.  -1 stops all.  */
  int (*start) (void *ctx, size_t i, struct cove_error **err);
  /* Called once job I ended (fd closed); jobs[I].status tells how.  */
  void (*finish) (void *ctx, size_t i);
  /* Called about every 100 ms while transfers run.  May be NULL.  */
  void (*progress) (void *ctx);
  void *ctx;
  size_t max_parallel;        /* 0: 6, as podman */
};

/* Download the N_JOBS blobs of REPO, MAX_PARALLEL at a time, writing each
   into its job's fd as it arrives.  A transfer whose fd is full is paused
   (CURL_WRITEFUNC_PAUSE) and resumed when the fd is writable, so a slow
   consumer holds back only its own blob.  The first failure aborts every
   transfer (their fds are closed with status -1) and is returned: errnum
   EBADMSG digest mismatch, EIO truncated or too long, EPIPE the consumer
   stopped reading, ENOENT blob unknown, EACCES, transport errnums.  */
int cove_registry_blobs_fetch (struct cove_registry_client *c,
                               const char *repo,
                               struct cove_registry_blob_job *jobs,
                               size_t n_jobs,
                               const struct cove_registry_fetch_ops *ops,
                               struct cove_error **err);

/* ---- push (upload.c) ----
   Every call asks for the push scope "repository:REPO:pull,push"; the
   errors of cove_registry_ping, EACCES (401/403), transport errnums.  */

/* PATCH chunks of this size for a blob larger than it.  */
#define COVE_REGISTRY_CHUNK ((int64_t) 32 * 1024 * 1024)

/* "repository:REPO:pull,push".  Caller frees.  */
char *cove_registry_push_scope (const char *repo);

/* HEAD blob DIGEST of REPO: 1 present, 0 absent (404), -1 on error
   ("checking whether a blob D exists in REGISTRY/REPO: ...").  */
int cove_registry_blob_exists (struct cove_registry_client *c, const char *repo,
                               const char *digest, struct cove_error **err);

/* Cross-repository mount (POST .../blobs/uploads/?mount=DIGEST&from=FROM):
   1 mounted (201), 0 the registry would not (it answered 202 with an
   upload session, which is cancelled with DELETE), -1 on error.  */
int cove_registry_blob_mount (struct cove_registry_client *c, const char *repo,
                              const char *digest, const char *from,
                              struct cove_error **err);

/* A blob to upload: SIZE bytes read with pread from FD (from offset 0),
   or from DATA when FD is -1.  */
struct cove_registry_upload
{
  const char *digest;
  int64_t size;
  int fd;
  const void *data;
  int64_t chunk_size;         /* 0: COVE_REGISTRY_CHUNK */
  /* Called while it uploads with the bytes sent so far.  May be NULL.  */
  void (*progress) (void *ctx, int64_t done);
  void *progress_ctx;
};

/* Upload U into REPO: POST an upload session, then a PUT of the whole blob
   with ?digest=, or (SIZE > chunk size) PATCH chunks with Content-Range
   and a closing PUT.  The Location of each answer (untrusted) must be a
   path or a URL on the registry's own scheme and host: errnum EPROTO
   otherwise.  EBADMSG: the registry says it stored another digest.  */
int cove_registry_blob_upload (struct cove_registry_client *c, const char *repo,
                               const struct cove_registry_upload *u,
                               struct cove_error **err);

/* PUT manifest DATA (LEN bytes, of MEDIA_TYPE) as REPO:TAG.  EBADMSG: the
   registry's Docker-Content-Digest is not DATA's digest.  */
int cove_registry_manifest_put (struct cove_registry_client *c, const char *repo,
                                const char *tag, const char *media_type,
                                const char *data, size_t len,
                                struct cove_error **err);

/* ---- pure helpers (exposed for tests) ---- */

/* One authentication challenge of a WWW-Authenticate header (untrusted):
   SCHEME ("bearer", "basic", lowercased) and its realm, service and scope
   parameters (NULL when absent).  */
struct cove_registry_challenge
{
  char *scheme;
  char *realm;
  char *service;
  char *scope;
};

/* Parse the first challenge of HEADER: `Bearer realm="...",service="..."`,
   with quoted strings (which may hold commas, `\"` escapes) or tokens as
   values, optional whitespace around `=` and `,`, parameter names case
   insensitive, unknown parameters ignored.  Stops at the next challenge.
   errnum EINVAL: malformed (unterminated quote, missing scheme, ...).  */
int cove_registry_challenge_parse (const char *header,
                                   struct cove_registry_challenge *out,
                                   struct cove_error **err);
void cove_registry_challenge_free (struct cove_registry_challenge *ch);

/* The host to talk to for REGISTRY: "registry-1.docker.io" for
   "docker.io", else REGISTRY.  Not a copy.  */
const char *cove_registry_endpoint_host (const char *registry);

/* SCHEME://HOST/v2/REPO/KIND/REF ("manifests" or "blobs"); REPO NULL gives
   SCHEME://HOST/v2/.  Caller frees.  */
char *cove_registry_url (const char *scheme, const char *registry,
                         const char *repo, const char *kind, const char *ref);

/* REALM with "service" and "scope" (either may be NULL) added as
   URL-escaped query parameters (after '&' when REALM has a query
   already).  NULL when REALM is not an http(s) URL.  Caller frees.  */
char *cove_registry_token_url (const char *realm, const char *service,
                               const char *scope);

/* ---- progress, as podman prints it on stderr ---- */

enum cove_registry_progress_mode
{
  COVE_REGISTRY_PROGRESS_QUIET,   /* nothing */
  COVE_REGISTRY_PROGRESS_PLAIN,   /* "Copying blob sha256:... done" lines */
  COVE_REGISTRY_PROGRESS_TTY,     /* one bar per blob, redrawn in place */
};

struct cove_registry_progress;

/* Progress on OUT (borrowed) in MODE.  Free with _free.  */
struct cove_registry_progress *
cove_registry_progress_new (FILE *out, enum cove_registry_progress_mode mode);
void cove_registry_progress_free (struct cove_registry_progress *p);
/* A line of its own ("Getting image source signatures").  */
void cove_registry_progress_line (struct cove_registry_progress *p,
                                  const char *line);
/* Register blob DIGEST of TOTAL bytes; returns its slot.  SKIPPED: it is
   already stored ("Copying blob X skipped: already exists").  */
size_t cove_registry_progress_add (struct cove_registry_progress *p,
                                   const char *digest, int64_t total,
                                   bool skipped);
/* DONE bytes of slot I have arrived.  */
void cove_registry_progress_update (struct cove_registry_progress *p, size_t i,
                                    int64_t done);
/* Slot I is complete.  */
void cove_registry_progress_done (struct cove_registry_progress *p, size_t i);
/* Redraw (tty mode) at most every 100 ms unless FORCE.  */
void cove_registry_progress_draw (struct cove_registry_progress *p, bool force);

#endif
