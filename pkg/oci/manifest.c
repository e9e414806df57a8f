/* Image manifests and indexes, OCI and Docker schema 2.  The documents come
   from a registry or an archive: untrusted.  Every field cove reads is
   type-checked, counts and sizes are bounded, duplicate keys are refused
   (two parsers could otherwise disagree on which value counts), and a
   document that could be read as two kinds (an index with layers) is
   refused.  */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/oci/internal.h"
#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/json.h"
#include "pkg/util/xalloc.h"

/* At most this many layers in a manifest and entries in an index.  */
#define ENTRIES_MAX 1000
#define MEDIA_TYPE_PART_MAX 127

#define DOCKER_MT_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define DOCKER_MT_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define OCI_MT_ARTIFACT "application/vnd.oci.artifact.manifest.v1+json"

enum desc_role
{
  ROLE_CONFIG,
  ROLE_LAYER,
  ROLE_ENTRY,
};

bool
oci_media_type_valid (const char *s)
{
  const char *slash = s ? strchr (s, '/') : NULL;
  if (slash == NULL || slash == s || slash[1] == '\0')
    return false;
  if (slash - s > MEDIA_TYPE_PART_MAX || strlen (slash + 1) > MEDIA_TYPE_PART_MAX)
    return false;
  for (const char *p = s; *p; p++)
    if (p != slash && !(isascii ((unsigned char) *p) && isalnum ((unsigned char) *p))
        && strchr ("!#$&^_.+-", *p) == NULL)
      return false;
  return true;
}

static int
req_string (json_t *obj, const char *key, const char *where, const char **out,
            struct cove_error **err)
{
  if (cove_json_opt_string (obj, key, where, out, err) < 0)
    return -1;
  if (*out == NULL)
    return cove_error_set (err, EINVAL, "%s: `%s` is missing", where, key);
  return 0;
}

static int
check_string_array (json_t *obj, const char *key, const char *where,
                    struct cove_error **err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_array (v))
    return cove_error_set (err, EINVAL, "%s: `%s` must be an array", where, key);
  size_t i;
  json_t *e;
  json_array_foreach (v, i, e)
    if (!json_is_string (e))
      return cove_error_set (err, EINVAL, "%s: `%s` must hold strings only", where, key);
  return 0;
}

static int
check_annotations (json_t *obj, const char *where, struct cove_error **err)
{
  json_t *a = json_object_get (obj, "annotations");
  if (a == NULL)
    return 0;
  if (!json_is_object (a))
    return cove_error_set (err, EINVAL, "%s: `annotations` must be an object", where);
  const char *k;
  json_t *v;
  json_object_foreach (a, k, v)
    if (!json_is_string (v))
      return cove_error_set (err, EINVAL, "%s: annotation `%.100s` must be a string",
                             where, k);
  return 0;
}

static int
check_layer_type (const char *mt, const char *where, struct cove_error **err)
{
  static const char *const known[] = {
    COVE_OCI_MT_LAYER, COVE_OCI_MT_LAYER_GZIP, COVE_OCI_MT_LAYER_ZSTD,
    COVE_DOCKER_MT_LAYER_GZIP,
  };
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcmp (mt, known[i]) == 0)
      return 0;
  if (strstr (mt, "nondistributable") || strstr (mt, "foreign"))
    return cove_error_set (err, ENOTSUP,
                           "%s: non-distributable (foreign) layer `%s` is not supported",
                           where, mt);
  size_t n = strlen (mt);
  if (n > 10 && strcmp (mt + n - 10, "+encrypted") == 0)
    return cove_error_set (err, ENOTSUP, "%s: encrypted layer `%s` is not supported",
                           where, mt);
  return cove_error_set (err, ENOTSUP, "%s: unsupported layer media type `%s`", where, mt);
}

static int
check_role_type (const char *mt, enum desc_role role, const char *where,
                 struct cove_error **err)
{
  if (role == ROLE_LAYER)
    return check_layer_type (mt, where, err);
  if (role == ROLE_CONFIG && strcmp (mt, COVE_OCI_MT_CONFIG) != 0
      && strcmp (mt, COVE_DOCKER_MT_CONFIG) != 0)
    return cove_error_set (err, ENOTSUP,
                           "%s: config media type `%s` is not an image (an artifact?)",
                           where, mt);
  /* Index entries of unknown types (attestations, artifacts) are allowed
     but never selected: cove_oci_index_select picks image manifests.  */
  return 0;
}

