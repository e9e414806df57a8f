#!/usr/bin/env bats
# cove commit: a container's changes become one new layer on top of its
# image's (deleted files as whiteouts, a directory emptied and made again
# hides what the image had), the config takes what the container was run
# with and the --change instructions, and the image runs.
#
# The image is the busybox root filesystem of helpers.bash, imported with
# `cove import`; the round trip with podman goes through the test registry.

load helpers

setup() {
    image_setup
    [ -n "$BUSYBOX" ] || skip "busybox-static is not installed"
    tar -C "$ROOTFS" -cf "$TEST_TMP/bb.tar" .
    run_cove import -q -c 'CMD ["sh"]' "$TEST_TMP/bb.tar" localhost/bb
    assert_status 0
}

@test "commit: changes, deletions and a remade directory in one new layer" {
    run_cove run --name c1 localhost/bb sh -c 'echo changed >/etc/motd;
        rm /bin/vi; rm -rf /mnt; mkdir -p /home/new; rm -rf /usr;
        mkdir -p /usr/only; echo x >/usr/only/f'
    assert_status 0
    run_cove commit -q c1 localhost/committed:1
    assert_status 0
    assert_line_matches '^[0-9a-f]{64}$'
    id=$output
    run_cove image inspect --format '{{len .RootFS.Layers}}' localhost/committed:1
    assert_output 2
    run_cove run --rm localhost/committed:1 sh -c 'cat /etc/motd;
        test -e /bin/vi || echo no-vi; test -e /mnt || echo no-mnt;
        test -d /home/new && echo home-new; find /usr | sort'
    assert_status 0
    assert_output "changed
no-vi
no-mnt
home-new
/usr
/usr/only
/usr/only/f"
    # The image a container of it is made from is what commit printed.
    run_cove images -q --no-trunc localhost/committed:1
    assert_output "sha256:$id"
}

@test "commit: cove's mount targets stay out of the layer and of diff" {
    run_cove run --name c2 localhost/bb true
    assert_status 0
    # The image has no /etc/hosts, resolv.conf or hostname: cove made
    # them in the container's root to mount its own over them.
    run_cove diff c2
    assert_output_not_contains "/etc/hosts"
    run_cove commit -q c2 localhost/committed:2
    assert_status 0
    # With no network files of cove's own mounted (none, --no-hosts), a
    # container shows what its image has.
    run_cove run --rm --network none --no-hosts localhost/committed:2 ls -a /etc
    assert_status 0
    assert_output_not_contains hosts
    assert_output_not_contains resolv.conf
    assert_output_not_contains hostname
    assert_output_contains passwd
}

@test "commit: the container's settings, -c changes, author and message" {
    run_cove run --name c4 -e FROMRUN=1 -w /tmp --label team=a localhost/bb \
        sh -c 'echo hello >/tmp/f'
    assert_status 0
    run_cove commit -q -a "A U Thor" -m "first commit" \
        -c 'ENV GREETING=hi' -c 'CMD ["cat", "/tmp/f"]' -c 'EXPOSE 8080' \
        -c 'LABEL mood=good' c4 localhost/committed:3
    assert_status 0
    run_cove run --rm localhost/committed:3
    assert_status 0
    assert_output hello
    run_cove run --rm localhost/committed:3 sh -c 'echo $FROMRUN $GREETING; pwd'
    assert_output "1 hi
/tmp"
    run_cove image inspect --format '{{.Author}}|{{.Config.ExposedPorts}}|{{.Config.Labels}}' localhost/committed:3
    assert_output_contains "A U Thor|"
    assert_output_contains "8080/tcp"
    assert_output_contains "mood:good"
    assert_output_contains "team:a"
    run_cove history --format '{{.Comment}}' localhost/committed:3
    assert_line_matches '^first commit$'
}

@test "commit: of a running container with --pause, and --iidfile" {
    run_cove run -d --name c5 localhost/bb sh -c 'echo live >/live; sleep 1000'
    assert_status 0
    wait_for 10 "$COVE" exec c5 test -e /live
    run_cove commit -q -p --iidfile "$TEST_TMP/iid" c5 localhost/committed:5
    assert_status 0
    assert_equal "$(cat "$TEST_TMP/iid")" "sha256:$output"
    # Still running, and not left stopped.
    run_cove inspect --format '{{.State.Status}}' c5
    assert_output running
    run_cove exec c5 sh -c 'grep State /proc/1/status'
    assert_output_not_contains "stopped"
    run_cove run --rm localhost/committed:5 cat /live
    assert_output live
}

@test "commit: errors leave nothing behind" {
    run_cove run --name c6 localhost/bb true
    run_cove images -q
    local before=$output
    run_cove commit c6 localhost/x -c 'BOGUS 1'
    assert_status 125
    assert_output_contains 'Error: invalid change "BOGUS 1"'
    run_cove commit nosuch localhost/x
    assert_status 125
    assert_output_contains 'no container with name or ID "nosuch" found'
    run_cove commit c6 'Bad:Name:x'
    assert_status 125
    run_cove commit
    assert_status 125
    run_cove run --name c7 --rootfs "$ROOTFS" true
    run_cove commit c7 localhost/x
    assert_status 125
    assert_output_contains "no image"
    run_cove images -q
    assert_output "$before"
}

@test "commit and push; podman pulls it and sees the change and the deletion, and back" {
    require_registry
    podman_setup
    run_cove run --name rt localhost/bb sh -c 'echo round-trip >/etc/motd; rm /bin/vi'
    assert_status 0
    run_cove commit -q rt "$REG/committed:rt"
    assert_status 0
    run_cove push -q "$REG/committed:rt"
    assert_status 0
    run pod pull -q "$REG/committed:rt"
    assert_status 0
    run pod run --rm --network none "$REG/committed:rt" \
        sh -c 'cat /etc/motd; test -e /bin/vi || echo no-vi'
    assert_status 0
    assert_output "round-trip
no-vi"
    # The reverse: podman commits a change and a deletion and pushes it.
    run pod run --name prt --network none "$REG/committed:rt" \
        sh -c 'echo from-podman >/etc/motd; rm /bin/ls'
    assert_status 0
    run pod commit -q prt "$REG/podman-made:1"
    assert_status 0
    run pod push -q "$REG/podman-made:1"
    assert_status 0
    run_cove pull -q "$REG/podman-made:1"
    assert_status 0
    run_cove run --rm "$REG/podman-made:1" \
        sh -c 'cat /etc/motd; test -e /bin/ls || echo no-ls; test -e /bin/vi || echo no-vi'
    assert_status 0
    assert_output "from-podman
no-ls
no-vi"
    pod rm -f prt >/dev/null 2>&1 || true
}
