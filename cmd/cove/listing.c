#include <stdio.h>
#include <string.h>

#include "cmd/cove/format.h"
#include "cmd/cove/listing.h"
#include "cmd/cove/output.h"
#include "pkg/util/cleanup.h"

int
cove_listing_print (json_t *items, json_t *json_items, const char *format,
                    const char *default_table, const char *const *headers,
                    bool noheading)
{
  if (format && cove_format_is_json (format))
    {
      json_dumpf (json_items, stdout, JSON_INDENT (4) | JSON_PRESERVE_ORDER);
      fputc ('\n', stdout);
      return 0;
    }
  cleanup_error struct cove_error *err = NULL;
  struct cove_format_table *t
      = cove_format_table_new (NULL, format ? format : default_table, headers,
                               noheading ? COVE_FORMAT_NOHEADING : 0, &err);
  if (t == NULL)
    return cove_cmd_fail (&err, 125);
  size_t i;
  json_t *item;
  json_array_foreach (items, i, item)
    cove_format_table_add_row (t, item);
  int r = cove_format_table_print (t, stdout, &err);
  cove_format_table_free (t);
  return r < 0 ? cove_cmd_fail (&err, 125) : 0;
}
