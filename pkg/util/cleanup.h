/* cove: scope-bound resources, as in crun and fuse-overlayfs.  */
#ifndef COVE_UTIL_CLEANUP_H
#define COVE_UTIL_CLEANUP_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <errno.h>

#include "pkg/util/error.h"

static inline void
cove_cleanup_freep (void *p)
{
  void **pp = (void **) p;
  free (*pp);
}

static inline void
cove_cleanup_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
}

static inline void
cove_cleanup_fclosep (FILE **f)
{
  if (*f)
    fclose (*f);
}

static inline void
cove_cleanup_closedirp (DIR **d)
{
  if (*d)
    closedir (*d);
}

/* Free a NULL-terminated array of strings.  */
static inline void
cove_cleanup_strvp (char ***v)
{
  if (*v)
    {
      for (char **i = *v; *i; i++)
        free (*i);
      free (*v);
    }
}

#define cleanup_free __attribute__ ((cleanup (cove_cleanup_freep)))
#define cleanup_close __attribute__ ((cleanup (cove_cleanup_closep)))
#define cleanup_fclose __attribute__ ((cleanup (cove_cleanup_fclosep)))
#define cleanup_dir __attribute__ ((cleanup (cove_cleanup_closedirp)))
#define cleanup_strv __attribute__ ((cleanup (cove_cleanup_strvp)))
#define cleanup_error __attribute__ ((cleanup (cove_error_release)))

static inline void *
cove_steal_pointer (void *pp)
{
  void **p = (void **) pp;
  void *r = *p;
  *p = NULL;
  return r;
}

static inline int
cove_steal_fd (int *fd)
{
  int r = *fd;
  *fd = -1;
  return r;
}

#define steal_pointer(pp) cove_steal_pointer (pp)
#define steal_fd(fdp) cove_steal_fd (fdp)

#endif
