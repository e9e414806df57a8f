/* cove: typed reads of untrusted JSON documents (manifests, configs,
   registries.conf converted to JSON...).  */
#ifndef COVE_UTIL_JSON_H
#define COVE_UTIL_JSON_H

#include <jansson.h>

#include "pkg/util/error.h"

/* KEY of OBJ as a string in *OUT: NULL when absent; errnum EINVAL
   "WHERE: `KEY` must be a string" when of another type.  */
int cove_json_opt_string (json_t *obj, const char *key, const char *where,
                          const char **out, struct cove_error **err);

#endif
