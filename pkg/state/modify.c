/* cove state: update and remove a record, each under the record's own
   lock (flock on its directory), held only for the read-modify-write.  */
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkg/state/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

/* Open and lock the record dir ID; fails with ENOENT when there is none,
   also when it was removed (renamed aside) while we waited for the lock.  */
static int
lock_record (struct cove_state_store *s, const char *id, struct cove_error **err)
{
  if (!cove_state_id_valid (id))
    return cove_error_set (err, ENOENT, "no container with ID `%s` found", id);
  cleanup_close int fd = openat (s->dirfd, id,
                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno == ENOENT ? ENOENT : errno,
                           "no container with ID `%s` found", id);
  if (flock (fd, LOCK_EX) < 0)
    return cove_error_set (err, errno, "lock `%s/%s`", s->root, id);
  struct stat a, b;
  if (fstat (fd, &a) < 0 || fstatat (s->dirfd, id, &b, AT_SYMLINK_NOFOLLOW) < 0
      || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
    return cove_error_set (err, ENOENT, "no container with ID `%s` found", id);
  return cove_steal_fd (&fd);
}

int
cove_state_update (struct cove_state_store *s, const char *id,
                   cove_state_update_fn fn, void *ctx,
                   struct cove_state_container *out, struct cove_error **err)
{
  cleanup_close int fd = lock_record (s, id, err);
  if (fd < 0)
    return -1;
  struct cove_state_container c = { 0 };
  if (state_read_record (fd, id, &c, err) < 0)
    return cove_error_wrap (err, "read `%s/%s/" STATE_FILE "`", s->root, id);
  cleanup_free char *old_name = c.name ? xstrdup (c.name) : NULL;
  bool was_durable = state_durable (&c);
  if (fn (&c, ctx, err) < 0)
    {
      cove_state_container_free (&c);
      return -1;
    }
  /* id and name are keys of the store and the index: not the callback's
     to change.  */
  free (c.id);
  c.id = xstrdup (id);
  free (c.name);
  c.name = cove_steal_pointer (&old_name);
  bool durable = state_durable (&c);
  cleanup_free char *json = cove_state_container_dump (&c);
  cove_state_container_free (&c);
  /* Never write what the next reader would reject (a negative pid, a
     non-object extra...): the record stays as it was.  */
  if (cove_state_container_parse (json, strlen (json), &c, err) < 0)
    return cove_error_wrap (err, "invalid container record after update");
  cleanup_free char *path = xasprintf ("%s/%s/" STATE_FILE, s->root, id);
  if (cove_file_write_atomic (path, json, strlen (json), 0600,
                              durable ? COVE_FILE_SYNC : 0, err) < 0)
    {
      cove_state_container_free (&c);
      return -1;
    }
  /* First durable version of a record made without syncs: its directory
     entries (the record's, the name's) must reach the disk too.  */
  if (durable && !was_durable)
    {
      (void) fsync (s->dirfd);
      cleanup_close int names = openat (s->dirfd, "names",
                                        O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (names >= 0)
        (void) fsync (names);
    }
  if (out)
    *out = c;
  else
    cove_state_container_free (&c);
  return 0;
}

/* The last steps of a remove, also run by the sweeper for a remover that
   died: release the name the record RECFD holds, remove the dir RMDIR.  */
static int
finish_remove (struct cove_state_store *s, int recfd, const char *id,
               const char *rmdir_name, struct cove_error **err)
{
  struct cove_state_container c = { 0 };
  cleanup_error struct cove_error *rerr = NULL;
  if (state_read_record (recfd, id, &c, &rerr) == 0 && c.name)
    {
      int r = state_name_release (s, c.name, id, err);
      cove_state_container_free (&c);
      if (r < 0)
        return -1;
    }
  /* An unreadable record leaves its name dangling: cove system check, or
     the next create of that name, removes it.  */
  state_hook (s, "remove:unnamed");
  cleanup_free char *path = xasprintf ("%s/%s", s->root, rmdir_name);
  return cove_rm_rf (path, err);
}

int
cove_state_remove (struct cove_state_store *s, const char *id,
                   struct cove_error **err)
{
  cleanup_close int fd = lock_record (s, id, err);
  if (fd < 0)
    return -1;
  cleanup_free char *aside = xasprintf (RM_PREFIX "%s", id);
  /* The commit point: once renamed, the container is gone for every
     reader, and a concurrent remove finds nothing (ENOENT).  */
  if (renameat (s->dirfd, id, s->dirfd, aside) < 0)
    {
      if (errno == ENOENT)
        return cove_error_set (err, ENOENT, "no container with ID `%s` found", id);
      if (errno != EEXIST && errno != ENOTEMPTY)
        return cove_error_set (err, errno, "rename `%s/%s`", s->root, id);
      /* An older remove of the same id died after its rename.  */
      cleanup_free char *old = xasprintf ("%s/%s", s->root, aside);
      if (cove_rm_rf (old, err) < 0)
        return -1;
      if (renameat (s->dirfd, id, s->dirfd, aside) < 0)
        return cove_error_set (err, errno, "rename `%s/%s`", s->root, id);
    }
  state_hook (s, "remove:renamed");
  return finish_remove (s, fd, id, aside, err);
}

/* An .init- dir is unlocked for a moment by design (between mkdir and
   flock): only one older than INIT_STALE_SECONDS is a leftover.  */
static int
sweep_init (struct cove_state_store *s, const char *entry, bool do_remove,
            struct cove_error **err)
{
  struct stat st;
  struct timespec now;
  clock_gettime (CLOCK_REALTIME, &now);
  if (fstatat (s->dirfd, entry, &st, AT_SYMLINK_NOFOLLOW) < 0
      || now.tv_sec - st.st_ctim.tv_sec < INIT_STALE_SECONDS)
    return 0;
  if (!do_remove)
    return 1;
  if (unlinkat (s->dirfd, entry, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return cove_error_set (err, errno, "remove `%s/%s`", s->root, entry);
  return 1;
}

int
state_sweep_leftover (struct cove_state_store *s, const char *entry,
                      bool do_remove, struct cove_error **err)
{
  if (strncmp (entry, INIT_PREFIX, strlen (INIT_PREFIX)) == 0)
    return sweep_init (s, entry, do_remove, err);
  bool is_new = strncmp (entry, NEW_PREFIX, strlen (NEW_PREFIX)) == 0;
  bool is_rm = strncmp (entry, RM_PREFIX, strlen (RM_PREFIX)) == 0;
  if (!is_new && !is_rm)
    return 0;
  const char *id = entry + strlen (is_new ? NEW_PREFIX : RM_PREFIX);
  cleanup_close int fd = openat (s->dirfd, entry,
                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return 0;  /* gone meanwhile */
  /* Held by a live creator or remover: not ours to touch.  */
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    return 0;
  struct stat st;
  if (is_new && fstatat (s->dirfd, id, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return 0;
  if (!do_remove)
    return 1;
  if (is_rm)
    return finish_remove (s, fd, id, entry, err) < 0 ? -1 : 1;
  cleanup_free char *path = xasprintf ("%s/%s", s->root, entry);
  return cove_rm_rf (path, err) < 0 ? -1 : 1;
}

/* Rewrite the record under its lock FD with NAME as its name.  */
static int
write_renamed (struct cove_state_store *s, int fd, const char *id,
               const char *name, char **out_old, struct cove_error **err)
{
  struct cove_state_container c = { 0 };
  if (state_read_record (fd, id, &c, err) < 0)
    return cove_error_wrap (err, "read `%s/%s/" STATE_FILE "`", s->root, id);
  *out_old = c.name;
  c.name = (char *) name;
  cleanup_free char *json = cove_state_container_dump (&c);
  c.name = NULL;
  cove_state_container_free (&c);
  cleanup_free char *path = xasprintf ("%s/%s/" STATE_FILE, s->root, id);
  return cove_file_write_atomic (path, json, strlen (json), 0600,
                                 COVE_FILE_SYNC, err);
}

int
cove_state_rename (struct cove_state_store *s, const char *id,
                   const char *new_name, struct cove_error **err)
{
  if (!cove_state_name_valid (new_name))
    return cove_error_set (err, EINVAL, "invalid name `%s`: names must "
                           "match [a-zA-Z0-9][a-zA-Z0-9_.-]*", new_name);
  cleanup_close int fd = lock_record (s, id, err);
  if (fd < 0)
    return -1;
  cleanup_free char *owner = NULL;
  int r = state_name_reserve (s, new_name, id, &owner, err);
  if (r < 0)
    return -1;
  if (r == 1 && strcmp (owner, id) == 0)
    return 0;  /* its name already */
  if (r == 1)
    return cove_error_set_plain (err, EEXIST, "the container name \"%s\" is "
                                 "already in use by %s. You have to remove "
                                 "that container to be able to reuse that "
                                 "name: that name is already in use",
                                 new_name, owner);
  cleanup_free char *old = NULL;
  if (write_renamed (s, fd, id, new_name, &old, err) < 0)
    {
      cleanup_free char *link = xasprintf ("names/%s", new_name);
      (void) unlinkat (s->dirfd, link, 0);
      free (old);
      old = NULL;
      return -1;
    }
  if (old && strcmp (old, new_name) != 0)
    return state_name_release (s, old, id, err);
  return 0;
}
