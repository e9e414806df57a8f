/* Resolve users and groups from the rootfs's own /etc/passwd and
   /etc/group.  Those files come from the image: untrusted input, read
   inside the root (openat2 RESOLVE_IN_ROOT) and parsed defensively.  */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/spec/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#define DB_MAX (4 * 1024 * 1024)

/* Read ROOTFS/PATH; a missing file reads as empty.  */
static char *
read_db (int root, const char *path, struct cove_error **err)
{
  cleanup_error struct cove_error *e = NULL;
  cleanup_close int fd = cove_open_in_root (root, path, O_RDONLY, &e);
  if (fd < 0)
    {
      if (e->errnum == ENOENT)
        return xstrdup ("");
      cove_error_set (err, e->errnum, "open `%s` in rootfs", path);
      return NULL;
    }
  char *r = cove_fd_read_all (fd, DB_MAX, NULL, err);
  if (r == NULL)
    cove_error_wrap (err, "read `%s` in rootfs", path);
  return r;
}

/* The next line of the buffer at *CURSOR (NUL-terminated in place), or
   NULL at the end.  */
static char *
next_line (char **cursor)
{
  char *line = *cursor;
  if (line == NULL || *line == '\0')
    return NULL;
  char *nl = strchr (line, '\n');
  if (nl)
    {
      *nl = '\0';
      *cursor = nl + 1;
    }
  else
    *cursor = line + strlen (line);
  return line;
}

static int
parse_id (const char *s, uint32_t *out)
{
  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  char *end;
  unsigned long v = strtoul (s, &end, 10);
  if (errno || *end != '\0' || v >= UINT32_MAX)
    return -1;
  *out = (uint32_t) v;
  return 0;
}

/* Split LINE at SEP into at most N fields (in place); returns the count.  */
static size_t
split_fields (char *line, char sep, char **fields, size_t n)
{
  size_t i = 0;
  fields[i++] = line;
  for (char *c = line; *c && i < n; c++)
    if (*c == sep)
      {
        *c = '\0';
        fields[i++] = c + 1;
      }
  return i;
}

/* Find the passwd entry whose name or uid is KEY in the passwd db DB.  */
static bool
find_passwd (const char *db, const char *key, struct spec_user *u,
             char **out_name)
{
  uint32_t want;
  bool numeric = parse_id (key, &want) == 0;
  cleanup_free char *copy = xstrdup (db);
  char *cur = copy, *line;
  while ((line = next_line (&cur)) != NULL)
    {
      char *f[7];
      uint32_t uid, gid;
      if (split_fields (line, ':', f, 7) < 7 || parse_id (f[2], &uid) < 0
          || parse_id (f[3], &gid) < 0)
        continue;
      if ((numeric && uid == want) || (!numeric && strcmp (f[0], key) == 0))
        {
          u->uid = uid;
          u->gid = gid;
          free (u->home);
          u->home = xstrdup (f[5][0] == '/' ? f[5] : "/");
          *out_name = xstrdup (f[0]);
          return true;
        }
    }
  return false;
}

/* Look GROUP (name or gid) up in the group db DB.  */
static bool
find_group (const char *db, const char *group, uint32_t *out)
{
  if (parse_id (group, out) == 0)
    return true;
  cleanup_free char *copy = xstrdup (db);
  char *cur = copy, *line;
  while ((line = next_line (&cur)) != NULL)
    {
      char *f[4];
      if (split_fields (line, ':', f, 4) >= 3 && strcmp (f[0], group) == 0
          && parse_id (f[2], out) == 0)
        return true;
    }
  return false;
}

static void
add_gid (json_t *gids, uint32_t gid)
{
  size_t i;
  json_t *v;
  json_array_foreach (gids, i, v)
    if (json_integer_value (v) == (json_int_t) gid)
      return;
  json_array_append_new (gids, json_integer (gid));
}

/* Supplementary groups: every group listing NAME as a member.  */
static void
member_groups (const char *db, const char *name, json_t *gids)
{
  cleanup_free char *copy = xstrdup (db);
  char *cur = copy, *line;
  while ((line = next_line (&cur)) != NULL)
    {
      char *f[4];
      uint32_t gid;
      if (split_fields (line, ':', f, 4) < 4 || parse_id (f[2], &gid) < 0)
        continue;
      char *members[256];
      size_t n = split_fields (f[3], ',', members, 256);
      for (size_t i = 0; i < n; i++)
        if (strcmp (members[i], name) == 0)
          add_gid (gids, gid);
    }
}

static int
resolve_primary (int root, const char *user, struct spec_user *out,
                 char **out_name, struct cove_error **err)
{
  cleanup_free char *spec = xstrdup (user);
  char *group = strchr (spec, ':');
  if (group)
    *group++ = '\0';
  cleanup_free char *passwd = read_db (root, "/etc/passwd", err);
  if (passwd == NULL)
    return -1;
  if (!find_passwd (passwd, spec, out, out_name))
    {
      if (parse_id (spec, &out->uid) < 0)
        return cove_error_set (err, ENOENT, "unable to find user %s: "
                               "no matching entries in passwd file", spec);
      out->gid = 0;  /* a uid without an entry runs with gid 0, as in podman */
    }
  if (group == NULL)
    return 0;
  cleanup_free char *groupdb = read_db (root, "/etc/group", err);
  if (groupdb == NULL)
    return -1;
  if (!find_group (groupdb, group, &out->gid))
    return cove_error_set (err, ENOENT, "unable to find group %s: "
                           "no matching entries in group file", group);
  return 0;
}

int
spec_user_resolve (const char *rootfs, const char *user, char **groups,
                   struct spec_user *out, struct cove_error **err)
{
  memset (out, 0, sizeof *out);
  out->additional_gids = json_array ();
  out->home = xstrdup ("/");
  cleanup_close int root = open (rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return cove_error_set (err, errno, "open rootfs `%s`", rootfs);
  cleanup_free char *name = NULL;
  if (resolve_primary (root, user ? user : "0", out, &name, err) < 0)
    return -1;
  cleanup_free char *groupdb = read_db (root, "/etc/group", err);
  if (groupdb == NULL)
    return -1;
  if (name)
    member_groups (groupdb, name, out->additional_gids);
  for (size_t i = 0; groups && groups[i]; i++)
    {
      uint32_t gid;
      if (!find_group (groupdb, groups[i], &gid))
        return cove_error_set (err, ENOENT, "unable to find group %s: "
                               "no matching entries in group file", groups[i]);
      add_gid (out->additional_gids, gid);
    }
  return 0;
}

void
spec_user_free (struct spec_user *u)
{
  json_decref (u->additional_gids);
  free (u->home);
  memset (u, 0, sizeof *u);
}
