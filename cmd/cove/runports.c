/* -p and -P: published ports as the record keeps them.  */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/runports.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

#define MAX_RANGE 1024

struct range
{
  long lo, hi;  /* hi == lo for one port; lo == -1: absent */
};

/* "N" or "N-M", each 0..65535 (MIN 1 for container ports).  */
static int
parse_range (const char *s, size_t len, long min, struct range *out)
{
  char buf[32];
  if (len == 0 || len >= sizeof buf)
    return -1;
  memcpy (buf, s, len);
  buf[len] = '\0';
  char *end;
  errno = 0;
  out->lo = strtol (buf, &end, 10);
  out->hi = out->lo;
  if (end != buf && *end == '-')
    {
      char *p = end + 1;
      out->hi = strtol (p, &end, 10);
      if (end == p)
        return -1;
    }
  if (end == buf || *end != '\0' || errno != 0 || buf[0] == '-' || buf[0] == '+'
      || out->lo < min || out->hi > 65535 || out->hi < out->lo)
    return -1;
  return 0;
}

static json_t *
port_object (const char *ip, long host, long ctr, const char *proto)
{
  return json_pack ("{s:s, s:I, s:I, s:s}", "host_ip", ip,
                    "host_port", (json_int_t) host,
                    "container_port", (json_int_t) ctr, "protocol", proto);
}

/* Split SPEC (untrusted: the user's) into IP, host range, container
   range; the IP may be bracketed ("[::1]:8080:80").  */
static int
split_spec (const char *spec, char **ip, const char **hs, size_t *hl,
            const char **cs, size_t *cl)
{
  const char *rest = spec;
  if (spec[0] == '[')
    {
      const char *close = strchr (spec, ']');
      if (close == NULL || close[1] != ':')
        return -1;
      *ip = xstrndup (spec + 1, (size_t) (close - spec - 1));
      rest = close + 2;
    }
  const char *last = strrchr (rest, ':');
  if (last == NULL)
    {
      *cs = rest;
      *cl = strlen (rest);
      return 0;
    }
  *cs = last + 1;
  *cl = strlen (last + 1);
  const char *first = memchr (rest, ':', (size_t) (last - rest));
  if (first && *ip == NULL)
    {
      *ip = xstrndup (rest, (size_t) (first - rest));
      *hs = first + 1;
    }
  else if (first)
    return -1;
  else
    *hs = rest;
  *hl = (size_t) (last - *hs);
  return 0;
}

static int
check_ip (const char *ip)
{
  unsigned char buf[16];
  if (ip[0] == '\0')
    return 0;
  return inet_pton (AF_INET, ip, buf) == 1 || inet_pton (AF_INET6, ip, buf) == 1
         ? 0 : -1;
}

static int
bad_spec (const char *spec, const char *why, struct cove_error **err)
{
  return cove_error_set_plain (err, EINVAL, "invalid port format %s: %s",
                               spec, why);
}

/* The protocols after the slash: "tcp", "udp" or both as podman takes
   them ("tcp,udp"); none means tcp.  */
static int
parse_protocols (const char *spec, const char *list, bool *out_tcp,
                 bool *out_udp, struct cove_error **err)
{
  *out_tcp = list == NULL;
  *out_udp = false;
  cleanup_free char *copy = list ? xstrdup (list) : NULL;
  for (char *p = copy, *next; p; p = next)
    {
      next = strchr (p, ',');
      if (next)
        *next++ = '\0';
      if (strcmp (p, "tcp") == 0)
        *out_tcp = true;
      else if (strcmp (p, "udp") == 0)
        *out_udp = true;
      else if (strcmp (p, "sctp") == 0)
        return cove_error_set_plain (err, ENOTSUP, "publishing sctp ports is "
                                     "not supported: %s", spec);
      else
        return bad_spec (spec, "unknown protocol", err);
    }
  return 0;
}

