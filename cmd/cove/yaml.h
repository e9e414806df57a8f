/* cove: print a JSON document as YAML, the default output of `cove info`.  */
#ifndef COVE_CMD_YAML_H
#define COVE_CMD_YAML_H

#include <jansson.h>
#include <stdio.h>

void cove_yaml_print (FILE *out, json_t *doc);

#endif
