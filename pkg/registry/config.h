/* cove registry configuration, in the files users of podman already have:
   containers-registries.conf(5) (which registries to search, mirrors,
   insecure and blocked registries, short-name aliases) and
   containers-auth.json(5) (credentials of `cove login`).  */
#ifndef COVE_REGISTRY_CONFIG_H
#define COVE_REGISTRY_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "pkg/oci/oci.h"
#include "pkg/util/error.h"

/* ---- TOML ---- */

/* Parse LEN bytes of the TOML subset registries.conf files use (comments,
   key = string/boolean/integer/array of those, [table], [[array.of.tables]])
   into a new JSON object.  Anything else is refused.  errnum EINVAL with
   "line N: ..." in the message.  Caller owns the result.  */
json_t *cove_registry_toml_parse (const char *data, size_t len,
                                  struct cove_error **err);

/* ---- registries.conf (version 2; version 1 tables are converted) ---- */

enum cove_registry_mirror_use
{
  COVE_REGISTRY_MIRROR_ALL,           /* pull-from-mirror = "all" (default) */
  COVE_REGISTRY_MIRROR_DIGEST_ONLY,   /* only for references with a digest */
  COVE_REGISTRY_MIRROR_TAG_ONLY,      /* only for references without one */
};

struct cove_registry_mirror
{
  char *location;                     /* "host[:port][/path]" */
  bool insecure;
  enum cove_registry_mirror_use use;
};

struct cove_registry_entry
{
  char *prefix;       /* "host[:port][/path]", or "*.domain" (a wildcard
                         over the hosts of that domain) */
  char *location;     /* where PREFIX really is; NULL for a wildcard prefix
                         without one (then the reference's own host) */
  bool insecure;      /* plain HTTP and unverified TLS allowed */
  bool blocked;       /* pulls refused */
  struct cove_registry_mirror *mirrors;
  size_t n_mirrors;
};

struct cove_registry_alias
{
  char *name;         /* short name, "busybox", "team/app" */
  char *value;        /* "registry/repository", no tag or digest */
};

enum cove_registry_short_name_mode
{
  COVE_REGISTRY_SHORT_NAME_PERMISSIVE,  /* the default */
  COVE_REGISTRY_SHORT_NAME_ENFORCING,
  COVE_REGISTRY_SHORT_NAME_DISABLED,
};

struct cove_registry_conf
{
  char *path;                     /* the file read; NULL when none was */
  char **search;                  /* unqualified-search-registries,
                                     NULL-terminated, may be empty */
  /* Read and kept, but cove never prompts: every mode behaves as
     "permissive" (try the search registries in order).  */
  enum cove_registry_short_name_mode short_name_mode;
  struct cove_registry_entry *registries;
  size_t n_registries;
  struct cove_registry_alias *aliases;
  size_t n_aliases;
};

/* Parse registries.conf content; ORIGIN (may be NULL) names it in errors
   and becomes conf->path.  Checks every key (unknown keys are refused: a
   misspelt `blocked` must not silently allow), every location and prefix,
   duplicate prefixes.  errnum EINVAL.  Free with cove_registry_conf_free.  */
int cove_registry_conf_parse (const char *data, size_t len, const char *origin,
                              struct cove_registry_conf **out,
                              struct cove_error **err);

/* Read PATH.  errnum: ENOENT and other errors of open, EFBIG (over 1 MiB),
   EINVAL.  */
int cove_registry_conf_load_file (const char *path, struct cove_registry_conf **out,
                                  struct cove_error **err);

/* Read the user's configuration: $CONTAINERS_REGISTRIES_CONF (which must
   exist), else $XDG_CONFIG_HOME/containers/registries.conf (default
   ~/.config/containers/registries.conf), else
   /etc/containers/registries.conf; when neither exists, an empty
   configuration.  */
int cove_registry_conf_load (struct cove_registry_conf **out, struct cove_error **err);

void cove_registry_conf_free (struct cove_registry_conf *conf);

/* The fully qualified references to try, in order, for REF: REF itself
   when it names a registry; else its alias when [aliases] has one; else
   REF in each of the unqualified-search-registries (docker.io when the
   list is empty, as docker does).  Each has a tag ("latest" when REF has
   neither tag nor digest).  CONF may be NULL (no configuration).  Caller
   frees with cove_registry_refs_free.  errnum EINVAL (a search registry or
   an alias that makes no valid reference).  */
int cove_registry_conf_candidates (const struct cove_registry_conf *conf,
                                   const struct cove_oci_ref *ref,
                                   struct cove_oci_ref **out, size_t *out_n,
                                   struct cove_error **err);
