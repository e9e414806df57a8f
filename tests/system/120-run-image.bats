#!/usr/bin/env bats
# cove run IMAGE: the image config (Entrypoint, Cmd, Env, WorkingDir, User)
# and the options that override it, and the root filesystem that the layers
# make: setuid bits, hard links, symlinks, whiteouts, opaque directories,
# ownership and mtimes (the debian12 image of tests/images/build.sh).
#
# The images are pulled once per file into a store that the file's tests
# share (its own XDG_DATA_HOME); every container here is --rm.

load helpers

setup_file() {
    export SHARED_DATA="$BATS_FILE_TMPDIR/data"
    mkdir -p "$SHARED_DATA"
}

teardown_file() {
    local rt
    rt=$(mktemp -d "${BATS_TMPDIR:-/tmp}/cove-rm.XXXXXX")
    chmod 0700 "$rt"
    XDG_RUNTIME_DIR=$rt XDG_DATA_HOME=$SHARED_DATA timeout 60 \
        "$COVE" unshare rm -rf "$SHARED_DATA" >/dev/null 2>&1 || true
    TEST_TMP=$rt kill_pause_processes
    rm -rf "$rt" "$SHARED_DATA" 2>/dev/null || true
}

setup() {
    image_setup
    export XDG_DATA_HOME=$SHARED_DATA
}

teardown() { cove_teardown; }

# have_image REF: pull REF into the shared store unless it is there.
have_image() {
    local n
    n=$(timeout 30 "$COVE" images -q "$1" 2>/dev/null | head -n 1)
    [ -n "$n" ] && return 0
    cove_pull_ok "$1"
}

busybox() { require_busybox_image; have_image "$REG/busybox:latest"; }
configured() { require_busybox_image; have_image "$REG/configured:latest"; }
debian() { require_debian12; have_image "$REG/debian12:latest"; }

# ------------------------------------------------------------ config

@test "run IMAGE without a command runs Entrypoint + Cmd, in WorkingDir, as User, with Env" {
    configured
    run_cove run --rm "$REG/configured"
    assert_status 0
    assert_output "cmd-ran in /home/tester as 1000:1000 with hello-from-config"
}

@test "run IMAGE ARGS replaces Cmd and keeps Entrypoint" {
    configured
    run_cove run --rm "$REG/configured" 'echo "$GREETING in $(pwd)"'
    assert_status 0
    assert_output "hello-from-config in /home/tester"
}

@test "--entrypoint replaces the image's Entrypoint (and its Cmd)" {
    configured
    run_cove run --rm --entrypoint /bin/echo "$REG/configured" a b
    assert_status 0
    assert_output "a b"
}

@test "-e, -w and -u override the image's Env, WorkingDir and User" {
    configured
    run_cove run --rm -e GREETING=overridden -w /tmp -u 0:0 "$REG/configured"
    assert_status 0
    assert_output "cmd-ran in /tmp as 0:0 with overridden"
}

@test "the image's Env comes before -e: PATH from the image, others added" {
    configured
    run_cove run --rm -e EXTRA=1 "$REG/configured" 'echo "$PATH $EXTRA"'
    assert_status 0
    assert_output "/usr/bin:/bin 1"
}

@test "run busybox (Cmd sh) with no stdin exits 0" {
    busybox
    run_cove run --rm "$REG/busybox"
    assert_status 0
    assert_output_empty
}

@test "run busybox runs as root in the container, files owned as in the layer" {
    busybox
    run_cove run --rm "$REG/busybox" sh -c 'id -u; stat -c %u:%g /bin/busybox; stat -c %a /tmp'
    assert_status 0
    assert_output "0
0:0
1777"
    configured
    run_cove run --rm -u 0 "$REG/configured" 'stat -c %u:%g /home/tester/hello.txt'
    assert_status 0
    assert_output "1000:1000"
}

@test "run by short id and by name without the tag" {
    busybox
    local id
    id=$(cove_out images -q "$REG/busybox")
    run_cove run --rm "$id" echo by-id
    assert_status 0
    assert_output by-id
    run_cove run --rm "$REG/busybox" echo by-name
    assert_status 0
    assert_output by-name
}

@test "a container's writes do not reach the image" {
    busybox
    run_cove run --rm "$REG/busybox" sh -c 'echo x >/etc/written; rm /bin/ls; cat /etc/written'
    assert_status 0
    assert_output x
    run_cove run --rm "$REG/busybox" sh -c 'test ! -e /etc/written && test -e /bin/ls && echo clean'
    assert_status 0
    assert_output clean
}

