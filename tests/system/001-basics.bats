#!/usr/bin/env bats
# The first things a user does: help, version, info, unshare, and running a
# command in a rootfs: identity, namespaces, pid 1, hostname, exit codes.

load helpers

teardown() {
    # The SIGKILL test's container, if the test failed before killing it.
    if [ -n "${KILL_TOKEN:-}" ]; then
        pkill -KILL -u "$(id -u)" -x -f "sleep $KILL_TOKEN" || true
    fi
    cove_teardown
}

# --------------------------------------------------------------- commands

@test "cove --help prints usage and exits 0" {
    run_cove --help
    assert_status 0
    assert_line_matches '^Usage:'
    assert_output_contains 'run'
}

@test "cove run --help prints usage and exits 0" {
    run_cove run --help
    assert_status 0
    assert_line_matches '^Usage:'
    assert_output_contains '--rootfs'
}

@test "cove version prints a Version: line" {
    run_cove version
    assert_status 0
    assert_line_matches '^Version:[[:space:]]+[0-9]+\.[0-9]+\.[0-9]+'
}

@test "an unknown command exits 125 with an Error: line" {
    run_cove frobnicate
    assert_cove_error
}

@test "cove info prints YAML with host, idMappings, store" {
    run_cove info
    assert_status 0
    assert_line_matches '^host:'
    assert_line_matches '^[[:space:]]+idMappings:'
    assert_line_matches '^[[:space:]]+uidmap:'
    assert_line_matches '^[[:space:]]+gidmap:'
    assert_line_matches '^store:'
    assert_line_matches '^[[:space:]]+graphDriverName:'
}

@test "cove info --format json is valid JSON with the same keys" {
    run_cove info --format json
    assert_status 0
    echo "$output" >"$TEST_TMP/info.json"
    run python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert "idMappings" in d["host"], "host.idMappings"
assert "uidmap" in d["host"]["idMappings"], "host.idMappings.uidmap"
assert "gidmap" in d["host"]["idMappings"], "host.idMappings.gidmap"
assert d["store"]["graphDriverName"], "store.graphDriverName"
print("ok")' "$TEST_TMP/info.json"
    assert_status 0
    assert_output ok
}

@test "cove unshare id -u prints 0" {
    run_cove unshare id -u
    assert_status 0
    assert_output 0
}

@test "cove unshare maps 0 to the user and 1.. to the subuid range" {
    read -r start count < <(host_subid /etc/subuid) || true
    [ -n "${start:-}" ] || skip "$(id -un) has no range in /etc/subuid"
    run_cove unshare cat /proc/self/uid_map
    assert_status 0
    run awk '{ print $1, $2, $3 }' <<<"$output"
    assert_equal "${lines[0]}" "0 $(id -u) 1" "uid_map line 1"
    assert_equal "${lines[1]}" "1 $start $count" "uid_map line 2"
    assert_equal "${#lines[@]}" 2 "uid_map lines"
}

# ------------------------------------------------------------ run: identity

@test "run: id prints uid=0(root)" {
    run_cove run --rootfs "$ROOTFS" id
    assert_status 0
    assert_line_matches '^uid=0\(root\) gid=0\(root\)'
}

@test "run: uid_map and gid_map map 0 to the user and 1.. to the subid range" {
    read -r ustart ucount < <(host_subid /etc/subuid) || true
    read -r gstart gcount < <(host_subid /etc/subgid) || true
    [ -n "${ustart:-}" ] || skip "$(id -un) has no range in /etc/subuid"
    [ -n "${gstart:-}" ] || skip "$(id -un) has no range in /etc/subgid"
    run_cove run --rootfs "$ROOTFS" cat /proc/self/uid_map
    assert_status 0
    run awk '{ print $1, $2, $3 }' <<<"$output"
    assert_equal "${#lines[@]}" 2 "uid_map lines"
    assert_equal "${lines[0]}" "0 $(id -u) 1" "uid_map line 1"
    assert_equal "${lines[1]}" "1 $ustart $ucount" "uid_map line 2"

    run_cove run --rootfs "$ROOTFS" cat /proc/self/gid_map
    assert_status 0
    run awk '{ print $1, $2, $3 }' <<<"$output"
    assert_equal "${#lines[@]}" 2 "gid_map lines"
    assert_equal "${lines[0]}" "0 $(id -g) 1" "gid_map line 1"
    assert_equal "${lines[1]}" "1 $gstart $gcount" "gid_map line 2"
}

