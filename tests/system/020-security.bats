#!/usr/bin/env bats
# Confinement: masked and read-only paths of /proc and /sys, capabilities,
# no_new_privs, seccomp.

load helpers

# A tiny static program that calls a syscall the default seccomp profile
# denies (busybox has no keyctl applet) and prints the errno's name.
KEYCTL_SRC='
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  long r;

  if (argc > 1 && strcmp (argv[1], "add_key") == 0)
    r = syscall (SYS_add_key, "user", "cove-test", "x", 1, -3);
  else
    /* KEYCTL_GET_KEYRING_ID of KEY_SPEC_SESSION_KEYRING */
    r = syscall (SYS_keyctl, 0, -3, 0);
  if (r < 0)
    {
      printf ("%s\n", strerrorname_np (errno));
      return 1;
    }
  printf ("OK\n");
  return 0;
}
'

setup_file() {
    cove_setup_file
    # The probe is built once per file into the cached rootfs; without a
    # static C toolchain the tests that need it skip.
    if command -v gcc >/dev/null &&
        printf '%s' "$KEYCTL_SRC" >"$BATS_FILE_TMPDIR/keyctl.c" &&
        gcc -static -O2 -o "$ROOTFS/bin/keyctl-probe" \
            "$BATS_FILE_TMPDIR/keyctl.c" 2>"$BATS_FILE_TMPDIR/gcc.log"; then
        :
    else
        rm -f "$ROOTFS/bin/keyctl-probe"
    fi
}

need_probe() {
    [ -x "$ROOTFS/bin/keyctl-probe" ] ||
        skip "cannot build a static C program (gcc -static): $(tail -n 1 "$BATS_FILE_TMPDIR/gcc.log" 2>/dev/null || echo 'gcc not installed')"
}

status_field() {
    awk -v f="$1:" '$1 == f { print $2 }' <<<"$output"
}

# ------------------------------------------------------------ /proc, /sys

@test "run: writing /proc/sysrq-trigger fails" {
    run_cove run --rootfs "$ROOTFS" sh -c 'echo 1 > /proc/sysrq-trigger'
    assert_status_not 0
    assert_line_matches "can't create /proc/sysrq-trigger"
}

@test "run: /proc/sys is read-only" {
    run_cove run --rootfs "$ROOTFS" \
        sh -c 'echo 1 > /proc/sys/kernel/ns_last_pid'
    assert_status_not 0
    assert_line_matches '(Read-only file system|Permission denied)'
}

@test "run: /proc/timer_list and /proc/kcore are masked (empty)" {
    local f
    for f in /proc/timer_list /proc/kcore; do
        [ -e "$f" ] || continue
        run_cove run --rootfs "$ROOTFS" cat "$f"
        assert_status 0
        assert_output_empty
    done
}

@test "run: /sys/firmware is masked (empty)" {
    [ -d /sys/firmware ] || skip "the host has no /sys/firmware"
    run_cove run --rootfs "$ROOTFS" ls -A /sys/firmware
    assert_status 0
    assert_output_empty
}

@test "run: /proc/acpi is masked (empty)" {
    [ -d /proc/acpi ] || skip "the host has no /proc/acpi"
    run_cove run --rootfs "$ROOTFS" ls -A /proc/acpi
    assert_status 0
    assert_output_empty
}

# ------------------------------------------------------------ seccomp

@test "run: the default seccomp profile is on (Seccomp: 2)" {
    run_cove run --rootfs "$ROOTFS" cat /proc/self/status
    assert_status 0
    assert_equal "$(status_field Seccomp)" 2 Seccomp
}

@test "run: the default seccomp profile denies keyctl with EPERM" {
    need_probe
    run_cove run --rootfs "$ROOTFS" keyctl-probe
    assert_status 1
    assert_output EPERM
    run_cove run --rootfs "$ROOTFS" keyctl-probe add_key
    assert_status 1
    assert_output EPERM
}

@test "run: --security-opt seccomp=unconfined turns seccomp off" {
    run_cove run --security-opt seccomp=unconfined --rootfs "$ROOTFS" \
        cat /proc/self/status
    assert_status 0
    assert_equal "$(status_field Seccomp)" 0 Seccomp
}

@test "run: --security-opt seccomp=unconfined lets keyctl through seccomp" {
    need_probe
    run_cove run --security-opt seccomp=unconfined --rootfs "$ROOTFS" \
        keyctl-probe
    assert_status 0
    assert_output OK
}

