/* cove build --layers=false, --squash, --squash-all: a stage's result
   holds its base image's layers and ONE new layer with all the stage's
   changes (--squash-all: one layer with everything, the base included),
   as podman makes it.  The steps run as with --layers (each on the image
   of the one before, so RUN and COPY work unchanged), but nothing is
   taken from or put in the cache, and the images of the steps are
   removed once the build ends: only the result is kept.

   The new layer is the difference between the stage's root filesystem
   and its base's: the result's layers are copied into a directory (the
   vfs driver, which works wherever cove does) and compared with the base
   layers by storage's change walker, so that a file a step deleted
   becomes a whiteout and a file that a step added and a later step
   removed is not there at all.  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/build.h"
#include "cmd/cove/ctrcreate.h"
#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

/* The first N strings of V (a new NULL-terminated vector).  */
static char **
strv_head (char *const *v, size_t n)
{
  char **out = xmalloc0 (sizeof *out);
  for (size_t i = 0; i < n && v && v[i]; i++)
    cove_strv_append (&out, v[i]);
  return out;
}

/* The changes of LAYERS over their first KEEP as one new layer on top of
   those: LAYERS copied into the root of a scratch container, then
   committed against the KEEP layers.  */
static int
squash_layer (struct build *b, char **layers, size_t keep, char **out_chain,
              char **out_diff_id, struct cove_error **err)
{
  cleanup_strv char **all = strv_head (layers, cove_strv_len (layers));
  cleanup_strv char **base_layers = strv_head (layers, keep);
  struct cove_storage_image top = { .layers = all };
  struct cove_storage_image base = { .layers = base_layers };
  char id[65];
  if (cove_ctr_make_id (id, err) < 0)
    return -1;
  cleanup_free char *dir = cove_storage_container_dir_create (&b->paths, id,
                                                              err);
  if (dir == NULL)
    return -1;
  cleanup_free char *root = NULL;
  int r = cove_storage_rootfs_mount (b->s, &top, id, COVE_STORAGE_VFS, &root,
                                     err);
  struct cove_storage_commit layer;
  if (r == 0)
    {
      (void) cove_storage_rootfs_unmount (b->s, id, NULL);
      r = cove_storage_commit_layer (b->s, &base, id, NULL, &layer, err);
    }
  if (r == 0)
    {
      *out_chain = steal_pointer (&layer.chain_id);
      *out_diff_id = steal_pointer (&layer.diff_id);
      cove_storage_commit_free (&layer);
    }
  (void) cove_rm_rf (dir, NULL);
  return r < 0 ? cove_error_wrap (err, "squash the layers") : 0;
}

/* IMG's document with the new history entries (those after the first
   KEEP_HIST) marked empty_layer but the last, which gets the layer
   DIFF_ID, as podman writes it; rootfs.diff_ids: the first KEEP_LAYERS
   then DIFF_ID.  ALL (--squash-all): the base's entries go.  */
static json_t *
squashed_doc (const struct build_image *img, size_t keep_hist,
              size_t keep_layers, const char *diff_id, bool all)
{
  json_t *doc = json_deep_copy (img->doc);
  json_t *hist = json_object_get (doc, "history");
  if (!json_is_array (hist))
    json_object_set_new (doc, "history", hist = json_array ());
  for (size_t i = keep_hist; i < json_array_size (hist); i++)
    {
      json_t *e = json_array_get (hist, i);
      if (!json_is_object (e))
        continue;
      if (i + 1 < json_array_size (hist))
        json_object_set_new (e, "empty_layer", json_true ());
      else
        json_object_del (e, "empty_layer");
    }
  for (size_t i = 0; all && i < keep_hist; i++)
    json_array_remove (hist, 0);
  json_t *rootfs = json_object_get (doc, "rootfs");
  json_t *ids = json_array ();
  for (size_t i = 0; i < keep_layers; i++)
    json_array_append (ids, json_array_get (json_object_get (rootfs,
                                                             "diff_ids"), i));
  json_array_append_new (ids, json_string (diff_id));
  json_object_set_new (doc, "rootfs", json_pack ("{s:s, s:o}", "type",
                                                 "layers", "diff_ids", ids));
  return doc;
}

int
build_squash_stage (struct build *b, struct build_image *img,
                    size_t base_layers, size_t base_hist, bool all,
                    struct cove_error **err)
{
  size_t keep = all ? 0 : base_layers;
  size_t n = cove_strv_len (img->layers);
  size_t n_hist = json_array_size (json_object_get (img->doc, "history"));
  /* FROM IMAGE alone: the image is the result (FROM scratch alone gets
     an empty layer, as podman's).  */
  if (n_hist <= base_hist && n == base_layers && !all && img->id != NULL)
    return 0;
  cleanup_free char *chain = NULL;
  cleanup_free char *diff_id = NULL;
  if (n == keep + 1)
    {
      /* Already one new layer: it is the squashed one.  */
      struct cove_storage_layer l;
      if (cove_storage_layer_info (b->s, img->layers[n - 1], &l, err) < 0)
        return -1;
      chain = xstrdup (l.chain_id);
      diff_id = xstrdup (l.diff_id);
      cove_storage_layer_free (&l);
    }
  else if (squash_layer (b, img->layers, keep, &chain, &diff_id, err) < 0)
    return -1;
  if (n_hist <= base_hist)
    {
      /* No step of its own (FROM alone, --squash-all): one entry for the
         layer, so that the history and the layers stay in step.  */
      json_t *h = json_object_get (img->doc, "history");
      if (!json_is_array (h))
        json_object_set_new (img->doc, "history", h = json_array ());
      json_array_append_new (h, json_pack ("{s:s}", "created_by", ""));
    }
  json_t *doc = squashed_doc (img, base_hist, keep, diff_id, all);
  cleanup_strv char **layers = strv_head (img->layers, keep);
  cove_strv_append (&layers, chain);
  int r = build_commit_image (b, img, doc, layers, NULL, err);
  json_decref (doc);
  return r;
}

/* ---- the steps' images, removed at the end ---- */

void
build_temp_image_note (struct build *b, json_t *doc)
{
  if (b->o->layers)
    return;
  /* The id cove_img_store gives DOC: an image that was there before the
     build (another build's, or a user's) is none of this build's.  */
  cleanup_free char *data = json_dumps (doc, JSON_COMPACT);
  if (data == NULL)
    return;
  cleanup_free char *digest = cove_oci_digest_buffer (data, strlen (data));
  struct cove_storage_image si;
  /* Not a NULL error: image_resolve writes one when it finds nothing.  */
  cleanup_error struct cove_error *e = NULL;
  if (cove_storage_image_lookup (b->s, strchr (digest, ':') + 1, &si,
                                 &e) == 0)
    {
      cove_storage_image_free (&si);
      return;
    }
  cove_strv_append (&b->temp_images, strchr (digest, ':') + 1);
}

void
build_temp_images_drop (struct build *b, const char *keep)
{
  for (size_t i = 0; b->temp_images && b->temp_images[i]; i++)
    {
      const char *id = b->temp_images[i];
      struct cove_storage_image si;
      cleanup_error struct cove_error *e = NULL;
      if ((keep && strcmp (id, keep) == 0)
          || cove_storage_image_lookup (b->s, id, &si, &e) < 0)
        continue;
      bool named = si.names && si.names[0];
      cove_storage_image_free (&si);
      /* Best effort: what is left is an untagged image `image prune`
         removes.  */
      if (!named)
        (void) cove_storage_image_remove (b->s, id, NULL);
    }
  cove_strv_free (b->temp_images);
  b->temp_images = NULL;
}
