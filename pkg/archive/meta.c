/* cove archive: ownership, mode, xattrs and times of applied entries.

   Runs as uid 0 of the user's user namespace: chown lands on the mapped
   ids, and an id outside the mapping fails with EINVAL.  The order
   matters: chown clears setuid/setgid and security.capability, so the
   mode and the xattrs come after it, and the times come last.  */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "pkg/archive/internal.h"
#include "pkg/util/cleanup.h"

void
arc_warn (const char *fmt, ...)
{
  char line[1024];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (line, sizeof line, fmt, ap);
  va_end (ap);
  /* One write, so that lines of parallel pulls do not interleave.  */
  dprintf (STDERR_FILENO, "WARN: layer: %s\n", line);
}

bool
arc_xattr_kept (const char *name)
{
  if (strcmp (name, "security.capability") == 0)
    return true;
  return strncmp (name, "user.", 5) == 0
         && strncmp (name, "user.overlay.", 13) != 0;
}

static int
set_owner (struct archive_entry *entry, const struct arc_meta *m,
           struct cove_error **err)
{
  uid_t uid = (uid_t) archive_entry_uid (entry);
  gid_t gid = (gid_t) archive_entry_gid (entry);
  int r = m->fd >= 0 ? fchown (m->fd, uid, gid)
                     : fchownat (m->parent, m->name, uid, gid,
                                 AT_SYMLINK_NOFOLLOW);
  if (r == 0)
    return 0;
  if (errno == EINVAL)
    return cove_error_set (err, EINVAL, "chown to %u:%u: the id is not "
                           "mapped in the user namespace (too few "
                           "subordinate ids?)", (unsigned) uid,
                           (unsigned) gid);
  return cove_error_set (err, errno, "chown to %u:%u", (unsigned) uid,
                         (unsigned) gid);
}

static bool
has_kept_xattrs (struct archive_entry *entry)
{
  const char *name;
  const void *value;
  size_t size;
  if (archive_entry_xattr_reset (entry) == 0)
    return false;
  while (archive_entry_xattr_next (entry, &name, &value, &size) == ARCHIVE_OK)
    if (name && arc_xattr_kept (name))
      return true;
  return false;
}

/* Set the kept xattrs on FD.  Soft: a filesystem without user xattrs, or
   one refusing a value, costs a warning, not the layer.  */
static void
set_xattrs (struct archive_entry *entry, int fd, const char *shown)
{
  const char *name;
  const void *value;
  size_t size;
  archive_entry_xattr_reset (entry);
  while (archive_entry_xattr_next (entry, &name, &value, &size) == ARCHIVE_OK)
    {
      if (name == NULL || !arc_xattr_kept (name))
        continue;
      if (fsetxattr (fd, name, value, size, 0) < 0)
        arc_warn ("cannot set xattr `%s` on `%s`: %s", name, shown,
                  strerror (errno));
    }
}

static int
set_xattrs_at (struct archive_entry *entry, const struct arc_meta *m)
{
  if (m->fd >= 0)
    {
      set_xattrs (entry, m->fd, m->path);
      return 0;
    }
  if (archive_entry_filetype (entry) != AE_IFDIR)
    {
      arc_warn ("skipping xattrs of `%s`: not a file or directory", m->path);
      return 0;
    }
  cleanup_close int fd = openat (m->parent, m->name, O_RDONLY | O_DIRECTORY
                                 | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  set_xattrs (entry, fd, m->path);
  return 0;
}

static int
set_times (struct archive_entry *entry, const struct arc_meta *m,
           struct cove_error **err)
{
  if (!archive_entry_mtime_is_set (entry))
    return 0;
  struct timespec ts[2];
  ts[1].tv_sec = archive_entry_mtime (entry);
  ts[1].tv_nsec = archive_entry_mtime_nsec (entry);
  ts[0] = ts[1];
  if (archive_entry_atime_is_set (entry))
    {
      ts[0].tv_sec = archive_entry_atime (entry);
      ts[0].tv_nsec = archive_entry_atime_nsec (entry);
    }
  int r = m->fd >= 0 ? futimens (m->fd, ts)
                     : utimensat (m->parent, m->name, ts, AT_SYMLINK_NOFOLLOW);
  if (r < 0)
    return cove_error_set (err, errno, "set times");
  return 0;
}

int
arc_set_meta (struct archive_entry *entry, const struct arc_meta *m,
              struct cove_error **err)
{
  if (set_owner (entry, m, err) < 0)
    return -1;
  if (m->set_mode)
    {
      mode_t mode = archive_entry_perm (entry) & 07777;
      int r = m->fd >= 0 ? fchmod (m->fd, mode)
                         : fchmodat (m->parent, m->name, mode, 0);
      if (r < 0)
        return cove_error_set (err, errno, "chmod %04o", (unsigned) mode);
    }
  if (has_kept_xattrs (entry) && set_xattrs_at (entry, m) < 0)
    return cove_error_set (err, errno, "open to set xattrs");
  if (m->set_times)
    return set_times (entry, m, err);
  return 0;
}
