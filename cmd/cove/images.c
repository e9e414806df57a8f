/* cove images (image ls), cove image inspect, cove history.  */
#include <errno.h>
#include <fnmatch.h>
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

enum
{
  OPT_HELP = 1, OPT_ALL, OPT_QUIET, OPT_DIGESTS, OPT_NO_TRUNC, OPT_FORMAT,
  OPT_FILTER, OPT_NOHEADING,
};

static const struct cove_opt images_opts[] = {
  { "all", 'a', COVE_OPT_BOOL, OPT_ALL, NULL, "Show all images (default hides intermediate images)" },
  { "digests", 0, COVE_OPT_BOOL, OPT_DIGESTS, NULL, "Show digests" },
  { "filter", 'f', COVE_OPT_VALUE, OPT_FILTER, "stringArray", "Filter output based on conditions provided (reference=, dangling=, id=, before=, since=)" },
  { "format", 0, COVE_OPT_VALUE, OPT_FORMAT, "string", "Change the output format to JSON or a Go template" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for images" },
  { "noheading", 'n', COVE_OPT_BOOL, OPT_NOHEADING, NULL, "Do not print column headings" },
  { "no-trunc", 0, COVE_OPT_BOOL, OPT_NO_TRUNC, NULL, "Do not truncate output" },
  { "quiet", 'q', COVE_OPT_BOOL, OPT_QUIET, NULL, "Display only image IDs" },
  { NULL, 0, 0, 0, NULL, NULL },
};

struct images_request
{
  bool all, quiet, digests, no_trunc, noheading;
  const char *format;
  char **filters;
};

/* One row per name of IMG (one "<none>" row without names).  */
static void
add_rows (json_t *rows, const struct cove_storage_image *img, bool no_trunc,
          time_t now)
{
  size_t n = 0;
  while (img->names && img->names[n])
    n++;
  cleanup_free char *since = cove_human_since ((time_t) img->created, now);
  cleanup_free char *at = cove_human_go_time ((time_t) img->created);
  cleanup_free char *size = cove_human_size (img->size);
  cleanup_free char *id = no_trunc ? xasprintf ("sha256:%s", img->id)
                                   : xstrndup (img->id, 12);
  for (size_t i = 0; i < (n ? n : 1); i++)
    {
      char *repo, *tag;
      if (n)
        cove_img_split_name (img->names[i], &repo, &tag);
      else
        {
          repo = xstrdup ("<none>");
          tag = xstrdup ("<none>");
        }
      json_array_append_new (rows, json_pack (
          "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:b}",
          "ID", id, "Id", img->id, "Repository", repo, "Tag", tag,
          "Digest", img->manifest_digest ? img->manifest_digest : "",
          "CreatedSince", since, "CreatedAt", at,
          "Created", (json_int_t) img->created, "Size", size,
          "Dangling", n == 0));
      free (repo);
      free (tag);
    }
}

/* podman's `images --format json` shape for one image.  */
static json_t *
image_json (const struct cove_storage_image *img)
{
  json_t *digests = cove_img_repo_digests (img);
  cleanup_free char *at = cove_human_rfc3339 ((time_t) img->created);
  return json_pack ("{s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:o, s:s, s:I, s:s, s:i}",
                    "Id", img->id, "ParentId", "",
                    "RepoTags", cove_img_strv_json (img->names),
                    "RepoDigests", digests, "Size", (json_int_t) img->size,
                    "SharedSize", (json_int_t) 0,
                    "VirtualSize", (json_int_t) img->size,
                    "Names", cove_img_strv_json (img->names),
                    "Digest", img->manifest_digest ? img->manifest_digest : "",
                    "Created", (json_int_t) img->created, "CreatedAt", at,
                    "Containers", 0);
}

static bool
filter_match (struct cove_storage *s, const struct cove_storage_image *img,
              const char *f, struct cove_error **err);

static bool
bad_filter (const char *f, size_t len, struct cove_error **err)
{
  cove_error_set (err, EINVAL, "invalid image filter `%.*s`", (int) len, f);
  return false;
}

static bool
passes_filters (struct cove_storage *s, const struct cove_storage_image *img,
                char **filters, struct cove_error **err)
{
  for (size_t i = 0; filters && filters[i]; i++)
    if (!filter_match (s, img, filters[i], err))
      return false;
  return true;
}

/* created time of the image named by USER, for before= and since=.  */
static int64_t
created_of (struct cove_storage *s, const char *user, struct cove_error **err)
{
  struct cove_storage_image other;
  if (cove_img_find (s, user, &other, err) < 0)
    return -1;
  int64_t t = other.created;
  cove_storage_image_free (&other);
  return t;
}

static bool
filter_match (struct cove_storage *s, const struct cove_storage_image *img,
              const char *f, struct cove_error **err)
{
  const char *v = strchr (f, '=');
  if (v == NULL)
    return bad_filter (f, strlen (f), err);
  size_t klen = v++ - f;
  if (strncmp (f, "dangling", klen) == 0 && klen == 8)
    return (img->names == NULL || img->names[0] == NULL) == (strcmp (v, "true") == 0);
  if (strncmp (f, "id", klen) == 0 && klen == 2)
    return strncmp (img->id, v, strlen (v)) == 0;
  if (strncmp (f, "reference", klen) == 0 && klen == 9)
    {
      for (size_t i = 0; img->names && img->names[i]; i++)
        {
          cleanup_free char *pattern = strchr (v, ':') ? xstrdup (v) : xasprintf ("%s:*", v);
          const char *n = img->names[i];
          const char *slash = strrchr (n, '/');
          if (fnmatch (pattern, n, 0) == 0
              || (slash && fnmatch (pattern, slash + 1, 0) == 0)
              || cove_img_name_matches (n, v))
            return true;
        }
      return false;
    }
  if ((strncmp (f, "before", klen) == 0 && klen == 6)
      || (strncmp (f, "since", klen) == 0 && klen == 5))
    {
      int64_t t = created_of (s, v, err);
      if (t < 0)
        return false;
      return f[0] == 'b' ? img->created < t : img->created > t;
    }
  return bad_filter (f, klen, err);
}

/* How many history entries IMG's config has (0 when unreadable).  */
static size_t
history_len (struct cove_storage *s, const struct cove_storage_image *img)
{
  size_t len;
  cleanup_free char *raw = cove_storage_blob_read (s, img->config_digest,
                                                   16 << 20, &len, NULL);
  json_t *doc = raw ? json_loadb (raw, len, 0, NULL) : NULL;
  size_t n = json_array_size (json_object_get (doc, "history"));
  json_decref (doc);
  return n;
}

/* Is CHILD built on PARENT: PARENT's layers a prefix of CHILD's, and
   CHILD further along (more layers, or the same with more history: a
   build step that changed only the config)?  */
static bool
is_child (struct cove_storage *s, const struct cove_storage_image *parent,
          const struct cove_storage_image *child)
{
  size_t np = cove_strv_len (parent->layers), nc = cove_strv_len (child->layers);
  if (np > nc || strcmp (parent->id, child->id) == 0)
    return false;
  for (size_t i = 0; i < np; i++)
    if (strcmp (parent->layers[i], child->layers[i]) != 0)
      return false;
  return nc > np || history_len (s, child) > history_len (s, parent);
}

/* podman's intermediate images, which `images` hides without -a: those
   without a name that another image is built on (the steps of a build).
   HIDDEN[i] for ALL[i].  */
static void
mark_intermediate (struct cove_storage *s, const struct cove_storage_image *all,
                   size_t n, bool *hidden)
{
  for (size_t i = 0; i < n; i++)
    {
      if (all[i].names != NULL && all[i].names[0] != NULL)
        continue;
      for (size_t j = 0; j < n && !hidden[i]; j++)
        hidden[i] = j != i && is_child (s, &all[i], &all[j]);
    }
}

static int
list_images (struct cove_storage *s, const struct images_request *r)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_storage_image *all = NULL;
  size_t n = 0;
  if (cove_storage_image_list (s, &all, &n, &err) < 0)
    return cove_cmd_fail (&err, 125);
  json_t *rows = json_array (), *items = json_array ();
  time_t now = time (NULL);
  cleanup_free bool *hidden = xmalloc0 ((n + 1) * sizeof *hidden);
  if (!r->all)
    mark_intermediate (s, all, n, hidden);
  for (size_t i = 0; i < n && err == NULL; i++)
    {
      if (!hidden[i] && passes_filters (s, &all[i], r->filters, &err))
        {
          /* -q lists each image once, whatever its names.  */
          if (r->quiet)
            json_array_append_new (rows, r->no_trunc
                                   ? json_pack ("{s:s+}", "ID", "sha256:", all[i].id)
                                   : json_pack ("{s:s%}", "ID", all[i].id, (size_t) 12));
          else
            add_rows (rows, &all[i], r->no_trunc, now);
          json_array_append_new (items, image_json (&all[i]));
        }
      cove_storage_image_free (&all[i]);
    }
  for (size_t i = 0; i < n; i++)
    cove_storage_image_free (&all[i]);
  free (all);
  int ret = err ? cove_cmd_fail (&err, 125) : 0;
  if (ret == 0)
    {
      static const char *const headers[] = { "ID", "IMAGE ID", "CreatedSince",
                                             "CREATED", "CreatedAt", "CREATED AT",
                                             NULL };
      const char *table = r->digests
          ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
          : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
      ret = cove_listing_print (rows, items, r->quiet ? "{{.ID}}" : r->format,
                                table, headers, r->noheading);
    }
  json_decref (rows);
  json_decref (items);
  return ret;
}

