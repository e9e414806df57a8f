/* Unit tests of cmd/cove/format*.c: the --format template engine.  Expected
   strings are what podman 4.3 (Go text/template) prints for the same
   template and data.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/format.h"

static const char doc_text[] =
  "{\"ID\":\"4c364d0d0f51\",\"Repository\":\"localhost/myimg\",\"Tag\":\"v1\","
  "\"Size\":11380,\"Ratio\":0.5,\"Big\":1000000.0,\"Tiny\":0.00001,"
  "\"Names\":[\"a\",\"b\",\"c\"],\"Empty\":[],\"Nothing\":null,\"Yes\":true,\"No\":false,"
  "\"Zero\":0,\"Blank\":\"\","
  "\"Labels\":{\"zeta\":\"z\",\"app\":\"web\",\"n\":1},"
  "\"Config\":{\"Cmd\":[\"/bin/sh\",\"-c\",\"x\"],\"Env\":[\"A=1\"],\"User\":\"\"},"
  "\"Mounts\":[{\"Source\":\"/a\",\"Dest\":\"/x\"},{\"Source\":\"/b\",\"Dest\":\"/y\"}],"
  "\"Str\":\"Hello wORLD foo-bar\",\"Html\":\"<a&b>\\n\\t\\\"q\\\"\\u2028\"}";

static json_t *
doc (void)
{
  json_error_t je;
  json_t *d = json_loads (doc_text, 0, &je);
  assert_non_null (d);
  return d;
}

/* Render TEMPLATE over the test document; the result, or the error
   message prefixed with "ERR ".  */
static char *
run (const char *template)
{
  struct cove_error *err = NULL;
  json_t *d = doc ();
  struct cove_format *f = cove_format_parse ("images", template, &err);
  char *out = NULL;
  if (f)
    out = cove_format_render (f, d, &err);
  if (out == NULL)
    {
      assert_non_null (err);
      assert_true (err->errnum == EINVAL || err->errnum == E2BIG);
      char *msg = NULL;
      assert_true (asprintf (&msg, "ERR %s", err->msg) > 0);
      out = msg;
    }
  else
    assert_null (err);
  cove_error_free (err);
  cove_format_free (f);
  json_decref (d);
  return out;
}

static void
check (const char *template, const char *expect)
{
  char *got = run (template);
  if (strcmp (got, expect) != 0)
    print_error ("template %s\n  expected [%s]\n  got      [%s]\n", template,
                 expect, got);
  assert_string_equal (got, expect);
  free (got);
}

static void
test_fields (void **state)
{
  check ("{{.ID}}", "4c364d0d0f51");
  check ("x {{.Repository}}:{{.Tag}} y", "x localhost/myimg:v1 y");
  check ("{{.Config.Cmd}}", "[/bin/sh -c x]");
  check ("{{.Size}} {{.Ratio}} {{.Big}} {{.Tiny}}", "11380 0.5 1e+06 1e-05");
  check ("{{.Yes}} {{.No}} {{.Nothing}}", "true false <nil>");
  check ("{{.Labels}}", "map[app:web n:1 zeta:z]");
  check ("{{.Mounts}}", "[map[Dest:/x Source:/a] map[Dest:/y Source:/b]]");
  check ("{{.Labels.app}} {{.Labels.nope}}", "web <no value>");
  check ("{{.Nothing.Foo}}", "<no value>");
  check ("{{$.Tag}} {{$}}", "v1 map[Big:1e+06 Blank: Config:map[Cmd:[/bin/sh -c x] "
         "Env:[A=1] User:] Empty:[] Html:<a&b>\n\t\"q\"\u2028 ID:4c364d0d0f51 "
         "Labels:map[app:web n:1 zeta:z] Mounts:[map[Dest:/x Source:/a] "
         "map[Dest:/y Source:/b]] Names:[a b c] No:false Nothing:<nil> "
         "Ratio:0.5 Repository:localhost/myimg Size:11380 Str:Hello wORLD "
         "foo-bar Tag:v1 Tiny:1e-05 Yes:true Zero:0]");
  check ("{{(index .Mounts 1).Source}}", "/b");
  check ("{{with $m := index .Mounts 0}}{{$m.Dest}}{{end}}", "/x");
  check ("no actions at all", "no actions at all");
  check ("", "");
}

