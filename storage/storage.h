/* cove storage: where a user's images, layers and containers live.  */
#ifndef COVE_STORAGE_H
#define COVE_STORAGE_H

#include <sys/types.h>

#include "pkg/util/error.h"

/* A source of bytes: returns how many are in *OUT_BUF (valid until the
   next call), 0 at the end, -1 on error.  */
typedef ssize_t (*cove_storage_read_fn) (void *ctx, const void **out_buf,
                                         struct cove_error **err);

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


/* ---------------------------------------------------------------------
   The image store (issue 3).  Layout under data_dir:
     blobs/sha256/<hex>        content-addressed blobs (manifests, configs,
                               compressed layers as pulled), verified on write
     layers/<chain-hex>/diff/  an unpacked layer (overlay lower dir)
     layers/<chain-hex>/layer.json  {diff_id, parent, size, compressed
                               digest...}; present only once complete
     images/<config-hex>.json  an image record
     images/names.json         name -> image id index
     storage.lock              the store lock (flock), held briefly
   Every record is written atomically (temp file + rename), under the lock,
   so a cove killed at any instant leaves a store the next command reads;
   half-made blobs/layers live under tmp/ and are swept by the next command.
   --------------------------------------------------------------------- */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct cove_storage;

/* Open the store of P (creating data_dir and its folders, 0700), and sweep
   leftovers of interrupted commands.  Must run in the user namespace (the
   layer trees belong to mapped ids).  */
int cove_storage_open (const struct cove_storage_paths *p,
                       struct cove_storage **out, struct cove_error **err);
void cove_storage_close (struct cove_storage *s);

/* ---- blobs ---- */

/* A blob being written: bytes are hashed as they come; commit checks the
   digest and size and renames it into blobs/.  */
struct cove_storage_blob_writer;

/* Start writing the blob EXPECTED_DIGEST of EXPECTED_SIZE bytes (-1: not
   known).  */
struct cove_storage_blob_writer *
cove_storage_blob_begin (struct cove_storage *s, const char *expected_digest,
                         int64_t expected_size, struct cove_error **err);
int cove_storage_blob_write (struct cove_storage_blob_writer *w,
                             const void *buf, size_t len,
                             struct cove_error **err);
/* errnum EBADMSG: the content does not match the digest (nothing is
   kept); EIO: the size differs.  Frees W either way.  */
int cove_storage_blob_commit (struct cove_storage_blob_writer *w,
                              struct cove_error **err);
void cove_storage_blob_abort (struct cove_storage_blob_writer *w);

bool cove_storage_blob_exists (struct cove_storage *s, const char *digest);
/* Read a whole (small) blob, at most MAX bytes.  Caller frees.  */
char *cove_storage_blob_read (struct cove_storage *s, const char *digest,
                              size_t max, size_t *out_len,
                              struct cove_error **err);
/* Open a blob for reading (O_CLOEXEC fd).  */
int cove_storage_blob_open (struct cove_storage *s, const char *digest,
                            struct cove_error **err);
/* Store LEN bytes of DATA as blob DIGEST (begin + write + commit): for
   configs and manifests held in memory.  errnum EBADMSG as commit.  */
int cove_storage_blob_put (struct cove_storage *s, const char *digest,
                           const void *data, size_t len,
                           struct cove_error **err);

/* ---- layers ---- */

/* The chain id of a layer: sha256 of "PARENT_CHAIN DIFF_ID" (the OCI
   image spec's ChainID), or DIFF_ID for the bottom layer.  Caller frees.  */
char *cove_storage_chain_id (const char *parent_chain, const char *diff_id);

bool cove_storage_layer_exists (struct cove_storage *s, const char *chain_id);

/* Unpack a layer from its (compressed) tar stream READ(CTX) as layer
   CHAIN_ID on top of PARENT_CHAIN (NULL: bottom), checking that the
   uncompressed tar hashes to DIFF_ID (plain and gzip streams; a zstd
   stream's diff_id is trusted once COMPRESSED_DIGEST verified, and refused
   without one) and, when COMPRESSED_DIGEST is not NULL, that the bytes
   read hash to it.  CHAIN_ID must be cove_storage_chain_id (PARENT_CHAIN,
   DIFF_ID) (else EINVAL); the parent need not be stored yet, so layers may
   be unpacked in parallel (the store may be used from several threads).
   Layers are unpacked in a tmp/ directory and renamed into place only when
   complete and verified; a layer already present is kept (and READ not
   consumed).  errnum EBADMSG: a digest mismatch; EINVAL: a hostile entry
   (see cove_archive_apply); EIO: a truncated or corrupt stream.  */
