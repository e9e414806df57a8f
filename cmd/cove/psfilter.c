/* cove ps: status strings, times as Go prints them, and --filter.  The
   filter values come from the user's command line; the records are the
   user's own files (pkg/state validated them).  */
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cove/human.h"
#include "cmd/cove/imgutil.h"
#include "cmd/cove/ps.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

#define NS_PER_S 1000000000LL
/* Go's zero time.Time (0001-01-01T00:00:00Z) as Unix seconds.  */
#define GO_ZERO_UNIX (-62135596800LL)

const char *
cove_ps_state_word (enum cove_state_status s)
{
  switch (s)
    {
    case COVE_STATE_CONFIGURED:
    case COVE_STATE_CREATED:
      return "created";
    case COVE_STATE_RUNNING:
      return "running";
    case COVE_STATE_PAUSED:
      return "paused";
    case COVE_STATE_STOPPED:
    case COVE_STATE_EXITED:
      return "exited";
    case COVE_STATE_REMOVING:
      return "removing";
    }
  return "unknown";
}

void
cove_ps_view_of (const struct cove_state_container *c,
                 enum cove_state_status eff, bool monitor_alive,
                 struct cove_ps_view *out)
{
  out->state = eff;
  out->pid = c->pid;
  out->exit_code = c->exit_code;
  out->finished_at = c->finished_at;
  if (eff == c->state)
    return;
  /* Running by the record, dead in fact.  */
  out->pid = 0;
  if (!monitor_alive)
    out->exit_code = 137;
  if (out->finished_at < c->started_at)
    {
      struct timespec ts;
      clock_gettime (CLOCK_REALTIME, &ts);
      out->finished_at = (int64_t) ts.tv_sec * NS_PER_S + ts.tv_nsec;
    }
}

char *
cove_ps_status_string (const struct cove_state_container *c,
                       const struct cove_ps_view *v, time_t now)
{
  switch (v->state)
    {
    case COVE_STATE_RUNNING:
      {
        cleanup_free char *since = cove_human_since ((time_t) (c->started_at / NS_PER_S), now);
        return xasprintf ("Up %s", since);
      }
    case COVE_STATE_STOPPED:
    case COVE_STATE_EXITED:
      {
        cleanup_free char *since = cove_human_since ((time_t) (v->finished_at / NS_PER_S), now);
        return xasprintf ("Exited (%d) %s", v->exit_code, since);
      }
    default:
      {
        /* podman capitalises the state word (strings.Title).  */
        char *s = xstrdup (cove_ps_state_word (v->state));
        s[0] = (char) (s[0] - 'a' + 'A');
        return s;
      }
    }
}

char *
cove_ps_command_string (json_t *command, bool no_trunc)
{
  size_t len = 0, i;
  json_t *a;
  json_array_foreach (command, i, a)
    len += strlen (json_string_value (a) ?: "") + 1;
  char *s = xmalloc (len + 1), *p = s;
  json_array_foreach (command, i, a)
    {
      const char *w = json_string_value (a) ?: "";
      if (i)
        *p++ = ' ';
      size_t n = strlen (w);
      memcpy (p, w, n);
      p += n;
    }
  *p = '\0';
  /* podman cuts bytes, not characters: so do we.  */
  if (!no_trunc && p - s > 17)
    memcpy (s + 17, "...", sizeof "...");
  return s;
}

json_t *
cove_ps_labels_json (const struct cove_state_container *c)
{
  json_t *o = json_object ();
  for (char **l = c->labels; l && *l; l++)
    {
      const char *eq = strchr (*l, '=');
      cleanup_free char *k = eq ? xstrndup (*l, (size_t) (eq - *l)) : xstrdup (*l);
      json_object_set_new (o, k, json_string (eq ? eq + 1 : ""));
    }
  return o;
}

