/* cove: the printer of --format options: podman's `table` formats, column
   titles and its tabwriter, and `--format json`.  */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/format-internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* podman: tabwriter.NewWriter(out, 12, 2, 2, ' ', 0).  */
#define TW_MINWIDTH 12
#define TW_PADDING 2

struct cove_format_table
{
  struct cove_format *f;
  bool table;           /* `table ...`: header row and aligned columns */
  bool once;            /* the format ranges itself: run it over the list */
  bool noheading;
  char **titles;        /* pairs, NULL-terminated */
  json_t *items;
};

static int
char_class (unsigned char c)
{
  return islower (c) ? 1 : isupper (c) ? 2 : isdigit (c) ? 3 : c >= 0x80 ? 1 : 4;
}

/* Go's fatih/camelcase.Split, joined with spaces and upper-cased, as
   podman's report.Headers: "CreatedAt" -> "CREATED AT", "ID" -> "ID".  */
static char *
camel_title (const char *name)
{
  size_t n = strlen (name);
  /* A space may go before each byte: at most 2n bytes.  */
  char *r = xmalloc (2 * n + 1);
  size_t o = 0;
  for (size_t i = 0; i < n; i++)
    {
      unsigned char c = (unsigned char) name[i];
      bool split = false;
      if (i > 0)
        {
          int prev = char_class ((unsigned char) name[i - 1]);
          int cur = char_class (c);
          /* A new run starts where the class changes; an upper-case letter
             followed by lower case starts a word even inside an upper run
             ("IDName" -> "ID Name").  */
          split = cur != prev && !(prev == 2 && cur == 1);
          if (cur == 2 && prev == 2 && i + 1 < n
              && char_class ((unsigned char) name[i + 1]) == 1)
            split = true;
        }
      if (split)
        r[o++] = ' ';
      r[o++] = (char) toupper (c);
    }
  r[o] = '\0';
  return r;
}

static char *
upper_dup (const char *s)
{
  char *r = xstrdup (s);
  for (char *p = r; *p; p++)
    *p = (char) toupper ((unsigned char) *p);
  return r;
}

char *
format_title (const char *path, const char *const *titles)
{
  const char *last = strrchr (path, '.');
  last = last ? last + 1 : path;
  for (size_t i = 0; titles && titles[i] && titles[i + 1]; i += 2)
    if (strcmp (titles[i], path) == 0)
      return upper_dup (titles[i + 1]);
  for (size_t i = 0; titles && titles[i] && titles[i + 1]; i += 2)
    if (strcmp (titles[i], last) == 0)
      return upper_dup (titles[i + 1]);
  return camel_title (last);
}

/* Go's `\s`.  */
static const char *
skip_ws (const char *s)
{
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f')
    s++;
  return s;
}

static const char *
skip_word (const char *s, const char *word)
{
  size_t n = strlen (word);
  return strncmp (s, word, n) == 0 ? s + n : NULL;
}

bool
cove_format_is_json (const char *format)
{
  const char *s = skip_ws (format);
  const char *e = skip_word (s, "json");
  if (e == NULL)
    {
      if ((s = skip_word (s, "{{")) == NULL
          || (e = skip_word (skip_ws (s), "json")) == NULL)
        return false;
      const char *dot = skip_ws (e);
      if (*dot == '.' && dot > e)
        dot++;
      if ((e = skip_word (skip_ws (dot), "}}")) == NULL)
        return false;
    }
  return *skip_ws (e) == '\0';
}

/* podman's rangeRegex, `{{\s*range\s*\.\s*}}.*{{\s*end\s*-?\s*}}`.  */
static bool
has_range_dot (const char *text)
{
  for (const char *s = strstr (text, "{{"); s; s = strstr (s + 2, "{{"))
    {
      const char *e = skip_word (skip_ws (s + 2), "range");
      if (e == NULL || (e = skip_word (skip_ws (e), ".")) == NULL
          || (e = skip_word (skip_ws (e), "}}")) == NULL)
        continue;
      for (const char *t = strstr (e, "{{"); t; t = strstr (t + 2, "{{"))
        {
          const char *u = skip_word (skip_ws (t + 2), "end");
          if (u == NULL)
            continue;
          u = skip_ws (u);
          if (*u == '-')
            u++;
          if (skip_word (skip_ws (u), "}}"))
            return true;
        }
      return false;
    }
  return false;
}

