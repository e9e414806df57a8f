/* Unit tests of pkg/registry: the WWW-Authenticate parser, URL building,
   progress lines, and the client against a tiny HTTP server of the test's
   own on loopback (forked), which answers well and badly.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/oci/oci.h"
#include "pkg/registry/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "tests/unit/http-fixture.h"

/* ---- WWW-Authenticate ---- */

struct challenge_case
{
  const char *header;
  int errnum;         /* 0: parses */
  const char *scheme, *realm, *service, *scope;
};

static const struct challenge_case challenge_cases[] = {
  { "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
    "scope=\"repository:library/busybox:pull\"", 0, "bearer",
    "https://auth.docker.io/token", "registry.docker.io",
    "repository:library/busybox:pull" },
  { "Bearer realm = \"r\" , service=\"s\"", 0, "bearer", "r", "s", NULL },
  { "Bearer realm=\"https://a/t?x=1,2\",scope=\"repository:a:pull,push\"", 0,
    "bearer", "https://a/t?x=1,2", NULL, "repository:a:pull,push" },
  { "Bearer realm=\"a\\\"b\"", 0, "bearer", "a\"b", NULL, NULL },
  { "BEARER Realm=\"r\",SERVICE=s", 0, "bearer", "r", "s", NULL },
  { "Bearer realm=r,service=s", 0, "bearer", "r", "s", NULL },
  { "Basic realm=\"Registry Realm\"", 0, "basic", "Registry Realm", NULL, NULL },
  { "Bearer realm=\"r\", Basic realm=\"b\"", 0, "bearer", "r", NULL, NULL },
  { "Bearer realm=\"r\",error=\"insufficient_scope\",scope=\"x\"", 0, "bearer", "r", NULL, "x" },
  { "Basic dGVzdA==", 0, "basic", NULL, NULL, NULL },
  { "  Bearer", 0, "bearer", NULL, NULL, NULL },
  { "Bearer realm=\"\"", 0, "bearer", "", NULL, NULL },
  { "", EINVAL, NULL, NULL, NULL, NULL },
  { "\"Bearer\"", EINVAL, NULL, NULL, NULL, NULL },
  { "Bearer realm=\"unterminated", EINVAL, NULL, NULL, NULL, NULL },
  { "Bearer realm=\"a\\", EINVAL, NULL, NULL, NULL, NULL },
  { "Bearer realm=\"a\"b", EINVAL, NULL, NULL, NULL, NULL },
  { "Bearer realm=\"x\",realm=\"y\"", EINVAL, NULL, NULL, NULL, NULL },
  { "Bearer realm=\"a\x01\"", EINVAL, NULL, NULL, NULL, NULL },
  { "Bearer realm=,service=s", 0, "bearer", NULL, NULL, NULL },
};

static void
assert_str_or_null (const char *got, const char *want)
{
  if (want == NULL)
    assert_null (got);
  else
    {
      assert_non_null (got);
      assert_string_equal (got, want);
    }
}

static void
test_challenge_table (void **state)
{
  for (size_t i = 0; i < sizeof challenge_cases / sizeof *challenge_cases; i++)
    {
      const struct challenge_case *c = &challenge_cases[i];
      struct cove_registry_challenge ch = { 0 };
      cleanup_error struct cove_error *err = NULL;
      int r = cove_registry_challenge_parse (c->header, &ch, &err);
      if (c->errnum)
        {
          if (r == 0)
            fail_msg ("case %zu `%s` parsed", i, c->header);
          assert_int_equal (err->errnum, c->errnum);
          assert_null (ch.scheme);
          continue;
        }
      if (r < 0)
        fail_msg ("case %zu `%s`: %s", i, c->header, err->msg);
      assert_string_equal (ch.scheme, c->scheme);
      assert_str_or_null (ch.realm, c->realm);
      assert_str_or_null (ch.service, c->service);
      assert_str_or_null (ch.scope, c->scope);
      cove_registry_challenge_free (&ch);
    }
}

/* ---- URLs and encodings ---- */

