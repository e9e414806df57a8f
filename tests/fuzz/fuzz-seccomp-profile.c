/* libFuzzer target: a user's seccomp profile (docker's JSON format), as
   `--security-opt seccomp=FILE` reads it, converted to the OCI object.  */
#include <stddef.h>
#include <stdint.h>

#include "pkg/spec/spec.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char *const caps[] = { "CAP_CHOWN", "CAP_SYS_ADMIN", NULL };
  struct cove_error *err = NULL;
  json_t *out = cove_spec_seccomp_from_buffer ((const char *) data, size,
                                               caps, &err);
  /* Exactly one of a result and an error.  */
  if ((out == NULL) == (err == NULL))
    __builtin_trap ();
  json_decref (out);
  cove_error_free (err);
  return 0;
}
