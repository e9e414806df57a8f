/* cove diff, cove container diff: a container's changes relative to its
   image (storage/changes.c), podman's "C /etc" lines sorted by path, or
   --format json.  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcmd.h"
#include "cmd/cove/ctrinspect.h"
#include "cmd/cove/ctrroot.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

struct change_list
{
  char **lines;       /* "K/path": the kind, then the path */
  size_t n, cap;
};

static int
collect (void *ctx, const struct cove_storage_change *c,
         struct cove_error **err)
{
  (void) err;
  struct change_list *l = ctx;
  if (cove_ctr_is_mount_target (c->path))
    return 0;
  if (l->n == l->cap)
    {
      l->cap = l->cap ? 2 * l->cap : 64;
      l->lines = xrealloc (l->lines, l->cap * sizeof *l->lines);
    }
  l->lines[l->n++] = xasprintf ("%c%s", (char) c->kind, c->path);
  return 0;
}

static int
by_path (const void *a, const void *b)
{
  return strcmp (*(char *const *) a + 1, *(char *const *) b + 1);
}

static void
list_free (struct change_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    free (l->lines[i]);
  free (l->lines);
}

static int
changes_of (const char *name_or_id, bool use_latest, struct change_list *out,
            struct cove_error **err)
{
  if (cove_cmd_enter_userns (err) < 0)
    return -1;
  struct cove_storage_paths paths;
  struct cove_state_store st;
  if (cove_ctr_store_open (&paths, &st, err) < 0)
    return -1;
  struct cove_state_container c = { 0 };
  struct cove_storage *s = NULL;
  struct cove_storage_image img = { 0 };
  cleanup_free char *id = use_latest ? cove_ctr_latest (&st, err) : xstrdup (name_or_id);
  int r = id == NULL ? -1 : cove_ctr_load (&st, id, &c, err);
  if (r == 0 && !cove_ctr_root_from_image (&c))
    r = cove_error_set_plain (err, EINVAL, "container %s runs a --rootfs "
                              "directory: no image to compare it with", c.name);
  if (r == 0)
    r = cove_storage_open (&paths, &s, err);
  if (r == 0)
    r = cove_storage_image_lookup (s, c.image_id, &img, err);
  if (r == 0)
    r = cove_storage_container_changes (s, &img, c.id, collect, out, err);
  if (s != NULL)
    {
      cove_storage_image_free (&img);
      cove_storage_close (s);
    }
  cove_state_container_free (&c);
  cove_ctr_store_close (&paths, &st);
  return r;
}

static void
print_json (const struct change_list *l)
{
  static const char *const keys[] = { "changed", "added", "deleted" };
  static const char kinds[] = { 'C', 'A', 'D' };
  json_t *o = json_object ();
  for (size_t k = 0; k < 3; k++)
    {
      json_t *a = json_array ();
      for (size_t i = 0; i < l->n; i++)
        if (l->lines[i][0] == kinds[k])
          json_array_append_new (a, json_string (l->lines[i] + 1));
      /* podman omits the empty ones.  */
      if (json_array_size (a) > 0)
        json_object_set_new (o, keys[k], a);
      else
        json_decref (a);
    }
  char *s = json_dumps (o, JSON_INDENT (4) | JSON_PRESERVE_ORDER);
  printf ("%s\n", s);
  free (s);
  json_decref (o);
}

static int
do_diff (const char *name_or_id, bool use_latest, const char *format)
{
  if (format != NULL && strcmp (format, "json") != 0)
    return cove_cmd_usage_error ("unsupported format \"%s\": only json is "
                                 "supported", format);
  cleanup_error struct cove_error *err = NULL;
  struct change_list l = { 0 };
  if (changes_of (name_or_id, use_latest, &l, &err) < 0)
    {
      list_free (&l);
      return cove_cmd_fail (&err, 125);
    }
  if (l.n > 1)
    qsort (l.lines, l.n, sizeof *l.lines, by_path);
  if (format != NULL)
    print_json (&l);
  else
    for (size_t i = 0; i < l.n; i++)
      printf ("%c %s\n", l.lines[i][0], l.lines[i] + 1);
  list_free (&l);
  return fflush (stdout) == 0 ? 0 : 125;
}

static const struct cove_opt diff_opts[] = {
  { "format", 0, COVE_OPT_VALUE, CTR_QUERY_FORMAT, "string", "Change the output format (json)" },
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for diff" },
  { "latest", 'l', COVE_OPT_BOOL, CTR_QUERY_LATEST, NULL, "Act on the latest container cove is aware of" },
  { NULL, 0, 0, 0, NULL, NULL },
};

int
cove_cmd_diff (int argc, char **argv)
{
  struct cove_ctr_query q = { NULL, false, false };
  int n, status;
  cleanup_free char **rest = cove_ctr_parse (argc, argv, diff_opts,
                                             "cove diff [options] CONTAINER",
                                             "Inspect changes to the container's file systems",
                                             cove_ctr_query_opt, &q, &n, &status);
  if (rest == NULL)
    return status;
  if (q.latest ? n != 0 : n != 1)
    return cove_cmd_usage_error (q.latest ? "--latest and containers cannot be used together"
                                          : "`cove diff` requires one container");
  return do_diff (q.latest ? NULL : rest[0], q.latest, q.format);
}
