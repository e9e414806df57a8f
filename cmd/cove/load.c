/* cove load: images from a docker-archive, an oci-archive or an OCI layout
   directory (cove-full).  The archive is untrusted: every name it gives is
   checked, every blob verified against its digest, every layer against the
   config's diff_id, before an image is recorded.  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/imgutil.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "cmd/cove/saveload.h"
#include "cmd/cove/store.h"
#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

#define REF_NAME_ANNOTATION "org.opencontainers.image.ref.name"

enum { OPT_HELP = 1, OPT_INPUT, OPT_QUIET };

static const struct cove_opt load_opts[] = {
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for load" },
  { "input", 'i', COVE_OPT_VALUE, OPT_INPUT, "string", "Read from specified archive file (default: stdin)" },
  { "quiet", 'q', COVE_OPT_BOOL, OPT_QUIET, NULL, "Suppress the output" },
  { NULL, 0, 0, 0, NULL, NULL },
};

/* One image of the archive, ready to record.  */
struct load_image
{
  char *config_digest;
  char *manifest_digest;      /* oci: the manifest blob; else NULL */
  char **names;
  struct sl_layer *layers;
  size_t n_layers;
};

static void
load_image_clear (struct load_image *li)
{
  free (li->config_digest);
  free (li->manifest_digest);
  cove_strv_free (li->names);
  cove_sl_layers_free (li->layers, li->n_layers);
  *li = (struct load_image) { 0 };
}

/* Store blob DIGEST from member NAME of the archive; the store checks the
   content against DIGEST (EBADMSG).  *OUT_DATA and *OUT_LEN: its bytes.  */
static int
put_blob (struct sl_source *src, struct cove_storage *s, const char *name,
          const char *digest, const char **out_data, size_t *out_len,
          struct cove_error **err)
{
  const char *data = cove_sl_source_get (src, name, COVE_OCI_DOCUMENT_MAX,
                                         out_len, err);
  if (data == NULL)
    return -1;
  if (cove_storage_blob_put (s, digest, data, *out_len, err) < 0)
    return cove_error_wrap (err, "`%s`", name);
  *out_data = data;
  return 0;
}

/* Read config member NAME, store it, and make the layer list of LI from
   the config's diff_ids and MEMBERS (the archive members of the layers,
   bottom first) and DIGESTS (their compressed digests, or NULL).  */
static int
take_config (struct sl_source *src, struct cove_storage *s, const char *name,
             const char *digest, char **members, char **digests,
             size_t n, struct load_image *li, struct cove_error **err)
{
  size_t len;
  const char *data = cove_sl_source_get (src, name, COVE_OCI_DOCUMENT_MAX,
                                         &len, err);
  if (data == NULL)
    return -1;
  cleanup_free char *computed = cove_oci_digest_buffer (data, len);
  if (digest == NULL)
    digest = computed;
  struct cove_oci_config cfg;
  if (cove_oci_config_parse (data, len, &cfg, err) < 0)
    return cove_error_wrap (err, "config `%s`", name);
  int ret = 0;
  if (cfg.n_diff_ids != n)
    ret = cove_error_set (err, EINVAL, "config `%s` lists %zu layers, the "
                          "manifest %zu", name, cfg.n_diff_ids, n);
  else if (cove_storage_blob_put (s, digest, data, len, err) < 0)
    ret = cove_error_wrap (err, "config `%s`", name);
  li->config_digest = xstrdup (digest);
  li->layers = xmalloc0 ((n ? n : 1) * sizeof *li->layers);
  for (size_t i = 0; ret == 0 && i < n; i++)
    {
      struct sl_layer *l = &li->layers[li->n_layers++];
      l->member = xstrdup (members[i]);
      l->diff_id = xstrdup (cfg.diff_ids[i]);
      l->parent = i ? xstrdup (li->layers[i - 1].chain_id) : NULL;
      l->chain_id = cove_storage_chain_id (l->parent, l->diff_id);
      l->compressed_digest = digests ? xstrdup (digests[i]) : NULL;
    }
  cove_oci_config_free (&cfg);
  return ret;
}

/* A docker-archive RepoTag is a docker reference: "busybox:latest" is
   docker.io/library/busybox:latest.  */
static char *
docker_name (const char *tag)
{
  struct cove_oci_ref ref, q;
  cleanup_error struct cove_error *err = NULL;
  if (cove_oci_ref_parse (tag, &ref, &err) < 0)
    return NULL;
  char *out = NULL;
  if (ref.digest == NULL && cove_oci_ref_qualify (&ref, NULL, &q, &err) == 0)
    {
      out = cove_oci_ref_format (&q);
      cove_oci_ref_free (&q);
    }
  cove_oci_ref_free (&ref);
  return out;
}

