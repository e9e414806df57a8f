/* cove state: a container record to and from JSON.  state.json is local
   but may be truncated or corrupt (a disk full, an edit by hand): every
   field is type-checked and the id and name, which become path
   components, are validated.  */
#include <string.h>

#include "pkg/state/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

static const char *const status_words[] = {
  [COVE_STATE_CONFIGURED] = "configured",
  [COVE_STATE_CREATED] = "created",
  [COVE_STATE_RUNNING] = "running",
  [COVE_STATE_PAUSED] = "paused",
  [COVE_STATE_STOPPED] = "stopped",
  [COVE_STATE_EXITED] = "exited",
  [COVE_STATE_REMOVING] = "removing",
};

#define N_STATUS (sizeof status_words / sizeof status_words[0])

const char *
cove_state_status_string (enum cove_state_status s)
{
  return (unsigned) s < N_STATUS ? status_words[s] : "unknown";
}

int
cove_state_status_parse (const char *s, enum cove_state_status *out,
                         struct cove_error **err)
{
  for (size_t i = 0; i < N_STATUS; i++)
    if (strcmp (s, status_words[i]) == 0)
      {
        *out = (enum cove_state_status) i;
        return 0;
      }
  return cove_error_set (err, EINVAL, "unknown container state `%s`", s);
}

