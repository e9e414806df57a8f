/* Private declarations of pkg/oci, included by nobody outside the folder. */
#ifndef COVE_OCI_INTERNAL_H
#define COVE_OCI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "pkg/oci/oci.h"

/* The Go architecture name for ARCH ("x86_64" -> "amd64", "aarch64" ->
   "arm64"...), or ARCH itself.  Static string or ARCH.  */
const char *oci_normalize_arch (const char *arch);

/* The usual variant of ARCH when an index or a user does not say: "v8" for
   arm64, "v7" for arm, NULL otherwise.  */
const char *oci_default_variant (const char *arch);

/* A media type as RFC 6838 writes them: type "/" subtype, each of
   [A-Za-z0-9!#$&^_.+-], at most 127 characters.  */
bool oci_media_type_valid (const char *s);

#endif
