#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cmd/cove/conf.h"
#include "pkg/registry/config.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#define CONF_MAX (1024 * 1024)

/* cove.conf's [storage] driver, or NULL (caller frees).  A missing file is
   no error.  */
static char *
conf_driver (const struct cove_storage_paths *paths, struct cove_error **err)
{
  cleanup_free char *path = xasprintf ("%s/cove.conf", paths->config_dir);
  cleanup_error struct cove_error *rerr = NULL;
  size_t len;
  cleanup_free char *text = cove_file_read_at (AT_FDCWD, path, CONF_MAX, &len, &rerr);
  if (text == NULL)
    {
      if (rerr->errnum == ENOENT)
        return NULL;
      *err = steal_pointer (&rerr);
      return NULL;
    }
  json_t *doc = cove_registry_toml_parse (text, len, err);
  if (doc == NULL)
    {
      cove_error_wrap (err, "%s", path);
      return NULL;
    }
  json_t *v = json_object_get (json_object_get (doc, "storage"), "driver");
  char *r = json_is_string (v) ? xstrdup (json_string_value (v)) : NULL;
  if (v && !json_is_string (v))
    cove_error_set (err, EINVAL, "%s: storage.driver must be a string", path);
  json_decref (doc);
  return r;
}

int
cove_conf_storage_driver (const struct cove_storage_paths *paths,
                          enum cove_storage_driver *out,
                          struct cove_error **err)
{
  const char *flag = getenv (COVE_ENV_STORAGE_DRIVER);
  if (flag && flag[0])
    return cove_storage_driver_parse (flag, out, err);
  cleanup_error struct cove_error *cerr = NULL;
  cleanup_free char *name = conf_driver (paths, &cerr);
  if (cerr)
    {
      *err = steal_pointer (&cerr);
      return -1;
    }
  if (name == NULL)
    {
      *out = COVE_STORAGE_AUTO;
      return 0;
    }
  if (cove_storage_driver_parse (name, out, err) < 0)
    return cove_error_wrap (err, "%s/cove.conf", paths->config_dir);
  return 0;
}

static bool
kernel_at_least (int major, int minor)
{
  struct utsname u;
  int ma = 0, mi = 0;
  return uname (&u) == 0 && sscanf (u.release, "%d.%d", &ma, &mi) == 2
         && (ma > major || (ma == major && mi >= minor));
}

static bool
has_overlay (void)
{
  cleanup_error struct cove_error *ignored = NULL;
  cleanup_free char *fs = cove_file_read_at (AT_FDCWD, "/proc/filesystems",
                                             65536, NULL, &ignored);
  return fs && strstr (fs, "\toverlay\n") != NULL;
}

enum cove_storage_driver
cove_conf_probe_driver (void)
{
  /* Unprivileged overlay mounts in a user namespace came with 5.11.  */
  if (kernel_at_least (5, 11) && has_overlay ())
    return COVE_STORAGE_OVERLAY;
  if (access ("/dev/fuse", R_OK | W_OK) == 0
      && (access ("/usr/bin/fuse-overlayfs", X_OK) == 0
          || access ("/usr/local/bin/fuse-overlayfs", X_OK) == 0))
    return COVE_STORAGE_FUSE_OVERLAY;
  return COVE_STORAGE_VFS;
}
