/* Unit tests of pkg/build: the Containerfile parser (every instruction,
   the directives, heredocs, malformed input).  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/build/build.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

static struct cove_build_file *
parse_ok (const char *text)
{
  struct cove_error *err = NULL;
  struct cove_build_file *f = cove_build_parse ("Containerfile", text,
                                                strlen (text), &err);
  if (f == NULL)
    fail_msg ("%s: %s", text, err->msg);
  assert_null (err);
  return f;
}

/* TEXT fails with EINVAL and a message containing WANT.  */
static void
parse_fail (const char *text, const char *want)
{
  struct cove_error *err = NULL;
  struct cove_build_file *f = cove_build_parse ("Containerfile", text,
                                                strlen (text), &err);
  if (f != NULL)
    fail_msg ("accepted: %s", text);
  assert_non_null (err);
  assert_int_equal (err->errnum, EINVAL);
  if (strstr (err->msg, want) == NULL)
    fail_msg ("%s: message \"%s\" lacks \"%s\"", text, err->msg, want);
  cove_error_free (err);
}

/* The only instruction after FROM of TEXT's first stage.  */
static const struct cove_build_instr *
first (const struct cove_build_file *f)
{
  assert_true (f->n_stages >= 1);
  assert_true (f->stages[0].n_instrs >= 1);
  return &f->stages[0].instrs[0];
}

static void
test_from (void **state)
{
  struct cove_build_file *f
    = parse_ok ("FROM busybox\n"
                "FROM --platform=linux/arm64 docker.io/x/y:1 AS Build\n"
                "from scratch as final\nCOPY --from=build /a /b\n");
  assert_int_equal (f->n_stages, 3);
  assert_string_equal (f->stages[0].image, "busybox");
  assert_null (f->stages[0].name);
  assert_null (f->stages[0].platform);
  assert_int_equal (f->stages[0].from.line, 1);
  assert_string_equal (f->stages[1].image, "docker.io/x/y:1");
  assert_string_equal (f->stages[1].name, "build");
  assert_string_equal (f->stages[1].platform, "linux/arm64");
  assert_int_equal (f->stages[1].index, 1);
  assert_string_equal (f->stages[2].image, "scratch");
  assert_string_equal (f->stages[2].name, "final");
  assert_int_equal (f->stages[2].n_instrs, 1);
  assert_ptr_equal (cove_build_find_stage (f, "BUILD", 3), &f->stages[1]);
  assert_ptr_equal (cove_build_find_stage (f, "0", 2), &f->stages[0]);
  assert_null (cove_build_find_stage (f, "2", 2));
  assert_null (cove_build_find_stage (f, "final", 2));
  assert_null (cove_build_find_stage (f, "busybox", 3));
  assert_int_equal (f->escape, '\\');
  assert_null (f->syntax);
  assert_null (f->warnings[0]);
  cove_build_file_free (f);

  parse_fail ("FROM a b\n", "Containerfile:1: FROM: requires either one or three");
  parse_fail ("FROM a AS\n", "one or three");
  parse_fail ("FROM a TO b\n", "one or three");
  parse_fail ("FROM\n", "one or three");
  parse_fail ("FROM a AS 1x\n", "invalid name for build stage");
  parse_fail ("FROM a AS x/y\n", "invalid name for build stage");
  parse_fail ("FROM a AS x\nFROM b AS X\n", "Containerfile:2: FROM: duplicate stage name");
  parse_fail ("FROM --platform a\n", "missing a value on flag: platform");
  parse_fail ("FROM --plat=x a\n", "unknown flag: plat");
}

static void
test_args (void **state)
{
  struct cove_build_file *f
    = parse_ok ("ARG BASE=busybox\nARG TAG\nFROM ${BASE}:$TAG\n"
                "ARG BASE\nARG a=1 b=\"two words\" c\n");
  assert_int_equal (f->n_global_args, 2);
  assert_int_equal (f->global_args[0].kind, COVE_BUILD_ARG);
  assert_string_equal (f->global_args[0].kvs[0].key, "BASE");
  assert_string_equal (f->global_args[0].kvs[0].value, "busybox");
  assert_null (f->global_args[1].kvs[0].value);
  assert_string_equal (f->stages[0].image, "${BASE}:$TAG");
  const struct cove_build_instr *a = &f->stages[0].instrs[1];
  assert_int_equal (a->n_kvs, 3);
  assert_string_equal (a->kvs[1].key, "b");
  assert_string_equal (a->kvs[1].value, "\"two words\"");
  assert_null (a->kvs[2].value);
  assert_null (a->args[0]);
  cove_build_file_free (f);
  parse_fail ("FROM a\nARG\n", "ARG: requires at least one argument");
  parse_fail ("FROM a\nARG =x\n", "names can not be blank");
}

