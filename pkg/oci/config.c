/* Image configs (OCI and Docker: the same JSON shape).  Untrusted: from a
   registry or an archive; every field cove reads is type-checked.  */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* rootfs.diff_ids: as many as a manifest may have layers.  */
#define DIFF_IDS_MAX 1000

/* OBJ[KEY] as a new string: NULL when absent, null or empty (docker writes
   "WorkingDir": "" for "unset").  */
static int
opt_string (json_t *obj, const char *key, char **out, struct cove_error **err)
{
  json_t *v = obj ? json_object_get (obj, key) : NULL;
  *out = NULL;
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_string (v))
    return cove_error_set (err, EINVAL, "`%s` must be a string", key);
  if (json_string_length (v) > 0)
    *out = xstrdup (json_string_value (v));
  return 0;
}

/* OBJ[KEY], an array of strings, as a NULL-terminated vector.  *OUT stays
   NULL when the key is absent or null, unless EMPTY_IF_UNSET.  */
static int
opt_strv (json_t *obj, const char *key, bool empty_if_unset, char ***out,
          struct cove_error **err)
{
  json_t *v = obj ? json_object_get (obj, key) : NULL;
  *out = NULL;
  if (v == NULL || json_is_null (v))
    {
      if (empty_if_unset)
        *out = xmalloc0 (sizeof (char *));
      return 0;
    }
  if (!json_is_array (v))
    return cove_error_set (err, EINVAL, "`%s` must be an array of strings", key);
  size_t i, n = json_array_size (v);
  json_t *e;
  json_array_foreach (v, i, e)
    if (!json_is_string (e))
      return cove_error_set (err, EINVAL, "`%s[%zu]` must be a string", key, i);
  char **r = xmalloc0 ((n + 1) * sizeof *r);
  json_array_foreach (v, i, e)
    r[i] = xstrdup (json_string_value (e));
  *out = r;
  return 0;
}

/* The keys of the object OBJ[KEY] (Volumes, ExposedPorts), sorted so that
   the result does not depend on the document's order.  */
static int
object_keys (json_t *obj, const char *key, char ***out, struct cove_error **err)
{
  json_t *v = obj ? json_object_get (obj, key) : NULL;
  *out = xmalloc0 (sizeof (char *));
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_object (v))
    return cove_error_set (err, EINVAL, "`%s` must be an object", key);
  const char *k;
  json_t *val;
  json_object_foreach (v, k, val)
    {
      if (!json_is_object (val) && !json_is_null (val))
        return cove_error_set (err, EINVAL, "`%s` entry `%.100s` must be an object", key, k);
      if (*k == '\0')
        return cove_error_set (err, EINVAL, "`%s` has an empty key", key);
      cove_strv_append (out, k);
    }
  size_t n = cove_strv_len (*out);
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && strcmp ((*out)[j - 1], (*out)[j]) > 0; j--)
      {
        char *t = (*out)[j];
        (*out)[j] = (*out)[j - 1];
        (*out)[j - 1] = t;
      }
  return 0;
}

