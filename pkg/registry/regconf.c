/* containers-registries.conf(5), version 2 (and version 1's three tables):
   the model built from the TOML tree, and the resolution of references
   through it (short names, aliases, prefixes, mirrors).  The file decides
   which hosts cove trusts and talks to in clear text: every key is checked
   and unknown ones are refused.  */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/registry/config.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/json.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#define CONF_MAX (1024 * 1024)
#define SYSTEM_CONF "/etc/containers/registries.conf"
/* At most this many [[registry]] tables, mirrors per table, aliases.  */
#define ENTRIES_MAX 10000

static int
check_keys (json_t *obj, const char *const *allowed, const char *where,
            struct cove_error **err)
{
  const char *k;
  json_t *v;
  json_object_foreach (obj, k, v)
    {
      size_t i;
      for (i = 0; allowed[i]; i++)
        if (strcmp (k, allowed[i]) == 0)
          break;
      if (allowed[i] == NULL)
        return cove_error_set (err, EINVAL, "%s: unknown key `%.100s`", where, k);
    }
  return 0;
}

static int
get_bool (json_t *obj, const char *key, const char *where, bool *out,
          struct cove_error **err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_boolean (v))
    return cove_error_set (err, EINVAL, "%s: `%s` must be true or false", where, key);
  *out = json_is_true (v);
  return 0;
}

static int
get_strv (json_t *obj, const char *key, const char *where, char ***out,
          struct cove_error **err)
{
  json_t *v = json_object_get (obj, key), *e;
  size_t i;
  if (v == NULL)
    return 0;
  if (!json_is_array (v))
    return cove_error_set (err, EINVAL, "%s: `%s` must be an array of strings", where, key);
  json_array_foreach (v, i, e)
    if (!json_is_string (e))
      return cove_error_set (err, EINVAL, "%s: `%s` must be an array of strings", where, key);
  cove_strv_free (*out);
  *out = xmalloc0 ((json_array_size (v) + 1) * sizeof (char *));
  json_array_foreach (v, i, e)
    (*out)[i] = xstrdup (json_string_value (e));
  return 0;
}

/* "host[:port][/path]" as registries.conf writes locations and prefixes:
   trailing slashes dropped, no scheme, host and path checked with the
   reference grammar.  The path keeps its spelling (no "library/"): the man
   page says prefix "docker.io/alpine" is not docker.io/library/alpine.  */
static char *
normalize_location (const char *s, const char *what, struct cove_error **err)
{
  cleanup_free char *t = xstrdup (s);
  size_t n = strlen (t);
  while (n > 0 && t[n - 1] == '/')
    t[--n] = '\0';
  if (n == 0)
    {
      cove_error_set (err, EINVAL, "%s: empty", what);
      return NULL;
    }
  if (strstr (t, "://"))
    {
      cove_error_set (err, EINVAL, "%s `%.200s`: URI schemes are not supported", what, t);
      return NULL;
    }
  char *slash = strchr (t, '/');
  cleanup_free char *probe = slash ? xstrdup (t) : xasprintf ("%s/x", t);
  struct cove_oci_ref ref = { 0 };
  if (cove_oci_ref_parse (probe, &ref, err) < 0)
    {
      cove_error_wrap (err, "%s `%.200s`", what, t);
      return NULL;
    }
  bool bad = ref.registry == NULL || ref.tag || ref.digest;
  char *r = bad ? NULL : xasprintf ("%s%s", ref.registry, slash ? slash : "");
  cove_oci_ref_free (&ref);
  if (bad)
    cove_error_set (err, EINVAL,
                    "%s `%.200s`: expected host[:port][/path] without tag or digest", what, t);
  return r;
}

/* "*.example.com": a wildcard over the hosts of a domain.  */
static bool
is_wildcard (const char *prefix)
{
  return strncmp (prefix, "*.", 2) == 0;
}

