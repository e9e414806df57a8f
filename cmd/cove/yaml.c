#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/yaml.h"

static void print_value (FILE *out, json_t *v, int indent);

/* Quote strings YAML would read as something else.  */
static void
print_scalar (FILE *out, json_t *v)
{
  if (json_is_string (v))
    {
      const char *s = json_string_value (v);
      bool plain = s[0] != '\0' && strpbrk (s, ":#{}[],&*!|>'\"%@`\n") == NULL
                   && s[0] != ' ' && s[0] != '-' && s[strlen (s) - 1] != ' '
                   && strcmp (s, "true") && strcmp (s, "false")
                   && strcmp (s, "null") && strspn (s, "0123456789.") != strlen (s);
      if (plain)
        fputs (s, out);
      else
        {
          char *q = json_dumps (v, JSON_ENCODE_ANY);
          fputs (q ? q : "\"\"", out);
          free (q);
        }
      return;
    }
  char *s = json_dumps (v, JSON_ENCODE_ANY);
  fputs (s ? s : "null", out);
  free (s);
}

static bool
is_empty_container (json_t *v)
{
  return (json_is_object (v) && json_object_size (v) == 0)
         || (json_is_array (v) && json_array_size (v) == 0);
}

static void
print_object (FILE *out, json_t *obj, int indent, bool first_inline)
{
  const char *key;
  json_t *v;
  bool first = true;
  json_object_foreach (obj, key, v)
    {
      if (!(first && first_inline))
        fprintf (out, "%*s", indent, "");
      first = false;
      fprintf (out, "%s:", key);
      if ((json_is_object (v) || json_is_array (v)) && !is_empty_container (v))
        {
          fputc ('\n', out);
          print_value (out, v, json_is_array (v) ? indent : indent + 2);
        }
      else
        {
          fputc (' ', out);
          if (is_empty_container (v))
            fputs (json_is_object (v) ? "{}" : "[]", out);
          else
            print_scalar (out, v);
          fputc ('\n', out);
        }
    }
}

static void
print_value (FILE *out, json_t *v, int indent)
{
  if (json_is_object (v))
    {
      print_object (out, v, indent, false);
      return;
    }
  size_t i;
  json_t *e;
  json_array_foreach (v, i, e)
    {
      fprintf (out, "%*s- ", indent, "");
      if (json_is_object (e) && json_object_size (e) > 0)
        print_object (out, e, indent + 2, true);
      else
        {
          print_scalar (out, e);
          fputc ('\n', out);
        }
    }
}

void
cove_yaml_print (FILE *out, json_t *doc)
{
  print_value (out, doc, 0);
}
