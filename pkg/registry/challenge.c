/* Pure helpers of the registry client: the WWW-Authenticate parser, URL
   building, percent and base64 encoding.  No network here.  */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pkg/registry/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* RFC 9110 tchar.  */
static bool
is_tchar (char ch)
{
  if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
      || (ch >= '0' && ch <= '9'))
    return true;
  return ch != '\0' && strchr ("!#$%&'*+-.^_`|~", ch) != NULL;
}

static const char *
skip_ws (const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

static char *
parse_token (const char **pp)
{
  const char *start = *pp, *p = *pp;
  while (is_tchar (*p))
    p++;
  *pp = p;
  return p > start ? xstrndup (start, p - start) : NULL;
}

/* A quoted-string starting at *PP (on the '"').  The header is untrusted:
   control characters and an unterminated string are refused.  */
static char *
parse_quoted (const char **pp, struct cove_error **err)
{
  const char *p = *pp + 1;
  size_t cap = strlen (p) + 1, n = 0;
  cleanup_free char *out = xmalloc (cap);
  for (;; p++)
    {
      if (*p == '\0')
        {
          cove_error_set (err, EINVAL, "unterminated quoted string");
          return NULL;
        }
      if (*p == '"')
        break;
      if (*p == '\\')
        {
          p++;
          if (*p == '\0')
            {
              cove_error_set (err, EINVAL, "unterminated quoted string");
              return NULL;
            }
        }
      if ((unsigned char) *p < 0x20 && *p != '\t')
        {
          cove_error_set (err, EINVAL, "control character in quoted string");
          return NULL;
        }
      out[n++] = *p;
    }
  out[n] = '\0';
  *pp = p + 1;
  return steal_pointer (&out);
}

static char **
param_slot (struct cove_registry_challenge *ch, const char *name)
{
  if (strcasecmp (name, "realm") == 0)
    return &ch->realm;
  if (strcasecmp (name, "service") == 0)
    return &ch->service;
  if (strcasecmp (name, "scope") == 0)
    return &ch->scope;
  return NULL;
}

/* One `name = value` pair at *PP.  Returns 1 when one was parsed, 0 when
   the next challenge (or a token68) starts there, -1 on error.  */
static int
parse_param (struct cove_registry_challenge *ch, const char **pp,
             struct cove_error **err)
{
  const char *p = *pp;
  cleanup_free char *name = parse_token (&p);
  if (name == NULL)
    return cove_error_set (err, EINVAL, "expected a parameter name at `%.20s`", p);
  p = skip_ws (p);
  if (*p != '=' || p[1] == '=' || p[1] == '\0' || p[1] == ',')
    return 0;   /* `Basic abc==` token68 or `Bearer x, Basic ...` */
  p = skip_ws (p + 1);
  cleanup_free char *value = NULL;
  if (*p == '"')
    value = parse_quoted (&p, err);
  else if ((value = parse_token (&p)) == NULL)
    cove_error_set (err, EINVAL, "parameter `%s` has no value", name);
  if (value == NULL)
    return -1;
  char **slot = param_slot (ch, name);
  if (slot && *slot)
    return cove_error_set (err, EINVAL, "parameter `%s` given twice", name);
  if (slot)
    *slot = steal_pointer (&value);
  *pp = p;
  return 1;
}

int
cove_registry_challenge_parse (const char *header,
                               struct cove_registry_challenge *out,
                               struct cove_error **err)
{
  struct cove_registry_challenge ch = { 0 };
  const char *p = skip_ws (header);
  ch.scheme = parse_token (&p);
  if (ch.scheme == NULL)
    return cove_error_set (err, EINVAL, "authentication challenge without a scheme");
  for (char *s = ch.scheme; *s; s++)
    if (*s >= 'A' && *s <= 'Z')
      *s = (char) (*s - 'A' + 'a');
  if (*p != '\0' && *p != ' ' && *p != '\t' && *p != ',')
    {
      cove_registry_challenge_free (&ch);
      return cove_error_set (err, EINVAL, "bad authentication scheme");
    }
  for (;;)
    {
      while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
      if (*p == '\0')
        break;
      int r = parse_param (&ch, &p, err);
      if (r < 0)
        {
          cove_registry_challenge_free (&ch);
          return cove_error_wrap (err, "parsing WWW-Authenticate");
        }
      if (r == 0)
        break;
      p = skip_ws (p);
      if (*p != ',' && *p != '\0')
        {
          cove_registry_challenge_free (&ch);
          return cove_error_set (err, EINVAL,
                                 "parsing WWW-Authenticate: expected `,` at `%.20s`", p);
        }
    }
  *out = ch;
  return 0;
}

void
cove_registry_challenge_free (struct cove_registry_challenge *ch)
{
  if (ch == NULL)
    return;
  free (ch->scheme);
  free (ch->realm);
  free (ch->service);
  free (ch->scope);
  memset (ch, 0, sizeof *ch);
}

const char *
cove_registry_endpoint_host (const char *registry)
{
  /* docker's default registry answers the v2 API on another name.  */
  if (strcmp (registry, "docker.io") == 0)
    return "registry-1.docker.io";
  return registry;
}

char *
cove_registry_url (const char *scheme, const char *registry, const char *repo,
                   const char *kind, const char *ref)
{
  const char *host = cove_registry_endpoint_host (registry);
  if (repo == NULL)
    return xasprintf ("%s://%s/v2/", scheme, host);
  return xasprintf ("%s://%s/v2/%s/%s/%s", scheme, host, repo, kind, ref);
}

char *
registry_percent_encode (const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  char *out = xmalloc (strlen (s) * 3 + 1), *o = out;
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    {
      if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
          || (*p >= '0' && *p <= '9') || strchr ("-._~", *p))
        *o++ = (char) *p;
      else
        {
          *o++ = '%';
          *o++ = hex[*p >> 4];
          *o++ = hex[*p & 15];
        }
    }
  *o = '\0';
  return out;
}

