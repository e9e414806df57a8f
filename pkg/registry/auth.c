/* Registry authentication: anonymous, basic, and bearer tokens got from the
   realm a 401's WWW-Authenticate names, cached per (registry, scope) for
   the life of the client (one command).  */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/registry/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

static char *
scope_of (const char *repo)
{
  /* A "registry:..." pseudo repository is a whole scope already (the
     catalog's "registry:catalog:*").  */
  if (repo && strncmp (repo, "registry:", 9) == 0)
    return xstrdup (repo);
  /* A push names its scope whole: "repository:REPO:pull,push".  */
  if (repo && strncmp (repo, "repository:", 11) == 0)
    return xstrdup (repo);
  return repo ? xasprintf ("repository:%s:pull", repo) : xstrdup ("");
}

static struct registry_token *
find_token (struct cove_registry_client *c, const char *scope)
{
  for (size_t i = 0; i < c->n_tokens; i++)
    if (strcmp (c->tokens[i].scope, scope) == 0)
      return &c->tokens[i];
  return NULL;
}

static void
store_token (struct cove_registry_client *c, const char *scope, char *header)
{
  struct registry_token *t = find_token (c, scope);
  if (t == NULL)
    {
      c->tokens = xrealloc (c->tokens, (c->n_tokens + 1) * sizeof *c->tokens);
      t = &c->tokens[c->n_tokens++];
      t->scope = xstrdup (scope);
      t->header = NULL;
    }
  free (t->header);
  t->header = header;
}

const char *
registry_auth_header (struct cove_registry_client *c, const char *repo)
{
  cleanup_free char *scope = scope_of (repo);
  struct registry_token *t = find_token (c, scope);
  if (t)
    return t->header;
  return c->basic_header;
}

/* The user's credentials for C's registry, looked up once.  */
static int
credentials (struct cove_registry_client *c, struct cove_error **err)
{
  if (c->creds_known)
    return c->user != NULL;
  c->creds_known = true;
  if (c->auth_lookup == NULL)
    return 0;
  int r = c->auth_lookup (c->auth_ctx, c->registry, &c->user, &c->password, err);
  if (r < 0)
    return cove_error_wrap (err, "looking up credentials for %s", c->registry);
  if (r == 0 || c->user == NULL)
    {
      free (c->user);
      free (c->password);
      c->user = c->password = NULL;
      return 0;
    }
  if (c->password == NULL)
    c->password = xstrdup ("");
  return 1;
}

static char *
basic_header (struct cove_registry_client *c)
{
  cleanup_free char *pair = xasprintf ("%s:%s", c->user, c->password);
  cleanup_free char *b64 = registry_base64 (pair, strlen (pair));
  return xasprintf ("Authorization: Basic %s", b64);
}

/* GET a token for SCOPE (our cache key) from the bearer challenge CH.  */
static int
bearer (struct cove_registry_client *c, const struct cove_registry_challenge *ch,
        const char *scope, struct cove_error **err)
{
  if (ch->realm == NULL)
    return cove_error_set (err, EIO, "bearer challenge of %s without a realm", c->registry);
  int have = credentials (c, err);
  if (have < 0)
    return -1;
  const char *ask = ch->scope ? ch->scope : (scope[0] ? scope : NULL);
  cleanup_free char *url = cove_registry_token_url (ch->realm, ch->service, ask);
  if (url == NULL)
    return cove_error_set (err, EIO, "bearer challenge of %s: invalid realm", c->registry);
  cleanup_free char *basic = have ? basic_header (c) : NULL;
  cleanup_free char *token = NULL;
  if (registry_token_get (c, url, basic, &token, err) < 0)
    return -1;
  store_token (c, scope, xasprintf ("Authorization: Bearer %s", token));
  return 0;
}

int
registry_prepare_auth (struct cove_registry_client *c, const char *repo,
                       struct cove_error **err)
{
  if (c->challenge.scheme == NULL)
    return 0;
  cleanup_free char *scope = scope_of (repo);
  if (strcmp (c->challenge.scheme, "bearer") == 0)
    {
      /* The ping's challenge names the realm: ask for this repository's
         token now rather than after a 401.  */
      if (repo == NULL || find_token (c, scope))
        return 0;
      struct cove_registry_challenge ch = c->challenge;
      ch.scope = NULL;
      return bearer (c, &ch, scope, err);
    }
  if (strcmp (c->challenge.scheme, "basic") == 0 && c->basic_header == NULL)
    {
      int have = credentials (c, err);
      if (have < 0)
        return -1;
      if (have)
        c->basic_header = basic_header (c);
    }
  return 0;
}

int
registry_authenticate (struct cove_registry_client *c, const char *repo,
                       const char *www_auth, struct cove_error **err)
{
  if (www_auth == NULL)
    return 0;
  struct cove_registry_challenge ch = { 0 };
  if (cove_registry_challenge_parse (www_auth, &ch, err) < 0)
    return cove_error_wrap (err, "authenticating to %s", c->registry);
  cleanup_free char *scope = scope_of (repo);
  int ret = 0;
  if (strcmp (ch.scheme, "bearer") == 0)
    ret = bearer (c, &ch, scope, err) < 0 ? -1 : 1;
  else if (strcmp (ch.scheme, "basic") == 0 && c->basic_header == NULL)
    {
      int have = credentials (c, err);
      if (have > 0)
        c->basic_header = basic_header (c);
      ret = have;
    }
  cove_registry_challenge_free (&ch);
  return ret;
}
