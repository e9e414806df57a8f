/* cove: a whole Containerfile: logical lines to instructions, heredoc
   bodies, global ARGs and build stages.  */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "pkg/build/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

static void
stage_clear (struct cove_build_stage *st)
{
  free (st->image);
  free (st->name);
  free (st->platform);
  bld_instr_clear (&st->from);
  for (size_t i = 0; i < st->n_instrs; i++)
    bld_instr_clear (&st->instrs[i]);
  free (st->instrs);
}

void
cove_build_file_free (struct cove_build_file *file)
{
  if (file == NULL)
    return;
  free (file->name);
  free (file->syntax);
  for (size_t i = 0; i < file->n_global_args; i++)
    bld_instr_clear (&file->global_args[i]);
  free (file->global_args);
  for (size_t i = 0; i < file->n_stages; i++)
    stage_clear (&file->stages[i]);
  free (file->stages);
  cove_strv_free (file->warnings);
  free (file);
}

static void
cleanup_build_file (struct cove_build_file **f)
{
  cove_build_file_free (*f);
}

/* Prefix *ERR with where it happened: "NAME:LINE: KEYWORD" (the first word
   of LINE, uppercased, as the user wrote it; nothing when LINE is NULL).  */
static int
locate (struct cove_error **err, const char *name, size_t lineno,
        const char *line)
{
  char kw[33] = "";
  size_t n = 0;
  if (line)
    {
      while (is_space (*line))
        line++;
      for (; n < sizeof kw - 1 && line[n] && !is_space (line[n]); n++)
        kw[n] = line[n] >= 'a' && line[n] <= 'z' ? (char) (line[n] - 32)
                                                 : line[n];
      kw[n] = '\0';
    }
  if (n == 0)
    return cove_error_wrap (err, "%s:%zu", name, lineno);
  return cove_error_wrap (err, "%s:%zu: %s", name, lineno, kw);
}

static bool
may_have_heredocs (const struct cove_build_instr *instr)
{
  enum cove_build_kind k = instr->kind == COVE_BUILD_ONBUILD
                             ? instr->onbuild_kind : instr->kind;
  return !instr->json_form
         && (k == COVE_BUILD_RUN || k == COVE_BUILD_COPY
             || k == COVE_BUILD_ADD);
}

/* The body of each heredoc of INSTR, in order, from the lines after its
   instruction: up to a line that is the delimiter (after leading tabs, for
   <<-).  */
static int
read_heredocs (struct line_reader *r, struct cove_build_instr *instr,
               struct cove_error **err)
{
  for (size_t i = 0; i < instr->n_heredocs; i++)
    {
      struct cove_build_heredoc *h = &instr->heredocs[i];
      struct sbuf body = { 0 };
      size_t nlen = strlen (h->name);
      const char *raw;
      size_t n;
      bool found = false;
      bld_sbuf_addn (&body, "", 0);
      while (!found && bld_line_next (r, &raw, &n))
        {
          size_t t = n;
          while (t > 0 && (raw[t - 1] == '\n' || raw[t - 1] == '\r'))
            t--;
          const char *s = raw;
          while (h->strip_tabs && t > 0 && *s == '\t')
            s++, t--;
          if (t == nlen && memcmp (s, h->name, nlen) == 0)
            found = true;
          else
            bld_sbuf_addn (&body, raw, n);
        }
      h->body = bld_sbuf_steal (&body);
      if (!found)
        return cove_error_set_plain (err, EINVAL,
                                     "unterminated heredoc %s", h->name);
    }
  return 0;
}

void
bld_instr_finish_heredocs (struct cove_build_instr *instr)
{
  if (instr->kind == COVE_BUILD_ONBUILD && instr->n_heredocs)
    {
      /* docker stores the trigger with its heredocs as written.  */
      struct sbuf t = { 0 };
      bld_sbuf_add (&t, instr->args[0]);
      for (size_t i = 0; i < instr->n_heredocs; i++)
        {
          bld_sbuf_addc (&t, '\n');
          bld_sbuf_add (&t, instr->heredocs[i].body);
          bld_sbuf_add (&t, instr->heredocs[i].name);
        }
      free (instr->args[0]);
      instr->args[0] = bld_sbuf_steal (&t);
    }
  for (size_t i = 0; i < instr->n_heredocs; i++)
    if (instr->heredocs[i].strip_tabs)
      {
        char *b = bld_strip_tabs (instr->heredocs[i].body);
        free (instr->heredocs[i].body);
        instr->heredocs[i].body = b;
      }
}

/* The next instruction into *OUT.  Returns 1, 0 at the end, -1.  */
static int
next_instr (struct lex *lx, const char *name, char ***warnings,
            struct cove_build_instr *out, struct cove_error **err)
{
  struct sbuf line = { 0 };
  size_t lineno = 0;
  int r = bld_lex_next (lx, &line, &lineno, err);
  if (r < 0)
    locate (err, name, lineno, NULL);
  if (r <= 0)
    {
      bld_sbuf_free (&line);
      return r;
    }
  if (lx->empty_continuation)
    {
      /* docker: "empty continuation lines will become errors in a future
         release"; they are dropped meanwhile.  */
      cleanup_free char *w = xasprintf ("%s:%zu: empty continuation line",
                                        name, lineno);
      cove_strv_append (warnings, w);
    }
  if (bld_instr_parse (line.s, lx->escape, false, out, err) < 0)
    r = locate (err, name, lineno, line.s);
  else
    {
      out->line = lineno;
      if (may_have_heredocs (out) && strstr (line.s, "<<")
          && (bld_heredocs_from_line (line.s, &out->heredocs, &out->n_heredocs,
                                      err) < 0
              || read_heredocs (&lx->r, out, err) < 0))
        {
          r = locate (err, name, lineno, line.s);
          bld_instr_clear (out);
        }
      else
        bld_instr_finish_heredocs (out);
    }
  bld_sbuf_free (&line);
  return r;
}

