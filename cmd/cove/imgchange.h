/* cove: --change INSTRUCTION VALUE (import, commit).  */
#ifndef COVE_CMD_IMGCHANGE_H
#define COVE_CMD_IMGCHANGE_H

#include <jansson.h>

#include "pkg/util/error.h"
#include "storage/storage.h"

/* Apply CHANGE, "INSTRUCTION VALUE" or "INSTRUCTION=VALUE" (CMD,
   ENTRYPOINT: a JSON array or the shell form; ENV; EXPOSE; LABEL;
   STOPSIGNAL; USER; VOLUME; WORKDIR), to the image config object CFG.
   errnum EINVAL: an unknown instruction or a bad value (the message says
   which).  */
int cove_img_change_apply (json_t *cfg, const char *change,
                           struct cove_error **err);

/* Store the image config document DOC as a blob and record the image of
   it with LAYERS (chain ids, bottom first, NULL-terminated; they must be
   stored), named TAG (NULL: no name).  *OUT_ID gets its id (64 hex).  */
int cove_img_store (struct cove_storage *s, json_t *doc, char **layers,
                    const char *tag, char **out_id, struct cove_error **err);

/* A new step of DOC's history: "created" (now) of DOC and of the entry,
   CREATED_BY, AUTHOR, COMMENT (each may be NULL), and the layer DIFF_ID
   added to rootfs.diff_ids (NULL: the entry is an empty_layer).  Returns
   DOC.  */
struct cove_img_history
{
  const char *created_by, *author, *comment, *diff_id;
};
json_t *cove_img_add_history (json_t *doc, const struct cove_img_history *h);

#endif
