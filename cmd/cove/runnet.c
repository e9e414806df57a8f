#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cove/ctr.h"
#include "cmd/cove/runnet.h"
#include "net/net.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

static bool
parse_bool_opt (const char *v, bool *out)
{
  if (strcmp (v, "true") == 0)
    *out = true;
  else if (strcmp (v, "false") == 0)
    *out = false;
  else
    return false;
  return true;
}

/* One KEY=VALUE of slirp's options (podman's slirp4netns ones).  */
static int
slirp_option (struct cove_spec_slirp *sl, char *kv, struct cove_error **err)
{
  char *eq = strchr (kv, '=');
  if (eq == NULL)
    return cove_error_set (err, EINVAL, "invalid slirp option `%s`: "
                           "must be KEY=VALUE", kv);
  *eq = '\0';
  const char *v = eq + 1;
  bool b, ipv6 = true;
  if (strcmp (kv, "mtu") == 0)
    {
      char *end;
      unsigned long n = strtoul (v, &end, 10);
      if (*v == '\0' || *end || n < 68 || n > 65521)
        return cove_error_set (err, EINVAL, "invalid slirp mtu `%s`", v);
      sl->mtu = (unsigned) n;
    }
  else if (strcmp (kv, "enable_ipv6") == 0 && parse_bool_opt (v, &ipv6))
    sl->disable_ipv6 = !ipv6;
  else if (strcmp (kv, "allow_host_loopback") == 0 && parse_bool_opt (v, &b))
    sl->allow_host_loopback = b;
  else if (strcmp (kv, "cidr") == 0 && strchr (v, '/'))
    sl->cidr = v;
  else if (strcmp (kv, "outbound_addr") == 0 && v[0])
    sl->outbound_addr = v;
  else if (strcmp (kv, "port_handler") == 0
           && (strcmp (v, "slirp") == 0 || strcmp (v, "relay") == 0
               || strcmp (v, "rootlesskit") == 0 || strcmp (v, "slirp4netns") == 0))
    sl->port_handler = strcmp (v, "rootlesskit") == 0 ? "relay"
                       : strcmp (v, "slirp4netns") == 0 ? "slirp" : v;
  else
    return cove_error_set (err, EINVAL, "invalid slirp option `%s=%s`", kv, v);
  return 0;
}

static int
parse_slirp (struct cove_run_options *o, char *opts, struct cove_error **err)
{
  struct cove_spec_slirp *sl = &o->req.slirp;
  memset (sl, 0, sizeof *sl);
  o->req.ns[COVE_SPEC_NS_NET] = COVE_SPEC_NS_SLIRP;
  for (char *p = opts; p && *p;)
    {
      char *comma = strchr (p, ',');
      if (comma)
        *comma = '\0';
      if (slirp_option (sl, p, err) < 0)
        return -1;
      p = comma ? comma + 1 : NULL;
    }
  return 0;
}

int
cove_run_net_parse (struct cove_run_options *o, const char *value,
                    struct cove_error **err)
{
  struct cove_spec_request *r = &o->req;
  free (o->net_value);
  o->net_value = xstrdup (value);
  char *v = o->net_value;
  char *colon = strchr (v, ':');
  if (colon)
    *colon = '\0';
  const char *arg = colon ? colon + 1 : NULL;
  o->net_container = NULL;
  if (strcmp (v, "none") == 0 && !arg)
    r->ns[COVE_SPEC_NS_NET] = COVE_SPEC_NS_NONE;
  else if (strcmp (v, "host") == 0 && !arg)
    r->ns[COVE_SPEC_NS_NET] = COVE_SPEC_NS_HOST;
  else if ((strcmp (v, "slirp") == 0 || strcmp (v, "slirp4netns") == 0)
           || (strcmp (v, "private") == 0 && !arg))
    return parse_slirp (o, colon ? colon + 1 : NULL, err);
  else if (strcmp (v, "container") == 0 && arg && *arg)
    {
      r->ns[COVE_SPEC_NS_NET] = COVE_SPEC_NS_PATH;
      o->net_container = arg;
    }
  else if (strcmp (v, "ns") == 0 && arg && arg[0] == '/')
    {
      r->ns[COVE_SPEC_NS_NET] = COVE_SPEC_NS_PATH;
      r->ns_path[COVE_SPEC_NS_NET] = arg;
    }
  else
    return cove_error_set (err, EINVAL, "unsupported network mode `%s`: use "
                           "none, host, slirp[:OPTIONS], container:NAME or "
                           "ns:PATH", value);
  return 0;
}

