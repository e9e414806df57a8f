/* cove: the store from a command, and the way to cove-full.  */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cove/output.h"
#include "cmd/cove/store.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

int
cove_cmd_store_open (struct cove_storage_paths *out_paths,
                     struct cove_storage **out_s, struct cove_error **err)
{
  if (cove_cmd_enter_userns (err) < 0)
    return -1;
  if (cove_storage_paths_init (out_paths, err) < 0)
    return -1;
  if (cove_storage_open (out_paths, out_s, err) < 0)
    {
      cove_storage_paths_free (out_paths);
      return -1;
    }
  return 0;
}

void
cove_cmd_store_close (struct cove_storage_paths *paths, struct cove_storage *s)
{
  if (s)
    cove_storage_close (s);
  cove_storage_paths_free (paths);
}

char *
cove_cmd_full_binary (void)
{
  char self[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (n > 0)
    {
      self[n] = '\0';
      cleanup_free char *beside = xasprintf ("%s/cove-full", dirname (self));
      if (access (beside, X_OK) == 0)
        return steal_pointer (&beside);
    }
  return xstrdup (COVE_LIBEXECDIR "/cove-full");
}

/* The last line of OUT, trimmed: what `pull -q` prints is the id.  */
static char *
last_line (char *out)
{
  size_t len = strlen (out);
  while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
    out[--len] = '\0';
  char *nl = strrchr (out, '\n');
  return xstrdup (nl ? nl + 1 : out);
}

int
cove_cmd_pull_via_full (const char *reference, char *const *args,
                        char **out_id, int *out_status,
                        struct cove_error **err)
{
  cleanup_free char *full = cove_cmd_full_binary ();
  size_t n = 0;
  while (args && args[n])
    n++;
  cleanup_free char **argv = xmalloc ((n + 4) * sizeof (char *));
  size_t k = 0;
  argv[k++] = full;
  argv[k++] = (char *) "pull";
  for (size_t i = 0; i < n; i++)
    argv[k++] = args[i];
  argv[k++] = (char *) reference;
  argv[k] = NULL;
  int pipefd[2];
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return cove_error_set (err, errno, "pipe");
  pid_t pid = fork ();
  if (pid < 0)
    {
      close (pipefd[0]);
      close (pipefd[1]);
      return cove_error_set (err, errno, "fork");
    }
  if (pid == 0)
    {
      /* Progress goes to our stderr; stdout (the id) to the pipe.  */
      if (dup2 (pipefd[1], 1) < 0)
        _exit (125);
      execv (full, argv);
      _exit (127);
    }
  close (pipefd[1]);
  cleanup_error struct cove_error *rerr = NULL;
  cleanup_free char *out = cove_fd_read_all (pipefd[0], 65536, NULL, &rerr);
  close (pipefd[0]);
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return cove_error_set (err, errno, "wait for `%s`", full);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      /* cove-full printed its own Error: line: no second one.  */
      *out_status = WIFEXITED (status) ? WEXITSTATUS (status) : 125;
      return -1;
    }
  if (out == NULL || out[0] == '\0')
    return cove_error_set (err, EPROTO, "pull `%s` printed no image id", reference);
  *out_id = last_line (out);
  return 0;
}