static int
parse_rootfs (json_t *doc, struct cove_oci_config *c, struct cove_error **err)
{
  json_t *rootfs = json_object_get (doc, "rootfs");
  if (!json_is_object (rootfs))
    return cove_error_set (err, EINVAL, "`rootfs` is missing or not an object");
  json_t *type = json_object_get (rootfs, "type");
  if (!json_is_string (type) || strcmp (json_string_value (type), "layers") != 0)
    return cove_error_set (err, EINVAL, "`rootfs.type` must be \"layers\"");
  json_t *ids = json_object_get (rootfs, "diff_ids");
  if (!json_is_array (ids))
    return cove_error_set (err, EINVAL, "`rootfs.diff_ids` is missing or not an array");
  size_t n = json_array_size (ids);
  if (n > DIFF_IDS_MAX)
    return cove_error_set (err, EINVAL, "%zu diff_ids: more than %d", n, DIFF_IDS_MAX);
  for (size_t i = 0; i < n; i++)
    {
      json_t *e = json_array_get (ids, i);
      if (!json_is_string (e))
        return cove_error_set (err, EINVAL, "`rootfs.diff_ids[%zu]` must be a string", i);
      if (cove_oci_digest_check (json_string_value (e), err) < 0)
        return cove_error_wrap (err, "rootfs.diff_ids[%zu]", i);
    }
  c->diff_ids = xmalloc0 ((n + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    c->diff_ids[i] = xstrdup (json_string_value (json_array_get (ids, i)));
  c->n_diff_ids = n;
  return 0;
}

static int
parse_exec_config (json_t *doc, struct cove_oci_config *c, struct cove_error **err)
{
  json_t *cfg = json_object_get (doc, "config");
  if (cfg && json_is_null (cfg))
    cfg = NULL;
  if (cfg && !json_is_object (cfg))
    return cove_error_set (err, EINVAL, "`config` must be an object");
  if (opt_strv (cfg, "Env", true, &c->env, err) < 0
      || opt_strv (cfg, "Cmd", false, &c->cmd, err) < 0
      || opt_strv (cfg, "Entrypoint", false, &c->entrypoint, err) < 0
      || opt_string (cfg, "WorkingDir", &c->working_dir, err) < 0
      || opt_string (cfg, "User", &c->user, err) < 0
      || opt_string (cfg, "StopSignal", &c->stop_signal, err) < 0
      || object_keys (cfg, "Volumes", &c->volumes, err) < 0
      || object_keys (cfg, "ExposedPorts", &c->exposed_ports, err) < 0)
    return cove_error_wrap (err, "config");
  /* An environment entry without '=' has no meaning in an image.  */
  for (char **e = c->env; *e; e++)
    if (strchr (*e, '=') == NULL || **e == '=')
      return cove_error_set (err, EINVAL, "config: `Env` entry `%.100s` is not NAME=VALUE", *e);
  return 0;
}

static int
parse_config_doc (json_t *doc, struct cove_oci_config *c, struct cove_error **err)
{
  if (!json_is_object (doc))
    return cove_error_set (err, EINVAL, "an image config must be a JSON object");
  if (opt_string (doc, "os", &c->os, err) < 0
      || opt_string (doc, "architecture", &c->architecture, err) < 0
      || opt_string (doc, "variant", &c->variant, err) < 0)
    return -1;
  json_t *history = json_object_get (doc, "history");
  if (history && !json_is_array (history))
    return cove_error_set (err, EINVAL, "`history` must be an array");
  if (parse_exec_config (doc, c, err) < 0)
    return -1;
  return parse_rootfs (doc, c, err);
}

int
cove_oci_config_parse (const char *data, size_t len, struct cove_oci_config *out,
                       struct cove_error **err)
{
  struct cove_oci_config c = { 0 };
  json_error_t jerr;
  if (len > COVE_OCI_DOCUMENT_MAX)
    return cove_error_set (err, EFBIG, "image config of %zu bytes is over the %d bytes limit",
                           len, COVE_OCI_DOCUMENT_MAX);
  c.doc = json_loadb (data, len, JSON_REJECT_DUPLICATES, &jerr);
  if (c.doc == NULL)
    return cove_error_set (err, EINVAL, "image config is not valid JSON: line %d: %s",
                           jerr.line, jerr.text);
  if (parse_config_doc (c.doc, &c, err) < 0)
    {
      cove_oci_config_free (&c);
      return cove_error_wrap (err, "invalid image config");
    }
  *out = c;
  return 0;
}

void
cove_oci_config_free (struct cove_oci_config *c)
{
  if (c == NULL)
    return;
  free (c->os);
  free (c->architecture);
  free (c->variant);
  cove_strv_free (c->env);
  cove_strv_free (c->cmd);
  cove_strv_free (c->entrypoint);
  free (c->working_dir);
  free (c->user);
  free (c->stop_signal);
  cove_strv_free (c->volumes);
  cove_strv_free (c->exposed_ports);
  cove_strv_free (c->diff_ids);
  json_decref (c->doc);
  memset (c, 0, sizeof *c);
}