int cove_storage_layer_create (struct cove_storage *s, const char *chain_id,
                               const char *parent_chain, const char *diff_id,
                               const char *compressed_digest,
                               cove_storage_read_fn read, void *ctx,
                               struct cove_error **err);

/* Unpack a layer whose diff_id is not known beforehand (import of a root
   filesystem tarball, a layer made by commit/build) on top of PARENT_CHAIN
   (NULL: bottom).  The stream is plain tar or gzip.  *OUT_DIFF_ID and
   *OUT_CHAIN_ID get its digests (caller frees).  errnum ENOTSUP: zstd.  */
int cove_storage_layer_import (struct cove_storage *s, const char *parent_chain,
                               cove_storage_read_fn read, void *ctx,
                               char **out_diff_id, char **out_chain_id,
                               struct cove_error **err);

struct cove_storage_layer
{
  char *chain_id;
  char *parent;              /* NULL for a bottom layer */
  char *diff_id;
  char *compressed_digest;   /* digest of the bytes it was unpacked from */
  int64_t size;              /* uncompressed tar size */
  char *diff_path;           /* data_dir/layers/<hex>/diff */
};

/* The record of layer CHAIN_ID.  errnum ENOENT: not stored.  Free with
   cove_storage_layer_free.  */
int cove_storage_layer_info (struct cove_storage *s, const char *chain_id,
                             struct cove_storage_layer *out,
                             struct cove_error **err);
void cove_storage_layer_free (struct cove_storage_layer *l);

/* ---- images ---- */

struct cove_storage_image
{
  char *id;                 /* 64 hex: the digest of the config blob */
  char *config_digest;      /* "sha256:<id>" */
  char *manifest_digest;    /* "sha256:..." of the manifest as pulled; NULL */
  char **names;             /* "localhost:5000/busybox:latest", ... */
  char **layers;            /* chain ids, bottom first */
  int64_t size;             /* sum of the layers' unpacked sizes */
  int64_t created;          /* seconds since the epoch */
};

/* Record an image whose config blob and layers are stored; adds NAME (may
   be NULL) to it, taking the name from any other image.  IMG->names are
   added too.  SIZE 0: computed from the layers; CREATED 0: read from the
   config's "created".  An image already recorded keeps its record and
   gains the names.  errnum ENOENT: the config blob or a layer is not
   stored; EINVAL: a malformed id or digest.  */
int cove_storage_image_add (struct cove_storage *s,
                            const struct cove_storage_image *img,
                            const char *name, struct cove_error **err);

/* Find an image by full name, by id, or by an id prefix of at least 3
   hex digits (ambiguous: EINVAL).  errnum ENOENT: no such image.  */
int cove_storage_image_lookup (struct cove_storage *s, const char *name_or_id,
                               struct cove_storage_image *out,
                               struct cove_error **err);
void cove_storage_image_free (struct cove_storage_image *img);

/* All images; *OUT an array of *OUT_N images, free each and the array.  */
int cove_storage_image_list (struct cove_storage *s,
                             struct cove_storage_image **out, size_t *out_n,
                             struct cove_error **err);

/* Add or remove a name.  */
int cove_storage_image_tag (struct cove_storage *s, const char *id,
                            const char *name, struct cove_error **err);
int cove_storage_image_untag (struct cove_storage *s, const char *name,
                              struct cove_error **err);

/* Remove image ID (or anything image_lookup takes) and every layer and
   blob no other image uses.  Checks no container: the caller does.  */
int cove_storage_image_remove (struct cove_storage *s, const char *id,
                               struct cove_error **err);

/* Remove every layer and blob that no image uses (and no running cove
   holds for a pull in progress).  */
int cove_storage_gc (struct cove_storage *s, struct cove_error **err);

/* ---- root filesystems ---- */

