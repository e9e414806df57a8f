/* The container's seccomp filter: an OCI `linux.seccomp` object compiled
   with libseccomp and loaded in the container's process, after fork and
   before exec (so: one thread, and nothing kept in globals).

   config.json is written by cove but can be edited by the user, so every
   member is checked again here.  */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "pkg/runtime/seccomp-filter.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#define ARCH_NAME_MAX 32
/* The kernel takes at most BPF_MAXINSNS instructions in one filter.  */
#define BPF_MAX_BYTES (BPF_MAXINSNS * sizeof (struct sock_filter))
/* A cache file: its key, a NUL, the seccomp(2) flags, the program.  */
#define CACHE_MAX_BYTES (BPF_MAX_BYTES + (8u << 20))

struct named_value
{
  const char *name;
  uint32_t value;
};

/* ERRNO and TRACE get their data (errnoRet) ORed in.  */
static const struct named_value actions[] = {
  { "SCMP_ACT_KILL", SCMP_ACT_KILL },
  { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS },
  { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD },
  { "SCMP_ACT_TRAP", SCMP_ACT_TRAP },
  { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO (0) },
  { "SCMP_ACT_TRACE", SCMP_ACT_TRACE (0) },
  { "SCMP_ACT_LOG", SCMP_ACT_LOG },
  { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW },
  { NULL, 0 },
};

