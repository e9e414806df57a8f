/* cove pod create: the pod's record, then its infra container, made by
   the same code as `cove create --rootfs DIR --init -- --pause` (run's
   options and cove_ctr_create: one way to make a container).  */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcreate.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "cmd/cove/pod.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

enum
{
  OPT_HELP = 1, OPT_NAME, OPT_PUBLISH, OPT_HOSTNAME, OPT_SHARE, OPT_INFRA,
  OPT_LABEL, OPT_NETWORK,
};

static const struct cove_opt create_opts[] = {
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for create" },
  { "hostname", 0, COVE_OPT_VALUE, OPT_HOSTNAME, "string", "Set the pod's hostname (default: its name)" },
  { "infra", 0, COVE_OPT_BOOL, OPT_INFRA, NULL, "Create an infra container associated with the pod to share namespaces with (default true)" },
  { "label", 'l', COVE_OPT_VALUE, OPT_LABEL, "stringArray", "Set metadata on pod (default [])" },
  { "name", 'n', COVE_OPT_VALUE, OPT_NAME, "string", "Assign a name to the pod" },
  { "network", 0, COVE_OPT_VALUE, OPT_NETWORK, "string", "Connect the pod to a network, as run's --network (default slirp4netns)" },
  { "publish", 'p', COVE_OPT_VALUE, OPT_PUBLISH, "strings", "Publish a container's port, or a range of ports, to the host (default [])" },
  { "share", 0, COVE_OPT_VALUE, OPT_SHARE, "string", "A comma-separated list of kernel namespaces to share: net, ipc, uts (default \"net,ipc,uts\")" },
  { NULL, 0, 0, 0, NULL, NULL },
};

struct pod_opts
{
  const char *name, *hostname, *network;
  char **publish, **labels, **share;
  bool infra;
};

static void
pod_opts_free (struct pod_opts *p)
{
  cove_strv_free (p->publish);
  cove_strv_free (p->labels);
  cove_strv_free (p->share);
}

static int
parse_share (struct pod_opts *p, const char *v, struct cove_error **err)
{
  cove_strv_free (p->share);
  p->share = xmalloc0 (sizeof *p->share);
  cleanup_free char *copy = xstrdup (v);
  for (char *w = copy, *next; w && *w; w = next)
    {
      next = strchr (w, ',');
      if (next)
        *next++ = '\0';
      if (strcmp (w, "none") == 0)
        continue;
      if (strcmp (w, "net") != 0 && strcmp (w, "ipc") != 0 && strcmp (w, "uts") != 0)
        return cove_error_set_plain (err, EINVAL, "invalid kernel namespace "
                                     "to share: %s: cove pods share net, ipc "
                                     "and uts", w);
      bool seen = false;
      for (char **q = p->share; *q; q++)
        seen = seen || strcmp (*q, w) == 0;
      if (!seen)
        cove_strv_append (&p->share, w);
    }
  return 0;
}

static int
apply (struct pod_opts *p, int id, const char *v, struct cove_error **err)
{
  switch (id)
    {
    case OPT_NAME: p->name = v; return 0;
    case OPT_HOSTNAME: p->hostname = v; return 0;
    case OPT_NETWORK: p->network = v; return 0;
    case OPT_PUBLISH: cove_strv_append (&p->publish, v); return 0;
    case OPT_SHARE: return parse_share (p, v, err);
    case OPT_INFRA: p->infra = strcmp (v, "true") == 0; return 0;
    case OPT_LABEL:
      if (v[0] == '\0' || v[0] == '=')
        return cove_error_set_plain (err, EINVAL, "invalid label `%s`: must "
                                     "be KEY=VALUE or KEY", v);
      if (strchr (v, '='))
        cove_strv_append (&p->labels, v);
      else
        {
          cleanup_free char *kv = xasprintf ("%s=", v);
          cove_strv_append (&p->labels, kv);
        }
      return 0;
    default: return cove_error_set (err, EINVAL, "unhandled option %d", id);
    }
}

