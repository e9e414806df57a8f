/* cove state: list every record.  `cove ps -a` calls this with hundreds of
   containers, so it costs one openat+read+parse per record and nothing
   more: no lock (writes are atomic renames, a reader sees an old or a new
   record, never a mix).  */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/state/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

struct list_acc
{
  struct cove_state_container *v;
  size_t n, cap;
  char **warnings;
};

static void
acc_push (struct list_acc *a, struct cove_state_container *c)
{
  if (a->n == a->cap)
    {
      a->cap = a->cap ? 2 * a->cap : 64;
      a->v = xrealloc (a->v, a->cap * sizeof *a->v);
    }
  a->v[a->n++] = *c;
}

static void
warn (struct list_acc *a, const char *fmt_path, const char *why)
{
  cleanup_free char *w = xasprintf ("%s: %s", fmt_path, why);
  cove_strv_append (&a->warnings, w);
}

/* Read ID's state.json into BUF (SIZE bytes) with as few syscalls as
   possible (openat, read, close: a listing is mostly syscalls): returns
   its length, or -1 with errno; a file that fills BUF is read again the
   slow way by the caller (E2BIG).  */
static ssize_t
read_small (struct cove_state_store *s, const char *id, char *buf, size_t size)
{
  char rel[COVE_STATE_ID_LEN + sizeof "/" STATE_FILE];
  memcpy (rel, id, COVE_STATE_ID_LEN);  /* a valid id: 64 bytes */
  memcpy (rel + COVE_STATE_ID_LEN, "/" STATE_FILE, sizeof "/" STATE_FILE);
  cleanup_close int fd = openat (s->dirfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  /* A read of a regular file returns less than asked only at its end.  */
  ssize_t n = read (fd, buf, size);
  if (n == (ssize_t) size)
    {
      errno = E2BIG;
      return -1;
    }
  return n;
}

static void
list_one (struct cove_state_store *s, const char *id, char *buf, size_t size,
          struct list_acc *a)
{
  struct cove_state_container c = { 0 };
  cleanup_error struct cove_error *err = NULL;
  ssize_t n = read_small (s, id, buf, size);
  int r;
  if (n >= 0)
    r = cove_state_container_parse (buf, (size_t) n, &c, &err);
  else if (errno == E2BIG)
    {
      cleanup_close int fd = openat (s->dirfd, id, O_RDONLY | O_DIRECTORY
                                     | O_NOFOLLOW | O_CLOEXEC);
      r = fd < 0 ? cove_error_set (&err, errno, "open") : state_read_record (fd, id, &c, &err);
    }
  else
    r = cove_error_set (&err, errno, "open");
  if (r == 0 && strcmp (c.id, id) != 0)
    {
      r = cove_error_set (&err, EINVAL, "record says id `%s`", c.id);
      cove_state_container_free (&c);
    }
  if (r == 0)
    {
      acc_push (a, &c);
      return;
    }
  cleanup_free char *file = xasprintf ("%s/%s/" STATE_FILE, s->root, id);
  if (err->errnum == ENOENT)
    {
      /* Removed between the readdir and now, or a half-created dir.  */
      struct stat st;
      if (fstatat (s->dirfd, id, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return;
      warn (a, file, "missing (half-created container; cove system check removes it)");
      return;
    }
  cleanup_free char *why = cove_error_string (err);
  warn (a, file, why);
}

static int
cmp_created (const void *x, const void *y)
{
  const struct cove_state_container *a = x, *b = y;
  if (a->created != b->created)
    return a->created < b->created ? -1 : 1;
  return strcmp (a->id, b->id);
}

int
cove_state_list (struct cove_state_store *s,
                 struct cove_state_container **out, size_t *out_n,
                 char ***out_warnings, struct cove_error **err)
{
  cleanup_dir DIR *d = state_open_root (s, err);
  if (d == NULL)
    return -1;
  struct list_acc a = { 0 };
  a.warnings = xmalloc0 (sizeof (char *));
  size_t bufsize = 16384;
  cleanup_free char *buf = xmalloc (bufsize);
  for (struct dirent *e; (e = readdir (d));)
    {
      if (cove_state_id_valid (e->d_name))
        list_one (s, e->d_name, buf, bufsize, &a);
      else if (e->d_name[0] == '.')
        {
          /* A crash leftover of create or remove: sweep it.  A failure
             is only a warning; the listing is still right.  */
          cleanup_error struct cove_error *serr = NULL;
          if (state_sweep_leftover (s, e->d_name, true, &serr) < 0)
            {
              cleanup_free char *why = cove_error_string (serr);
              cleanup_free char *p = xasprintf ("%s/%s", s->root, e->d_name);
              warn (&a, p, why);
            }
        }
    }
  if (a.n > 1)
    qsort (a.v, a.n, sizeof *a.v, cmp_created);
  *out = a.v;
  *out_n = a.n;
  *out_warnings = a.warnings;
  return 0;
}
