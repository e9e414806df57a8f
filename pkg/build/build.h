/* cove: the Containerfile (Dockerfile) parser and the .containerignore
   matcher of `cove build`.

   A Containerfile comes from the user's build context, and so may come from
   anyone (a cloned repository): the parser is fuzzed, bounds every loop by
   the input and never expands variables itself.  It follows the Dockerfile
   reference as BuildKit implements it: parser directives (`# escape=`,
   `# syntax=`), comments, line continuations, exec (JSON) and shell forms,
   flags, heredocs.  Variable expansion depends on the ARG/ENV values at each
   step, which only the builder knows: cove_build_expand does it when the
   builder asks, on the instructions for which
   cove_build_kind_expands is true.  */
#ifndef COVE_BUILD_BUILD_H
#define COVE_BUILD_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg/util/error.h"

enum cove_build_kind
{
  COVE_BUILD_FROM,
  COVE_BUILD_RUN,
  COVE_BUILD_CMD,
  COVE_BUILD_LABEL,
  COVE_BUILD_MAINTAINER,
  COVE_BUILD_EXPOSE,
  COVE_BUILD_ENV,
  COVE_BUILD_ADD,
  COVE_BUILD_COPY,
  COVE_BUILD_ENTRYPOINT,
  COVE_BUILD_VOLUME,
  COVE_BUILD_USER,
  COVE_BUILD_WORKDIR,
  COVE_BUILD_ARG,
  COVE_BUILD_ONBUILD,
  COVE_BUILD_STOPSIGNAL,
  COVE_BUILD_HEALTHCHECK,
  COVE_BUILD_SHELL,
};

/* A `--name=value` flag.  Boolean flags (--link) are stored with the value
   "true" or "false"; a repeatable one (RUN --mount) appears once per use,
   in order.  Values are as written (not expanded).  */
struct cove_build_flag
{
  char *name;
  char *value;
};

/* ENV and LABEL pairs, ARG names with their optional default.  Both sides
   are raw words, quotes and escapes kept: the builder runs each through
   cove_build_expand, which removes them (as docker does, even when there is
   no variable).  All pairs of one instruction are expanded with the
   values from before it (docker: `ENV a=1 b=$a` gives b the earlier a).
   VALUE is NULL for an ARG without a default.  */
struct cove_build_kv
{
  char *key;
  char *value;
};

/* A heredoc of RUN, COPY or ADD (or of the instruction of an ONBUILD).  */
struct cove_build_heredoc
{
  char *name;       /* the delimiter, quotes removed: COPY's source name */
  char *body;       /* the lines up to the delimiter, each with its '\n';
                       leading tabs already removed when strip_tabs */
  bool expand;      /* the delimiter was not quoted: COPY/ADD expand
                       variables in the body (RUN leaves that to the shell) */
  bool strip_tabs;  /* written <<-NAME */
  int fd;           /* the N of N<<NAME, 0 when none was given */
};

/* HEALTHCHECK: durations in nanoseconds, 0 when not given.  */
struct cove_build_health
{
  bool none;                /* HEALTHCHECK NONE */
  int64_t interval, timeout, start_period, start_interval;
  int retries;
};

struct cove_build_instr
{
  enum cove_build_kind kind;
  char *original;   /* the logical line: continuations joined, comment
                       lines between them dropped, no heredoc bodies */
  size_t line;      /* 1-based number of its first physical line */
  struct cove_build_flag *flags;
  size_t n_flags;
  /* The arguments, NULL-terminated, never NULL itself:
     - json_form: the strings of the JSON array (RUN CMD ENTRYPOINT SHELL
       ADD COPY VOLUME, and HEALTHCHECK CMD's command);
     - RUN CMD ENTRYPOINT in shell form: one string, the command line;
     - FROM: image [AS name]; EXPOSE, VOLUME, ADD, COPY: the words;
     - MAINTAINER USER WORKDIR STOPSIGNAL: one string, the rest of the line;
     - HEALTHCHECK: "NONE", or "CMD" then the command as RUN;
     - ONBUILD: one string, the trigger instruction as written (with its
       heredocs appended, as docker stores it);
     - ENV LABEL ARG: empty (see kvs).
     Words other than JSON strings are raw: quotes and escapes kept.  */
  char **args;
  bool json_form;   /* ONBUILD: whether its trigger is in exec form */
  struct cove_build_kv *kvs;
  size_t n_kvs;
  struct cove_build_heredoc *heredocs;
  size_t n_heredocs;
  struct cove_build_health health;      /* HEALTHCHECK only */
  enum cove_build_kind onbuild_kind;    /* ONBUILD only: the trigger's */
};

