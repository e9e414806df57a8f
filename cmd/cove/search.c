/* cove search (in cove-full: it needs libcurl).  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/listing.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "pkg/registry/config.h"
#include "pkg/registry/registry.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

enum
{
  OPT_HELP = 1, OPT_LIMIT, OPT_FORMAT, OPT_NO_TRUNC, OPT_TLS_VERIFY,
  OPT_AUTHFILE, OPT_CREDS, OPT_CERT_DIR,
};

static const struct cove_opt search_opts[] = {
  { "authfile", 0, COVE_OPT_VALUE, OPT_AUTHFILE, "string", "Path of the authentication file" },
  { "cert-dir", 0, COVE_OPT_VALUE, OPT_CERT_DIR, "Pathname", "Use certificates at the specified path to access the registry" },
  { "creds", 0, COVE_OPT_VALUE, OPT_CREDS, "[username[:password]]", "Credentials (USERNAME:PASSWORD) to use for authenticating to a registry" },
  { "format", 0, COVE_OPT_VALUE, OPT_FORMAT, "string", "Change the output format to JSON or a Go template" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for search" },
  { "limit", 0, COVE_OPT_VALUE, OPT_LIMIT, "int", "Limit the number of results (default 25)" },
  { "no-trunc", 0, COVE_OPT_BOOL, OPT_NO_TRUNC, NULL, "Do not truncate the output" },
  { "tls-verify", 0, COVE_OPT_BOOL, OPT_TLS_VERIFY, NULL, "Require HTTPS and verify certificates when contacting registries" },
  { NULL, 0, 0, 0, NULL, NULL },
};

struct search_request
{
  const char *format, *authfile, *creds, *cert_dir;
  long limit;
  int tls_verify;
};

/* "registry/term": the registry to ask and the term (a new string).  */
static char *
split_term (const char *arg, char **out_term)
{
  const char *slash = strchr (arg, '/');
  if (slash && (memchr (arg, '.', slash - arg) || memchr (arg, ':', slash - arg)
                || (slash - arg == 9 && strncmp (arg, "localhost", 9) == 0)))
    {
      *out_term = xstrdup (slash + 1);
      return xstrndup (arg, slash - arg);
    }
  *out_term = xstrdup (arg);
  return NULL;
}

static int
query (const char *registry, const char *term, struct search_request *r,
       json_t *rows, struct cove_error **err)
{
  struct cove_registry_conf *conf = NULL;
  cleanup_error struct cove_error *ignored = NULL;
  if (cove_registry_conf_load (&conf, &ignored) < 0)
    conf = NULL;
  const struct cove_registry_entry *e = conf ? cove_registry_conf_lookup (conf, registry) : NULL;
  cleanup_free char *user = r->creds ? xstrdup (r->creds) : NULL;
  char *colon = user ? strchr (user, ':') : NULL;
  if (colon)
    *colon = '\0';
  struct cove_registry_auth_source source = { .authfile = r->authfile };
  struct cove_registry_options opts = {
    .tls_verify = r->tls_verify, .insecure = e && e->insecure,
    .username = user, .password = colon ? colon + 1 : (user ? "" : NULL),
    .auth_lookup = cove_registry_auth_from_files, .auth_ctx = &source,
    .cert_dir = r->cert_dir,
  };
  struct cove_registry_client *c = NULL;
  char **names = NULL;
  int ret = cove_registry_client_new (registry, &opts, &c, err);
  if (ret == 0)
    ret = cove_registry_search (c, term, (int) r->limit, &names, err);
  cove_registry_client_free (c);
  cove_registry_conf_free (conf);
  for (size_t i = 0; ret == 0 && names[i]; i++)
    if (strstr (names[i], term) && (long) json_array_size (rows) < r->limit)
      json_array_append_new (rows, json_pack ("{s:s, s:s+++, s:s, s:i, s:s, s:s, s:s}",
                                              "Index", registry, "Name", registry, "/",
                                              names[i], "", "Description", "",
                                              "Stars", 0, "Official", "",
                                              "Automated", "", "Tag", ""));
  cove_strv_free (names);
  return ret;
}

static int
search (const char *arg, struct search_request *r)
{
  cleanup_error struct cove_error *err = NULL;
  cleanup_free char *term = NULL;
  cleanup_free char *registry = split_term (arg, &term);
  json_t *rows = json_array ();
  int ret = 0;
  if (registry)
    ret = query (registry, term, r, rows, &err);
  else
    {
      /* A bare term: every registry of unqualified-search-registries.  */
      struct cove_registry_conf *conf = NULL;
      if (cove_registry_conf_load (&conf, &err) < 0)
        ret = -1;
      size_t n = conf ? cove_strv_len (conf->search) : 0;
      for (size_t i = 0; ret == 0 && i < (n ? n : 1); i++)
        ret = query (n ? conf->search[i] : "docker.io", term, r, rows, &err);
      cove_registry_conf_free (conf);
    }
  int pr = ret < 0 ? cove_cmd_fail (&err, 125)
                   : cove_listing_print (rows, rows, r->format,
                                         "table {{.Name}}\t{{.Description}}",
                                         NULL, false);
  json_decref (rows);
  return pr;
}

int
cove_cmd_search (int argc, char **argv)
{
  struct search_request r = { .limit = 25, .tls_verify = -1 };
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, search_opts, argc, argv, true);
  const char *v;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    switch (id)
      {
      case OPT_HELP:
        cove_opts_print_help (stdout, "cove search [options] TERM",
                              "Search a registry for an image", search_opts);
        cove_opts_free (&p);
        return 0;
      case OPT_FORMAT: r.format = v; break;
      case OPT_AUTHFILE: r.authfile = v; break;
      case OPT_CREDS: r.creds = v; break;
      case OPT_CERT_DIR: r.cert_dir = v; break;
      case OPT_TLS_VERIFY: r.tls_verify = strcmp (v, "true") == 0; break;
      case OPT_LIMIT:
        {
          char *end;
          errno = 0;
          r.limit = strtol (v, &end, 10);
          if (errno || *end || r.limit < 1 || r.limit > 100000)
            {
              cove_opts_free (&p);
              return cove_cmd_usage_error ("invalid --limit `%s`", v);
            }
        }
        break;
      default: break;
      }
  int n;
  cleanup_free char **rest = cove_opts_rest (&p, &n);
  cove_opts_free (&p);
  if (id < 0)
    return cove_cmd_fail (&err, 125);
  if (n != 1)
    return cove_cmd_usage_error ("`cove search` requires exactly one term");
  return search (rest[0], &r);
}
