/* cove load/save: private helpers of load.c, loadsrc.c, save.c,
   savewrite.c and import.c (cove-full only).  */
#ifndef COVE_CMD_SAVELOAD_H
#define COVE_CMD_SAVELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg/util/error.h"
#include "storage/storage.h"

/* A small member of the archive held in memory (manifest.json, index.json,
   configs, manifests).  */
struct sl_member
{
  char *name;   /* cleaned: no leading "./" */
  char *data;
  size_t len;
};

/* Where load reads from: an OCI layout directory, or a tar archive in a
   seekable file (stdin is spooled to an unlinked file of the store's
   tmp/ first, as the layers are read in a second pass).  Every byte of it
   is untrusted.  */
struct sl_source
{
  int dirfd;        /* oci-dir, else -1 */
  int fd;           /* the archive, else -1 */
  struct sl_member *members;
  size_t n_members;
};

/* A layer to unpack: the archive member (or layout file) it comes from.  */
struct sl_layer
{
  char *member;
  char *chain_id, *parent, *diff_id;
  char *compressed_digest;  /* NULL: none known (docker-archive) */
  bool done;
};

/* Open INPUT (NULL or "-": stdin, spooled to DATA_DIR/tmp) and read its
   small members.  errnum EFBIG: too many or too large small members.  */
int cove_sl_source_open (const char *input, const char *data_dir,
                         struct sl_source *out, struct cove_error **err);
void cove_sl_source_close (struct sl_source *src);

/* Refuse an absolute NAME or one with a ".." component (EINVAL), and
   return it without leading "./" (a new string).  */
char *cove_sl_clean_name (const char *name, struct cove_error **err);

/* The bytes of member NAME (at most MAX).  errnum ENOENT, EFBIG.  The
   result belongs to SRC.  */
const char *cove_sl_source_get (struct sl_source *src, const char *name,
                                size_t max, size_t *out_len,
                                struct cove_error **err);

/* Unpack every layer of LAYERS not stored yet from SRC into S, each
   verified against its diff_id (and compressed digest when known).  */
int cove_sl_source_unpack (struct sl_source *src, struct cove_storage *s,
                           struct sl_layer *layers, size_t n,
                           struct cove_error **err);

void cove_sl_layers_free (struct sl_layer *layers, size_t n);

/* An unlinked read-write file in DATA_DIR/tmp.  */
int cove_sl_tmpfile (const char *data_dir, struct cove_error **err);

#endif

/* ---- save (savewrite.c) ---- */

/* Where save writes: a tar archive on an fd, or an OCI layout directory.  */
struct sl_sink
{
  struct archive *a;   /* archive, else NULL */
  int dirfd;           /* oci-dir, else -1 */
  int fd;              /* where the archive goes, else -1 */
  int64_t uid, gid;    /* owner of the archive's entries */
  char **written;      /* names already written (shared layers) */
};

/* A tar stream on FD (not closed by the sink), or the directory PATH
   (created when missing).  */
int cove_sl_sink_open_fd (struct sl_sink *out, int fd,
                          struct cove_error **err);
int cove_sl_sink_open_dir (struct sl_sink *out, const char *path,
                           struct cove_error **err);
/* Finish the archive (errors of the last writes show here).  */
int cove_sl_sink_close (struct sl_sink *sink, struct cove_error **err);
void cove_sl_sink_abort (struct sl_sink *sink);

/* Has NAME been written already?  */
bool cove_sl_sink_has (struct sl_sink *sink, const char *name);
/* Add directory NAME ("blobs/") to an archive.  */
int cove_sl_sink_dir (struct sl_sink *sink, const char *name,
                      struct cove_error **err);
/* Add file NAME ("blobs/sha256/x", "manifest.json") with DATA.  */
int cove_sl_sink_data (struct sl_sink *sink, const char *name,
                       const void *data, size_t len, struct cove_error **err);
/* Add file NAME with the SIZE bytes of FD (read from its start).  */
int cove_sl_sink_fd (struct sl_sink *sink, const char *name, int fd,
                     int64_t size, struct cove_error **err);

/* Write the tree of layer DIFF_PATH as an uncompressed layer tar (overlay
   whiteouts as .wh. entries) to an unlinked file of DATA_DIR/tmp; returns
   its fd, *OUT_DIGEST ("sha256:...", the new diff_id) and *OUT_SIZE.  */
int cove_sl_layer_tar (const char *data_dir, const char *diff_path,
                       char **out_digest, int64_t *out_size,
                       struct cove_error **err);
