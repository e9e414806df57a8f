#!/usr/bin/env bats
# --network, --pid, --ipc, --uts, --cgroupns: private by default, the
# host's on request.

load helpers

# ns_of NS ARGS...: the container's NS namespace with cove run ARGS.
ns_of() {
    local ns=$1
    shift
    run_cove run "$@" --rootfs "$ROOTFS" readlink /proc/self/ns/$ns
}

# ------------------------------------------------------------ network

@test "run: by default the container has lo and the NAT's tap0, both up" {
    run_cove run --rootfs "$ROOTFS" cat /proc/net/dev
    assert_status 0
    assert_equal "$(netdev_names <<<"$output" | sort | tr '\n' ' ')" "lo tap0 " interfaces
    run_cove run --rootfs "$ROOTFS" ip link show tap0
    assert_status 0
    assert_line_matches '<([^>]*,)?UP(,[^>]*)?>'
    run_cove run --rootfs "$ROOTFS" ip link show lo
    assert_status 0
    assert_line_matches '<([^>]*,)?UP(,[^>]*)?>'
}

@test "run: --network none has only lo, and it is up" {
    run_cove run --network none --rootfs "$ROOTFS" cat /proc/net/dev
    assert_status 0
    assert_equal "$(netdev_names <<<"$output" | tr '\n' ' ')" "lo " interfaces
    run_cove run --network=none --rootfs "$ROOTFS" ip link show lo
    assert_status 0
    assert_line_matches '<([^>]*,)?UP(,[^>]*)?>'
}

@test "run: --network none is a new network namespace" {
    local host
    host=$(readlink /proc/self/ns/net)
    ns_of net --network none
    assert_status 0
    assert_line_matches '^net:\[[0-9]+\]$'
    assert_not_equal "$output" "$host" "net namespace"
}

@test "run: --network host sees the host's interfaces" {
    local host
    host=$(netdev_names </proc/net/dev | tr '\n' ' ')
    run_cove run --network host --rootfs "$ROOTFS" cat /proc/net/dev
    assert_status 0
    assert_equal "$(netdev_names <<<"$output" | tr '\n' ' ')" "$host" interfaces
    ns_of net --network host
    assert_status 0
    assert_equal "$output" "$(readlink /proc/self/ns/net)" "net namespace"
}

@test "run: an unknown --network mode exits 125" {
    run_cove run --network bogusmode --rootfs "$ROOTFS" true
    assert_cove_error
    assert_no_containers
}

# ------------------------------------------------------------ pid

@test "run: --pid host sees the host's processes" {
    run_cove run --pid host --rootfs "$ROOTFS" \
        sh -c "test -d /proc/$$ && echo found; echo \$\$"
    assert_status 0
    assert_equal "${lines[0]}" found "/proc/$$ of the host"
    assert_not_equal "${lines[1]}" 1 "pid of the command"
    ns_of pid --pid host
    assert_status 0
    assert_equal "$output" "$(readlink /proc/self/ns/pid)" "pid namespace"
}

@test "run: a private pid namespace does not see the host's processes" {
    run_cove run --rootfs "$ROOTFS" sh -c "test -d /proc/$$ && echo found; ls /proc | grep -c '^[0-9]'"
    assert_status 0
    assert_output_not_contains found
}

# ------------------------------------------------------------ ipc, uts

@test "run: --ipc host shares the host's ipc namespace" {
    ns_of ipc --ipc host
    assert_status 0
    assert_equal "$output" "$(readlink /proc/self/ns/ipc)" "ipc namespace"
}

@test "run: --uts host shares the host's hostname" {
    run_cove run --uts host --rootfs "$ROOTFS" hostname
    assert_status 0
    assert_output "$(hostname)"
    ns_of uts --uts host
    assert_status 0
    assert_equal "$output" "$(readlink /proc/self/ns/uts)" "uts namespace"
}

# ------------------------------------------------------------ cgroup

@test "run: --cgroupns host shares the host's cgroup namespace" {
    ns_of cgroup --cgroupns host
    assert_status 0
    assert_equal "$output" "$(readlink /proc/self/ns/cgroup)" "cgroup namespace"
}

@test "run: --cgroupns private is a new cgroup namespace" {
    ns_of cgroup --cgroupns private
    assert_status 0
    assert_line_matches '^cgroup:\[[0-9]+\]$'
    assert_not_equal "$output" "$(readlink /proc/self/ns/cgroup)" "cgroup namespace"
}
