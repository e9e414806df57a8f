#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/ctr.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* COVE_TEST_KILL_AT=POINT: the tests' way to kill cove with SIGKILL at a
   named point of a store operation (pkg/state's hook points, and those
   of cove_ctr_test_point), to prove that no instant leaves the store
   unreadable.  Unset in production.  */
static void
kill_hook (const char *point)
{
  const char *at = getenv ("COVE_TEST_KILL_AT");
  if (at && strcmp (at, point) == 0)
    raise (SIGKILL);
}

void
cove_ctr_test_point (const char *point)
{
  kill_hook (point);
}

int
cove_ctr_store_open (struct cove_storage_paths *paths,
                     struct cove_state_store *st, struct cove_error **err)
{
  if (cove_storage_paths_init (paths, err) < 0)
    return -1;
  if (cove_state_store_open (st, paths->data_dir, err) < 0)
    {
      cove_storage_paths_free (paths);
      return -1;
    }
  if (getenv ("COVE_TEST_KILL_AT"))
    st->test_hook = kill_hook;
  return 0;
}

void
cove_ctr_store_close (struct cove_storage_paths *paths,
                      struct cove_state_store *st)
{
  cove_state_store_close (st);
  cove_storage_paths_free (paths);
}

char *
cove_ctr_dir (const struct cove_storage_paths *p, const char *id)
{
  return xasprintf ("%s/containers/%s", p->data_dir, id);
}

char *
cove_ctr_file (const struct cove_storage_paths *p, const char *id,
               const char *name)
{
  return xasprintf ("%s/containers/%s/%s", p->data_dir, id, name);
}

char *
cove_ctr_run_dir (const struct cove_storage_paths *p, const char *id)
{
  return xasprintf ("%s/%s", p->runtime_dir, id);
}

/* Under the record lock: still running by the record, but dead.  */
static int
mark_exited (struct cove_state_container *c, void *ctx,
             struct cove_error **err)
{
  (void) ctx;
  (void) err;
  bool monitor_alive;
  if (cove_state_effective (c, &monitor_alive) == COVE_STATE_EXITED
      && (c->state == COVE_STATE_RUNNING || c->state == COVE_STATE_PAUSED)
      && !monitor_alive)
    {
      c->state = COVE_STATE_EXITED;
      /* Its status was lost with its monitor: podman's "killed" code.  */
      c->exit_code = 137;
      c->pid = 0;
      c->monitor_pid = 0;
    }
  return 0;
}

int
cove_ctr_load (struct cove_state_store *st, const char *name_or_id,
               struct cove_state_container *out, struct cove_error **err)
{
  cleanup_error struct cove_error *local = NULL;
  if (cove_state_load (st, name_or_id, out, &local) < 0)
    {
      if (local->errnum == ENOENT)
        return cove_error_set_plain (err, ENOENT, "no container with name "
                                     "or ID \"%s\" found: no such container",
                                     name_or_id);
      *err = steal_pointer (&local);
      return -1;
    }
  bool monitor_alive;
  if (cove_state_effective (out, &monitor_alive) != out->state)
    {
      if (!monitor_alive)
        {
          struct cove_state_container fixed;
          if (cove_state_update (st, out->id, mark_exited, NULL, &fixed, NULL) == 0)
            {
              cove_state_container_free (out);
              *out = fixed;
              return 0;
            }
        }
      /* Else the monitor is recording the exit right now: the caller's
         cove_state_effective says exited, the record is its to write.  */
    }
  return 0;
}

bool
cove_ctr_extra_bool (const struct cove_state_container *c, const char *key)
{
  return json_is_true (json_object_get (c->extra, key));
}

long long
cove_ctr_extra_int (const struct cove_state_container *c, const char *key,
                    long long dflt)
{
  json_t *v = json_object_get (c->extra, key);
  return json_is_integer (v) ? json_integer_value (v) : dflt;
}

const char *
cove_ctr_extra_str (const struct cove_state_container *c, const char *key)
{
  return json_string_value (json_object_get (c->extra, key));
}

const char *const cove_ctr_mount_targets[] = {
  "/dev", "/etc/hostname", "/etc/hosts", "/etc/mtab", "/etc/resolv.conf",
  "/proc", "/run", "/run/.containerenv", "/run/cove-init", "/sys", NULL,
};

bool
cove_ctr_is_mount_target (const char *path)
{
  for (size_t i = 0; cove_ctr_mount_targets[i]; i++)
    if (strcmp (path, cove_ctr_mount_targets[i]) == 0)
      return true;
  return false;
}
