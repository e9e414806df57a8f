#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <unistd.h>

#include "cmd/cove/conf.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcreate.h"
#include "cmd/cove/output.h"
#include "cmd/cove/pod.h"
#include "cmd/cove/runimage.h"
#include "cmd/cove/runnet.h"
#include "cmd/cove/runports.h"
#include "cmd/cove/runvolumes.h"
#include "pkg/monitor/monitor.h"
#include "pkg/spec/spec.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/signals.h"
#include "pkg/util/xalloc.h"

static const char *const restart_names[] = {
  [COVE_RUN_RESTART_NO] = "no",
  [COVE_RUN_RESTART_ON_FAILURE] = "on-failure",
  [COVE_RUN_RESTART_ALWAYS] = "always",
  [COVE_RUN_RESTART_UNLESS_STOPPED] = "unless-stopped",
};

int
cove_ctr_make_id (char out[65], struct cove_error **err)
{
  unsigned char raw[32];
  size_t got = 0;
  while (got < sizeof raw)
    {
      ssize_t n = getrandom (raw + got, sizeof raw - got, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return cove_error_set (err, errno, "getrandom");
      got += (size_t) n;
    }
  for (size_t i = 0; i < sizeof raw; i++)
    snprintf (out + 2 * i, 3, "%02x", raw[i]);
  return 0;
}

/* The name the user knows the image by: the one of its names that IMAGE
   (as typed) means, else its first name, else its short id.  */
static char *
image_name (const char *typed, const struct cove_storage_image *img)
{
  size_t tl = strlen (typed);
  for (char **n = img->names; n && *n; n++)
    {
      size_t nl = strlen (*n);
      const char *tail = nl > tl ? *n + nl - tl : NULL;
      if (strcmp (*n, typed) == 0 || (tail && tail[-1] == '/' && strcmp (tail, typed) == 0))
        return xstrdup (*n);
      cleanup_free char *latest = xasprintf ("%s:latest", typed);
      size_t ll = strlen (latest);
      tail = nl > ll ? *n + nl - ll : NULL;
      if (strcmp (*n, latest) == 0 || (tail && tail[-1] == '/' && strcmp (tail, latest) == 0))
        return xstrdup (*n);
    }
  if (img->names && img->names[0])
    return xstrdup (img->names[0]);
  return xstrndup (img->id, 12);
}

/* The image's StopSignal, when --stop-signal is not given.  */
static int
image_stop_signal (const struct cove_run_options *o)
{
  json_t *c = json_object_get (o->image_config, "config");
  const char *s = json_string_value (json_object_get (c, "StopSignal"));
  int sig = 0;
  if (s && cove_signal_parse (s, &sig, NULL) < 0)
    sig = 0;
  return sig;
}

static json_t *
settings (const struct cove_run_options *o)
{
  json_t *x = json_object ();
  json_object_set_new (x, "image_rootfs", json_boolean (o->image != NULL));
  json_object_set_new (x, "tty", json_boolean (o->req.terminal));
  json_object_set_new (x, "interactive", json_boolean (o->interactive));
  json_object_set_new (x, "rm", json_boolean (o->rm));
  json_object_set_new (x, "init", json_boolean (o->init));
  json_object_set_new (x, "restart", json_string (restart_names[o->restart]));
  if (o->restart_max)
    json_object_set_new (x, "restart_max", json_integer (o->restart_max));
  int sig = o->stop_signal ? o->stop_signal : image_stop_signal (o);
  if (sig)
    json_object_set_new (x, "stop_signal", json_integer (sig));
  json_object_set_new (x, "stop_timeout",
                       json_integer (o->stop_timeout >= 0 ? o->stop_timeout : 10));
  json_object_set_new (x, "log_driver",
                       json_string (o->log_driver ? o->log_driver : "k8s-file"));
  if (o->log_max_size)
    json_object_set_new (x, "log_max_size", json_integer (o->log_max_size));
  if (o->cidfile)
    json_object_set_new (x, "cidfile", json_string (o->cidfile));
  return x;
}

/* Every mount of ours is private, once per process: the container
   mounts made here must not reach the user's namespace (they could not)
   nor the other way.  */
static int
own_mount_ns (struct cove_error **err)
{
  static bool done;
  if (done)
    return 0;
  if (unshare (CLONE_NEWNS) < 0)
    return cove_error_set (err, errno, "create mount namespace");
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return cove_error_set (err, errno, "make mounts private");
  done = true;
  return 0;
}

/* Write the config.json of REQ into the container directory DIR; *OUT_ARGS
   gets its process.args.  */
static int
write_config (const struct cove_spec_request *req, const char *dir,
              json_t **out_args, struct cove_error **err)
{
  json_t *spec = cove_spec_generate (req, err);
  if (spec == NULL)
    return -1;
  *out_args = json_incref (json_object_get (json_object_get (spec, "process"), "args"));
  cleanup_free char *text = json_dumps (spec, JSON_INDENT (2) | JSON_COMPACT);
  json_decref (spec);
  if (text == NULL)
    return cove_error_set (err, ENOMEM, "serialise config.json");
  cleanup_free char *config = xasprintf ("%s/config.json", dir);
  /* Not fsync'ed: the record is, and a config lost to a power cut is
     rewritten by nothing; but the sync would cost a fifth of a start.
     start checks the file and says so.  */
  return cove_file_write_atomic (config, text, strlen (text), 0600, 0, err);
}

static int
mount_image (const struct cove_storage_paths *paths, struct cove_storage *s,
             const struct cove_storage_image *img, const char *id,
             char **out_path, struct cove_error **err)
{
  enum cove_storage_driver driver;
  if (own_mount_ns (err) < 0 || cove_conf_storage_driver (paths, &driver, err) < 0)
    return -1;
  if (cove_storage_rootfs_mount (s, img, id, driver, out_path, err) < 0)
    return cove_error_wrap (err, "mount the root filesystem of %.12s", img->id);
  return 0;
}

struct created
{
  const char *rootfs;
  json_t *args;
  json_t *more;   /* more keys for the record's extra */
  bool starting;  /* run: started at once */
};

static int
mark_created (struct cove_state_container *c, void *ctx,
              struct cove_error **err)
{
  (void) err;
  struct created *x = ctx;
  /* A container run at once stays "configured" (not fsync'ed) for the
     milliseconds until its monitor records it running: the three syncs
     of a durable "created" would cost a quarter of a run -d.  Should the
     start fail, the monitor records it created, durably.  */
  c->state = x->starting ? COVE_STATE_CONFIGURED : COVE_STATE_CREATED;
  free (c->rootfs);
  c->rootfs = xstrdup (x->rootfs);
  if (x->args)
    json_object_set (c->extra, "command", x->args);
  if (x->more)
    json_object_update (c->extra, x->more);
  return 0;
}

static int
check_cidfile (const char *path, struct cove_error **err)
{
  if (path && access (path, F_OK) == 0)
    return cove_error_set_plain (err, EEXIST, "container id file exists. "
                                 "Ensure another container is not using it "
                                 "or delete %s", path);
  return 0;
}

static int
write_cidfile (const char *path, const char *id, struct cove_error **err)
{
  cleanup_close int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return cove_error_set (err, errno, "create cidfile `%s`", path);
  return cove_write_all (fd, id, strlen (id), err);
}

/* After the record: root filesystem, config, created.  */
static int
make_container (struct cove_run_options *o, const struct cove_storage_paths *paths,
                struct cove_state_store *st, struct cove_storage *s,
                const struct cove_storage_image *img, const char *id,
                bool starting, struct cove_error **err)
{
  cleanup_free char *mounted = NULL;
  if (img && mount_image (paths, s, img, id, &mounted, err) < 0)
    return -1;
  if (mounted)
    o->req.rootfs = mounted;
  cleanup_free char *dir = cove_ctr_dir (paths, id);
  struct created x = { .rootfs = o->req.rootfs, .starting = starting,
                       .more = json_object () };
  int r = o->pod ? cove_pod_join (o, paths, st, x.more, starting, err) : 0;
  if (r == 0)
    r = cove_run_net_prepare (o, st, dir, x.more, err);
  if (r == 0 && o->pod)
    cove_pod_join_files (o, paths);
  if (r == 0)
    r = cove_run_ports_prepare (o, x.more, err);
  if (r == 0)
    r = cove_run_volumes_copy_up (o, paths, err);
  if (r == 0)
    r = write_config (&o->req, dir, &x.args, err);
  /* ps and inspect show the user's command, not the init in front.  */
  if (r == 0 && o->req.init_path && json_array_size (x.args) > 2
      && strcmp (json_string_value (json_array_get (x.args, 0)) ?: "", COVE_SPEC_INIT_PATH) == 0)
    {
      json_t *cmd = json_array ();
      for (size_t i = 2; i < json_array_size (x.args); i++)
        json_array_append (cmd, json_array_get (x.args, i));
      json_decref (x.args);
      x.args = cmd;
    }
  if (r == 0)
    r = cove_state_update (st, id, mark_created, &x, NULL, err);
  json_decref (x.args);
  json_decref (x.more);
  if (r == 0 && o->cidfile)
    r = write_cidfile (o->cidfile, id, err);
  o->req.rootfs = o->rootfs;
  return r;
}

int
cove_ctr_create (struct cove_run_options *o,
                 const struct cove_storage_paths *paths,
                 struct cove_state_store *st, bool starting, char **out_id,
                 int *out_status, struct cove_error **err)
{
  *out_status = 125;
  char id[65];
  if (check_cidfile (o->cidfile, err) < 0 || cove_cmd_enter_userns (err) < 0
      || cove_ctr_make_id (id, err) < 0)
    return -1;
  o->req.id = id;
  struct cove_storage *s = NULL;
  struct cove_storage_image img;
  bool have_img = false;
  int r = 0;
  if (o->image)
    {
      r = cove_storage_open (paths, &s, err);
      if (r == 0)
        r = cove_run_image_resolve (o, s, &img, out_status, err);
      have_img = r == 0;
      if (r == 0)
        *out_status = 125;
    }
  struct cove_state_container tmpl = {
    .id = id, .name = (char *) o->name, .state = COVE_STATE_CONFIGURED,
    .image_id = have_img ? img.id : NULL, .rootfs = o->rootfs,
    .labels = o->labels, .extra = settings (o), .auto_remove = o->rm,
  };
  if (r == 0)
    {
      tmpl.image_name = have_img ? image_name (o->image, &img) : NULL;
      r = cove_run_init_prepare (o, err);
      if (r == 0)
        r = cove_run_volumes_prepare (o, paths, tmpl.extra, err);
      if (r == 0)
        {
          r = cove_state_create (st, &tmpl, NULL, err);
          if (r < 0)
            (void) cove_volumes_remove_anonymous (paths, &tmpl, NULL);
        }
      if (r == 0 && make_container (o, paths, st, s, have_img ? &img : NULL, id,
                                  starting, err) < 0)
        {
          cleanup_free char *merged = cove_ctr_file (paths, id, "merged");
          (void) umount2 (merged, MNT_DETACH);
          (void) cove_state_remove (st, id, NULL);
          (void) cove_volumes_remove_anonymous (paths, &tmpl, NULL);
          r = -1;
        }
    }
  free (tmpl.image_name);
  json_decref (tmpl.extra);
  o->req.id = NULL;
  if (have_img)
    cove_storage_image_free (&img);
  if (s)
    cove_storage_close (s);
  if (r == 0)
    *out_id = xstrdup (id);
  return r;
}

int
cove_ctr_mount (const struct cove_storage_paths *paths,
                const struct cove_state_container *c, struct cove_error **err)
{
  if (!cove_ctr_extra_bool (c, "image_rootfs"))
    return 0;
  if (c->image_id == NULL)
    return cove_error_set (err, EINVAL, "container %.12s has no image", c->id);
  struct cove_storage *s = NULL;
  if (own_mount_ns (err) < 0 || cove_storage_open (paths, &s, err) < 0)
    return -1;
  struct cove_storage_image img;
  int r = cove_storage_image_lookup (s, c->image_id, &img, err);
  if (r < 0)
    cove_error_wrap (err, "the image of container %.12s", c->id);
  else
    {
      cleanup_free char *used = cove_storage_rootfs_driver (s, c->id);
      enum cove_storage_driver driver = COVE_STORAGE_AUTO;
      if (used && cove_storage_driver_parse (used, &driver, NULL) < 0)
        driver = COVE_STORAGE_AUTO;
      cleanup_free char *path = NULL;
      r = cove_storage_rootfs_mount (s, &img, c->id, driver, &path, err);
      if (r == 0 && c->rootfs && strcmp (path, c->rootfs) != 0)
        r = cove_error_set (err, EINVAL, "the root filesystem of %.12s is now "
                            "at `%s`, its config says `%s`", c->id, path, c->rootfs);
      cove_storage_image_free (&img);
    }
  cove_storage_close (s);
  return r;
}

int
cove_ctr_launch (const struct cove_storage_paths *paths,
                 const struct cove_state_container *c, int attach_fd,
                 int *out_status, struct cove_error **err)
{
  struct cove_monitor_launch l = {
    .id = c->id, .data_dir = paths->data_dir,
    .runtime_dir = paths->runtime_dir, .attach_fd = attach_fd,
  };
  pid_t pid;
  return cove_monitor_launch (&l, &pid, out_status, err);
}
