#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "rootless/rootless.h"
#include "storage/storage.h"

/* $VAR/cove when VAR is set to an absolute path, else $HOME/FALLBACK/cove.  */
static char *
xdg_dir (const char *var, const char *fallback, struct cove_error **err)
{
  const char *v = getenv (var);
  if (v && v[0] == '/')
    return xasprintf ("%s/cove", v);
  const char *home = getenv ("HOME");
  if (home == NULL || home[0] != '/')
    {
      cove_error_set (err, ENOENT, "neither $%s nor $HOME is set", var);
      return NULL;
    }
  return xasprintf ("%s/%s/cove", home, fallback);
}

int
cove_storage_paths_init (struct cove_storage_paths *out, struct cove_error **err)
{
  memset (out, 0, sizeof *out);
  out->data_dir = xdg_dir ("XDG_DATA_HOME", ".local/share", err);
  if (out->data_dir == NULL)
    return -1;
  out->config_dir = xdg_dir ("XDG_CONFIG_HOME", ".config", err);
  if (out->config_dir == NULL)
    {
      cove_storage_paths_free (out);
      return -1;
    }
  const char *rt = getenv ("XDG_RUNTIME_DIR");
  if (rt && rt[0] == '/')
    out->runtime_dir = xasprintf ("%s/cove", rt);
  else
    /* The same place inside the user namespace (uid 0) as outside.  */
    out->runtime_dir = xasprintf ("/tmp/cove-%u",
                                  (unsigned) cove_rootless_host_uid ());
  return 0;
}

void
cove_storage_paths_free (struct cove_storage_paths *p)
{
  free (p->data_dir);
  free (p->runtime_dir);
  free (p->config_dir);
  memset (p, 0, sizeof *p);
}

char *
cove_storage_container_dir_create (const struct cove_storage_paths *p,
                                   const char *id, struct cove_error **err)
{
  cleanup_free char *parent = xasprintf ("%s/containers", p->data_dir);
  if (cove_mkdir_p (parent, 0700, err) < 0)
    return NULL;
  cleanup_free char *dir = xasprintf ("%s/%s", parent, id);
  if (mkdir (dir, 0700) < 0)
    {
      cove_error_set (err, errno, "mkdir `%s`", dir);
      return NULL;
    }
  return steal_pointer (&dir);
}
