/* cove storage: where a user's images, layers and containers live.  */
#ifndef COVE_STORAGE_H
#define COVE_STORAGE_H

#include "pkg/util/error.h"

/* The per-user places of DESIGN.md, each honouring its XDG variable.  */
struct cove_storage_paths
{
  char *data_dir;     /* $XDG_DATA_HOME/cove, default ~/.local/share/cove */
  char *runtime_dir;  /* $XDG_RUNTIME_DIR/cove, fallback /tmp/cove-UID */
  char *config_dir;   /* $XDG_CONFIG_HOME/cove, default ~/.config/cove */
};

/* Fill OUT from the environment; nothing is created.  errnum ENOENT when
   neither $XDG_DATA_HOME nor $HOME is set.  Free with
   cove_storage_paths_free.  */
int cove_storage_paths_init (struct cove_storage_paths *out,
                             struct cove_error **err);
void cove_storage_paths_free (struct cove_storage_paths *p);

/* Create the directory of container ID (data_dir/containers/ID, mode 0700,
   parents as needed) and return its path; caller frees.  EEXIST when it is
   there already.  */
char *cove_storage_container_dir_create (const struct cove_storage_paths *p,
                                         const char *id,
                                         struct cove_error **err);

#endif
