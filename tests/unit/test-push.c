/* Unit tests of the push side of pkg/registry (upload.c) against a tiny
   registry of the test's own on loopback (forked): HEAD, mounts, monolithic
   and chunked uploads, manifest PUT, and the answers that must be refused
   (an upload location on another host, a lying digest, bad statuses).  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/archive/archive.h"
#include "pkg/oci/oci.h"
#include "pkg/registry/registry.h"
#include "storage/storage.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "tests/unit/http-fixture.h"

static pid_t server_pid;
static int server_port;
static char server_dir[] = "/tmp/cove-test-push.XXXXXX";

/* ---- the server (a child process, one connection at a time) ---- */

/* The blob being uploaded (the child's memory lasts across connections).  */
static char upload[4096];
static size_t upload_len;

static void
respond (int fd, const char *status, const char *headers)
{
  char head[1024];
  int n = snprintf (head, sizeof head, "HTTP/1.1 %s\r\nContent-Length: 0\r\n%s"
                    "Connection: close\r\n\r\n", status, headers);
  cove_write_all (fd, head, (size_t) n, NULL);
}

/* Read a request into REQ (headers) and BODY (Content-Length bytes).  */
static int
read_request (int fd, char *req, size_t cap, char *body, size_t *body_len)
{
  size_t n = 0;
  char *end = NULL;
  while (n < cap - 1 && (end = memmem (req, n, "\r\n\r\n", 4)) == NULL)
    {
      ssize_t r = read (fd, req + n, cap - 1 - n);
      if (r <= 0)
        return -1;
      n += (size_t) r;
      /* The client tries https first: a TLS hello is hung up on.  */
      if ((unsigned char) req[0] == 0x16)
        return -1;
    }
  if (end == NULL)
    return -1;
  req[n] = '\0';
  size_t head = (size_t) (end - req) + 4, have = n - head, want = 0;
  const char *cl = strcasestr (req, "Content-Length:");
  if (cl)
    want = strtoul (cl + 15, NULL, 10);
  if (want > 4096)
    return -1;
  memcpy (body, req + head, have);
  while (have < want)
    {
      ssize_t r = read (fd, body + have, want - have);
      if (r <= 0)
        return -1;
      have += (size_t) r;
    }
  req[head] = '\0';
  *body_len = want;
  return 0;
}

/* The closing PUT of an upload: check the digest, keep the blob.  */
static void
finish_upload (int fd, const char *path)
{
  cleanup_free char *digest = cove_oci_digest_buffer (upload, upload_len);
  cleanup_free char *want = xasprintf ("digest=sha256%%3A%s", digest + 7);
  cleanup_free char *hdr = xasprintf ("Docker-Content-Digest: %s\r\n",
                                      strstr (path, "/lie/") ? "sha256:00" : digest);
  if (strstr (path, want) == NULL)
    {
      respond (fd, "400 Bad Request", "");
      return;
    }
  cleanup_free char *file = xasprintf ("%s/blob", server_dir);
  cove_file_write_atomic (file, upload, upload_len, 0644, 0, NULL);
  respond (fd, "201 Created", hdr);
}

static void
serve_upload (int fd, const char *method, const char *path, const char *req,
              const char *body, size_t len)
{
  char hdr[512];
  if (strcmp (method, "POST") == 0)
    {
      upload_len = 0;
      if (strstr (path, "mount=") && strstr (path, "from=src"))
        respond (fd, "201 Created", "");
      else if (strncmp (path, "/v2/offhost/", 12) == 0)
        respond (fd, "202 Accepted", "Location: http://192.0.2.1/v2/x/blobs/uploads/u\r\n");
      else if (strncmp (path, "/v2/status/", 11) == 0)
        respond (fd, "200 OK", "");
      else
        {
          char repo[64] = "";
          sscanf (path, "/v2/%63[^/]", repo);
          snprintf (hdr, sizeof hdr, "Location: http://127.0.0.1:%d/v2/%s/blobs/uploads/u?s=1\r\n",
                    server_port, repo);
          respond (fd, "202 Accepted", strncmp (path, "/v2/rel/", 8) == 0
                   ? "Location: /v2/rel/blobs/uploads/u?s=1\r\n" : hdr);
        }
      return;
    }
  /* PATCH: Content-Range must continue the upload.  */
  if (strcmp (method, "PATCH") == 0)
    {
      char range[64];
      snprintf (range, sizeof range, "Content-Range: %zu-%zu", upload_len,
                upload_len + len - 1);
      if (strstr (req, range) == NULL || upload_len + len > sizeof upload)
        {
          respond (fd, "416 Range Not Satisfiable", "");
          return;
        }
      memcpy (upload + upload_len, body, len);
      upload_len += len;
      respond (fd, "202 Accepted", "Location: /v2/r/blobs/uploads/u?s=2\r\n");
      return;
    }
  if (upload_len + len > sizeof upload)
    return respond (fd, "413 Payload Too Large", "");
  memcpy (upload + upload_len, body, len);
  upload_len += len;
  finish_upload (fd, path);
}