static void
test_field_errors (void **state)
{
  check ("{{.Nope}}", "ERR template: images:1:2: executing \"images\" at "
         "<.Nope>: can't evaluate field Nope in type object");
  check ("a\n  {{.Config.Nope}}", "ERR template: images:2:4: executing "
         "\"images\" at <.Config.Nope>: can't evaluate field Nope in type object");
  check ("{{.Tag.Foo}}", "ERR template: images:1:2: executing \"images\" at "
         "<.Tag.Foo>: can't evaluate field Foo in type string");
  check ("{{.Tag 1}}", "ERR template: images:1:2: executing \"images\" at "
         "<.Tag 1>: can't give argument to non-function .Tag");
  check ("{{.Config.Cmd.Field.AVeryLongName}}", "ERR template: images:1:2: "
         "executing \"images\" at <.Config.Cmd.Field.AV...>: can't evaluate "
         "field Field in type []interface {}");
}

static void
test_functions (void **state)
{
  check ("{{json .Config}}", "{\"Cmd\":[\"/bin/sh\",\"-c\",\"x\"],\"Env\":[\"A=1\"],\"User\":\"\"}");
  check ("{{json .Labels}} {{json .Mounts}}",
         "{\"app\":\"web\",\"n\":1,\"zeta\":\"z\"} "
         "[{\"Source\":\"/a\",\"Dest\":\"/x\"},{\"Source\":\"/b\",\"Dest\":\"/y\"}]");
  check ("{{json .Html}}", "\"<a&b>\\n\\t\\\"q\\\"\\u2028\"");
  check ("{{json .Nothing}} {{json .Ratio}} {{json .Big}} {{json .Tiny}} {{json .Labels.x}}",
         "null 0.5 1000000 0.00001 null");
  check ("{{json 1e21}} {{json 0.0000001}}", "1e+21 1e-7");
  check ("{{lower .Str}}|{{upper .Str}}|{{title .Str}}",
         "hello world foo-bar|HELLO WORLD FOO-BAR|Hello WORLD Foo-Bar");
  check ("{{join .Names \",\"}} {{join .Empty \",\"}}|", "a,b,c |");
  check ("{{split \"a,b,,c\" \",\"}} {{len (split \"héllo\" \"\")}}", "[a b  c] 5");
  check ("{{len .Names}} {{len .Labels}} {{len .Tag}} {{len .Empty}}", "3 3 2 0");
  check ("{{truncate .ID 4}} {{truncate .Tag 10}}", "4c36 v1");
  check ("{{pad .Tag 1 2}}| {{pad .Blank 3 3}}|", " v1  | |");
  check ("{{index .Labels \"app\"}} {{index .Names 2}} {{index .Mounts 1 \"Dest\"}}",
         "web c /y");
  check ("[{{index .Labels \"nope\"}}]", "[]");
  check ("{{slice .Tag 1}} {{slice .Names 1 2}}", "1 [b]");
  check ("{{print .Tag .Size 1 2 \"x\"}}|{{println .Tag 1}}|", "v111380 1 2x|v1 1\n|");
  check ("{{.Tag | upper}} {{.Names | len}} {{\"%s!\" | printf .Tag}}",
         "V1 3 v1%!(EXTRA string=%s!)");
  check ("{{.Tag | printf \"<%s>\"}}", "<v1>");
  check ("{{len}}", "ERR template: images:1:2: executing \"images\" at <len>: "
         "wrong number of args for len: want 1 got 0");
  check ("{{index .Names 5}}", "ERR template: images:1:2: executing \"images\" at "
         "<index .Names 5>: error calling index: index out of range: 5");
  check ("{{upper .Size}}", "ERR template: images:1:2: executing \"images\" at "
         "<upper .Size>: wrong type for value; expected string; got int");
  check ("{{upper .Labels.nope}}", "ERR template: images:1:2: executing \"images\" at "
         "<upper .Labels.nope>: invalid value; expected string");
  check ("{{len .Size}}", "ERR template: images:1:2: executing \"images\" at "
         "<len .Size>: error calling len: len of type int");
  check ("{{truncate .Tag -1}}", "ERR template: images:1:2: executing \"images\" "
         "at <truncate .Tag -1>: error calling truncate: runtime error: slice "
         "bounds out of range [:-1]");
}