static char *
normalize_prefix (const char *s, struct cove_error **err)
{
  if (!is_wildcard (s))
    return normalize_location (s, "prefix", err);
  cleanup_free char *host = normalize_location (s + 2, "prefix", err);
  if (host == NULL)
    return NULL;
  if (strchr (host, '/') || strchr (host, ':'))
    {
      cove_error_set (err, EINVAL, "prefix `%.200s`: a wildcard prefix is a domain only", s);
      return NULL;
    }
  return xasprintf ("*.%s", host);
}

static int
parse_mirror (json_t *j, const char *where, struct cove_registry_mirror *m,
              struct cove_error **err)
{
  static const char *const keys[] = { "location", "insecure", "pull-from-mirror", NULL };
  const char *loc, *use;
  if (!json_is_object (j))
    return cove_error_set (err, EINVAL, "%s: must be a table", where);
  if (check_keys (j, keys, where, err) < 0
      || cove_json_opt_string (j, "location", where, &loc, err) < 0
      || cove_json_opt_string (j, "pull-from-mirror", where, &use, err) < 0
      || get_bool (j, "insecure", where, &m->insecure, err) < 0)
    return -1;
  if (loc == NULL)
    return cove_error_set (err, EINVAL, "%s: `location` is missing", where);
  if (use == NULL || *use == '\0' || strcmp (use, "all") == 0)
    m->use = COVE_REGISTRY_MIRROR_ALL;
  else if (strcmp (use, "digest-only") == 0)
    m->use = COVE_REGISTRY_MIRROR_DIGEST_ONLY;
  else if (strcmp (use, "tag-only") == 0)
    m->use = COVE_REGISTRY_MIRROR_TAG_ONLY;
  else
    return cove_error_set (err, EINVAL, "%s: invalid pull-from-mirror `%.100s`", where, use);
  m->location = normalize_location (loc, where, err);
  return m->location ? 0 : -1;
}

static int
parse_mirrors (json_t *j, const char *where, struct cove_registry_entry *e,
               bool by_digest_only, struct cove_error **err)
{
  json_t *arr = json_object_get (j, "mirror");
  if (arr == NULL)
    return 0;
  if (!json_is_array (arr) || json_array_size (arr) > ENTRIES_MAX)
    return cove_error_set (err, EINVAL, "%s: `mirror` must be an array of tables", where);
  e->mirrors = xmalloc0 ((json_array_size (arr) + 1) * sizeof *e->mirrors);
  for (size_t i = 0; i < json_array_size (arr); i++)
    {
      char mwhere[128];
      snprintf (mwhere, sizeof mwhere, "%s.mirror[%zu]", where, i);
      struct cove_registry_mirror *m = &e->mirrors[e->n_mirrors++];
      if (parse_mirror (json_array_get (arr, i), mwhere, m, err) < 0)
        return -1;
      if (by_digest_only && m->use == COVE_REGISTRY_MIRROR_TAG_ONLY)
        return cove_error_set (err, EINVAL,
                               "%s: pull-from-mirror tag-only contradicts mirror-by-digest-only",
                               mwhere);
      if (by_digest_only)
        m->use = COVE_REGISTRY_MIRROR_DIGEST_ONLY;
    }
  return 0;
}

static int
parse_entry (json_t *j, const char *where, struct cove_registry_entry *e,
             struct cove_error **err)
{
  static const char *const keys[] = { "prefix", "location", "insecure", "blocked",
                                      "mirror", "mirror-by-digest-only", NULL };
  const char *prefix, *loc;
  bool by_digest_only = false;
  if (!json_is_object (j))
    return cove_error_set (err, EINVAL, "%s: must be a table", where);
  if (check_keys (j, keys, where, err) < 0
      || cove_json_opt_string (j, "prefix", where, &prefix, err) < 0
      || cove_json_opt_string (j, "location", where, &loc, err) < 0
      || get_bool (j, "insecure", where, &e->insecure, err) < 0
      || get_bool (j, "blocked", where, &e->blocked, err) < 0
      || get_bool (j, "mirror-by-digest-only", where, &by_digest_only, err) < 0)
    return -1;
  if (loc && *loc == '\0')
    loc = NULL;
  if ((prefix == NULL || *prefix == '\0') && loc == NULL)
    return cove_error_set (err, EINVAL, "%s: neither `prefix` nor `location` is set", where);
  if (loc && (e->location = normalize_location (loc, "location", err)) == NULL)
    return cove_error_wrap (err, "%s", where);
  if (prefix && *prefix)
    e->prefix = normalize_prefix (prefix, err);
  else
    e->prefix = xstrdup (e->location);
  if (e->prefix == NULL)
    return cove_error_wrap (err, "%s", where);
  if (e->location == NULL && !is_wildcard (e->prefix))
    e->location = xstrdup (e->prefix);
  return parse_mirrors (j, where, e, by_digest_only, err);
}