int
cove_cmd_images (int argc, char **argv)
{
  struct images_request r = { 0 };
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, images_opts, argc, argv, true);
  const char *v;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    switch (id)
      {
      case OPT_HELP:
        cove_opts_print_help (stdout, "cove images [options] [IMAGE]",
                              "List images in local storage", images_opts);
        cove_opts_free (&p);
        cove_strv_free (r.filters);
        return 0;
      case OPT_ALL: r.all = strcmp (v, "true") == 0; break;
      case OPT_QUIET: r.quiet = strcmp (v, "true") == 0; break;
      case OPT_DIGESTS: r.digests = strcmp (v, "true") == 0; break;
      case OPT_NO_TRUNC: r.no_trunc = strcmp (v, "true") == 0; break;
      case OPT_NOHEADING: r.noheading = strcmp (v, "true") == 0; break;
      case OPT_FORMAT: r.format = v; break;
      case OPT_FILTER: cove_strv_append (&r.filters, v); break;
      default: break;
      }
  int nrest;
  cleanup_free char **rest = cove_opts_rest (&p, &nrest);
  cove_opts_free (&p);
  if (id < 0)
    {
      cove_strv_free (r.filters);
      return cove_cmd_fail (&err, 125);
    }
  if (nrest > 1)
    {
      cove_strv_free (r.filters);
      return cove_cmd_usage_error ("`cove images` takes at most one image");
    }
  if (nrest == 1)
    {
      cleanup_free char *f = xasprintf ("reference=%s", rest[0]);
      cove_strv_append (&r.filters, f);
    }
  struct cove_storage_paths paths;
  struct cove_storage *s = NULL;
  int ret;
  if (cove_cmd_store_open (&paths, &s, &err) < 0)
    ret = cove_cmd_fail (&err, 125);
  else
    {
      ret = list_images (s, &r);
      cove_cmd_store_close (&paths, s);
    }
  cove_strv_free (r.filters);
  return ret;
}
