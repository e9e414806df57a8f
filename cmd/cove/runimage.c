#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "cmd/cove/conf.h"
#include "cmd/cove/imgutil.h"
#include "cmd/cove/runimage.h"
#include "cmd/cove/store.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* A JSON array of strings as a new NULL-terminated vector; NULL when V is
   not an array (unset in the config).  Non-strings are skipped.  */
static char **
json_strv (json_t *v)
{
  if (!json_is_array (v))
    return NULL;
  char **r = xmalloc0 ((json_array_size (v) + 1) * sizeof (char *));
  size_t i, k = 0;
  json_t *e;
  json_array_foreach (v, i, e)
    if (json_is_string (e))
      r[k++] = xstrdup (json_string_value (e));
  return r;
}

static const char *
json_str (json_t *o, const char *key)
{
  const char *v = json_string_value (json_object_get (o, key));
  return v && v[0] ? v : NULL;
}

/* The image config's settings into the request; strings point into
   O->image_config, which O keeps.  */
static void
apply_config (struct cove_run_options *o, json_t *cfg)
{
  json_t *c = json_object_get (cfg, "config");
  o->req.image_env = json_strv (json_object_get (c, "Env"));
  o->req.image_cmd = json_strv (json_object_get (c, "Cmd"));
  o->req.image_entrypoint = json_strv (json_object_get (c, "Entrypoint"));
  o->req.image_workdir = json_str (c, "WorkingDir");
  o->req.image_user = json_str (c, "User");
}

static int
pull (struct cove_run_options *o, struct cove_storage *s,
      struct cove_storage_image *out_img, int *out_status,
      struct cove_error **err)
{
  char *args[5];
  size_t n = 0;
  if (o->platform)
    {
      args[n++] = (char *) "--platform";
      args[n++] = (char *) o->platform;
    }
  if (o->tls_verify >= 0)
    args[n++] = (char *) (o->tls_verify ? "--tls-verify=true" : "--tls-verify=false");
  args[n] = NULL;
  cleanup_free char *id = NULL;
  if (cove_cmd_pull_via_full (o->image, args, &id, out_status, err) < 0)
    return -1;
  return cove_storage_image_lookup (s, id, out_img, err);
}

int
cove_run_image_resolve (struct cove_run_options *o, struct cove_storage *s,
                        struct cove_storage_image *out_img, int *out_status,
                        struct cove_error **err)
{
  *out_status = 125;
  int r;
  if (o->pull == COVE_RUN_PULL_ALWAYS)
    r = pull (o, s, out_img, out_status, err);
  else
    {
      cleanup_error struct cove_error *local = NULL;
      r = cove_img_find (s, o->image, out_img, &local);
      if (r < 0 && local->errnum == ENOENT && o->pull != COVE_RUN_PULL_NEVER)
        r = pull (o, s, out_img, out_status, err);
      else if (r < 0)
        *err = steal_pointer (&local);
    }
  if (r < 0)
    return -1;
  o->image_config = cove_img_config (s, out_img, err);
  if (o->image_config == NULL)
    {
      cove_storage_image_free (out_img);
      return -1;
    }
  apply_config (o, o->image_config);
  return 0;
}
