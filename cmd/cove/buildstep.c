/* cove build: one instruction of a stage.  Each instruction makes an
   image, as podman's --layers: one with a new layer for RUN, COPY and
   ADD, one with only a new config for the others (its history entry is an
   empty_layer).  The cache maps the key of a step (the parent image, the
   instruction with its expanded arguments, RUN's environment, the digest
   of what COPY copies) to the image it made; a step found there is not
   run again.  */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cove/build.h"
#include "cmd/cove/imgchange.h"
#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

void
build_image_clear (struct build_image *img)
{
  free (img->id);
  json_decref (img->doc);
  cove_strv_free (img->layers);
  cove_build_vars_free (img->args);
  memset (img, 0, sizeof *img);
}

/* ---- the cache ---- */

static char *
cache_path (struct build *b, const char *key)
{
  return xasprintf ("%s/build-cache/%s", b->paths.data_dir,
                    strchr (key, ':') ? strchr (key, ':') + 1 : key);
}

char *
build_cache_lookup (struct build *b, const char *key)
{
  /* Without --layers, podman neither takes steps from the cache nor
     fills it.  */
  if (b->o->no_cache || !b->o->layers || key == NULL)
    return NULL;
  cleanup_free char *path = cache_path (b, key);
  cleanup_free char *id = cove_file_read_at (AT_FDCWD, path, 128, NULL, NULL);
  if (id == NULL)
    return NULL;
  id[strcspn (id, "\n")] = '\0';
  struct cove_storage_image img;
  cleanup_error struct cove_error *e = NULL;   /* image_resolve writes it */
  if (cove_storage_image_lookup (b->s, id, &img, &e) < 0)
    return NULL;    /* removed since: the step runs again */
  cove_storage_image_free (&img);
  return steal_pointer (&id);
}

static void
cache_store (struct build *b, const char *key, const char *id)
{
  if (!b->o->layers)
    return;   /* the step's image goes at the end of the build */
  cleanup_free char *dir = xasprintf ("%s/build-cache", b->paths.data_dir);
  cleanup_free char *path = cache_path (b, key);
  /* The cache is an optimisation: a failure only costs a rebuild.  */
  if (cove_mkdir_p (dir, 0700, NULL) == 0)
    (void) cove_file_write_atomic (path, id, strlen (id), 0600, 0, NULL);
}

/* ---- images ---- */

int
build_image_load (struct build *b, const char *id, struct build_image *img,
                  struct cove_error **err)
{
  struct cove_storage_image si;
  if (cove_storage_image_lookup (b->s, id, &si, err) < 0)
    return -1;
  size_t len;
  cleanup_free char *raw = cove_storage_blob_read (b->s, si.config_digest,
                                                   16 << 20, &len, err);
  json_t *doc = raw ? json_loadb (raw, len, 0, NULL) : NULL;
  if (raw != NULL && !json_is_object (doc))
    {
      json_decref (doc);
      cove_storage_image_free (&si);
      return cove_error_set (err, EINVAL, "image %.12s: its config is not "
                             "a JSON object", id);
    }
  if (doc == NULL)
    {
      cove_storage_image_free (&si);
      return -1;
    }
  json_decref (img->doc);
  img->doc = doc;
  free (img->id);
  img->id = xstrdup (si.id);
  cove_strv_free (img->layers);
  img->layers = NULL;
  for (size_t i = 0; si.layers && si.layers[i]; i++)
    cove_strv_append (&img->layers, si.layers[i]);
  cove_storage_image_free (&si);
  return 0;
}

int
build_commit_image (struct build *b, struct build_image *img, json_t *doc,
                    char **layers, const char *key, struct cove_error **err)
{
  char *empty[] = { NULL };
  cleanup_free char *id = NULL;
  build_temp_image_note (b, doc);
  if (cove_img_store (b->s, doc, layers ? layers : empty, NULL, &id, err) < 0)
    return -1;
  if (key != NULL)
    cache_store (b, key, id);
  return build_image_load (b, id, img, err);
}

