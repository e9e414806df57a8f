/* A container's changes relative to its image, as `cove diff` lists them
   and `cove commit` will tar them: an overlay upper directory read against
   the image's layers, or (vfs) a full copy compared with them.

   The trees are untrusted (the container wrote the upper or the copy, the
   image's author the layers): every entry is looked at with fstatat
   AT_SYMLINK_NOFOLLOW relative to a directory fd opened with O_NOFOLLOW,
   and no symlink is ever followed.  Runs in the user namespace (the trees
   belong to mapped ids).

   The rules are docker's and podman's (containers/storage pkg/archive
   changes.go): an entry of the upper that exists in a layer is changed (C),
   one that does not is added (A), a whiteout is a deletion (D); a directory
   whose mode, owner and mtime are the lower's is not reported by itself,
   only as the parent of an added or deleted entry.  Where an opaque
   directory hides its lower content, what the layers had there is
   deleted, and what the upper has is added (changed where a layer had the
   same name).  */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"
#include "storage/internal.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* The directories of the layers at one path, top first; the list stops at
   the first layer where the path is opaque (what is below is hidden).  */
struct lowers
{
  int *fds;
  size_t n;
};

static void
lowers_free (struct lowers *l)
{
  for (size_t i = 0; i < l->n; i++)
    close (l->fds[i]);
  free (l->fds);
  l->fds = NULL;
  l->n = 0;
}

/* One directory level of the walk, for reporting it as the parent of an
   added or deleted entry.  */
struct level
{
  const char *path;     /* "/" for the top */
  int parent_fd;        /* the directory holding it, -1 for the top */
  const char *name;
  const struct stat *st;
  bool reported;
};

struct walk
{
  cove_storage_change_fn fn;
  void *ctx;
  bool full;            /* a full copy (vfs), not an upper */
};

static bool
xattr_is (int fd, const char *name, char want)
{
  char v[2];
  return fgetxattr (fd, name, v, sizeof v) == 1 && v[0] == want;
}

static bool
dir_is_opaque (int fd)
{
  return xattr_is (fd, "user.overlay.opaque", 'y')
    || xattr_is (fd, "trusted.overlay.opaque", 'y');
}

/* Is NAME (stat ST) in DFD a whiteout: a character device 0/0, or the
   xattr form (an empty file with user.overlay.whiteout)?  */
static bool
is_whiteout (int dfd, const char *name, const struct stat *st)
{
  if (S_ISCHR (st->st_mode) && st->st_rdev == 0)
    return true;
  if (!S_ISREG (st->st_mode) || st->st_size != 0)
    return false;
  cleanup_close int fd = openat (dfd, name, O_RDONLY | O_NOFOLLOW
                                 | O_NONBLOCK | O_CLOEXEC);
  return fd >= 0 && (fgetxattr (fd, "user.overlay.whiteout", NULL, 0) >= 0
                     || fgetxattr (fd, "trusted.overlay.whiteout", NULL, 0) >= 0);
}

/* Stat NAME in the layers: 1 and *OUT when a layer has it (a whiteout
   above hides it: 0), 0 when none has it.  */
static int
lowers_lookup (const struct lowers *l, const char *name, struct stat *out,
               struct cove_error **err)
{
  for (size_t i = 0; i < l->n; i++)
    {
      if (fstatat (l->fds[i], name, out, AT_SYMLINK_NOFOLLOW) == 0)
        return is_whiteout (l->fds[i], name, out) ? 0 : 1;
      if (errno != ENOENT)
        return cove_error_set (err, errno, "stat `%s` in a layer", name);
    }
  return 0;
}

