/* cove run/create: -v, the image's VOLUMEs, and --init.  --mount and
   --volumes-from are in runmounts.c.  */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cove/runmounts.h"
#include "cmd/cove/runvolumes.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

#ifndef COVE_LIBEXECDIR
# define COVE_LIBEXECDIR "/usr/local/libexec/cove"
#endif

/* ---- --init ---- */

/* The path of cove-init, for the life of the process (req.init_path is
   borrowed).  */
static char init_binary[PATH_MAX];

static bool
set_init_binary (const char *path)
{
  char *abs = realpath (path, NULL);
  if (abs == NULL)
    return false;
  struct stat st;
  bool ok = stat (abs, &st) == 0 && S_ISREG (st.st_mode)
            && strlen (abs) < sizeof init_binary;
  if (ok)
    memcpy (init_binary, abs, strlen (abs) + 1);
  free (abs);
  return ok;
}

int
cove_run_init_prepare (struct cove_run_options *o, struct cove_error **err)
{
  if (!o->init)
    return 0;
  if (o->init_path)
    {
      if (!set_init_binary (o->init_path))
        return cove_error_set (err, errno ? errno : EINVAL,
                               "init binary `%s`", o->init_path);
      o->req.init_path = init_binary;
      return 0;
    }
  char self[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (n > 0)
    {
      self[n] = '\0';
      const char *dir = dirname (self);
      cleanup_free char *beside = xasprintf ("%s/cove-init", dir);
      cleanup_free char *build = xasprintf ("%s/../cove-init/cove-init", dir);
      if (set_init_binary (beside) || set_init_binary (build))
        {
          o->req.init_path = init_binary;
          return 0;
        }
    }
  if (set_init_binary (COVE_LIBEXECDIR "/cove-init"))
    {
      o->req.init_path = init_binary;
      return 0;
    }
  return cove_error_set (err, ENOENT, "--init: cove-init not found beside "
                         "cove nor in `%s` (use --init-path)",
                         COVE_LIBEXECDIR);
}

/* ---- the mounts being built ---- */

char *
run_mounts_clean (const char *dst)
{
  char *out = xmalloc (strlen (dst) + 2);
  size_t k = 0;
  for (const char *p = dst; *p;)
    {
      while (*p == '/')
        p++;
      size_t len = strcspn (p, "/");
      if (len == 0 || (len == 1 && p[0] == '.'))
        {
          p += len;
          continue;
        }
      out[k++] = '/';
      memcpy (out + k, p, len);
      k += len;
      p += len;
    }
  if (k == 0)
    out[k++] = '/';
  out[k] = '\0';
  return out;
}

int
run_mounts_take (struct run_mounts *m, const char *dst,
                 struct cove_error **err)
{
  if (json_object_get (m->dests, dst))
    return cove_error_set_plain (err, EINVAL, "%s: duplicate mount "
                                 "destination", dst);
  json_object_set_new (m->dests, dst, json_true ());
  return 0;
}

void
run_mounts_bind (struct run_mounts *m, const char *src, const char *dst,
                 const char *opts)
{
  cleanup_free char *b = opts && opts[0] ? xasprintf ("%s:%s:%s", src, dst, opts)
                                         : xasprintf ("%s:%s", src, dst);
  cove_strv_append (&m->binds, b);
}

void
run_mounts_note (json_t *names, const char *name)
{
  size_t i;
  json_t *e;
  json_array_foreach (names, i, e)
    if (strcmp (json_string_value (e), name) == 0)
      return;
  json_array_append_new (names, json_string (name));
}

int
run_mounts_volume (struct run_mounts *m, const char *name, const char *dst,
                   const char *opts, struct cove_error **err)
{
  struct cove_storage_volume v;
  cleanup_error struct cove_error *local = NULL;
  int r = name ? cove_storage_volume_load (m->paths, name, &v, &local) : -1;
  if (r < 0 && name && local->errnum != ENOENT)
    {
      *err = steal_pointer (&local);
      return -1;
    }
  if (r < 0)
    {
      /* A named volume that is not there is made, as podman does; two
         runs racing to make it both end up using the one that won.  */
      cove_error_release (&local);
      r = cove_storage_volume_create (m->paths, name, NULL, name == NULL,
                                      &v, &local);
      if (r == 0)
        cove_strv_append (&m->created, v.name);
      else if (name && local->errnum == EEXIST)
        r = cove_storage_volume_load (m->paths, name, &v, err);
      else
        *err = steal_pointer (&local);
      if (r < 0)
        return -1;
    }
  run_mounts_bind (m, v.mountpoint, dst, opts);
  run_mounts_note (m->names, v.name);
  if (name == NULL)
    run_mounts_note (m->anon, v.name);
  cove_storage_volume_free (&v);
  return 0;
}

/* ---- -v ---- */

static int
bad_volume (const char *spec, const char *why, struct cove_error **err)
{
  return cove_error_set_plain (err, EINVAL, "invalid volume `%s`: %s",
                               spec, why);
}

/* A host path: absolute, or ./ ../ relative to the working directory.  */
static bool
is_host_path (const char *src)
{
  return src[0] == '/' || src[0] == '.';
}

static int
parse_v (struct run_mounts *m, const char *spec, struct cove_error **err)
{
  cleanup_free char *copy = xstrdup (spec);
  char *dst = strchr (copy, ':');
  if (dst == NULL)
    {
      /* -v /dst: an anonymous volume.  */
      if (copy[0] != '/')
        return bad_volume (spec, "must be [SOURCE:]CONTAINER-DIR[:OPTIONS]", err);
      cleanup_free char *clean = run_mounts_clean (copy);
      if (run_mounts_take (m, clean, err) < 0)
        return -1;
      return run_mounts_volume (m, NULL, clean, NULL, err);
    }
  *dst++ = '\0';
  char *opts = strchr (dst, ':');
  if (opts)
    *opts++ = '\0';
  if (copy[0] == '\0')
    return bad_volume (spec, "the source is empty", err);
  if (dst[0] != '/')
    return bad_volume (spec, "the container path must be absolute", err);
  cleanup_free char *clean = run_mounts_clean (dst);
  if (run_mounts_take (m, clean, err) < 0)
    return -1;
  if (!is_host_path (copy))
    {
      if (!cove_storage_volume_name_valid (copy))
        return bad_volume (spec, "a volume name must match "
                           "[a-zA-Z0-9][a-zA-Z0-9_.-]*", err);
      return run_mounts_volume (m, copy, clean, opts, err);
    }
  cleanup_free char *abs = copy[0] == '/' ? xstrdup (copy) : realpath (copy, NULL);
  if (abs == NULL)
    return cove_error_set (err, errno, "bind mount source `%s`", copy);
  run_mounts_bind (m, abs, clean, opts);
  return 0;
}

/* --tmpfs destinations are taken first: a -v on the same path is a
   duplicate, as in podman.  */
static int
take_tmpfs (struct run_mounts *m, char **tmpfs, struct cove_error **err)
{
  for (size_t i = 0; tmpfs && tmpfs[i]; i++)
    {
      cleanup_free char *dst = xstrndup (tmpfs[i], strcspn (tmpfs[i], ":"));
      cleanup_free char *clean = run_mounts_clean (dst);
      if (dst[0] == '/' && run_mounts_take (m, clean, err) < 0)
        return -1;
    }
  return 0;
}

/* The image's VOLUMEs not covered by a mount: anonymous volumes.  */
static int
image_volumes (struct run_mounts *m, json_t *image_config,
               struct cove_error **err)
{
  json_t *vols = json_object_get (json_object_get (image_config, "config"),
                                  "Volumes");
  const char *dst;
  json_t *unused;
  json_object_foreach (vols, dst, unused)
    {
      /* Image content: a relative or odd path is made absolute, as
         podman does, and cleaned so that "/data/" covers "/data".  */
      cleanup_free char *abs = dst[0] == '/' ? xstrdup (dst) : xasprintf ("/%s", dst);
      cleanup_free char *clean = run_mounts_clean (abs);
      if (json_object_get (m->dests, clean) || strcmp (clean, "/") == 0)
        continue;
      json_object_set_new (m->dests, clean, json_true ());
      if (run_mounts_volume (m, NULL, clean, NULL, err) < 0)
        return -1;
    }
  return 0;
}

static void
run_mounts_free (struct run_mounts *m, bool failed)
{
  for (size_t i = 0; failed && m->created && m->created[i]; i++)
    (void) cove_storage_volume_remove (m->paths, m->created[i], NULL);
  cove_strv_free (m->binds);
  cove_strv_free (m->tmpfs);
  cove_strv_free (m->created);
  json_decref (m->dests);
  json_decref (m->names);
  json_decref (m->anon);
}

static int
collect (struct run_mounts *m, struct cove_run_options *o,
         struct cove_error **err)
{
  if (take_tmpfs (m, o->req.tmpfs, err) < 0)
    return -1;
  for (size_t i = 0; o->req.volumes && o->req.volumes[i]; i++)
    if (parse_v (m, o->req.volumes[i], err) < 0)
      return -1;
  for (size_t i = 0; o->mounts && o->mounts[i]; i++)
    if (run_mounts_parse_mount (m, o->mounts[i], err) < 0)
      return -1;
  for (size_t i = 0; o->volumes_from && o->volumes_from[i]; i++)
    if (run_mounts_volumes_from (m, o->volumes_from[i], err) < 0)
      return -1;
  return image_volumes (m, o->image_config, err);
}

int
cove_run_volumes_prepare (struct cove_run_options *o,
                          const struct cove_storage_paths *paths,
                          json_t *extra, struct cove_error **err)
{
  struct run_mounts m = { .paths = paths, .dests = json_object (),
                          .names = json_array (), .anon = json_array () };
  if (collect (&m, o, err) < 0)
    {
      run_mounts_free (&m, true);
      return -1;
    }
  cove_strv_free (o->req.volumes);
  o->req.volumes = steal_pointer (&m.binds);
  for (size_t i = 0; m.tmpfs && m.tmpfs[i]; i++)
    cove_strv_append (&o->req.tmpfs, m.tmpfs[i]);
  if (o->req.rootfs && cove_run_volumes_copy_up (o, paths, err) < 0)
    {
      run_mounts_free (&m, true);
      return -1;
    }
  if (extra && json_array_size (m.names))
    json_object_set (extra, "volumes", m.names);
  if (extra && json_array_size (m.anon))
    json_object_set (extra, "anon_volumes", m.anon);
  run_mounts_free (&m, false);
  return 0;
}

char *
run_mounts_volume_of (const struct cove_storage_paths *paths, const char *src,
                  size_t src_len)
{
  cleanup_free char *prefix = xasprintf ("%s/volumes/", paths->data_dir);
  size_t plen = strlen (prefix);
  if (src_len <= plen + 6 || strncmp (src, prefix, plen) != 0
      || strncmp (src + src_len - 6, "/_data", 6) != 0)
    return NULL;
  char *name = xstrndup (src + plen, src_len - plen - 6);
  if (cove_storage_volume_name_valid (name))
    return name;
  free (name);
  return NULL;
}

int
cove_run_volumes_copy_up (const struct cove_run_options *o,
                          const struct cove_storage_paths *paths,
                          struct cove_error **err)
{
  if (o->req.rootfs == NULL)
    return 0;
  for (size_t i = 0; o->req.volumes && o->req.volumes[i]; i++)
    {
      const char *b = o->req.volumes[i];
      const char *dst = strchr (b, ':');
      if (dst == NULL)
        continue;
      cleanup_free char *name = run_mounts_volume_of (paths, b, dst - b);
      dst++;
      const char *opts = strchr (dst, ':');
      cleanup_free char *d = xstrndup (dst, opts ? (size_t) (opts - dst) : strlen (dst));
      bool nocopy = cove_spec_mount_option_has (opts ? opts + 1 : NULL,
                                                "nocopy");
      if (name && !nocopy
          && cove_storage_volume_copy_up (paths, name, o->req.rootfs, d, err) < 0)
        return -1;
    }
  return 0;
}

/* ---- who uses what ---- */

int
cove_volumes_users (const struct cove_storage_paths *paths,
                    const char *except_id, json_t **out,
                    struct cove_error **err)
{
  struct cove_state_store st;
  if (cove_state_store_open (&st, paths->data_dir, err) < 0)
    return -1;
  struct cove_state_container *all = NULL;
  size_t n = 0;
  char **warnings = NULL;
  int r = cove_state_list (&st, &all, &n, &warnings, err);
  cove_state_store_close (&st);
  cove_strv_free (warnings);
  if (r < 0)
    return -1;
  json_t *users = json_object ();
  for (size_t i = 0; i < n; i++)
    {
      if (except_id && strcmp (all[i].id, except_id) == 0)
        continue;
      size_t k;
      json_t *e;
      json_array_foreach (json_object_get (all[i].extra, "volumes"), k, e)
        {
          const char *name = json_string_value (e);
          if (name == NULL)
            continue;
          json_t *ids = json_object_get (users, name);
          if (ids == NULL)
            json_object_set_new (users, name, ids = json_array ());
          json_array_append_new (ids, json_string (all[i].id));
        }
    }
  cove_state_container_list_free (all, n);
  *out = users;
  return 0;
}

int
cove_volumes_remove_anonymous (const struct cove_storage_paths *paths,
                               const struct cove_state_container *c,
                               struct cove_error **err)
{
  json_t *anon = json_object_get (c->extra, "anon_volumes");
  if (json_array_size (anon) == 0)
    return 0;
  json_t *users = NULL;
  if (cove_volumes_users (paths, c->id, &users, err) < 0)
    return -1;
  int ret = 0;
  size_t i;
  json_t *e;
  json_array_foreach (anon, i, e)
    {
      const char *name = json_string_value (e);
      if (name == NULL || json_object_get (users, name))
        continue;
      cleanup_error struct cove_error *local = NULL;
      if (cove_storage_volume_remove (paths, name, &local) < 0
          && local->errnum != ENOENT && ret == 0)
        {
          *err = steal_pointer (&local);
          ret = -1;
        }
    }
  json_decref (users);
  return ret;
}