void cove_registry_refs_free (struct cove_oci_ref *refs, size_t n);

struct cove_registry_endpoint
{
  char *registry;     /* host[:port] to connect to ("docker.io" stays
                         "docker.io": the client maps it to its API host) */
  char *repository;   /* the repository on that host */
  bool insecure;
  bool mirror;        /* a mirror (false: the primary location) */
};

/* Where to pull the qualified REF from, in order: the mirrors of the
   [[registry]] whose prefix is the longest match of REF's name (filtered
   by pull-from-mirror), then its location; REF itself when no entry
   matches.  CONF may be NULL.  errnum EACCES "registry X is blocked in
   registries.conf"; EINVAL for a REF without registry.  Caller frees
   with cove_registry_endpoints_free.  */
int cove_registry_conf_endpoints (const struct cove_registry_conf *conf,
                                  const struct cove_oci_ref *ref,
                                  struct cove_registry_endpoint **out,
                                  size_t *out_n, struct cove_error **err);
void cove_registry_endpoints_free (struct cove_registry_endpoint *e, size_t n);

/* The [[registry]] entry whose prefix best matches NAME
   ("host[:port][/repository]"), or NULL.  For push, login and search,
   which use no mirror or location rewriting but honour `insecure` and
   `blocked`.  Borrowed from CONF.  */
const struct cove_registry_entry *
cove_registry_conf_lookup (const struct cove_registry_conf *conf, const char *name);

/* ---- auth.json ---- */

struct cove_registry_credentials
{
  char *username;
  char *password;
  char *identity_token;   /* "identitytoken" (docker's OAuth refresh
                             token), NULL when none */
};

/* The file `cove login` writes: AUTHFILE when not NULL (--authfile), else
   $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json (when
   XDG_RUNTIME_DIR is unset: /run/containers/<uid>/auth.json, as podman).
   Caller frees.  */
char *cove_registry_auth_path (const char *authfile);

/* Find credentials for NAME ("host[:port][/repository]"): in the primary
   file (above), then $XDG_CONFIG_HOME/containers/auth.json, then docker's
   ($DOCKER_CONFIG or ~/.docker)/config.json; in each file the entry with
   the longest matching key ("host/ns/repo", "host/ns", "host") wins.
   Missing files are skipped.  Returns 1 and fills OUT when found (clear it
   with cove_registry_credentials_clear), 0 when none, -1 on error
   (EINVAL: a malformed file or entry; EFBIG; errors of open).  */
int cove_registry_auth_lookup (const char *authfile, const char *name,
                               struct cove_registry_credentials *out,
                               struct cove_error **err);
void cove_registry_credentials_clear (struct cove_registry_credentials *c);

/* Record USERNAME/PASSWORD for KEY ("host[:port][/path]"; a scheme and a
   trailing slash are dropped, index.docker.io is docker.io) in the primary
   file, keeping its other entries.  The file is replaced atomically and
   durably with mode 0600, its directory created with mode 0700.  errnum
   EINVAL (bad key, username with ':' or empty), errors of I/O.  */
int cove_registry_auth_store (const char *authfile, const char *key,
                              const char *username, const char *password,
                              struct cove_error **err);

/* Where cove_registry_auth_from_files looks: the --authfile (or NULL) and
   the repository the credentials are for (or NULL: the registry's own
   entry).  */
struct cove_registry_auth_source
{
  const char *authfile;
  const char *repository;
};

/* A cove_registry_auth_fn (registry.h) over the auth files: CTX is a
   struct cove_registry_auth_source.  Returns 1 with *OUT_USER and
   *OUT_PASSWORD (caller frees), 0 when the files have none, -1 on error.  */
int cove_registry_auth_from_files (void *ctx, const char *registry,
                                   char **out_user, char **out_password,
                                   struct cove_error **err);

/* Remove KEY from the primary file.  errnum ENOENT "not logged in to KEY".  */
int cove_registry_auth_remove (const char *authfile, const char *key,
                               struct cove_error **err);

/* Remove every entry of the primary file (`logout --all`).  */
int cove_registry_auth_remove_all (const char *authfile, struct cove_error **err);

/* Standard base64 with padding.  Caller frees.  */
char *cove_registry_base64_encode (const void *data, size_t len);
/* Strict: padding required, no whitespace, no bits after the end.  Returns
   a NUL-terminated buffer (the NUL not counted in *OUT_LEN); errnum
   EINVAL.  Caller frees.  */
char *cove_registry_base64_decode (const char *s, size_t *out_len,
                                   struct cove_error **err);

#endif
