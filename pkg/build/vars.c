/* cove: build variables and docker's ARG scoping: global ARGs (before the
   first FROM) are visible in FROM lines only; inside a stage an ARG of the
   same name, without a default, brings the global value in; a --build-arg
   overrides any default.  */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/build/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

struct cove_build_vars
{
  char **names;
  char **values;
  size_t n, cap;
};

struct cove_build_vars *
cove_build_vars_new (void)
{
  return xmalloc0 (sizeof (struct cove_build_vars));
}

void
cove_build_vars_free (struct cove_build_vars *v)
{
  if (v == NULL)
    return;
  for (size_t i = 0; i < v->n; i++)
    {
      free (v->names[i]);
      free (v->values[i]);
    }
  free (v->names);
  free (v->values);
  free (v);
}

struct cove_build_vars *
cove_build_vars_dup (const struct cove_build_vars *v)
{
  struct cove_build_vars *d = cove_build_vars_new ();
  for (size_t i = 0; v && i < v->n; i++)
    cove_build_vars_set (d, v->names[i], v->values[i]);
  return d;
}

void
cove_build_vars_set (struct cove_build_vars *v, const char *name,
                     const char *value)
{
  for (size_t i = 0; i < v->n; i++)
    if (strcmp (v->names[i], name) == 0)
      {
        char *copy = xstrdup (value);
        free (v->values[i]);
        v->values[i] = copy;
        return;
      }
  if (v->n == v->cap)
    {
      v->cap = v->cap ? 2 * v->cap : 8;
      v->names = xrealloc (v->names, v->cap * sizeof *v->names);
      v->values = xrealloc (v->values, v->cap * sizeof *v->values);
    }
  v->names[v->n] = xstrdup (name);
  v->values[v->n++] = xstrdup (value);
}

const char *
cove_build_vars_get (const struct cove_build_vars *v, const char *name)
{
  for (size_t i = 0; v && i < v->n; i++)
    if (strcmp (v->names[i], name) == 0)
      return v->values[i];
  return NULL;
}

const char *
cove_build_vars_lookup (void *ctx, const char *name)
{
  return cove_build_vars_get (ctx, name);
}

char **
cove_build_vars_environ (const struct cove_build_vars *v)
{
  char **env = xmalloc0 (sizeof (char *));
  for (size_t i = 0; i < v->n; i++)
    {
      cleanup_free char *kv = xasprintf ("%s=%s", v->names[i], v->values[i]);
      cove_strv_append (&env, kv);
    }
  return env;
}

void
cove_build_vars_set_platform (struct cove_build_vars *v, const char *prefix,
                              const char *os, const char *arch,
                              const char *variant)
{
  bool has_variant = variant && *variant;
  cleanup_free char *platform = xasprintf ("%s/%s%s%s", os, arch,
                                           has_variant ? "/" : "",
                                           has_variant ? variant : "");
  static const char *const names[] = { "PLATFORM", "OS", "ARCH", "VARIANT" };
  const char *values[] = { platform, os, arch, has_variant ? variant : "" };
  for (size_t i = 0; i < 4; i++)
    {
      cleanup_free char *name = xasprintf ("%s%s", prefix, names[i]);
      cove_build_vars_set (v, name, values[i]);
    }
}

/* The value of the pair KV of an ARG: its --build-arg, else its default
   expanded with LOOKUP, else INHERITED (may be NULL).  *OUT NULL: unset.  */
static int
arg_value (const struct cove_build_kv *kv, cove_build_lookup_fn build_args,
           void *build_ctx, const struct expand_opts *o, const char *inherited,
           char **out, struct cove_error **err)
{
  const char *given = build_args ? build_args (build_ctx, kv->key) : NULL;
  *out = NULL;
  if (given)
    *out = xstrdup (given);
  else if (kv->value)
    return bld_expand_word (kv->value, o, out, NULL, err);
  else if (inherited)
    *out = xstrdup (inherited);
  return 0;
}

struct cove_build_vars *
cove_build_global_vars (const struct cove_build_file *file,
                        const struct cove_build_vars *predefined,
                        cove_build_lookup_fn build_args, void *ctx,
                        struct cove_error **err)
{
  struct cove_build_vars *v = cove_build_vars_dup (predefined);
  struct expand_opts o = { .lookup = cove_build_vars_lookup, .ctx = v,
                           .escape = file->escape };
  for (size_t i = 0; i < file->n_global_args; i++)
    {
      const struct cove_build_instr *in = &file->global_args[i];
      for (size_t j = 0; j < in->n_kvs; j++)
        {
          cleanup_free char *value = NULL;
          if (arg_value (&in->kvs[j], build_args, ctx, &o, NULL, &value,
                         err) < 0)
            {
              cove_error_wrap (err, "%s:%zu: ARG", file->name, in->line);
              cove_build_vars_free (v);
              return NULL;
            }
          if (value)
            cove_build_vars_set (v, in->kvs[j].key, value);
        }
    }
  return v;
}

int
cove_build_vars_apply_arg (struct cove_build_vars *args,
                           const struct cove_build_instr *instr,
                           const struct cove_build_arg_ctx *ac,
                           cove_build_lookup_fn lookup, void *lookup_ctx,
                           struct cove_error **err)
{
  struct expand_opts o = { .lookup = lookup ? lookup : cove_build_vars_lookup,
                           .ctx = lookup ? lookup_ctx : args,
                           .escape = ac->file->escape };
  for (size_t j = 0; j < instr->n_kvs; j++)
    {
      const struct cove_build_kv *kv = &instr->kvs[j];
      cleanup_free char *value = NULL;
      if (arg_value (kv, ac->build_args, ac->build_args_ctx, &o,
                     cove_build_vars_get (ac->globals, kv->key), &value,
                     err) < 0)
        return cove_error_wrap (err, "%s:%zu: ARG", ac->file->name,
                                instr->line);
      if (value)
        cove_build_vars_set (args, kv->key, value);
    }
  return 0;
}
