/* cove build: the builder's shared state (build.c runs the stages,
   buildstep.c the instructions and the cache, buildrun.c the steps that
   change files: RUN in a container, COPY/ADD into a root of the build's
   own).  */
#ifndef COVE_CMD_BUILD_H
#define COVE_CMD_BUILD_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

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
  const char *platform;     /* --platform: must be this machine's */
  bool no_cache, quiet, layers;
  bool squash, squash_all;  /* imply !layers (buildsquash.c) */
  bool docker_format;       /* --format docker; else oci */
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
  char **temp_images;                 /* !layers: the steps' images */
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

/* REF, an earlier stage (by name or index) or else an image (pulled when
   missing): its image id.  */
char *build_stage_or_image (struct build *b, const char *ref,
                            struct cove_error **err);

/* Load image ID (its config and layers) into IMG.  */
int build_image_load (struct build *b, const char *id, struct build_image *img,
                      struct cove_error **err);

/* The environment of IMG's config plus the stage's ARG values, for
   expansions (caller frees with cove_build_vars_free).  */
struct cove_build_vars *build_step_vars (const struct build_image *img);

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
   with ENV and the RUN --mount MOUNTS (set up; may be NULL), then its
   changes as a new layer (*OUT_CHAIN, *OUT_DIFF_ID).  *OUT_STATUS: the
   command's exit status when it fails.  */
struct build_mounts;
struct build_run_req
{
  char *const *argv;
  char *const *env;
  const struct build_mounts *mounts;
};
int build_run (struct build *b, const struct build_image *img,
               const struct build_run_req *req, int *out_status,
               char **out_chain, char **out_diff_id, struct cove_error **err);

/* COPY/ADD of the context's SRCS (expanded, relative to the context) to
   DEST in a root of IMG, with OWNER ("uid:gid" strings resolved against
   the image; NULL: 0:0): the changes as a new layer.  *OUT_DIGEST a
   digest of the sources' content, for the cache, is computed first
   (with DRY_RUN nothing else is done).  */
struct build_add_file;
struct build_copy
{
  char *const *srcs;
  const char *dest;
  const char *chown;
  const char *chmod;
  const char *from_image;   /* --from: an image id whose root is copied
                               from instead of the context; NULL */
  bool unpack;              /* ADD: a tar archive among SRCS is unpacked */
  const struct build_add_file *files;   /* heredocs, downloads: written
                                           after SRCS (buildadd.c) */
  size_t n_files;
};
int build_copy_digest (struct build *b, const struct build_copy *c,
                       char **out_digest, struct cove_error **err);
int build_copy (struct build *b, const struct build_image *img,
                const struct build_copy *c, char **out_chain,
                char **out_diff_id, struct cove_error **err);

/* buildadd.c: what COPY and ADD write besides the context's files.  */

struct cove_cp_owner;

/* A file made here for a step: a heredoc's body or a URL's download.  */
struct build_add_file
{
  char *name;               /* its name in DEST when DEST is a directory */
  int fd;                   /* its content (an unlinked file), from 0 */
  mode_t mode;              /* 0644 heredoc, 0600 download */
  struct timespec mtime;    /* tv_nsec UTIME_NOW: the time of the copy */
  char *digest;             /* "sha256:..." of the content */
};

struct build_add_sources
{
  char **local;             /* the context's (or --from's) sources */
  struct build_add_file *files;
  size_t n_files;
};

/* Sort the expanded source WORDS of IN (COPY or ADD, the destination
   excluded) into OUT: the sources to copy, and the files made here:
   heredocs (expanded with VARS unless quoted) and, for ADD, http(s) URLs,
   downloaded now (--checksum verified).  errnum EINVAL: a URL for COPY, a
   bad --checksum or a mismatch; ENOTSUP: another URL scheme; EIO: the
   download failed (the message names the URL and the HTTP status).  Free
   OUT with build_add_sources_clear, also after a failure.  */
int build_add_sources (struct build *b, const struct cove_build_instr *in,
                       char *const *words, struct cove_build_vars *vars,
                       struct build_add_sources *out, struct cove_error **err);
void build_add_sources_clear (struct build_add_sources *s);

/* What of F[0..N) lands in the layer (names, digests, modes, mtimes), for
   the cache key; caller frees.  */
char *build_add_files_key (const struct build_add_file *f, size_t n);

/* 1 when FD (may be O_PATH) is a regular file holding a tar archive,
   plain or compressed (gzip, bzip2, xz, zstd): docker's test, by content.  */
int build_add_is_archive (int fd);

