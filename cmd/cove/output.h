/* cove: how cmd/ reports errors.  */
#ifndef COVE_CMD_OUTPUT_H
#define COVE_CMD_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "pkg/util/error.h"

/* Print `Error: <msg>[: <strerror>]` on stderr, free *ERR, return 125 (or
   STATUS when non-zero), so that `return cove_cmd_fail (&err, 0);` ends a
   command.  */
int cove_cmd_fail (struct cove_error **err, int status);

/* Print `Error: <printf message>` and return 125, for bad input found by
   cmd/ itself.  */
int cove_cmd_usage_error (const char *fmt, ...)
  __attribute__ ((format (printf, 1, 2)));

/* Print WARNING (its own lines) and "Are you sure you want to continue?
   [y/N] " on OUT, as podman's prune commands, and read the answer from
   stdin: true for a line starting with y or Y.  */
bool cove_cmd_confirm (FILE *out, const char *warning);

/* Enter the user's user namespace (rootless/), sharing the one kept by the
   pause process in the user's runtime directory.  */
int cove_cmd_enter_userns (struct cove_error **err);

#endif
