/* cove save: images to a docker-archive, an oci-archive or an OCI layout
   directory (cove-full).  Each layer is written back from its unpacked
   tree as a plain tar, so its digest is new: the config is rewritten with
   the new diff_ids (everything else kept), and the saved image's id is
   that config's digest.  */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/imgutil.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "cmd/cove/saveload.h"
#include "cmd/cove/store.h"
#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

enum { OPT_HELP = 1, OPT_OUTPUT, OPT_FORMAT, OPT_QUIET };

static const struct cove_opt save_opts[] = {
  { "format", 0, COVE_OPT_VALUE, OPT_FORMAT, "format", "Save image to oci-archive, oci-dir (directory with oci manifest type), docker-archive (default \"docker-archive\")" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for save" },
  { "output", 'o', COVE_OPT_VALUE, OPT_OUTPUT, "string", "Write to a specified file (default: stdout, which must be redirected)" },
  { "quiet", 'q', COVE_OPT_BOOL, OPT_QUIET, NULL, "Suppress the output" },
  { NULL, 0, 0, 0, NULL, NULL },
};

enum save_format { FMT_DOCKER, FMT_OCI_ARCHIVE, FMT_OCI_DIR };

struct save_job
{
  enum save_format format;
  const char *data_dir;
  struct cove_storage *s;
  struct sl_sink sink;
  json_t *top;          /* docker: manifest.json; oci: index.json manifests */
  /* Layers written already (shared by images saved together): chain id,
     the digest and size of the tar written for it.  */
  char **done_chains, **done_digests;
  int64_t *done_sizes;
};

/* Where blob DIGEST goes in the archive.  */
static char *
blob_name (const struct save_job *j, const char *digest, const char *ext)
{
  const char *hex = strchr (digest, ':') + 1;
  if (j->format == FMT_DOCKER)
    return xasprintf ("%s%s", hex, ext);
  return xasprintf ("blobs/sha256/%s", hex);
}

static void
remember_layer (struct save_job *j, const char *chain, const char *digest,
                int64_t size)
{
  size_t n = cove_strv_len (j->done_chains);
  cove_strv_append (&j->done_chains, chain);
  cove_strv_append (&j->done_digests, digest);
  j->done_sizes = xrealloc (j->done_sizes, (n + 1) * sizeof *j->done_sizes);
  j->done_sizes[n] = size;
}

/* Write the tar of layer CHAIN unless it was already; its digest and size
   go to *OUT_DIGEST and *OUT_SIZE.  */
static int
write_layer_tar (struct save_job *j, const char *chain, char **out_digest,
                 int64_t *out_size, struct cove_error **err)
{
  for (size_t i = 0; j->done_chains && j->done_chains[i]; i++)
    if (strcmp (j->done_chains[i], chain) == 0)
      {
        *out_digest = xstrdup (j->done_digests[i]);
        *out_size = j->done_sizes[i];
        return 0;
      }
  struct cove_storage_layer info;
  if (cove_storage_layer_info (j->s, chain, &info, err) < 0)
    return -1;
  cleanup_close int fd = cove_sl_layer_tar (j->data_dir, info.diff_path,
                                            out_digest, out_size, err);
  cove_storage_layer_free (&info);
  if (fd < 0)
    return -1;
  cleanup_free char *name = blob_name (j, *out_digest, ".tar");
  if (!cove_sl_sink_has (&j->sink, name)
      && cove_sl_sink_fd (&j->sink, name, fd, *out_size, err) < 0)
    return -1;
  remember_layer (j, chain, *out_digest, *out_size);
  return 0;
}


/* Write layer CHAIN; its descriptor (OCI) or file name (docker) is added
   to LAYERS, its new diff_id to DIFF_IDS.  */
static int
save_layer (struct save_job *j, const char *chain, json_t *layers,
            json_t *diff_ids, struct cove_error **err)
{
  cleanup_free char *digest = NULL;
  int64_t size = 0;
  if (write_layer_tar (j, chain, &digest, &size, err) < 0)
    return -1;
  cleanup_free char *name = blob_name (j, digest, ".tar");
  json_array_append_new (diff_ids, json_string (digest));
  if (j->format == FMT_DOCKER)
    json_array_append_new (layers, json_string (name));
  else
    json_array_append_new (layers, json_pack ("{s:s, s:s, s:I}",
                                              "mediaType", COVE_OCI_MT_LAYER,
                                              "digest", digest,
                                              "size", (json_int_t) size));
  return 0;
}

/* Add DOC (serialised) as a blob; *OUT_DIGEST and *OUT_SIZE describe it.  */
static int
save_json_blob (struct save_job *j, json_t *doc, const char *ext,
                char **out_digest, size_t *out_size, struct cove_error **err)
{
  cleanup_free char *data = json_dumps (doc, JSON_COMPACT);
  size_t len = strlen (data);
  *out_digest = cove_oci_digest_buffer (data, len);
  *out_size = len;
  cleanup_free char *name = blob_name (j, *out_digest, ext);
  if (cove_sl_sink_has (&j->sink, name))
    return 0;
  return cove_sl_sink_data (&j->sink, name, data, len, err);
}

static int
save_manifest (struct save_job *j, const char *config_digest,
               size_t config_size, json_t *layers, const char *name,
               struct cove_error **err)
{
  json_t *m = json_pack ("{s:i, s:s, s:{s:s, s:s, s:I}, s:O}",
                         "schemaVersion", 2, "mediaType", COVE_OCI_MT_MANIFEST,
                         "config", "mediaType", COVE_OCI_MT_CONFIG,
                         "digest", config_digest,
                         "size", (json_int_t) config_size, "layers", layers);
  cleanup_free char *digest = NULL;
  size_t size;
  int r = save_json_blob (j, m, "", &digest, &size, err);
  json_decref (m);
  if (r < 0)
    return -1;
  json_t *d = json_pack ("{s:s, s:s, s:I}", "mediaType", COVE_OCI_MT_MANIFEST,
                         "digest", digest, "size", (json_int_t) size);
  if (name != NULL)
    json_object_set_new (d, "annotations",
                         json_pack ("{s:s}",
                                    "org.opencontainers.image.ref.name",
                                    name));
  json_array_append_new (j->top, d);
  return 0;
}

/* The name IMG is saved under: the stored name USER asked for, else its
   first name, else none.  */
static const char *
pick_name (const struct cove_storage_image *img, const char *user)
{
  for (size_t i = 0; img->names && img->names[i]; i++)
    if (cove_img_name_matches (img->names[i], user))
      return img->names[i];
  return img->names ? img->names[0] : NULL;
}

static int
save_image_layers (struct save_job *j, const struct cove_storage_image *img,
                   json_t *config, json_t *layers, struct cove_error **err)
{
  json_t *diff_ids = json_array ();
  for (size_t i = 0; img->layers && img->layers[i]; i++)
    if (save_layer (j, img->layers[i], layers, diff_ids, err) < 0)
      {
        json_decref (diff_ids);
        return -1;
      }
  json_t *rootfs = json_pack ("{s:s, s:o}", "type", "layers",
                              "diff_ids", diff_ids);
  json_object_set_new (config, "rootfs", rootfs);
  return 0;
}

static int
save_image (struct save_job *j, const char *user, struct cove_error **err)
{
  struct cove_storage_image img;
  if (cove_img_find (j->s, user, &img, err) < 0)
    return -1;
  json_t *config = cove_img_config (j->s, &img, err);
  json_t *layers = json_array ();
  cleanup_free char *cdigest = NULL;
  size_t csize = 0;
  int ret = config ? 0 : -1;
  if (ret == 0)
    ret = save_image_layers (j, &img, config, layers, err);
  if (ret == 0)
    ret = save_json_blob (j, config, ".json", &cdigest, &csize, err);
  const char *name = pick_name (&img, user);
  if (ret == 0 && j->format != FMT_DOCKER)
    ret = save_manifest (j, cdigest, csize, layers, name, err);
  else if (ret == 0)
    {
      cleanup_free char *cname = blob_name (j, cdigest, ".json");
      json_t *tags = json_array ();
      if (name != NULL)
        json_array_append_new (tags, json_string (name));
      json_array_append_new (j->top, json_pack ("{s:s, s:o, s:O}",
                                                "Config", cname,
                                                "RepoTags", tags,
                                                "Layers", layers));
    }
  json_decref (layers);
  json_decref (config);
  cove_storage_image_free (&img);
  return ret;
}

static int
save_finish (struct save_job *j, struct cove_error **err)
{
  if (j->format == FMT_DOCKER)
    {
      cleanup_free char *data = json_dumps (j->top, JSON_COMPACT);
      return cove_sl_sink_data (&j->sink, "manifest.json", data,
                                strlen (data), err);
    }
  static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
  if (cove_sl_sink_data (&j->sink, "oci-layout", layout, strlen (layout),
                         err) < 0)
    return -1;
  json_t *index = json_pack ("{s:i, s:s, s:O}", "schemaVersion", 2,
                             "mediaType", COVE_OCI_MT_INDEX,
                             "manifests", j->top);
  cleanup_free char *data = json_dumps (index, JSON_COMPACT);
  json_decref (index);
  return cove_sl_sink_data (&j->sink, "index.json", data, strlen (data), err);
}

static int
open_sink (struct save_job *j, const char *output, int *out_fd,
           struct cove_error **err)
{
  if (j->format == FMT_OCI_DIR)
    return cove_sl_sink_open_dir (&j->sink, output, err);
  *out_fd = STDOUT_FILENO;
  if (output != NULL && strcmp (output, "-") != 0)
    {
      *out_fd = open (output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (*out_fd < 0)
        return cove_error_set (err, errno, "open `%s`", output);
    }
  return cove_sl_sink_open_fd (&j->sink, *out_fd, err);
}

static int
do_save (enum save_format format, const char *output, char **images, int n)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_storage_paths paths;
  struct cove_storage *s = NULL;
  if (cove_cmd_store_open (&paths, &s, &err) < 0)
    return cove_cmd_fail (&err, 125);
  struct save_job j = { .format = format, .data_dir = paths.data_dir,
                        .s = s, .sink = { .dirfd = -1, .fd = -1 },
                        .top = json_array () };
  int fd = -1;
  int ret = open_sink (&j, output, &fd, &err);
  /* Directories first, as podman writes them: tools that unpack the
     archive make missing parents owned by root, which fails unprivileged. */
  if (ret == 0 && format == FMT_OCI_ARCHIVE)
    ret = cove_sl_sink_dir (&j.sink, "blobs/", &err) < 0
      || cove_sl_sink_dir (&j.sink, "blobs/sha256/", &err) < 0 ? -1 : 0;
  for (int i = 0; ret == 0 && i < n; i++)
    ret = save_image (&j, images[i], &err);
  if (ret == 0)
    ret = save_finish (&j, &err);
  if (ret == 0)
    ret = cove_sl_sink_close (&j.sink, &err);
  else
    cove_sl_sink_abort (&j.sink);
  if (fd > STDOUT_FILENO && close (fd) < 0 && ret == 0)
    ret = cove_error_set (&err, errno, "close `%s`", output);
  if (ret < 0 && fd > STDOUT_FILENO)
    unlink (output);   /* no half-written archive */
  json_decref (j.top);
  cove_strv_free (j.done_chains);
  cove_strv_free (j.done_digests);
  free (j.done_sizes);
  cove_cmd_store_close (&paths, s);
  return ret < 0 ? cove_cmd_fail (&err, 125) : 0;
}

static int
parse_format (const char *v, enum save_format *out)
{
  if (strcmp (v, "docker-archive") == 0)
    *out = FMT_DOCKER;
  else if (strcmp (v, "oci-archive") == 0)
    *out = FMT_OCI_ARCHIVE;
  else if (strcmp (v, "oci-dir") == 0)
    *out = FMT_OCI_DIR;
  else
    return cove_cmd_usage_error ("format %s not supported: must be one of "
                                 "docker-archive, oci-archive, oci-dir", v);
  return 0;
}

static int
check_args (enum save_format format, const char *output, int n)
{
  if (n < 1)
    return cove_cmd_usage_error ("need at least 1 argument");
  if (format == FMT_OCI_DIR && output == NULL)
    return cove_cmd_usage_error ("--output is required for the oci-dir "
                                 "format");
  if (format != FMT_DOCKER && n > 1)
    return cove_cmd_usage_error ("--format %s does not support saving "
                                 "multiple images", format == FMT_OCI_DIR
                                 ? "oci-dir" : "oci-archive");
  if ((output == NULL || strcmp (output, "-") == 0) && isatty (STDOUT_FILENO))
    return cove_cmd_usage_error ("refusing to save to terminal. Use -o flag "
                                 "or redirect");
  return 0;
}

int
cove_cmd_save (int argc, char **argv)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, save_opts, argc, argv, true);
  const char *v, *output = NULL;
  enum save_format format = FMT_DOCKER;
  int id, bad = 0;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    {
      if (id == OPT_HELP)
        {
          cove_opts_print_help (stdout, "cove save [options] IMAGE [IMAGE...]",
                                "Save image(s) to an archive", save_opts);
          cove_opts_free (&p);
          return 0;
        }
      if (id == OPT_OUTPUT)
        output = v;
      else if (id == OPT_FORMAT && bad == 0)
        bad = parse_format (v, &format);
    }
  int n;
  cleanup_free char **rest = cove_opts_rest (&p, &n);
  int ret;
  if (id < 0)
    ret = cove_cmd_fail (&err, 125);
  else if (bad != 0)
    ret = bad;
  else if ((ret = check_args (format, output, n)) == 0)
    ret = do_save (format, output, rest, n);
  cove_opts_free (&p);
  return ret;
}
