/* cove build: the steps that change files.  RUN runs its command in a
   container of the step's image, as `cove run` does (the same monitor,
   network and confinement), and its changes become the new layer.  COPY
   and ADD copy the context's files into a root filesystem of the build's
   own (the image's layers with an upper directory, mounted in the build's
   private mount namespace), whose upper directory becomes the new layer.

   The context is the user's; a Containerfile may come from anyone, so
   every source path is resolved inside the context (RESOLVE_IN_ROOT: no
   `..` or symlink leads out of it) and every destination inside the
   image's root.  */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cove/build.h"
#include "cmd/cove/commands.h"
#include "cmd/cove/cptree.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcreate.h"
#include "cmd/cove/ctrops.h"
#include "pkg/oci/oci.h"
#include "pkg/spec/spec.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

/* The image record of IMG (no layers: scratch).  */
static int
storage_image (struct build *b, const struct build_image *img,
               struct cove_storage_image *out, struct cove_error **err)
{
  memset (out, 0, sizeof *out);
  if (img->id == NULL)
    {
      out->layers = xmalloc0 (sizeof *out->layers);
      return 0;
    }
  return cove_storage_image_lookup (b->s, img->id, out, err);
}

/* ---- RUN ---- */

static void
remove_container (struct build *b, const char *name)
{
  struct cove_state_container c;
  if (cove_ctr_load (&b->st, name, &c, NULL) < 0)
    return;
  (void) cove_ctr_remove (&b->paths, &b->st, &c, true, true, NULL);
  cove_state_container_free (&c);
}

int
build_run (struct build *b, const struct build_image *img,
           const struct build_run_req *req, int *out_status,
           char **out_chain, char **out_diff_id, struct cove_error **err)
{
  *out_status = 125;
  if (img->id == NULL)
    return cove_error_set (err, ENOENT, "RUN needs an image: the stage is "
                           "still empty (FROM scratch)");
  char rnd[65];
  if (cove_ctr_make_id (rnd, err) < 0)
    return -1;
  cleanup_free char *name = xasprintf ("cove-build-%.12s", rnd);
  char **args = NULL;
  const char *fixed[] = { "run", "--name", name, "--pull", "never",
                          "--entrypoint", "", "--network",
                          b->o->network ? b->o->network : "slirp", NULL };
  for (size_t i = 0; fixed[i]; i++)
    cove_strv_append (&args, fixed[i]);
  for (size_t i = 0; req->env && req->env[i]; i++)
    {
      cove_strv_append (&args, "-e");
      cove_strv_append (&args, req->env[i]);
    }
  char *const *mount_args = req->mounts ? req->mounts->args : NULL;
  for (size_t i = 0; mount_args && mount_args[i]; i++)
    cove_strv_append (&args, mount_args[i]);
  cove_strv_append (&args, img->id);
  for (size_t i = 0; req->argv[i]; i++)
    cove_strv_append (&args, req->argv[i]);
  size_t argc = 0;
  while (args[argc])
    argc++;
  fflush (stdout);
  int status = cove_cmd_run ((int) argc, args);
  cove_strv_free (args);
  int r = -1;
  if (status != 0)
    {
      *out_status = status;
      cove_error_set_plain (err, EIO, "while running runtime: exit status %d",
                            status);
    }
  else
    {
      struct cove_state_container c;
      struct cove_storage_image si;
      struct cove_storage_commit layer;
      if (cove_ctr_load (&b->st, name, &c, err) == 0)
        {
          if (storage_image (b, img, &si, err) == 0)
            {
              cleanup_strv char **skip = build_mounts_skip (b, &si,
                                                            req->mounts, c.id);
              r = cove_storage_commit_layer (b->s, &si, c.id,
                                             (const char *const *) skip,
                                             &layer, err);
              cove_storage_image_free (&si);
            }
          cove_state_container_free (&c);
        }
      if (r == 0)
        {
          *out_chain = steal_pointer (&layer.chain_id);
          *out_diff_id = steal_pointer (&layer.diff_id);
          cove_storage_commit_free (&layer);
        }
    }
  remove_container (b, name);
  return r;
}

