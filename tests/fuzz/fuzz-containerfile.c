/* libFuzzer target: Containerfiles and .containerignore files, which come
   with a build context (anyone's repository).  The input is parsed as both;
   what a Containerfile yields is walked and its words expanded as the
   builder will; the ignore patterns are matched against the input's own
   lines as paths.  */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/build/build.h"
#include "pkg/util/xalloc.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char *
lookup (void *ctx, const char *name)
{
  if (strcmp (name, "A") == 0)
    return "apple/pie.tar.gz";
  if (strcmp (name, "E") == 0)
    return "";
  return NULL;
}

static void
expand (const char *word, char escape)
{
  char *out = NULL;
  struct cove_error *err = NULL;
  int r = cove_build_expand (word, lookup, NULL, escape, &out, &err);
  /* Exactly one of a result and an error.  */
  if ((r == 0) != (out != NULL) || (r == 0) == (err != NULL))
    __builtin_trap ();
  free (out);
  cove_error_free (err);
}

static void
walk_instr (const struct cove_build_instr *in, char escape)
{
  if (in->args == NULL || in->original == NULL || in->line == 0
      || cove_build_kind_name (in->kind)[0] == '?')
    __builtin_trap ();
  for (size_t i = 0; i < in->n_heredocs; i++)
    if (in->heredocs[i].name == NULL || in->heredocs[i].body == NULL
        || cove_build_instr_heredoc (in, in->heredocs[i].name) != NULL)
      __builtin_trap ();
  for (size_t i = 0; i < in->n_flags; i++)
    if (cove_build_instr_flag (in, in->flags[i].name) == NULL)
      __builtin_trap ();
  for (size_t i = 0; i < in->n_flags; i++)
    if (in->kind == COVE_BUILD_RUN && strcmp (in->flags[i].name, "mount") == 0)
      {
        struct cove_build_mount m;
        struct cove_error *err = NULL;
        int r = cove_build_mount_parse (in->flags[i].value, lookup, NULL,
                                        escape, &m, &err);
        if ((r == 0) == (err != NULL))
          __builtin_trap ();
        cove_build_mount_clear (&m);
        cove_error_free (err);
      }
  if (in->kind == COVE_BUILD_RUN)
    {
      bool shebang;
      char *cmd = cove_build_run_command (in, &shebang);
      if ((cmd == NULL) != (in->json_form || in->args[0] == NULL))
        __builtin_trap ();
      free (cmd);
    }
  if (!cove_build_kind_expands (in->kind))
    return;
  for (char **a = in->args; *a; a++)
    expand (*a, escape);
  for (size_t i = 0; i < in->n_kvs; i++)
    {
      expand (in->kvs[i].key, escape);
      if (in->kvs[i].value)
        expand (in->kvs[i].value, escape);
    }
}

/* The ARG scoping of every stage, as the builder will run it.  */
static void
scopes (const struct cove_build_file *f)
{
  struct cove_error *err = NULL;
  struct cove_build_vars *g = cove_build_global_vars (f, NULL, NULL, NULL,
                                                      &err);
  if ((g == NULL) == (err == NULL))
    __builtin_trap ();
  cove_error_free (err);
  if (g == NULL)
    return;
  struct cove_build_arg_ctx ac = { .file = f, .globals = g };
  for (size_t i = 0; i < f->n_stages; i++)
    {
      struct cove_build_vars *st = cove_build_vars_new ();
      for (size_t j = 0; j < f->stages[i].n_instrs; j++)
        {
          const struct cove_build_instr *in = &f->stages[i].instrs[j];
          err = NULL;
          if (in->kind == COVE_BUILD_ARG
              && cove_build_vars_apply_arg (st, in, &ac, NULL, NULL, &err) < 0)
            cove_error_free (err);
        }
      char **env = cove_build_vars_environ (st);
      cove_strv_free (env);
      cove_build_vars_free (st);
    }
  cove_build_vars_free (g);
}

static void
containerfile (const char *s, size_t size)
{
  struct cove_error *err = NULL;
  struct cove_build_file *f = cove_build_parse ("Containerfile", s, size,
                                                &err);
  if ((f == NULL) == (err == NULL))
    __builtin_trap ();
  if (f == NULL)
    {
      cove_error_free (err);
      return;
    }
  if (f->n_stages == 0 || f->warnings == NULL
      || (f->escape != '\\' && f->escape != '`'))
    __builtin_trap ();
  for (size_t i = 0; i < f->n_global_args; i++)
    walk_instr (&f->global_args[i], f->escape);
  scopes (f);
  for (size_t i = 0; i < f->n_stages; i++)
    {
      const struct cove_build_stage *st = &f->stages[i];
      if (st->index != i || st->image == NULL)
        __builtin_trap ();
      if (st->name && cove_build_find_stage (f, st->name, f->n_stages) != st)
        __builtin_trap ();
      walk_instr (&st->from, f->escape);
      for (size_t j = 0; j < st->n_instrs; j++)
        walk_instr (&st->instrs[j], f->escape);
    }
  cove_build_file_free (f);
}

static void
ignorefile (const char *s, size_t size)
{
  struct cove_error *err = NULL;
  struct cove_build_ignore *ig = cove_build_ignore_parse (s, size, &err);
  if ((ig == NULL) == (err == NULL))
    __builtin_trap ();
  if (ig == NULL)
    {
      cove_error_free (err);
      return;
    }
  /* The lines themselves as paths (and as directories).  */
  const char *p = s, *end = s + size;
  for (int n = 0; p < end && n < 16; n++)
    {
      const char *nl = memchr (p, '\n', (size_t) (end - p));
      size_t len = nl ? (size_t) (nl - p) : (size_t) (end - p);
      char *path = xstrndup (p, len);
      bool ex = cove_build_ignore_match (ig, path);
      if (ex)
        cove_build_ignore_may_reinclude (ig, path);
      if (n == 0)
        cove_build_ignore_add (ig, path, NULL);
      free (path);
      p += len + 1;
    }
  cove_build_ignore_free (ig);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* The parsers take a length; a copy without a terminator lets ASan
     catch a read past it.  */
  char *s = xmalloc (size);
  memcpy (s, data, size);
  containerfile (s, size);
  ignorefile (s, size);
  free (s);
  return 0;
}
