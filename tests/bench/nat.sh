#!/bin/bash
# Outbound NAT against podman (rootless, runc, slirp4netns), in the same
# run, on the same busybox rootfs: a container downloads a file from an
# HTTP server on the host's own (non-loopback) address through the
# default network, cove's libslirp in its monitor against podman's
# slirp4netns process.  The time of `run --rm ... true` is subtracted, so
# that the figure is the transfer alone.  Best of 3, in MiB/s.
# A benchmark, not a test: it never fails CI (exit 0).
#
#   tests/bench/nat.sh   (as the user, or as root: then it re-runs itself
#                         as $COVE_TEST_USER)
# Environment: COVE, COVE_BENCH_MB (256).
set -u

# shellcheck source=../lib/bench-common.sh
source "${BENCH_LIB:-$(dirname "$(readlink -f "$0")")/../lib}/bench-common.sh"
bench_start rootfs "$@"

MB=${COVE_BENCH_MB:-256}
R=$WORK/rootfs
bench_rootfs "$R"
ADDR=$(ip -4 -o addr show scope global 2>/dev/null |
    awk '{ sub("/.*", "", $4); print $4; exit }')
if [ -z "$ADDR" ]; then
    echo "bench: the host has no non-loopback IPv4 address: nothing to measure"
    exit 0
fi
mkdir -p "$WORK/www"
dd if=/dev/zero of="$WORK/www/big" bs=1M count="$MB" status=none
PORT=$((30000 + RANDOM % 10000))
busybox httpd -f -p "$ADDR:$PORT" -h "$WORK/www" &
HTTPD=$!
trap 'kill $HTTPD 2>/dev/null; bench_cleanup' EXIT
sleep 0.2

# fetch TOOL...: seconds*1e6 of one `run --rm` that downloads the file.
GET="printf 'GET /big HTTP/1.0\\r\\n\\r\\n' | nc $ADDR $PORT | wc -c"
fetch() {
    local t0 t1 n
    t0=$(now_us)
    n=$("$@" run --rm "${NETOPT[@]}" --rootfs "$R" sh -c "$GET" 2>/dev/null) || return 1
    t1=$(now_us)
    [ "$n" -gt $((MB * 1048576)) ] || return 1
    echo $((t1 - t0))
}

# measure NAME TOOL...: MBS, the best MiB/s of 3 downloads, start excluded.
measure() {
    local name=$1 i t0 t1 us base=() best=0 mbs
    shift
    for i in 1 2 3 4 5; do
        t0=$(now_us)
        "$@" run --rm "${NETOPT[@]}" --rootfs "$R" true >/dev/null 2>&1 ||
            { echo "bench: $name: run fails"; return 1; }
        t1=$(now_us)
        base+=($((t1 - t0)))
    done
    local start_ms
    start_ms=$(median_ms "${base[@]}")
    for i in 1 2 3; do
        us=$(fetch "$@") || { echo "bench: $name: the download failed"; return 1; }
        mbs=$(awk -v mb="$MB" -v us="$us" -v b="$start_ms" \
            'BEGIN { t = us / 1000 - b; if (t < 1) t = 1; printf "%d", mb * 1000 / t }')
        [ "$mbs" -gt "$best" ] && best=$mbs
    done
    MBS=$best
    echo "$name: $MB MiB from the host through the NAT: best $MBS MiB/s (run --rm true: $start_ms ms, subtracted)"
}

echo "bench: outbound NAT, as $(id -un), $MB MiB from $ADDR"
NETOPT=(--network slirp)
measure cove "$COVE" || exit 0
c_mbs=$MBS
if [ "$HAVE_PODMAN" = 1 ]; then
    NETOPT=(--network slirp4netns)
    if measure podman podman_in 0; then
        awk -v c="$c_mbs" -v p="$MBS" 'BEGIN { printf "NAT throughput: cove %d MiB/s, podman %d MiB/s, ratio %.2f\n", c, p, c / p }'
    fi
else
    echo "bench: podman is not installed: no comparison"
fi
exit 0
