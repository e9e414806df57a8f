/* cove: what `cove ps` shows of a container record, and its --filter, as
   podman 4.3 prints and filters them.  Pure functions (no I/O), shared by
   ps.c and the container inspect document, and unit-tested.  */
#ifndef COVE_CMD_PS_H
#define COVE_CMD_PS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "pkg/state/state.h"
#include "pkg/util/error.h"

/* podman's word for a state, as in `ps --format {{.State}}` JSON and
   inspect's State.Status: configured and created are "created"; stopped
   (by cove) and exited are "exited"; then "running", "paused",
   "removing".  */
const char *cove_ps_state_word (enum cove_state_status s);

/* The record C as ps should show it, given EFF = cove_state_effective (C):
   a record saying running whose process is gone is exited, with exit code
   137 when its monitor died too (its real status was lost; podman's
   "killed") and finished now when unknown.  Only the state, pid,
   exit_code and finished_at fields of *OUT are set; the record is not
   written (ps stays read-only).  */
struct cove_ps_view
{
  enum cove_state_status state;
  pid_t pid;
  int exit_code;
  int64_t finished_at;          /* ns since the epoch, 0 when unknown */
};
void cove_ps_view_of (const struct cove_state_container *c,
                      enum cove_state_status eff, bool monitor_alive,
                      struct cove_ps_view *out);

/* The STATUS column (and podman's `{{.Status}}`): "Created", "Up 5 seconds
   ago", "Exited (0) 3 seconds ago", "Paused", "Removing", relative to NOW
   (seconds since the epoch).  Caller frees.  */
char *cove_ps_status_string (const struct cove_state_container *c,
                             const struct cove_ps_view *v, time_t now);

/* The COMMAND column: the strings of the array COMMAND joined by spaces;
   unless NO_TRUNC, longer than 17 bytes is cut to 17 and "..." appended
   (podman).  NULL or not an array gives "".  Caller frees.  */
char *cove_ps_command_string (json_t *command, bool no_trunc);

/* The labels of C ("KEY=VALUE", or "KEY" for an empty value) as a JSON
   object, empty when there are none.  New reference.  */
/* Published ports as ps's PORTS column; caller frees.  */
char *cove_ps_ports_string (json_t *ports);
/* Published ports as inspect's NetworkSettings.Ports / PortBindings.  */
json_t *cove_ps_ports_bindings (json_t *ports);

json_t *cove_ps_labels_json (const struct cove_state_container *c);

/* Go's time.Time String() of NS (ns since the epoch) in local time, with
   the fraction of a second trimmed of zeros as Go does:
   "2026-11-29 02:44:54.246169395 +0000 UTC".  Caller frees.  */
char *cove_ps_go_time_ns (int64_t ns);

/* Go's RFC3339Nano of NS: "2026-11-29T02:44:54.376639101Z" (local offset
   as "+01:00"); 0 is Go's zero time "0001-01-01T00:00:00Z".  Caller
   frees.  */
char *cove_ps_rfc3339_ns (int64_t ns);

/* Go's Unix() of a time that may be Go's zero time: NS / 1e9, or
   -62135596800 (0001-01-01) for 0, as podman prints StartedAt/ExitedAt of
   a container that never started or exited.  */
int64_t cove_ps_unix_or_zero (int64_t ns);

/* A parsed --filter list.  Keys: id (regex on the full id, as podman),
   name (regex), label (KEY or KEY=VALUE; several must all match, as
   podman), ancestor (an image name as `cove images` matches it, or an id
   prefix), status (created, running, paused, exited, stopped, removing...),
   exited (exit code), since and before (a container's name or id, among
   ALL).  Filters of one key are ORed, of different keys ANDed.  */
struct cove_ps_filter;

/* Parse FILTERS (NULL-terminated "key=value", may be NULL).  ALL/N: every
   record, for since= and before=.  errnum EINVAL with podman's messages:
   "X is an invalid filter", "unknown container state: X: invalid
   argument", a bad regex; ENOENT when since=/before= names no container.
   Free with cove_ps_filter_free.  */
struct cove_ps_filter *cove_ps_filter_new (char *const *filters,
                                           const struct cove_state_container *all,
                                           size_t n, struct cove_error **err);
void cove_ps_filter_free (struct cove_ps_filter *f);

/* Whether C (shown as V) passes F.  */
bool cove_ps_filter_match (const struct cove_ps_filter *f,
                           const struct cove_state_container *c,
                           const struct cove_ps_view *v);

/* Whether F has a status= filter (then ps lists all, as with -a).  */
bool cove_ps_filter_has_status (const struct cove_ps_filter *f);

#endif
