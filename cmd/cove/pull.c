/* cove pull (in cove-full: it needs libcurl, libarchive and libcrypto).  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "cmd/cove/store.h"
#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

enum
{
  OPT_HELP = 1, OPT_QUIET, OPT_PLATFORM, OPT_OS, OPT_ARCH, OPT_VARIANT,
  OPT_TLS_VERIFY, OPT_CREDS, OPT_AUTHFILE, OPT_CERT_DIR,
};

static const struct cove_opt pull_opts[] = {
  { "arch", 0, COVE_OPT_VALUE, OPT_ARCH, "ARCH", "Use ARCH instead of the architecture of the machine for choosing images" },
  { "authfile", 0, COVE_OPT_VALUE, OPT_AUTHFILE, "string", "Path of the authentication file" },
  { "cert-dir", 0, COVE_OPT_VALUE, OPT_CERT_DIR, "Pathname", "Use certificates at the specified path to access the registry" },
  { "creds", 0, COVE_OPT_VALUE, OPT_CREDS, "[username[:password]]", "Credentials (USERNAME:PASSWORD) to use for authenticating to a registry" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for pull" },
  { "os", 0, COVE_OPT_VALUE, OPT_OS, "OS", "Use OS instead of the running OS for choosing images" },
  { "platform", 0, COVE_OPT_VALUE, OPT_PLATFORM, "string", "Specify the platform for selecting the image (os/arch[/variant])" },
  { "quiet", 'q', COVE_OPT_BOOL, OPT_QUIET, NULL, "Suppress output information when pulling images" },
  { "tls-verify", 0, COVE_OPT_BOOL, OPT_TLS_VERIFY, NULL, "Require HTTPS and verify certificates when contacting registries (default true)" },
  { "variant", 0, COVE_OPT_VALUE, OPT_VARIANT, "VARIANT", "Use VARIANT instead of the running architecture variant for choosing images" },
  { NULL, 0, 0, 0, NULL, NULL },
};

struct pull_request
{
  struct cove_storage_pull_options opts;
  char *os, *arch, *variant;   /* owned, from --platform */
};

static int
apply (struct pull_request *r, int id, const char *v, struct cove_error **err)
{
  switch (id)
    {
    case OPT_QUIET: r->opts.quiet = strcmp (v, "true") == 0; return 0;
    case OPT_TLS_VERIFY: r->opts.tls_verify = strcmp (v, "true") == 0; return 0;
    case OPT_CREDS: r->opts.creds = v; return 0;
    case OPT_AUTHFILE: r->opts.auth_file = v; return 0;
    case OPT_CERT_DIR: r->opts.cert_dir = v; return 0;
    case OPT_OS: free (r->os); r->os = xstrdup (v); return 0;
    case OPT_ARCH: free (r->arch); r->arch = xstrdup (v); return 0;
    case OPT_VARIANT: free (r->variant); r->variant = xstrdup (v); return 0;
    case OPT_PLATFORM:
      free (r->os);
      free (r->arch);
      free (r->variant);
      r->os = r->arch = r->variant = NULL;
      return cove_oci_platform_parse (v, &r->os, &r->arch, &r->variant, err);
    default: return 0;
    }
}

static void
request_free (struct pull_request *r)
{
  free (r->os);
  free (r->arch);
  free (r->variant);
}

static int
do_pull (struct pull_request *r, const char *ref)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_storage_paths paths;
  struct cove_storage *s = NULL;
  if (cove_cmd_store_open (&paths, &s, &err) < 0)
    return cove_cmd_fail (&err, 125);
  r->opts.os = r->os;
  r->opts.arch = r->arch;
  r->opts.variant = r->variant;
  r->opts.progress = stderr;
  cleanup_free char *id = NULL;
  int ret = cove_storage_pull (s, ref, &r->opts, &id, &err);
  cove_cmd_store_close (&paths, s);
  if (ret < 0)
    return cove_cmd_fail (&err, 125);
  printf ("%s\n", id);
  return fflush (stdout) == 0 ? 0 : 125;
}

int
cove_cmd_pull (int argc, char **argv)
{
  struct pull_request r = { .opts = { .tls_verify = -1 } };
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, pull_opts, argc, argv, true);
  const char *v;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    {
      if (id == OPT_HELP)
        {
          cove_opts_print_help (stdout, "cove pull [options] IMAGE",
                                "Pull an image from a registry", pull_opts);
          cove_opts_free (&p);
          request_free (&r);
          return 0;
        }
      if (apply (&r, id, v, &err) < 0)
        {
          id = -1;
          break;
        }
    }
  int n;
  cleanup_free char **rest = cove_opts_rest (&p, &n);
  cove_opts_free (&p);
  int ret;
  if (id < 0)
    ret = cove_cmd_fail (&err, 125);
  else if (n != 1)
    ret = cove_cmd_usage_error ("`cove pull` requires exactly one image");
  else
    ret = do_pull (&r, rest[0]);
  request_free (&r);
  return ret;
}
