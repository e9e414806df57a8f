/* cove run IMAGE: the image's part of a run.  */
#ifndef COVE_CMD_RUNIMAGE_H
#define COVE_CMD_RUNIMAGE_H

#include "cmd/cove/runopts.h"
#include "storage/storage.h"

/* Find O->image in the store S (pulling it through cove-full as O->pull
   says), and put its config's Env, Cmd, Entrypoint, WorkingDir and User
   into O->req.  *OUT_IMG gets the image.  On failure *OUT_STATUS is the
   exit status (a failed pull's own) and *ERR is set unless the pull
   already printed its error.  */
int cove_run_image_resolve (struct cove_run_options *o, struct cove_storage *s,
                            struct cove_storage_image *out_img,
                            int *out_status, struct cove_error **err);

#endif
