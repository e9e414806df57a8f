/* cove login and logout (in cove-full: they need libcurl).  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "pkg/registry/config.h"
#include "pkg/registry/registry.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

enum
{
  OPT_HELP = 1, OPT_USERNAME, OPT_PASSWORD, OPT_PASSWORD_STDIN, OPT_AUTHFILE,
  OPT_TLS_VERIFY, OPT_GET_LOGIN, OPT_ALL, OPT_CERT_DIR,
};

static const struct cove_opt login_opts[] = {
  { "authfile", 0, COVE_OPT_VALUE, OPT_AUTHFILE, "string", "path of the authentication file" },
  { "cert-dir", 0, COVE_OPT_VALUE, OPT_CERT_DIR, "Pathname", "Use certificates at the specified path to access the registry" },
  { "get-login", 0, COVE_OPT_BOOL, OPT_GET_LOGIN, NULL, "Return the current login user for the registry" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for login" },
  { "password", 'p', COVE_OPT_VALUE, OPT_PASSWORD, "string", "Password for registry" },
  { "password-stdin", 0, COVE_OPT_BOOL, OPT_PASSWORD_STDIN, NULL, "Take the password from stdin" },
  { "tls-verify", 0, COVE_OPT_BOOL, OPT_TLS_VERIFY, NULL, "Require HTTPS and verify certificates when contacting registries" },
  { "username", 'u', COVE_OPT_VALUE, OPT_USERNAME, "string", "Username for registry" },
  { NULL, 0, 0, 0, NULL, NULL },
};

struct login_request
{
  const char *username, *password, *authfile, *cert_dir;
  bool password_stdin, get_login;
  int tls_verify;
  char *read_password;   /* owned */
};

/* Read a line from FD (stdin), without its newline.  */
static char *
read_line (FILE *in)
{
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline (&line, &cap, in);
  if (n < 0)
    {
      free (line);
      return NULL;
    }
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    line[--n] = '\0';
  return line;
}

/* Prompt on the terminal, without echo for a secret.  */
static char *
prompt (const char *what, bool secret)
{
  fprintf (stderr, "%s: ", what);
  fflush (stderr);
  struct termios saved, quiet;
  bool tty = secret && tcgetattr (0, &saved) == 0;
  if (tty)
    {
      quiet = saved;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      tcsetattr (0, TCSAFLUSH, &quiet);
    }
  char *r = read_line (stdin);
  if (tty)
    {
      tcsetattr (0, TCSAFLUSH, &saved);
      fputc ('\n', stderr);
    }
  return r;
}

static const struct cove_registry_entry *
conf_entry (struct cove_registry_conf **conf, const char *registry)
{
  cleanup_error struct cove_error *ignored = NULL;
  if (*conf == NULL && cove_registry_conf_load (conf, &ignored) < 0)
    return NULL;
  return cove_registry_conf_lookup (*conf, registry);
}

static int
check_credentials (const char *registry, struct login_request *r,
                   struct cove_error **err)
{
  struct cove_registry_conf *conf = NULL;
  const struct cove_registry_entry *e = conf_entry (&conf, registry);
  struct cove_registry_options opts = {
    .tls_verify = r->tls_verify, .insecure = e && e->insecure,
    .username = r->username, .password = r->password,
    .cert_dir = r->cert_dir,
  };
  struct cove_registry_client *c = NULL;
  int ret = cove_registry_client_new (registry, &opts, &c, err);
  if (ret == 0)
    ret = cove_registry_login_check (c, err);
  cove_registry_client_free (c);
  cove_registry_conf_free (conf);
  return ret;
}