static void
test_run (void **state)
{
  struct cove_build_file *f
    = parse_ok ("FROM a\nRUN echo  \"hi there\" $HOME\n"
                "RUN [\"/bin/echo\", \"a b\", \"\\u00e9\"]\n"
                "RUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/t "
                "--network=none ls\n"
                "RUN [ \"unterminated\"\n"
                "RUN [\"a\"] trailing text\n"
                "RUN -- --not-a-flag\n");
  const struct cove_build_instr *r = f->stages[0].instrs;
  assert_int_equal (r[0].kind, COVE_BUILD_RUN);
  assert_false (r[0].json_form);
  assert_string_equal (r[0].args[0], "echo  \"hi there\" $HOME");
  assert_null (r[0].args[1]);
  assert_int_equal (r[0].line, 2);
  assert_true (r[1].json_form);
  assert_string_equal (r[1].args[1], "a b");
  assert_string_equal (r[1].args[2], "\xc3\xa9");
  assert_null (r[1].args[3]);
  assert_int_equal (r[2].n_flags, 3);
  assert_string_equal (r[2].flags[0].name, "mount");
  assert_string_equal (r[2].flags[1].value, "type=tmpfs,target=/t");
  assert_string_equal (cove_build_instr_flag (&r[2], "mount"),
                       "type=tmpfs,target=/t");
  assert_string_equal (cove_build_instr_flag (&r[2], "network"), "none");
  assert_null (cove_build_instr_flag (&r[2], "security"));
  assert_string_equal (r[2].args[0], "ls");
  /* Only a well-formed JSON array is the exec form.  */
  assert_false (r[3].json_form);
  assert_string_equal (r[3].args[0], "[ \"unterminated\"");
  /* What follows a JSON array is ignored, as Go's decoder does.  */
  assert_true (r[4].json_form);
  assert_string_equal (r[4].args[0], "a");
  assert_null (r[4].args[1]);
  assert_string_equal (r[5].args[0], "--not-a-flag");
  assert_int_equal (r[5].n_flags, 0);
  cove_build_file_free (f);

  parse_fail ("FROM a\nRUN [\"a\", 1]\n", "arrays must be comprised of strings");
  parse_fail ("FROM a\nRUN [null]\n", "strings only");
  parse_fail ("FROM a\nRUN\n", "Containerfile:2: RUN: requires at least one");
  parse_fail ("FROM a\nRUN []\n", "requires at least one");
  parse_fail ("FROM a\nRUN --network=bridge x\n", "network mode \"bridge\"");
  parse_fail ("FROM a\nRUN --network x\n", "missing a value on flag: network");
  parse_fail ("FROM a\nRUN --network=a --network=b x\n", "duplicate flag");
  parse_fail ("FROM a\nRUN --foo=1 x\n", "RUN: unknown flag: foo");
}

