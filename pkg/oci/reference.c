/* Image references with docker's grammar (distribution/reference):

     reference := name [ ":" tag ] [ "@" digest ]
     name      := [domain "/"] path-component ["/" path-component]*
     domain    := host [":" port]; host a DNS name or "[" IPv6 "]"
     path-component := [a-z0-9]+ ((\.|_|__|-*) [a-z0-9]+)*
     tag       := [\w][\w.-]{0,127}

   References come from users, from image archives and from registries'
   answers: untrusted, every byte is checked.  */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/oci/internal.h"
#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* distribution/reference's NameTotalLengthMax.  */
#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128
/* Longer than any valid reference: name, tag, digest and separators.  */
#define REF_MAX_LEN 1024

static bool
is_lower_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_word (char c)
{
  return isascii ((unsigned char) c) && (isalnum ((unsigned char) c) || c == '_');
}

static bool
path_component_valid (const char *s, size_t n)
{
  size_t i = 0;
  if (n == 0 || !is_lower_alnum (s[0]))
    return false;
  for (;;)
    {
      while (i < n && is_lower_alnum (s[i]))
        i++;
      if (i == n)
        return true;
      if (s[i] == '.')
        i++;
      else if (s[i] == '_')
        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
      else if (s[i] == '-')
        while (i < n && s[i] == '-')
          i++;
      else
        return false;
      if (i == n || !is_lower_alnum (s[i]))
        return false;
    }
}

static int
check_path (const char *s, size_t n, struct cove_error **err)
{
  if (n == 0)
    return cove_error_set (err, EINVAL, "empty repository name");
  for (size_t i = 0; i < n; i++)
    if (isupper ((unsigned char) s[i]))
      return cove_error_set (err, EINVAL,
                             "repository name must be lowercase");
  size_t start = 0;
  for (size_t i = 0; i <= n; i++)
    {
      if (i < n && s[i] != '/')
        continue;
      if (!path_component_valid (s + start, i - start))
        return cove_error_set (err, EINVAL,
                               "invalid repository name `%.*s`",
                               (int) n, s);
      start = i + 1;
    }
  return 0;
}

static bool
dns_component_valid (const char *s, size_t n)
{
  if (n == 0 || !isalnum ((unsigned char) s[0]) || !isalnum ((unsigned char) s[n - 1]))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isascii ((unsigned char) s[i])
        || (!isalnum ((unsigned char) s[i]) && s[i] != '-'))
      return false;
  return true;
}

static bool
host_valid (const char *s, size_t n)
{
  if (n >= 2 && s[0] == '[')
    {
      if (s[n - 1] != ']' || n == 2)
        return false;
      for (size_t i = 1; i < n - 1; i++)
        if (!isxdigit ((unsigned char) s[i]) && s[i] != ':')
          return false;
      return true;
    }
  size_t start = 0;
  for (size_t i = 0; i <= n; i++)
    {
      if (i < n && s[i] != '.')
        continue;
      if (!dns_component_valid (s + start, i - start))
        return false;
      start = i + 1;
    }
  return true;
}

/* host[:port], as the domain part of a reference.  */
static bool
domain_valid (const char *s, size_t n)
{
  size_t host_len = n;
  const char *close = memchr (s, ']', n);
  const char *colon = memrchr (s, ':', n);
  if (colon && (s[0] != '[' || (close && colon > close)))
    {
      host_len = colon - s;
      size_t port_len = n - host_len - 1;
      if (port_len == 0 || port_len > 5)
        return false;
      for (size_t i = host_len + 1; i < n; i++)
        if (!isdigit ((unsigned char) s[i]))
          return false;
    }
  return host_valid (s, host_len);
}

static bool
tag_valid (const char *s)
{
  size_t n = strlen (s);
  if (n == 0 || n > TAG_MAX_LEN || !is_word (s[0]))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!is_word (s[i]) && s[i] != '.' && s[i] != '-')
      return false;
  return true;
}

static int
check_digest (const char *d, struct cove_error **err)
{
  if (cove_oci_digest_valid (d))
    return 0;
  if (strncmp (d, "sha512:", 7) == 0 || strncmp (d, "sha384:", 7) == 0)
    return cove_error_set (err, EINVAL,
                           "unsupported digest algorithm in `%s` (only sha256)",
                           d);
  return cove_error_set (err, EINVAL, "invalid digest `%s`", d);
}

/* Does the first component of a name denote a registry?  docker's rule:
   it has a '.' or a ':', is "localhost", or has an uppercase letter.  */
static bool
looks_like_domain (const char *s, size_t n)
{
  if (memchr (s, '.', n) || memchr (s, ':', n))
    return true;
  if (n == 9 && memcmp (s, "localhost", 9) == 0)
    return true;
  for (size_t i = 0; i < n; i++)
    if (isupper ((unsigned char) s[i]))
      return true;
  return false;
}