static int
parse_publish (const char *spec, json_t *ports, struct cove_error **err)
{
  cleanup_free char *copy = xstrdup (spec);
  char *slash = strchr (copy, '/');
  if (slash)
    *slash = '\0';
  bool tcp, udp;
  if (parse_protocols (spec, slash ? slash + 1 : NULL, &tcp, &udp, err) < 0)
    return -1;
  cleanup_free char *ip = NULL;
  const char *hs = NULL, *cs = NULL;
  size_t hl = 0, cl = 0;
  if (split_spec (copy, &ip, &hs, &hl, &cs, &cl) < 0)
    return bad_spec (spec, "expected [hostIP:][hostPort:]containerPort", err);
  if (ip && check_ip (ip) < 0)
    return bad_spec (spec, "bad host IP address", err);
  struct range c, h = { 0, 0 };
  if (parse_range (cs, cl, 1, &c) < 0)
    return bad_spec (spec, "bad container port", err);
  if (hs && hl > 0 && parse_range (hs, hl, 0, &h) < 0)
    return bad_spec (spec, "bad host port", err);
  long n = c.hi - c.lo + 1;
  if (h.hi != h.lo && h.hi - h.lo + 1 != n)
    return bad_spec (spec, "the host and container ranges differ in size", err);
  if (n > MAX_RANGE)
    return bad_spec (spec, "range too large", err);
  for (int k = 0; k < 2; k++)
    {
      if (!(k == 0 ? tcp : udp))
        continue;
      for (long i = 0; i < n; i++)
        json_array_append_new (ports, port_object (ip ? ip : "",
                                                   h.lo == 0 ? 0 : h.lo + i,
                                                   c.lo + i, k ? "udp" : "tcp"));
    }
  return 0;
}

static bool
published (json_t *ports, long port, const char *proto)
{
  size_t i;
  json_t *p;
  json_array_foreach (ports, i, p)
    if (json_integer_value (json_object_get (p, "container_port")) == port
        && strcmp (json_string_value (json_object_get (p, "protocol")), proto) == 0)
      return true;
  return false;
}

/* -P: every tcp and udp port the image EXPOSEs (untrusted: the image's
   keys) that -p did not publish, to a free host port.  Others (sctp) are
   left out.  */
static void
publish_exposed (struct cove_run_options *o, json_t *ports)
{
  json_t *exposed = json_object_get (json_object_get (o->image_config, "config"),
                                     "ExposedPorts");
  const char *key;
  json_t *v;
  json_object_foreach (exposed, key, v)
    {
      char *end;
      long port = strtol (key, &end, 10);
      const char *proto = *end == '\0' || strcmp (end, "/tcp") == 0 ? "tcp"
                          : strcmp (end, "/udp") == 0 ? "udp" : NULL;
      if (end == key || port < 1 || port > 65535 || proto == NULL
          || key[0] == '-' || key[0] == '+')
        continue;
      if (!published (ports, port, proto))
        json_array_append_new (ports, port_object ("", 0, port, proto));
    }
}

int
cove_run_ports_prepare (struct cove_run_options *o, json_t *extra,
                        struct cove_error **err)
{
  json_t *ports = json_array ();
  for (char **p = o->publish; p && *p; p++)
    if (parse_publish (*p, ports, err) < 0)
      {
        json_decref (ports);
        return -1;
      }
  if (o->publish_all)
    publish_exposed (o, ports);
  /* --network host: the container's ports are the host's already.  */
  if (json_array_size (ports) > 0 && o->req.ns[COVE_SPEC_NS_NET] == COVE_SPEC_NS_HOST)
    {
      fputs ("WARN[0000] Port mappings have been discarded as the host "
             "network mode is in use\n", stderr);
      json_array_clear (ports);
    }
  if (json_array_size (ports) > 0)
    json_object_set_new (extra, "ports", ports);
  else
    json_decref (ports);
  return 0;
}