@test "the exit status of the image's command is cove run's" {
    busybox
    run_cove run --rm "$REG/busybox" sh -c 'exit 7'
    assert_status 7
    run_cove run --rm "$REG/busybox" no-such-command
    assert_status 127
}

@test "run of an image not in the store pulls it first" {
    require_busybox_image
    export XDG_DATA_HOME="$TEST_TMP/data"
    run_cove run --rm "$REG/busybox" echo pulled-and-ran
    assert_status 0
    assert_equal "$(tail -n 1 <<<"$output")" pulled-and-ran
    run_cove images --format '{{.Id}}'
    assert_output "$(reg_image_id busybox)"
}

@test "run of an image that no registry has fails (125)" {
    require_registry
    export XDG_DATA_HOME="$TEST_TMP/data"
    run_cove run --rm "$REG/no-such-image" true
    assert_cove_error
    assert_output_contains "no-such-image"
    assert_no_containers
}

# ------------------------------------------------------------ debian12

@test "debian12: apt-get --version works" {
    debian
    run_cove run --rm "$REG/debian12" apt-get --version
    assert_status 0
    assert_line_matches '^apt [0-9]+\.[0-9]+'
}

@test "debian12: the image's Cmd is bash, with its Env and WorkingDir" {
    debian
    status=0
    output=$(echo 'echo "$COVE_TEST_IMAGE $LANG $(pwd) $0"' |
        timeout -k 5 "$COVE_TIMEOUT" "$COVE" run --rm -i "$REG/debian12" 2>&1) ||
        status=$?
    assert_status 0
    assert_output "debian12 C.UTF-8 /root bash"
}

@test "debian12: setuid bits survive: passwd, su, mount are -rwsr-xr-x" {
    debian
    run_cove run --rm "$REG/debian12" ls -l /usr/bin/passwd
    assert_status 0
    assert_line_matches '^-rwsr-xr-x .* /usr/bin/passwd$'
    run_cove run --rm "$REG/debian12" stat -c '%A %n' /usr/bin/su /usr/bin/mount
    assert_status 0
    assert_output "-rwsr-xr-x /usr/bin/su
-rwsr-xr-x /usr/bin/mount"
}

@test "debian12: files deleted by an upper layer's whiteouts are absent" {
    debian
    run_cove run --rm "$REG/debian12" sh -c \
        'for f in /etc/motd /etc/cove-deleted-by-upper /etc/.wh.motd; do
             if [ -e "$f" ]; then echo "present: $f"; fi
         done
         cat /etc/cove-layer3'
    assert_status 0
    assert_output "added by layer 3"
}

@test "debian12: an opaque directory hides the lower layer's entries" {
    debian
    run_cove run --rm "$REG/debian12" ls -A /opt/cove-opaque
    assert_status 0
    assert_output new
}

@test "debian12: hard links keep a link count of 2 and one inode" {
    debian
    run_cove run --rm "$REG/debian12" sh -c \
        'stat -c %h /usr/bin/perl /usr/bin/cove-link2
         [ "$(stat -c %i /usr/bin/perl)" = "$(stat -c %i /usr/bin/perl5.36.0)" ] && echo same-inode
         [ /usr/bin/cove-link1 -ef /usr/bin/cove-link2 ] && echo same-file'
    assert_status 0
    assert_output "2
2
same-inode
same-file"
}

@test "debian12: the hard-linked perl runs" {
    debian
    run_cove run --rm "$REG/debian12" perl5.36.0 -e 'print "perl ok\n"'
    assert_status 0
    assert_output "perl ok"
}

@test "debian12: symlinks, relative and absolute, resolve inside the container" {
    debian
    run_cove run --rm "$REG/debian12" sh -c \
        'readlink /bin; readlink /usr/bin/awk; awk "BEGIN { print 6 * 7 }"'
    assert_status 0
    assert_output "usr/bin
/etc/alternatives/awk
42"
}

@test "debian12: ownership from the layers (group shadow of /etc/shadow)" {
    debian
    load_facts "$COVE_TEST_DEBIAN12_FACTS"
    run_cove run --rm "$REG/debian12" stat -c '%g %G %u' /etc/shadow
    assert_status 0
    assert_output "$DEBIAN12_SHADOW_GID shadow 0"
}

@test "debian12: mtimes from the layers are kept" {
    debian
    load_facts "$COVE_TEST_DEBIAN12_FACTS"
    run_cove run --rm "$REG/debian12" stat -c %Y /usr/bin/perl
    assert_status 0
    assert_output "$DEBIAN12_PERL_MTIME"
}

@test "debian12: dpkg knows its packages" {
    debian
    run_cove run --rm "$REG/debian12" dpkg-query -W -f '${Status}\n' apt
    assert_status 0
    assert_output "install ok installed"
}
