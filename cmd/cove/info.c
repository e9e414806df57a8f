/* cove info and cove version.  */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <jansson.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/conf.h"
#include "cmd/cove/listing.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "cmd/cove/yaml.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"
#include "rootless/rootless.h"
#include "storage/storage.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static const char *
go_arch (const char *machine)
{
  if (strcmp (machine, "x86_64") == 0)
    return "amd64";
  if (strcmp (machine, "aarch64") == 0)
    return "arm64";
  return machine;
}

static json_t *
map_json (const struct cove_idmap *m)
{
  json_t *a = json_array ();
  for (size_t i = 0; i < m->n; i++)
    json_array_append_new (a, json_pack ("{s:I, s:I, s:I}", "container_id",
                                         (json_int_t) m->ranges[i].container,
                                         "host_id", (json_int_t) m->ranges[i].host,
                                         "size", (json_int_t) m->ranges[i].size));
  return a;
}

/* The mappings cove uses (or, inside the namespace or as root, uses now).  */
static json_t *
id_mappings (void)
{
  struct cove_idmap uid = { 0 }, gid = { 0 };
  if (geteuid () == 0)
    {
      FILE *files[2] = { fopen ("/proc/self/uid_map", "re"),
                         fopen ("/proc/self/gid_map", "re") };
      struct cove_idmap *maps[2] = { &uid, &gid };
      for (int k = 0; k < 2; k++)
        {
          unsigned c, h, s;
          while (files[k] && maps[k]->n < COVE_ROOTLESS_MAX_RANGES
                 && fscanf (files[k], "%u %u %u", &c, &h, &s) == 3)
            maps[k]->ranges[maps[k]->n++] = (struct cove_idmap_range) { c, h, s };
          if (files[k])
            fclose (files[k]);
        }
    }
  else
    {
      struct passwd *pw = getpwuid (getuid ());
      const char *name = pw ? pw->pw_name : "";
      struct cove_idmap sub = { 0 };
      cleanup_error struct cove_error *e = NULL;
      if (cove_rootless_read_subid ("/etc/subuid", name, getuid (), &sub, &e) < 0)
        sub.n = 0;
      cove_rootless_build_map (getuid (), &sub, &uid);
      cove_error_release (&e);
      sub.n = 0;
      if (cove_rootless_read_subid ("/etc/subgid", name, getuid (), &sub, &e) < 0)
        sub.n = 0;
      cove_rootless_build_map (getgid (), &sub, &gid);
    }
  return json_pack ("{s:o, s:o}", "uidmap", map_json (&uid), "gidmap", map_json (&gid));
}

static json_t *
host_info (void)
{
  struct utsname u;
  uname (&u);
  struct statfs sfs;
  bool v2 = statfs ("/sys/fs/cgroup", &sfs) == 0
            && sfs.f_type == CGROUP2_SUPER_MAGIC;
  /* pause/unpause: no cgroup freezer is delegated to the user here (a v1
     hierarchy, or v2 without a user tree), so every process of the
     container's pid namespace gets SIGSTOP/SIGCONT; resource limits
     likewise cannot apply.  */
  return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:o, s:{s:s}, s:{s:b, s:b},"
                    " s:s, s:s, s:s}",
                    "arch", go_arch (u.machine), "os", "linux",
                    "kernel", u.release, "hostname", u.nodename,
                    "cgroupVersion", v2 ? "v2" : "v1",
                    "idMappings", id_mappings (),
                    "network", "mode", "none",
                    "security", "rootless", getuid () != 0,
                    "seccompEnabled", true,
                    "conmon", "cove-monitor (one per running container)",
                    "pauseMethod", "signals (SIGSTOP/SIGCONT of every process "
                    "of the container; no delegated cgroup freezer)",
                    "resourceLimits", "not applied (no delegated cgroup v2 "
                    "tree)");
}

/* The version a shared library reports through FUNC, loaded here only:
   the libraries of pulling, building and networking cost milliseconds to
   load (libcurl alone ~15 ms here), so the commands on the hot path of
   `cove run` do not link them and load them when they need them.  */
static json_t *
dl_version (const char *soname, const char *func, int kind)
{
  void *h = dlopen (soname, RTLD_LAZY | RTLD_LOCAL);
  if (h == NULL)
    return json_string ("not installed");
  void *sym = dlsym (h, func);
  const char *v = NULL;
  if (sym && kind == 0)
    v = ((const char *(*) (void)) sym) ();
  else if (sym && kind == 1)      /* OpenSSL_version (OPENSSL_VERSION) */
    v = ((const char *(*) (int)) sym) (0);
  json_t *r = json_string (v ? v : "unknown");
  dlclose (h);
  return r;
}

static json_t *
library_versions (void)
{
  const struct scmp_version *sv = seccomp_version ();
  cleanup_free char *seccomp = xasprintf ("%u.%u.%u", sv->major, sv->minor, sv->micro);
  return json_pack ("{s:s, s:o, s:o, s:s, s:s, s:o, s:o, s:o}",
                    "jansson", jansson_version_str (),
                    "libcurl", dl_version ("libcurl.so.4", "curl_version", 0),
                    "libslirp", dl_version ("libslirp.so.0", "slirp_version_string", 0),
                    "libseccomp", seccomp,
                    "libcap", COVE_LIBCAP_VERSION,
                    "fuse3", dl_version ("libfuse3.so.3", "fuse_pkgversion", 0),
                    "libarchive", dl_version ("libarchive.so.13", "archive_version_string", 0),
                    "libcrypto", dl_version ("libcrypto.so.3", "OpenSSL_version", 1));
}