static void
test_printf (void **state)
{
  check ("{{printf \"%d|%s|%v|%q|%x|%5s|%-5s|\" .Size .Size .Size .Tag .Tag .Tag .Tag}}",
         "11380|%!s(int=11380)|11380|\"v1\"|7631|   v1|v1   |");
  check ("{{printf \"%d|%s\" .Tag .Tag}}", "%!d(string=v1)|v1");
  check ("{{printf \"%05d|%-6d|%+d|%x|%X|%o|%#x|%.3d\" 42 42 42 255 255 8 255 7}}",
         "00042|42    |+42|ff|FF|10|0xff|007");
  check ("{{printf \"%d %x %X %o %c\" -42 -255 \"hi\" 8 65}}", "-42 -ff 6869 10 A");
  check ("{{printf \"%v|%5v|%-6v|%v\" .Size .Tag .Yes 1.5}}", "11380|   v1|true  |1.5");
  check ("{{printf \"%v %.2f %e %g %t %c %%\" .Ratio .Ratio 1234.5678 .Big .Yes 65}}",
         "0.5 0.50 1.234568e+03 1e+06 true A %");
  check ("{{printf \"%v %s\" .Names .Labels}}", "[a b c] map[app:web n:1 zeta:z]");
  check ("{{printf \"%s %d\"}}|{{printf \"%\"}}|{{printf \"%z\" 1}}",
         "%!s(MISSING) %!d(MISSING)|%!(NOVERB)|%!z(int=1)");
  check ("{{printf \"%q\" .Html}}", "\"<a&b>\\n\\t\\\"q\\\"\u2028\"");
  check ("{{printf \"%.2s|%3.1s|\" \"héllo\" \"xyz\"}}", "hé|  x|");
  check ("{{printf \"%9999999d\" 1}}", "%!(BADWIDTH)1");
  check ("{{printf \"%s\" .Nothing}} {{printf \"%d\" .Labels.nope}}",
         "%!s(<nil>) %!d(<nil>)");
}

static void
test_compare_logic (void **state)
{
  check ("{{eq .Tag \"v1\"}} {{eq .Tag \"x\" \"v1\"}} {{ne .Size 1}} {{eq .Size 11380}}",
         "true true true true");
  check ("{{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1.5 2}} {{lt 1 1.5}}",
         "true true true false true");
  check ("{{eq .Nothing .Labels.nope}} {{eq .Tag .Nothing}} {{eq .Names .Names}}",
         "true false true");
  check ("{{and 1 0}} {{or 0 \"x\"}} {{not 0}} {{and .Yes .Tag}} {{or .No .Blank}}|",
         "0 x true v1 |");
  /* Short-circuit: the failing call is never made.  */
  check ("{{or .Yes (index .Names 9)}} {{and .No (index .Names 9)}}", "true false");
  check ("{{lt .Tag 1}}", "ERR template: images:1:2: executing \"images\" at "
         "<lt .Tag 1>: error calling lt: incompatible types for comparison");
  check ("{{lt .Yes .No}}", "ERR template: images:1:2: executing \"images\" at "
         "<lt .Yes .No>: error calling lt: invalid type for comparison");
}

