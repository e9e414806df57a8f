#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

int
cove_write_all (int fd, const void *buf, size_t len, struct cove_error **err)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return cove_error_set (err, errno, "write");
      p += n;
      len -= n;
    }
  return 0;
}

char *
cove_fd_read_all (int fd, size_t max, size_t *out_len, struct cove_error **err)
{
  size_t cap = 4096, len = 0;
  cleanup_free char *buf = xmalloc (cap);
  for (;;)
    {
      if (len + 1 >= cap)
        {
          cap *= 2;
          buf = xrealloc (buf, cap);
        }
      ssize_t n = read (fd, buf + len, cap - len - 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          cove_error_set (err, errno, "read");
          return NULL;
        }
      if (n == 0)
        break;
      len += n;
      if (len > max)
        {
          cove_error_set (err, EFBIG, "more than %zu bytes", max);
          return NULL;
        }
    }
  buf[len] = '\0';
  if (out_len)
    *out_len = len;
  return steal_pointer (&buf);
}

char *
cove_file_read_at (int dirfd, const char *path, size_t max, size_t *out_len,
                   struct cove_error **err)
{
  cleanup_close int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      cove_error_set (err, errno, "open `%s`", path);
      return NULL;
    }
  char *r = cove_fd_read_all (fd, max, out_len, err);
  if (r == NULL)
    cove_error_wrap (err, "read `%s`", path);
  return r;
}

static int
fsync_parent (const char *path, struct cove_error **err)
{
  cleanup_free char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  if (slash == NULL)
    {
      free (dir);
      dir = xstrdup (".");
    }
  else if (slash == dir)
    slash[1] = '\0';
  else
    *slash = '\0';
  cleanup_close int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno, "open `%s`", dir);
  if (fsync (fd) < 0)
    return cove_error_set (err, errno, "fsync `%s`", dir);
  return 0;
}

int
cove_file_write_atomic (const char *path, const void *data, size_t len,
                        mode_t mode, int flags, struct cove_error **err)
{
  cleanup_free char *tmp = xasprintf ("%s.tmp-XXXXXX", path);
  cleanup_close int fd = mkostemp (tmp, O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno, "create `%s`", tmp);
  if (fchmod (fd, mode) < 0)
    {
      cove_error_set (err, errno, "chmod `%s`", tmp);
      goto fail;
    }
  if (cove_write_all (fd, data, len, err) < 0)
    {
      cove_error_wrap (err, "write `%s`", tmp);
      goto fail;
    }
  if ((flags & COVE_FILE_SYNC) && fsync (fd) < 0)
    {
      cove_error_set (err, errno, "fsync `%s`", tmp);
      goto fail;
    }
  if (rename (tmp, path) < 0)
    {
      cove_error_set (err, errno, "rename `%s` to `%s`", tmp, path);
      goto fail;
    }
  return (flags & COVE_FILE_SYNC) ? fsync_parent (path, err) : 0;

fail:
  unlink (tmp);
  return -1;
}

int
cove_mkdir_p (const char *path, mode_t mode, struct cove_error **err)
{
  cleanup_free char *p = xstrdup (path);
  size_t len = strlen (p);
  while (len > 1 && p[len - 1] == '/')
    p[--len] = '\0';
  for (char *s = p + 1;; s++)
    {
      if (*s != '/' && *s != '\0')
        continue;
      char saved = *s;
      *s = '\0';
      if (mkdir (p, mode) < 0 && errno != EEXIST)
        return cove_error_set (err, errno, "mkdir `%s`", p);
      *s = saved;
      if (saved == '\0')
        break;
    }
  struct stat st;
  if (stat (p, &st) < 0)
    return cove_error_set (err, errno, "stat `%s`", p);
  if (!S_ISDIR (st.st_mode))
    return cove_error_set (err, ENOTDIR, "mkdir `%s`", p);
  return 0;
}

/* Empty the directory open at DFD, never following a symlink nor entering
   another filesystem (a mount point below, such as a container's mounted
   root, fails with EBUSY instead of being emptied through).  */
static int
rm_rf_at (int dfd, const char *what, struct cove_error **err)
{
  struct stat top;
  if (fstat (dfd, &top) < 0)
    return cove_error_set (err, errno, "stat `%s`", what);
  int dupfd = dup (dfd);
  if (dupfd < 0)
    return cove_error_set (err, errno, "dup");
  cleanup_dir DIR *d = fdopendir (dupfd);
  if (d == NULL)
    {
      close (dupfd);
      return cove_error_set (err, errno, "opendir `%s`", what);
    }
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (unlinkat (dfd, de->d_name, 0) == 0 || errno == ENOENT)
        continue;
      if (errno != EISDIR && errno != EPERM)
        return cove_error_set (err, errno, "unlink `%s/%s`", what, de->d_name);
      cleanup_close int sub = openat (dfd, de->d_name,
                                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0)
        return cove_error_set (err, errno, "open `%s/%s`", what, de->d_name);
      struct stat st;
      if (fstat (sub, &st) < 0)
        return cove_error_set (err, errno, "stat `%s/%s`", what, de->d_name);
      if (st.st_dev != top.st_dev)
        return cove_error_set (err, EBUSY, "remove `%s/%s`: a mount point",
                               what, de->d_name);
      if (rm_rf_at (sub, what, err) < 0)
        return -1;
      if (unlinkat (dfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return cove_error_set (err, errno, "rmdir `%s/%s`", what, de->d_name);
    }
  return 0;
}

int
cove_rm_rf (const char *path, struct cove_error **err)
{
  if (unlink (path) == 0 || errno == ENOENT)
    return 0;
  cleanup_close int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : cove_error_set (err, errno, "open `%s`", path);
  if (rm_rf_at (fd, path, err) < 0)
    return -1;
  if (rmdir (path) < 0 && errno != ENOENT)
    return cove_error_set (err, errno, "rmdir `%s`", path);
  return 0;
}

int
cove_send_fd (int sock, int fd, struct cove_error **err)
{
  char byte = 0;
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  memset (&u, 0, sizeof u);
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &fd, sizeof (int));
  ssize_t n;
  do
    n = sendmsg (sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return cove_error_set (err, errno, "send fd");
  return 0;
}

int
cove_recv_fd (int sock, struct cove_error **err)
{
  char byte;
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  ssize_t n;
  do
    n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return cove_error_set (err, errno, "receive fd");
  if (n == 0)
    return cove_error_set (err, ECONNRESET, "receive fd: peer closed");
  struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
  if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS
      || c->cmsg_len != CMSG_LEN (sizeof (int)))
    return cove_error_set (err, EPROTO, "receive fd: no descriptor");
  int fd;
  memcpy (&fd, CMSG_DATA (c), sizeof (int));
  return fd;
}

int
cove_open_in_root (int rootfd, const char *path, int flags,
                   struct cove_error **err)
{
  struct open_how how = { .flags = (uint64_t) (flags | O_CLOEXEC),
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  int fd;
  do
    fd = (int) syscall (SYS_openat2, rootfd, path, &how, sizeof how);
  while (fd < 0 && errno == EAGAIN);
  if (fd < 0)
    return cove_error_set (err, errno, "open `%s` in root", path);
  return fd;
}

ssize_t
cove_fd_source_read (void *src, const void **out_buf, struct cove_error **err)
{
  struct cove_fd_source *s = src;
  ssize_t n;
  do
    n = read (s->fd, s->buf, sizeof s->buf);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return cove_error_set (err, errno, "read %s", s->what);
  *out_buf = s->buf;
  return n;
}
