/* The two-stage layer unpack: one layer uses two cores.  Stage 1 (a thread
   of its own) pulls the compressed stream through the tee (hash of the
   compressed bytes, gzip inflate); stage 2 (the calling thread) runs
   cove_archive_apply (tar parsing, hash of the tar, file creation).  They
   meet in a small ring of fixed slots under a mutex: stage 1 fills the slot
   after the last full one, stage 2 holds the oldest full slot while apply
   reads it and releases it on its next read (a cove_archive_read_fn's
   buffer stays valid until the next call).

   Ending, on every path, without a hang:
   - stage 1 ends the stream with EOF or with its error (a truncated or
     corrupt gzip stream, the source's error), which stage 2 gets after the
     slots before it, i.e. where a one-thread unpack would have met it;
   - stage 2 ending first (a hostile entry, a full disk) cancels: stage 1,
     waiting for a free slot or back from its next read, stops at once
     without reading on, so the caller's source is left as a one-thread
     failure leaves it.  The join then waits at most for the source's
     current read to return.
   Only cove-full's layer code runs this; the runtime never starts threads.
   The tee is touched by stage 1 only until the join.  */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/archive/archive.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"
#include "storage/internal.h"

#define PIPE_SLOTS 8
#define PIPE_SLOT_SIZE STORAGE_TEE_CHUNK   /* gzip inflates into a slot */

struct pipe_ring
{
  pthread_mutex_t mu;
  pthread_cond_t cv;            /* any change: slots, eof, cancel */
  unsigned char *slot[PIPE_SLOTS];
  size_t len[PIPE_SLOTS];
  size_t head, count;           /* full slots: head .. head+count-1 */
  bool held;                    /* stage 2 reads slot[head] */
  bool eof;                     /* stage 1 is done (error set on failure) */
  bool cancelled;               /* stage 2 is done: stage 1 stops */
  struct cove_error *error;     /* stage 1's, until stage 2 takes it */
  bool failed;                  /* ... and once it has */
  struct storage_tee *tee;
};

/* Stage 1: the index of a free slot, -1 once cancelled.  */
static int
ring_acquire (struct pipe_ring *r)
{
  pthread_mutex_lock (&r->mu);
  while (r->count == PIPE_SLOTS && !r->cancelled)
    pthread_cond_wait (&r->cv, &r->mu);
  int i = r->cancelled ? -1 : (int) ((r->head + r->count) % PIPE_SLOTS);
  pthread_mutex_unlock (&r->mu);
  return i;
}

static void
ring_commit (struct pipe_ring *r)
{
  pthread_mutex_lock (&r->mu);
  r->count++;
  pthread_cond_broadcast (&r->cv);
  pthread_mutex_unlock (&r->mu);
}

/* Fill slots until the end of the stream, an error (-1, *ERR set) or the
   cancel (1).  Slot I is free and only this thread fills slots: it is
   written unlocked.  gzip inflates straight into the slot; other modes
   hand on the source's buffer, copied (in slot-sized pieces).  */
static int
stage1_fill (struct pipe_ring *r, struct cove_error **err)
{
  const unsigned char *rest = NULL;
  size_t rest_len = 0;
  for (;;)
    {
      int i = ring_acquire (r);
      if (i < 0)
        return 1;
      if (rest_len == 0)
        {
          const void *buf;
          r->tee->out_into = r->slot[i];
          ssize_t n = storage_tee_read (r->tee, &buf, err);
          r->tee->out_into = NULL;
          if (n <= 0)
            return (int) n;
          rest = buf;
          rest_len = (size_t) n;
        }
      size_t k = rest_len < PIPE_SLOT_SIZE ? rest_len : PIPE_SLOT_SIZE;
      if (rest != r->slot[i])
        memcpy (r->slot[i], rest, k);
      r->len[i] = k;
      rest += k;
      rest_len -= k;
      ring_commit (r);
    }
}

static void *
stage1_main (void *arg)
{
  struct pipe_ring *r = arg;
  struct cove_error *e = NULL;
  /* At the end of the stream finish has nothing left to read and only
     computes the digests; cancelled, they are not wanted.  */
  if (stage1_fill (r, &e) == 0)
    storage_tee_finish (r->tee, &e);
  pthread_mutex_lock (&r->mu);
  r->error = e;
  r->eof = true;
  pthread_cond_broadcast (&r->cv);
  pthread_mutex_unlock (&r->mu);
  return NULL;
}

/* Stage 2's cove_archive_read_fn.  */
static ssize_t
ring_read (void *ctx, const void **out, struct cove_error **err)
{
  struct pipe_ring *r = ctx;
  pthread_mutex_lock (&r->mu);
  if (r->held)
    {
      r->held = false;
      r->head = (r->head + 1) % PIPE_SLOTS;
      r->count--;
      pthread_cond_broadcast (&r->cv);
    }
  while (r->count == 0 && !r->eof)
    pthread_cond_wait (&r->cv, &r->mu);
  ssize_t n = 0;
  if (r->count > 0)
    {
      r->held = true;
      *out = r->slot[r->head];
      n = (ssize_t) r->len[r->head];
    }
  else if (r->error != NULL)
    {
      /* Stage 1's error, handed on whole: apply returns it as READ's.  */
      if (err != NULL && *err == NULL)
        *err = r->error;
      else
        cove_error_free (r->error);
      r->error = NULL;
      r->failed = true;
      n = -1;
    }
  else if (r->failed)
    /* Asked again after the error: never an end that looks clean.  */
    n = cove_error_set (err, EIO, "layer: read after a failed read");
  pthread_mutex_unlock (&r->mu);
  return n;
}

static void
ring_free (struct pipe_ring *r)
{
  for (size_t i = 0; i < PIPE_SLOTS; i++)
    free (r->slot[i]);
  cove_error_free (r->error);
  pthread_cond_destroy (&r->cv);
  pthread_mutex_destroy (&r->mu);
}

int
storage_unpack_threaded (int diff_fd, struct storage_tee *t,
                         struct cove_archive_apply_stats *stats,
                         struct cove_error **err)
{
  struct pipe_ring r = { .tee = t };
  pthread_mutex_init (&r.mu, NULL);
  pthread_cond_init (&r.cv, NULL);
  for (size_t i = 0; i < PIPE_SLOTS; i++)
    r.slot[i] = xmalloc (PIPE_SLOT_SIZE);
  pthread_t th;
  int rc = pthread_create (&th, NULL, stage1_main, &r);
  if (rc != 0)
    {
      ring_free (&r);
      return cove_error_set (err, rc, "starting the layer reader thread");
    }
  int ret = cove_archive_apply (diff_fd, ring_read, &r, stats, err);
  pthread_mutex_lock (&r.mu);
  r.cancelled = true;
  pthread_cond_broadcast (&r.cv);
  pthread_mutex_unlock (&r.mu);
  pthread_join (th, NULL);
  /* Apply read to the end on success, so stage 1 saw EOF; an error it met
     after (finishing) is still the layer's.  Apply's own error wins.  */
  if (ret == 0 && r.error != NULL)
    {
      if (err != NULL)
        *err = steal_pointer (&r.error);
      ret = -1;
    }
  ring_free (&r);
  return ret;
}
