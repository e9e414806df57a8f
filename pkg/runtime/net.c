/* The container's network in the runtime: the annotations of a slirp
   network (net/net.h) and, in the child, lo and the tap device.  */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "net/net.h"
#include "pkg/runtime/internal.h"
#include "pkg/util/files.h"

int
runtime_config_parse_network (json_t *root, struct runtime_config *cfg,
                              struct cove_error **err)
{
  cove_net_slirp_options_init (&cfg->net);
  json_t *a = json_object_get (root, "annotations");
  if (a == NULL)
    return 0;
  if (!json_is_object (a))
    return cove_error_set (err, EINVAL, "config.json: `annotations` is not an object");
  const char *net = json_string_value (json_object_get (a, COVE_NET_ANNOTATION));
  if (net == NULL || strcmp (net, "slirp") != 0)
    return 0;
  cfg->tap = true;
  size_t plen = strlen (COVE_NET_ANNOTATION_SLIRP_PREFIX);
  const char *key;
  json_t *v;
  json_object_foreach (a, key, v)
    {
      if (strncmp (key, COVE_NET_ANNOTATION_SLIRP_PREFIX, plen) != 0)
        continue;
      if (!json_is_string (v))
        return cove_error_set (err, EINVAL, "config.json: annotation `%s` "
                               "is not a string", key);
      if (cove_net_slirp_option_set (&cfg->net, key + plen,
                                     json_string_value (v), err) < 0)
        return cove_error_wrap (err, "config.json");
    }
  return 0;
}

int
runtime_net_setup (const struct runtime_config *cfg, int sync,
                   struct cove_error **err)
{
  if (!(runtime_config_clone_flags (cfg) & CLONE_NEWNET))
    return 0;
  /* A fresh network namespace has lo down.  */
  if (cove_net_loopback_up (err) < 0)
    return -1;
  if (!cfg->tap)
    return 0;
  int fd = cove_net_tap_create (&cfg->net, err);
  if (fd < 0)
    return -1;
  /* The first fd on the sync socket (before any pty master): see
     runtime_start.  */
  int r = cove_send_fd (sync, fd, err);
  close (fd);
  return r;
}
