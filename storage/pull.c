/* Pull an image from a registry into the store.  The manifest, config and
   layers come from the network: untrusted, each checked against the digest
   that names it before it is stored.  Layers download in parallel (curl
   multi in this thread) and unpack as they stream: one extractor thread per
   layer reads its socket while the multi loop writes into it.  The store
   lock is never held while streaming (storage takes it briefly).  */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pkg/oci/oci.h"
#include "pkg/registry/config.h"
#include "pkg/registry/registry.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"
#include "storage/storage.h"

#define TASK_BUF (256 * 1024)
#define SOCKET_BUF (1024 * 1024)


struct pull;

struct layer_task
{
  struct pull *p;
  size_t layer;                     /* index in the manifest */
  struct cove_registry_blob_job *job;
  size_t slot;                      /* progress slot */
  int rfd;                          /* the extractor's end */
  pthread_t thread;
  bool started;
  bool ok;                          /* read after the join */
  struct cove_error *error;
  char *buf;
};

struct pull
{
  struct cove_storage *s;
  const struct cove_storage_pull_options *opts;
  struct cove_registry_client *client;
  const char *registry, *repo;      /* the endpoint pulled from */
  struct cove_registry_progress *progress;
  struct cove_oci_manifest manifest;
  struct cove_oci_config config;
  struct cove_registry_document index_doc, manifest_doc, config_doc;
  char **chains;                    /* chain id of each layer */
  struct layer_task *tasks;         /* one per layer (unused when present) */
  struct cove_registry_blob_job *jobs;
  size_t n_jobs;
  size_t *job_task;                 /* job index -> task index */
};

/* ---- the extractor threads ---- */

static ssize_t
task_read (void *ctx, const void **out_buf, struct cove_error **err)
{
  struct layer_task *t = ctx;
  for (;;)
    {
      ssize_t n = read (t->rfd, t->buf, TASK_BUF);
      if (n > 0)
        {
          *out_buf = t->buf;
          return n;
        }
      if (n == 0)
        {
          /* EOF: the fetch stored the job's status before closing.  */
          if (__atomic_load_n (&t->job->status, __ATOMIC_ACQUIRE) == 1)
            return 0;
          return cove_error_set (err, ECANCELED, "download of %s did not complete",
                                 t->job->digest);
        }
      if (errno != EINTR)
        return cove_error_set (err, errno, "reading blob %s", t->job->digest);
    }
}

static void *
task_main (void *arg)
{
  struct layer_task *t = arg;
  struct pull *p = t->p;
  const struct cove_oci_descriptor *d = &p->manifest.layers[t->layer];
  /* Layer N does not wait for layer N-1: each unpacks into its own
     directory, the chain id only names it.  */
  bool ok = cove_storage_layer_create (p->s, p->chains[t->layer],
                                       t->layer ? p->chains[t->layer - 1] : NULL,
                                       p->config.diff_ids[t->layer], d->digest,
                                       task_read, t, &t->error) == 0;
  /* Read to the end: a layer found stored meanwhile is not consumed, and
     the fetch must not take that for a consumer that gave up.  */
  if (ok)
    {
      const void *buf;
      while (task_read (t, &buf, NULL) > 0)
        ;
    }
  close (t->rfd);
  t->rfd = -1;
  t->ok = ok;
  return NULL;
}

