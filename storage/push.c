/* Push an image of the store to a registry.  For each layer, the cheapest
   way that gives the registry the blob:
     1. the registry has it already (HEAD): skipped;
     2. another repository of the same registry has it (the image was
        pulled from there: its names say where): cross-repository mount;
     3. the store keeps the compressed blob (commit does): upload it;
     4. else the blob is made again from the layer's tree (a pulled
        layer is kept unpacked only): the new tar's digest becomes the
        layer's diff_id in the config pushed (so the image id at the
        destination differs from the local one, as with `cove save`).
   Then the config, then the manifest by tag (the stored one, byte for
   byte, when nothing changed: the pushed image keeps its digest).  The
   store is only read: a failed push leaves it as it was (blobs made
   again live in a tmp/ entry, removed at the end).  */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkg/oci/oci.h"
#include "pkg/registry/config.h"
#include "pkg/registry/registry.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "storage/push-internal.h"

/* Repositories a blob is tried to be mounted from, at most.  */
#define PUSH_MOUNT_TRIES 3

struct push_layer
{
  struct cove_storage_layer info;
  char *digest;               /* the descriptor pushed */
  int64_t size;
  const char *media_type;
  char *diff_id;              /* what the pushed config says */
  struct push_made_layer made;
};

struct push
{
  struct cove_storage *s;
  const struct cove_storage_push_options *opts;
  const struct cove_storage_image *img;
  struct cove_oci_ref dest;
  struct cove_registry_client *client;
  struct cove_registry_progress *progress;
  bool oci;                       /* the format pushed */
  int comp;                       /* --compression-format, -1: keep */
  char *src_data;                 /* the stored manifest, or NULL */
  size_t src_len;
  struct cove_oci_manifest src;   /* parsed, when SRC_DATA */
  char **from;                    /* repositories to mount the config from */
  struct push_origin *origins;    /* per layer */
  struct push_layer *layers;
  size_t n_layers;
  bool config_changed;
  char *config;                   /* the config pushed */
  size_t config_len;
  char *config_digest;
  char *tmp;                      /* tmp/ entry, for blobs made again */
  int tmp_fd;
};

/* ---- what is pushed ---- */

/* The stored manifest of IMG when it describes IMG's layers (a pulled or
   loaded OCI image).  */
static void
load_source_manifest (struct push *p)
{
  const char *md = p->img->manifest_digest;
  if (md == NULL || !cove_storage_blob_exists (p->s, md))
    return;
  p->src_data = cove_storage_blob_read (p->s, md, COVE_OCI_DOCUMENT_MAX,
                                        &p->src_len, NULL);
  if (p->src_data == NULL)
    return;
  cleanup_error struct cove_error *e = NULL;
  if (cove_oci_manifest_parse (p->src_data, p->src_len, NULL, &p->src, &e) < 0
      || p->src.kind == COVE_OCI_DOC_INDEX || p->src.n_layers != p->n_layers
      || strcmp (p->src.config.digest, p->img->config_digest) != 0)
    {
      cove_oci_manifest_free (&p->src);
      free (p->src_data);
      p->src_data = NULL;
    }
}

/* Where each layer's blob may be: the stored manifest of the image, the
   other images of the store that share the layer; and where the image
   itself has names in the destination registry (for the config).  */
static void
find_origins (struct push *p)
{
  p->origins = xmalloc0 ((p->n_layers + 1) * sizeof *p->origins);
  for (size_t i = 0; p->src_data && i < p->n_layers; i++)
    {
      p->origins[i].digest = xstrdup (p->src.layers[i].digest);
      p->origins[i].size = p->src.layers[i].size;
      p->origins[i].media_type = xstrdup (p->src.layers[i].media_type);
    }
  push_repos_of (p->img, p->dest.registry, p->dest.repository, &p->from);
  push_find_origins (p->s, p->img->layers, p->n_layers, p->dest.registry,
                     p->dest.repository, p->origins);
}

/* Can layer I be pushed as its origin describes it?  */
static bool
source_usable (struct push *p, size_t i)
{
  if (p->origins[i].digest == NULL)
    return false;
  int c = push_media_compression (p->origins[i].media_type);
  if (c < 0 || (p->comp >= 0 && c != p->comp))
    return false;
  return push_layer_media_type (p->oci, (enum push_compression) c) != NULL;
}