static void
test_control (void **state)
{
  check ("{{if .Tag}}yes{{else}}no{{end}}", "yes");
  check ("{{if .Blank}}1{{else if .Zero}}2{{else if .Empty}}3{{else if .Nothing}}"
         "4{{else if .No}}5{{else if .Labels.x}}6{{else}}none{{end}}", "none");
  check ("{{if .Labels}}L{{end}}{{if .Config}}C{{end}}{{if .Ratio}}R{{end}}", "LCR");
  check ("{{range .Names}}[{{.}}]{{end}}", "[a][b][c]");
  check ("{{range $i, $e := .Names}}{{$i}}={{$e}} {{end}}", "0=a 1=b 2=c ");
  check ("{{range $k, $v := .Labels}}{{$k}}:{{$v}},{{end}}", "app:web,n:1,zeta:z,");
  check ("{{range .Labels}}{{.}},{{end}}", "web,1,z,");
  check ("{{range .Empty}}x{{else}}empty{{end}} {{range .Nothing}}x{{else}}nil{{end}}",
         "empty nil");
  check ("{{range .Mounts}}{{.Source}}->{{.Dest}} {{$.Tag}};{{end}}",
         "/a->/x v1;/b->/y v1;");
  check ("{{range .Names}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}", "a");
  check ("{{range .Names}}{{if eq . \"b\"}}{{continue}}{{end}}{{.}}{{end}}", "ac");
  check ("{{with .Config}}{{.User}}|{{.Cmd}}{{end}}", "|[/bin/sh -c x]");
  check ("{{with .Blank}}x{{else}}blank{{end}}", "blank");
  check ("{{$x := .Tag}}{{$x}}{{$x = \"w\"}}{{$x}}{{if 1}}{{$x = \"in\"}}{{end}}{{$x}}",
         "v1win");
  check ("{{range .Tag}}{{end}}", "ERR template: images:1:8: executing \"images\" at "
         "<.Tag>: range can't iterate over v1");
}

static void
test_syntax (void **state)
{
  check ("a  {{- .Tag -}}  \n b", "av1b");
  check ("a {{- /* comment */ -}} b{{/* another */}}", "ab");
  check ("{{\"a\\tb\\u00e9\\x41\\101\"}} {{`raw\\n`}} {{'a'}} {{-3}} {{0x10}} {{1.5}} {{1e3}}",
         "a\tbéAA raw\\n 97 -3 16 1.5 1000");
  check ("{{(len .Names)}} {{len (index .Mounts 0)}}", "3 2");
  check ("{{true}} {{false}}", "true false");
  check ("{{nil}}", "ERR template: images:1:2: executing \"images\" at <nil>: "
         "nil is not a command");
}

static void
parse_fails (const char *template, const char *msg)
{
  struct cove_error *err = NULL;
  struct cove_format *f = cove_format_parse ("images", template, &err);
  assert_null (f);
  assert_non_null (err);
  assert_int_equal (err->errnum, EINVAL);
  if (strcmp (err->msg, msg) != 0)
    print_error ("template %s\n  expected [%s]\n  got      [%s]\n", template,
                 msg, err->msg);
  assert_string_equal (err->msg, msg);
  cove_error_free (err);
}

static void
test_parse_errors (void **state)
{
  parse_fails ("{{.Foo}", "template: images:1: bad character U+007D '}'");
  parse_fails ("{{if .Tag}}", "template: images:1: unexpected EOF");
  parse_fails ("{{nope .Tag}}", "template: images:1: function \"nope\" not defined");
  parse_fails ("{{.Tag", "template: images:1: unclosed action");
  parse_fails ("x\n{{end}}", "template: images:2: unexpected {{end}}");
  parse_fails ("{{else}}", "template: images:1: unexpected {{else}}");
  parse_fails ("{{}}", "template: images:1: missing value for command");
  parse_fails ("{{range}}{{end}}", "template: images:1: missing value for range");
  parse_fails ("{{$x}}", "template: images:1: undefined variable \"$x\"");
  parse_fails ("{{if 1}}{{$x := 1}}{{end}}{{$x}}",
               "template: images:1: undefined variable \"$x\"");
  parse_fails ("{{\"abc}}", "template: images:1: unterminated quoted string");
  parse_fails ("{{1x}}", "template: images:1: bad number syntax: \"1x\"");
  parse_fails ("{{/* x }}", "template: images:1: unclosed comment");
  parse_fails ("{{break}}", "template: images:1: {{break}} outside {{range}}");
  parse_fails ("{{(len .Names}}", "template: images:1: unclosed left paren");
  parse_fails ("{{define \"x\"}}{{end}}", "template: images:1: {{define}} is not supported");
  parse_fails ("{{.A.B\"x\"}}", "template: images:1: unexpected \"\"\" in operand");
  parse_fails ("{{range .A}}{{else}}{{else}}{{end}}",
               "template: images:1: expected end; found {{else}}");
  /* The default name.  */
  struct cove_error *err = NULL;
  assert_null (cove_format_parse (NULL, "{{", &err));
  assert_string_equal (err->msg, "template: format:1: unclosed action");
  cove_error_free (err);
}