static int
parse_platform (json_t *j, const char *where, struct cove_oci_descriptor *out,
                struct cove_error **err)
{
  json_t *p = json_object_get (j, "platform");
  if (p == NULL)
    return 0;
  if (!json_is_object (p))
    return cove_error_set (err, EINVAL, "%s: `platform` must be an object", where);
  const char *os, *arch, *variant, *osv;
  if (req_string (p, "os", where, &os, err) < 0
      || req_string (p, "architecture", where, &arch, err) < 0
      || cove_json_opt_string (p, "variant", where, &variant, err) < 0
      || cove_json_opt_string (p, "os.version", where, &osv, err) < 0
      || check_string_array (p, "os.features", where, err) < 0
      || check_string_array (p, "features", where, err) < 0)
    return -1;
  out->os = xstrdup (os);
  out->architecture = xstrdup (arch);
  out->variant = variant && *variant ? xstrdup (variant) : NULL;
  return 0;
}

static void
descriptor_clear (struct cove_oci_descriptor *d)
{
  free (d->media_type);
  free (d->digest);
  free (d->os);
  free (d->architecture);
  free (d->variant);
  memset (d, 0, sizeof *d);
}

static int
parse_size (json_t *j, enum desc_role role, const char *where, int64_t *out,
            struct cove_error **err)
{
  json_t *size = json_object_get (j, "size");
  if (size == NULL)
    return cove_error_set (err, EINVAL, "%s: `size` is missing", where);
  if (!json_is_integer (size) || json_integer_value (size) < 0)
    return cove_error_set (err, EINVAL, "%s: `size` must be an integer >= 0", where);
  *out = json_integer_value (size);
  /* A config or a manifest is read whole into memory: bound it here, before
     anything is downloaded.  */
  if (role != ROLE_LAYER && *out > COVE_OCI_DOCUMENT_MAX)
    return cove_error_set (err, EFBIG, "%s: size %lld is over the %d bytes limit", where,
                           (long long) *out, COVE_OCI_DOCUMENT_MAX);
  return 0;
}

static int
parse_descriptor (json_t *j, enum desc_role role, const char *where,
                  struct cove_oci_descriptor *out, struct cove_error **err)
{
  struct cove_oci_descriptor d = { 0 };
  const char *mt, *digest;
  if (!json_is_object (j))
    return cove_error_set (err, EINVAL, "%s: a descriptor must be an object", where);
  if (req_string (j, "mediaType", where, &mt, err) < 0
      || req_string (j, "digest", where, &digest, err) < 0)
    return -1;
  if (!oci_media_type_valid (mt))
    return cove_error_set (err, EINVAL, "%s: invalid media type `%.200s`", where, mt);
  if (cove_oci_digest_check (digest, err) < 0)
    return cove_error_wrap (err, "%s", where);
  if (parse_size (j, role, where, &d.size, err) < 0
      || check_annotations (j, where, err) < 0
      || check_string_array (j, "urls", where, err) < 0
      || check_role_type (mt, role, where, err) < 0)
    return -1;
  if (role == ROLE_ENTRY && parse_platform (j, where, &d, err) < 0)
    {
      descriptor_clear (&d);
      return -1;
    }
  d.media_type = xstrdup (mt);
  d.digest = xstrdup (digest);
  d.annotations = json_object_get (j, "annotations");
  *out = d;
  return 0;
}

static int
parse_descriptor_array (json_t *doc, const char *key, enum desc_role role,
                        struct cove_oci_descriptor **out, size_t *out_n,
                        struct cove_error **err)
{
  json_t *arr = json_object_get (doc, key);
  if (arr == NULL)
    return cove_error_set (err, EINVAL, "`%s` is missing", key);
  if (!json_is_array (arr))
    return cove_error_set (err, EINVAL, "`%s` must be an array", key);
  size_t n = json_array_size (arr);
  if (n > ENTRIES_MAX)
    return cove_error_set (err, EINVAL, "%zu %s: more than %d", n, key, ENTRIES_MAX);
  *out = xmalloc0 ((n ? n : 1) * sizeof **out);
  *out_n = 0;
  for (size_t i = 0; i < n; i++)
    {
      char where[64];
      snprintf (where, sizeof where, "%s[%zu]", key, i);
      if (parse_descriptor (json_array_get (arr, i), role, where, &(*out)[i], err) < 0)
        return -1;
      *out_n = i + 1;
    }
  return 0;
}

