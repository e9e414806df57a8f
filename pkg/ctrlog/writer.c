/* cove: the k8s-file log writer, run by the container monitor.

   The monitor lives as long as the container, so this keeps no buffer of
   its own: each call formats one timestamp prefix on the stack and hands
   the container's bytes to writev(2) as they are.  Lines are never held
   back (a piece without newline is written at once as a P entry), so that
   `cove logs -f` shows output as soon as the container writes it.  */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "pkg/ctrlog/ctrlog.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* strlen ("1997-03-25T13:20:42.999999999+01:00 stdout F ") = 45; room for
   a five-digit year.  */
#define PREFIX_MAX 64

struct cove_ctrlog
{
  int fd;
  char *path;
  int64_t max_size;   /* 0: no limit */
  int64_t size;       /* bytes in the current file */
};

static int
open_log (const char *path, bool truncate, struct cove_error **err)
{
  int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY;
  int fd = open (path, flags | (truncate ? O_TRUNC : 0), 0600);
  if (fd < 0)
    return cove_error_set (err, errno, "open log `%s`", path);
  return fd;
}

struct cove_ctrlog *
cove_ctrlog_open (const char *path, int64_t max_size, struct cove_error **err)
{
  struct stat st;
  cleanup_close int fd = open_log (path, false, err);
  if (fd < 0)
    return NULL;
  if (fstat (fd, &st) < 0)
    {
      cove_error_set (err, errno, "stat log `%s`", path);
      return NULL;
    }
  /* The timestamps carry the local offset: read TZ once, now, rather than
     at the first line.  */
  tzset ();
  struct cove_ctrlog *l = xmalloc0 (sizeof *l);
  l->fd = steal_fd (&fd);
  l->path = xstrdup (path);
  l->max_size = max_size > 0 ? max_size : 0;
  l->size = st.st_size;
  return l;
}

void
cove_ctrlog_close (struct cove_ctrlog *l)
{
  if (l == NULL)
    return;
  if (l->fd >= 0)
    close (l->fd);
  free (l->path);
  free (l);
}

/* Start over, as conmon does: a new empty file is made beside the log and
   renamed over it, so that a reader opening PATH never sees a half-reset
   file, and one following the old inode sees it replaced.  */
static int
rotate (struct cove_ctrlog *l, struct cove_error **err)
{
  cleanup_free char *tmp = xasprintf ("%s.tmp", l->path);
  int fd = open_log (tmp, true, err);
  if (fd < 0)
    return -1;
  if (rename (tmp, l->path) < 0)
    {
      int saved = errno;
      close (fd);
      unlink (tmp);
      return cove_error_set (err, saved, "rename `%s` to `%s`", tmp, l->path);
    }
  close (l->fd);
  l->fd = fd;
  l->size = 0;
  return 0;
}

/* "2026-11-29T02:40:06.123456789+00:00 stdout " into BUF; its length.  */
static int
format_prefix (char *buf, size_t size, int stream, struct cove_error **err)
{
  struct timespec ts;
  struct tm tm;
  if (clock_gettime (CLOCK_REALTIME, &ts) < 0)
    return cove_error_set (err, errno, "clock_gettime");
  if (localtime_r (&ts.tv_sec, &tm) == NULL)
    return cove_error_set (err, EOVERFLOW, "localtime");
  long off = tm.tm_gmtoff;
  char sign = '+';
  if (off < 0)
    {
      sign = '-';
      off = -off;
    }
  int n = snprintf (buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09ld%c%02ld:%02ld %s ",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                    tm.tm_min, tm.tm_sec, ts.tv_nsec, sign, off / 3600,
                    (off % 3600) / 60,
                    stream == COVE_CTRLOG_STDOUT ? "stdout" : "stderr");
  if (n < 0 || (size_t) n >= size)
    return cove_error_set (err, EOVERFLOW, "format log timestamp");
  return n;
}

/* writev all of IOV, going on after short writes and EINTR.  */
static int
writev_all (int fd, struct iovec *iov, int n, struct cove_error **err)
{
  while (n > 0)
    {
      ssize_t r = writev (fd, iov, n);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return cove_error_set (err, errno, "write log");
      while (n > 0 && (size_t) r >= iov->iov_len)
        {
          r -= iov->iov_len;
          iov++;
          n--;
        }
      if (n > 0)
        {
          iov->iov_base = (char *) iov->iov_base + r;
          iov->iov_len -= r;
        }
    }
  return 0;
}

/* One entry: PREFIX, tag, LINE (with its newline for F, none for P).  */
static int
write_entry (struct cove_ctrlog *l, const char *prefix, size_t prefix_len,
             const char *line, size_t len, bool partial,
             struct cove_error **err)
{
  int64_t need = (int64_t) (prefix_len + 2 + len + (partial ? 1 : 0));
  if (l->max_size > 0 && l->size > 0 && l->size + need > l->max_size
      && rotate (l, err) < 0)
    return -1;
  struct iovec iov[4] = {
    { (void *) prefix, prefix_len },
    { (void *) (partial ? "P " : "F "), 2 },
    { (void *) line, len },
    { (void *) "\n", 1 },
  };
  if (writev_all (l->fd, iov, partial ? 4 : 3, err) < 0)
    return -1;
  l->size += need;
  return 0;
}

int
cove_ctrlog_write (struct cove_ctrlog *l, int stream, const char *buf,
                   size_t len, struct cove_error **err)
{
  char prefix[PREFIX_MAX];
  if (stream != COVE_CTRLOG_STDOUT && stream != COVE_CTRLOG_STDERR)
    return cove_error_set (err, EINVAL, "log stream %d", stream);
  if (len == 0)
    return 0;
  /* One timestamp for all the lines of one read, as conmon.  */
  int plen = format_prefix (prefix, sizeof prefix, stream, err);
  if (plen < 0)
    return -1;
  /* BUF is the container's output (untrusted): any bytes; only \n means
     anything here.  */
  while (len > 0)
    {
      const char *nl = memchr (buf, '\n', len);
      bool partial = nl == NULL;
      size_t n = partial ? len : (size_t) (nl - buf) + 1;
      if (write_entry (l, prefix, plen, buf, n, partial, err) < 0)
        return -1;
      buf += n;
      len -= n;
    }
  return 0;
}
