/* libFuzzer target: image manifests and indexes as a registry sends them
   (untrusted), with and without a Content-Type; an index is also used for
   platform selection.  */
#include <stddef.h>
#include <stdint.h>

#include "pkg/oci/oci.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char *const types[] = { NULL, COVE_OCI_MT_MANIFEST, COVE_OCI_MT_INDEX,
                                       COVE_DOCKER_MT_MANIFEST, COVE_DOCKER_MT_LIST };
  /* The first byte picks the Content-Type; the rest is the document.  */
  const char *ct = size > 0 ? types[data[0] % 5] : NULL;
  const char *doc = size > 0 ? (const char *) data + 1 : "";
  size_t len = size > 0 ? size - 1 : 0;
  struct cove_oci_manifest m = { 0 };
  struct cove_error *err = NULL;
  int r = cove_oci_manifest_parse (doc, len, ct, &m, &err);
  if ((r == 0) == (err != NULL))
    __builtin_trap ();
  if (r == 0 && m.kind == COVE_OCI_DOC_INDEX)
    {
      int i = cove_oci_index_select (&m, "linux", "arm64", NULL, &err);
      if (i >= (int) m.n_manifests || (i < 0) != (err != NULL))
        __builtin_trap ();
    }
  if (r == 0)
    for (size_t i = 0; i < m.n_layers; i++)
      (void) cove_oci_layer_compression (m.layers[i].media_type);
  cove_oci_manifest_free (&m);
  cove_error_free (err);
  return 0;
}