/* The Content-Type without parameters and case, or NULL when it says
   nothing about the document (generic JSON types, absent).  */
static char *
normalize_content_type (const char *ct)
{
  if (ct == NULL)
    return NULL;
  while (*ct == ' ' || *ct == '\t')
    ct++;
  size_t n = strcspn (ct, ";");
  while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
    n--;
  if (n > 2 * MEDIA_TYPE_PART_MAX + 1)
    n = 2 * MEDIA_TYPE_PART_MAX + 2;
  char *r = xstrndup (ct, n);
  for (char *p = r; *p; p++)
    *p = tolower ((unsigned char) *p);
  if (*r == '\0' || strcmp (r, "application/json") == 0 || strcmp (r, "text/plain") == 0
      || strcmp (r, "application/octet-stream") == 0)
    {
      free (r);
      return NULL;
    }
  return r;
}

static bool
is_schema1 (const char *mt)
{
  return mt && (strcmp (mt, DOCKER_MT_SCHEMA1) == 0
                || strcmp (mt, DOCKER_MT_SCHEMA1_SIGNED) == 0);
}

/* Which of the four document types: ENOTSUP for anything else.  */
static int
check_doc_type (const char *mt, const char *what, struct cove_error **err)
{
  if (strcmp (mt, COVE_OCI_MT_MANIFEST) == 0 || strcmp (mt, COVE_OCI_MT_INDEX) == 0
      || strcmp (mt, COVE_DOCKER_MT_MANIFEST) == 0 || strcmp (mt, COVE_DOCKER_MT_LIST) == 0)
    return 0;
  if (is_schema1 (mt))
    return cove_error_set (err, ENOTSUP,
                           "docker schema 1 manifests are not supported (the image must be "
                           "pushed again with a current docker, podman or skopeo)");
  if (strcmp (mt, OCI_MT_ARTIFACT) == 0)
    return cove_error_set (err, ENOTSUP, "OCI artifact manifests are not images");
  return cove_error_set (err, ENOTSUP, "unsupported %s `%.200s`", what, mt);
}

static bool
is_index_type (const char *mt)
{
  return strcmp (mt, COVE_OCI_MT_INDEX) == 0 || strcmp (mt, COVE_DOCKER_MT_LIST) == 0;
}

/* The media type of DOC: its own, else the registry's, else inferred from
   its keys; the two declarations must agree.  */
static int
doc_media_type (json_t *doc, const char *content_type, const char **out,
                struct cove_error **err)
{
  const char *declared;
  cleanup_free char *ct = normalize_content_type (content_type);
  if (cove_json_opt_string (doc, "mediaType", "manifest", &declared, err) < 0)
    return -1;
  if (declared && check_doc_type (declared, "manifest media type", err) < 0)
    return -1;
  if (ct && check_doc_type (ct, "manifest Content-Type", err) < 0)
    return -1;
  if (declared && ct && strcmp (declared, ct) != 0)
    return cove_error_set (err, EINVAL,
                           "manifest declares media type `%s` but was served as `%s`",
                           declared, ct);
  bool has_manifests = json_object_get (doc, "manifests") != NULL;
  bool has_image = json_object_get (doc, "layers") || json_object_get (doc, "config");
  if (has_manifests && has_image)
    return cove_error_set (err, EINVAL,
                           "ambiguous manifest: has both `manifests` and `layers`/`config`");
  const char *mt = declared ? declared : ct;
  if (mt == NULL && !has_manifests && !has_image)
    return cove_error_set (err, EINVAL, "not a manifest: no `layers`, `config` or `manifests`");
  if (mt == NULL)
    mt = has_manifests ? COVE_OCI_MT_INDEX : COVE_OCI_MT_MANIFEST;
  if (is_index_type (mt) ? has_image : has_manifests)
    return cove_error_set (err, EINVAL, "manifest of type `%s` has the keys of another type", mt);
  /* ct is freed on return: hand back the static spelling.  */
  static const char *const types[] = { COVE_OCI_MT_MANIFEST, COVE_OCI_MT_INDEX,
                                       COVE_DOCKER_MT_MANIFEST, COVE_DOCKER_MT_LIST };
  for (size_t i = 0; i < 4; i++)
    if (strcmp (mt, types[i]) == 0)
      *out = types[i];
  return 0;
}

