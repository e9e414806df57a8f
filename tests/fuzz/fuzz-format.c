/* libFuzzer target: a user's --format template (Go text/template syntax),
   parsed and executed over a fixed document like those cove's commands
   print, then aligned by the table writer.  No input may crash, recurse
   without bound, or run longer than the budget set here.  */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/format.h"
#include "pkg/util/xalloc.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char doc_text[] =
  "{\"ID\":\"4c364d0d0f51\",\"Repository\":\"localhost/x\",\"Tag\":\"v1\","
  "\"Size\":11380,\"Ratio\":0.5,\"Names\":[\"a\",\"b\",\"c\"],\"Empty\":[],"
  "\"Nothing\":null,\"Yes\":true,\"Labels\":{\"app\":\"web\",\"n\":1},"
  "\"Config\":{\"Cmd\":[\"/bin/sh\",\"-c\",\"x\"],\"Env\":[\"A=1\"]},"
  "\"Mounts\":[{\"Source\":\"/a\",\"Dest\":\"/x\"},{\"Source\":\"/b\"}]}";

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static json_t *doc;
  if (doc == NULL)
    doc = json_loads (doc_text, 0, NULL);
  char *text = xstrndup ((const char *) data, size);
  struct cove_error *err = NULL;
  struct cove_format *f = cove_format_parse ("fuzz", text, &err);
  /* Exactly one of a result and an error.  */
  if ((f == NULL) == (err == NULL))
    __builtin_trap ();
  if (f)
    {
      cove_format_set_budget (f, 100000, 1 << 20);
      char *out = cove_format_render (f, doc, &err);
      if ((out == NULL) == (err == NULL))
        __builtin_trap ();
      if (err && err->errnum != EINVAL && err->errnum != E2BIG)
        __builtin_trap ();
      if (out)
        free (cove_format_tabwrite (out));
      free (out);
      cove_format_free (f);
    }
  cove_error_free (err);
  (void) cove_format_is_json (text);
  free (text);
  return 0;
}
