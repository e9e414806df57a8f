/* cove: the plumbing shared by the container commands: options, the
   store, one container at a time.  */
#ifndef COVE_CMD_CTRCMD_H
#define COVE_CMD_CTRCMD_H

#include <stdbool.h>

#include "cmd/cove/opts.h"
#include "pkg/state/state.h"
#include "storage/storage.h"

#define CTR_OPT_HELP 1   /* every table's --help has this id */

typedef int (*cove_ctr_opt_fn) (int id, const char *value, void *ctx,
                                struct cove_error **err);

/* Parse ARGV with TABLE (interspersed), calling ON_OPT for each option but
   --help.  Returns the positional arguments (caller frees the array only),
   or NULL with *OUT_STATUS: 0 after --help, 125 after printing a bad
   option's error.  */
char **cove_ctr_parse (int argc, char **argv, const struct cove_opt *table,
                       const char *usage, const char *desc,
                       cove_ctr_opt_fn on_opt, void *ctx, int *out_n,
                       int *out_status);

/* An open container store, in the user namespace when USERNS.  */
struct cove_ctr_cmd
{
  struct cove_storage_paths paths;
  struct cove_state_store st;
};

int cove_ctr_cmd_open (struct cove_ctr_cmd *c, bool userns,
                       struct cove_error **err);
void cove_ctr_cmd_close (struct cove_ctr_cmd *c);

/* The most recently created container's id (-l/--latest); caller frees.
   errnum ENOENT when there is none.  */
char *cove_ctr_latest (struct cove_state_store *st, struct cove_error **err);

#endif
