/* -e and --env-file, for run, create and exec alike.  */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/spec/spec.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

/* An --env-file is the user's own file; bounded all the same.  */
#define ENV_FILE_MAX (16 * 1024 * 1024)

/* One -e or --env-file entry: KEY=VALUE, or KEY alone to pass the caller's
   value through (skipped when the caller has none), as in podman.  */
static int
env_add (char ***out, const char *entry, struct cove_error **err)
{
  if (entry[0] == '\0' || entry[0] == '=')
    return cove_error_set_plain (err, EINVAL, "invalid environment variable "
                                 "`%s`", entry);
  if (strchr (entry, '='))
    cove_strv_append (out, entry);
  else if (getenv (entry))
    {
      cleanup_free char *kv = xasprintf ("%s=%s", entry, getenv (entry));
      cove_strv_append (out, kv);
    }
  return 0;
}

static int
env_file_add (char ***out, const char *path, struct cove_error **err)
{
  cleanup_free char *text = cove_file_read_at (AT_FDCWD, path, ENV_FILE_MAX,
                                               NULL, err);
  if (text == NULL)
    return cove_error_wrap (err, "env file");
  for (char *line = text, *next; line && *line; line = next)
    {
      next = strchr (line, '\n');
      if (next)
        *next++ = '\0';
      size_t len = strlen (line);
      if (len && line[len - 1] == '\r')
        line[--len] = '\0';
      while (*line == ' ' || *line == '\t')
        line++;
      if (*line == '\0' || *line == '#')
        continue;
      if (env_add (out, line, err) < 0)
        return cove_error_wrap (err, "env file `%s`", path);
    }
  return 0;
}

char **
cove_spec_env_collect (char *const *env_files, char *const *env,
                       struct cove_error **err)
{
  char **out = xmalloc0 (sizeof (char *));
  for (size_t i = 0; env_files && env_files[i]; i++)
    if (env_file_add (&out, env_files[i], err) < 0)
      goto fail;
  for (size_t i = 0; env && env[i]; i++)
    if (env_add (&out, env[i], err) < 0)
      goto fail;
  return out;
fail:
  cove_strv_free (out);
  return NULL;
}