static void
test_copy_add (void **state)
{
  struct cove_build_file *f
    = parse_ok ("FROM a\n"
                "COPY --from=build --chown=1:2 --chmod=0755 --link a b /dst/\n"
                "COPY --link=false [\"a b\", \"/c d/\"]\n"
                "ADD --chown=u --chmod=600 --checksum=sha256:00 http://x/y /\n"
                "copy \"--quoted\" x\n");
  const struct cove_build_instr *c = f->stages[0].instrs;
  assert_int_equal (c[0].kind, COVE_BUILD_COPY);
  assert_string_equal (cove_build_instr_flag (&c[0], "from"), "build");
  assert_string_equal (cove_build_instr_flag (&c[0], "chown"), "1:2");
  assert_string_equal (cove_build_instr_flag (&c[0], "chmod"), "0755");
  assert_string_equal (cove_build_instr_flag (&c[0], "link"), "true");
  assert_int_equal (cove_strv_len (c[0].args), 3);
  assert_string_equal (c[0].args[2], "/dst/");
  assert_true (c[1].json_form);
  assert_string_equal (cove_build_instr_flag (&c[1], "link"), "false");
  assert_string_equal (c[1].args[0], "a b");
  assert_int_equal (c[2].kind, COVE_BUILD_ADD);
  assert_string_equal (cove_build_instr_flag (&c[2], "checksum"), "sha256:00");
  assert_string_equal (c[3].args[0], "\"--quoted\"");
  cove_build_file_free (f);

  parse_fail ("FROM a\nCOPY x\n", "COPY: requires at least two arguments");
  parse_fail ("FROM a\nADD [\"x\"]\n", "ADD: requires at least two");
  parse_fail ("FROM a\nADD --from=x a b\n", "ADD: unknown flag: from");
  parse_fail ("FROM a\nCOPY --link=maybe a b\n", "expecting boolean value");
  parse_fail ("FROM a\nCOPY --link= a b\n", "missing a value on flag: link");
  parse_fail ("FROM a\nCOPY --chown a b\n", "missing a value on flag: chown");
  parse_fail ("FROM a\nCOPY --from=a --from=b a b\n", "duplicate flag");
  parse_fail ("FROM a\nCOPY a <<EOF\nx\nEOF\n", "heredoc as a destination");
}

static void
test_env_label (void **state)
{
  struct cove_build_file *f
    = parse_ok ("FROM a\nENV PATH /usr/bin:$PATH  more words\n"
                "ENV a=1 b=\"x y\" c='$z' d=e\\ f\n"
                "LABEL \"com.example.x\"=\"v 1\" version=2\n"
                "LABEL old style value\n");
  const struct cove_build_instr *e = f->stages[0].instrs;
  assert_int_equal (e[0].n_kvs, 1);
  assert_string_equal (e[0].kvs[0].key, "PATH");
  assert_string_equal (e[0].kvs[0].value, "/usr/bin:$PATH  more words");
  assert_int_equal (e[1].n_kvs, 4);
  assert_string_equal (e[1].kvs[1].value, "\"x y\"");
  assert_string_equal (e[1].kvs[2].value, "'$z'");
  assert_string_equal (e[1].kvs[3].value, "e\\ f");
  assert_int_equal (e[2].kind, COVE_BUILD_LABEL);
  assert_string_equal (e[2].kvs[0].key, "\"com.example.x\"");
  assert_string_equal (e[3].kvs[0].key, "old");
  assert_string_equal (e[3].kvs[0].value, "style value");
  cove_build_file_free (f);

  parse_fail ("FROM a\nENV\n", "ENV: requires at least one argument");
  parse_fail ("FROM a\nENV A\n", "ENV: must have two arguments");
  parse_fail ("FROM a\nENV a=1 b\n", "can't find = in \"b\"");
  parse_fail ("FROM a\nENV =1\n", "names can not be blank");
  parse_fail ("FROM a\nLABEL\n", "LABEL: requires at least one");
}

