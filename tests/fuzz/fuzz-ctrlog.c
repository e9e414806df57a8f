/* libFuzzer target: container logs.  A log line's content is the
   container's output (untrusted), and the file may be cut or corrupt
   anywhere.  The line parser must never read outside its line and must
   hand back fields that make sense; the time parser takes the user's
   --since; the reader (with --tail from the end) takes the whole file.  */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pkg/ctrlog/ctrlog.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
check_entry (const struct cove_ctrlog_entry *e, void *data)
{
  size_t *total = data;
  if (e->stream < 0 || e->stream > 2 || (e->len > 0 && e->data == NULL))
    __builtin_trap ();
  /* Touch every byte: ASan catches a pointer out of the buffer.  */
  for (size_t i = 0; i < e->len; i++)
    *total += (unsigned char) e->data[i];
  return 0;
}

static void
fuzz_line (const char *line, size_t size)
{
  struct cove_ctrlog_entry e;
  int r = cove_ctrlog_parse_line (line, size, &e);
  if (e.data < line || e.data + e.len > line + size)
    __builtin_trap ();
  if (r < 0)
    {
      if (e.stream != 0 || e.data != line || e.len != size)
        __builtin_trap ();
      return;
    }
  if ((e.stream != 1 && e.stream != 2) || e.stamp != line || e.stamp_len < 20
      || e.stamp_len > size || e.time.tv_nsec < 0 || e.time.tv_nsec > 999999999)
    __builtin_trap ();
  char buf[64];
  if (e.stamp_len <= 60
      && cove_ctrlog_format_stamp (e.stamp, e.stamp_len, buf, sizeof buf) == 0)
    __builtin_trap ();
}

static void
fuzz_time (const uint8_t *data, size_t size)
{
  char *s = strndup ((const char *) data, size);
  struct timespec now = { 1795920006, 0 }, t;
  struct cove_error *err = NULL;
  if (cove_ctrlog_parse_time (s, size % 2, &now, &t, &err) < 0 && err == NULL)
    __builtin_trap ();
  cove_error_free (err);
  free (s);
}

static void
fuzz_read (const uint8_t *data, size_t size)
{
  int fd = memfd_create ("log", MFD_CLOEXEC);
  if (fd < 0)
    return;
  if (write (fd, data, size) == (ssize_t) size)
    {
      char path[64];
      size_t total = 0;
      snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
      struct cove_ctrlog_filter f = { .tail = size > 0 ? data[0] % 8 - 1 : -1 };
      if (cove_ctrlog_read (path, &f, check_entry, NULL, &total, NULL) != 0)
        __builtin_trap ();
    }
  close (fd);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* An exact copy: a read past the end is caught.  */
  char *line = malloc (size ? size : 1);
  memcpy (line, data, size);
  fuzz_line (line, size);
  free (line);
  fuzz_time (data, size);
  fuzz_read (data, size);
  return 0;
}
