/* Layers, the records only: what the light `cove` binary reads (images,
   rmi, run) without the unpacking code of layers.c, which needs libarchive,
   libcrypto and zlib (see cmd/cove/meson.build).  */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "storage/internal.h"

/* Does the layer dir exist?  Under the store lock.  */
bool
storage_layer_present (struct cove_storage *s, const char *chain_id)
{
  cleanup_free char *path = storage_layer_path (s, chain_id);
  struct stat st;
  return stat (path, &st) == 0 && S_ISDIR (st.st_mode);
}

bool
cove_storage_layer_exists (struct cove_storage *s, const char *chain_id)
{
  if (storage_digest_hex (chain_id) == NULL || storage_lock (s, NULL) < 0)
    return false;
  /* A caller that finds the layer will build on it: lease it.  */
  bool ok = storage_layer_present (s, chain_id);
  if (ok)
    storage_lease_add (s, chain_id);
  storage_unlock (s);
  return ok;
}

json_t *
storage_layer_read (struct cove_storage *s, const char *chain_id,
                    struct cove_error **err)
{
  cleanup_free char *dir = storage_layer_path (s, chain_id);
  cleanup_free char *path = xasprintf ("%s/layer.json", dir);
  cleanup_free char *data = cove_file_read_at (AT_FDCWD, path, 1 << 20, NULL, err);
  if (data == NULL)
    return NULL;
  json_error_t jerr;
  json_t *j = json_loads (data, 0, &jerr);
  if (j == NULL || !json_is_object (j))
    {
      json_decref (j);
      cove_error_set (err, EINVAL, "layer record `%s`: %s", path, jerr.text);
    }
  return json_is_object (j) ? j : NULL;
}

int
cove_storage_layer_info (struct cove_storage *s, const char *chain_id,
                         struct cove_storage_layer *out, struct cove_error **err)
{
  if (storage_digest_hex (chain_id) == NULL)
    return cove_error_set (err, EINVAL, "invalid layer id `%s`",
                           chain_id ? chain_id : "(null)");
  json_t *j = storage_layer_read (s, chain_id, err);
  if (j == NULL)
    return -1;
  memset (out, 0, sizeof *out);
  const char *parent = json_string_value (json_object_get (j, "parent"));
  const char *diff = json_string_value (json_object_get (j, "diff_id"));
  const char *comp = json_string_value (json_object_get (j, "compressed_digest"));
  out->chain_id = xstrdup (chain_id);
  out->parent = parent ? xstrdup (parent) : NULL;
  out->diff_id = diff ? xstrdup (diff) : NULL;
  out->compressed_digest = comp ? xstrdup (comp) : NULL;
  out->size = json_integer_value (json_object_get (j, "size"));
  cleanup_free char *dir = storage_layer_path (s, chain_id);
  out->diff_path = xasprintf ("%s/diff", dir);
  json_decref (j);
  return 0;
}

void
cove_storage_layer_free (struct cove_storage_layer *l)
{
  free (l->chain_id);
  free (l->parent);
  free (l->diff_id);
  free (l->compressed_digest);
  free (l->diff_path);
  memset (l, 0, sizeof *l);
}
