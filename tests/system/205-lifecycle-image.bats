#!/usr/bin/env bats
# The seed's container state diagram end to end, as the unprivileged user,
# on an image from a registry: pull, run, change the running container
# (exec writes a file, cp copies one in), stop, start (the changes are
# still there), diff shows them, rm, rmi.  Plus what images and
# containers owe each other: rmi refuses an image a container uses.

load helpers

setup() {
    image_setup
}

@test "the state diagram: pull, run, exec, cp, stop, start, diff, rm, rmi" {
    require_busybox_image
    run_cove pull -q "$REG/busybox:latest"
    assert_status 0
    image=$output

    run_cove run -d --name web "$REG/busybox" sleep 1000
    assert_status 0
    run_cove exec web sh -c 'echo written-by-exec > /etc/by-exec'
    assert_status 0
    echo copied-in >"$TEST_TMP/file"
    run_cove cp "$TEST_TMP/file" web:/root/copied
    assert_status 0
    run_cove exec web rm /bin/true
    assert_status 0

    run_cove stop -t 0 web
    assert_status 0
    run_cove inspect --format '{{.State.Status}}' web
    assert_output exited

    run_cove start web
    assert_status 0
    run_cove inspect --format '{{.State.Status}}' web
    assert_output running
    run_cove exec web cat /etc/by-exec /root/copied
    assert_status 0
    assert_output "written-by-exec
copied-in"

    run_cove diff web
    assert_status 0
    assert_line_matches '^A /etc/by-exec$'
    assert_line_matches '^C /etc$'
    assert_line_matches '^A /root/copied$'
    assert_line_matches '^D /bin/true$'

    # An image with a container cannot go.
    run_cove rmi "$REG/busybox:latest"
    assert_status 2
    assert_output_contains "image is in use by a container"

    run_cove stop web
    assert_status 0
    run_cove rm web
    assert_status 0
    assert_output web
    run_cove rmi "$REG/busybox:latest"
    assert_status 0
    assert_output_contains "$image"
    assert_no_containers
}

@test "rmi -f removes the containers that use the image" {
    require_busybox_image
    run_cove pull -q "$REG/busybox:latest"
    run_cove create --name user1 "$REG/busybox" true
    assert_status 0
    run_cove rmi -f "$REG/busybox:latest"
    assert_status 0
    run_cove container exists user1
    assert_status 1
}

@test "run --rm IMAGE leaves nothing; -d IMAGE, stop, start remounts the root" {
    require_busybox_image
    run_cove pull -q "$REG/busybox:latest"
    run_cove run --rm "$REG/busybox" sh -c 'echo hi > /x; cat /x'
    assert_status 0
    assert_output hi
    assert_no_containers
    run_cove run -d --name again "$REG/busybox" sh -c 'echo run >> /runs; sleep 1000'
    assert_status 0
    run_cove restart -t 0 again
    assert_status 0
    run_cove exec again cat /runs
    assert_output "run
run"
    run_cove rm -f again
    assert_status 0
    assert_no_containers
}
