/* cove: helpers shared by the image commands.  */
#ifndef COVE_CMD_IMGUTIL_H
#define COVE_CMD_IMGUTIL_H

#include <jansson.h>
#include <stdbool.h>

#include "storage/storage.h"

/* Split a stored name "registry/repo:tag" into repository and tag (new
   strings).  */
void cove_img_split_name (const char *name, char **out_repo, char **out_tag);

/* Does the stored NAME answer to what the user typed, USER: the same,
   USER:latest, or a short name matching the last path components
   ("busybox" matches "docker.io/library/busybox:latest" and
   "localhost/busybox:latest").  */
bool cove_img_name_matches (const char *name, const char *user);

/* Find the local image USER names (a name as above, an id, or an id
   prefix).  errnum ENOENT: "IMAGE: image not known"; EINVAL: ambiguous.  */
int cove_img_find (struct cove_storage *s, const char *user,
                   struct cove_storage_image *out, struct cove_error **err);

/* The image's config document (parsed JSON), or NULL with *ERR.  */
json_t *cove_img_config (struct cove_storage *s,
                         const struct cove_storage_image *img,
                         struct cove_error **err);

/* A name for a new tag, normalised as podman: "name" ->
   "localhost/name:latest", "reg.io/x" -> "reg.io/x:latest".  errnum EINVAL
   for a malformed name.  Caller frees.  */
char *cove_img_normalize_tag (const char *name, struct cove_error **err);

/* A JSON array of the strings of V (NULL-terminated, may be NULL).  */
json_t *cove_img_strv_json (char **v);

/* podman's RepoDigests: "repository@manifest-digest" for each name.  */
json_t *cove_img_repo_digests (const struct cove_storage_image *img);

#endif