/* The layers' directories of NAME below L's, top first, into *OUT.  */
static int
lowers_child (const struct lowers *l, const char *name, struct lowers *out,
              struct cove_error **err)
{
  out->fds = xmalloc0 ((l->n + 1) * sizeof *out->fds);
  out->n = 0;
  for (size_t i = 0; i < l->n; i++)
    {
      struct stat st;
      if (fstatat (l->fds[i], name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue;
          return cove_error_set (err, errno, "stat `%s` in a layer", name);
        }
      if (!S_ISDIR (st.st_mode))
        break;    /* a file or a whiteout hides the layers below */
      int fd = openat (l->fds[i], name, DIR_FLAGS);
      if (fd < 0)
        return cove_error_set (err, errno, "open `%s` in a layer", name);
      out->fds[out->n++] = fd;
      if (dir_is_opaque (fd))
        break;
    }
  return 0;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static char **
strv_sorted (char **v, size_t n)
{
  if (n > 1)
    qsort (v, n, sizeof *v, cmp_str);
  return v;
}

/* The names of the directory FD, sorted by bytes; with SEEN (may be NULL)
   a set of names already seen in upper layers: those are skipped, the
   others added to it, and whiteouts are seen but not listed.  */
static char **
dir_names (int fd, json_t *seen, struct cove_error **err)
{
  int d2 = fcntl (fd, F_DUPFD_CLOEXEC, 0);
  if (d2 < 0)
    {
      cove_error_set (err, errno, "dup");
      return NULL;
    }
  cleanup_dir DIR *d = fdopendir (d2);
  if (d == NULL)
    {
      close (d2);
      cove_error_set (err, errno, "opendir");
      return NULL;
    }
  rewinddir (d);
  char **v = xmalloc0 (sizeof *v);
  size_t n = 0, cap = 1;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      const char *name = de->d_name;
      if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
        continue;
      if (seen != NULL)
        {
          if (json_object_get (seen, name) != NULL)
            continue;
          json_object_set_new (seen, name, json_true ());
          struct stat st;
          if (fstatat (fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
              && is_whiteout (fd, name, &st))
            continue;
        }
      if (n + 1 >= cap)
        {
          cap *= 2;
          v = xrealloc (v, (cap + 1) * sizeof *v);
        }
      v[n++] = xstrdup (name);
      v[n] = NULL;
    }
  return strv_sorted (v, n);
}

/* The names the layers show at L's directory (merged), sorted.  */
static char **
lowers_names (const struct lowers *l, struct cove_error **err)
{
  json_t *seen = json_object ();
  char **all = xmalloc0 (sizeof *all);
  for (size_t i = 0; i < l->n; i++)
    {
      char **v = dir_names (l->fds[i], seen, err);
      if (v == NULL)
        {
          cove_strv_free (all);
          json_decref (seen);
          return NULL;
        }
      for (char **p = v; *p; p++)
        cove_strv_append (&all, *p);
      cove_strv_free (v);
    }
  json_decref (seen);
  return strv_sorted (all, cove_strv_len (all));
}

static bool
same_time (const struct timespec *a, const struct timespec *b)
{
  /* docker's sameFsTime: whole seconds equal, and the nanoseconds too
     unless one side has none (a filesystem or tar without them).  */
  return a->tv_sec == b->tv_sec
    && (a->tv_nsec == b->tv_nsec || a->tv_nsec == 0 || b->tv_nsec == 0);
}

/* A directory's own metadata, the same in both trees?  Its size is not
   compared: it depends on the filesystem and on how many entries it ever
   had, not on its content.  */
static bool
same_dir (const struct stat *a, const struct stat *b)
{
  return S_ISDIR (a->st_mode) && S_ISDIR (b->st_mode)
    && a->st_mode == b->st_mode && a->st_uid == b->st_uid
    && a->st_gid == b->st_gid && same_time (&a->st_mtim, &b->st_mtim);
}

static bool
same_link (int da, int db, const char *name)
{
  char a[4096], b[4096];
  ssize_t na = readlinkat (da, name, a, sizeof a);
  ssize_t nb = readlinkat (db, name, b, sizeof b);
  return na >= 0 && na == nb && memcmp (a, b, (size_t) na) == 0;
}

static int
emit (struct walk *w, enum cove_storage_change_kind kind, const char *path,
      int dfd, const char *name, const struct stat *st,
      struct cove_error **err)
{
  struct cove_storage_change c = { .kind = kind, .path = path,
                                   .dirfd = dfd, .name = name, .st = st };
  return w->fn (w->ctx, &c, err);
}

/* The parent of an added or deleted entry is changed, once.  */
static int
emit_parent (struct walk *w, struct level *lv, struct cove_error **err)
{
  if (lv->reported || strcmp (lv->path, "/") == 0)
    return 0;
  lv->reported = true;
  return emit (w, COVE_STORAGE_CHANGE_MODIFIED, lv->path, lv->parent_fd,
               lv->name, lv->st, err);
}

static int walk_dir (struct walk *w, int dfd, const struct lowers *l,
                     struct level *lv, struct cove_error **err);

/* NAME of DFD has stat ST; the layers have it as LST when FOUND.  What
   kind of change, or -1 for none.  */
static int
classify (struct walk *w, int dfd, const char *name, const struct stat *st,
          bool found, const struct stat *lst, const struct lowers *l)
{
  if (!found)
    return COVE_STORAGE_CHANGE_ADDED;
  if (S_ISDIR (st->st_mode))
    return same_dir (st, lst) ? -1 : COVE_STORAGE_CHANGE_MODIFIED;
  /* In an upper, being there at all means copied up: changed.  */
  if (!w->full)
    return COVE_STORAGE_CHANGE_MODIFIED;
  if ((st->st_mode & S_IFMT) != (lst->st_mode & S_IFMT)
      || st->st_mode != lst->st_mode || st->st_uid != lst->st_uid
      || st->st_gid != lst->st_gid || st->st_size != lst->st_size
      || !same_time (&st->st_mtim, &lst->st_mtim))
    return COVE_STORAGE_CHANGE_MODIFIED;
  if (S_ISLNK (st->st_mode))
    {
      for (size_t i = 0; i < l->n; i++)
        if (faccessat (l->fds[i], name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
          return same_link (dfd, l->fds[i], name) ? -1
            : COVE_STORAGE_CHANGE_MODIFIED;
    }
  if ((S_ISCHR (st->st_mode) || S_ISBLK (st->st_mode))
      && st->st_rdev != lst->st_rdev)
    return COVE_STORAGE_CHANGE_MODIFIED;
  return -1;
}

/* Walk into the directory NAME of DFD (reported as KIND, -1 none); L
   NULL: the layers have nothing below it (it was added, or replaced
   below an opaque directory).  */
static int
descend (struct walk *w, int dfd, const char *name, const char *path,
         const struct stat *st, int kind, const struct lowers *l,
         struct cove_error **err)
{
  cleanup_close int sub = openat (dfd, name, DIR_FLAGS);
  if (sub < 0)
    return cove_error_set (err, errno, "open `%s`", path);
  struct lowers below = { NULL, 0 };
  struct level lv = { path, dfd, name, st, kind >= 0 };
  if (l != NULL && kind != COVE_STORAGE_CHANGE_ADDED
      && lowers_child (l, name, &below, err) < 0)
    {
      lowers_free (&below);
      return -1;
    }
  int r = walk_dir (w, sub, &below, &lv, err);
  lowers_free (&below);
  return r;
}

/* One entry NAME present in DFD.  REPLACED: below an opaque directory,
   L only tells whether the layers had the name.  */
static int
walk_entry (struct walk *w, int dfd, const char *name, const struct lowers *l,
            bool replaced, struct level *lv, struct cove_error **err)
{
  struct stat st, lst;
  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return cove_error_set (err, errno, "stat `%s/%s`", lv->path, name);
  cleanup_free char *path = strcmp (lv->path, "/") == 0
    ? xasprintf ("/%s", name) : xasprintf ("%s/%s", lv->path, name);
  if (!w->full && is_whiteout (dfd, name, &st))
    {
      if (emit_parent (w, lv, err) < 0)
        return -1;
      return emit (w, COVE_STORAGE_CHANGE_DELETED, path, -1, NULL, NULL, err);
    }
  int found = lowers_lookup (l, name, &lst, err);
  if (found < 0)
    return -1;
  int kind = replaced ? COVE_STORAGE_CHANGE_MODIFIED
    : classify (w, dfd, name, &st, found, &lst, l);
  if (S_ISDIR (st.st_mode) && kind < 0 && !w->full)
    {
      cleanup_close int fd = openat (dfd, name, DIR_FLAGS);
      if (fd >= 0 && dir_is_opaque (fd))
        kind = COVE_STORAGE_CHANGE_MODIFIED;
    }
  if (kind == COVE_STORAGE_CHANGE_ADDED && emit_parent (w, lv, err) < 0)
    return -1;
  if (kind >= 0 && emit (w, kind, path, dfd, name, &st, err) < 0)
    return -1;
  if (!S_ISDIR (st.st_mode))
    return 0;
  return descend (w, dfd, name, path, &st, kind, replaced ? NULL : l, err);
}

/* Walk the directory DFD whose layers are L: its entries and the layers'
   entries missing from it, in name order.  */
static int
walk_dir (struct walk *w, int dfd, const struct lowers *l, struct level *lv,
          struct cove_error **err)
{
  cleanup_strv char **mine = dir_names (dfd, NULL, err);
  if (mine == NULL)
    return -1;
  /* What the layers have here that this tree lacks is deleted: in a full
     copy always, in an upper only below an opaque directory (elsewhere a
     deletion is a whiteout).  */
  bool opaque = !w->full && l->n > 0 && dir_is_opaque (dfd);
  cleanup_strv char **theirs = NULL;
  if ((w->full || opaque) && (theirs = lowers_names (l, err)) == NULL)
    return -1;
  struct lowers none = { NULL, 0 };
  const struct lowers *look = opaque ? &none : l;
  size_t i = 0, j = 0;
  while (mine[i] || (theirs && theirs[j]))
    {
      int c = !theirs || !theirs[j] ? -1 : !mine[i] ? 1 : strcmp (mine[i], theirs[j]);
      if (c > 0)
        {
          cleanup_free char *path = strcmp (lv->path, "/") == 0
            ? xasprintf ("/%s", theirs[j]) : xasprintf ("%s/%s", lv->path, theirs[j]);
          if (emit_parent (w, lv, err) < 0
              || emit (w, COVE_STORAGE_CHANGE_DELETED, path, -1, NULL, NULL, err) < 0)
            return -1;
          j++;
          continue;
        }
      /* Below an opaque directory a name the layers also had was
         replaced.  */
      if (walk_entry (w, dfd, mine[i], opaque && c == 0 ? l : look,
                      opaque && c == 0, lv, err) < 0)
        return -1;
      i++;
      j += c == 0;
    }
  return 0;
}

static int
changes_run (int top_fd, const int *lower_fds, size_t n, bool full,
             cove_storage_change_fn fn, void *ctx, struct cove_error **err)
{
  struct lowers l = { xmalloc0 ((n + 1) * sizeof (int)), 0 };
  for (size_t i = 0; i < n; i++)
    {
      int fd = fcntl (lower_fds[i], F_DUPFD_CLOEXEC, 0);
      if (fd < 0)
        {
          lowers_free (&l);
          return cove_error_set (err, errno, "dup");
        }
      l.fds[l.n++] = fd;
      if (dir_is_opaque (fd))
        break;
    }
  struct level lv = { "/", -1, NULL, NULL, true };
  struct walk w = { fn, ctx, full };
  int r = walk_dir (&w, top_fd, &l, &lv, err);
  lowers_free (&l);
  return r;
}

int
cove_storage_changes_overlay (int upper_fd, const int *lower_fds,
                              size_t n_lowers, cove_storage_change_fn fn,
                              void *ctx, struct cove_error **err)
{
  return changes_run (upper_fd, lower_fds, n_lowers, false, fn, ctx, err);
}

int
cove_storage_changes_copy (int rootfs_fd, const int *lower_fds,
                           size_t n_lowers, cove_storage_change_fn fn,
                           void *ctx, struct cove_error **err)
{
  return changes_run (rootfs_fd, lower_fds, n_lowers, true, fn, ctx, err);
}

/* Open the diff dirs of IMG's layers, top first, into FDS (n entries).  */
static int
open_layers (struct cove_storage *s, const struct cove_storage_image *img,
             int *fds, struct cove_error **err)
{
  size_t n = cove_strv_len (img->layers);
  for (size_t i = 0; i < n; i++)
    {
      const char *chain = img->layers[n - 1 - i];
      if (storage_digest_hex (chain) == NULL)
        return cove_error_set (err, EINVAL, "invalid layer id `%s`", chain);
      cleanup_free char *l = storage_layer_path (s, chain);
      cleanup_free char *diff = xasprintf ("%s/diff", l);
      fds[i] = open (diff, DIR_FLAGS);
      if (fds[i] < 0)
        return cove_error_set (err, errno, "open layer `%s`", diff);
    }
  return 0;
}

static void
close_fds (int *fds, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  free (fds);
}

int
cove_storage_container_changes (struct cove_storage *s,
                                const struct cove_storage_image *img,
                                const char *container_id,
                                cove_storage_change_fn fn, void *ctx,
                                struct cove_error **err)
{
  if (strchr (container_id, '/') || container_id[0] == '.' || container_id[0] == '\0')
    return cove_error_set (err, EINVAL, "invalid container id `%s`", container_id);
  cleanup_free char *driver = cove_storage_rootfs_driver (s, container_id);
  bool full = driver != NULL && strcmp (driver, "vfs") == 0;
  cleanup_free char *top = xasprintf ("%s/containers/%s/%s", s->root,
                                      container_id, full ? "rootfs" : "upper");
  cleanup_close int top_fd = open (top, DIR_FLAGS);
  if (top_fd < 0 && errno == ENOENT && !full)
    return 0;     /* never mounted: no change yet */
  if (top_fd < 0)
    return cove_error_set (err, errno, "open `%s`", top);
  size_t n = cove_strv_len (img->layers);
  int *fds = xmalloc0 ((n + 1) * sizeof *fds);
  for (size_t i = 0; i < n; i++)
    fds[i] = -1;
  int r = open_layers (s, img, fds, err);
  if (r == 0)
    r = changes_run (top_fd, fds, n, full, fn, ctx, err);
  close_fds (fds, n);
  return r;
}
