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
   with .host = start, .size = count and .container = 0.  A user is matched
   by name, or by a numeric first field equal to UID; USER may be NULL (a
   uid without a passwd entry).  Leading and trailing blanks of a line are
   ignored; START and COUNT are strict decimal numbers, COUNT > 0 and
   START + COUNT within 32 bits.  errnum ENOENT: the file or an entry is
   missing; EINVAL: a malformed line (the message names PATH:LINE) or ranges
   whose sizes add up past 32 bits; E2BIG: more than
   COVE_ROOTLESS_MAX_RANGES - 1 ranges (one line of the map is the user's
   own); other errno values of reading the file.  OUT is only written on
   success.  */
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
   prints one warning line on stderr, as podman does.  The process keeps its
   pid, environment ($HOME, XDG paths), terminal and signal dispositions;
   it must be single-threaded (setns(2)).  On failure the process is left
   as it was, in the host namespace, and no helper process remains.
   errnum ENOENT: newuidmap/newgidmap missing; EPERM: newuidmap not setuid,
   or user namespaces disabled (the message says which and how to fix it);
   0: newuidmap/newgidmap refused the maps (the message carries their
   stderr); EINVAL/E2BIG: a bad /etc/subuid or /etc/subgid (see
   cove_rootless_read_subid).

   PAUSE_DIR (the user's runtime directory, or NULL): where the pause
   process that keeps the namespace between commands is recorded
   (pause.pid, pause.lock; see rootless/pause.c).  When one is recorded and
   alive the process joins its namespace at once (no newuidmap); otherwise
   the namespace is made as above and a pause process is left to keep it.
   Changes to /etc/subuid apply once the pause process is gone (kill it).

   Test hooks, for tests only: the environment variables COVE_SUBUID_FILE
   and COVE_SUBGID_FILE replace the paths /etc/subuid and /etc/subgid read
   here (newuidmap itself always reads the real files, so a test uses them
   to force the single-mapping fallback, e.g. with a path that does not
   exist).  */
int cove_rootless_enter (const char *pause_dir, struct cove_error **err);

/* argv[0] of the pause process: the cove binary called by this name only
   sleeps (see rootless/pause.c).  */
#define COVE_ROOTLESS_PAUSE_NAME "cove-pause"

/* The host uid (gid) of the user: getuid() (getgid()) outside a user
   namespace, the host id that id 0 maps to inside one (after
   cove_rootless_enter, where getuid() is 0).  For per-user paths such as
   /tmp/cove-<uid>, which must be the same inside and outside.  Real root
   gets 0.  */
uid_t cove_rootless_host_uid (void);
gid_t cove_rootless_host_gid (void);

#endif
