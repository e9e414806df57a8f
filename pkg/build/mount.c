/* cove: RUN --mount=type=cache,target=/root/.cache,... as BuildKit reads
   it: one CSV record of key=value fields (Go's encoding/csv quoting), keys
   case-insensitive, some checked against the mount type given before
   them.  */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pkg/build/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

static const char *const mount_types[] = {
  [COVE_BUILD_MOUNT_BIND] = "bind", [COVE_BUILD_MOUNT_CACHE] = "cache",
  [COVE_BUILD_MOUNT_TMPFS] = "tmpfs", [COVE_BUILD_MOUNT_SECRET] = "secret",
  [COVE_BUILD_MOUNT_SSH] = "ssh",
};

void
cove_build_mount_clear (struct cove_build_mount *m)
{
  free (m->target);
  free (m->source);
  free (m->from);
  free (m->id);
  free (m->env);
  free (m->sharing);
  memset (m, 0, sizeof *m);
}

/* One quoted CSV field at *P (after its opening quote).  */
static int
csv_quoted (const char **p, struct sbuf *f, struct cove_error **err)
{
  const char *s = *p;
  for (;;)
    {
      if (*s == '\0')
        return cove_error_set_plain (err, EINVAL, "extraneous or missing \" "
                                     "in quoted-field");
      if (*s == '"' && s[1] == '"')
        {
          bld_sbuf_addc (f, '"');
          s += 2;
          continue;
        }
      if (*s == '"')
        break;
      bld_sbuf_addc (f, *s++);
    }
  s++;
  if (*s != ',' && *s != '\0')
    return cove_error_set_plain (err, EINVAL, "extraneous or missing \" in "
                                 "quoted-field");
  *p = s;
  return 0;
}

/* An unquoted CSV field at *P.  */
static int
csv_plain (const char **p, struct sbuf *f, struct cove_error **err)
{
  for (; **p && **p != ','; (*p)++)
    {
      if (**p == '"')
        return cove_error_set_plain (err, EINVAL,
                                     "bare \" in non-quoted-field");
      bld_sbuf_addc (f, **p);
    }
  return 0;
}

static char **
csv_fields (const char *s, struct cove_error **err)
{
  cleanup_strv char **fields = xmalloc0 (sizeof (char *));
  struct sbuf f = { 0 };
  int r = 0;
  if (*s == '\0')
    {
      cove_error_set_plain (err, EINVAL, "empty mount");
      return NULL;
    }
  while (r == 0)
    {
      bld_sbuf_addn (&f, "", 0);
      f.len = 0;
      f.s[0] = '\0';
      if (*s == '"')
        s++, r = csv_quoted (&s, &f, err);
      else
        r = csv_plain (&s, &f, err);
      if (r < 0)
        break;
      cove_strv_append (&fields, f.s);
      if (*s++ == '\0')
        break;
    }
  bld_sbuf_free (&f);
  return r < 0 ? NULL : steal_pointer (&fields);
}

/* Go's strconv.ParseBool.  */
static int
parse_bool (const char *s, bool *out)
{
  static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True" };
  static const char *const f[] = { "0", "f", "F", "FALSE", "false", "False" };
  for (size_t i = 0; i < 6; i++)
    {
      if (strcmp (s, t[i]) == 0)
        return *out = true, 0;
      if (strcmp (s, f[i]) == 0)
        return *out = false, 0;
    }
  return -1;
}

static int
parse_ulong (const char *s, int base, long *out)
{
  char *end;
  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  unsigned long v = strtoul (s, &end, base);
  if (errno || *end || v > 0xffffffffUL)
    return -1;
  *out = (long) v;
  return 0;
}

/* docker/go-units RAMInBytes: "64m", "1.5GiB", "512 kb" (powers of 1024).  */
static int
parse_ram (const char *s, int64_t *out)
{
  char *end;
  /* Digits and one fraction only: strtod alone would take "1e3", "0x10"
     and "inf".  */
  const char *num_end = s + strspn (s, "0123456789");
  if (num_end == s)
    return -1;
  if (*num_end == '.')
    {
      size_t frac = strspn (num_end + 1, "0123456789");
      if (frac == 0)
        return -1;
      num_end += 1 + frac;
    }
  double v = strtod (s, &end);
  if (end != num_end)
    return -1;
  if (*end == ' ')
    end++;
  const char *units = "kmgtp";
  const char *u = *end ? strchr (units, *end | 0x20) : NULL;
  if (u && *end)
    {
      for (const char *k = units; k <= u; k++)
        v *= 1024;
      end++;
    }
  if (*end == 'i' || *end == 'I')
    end++;
  if (*end == 'b' || *end == 'B')
    end++;
  if (*end || v < 0 || v >= 9.2e18)
    return -1;
  *out = (int64_t) v;
  return 0;
}