static int
parse_registries (json_t *arr, struct cove_registry_conf *c, struct cove_error **err)
{
  if (!json_is_array (arr) || json_array_size (arr) > ENTRIES_MAX)
    return cove_error_set (err, EINVAL, "`registry` must be an array of tables ([[registry]])");
  c->registries = xmalloc0 ((json_array_size (arr) + 1) * sizeof *c->registries);
  for (size_t i = 0; i < json_array_size (arr); i++)
    {
      char where[64];
      snprintf (where, sizeof where, "registry[%zu]", i);
      struct cove_registry_entry *e = &c->registries[c->n_registries++];
      if (parse_entry (json_array_get (arr, i), where, e, err) < 0)
        return -1;
      for (size_t k = 0; k < i; k++)
        if (strcmp (c->registries[k].prefix, e->prefix) == 0)
          return cove_error_set (err, EINVAL, "%s: prefix `%s` is defined twice", where,
                                 e->prefix);
    }
  return 0;
}

static int
parse_alias (const char *name, const char *value, struct cove_registry_alias *a,
             struct cove_error **err)
{
  struct cove_oci_ref n = { 0 }, v = { 0 };
  int r = -1;
  if (cove_oci_ref_parse (name, &n, err) < 0)
    goto out;
  if (n.registry || n.tag || n.digest)
    {
      cove_error_set (err, EINVAL, "alias `%.200s`: must be a short name without tag or digest",
                      name);
      goto out;
    }
  if (cove_oci_ref_parse (value, &v, err) < 0)
    goto out;
  if (v.registry == NULL || v.tag || v.digest)
    {
      cove_error_set (err, EINVAL,
                      "alias `%.200s`: value `%.200s` must name a registry, without tag or digest",
                      name, value);
      goto out;
    }
  a->name = xstrdup (n.repository);
  a->value = cove_oci_ref_format (&v);
  r = 0;
out:
  cove_oci_ref_free (&n);
  cove_oci_ref_free (&v);
  return r;
}

static int
parse_aliases (json_t *obj, struct cove_registry_conf *c, struct cove_error **err)
{
  const char *k;
  json_t *v;
  if (!json_is_object (obj) || json_object_size (obj) > ENTRIES_MAX)
    return cove_error_set (err, EINVAL, "`aliases` must be a table");
  c->aliases = xmalloc0 ((json_object_size (obj) + 1) * sizeof *c->aliases);
  json_object_foreach (obj, k, v)
    {
      if (!json_is_string (v))
        return cove_error_set (err, EINVAL, "alias `%.200s`: value must be a string", k);
      /* An empty value erases an alias of an earlier file: none here.  */
      if (json_string_length (v) == 0)
        continue;
      if (parse_alias (k, json_string_value (v), &c->aliases[c->n_aliases], err) < 0)
        return cove_error_wrap (err, "aliases");
      c->n_aliases++;
    }
  return 0;
}

/* Version 1: [registries.search] / .insecure / .block, each with a
   `registries` array of hosts.  */
