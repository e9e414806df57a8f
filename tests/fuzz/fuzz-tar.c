/* libFuzzer target: a layer tar stream (untrusted: from a registry or an
   archive file) applied by cove_archive_apply into a fresh directory each
   run.  Beyond crashes, it checks the one promise that matters: nothing
   appears or changes outside the layer directory.  The first input byte
   picks the read chunk size, so that entries straddle reads.  */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/archive/archive.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

struct src
{
  const uint8_t *data;
  size_t len, pos, chunk;
};

static ssize_t
src_read (void *ctx, const void **out, struct cove_error **err)
{
  struct src *s = ctx;
  size_t n = s->len - s->pos < s->chunk ? s->len - s->pos : s->chunk;
  *out = s->data + s->pos;
  s->pos += n;
  return (ssize_t) n;
}

/* BASE holds `layer` (made fresh each run) and `sentinel/file`.  */
static char base[] = "/tmp/cove-fuzz-tar-XXXXXX";
static char *layer, *sentinel_file;

static void
cleanup (void)
{
  cove_rm_rf (base, NULL);
}

static void
init (void)
{
  if (mkdtemp (base) == NULL)
    abort ();
  atexit (cleanup);
  layer = xasprintf ("%s/layer", base);
  char *dir = xasprintf ("%s/sentinel", base);
  sentinel_file = xasprintf ("%s/file", dir);
  if (mkdir (dir, 0755) < 0
      || cove_file_write_atomic (sentinel_file, "original", 8, 0644, 0,
                                 NULL) < 0)
    abort ();
  free (dir);
}

/* Only `layer` and `sentinel` in BASE, only `file` in sentinel, and the
   file as it was.  */
static bool
outside_untouched (void)
{
  DIR *d = opendir (base);
  if (d == NULL)
    return false;
  struct dirent *de;
  bool ok = true;
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, "..")
        && strcmp (de->d_name, "layer") && strcmp (de->d_name, "sentinel"))
      ok = false;
  closedir (d);
  struct stat st;
  if (lstat (sentinel_file, &st) < 0 || !S_ISREG (st.st_mode)
      || st.st_nlink != 1 || (st.st_mode & 07777) != 0644 || st.st_size != 8)
    return false;
  char *c = cove_file_read_at (AT_FDCWD, sentinel_file, 64, NULL, NULL);
  ok = ok && c != NULL && strcmp (c, "original") == 0;
  free (c);
  return ok;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (layer == NULL)
    init ();
  if (size == 0)
    return 0;
  if (mkdir (layer, 0755) < 0)
    abort ();
  int fd = open (layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    abort ();
  struct src s = { data + 1, size - 1, 0, 1 + (size_t) data[0] * 64 };
  struct cove_error *err = NULL;
  struct cove_archive_apply_stats st;
  int r = cove_archive_apply (fd, src_read, &s, &st, &err);
  /* Exactly one of success and an error.  */
  if ((r == 0) != (err == NULL))
    __builtin_trap ();
  cove_error_free (err);
  close (fd);
  if (!outside_untouched ())
    __builtin_trap ();
  if (cove_rm_rf (layer, NULL) < 0)
    abort ();
  return 0;
}
