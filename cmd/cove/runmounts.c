/* cove run/create: --mount and --volumes-from.  */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/ctr.h"
#include "cmd/cove/runmounts.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#define CONFIG_MAX (4 * 1024 * 1024)

/* ---- --mount ---- */

enum mount_type { MOUNT_NONE, MOUNT_BIND, MOUNT_VOLUME, MOUNT_TMPFS };

struct mount_spec
{
  enum mount_type type;
  char *source, *target;
  char **opts;           /* options for pkg/spec: ro, propagation, bind */
  bool nocopy;
  char *tmpfs_size, *tmpfs_mode;
};

static void
mount_spec_free (struct mount_spec *s)
{
  free (s->source);
  free (s->target);
  free (s->tmpfs_size);
  free (s->tmpfs_mode);
  cove_strv_free (s->opts);
}

static int
bad_mount (const char *spec, const char *why, const char *what,
           struct cove_error **err)
{
  return cove_error_set_plain (err, EINVAL, "invalid --mount `%s`: %s%s",
                               spec, why, what ? what : "");
}

/* A bool value of a --mount key: "" (the key alone) is true.  */
static int
mount_bool (const char *spec, const char *key, const char *v, bool *out,
            struct cove_error **err)
{
  if (v == NULL || strcmp (v, "true") == 0 || strcmp (v, "1") == 0)
    *out = true;
  else if (strcmp (v, "false") == 0 || strcmp (v, "0") == 0)
    *out = false;
  else
    return bad_mount (spec, "not a boolean: ", key, err);
  return 0;
}

static int
mount_type (const char *spec, const char *v, struct mount_spec *s,
            struct cove_error **err)
{
  if (v && strcmp (v, "bind") == 0)
    s->type = MOUNT_BIND;
  else if (v && strcmp (v, "volume") == 0)
    s->type = MOUNT_VOLUME;
  else if (v && strcmp (v, "tmpfs") == 0)
    s->type = MOUNT_TMPFS;
  else
    return bad_mount (spec, "unsupported type: ", v ? v : "", err);
  return 0;
}

/* tmpfs-size: bytes with an optional k, m or g (what tmpfs's size=
   takes); tmpfs-mode: octal.  */
static bool
valid_size (const char *v)
{
  size_t n = strspn (v, "0123456789");
  return n > 0 && (v[n] == '\0' || (strchr ("kKmMgG", v[n]) && v[n + 1] == '\0'));
}

static int
set_str (char **dst, const char *v)
{
  free (*dst);
  *dst = xstrdup (v);
  return 0;
}

static int
mount_key (const char *spec, const char *key, const char *v,
           struct mount_spec *s, struct cove_error **err)
{
  bool b;
  if (strcmp (key, "type") == 0)
    return mount_type (spec, v, s, err);
  if (strcmp (key, "source") == 0 || strcmp (key, "src") == 0)
    return set_str (&s->source, v ? v : "");
  if (strcmp (key, "target") == 0 || strcmp (key, "destination") == 0
      || strcmp (key, "dst") == 0)
    return set_str (&s->target, v ? v : "");
  if (strcmp (key, "ro") == 0 || strcmp (key, "readonly") == 0
      || strcmp (key, "rw") == 0)
    {
      if (mount_bool (spec, key, v, &b, err) < 0)
        return -1;
      /* ro=true and rw=false both mean read-only.  */
      bool ro_key = strcmp (key, "rw") != 0;
      cove_strv_append (&s->opts, b == ro_key ? "ro" : "rw");
      return 0;
    }
  if (strcmp (key, "bind-propagation") == 0 && v)
    {
      cove_strv_append (&s->opts, v);
      return 0;
    }
  if (strcmp (key, "bind-nonrecursive") == 0)
    {
      if (mount_bool (spec, key, v, &b, err) < 0)
        return -1;
      if (b)
        cove_strv_append (&s->opts, "bind");
      return 0;
    }
  if (strcmp (key, "volume-nocopy") == 0 || strcmp (key, "nocopy") == 0)
    return mount_bool (spec, key, v, &s->nocopy, err);
  if (strcmp (key, "tmpfs-size") == 0 && v && valid_size (v))
    return set_str (&s->tmpfs_size, v);
  if (strcmp (key, "tmpfs-mode") == 0 && v && v[0]
      && strspn (v, "01234567") == strlen (v) && strlen (v) <= 4)
    return set_str (&s->tmpfs_mode, v);
  /* SELinux relabelling and docker's consistency have no meaning here.  */
  if (strcmp (key, "relabel") == 0 || strcmp (key, "consistency") == 0
      || strcmp (key, "z") == 0 || strcmp (key, "Z") == 0)
    return 0;
  return bad_mount (spec, "unknown or malformed option: ", key, err);
}