/* ADD: when the file NAME of SDIR is a tar archive, unpack it into DDIR
   (through a scratch directory made in SCRATCH), owned as O says, and
   return 1; 0 when it is no archive (nothing done).  errnum EINVAL: a
   hostile entry; EIO: a corrupt archive.  */
int build_add_unpack (int sdir, const char *name, int ddir,
                      const struct cove_cp_owner *o, const char *scratch,
                      struct cove_error **err);

/* Write F as NAME in DDIR (into NAME, by F's name, when NAME is an
   existing directory), owned by O's ids, mode CHMOD (0: F's).  */
int build_add_put (int ddir, const char *name, const struct build_add_file *f,
                   const struct cove_cp_owner *o, mode_t chmod,
                   struct cove_error **err);

/* The file name of a download of URL: its path's last element, decoded
   ("__unnamed__" when there is none, as buildkit); caller frees.  */
char *build_add_url_name (const char *url);

/* buildsquash.c: --layers=false, --squash, --squash-all.  */

/* Make IMG, a stage built on a base of BASE_LAYERS layers and BASE_HIST
   history entries, an image of the base's layers plus one layer of all
   the stage's changes (ALL: of one layer with everything), its new
   history entries empty_layer but the last, as podman.  */
int build_squash_stage (struct build *b, struct build_image *img,
                        size_t base_layers, size_t base_hist, bool all,
                        struct cove_error **err);
/* Without --layers: remember the image DOC is about to become, to be
   removed by build_temp_images_drop (but for KEEP, may be NULL) when the
   build ends.  */
void build_temp_image_note (struct build *b, json_t *doc);
void build_temp_images_drop (struct build *b, const char *keep);

/* buildbase.c */

/* The config object of DOC (made when missing).  */
json_t *build_config_of (json_t *doc);

/* Run the ONBUILD triggers of IMG's config as steps, and clear them.  */
int build_onbuild (struct build *b, struct build_image *img, int *out_status,
                   struct cove_error **err);
/* RAW (FROM's --platform, or --platform: a list) expanded with the global
   ARGs must name this machine's platform; errnum ENOTSUP when it does
   not, EINVAL when malformed.  WHAT for messages.  */
int build_check_platform (struct build *b, const char *what, const char *raw,
                          struct cove_error **err);
/* --format oci: drop from the config of DOC what only docker's format
   holds (ONBUILD, SHELL, HEALTHCHECK), warning as podman; true when DOC
   changed.  */
bool build_format_strip (struct build *b, json_t *doc);

/* buildmount.c: RUN --mount (bind, cache, tmpfs; secret and ssh are
   refused with ENOTSUP).  */
struct build_mount
{
  struct cove_build_mount spec;   /* as parsed, values expanded */
  char *target;                   /* absolute, cleaned */
  char *from;                     /* from=: the image id; NULL: context */
  char *cache_id;                 /* cache: id=, else the target */
  char *point;                    /* made: what `cove run` binds */
  char *lower;                    /* rw bind: the overlay's lower mount */
  char *root_id, *root_dir;       /* from=: its root mounted for the step */
  int lock;                       /* a locked cache's flock, or -1 */
  bool mounted;                   /* POINT is a mount of ours */
};
struct build_mounts
{
  struct build_mount *v;
  size_t n;
  char **key;         /* the mounts as the step's cache key has them */
  char **args;        /* "--mount" options for cove run, once set up */
  char *dir;          /* the step's staging directory, or NULL */
};

/* The --mount flags of the RUN IN of IMG, expanded with VARS, checked,
   from= resolved (a stage, or an image pulled when missing), and their
   cache key words computed (a bind of the context: its content's
   digest).  Nothing is mounted yet.  Clear OUT with build_mounts_clear,
   also after a failure.  errnum ENOTSUP: a type or option cove does not
   do; EINVAL: malformed.  */
int build_mounts_parse (struct build *b, const struct build_image *img,
                        const struct cove_build_instr *in,
                        struct cove_build_vars *vars,
                        struct build_mounts *out, struct cove_error **err);
/* Make what MS's mounts bind (staging mounts, cache directories, their
   locks) and MS->args.  */
int build_mounts_setup (struct build *b, struct build_mounts *ms,
                        struct cove_error **err);
/* The paths the layer of container CTR_ID (of image SI) leaves out:
   cove's own mount targets, MS's targets (MS may be NULL), and the
   directories made only to hold them.  Caller frees.  */
char **build_mounts_skip (struct build *b, const struct cove_storage_image *si,
                          const struct build_mounts *ms, const char *ctr_id);
/* Unmount, unlock and remove what setup made; free MS.  */
void build_mounts_clear (struct build *b, struct build_mounts *ms);

#endif
