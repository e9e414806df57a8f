#!/usr/bin/env bats
# The container life cycle without a daemon: create, start, run (-d and
# foreground), stop, start again, restart, kill, pause/unpause, wait,
# attach, rename, rm, container prune and exists, through each container's
# monitor; the concurrency and kill -9 cases of the issue.
#
# These tests use --rootfs containers (a busybox tree) so that they need
# no registry; the image side is in 205-lifecycle-image.bats.

load helpers

is_id() { [[ "$1" =~ ^[0-9a-f]{64}$ ]]; }

# count_is FILE N: FILE has N lines (for wait_for, which re-runs it).
count_is() { [ "$(wc -l <"$1" 2>/dev/null)" = "$2" ]; }
count_at_least() { [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]; }

# state NAME: the record's state word, read from its state.json (the
# record is the interface of pkg/state; ps and inspect have their tests).
state_of() {
    local id
    id=$(readlink "$XDG_DATA_HOME/cove/containers/names/$1") || return 1
    sed -n 's/.*"state": *"\([a-z]*\)".*/\1/p' \
        "$XDG_DATA_HOME/cove/containers/$id/state.json"
}

@test "run -d prints the id; the container runs without cove; stop ends it" {
    run_cove run -d --name sleeper --rootfs "$ROOTFS" sleep 1000
    assert_status 0
    is_id "$output"
    id=$output
    assert_equal "$(state_of sleeper)" running
    # The monitor is not our child, and not in our session (a double
    # fork: it cannot get a controlling terminal back either).
    mon=$(pgrep -f "^cove-monitor $id ")
    [ -n "$mon" ]
    ppid=$(awk '{ print $4 }' "/proc/$mon/stat")
    sid=$(awk '{ print $6 }' "/proc/$mon/stat")
    oursid=$(awk '{ print $6 }' "/proc/$$/stat")
    assert_not_equal "$sid" "$oursid" "monitor session"
    assert_not_equal "$sid" "$mon" "monitor session leader"
    [ "$ppid" != "$$" ]
    run_cove stop -t 0 sleeper
    assert_status 0
    assert_output sleeper
    assert_equal "$(state_of sleeper)" exited
    run_cove wait sleeper
    assert_output 137
    ! pgrep -f "^cove-monitor $id " >/dev/null
}

@test "foreground run: output, exit status, stdin with -i" {
    run_cove run --rootfs "$ROOTFS" sh -c 'echo out; echo err >&2; exit 7'
    assert_status 7
    assert_output_contains out
    assert_output_contains err
    out=$(echo piped | timeout 20 "$COVE" run -i --rm --rootfs "$ROOTFS" cat)
    assert_equal "$out" piped
    # Without -i the container reads nothing.
    out=$(echo piped | timeout 20 "$COVE" run --rm --rootfs "$ROOTFS" cat)
    assert_equal "$out" ""
}

@test "run --rm leaves nothing; a plain run leaves an exited container" {
    run_cove run --rm --rootfs "$ROOTFS" true
    assert_status 0
    assert_no_containers_left
    run_cove run --name kept --rootfs "$ROOTFS" sh -c 'exit 3'
    assert_status 3
    assert_equal "$(state_of kept)" exited
    run_cove wait kept
    assert_output 3
    run_cove run -d --rm --name gone --rootfs "$ROOTFS" true
    assert_status 0
    wait_for 10 bash -c "! \"$COVE\" container exists gone"
}

assert_no_containers_left() {
    local d="$XDG_DATA_HOME/cove/containers"
    ! ls "$d" 2>/dev/null | grep -qE '^[0-9a-f]{64}$'
}

@test "create, start, wait: the transitions created -> running -> exited" {
    run_cove create --name c1 --rootfs "$ROOTFS" sh -c 'sleep 0.3; exit 4'
    assert_status 0
    is_id "$output"
    assert_equal "$(state_of c1)" created
    run_cove start c1
    assert_status 0
    assert_output c1
    run_cove wait c1
    assert_status 0
    assert_output 4
    assert_equal "$(state_of c1)" exited
    # start -a follows it and returns its status.
    run_cove start -a c1
    assert_status 4
}