/* 1 for --help, 0, or -1.  */
static int
parse (struct pod_opts *p, int argc, char **argv, struct cove_error **err)
{
  memset (p, 0, sizeof *p);
  p->infra = true;
  if (parse_share (p, "net,ipc,uts", err) < 0)
    return -1;
  struct cove_opts_parser op;
  cove_opts_init (&op, create_opts, argc, argv, true);
  const char *v;
  int id;
  while ((id = cove_opts_next (&op, &v, err)) > 0)
    {
      if (id == OPT_HELP)
        {
          cove_opts_free (&op);
          return 1;
        }
      if (apply (p, id, v, err) < 0)
        break;
    }
  int n = 0;
  cleanup_free char **rest = cove_opts_rest (&op, &n);
  cove_opts_free (&op);
  if (id < 0 || *err)
    return -1;
  if (n > 0)
    return cove_error_set_plain (err, EINVAL, "accepts 0 arg(s), received %d", n);
  if (p->name && !cove_state_name_valid (p->name))
    return cove_error_set_plain (err, EINVAL, "running pod create option: "
                                 "names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: "
                                 "invalid argument");
  if (!p->infra && p->publish)
    return cove_error_set_plain (err, EINVAL, "you must have an infra "
                                 "container to publish port bindings to the "
                                 "host");
  if (!p->infra && p->network)
    return cove_error_set_plain (err, EINVAL, "you must have an infra "
                                 "container to configure the pod's network");
  if (!p->infra)
    {
      /* Nothing to share without an infra container.  */
      cove_strv_free (p->share);
      p->share = xmalloc0 (sizeof *p->share);
    }
  return 0;
}

static json_t *
strv_json (char **v)
{
  json_t *a = json_array ();
  for (; v && *v; v++)
    json_array_append_new (a, json_string (*v));
  return a;
}

/* The infra container's root filesystem: the mount points the runtime
   needs and the files its /etc is bound over; nothing to run (its
   process is the host's cove-init, bound in).  */
static int
make_rootfs (const char *dir, struct cove_error **err)
{
  static const char *const dirs[] = { "dev", "proc", "sys", "run", "tmp", "etc" };
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    {
      cleanup_free char *d = xasprintf ("%s/%s", dir, dirs[i]);
      if (cove_mkdir_p (d, 0755, err) < 0)
        return -1;
    }
  static const char *const files[] = { "etc/hosts", "etc/resolv.conf",
                                       "etc/hostname", "run/cove-init" };
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    {
      cleanup_free char *f = xasprintf ("%s/%s", dir, files[i]);
      if (cove_file_write_atomic (f, "", 0, 0644, 0, err) < 0)
        return -1;
    }
  return 0;
}

static int
mark_infra (struct cove_state_container *c, void *ctx, struct cove_error **err)
{
  (void) err;
  json_object_set_new (c->extra, "pod", json_string (ctx));
  json_object_set_new (c->extra, "pod_infra", json_true ());
  return 0;
}

static int
set_infra_id (struct cove_state_container *c, void *ctx, struct cove_error **err)
{
  (void) err;
  json_object_set_new (c->extra, "infra_id", json_string (ctx));
  return 0;
}

/* Run's options for the infra container of POD.  */
static char **
infra_argv (const struct pod_opts *p, const struct cove_state_container *pod,
            const char *rootfs)
{
  char **argv = NULL;
  cleanup_free char *name = xasprintf ("%.12s-infra", pod->id);
  const char *fixed[] = { "create", "--name", name, "--rootfs", rootfs,
                          "--init", "--hostname",
                          cove_ctr_extra_str (pod, "hostname") };
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    cove_strv_append (&argv, fixed[i]);
  if (p->network)
    {
      cove_strv_append (&argv, "--network");
      cove_strv_append (&argv, p->network);
    }
  for (char **q = p->publish; q && *q; q++)
    {
      cove_strv_append (&argv, "--publish");
      cove_strv_append (&argv, *q);
    }
  cove_strv_append (&argv, "--");
  cove_strv_append (&argv, "--pause");
  return argv;
}

/* Make POD's infra container; *OUT_ID its id.  */
static int
make_infra (struct cove_pod_cmd *pc, const struct pod_opts *p,
            const struct cove_state_container *pod, char **out_id,
            struct cove_error **err)
{
  cleanup_free char *rootfs = xasprintf ("%s/%s/rootfs", pc->pods.root, pod->id);
  if (make_rootfs (rootfs, err) < 0)
    return -1;
  cleanup_strv char **argv = infra_argv (p, pod, rootfs);
  int argc = (int) cove_strv_len (argv);
  struct cove_run_options o;
  int r = cove_run_options_parse (&o, argc, argv, err);
  if (r == COVE_RUN_OPTIONS_HELP)
    r = cove_error_set (err, EINVAL, "infra container options");
  int status;
  if (r == 0)
    r = cove_ctr_create (&o, &pc->paths, &pc->st, false, out_id, &status, err);
  cove_run_options_free (&o);
  if (r == 0 && cove_state_update (&pc->st, *out_id, mark_infra,
                                   (void *) pod->id, NULL, err) < 0)
    {
      (void) cove_state_remove (&pc->st, *out_id, NULL);
      free (*out_id);
      *out_id = NULL;
      r = -1;
    }
  return r < 0 ? cove_error_wrap (err, "create the infra container") : 0;
}

