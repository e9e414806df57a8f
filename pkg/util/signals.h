/* cove: signal names and numbers, as `kill -s`, `--stop-signal` and an
   image's StopSignal write them.  */
#ifndef COVE_UTIL_SIGNALS_H
#define COVE_UTIL_SIGNALS_H

#include "pkg/util/error.h"

/* Parse "SIGTERM", "TERM", "term", "15", "RTMIN+3", "SIGRTMAX-1" into a
   signal number (1..SIGRTMAX).  errnum EINVAL "invalid signal: X".  */
int cove_signal_parse (const char *s, int *out, struct cove_error **err);

/* "SIGTERM" for 15; "SIGRTMIN+N" for real-time ones; NULL when unknown.
   Static storage for the named ones; real-time ones in a thread-local
   buffer.  */
const char *cove_signal_name (int sig);

#endif