/* PREFIX, then N times REP, then M times TAIL; caller frees.  */
static char *
repeat (const char *prefix, const char *rep, int n, const char *tail, int m)
{
  size_t len = strlen (prefix) + n * strlen (rep) + m * strlen (tail) + 1;
  char *r = malloc (len), *p = r;
  p = stpcpy (p, prefix);
  for (int i = 0; i < n; i++)
    p = stpcpy (p, rep);
  for (int i = 0; i < m; i++)
    p = stpcpy (p, tail);
  return r;
}

static void
test_depth_and_budget (void **state)
{
  char *deep = repeat ("", "{{if 1}}", 150, "", 0);
  parse_fails (deep, "template: images:1: template nested too deeply");
  free (deep);
  char *parens = repeat ("{{", "(", 150, "", 0);
  parse_fails (parens, "template: images:1: template nested too deeply");
  free (parens);
  char *ok = repeat ("", "{{if 1}}", 100, "{{end}}", 100);
  struct cove_error *err = NULL;
  struct cove_format *f = cove_format_parse (NULL, ok, &err);
  assert_non_null (f);
  cove_format_free (f);
  free (ok);

  /* 3^12 iterations: the step budget stops it.  */
  char *nested = repeat ("", "{{range $.Names}}", 12, "{{end}}", 12);
  f = cove_format_parse (NULL, nested, &err);
  free (nested);
  assert_non_null (f);
  cove_format_set_budget (f, 100000, 1 << 20);
  json_t *d = doc ();
  assert_null (cove_format_render (f, d, &err));
  assert_int_equal (err->errnum, E2BIG);
  cove_error_release (&err);
  cove_format_free (f);

  /* Doubling a string: the byte budget stops it.  */
  char *dbl = repeat ("{{$x := \"0123456789\"}}",
                      "{{$x = printf \"%s%s\" $x $x}}", 40, "", 0);
  f = cove_format_parse (NULL, dbl, &err);
  free (dbl);
  assert_non_null (f);
  assert_null (cove_format_render (f, d, &err));
  assert_int_equal (err->errnum, E2BIG);
  cove_error_release (&err);
  cove_format_free (f);
  char *vars = repeat ("", "{{$v := 1}}", 1001, "", 0);
  parse_fails (vars, "template: images:1: too many variables");
  free (vars);
  f = cove_format_parse (NULL, "{{pad \"x\" 9000000000000 1}}", &err);
  assert_null (cove_format_render (f, d, &err));
  assert_int_equal (err->errnum, E2BIG);
  cove_error_release (&err);
  cove_format_free (f);
  json_decref (d);
}

static void
test_is_json (void **state)
{
  assert_true (cove_format_is_json ("json"));
  assert_true (cove_format_is_json (" json \n"));
  assert_true (cove_format_is_json ("{{json .}}"));
  assert_true (cove_format_is_json ("{{ json . }}"));
  assert_true (cove_format_is_json ("{{json}}"));
  assert_false (cove_format_is_json ("{{json .ID}}"));
  assert_false (cove_format_is_json ("{{json.}}"));
  assert_false (cove_format_is_json ("jsonx"));
  assert_false (cove_format_is_json ("table {{json .}}"));
  assert_false (cove_format_is_json ("{{.ID}}"));
}

