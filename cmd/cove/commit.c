/* cove commit: a container's changes become a new image (cove-full).  The
   new layer is the container's changes (storage/commit.c) on top of its
   image's layers; the config is the image's, with what the container was
   run with (environment, command, working directory, labels, published
   ports), as podman's commit does, then the --change instructions.  */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrops.h"
#include "cmd/cove/ctrroot.h"
#include "cmd/cove/imgchange.h"
#include "cmd/cove/imgutil.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "pkg/oci/oci.h"
#include "pkg/spec/spec.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

enum { OPT_HELP = 1, OPT_AUTHOR, OPT_CHANGE, OPT_MESSAGE, OPT_PAUSE,
       OPT_QUIET, OPT_FORMAT, OPT_IIDFILE, OPT_SQUASH, OPT_INCLUDE_VOLUMES };

static const struct cove_opt commit_opts[] = {
  { "author", 'a', COVE_OPT_VALUE, OPT_AUTHOR, "string", "Set the author for the image committed" },
  { "change", 'c', COVE_OPT_VALUE, OPT_CHANGE, "Change", "Apply the following possible instructions to the created image (default []): CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | STOPSIGNAL | USER | VOLUME | WORKDIR" },
  { "format", 'f', COVE_OPT_VALUE, OPT_FORMAT, "string", "Format of the image manifest and metadata (default \"oci\")" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for commit" },
  { "iidfile", 0, COVE_OPT_VALUE, OPT_IIDFILE, "ImageIDFile", "`file` to write the image ID to" },
  { "include-volumes", 0, COVE_OPT_BOOL, OPT_INCLUDE_VOLUMES, NULL, "Include container volumes as image volumes" },
  { "message", 'm', COVE_OPT_VALUE, OPT_MESSAGE, "string", "Set commit message for imported image" },
  { "pause", 'p', COVE_OPT_BOOL, OPT_PAUSE, NULL, "Pause container during commit" },
  { "quiet", 'q', COVE_OPT_BOOL, OPT_QUIET, NULL, "Suppress output" },
  { "squash", 's', COVE_OPT_BOOL, OPT_SQUASH, NULL, "squash newly built layers into a single new layer" },
  { NULL, 0, 0, 0, NULL, NULL },
};

struct commit_request
{
  char **changes;
  const char *author, *message, *format, *iidfile;
  bool pause, quiet;
};


/* The container's config.json (its process: env, args, cwd).  */
static json_t *
load_spec (const struct cove_storage_paths *paths, const char *id,
           struct cove_error **err)
{
  cleanup_free char *path = cove_ctr_file (paths, id, "config.json");
  json_error_t je;
  json_t *j = json_load_file (path, 0, &je);
  if (j == NULL)
    cove_error_set (err, EINVAL, "read `%s`: %s", path, je.text);
  return j;
}

/* Entrypoint and Cmd from the process's args: the image's Entrypoint
   stays when the args start with it, the rest is the Cmd.  */
static void
set_command (json_t *cfg, json_t *args, bool init)
{
  json_t *a = json_deep_copy (args);
  if (init && json_array_size (a) >= 2)
    {
      json_array_remove (a, 0);   /* /run/cove-init */
      json_array_remove (a, 0);   /* -- */
    }
  json_t *ep = json_object_get (cfg, "Entrypoint");
  size_t n = json_array_size (ep);
  bool keep = n > 0 && n <= json_array_size (a);
  for (size_t i = 0; keep && i < n; i++)
    keep = json_equal (json_array_get (ep, i), json_array_get (a, i));
  if (keep)
    for (size_t i = 0; i < n; i++)
      json_array_remove (a, 0);
  else
    json_object_del (cfg, "Entrypoint");
  json_object_set_new (cfg, "Cmd", a);
}

/* What the container was run with, over the image's config CFG.  */
static void
apply_container (json_t *cfg, json_t *spec, const struct cove_state_container *c)
{
  json_t *proc = json_object_get (spec, "process");
  json_t *env = json_array ();
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get (proc, "env"), i, e)
    {
      const char *v = json_string_value (e);
      /* Set by the runtime for this container only.  */
      if (v && strncmp (v, "HOSTNAME=", 9) != 0 && strncmp (v, "container=", 10) != 0)
        json_array_append (env, e);
    }
  json_object_set_new (cfg, "Env", env);
  if (json_is_array (json_object_get (proc, "args")))
    set_command (cfg, json_object_get (proc, "args"),
                 cove_ctr_extra_bool (c, "init"));
  const char *cwd = json_string_value (json_object_get (proc, "cwd"));
  if (cwd && strcmp (cwd, "/") != 0)
    json_object_set_new (cfg, "WorkingDir", json_string (cwd));
  for (size_t k = 0; c->labels && c->labels[k]; k++)
    {
      json_t *labels = json_object_get (cfg, "Labels");
      if (!json_is_object (labels))
        json_object_set_new (cfg, "Labels", labels = json_object ());
      const char *eq = strchr (c->labels[k], '=');
      cleanup_free char *key = eq ? xstrndup (c->labels[k], eq - c->labels[k])
                                  : xstrdup (c->labels[k]);
      json_object_set_new (labels, key, json_string (eq ? eq + 1 : ""));
    }
  json_t *ports = json_object_get (c->extra, "ports");
  json_array_foreach (ports, i, e)
    {
      json_t *exposed = json_object_get (cfg, "ExposedPorts");
      if (!json_is_object (exposed))
        json_object_set_new (cfg, "ExposedPorts", exposed = json_object ());
      json_int_t port = json_integer_value (json_object_get (e, "container_port"));
      const char *proto = json_string_value (json_object_get (e, "protocol"));
      if (port > 0)
        {
          cleanup_free char *key = xasprintf ("%lld/%s", (long long) port,
                                              proto ? proto : "tcp");
          json_object_set_new (exposed, key, json_object ());
        }
    }
}