/* The stored manifest is a Docker schema 2 one.  */
static bool
source_is_docker (const struct push *p)
{
  return p->src_data && p->src.media_type
    && strcmp (p->src.media_type, COVE_DOCKER_MT_MANIFEST) == 0;
}

static int
parse_dest (struct push *p, const char *dest, struct cove_error **err)
{
  if (strncmp (dest, "docker://", 9) == 0)
    dest += 9;
  if (cove_oci_ref_parse (dest, &p->dest, err) < 0)
    return cove_error_wrap (err, "parsing reference `%s`", dest);
  if (p->dest.registry == NULL)
    return cove_error_set_plain (err, EINVAL, "`%s`: the destination must name a "
                                 "registry (REGISTRY/REPOSITORY[:TAG])", dest);
  if (p->dest.digest)
    return cove_error_set_plain (err, EINVAL, "`%s`: cannot push to a digest "
                                 "reference", dest);
  if (p->dest.tag == NULL)
    p->dest.tag = xstrdup ("latest");
  return 0;
}

static int
parse_format (struct push *p, struct cove_error **err)
{
  const char *f = p->opts->format;
  if (f == NULL)
    p->oci = !source_is_docker (p);
  else if (strcmp (f, "oci") == 0 || strcmp (f, "v2s2") == 0)
    p->oci = f[0] == 'o';
  else
    return cove_error_set_plain (err, EINVAL, "unsupported manifest type %s "
                                 "(oci and v2s2 are)", f);
  const char *c = p->opts->compression;
  p->comp = -1;
  if (c && strcmp (c, "gzip") == 0)
    p->comp = PUSH_COMP_GZIP;
  else if (c && strcmp (c, "zstd") == 0)
    p->comp = PUSH_COMP_ZSTD;
  else if (c)
    return cove_error_set_plain (err, EINVAL, "unknown compression algorithm %s", c);
  if (!p->oci && p->comp == PUSH_COMP_ZSTD)
    return cove_error_set_plain (err, EINVAL, "zstd compression is not supported "
                                 "by Docker schema 2 manifests: use --format oci");
  return 0;
}

/* ---- the registry ---- */

static int
connect_registry (struct push *p, struct cove_error **err)
{
  const struct cove_storage_push_options *o = p->opts;
  struct cove_registry_conf *conf = NULL;
  if (cove_registry_conf_load (&conf, err) < 0)
    return -1;
  cleanup_free char *name = xasprintf ("%s/%s", p->dest.registry, p->dest.repository);
  const struct cove_registry_entry *e = cove_registry_conf_lookup (conf, name);
  bool insecure = e && e->insecure, blocked = e && e->blocked;
  cove_registry_conf_free (conf);
  if (blocked)
    return cove_error_set_plain (err, EACCES, "registry %s is blocked in "
                                 "registries.conf", p->dest.registry);
  cleanup_free char *user = o->creds ? xstrdup (o->creds) : NULL;
  char *colon = user ? strchr (user, ':') : NULL;
  if (colon)
    *colon = '\0';
  struct cove_registry_auth_source actx = { .authfile = o->auth_file,
                                            .repository = p->dest.repository };
  struct cove_registry_options ropts = {
    .tls_verify = o->tls_verify, .insecure = insecure,
    .username = user, .password = colon ? colon + 1 : "",
    .auth_lookup = cove_registry_auth_from_files, .auth_ctx = &actx,
    .cert_dir = o->cert_dir,
  };
  return cove_registry_client_new (p->dest.registry, &ropts, &p->client, err);
}

struct upload_progress
{
  struct push *p;
  size_t slot;
};

static void
on_upload_progress (void *ctx, int64_t done)
{
  struct upload_progress *u = ctx;
  cove_registry_progress_update (u->p->progress, u->slot, done);
  cove_registry_progress_draw (u->p->progress, false);
}

/* Mount DIGEST from one of the repositories FROM: 1 when one did.  A failed mount only costs an upload (the source repository
   may be gone, or our token may not reach it): not an error.  */
static int
try_mount (struct push *p, const char *digest, char **from)
{
  /* A few: each costs a token and a request.  */
  for (size_t k = 0; from && from[k] && k < PUSH_MOUNT_TRIES; k++)
    {
      cleanup_error struct cove_error *e = NULL;
      if (cove_registry_blob_mount (p->client, p->dest.repository, digest,
                                    from[k], &e) == 1)
        return 1;
    }
  return 0;
}