struct cove_build_stage
{
  size_t index;        /* 0-based, the N of COPY --from=N */
  char *image;         /* FROM's image, raw (may use global ARGs) */
  char *name;          /* `AS name`, lowercased, or NULL */
  char *platform;      /* --platform, raw, or NULL */
  struct cove_build_instr from;   /* the FROM instruction itself */
  struct cove_build_instr *instrs;  /* the instructions after FROM */
  size_t n_instrs;
};

struct cove_build_file
{
  char *name;          /* as given to cove_build_parse, for messages */
  char escape;         /* '\\' or '`' (the escape directive) */
  char *syntax;        /* the syntax directive, or NULL */
  /* ARGs before the first FROM: usable in FROM lines; inside a stage only
     after an ARG of the same name re-declares them there.  */
  struct cove_build_instr *global_args;
  size_t n_global_args;
  struct cove_build_stage *stages;      /* at least one */
  size_t n_stages;
  /* What docker warns about but builds ("NAME:LINE: empty continuation
     line"), NULL-terminated, never NULL.  */
  char **warnings;
};

/* Parse the Containerfile TEXT of LEN bytes (NUL bytes are refused); NAME
   (a path) only appears in messages.  Returns a new file that the caller
   frees with cove_build_file_free.  On a syntax error returns NULL with
   errnum EINVAL and a message "NAME:LINE: INSTRUCTION: what is wrong"
   (without INSTRUCTION where there is none, e.g. a bad directive).  */
struct cove_build_file *cove_build_parse (const char *name, const char *text,
                                          size_t len,
                                          struct cove_error **err);

void cove_build_file_free (struct cove_build_file *file);

/* "RUN", "COPY", ...  */
const char *cove_build_kind_name (enum cove_build_kind kind);

/* True for the instructions whose words docker expands (ADD ARG COPY ENV
   EXPOSE FROM LABEL STOPSIGNAL USER VOLUME WORKDIR, and the flags of
   ADD/COPY/FROM); false for RUN CMD ENTRYPOINT (the shell expands), SHELL,
   HEALTHCHECK, MAINTAINER and ONBUILD (expanded when the trigger runs in a
   child image).  */
bool cove_build_kind_expands (enum cove_build_kind kind);

/* The value of the last --NAME flag of INSTR, or NULL.  */
const char *cove_build_instr_flag (const struct cove_build_instr *instr,
                                   const char *name);

/* The heredoc that the word ARG of INSTR stands for (a COPY/ADD source
   `<<EOF`), or NULL when ARG is no heredoc.  */
const struct cove_build_heredoc *
cove_build_instr_heredoc (const struct cove_build_instr *instr,
                          const char *arg);

/* The shell command of the shell-form RUN (or CMD, ENTRYPOINT) INSTR as
   docker runs it, for the builder to pass to the SHELL: args[0] when there
   is no heredoc; the body of the heredoc when the command is `<<EOF`
   alone (*OUT_SHEBANG set when the body starts with "#!": docker then
   writes the body to a file and runs that file instead); otherwise the
   line with each heredoc's body and delimiter after it, for the shell to
   read.  NULL for the exec form or an empty command.  Caller frees.  */
