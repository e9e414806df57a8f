/* Unit tests of cmd/cove/buildbase.c: ONBUILD triggers (parsed, checked,
   run in order through build_step, not inherited), the platform check of
   FROM --platform and --platform, and what --format oci leaves out.
   build_step and build_config_of (buildstep.c) are stubs here: the steps
   the triggers would run are recorded instead.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/build.h"
#include "pkg/oci/oci.h"
#include "pkg/util/xalloc.h"

/* ---- stubs of buildstep.c ---- */

static char **steps_run;      /* "KIND original" of each step */
static int step_fails_at = -1;

int
build_step (struct build *b, struct build_image *img,
            const struct cove_build_instr *in, int *out_status,
            struct cove_error **err)
{
  (void) b;
  (void) img;
  *out_status = 125;
  if ((int) cove_strv_len (steps_run) == step_fails_at)
    return cove_error_set (err, EIO, "step failed");
  char *s = xasprintf ("%s %s", cove_build_kind_name (in->kind), in->original);
  cove_strv_append (&steps_run, s);
  free (s);
  return 0;
}

/* ---- helpers ---- */

static void
reset (void)
{
  cove_strv_free (steps_run);
  steps_run = NULL;
  step_fails_at = -1;
}

/* An image whose config has the OnBuild array TRIGGERS (JSON text).  */
static struct build_image
image_with (const char *triggers)
{
  json_error_t je;
  json_t *ob = json_loads (triggers, 0, &je);
  assert_non_null (ob);
  struct build_image img = { 0 };
  img.doc = json_pack ("{s:{s:o, s:s}}", "config", "OnBuild", ob,
                       "User", "u");
  return img;
}

/* ---- ONBUILD ---- */

static void
test_onbuild_runs_in_order (void **state)
{
  (void) state;
  reset ();
  struct build_options o = { .layers = true };
  struct build b = { .o = &o, .n_steps = 2 };
  struct build_image img = image_with ("[\"RUN echo hi > /onbuild\", "
                                       "\"COPY f /f\", \"ENV A=1\"]");
  int status = 0;
  struct cove_error *err = NULL;
  assert_int_equal (build_onbuild (&b, &img, &status, &err), 0);
  assert_null (err);
  assert_int_equal (cove_strv_len (steps_run), 3);
  assert_string_equal (steps_run[0], "RUN RUN echo hi > /onbuild");
  assert_string_equal (steps_run[1], "COPY COPY f /f");
  assert_string_equal (steps_run[2], "ENV ENV A=1");
  /* Counted as podman counts them, and not inherited.  */
  assert_int_equal (b.n_steps, 5);
  json_t *cfg = json_object_get (img.doc, "config");
  assert_null (json_object_get (cfg, "OnBuild"));
  assert_string_equal (json_string_value (json_object_get (cfg, "User")), "u");
  json_decref (img.doc);
  reset ();
}

static void
test_onbuild_none (void **state)
{
  (void) state;
  reset ();
  struct build_options o = { .layers = true };
  struct build b = { .o = &o, .n_steps = 2 };
  struct build_image img = { .doc = json_object () };
  int status = 0;
  struct cove_error *err = NULL;
  assert_int_equal (build_onbuild (&b, &img, &status, &err), 0);
  assert_null (steps_run);
  assert_int_equal (b.n_steps, 2);
  json_decref (img.doc);
}

static void
expect_refused (const char *triggers, const char *want)
{
  reset ();
  struct build_options o = { .layers = true };
  struct build b = { .o = &o, .n_steps = 1 };
  struct build_image img = image_with (triggers);
  int status = 0;
  struct cove_error *err = NULL;
  assert_int_equal (build_onbuild (&b, &img, &status, &err), -1);
  assert_non_null (err);
  assert_int_equal (err->errnum, EINVAL);
  if (strstr (err->msg, want) == NULL)
    fail_msg ("%s: message \"%s\" lacks \"%s\"", triggers, err->msg, want);
  /* Nothing ran, and the status is cove's own.  */
  assert_null (steps_run);
  assert_int_equal (status, 0);
  cove_error_free (err);
  json_decref (img.doc);
}

static void
test_onbuild_refused (void **state)
{
  (void) state;
  /* docker's rules: no ONBUILD ONBUILD, FROM or MAINTAINER; one
     instruction each (the text comes from an image: anything).  */
  expect_refused ("[\"ONBUILD RUN x\"]", "ONBUILD trigger \"ONBUILD RUN x\"");
  expect_refused ("[\"MAINTAINER me\"]", "not one instruction allowed");
  expect_refused ("[\"FROM busybox\"]", "not one instruction allowed");
  expect_refused ("[\"RUN a\\nRUN b\"]", "not one instruction allowed");
  expect_refused ("[\"RUN a\\nFROM x\\nRUN b\"]", "not one instruction allowed");
  expect_refused ("[\"\"]", "not one instruction allowed");
  expect_refused ("[\"NOSUCH x\"]", "ONBUILD trigger \"NOSUCH x\"");
  expect_refused ("[42]", "ONBUILD trigger 0 is not a string");
  reset ();
}