static int
add_v1_hosts (json_t *reg, const char *table, struct cove_registry_conf *c,
              struct cove_error **err)
{
  static const char *const keys[] = { "registries", NULL };
  json_t *t = json_object_get (reg, table);
  cleanup_strv char **hosts = NULL;
  if (t == NULL)
    return 0;
  if (!json_is_object (t) || check_keys (t, keys, table, err) < 0
      || get_strv (t, "registries", table, &hosts, err) < 0)
    return json_is_object (t) ? -1 : cove_error_set (err, EINVAL, "`%s` must be a table", table);
  for (size_t i = 0; hosts && hosts[i]; i++)
    {
      if (strcmp (table, "search") == 0)
        {
          cove_strv_append (&c->search, hosts[i]);
          continue;
        }
      cleanup_free char *loc = normalize_location (hosts[i], table, err);
      if (loc == NULL)
        return -1;
      struct cove_registry_entry *e = NULL;
      for (size_t k = 0; k < c->n_registries; k++)
        if (strcmp (c->registries[k].prefix, loc) == 0)
          e = &c->registries[k];
      if (e == NULL)
        {
          c->registries = xrealloc (c->registries, (c->n_registries + 1) * sizeof *e);
          e = &c->registries[c->n_registries++];
          memset (e, 0, sizeof *e);
          e->prefix = xstrdup (loc);
          e->location = xstrdup (loc);
        }
      if (strcmp (table, "insecure") == 0)
        e->insecure = true;
      else
        e->blocked = true;
    }
  return 0;
}

static int
parse_v1 (json_t *reg, struct cove_registry_conf *c, struct cove_error **err)
{
  static const char *const keys[] = { "search", "insecure", "block", NULL };
  if (!json_is_object (reg))
    return cove_error_set (err, EINVAL, "`registries` must be a table");
  if (check_keys (reg, keys, "registries", err) < 0)
    return -1;
  if (add_v1_hosts (reg, "search", c, err) < 0 || add_v1_hosts (reg, "insecure", c, err) < 0
      || add_v1_hosts (reg, "block", c, err) < 0)
    return cove_error_wrap (err, "registries");
  return 0;
}

static int
parse_short_name_mode (json_t *root, struct cove_registry_conf *c, struct cove_error **err)
{
  const char *mode;
  if (cove_json_opt_string (root, "short-name-mode", "registries.conf", &mode, err) < 0)
    return -1;
  if (mode == NULL || *mode == '\0' || strcmp (mode, "permissive") == 0)
    c->short_name_mode = COVE_REGISTRY_SHORT_NAME_PERMISSIVE;
  else if (strcmp (mode, "enforcing") == 0)
    c->short_name_mode = COVE_REGISTRY_SHORT_NAME_ENFORCING;
  else if (strcmp (mode, "disabled") == 0)
    c->short_name_mode = COVE_REGISTRY_SHORT_NAME_DISABLED;
  else
    return cove_error_set (err, EINVAL, "invalid short-name-mode `%.100s`", mode);
  return 0;
}

static int
build_conf (json_t *root, struct cove_registry_conf *c, struct cove_error **err)
{
  static const char *const keys[] = { "unqualified-search-registries", "short-name-mode",
                                      "registry", "aliases", "registries",
                                      "credential-helpers",
                                      "additional-layer-store-auth-helper", NULL };
  cleanup_strv char **helpers = NULL;
  const char *als;
  if (check_keys (root, keys, "registries.conf", err) < 0
      || get_strv (root, "unqualified-search-registries", "registries.conf", &c->search, err) < 0
      || get_strv (root, "credential-helpers", "registries.conf", &helpers, err) < 0
      || cove_json_opt_string (root, "additional-layer-store-auth-helper", "registries.conf", &als, err) < 0
      || parse_short_name_mode (root, c, err) < 0)
    return -1;
  json_t *v1 = json_object_get (root, "registries");
  if (v1 && (json_object_get (root, "registry") || c->search))
    return cove_error_set (err, EINVAL,
                           "mixing version 1 ([registries.*]) and version 2 settings");
  if (v1 && parse_v1 (v1, c, err) < 0)
    return -1;
  if (c->search == NULL)
    c->search = xmalloc0 (sizeof (char *));
  for (char **s = c->search; *s; s++)
    {
      char *n = normalize_location (*s, "unqualified-search-registries", err);
      if (n == NULL)
        return -1;
      free (*s);
      *s = n;
    }
  json_t *reg = json_object_get (root, "registry");
  if (reg && parse_registries (reg, c, err) < 0)
    return -1;
  json_t *aliases = json_object_get (root, "aliases");
  return aliases ? parse_aliases (aliases, c, err) : 0;
}

