/* cove import: a root filesystem tarball (plain or gzip) becomes a
   one-layer image (cove-full).  The tarball is untrusted: the store
   unpacks it with cove_archive_apply's rules.  */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/imgchange.h"
#include "cmd/cove/imgutil.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "cmd/cove/saveload.h"
#include "cmd/cove/store.h"
#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

enum { OPT_HELP = 1, OPT_CHANGE, OPT_MESSAGE, OPT_QUIET };

static const struct cove_opt import_opts[] = {
  { "change", 'c', COVE_OPT_VALUE, OPT_CHANGE, "Change", "Apply the following possible instructions to the created image (default []): CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | STOPSIGNAL | USER | VOLUME | WORKDIR" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for import" },
  { "message", 'm', COVE_OPT_VALUE, OPT_MESSAGE, "string", "Set commit message for imported image" },
  { "quiet", 'q', COVE_OPT_BOOL, OPT_QUIET, NULL, "Suppress output" },
  { NULL, 0, 0, 0, NULL, NULL },
};

struct import_request
{
  char **changes;
  const char *message;
  bool quiet;
  json_t *config;    /* the changes, as config keys */
};

/* ---- the image ---- */

/* The "config" object of the changes, checked before anything is
   unpacked.  */
static json_t *
changes_config (const struct import_request *r, struct cove_error **err)
{
  json_t *cfg = json_object ();
  for (size_t i = 0; r->changes && r->changes[i]; i++)
    if (cove_img_change_apply (cfg, r->changes[i], err) < 0)
      {
        json_decref (cfg);
        return NULL;
      }
  return cfg;
}

/* The config of the imported image: the host's platform, the layer, a
   history entry, and the changes.  */
static json_t *
make_config (const struct import_request *r, const char *diff_id)
{
  char created[32];
  time_t now = time (NULL);
  struct tm tm;
  strftime (created, sizeof created, "%Y-%m-%dT%H:%M:%SZ",
            gmtime_r (&now, &tm));
  json_t *cfg = json_incref (r->config);
  cleanup_free char *by = xasprintf ("/bin/sh -c #(nop) ADD file:%s in / ",
                                     strchr (diff_id, ':') + 1);
  json_t *hist = json_pack ("{s:s, s:s}", "created", created,
                            "created_by", by);
  if (r->message != NULL)
    json_object_set_new (hist, "comment", json_string (r->message));
  return json_pack ("{s:s, s:s, s:s, s:o, s:{s:s, s:[s]}, s:[o]}",
                    "created", created, "architecture", COVE_ARCH,
                    "os", "linux", "config", cfg,
                    "rootfs", "type", "layers", "diff_ids", diff_id,
                    "history", hist);
}

/* Unpack SOURCE ("-": stdin) and record the image; *OUT_ID its id.  */
static int
import_image (struct cove_storage *s, const struct import_request *r,
              const char *source, const char *name, char **out_id,
              struct cove_error **err)
{
  cleanup_close int fd = strcmp (source, "-") == 0
    ? dup (STDIN_FILENO) : open (source, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno, "open `%s`", source);
  cleanup_free struct cove_fd_source *rd = xmalloc (sizeof *rd);
  rd->fd = fd;
  rd->what = "the tarball";
  cleanup_free char *diff_id = NULL;
  cleanup_free char *chain = NULL;
  if (cove_storage_layer_import (s, NULL, cove_fd_source_read, rd, &diff_id, &chain,
                                 err) < 0)
    return cove_error_wrap (err, "import `%s`", source);
  json_t *cfg = make_config (r, diff_id);
  cleanup_free char *data = json_dumps (cfg, JSON_COMPACT);
  json_decref (cfg);
  cleanup_free char *digest = cove_oci_digest_buffer (data, strlen (data));
  if (cove_storage_blob_put (s, digest, data, strlen (data), err) < 0)
    return -1;
  char *layers[] = { chain, NULL };
  struct cove_storage_image img = { .id = strchr (digest, ':') + 1,
                                    .config_digest = digest,
                                    .layers = layers };
  if (cove_storage_image_add (s, &img, name, err) < 0)
    return -1;
  if (!r->quiet)
    fprintf (stderr, "Getting image source signatures\n"
             "Copying blob %.12s done\nCopying config %.10s done\n"
             "Writing manifest to image destination\n",
             strchr (diff_id, ':') + 1, img.id);
  *out_id = xstrdup (img.id);
  return 0;
}

static int
do_import (struct import_request *r, const char *source, const char *name)
{
  cleanup_error struct cove_error *err = NULL;
  r->config = changes_config (r, &err);
  if (r->config == NULL)
    return cove_cmd_fail (&err, 125);
  cleanup_free char *tag = NULL;
  if (name != NULL && (tag = cove_img_normalize_tag (name, &err)) == NULL)
    return cove_cmd_fail (&err, 125);
  if (strcmp (source, "-") == 0 && isatty (STDIN_FILENO))
    return cove_cmd_usage_error ("cannot read from terminal, use command-line redirection");
  struct cove_storage_paths paths;
  struct cove_storage *s = NULL;
  if (cove_cmd_store_open (&paths, &s, &err) < 0)
    return cove_cmd_fail (&err, 125);
  cleanup_free char *id = NULL;
  int ret = import_image (s, r, source, tag, &id, &err);
  cove_cmd_store_close (&paths, s);
  if (ret < 0)
    return cove_cmd_fail (&err, 125);
  printf ("%s\n", id);
  return fflush (stdout) == 0 ? 0 : 125;
}

int
cove_cmd_import (int argc, char **argv)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, import_opts, argc, argv, true);
  struct import_request r = { 0 };
  const char *v;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    {
      if (id == OPT_HELP)
        {
          cove_opts_print_help (stdout, "cove import [options] PATH [REFERENCE]",
                                "Import a tarball to create a filesystem image",
                                import_opts);
          cove_opts_free (&p);
          cove_strv_free (r.changes);
          return 0;
        }
      if (id == OPT_CHANGE)
        cove_strv_append (&r.changes, v);
      else if (id == OPT_MESSAGE)
        r.message = v;
      else if (id == OPT_QUIET)
        r.quiet = strcmp (v, "true") == 0;
    }
  int n;
  cleanup_free char **rest = cove_opts_rest (&p, &n);
  int ret;
  if (id < 0)
    ret = cove_cmd_fail (&err, 125);
  else if (n < 1 || n > 2)
    ret = cove_cmd_usage_error ("`cove import` requires a tarball and an "
                                "optional image name");
  else
    ret = do_import (&r, rest[0], n == 2 ? rest[1] : NULL);
  cove_opts_free (&p);
  cove_strv_free (r.changes);
  json_decref (r.config);
  return ret;
}
