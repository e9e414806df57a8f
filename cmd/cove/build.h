/* cove build: the builder's shared state (build.c runs the stages,
   buildstep.c the instructions and the cache, buildrun.c the steps that
   change files: RUN in a container, COPY/ADD into a root of the build's
   own).  */
#ifndef COVE_CMD_BUILD_H
#define COVE_CMD_BUILD_H

#include <jansson.h>
#include <stdbool.h>

#include "pkg/build/build.h"
#include "pkg/state/state.h"
#include "storage/storage.h"

struct build_options
{
  char **tags;              /* -t, normalised */
  const char *file;         /* -f */
  const char *context;      /* the context directory */
  char **build_args;        /* --build-arg K=V (K alone: from the env) */
  char **labels;            /* --label K=V */
  const char *network;      /* --network for RUN; NULL: slirp */
  const char *target;       /* --target */
  const char *iidfile;
  bool no_cache, quiet, layers;
};

struct build
{
  const struct build_options *o;
  struct cove_build_file *file;
  struct cove_build_ignore *ignore;   /* NULL: no ignore file */
  int context_fd;
  struct cove_storage_paths paths;
  struct cove_storage *s;
  struct cove_state_store st;
  struct cove_build_vars *build_args; /* the --build-arg values */
  struct cove_build_vars *globals;    /* the global ARGs */
  char **stage_images;                /* each stage's result, by index */
  size_t stage;                       /* the stage being built */
  size_t step, n_steps;
};

/* The image a stage is building: its config document and its layers.  */
struct build_image
{
  char *id;                 /* NULL: scratch, nothing committed yet */
  json_t *doc;              /* the whole config document */
  char **layers;            /* chain ids, bottom first */
  struct cove_build_vars *args;       /* the stage's ARG values */
  bool cmd_set;             /* a CMD of the stage ran (ENTRYPOINT keeps it) */
};

void build_image_clear (struct build_image *img);

/* buildstep.c */

/* Run the instruction IN of the stage on IMG, printing its step.  Returns
   0, or -1 with *ERR; *OUT_STATUS the exit status to give (a failed RUN's
   own, 125 else).  */
int build_step (struct build *b, struct build_image *img,
                const struct cove_build_instr *in, int *out_status,
                struct cove_error **err);

/* Record DOC with LAYERS as an image (intermediate: no name) and make it
   IMG's new state; the cache remembers it under KEY (may be NULL).  */
int build_commit_image (struct build *b, struct build_image *img,
                        json_t *doc, char **layers, const char *key,
                        struct cove_error **err);

/* The image the cache has for KEY, or NULL.  */
char *build_cache_lookup (struct build *b, const char *key);

/* Load the image REF (a name, pulled when missing, or an id) into IMG.  */
int build_image_base (struct build *b, const char *ref, struct build_image *img,
                      struct cove_error **err);

/* Load image ID (its config and layers) into IMG.  */
int build_image_load (struct build *b, const char *id, struct build_image *img,
                      struct cove_error **err);

/* The environment of IMG's config plus the stage's ARG values, for
   expansions (caller frees with cove_build_vars_free).  */
struct cove_build_vars *build_step_vars (const struct build_image *img);

/* The config object of DOC (made when missing).  */
json_t *build_config_of (json_t *doc);
/* A copy of IMG's document with a new history entry CREATED_BY (and a new
   diff_id when DIFF_ID is not NULL; else the entry is an empty_layer).  */
json_t *build_next_doc (const struct build_image *img, const char *created_by,
                        const char *diff_id);
/* The cache key of a step of IMG: its parent, WHAT, then the strings of
   A and of B (each may be NULL).  */
char *build_step_key (const struct build_image *img, const char *what,
                      char *const *a, char *const *b);
/* When the cache has KEY: print "--> Using cache ID", load that image
   into IMG and return 1; 0: the step must run.  */
int build_use_cache (struct build *b, struct build_image *img, const char *key,
                     struct cove_error **err);
/* IN->args with each word expanded with VARS (JSON forms as they are);
   NULL-terminated, caller frees.  */
char **build_expand_args (struct build *b, const struct cove_build_instr *in,
                          struct cove_build_vars *vars, struct cove_error **err);

/* buildconf.c: the instructions that change only the config (ENV, LABEL,
   CMD...), applied to DOC with the step's VARS.  */
int build_config_apply (struct build *b, struct build_image *img, json_t *doc,
                        const struct cove_build_instr *in,
                        struct cove_build_vars *vars, struct cove_error **err);

/* The stage's shell (SHELL's array, else ["/bin/sh", "-c"]) from the
   config object CFG; caller owns it.  */
json_t *build_shell (json_t *cfg);

/* buildrun.c */

/* RUN: the command ARGV in a container of IMG (its env, workdir, user),
   then its changes as a new layer (*OUT_CHAIN, *OUT_DIFF_ID).
   *OUT_STATUS: the command's exit status when it fails.  */
int build_run (struct build *b, const struct build_image *img,
               char *const *argv, char *const *env, int *out_status,
               char **out_chain, char **out_diff_id, struct cove_error **err);

/* COPY/ADD of the context's SRCS (expanded, relative to the context) to
   DEST in a root of IMG, with OWNER ("uid:gid" strings resolved against
   the image; NULL: 0:0): the changes as a new layer.  *OUT_DIGEST a
   digest of the sources' content, for the cache, is computed first
   (with DRY_RUN nothing else is done).  */
struct build_copy
{
  char *const *srcs;
  const char *dest;
  const char *chown;
  const char *chmod;
  const char *from_image;   /* --from: an image id whose root is copied
                               from instead of the context; NULL */
};
int build_copy_digest (struct build *b, const struct build_copy *c,
                       char **out_digest, struct cove_error **err);
int build_copy (struct build *b, const struct build_image *img,
                const struct build_copy *c, char **out_chain,
                char **out_diff_id, struct cove_error **err);

#endif