char *cove_build_run_command (const struct cove_build_instr *instr,
                              bool *out_shebang);

/* The stage that REF names for COPY --from / FROM: a stage name (compared
   lowercase) or a decimal index, among the stages before BEFORE (pass
   file->n_stages for any).  NULL when there is none: REF is then an
   image.  */
const struct cove_build_stage *
cove_build_find_stage (const struct cove_build_file *file, const char *ref,
                       size_t before);

/* Value of variable NAME, or NULL when it is not set.  */
typedef const char *(*cove_build_lookup_fn) (void *ctx, const char *name);

/* Expand the raw word WORD as docker does for the instructions above:
   quote removal ('...' literal, "..." with $ expansion), ESCAPE ('\\' or
   '`') escaping the next character, $NAME, ${NAME}, ${NAME:-word},
   ${NAME-word}, ${NAME:+word}, ${NAME+word}, ${NAME:?msg}, ${NAME?msg},
   ${NAME#pat} ${NAME##pat} ${NAME%pat} ${NAME%%pat}.  An unset variable
   expands to "".  LOOKUP may be NULL (nothing is set).  Sets *OUT to a new
   string.  Errors (errnum EINVAL): unterminated quote or ${, bad
   substitution, ${NAME?} of an unset variable.  */
int cove_build_expand (const char *word, cove_build_lookup_fn lookup,
                       void *ctx, char escape, char **out,
                       struct cove_error **err);

/* RUN --mount=...  */
enum cove_build_mount_type
{
  COVE_BUILD_MOUNT_BIND,
  COVE_BUILD_MOUNT_CACHE,
  COVE_BUILD_MOUNT_TMPFS,
  COVE_BUILD_MOUNT_SECRET,
  COVE_BUILD_MOUNT_SSH,
};

struct cove_build_mount
{
  enum cove_build_mount_type type;      /* default bind */
  char *target;        /* target=, dst=, destination= */
  char *source;        /* source=, src= */
  char *from;          /* a stage or image (bind, cache) */
  char *id;            /* cache, secret, ssh */
  char *env;           /* secret: env= */
  char *sharing;       /* cache: "shared", "private", "locked", or NULL */
  bool readonly;       /* default: true for bind, secret, ssh */
  bool required;       /* secret, ssh */
  int64_t size;        /* tmpfs: size= in bytes, 0 when not given */
  long mode, uid, gid; /* cache, secret, ssh; -1 when not given */
};

/* Parse the value of a RUN --mount flag (comma-separated key=value
   fields, CSV quoting), as BuildKit does.  With LOOKUP each value is
   expanded first (with CTX and ESCAPE); without, values are taken as
   written and those holding a `$` are not checked (a check at parse time).
   Fills *OUT, which the caller clears with cove_build_mount_clear (also
   after a failure).  Errors: EINVAL.  */
int cove_build_mount_parse (const char *flag, cove_build_lookup_fn lookup,
                            void *ctx, char escape,
                            struct cove_build_mount *out,
                            struct cove_error **err);

void cove_build_mount_clear (struct cove_build_mount *m);

/* Build variables: the ARG (or ARG and ENV) values at a step, for
   cove_build_expand (pass cove_build_vars_lookup and the vars as CTX) and
   for the environment of RUN.  */
struct cove_build_vars;

struct cove_build_vars *cove_build_vars_new (void);
struct cove_build_vars *cove_build_vars_dup (const struct cove_build_vars *v);
void cove_build_vars_free (struct cove_build_vars *v);
/* Set NAME to a copy of VALUE (replacing an earlier value in place).  */
void cove_build_vars_set (struct cove_build_vars *v, const char *name,
                          const char *value);
/* The value of NAME, or NULL.  */
const char *cove_build_vars_get (const struct cove_build_vars *v,
                                 const char *name);