static void
serve_one (int fd)
{
  char req[8192], body[4096], method[16] = "", path[1024] = "";
  size_t len = 0;
  if (read_request (fd, req, sizeof req, body, &len) < 0
      || sscanf (req, "%15s %1023s", method, path) != 2)
    return;
  if (strcmp (path, "/v2/") == 0)
    respond (fd, "200 OK", "");
  else if (strcmp (method, "HEAD") == 0)
    respond (fd, strstr (path, "/present/") ? "200 OK"
             : strstr (path, "/broken/") ? "500 Internal Server Error" : "404 Not Found", "");
  else if (strstr (path, "/manifests/"))
    {
      cleanup_free char *d = cove_oci_digest_buffer (body, len);
      cleanup_free char *hdr = xasprintf ("Docker-Content-Digest: %s\r\n",
                                          strstr (path, "/lie/") ? "sha256:00" : d);
      respond (fd, "201 Created", hdr);
    }
  else
    serve_upload (fd, method, path, req, body, len);
}

static int
setup_server (void **state)
{
  if (mkdtemp (server_dir) == NULL)
    return -1;
  server_pid = test_http_server_start (serve_one, &server_port);
  return server_pid > 0 ? 0 : -1;
}

static int
teardown_server (void **state)
{
  test_http_server_stop (server_pid);
  cove_rm_rf (server_dir, NULL);
  return 0;
}

static struct cove_registry_client *
local_client (void)
{
  struct cove_registry_client *c = test_http_registry_client (server_port);
  assert_non_null (c);
  return c;
}

/* ---- the tests ---- */

static void
test_push_scope (void **state)
{
  cleanup_free char *s = cove_registry_push_scope ("team/app");
  assert_string_equal (s, "repository:team/app:pull,push");
}

static void
test_blob_exists (void **state)
{
  struct cove_registry_client *c = local_client ();
  cleanup_error struct cove_error *err = NULL;
  const char *d = "sha256:2fc8b55fab64b76ece749d6027685bc601c166d9463e44f90f6fc8ffe628022e";
  assert_int_equal (cove_registry_blob_exists (c, "present", d, &err), 1);
  assert_int_equal (cove_registry_blob_exists (c, "absent", d, &err), 0);
  assert_null (err);
  assert_int_equal (cove_registry_blob_exists (c, "broken", d, &err), -1);
  assert_int_equal (err->errnum, EIO);
  assert_non_null (strstr (err->msg, "checking whether a blob"));
  cove_registry_client_free (c);
}

static void
test_blob_mount (void **state)
{
  struct cove_registry_client *c = local_client ();
  cleanup_error struct cove_error *err = NULL;
  const char *d = "sha256:2fc8b55fab64b76ece749d6027685bc601c166d9463e44f90f6fc8ffe628022e";
  assert_int_equal (cove_registry_blob_mount (c, "dst", d, "src", &err), 1);
  assert_int_equal (cove_registry_blob_mount (c, "dst", d, "elsewhere", &err), 0);
  assert_null (err);
  assert_int_equal (cove_registry_blob_mount (c, "status", d, "elsewhere", &err), -1);
  assert_int_equal (err->errnum, EIO);
  cove_registry_client_free (c);
}

/* Upload DATA to REPO in chunks of CHUNK (0: one PUT); the stored blob
   must be DATA.  */
static void
upload_ok (const char *repo, const char *data, int64_t chunk)
{
  struct cove_registry_client *c = local_client ();
  cleanup_error struct cove_error *err = NULL;
  cleanup_free char *digest = cove_oci_digest_buffer (data, strlen (data));
  struct cove_registry_upload u = { .digest = digest, .size = (int64_t) strlen (data),
                                    .fd = -1, .data = data, .chunk_size = chunk };
  int r = cove_registry_blob_upload (c, repo, &u, &err);
  if (r < 0)
    fail_msg ("upload: %s", err->msg);
  cleanup_free char *file = xasprintf ("%s/blob", server_dir);
  size_t len = 0;
  cleanup_free char *got = cove_file_read_at (AT_FDCWD, file, 1 << 20, &len, &err);
  assert_non_null (got);
  assert_int_equal (len, strlen (data));
  assert_memory_equal (got, data, len);
  unlink (file);
  cove_registry_client_free (c);
}