static int
mount_split (const char *spec, struct mount_spec *s, struct cove_error **err)
{
  cleanup_free char *copy = xstrdup (spec);
  for (char *f = copy, *next; f; f = next)
    {
      next = strchr (f, ',');
      if (next)
        *next++ = '\0';
      if (*f == '\0')
        continue;
      char *v = strchr (f, '=');
      if (v)
        *v++ = '\0';
      if (mount_key (spec, f, v, s, err) < 0)
        return -1;
    }
  if (s->type == MOUNT_NONE)
    return bad_mount (spec, "type must be bind, volume or tmpfs", NULL, err);
  if (s->target == NULL || s->target[0] != '/')
    return bad_mount (spec, "the target must be an absolute path", NULL, err);
  if (s->type == MOUNT_TMPFS && s->source && s->source[0])
    return bad_mount (spec, "a tmpfs mount takes no source", NULL, err);
  if (s->type != MOUNT_TMPFS && (s->tmpfs_size || s->tmpfs_mode))
    return bad_mount (spec, "tmpfs-size and tmpfs-mode are for tmpfs", NULL, err);
  if (s->type == MOUNT_BIND && (s->source == NULL || s->source[0] != '/'))
    return bad_mount (spec, "a bind mount needs an absolute source", NULL, err);
  if (s->type == MOUNT_VOLUME && s->source && s->source[0]
      && !cove_storage_volume_name_valid (s->source))
    return bad_mount (spec, "invalid volume name ", s->source, err);
  return 0;
}

static char *
join_opts (char **opts, const char *extra1, const char *extra2)
{
  char *out = xstrdup ("");
  for (size_t i = 0; opts && opts[i]; i++)
    {
      char *n = xasprintf ("%s%s%s", out, out[0] ? "," : "", opts[i]);
      free (out);
      out = n;
    }
  const char *extras[] = { extra1, extra2 };
  for (size_t i = 0; i < 2; i++)
    if (extras[i])
      {
        char *n = xasprintf ("%s%s%s", out, out[0] ? "," : "", extras[i]);
        free (out);
        out = n;
      }
  return out;
}

int
run_mounts_parse_mount (struct run_mounts *m, const char *spec,
                        struct cove_error **err)
{
  struct mount_spec s = { 0 };
  int r = mount_split (spec, &s, err);
  cleanup_free char *dst = r == 0 ? run_mounts_clean (s.target) : NULL;
  if (r == 0)
    r = run_mounts_take (m, dst, err);
  if (r == 0 && s.type == MOUNT_BIND)
    {
      cleanup_free char *opts = join_opts (s.opts, NULL, NULL);
      run_mounts_bind (m, s.source, dst, opts);
    }
  else if (r == 0 && s.type == MOUNT_VOLUME)
    {
      cleanup_free char *opts = join_opts (s.opts, s.nocopy ? "nocopy" : NULL,
                                           NULL);
      r = run_mounts_volume (m, s.source && s.source[0] ? s.source : NULL,
                             dst, opts, err);
    }
  else if (r == 0)
    {
      cleanup_free char *size = s.tmpfs_size ? xasprintf ("size=%s", s.tmpfs_size) : NULL;
      cleanup_free char *mode = s.tmpfs_mode ? xasprintf ("mode=%s", s.tmpfs_mode) : NULL;
      cleanup_free char *opts = join_opts (s.opts, size, mode);
      cleanup_free char *t = opts[0] ? xasprintf ("%s:%s", dst, opts) : xstrdup (dst);
      cove_strv_append (&m->tmpfs, t);
    }
  mount_spec_free (&s);
  return r;
}

/* ---- --volumes-from ---- */

