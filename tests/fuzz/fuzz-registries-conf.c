/* libFuzzer target: registries.conf (the TOML subset and the model), and
   resolution of a few references through whatever it configures.  */
#include <stddef.h>
#include <stdint.h>

#include "pkg/registry/config.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
resolve (const struct cove_registry_conf *c, const char *s)
{
  struct cove_oci_ref ref = { 0 }, *refs = NULL;
  size_t n = 0;
  if (cove_oci_ref_parse (s, &ref, NULL) < 0)
    __builtin_trap ();
  struct cove_error *err = NULL;
  if (cove_registry_conf_candidates (c, &ref, &refs, &n, &err) == 0)
    {
      for (size_t i = 0; i < n; i++)
        {
          struct cove_registry_endpoint *eps = NULL;
          size_t k = 0;
          if (cove_registry_conf_endpoints (c, &refs[i], &eps, &k, NULL) == 0 && k == 0)
            __builtin_trap ();
          cove_registry_endpoints_free (eps, k);
        }
      cove_registry_refs_free (refs, n);
    }
  cove_error_free (err);
  cove_oci_ref_free (&ref);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct cove_registry_conf *c = NULL;
  struct cove_error *err = NULL;
  int r = cove_registry_conf_parse ((const char *) data, size, "fuzz.conf", &c, &err);
  if ((r == 0) == (err != NULL))
    __builtin_trap ();
  if (r == 0)
    {
      resolve (c, "busybox");
      resolve (c, "team/app:1");
      resolve (c, "example.com/foo/bar@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
      resolve (c, "a.example.com:5000/x");
    }
  cove_registry_conf_free (c);
  cove_error_free (err);
  return 0;
}