static json_t *
info_doc (struct cove_error **err)
{
  struct cove_storage_paths p;
  if (cove_storage_paths_init (&p, err) < 0)
    return NULL;
  enum cove_storage_driver driver;
  if (cove_conf_storage_driver (&p, &driver, err) < 0)
    {
      cove_storage_paths_free (&p);
      return NULL;
    }
  /* "auto" is reported as what it resolves to here, as podman reports its
     graph driver.  */
  if (driver == COVE_STORAGE_AUTO)
    driver = cove_conf_probe_driver ();
  json_t *doc = json_pack ("{s:o, s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:o}}",
                           "host", host_info (),
                           "store", "graphDriverName",
                           cove_storage_driver_name (driver),
                           "graphRoot", p.data_dir, "runRoot", p.runtime_dir,
                           "configDir", p.config_dir,
                           "version", "Version", COVE_VERSION,
                           "OsArch", "linux/" COVE_ARCH,
                           "Built", __DATE__ " " __TIME__,
                           "libraries", library_versions ());
  cove_storage_paths_free (&p);
  return doc;
}

enum { OPT_HELP = 1, OPT_FORMAT };
static const struct cove_opt info_opts[] = {
  { "format", 'f', COVE_OPT_VALUE, OPT_FORMAT, "string", "Change the output format to JSON (json) or YAML (yaml, the default)" },
  { "help", 'h', COVE_OPT_BOOL, OPT_HELP, NULL, "help for the command" },
  { NULL, 0, 0, 0, NULL, NULL },
};

/* Parse `--format`; returns 1 for --help, 0 to go on, 125 on bad input.  */
static int
parse_format (int argc, char **argv, const char *usage, const char *desc,
              const char **out_format)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_opts_parser p;
  cove_opts_init (&p, info_opts, argc, argv, true);
  const char *v;
  int id, ret = 0, nrest;
  while (ret == 0 && (id = cove_opts_next (&p, &v, &err)) > 0)
    if (id == OPT_HELP)
      {
        cove_opts_print_help (stdout, usage, desc, info_opts);
        ret = 1;
      }
    else
      *out_format = v;
  free (cove_opts_rest (&p, &nrest));
  cove_opts_free (&p);
  if (err)
    return cove_cmd_fail (&err, 125);
  if (ret == 0 && nrest > 0)
    return cove_cmd_usage_error ("`cove %s` takes no arguments", argv[0]);
  return ret;
}

/* A copy of DOC whose objects also have each key with its first letter
   upper-cased.  */
static json_t *
go_fields (json_t *doc)
{
  if (json_is_array (doc))
    {
      json_t *a = json_array ();
      size_t i;
      json_t *e;
      json_array_foreach (doc, i, e)
        json_array_append_new (a, go_fields (e));
      return a;
    }
  if (!json_is_object (doc))
    return json_incref (doc);
  json_t *o = json_object ();
  const char *k;
  json_t *v;
  json_object_foreach (doc, k, v)
    {
      json_t *conv = go_fields (v);
      char *upper = xstrdup (k);
      upper[0] = (char) toupper ((unsigned char) upper[0]);
      json_object_set (o, upper, conv);
      json_object_set_new (o, k, conv);
      free (upper);
    }
  return o;
}

static int
print_doc (json_t *doc, const char *format)
{
  if (format == NULL || strcmp (format, "yaml") == 0)
    cove_yaml_print (stdout, doc);
  else if (strcmp (format, "json") == 0 || strcmp (format, "{{json .}}") == 0)
    {
      json_dumpf (doc, stdout, JSON_INDENT (4) | JSON_PRESERVE_ORDER);
      fputc ('\n', stdout);
    }
  else
    {
      /* A Go template, over the document's keys as they are and with their
         first letter in upper case, as podman's Go fields
         ({{.Store.GraphDriverName}} and {{.store.graphDriverName}}).  */
      json_t *items = json_pack ("[o]", go_fields (doc));
      int r = cove_listing_print (items, NULL, format, format, NULL, true);
      json_decref (items);
      json_decref (doc);
      return r;
    }
  json_decref (doc);
  return fflush (stdout) == 0 ? 0 : 125;
}

int
cove_cmd_info (int argc, char **argv)
{
  const char *format = NULL;
  int r = parse_format (argc, argv, "cove info [options]",
                        "Display cove related system information", &format);
  if (r != 0)
    return r == 1 ? 0 : r;
  cleanup_error struct cove_error *err = NULL;
  json_t *doc = info_doc (&err);
  if (doc == NULL)
    return cove_cmd_fail (&err, 125);
  return print_doc (doc, format);
}

int
cove_cmd_version (int argc, char **argv)
{
  const char *format = NULL;
  int r = parse_format (argc, argv, "cove version [options]",
                        "Display the cove version information", &format);
  if (r != 0)
    return r == 1 ? 0 : r;
  if (format && strcmp (format, "json") == 0)
    return print_doc (json_pack ("{s:{s:s, s:s, s:s}}", "Client", "Version",
                                 COVE_VERSION, "Built", __DATE__ " " __TIME__,
                                 "OsArch", "linux/" COVE_ARCH), "json");
  if (format)
    return cove_cmd_usage_error ("unsupported --format `%s`: use json", format);
  printf ("Version:      %s\nBuilt:        %s %s\nOS/Arch:      linux/%s\n",
          COVE_VERSION, __DATE__, __TIME__, COVE_ARCH);
  return 0;
}
