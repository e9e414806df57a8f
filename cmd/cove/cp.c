/* cove cp: copy files between a container and the host, as podman and
   docker do.  `CONTAINER:PATH` names a path in the container, resolved in
   its root (openat2 RESOLVE_IN_ROOT): the container's symlinks, which it
   controls, never lead out of it.  Plain copies run in the light binary;
   `-` (a tar stream on stdin or stdout) needs libarchive and runs in
   cove-full.  */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/cptree.h"
#include "cmd/cove/ctrroot.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "cmd/cove/store.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#ifndef COVE_LIGHT
#include "cmd/cove/cpstream.h"
#endif

enum { OPT_HELP = 1, OPT_ARCHIVE, OPT_FOLLOW, OPT_OVERWRITE, OPT_QUIET };

static const struct cove_opt cp_opts[] = {
  { "archive", 'a', COVE_OPT_BOOL, OPT_ARCHIVE, NULL, "Archive mode: keep the uid/gid of the copied files" },
  { "follow-link", 'L', COVE_OPT_BOOL, OPT_FOLLOW, NULL, "Always follow symbolic link in SRC_PATH" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for cp" },
  { "overwrite", 0, COVE_OPT_BOOL, OPT_OVERWRITE, NULL, "Allow to overwrite directories with non-directories and vice versa" },
  { "quiet", 'q', COVE_OPT_BOOL, OPT_QUIET, NULL, "Suppress copy progress output" },
  { NULL, 0, 0, 0, NULL, NULL },
};

struct cp_request
{
  bool archive, follow;
  const char *ctr;          /* the container's name or id */
  const char *src, *dst;    /* paths; "-" a tar stream */
  bool to_container;
};

/* "CONTAINER:PATH"?  A host path with a colon is written with a `/` or
   `.` before it ("./a:b"), as in podman.  */
static bool
split_arg (const char *arg, char **out_ctr, const char **out_path)
{
  const char *colon = strchr (arg, ':');
  if (colon == NULL || colon == arg || arg[0] == '/' || arg[0] == '.'
      || memchr (arg, '/', colon - arg) != NULL)
    return false;
  *out_ctr = xstrndup (arg, colon - arg);
  *out_path = colon[1] ? colon + 1 : "/";
  return true;
}

static bool
ends_with (const char *s, const char *suffix)
{
  size_t a = strlen (s), b = strlen (suffix);
  return a >= b && strcmp (s + a - b, suffix) == 0;
}

/* The last component of PATH without trailing slashes ("." for "/").  */
static char *
base_of (const char *path)
{
  cleanup_free char *p = xstrdup (path);
  size_t n = strlen (p);
  while (n > 1 && p[n - 1] == '/')
    p[--n] = '\0';
  return xstrdup (basename (p));
}

static char *
dir_of (const char *path)
{
  cleanup_free char *p = xstrdup (path);
  return xstrdup (dirname (p));
}

/* Open PATH with FLAGS on the host (ROOT -1) or in the container's root
   ROOT.  */
static int
open_at (int root, const char *path, int flags, struct cove_error **err)
{
  if (root >= 0)
    return cove_open_in_root (root, path, flags, err);
  int fd = open (path, flags | O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno, "open `%s`", path);
  return fd;
}

/* Podman's words for a path that is not there.  */
static int
not_found (const char *path, const char *where, struct cove_error **err)
{
  return cove_error_set (err, ENOENT, "\"%s\" could not be found on %s",
                         path, where);
}

/* Copy the entry SRC (an O_PATH fd) of path SRC_PATH to DST_PATH below
   DROOT (-1: the host), by docker's rules: into an existing directory
   under its own name (its content only when SRC_PATH ends in `/.`), over
   an existing file, or as DST_PATH when that does not exist yet.  */
static int
copy_to (int src, const char *src_path, int droot, const char *dst_path,
         const char *where, const struct cove_cp_owner *o,
         struct cove_error **err)
{
  struct stat st, dt;
  if (fstat (src, &st) < 0)
    return cove_error_set (err, errno, "stat `%s`", src_path);
  bool contents = ends_with (src_path, "/.") || strcmp (src_path, ".") == 0;
  cleanup_free char *base = base_of (src_path);
  cleanup_error struct cove_error *local = NULL;
  cleanup_close int t = open_at (droot, dst_path, O_PATH, &local);
  if (t >= 0 && fstat (t, &dt) == 0 && S_ISDIR (dt.st_mode))
    {
      cleanup_close int d = cove_cp_reopen (t, O_RDONLY | O_DIRECTORY, err);
      if (d < 0)
        return -1;
      if (S_ISDIR (st.st_mode) && (contents || strcmp (base, "/") == 0))
        return cove_cp_children (src, d, o, err);
      return cove_cp_entry (src, d, base, o, err);
    }
  if (t < 0 && local->errnum != ENOENT)
    return cove_error_set (err, local->errnum, "%s", local->msg);
  if (t >= 0 && S_ISDIR (st.st_mode))
    return cove_error_set (err, ENOTDIR, "destination \"%s\" is not a "
                           "directory", dst_path);
  if (t < 0 && ends_with (dst_path, "/"))
    return not_found (dst_path, where, err);
  cleanup_free char *parent = dir_of (dst_path);
  cleanup_free char *name = base_of (dst_path);
  cove_error_release (&local);
  cleanup_close int p = open_at (droot, parent, O_RDONLY | O_DIRECTORY, &local);
  if (p < 0)
    return local->errnum == ENOENT ? not_found (parent, where, err)
      : cove_error_set (err, local->errnum, "%s", local->msg);
  return cove_cp_entry (src, p, name, o, err);
}

/* The source's O_PATH fd: the entry itself (a symlink stays one) unless
   -L.  */
static int
open_src (const struct cp_request *r, int root, const char *where,
          struct cove_error **err)
{
  int flags = O_PATH | (r->follow ? 0 : O_NOFOLLOW);
  cleanup_error struct cove_error *local = NULL;
  int fd = open_at (root, r->src, flags, &local);
  if (fd < 0)
    return local->errnum == ENOENT ? not_found (r->src, where, err)
      : cove_error_set (err, local->errnum, "%s", local->msg);
  struct stat st;
  if (ends_with (r->src, "/") && fstat (fd, &st) == 0 && !S_ISDIR (st.st_mode))
    {
      close (fd);
      return cove_error_set (err, ENOTDIR, "\"%s\" is not a directory", r->src);
    }
  return fd;
}

#ifndef COVE_LIGHT
static int
stream (const struct cp_request *r, struct cove_ctr_root *root,
        const struct cove_cp_owner *o, struct cove_error **err)
{
  cleanup_free char *stage = cove_ctr_dir (&root->paths, root->c.id);
  if (!r->to_container)
    {
      cleanup_free char *where = xasprintf ("container %s", r->ctr);
      cleanup_close int src = open_src (r, root->fd, where, err);
      if (src < 0)
        return -1;
      cleanup_free char *base = base_of (r->src);
      bool contents = ends_with (r->src, "/.") || strcmp (base, "/") == 0;
      return cove_cp_tar_out (src, base, contents, stage, STDOUT_FILENO, err);
    }
  cleanup_close int d = cove_open_in_root (root->fd, r->dst, O_RDONLY | O_DIRECTORY, err);
  if (d < 0)
    return cove_error_wrap (err, "destination must be a directory in "
                            "container %s", r->ctr);
  return cove_cp_tar_in (STDIN_FILENO, d, o, stage, err);
}
#endif

static int
copy_in_root (const struct cp_request *r, struct cove_ctr_root *root,
              struct cove_error **err)
{
  /* In: owned by the container's root (uid 0 here), as docker does,
     unless -a.  Out: by the user (uid 0 here) unless -a.  */
  struct cove_cp_owner o = { .keep = r->archive, .uid = 0, .gid = 0 };
  if (strcmp (r->src, "-") == 0 || strcmp (r->dst, "-") == 0)
    {
#ifndef COVE_LIGHT
      return stream (r, root, &o, err);
#else
      return cove_error_set (err, ENOTSUP, "tar streams need cove-full");
#endif
    }
  cleanup_free char *where = xasprintf ("container %s", r->ctr);
  if (r->to_container)
    {
      cleanup_close int src = open_src (r, -1, "the host", err);
      if (src < 0)
        return -1;
      return copy_to (src, r->src, root->fd, r->dst, where, &o, err);
    }
  cleanup_close int src = open_src (r, root->fd, where, err);
  if (src < 0)
    return -1;
  return copy_to (src, r->src, -1, r->dst, "the host", &o, err);
}

static int
do_copy (const struct cp_request *r, struct cove_error **err)
{
  struct cove_ctr_root root;
  enum cove_ctr_root_mode mode = r->to_container ? COVE_CTR_ROOT_WRITE
    : COVE_CTR_ROOT_READ;
  int ret = cove_ctr_root_open (r->ctr, mode, &root, err);
  if (ret == 0)
    ret = copy_in_root (r, &root, err);
  cove_ctr_root_close (&root);
  return ret;
}

#ifdef COVE_LIGHT
/* `-` needs libarchive: the light binary hands the command to cove-full.  */
static int
exec_full (int argc, char **argv)
{
  char **v = xmalloc0 ((argc + 2) * sizeof *v);
  v[0] = cove_cmd_full_binary ();
  for (int i = 0; i < argc; i++)
    v[i + 1] = argv[i];
  execv (v[0], v);
  int e = errno;
  fprintf (stderr, "Error: run `%s`: %s\n", v[0], strerror (e));
  free (v[0]);
  free (v);
  return e == ENOENT ? 127 : 126;
}
#endif

static int
run_request (struct cp_request *r, char **rest, int argc, char **argv)
{
  cleanup_free char *c1 = NULL;
  cleanup_free char *c2 = NULL;
  const char *p1 = rest[0], *p2 = rest[1];
  bool k1 = split_arg (rest[0], &c1, &p1), k2 = split_arg (rest[1], &c2, &p2);
  if (k1 && k2)
    return cove_cmd_usage_error ("copying between containers is not supported");
  if (!k1 && !k2)
    return cove_cmd_usage_error ("invalid arguments %s, %s you must use just "
                                 "one container", rest[0], rest[1]);
  if (strcmp (rest[0], "-") == 0 && strcmp (rest[1], "-") == 0)
    return cove_cmd_usage_error ("invalid arguments: `-` on both sides");
  r->to_container = k2;
  r->ctr = k1 ? c1 : c2;
  r->src = p1;
  r->dst = p2;
  bool streaming = strcmp (r->src, "-") == 0 || strcmp (r->dst, "-") == 0;
#ifdef COVE_LIGHT
  if (streaming)
    return exec_full (argc, argv);
#else
  (void) argc, (void) argv;
#endif
  if (streaming && !r->to_container && isatty (STDOUT_FILENO))
    return cove_cmd_usage_error ("refusing to write a tar stream to a "
                                 "terminal; redirect the output");
  cleanup_error struct cove_error *err = NULL;
  if (do_copy (r, &err) < 0)
    return cove_cmd_fail (&err, 125);
  return 0;
}

int
cove_cmd_cp (int argc, char **argv)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, cp_opts, argc, argv, true);
  struct cp_request r = { 0 };
  const char *v;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    {
      bool on = strcmp (v, "true") == 0;
      if (id == OPT_HELP)
        {
          cove_opts_print_help (stdout, "cove cp [options] [CONTAINER:]SRC_PATH "
                                "[CONTAINER:]DEST_PATH",
                                "Copy files/folders between a container and "
                                "the local filesystem", cp_opts);
          cove_opts_free (&p);
          return 0;
        }
      if (id == OPT_ARCHIVE)
        r.archive = on;
      else if (id == OPT_FOLLOW)
        r.follow = on;
    }
  int n;
  cleanup_free char **rest = cove_opts_rest (&p, &n);
  int ret;
  if (id < 0)
    ret = cove_cmd_fail (&err, 125);
  else if (n != 2)
    ret = cove_cmd_usage_error ("accepts 2 arg(s), received %d", n);
  else
    ret = run_request (&r, rest, argc, argv);
  cove_opts_free (&p);
  return ret;
}
