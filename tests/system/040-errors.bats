#!/usr/bin/env bats
# Hostile or mistaken input: cove exits 125 with one `Error: ` line and
# leaves nothing behind in its store.  And the one degraded mode: no
# subordinate ids.

load helpers

@test "error: a --rootfs that does not exist" {
    run_cove run --rootfs "$TEST_TMP/no-such-rootfs" true
    assert_cove_error
    assert_output_contains 'no-such-rootfs'
    assert_no_containers
}

@test "error: a --rootfs that is a file" {
    touch "$TEST_TMP/file"
    run_cove run --rootfs "$TEST_TMP/file" true
    assert_cove_error
    assert_no_containers
}

@test "error: a -v source that does not exist" {
    run_cove run -v "$TEST_TMP/no-such-dir:/mnt" --rootfs "$ROOTFS" true
    assert_cove_error
    assert_output_contains 'no-such-dir'
    assert_no_containers
}

@test "error: a -v with a relative container path" {
    mkdir "$TEST_TMP/vol"
    run_cove run -v "$TEST_TMP/vol:mnt" --rootfs "$ROOTFS" true
    assert_cove_error
    assert_no_containers
}

@test "error: a -v with an unknown option" {
    mkdir "$TEST_TMP/vol"
    run_cove run -v "$TEST_TMP/vol:/mnt:bogus" --rootfs "$ROOTFS" true
    assert_cove_error
    assert_no_containers
}

@test "error: an unknown option" {
    run_cove run --bogus --rootfs "$ROOTFS" true
    assert_cove_error
    assert_output_contains 'bogus'
    assert_no_containers
}

@test "error: an option without its value" {
    run_cove run --rootfs
    assert_cove_error
    assert_no_containers
}

@test "error: no command and no image" {
    run_cove run --rootfs "$ROOTFS"
    assert_cove_error
    assert_no_containers
}

@test "error: a malformed --user (1:2:3)" {
    run_cove run -u 1:2:3 --rootfs "$ROOTFS" true
    assert_cove_error
    assert_no_containers
}

@test "error: a --user that the rootfs does not know" {
    run_cove run -u nosuchuser --rootfs "$ROOTFS" true
    assert_cove_error
    assert_output_contains 'nosuchuser'
    assert_no_containers
}

@test "error: a --group-add that the rootfs does not know" {
    run_cove run --group-add nosuchgroup --rootfs "$ROOTFS" true
    assert_cove_error
    assert_output_contains 'nosuchgroup'
    assert_no_containers
}

@test "error: a malformed --ulimit" {
    run_cove run --ulimit nofile=abc --rootfs "$ROOTFS" true
    assert_cove_error
    assert_no_containers
    run_cove run --ulimit nosuchlimit=1 --rootfs "$ROOTFS" true
    assert_cove_error
    assert_no_containers
}

@test "error: a missing --env-file" {
    run_cove run --env-file "$TEST_TMP/no-such-env" --rootfs "$ROOTFS" true
    assert_cove_error
    assert_output_contains 'no-such-env'
    assert_no_containers
}

@test "error: an unknown --security-opt" {
    run_cove run --security-opt bogus=1 --rootfs "$ROOTFS" true
    assert_cove_error
    assert_no_containers
}

@test "error: a failing run leaves the store as it was" {
    run_cove run --rootfs "$ROOTFS" true
    assert_status 0
    find "$XDG_DATA_HOME" | sort >"$TEST_TMP/before"
    run_cove run --bogus --rootfs "$ROOTFS" true
    assert_cove_error
    run_cove run -v "$TEST_TMP/no-such-dir:/mnt" --rootfs "$ROOTFS" true
    assert_cove_error
    run diff "$TEST_TMP/before" <(find "$XDG_DATA_HOME" | sort)
    assert_status 0
}

# ------------------------------------------------------------ no subuids

@test "no subuid range: one warning naming usermod, then a single mapping" {
    : >"$TEST_TMP/subuid"
    : >"$TEST_TMP/subgid"
    export COVE_SUBUID_FILE="$TEST_TMP/subuid"
    export COVE_SUBGID_FILE="$TEST_TMP/subgid"
    run_cove run --rootfs "$ROOTFS" cat /proc/self/uid_map
    assert_status 0
    local warnings
    warnings=$(grep -c 'usermod --add-subuids' <<<"$output" || true)
    assert_equal "$warnings" 1 "warning lines naming usermod --add-subuids"
    run grep -v 'usermod --add-subuids' <<<"$output"
    run awk '{ print $1, $2, $3 }' <<<"$output"
    assert_equal "${#lines[@]}" 1 "uid_map lines"
    assert_equal "${lines[0]}" "0 $(id -u) 1" "uid_map"
}

@test "no subuid range: cove unshare also falls back to a single mapping" {
    : >"$TEST_TMP/subuid"
    : >"$TEST_TMP/subgid"
    export COVE_SUBUID_FILE="$TEST_TMP/subuid"
    export COVE_SUBGID_FILE="$TEST_TMP/subgid"
    run_cove unshare cat /proc/self/uid_map
    assert_status 0
    assert_output_contains 'usermod --add-subuids'
    run grep -v 'usermod --add-subuids' <<<"$output"
    run awk '{ print $1, $2, $3 }' <<<"$output"
    assert_equal "${#lines[@]}" 1 "uid_map lines"
    assert_equal "${lines[0]}" "0 $(id -u) 1" "uid_map"
}