struct cove_build_vars *
build_step_vars (const struct build_image *img)
{
  struct cove_build_vars *v = img->args ? cove_build_vars_dup (img->args)
                                        : cove_build_vars_new ();
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get (build_config_of (img->doc), "Env"), i, e)
    {
      const char *s = json_string_value (e);
      const char *eq = s ? strchr (s, '=') : NULL;
      if (eq == NULL)
        continue;
      cleanup_free char *k = xstrndup (s, (size_t) (eq - s));
      cove_build_vars_set (v, k, eq + 1);   /* ENV wins over ARG */
    }
  return v;
}

/* ---- steps ---- */

json_t *
build_next_doc (const struct build_image *img, const char *created_by,
                const char *diff_id)
{
  struct cove_img_history h = { .created_by = created_by, .diff_id = diff_id };
  return cove_img_add_history (json_deep_copy (img->doc), &h);
}

char *
build_step_key (const struct build_image *img, const char *what,
                char *const *a, char *const *b)
{
  struct cove_oci_hasher *h = cove_oci_hasher_new ();
  const char *parent = img->id ? img->id : "scratch";
  cove_oci_hasher_update (h, parent, strlen (parent) + 1);
  cove_oci_hasher_update (h, what, strlen (what) + 1);
  for (size_t i = 0; a && a[i]; i++)
    cove_oci_hasher_update (h, a[i], strlen (a[i]) + 1);
  /* A separator: ("x", "y") and ("x y") are not the same step.  */
  cove_oci_hasher_update (h, "\n", 2);
  for (size_t i = 0; b && b[i]; i++)
    cove_oci_hasher_update (h, b[i], strlen (b[i]) + 1);
  return cove_oci_hasher_finish (h);
}

int
build_use_cache (struct build *b, struct build_image *img, const char *key,
           struct cove_error **err)
{
  cleanup_free char *id = build_cache_lookup (b, key);
  if (id == NULL)
    return 0;
  if (!b->o->quiet)
    printf ("--> Using cache %s\n", id);
  return build_image_load (b, id, img, err) < 0 ? -1 : 1;
}

char **
build_expand_args (struct build *b, const struct cove_build_instr *in,
             struct cove_build_vars *vars, struct cove_error **err)
{
  char **out = xmalloc0 (sizeof *out);   /* never NULL */
  for (size_t i = 0; in->args[i]; i++)
    {
      char *w = NULL;
      if (in->json_form)
        w = xstrdup (in->args[i]);
      else if (cove_build_expand (in->args[i], cove_build_vars_lookup, vars,
                                  b->file->escape, &w, err) < 0)
        {
          cove_strv_free (out);
          return NULL;
        }
      cove_strv_append (&out, w);
      free (w);
    }
  return out;
}


/* "--> ID" after a step, as podman prints it (11 hex digits); the last
   step's is printed by build.c after its COMMIT line.  */
static void
print_done (struct build *b, const struct build_image *img)
{
  /* Without --layers a step makes no image to speak of, as podman's.  */
  if (!b->o->quiet && b->o->layers && b->step < b->n_steps)
    printf ("--> %.11s\n", img->id ? img->id : "");
}

static int
step_config (struct build *b, struct build_image *img,
             const struct cove_build_instr *in, struct cove_build_vars *vars,
             struct cove_error **err)
{
  cleanup_strv char **env = cove_build_vars_environ (vars);
  cleanup_free char *key = build_step_key (img, in->original, NULL, env);
  int cached = build_use_cache (b, img, key, err);
  if (cached != 0)
    return cached < 0 ? -1 : 0;
  cleanup_free char *by = xasprintf ("/bin/sh -c #(nop) %s", in->original);
  json_t *doc = build_next_doc (img, by, NULL);
  int r = build_config_apply (b, img, doc, in, vars, err);
  /* ENTRYPOINT resets a CMD the stage did not set itself, as docker.  */
  if (r == 0 && in->kind == COVE_BUILD_ENTRYPOINT && !img->cmd_set)
    json_object_del (build_config_of (doc), "Cmd");
  if (r == 0)
    r = build_commit_image (b, img, doc, img->layers, key, err);
  json_decref (doc);
  return r;
}

/* The layers of IMG plus CHAIN.  */
static char **
layers_plus (const struct build_image *img, const char *chain)
{
  char **v = cove_strv_dup (img->layers);
  cove_strv_append (&v, chain);
  return v;
}