enum cove_storage_driver
{
  COVE_STORAGE_OVERLAY,       /* kernel overlayfs in the user namespace */
  COVE_STORAGE_FUSE_OVERLAY,  /* the fuse-overlayfs program */
  COVE_STORAGE_VFS,           /* a plain copy */
  COVE_STORAGE_AUTO,          /* overlay, else fuse-overlayfs, else vfs */
};

/* "overlay", "fuse-overlayfs", "vfs", "auto" (for --storage-driver,
   cove.conf and `cove info`); parse takes "" as auto.  errnum EINVAL.  */
const char *cove_storage_driver_name (enum cove_storage_driver d);
int cove_storage_driver_parse (const char *name,
                               enum cove_storage_driver *out,
                               struct cove_error **err);

/* Make the root filesystem of container ID (data_dir/containers/ID/) from
   the layers of IMG with a writable upper layer, and mount it (overlay:
   fsopen/fsconfig with lowerdir+, userxattr; fuse-overlayfs when the kernel
   refuses; vfs copies) in the calling process's mount namespace, at
   containers/ID/merged.  *OUT_PATH gets the mount point (vfs: the copy,
   containers/ID/rootfs).  DRIVER COVE_STORAGE_AUTO tries the drivers in
   order; any other uses that one only.  The driver used is recorded in
   containers/ID/storage-driver (cove_storage_rootfs_driver reads it).  */
int cove_storage_rootfs_mount (struct cove_storage *s,
                               const struct cove_storage_image *img,
                               const char *container_id,
                               enum cove_storage_driver driver,
                               char **out_path, struct cove_error **err);
/* Undo cove_storage_rootfs_mount: unmount merged, remove work and merged;
   upper (vfs: rootfs), the container's changes, stays.  Not mounted is
   not an error.  */
int cove_storage_rootfs_unmount (struct cove_storage *s,
                                 const char *container_id,
                                 struct cove_error **err);

/* The driver that mounted container ID's root filesystem ("overlay"...),
   NULL when none did.  Caller frees.  */
char *cove_storage_rootfs_driver (struct cove_storage *s,
                                  const char *container_id);

/* ---------------------------------------------------------------------
   Pull (storage/pull.c, written by the registry engineer): an image from
   a registry into the store.
   --------------------------------------------------------------------- */

#include <stdio.h>

struct cove_storage_pull_options
{
  const char *os, *arch, *variant;  /* platform; NULL: the host's */
  int tls_verify;             /* -1 unset (registries.conf decides), 0, 1 */
  const char *creds;          /* --creds "user[:password]", NULL: auth.json */
  const char *auth_file;      /* --authfile, NULL: the default lookup */
  const char *cert_dir;       /* --cert-dir: CA and client certificates of
                                 the registry, instead of certs.d */
  bool quiet;                 /* print nothing */
  FILE *progress;             /* where progress goes; NULL: stderr */
};

/* Pull REFERENCE (short names through registries.conf's search list,
   docker.io when it has none; mirrors before the location): fetch the
   manifest (an index or list picks OPTS' platform), check it against its
   digest, store the manifest and config blobs, download and unpack the
   missing layers in parallel as they stream, record the image under
   "registry/repository:tag" with the manifest's digest.  *OUT_IMAGE_ID
   gets the image id (64 hex; caller frees).  Progress goes to
   OPTS->progress (bars on a terminal, podman's plain lines otherwise);
   the id is not printed.  errnum as cove_registry_manifest_get and
   cove_storage_layer_create: ENOENT (manifest unknown), EACCES, EFBIG,
   EBADMSG, EINVAL, ENOTSUP (a media type cove does not handle), EIO.
   Errors read like podman's: "initializing source docker://REF: reading
   manifest TAG in REGISTRY/REPO: manifest unknown".  */
int cove_storage_pull (struct cove_storage *s, const char *reference,
                       const struct cove_storage_pull_options *opts,
                       char **out_image_id, struct cove_error **err);


/* ---------------------------------------------------------------------
   Push (storage/push.c, push-source.c): an image of the store to a
   registry.
   --------------------------------------------------------------------- */

