/* containers-auth.json(5): credentials of `cove login`, in podman's file
   and, read-only, docker's.  The files are the user's own but may have
   been written by any tool: their JSON is checked like untrusted input.  */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkg/registry/config.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#define AUTH_FILE_MAX (1024 * 1024)
#define KEY_MAX 512

static const char b64chars[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
cove_registry_base64_encode (const void *data, size_t len)
{
  const unsigned char *in = data;
  char *out = xmalloc ((len + 2) / 3 * 4 + 1), *p = out;
  for (size_t i = 0; i < len; i += 3)
    {
      unsigned v = in[i] << 16;
      if (i + 1 < len)
        v |= in[i + 1] << 8;
      if (i + 2 < len)
        v |= in[i + 2];
      *p++ = b64chars[(v >> 18) & 63];
      *p++ = b64chars[(v >> 12) & 63];
      *p++ = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
      *p++ = i + 2 < len ? b64chars[v & 63] : '=';
    }
  *p = '\0';
  return out;
}

static int
b64_value (char c)
{
  const char *p = c ? strchr (b64chars, c) : NULL;
  return p ? (int) (p - b64chars) : -1;
}

char *
cove_registry_base64_decode (const char *s, size_t *out_len, struct cove_error **err)
{
  size_t n = strlen (s);
  if (n % 4 != 0)
    {
      cove_error_set (err, EINVAL, "invalid base64: length not a multiple of 4");
      return NULL;
    }
  size_t pad = n >= 1 && s[n - 1] == '=' ? (n >= 2 && s[n - 2] == '=' ? 2 : 1) : 0;
  cleanup_free char *out = xmalloc (n / 4 * 3 + 1);
  size_t o = 0;
  for (size_t i = 0; i < n; i += 4)
    {
      int v[4];
      for (size_t k = 0; k < 4; k++)
        {
          bool is_pad = i + k >= n - pad;
          v[k] = is_pad ? 0 : b64_value (s[i + k]);
          if (v[k] < 0)
            {
              cove_error_set (err, EINVAL, "invalid base64 character");
              return NULL;
            }
        }
      unsigned bits = v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3];
      out[o++] = bits >> 16;
      if (i + 4 < n || pad < 2)
        out[o++] = (bits >> 8) & 0xff;
      if (i + 4 < n || pad < 1)
        out[o++] = bits & 0xff;
      /* Bits past the end must be zero: one text per value.  */
      if (i + 4 == n && ((pad == 1 && (bits & 0xff)) || (pad == 2 && (bits & 0xffff))))
        {
          cove_error_set (err, EINVAL, "invalid base64: non-canonical padding");
          return NULL;
        }
    }
  out[o] = '\0';
  if (out_len)
    *out_len = o;
  return steal_pointer (&out);
}

/* A key as podman and docker write them, in cove's spelling: no scheme, no
   trailing slash, docker's "index.docker.io/v1" is docker.io.  */
static char *
normalize_key (const char *key)
{
  if (strncmp (key, "https://", 8) == 0)
    key += 8;
  else if (strncmp (key, "http://", 7) == 0)
    key += 7;
  char *k = xstrdup (key);
  size_t n = strlen (k);
  while (n > 0 && k[n - 1] == '/')
    k[--n] = '\0';
  const char *hubs[] = { "index.docker.io", "registry-1.docker.io", "docker.io" };
  for (size_t i = 0; i < 3; i++)
    {
      size_t h = strlen (hubs[i]);
      if (strncmp (k, hubs[i], h) == 0 && (k[h] == '\0' || k[h] == '/'))
        {
          /* docker's legacy key is "https://index.docker.io/v1/".  */
          const char *rest = strcmp (k + h, "/v1") == 0 ? "" : k + h;
          char *r = xasprintf ("docker.io%s", rest);
          free (k);
          return r;
        }
    }
  return k;
}

static bool
key_valid (const char *k)
{
  if (*k == '\0' || strlen (k) > KEY_MAX || *k == '/')
    return false;
  for (const char *p = k; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
          || strchr ("._-:/[]", *p)))
      return false;
  return true;
}

char *
cove_registry_auth_path (const char *authfile)
{
  if (authfile && *authfile)
    return xstrdup (authfile);
  const char *env = getenv ("REGISTRY_AUTH_FILE");
  if (env && *env)
    return xstrdup (env);
  const char *run = getenv ("XDG_RUNTIME_DIR");
  if (run && *run == '/')
    return xasprintf ("%s/containers/auth.json", run);
  return xasprintf ("/run/containers/%u/auth.json", (unsigned) getuid ());
}

