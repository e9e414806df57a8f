/* cove image inspect, cove inspect (containers first, then images).  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/ctrinspect.h"
#include "cmd/cove/human.h"
#include "cmd/cove/imgutil.h"
#include "cmd/cove/listing.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "cmd/cove/store.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

enum { OPT_HELP = 1, OPT_FORMAT, OPT_TYPE, OPT_SIZE };

static json_t *
obj_or_empty (json_t *o)
{
  return json_is_object (o) ? json_incref (o) : json_object ();
}

/* podman's `image inspect` document for IMG with its config CFG.  */
static json_t *
inspect_doc (const struct cove_storage_paths *paths,
             const struct cove_storage_image *img, json_t *cfg)
{
  json_t *config = json_object_get (cfg, "config");
  json_t *rootfs = json_object_get (cfg, "rootfs");
  const char *created = json_string_value (json_object_get (cfg, "created"));
  cleanup_free char *top = img->layers && img->layers[0]
      ? xasprintf ("%s/layers/%s/diff", paths->data_dir,
                   img->layers[cove_strv_len (img->layers) - 1])
      : xstrdup ("");
  json_t *doc = json_pack (
      "{s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:I, s:I}",
      "Id", img->id, "Digest", img->manifest_digest ? img->manifest_digest : "",
      "RepoTags", cove_img_strv_json (img->names), "RepoDigests", cove_img_repo_digests (img),
      "Parent", "", "Comment",
      json_string_value (json_object_get (cfg, "comment")) ?: "",
      "Created", created ? created : "", "Config", obj_or_empty (config),
      "Version", "", "Author",
      json_string_value (json_object_get (cfg, "author")) ?: "",
      "Architecture",
      json_string_value (json_object_get (cfg, "architecture")) ?: "",
      "Os", json_string_value (json_object_get (cfg, "os")) ?: "",
      "Size", (json_int_t) img->size, "VirtualSize", (json_int_t) img->size);
  json_object_set_new (doc, "GraphDriver",
                       json_pack ("{s:s, s:{s:s}}", "Name", "overlay", "Data",
                                  "UpperDir", top));
  json_object_set_new (doc, "RootFS", json_pack ("{s:s, s:O}", "Type", "layers",
                                                 "Layers",
                                                 json_object_get (rootfs, "diff_ids")
                                                     ?: json_array ()));
  json_object_set_new (doc, "Labels", obj_or_empty (json_object_get (config, "Labels")));
  json_object_set_new (doc, "Annotations", json_object ());
  json_object_set_new (doc, "User", json_string (json_string_value (
                           json_object_get (config, "User")) ?: ""));
  json_t *history = json_object_get (cfg, "history");
  json_object_set_new (doc, "History", json_is_array (history)
                                           ? json_incref (history) : json_array ());
  json_object_set_new (doc, "NamesHistory", cove_img_strv_json (img->names));
  return doc;
}

/* Print DOCS (an array) as podman: indented JSON, or FORMAT per item.  */
static int
print_docs (json_t *docs, const char *format)
{
  return cove_ctr_inspect_print (docs, format);
}

/* NAMES[i] is no container (TYPE container) or neither (TYPE all).  */
static int
not_found (const char *type, const char *name)
{
  if (strcmp (type, "container") == 0)
    fprintf (stderr, "Error: inspecting object: no such container %s\n", name);
  else
    fprintf (stderr, "Error: inspecting object: no such object: \"%s\"\n", name);
  return 125;
}

static int
inspect_images (int n, char **names, const char *format, const char *type,
                bool size)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_storage_paths paths;
  struct cove_storage *s = NULL;
  /* Containers first, then images, as podman.  */
  cleanup_free json_t **cdocs = xmalloc0 ((size_t) n * sizeof *cdocs);
  bool images = strcmp (type, "container") != 0, need_images = false;
  if (strcmp (type, "image") && cove_ctr_inspect_names (names, n, size, cdocs, &err) < 0)
    return cove_cmd_fail (&err, 125);
  for (int i = 0; i < n; i++)
    need_images = need_images || (images && cdocs[i] == NULL);
  if (need_images && cove_cmd_store_open (&paths, &s, &err) < 0)
    {
      for (int i = 0; i < n; i++)
        json_decref (cdocs[i]);
      return cove_cmd_fail (&err, 125);
    }
  json_t *docs = json_array ();
  int ret = 0;
  for (int i = 0; i < n; i++)
    {
      struct cove_storage_image img;
      if (cdocs[i] || !images)
        {
          if (cdocs[i])
            json_array_append_new (docs, cdocs[i]);
          else
            ret = not_found (type, names[i]);
          continue;
        }
      if (cove_img_find (s, names[i], &img, &err) < 0)
        {
          if (strcmp (type, "all") == 0 && err->errnum == ENOENT)
            {
              cove_error_release (&err);
              ret = not_found (type, names[i]);
            }
          else
            ret = cove_cmd_fail (&err, 125);
          continue;
        }
      json_t *cfg = cove_img_config (s, &img, &err);
      if (cfg == NULL)
        ret = cove_cmd_fail (&err, 125);
      else
        json_array_append_new (docs, inspect_doc (&paths, &img, cfg));
      json_decref (cfg);
      cove_storage_image_free (&img);
    }
  if (s)
    cove_cmd_store_close (&paths, s);
  /* podman prints what it found, then fails for what it did not.  */
  int pr = print_docs (docs, format);
  json_decref (docs);
  return ret ? ret : pr;
}

static const struct cove_opt inspect_opts[] = {
  { "format", 'f', COVE_OPT_VALUE, OPT_FORMAT, "string", "Format the output to a Go template or json" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for inspect" },
  { "size", 's', COVE_OPT_BOOL, OPT_SIZE, NULL, "Display total file size (containers)" },
  { "type", 't', COVE_OPT_VALUE, OPT_TYPE, "string", "Specify inspect-object type (container, image or all)" },
  { NULL, 0, 0, 0, NULL, NULL },
};

static int
inspect_main (int argc, char **argv, bool images_only)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, inspect_opts, argc, argv, true);
  const char *v, *format = NULL, *type = images_only ? "image" : "all";
  bool size = false;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    if (id == OPT_HELP)
      {
        cove_opts_print_help (stdout, images_only ? "cove image inspect [options] IMAGE [IMAGE...]"
                                                  : "cove inspect [options] NAME [NAME...]",
                              "Display the configuration of an image", inspect_opts);
        cove_opts_free (&p);
        return 0;
      }
    else if (id == OPT_FORMAT)
      format = v;
    else if (id == OPT_TYPE)
      type = v;
    else if (id == OPT_SIZE)
      size = strcmp (v, "true") == 0;
  int n;
  cleanup_free char **rest = cove_opts_rest (&p, &n);
  cove_opts_free (&p);
  if (id < 0)
    return cove_cmd_fail (&err, 125);
  if (strcmp (type, "all") && strcmp (type, "image") && strcmp (type, "container"))
    return cove_cmd_usage_error ("invalid type \"%s\": must be \"container\", "
                                 "\"image\" or \"all\"", type);
  if (n == 0)
    return cove_cmd_usage_error ("inspect requires at least one argument");
  return inspect_images (n, rest, format, type, size);
}

int
cove_cmd_inspect (int argc, char **argv)
{
  return inspect_main (argc, argv, false);
}

int
cove_cmd_image_inspect (int argc, char **argv)
{
  return inspect_main (argc, argv, true);
}
