/* Unit tests of pkg/oci: references, digests, manifests, indexes,
   platforms, image configs.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

#define D1 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D2 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D3 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

struct ref_case
{
  const char *in;
  const char *registry, *repository, *tag, *digest;
};

static void
test_ref_valid (void **state)
{
  static const struct ref_case cases[] = {
    { "busybox", NULL, "busybox", NULL, NULL },
    { "busybox:1.36", NULL, "busybox", "1.36", NULL },
    { "library/busybox", NULL, "library/busybox", NULL, NULL },
    { "docker.io/busybox", "docker.io", "library/busybox", NULL, NULL },
    { "index.docker.io/busybox:latest", "docker.io", "library/busybox", "latest", NULL },
    { "docker.io/team/app", "docker.io", "team/app", NULL, NULL },
    { "localhost/web", "localhost", "web", NULL, NULL },
    { "localhost:5000/a/b:tag@" D1, "localhost:5000", "a/b", "tag", D1 },
    { "quay.io/a/b/c@" D1, "quay.io", "a/b/c", NULL, D1 },
    { "registry.example.com:443/x__y/a.b-c---d", "registry.example.com:443", "x__y/a.b-c---d",
      NULL, NULL },
    { "[::1]:5000/img:v_1.2-rc", "[::1]:5000", "img", "v_1.2-rc", NULL },
    { "Example.COM/lower", "Example.COM", "lower", NULL, NULL },
    { "localhost:5000", NULL, "localhost", "5000", NULL },
    { "a:_TAG", NULL, "a", "_TAG", NULL },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct cove_oci_ref r = { 0 };
      struct cove_error *err = NULL;
      if (cove_oci_ref_parse (cases[i].in, &r, &err) < 0)
        fail_msg ("%s: %s", cases[i].in, err->msg);
      if (cases[i].registry)
        assert_string_equal (r.registry, cases[i].registry);
      else
        assert_null (r.registry);
      assert_string_equal (r.repository, cases[i].repository);
      if (cases[i].tag)
        assert_string_equal (r.tag, cases[i].tag);
      else
        assert_null (r.tag);
      if (cases[i].digest)
        assert_string_equal (r.digest, cases[i].digest);
      else
        assert_null (r.digest);
      cove_oci_ref_free (&r);
    }
}

static void
test_ref_invalid (void **state)
{
  char long_name[300], long_tag[200];
  memset (long_name, 'a', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  snprintf (long_tag, sizeof long_tag, "a:%0129d", 0);
  const char *cases[] = {
    "", "Busybox", "docker.io/Busybox", "a//b", "/a", "a/", "-a", "a-", "a..b", "a._b",
    "a___b", "a:", "a:-x", "a:t@", "a@sha256:abc", "a@sha256:" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
    "a@sha512:00", "a@md5:0123456789abcdef0123456789abcdef", "exa_mple.com/a", "-x.com/a",
    "x.com:port/a", "x.com:123456/a", "[zz]:5/a", "a b", "a\tb", "é", "a:ta g",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", long_name, long_tag,
    "localhost:5000/", "a@", "@" D1,
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct cove_oci_ref r = { 0 };
      struct cove_error *err = NULL;
      if (cove_oci_ref_parse (cases[i], &r, &err) == 0)
        fail_msg ("accepted `%s`", cases[i]);
      assert_int_equal (err->errnum, EINVAL);
      assert_null (r.repository);
      cove_error_free (err);
    }
  struct cove_error *err = NULL;
  struct cove_oci_ref r = { 0 };
  assert_int_equal (cove_oci_ref_parse ("Busybox", &r, &err), -1);
  assert_non_null (strstr (err->msg, "lowercase"));
  cove_error_free (err);
  err = NULL;
  assert_int_equal (cove_oci_ref_parse (NULL, &r, &err), -1);
  cove_error_free (err);
}

static void
test_ref_format_qualify (void **state)
{
  struct cove_oci_ref r = { 0 }, q = { 0 };
  struct cove_error *err = NULL;
  assert_int_equal (cove_oci_ref_parse ("busybox", &r, &err), 0);
  char *s = cove_oci_ref_format (&r);
  assert_string_equal (s, "busybox");
  free (s);
  assert_int_equal (cove_oci_ref_qualify (&r, NULL, &q, &err), 0);
  s = cove_oci_ref_format (&q);
  assert_string_equal (s, "docker.io/library/busybox:latest");
  free (s);
  cove_oci_ref_free (&q);
  assert_int_equal (cove_oci_ref_qualify (&r, "quay.io", &q, &err), 0);
  s = cove_oci_ref_format (&q);
  assert_string_equal (s, "quay.io/busybox:latest");
  free (s);
  cove_oci_ref_free (&q);
  cove_oci_ref_free (&r);

  /* A digest alone gets no tag; a registry already there stays.  */
  assert_int_equal (cove_oci_ref_parse ("localhost:5000/a/b@" D1, &r, &err), 0);
  assert_int_equal (cove_oci_ref_qualify (&r, "quay.io", &q, &err), 0);
  s = cove_oci_ref_format (&q);
  assert_string_equal (s, "localhost:5000/a/b@" D1);
  free (s);
  cove_oci_ref_free (&q);
  cove_oci_ref_free (&r);

  assert_int_equal (cove_oci_ref_parse ("app", &r, &err), 0);
  assert_int_equal (cove_oci_ref_qualify (&r, "bad_host!", &q, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  assert_null (q.registry);
  cove_error_release (&err);
  cove_oci_ref_free (&r);
}

static void
test_digest (void **state)
{
  assert_true (cove_oci_digest_valid (D1));
  assert_false (cove_oci_digest_valid (NULL));
  assert_false (cove_oci_digest_valid ("sha256:"));
  assert_false (cove_oci_digest_valid (D1 "0"));
  assert_false (cove_oci_digest_valid ("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
  assert_false (cove_oci_digest_valid ("sha512:00"));
  struct cove_error *err = NULL;
  assert_int_equal (cove_oci_digest_check (D1, &err), 0);
  assert_int_equal (cove_oci_digest_check ("sha512:abcd", &err), -1);
  assert_int_equal (err->errnum, ENOTSUP);
  cove_error_release (&err);
  assert_int_equal (cove_oci_digest_check ("sha256:xyz", &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  assert_int_equal (cove_oci_digest_check ("nonsense", &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);

  char *d = cove_oci_digest_buffer ("", 0);
  assert_string_equal (d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  free (d);
  struct cove_oci_hasher *h = cove_oci_hasher_new ();
  cove_oci_hasher_update (h, "ab", 2);
  cove_oci_hasher_update (h, "c", 1);
  d = cove_oci_hasher_finish (h);
  assert_string_equal (d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  free (d);
  cove_oci_hasher_free (cove_oci_hasher_new ());
  cove_oci_hasher_free (NULL);
}

#define CONFIG_DESC(mt) "{\"mediaType\":\"" mt "\",\"digest\":\"" D1 "\",\"size\":100}"
#define LAYER_DESC(mt) "{\"mediaType\":\"" mt "\",\"digest\":\"" D2 "\",\"size\":2000}"

static const char oci_manifest[] =
  "{\"schemaVersion\":2,\"mediaType\":\"" COVE_OCI_MT_MANIFEST "\","
  "\"config\":" CONFIG_DESC (COVE_OCI_MT_CONFIG) ","
  "\"layers\":[" LAYER_DESC (COVE_OCI_MT_LAYER_GZIP) "," LAYER_DESC (COVE_OCI_MT_LAYER_ZSTD)
  "," LAYER_DESC (COVE_OCI_MT_LAYER) "],\"annotations\":{\"a\":\"b\"}}";

static const char docker_manifest[] =
  "{\"schemaVersion\":2,\"mediaType\":\"" COVE_DOCKER_MT_MANIFEST "\","
  "\"config\":" CONFIG_DESC (COVE_DOCKER_MT_CONFIG) ","
  "\"layers\":[" LAYER_DESC (COVE_DOCKER_MT_LAYER_GZIP) "]}";

#define ENTRY(digest, os, arch, variant)                                                  \
  "{\"mediaType\":\"" COVE_OCI_MT_MANIFEST "\",\"digest\":\"" digest "\",\"size\":500," \
  "\"platform\":{\"os\":\"" os "\",\"architecture\":\"" arch "\"" variant "}}"

static const char oci_index[] =
  "{\"schemaVersion\":2,\"mediaType\":\"" COVE_OCI_MT_INDEX "\",\"manifests\":["
  ENTRY (D1, "linux", "amd64", "") ","
  ENTRY (D2, "linux", "arm", ",\"variant\":\"v6\"") ","
  ENTRY (D3, "linux", "arm", ",\"variant\":\"v7\"") ","
  ENTRY (D1, "linux", "arm64", ",\"variant\":\"v8\"") ","
  ENTRY (D2, "windows", "amd64", ",\"os.version\":\"10.0\"") ","
  "{\"mediaType\":\"application/vnd.in-toto+json\",\"digest\":\"" D3 "\",\"size\":1,"
  "\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}}"
  "]}";

static void
test_manifest_valid (void **state)
{
  struct cove_oci_manifest m = { 0 };
  struct cove_error *err = NULL;
  assert_int_equal (cove_oci_manifest_parse (oci_manifest, strlen (oci_manifest),
                                             COVE_OCI_MT_MANIFEST, &m, &err), 0);
  assert_int_equal (m.kind, COVE_OCI_DOC_MANIFEST);
  assert_string_equal (m.media_type, COVE_OCI_MT_MANIFEST);
  assert_string_equal (m.config.digest, D1);
  assert_int_equal (m.config.size, 100);
  assert_int_equal (m.n_layers, 3);
  assert_int_equal (cove_oci_layer_compression (m.layers[0].media_type), COVE_OCI_COMPRESSION_GZIP);
  assert_int_equal (cove_oci_layer_compression (m.layers[1].media_type), COVE_OCI_COMPRESSION_ZSTD);
  assert_int_equal (cove_oci_layer_compression (m.layers[2].media_type), COVE_OCI_COMPRESSION_NONE);
  cove_oci_manifest_free (&m);

  /* Docker, with a Content-Type that has parameters and case.  */
  assert_int_equal (cove_oci_manifest_parse (docker_manifest, strlen (docker_manifest),
                                             "Application/VND.docker.distribution.manifest.v2+json; charset=utf-8",
                                             &m, &err), 0);
  assert_string_equal (m.media_type, COVE_DOCKER_MT_MANIFEST);
  assert_int_equal (cove_oci_layer_compression (m.layers[0].media_type), COVE_OCI_COMPRESSION_GZIP);
  cove_oci_manifest_free (&m);

  /* No mediaType, no Content-Type: inferred from the keys.  */
  const char *bare = "{\"schemaVersion\":2,\"config\":" CONFIG_DESC (COVE_OCI_MT_CONFIG)
                     ",\"layers\":[]}";
  assert_int_equal (cove_oci_manifest_parse (bare, strlen (bare), "application/json", &m, &err), 0);
  assert_string_equal (m.media_type, COVE_OCI_MT_MANIFEST);
  assert_int_equal (m.n_layers, 0);
  cove_oci_manifest_free (&m);

  assert_int_equal (cove_oci_manifest_parse (oci_index, strlen (oci_index), NULL, &m, &err), 0);
  assert_int_equal (m.kind, COVE_OCI_DOC_INDEX);
  assert_int_equal (m.n_manifests, 6);
  assert_string_equal (m.manifests[2].variant, "v7");
  assert_null (m.manifests[0].variant);
  cove_oci_manifest_free (&m);
  cove_oci_manifest_free (NULL);
}

struct bad_case
{
  const char *doc;
  const char *content_type;
  int errnum;
};

static void
test_manifest_invalid (void **state)
{
  static const struct bad_case cases[] = {
    { "", NULL, EINVAL },
    { "not json", NULL, EINVAL },
    { "[]", NULL, EINVAL },
    { "{\"schemaVersion\":2,\"schemaVersion\":2,\"config\":" CONFIG_DESC (COVE_OCI_MT_CONFIG)
      ",\"layers\":[]}", NULL, EINVAL },
    { "{\"config\":" CONFIG_DESC (COVE_OCI_MT_CONFIG) ",\"layers\":[]}", NULL, EINVAL },
    { "{\"schemaVersion\":\"2\",\"config\":" CONFIG_DESC (COVE_OCI_MT_CONFIG) ",\"layers\":[]}",
      NULL, EINVAL },
    { "{\"schemaVersion\":1,\"name\":\"a\",\"fsLayers\":[]}", NULL, ENOTSUP },
    { "{\"schemaVersion\":3,\"config\":" CONFIG_DESC (COVE_OCI_MT_CONFIG) ",\"layers\":[]}",
      NULL, EINVAL },
    { "{\"schemaVersion\":2}", NULL, EINVAL },
    /* contradiction between the document and the Content-Type */
    { "{\"schemaVersion\":2,\"mediaType\":\"" COVE_OCI_MT_MANIFEST "\",\"config\":"
      CONFIG_DESC (COVE_OCI_MT_CONFIG) ",\"layers\":[]}", COVE_DOCKER_MT_MANIFEST, EINVAL },
    { "{\"schemaVersion\":2,\"config\":" CONFIG_DESC (COVE_OCI_MT_CONFIG) ",\"layers\":[]}",
      "application/vnd.docker.distribution.manifest.v1+prettyjws", ENOTSUP },
    { "{\"schemaVersion\":2,\"mediaType\":\"application/x-foo\",\"layers\":[]}", NULL, ENOTSUP },
    { "{\"schemaVersion\":2,\"mediaType\":7,\"layers\":[]}", NULL, EINVAL },
    /* ambiguous: both layers and manifests */
    { "{\"schemaVersion\":2,\"config\":" CONFIG_DESC (COVE_OCI_MT_CONFIG)
      ",\"layers\":[],\"manifests\":[]}", NULL, EINVAL },
    { "{\"schemaVersion\":2,\"mediaType\":\"" COVE_OCI_MT_INDEX "\",\"layers\":[]}", NULL, EINVAL },
    { "{\"schemaVersion\":2,\"layers\":[]}", NULL, EINVAL },
    { "{\"schemaVersion\":2,\"config\":" CONFIG_DESC (COVE_OCI_MT_CONFIG) "}", NULL, EINVAL },
    { "{\"schemaVersion\":2,\"config\":" CONFIG_DESC (COVE_OCI_MT_CONFIG) ",\"layers\":{}}",
      NULL, EINVAL },
    { "{\"schemaVersion\":2,\"config\":" CONFIG_DESC ("application/vnd.cncf.helm.config.v1+json")
      ",\"layers\":[]}", NULL, ENOTSUP },
    { "{\"schemaVersion\":2,\"config\":" CONFIG_DESC (COVE_OCI_MT_CONFIG) ",\"layers\":["
      LAYER_DESC ("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip") "]}",
      NULL, ENOTSUP },
    { "{\"schemaVersion\":2,\"config\":" CONFIG_DESC (COVE_OCI_MT_CONFIG) ",\"layers\":["
      LAYER_DESC ("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip") "]}",
      NULL, ENOTSUP },
    { "{\"schemaVersion\":2,\"config\":" CONFIG_DESC (COVE_OCI_MT_CONFIG) ",\"layers\":["
      LAYER_DESC ("application/vnd.oci.image.layer.v1.tar+gzip+encrypted") "]}", NULL, ENOTSUP },
    { "{\"schemaVersion\":2,\"config\":" CONFIG_DESC (COVE_OCI_MT_CONFIG) ",\"layers\":["
      LAYER_DESC ("text/html") "]}", NULL, ENOTSUP },
    { "{\"schemaVersion\":2,\"config\":" CONFIG_DESC (COVE_OCI_MT_CONFIG) ",\"layers\":["
      LAYER_DESC ("nonsense") "]}", NULL, EINVAL },
    /* descriptors: digest, size, types */
    { "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" COVE_OCI_MT_CONFIG "\",\"digest\":"
      "\"sha256:00\",\"size\":1},\"layers\":[]}", NULL, EINVAL },
    { "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" COVE_OCI_MT_CONFIG "\",\"digest\":"
      "\"sha512:00\",\"size\":1},\"layers\":[]}", NULL, ENOTSUP },
    { "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" COVE_OCI_MT_CONFIG "\",\"digest\":\""
      D1 "\",\"size\":-1},\"layers\":[]}", NULL, EINVAL },
    { "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" COVE_OCI_MT_CONFIG "\",\"digest\":\""
      D1 "\",\"size\":1.5},\"layers\":[]}", NULL, EINVAL },
    { "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" COVE_OCI_MT_CONFIG "\",\"digest\":\""
      D1 "\"},\"layers\":[]}", NULL, EINVAL },
    { "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" COVE_OCI_MT_CONFIG "\",\"digest\":\""
      D1 "\",\"size\":99999999},\"layers\":[]}", NULL, EFBIG },
    { "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}", NULL,
      EINVAL },
    { "{\"schemaVersion\":2,\"config\":" CONFIG_DESC (COVE_OCI_MT_CONFIG) ",\"layers\":[7]}",
      NULL, EINVAL },
    { "{\"schemaVersion\":2,\"config\":" CONFIG_DESC (COVE_OCI_MT_CONFIG) ",\"layers\":[],"
      "\"annotations\":{\"a\":1}}", NULL, EINVAL },
    /* index entries */
    { "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" COVE_OCI_MT_MANIFEST "\",\"digest\":\""
      D1 "\",\"size\":1,\"platform\":{\"os\":\"linux\"}}]}", NULL, EINVAL },
    { "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" COVE_OCI_MT_MANIFEST "\",\"digest\":\""
      D1 "\",\"size\":1,\"platform\":\"linux/amd64\"}]}", NULL, EINVAL },
    { "{\"schemaVersion\":2,\"manifests\":{}}", NULL, EINVAL },
    { "{\"schemaVersion\":2,\"manifests\":[],\"mediaType\":\"application/vnd.oci.artifact.manifest.v1+json\"}", NULL, ENOTSUP },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct cove_oci_manifest m = { 0 };
      struct cove_error *err = NULL;
      if (cove_oci_manifest_parse (cases[i].doc, strlen (cases[i].doc), cases[i].content_type,
                                   &m, &err) == 0)
        fail_msg ("case %zu accepted", i);
      if (err->errnum != cases[i].errnum)
        fail_msg ("case %zu: errnum %d, message %s", i, err->errnum, err->msg);
      assert_null (m.doc);
      cove_error_free (err);
    }
}

static void
test_manifest_limits (void **state)
{
  struct cove_oci_manifest m = { 0 };
  struct cove_error *err = NULL;
  size_t big = COVE_OCI_DOCUMENT_MAX + 1;
  char *buf = xmalloc (big);
  memset (buf, ' ', big);
  assert_int_equal (cove_oci_manifest_parse (buf, big, NULL, &m, &err), -1);
  assert_int_equal (err->errnum, EFBIG);
  cove_error_release (&err);
  free (buf);

  /* 1001 layers */
  size_t cap = 1001 * 200 + 1000;
  char *doc = xmalloc (cap);
  size_t n = snprintf (doc, cap, "{\"schemaVersion\":2,\"config\":%s,\"layers\":[",
                       CONFIG_DESC (COVE_OCI_MT_CONFIG));
  for (int i = 0; i < 1001; i++)
    n += snprintf (doc + n, cap - n, "%s%s", i ? "," : "", LAYER_DESC (COVE_OCI_MT_LAYER_GZIP));
  n += snprintf (doc + n, cap - n, "]}");
  assert_int_equal (cove_oci_manifest_parse (doc, n, NULL, &m, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  free (doc);
}

static void
test_platform (void **state)
{
  const char *os, *arch, *variant;
  cove_oci_host_platform (&os, &arch, &variant);
  assert_string_equal (os, "linux");
#if defined(__x86_64__)
  assert_string_equal (arch, "amd64");
  assert_null (variant);
#endif
  char *o, *a, *v;
  struct cove_error *err = NULL;
  assert_int_equal (cove_oci_platform_parse ("linux/arm64/v8", &o, &a, &v, &err), 0);
  assert_string_equal (o, "linux");
  assert_string_equal (a, "arm64");
  assert_string_equal (v, "v8");
  free (o), free (a), free (v);
  assert_int_equal (cove_oci_platform_parse ("linux/x86_64", &o, &a, &v, &err), 0);
  assert_string_equal (a, "amd64");
  assert_null (v);
  free (o), free (a);
  const char *bad[] = { "", "linux", "linux/", "/amd64", "linux/amd64/", "a/b/c/d", "linux/am d64", NULL };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      assert_int_equal (cove_oci_platform_parse (bad[i], &o, &a, &v, &err), -1);
      assert_int_equal (err->errnum, EINVAL);
      cove_error_release (&err);
    }
}

static void
test_index_select (void **state)
{
  struct cove_oci_manifest m = { 0 };
  struct cove_error *err = NULL;
  assert_int_equal (cove_oci_manifest_parse (oci_index, strlen (oci_index), NULL, &m, &err), 0);
  assert_int_equal (cove_oci_index_select (&m, "linux", "amd64", NULL, &err), 0);
  assert_int_equal (cove_oci_index_select (&m, "linux", "x86_64", NULL, &err), 0);
  assert_int_equal (cove_oci_index_select (&m, "linux", "arm", NULL, &err), 2);
  assert_int_equal (cove_oci_index_select (&m, "linux", "arm", "v6", &err), 1);
  assert_int_equal (cove_oci_index_select (&m, "linux", "arm64", NULL, &err), 3);
  assert_int_equal (cove_oci_index_select (&m, "linux", "aarch64", "v8", &err), 3);
  assert_int_equal (cove_oci_index_select (&m, "windows", "amd64", NULL, &err), 4);
  /* amd64 asked with a variant: the entry without one matches */
  assert_int_equal (cove_oci_index_select (&m, "linux", "amd64", "v3", &err), 0);
  assert_int_equal (cove_oci_index_select (&m, "linux", "arm", "v5", &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  assert_non_null (strstr (err->msg, "no image found in manifest list for architecture arm"));
  cove_error_release (&err);
  assert_int_equal (cove_oci_index_select (&m, "linux", "s390x", NULL, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_release (&err);
  /* the attestation entry is never picked */
  assert_int_equal (cove_oci_index_select (&m, "unknown", "unknown", NULL, &err), -1);
  cove_error_release (&err);
  cove_oci_manifest_free (&m);

  /* an arm64 entry without a variant matches, but v8 is preferred */
  const char *idx = "{\"schemaVersion\":2,\"mediaType\":\"" COVE_DOCKER_MT_LIST "\",\"manifests\":["
    "{\"mediaType\":\"" COVE_DOCKER_MT_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":1,"
    "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
    "{\"mediaType\":\"" COVE_DOCKER_MT_MANIFEST "\",\"digest\":\"" D2 "\",\"size\":1,"
    "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}}]}";
  assert_int_equal (cove_oci_manifest_parse (idx, strlen (idx), COVE_DOCKER_MT_LIST, &m, &err), 0);
  assert_int_equal (cove_oci_index_select (&m, "linux", "arm64", NULL, &err), 1);
  assert_int_equal (cove_oci_index_select (&m, "linux", "arm64", "v9", &err), 0);
  cove_oci_manifest_free (&m);

  /* select on a manifest */
  assert_int_equal (cove_oci_manifest_parse (oci_manifest, strlen (oci_manifest), NULL, &m, &err), 0);
  assert_int_equal (cove_oci_index_select (&m, "linux", "amd64", NULL, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  cove_oci_manifest_free (&m);
}

static const char image_config[] =
  "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
  "\"Env\":[\"PATH=/usr/bin:/bin\",\"A=\"],\"Cmd\":[\"sh\",\"-c\",\"echo\"],"
  "\"Entrypoint\":null,\"WorkingDir\":\"/srv\",\"User\":\"1000:1000\",\"StopSignal\":\"SIGINT\","
  "\"Volumes\":{\"/data\":{},\"/cache\":{}},\"ExposedPorts\":{\"80/tcp\":{}},"
  "\"Labels\":{\"x\":\"y\"}},"
  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]},"
  "\"history\":[{\"created_by\":\"x\"}]}";

static void
test_config_valid (void **state)
{
  struct cove_oci_config c = { 0 };
  struct cove_error *err = NULL;
  assert_int_equal (cove_oci_config_parse (image_config, strlen (image_config), &c, &err), 0);
  assert_string_equal (c.architecture, "amd64");
  assert_string_equal (c.os, "linux");
  assert_null (c.variant);
  assert_int_equal (cove_strv_len (c.env), 2);
  assert_string_equal (c.env[0], "PATH=/usr/bin:/bin");
  assert_int_equal (cove_strv_len (c.cmd), 3);
  assert_null (c.entrypoint);
  assert_string_equal (c.working_dir, "/srv");
  assert_string_equal (c.user, "1000:1000");
  assert_string_equal (c.stop_signal, "SIGINT");
  assert_int_equal (cove_strv_len (c.volumes), 2);
  assert_string_equal (c.volumes[0], "/cache");
  assert_string_equal (c.exposed_ports[0], "80/tcp");
  assert_int_equal (c.n_diff_ids, 2);
  assert_string_equal (c.diff_ids[1], D2);
  cove_oci_config_free (&c);

  /* minimal: no config at all, empty strings mean unset */
  const char *min = "{\"config\":{\"WorkingDir\":\"\",\"Env\":null},"
                    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
  assert_int_equal (cove_oci_config_parse (min, strlen (min), &c, &err), 0);
  assert_non_null (c.env);
  assert_null (c.env[0]);
  assert_null (c.cmd);
  assert_null (c.working_dir);
  assert_null (c.volumes[0]);
  assert_int_equal (c.n_diff_ids, 0);
  cove_oci_config_free (&c);
  cove_oci_config_free (NULL);
}

static void
test_config_invalid (void **state)
{
#define ROOTFS "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}"
  static const char *const cases[] = {
    "", "[]", "{}", "{\"rootfs\":{\"type\":\"layers\"}}",
    "{\"rootfs\":{\"type\":\"zfs\",\"diff_ids\":[]}}",
    "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:00\"]}}",
    "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[7]}}",
    "{\"os\":1," ROOTFS "}",
    "{\"config\":[]," ROOTFS "}",
    "{\"config\":{\"Env\":\"A=1\"}," ROOTFS "}",
    "{\"config\":{\"Env\":[1]}," ROOTFS "}",
    "{\"config\":{\"Env\":[\"NOEQUALS\"]}," ROOTFS "}",
    "{\"config\":{\"Cmd\":\"sh\"}," ROOTFS "}",
    "{\"config\":{\"Entrypoint\":[null]}," ROOTFS "}",
    "{\"config\":{\"User\":0}," ROOTFS "}",
    "{\"config\":{\"Volumes\":[\"/a\"]}," ROOTFS "}",
    "{\"config\":{\"ExposedPorts\":{\"80\":1}}," ROOTFS "}",
    "{\"config\":{},\"config\":{}," ROOTFS "}",
    "{\"history\":{}," ROOTFS "}",
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct cove_oci_config c = { 0 };
      struct cove_error *err = NULL;
      if (cove_oci_config_parse (cases[i], strlen (cases[i]), &c, &err) == 0)
        fail_msg ("accepted `%s`", cases[i]);
      assert_int_equal (err->errnum, EINVAL);
      assert_null (c.doc);
      cove_error_free (err);
    }
  struct cove_oci_config c = { 0 };
  struct cove_error *err = NULL;
  char sha512[200];
  snprintf (sha512, sizeof sha512, "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha512:%s\"]}}",
            "abcd");
  assert_int_equal (cove_oci_config_parse (sha512, strlen (sha512), &c, &err), -1);
  assert_int_equal (err->errnum, ENOTSUP);
  cove_error_release (&err);
  assert_int_equal (cove_oci_config_parse ("{}", COVE_OCI_DOCUMENT_MAX + 1, &c, &err), -1);
  assert_int_equal (err->errnum, EFBIG);
  cove_error_release (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_ref_valid),
    cmocka_unit_test (test_ref_invalid),
    cmocka_unit_test (test_ref_format_qualify),
    cmocka_unit_test (test_digest),
    cmocka_unit_test (test_manifest_valid),
    cmocka_unit_test (test_manifest_invalid),
    cmocka_unit_test (test_manifest_limits),
    cmocka_unit_test (test_platform),
    cmocka_unit_test (test_index_select),
    cmocka_unit_test (test_config_valid),
    cmocka_unit_test (test_config_invalid),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
