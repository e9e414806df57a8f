/* libFuzzer target: image configs (untrusted, from a registry or an
   archive).  */
#include <stddef.h>
#include <stdint.h>

#include "pkg/oci/oci.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct cove_oci_config c = { 0 };
  struct cove_error *err = NULL;
  int r = cove_oci_config_parse ((const char *) data, size, &c, &err);
  if ((r == 0) == (err != NULL))
    __builtin_trap ();
  if (r == 0 && (c.env == NULL || c.volumes == NULL || c.exposed_ports == NULL
                 || c.diff_ids == NULL || c.diff_ids[c.n_diff_ids] != NULL))
    __builtin_trap ();
  cove_oci_config_free (&c);
  cove_error_free (err);
  return 0;
}
