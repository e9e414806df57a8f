/* cove: printing lists of records the way podman does: a default table,
   `--format` templates (table or not), `--format json`, `-q`.  */
#ifndef COVE_CMD_LISTING_H
#define COVE_CMD_LISTING_H

#include <jansson.h>
#include <stdbool.h>

/* Print ITEMS (a JSON array of objects whose keys are the template fields,
   e.g. "ID", "Repository") with FORMAT: NULL means DEFAULT_TABLE (a
   `table ...` template); "json" prints JSON_ITEMS (podman's JSON shape,
   which may differ from the template fields) as an indented array;
   anything else is a Go template (with a `table ` prefix: a header row).
   HEADERS: pairs of field name and column title ("CreatedSince",
   "CREATED", ..., NULL) overriding the uppercased field names.
   NOHEADING drops the header row.  Returns 0, or 125 after printing an
   `Error:` line for a bad template.  */
int cove_listing_print (json_t *items, json_t *json_items, const char *format,
                        const char *default_table, const char *const *headers,
                        bool noheading);

#endif
