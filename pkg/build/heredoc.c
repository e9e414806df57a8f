/* cove: finding heredocs (`<<EOF`, `<<-EOF`, `<<"EOF"`, `2<<EOF`) in a
   RUN/COPY/ADD line, as BuildKit does: the line is split into shell words
   (quotes and escapes kept), and each word that is `N<<-NAME` as a whole
   starts one, in order.  A quoted NAME turns expansion of the body off.  */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/build/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* The shell words of LINE, quotes and '\\' escapes kept; NULL when a quote
   is not closed (docker then finds no heredoc at all).  */
static char **
shell_words (const char *line)
{
  cleanup_strv char **words = xmalloc0 (sizeof (char *));
  struct sbuf w = { 0 };
  char quote = 0;
  bool in_word = false;
  for (const char *p = line;; p++)
    {
      if (*p == '\0' || (quote == 0 && is_space (*p)))
        {
          if (in_word)
            cove_strv_append (&words, w.s);
          w.len = 0;
          in_word = false;
          if (*p == '\0')
            break;
          continue;
        }
      in_word = true;
      if (*p == '\\' && quote != '\'' && p[1] != '\0')
        {
          bld_sbuf_addc (&w, *p++);
          bld_sbuf_addc (&w, *p);
          continue;
        }
      if (quote == 0 && (*p == '\'' || *p == '"'))
        quote = *p;
      else if (quote && *p == quote)
        quote = 0;
      bld_sbuf_addc (&w, *p);
    }
  bld_sbuf_free (&w);
  if (quote)
    return NULL;
  return steal_pointer (&words);
}

bool
bld_heredoc_word (const char *word, struct cove_build_heredoc *out)
{
  const char *p = word;
  unsigned long fd = 0;
  while (*p >= '0' && *p <= '9')
    {
      if (fd < 1000000)
        fd = fd * 10 + (unsigned long) (*p - '0');
      p++;
    }
  if (p[0] != '<' || p[1] != '<')
    return false;
  p += 2;
  bool chomp = *p == '-';
  if (chomp)
    p++;
  if (*p == '\0' || strchr (p, '<'))
    return false;
  /* The delimiter is one shell word ("<<EOF cat" is not a heredoc).  */
  cleanup_strv char **words = shell_words (p);
  if (words == NULL || words[0] == NULL || words[1] != NULL)
    return false;
  struct expand_opts o = { .escape = '\\', .skip_unset = true };
  char *name = NULL;
  size_t quotes = 0;
  if (bld_expand_word (p, &o, &name, &quotes, NULL) < 0)
    return false;
  if (*name == '\0')
    {
      free (name);
      return false;
    }
  if (out == NULL)
    {
      free (name);
      return true;
    }
  *out = (struct cove_build_heredoc) { .name = name, .expand = quotes == 0,
                                       .strip_tabs = chomp,
                                       .fd = fd < 1000000 ? (int) fd : 0 };
  return true;
}

int
bld_heredocs_from_line (const char *line, struct cove_build_heredoc **docs,
                        size_t *n, struct cove_error **err)
{
  cleanup_strv char **words = shell_words (line);
  if (words == NULL)
    return 0;
  /* $VAR in the line expands to nothing here, as in BuildKit, and a word
     that fails to expand means no heredoc at all.  */
  struct expand_opts o = { .escape = '\\', .raw_quotes = true,
                           .raw_escapes = true };
  for (char **w = words; *w; w++)
    {
      char *raw = NULL;
      if (bld_expand_word (*w, &o, &raw, NULL, NULL) < 0)
        return 0;
      free (*w);
      *w = raw;
    }
  for (char **w = words; *w; w++)
    {
      struct cove_build_heredoc doc;
      if (bld_heredoc_word (*w, &doc))
        {
          *docs = xrealloc (*docs, (*n + 1) * sizeof **docs);
          (*docs)[(*n)++] = doc;
        }
    }
  return 0;
}

char *
cove_build_run_command (const struct cove_build_instr *instr,
                        bool *out_shebang)
{
  *out_shebang = false;
  if (instr->json_form || instr->args[0] == NULL)
    return NULL;
  if (instr->n_heredocs == 0)
    return xstrdup (instr->args[0]);
  /* `RUN <<EOF` alone: the body is the script (docker's "fake heredoc",
     which works with shells that have no heredocs).  */
  if (bld_heredoc_word (instr->args[0], NULL))
    {
      *out_shebang = strncmp (instr->heredocs[0].body, "#!", 2) == 0;
      return xstrdup (instr->heredocs[0].body);
    }
  struct sbuf b = { 0 };
  bld_sbuf_add (&b, instr->args[0]);
  for (size_t i = 0; i < instr->n_heredocs; i++)
    {
      bld_sbuf_addc (&b, '\n');
      bld_sbuf_add (&b, instr->heredocs[i].body);
      bld_sbuf_add (&b, instr->heredocs[i].name);
    }
  return bld_sbuf_steal (&b);
}
