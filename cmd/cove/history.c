/* cove history: one row per history entry of the image config, newest
   first, as podman.  */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/human.h"
#include "cmd/cove/imgutil.h"
#include "cmd/cove/listing.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "cmd/cove/store.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

enum { OPT_HELP = 1, OPT_FORMAT, OPT_NO_TRUNC, OPT_QUIET, OPT_HUMAN };

static const struct cove_opt history_opts[] = {
  { "format", 0, COVE_OPT_VALUE, OPT_FORMAT, "string", "Change the output to JSON or a Go template" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for history" },
  { "human", 'H', COVE_OPT_BOOL, OPT_HUMAN, NULL, "Display sizes and dates in human readable format (default true)" },
  { "no-trunc", 0, COVE_OPT_BOOL, OPT_NO_TRUNC, NULL, "Do not truncate the output" },
  { "quiet", 'q', COVE_OPT_BOOL, OPT_QUIET, NULL, "Display the numeric IDs only" },
  { NULL, 0, 0, 0, NULL, NULL },
};

struct history_request
{
  const char *format;
  bool no_trunc, quiet, human;
};

static time_t
parse_created (const char *s)
{
  struct tm tm = { 0 };
  if (s == NULL || strptime (s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
    return 0;
  return timegm (&tm);
}

/* One row for history entry H; IS_TOP for the newest (it gets the id);
   SIZE the size of the layer it made (0 for an empty_layer entry).  */
static json_t *
history_row (const struct cove_storage_image *img, json_t *h, bool is_top,
             int64_t size, const struct history_request *r, time_t now)
{
  const char *by = json_string_value (json_object_get (h, "created_by")) ?: "";
  const char *comment = json_string_value (json_object_get (h, "comment")) ?: "";
  time_t created = parse_created (json_string_value (json_object_get (h, "created")));
  cleanup_free char *id = !is_top ? xstrdup ("<missing>")
                          : r->no_trunc ? xstrdup (img->id) : xstrndup (img->id, 12);
  cleanup_free char *shown_by = (!r->no_trunc && strlen (by) > 45)
                                    ? xasprintf ("%.42s...", by) : xstrdup (by);
  cleanup_free char *since = r->human ? cove_human_since (created, now)
                                      : cove_human_rfc3339 (created);
  cleanup_free char *hsize = r->human ? cove_human_size (size) : xasprintf ("%lld", (long long) size);
  return json_pack ("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:b}", "ID", id,
                    "Created", since, "CreatedBy", shown_by, "Size", hsize,
                    "SizeBytes", (json_int_t) size, "Comment", comment, "CreatedSince",
                    since, "EmptyLayer",
                    json_is_true (json_object_get (h, "empty_layer")));
}

static int64_t
layer_size (struct cove_storage *s, const char *chain_id)
{
  struct cove_storage_layer l;
  cleanup_error struct cove_error *ignored = NULL;
  if (cove_storage_layer_info (s, chain_id, &l, &ignored) < 0)
    return 0;
  int64_t size = l.size;
  cove_storage_layer_free (&l);
  return size;
}

static int
show_history (struct cove_storage *s, const char *name,
              const struct history_request *r)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_storage_image img;
  if (cove_img_find (s, name, &img, &err) < 0)
    return cove_cmd_fail (&err, 125);
  json_t *cfg = cove_img_config (s, &img, &err);
  if (cfg == NULL)
    {
      cove_storage_image_free (&img);
      return cove_cmd_fail (&err, 125);
    }
  json_t *hist = json_object_get (cfg, "history");
  json_t *rows = json_array ();
  time_t now = time (NULL);
  /* Entries that made a layer take the layers in order, bottom first.  */
  size_t layer = 0, nlayers = cove_strv_len (img.layers);
  int64_t *sizes = xmalloc0 ((json_array_size (hist) + 1) * sizeof (int64_t));
  for (size_t i = 0; i < json_array_size (hist); i++)
    if (!json_is_true (json_object_get (json_array_get (hist, i), "empty_layer"))
        && layer < nlayers)
      sizes[i] = layer_size (s, img.layers[layer++]);
  for (size_t i = json_array_size (hist); i > 0; i--)
    json_array_append_new (rows, history_row (&img, json_array_get (hist, i - 1),
                                              i == json_array_size (hist),
                                              sizes[i - 1], r, now));
  free (sizes);
  if (json_array_size (rows) == 0)
    {
      json_t *none = json_pack ("{s:s}", "created_by", "");
      json_array_append_new (rows, history_row (&img, none, true, img.size, r, now));
      json_decref (none);
    }
  static const char *const headers[] = { "ID", "ID", "CreatedBy", "CREATED BY",
                                         "Created", "CREATED", NULL };
  int ret = cove_listing_print (rows, rows, r->quiet ? "{{.ID}}" : r->format,
                                "table {{.ID}}\t{{.Created}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
                                headers, false);
  json_decref (rows);
  json_decref (cfg);
  cove_storage_image_free (&img);
  return ret;
}

int
cove_cmd_history (int argc, char **argv)
{
  struct history_request r = { .human = true };
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, history_opts, argc, argv, true);
  const char *v;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    {
      bool on = v && strcmp (v, "true") == 0;
      if (id == OPT_HELP)
        {
          cove_opts_print_help (stdout, "cove history [options] IMAGE",
                                "Show history of a specified image", history_opts);
          cove_opts_free (&p);
          return 0;
        }
      if (id == OPT_FORMAT)
        r.format = v;
      else if (id == OPT_NO_TRUNC)
        r.no_trunc = on;
      else if (id == OPT_QUIET)
        r.quiet = on;
      else if (id == OPT_HUMAN)
        r.human = on;
    }
  int n;
  cleanup_free char **rest = cove_opts_rest (&p, &n);
  cove_opts_free (&p);
  if (id < 0)
    return cove_cmd_fail (&err, 125);
  if (n != 1)
    return cove_cmd_usage_error ("`cove history` requires exactly one image");
  struct cove_storage_paths paths;
  struct cove_storage *s = NULL;
  if (cove_cmd_store_open (&paths, &s, &err) < 0)
    return cove_cmd_fail (&err, 125);
  int ret = show_history (s, rest[0], &r);
  cove_cmd_store_close (&paths, s);
  return ret;
}