int
cove_registry_conf_parse (const char *data, size_t len, const char *origin,
                          struct cove_registry_conf **out, struct cove_error **err)
{
  json_t *root = cove_registry_toml_parse (data, len, err);
  if (root == NULL)
    return cove_error_wrap (err, "parse `%s`", origin ? origin : "registries.conf");
  struct cove_registry_conf *c = xmalloc0 (sizeof *c);
  c->path = origin ? xstrdup (origin) : NULL;
  int r = build_conf (root, c, err);
  json_decref (root);
  if (r < 0)
    {
      cove_registry_conf_free (c);
      return cove_error_wrap (err, "parse `%s`", origin ? origin : "registries.conf");
    }
  *out = c;
  return 0;
}

int
cove_registry_conf_load_file (const char *path, struct cove_registry_conf **out,
                              struct cove_error **err)
{
  size_t len = 0;
  cleanup_free char *data = cove_file_read_at (AT_FDCWD, path, CONF_MAX, &len, err);
  if (data == NULL)
    return -1;
  return cove_registry_conf_parse (data, len, path, out, err);
}

int
cove_registry_conf_load (struct cove_registry_conf **out, struct cove_error **err)
{
  const char *env = getenv ("CONTAINERS_REGISTRIES_CONF");
  if (env && *env)
    return cove_registry_conf_load_file (env, out, err);
  const char *xdg = getenv ("XDG_CONFIG_HOME"), *home = getenv ("HOME");
  cleanup_free char *user = NULL;
  if (xdg && *xdg == '/')
    user = xasprintf ("%s/containers/registries.conf", xdg);
  else if (home && *home == '/')
    user = xasprintf ("%s/.config/containers/registries.conf", home);
  const char *paths[] = { user, SYSTEM_CONF };
  for (size_t i = 0; i < 2; i++)
    {
      struct cove_error *e = NULL;
      if (paths[i] == NULL)
        continue;
      if (cove_registry_conf_load_file (paths[i], out, &e) == 0)
        return 0;
      if (e->errnum != ENOENT)
        {
          if (err)
            *err = e;
          else
            cove_error_free (e);
          return -1;
        }
      cove_error_free (e);
    }
  *out = xmalloc0 (sizeof **out);
  (*out)->search = xmalloc0 (sizeof (char *));
  return 0;
}

void
cove_registry_conf_free (struct cove_registry_conf *c)
{
  if (c == NULL)
    return;
  for (size_t i = 0; i < c->n_registries; i++)
    {
      struct cove_registry_entry *e = &c->registries[i];
      for (size_t k = 0; k < e->n_mirrors; k++)
        free (e->mirrors[k].location);
      free (e->mirrors);
      free (e->prefix);
      free (e->location);
    }
  free (c->registries);
  for (size_t i = 0; i < c->n_aliases; i++)
    {
      free (c->aliases[i].name);
      free (c->aliases[i].value);
    }
  free (c->aliases);
  cove_strv_free (c->search);
  free (c->path);
  free (c);
}

/* ---- resolution ---- */

/* Does the wildcard "*.example.com" cover the host of NAME
   ("host[:port]/repo")?  */
static bool
wildcard_matches (const char *prefix, const char *name)
{
  const char *domain = prefix + 1; /* ".example.com" */
  size_t host_len = strcspn (name, ":/");
  size_t n = strlen (domain);
  return host_len > n && strncmp (name + host_len - n, domain, n) == 0;
}

