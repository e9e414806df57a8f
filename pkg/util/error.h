/* cove: errors carried up the stack and printed once, by cmd/.  */
#ifndef COVE_UTIL_ERROR_H
#define COVE_UTIL_ERROR_H

#include <stdarg.h>

struct cove_error
{
  int errnum;   /* an errno value, or 0 when the failure has none */
  char *msg;    /* what failed, lowercase, no full stop */
  int plain;    /* non-zero: the message says it all (podman's own words,
                   "...: no such container"), no strerror is appended */
};

/* Set *ERR to a new error with ERRNUM and a printf-style message.  *ERR must
   be NULL (an error is never overwritten).  Always returns -1, so that
   `return cove_error_set (err, errno, "open `%s`", path);` works.  ERR may be
   NULL, then the error is dropped.  */
int cove_error_set (struct cove_error **err, int errnum, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* The same, for a message that needs no strerror after it (ERRNUM still
   tells callers what failed).  */
int cove_error_set_plain (struct cove_error **err, int errnum,
                          const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* Prefix context to the message of *ERR: "CONTEXT: old message".  Returns -1.
   Does nothing (but return -1) when ERR or *ERR is NULL.  */
int cove_error_wrap (struct cove_error **err, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

void cove_error_free (struct cove_error *err);

/* For `cleanup_error`: frees *ERR and sets it to NULL.  */
void cove_error_release (struct cove_error **err);

/* "msg: strerror(errnum)" (or just msg when errnum is 0); caller frees.  */
char *cove_error_string (const struct cove_error *err);

/* Send ERR over FD as (errnum, length, bytes); used by forked children to
   report to their parent over a sync pipe.  Best effort: errors of the write
   itself are ignored since the child is about to _exit.  */
void cove_error_send (int fd, const struct cove_error *err);

/* Read an error sent with cove_error_send from FD.  Returns 1 and sets
   *OUT_ERR when one was read, 0 on EOF (no error sent), -1 on a short or
   failed read (then *ERR is set).  */
int cove_error_recv (int fd, struct cove_error **out_err, struct cove_error **err);

#endif