/* fetch op: job I starts: make its socket pair and its extractor.  */
static int
op_start (void *ctx, size_t i, struct cove_error **err)
{
  struct pull *p = ctx;
  struct layer_task *t = &p->tasks[p->job_task[i]];
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return cove_error_set (err, errno, "socketpair");
  int sz = SOCKET_BUF;
  setsockopt (sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  setsockopt (sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
  shutdown (sv[0], SHUT_RD);
  shutdown (sv[1], SHUT_WR);
  t->rfd = sv[1];
  t->buf = xmalloc (TASK_BUF);
  int r = pthread_create (&t->thread, NULL, task_main, t);
  t->started = r == 0;
  if (r != 0)
    {
      close (sv[0]);
      close (sv[1]);
      t->rfd = -1;
      return cove_error_set (err, r, "starting the extractor of layer %s", t->job->digest);
    }
  p->jobs[i].fd = sv[0];
  return 0;
}

static void
op_finish (void *ctx, size_t i)
{
  struct pull *p = ctx;
  struct layer_task *t = &p->tasks[p->job_task[i]];
  cove_registry_progress_update (p->progress, t->slot, p->jobs[i].received);
  if (p->jobs[i].status == 1)
    cove_registry_progress_done (p->progress, t->slot);
}

static void
op_progress (void *ctx)
{
  struct pull *p = ctx;
  for (size_t i = 0; i < p->n_jobs; i++)
    cove_registry_progress_update (p->progress, p->tasks[p->job_task[i]].slot,
                                   p->jobs[i].received);
  cove_registry_progress_draw (p->progress, false);
}

/* The error that explains a failed layer download: an extractor's own
   (a hostile tar, a digest mismatch) before the fetch's.  */
static int
layers_error (struct pull *p, struct cove_error **fetch_err, struct cove_error **err)
{
  for (size_t i = 0; i < p->manifest.n_layers; i++)
    {
      struct layer_task *t = &p->tasks[i];
      if (t->error && t->error->errnum != ECANCELED)
        {
          cove_error_set (err, t->error->errnum, "%s", t->error->msg);
          return cove_error_wrap (err, "copying blob %s", p->manifest.layers[i].digest);
        }
    }
  if (*fetch_err)
    {
      cove_error_set (err, (*fetch_err)->errnum, "%s", (*fetch_err)->msg);
      return cove_error_wrap (err, "copying blobs");
    }
  for (size_t i = 0; i < p->manifest.n_layers; i++)
    if (p->tasks[i].error)
      return cove_error_set (err, p->tasks[i].error->errnum, "%s", p->tasks[i].error->msg);
  return 0;
}

/* Download and unpack the layers not stored yet.  */
static int
pull_layers (struct pull *p, struct cove_error **err)
{
  size_t n = p->manifest.n_layers;
  p->tasks = xmalloc0 (n * sizeof *p->tasks);
  p->jobs = xmalloc0 (n * sizeof *p->jobs);
  p->job_task = xmalloc0 (n * sizeof *p->job_task);
  for (size_t i = 0; i < n; i++)
    {
      const struct cove_oci_descriptor *d = &p->manifest.layers[i];
      bool have = cove_storage_layer_exists (p->s, p->chains[i]);
      p->tasks[i] = (struct layer_task) { .p = p, .layer = i, .rfd = -1 };
      p->tasks[i].slot = cove_registry_progress_add (p->progress, d->digest, d->size, have);
      if (have)
        continue;
      p->jobs[p->n_jobs] = (struct cove_registry_blob_job) {
        .digest = d->digest, .size = d->size, .verify = false, .fd = -1 };
      p->tasks[i].job = &p->jobs[p->n_jobs];
      p->job_task[p->n_jobs++] = i;
    }
  if (p->n_jobs == 0)
    return 0;
  struct cove_registry_fetch_ops ops = { .start = op_start, .finish = op_finish,
                                         .progress = op_progress, .ctx = p };
  cleanup_error struct cove_error *fetch_err = NULL;
  cove_registry_blobs_fetch (p->client, p->repo, p->jobs, p->n_jobs, &ops, &fetch_err);
  for (size_t i = 0; i < n; i++)
    if (p->tasks[i].started)
      pthread_join (p->tasks[i].thread, NULL);
  for (size_t i = 0; i < p->n_jobs; i++)
    {
      struct layer_task *t = &p->tasks[p->job_task[i]];
      if (t->ok)
        cove_registry_progress_done (p->progress, t->slot);
    }
  cove_registry_progress_draw (p->progress, true);
  return layers_error (p, &fetch_err, err);
}

/* ---- documents ---- */

static bool
is_index (const struct cove_oci_manifest *m)
{
  return m->kind == COVE_OCI_DOC_INDEX;
}

/* Fetch and parse the manifest of REFERENCE; an index or list picks the
   platform of the options and fetches that manifest by digest.  */
static int
pull_manifest (struct pull *p, const char *reference, struct cove_error **err)
{
  struct cove_registry_document doc = { 0 };
  if (cove_registry_manifest_get (p->client, p->repo, reference, &doc, err) < 0)
    return -1;
  struct cove_oci_manifest m = { 0 };
  if (cove_oci_manifest_parse (doc.data, doc.len, doc.media_type, &m, err) < 0)
    {
      cove_registry_document_free (&doc);
      return cove_error_wrap (err, "parsing manifest %s", reference);
    }
  if (!is_index (&m))
    {
      p->manifest = m;
      p->manifest_doc = doc;
      return 0;
    }
  p->index_doc = doc;
  const char *os, *arch, *variant;
  cove_oci_host_platform (&os, &arch, &variant);
  if (p->opts->os)
    os = p->opts->os;
  if (p->opts->arch)
    arch = p->opts->arch, variant = NULL;
  if (p->opts->variant)
    variant = p->opts->variant;
  int i = cove_oci_index_select (&m, os, arch, variant, err);
  cleanup_free char *digest = i >= 0 ? xstrdup (m.manifests[i].digest) : NULL;
  int64_t size = i >= 0 ? m.manifests[i].size : 0;
  cove_oci_manifest_free (&m);
  if (i < 0)
    return -1;
  if (cove_registry_manifest_get (p->client, p->repo, digest, &p->manifest_doc, err) < 0)
    return -1;
  if ((int64_t) p->manifest_doc.len != size)
    return cove_error_set (err, EIO, "manifest %s: %zu bytes, the index says %lld",
                           digest, p->manifest_doc.len, (long long) size);
  if (cove_oci_manifest_parse (p->manifest_doc.data, p->manifest_doc.len,
                               p->manifest_doc.media_type, &p->manifest, err) < 0)
    return cove_error_wrap (err, "parsing manifest %s", digest);
  if (is_index (&p->manifest))
    return cove_error_set (err, ENOTSUP, "manifest %s: an index inside an index", digest);
  return 0;
}

/* The config blob: from the store when there, else from the registry.  */
static int
pull_config (struct pull *p, struct cove_error **err)
{
  const struct cove_oci_descriptor *d = &p->manifest.config;
  if (d->size < 0 || d->size > COVE_OCI_DOCUMENT_MAX)
    return cove_error_set (err, EFBIG, "config %s: %lld bytes", d->digest,
                           (long long) d->size);
  if (cove_storage_blob_exists (p->s, d->digest))
    {
      p->config_doc.data = cove_storage_blob_read (p->s, d->digest, COVE_OCI_DOCUMENT_MAX,
                                                   &p->config_doc.len, err);
      if (p->config_doc.data == NULL)
        return -1;
      p->config_doc.digest = xstrdup (d->digest);
    }
  else if (cove_registry_blob_get (p->client, p->repo, d->digest,
                                   COVE_OCI_DOCUMENT_MAX, &p->config_doc, err) < 0)
    return -1;
  if ((int64_t) p->config_doc.len != d->size)
    return cove_error_set (err, EIO, "config %s: %zu bytes, the manifest says %lld",
                           d->digest, p->config_doc.len, (long long) d->size);
  if (cove_oci_config_parse (p->config_doc.data, p->config_doc.len, &p->config, err) < 0)
    return cove_error_wrap (err, "parsing config %s", d->digest);
  if (p->config.n_diff_ids != p->manifest.n_layers)
    return cove_error_set (err, EINVAL, "image config %s has %zu diff_ids for %zu layers",
                           d->digest, p->config.n_diff_ids, p->manifest.n_layers);
  p->chains = xmalloc0 ((p->manifest.n_layers + 1) * sizeof *p->chains);
  for (size_t i = 0; i < p->manifest.n_layers; i++)
    p->chains[i] = cove_storage_chain_id (i ? p->chains[i - 1] : NULL,
                                          p->config.diff_ids[i]);
  return 0;
}

static int
put_blob (struct pull *p, const struct cove_registry_document *d,
          struct cove_error **err)
{
  if (d->data == NULL || cove_storage_blob_exists (p->s, d->digest))
    return 0;
  return cove_storage_blob_put (p->s, d->digest, d->data, d->len, err);
}

static void
line (struct pull *p, const char *what, const char *digest)
{
  cleanup_free char *text = digest ? xasprintf ("%s %s done", what, digest) : NULL;
  cove_registry_progress_line (p->progress, text ? text : what);
}

/* Everything after the manifest: config, layers, blobs, the record.  */
static int
pull_image (struct pull *p, const char *name, char **out_id,
            struct cove_error **err)
{
  if (pull_config (p, err) < 0)
    return -1;
  line (p, "Getting image source signatures", NULL);
  /* The config and manifest blobs after the layers: a pull that fails on
     a layer leaves no blob behind.  */
  if (pull_layers (p, err) < 0 || put_blob (p, &p->config_doc, err) < 0)
    return -1;
  line (p, "Copying config", p->manifest.config.digest);
  line (p, "Writing manifest to image destination", NULL);
  if (put_blob (p, &p->manifest_doc, err) < 0 || put_blob (p, &p->index_doc, err) < 0)
    return -1;
  const char *hex = strchr (p->manifest.config.digest, ':') + 1;
  struct cove_storage_image img = {
    .id = (char *) hex, .config_digest = p->manifest.config.digest,
    .manifest_digest = p->manifest_doc.digest, .layers = p->chains,
  };
  if (cove_storage_image_add (p->s, &img, name, err) < 0)
    return -1;
  *out_id = xstrdup (hex);
  return 0;
}

/* ---- endpoints and references ---- */

static void
pull_free (struct pull *p)
{
  for (size_t i = 0; p->tasks && i < p->manifest.n_layers; i++)
    {
      free (p->tasks[i].buf);
      cove_error_free (p->tasks[i].error);
    }
  for (size_t i = 0; i < p->n_jobs; i++)
    cove_error_free (p->jobs[i].error);
  free (p->tasks);
  free (p->jobs);
  free (p->job_task);
  cove_strv_free (p->chains);
  cove_oci_manifest_free (&p->manifest);
  cove_oci_config_free (&p->config);
  cove_registry_document_free (&p->index_doc);
  cove_registry_document_free (&p->manifest_doc);
  cove_registry_document_free (&p->config_doc);
  cove_registry_client_free (p->client);
}

/* Pull REF (for its tag or digest) from endpoint EP, recording NAME.  */
static int
pull_from (struct cove_storage *s, const struct cove_storage_pull_options *opts,
           const struct cove_registry_endpoint *ep, const struct cove_oci_ref *ref,
           struct cove_registry_progress *progress, const char *name,
           char **out_id, struct cove_error **err)
{
  cleanup_free char *user = NULL;
  const char *password = NULL;
  if (opts->creds)
    {
      user = xstrdup (opts->creds);
      char *colon = strchr (user, ':');
      password = colon ? colon + 1 : "";
      if (colon)
        *colon = '\0';
    }
  struct cove_registry_auth_source actx = { .authfile = opts->auth_file,
                                            .repository = ep->repository };
  struct cove_registry_options ropts = {
    .tls_verify = opts->tls_verify, .insecure = ep->insecure,
    .username = user, .password = password,
    .auth_lookup = cove_registry_auth_from_files, .auth_ctx = &actx,
    .cert_dir = opts->cert_dir,
  };
  struct pull p = { .s = s, .opts = opts, .registry = ep->registry,
                    .repo = ep->repository, .progress = progress };
  const char *reference = ref->digest ? ref->digest : ref->tag;
  int r = cove_registry_client_new (ep->registry, &ropts, &p.client, err);
  if (r == 0 && (r = pull_manifest (&p, reference, err)) < 0)
    cove_error_wrap (err, "initializing source docker://%s/%s:%s", ep->registry,
                     ep->repository, ref->tag ? ref->tag : reference);
  if (r == 0)
    r = pull_image (&p, name, out_id, err);
  pull_free (&p);
  return r;
}

/* "registry/repo:tag", or "registry/repo@digest" without a tag.  */
static char *
record_name (const struct cove_oci_ref *ref)
{
  if (ref->tag)
    return xasprintf ("%s/%s:%s", ref->registry, ref->repository, ref->tag);
  return xasprintf ("%s/%s@%s", ref->registry, ref->repository, ref->digest);
}

/* Try the endpoints of candidate REF (mirrors, then the location).  */
static int
pull_candidate (struct cove_storage *s, const struct cove_storage_pull_options *opts,
                const struct cove_registry_conf *conf, const struct cove_oci_ref *ref,
                struct cove_registry_progress *progress, char **out_id,
                struct cove_error **err)
{
  cleanup_free char *name = record_name (ref);
  cleanup_free char *trying = xasprintf ("Trying to pull %s...", name);
  cove_registry_progress_line (progress, trying);
  struct cove_registry_endpoint *eps = NULL;
  size_t n = 0;
  if (cove_registry_conf_endpoints (conf, ref, &eps, &n, err) < 0)
    return -1;
  int r = -1;
  for (size_t i = 0; i < n && r < 0; i++)
    {
      /* A failing mirror is skipped: the next one, or the location, may
         serve the image; the last error is the one told.  */
      if (i > 0)
        cove_error_release (err);
      r = pull_from (s, opts, &eps[i], ref, progress, name, out_id, err);
    }
  if (n == 0)
    cove_error_set (err, ENOENT, "no endpoint for %s", name);
  cove_registry_endpoints_free (eps, n);
  return r;
}

static enum cove_registry_progress_mode
progress_mode (const struct cove_storage_pull_options *opts, FILE *out)
{
  if (opts->quiet)
    return COVE_REGISTRY_PROGRESS_QUIET;
  return isatty (fileno (out)) ? COVE_REGISTRY_PROGRESS_TTY
    : COVE_REGISTRY_PROGRESS_PLAIN;
}

int
cove_storage_pull (struct cove_storage *s, const char *reference,
                   const struct cove_storage_pull_options *opts,
                   char **out_image_id, struct cove_error **err)
{
  if (strncmp (reference, "docker://", 9) == 0)
    reference += 9;
  struct cove_oci_ref ref = { 0 };
  if (cove_oci_ref_parse (reference, &ref, err) < 0)
    return cove_error_wrap (err, "parsing reference `%s`", reference);
  struct cove_registry_conf *conf = NULL;
  struct cove_oci_ref *cands = NULL;
  size_t n = 0;
  int r = cove_registry_conf_load (&conf, err);
  if (r == 0)
    r = cove_registry_conf_candidates (conf, &ref, &cands, &n, err);
  FILE *out = opts->progress ? opts->progress : stderr;
  struct cove_registry_progress *progress
    = cove_registry_progress_new (out, progress_mode (opts, out));
  cleanup_error struct cove_error *first = NULL;
  for (size_t i = 0; r == 0 && i < n; i++)
    {
      struct cove_error *e = NULL;
      if (pull_candidate (s, opts, conf, &cands[i], progress, out_image_id, &e) == 0)
        {
          cove_error_release (&first);
          break;
        }
      /* A short name tried in several registries: the first registry's
         error is the one told (it is where the user most likely meant).  */
      if (first == NULL)
        first = e;
      else
        cove_error_free (e);
      if (i + 1 == n)
        r = -1;
    }
  if (r < 0 && first)
    cove_error_set (err, first->errnum, "%s", first->msg);
  else if (r == 0 && n == 0)
    r = cove_error_set (err, ENOENT, "no registry to pull %s from", reference);
  cove_registry_progress_free (progress);
  cove_registry_refs_free (cands, n);
  cove_registry_conf_free (conf);
  cove_oci_ref_free (&ref);
  return r;
}
