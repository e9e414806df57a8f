/* cove run: parse the request, enter the user namespace, write the
   container's config.json and run it in the foreground.  */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "cmd/cove/runimage.h"
#include "cmd/cove/runopts.h"
#include "pkg/runtime/runtime.h"
#include "pkg/spec/spec.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "rootless/rootless.h"
#include "storage/storage.h"

static const char run_usage[]
    = "cove run [options] IMAGE [COMMAND [ARG...]]\n"
      "  cove run [options] --rootfs DIR [--] COMMAND [ARG...]";
static const char run_description[]
    = "Run a command in a new container, from an image or a root filesystem "
      "directory";

/* 64 random hex digits, as podman's container ids.  */
static int
make_id (char out[65], struct cove_error **err)
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
      got += n;
    }
  for (size_t i = 0; i < sizeof raw; i++)
    snprintf (out + 2 * i, 3, "%02x", raw[i]);
  return 0;
}

/* Write REQ's config.json into the container directory DIR.  */
static int
write_config (const struct cove_spec_request *req, const char *dir,
              struct cove_error **err)
{
  json_t *spec = cove_spec_generate (req, err);
  if (spec == NULL)
    return -1;
  cleanup_free char *text = json_dumps (spec, JSON_INDENT (2) | JSON_COMPACT);
  json_decref (spec);
  if (text == NULL)
    return cove_error_set (err, ENOMEM, "serialise config.json");
  cleanup_free char *config = xasprintf ("%s/config.json", dir);
  /* Not fsync'ed: a container's config does not outlive a reboot of the
     container, and the sync would cost a fifth of a start.  */
  return cove_file_write_atomic (config, text, strlen (text), 0600, 0, err);
}

/* Without -i the container reads nothing: stdin is /dev/null, as podman.  */
static int
detach_stdin (struct cove_error **err)
{
  cleanup_close int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno, "open `/dev/null`");
  if (dup2 (fd, 0) < 0)
    return cove_error_set (err, errno, "dup2 stdin");
  return 0;
}

/* The container's directory, config and (for an image) root filesystem:
   everything before the runtime.  *OUT_DIR is set as soon as the directory
   exists, so that the caller removes it whatever fails later.  */
static int
prepare (struct cove_run_options *o, const struct cove_storage_paths *paths,
         const char *id, char **out_dir, int *out_status,
         struct cove_error **err)
{
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
    }
  if (r == 0)
    {
      *out_dir = cove_storage_container_dir_create (paths, id, err);
      r = *out_dir ? 0 : -1;
    }
  if (r == 0 && have_img)
    r = cove_run_image_mount (o, s, &img, id, err);
  if (r == 0)
    r = write_config (&o->req, *out_dir, err);
  if (have_img)
    cove_storage_image_free (&img);
  if (s)
    cove_storage_close (s);
  return r;
}

static int
run_container (struct cove_run_options *o, int *out_status,
               struct cove_error **err)
{
  char id[65];
  if (cove_cmd_enter_userns (err) < 0)
    return -1;
  if (make_id (id, err) < 0)
    return -1;
  o->req.id = id;
  if (!o->interactive && detach_stdin (err) < 0)
    return -1;

  struct cove_storage_paths paths;
  if (cove_storage_paths_init (&paths, err) < 0)
    return -1;
  cleanup_free char *dir = NULL;
  int ret = prepare (o, &paths, id, &dir, out_status, err);
  struct cove_runtime_process proc;
  if (ret == 0)
    ret = cove_runtime_create (dir, paths.runtime_dir, &proc, out_status, err);
  if (ret == 0)
    ret = cove_runtime_wait (&proc, o->sig_proxy, out_status, err);
  cove_storage_paths_free (&paths);
  /* Until containers have a lifecycle of their own (ps, rm), a foreground
     run leaves no record behind, as with --rm.  The root filesystem's
     mount goes with this process's mount namespace.  */
  if (dir)
    {
      cleanup_free char *merged = xasprintf ("%s/merged", dir);
      (void) umount2 (merged, MNT_DETACH);
      cove_rm_rf (dir, NULL);
    }
  return ret;
}

int
cove_cmd_run (int argc, char **argv)
{
  struct cove_run_options o;
  cleanup_error struct cove_error *err = NULL;
  int r = cove_run_options_parse (&o, argc, argv, &err);
  if (r == COVE_RUN_OPTIONS_HELP)
    {
      cove_opts_print_help (stdout, run_usage, run_description,
                            cove_run_option_table);
      cove_run_options_free (&o);
      return 0;
    }
  if (r < 0)
    {
      cove_run_options_free (&o);
      return cove_cmd_fail (&err, 125);
    }
  int status = 125;
  if (run_container (&o, &status, &err) < 0)
    {
      cove_run_options_free (&o);
      /* A failed pull printed its own error.  */
      return err ? cove_cmd_fail (&err, status) : status;
    }
  cove_run_options_free (&o);
  return status;
}