int
cove_run_net_check_host (const char *value, struct cove_error **err)
{
  /* NAME:IP; the IP may itself hold colons (IPv6), so split at the first.  */
  const char *colon = strchr (value, ':');
  unsigned char buf[16];
  if (colon && colon != value)
    {
      cleanup_free char *ip = xstrdup (colon + 1);
      size_t n = strlen (ip);
      if (n > 2 && ip[0] == '[' && ip[n - 1] == ']')
        {
          memmove (ip, ip + 1, n - 2);
          ip[n - 2] = '\0';
        }
      if (inet_pton (AF_INET, ip, buf) == 1 || inet_pton (AF_INET6, ip, buf) == 1)
        return 0;
    }
  return cove_error_set (err, EINVAL, "invalid --add-host `%s`: must be "
                         "HOST:IP", value);
}

/* The host's resolv.conf lines starting with WORD (nameserver, search,
   options), without the word; loopback nameservers dropped unless
   KEEP_LOOPBACK (they are the host's own, unreachable from another
   network namespace).  */
static char **
host_resolv (const char *word, bool keep_loopback)
{
  char **out = xmalloc0 (sizeof *out);
  cleanup_free char *text = cove_file_read_at (AT_FDCWD, "/etc/resolv.conf",
                                               1 << 16, NULL, NULL);
  size_t wl = strlen (word);
  for (char *line = text, *next; line && *line; line = next)
    {
      next = strchr (line, '\n');
      if (next)
        *next++ = '\0';
      if (strncmp (line, word, wl) != 0 || (line[wl] != ' ' && line[wl] != '\t'))
        continue;
      const char *v = line + wl + strspn (line + wl, " \t");
      if (!keep_loopback && (strncmp (v, "127.", 4) == 0 || strcmp (v, "::1") == 0))
        continue;
      cove_strv_append (&out, v);
    }
  return out;
}

/* The address N (100: the container, 2: the host, 3: DNS) of the slirp
   network (its cidr= option, else 10.0.2.0/24), as text in BUF.  */
