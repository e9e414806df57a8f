/* Unit tests of the registry configuration: the TOML subset,
   registries.conf (search, aliases, prefixes, mirrors, blocked), and
   auth.json (lookup, login and logout round trip, mode 0600).  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/registry/config.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/files.h"
#include "pkg/util/xalloc.h"

static char dir[64];

static int
setup (void **state)
{
  snprintf (dir, sizeof dir, "/tmp/cove-regconf-XXXXXX");
  if (mkdtemp (dir) == NULL)
    return -1;
  /* Nothing of the user running the tests may leak in.  */
  char *home = xasprintf ("%s/home", dir), *run = xasprintf ("%s/run", dir);
  setenv ("HOME", home, 1);
  setenv ("XDG_RUNTIME_DIR", run, 1);
  unsetenv ("XDG_CONFIG_HOME");
  unsetenv ("REGISTRY_AUTH_FILE");
  unsetenv ("DOCKER_CONFIG");
  unsetenv ("CONTAINERS_REGISTRIES_CONF");
  free (home);
  free (run);
  return 0;
}

static int
teardown (void **state)
{
  return cove_rm_rf (dir, NULL);
}

static void
write_file (const char *rel, const char *content)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, rel);
  cleanup_free char *parent = xstrdup (path);
  *strrchr (parent, '/') = '\0';
  assert_int_equal (cove_mkdir_p (parent, 0700, NULL), 0);
  assert_int_equal (cove_file_write_atomic (path, content, strlen (content), 0644, 0, NULL), 0);
}

static json_t *
toml (const char *s, struct cove_error **err)
{
  return cove_registry_toml_parse (s, strlen (s), err);
}

static void
test_toml_valid (void **state)
{
  struct cove_error *err = NULL;
  const char *doc =
    "# comment\n"
    "unqualified-search-registries = [\"a.io\", 'b.io',  # inline comment\n"
    "   \"c.io\",\n"
    "]\n"
    "short-name-mode=\"enforcing\"   \n"
    "n = -42\r\n"
    "m = 1_000\n"
    "empty = []\n"
    "esc = \"q\\\"b\\\\n\\n\\t\\u00e9\\U0001F600\"\n"
    "lit = 'C:\\path'\n"
    "\n"
    "[[registry]]\n"
    "prefix = \"example.com\"\n"
    "insecure = true\n"
    "[[registry.mirror]]\n"
    "location = \"m1.local\"\n"
    "[[registry.mirror]]\n"
    "location = \"m2.local\"\n"
    "[[registry]]\n"
    "location = \"other.io\"\n"
    "blocked = false\n"
    "[ aliases ]\n"
    "\"busybox\" = \"docker.io/library/busybox\"\n"
    "[a.b]\n"
    "c = true\n"
    "[a]\n"
    "d = 1\n";
  json_t *j = toml (doc, &err);
  if (j == NULL)
    fail_msg ("%s", err->msg);
  assert_int_equal (json_array_size (json_object_get (j, "unqualified-search-registries")), 3);
  assert_string_equal (json_string_value (json_object_get (j, "short-name-mode")), "enforcing");
  assert_int_equal (json_integer_value (json_object_get (j, "n")), -42);
  assert_int_equal (json_integer_value (json_object_get (j, "m")), 1000);
  assert_string_equal (json_string_value (json_object_get (j, "esc")),
                       "q\"b\\n\n\t\xc3\xa9\xf0\x9f\x98\x80");
  assert_string_equal (json_string_value (json_object_get (j, "lit")), "C:\\path");
  json_t *reg = json_object_get (j, "registry");
  assert_int_equal (json_array_size (reg), 2);
  json_t *r0 = json_array_get (reg, 0);
  assert_true (json_is_true (json_object_get (r0, "insecure")));
  assert_int_equal (json_array_size (json_object_get (r0, "mirror")), 2);
  assert_null (json_object_get (json_array_get (reg, 1), "mirror"));
  assert_true (json_is_true (json_object_get (json_object_get (json_object_get (j, "a"), "b"), "c")));
  json_decref (j);

  j = toml ("", &err);
  assert_non_null (j);
  assert_int_equal (json_object_size (j), 0);
  json_decref (j);
}