static void
test_simple (void **state)
{
  struct cove_build_file *f
    = parse_ok ("FROM a\nWORKDIR /app dir\nUSER 1000:1000\n"
                "EXPOSE 80 443/udp\nMAINTAINER Jane <j@x>\nSTOPSIGNAL SIGKILL\n"
                "VOLUME [\"/a\", \"/b\"]\nVOLUME /c /d\n"
                "SHELL [\"/bin/bash\", \"-c\"]\nCMD [\"x\"]\nCMD\n"
                "ENTRYPOINT exec top -b\n");
  const struct cove_build_instr *s = f->stages[0].instrs;
  assert_int_equal (f->stages[0].n_instrs, 11);
  assert_int_equal (s[0].kind, COVE_BUILD_WORKDIR);
  assert_string_equal (s[0].args[0], "/app dir");
  assert_string_equal (s[1].args[0], "1000:1000");
  assert_int_equal (s[2].kind, COVE_BUILD_EXPOSE);
  assert_string_equal (s[2].args[1], "443/udp");
  assert_string_equal (s[3].args[0], "Jane <j@x>");
  assert_string_equal (s[4].args[0], "SIGKILL");
  assert_true (s[5].json_form);
  assert_string_equal (s[5].args[1], "/b");
  assert_false (s[6].json_form);
  assert_string_equal (s[6].args[1], "/d");
  assert_int_equal (s[7].kind, COVE_BUILD_SHELL);
  assert_string_equal (s[7].args[0], "/bin/bash");
  assert_true (s[8].json_form);
  assert_null (s[9].args[0]);
  assert_int_equal (s[10].kind, COVE_BUILD_ENTRYPOINT);
  assert_string_equal (s[10].args[0], "exec top -b");
  cove_build_file_free (f);

  parse_fail ("FROM a\nWORKDIR\n", "WORKDIR: requires exactly one argument");
  parse_fail ("FROM a\nUSER\n", "USER: requires exactly one");
  parse_fail ("FROM a\nSTOPSIGNAL\n", "STOPSIGNAL: requires exactly one");
  parse_fail ("FROM a\nMAINTAINER\n", "MAINTAINER: requires exactly one");
  parse_fail ("FROM a\nEXPOSE\n", "EXPOSE: requires at least one");
  parse_fail ("FROM a\nVOLUME\n", "VOLUME: requires at least one");
  parse_fail ("FROM a\nVOLUME [\" \"]\n", "can not be an empty string");
  parse_fail ("FROM a\nSHELL /bin/sh -c\n", "SHELL: requires the arguments to be in JSON");
  parse_fail ("FROM a\nSHELL []\n", "SHELL: requires at least one");
  parse_fail ("FROM a\nWORKDIR --x=1 /\n", "WORKDIR: unknown flag: x");
}

static void
test_healthcheck (void **state)
{
  struct cove_build_file *f
    = parse_ok ("FROM a\nHEALTHCHECK NONE\n"
                "HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=1.5h "
                "--start-interval=2s --retries=3 CMD curl -f http://x/ || exit 1\n"
                "HEALTHCHECK cmd [\"/bin/check\", \"-q\"]\n"
                "HEALTHCHECK --interval=0 CMD x\n");
  const struct cove_build_instr *h = f->stages[0].instrs;
  assert_true (h[0].health.none);
  assert_string_equal (h[0].args[0], "NONE");
  assert_false (h[1].health.none);
  assert_int_equal (h[1].health.interval, 90000000000LL);
  assert_int_equal (h[1].health.timeout, 500000000LL);
  assert_int_equal (h[1].health.start_period, 5400000000000LL);
  assert_int_equal (h[1].health.start_interval, 2000000000LL);
  assert_int_equal (h[1].health.retries, 3);
  assert_string_equal (h[1].args[0], "CMD");
  assert_string_equal (h[1].args[1], "curl -f http://x/ || exit 1");
  assert_false (h[1].json_form);
  assert_true (h[2].json_form);
  assert_string_equal (h[2].args[0], "CMD");
  assert_string_equal (h[2].args[2], "-q");
  assert_int_equal (h[3].health.interval, 0);
  cove_build_file_free (f);

  parse_fail ("FROM a\nHEALTHCHECK\n", "HEALTHCHECK: requires at least one");
  parse_fail ("FROM a\nHEALTHCHECK NONE x\n", "NONE takes no arguments");
  parse_fail ("FROM a\nHEALTHCHECK --retries=1 NONE\n", "NONE takes no arguments");
  parse_fail ("FROM a\nHEALTHCHECK CMD\n", "missing command after HEALTHCHECK CMD");
  parse_fail ("FROM a\nHEALTHCHECK RUN x\n", "unknown type \"RUN\"");
  parse_fail ("FROM a\nHEALTHCHECK --interval=5 CMD x\n", "invalid duration");
  parse_fail ("FROM a\nHEALTHCHECK --interval=1x CMD x\n", "invalid duration");
  parse_fail ("FROM a\nHEALTHCHECK --timeout=10us CMD x\n", "cannot be less than 1ms");
  parse_fail ("FROM a\nHEALTHCHECK --retries=-1 CMD x\n", "cannot be negative");
  parse_fail ("FROM a\nHEALTHCHECK --retries=x CMD x\n", "invalid --retries");
  parse_fail ("FROM a\nHEALTHCHECK --user=x CMD x\n", "unknown flag: user");
}