@test "run: --security-opt seccomp=FILE loads that profile" {
    cat >"$TEST_TMP/seccomp.json" <<'EOF'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1 }
  ]
}
EOF
    run_cove run --security-opt "seccomp=$TEST_TMP/seccomp.json" \
        --tmpfs /tmp --rootfs "$ROOTFS" mkdir /tmp/d
    assert_status_not 0
    assert_output_contains 'Operation not permitted'
    run_cove run --security-opt "seccomp=$TEST_TMP/seccomp.json" \
        --tmpfs /tmp --rootfs "$ROOTFS" sh -c 'touch /tmp/f && echo ok'
    assert_status 0
    assert_output ok
}

@test "run: --security-opt seccomp=FILE with a missing file exits 125" {
    run_cove run --security-opt "seccomp=$TEST_TMP/nope.json" \
        --rootfs "$ROOTFS" true
    assert_cove_error
    assert_no_containers
}

# ------------------------------------------------------------ no_new_privs

@test "run: no_new_privs is off by default" {
    run_cove run --rootfs "$ROOTFS" cat /proc/self/status
    assert_status 0
    assert_equal "$(status_field NoNewPrivs)" 0 NoNewPrivs
}

@test "run: --security-opt no-new-privileges sets NoNewPrivs: 1" {
    run_cove run --security-opt no-new-privileges --rootfs "$ROOTFS" \
        cat /proc/self/status
    assert_status 0
    assert_equal "$(status_field NoNewPrivs)" 1 NoNewPrivs
}

# ------------------------------------------------------------ capabilities

@test "run: root has the default capabilities of the issue (CapEff 800405fb)" {
    run_cove run --rootfs "$ROOTFS" cat /proc/self/status
    assert_status 0
    assert_equal "$(status_field CapEff)" 00000000800405fb CapEff
    assert_equal "$(status_field CapPrm)" 00000000800405fb CapPrm
    assert_equal "$(status_field CapBnd)" 00000000800405fb CapBnd
}

@test "run: root can chown by default" {
    run_cove run --tmpfs /tmp --rootfs "$ROOTFS" \
        sh -c 'touch /tmp/f && chown 1000:1000 /tmp/f && stat -c %u:%g /tmp/f'
    assert_status 0
    assert_output 1000:1000
}

@test "run: --cap-drop ALL leaves no capability and chown fails" {
    run_cove run --cap-drop ALL --tmpfs /tmp --rootfs "$ROOTFS" \
        sh -c 'grep ^CapEff: /proc/self/status; touch /tmp/f && chown 1000 /tmp/f'
    assert_status_not 0
    assert_line_matches '^CapEff:[[:space:]]+0000000000000000$'
    assert_output_contains 'Operation not permitted'
}

@test "run: --cap-drop CHOWN drops just that one" {
    run_cove run --cap-drop CHOWN --tmpfs /tmp --rootfs "$ROOTFS" \
        sh -c 'grep ^CapEff: /proc/self/status; touch /tmp/f && chown 1000 /tmp/f'
    assert_status_not 0
    assert_line_matches '^CapEff:[[:space:]]+00000000800405fa$'
    assert_output_contains 'Operation not permitted'
}

@test "run: --cap-add SYS_ADMIN adds it (CapEff 802405fb)" {
    run_cove run --cap-add SYS_ADMIN --rootfs "$ROOTFS" cat /proc/self/status
    assert_status 0
    assert_equal "$(status_field CapEff)" 00000000802405fb CapEff
}

@test "run: --cap-add takes CAP_-prefixed and lowercase names" {
    run_cove run --cap-add cap_sys_admin --rootfs "$ROOTFS" \
        cat /proc/self/status
    assert_status 0
    assert_equal "$(status_field CapEff)" 00000000802405fb CapEff
}

@test "run: an unknown capability exits 125" {
    run_cove run --cap-add NOT_A_CAP --rootfs "$ROOTFS" true
    assert_cove_error
    assert_no_containers
}

@test "run: a non-root user has no effective capabilities" {
    run_cove run -u 1000:1000 --rootfs "$ROOTFS" cat /proc/self/status
    assert_status 0
    assert_equal "$(status_field CapEff)" 0000000000000000 CapEff
}
