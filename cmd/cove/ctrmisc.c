/* cove rename, container exists, port.  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcmd.h"
#include "cmd/cove/output.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

static const struct cove_opt help_opts[] = {
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for the command" },
  { NULL, 0, 0, 0, NULL, NULL },
};

int
cove_cmd_rename (int argc, char **argv)
{
  struct cove_ctr_flags f;
  cove_ctr_flags_init (&f);
  int n, status;
  cleanup_free char **rest = cove_ctr_parse (argc, argv, help_opts,
                                             "cove rename CONTAINER NAME",
                                             "Rename an existing container",
                                             cove_ctr_flags_opt, &f, &n, &status);
  if (rest == NULL)
    return status;
  if (n != 2)
    return cove_cmd_usage_error ("accepts 2 arg(s), received %d", n);
  cleanup_error struct cove_error *err = NULL;
  struct cove_ctr_cmd cc;
  if (cove_ctr_cmd_open (&cc, false, &err) < 0)
    return cove_cmd_fail (&err, 125);
  cleanup_free char *id = cove_state_lookup (&cc.st, rest[0], &err);
  int r = id ? cove_state_rename (&cc.st, id, rest[1], &err) : -1;
  if (id == NULL && err->errnum == ENOENT)
    {
      cove_error_release (&err);
      cove_error_set_plain (&err, ENOENT, "no container with name or ID "
                            "\"%s\" found: no such container", rest[0]);
    }
  cove_ctr_cmd_close (&cc);
  return r < 0 ? cove_cmd_fail (&err, 125) : 0;
}

int
cove_cmd_container_exists (int argc, char **argv)
{
  struct cove_ctr_flags f;
  cove_ctr_flags_init (&f);
  int n, status;
  cleanup_free char **rest = cove_ctr_parse (argc, argv, help_opts,
                                             "cove container exists CONTAINER",
                                             "Check if a container exists in local storage",
                                             cove_ctr_flags_opt, &f, &n, &status);
  if (rest == NULL)
    return status;
  if (n != 1)
    return cove_cmd_usage_error ("accepts 1 arg(s), received %d", n);
  cleanup_error struct cove_error *err = NULL;
  struct cove_ctr_cmd cc;
  if (cove_ctr_cmd_open (&cc, false, &err) < 0)
    return cove_cmd_fail (&err, 125);
  cleanup_free char *id = cove_state_lookup (&cc.st, rest[0], &err);
  cove_ctr_cmd_close (&cc);
  if (id)
    return 0;
  return err->errnum == ENOENT ? 1 : cove_cmd_fail (&err, 125);
}

/* ---- port ---- */

/* One published port of the record's "ports": {"host_ip", "host_port",
   "container_port", "protocol"}.  FILTER: "80" or "80/tcp", or NULL.  */
static void
print_port (json_t *p, const char *filter, bool with_key)
{
  json_int_t cport = json_integer_value (json_object_get (p, "container_port"));
  json_int_t hport = json_integer_value (json_object_get (p, "host_port"));
  const char *proto = json_string_value (json_object_get (p, "protocol"));
  const char *ip = json_string_value (json_object_get (p, "host_ip"));
  char key[48];
  snprintf (key, sizeof key, "%lld/%s", (long long) cport, proto ? proto : "tcp");
  if (filter)
    {
      /* A bare port is a tcp one, as podman takes it.  */
      char tcp[64];
      snprintf (tcp, sizeof tcp, "%s/tcp", filter);
      if (strcmp (filter, key) != 0 && strcmp (tcp, key) != 0)
        return;
    }
  const char *host = ip && ip[0] ? ip : "0.0.0.0";
  if (with_key)
    printf ("%s -> %s:%lld\n", key, host, (long long) hport);
  else
    printf ("%s:%lld\n", host, (long long) hport);
}

static const struct cove_opt port_opts[] = {
  { "all", 'a', COVE_OPT_BOOL, CTR_OPT_ALL, NULL, "Display port information for all containers" },
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for port" },
  { "latest", 'l', COVE_OPT_BOOL, CTR_OPT_LATEST, NULL, "Act on the latest container cove is aware of" },
  { NULL, 0, 0, 0, NULL, NULL },
};

int
cove_cmd_port (int argc, char **argv)
{
  struct cove_ctr_flags f;
  cove_ctr_flags_init (&f);
  int n, status;
  cleanup_free char **rest = cove_ctr_parse (argc, argv, port_opts,
                                             "cove port [options] CONTAINER [PRIVATE_PORT[/PROTO]]",
                                             "List port mappings or a specific mapping for the container",
                                             cove_ctr_flags_opt, &f, &n, &status);
  if (rest == NULL)
    return status;
  bool latest = f.latest, all = f.all;
  if ((n < 1 && !latest && !all) || n > 2)
    return cove_cmd_usage_error ("you must supply a running container name or ID");
  cleanup_error struct cove_error *err = NULL;
  struct cove_ctr_cmd cc;
  if (cove_ctr_cmd_open (&cc, false, &err) < 0)
    return cove_cmd_fail (&err, 125);
  struct cove_state_container *v = NULL;
  size_t nv = 0;
  char **warnings = NULL;
  int ret = 0;
  if (all || latest)
    {
      if (cove_state_list (&cc.st, &v, &nv, &warnings, &err) < 0)
        ret = cove_cmd_fail (&err, 125);
      cove_strv_free (warnings);
    }
  else
    {
      v = xmalloc0 (sizeof *v);
      if (cove_ctr_load (&cc.st, rest[0], v, &err) < 0)
        ret = cove_cmd_fail (&err, 125);
      else
        nv = 1;
    }
  const char *filter = (all || latest) ? (n > 0 ? rest[0] : NULL) : (n > 1 ? rest[1] : NULL);
  for (size_t i = latest && nv ? nv - 1 : 0; i < nv; i++)
    {
      json_t *ports = json_object_get (v[i].extra, "ports");
      size_t k;
      json_t *p;
      if (all && json_array_size (ports) > 0)
        printf ("%.12s\n", v[i].id);
      json_array_foreach (ports, k, p)
        print_port (p, filter, filter == NULL);
    }
  cove_state_container_list_free (v, nv);
  cove_ctr_cmd_close (&cc);
  return ret;
}