struct cove_storage_push_options
{
  int tls_verify;             /* -1 unset (registries.conf decides), 0, 1 */
  const char *creds;          /* --creds "user[:password]", NULL: auth.json */
  const char *auth_file;      /* --authfile, NULL: the default lookup */
  const char *cert_dir;       /* --cert-dir */
  const char *format;         /* "oci", "v2s2"; NULL: the stored manifest's
                                 (OCI when none is stored) */
  const char *compression;    /* "gzip", "zstd"; NULL: as stored (gzip for
                                 blobs made again) */
  int64_t chunk_size;         /* PATCH chunks of blobs larger; 0: 32 MiB */
  bool quiet;                 /* print nothing */
  FILE *progress;             /* where progress goes; NULL: stderr */
};

/* Push IMG to DEST ("registry/repository[:tag]", tag "latest" when none,
   "docker://" allowed): each layer blob the registry lacks is mounted
   from another repository of the same registry that IMG has a name in,
   uploaded from the store when it keeps the blob, else made again from
   the layer's tree (then the config pushed carries the new diff_ids);
   then the config and the manifest (the stored one when it still fits,
   else a new one in OPTS->format).  Progress as podman prints it.
   *OUT_DIGEST gets the manifest's digest (caller frees).  The store is
   not changed.  errnum EINVAL: a bad destination or option (zstd with
   v2s2); EACCES: refused credentials or a blocked registry; EPROTO: a
   hostile answer (an upload location on another host); the errors of
   pkg/registry.  */
int cove_storage_push (struct cove_storage *s,
                       const struct cove_storage_image *img, const char *dest,
                       const struct cove_storage_push_options *opts,
                       char **out_digest, struct cove_error **err);


/* ---------------------------------------------------------------------
   A container's changes and views of its root filesystem
   (storage/changes.c, storage/rootfs-view.c; `cove diff`, `cove cp`,
   `cove export`, and what `cove commit` tars).
   --------------------------------------------------------------------- */

#include <sys/stat.h>

enum cove_storage_change_kind
{
  COVE_STORAGE_CHANGE_MODIFIED = 'C',
  COVE_STORAGE_CHANGE_ADDED = 'A',
  COVE_STORAGE_CHANGE_DELETED = 'D',
};

struct cove_storage_change
{
  enum cove_storage_change_kind kind;
  const char *path;         /* absolute in the container: "/etc/passwd" */
  /* The entry in the container's tree (upper, or the vfs copy): NAME in
     the directory DIRFD, with its stat ST; -1, NULL, NULL for a
     deletion.  Valid during the call only.  */
  int dirfd;
  const char *name;
  const struct stat *st;
};

/* Called for each change; returning -1 (with *ERR) stops the walk and is
   what the walk returns.  */
typedef int (*cove_storage_change_fn) (void *ctx,
                                       const struct cove_storage_change *c,
                                       struct cove_error **err);

/* The changes of the overlay upper directory UPPER_FD relative to the
   layer directories LOWER_FDS (N_LOWERS, top first), as docker and podman
   report them: an upper entry a layer has is C, one none has is A, a
   whiteout (character device 0/0, or an empty file with
   user.overlay.whiteout) is D; a directory whose mode, owner and mtime
   are the layers' is reported only as the parent (C) of an added or
   deleted entry; below an opaque directory (user.overlay.opaque or
   trusted.overlay.opaque "y") what the layers had is D and what the upper
   has is A (C where the layers had the same name).  Entries come depth
   first, a directory before its content, each directory's names sorted by
   bytes (a parent reported for its child comes just before it).  Symlinks
   are never followed.  The fds are the caller's.  errnum: from reading
   the trees, or FN's.  */
int cove_storage_changes_overlay (int upper_fd, const int *lower_fds,
                                  size_t n_lowers, cove_storage_change_fn fn,
                                  void *ctx, struct cove_error **err);

/* The same for a full copy (vfs) ROOTFS_FD of the layers LOWER_FDS:
   entries compared by type, mode, owner, size, mtime, symlink target and
   device number; what the layers show and the copy lacks is D.  */
int cove_storage_changes_copy (int rootfs_fd, const int *lower_fds,
                               size_t n_lowers, cove_storage_change_fn fn,
                               void *ctx, struct cove_error **err);

