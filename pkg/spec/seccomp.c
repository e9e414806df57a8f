/* A user's seccomp profile (docker's JSON format) becomes the OCI
   `linux.seccomp` object of one container.

   The file is untrusted input (`--security-opt seccomp=FILE`): its size is
   bounded, every member's type is checked before use, and anything the
   runtime could not compile (an unknown action, operator or architecture)
   is refused here with EINVAL and the place it was found, rather than at
   container start.  Syscall names are not checked against the host: like
   runc and crun, the runtime skips names its libseccomp does not know.  */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "pkg/spec/internal.h"
#include "pkg/spec/spec.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#define PROFILE_MAX_BYTES (8u << 20)
#define NAME_MAX_LEN 64
#define ERRNO_MAX 4095   /* the kernel clamps larger values to it */


/* SCMP_ACT_NOTIFY is left out: cove runs no seccomp agent.  */
static const char *const known_actions[] = {
  "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",
  "SCMP_ACT_LOG", NULL,
};

static const char *const known_ops[] = {
  "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
  "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL,
};

static const char *const known_flags[] = {
  "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", NULL,
};

static bool
strv_has (const char *const *v, const char *s)
{
  for (; v && *v; v++)
    if (strcmp (*v, s) == 0)
      return true;
  return false;
}

/* "WHERE.KEY", or KEY at the top level; caller frees.  */
static char *
label (const char *where, const char *key)
{
  return *where ? xasprintf ("%s.%s", where, key) : xstrdup (key);
}

/* Member KEY of OBJ into *OUT: NULL when absent or null, -1 (EINVAL) when
   of another type than TYPE.  */
static int
member (json_t *obj, const char *key, json_type type, const char *where,
        json_t **out, struct cove_error **err)
{
  json_t *v = json_object_get (obj, key);
  *out = NULL;
  if (v == NULL || json_is_null (v))
    return 0;
  if (json_typeof (v) != type)
    {
      cleanup_free char *l = label (where, key);
      return cove_error_set (err, EINVAL, "%s: wrong type", l);
    }
  *out = v;
  return 0;
}

/* An array whose every element is a string of at most NAME_MAX_LEN.  */
static int
check_strv (json_t *a, const char *where, struct cove_error **err)
{
  size_t i;
  json_t *s;
  json_array_foreach (a, i, s)
    {
      if (!json_is_string (s))
        return cove_error_set (err, EINVAL, "%s[%zu]: not a string", where, i);
      if (json_string_length (s) == 0 || json_string_length (s) > NAME_MAX_LEN)
        return cove_error_set (err, EINVAL, "%s[%zu]: bad length", where, i);
    }
  return 0;
}

