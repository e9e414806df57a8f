/* cove: splitting an instruction's line into flags and words, and the exec
   (JSON) form, as BuildKit's parser does it.  */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/build/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* An empty, NULL-terminated vector (args are never NULL).  */
static char **
strv_new (void)
{
  return xmalloc0 (sizeof (char *));
}

/* docker's parseWords: a word ends at a blank outside quotes; quotes and
   escapes stay in the word (expansion removes them later); inside '...'
   the escape character is literal.  */
char **
bld_split_words_raw (const char *rest, char escape)
{
  char **words = strv_new ();
  struct sbuf w = { 0 };
  bool in_word = false, blank_ok = false;
  char quote = 0;
  for (const char *p = rest;; p++)
    {
      char c = *p;
      if (c == '\0' || (quote == 0 && is_space (c)))
        {
          if (in_word && (blank_ok || w.len > 0))
            cove_strv_append (&words, w.s ? w.s : "");
          w.len = 0;
          in_word = blank_ok = false;
          quote = 0;
          if (c == '\0')
            break;
          continue;
        }
      in_word = true;
      if (quote == 0 && (c == '\'' || c == '"'))
        {
          quote = c;
          blank_ok = true;
        }
      else if (quote != 0 && c == quote)
        quote = 0;
      if (c == escape && quote != '\'')
        {
          if (p[1] == '\0')
            continue;     /* an escape at the end of the line is dropped */
          bld_sbuf_addc (&w, c);
          c = *++p;
        }
      bld_sbuf_addc (&w, c);
    }
  bld_sbuf_free (&w);
  return words;
}

char **
bld_split_blanks (const char *rest)
{
  char **words = strv_new ();
  const char *p = rest;
  while (*p)
    {
      while (*p && is_space (*p) && *p != '\n')
        p++;
      if (*p == '\0')
        break;
      const char *s = p;
      while (*p && !(is_space (*p) && *p != '\n'))
        p++;
      cleanup_free char *w = xstrndup (s, (size_t) (p - s));
      cove_strv_append (&words, w);
    }
  return words;
}

int
bld_parse_json_array (const char *rest, char ***out_args,
                      struct cove_error **err)
{
  while (is_space (*rest))
    rest++;
  if (*rest != '[')
    return 0;
  json_error_t jerr;
  /* Go's json.Decoder reads one value and ignores what follows it.  */
  json_t *a = json_loads (rest, JSON_DISABLE_EOF_CHECK, &jerr);
  if (a == NULL || !json_is_array (a))
    {
      json_decref (a);
      return 0;
    }
  cleanup_strv char **args = strv_new ();
  size_t i;
  json_t *v;
  json_array_foreach (a, i, v)
    {
      if (!json_is_string (v))
        {
          json_decref (a);
          return cove_error_set_plain (err, EINVAL,
                                       "when using JSON array syntax, arrays "
                                       "must be comprised of strings only");
        }
      cove_strv_append (&args, json_string_value (v));
    }
  json_decref (a);
  *out_args = steal_pointer (&args);
  return 1;
}

/* Append to *WORDS the word ending at the end of flags.  */
static void
flag_word_end (char ***words, struct sbuf *w, bool blank_ok)
{
  if (blank_ok || w->len > 0)
    cove_strv_append (words, w->s ? w->s : "");
  w->len = 0;
}

/* docker's extractBuilderFlags: the leading `--flag` words of LINE (quotes
   removed, '\\' escaping the next character) into *OUT_FLAGS; returns a
   pointer into LINE where the arguments start.  A word `--` ends the
   flags.  */
const char *
bld_extract_flags (const char *line, char ***out_flags)
{
  char **words = strv_new ();
  struct sbuf w = { 0 };
  const char *p = line;
  for (;;)
    {
      while (is_space (*p))
        p++;
      if (p[0] != '-' || p[1] != '-')
        break;
      bool blank_ok = false;
      char quote = 0;
      const char *start = p;
      w.len = 0;
      for (; *p && (quote || !is_space (*p)); p++)
        {
          if (quote == 0 && (*p == '\'' || *p == '"'))
            {
              quote = *p;
              blank_ok = true;
              continue;
            }
          if (quote && *p == quote)
            {
              quote = 0;
              continue;
            }
          if (*p == '\\')
            {
              if (p[1] == '\0')
                continue;
              p++;
            }
          bld_sbuf_addc (&w, *p);
        }
      if (p - start == 2 && w.len == 2 && !blank_ok)
        break;    /* `--`: the arguments start after it */
      flag_word_end (&words, &w, blank_ok);
    }
  bld_sbuf_free (&w);
  *out_flags = words;
  return p;
}
