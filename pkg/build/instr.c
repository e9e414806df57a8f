/* cove: one Containerfile instruction: its keyword, flags and arguments,
   checked as BuildKit's instructions package checks them.  Messages name
   no instruction or line: the caller prefixes both.  */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pkg/build/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

enum flag_type
{
  FLAG_STRING,
  FLAG_STRINGS,     /* repeatable */
  FLAG_BOOL,
};

struct flag_spec
{
  const char *name;
  enum flag_type type;
};

static const struct flag_spec from_flags[] = {
  { "platform", FLAG_STRING }, { NULL, 0 } };
static const struct flag_spec run_flags[] = {
  { "mount", FLAG_STRINGS }, { "network", FLAG_STRING },
  { "security", FLAG_STRING }, { NULL, 0 } };
static const struct flag_spec copy_flags[] = {
  { "from", FLAG_STRING }, { "chown", FLAG_STRING }, { "chmod", FLAG_STRING },
  { "link", FLAG_BOOL }, { NULL, 0 } };
static const struct flag_spec add_flags[] = {
  { "chown", FLAG_STRING }, { "chmod", FLAG_STRING },
  { "checksum", FLAG_STRING }, { "link", FLAG_BOOL },
  { "keep-git-dir", FLAG_BOOL }, { NULL, 0 } };
static const struct flag_spec health_flags[] = {
  { "interval", FLAG_STRING }, { "timeout", FLAG_STRING },
  { "start-period", FLAG_STRING }, { "start-interval", FLAG_STRING },
  { "retries", FLAG_STRING }, { NULL, 0 } };
static const struct flag_spec no_flags[] = { { NULL, 0 } };

struct kind_info
{
  const char *name;
  const struct flag_spec *flags;
  bool expands;
};

