/* cove state: `cove system check`: find what crashes, disks and hands
   left wrong in the store, and repair it.  */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkg/state/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

struct check_acc
{
  struct cove_state_problem *v;
  size_t n;
};

static void
add (struct check_acc *a, enum cove_state_problem_kind kind, char *path,
     char *msg, bool repaired)
{
  a->v = xrealloc (a->v, (a->n + 1) * sizeof *a->v);
  a->v[a->n++] = (struct cove_state_problem) { kind, path, msg, repaired };
}

void
cove_state_problems_free (struct cove_state_problem *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    {
      free (v[i].path);
      free (v[i].msg);
    }
  free (v);
}

/* Rename the record ID aside, out of every listing but kept for a human
   to inspect.  */
static bool
quarantine (struct cove_state_store *s, const char *id)
{
  cleanup_free char *aside = xasprintf (CORRUPT_PREFIX "%s", id);
  if (renameat (s->dirfd, id, s->dirfd, aside) == 0)
    return true;
  if (errno != EEXIST && errno != ENOTEMPTY)
    return false;
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  cleanup_free char *aside2 = xasprintf (CORRUPT_PREFIX "%s-%lld", id,
                                         (long long) ts.tv_sec);
  return renameat (s->dirfd, id, s->dirfd, aside2) == 0;
}

/* Give record C its name back when nobody else holds it.  */
static bool
rename_back (struct cove_state_store *s, const struct cove_state_container *c)
{
  cleanup_free char *link = xasprintf ("names/%s", c->name);
  cleanup_free char *owner = state_name_target (s, c->name);
  if (owner && !state_record_present (s, owner))
    {
      cleanup_error struct cove_error *err = NULL;
      state_name_release (s, c->name, owner, &err);
    }
  return symlinkat (c->id, s->dirfd, link) == 0;
}

static void
check_record (struct cove_state_store *s, const char *id, bool repair,
              struct check_acc *a)
{
  cleanup_close int fd = openat (s->dirfd, id,
                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return;
  struct cove_state_container c = { 0 };
  cleanup_error struct cove_error *err = NULL;
  char *file = xasprintf ("%s/%s/" STATE_FILE, s->root, id);
  if (state_read_record (fd, id, &c, &err) < 0)
    {
      bool half = err->errnum == ENOENT;
      bool done = repair && quarantine (s, id);
      cleanup_free char *why = cove_error_string (err);
      add (a, half ? COVE_STATE_PROBLEM_HALF_CREATED : COVE_STATE_PROBLEM_CORRUPT,
           file, xasprintf ("%s%s", half ? "missing (half-created container)" : why,
                            done ? "; moved aside to " CORRUPT_PREFIX "<id>" : ""),
           done);
      return;
    }
  cleanup_free char *target = c.name ? state_name_target (s, c.name) : NULL;
  if (c.name == NULL || target == NULL || strcmp (target, c.id) != 0)
    {
      bool done = repair && c.name && rename_back (s, &c);
      add (a, COVE_STATE_PROBLEM_UNNAMED, file,
           c.name ? xasprintf ("name `%s` is not indexed%s", c.name,
                               done ? "; restored" : "")
                  : xstrdup ("record has no name"), done);
    }
  else
    free (file);
  cove_state_container_free (&c);
}

static int
check_names (struct cove_state_store *s, bool repair, struct check_acc *a,
             struct cove_error **err)
{
  int fd = openat (s->dirfd, "names", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  if (d == NULL)
    {
      int e = errno;
      if (fd >= 0)
        close (fd);
      return e == ENOENT ? 0 : cove_error_set (err, e, "open `%s/names`", s->root);
    }
  for (struct dirent *e; (e = readdir (d));)
    {
      if (e->d_name[0] == '.')
        continue;
      cleanup_free char *target = state_name_target (s, e->d_name);
      if (target == NULL || state_record_present (s, target))
        continue;
      cleanup_error struct cove_error *rerr = NULL;
      bool done = repair && state_name_release (s, e->d_name, target, &rerr) == 0;
      add (a, COVE_STATE_PROBLEM_DANGLING_NAME,
           xasprintf ("%s/names/%s", s->root, e->d_name),
           xasprintf ("name points to missing container `%s`%s", target,
                      done ? "; removed" : ""), done);
    }
  return 0;
}

int
cove_state_check (struct cove_state_store *s, bool repair,
                  struct cove_state_problem **out, size_t *out_n,
                  struct cove_error **err)
{
  cleanup_dir DIR *d = state_open_root (s, err);
  if (d == NULL)
    return -1;
  struct check_acc a = { 0 };
  for (struct dirent *e; (e = readdir (d));)
    {
      if (cove_state_id_valid (e->d_name))
        {
          check_record (s, e->d_name, repair, &a);
          continue;
        }
      cleanup_error struct cove_error *serr = NULL;
      int r = state_sweep_leftover (s, e->d_name, repair, &serr);
      if (r != 0)
        add (&a, COVE_STATE_PROBLEM_LEFTOVER,
             xasprintf ("%s/%s", s->root, e->d_name),
             r > 0 ? xasprintf ("leftover of an interrupted create or remove%s",
                                repair ? "; removed" : "")
                   : cove_error_string (serr), r > 0 && repair);
    }
  /* Names last: the repairs above may have left some dangling.  */
  if (check_names (s, repair, &a, err) < 0)
    {
      cove_state_problems_free (a.v, a.n);
      return -1;
    }
  *out = a.v;
  *out_n = a.n;
  return 0;
}