static int
check_schema_version (json_t *doc, struct cove_error **err)
{
  json_t *v = json_object_get (doc, "schemaVersion");
  if (v == NULL)
    return cove_error_set (err, EINVAL, "`schemaVersion` is missing");
  if (!json_is_integer (v))
    return cove_error_set (err, EINVAL, "`schemaVersion` must be an integer");
  if (json_integer_value (v) == 1)
    return check_doc_type (DOCKER_MT_SCHEMA1, "", err);
  if (json_integer_value (v) != 2)
    return cove_error_set (err, EINVAL, "unsupported schemaVersion %lld",
                           (long long) json_integer_value (v));
  return 0;
}

static int
parse_doc (json_t *doc, const char *content_type, struct cove_oci_manifest *m,
           struct cove_error **err)
{
  const char *mt = NULL;
  if (!json_is_object (doc))
    return cove_error_set (err, EINVAL, "a manifest must be a JSON object");
  if (check_schema_version (doc, err) < 0
      || doc_media_type (doc, content_type, &mt, err) < 0
      || check_annotations (doc, "manifest", err) < 0)
    return -1;
  json_t *subject = json_object_get (doc, "subject");
  if (subject && !json_is_object (subject))
    return cove_error_set (err, EINVAL, "`subject` must be an object");
  m->media_type = xstrdup (mt);
  if (is_index_type (mt))
    {
      m->kind = COVE_OCI_DOC_INDEX;
      return parse_descriptor_array (doc, "manifests", ROLE_ENTRY, &m->manifests,
                                     &m->n_manifests, err);
    }
  m->kind = COVE_OCI_DOC_MANIFEST;
  json_t *config = json_object_get (doc, "config");
  if (config == NULL)
    return cove_error_set (err, EINVAL, "`config` is missing");
  if (parse_descriptor (config, ROLE_CONFIG, "config", &m->config, err) < 0)
    return -1;
  return parse_descriptor_array (doc, "layers", ROLE_LAYER, &m->layers, &m->n_layers, err);
}

int
cove_oci_manifest_parse (const char *data, size_t len, const char *content_type,
                         struct cove_oci_manifest *out, struct cove_error **err)
{
  struct cove_oci_manifest m = { 0 };
  json_error_t jerr;
  if (len > COVE_OCI_DOCUMENT_MAX)
    return cove_error_set (err, EFBIG, "manifest of %zu bytes is over the %d bytes limit",
                           len, COVE_OCI_DOCUMENT_MAX);
  m.doc = json_loadb (data, len, JSON_REJECT_DUPLICATES, &jerr);
  if (m.doc == NULL)
    return cove_error_set (err, EINVAL, "manifest is not valid JSON: line %d: %s",
                           jerr.line, jerr.text);
  if (parse_doc (m.doc, content_type, &m, err) < 0)
    {
      cove_oci_manifest_free (&m);
      return cove_error_wrap (err, "invalid manifest");
    }
  *out = m;
  return 0;
}

void
cove_oci_manifest_free (struct cove_oci_manifest *m)
{
  if (m == NULL)
    return;
  descriptor_clear (&m->config);
  for (size_t i = 0; i < m->n_layers; i++)
    descriptor_clear (&m->layers[i]);
  for (size_t i = 0; i < m->n_manifests; i++)
    descriptor_clear (&m->manifests[i]);
  free (m->layers);
  free (m->manifests);
  free (m->media_type);
  json_decref (m->doc);
  memset (m, 0, sizeof *m);
}

enum cove_oci_compression
cove_oci_layer_compression (const char *media_type)
{
  if (media_type == NULL)
    return COVE_OCI_COMPRESSION_NONE;
  if (strcmp (media_type, COVE_OCI_MT_LAYER_GZIP) == 0
      || strcmp (media_type, COVE_DOCKER_MT_LAYER_GZIP) == 0)
    return COVE_OCI_COMPRESSION_GZIP;
  if (strcmp (media_type, COVE_OCI_MT_LAYER_ZSTD) == 0)
    return COVE_OCI_COMPRESSION_ZSTD;
  return COVE_OCI_COMPRESSION_NONE;
}