/* After a step that made a layer: the image of it.  */
static int
commit_layer_step (struct build *b, struct build_image *img, const char *by,
                   const char *chain, const char *diff_id, const char *key,
                   struct cove_error **err)
{
  json_t *doc = build_next_doc (img, by, diff_id);
  cleanup_strv char **layers = layers_plus (img, chain);
  int r = build_commit_image (b, img, doc, layers, key, err);
  json_decref (doc);
  return r;
}

static int
step_run (struct build *b, struct build_image *img,
          const struct cove_build_instr *in, struct cove_build_vars *vars,
          int *out_status, struct cove_error **err)
{
  cleanup_strv char **argv = NULL;
  if (in->json_form)
    argv = cove_strv_dup (in->args);
  else
    {
      json_t *sh = build_shell (build_config_of (img->doc));
      size_t i;
      json_t *e;
      json_array_foreach (sh, i, e)
        cove_strv_append (&argv, json_string_value (e));
      json_decref (sh);
      bool shebang = false;
      cleanup_free char *cmd = cove_build_run_command (in, &shebang);
      cove_strv_append (&argv, cmd ? cmd : "");
    }
  struct build_mounts ms;
  int r = build_mounts_parse (b, img, in, vars, &ms, err);
  cleanup_strv char **env = cove_build_vars_environ (vars);
  cleanup_strv char **keyed = cove_strv_dup (env);
  /* The mounts join the key (a RUN without any keeps the key it had).  */
  if (ms.n > 0)
    cove_strv_append (&keyed, "\n--mount");
  for (size_t i = 0; ms.key && ms.key[i]; i++)
    cove_strv_append (&keyed, ms.key[i]);
  cleanup_free char *key = build_step_key (img, "RUN", argv, keyed);
  int cached = r < 0 ? -1 : build_use_cache (b, img, key, err);
  cleanup_free char *chain = NULL;
  cleanup_free char *diff_id = NULL;
  struct build_run_req req = { .argv = argv, .env = env, .mounts = &ms };
  if (cached == 0)
    r = build_mounts_setup (b, &ms, err);
  if (cached == 0 && r == 0)
    r = build_run (b, img, &req, out_status, &chain, &diff_id, err);
  build_mounts_clear (b, &ms);
  if (cached != 0 || r < 0)
    return cached < 0 || r < 0 ? -1 : 0;
  cleanup_free char *by = in->json_form
    ? xasprintf ("/bin/sh -c %s", strchr (in->original, '[')
                 ? strchr (in->original, '[') : in->original)
    : xasprintf ("/bin/sh -c %s", argv[cove_strv_len (argv) - 1]);
  return commit_layer_step (b, img, by, chain, diff_id, key, err);
}

/* COPY --from=REF: an earlier stage (by name or index), else an image
   (pulled when missing); its id.  */
static char *
build_from_image (struct build *b, const char *raw, struct cove_build_vars *vars,
                  struct cove_error **err)
{
  cleanup_free char *ref = NULL;
  if (cove_build_expand (raw, cove_build_vars_lookup, vars, b->file->escape,
                         &ref, err) < 0)
    return NULL;
  return build_stage_or_image (b, ref, err);
}

char *
build_stage_or_image (struct build *b, const char *ref, struct cove_error **err)
{
  const struct cove_build_stage *st = cove_build_find_stage (b->file, ref,
                                                             b->stage);
  if (st != NULL)
    return xstrdup (b->stage_images[st->index]);
  struct build_image img = { 0 };
  if (build_image_base (b, ref, &img, err) < 0)
    return NULL;
  char *id = steal_pointer (&img.id);
  build_image_clear (&img);
  return id;
}

/* The cache key of a COPY/ADD C to DEST: its options, the digest of
   its sources' content, and what its heredocs and downloads write.  */
static char *
copy_key (const struct build_image *img, const struct cove_build_instr *in,
          const struct build_copy *c, const char *digest)
{
  cleanup_free char *files = build_add_files_key (c->files, c->n_files);
  char *parts[] = { (char *) c->dest, (char *) (c->chown ? c->chown : ""),
                    (char *) (c->chmod ? c->chmod : ""),
                    (char *) (digest ? digest : ""),
                    (char *) (c->from_image ? c->from_image : ""), files,
                    NULL };
  return build_step_key (img, cove_build_kind_name (in->kind), parts, NULL);
}