/* Print ITEMS with FORMAT through the table printer; returns the output.  */
static char *
print_table (const char *format, const char *const *titles, unsigned flags,
             const char *items_json)
{
  json_error_t je;
  json_t *items = json_loads (items_json, 0, &je);
  assert_non_null (items);
  struct cove_error *err = NULL;
  struct cove_format_table *t = cove_format_table_new ("images", format, titles,
                                                       flags, &err);
  assert_non_null (t);
  for (size_t i = 0; i < json_array_size (items); i++)
    cove_format_table_add_row (t, json_array_get (items, i));
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&out, &len);
  assert_int_equal (cove_format_table_print (t, f, &err), 0);
  assert_null (err);
  fclose (f);
  cove_format_table_free (t);
  json_decref (items);
  return out;
}

static const char images_json[] =
  "[{\"Repository\":\"localhost/myimg\",\"Tag\":\"v1\",\"ID\":\"4c364d0d0f51\","
  "\"CreatedSince\":\"Less than a second ago\",\"Size\":\"11.4 kB\",\"Names\":[\"x\"]},"
  "{\"Repository\":\"quay.io/some/longer-repository-name\",\"Tag\":\"latest\","
  "\"ID\":\"4c364d0d0f51\",\"CreatedSince\":\"Less than a second ago\","
  "\"Size\":\"11.4 kB\",\"Names\":[]}]";

static const char *const image_titles[] = { "ID", "IMAGE ID", "CreatedSince",
                                            "CREATED", NULL };

static void
test_table_images (void **state)
{
  /* Byte for byte what `podman images` printed for the same two images.  */
  char *out = print_table ("table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t"
                           "{{.CreatedSince}}\\t{{.Size}}", image_titles, 0,
                           images_json);
  assert_string_equal (out,
    "REPOSITORY                           TAG         IMAGE ID      CREATED                 SIZE\n"
    "localhost/myimg                      v1          4c364d0d0f51  Less than a second ago  11.4 kB\n"
    "quay.io/some/longer-repository-name  latest      4c364d0d0f51  Less than a second ago  11.4 kB\n");
  free (out);
  /* A line without tabs ends the column blocks (podman prints this).  */
  out = print_table ("table {{.ID}}\\t{{.Repository}}\\n{{.Tag}}", image_titles,
                     0, images_json);
  assert_string_equal (out,
    "IMAGE ID    REPOSITORY\n"
    "TAG\n"
    "4c364d0d0f51  localhost/myimg\n"
    "v1\n"
    "4c364d0d0f51  quay.io/some/longer-repository-name\n"
    "latest\n");
  free (out);
  out = print_table ("table {{.ID}}\t{{.Tag}}", image_titles,
                     COVE_FORMAT_NOHEADING, images_json);
  assert_string_equal (out, "4c364d0d0f51  v1\n4c364d0d0f51  latest\n");
  free (out);
  /* No rows: the header alone.  */
  out = print_table ("table {{.ID}}\t{{.Tag}}", image_titles, 0, "[]");
  assert_string_equal (out, "IMAGE ID    TAG\n");
  free (out);
}

static void
test_table_titles (void **state)
{
  char *out = print_table ("table {{.CreatedAt}}|{{.RepoDigests}}|{{.PIDs}}|"
                           "{{.IDName}}|{{.Config.Cmd}}|{{json .Names}}|"
                           "{{.Tag | lower}}|{{truncate .Repository 4}}|"
                           "{{range .Names}}<{{.}}>{{end}}|{{if .X}}x{{end}}|{{.}}",
                           image_titles, COVE_FORMAT_NOHEADING | 0, "[]");
  assert_string_equal (out, "");
  free (out);
  out = print_table ("table {{.CreatedAt}}|{{.RepoDigests}}|{{.PIDs}}|"
                     "{{.IDName}}|{{.Config.Cmd}}|{{json .Names}}|"
                     "{{.Tag | lower}}|{{truncate .Repository 4}}|"
                     "{{range .Names}}<{{.}}>{{end}}|{{if .X}}x{{end}}|{{.}}",
                     image_titles, 0, "[]");
  assert_string_equal (out, "CREATED AT|REPO DIGESTS|PI DS|ID NAME|CMD|NAMES|"
                            "tag|REPO|<NAMES>|x|\n");
  free (out);
}

