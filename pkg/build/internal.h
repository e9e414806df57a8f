/* cove: private declarations of pkg/build.  */
#ifndef COVE_BUILD_INTERNAL_H
#define COVE_BUILD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "pkg/build/build.h"

/* A growing string, always NUL-terminated once anything was added.  */
struct sbuf
{
  char *s;
  size_t len, cap;
};

void bld_sbuf_addn (struct sbuf *b, const char *s, size_t n);
void bld_sbuf_add (struct sbuf *b, const char *s);
void bld_sbuf_addc (struct sbuf *b, char c);
/* The string (never NULL; "" when empty), handed to the caller.  */
char *bld_sbuf_steal (struct sbuf *b);
void bld_sbuf_free (struct sbuf *b);

static inline bool
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'
         || c == '\f';
}

/* Physical lines of the text.  */
struct line_reader
{
  const char *text;
  size_t len;
  size_t pos;
  size_t lineno;       /* number of the last line returned, 1-based */
};

/* The next line with its '\n' (if any) in *OUT and *OUT_LEN; false at EOF.  */
bool bld_line_next (struct line_reader *r, const char **out, size_t *out_len);

/* Parser state of the lines: directives and the escape character.  */
struct lex
{
  struct line_reader r;
  char escape;
  char *syntax;
  bool directives_done;
  bool seen_escape, seen_syntax, seen_check;
  bool empty_continuation;   /* the last line read had a blank line in it */
};

/* Read the next logical line (continuations joined, comments dropped)
   into *OUT; *OUT_LINE its first line number.  Returns 1, 0 at EOF, -1 on a
   bad directive (*ERR set, message without location; *OUT_LINE set).  */
int bld_lex_next (struct lex *lx, struct sbuf *out, size_t *out_line,
                  struct cove_error **err);

/* Strip leading tabs from every line of BODY (<<-).  */
char *bld_strip_tabs (const char *body);

/* Words of LINE that start heredocs (`<<EOF`, `<<-"EOF"`, `2<<EOF`), as
   docker finds them: appended to *DOCS (*N of them) with name, expand,
   strip_tabs and fd set, body NULL.  */
int bld_heredocs_from_line (const char *line, struct cove_build_heredoc **docs,
                            size_t *n, struct cove_error **err);

/* Whether WORD as a whole is a heredoc start; when it is and OUT is not
   NULL fills OUT (name allocated).  */
bool bld_heredoc_word (const char *word, struct cove_build_heredoc *out);

/* The words of REST split at blanks, quotes and escapes kept (docker's
   parseWords).  */
char **bld_split_words_raw (const char *rest, char escape);

/* The leading `--flag` words of LINE (docker's extractBuilderFlags) into
   *OUT_FLAGS, quotes removed; returns where the arguments start.  */
const char *bld_extract_flags (const char *line, char ***out_flags);

/* REST split at runs of blanks (docker's parseStringsWhitespaceDelimited).  */
char **bld_split_blanks (const char *rest);

/* Parse REST as docker's exec form: true and *OUT_ARGS set when it is a
   well-formed JSON array of strings (trailing text ignored as Go's decoder
   does); false when it is no JSON array (shell form).  -1 with *ERR set for
   an array that holds something other than strings.  */
int bld_parse_json_array (const char *rest, char ***out_args,
                          struct cove_error **err);

/* The lexer of words (docker's shell lexer), for cove_build_expand and
   the heredoc delimiters.  */
struct expand_opts
{
  cove_build_lookup_fn lookup;
  void *ctx;
  char escape;
  bool raw_quotes;     /* keep quote characters in the output */
  bool raw_escapes;    /* keep escape characters in the output */
  bool skip_unset;     /* leave $NAME of an unset variable as written */
};

/* Expand WORD into *OUT; *OUT_QUOTES (may be NULL) counts the quotes
   removed.  */
int bld_expand_word (const char *word, const struct expand_opts *o, char **out,
                     size_t *out_quotes, struct cove_error **err);

/* Parse one logical line into OUT (heredoc bodies not read yet; OUT's
   heredocs have NULL bodies).  ONBUILD_INNER: the line is an ONBUILD
   trigger.  Errors carry no location.  */
int bld_instr_parse (const char *line, char escape, bool onbuild_inner,
                     struct cove_build_instr *out, struct cove_error **err);

/* Helpers of instr.c for health.c.  */
int bld_err_at_least_one (struct cove_error **err);
int bld_args_maybe_json (struct cove_build_instr *instr, const char *rest,
                         struct cove_error **err);
/* HEALTHCHECK's arguments (after its flags were parsed).  */
int bld_args_healthcheck (struct cove_build_instr *instr, const char *rest,
                          struct cove_error **err);

/* Check what depends on the heredoc bodies (ONBUILD's stored text).  */
void bld_instr_finish_heredocs (struct cove_build_instr *instr);

void bld_instr_clear (struct cove_build_instr *instr);

/* Go's time.ParseDuration: *OUT in nanoseconds.  -1 when S is not a
   duration.  */
int bld_parse_duration (const char *s, int64_t *out);

#endif
