/* cove ctrlog: declarations shared by its files only.  */
#ifndef COVE_CTRLOG_INTERNAL_H
#define COVE_CTRLOG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "pkg/util/error.h"

/* An RFC 3339 time of LEN bytes at S: date, optional "T" clock with
   fraction, zone ("Z", "+HH:MM"; when absent and not ZONE_REQUIRED: UTC,
   as Go's time.Parse).  0 and *OUT, or -1.  */
int cove_ctrlog_parse_stamp (const char *s, size_t len, bool zone_required,
                             struct timespec *out);

/* The offset where the last N lines of the log FD (SIZE bytes) begin (a
   line: an F entry, the last P entry of a stream, or a malformed line);
   0 when it has no more than N.  -1 and *ERR on a read error.  */
off_t cove_ctrlog_tail_start (int fd, off_t size, int64_t n,
                              struct cove_error **err);

#endif