static bool
is_hex64 (const char *s)
{
  if (strlen (s) != 64)
    return false;
  for (const char *p = s; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return false;
  return true;
}

/* Fill OUT's registry and repository from NAME (no tag or digest).  */
static int
split_name (const char *name, struct cove_oci_ref *out, struct cove_error **err)
{
  size_t n = strlen (name);
  if (n == 0)
    return cove_error_set (err, EINVAL, "empty name");
  if (n > NAME_MAX_LEN)
    return cove_error_set (err, EINVAL,
                           "repository name must not be more than %d characters",
                           NAME_MAX_LEN);
  const char *slash = strchr (name, '/');
  const char *path = name;
  if (slash && looks_like_domain (name, slash - name))
    {
      if (!domain_valid (name, slash - name))
        return cove_error_set (err, EINVAL, "invalid registry `%.*s`",
                               (int) (slash - name), name);
      path = slash + 1;
    }
  if (check_path (path, strlen (path), err) < 0)
    return -1;
  if (path == name)
    {
      out->repository = xstrdup (path);
      return 0;
    }
  out->registry = xstrndup (name, slash - name);
  if (strcmp (out->registry, "index.docker.io") == 0)
    {
      free (out->registry);
      out->registry = xstrdup ("docker.io");
    }
  if (strcmp (out->registry, "docker.io") == 0 && strchr (path, '/') == NULL)
    out->repository = xasprintf ("library/%s", path);
  else
    out->repository = xstrdup (path);
  return 0;
}

static int
parse_into (const char *s, struct cove_oci_ref *out, struct cove_error **err)
{
  size_t n = strnlen (s, REF_MAX_LEN + 1);
  if (n == 0)
    return cove_error_set (err, EINVAL, "empty string");
  if (n > REF_MAX_LEN)
    return cove_error_set (err, EINVAL, "too long");
  if (is_hex64 (s))
    return cove_error_set (err, EINVAL,
                           "cannot specify 64-byte hexadecimal strings");
  cleanup_free char *name = xstrdup (s);
  char *at = strchr (name, '@');
  if (at)
    {
      *at = '\0';
      if (check_digest (at + 1, err) < 0)
        return -1;
      out->digest = xstrdup (at + 1);
    }
  char *colon = strrchr (name, ':');
  char *slash = strrchr (name, '/');
  if (colon && (slash == NULL || colon > slash))
    {
      *colon = '\0';
      if (!tag_valid (colon + 1))
        return cove_error_set (err, EINVAL, "invalid tag `%s`",
                               colon + 1);
      out->tag = xstrdup (colon + 1);
    }
  return split_name (name, out, err);
}

int
cove_oci_ref_parse (const char *s, struct cove_oci_ref *out,
                    struct cove_error **err)
{
  struct cove_oci_ref r = { 0 };
  if (s == NULL)
    return cove_error_set (err, EINVAL, "invalid reference: empty string");
  if (parse_into (s, &r, err) < 0)
    {
      cove_oci_ref_free (&r);
      if (strnlen (s, REF_MAX_LEN + 1) > REF_MAX_LEN)
        return cove_error_wrap (err, "invalid reference");
      return cove_error_wrap (err, "invalid reference `%s`", s);
    }
  *out = r;
  return 0;
}

void
cove_oci_ref_free (struct cove_oci_ref *ref)
{
  if (ref == NULL)
    return;
  free (ref->registry);
  free (ref->repository);
  free (ref->tag);
  free (ref->digest);
  memset (ref, 0, sizeof *ref);
}

char *
cove_oci_ref_format (const struct cove_oci_ref *ref)
{
  return xasprintf ("%s%s%s%s%s%s%s", ref->registry ? ref->registry : "",
                    ref->registry ? "/" : "", ref->repository ? ref->repository : "",
                    ref->tag ? ":" : "", ref->tag ? ref->tag : "",
                    ref->digest ? "@" : "", ref->digest ? ref->digest : "");
}

int
cove_oci_ref_qualify (const struct cove_oci_ref *ref, const char *registry,
                      struct cove_oci_ref *out, struct cove_error **err)
{
  const char *reg = ref->registry ? ref->registry : registry ? registry : "docker.io";
  if (strcmp (reg, "index.docker.io") == 0)
    reg = "docker.io";
  if (!domain_valid (reg, strlen (reg)))
    return cove_error_set (err, EINVAL, "invalid registry `%s`", reg);
  if (ref->repository == NULL)
    return cove_error_set (err, EINVAL, "invalid reference: no repository");
  if (check_path (ref->repository, strlen (ref->repository), err) < 0)
    return cove_error_wrap (err, "invalid reference");
  struct cove_oci_ref r = { 0 };
  r.registry = xstrdup (reg);
  if (strcmp (reg, "docker.io") == 0 && strchr (ref->repository, '/') == NULL)
    r.repository = xasprintf ("library/%s", ref->repository);
  else
    r.repository = xstrdup (ref->repository);
  if (strlen (r.registry) + 1 + strlen (r.repository) > NAME_MAX_LEN)
    {
      cove_oci_ref_free (&r);
      return cove_error_set (err, EINVAL,
                             "repository name must not be more than %d characters",
                             NAME_MAX_LEN);
    }
  if (ref->tag)
    r.tag = xstrdup (ref->tag);
  else if (ref->digest == NULL)
    r.tag = xstrdup ("latest");
  if (ref->digest)
    r.digest = xstrdup (ref->digest);
  *out = r;
  return 0;
}
