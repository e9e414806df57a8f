#!/usr/bin/env bats
# Options of `cove run` that shape the process: environment, working
# directory, user and groups, entrypoint, stdio, limits, mounts.

load helpers

# ------------------------------------------------------------ environment

@test "run: -e and --env set variables" {
    run_cove run -e FOO=bar --env 'BAZ=two words' --rootfs "$ROOTFS" \
        sh -c 'echo "$FOO/$BAZ"'
    assert_status 0
    assert_output 'bar/two words'
}

@test "run: -e NAME takes the value from cove's environment" {
    COVE_TEST_PASSED=from-host run_cove run -e COVE_TEST_PASSED \
        --rootfs "$ROOTFS" sh -c 'echo "$COVE_TEST_PASSED"'
    assert_status 0
    assert_output from-host
}

@test "run: --env-file sets variables, skipping comments and blank lines" {
    cat >"$TEST_TMP/env" <<'EOF'
# a comment
ALPHA=1

BETA=two words
EOF
    run_cove run --env-file "$TEST_TMP/env" --rootfs "$ROOTFS" \
        sh -c 'echo "$ALPHA|$BETA"'
    assert_status 0
    assert_output '1|two words'
}

@test "run: -e overrides --env-file" {
    echo 'ALPHA=file' >"$TEST_TMP/env"
    run_cove run --env-file "$TEST_TMP/env" -e ALPHA=flag --rootfs "$ROOTFS" \
        sh -c 'echo "$ALPHA"'
    assert_status 0
    assert_output flag
}

@test "run: the default environment has PATH and HOME" {
    run_cove run --rootfs "$ROOTFS" sh -c 'echo "$PATH"; echo "$HOME"'
    assert_status 0
    assert_line_matches '^/.*/bin'
    assert_equal "${lines[1]}" /root HOME
}

@test "run: -w and --workdir set the working directory" {
    run_cove run -w /tmp --rootfs "$ROOTFS" pwd
    assert_status 0
    assert_output /tmp
    run_cove run --workdir /etc --rootfs "$ROOTFS" pwd
    assert_status 0
    assert_output /etc
}

@test "run: the default working directory is /" {
    run_cove run --rootfs "$ROOTFS" pwd
    assert_status 0
    assert_output /
}

# ------------------------------------------------------------ user, groups

@test "run: -u 1000:1000 runs as that uid and gid" {
    run_cove run -u 1000:1000 --rootfs "$ROOTFS" sh -c 'id -u; id -g'
    assert_status 0
    assert_equal "${lines[0]}" 1000 uid
    assert_equal "${lines[1]}" 1000 gid
}

@test "run: -u tester resolves the name in the rootfs's /etc/passwd" {
    run_cove run -u tester --rootfs "$ROOTFS" \
        sh -c 'id -u; id -g; echo "$HOME"'
    assert_status 0
    assert_equal "${lines[0]}" 1000 uid
    assert_equal "${lines[1]}" 1000 gid
    assert_equal "${lines[2]}" /home/tester HOME
}

@test "run: --user tester:extra takes the group by name" {
    run_cove run --user tester:extra --rootfs "$ROOTFS" sh -c 'id -u; id -g'
    assert_status 0
    assert_equal "${lines[0]}" 1000 uid
    assert_equal "${lines[1]}" 2000 gid
}

@test "run: --group-add extra adds a supplementary group" {
    run_cove run -u 1000:1000 --group-add extra --rootfs "$ROOTFS" id -G
    assert_status 0
    run tr ' ' '\n' <<<"$output"
    assert_line_matches '^2000$'
    assert_line_matches '^1000$'
}

@test "run: a uid that the rootfs does not name still runs" {
    run_cove run -u 4242 --rootfs "$ROOTFS" id -u
    assert_status 0
    assert_output 4242
}

# ------------------------------------------------------------ entrypoint

@test "run: --entrypoint runs that program with the command as arguments" {
    run_cove run --entrypoint /bin/echo --rootfs "$ROOTFS" hello world
    assert_status 0
    assert_output 'hello world'
}

