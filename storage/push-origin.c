/* Where a layer's compressed blob may already be, for push.  The store
   keeps pulled layers unpacked, and records the compressed digest they
   came from; the manifest an image was pulled with says that blob's size
   and media type, and the image's names say which repositories of which
   registry have it.  A layer shared by several images (a committed image
   and the base it was made from) is found through any of them: its chain
   id names the whole stack below it, so it is at the same position in
   each.  */
#include <stdlib.h>
#include <string.h>

#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"
#include "storage/push-internal.h"

static bool
strv_has (char **v, const char *s)
{
  for (size_t i = 0; v && v[i]; i++)
    if (strcmp (v[i], s) == 0)
      return true;
  return false;
}

static void
strv_add (char ***v, const char *s)
{
  size_t n = 0;
  while (*v && (*v)[n])
    n++;
  *v = xrealloc (*v, (n + 2) * sizeof (char *));
  (*v)[n] = xstrdup (s);
  (*v)[n + 1] = NULL;
}

void
push_repos_of (const struct cove_storage_image *img, const char *registry,
               const char *repo, char ***from)
{
  for (size_t i = 0; img->names && img->names[i]; i++)
    {
      struct cove_oci_ref r = { 0 };
      if (cove_oci_ref_parse (img->names[i], &r, NULL) == 0 && r.registry
          && strcmp (r.registry, registry) == 0 && strcmp (r.repository, repo) != 0
          && !strv_has (*from, r.repository))
        strv_add (from, r.repository);
      cove_oci_ref_free (&r);
    }
}

/* The stored manifest of IMG, when it has N layers.  */
static int
image_manifest (struct cove_storage *s, const struct cove_storage_image *img,
                size_t n, struct cove_oci_manifest *out)
{
  if (img->manifest_digest == NULL || !cove_storage_blob_exists (s, img->manifest_digest))
    return -1;
  size_t len = 0;
  cleanup_free char *data = cove_storage_blob_read (s, img->manifest_digest,
                                                    COVE_OCI_DOCUMENT_MAX, &len, NULL);
  if (data == NULL || cove_oci_manifest_parse (data, len, NULL, out, NULL) < 0)
    return -1;
  if (out->kind != COVE_OCI_DOC_MANIFEST || out->n_layers != n)
    {
      cove_oci_manifest_free (out);
      return -1;
    }
  return 0;
}

/* Take from image IMG (with its manifest M) what it says of the layers of
   CHAINS it shares.  */
static void
take_origins (const struct cove_storage_image *img, const struct cove_oci_manifest *m,
              char **chains, size_t n, const char *registry, const char *repo,
              struct push_origin *out)
{
  for (size_t i = 0; i < n && img->layers[i]; i++)
    {
      if (strcmp (img->layers[i], chains[i]) != 0)
        break;    /* the chain ids above differ too */
      const struct cove_oci_descriptor *d = &m->layers[i];
      if (out[i].digest == NULL)
        {
          out[i].digest = xstrdup (d->digest);
          out[i].size = d->size;
          out[i].media_type = xstrdup (d->media_type);
        }
      if (strcmp (out[i].digest, d->digest) == 0)
        push_repos_of (img, registry, repo, &out[i].from);
    }
}

void
push_find_origins (struct cove_storage *s, char **chains, size_t n,
                   const char *registry, const char *repo,
                   struct push_origin *out)
{
  struct cove_storage_image *imgs = NULL;
  size_t n_imgs = 0;
  if (n == 0 || cove_storage_image_list (s, &imgs, &n_imgs, NULL) < 0)
    return;
  for (size_t k = 0; k < n_imgs; k++)
    {
      const struct cove_storage_image *img = &imgs[k];
      size_t len = 0;
      while (img->layers && img->layers[len])
        len++;
      struct cove_oci_manifest m = { 0 };
      if (len > 0 && strcmp (img->layers[0], chains[0]) == 0
          && image_manifest (s, img, len, &m) == 0)
        {
          take_origins (img, &m, chains, n, registry, repo, out);
          cove_oci_manifest_free (&m);
        }
    }
  for (size_t k = 0; k < n_imgs; k++)
    cove_storage_image_free (&imgs[k]);
  free (imgs);
}

void
push_origin_free (struct push_origin *o)
{
  free (o->digest);
  free (o->media_type);
  cove_strv_free (o->from);
  memset (o, 0, sizeof *o);
}
