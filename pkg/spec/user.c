/* Users and groups from a container's own /etc/passwd and /etc/group, for
   `cove run -u` (before the container exists, on its rootfs), `cove exec -u`
   and `cove top` (on /proc/PID/root of a running one).  Both files come
   from the image or the container: untrusted input, possibly being
   rewritten by it.  They are opened under an fd of the root with
   RESOLVE_IN_ROOT, read with a size cap, and parsed defensively (a
   malformed line is skipped, never trusted).  */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/spec/spec.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

#define DB_MAX (4 * 1024 * 1024)
#define MEMBERS_MAX 256

/* ROOTFD's PATH; a missing file reads as empty, as for podman.  */
static char *
read_db (int rootfd, const char *path, struct cove_error **err)
{
  cleanup_error struct cove_error *e = NULL;
  cleanup_close int fd = cove_open_in_root (rootfd, path, O_RDONLY, &e);
  if (fd < 0)
    {
      if (e->errnum == ENOENT)
        return xstrdup ("");
      cove_error_set (err, e->errnum, "open `%s` in the container", path);
      return NULL;
    }
  char *r = cove_fd_read_all (fd, DB_MAX, NULL, err);
  if (r == NULL)
    cove_error_wrap (err, "read `%s` in the container", path);
  return r;
}

/* The next line at *CURSOR, NUL-terminated in place; NULL at the end.  */
static char *
next_line (char **cursor)
{
  char *line = *cursor;
  if (*line == '\0')
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

/* Split LINE at SEP into at most N fields, in place; returns the count.  */
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

/* The passwd entry whose name (or, when KEY is a number, uid) is KEY.  */
static bool
find_passwd (const char *db, const char *key, struct cove_spec_user *u,
             char **out_name)
{
  uint32_t want = 0;
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
          u->home = xstrdup (f[5][0] == '/' ? f[5] : "/");
          *out_name = xstrdup (f[0]);
          return true;
        }
    }
  return false;
}

/* GROUP (a name or a gid) in the group db DB.  */
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
add_gid (struct cove_spec_user *u, gid_t gid)
{
  for (size_t i = 0; i < u->n_gids; i++)
    if (u->gids[i] == gid)
      return;
  u->gids = xrealloc (u->gids, (u->n_gids + 1) * sizeof (gid_t));
  u->gids[u->n_gids++] = gid;
}

/* Supplementary groups: every group of DB listing NAME as a member.  */
static void
member_groups (const char *db, const char *name, struct cove_spec_user *u)
{
  cleanup_free char *copy = xstrdup (db);
  char *cur = copy, *line;
  while ((line = next_line (&cur)) != NULL)
    {
      char *f[4];
      uint32_t gid;
      if (split_fields (line, ':', f, 4) < 4 || parse_id (f[2], &gid) < 0)
        continue;
      char *members[MEMBERS_MAX];
      size_t n = split_fields (f[3], ',', members, MEMBERS_MAX);
      for (size_t i = 0; i < n; i++)
        if (strcmp (members[i], name) == 0)
          add_gid (u, gid);
    }
}

static int
group_not_found (const char *group, struct cove_error **err)
{
  return cove_error_set_plain (err, ENOENT, "unable to find group %s: "
                               "no matching entries in group file", group);
}

static int
resolve (int rootfd, char *user, const char *group, char *const *groups,
         struct cove_spec_user *out, struct cove_error **err)
{
  cleanup_free char *passwd = read_db (rootfd, "/etc/passwd", err);
  cleanup_free char *groupdb = passwd ? read_db (rootfd, "/etc/group", err) : NULL;
  if (groupdb == NULL)
    return -1;
  cleanup_free char *name = NULL;
  if (!find_passwd (passwd, user, out, &name))
    {
      if (parse_id (user, &out->uid) < 0)
        return cove_error_set_plain (err, ENOENT, "unable to find user %s: "
                                     "no matching entries in passwd file", user);
      out->gid = 0;  /* a uid without an entry runs with gid 0, as in podman */
      out->home = xstrdup ("/");
    }
  if (group && !find_group (groupdb, group, &out->gid))
    return group_not_found (group, err);
  if (name)
    member_groups (groupdb, name, out);
  for (size_t i = 0; groups && groups[i]; i++)
    {
      uint32_t gid;
      if (!find_group (groupdb, groups[i], &gid))
        return group_not_found (groups[i], err);
      add_gid (out, gid);
    }
  return 0;
}

int
cove_spec_user_resolve (int rootfd, const char *user, char *const *groups,
                        struct cove_spec_user *out, struct cove_error **err)
{
  memset (out, 0, sizeof *out);
  cleanup_free char *name = xstrdup (user);
  char *group = strchr (name, ':');
  if (group)
    *group++ = '\0';
  if (name[0] == '\0' || (group && group[0] == '\0'))
    return cove_error_set_plain (err, EINVAL, "invalid user `%s`", user);
  if (resolve (rootfd, name, group, groups, out, err) < 0)
    {
      cove_spec_user_free (out);
      return -1;
    }
  return 0;
}

void
cove_spec_user_free (struct cove_spec_user *u)
{
  free (u->gids);
  free (u->home);
  memset (u, 0, sizeof *u);
}

char *
cove_spec_iddb_read (int rootfd, bool group, struct cove_error **err)
{
  return read_db (rootfd, group ? "/etc/group" : "/etc/passwd", err);
}

/* passwd and group lines both have the name in field 1 and the id in
   field 3.  */
char *
cove_spec_iddb_name (const char *db, unsigned int id)
{
  cleanup_free char *copy = xstrdup (db ? db : "");
  char *cur = copy, *line;
  while ((line = next_line (&cur)) != NULL)
    {
      char *f[4];
      uint32_t v;
      if (split_fields (line, ':', f, 4) >= 3 && parse_id (f[2], &v) == 0
          && v == id && f[0][0] != '\0')
        return xstrdup (f[0]);
    }
  return xasprintf ("%u", id);
}
