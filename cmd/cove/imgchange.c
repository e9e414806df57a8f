/* cove: the --change options of import and commit (Dockerfile syntax:
   CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)
   applied to an image's "config" object.  */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cove/imgchange.h"
#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"


/* A JSON array of strings, or the shell form run by /bin/sh -c.  */
static json_t *
command_value (const char *v, struct cove_error **err)
{
  if (v[0] != '[')
    return json_pack ("[s, s, s]", "/bin/sh", "-c", v);
  json_t *a = json_loads (v, 0, NULL);
  size_t i;
  json_t *e;
  json_array_foreach (a, i, e)
    if (!json_is_string (e))
      break;
  if (!json_is_array (a) || i != json_array_size (a))
    {
      json_decref (a);
      cove_error_set (err, EINVAL, "invalid JSON array `%s`", v);
      return NULL;
    }
  return a;
}

static json_t *
object_member (json_t *cfg, const char *key)
{
  json_t *o = json_object_get (cfg, key);
  if (!json_is_object (o))
    {
      o = json_object ();
      json_object_set_new (cfg, key, o);
    }
  return o;
}

static int
change_env (json_t *cfg, const char *v, struct cove_error **err)
{
  const char *eq = strchr (v, '=');
  const char *sp = strchr (v, ' ');
  if (sp != NULL && (eq == NULL || sp < eq))
    eq = sp;
  if (eq == NULL || eq == v)
    return cove_error_set (err, EINVAL, "ENV needs NAME=VALUE, got `%s`", v);
  cleanup_free char *entry = xasprintf ("%.*s=%s", (int) (eq - v), v, eq + 1);
  json_t *env = json_object_get (cfg, "Env");
  if (!json_is_array (env))
    {
      env = json_array ();
      json_object_set_new (cfg, "Env", env);
    }
  size_t i;
  json_t *e;
  size_t klen = eq - v + 1;
  json_array_foreach (env, i, e)
    if (json_is_string (e) && strncmp (json_string_value (e), entry, klen) == 0)
      return json_array_set_new (env, i, json_string (entry));
  return json_array_append_new (env, json_string (entry));
}

static int
change_label (json_t *cfg, const char *v, struct cove_error **err)
{
  const char *eq = strchr (v, '=');
  if (eq == NULL || eq == v)
    return cove_error_set (err, EINVAL, "LABEL needs KEY=VALUE, got `%s`", v);
  cleanup_free char *key = xstrndup (v, eq - v);
  const char *val = eq + 1;
  size_t n = strlen (val);
  cleanup_free char *unq = n >= 2 && val[0] == '"' && val[n - 1] == '"'
    ? xstrndup (val + 1, n - 2) : xstrdup (val);
  return json_object_set_new (object_member (cfg, "Labels"), key,
                              json_string (unq));
}

static int
change_expose (json_t *cfg, const char *v, struct cove_error **err)
{
  json_t *ports = object_member (cfg, "ExposedPorts");
  const char *p = v;
  while (*p != '\0')
    {
      while (*p == ' ')
        p++;
      size_t l = strcspn (p, " ");
      if (l == 0)
        break;
      cleanup_free char *tok = xstrndup (p, l);
      p += l;
      char *end;
      unsigned long port = strtoul (tok, &end, 10);
      if (end == tok || port == 0 || port > 65535
          || (*end != '\0' && strcmp (end, "/tcp") != 0
              && strcmp (end, "/udp") != 0 && strcmp (end, "/sctp") != 0))
        return cove_error_set (err, EINVAL, "invalid port `%s`", tok);
      cleanup_free char *key = *end ? xstrdup (tok)
        : xasprintf ("%lu/tcp", port);
      json_object_set_new (ports, key, json_object ());
    }
  return 0;
}

static int
change_volume (json_t *cfg, const char *v, struct cove_error **err)
{
  json_t *vols = object_member (cfg, "Volumes");
  if (v[0] != '[')
    return json_object_set_new (vols, v, json_object ());
  json_t *a = command_value (v, err);
  if (a == NULL)
    return -1;
  size_t i;
  json_t *e;
  json_array_foreach (a, i, e)
    json_object_set_new (vols, json_string_value (e), json_object ());
  json_decref (a);
  return 0;
}

