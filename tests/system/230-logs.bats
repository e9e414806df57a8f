#!/usr/bin/env bats
# cove logs: the k8s-file log the monitor keeps (pkg/ctrlog) read back as
# podman prints it: stdout and stderr apart, partial lines joined, --tail,
# --since/--until, -t, several containers, -f until the container exits,
# and the log's rotation with --log-opt max-size.
#
# Containers run from the file's busybox rootfs (--rootfs): no registry is
# needed.

load helpers

# start ARGS...: `cove run -d` of ARGS on the rootfs; sets $cid.
start() {
    run_cove run -d "$@"
    assert_status 0 || return 1
    cid=${lines[-1]}
    [[ "$cid" =~ ^[0-9a-f]{64}$ ]] || { echo "no id: $output" >&2; return 1; }
}

# run_exited ARGS...: start, then wait for the container to exit.
run_exited() {
    start "$@" || return 1
    run_cove wait "$cid"
    assert_status 0
}

# logs_split ARGS...: `cove logs ARGS`, stdout and stderr apart, each
# exactly (a missing final newline shows as the last character not being
# the "|" added after it): sets out, err, status.
logs_split() {
    status=0
    timeout -k 5 "$COVE_TIMEOUT" "$COVE" logs "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || status=$?
    out=$(cat "$TEST_TMP/out"; echo "|")
    err=$(cat "$TEST_TMP/err"; echo "|")
}

@test "logs: stdout to stdout, stderr to stderr, a last line without newline" {
    run_exited --rootfs "$ROOTFS" --name split sh -c 'echo out1; echo err1 >&2; echo out2; printf "no newline"'
    logs_split "$cid"
    assert_equal "$status" 0
    assert_equal "$out" $'out1\nout2\nno newline|' "stdout"
    assert_equal "$err" $'err1\n|' "stderr"
    # The same by name, and as `container logs`.
    logs_split split
    assert_equal "$out" $'out1\nout2\nno newline|' "stdout by name"
    run_cove container logs "$cid"
    assert_status 0
    assert_output_contains "out1"
}

@test "logs 2>&1: stdout and stderr lines keep the container's order" {
    run_exited --rootfs "$ROOTFS" sh -c 'echo a; sleep 0.2; echo b >&2; sleep 0.2; echo c; sleep 0.2; echo d >&2'
    run_cove logs "$cid"
    assert_status 0
    assert_output $'a\nb\nc\nd'
}

@test "logs: pieces of a line written apart are joined" {
    run_exited --rootfs "$ROOTFS" sh -c 'printf "one "; sleep 0.2; printf "two "; sleep 0.2; echo three; echo four'
    # The log holds P entries for the pieces...
    run grep -c ' stdout P ' "$XDG_DATA_HOME/cove/containers/$cid/ctr.log"
    [ "$output" -ge 1 ]
    # ...printed as one line, with one prefix.
    logs_split "$cid"
    assert_equal "$out" $'one two three\nfour\n|'
    run_cove logs -t "$cid"
    assert_equal "${#lines[@]}" 2 "lines with -t"
    assert_line_matches '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}) one two three$'
}

@test "logs -t: each line starts with its RFC 3339 timestamp" {
    run_exited --rootfs "$ROOTFS" sh -c 'echo hello; echo world'
    run_cove logs -t "$cid"
    assert_status 0
    assert_equal "${#lines[@]}" 2
    assert_line_matches '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2}) hello$'
    assert_line_matches ' world$'
}

@test "logs --tail N: the last N lines" {
    run_exited --rootfs "$ROOTFS" sh -c 'seq 1 10'
    run_cove logs --tail 3 "$cid"
    assert_status 0
    assert_output $'8\n9\n10'
    run_cove logs --tail 0 "$cid"
    assert_status 0
    assert_output_empty
    run_cove logs --tail -1 "$cid"
    assert_equal "${#lines[@]}" 10
    run_cove logs --tail 100 "$cid"
    assert_equal "${#lines[@]}" 10
    run_cove logs --tail abc "$cid"
    assert_cove_error
    assert_output_contains 'invalid argument "abc" for "--tail" flag'
}

@test "logs --since/--until: times, Unix seconds and durations" {
    run_exited --rootfs "$ROOTFS" sh -c 'echo early'
    sleep 1.1
    mid=$(date +%s)
    sleep 1.1
    # A second container's line, logged after MID.
    run_exited --rootfs "$ROOTFS" sh -c 'echo late'
    late=$cid
    run_cove logs --since 10m "$late"
    assert_output "late"
    run_cove logs --since "$mid" "$late"
    assert_output "late"
    run_cove logs --until "$mid" "$late"
    assert_status 0
    assert_output_empty
    run_cove logs --since "$(date -u -d @$((mid + 3600)) +%Y-%m-%dT%H:%M:%SZ)" "$late"
    assert_output_empty
    run_cove logs --until 2000-01-01 "$late"
    assert_output_empty
    run_cove logs --since 2000-01-01T00:00:00.5+01:00 "$late"
    assert_output "late"
    run_cove logs --since bogus "$late"
    assert_cove_error
    assert_output 'Error: parsing --since "bogus": unable to interpret time value'
    run_cove logs --until 5x "$late"
    assert_cove_error
}

