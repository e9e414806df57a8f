/* pkg/spec private declarations.  */
#ifndef COVE_SPEC_INTERNAL_H
#define COVE_SPEC_INTERNAL_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "pkg/spec/spec.h"

/* The default mounts, then -v, --tmpfs and --read-only's tmpfs mounts, as
   an OCI `mounts` array.  errnum ENOENT: a missing bind source; EINVAL: a
   malformed -v or --tmpfs.  */
json_t *spec_mounts (const struct cove_spec_request *req,
                     struct cove_error **err);

/* linux.devices, maskedPaths and readonlyPaths of podman's defaults.  */
json_t *spec_devices (void);
json_t *spec_masked_paths (void);
json_t *spec_readonly_paths (void);

/* Parse one --ulimit NAME=SOFT[:HARD] into an OCI rlimit object.  */
json_t *spec_rlimit_parse (const char *s, struct cove_error **err);

/* The capability list after --cap-add/--cap-drop (ALL allowed, names with
   or without CAP_, any case).  errnum EINVAL: an unknown capability.  */
json_t *spec_capabilities (char **add, char **drop, struct cove_error **err);

/* Docker's name of the machine's architecture (Go's GOARCH), which the
   `arches` of seccomp profile rows are compared with.  */
#if defined(__x86_64__)
# define HOST_GOARCH "amd64"
#elif defined(__aarch64__)
# define HOST_GOARCH "arm64"
#elif defined(__i386__)
# define HOST_GOARCH "386"
#elif defined(__arm__)
# define HOST_GOARCH "arm"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
# define HOST_GOARCH "ppc64le"
#elif defined(__s390x__)
# define HOST_GOARCH "s390x"
#elif defined(__riscv) && __riscv_xlen == 64
# define HOST_GOARCH "riscv64"
#else
# define HOST_GOARCH "unknown"
#endif

#endif
