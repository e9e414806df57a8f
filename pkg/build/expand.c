/* cove: variable expansion in Containerfile words, docker's shell lexer
   (BuildKit's shell/lex.go): quote removal, the escape character, $NAME and
   the ${NAME...} forms.  Words come from an untrusted file, values from the
   builder's ARG/ENV at the step; nesting is bounded.  */
#include <errno.h>
#include <fnmatch.h>
#include <string.h>

#include "pkg/build/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* ${a:-${b:-${c}}} recurses once per level; the input bounds it, this
   bounds the stack whatever the input.  */
#define MAX_DEPTH 200

struct lexer
{
  const char *s;
  size_t pos;
  const struct expand_opts *o;
  size_t quotes;
  int depth;
};

static char
peek (const struct lexer *lx)
{
  return lx->s[lx->pos];
}

static char
next (struct lexer *lx)
{
  char c = lx->s[lx->pos];
  if (c != '\0')
    lx->pos++;
  return c;
}

static const char *
get_var (const struct lexer *lx, const char *name)
{
  return lx->o->lookup ? lx->o->lookup (lx->o->ctx, name) : NULL;
}

static int process_stop_on (struct lexer *lx, char stop, bool raw_escapes,
                            struct sbuf *out, struct cove_error **err);
static int process_dollar (struct lexer *lx, struct sbuf *out,
                           struct cove_error **err);

/* '...': everything literal, no escape at all.  */
static int
process_single_quote (struct lexer *lx, struct sbuf *out,
                      struct cove_error **err)
{
  char c = next (lx);
  if (lx->o->raw_quotes)
    bld_sbuf_addc (out, c);
  for (;;)
    {
      c = next (lx);
      if (c == '\0')
        return cove_error_set_plain (err, EINVAL,
                                     "unexpected end of statement while "
                                     "looking for matching single-quote");
      if (c == '\'')
        break;
      bld_sbuf_addc (out, c);
    }
  if (lx->o->raw_quotes)
    bld_sbuf_addc (out, c);
  lx->quotes++;
  return 0;
}

/* "...": $ expands; the escape character only escapes " $ and itself.  */
static int
process_double_quote (struct lexer *lx, struct sbuf *out,
                      struct cove_error **err)
{
  char c = next (lx);
  if (lx->o->raw_quotes)
    bld_sbuf_addc (out, c);
  for (;;)
    {
      c = peek (lx);
      if (c == '\0')
        return cove_error_set_plain (err, EINVAL,
                                     "unexpected end of statement while "
                                     "looking for matching double-quote");
      if (c == '"')
        break;
      if (c == '$')
        {
          if (process_dollar (lx, out, err) < 0)
            return -1;
          continue;
        }
      c = next (lx);
      if (c == lx->o->escape)
        {
          if (lx->o->raw_escapes)
            bld_sbuf_addc (out, c);
          char n = peek (lx);
          if (n == '\0')
            continue;
          if (n == '"' || n == '$' || n == lx->o->escape)
            c = next (lx);
        }
      bld_sbuf_addc (out, c);
    }
  c = next (lx);
  if (lx->o->raw_quotes)
    bld_sbuf_addc (out, c);
  lx->quotes++;
  return 0;
}

static bool
is_name_char (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9') || c == '_';
}

/* A name: letters, digits, _; or all digits ($10); or one special
   parameter character.  */
static char *
process_name (struct lexer *lx)
{
  struct sbuf name = { 0 };
  char c = peek (lx);
  if (c >= '0' && c <= '9')
    {
      while (peek (lx) >= '0' && peek (lx) <= '9')
        bld_sbuf_addc (&name, next (lx));
      return bld_sbuf_steal (&name);
    }
  if (c != '\0' && strchr ("@*#?-$!", c))
    {
      bld_sbuf_addc (&name, next (lx));
      return bld_sbuf_steal (&name);
    }
  while (is_name_char (peek (lx)))
    bld_sbuf_addc (&name, next (lx));
  return bld_sbuf_steal (&name);
}

/* ${NAME#PAT} (shortest prefix), ## (longest); % and %% the suffix.  */
static void
trim_pattern (const char *value, const char *pat, char op, bool greedy,
              struct sbuf *out)
{
  size_t len = strlen (value);
  cleanup_free char *tmp = xstrdup (value);
  for (size_t k = 0; k <= len; k++)
    {
      size_t cut = op == '#' ? (greedy ? len - k : k) : (greedy ? k : len - k);
      bool hit;
      if (op == '#')
        {
          char saved = tmp[cut];
          tmp[cut] = '\0';
          hit = fnmatch (pat, tmp, 0) == 0;
          tmp[cut] = saved;
          if (hit)
            {
              bld_sbuf_add (out, value + cut);
              return;
            }
        }
      else if (fnmatch (pat, value + cut, 0) == 0)
        {
          bld_sbuf_addn (out, value, cut);
          return;
        }
    }
  bld_sbuf_add (out, value);
}

/* Apply modifier OP (with COLON: an empty value counts as unset) to NAME,
   whose WORD was read.  */