@test "run: the container has its own user, mnt, pid, uts, ipc, net, cgroup namespaces" {
    local ns host
    for ns in user mnt pid uts ipc net cgroup; do
        host=$(readlink /proc/self/ns/$ns)
        run_cove run --rootfs "$ROOTFS" readlink /proc/self/ns/$ns
        assert_status 0
        assert_line_matches "^$ns:\[[0-9]+\]\$"
        assert_not_equal "$output" "$host" "namespace $ns"
    done
}

@test "run: the command is pid 1" {
    run_cove run --rootfs "$ROOTFS" sh -c 'echo $$'
    assert_status 0
    assert_output 1
}

@test "run: --hostname sets the hostname" {
    run_cove run --hostname box1 --rootfs "$ROOTFS" hostname
    assert_status 0
    assert_output box1
}

@test "run: the default hostname is a 12-hex-digit id" {
    run_cove run --rootfs "$ROOTFS" hostname
    assert_status 0
    assert_line_matches '^[0-9a-f]{12}$'
    assert_not_equal "$output" "$(hostname)" "hostname"
}

@test "run: --rm and --name are accepted" {
    run_cove run --rm --name basics-named --rootfs "$ROOTFS" echo hi
    assert_status 0
    assert_output hi
}

@test "run: -- separates cove's options from the command's" {
    run_cove run --rootfs "$ROOTFS" -- echo -e 'a\tb'
    assert_status 0
    assert_output $'a\tb'
}

# ------------------------------------------------------------ exit codes

@test "run: the container's exit status is cove's" {
    run_cove run --rootfs "$ROOTFS" sh -c 'exit 7'
    assert_status 7
    run_cove run --rootfs "$ROOTFS" false
    assert_status 1
    run_cove run --rootfs "$ROOTFS" true
    assert_status 0
}

@test "run: a command killed by a signal exits 128+N" {
    # Not pid 1 (--pid host): pid 1 of a namespace ignores signals it has
    # no handler for.
    run_cove run --pid host --rootfs "$ROOTFS" sh -c 'kill -TERM $$; sleep 5'
    assert_status 143
}

@test "run: pid 1 killed with SIGKILL from the host exits 137" {
    # A unique sleep duration finds the container's process on the host.
    local token="$((RANDOM % 9000 + 1000))$$" pid="" status_file
    KILL_TOKEN=$token
    status_file="$TEST_TMP/status"
    # fd 3 is bats' own: a background process must not hold it.  The
    # subshell inherits bats' errexit: the status is caught with ||.
    (
        rc=0
        timeout -k 5 60 "$COVE" run --rootfs "$ROOTFS" sleep "$token" \
            >"$TEST_TMP/out" 2>&1 || rc=$?
        echo "$rc" >"$status_file"
    ) 3>&- &
    find_sleep() {
        pid=$(pgrep -u "$(id -u)" -x -f "sleep $token" | head -n 1)
        [ -n "$pid" ]
    }
    if ! wait_for 10 find_sleep; then
        cat "$TEST_TMP/out" >&2
        echo "the container's sleep never appeared" >&2
        return 1
    fi
    kill -KILL "$pid"
    wait_for 10 test -s "$status_file" || {
        echo "cove did not exit within 10 s after its pid 1 was killed" >&2
        return 1
    }
    status=$(cat "$status_file")
    output=$(cat "$TEST_TMP/out")
    assert_status 137
}

@test "run: a missing command exits 127 with an Error: line" {
    run_cove run --rootfs "$ROOTFS" /no/such/command
    assert_status 127
    assert_line_matches '^Error: '
    run_cove run --rootfs "$ROOTFS" nosuchcommand
    assert_status 127
    assert_line_matches '^Error: '
}

@test "run: a file that cannot be executed exits 126 with an Error: line" {
    run_cove run --rootfs "$ROOTFS" /etc/passwd
    assert_status 126
    assert_line_matches '^Error: '
}

# ------------------------------------------------------------ the rootfs

@test "run: a command that writes nothing leaves the rootfs unmodified" {
    local r
    r=$(copy_rootfs)
    # Every entry dated 2000; the stamp 2001: whatever cove creates,
    # changes or removes (its parent dir) is newer than the stamp.
    find "$r" -exec touch -h -d @946684800 {} +
    touch -d @978307200 "$TEST_TMP/stamp"
    find "$r" | sort >"$TEST_TMP/before"
    run_cove run --rootfs "$r" true
    assert_status 0
    run find "$r" -newer "$TEST_TMP/stamp"
    assert_output_empty
    run diff "$TEST_TMP/before" <(find "$r" | sort)
    assert_status 0
}