struct bad
{
  const char *doc;
  int line;
};

static void
test_toml_invalid (void **state)
{
  static const struct bad cases[] = {
    { "a = 1.5\n", 1 },
    { "a = 1979-05-27\n", 1 },
    { "\n\na = {x = 1}\n", 3 },
    { "a = [[1]]\n", 1 },
    { "a.b = 1\n", 1 },
    { "a = \"\"\"x\"\"\"\n", 1 },
    { "a = '''x'''\n", 1 },
    { "a = \"open\n", 1 },
    { "a = \"bad \\x escape\"\n", 1 },
    { "a = \"\\uD800\"\n", 1 },
    { "a = \"\\u0000\"\n", 1 },
    { "a = \"\\u12\"\n", 1 },
    { "a = 1\na = 2\n", 2 },
    { "a = \n", 1 },
    { "a\n", 1 },
    { "= 1\n", 1 },
    { "a = 1 b = 2\n", 1 },
    { "a = tru\n", 1 },
    { "a = true1\n", 1 },
    { "a = 01\n", 1 },
    { "a = 99999999999999999999\n", 1 },
    { "a = [1, 2\n", 2 },
    { "a = [1 2]\n", 1 },
    { "[t]\n[t]\n", 2 },
    { "a = 1\n[a]\n", 2 },
    { "[[t]]\n[t]\n", 2 },
    { "[t]\n[[t]]\n", 2 },
    { "x = []\n[[x]]\n", 2 },
    { "[t\n", 1 },
    { "[[t]\n", 1 },
    { "[]\n", 1 },
    { "a = 1 # ok\n# ok\n\x01\n", 3 },
    { "a = \"\xff\"\n", 1 },
    { "a = \"tab\tok\" \n b = \"ctl\x02\"\n", 2 },
    { "[a.b.c.d.e.f.g.h.i]\n", 1 },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct cove_error *err = NULL;
      json_t *j = toml (cases[i].doc, &err);
      if (j)
        fail_msg ("case %zu accepted", i);
      assert_int_equal (err->errnum, EINVAL);
      char prefix[32];
      snprintf (prefix, sizeof prefix, "line %d: ", cases[i].line);
      if (strncmp (err->msg, prefix, strlen (prefix)) != 0)
        fail_msg ("case %zu: %s", i, err->msg);
      cove_error_free (err);
    }
  struct cove_error *err = NULL;
  assert_null (cove_registry_toml_parse ("a = 1\0", 6, &err));
  assert_int_equal (err->errnum, EINVAL);
  cove_error_free (err);
}

static struct cove_registry_conf *
conf_of (const char *s)
{
  struct cove_registry_conf *c = NULL;
  struct cove_error *err = NULL;
  if (cove_registry_conf_parse (s, strlen (s), "test.conf", &c, &err) < 0)
    fail_msg ("%s", err->msg);
  return c;
}

static const char example_conf[] =
  "unqualified-search-registries = [\"example.com\", \"quay.io\"]\n"
  "short-name-mode = \"disabled\"\n"
  "[[registry]]\n"
  "prefix = \"example.com/foo\"\n"
  "insecure = false\n"
  "blocked = false\n"
  "location = \"internal-registry-for-example.net/bar\"\n"
  "[[registry.mirror]]\n"
  "location = \"example-mirror-0.local/mirror-for-foo\"\n"
  "[[registry.mirror]]\n"
  "location = \"example-mirror-1.local:5000/mirrors/foo/\"\n"
  "insecure = true\n"
  "[[registry.mirror]]\n"
  "location = \"digests.local\"\n"
  "pull-from-mirror = \"digest-only\"\n"
  "[[registry]]\n"
  "prefix = \"example.com\"\n"
  "location = \"example.com\"\n"
  "insecure = true\n"
  "[[registry]]\n"
  "location = \"evil.io\"\n"
  "blocked = true\n"
  "[[registry]]\n"
  "prefix = \"*.internal.corp\"\n"
  "insecure = true\n"
  "[[registry]]\n"
  "prefix = \"docker.io/library\"\n"
  "location = \"hub-cache.local/library\"\n"
  "[aliases]\n"
  "\"fedora\" = \"registry.fedoraproject.org/fedora\"\n"
  "\"team/app\" = \"localhost:5000/team/app\"\n"
  "\"gone\" = \"\"\n";