static int
bad_value (const char *key, const char *value, struct cove_error **err)
{
  return cove_error_set_plain (err, EINVAL, "invalid value for %s: %s", key,
                               value);
}

static int
wrong_type (const char *key, const struct cove_build_mount *m,
            struct cove_error **err)
{
  return cove_error_set_plain (err, EINVAL,
                               "unexpected key '%s' for mount type '%s'", key,
                               mount_types[m->type]);
}

static void
set_str (char **dst, const char *value)
{
  free (*dst);
  *dst = xstrdup (value);
}

/* The typed keys.  Returns 1 when KEY is none of them.  */
static int
set_typed (struct cove_build_mount *m, const char *key, const char *value,
           bool check, struct cove_error **err)
{
  bool b = false;
  if (strcmp (key, "readonly") == 0 || strcmp (key, "ro") == 0
      || strcmp (key, "readwrite") == 0 || strcmp (key, "rw") == 0)
    {
      if (check && parse_bool (value, &b) < 0)
        return bad_value (key, value, err);
      bool ro = strcmp (key, "readonly") == 0 || strcmp (key, "ro") == 0;
      m->readonly = ro ? b : !b;
      return 0;
    }
  if (strcmp (key, "required") == 0)
    {
      if (m->type != COVE_BUILD_MOUNT_SECRET && m->type != COVE_BUILD_MOUNT_SSH)
        return wrong_type (key, m, err);
      if (check && parse_bool (value, &m->required) < 0)
        return bad_value (key, value, err);
      return 0;
    }
  if (strcmp (key, "size") == 0)
    {
      if (m->type != COVE_BUILD_MOUNT_TMPFS)
        return wrong_type (key, m, err);
      return check && parse_ram (value, &m->size) < 0
               ? bad_value (key, value, err) : 0;
    }
  long *num = strcmp (key, "mode") == 0 ? &m->mode
              : strcmp (key, "uid") == 0 ? &m->uid
              : strcmp (key, "gid") == 0 ? &m->gid : NULL;
  if (num == NULL)
    return 1;
  if (check && parse_ulong (value, num == &m->mode ? 8 : 10, num) < 0)
    return bad_value (key, value, err);
  return 0;
}

/* One key=value field; CHECK: VALUE is final (expanded, or without `$`).  */
static int
set_field (struct cove_build_mount *m, const char *key, const char *value,
           bool check, struct cove_error **err)
{
  if (strcmp (key, "type") == 0)
    {
      for (size_t i = 0; i < sizeof mount_types / sizeof mount_types[0]; i++)
        if (strcasecmp (value, mount_types[i]) == 0)
          return m->type = (enum cove_build_mount_type) i, 0;
      return cove_error_set_plain (err, EINVAL, "unsupported mount type "
                                   "\"%s\"", value);
    }
  char **str = strcmp (key, "source") == 0 || strcmp (key, "src") == 0
                 ? &m->source
               : strcmp (key, "target") == 0 || strcmp (key, "dst") == 0
                   || strcmp (key, "destination") == 0 ? &m->target
               : strcmp (key, "id") == 0 ? &m->id
               : strcmp (key, "from") == 0 ? &m->from
               : strcmp (key, "env") == 0 ? &m->env : NULL;
  if (str)
    return set_str (str, value), 0;
  if (strcmp (key, "sharing") == 0)
    {
      if (m->type != COVE_BUILD_MOUNT_CACHE)
        return cove_error_set_plain (err, EINVAL, "invalid cache sharing set "
                                     "for %s mount", mount_types[m->type]);
      set_str (&m->sharing, value);
      for (char *p = m->sharing; *p; p++)
        *p = (char) (*p >= 'A' && *p <= 'Z' ? *p | 0x20 : *p);
      if (check && strcmp (m->sharing, "shared") != 0
          && strcmp (m->sharing, "private") != 0
          && strcmp (m->sharing, "locked") != 0)
        return cove_error_set_plain (err, EINVAL, "unsupported sharing value "
                                     "\"%s\"", value);
      return 0;
    }
  int r = set_typed (m, key, value, check, err);
  if (r > 0)
    return cove_error_set_plain (err, EINVAL, "unexpected key '%s' in "
                                 "'%s=%s'", key, key, value);
  return r;
}