char *
cove_registry_token_url (const char *realm, const char *service,
                         const char *scope)
{
  /* The realm comes from the registry: only an http(s) URL without
     whitespace or control characters is followed.  */
  if (strncasecmp (realm, "https://", 8) != 0
      && strncasecmp (realm, "http://", 7) != 0)
    return NULL;
  for (const unsigned char *p = (const unsigned char *) realm; *p; p++)
    if (*p <= 0x20 || *p >= 0x7f || *p == '#')
      return NULL;
  cleanup_free char *esc_service = service ? registry_percent_encode (service) : NULL;
  cleanup_free char *esc_scope = scope ? registry_percent_encode (scope) : NULL;
  char sep = strchr (realm, '?') ? '&' : '?';
  if (esc_service && esc_scope)
    return xasprintf ("%s%cservice=%s&scope=%s", realm, sep, esc_service, esc_scope);
  if (esc_service)
    return xasprintf ("%s%cservice=%s", realm, sep, esc_service);
  if (esc_scope)
    return xasprintf ("%s%cscope=%s", realm, sep, esc_scope);
  return xstrdup (realm);
}

char *
registry_base64 (const void *data, size_t len)
{
  static const char tab[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *in = data;
  char *out = xmalloc ((len + 2) / 3 * 4 + 1), *o = out;
  size_t i = 0;
  for (; i + 2 < len; i += 3)
    {
      unsigned v = (unsigned) in[i] << 16 | (unsigned) in[i + 1] << 8 | in[i + 2];
      *o++ = tab[v >> 18];
      *o++ = tab[(v >> 12) & 63];
      *o++ = tab[(v >> 6) & 63];
      *o++ = tab[v & 63];
    }
  if (i < len)
    {
      unsigned v = (unsigned) in[i] << 16;
      if (i + 1 < len)
        v |= (unsigned) in[i + 1] << 8;
      *o++ = tab[v >> 18];
      *o++ = tab[(v >> 12) & 63];
      *o++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
      *o++ = '=';
    }
  *o = '\0';
  return out;
}

/* A short, printable copy of a registry's error text (untrusted) for an
   error message.  */
char *
registry_sanitize (const char *s, size_t max)
{
  size_t n = strnlen (s, max);
  char *out = xstrndup (s, n);
  for (char *p = out; *p; p++)
    if ((unsigned char) *p < 0x20 || (unsigned char) *p == 0x7f)
      *p = ' ';
  return out;
}