bool
cove_state_name_valid (const char *name)
{
  size_t n = strlen (name);
  if (n == 0 || n > COVE_STATE_NAME_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    {
      char ch = name[i];
      bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
                   || (ch >= '0' && ch <= '9');
      if (!alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-')))
        return false;
    }
  return true;
}

bool
cove_state_id_valid (const char *id)
{
  size_t n = strlen (id);
  return n == COVE_STATE_ID_LEN && strspn (id, "0123456789abcdef") == n;
}

void
cove_state_container_free (struct cove_state_container *c)
{
  free (c->id);
  free (c->name);
  free (c->image_id);
  free (c->image_name);
  free (c->rootfs);
  cove_strv_free (c->labels);
  if (c->extra)
    json_decref (c->extra);
  memset (c, 0, sizeof *c);
}

void
cove_state_container_list_free (struct cove_state_container *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    cove_state_container_free (&v[i]);
  free (v);
}

static void
set_str (json_t *o, const char *key, const char *v)
{
  if (v)
    json_object_set_new (o, key, json_string (v));
}

char *
cove_state_container_dump (const struct cove_state_container *c)
{
  json_t *o = json_object ();
  set_str (o, "id", c->id);
  set_str (o, "name", c->name);
  json_object_set_new (o, "created", json_integer (c->created));
  set_str (o, "image_id", c->image_id);
  set_str (o, "image_name", c->image_name);
  set_str (o, "rootfs", c->rootfs);
  json_object_set_new (o, "state", json_string (cove_state_status_string (c->state)));
  json_object_set_new (o, "pid", json_integer (c->pid));
  json_object_set_new (o, "pid_start", json_integer ((json_int_t) c->pid_start));
  json_object_set_new (o, "monitor_pid", json_integer (c->monitor_pid));
  json_object_set_new (o, "monitor_start", json_integer ((json_int_t) c->monitor_start));
  json_object_set_new (o, "exit_code", json_integer (c->exit_code));
  json_object_set_new (o, "started_at", json_integer (c->started_at));
  json_object_set_new (o, "finished_at", json_integer (c->finished_at));
  json_object_set_new (o, "oom_killed", json_boolean (c->oom_killed));
  if (c->auto_remove)
    json_object_set_new (o, "auto_remove", json_true ());
  json_object_set_new (o, "restart_count", json_integer (c->restart_count));
  json_t *labels = json_object ();
  for (char **l = c->labels; l && *l; l++)
    {
      const char *eq = strchr (*l, '=');
      cleanup_free char *k = eq ? xstrndup (*l, (size_t) (eq - *l)) : xstrdup (*l);
      json_object_set_new (labels, k, json_string (eq ? eq + 1 : ""));
    }
  json_object_set_new (o, "labels", labels);
  json_object_set_new (o, "extra", c->extra ? json_incref (c->extra) : json_object ());
  char *s = json_dumps (o, JSON_COMPACT);
  json_decref (o);
  return s;
}

/* Optional string field KEY: absent or null leaves *OUT NULL.  */
static int
get_str (json_t *o, const char *key, char **out, struct cove_error **err)
{
  json_t *v = json_object_get (o, key);
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_string (v))
    return cove_error_set (err, EINVAL, "`%s` is not a string", key);
  *out = xstrdup (json_string_value (v));
  return 0;
}

/* Optional integer field KEY in [MIN, MAX]; absent leaves *OUT 0.  */
static int
get_int (json_t *o, const char *key, json_int_t min, json_int_t max,
         json_int_t *out, struct cove_error **err)
{
  json_t *v = json_object_get (o, key);
  *out = 0;
  if (v == NULL)
    return 0;
  if (!json_is_integer (v) || json_integer_value (v) < min
      || json_integer_value (v) > max)
    return cove_error_set (err, EINVAL, "`%s` is not an integer in range", key);
  *out = json_integer_value (v);
  return 0;
}

static int
parse_labels (json_t *o, struct cove_state_container *c, struct cove_error **err)
{
  json_t *labels = json_object_get (o, "labels");
  if (labels == NULL || json_is_null (labels))
    return 0;
  if (!json_is_object (labels))
    return cove_error_set (err, EINVAL, "`labels` is not an object");
  const char *k;
  json_t *v;
  json_object_foreach (labels, k, v)
    {
      if (!json_is_string (v))
        return cove_error_set (err, EINVAL, "label `%s` is not a string", k);
      cleanup_free char *kv = xasprintf ("%s=%s", k, json_string_value (v));
      cove_strv_append (&c->labels, kv);
    }
  return 0;
}

static int
parse_ints (json_t *o, struct cove_state_container *c, struct cove_error **err)
{
  json_int_t v[10];
  if (get_int (o, "created", 0, INT64_MAX, &v[0], err) < 0
      || get_int (o, "pid", 0, INT32_MAX, &v[1], err) < 0
      || get_int (o, "pid_start", 0, INT64_MAX, &v[2], err) < 0
      || get_int (o, "monitor_pid", 0, INT32_MAX, &v[3], err) < 0
      || get_int (o, "monitor_start", 0, INT64_MAX, &v[4], err) < 0
      || get_int (o, "exit_code", INT32_MIN, INT32_MAX, &v[5], err) < 0
      || get_int (o, "started_at", 0, INT64_MAX, &v[6], err) < 0
      || get_int (o, "finished_at", 0, INT64_MAX, &v[7], err) < 0
      || get_int (o, "restart_count", 0, UINT32_MAX, &v[8], err) < 0)
    return -1;
  c->created = v[0];
  c->pid = (pid_t) v[1];
  c->pid_start = (uint64_t) v[2];
  c->monitor_pid = (pid_t) v[3];
  c->monitor_start = (uint64_t) v[4];
  c->exit_code = (int) v[5];
  c->started_at = v[6];
  c->finished_at = v[7];
  c->restart_count = (unsigned) v[8];
  json_t *oom = json_object_get (o, "oom_killed");
  if (oom && !json_is_boolean (oom))
    return cove_error_set (err, EINVAL, "`oom_killed` is not a boolean");
  c->oom_killed = oom && json_is_true (oom);
  json_t *ar = json_object_get (o, "auto_remove");
  if (ar && !json_is_boolean (ar))
    return cove_error_set (err, EINVAL, "`auto_remove` is not a boolean");
  c->auto_remove = ar && json_is_true (ar);
  return 0;
}

static int
parse_object (json_t *o, struct cove_state_container *c, struct cove_error **err)
{
  cleanup_free char *state = NULL;
  if (get_str (o, "id", &c->id, err) < 0 || get_str (o, "name", &c->name, err) < 0
      || get_str (o, "image_id", &c->image_id, err) < 0
      || get_str (o, "image_name", &c->image_name, err) < 0
      || get_str (o, "rootfs", &c->rootfs, err) < 0
      || get_str (o, "state", &state, err) < 0)
    return -1;
  if (c->id == NULL || !cove_state_id_valid (c->id))
    return cove_error_set (err, EINVAL, "missing or invalid `id`");
  if (c->name && !cove_state_name_valid (c->name))
    return cove_error_set (err, EINVAL, "invalid `name`");
  if (state == NULL)
    return cove_error_set (err, EINVAL, "missing `state`");
  if (cove_state_status_parse (state, &c->state, err) < 0
      || parse_ints (o, c, err) < 0 || parse_labels (o, c, err) < 0)
    return -1;
  json_t *extra = json_object_get (o, "extra");
  if (extra && !json_is_object (extra))
    return cove_error_set (err, EINVAL, "`extra` is not an object");
  c->extra = extra ? json_incref (extra) : json_object ();
  return 0;
}

int
cove_state_container_parse (const char *data, size_t len,
                            struct cove_state_container *out,
                            struct cove_error **err)
{
  json_error_t jerr;
  memset (out, 0, sizeof *out);
  json_t *o = json_loadb (data, len, JSON_REJECT_DUPLICATES, &jerr);
  if (o == NULL)
    return cove_error_set (err, EINVAL, "invalid JSON at line %d: %s",
                           jerr.line, jerr.text);
  int r = 0;
  if (!json_is_object (o))
    r = cove_error_set (err, EINVAL, "not a JSON object");
  else
    r = parse_object (o, out, err);
  json_decref (o);
  if (r < 0)
    cove_state_container_free (out);
  return r;
}
