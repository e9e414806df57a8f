/* cove oci: image references, digests, and the OCI / Docker image
   documents (manifest, index, config).  Everything parsed here comes from a
   registry or an archive: untrusted, validated strictly, sizes bounded.  */
#ifndef COVE_OCI_H
#define COVE_OCI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg/util/error.h"

/* ---- references: [registry[:port]/]repo[:tag][@sha256:...] ---- */

struct cove_oci_ref
{
  char *registry;     /* "docker.io", "localhost:5000"; NULL when the
                         reference is a short name (no registry part) */
  char *repository;   /* "library/debian", "team/app"; lowercase */
  char *tag;          /* NULL when none was given */
  char *digest;       /* "sha256:<64 hex>", NULL when none */
};

/* Parse S with docker's grammar (distribution/reference): a first
   component with a '.' or ':' or equal to "localhost" is a registry;
   "docker.io" and "index.docker.io" normalise to "docker.io" and a
   single-component repository there gains "library/".  The tag is not
   defaulted.  A short name keeps registry NULL and its repository as
   written ("busybox", not "library/busybox"): cove_oci_ref_qualify or
   registries.conf's search list adds them.  A 64-hex-digit string alone is
   refused (it is an image id).  errnum EINVAL: not a valid reference
   (uppercase repository, bad tag, bad digest, sha512 digest, name over 255
   characters...).  Free with cove_oci_ref_free.  */
int cove_oci_ref_parse (const char *s, struct cove_oci_ref *out,
                        struct cove_error **err);
void cove_oci_ref_free (struct cove_oci_ref *ref);

/* "registry/repository[:tag][@digest]" (registry omitted when NULL).
   Caller frees.  */
char *cove_oci_ref_format (const struct cove_oci_ref *ref);

/* Copy of REF with REGISTRY set (and "library/" added for docker.io), and
   tag "latest" when neither tag nor digest is set.  A registry already in
   REF stays; REGISTRY NULL means docker.io.  errnum EINVAL (invalid
   REGISTRY or repository, name too long).  */
int cove_oci_ref_qualify (const struct cove_oci_ref *ref, const char *registry,
                          struct cove_oci_ref *out, struct cove_error **err);

/* ---- digests ---- */

/* "sha256:" followed by exactly 64 lowercase hex digits (the only
   algorithm cove accepts; sha512 digests are refused with ENOTSUP).  */
bool cove_oci_digest_valid (const char *digest);

/* cove_oci_digest_valid with the reason: errnum ENOTSUP for a well-formed
   digest of another algorithm ("sha512:..."), EINVAL otherwise.  */
int cove_oci_digest_check (const char *digest, struct cove_error **err);

/* Incremental sha256 (libcrypto).  */
struct cove_oci_hasher;
struct cove_oci_hasher *cove_oci_hasher_new (void);
void cove_oci_hasher_update (struct cove_oci_hasher *h, const void *buf, size_t len);
/* Finish: returns "sha256:<hex>" (caller frees) and frees H.  */
char *cove_oci_hasher_finish (struct cove_oci_hasher *h);
void cove_oci_hasher_free (struct cove_oci_hasher *h);
/* One-shot: "sha256:<hex>" of BUF.  Caller frees.  */
char *cove_oci_digest_buffer (const void *buf, size_t len);

/* ---- media types ---- */
#define COVE_OCI_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define COVE_OCI_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define COVE_OCI_MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define COVE_OCI_MT_LAYER "application/vnd.oci.image.layer.v1.tar"
#define COVE_OCI_MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define COVE_OCI_MT_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define COVE_DOCKER_MT_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define COVE_DOCKER_MT_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define COVE_DOCKER_MT_CONFIG "application/vnd.docker.container.image.v1+json"
#define COVE_DOCKER_MT_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* The largest manifest, index or config cove reads: 4 MiB.  */
#define COVE_OCI_DOCUMENT_MAX (4 * 1024 * 1024)

enum cove_oci_compression
{
  COVE_OCI_COMPRESSION_NONE,
  COVE_OCI_COMPRESSION_GZIP,
  COVE_OCI_COMPRESSION_ZSTD,
};

/* In a parsed manifest, every string is owned by the manifest (freed by
   cove_oci_manifest_free).  */
struct cove_oci_descriptor
{
  char *media_type;
  char *digest;
  int64_t size;
  /* platform, for entries of an index (NULL elsewhere) */
  char *os, *architecture, *variant;
  json_t *annotations;        /* borrowed from the document, may be NULL */
};

