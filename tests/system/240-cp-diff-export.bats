#!/usr/bin/env bats
# cove cp, cove diff and cove export: copies in and out of running and
# stopped containers (plain and as tar streams), the container's symlinks
# never leading out of it, the A/C/D list of its changes, and its root
# filesystem as a tarball that `cove import` takes back.
#
# The image is the busybox root filesystem of helpers.bash, imported with
# `cove import` (no registry needed).

load helpers

setup() {
    cove_setup
    [ -n "$BUSYBOX" ] || skip "busybox-static is not installed"
    tar -C "$ROOTFS" -cf "$TEST_TMP/bb.tar" .
    run_cove import -q "$TEST_TMP/bb.tar" localhost/bb
    assert_status 0
}

# start_ctr NAME: a running container NAME of the image.
start_ctr() {
    run_cove run -d --name "$1" localhost/bb sleep 1000
    assert_status 0
}

@test "diff: A, C and D of a running and a stopped container, json" {
    start_ctr c
    run_cove exec c sh -c 'echo new >/etc/new; echo more >>/etc/passwd;
        rm /etc/group; mkdir -p /home/tester/d/e; rm -rf /mnt'
    assert_status 0
    run_cove diff c
    assert_status 0
    assert_output "C /etc
D /etc/group
A /etc/new
C /etc/passwd
C /home/tester
A /home/tester/d
A /home/tester/d/e
D /mnt"
    local running=$output
    run_cove stop -t 0 c
    run_cove container diff c
    assert_status 0
    assert_equal "$output" "$running"
    run_cove diff --format json c
    assert_status 0
    run jq -c . <<<"$output"
    assert_output '{"changed":["/etc","/etc/passwd","/home/tester"],"added":["/etc/new","/home/tester/d","/home/tester/d/e"],"deleted":["/etc/group","/mnt"]}'
}

@test "diff: an unchanged container has no change; errors" {
    run_cove create --name idle localhost/bb true
    assert_status 0
    run_cove diff idle
    assert_status 0
    assert_output_empty
    run_cove diff nosuch
    assert_cove_error
    assert_output_contains 'no container with name or ID "nosuch" found'
    run_cove diff --format yaml idle
    assert_cove_error
    run_cove diff
    assert_cove_error
}

@test "cp out of a running container: file, directory, /., symlink" {
    start_ctr c
    run_cove exec c sh -c 'mkdir -p /data/sub; echo one >/data/one;
        echo two >/data/sub/two; ln -s /etc/passwd /data/link'
    assert_status 0
    local out=$TEST_TMP/out
    mkdir "$out"
    run_cove cp c:/data/one "$out/"
    assert_status 0
    assert_equal "$(cat "$out/one")" one
    run_cove cp c:/data/one "$out/renamed"
    assert_status 0
    assert_equal "$(cat "$out/renamed")" one
    # A directory to a new name, then into an existing directory.
    run_cove cp c:/data "$out/d1"
    assert_status 0
    assert_equal "$(cat "$out/d1/sub/two")" two
    run_cove cp c:/data "$out/d1"
    assert_status 0
    assert_equal "$(cat "$out/d1/data/sub/two")" two
    # /. copies the content only.
    mkdir "$out/d2"
    run_cove cp c:/data/. "$out/d2"
    assert_status 0
    assert_equal "$(cat "$out/d2/one")" one
    # A symlink stays a symlink; -L copies what it points to, in the
    # container.
    [ -L "$out/d2/link" ]
    assert_equal "$(readlink "$out/d2/link")" /etc/passwd
    run_cove cp -L c:/data/link "$out/passwd"
    assert_status 0
    [ ! -L "$out/passwd" ]
    grep -q '^tester:' "$out/passwd"
    # The copies belong to the user.
    assert_equal "$(stat -c %u "$out/d1/sub/two")" "$(id -u)"
    run_cove cp c:/nonexistent "$out/"
    assert_cove_error
    assert_output_contains '"/nonexistent" could not be found on container c'
}

@test "cp into a running container: owned by its root, -a keeps ids" {
    start_ctr c
    echo hostfile >"$TEST_TMP/hf"
    mkdir -p "$TEST_TMP/hd/sub"
    echo deep >"$TEST_TMP/hd/sub/f"
    run_cove cp "$TEST_TMP/hf" c:/tmp/
    assert_status 0
    run_cove cp "$TEST_TMP/hd" c:/root/newdir
    assert_status 0
    run_cove exec c sh -c 'cat /tmp/hf /root/newdir/sub/f; stat -c %u:%g /tmp/hf /root/newdir/sub'
    assert_status 0
    assert_output "hostfile
deep
0:0
0:0"
    # Over an existing file.
    echo changed >"$TEST_TMP/hf"
    run_cove cp "$TEST_TMP/hf" c:/tmp/hf
    assert_status 0
    run_cove exec c cat /tmp/hf
    assert_output changed
    # -a keeps the ids of a tar stream coming in, and of the container's
    # files going out (container uid 1000 is subordinate id start+999).
    run bash -c "tar -C '$TEST_TMP' --owner=1000 --group=1000 --numeric-owner -cf - hf | timeout 30 '$COVE' cp -a - c:/root"
    assert_status 0
    run bash -c "tar -C '$TEST_TMP' --owner=1000 --group=1000 --numeric-owner -cf - hf | timeout 30 '$COVE' cp - c:/"
    assert_status 0
    run_cove exec c stat -c %u:%g /root/hf /hf
    assert_output "1000:1000
0:0"
    run_cove cp -a c:/root/hf "$TEST_TMP/kept"
    assert_status 0
    local start
    read -r start _ < <(host_subid /etc/subuid)
    assert_equal "$(stat -c %u "$TEST_TMP/kept")" "$((start + 999))"
    run_cove cp c:/root/hf "$TEST_TMP/mine"
    assert_equal "$(stat -c %u "$TEST_TMP/mine")" "$(id -u)"
    run_cove cp "$TEST_TMP/nonexistent" c:/tmp/
    assert_cove_error
    run_cove cp "$TEST_TMP/hf" c:/no/such/dir/
    assert_cove_error
}

