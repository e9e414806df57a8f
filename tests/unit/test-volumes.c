/* Unit tests of volumes: the records of storage/ (volumes section), the
   copy-up, the run-time side of cmd/cove/runvolumes.c (-v, --mount,
   --volumes-from, image VOLUMEs, rm -v) and --init in pkg/spec.  Run as
   any user: the copy-up chowns only to the owner the files already
   have.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cove/ctr.h"
#include "cmd/cove/runvolumes.h"
#include "pkg/spec/spec.h"
#include "pkg/state/state.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "storage/storage.h"

static char tmp[64];
static struct cove_storage_paths paths;

static int
setup (void **state)
{
  (void) state;
  snprintf (tmp, sizeof tmp, "/tmp/cove-volumes-XXXXXX");
  if (mkdtemp (tmp) == NULL)
    return -1;
  cleanup_free char *data = xasprintf ("%s/data", tmp);
  setenv ("XDG_DATA_HOME", data, 1);
  return cove_storage_paths_init (&paths, NULL);
}

static int
teardown (void **state)
{
  (void) state;
  cove_storage_paths_free (&paths);
  return cove_rm_rf (tmp, NULL);
}

static void
write_file (const char *path, const char *text)
{
  assert_int_equal (cove_file_write_atomic (path, text, strlen (text), 0644,
                                            0, NULL), 0);
}

/* How many entries volumes/ holds (staging dirs included).  */
static size_t
count_entries (void)
{
  cleanup_free char *dir = xasprintf ("%s/volumes", paths.data_dir);
  DIR *d = opendir (dir);
  size_t n = 0;
  struct dirent *e;
  while (d && (e = readdir (d)))
    if (strcmp (e->d_name, ".") && strcmp (e->d_name, ".."))
      n++;
  if (d)
    closedir (d);
  return n;
}

/* ---- records ---- */

