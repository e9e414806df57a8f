/* cove: `--format`: the subset of Go's text/template that podman users'
   scripts use, over jansson values, shared by every command that has
   --format (images, ps, inspect, history, info, volume ls, ...).

   The template text comes from the user's command line: it is parsed with
   bounded nesting (100) and executed with a budget of steps and bytes, so
   that no template can crash cove or make it run without end.

   Supported: text; actions {{pipeline}}; comments (`{{/` `*` ... `*` `/}}`); trim markers
   `{{- ` and ` -}}`; fields `.A.B` (on objects), `.`, `$`, `$x.A`,
   `(pipeline).A`; variables `{{$x := p}}`, `{{$x = p}}`; pipelines `a | f`;
   literals "string" (Go escapes), `raw`, 'c', numbers, true, false, nil;
   {{if}}/{{else if}}/{{else}}/{{end}}, {{range}} (arrays; objects by sorted
   key; `$i, $e :=`), {{with}}, {{break}}, {{continue}}.  Functions: the
   builtins and, or, not, len, index, slice, print, printf, println, eq, ne,
   lt, le, gt, ge, and podman's join, json, lower, upper, title, split,
   truncate, pad.

   Values print as Go prints them: strings verbatim, integers plain, floats
   shortest (`1e+06`), true/false, null `<nil>`, arrays `[a b]`, objects
   `map[k:v]` with sorted keys, a missing map entry `<no value>`.

   Objects stand for both Go structs and maps: an object whose keys all
   begin with an upper-case letter is a struct, where a missing field is an
   error ("can't evaluate field X in type object"); any other object (labels,
   annotations, an empty object) is a map, where a missing key is
   `<no value>`.  */
#ifndef COVE_CMD_FORMAT_H
#define COVE_CMD_FORMAT_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#include "pkg/util/error.h"

struct cove_format;

/* Parse TEXT (a Go template, used as is: see cove_format_table_new for
   podman's `table` prefix and `\t` escapes).  NAME names the template in
   error messages as podman does with the command name ("images"); NULL means
   "format".  Returns a template the caller frees with cove_format_free, or
   NULL with errnum EINVAL and a message as Go's:
   `template: images:1: function "nope" not defined`.  */
struct cove_format *cove_format_parse (const char *name, const char *text,
                                       struct cove_error **err);

void cove_format_free (struct cove_format *f);

/* Bounds of one execution: at most MAX_STEPS actions and function calls,
   MAX_BYTES bytes of output and intermediate strings.  Defaults: 10 million
   steps, 64 MiB.  For tests and fuzzing.  */
void cove_format_set_budget (struct cove_format *f, size_t max_steps,
                             size_t max_bytes);

/* Execute F with dot and `$` bound to DATA (not modified, not stolen).
   Returns a new NUL-terminated string the caller frees, or NULL with errnum
   EINVAL and Go's message: `template: images:1:2: executing "images" at
   <.Nope>: can't evaluate field Nope in type object`; errnum E2BIG when the
   budget ran out.  */
char *cove_format_render (const struct cove_format *f, json_t *data,
                          struct cove_error **err);

/* cove_format_render, then write the result to OUT (nothing is written on
   failure).  Returns 0, or -1 with the errors of cove_format_render or EIO
   when OUT fails.  */
int cove_format_execute (const struct cove_format *f, json_t *data, FILE *out,
                         struct cove_error **err);

/* True when FORMAT asks for the whole list as JSON, as podman's IsJSON:
   `json`, `{{json .}}`, `{{ json }}` with any surrounding spaces.  The
   command then prints its JSON document instead of using a template.  */
bool cove_format_is_json (const char *format);

/* The printer of a --format option, as podman's report package:
   - FORMAT "table ..." prints a header row then one row per item, through
     a tabwriter as podman's (min cell width 12, padding 2, spaces; the last
     cell of a line is not padded);
   - any other FORMAT prints each item with the template, no alignment;
     if FORMAT contains `{{range .}}...{{end}}` it is executed once with dot
     bound to the array of all items (podman's EnforceRange);
   - before parsing, `table`/`table ` is stripped, the two-character
     sequences `\t` and `\n` become tab and newline, and a newline is added
     at the end when missing.
   TITLES: NULL or pairs { "Field", "TITLE", ..., NULL } that override
   column titles (podman: {"ID", "IMAGE ID"}); a field's title is otherwise
   its name split at case changes and upper-cased ("CreatedAt" -> "CREATED
   AT"); a chain `.A.B` is looked up as "A.B", then as "B".  FLAGS:
   COVE_FORMAT_NOHEADING (podman's --noheading).  NAME as in
   cove_format_parse.  Returns NULL with the errors of cove_format_parse.  */
#define COVE_FORMAT_NOHEADING 1u
struct cove_format_table;
struct cove_format_table *cove_format_table_new (const char *name,
                                                 const char *format,
                                                 const char *const *titles,
                                                 unsigned flags,
                                                 struct cove_error **err);

/* Add ITEM (a new reference is taken) as the next row.  */
void cove_format_table_add_row (struct cove_format_table *t, json_t *item);

/* Render the header and all rows and write them to OUT.  Returns 0, or -1
   with the errors of cove_format_render (nothing is written then).  */
int cove_format_table_print (struct cove_format_table *t, FILE *out,
                             struct cove_error **err);

void cove_format_table_free (struct cove_format_table *t);

/* One call for the common case: print the items of the array ITEMS with
   FORMAT, as cove_format_table_new + add_row + print.  */
int cove_format_print_list (const char *name, const char *format,
                            const char *const *titles, json_t *items,
                            FILE *out, struct cove_error **err);

/* Go's text/tabwriter with podman's settings (minwidth 12, tabwidth 2,
   padding 2, padchar ' ', no flags) over TEXT; returns a new string.  */
char *cove_format_tabwrite (const char *text);

#endif
