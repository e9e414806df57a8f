/* cove: reading a k8s-file log, for `cove logs`: from the start or from
   the --tail point, filtered by time, and followed while the container
   runs (inotify on the file and its folder, and a 100 ms poll that asks
   the caller whether the writer is gone).

   The file is filled from the container's output (untrusted) and may be
   cut or corrupt: lines are parsed one by one, a malformed one is passed
   on as such, and no line makes the reader hold more than LINE_MAX bytes
   (a longer one is passed on in pieces).  */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/ctrlog/ctrlog.h"
#include "pkg/ctrlog/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

#define BUF_START (64 * 1024)
#define LINE_MAX_LEN (1024 * 1024)
#define POLL_MS 100

struct reader
{
  const char *path;
  const struct cove_ctrlog_filter *f;
  cove_ctrlog_entry_fn fn;
  void *data;
  int fd;
  struct stat st;       /* of fd when opened: rotation is a new inode */
  off_t pos;            /* file offset just after buf[end] */
  char *buf;
  size_t cap, start, end;
  /* A line longer than LINE_MAX_LEN being passed on in pieces: the
     header of its first piece (its stamp copied to stamp).  */
  bool in_long;
  struct cove_ctrlog_entry long_head;
  char stamp[64];
  int cb_ret;           /* a value to return met inside check_rotated */
};

static bool
ts_before (const struct timespec *a, const struct timespec *b)
{
  return a->tv_sec < b->tv_sec
         || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Pass E on when it is in the filter's time range (podman: strictly
   after --since, strictly before --until).  */
static int
emit (struct reader *r, const struct cove_ctrlog_entry *e)
{
  const struct cove_ctrlog_filter *f = r->f;
  if (e->stream != 0 && f->has_since && !ts_before (&f->since, &e->time))
    return 0;
  if (e->stream != 0 && f->has_until && !ts_before (&e->time, &f->until))
    return 0;
  return r->fn (e, r->data);
}

/* One whole line, or the end of a long one.  */
static int
emit_line (struct reader *r, const char *line, size_t len)
{
  struct cove_ctrlog_entry e;
  if (r->in_long)
    {
      r->in_long = false;
      e = r->long_head;
      e.partial = r->long_head.partial;  /* the line's own tag */
      e.data = line;
      e.len = len;
      return emit (r, &e);
    }
  if (len == 0)
    return 0;  /* a blank line is no entry */
  (void) cove_ctrlog_parse_line (line, len, &e);
  return emit (r, &e);
}

/* A full buffer without newline: pass its bytes on as a piece of a long
   line, keeping the line's header for the pieces to come.  */
static int
emit_long_piece (struct reader *r)
{
  struct cove_ctrlog_entry e;
  const char *p = r->buf + r->start;
  size_t len = r->end - r->start;
  if (!r->in_long)
    {
      (void) cove_ctrlog_parse_line (p, len, &e);
      r->long_head = e;
      if (e.stamp_len > 0 && e.stamp_len < sizeof r->stamp)
        {
          memcpy (r->stamp, e.stamp, e.stamp_len);
          r->long_head.stamp = r->stamp;
        }
      else
        r->long_head.stamp_len = 0;
      r->in_long = true;
    }
  else
    {
      e = r->long_head;
      e.data = p;
      e.len = len;
    }
  if (e.stream != 0)
    e.partial = true;
  r->start = r->end = 0;
  return emit (r, &e);
}

/* Pass on every complete line in the buffer.  */
static int
emit_lines (struct reader *r)
{
  while (r->start < r->end)
    {
      char *p = r->buf + r->start;
      char *nl = memchr (p, '\n', r->end - r->start);
      if (nl == NULL)
        break;
      r->start += (size_t) (nl - p) + 1;
      int ret = emit_line (r, p, (size_t) (nl - p));
      if (ret)
        return ret;
    }
  if (r->start == r->end)
    r->start = r->end = 0;
  return 0;
}

/* Read to the end of the file, passing on complete lines.  Returns 0 at
   the end, the callback's value, or -1.  */
static int
read_available (struct reader *r, struct cove_error **err)
{
  for (;;)
    {
      if (r->start > 0)
        {
          memmove (r->buf, r->buf + r->start, r->end - r->start);
          r->end -= r->start;
          r->start = 0;
        }
      if (r->end == r->cap)
        {
          int ret;
          if (r->cap < LINE_MAX_LEN)
            {
              r->cap *= 2;
              r->buf = xrealloc (r->buf, r->cap);
            }
          else if ((ret = emit_long_piece (r)) != 0)
            return ret;
        }
      ssize_t n = read (r->fd, r->buf + r->end, r->cap - r->end);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return cove_error_set (err, errno, "read log `%s`", r->path);
      if (n == 0)
        return 0;
      r->end += (size_t) n;
      r->pos += n;
      int ret = emit_lines (r);
      if (ret)
        return ret;
    }
}

/* At the very end: what is left without newline (a file cut mid-line) is
   passed on as it is.  */