/* Does the destination repository have DIGEST now: there already (HEAD),
   or mounted from another repository?  1 yes, 0 no, -1 on error.  */
static int
blob_there (struct push *p, const char *digest, char **from,
            struct cove_error **err)
{
  int have = cove_registry_blob_exists (p->client, p->dest.repository, digest, err);
  if (have < 0)
    return cove_error_wrap (err, "trying to reuse blob %s at destination", digest);
  return have == 1 ? 1 : try_mount (p, digest, from);
}

/* Upload SIZE bytes of FD as DIGEST, with progress in SLOT.  */
static int
upload_blob (struct push *p, const char *digest, int64_t size, int fd,
             size_t slot, struct cove_error **err)
{
  struct upload_progress up = { p, slot };
  struct cove_registry_upload u = {
    .digest = digest, .size = size, .fd = fd,
    .chunk_size = p->opts->chunk_size,
    .progress = on_upload_progress, .progress_ctx = &up,
  };
  if (cove_registry_blob_upload (p->client, p->dest.repository, &u, err) < 0)
    return -1;
  cove_registry_progress_done (p->progress, slot);
  return 0;
}

/* Give the registry blob DIGEST of SIZE bytes read from FD, with a
   progress slot: skipped when it is there or mounted, else uploaded.  */
static int
send_blob (struct push *p, const char *digest, int64_t size, int fd,
           struct cove_error **err)
{
  int have = blob_there (p, digest, p->from, err);
  if (have < 0)
    return -1;
  size_t slot = cove_registry_progress_add (p->progress, digest, size, have == 1);
  return have == 1 ? 0 : upload_blob (p, digest, size, fd, slot, err);
}

/* Layer I as its origin describes it: already there, mounted, or
   uploaded from a stored blob.  Returns 1 when done, 0 when the blob
   must be made again.  */
static int
reuse_layer (struct push *p, size_t i, struct cove_error **err)
{
  struct push_layer *l = &p->layers[i];
  const struct push_origin *d = &p->origins[i];
  int have = blob_there (p, d->digest, d->from, err);
  if (have < 0)
    return -1;
  if (have == 0 && !cove_storage_blob_exists (p->s, d->digest))
    return 0;
  l->digest = xstrdup (d->digest);
  l->size = d->size;
  l->media_type = push_layer_media_type (p->oci, push_media_compression (d->media_type));
  if (have == 1)
    {
      cove_registry_progress_add (p->progress, d->digest, d->size, true);
      return 1;
    }
  cleanup_close int fd = cove_storage_blob_open (p->s, d->digest, err);
  if (fd < 0)
    return -1;
  size_t slot = cove_registry_progress_add (p->progress, d->digest, d->size, false);
  return upload_blob (p, d->digest, d->size, fd, slot, err) < 0 ? -1 : 1;
}

/* The store keeps the compressed blob of layer I (commit does).  */
static int
stored_layer (struct push *p, size_t i, struct cove_error **err)
{
  struct push_layer *l = &p->layers[i];
  const char *digest = l->info.compressed_digest;
  if (digest == NULL || !cove_storage_blob_exists (p->s, digest))
    return 0;
  cleanup_close int fd = cove_storage_blob_open (p->s, digest, err);
  if (fd < 0)
    return -1;
  enum push_compression c = push_sniff (fd);
  const char *mt = push_layer_media_type (p->oci, c);
  off_t size = lseek (fd, 0, SEEK_END);
  if (mt == NULL || (p->comp >= 0 && (int) c != p->comp) || size < 0)
    return 0;
  l->digest = xstrdup (digest);
  l->size = size;
  l->media_type = mt;
  return send_blob (p, digest, size, fd, err) < 0 ? -1 : 1;
}

/* Make layer I's blob again from its tree and send it.  */
static int
remake_layer (struct push *p, size_t i, struct cove_error **err)
{
  struct push_layer *l = &p->layers[i];
  if (p->tmp == NULL)
    {
      p->tmp_fd = storage_tmp_entry (p->s, &p->tmp, err);
      if (p->tmp_fd < 0)
        return -1;
    }
  enum push_compression c = p->comp >= 0 ? (enum push_compression) p->comp
                                         : PUSH_COMP_GZIP;
  if (push_make_layer (l->info.diff_path, c, p->tmp, &l->made, err) < 0)
    return -1;
  l->digest = xstrdup (l->made.digest);
  l->size = l->made.size;
  l->media_type = push_layer_media_type (p->oci, c);
  if (strcmp (l->made.diff_id, l->diff_id) != 0)
    {
      free (l->diff_id);
      l->diff_id = xstrdup (l->made.diff_id);
      p->config_changed = true;
    }
  return send_blob (p, l->digest, l->size, l->made.fd, err);
}

