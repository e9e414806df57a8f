/* cove: container logs in podman's k8s-file format (conmon's, the CRI log
   format), written by the container monitor and read by `cove logs`.

   One entry per line:
     TIMESTAMP STREAM TAG CONTENT\n
   TIMESTAMP  RFC 3339 with nanoseconds and the local offset, as conmon
              writes it: 2026-11-29T02:40:06.123456789+00:00
   STREAM     stdout | stderr
   TAG        F (a full line, its newline dropped) | P (a partial piece:
              the next entries of the same stream continue it)
   CONTENT    the container's bytes, verbatim (untrusted: any byte but \n)

   Rotation (--log-opt max-size): as conmon does, when a write would make
   the file exceed MAX_SIZE the log starts over: a new empty file is made
   at PATH.tmp and renamed over PATH (no PATH.1 is kept).  A reader that
   follows the log notices the new inode (or a file shorter than what it
   has read) and reads the new file from its start.  An entry larger than
   MAX_SIZE by itself is still written, alone in its file.  */
#ifndef COVE_CTRLOG_CTRLOG_H
#define COVE_CTRLOG_CTRLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "pkg/util/error.h"

#define COVE_CTRLOG_STDOUT 1
#define COVE_CTRLOG_STDERR 2

/* ---- writer (the monitor: no threads, no big buffers) ---- */

struct cove_ctrlog;

/* Open (create 0600, append) the log at PATH; MAX_SIZE > 0: when a write
   would make the file exceed it, rotate (podman/conmon k8s-file: the file
   is truncated and starts over, see above).  Caller closes with
   cove_ctrlog_close.  errnum: open(2)'s.  */
struct cove_ctrlog *cove_ctrlog_open (const char *path, int64_t max_size,
                                      struct cove_error **err);

/* Log BUF (LEN bytes, as read from the container's STREAM: 1 stdout,
   2 stderr): each complete line becomes `TIMESTAMP STREAM F LINE\n`; a
   trailing piece without newline is written at once as a partial
   `TIMESTAMP STREAM P PIECE\n` (as conmon does), never buffered.
   TIMESTAMP is RFC 3339 with nanoseconds and the local offset, e.g.
   2026-11-29T02:40:06.123456789+00:00.  BUF is untrusted (the
   container's output).  errnum: write(2)'s (ENOSPC...), EINVAL for a bad
   STREAM.  */
int cove_ctrlog_write (struct cove_ctrlog *l, int stream, const char *buf,
                       size_t len, struct cove_error **err);

void cove_ctrlog_close (struct cove_ctrlog *l);

/* ---- reader ---- */

/* One entry of a log, pointing into the reader's buffer (valid during
   the callback only).  */
struct cove_ctrlog_entry
{
  struct timespec time;  /* the UTC instant of its timestamp */
  int stream;            /* COVE_CTRLOG_STDOUT | COVE_CTRLOG_STDERR; 0 for
                            a malformed line (then data holds it all) */
  bool partial;          /* tag P: the next entry of the same stream
                            continues this line */
  const char *data;      /* the content (not NUL-terminated), no newline */
  size_t len;
  const char *stamp;     /* the timestamp as written (STAMP_LEN bytes) */
  size_t stamp_len;
};

/* Parse one line LINE (LEN bytes, without its newline; untrusted: the
   content is the container's and the file may be truncated or corrupt).
   Returns 0 and fills *OUT (pointing into LINE) for a well-formed entry,
   -1 for a malformed one (*OUT then has stream 0 and data = the whole
   line).  Never sets an error: a bad line is not a failure of the log.  */
int cove_ctrlog_parse_line (const char *line, size_t len,
                            struct cove_ctrlog_entry *out);

/* The timestamp STAMP (an entry's, LEN bytes) as podman's `logs -t`
   prints it (Go's RFC3339Nano): trailing zeros of the fraction dropped, a
   zero offset as Z: 2026-11-29T02:40:06.1234+00:00 gives
   2026-11-29T02:40:06.1234Z.  BUF has SIZE >= 64 bytes; returns the
   length written (NUL-terminated), 0 when SIZE is too small or STAMP too
   long.  */
size_t cove_ctrlog_format_stamp (const char *stamp, size_t len, char *buf,
                                 size_t size);

/* Parse a --since (SINCE true) or --until value as podman does: RFC 3339
   (with or without fraction; zone Z or +HH:MM, or none = UTC), the date
   alone, Unix seconds with an optional fraction, or a Go duration (10m,
   1h30m, 1.5s: that long before NOW for --since, after NOW for --until,
   as podman).  errnum EINVAL, plain message "unable to interpret time
   value".  */
int cove_ctrlog_parse_time (const char *s, bool since,
                            const struct timespec *now, struct timespec *out,
                            struct cove_error **err);

/* Which entries to read and how.  */
struct cove_ctrlog_filter
{
  bool has_since, has_until;
  struct timespec since, until;  /* as podman: shown when since < time
                                    and time < until */
  int64_t tail;                  /* < 0: all; N >= 0: start N lines before
                                    the end (a line: an F entry, or the
                                    last P entry of a stream at the end) */
  bool follow;
};

/* Called with each entry in file order (partial pieces are not joined
   here: a printer joins them by not ending a P piece's line).  Return
   non-zero to stop reading: that value is then returned.  */
typedef int (*cove_ctrlog_entry_fn) (const struct cove_ctrlog_entry *e,
                                     void *data);

/* Called every 100 ms while following: return true once the writer is
   gone for good (container exited, monitor gone); the reader then reads
   what is left in the file and returns.  */
typedef bool (*cove_ctrlog_stop_fn) (void *data);

/* Read the log at PATH through F, calling ENTRY_FN for each entry; with
   F->follow wait for more (inotify, and a 100 ms poll that calls STOP_FN,
   which may be NULL: follow forever) until STOP_FN says stop and the file
   is drained.  A log rotated while followed (replaced by a new file, or
   truncated) is read from the new start.  Malformed lines are passed on
   with stream 0.  Memory stays bounded: --tail reads from the end, and a
   line longer than 1 MiB (only a corrupt file has one) is passed on in
   pieces.  Returns 0, ENTRY_FN's non-zero value, or -1 (errnum ENOENT: no
   log file).  */
int cove_ctrlog_read (const char *path, const struct cove_ctrlog_filter *f,
                      cove_ctrlog_entry_fn entry_fn,
                      cove_ctrlog_stop_fn stop_fn, void *data,
                      struct cove_error **err);

#endif