/* Mounts cove itself adds, which are not the container's volumes.  */
static bool
is_system_mount (const char *dst)
{
  static const char *const system[] = { COVE_SPEC_INIT_PATH, "/etc/hosts",
                                        "/etc/hostname", "/etc/resolv.conf",
                                        "/run/.containerenv", NULL };
  for (size_t i = 0; system[i]; i++)
    if (strcmp (dst, system[i]) == 0)
      return true;
  return false;
}

/* The options of the other container's mount worth keeping, with its ro
   replaced by MODE ("ro", "rw" or NULL: kept).  */
static char *
inherit_opts (json_t *options, const char *mode)
{
  static const char *const keep[] = { "bind", "nosuid", "nodev", "noexec",
                                      "private", "rprivate", "shared",
                                      "rshared", "slave", "rslave", NULL };
  char **opts = NULL;
  bool ro = false;
  size_t i;
  json_t *e;
  json_array_foreach (options, i, e)
    {
      const char *o = json_string_value (e);
      if (o == NULL)
        continue;
      if (strcmp (o, "ro") == 0)
        ro = true;
      for (size_t k = 0; keep[k]; k++)
        if (strcmp (o, keep[k]) == 0)
          cove_strv_append (&opts, o);
    }
  if (mode ? strcmp (mode, "ro") == 0 : ro)
    cove_strv_append (&opts, "ro");
  char *r = join_opts (opts, NULL, NULL);
  cove_strv_free (opts);
  return r;
}

static void
inherit_mount (struct run_mounts *m, json_t *mount, const char *mode)
{
  const char *dst = json_string_value (json_object_get (mount, "destination"));
  const char *src = json_string_value (json_object_get (mount, "source"));
  const char *type = json_string_value (json_object_get (mount, "type"));
  if (dst == NULL || src == NULL || type == NULL || strcmp (type, "bind") != 0
      || src[0] != '/' || dst[0] != '/')
    return;
  cleanup_free char *clean = run_mounts_clean (dst);
  /* The container's own mounts win over what it inherits.  */
  if (is_system_mount (clean) || json_object_get (m->dests, clean))
    return;
  json_object_set_new (m->dests, clean, json_true ());
  cleanup_free char *opts = inherit_opts (json_object_get (mount, "options"), mode);
  run_mounts_bind (m, src, clean, opts);
  cleanup_free char *name = run_mounts_volume_of (m->paths, src, strlen (src));
  if (name)
    run_mounts_note (m->names, name);
}

static json_t *
load_config (const struct cove_storage_paths *paths, const char *who,
             struct cove_error **err)
{
  struct cove_state_store st;
  if (cove_state_store_open (&st, paths->data_dir, err) < 0)
    return NULL;
  struct cove_state_container c;
  int r = cove_ctr_load (&st, who, &c, err);
  cove_state_store_close (&st);
  if (r < 0)
    return NULL;
  cleanup_free char *path = cove_ctr_file (paths, c.id, "config.json");
  cove_state_container_free (&c);
  cleanup_free char *text = cove_file_read_at (AT_FDCWD, path, CONFIG_MAX,
                                               NULL, err);
  if (text == NULL)
    return NULL;
  json_error_t jerr;
  json_t *doc = json_loads (text, 0, &jerr);
  if (!json_is_object (doc))
    {
      json_decref (doc);
      cove_error_set (err, EINVAL, "`%s`: not a valid config: %s", path,
                      jerr.text);
      return NULL;
    }
  return doc;
}

int
run_mounts_volumes_from (struct run_mounts *m, const char *spec,
                         struct cove_error **err)
{
  cleanup_free char *who = xstrdup (spec);
  char *mode = strchr (who, ':');
  if (mode)
    {
      *mode++ = '\0';
      /* z is accepted as podman does; no SELinux here.  */
      if (strcmp (mode, "ro") && strcmp (mode, "rw") && strcmp (mode, "z"))
        return cove_error_set_plain (err, EINVAL, "invalid --volumes-from "
                                     "`%s`: the options are ro, rw", spec);
      if (strcmp (mode, "z") == 0)
        mode = NULL;
    }
  json_t *doc = load_config (m->paths, who, err);
  if (doc == NULL)
    return cove_error_wrap (err, "--volumes-from");
  size_t i;
  json_t *mount;
  json_array_foreach (json_object_get (doc, "mounts"), i, mount)
    inherit_mount (m, mount, mode);
  json_decref (doc);
  return 0;
}
