/* cove state: the store of pods.  A pod's record has the shape of a
   container's (id, name, created, labels, extra) and lives in a store of
   its own, DATA_DIR/pods, with the same layout and the same guarantees
   (names reserved with symlink, atomic create/update/remove under flock):
   every function of the container store works on it.  */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "pkg/state/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

int
cove_state_pod_store_open (struct cove_state_store *out, const char *data_dir,
                           struct cove_error **err)
{
  return state_store_open_dir (out, data_dir, "pods", err);
}