static void
start_stage (struct cove_build_file *file, struct cove_build_instr *from)
{
  file->stages = xrealloc (file->stages,
                           (file->n_stages + 1) * sizeof *file->stages);
  struct cove_build_stage *st = &file->stages[file->n_stages];
  *st = (struct cove_build_stage) { .index = file->n_stages, .from = *from };
  st->image = xstrdup (from->args[0]);
  if (from->args[1])
    st->name = xstrdup (from->args[2]);
  const char *platform = cove_build_instr_flag (from, "platform");
  st->platform = platform ? xstrdup (platform) : NULL;
  file->n_stages++;
}

static void
append_instr (struct cove_build_instr **v, size_t *n,
              struct cove_build_instr *instr)
{
  *v = xrealloc (*v, (*n + 1) * sizeof **v);
  (*v)[(*n)++] = *instr;
}

/* Put INSTR where it belongs: a new stage, the global ARGs, the current
   stage.  Takes INSTR (also on failure).  */
static int
place_instr (struct cove_build_file *file, struct cove_build_instr *instr,
             struct cove_error **err)
{
  if (instr->kind == COVE_BUILD_FROM)
    {
      const char *as = instr->args[1] ? instr->args[2] : NULL;
      if (as && cove_build_find_stage (file, as, file->n_stages))
        {
          cove_error_set_plain (err, EINVAL, "%s:%zu: FROM: duplicate stage "
                                "name \"%s\"", file->name, instr->line, as);
          bld_instr_clear (instr);
          return -1;
        }
      start_stage (file, instr);
      return 0;
    }
  if (file->n_stages > 0)
    {
      struct cove_build_stage *st = &file->stages[file->n_stages - 1];
      append_instr (&st->instrs, &st->n_instrs, instr);
      return 0;
    }
  if (instr->kind == COVE_BUILD_ARG)
    {
      append_instr (&file->global_args, &file->n_global_args, instr);
      return 0;
    }
  cove_error_set_plain (err, EINVAL, "%s:%zu: %s: no build stage: only ARG "
                        "may come before the first FROM", file->name,
                        instr->line, cove_build_kind_name (instr->kind));
  bld_instr_clear (instr);
  return -1;
}

struct cove_build_file *
cove_build_parse (const char *name, const char *text, size_t len,
                  struct cove_error **err)
{
  __attribute__ ((cleanup (cleanup_build_file))) struct cove_build_file *file
    = xmalloc0 (sizeof *file);
  file->name = xstrdup (name);
  file->warnings = xmalloc0 (sizeof (char *));
  if (memchr (text, '\0', len))
    {
      cove_error_set_plain (err, EINVAL, "%s: contains a NUL byte", name);
      return NULL;
    }
  struct lex lx = { .r = { .text = text, .len = len }, .escape = '\\' };
  struct cove_build_instr instr;
  int r;
  while ((r = next_instr (&lx, name, &file->warnings, &instr, err)) > 0)
    if (place_instr (file, &instr, err) < 0)
      break;
  file->escape = lx.escape;
  file->syntax = lx.syntax;
  if (r != 0)
    return NULL;
  if (file->n_stages == 0)
    {
      cove_error_set_plain (err, EINVAL, file->n_global_args
                            ? "%s: no FROM instruction: nothing to build"
                            : "%s: file with no instructions", name);
      return NULL;
    }
  return steal_pointer (&file);
}

const struct cove_build_stage *
cove_build_find_stage (const struct cove_build_file *file, const char *ref,
                       size_t before)
{
  if (before > file->n_stages)
    before = file->n_stages;
  for (size_t i = 0; i < before; i++)
    if (file->stages[i].name && strcasecmp (file->stages[i].name, ref) == 0)
      return &file->stages[i];
  if (*ref == '\0' || strspn (ref, "0123456789") != strlen (ref)
      || strlen (ref) > 9)
    return NULL;
  size_t idx = 0;
  for (const char *p = ref; *p; p++)
    idx = idx * 10 + (size_t) (*p - '0');
  return idx < before ? &file->stages[idx] : NULL;
}

const struct cove_build_heredoc *
cove_build_instr_heredoc (const struct cove_build_instr *instr,
                          const char *arg)
{
  struct cove_build_heredoc h;
  if (instr->n_heredocs == 0 || !bld_heredoc_word (arg, &h))
    return NULL;
  const struct cove_build_heredoc *found = NULL;
  for (size_t i = 0; i < instr->n_heredocs && !found; i++)
    if (strcmp (instr->heredocs[i].name, h.name) == 0)
      found = &instr->heredocs[i];
  free (h.name);
  return found;
}
