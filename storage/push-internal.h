/* storage/push*.c: private to the push of an image.  */
#ifndef COVE_STORAGE_PUSH_INTERNAL_H
#define COVE_STORAGE_PUSH_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/internal.h"

enum push_compression
{
  PUSH_COMP_NONE,
  PUSH_COMP_GZIP,
  PUSH_COMP_ZSTD,
};

/* A layer blob made from a layer's unpacked tree.  */
struct push_made_layer
{
  int fd;             /* the compressed blob, a file under the tmp/ entry */
  char *digest;       /* "sha256:..." of the compressed bytes */
  int64_t size;
  char *diff_id;      /* "sha256:..." of the tar inside */
};

/* Write the tree DIFF_PATH (a layer's diff/, as overlay keeps it) as a
   layer tar (cove_archive_write_tree, deterministic) compressed with COMP
   into a new file of the directory TMPDIR, hashing both the tar and the
   compressed bytes.  Runs in the user namespace (the tree belongs to
   mapped ids).  */
int push_make_layer (const char *diff_path, enum push_compression comp,
                     const char *tmpdir, struct push_made_layer *out,
                     struct cove_error **err);
void push_made_layer_free (struct push_made_layer *m);

/* The compression of the first bytes of the blob open at FD (magic
   numbers).  */
enum push_compression push_sniff (int fd);

/* The compression a layer media type says; -1 for a type that is not a
   layer tar.  */
int push_media_compression (const char *media_type);

/* The layer media type of COMP in OCI or Docker schema 2 (NULL: schema 2
   has no such type, e.g. zstd).  */
const char *push_layer_media_type (bool oci, enum push_compression comp);

/* What is known of a layer's compressed blob (push-origin.c).  */
struct push_origin
{
  char *digest;         /* NULL: nothing known */
  int64_t size;
  char *media_type;
  char **from;          /* repositories of the destination registry that
                           have it (NULL-terminated, may be NULL) */
};

/* Add to *FROM the repositories of REGISTRY, other than REPO, that IMG has
   names in.  */
void push_repos_of (const struct cove_storage_image *img, const char *registry,
                    const char *repo, char ***from);

/* For the N layers CHAINS (bottom first): fill OUT[i] (digest, size and
   media type when not set yet; repositories to mount from) from every
   image of the store that has the layer and a stored manifest.
   Best effort: what cannot be read is skipped.  */
void push_find_origins (struct cove_storage *s, char **chains, size_t n,
                        const char *registry, const char *repo,
                        struct push_origin *out);
void push_origin_free (struct push_origin *o);

#endif
