/* Private to pkg/registry.  */
#ifndef COVE_REGISTRY_INTERNAL_H
#define COVE_REGISTRY_INTERNAL_H

#include <curl/curl.h>
#include <stdbool.h>

#include "pkg/registry/registry.h"

/* A token response is bounded (untrusted).  */
#define REGISTRY_TOKEN_MAX (64 * 1024)
/* Error bodies are read for their message only.  */
#define REGISTRY_ERROR_BODY_MAX (64 * 1024)

struct registry_token
{
  char *scope;        /* "repository:REPO:pull", "" for the ping */
  char *header;       /* "Authorization: Bearer ..." */
};

struct cove_registry_client
{
  char *registry;             /* as in the reference: "docker.io" */
  char *scheme;               /* "https" / "http" once pinged */
  bool verify;                /* verify TLS peers */
  bool allow_http;            /* insecure registry or tls_verify 0 */
  bool creds_known;           /* user/password looked up */
  char *user, *password;
  cove_registry_auth_fn auth_lookup;
  void *auth_ctx;
  struct cove_registry_challenge challenge;   /* from the ping, if any */
  char *basic_header;         /* "Authorization: Basic ..." once asked */
  struct registry_token *tokens;
  size_t n_tokens;
  CURL *easy;                 /* for the sequential requests */
  CURLSH *share;              /* connections, DNS, TLS sessions */
  char *ca_blob;              /* system bundle + certs.d *.crt, or NULL */
  size_t ca_len;
  char *client_cert, *client_key;
};

/* challenge.c */
char *registry_percent_encode (const char *s);
char *registry_base64 (const void *data, size_t len);
char *registry_sanitize (const char *s, size_t max);

/* certs.c: load certs.d for C's registry from DIRS (NULL: defaults).  */
int registry_load_certs (struct cove_registry_client *c,
                         const char *const *dirs, const char *cert_dir,
                         struct cove_error **err);

/* client.c */
/* The options every request of C has (TLS, share, protocols, redirects,
   HTTP/2, timeouts).  */
void registry_setup_easy (struct cove_registry_client *c, CURL *easy,
                          char *errbuf);
/* "Authorization: ..." for REPO (NULL: the ping), or NULL: anonymous.  */
const char *registry_auth_header (struct cove_registry_client *c,
                                  const char *repo);
/* After a 401 with WWW_AUTH (may be NULL): get a token (or basic
   credentials) for REPO.  Returns 1 when a retry may succeed, 0 when
   not, -1 on error.  */
int registry_authenticate (struct cove_registry_client *c, const char *repo,
                           const char *www_auth, struct cove_error **err);
/* auth.c: before a request for REPO, get what the ping's challenge asks
   (a bearer token, basic credentials) without waiting for a 401.  */
int registry_prepare_auth (struct cove_registry_client *c, const char *repo,
                           struct cove_error **err);
/* client.c: GET the token URL with BASIC ("Authorization: Basic ..." or
   NULL); *OUT_TOKEN gets "token" or "access_token" (checked printable).  */
int registry_token_get (struct cove_registry_client *c, const char *url,
                        const char *basic, char **out_token,
                        struct cove_error **err);
/* errno for a curl failure.  */
int registry_curl_errno (CURLcode code);

/* The value of the HTTP header line LINE (LEN bytes, from a libcurl
   header callback: untrusted) if its name is NAME (any case), trimmed;
   else NULL.  Caller frees.  */
char *registry_header_value (const char *line, size_t len, const char *name);
/* The message of a registry error body (untrusted JSON), or NULL.  */
char *registry_error_message (const char *body, size_t len);

#endif
