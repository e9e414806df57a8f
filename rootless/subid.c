/* cove rootless: /etc/subuid and /etc/subgid, and the maps built from them.

   The files are owned by root but are parsed strictly anyway: a typo there
   must give an error naming the line rather than a wrong mapping.  */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "rootless/rootless.h"

/* Far above any real subuid file; bounds what a broken one costs us.  */
#define SUBID_FILE_MAX (4u * 1024 * 1024)

/* Parse all of [S, S+LEN) as a decimal uint32.  No sign, no blanks, no
   empty string: strtoul alone would accept " -1" as ULONG_MAX.  */
static int
parse_u32 (const char *s, size_t len, uint32_t *out)
{
  if (len == 0 || len > 10)
    return -1;
  for (size_t i = 0; i < len; i++)
    if (s[i] < '0' || s[i] > '9')
      return -1;
  char buf[11];
  memcpy (buf, s, len);
  buf[len] = '\0';
  char *end = NULL;
  errno = 0;
  unsigned long v = strtoul (buf, &end, 10);
  if (errno != 0 || *end != '\0' || v > UINT32_MAX)
    return -1;
  *out = (uint32_t) v;
  return 0;
}

struct subid_line
{
  const char *owner;
  size_t owner_len;
  uint32_t start;
  uint32_t count;
};

/* Split LINE ("owner:start:count", not NUL-terminated, LEN bytes) into OUT.
   Returns -1 when the line is malformed.  */
static int
parse_line (const char *line, size_t len, struct subid_line *out)
{
  const char *c1 = memchr (line, ':', len);
  if (c1 == NULL || c1 == line)
    return -1;
  const char *rest = c1 + 1;
  size_t rest_len = len - (size_t) (rest - line);
  const char *c2 = memchr (rest, ':', rest_len);
  if (c2 == NULL)
    return -1;
  const char *cnt = c2 + 1;
  size_t cnt_len = len - (size_t) (cnt - line);
  out->owner = line;
  out->owner_len = (size_t) (c1 - line);
  if (parse_u32 (rest, (size_t) (c2 - rest), &out->start) < 0
      || parse_u32 (cnt, cnt_len, &out->count) < 0)
    return -1;
  /* The range must be non-empty and stay inside the 32-bit id space.  */
  if (out->count == 0 || (uint64_t) out->start + out->count > UINT32_MAX)
    return -1;
  return 0;
}

static bool
owner_matches (const struct subid_line *l, const char *user, uid_t uid)
{
  if (user && strlen (user) == l->owner_len
      && memcmp (l->owner, user, l->owner_len) == 0)
    return true;
  uint32_t n;
  return parse_u32 (l->owner, l->owner_len, &n) == 0 && n == (uint32_t) uid;
}

/* Length of the line at P without its "\n" and trailing blanks (a file
   edited on Windows ends its lines in "\r").  */
static size_t
line_length (const char *p, const char **out_next)
{
  const char *nl = strchr (p, '\n');
  size_t len = nl ? (size_t) (nl - p) : strlen (p);
  *out_next = nl ? nl + 1 : p + len;
  while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'
                     || p[len - 1] == '\r'))
    len--;
  return len;
}

static int
add_range (struct cove_idmap *out, const struct subid_line *l,
           uint64_t *total, const char *path, unsigned lineno,
           struct cove_error **err)
{
  /* One line of the final map is taken by container 0 -> the user.  */
  if (out->n >= COVE_ROOTLESS_MAX_RANGES - 1)
    return cove_error_set (err, E2BIG, "%s:%u: more than %d ranges for one user",
                           path, lineno, COVE_ROOTLESS_MAX_RANGES - 1);
  /* Container ids 1..total must fit in 32 bits as well.  */
  *total += l->count;
  if (*total >= UINT32_MAX)
    return cove_error_set (err, EINVAL, "%s:%u: ranges add up to more than "
                           "the 32-bit id space", path, lineno);
  out->ranges[out->n++] = (struct cove_idmap_range) {
    .container = 0, .host = l->start, .size = l->count };
  return 0;
}

int
cove_rootless_read_subid (const char *path, const char *user, uid_t uid,
                          struct cove_idmap *out, struct cove_error **err)
{
  cleanup_free char *data = cove_file_read_at (AT_FDCWD, path, SUBID_FILE_MAX,
                                               NULL, err);
  if (data == NULL)
    return -1;
  struct cove_idmap found = { 0 };
  uint64_t total = 0;
  unsigned lineno = 0;
  for (const char *p = data, *next; *p; p = next)
    {
      size_t len = line_length (p, &next);
      lineno++;
      size_t skip = strspn (p, " \t");
      if (skip >= len || p[skip] == '#')
        continue;
      struct subid_line l;
      if (parse_line (p + skip, len - skip, &l) < 0)
        return cove_error_set (err, EINVAL, "%s:%u: malformed entry, want "
                               "NAME:START:COUNT", path, lineno);
      if (owner_matches (&l, user, uid)
          && add_range (&found, &l, &total, path, lineno, err) < 0)
        return -1;
    }
  if (found.n == 0)
    return cove_error_set (err, ENOENT, "no ranges for user \"%s\" (uid %u) "
                           "in %s", user ? user : "", (unsigned) uid, path);
  *out = found;
  return 0;
}

void
cove_rootless_build_map (uint32_t id, const struct cove_idmap *subids,
                         struct cove_idmap *out)
{
  out->n = 0;
  out->ranges[out->n++] = (struct cove_idmap_range) {
    .container = 0, .host = id, .size = 1 };
  uint64_t next = 1;
  for (size_t i = 0; subids && i < subids->n; i++)
    {
      const struct cove_idmap_range *r = &subids->ranges[i];
      /* read_subid guarantees both; a hand-built SUBIDS is cut short.  */
      if (out->n >= COVE_ROOTLESS_MAX_RANGES || next + r->size > UINT32_MAX)
        break;
      out->ranges[out->n++] = (struct cove_idmap_range) {
        .container = (uint32_t) next, .host = r->host, .size = r->size };
      next += r->size;
    }
}

char *
cove_rootless_map_format (const struct cove_idmap *map)
{
  /* "4294967295 4294967295 4294967295\n" is 33 bytes.  */
  size_t cap = map->n * 34 + 1, len = 0;
  char *buf = xmalloc (cap);
  buf[0] = '\0';
  for (size_t i = 0; i < map->n; i++)
    {
      const struct cove_idmap_range *r = &map->ranges[i];
      int n = snprintf (buf + len, cap - len, "%u %u %u\n",
                        r->container, r->host, r->size);
      if (n > 0)
        len += (size_t) n;
    }
  return buf;
}
