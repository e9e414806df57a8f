/* cmd/cove/runports.c: -p and -P into the record's "ports" (TCP and UDP,
   ranges, podman's "tcp,udp"), and the specs it refuses.  */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cmd/cove/runports.h"
#include "pkg/util/error.h"

/* The record's ports as "IP|HOST|CTR/PROTO;..." for one assertion.  */
static void
assert_ports (json_t *extra, const char *want)
{
  char buf[1024] = "";
  size_t i;
  json_t *p;
  json_array_foreach (json_object_get (extra, "ports"), i, p)
    {
      size_t n = strlen (buf);
      snprintf (buf + n, sizeof buf - n, "%s%s|%lld|%lld/%s", i ? ";" : "",
                json_string_value (json_object_get (p, "host_ip")),
                (long long) json_integer_value (json_object_get (p, "host_port")),
                (long long) json_integer_value (json_object_get (p, "container_port")),
                json_string_value (json_object_get (p, "protocol")));
    }
  assert_string_equal (buf, want);
}

static int
prepare (char **publish, json_t *image_config, json_t *extra,
         struct cove_error **err)
{
  struct cove_run_options o;
  memset (&o, 0, sizeof o);
  o.publish = publish;
  o.publish_all = image_config != NULL;
  o.image_config = image_config;
  o.req.ns[COVE_SPEC_NS_NET] = COVE_SPEC_NS_SLIRP;
  return cove_run_ports_prepare (&o, extra, err);
}

static void
test_publish (void **state)
{
  (void) state;
  struct cove_error *err = NULL;
  json_t *extra = json_object ();
  char *specs[] = { "8080:80", "5353:53/udp", "127.0.0.1:7000-7001:70-71/tcp,udp",
                    "[::1]::90/udp", NULL };
  assert_int_equal (prepare (specs, NULL, extra, &err), 0);
  assert_null (err);
  assert_ports (extra, "|8080|80/tcp;|5353|53/udp;"
                "127.0.0.1|7000|70/tcp;127.0.0.1|7001|71/tcp;"
                "127.0.0.1|7000|70/udp;127.0.0.1|7001|71/udp;::1|0|90/udp");
  json_decref (extra);
}

static void
test_publish_all (void **state)
{
  (void) state;
  struct cove_error *err = NULL;
  json_t *extra = json_object ();
  json_t *cfg = json_loads ("{\"config\": {\"ExposedPorts\": {\"80/tcp\": {}, "
                            "\"53/udp\": {}, \"90\": {}, \"132/sctp\": {}, "
                            "\"-1/udp\": {}, \"70000/tcp\": {}}}}", 0, NULL);
  char *specs[] = { "8080:80", NULL };
  assert_int_equal (prepare (specs, cfg, extra, &err), 0);
  /* 80/tcp published by -p already; sctp and bad keys left out.  */
  assert_ports (extra, "|8080|80/tcp;|0|53/udp;|0|90/tcp");
  json_decref (cfg);
  json_decref (extra);
}

static void
test_bad (void **state)
{
  (void) state;
  static const struct { const char *spec; int errnum; } bad[] = {
    { "80/sctp", ENOTSUP }, { "80/xyz", EINVAL }, { "80/", EINVAL },
    { "80/tcp,xyz", EINVAL }, { "80:abc/udp", EINVAL }, { "70000/udp", EINVAL },
    { "8000-8002:80-81/udp", EINVAL },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct cove_error *err = NULL;
      json_t *extra = json_object ();
      char *specs[] = { "8080:80", (char *) bad[i].spec, NULL };
      assert_int_equal (prepare (specs, NULL, extra, &err), -1);
      assert_non_null (err);
      assert_int_equal (err->errnum, bad[i].errnum);
      assert_non_null (strstr (err->msg, bad[i].spec));
      /* Nothing half-made in the record.  */
      assert_null (json_object_get (extra, "ports"));
      cove_error_free (err);
      json_decref (extra);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_publish),
    cmocka_unit_test (test_publish_all),
    cmocka_unit_test (test_bad),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