static void
test_create_load (void **state)
{
  (void) state;
  char *labels[] = { (char *) "a=b", (char *) "bare", NULL };
  struct cove_storage_volume v;
  assert_int_equal (cove_storage_volume_create (&paths, "v1", labels, false,
                                                &v, NULL), 0);
  assert_string_equal (v.name, "v1");
  cleanup_free char *mp = xasprintf ("%s/volumes/v1/_data", paths.data_dir);
  assert_string_equal (v.mountpoint, mp);
  assert_true (v.needs_copy_up);
  assert_false (v.anonymous);
  cove_storage_volume_free (&v);
  struct stat st;
  assert_int_equal (stat (mp, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0755);

  assert_int_equal (cove_storage_volume_load (&paths, "v1", &v, NULL), 0);
  assert_string_equal (json_string_value (json_object_get (v.labels, "a")), "b");
  assert_string_equal (json_string_value (json_object_get (v.labels, "bare")), "");
  assert_non_null (strchr (v.created_at, 'T'));
  cove_storage_volume_free (&v);
}

static void
test_create_fails (void **state)
{
  (void) state;
  cleanup_error struct cove_error *err = NULL;
  assert_int_equal (cove_storage_volume_create (&paths, "dup", NULL, false,
                                                NULL, NULL), 0);
  assert_int_equal (cove_storage_volume_create (&paths, "dup", NULL, false,
                                                NULL, &err), -1);
  assert_int_equal (err->errnum, EEXIST);
  assert_string_equal (err->msg, "volume with name dup already exists: "
                       "volume already exists");
  cove_error_release (&err);
  const char *bad[] = { "a/b", "..", ".x", "-x", "", "a b" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      assert_int_equal (cove_storage_volume_create (&paths, bad[i], NULL,
                                                    false, NULL, &err), -1);
      assert_int_equal (err->errnum, EINVAL);
      cove_error_release (&err);
    }
  char *labels[] = { (char *) "=x", NULL };
  assert_int_equal (cove_storage_volume_create (&paths, "lab", labels, false,
                                                NULL, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  /* Nothing left behind: only "dup".  */
  assert_int_equal (count_entries (), 1);
}

static void
test_anonymous_name (void **state)
{
  (void) state;
  struct cove_storage_volume v;
  assert_int_equal (cove_storage_volume_create (&paths, NULL, NULL, true, &v,
                                                NULL), 0);
  assert_int_equal (strlen (v.name), 64);
  assert_int_equal (strspn (v.name, "0123456789abcdef"), 64);
  assert_true (v.anonymous);
  cove_storage_volume_free (&v);
}

static void
test_load_missing (void **state)
{
  (void) state;
  cleanup_error struct cove_error *err = NULL;
  struct cove_storage_volume v;
  assert_int_equal (cove_storage_volume_load (&paths, "nope", &v, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  assert_string_equal (err->msg, "no volume with name \"nope\" found: "
                       "no such volume");
  cove_error_release (&err);
  assert_int_equal (cove_storage_volume_load (&paths, "../x", &v, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
}

static void
test_list_skips_corrupt (void **state)
{
  (void) state;
  assert_int_equal (cove_storage_volume_create (&paths, "b", NULL, false, NULL, NULL), 0);
  assert_int_equal (cove_storage_volume_create (&paths, "a", NULL, false, NULL, NULL), 0);
  assert_int_equal (cove_storage_volume_create (&paths, "c", NULL, false, NULL, NULL), 0);
  cleanup_free char *rec = xasprintf ("%s/volumes/c/volume.json", paths.data_dir);
  write_file (rec, "{\"Name\": ");
  struct cove_storage_volume *v;
  size_t n;
  char **warnings;
  assert_int_equal (cove_storage_volume_list (&paths, &v, &n, &warnings, NULL), 0);
  assert_int_equal (n, 2);
  assert_string_equal (v[0].name, "a");
  assert_string_equal (v[1].name, "b");
  assert_non_null (warnings[0]);
  assert_non_null (strstr (warnings[0], "volumes/c/volume.json"));
  assert_null (warnings[1]);
  cove_strv_free (warnings);
  cove_storage_volume_list_free (v, n);
}

static void
test_list_empty (void **state)
{
  (void) state;
  struct cove_storage_volume *v;
  size_t n;
  assert_int_equal (cove_storage_volume_list (&paths, &v, &n, NULL, NULL), 0);
  assert_int_equal (n, 0);
  cove_storage_volume_list_free (v, n);
}

static void
test_remove (void **state)
{
  (void) state;
  cleanup_error struct cove_error *err = NULL;
  assert_int_equal (cove_storage_volume_create (&paths, "gone", NULL, false, NULL, NULL), 0);
  cleanup_free char *f = xasprintf ("%s/volumes/gone/_data/file", paths.data_dir);
  write_file (f, "data");
  assert_int_equal (cove_storage_volume_remove (&paths, "gone", NULL), 0);
  assert_int_equal (count_entries (), 0);
  assert_int_equal (cove_storage_volume_remove (&paths, "gone", &err), -1);
  assert_int_equal (err->errnum, ENOENT);
}

/* Run FN (NAME) in N processes at once; returns how many exited 0.  */
static int
race (int n, int (*fn) (const char *), const char *name)
{
  pid_t pids[16];
  for (int i = 0; i < n; i++)
    {
      pids[i] = fork ();
      assert_true (pids[i] >= 0);
      if (pids[i] == 0)
        _exit (fn (name) == 0 ? 0 : 1);
    }
  int ok = 0;
  for (int i = 0; i < n; i++)
    {
      int st;
      assert_int_equal (waitpid (pids[i], &st, 0), pids[i]);
      ok += WIFEXITED (st) && WEXITSTATUS (st) == 0;
    }
  return ok;
}

static int
create_named (const char *name)
{
  return cove_storage_volume_create (&paths, name, NULL, false, NULL, NULL);
}

static int
remove_named (const char *name)
{
  return cove_storage_volume_remove (&paths, name, NULL);
}

static void
test_races (void **state)
{
  (void) state;
  /* Of concurrent creates and removes of one name, exactly one wins, and
     nothing is left behind.  */
  assert_int_equal (race (12, create_named, "contested"), 1);
  assert_int_equal (count_entries (), 1);
  assert_int_equal (race (12, remove_named, "contested"), 1);
  assert_int_equal (count_entries (), 0);
}

/* ---- copy-up ---- */

/* ROOT/etc/passwd, ROOT/data/{file,sub/inner,link -> /etc/passwd},
   ROOT/esc -> ../../.. (a symlink that tries to leave the rootfs).  */
static char *
make_rootfs (void)
{
  char *root = xasprintf ("%s/rootfs", tmp);
  cleanup_free char *sub = xasprintf ("%s/data/sub", root);
  cleanup_free char *etc = xasprintf ("%s/etc", root);
  assert_int_equal (cove_mkdir_p (sub, 0755, NULL), 0);
  assert_int_equal (cove_mkdir_p (etc, 0755, NULL), 0);
  cleanup_free char *passwd = xasprintf ("%s/passwd", etc);
  write_file (passwd, "root:x:0:0:root:/root:/bin/sh\n");
  cleanup_free char *file = xasprintf ("%s/data/file", root);
  write_file (file, "hello");
  assert_int_equal (chmod (file, 0640), 0);
  cleanup_free char *inner = xasprintf ("%s/inner", sub);
  write_file (inner, "inner");
  cleanup_free char *link = xasprintf ("%s/data/link", root);
  assert_int_equal (symlink ("/etc/passwd", link), 0);
  cleanup_free char *data = xasprintf ("%s/data", root);
  assert_int_equal (chmod (data, 0750), 0);
  cleanup_free char *esc = xasprintf ("%s/esc", root);
  assert_int_equal (symlink ("../../..", esc), 0);
  return root;
}

/* A new volume NAME with the copy-up of PATH in a new make_rootfs (),
   whose FILE must then hold WANT; returns the volume's _data (caller
   frees), and the rootfs in *OUT_ROOT unless that is NULL.  */
static char *
copied_up (const char *name, const char *path, const char *file,
           const char *want, char **out_root)
{
  cleanup_free char *root = make_rootfs ();
  assert_int_equal (cove_storage_volume_create (&paths, name, NULL, false, NULL, NULL), 0);
  assert_int_equal (cove_storage_volume_copy_up (&paths, name, root, path, NULL), 0);
  char *d = xasprintf ("%s/volumes/%s/_data", paths.data_dir, name);
  cleanup_free char *f = xasprintf ("%s/%s", d, file);
  cleanup_free char *text = cove_file_read_at (AT_FDCWD, f, 4096, NULL, NULL);
  assert_string_equal (text, want);
  if (out_root)
    *out_root = steal_pointer (&root);
  return d;
}

static void
test_copy_up (void **state)
{
  (void) state;
  cleanup_free char *root = NULL;
  cleanup_free char *d = copied_up ("cu", "/data", "file", "hello", &root);
  cleanup_free char *file = xasprintf ("%s/file", d);
  struct stat st;
  assert_int_equal (stat (file, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0640);
  assert_int_equal (stat (d, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0750);
  cleanup_free char *inner = xasprintf ("%s/sub/inner", d);
  assert_int_equal (access (inner, F_OK), 0);
  cleanup_free char *link = xasprintf ("%s/link", d);
  char target[64] = { 0 };
  assert_int_equal (readlink (link, target, sizeof target - 1), 11);
  assert_string_equal (target, "/etc/passwd");
  struct cove_storage_volume v;
  assert_int_equal (cove_storage_volume_load (&paths, "cu", &v, NULL), 0);
  assert_false (v.needs_copy_up);
  cove_storage_volume_free (&v);
  /* Done once: a later use copies nothing.  */
  assert_int_equal (unlink (file), 0);
  assert_int_equal (cove_storage_volume_copy_up (&paths, "cu", root, "/data", NULL), 0);
  assert_int_equal (access (file, F_OK), -1);
  /* A missing path copies nothing and is no error.  */
  assert_int_equal (cove_storage_volume_create (&paths, "none", NULL, false, NULL, NULL), 0);
  assert_int_equal (cove_storage_volume_copy_up (&paths, "none", root, "/nope", NULL), 0);
  cleanup_error struct cove_error *err = NULL;
  assert_int_equal (cove_storage_volume_copy_up (&paths, "missing", root, "/data", &err), -1);
  assert_int_equal (err->errnum, ENOENT);
}

static void
test_copy_up_stays_in_root (void **state)
{
  (void) state;
  /* /esc/etc resolves inside the rootfs: its etc, not the host's.  */
  cleanup_free char *d = copied_up ("esc", "/esc/etc", "passwd",
                                    "root:x:0:0:root:/root:/bin/sh\n", NULL);
  cleanup_free char *host = xasprintf ("%s/hostname", d);
  assert_int_equal (access (host, F_OK), -1);
}

/* The entry copies shared with the vfs driver and cove cp.  */
static void
test_copy_entries (void **state)
{
  (void) state;
  cleanup_free char *src = xasprintf ("%s/src", tmp);
  write_file (src, "content");
  cleanup_free char *link = xasprintf ("%s/link", tmp);
  assert_int_equal (symlink ("a/target", link), 0);
  cleanup_close int dir = open (tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int in = open (src, O_RDONLY | O_CLOEXEC);
  assert_true (dir >= 0 && in >= 0);
  cleanup_close int out = cove_storage_copy_file (in, dir, "copy", NULL);
  assert_true (out >= 0);
  struct stat st;
  assert_int_equal (fstat (in, &st), 0);
  st.st_mode = 0640;
  assert_int_equal (cove_storage_set_meta (out, &st, getuid (), getgid (), "copy", NULL), 0);
  cleanup_free char *copy = xasprintf ("%s/copy", tmp);
  cleanup_free char *text = cove_file_read_at (AT_FDCWD, copy, 100, NULL, NULL);
  assert_string_equal (text, "content");
  struct stat cst;
  assert_int_equal (stat (copy, &cst), 0);
  assert_int_equal (cst.st_mode & 07777, 0640);
  assert_int_equal (cst.st_mtim.tv_sec, st.st_mtim.tv_sec);
  assert_int_equal (cove_storage_copy_symlink (dir, "link", dir, "link2", NULL), 0);
  assert_int_equal (cove_storage_set_meta_at (dir, "link2", &st, getuid (), getgid (), NULL), 0);
  char target[64] = { 0 };
  cleanup_free char *link2 = xasprintf ("%s/link2", tmp);
  assert_int_equal (readlink (link2, target, sizeof target - 1), 8);
  assert_string_equal (target, "a/target");
  /* Nothing there is replaced or followed.  */
  cleanup_error struct cove_error *err = NULL;
  assert_int_equal (cove_storage_copy_file (in, dir, "link2", &err), -1);
  assert_int_equal (err->errnum, EEXIST);
  cove_error_release (&err);
  assert_int_equal (cove_storage_copy_symlink (dir, "link", dir, "copy", &err), -1);
  assert_int_equal (err->errnum, EEXIST);
  cove_error_release (&err);
  assert_int_equal (cove_storage_copy_symlink (dir, "src", dir, "x", &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  assert_int_equal (cove_storage_set_meta (-1, &st, getuid (), getgid (), "x", &err), -1);
  assert_int_equal (err->errnum, EBADF);
  cove_error_release (&err);
  assert_int_equal (cove_storage_set_meta_at (dir, "nope", &st, getuid (), getgid (), &err), -1);
  assert_int_equal (err->errnum, ENOENT);
}

/* ---- run: -v, --mount, image VOLUMEs ---- */

static void
options_init (struct cove_run_options *o)
{
  memset (o, 0, sizeof *o);
}

/* cove_run_options_free's part for what these tests set (runopts.c is
   not linked here).  */
static void
options_free (struct cove_run_options *o)
{
  cove_strv_free (o->req.volumes);
  cove_strv_free (o->req.tmpfs);
  cove_strv_free (o->req.command);
  cove_strv_free (o->mounts);
  cove_strv_free (o->volumes_from);
  json_decref (o->image_config);
  memset (o, 0, sizeof *o);
}

static bool
strv_has (char **v, const char *s)
{
  for (size_t i = 0; v && v[i]; i++)
    if (strcmp (v[i], s) == 0)
      return true;
  return false;
}

static void
test_prepare (void **state)
{
  (void) state;
  struct cove_run_options o;
  options_init (&o);
  cove_strv_append (&o.req.volumes, "named:/a:ro");
  cove_strv_append (&o.req.volumes, "/tmp:/b:z");
  cove_strv_append (&o.req.volumes, "/c/");
  cove_strv_append (&o.mounts, "type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770");
  cove_strv_append (&o.mounts, "type=volume,source=v2,destination=/v2,volume-nocopy");
  cove_strv_append (&o.mounts, "type=bind,src=/tmp,dst=/bb,readonly");
  o.image_config = json_pack ("{s:{s:{s:{}, s:{}}}}", "config", "Volumes",
                              "/a", "/img/");
  json_t *extra = json_object ();
  assert_int_equal (cove_run_volumes_prepare (&o, &paths, extra, NULL), 0);
  cleanup_free char *named = xasprintf ("%s/volumes/named/_data:/a:ro", paths.data_dir);
  cleanup_free char *v2 = xasprintf ("%s/volumes/v2/_data:/v2:nocopy", paths.data_dir);
  assert_true (strv_has (o.req.volumes, named));
  assert_true (strv_has (o.req.volumes, "/tmp:/b:z"));
  assert_true (strv_has (o.req.volumes, v2));
  assert_true (strv_has (o.req.volumes, "/tmp:/bb:ro"));
  assert_true (strv_has (o.req.tmpfs, "/t:size=64m,mode=1770"));
  assert_int_equal (cove_strv_len (o.req.volumes), 6);  /* + /c and /img */
  json_t *vols = json_object_get (extra, "volumes");
  json_t *anon = json_object_get (extra, "anon_volumes");
  assert_int_equal (json_array_size (vols), 4);
  assert_int_equal (json_array_size (anon), 2);
  assert_string_equal (json_string_value (json_array_get (vols, 0)), "named");
  assert_string_equal (json_string_value (json_array_get (vols, 2)), "v2");
  for (size_t i = 0; i < 2; i++)
    {
      struct cove_storage_volume v;
      const char *name = json_string_value (json_array_get (anon, i));
      assert_int_equal (cove_storage_volume_load (&paths, name, &v, NULL), 0);
      assert_true (v.anonymous);
      cove_storage_volume_free (&v);
    }
  json_decref (extra);
  options_free (&o);
}

static void
expect_prepare_fails (const char *v, const char *mount, const char *msg)
{
  struct cove_run_options o;
  options_init (&o);
  cove_strv_append (&o.req.volumes, "made:/x");
  if (v)
    cove_strv_append (&o.req.volumes, v);
  if (mount)
    cove_strv_append (&o.mounts, mount);
  cleanup_error struct cove_error *err = NULL;
  assert_int_equal (cove_run_volumes_prepare (&o, &paths, NULL, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  if (strstr (err->msg, msg) == NULL)
    fail_msg ("error `%s` lacks `%s`", err->msg, msg);
  /* The volume it made on the way is gone again.  */
  assert_int_equal (count_entries (), 0);
  options_free (&o);
}

static void
test_prepare_fails (void **state)
{
  (void) state;
  expect_prepare_fails ("/tmp:/x/", NULL, "/x: duplicate mount destination");
  expect_prepare_fails ("bad/name:/y", NULL, "invalid volume");
  expect_prepare_fails ("vol:relative", NULL, "must be absolute");
  expect_prepare_fails (NULL, "type=nfs,target=/m", "unsupported type");
  expect_prepare_fails (NULL, "type=bind,target=/m", "absolute source");
  expect_prepare_fails (NULL, "type=tmpfs,target=/m,tmpfs-size=1GB", "tmpfs-size");
  expect_prepare_fails (NULL, "type=volume,target=/m,bogus=1", "bogus");
  expect_prepare_fails (NULL, "target=/m", "type must be");
}

/* ---- --volumes-from, rm -v ---- */

/* A container record NAME whose extra lists VOLUMES and ANON, with a
   config.json of MOUNTS (a JSON array).  Returns its id.  */
static char *
make_container (struct cove_state_store *st, const char *name,
                json_t *volumes, json_t *anon, json_t *mounts)
{
  json_t *extra = json_object ();
  if (volumes)
    json_object_set (extra, "volumes", volumes);
  if (anon)
    json_object_set (extra, "anon_volumes", anon);
  struct cove_state_container tmpl = { .name = (char *) name,
                                       .state = COVE_STATE_CREATED,
                                       .extra = extra };
  struct cove_state_container c;
  assert_int_equal (cove_state_create (st, &tmpl, &c, NULL), 0);
  json_decref (extra);
  json_t *doc = json_pack ("{s:o}", "mounts", mounts ? json_incref (mounts)
                                                     : json_array ());
  cleanup_free char *text = json_dumps (doc, 0);
  json_decref (doc);
  cleanup_free char *cfg = cove_ctr_file (&paths, c.id, "config.json");
  write_file (cfg, text);
  char *id = xstrdup (c.id);
  cove_state_container_free (&c);
  return id;
}

/* The container store in *ST, and new volumes NAMES (NULL-terminated),
   anonymous or not.  */
static void
store_with_volumes (struct cove_state_store *st, bool anonymous,
                    const char *const *names)
{
  assert_int_equal (cove_state_store_open (st, paths.data_dir, NULL), 0);
  for (; *names; names++)
    assert_int_equal (cove_storage_volume_create (&paths, *names, NULL, anonymous,
                                                  NULL, NULL), 0);
}

static void
test_volumes_from (void **state)
{
  (void) state;
  struct cove_state_store st;
  store_with_volumes (&st, false, (const char *const[]) { "shared", NULL });
  cleanup_free char *src = xasprintf ("%s/volumes/shared/_data", paths.data_dir);
  json_t *mounts = json_pack ("[{s:s, s:s, s:s, s:[s]}, {s:s, s:s, s:s, s:[s,s]},"
                              " {s:s, s:s, s:s, s:[]}, {s:s, s:s, s:s, s:[s]}]",
                              "destination", "/data", "type", "bind", "source", src,
                              "options", "rbind",
                              "destination", "/host", "type", "bind", "source", "/tmp",
                              "options", "rbind", "ro",
                              "destination", "/proc", "type", "proc", "source", "proc",
                              "options",
                              "destination", "/run/cove-init", "type", "bind",
                              "source", "/bin/true", "options", "ro");
  json_t *names = json_pack ("[s]", "shared");
  cleanup_free char *id = make_container (&st, "seed", names, NULL, mounts);
  json_decref (mounts);
  json_decref (names);
  cove_state_store_close (&st);

  struct cove_run_options o;
  options_init (&o);
  cove_strv_append (&o.volumes_from, "seed:ro");
  cove_strv_append (&o.req.volumes, "/tmp:/host");
  json_t *extra = json_object ();
  assert_int_equal (cove_run_volumes_prepare (&o, &paths, extra, NULL), 0);
  cleanup_free char *want = xasprintf ("%s:/data:ro", src);
  assert_true (strv_has (o.req.volumes, want));
  assert_true (strv_has (o.req.volumes, "/tmp:/host"));  /* ours wins */
  assert_int_equal (cove_strv_len (o.req.volumes), 2);   /* no init, no proc */
  assert_string_equal (json_string_value (json_array_get (
                           json_object_get (extra, "volumes"), 0)), "shared");
  assert_null (json_object_get (extra, "anon_volumes"));
  json_decref (extra);
  options_free (&o);

  options_init (&o);
  cove_strv_append (&o.volumes_from, "nosuch");
  cleanup_error struct cove_error *err = NULL;
  assert_int_equal (cove_run_volumes_prepare (&o, &paths, NULL, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  options_free (&o);
}

static void
test_remove_anonymous (void **state)
{
  (void) state;
  struct cove_state_store st;
  store_with_volumes (&st, true, (const char *const[]) { "a1", "a2", NULL });
  json_t *mine = json_pack ("[s,s,s]", "a1", "a2", "gone");
  json_t *other = json_pack ("[s]", "a2");
  cleanup_free char *id = make_container (&st, "owner", mine, mine, NULL);
  cleanup_free char *id2 = make_container (&st, "user", other, NULL, NULL);
  json_decref (other);
  struct cove_state_container c;
  assert_int_equal (cove_state_load (&st, id, &c, NULL), 0);
  assert_int_equal (cove_volumes_remove_anonymous (&paths, &c, NULL), 0);
  struct cove_storage_volume v;
  cleanup_error struct cove_error *err = NULL;
  assert_int_equal (cove_storage_volume_load (&paths, "a1", &v, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  assert_int_equal (cove_storage_volume_load (&paths, "a2", &v, NULL), 0);
  cove_storage_volume_free (&v);
  json_t *users = NULL;
  assert_int_equal (cove_volumes_users (&paths, NULL, &users, NULL), 0);
  assert_int_equal (json_array_size (json_object_get (users, "a2")), 2);
  json_decref (users);
  cove_state_container_free (&c);
  json_decref (mine);
  cove_state_store_close (&st);
}

/* ---- --init ---- */

static void
test_init (void **state)
{
  (void) state;
  cleanup_free char *root = make_rootfs ();
  cleanup_free char *init = xasprintf ("%s/cove-init", tmp);
  write_file (init, "#!/bin/sh\n");
  struct cove_run_options o;
  options_init (&o);
  o.init = true;
  o.init_path = init;
  assert_int_equal (cove_run_init_prepare (&o, NULL), 0);
  assert_string_equal (o.req.init_path, init);
  o.req.rootfs = root;
  cove_strv_append (&o.req.command, "sh");
  json_t *spec = cove_spec_generate (&o.req, NULL);
  assert_non_null (spec);
  json_t *args = json_object_get (json_object_get (spec, "process"), "args");
  assert_int_equal (json_array_size (args), 3);
  assert_string_equal (json_string_value (json_array_get (args, 0)), "/run/cove-init");
  assert_string_equal (json_string_value (json_array_get (args, 1)), "--");
  json_t *mounts = json_object_get (spec, "mounts");
  json_t *last = json_array_get (mounts, json_array_size (mounts) - 1);
  assert_string_equal (json_string_value (json_object_get (last, "destination")),
                       "/run/cove-init");
  assert_string_equal (json_string_value (json_object_get (last, "source")), init);
  json_decref (spec);

  cleanup_error struct cove_error *err = NULL;
  o.init_path = "/nonexistent/cove-init";
  assert_int_equal (cove_run_init_prepare (&o, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  o.req.rootfs = NULL;
  options_free (&o);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_create_load, setup, teardown),
    cmocka_unit_test_setup_teardown (test_create_fails, setup, teardown),
    cmocka_unit_test_setup_teardown (test_anonymous_name, setup, teardown),
    cmocka_unit_test_setup_teardown (test_load_missing, setup, teardown),
    cmocka_unit_test_setup_teardown (test_list_skips_corrupt, setup, teardown),
    cmocka_unit_test_setup_teardown (test_list_empty, setup, teardown),
    cmocka_unit_test_setup_teardown (test_remove, setup, teardown),
    cmocka_unit_test_setup_teardown (test_races, setup, teardown),
    cmocka_unit_test_setup_teardown (test_copy_up, setup, teardown),
    cmocka_unit_test_setup_teardown (test_copy_up_stays_in_root, setup, teardown),
    cmocka_unit_test_setup_teardown (test_copy_entries, setup, teardown),
    cmocka_unit_test_setup_teardown (test_prepare, setup, teardown),
    cmocka_unit_test_setup_teardown (test_prepare_fails, setup, teardown),
    cmocka_unit_test_setup_teardown (test_volumes_from, setup, teardown),
    cmocka_unit_test_setup_teardown (test_remove_anonymous, setup, teardown),
    cmocka_unit_test_setup_teardown (test_init, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
