#!/bin/bash
# Published ports against podman (rootless, runc, slirp4netns with its
# rootlessport forwarder), in the same run, on the same busybox rootfs:
#   1. throughput: a 1 GiB file from busybox httpd in the container,
#      published with -p 127.0.0.1:PORT:80, fetched by curl on the host
#      (3 downloads each, the best MB/s; target: at least podman's);
#   2. start: `run -d -p 127.0.0.1:PORT:80 ... httpd` until the port
#      answers (target: at most 0.1x podman);
#   3. request rate: N sequential small requests (python, one connection
#      each) through the forward.
# cove runs twice: --network slirp:port_handler=relay (the monitor's
# splice relay, the default) and port_handler=slirp (libslirp's hostfwd).
# A benchmark, not a test: it never fails CI (exit 0).
#
#   tests/bench/ports.sh   (as the user, or as root: then it re-runs itself
#                           as $COVE_TEST_USER)
# Environment: COVE, COVE_BENCH_RUNS (10 starts), COVE_BENCH_MB (1024).
set -u

# shellcheck source=../lib/bench-common.sh
source "${BENCH_LIB:-$(dirname "$(readlink -f "$0")")/../lib}/bench-common.sh"
bench_start rootfs "$@"

RUNS=${COVE_BENCH_RUNS:-10}
MB=${COVE_BENCH_MB:-1024}
REQUESTS=1000
R=$WORK/rootfs
bench_rootfs "$R"
mkdir -p "$R/www"
echo small >"$R/www/small.txt"
dd if=/dev/zero of="$R/www/big" bs=1M count="$MB" status=none

# Below the ephemeral range (32768-60999): a port a client of ours holds
# as its source would make the bind fail, or a connection to itself.
port() { echo $((20000 + RANDOM % 10000)); }

# One python3 process does the HTTP side, so that no fork/exec of a client
# (nor http.client's first-use set-up) is measured: `probe PORT start CMD...`
# runs CMD, then GETs /small.txt every 2 ms until it answers and prints the
# microseconds from before CMD;
# `probe PORT` alone makes REQUESTS requests, a new connection each, and
# prints the rate per second.
cat >"$WORK/probe.py" <<'PY'
import http.client, subprocess, sys, time
port = int(sys.argv[1])
def get():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        c.request("GET", "/small.txt")
        return c.getresponse().read() == b"small\n"
    except OSError:
        return False
    finally:
        c.close()
if len(sys.argv) > 3:
    # http.client's first request imports modules and reads the resolver's
    # files (~8 ms here), the next ones take 0.1 ms: that first time is
    # the probe's, not the start's, so it is spent before the clock runs
    # (nothing listens on the port yet: a refused connection).
    get()
    t0 = time.monotonic()
    if subprocess.call(sys.argv[3:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) != 0:
        sys.exit(1)
    while not get():
        if time.monotonic() - t0 > 20:
            sys.exit(1)
        time.sleep(0.002)
    print(int((time.monotonic() - t0) * 1e6))
else:
    n = int(sys.argv[2])
    t0 = time.monotonic()
    ok = sum(get() for _ in range(n))
    print(int(ok / (time.monotonic() - t0)))
PY

# The tools, each a command line and its --network: cove's two port
# handlers of a slirp network (its relay, the default, and libslirp's
# host forwarding), and podman with rootlessport.
NAMES=()
declare -A CMD NET PORTS TIMES START MBS RPS
add_tool() {
    NAMES+=("$1")
    NET[$1]=$2
    CMD[$1]=$3
}
add_tool relay "slirp:port_handler=relay" "$COVE"
add_tool slirp "slirp:port_handler=slirp" "$COVE"
if [ "$HAVE_PODMAN" = 1 ]; then
    # The command podman_in 0 runs, as a plain command line for probe.py.
    add_tool podman "slirp4netns:port_handler=rootlesskit" \
        "podman --root $WORK/podman-0/root --runroot $WORK/podman-0/runroot --storage-driver overlay"
fi

# serve NAME: start httpd of tool NAME published on ${PORTS[NAME]}; prints
# the microseconds until it answers.
serve() {
    # shellcheck disable=SC2086 # CMD holds a command line
    python3 "$WORK/probe.py" "${PORTS[$1]}" start ${CMD[$1]} run -d --name "web-$1" \
        --network "${NET[$1]}" -p "127.0.0.1:${PORTS[$1]}:80" --rootfs "$R" \
        httpd -f -p 80 -h /www </dev/null
}

# shellcheck disable=SC2086
rm_web() { ${CMD[$1]} rm -f "web-$1" >/dev/null 2>&1; }

# A failed step ends the benchmark with no container left behind.
give_up() {
    echo "bench: $*"
    for n in "${NAMES[@]}"; do rm_web "$n"; done
    exit 0
}

# The machine may be busy with other work: each round runs every tool
# once, so that a busy spell weighs on all of them alike.
echo "bench: published ports, as $(id -un), $RUNS starts, $MB MiB"
for ((i = 0; i < RUNS; i++)); do
    for n in "${NAMES[@]}"; do
        PORTS[$n]=$(port)
        us=$(serve "$n") || give_up "$n: run -d -p fails"
        TIMES[$n]="${TIMES[$n]:-} $us"
        rm_web "$n"
    done
done
for n in "${NAMES[@]}"; do
    # shellcheck disable=SC2086
    START[$n]=$(median_ms ${TIMES[$n]})
    # shellcheck disable=SC2086
    echo "$n: start with -p until it answers: $(list_ms ${TIMES[$n]}) ms; median ${START[$n]} ms"
    PORTS[$n]=$(port)
    serve "$n" >/dev/null || give_up "$n: run -d -p fails"
    MBS[$n]=0
done
for i in 1 2 3; do
    for n in "${NAMES[@]}"; do
        t0=$(now_us)
        curl -fsS -o /dev/null "http://127.0.0.1:${PORTS[$n]}/big" || { echo "bench: $n: download failed"; continue; }
        t1=$(now_us)
        mbs=$(awk -v mb="$MB" -v us=$((t1 - t0)) 'BEGIN { printf "%d", mb * 1000000 / us }')
        [ "$mbs" -gt "${MBS[$n]}" ] && MBS[$n]=$mbs
    done
done
for i in 1 2; do
    for n in "${NAMES[@]}"; do
        r=$(python3 "$WORK/probe.py" "${PORTS[$n]}" "$((REQUESTS / 2))")
        [ "$r" -gt "${RPS[$n]:-0}" ] && RPS[$n]=$r
    done
done
for n in "${NAMES[@]}"; do
    echo "$n: $MB MiB download through the published port: best ${MBS[$n]} MiB/s"
    echo "$n: $((REQUESTS / 2)) small requests, one connection each: best ${RPS[$n]} requests/s"
    rm_web "$n"
done
if [ "$HAVE_PODMAN" = 1 ]; then
    for h in relay slirp; do
        echo "-- cove port_handler=$h against podman (rootlessport):"
        ratio "start with a published port" "${START[$h]}" "${START[podman]}" 0.1
        awk -v c="${MBS[$h]}" -v p="${MBS[podman]}" 'BEGIN { printf "throughput: cove %d MiB/s, podman %d MiB/s, ratio %.2f (target >= 1: %s)\n", c, p, c / p, (c >= p ? "met" : "NOT met") }'
        awk -v c="${RPS[$h]}" -v p="${RPS[podman]}" 'BEGIN { printf "request rate: cove %d/s, podman %d/s, ratio %.2f\n", c, p, c / p }'
    done
else
    echo "bench: podman is not installed: no comparison"
fi
exit 0
