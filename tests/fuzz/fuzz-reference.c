/* libFuzzer target: image references (from users, archives and registry
   answers), parsed, formatted, re-parsed and qualified.  */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/oci/oci.h"
#include "pkg/util/xalloc.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *s = xstrndup ((const char *) data, size);
  struct cove_oci_ref ref = { 0 }, again = { 0 }, q = { 0 };
  struct cove_error *err = NULL;
  int r = cove_oci_ref_parse (s, &ref, &err);
  /* Exactly one of a result and an error.  */
  if ((r == 0) == (err != NULL))
    __builtin_trap ();
  if (r == 0)
    {
      /* What was accepted formats to a string that parses to the same.  */
      char *f = cove_oci_ref_format (&ref);
      if (cove_oci_ref_parse (f, &again, NULL) < 0)
        __builtin_trap ();
      char *g = cove_oci_ref_format (&again);
      if (strcmp (f, g) != 0)
        __builtin_trap ();
      if (cove_oci_ref_qualify (&ref, "localhost:5000", &q, &err) == 0)
        {
          if (q.registry == NULL || (q.tag == NULL && q.digest == NULL))
            __builtin_trap ();
          cove_oci_ref_free (&q);
        }
      free (f);
      free (g);
      cove_oci_ref_free (&again);
      cove_oci_ref_free (&ref);
    }
  cove_error_free (err);
  free (s);
  return 0;
}
