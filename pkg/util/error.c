#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkg/util/error.h"
#include "pkg/util/xalloc.h"

#define ERROR_PLAIN_BIT 0x40000000

static int
error_setv (struct cove_error **err, int errnum, int plain, const char *fmt,
            va_list ap)
{
  if (err == NULL)
    return -1;
  struct cove_error *e = xmalloc0 (sizeof *e);
  if (vasprintf (&e->msg, fmt, ap) < 0)
    e->msg = xstrdup ("(error message lost)");
  e->errnum = errnum;
  e->plain = plain;
  /* An error is never overwritten: the first failure is the one to tell.  */
  if (*err)
    cove_error_free (e);
  else
    *err = e;
  return -1;
}

int
cove_error_set (struct cove_error **err, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  error_setv (err, errnum, 0, fmt, ap);
  va_end (ap);
  return -1;
}

int
cove_error_set_plain (struct cove_error **err, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  error_setv (err, errnum, 1, fmt, ap);
  va_end (ap);
  return -1;
}

int
cove_error_wrap (struct cove_error **err, const char *fmt, ...)
{
  if (err == NULL || *err == NULL)
    return -1;
  char *ctx = NULL;
  va_list ap;
  va_start (ap, fmt);
  int n = vasprintf (&ctx, fmt, ap);
  va_end (ap);
  if (n < 0)
    return -1;
  char *msg = xasprintf ("%s: %s", ctx, (*err)->msg);
  free (ctx);
  free ((*err)->msg);
  (*err)->msg = msg;
  return -1;
}

void
cove_error_free (struct cove_error *err)
{
  if (err == NULL)
    return;
  free (err->msg);
  free (err);
}

void
cove_error_release (struct cove_error **err)
{
  cove_error_free (*err);
  *err = NULL;
}

char *
cove_error_string (const struct cove_error *err)
{
  if (err->errnum == 0 || err->plain)
    return xstrdup (err->msg);
  return xasprintf ("%s: %s", err->msg, strerror (err->errnum));
}

static int
write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -1;
      p += n;
      len -= n;
    }
  return 0;
}

/* Returns bytes read (short only at EOF) or -1.  */
static ssize_t
read_all (int fd, void *buf, size_t len)
{
  char *p = buf;
  size_t got = 0;
  while (got < len)
    {
      ssize_t n = read (fd, p + got, len - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      if (n == 0)
        break;
      got += n;
    }
  return got;
}

void
cove_error_send (int fd, const struct cove_error *err)
{
  /* The plain flag rides in a bit no errno value uses.  */
  int32_t hdr[2] = { err->errnum | (err->plain ? ERROR_PLAIN_BIT : 0),
                     (int32_t) strlen (err->msg) };
  if (write_all (fd, hdr, sizeof hdr) == 0)
    (void) write_all (fd, err->msg, hdr[1]);
}

int
cove_error_recv (int fd, struct cove_error **out_err, struct cove_error **err)
{
  int32_t hdr[2];
  ssize_t n = read_all (fd, hdr, sizeof hdr);
  if (n < 0)
    return cove_error_set (err, errno, "read error from child");
  if (n == 0)
    return 0;
  /* The length comes from our own child; still bound it.  */
  if (n != sizeof hdr || hdr[1] < 0 || hdr[1] > 65536)
    return cove_error_set (err, EPROTO, "short error message from child");
  char *msg = xmalloc ((size_t) hdr[1] + 1);
  n = read_all (fd, msg, hdr[1]);
  if (n != hdr[1])
    {
      free (msg);
      return cove_error_set (err, EPROTO, "short error message from child");
    }
  msg[hdr[1]] = '\0';
  struct cove_error *e = xmalloc0 (sizeof *e);
  e->errnum = hdr[0] & ~ERROR_PLAIN_BIT;
  e->plain = (hdr[0] & ERROR_PLAIN_BIT) != 0;
  e->msg = msg;
  *out_err = e;
  return 1;
}