/* ".246169395" with Go's trailing zeros trimmed, "" for whole seconds.  */
static void
fraction (char *buf, size_t size, long nsec)
{
  buf[0] = '\0';
  if (nsec == 0)
    return;
  snprintf (buf, size, ".%09ld", nsec);
  size_t n = strlen (buf);
  while (buf[n - 1] == '0')
    buf[--n] = '\0';
}

char *
cove_ps_go_time_ns (int64_t ns)
{
  time_t t = (time_t) (ns / NS_PER_S);
  struct tm tm;
  localtime_r (&t, &tm);
  char date[32], zone[32], frac[16];
  strftime (date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
  strftime (zone, sizeof zone, "%z %Z", &tm);
  fraction (frac, sizeof frac, (long) (ns % NS_PER_S));
  return xasprintf ("%s%s %s", date, frac, zone);
}

char *
cove_ps_rfc3339_ns (int64_t ns)
{
  if (ns == 0)
    return xstrdup ("0001-01-01T00:00:00Z");
  time_t t = (time_t) (ns / NS_PER_S);
  struct tm tm;
  localtime_r (&t, &tm);
  char date[32], frac[16], off[32] = "Z";
  strftime (date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  fraction (frac, sizeof frac, (long) (ns % NS_PER_S));
  if (tm.tm_gmtoff != 0)
    {
      long m = tm.tm_gmtoff / 60;
      snprintf (off, sizeof off, "%c%02ld:%02ld", m < 0 ? '-' : '+',
                labs (m) / 60, labs (m) % 60);
    }
  return xasprintf ("%s%s%s", date, frac, off);
}

int64_t
cove_ps_unix_or_zero (int64_t ns)
{
  return ns == 0 ? GO_ZERO_UNIX : ns / NS_PER_S;
}

/* ---- --filter ---- */

enum filter_key
{
  F_ID, F_NAME, F_LABEL, F_ANCESTOR, F_STATUS, F_EXITED, F_SINCE, F_BEFORE,
  F_POD, F_COUNT,
};

static const char *const key_names[F_COUNT] = {
  [F_ID] = "id", [F_NAME] = "name", [F_LABEL] = "label",
  [F_ANCESTOR] = "ancestor", [F_STATUS] = "status", [F_EXITED] = "exited",
  [F_SINCE] = "since", [F_BEFORE] = "before", [F_POD] = "pod",
};

struct filter_item
{
  enum filter_key key;
  char *value;
  regex_t re;                   /* id, name */
  bool has_re;
  long long number;             /* exited: the code; since/before: created */
};

struct cove_ps_filter
{
  struct filter_item *items;
  size_t n;
  bool has[F_COUNT];
};

void
cove_ps_filter_free (struct cove_ps_filter *f)
{
  if (f == NULL)
    return;
  for (size_t i = 0; i < f->n; i++)
    {
      if (f->items[i].has_re)
        regfree (&f->items[i].re);
      free (f->items[i].value);
    }
  free (f->items);
  free (f);
}

static const char *const status_words[] = {
  "created", "running", "paused", "exited", "stopped", "removing",
  "configured", "initialized", "stopping", "unknown", NULL,
};

/* since= and before=: the creation time of the container named V.  */
static int
container_created (const char *v, const struct cove_state_container *all,
                   size_t n, long long *out, struct cove_error **err)
{
  const struct cove_state_container *hit = NULL;
  for (size_t i = 0; i < n && hit == NULL; i++)
    if (strcmp (all[i].id, v) == 0 || (all[i].name && strcmp (all[i].name, v) == 0))
      hit = &all[i];
  for (size_t i = 0; i < n && hit == NULL && v[0]; i++)
    if (strncmp (all[i].id, v, strlen (v)) == 0)
      hit = &all[i];
  if (hit == NULL)
    return cove_error_set_plain (err, ENOENT, "no container with name or ID "
                                 "\"%s\" found: no such container", v);
  *out = hit->created;
  return 0;
}

static int
parse_value (struct filter_item *it, const struct cove_state_container *all,
             size_t n, struct cove_error **err)
{
  switch (it->key)
    {
    case F_ID:
    case F_NAME:
      {
        int r = regcomp (&it->re, it->value, REG_EXTENDED | REG_NOSUB);
        if (r != 0)
          {
            char why[128];
            regerror (r, &it->re, why, sizeof why);
            return cove_error_set_plain (err, EINVAL, "invalid regular expression "
                                         "`%s`: %s", it->value, why);
          }
        it->has_re = true;
        return 0;
      }
    case F_STATUS:
      for (size_t i = 0; status_words[i]; i++)
        if (strcmp (it->value, status_words[i]) == 0)
          return 0;
      return cove_error_set_plain (err, EINVAL, "unknown container state: %s: "
                                   "invalid argument", it->value);
    case F_EXITED:
      {
        char *end;
        errno = 0;
        it->number = strtoll (it->value, &end, 10);
        if (errno || end == it->value || *end)
          return cove_error_set_plain (err, EINVAL, "exited code out of range "
                                       "\"%s\"", it->value);
        return 0;
      }
    case F_SINCE:
    case F_BEFORE:
      return container_created (it->value, all, n, &it->number, err);
    default:
      return 0;
    }
}

struct cove_ps_filter *
cove_ps_filter_new (char *const *filters, const struct cove_state_container *all,
                    size_t n, struct cove_error **err)
{
  struct cove_ps_filter *f = xmalloc0 (sizeof *f);
  size_t count = cove_strv_len (filters);
  f->items = xmalloc0 ((count ? count : 1) * sizeof *f->items);
  for (size_t i = 0; i < count; i++)
    {
      const char *eq = strchr (filters[i], '=');
      size_t klen = eq ? (size_t) (eq - filters[i]) : strlen (filters[i]);
      int key = -1;
      for (int k = 0; k < F_COUNT && eq; k++)
        if (strlen (key_names[k]) == klen && strncmp (filters[i], key_names[k], klen) == 0)
          key = k;
      if (key < 0)
        {
          cove_error_set_plain (err, EINVAL, "%.*s is an invalid filter",
                                (int) klen, filters[i]);
          cove_ps_filter_free (f);
          return NULL;
        }
      struct filter_item *it = &f->items[f->n++];
      it->key = (enum filter_key) key;
      it->value = xstrdup (eq + 1);
      f->has[key] = true;
      if (parse_value (it, all, n, err) < 0)
        {
          cove_ps_filter_free (f);
          return NULL;
        }
    }
  return f;
}

bool
cove_ps_filter_has_status (const struct cove_ps_filter *f)
{
  return f->has[F_STATUS];
}

static bool
label_match (const struct cove_state_container *c, const char *want)
{
  const char *eq = strchr (want, '=');
  size_t klen = eq ? (size_t) (eq - want) : strlen (want);
  for (char **l = c->labels; l && *l; l++)
    {
      const char *leq = strchr (*l, '=');
      size_t lk = leq ? (size_t) (leq - *l) : strlen (*l);
      if (lk != klen || strncmp (*l, want, klen) != 0)
        continue;
      if (eq == NULL || strcmp (leq ? leq + 1 : "", eq + 1) == 0)
        return true;
    }
  return false;
}

static bool
status_match (const char *want, enum cove_state_status s)
{
  const char *word = cove_ps_state_word (s);
  if (strcmp (want, "stopped") == 0 || strcmp (want, "exited") == 0)
    return strcmp (word, "exited") == 0;
  if (strcmp (want, "configured") == 0 || strcmp (want, "initialized") == 0)
    return strcmp (word, "created") == 0;
  return strcmp (want, word) == 0;
}

static bool
ancestor_match (const struct cove_state_container *c, const char *want)
{
  if (c->image_name && cove_img_name_matches (c->image_name, want))
    return true;
  const char *hex = strncmp (want, "sha256:", 7) == 0 ? want + 7 : want;
  return c->image_id && hex[0]
         && strncmp (c->image_id, hex, strlen (hex)) == 0;
}

static bool
item_match (const struct filter_item *it, const struct cove_state_container *c,
            const struct cove_ps_view *v)
{
  switch (it->key)
    {
    case F_ID:
      return regexec (&it->re, c->id, 0, NULL, 0) == 0;
    case F_NAME:
      return c->name && regexec (&it->re, c->name, 0, NULL, 0) == 0;
    case F_LABEL:
      return label_match (c, it->value);
    case F_ANCESTOR:
      return ancestor_match (c, it->value);
    case F_STATUS:
      return status_match (it->value, v->state);
    case F_EXITED:
      return (v->state == COVE_STATE_EXITED || v->state == COVE_STATE_STOPPED)
             && v->exit_code == it->number;
    case F_SINCE:
      return c->created > it->number;
    case F_BEFORE:
      return c->created < it->number;
    case F_POD:
      /* A pod's id or id prefix: ps turned pod=NAME into its id.  */
      {
        const char *pod = json_string_value (json_object_get (c->extra, "pod"));
        return pod && it->value[0] && strncmp (pod, it->value, strlen (it->value)) == 0;
      }
    default:
      return false;
    }
}

bool
cove_ps_filter_match (const struct cove_ps_filter *f,
                      const struct cove_state_container *c,
                      const struct cove_ps_view *v)
{
  for (int k = 0; k < F_COUNT; k++)
    {
      if (!f->has[k])
        continue;
      /* Labels must all match (podman, docker); other keys any.  */
      bool all = k == F_LABEL, any = false, every = true;
      for (size_t i = 0; i < f->n; i++)
        if ((int) f->items[i].key == k)
          {
            bool m = item_match (&f->items[i], c, v);
            any = any || m;
            every = every && m;
          }
      if (all ? !every : !any)
        return false;
    }
  return true;
}

/* The record's published ports (extra "ports": {host_ip, host_port,
   container_port, protocol}) as podman's PORTS column:
   "0.0.0.0:8080->80/tcp, 127.0.0.1:9000->90/tcp".  Caller frees.  */
char *
cove_ps_ports_string (json_t *ports)
{
  char *s = xstrdup ("");
  size_t i;
  json_t *p;
  json_array_foreach (ports, i, p)
    {
      const char *ip = json_string_value (json_object_get (p, "host_ip"));
      const char *proto = json_string_value (json_object_get (p, "protocol"));
      char *t = xasprintf ("%s%s%s:%lld->%lld/%s", s, i ? ", " : "",
                           ip && ip[0] ? ip : "0.0.0.0",
                           (long long) json_integer_value (json_object_get (p, "host_port")),
                           (long long) json_integer_value (json_object_get (p, "container_port")),
                           proto ? proto : "tcp");
      free (s);
      s = t;
    }
  return s;
}

/* The same as podman's inspect shows them (NetworkSettings.Ports,
   HostConfig.PortBindings): {"80/tcp": [{"HostIp": "", "HostPort":
   "8080"}]}.  */
json_t *
cove_ps_ports_bindings (json_t *ports)
{
  json_t *o = json_object ();
  size_t i;
  json_t *p;
  json_array_foreach (ports, i, p)
    {
      const char *ip = json_string_value (json_object_get (p, "host_ip"));
      const char *proto = json_string_value (json_object_get (p, "protocol"));
      cleanup_free char *key = xasprintf ("%lld/%s",
                                          (long long) json_integer_value (json_object_get (p, "container_port")),
                                          proto ? proto : "tcp");
      json_t *list = json_object_get (o, key);
      if (list == NULL)
        {
          list = json_array ();
          json_object_set_new (o, key, list);
        }
      cleanup_free char *hp = xasprintf ("%lld", (long long) json_integer_value (
                                             json_object_get (p, "host_port")));
      json_array_append_new (list, json_pack ("{s:s, s:s}", "HostIp", ip ? ip : "",
                                              "HostPort", hp));
    }
  return o;
}