static void
test_urls (void **state)
{
  char *u = cove_registry_url ("https", "docker.io", "library/busybox", "manifests", "latest");
  assert_string_equal (u, "https://registry-1.docker.io/v2/library/busybox/manifests/latest");
  free (u);
  u = cove_registry_url ("http", "localhost:5000", NULL, NULL, NULL);
  assert_string_equal (u, "http://localhost:5000/v2/");
  free (u);
  u = cove_registry_url ("https", "quay.io", "a/b", "blobs", "sha256:00");
  assert_string_equal (u, "https://quay.io/v2/a/b/blobs/sha256:00");
  free (u);
  assert_string_equal (cove_registry_endpoint_host ("docker.io"), "registry-1.docker.io");
  assert_string_equal (cove_registry_endpoint_host ("ghcr.io"), "ghcr.io");

  u = cove_registry_token_url ("https://auth.docker.io/token", "registry.docker.io",
                               "repository:library/busybox:pull");
  assert_string_equal (u, "https://auth.docker.io/token?service=registry.docker.io"
                       "&scope=repository%3Alibrary%2Fbusybox%3Apull");
  free (u);
  u = cove_registry_token_url ("https://a/t?x=1", "s p", NULL);
  assert_string_equal (u, "https://a/t?x=1&service=s%20p");
  free (u);
  u = cove_registry_token_url ("http://a/t", NULL, "x&y=z");
  assert_string_equal (u, "http://a/t?scope=x%26y%3Dz");
  free (u);
  u = cove_registry_token_url ("HTTPS://a/t", NULL, NULL);
  assert_string_equal (u, "HTTPS://a/t");
  free (u);
  assert_null (cove_registry_token_url ("ftp://a/t", "s", NULL));
  assert_null (cove_registry_token_url ("https://a b/t", "s", NULL));
  assert_null (cove_registry_token_url ("https://a/t\r\nX: y", "s", NULL));
  assert_null (cove_registry_token_url ("/token", "s", NULL));

  const char *b64[][2] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
                           { "foo", "Zm9v" }, { "user:pass", "dXNlcjpwYXNz" } };
  for (size_t i = 0; i < 5; i++)
    {
      char *e = registry_base64 (b64[i][0], strlen (b64[i][0]));
      assert_string_equal (e, b64[i][1]);
      free (e);
    }
  const char *body = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\","
    "\"message\":\"manifest\\nunknown\"}]}";
  char *m = registry_error_message (body, strlen (body));
  assert_string_equal (m, "manifest unknown");
  free (m);
  assert_null (registry_error_message ("<html>", 6));
}

/* ---- progress ---- */

static void
test_progress_plain (void **state)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&buf, &len);
  struct cove_registry_progress *p = cove_registry_progress_new (f, COVE_REGISTRY_PROGRESS_PLAIN);
  cove_registry_progress_line (p, "Getting image source signatures");
  size_t a = cove_registry_progress_add (p, "sha256:aa", 10, false);
  cove_registry_progress_add (p, "sha256:bb", 10, true);
  cove_registry_progress_update (p, a, 5);
  cove_registry_progress_draw (p, true);
  cove_registry_progress_done (p, a);
  cove_registry_progress_done (p, a);
  cove_registry_progress_free (p);
  fclose (f);
  assert_string_equal (buf, "Getting image source signatures\n"
                       "Copying blob sha256:bb skipped: already exists\n"
                       "Copying blob sha256:aa done\n");
  free (buf);

  f = open_memstream (&buf, &len);
  p = cove_registry_progress_new (f, COVE_REGISTRY_PROGRESS_TTY);
  a = cove_registry_progress_add (p, "sha256:1a2b3c4d5e6f7a8b", 30 * 1024 * 1024, false);
  cove_registry_progress_update (p, a, 15 * 1024 * 1024);
  cove_registry_progress_draw (p, true);
  cove_registry_progress_free (p);
  fclose (f);
  assert_non_null (strstr (buf, "Copying blob 1a2b3c4d5e6f [===============>"));
  assert_non_null (strstr (buf, "] 15.0MiB / 30.0MiB"));
  free (buf);

  f = open_memstream (&buf, &len);
  p = cove_registry_progress_new (f, COVE_REGISTRY_PROGRESS_QUIET);
  cove_registry_progress_line (p, "x");
  cove_registry_progress_done (p, cove_registry_progress_add (p, "sha256:aa", 1, false));
  cove_registry_progress_free (p);
  fclose (f);
  assert_int_equal (len, 0);
  free (buf);
}

/* ---- a tiny registry on loopback ---- */

static pid_t server_pid;
static int server_port;
static char *blob_digest;       /* of "hello world" */
static char *manifest_body;
static char *manifest_digest;

