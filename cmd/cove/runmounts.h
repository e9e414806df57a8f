/* cove: shared by runvolumes.c and runmounts.c (the volumes of run and
   create); nobody else includes it.  */
#ifndef COVE_CMD_RUNMOUNTS_H
#define COVE_CMD_RUNMOUNTS_H

#include <jansson.h>
#include <stdbool.h>

#include "cmd/cove/runopts.h"
#include "storage/storage.h"

/* What cove_run_volumes_prepare builds up.  */
struct run_mounts
{
  const struct cove_storage_paths *paths;
  char **binds;          /* the new req.volumes: "SRC:DST[:OPTS]" */
  char **tmpfs;          /* added to req.tmpfs */
  json_t *dests;         /* destinations taken, as an object used as a set */
  json_t *names;         /* array: every volume name mounted */
  json_t *anon;          /* array: the anonymous ones made here */
  char **created;        /* volumes made here, removed again on failure */
};

/* DST cleaned ("//a/./b/" -> "/a/b"); caller frees.  */
char *run_mounts_clean (const char *dst);

/* Take destination DST (absolute, cleaned); EINVAL when taken already
   (podman: "DST: duplicate mount destination").  */
int run_mounts_take (struct run_mounts *m, const char *dst,
                     struct cove_error **err);

/* Mount volume NAME (NULL: a new anonymous one) at DST with OPTS (may be
   NULL); a missing named volume is created.  */
int run_mounts_volume (struct run_mounts *m, const char *name,
                       const char *dst, const char *opts,
                       struct cove_error **err);

/* Add a bind "SRC:DST[:OPTS]" for a taken DST.  */
void run_mounts_bind (struct run_mounts *m, const char *src, const char *dst,
                      const char *opts);

/* Record volume NAME as mounted (once).  */
void run_mounts_note (json_t *names, const char *name);

/* The volume name of a bind source (SRC_LEN bytes of SRC)
   DATA_DIR/volumes/NAME/_data, NULL for any other source.  Caller frees.  */
char *run_mounts_volume_of (const struct cove_storage_paths *paths,
                            const char *src, size_t src_len);

/* --mount SPEC, --volumes-from SPEC (runmounts.c).  */
int run_mounts_parse_mount (struct run_mounts *m, const char *spec,
                            struct cove_error **err);
int run_mounts_volumes_from (struct run_mounts *m, const char *spec,
                             struct cove_error **err);

#endif
