/* cove push (in cove-full: it needs libcurl, libarchive and libcrypto).  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/imgutil.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "cmd/cove/store.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

enum
{
  OPT_HELP = 1, OPT_QUIET, OPT_TLS_VERIFY, OPT_CREDS, OPT_AUTHFILE,
  OPT_CERT_DIR, OPT_FORMAT, OPT_COMPRESSION, OPT_DIGESTFILE, OPT_REMOVE_SIGS,
};

static const struct cove_opt push_opts[] = {
  { "authfile", 0, COVE_OPT_VALUE, OPT_AUTHFILE, "string", "Path of the authentication file" },
  { "cert-dir", 0, COVE_OPT_VALUE, OPT_CERT_DIR, "Pathname", "Path to a directory containing TLS certificates and keys" },
  { "compression-format", 0, COVE_OPT_VALUE, OPT_COMPRESSION, "string", "compression format to use (gzip, zstd)" },
  { "creds", 0, COVE_OPT_VALUE, OPT_CREDS, "[username[:password]]", "Credentials (USERNAME:PASSWORD) to use for authenticating to a registry" },
  { "digestfile", 0, COVE_OPT_VALUE, OPT_DIGESTFILE, "string", "Write the digest of the pushed image to the specified file" },
  { "format", 'f', COVE_OPT_VALUE, OPT_FORMAT, "string", "Manifest type (oci, v2s2) to use in the destination (default is manifest type of source, with fallbacks)" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for push" },
  { "quiet", 'q', COVE_OPT_BOOL, OPT_QUIET, NULL, "Suppress output information when pushing images" },
  { "remove-signatures", 0, COVE_OPT_BOOL, OPT_REMOVE_SIGS, NULL, "Discard any pre-existing signatures in the image (cove keeps none)" },
  { "tls-verify", 0, COVE_OPT_BOOL, OPT_TLS_VERIFY, NULL, "Require HTTPS and verify certificates when contacting registries (default true)" },
  { NULL, 0, 0, 0, NULL, NULL },
};

struct push_request
{
  struct cove_storage_push_options opts;
  const char *digestfile;
};

static void
apply (struct push_request *r, int id, const char *v)
{
  switch (id)
    {
    case OPT_QUIET: r->opts.quiet = strcmp (v, "true") == 0; break;
    case OPT_TLS_VERIFY: r->opts.tls_verify = strcmp (v, "true") == 0; break;
    case OPT_CREDS: r->opts.creds = v; break;
    case OPT_AUTHFILE: r->opts.auth_file = v; break;
    case OPT_CERT_DIR: r->opts.cert_dir = v; break;
    case OPT_FORMAT: r->opts.format = v; break;
    case OPT_COMPRESSION: r->opts.compression = v; break;
    case OPT_DIGESTFILE: r->digestfile = v; break;
    default: break;   /* --remove-signatures: cove stores no signature */
    }
}

/* Without DEST, the image is pushed where its name says: the stored name
   USER means (so that "busybox" pushes "localhost:5000/busybox:latest").  */
static char *
default_dest (const struct cove_storage_image *img, const char *user)
{
  for (size_t i = 0; img->names && img->names[i]; i++)
    if (cove_img_name_matches (img->names[i], user))
      return xstrdup (img->names[i]);
  return xstrdup (user);
}

static int
do_push (struct push_request *r, const char *image, const char *dest)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_storage_paths paths;
  struct cove_storage *s = NULL;
  if (cove_cmd_store_open (&paths, &s, &err) < 0)
    return cove_cmd_fail (&err, 125);
  struct cove_storage_image img = { 0 };
  int ret = cove_img_find (s, image, &img, &err);
  cleanup_free char *to = ret == 0 && dest == NULL ? default_dest (&img, image) : NULL;
  cleanup_free char *digest = NULL;
  r->opts.progress = stderr;
  if (ret == 0)
    ret = cove_storage_push (s, &img, dest ? dest : to, &r->opts, &digest, &err);
  if (ret == 0 && r->digestfile)
    ret = cove_file_write_atomic (r->digestfile, digest, strlen (digest), 0644, 0,
                                  &err);
  cove_storage_image_free (&img);
  cove_cmd_store_close (&paths, s);
  return ret < 0 ? cove_cmd_fail (&err, 125) : 0;
}

int
cove_cmd_push (int argc, char **argv)
{
  struct push_request r = { .opts = { .tls_verify = -1 } };
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, push_opts, argc, argv, true);
  const char *v;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    {
      if (id == OPT_HELP)
        {
          cove_opts_print_help (stdout, "cove push [options] IMAGE [DESTINATION]",
                                "Push an image to a specified destination", push_opts);
          cove_opts_free (&p);
          return 0;
        }
      apply (&r, id, v);
    }
  int n;
  cleanup_free char **rest = cove_opts_rest (&p, &n);
  cove_opts_free (&p);
  if (id < 0)
    return cove_cmd_fail (&err, 125);
  if (n < 1 || n > 2)
    return cove_cmd_usage_error ("`cove push` requires one image and at most one destination");
  return do_push (&r, rest[0], n == 2 ? rest[1] : NULL);
}
