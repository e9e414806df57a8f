#!/usr/bin/env bats
# Published ports (-p, -P), TCP and UDP: the container's monitor listens on
# the host and relays each connection (each UDP source) to 127.0.0.1:PORT
# inside the container's network namespace, whatever its --network mode;
# with --network slirp:port_handler=slirp libslirp forwards them instead.

load helpers

# busybox's nc has no UDP: a tiny static UDP echo server, built once per
# file into the cached rootfs.  `udp-echo PORT` answers each datagram D
# from address A with "A:D".
UDP_ECHO_SRC='
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

int
main (int argc, char **argv)
{
  struct sockaddr_in sa = { .sin_family = AF_INET };
  int fd = socket (AF_INET, SOCK_DGRAM, 0);
  sa.sin_port = htons ((unsigned short) strtol (argv[argc - 1], NULL, 10));
  if (fd < 0 || bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    return perror ("bind"), 1;
  for (;;)
    {
      char in[2048], out[2100];
      struct sockaddr_in from;
      socklen_t fl = sizeof from;
      ssize_t n = recvfrom (fd, in, sizeof in, 0, (struct sockaddr *) &from, &fl);
      if (n < 0)
        continue;
      int m = snprintf (out, sizeof out, "%s:%.*s", inet_ntoa (from.sin_addr),
                        (int) n, in);
      sendto (fd, out, (size_t) m, 0, (struct sockaddr *) &from, fl);
    }
}
'

setup_file() {
    cove_setup_file
    if command -v gcc >/dev/null &&
        printf '%s' "$UDP_ECHO_SRC" >"$BATS_FILE_TMPDIR/udp-echo.c" &&
        gcc -static -O2 -o "$ROOTFS/bin/udp-echo" \
            "$BATS_FILE_TMPDIR/udp-echo.c" 2>"$BATS_FILE_TMPDIR/gcc.log"; then
        :
    else
        rm -f "$ROOTFS/bin/udp-echo"
    fi
}

need_udp() {
    command -v python3 >/dev/null || skip "python3 is not installed"
    [ -x "$ROOTFS/bin/udp-echo" ] ||
        skip "cannot build a static C program (gcc -static): $(tail -n 1 "$BATS_FILE_TMPDIR/gcc.log" 2>/dev/null || echo 'gcc not installed')"
}

# udp_ask PORT MSG...: from one socket, send each MSG to 127.0.0.1:PORT and
# print each answer on a line (fails after 1 s without one).
udp_ask() {
    python3 - "$@" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
for m in sys.argv[2:]:
    s.sendto(m.encode(), ("127.0.0.1", int(sys.argv[1])))
    print(s.recv(4096).decode())
PY
}

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

@test "bad -p specs and sctp are refused before anything is made" {
    for spec in 80:abc 70000 1:2:3:4 8000-8002:80-81 80/sctp 80/xyz 80/tcp,xyz 80/; do
        run_cove run --rm -p "$spec" --rootfs "$ROOTFS" true
        assert_cove_error
    done
    run_cove run --rm -p 80/sctp --rootfs "$ROOTFS" true
    assert_output_contains "not supported"
    run_cove run --rm --network slirp:port_handler=nope -p 80 --rootfs "$ROOTFS" true
    assert_cove_error
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

# ------------------------------------------------------------------- udp

@test "-p PORT/udp: datagrams go both ways, one flow per source (network none and slirp)" {
    need_udp
    for net in none slirp; do
        port=$(random_port)
        run_cove run -d --name echo --network "$net" -p "127.0.0.1:$port:5353/udp" \
            --rootfs "$ROOTFS" udp-echo 5353
        assert_status 0
        run_cove port echo
        assert_output "5353/udp -> 127.0.0.1:$port"
        run_cove port echo 5353/udp
        assert_output "127.0.0.1:$port"
        wait_for 10 udp_ask "$port" ping
        # The relay's socket inside sends from 127.0.0.1; each client has
        # its own flow, and gets its own answers.
        run udp_ask "$port" one two
        assert_status 0
        assert_output "127.0.0.1:one
127.0.0.1:two"
        run udp_ask "$port" three
        assert_output "127.0.0.1:three"
        run_cove rm -f echo
        assert_status 0
        run ss -lunH "sport = :$port"
        assert_output_empty
    done
}

@test "-p PORT/udp on every address: the reply comes from the address the client sent to" {
    need_udp
    port=$(random_port)
    run_cove run -d --name echo --network none -p "$port:5353/udp" \
        --rootfs "$ROOTFS" udp-echo 5353
    assert_status 0
    wait_for 10 udp_ask "$port" ping
    # A connected client takes only datagrams from the address it sent
    # to: a reply from 127.0.0.1 to a client of 127.0.0.2 would be lost.
    run python3 - "$port" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect(("127.0.0.2", int(sys.argv[1])))
s.send(b"other-address")
print(s.recv(4096).decode())
PY
    assert_status 0
    assert_output "127.0.0.1:other-address"
    run_cove rm -f echo
    assert_status 0
}

@test "a udp port in use fails the run cleanly; tcp and udp of one port side by side" {
    need_udp
    port=$(random_port)
    python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
time.sleep(30)' "$port" &
    holder=$!
    taken() { ss -lunH "sport = :$port" | grep -q .; }
    wait_for 10 taken
    run_cove run -d --rm --name echo -p "127.0.0.1:$port:5353/udp" --rootfs "$ROOTFS" udp-echo 5353
    assert_cove_error
    assert_output_contains "cannot listen on the UDP port $port: address already in use"
    assert_no_containers
    kill "$holder"
    wait "$holder" 2>/dev/null || true
    # One spec, both protocols; the TCP port is the same number.
    rootfs=$(www_rootfs)
    cp "$ROOTFS/bin/udp-echo" "$rootfs/bin/"
    run_cove run -d --name both -p "127.0.0.1:$port:80/tcp,udp" --rootfs "$rootfs" \
        sh -c 'udp-echo 80 & httpd -f -p 80 -h /www'
    assert_status 0
    run_cove port both
    assert_output "80/tcp -> 127.0.0.1:$port
80/udp -> 127.0.0.1:$port"
    run_cove ps --format '{{.Ports}}'
    assert_output "127.0.0.1:$port->80/tcp, 127.0.0.1:$port->80/udp"
    run_cove inspect --format '{{json .NetworkSettings.Ports}}' both
    assert_output "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"$port\"}],\"80/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"$port\"}]}"
    wait_for 10 fetch "$port"
    wait_for 10 udp_ask "$port" x
    run udp_ask "$port" hello
    assert_output "127.0.0.1:hello"
    run_cove rm -f both
}

@test "-P publishes EXPOSEd udp ports too" {
    need_udp
    tar -C "$ROOTFS" -cf "$TEST_TMP/echo.tar" .
    run_cove import --change 'EXPOSE 5353/udp' "$TEST_TMP/echo.tar" localhost/echo:latest
    assert_status 0
    run_cove run -d --name echo -P localhost/echo:latest udp-echo 5353
    assert_status 0
    run_cove port echo 5353/udp
    assert_status 0
    port=${output##*:}
    [ "$port" -gt 0 ]
    wait_for 10 udp_ask "$port" ping
    run udp_ask "$port" hi
    assert_output "127.0.0.1:hi"
    # A bare port is a tcp one (podman's way).
    run_cove port echo 5353
    assert_output_empty
    run_cove port echo 5353/tcp
    assert_output_empty
    run_cove rm -f echo
}

# ------------------------------------------------------- port_handler

# A CGI that answers with the client's address as httpd saw it (httpd
# listens on IPv6 too: "[::ffff:127.0.0.1]" becomes 127.0.0.1).
cgi_rootfs() {
    local r
    r=$(www_rootfs)
    mkdir -p "$r/www/cgi-bin"
    cat >"$r/www/cgi-bin/addr" <<'SH'
#!/bin/sh
a=${REMOTE_ADDR#[}
a=${a%]}
printf 'Content-Type: text/plain\r\n\r\n%s\n' "${a#::ffff:}"
SH
    chmod 755 "$r/www/cgi-bin/addr"
    cp "$ROOTFS/bin/udp-echo" "$r/bin/" 2>/dev/null || true
    echo "$r"
}

remote_addr() {
    curl -fsS --max-time 5 "http://127.0.0.1:$1/cgi-bin/addr"
}

@test "port_handler=slirp forwards with libslirp: the container sees the gateway" {
    need_udp
    rootfs=$(cgi_rootfs)
    # libslirp (4.7) sends no UDP answer to a client on the host's
    # loopback unless the container may reach the host's loopback.
    for handler in relay slirp:allow_host_loopback=true; do
        port=$(random_port)
        run_cove run -d --name web --network "slirp:port_handler=${handler/:/,}" \
            -p "127.0.0.1:$port:80" -p "127.0.0.1:$port:5353/udp" --rootfs "$rootfs" \
            sh -c 'udp-echo 5353 & httpd -f -p 80 -h /www'
        assert_status 0
        wait_for 10 remote_addr "$port"
        wait_for 10 udp_ask "$port" x
        if [ "$handler" = relay ]; then
            expect=127.0.0.1
        else
            expect=10.0.2.2
        fi
        run remote_addr "$port"
        assert_output "$expect"
        run udp_ask "$port" hi
        assert_output "$expect:hi"
        run_cove rm -f web
        assert_status 0
        run listening "$port"
        assert_status 1
        run ss -lunH "sport = :$port"
        assert_output_empty
    done
}

@test "port_handler=slirp: a port in use fails the start; a kernel-chosen port; a restart" {
    rootfs=$(www_rootfs)
    run_cove run -d --name web --network slirp:port_handler=slirp -p 127.0.0.1::80 \
        --restart always --rootfs "$rootfs" sh -c 'httpd -p 80 -h /www; sleep 1'
    assert_status 0
    run_cove port web 80
    port=${output##*:}
    [ "$port" -gt 0 ]
    wait_for 10 fetch "$port"
    run_cove run -d --rm --name web2 --network slirp:port_handler=slirp \
        -p "127.0.0.1:$port:80" --rootfs "$rootfs" httpd -f -p 80 -h /www
    assert_cove_error
    assert_output_contains "cannot listen on the TCP port $port: address already in use"
    run_cove ps -a --format '{{.Names}}'
    assert_output web
    restarted() {
        [ "$("$COVE" inspect --format '{{.RestartCount}}' web)" -ge 1 ]
    }
    wait_for 10 restarted
    wait_for 10 fetch "$port"
    run_cove rm -f web
    run listening "$port"
    assert_status 1
}

@test "port_handler=slirp keeps a client's own address (but loopback's)" {
    host_ip=$(ip -4 -o addr show scope global 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
    [ -n "$host_ip" ] || skip "the host has no global IPv4 address"
    rootfs=$(cgi_rootfs)
    port=$(random_port)
    run_cove run -d --name web --network slirp:port_handler=slirp -p "$port:80" \
        --rootfs "$rootfs" httpd -f -p 80 -h /www
    assert_status 0
    wait_for 10 remote_addr "$port"
    run curl -fsS --max-time 5 "http://$host_ip:$port/cgi-bin/addr"
    assert_output "$host_ip"
    run remote_addr "$port"
    assert_output 10.0.2.2
    run_cove rm -f web
}
