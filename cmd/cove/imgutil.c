#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/imgutil.h"
#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

void
cove_img_split_name (const char *name, char **out_repo, char **out_tag)
{
  const char *slash = strrchr (name, '/');
  const char *colon = strrchr (slash ? slash : name, ':');
  if (colon)
    {
      *out_repo = xstrndup (name, colon - name);
      *out_tag = xstrdup (colon + 1);
    }
  else
    {
      *out_repo = xstrdup (name);
      *out_tag = xstrdup ("<none>");
    }
}

static bool
has_tag (const char *s)
{
  const char *slash = strrchr (s, '/');
  return strchr (slash ? slash : s, ':') != NULL;
}

bool
cove_img_name_matches (const char *name, const char *user)
{
  cleanup_free char *want = has_tag (user) ? xstrdup (user)
                                           : xasprintf ("%s:latest", user);
  if (strcmp (name, user) == 0 || strcmp (name, want) == 0)
    return true;
  /* A short name matches whole trailing path components.  */
  size_t n = strlen (name), w = strlen (want);
  return n > w && name[n - w - 1] == '/' && strcmp (name + n - w, want) == 0;
}

int
cove_img_find (struct cove_storage *s, const char *user,
               struct cove_storage_image *out, struct cove_error **err)
{
  cleanup_error struct cove_error *direct = NULL;
  if (cove_storage_image_lookup (s, user, out, &direct) == 0)
    return 0;
  if (direct->errnum != ENOENT)
    {
      *err = steal_pointer (&direct);
      return -1;
    }
  struct cove_storage_image *all = NULL;
  size_t n = 0;
  if (cove_storage_image_list (s, &all, &n, err) < 0)
    return -1;
  int found = -1;
  for (size_t i = 0; i < n && found < 0; i++)
    for (size_t j = 0; all[i].names && all[i].names[j]; j++)
      if (cove_img_name_matches (all[i].names[j], user))
        {
          found = (int) i;
          break;
        }
  if (found >= 0)
    {
      *out = all[found];
      memset (&all[found], 0, sizeof all[found]);
    }
  for (size_t i = 0; i < n; i++)
    cove_storage_image_free (&all[i]);
  free (all);
  if (found < 0)
    return cove_error_set (err, ENOENT, "%s: image not known", user);
  return 0;
}

json_t *
cove_img_config (struct cove_storage *s, const struct cove_storage_image *img,
                 struct cove_error **err)
{
  size_t len = 0;
  cleanup_free char *data = cove_storage_blob_read (s, img->config_digest,
                                                    COVE_OCI_DOCUMENT_MAX,
                                                    &len, err);
  if (data == NULL)
    return NULL;
  json_error_t jerr;
  json_t *doc = json_loadb (data, len, 0, &jerr);
  if (doc == NULL || !json_is_object (doc))
    {
      json_decref (doc);
      cove_error_set (err, EINVAL, "image %.12s: config is not a JSON object", img->id);
    }
  return doc;
}

static bool
valid_name_char (char c)
{
  return islower ((unsigned char) c) || isdigit ((unsigned char) c)
         || strchr ("._-/:", c) != NULL;
}

char *
cove_img_normalize_tag (const char *name, struct cove_error **err)
{
  if (name[0] == '\0' || name[0] == '/' || name[0] == ':' || strchr (name, '@'))
    goto bad;
  for (const char *c = name; *c; c++)
    if (!valid_name_char (*c))
      goto bad;
  const char *slash = strchr (name, '/');
  /* A first component with a dot or a port, or "localhost", is a registry. */
  bool has_registry = slash && (memchr (name, '.', slash - name)
                                || memchr (name, ':', slash - name)
                                || (slash - name == 9
                                    && strncmp (name, "localhost", 9) == 0));
  return xasprintf ("%s%s%s", has_registry ? "" : "localhost/", name,
                    has_tag (name) ? "" : ":latest");
bad:
  cove_error_set (err, EINVAL, "normalizing name `%s`: invalid reference format", name);
  return NULL;
}

json_t *
cove_img_strv_json (char **v)
{
  json_t *a = json_array ();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

json_t *
cove_img_repo_digests (const struct cove_storage_image *img)
{
  json_t *a = json_array ();
  for (size_t i = 0; img->manifest_digest && img->names && img->names[i]; i++)
    {
      char *repo, *tag;
      cove_img_split_name (img->names[i], &repo, &tag);
      json_array_append_new (a, json_sprintf ("%s@%s", repo, img->manifest_digest));
      free (repo);
      free (tag);
    }
  return a;
}
