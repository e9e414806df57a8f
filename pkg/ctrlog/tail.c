/* cove: where `logs --tail N` starts, found from the end of the log
   without reading the whole file: a window of the file is read backwards
   to find line starts, and only the head of each line (timestamp, stream,
   tag) is looked at.  */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "pkg/ctrlog/ctrlog.h"
#include "pkg/ctrlog/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

#define WINDOW (64 * 1024)
/* The head of a line: "2026-11-29T02:40:06.123456789+00:00 stdout F ".  */
#define HEAD 80

struct window
{
  int fd;
  off_t start;          /* file offset of buf[0] */
  size_t len;
  char buf[WINDOW];
};

/* Offset of the last '\n' before AT, or -1 when there is none.  */
static off_t
prev_newline (struct window *w, off_t at, struct cove_error **err)
{
  while (at > 0)
    {
      if (at <= w->start || at > w->start + (off_t) w->len)
        {
          off_t from = at > WINDOW ? at - WINDOW : 0;
          ssize_t n = pread (w->fd, w->buf, (size_t) (at - from), from);
          if (n < 0)
            return cove_error_set (err, errno, "read log"), -2;
          w->start = from;
          w->len = (size_t) n;
          if ((off_t) n < at - from)
            at = from + n;  /* the file shrank under us */
          if (n == 0)
            return -1;
        }
      const char *nl = memrchr (w->buf, '\n', (size_t) (at - w->start));
      if (nl)
        return w->start + (nl - w->buf);
      at = w->start;
    }
  return -1;
}

/* Classify the line [START, END): 1 when it ends a logical line, 0 when it
   is a piece continued later, -1 when it is blank (not an entry).  */
static int
line_ends (struct window *w, off_t start, off_t end, bool later_seen[3])
{
  char head[HEAD];
  size_t len = end - start > HEAD ? HEAD : (size_t) (end - start);
  struct cove_ctrlog_entry e;
  if (len == 0)
    return -1;
  if (start >= w->start && start + (off_t) len <= w->start + (off_t) w->len)
    memcpy (head, w->buf + (start - w->start), len);
  else if (pread (w->fd, head, len, start) != (ssize_t) len)
    return 1;  /* unreadable: count it, as a malformed line */
  if (cove_ctrlog_parse_line (head, len, &e) < 0)
    return 1;
  bool later = later_seen[e.stream];
  later_seen[e.stream] = true;
  return !e.partial || !later;
}

off_t
cove_ctrlog_tail_start (int fd, off_t size, int64_t n, struct cove_error **err)
{
  cleanup_free struct window *w = xmalloc0 (sizeof *w);
  bool later_seen[3] = { false, false, false };
  int64_t count = 0;
  char last = 0;
  if (size <= 0)
    return 0;
  w->fd = fd;
  /* A last line without newline (being written, or cut) is a line.  */
  off_t end = size;
  if (pread (fd, &last, 1, size - 1) == 1 && last == '\n')
    end = size - 1;
  for (;;)
    {
      off_t nl = prev_newline (w, end, err);
      if (nl < -1)
        return -1;
      if (line_ends (w, nl + 1, end, later_seen) > 0 && ++count > n)
        return end < size ? end + 1 : nl + 1;
      if (nl < 0)
        return 0;
      end = nl;
    }
}
