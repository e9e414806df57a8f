#!/usr/bin/env bats
# The storage driver: --storage-driver, cove.conf, and what `cove info`
# reports.

load helpers

setup() { image_setup; }
teardown() { cove_teardown; }

@test "info reports the driver: auto resolves to overlay on this kernel" {
    run_cove info
    assert_status 0
    assert_line_matches '^  graphDriverName: (overlay|fuse-overlayfs|vfs)$'
    run_cove --storage-driver vfs info
    assert_status 0
    assert_line_matches '^  graphDriverName: vfs$'
}

@test "cove.conf chooses the driver; --storage-driver wins over it" {
    mkdir -p "$XDG_CONFIG_HOME/cove"
    printf '[storage]\ndriver = "vfs"\n' >"$XDG_CONFIG_HOME/cove/cove.conf"
    run_cove info --format '{{.store.graphDriverName}}'
    assert_status 0
    assert_output vfs
    run_cove --storage-driver=overlay info --format '{{.store.graphDriverName}}'
    assert_status 0
    assert_output overlay
}

@test "a bad driver name or a malformed cove.conf fails with 125" {
    run_cove --storage-driver bogus info
    assert_cove_error
    assert_output_contains "unknown storage driver"
    mkdir -p "$XDG_CONFIG_HOME/cove"
    printf '[storage\n' >"$XDG_CONFIG_HOME/cove/cove.conf"
    run_cove info
    assert_cove_error
    assert_output_contains "cove.conf"
}

@test "run IMAGE works with each driver" {
    require_busybox_image
    run_cove pull -q "$REG/busybox:latest"
    assert_status 0
    local d
    for d in overlay fuse-overlayfs vfs; do
        run_cove --storage-driver "$d" run "$REG/busybox" sh -c 'echo hi > /tmp/f && cat /tmp/f'
        assert_status 0
        assert_output hi
    done
}
