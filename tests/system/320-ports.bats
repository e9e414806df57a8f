#!/usr/bin/env bats
# Published TCP ports (-p, -P): the container's monitor listens on the
# host and relays each connection to 127.0.0.1:PORT inside the container's
# network namespace, whatever its --network mode.

load helpers

# A random test port, away from the usual ones.
random_port() {
    echo $((20000 + RANDOM % 10000))
}

# A rootfs serving "hello-ports" with busybox httpd on port 80.
www_rootfs() {
    local r
    r=$(copy_rootfs)
    mkdir -p "$r/www"
    echo hello-ports >"$r/www/index.html"
    echo "$r"
}

listening() {
    ss -ltnH "sport = :$1" | grep -q .
}

fetch() {
    curl -fsS --max-time 5 "http://127.0.0.1:$1/index.html"
}

# served_at PORTSPEC: container `web` publishes PORTSPEC (as `cove port web
# PORTSPEC` names it) on a port the kernel chose, which serves the page;
# then web is removed.
served_at() {
    run_cove port web "$1"
    assert_status 0
    port=${output##*:}
    [ "$port" -gt 0 ]
    wait_for 10 fetch "$port"
    run fetch "$port"
    assert_output hello-ports
    run_cove rm -f web
}

@test "-p 127.0.0.1:PORT:80 reaches busybox httpd (network none and slirp)" {
    rootfs=$(www_rootfs)
    for net in none slirp; do
        port=$(random_port)
        run_cove run -d --name web --network "$net" -p "127.0.0.1:$port:80" \
            --rootfs "$rootfs" httpd -f -p 80 -h /www
        assert_status 0
        wait_for 10 fetch "$port"
        run fetch "$port"
        assert_output hello-ports
        run_cove port web
        assert_output "80/tcp -> 127.0.0.1:$port"
        run_cove rm -f web
        assert_status 0
        run listening "$port"
        assert_status 1
    done
}

@test "-p 0:80 and -p 80 pick a free port that cove port reports" {
    rootfs=$(www_rootfs)
    for spec in 0:80 80; do
        run_cove run -d --name web -p "$spec" --rootfs "$rootfs" httpd -f -p 80 -h /www
        assert_status 0
        served_at 80
    done
}

@test "a host port in use fails the run, nothing left; the port is freed on stop" {
    rootfs=$(www_rootfs)
    port=$(random_port)
    run_cove run -d --name web -p "$port:80" --rootfs "$rootfs" httpd -f -p 80 -h /www
    assert_status 0
    wait_for 10 fetch "$port"
    run_cove run -d --rm --name web2 -p "$port:80" --rootfs "$rootfs" httpd -f -p 80 -h /www
    assert_cove_error
    assert_output_contains "cannot listen on the TCP port $port: address already in use"
    run_cove ps -a --format '{{.Names}}'
    assert_output web
    # Without --rm the failed container stays, created.
    run_cove run -d --name web3 -p "$port:80" --rootfs "$rootfs" httpd -f -p 80 -h /www
    assert_cove_error
    run_cove ps -a --filter name=web3 --format '{{.Status}}'
    assert_output Created
    run_cove rm web3
    # stop: the port is free within a second of the exit.
    run_cove stop -t 0 web
    assert_status 0
    run listening "$port"
    assert_status 1
    # And usable again at once.
    run_cove start web
    assert_status 0
    wait_for 10 fetch "$port"
    run_cove rm -f web
    run listening "$port"
    assert_status 1
    assert_no_containers
}

@test "bad -p specs and udp are refused before anything is made" {
    for spec in 80:abc 70000 1:2:3:4 8000-8002:80-81 80/udp 80/xyz; do
        run_cove run --rm -p "$spec" --rootfs "$ROOTFS" true
        assert_cove_error
    done
    run_cove run --rm -p 80/udp --rootfs "$ROOTFS" true
    assert_output_contains "not supported yet"
    assert_no_containers
}

@test "a port range and a connection refused inside" {
    rootfs=$(www_rootfs)
    port=$(random_port)
    run_cove run -d --name web -p "127.0.0.1:$port-$((port + 1)):80-81" \
        --rootfs "$rootfs" httpd -f -p 80 -h /www
    assert_status 0
    run_cove port web
    assert_output "80/tcp -> 127.0.0.1:$port
81/tcp -> 127.0.0.1:$((port + 1))"
    wait_for 10 fetch "$port"
    # Nothing listens on 81 inside: the client sees the connection close.
    run fetch $((port + 1))
    assert_status_not 0
    # The relay still serves.
    run fetch "$port"
    assert_output hello-ports
    run_cove rm -f web
}

@test "the host port stays open across a --restart" {
    rootfs=$(www_rootfs)
    port=$(random_port)
    run_cove run -d --name web --restart always -p "127.0.0.1:$port:80" \
        --rootfs "$rootfs" sh -c 'httpd -p 80 -h /www; sleep 1'
    assert_status 0
    wait_for 10 fetch "$port"
    restarted() {
        [ "$("$COVE" inspect --format '{{.RestartCount}}' web)" -ge 1 ]
    }
    wait_for 10 restarted
    run listening "$port"
    assert_status 0
    wait_for 10 fetch "$port"
    run_cove rm -f web
    run listening "$port"
    assert_status 1
}

@test "-P publishes the image's EXPOSEd ports to free host ports" {
    rootfs=$(www_rootfs)
    tar -C "$rootfs" -cf "$TEST_TMP/www.tar" .
    run_cove import --change 'EXPOSE 80/tcp' "$TEST_TMP/www.tar" localhost/www:latest
    assert_status 0
    run_cove run -d --name web -P localhost/www:latest httpd -f -p 80 -h /www
    assert_status 0
    served_at 80/tcp
}

@test "a half-close reaches the container; its answer comes back after it" {
    command -v python3 >/dev/null || skip "python3 is not installed"
    port=$(random_port)
    run_cove run -d --name up -p "127.0.0.1:$port:80" --rootfs "$ROOTFS" \
        nc -ll -p 80 -e tr a-z A-Z
    assert_status 0
    # tr answers only at the end of its input: the FIN must go through.
    half_close() {
        python3 - "$port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"hello relay")
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print(data.decode())
sys.exit(0 if data else 1)
PY
    }
    wait_for 10 half_close
    run half_close
    assert_output "HELLO RELAY"
    run_cove rm -f up
}

@test "--network host discards -p with a warning" {
    run_cove run --rm --network host -p 127.0.0.1:20000:80 --rootfs "$ROOTFS" true
    assert_status 0
    assert_output_contains "Port mappings have been discarded"
}

@test "a privileged host port fails with the reason" {
    start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
    [ "$start" -gt 1 ] || skip "the host lets users bind every port"
    run_cove run -d --rm -p "127.0.0.1:$((start - 1)):80" --rootfs "$ROOTFS" sleep 10
    assert_cove_error
    assert_output_contains "ip_unprivileged_port_start"
    assert_no_containers
}

@test "ps and inspect show the published ports as podman does" {
    rootfs=$(www_rootfs)
    port=$(random_port)
    run_cove run -d --name shown -p "127.0.0.1:$port:80" --rootfs "$rootfs" \
        httpd -f -p 80 -h /www
    assert_status 0
    run_cove ps --format '{{.Ports}}'
    assert_output "127.0.0.1:$port->80/tcp"
    run_cove inspect --format '{{json .NetworkSettings.Ports}}' shown
    assert_output "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"$port\"}]}"
    run_cove inspect --format '{{json .HostConfig.PortBindings}}' shown
    assert_output "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"$port\"}]}"
    run_cove rm -f shown
}