/* The new image's config document: BASE's with the container's settings,
   the changes, the new layer and its history entry.  */
static json_t *
make_config (const struct commit_request *r, json_t *base, json_t *spec,
             const struct cove_state_container *c, const char *diff_id,
             struct cove_error **err)
{
  json_t *doc = json_deep_copy (base);
  json_t *cfg = json_object_get (doc, "config");
  if (!json_is_object (cfg))
    json_object_set_new (doc, "config", cfg = json_object ());
  apply_container (cfg, spec, c);
  for (size_t i = 0; r->changes && r->changes[i]; i++)
    if (cove_img_change_apply (cfg, r->changes[i], err) < 0)
      {
        json_decref (doc);
        return NULL;
      }
  if (r->author)
    json_object_set_new (doc, "author", json_string (r->author));
  struct cove_img_history h = { .author = r->author, .comment = r->message,
                                .diff_id = diff_id };
  return cove_img_add_history (doc, &h);
}

struct commit_ctx
{
  const struct commit_request *r;
  struct cove_storage_paths paths;
  struct cove_state_store st;
  struct cove_state_container c;
  struct cove_storage *s;
  struct cove_storage_image img;
};

static void
print_progress (struct commit_ctx *x, const struct cove_storage_commit *layer,
                const char *config_hex)
{
  if (x->r->quiet)
    return;
  fprintf (stderr, "Getting image source signatures\n");
  for (size_t i = 0; x->img.layers && x->img.layers[i]; i++)
    {
      struct cove_storage_layer info;
      if (cove_storage_layer_info (x->s, x->img.layers[i], &info, NULL) < 0)
        continue;
      const char *d = info.compressed_digest ? info.compressed_digest : info.diff_id;
      fprintf (stderr, "Copying blob %.12s skipped: already exists\n",
               strchr (d, ':') ? strchr (d, ':') + 1 : d);
      cove_storage_layer_free (&info);
    }
  fprintf (stderr, "Copying blob %.12s done\nCopying config %.10s done\n"
           "Writing manifest to image destination\n",
           strchr (layer->blob_digest, ':') + 1, config_hex);
}

/* The layer of the container's changes, then the image of BASE's config
   with it and the container's settings SPEC, named TAG (may be NULL).  */
static int
make_image (struct commit_ctx *x, json_t *spec, json_t *base, const char *tag,
            char **out_id, struct cove_error **err)
{
  bool paused = x->r->pause && x->c.state == COVE_STATE_RUNNING
    && cove_ctr_kill_all (&x->c, SIGSTOP, NULL) == 0;
  struct cove_storage_commit layer;
  int r = cove_storage_commit_layer (x->s, &x->img, x->c.id,
                                     cove_ctr_mount_targets, &layer, err);
  if (paused)
    (void) cove_ctr_kill_all (&x->c, SIGCONT, NULL);
  if (r < 0)
    return cove_error_wrap (err, "commit container %s", x->c.name);
  json_t *doc = make_config (x->r, base, spec, &x->c, layer.diff_id, err);
  size_t n = 0;
  while (x->img.layers && x->img.layers[n])
    n++;
  cleanup_free char **layers = xmalloc0 ((n + 2) * sizeof *layers);
  memcpy (layers, x->img.layers, n * sizeof *layers);
  layers[n] = layer.chain_id;
  r = doc ? cove_img_store (x->s, doc, layers, tag, out_id, err) : -1;
  json_decref (doc);
  if (r == 0)
    print_progress (x, &layer, *out_id);
  cove_storage_commit_free (&layer);
  return r;
}

