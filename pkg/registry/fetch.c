/* Parallel blob download with curl multi.  Each transfer writes into its
   job's non-blocking socket; when the socket is full, the bytes not taken
   wait in the transfer's pending buffer and the next delivery pauses the
   transfer (CURL_WRITEFUNC_PAUSE) until the socket is writable again
   (curl_multi_poll's extra_fds), so one slow consumer holds back only its
   own blob.  Every byte comes from the network: untrusted, counted against
   the descriptor's size and, when asked, hashed against its digest.  */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pkg/oci/oci.h"
#include "pkg/registry/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

struct xfer
{
  struct fetch *f;
  size_t index;
  struct cove_registry_blob_job *job;
  CURL *easy;
  struct curl_slist *headers;
  char errbuf[CURL_ERROR_SIZE];
  struct cove_oci_hasher *hasher;
  char *pending;              /* bytes taken from curl, not yet sent */
  size_t pending_len, pending_off;
  bool active, in_multi, curl_done, retried;
  CURLcode result;
  char *errbody;              /* body of a non-2xx answer, bounded */
  size_t errlen;
  char *www_auth;
};

struct fetch
{
  struct cove_registry_client *c;
  const char *repo;
  struct cove_registry_blob_job *jobs;
  size_t n, next, active, max;
  const struct cove_registry_fetch_ops *ops;
  struct xfer *x;
  CURLM *multi;
  bool failed;
};

static void
xfer_fail (struct xfer *x, int errnum, const char *why)
{
  if (x->job->error == NULL)
    cove_error_set (&x->job->error, errnum, "blob %s: %s", x->job->digest, why);
}

static size_t
on_header (char *data, size_t size, size_t nmemb, void *userdata)
{
  struct xfer *x = userdata;
  size_t len = size * nmemb;
  if (x->www_auth == NULL && len > 17 && strncasecmp (data, "WWW-Authenticate:", 17) == 0)
    {
      const char *end = data + len;
      while (end > data + 17 && (end[-1] == '\r' || end[-1] == '\n'))
        end--;
      x->www_auth = xstrndup (data + 17, end - data - 17);
    }
  return len;
}

static void
keep_pending (struct xfer *x, const char *data, size_t len)
{
  x->pending = xrealloc (x->pending, len);
  memcpy (x->pending, data, len);
  x->pending_len = len;
  x->pending_off = 0;
}