static const char *
slirp_addr (const struct cove_run_options *o, unsigned n, char buf[INET_ADDRSTRLEN])
{
  struct cove_net_slirp_options so;
  cove_net_slirp_options_init (&so);
  if (o->req.slirp.cidr)
    (void) cove_net_slirp_option_set (&so, "cidr", o->req.slirp.cidr, NULL);
  struct in_addr a = cove_net_slirp_addr4 (&so, n);
  return inet_ntop (AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void
append_list (char **text, const char *word, char **items, const char *sep)
{
  if (items == NULL || items[0] == NULL)
    return;
  char *t = xasprintf ("%s%s", *text, word);
  for (char **i = items; *i; i++)
    {
      char *u = xasprintf ("%s%s%s", t, i == items ? " " : sep, *i);
      free (t);
      t = u;
    }
  free (*text);
  *text = xasprintf ("%s\n", t);
  free (t);
}

static char *
resolv_text (const struct cove_run_options *o)
{
  enum cove_spec_ns net = o->req.ns[COVE_SPEC_NS_NET];
  char *text = xstrdup ("");
  cleanup_strv char **ns = NULL;
  char dns[INET_ADDRSTRLEN];
  if (o->dns)
    ns = cove_strv_dup (o->dns);
  else if (net == COVE_SPEC_NS_SLIRP)
    ns = cove_strv_dup ((char *[]) { (char *) slirp_addr (o, 3, dns), NULL });
  else
    ns = host_resolv ("nameserver", net == COVE_SPEC_NS_HOST);
  cleanup_strv char **search = o->dns_search ? cove_strv_dup (o->dns_search)
                                             : host_resolv ("search", true);
  cleanup_strv char **opts = o->dns_options ? cove_strv_dup (o->dns_options)
                                            : host_resolv ("options", true);
  append_list (&text, "search", search, " ");
  for (char **n = ns; n && *n; n++)
    {
      char *t = xasprintf ("%snameserver %s\n", text, *n);
      free (text);
      text = t;
    }
  append_list (&text, "options", opts, " ");
  return text;
}

static char *
hosts_text (const struct cove_run_options *o, const char *hostname)
{
  enum cove_spec_ns net = o->req.ns[COVE_SPEC_NS_NET];
  /* The host's network: the host's names too, as podman.  */
  char *text = net == COVE_SPEC_NS_HOST
               ? cove_file_read_at (AT_FDCWD, "/etc/hosts", 1 << 20, NULL, NULL)
               : NULL;
  if (text == NULL)
    text = xstrdup ("127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n"
                    "::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n");
  for (char **h = o->add_hosts; h && *h; h++)
    {
      const char *colon = strchr (*h, ':');
      cleanup_free char *name = xstrndup (*h, (size_t) (colon - *h));
      cleanup_free char *ip = xstrdup (colon + 1);
      size_t n = strlen (ip);
      if (n > 2 && ip[0] == '[' && ip[n - 1] == ']')
        {
          memmove (ip, ip + 1, n - 2);
          ip[n - 2] = '\0';
        }
      char *t = xasprintf ("%s%s\t%s\n", text, ip, name);
      free (text);
      text = t;
    }
  char own_buf[INET_ADDRSTRLEN], host_buf[INET_ADDRSTRLEN];
  const char *own = net == COVE_SPEC_NS_SLIRP ? slirp_addr (o, 100, own_buf)
                                              : "127.0.1.1";
  char *t = net == COVE_SPEC_NS_HOST ? xasprintf ("%s", text)
                                     : xasprintf ("%s%s\t%s\n", text, own, hostname);
  free (text);
  text = t;
  if (net == COVE_SPEC_NS_SLIRP && o->req.slirp.allow_host_loopback)
    {
      t = xasprintf ("%s%s\thost.containers.internal host.docker.internal\n",
                     text, slirp_addr (o, 2, host_buf));
      free (text);
      text = t;
    }
  return text;
}

/* container:NAME: the network namespace of that running container.  */
static int
join_container (struct cove_run_options *o, struct cove_state_store *st,
                json_t *extra, struct cove_error **err)
{
  struct cove_state_container c;
  if (cove_ctr_load (st, o->net_container, &c, err) < 0)
    return -1;
  enum cove_state_status s = cove_state_effective (&c, NULL);
  int r = 0;
  if (s != COVE_STATE_RUNNING && s != COVE_STATE_PAUSED)
    r = cove_error_set_plain (err, EINVAL, "cannot join the network namespace "
                              "of container %s: it is not running: container "
                              "state improper", o->net_container);
  else
    {
      free (o->net_ns_path);
      o->net_ns_path = xasprintf ("/proc/%d/ns/net", (int) c.pid);
      o->req.ns_path[COVE_SPEC_NS_NET] = o->net_ns_path;
      json_object_set_new (extra, "network_mode",
                           json_sprintf ("container:%s", c.id));
    }
  cove_state_container_free (&c);
  return r;
}

static const char *
mode_name (const struct cove_run_options *o)
{
  switch (o->req.ns[COVE_SPEC_NS_NET])
    {
    case COVE_SPEC_NS_HOST: return "host";
    case COVE_SPEC_NS_SLIRP: return "slirp4netns";
    case COVE_SPEC_NS_PATH: return "ns";
    default: return "none";
    }
}

/* Whether /etc/NAME is to be bound over: where the root filesystem has
   it (a --rootfs directory is the user's: no file is made in it), and
   always for slirp, whose DNS needs them.  */
static bool
wants_file (const struct cove_run_options *o, const char *name)
{
  if (o->req.ns[COVE_SPEC_NS_NET] == COVE_SPEC_NS_SLIRP && o->image)
    return true;
  cleanup_close int root = open (o->req.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return false;
  cleanup_free char *path = xasprintf ("/etc/%s", name);
  cleanup_close int fd = cove_open_in_root (root, path, O_PATH, NULL);
  return fd >= 0;
}

int
cove_run_net_prepare (struct cove_run_options *o, struct cove_state_store *st,
                      const char *dir, json_t *extra, struct cove_error **err)
{
  if (o->net_container && join_container (o, st, extra, err) < 0)
    return -1;
  if (!json_object_get (extra, "network_mode"))
    json_object_set_new (extra, "network_mode", json_string (mode_name (o)));
  cleanup_free char *hostname = o->req.hostname ? xstrdup (o->req.hostname)
                                                : xstrndup (o->req.id, 12);
  char *texts[3] = {
    o->no_hosts ? NULL : hosts_text (o, hostname),
    resolv_text (o),
    xasprintf ("%s\n", hostname),
  };
  static const char *const names[3] = { "hosts", "resolv.conf", "hostname" };
  const char **slots[3] = { &o->req.etc_hosts, &o->req.etc_resolv,
                            &o->req.etc_hostname };
  int r = 0;
  for (size_t i = 0; i < 3; i++)
    {
      if (r == 0 && texts[i] && wants_file (o, names[i]))
        {
          free (o->etc_files[i]);
          o->etc_files[i] = xasprintf ("%s/%s", dir, names[i]);
          r = cove_file_write_atomic (o->etc_files[i], texts[i],
                                      strlen (texts[i]), 0644, 0, err);
          *slots[i] = o->etc_files[i];
        }
      free (texts[i]);
    }
  return r;
}
