/* cove export, cove container export: the container's root filesystem as
   a tar stream (cove-full: libarchive), running or not.  The tree is a
   read-only view of the container's filesystem (storage's
   cove_storage_rootfs_view), never the running container's mounts:
   /proc, /sys and volumes are not in it, as in podman.  */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/ctrroot.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "pkg/archive/archive.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

enum { OPT_HELP = 1, OPT_OUTPUT };

static const struct cove_opt export_opts[] = {
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for export" },
  { "output", 'o', COVE_OPT_VALUE, OPT_OUTPUT, "string", "Write to a specified file (default: stdout, which must be redirected)" },
  { NULL, 0, 0, 0, NULL, NULL },
};

static int
write_fd (void *ctx, const void *buf, size_t len, struct cove_error **err)
{
  return cove_write_all (*(int *) ctx, buf, len, err);
}

/* Write the tar to OUTPUT (NULL: stdout): a file is written beside as a
   temporary and renamed into place once whole.  */
static int
export_to (int rootfd, const char *output, struct cove_error **err)
{
  if (output == NULL)
    {
      int fd = STDOUT_FILENO;
      return cove_archive_write_tree (rootfd, COVE_ARCHIVE_TAR, false,
                                      write_fd, &fd, err);
    }
  cleanup_free char *tmp = xasprintf ("%s.tmp-XXXXXX", output);
  cleanup_close int fd = mkostemp (tmp, O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno, "create `%s`", tmp);
  int r = cove_archive_write_tree (rootfd, COVE_ARCHIVE_TAR, false,
                                   write_fd, &fd, err);
  mode_t mask = umask (0);
  umask (mask);
  /* mkostemp made it 0600: the mode a new file gets.  */
  if (r == 0 && fchmod (fd, 0666 & ~mask) < 0)
    r = cove_error_set (err, errno, "chmod `%s`", tmp);
  if (r == 0 && rename (tmp, output) < 0)
    r = cove_error_set (err, errno, "rename to `%s`", output);
  if (r < 0)
    unlink (tmp);
  return r;
}

static int
do_export (const char *name_or_id, const char *output)
{
  if (output == NULL && isatty (STDOUT_FILENO))
    return cove_cmd_usage_error ("refusing to export to terminal. Use -o "
                                 "flag or redirect");
  cleanup_error struct cove_error *err = NULL;
  struct cove_ctr_root root;
  int r = cove_ctr_root_open (name_or_id, COVE_CTR_ROOT_FS, &root, &err);
  if (r == 0)
    r = export_to (root.fd, output, &err);
  cove_ctr_root_close (&root);
  if (r < 0)
    return cove_cmd_fail (&err, 125);
  return 0;
}

int
cove_cmd_export (int argc, char **argv)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, export_opts, argc, argv, true);
  const char *output = NULL;
  const char *v;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    {
      if (id == OPT_HELP)
        {
          cove_opts_print_help (stdout, "cove export [options] CONTAINER",
                                "Export container's filesystem contents as a "
                                "tar archive", export_opts);
          cove_opts_free (&p);
          return 0;
        }
      if (id == OPT_OUTPUT)
        output = v;
    }
  int n;
  cleanup_free char **rest = cove_opts_rest (&p, &n);
  int ret;
  if (id < 0)
    ret = cove_cmd_fail (&err, 125);
  else if (n != 1)
    ret = cove_cmd_usage_error ("`cove export` requires one container");
  else
    ret = do_export (rest[0], output);
  cove_opts_free (&p);
  return ret;
}
