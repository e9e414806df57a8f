/* Image records: images/<id>.json (what the image is made of) and
   images/names.json (name -> id), the one place names live, so that a tag
   or an untag is one atomic write.  Records change only under the store
   lock, written with cove_file_write_atomic + COVE_FILE_SYNC: a cove killed
   at any instant, or a power loss, leaves either the old or the new
   record.  Order of writes: an image record is written after its blobs and
   layers are in place, and before its names; removal drops names, then the
   record, then collects what nothing uses.  Every crash point in between
   leaves at worst a dangling (nameless) image or orphans for a later GC.
   Readers take no lock: every file they read is replaced atomically.  */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "storage/internal.h"

#define RECORD_MAX (16 << 20)

static char *
record_path (struct cove_storage *s, const char *hex)
{
  return xasprintf ("%s/images/%s.json", s->root, hex);
}

static json_t *
json_read (const char *path, bool missing_ok, struct cove_error **err)
{
  /* A local error: ERR may be NULL, and ENOENT must still be told.  */
  struct cove_error *local = NULL;
  cleanup_free char *data = cove_file_read_at (AT_FDCWD, path, RECORD_MAX,
                                               NULL, &local);
  if (data == NULL)
    {
      if (missing_ok && local && local->errnum == ENOENT)
        {
          cove_error_free (local);
          return json_object ();
        }
      if (err && *err == NULL)
        *err = local;
      else
        cove_error_free (local);
      return NULL;
    }
  json_error_t jerr;
  json_t *j = json_loads (data, 0, &jerr);
  if (j == NULL || !json_is_object (j))
    {
      json_decref (j);
      cove_error_set (err, EINVAL, "corrupt record `%s`: %s", path, jerr.text);
      return NULL;
    }
  return j;
}

static int
json_write (const char *path, json_t *j, struct cove_error **err)
{
  cleanup_free char *text = json_dumps (j, JSON_INDENT (1) | JSON_SORT_KEYS);
  return cove_file_write_atomic (path, text, strlen (text), 0600,
                                 COVE_FILE_SYNC, err);
}

static json_t *
names_load (struct cove_storage *s, struct cove_error **err)
{
  cleanup_free char *path = xasprintf ("%s/images/names.json", s->root);
  return json_read (path, true, err);
}

static int
names_save (struct cove_storage *s, json_t *names, struct cove_error **err)
{
  cleanup_free char *path = xasprintf ("%s/images/names.json", s->root);
  return json_write (path, names, err);
}

static char **
json_strv (json_t *arr)
{
  char **v = xmalloc0 (sizeof *v);
  size_t i;
  json_t *e;
  json_array_foreach (arr, i, e)
    if (json_is_string (e))
      cove_strv_append (&v, json_string_value (e));
  return v;
}

static const char *
jstr (json_t *o, const char *key)
{
  return json_string_value (json_object_get (o, key));
}

/* Fill OUT from record REC and the names index.  */
static void
image_from_record (json_t *rec, json_t *names, const char *hex,
                   struct cove_storage_image *out)
{
  memset (out, 0, sizeof *out);
  out->id = xstrdup (hex);
  out->config_digest = xasprintf ("sha256:%s", hex);
  const char *md = jstr (rec, "manifest_digest");
  out->manifest_digest = md ? xstrdup (md) : NULL;
  out->layers = json_strv (json_object_get (rec, "layers"));
  out->size = json_integer_value (json_object_get (rec, "size"));
  out->created = json_integer_value (json_object_get (rec, "created"));
  out->names = xmalloc0 (sizeof *out->names);
  const char *name;
  json_t *v;
  json_object_foreach (names, name, v)
    if (strcmp (json_string_value (v) ? json_string_value (v) : "", hex) == 0)
      cove_strv_append (&out->names, name);
}

void
cove_storage_image_free (struct cove_storage_image *img)
{
  if (img == NULL)
    return;
  free (img->id);
  free (img->config_digest);
  free (img->manifest_digest);
  cove_strv_free (img->names);
  cove_strv_free (img->layers);
  memset (img, 0, sizeof *img);
}

/* "created" of the config blob, in seconds; 0 when absent or unreadable.
   The config comes from a registry: parsed leniently, never trusted.  */
static int64_t
config_created (struct cove_storage *s, const char *config_digest)
{
  cleanup_error struct cove_error *e = NULL;
  cleanup_free char *data = cove_storage_blob_read (s, config_digest,
                                                    COVE_OCI_DOCUMENT_MAX, NULL, &e);
  if (data == NULL)
    return 0;
  json_t *j = json_loads (data, 0, NULL);
  const char *c = jstr (j, "created");
  struct tm tm = { 0 };
  int64_t r = 0;
  if (c && strptime (c, "%Y-%m-%dT%H:%M:%S", &tm) != NULL)
    r = (int64_t) timegm (&tm);
  json_decref (j);
  return r;
}