/* A field without `=`: only the boolean keys.  */
static int
set_bare (struct cove_build_mount *m, char *key, bool *ro_auto,
          struct cove_error **err)
{
  bool ro = strcmp (key, "readonly") == 0 || strcmp (key, "ro") == 0;
  if (ro || strcmp (key, "readwrite") == 0 || strcmp (key, "rw") == 0)
    {
      *ro_auto = false;
      m->readonly = ro;
    }
  else if (strcmp (key, "required") == 0)
    {
      if (m->type != COVE_BUILD_MOUNT_SECRET && m->type != COVE_BUILD_MOUNT_SSH)
        return wrong_type (key, m, err);
      m->required = true;
    }
  else
    return cove_error_set_plain (err, EINVAL, "invalid field '%s' must be a "
                                 "key=value pair", key);
  return 0;
}

/* The checks of the whole mount.  */
static int
check_mount (struct cove_build_mount *m, bool ro_auto, struct cove_error **err)
{
  bool file_info = m->type == COVE_BUILD_MOUNT_SECRET
                   || m->type == COVE_BUILD_MOUNT_SSH
                   || m->type == COVE_BUILD_MOUNT_CACHE;
  if (!file_info && (m->mode >= 0 || m->uid >= 0 || m->gid >= 0))
    return cove_error_set_plain (err, EINVAL, "mode, uid and gid are not "
                                 "allowed for \"%s\" mounts",
                                 mount_types[m->type]);
  if (ro_auto)
    m->readonly = m->type != COVE_BUILD_MOUNT_CACHE
                  && m->type != COVE_BUILD_MOUNT_TMPFS;
  if (m->sharing && m->type != COVE_BUILD_MOUNT_CACHE)
    return cove_error_set_plain (err, EINVAL, "invalid cache sharing set for "
                                 "%s mount", mount_types[m->type]);
  if (m->type == COVE_BUILD_MOUNT_SECRET)
    {
      if (m->from)
        return cove_error_set_plain (err, EINVAL,
                                     "secret mount should not have a from");
      if (!m->source && !m->target && !m->id)
        return cove_error_set_plain (err, EINVAL, "invalid secret mount: one "
                                     "of source, target required");
      if (m->source && m->id)
        return cove_error_set_plain (err, EINVAL,
                                     "both source and id can't be set");
    }
  else if (m->type != COVE_BUILD_MOUNT_SSH && (!m->target || !*m->target))
    return cove_error_set_plain (err, EINVAL, "mount target is required");
  return 0;
}

static int
mount_field (struct cove_build_mount *m, const char *field,
             const struct expand_opts *o, bool *ro_auto,
             struct cove_error **err)
{
  const char *eq = strchr (field, '=');
  cleanup_free char *key = xstrndup (field, eq ? (size_t) (eq - field)
                                              : strlen (field));
  for (char *p = key; *p; p++)
    *p = (char) (*p >= 'A' && *p <= 'Z' ? *p | 0x20 : *p);
  if (eq == NULL)
    return set_bare (m, key, ro_auto, err);
  cleanup_free char *value = NULL;
  if (o->lookup && bld_expand_word (eq + 1, o, &value, NULL, err) < 0)
    return -1;
  if (value == NULL)
    value = xstrdup (eq + 1);
  /* BuildKit resolves from= before any variable is known.  */
  const char *dollar = strchr (value, '$');
  if (!o->lookup && strcmp (key, "from") == 0 && dollar && dollar[1] != '\0')
    return cove_error_set_plain (err, EINVAL, "'from' doesn't support "
                                 "variable expansion, define alias stage "
                                 "instead");
  if (strcmp (key, "readonly") == 0 || strcmp (key, "ro") == 0
      || strcmp (key, "readwrite") == 0 || strcmp (key, "rw") == 0)
    *ro_auto = false;
  return set_field (m, key, value, o->lookup || !strchr (value, '$'), err);
}

int
cove_build_mount_parse (const char *flag, cove_build_lookup_fn lookup,
                        void *ctx, char escape, struct cove_build_mount *out,
                        struct cove_error **err)
{
  struct expand_opts o = { .lookup = lookup, .ctx = ctx, .escape = escape };
  *out = (struct cove_build_mount) { .mode = -1, .uid = -1, .gid = -1 };
  cleanup_strv char **fields = csv_fields (flag, err);
  bool ro_auto = true;
  if (fields == NULL)
    return cove_error_wrap (err, "failed to parse csv mounts");
  for (char **f = fields; *f; f++)
    if (mount_field (out, *f, &o, &ro_auto, err) < 0)
      return -1;
  return check_mount (out, ro_auto, err);
}
