/* cove build: the instructions that change only the image config (ENV,
   LABEL, MAINTAINER, EXPOSE, WORKDIR, USER, VOLUME, CMD, ENTRYPOINT,
   SHELL, STOPSIGNAL, HEALTHCHECK, ONBUILD), written as docker and podman
   write them into the OCI config.  */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/build.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

static json_t *
object_member (json_t *cfg, const char *key)
{
  json_t *o = json_object_get (cfg, key);
  if (!json_is_object (o))
    json_object_set_new (cfg, key, o = json_object ());
  return o;
}

static void
env_set (json_t *cfg, const char *k, const char *v)
{
  cleanup_free char *entry = xasprintf ("%s=%s", k, v);
  json_t *env = json_object_get (cfg, "Env");
  if (!json_is_array (env))
    json_object_set_new (cfg, "Env", env = json_array ());
  size_t i, kl = strlen (k);
  json_t *e;
  json_array_foreach (env, i, e)
    {
      const char *s = json_string_value (e);
      if (s && strncmp (s, k, kl) == 0 && s[kl] == '=')
        {
          json_array_set_new (env, i, json_string (entry));
          return;
        }
    }
  json_array_append_new (env, json_string (entry));
}

/* ENV and LABEL: the pairs, both sides expanded.  VARS follows ENV, so
   that a later pair of the same line sees an earlier one (docker does
   not: it expands the whole line first; the difference only shows in
   `ENV A=1 B=$A`, which docker leaves to the previous value).  */
static int
apply_pairs (struct build *b, json_t *cfg, const struct cove_build_instr *in,
             struct cove_build_vars *vars, bool label, struct cove_error **err)
{
  for (size_t i = 0; i < in->n_kvs; i++)
    {
      cleanup_free char *k = NULL;
      cleanup_free char *v = NULL;
      if (cove_build_expand (in->kvs[i].key, cove_build_vars_lookup, vars,
                             b->file->escape, &k, err) < 0
          || cove_build_expand (in->kvs[i].value ? in->kvs[i].value : "",
                                cove_build_vars_lookup, vars,
                                b->file->escape, &v, err) < 0)
        return -1;
      if (label)
        json_object_set_new (object_member (cfg, "Labels"), k, json_string (v));
      else
        env_set (cfg, k, v);
    }
  return 0;
}

