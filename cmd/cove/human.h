/* cove: values as podman prints them for people.  */
#ifndef COVE_CMD_HUMAN_H
#define COVE_CMD_HUMAN_H

#include <stdint.h>
#include <time.h>

/* "5.83 MB": three significant digits, decimal units (B kB MB GB TB), as
   podman's `images` SIZE column.  Caller frees.  */
char *cove_human_size (int64_t bytes);

/* "1.98MB", "0B": the same without the space, as Go's
   units.HumanSizeWithPrecision (n, 3) in podman's `ps --size` column.
   Caller frees.  */
char *cove_human_size_compact (int64_t bytes);

/* "2 weeks", "About a minute", "Less than a second", as docker's
   units.HumanDuration.  Caller frees.  */
char *cove_human_duration (int64_t seconds);

/* "3 hours ago" for a time in the past (relative to NOW).  Caller frees.  */
char *cove_human_since (time_t when, time_t now);

/* Go's time.Time String(): "2026-11-29 00:51:36 +0000 UTC" in local time.
   Caller frees.  */
char *cove_human_go_time (time_t when);

/* RFC 3339 with nanoseconds as podman's JSON: "2026-11-29T00:51:36Z"
   (local offset).  Caller frees.  */
char *cove_human_rfc3339 (time_t when);

#endif