/* PATH's JSON object, or NULL with *MISSING when the file does not exist.  */
static json_t *
read_auth_file (const char *path, bool *missing, struct cove_error **err)
{
  struct cove_error *e = NULL;
  size_t len = 0;
  *missing = false;
  cleanup_free char *data = cove_file_read_at (AT_FDCWD, path, AUTH_FILE_MAX, &len, &e);
  if (data == NULL && e->errnum == ENOENT)
    {
      cove_error_free (e);
      *missing = true;
      return NULL;
    }
  if (data == NULL)
    {
      if (err)
        *err = e;
      else
        cove_error_free (e);
      return NULL;
    }
  json_error_t jerr;
  json_t *root = json_loadb (data, len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL || !json_is_object (root))
    {
      json_decref (root);
      cove_error_set (err, EINVAL, "`%s`: not a JSON object%s%s", path,
                      root ? "" : ": ", root ? "" : jerr.text);
      return NULL;
    }
  json_t *auths = json_object_get (root, "auths");
  if (auths && !json_is_object (auths))
    {
      json_decref (root);
      cove_error_set (err, EINVAL, "`%s`: `auths` must be an object", path);
      return NULL;
    }
  return root;
}

void
cove_registry_credentials_clear (struct cove_registry_credentials *c)
{
  if (c == NULL)
    return;
  /* Secrets do not linger in freed memory.  */
  if (c->password)
    explicit_bzero (c->password, strlen (c->password));
  if (c->identity_token)
    explicit_bzero (c->identity_token, strlen (c->identity_token));
  free (c->username);
  free (c->password);
  free (c->identity_token);
  memset (c, 0, sizeof *c);
}

/* Returns 1 and fills OUT from ENTRY, 0 when it holds no credentials (an
   empty "auth", as docker writes with a credential store).  */
static int
decode_entry (json_t *entry, const char *key, struct cove_registry_credentials *out,
              struct cove_error **err)
{
  if (!json_is_object (entry))
    return cove_error_set (err, EINVAL, "auth entry `%.200s` must be an object", key);
  json_t *auth = json_object_get (entry, "auth");
  json_t *token = json_object_get (entry, "identitytoken");
  if ((auth && !json_is_string (auth)) || (token && !json_is_string (token)))
    return cove_error_set (err, EINVAL, "auth entry `%.200s`: values must be strings", key);
  if (auth == NULL || json_string_length (auth) == 0)
    return 0;
  size_t len = 0;
  cleanup_free char *plain = cove_registry_base64_decode (json_string_value (auth), &len, err);
  if (plain == NULL)
    return cove_error_wrap (err, "auth entry `%.200s`", key);
  char *colon = memchr (plain, ':', len);
  if (colon == NULL || colon == plain || strlen (plain) != len)
    {
      explicit_bzero (plain, len);
      return cove_error_set (err, EINVAL, "auth entry `%.200s`: not user:password", key);
    }
  out->username = xstrndup (plain, colon - plain);
  out->password = xstrdup (colon + 1);
  if (token && json_string_length (token) > 0)
    out->identity_token = xstrdup (json_string_value (token));
  explicit_bzero (plain, len);
  return 1;
}

/* The entry of AUTHS whose key, normalised, is KEY.  */
static json_t *
find_entry (json_t *auths, const char *key, const char **out_key)
{
  const char *k;
  json_t *v;
  json_object_foreach (auths, k, v)
    {
      cleanup_free char *nk = normalize_key (k);
      if (strcmp (nk, key) == 0)
        {
          if (out_key)
            *out_key = k;
          return v;
        }
    }
  return NULL;
}

static int
lookup_in (const char *path, const char *name, struct cove_registry_credentials *out,
           struct cove_error **err)
{
  bool missing;
  json_t *root = read_auth_file (path, &missing, err);
  if (root == NULL)
    return missing ? 0 : -1;
  json_t *auths = json_object_get (root, "auths");
  cleanup_free char *key = normalize_key (name);
  int r = 0;
  /* Most specific first: host/ns/repo, host/ns, host.  */
  while (auths && r == 0)
    {
      const char *k = NULL;
      json_t *entry = find_entry (auths, key, &k);
      if (entry && (r = decode_entry (entry, k, out, err)) < 0)
        cove_error_wrap (err, "`%s`", path);
      char *slash = strrchr (key, '/');
      if (slash == NULL)
        break;
      *slash = '\0';
    }
  json_decref (root);
  return r;
}

int
cove_registry_auth_lookup (const char *authfile, const char *name,
                           struct cove_registry_credentials *out, struct cove_error **err)
{
  const char *xdg = getenv ("XDG_CONFIG_HOME"), *home = getenv ("HOME");
  const char *docker = getenv ("DOCKER_CONFIG");
  cleanup_free char *primary = cove_registry_auth_path (authfile);
  cleanup_free char *config = NULL, *dockercfg = NULL;
  if (xdg && *xdg == '/')
    config = xasprintf ("%s/containers/auth.json", xdg);
  else if (home && *home == '/')
    config = xasprintf ("%s/.config/containers/auth.json", home);
  if (docker && *docker == '/')
    dockercfg = xasprintf ("%s/config.json", docker);
  else if (home && *home == '/')
    dockercfg = xasprintf ("%s/.docker/config.json", home);
  const char *paths[] = { primary, config, dockercfg };
  struct cove_registry_credentials c = { 0 };
  for (size_t i = 0; i < 3; i++)
    {
      if (paths[i] == NULL || (i > 0 && strcmp (paths[i], primary) == 0))
        continue;
      int r = lookup_in (paths[i], name, &c, err);
      if (r != 0)
        {
          *out = c;
          return r;
        }
    }
  return 0;
}