/* Indexed by enum cove_build_kind.  */
static const struct kind_info kinds[] = {
  [COVE_BUILD_FROM] = { "FROM", from_flags, true },
  [COVE_BUILD_RUN] = { "RUN", run_flags, false },
  [COVE_BUILD_CMD] = { "CMD", no_flags, false },
  [COVE_BUILD_LABEL] = { "LABEL", no_flags, true },
  [COVE_BUILD_MAINTAINER] = { "MAINTAINER", no_flags, false },
  [COVE_BUILD_EXPOSE] = { "EXPOSE", no_flags, true },
  [COVE_BUILD_ENV] = { "ENV", no_flags, true },
  [COVE_BUILD_ADD] = { "ADD", add_flags, true },
  [COVE_BUILD_COPY] = { "COPY", copy_flags, true },
  [COVE_BUILD_ENTRYPOINT] = { "ENTRYPOINT", no_flags, false },
  [COVE_BUILD_VOLUME] = { "VOLUME", no_flags, true },
  [COVE_BUILD_USER] = { "USER", no_flags, true },
  [COVE_BUILD_WORKDIR] = { "WORKDIR", no_flags, true },
  [COVE_BUILD_ARG] = { "ARG", no_flags, true },
  [COVE_BUILD_ONBUILD] = { "ONBUILD", no_flags, false },
  [COVE_BUILD_STOPSIGNAL] = { "STOPSIGNAL", no_flags, true },
  [COVE_BUILD_HEALTHCHECK] = { "HEALTHCHECK", health_flags, false },
  [COVE_BUILD_SHELL] = { "SHELL", no_flags, false },
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

const char *
cove_build_kind_name (enum cove_build_kind kind)
{
  return (size_t) kind < N_KINDS ? kinds[kind].name : "?";
}

bool
cove_build_kind_expands (enum cove_build_kind kind)
{
  return (size_t) kind < N_KINDS && kinds[kind].expands;
}

const char *
cove_build_instr_flag (const struct cove_build_instr *instr, const char *name)
{
  for (size_t i = instr->n_flags; i > 0; i--)
    if (strcmp (instr->flags[i - 1].name, name) == 0)
      return instr->flags[i - 1].value;
  return NULL;
}

void
bld_instr_clear (struct cove_build_instr *instr)
{
  free (instr->original);
  for (size_t i = 0; i < instr->n_flags; i++)
    {
      free (instr->flags[i].name);
      free (instr->flags[i].value);
    }
  free (instr->flags);
  cove_strv_free (instr->args);
  for (size_t i = 0; i < instr->n_kvs; i++)
    {
      free (instr->kvs[i].key);
      free (instr->kvs[i].value);
    }
  free (instr->kvs);
  for (size_t i = 0; i < instr->n_heredocs; i++)
    {
      free (instr->heredocs[i].name);
      free (instr->heredocs[i].body);
    }
  free (instr->heredocs);
  memset (instr, 0, sizeof *instr);
}

static void
add_flag (struct cove_build_instr *instr, const char *name, size_t nlen,
          const char *value)
{
  instr->flags = xrealloc (instr->flags,
                           (instr->n_flags + 1) * sizeof *instr->flags);
  instr->flags[instr->n_flags++] = (struct cove_build_flag) {
    .name = xstrndup (name, nlen), .value = xstrdup (value) };
}

/* One `--name[=value]` word against the instruction's flags (BuildKit's
   BFlags.Parse).  */
static int
parse_flag (struct cove_build_instr *instr, const char *word,
            struct cove_error **err)
{
  const char *name = word + 2;
  const char *eq = strchr (name, '=');
  size_t nlen = eq ? (size_t) (eq - name) : strlen (name);
  const struct flag_spec *f = kinds[instr->kind].flags;
  while (f->name && (strlen (f->name) != nlen
                     || strncmp (f->name, name, nlen) != 0))
    f++;
  if (f->name == NULL)
    return cove_error_set_plain (err, EINVAL, "unknown flag: %.*s",
                                 (int) nlen, name);
  if (f->type != FLAG_STRINGS && cove_build_instr_flag (instr, f->name))
    return cove_error_set_plain (err, EINVAL,
                                 "duplicate flag specified: %s", f->name);
  if (f->type != FLAG_BOOL)
    {
      if (eq == NULL)
        return cove_error_set_plain (err, EINVAL,
                                     "missing a value on flag: %s", f->name);
      add_flag (instr, name, nlen, eq + 1);
      return 0;
    }
  if (eq && eq[1] == '\0')
    return cove_error_set_plain (err, EINVAL, "missing a value on flag: %s",
                                 f->name);
  if (eq == NULL || strcasecmp (eq + 1, "true") == 0)
    add_flag (instr, name, nlen, "true");
  else if (strcasecmp (eq + 1, "false") == 0)
    add_flag (instr, name, nlen, "false");
  else
    return cove_error_set_plain (err, EINVAL,
                                 "expecting boolean value for flag %s, not: %s",
                                 f->name, eq + 1);
  return 0;
}

static int
parse_flags (struct cove_build_instr *instr, char **words,
             struct cove_error **err)
{
  for (char **w = words; *w; w++)
    if (parse_flag (instr, *w, err) < 0)
      return -1;
  return 0;
}

int
bld_err_at_least_one (struct cove_error **err)
{
  return cove_error_set_plain (err, EINVAL, "requires at least one argument");
}

static int
err_exactly_one (struct cove_error **err)
{
  return cove_error_set_plain (err, EINVAL, "requires exactly one argument");
}

/* Exec form when REST is a JSON array of strings, else shell form: REST as
   one string (RUN CMD ENTRYPOINT SHELL, HEALTHCHECK CMD).  */
int
bld_args_maybe_json (struct cove_build_instr *instr, const char *rest,
                     struct cove_error **err)
{
  char **json = NULL;
  int r = bld_parse_json_array (rest, &json, err);
  if (r < 0)
    return -1;
  cove_strv_free (instr->args);
  instr->args = xmalloc0 (sizeof (char *));
  if (r > 0)
    {
      cove_strv_free (instr->args);
      instr->args = json;
      instr->json_form = true;
    }
  else if (*rest)
    cove_strv_append (&instr->args, rest);
  return 0;
}

/* Exec form, or the words of REST (ADD COPY VOLUME).  */
static int
args_maybe_json_list (struct cove_build_instr *instr, const char *rest,
                      struct cove_error **err)
{
  char **json = NULL;
  int r = bld_parse_json_array (rest, &json, err);
  if (r < 0)
    return -1;
  cove_strv_free (instr->args);
  instr->json_form = r > 0;
  instr->args = r > 0 ? json : bld_split_blanks (rest);
  return 0;
}

static void
add_kv (struct cove_build_instr *instr, const char *key, size_t klen,
        const char *value)
{
  instr->kvs = xrealloc (instr->kvs, (instr->n_kvs + 1) * sizeof *instr->kvs);
  instr->kvs[instr->n_kvs++] = (struct cove_build_kv) {
    .key = xstrndup (key, klen), .value = value ? xstrdup (value) : NULL };
}

/* ENV and LABEL: `KEY value...` (the first word has no `=`) or
   `k=v k2=v2...` (docker's parseNameVal).  */
static int
args_name_val (struct cove_build_instr *instr, const char *rest, char escape,
               struct cove_error **err)
{
  cleanup_strv char **words = bld_split_words_raw (rest, escape);
  if (words[0] == NULL)
    return bld_err_at_least_one (err);
  if (strchr (words[0], '=') == NULL)
    {
      const char *p = rest;
      while (*p && !is_space (*p))
        p++;
      size_t klen = (size_t) (p - rest);
      while (is_space (*p))
        p++;
      if (*p == '\0')
        return cove_error_set_plain (err, EINVAL, "must have two arguments");
      add_kv (instr, rest, klen, p);
    }
  else
    for (char **w = words; *w; w++)
      {
        const char *eq = strchr (*w, '=');
        if (eq == NULL)
          return cove_error_set_plain (err, EINVAL,
                                       "syntax error - can't find = in \"%s\"; "
                                       "must be of the form: name=value", *w);
        add_kv (instr, *w, (size_t) (eq - *w), eq + 1);
      }
  for (size_t i = 0; i < instr->n_kvs; i++)
    if (instr->kvs[i].key[0] == '\0')
      return cove_error_set_plain (err, EINVAL, "names can not be blank");
  return 0;
}

static int
args_arg (struct cove_build_instr *instr, const char *rest, char escape,
          struct cove_error **err)
{
  cleanup_strv char **words = bld_split_words_raw (rest, escape);
  if (words[0] == NULL)
    return bld_err_at_least_one (err);
  for (char **w = words; *w; w++)
    {
      const char *eq = strchr (*w, '=');
      add_kv (instr, *w, eq ? (size_t) (eq - *w) : strlen (*w),
              eq ? eq + 1 : NULL);
      if (instr->kvs[instr->n_kvs - 1].key[0] == '\0')
        return cove_error_set_plain (err, EINVAL, "names can not be blank");
    }
  return 0;
}

static bool
valid_stage_name (const char *s)
{
  if (!(*s >= 'a' && *s <= 'z'))
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')
          || strchr ("-_.", *s)))
      return false;
  return true;
}

