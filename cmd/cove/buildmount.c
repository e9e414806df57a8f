/* cove build: RUN --mount, as BuildKit and podman read it.

   Each mount becomes a `--mount type=bind|tmpfs,...` of the `cove run`
   that runs the step, so the container gets it as any other volume:
   - bind: the context (or the root of a from= stage or image), source=
     resolved inside it with RESOLVE_IN_ROOT (no `..` or symlink of the
     context leads out of it), cloned (open_tree) onto a mount point in a
     staging directory of the step, DATA_DIR/containers/ID/mN: `cove run`
     binds that path, never the user's path nor an image's path again.
     Read-only unless rw; then a context directory gets an overlay of its
     own (the clone as lower, a throwaway upper beside it; a copy where the
     kernel refuses the overlay), a context file a copy, and a from= root
     is a throwaway overlay already.  The writes go with the staging
     directory: neither the layer nor the context sees them.
   - cache: DATA_DIR/build-cache-mounts/ID (ID escaped), made on first use
     with uid=, gid=, mode=, kept across builds; sharing=locked and
     private hold an flock for the whole RUN (private behaves as locked).
   - tmpfs: a tmpfs of `cove run`'s.
   The targets, and the directories made only to hold them, are left out
   of the step's layer (build_mounts_skip).

   Runs in the build's user and mount namespaces (build.c): the staging
   mounts exist there only, and `cove run`, called in the same process,
   sees them.  */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cove/build.h"
#include "cmd/cove/cptree.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcreate.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

static const char *const type_names[] = {
  [COVE_BUILD_MOUNT_BIND] = "bind", [COVE_BUILD_MOUNT_CACHE] = "cache",
  [COVE_BUILD_MOUNT_TMPFS] = "tmpfs", [COVE_BUILD_MOUNT_SECRET] = "secret",
  [COVE_BUILD_MOUNT_SSH] = "ssh",
};

/* ---- parsing, and the cache key ---- */

/* T (relative: to the working directory WD) as an absolute path without
   `.`, `..` or doubled slashes, lexically, as Go's path.Join.  */
static char *
clean_target (const char *wd, const char *t)
{
  cleanup_free char *joined = t[0] == '/' ? xstrdup (t)
    : xasprintf ("/%s/%s", wd ? wd : "", t);
  size_t cap = strlen (joined) + 2;
  char *out = xmalloc0 (cap);
  size_t len = 0;
  for (char *p = joined, *next; p; p = next)
    {
      next = strchr (p, '/');
      if (next)
        *next++ = '\0';
      if (*p == '\0' || strcmp (p, ".") == 0)
        continue;
      if (strcmp (p, "..") == 0)
        {
          while (len > 0 && out[len - 1] != '/')
            len--;
          len = len > 0 ? len - 1 : 0;
          out[len] = '\0';
          continue;
        }
      len += (size_t) snprintf (out + len, cap - len, "/%s", p);
    }
  if (len == 0)
    snprintf (out, cap, "/");
  return out;
}

/* What BuildKit can do and cove does not: refused before anything runs.  */
static int
check_supported (const struct cove_build_mount *m, const char *flag,
                 struct cove_error **err)
{
  if (m->type == COVE_BUILD_MOUNT_SECRET || m->type == COVE_BUILD_MOUNT_SSH)
    return cove_error_set_plain (err, ENOTSUP, "RUN --mount=%s: type=%s "
                                 "mounts are not supported", flag,
                                 type_names[m->type]);
  if (m->type == COVE_BUILD_MOUNT_CACHE && (m->from || m->source))
    return cove_error_set_plain (err, ENOTSUP, "RUN --mount=%s: from= and "
                                 "source= of a cache mount are not "
                                 "supported", flag);
  if (m->type == COVE_BUILD_MOUNT_TMPFS && (m->from || m->source))
    return cove_error_set_plain (err, EINVAL, "RUN --mount=%s: a tmpfs "
                                 "mount takes no from= or source=", flag);
  return 0;
}

/* The key words of mount M: what it is, and for a bind of the context
   the digest of the content it shows (as COPY's: names, modes, bytes),
   so that the step runs again when that changes.  BuildKit keys its
   read-only binds on their content too; a cache mount's content is not
   keyed (that is the point of it).  */
