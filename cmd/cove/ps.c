/* cove ps (container ls/list/ps): the user's containers, as podman 4.3
   lists them.  It reads the records and nothing else (no user namespace,
   no write, no lock: `ps -a` with hundreds of containers stays within a
   few milliseconds); only --size enters the user namespace, to measure
   the containers' files.  */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrinspect.h"
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
  OPT_HELP = 1, OPT_ALL, OPT_QUIET, OPT_LATEST, OPT_LAST, OPT_FILTER,
  OPT_FORMAT, OPT_NO_TRUNC, OPT_SIZE, OPT_SORT, OPT_NOHEADING, OPT_POD,
};

static const struct cove_opt ps_opts[] = {
  { "all", 'a', COVE_OPT_BOOL, OPT_ALL, NULL, "Show all the containers, default is only running containers" },
  { "filter", 'f', COVE_OPT_VALUE, OPT_FILTER, "stringArray", "Filter output based on conditions given (id=, name=, label=, ancestor=, status=, exited=, since=, before=, pod=)" },
  { "format", 0, COVE_OPT_VALUE, OPT_FORMAT, "string", "Pretty-print containers to JSON or using a Go template" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for ps" },
  { "last", 'n', COVE_OPT_VALUE, OPT_LAST, "int", "Print the n last created containers (all states)" },
  { "latest", 'l', COVE_OPT_BOOL, OPT_LATEST, NULL, "Act on the latest container cove is aware of" },
  { "no-trunc", 0, COVE_OPT_BOOL, OPT_NO_TRUNC, NULL, "Display the extended information" },
  { "noheading", 0, COVE_OPT_BOOL, OPT_NOHEADING, NULL, "Do not print headers" },
  { "pod", 'p', COVE_OPT_BOOL, OPT_POD, NULL, "Print the ID and name of the pod the containers are associated with" },
  { "quiet", 'q', COVE_OPT_BOOL, OPT_QUIET, NULL, "Print the numeric IDs of the containers only" },
  { "size", 's', COVE_OPT_BOOL, OPT_SIZE, NULL, "Display the total file sizes" },
  { "sort", 0, COVE_OPT_VALUE, OPT_SORT, "choice", "Sort output by: command, created, id, image, names, runningfor, size, status" },
  { NULL, 0, 0, 0, NULL, NULL },
};

struct ps_request
{
  bool all, quiet, latest, no_trunc, size, noheading;
  bool pod;                     /* --pod: POD ID and PODNAME columns */
  long last;                    /* -n, -1 when not given */
  const char *format;
  const char *sort;
  char **filters;
};

/* One container as listed.  */
struct ps_entry
{
  const struct cove_state_container *c;
  struct cove_ps_view v;
  int64_t rw, rootfs;           /* with --size */
};

static json_t *
labels_json (const struct cove_state_container *c, bool null_when_empty)
{
  if ((c->labels == NULL || c->labels[0] == NULL) && null_when_empty)
    return json_null ();
  return cove_ps_labels_json (c);
}

static bool
is_exited (const struct ps_entry *e)
{
  return e->v.state == COVE_STATE_EXITED || e->v.state == COVE_STATE_STOPPED;
}

/* podman's `ps --format json` object.  */
static json_t *
json_item (const struct ps_entry *e, const char *status, time_t now,
           json_t *mounts, bool size)
{
  const struct cove_state_container *c = e->c;
  cleanup_free char *since = cove_human_since ((time_t) (c->created / NS_PER_S), now);
  json_t *cmd = json_object_get (c->extra, "command");
  json_t *o = json_pack (
      "{s:b, s:o, s:s, s:b, s:I, s:i, s:s, s:s, s:s, s:b, s:o, s:O, s:[s],"
      " s:{}, s:[], s:i, s:s, s:s, s:n}",
      "AutoRemove", cove_ctr_extra_bool (c, "rm"),
      "Command", json_is_array (cmd) ? json_incref (cmd) : json_array (),
      "CreatedAt", since, "Exited", is_exited (e),
      "ExitedAt", (json_int_t) (is_exited (e) ? cove_ps_unix_or_zero (e->v.finished_at)
                                              : cove_ps_unix_or_zero (0)),
      "ExitCode", e->v.exit_code, "Id", c->id,
      "Image", c->image_name ? c->image_name : "",
      "ImageID", c->image_id ? c->image_id : "", "IsInfra", false,
      "Labels", labels_json (c, true), "Mounts", mounts,
      "Names", c->name ? c->name : "", "Namespaces", "Networks",
      "Pid", (int) e->v.pid, "Pod", "", "PodName", "", "Ports");
  const char *pod = cove_ctr_extra_str (c, "pod");
  if (pod)
    {
      json_object_set_new (o, "Pod", json_string (pod));
      json_object_set_new (o, "PodName", json_string (cove_pod_name_of (pod)));
      json_object_set_new (o, "IsInfra", json_boolean (cove_ctr_extra_bool (c, "pod_infra")));
    }
  json_t *ports = json_object_get (c->extra, "ports");
  if (json_array_size (ports) > 0)
    {
      json_t *a = json_array ();
      size_t i;
      json_t *p;
      json_array_foreach (ports, i, p)
        json_array_append_new (a, json_pack ("{s:O?, s:O?, s:O?, s:i, s:O?}",
                                             "host_ip", json_object_get (p, "host_ip"),
                                             "container_port", json_object_get (p, "container_port"),
                                             "host_port", json_object_get (p, "host_port"),
                                             "range", 1,
                                             "protocol", json_object_get (p, "protocol")));
      json_object_set_new (o, "Ports", a);
    }
  json_object_set_new (o, "Size", size ? json_pack ("{s:I, s:I}", "rootFsSize",
                                                    (json_int_t) e->rootfs, "rwSize",
                                                    (json_int_t) e->rw)
                                       : json_null ());
  json_object_set_new (o, "StartedAt", json_integer (cove_ps_unix_or_zero (c->started_at)));
  json_object_set_new (o, "State", json_string (cove_ps_state_word (e->v.state)));
  json_object_set_new (o, "Status", json_string (status));
  json_object_set_new (o, "Created", json_integer (c->created / NS_PER_S));
  return o;
}

/* The fields of a row (podman's psReporter), as bits of a mask.  */
static const char *const row_fields[] = {
  "Image", "ImageID", "Command", "Created", "CreatedAt", "CreatedHuman",
  "RunningFor", "Status", "State", "Names", "Labels", "Mounts", "Ports",
  "Pid", "ExitCode", "Exited", "ExitedAt", "StartedAt", "Size", "Networks",
  "Pod", "PodName", "IsInfra", "AutoRemove", "Namespaces", NULL,
};

/* The fields the template FORMAT may use: building only those keeps
   `ps -a` with hundreds of rows fast.  A template that looks at the
   whole row ({{.}}, variables) gets every field.  */
static uint32_t
wanted_fields (const char *format)
{
  bool all = strstr (format, "$") || strstr (format, "{{.}}")
             || strstr (format, " . ") || strstr (format, " .}}");
  uint32_t mask = 0;
  for (size_t i = 0; row_fields[i]; i++)
    if (all || strstr (format, row_fields[i]))
      mask |= 1u << i;
  return mask;
}

/* Add field I (of row_fields) to O when MASK has it; V is stolen.  */
static void
put (json_t *o, uint32_t mask, size_t i, json_t *v)
{
  if (mask & (1u << i))
    json_object_set_new (o, row_fields[i], v);
  else
    json_decref (v);
}

#define WANT(mask, i) ((mask) & (1u << (i)))

/* The fields a template sees, those of MASK (see wanted_fields).  */
static json_t *
row_item (const struct ps_entry *e, const struct ps_request *r, uint32_t mask,
          const char *status, time_t now, json_t *mounts)
{
  const struct cove_state_container *c = e->c;
  json_t *o = json_object ();
  const char *image_id = c->image_id ? c->image_id : "";
  json_object_set_new (o, "ID", json_stringn (c->id, r->no_trunc ? COVE_STATE_ID_LEN : 12));
  put (o, mask, 0, json_string (c->image_name ? c->image_name : ""));
  if (WANT (mask, 1))
    put (o, mask, 1, json_stringn (image_id, r->no_trunc ? strlen (image_id)
                                                         : strnlen (image_id, 12)));
  if (WANT (mask, 2))
    {
      cleanup_free char *command = cove_ps_command_string (
          json_object_get (c->extra, "command"), r->no_trunc);
      put (o, mask, 2, json_string (command));
    }
  if (mask & (0x3u << 3))
    {
      cleanup_free char *at = cove_ps_go_time_ns (c->created);
      put (o, mask, 3, json_string (at));
      put (o, mask, 4, json_string (at));
    }
  if (mask & (0x3u << 5))
    {
      cleanup_free char *since = cove_human_since ((time_t) (c->created / NS_PER_S), now);
      put (o, mask, 5, json_string (since));
      put (o, mask, 6, json_string (since));
    }
  put (o, mask, 7, json_string (status));
  /* podman 4.3's .State is the same text as .Status.  */
  put (o, mask, 8, json_string (status));
  put (o, mask, 9, json_string (c->name ? c->name : ""));
  if (WANT (mask, 10))
    put (o, mask, 10, labels_json (c, false));
  put (o, mask, 11, json_incref (mounts));
  if (WANT (mask, 12))
    {
      cleanup_free char *ports = cove_ps_ports_string (json_object_get (c->extra, "ports"));
      put (o, mask, 12, json_string (ports));
    }
  put (o, mask, 13, json_integer (e->v.pid));
  put (o, mask, 14, json_integer (e->v.exit_code));
  put (o, mask, 15, json_boolean (is_exited (e)));
  put (o, mask, 16, json_integer (is_exited (e) ? cove_ps_unix_or_zero (e->v.finished_at)
                                                : cove_ps_unix_or_zero (0)));
  put (o, mask, 17, json_integer (cove_ps_unix_or_zero (c->started_at)));
  if (WANT (mask, 18))
    {
      cleanup_free char *rw = r->size ? cove_human_size_compact (e->rw) : NULL;
      cleanup_free char *virt = r->size ? cove_human_size_compact (e->rootfs) : NULL;
      put (o, mask, 18, r->size ? json_sprintf ("%s (virtual %s)", rw, virt) : json_string (""));
    }
  put (o, mask, 19, json_string (""));
  const char *pod = cove_ctr_extra_str (c, "pod");
  put (o, mask, 20, json_stringn (pod ? pod : "", pod ? (r->no_trunc ? strlen (pod) : 12) : 0));
  put (o, mask, 21, json_string (pod && WANT (mask, 21) ? cove_pod_name_of (pod) : ""));
  put (o, mask, 22, json_boolean (cove_ctr_extra_bool (c, "pod_infra")));
  put (o, mask, 23, json_boolean (cove_ctr_extra_bool (c, "rm")));
  /* Go's %v of podman's empty namespaces struct (7 empty strings).  */
  put (o, mask, 24, json_string ("{      }"));
  return o;
}

/* --sort.  */
static int
cmp_entries (const void *x, const void *y, void *ctx)
{
  const struct ps_entry *a = x, *b = y;
  const char *key = ctx;
  int r = 0;
  if (strcmp (key, "id") == 0)
    r = strcmp (a->c->id, b->c->id);
  else if (strcmp (key, "image") == 0)
    r = strcmp (a->c->image_name ?: "", b->c->image_name ?: "");
  else if (strcmp (key, "names") == 0)
    r = strcmp (a->c->name ?: "", b->c->name ?: "");
  else if (strcmp (key, "status") == 0)
    r = strcmp (cove_ps_state_word (a->v.state), cove_ps_state_word (b->v.state));
  else if (strcmp (key, "size") == 0)
    r = a->rw < b->rw ? -1 : a->rw > b->rw;
  else if (strcmp (key, "command") == 0)
    {
      cleanup_free char *ca = cove_ps_command_string (json_object_get (a->c->extra, "command"), true);
      cleanup_free char *cb = cove_ps_command_string (json_object_get (b->c->extra, "command"), true);
      r = strcmp (ca, cb);
    }
  if (r == 0)
    r = a->c->created < b->c->created ? -1 : a->c->created > b->c->created;
  return r;
}

static bool
sort_key_valid (const char *k)
{
  static const char *const keys[] = { "command", "created", "id", "image",
                                      "names", "runningfor", "size", "status",
                                      NULL };
  for (const char *const *p = keys; *p; p++)
    if (strcmp (*p, k) == 0)
      return true;
  return false;
}

/* The entries to show, oldest first: the running ones (all with -a, -l,
   -n or a status filter) that pass F; with -l or -n only the newest.  */
static struct ps_entry *
select_entries (const struct ps_request *r, const struct cove_state_container *all,
                size_t n, const struct cove_ps_filter *f, size_t *out_n)
{
  struct ps_entry *e = xmalloc0 ((n ? n : 1) * sizeof *e);
  bool any_state = r->all || r->latest || r->last >= 0
                   || cove_ps_filter_has_status (f);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    {
      bool monitor_alive;
      enum cove_state_status eff = cove_state_effective (&all[i], &monitor_alive);
      e[k].c = &all[i];
      cove_ps_view_of (&all[i], eff, monitor_alive, &e[k].v);
      if ((any_state || e[k].v.state == COVE_STATE_RUNNING)
          && cove_ps_filter_match (f, &all[i], &e[k].v))
        k++;
    }
  size_t keep = r->latest ? 1 : r->last >= 0 ? (size_t) r->last : k;
  if (keep < k)
    {
      memmove (e, e + (k - keep), keep * sizeof *e);
      k = keep;
    }
  *out_n = k;
  return e;
}

/* --size: in the user namespace (the files belong to mapped ids).  */
static void
measure (const struct cove_storage_paths *paths, struct ps_entry *e, size_t n)
{
  struct cove_storage *images = NULL;
  if (cove_storage_open (paths, &images, NULL) < 0)
    images = NULL;
  for (size_t i = 0; i < n; i++)
    cove_ctr_size (paths, e[i].c, images, &e[i].rw, &e[i].rootfs);
  if (images)
    cove_storage_close (images);
}

static int
print_entries (const struct ps_request *r, const struct cove_storage_paths *paths,
               const struct ps_entry *e, size_t n)
{
  if (r->quiet)
    {
      for (size_t i = 0; i < n; i++)
        printf ("%.*s\n", r->no_trunc ? COVE_STATE_ID_LEN : 12, e[i].c->id);
      return 0;
    }
  time_t now = time (NULL);
  bool json = r->format && cove_format_is_json (r->format);
  bool need_mounts = json || (r->format && strstr (r->format, "Mounts"));
  const char *table = r->size
      ? "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}"
      : "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
  cleanup_free char *pod_table = r->pod ? xasprintf ("%s\t{{.Pod}}\t{{.PodName}}", table) : NULL;
  if (pod_table)
    table = pod_table;
  uint32_t mask = wanted_fields (r->format ? r->format : table);
  json_t *items = json_array ();
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *status = cove_ps_status_string (e[i].c, &e[i].v, now);
      json_t *mounts = need_mounts ? cove_ctr_mount_destinations (paths, e[i].c)
                                   : json_array ();
      json_array_append_new (items, json ? json_item (&e[i], status, now, mounts, r->size)
                                         : row_item (&e[i], r, mask, status, now, mounts));
      json_decref (mounts);
    }
  int ret = 0;
  if (json)
    {
      /* podman indents `ps --format json` by 2 spaces.  */
      json_dumpf (items, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
      fputc ('\n', stdout);
    }
  else
    {
      static const char *const headers[] = {
        "ID", "CONTAINER ID", "CreatedHuman", "CREATED", "RunningFor", "CREATED",
        "Pod", "POD ID", "PodName", "PODNAME", NULL,
      };
      ret = cove_listing_print (items, items, r->format, table, headers, r->noheading);
    }
  json_decref (items);
  return ret;
}

static int
list_containers (const struct ps_request *r)
{
  cleanup_error struct cove_error *err = NULL;
  if (r->size && cove_cmd_enter_userns (&err) < 0)
    return cove_cmd_fail (&err, 125);
  struct cove_storage_paths paths;
  struct cove_state_store st;
  if (cove_ctr_store_open (&paths, &st, &err) < 0)
    return cove_cmd_fail (&err, 125);
  struct cove_state_container *all = NULL;
  size_t n = 0;
  cleanup_strv char **warnings = NULL;
  int ret = 0;
  if (cove_state_list (&st, &all, &n, &warnings, &err) < 0)
    {
      cove_ctr_store_close (&paths, &st);
      return cove_cmd_fail (&err, 125);
    }
  /* A corrupt record is named and skipped: the others are listed.  */
  for (char **w = warnings; w && *w; w++)
    fprintf (stderr, "WARN[0000] skipping %s\n", *w);
  cleanup_strv char **filters = cove_pod_resolve_filters (r->filters);
  struct cove_ps_filter *f = cove_ps_filter_new (filters, all, n, &err);
  if (f == NULL)
    ret = cove_cmd_fail (&err, 125);
  else
    {
      size_t k;
      struct ps_entry *e = select_entries (r, all, n, f, &k);
      if (r->size)
        measure (&paths, e, k);
      if (r->sort && strcmp (r->sort, "created") && strcmp (r->sort, "runningfor"))
        qsort_r (e, k, sizeof *e, cmp_entries, (void *) r->sort);
      ret = print_entries (r, &paths, e, k);
      free (e);
      cove_ps_filter_free (f);
    }
  cove_state_container_list_free (all, n);
  cove_ctr_store_close (&paths, &st);
  return ret;
}

/* Parse one option into R; -1 with *ERR for a bad value.  */
static int
take_option (struct ps_request *r, int id, const char *v, struct cove_error **err)
{
  bool on = v && strcmp (v, "true") == 0;
  switch (id)
    {
    case OPT_ALL: r->all = on; break;
    case OPT_QUIET: r->quiet = on; break;
    case OPT_LATEST: r->latest = on; break;
    case OPT_NO_TRUNC: r->no_trunc = on; break;
    case OPT_SIZE: r->size = on; break;
    case OPT_NOHEADING: r->noheading = on; break;
    case OPT_POD: r->pod = on; break;
    case OPT_FORMAT: r->format = v; break;
    case OPT_SORT: r->sort = v; break;
    case OPT_FILTER: cove_strv_append (&r->filters, v); break;
    case OPT_LAST:
      {
        char *end;
        errno = 0;
        long n = strtol (v, &end, 10);
        if (errno || end == v || *end)
          return cove_error_set_plain (err, EINVAL, "invalid argument \"%s\" for "
                                       "\"-n, --last\" flag: strconv.ParseInt: "
                                       "parsing \"%s\": invalid syntax", v, v);
        r->last = n < 0 ? -1 : n;
        break;
      }
    default: break;
    }
  return 0;
}

static int
check_request (const struct ps_request *r)
{
  if (r->quiet && r->size)
    return cove_cmd_usage_error ("quiet conflicts with size and namespace");
  if (r->latest && r->last >= 0)
    return cove_cmd_usage_error ("last and latest are mutually exclusive");
  if (r->sort && !sort_key_valid (r->sort))
    return cove_cmd_usage_error ("invalid option for --sort, options are: command, "
                                 "created, id, image, names, runningfor, size, or status");
  return 0;
}

int
cove_cmd_ps (int argc, char **argv)
{
  struct ps_request r = { .last = -1 };
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, ps_opts, argc, argv, true);
  const char *v;
  int id;
  while ((id = cove_opts_next (&p, &v, &err)) > 0)
    {
      if (id == OPT_HELP)
        {
          cove_opts_print_help (stdout, "cove ps [options]", "List containers", ps_opts);
          cove_opts_free (&p);
          cove_strv_free (r.filters);
          return 0;
        }
      if (take_option (&r, id, v, &err) < 0)
        {
          id = -1;
          break;
        }
    }
  int nrest;
  cleanup_free char **rest = cove_opts_rest (&p, &nrest);
  cove_opts_free (&p);
  int ret;
  if (id < 0)
    ret = cove_cmd_fail (&err, 125);
  else if (nrest > 0)
    ret = cove_cmd_usage_error ("`cove ps` takes no arguments");
  else if ((ret = check_request (&r)) == 0)
    ret = list_containers (&r);
  cove_strv_free (r.filters);
  return ret;
}