static void
test_conf_model (void **state)
{
  struct cove_registry_conf *c = conf_of (example_conf);
  assert_string_equal (c->path, "test.conf");
  assert_int_equal (cove_strv_len (c->search), 2);
  assert_int_equal (c->short_name_mode, COVE_REGISTRY_SHORT_NAME_DISABLED);
  assert_int_equal (c->n_registries, 5);
  assert_string_equal (c->registries[0].prefix, "example.com/foo");
  assert_string_equal (c->registries[0].location, "internal-registry-for-example.net/bar");
  assert_int_equal (c->registries[0].n_mirrors, 3);
  assert_string_equal (c->registries[0].mirrors[1].location, "example-mirror-1.local:5000/mirrors/foo");
  assert_true (c->registries[0].mirrors[1].insecure);
  assert_int_equal (c->registries[0].mirrors[2].use, COVE_REGISTRY_MIRROR_DIGEST_ONLY);
  assert_string_equal (c->registries[2].prefix, "evil.io");
  assert_true (c->registries[2].blocked);
  assert_null (c->registries[3].location);
  assert_int_equal (c->n_aliases, 2);
  assert_string_equal (c->aliases[1].name, "team/app");
  cove_registry_conf_free (c);
  cove_registry_conf_free (NULL);

  /* version 1 */
  c = conf_of ("[registries.search]\nregistries = ['r1.io', 'r2.io']\n"
               "[registries.insecure]\nregistries = ['r3.io']\n"
               "[registries.block]\nregistries = ['bad.io', 'r3.io']\n");
  assert_int_equal (cove_strv_len (c->search), 2);
  assert_int_equal (c->n_registries, 2);
  assert_true (c->registries[0].insecure);
  assert_true (c->registries[0].blocked);
  assert_true (c->registries[1].blocked);
  cove_registry_conf_free (c);
}

static void
test_conf_invalid (void **state)
{
  static const char *const cases[] = {
    "unknown = 1\n",
    "unqualified-search-registries = \"a.io\"\n",
    "unqualified-search-registries = [1]\n",
    "unqualified-search-registries = [\"https://a.io\"]\n",
    "short-name-mode = \"sometimes\"\n",
    "[[registry]]\ninsecure = true\n",
    "[[registry]]\nlocation = \"a.io\"\ninsecur = true\n",
    "[[registry]]\nlocation = \"a.io\"\ninsecure = \"yes\"\n",
    "[[registry]]\nlocation = \"https://a.io\"\n",
    "[[registry]]\nlocation = \"A.io/Upper\"\n",
    "[[registry]]\nprefix = \"a.io/x:tag\"\nlocation = \"b.io\"\n",
    "[[registry]]\nprefix = \"*.a.io/x\"\n",
    "[[registry]]\nlocation = \"a.io\"\n[[registry]]\nprefix = \"a.io\"\n",
    "[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\ninsecure = true\n",
    "[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\nlocation = \"m.io\"\npull-from-mirror = \"x\"\n",
    "[[registry]]\nlocation = \"a.io\"\nmirror-by-digest-only = true\n[[registry.mirror]]\n"
    "location = \"m.io\"\npull-from-mirror = \"tag-only\"\n",
    "[registry]\nlocation = \"a.io\"\n",
    "[aliases]\n\"docker.io/x\" = \"quay.io/x\"\n",
    "[aliases]\n\"x:tag\" = \"quay.io/x\"\n",
    "[aliases]\n\"x\" = \"x\"\n",
    "[aliases]\n\"x\" = \"quay.io/x:1\"\n",
    "[aliases]\n\"x\" = 1\n",
    "unqualified-search-registries = [\"a.io\"]\n[registries.search]\nregistries = []\n",
    "a = \n",
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct cove_registry_conf *c = NULL;
      struct cove_error *err = NULL;
      if (cove_registry_conf_parse (cases[i], strlen (cases[i]), "x.conf", &c, &err) == 0)
        fail_msg ("case %zu accepted", i);
      assert_int_equal (err->errnum, EINVAL);
      assert_null (c);
      assert_non_null (strstr (err->msg, "x.conf"));
      cove_error_free (err);
    }
}