/* ---- manifests and indexes ---- */

enum cove_oci_doc_kind
{
  COVE_OCI_DOC_MANIFEST,      /* OCI manifest or Docker schema 2 */
  COVE_OCI_DOC_INDEX,         /* OCI index or Docker manifest list */
};

struct cove_oci_manifest
{
  enum cove_oci_doc_kind kind;
  char *media_type;                     /* as declared (or as inferred) */
  /* kind MANIFEST: */
  struct cove_oci_descriptor config;
  struct cove_oci_descriptor *layers;
  size_t n_layers;
  /* kind INDEX: */
  struct cove_oci_descriptor *manifests;
  size_t n_manifests;
  json_t *doc;                          /* the parsed document, owned */
};

/* Parse a manifest or index of LEN bytes.  CONTENT_TYPE (the registry's
   Content-Type, may be NULL) and the document's own mediaType must agree
   when both are present.  Every descriptor is checked: known media type
   (layers: tar, tar+gzip, tar+zstd, docker gzip; foreign/non-distributable
   layers refused), valid digest, size >= 0; at most 1000 layers and 1000
   index entries; config and index entries at most COVE_OCI_DOCUMENT_MAX
   (EFBIG).  Duplicate JSON keys are refused, and so is a document with the
   keys of both kinds (`manifests` and `layers`).  Index entries of other
   media types (attestations, artifacts) are kept but never selected.
   errnum EINVAL: malformed (the message says where);
   ENOTSUP: a media type cove does not handle (schema 1, encrypted layers,
   artifacts); EFBIG: over COVE_OCI_DOCUMENT_MAX.  */
int cove_oci_manifest_parse (const char *data, size_t len,
                             const char *content_type,
                             struct cove_oci_manifest *out,
                             struct cove_error **err);
void cove_oci_manifest_free (struct cove_oci_manifest *m);

/* The compression of a layer descriptor's media type.  */
enum cove_oci_compression cove_oci_layer_compression (const char *media_type);

/* The platform cove runs on: os "linux", architecture in Go's names
   ("amd64", "arm64", ...), variant (may be NULL).  */
void cove_oci_host_platform (const char **out_os, const char **out_arch,
                             const char **out_variant);

/* Parse "os/arch[/variant]"; the architecture is normalised to Go's name
   ("x86_64" -> "amd64").  errnum EINVAL.  Caller frees the strings
   (*OUT_VARIANT NULL when not given).  */
int cove_oci_platform_parse (const char *s, char **out_os, char **out_arch,
                             char **out_variant, struct cove_error **err);

/* Pick the entry of INDEX for OS/ARCH/VARIANT (VARIANT NULL: any, preferring
   the usual one: v8 for arm64, v7 for arm; an entry without variant
   matches any).  ARCH may be given as uname spells it ("x86_64",
   "aarch64").  Only image manifests are candidates (not nested indexes).
   errnum EINVAL when INDEX is not an index.  Returns the index into
   manifests, or -1 with errnum ENOENT ("no image found in manifest list for
   architecture X, OS Y").  */
int cove_oci_index_select (const struct cove_oci_manifest *index,
                           const char *os, const char *arch,
                           const char *variant, struct cove_error **err);

/* ---- image config ---- */

struct cove_oci_config
{
  char *os, *architecture, *variant;
  char **env;             /* Config.Env, NULL-terminated (may be empty) */
  char **cmd;             /* Config.Cmd, NULL when unset */
  char **entrypoint;      /* Config.Entrypoint, NULL when unset */
  char *working_dir;      /* NULL when unset */
  char *user;             /* NULL when unset */
  char *stop_signal;      /* NULL when unset */
  char **volumes;         /* keys of Config.Volumes, NULL-terminated */
  char **exposed_ports;   /* keys of Config.ExposedPorts ("80/tcp") */
  char **diff_ids;        /* rootfs.diff_ids, NULL-terminated */
  size_t n_diff_ids;
  json_t *doc;            /* the parsed document, owned */
};

/* Parse an image config (OCI or Docker).  rootfs.type must be "layers";
   every diff_id valid (ENOTSUP for another algorithm); string arrays of
   strings only; Env entries NAME=VALUE.  An empty string (docker writes
   "WorkingDir": "") is unset (NULL).  volumes and exposed_ports are sorted.
   errnum EINVAL, EFBIG.  */
int cove_oci_config_parse (const char *data, size_t len,
                           struct cove_oci_config *out,
                           struct cove_error **err);
void cove_oci_config_free (struct cove_oci_config *c);

#endif