static bool
prefix_matches (const char *prefix, const char *name)
{
  if (is_wildcard (prefix))
    return wildcard_matches (prefix, name);
  size_t n = strlen (prefix);
  return strncmp (name, prefix, n) == 0 && (name[n] == '\0' || name[n] == '/');
}

const struct cove_registry_entry *
cove_registry_conf_lookup (const struct cove_registry_conf *conf, const char *name)
{
  const struct cove_registry_entry *best = NULL;
  size_t best_len = 0;
  for (size_t i = 0; conf && i < conf->n_registries; i++)
    {
      const struct cove_registry_entry *e = &conf->registries[i];
      size_t n = strlen (e->prefix);
      if (prefix_matches (e->prefix, name) && n > best_len)
        {
          best = e;
          best_len = n;
        }
    }
  return best;
}

void
cove_registry_refs_free (struct cove_oci_ref *refs, size_t n)
{
  for (size_t i = 0; refs && i < n; i++)
    cove_oci_ref_free (&refs[i]);
  free (refs);
}

/* NAME ("registry/repository") with REF's tag and digest, qualified.  */
static int
ref_in (const char *name, const struct cove_oci_ref *ref, struct cove_oci_ref *out,
        struct cove_error **err)
{
  struct cove_oci_ref r = { 0 };
  cleanup_free char *s = xasprintf ("%s%s%s%s%s", name, ref->tag ? ":" : "",
                                    ref->tag ? ref->tag : "", ref->digest ? "@" : "",
                                    ref->digest ? ref->digest : "");
  if (cove_oci_ref_parse (s, &r, err) < 0)
    return -1;
  int ret = cove_oci_ref_qualify (&r, NULL, out, err);
  cove_oci_ref_free (&r);
  return ret;
}

/* The one candidate of a qualified REF or of an aliased short name, or
   NULL (nothing set) when REF is a short name without alias.  */
static struct cove_oci_ref *
single_candidate (const struct cove_registry_conf *conf, const struct cove_oci_ref *ref,
                  struct cove_error **err)
{
  struct cove_oci_ref *r = xmalloc0 (sizeof *r);
  if (ref->registry)
    {
      if (cove_oci_ref_qualify (ref, NULL, r, err) == 0)
        return r;
      free (r);
      return NULL;
    }
  /* An alias is the one answer for its short name: the search list is not
     consulted (the point of aliases is to avoid squatted namespaces).  */
  for (size_t i = 0; conf && i < conf->n_aliases; i++)
    if (strcmp (conf->aliases[i].name, ref->repository) == 0)
      {
        if (ref_in (conf->aliases[i].value, ref, r, err) == 0)
          return r;
        free (r);
        cove_error_wrap (err, "alias `%s`", ref->repository);
        return NULL;
      }
  free (r);
  return NULL;
}

int
cove_registry_conf_candidates (const struct cove_registry_conf *conf,
                               const struct cove_oci_ref *ref, struct cove_oci_ref **out,
                               size_t *out_n, struct cove_error **err)
{
  static char *const docker_hub[] = { (char *) "docker.io", NULL };
  char *const *search = conf && conf->search && conf->search[0] ? conf->search : docker_hub;
  struct cove_error *e = NULL;
  *out_n = 0;
  *out = single_candidate (conf, ref, &e);
  if (e)
    {
      if (err)
        *err = e;
      else
        cove_error_free (e);
      return -1;
    }
  if (*out)
    {
      *out_n = 1;
      return 0;
    }
  size_t n = cove_strv_len (search);
  struct cove_oci_ref *refs = xmalloc0 (n * sizeof *refs);
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *name = xasprintf ("%s/%s", search[i], ref->repository);
      if (ref_in (name, ref, &refs[i], err) < 0)
        {
          cove_registry_refs_free (refs, i);
          return cove_error_wrap (err, "search registry `%s`", search[i]);
        }
    }
  *out = refs;
  *out_n = n;
  return 0;
}

