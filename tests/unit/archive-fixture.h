/* Shared by the archive unit tests: tar streams built in memory, a
   byte source, and the fixture BASE/outer/{layer,sentinel/file} with the
   checks that nothing outside the layer changed.  */
#ifndef COVE_TEST_ARCHIVE_FIXTURE_H
#define COVE_TEST_ARCHIVE_FIXTURE_H

#include <archive.h>
#include <archive_entry.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "pkg/archive/archive.h"

struct buf
{
  char *data;
  size_t len;
};

enum { F_NONE, F_GZIP, F_ZSTD };

struct ent
{
  const char *path;
  unsigned type;          /* AE_IF*; 0: regular file */
  unsigned perm;          /* 0: 0644 (0755 for directories) */
  const char *data;       /* regular file content */
  const char *link;       /* symlink target */
  const char *hardlink;
  unsigned uid, gid;
  time_t mtime;
  dev_t rdev;
  const char *xname, *xval;
  const char *xname2, *xval2;
};

/* The read callback: the stream in chunks of CHUNK bytes; FAIL_AT > 0
   makes it fail with ECONNRESET there.  */
struct src
{
  const char *data;
  size_t len, pos, chunk, fail_at;
};

struct fx
{
  char base[64];
  char *outer, *layer, *sentinel;
  int layerfd;
};

la_ssize_t buf_write (struct archive *a, void *ud, const void *b, size_t n);
struct archive * tb_new (int filter, struct buf *out);
void tb_end (struct archive *a);
void tb_add (struct archive *a, struct ent e);
ssize_t src_read (void *ctx, const void **out, struct cove_error **err);
int fx_setup (void **state);
int fx_teardown (void **state);
char * names_of (const char *dir);
void assert_names (const char *dir, const char *want);
void assert_outside_untouched (struct fx *f);
int apply_mem (int dirfd, const struct buf *b, size_t chunk, struct cove_archive_apply_stats *st, struct cove_error **err);
char * at (struct fx *f, const char *rel);
struct stat lstat_at (struct fx *f, const char *rel);
char * read_at (struct fx *f, const char *rel);
bool exists_at (struct fx *f, const char *rel);
ssize_t xattr_at (struct fx *f, const char *rel, const char *name, char *val, size_t size);

#define ADD(a, ...) tb_add ((a), (struct ent) { __VA_ARGS__ })

/* A security.capability v2 value: cap_net_bind_service permitted.  */
static const char cap_v2[20] = { 0, 0, 0, 2, 0, 4, 0, 0 };

#endif
