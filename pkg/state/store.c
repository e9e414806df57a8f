/* cove state: open the store; create, find, update and remove records.
   No global lock: a name is reserved with an atomic symlink, a record is
   locked on its own directory, and create and remove each commit with one
   rename, so that any number of cove processes can run at once and a
   process killed at any instant leaves a store that the next one reads.  */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkg/state/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

int
cove_state_store_open (struct cove_state_store *out, const char *data_dir,
                       struct cove_error **err)
{
  return state_store_open_dir (out, data_dir, "containers", err);
}

int
state_store_open_dir (struct cove_state_store *out, const char *data_dir,
                      const char *folder, struct cove_error **err)
{
  memset (out, 0, sizeof *out);
  out->dirfd = -1;
  cleanup_free char *root = xasprintf ("%s/%s", data_dir, folder);
  cleanup_free char *names = xasprintf ("%s/names", root);
  if (cove_mkdir_p (names, 0700, err) < 0)
    return -1;
  int fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno, "open `%s`", root);
  out->root = cove_steal_pointer (&root);
  out->dirfd = fd;
  /* The store lock file exists from the start, so that the store's
     layout does not change the first time a name is released.  */
  if (faccessat (fd, "lock", F_OK, 0) < 0)
    {
      int lfd = openat (fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (lfd >= 0)
        close (lfd);
    }
  return 0;
}

void
cove_state_store_close (struct cove_state_store *s)
{
  free (s->root);
  if (s->dirfd >= 0)
    close (s->dirfd);
  s->root = NULL;
  s->dirfd = -1;
}

int
state_read_record (int recfd, const char *id, struct cove_state_container *out,
                   struct cove_error **err)
{
  size_t len = 0;
  cleanup_free char *data = cove_file_read_at (recfd, STATE_FILE, STATE_MAX_SIZE,
                                               &len, err);
  if (data == NULL)
    return -1;
  if (cove_state_container_parse (data, len, out, err) < 0)
    return -1;
  if (id && strcmp (out->id, id) != 0)
    {
      cove_state_container_free (out);
      return cove_error_set (err, EINVAL, "record of `%s` says id `%s`", id,
                             out->id);
    }
  return 0;
}

/* A deep copy of IN with id ID and no name, through its JSON form (one
   code path to trust, and what the caller gave is checked as a record
   read from disk would be).  errnum EINVAL when IN is no valid record.  */
static int
record_copy (const struct cove_state_container *in, const char *id,
             struct cove_state_container *out, struct cove_error **err)
{
  struct cove_state_container tmp = *in;
  tmp.id = (char *) id;
  tmp.name = NULL;
  cleanup_free char *json = cove_state_container_dump (&tmp);
  if (cove_state_container_parse (json, strlen (json), out, err) < 0)
    return cove_error_wrap (err, "invalid container record");
  return 0;
}

static char *
random_id (struct cove_error **err)
{
  unsigned char raw[COVE_STATE_ID_LEN / 2];
  if (getrandom (raw, sizeof raw, 0) != (ssize_t) sizeof raw)
    {
      cove_error_set (err, errno, "getrandom");
      return NULL;
    }
  char *id = xmalloc (COVE_STATE_ID_LEN + 1);
  for (size_t i = 0; i < sizeof raw; i++)
    snprintf (id + 2 * i, 3, "%02x", raw[i]);
  return id;
}

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reserve NAME for ID: 0, or 1 when in use by a record (its id in
   *OUT_OWNER), or -1.  A name left by a dead process (its record gone) is
   taken over.  */
int
state_name_reserve (struct cove_state_store *s, const char *name, const char *id,
              char **out_owner, struct cove_error **err)
{
  cleanup_free char *link = xasprintf ("names/%s", name);
  for (int attempt = 0; attempt < 3; attempt++)
    {
      if (symlinkat (id, s->dirfd, link) == 0)
        return 0;
      if (errno != EEXIST)
        return cove_error_set (err, errno, "reserve name `%s`", name);
      cleanup_free char *owner = state_name_target (s, name);
      if (owner == NULL)
        continue;  /* released meanwhile: try again */
      if (state_record_present (s, owner))
        {
          *out_owner = cove_steal_pointer (&owner);
          return 1;
        }
      if (state_name_release (s, name, owner, err) < 0)
        return -1;
    }
  *out_owner = xstrdup ("a container being created");
  return 1;
}