void
cove_registry_endpoints_free (struct cove_registry_endpoint *e, size_t n)
{
  for (size_t i = 0; e && i < n; i++)
    {
      free (e[i].registry);
      free (e[i].repository);
    }
  free (e);
}

/* LOCATION + REST ("/more/path" or "") split into host and repository;
   docker.io gains "library/" as when the user writes it.  */
static int
make_endpoint (const char *location, const char *rest, bool insecure, bool mirror,
               struct cove_registry_endpoint *out, struct cove_error **err)
{
  cleanup_free char *name = xasprintf ("%s%s", location, rest);
  struct cove_oci_ref r = { 0 };
  const char *slash = strchr (name, '/');
  if (slash == NULL)
    return cove_error_set (err, EINVAL, "location `%s` leaves no repository", name);
  if (cove_oci_ref_parse (name, &r, err) < 0)
    return -1;
  if (r.registry == NULL || r.tag || r.digest)
    {
      cove_oci_ref_free (&r);
      return cove_error_set (err, EINVAL, "location `%s` is not host[:port]/repository", name);
    }
  out->registry = steal_pointer (&r.registry);
  out->repository = steal_pointer (&r.repository);
  out->insecure = insecure;
  out->mirror = mirror;
  cove_oci_ref_free (&r);
  return 0;
}

static bool
mirror_applies (const struct cove_registry_mirror *m, const struct cove_oci_ref *ref)
{
  if (m->use == COVE_REGISTRY_MIRROR_DIGEST_ONLY)
    return ref->digest != NULL;
  if (m->use == COVE_REGISTRY_MIRROR_TAG_ONLY)
    return ref->digest == NULL;
  return true;
}

static int
entry_endpoints (const struct cove_registry_entry *e, const struct cove_oci_ref *ref,
                 const char *name, struct cove_registry_endpoint *eps, size_t *n,
                 struct cove_error **err)
{
  /* What follows the prefix; for a wildcard, the whole repository path, the
     location (when set) standing for the host.  */
  const char *rest = is_wildcard (e->prefix) ? strchr (name, '/') : name + strlen (e->prefix);
  for (size_t i = 0; i < e->n_mirrors; i++)
    {
      const struct cove_registry_mirror *m = &e->mirrors[i];
      if (!mirror_applies (m, ref))
        continue;
      if (make_endpoint (m->location, rest, m->insecure, true, &eps[*n], err) < 0)
        return cove_error_wrap (err, "mirror of `%s`", e->prefix);
      (*n)++;
    }
  const char *loc = e->location ? e->location : ref->registry;
  if (make_endpoint (loc, e->location ? rest : strchr (name, '/'), e->insecure, false,
                     &eps[*n], err) < 0)
    return cove_error_wrap (err, "registry `%s`", e->prefix);
  (*n)++;
  return 0;
}

int
cove_registry_conf_endpoints (const struct cove_registry_conf *conf,
                              const struct cove_oci_ref *ref,
                              struct cove_registry_endpoint **out, size_t *out_n,
                              struct cove_error **err)
{
  if (ref->registry == NULL || ref->repository == NULL)
    return cove_error_set (err, EINVAL, "reference without registry");
  cleanup_free char *name = xasprintf ("%s/%s", ref->registry, ref->repository);
  const struct cove_registry_entry *e = cove_registry_conf_lookup (conf, name);
  if (e && e->blocked)
    return cove_error_set (err, EACCES, "registry %s is blocked in registries.conf", name);
  struct cove_registry_endpoint *eps = xmalloc0 ((e ? e->n_mirrors + 1 : 1) * sizeof *eps);
  size_t n = 0;
  if (e == NULL)
    {
      eps[0].registry = xstrdup (ref->registry);
      eps[0].repository = xstrdup (ref->repository);
      n = 1;
    }
  else if (entry_endpoints (e, ref, name, eps, &n, err) < 0)
    {
      cove_registry_endpoints_free (eps, n);
      return -1;
    }
  *out = eps;
  *out_n = n;
  return 0;
}
