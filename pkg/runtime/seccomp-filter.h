/* cove runtime: the container's seccomp filter.  */
#ifndef COVE_RUNTIME_SECCOMP_FILTER_H
#define COVE_RUNTIME_SECCOMP_FILTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "pkg/util/error.h"

/* Compile SECCOMP, an OCI `linux.seccomp` object (defaultAction,
   defaultErrnoRet, architectures, flags, syscalls with names, action,
   errnoRet and args), with libseccomp and load it into the calling process.
   Meant for the container's process after fork and before exec: it keeps
   no state and starts no thread.  Names of syscalls this libseccomp does
   not know are skipped, as runc and crun do; SCMP_ACT_NOTIFY is refused.

   NO_NEW_PRIVS: set no_new_privs as part of the load (libseccomp's
   default); when false, the caller must hold CAP_SYS_ADMIN in its user
   namespace and no_new_privs is left as it is.  The filter is not
   synchronised to other threads (there are none).

   errnum EINVAL: a malformed object (the message says what and where);
   EACCES: neither no_new_privs nor CAP_SYS_ADMIN; others from the kernel
   or libseccomp.  */
int cove_runtime_seccomp_load (json_t *seccomp, bool no_new_privs,
                               struct cove_error **err);

/* A filter compiled ahead: compiling the default profile takes libseccomp
   10 ms and more (three architectures), loading a compiled one 0.1 ms.  */
struct cove_runtime_seccomp
{
  void *bpf;            /* struct sock_filter[], owned */
  size_t len;           /* bytes */
  unsigned int flags;   /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
};

/* Compile SECCOMP (as cove_runtime_seccomp_load) into *OUT, in the parent,
   before fork: it allocates.  With CACHE_DIR (the user's runtime
   directory's seccomp/, created 0700 when missing), a program
   compiled before for the same profile, libseccomp and kernel is read
   from there, and a new one written there (best effort: a cache error is
   no error).  Free *OUT with cove_runtime_seccomp_free.  errnum as
   cove_runtime_seccomp_load.  */
int cove_runtime_seccomp_compile (json_t *seccomp, const char *cache_dir,
                                  struct cove_runtime_seccomp *out,
                                  struct cove_error **err);

/* Load FILTER into the calling process with seccomp(2), setting
   no_new_privs first when NO_NEW_PRIVS (else CAP_SYS_ADMIN in the user
   namespace is needed).  Allocates nothing unless it fails: safe in the
   child after fork.  errnum EINVAL: not a program; EACCES, ... from the
   kernel.  */
int cove_runtime_seccomp_apply (const struct cove_runtime_seccomp *filter,
                                bool no_new_privs, struct cove_error **err);

void cove_runtime_seccomp_free (struct cove_runtime_seccomp *filter);

#endif