/* With the staging dir made and locked: reserve C's name (or a generated
   one), write state.json and rename the dir into place.  */
static int
commit_record (struct cove_state_store *s, struct cove_state_container *c,
               const char *staged, struct cove_error **err)
{
  bool generated = c->name == NULL;
  for (int i = 0;; i++)
    {
      if (generated)
        {
          /* After many collisions the name space is crowded: add a
             number, as podman does.  */
          cleanup_free char *base = cove_state_name_generate ();
          free (c->name);
          c->name = i < 50 ? xstrdup (base) : xasprintf ("%s_%d", base, i);
        }
      cleanup_free char *owner = NULL;
      int r = state_name_reserve (s, c->name, c->id, &owner, err);
      if (r < 0)
        return -1;
      if (r == 0)
        break;
      if (!generated || i >= 1000)
        return cove_error_set_plain (err, EEXIST, "the container name "
                                     "\"%s\" is already in use by %s. You "
                                     "have to remove that container to be "
                                     "able to reuse that name: that name is "
                                     "already in use", c->name, owner);
    }
  state_hook (s, "create:named");
  cleanup_free char *json = cove_state_container_dump (c);
  cleanup_free char *path = xasprintf ("%s/%s/" STATE_FILE, s->root, staged);
  bool durable = state_durable (c);
  int r = cove_file_write_atomic (path, json, strlen (json), 0600,
                                  durable ? COVE_FILE_SYNC : 0, err);
  if (r == 0)
    {
      state_hook (s, "create:staged");
      r = renameat2 (s->dirfd, staged, s->dirfd, c->id, RENAME_NOREPLACE);
      if (r < 0)
        cove_error_set (err, errno, "rename `%s` to `%s`", staged, c->id);
    }
  if (r < 0)
    {
      cleanup_error struct cove_error *e2 = NULL;
      state_name_release (s, c->name, c->id, &e2);
      return -1;
    }
  /* Make the rename and the name durable: a stopped container outlives a
     reboot.  (Not yet durable: the update that makes it so syncs.)  */
  if (durable)
    fsync (s->dirfd);
  return 0;
}

/* Make the staging dir STAGED of ID, locked: returns its fd.  It is made
   as .init-ID, locked, then renamed, so that no sweeper ever sees a .new-
   dir whose lock is not yet taken.  */
static int
make_staging (struct cove_state_store *s, const char *id, const char *staged,
              struct cove_error **err)
{
  cleanup_free char *init = xasprintf (INIT_PREFIX "%s", id);
  if (mkdirat (s->dirfd, init, 0700) < 0)
    return cove_error_set (err, errno, "create `%s/%s`", s->root, init);
  state_hook (s, "create:init");
  /* The lock tells sweepers that this staging dir is alive; it dies with
     us, whatever kills us.  */
  cleanup_close int fd = openat (s->dirfd, init,
                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || flock (fd, LOCK_EX) < 0
      || renameat2 (s->dirfd, init, s->dirfd, staged, RENAME_NOREPLACE) < 0)
    {
      cove_error_set (err, errno, "stage `%s/%s`", s->root, init);
      unlinkat (s->dirfd, init, AT_REMOVEDIR);
      return -1;
    }
  return cove_steal_fd (&fd);
}

