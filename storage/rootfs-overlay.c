/* Overlay drivers: kernel overlayfs through the new mount API, and the
   fuse-overlayfs program.  Layer trees keep whiteouts as character devices
   0/0 and opaque directories as user.overlay.opaque (pkg/archive), which is
   what the kernel reads with `userxattr` and what fuse-overlayfs reads.  */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "storage/internal.h"

extern char **environ;

/* The kernel's own words about a failed fsconfig (read from the fs
   context fd: lines "e overlay: ..."), or "".  Caller frees.  */
static char *
fs_log (int fs)
{
  char buf[512];
  ssize_t n = read (fs, buf, sizeof buf - 1);
  if (n <= 2)
    return xstrdup ("");
  buf[n] = '\0';
  buf[strcspn (buf, "\n")] = '\0';
  return xasprintf (" (%s)", buf + 2);
}

static int
fs_set (int fs, const char *key, const char *value, struct cove_error **err)
{
  unsigned cmd = value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG;
  if (fsconfig (fs, cmd, key, value, 0) == 0)
    return 0;
  int e = errno;
  cleanup_free char *log = fs_log (fs);
  return cove_error_set (err, e, "overlay option %s%s%s%s", key,
                         value ? "=" : "", value ? value : "", log);
}

/* Before 6.8 there is no lowerdir+: the old option, one string, limited to
   a page.  ':' and ',' in a path would need escaping; the store's paths
   are checked instead.  */
static int
fs_set_lowerdir_legacy (int fs, char *const *lowers, size_t n,
                        struct cove_error **err)
{
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (strpbrk (lowers[i], ":,\\"))
        return cove_error_set (err, EINVAL, "layer path `%s` has `:` or `,`",
                               lowers[i]);
      len += strlen (lowers[i]) + 1;
    }
  char *v = xmalloc0 (len + 1);
  for (size_t i = 0, off = 0; i < n; i++)
    off += (size_t) snprintf (v + off, len + 1 - off, "%s%s", i ? ":" : "", lowers[i]);
  int r = fs_set (fs, "lowerdir", v, err);
  free (v);
  return r;
}

int
storage_overlay_mount_fd (char *const *lowers, size_t n_lowers,
                          const char *upper, const char *work,
                          struct cove_error **err)
{
  cleanup_close int fs = fsopen ("overlay", FSOPEN_CLOEXEC);
  if (fs < 0)
    return cove_error_set (err, errno, "fsopen overlay");
  for (size_t i = 0; i < n_lowers; i++)
    {
      /* One option per layer: no page-size limit on their number.  */
      if (fsconfig (fs, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) == 0)
        continue;
      if (i == 0 && errno == EINVAL)
        {
          cleanup_free char *log = fs_log (fs);
          if (fs_set_lowerdir_legacy (fs, lowers, n_lowers, err) < 0)
            return -1;
          break;
        }
      int e = errno;
      cleanup_free char *log = fs_log (fs);
      return cove_error_set (err, e, "overlay lower dir `%s`%s", lowers[i], log);
    }
  if (fs_set (fs, "upperdir", upper, err) < 0 || fs_set (fs, "workdir", work, err) < 0
      /* user.overlay.* xattrs: what a user namespace may set and read.  */
      || fs_set (fs, "userxattr", NULL, err) < 0)
    return -1;
  if (fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    {
      int e = errno;
      cleanup_free char *log = fs_log (fs);
      return cove_error_set (err, e, "create overlay%s", log);
    }
  int mnt = fsmount (fs, FSMOUNT_CLOEXEC, 0);
  if (mnt < 0)
    return cove_error_set (err, errno, "fsmount overlay");
  return mnt;
}

/* "lowerdir=A:B,upperdir=U,workdir=W" for fuse-overlayfs.  */
static char *
fuse_options (char *const *lowers, size_t n, const char *upper,
              const char *work, struct cove_error **err)
{
  size_t len = strlen (upper) + strlen (work) + 64;
  for (size_t i = 0; i < n; i++)
    {
      if (strpbrk (lowers[i], ":,\\"))
        {
          cove_error_set (err, EINVAL, "layer path `%s` has `:` or `,`", lowers[i]);
          return NULL;
        }
      len += strlen (lowers[i]) + 1;
    }
  char *v = xmalloc0 (len);
  size_t off = (size_t) snprintf (v, len, "lowerdir=");
  for (size_t i = 0; i < n; i++)
    off += (size_t) snprintf (v + off, len - off, "%s%s", i ? ":" : "", lowers[i]);
  snprintf (v + off, len - off, ",upperdir=%s,workdir=%s", upper, work);
  return v;
}

int
storage_fuse_overlay_mount (char *const *lowers, size_t n_lowers,
                            const char *upper, const char *work,
                            const char *target, struct cove_error **err)
{
  cleanup_free char *opts = fuse_options (lowers, n_lowers, upper, work, err);
  if (opts == NULL)
    return -1;
  int pfd[2];
  if (pipe2 (pfd, O_CLOEXEC) < 0)
    return cove_error_set (err, errno, "pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen (&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2 (&fa, pfd[1], 2);
  char *argv[] = { (char *) "fuse-overlayfs", (char *) "-o", opts,
                   (char *) target, NULL };
  pid_t pid;
  /* The program mounts, then daemonizes: its first process exits once the
     mount is in place (or failed).  */
  int e = posix_spawnp (&pid, "fuse-overlayfs", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (pfd[1]);
  cleanup_close int rfd = pfd[0];
  if (e != 0)
    return cove_error_set (err, e, "run fuse-overlayfs");
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return cove_error_set (err, errno, "wait for fuse-overlayfs");
  /* Read what it said only now, without blocking: the daemon it left
     behind may hold the pipe open.  */
  char msg[512] = "";
  fcntl (rfd, F_SETFL, O_NONBLOCK);
  ssize_t n = read (rfd, msg, sizeof msg - 1);
  msg[n > 0 ? n : 0] = '\0';
  msg[strcspn (msg, "\n")] = '\0';
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return cove_error_set (err, EIO, "fuse-overlayfs failed%s%s",
                           msg[0] ? ": " : "", msg);
  return 0;
}