/* ---- COPY, ADD ---- */

struct copy_walk
{
  struct build *b;
  int src_root;                   /* the context, or a --from image's root */
  bool use_ignore;                /* the context's ignore file applies */
  struct cove_oci_hasher *h;      /* digest mode */
  const struct cove_cp_owner *owner;  /* copy mode */
  mode_t chmod;                   /* 0: keep */
  bool unpack;                    /* ADD: archives are unpacked */
  struct cove_cp_owner unpack_owner;  /* the archive's ids, or --chown's */
  const char *scratch;            /* where archives are unpacked first */
};

static bool
excluded (const struct copy_walk *w, const char *rel, bool dir)
{
  struct build *b = w->b;
  if (!w->use_ignore || b->ignore == NULL || rel[0] == '\0')
    return false;
  if (!cove_build_ignore_match (b->ignore, rel))
    return false;
  return !(dir && cove_build_ignore_may_reinclude (b->ignore, rel));
}

static void
hash_entry (struct copy_walk *w, int dfd, const char *name, const char *rel,
            const struct stat *st)
{
  char head[64];
  int n = snprintf (head, sizeof head, "%o %lld ", (unsigned) st->st_mode,
                    (long long) (S_ISREG (st->st_mode) ? st->st_size : 0));
  cove_oci_hasher_update (w->h, head, (size_t) n);
  cove_oci_hasher_update (w->h, rel, strlen (rel) + 1);
  if (S_ISLNK (st->st_mode))
    {
      char t[4096];
      ssize_t l = readlinkat (dfd, name, t, sizeof t);
      if (l > 0)
        cove_oci_hasher_update (w->h, t, (size_t) l);
    }
  else if (S_ISREG (st->st_mode))
    {
      cleanup_close int fd = openat (dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      char buf[65536];
      ssize_t l;
      while (fd >= 0 && (l = read (fd, buf, sizeof buf)) > 0)
        cove_oci_hasher_update (w->h, buf, (size_t) l);
    }
}

static int
by_name (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static int walk_dir (struct copy_walk *w, int sdir, int ddir, const char *rel,
                     struct cove_error **err);

/* One entry NAME of SDIR (REL in the context): hashed, or copied into
   DDIR.  */
static int
walk_entry (struct copy_walk *w, int sdir, int ddir, const char *name,
            const char *rel, struct cove_error **err)
{
  struct stat st;
  if (fstatat (sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return cove_error_set (err, errno, "stat `%s`", rel);
  if (excluded (w, rel, S_ISDIR (st.st_mode)))
    return 0;
  if (w->h)
    hash_entry (w, sdir, name, rel, &st);
  if (S_ISDIR (st.st_mode))
    {
      cleanup_close int sub = openat (sdir, name, O_RDONLY | O_DIRECTORY
                                      | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0)
        return cove_error_set (err, errno, "open `%s`", rel);
      cleanup_close int dsub = -1;
      if (w->owner)
        {
          if (mkdirat (ddir, name, st.st_mode & 07777) < 0 && errno != EEXIST)
            return cove_error_set (err, errno, "mkdir `%s`", rel);
          dsub = openat (ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (dsub < 0 || fchown (dsub, w->owner->uid, w->owner->gid) < 0)
            return cove_error_set (err, errno, "directory `%s`", rel);
        }
      return walk_dir (w, sub, dsub, rel, err);
    }
  if (w->owner == NULL)
    return 0;
  cleanup_close int src = openat (sdir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (src < 0)
    return cove_error_set (err, errno, "open `%s`", rel);
  if (cove_cp_entry (src, ddir, name, w->owner, err) < 0)
    return -1;
  if (w->chmod && !S_ISLNK (st.st_mode)
      && fchmodat (ddir, name, w->chmod, 0) < 0)
    return cove_error_set (err, errno, "chmod `%s`", rel);
  return 0;
}

static int
walk_dir (struct copy_walk *w, int sdir, int ddir, const char *rel,
          struct cove_error **err)
{
  /* A new open, not a dup: a dup shares SDIR's directory offset.  */
  int fd = openat (sdir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return cove_error_set (err, errno, "read `%s`", rel);
    }
  /* Sorted, so that the digest does not depend on the directory's order.  */
  char **names = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      {
        cove_strv_append (&names, e->d_name);
        n++;
      }
  closedir (d);
  if (n > 1)
    qsort (names, n, sizeof *names, by_name);
  int r = 0;
  for (size_t i = 0; r == 0 && i < n; i++)
    {
      cleanup_free char *sub = rel[0] ? xasprintf ("%s/%s", rel, names[i])
                                      : xstrdup (names[i]);
      r = walk_entry (w, sdir, ddir, names[i], sub, err);
    }
  cove_strv_free (names);
  return r;
}

/* SRC of the context, cleaned: no leading "./" or "/".  */
static const char *
clean_src (const char *src)
{
  while (src[0] == '/' || (src[0] == '.' && src[1] == '/'))
    src += src[0] == '/' ? 1 : 2;
  return src;
}

/* Walk each source: a directory's content, or the file itself.  DDIR is
   the destination directory; DEST_NAME the destination file's name when
   the single source is a file copied to a file path.  */
static int
walk_sources (struct copy_walk *w, const struct build_copy *c, int ddir,
              const char *dest_name, struct cove_error **err)
{
  for (size_t i = 0; c->srcs[i]; i++)
    {
      const char *rel = clean_src (c->srcs[i]);
      cleanup_close int src = rel[0] ? cove_open_in_root (w->src_root,
                                                          rel, O_PATH | O_NOFOLLOW, err)
                                     : dup (w->src_root);
      if (src < 0)
        return cove_error_wrap (err, "COPY: `%s` is not in the build context",
                                c->srcs[i]);
      struct stat st;
      if (fstat (src, &st) < 0)
        return cove_error_set (err, errno, "stat `%s`", rel);
      if (w->h)
        cove_oci_hasher_update (w->h, rel, strlen (rel) + 1);
      if (S_ISDIR (st.st_mode))
        {
          cleanup_close int dir = openat (src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          if (dir < 0 || walk_dir (w, dir, ddir, rel, err) < 0)
            return dir < 0 ? cove_error_set (err, errno, "open `%s`", rel) : -1;
          continue;
        }
      const char *base = strrchr (rel, '/') ? strrchr (rel, '/') + 1 : rel;
      cleanup_close int parent = -1;
      if (strchr (rel, '/'))
        {
          cleanup_free char *pd = xstrndup (rel, (size_t) (base - rel - 1));
          parent = cove_open_in_root (w->src_root, pd, O_RDONLY | O_DIRECTORY, err);
          if (parent < 0)
            return -1;
        }
      int sdir = parent >= 0 ? parent : w->src_root;
      if (w->h)
        {
          hash_entry (w, sdir, base, rel, &st);
          continue;
        }
      int u = w->unpack && S_ISREG (st.st_mode)
        ? build_add_unpack (sdir, base, ddir, &w->unpack_owner, w->scratch, err)
        : 0;
      if (u != 0)
        {
          if (u < 0)
            return cove_error_wrap (err, "ADD: unpack `%s`", rel);
          continue;
        }
      if (dest_name != NULL)
        {
          cleanup_close int s2 = openat (sdir, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
          if (s2 < 0 || cove_cp_entry (s2, ddir, dest_name, w->owner, err) < 0)
            return s2 < 0 ? cove_error_set (err, errno, "open `%s`", rel) : -1;
          if (w->chmod && fchmodat (ddir, dest_name, w->chmod, 0) < 0)
            return cove_error_set (err, errno, "chmod `%s`", dest_name);
        }
      else if (walk_entry (w, sdir, ddir, base, rel, err) < 0)
        return -1;
    }
  return 0;
}

/* Where a COPY's sources are: the context, or the root filesystem of
   its --from image, mounted read-only for the step.  */
struct source
{
  int fd;
  char **srcs;              /* the sources, wildcards expanded */
  char *id;                 /* the mount's container directory, or NULL */
  char *dir;
};

static void
source_close (struct build *b, struct source *src)
{
  if (src->fd >= 0)
    close (src->fd);
  if (src->id != NULL)
    (void) cove_storage_rootfs_unmount (b->s, src->id, NULL);
  if (src->dir != NULL)
    (void) cove_rm_rf (src->dir, NULL);
  cove_strv_free (src->srcs);
  free (src->id);
  free (src->dir);
}

/* The names of the directory DIR (in ROOT) that PATTERN matches, as
   docker's filepath.Match (dot files too), sorted, appended to *OUT.  */
static int
glob_in (int root, const char *dir, const char *pattern, char ***out,
         struct cove_error **err)
{
  /* Not a dup: that would share (and move) ROOT's directory offset.  */
  int fd = dir[0] ? cove_open_in_root (root, dir, O_RDONLY | O_DIRECTORY, err)
                  : openat (root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return err && *err ? -1 : cove_error_set (err, errno, "read `%s`", dir);
    }
  char **names = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0
        && fnmatch (pattern, e->d_name, 0) == 0)
      {
        cleanup_free char *p = dir[0] ? xasprintf ("%s/%s", dir, e->d_name)
                                      : xstrdup (e->d_name);
        cove_strv_append (&names, p);
        n++;
      }
  closedir (d);
  if (n > 1)
    qsort (names, n, sizeof *names, by_name);
  for (size_t i = 0; i < n; i++)
    cove_strv_append (out, names[i]);
  cove_strv_free (names);
  return 0;
}

/* C's sources with wildcards (in the last path element) expanded.  */
static char **
expand_sources (int root, const struct build_copy *c, struct cove_error **err)
{
  char **out = xmalloc0 (sizeof *out);
  for (size_t i = 0; c->srcs[i]; i++)
    {
      const char *rel = clean_src (c->srcs[i]);
      const char *slash = strrchr (rel, '/');
      if (strpbrk (rel, "*?[") == NULL)
        {
          cove_strv_append (&out, rel);
          continue;
        }
      cleanup_free char *dir = xstrndup (rel, slash ? (size_t) (slash - rel) : 0);
      size_t before = cove_strv_len (out);
      if (strpbrk (dir, "*?[") != NULL)
        cove_error_set (err, ENOTSUP, "COPY: wildcards in directory names "
                        "(`%s`) are not supported yet", c->srcs[i]);
      else if (glob_in (root, dir, slash ? slash + 1 : rel, &out, err) == 0
               && cove_strv_len (out) == before)
        cove_error_set (err, ENOENT, "COPY: no source files were specified "
                        "by `%s`", c->srcs[i]);
      if (err && *err)
        {
          cove_strv_free (out);
          return NULL;
        }
    }
  return out;
}

static int
source_open (struct build *b, const struct build_copy *c, struct source *out,
             struct cove_error **err)
{
  *out = (struct source) { .fd = -1 };
  if (c->from_image == NULL)
    {
      out->fd = dup (b->context_fd);
      if (out->fd < 0)
        return cove_error_set (err, errno, "dup");
      out->srcs = expand_sources (out->fd, c, err);
      if (out->srcs == NULL)
        {
          source_close (b, out);
          return -1;
        }
      return 0;
    }
  struct cove_storage_image si;
  if (cove_storage_image_lookup (b->s, c->from_image, &si, err) < 0)
    return -1;
  char id[65];
  if (cove_ctr_make_id (id, err) < 0)
    {
      cove_storage_image_free (&si);
      return -1;
    }
  out->id = xstrdup (id);
  out->dir = cove_storage_container_dir_create (&b->paths, out->id, err);
  cleanup_free char *root = NULL;
  int r = out->dir == NULL ? -1
    : cove_storage_rootfs_mount (b->s, &si, out->id, si.layers[0]
                                 ? COVE_STORAGE_AUTO : COVE_STORAGE_VFS,
                                 &root, err);
  cove_storage_image_free (&si);
  if (r == 0 && (out->fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    r = cove_error_set (err, errno, "open `%s`", root);
  if (r == 0 && (out->srcs = expand_sources (out->fd, c, err)) == NULL)
    r = -1;
  if (r < 0)
    source_close (b, out);
  return r;
}

int
build_copy_digest (struct build *b, const struct build_copy *c,
                   char **out_digest, struct cove_error **err)
{
  struct source src;
  if (source_open (b, c, &src, err) < 0)
    return -1;
  struct copy_walk w = { .b = b, .h = cove_oci_hasher_new (),
                         .src_root = src.fd,
                         .use_ignore = c->from_image == NULL };
  struct build_copy cx = *c;
  cx.srcs = src.srcs;
  int r = walk_sources (&w, &cx, -1, NULL, err);
  source_close (b, &src);
  char *d = cove_oci_hasher_finish (w.h);
  if (r < 0)
    {
      free (d);
      return -1;
    }
  *out_digest = d;
  return 0;
}

/* Make the directory PATH (absolute in the root) and its missing parents
   inside ROOTFD (0755, owned by OWNER like docker's); returns its fd.  */
static int
mkdir_in_root (int rootfd, const char *path, const struct cove_cp_owner *o,
               struct cove_error **err)
{
  size_t len = strlen (path);
  for (size_t i = 0; i <= len; i++)
    {
      if (i < len && path[i] != '/')
        continue;
      if (i == 0)
        continue;
      /* Each prefix is resolved inside the root: an image's symlink on
         the way stays in it.  */
      cleanup_free char *prefix = xstrndup (path, i);
      char *slash = strrchr (prefix, '/');
      const char *part = slash ? slash + 1 : prefix;
      if (*part == '\0' || strcmp (part, ".") == 0)
        continue;
      if (strcmp (part, "..") == 0)
        return cove_error_set (err, EINVAL, "destination `%s`: `..`", path);
      cleanup_free char *pdir = xstrndup (prefix, slash ? (size_t) (slash - prefix) : 0);
      cleanup_close int parent = pdir[0]
        ? cove_open_in_root (rootfd, pdir, O_RDONLY | O_DIRECTORY, err)
        : dup (rootfd);
      if (parent < 0)
        return -1;
      if (mkdirat (parent, part, 0755) == 0)
        (void) fchownat (parent, part, o->uid, o->gid, AT_SYMLINK_NOFOLLOW);
      else if (errno != EEXIST)
        return cove_error_set (err, errno, "mkdir `%s`", prefix);
    }
  return len <= 1 ? dup (rootfd)
                  : cove_open_in_root (rootfd, path, O_RDONLY | O_DIRECTORY, err);
}

static int
copy_from (struct build *b, const struct build_image *img,
           const struct build_copy *c, int src_root, const char *root,
           const char *scratch, struct cove_error **err);

/* Where the sources go: *OUT_DIR the destination directory (made), and
   *OUT_NAME the file name when one file is copied to a file path.  */
static int
open_dest (const struct copy_walk *w, const struct build_image *img,
           const struct build_copy *c, int rootfd,
           const struct cove_cp_owner *o, char **out_name,
           struct cove_error **err)
{
  json_t *cfg = json_object_get (img->doc, "config");
  const char *wd = json_string_value (json_object_get (cfg, "WorkingDir"));
  cleanup_free char *dest = c->dest[0] == '/' ? xstrdup (c->dest)
    : xasprintf ("%s/%s", wd && *wd ? wd : "", c->dest);
  size_t n = strlen (dest);
  bool to_dir = dest[n - 1] == '/' || cove_strv_len (c->srcs) + c->n_files != 1;
  if (!to_dir && c->srcs[0] != NULL)
    {
      /* One source: a directory's content goes into DEST, and so does an
         archive that ADD unpacks.  */
      const char *rel = clean_src (c->srcs[0]);
      struct stat st;
      cleanup_close int src = rel[0] ? cove_open_in_root (w->src_root, rel,
                                                          O_PATH | O_NOFOLLOW, NULL)
                                     : dup (w->src_root);
      to_dir = src >= 0 && fstat (src, &st) == 0
               && (S_ISDIR (st.st_mode)
                   || (w->unpack && build_add_is_archive (src)));
    }
  *out_name = NULL;
  if (to_dir)
    return mkdir_in_root (rootfd, dest, o, err);
  char *slash = strrchr (dest, '/');
  *out_name = xstrdup (slash + 1);
  *slash = '\0';
  return mkdir_in_root (rootfd, dest[0] ? dest : "/", o, err);
}

/* Copy into the mounted root ROOT.  */
static int
copy_into (struct build *b, const struct build_image *img,
           const struct build_copy *c, const char *root, const char *scratch,
           struct cove_error **err)
{
  struct source src;
  if (source_open (b, c, &src, err) < 0)
    return -1;
  struct build_copy cx = *c;
  cx.srcs = src.srcs;
  int r = copy_from (b, img, &cx, src.fd, root, scratch, err);
  source_close (b, &src);
  return r;
}

static int
copy_from (struct build *b, const struct build_image *img,
           const struct build_copy *c, int src_root, const char *root,
           const char *scratch, struct cove_error **err)
{
  cleanup_close int rootfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return cove_error_set (err, errno, "open `%s`", root);
  struct cove_cp_owner o = { .keep = false };
  if (c->chown != NULL)
    {
      struct cove_spec_user u;
      if (cove_spec_user_resolve (rootfd, c->chown, NULL, &u, err) < 0)
        return cove_error_wrap (err, "--chown=%s", c->chown);
      o.uid = u.uid;
      o.gid = u.gid;
      cove_spec_user_free (&u);
    }
  struct copy_walk w = { .b = b, .owner = &o, .src_root = src_root,
                         .use_ignore = c->from_image == NULL,
                         .unpack = c->unpack, .scratch = scratch,
                         .unpack_owner = { .keep = c->chown == NULL,
                                           .uid = o.uid, .gid = o.gid } };
  if (c->chmod != NULL)
    {
      char *end;
      unsigned long m = strtoul (c->chmod, &end, 8);
      if (*end != '\0' || end == c->chmod || m > 07777)
        return cove_error_set (err, EINVAL, "--chmod=%s: not an octal mode",
                               c->chmod);
      w.chmod = (mode_t) m;
    }
  cleanup_free char *name = NULL;
  cleanup_close int ddir = open_dest (&w, img, c, rootfd, &o, &name, err);
  if (ddir < 0 || walk_sources (&w, c, ddir, name, err) < 0)
    return -1;
  for (size_t i = 0; i < c->n_files; i++)
    if (build_add_put (ddir, name ? name : c->files[i].name, &c->files[i],
                       &o, w.chmod, err) < 0)
      return -1;
  return 0;
}

int
build_copy (struct build *b, const struct build_image *img,
            const struct build_copy *c, char **out_chain, char **out_diff_id,
            struct cove_error **err)
{
  struct cove_storage_image si;
  if (storage_image (b, img, &si, err) < 0)
    return -1;
  char id[65];
  if (cove_ctr_make_id (id, err) < 0)
    {
      cove_storage_image_free (&si);
      return -1;
    }
  cleanup_free char *dir = cove_storage_container_dir_create (&b->paths, id, err);
  int r = -1;
  cleanup_free char *root = NULL;
  /* Overlay needs a lower layer: an empty stage is a plain directory.  */
  if (dir != NULL
      && cove_storage_rootfs_mount (b->s, &si, id, si.layers[0]
                                    ? COVE_STORAGE_AUTO : COVE_STORAGE_VFS,
                                    &root, err) == 0)
    {
      r = copy_into (b, img, c, root, dir, err);
      (void) cove_storage_rootfs_unmount (b->s, id, NULL);
    }
  struct cove_storage_commit layer;
  if (r == 0)
    r = cove_storage_commit_layer (b->s, &si, id, NULL, &layer, err);
  if (r == 0)
    {
      *out_chain = steal_pointer (&layer.chain_id);
      *out_diff_id = steal_pointer (&layer.diff_id);
      cove_storage_commit_free (&layer);
    }
  if (dir != NULL)
    (void) cove_rm_rf (dir, NULL);
  cove_storage_image_free (&si);
  return r;
}