static void
test_plain_formats (void **state)
{
  /* Not a table: one line per item, no alignment, no header.  */
  char *out = print_table ("{{.ID}}\\t{{.Tag}}", image_titles, 0, images_json);
  assert_string_equal (out, "4c364d0d0f51\tv1\n4c364d0d0f51\tlatest\n");
  free (out);
  /* A format that ranges itself runs once over the list.  */
  out = print_table ("{{range .}}{{.Tag}},{{end}}", NULL, 0, images_json);
  assert_string_equal (out, "v1,latest,\n");
  free (out);
  out = print_table ("{{json .Names}}\n", NULL, 0, images_json);
  assert_string_equal (out, "[\"x\"]\n[]\n");
  free (out);

  struct cove_error *err = NULL;
  assert_null (cove_format_table_new ("images", "table {{.ID", NULL, 0, &err));
  assert_string_equal (err->msg, "template: images:1: unclosed action");
  cove_error_release (&err);

  /* An execution error prints nothing.  */
  json_t *items = json_loads (images_json, 0, NULL);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&buf, &len);
  assert_int_equal (cove_format_print_list ("images", "table {{.ID}}\t{{.Nope}}",
                                            NULL, items, f, &err), -1);
  fclose (f);
  assert_int_equal (len, 0);
  assert_int_equal (err->errnum, EINVAL);
  assert_non_null (strstr (err->msg, "can't evaluate field Nope"));
  cove_error_release (&err);
  f = open_memstream (&buf, &len);
  free (buf);
  assert_int_equal (cove_format_print_list ("images", "{{.Tag}}", NULL, items, f,
                                            &err), 0);
  fclose (f);
  assert_string_equal (buf, "v1\nlatest\n");
  free (buf);
  json_decref (items);
}

static void
test_tabwrite (void **state)
{
  char *s = cove_format_tabwrite ("a\tb\tc\nlonger-than-twelve\tx\n\tempty\n");
  assert_string_equal (s, "a                   b           c\n"
                          "longer-than-twelve  x\n"
                          "                    empty\n");
  free (s);
  s = cove_format_tabwrite ("é\tx\nno tabs\n");
  assert_string_equal (s, "é           x\nno tabs\n");
  free (s);
  s = cove_format_tabwrite ("");
  assert_string_equal (s, "");
  free (s);
  /* Many columns in one line: no recursion per column.  */
  char *many = malloc (200001);
  memset (many, '\t', 200000);
  many[200000] = '\0';
  s = cove_format_tabwrite (many);
  assert_int_equal (strlen (s), 200000 * 12);
  free (s);
  free (many);
}

static void
test_execute_to_file (void **state)
{
  struct cove_error *err = NULL;
  struct cove_format *f = cove_format_parse ("x", "{{.Tag}}{{\"\\x00\"}}!", &err);
  json_t *d = doc ();
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream (&buf, &len);
  assert_int_equal (cove_format_execute (f, d, out, &err), 0);
  fclose (out);
  assert_int_equal (len, 4);
  assert_memory_equal (buf, "v1\0!", 4);
  free (buf);
  cove_format_free (f);

  /* Failure: nothing is written.  */
  f = cove_format_parse ("x", "partial {{.Nope}}", &err);
  out = open_memstream (&buf, &len);
  assert_int_equal (cove_format_execute (f, d, out, &err), -1);
  fclose (out);
  assert_int_equal (len, 0);
  free (buf);
  assert_int_equal (err->errnum, EINVAL);
  cove_error_release (&err);
  cove_format_free (f);
  json_decref (d);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_fields),
    cmocka_unit_test (test_field_errors),
    cmocka_unit_test (test_functions),
    cmocka_unit_test (test_printf),
    cmocka_unit_test (test_compare_logic),
    cmocka_unit_test (test_control),
    cmocka_unit_test (test_syntax),
    cmocka_unit_test (test_parse_errors),
    cmocka_unit_test (test_depth_and_budget),
    cmocka_unit_test (test_is_json),
    cmocka_unit_test (test_table_images),
    cmocka_unit_test (test_table_titles),
    cmocka_unit_test (test_plain_formats),
    cmocka_unit_test (test_tabwrite),
    cmocka_unit_test (test_execute_to_file),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