static int
mount_key (struct build *b, const struct build_mount *m, char ***key,
           struct cove_error **err)
{
  const struct cove_build_mount *s = &m->spec;
  cleanup_free char *digest = NULL;
  if (s->type == COVE_BUILD_MOUNT_BIND && m->from == NULL)
    {
      char *srcs[] = { s->source && *s->source ? s->source : (char *) ".",
                       NULL };
      struct build_copy c = { .srcs = srcs, .dest = m->target };
      int fd = cove_open_in_root (b->context_fd, srcs[0], O_PATH, err);
      if (fd < 0)
        return cove_error_wrap (err, "RUN --mount: source `%s` is not in "
                                "the build context", srcs[0]);
      close (fd);
      if (build_copy_digest (b, &c, &digest, err) < 0)
        return cove_error_wrap (err, "RUN --mount source `%s`", srcs[0]);
    }
  char *k = xasprintf ("type=%s target=%s source=%s from=%s id=%s "
                       "sharing=%s ro=%d uid=%ld gid=%ld mode=%lo size=%lld "
                       "content=%s", type_names[s->type], m->target,
                       s->source ? s->source : "", m->from ? m->from : "",
                       m->cache_id ? m->cache_id : "",
                       s->sharing ? s->sharing : "", s->readonly, s->uid,
                       s->gid, s->mode < 0 ? 0 : (unsigned long) s->mode,
                       (long long) s->size, digest ? digest : "");
  cove_strv_append (key, k);
  free (k);
  return 0;
}

/* One --mount value FLAG of the step into M.  */
static int
parse_one (struct build *b, const char *wd, const char *flag,
           struct cove_build_vars *vars, struct build_mount *m,
           struct cove_error **err)
{
  if (cove_build_mount_parse (flag, cove_build_vars_lookup, vars,
                              b->file->escape, &m->spec, err) < 0)
    return cove_error_wrap (err, "RUN --mount=%s", flag);
  if (check_supported (&m->spec, flag, err) < 0)
    return -1;
  m->target = clean_target (wd, m->spec.target);
  /* `cove run --mount` splits its value at commas.  */
  if (strcmp (m->target, "/") == 0 || strchr (m->target, ','))
    return cove_error_set_plain (err, EINVAL, "RUN --mount=%s: cannot "
                                 "mount at `%s`", flag, m->target);
  if (m->spec.type == COVE_BUILD_MOUNT_CACHE)
    m->cache_id = xstrdup (m->spec.id && *m->spec.id ? m->spec.id
                                                     : m->target);
  if (m->spec.from && *m->spec.from
      && (m->from = build_stage_or_image (b, m->spec.from, err)) == NULL)
    return cove_error_wrap (err, "RUN --mount from=%s", m->spec.from);
  if (m->spec.type == COVE_BUILD_MOUNT_BIND && m->from == NULL
      && b->context_fd < 0)
    return cove_error_set_plain (err, ENOENT, "RUN --mount=%s: the build "
                                 "has no context to bind", flag);
  return 0;
}

int
build_mounts_parse (struct build *b, const struct build_image *img,
                    const struct cove_build_instr *in,
                    struct cove_build_vars *vars, struct build_mounts *out,
                    struct cove_error **err)
{
  memset (out, 0, sizeof *out);
  json_t *cfg = json_object_get (img->doc, "config");
  const char *wd = json_string_value (json_object_get (cfg, "WorkingDir"));
  for (size_t i = 0; i < in->n_flags; i++)
    {
      if (strcmp (in->flags[i].name, "mount") != 0)
        continue;
      out->v = xrealloc (out->v, (out->n + 1) * sizeof *out->v);
      struct build_mount *m = &out->v[out->n++];
      memset (m, 0, sizeof *m);
      m->lock = -1;
      if (parse_one (b, wd, in->flags[i].value, vars, m, err) < 0
          || mount_key (b, m, &out->key, err) < 0)
        return -1;
    }
  return 0;
}

/* ---- the mounts, made for the step ---- */