/* The changes of container CONTAINER_ID made from IMG: its upper
   directory, or its vfs copy, against IMG's layers (running or not: the
   trees are read, nothing is mounted).  A container never mounted has
   none.  Runs in the user namespace.  */
int cove_storage_container_changes (struct cove_storage *s,
                                    const struct cove_storage_image *img,
                                    const char *container_id,
                                    cove_storage_change_fn fn, void *ctx,
                                    struct cove_error **err);

/* A new layer made of the changes of container CONTAINER_ID (made from
   IMG) as cove_storage_container_changes reports them: a gzip'ed OCI layer
   tar (deletions as `.wh.NAME` whiteouts) kept as a blob, unpacked as a
   layer on top of IMG's top layer.  SKIP (NULL-terminated, may be NULL):
   container paths ("/etc/hosts") left out when they were added empty,
   i.e. the targets of cove's own bind mounts.  The layer and blob are
   leased until the store is closed: record the image that uses them
   before.  Runs in the user namespace.  Free OUT with
   cove_storage_commit_free.  */
struct cove_storage_commit
{
  char *diff_id;          /* sha256 of the tar */
  char *chain_id;
  char *blob_digest;      /* sha256 of the gzip'ed tar, stored as a blob */
  int64_t blob_size;
  size_t n_changes;       /* entries written: 0 for an unchanged container */
};
int cove_storage_commit_layer (struct cove_storage *s,
                               const struct cove_storage_image *img,
                               const char *container_id,
                               const char *const *skip,
                               struct cove_storage_commit *out,
                               struct cove_error **err);
void cove_storage_commit_free (struct cove_storage_commit *c);

/* A directory fd (O_CLOEXEC) of the root filesystem of container
   CONTAINER_ID made from IMG, as it is now, for reading: a detached
   read-only overlay mount of its upper directory over IMG's layers, made
   beside the container's own mount when it runs (its upper and work
   directories are not used); vfs: the copy itself; with no upper and one
   layer, that layer's directory.  Must be called in the user namespace, in
   a mount namespace of its own (unshare CLONE_NEWNS).  The mount goes
   away with the fd.  errnum from fsopen/fsconfig (the kernel refusing
   overlay: EPERM, EINVAL), ENOENT: neither an upper nor a layer.  */
int cove_storage_rootfs_view (struct cove_storage *s,
                              const struct cove_storage_image *img,
                              const char *container_id,
                              struct cove_error **err);

/* ---------------------------------------------------------------------
   Volumes (storage/volumes.c): named directories that outlive the
   containers that mount them.  Layout under data_dir:
     volumes/NAME/volume.json  the record (podman's volume inspect fields:
                               Name, Driver "local", Mountpoint, CreatedAt,
                               Labels, Options, Scope "local", Anonymous,
                               NeedsCopyUp), written atomically
     volumes/NAME/_data/       the content, bind-mounted into containers
     volumes/.new-XXXXXX/      a volume being made: renamed to NAME once
                               whole (the rename is the one atomic step,
                               so a crash leaves no half volume under its
                               name; leftovers over a minute old are swept
                               by list)
     volumes/.rm-NAME-XXXXXX/  a volume being removed (renamed aside first,
                               so of concurrent removes exactly one wins)
   Which containers use a volume is in their records (cmd/cove/ctr.h,
   extra "volumes"), not here.  Functions that touch _data's content
   (remove, copy-up) must run in the user namespace: it holds files of the
   container's ids.
   --------------------------------------------------------------------- */

struct cove_storage_volume
{
  char *name;
  char *mountpoint;         /* data_dir/volumes/NAME/_data */
  char *created_at;         /* RFC 3339 with nanoseconds */
  int64_t created;          /* ns since the epoch */
  json_t *labels;           /* object of strings; owned, never NULL */
  json_t *options;          /* object of strings; owned, never NULL */
  bool anonymous;           /* made for an image's VOLUME or `-v /dst` */
  bool needs_copy_up;       /* the image's content not copied in yet */
};

/* true when NAME is a valid volume name: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at
   most 255 bytes (podman's rule; it becomes a path component).  */
bool cove_storage_volume_name_valid (const char *name);