static int
step_copy (struct build *b, struct build_image *img,
           const struct cove_build_instr *in, struct cove_build_vars *vars,
           struct cove_error **err)
{
  cleanup_strv char **words = build_expand_args (b, in, vars, err);
  if (words == NULL)
    return -1;
  size_t n = cove_strv_len (words);
  if (n < 2)
    return cove_error_set (err, EINVAL, "%s requires at least two "
                           "arguments", cove_build_kind_name (in->kind));
  const char *dest = words[n - 1];
  words[n - 1] = NULL;
  /* Heredocs and URLs become files now: a download's content is part of
     the cache key, as docker, which downloads at every build.  */
  struct build_add_sources as;
  int r = build_add_sources (b, in, words, vars, &as, err);
  words[n - 1] = (char *) dest;
  struct build_copy c = { .srcs = as.local, .dest = dest,
                          .chown = cove_build_instr_flag (in, "chown"),
                          .chmod = cove_build_instr_flag (in, "chmod"),
                          .files = as.files, .n_files = as.n_files,
                          .unpack = in->kind == COVE_BUILD_ADD };
  cleanup_free char *from = NULL;
  if (r == 0 && cove_build_instr_flag (in, "from") != NULL
      && (from = build_from_image (b, cove_build_instr_flag (in, "from"),
                                   vars, err)) == NULL)
    r = -1;
  c.from_image = from;
  c.unpack = c.unpack && from == NULL;  /* docker unpacks the context's */
  cleanup_free char *digest = NULL;
  if (r == 0)
    r = build_copy_digest (b, &c, &digest, err);
  cleanup_free char *key = r == 0 ? copy_key (img, in, &c, digest) : NULL;
  int cached = r < 0 ? -1 : build_use_cache (b, img, key, err);
  cleanup_free char *chain = NULL;
  cleanup_free char *diff_id = NULL;
  if (cached == 0)
    r = build_copy (b, img, &c, &chain, &diff_id, err);
  if (cached == 0 && r == 0)
    {
      cleanup_free char *by = xasprintf ("/bin/sh -c #(nop) %s file:%s in %s ",
                                         cove_build_kind_name (in->kind),
                                         strchr (digest, ':') + 1, dest);
      r = commit_layer_step (b, img, by, chain, diff_id, key, err);
    }
  build_add_sources_clear (&as);
  return cached < 0 ? -1 : r;
}

int
build_step (struct build *b, struct build_image *img,
            const struct cove_build_instr *in, int *out_status,
            struct cove_error **err)
{
  *out_status = 125;
  b->step++;
  if (!b->o->quiet)
    printf ("STEP %zu/%zu: %s\n", b->step, b->n_steps, in->original);
  if (in->kind == COVE_BUILD_ARG)
    {
      struct cove_build_arg_ctx ac = { .file = b->file, .globals = b->globals,
                                       .build_args = cove_build_vars_lookup,
                                       .build_args_ctx = b->build_args };
      if (img->args == NULL)
        img->args = cove_build_vars_new ();
      struct cove_build_vars *vars = build_step_vars (img);
      int r = cove_build_vars_apply_arg (img->args, in, &ac,
                                         cove_build_vars_lookup, vars, err);
      cove_build_vars_free (vars);
      return r;
    }
  struct cove_build_vars *vars = build_step_vars (img);
  int r;
  if (in->kind == COVE_BUILD_RUN)
    r = step_run (b, img, in, vars, out_status, err);
  else if (in->kind == COVE_BUILD_COPY || in->kind == COVE_BUILD_ADD)
    r = step_copy (b, img, in, vars, err);
  else
    r = step_config (b, img, in, vars, err);
  if (in->kind == COVE_BUILD_CMD)
    img->cmd_set = true;
  cove_build_vars_free (vars);
  if (r == 0)
    print_done (b, img);
  else if (err && *err)
    cove_error_wrap (err, "building at STEP \"%s\"", in->original);
  fflush (stdout);
  return r;
}