static int
push_layers (struct push *p, struct cove_error **err)
{
  for (size_t i = 0; i < p->n_layers; i++)
    {
      int r = source_usable (p, i) ? reuse_layer (p, i, err) : 0;
      if (r == 0)
        r = stored_layer (p, i, err);
      if (r == 0)
        r = remake_layer (p, i, err);
      if (r < 0)
        return -1;
    }
  cove_registry_progress_draw (p->progress, true);
  return 0;
}

/* ---- config and manifest ---- */

/* The config of the image, with the diff_ids of remade layers.  */
static int
final_config (struct push *p, struct cove_error **err)
{
  if (!p->config_changed)
    {
      p->config_digest = xstrdup (p->img->config_digest);
      return 0;
    }
  json_t *doc = json_loadb (p->config, p->config_len, 0, NULL);
  json_t *rootfs = json_object_get (doc, "rootfs");
  if (!json_is_object (rootfs))
    {
      json_decref (doc);
      return cove_error_set (err, EINVAL, "image config %s has no rootfs",
                             p->img->config_digest);
    }
  json_t *ids = json_array ();
  for (size_t i = 0; i < p->n_layers; i++)
    json_array_append_new (ids, json_string (p->layers[i].diff_id));
  json_object_set_new (rootfs, "diff_ids", ids);
  char *data = json_dumps (doc, JSON_COMPACT);
  json_decref (doc);
  free (p->config);
  p->config = data;
  p->config_len = strlen (data);
  p->config_digest = cove_oci_digest_buffer (data, p->config_len);
  return 0;
}

static int
push_config (struct push *p, struct cove_error **err)
{
  if (final_config (p, err) < 0)
    return -1;
  int have = blob_there (p, p->config_digest, p->from, err);
  struct cove_registry_upload u = { .digest = p->config_digest,
                                    .size = (int64_t) p->config_len,
                                    .fd = -1, .data = p->config };
  if (have < 0 || (have == 0 && cove_registry_blob_upload (p->client, p->dest.repository,
                                                           &u, err) < 0))
    return -1;
  cleanup_free char *line = xasprintf ("Copying config %s done", p->config_digest);
  cove_registry_progress_line (p->progress, line);
  return 0;
}

/* The stored manifest still describes what was pushed.  */
static bool
source_manifest_fits (struct push *p)
{
  if (p->src_data == NULL || p->config_changed
      || p->oci == source_is_docker (p))
    return false;
  for (size_t i = 0; i < p->n_layers; i++)
    if (strcmp (p->layers[i].digest, p->src.layers[i].digest) != 0
        || strcmp (p->layers[i].media_type, p->src.layers[i].media_type) != 0)
      return false;
  return true;
}

static json_t *
descriptor (const char *media_type, const char *digest, int64_t size)
{
  return json_pack ("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest,
                    "size", (json_int_t) size);
}

/* A new manifest of the format pushed; *OUT_TYPE its media type.  */
static char *
build_manifest (struct push *p, const char **out_type)
{
  *out_type = p->oci ? COVE_OCI_MT_MANIFEST : COVE_DOCKER_MT_MANIFEST;
  json_t *layers = json_array ();
  for (size_t i = 0; i < p->n_layers; i++)
    json_array_append_new (layers, descriptor (p->layers[i].media_type,
                                               p->layers[i].digest,
                                               p->layers[i].size));
  json_t *config = descriptor (p->oci ? COVE_OCI_MT_CONFIG : COVE_DOCKER_MT_CONFIG,
                               p->config_digest, (int64_t) p->config_len);
  json_t *m = json_pack ("{s:i, s:s, s:o, s:o}", "schemaVersion", 2,
                         "mediaType", *out_type, "config", config,
                         "layers", layers);
  char *data = json_dumps (m, JSON_INDENT (3));
  json_decref (m);
  return data;
}