@test "cp: the container's symlinks never lead to the host" {
    start_ctr c
    echo secret >"$TEST_TMP/secret"
    chmod 0644 "$TEST_TMP/secret"
    run_cove exec c sh -c "ln -s $TEST_TMP /evil; ln -s $TEST_TMP/secret /x;
        ln -s / /root-link"
    assert_status 0
    # Out: the link itself, and -L resolves in the container's root.
    mkdir "$TEST_TMP/out"
    run_cove cp c:/x "$TEST_TMP/out/x"
    assert_status 0
    [ -L "$TEST_TMP/out/x" ]
    run_cove cp -L c:/x "$TEST_TMP/out/x2"
    assert_cove_error
    [ ! -e "$TEST_TMP/out/x2" ]
    run_cove cp c:/evil/secret "$TEST_TMP/out/s"
    assert_cove_error
    [ ! -e "$TEST_TMP/out/s" ]
    # In: through /evil the write lands in the container or nowhere.
    echo planted >"$TEST_TMP/hf"
    run_cove cp "$TEST_TMP/hf" c:/evil/planted
    [ ! -e "$TEST_TMP/planted" ]
    run_cove cp "$TEST_TMP/hf" c:/root-link/tmp/viaroot
    assert_status 0
    [ ! -e /tmp/viaroot ]
    run_cove exec c cat /tmp/viaroot
    assert_output planted
    # A tar stream cannot climb out either.
    python3 - "$TEST_TMP/evil.tar" "$TEST_TMP/escaped" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    for name in ("../../../../../../.." + sys.argv[2], sys.argv[2]):
        i = tarfile.TarInfo(name)
        i.size = 4
        t.addfile(i, io.BytesIO(b"evil"))
PY
    run bash -c "timeout 30 '$COVE' cp - c:/tmp <'$TEST_TMP/evil.tar' 2>&1"
    assert_status 125
    [ ! -e "$TEST_TMP/escaped" ]
}

@test "cp with - : tar streams out and in" {
    start_ctr c
    run_cove exec c sh -c 'mkdir -p /data/sub; echo two >/data/sub/two'
    run bash -c "timeout 30 '$COVE' cp c:/data - | tar -tf -"
    assert_status 0
    assert_line_matches '^data/$'
    assert_line_matches '^data/sub/two$'
    run bash -c "timeout 30 '$COVE' cp c:/data/sub/two - | tar -xOf -"
    assert_status 0
    assert_output two
    mkdir -p "$TEST_TMP/t/dir"
    echo streamed >"$TEST_TMP/t/dir/f"
    run bash -c "tar -C '$TEST_TMP/t' -cf - dir | timeout 30 '$COVE' cp - c:/tmp"
    assert_status 0
    run_cove exec c sh -c 'cat /tmp/dir/f; stat -c %u /tmp/dir/f'
    assert_output "streamed
0"
    # The destination of a stream must be a directory.
    run bash -c "tar -C '$TEST_TMP/t' -cf - dir | timeout 30 '$COVE' cp - c:/tmp/dir/f 2>&1"
    assert_status 125
}

@test "cp in and out of a stopped container; the files stay" {
    start_ctr c
    run_cove stop -t 0 c
    assert_status 0
    echo offline >"$TEST_TMP/hf"
    run_cove cp "$TEST_TMP/hf" c:/etc/hf
    assert_status 0
    run bash -c "tar -C '$TEST_TMP' -cf - hf | timeout 30 '$COVE' cp - c:/root"
    assert_status 0
    run_cove cp c:/etc/hf "$TEST_TMP/back"
    assert_status 0
    assert_equal "$(cat "$TEST_TMP/back")" offline
    run_cove diff c
    assert_line_matches '^A /etc/hf$'
    assert_line_matches '^A /root/hf$'
    run_cove start c
    assert_status 0
    run_cove exec c cat /etc/hf /root/hf
    assert_output "offline
offline"
}

@test "export: running and stopped, imported back" {
    start_ctr c
    run_cove exec c sh -c 'echo exported >/etc/mark; rm /etc/group'
    run bash -c "timeout 60 '$COVE' export c | tar -tf -"
    assert_status 0
    assert_line_matches '^etc/mark$'
    assert_line_matches '^bin/busybox$'
    assert_no_line_matches '^etc/group$'
    # The container's /proc is not in it.
    assert_no_line_matches '^proc/.'
    run_cove stop -t 0 c
    run_cove container export -o "$TEST_TMP/c.tar" c
    assert_status 0
    assert_output_empty
    run tar -tf "$TEST_TMP/c.tar"
    assert_line_matches '^etc/mark$'
    run_cove import -q "$TEST_TMP/c.tar" localhost/exported
    assert_status 0
    run_cove run --rm localhost/exported cat /etc/mark
    assert_status 0
    assert_output exported
    run_cove export nosuch
    assert_cove_error
}

@test "export refuses to write to a terminal" {
    command -v script >/dev/null || skip "script (util-linux) is not installed"
    start_ctr c
    run script -qec "timeout 30 '$COVE' export c" /dev/null
    assert_status 125
    assert_output_contains "refusing to export to terminal"
}
