#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcmd.h"
#include "cmd/cove/output.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

char **
cove_ctr_parse (int argc, char **argv, const struct cove_opt *table,
                const char *usage, const char *desc, cove_ctr_opt_fn on_opt,
                void *ctx, int *out_n, int *out_status)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, table, argc, argv, true);
  const char *v;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    {
      if (id == CTR_OPT_HELP)
        {
          cove_opts_print_help (stdout, usage, desc, table);
          cove_opts_free (&p);
          *out_status = 0;
          return NULL;
        }
      if (on_opt (id, v, ctx, &err) < 0)
        {
          id = -1;
          break;
        }
    }
  char **rest = cove_opts_rest (&p, out_n);
  cove_opts_free (&p);
  if (id < 0)
    {
      free (rest);
      *out_status = cove_cmd_fail (&err, 125);
      return NULL;
    }
  return rest;
}

int
cove_ctr_cmd_open (struct cove_ctr_cmd *c, bool userns, struct cove_error **err)
{
  if (userns && cove_cmd_enter_userns (err) < 0)
    return -1;
  return cove_ctr_store_open (&c->paths, &c->st, err);
}

void
cove_ctr_cmd_close (struct cove_ctr_cmd *c)
{
  cove_ctr_store_close (&c->paths, &c->st);
}

char *
cove_ctr_latest (struct cove_state_store *st, struct cove_error **err)
{
  struct cove_state_container *all = NULL;
  size_t n = 0;
  char **warnings = NULL;
  if (cove_state_list (st, &all, &n, &warnings, err) < 0)
    return NULL;
  cove_strv_free (warnings);
  char *id = n ? xstrdup (all[n - 1].id) : NULL;
  cove_state_container_list_free (all, n);
  if (id == NULL)
    cove_error_set_plain (err, ENOENT, "no containers to act on: no such "
                          "container");
  return id;
}