static int
check_image (const struct cove_storage_image *img, struct cove_error **err)
{
  const char *hex = storage_digest_hex (img->id);
  if (hex == NULL || strlen (img->id) != 64)
    return cove_error_set (err, EINVAL, "invalid image id `%s`",
                           img->id ? img->id : "(null)");
  if (img->config_digest && (strncmp (img->config_digest, "sha256:", 7)
                             || strcmp (img->config_digest + 7, hex)))
    return cove_error_set (err, EINVAL, "image %s: config digest %s differs",
                           hex, img->config_digest);
  if (img->manifest_digest && storage_digest_hex (img->manifest_digest) == NULL)
    return cove_error_set (err, EINVAL, "invalid manifest digest");
  for (size_t i = 0; img->layers && img->layers[i]; i++)
    if (storage_digest_hex (img->layers[i]) == NULL)
      return cove_error_set (err, EINVAL, "invalid layer id `%s`", img->layers[i]);
  return 0;
}

/* The record of IMG, SIZE and CREATED filled in.  */
static json_t *
record_build (struct cove_storage *s, const struct cove_storage_image *img,
              struct cove_error **err)
{
  json_t *layers = json_array ();
  int64_t size = 0;
  for (size_t i = 0; img->layers && img->layers[i]; i++)
    {
      json_t *l = storage_layer_read (s, img->layers[i], err);
      if (l == NULL)
        {
          json_decref (layers);
          return NULL;
        }
      size += json_integer_value (json_object_get (l, "size"));
      json_decref (l);
      json_array_append_new (layers, json_string (img->layers[i]));
    }
  cleanup_free char *config = xasprintf ("sha256:%s", img->id);
  int64_t created = img->created ? img->created : config_created (s, config);
  return json_pack ("{s:s, s:s, s:s?, s:o, s:I, s:I}", "id", img->id,
                    "config_digest", config, "manifest_digest",
                    img->manifest_digest, "layers", layers,
                    "size", (json_int_t) (img->size ? img->size : size),
                    "created", (json_int_t) created);
}

/* Under the lock: what REC points at is all there.  */
static int
record_complete (struct cove_storage *s, const struct cove_storage_image *img,
                 struct cove_error **err)
{
  cleanup_free char *config = storage_blob_path (s, img->id);
  if (access (config, F_OK) < 0)
    return cove_error_set (err, ENOENT, "image %s: config blob not stored", img->id);
  for (size_t i = 0; img->layers && img->layers[i]; i++)
    {
      cleanup_free char *dir = storage_layer_path (s, img->layers[i]);
      if (access (dir, F_OK) < 0)
        return cove_error_set (err, ENOENT, "image %s: layer %s not stored",
                               img->id, img->layers[i]);
    }
  return 0;
}

static int
names_add_locked (struct cove_storage *s, const char *hex, char *const *names,
                  const char *name, struct cove_error **err)
{
  json_t *index = names_load (s, err);
  if (index == NULL)
    return -1;
  bool changed = false;
  size_t n = names ? cove_strv_len (names) : 0;
  for (size_t i = 0; i <= n; i++)
    {
      const char *nm = i < n ? names[i] : name;
      if (nm == NULL || nm[0] == '\0')
        continue;
      /* A name belongs to one image: setting it takes it from another.  */
      if (strcmp (jstr (index, nm) ? jstr (index, nm) : "", hex) != 0)
        {
          json_object_set_new (index, nm, json_string (hex));
          changed = true;
        }
    }
  int r = changed ? names_save (s, index, err) : 0;
  json_decref (index);
  return r;
}

int
cove_storage_image_add (struct cove_storage *s,
                        const struct cove_storage_image *img, const char *name,
                        struct cove_error **err)
{
  if (check_image (img, err) < 0)
    return -1;
  json_t *rec = record_build (s, img, err);
  if (rec == NULL)
    return cove_error_wrap (err, "add image %s", img->id);
  cleanup_free char *path = record_path (s, img->id);
  if (storage_lock (s, err) < 0)
    {
      json_decref (rec);
      return -1;
    }
  int r = record_complete (s, img, err);
  if (r == 0 && access (path, F_OK) < 0)
    r = json_write (path, rec, err);
  if (r == 0)
    r = names_add_locked (s, img->id, img->names, name, err);
  storage_unlock (s);
  json_decref (rec);
  return r < 0 ? cove_error_wrap (err, "add image %s", img->id) : 0;
}

/* "NAME:latest" when NAME has neither tag nor digest.  */
static char *
with_latest (const char *name)
{
  const char *slash = strrchr (name, '/');
  const char *last = slash ? slash + 1 : name;
  if (strchr (last, ':') || strchr (name, '@'))
    return NULL;
  return xasprintf ("%s:latest", name);
}

