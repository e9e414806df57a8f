/* cove: the options of `cove run` (and later `create`), parsed into a
   pkg/spec request.  */
#ifndef COVE_CMD_RUNOPTS_H
#define COVE_CMD_RUNOPTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmd/cove/opts.h"
#include "pkg/spec/spec.h"

enum cove_run_restart
{
  COVE_RUN_RESTART_NO = 0,
  COVE_RUN_RESTART_ON_FAILURE,
  COVE_RUN_RESTART_ALWAYS,
  COVE_RUN_RESTART_UNLESS_STOPPED,
};

enum cove_run_pull
{
  COVE_RUN_PULL_MISSING = 0,
  COVE_RUN_PULL_ALWAYS,
  COVE_RUN_PULL_NEVER,
};

struct cove_run_options
{
  struct cove_spec_request req;  /* strings borrowed from argv or owned below */
  bool interactive;              /* -i */
  bool sig_proxy;                /* --sig-proxy, default true */
  bool rm;                       /* --rm */
  const char *name;              /* --name */
  char *rootfs;                  /* owned: the absolute --rootfs */
  const char *image;             /* IMAGE, when no --rootfs */
  enum cove_run_pull pull;       /* --pull */
  const char *platform;          /* --platform */
  int tls_verify;                /* --tls-verify: -1 unset, 0, 1 */
  json_t *image_config;          /* the image's config, owned */
  /* The container's life (create/run).  */
  bool detach;                   /* -d */
  const char *cidfile;           /* --cidfile */
  char **labels;                 /* -l KEY=VALUE (validated), owned */
  enum cove_run_restart restart; /* --restart */
  unsigned restart_max;          /* on-failure:N, 0 = no limit */
  int stop_signal;               /* --stop-signal, 0 = unset (image's or SIGTERM) */
  int stop_timeout;              /* --stop-timeout seconds, -1 = unset (10) */
  bool init;                     /* --init */
  const char *init_path;         /* --init-path */
  const char *log_driver;        /* --log-driver: k8s-file (default) or none */
  int64_t log_max_size;          /* --log-opt max-size=, 0 = unlimited */
  char **mounts;                 /* --mount type=...,..., owned */
  char **volumes_from;           /* --volumes-from CTR[:ro|rw], owned */
  const char *detach_keys;       /* --detach-keys, NULL = ctrl-p,ctrl-q */
  bool resource_limits;          /* --memory, --cpus...: given, and ignored */
  /* Network (cmd/cove/runnet.c).  */
  const char *net_container;     /* --network container:NAME */
  char *net_value;               /* owned copy of --network's value, which
                                    req.slirp's strings point into */
  char **dns;                    /* --dns, owned */
  char **dns_search;             /* --dns-search, owned */
  char **dns_options;            /* --dns-option, owned */
  char **add_hosts;              /* --add-host NAME:IP, owned */
  bool no_hosts;                 /* --no-hosts */
  char *etc_files[3];            /* owned paths of hosts, resolv.conf, hostname */
  char *net_ns_path;             /* owned: the joined container's netns */
  char **publish;                /* -p [IP:][HOSTPORT:]PORT[/PROTO], owned */
  bool publish_all;              /* -P */
  /* Pods (cmd/cove/podjoin.c).  */
  const char *pod;               /* --pod NAME|ID|new:NAME */
  char *pod_state[6];            /* owned by podjoin.c: the pod's id, its
                                    infra container's id, and the paths
                                    of the joined net, ipc, uts
                                    namespaces, its hostname */
};

extern const struct cove_opt cove_run_option_table[];

#define COVE_RUN_OPTIONS_HELP 1

/* Parse ARGV (ARGV[0] = "run").  Returns 0, COVE_RUN_OPTIONS_HELP for
   --help, or -1 with *ERR (bad input: unknown flag, missing --rootfs or
   command, an unsupported namespace mode...).  Always free O with
   cove_run_options_free.  */
int cove_run_options_parse (struct cove_run_options *o, int argc, char **argv,
                            struct cove_error **err);
void cove_run_options_free (struct cove_run_options *o);

#endif
