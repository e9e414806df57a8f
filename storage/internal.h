/* storage/: declarations shared by the files of the image store.  Nobody
   outside storage/ includes this.  */
#ifndef COVE_STORAGE_INTERNAL_H
#define COVE_STORAGE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>

#include "pkg/oci/oci.h"
#include "storage/storage.h"

struct cove_storage
{
  char *root;        /* data_dir */
  int lock_fd;       /* storage.lock, flock'ed around record changes */
  /* flock excludes other processes only (threads share the open file
     description): the mutex excludes this process's other threads, e.g.
     a pull's parallel layer extractors.  Taken before the flock.  */
  pthread_mutex_t mu;
  int lease_fd;      /* tmp/<entry> of this store's lease, -1 until needed */
  char *lease_path;  /* its "held" file */
};

/* The store lock (flock on storage.lock).  Held only for the few syscalls
   of a record change, never while unpacking or downloading.  */
int storage_lock (struct cove_storage *s, struct cove_error **err);
void storage_unlock (struct cove_storage *s);

/* A fresh entry under tmp/: a directory, flock'ed by the returned fd
   (O_CLOEXEC) for as long as the caller keeps it open.  The sweep of a
   later open() removes only entries whose lock nobody holds, i.e. whose
   owner died.  *OUT_PATH gets its path.  */
int storage_tmp_entry (struct cove_storage *s, char **out_path,
                       struct cove_error **err);

/* Keep DIGEST_OR_CHAIN (a blob digest or a layer chain id) from the
   garbage collection of other processes while this store is open: a pull
   commits its blobs and layers before the image record that uses them.
   Call under the store lock.  Best effort: a failure only loses the
   protection.  */
void storage_lease_add (struct cove_storage *s, const char *what);

/* The 64 hex digits of "sha256:<hex>" (or of a bare 64-hex id), NULL when
   S is neither.  */
const char *storage_digest_hex (const char *s);
bool storage_is_hex (const char *s, size_t min_len);

/* Paths; caller frees.  */
char *storage_blob_path (struct cove_storage *s, const char *digest);
char *storage_layer_path (struct cove_storage *s, const char *chain_id);

/* The layer record of CHAIN_ID (layers/<hex>/layer.json); NULL with ENOENT
   when the layer is not there.  */
/* Does the layer directory exist?  Under the store lock.  */
bool storage_layer_present (struct cove_storage *s, const char *chain_id);

json_t *storage_layer_read (struct cove_storage *s, const char *chain_id,
                            struct cove_error **err);

/* Garbage collection (gc.c), under the store lock already held: rename
   unreferenced layers into TRASH (a tmp/ entry of the caller's, removed by
   it after unlocking) and unlink unreferenced blobs.  */
int storage_gc_locked (struct cove_storage *s, const char *trash,
                       struct cove_error **err);

/* Live leases of all processes (store.c): the set of digests and chain
   ids that must not be collected, as a JSON object used as a set.  */
json_t *storage_leases_collect (struct cove_storage *s);

/* The layer tee (tee.c): hashes the compressed bytes READ(CTX) returns and
   the tar inside them, handing the tar to cove_archive_apply.  */
/* The most one storage_tee_read returns for gzip.  */
#define STORAGE_TEE_CHUNK (256 * 1024)

enum storage_tee_mode
{
  STORAGE_TEE_DETECT,
  STORAGE_TEE_PLAIN,
  STORAGE_TEE_GZIP,
  STORAGE_TEE_ZSTD,     /* passed through compressed: diff_id not computed */
};

struct storage_tee
{
  cove_storage_read_fn read;
  void *ctx;
  enum storage_tee_mode mode;
  bool tar_digest_checked;      /* set by the caller: skip gzip's CRC */
  struct cove_oci_hasher *hc;   /* of the compressed bytes */
  unsigned char *pend;          /* bytes read for detection, not yet given */
  size_t pend_len;
  bool pend_given;
  bool eof;
  z_stream z;
  bool z_init, z_ended;
  unsigned char *out;
  /* When set, gzip output goes here (STORAGE_TEE_CHUNK bytes, the
     caller's) instead of OUT: the pipeline inflates into its ring.  */
  unsigned char *out_into;
  uint64_t compressed_bytes, uncompressed_bytes;
  /* after storage_tee_finish: */
  char *compressed_digest;      /* "sha256:..." of every byte read */
  char *diff_id;                /* of the tar; NULL for zstd, and for gzip
                                   until storage_tee_take_diff_id */
};

void storage_tee_init (struct storage_tee *t, cove_storage_read_fn read,
                       void *ctx);
/* A cove_archive_read_fn.  */
ssize_t storage_tee_read (void *ctx, const void **out,
                          struct cove_error **err);
/* Read to the end of the stream and compute the digests.  */
int storage_tee_finish (struct storage_tee *t, struct cove_error **err);
/* After apply succeeded on the tee's output: a gzip layer's diff_id is the
   digest of the tar apply parsed (ST->diff_id).  errnum ENOTSUP: apply
   decompressed the inflated stream again.  */
struct cove_archive_apply_stats;
int storage_tee_take_diff_id (struct storage_tee *t,
                              const struct cove_archive_apply_stats *st,
                              struct cove_error **err);
void storage_tee_free (struct storage_tee *t);

/* Unpack T's output onto DIFF_FD (cove_archive_apply) with the tee in a
   second thread (pipeline.c); on success T is finished (its digests set,
   the gzip diff_id still to take) and STATS filled.  The errors of
   cove_archive_apply, the source's included.  */
int storage_unpack_threaded (int diff_fd, struct storage_tee *t,
                             struct cove_archive_apply_stats *stats,
                             struct cove_error **err);

/* Rootfs drivers (rootfs-*.c).  LOWERS: layer diff dirs, top first.  */
int storage_overlay_mount_fd (char *const *lowers, size_t n_lowers,
                              const char *upper, const char *work,
                              struct cove_error **err);
int storage_fuse_overlay_mount (char *const *lowers, size_t n_lowers,
                                const char *upper, const char *work,
                                const char *target, struct cove_error **err);
/* Copy the layers (bottom first) into TARGET, applying whiteouts and
   opaque directories, keeping hard links within a layer.  */
int storage_vfs_copy (char *const *layers_bottom_first, size_t n,
                      const char *target, struct cove_error **err);

/* Copy the regular file NAME of the directory SDIR (opened with
   O_NOFOLLOW: a tree from an image, untrusted) to NAME in DDIR with
   cove_storage_copy_file; returns the copy's fd.  *OUT_SRC, when not NULL,
   gets the source's fd (O_RDONLY), for its xattrs.  volumes-copy.c.  */
int storage_copy_file_at (int sdir, int ddir, const char *name, int *out_src,
                          struct cove_error **err);

#endif