/* podman's NormalizeFormat: strip `table`, turn the two characters `\t`
   and `\n` into tab and newline, end with a newline.  */
static char *
normalize (const char *format, bool *out_table)
{
  *out_table = strncmp (format, "table ", 6) == 0;
  const char *s = *out_table ? format + 6
                  : strncmp (format, "table", 5) == 0 ? format + 5 : format;
  struct buf b = { 0 };
  for (; *s; s++)
    {
      if (s[0] == '\\' && (s[1] == 't' || s[1] == 'n'))
        {
          format_buf_addc (&b, s[1] == 't' ? '\t' : '\n');
          s++;
        }
      else
        format_buf_addc (&b, *s);
    }
  if (b.len == 0 || b.data[b.len - 1] != '\n')
    format_buf_addc (&b, '\n');
  return format_buf_steal (&b);
}

struct cove_format_table *
cove_format_table_new (const char *name, const char *format,
                       const char *const *titles, unsigned flags,
                       struct cove_error **err)
{
  bool table;
  cleanup_free char *text = normalize (format, &table);
  struct cove_format *f = cove_format_parse (name, text, err);
  if (f == NULL)
    return NULL;
  struct cove_format_table *t = xmalloc0 (sizeof *t);
  t->f = f;
  t->table = table;
  t->once = !table && has_range_dot (text);
  t->noheading = (flags & COVE_FORMAT_NOHEADING) != 0;
  t->items = json_array ();
  for (size_t i = 0; titles && titles[i] && titles[i + 1]; i += 2)
    {
      cove_strv_append (&t->titles, titles[i]);
      cove_strv_append (&t->titles, titles[i + 1]);
    }
  return t;
}

void
cove_format_table_add_row (struct cove_format_table *t, json_t *item)
{
  json_array_append (t->items, item);
}

static int
render_into (struct cove_format_table *t, struct buf *b, json_t *data,
             bool header, struct cove_error **err)
{
  size_t n = 0;
  cleanup_free char *s = format_render (t->f, data, header,
                                        (const char *const *) t->titles, &n,
                                        err);
  if (s == NULL)
    return -1;
  format_buf_add (b, s, n);
  return 0;
}

static int
render_all (struct cove_format_table *t, struct buf *b, struct cove_error **err)
{
  if (t->table && !t->noheading && render_into (t, b, NULL, true, err) < 0)
    return -1;
  if (t->once)
    return render_into (t, b, t->items, false, err);
  for (size_t i = 0; i < json_array_size (t->items); i++)
    if (render_into (t, b, json_array_get (t->items, i), false, err) < 0)
      return -1;
  return 0;
}

int
cove_format_table_print (struct cove_format_table *t, FILE *out,
                         struct cove_error **err)
{
  struct buf b = { 0 };
  if (render_all (t, &b, err) < 0)
    {
      free (b.data);
      return -1;
    }
  size_t n = b.len;
  cleanup_free char *text = format_buf_steal (&b);
  cleanup_free char *aligned = t->table ? cove_format_tabwrite (text) : NULL;
  const char *s = aligned ? aligned : text;
  if (aligned)
    n = strlen (aligned);
  if (fwrite (s, 1, n, out) != n || fflush (out) != 0)
    return cove_error_set (err, errno ? errno : EIO, "write output");
  return 0;
}

void
cove_format_table_free (struct cove_format_table *t)
{
  if (t == NULL)
    return;
  cove_format_free (t->f);
  cove_strv_free (t->titles);
  json_decref (t->items);
  free (t);
}