/* A cove_build_lookup_fn: CTX is a struct cove_build_vars.  */
const char *cove_build_vars_lookup (void *ctx, const char *name);
/* "NAME=value" strings in the order set, NULL-terminated; caller frees
   with cove_strv_free.  */
char **cove_build_vars_environ (const struct cove_build_vars *v);

/* Set the automatic platform ARGs of PREFIX ("TARGET" or "BUILD"):
   PREFIXPLATFORM (os/arch[/variant]), PREFIXOS, PREFIXARCH and
   PREFIXVARIANT ("" without a variant), as BuildKit predefines them.  */
void cove_build_vars_set_platform (struct cove_build_vars *v,
                                   const char *prefix, const char *os,
                                   const char *arch, const char *variant);

/* The values of FILE's global ARGs (those before the first FROM), in
   order, for expanding FROM lines: PREDEFINED (may be NULL: the automatic
   platform ARGs, usable in FROM without a declaration) first; then each
   global ARG gets the value BUILD_ARGS (the --build-arg values, may be
   NULL) gives it, else its default expanded with what precedes it, else
   stays unset.  Errors: a default that fails to expand (EINVAL, message
   with the file and line).  */
struct cove_build_vars *
cove_build_global_vars (const struct cove_build_file *file,
                        const struct cove_build_vars *predefined,
                        cove_build_lookup_fn build_args, void *ctx,
                        struct cove_error **err);

/* What an ARG inside a stage needs besides the stage's variables.  */
struct cove_build_arg_ctx
{
  const struct cove_build_file *file;      /* for escape and messages */
  const struct cove_build_vars *globals;   /* cove_build_global_vars */
  cove_build_lookup_fn build_args;         /* --build-arg values, or NULL */
  void *build_args_ctx;
};

/* Apply the ARG instruction INSTR of a stage to ARGS, the stage's ARG
   values so far (docker's scoping): each name gets its --build-arg value,
   else its default expanded with LOOKUP/LOOKUP_CTX (the step's ARG and ENV
   values; NULL: ARGS itself), else the value of the global ARG of that
   name (re-declaring a global ARG brings it into the stage), else stays
   unset.  Errors: EINVAL from the expansion.  */
int cove_build_vars_apply_arg (struct cove_build_vars *args,
                               const struct cove_build_instr *instr,
                               const struct cove_build_arg_ctx *ac,
                               cove_build_lookup_fn lookup, void *lookup_ctx,
                               struct cove_error **err);

/* .containerignore / .dockerignore (docker's rules).  */
struct cove_build_ignore;

/* Parse the ignore file TEXT: one pattern a line, `#` comment lines and
   blank lines skipped, patterns cleaned as filepath.Clean does and a
   leading `/` removed, `!` marking an exception.  Errors (errnum EINVAL):
   a bad pattern (unclosed `[`, trailing `\`), `!` alone.  Caller frees the
   result with cove_build_ignore_free.  */
struct cove_build_ignore *cove_build_ignore_parse (const char *text,
                                                   size_t len,
                                                   struct cove_error **err);

/* Append one pattern line to IG, after those of the file (the builder
   adds "!Containerfile" so that the file it builds from is never left
   out, as docker does).  Errors as cove_build_ignore_parse; IG is
   unchanged then.  */
int cove_build_ignore_add (struct cove_build_ignore *ig, const char *pattern,
                           struct cove_error **err);

void cove_build_ignore_free (struct cove_build_ignore *ig);

/* Whether RELPATH (relative to the context, '/'-separated, cleaned) is
   excluded: the last pattern that matches it or one of its parent
   directories decides.  `*` and `?` do not match '/', `**` matches any
   number of directories.  */
bool cove_build_ignore_match (const struct cove_build_ignore *ig,
                              const char *relpath);

/* For an excluded directory RELDIR: whether an exception may re-include
   something below it, so that the walker must still descend into it.  */
bool cove_build_ignore_may_reinclude (const struct cove_build_ignore *ig,
                                      const char *reldir);

#endif
