/* cove cp with `-`: tar streams on stdin and stdout (cove-full only: they
   need libarchive).  */
#ifndef COVE_CMD_CPSTREAM_H
#define COVE_CMD_CPSTREAM_H

#include <stdbool.h>

#include "cmd/cove/cptree.h"

/* Write the entry SRC (an O_PATH fd) to OUT_FD as a tar stream, as one
   entry NAME (a directory with its content), or with CONTENTS the
   directory's content only.  The copy is staged in a new directory below
   STAGE_DIR (removed before returning).  */
int cove_cp_tar_out (int src, const char *name, bool contents,
                     const char *stage_dir, int out_fd,
                     struct cove_error **err);

/* Unpack the tar stream of IN_FD (untrusted: cove_archive_apply's rules,
   in a stage below STAGE_DIR) into the directory DDIR, owned as O says.  */
int cove_cp_tar_in (int in_fd, int ddir, const struct cove_cp_owner *o,
                    const char *stage_dir, struct cove_error **err);

#endif