@test "logs -f: follows a running container and ends when it exits" {
    start --rootfs "$ROOTFS" sh -c 'echo first; sleep 1.5; echo second; echo err >&2; sleep 0.5; printf last'
    SECONDS=0
    logs_split -f "$cid"
    assert_equal "$status" 0
    assert_equal "$out" $'first\nsecond\nlast|'
    assert_equal "$err" $'err\n|'
    [ "$SECONDS" -lt 15 ]
    # On an exited container: prints and returns at once.
    SECONDS=0
    run_cove logs -f --tail 1 "$cid"
    assert_status 0
    assert_output "last"
    [ "$SECONDS" -lt 5 ]
}

@test "logs: a line longer than the pipe buffer comes back whole" {
    run_exited --rootfs "$ROOTFS" sh -c 'head -c 300000 /dev/zero | tr "\0" x; echo; echo next'
    timeout 30 "$COVE" logs "$cid" >"$TEST_TMP/out"
    run awk '{ print length($0) }' "$TEST_TMP/out"
    assert_output $'300000\n4'
    run_cove logs --tail 1 "$cid"
    assert_output "next"
}

@test "logs: --log-opt max-size rotates the log" {
    run_exited --rootfs "$ROOTFS" --log-opt max-size=2k sh -c 'for i in $(seq 1 300); do echo "line $i"; done'
    log="$XDG_DATA_HOME/cove/containers/$cid/ctr.log"
    size=$(stat -c %s "$log")
    [ "$size" -le 2048 ] || { echo "log of $size bytes" >&2; false; }
    [ ! -e "$log.tmp" ]
    run_cove logs "$cid"
    assert_status 0
    assert_equal "${lines[-1]}" "line 300"
    assert_no_line_matches '^line 1$'
    # Every line left is whole, and they follow each other.
    first=${lines[0]#line }
    assert_equal "${#lines[@]}" $((300 - first + 1)) "lines kept"
}

@test "logs of several containers: each line prefixed by short id or name" {
    run_exited --rootfs "$ROOTFS" --name logs-a sh -c 'echo from-a'
    a=$cid
    run_exited --rootfs "$ROOTFS" --name logs-b sh -c 'echo from-b'
    b=$cid
    run_cove logs "$a" "$b"
    assert_status 0
    assert_output "${a:0:12} from-a"$'\n'"${b:0:12} from-b"
    run_cove logs -n logs-a logs-b
    assert_output $'logs-a from-a\nlogs-b from-b'
    # One container: no prefix, even with -n.
    run_cove logs -n logs-a
    assert_output "from-a"
    # -l: the latest.
    run_cove logs -l
    assert_output "from-b"
    run_cove logs -l logs-a
    assert_cove_error
    assert_output "Error: --latest and containers cannot be used together"
}

@test "logs -f of several containers follows them all" {
    start --rootfs "$ROOTFS" --name f-a sh -c 'echo a1; sleep 1; echo a2'
    start --rootfs "$ROOTFS" --name f-b sh -c 'echo b1; sleep 1.5; echo b2'
    run_cove logs -f -n f-a f-b
    assert_status 0
    assert_equal "${#lines[@]}" 4
    assert_line_matches '^f-a a2$'
    assert_line_matches '^f-b b2$'
}

@test "logs: errors: no such container, --log-driver none, no argument" {
    run_cove logs nosuch
    assert_cove_error
    assert_output 'Error: no container with name or ID "nosuch" found: no such container'
    run_exited --rootfs "$ROOTFS" --log-driver none sh -c 'echo hi'
    [ ! -e "$XDG_DATA_HOME/cove/containers/$cid/ctr.log" ]
    run_cove logs "$cid"
    assert_cove_error
    assert_output "Error: this container is using the 'none' log driver, cannot read logs: this container is not logging output"
    # Nothing printed when one of several is missing.
    run_exited --rootfs "$ROOTFS" sh -c 'echo ok'
    run_cove logs "$cid" nosuch
    assert_cove_error
    assert_output_not_contains "ok"
    run_cove logs
    assert_cove_error
    assert_output "Error: specify at least one container name or ID to log"
}

@test "logs of a container never started prints nothing" {
    run_cove create --rootfs "$ROOTFS" sh -c 'echo hi'
    assert_status 0
    cid=${lines[-1]}
    run_cove logs "$cid"
    assert_status 0
    assert_output_empty
    run_cove logs -f "$cid"
    assert_status 0
    assert_output_empty
}
