/* cove: a container as `podman container inspect` shows it, for
   `cove container inspect`, `cove inspect` and any command that prints a
   container's document (ps --format json shares the state words of ps.h).  */
#ifndef COVE_CMD_CTRINSPECT_H
#define COVE_CMD_CTRINSPECT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmd/cove/ctrcmd.h"
#include "pkg/state/state.h"
#include "pkg/util/error.h"
#include "storage/storage.h"

/* The options of the commands that query a container (container inspect,
   diff): ids for their tables, parsed by cove_ctr_parse with
   cove_ctr_query_opt into a struct cove_ctr_query (--help is
   CTR_OPT_HELP).  */
enum
{
  CTR_QUERY_FORMAT = CTR_OPT_HELP + 1,  /* --format: format */
  CTR_QUERY_LATEST,                     /* -l: latest */
  CTR_QUERY_SIZE,                       /* -s: size */
};

struct cove_ctr_query
{
  const char *format;   /* NULL when not given */
  bool latest, size;
};

/* The cove_ctr_opt_fn of the CTR_QUERY_* ids; CTX a struct
   cove_ctr_query.  Never fails.  */
int cove_ctr_query_opt (int id, const char *value, void *ctx,
                        struct cove_error **err);

/* podman 4.3's inspect document of container C: its record (C's state as
   it is to be shown: cove_ctr_load corrects a dead "running" one) and its
   DATA_DIR/containers/ID/config.json (the process, hostname, mounts,
   capabilities, rlimits; when it is missing or unreadable the fields taken
   from it are empty, as for a container still being created).  STORE
   (may be NULL) is the open image store: with it GraphDriver.Data gets
   the image's layers as LowerDir.  With SIZE, SizeRw and SizeRootFs are
   added as `inspect -s` does (see cove_ctr_size: run in the user
   namespace).  Returns a new object; never fails.  */
json_t *cove_ctr_inspect_json (const struct cove_storage_paths *paths,
                               const struct cove_state_container *c,
                               struct cove_storage *store, bool size);

/* The size of container C's changes (*OUT_RW: the bytes of the files in
   its upper dir, or its vfs copy) and of its whole root filesystem
   (*OUT_ROOTFS: *OUT_RW plus its image's size from STORE, which may be
   NULL).  Run in the user namespace: the files belong to mapped ids.
   Unreadable parts count as 0: sizes are an estimate, never an error.  */
void cove_ctr_size (const struct cove_storage_paths *paths,
                    const struct cove_state_container *c,
                    struct cove_storage *store, int64_t *out_rw,
                    int64_t *out_rootfs);

/* The destinations of the user's mounts of container C (-v, --mount,
   --tmpfs; not the default /proc, /dev... nor --init's), read from its
   config.json, as `ps --format {{.Mounts}}`: a new array.  */
json_t *cove_ctr_mount_destinations (const struct cove_storage_paths *paths,
                                     const struct cove_state_container *c);

/* Print DOCS (an array of inspect documents) as podman: JSON indented by
   5 spaces, or FORMAT (a Go template) once per document.  Returns 0, or
   125 after an `Error:` line for a bad template.  */
int cove_ctr_inspect_print (json_t *docs, const char *format);

/* For `cove inspect`: look each of the N NAMES up as a container (name,
   id or unique id prefix); OUT_DOCS[i] gets its document, or NULL when no
   container answers to NAMES[i].  With SIZE the user namespace is entered
   and sizes are added.  Returns 0, or -1 when the container store cannot
   be opened.  */
int cove_ctr_inspect_names (char *const *names, int n, bool size,
                            json_t **out_docs, struct cove_error **err);

/* `cove container inspect [-f FORMAT] [-l] [-s] NAME...`.  */
int cove_cmd_container_inspect (int argc, char **argv);

#endif
