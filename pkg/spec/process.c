/* The process part of the spec: capabilities and rlimits.  */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "pkg/spec/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

const char *const cove_spec_default_caps[] = {
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
  "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
  "CAP_SETUID", "CAP_SYS_CHROOT", NULL,
};

/* Every capability the kernel headers of this build know, in number order.  */
static const char *const all_caps[] = {
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
  "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
  "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
  "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE", NULL,
};

#define N_CAPS (sizeof all_caps / sizeof all_caps[0] - 1)

/* Index of NAME ("sys_admin", "CAP_SYS_ADMIN", any case) or -1.  */
static int
cap_index (const char *name)
{
  const char *bare = strncasecmp (name, "CAP_", 4) == 0 ? name + 4 : name;
  for (size_t i = 0; i < N_CAPS; i++)
    if (strcasecmp (all_caps[i] + 4, bare) == 0)
      return (int) i;
  return -1;
}

static int
apply_caps (bool set[N_CAPS], char **list, bool value, struct cove_error **err)
{
  for (size_t i = 0; list && list[i]; i++)
    {
      if (strcasecmp (list[i], "ALL") == 0)
        {
          for (size_t c = 0; c < N_CAPS; c++)
            set[c] = value;
          continue;
        }
      int c = cap_index (list[i]);
      if (c < 0)
        return cove_error_set (err, EINVAL, "unknown capability `%s`", list[i]);
      set[c] = value;
    }
  return 0;
}

json_t *
spec_capabilities (char **add, char **drop, struct cove_error **err)
{
  bool set[N_CAPS] = { false };
  for (size_t i = 0; cove_spec_default_caps[i]; i++)
    set[cap_index (cove_spec_default_caps[i])] = true;
  /* As in podman, drops apply first so that `--cap-drop ALL --cap-add X`
     leaves X.  */
  if (apply_caps (set, drop, false, err) < 0 || apply_caps (set, add, true, err) < 0)
    return NULL;
  json_t *a = json_array ();
  for (size_t c = 0; c < N_CAPS; c++)
    if (set[c])
      json_array_append_new (a, json_string (all_caps[c]));
  return a;
}

static const struct
{
  const char *name;
  const char *type;
} rlimit_names[] = {
  { "core", "RLIMIT_CORE" }, { "cpu", "RLIMIT_CPU" }, { "data", "RLIMIT_DATA" },
  { "fsize", "RLIMIT_FSIZE" }, { "locks", "RLIMIT_LOCKS" },
  { "memlock", "RLIMIT_MEMLOCK" }, { "msgqueue", "RLIMIT_MSGQUEUE" },
  { "nice", "RLIMIT_NICE" }, { "nofile", "RLIMIT_NOFILE" },
  { "nproc", "RLIMIT_NPROC" }, { "rss", "RLIMIT_RSS" },
  { "rtprio", "RLIMIT_RTPRIO" }, { "rttime", "RLIMIT_RTTIME" },
  { "sigpending", "RLIMIT_SIGPENDING" }, { "stack", "RLIMIT_STACK" },
};

static int
parse_limit (const char *s, json_int_t *out)
{
  if (strcmp (s, "unlimited") == 0 || strcmp (s, "-1") == 0)
    {
      *out = -1;  /* RLIM_INFINITY, as the OCI runtimes read it */
      return 0;
    }
  if (!isdigit ((unsigned char) s[0]))
    return -1;
  errno = 0;
  char *end;
  unsigned long long v = strtoull (s, &end, 10);
  if (errno || *end != '\0' || v > (unsigned long long) INT64_MAX)
    return -1;
  *out = (json_int_t) v;
  return 0;
}

json_t *
spec_rlimit_parse (const char *s, struct cove_error **err)
{
  cleanup_free char *copy = xstrdup (s);
  char *eq = strchr (copy, '=');
  if (eq == NULL)
    goto bad;
  *eq = '\0';
  char *hard = strchr (eq + 1, ':');
  if (hard)
    *hard++ = '\0';
  json_int_t soft_v, hard_v;
  if (parse_limit (eq + 1, &soft_v) < 0 || parse_limit (hard ? hard : eq + 1, &hard_v) < 0)
    goto bad;
  if (hard_v != -1 && (soft_v == -1 || soft_v > hard_v))
    {
      cove_error_set (err, EINVAL, "invalid --ulimit `%s`: soft limit above "
                      "hard limit", s);
      return NULL;
    }
  for (size_t i = 0; i < sizeof rlimit_names / sizeof rlimit_names[0]; i++)
    if (strcmp (copy, rlimit_names[i].name) == 0)
      return json_pack ("{s:s, s:I, s:I}", "type", rlimit_names[i].type,
                        "soft", soft_v, "hard", hard_v);
  cove_error_set (err, EINVAL, "invalid --ulimit `%s`: unknown limit `%s`", s, copy);
  return NULL;
bad:
  cove_error_set (err, EINVAL, "invalid --ulimit `%s`: must be NAME=SOFT[:HARD]", s);
  return NULL;
}
