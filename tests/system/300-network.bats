#!/usr/bin/env bats
# --network slirp: user-mode NAT through libslirp in the container's
# monitor (issue 5): tap0 in the container's own network namespace, the
# host reachable at its own addresses, its loopback only with
# allow_host_loopback=true (at 10.0.2.2), and nothing left behind.

load helpers

# host_addr: a non-loopback IPv4 address of the host, or nothing.
host_addr() {
    ip -4 -o addr show scope global 2>/dev/null |
        awk '{ sub("/.*", "", $4); print $4; exit }'
}

# free_port: a TCP port nobody listens on now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'
}

# serve ADDR PORT: a python HTTP server on ADDR:PORT serving $TEST_TMP/www
# (index: "hello-from-host"), until the test ends; waits until it listens.
serve() {
    mkdir -p "$TEST_TMP/www"
    echo hello-from-host >"$TEST_TMP/www/index.html"
    python3 -m http.server --bind "$1" --directory "$TEST_TMP/www" "$2" \
        >"$TEST_TMP/http.log" 2>&1 3>&- &
    echo $! >"$TEST_TMP/http.pid"
    wait_for 10 python3 -c "import socket; socket.create_connection(('$1', $2), 1)"
}

# get ADDR PORT: a shell command for the container that fetches / from
# ADDR:PORT and prints the body's last line.  (busybox-static's wget
# crashes in its static resolver; nc does not resolve.)
get() {
    echo "set -o pipefail; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 $1 $2 | tail -n 1"
}

# The debian12 tests need the test registry's registries.conf.
setup() { image_setup; }

teardown() {
    if [ -f "${TEST_TMP:-}/http.pid" ]; then
        kill "$(cat "$TEST_TMP/http.pid")" 2>/dev/null || true
    fi
    cove_teardown
}

@test "slirp: tap0 with 10.0.2.100/24, MTU 65520, a default route via 10.0.2.2" {
    run_cove run --rm --network slirp --rootfs "$ROOTFS" \
        sh -c 'ip -4 addr show tap0; ip route; cat /sys/class/net/tap0/mtu'
    assert_status 0
    assert_output_contains "inet 10.0.2.100/24"
    assert_output_contains "default via 10.0.2.2 dev tap0"
    assert_line_matches '^65520$'
    # IPv6 on by default: fd00::100/64.
    run_cove run --rm --network slirp --rootfs "$ROOTFS" ip -6 addr show tap0
    assert_status 0
    assert_output_contains "fd00::100/64"
}

@test "slirp options: mtu, cidr, enable_ipv6=false" {
    run_cove run --rm --network slirp:mtu=1500,cidr=10.0.3.0/24,enable_ipv6=false \
        --rootfs "$ROOTFS" sh -c 'ip addr show tap0; ip route; cat /sys/class/net/tap0/mtu'
    assert_status 0
    assert_output_contains "inet 10.0.3.100/24"
    assert_output_contains "default via 10.0.3.2 dev tap0"
    assert_output_not_contains "fd00::"
    assert_line_matches '^1500$'
}

@test "slirp: bad options fail before the container starts" {
    run_cove run --rm --network slirp:cidr=10.0.3.0/30 --rootfs "$ROOTFS" true
    assert_status 125
    assert_output_contains "cidr"
    run_cove run --rm --network slirp:mtu=12 --rootfs "$ROOTFS" true
    assert_status 125
    assert_output_contains "mtu"
    run_cove run --rm --network slirp:outbound_addr=nope --rootfs "$ROOTFS" true
    assert_status 125
    assert_output_contains "outbound_addr"
}

@test "slirp: the container reaches a TCP server on the host's address" {
    addr=$(host_addr)
    [ -n "$addr" ] || skip "the host has no non-loopback IPv4 address"
    port=$(free_port)
    serve "$addr" "$port"
    run_cove run --rm --network slirp --rootfs "$ROOTFS" \
        sh -c "$(get $addr $port)"
    assert_status 0
    assert_output hello-from-host
}

@test "slirp: the host's loopback only with allow_host_loopback=true, at 10.0.2.2" {
    port=$(free_port)
    serve 127.0.0.1 "$port"
    run_cove run --rm --network slirp --rootfs "$ROOTFS" \
        sh -c "$(get 10.0.2.2 $port)"
    assert_status_not 0
    run_cove run --rm --network slirp:allow_host_loopback=true --rootfs "$ROOTFS" \
        sh -c "$(get 10.0.2.2 $port)"
    assert_status 0
    assert_output hello-from-host
    # The container's own 127.0.0.1 is its own loopback, never the host's.
    run_cove run --rm --network slirp:allow_host_loopback=true --rootfs "$ROOTFS" \
        sh -c "$(get 127.0.0.1 $port)"
    assert_status_not 0
}