static const struct named_value ops[] = {
  { "SCMP_CMP_NE", SCMP_CMP_NE },
  { "SCMP_CMP_LT", SCMP_CMP_LT },
  { "SCMP_CMP_LE", SCMP_CMP_LE },
  { "SCMP_CMP_EQ", SCMP_CMP_EQ },
  { "SCMP_CMP_GE", SCMP_CMP_GE },
  { "SCMP_CMP_GT", SCMP_CMP_GT },
  { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
  { NULL, 0 },
};

static void
filter_release (scmp_filter_ctx *ctx)
{
  if (*ctx)
    seccomp_release (*ctx);
}

static const struct named_value *
lookup (const struct named_value *table, const char *name)
{
  for (; table->name; table++)
    if (strcmp (table->name, name) == 0)
      return table;
  return NULL;
}

/* ACTION (a string) with its ERRNO_RET (an integer or NULL) into *OUT.
   Without errnoRet, ERRNO and TRACE return EPERM, as in runc.  */
static int
parse_action (json_t *action, json_t *errno_ret, const char *where,
              uint32_t *out, struct cove_error **err)
{
  if (!json_is_string (action))
    return cove_error_set (err, EINVAL, "%s: action missing or not a string",
                           where);
  const char *name = json_string_value (action);
  if (strcmp (name, "SCMP_ACT_NOTIFY") == 0)
    return cove_error_set (err, EINVAL, "%s: SCMP_ACT_NOTIFY not supported",
                           where);
  const struct named_value *a = lookup (actions, name);
  if (a == NULL)
    return cove_error_set (err, EINVAL, "%s: unknown action `%.64s`", where,
                           name);
  json_int_t e = EPERM;
  if (errno_ret && !json_is_null (errno_ret))
    {
      if (!json_is_integer (errno_ret))
        return cove_error_set (err, EINVAL, "%s: errnoRet not an integer",
                               where);
      e = json_integer_value (errno_ret);
      if (e < 0 || e > 0xffff)
        return cove_error_set (err, EINVAL, "%s: errnoRet out of range", where);
    }
  *out = a->value;
  if (a->value == SCMP_ACT_ERRNO (0) || a->value == SCMP_ACT_TRACE (0))
    *out |= (uint32_t) e & 0xffffu;
  return 0;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token for "x86_64"; 0 if unknown.  */
static uint32_t
resolve_arch (const char *name)
{
  const char *prefix = "SCMP_ARCH_";
  size_t plen = strlen (prefix);
  if (strncmp (name, prefix, plen) != 0 || strlen (name) - plen > ARCH_NAME_MAX)
    return 0;
  char lower[ARCH_NAME_MAX + 1];
  size_t n = 0;
  for (const char *p = name + plen; *p; p++)
    lower[n++] = (char) tolower ((unsigned char) *p);
  lower[n] = '\0';
  return n ? seccomp_arch_resolve_name (lower) : 0;
}

static int
add_arches (scmp_filter_ctx ctx, json_t *arches, struct cove_error **err)
{
  if (arches == NULL || json_is_null (arches))
    return 0;
  if (!json_is_array (arches))
    return cove_error_set (err, EINVAL, "seccomp architectures: not an array");
  size_t i;
  json_t *v;
  json_array_foreach (arches, i, v)
    {
      uint32_t token = json_is_string (v) ? resolve_arch (json_string_value (v)) : 0;
      if (token == 0)
        return cove_error_set (err, EINVAL, "seccomp architectures[%zu]: unknown",
                               i);
      /* The native architecture is in every new filter already.  */
      int rc = seccomp_arch_add (ctx, token);
      if (rc < 0 && rc != -EEXIST)
        return cove_error_set (err, -rc, "seccomp add architecture `%s`",
                               json_string_value (v));
    }
  return 0;
}

/* NO_NEW_PRIVS, no thread sync, the flags of the profile, and the
   kernel's own error codes from libseccomp instead of its -ECANCELED.
   *OUT_FLAGS gets the flags as seccomp(2) takes them, for a filter loaded
   from its exported BPF.  */
static int
set_attrs (scmp_filter_ctx ctx, bool no_new_privs, json_t *flags,
           unsigned int *out_flags, struct cove_error **err)
{
  *out_flags = 0;
  if (seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, no_new_privs ? 1 : 0) < 0
      || seccomp_attr_set (ctx, SCMP_FLTATR_CTL_TSYNC, 0) < 0
      || seccomp_attr_set (ctx, SCMP_FLTATR_API_SYSRAWRC, 1) < 0
      || seccomp_attr_set (ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
    return cove_error_set (err, EINVAL, "seccomp filter attributes");
  if (flags == NULL || json_is_null (flags))
    return 0;
  if (!json_is_array (flags))
    return cove_error_set (err, EINVAL, "seccomp flags: not an array");
  size_t i;
  json_t *v;
  json_array_foreach (flags, i, v)
    {
      const char *f = json_is_string (v) ? json_string_value (v) : "";
      int rc;
      if (strcmp (f, "SECCOMP_FILTER_FLAG_LOG") == 0)
        {
          rc = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_LOG, 1);
          *out_flags |= SECCOMP_FILTER_FLAG_LOG;
        }
      else if (strcmp (f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
        {
          rc = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_SSB, 1);
          *out_flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        }
      else
        return cove_error_set (err, EINVAL, "seccomp flags[%zu]: unknown", i);
      if (rc < 0)
        return cove_error_set (err, -rc, "seccomp flag `%s`", f);
    }
  return 0;
}

/* args of a rule into CMP (at most 6); *OUT_SPLIT when two compare the
   same argument, which libseccomp refuses in one rule: runc then adds one
   rule per comparison, and so do we.  */
static int
parse_args (json_t *args, const char *where, struct scmp_arg_cmp *cmp,
            unsigned int *out_n, bool *out_split, struct cove_error **err)
{
  *out_n = 0;
  *out_split = false;
  if (args == NULL || json_is_null (args))
    return 0;
  if (!json_is_array (args) || json_array_size (args) > 6)
    return cove_error_set (err, EINVAL, "%s: args not an array of at most 6",
                           where);
  unsigned int seen = 0;
  size_t i;
  json_t *a;
  json_array_foreach (args, i, a)
    {
      json_t *index = json_object_get (a, "index");
      json_t *value = json_object_get (a, "value");
      json_t *value_two = json_object_get (a, "valueTwo");
      json_t *op = json_object_get (a, "op");
      const struct named_value *o = json_is_string (op)
        ? lookup (ops, json_string_value (op)) : NULL;
      if (!json_is_integer (index) || json_integer_value (index) < 0
          || json_integer_value (index) > 5 || !json_is_integer (value)
          || (value_two && !json_is_null (value_two)
              && !json_is_integer (value_two))
          || o == NULL)
        return cove_error_set (err, EINVAL, "%s: args[%zu] malformed", where, i);
      unsigned int idx = (unsigned int) json_integer_value (index);
      if (seen & (1u << idx))
        *out_split = true;
      seen |= 1u << idx;
      /* For MASKED_EQ, value is the mask and valueTwo the datum: the
         order of libseccomp's arguments too.  */
      cmp[i] = (struct scmp_arg_cmp) {
        .arg = idx, .op = (enum scmp_compare) o->value,
        .datum_a = (scmp_datum_t) json_integer_value (value),
        .datum_b = (scmp_datum_t) json_integer_value (value_two),
      };
      (*out_n)++;
    }
  return 0;
}

static int
add_one (scmp_filter_ctx ctx, uint32_t action, const char *name,
         const struct scmp_arg_cmp *cmp, unsigned int n, bool split,
         struct cove_error **err)
{
  int nr = seccomp_syscall_resolve_name (name);
  /* Unknown to this libseccomp (a newer syscall, another architecture's):
     skipped, as runc and crun do.  */
  if (nr == __NR_SCMP_ERROR)
    return 0;
  int rc = 0;
  if (!split)
    rc = seccomp_rule_add_array (ctx, action, nr, n, cmp);
  for (unsigned int i = 0; split && i < n && rc == 0; i++)
    rc = seccomp_rule_add_array (ctx, action, nr, 1, &cmp[i]);
  if (rc < 0)
    return cove_error_set (err, -rc, "seccomp rule for `%s`", name);
  return 0;
}

static int
add_row (scmp_filter_ctx ctx, uint32_t default_action, json_t *row, size_t i,
         struct cove_error **err)
{
  char where[48];
  snprintf (where, sizeof where, "seccomp syscalls[%zu]", i);
  if (!json_is_object (row))
    return cove_error_set (err, EINVAL, "%s: not an object", where);
  uint32_t action;
  if (parse_action (json_object_get (row, "action"),
                    json_object_get (row, "errnoRet"), where, &action, err) < 0)
    return -1;
  struct scmp_arg_cmp cmp[6];
  unsigned int n;
  bool split;
  if (parse_args (json_object_get (row, "args"), where, cmp, &n, &split,
                  err) < 0)
    return -1;
  json_t *names = json_object_get (row, "names");
  if (!json_is_array (names))
    return cove_error_set (err, EINVAL, "%s: names not an array", where);
  size_t j;
  json_t *name;
  json_array_foreach (names, j, name)
    {
      if (!json_is_string (name))
        return cove_error_set (err, EINVAL, "%s: names[%zu] not a string",
                               where, j);
      /* libseccomp refuses a rule that does what the default does; it
         would change nothing anyway.  */
      if (action == default_action)
        continue;
      if (add_one (ctx, action, json_string_value (name), cmp, n, split,
                   err) < 0)
        return -1;
    }
  return 0;
}

/* The libseccomp filter of SECCOMP, not loaded; *OUT_FLAGS as in
   set_attrs.  Caller releases it.  */
static scmp_filter_ctx
build_filter (json_t *seccomp, bool no_new_privs, unsigned int *out_flags,
              struct cove_error **err)
{
  if (!json_is_object (seccomp))
    {
      cove_error_set (err, EINVAL, "seccomp: not an object");
      return NULL;
    }
  uint32_t default_action;
  if (parse_action (json_object_get (seccomp, "defaultAction"),
                    json_object_get (seccomp, "defaultErrnoRet"),
                    "seccomp default", &default_action, err) < 0)
    return NULL;
  __attribute__ ((cleanup (filter_release))) scmp_filter_ctx ctx
    = seccomp_init (default_action);
  if (ctx == NULL)
    {
      cove_error_set (err, ENOMEM, "seccomp init");
      return NULL;
    }
  if (set_attrs (ctx, no_new_privs, json_object_get (seccomp, "flags"),
                 out_flags, err) < 0
      || add_arches (ctx, json_object_get (seccomp, "architectures"), err) < 0)
    return NULL;

  json_t *rows = json_object_get (seccomp, "syscalls");
  if (rows && !json_is_null (rows) && !json_is_array (rows))
    {
      cove_error_set (err, EINVAL, "seccomp syscalls: not an array");
      return NULL;
    }
  size_t i;
  json_t *row;
  json_array_foreach (rows, i, row)
    if (add_row (ctx, default_action, row, i, err) < 0)
      return NULL;
  return steal_pointer (&ctx);
}

int
cove_runtime_seccomp_load (json_t *seccomp, bool no_new_privs,
                           struct cove_error **err)
{
  unsigned int flags;
  __attribute__ ((cleanup (filter_release))) scmp_filter_ctx ctx
    = build_filter (seccomp, no_new_privs, &flags, err);
  if (ctx == NULL)
    return -1;
  int rc = seccomp_load (ctx);
  if (rc < 0)
    return cove_error_set (err, -rc, "load seccomp filter");
  return 0;
}

/* The BPF program of CTX: libseccomp 2.5 exports it to an fd only.  */
static int
export_bpf (scmp_filter_ctx ctx, struct cove_runtime_seccomp *out,
            struct cove_error **err)
{
  cleanup_close int fd = memfd_create ("cove-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return cove_error_set (err, errno, "memfd_create");
  int rc = seccomp_export_bpf (ctx, fd);
  if (rc < 0)
    return cove_error_set (err, -rc, "export seccomp filter");
  if (lseek (fd, 0, SEEK_SET) < 0)
    return cove_error_set (err, errno, "lseek seccomp filter");
  out->bpf = cove_fd_read_all (fd, BPF_MAX_BYTES, &out->len, err);
  if (out->bpf == NULL)
    return cove_error_wrap (err, "seccomp filter");
  return 0;
}

/* Everything the exported program depends on: the profile, this
   libseccomp and what it found of the kernel, the machine.  A cached
   program is used only when its stored key is this one, byte for byte,
   so that a hash collision can only cost a compile.  */
static char *
cache_key (json_t *seccomp)
{
  const struct scmp_version *v = seccomp_version ();
  struct utsname u;
  if (uname (&u) < 0)
    memset (&u, 0, sizeof u);
  cleanup_free char *doc = json_dumps (seccomp, JSON_COMPACT | JSON_SORT_KEYS);
  return xasprintf ("cove-seccomp 1\nlibseccomp %u.%u.%u api %u\n"
                    "kernel %s %s\n%s\n", v->major, v->minor, v->micro,
                    seccomp_api_get (), u.release, u.machine,
                    doc ? doc : "");
}

static uint64_t
fnv1a (const char *s)
{
  uint64_t h = 0xcbf29ce484222325ULL;
  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 0x100000001b3ULL;
  return h;
}

/* 0 and *OUT filled on a hit; -1 on a miss or a file that is not ours.  */
static int
cache_read (const char *path, const char *key, struct cove_runtime_seccomp *out)
{
  size_t len, klen = strlen (key) + 1;
  uint32_t flags;
  cleanup_free char *buf = cove_file_read_at (AT_FDCWD, path, CACHE_MAX_BYTES,
                                              &len, NULL);
  if (buf == NULL || len < klen + sizeof flags || memcmp (buf, key, klen) != 0)
    return -1;
  size_t plen = len - klen - sizeof flags;
  if (plen == 0 || plen % sizeof (struct sock_filter) || plen > BPF_MAX_BYTES)
    return -1;
  memcpy (&flags, buf + klen, sizeof flags);
  out->flags = flags;
  out->len = plen;
  out->bpf = xmalloc (plen);
  memcpy (out->bpf, buf + klen + sizeof flags, plen);
  return 0;
}

/* Best effort: a cache that cannot be written costs the next container
   a compile, nothing more.  */
static void
cache_write (const char *dir, const char *path, const char *key,
             const struct cove_runtime_seccomp *filter)
{
  cleanup_error struct cove_error *ignored = NULL;
  size_t klen = strlen (key) + 1;
  uint32_t flags = filter->flags;
  size_t len = klen + sizeof flags + filter->len;
  cleanup_free char *buf = xmalloc (len);
  memcpy (buf, key, klen);
  memcpy (buf + klen, &flags, sizeof flags);
  memcpy (buf + klen + sizeof flags, filter->bpf, filter->len);
  if (cove_mkdir_p (dir, 0700, &ignored) == 0)
    cove_file_write_atomic (path, buf, len, 0600, 0, &ignored);
}

int
cove_runtime_seccomp_compile (json_t *seccomp, const char *cache_dir,
                              struct cove_runtime_seccomp *out,
                              struct cove_error **err)
{
  *out = (struct cove_runtime_seccomp) { 0 };
  cleanup_free char *key = cache_dir ? cache_key (seccomp) : NULL;
  cleanup_free char *path = key ? xasprintf ("%s/%016" PRIx64 ".bpf",
                                             cache_dir, fnv1a (key)) : NULL;
  if (path && cache_read (path, key, out) == 0)
    return 0;

  __attribute__ ((cleanup (filter_release))) scmp_filter_ctx ctx
    = build_filter (seccomp, false, &out->flags, err);
  if (ctx == NULL || export_bpf (ctx, out, err) < 0)
    {
      cove_runtime_seccomp_free (out);
      return -1;
    }
  if (path)
    cache_write (cache_dir, path, key, out);
  return 0;
}

int
cove_runtime_seccomp_apply (const struct cove_runtime_seccomp *filter,
                            bool no_new_privs, struct cove_error **err)
{
  size_t n = filter->len / sizeof (struct sock_filter);
  if (filter->bpf == NULL || n == 0 || n > BPF_MAXINSNS
      || filter->len % sizeof (struct sock_filter))
    return cove_error_set (err, EINVAL, "seccomp filter: bad program");
  struct sock_fprog prog = { .len = (unsigned short) n, .filter = filter->bpf };
  if (no_new_privs && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return cove_error_set (err, errno, "prctl PR_SET_NO_NEW_PRIVS");
  /* Without TSYNC: the process has one thread.  */
  if (syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, filter->flags, &prog) < 0)
    return cove_error_set (err, errno, "load seccomp filter");
  return 0;
}

void
cove_runtime_seccomp_free (struct cove_runtime_seccomp *filter)
{
  free (filter->bpf);
  *filter = (struct cove_runtime_seccomp) { 0 };
}