static void
test_onbuild_step_fails (void **state)
{
  (void) state;
  reset ();
  step_fails_at = 1;
  struct build_options o = { .layers = true };
  struct build b = { .o = &o, .n_steps = 1 };
  struct build_image img = image_with ("[\"RUN a\", \"RUN b\", \"RUN c\"]");
  int status = 0;
  struct cove_error *err = NULL;
  assert_int_equal (build_onbuild (&b, &img, &status, &err), -1);
  assert_int_equal (err->errnum, EIO);
  /* The first ran, the third did not.  */
  assert_int_equal (cove_strv_len (steps_run), 1);
  cove_error_free (err);
  json_decref (img.doc);
  reset ();
}

/* ---- platforms ---- */

static int
check (struct build *b, const char *raw, struct cove_error **err)
{
  return build_check_platform (b, "FROM --platform", raw, err);
}

static void
test_platform (void **state)
{
  (void) state;
  const char *os, *arch, *variant;
  cove_oci_host_platform (&os, &arch, &variant);
  const char *other = strcmp (arch, "arm64") == 0 ? "amd64" : "arm64";
  struct build_options o = { .layers = true };
  struct build b = { .o = &o, .globals = cove_build_vars_new () };
  cove_build_vars_set_platform (b.globals, "BUILD", os, arch, NULL);
  struct cove_error *err = NULL;
  assert_int_equal (check (&b, NULL, &err), 0);
  char *own = xasprintf ("%s/%s", os, arch);
  char *own_v = xasprintf ("%s/%s/v2", os, arch);
  char *foreign = xasprintf ("linux/%s", other);
  char *list = xasprintf ("%s,%s", own, foreign);
  assert_int_equal (check (&b, own, &err), 0);
  assert_int_equal (check (&b, own_v, &err), 0);
  assert_int_equal (check (&b, "$BUILDPLATFORM", &err), 0);
  assert_int_equal (check (&b, "${BUILDOS}/${BUILDARCH}", &err), 0);
  assert_null (err);
  assert_int_equal (check (&b, foreign, &err), -1);
  assert_int_equal (err->errnum, ENOTSUP);
  assert_non_null (strstr (err->msg, "cannot emulate other architectures"));
  assert_non_null (strstr (err->msg, foreign));
  cove_error_release (&err);
  assert_int_equal (check (&b, list, &err), -1);
  assert_int_equal (err->errnum, ENOTSUP);
  cove_error_release (&err);
  assert_int_equal (check (&b, "bogus", &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  assert_int_equal (check (&b, "windows/amd64", &err), -1);
  assert_int_equal (err->errnum, ENOTSUP);
  cove_error_release (&err);
  free (own);
  free (own_v);
  free (foreign);
  free (list);
  cove_build_vars_free (b.globals);
}

/* ---- --format ---- */

static void
test_format_strip (void **state)
{
  (void) state;
  const char *cfg_text = "{\"config\": {\"OnBuild\": [\"RUN x\"], "
                         "\"Shell\": [\"/bin/sh\", \"-c\"], \"Healthcheck\": "
                         "{\"Test\": [\"NONE\"]}, \"StopSignal\": \"SIGINT\"}}";
  struct build_options o = { .layers = true, .docker_format = true };
  struct build b = { .o = &o };
  json_t *doc = json_loads (cfg_text, 0, NULL);
  /* docker keeps everything.  */
  assert_false (build_format_strip (&b, doc));
  assert_int_equal (json_object_size (json_object_get (doc, "config")), 4);
  /* oci: only what the OCI config has stays.  */
  o.docker_format = false;
  assert_true (build_format_strip (&b, doc));
  json_t *cfg = json_object_get (doc, "config");
  assert_int_equal (json_object_size (cfg), 1);
  assert_string_equal (json_string_value (json_object_get (cfg, "StopSignal")),
                       "SIGINT");
  /* Nothing left to drop: unchanged.  */
  assert_false (build_format_strip (&b, doc));
  json_decref (doc);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_onbuild_runs_in_order),
    cmocka_unit_test (test_onbuild_none),
    cmocka_unit_test (test_onbuild_refused),
    cmocka_unit_test (test_onbuild_step_fails),
    cmocka_unit_test (test_platform),
    cmocka_unit_test (test_format_strip),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
