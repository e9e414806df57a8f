/* cove build: what a stage takes from its base image and what the built
   image gives its own children.  The base's ONBUILD triggers run right
   after FROM, as docker runs them, and are not inherited; a platform
   (FROM --platform, --platform) must be this machine's, as cove runs
   RUN steps natively and emulates no other architecture; --format oci
   (podman's default) leaves out of the final image what only docker's
   image format holds, with podman's warnings.  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/build.h"
#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* ---- ONBUILD ---- */

/* The trigger TEXT as an instruction: a Containerfile of its own, parsed
   as any (the trigger comes from an image: untrusted), which must hold
   exactly one instruction that docker allows as a trigger.  */
static struct cove_build_file *
parse_trigger (const char *text, struct cove_error **err)
{
  cleanup_free char *file = xasprintf ("FROM scratch\n%s\n", text);
  struct cove_build_file *f = cove_build_parse ("trigger", file, strlen (file),
                                                err);
  if (f == NULL)
    {
      cove_error_wrap (err, "ONBUILD trigger \"%.200s\"", text);
      return NULL;
    }
  const struct cove_build_stage *st = &f->stages[0];
  enum cove_build_kind k = st->n_instrs ? st->instrs[0].kind : COVE_BUILD_FROM;
  if (f->n_stages != 1 || st->n_instrs != 1 || k == COVE_BUILD_ONBUILD
      || k == COVE_BUILD_MAINTAINER)
    {
      cove_build_file_free (f);
      cove_error_set (err, EINVAL, "ONBUILD trigger \"%.200s\": not one "
                      "instruction allowed as a trigger", text);
      return NULL;
    }
  return f;
}

int
build_onbuild (struct build *b, struct build_image *img, int *out_status,
               struct cove_error **err)
{
  json_t *cfg = build_config_of (img->doc);
  json_t *triggers = json_incref (json_object_get (cfg, "OnBuild"));
  /* The child does not inherit them (docker clears OnBuild).  */
  json_object_del (cfg, "OnBuild");
  size_t n = json_array_size (triggers);
  b->n_steps += n;
  int r = 0;
  for (size_t i = 0; r == 0 && i < n; i++)
    {
      const char *text = json_string_value (json_array_get (triggers, i));
      struct cove_build_file *f = text ? parse_trigger (text, err) : NULL;
      if (f == NULL)
        r = text ? -1 : cove_error_set (err, EINVAL, "ONBUILD trigger %zu "
                                        "is not a string", i);
      else
        r = build_step (b, img, &f->stages[0].instrs[0], out_status, err);
      cove_build_file_free (f);
    }
  json_decref (triggers);
  return r;
}

/* ---- platforms ---- */

/* One "os/arch[/variant]" against this machine.  */
static int
check_one (const char *what, const char *value, struct cove_error **err)
{
  const char *os, *arch, *variant;
  cove_oci_host_platform (&os, &arch, &variant);
  cleanup_free char *want_os = NULL;
  cleanup_free char *want_arch = NULL;
  cleanup_free char *want_variant = NULL;
  if (cove_oci_platform_parse (value, &want_os, &want_arch, &want_variant,
                               err) < 0)
    return cove_error_wrap (err, "%s", what);
  /* A variant of this architecture (linux/arm64/v8, linux/amd64/v2) runs
     here as well as the architecture does.  */
  if (strcmp (want_os, os) == 0 && strcmp (want_arch, arch) == 0)
    return 0;
  return cove_error_set_plain (err, ENOTSUP, "%s: platform %s is not this "
                         "machine's (%s/%s): cove builds natively and "
                         "cannot emulate other architectures", what, value,
                         os, arch);
}

int
build_check_platform (struct build *b, const char *what, const char *raw,
                      struct cove_error **err)
{
  if (raw == NULL)
    return 0;
  cleanup_free char *value = NULL;
  if (cove_build_expand (raw, cove_build_vars_lookup, b->globals,
                         b->file ? b->file->escape : '\\', &value, err) < 0)
    return cove_error_wrap (err, "%s", what);
  /* --platform takes a list, as podman's (one image per platform).  */
  char *save = value;
  for (char *p = value; p != NULL; p = save)
    {
      char *comma = strchr (p, ',');
      save = comma ? comma + 1 : NULL;
      if (comma)
        *comma = '\0';
      if (check_one (what, p, err) < 0)
        return -1;
    }
  return 0;
}

/* ---- --format ---- */

json_t *
build_config_of (json_t *doc)
{
  json_t *cfg = json_object_get (doc, "config");
  if (!json_is_object (cfg))
    json_object_set_new (doc, "config", cfg = json_object ());
  return cfg;
}

static char *
strv_words (json_t *a)
{
  char *s = xstrdup ("[");
  size_t i;
  json_t *e;
  json_array_foreach (a, i, e)
    {
      char *n = xasprintf ("%s%s%s", s, i ? " " : "",
                           json_string_value (e) ? json_string_value (e) : "");
      free (s);
      s = n;
    }
  char *n = xasprintf ("%s]", s);
  free (s);
  return n;
}

bool
build_format_strip (struct build *b, json_t *doc)
{
  if (b->o->docker_format)
    return false;
  json_t *cfg = build_config_of (doc);
  json_t *ob = json_object_get (cfg, "OnBuild");
  json_t *sh = json_object_get (cfg, "Shell");
  bool hc = json_object_get (cfg, "Healthcheck") != NULL;
  size_t i;
  json_t *e;
  /* podman's words and order (buildah's commit), printed once.  */
  json_array_foreach (ob, i, e)
    fprintf (stderr, "WARN[0000] ONBUILD is not supported for OCI image "
             "format, %s will be ignored. Must use `docker` format\n",
             json_string_value (e) ? json_string_value (e) : "");
  if (json_array_size (sh) > 0)
    {
      cleanup_free char *w = strv_words (sh);
      fprintf (stderr, "WARN[0000] SHELL is not supported for OCI image "
               "format, %s will be ignored. Must use `docker` format\n", w);
    }
  if (hc)
    fputs ("WARN[0000] HEALTHCHECK is not supported for OCI image format "
           "and will be ignored. Must use `docker` format\n", stderr);
  bool changed = ob != NULL || sh != NULL || hc;
  json_object_del (cfg, "OnBuild");
  json_object_del (cfg, "Shell");
  json_object_del (cfg, "Healthcheck");
  return changed;
}