static void
test_onbuild (void **state)
{
  struct cove_build_file *f
    = parse_ok ("FROM a\nONBUILD RUN echo $HOME\nonbuild copy . /app\n"
                "ONBUILD RUN <<EOF\necho hi\nEOF\n"
                "ONBUILD RUN [\"a\"] <<EOF\nRUN x\n");
  const struct cove_build_instr *o = f->stages[0].instrs;
  assert_int_equal (o[0].kind, COVE_BUILD_ONBUILD);
  assert_int_equal (o[0].onbuild_kind, COVE_BUILD_RUN);
  assert_string_equal (o[0].args[0], "RUN echo $HOME");
  assert_int_equal (o[1].onbuild_kind, COVE_BUILD_COPY);
  assert_string_equal (o[1].args[0], "copy . /app");
  assert_int_equal (o[2].n_heredocs, 1);
  assert_string_equal (o[2].args[0], "RUN <<EOF\necho hi\nEOF");
  /* An exec form trigger has no heredoc.  */
  assert_true (o[3].json_form);
  assert_int_equal (o[3].n_heredocs, 0);
  assert_int_equal (f->stages[0].n_instrs, 5);
  cove_build_file_free (f);

  parse_fail ("FROM a\nONBUILD ONBUILD RUN x\n", "ONBUILD ONBUILD");
  parse_fail ("FROM a\nONBUILD FROM b\n", "FROM isn't allowed as an ONBUILD trigger");
  parse_fail ("FROM a\nONBUILD MAINTAINER me\n", "MAINTAINER isn't allowed");
  parse_fail ("FROM a\nONBUILD\n", "ONBUILD: requires at least one");
  parse_fail ("FROM a\nONBUILD FOO x\n", "ONBUILD: FOO: unknown instruction");
  parse_fail ("FROM a\nONBUILD COPY x\n", "ONBUILD: COPY: requires at least two");
}

static void
test_directives (void **state)
{
  struct cove_build_file *f
    = parse_ok ("# syntax = docker/dockerfile:1.4\n#ESCAPE=`\n"
                "FROM a\nRUN echo \\ `\n  two\n");
  assert_int_equal (f->escape, '`');
  assert_string_equal (f->syntax, "docker/dockerfile:1.4");
  assert_string_equal (first (f)->args[0], "echo \\   two");
  cove_build_file_free (f);

  /* After a comment, a blank line or an unknown directive, a directive is
     a comment.  */
  f = parse_ok ("# a comment\n# escape=`\nFROM a\nRUN x \\\ny\n");
  assert_int_equal (f->escape, '\\');
  assert_string_equal (first (f)->args[0], "x y");
  cove_build_file_free (f);
  f = parse_ok ("\n# escape=`\nFROM a\n");
  assert_int_equal (f->escape, '\\');
  cove_build_file_free (f);
  f = parse_ok ("# foo=bar\n# escape=`\nFROM a\n");
  assert_int_equal (f->escape, '\\');
  cove_build_file_free (f);
  f = parse_ok ("# check=skip=all\n# escape=`\nFROM a\n");
  assert_int_equal (f->escape, '`');
  cove_build_file_free (f);
  f = parse_ok ("\xef\xbb\xbf# escape=`\nFROM a\n");
  assert_int_equal (f->escape, '`');
  cove_build_file_free (f);

  parse_fail ("# escape=x\nFROM a\n",
              "Containerfile:1: invalid escape token 'x' does not match");
  parse_fail ("# escape=\\\\\nFROM a\n", "invalid escape token");
  parse_fail ("# escape=`\n# escape=\\\nFROM a\n",
              "Containerfile:2: only one escape parser directive");
  parse_fail ("# syntax=a\n# SYNTAX=b\nFROM a\n", "only one syntax");
}

