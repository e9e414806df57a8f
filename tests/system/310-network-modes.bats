#!/usr/bin/env bats
# Network modes that need no NAT: none (the default: loopback only), host,
# container:NAME (the seed's two applications sharing one network
# namespace, nothing else reaching them), ns:PATH; and the container's own
# /etc/hosts, /etc/resolv.conf and /etc/hostname (--hostname, --add-host,
# --dns, --dns-search, --dns-option, --no-hosts), bound from its directory
# without writing into the root filesystem.

load helpers

# A rootfs with /etc/hosts, resolv.conf and hostname of its own, which the
# container's files are bound over.
etc_rootfs() {
    local r
    r=$(copy_rootfs)
    echo "10.9.9.9 from-the-image" >"$r/etc/hosts"
    : >"$r/etc/resolv.conf"
    echo image-host >"$r/etc/hostname"
    echo "$r"
}

@test "container:NAME shares the network namespace: they talk over 127.0.0.1, a third cannot" {
    rootfs=$(etc_rootfs)
    run_cove run -d --name srv --rootfs "$rootfs" \
        sh -c 'while :; do echo hello-from-srv | nc -l -p 8080; done'
    assert_status 0
    wait_for 10 "$COVE" exec srv sh -c 'netstat -ltn 2>/dev/null | grep -q :8080'
    run_cove run --rm --network container:srv --rootfs "$rootfs" \
        sh -c 'nc 127.0.0.1 8080 </dev/null'
    assert_status 0
    assert_output hello-from-srv
    run_cove run --rm --rootfs "$rootfs" sh -c 'nc -w 2 127.0.0.1 8080 </dev/null'
    assert_status_not 0
    # Same namespace: the same interfaces and the same inode.
    srv_ns=$("$COVE" exec srv readlink /proc/self/ns/net)
    run_cove run --rm --network container:srv --rootfs "$rootfs" readlink /proc/self/ns/net
    assert_output "$srv_ns"
    run_cove inspect --format '{{.HostConfig.NetworkMode}}' srv
    assert_output slirp4netns
    run_cove rm -f srv
}

@test "container:NAME of a missing or stopped container is refused, nothing left" {
    run_cove create --name stopped --rootfs "$ROOTFS" true
    run_cove run --rm --network container:stopped --rootfs "$ROOTFS" true
    assert_cove_error
    assert_output_contains "not running"
    run_cove run --rm --network container:nosuch --rootfs "$ROOTFS" true
    assert_cove_error
    assert_output_contains "no such container"
    run_cove rm stopped
    assert_no_containers
}

@test "ns:PATH joins a namespace by path" {
    rootfs=$(etc_rootfs)
    run_cove run -d --name holder --rootfs "$rootfs" sleep 1000
    pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$XDG_DATA_HOME/cove/containers/$output/state.json")
    want=$("$COVE" exec holder readlink /proc/self/ns/net)
    run_cove run --rm --network "ns:/proc/$pid/ns/net" --rootfs "$rootfs" readlink /proc/self/ns/net
    assert_status 0
    assert_output "$want"
    run_cove rm -f holder
}

@test "/etc/hosts, resolv.conf and hostname are the container's, the image's files untouched" {
    rootfs=$(etc_rootfs)
    run_cove run --rm --hostname web1 --add-host db:10.1.2.3 --add-host v6:[fd00::5] \
        --dns 192.0.2.53 --dns-search example.test --dns-option ndots:2 \
        --rootfs "$rootfs" sh -c 'cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; cat /etc/hostname; hostname'
    assert_status 0
    assert_line_matches '^127\.0\.0\.1[[:space:]]+localhost'
    assert_line_matches '^10\.1\.2\.3[[:space:]]+db$'
    assert_line_matches '^fd00::5[[:space:]]+v6$'
    # The default network (slirp): the hostname is the container's address.
    assert_line_matches '^10\.0\.2\.100[[:space:]]+web1$'
    assert_line_matches '^nameserver 192\.0\.2\.53$'
    assert_line_matches '^search example\.test$'
    assert_line_matches '^options ndots:2$'
    assert_output_not_contains from-the-image
    [ "$(tail -n 2 <<<"$output" | sort -u)" = web1 ]
    assert_equal "$(cat "$rootfs/etc/hosts")" "10.9.9.9 from-the-image"
    assert_equal "$(cat "$rootfs/etc/hostname")" image-host
    run_cove run --rm --no-hosts --rootfs "$rootfs" cat /etc/hosts
    assert_output "10.9.9.9 from-the-image"
    # A root filesystem without the files gets none made in it.
    run_cove run --rm --rootfs "$ROOTFS" true
    [ ! -e "$ROOTFS/etc/hosts" ]
}

@test "--network host: the host's interfaces; bad modes and hosts are refused" {
    run_cove run --rm --network host --rootfs "$ROOTFS" cat /proc/net/dev
    assert_status 0
    assert_equal "$(netdev_names <<<"$output")" "$(netdev_names </proc/net/dev)"
    run_cove run --rm --network bogus --rootfs "$ROOTFS" true
    assert_cove_error
    run_cove run --rm --network container: --rootfs "$ROOTFS" true
    assert_cove_error
    run_cove run --rm --add-host nocolon --rootfs "$ROOTFS" true
    assert_cove_error
    run_cove run --rm --add-host name:999.1.1.1 --rootfs "$ROOTFS" true
    assert_cove_error
    run_cove run --rm --network slirp:mtu=abc --rootfs "$ROOTFS" true
    assert_cove_error
    assert_no_containers
}

@test "slirp: resolv.conf names the NAT's DNS, hosts the container and host.containers.internal" {
    rootfs=$(etc_rootfs)
    run_cove run --rm --hostname s1 --network slirp:allow_host_loopback=true \
        --rootfs "$rootfs" sh -c 'cat /etc/resolv.conf /etc/hosts'
    assert_status 0
    assert_line_matches '^nameserver 10\.0\.2\.3$'
    assert_line_matches '^10\.0\.2\.100[[:space:]]+s1$'
    assert_line_matches '^10\.0\.2\.2[[:space:]]+host\.containers\.internal'
    run_cove run --rm --network slirp:cidr=10.0.5.0/24 --rootfs "$rootfs" \
        sh -c 'cat /etc/resolv.conf /etc/hosts'
    assert_status 0
    assert_line_matches '^nameserver 10\.0\.5\.3$'
    assert_no_line_matches 'host\.containers\.internal'
}