static bool
json_strv_has (json_t *a, const char *s)
{
  size_t i;
  json_t *v;
  json_array_foreach (a, i, v)
    if (strcmp (json_string_value (v), s) == 0)
      return true;
  return false;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token for "x86_64"; 0 if unknown.  */
static uint32_t
resolve_arch (const char *name)
{
  const char *prefix = "SCMP_ARCH_";
  if (strncmp (name, prefix, strlen (prefix)) != 0)
    return 0;
  char lower[NAME_MAX_LEN + 1];
  size_t n = 0;
  for (const char *p = name + strlen (prefix); *p && n < NAME_MAX_LEN; p++)
    lower[n++] = (char) tolower ((unsigned char) *p);
  lower[n] = '\0';
  return n ? seccomp_arch_resolve_name (lower) : 0;
}

static int
check_action (json_t *v, const char *where, struct cove_error **err)
{
  if (!json_is_string (v))
    return cove_error_set (err, EINVAL, "%s: missing or not a string", where);
  const char *a = json_string_value (v);
  if (strcmp (a, "SCMP_ACT_NOTIFY") == 0)
    return cove_error_set (err, EINVAL, "%s: SCMP_ACT_NOTIFY is not supported",
                           where);
  if (!strv_has (known_actions, a))
    return cove_error_set (err, EINVAL, "%s: unknown action `%.64s`", where, a);
  return 0;
}

/* errnoRet (or defaultErrnoRet) KEY of OBJ, copied to OUT when present;
   only the ERRNO and TRACE actions carry one.  */
static int
copy_errno (json_t *obj, const char *key, const char *action,
            const char *where, json_t *out, struct cove_error **err)
{
  json_t *v;
  if (member (obj, key, JSON_INTEGER, where, &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  cleanup_free char *l = label (where, key);
  json_int_t e = json_integer_value (v);
  if (e < 0 || e > ERRNO_MAX)
    return cove_error_set (err, EINVAL, "%s: %lld out of range", l,
                           (long long) e);
  if (strcmp (action, "SCMP_ACT_ERRNO") != 0
      && strcmp (action, "SCMP_ACT_TRACE") != 0)
    return cove_error_set (err, EINVAL, "%s: not valid with %s", l, action);
  json_object_set_new (out, key, json_integer (e));
  return 0;
}

/* "X.Y[.Z]" into *MAJOR, *MINOR; -1 when it is not.  */
static int
parse_version (const char *s, bool strict, long *major, long *minor)
{
  char *end;
  if (!isdigit ((unsigned char) *s))
    return -1;
  *major = strtol (s, &end, 10);
  if (*end != '.' || !isdigit ((unsigned char) end[1]))
    return -1;
  *minor = strtol (end + 1, &end, 10);
  if (strict && *end == '.')
    {
      if (!isdigit ((unsigned char) end[1]))
        return -1;
      strtol (end + 1, &end, 10);
    }
  return (strict && *end) ? -1 : 0;
}

/* includes.minKernel: the host kernel must be at least this version.  */
static int
kernel_at_least (json_t *v, const char *where, struct cove_error **err)
{
  long want_major, want_minor, major, minor;
  struct utsname u;
  if (parse_version (json_string_value (v), true, &want_major, &want_minor) < 0)
    return cove_error_set (err, EINVAL, "%s.minKernel: not a version", where);
  if (uname (&u) < 0 || parse_version (u.release, false, &major, &minor) < 0)
    return 1;   /* an unknown kernel: assume a recent one, as cove needs */
  return major > want_major || (major == want_major && minor >= want_minor);
}

/* json_decrefp is jansson's own (2.11 and later).  */
#define cleanup_json __attribute__ ((cleanup (json_decrefp)))

/* An optional array of strings KEY of OBJ into *OUT.  */
static int
member_strv (json_t *obj, const char *key, const char *where, json_t **out,
             struct cove_error **err)
{
  if (member (obj, key, JSON_ARRAY, where, out, err) < 0)
    return -1;
  cleanup_free char *l = label (where, key);
  return *out ? check_strv (*out, l, err) : 0;
}

/* includes: 1 when the row applies, 0 when not, -1 on a malformed one.  */
static int
includes_apply (json_t *inc, const char *const *caps, const char *where,
                struct cove_error **err)
{
  json_t *c, *a, *k;
  if (member_strv (inc, "caps", where, &c, err) < 0
      || member_strv (inc, "arches", where, &a, err) < 0
      || member (inc, "minKernel", JSON_STRING, where, &k, err) < 0)
    return -1;
  int applies = 1;
  size_t i;
  json_t *v;
  json_array_foreach (c, i, v)
    if (!strv_has (caps, json_string_value (v)))
      applies = 0;
  if (json_array_size (a) > 0 && !json_strv_has (a, HOST_GOARCH))
    applies = 0;
  if (k)
    {
      int r = kernel_at_least (k, where, err);
      if (r < 0)
        return -1;
      if (r == 0)
        applies = 0;
    }
  return applies;
}

static int
excludes_apply (json_t *exc, const char *const *caps, const char *where,
                struct cove_error **err)
{
  json_t *c, *a;
  if (member_strv (exc, "caps", where, &c, err) < 0
      || member_strv (exc, "arches", where, &a, err) < 0)
    return -1;
  size_t i;
  json_t *v;
  json_array_foreach (c, i, v)
    if (strv_has (caps, json_string_value (v)))
      return 0;
  return (a && json_strv_has (a, HOST_GOARCH)) ? 0 : 1;
}

/* Docker's rule: a row applies when the container has all of its
   includes.caps and none of its excludes.caps, and the host is of one of
   includes.arches (when given), of none of excludes.arches, and runs at
   least includes.minKernel.  */
static int
row_applies (json_t *row, const char *const *caps, const char *where,
             struct cove_error **err)
{
  json_t *inc, *exc;
  if (member (row, "includes", JSON_OBJECT, where, &inc, err) < 0
      || member (row, "excludes", JSON_OBJECT, where, &exc, err) < 0)
    return -1;
  cleanup_free char *wi = label (where, "includes");
  cleanup_free char *we = label (where, "excludes");
  int a = inc ? includes_apply (inc, caps, wi, err) : 1;
  if (a < 0)
    return -1;
  int b = exc ? excludes_apply (exc, caps, we, err) : 1;
  if (b < 0)
    return -1;
  return a && b;
}

/* A non-negative integer KEY of ARG (absent: 0).  jansson cannot read
   integers above INT64_MAX; no profile of docker or podman needs one.  */
static int
arg_value (json_t *arg, const char *key, const char *where,
           json_int_t *out, struct cove_error **err)
{
  json_t *v;
  if (member (arg, key, JSON_INTEGER, where, &v, err) < 0)
    return -1;
  *out = v ? json_integer_value (v) : 0;
  if (*out < 0)
    {
      cleanup_free char *l = label (where, key);
      return cove_error_set (err, EINVAL, "%s: negative", l);
    }
  return 0;
}

static json_t *
convert_arg (json_t *arg, const char *where, struct cove_error **err)
{
  json_t *index, *op;
  json_int_t value, value_two;
  if (!json_is_object (arg))
    {
      cove_error_set (err, EINVAL, "%s: not an object", where);
      return NULL;
    }
  if (member (arg, "index", JSON_INTEGER, where, &index, err) < 0
      || member (arg, "op", JSON_STRING, where, &op, err) < 0
      || arg_value (arg, "value", where, &value, err) < 0
      || arg_value (arg, "valueTwo", where, &value_two, err) < 0)
    return NULL;
  if (index == NULL || json_integer_value (index) < 0
      || json_integer_value (index) > 5)
    {
      cove_error_set (err, EINVAL, "%s.index: missing or not 0 to 5", where);
      return NULL;
    }
  if (op == NULL || !strv_has (known_ops, json_string_value (op)))
    {
      cove_error_set (err, EINVAL, "%s.op: missing or unknown `%.64s`", where,
                      op ? json_string_value (op) : "");
      return NULL;
    }
  return json_pack ("{sIsIsIsO}", "index", json_integer_value (index),
                    "value", value, "valueTwo", value_two, "op", op);
}

/* args of ROW, checked, into OUT (left out when empty).  */
static int
convert_args (json_t *row, const char *where, json_t *out,
              struct cove_error **err)
{
  json_t *args;
  if (member (row, "args", JSON_ARRAY, where, &args, err) < 0)
    return -1;
  if (json_array_size (args) == 0)
    return 0;
  if (json_array_size (args) > 6)
    return cove_error_set (err, EINVAL, "%s.args: more than 6", where);
  json_t *list = json_array ();
  json_object_set_new (out, "args", list);
  size_t i;
  json_t *arg;
  json_array_foreach (args, i, arg)
    {
      cleanup_free char *w = xasprintf ("%s.args[%zu]", where, i);
      json_t *a = convert_arg (arg, w, err);
      if (a == NULL)
        return -1;
      json_array_append_new (list, a);
    }
  return 0;
}

/* names (or the older single name) of ROW, checked, into OUT.  */
static int
convert_names (json_t *row, const char *where, json_t *out,
               struct cove_error **err)
{
  json_t *name, *names;
  if (member (row, "name", JSON_STRING, where, &name, err) < 0
      || member_strv (row, "names", where, &names, err) < 0)
    return -1;
  if (name && names)
    return cove_error_set (err, EINVAL, "%s: both name and names", where);
  if (name)
    {
      if (json_string_length (name) == 0
          || json_string_length (name) > NAME_MAX_LEN)
        return cove_error_set (err, EINVAL, "%s.name: bad length", where);
      json_object_set_new (out, "names", json_pack ("[O]", name));
      return 0;
    }
  if (json_array_size (names) == 0)
    return cove_error_set (err, EINVAL, "%s.names: missing or empty", where);
  json_object_set_new (out, "names", json_deep_copy (names));
  return 0;
}

/* Row I of syscalls: appended to OUT when it applies to CAPS.  */
static int
convert_row (json_t *row, size_t i, const char *const *caps, json_t *out,
             struct cove_error **err)
{
  cleanup_free char *where = xasprintf ("syscalls[%zu]", i);
  if (!json_is_object (row))
    return cove_error_set (err, EINVAL, "%s: not an object", where);
  cleanup_json json_t *r = json_object ();
  if (convert_names (row, where, r, err) < 0)
    return -1;
  json_t *action = json_object_get (row, "action");
  cleanup_free char *wa = label (where, "action");
  if (check_action (action, wa, err) < 0)
    return -1;
  json_object_set (r, "action", action);
  if (copy_errno (row, "errnoRet", json_string_value (action), where, r,
                  err) < 0
      || convert_args (row, where, r, err) < 0)
    return -1;
  int applies = row_applies (row, caps, where, err);
  if (applies < 0)
    return -1;
  if (applies)
    json_array_append (out, r);
  return 0;
}

/* One entry of docker's archMap: when it is the native architecture, it
   and its sub-architectures go to LIST.  */
static int
arch_map_entry (json_t *v, size_t i, json_t *list, struct cove_error **err)
{
  cleanup_free char *w = xasprintf ("archMap[%zu]", i);
  json_t *arch, *subs;
  if (!json_is_object (v))
    return cove_error_set (err, EINVAL, "%s: not an object", w);
  if (member (v, "architecture", JSON_STRING, w, &arch, err) < 0
      || member_strv (v, "subArchitectures", w, &subs, err) < 0)
    return -1;
  uint32_t token = arch ? resolve_arch (json_string_value (arch)) : 0;
  if (token == 0)
    return cove_error_set (err, EINVAL, "%s.architecture: missing or unknown",
                           w);
  size_t j;
  json_t *s;
  json_array_foreach (subs, j, s)
    if (resolve_arch (json_string_value (s)) == 0)
      return cove_error_set (err, EINVAL,
                             "%s.subArchitectures[%zu]: unknown `%s`", w, j,
                             json_string_value (s));
  if (token != seccomp_arch_native ())
    return 0;
  json_array_append (list, arch);
  if (subs)
    json_array_extend (list, subs);
  return 0;
}

/* architectures, or docker's archMap.  Left out when empty: the runtime
   then filters the native architecture alone.  */
static int
convert_arches (json_t *in, json_t *out, struct cove_error **err)
{
  json_t *arches, *map;
  if (member_strv (in, "architectures", "", &arches, err) < 0
      || member (in, "archMap", JSON_ARRAY, "", &map, err) < 0)
    return -1;
  if (json_array_size (arches) > 0 && json_array_size (map) > 0)
    return cove_error_set (err, EINVAL, "both architectures and archMap");
  cleanup_json json_t *list = json_array ();
  size_t i;
  json_t *v;
  json_array_foreach (arches, i, v)
    {
      if (resolve_arch (json_string_value (v)) == 0)
        return cove_error_set (err, EINVAL, "architectures[%zu]: unknown `%s`",
                               i, json_string_value (v));
      json_array_append (list, v);
    }
  json_array_foreach (map, i, v)
    if (arch_map_entry (v, i, list, err) < 0)
      return -1;
  if (json_array_size (list) > 0)
    json_object_set (out, "architectures", list);
  return 0;
}

static int
convert_flags (json_t *in, json_t *out, struct cove_error **err)
{
  json_t *flags;
  if (member_strv (in, "flags", "", &flags, err) < 0)
    return -1;
  size_t i;
  json_t *v;
  json_array_foreach (flags, i, v)
    if (!strv_has (known_flags, json_string_value (v)))
      return cove_error_set (err, EINVAL, "flags[%zu]: unknown `%s`", i,
                             json_string_value (v));
  if (json_array_size (flags) > 0)
    json_object_set (out, "flags", flags);
  return 0;
}

static json_t *
convert_profile (json_t *in, const char *const *caps, struct cove_error **err)
{
  if (!json_is_object (in))
    {
      cove_error_set (err, EINVAL, "not a JSON object");
      return NULL;
    }
  cleanup_json json_t *out = json_object ();
  json_t *action = json_object_get (in, "defaultAction");
  if (check_action (action, "defaultAction", err) < 0)
    return NULL;
  json_object_set (out, "defaultAction", action);
  if (copy_errno (in, "defaultErrnoRet", json_string_value (action), "", out,
                  err) < 0
      || convert_arches (in, out, err) < 0
      || convert_flags (in, out, err) < 0)
    return NULL;

  json_t *rows;
  if (member (in, "syscalls", JSON_ARRAY, "", &rows, err) < 0)
    return NULL;
  json_t *syscalls = json_array ();
  json_object_set_new (out, "syscalls", syscalls);
  size_t i;
  json_t *row;
  json_array_foreach (rows, i, row)
    if (convert_row (row, i, caps, syscalls, err) < 0)
      return NULL;
  return steal_pointer (&out);
}

json_t *
cove_spec_seccomp_from_buffer (const char *buf, size_t len,
                               const char *const *caps,
                               struct cove_error **err)
{
  if (len > PROFILE_MAX_BYTES)
    {
      cove_error_set (err, EINVAL, "larger than %u bytes", PROFILE_MAX_BYTES);
      return NULL;
    }
  json_error_t jerr;
  /* Duplicate keys are refused: which one wins is a guess.  */
  cleanup_json json_t *in = json_loadb (buf, len, JSON_REJECT_DUPLICATES,
                                        &jerr);
  if (in == NULL)
    {
      cove_error_set (err, EINVAL, "not valid JSON: %s (line %d)", jerr.text,
                      jerr.line);
      return NULL;
    }
  return convert_profile (in, caps, err);
}

json_t *
cove_spec_seccomp_from_file (const char *path, const char *const *caps,
                             struct cove_error **err)
{
  cleanup_error struct cove_error *rerr = NULL;
  size_t len = 0;
  cleanup_free char *buf = cove_file_read_at (AT_FDCWD, path,
                                              PROFILE_MAX_BYTES, &len, &rerr);
  if (buf == NULL)
    {
      /* Too big is a bad profile, not a filesystem error.  */
      int e = rerr->errnum == EFBIG ? EINVAL : rerr->errnum;
      cove_error_set (err, e, "seccomp profile: %s", rerr->msg);
      return NULL;
    }
  json_t *out = cove_spec_seccomp_from_buffer (buf, len, caps, err);
  if (out == NULL)
    cove_error_wrap (err, "seccomp profile `%s`", path);
  return out;
}
