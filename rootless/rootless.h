/* cove rootless: subordinate ids and the user's user namespace.  */
#ifndef COVE_ROOTLESS_H
#define COVE_ROOTLESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pkg/util/error.h"

#define COVE_ROOTLESS_MAX_RANGES 32

/* One line of a uid_map: ids [container, container+size) are host ids
   [host, host+size).  */
struct cove_idmap_range
{
  uint32_t container;
  uint32_t host;
  uint32_t size;
};

struct cove_idmap
{
  size_t n;
  struct cove_idmap_range ranges[COVE_ROOTLESS_MAX_RANGES];
};

/* Find the subordinate ranges of the user named USER or with numeric id UID
   in PATH (/etc/subuid format: `name-or-uid:start:count` per line; comments
   and blank lines skipped; every matching line is a range).  OUT gets them
   with .host = start, .size = count and .container = 0.  errnum ENOENT: the
   file or an entry is missing; EINVAL: a malformed line (the message names
   the line number).  */
int cove_rootless_read_subid (const char *path, const char *user, uid_t uid,
                              struct cove_idmap *out, struct cove_error **err);

/* The mappings of the user's namespace for host id ID: container 0 = ID,
   container 1.. = the subordinate ranges in SUBIDS, in order.  With no
   subordinate range (SUBIDS->n == 0) just the single line 0 -> ID.  */
void cove_rootless_build_map (uint32_t id, const struct cove_idmap *subids,
                              struct cove_idmap *out);

/* Render MAP in /proc/PID/uid_map format ("container host size\n" lines).
   Caller frees.  */
char *cove_rootless_map_format (const struct cove_idmap *map);

/* Make sure the calling process runs inside the user's user namespace.
   Root (euid 0, which is also the case once inside) returns 0 at once.
   Otherwise the process moves itself into a new user namespace whose maps
   newuidmap/newgidmap write from /etc/subuid and /etc/subgid, and becomes
   uid/gid 0 there.  Without a subordinate range it maps only the user and
   prints one warning line on stderr, as podman does.  errnum ENOENT:
   newuidmap missing; EPERM: newuidmap not setuid or user namespaces
   disabled (the message says which and how to fix it).  */
int cove_rootless_enter (struct cove_error **err);

#endif
