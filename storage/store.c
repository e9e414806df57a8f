/* The image store: opening, the store lock, tmp/ entries and their sweep,
   and the leases that keep a running pull's blobs and layers from the
   garbage collection of another cove.

   Crash safety rests on three rules.  (1) Everything half-made lives in an
   entry of tmp/ that its owner keeps flock'ed; an entry nobody holds is a
   leftover of a dead process and is removed by the next open().  (2) A blob
   or a layer enters blobs/ or layers/ by one rename, complete and verified.
   (3) A record (image, names index) is written atomically and durably
   (temp file, fsync, rename) under the store lock, and only once what it
   points at is in place.  A cove killed at any instant therefore leaves
   records that point at complete blobs and layers only; what it had
   finished but not yet recorded is an orphan that the next garbage
   collection removes.  */
#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "storage/internal.h"

static const char *const store_dirs[] = {
  "", "blobs", "blobs/sha256", "layers", "images", "tmp", "containers", NULL,
};

bool
storage_is_hex (const char *s, size_t min_len)
{
  size_t n = 0;
  for (; s[n]; n++)
    if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
      return false;
  return n >= min_len;
}

const char *
storage_digest_hex (const char *s)
{
  if (s == NULL)
    return NULL;
  if (strncmp (s, "sha256:", 7) == 0)
    s += 7;
  return strlen (s) == 64 && storage_is_hex (s, 64) ? s : NULL;
}

char *
storage_blob_path (struct cove_storage *s, const char *digest)
{
  return xasprintf ("%s/blobs/sha256/%s", s->root, storage_digest_hex (digest));
}

char *
storage_layer_path (struct cove_storage *s, const char *chain_id)
{
  return xasprintf ("%s/layers/%s", s->root, storage_digest_hex (chain_id));
}

int
storage_lock (struct cove_storage *s, struct cove_error **err)
{
  pthread_mutex_lock (&s->mu);
  while (flock (s->lock_fd, LOCK_EX) < 0)
    if (errno != EINTR)
      {
        int e = errno;
        pthread_mutex_unlock (&s->mu);
        return cove_error_set (err, e, "lock `%s/storage.lock`", s->root);
      }
  return 0;
}

void
storage_unlock (struct cove_storage *s)
{
  flock (s->lock_fd, LOCK_UN);
  pthread_mutex_unlock (&s->mu);
}