static int
flush_rest (struct reader *r)
{
  size_t len = r->end - r->start;
  const char *p = r->buf + r->start;
  r->start = r->end = 0;
  if (len == 0 && !r->in_long)
    return 0;
  return emit_line (r, p, len);
}

static int
open_at (struct reader *r, off_t offset, struct cove_error **err)
{
  int fd = open (r->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return cove_error_set (err, errno, "open log `%s`", r->path);
  if (fstat (fd, &r->st) < 0)
    {
      close (fd);
      return cove_error_set (err, errno, "stat log `%s`", r->path);
    }
  if (r->fd >= 0)
    close (r->fd);
  r->fd = fd;
  r->pos = offset;
  r->start = r->end = 0;
  r->in_long = false;
  if (offset > 0 && lseek (fd, offset, SEEK_SET) < 0)
    return cove_error_set (err, errno, "seek log `%s`", r->path);
  return 0;
}

/* Has the log been rotated under us: replaced by a new file (renamed
   over it, as the writer does) or truncated?  Then what is left in the
   old file is read and the new one is opened from its start: 1.  0 when
   not, -1 on error.  */
static int
check_rotated (struct reader *r, struct cove_error **err)
{
  struct stat now;
  if (stat (r->path, &now) < 0)
    return 0;  /* removed with its container: keep to what we have */
  if (now.st_ino != r->st.st_ino || now.st_dev != r->st.st_dev)
    {
      int ret = read_available (r, err);
      if (ret == 0)
        ret = flush_rest (r);
      if (ret)
        {
          r->cb_ret = ret;  /* the callback's stop (or -1) */
          return -1;
        }
      return open_at (r, 0, err) < 0 ? -1 : 1;
    }
  if (fstat (r->fd, &now) == 0 && now.st_size < r->pos)
    return open_at (r, 0, err) < 0 ? -1 : 1;
  return 0;
}

static int64_t
mono_ms (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return (int64_t) t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* An inotify fd watching the log's folder (the file's writes, and a new
   file renamed over it), or -1: then a plain 100 ms poll does.  */
static int
watch_folder (const char *path)
{
  int fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0)
    return -1;
  cleanup_free char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  if (slash == dir)
    slash[1] = '\0';
  else if (slash)
    *slash = '\0';
  else
    {
      free (dir);
      dir = xstrdup (".");
    }
  if (inotify_add_watch (fd, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO
                                  | IN_DELETE | IN_CLOSE_WRITE) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static void
wait_event (int ino)
{
  struct pollfd p = { .fd = ino, .events = POLLIN };
  if (poll (ino >= 0 ? &p : NULL, ino >= 0 ? 1 : 0, POLL_MS) > 0)
    {
      char events[4096] __attribute__ ((aligned (8)));
      while (read (ino, events, sizeof events) > 0)
        ;  /* what changed does not matter: the file is read again */
    }
}

static int
follow (struct reader *r, cove_ctrlog_stop_fn stop_fn,
        struct cove_error **err)
{
  cleanup_close int ino = watch_folder (r->path);
  bool stopping = false;
  int64_t last_check = mono_ms ();
  for (;;)
    {
      int ret = read_available (r, err);
      if (ret)
        return ret;
      ret = check_rotated (r, err);
      if (ret < 0)
        return r->cb_ret ? r->cb_ret : -1;
      if (ret > 0)
        continue;
      if (stopping)
        return flush_rest (r);
      wait_event (ino);
      /* Asked every 100 ms, also while output flows: a container that
         writes without pause and exits is noticed as soon as drained.  */
      if (mono_ms () - last_check >= POLL_MS)
        {
          last_check = mono_ms ();
          stopping = stop_fn != NULL && stop_fn (r->data);
        }
    }
}

int
cove_ctrlog_read (const char *path, const struct cove_ctrlog_filter *f,
                  cove_ctrlog_entry_fn entry_fn, cove_ctrlog_stop_fn stop_fn,
                  void *data, struct cove_error **err)
{
  struct reader r = { .path = path, .f = f, .fn = entry_fn, .data = data,
                      .fd = -1 };
  int ret = 0;
  if (open_at (&r, 0, err) < 0)
    return -1;
  r.cap = BUF_START;
  r.buf = xmalloc (r.cap);
  if (f->tail >= 0)
    {
      off_t start = cove_ctrlog_tail_start (r.fd, r.st.st_size, f->tail, err);
      if (start < 0 || (start > 0 && lseek (r.fd, start, SEEK_SET) < 0))
        ret = start < 0 ? -1 : cove_error_set (err, errno, "seek log `%s`", path);
      r.pos = start;
    }
  if (ret == 0 && f->follow)
    ret = follow (&r, stop_fn, err);
  else if (ret == 0)
    {
      ret = read_available (&r, err);
      if (ret == 0)
        ret = flush_rest (&r);
    }
  free (r.buf);
  close (r.fd);
  return ret;
}