static void
check_candidates (const struct cove_registry_conf *c, const char *in,
                  const char *const *expected)
{
  struct cove_oci_ref ref = { 0 }, *out = NULL;
  size_t n = 0;
  struct cove_error *err = NULL;
  assert_int_equal (cove_oci_ref_parse (in, &ref, &err), 0);
  if (cove_registry_conf_candidates (c, &ref, &out, &n, &err) < 0)
    fail_msg ("%s: %s", in, err->msg);
  assert_int_equal (n, cove_strv_len ((char **) expected));
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *s = cove_oci_ref_format (&out[i]);
      assert_string_equal (s, expected[i]);
    }
  cove_registry_refs_free (out, n);
  cove_oci_ref_free (&ref);
}

static void
test_candidates (void **state)
{
  struct cove_registry_conf *c = conf_of (example_conf);
  check_candidates (c, "busybox",
                    (const char *const[]) { "example.com/busybox:latest",
                                            "quay.io/busybox:latest", NULL });
  check_candidates (c, "fedora:39",
                    (const char *const[]) { "registry.fedoraproject.org/fedora:39", NULL });
  check_candidates (c, "team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                    (const char *const[]) { "localhost:5000/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL });
  check_candidates (c, "docker.io/busybox:1",
                    (const char *const[]) { "docker.io/library/busybox:1", NULL });
  check_candidates (c, "localhost/web",
                    (const char *const[]) { "localhost/web:latest", NULL });
  cove_registry_conf_free (c);
  /* no configuration, or an empty search list: docker.io */
  check_candidates (NULL, "busybox",
                    (const char *const[]) { "docker.io/library/busybox:latest", NULL });
  c = conf_of ("unqualified-search-registries = []\n");
  check_candidates (c, "team/x:2", (const char *const[]) { "docker.io/team/x:2", NULL });
  cove_registry_conf_free (c);

  /* a search entry with which the name makes no valid reference */
  c = conf_of ("unqualified-search-registries = [\"a.io\"]\n");
  struct cove_oci_ref ref = { .repository = (char *) "Bad" }, *out = NULL;
  size_t n = 0;
  struct cove_error *err = NULL;
  assert_int_equal (cove_registry_conf_candidates (c, &ref, &out, &n, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  assert_int_equal (n, 0);
  cove_error_release (&err);
  cove_registry_conf_free (c);
}

struct ep
{
  const char *registry, *repository;
  bool insecure, mirror;
};

static void
check_endpoints (const struct cove_registry_conf *c, const char *in, const struct ep *expected,
                 size_t n_expected)
{
  struct cove_oci_ref ref = { 0 };
  struct cove_registry_endpoint *eps = NULL;
  size_t n = 0;
  struct cove_error *err = NULL;
  assert_int_equal (cove_oci_ref_parse (in, &ref, &err), 0);
  if (cove_registry_conf_endpoints (c, &ref, &eps, &n, &err) < 0)
    fail_msg ("%s: %s", in, err->msg);
  if (n != n_expected)
    fail_msg ("%s: %zu endpoints, expected %zu", in, n, n_expected);
  for (size_t i = 0; i < n; i++)
    {
      assert_string_equal (eps[i].registry, expected[i].registry);
      assert_string_equal (eps[i].repository, expected[i].repository);
      assert_int_equal (eps[i].insecure, expected[i].insecure);
      assert_int_equal (eps[i].mirror, expected[i].mirror);
    }
  cove_registry_endpoints_free (eps, n);
  cove_oci_ref_free (&ref);
}

static void
test_endpoints (void **state)
{
  struct cove_registry_conf *c = conf_of (example_conf);
  /* the man page's example: the longest prefix wins, mirrors first */
  check_endpoints (c, "example.com/foo/image:latest",
                   (const struct ep[]) {
                     { "example-mirror-0.local", "mirror-for-foo/image", false, true },
                     { "example-mirror-1.local:5000", "mirrors/foo/image", true, true },
                     { "internal-registry-for-example.net", "bar/image", false, false } }, 3);
  check_endpoints (c, "example.com/foo/image@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                   (const struct ep[]) {
                     { "example-mirror-0.local", "mirror-for-foo/image", false, true },
                     { "example-mirror-1.local:5000", "mirrors/foo/image", true, true },
                     { "digests.local", "image", false, true },
                     { "internal-registry-for-example.net", "bar/image", false, false } }, 4);
  /* "example.com/foobar" is not under the prefix "example.com/foo" */
  check_endpoints (c, "example.com/foobar",
                   (const struct ep[]) { { "example.com", "foobar", true, false } }, 1);
  check_endpoints (c, "registry.internal.corp:5000/x/y",
                   (const struct ep[]) { { "registry.internal.corp:5000", "x/y", true, false } }, 1);
  check_endpoints (c, "internal.corp/x",
                   (const struct ep[]) { { "internal.corp", "x", false, false } }, 1);
  check_endpoints (c, "docker.io/busybox",
                   (const struct ep[]) { { "hub-cache.local", "library/busybox", false, false } }, 1);
  check_endpoints (c, "quay.io/a/b",
                   (const struct ep[]) { { "quay.io", "a/b", false, false } }, 1);
  check_endpoints (NULL, "quay.io/a/b",
                   (const struct ep[]) { { "quay.io", "a/b", false, false } }, 1);

  struct cove_oci_ref ref = { 0 };
  struct cove_registry_endpoint *eps = NULL;
  size_t n = 0;
  struct cove_error *err = NULL;
  assert_int_equal (cove_oci_ref_parse ("evil.io/x/y:1", &ref, &err), 0);
  assert_int_equal (cove_registry_conf_endpoints (c, &ref, &eps, &n, &err), -1);
  assert_int_equal (err->errnum, EACCES);
  assert_string_equal (err->msg, "registry evil.io/x/y is blocked in registries.conf");
  assert_null (eps);
  cove_error_release (&err);
  cove_oci_ref_free (&ref);
  assert_int_equal (cove_oci_ref_parse ("busybox", &ref, &err), 0);
  assert_int_equal (cove_registry_conf_endpoints (c, &ref, &eps, &n, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  cove_oci_ref_free (&ref);

  assert_true (cove_registry_conf_lookup (c, "evil.io")->blocked);
  assert_true (cove_registry_conf_lookup (c, "a.internal.corp")->insecure);
  assert_null (cove_registry_conf_lookup (c, "quay.io/x"));
  assert_null (cove_registry_conf_lookup (NULL, "quay.io/x"));
  cove_registry_conf_free (c);
}

static void
test_conf_load (void **state)
{
  struct cove_registry_conf *c = NULL;
  struct cove_error *err = NULL;
  /* nothing anywhere (the system file may exist on this host: only check
     that loading works) */
  assert_int_equal (cove_registry_conf_load (&c, &err), 0);
  cove_registry_conf_free (c);

  write_file ("home/.config/containers/registries.conf",
              "unqualified-search-registries = [\"home.io\"]\n");
  assert_int_equal (cove_registry_conf_load (&c, &err), 0);
  assert_string_equal (c->search[0], "home.io");
  assert_non_null (strstr (c->path, "/home/.config/containers/registries.conf"));
  cove_registry_conf_free (c);

  write_file ("xdg/containers/registries.conf", "unqualified-search-registries = [\"xdg.io\"]\n");
  cleanup_free char *xdg = xasprintf ("%s/xdg", dir);
  setenv ("XDG_CONFIG_HOME", xdg, 1);
  assert_int_equal (cove_registry_conf_load (&c, &err), 0);
  assert_string_equal (c->search[0], "xdg.io");
  cove_registry_conf_free (c);

  write_file ("env.conf", "unqualified-search-registries = [\"env.io\"]\n");
  cleanup_free char *env = xasprintf ("%s/env.conf", dir);
  setenv ("CONTAINERS_REGISTRIES_CONF", env, 1);
  assert_int_equal (cove_registry_conf_load (&c, &err), 0);
  assert_string_equal (c->search[0], "env.io");
  cove_registry_conf_free (c);

  /* $CONTAINERS_REGISTRIES_CONF naming a missing file is an error */
  cleanup_free char *missing = xasprintf ("%s/missing.conf", dir);
  setenv ("CONTAINERS_REGISTRIES_CONF", missing, 1);
  c = NULL;
  assert_int_equal (cove_registry_conf_load (&c, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  assert_null (c);
  cove_error_release (&err);

  /* a malformed user file is an error, with the line */
  unsetenv ("CONTAINERS_REGISTRIES_CONF");
  write_file ("xdg/containers/registries.conf", "\nbad\n");
  assert_int_equal (cove_registry_conf_load (&c, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  assert_non_null (strstr (err->msg, "line 2"));
  cove_error_release (&err);
  unsetenv ("XDG_CONFIG_HOME");
}

static void
test_base64 (void **state)
{
  static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
  static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
  for (size_t i = 0; i < 7; i++)
    {
      cleanup_free char *e = cove_registry_base64_encode (plain[i], strlen (plain[i]));
      assert_string_equal (e, enc[i]);
      size_t len = 0;
      cleanup_free char *d = cove_registry_base64_decode (enc[i], &len, NULL);
      assert_non_null (d);
      assert_int_equal (len, strlen (plain[i]));
      assert_string_equal (d, plain[i]);
    }
  static const char *const bad[] = { "Zg=", "Zg", "Z===", "Zh==", "Zm9=", "Zm 9v", "Zm9v\n",
                                     "Zm=v", "====", "Zm9v*A==" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct cove_error *err = NULL;
      if (cove_registry_base64_decode (bad[i], NULL, &err))
        fail_msg ("accepted `%s`", bad[i]);
      assert_int_equal (err->errnum, EINVAL);
      cove_error_free (err);
    }
}

static void
test_auth_round_trip (void **state)
{
  struct cove_error *err = NULL;
  struct cove_registry_credentials cred = { 0 };
  cleanup_free char *path = cove_registry_auth_path (NULL);
  cleanup_free char *expect = xasprintf ("%s/run/containers/auth.json", dir);
  assert_string_equal (path, expect);

  assert_int_equal (cove_registry_auth_lookup (NULL, "localhost:5000/a/b", &cred, &err), 0);
  assert_int_equal (cove_registry_auth_store (NULL, "localhost:5000", "alice", "s3:cret", &err), 0);
  assert_int_equal (cove_registry_auth_store (NULL, "https://index.docker.io/v1/", "bob", "pw", &err), 0);
  assert_int_equal (cove_registry_auth_store (NULL, "localhost:5000/team", "carol", "pw2", &err), 0);
  struct stat st;
  assert_int_equal (stat (path, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0600);
  cleanup_free char *parent = xasprintf ("%s/run/containers", dir);
  assert_int_equal (stat (parent, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0700);

  /* the most specific key wins */
  assert_int_equal (cove_registry_auth_lookup (NULL, "localhost:5000/a/b", &cred, &err), 1);
  assert_string_equal (cred.username, "alice");
  assert_string_equal (cred.password, "s3:cret");
  cove_registry_credentials_clear (&cred);
  assert_int_equal (cove_registry_auth_lookup (NULL, "localhost:5000/team/app", &cred, &err), 1);
  assert_string_equal (cred.username, "carol");
  cove_registry_credentials_clear (&cred);
  assert_int_equal (cove_registry_auth_lookup (NULL, "docker.io/library/busybox", &cred, &err), 1);
  assert_string_equal (cred.username, "bob");
  cove_registry_credentials_clear (&cred);

  /* a new login replaces the old one */
  assert_int_equal (cove_registry_auth_store (NULL, "localhost:5000", "alice", "new", &err), 0);
  assert_int_equal (cove_registry_auth_lookup (NULL, "localhost:5000", &cred, &err), 1);
  assert_string_equal (cred.password, "new");
  cove_registry_credentials_clear (&cred);

  assert_int_equal (cove_registry_auth_remove (NULL, "localhost:5000", &err), 0);
  assert_int_equal (cove_registry_auth_lookup (NULL, "localhost:5000/x", &cred, &err), 0);
  assert_int_equal (cove_registry_auth_remove (NULL, "localhost:5000", &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  cove_error_release (&err);
  assert_int_equal (cove_registry_auth_remove_all (NULL, &err), 0);
  assert_int_equal (cove_registry_auth_lookup (NULL, "docker.io/x/y", &cred, &err), 0);
  assert_int_equal (stat (path, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0600);

  /* failures: bad key, username with ':', empty password; nothing written */
  assert_int_equal (cove_registry_auth_store (NULL, "bad host", "u", "p", &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  assert_int_equal (cove_registry_auth_store (NULL, "a.io", "u:x", "p", &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  assert_int_equal (cove_registry_auth_store (NULL, "a.io", "u", "", &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
}

static void
test_auth_fallbacks (void **state)
{
  struct cove_error *err = NULL;
  struct cove_registry_credentials cred = { 0 };
  /* docker's file, its legacy key, read-only fallback */
  write_file ("home/.docker/config.json",
              "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"ZG9jazpwdw==\"},"
              "\"ghcr.io\":{\"auth\":\"\"}},\"credsStore\":\"desktop\"}");
  assert_int_equal (cove_registry_auth_lookup (NULL, "docker.io/library/x", &cred, &err), 1);
  assert_string_equal (cred.username, "dock");
  assert_string_equal (cred.password, "pw");
  cove_registry_credentials_clear (&cred);
  /* an empty auth (credential store) is no credential */
  assert_int_equal (cove_registry_auth_lookup (NULL, "ghcr.io/x", &cred, &err), 0);

  /* --authfile / REGISTRY_AUTH_FILE take the primary's place */
  cleanup_free char *custom = xasprintf ("%s/custom/auth.json", dir);
  assert_int_equal (cove_registry_auth_store (custom, "quay.io", "q", "p", &err), 0);
  assert_int_equal (cove_registry_auth_lookup (custom, "quay.io/a", &cred, &err), 1);
  cove_registry_credentials_clear (&cred);
  assert_int_equal (cove_registry_auth_lookup (NULL, "quay.io/a", &cred, &err), 0);
  setenv ("REGISTRY_AUTH_FILE", custom, 1);
  assert_int_equal (cove_registry_auth_lookup (NULL, "quay.io/a", &cred, &err), 1);
  cove_registry_credentials_clear (&cred);
  unsetenv ("REGISTRY_AUTH_FILE");

  /* malformed files and entries */
  write_file ("bad1.json", "{\"auths\":[]}");
  write_file ("bad2.json", "{\"auths\":{\"a.io\":{\"auth\":\"bm9jb2xvbg==\"}}}");
  write_file ("bad3.json", "{\"auths\":{\"a.io\":{\"auth\":\"%%%%\"}}}");
  write_file ("bad4.json", "not json");
  write_file ("bad5.json", "{\"auths\":{\"a.io\":{\"auth\":1}}}");
  const char *bad[] = { "bad1.json", "bad2.json", "bad3.json", "bad4.json", "bad5.json" };
  for (size_t i = 0; i < 5; i++)
    {
      cleanup_free char *p = xasprintf ("%s/%s", dir, bad[i]);
      assert_int_equal (cove_registry_auth_lookup (p, "a.io", &cred, &err), -1);
      assert_int_equal (err->errnum, EINVAL);
      assert_null (cred.username);
      cove_error_release (&err);
      /* and a login does not overwrite a file it cannot read */
      if (i == 0 || i == 3)
        {
          cleanup_free char *before = cove_file_read_at (AT_FDCWD, p, 4096, NULL, NULL);
          assert_int_equal (cove_registry_auth_store (p, "a.io", "u", "p", &err), -1);
          cove_error_release (&err);
          cleanup_free char *after = cove_file_read_at (AT_FDCWD, p, 4096, NULL, NULL);
          assert_string_equal (before, after);
        }
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_toml_valid),
    cmocka_unit_test (test_toml_invalid),
    cmocka_unit_test (test_conf_model),
    cmocka_unit_test (test_conf_invalid),
    cmocka_unit_test (test_candidates),
    cmocka_unit_test (test_endpoints),
    cmocka_unit_test (test_conf_load),
    cmocka_unit_test (test_base64),
    cmocka_unit_test (test_auth_round_trip),
    cmocka_unit_test (test_auth_fallbacks),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