static int
docker_entry (struct sl_source *src, struct cove_storage *s, json_t *entry,
              struct load_image *li, struct cove_error **err)
{
  json_t *config = json_object_get (entry, "Config");
  json_t *layers = json_object_get (entry, "Layers");
  json_t *tags = json_object_get (entry, "RepoTags");
  if (!json_is_string (config) || !json_is_array (layers)
      || json_array_size (layers) > 1000)
    return cove_error_set (err, EINVAL, "invalid manifest.json in archive");
  cleanup_free char *cname = cove_sl_clean_name (json_string_value (config),
                                                 err);
  if (cname == NULL)
    return -1;
  cleanup_strv char **members = NULL;
  size_t i;
  json_t *v;
  json_array_foreach (layers, i, v)
    {
      char *m = cove_sl_clean_name (json_string_value (v), err);
      if (m == NULL)
        return -1;
      cove_strv_append (&members, m);
      free (m);
    }
  if (take_config (src, s, cname, NULL, members, NULL,
                   json_array_size (layers), li, err) < 0)
    return -1;
  json_array_foreach (tags, i, v)
    {
      cleanup_free char *n = json_is_string (v)
        ? docker_name (json_string_value (v)) : NULL;
      if (n == NULL)
        return cove_error_set (err, EINVAL, "invalid tag in archive");
      cove_strv_append (&li->names, n);
    }
  return 0;
}

/* "blobs/sha256/<hex>" for DIGEST (validated by the manifest parser).  */
static char *
blob_member (const char *digest)
{
  const char *colon = strchr (digest, ':');
  return xasprintf ("blobs/%.*s/%s", (int) (colon - digest), digest,
                    colon + 1);
}

static int
parse_blob (struct sl_source *src, struct cove_storage *s, const char *digest,
            struct cove_oci_manifest *out, struct cove_error **err)
{
  cleanup_free char *name = blob_member (digest);
  const char *data = NULL;
  size_t len;
  if (put_blob (src, s, name, digest, &data, &len, err) < 0)
    return -1;
  if (cove_oci_manifest_parse (data, len, NULL, out, err) < 0)
    return cove_error_wrap (err, "`%s`", name);
  return 0;
}

/* The image of index entry D: a manifest, or an index (the host's
   platform is picked).  */
static int
oci_entry (struct sl_source *src, struct cove_storage *s,
           const struct cove_oci_descriptor *d, struct load_image *li,
           struct cove_error **err)
{
  struct cove_oci_manifest m;
  if (parse_blob (src, s, d->digest, &m, err) < 0)
    return -1;
  cleanup_free char *mdigest = xstrdup (d->digest);
  if (m.kind == COVE_OCI_DOC_INDEX)
    {
      const char *os, *arch, *variant;
      cove_oci_host_platform (&os, &arch, &variant);
      int k = cove_oci_index_select (&m, os, arch, NULL, err);
      if (k >= 0)
        {
          free (mdigest);
          mdigest = xstrdup (m.manifests[k].digest);
        }
      cove_oci_manifest_free (&m);
      if (k < 0 || parse_blob (src, s, mdigest, &m, err) < 0)
        return -1;
      if (m.kind != COVE_OCI_DOC_MANIFEST)
        {
          cove_oci_manifest_free (&m);
          return cove_error_set (err, ENOTSUP, "nested image index");
        }
    }
  cleanup_strv char **members = NULL;
  cleanup_strv char **digests = NULL;
  for (size_t i = 0; i < m.n_layers; i++)
    {
      cleanup_free char *mm = blob_member (m.layers[i].digest);
      cove_strv_append (&members, mm);
      cove_strv_append (&digests, m.layers[i].digest);
    }
  cleanup_free char *cname = blob_member (m.config.digest);
  int ret = take_config (src, s, cname, m.config.digest, members, digests,
                         m.n_layers, li, err);
  cove_oci_manifest_free (&m);
  li->manifest_digest = steal_pointer (&mdigest);
  return ret;
}

static void
oci_names (const struct cove_oci_descriptor *d, struct load_image *li)
{
  json_t *v = json_object_get (d->annotations, REF_NAME_ANNOTATION);
  if (!json_is_string (v))
    return;
  cleanup_error struct cove_error *err = NULL;
  cleanup_free char *n = cove_img_normalize_tag (json_string_value (v), &err);
  if (n != NULL)
    cove_strv_append (&li->names, n);
}

/* Record LI and print its names (or its id).  */
static int
record_image (struct sl_source *src, struct cove_storage *s,
              struct load_image *li, bool quiet, struct cove_error **err)
{
  if (cove_sl_source_unpack (src, s, li->layers, li->n_layers, err) < 0)
    return -1;
  cleanup_strv char **chains = NULL;
  for (size_t i = 0; i < li->n_layers; i++)
    cove_strv_append (&chains, li->layers[i].chain_id);
  struct cove_storage_image img = {
    .id = strchr (li->config_digest, ':') + 1,
    .config_digest = li->config_digest,
    .manifest_digest = li->manifest_digest,
    .names = li->names,
    .layers = chains ? chains : (char *[]) { NULL },
  };
  if (cove_storage_image_add (s, &img, NULL, err) < 0)
    return -1;
  for (size_t i = 0; !quiet && li->names && li->names[i]; i++)
    printf ("Loaded image: %s\n", li->names[i]);
  if (!quiet && (li->names == NULL || li->names[0] == NULL))
    printf ("Loaded image: %s\n", li->config_digest);
  return 0;
}