# ------------------------------------------------------------ stdio

@test "run: -i passes stdin to the container" {
    run bash -c "echo hello-stdin | timeout -k 5 $COVE_TIMEOUT '$COVE' run -i --rootfs '$ROOTFS' cat"
    assert_status 0
    assert_output hello-stdin
}

@test "run: without -i the container's stdin is empty" {
    run bash -c "echo hello-stdin | timeout -k 5 $COVE_TIMEOUT '$COVE' run --rootfs '$ROOTFS' cat"
    assert_status 0
    assert_output_empty
}

@test "run: stdout and stderr stay apart" {
    run bash -c "timeout -k 5 $COVE_TIMEOUT '$COVE' run --rootfs '$ROOTFS' sh -c 'echo out; echo err >&2' 2>/dev/null"
    assert_status 0
    assert_output out
}

@test "run: -t gives the container a terminal" {
    command -v script >/dev/null || skip "script (util-linux) is not installed"
    run timeout -k 5 "$COVE_TIMEOUT" script -qec \
        "'$COVE' run -t --rootfs '$ROOTFS' tty" /dev/null
    output=${output//$'\r'/}
    assert_status 0
    assert_line_matches '^/dev/pts/0$'
}

@test "run: without -t the container has no terminal" {
    run_cove run --rootfs "$ROOTFS" tty
    assert_status_not 0
    assert_output_contains 'not a tty'
}

# ------------------------------------------------------------ limits

@test "run: --ulimit sets soft and hard limits" {
    run_cove run --ulimit nofile=256:512 --rootfs "$ROOTFS" \
        sh -c 'ulimit -Sn; ulimit -Hn'
    assert_status 0
    assert_equal "${lines[0]}" 256 "soft nofile"
    assert_equal "${lines[1]}" 512 "hard nofile"
}

# ------------------------------------------------------------ filesystems

@test "run: --read-only makes / read-only" {
    run_cove run --read-only --rootfs "$ROOTFS" touch /newfile
    assert_status_not 0
    assert_output_contains 'Read-only file system'
    [ ! -e "$ROOTFS/newfile" ]
}

@test "run: --tmpfs mounts a writable tmpfs, also under --read-only" {
    run_cove run --read-only --tmpfs /tmp --rootfs "$ROOTFS" \
        sh -c 'touch /tmp/x && echo made; grep " /tmp " /proc/mounts'
    assert_status 0
    assert_equal "${lines[0]}" made
    assert_line_matches '^tmpfs /tmp tmpfs '
    [ ! -e "$ROOTFS/tmp/x" ]
}

@test "run: -v HOST:CTR binds a directory read-write" {
    mkdir "$TEST_TMP/vol"
    echo from-host >"$TEST_TMP/vol/in"
    run_cove run -v "$TEST_TMP/vol:/mnt" --rootfs "$ROOTFS" \
        sh -c 'cat /mnt/in; echo from-container > /mnt/out'
    assert_status 0
    assert_output from-host
    assert_equal "$(cat "$TEST_TMP/vol/out")" from-container "file written"
    # Container root is the user: the new file is the user's.
    assert_equal "$(stat -c %u "$TEST_TMP/vol/out")" "$(id -u)" "owner"
}

@test "run: -v HOST:CTR:ro binds a directory read-only" {
    mkdir "$TEST_TMP/vol"
    echo from-host >"$TEST_TMP/vol/in"
    run_cove run -v "$TEST_TMP/vol:/mnt:ro" --rootfs "$ROOTFS" \
        sh -c 'cat /mnt/in; touch /mnt/out'
    assert_status_not 0
    assert_line_matches '^from-host$'
    assert_output_contains 'Read-only file system'
    [ ! -e "$TEST_TMP/vol/out" ]
}

@test "run: -v binds a single file" {
    echo file-content >"$TEST_TMP/f"
    run_cove run --volume "$TEST_TMP/f:/etc/group:ro" --rootfs "$ROOTFS" \
        cat /etc/group
    assert_status 0
    assert_output file-content
}