/* Create volume NAME (NULL: a random 64-hex-digit name) with LABELS
   ("KEY=VALUE" strings, may be NULL), marked ANONYMOUS or not, its _data
   empty (0755) and NeedsCopyUp set.  OUT (may be NULL) gets the record.
   errnum EEXIST "volume with name X already exists: volume already
   exists"; EINVAL for an invalid name (podman's message).  Nothing is
   left behind on failure.  */
int cove_storage_volume_create (const struct cove_storage_paths *p,
                                const char *name, char *const *labels,
                                bool anonymous,
                                struct cove_storage_volume *out,
                                struct cove_error **err);

/* The record of volume NAME.  errnum ENOENT "no volume with name \"X\"
   found: no such volume" (also for a name that cannot exist); EINVAL for
   a corrupt record.  Free with cove_storage_volume_free.  */
int cove_storage_volume_load (const struct cove_storage_paths *p,
                              const char *name,
                              struct cove_storage_volume *out,
                              struct cove_error **err);

/* All volumes, sorted by name.  A record that cannot be read is skipped
   and described in *OUT_WARNINGS (may be NULL; else a NULL-terminated
   "PATH: why" list, never NULL on success, freed with cove_strv_free).
   No volumes directory is no volume.  Free *OUT with
   cove_storage_volume_list_free.  */
int cove_storage_volume_list (const struct cove_storage_paths *p,
                              struct cove_storage_volume **out,
                              size_t *out_n, char ***out_warnings,
                              struct cove_error **err);

/* Remove volume NAME and its content.  Checks no container: the caller
   does.  errnum ENOENT as cove_storage_volume_load (also when another
   process removed it first).  */
int cove_storage_volume_remove (const struct cove_storage_paths *p,
                                const char *name, struct cove_error **err);

/* The first use of volume NAME at PATH of the root filesystem ROOTFS (a
   directory: an image's mounted rootfs): when the volume still needs it
   and its _data is empty, copy the content of PATH (resolved inside
   ROOTFS with RESOLVE_IN_ROOT: image content is untrusted; symlinks are
   copied, never followed) into _data with owners, modes and times, _data
   itself taking PATH's owner and mode; then clear NeedsCopyUp.  A PATH
   that is missing or not a directory copies nothing.  Serialised on the
   volume (flock), so that two first uses copy once.  */
int cove_storage_volume_copy_up (const struct cove_storage_paths *p,
                                 const char *name, const char *rootfs,
                                 const char *path, struct cove_error **err);

void cove_storage_volume_free (struct cove_storage_volume *v);
void cove_storage_volume_list_free (struct cove_storage_volume *v, size_t n);

/* ---------------------------------------------------------------------
   Copying tree entries (volumes-copy.c), shared by the volume copy-up, the
   vfs driver and cove cp.  Every name is relative to a directory fd and
   nothing at the destination is followed: both trees may belong to an
   image or a container (untrusted).  NAME is also what messages say.  */

/* Create NAME in the directory DDIR (O_EXCL | O_NOFOLLOW, mode 0600 until
   the caller sets the real one) with the rest of the content of the
   regular file IN (copy_file_range where the file systems allow it, else
   read and write).  Returns the copy's fd, the caller's to close.  errnum
   EEXIST: NAME is there.  */
int cove_storage_copy_file (int in, int ddir, const char *name,
                            struct cove_error **err);

/* Make NAME in DDIR a symlink with the target of the symlink SNAME in SDIR
   (SNAME "" with SDIR an O_PATH fd of the link itself); owner and times
   are the caller's.  errnum EEXIST: NAME is there.  */
int cove_storage_copy_symlink (int sdir, const char *sname, int ddir,
                               const char *name, struct cove_error **err);

/* Give FD the owner UID:GID, then the mode of ST (after: chown clears the
   setuid and setgid bits), then, best effort, its times.  */
int cove_storage_set_meta (int fd, const struct stat *st, uid_t uid,
                           gid_t gid, const char *name,
                           struct cove_error **err);

/* The same for NAME in DDIR, not followed (a symlink, a node): the owner
   UID:GID, then, best effort, the times of ST.  */
int cove_storage_set_meta_at (int ddir, const char *name,
                              const struct stat *st, uid_t uid, gid_t gid,
                              struct cove_error **err);

#endif