static int
apply_modifier (struct lexer *lx, const char *name, char op, bool colon,
                const char *word, struct sbuf *out, struct cove_error **err)
{
  const char *value = get_var (lx, name);
  bool unset = value == NULL || (colon && *value == '\0');
  if (value == NULL && lx->o->skip_unset)
    {
      bld_sbuf_add (out, "${");
      bld_sbuf_add (out, name);
      if (colon)
        bld_sbuf_addc (out, ':');
      bld_sbuf_addc (out, op);
      bld_sbuf_add (out, word);
      bld_sbuf_addc (out, '}');
      return 0;
    }
  switch (op)
    {
    case '-':
      bld_sbuf_add (out, unset ? word : value);
      return 0;
    case '+':
      bld_sbuf_add (out, unset ? "" : word);
      return 0;
    case '?':
      if (unset)
        {
          const char *why = *word ? word
                            : value == NULL ? "is not allowed to be unset"
                            : "is not allowed to be empty";
          return cove_error_set_plain (err, EINVAL, "%s: %s", name, why);
        }
      bld_sbuf_add (out, value);
      return 0;
    case '#':
    case '%':
      {
        bool greedy = word[0] == op;
        trim_pattern (value ? value : "", greedy ? word + 1 : word, op, greedy,
                      out);
        return 0;
      }
    default:
      return cove_error_set_plain (err, EINVAL,
                                   "unsupported modifier (%s%c) in "
                                   "substitution",
                                   colon ? ":" : "", op);
    }
}

/* After "${NAME": `}` or a modifier and its word.  */
static int
process_braced (struct lexer *lx, const char *name, struct sbuf *out,
                struct cove_error **err)
{
  char op = next (lx);
  bool colon = false;
  if (op == '\0')
    return cove_error_set_plain (err, EINVAL, "syntax error: missing '}'");
  if (op == '}')
    {
      const char *value = get_var (lx, name);
      if (value == NULL && lx->o->skip_unset)
        {
          bld_sbuf_add (out, "${");
          bld_sbuf_add (out, name);
          bld_sbuf_addc (out, '}');
        }
      else if (value)
        bld_sbuf_add (out, value);
      return 0;
    }
  if (op == ':')
    {
      colon = true;
      op = next (lx);
    }
  if (op == '\0')
    return cove_error_set_plain (err, EINVAL, "syntax error: missing '}'");
  if (!strchr ("+-?#%", op))
    return cove_error_set_plain (err, EINVAL,
                                 "unsupported modifier (%s%c) in substitution",
                                 colon ? ":" : "", op);
  struct sbuf word = { 0 };
  int r = process_stop_on (lx, '}', op == '#' || op == '%', &word, err);
  if (r == 0)
    r = apply_modifier (lx, name, op, colon, word.s ? word.s : "", out, err);
  bld_sbuf_free (&word);
  return r;
}

static int
process_dollar (struct lexer *lx, struct sbuf *out, struct cove_error **err)
{
  next (lx);
  if (peek (lx) != '{')
    {
      cleanup_free char *name = process_name (lx);
      const char *value = *name ? get_var (lx, name) : NULL;
      if (*name == '\0')
        bld_sbuf_addc (out, '$');
      else if (value)
        bld_sbuf_add (out, value);
      else if (lx->o->skip_unset)
        {
          bld_sbuf_addc (out, '$');
          bld_sbuf_add (out, name);
        }
      return 0;
    }
  next (lx);
  char c = peek (lx);
  if (c == '\0')
    return cove_error_set_plain (err, EINVAL, "syntax error: missing '}'");
  if (c == '{' || c == '}' || c == ':')
    return cove_error_set_plain (err, EINVAL, "syntax error: bad substitution");
  if (lx->depth >= MAX_DEPTH)
    return cove_error_set_plain (err, EINVAL,
                                 "substitutions nested too deeply");
  lx->depth++;
  cleanup_free char *name = process_name (lx);
  int r = process_braced (lx, name, out, err);
  lx->depth--;
  return r;
}

/* Up to STOP (0: the end of the word); a word ends nowhere else, blanks
   are kept (docker's processStopOn).  */
static int
process_stop_on (struct lexer *lx, char stop, bool raw_escapes,
                 struct sbuf *out, struct cove_error **err)
{
  bld_sbuf_addn (out, "", 0);
  for (;;)
    {
      char c = peek (lx);
      if (c == '\0')
        break;
      if (stop && c == stop)
        {
          next (lx);
          return 0;
        }
      int r = 0;
      if (c == '\'')
        r = process_single_quote (lx, out, err);
      else if (c == '"')
        r = process_double_quote (lx, out, err);
      else if (c == '$')
        r = process_dollar (lx, out, err);
      else
        {
          c = next (lx);
          if (c == lx->o->escape)
            {
              if (raw_escapes)
                bld_sbuf_addc (out, c);
              c = next (lx);
              if (c == '\0')
                break;
            }
          bld_sbuf_addc (out, c);
        }
      if (r < 0)
        return -1;
    }
  if (stop)
    return cove_error_set_plain (err, EINVAL, "syntax error: missing '}'");
  return 0;
}

int
bld_expand_word (const char *word, const struct expand_opts *o, char **out,
                 size_t *out_quotes, struct cove_error **err)
{
  struct lexer lx = { .s = word, .o = o };
  struct sbuf b = { 0 };
  if (process_stop_on (&lx, 0, o->raw_escapes, &b, err) < 0)
    {
      bld_sbuf_free (&b);
      return cove_error_wrap (err, "failed to process \"%.200s\"", word);
    }
  if (out_quotes)
    *out_quotes = lx.quotes;
  *out = bld_sbuf_steal (&b);
  return 0;
}

int
cove_build_expand (const char *word, cove_build_lookup_fn lookup, void *ctx,
                   char escape, char **out, struct cove_error **err)
{
  struct expand_opts o = { .lookup = lookup, .ctx = ctx, .escape = escape };
  if (escape != '\\' && escape != '`')
    return cove_error_set_plain (err, EINVAL, "invalid escape character");
  return bld_expand_word (word, &o, out, NULL, err);
}
