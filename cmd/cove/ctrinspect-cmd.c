/* cove container inspect [-f FORMAT] [-l] [-s] NAME...; and the container
   half of `cove inspect`.  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcmd.h"
#include "cmd/cove/ctrinspect.h"
#include "cmd/cove/format.h"
#include "cmd/cove/listing.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

int
cove_ctr_inspect_print (json_t *docs, const char *format)
{
  if (format == NULL || cove_format_is_json (format))
    {
      /* podman indents inspect output by 5 spaces.  */
      json_dumpf (docs, stdout, JSON_INDENT (5) | JSON_PRESERVE_ORDER);
      fputc ('\n', stdout);
      return 0;
    }
  return cove_listing_print (docs, docs, format, format, NULL, true);
}

/* What an inspection needs open: the container store, and with SIZE the
   image store (in the user namespace, entered first).  */
struct inspect_ctx
{
  struct cove_storage_paths paths;
  struct cove_state_store st;
  struct cove_storage *images;
  bool size;
};

static int
ctx_open (struct inspect_ctx *x, bool size, struct cove_error **err)
{
  x->images = NULL;
  x->size = size;
  if (size && cove_cmd_enter_userns (err) < 0)
    return -1;
  if (cove_ctr_store_open (&x->paths, &x->st, err) < 0)
    return -1;
  /* Without the image store sizes lack the image's share: say nothing.  */
  if (size && cove_storage_open (&x->paths, &x->images, NULL) < 0)
    x->images = NULL;
  return 0;
}

static void
ctx_close (struct inspect_ctx *x)
{
  if (x->images)
    cove_storage_close (x->images);
  cove_ctr_store_close (&x->paths, &x->st);
}

/* The document of NAME, or NULL with *ERR (ENOENT: no such container).  */
static json_t *
inspect_one (struct inspect_ctx *x, const char *name, struct cove_error **err)
{
  struct cove_state_container c;
  if (cove_ctr_load (&x->st, name, &c, err) < 0)
    return NULL;
  json_t *doc = cove_ctr_inspect_json (&x->paths, &c, x->images, x->size);
  cove_state_container_free (&c);
  return doc;
}

int
cove_ctr_inspect_names (char *const *names, int n, bool size,
                        json_t **out_docs, struct cove_error **err)
{
  struct inspect_ctx x;
  if (ctx_open (&x, size, err) < 0)
    return -1;
  for (int i = 0; i < n; i++)
    {
      cleanup_error struct cove_error *local = NULL;
      out_docs[i] = inspect_one (&x, names[i], &local);
    }
  ctx_close (&x);
  return 0;
}

/* The id of the newest container (-l), or NULL with *ERR.  */
static char *
latest_id (struct inspect_ctx *x, struct cove_error **err)
{
  struct cove_state_container *all = NULL;
  size_t n = 0;
  cleanup_strv char **warnings = NULL;
  if (cove_state_list (&x->st, &all, &n, &warnings, err) < 0)
    return NULL;
  char *id = n ? xstrdup (all[n - 1].id) : NULL;
  cove_state_container_list_free (all, n);
  if (id == NULL)
    cove_error_set_plain (err, ENOENT, "no containers to inspect");
  return id;
}

static const struct cove_opt opts[] = {
  { "format", 'f', COVE_OPT_VALUE, CTR_QUERY_FORMAT, "string", "Format the output to a Go template or json" },
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for inspect" },
  { "latest", 'l', COVE_OPT_BOOL, CTR_QUERY_LATEST, NULL, "Act on the latest container cove is aware of" },
  { "size", 's', COVE_OPT_BOOL, CTR_QUERY_SIZE, NULL, "Display total file size" },
  { NULL, 0, 0, 0, NULL, NULL },
};

static const char inspect_usage[]
    = "cove container inspect [options] CONTAINER [CONTAINER...]";
static const char inspect_desc[] = "Display the configuration of a container";

/* Inspect NAMES (or the latest container) and print.  */
static int
inspect_containers (char **names, int n, const struct cove_ctr_query *r)
{
  cleanup_error struct cove_error *err = NULL;
  struct inspect_ctx x;
  if (ctx_open (&x, r->size, &err) < 0)
    return cove_cmd_fail (&err, 125);
  cleanup_free char *lid = r->latest ? latest_id (&x, &err) : NULL;
  if (r->latest && lid == NULL)
    {
      ctx_close (&x);
      return cove_cmd_fail (&err, 125);
    }
  json_t *docs = json_array ();
  int ret = 0;
  for (int i = 0; i < (r->latest ? 1 : n); i++)
    {
      const char *name = r->latest ? lid : names[i];
      json_t *doc = inspect_one (&x, name, &err);
      if (doc)
        json_array_append_new (docs, doc);
      else if (err->errnum == ENOENT)
        {
          /* podman's words.  */
          cove_error_release (&err);
          fprintf (stderr, "Error: inspecting object: no such container %s\n", name);
          ret = 125;
        }
      else
        ret = cove_cmd_fail (&err, 125);
    }
  ctx_close (&x);
  /* podman prints what it found, then fails for what it did not.  */
  int pr = cove_ctr_inspect_print (docs, r->format);
  json_decref (docs);
  return ret ? ret : pr;
}

int
cove_ctr_query_opt (int id, const char *v, void *ctx, struct cove_error **err)
{
  struct cove_ctr_query *q = ctx;
  (void) err;
  if (id == CTR_QUERY_FORMAT)
    q->format = v;
  else if (id == CTR_QUERY_LATEST)
    q->latest = strcmp (v, "true") == 0;
  else if (id == CTR_QUERY_SIZE)
    q->size = strcmp (v, "true") == 0;
  return 0;
}

int
cove_cmd_container_inspect (int argc, char **argv)
{
  struct cove_ctr_query r = { NULL, false, false };
  int n, status;
  cleanup_free char **rest = cove_ctr_parse (argc, argv, opts, inspect_usage,
                                             inspect_desc, cove_ctr_query_opt, &r,
                                             &n, &status);
  if (rest == NULL)
    return status;
  /* Either --latest or names.  */
  if (r.latest == (n > 0))
    return cove_cmd_usage_error (r.latest ? "--latest and containers cannot be used together"
                                          : "no names or ids specified");
  return inspect_containers (rest, n, &r);
}
