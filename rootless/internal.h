/* cove rootless: declarations shared by the files of rootless/ only.  */
#ifndef COVE_ROOTLESS_INTERNAL_H
#define COVE_ROOTLESS_INTERNAL_H

#include <sys/types.h>

#include "rootless/rootless.h"

/* Find the setuid helper PROG ("newuidmap" or "newgidmap") in $PATH, then
   /usr/bin.  Caller frees.  errnum ENOENT: not found (install uidmap);
   EPERM: found but neither setuid root nor given file capabilities.  */
char *cove_rootless_find_idmap_tool (const char *prog, struct cove_error **err);

/* A running newuidmap/newgidmap.  */
struct cove_rootless_idmap_job
{
  pid_t pid;
  int out_fd;       /* its stdout and stderr */
  char *cmd;        /* its command line, for the error message */
};

/* Start TOOL (a path from cove_rootless_find_idmap_tool) to write MAP as
   the uid or gid map of process PID.  On success JOB must be passed to
   cove_rootless_idmap_finish, which releases it.  */
int cove_rootless_idmap_start (const char *tool, pid_t pid,
                               const struct cove_idmap *map,
                               struct cove_rootless_idmap_job *job,
                               struct cove_error **err);

/* Wait for JOB and release it.  Its stderr becomes the error message;
   errnum 0 when it ran and failed (it says why), else the errno of the
   wait that failed.  */
int cove_rootless_idmap_finish (struct cove_rootless_idmap_job *job,
                                struct cove_error **err);

/* The pause process (pause.c).  Open the user namespace of the pause
   process recorded in DIR/pause.pid; -1 when there is none (or it is
   stale).  */
int cove_rootless_pause_open_ns (const char *dir);

/* Create DIR (0700) and take DIR/pause.lock exclusively; returns the lock's
   fd (closing it unlocks).  */
int cove_rootless_pause_lock (const char *dir, struct cove_error **err);

/* Record PID (with its start time) in DIR/pause.pid, atomically.  */
int cove_rootless_pause_record (const char *dir, pid_t pid,
                                struct cove_error **err);

/* Become the pause process: detach and sleep forever.  */
void cove_rootless_pause_main (void) __attribute__ ((noreturn));

#endif
