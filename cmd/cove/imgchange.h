/* cove: --change INSTRUCTION VALUE (import, commit).  */
#ifndef COVE_CMD_IMGCHANGE_H
#define COVE_CMD_IMGCHANGE_H

#include <jansson.h>

#include "pkg/util/error.h"

/* Apply CHANGE, "INSTRUCTION VALUE" or "INSTRUCTION=VALUE" (CMD,
   ENTRYPOINT: a JSON array or the shell form; ENV; EXPOSE; LABEL;
   STOPSIGNAL; USER; VOLUME; WORKDIR), to the image config object CFG.
   errnum EINVAL: an unknown instruction or a bad value (the message says
   which).  */
int cove_img_change_apply (json_t *cfg, const char *change,
                           struct cove_error **err);

#endif