@test "stop sends the stop signal first, then SIGKILL after the timeout" {
    rootfs=$(copy_rootfs)
    run_cove run -d --name trap --rootfs "$rootfs" \
        sh -c 'trap "exit 3" TERM; touch /tmp/ready; while :; do sleep 0.1; done'
    assert_status 0
    wait_for 10 test -e "$rootfs/tmp/ready"
    run_cove stop trap
    assert_status 0
    run_cove wait trap
    assert_output 3
    run_cove run -d --name stubborn --stop-signal USR1 --rootfs "$rootfs" \
        sh -c 'trap "" USR1 TERM; touch /tmp/ready2; while :; do sleep 0.1; done'
    wait_for 10 test -e "$rootfs/tmp/ready2"
    start=$(date +%s)
    run_cove stop -t 1 stubborn
    assert_status 0
    run_cove wait stubborn
    assert_output 137
    [ $(( $(date +%s) - start )) -lt 8 ]
}

@test "a stopped container starts again with its changes kept" {
    rootfs=$(copy_rootfs)
    run_cove run -d --name keep --rootfs "$rootfs" \
        sh -c 'echo $$ >>/tmp/runs; sleep 1000'
    assert_status 0
    run_cove stop -t 0 keep
    run_cove start keep
    assert_status 0
    wait_for 10 count_is "$rootfs/tmp/runs" 2
    run_cove restart -t 0 keep
    assert_status 0
    assert_output keep
    wait_for 10 count_is "$rootfs/tmp/runs" 3
    run_cove rm -f keep
    assert_status 0
}

@test "kill sends a signal; kill of a stopped container fails" {
    rootfs=$(copy_rootfs)
    run_cove run -d --name k --rootfs "$rootfs" \
        sh -c 'trap "exit 10" USR1; touch /tmp/ready; while :; do sleep 0.1; done'
    wait_for 10 test -e "$rootfs/tmp/ready"
    run_cove kill -s USR1 k
    assert_status 0
    assert_output k
    run_cove wait k
    assert_output 10
    run_cove kill k
    assert_cove_error
    assert_output_contains "container state improper"
    run_cove kill -s NOSUCH k
    assert_cove_error
}

