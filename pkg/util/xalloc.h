/* cove: allocation that cannot fail.  Out of memory aborts: no caller could
   do better, and checking every strdup hides the real error paths.  */
#ifndef COVE_UTIL_XALLOC_H
#define COVE_UTIL_XALLOC_H

#include <stddef.h>

void *xmalloc (size_t size);
void *xmalloc0 (size_t size);
void *xrealloc (void *ptr, size_t size);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
/* asprintf into a new string; caller frees.  */
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* NULL-terminated string vectors.  */
size_t cove_strv_len (char *const *v);
/* Append a copy of S to *V (growing it); *V may be NULL.  */
void cove_strv_append (char ***v, const char *s);
void cove_strv_free (char **v);
char **cove_strv_dup (char *const *v);

#endif