static void
respond (int fd, const char *status, const char *headers, const char *body, size_t len)
{
  char head[1024];
  int n = snprintf (head, sizeof head, "HTTP/1.1 %s\r\nContent-Length: %zu\r\n%s"
                    "Connection: close\r\n\r\n", status, len, headers);
  cove_write_all (fd, head, (size_t) n, NULL);
  cove_write_all (fd, body, len, NULL);
}

static void
serve_big (int fd)
{
  /* A 100 MiB manifest: the client must stop long before.  */
  const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n"
    "Connection: close\r\n\r\n";
  cove_write_all (fd, head, strlen (head), NULL);
  static char chunk[65536];
  memset (chunk, ' ', sizeof chunk);
  for (int i = 0; i < 1600; i++)
    if (cove_write_all (fd, chunk, sizeof chunk, NULL) < 0)
      return;
}

static void
serve_one (int fd)
{
  char req[8192];
  size_t n = 0;
  while (n < sizeof req - 1 && !memmem (req, n, "\r\n\r\n", 4))
    {
      ssize_t r = read (fd, req + n, sizeof req - 1 - n);
      if (r <= 0)
        return;
      n += (size_t) r;
      if (n >= 4 && memcmp (req, "GET ", 4) != 0)
        {
          respond (fd, "400 Bad Request", "", "", 0);   /* a TLS hello */
          return;
        }
    }
  req[n] = '\0';
  char path[1024] = "";
  sscanf (req, "GET %1023s", path);
  bool bearer = strstr (req, "Authorization: Bearer good-token") != NULL;
  char hdr[512];
  const char *mt = "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n";
  cleanup_free char *blob_path = xasprintf ("/v2/b/blobs/%s", blob_digest);
  cleanup_free char *trunc_path = xasprintf ("/v2/trunc/blobs/%s", blob_digest);
  if (strcmp (path, "/v2/") == 0)
    respond (fd, "200 OK", "", "{}", 2);
  else if (strcmp (path, "/v2/big/manifests/latest") == 0)
    serve_big (fd);
  else if (strcmp (path, "/v2/notjson/manifests/latest") == 0)
    respond (fd, "200 OK", mt, "hello", 5);
  else if (strcmp (path, "/v2/ok/manifests/latest") == 0
           || (strncmp (path, "/v2/ok/manifests/sha256:", 24) == 0))
    respond (fd, "200 OK", mt, manifest_body, strlen (manifest_body));
  else if (strncmp (path, "/token?", 7) == 0)
    {
      const char tok[] = "{\"token\":\"good-token\"}";
      if (strstr (path, "scope=repository%3Aauth%3Apull"))
        respond (fd, "200 OK", "", tok, strlen (tok));
      else
        respond (fd, "401 Unauthorized", "", "", 0);
    }
  else if (strcmp (path, "/v2/auth/manifests/latest") == 0 && !bearer)
    {
      snprintf (hdr, sizeof hdr, "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\","
                "service=\"test\",scope=\"repository:auth:pull\"\r\n", server_port);
      respond (fd, "401 Unauthorized", hdr, "", 0);
    }
  else if (strcmp (path, "/v2/auth/manifests/latest") == 0)
    respond (fd, "200 OK", mt, manifest_body, strlen (manifest_body));
  else if (strcmp (path, blob_path) == 0)
    respond (fd, "200 OK", "", "hello world", 11);
  else if (strcmp (path, trunc_path) == 0)
    {
      const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello";
      cove_write_all (fd, head, strlen (head), NULL);
    }
  else
    {
      const char e[] = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}";
      respond (fd, "404 Not Found", "Content-Type: application/json\r\n", e, strlen (e));
    }
}

static int
setup_server (void **state)
{
  blob_digest = cove_oci_digest_buffer ("hello world", 11);
  manifest_body = xstrdup ("{\"schemaVersion\":2}");
  manifest_digest = cove_oci_digest_buffer (manifest_body, strlen (manifest_body));
  server_pid = test_http_server_start (serve_one, &server_port);
  return server_pid > 0 ? 0 : -1;
}

static int
teardown_server (void **state)
{
  test_http_server_stop (server_pid);
  free (blob_digest);
  free (manifest_body);
  free (manifest_digest);
  return 0;
}

static struct cove_registry_client *
local_client (void)
{
  struct cove_registry_client *c = test_http_registry_client (server_port);
  assert_non_null (c);
  return c;
}