/* The pod's record; *OUT gets it.  */
static int
record_pod (struct cove_pod_cmd *pc, const struct pod_opts *p, int argc,
            char **argv, struct cove_state_container *out,
            struct cove_error **err)
{
  json_t *extra = json_object ();
  json_object_set_new (extra, "share", strv_json (p->share));
  json_object_set_new (extra, "publish", strv_json (p->publish));
  if (p->network)
    json_object_set_new (extra, "network", json_string (p->network));
  json_t *cmdline = json_pack ("[s, s]", "cove", "pod");
  for (int i = 0; i < argc; i++)
    json_array_append_new (cmdline, json_string (argv[i]));
  json_object_set_new (extra, "create_command", cmdline);
  struct cove_state_container tmpl = {
    .name = (char *) p->name, .state = COVE_STATE_CREATED,
    .labels = p->labels, .extra = extra,
  };
  cleanup_error struct cove_error *local = NULL;
  int r = cove_state_create (&pc->pods, &tmpl, out, &local);
  json_decref (extra);
  if (r < 0 && local->errnum == EEXIST)
    return cove_error_set_plain (err, EEXIST, "adding pod to state: name "
                                 "\"%s\" is in use: pod already exists",
                                 p->name);
  if (r < 0)
    {
      *err = steal_pointer (&local);
      return -1;
    }
  return 0;
}

static int
set_hostname (struct cove_state_container *c, void *ctx, struct cove_error **err)
{
  (void) err;
  json_object_set_new (c->extra, "hostname", json_string (ctx));
  return 0;
}

static int
create_parsed (const struct pod_opts *p, int argc, char **argv, char **out_id,
               struct cove_error **err)
{
  struct cove_pod_cmd pc;
  if (cove_pod_cmd_open (&pc, true, err) < 0)
    return -1;
  struct cove_state_container pod;
  int r = record_pod (&pc, p, argc, argv, &pod, err);
  if (r < 0)
    {
      cove_pod_cmd_close (&pc);
      return -1;
    }
  /* The hostname defaults to the name, known only now when generated.  */
  const char *hostname = p->hostname ? p->hostname : pod.name;
  json_object_set_new (pod.extra, "hostname", json_string (hostname));
  r = cove_state_update (&pc.pods, pod.id, set_hostname, (void *) hostname,
                         NULL, err);
  cleanup_free char *infra = NULL;
  if (r == 0 && p->infra)
    r = make_infra (&pc, p, &pod, &infra, err);
  if (r == 0 && infra)
    r = cove_state_update (&pc.pods, pod.id, set_infra_id, infra, NULL, err);
  if (r < 0)
    {
      if (infra)
        (void) cove_state_remove (&pc.st, infra, NULL);
      (void) cove_state_remove (&pc.pods, pod.id, NULL);
    }
  else
    *out_id = xstrdup (pod.id);
  cove_state_container_free (&pod);
  cove_pod_cmd_close (&pc);
  return r;
}

int
cove_pod_create (int argc, char **argv, char **out_id, struct cove_error **err)
{
  struct pod_opts p;
  int r = parse (&p, argc, argv, err);
  if (r == 1)
    r = cove_error_set_plain (err, EINVAL, "--help");
  if (r == 0)
    r = create_parsed (&p, argc, argv, out_id, err);
  pod_opts_free (&p);
  return r;
}

int
cove_cmd_pod_create (int argc, char **argv)
{
  cleanup_error struct cove_error *err = NULL;
  struct pod_opts p;
  int r = parse (&p, argc, argv, &err);
  if (r == 1)
    {
      cove_opts_print_help (stdout, "cove pod create [options]",
                            "Create a new empty pod", create_opts);
      pod_opts_free (&p);
      return 0;
    }
  cleanup_free char *id = NULL;
  if (r == 0)
    r = create_parsed (&p, argc, argv, &id, &err);
  pod_opts_free (&p);
  if (r < 0)
    return cove_cmd_fail (&err, 125);
  printf ("%s\n", id);
  return 0;
}
