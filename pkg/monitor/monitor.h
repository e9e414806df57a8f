/* cove monitor: the one supervisor process of a running container.

   `cove run`, `cove start` and `cove restart` launch it detached (double
   fork, own session, stdio on /dev/null) so that it outlives the command
   that started it, a closed terminal and a killed parent.  It creates the
   container through pkg/runtime, keeps its output in the log
   (pkg/ctrlog), serves an attach socket, waits on the pidfd, records the
   exit in the container's state, applies --restart and --rm, and exits.
   No daemon: one small process per running container, nothing when none
   runs.

   The attach socket, RUNTIME_DIR/ID/attach, is SOCK_SEQPACKET; every
   packet is one type byte and its payload:
     client -> monitor   'i' DATA      bytes for the container's stdin
                         'c'           close the container's stdin
                         'w' "R C"     window size (rows, columns)
                         's' "N"       deliver signal N to the container
     monitor -> client   '1' DATA      container stdout (or its terminal)
                         '2' DATA      container stderr
                         'x' "N"       the container exited with status N,
                                       its state is written (and with --rm
                                       it is gone); the last packet  */
#ifndef COVE_MONITOR_H
#define COVE_MONITOR_H

#include <stdbool.h>
#include <sys/types.h>

#include "pkg/util/error.h"

#define COVE_MONITOR_NAME "cove-monitor"
#define COVE_MONITOR_PACKET_MAX 16384

enum
{
  COVE_ATTACH_STDIN = 'i',
  COVE_ATTACH_CLOSE_STDIN = 'c',
  COVE_ATTACH_RESIZE = 'w',
  COVE_ATTACH_SIGNAL = 's',
  COVE_ATTACH_STDOUT = '1',
  COVE_ATTACH_STDERR = '2',
  COVE_ATTACH_EXIT = 'x',
};

struct cove_monitor_launch
{
  const char *id;           /* the container, recorded (created) in DATA_DIR */
  const char *data_dir;     /* the user's DATA_DIR */
  const char *runtime_dir;  /* the user's RUNTIME_DIR (…/cove) */
  int attach_fd;            /* -1, or one end of a SOCK_SEQPACKET pair: the
                               first attached client, attached before the
                               container starts so that none of its output
                               is missed */
};

/* Start the monitor of container L->ID, which must be recorded with its
   config.json written and its root filesystem mounted in the caller's
   mount namespace (the monitor inherits it; the caller may be in a mount
   namespace of its own made for that).  The caller is in the user
   namespace.  Returns once the container's process has exec'd and its
   record says running (*OUT_PID its pid), or -1 with *ERR and
   *OUT_STATUS (125, or 126/127 when the command cannot be run).  */
int cove_monitor_launch (const struct cove_monitor_launch *l, pid_t *out_pid,
                         int *out_status, struct cove_error **err);

struct cove_state_container;

/* What the command layer does for the monitor (which knows nothing of
   volumes and the like).  Every member may be NULL.  */
struct cove_monitor_hooks
{
  /* After an --rm container's record was removed; C is its last record
     (its anonymous volumes are the hook's to remove).  */
  void (*removed) (const char *data_dir, const char *runtime_dir,
                   const struct cove_state_container *c);
};

/* The monitor process's main (argv[0] is COVE_MONITOR_NAME); never
   returns.  */
void cove_monitor_main (int argc, char **argv,
                        const struct cove_monitor_hooks *hooks)
  __attribute__ ((noreturn));

/* ---- the client side (attach.c) ---- */

/* Connect to the attach socket of container ID.  errnum ENOENT/ECONNREFUSED
   when no monitor serves it.  */
int cove_monitor_connect (const char *runtime_dir, const char *id,
                          struct cove_error **err);

struct cove_attach_options
{
  bool stdin;               /* relay our stdin (-i) */
  bool tty;                 /* the container has a terminal: raw mode,
                               window size, detach keys */
  bool sig_proxy;           /* forward our signals */
  const char *detach_keys;  /* NULL: ctrl-p,ctrl-q; "": none */
};

/* Relay between our stdio and SOCK (closed on return) until the container
   exits (*OUT_STATUS its status) or the user detaches (*OUT_STATUS -1).
   errnum EINVAL for bad detach keys.  */
int cove_monitor_attach (int sock, const struct cove_attach_options *o,
                         int *out_status, struct cove_error **err);

/* Parse docker's detach keys ("ctrl-p,ctrl-q", "a", "ctrl-@"...) into at
   most MAX bytes; returns the count, -1 with *ERR when malformed.  */
int cove_monitor_detach_keys (const char *spec, unsigned char *out,
                              size_t max, struct cove_error **err);

#endif