static void
test_upload (void **state)
{
  upload_ok ("r", "hello world", 0);
  upload_ok ("rel", "a relative location", 0);
  /* 3 PATCH chunks of 10, 10 and 5 bytes, then an empty PUT.  */
  upload_ok ("r", "0123456789abcdefghijKLMNO", 10);
}

static void
upload_fails (const char *repo, int errnum, const char *words)
{
  struct cove_registry_client *c = local_client ();
  cleanup_error struct cove_error *err = NULL;
  const char *data = "hello world";
  cleanup_free char *digest = cove_oci_digest_buffer (data, strlen (data));
  struct cove_registry_upload u = { .digest = digest, .size = 11, .fd = -1,
                                    .data = data };
  assert_int_equal (cove_registry_blob_upload (c, repo, &u, &err), -1);
  assert_int_equal (err->errnum, errnum);
  if (strstr (err->msg, words) == NULL)
    fail_msg ("`%s` does not say `%s`", err->msg, words);
  cove_registry_client_free (c);
}

static void
test_upload_refused (void **state)
{
  upload_fails ("offhost", EPROTO, "is not on http://127.0.0.1");
  upload_fails ("status", EIO, "unexpected status 200");
  upload_fails ("lie", EBADMSG, "as sha256:00");
}

static void
test_manifest_put (void **state)
{
  struct cove_registry_client *c = local_client ();
  cleanup_error struct cove_error *err = NULL;
  const char *m = "{\"schemaVersion\":2}";
  assert_int_equal (cove_registry_manifest_put (c, "r", "1", COVE_OCI_MT_MANIFEST,
                                                m, strlen (m), &err), 0);
  assert_int_equal (cove_registry_manifest_put (c, "lie", "1", COVE_OCI_MT_MANIFEST,
                                                m, strlen (m), &err), -1);
  assert_int_equal (err->errnum, EBADMSG);
  cove_registry_client_free (c);
}

static void
test_refused_connection (void **state)
{
  static const char *const no_certs[] = { NULL };
  struct cove_registry_options o = { .tls_verify = 0, .certs_dirs = no_certs };
  struct cove_registry_client *c = NULL;
  cleanup_error struct cove_error *err = NULL;
  assert_int_equal (cove_registry_client_new ("127.0.0.1:1", &o, &c, &err), 0);
  assert_int_equal (cove_registry_blob_exists (c, "r", "sha256:00", &err), -1);
  assert_int_equal (err->errnum, ECONNREFUSED);
  assert_non_null (strstr (err->msg, "pinging container registry"));
  cove_registry_client_free (c);
}


/* ---- cove_storage_push: a store of one image, pushed to the server ---- */

struct store_fixture
{
  char dir[64];
  struct cove_storage_paths paths;
  struct cove_storage *s;
  struct cove_storage_image img;
};

struct mem
{
  char *buf;
  size_t len, off;
};

static int
mem_write (void *ctx, const void *buf, size_t len, struct cove_error **err)
{
  struct mem *m = ctx;
  m->buf = xrealloc (m->buf, m->len + len);
  memcpy (m->buf + m->len, buf, len);
  m->len += len;
  return 0;
}

static ssize_t
mem_read (void *ctx, const void **out, struct cove_error **err)
{
  struct mem *m = ctx;
  size_t n = m->len - m->off;
  *out = m->buf + m->off;
  m->off += n;
  return (ssize_t) n;
}