static int
push_manifest (struct push *p, char **out_digest, struct cove_error **err)
{
  cove_registry_progress_line (p->progress, "Writing manifest to image destination");
  const char *type;
  cleanup_free char *built = NULL;
  const char *data = p->src_data;
  size_t len = p->src_len;
  if (source_manifest_fits (p))
    type = p->src.media_type ? p->src.media_type
      : p->oci ? COVE_OCI_MT_MANIFEST : COVE_DOCKER_MT_MANIFEST;
  else
    {
      built = build_manifest (p, &type);
      data = built;
      len = strlen (built);
    }
  if (cove_registry_manifest_put (p->client, p->dest.repository, p->dest.tag, type,
                                  data, len, err) < 0)
    return -1;
  cove_registry_progress_line (p->progress, "Storing signatures");
  *out_digest = cove_oci_digest_buffer (data, len);
  return 0;
}

/* ---- the whole ---- */

/* The config and the layer records of the image.  */
static int
load_image (struct push *p, struct cove_error **err)
{
  const struct cove_storage_image *img = p->img;
  p->config = cove_storage_blob_read (p->s, img->config_digest, COVE_OCI_DOCUMENT_MAX,
                                      &p->config_len, err);
  if (p->config == NULL)
    return -1;
  struct cove_oci_config cfg = { 0 };
  if (cove_oci_config_parse (p->config, p->config_len, &cfg, err) < 0)
    return cove_error_wrap (err, "parsing config %s", img->config_digest);
  while (img->layers && img->layers[p->n_layers])
    p->n_layers++;
  int ret = 0;
  if (cfg.n_diff_ids != p->n_layers)
    ret = cove_error_set (err, EINVAL, "image config %s has %zu diff_ids for %zu layers",
                          img->config_digest, cfg.n_diff_ids, p->n_layers);
  p->layers = xmalloc0 ((p->n_layers + 1) * sizeof *p->layers);
  for (size_t i = 0; i < p->n_layers; i++)
    {
      p->layers[i].made.fd = -1;
      if (ret == 0)
        p->layers[i].diff_id = xstrdup (cfg.diff_ids[i]);
      if (ret == 0)
        ret = cove_storage_layer_info (p->s, img->layers[i], &p->layers[i].info, err);
    }
  cove_oci_config_free (&cfg);
  return ret;
}

static void
push_free (struct push *p)
{
  for (size_t i = 0; p->layers && i < p->n_layers; i++)
    {
      cove_storage_layer_free (&p->layers[i].info);
      free (p->layers[i].digest);
      free (p->layers[i].diff_id);
      push_made_layer_free (&p->layers[i].made);
    }
  free (p->layers);
  for (size_t i = 0; p->origins && i < p->n_layers; i++)
    push_origin_free (&p->origins[i]);
  free (p->origins);
  if (p->tmp)
    cove_rm_rf (p->tmp, NULL);
  if (p->tmp_fd >= 0)
    close (p->tmp_fd);
  free (p->tmp);
  cove_strv_free (p->from);
  cove_oci_manifest_free (&p->src);
  free (p->src_data);
  free (p->config);
  free (p->config_digest);
  cove_registry_client_free (p->client);
  cove_registry_progress_free (p->progress);
  cove_oci_ref_free (&p->dest);
}

static enum cove_registry_progress_mode
progress_mode (const struct cove_storage_push_options *opts, FILE *out)
{
  if (opts->quiet)
    return COVE_REGISTRY_PROGRESS_QUIET;
  return isatty (fileno (out)) ? COVE_REGISTRY_PROGRESS_TTY
    : COVE_REGISTRY_PROGRESS_PLAIN;
}

int
cove_storage_push (struct cove_storage *s, const struct cove_storage_image *img,
                   const char *dest, const struct cove_storage_push_options *opts,
                   char **out_digest, struct cove_error **err)
{
  struct push p = { .s = s, .opts = opts, .img = img, .tmp_fd = -1 };
  FILE *out = opts->progress ? opts->progress : stderr;
  p.progress = cove_registry_progress_new (out, progress_mode (opts, out));
  int ret = parse_dest (&p, dest, err);
  if (ret == 0)
    ret = load_image (&p, err);
  if (ret == 0)
    {
      load_source_manifest (&p);
      find_origins (&p);
      ret = parse_format (&p, err);
    }
  if (ret == 0)
    ret = connect_registry (&p, err);
  if (ret == 0)
    {
      cove_registry_progress_line (p.progress, "Getting image source signatures");
      ret = push_layers (&p, err);
    }
  if (ret == 0)
    ret = push_config (&p, err);
  if (ret == 0)
    ret = push_manifest (&p, out_digest, err);
  push_free (&p);
  return ret;
}