/* Scan images/ for ids starting with PREFIX.  */
static int
find_by_prefix (struct cove_storage *s, const char *prefix, char **out_hex,
                struct cove_error **err)
{
  cleanup_free char *dir = xasprintf ("%s/images", s->root);
  cleanup_dir DIR *d = opendir (dir);
  if (d == NULL)
    return cove_error_set (err, errno, "open `%s`", dir);
  size_t n = 0, plen = strlen (prefix);
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      size_t len = strlen (de->d_name);
      if (len != 69 || strcmp (de->d_name + 64, ".json") != 0
          || strncmp (de->d_name, prefix, plen) != 0)
        continue;
      if (n++ == 0)
        *out_hex = xstrndup (de->d_name, 64);
    }
  if (n == 1)
    return 0;
  if (n > 1)
    {
      free (*out_hex);
      *out_hex = NULL;
      return cove_error_set (err, EINVAL, "image id prefix `%s` is ambiguous", prefix);
    }
  return cove_error_set (err, ENOENT, "image not known: `%s`", prefix);
}

/* Resolve Q to an image id (64 hex, caller frees).  */
static char *
image_resolve (struct cove_storage *s, json_t *index, const char *q,
               struct cove_error **err)
{
  const char *id = jstr (index, q);
  cleanup_free char *latest = with_latest (q);
  if (id == NULL && latest)
    id = jstr (index, latest);
  if (id)
    return xstrdup (id);
  const char *hex = strncmp (q, "sha256:", 7) == 0 ? q + 7 : q;
  char *out = NULL;
  if (storage_is_hex (hex, 3) && strlen (hex) <= 64
      && find_by_prefix (s, hex, &out, err) == 0)
    return out;
  if (err == NULL || *err == NULL)
    cove_error_set (err, ENOENT, "image not known: `%s`", q);
  return NULL;
}

int
cove_storage_image_lookup (struct cove_storage *s, const char *name_or_id,
                           struct cove_storage_image *out,
                           struct cove_error **err)
{
  json_t *index = names_load (s, err);
  if (index == NULL)
    return -1;
  cleanup_free char *hex = image_resolve (s, index, name_or_id, err);
  cleanup_free char *path = hex ? record_path (s, hex) : NULL;
  json_t *rec = path ? json_read (path, false, err) : NULL;
  if (rec)
    image_from_record (rec, index, hex, out);
  json_decref (rec);
  json_decref (index);
  if (rec == NULL && hex && (*err)->errnum == ENOENT)
    {
      cove_error_release (err);
      return cove_error_set (err, ENOENT, "image not known: `%s`", name_or_id);
    }
  return rec ? 0 : -1;
}

int
cove_storage_image_list (struct cove_storage *s, struct cove_storage_image **out,
                         size_t *out_n, struct cove_error **err)
{
  json_t *index = names_load (s, err);
  if (index == NULL)
    return -1;
  cleanup_free char *dir = xasprintf ("%s/images", s->root);
  cleanup_dir DIR *d = opendir (dir);
  if (d == NULL)
    {
      json_decref (index);
      return cove_error_set (err, errno, "open `%s`", dir);
    }
  struct cove_storage_image *v = NULL;
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if (strlen (de->d_name) != 69 || strcmp (de->d_name + 64, ".json") != 0)
        continue;
      cleanup_free char *hex = xstrndup (de->d_name, 64);
      cleanup_free char *path = record_path (s, hex);
      cleanup_error struct cove_error *e = NULL;
      json_t *rec = json_read (path, false, &e);
      if (rec == NULL)
        continue;  /* removed meanwhile */
      v = xrealloc (v, (n + 1) * sizeof *v);
      image_from_record (rec, index, hex, &v[n++]);
      json_decref (rec);
    }
  json_decref (index);
  *out = v;
  *out_n = n;
  return 0;
}

int
cove_storage_image_tag (struct cove_storage *s, const char *id,
                        const char *name, struct cove_error **err)
{
  if (name == NULL || name[0] == '\0')
    return cove_error_set (err, EINVAL, "empty image name");
  struct cove_storage_image img;
  if (cove_storage_image_lookup (s, id, &img, err) < 0)
    return -1;
  int r = storage_lock (s, err);
  if (r == 0)
    {
      cleanup_free char *path = record_path (s, img.id);
      /* Removed between lookup and lock: do not name a ghost.  */
      if (access (path, F_OK) < 0)
        r = cove_error_set (err, ENOENT, "image not known: `%s`", id);
      else
        r = names_add_locked (s, img.id, NULL, name, err);
      storage_unlock (s);
    }
  cove_storage_image_free (&img);
  return r;
}

int
cove_storage_image_untag (struct cove_storage *s, const char *name,
                          struct cove_error **err)
{
  if (storage_lock (s, err) < 0)
    return -1;
  json_t *index = names_load (s, err);
  int r = index ? 0 : -1;
  cleanup_free char *latest = with_latest (name);
  const char *key = NULL;
  if (index && json_object_get (index, name))
    key = name;
  else if (index && latest && json_object_get (index, latest))
    key = latest;
  if (r == 0 && key == NULL)
    r = cove_error_set (err, ENOENT, "image name not known: `%s`", name);
  else if (r == 0)
    {
      json_object_del (index, key);
      r = names_save (s, index, err);
    }
  storage_unlock (s);
  json_decref (index);
  return r;
}
