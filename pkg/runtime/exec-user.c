/* Users and groups of a running container, for `cove exec -u` and `cove
   top`.  The resolver is pkg/spec's, the one of `run -u` (same rules, same
   defensive parsing of the container's untrusted /etc/passwd and
   /etc/group, opened under its root with RESOLVE_IN_ROOT), which exec.c
   calls itself; what is here only keeps pkg/runtime's older names for
   their callers (runtime_user_*: tests/unit/test-runtime-exec.c;
   cove_runtime_iddb_*: cmd/cove/top.c), which could move to pkg/spec's.  */
#include <string.h>

#include "pkg/runtime/internal.h"
#include "pkg/spec/spec.h"
#include "pkg/util/cleanup.h"

int
runtime_user_resolve (int rootfd, const char *spec, struct runtime_user *out,
                      struct cove_error **err)
{
  struct cove_spec_user u;
  memset (out, 0, sizeof *out);
  if (cove_spec_user_resolve (rootfd, spec, NULL, &u, err) < 0)
    return -1;
  out->uid = u.uid;
  out->gid = u.gid;
  out->gids = steal_pointer (&u.gids);
  out->n_gids = u.n_gids;
  out->home = steal_pointer (&u.home);
  return 0;
}

void
runtime_user_free (struct runtime_user *u)
{
  struct cove_spec_user owned = { .gids = u->gids, .home = u->home };
  cove_spec_user_free (&owned);
  memset (u, 0, sizeof *u);
}

char *
cove_runtime_iddb_read (int rootfd, bool group, struct cove_error **err)
{
  return cove_spec_iddb_read (rootfd, group, err);
}

char *
cove_runtime_iddb_name (const char *db, unsigned int id)
{
  return cove_spec_iddb_name (db, id);
}