static int
do_login (const char *registry, struct login_request *r)
{
  cleanup_error struct cove_error *err = NULL;
  if (r->get_login)
    {
      struct cove_registry_credentials cred = { 0 };
      int found = cove_registry_auth_lookup (r->authfile, registry, &cred, &err);
      if (found < 0)
        return cove_cmd_fail (&err, 125);
      if (found == 0)
        return cove_cmd_usage_error ("not logged into %s", registry);
      printf ("%s\n", cred.username ? cred.username : "");
      cove_registry_credentials_clear (&cred);
      return 0;
    }
  if (r->password_stdin)
    {
      if (r->password)
        return cove_cmd_usage_error ("--password and --password-stdin are mutually exclusive");
      r->read_password = read_line (stdin);
      r->password = r->read_password ? r->read_password : "";
    }
  cleanup_free char *user = NULL;
  if (r->username == NULL)
    r->username = user = prompt ("Username", false);
  if (r->password == NULL && isatty (0))
    r->password = r->read_password = prompt ("Password", true);
  if (r->username == NULL || r->username[0] == '\0' || r->password == NULL)
    return cove_cmd_usage_error ("username and password are required: "
                                 "use --username and --password-stdin");
  if (check_credentials (registry, r, &err) < 0
      || cove_registry_auth_store (r->authfile, registry, r->username,
                                   r->password, &err) < 0)
    return cove_cmd_fail (&err, 125);
  printf ("Login Succeeded!\n");
  return 0;
}

int
cove_cmd_login (int argc, char **argv)
{
  struct login_request r = { .tls_verify = -1 };
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, login_opts, argc, argv, true);
  const char *v;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    switch (id)
      {
      case OPT_HELP:
        cove_opts_print_help (stdout, "cove login [options] REGISTRY",
                              "Log in to a container registry", login_opts);
        cove_opts_free (&p);
        return 0;
      case OPT_USERNAME: r.username = v; break;
      case OPT_PASSWORD: r.password = v; break;
      case OPT_PASSWORD_STDIN: r.password_stdin = strcmp (v, "true") == 0; break;
      case OPT_AUTHFILE: r.authfile = v; break;
      case OPT_CERT_DIR: r.cert_dir = v; break;
      case OPT_TLS_VERIFY: r.tls_verify = strcmp (v, "true") == 0; break;
      case OPT_GET_LOGIN: r.get_login = strcmp (v, "true") == 0; break;
      default: break;
      }
  int n;
  cleanup_free char **rest = cove_opts_rest (&p, &n);
  cove_opts_free (&p);
  if (id < 0)
    return cove_cmd_fail (&err, 125);
  if (n != 1)
    return cove_cmd_usage_error ("`cove login` requires exactly one registry");
  int ret = do_login (rest[0], &r);
  free (r.read_password);
  return ret;
}

static const struct cove_opt logout_opts[] = {
  { "all", 'a', COVE_OPT_BOOL, OPT_ALL, NULL, "Remove the cached credentials for all registries in the auth file" },
  { "authfile", 0, COVE_OPT_VALUE, OPT_AUTHFILE, "string", "path of the authentication file" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for logout" },
  { NULL, 0, 0, 0, NULL, NULL },
};

int
cove_cmd_logout (int argc, char **argv)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, logout_opts, argc, argv, true);
  const char *v, *authfile = NULL;
  bool all = false;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    if (id == OPT_HELP)
      {
        cove_opts_print_help (stdout, "cove logout [options] REGISTRY",
                              "Log out of a container registry", logout_opts);
        cove_opts_free (&p);
        return 0;
      }
    else if (id == OPT_AUTHFILE)
      authfile = v;
    else if (id == OPT_ALL)
      all = strcmp (v, "true") == 0;
  int n;
  cleanup_free char **rest = cove_opts_rest (&p, &n);
  cove_opts_free (&p);
  if (id < 0)
    return cove_cmd_fail (&err, 125);
  if (all ? n != 0 : n != 1)
    return cove_cmd_usage_error (all ? "--all takes no registry"
                                     : "`cove logout` requires exactly one registry");
  if (all ? cove_registry_auth_remove_all (authfile, &err) < 0
          : cove_registry_auth_remove (authfile, rest[0], &err) < 0)
    return cove_cmd_fail (&err, 125);
  if (all)
    printf ("Removed login credentials for all registries\n");
  else
    printf ("Removed login credentials for %s\n", rest[0]);
  return 0;
}