int
cove_state_create (struct cove_state_store *s,
                   const struct cove_state_container *tmpl,
                   struct cove_state_container *out, struct cove_error **err)
{
  if (tmpl->name && !cove_state_name_valid (tmpl->name))
    return cove_error_set (err, EINVAL, "invalid container name `%s`", tmpl->name);
  if (tmpl->id && !cove_state_id_valid (tmpl->id))
    return cove_error_set (err, EINVAL, "invalid container id `%s`", tmpl->id);
  cleanup_free char *id = tmpl->id ? xstrdup (tmpl->id) : random_id (err);
  if (id == NULL)
    return -1;
  struct stat st;
  if (fstatat (s->dirfd, id, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return cove_error_set (err, EEXIST, "container `%s` exists", id);
  struct cove_state_container c = { 0 };
  if (record_copy (tmpl, id, &c, err) < 0)
    return -1;
  c.name = tmpl->name ? xstrdup (tmpl->name) : NULL;
  if (c.created == 0)
    c.created = now_ns ();
  cleanup_free char *staged = xasprintf (NEW_PREFIX "%s", id);
  cleanup_close int fd = make_staging (s, id, staged, err);
  if (fd < 0)
    {
      cove_state_container_free (&c);
      return -1;
    }
  if (commit_record (s, &c, staged, err) < 0)
    {
      cove_state_container_free (&c);
      goto fail;
    }
  if (out)
    *out = c;
  else
    cove_state_container_free (&c);
  return 0;

fail:;
  cleanup_free char *path = xasprintf ("%s/%s", s->root, staged);
  cleanup_error struct cove_error *e2 = NULL;
  cove_rm_rf (path, &e2);
  return -1;
}

static bool
all_hex (const char *s)
{
  return *s && strspn (s, "0123456789abcdef") == strlen (s);
}

DIR *
state_open_root (struct cove_state_store *s, struct cove_error **err)
{
  int fd = openat (s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  if (d == NULL)
    {
      cove_error_set (err, errno, "open `%s`", s->root);
      if (fd >= 0)
        close (fd);
    }
  return d;
}

/* The one record whose id starts with PREFIX.  */
static char *
lookup_prefix (struct cove_state_store *s, const char *prefix,
               struct cove_error **err)
{
  cleanup_dir DIR *d = state_open_root (s, err);
  if (d == NULL)
    return NULL;
  cleanup_free char *found = NULL;
  size_t n = strlen (prefix);
  for (struct dirent *e; (e = readdir (d));)
    {
      if (strncmp (e->d_name, prefix, n) != 0 || !cove_state_id_valid (e->d_name))
        continue;
      if (found)
        {
          cove_error_set (err, EINVAL, "more than one container matches `%s`",
                          prefix);
          return NULL;
        }
      found = xstrdup (e->d_name);
    }
  if (found == NULL)
    cove_error_set (err, ENOENT, "no container with name or ID `%s` found", prefix);
  return cove_steal_pointer (&found);
}

char *
cove_state_lookup (struct cove_state_store *s, const char *name_or_id,
                   struct cove_error **err)
{
  struct stat st;
  if (cove_state_id_valid (name_or_id)
      && fstatat (s->dirfd, name_or_id, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return xstrdup (name_or_id);
  if (cove_state_name_valid (name_or_id))
    {
      cleanup_free char *id = state_name_target (s, name_or_id);
      if (id && *id && fstatat (s->dirfd, id, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return cove_steal_pointer (&id);
    }
  if (all_hex (name_or_id))
    return lookup_prefix (s, name_or_id, err);
  cove_error_set (err, ENOENT, "no container with name or ID `%s` found",
                  name_or_id);
  return NULL;
}

int
cove_state_load (struct cove_state_store *s, const char *name_or_id,
                 struct cove_state_container *out, struct cove_error **err)
{
  cleanup_free char *id = cove_state_lookup (s, name_or_id, err);
  if (id == NULL)
    return -1;
  cleanup_close int fd = openat (s->dirfd, id,
                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno == ENOENT ? ENOENT : errno,
                           "no container with name or ID `%s` found", name_or_id);
  if (state_read_record (fd, id, out, err) < 0)
    return cove_error_wrap (err, "read `%s/%s/" STATE_FILE "`", s->root, id);
  return 0;
}