static size_t
on_blob (char *data, size_t size, size_t nmemb, void *userdata)
{
  struct xfer *x = userdata;
  struct cove_registry_blob_job *job = x->job;
  size_t len = size * nmemb;
  long status = 0;
  curl_easy_getinfo (x->easy, CURLINFO_RESPONSE_CODE, &status);
  if (status / 100 != 2)
    {
      size_t room = REGISTRY_ERROR_BODY_MAX - x->errlen;
      size_t n = len < room ? len : room;
      x->errbody = xrealloc (x->errbody, x->errlen + n + 1);
      memcpy (x->errbody + x->errlen, data, n);
      x->errlen += n;
      x->errbody[x->errlen] = '\0';
      return len;
    }
  if (x->pending_off < x->pending_len)
    return CURL_WRITEFUNC_PAUSE;    /* redelivered once unpaused */
  if (job->size >= 0 && (int64_t) len > job->size - job->received)
    {
      xfer_fail (x, EIO, "the registry sent more bytes than the descriptor's size");
      return 0;
    }
  ssize_t n = send (job->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    n = 0;
  if (n < 0)
    {
      xfer_fail (x, errno, "the consumer stopped reading");
      return 0;
    }
  if (x->hasher)
    cove_oci_hasher_update (x->hasher, data, len);
  job->received += (int64_t) len;
  if ((size_t) n < len)
    keep_pending (x, data + n, len - n);
  return len;
}

static int
xfer_start (struct fetch *f, struct xfer *x, struct cove_error **err)
{
  cleanup_free char *url = cove_registry_url (f->c->scheme, f->c->registry,
                                              f->repo, "blobs", x->job->digest);
  x->easy = curl_easy_init ();
  if (x->easy == NULL)
    return cove_error_set (err, ENOMEM, "initializing libcurl");
  registry_setup_easy (f->c, x->easy, x->errbuf);
  const char *auth = registry_auth_header (f->c, f->repo);
  if (auth)
    x->headers = curl_slist_append (x->headers, auth);
  curl_easy_setopt (x->easy, CURLOPT_URL, url);
  curl_easy_setopt (x->easy, CURLOPT_HTTPHEADER, x->headers);
  curl_easy_setopt (x->easy, CURLOPT_WRITEFUNCTION, on_blob);
  curl_easy_setopt (x->easy, CURLOPT_WRITEDATA, x);
  curl_easy_setopt (x->easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (x->easy, CURLOPT_HEADERDATA, x);
  curl_easy_setopt (x->easy, CURLOPT_PRIVATE, x);
  curl_easy_setopt (x->easy, CURLOPT_BUFFERSIZE, 256L * 1024);
  if (x->job->size >= 0)
    curl_easy_setopt (x->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) x->job->size);
  if (x->hasher == NULL && x->job->verify)
    x->hasher = cove_oci_hasher_new ();
  if (curl_multi_add_handle (f->multi, x->easy) != CURLM_OK)
    return cove_error_set (err, EIO, "starting the download of %s", x->job->digest);
  x->in_multi = true;
  return 0;
}

static void
xfer_release (struct fetch *f, struct xfer *x)
{
  if (x->in_multi)
    curl_multi_remove_handle (f->multi, x->easy);
  x->in_multi = false;
  if (x->easy)
    curl_easy_cleanup (x->easy);
  x->easy = NULL;
  curl_slist_free_all (x->headers);
  x->headers = NULL;
  free (x->errbody);
  x->errbody = NULL;
  x->errlen = 0;
  free (x->www_auth);
  x->www_auth = NULL;
}

/* The transfer and its pending bytes are over: check it, publish the
   status, close the fd (the consumer sees EOF), tell the caller.  */
static void
xfer_finish (struct fetch *f, struct xfer *x, bool ok)
{
  struct cove_registry_blob_job *job = x->job;
  if (ok && job->error == NULL && job->size >= 0 && job->received != job->size)
    cove_error_set (&job->error, EIO, "blob %s: truncated: got %lld of %lld bytes",
                    job->digest, (long long) job->received, (long long) job->size);
  if (x->hasher)
    {
      cleanup_free char *got = cove_oci_hasher_finish (x->hasher);
      x->hasher = NULL;
      if (ok && job->error == NULL && strcmp (got, job->digest) != 0)
        cove_error_set (&job->error, EBADMSG, "blob %s: digest mismatch: got %s",
                        job->digest, got);
    }
  ok = ok && job->error == NULL;
  xfer_release (f, x);
  __atomic_store_n (&job->status, ok ? 1 : -1, __ATOMIC_RELEASE);
  close (job->fd);
  job->fd = -1;
  x->active = false;
  f->active--;
  if (!ok)
    f->failed = true;
  if (f->ops->finish)
    f->ops->finish (f->ops->ctx, x->index);
}

/* A 401 in the middle of a pull: the token expired.  Get another and
   restart the transfer (nothing of it was sent yet).  */
static bool
xfer_reauth (struct fetch *f, struct xfer *x)
{
  if (x->retried || x->job->received != 0 || x->www_auth == NULL)
    return false;
  x->retried = true;
  cleanup_free char *www_auth = steal_pointer (&x->www_auth);
  if (registry_authenticate (f->c, f->repo, www_auth, &x->job->error) <= 0)
    return false;
  xfer_release (f, x);
  return xfer_start (f, x, &x->job->error) == 0;
}

/* curl says the transfer ended.  */
static void
xfer_done (struct fetch *f, struct xfer *x, CURLcode result)
{
  long status = 0;
  curl_easy_getinfo (x->easy, CURLINFO_RESPONSE_CODE, &status);
  curl_multi_remove_handle (f->multi, x->easy);
  x->in_multi = false;
  x->curl_done = true;
  if (result == CURLE_OK && status == 401 && xfer_reauth (f, x))
    {
      x->curl_done = false;
      return;
    }
  /* The status first: an error body may be larger than the blob.  */
  if (x->job->error == NULL && status != 0 && status / 100 != 2)
    {
      cleanup_free char *msg = registry_error_message (x->errbody, x->errlen);
      int errnum = status == 404 ? ENOENT : status == 401 || status == 403 ? EACCES : EIO;
      cove_error_set (&x->job->error, errnum, "reading blob %s: %s", x->job->digest,
                      msg ? msg : status == 404 ? "blob unknown" : "unexpected status");
    }
  else if (x->job->error == NULL && result != CURLE_OK)
    cove_error_set (&x->job->error,
                    result == CURLE_FILESIZE_EXCEEDED || result == CURLE_PARTIAL_FILE
                    ? EIO : registry_curl_errno (result),
                    "blob %s: %s", x->job->digest,
                    x->errbuf[0] ? x->errbuf : curl_easy_strerror (result));
  if (x->job->error || x->pending_off == x->pending_len)
    xfer_finish (f, x, x->job->error == NULL);
}

/* The socket of X is writable: send what is pending, then let curl go on. */
static void
xfer_flush (struct fetch *f, struct xfer *x)
{
  ssize_t n = send (x->job->fd, x->pending + x->pending_off,
                    x->pending_len - x->pending_off, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
    {
      xfer_fail (x, errno, "the consumer stopped reading");
      xfer_finish (f, x, false);
      return;
    }
  if (n > 0)
    x->pending_off += (size_t) n;
  if (x->pending_off < x->pending_len)
    return;
  x->pending_off = x->pending_len = 0;
  if (x->curl_done)
    xfer_finish (f, x, true);
  else
    curl_easy_pause (x->easy, CURLPAUSE_CONT);   /* may deliver at once */
}

static void
abort_all (struct fetch *f)
{
  for (size_t i = 0; i < f->n; i++)
    if (f->x[i].active)
      xfer_finish (f, &f->x[i], false);
}

static int
start_more (struct fetch *f, struct cove_error **err)
{
  while (!f->failed && f->active < f->max && f->next < f->n)
    {
      struct xfer *x = &f->x[f->next];
      x->f = f;
      x->index = f->next;
      x->job = &f->jobs[f->next++];
      x->job->fd = -1;
      if (f->ops->start (f->ops->ctx, x->index, err) < 0)
        return -1;
      x->active = true;
      f->active++;
      if (xfer_start (f, x, &x->job->error) < 0)
        xfer_finish (f, x, false);
    }
  return 0;
}

static void
drain_messages (struct fetch *f)
{
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read (f->multi, &left)))
    {
      if (msg->msg != CURLMSG_DONE)
        continue;
      struct xfer *x = NULL;
      curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **) &x);
      CURLcode result = msg->data.result;
      if (x && x->active)
        xfer_done (f, x, result);
    }
}

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One round: run curl, settle ended transfers, wait for the network or a
   socket with pending bytes.  */
