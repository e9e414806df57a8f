/* libFuzzer target: container records (state.json is local, but a disk
   full, a crash of another tool or a hand edit may leave anything in it).
   Whatever parses must dump and parse again to the same record.  */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/state/state.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct cove_state_container c = { 0 }, d = { 0 };
  struct cove_error *err = NULL;
  int r = cove_state_container_parse ((const char *) data, size, &c, &err);
  if ((r == 0) == (err != NULL))
    __builtin_trap ();
  if (r == 0)
    {
      if (!cove_state_id_valid (c.id) || (c.name && !cove_state_name_valid (c.name))
          || c.extra == NULL)
        __builtin_trap ();
      char *s = cove_state_container_dump (&c);
      if (cove_state_container_parse (s, strlen (s), &d, &err) < 0)
        __builtin_trap ();
      char *s2 = cove_state_container_dump (&d);
      if (strcmp (s, s2) != 0)
        __builtin_trap ();
      free (s);
      free (s2);
      cove_state_container_free (&d);
    }
  cove_state_container_free (&c);
  cove_error_free (err);
  return 0;
}
