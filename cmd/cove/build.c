/* cove build: an image from a Containerfile (cove-full).  The file is
   parsed whole first (pkg/build: a syntax error builds nothing), then the
   stages run in order up to --target, each instruction making an image
   (buildstep.c) or taken from the cache; the last one is tagged.  A failed
   step leaves the images of the steps before it, which the next build
   takes from the cache, and no container.  */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cmd/cove/build.h"
#include "cmd/cove/commands.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/imgchange.h"
#include "cmd/cove/imgutil.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "cmd/cove/store.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#define CONTAINERFILE_MAX (4 << 20)

enum { OPT_HELP = 1, OPT_TAG, OPT_FILE, OPT_NO_CACHE, OPT_QUIET,
       OPT_IIDFILE, OPT_BUILD_ARG, OPT_LABEL, OPT_NETWORK, OPT_LAYERS,
       OPT_TARGET, OPT_FORMAT, OPT_PULL, OPT_SQUASH, OPT_RM, OPT_FORCE_RM,
       OPT_SQUASH_ALL, OPT_PLATFORM };

static const struct cove_opt build_opts[] = {
  { "build-arg", 0, COVE_OPT_VALUE, OPT_BUILD_ARG, "argument=value", "argument=value to supply to the builder" },
  { "file", 'f', COVE_OPT_VALUE, OPT_FILE, "pathname or URL", "pathname of a Containerfile" },
  { "force-rm", 0, COVE_OPT_BOOL, OPT_FORCE_RM, NULL, "Always remove intermediate containers after a build (default true)" },
  { "format", 0, COVE_OPT_VALUE, OPT_FORMAT, "format", "format of the built image's manifest and metadata. Use BUILDAH_FORMAT environment variable to override. (default \"oci\")" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for build" },
  { "iidfile", 0, COVE_OPT_VALUE, OPT_IIDFILE, "file", "file to write the image ID to" },
  { "label", 0, COVE_OPT_VALUE, OPT_LABEL, "label", "Set metadata for an image (default [])" },
  { "layers", 0, COVE_OPT_BOOL, OPT_LAYERS, NULL, "Cache intermediate layers during build. Use BUILDAH_LAYERS environment variable to override. (default true)" },
  { "network", 0, COVE_OPT_VALUE, OPT_NETWORK, "string", "Network mode of RUN instructions (slirp, none, host)" },
  { "no-cache", 0, COVE_OPT_BOOL, OPT_NO_CACHE, NULL, "Do not use existing cached images for the container build" },
  { "platform", 0, COVE_OPT_VALUE, OPT_PLATFORM, "linux/arch", "set the OS/ARCH/VARIANT of the image: this machine's only (default [linux/" COVE_ARCH "])" },
  { "pull", 0, COVE_OPT_BOOL, OPT_PULL, NULL, "Pull the image if not present" },
  { "quiet", 'q', COVE_OPT_BOOL, OPT_QUIET, NULL, "refrain from announcing build instructions and image read/write progress" },
  { "rm", 0, COVE_OPT_BOOL, OPT_RM, NULL, "Remove intermediate containers after a successful build (default true)" },
  { "squash", 0, COVE_OPT_BOOL, OPT_SQUASH, NULL, "squash newly built layers into a single new layer" },
  { "squash-all", 0, COVE_OPT_BOOL, OPT_SQUASH_ALL, NULL, "Squash all layers into a single layer" },
  { "tag", 't', COVE_OPT_VALUE, OPT_TAG, "name", "tagged name to apply to the built image" },
  { "target", 0, COVE_OPT_VALUE, OPT_TARGET, "string", "set the target build stage to build" },
  { NULL, 0, 0, 0, NULL, NULL },
};

/* The Containerfile: -f, else Containerfile or Dockerfile in the
   context; "-" is standard input.  *OUT_NAME for messages.  */
static char *
read_containerfile (const struct build_options *o, size_t *out_len,
                    char **out_name, struct cove_error **err)
{
  if (o->file != NULL && strcmp (o->file, "-") == 0)
    {
      *out_name = xstrdup ("<stdin>");
      return cove_fd_read_all (STDIN_FILENO, CONTAINERFILE_MAX, out_len, err);
    }
  const char *names[] = { "Containerfile", "Dockerfile", NULL };
  for (size_t i = 0; o->file == NULL && names[i]; i++)
    {
      cleanup_free char *p = xasprintf ("%s/%s", o->context, names[i]);
      if (access (p, F_OK) == 0)
        {
          *out_name = steal_pointer (&p);
          break;
        }
    }
  if (o->file != NULL)
    *out_name = o->file[0] == '/' ? xstrdup (o->file)
                                  : xasprintf ("%s/%s", o->context, o->file);
  if (*out_name == NULL)
    {
      cove_error_set (err, ENOENT, "no Containerfile or Dockerfile specified "
                      "or found in context directory, %s", o->context);
      return NULL;
    }
  cleanup_close int fd = open (*out_name, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && o->file != NULL)
    {
      /* podman takes -f relative to the working directory too.  */
      free (*out_name);
      *out_name = xstrdup (o->file);
      fd = open (*out_name, O_RDONLY | O_CLOEXEC);
    }
  if (fd < 0)
    {
      cove_error_set (err, errno, "open `%s`", *out_name);
      return NULL;
    }
  return cove_fd_read_all (fd, CONTAINERFILE_MAX, out_len, err);
}

static int
read_ignore (struct build *b, struct cove_error **err)
{
  const char *names[] = { ".containerignore", ".dockerignore", NULL };
  for (size_t i = 0; names[i]; i++)
    {
      size_t len;
      cleanup_free char *text = cove_file_read_at (b->context_fd, names[i],
                                                   CONTAINERFILE_MAX, &len, NULL);
      if (text == NULL)
        continue;
      b->ignore = cove_build_ignore_parse (text, len, err);
      return b->ignore ? 0 : cove_error_wrap (err, "%s", names[i]);
    }
  return 0;
}

/* --build-arg K=V, or K alone: its value in cove's environment.  */
static void
parse_build_args (struct build *b)
{
  b->build_args = cove_build_vars_new ();
  for (size_t i = 0; b->o->build_args && b->o->build_args[i]; i++)
    {
      const char *a = b->o->build_args[i];
      const char *eq = strchr (a, '=');
      cleanup_free char *k = eq ? xstrndup (a, (size_t) (eq - a)) : xstrdup (a);
      const char *v = eq ? eq + 1 : getenv (k);
      if (v != NULL)
        cove_build_vars_set (b->build_args, k, v);
    }
}

static size_t
count_steps (const struct cove_build_file *f, size_t last)
{
  size_t n = 0;
  for (size_t i = 0; i <= last; i++)
    n += 1 + f->stages[i].n_instrs;
  return n;
}

/* The base of stage ST: scratch, an earlier stage, or an image (pulled
   when missing).  */
static int
stage_base (struct build *b, const struct cove_build_stage *st,
            struct build_image *img, struct cove_error **err)
{
  cleanup_free char *ref = NULL;
  if (cove_build_expand (st->image, cove_build_vars_lookup, b->globals,
                         b->file->escape, &ref, err) < 0)
    return -1;
  if (strcmp (ref, "scratch") == 0)
    {
      img->doc = json_pack ("{s:s, s:s, s:{}, s:{s:s, s:[]}, s:[]}",
                            "architecture", COVE_ARCH, "os", "linux",
                            "config", "rootfs", "type", "layers", "diff_ids",
                            "history");
      return 0;
    }
  const struct cove_build_stage *prev = cove_build_find_stage (b->file, ref,
                                                               st->index);
  if (prev != NULL)
    return build_image_load (b, b->stage_images[prev->index], img, err);
  return build_image_base (b, ref, img, err);
}

int
build_image_base (struct build *b, const char *ref, struct build_image *img,
                  struct cove_error **err)
{
  struct cove_storage_image si;
  /* Not a NULL error: cove_img_find writes one (an ambiguous id...).  */
  cleanup_error struct cove_error *local = NULL;
  if (cove_img_find (b->s, ref, &si, &local) == 0)
    {
      int r = build_image_load (b, si.id, img, err);
      cove_storage_image_free (&si);
      return r;
    }
  struct cove_storage_pull_options po = { .tls_verify = -1,
                                          .quiet = b->o->quiet };
  cleanup_free char *id = NULL;
  if (cove_storage_pull (b->s, ref, &po, &id, err) < 0)
    return -1;
  return build_image_load (b, id, img, err);
}

/* Stage ST; LAST: the one whose image the build gives.  */
static int
run_stage (struct build *b, const struct cove_build_stage *st, bool last,
           int *out_status, struct cove_error **err)
{
  struct build_image img = { 0 };
  b->stage = st->index;
  b->step++;
  if (!b->o->quiet)
    printf ("STEP %zu/%zu: %s\n", b->step, b->n_steps, st->from.original);
  fflush (stdout);
  int r = build_check_platform (b, "FROM --platform", st->platform, err);
  if (r == 0)
    r = stage_base (b, st, &img, err);
  size_t base_layers = cove_strv_len (img.layers);
  size_t base_hist = json_array_size (json_object_get (img.doc, "history"));
  if (r == 0)
    r = build_onbuild (b, &img, out_status, err);
  for (size_t i = 0; r == 0 && i < st->n_instrs; i++)
    r = build_step (b, &img, &st->instrs[i], out_status, err);
  if (r == 0 && !b->o->layers)
    r = build_squash_stage (b, &img, base_layers, base_hist,
                            last && b->o->squash_all, err);
  if (r == 0 && img.id == NULL)
    {
      /* FROM scratch and nothing else: an image of no layer.  */
      json_t *doc = json_deep_copy (img.doc);
      r = build_commit_image (b, &img, doc, NULL, NULL, err);
      json_decref (doc);
    }
  if (r == 0)
    b->stage_images[st->index] = xstrdup (img.id);
  build_image_clear (&img);
  return r;
}

/* The stage to stop after: --target's, else the last.  */
static int
last_stage (const struct build *b, size_t *out, struct cove_error **err)
{
  *out = b->file->n_stages - 1;
  if (b->o->target == NULL)
    return 0;
  const struct cove_build_stage *t = cove_build_find_stage (b->file,
                                                            b->o->target,
                                                            b->file->n_stages);
  if (t == NULL)
    return cove_error_set (err, ENOENT, "the target \"%s\" was not found "
                           "in the provided Dockerfile", b->o->target);
  *out = t->index;
  return 0;
}

/* The final image: --label values and --format's fields, then the
   names.  */
static int
finish (struct build *b, size_t last, char **out_id, struct cove_error **err)
{
  struct build_image img = { 0 };
  int r = build_image_load (b, b->stage_images[last], &img, err);
  json_t *doc = r == 0 ? json_deep_copy (img.doc) : NULL;
  for (size_t i = 0; r == 0 && b->o->labels && b->o->labels[i]; i++)
    {
      cleanup_free char *ch = xasprintf ("LABEL %s", b->o->labels[i]);
      r = cove_img_change_apply (build_config_of (doc), ch, err);
    }
  /* Stripped first: its warnings are printed with or without labels.  */
  bool changed = doc != NULL && build_format_strip (b, doc);
  if (r == 0 && (changed || b->o->labels != NULL))
    r = build_commit_image (b, &img, doc, img.layers, NULL, err);
  json_decref (doc);
  if (r == 0)
    *out_id = xstrdup (img.id);
  build_image_clear (&img);
  if (r < 0)
    return -1;
  if (!b->o->quiet)
    {
      printf ("COMMIT");
      for (size_t i = 0; b->o->tags && b->o->tags[i]; i++)
        printf (" %s", b->o->tags[i]);
      printf ("\n--> %.11s\n", *out_id);
    }
  for (size_t i = 0; b->o->tags && b->o->tags[i]; i++)
    {
      if (cove_storage_image_tag (b->s, *out_id, b->o->tags[i], err) < 0)
        return -1;
      if (!b->o->quiet)
        printf ("Successfully tagged %s\n", b->o->tags[i]);
    }
  return 0;
}

static int
build_all (struct build *b, char **out_id, int *out_status,
           struct cove_error **err)
{
  size_t last;
  if (last_stage (b, &last, err) < 0
      || build_check_platform (b, "--platform", b->o->platform, err) < 0)
    return -1;
  b->n_steps = count_steps (b->file, last);
  b->stage_images = xmalloc0 (b->file->n_stages * sizeof *b->stage_images);
  /* BuildKit's automatic platform ARGs: this machine builds for itself.  */
  struct cove_build_vars *platform = cove_build_vars_new ();
  cove_build_vars_set_platform (platform, "BUILD", "linux", COVE_ARCH, NULL);
  cove_build_vars_set_platform (platform, "TARGET", "linux", COVE_ARCH, NULL);
  b->globals = cove_build_global_vars (b->file, platform, cove_build_vars_lookup,
                                       b->build_args, err);
  cove_build_vars_free (platform);
  if (b->globals == NULL)
    return -1;
  for (size_t i = 0; !b->o->quiet && b->file->warnings[i]; i++)
    fprintf (stderr, "WARN: %s\n", b->file->warnings[i]);
  for (size_t i = 0; i <= last; i++)
    if (run_stage (b, &b->file->stages[i], i == last, out_status, err) < 0)
      return -1;
  return finish (b, last, out_id, err);
}

/* The user namespace (layers belong to mapped ids) and a mount namespace
   of the build's own, where COPY mounts its roots.  */
static int
enter (struct build *b, struct cove_error **err)
{
  if (cove_cmd_enter_userns (err) < 0)
    return -1;
  if (unshare (CLONE_NEWNS) < 0
      || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return cove_error_set (err, errno, "mount namespace");
  if (cove_ctr_store_open (&b->paths, &b->st, err) < 0)
    return -1;
  return cove_storage_open (&b->paths, &b->s, err);
}

static void
build_free (struct build *b)
{
  for (size_t i = 0; b->stage_images && b->file && i < b->file->n_stages; i++)
    free (b->stage_images[i]);
  free (b->stage_images);
  cove_strv_free (b->temp_images);
  cove_build_vars_free (b->globals);
  cove_build_vars_free (b->build_args);
  cove_build_ignore_free (b->ignore);
  cove_build_file_free (b->file);
  if (b->context_fd >= 0)
    close (b->context_fd);
  if (b->s != NULL)
    cove_storage_close (b->s);
  if (b->st.root != NULL)
    cove_ctr_store_close (&b->paths, &b->st);
}

static int
do_build (const struct build_options *o)
{
  cleanup_error struct cove_error *err = NULL;
  struct build b = { .o = o, .context_fd = -1, .st = { .dirfd = -1 } };
  size_t len = 0;
  cleanup_free char *name = NULL;
  cleanup_free char *text = read_containerfile (o, &len, &name, &err);
  int status = 125;
  cleanup_free char *id = NULL;
  if (text != NULL)
    b.file = cove_build_parse (name, text, len, &err);
  if (b.file != NULL)
    {
      b.context_fd = open (o->context, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (b.context_fd < 0)
        cove_error_set (&err, errno, "context directory `%s`", o->context);
    }
  parse_build_args (&b);
  int r = b.context_fd < 0 || read_ignore (&b, &err) < 0 || enter (&b, &err) < 0
    ? -1 : build_all (&b, &id, &status, &err);
  if (b.s != NULL)
    build_temp_images_drop (&b, id);
  build_free (&b);
  if (r < 0)
    return cove_cmd_fail (&err, status);
  if (o->iidfile != NULL)
    {
      cleanup_free char *iid = xasprintf ("sha256:%s", id);
      if (cove_file_write_atomic (o->iidfile, iid, strlen (iid), 0644, 0,
                                  &err) < 0)
        return cove_cmd_fail (&err, 125);
    }
  printf ("%s\n", id);
  return fflush (stdout) == 0 ? 0 : 125;
}

static int
parse_format (struct build_options *o, const char *v, struct cove_error **err)
{
  if (strcmp (v, "oci") != 0 && strcmp (v, "docker") != 0)
    return cove_error_set (err, EINVAL, "unrecognized image type \"%s\"", v);
  o->docker_format = strcmp (v, "docker") == 0;
  return 0;
}

/* podman's defaults from the environment, before the options.  */
static int
env_defaults (struct build_options *o, struct cove_error **err)
{
  const char *layers = getenv ("BUILDAH_LAYERS");
  if (layers != NULL && *layers != '\0')
    o->layers = strcmp (layers, "true") == 0 || strcmp (layers, "1") == 0;
  const char *format = getenv ("BUILDAH_FORMAT");
  if (format != NULL && *format != '\0' && parse_format (o, format, err) < 0)
    return cove_error_wrap (err, "BUILDAH_FORMAT");
  return 0;
}

/* --squash and --squash-all build as --layers=false (podman's rules).  */
static int
check_squash (struct build_options *o, bool layers_given,
              struct cove_error **err)
{
  if ((o->squash && o->squash_all) || ((o->squash || o->squash_all)
                                       && layers_given && o->layers))
    return cove_error_set_plain (err, EINVAL, "cannot specify --squash with "
                                 "--layers and --squash-all with --squash");
  if (o->squash || o->squash_all)
    o->layers = false;
  return 0;
}

static int
apply_option (struct build_options *o, int id, const char *v,
              struct cove_error **err)
{
  bool on = v && strcmp (v, "true") == 0;
  switch (id)
    {
    case OPT_TAG:
      {
        char *t = cove_img_normalize_tag (v, err);
        if (t == NULL)
          return -1;
        cove_strv_append (&o->tags, t);
        free (t);
        return 0;
      }
    case OPT_FILE: o->file = v; return 0;
    case OPT_NO_CACHE: o->no_cache = on; return 0;
    case OPT_QUIET: o->quiet = on; return 0;
    case OPT_IIDFILE: o->iidfile = v; return 0;
    case OPT_BUILD_ARG: cove_strv_append (&o->build_args, v); return 0;
    case OPT_LABEL: cove_strv_append (&o->labels, v); return 0;
    case OPT_NETWORK: o->network = v; return 0;
    case OPT_LAYERS: o->layers = on; return 0;
    case OPT_TARGET: o->target = v; return 0;
    case OPT_FORMAT: return parse_format (o, v, err);
    case OPT_SQUASH: o->squash = on; return 0;
    case OPT_SQUASH_ALL: o->squash_all = on; return 0;
    case OPT_PLATFORM: o->platform = v; return 0;
    default:
      return 0;   /* --pull, --rm, --force-rm: accepted */
    }
}

int
cove_cmd_build (int argc, char **argv)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, build_opts, argc, argv, true);
  struct build_options o = { .layers = true };
  const char *v;
  int id = 0;
  int r = env_defaults (&o, &err);
  bool layers_given = false;
  while (r == 0 && (id = cove_opts_next (&p, &v, &err)) > 0)
    {
      layers_given = layers_given || id == OPT_LAYERS;
      if (id == OPT_HELP)
        {
          cove_opts_print_help (stdout, "cove build [options] [CONTEXT]",
                                "Build an image using instructions from "
                                "Containerfiles", build_opts);
          cove_opts_free (&p);
          cove_strv_free (o.tags);
          cove_strv_free (o.build_args);
          cove_strv_free (o.labels);
          return 0;
        }
      r = apply_option (&o, id, v, &err);
    }
  int n;
  cleanup_free char **rest = cove_opts_rest (&p, &n);
  int ret;
  if (id >= 0 && r == 0)
    r = check_squash (&o, layers_given, &err);
  if (id < 0 || r < 0)
    ret = cove_cmd_fail (&err, 125);
  else if (n > 1)
    ret = cove_cmd_usage_error ("`cove build` takes at most one context "
                                "directory");
  else
    {
      o.context = n == 1 ? rest[0] : ".";
      ret = do_build (&o);
    }
  cove_opts_free (&p);
  cove_strv_free (o.tags);
  cove_strv_free (o.build_args);
  cove_strv_free (o.labels);
  return ret;
}