static int
step (struct fetch *f, struct curl_waitfd *wait, struct cove_error **err)
{
  int running = 0;
  CURLMcode mc = curl_multi_perform (f->multi, &running);
  if (mc != CURLM_OK)
    return cove_error_set (err, EIO, "downloading blobs: %s", curl_multi_strerror (mc));
  drain_messages (f);
  unsigned n_wait = 0;
  for (size_t i = 0; i < f->n; i++)
    if (f->x[i].active && f->x[i].pending_off < f->x[i].pending_len)
      wait[n_wait++] = (struct curl_waitfd) { .fd = f->x[i].job->fd,
                                              .events = POLLOUT };
  if (f->active == 0)
    return 0;
  mc = curl_multi_poll (f->multi, wait, n_wait, 100, NULL);
  if (mc != CURLM_OK)
    return cove_error_set (err, EIO, "downloading blobs: %s", curl_multi_strerror (mc));
  for (unsigned w = 0; w < n_wait; w++)
    if (wait[w].revents)
      for (size_t i = 0; i < f->n; i++)
        if (f->x[i].active && f->x[i].job->fd == wait[w].fd)
          xfer_flush (f, &f->x[i]);
  return 0;
}

int
cove_registry_blobs_fetch (struct cove_registry_client *c, const char *repo,
                           struct cove_registry_blob_job *jobs, size_t n_jobs,
                           const struct cove_registry_fetch_ops *ops,
                           struct cove_error **err)
{
  if (cove_registry_ping (c, err) < 0 || registry_prepare_auth (c, repo, err) < 0)
    return -1;
  struct fetch f = { .c = c, .repo = repo, .jobs = jobs, .n = n_jobs, .ops = ops,
                     .max = ops->max_parallel ? ops->max_parallel : 6 };
  f.x = xmalloc0 ((n_jobs + 1) * sizeof *f.x);
  cleanup_free struct curl_waitfd *wait = xmalloc0 ((n_jobs + 1) * sizeof *wait);
  f.multi = curl_multi_init ();
  int ret = f.multi ? 0 : cove_error_set (err, ENOMEM, "initializing libcurl");
  int64_t last = 0;
  while (ret == 0 && (f.next < f.n || f.active > 0))
    {
      ret = start_more (&f, err);
      if (ret == 0 && !f.failed)
        ret = step (&f, wait, err);
      if (ret == 0 && ops->progress && now_ms () - last >= 100)
        {
          ops->progress (ops->ctx);
          last = now_ms ();
        }
      if (ret < 0 || f.failed)
        break;
    }
  abort_all (&f);
  for (size_t i = 0; ret == 0 && i < n_jobs; i++)
    if (jobs[i].error)
      ret = cove_error_set (err, jobs[i].error->errnum, "%s", jobs[i].error->msg);
  if (ret == 0 && f.failed)
    ret = cove_error_set (err, EIO, "downloading blobs failed");
  for (size_t i = 0; i < n_jobs; i++)
    {
      free (f.x[i].pending);
      if (f.x[i].hasher)
        cove_oci_hasher_free (f.x[i].hasher);
    }
  free (f.x);
  if (f.multi)
    curl_multi_cleanup (f.multi);
  return ret;
}
