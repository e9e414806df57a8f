/* cove cp's tar streams (cove-full).  Both directions go through a stage
   directory of the user's: out, the copy is made there first so that
   cove_archive_write_tree names the entry as cp does; in, the untrusted
   tar is unpacked there by cove_archive_apply (which refuses absolute
   paths, `..` and writes through symlinks), then copied into the
   container with cove_cp_children, which follows no symlink of the
   container's.  */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cove/cpstream.h"
#include "pkg/archive/archive.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

static char *
stage_make (const char *stage_dir, struct cove_error **err)
{
  char *p = xasprintf ("%s/cp-XXXXXX", stage_dir);
  if (mkdtemp (p) == NULL)
    {
      cove_error_set (err, errno, "mkdtemp `%s`", p);
      free (p);
      return NULL;
    }
  return p;
}

static int
write_fd (void *ctx, const void *buf, size_t len, struct cove_error **err)
{
  return cove_write_all (*(int *) ctx, buf, len, err);
}

static int
tar_out_staged (int src, const char *name, bool contents, const char *stage,
                int out_fd, struct cove_error **err)
{
  cleanup_close int sfd = open (stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (sfd < 0)
    return cove_error_set (err, errno, "open `%s`", stage);
  struct cove_cp_owner keep = { .keep = true };
  int r = contents ? cove_cp_children (src, sfd, &keep, err)
    : cove_cp_entry (src, sfd, name, &keep, err);
  if (r < 0)
    return -1;
  return cove_archive_write_tree (sfd, COVE_ARCHIVE_TAR, false, write_fd,
                                  &out_fd, err);
}

int
cove_cp_tar_out (int src, const char *name, bool contents,
                 const char *stage_dir, int out_fd, struct cove_error **err)
{
  cleanup_free char *stage = stage_make (stage_dir, err);
  if (stage == NULL)
    return -1;
  int r = tar_out_staged (src, name, contents, stage, out_fd, err);
  cove_rm_rf (stage, NULL);
  return r;
}

static int
tar_in_staged (int in_fd, int ddir, const struct cove_cp_owner *o,
               const char *stage, struct cove_error **err)
{
  cleanup_close int sfd = open (stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (sfd < 0)
    return cove_error_set (err, errno, "open `%s`", stage);
  cleanup_free struct cove_fd_source *rd = xmalloc (sizeof *rd);
  rd->fd = in_fd;
  rd->what = "the tar stream";
  if (cove_archive_apply (sfd, cove_fd_source_read, rd, NULL, err) < 0)
    return -1;
  cleanup_close int top = open (stage, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (top < 0)
    return cove_error_set (err, errno, "open `%s`", stage);
  return cove_cp_children (top, ddir, o, err);
}

int
cove_cp_tar_in (int in_fd, int ddir, const struct cove_cp_owner *o,
                const char *stage_dir, struct cove_error **err)
{
  cleanup_free char *stage = stage_make (stage_dir, err);
  if (stage == NULL)
    return -1;
  int r = tar_in_staged (in_fd, ddir, o, stage, err);
  cove_rm_rf (stage, NULL);
  return r;
}
