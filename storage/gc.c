/* Removal of images and garbage collection of layers and blobs.  What is
   kept: everything an image record points at (config and manifest blobs,
   layers, the blobs the layers were unpacked from) and everything a live
   cove holds in its lease (a pull in progress commits blobs and layers
   before the record that will use them).  A record that cannot be read
   stops the collection: deleting on partial knowledge could break an
   image.  */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "storage/internal.h"

static void
set_add (json_t *set, const char *digest)
{
  const char *hex = storage_digest_hex (digest);
  if (hex)
    json_object_set_new (set, hex, json_true ());
}

/* Add what record REC references to SET.  */
static void
record_refs (struct cove_storage *s, json_t *rec, json_t *set)
{
  set_add (set, json_string_value (json_object_get (rec, "config_digest")));
  set_add (set, json_string_value (json_object_get (rec, "manifest_digest")));
  size_t i;
  json_t *l;
  json_array_foreach (json_object_get (rec, "layers"), i, l)
    {
      const char *chain = json_string_value (l);
      if (storage_digest_hex (chain) == NULL)
        continue;
      set_add (set, chain);
      cleanup_error struct cove_error *e = NULL;
      json_t *lr = storage_layer_read (s, chain, &e);
      if (lr)
        set_add (set, json_string_value (json_object_get (lr, "compressed_digest")));
      json_decref (lr);
    }
}

static json_t *
referenced (struct cove_storage *s, struct cove_error **err)
{
  json_t *set = storage_leases_collect (s);
  cleanup_free char *dir = xasprintf ("%s/images", s->root);
  cleanup_dir DIR *d = opendir (dir);
  if (d == NULL)
    {
      json_decref (set);
      cove_error_set (err, errno, "open `%s`", dir);
      return NULL;
    }
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if (strlen (de->d_name) != 69 || strcmp (de->d_name + 64, ".json") != 0)
        continue;
      cleanup_free char *data = cove_file_read_at (dirfd (d), de->d_name,
                                                   16 << 20, NULL, err);
      json_t *rec = data ? json_loads (data, 0, NULL) : NULL;
      if (rec == NULL)
        {
          json_decref (set);
          if (*err == NULL)
            cove_error_set (err, EINVAL, "corrupt image record `%s/%s`", dir,
                            de->d_name);
          return NULL;
        }
      record_refs (s, rec, set);
      json_decref (rec);
    }
  return set;
}

static int
collect_layers (struct cove_storage *s, json_t *keep, const char *trash,
                struct cove_error **err)
{
  cleanup_free char *dir = xasprintf ("%s/layers", s->root);
  cleanup_dir DIR *d = opendir (dir);
  if (d == NULL)
    return cove_error_set (err, errno, "open `%s`", dir);
  cleanup_close int tfd = open (trash, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tfd < 0)
    return cove_error_set (err, errno, "open `%s`", trash);
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if (storage_digest_hex (de->d_name) == NULL
          || json_object_get (keep, de->d_name))
        continue;
      /* A rename is instant; the removal of the tree happens after the
         store lock is released.  */
      if (renameat (dirfd (d), de->d_name, tfd, de->d_name) < 0)
        return cove_error_set (err, errno, "remove layer %s", de->d_name);
    }
  return 0;
}

static int
collect_blobs (struct cove_storage *s, json_t *keep, struct cove_error **err)
{
  cleanup_free char *dir = xasprintf ("%s/blobs/sha256", s->root);
  cleanup_dir DIR *d = opendir (dir);
  if (d == NULL)
    return cove_error_set (err, errno, "open `%s`", dir);
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if (storage_digest_hex (de->d_name) == NULL
          || json_object_get (keep, de->d_name))
        continue;
      if (unlinkat (dirfd (d), de->d_name, 0) < 0 && errno != ENOENT)
        return cove_error_set (err, errno, "remove blob %s", de->d_name);
    }
  return 0;
}

int
storage_gc_locked (struct cove_storage *s, const char *trash,
                   struct cove_error **err)
{
  json_t *keep = referenced (s, err);
  if (keep == NULL)
    return cove_error_wrap (err, "garbage collection");
  int r = collect_layers (s, keep, trash, err);
  if (r == 0)
    r = collect_blobs (s, keep, err);
  json_decref (keep);
  return r < 0 ? cove_error_wrap (err, "garbage collection") : 0;
}

/* Drop every name of HEX from the index, then its record (durably: the
   directory is synced, so that a power loss cannot bring the record back
   after its layers were collected).  Under the lock.  */
static int
image_remove_locked (struct cove_storage *s, const char *hex,
                     struct cove_error **err)
{
  cleanup_free char *ipath = xasprintf ("%s/images/names.json", s->root);
  cleanup_error struct cove_error *e = NULL;
  cleanup_free char *data = cove_file_read_at (AT_FDCWD, ipath, 16 << 20, NULL, &e);
  json_t *index = data ? json_loads (data, 0, NULL) : json_object ();
  if (index == NULL)
    return cove_error_set (err, EINVAL, "corrupt record `%s`", ipath);
  bool changed = false;
  const char *name;
  json_t *v;
  void *tmp;
  json_object_foreach_safe (index, tmp, name, v)
    if (json_is_string (v) && strcmp (json_string_value (v), hex) == 0)
      {
        json_object_del (index, name);
        changed = true;
      }
  int r = 0;
  if (changed)
    {
      cleanup_free char *text = json_dumps (index, JSON_INDENT (1) | JSON_SORT_KEYS);
      r = cove_file_write_atomic (ipath, text, strlen (text), 0600, COVE_FILE_SYNC, err);
    }
  json_decref (index);
  if (r < 0)
    return -1;
  cleanup_free char *rpath = xasprintf ("%s/images/%s.json", s->root, hex);
  if (unlink (rpath) < 0)
    return cove_error_set (err, errno == ENOENT ? ENOENT : errno,
                           "remove image %s", hex);
  cleanup_free char *dir = xasprintf ("%s/images", s->root);
  cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || fsync (dfd) < 0)
    return cove_error_set (err, errno, "fsync `%s`", dir);
  return 0;
}

/* Run FN (remove or just collect) with a trash entry, under the lock.  */
static int
with_trash (struct cove_storage *s, const char *hex, struct cove_error **err)
{
  cleanup_free char *trash = NULL;
  int tfd = storage_tmp_entry (s, &trash, err);
  if (tfd < 0)
    return -1;
  int r = storage_lock (s, err);
  if (r == 0)
    {
      if (hex)
        r = image_remove_locked (s, hex, err);
      if (r == 0)
        r = storage_gc_locked (s, trash, err);
      storage_unlock (s);
    }
  cove_rm_rf (trash, NULL);
  close (tfd);
  return r;
}

int
cove_storage_image_remove (struct cove_storage *s, const char *id,
                           struct cove_error **err)
{
  struct cove_storage_image img;
  if (cove_storage_image_lookup (s, id, &img, err) < 0)
    return -1;
  int r = with_trash (s, img.id, err);
  cove_storage_image_free (&img);
  return r;
}

int
cove_storage_gc (struct cove_storage *s, struct cove_error **err)
{
  return with_trash (s, NULL, err);
}