/* Make the layer and the image; *OUT_ID its id.  */
static int
commit_image (struct commit_ctx *x, const char *tag, char **out_id,
              struct cove_error **err)
{
  json_t *spec = load_spec (&x->paths, x->c.id, err);
  if (spec == NULL)
    return -1;
  size_t len;
  cleanup_free char *raw = cove_storage_blob_read (x->s, x->img.config_digest,
                                                   16 << 20, &len, err);
  json_t *base = raw ? json_loadb (raw, len, 0, NULL) : NULL;
  int r = -1;
  if (raw != NULL && !json_is_object (base))
    cove_error_set (err, EINVAL, "image %.12s: its config is not a JSON "
                    "object", x->img.id);
  else if (raw != NULL)
    r = make_image (x, spec, base, tag, out_id, err);
  json_decref (base);
  json_decref (spec);
  return r;
}

static int
commit_open (struct commit_ctx *x, const char *name_or_id,
             struct cove_error **err)
{
  if (cove_cmd_enter_userns (err) < 0
      || cove_ctr_store_open (&x->paths, &x->st, err) < 0)
    return -1;
  if (cove_ctr_load (&x->st, name_or_id, &x->c, err) < 0)
    return -1;
  if (!cove_ctr_root_from_image (&x->c))
    return cove_error_set_plain (err, EINVAL, "container %s runs a --rootfs "
                                 "directory: it has no image to commit on",
                                 x->c.name);
  if (cove_storage_open (&x->paths, &x->s, err) < 0)
    return -1;
  return cove_storage_image_lookup (x->s, x->c.image_id, &x->img, err);
}

static void
commit_close (struct commit_ctx *x)
{
  if (x->s != NULL)
    {
      cove_storage_image_free (&x->img);
      cove_storage_close (x->s);
    }
  cove_state_container_free (&x->c);
  if (x->st.root != NULL)
    cove_ctr_store_close (&x->paths, &x->st);
}

static int
do_commit (const struct commit_request *r, const char *ctr, const char *name)
{
  cleanup_error struct cove_error *err = NULL;
  if (r->format && strcmp (r->format, "oci") != 0
      && strcmp (r->format, "docker") != 0)
    return cove_cmd_usage_error ("unrecognized image type \"%s\"", r->format);
  cleanup_free char *tag = NULL;
  if (name != NULL && (tag = cove_img_normalize_tag (name, &err)) == NULL)
    return cove_cmd_fail (&err, 125);
  /* The changes are checked before anything is written.  */
  json_t *probe = json_object ();
  int bad = 0;
  for (size_t i = 0; bad == 0 && r->changes && r->changes[i]; i++)
    bad = cove_img_change_apply (probe, r->changes[i], &err);
  json_decref (probe);
  if (bad < 0)
    return cove_cmd_fail (&err, 125);
  struct commit_ctx x = { .r = r, .st = { .dirfd = -1 } };
  cleanup_free char *id = NULL;
  int ret = commit_open (&x, ctr, &err);
  if (ret == 0)
    ret = commit_image (&x, tag, &id, &err);
  commit_close (&x);
  if (ret < 0)
    return cove_cmd_fail (&err, 125);
  cleanup_free char *iid = xasprintf ("sha256:%s", id);
  if (r->iidfile && cove_file_write_atomic (r->iidfile, iid, strlen (iid),
                                            0644, 0, &err) < 0)
    return cove_cmd_fail (&err, 125);
  printf ("%s\n", id);
  return fflush (stdout) == 0 ? 0 : 125;
}

int
cove_cmd_commit (int argc, char **argv)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, commit_opts, argc, argv, true);
  struct commit_request r = { 0 };
  const char *v;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    switch (id)
      {
      case OPT_HELP:
        cove_opts_print_help (stdout, "cove commit [options] CONTAINER [IMAGE]",
                              "Create new image based on the changed container",
                              commit_opts);
        cove_opts_free (&p);
        cove_strv_free (r.changes);
        return 0;
      case OPT_CHANGE: cove_strv_append (&r.changes, v); break;
      case OPT_AUTHOR: r.author = v; break;
      case OPT_MESSAGE: r.message = v; break;
      case OPT_FORMAT: r.format = v; break;
      case OPT_IIDFILE: r.iidfile = v; break;
      case OPT_PAUSE: r.pause = strcmp (v, "true") == 0; break;
      case OPT_QUIET: r.quiet = strcmp (v, "true") == 0; break;
      default: break;   /* --squash, --include-volumes: one layer anyway */
      }
  int n;
  cleanup_free char **rest = cove_opts_rest (&p, &n);
  int ret;
  if (id < 0)
    ret = cove_cmd_fail (&err, 125);
  else if (n < 1 || n > 2)
    ret = cove_cmd_usage_error ("`cove commit` requires a container and an "
                                "optional image name");
  else
    ret = do_commit (&r, rest[0], n == 2 ? rest[1] : NULL);
  cove_opts_free (&p);
  cove_strv_free (r.changes);
  return ret;
}