@test "pause stops every process of the container, unpause resumes them" {
    run_cove run -d --name p --rootfs "$ROOTFS" sh -c 'sleep 1000 & sleep 1000'
    id=$output
    sleep 0.3
    run_cove pause p
    assert_status 0
    assert_equal "$(state_of p)" paused
    pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$XDG_DATA_HOME/cove/containers/$id/state.json")
    wait_for 5 bash -c "grep -q '^State:.*stopped' /proc/$pid/status"
    for child in $(cat /proc/$pid/task/*/children); do
        wait_for 5 bash -c "grep -q '^State:.*stopped' /proc/$child/status"
    done
    run_cove pause p
    assert_cove_error
    run_cove unpause p
    assert_status 0
    assert_equal "$(state_of p)" running
    wait_for 5 bash -c "grep -q '^State:.*sleeping' /proc/$pid/status"
    run_cove rm -f p
    assert_status 0
}

@test "rm: running needs -f (exit 2), missing is exit 1, -f removes" {
    run_cove run -d --name r --rootfs "$ROOTFS" sleep 1000
    run_cove rm r
    assert_status 2
    assert_output_contains "container state improper"
    run_cove rm -f r
    assert_status 0
    assert_output r
    run_cove rm r
    assert_status 1
    assert_output_contains 'no container with name or ID "r" found'
    run_cove rm --ignore r
    assert_status 0
    run_cove container exists r
    assert_status 1
}

@test "rename, exists, prune" {
    run_cove create --name old --rootfs "$ROOTFS" true
    run_cove rename old new
    assert_status 0
    run_cove container exists new
    assert_status 0
    run_cove container exists old
    assert_status 1
    run_cove create --name other --rootfs "$ROOTFS" true
    run_cove rename new other
    assert_cove_error
    assert_output_contains "already in use"
    run_cove run -d --name alive --rootfs "$ROOTFS" sleep 1000
    run_cove container prune -f
    assert_status 0
    assert_equal "${#lines[@]}" 2
    run_cove container exists alive
    assert_status 0
    run_cove container exists other
    assert_status 1
}

@test "--restart on-failure:2 runs the container three times, always until stop" {
    rootfs=$(copy_rootfs)
    run_cove run -d --name rf --restart on-failure:2 --rootfs "$rootfs" \
        sh -c 'echo x >>/tmp/n; exit 1'
    wait_for 15 count_is "$rootfs/tmp/n" 3
    run_cove wait rf
    assert_output 1
    sleep 1
    assert_equal "$(wc -l <"$rootfs/tmp/n")" 3
    grep -q '"restart_count": *2' "$XDG_DATA_HOME/cove/containers/$(readlink "$XDG_DATA_HOME/cove/containers/names/rf")/state.json"
    run_cove run -d --name ra --restart always --rootfs "$rootfs" \
        sh -c 'echo y >>/tmp/a; sleep 0.2'
    wait_for 15 count_at_least "$rootfs/tmp/a" 3
    run_cove stop ra
    assert_status 0
    n=$(wc -l <"$rootfs/tmp/a")
    sleep 1
    assert_equal "$(wc -l <"$rootfs/tmp/a")" "$n"
    assert_equal "$(state_of ra)" exited
}

@test "attach follows a running container's output and returns its status" {
    run_cove run -d --name at --rootfs "$ROOTFS" \
        sh -c 'for i in $(seq 30); do echo "line $i"; sleep 0.1; done; exit 5'
    run_cove attach at
    assert_status 5
    assert_line_matches '^line 30$'
}

@test "a monitor killed with SIGKILL leaves no lie: ps sees the end, rm cleans" {
    run_cove run -d --name orphan --rootfs "$ROOTFS" sleep 1000
    id=$output
    mon=$(pgrep -f "^cove-monitor $id ")
    kill -KILL "$mon"
    pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$XDG_DATA_HOME/cove/containers/$id/state.json")
    # Still running, and said so.
    assert_equal "$(state_of orphan)" running
    kill -KILL "$pid"
    wait_for 5 bash -c "! test -d /proc/$pid"
    run_cove wait orphan
    assert_status 0
    assert_equal "$(state_of orphan)" exited
    run_cove rm orphan
    assert_status 0
    assert_no_containers_left
}

@test "50 concurrent run -d: 50 distinct ids and names, all listed" {
    # (wait for these pids only: bats' test timeout is a background job too)
    local pids=()
    for i in $(seq 50); do
        timeout 60 "$COVE" run -d --rootfs "$ROOTFS" sleep 1000 \
            >"$TEST_TMP/out.$i" 2>&1 &
        pids+=($!)
    done
    wait "${pids[@]}" || true
    ids=$(cat "$TEST_TMP"/out.* | grep -cE '^[0-9a-f]{64}$')
    assert_equal "$ids" 50 "successful runs"
    assert_equal "$(cat "$TEST_TMP"/out.* | sort -u | wc -l)" 50 "distinct ids"
    n=$(ls "$XDG_DATA_HOME/cove/containers/names" | wc -l)
    assert_equal "$n" 50 "names"
    run_cove rm -af
    assert_status 0
    assert_no_containers_left
}

@test "20 concurrent rm -f of one container: one removes it, the others say it is gone" {
    run_cove run -d --name victim --rootfs "$ROOTFS" sleep 1000
    local pids=()
    for i in $(seq 20); do
        (rc=0; timeout 60 "$COVE" rm -f victim >"$TEST_TMP/rm.$i" 2>&1 || rc=$?
         echo "$rc" >"$TEST_TMP/rc.$i") &
        pids+=($!)
    done
    wait "${pids[@]}" || true
    assert_equal "$(cat "$TEST_TMP"/rc.* | grep -c '^0$')" 1 "successful removes"
    assert_equal "$(cat "$TEST_TMP"/rc.* | grep -c '^1$')" 19 "not found"
    assert_equal "$(cat "$TEST_TMP"/rm.* | grep -c 'no such container')" 19
    assert_no_containers_left
    [ -z "$(ls -A "$XDG_DATA_HOME/cove/containers/names")" ]
    ! pgrep -f "^cove-monitor [0-9a-f]{64} $TEST_TMP/" >/dev/null
}

@test "cove killed with SIGKILL during create, run, stop and rm leaves a readable store" {
    for point in create:init create:named create:staged run:created; do
        COVE_TEST_KILL_AT=$point run_cove run -d --rootfs "$ROOTFS" sleep 1000
        assert_status 137
        run_cove system check --repair
        [ "$status" -le 1 ]
        run_cove rm -af
        assert_status 0
    done
    run_cove run -d --name s --rootfs "$ROOTFS" sleep 1000
    COVE_TEST_KILL_AT=stop:requested run_cove stop s
    assert_status 137
    run_cove stop -t 0 s
    assert_status 0
    for point in rm:killed remove:renamed remove:unnamed; do
        run_cove run -d --name r --rootfs "$ROOTFS" sleep 1000
        assert_status 0
        COVE_TEST_KILL_AT=$point run_cove rm -f r
        assert_status 137
        # Whatever the instant, the next command sees a store it reads.
        run_cove ps -a
        assert_status 0
        run_cove rm -f --ignore r
        assert_status 0
        run_cove container exists r
        assert_status 1
    done
    run_cove rm -af
    assert_status 0
    run_cove system check
    assert_status 0
    assert_output "No problems found"
    assert_no_containers_left
}

@test "a corrupt record is named and skipped, and system check repairs it" {
    run_cove create --name good --rootfs "$ROOTFS" true
    run_cove create --name bad --rootfs "$ROOTFS" true
    bad=$output
    printf '{"id": "%s", "na' "$bad" >"$XDG_DATA_HOME/cove/containers/$bad/state.json"
    run_cove rm -a
    assert_output_contains "$bad/state.json"
    run_cove system check
    assert_status 1
    assert_output_contains "$bad"
    run_cove system check --repair
    assert_status 0
    run_cove system check
    assert_status 0
}

@test "errors: unknown container, bad options" {
    run_cove start nosuch
    assert_cove_error
    assert_output_contains 'no container with name or ID "nosuch" found: no such container'
    run_cove stop nosuch
    assert_cove_error
    run_cove stop -t x nosuch
    assert_cove_error
    run_cove run --restart sometimes --rootfs "$ROOTFS" true
    assert_cove_error
    run_cove run --name 'bad name' --rootfs "$ROOTFS" true
    assert_cove_error
    assert_no_containers_left
    run_cove create --name dup --rootfs "$ROOTFS" true
    run_cove create --name dup --rootfs "$ROOTFS" true
    assert_cove_error
    assert_output_contains "already in use"
    run_cove attach dup
    assert_cove_error
}

@test "run -it: ctrl-p ctrl-q detaches and leaves the container running; attach -t gets it back" {
    command -v script >/dev/null || skip "script (util-linux) is not installed"
    run bash -c "(sleep 1; printf '\x10\x11') | timeout 20 script -qec \"'$COVE' run -it --name dk --rootfs '$ROOTFS' sh\" /dev/null"
    assert_status 0
    assert_equal "$(state_of dk)" running
    # The shell is still there: a command sent through attach runs in it.
    run bash -c "(sleep 1; printf 'exit 9\r') | timeout 20 script -qec \"'$COVE' attach dk\" /dev/null"
    run_cove wait dk
    assert_output 9
}

@test "--cidfile gets the id; an existing cidfile, or --rm with --restart, is refused" {
    run_cove run -d --cidfile "$TEST_TMP/cid" --rootfs "$ROOTFS" sleep 1000
    assert_status 0
    assert_equal "$(cat "$TEST_TMP/cid")" "$output"
    run_cove run -d --cidfile "$TEST_TMP/cid" --rootfs "$ROOTFS" sleep 1000
    assert_cove_error
    assert_output_contains "container id file exists"
    run_cove run --rm --restart always --rootfs "$ROOTFS" true
    assert_cove_error
    assert_output_contains "conflicts with --restart"
    run_cove rm -af
    assert_status 0
}
