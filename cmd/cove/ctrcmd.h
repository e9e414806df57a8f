/* cove: the plumbing shared by the container commands: options, the
   store, one container at a time.  */
#ifndef COVE_CMD_CTRCMD_H
#define COVE_CMD_CTRCMD_H

#include <stdbool.h>

#include "cmd/cove/opts.h"
#include "pkg/state/state.h"
#include "storage/storage.h"

/* The options of the container commands, one id each, so that one
   handler (cove_ctr_flags_opt) serves every table.  */
enum
{
  CTR_OPT_HELP = 1, CTR_OPT_ALL, CTR_OPT_LATEST, CTR_OPT_IGNORE,
  CTR_OPT_FORCE, CTR_OPT_VOLUMES, CTR_OPT_TIME, CTR_OPT_SIGNAL,
  CTR_OPT_ATTACH, CTR_OPT_INTERACTIVE, CTR_OPT_SIG_PROXY,
  CTR_OPT_DETACH_KEYS, CTR_OPT_NO_STDIN, CTR_OPT_CONDITION,
  CTR_OPT_INTERVAL, CTR_OPT_REPAIR, CTR_OPT_QUIET,
  CTR_OPT_ACCEPTED,  /* taken for podman's sake, without effect */
};

/* What those options set.  */
struct cove_ctr_flags
{
  bool all, latest, ignore, force, volumes, attach, interactive;
  bool sig_proxy, no_stdin, repair, quiet;
  bool all_running;       /* set by the command: -a means the running ones */
  int time;               /* -t seconds, -1 when not given */
  int signal;             /* -s */
  const char *detach_keys;
  char **conditions;      /* --condition words, NULL when none (owned) */
  long interval_ms;       /* --interval */
};

/* Defaults: time -1, signal SIGKILL, sig_proxy true, interval 250 ms.  */
void cove_ctr_flags_init (struct cove_ctr_flags *f);
void cove_ctr_flags_free (struct cove_ctr_flags *f);

typedef int (*cove_ctr_opt_fn) (int id, const char *value, void *ctx,
                                struct cove_error **err);

/* The cove_ctr_opt_fn of the CTR_OPT_* ids; CTX a struct cove_ctr_flags.  */
int cove_ctr_flags_opt (int id, const char *value, void *ctx,
                        struct cove_error **err);

/* The options of `container prune` and `pod prune`: -f, -h.  */
extern const struct cove_opt cove_ctr_prune_opts[];

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