/* Clone the tree SRC (an fd) onto the mount point POINT.  */
static int
clone_onto (int src, const char *point, struct cove_error **err)
{
  cleanup_close int tree = open_tree (src, "", OPEN_TREE_CLONE
                                      | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH
                                      | AT_RECURSIVE);
  if (tree < 0)
    return cove_error_set (err, errno, "clone the mount source");
  if (move_mount (tree, "", AT_FDCWD, point, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return cove_error_set (err, errno, "attach `%s`", point);
  return 0;
}

/* An overlay of LOWER (upper and work dirs UPPER, WORK) at POINT.  */
static int
overlay_onto (const char *lower, const char *upper, const char *work,
              const char *point, struct cove_error **err)
{
  cleanup_close int fs = fsopen ("overlay", FSOPEN_CLOEXEC);
  if (fs < 0)
    return cove_error_set (err, errno, "fsopen overlay");
  /* userxattr: the overlay is made in a user namespace.  */
  if (fsconfig (fs, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0
      || fsconfig (fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0
      || fsconfig (fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0
      || fsconfig (fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0
      || fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return cove_error_set (err, errno, "overlay of `%s`", lower);
  cleanup_close int mnt = fsmount (fs, FSMOUNT_CLOEXEC, 0);
  if (mnt < 0)
    return cove_error_set (err, errno, "fsmount overlay");
  if (move_mount (mnt, "", AT_FDCWD, point, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return cove_error_set (err, errno, "attach `%s`", point);
  return 0;
}

/* Give PATH the mode and owner of ST (the owner at best: an owner the
   user namespace does not map stays as it is).  */
static int
take_meta (const char *path, const struct stat *st)
{
  if (chown (path, st->st_uid, st->st_gid) < 0)
    {
      /* Best effort, see above.  */
    }
  return chmod (path, st->st_mode & 07777);
}

/* A writable throwaway view of the context directory SRC at M's mount
   point: an overlay, else a copy (owners kept).  Its root shows the
   source's mode and owner, not those of the directory made for it (the
   overlay's root is its upper directory).  */
static int
writable_dir (struct build_mounts *ms, struct build_mount *m, size_t i,
              int src, struct cove_error **err)
{
  cleanup_free char *lower = xasprintf ("%s/l%zu", ms->dir, i);
  cleanup_free char *upper = xasprintf ("%s/u%zu", ms->dir, i);
  cleanup_free char *work = xasprintf ("%s/w%zu", ms->dir, i);
  struct stat st;
  if (fstat (src, &st) < 0)
    return cove_error_set (err, errno, "stat the mount source");
  if (mkdir (lower, 0700) == 0 && mkdir (upper, 0700) == 0
      && take_meta (upper, &st) == 0 && mkdir (work, 0700) == 0
      && clone_onto (src, lower, NULL) == 0)
    {
      m->lower = steal_pointer (&lower);
      if (overlay_onto (m->lower, upper, work, m->point, NULL) == 0)
        {
          m->mounted = true;
          return 0;
        }
    }
  cleanup_close int dfd = open (m->point, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct cove_cp_owner keep = { .keep = true };
  if (dfd < 0 || take_meta (m->point, &st) < 0)
    return cove_error_set (err, errno, "copy into `%s`", m->point);
  return cove_cp_children (src, dfd, &keep, err);
}

/* The root a bind's source is taken in: the context, or the root of its
   from= image mounted for the step (a throwaway upper of its own).  */
static int
bind_root (struct build *b, struct build_mount *m, struct cove_error **err)
{
  if (m->from == NULL)
    {
      /* Opened again: context_fd was opened before the build entered its
         mount namespace, and a mount of another namespace cannot be
         cloned (EINVAL).  Still the same directory?  */
      int fd = open (b->o->context, O_PATH | O_DIRECTORY | O_CLOEXEC);
      struct stat a, c;
      if (fd < 0)
        return cove_error_set (err, errno, "open `%s`", b->o->context);
      if (fstat (fd, &a) < 0 || fstat (b->context_fd, &c) < 0
          || a.st_dev != c.st_dev || a.st_ino != c.st_ino)
        {
          close (fd);
          return cove_error_set (err, ESTALE, "the build context `%s` moved",
                                 b->o->context);
        }
      return fd;
    }
  struct cove_storage_image si;
  if (cove_storage_image_lookup (b->s, m->from, &si, err) < 0)
    return -1;
  char id[65];
  cleanup_free char *root = NULL;
  int r = cove_ctr_make_id (id, err);
  if (r == 0)
    m->root_dir = cove_storage_container_dir_create (&b->paths, id, err);
  if (r == 0 && m->root_dir != NULL)
    {
      m->root_id = xstrdup (id);
      r = cove_storage_rootfs_mount (b->s, &si, id, si.layers[0]
                                     ? COVE_STORAGE_AUTO : COVE_STORAGE_VFS,
                                     &root, err);
    }
  cove_storage_image_free (&si);
  if (r < 0 || m->root_dir == NULL)
    return -1;
  int fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return fd < 0 ? cove_error_set (err, errno, "open `%s`", root) : fd;
}

static int
setup_bind (struct build *b, struct build_mounts *ms, size_t i,
            struct cove_error **err)
{
  struct build_mount *m = &ms->v[i];
  const char *source = m->spec.source && *m->spec.source ? m->spec.source
                                                         : ".";
  cleanup_close int root = bind_root (b, m, err);
  if (root < 0)
    return -1;
  cleanup_close int src = cove_open_in_root (root, source, O_PATH, err);
  struct stat st;
  if (src < 0 || fstat (src, &st) < 0)
    return src < 0 ? cove_error_wrap (err, "RUN --mount: source `%s` is not "
                                      "in the %s", source, m->from
                                      ? "stage or image" : "build context")
                   : cove_error_set (err, errno, "stat `%s`", source);
  m->point = xasprintf ("%s/m%zu", ms->dir, i);
  bool dir = S_ISDIR (st.st_mode);
  int made = dir ? mkdir (m->point, 0700)
                 : open (m->point, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                         0600);
  if (made < 0)
    return cove_error_set (err, errno, "create `%s`", m->point);
  if (!dir)
    close (made);
  if (!m->spec.readonly && m->from == NULL && dir)
    return writable_dir (ms, m, i, src, err);
  if (!m->spec.readonly && m->from == NULL)
    {
      cleanup_close int parent = open (ms->dir, O_RDONLY | O_DIRECTORY
                                       | O_CLOEXEC);
      struct cove_cp_owner keep = { .keep = true };
      cleanup_free char *name = xasprintf ("m%zu", i);
      return parent < 0 ? cove_error_set (err, errno, "open `%s`", ms->dir)
                        : cove_cp_entry (src, parent, name, &keep, err);
    }
  if (clone_onto (src, m->point, err) < 0)
    return -1;
  m->mounted = true;
  return 0;
}

/* ID as one file name: [A-Za-z0-9_-] and inner dots kept, any other byte
   %XX (so "/root/.cache" is "%2Froot%2F.cache", never `..` or hidden).  */
static char *
cache_name (const char *id)
{
  size_t n = strlen (id);
  char *out = xmalloc0 (3 * n + 1);
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    {
      unsigned char c = (unsigned char) id[i];
      bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                  || (c >= '0' && c <= '9') || c == '_' || c == '-'
                  || (c == '.' && i > 0);
      len += (size_t) snprintf (out + len, 3 * n + 1 - len,
                                keep ? "%c" : "%%%02X", c);
    }
  return out;
}

/* Make the cache directory PATH as M asks (uid, gid, mode; BuildKit's
   defaults 0, 0, 0755), whole or not at all: it is made under a temporary
   name and renamed into place; a concurrent build's wins.  */
static int
cache_create (const char *base, const char *path, const struct build_mount *m,
              struct cove_error **err)
{
  cleanup_free char *tmp = xasprintf ("%s/.new-XXXXXX", base);
  if (mkdtemp (tmp) == NULL)
    return cove_error_set (err, errno, "mkdir in `%s`", base);
  const struct cove_build_mount *s = &m->spec;
  int r = 0;
  if (chown (tmp, (uid_t) (s->uid < 0 ? 0 : s->uid),
             (gid_t) (s->gid < 0 ? 0 : s->gid)) < 0)
    r = cove_error_set (err, errno, "cache mount `%s`: uid=%ld,gid=%ld",
                        m->cache_id, s->uid < 0 ? 0 : s->uid,
                        s->gid < 0 ? 0 : s->gid);
  else if (chmod (tmp, (mode_t) (s->mode < 0 ? 0755 : s->mode)) < 0)
    r = cove_error_set (err, errno, "cache mount `%s`: mode", m->cache_id);
  else if (renameat2 (AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0
           && errno != EEXIST)
    r = cove_error_set (err, errno, "rename into `%s`", path);
  (void) rmdir (tmp);   /* left when it lost the race or failed */
  return r;
}

static int
setup_cache (struct build *b, struct build_mounts *ms, size_t i,
             struct cove_error **err)
{
  struct build_mount *m = &ms->v[i];
  cleanup_free char *base = xasprintf ("%s/build-cache-mounts",
                                       b->paths.data_dir);
  cleanup_free char *name = cache_name (m->cache_id);
  if (cove_mkdir_p (base, 0700, err) < 0)
    return -1;
  const char *sharing = m->spec.sharing ? m->spec.sharing : "shared";
  /* The same cache twice in one RUN: locked once (a second flock of
     ours would wait for the first forever).  */
  bool held = false;
  for (size_t k = 0; k < i; k++)
    held = held || (ms->v[k].lock >= 0 && ms->v[k].cache_id
                    && strcmp (ms->v[k].cache_id, m->cache_id) == 0);
  if (strcmp (sharing, "shared") != 0 && !held)
    {
      /* locked, and private as locked: one RUN at a time uses it; the
         others wait, as BuildKit's.  Held until the RUN is over.  In
         .locks/, a name no escaped id has.  */
      cleanup_free char *locks = xasprintf ("%s/.locks", base);
      cleanup_free char *lock = xasprintf ("%s/%s", locks, name);
      if (cove_mkdir_p (locks, 0700, err) < 0)
        return -1;
      m->lock = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (m->lock < 0)
        return cove_error_set (err, errno, "open `%s`", lock);
      while (flock (m->lock, LOCK_EX) < 0)
        if (errno != EINTR)
          return cove_error_set (err, errno, "lock `%s`", lock);
    }
  m->point = xasprintf ("%s/%s", base, name);
  struct stat st;
  if (lstat (m->point, &st) == 0)
    return S_ISDIR (st.st_mode) ? 0
      : cove_error_set (err, ENOTDIR, "cache mount `%s`", m->point);
  return cache_create (base, m->point, m, err);
}

/* The `cove run --mount` value of M, once made.  */
static char *
run_arg (const struct build_mount *m)
{
  const char *ro = m->spec.readonly ? ",ro" : "";
  if (m->spec.type == COVE_BUILD_MOUNT_TMPFS)
    {
      if (m->spec.size > 0)
        return xasprintf ("type=tmpfs,dst=%s,tmpfs-size=%lld%s", m->target,
                          (long long) m->spec.size, ro);
      return xasprintf ("type=tmpfs,dst=%s%s", m->target, ro);
    }
  return xasprintf ("type=bind,src=%s,dst=%s%s", m->point, m->target, ro);
}

int
build_mounts_setup (struct build *b, struct build_mounts *ms,
                    struct cove_error **err)
{
  for (size_t i = 0; i < ms->n; i++)
    {
      struct build_mount *m = &ms->v[i];
      int r = 0;
      if (m->spec.type == COVE_BUILD_MOUNT_BIND && ms->dir == NULL)
        {
          char id[65];
          if (cove_ctr_make_id (id, err) < 0
              || (ms->dir = cove_storage_container_dir_create (&b->paths, id,
                                                               err)) == NULL)
            return -1;
        }
      if (m->spec.type == COVE_BUILD_MOUNT_BIND)
        r = setup_bind (b, ms, i, err);
      else if (m->spec.type == COVE_BUILD_MOUNT_CACHE)
        r = setup_cache (b, ms, i, err);
      if (r < 0)
        return cove_error_wrap (err, "RUN --mount target=%s", m->target);
      cleanup_free char *arg = run_arg (m);
      cove_strv_append (&ms->args, "--mount");
      cove_strv_append (&ms->args, arg);
    }
  return 0;
}

/* ---- the layer, and the end ---- */

static bool
is_target (const struct build_mounts *ms, const char *path)
{
  for (size_t i = 0; i < ms->n; i++)
    if (strcmp (ms->v[i].target, path) == 0)
      return true;
  return false;
}

static bool
holds_target (const struct build_mounts *ms, const char *path)
{
  size_t n = strlen (path);
  for (size_t i = 0; i < ms->n; i++)
    if (strncmp (ms->v[i].target, path, n) == 0 && ms->v[i].target[n] == '/')
      return true;
  return false;
}

/* Whether PATH in the root VIEW holds nothing but the stubs of mount
   targets: empty files and directories made to mount on, and directories
   made to hold them.  */
static bool
stubs_only (const struct build_mounts *ms, int view, const char *path)
{
  int fd = cove_open_in_root (view, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK,
                              NULL);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      if (fd >= 0)
        close (fd);
      return false;
    }
  if (!S_ISDIR (st.st_mode))
    {
      close (fd);
      return S_ISREG (st.st_mode) && st.st_size == 0 && is_target (ms, path);
    }
  cleanup_dir DIR *d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return false;
    }
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      cleanup_free char *sub = xasprintf ("%s/%s", path, e->d_name);
      if (!(is_target (ms, sub) || holds_target (ms, sub))
          || !stubs_only (ms, view, sub))
        return false;
    }
  return true;
}

char **
build_mounts_skip (struct build *b, const struct cove_storage_image *si,
                   const struct build_mounts *ms, const char *ctr_id)
{
  char **skip = cove_strv_dup ((char *const *) cove_ctr_mount_targets);
  if (ms == NULL || ms->n == 0)
    return skip;
  for (size_t i = 0; i < ms->n; i++)
    cove_strv_append (&skip, ms->v[i].target);
  /* The directories made to hold a target (`/a` of `/a/b`), when the RUN
     put nothing else in them; the layer's walker skips only what the
     container added, so a directory of the image stays.  Without a view
     of the root they stay in the layer.  */
  cleanup_close int view = cove_storage_rootfs_view (b->s, si, ctr_id, NULL);
  for (size_t i = 0; view >= 0 && i < ms->n; i++)
    {
      cleanup_free char *up = xstrdup (ms->v[i].target);
      char *slash;
      while ((slash = strrchr (up, '/')) != NULL && slash != up)
        {
          *slash = '\0';
          bool listed = false;
          for (size_t k = 0; skip[k] && !listed; k++)
            listed = strcmp (skip[k], up) == 0;
          if (!listed && stubs_only (ms, view, up))
            cove_strv_append (&skip, up);
        }
    }
  return skip;
}

/* Returns false when a mount of M stays: its staging directory must
   then stay too.  */
static bool
clear_one (struct build *b, struct build_mount *m)
{
  bool gone = true;
  /* Detached before anything is removed (cove_rm_rf does not cross a
     mount point either): the context must never be in reach of it.  */
  if (m->mounted && umount2 (m->point, MNT_DETACH) < 0)
    gone = false;
  if (m->lower && umount2 (m->lower, MNT_DETACH) < 0 && errno != EINVAL)
    gone = false;
  if (m->root_id)
    (void) cove_storage_rootfs_unmount (b->s, m->root_id, NULL);
  if (m->root_dir)
    (void) cove_rm_rf (m->root_dir, NULL);
  if (m->lock >= 0)
    close (m->lock);
  free (m->target);
  free (m->from);
  free (m->cache_id);
  free (m->point);
  free (m->lower);
  free (m->root_id);
  free (m->root_dir);
  cove_build_mount_clear (&m->spec);
  return gone;
}

void
build_mounts_clear (struct build *b, struct build_mounts *ms)
{
  bool gone = true;
  for (size_t i = 0; i < ms->n; i++)
    gone = clear_one (b, &ms->v[i]) && gone;
  if (ms->dir != NULL && !gone)
    fprintf (stderr, "WARN: RUN --mount: `%s` is still mounted: left in "
             "place\n", ms->dir);
  else if (ms->dir != NULL)
    (void) cove_rm_rf (ms->dir, NULL);
  free (ms->dir);
  free (ms->v);
  cove_strv_free (ms->key);
  cove_strv_free (ms->args);
  memset (ms, 0, sizeof *ms);
}