static int
args_from (struct cove_build_instr *instr, const char *rest,
           struct cove_error **err)
{
  cove_strv_free (instr->args);
  instr->args = bld_split_blanks (rest);
  size_t n = cove_strv_len (instr->args);
  if (n == 3 && strcasecmp (instr->args[1], "as") == 0)
    {
      for (char *p = instr->args[2]; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
          *p = (char) (*p | 0x20);
      if (!valid_stage_name (instr->args[2]))
        return cove_error_set_plain (err, EINVAL,
                                     "invalid name for build stage: \"%s\", "
                                     "name can't start with a number or "
                                     "contain symbols", instr->args[2]);
      return 0;
    }
  if (n != 1)
    return cove_error_set_plain (err, EINVAL,
                                 "requires either one or three arguments");
  return 0;
}

/* COPY and ADD: a source and a destination at least; a heredoc can only be
   a source.  */
static int
check_copy (struct cove_build_instr *instr, struct cove_error **err)
{
  size_t n = cove_strv_len (instr->args);
  if (n < 2)
    return cove_error_set_plain (err, EINVAL,
                                 "requires at least two arguments, but only "
                                 "one was provided; destination could not be "
                                 "determined");
  if (bld_heredoc_word (instr->args[n - 1], NULL))
    return cove_error_set_plain (err, EINVAL,
                                 "cannot accept a heredoc as a destination");
  return 0;
}

static int
check_volume (struct cove_build_instr *instr, struct cove_error **err)
{
  if (instr->args[0] == NULL)
    return bld_err_at_least_one (err);
  for (char **a = instr->args; *a; a++)
    {
      const char *p = *a;
      while (is_space (*p))
        p++;
      if (*p == '\0')
        return cove_error_set_plain (err, EINVAL,
                                     "VOLUME specified can not be an empty "
                                     "string");
    }
  return 0;
}

static int
check_run (struct cove_build_instr *instr, char escape,
           struct cove_error **err)
{
  for (size_t i = 0; i < instr->n_flags; i++)
    if (strcmp (instr->flags[i].name, "mount") == 0)
      {
        struct cove_build_mount m;
        int r = cove_build_mount_parse (instr->flags[i].value, NULL, NULL,
                                        escape, &m, err);
        cove_build_mount_clear (&m);
        if (r < 0)
          return cove_error_wrap (err, "--mount=%.200s",
                                  instr->flags[i].value);
      }
  const char *net = cove_build_instr_flag (instr, "network");
  if (net && strcmp (net, "default") != 0 && strcmp (net, "none") != 0
      && strcmp (net, "host") != 0)
    return cove_error_set_plain (err, EINVAL,
                                 "network mode \"%s\" not supported", net);
  const char *sec = cove_build_instr_flag (instr, "security");
  if (sec && strcmp (sec, "sandbox") != 0 && strcmp (sec, "insecure") != 0)
    return cove_error_set_plain (err, EINVAL,
                                 "security mode \"%s\" not supported", sec);
  if (instr->args[0] == NULL)
    return bld_err_at_least_one (err);
  return 0;
}

/* The trigger of ONBUILD: parsed and checked as an instruction of its own
   (which docker only does when the trigger fires), stored as text.  */
static int
args_onbuild (struct cove_build_instr *instr, const char *rest, char escape,
              struct cove_error **err)
{
  struct cove_build_instr inner = { 0 };
  if (*rest == '\0')
    return bld_err_at_least_one (err);
  if (bld_instr_parse (rest, escape, true, &inner, err) < 0)
    {
      size_t n = strcspn (rest, " \t\r\n\v\f");
      return cove_error_wrap (err, "%.*s", (int) (n < 64 ? n : 64), rest);
    }
  instr->onbuild_kind = inner.kind;
  instr->json_form = inner.json_form;
  bld_instr_clear (&inner);
  cove_strv_append (&instr->args, rest);
  return 0;
}

/* The arguments of INSTR from REST (after the flags).  */
static int
parse_args (struct cove_build_instr *instr, const char *rest, char escape,
            struct cove_error **err)
{
  switch (instr->kind)
    {
    case COVE_BUILD_FROM:
      return args_from (instr, rest, err);
    case COVE_BUILD_RUN:
      if (bld_args_maybe_json (instr, rest, err) < 0)
        return -1;
      return check_run (instr, escape, err);
    case COVE_BUILD_CMD:
    case COVE_BUILD_ENTRYPOINT:
      return bld_args_maybe_json (instr, rest, err);
    case COVE_BUILD_SHELL:
      if (bld_args_maybe_json (instr, rest, err) < 0)
        return -1;
      if (instr->args[0] == NULL)
        return bld_err_at_least_one (err);
      if (!instr->json_form)
        return cove_error_set_plain (err, EINVAL,
                                     "requires the arguments to be in JSON "
                                     "form");
      return 0;
    case COVE_BUILD_ADD:
    case COVE_BUILD_COPY:
      if (args_maybe_json_list (instr, rest, err) < 0)
        return -1;
      return check_copy (instr, err);
    case COVE_BUILD_VOLUME:
      if (args_maybe_json_list (instr, rest, err) < 0)
        return -1;
      return check_volume (instr, err);
    case COVE_BUILD_ENV:
    case COVE_BUILD_LABEL:
      return args_name_val (instr, rest, escape, err);
    case COVE_BUILD_ARG:
      return args_arg (instr, rest, escape, err);
    case COVE_BUILD_EXPOSE:
      cove_strv_free (instr->args);
      instr->args = bld_split_blanks (rest);
      return instr->args[0] ? 0 : bld_err_at_least_one (err);
    case COVE_BUILD_MAINTAINER:
    case COVE_BUILD_USER:
    case COVE_BUILD_WORKDIR:
    case COVE_BUILD_STOPSIGNAL:
      if (*rest == '\0')
        return err_exactly_one (err);
      cove_strv_append (&instr->args, rest);
      return 0;
    case COVE_BUILD_HEALTHCHECK:
      return bld_args_healthcheck (instr, rest, err);
    case COVE_BUILD_ONBUILD:
      return args_onbuild (instr, rest, escape, err);
    }
  return cove_error_set_plain (err, EINVAL, "unknown instruction");
}

static bool
lookup_kind (const char *word, size_t len, enum cove_build_kind *out)
{
  for (size_t i = 0; i < N_KINDS; i++)
    if (strlen (kinds[i].name) == len
        && strncasecmp (kinds[i].name, word, len) == 0)
      {
        *out = (enum cove_build_kind) i;
        return true;
      }
  return false;
}

static int
check_trigger (enum cove_build_kind kind, struct cove_error **err)
{
  if (kind == COVE_BUILD_ONBUILD)
    return cove_error_set_plain (err, EINVAL,
                                 "chaining ONBUILD via `ONBUILD ONBUILD` "
                                 "isn't allowed");
  if (kind == COVE_BUILD_FROM || kind == COVE_BUILD_MAINTAINER)
    return cove_error_set_plain (err, EINVAL,
                                 "%s isn't allowed as an ONBUILD trigger",
                                 kinds[kind].name);
  return 0;
}

static int
instr_parse_1 (const char *line, char escape, bool onbuild_inner,
               struct cove_build_instr *out, struct cove_error **err)
{
  while (is_space (*line))
    line++;
  size_t end = strlen (line);
  while (end > 0 && is_space (line[end - 1]))
    end--;
  cleanup_free char *trimmed = xstrndup (line, end);
  const char *p = trimmed;
  while (*p && !is_space (*p))
    p++;
  if (!lookup_kind (trimmed, (size_t) (p - trimmed), &out->kind))
    return cove_error_set_plain (err, EINVAL, "unknown instruction");
  if (onbuild_inner && check_trigger (out->kind, err) < 0)
    return -1;
  cleanup_strv char **flag_words = NULL;
  const char *rest = bld_extract_flags (p, &flag_words);
  while (is_space (*rest))
    rest++;
  out->args = xmalloc0 (sizeof (char *));
  if (parse_flags (out, flag_words, err) < 0)
    return -1;
  return parse_args (out, rest, escape, err);
}

int
bld_instr_parse (const char *line, char escape, bool onbuild_inner,
                 struct cove_build_instr *out, struct cove_error **err)
{
  memset (out, 0, sizeof *out);
  out->original = xstrdup (line);
  if (instr_parse_1 (line, escape, onbuild_inner, out, err) < 0)
    {
      enum cove_build_kind kind = out->kind;
      bld_instr_clear (out);
      out->kind = kind;
      return -1;
    }
  return 0;
}