@test "slirp: host.containers.internal names the host with allow_host_loopback=true" {
    require_debian12
    cove_pull_ok "$REG/debian12:latest"
    port=$(free_port)
    serve 127.0.0.1 "$port"
    # debian's glibc reads /etc/hosts; bash's /dev/tcp resolves through it.
    fetch='getent hosts host.containers.internal;
        exec 3<>/dev/tcp/host.containers.internal/'"$port"' || exit 3;
        printf "GET / HTTP/1.0\r\n\r\n" >&3; tail -n 1 <&3'
    run_cove run --rm --network slirp:allow_host_loopback=true "$REG/debian12" bash -c "$fetch"
    assert_status 0
    assert_line_matches '^10\.0\.2\.2[[:space:]]+host\.containers\.internal'
    assert_line_matches '^hello-from-host$'
    # Without it the name is not there, and the host's loopback is closed.
    run_cove run --rm "$REG/debian12" bash -c "$fetch"
    assert_status_not 0
    assert_output_not_contains hello-from-host
}

@test "slirp: IPv6: the host's ::1 at fd00::2 with allow_host_loopback=true" {
    python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
        2>/dev/null || skip "the host has no IPv6 loopback"
    port=$(free_port)
    serve ::1 "$port"
    run_cove run --rm --network slirp:allow_host_loopback=true --rootfs "$ROOTFS" \
        sh -c "ip -6 route; $(get fd00::2 "$port")"
    assert_status 0
    assert_output_contains "default via fd00::2 dev tap0"
    assert_line_matches '^hello-from-host$'
    run_cove run --rm --network slirp --rootfs "$ROOTFS" sh -c "$(get fd00::2 "$port")"
    assert_status_not 0
}

@test "slirp: DNS at 10.0.2.3 forwards to the host's resolver" {
    # A name the host resolves through its resolv.conf (not /etc/hosts,
    # which slirp does not read).
    name=deb.debian.org
    want=$(getent ahostsv4 "$name" 2>/dev/null | awk '{ print $1; exit }')
    [ -n "$want" ] || skip "the host cannot resolve $name"
    grep -q "[[:space:]]$name" /etc/hosts && skip "$name is in the host's /etc/hosts"
    run_cove run --rm --network slirp --rootfs "$ROOTFS" \
        nslookup -type=a "$name" 10.0.2.3
    assert_status 0
    assert_output_contains "Address: $want"
}

@test "slirp: a detached container keeps its network; the monitor releases it at exit" {
    addr=$(host_addr)
    [ -n "$addr" ] || skip "the host has no non-loopback IPv4 address"
    port=$(free_port)
    serve "$addr" "$port"
    run_cove run -d --name net1 --network slirp --rootfs "$ROOTFS" \
        sh -c 'while [ ! -e /tmp/go ]; do sleep 0.1; done; '"$(get "$addr" "$port")"
    assert_status 0
    mon=$("$COVE" inspect --format '{{.State.ConmonPid}}' net1 2>/dev/null || true)
    run_cove exec net1 touch /tmp/go
    assert_status 0
    run_cove wait net1
    assert_status 0
    assert_output 0
    run_cove logs net1
    assert_output hello-from-host
    # The monitor is gone with the container: no socket of slirp left.
    if [[ "$mon" =~ ^[0-9]+$ ]] && [ "$mon" -gt 0 ]; then
        wait_for 5 sh -c "! kill -0 $mon 2>/dev/null"
    fi
    run_cove rm net1
    assert_status 0
}

@test "slirp: a restarted container gets a working network again" {
    addr=$(host_addr)
    [ -n "$addr" ] || skip "the host has no non-loopback IPv4 address"
    port=$(free_port)
    serve "$addr" "$port"
    run_cove run -d --name net2 --restart on-failure:2 --network slirp --rootfs "$ROOTFS" \
        sh -c "$(get "$addr" "$port"); exit 3"
    assert_status 0
    # Each run has a slirp of its own: three fetches (one, two restarts).
    wait_for 20 sh -c '[ "$("$COVE" logs net2 | grep -c hello-from-host)" = 3 ]'
    run_cove logs net2
    assert_output "$(printf 'hello-from-host\nhello-from-host\nhello-from-host')"
}

@test "the default network is slirp (also private); none is loopback only" {
    run_cove run --rm --rootfs "$ROOTFS" sh -c 'ls /sys/class/net'
    assert_status 0
    assert_output "$(printf 'lo\ntap0')"
    run_cove run --rm --network private --rootfs "$ROOTFS" sh -c 'ls /sys/class/net'
    assert_status 0
    assert_output "$(printf 'lo\ntap0')"
    run_cove run --rm --network none --rootfs "$ROOTFS" sh -c 'ls /sys/class/net'
    assert_status 0
    assert_output lo
    run_cove create --name dflt --rootfs "$ROOTFS" true
    assert_status 0
    run_cove inspect --format '{{.HostConfig.NetworkMode}}' dflt
    assert_output slirp4netns
}

@test "outbound: apt-get update in debian12 through the NAT" {
    require_debian12
    url=http://deb.debian.org/debian/dists/bookworm/InRelease
    curl -sf --max-time 20 -o /dev/null "$url" ||
        skip "this machine cannot reach its Debian mirror ($url)"
    cove_pull_ok "$REG/debian12:latest"
    run_cove run --rm "$REG/debian12" apt-get update
    assert_status 0
    assert_output_contains "bookworm InRelease"
    assert_output_contains "Reading package lists"
    assert_output_not_contains "Err:"
}