static void
test_lines (void **state)
{
  struct cove_build_file *f
    = parse_ok ("  # leading comment\n\nFROM a\n"
                "RUN apt-get update && \\\n"
                "# a comment inside\n"
                "\n"
                "    apt-get install x \\  \n"
                "    y\n"
                "  run echo # not a comment\r\n"
                "RUN echo end \\");
  const struct cove_build_instr *r = f->stages[0].instrs;
  assert_int_equal (f->stages[0].from.line, 3);
  assert_string_equal (r[0].args[0],
                       "apt-get update &&     apt-get install x     y");
  assert_int_equal (r[0].line, 4);
  assert_string_equal (r[1].args[0], "echo # not a comment");
  assert_int_equal (r[1].line, 9);
  /* A continuation at the end of the file ends the instruction.  */
  assert_string_equal (r[2].args[0], "echo end");
  assert_int_equal (r[2].line, 10);
  assert_string_equal (f->warnings[0],
                       "Containerfile:4: empty continuation line");
  assert_null (f->warnings[1]);
  cove_build_file_free (f);
  parse_fail ("FROM a\nRUN \\", "Containerfile:2: RUN: requires at least one");
  parse_fail ("FROM a\nCOPY a \\\n", "COPY: requires at least two");
}

static void
test_heredocs (void **state)
{
  struct cove_build_file *f
    = parse_ok ("FROM a\nRUN <<EOF\necho $HOME\n  EOF\nEOF\n"
                "RUN <<-'END' cat >/x\n\t\techo tab\n\tEND\n"
                "COPY --chmod=755 <<one <<\"two\" /dst/\n1\none\n2 $x\ntwo\n"
                "RUN 3<<A cat <<-B\na\nA\n\tb\n\tB\n"
                "RUN [\"cat\", \"<<EOF\"]\n"
                "RUN echo '<<NO' \"<<NO\" x<<NO\n"
                "ENV x=<<EOF\n");
  const struct cove_build_instr *r = f->stages[0].instrs;
  assert_int_equal (r[0].n_heredocs, 1);
  assert_string_equal (r[0].heredocs[0].name, "EOF");
  assert_string_equal (r[0].heredocs[0].body, "echo $HOME\n  EOF\n");
  assert_true (r[0].heredocs[0].expand);
  assert_false (r[0].heredocs[0].strip_tabs);
  assert_string_equal (r[0].args[0], "<<EOF");
  assert_string_equal (r[1].heredocs[0].name, "END");
  assert_false (r[1].heredocs[0].expand);
  assert_true (r[1].heredocs[0].strip_tabs);
  assert_string_equal (r[1].heredocs[0].body, "echo tab\n");
  assert_int_equal (r[1].line, 6);
  assert_int_equal (r[2].kind, COVE_BUILD_COPY);
  assert_int_equal (r[2].line, 9);
  assert_int_equal (r[2].n_heredocs, 2);
  assert_string_equal (r[2].heredocs[0].body, "1\n");
  assert_true (r[2].heredocs[0].expand);
  assert_string_equal (r[2].heredocs[1].name, "two");
  assert_string_equal (r[2].heredocs[1].body, "2 $x\n");
  assert_false (r[2].heredocs[1].expand);
  assert_ptr_equal (cove_build_instr_heredoc (&r[2], r[2].args[1]),
                    &r[2].heredocs[1]);
  assert_null (cove_build_instr_heredoc (&r[2], r[2].args[2]));
  assert_int_equal (r[3].n_heredocs, 2);
  assert_int_equal (r[3].heredocs[0].fd, 3);
  assert_string_equal (r[3].heredocs[1].body, "b\n");
  assert_int_equal (r[3].line, 14);
  assert_int_equal (r[4].n_heredocs, 0);
  assert_int_equal (r[4].line, 19);
  assert_int_equal (r[5].n_heredocs, 0);
  assert_int_equal (r[6].n_heredocs, 0);
  assert_int_equal (r[6].line, 21);
  cove_build_file_free (f);
}