static json_t *
strv_json (char *const *v)
{
  json_t *a = json_array ();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

/* The shell of the stage: SHELL's, else /bin/sh -c.  */
json_t *
build_shell (json_t *cfg)
{
  json_t *sh = json_object_get (cfg, "Shell");
  if (json_is_array (sh) && json_array_size (sh) > 0)
    return json_deep_copy (sh);
  return json_pack ("[s, s]", "/bin/sh", "-c");
}

/* CMD, ENTRYPOINT: the JSON array, or the stage's shell with the line.  */
static json_t *
command_of (json_t *cfg, const struct cove_build_instr *in)
{
  if (in->json_form)
    return strv_json (in->args);
  json_t *a = build_shell (cfg);
  if (in->args[0] != NULL)
    json_array_append_new (a, json_string (in->args[0]));
  return a;
}

static json_t *
healthcheck (json_t *cfg, const struct cove_build_instr *in)
{
  if (in->health.none)
    return json_pack ("{s:[s]}", "Test", "NONE");
  json_t *test = json_array ();
  if (in->json_form)
    {
      json_array_append_new (test, json_string ("CMD"));
      for (size_t i = 1; in->args[i]; i++)
        json_array_append_new (test, json_string (in->args[i]));
    }
  else
    {
      json_array_append_new (test, json_string ("CMD-SHELL"));
      json_array_append_new (test, json_string (in->args[1] ? in->args[1] : ""));
    }
  json_t *h = json_pack ("{s:o}", "Test", test);
  if (in->health.interval)
    json_object_set_new (h, "Interval", json_integer (in->health.interval));
  if (in->health.timeout)
    json_object_set_new (h, "Timeout", json_integer (in->health.timeout));
  if (in->health.start_period)
    json_object_set_new (h, "StartPeriod", json_integer (in->health.start_period));
  if (in->health.retries)
    json_object_set_new (h, "Retries", json_integer (in->health.retries));
  (void) cfg;
  return h;
}

/* WORKDIR: relative to the current one.  */
static char *
workdir (json_t *cfg, const char *dir)
{
  if (dir[0] == '/')
    return xstrdup (dir);
  const char *cur = json_string_value (json_object_get (cfg, "WorkingDir"));
  if (cur == NULL || *cur == '\0')
    cur = "/";
  return xasprintf ("%s%s%s", cur, cur[strlen (cur) - 1] == '/' ? "" : "/", dir);
}

static int
apply_words (json_t *doc, json_t *cfg, const struct cove_build_instr *in,
             char **words, struct cove_error **err)
{
  switch (in->kind)
    {
    case COVE_BUILD_MAINTAINER:
      json_object_set_new (doc, "author", json_string (words[0] ? words[0] : ""));
      return 0;
    case COVE_BUILD_EXPOSE:
      for (size_t i = 0; words[i]; i++)
        {
          cleanup_free char *p = strchr (words[i], '/') ? xstrdup (words[i])
                                   : xasprintf ("%s/tcp", words[i]);
          json_object_set_new (object_member (cfg, "ExposedPorts"), p,
                               json_object ());
        }
      return 0;
    case COVE_BUILD_WORKDIR:
      {
        cleanup_free char *d = workdir (cfg, words[0] ? words[0] : "/");
        json_object_set_new (cfg, "WorkingDir", json_string (d));
        return 0;
      }
    case COVE_BUILD_USER:
      json_object_set_new (cfg, "User", json_string (words[0] ? words[0] : ""));
      return 0;
    case COVE_BUILD_STOPSIGNAL:
      json_object_set_new (cfg, "StopSignal", json_string (words[0] ? words[0] : ""));
      return 0;
    case COVE_BUILD_VOLUME:
      for (size_t i = 0; words[i]; i++)
        json_object_set_new (object_member (cfg, "Volumes"), words[i],
                             json_object ());
      return 0;
    default:
      return cove_error_set (err, EINVAL, "%s: not a config instruction",
                             cove_build_kind_name (in->kind));
    }
}

int
build_config_apply (struct build *b, struct build_image *img, json_t *doc,
                    const struct cove_build_instr *in,
                    struct cove_build_vars *vars, struct cove_error **err)
{
  (void) img;
  json_t *cfg = build_config_of (doc);
  switch (in->kind)
    {
    case COVE_BUILD_ENV:
      return apply_pairs (b, cfg, in, vars, false, err);
    case COVE_BUILD_LABEL:
      return apply_pairs (b, cfg, in, vars, true, err);
    case COVE_BUILD_CMD:
      json_object_set_new (cfg, "Cmd", command_of (cfg, in));
      return 0;
    case COVE_BUILD_ENTRYPOINT:
      json_object_set_new (cfg, "Entrypoint", command_of (cfg, in));
      return 0;
    case COVE_BUILD_SHELL:
      json_object_set_new (cfg, "Shell", strv_json (in->args));
      return 0;
    case COVE_BUILD_HEALTHCHECK:
      json_object_set_new (cfg, "Healthcheck", healthcheck (cfg, in));
      return 0;
    case COVE_BUILD_ONBUILD:
      {
        json_t *ob = json_object_get (cfg, "OnBuild");
        if (!json_is_array (ob))
          json_object_set_new (cfg, "OnBuild", ob = json_array ());
        json_array_append_new (ob, json_string (in->args[0] ? in->args[0] : ""));
        return 0;
      }
    default:
      break;
    }
  /* The ones whose words docker expands.  */
  char **words = build_expand_args (b, in, vars, err);
  if (words == NULL)
    return -1;
  int r = apply_words (doc, cfg, in, words, err);
  cove_strv_free (words);
  return r;
}
