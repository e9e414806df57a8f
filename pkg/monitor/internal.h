/* pkg/monitor private declarations.  */
#ifndef COVE_MONITOR_INTERNAL_H
#define COVE_MONITOR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/net.h"
#include "pkg/monitor/monitor.h"
#include "pkg/runtime/runtime.h"
#include "pkg/state/state.h"

#define MONITOR_STATUS_FD 3
#define MONITOR_ATTACH_FD 4
#define MONITOR_MAX_CLIENTS 32

struct cove_ctrlog;
struct monitor_ports;

enum monitor_restart
{
  MONITOR_RESTART_NO,
  MONITOR_RESTART_ON_FAILURE,
  MONITOR_RESTART_ALWAYS,
  MONITOR_RESTART_UNLESS_STOPPED,
};

struct monitor
{
  const char *id;
  const char *data_dir;
  const char *runtime_dir;
  const struct cove_monitor_hooks *hooks;
  char *bundle;               /* DATA_DIR/containers/ID */
  char *run_dir;              /* RUNTIME_DIR/ID */
  struct cove_state_store st;
  uint64_t self_start;        /* our own start time, for the record */
  int status_fd;              /* the launcher's pipe until reported, or -1 */

  /* From the record.  */
  bool tty, interactive, rm;
  enum monitor_restart restart;
  unsigned restart_max;
  struct cove_ctrlog *log;    /* NULL with --log-driver none */

  /* The running container.  */
  struct cove_runtime_process proc;
  bool running;
  int out_fd, err_fd;         /* read ends (the pty master with a tty) */
  int in_fd;                  /* write end of its stdin, -1 when closed */
  char *in_buf;               /* stdin bytes not yet written */
  size_t in_len, in_off;

  int listen_fd;
  int clients[MONITOR_MAX_CLIENTS];
  size_t n_clients;

  /* --network slirp: libslirp serving the container's tap (NULL without),
     and the poll set of the loop, which grows with slirp's sockets.  */
  struct cove_net_slirp *slirp;
  struct cove_net_pollset ps;

  /* Published ports (ports.c): the record's "ports", and the listeners
     and relays, NULL without.  */
  json_t *ports_spec;
  struct monitor_ports *ports;
};

/* loop.c */

/* Serve the container until its process exits; *OUT_STATUS its status.  */
int monitor_loop (struct monitor *m, int *out_status, struct cove_error **err);
/* Send a packet of TYPE to every client; drop those that fail.  */
void monitor_broadcast (struct monitor *m, char type, const void *data,
                        size_t len);
/* Close every client.  */
void monitor_clients_close (struct monitor *m);
/* Bind the attach socket in m->run_dir.  */
int monitor_listen (struct monitor *m, struct cove_error **err);
/* Add FD as a client.  */
void monitor_client_add (struct monitor *m, int fd);

/* ports.c, ports-udp.c */

/* Bind and listen on every published host port (once: kept across
   restarts), writing the ports the kernel chose back to the record.  */
int monitor_ports_open (struct monitor *m, struct cove_error **err);
/* The container runs: make connections' sockets in its namespace (the
   helper comes with monitor_ports_helper, or at the loop's first round),
   or, with a slirp network's port_handler=slirp, hand the ports to
   libslirp (m->slirp).  */
int monitor_ports_start (struct monitor *m, struct cove_error **err);
/* Fork the helper that makes sockets in the container's namespace, when
   the relay needs one and has none.  */
void monitor_ports_helper (struct monitor *m);
/* The container exited: drop its connections.  */
void monitor_ports_stop (struct monitor *m);
/* Free the host ports.  */
void monitor_ports_close (struct monitor *m);
/* The listeners and relays in the poll set (*TIMEOUT_MS lowered to the
   next expiry of a UDP flow), and their events.  */
void monitor_ports_fill (struct monitor *m, struct cove_net_pollset *ps,
                         int *timeout_ms);
void monitor_ports_handle (struct monitor *m, const struct cove_net_pollset *ps);

#endif
