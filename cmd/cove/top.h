/* cove top: the processes of a running container (topproc.c) and their
   columns (top.c).  */
#ifndef COVE_CMD_TOP_H
#define COVE_CMD_TOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pkg/util/error.h"

enum { COVE_TOP_CAP_INH, COVE_TOP_CAP_PRM, COVE_TOP_CAP_EFF, COVE_TOP_CAP_BND,
       COVE_TOP_CAP_AMB, COVE_TOP_CAP_N };

/* One process, with ids as the container sees them (pids in its pid
   namespace, uids in the user namespace the caller is in).  */
struct cove_top_proc
{
  pid_t hpid;             /* in the caller's pid namespace */
  pid_t pid;              /* the last of NSpid */
  pid_t ppid;             /* 0 when the parent is outside the container */
  pid_t pgid;             /* 0 when outside */
  char state;
  char *comm;             /* untrusted: the process names itself */
  char *args;             /* untrusted: its command line, NULs as spaces */
  uid_t ruid, euid;
  gid_t rgid, egid;
  int nice;
  int tty_nr;
  int seccomp;            /* 0 disabled, 1 strict, 2 filter */
  unsigned long long utime, stime, start;  /* clock ticks */
  unsigned long long vsz_kb, rss_kb;
  uint64_t caps[COVE_TOP_CAP_N];
};

/* The processes of the container whose init is INIT (a host pid, checked
   by the caller to be the container's), sorted by pid.  Free with
   cove_top_list_free.  */
int cove_top_list (pid_t init, struct cove_top_proc **out, size_t *out_n,
                   struct cove_error **err);
void cove_top_list_free (struct cove_top_proc *v, size_t n);

/* The container's /etc/passwd (GROUP: /etc/group), read inside the root
   of INIT (/proc/INIT/root) with cove_runtime_iddb_read: "" when missing.
   Caller frees; NULL with *ERR.  */
char *cove_top_iddb (pid_t init, bool group, struct cove_error **err);

/* NS nanoseconds as Go's time.Duration prints them, which podman's top
   shows: "0s", "15ms", "4.817573263s", "2m3.5s", "1h0m0s".  Caller frees.  */
char *cove_top_duration (long long ns);

#endif