int
storage_tmp_entry (struct cove_storage *s, char **out_path,
                   struct cove_error **err)
{
  cleanup_free char *path = xasprintf ("%s/tmp/%d-XXXXXX", s->root, (int) getpid ());
  /* Made and locked under the store lock, so that a sweep, which looks at
     entries under the same lock, never sees one that is not locked yet.  */
  if (storage_lock (s, err) < 0)
    return -1;
  int fd = -1;
  if (mkdtemp (path) == NULL)
    cove_error_set (err, errno, "mkdtemp `%s`", path);
  else if ((fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    cove_error_set (err, errno, "open `%s`", path);
  else if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      cove_error_set (err, errno, "lock `%s`", path);
      close (fd);
      fd = -1;
    }
  if (fd < 0)
    rmdir (path);
  storage_unlock (s);
  if (fd >= 0)
    *out_path = steal_pointer (&path);
  return fd;
}

/* Open entry NAME of tmp/ and try its lock: returns the fd when the lock
   was free (the owner is gone), -1 when it is held (or the entry went).  */
static int
tmp_entry_take (int tmp_fd, const char *name)
{
  int fd = openat (tmp_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      /* Not a directory: nobody made it as an entry; drop it.  */
      if (errno == ENOTDIR || errno == ELOOP)
        unlinkat (tmp_fd, name, 0);
      return -1;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* Remove the leftovers of record writes killed before their rename
   (cove_file_write_atomic's PATH.tmp-XXXXXX).  Under the store lock, since
   records are only written under it.  */
static void
sweep_record_temps (struct cove_storage *s)
{
  cleanup_free char *dir = xasprintf ("%s/images", s->root);
  cleanup_dir DIR *d = opendir (dir);
  if (d == NULL)
    return;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    if (strstr (de->d_name, ".tmp-") != NULL)
      unlinkat (dirfd (d), de->d_name, 0);
}

/* Remove the tmp/ entries of dead processes.  Their locks are taken under
   the store lock; the (possibly long) removal runs after it is released,
   while we hold the entries' locks so that no other sweep races us.  */
static int
sweep_tmp (struct cove_storage *s, struct cove_error **err)
{
  cleanup_free char *tmp = xasprintf ("%s/tmp", s->root);
  char **dead = NULL;
  int *fds = NULL;
  size_t n = 0;
  if (storage_lock (s, err) < 0)
    return -1;
  sweep_record_temps (s);
  DIR *d = opendir (tmp);
  if (d != NULL)
    {
      struct dirent *de;
      while ((de = readdir (d)) != NULL)
        {
          if (de->d_name[0] == '.')
            continue;
          int fd = tmp_entry_take (dirfd (d), de->d_name);
          if (fd < 0)
            continue;
          dead = xrealloc (dead, (n + 1) * sizeof *dead);
          fds = xrealloc (fds, (n + 1) * sizeof *fds);
          dead[n] = xasprintf ("%s/%s", tmp, de->d_name);
          fds[n++] = fd;
        }
      closedir (d);
    }
  storage_unlock (s);
  for (size_t i = 0; i < n; i++)
    {
      /* Best effort: what is not removed now is by the next open.  */
      cove_rm_rf (dead[i], NULL);
      close (fds[i]);
      free (dead[i]);
    }
  free (dead);
  free (fds);
  return 0;
}

static int
make_layout (const char *root, struct cove_error **err)
{
  if (cove_mkdir_p (root, 0700, err) < 0)
    return -1;
  for (size_t i = 1; store_dirs[i]; i++)
    {
      cleanup_free char *p = xasprintf ("%s/%s", root, store_dirs[i]);
      if (mkdir (p, 0700) < 0 && errno != EEXIST)
        return cove_error_set (err, errno, "mkdir `%s`", p);
    }
  return 0;
}

int
cove_storage_open (const struct cove_storage_paths *p,
                   struct cove_storage **out, struct cove_error **err)
{
  if (make_layout (p->data_dir, err) < 0)
    return cove_error_wrap (err, "open storage");
  cleanup_free char *lock = xasprintf ("%s/storage.lock", p->data_dir);
  int fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return cove_error_set (err, errno, "open `%s`", lock);
  struct cove_storage *s = xmalloc0 (sizeof *s);
  s->root = xstrdup (p->data_dir);
  s->lock_fd = fd;
  s->lease_fd = -1;
  pthread_mutex_init (&s->mu, NULL);
  if (sweep_tmp (s, err) < 0)
    {
      cove_storage_close (s);
      return cove_error_wrap (err, "open storage");
    }
  *out = s;
  return 0;
}

void
cove_storage_close (struct cove_storage *s)
{
  if (s == NULL)
    return;
  if (s->lease_fd >= 0)
    {
      /* The lease dies with its entry; removed while still locked.  */
      cleanup_free char *dir = xstrdup (s->lease_path);
      char *slash = strrchr (dir, '/');
      if (slash)
        *slash = '\0';
      cove_rm_rf (dir, NULL);
      close (s->lease_fd);
    }
  free (s->lease_path);
  close (s->lock_fd);
  pthread_mutex_destroy (&s->mu);
  free (s->root);
  free (s);
}

void
storage_lease_add (struct cove_storage *s, const char *what)
{
  if (s->lease_fd < 0)
    {
      /* Under the store lock already: make the entry by hand (the lock is
         not reentrant), with the same protocol as storage_tmp_entry.  */
      cleanup_free char *dir = xasprintf ("%s/tmp/%d-lease-XXXXXX", s->root,
                                          (int) getpid ());
      if (mkdtemp (dir) == NULL)
        return;
      int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0 || flock (fd, LOCK_EX | LOCK_NB) < 0)
        {
          if (fd >= 0)
            close (fd);
          rmdir (dir);
          return;
        }
      s->lease_fd = fd;
      s->lease_path = xasprintf ("%s/held", dir);
    }
  cleanup_close int fd = open (s->lease_path,
                               O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return;
  cleanup_free char *line = xasprintf ("%s\n", storage_digest_hex (what));
  cove_write_all (fd, line, strlen (line), NULL);
}

/* Add the lines of the lease file HELD (untrusted only in that it may be
   truncated by a crash: each line is checked) to SET.  */
static void
lease_read (int dfd, json_t *set)
{
  cleanup_free char *data = cove_file_read_at (dfd, "held", 64 << 20, NULL, NULL);
  if (data == NULL)
    return;
  for (char *line = data, *nl; *line; line = nl + 1)
    {
      nl = strchrnul (line, '\n');
      char saved = *nl;
      *nl = '\0';
      if (storage_digest_hex (line))
        json_object_set_new (set, line, json_true ());
      if (saved == '\0')
        break;
    }
}

/* Our own lease does not hold against our own GC: a command that removes
   is not in the middle of a pull.  */
static bool
is_own_lease (struct cove_storage *s, const char *name)
{
  if (s->lease_path == NULL)
    return false;
  size_t n = strlen (name);
  const char *end = s->lease_path + strlen (s->lease_path) - strlen ("/held");
  return end - s->lease_path > (ptrdiff_t) n && end[-(ptrdiff_t) n - 1] == '/'
         && strncmp (end - n, name, n) == 0;
}

json_t *
storage_leases_collect (struct cove_storage *s)
{
  json_t *set = json_object ();
  cleanup_free char *tmp = xasprintf ("%s/tmp", s->root);
  cleanup_dir DIR *d = opendir (tmp);
  if (d == NULL)
    return set;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if (strstr (de->d_name, "-lease-") == NULL || is_own_lease (s, de->d_name))
        continue;
      cleanup_close int fd = openat (dirfd (d), de->d_name,
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        continue;
      /* A lock we can take belongs to a dead process: its lease is void.  */
      if (flock (fd, LOCK_EX | LOCK_NB) == 0)
        {
          flock (fd, LOCK_UN);
          continue;
        }
      lease_read (fd, set);
    }
  return set;
}
