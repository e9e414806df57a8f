/* cove pod ps and pod inspect: pods as podman 4.3 lists and describes
   them.  They only read the records (no user namespace).  */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cove/ctr.h"
#include "cmd/cove/format.h"
#include "cmd/cove/human.h"
#include "cmd/cove/listing.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "cmd/cove/pod.h"
#include "cmd/cove/ps.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

#define NS_PER_S 1000000000LL

enum
{
  OPT_HELP = 1, OPT_QUIET, OPT_NO_TRUNC, OPT_FORMAT, OPT_FILTER, OPT_NOHEADING,
};

static const struct cove_opt ps_opts[] = {
  { "filter", 'f', COVE_OPT_VALUE, OPT_FILTER, "stringArray", "Filter output based on conditions given (id=, name=, status=, label=)" },
  { "format", 0, COVE_OPT_VALUE, OPT_FORMAT, "string", "Pretty-print pods to JSON or using a Go template" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for ps" },
  { "no-trunc", 0, COVE_OPT_BOOL, OPT_NO_TRUNC, NULL, "Do not truncate pod and container IDs" },
  { "noheading", 0, COVE_OPT_BOOL, OPT_NOHEADING, NULL, "Do not print headers" },
  { "quiet", 'q', COVE_OPT_BOOL, OPT_QUIET, NULL, "Print the numeric IDs of the pods only" },
  { NULL, 0, 0, 0, NULL, NULL },
};

static const char default_table[]
    = "table {{.ID}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraID}}\t"
      "{{.NumberOfContainers}}";
static const char *const headers[] = {
  "ID", "POD ID", "InfraID", "INFRA ID", "NumberOfContainers", "# OF CONTAINERS",
  NULL,
};

/* One pod and its containers.  */
struct pod_view
{
  struct cove_state_container *pod;
  struct cove_state_container *v;
  size_t n;
  const char *status;
};

/* A --filter KEY=VALUE on VIEW.  errnum EINVAL for an unknown key or a
   bad pattern.  */
static int
filter_one (const char *filter, const struct pod_view *pv, bool *out,
            struct cove_error **err)
{
  const char *eq = strchr (filter, '=');
  if (eq == NULL)
    return cove_error_set_plain (err, EINVAL, "invalid filter \"%s\"", filter);
  cleanup_free char *key = xstrndup (filter, (size_t) (eq - filter));
  const char *v = eq + 1;
  if (strcmp (key, "id") == 0)
    *out = strncmp (pv->pod->id, v, strlen (v)) == 0;
  else if (strcmp (key, "status") == 0)
    *out = strcasecmp (pv->status, v) == 0;
  else if (strcmp (key, "label") == 0)
    {
      bool has_value = strchr (v, '=') != NULL;
      size_t kl = strlen (v);
      *out = false;
      for (char **l = pv->pod->labels; l && *l && !*out; l++)
        *out = has_value ? strcmp (*l, v) == 0
                         : strncmp (*l, v, kl) == 0 && (*l)[kl] == '=';
    }
  else if (strcmp (key, "name") == 0)
    {
      regex_t re;
      if (regcomp (&re, v, REG_EXTENDED | REG_NOSUB) != 0)
        return cove_error_set_plain (err, EINVAL, "invalid name filter `%s`", v);
      *out = regexec (&re, pv->pod->name, 0, NULL, 0) == 0;
      regfree (&re);
    }
  else
    return cove_error_set_plain (err, EINVAL, "%s is an invalid filter", key);
  return 0;
}

/* All filters must match, as podman (a key given twice: either value).  */
static int
filter_match (char **filters, const struct pod_view *pv, bool *out,
              struct cove_error **err)
{
  *out = true;
  for (char **f = filters; f && *f && *out; f++)
    if (filter_one (*f, pv, out, err) < 0)
      return -1;
  return 0;
}

static json_t *
labels_json (char **labels)
{
  json_t *o = json_object ();
  for (char **l = labels; l && *l; l++)
    {
      const char *eq = strchr (*l, '=');
      cleanup_free char *k = eq ? xstrndup (*l, (size_t) (eq - *l)) : xstrdup (*l);
      json_object_set_new (o, k, json_string (eq ? eq + 1 : ""));
    }
  return o;
}

static json_t *
ps_item (const struct pod_view *pv, bool no_trunc, time_t now)
{
  const char *infra = cove_ctr_extra_str (pv->pod, "infra_id");
  cleanup_free char *since = cove_human_since ((time_t) (pv->pod->created / NS_PER_S), now);
  cleanup_free char *created = cove_ps_rfc3339_ns (pv->pod->created);
  json_t *ctrs = json_array ();
  for (size_t i = 0; i < pv->n; i++)
    json_array_append_new (ctrs, json_pack ("{s:s, s:s, s:s}", "Id", pv->v[i].id,
                                            "Names", pv->v[i].name ? pv->v[i].name : "",
                                            "Status", cove_state_status_string (pv->v[i].state)));
  return json_pack ("{s:s%, s:s, s:s, s:s, s:s, s:s%, s:I, s:o, s:o, s:s, s:s, s:s}",
                    "ID", pv->pod->id, no_trunc ? strlen (pv->pod->id) : 12,
                    "Id", pv->pod->id, "Name", pv->pod->name,
                    "Status", pv->status, "Created", since,
                    "InfraID", infra ? infra : "",
                    infra ? (no_trunc ? strlen (infra) : 12) : 0,
                    "NumberOfContainers", (json_int_t) pv->n,
                    "Labels", labels_json (pv->pod->labels),
                    "Containers", ctrs, "CreatedAt", created,
                    "Cgroup", "", "Namespace", "");
}

/* The JSON shape of podman's pod ps --format json.  */
static json_t *
json_item (json_t *item, const struct pod_view *pv)
{
  const char *infra = cove_ctr_extra_str (pv->pod, "infra_id");
  return json_pack ("{s:O, s:O, s:O, s:O, s:o, s:O, s:O, s:O, s:[], s:s}",
                    "Cgroup", json_object_get (item, "Cgroup"),
                    "Containers", json_object_get (item, "Containers"),
                    "Created", json_object_get (item, "CreatedAt"),
                    "Id", json_object_get (item, "Id"),
                    "InfraId", json_string (infra ? infra : ""),
                    "Name", json_object_get (item, "Name"),
                    "Status", json_object_get (item, "Status"),
                    "Labels", json_object_get (item, "Labels"),
                    "Networks", "Namespace", "");
}

struct ps_request
{
  bool quiet, no_trunc, noheading;
  const char *format;
  char **filters;
};

/* The pods, newest first, with their containers.  */
static int
list_pods (struct cove_pod_cmd *pc, const struct ps_request *q, json_t *items,
           json_t *json_items, struct cove_error **err)
{
  struct cove_state_container *pods = NULL;
  size_t n = 0;
  char **warnings = NULL;
  if (cove_state_list (&pc->pods, &pods, &n, &warnings, err) < 0)
    return -1;
  for (char **w = warnings; w && *w; w++)
    fprintf (stderr, "WARN[0000] %s\n", *w);
  cove_strv_free (warnings);
  time_t now = time (NULL);
  int r = 0;
  for (size_t i = n; r == 0 && i-- > 0;)
    {
      struct pod_view pv = { .pod = &pods[i] };
      r = cove_pod_members (&pc->st, pods[i].id, &pv.v, &pv.n, err);
      if (r < 0)
        break;
      pv.status = cove_pod_status (pv.v, pv.n);
      bool keep;
      r = filter_match (q->filters, &pv, &keep, err);
      if (r == 0 && keep)
        {
          json_t *item = ps_item (&pv, q->no_trunc, now);
          json_array_append_new (json_items, json_item (item, &pv));
          json_array_append_new (items, item);
        }
      cove_state_container_list_free (pv.v, pv.n);
    }
  cove_state_container_list_free (pods, n);
  return r;
}

static int
print_pods (const struct ps_request *q, struct cove_error **err)
{
  struct cove_pod_cmd pc;
  if (cove_pod_cmd_open (&pc, false, err) < 0)
    return 125;
  json_t *items = json_array (), *json_items = json_array ();
  int r = list_pods (&pc, q, items, json_items, err);
  cove_pod_cmd_close (&pc);
  int status = r < 0 ? 125 : 0;
  if (r == 0 && q->quiet)
    {
      size_t i;
      json_t *e;
      json_array_foreach (items, i, e)
        printf ("%s\n", json_string_value (json_object_get (e, "ID")));
    }
  else if (r == 0)
    status = cove_listing_print (items, json_items, q->format, default_table,
                                 headers, q->noheading);
  json_decref (items);
  json_decref (json_items);
  return status;
}

int
cove_cmd_pod_ps (int argc, char **argv)
{
  cleanup_error struct cove_error *err = NULL;
  struct ps_request q = { 0 };
  struct cove_opts_parser p;
  cove_opts_init (&p, ps_opts, argc, argv, true);
  const char *v;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    switch (id)
      {
      case OPT_HELP:
        cove_opts_print_help (stdout, "cove pod ps [options]", "List pods", ps_opts);
        cove_opts_free (&p);
        cove_strv_free (q.filters);
        return 0;
      case OPT_QUIET: q.quiet = strcmp (v, "true") == 0; break;
      case OPT_NO_TRUNC: q.no_trunc = strcmp (v, "true") == 0; break;
      case OPT_NOHEADING: q.noheading = strcmp (v, "true") == 0; break;
      case OPT_FORMAT: q.format = v; break;
      case OPT_FILTER: cove_strv_append (&q.filters, v); break;
      default: break;
      }
  int n = 0;
  cleanup_free char **rest = cove_opts_rest (&p, &n);
  cove_opts_free (&p);
  int status = 125;
  if (id < 0)
    ;
  else if (n > 0)
    cove_error_set_plain (&err, EINVAL, "accepts 0 arg(s), received %d", n);
  else
    status = print_pods (&q, &err);
  cove_strv_free (q.filters);
  return err ? cove_cmd_fail (&err, 125) : status;
}

/* ---- inspect ---- */

/* HostConfig.PortBindings's shape, from the infra container's ports.  */
static json_t *
port_bindings (const struct cove_state_container *infra)
{
  json_t *out = json_object ();
  json_t *ports = json_object_get (infra ? infra->extra : NULL, "ports");
  size_t i;
  json_t *p;
  json_array_foreach (ports, i, p)
    {
      const char *proto = json_string_value (json_object_get (p, "protocol"));
      cleanup_free char *key = xasprintf ("%lld/%s",
                                          json_integer_value (json_object_get (p, "container_port")),
                                          proto ? proto : "tcp");
      json_t *list = json_object_get (out, key);
      if (list == NULL)
        {
          list = json_array ();
          json_object_set_new (out, key, list);
        }
      long long hp = json_integer_value (json_object_get (p, "host_port"));
      cleanup_free char *port = hp ? xasprintf ("%lld", hp) : xstrdup ("");
      const char *ip = json_string_value (json_object_get (p, "host_ip"));
      json_array_append_new (list, json_pack ("{s:s, s:s}", "HostIp", ip ? ip : "",
                                              "HostPort", port));
    }
  return out;
}

static json_t *
infra_config (const struct cove_state_container *pod,
              const struct cove_state_container *infra)
{
  const char *mode = infra ? cove_ctr_extra_str (infra, "network_mode") : NULL;
  return json_pack ("{s:o, s:b, s:s, s:s, s:b, s:n, s:n, s:n, s:b, s:n, s:n, "
                    "s:n, s:s, s:s, s:s}",
                    "PortBindings", port_bindings (infra),
                    "HostNetwork", mode && strcmp (mode, "host") == 0,
                    "StaticIP", "", "StaticMAC", "",
                    "NoManageResolvConf", false, "DNSServer", "DNSSearch",
                    "DNSOption", "NoManageHosts", false, "HostAdd",
                    "Networks", "NetworkOptions", "pid_ns", "private",
                    "userns", "host",
                    "uts_ns", cove_pod_shares (pod, "uts") ? "private" : "host");
}

/* podman 4.3's pod inspect document of POD.  */
static json_t *
inspect_doc (const struct pod_view *pv)
{
  const struct cove_state_container *infra = NULL;
  json_t *ctrs = json_array ();
  for (size_t i = 0; i < pv->n; i++)
    {
      if (cove_ctr_extra_bool (&pv->v[i], "pod_infra"))
        infra = &pv->v[i];
      json_array_append_new (ctrs, json_pack ("{s:s, s:s, s:s}", "Id", pv->v[i].id,
                                              "Name", pv->v[i].name ? pv->v[i].name : "",
                                              "State", cove_state_status_string (pv->v[i].state)));
    }
  const char *infra_id = cove_ctr_extra_str (pv->pod, "infra_id");
  const char *hostname = cove_ctr_extra_str (pv->pod, "hostname");
  cleanup_free char *created = cove_ps_rfc3339_ns (pv->pod->created);
  json_t *share = json_object_get (pv->pod->extra, "share");
  json_t *cmd = json_object_get (pv->pod->extra, "create_command");
  json_t *doc = json_pack ("{s:s, s:s, s:s, s:O, s:s, s:s, s:s, s:o, s:b, s:s, "
                           "s:b, s:s}",
                           "Id", pv->pod->id, "Name", pv->pod->name,
                           "Created", created, "CreateCommand", cmd ? cmd : json_null (),
                           "ExitPolicy", "continue", "State", pv->status,
                           "Hostname", hostname ? hostname : "",
                           "Labels", labels_json (pv->pod->labels),
                           "CreateCgroup", false, "CgroupParent", "",
                           "CreateInfra", infra_id != NULL,
                           "InfraContainerID", infra_id ? infra_id : "");
  if (infra_id)
    json_object_set_new (doc, "InfraConfig", infra_config (pv->pod, infra));
  json_object_set (doc, "SharedNamespaces", share ? share : json_array ());
  json_object_set_new (doc, "NumContainers", json_integer ((json_int_t) pv->n));
  json_object_set_new (doc, "Containers", ctrs);
  return doc;
}

static const struct cove_opt inspect_opts[] = {
  { "format", 'f', COVE_OPT_VALUE, OPT_FORMAT, "string", "Format the output to a Go template or json" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for inspect" },
  { NULL, 0, 0, 0, NULL, NULL },
};

/* The documents of NAMES into DOCS; the first missing pod stops it.  */
static int
inspect_all (char **names, json_t *docs, struct cove_error **err)
{
  struct cove_pod_cmd pc;
  if (cove_pod_cmd_open (&pc, false, err) < 0)
    return -1;
  int r = 0;
  for (size_t i = 0; r == 0 && names[i]; i++)
    {
      struct cove_state_container pod;
      if (cove_pod_load (&pc.pods, names[i], &pod, err) < 0)
        {
          if ((*err)->errnum == ENOENT)
            {
              cove_error_release (err);
              cove_error_set_plain (err, ENOENT, "inspecting object: no such "
                                    "pod %s", names[i]);
            }
          r = -1;
          break;
        }
      struct pod_view pv = { .pod = &pod };
      r = cove_pod_members (&pc.st, pod.id, &pv.v, &pv.n, err);
      if (r == 0)
        {
          pv.status = cove_pod_status (pv.v, pv.n);
          json_array_append_new (docs, inspect_doc (&pv));
          cove_state_container_list_free (pv.v, pv.n);
        }
      cove_state_container_free (&pod);
    }
  cove_pod_cmd_close (&pc);
  return r;
}

static int
print_docs (json_t *docs, const char *format, struct cove_error **err)
{
  if (format && !cove_format_is_json (format))
    {
      struct cove_format *f = cove_format_parse ("inspect", format, err);
      size_t i;
      json_t *d;
      json_array_foreach (docs, i, d)
        {
          if (f == NULL || cove_format_execute (f, d, stdout, err) < 0)
            break;
          putchar ('\n');
        }
      cove_format_free (f);
      return *err ? -1 : 0;
    }
  /* podman 4.3: one pod is an object, several an array.  */
  json_t *out = json_array_size (docs) == 1 ? json_array_get (docs, 0) : docs;
  cleanup_free char *text = json_dumps (out, JSON_INDENT (5) | JSON_PRESERVE_ORDER);
  printf ("%s\n", text ? text : "[]");
  return 0;
}

int
cove_cmd_pod_inspect (int argc, char **argv)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, inspect_opts, argc, argv, true);
  const char *v, *format = NULL;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    {
      if (id == OPT_HELP)
        {
          cove_opts_print_help (stdout, "cove pod inspect [options] POD [POD...]",
                                "Display a pod configuration", inspect_opts);
          cove_opts_free (&p);
          return 0;
        }
      format = v;
    }
  int n = 0;
  cleanup_free char **rest = cove_opts_rest (&p, &n);
  cove_opts_free (&p);
  if (id < 0)
    return cove_cmd_fail (&err, 125);
  if (n == 0)
    return cove_cmd_usage_error ("you must provide the name or id of a pod");
  json_t *docs = json_array ();
  int r = inspect_all (rest, docs, &err);
  cleanup_error struct cove_error *perr = NULL;
  if (json_array_size (docs) > 0 || r == 0)
    (void) print_docs (docs, format, &perr);
  else
    puts ("[]");
  json_decref (docs);
  if (perr)
    return cove_cmd_fail (&perr, 125);
  return r < 0 ? cove_cmd_fail (&err, 125) : 0;
}