int
cove_format_print_list (const char *name, const char *format,
                        const char *const *titles, json_t *items, FILE *out,
                        struct cove_error **err)
{
  struct cove_format_table *t = cove_format_table_new (name, format, titles,
                                                       0, err);
  if (t == NULL)
    return -1;
  for (size_t i = 0; i < json_array_size (items); i++)
    cove_format_table_add_row (t, json_array_get (items, i));
  int r = cove_format_table_print (t, out, err);
  cove_format_table_free (t);
  return r;
}

/* Go's text/tabwriter as podman sets it up.  A column block is a run of
   consecutive lines that all have a tab-terminated cell in that column; its
   width is the widest cell plus padding, at least TW_MINWIDTH.  Computed in
   one pass with the open block of each column, instead of tabwriter's
   recursion per column, so that a line of many tabs costs no stack.  */
struct tw_cell
{
  size_t start, len, width, block;
};

struct tw_line
{
  size_t first, ncells;   /* cells [first, first + ncells) */
};

static size_t
tw_width (const char *s, size_t n)
{
  size_t r = 0;
  for (size_t i = 0; i < n; i++)
    r += ((unsigned char) s[i] & 0xc0) != 0x80;
  return r;
}

static void
tw_split (const char *text, struct tw_cell **cells, size_t *ncells,
          struct tw_line **lines, size_t *nlines)
{
  size_t cap = 16, lcap = 16, start = 0;
  *cells = xmalloc (cap * sizeof **cells);
  *lines = xmalloc (lcap * sizeof **lines);
  *ncells = *nlines = 0;
  (*lines)[0] = (struct tw_line) { 0, 0 };
  for (size_t i = 0;; i++)
    {
      char c = text[i];
      if (c != '\t' && c != '\n' && c != '\0')
        continue;
      if (*ncells == cap)
        *cells = xrealloc (*cells, (cap *= 2) * sizeof **cells);
      (*cells)[(*ncells)++] = (struct tw_cell) { start, i - start,
                                                 tw_width (text + start, i - start), 0 };
      (*lines)[*nlines].ncells++;
      start = i + 1;
      if (c == '\t')
        continue;
      if (++*nlines == lcap)
        *lines = xrealloc (*lines, (lcap *= 2) * sizeof **lines);
      (*lines)[*nlines] = (struct tw_line) { *ncells, 0 };
      if (c == '\0')
        return;
    }
}

char *
cove_format_tabwrite (const char *text)
{
  struct tw_cell *cells;
  struct tw_line *lines;
  size_t ncells, nlines;
  tw_split (text, &cells, &ncells, &lines, &nlines);
  /* open[c]: the block of column c still open at the current line.  */
  size_t *open = xmalloc ((ncells + 1) * sizeof *open);
  size_t *widths = xmalloc ((ncells + 1) * sizeof *widths);
  size_t nopen = 0, nblocks = 0;
  for (size_t l = 0; l < nlines; l++)
    {
      size_t cols = lines[l].ncells - 1;   /* the last cell is no column */
      for (size_t c = 0; c < cols; c++)
        {
          struct tw_cell *cell = &cells[lines[l].first + c];
          if (c >= nopen)
            {
              open[c] = nblocks;
              widths[nblocks++] = TW_MINWIDTH;
            }
          cell->block = open[c];
          if (cell->width + TW_PADDING > widths[open[c]])
            widths[open[c]] = cell->width + TW_PADDING;
        }
      nopen = cols;
    }
  struct buf b = { 0 };
  for (size_t l = 0; l < nlines; l++)
    {
      for (size_t c = 0; c < lines[l].ncells; c++)
        {
          struct tw_cell *cell = &cells[lines[l].first + c];
          format_buf_add (&b, text + cell->start, cell->len);
          if (c + 1 < lines[l].ncells)
            for (size_t k = cell->width; k < widths[cell->block]; k++)
              format_buf_addc (&b, ' ');
        }
      if (l + 1 < nlines)
        format_buf_addc (&b, '\n');
    }
  free (open);
  free (widths);
  free (cells);
  free (lines);
  return format_buf_steal (&b);
}
