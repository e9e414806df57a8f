#!/bin/bash
# Published ports against podman (rootless, runc, slirp4netns with its
# rootlessport forwarder), in the same run, on the same busybox rootfs:
#   1. throughput: a 1 GiB file from busybox httpd in the container,
#      published with -p 127.0.0.1:PORT:80, fetched by curl on the host
#      (3 downloads each, the best MB/s; target: at least podman's);
#   2. start: `run -d -p 127.0.0.1:PORT:80 ... httpd` until the port
#      answers (target: at most 0.1x podman);
#   3. request rate: N sequential small requests (curl, one connection
#      each) through the forward.
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

port() { echo $((30000 + RANDOM % 10000)); }

# One python3 process does the HTTP side, so that no fork/exec of a client
# is measured: `probe PORT CMD...` runs CMD, then GETs /small.txt every
# 2 ms until it answers and prints the microseconds from before CMD;
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

# serve TOOL... : start httpd published on $PORT; prints the microseconds
# until it answers.
serve() {
    python3 "$WORK/probe.py" "$PORT" start "$@" run -d --name web "${NETOPT[@]}" \
        -p "127.0.0.1:$PORT:80" --rootfs "$R" httpd -f -p 80 -h /www </dev/null
}

# measure NAME TOOL...: start times, then throughput and request rate.
measure() {
    local name=$1 i us times=() best=0 t0 t1 mbs
    shift
    for ((i = 0; i < RUNS; i++)); do
        PORT=$(port)
        us=$(serve "$@") || { echo "bench: $name: run -d -p fails"; return 1; }
        times+=("$us")
        "$@" rm -f web >/dev/null 2>&1
    done
    START_MS=$(median_ms "${times[@]}")
    echo "$name start with -p until it answers: $(list_ms "${times[@]}") ms; median $START_MS ms"
    PORT=$(port)
    serve "$@" >/dev/null || return 1
    for i in 1 2 3; do
        t0=$(now_us)
        curl -fsS -o /dev/null "http://127.0.0.1:$PORT/big" || { echo "bench: $name: download failed"; break; }
        t1=$(now_us)
        mbs=$(awk -v mb="$MB" -v us=$((t1 - t0)) 'BEGIN { printf "%d", mb * 1000000 / us }')
        [ "$mbs" -gt "$best" ] && best=$mbs
    done
    MBS=$best
    echo "$name: $MB MiB download through the published port: best $MBS MiB/s"
    RPS=$(python3 "$WORK/probe.py" "$PORT" "$REQUESTS")
    echo "$name: $REQUESTS small requests, one connection each: $RPS requests/s"
    "$@" rm -f web >/dev/null 2>&1
}

echo "bench: published ports, as $(id -un), $RUNS starts, $MB MiB"
NETOPT=()
measure cove "$COVE" || exit 0
c_start=$START_MS c_mbs=$MBS c_rps=$RPS
if [ "$HAVE_PODMAN" = 1 ]; then
    NETOPT=(--network slirp4netns:port_handler=rootlesskit)
    # The command podman_in 0 runs, as a plain command line for probe.py.
    if measure podman podman --root "$WORK/podman-0/root" \
        --runroot "$WORK/podman-0/runroot" --storage-driver overlay; then
        ratio "start with a published port" "$c_start" "$START_MS" 0.1
        awk -v c="$c_mbs" -v p="$MBS" 'BEGIN { printf "throughput: cove %d MiB/s, podman %d MiB/s, ratio %.2f (target >= 1: %s)\n", c, p, c / p, (c >= p ? "met" : "NOT met") }'
        awk -v c="$c_rps" -v p="$RPS" 'BEGIN { printf "request rate: cove %d/s, podman %d/s, ratio %.2f\n", c, p, c / p }'
    fi
else
    echo "bench: podman is not installed: no comparison"
fi
exit 0