static int
load_docker (struct sl_source *src, struct cove_storage *s, json_t *doc,
             bool quiet, struct cove_error **err)
{
  if (!json_is_array (doc) || json_array_size (doc) == 0)
    return cove_error_set (err, EINVAL, "invalid manifest.json in archive");
  size_t i;
  json_t *entry;
  json_array_foreach (doc, i, entry)
    {
      struct load_image li = { 0 };
      int r = docker_entry (src, s, entry, &li, err);
      if (r == 0)
        r = record_image (src, s, &li, quiet, err);
      load_image_clear (&li);
      if (r < 0)
        return -1;
    }
  return 0;
}

static int
load_oci (struct sl_source *src, struct cove_storage *s, const char *data,
          size_t len, bool quiet, struct cove_error **err)
{
  struct cove_oci_manifest index;
  if (cove_oci_manifest_parse (data, len, NULL, &index, err) < 0)
    return cove_error_wrap (err, "index.json");
  int ret = 0;
  if (index.kind != COVE_OCI_DOC_INDEX || index.n_manifests == 0)
    ret = cove_error_set (err, EINVAL, "index.json lists no image");
  for (size_t i = 0; ret == 0 && i < index.n_manifests; i++)
    {
      struct load_image li = { 0 };
      ret = oci_entry (src, s, &index.manifests[i], &li, err);
      if (ret == 0)
        {
          oci_names (&index.manifests[i], &li);
          ret = record_image (src, s, &li, quiet, err);
        }
      load_image_clear (&li);
    }
  cove_oci_manifest_free (&index);
  return ret;
}

static int
load_source (struct sl_source *src, struct cove_storage *s, bool quiet,
             struct cove_error **err)
{
  size_t len;
  cleanup_error struct cove_error *e1 = NULL;
  const char *data = cove_sl_source_get (src, "manifest.json",
                                         COVE_OCI_DOCUMENT_MAX, &len, &e1);
  if (data != NULL && src->dirfd < 0)
    {
      json_error_t jerr;
      json_t *doc = json_loadb (data, len, JSON_REJECT_DUPLICATES, &jerr);
      if (doc == NULL)
        return cove_error_set (err, EINVAL, "manifest.json in archive: %s",
                               jerr.text);
      int r = load_docker (src, s, doc, quiet, err);
      json_decref (doc);
      return r;
    }
  data = cove_sl_source_get (src, "index.json", COVE_OCI_DOCUMENT_MAX, &len,
                             err);
  if (data == NULL)
    {
      cove_error_release (err);
      return cove_error_set (err, EINVAL, "payload does not match any of "
                             "the supported image formats (oci-archive, "
                             "oci-dir, docker-archive)");
    }
  return load_oci (src, s, data, len, quiet, err);
}

static int
do_load (const char *input, bool quiet)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_storage_paths paths;
  struct cove_storage *s = NULL;
  if (input == NULL && isatty (STDIN_FILENO))
    return cove_cmd_usage_error ("cannot read from terminal, use command-line redirection or the --input flag");
  if (cove_cmd_store_open (&paths, &s, &err) < 0)
    return cove_cmd_fail (&err, 125);
  struct sl_source src;
  int ret = cove_sl_source_open (input, paths.data_dir, &src, &err);
  if (ret == 0)
    {
      ret = load_source (&src, s, quiet, &err);
      cove_sl_source_close (&src);
    }
  cove_cmd_store_close (&paths, s);
  if (ret < 0)
    return cove_cmd_fail (&err, 125);
  return fflush (stdout) == 0 ? 0 : 125;
}

int
cove_cmd_load (int argc, char **argv)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, load_opts, argc, argv, false);
  const char *v, *input = NULL;
  bool quiet = false;
  int id;
  cleanup_free char *input_copy = NULL;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    {
      if (id == OPT_HELP)
        {
          cove_opts_print_help (stdout, "cove load [options]",
                                "Load image(s) from a tar archive", load_opts);
          cove_opts_free (&p);
          return 0;
        }
      if (id == OPT_QUIET)
        quiet = strcmp (v, "true") == 0;
      else if (id == OPT_INPUT)
        {
          free (input_copy);
          input = input_copy = xstrdup (v);
        }
    }
  int n;
  cleanup_free char **rest = cove_opts_rest (&p, &n);
  cove_opts_free (&p);
  if (id < 0)
    return cove_cmd_fail (&err, 125);
  if (n != 0)
    return cove_cmd_usage_error ("`cove load` takes no arguments");
  return do_load (input, quiet);
}
