#include <errno.h>

#include "pkg/util/json.h"

int
cove_json_opt_string (json_t *obj, const char *key, const char *where,
                      const char **out, struct cove_error **err)
{
  json_t *v = json_object_get (obj, key);
  *out = NULL;
  if (v == NULL)
    return 0;
  if (!json_is_string (v))
    return cove_error_set (err, EINVAL, "%s: `%s` must be a string", where, key);
  *out = json_string_value (v);
  return 0;
}