static int
write_auth_file (const char *path, json_t *root, struct cove_error **err)
{
  cleanup_free char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  if (slash && slash != dir)
    {
      *slash = '\0';
      if (cove_mkdir_p (dir, 0700, err) < 0)
        return -1;
    }
  cleanup_free char *text = json_dumps (root, JSON_INDENT (1));
  if (text == NULL)
    return cove_error_set (err, ENOMEM, "serialize `%s`", path);
  size_t len = strlen (text);
  text = xrealloc (text, len + 2);
  text[len] = '\n';
  int r = cove_file_write_atomic (path, text, len + 1, 0600, COVE_FILE_SYNC, err);
  explicit_bzero (text, len);
  return r;
}

/* The primary file's content (an empty object when missing) and its
   `auths` object, created when absent.  */
static json_t *
load_primary (const char *path, json_t **out_auths, struct cove_error **err)
{
  bool missing;
  json_t *root = read_auth_file (path, &missing, err);
  if (root == NULL && !missing)
    return NULL;
  if (root == NULL)
    root = json_object ();
  json_t *auths = json_object_get (root, "auths");
  if (auths == NULL)
    {
      auths = json_object ();
      json_object_set_new (root, "auths", auths);
    }
  *out_auths = auths;
  return root;
}

/* Delete every key of AUTHS that means KEY.  Returns how many.  */
static int
delete_key (json_t *auths, const char *key)
{
  int n = 0;
  const char *k;
  while (find_entry (auths, key, &k))
    {
      json_object_del (auths, k);
      n++;
    }
  return n;
}

int
cove_registry_auth_store (const char *authfile, const char *key, const char *username,
                          const char *password, struct cove_error **err)
{
  cleanup_free char *k = normalize_key (key);
  if (!key_valid (k))
    return cove_error_set (err, EINVAL, "invalid registry `%.200s`", key);
  if (*username == '\0' || strchr (username, ':'))
    return cove_error_set (err, EINVAL, "invalid username: empty or with `:`");
  if (*password == '\0')
    return cove_error_set (err, EINVAL, "empty password");
  cleanup_free char *path = cove_registry_auth_path (authfile);
  json_t *auths = NULL;
  json_t *root = load_primary (path, &auths, err);
  if (root == NULL)
    return -1;
  cleanup_free char *plain = xasprintf ("%s:%s", username, password);
  cleanup_free char *b64 = cove_registry_base64_encode (plain, strlen (plain));
  explicit_bzero (plain, strlen (plain));
  delete_key (auths, k);
  json_object_set_new (auths, k, json_pack ("{s:s}", "auth", b64));
  explicit_bzero (b64, strlen (b64));
  int r = write_auth_file (path, root, err);
  json_decref (root);
  return r;
}

int
cove_registry_auth_remove (const char *authfile, const char *key, struct cove_error **err)
{
  cleanup_free char *k = normalize_key (key);
  cleanup_free char *path = cove_registry_auth_path (authfile);
  json_t *auths = NULL;
  json_t *root = load_primary (path, &auths, err);
  if (root == NULL)
    return -1;
  int r;
  if (delete_key (auths, k) == 0)
    r = cove_error_set (err, ENOENT, "not logged in to %s", k);
  else
    r = write_auth_file (path, root, err);
  json_decref (root);
  return r;
}

int
cove_registry_auth_remove_all (const char *authfile, struct cove_error **err)
{
  cleanup_free char *path = cove_registry_auth_path (authfile);
  if (access (path, F_OK) < 0 && errno == ENOENT)
    return 0;
  json_t *auths = NULL;
  json_t *root = load_primary (path, &auths, err);
  if (root == NULL)
    return -1;
  json_object_set_new (root, "auths", json_object ());
  int r = write_auth_file (path, root, err);
  json_decref (root);
  return r;
}

int
cove_registry_auth_from_files (void *ctx, const char *registry,
                               char **out_user, char **out_password,
                               struct cove_error **err)
{
  const struct cove_registry_auth_source *src = ctx;
  cleanup_free char *name = src->repository
      ? xasprintf ("%s/%s", registry, src->repository) : xstrdup (registry);
  struct cove_registry_credentials cr = { 0 };
  int r = cove_registry_auth_lookup (src->authfile, name, &cr, err);
  if (r == 1)
    {
      *out_user = cr.username ? steal_pointer (&cr.username) : xstrdup ("");
      *out_password = cr.password ? steal_pointer (&cr.password) : xstrdup ("");
    }
  cove_registry_credentials_clear (&cr);
  return r;
}
