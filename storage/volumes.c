/* Volumes: records and directories under data_dir/volumes (see
   storage.h for the layout and its crash-safety).  */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"
#include "storage/storage.h"
#include "storage/volumes-copy.h"

#define VOLUME_NAME_MAX 255
#define RECORD_MAX (1024 * 1024)
#define LEFTOVER_AGE 60   /* seconds before a staging dir is a leftover */

bool
cove_storage_volume_name_valid (const char *name)
{
  size_t n = name ? strlen (name) : 0;
  if (n == 0 || n > VOLUME_NAME_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    {
      char c = name[i];
      bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                   || (c >= '0' && c <= '9');
      if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
        return false;
    }
  return true;
}

static char *
volumes_dir (const struct cove_storage_paths *p)
{
  return xasprintf ("%s/volumes", p->data_dir);
}

static char *
volume_path (const struct cove_storage_paths *p, const char *name,
             const char *file)
{
  return file ? xasprintf ("%s/volumes/%s/%s", p->data_dir, name, file)
              : xasprintf ("%s/volumes/%s", p->data_dir, name);
}

static int
not_found (const char *name, struct cove_error **err)
{
  return cove_error_set_plain (err, ENOENT, "no volume with name \"%s\" "
                               "found: no such volume", name);
}

static int
random_hex (char *out, size_t nbytes, struct cove_error **err)
{
  unsigned char raw[32];
  size_t got = 0;
  if (nbytes > sizeof raw)
    nbytes = sizeof raw;
  while (got < nbytes)
    {
      ssize_t n = getrandom (raw + got, nbytes - got, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return cove_error_set (err, errno, "getrandom");
      got += n;
    }
  for (size_t i = 0; i < nbytes; i++)
    snprintf (out + 2 * i, 3, "%02x", raw[i]);
  return 0;
}

/* RFC 3339 with nanoseconds in local time, as Go marshals a time.Time.  */
static char *
rfc3339_ns (const struct timespec *ts)
{
  struct tm tm;
  time_t t = ts->tv_sec;
  localtime_r (&t, &tm);
  char date[32], zone[48];
  strftime (date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  long off = tm.tm_gmtoff;
  if (off == 0)
    snprintf (zone, sizeof zone, "Z");
  else
    snprintf (zone, sizeof zone, "%c%02ld:%02ld", off < 0 ? '-' : '+',
              labs (off) / 3600, labs (off) % 3600 / 60);
  return xasprintf ("%s.%09ld%s", date, (long) ts->tv_nsec, zone);
}

static json_t *
record_json (const struct cove_storage_volume *v)
{
  return json_pack ("{s:s, s:s, s:s, s:s, s:I, s:O, s:O, s:s, s:b, s:b}",
                    "Name", v->name, "Driver", "local",
                    "Mountpoint", v->mountpoint, "CreatedAt", v->created_at,
                    "Created", (json_int_t) v->created, "Labels", v->labels,
                    "Options", v->options, "Scope", "local",
                    "Anonymous", v->anonymous, "NeedsCopyUp", v->needs_copy_up);
}

/* Write V's record into the volume directory DIR, atomically and
   durably: a volume outlives a reboot.  */
static int
record_write (const char *dir, const struct cove_storage_volume *v,
              struct cove_error **err)
{
  json_t *j = record_json (v);
  cleanup_free char *text = json_dumps (j, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  json_decref (j);
  if (text == NULL)
    return cove_error_set (err, ENOMEM, "serialise volume record");
  cleanup_free char *path = xasprintf ("%s/volume.json", dir);
  return cove_file_write_atomic (path, text, strlen (text), 0600,
                                 COVE_FILE_SYNC, err);
}

void
cove_storage_volume_free (struct cove_storage_volume *v)
{
  if (v == NULL)
    return;
  free (v->name);
  free (v->mountpoint);
  free (v->created_at);
  json_decref (v->labels);
  json_decref (v->options);
  memset (v, 0, sizeof *v);
}

void
cove_storage_volume_list_free (struct cove_storage_volume *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    cove_storage_volume_free (&v[i]);
  free (v);
}

/* An object of strings from "KEY=VALUE" strings (a bare KEY: ""); NULL
   with EINVAL for an empty key or text that is not UTF-8.  */
static json_t *
labels_object (char *const *labels, struct cove_error **err)
{
  json_t *o = json_object ();
  for (size_t i = 0; labels && labels[i]; i++)
    {
      const char *eq = strchr (labels[i], '=');
      cleanup_free char *key = eq ? xstrndup (labels[i], eq - labels[i])
                                  : xstrdup (labels[i]);
      /* json_object_set_new takes VALUE even when it fails.  */
      json_t *value = key[0] ? json_string (eq ? eq + 1 : "") : NULL;
      if (value == NULL || json_object_set_new (o, key, value) < 0)
        {
          json_decref (o);
          cove_error_set (err, EINVAL, "invalid label `%s`", labels[i]);
          return NULL;
        }
    }
  return o;
}

/* Make the staging directory of a new volume: volume.json and _data.  */
static int
stage (const char *dir, const struct cove_storage_volume *v,
       struct cove_error **err)
{
  cleanup_free char *data = xasprintf ("%s/_data", dir);
  if (mkdir (data, 0755) < 0)
    return cove_error_set (err, errno, "create `%s`", data);
  /* The umask must not make the volume unreadable to the container.  */
  if (chmod (data, 0755) < 0)
    return cove_error_set (err, errno, "chmod `%s`", data);
  return record_write (dir, v, err);
}

/* Rename the staged volume into place, refusing to replace anything.  */
static int
publish (const char *staged, const char *final, const char *name,
         struct cove_error **err)
{
  int r = renameat2 (AT_FDCWD, staged, AT_FDCWD, final, RENAME_NOREPLACE);
  if (r < 0 && errno == EINVAL)
    /* A filesystem without RENAME_NOREPLACE: a directory is not renamed
       over a non-empty one, and every volume holds its record.  */
    r = rename (staged, final);
  if (r == 0)
    return 0;
  if (errno == EEXIST || errno == ENOTEMPTY)
    return cove_error_set_plain (err, EEXIST, "volume with name %s already "
                                 "exists: volume already exists", name);
  return cove_error_set (err, errno, "rename `%s` to `%s`", staged, final);
}

static int
fill_new (const struct cove_storage_paths *p, const char *name,
          char *const *labels, bool anonymous, struct cove_storage_volume *v,
          struct cove_error **err)
{
  v->labels = labels_object (labels, err);
  if (v->labels == NULL)
    return -1;
  struct timespec now;
  clock_gettime (CLOCK_REALTIME, &now);
  v->name = xstrdup (name);
  v->mountpoint = volume_path (p, name, "_data");
  v->created_at = rfc3339_ns (&now);
  v->created = (int64_t) now.tv_sec * 1000000000 + now.tv_nsec;
  v->options = json_object ();
  v->anonymous = anonymous;
  v->needs_copy_up = true;
  return 0;
}

/* Stage V and rename it into place.  */
static int
create_staged (const struct cove_storage_paths *p,
               const struct cove_storage_volume *v, struct cove_error **err)
{
  cleanup_free char *dir = volumes_dir (p);
  if (cove_mkdir_p (dir, 0700, err) < 0)
    return -1;
  cleanup_free char *staged = xasprintf ("%s/.new-XXXXXX", dir);
  if (mkdtemp (staged) == NULL)
    return cove_error_set (err, errno, "create `%s`", staged);
  cleanup_free char *final = volume_path (p, v->name, NULL);
  int r = stage (staged, v, err);
  if (r == 0)
    r = publish (staged, final, v->name, err);
  if (r < 0)
    cove_rm_rf (staged, NULL);
  return r;
}

int
cove_storage_volume_create (const struct cove_storage_paths *p,
                            const char *name, char *const *labels,
                            bool anonymous, struct cove_storage_volume *out,
                            struct cove_error **err)
{
  char random_name[65];
  if (name == NULL)
    {
      if (random_hex (random_name, 32, err) < 0)
        return -1;
      name = random_name;
    }
  if (!cove_storage_volume_name_valid (name))
    return cove_error_set_plain (err, EINVAL, "running volume create option: "
                                 "names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: "
                                 "invalid argument");
  struct cove_storage_volume v = { 0 };
  if (fill_new (p, name, labels, anonymous, &v, err) < 0)
    return -1;
  int r = create_staged (p, &v, err);
  if (r == 0 && out)
    *out = v;
  else
    cove_storage_volume_free (&v);
  return r;
}

static const char *
str_field (json_t *j, const char *key)
{
  return json_string_value (json_object_get (j, key));
}

/* Parse a record (local, but possibly truncated or edited by hand:
   every field is type-checked).  */
static int
record_parse (const struct cove_storage_paths *p, const char *name,
              const char *text, struct cove_storage_volume *out,
              struct cove_error **err)
{
  json_error_t jerr;
  json_t *j = json_loads (text, 0, &jerr);
  if (!json_is_object (j) || !json_is_string (json_object_get (j, "Name"))
      || strcmp (str_field (j, "Name"), name) != 0)
    {
      json_decref (j);
      return cove_error_set (err, EINVAL, "volume `%s`: corrupt record", name);
    }
  json_t *labels = json_object_get (j, "Labels");
  json_t *options = json_object_get (j, "Options");
  json_t *created = json_object_get (j, "Created");
  memset (out, 0, sizeof *out);
  out->name = xstrdup (name);
  out->mountpoint = volume_path (p, name, "_data");
  out->created_at = xstrdup (str_field (j, "CreatedAt") ?: "");
  out->created = json_is_integer (created) ? json_integer_value (created) : 0;
  out->labels = json_is_object (labels) ? json_incref (labels) : json_object ();
  out->options = json_is_object (options) ? json_incref (options) : json_object ();
  out->anonymous = json_is_true (json_object_get (j, "Anonymous"));
  out->needs_copy_up = json_is_true (json_object_get (j, "NeedsCopyUp"));
  json_decref (j);
  return 0;
}

int
cove_storage_volume_load (const struct cove_storage_paths *p,
                          const char *name, struct cove_storage_volume *out,
                          struct cove_error **err)
{
  memset (out, 0, sizeof *out);
  if (!cove_storage_volume_name_valid (name))
    return not_found (name, err);
  cleanup_free char *path = volume_path (p, name, "volume.json");
  cleanup_error struct cove_error *local = NULL;
  cleanup_free char *text = cove_file_read_at (AT_FDCWD, path, RECORD_MAX,
                                               NULL, &local);
  if (text == NULL)
    {
      if (local->errnum == ENOENT || local->errnum == ENOTDIR)
        return not_found (name, err);
      *err = steal_pointer (&local);
      return -1;
    }
  return record_parse (p, name, text, out, err);
}

/* A staging directory whose owner is long gone: a crash's leftover.  */
static void
sweep (int dfd, const char *dir, const char *name)
{
  struct stat st;
  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0
      || time (NULL) - st.st_mtime < LEFTOVER_AGE)
    return;
  cleanup_free char *path = xasprintf ("%s/%s", dir, name);
  cove_rm_rf (path, NULL);
}

static int
by_name (const void *a, const void *b)
{
  const struct cove_storage_volume *x = a, *y = b;
  return strcmp (x->name, y->name);
}

int
cove_storage_volume_list (const struct cove_storage_paths *p,
                          struct cove_storage_volume **out, size_t *out_n,
                          char ***out_warnings, struct cove_error **err)
{
  *out = NULL;
  *out_n = 0;
  if (out_warnings)
    *out_warnings = xmalloc0 (sizeof (char *));
  cleanup_free char *dir = volumes_dir (p);
  cleanup_dir DIR *d = opendir (dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : cove_error_set (err, errno, "open `%s`", dir);
  struct cove_storage_volume *v = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir (d)))
    {
      if (e->d_name[0] == '.')
        {
          if (strncmp (e->d_name, ".new-", 5) == 0
              || strncmp (e->d_name, ".rm-", 4) == 0)
            sweep (dirfd (d), dir, e->d_name);
          continue;
        }
      v = xrealloc (v, (n + 1) * sizeof *v);
      cleanup_error struct cove_error *local = NULL;
      if (cove_storage_volume_load (p, e->d_name, &v[n], &local) == 0)
        n++;
      else if (out_warnings)
        {
          cleanup_free char *w = xasprintf ("%s/%s/volume.json: %s", dir,
                                            e->d_name, local->msg);
          cove_strv_append (out_warnings, w);
        }
    }
  if (n)
    qsort (v, n, sizeof *v, by_name);
  *out = v;
  *out_n = n;
  return 0;
}

int
cove_storage_volume_remove (const struct cove_storage_paths *p,
                            const char *name, struct cove_error **err)
{
  if (!cove_storage_volume_name_valid (name))
    return not_found (name, err);
  char suffix[17];
  if (random_hex (suffix, 8, err) < 0)
    return -1;
  cleanup_free char *path = volume_path (p, name, NULL);
  cleanup_free char *aside = xasprintf ("%s/volumes/.rm-%s-%s", p->data_dir,
                                        name, suffix);
  if (rename (path, aside) < 0)
    return errno == ENOENT ? not_found (name, err)
                           : cove_error_set (err, errno, "remove volume `%s`", name);
  if (cove_rm_rf (aside, err) < 0)
    return cove_error_wrap (err, "remove volume `%s`", name);
  return 0;
}

/* Under the volume's lock: copy in when still needed.  */
static int
copy_up_locked (const struct cove_storage_paths *p, const char *name,
                const char *rootfs, const char *path, struct cove_error **err)
{
  struct cove_storage_volume v;
  if (cove_storage_volume_load (p, name, &v, err) < 0)
    return -1;
  int r = 0;
  if (v.needs_copy_up)
    {
      r = storage_volume_copy_tree (rootfs, path, v.mountpoint, err);
      if (r == 0)
        {
          v.needs_copy_up = false;
          cleanup_free char *dir = volume_path (p, name, NULL);
          r = record_write (dir, &v, err);
        }
      if (r < 0)
        cove_error_wrap (err, "copy `%s` of the image into volume `%s`",
                         path, name);
    }
  cove_storage_volume_free (&v);
  return r;
}

int
cove_storage_volume_copy_up (const struct cove_storage_paths *p,
                             const char *name, const char *rootfs,
                             const char *path, struct cove_error **err)
{
  if (!cove_storage_volume_name_valid (name))
    return not_found (name, err);
  cleanup_free char *dir = volume_path (p, name, NULL);
  cleanup_close int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? not_found (name, err)
                           : cove_error_set (err, errno, "open `%s`", dir);
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return cove_error_set (err, errno, "lock volume `%s`", name);
  return copy_up_locked (p, name, rootfs, path, err);
}