/* A layer of one file (the tar cove writes) and an image of it.  */
static void
store_image (struct store_fixture *f)
{
  cleanup_free char *tree = xasprintf ("%s/tree", f->dir);
  cleanup_free char *file = xasprintf ("%s/hello", tree);
  assert_int_equal (mkdir (tree, 0755), 0);
  assert_int_equal (cove_file_write_atomic (file, "hi\n", 3, 0644, 0, NULL), 0);
  cleanup_close int dfd = open (tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct mem tar = { 0 };
  cleanup_error struct cove_error *err = NULL;
  assert_int_equal (cove_archive_write_tree (dfd, COVE_ARCHIVE_TAR, true, mem_write,
                                             &tar, &err), 0);
  cleanup_free char *diff = NULL, *chain = NULL;
  assert_int_equal (cove_storage_layer_import (f->s, NULL, mem_read, &tar, &diff,
                                               &chain, &err), 0);
  free (tar.buf);
  cleanup_free char *config = xasprintf ("{\"architecture\":\"amd64\",\"os\":\"linux\","
                                         "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
                                         diff);
  cleanup_free char *cd = cove_oci_digest_buffer (config, strlen (config));
  assert_int_equal (cove_storage_blob_put (f->s, cd, config, strlen (config), &err), 0);
  char *layers[] = { chain, NULL };
  struct cove_storage_image img = { .id = cd + 7, .config_digest = cd, .layers = layers };
  assert_int_equal (cove_storage_image_add (f->s, &img, "localhost/one:latest", &err), 0);
  assert_int_equal (cove_storage_image_lookup (f->s, cd + 7, &f->img, &err), 0);
}

static struct store_fixture *
store_new (void)
{
  struct store_fixture *f = xmalloc0 (sizeof *f);
  snprintf (f->dir, sizeof f->dir, "/tmp/cove-push-store-XXXXXX");
  assert_non_null (mkdtemp (f->dir));
  setenv ("XDG_DATA_HOME", f->dir, 1);
  setenv ("XDG_CONFIG_HOME", f->dir, 1);
  setenv ("XDG_RUNTIME_DIR", f->dir, 1);
  setenv ("HOME", f->dir, 1);
  cleanup_free char *conf = xasprintf ("%s/registries.conf", f->dir);
  assert_int_equal (cove_file_write_atomic (conf, "", 0, 0644, 0, NULL), 0);
  setenv ("CONTAINERS_REGISTRIES_CONF", conf, 1);
  cleanup_error struct cove_error *err = NULL;
  assert_int_equal (cove_storage_paths_init (&f->paths, &err), 0);
  assert_int_equal (cove_storage_open (&f->paths, &f->s, &err), 0);
  store_image (f);
  return f;
}

static void
store_free (struct store_fixture *f)
{
  cove_storage_image_free (&f->img);
  cove_storage_close (f->s);
  cove_storage_paths_free (&f->paths);
  cove_rm_rf (f->dir, NULL);
  free (f);
}

/* Entries of the store's tmp/ (a push leaves none of its own).  */
static int
tmp_entries (struct store_fixture *f)
{
  cleanup_free char *path = xasprintf ("%s/tmp", f->paths.data_dir);
  DIR *d = opendir (path);
  int n = 0;
  for (struct dirent *de; d && (de = readdir (d)) != NULL;)
    n += de->d_name[0] != '.';
  if (d)
    closedir (d);
  return n;
}

static void
test_storage_push (void **state)
{
  struct store_fixture *f = store_new ();
  cleanup_error struct cove_error *err = NULL;
  FILE *out = fopen ("/dev/null", "we");
  struct cove_storage_push_options o = { .tls_verify = 0, .progress = out };
  cleanup_free char *dest = xasprintf ("127.0.0.1:%d/img:1", server_port);
  cleanup_free char *digest = NULL;
  /* The store's lease of what it uses lives in tmp/ too: made first.  */
  assert_true (cove_storage_blob_exists (f->s, f->img.config_digest));
  int before = tmp_entries (f);
  int r = cove_storage_push (f->s, &f->img, dest, &o, &digest, &err);
  if (r < 0)
    fail_msg ("push: %s", err->msg);
  assert_true (cove_oci_digest_valid (digest));
  assert_int_equal (tmp_entries (f), before);
  /* v2s2 with zstd: refused before anything is sent.  */
  o.format = "v2s2";
  o.compression = "zstd";
  assert_int_equal (cove_storage_push (f->s, &f->img, dest, &o, NULL, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  o.format = o.compression = NULL;
  /* A digest or no registry: EINVAL.  */
  assert_int_equal (cove_storage_push (f->s, &f->img, "localhost:5000/a@sha256:"
                                       "2fc8b55fab64b76ece749d6027685bc601c166d9463e44f90f6fc8ffe628022e",
                                       &o, NULL, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  assert_int_equal (cove_storage_push (f->s, &f->img, "noregistry", &o, NULL, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  /* Nobody listens: ECONNREFUSED, and nothing left behind.  */
  assert_int_equal (cove_storage_push (f->s, &f->img, "127.0.0.1:1/img:1", &o, NULL,
                                       &err), -1);
  assert_int_equal (err->errnum, ECONNREFUSED);
  assert_int_equal (tmp_entries (f), before);
  fclose (out);
  store_free (f);
}

int
main (void)
{
  const struct CMUnitTest pure[] = {
    cmocka_unit_test (test_push_scope),
    cmocka_unit_test (test_refused_connection),
  };
  const struct CMUnitTest net[] = {
    cmocka_unit_test (test_blob_exists),
    cmocka_unit_test (test_blob_mount),
    cmocka_unit_test (test_upload),
    cmocka_unit_test (test_upload_refused),
    cmocka_unit_test (test_manifest_put),
    cmocka_unit_test (test_storage_push),
  };
  int r = cmocka_run_group_tests (pure, NULL, NULL);
  return r + cmocka_run_group_tests (net, setup_server, teardown_server);
}