static void
test_run_command (void **state)
{
  struct cove_build_file *f
    = parse_ok ("FROM a\nRUN <<EOF\necho 1\nEOF\n"
                "RUN <<-EOF\n\t#!/bin/sh\n\tEOF\n"
                "RUN cat <<A >/a && cat <<-B\n1\nA\n\t2\n\tB\n"
                "RUN <<EOF cat\nx\nEOF\nRUN ls\nCMD [\"x\"]\n");
  const struct cove_build_instr *r = f->stages[0].instrs;
  bool shebang = true;
  char *cmd = cove_build_run_command (&r[0], &shebang);
  assert_string_equal (cmd, "echo 1\n");
  assert_false (shebang);
  free (cmd);
  cmd = cove_build_run_command (&r[1], &shebang);
  assert_string_equal (cmd, "#!/bin/sh\n");
  assert_true (shebang);
  free (cmd);
  cmd = cove_build_run_command (&r[2], &shebang);
  assert_string_equal (cmd, "cat <<A >/a && cat <<-B\n1\nA\n2\nB");
  assert_false (shebang);
  free (cmd);
  cmd = cove_build_run_command (&r[3], &shebang);
  assert_string_equal (cmd, "<<EOF cat\nx\nEOF");
  free (cmd);
  cmd = cove_build_run_command (&r[4], &shebang);
  assert_string_equal (cmd, "ls");
  free (cmd);
  assert_null (cove_build_run_command (&r[5], &shebang));
  cove_build_file_free (f);
}

static void
test_heredoc_errors (void **state)
{
  parse_fail ("FROM a\nRUN <<EOF\necho\n", "Containerfile:2: RUN: unterminated heredoc EOF");
  parse_fail ("FROM a\nRUN <<A <<B\na\nA\nb\n", "unterminated heredoc B");
  parse_fail ("FROM a\nCOPY <<EOF /x\n\tEOF\n", "unterminated heredoc");
}

static void
test_errors (void **state)
{
  parse_fail ("", "Containerfile: file with no instructions");
  parse_fail ("# only a comment\n\n", "file with no instructions");
  parse_fail ("ARG a=1\n", "no FROM instruction");
  parse_fail ("RUN x\nFROM a\n", "Containerfile:1: RUN: no build stage");
  parse_fail ("ENV a=1\n", "only ARG may come before the first FROM");
  parse_fail ("FROM a\n  frobnicate x\n", "Containerfile:2: FROBNICATE: unknown instruction");
  parse_fail ("FROM a\n--x\n", "Containerfile:2: --X: unknown instruction");
  struct cove_error *err = NULL;
  assert_null (cove_build_parse ("F", "FROM a\0", 7, &err));
  assert_int_equal (err->errnum, EINVAL);
  assert_non_null (strstr (err->msg, "NUL"));
  cove_error_free (err);
}

static void
test_kinds (void **state)
{
  assert_string_equal (cove_build_kind_name (COVE_BUILD_HEALTHCHECK), "HEALTHCHECK");
  assert_string_equal (cove_build_kind_name ((enum cove_build_kind) 99), "?");
  static const enum cove_build_kind yes[] = {
    COVE_BUILD_ADD, COVE_BUILD_COPY, COVE_BUILD_ENV, COVE_BUILD_EXPOSE,
    COVE_BUILD_FROM, COVE_BUILD_LABEL, COVE_BUILD_STOPSIGNAL, COVE_BUILD_USER,
    COVE_BUILD_VOLUME, COVE_BUILD_WORKDIR, COVE_BUILD_ARG };
  static const enum cove_build_kind no[] = {
    COVE_BUILD_RUN, COVE_BUILD_CMD, COVE_BUILD_ENTRYPOINT, COVE_BUILD_ONBUILD,
    COVE_BUILD_SHELL, COVE_BUILD_HEALTHCHECK, COVE_BUILD_MAINTAINER };
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
    assert_true (cove_build_kind_expands (yes[i]));
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    assert_false (cove_build_kind_expands (no[i]));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_from),
    cmocka_unit_test (test_args),
    cmocka_unit_test (test_run),
    cmocka_unit_test (test_copy_add),
    cmocka_unit_test (test_env_label),
    cmocka_unit_test (test_simple),
    cmocka_unit_test (test_healthcheck),
    cmocka_unit_test (test_onbuild),
    cmocka_unit_test (test_directives),
    cmocka_unit_test (test_lines),
    cmocka_unit_test (test_heredocs),
    cmocka_unit_test (test_run_command),
    cmocka_unit_test (test_heredoc_errors),
    cmocka_unit_test (test_errors),
    cmocka_unit_test (test_kinds),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