/* ---- for cove ps (ps.c) ---- */

/* Pod ids to names, read once per process (ps prints many rows).  */
static json_t *pod_names;

static void
load_pod_names (void)
{
  pod_names = json_object ();
  struct cove_pod_cmd pc;
  if (cove_pod_cmd_open (&pc, false, NULL) < 0)
    return;
  struct cove_state_container *v = NULL;
  size_t n = 0;
  char **warnings = NULL;
  if (cove_state_list (&pc.pods, &v, &n, &warnings, NULL) == 0)
    {
      for (size_t i = 0; i < n; i++)
        json_object_set_new (pod_names, v[i].id, json_string (v[i].name));
      cove_strv_free (warnings);
      cove_state_container_list_free (v, n);
    }
  cove_pod_cmd_close (&pc);
}

const char *
cove_pod_name_of (const char *pod_id)
{
  if (pod_names == NULL)
    load_pod_names ();
  const char *name = json_string_value (json_object_get (pod_names, pod_id));
  return name ? name : "";
}

char **
cove_pod_resolve_filters (char *const *filters)
{
  char **out = xmalloc0 (sizeof *out);
  for (char *const *f = filters; f && *f; f++)
    {
      if (strncmp (*f, "pod=", 4) != 0)
        {
          cove_strv_append (&out, *f);
          continue;
        }
      if (pod_names == NULL)
        load_pod_names ();
      const char *want = *f + 4, *id = NULL;
      const char *key;
      json_t *name;
      json_object_foreach (pod_names, key, name)
        if (strcmp (json_string_value (name), want) == 0)
          id = key;
      if (id)
        {
          cleanup_free char *by_id = xasprintf ("pod=%s", id);
          cove_strv_append (&out, by_id);
        }
      else
        cove_strv_append (&out, *f);
    }
  return out;
}