int
cove_img_change_apply (json_t *cfg, const char *change, struct cove_error **err)
{
  size_t klen = strcspn (change, " =");
  cleanup_free char *key = xstrndup (change, klen);
  for (char *k = key; *k; k++)
    if (*k >= 'a' && *k <= 'z')
      *k -= 'a' - 'A';
  const char *v = change + klen + (change[klen] != '\0');
  while (*v == ' ')
    v++;
  if (*v == '\0')
    return cove_error_set (err, EINVAL, "invalid change \"%s\": no value",
                           change);
  if (strcmp (key, "CMD") == 0 || strcmp (key, "ENTRYPOINT") == 0)
    {
      json_t *a = command_value (v, err);
      if (a == NULL)
        return -1;
      return json_object_set_new (cfg, strcmp (key, "CMD") == 0
                                  ? "Cmd" : "Entrypoint", a);
    }
  if (strcmp (key, "ENV") == 0)
    return change_env (cfg, v, err);
  if (strcmp (key, "LABEL") == 0)
    return change_label (cfg, v, err);
  if (strcmp (key, "EXPOSE") == 0)
    return change_expose (cfg, v, err);
  if (strcmp (key, "VOLUME") == 0)
    return change_volume (cfg, v, err);
  const char *field = strcmp (key, "WORKDIR") == 0 ? "WorkingDir"
    : strcmp (key, "USER") == 0 ? "User"
    : strcmp (key, "STOPSIGNAL") == 0 ? "StopSignal" : NULL;
  if (field == NULL)
    return cove_error_set (err, EINVAL, "invalid change \"%s\": unknown "
                           "instruction %s", change, key);
  return json_object_set_new (cfg, field, json_string (v));
}

int
cove_img_store (struct cove_storage *s, json_t *doc, char **layers,
                const char *tag, char **out_id, struct cove_error **err)
{
  cleanup_free char *data = json_dumps (doc, JSON_COMPACT);
  if (data == NULL)
    return cove_error_set (err, ENOMEM, "image config");
  cleanup_free char *digest = cove_oci_digest_buffer (data, strlen (data));
  if (cove_storage_blob_put (s, digest, data, strlen (data), err) < 0)
    return -1;
  struct cove_storage_image img = { .id = strchr (digest, ':') + 1,
                                    .config_digest = digest,
                                    .layers = layers };
  if (cove_storage_image_add (s, &img, tag, err) < 0)
    return -1;
  *out_id = xstrdup (img.id);
  return 0;
}

json_t *
cove_img_add_history (json_t *doc, const struct cove_img_history *h)
{
  char created[32];
  time_t now = time (NULL);
  struct tm tm;
  strftime (created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r (&now, &tm));
  json_object_set_new (doc, "created", json_string (created));
  json_t *hist = json_object_get (doc, "history");
  if (!json_is_array (hist))
    json_object_set_new (doc, "history", hist = json_array ());
  json_t *e = json_pack ("{s:s}", "created", created);
  if (h->created_by)
    json_object_set_new (e, "created_by", json_string (h->created_by));
  if (h->author)
    json_object_set_new (e, "author", json_string (h->author));
  if (h->comment)
    json_object_set_new (e, "comment", json_string (h->comment));
  if (h->diff_id == NULL)
    json_object_set_new (e, "empty_layer", json_true ());
  json_array_append_new (hist, e);
  if (h->diff_id != NULL)
    {
      json_t *rootfs = json_object_get (doc, "rootfs");
      if (!json_is_object (rootfs))
        json_object_set_new (doc, "rootfs", rootfs = json_pack ("{s:s, s:[]}",
                                                                "type", "layers",
                                                                "diff_ids"));
      json_array_append_new (json_object_get (rootfs, "diff_ids"),
                             json_string (h->diff_id));
    }
  return doc;
}
