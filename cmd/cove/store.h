/* cove: opening the user's store from a command.  */
#ifndef COVE_CMD_STORE_H
#define COVE_CMD_STORE_H

#include "pkg/util/error.h"
#include "storage/storage.h"

/* Enter the user namespace and open the store of the user's paths.  *OUT_S
   and *OUT_PATHS are set on success; release both with cove_cmd_store_close.  */
int cove_cmd_store_open (struct cove_storage_paths *out_paths,
                         struct cove_storage **out_s, struct cove_error **err);
void cove_cmd_store_close (struct cove_storage_paths *paths,
                           struct cove_storage *s);

/* Run `cove-full pull [ARGS] REFERENCE` (ARGS: extra pull options, may be
   NULL) as a child of this (light) binary and wait: the registry, archive
   and crypto libraries live in cove-full only.  Its progress goes to our
   stderr; *OUT_ID gets the image id it prints.  When it fails it has
   printed its own `Error:` line: then -1 is returned with *ERR left NULL
   and *OUT_STATUS its exit status; *ERR is set only when it could not be
   run.  */
int cove_cmd_pull_via_full (const char *reference, char *const *args,
                            char **out_id, int *out_status,
                            struct cove_error **err);

/* The path of cove-full: next to this binary (a build directory), else in
   COVE_LIBEXECDIR.  Caller frees.  */
char *cove_cmd_full_binary (void);

#endif