static void
test_client_new (void **state)
{
  struct cove_registry_options o = { .tls_verify = -1 };
  struct cove_registry_client *c = NULL;
  cleanup_error struct cove_error *err = NULL;
  assert_int_equal (cove_registry_client_new ("a/b", &o, &c, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  assert_null (c);
  cove_error_release (&err);

  /* certs.d: a CA is added to the system bundle; a client cert needs its
     key.  */
  char dir[] = "/tmp/cove-certs-XXXXXX";
  assert_non_null (mkdtemp (dir));
  cleanup_free char *host = xasprintf ("%s/reg.example:5000", dir);
  assert_int_equal (cove_mkdir_p (host, 0700, NULL), 0);
  cleanup_free char *ca = xasprintf ("%s/ca.crt", host);
  assert_int_equal (cove_file_write_atomic (ca, "CA-PEM", 6, 0600, 0, NULL), 0);
  const char *dirs[] = { dir, NULL };
  o.certs_dirs = dirs;
  assert_int_equal (cove_registry_client_new ("reg.example:5000", &o, &c, &err), 0);
  assert_non_null (c->ca_blob);
  assert_non_null (strstr (c->ca_blob, "CA-PEM"));
  assert_true (c->verify);
  cove_registry_client_free (c);
  cleanup_free char *cert = xasprintf ("%s/client.cert", host);
  assert_int_equal (cove_file_write_atomic (cert, "C", 1, 0600, 0, NULL), 0);
  assert_int_equal (cove_registry_client_new ("reg.example:5000", &o, &c, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_release (&err);
  cleanup_free char *key = xasprintf ("%s/client.key", host);
  assert_int_equal (cove_file_write_atomic (key, "K", 1, 0600, 0, NULL), 0);
  o.insecure = true;
  assert_int_equal (cove_registry_client_new ("reg.example:5000", &o, &c, &err), 0);
  assert_string_equal (c->client_key, key);
  assert_false (c->verify);
  cove_registry_client_free (c);
  cove_rm_rf (dir, NULL);
}

static void
test_ping_refused (void **state)
{
  static const char *const no_certs[] = { NULL };
  struct cove_registry_options o = { .tls_verify = -1, .certs_dirs = no_certs };
  struct cove_registry_client *c = NULL;
  cleanup_error struct cove_error *err = NULL;
  assert_int_equal (cove_registry_client_new ("127.0.0.1:1", &o, &c, &err), 0);
  assert_int_equal (cove_registry_ping (c, &err), -1);
  assert_int_equal (err->errnum, ECONNREFUSED);
  assert_non_null (strstr (err->msg, "pinging container registry 127.0.0.1:1"));
  cove_registry_client_free (c);
}

static void
test_manifests (void **state)
{
  struct cove_registry_client *c = local_client ();
  cleanup_error struct cove_error *err = NULL;
  struct cove_registry_document d = { 0 };
  /* tls_verify 0: https fails, plain http is used */
  assert_int_equal (cove_registry_ping (c, &err), 0);
  assert_string_equal (cove_registry_scheme (c), "http");

  assert_int_equal (cove_registry_manifest_get (c, "ok", "latest", &d, &err), 0);
  assert_string_equal (d.data, manifest_body);
  assert_string_equal (d.digest, manifest_digest);
  assert_string_equal (d.media_type, COVE_OCI_MT_MANIFEST);
  cove_registry_document_free (&d);
  assert_int_equal (cove_registry_manifest_get (c, "ok", manifest_digest, &d, &err), 0);
  cove_registry_document_free (&d);

  const char *wrong = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
  assert_int_equal (cove_registry_manifest_get (c, "ok", wrong, &d, &err), -1);
  assert_int_equal (err->errnum, EBADMSG);
  assert_null (d.data);
  cove_error_release (&err);

  assert_int_equal (cove_registry_manifest_get (c, "big", "latest", &d, &err), -1);
  assert_int_equal (err->errnum, EFBIG);
  cove_error_release (&err);

  assert_int_equal (cove_registry_manifest_get (c, "notjson", "latest", &d, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);

  assert_int_equal (cove_registry_manifest_get (c, "nope", "latest", &d, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  char want[128];
  snprintf (want, sizeof want, "reading manifest latest in 127.0.0.1:%d/nope: manifest unknown",
            server_port);
  assert_string_equal (err->msg, want);
  cove_error_release (&err);

  /* bearer: 401, token from the realm, retry */
  assert_int_equal (cove_registry_manifest_get (c, "auth", "latest", &d, &err), 0);
  assert_string_equal (d.data, manifest_body);
  cove_registry_document_free (&d);
  cove_registry_client_free (c);
}

struct fetch_ctx
{
  struct cove_registry_blob_job *jobs;
  int rfd[2];
  int finished;
};

static int
op_start (void *ctx, size_t i, struct cove_error **err)
{
  struct fetch_ctx *f = ctx;
  int sv[2];
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  f->jobs[i].fd = sv[0];
  f->rfd[i] = sv[1];
  return 0;
}

static void
op_finish (void *ctx, size_t i)
{
  ((struct fetch_ctx *) ctx)->finished++;
}

static void
test_blobs (void **state)
{
  struct cove_registry_client *c = local_client ();
  cleanup_error struct cove_error *err = NULL;
  struct cove_registry_document d = { 0 };
  assert_int_equal (cove_registry_blob_get (c, "b", blob_digest, 100, &d, &err), 0);
  assert_string_equal (d.data, "hello world");
  cove_registry_document_free (&d);
  assert_int_equal (cove_registry_blob_get (c, "b", blob_digest, 5, &d, &err), -1);
  assert_int_equal (err->errnum, EFBIG);
  cove_error_release (&err);

  struct cove_registry_blob_job jobs[2] = {
    { .digest = blob_digest, .size = 11, .verify = true },
    { .digest = blob_digest, .size = 11, .verify = true },
  };
  struct fetch_ctx f = { .jobs = jobs };
  struct cove_registry_fetch_ops ops = { .start = op_start, .finish = op_finish, .ctx = &f };
  assert_int_equal (cove_registry_blobs_fetch (c, "b", jobs, 2, &ops, &err), 0);
  assert_int_equal (f.finished, 2);
  for (int i = 0; i < 2; i++)
    {
      char buf[32] = "";
      assert_int_equal (read (f.rfd[i], buf, sizeof buf), 11);
      assert_string_equal (buf, "hello world");
      assert_int_equal (read (f.rfd[i], buf, sizeof buf), 0);   /* closed */
      assert_int_equal (jobs[i].status, 1);
      close (f.rfd[i]);
    }

  /* truncated: Content-Length 11, 5 bytes, then the server hangs up */
  struct cove_registry_blob_job bad[1] = { { .digest = blob_digest, .size = 11 } };
  f = (struct fetch_ctx) { .jobs = bad };
  assert_int_equal (cove_registry_blobs_fetch (c, "trunc", bad, 1, &ops, &err), -1);
  assert_int_equal (err->errnum, EIO);
  assert_int_equal (bad[0].status, -1);
  close (f.rfd[0]);
  cove_error_free (bad[0].error);
  cove_error_release (&err);

  /* a size that is not the blob's: more bytes than announced */
  struct cove_registry_blob_job small[1] = { { .digest = blob_digest, .size = 4 } };
  f = (struct fetch_ctx) { .jobs = small };
  assert_int_equal (cove_registry_blobs_fetch (c, "b", small, 1, &ops, &err), -1);
  assert_int_equal (err->errnum, EIO);
  close (f.rfd[0]);
  cove_error_free (small[0].error);
  cove_error_release (&err);

  /* unknown blob */
  const char *none = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
  struct cove_registry_blob_job missing[1] = { { .digest = none, .size = 11 } };
  f = (struct fetch_ctx) { .jobs = missing };
  assert_int_equal (cove_registry_blobs_fetch (c, "b", missing, 1, &ops, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  close (f.rfd[0]);
  cove_error_free (missing[0].error);
  cove_registry_client_free (c);
}

int
main (void)
{
  const struct CMUnitTest pure[] = {
    cmocka_unit_test (test_challenge_table),
    cmocka_unit_test (test_urls),
    cmocka_unit_test (test_progress_plain),
    cmocka_unit_test (test_client_new),
    cmocka_unit_test (test_ping_refused),
  };
  const struct CMUnitTest net[] = {
    cmocka_unit_test (test_manifests),
    cmocka_unit_test (test_blobs),
  };
  int r = cmocka_run_group_tests (pure, NULL, NULL);
  return r + cmocka_run_group_tests (net, setup_server, teardown_server);
}
