#!/usr/bin/env bats
# cove exec and cove top: a process started in a running container joins
# its namespaces and confinement; top lists the container's processes as
# the container sees them.  --rootfs containers (a busybox tree with users
# root, tester 1000 in group extra 2000, nobody), started with run -d.

load helpers

# start_ctr NAME [CMD...]: a running container NAME (default: sleep).
start_ctr() {
    local name=$1
    shift
    [ $# -gt 0 ] || set -- sleep 1000
    run_cove run -d --name "$name" --hostname exechost --rootfs "$ROOTFS" "$@"
    assert_status 0
}

@test "exec: runs in the container's namespaces and sees its files" {
    start_ctr c sh -c 'while [ ! -e /tmp/ready ]; do sleep 0.1; done;
                       echo seen >/tmp/ack; exec sleep 1000'
    run_cove exec c hostname
    assert_status 0
    assert_output exechost
    # A file exec writes is the container's: its init sees it and answers.
    run_cove exec c touch /tmp/ready
    assert_status 0
    wait_for 10 "$COVE" exec c test -e /tmp/ack
    run_cove exec c cat /tmp/ack
    assert_output seen
    wait_for 10 "$COVE" exec c grep -qx sleep /proc/1/comm
    # The init is pid 1; the exec'd process is another pid of that namespace.
    run_cove exec c sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; echo $$'
    assert_status 0
    assert_equal "${lines[0]}" "sleep 1000 " "pid 1"
    [ "${lines[1]}" -gt 1 ]
    for ns in mnt pid net uts ipc cgroup; do
        run_cove exec c sh -c "[ \$(readlink /proc/self/ns/$ns) = \$(readlink /proc/1/ns/$ns) ]"
        assert_status 0
    done
}

@test "exec: the command's exit status, 126 and 127" {
    start_ctr c
    run_cove exec c sh -c 'exit 3'
    assert_status 3
    run_cove exec c true
    assert_status 0
    assert_output_empty
    run_cove exec c sh -c 'echo out; echo err >&2'
    assert_status 0
    assert_equal "${lines[0]}" out
    assert_equal "${lines[1]}" err
    run_cove exec c nonexistent-cmd
    assert_status 127
    assert_line_matches '^Error: .*nonexistent-cmd.* not found'
    run_cove exec c /etc
    assert_status 126
    assert_line_matches '^Error: .*/etc'
    run_cove exec c sh -c 'kill -TERM $$'
    assert_status 143
}

@test "exec: -e, --env-file, -u, -w" {
    start_ctr c
    run_cove exec -e FOO=bar -e HOSTNAME=over c sh -c 'echo $FOO $HOSTNAME'
    assert_status 0
    assert_output "bar over"
    printf '# comment\nA=1\n\nB=two words\nFROMHOST\n' >"$TEST_TMP/env"
    FROMHOST=passed run_cove exec --env-file "$TEST_TMP/env" -e A=2 c \
        sh -c 'echo "$A|$B|$FROMHOST"'
    assert_output "2|two words|passed"
    run_cove exec c id -u
    assert_output 0
    run_cove exec -u tester c sh -c 'id; echo $HOME'
    assert_status 0
    assert_equal "${lines[0]}" "uid=1000(tester) gid=1000(tester) groups=2000(extra)"
    assert_equal "${lines[1]}" /home/tester
    run_cove exec -u 1000:2000 c id -g
    assert_output 2000
    run_cove exec --user nobody c id -un
    assert_output nobody
    run_cove exec -u nosuchuser c true
    assert_cove_error
    assert_output_contains "unable to find user nosuchuser"
    run_cove exec -w /tmp c pwd
    assert_output /tmp
    run_cove exec --workdir=/etc c pwd
    assert_output /etc
}

@test "exec: -i passes stdin, without it stdin is empty" {
    start_ctr c
    out=$(echo piped | timeout 20 "$COVE" exec -i c cat)
    assert_equal "$out" piped
    out=$(echo piped | timeout 20 "$COVE" exec c cat)
    assert_equal "$out" ""
}

@test "exec: -t allocates a pty of the container, with or without a terminal" {
    start_ctr c
    run_cove exec -t c sh -c 'tty; echo $TERM'
    assert_status 0
    assert_line_matches '^/dev/pts/[0-9]+'
    assert_line_matches '^xterm'
    run_cove exec c tty
    assert_status 1
    if command -v script >/dev/null; then
        rc=0
        out=$(timeout 20 script -qec "$COVE exec -it c sh -c 'tty; exit 4'" /dev/null </dev/null) || rc=$?
        assert_equal "$rc" 4 "exit status through script"
        [[ "$out" == *"/dev/pts/"* ]]
    fi
}

@test "exec: -d starts the process and returns at once" {
    start_ctr c
    SECONDS=0
    run_cove exec -d c sh -c 'sleep 2; echo done >/tmp/detached'
    assert_status 0
    assert_output_empty
    [ "$SECONDS" -lt 2 ]
    wait_for 10 "$COVE" exec c test -e /tmp/detached
    run_cove exec c cat /tmp/detached
    assert_output done
}

@test "exec: --privileged has every capability, the default not" {
    start_ctr c
    run_cove exec c sh -c 'grep ^CapBnd /proc/self/status'
    default=$output
    run_cove exec --privileged c sh -c 'grep ^CapBnd /proc/self/status'
    assert_status 0
    assert_not_equal "$output" "$default" "bounding set"
    run_cove exec -u tester c sh -c 'grep ^CapEff /proc/self/status'
    assert_output "CapEff:	0000000000000000"
}

@test "exec: errors as podman's" {
    run_cove exec
    assert_cove_error
    assert_output "Error: exec requires the name or ID of a container or the --latest flag"
    run_cove exec nosuch true
    assert_cove_error
    assert_output 'Error: no container with name or ID "nosuch" found: no such container'
    start_ctr c
    run_cove exec c
    assert_cove_error
    assert_output_contains "must provide a non-empty command"
    run_cove exec --bogus c true
    assert_cove_error
    run_cove stop -t 0 c
    assert_status 0
    run_cove exec c true
    assert_cove_error
    assert_output "Error: can only create exec sessions on running containers: container state improper"
    run_cove top c
    assert_cove_error
    assert_output "Error: top can only be used on running containers"
}

@test "exec: -l acts on the latest container" {
    start_ctr first
    run_cove run -d --name second --hostname latest --rootfs "$ROOTFS" sleep 1000
    assert_status 0
    run_cove exec -l hostname
    assert_status 0
    assert_output latest
    run_cove exec --latest -e X=1 sh -c 'echo $X'
    assert_output 1
}

@test "exec: a paused container refuses" {
    start_ctr c
    run_cove pause c
    [ "$status" -eq 0 ] || skip "pause is not available: $output"
    run_cove exec c true
    assert_cove_error
    assert_output_contains "container state improper"
    run_cove unpause c
}

@test "top: podman's columns, the container's pids and users" {
    start_ctr c sh -c 'sleep 1001 & exec sleep 1000'
    run_cove exec -d -u tester c sleep 1002
    assert_status 0
    wait_for 10 sh -c "timeout 10 '$COVE' top c | grep -q 'sleep 1002'"
    run_cove top c
    assert_status 0
    assert_line_matches '^USER +PID +PPID +%CPU +ELAPSED +TTY +TIME +COMMAND$'
    assert_line_matches '^root +1 +0 +[0-9.]+ +[0-9.a-zµ]+ +\? +[0-9.a-zµ]+ +sleep 1000 $'
    assert_line_matches '^root +[0-9]+ +1 +.* +sleep 1001 $'
    assert_line_matches '^tester +[0-9]+ +0 +.* +sleep 1002 $'
    # Host pids are not shown (the container's are small numbers).
    assert_no_line_matches "^root +$(pgrep -f '^sleep 1000$' | head -1) "
    run_cove top c pid,comm user
    assert_status 0
    assert_equal "${lines[0]}" "PID         COMMAND     USER"
    assert_line_matches '^1 +sleep +root$'
    run_cove top c %p %U %c
    assert_equal "${lines[0]}" "PID         USER        COMMAND"
    run_cove top c hpid seccomp
    assert_line_matches '^[0-9]+ +filter$'
}

@test "top: unknown descriptors go to the container's ps" {
    start_ctr c
    run_cove top c -o pid,comm
    assert_status 0
    assert_line_matches '^ *PID +COMMAND'
    assert_line_matches '^ *1 +sleep'
    run_cove top
    assert_cove_error
    run_cove top nosuch
    assert_cove_error
    assert_output_contains 'no container with name or ID "nosuch" found'
}

@test "exec: a container of an image (its root mounted by its monitor)" {
    tar -C "$ROOTFS" -cf "$TEST_TMP/bb.tar" .
    run_cove import -q "$TEST_TMP/bb.tar" localhost/bb
    assert_status 0
    run_cove run -d --name img localhost/bb sleep 1000
    assert_status 0
    run_cove exec img sh -c 'echo kept >/root/file; id -un'
    assert_status 0
    assert_output root
    # /root is 0700: the image's tester cannot read it.
    run_cove exec -u tester img cat /root/file
    assert_status 1
    assert_output_contains "Permission denied"
    run_cove exec -u tester img id -un
    assert_output tester
    run_cove top img pid args
    assert_status 0
    assert_line_matches '^1 +sleep 1000 $'
    run_cove stop -t 0 img
    assert_status 0
    run_cove start img
    assert_status 0
    run_cove exec img cat /root/file
    assert_status 0
    assert_output kept
}
