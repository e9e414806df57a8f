#!/bin/bash
# cove build against podman build (rootless, runc), in the same run, on the
# same Containerfile (FROM scratch, the host's busybox-static copied in,
# two RUNs, ENV, CMD: no registry, no network):
#   1. a fully cached rebuild (target: under 100 ms and at most 0.1x
#      podman);
#   2. the five-step build with --no-cache (target: at most 0.5x podman).
# Medians of COVE_BENCH_RUNS (default 10) builds each.
# A benchmark, not a test: it never fails CI (exit 0).
#
#   tests/bench/build.sh   (as the user, or as root: then it re-runs itself
#                           as $COVE_TEST_USER)
set -u

# shellcheck source=../lib/bench-common.sh
source "${BENCH_LIB:-$(dirname "$(readlink -f "$0")")/../lib}/bench-common.sh"
bench_start rootfs "$@"

RUNS=${COVE_BENCH_RUNS:-10}
CTX=$WORK/ctx
mkdir -p "$CTX"
busybox=/bin/busybox
[ -x "$busybox" ] || busybox=/usr/bin/busybox
cp "$busybox" "$CTX/busybox"
cat >"$CTX/Containerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox mkdir -p /app && /bin/busybox echo one > /app/one"]
ENV STAGE=bench
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox echo $STAGE > /app/two"]
CMD ["/bin/busybox", "cat", "/app/one", "/app/two"]
EOF

# times TOOL ARGS...: the microseconds of RUNS builds, one a line.
times() {
    local i t0 t1
    for ((i = 0; i < RUNS; i++)); do
        t0=$(now_us)
        "$@" >/dev/null 2>&1 || { echo "bench: $* failed" >&2; return 1; }
        t1=$(now_us)
        echo $((t1 - t0))
    done
}

# measure NAME TOOL...: CACHED_MS and FULL_MS.
measure() {
    local name=$1 out
    shift
    "$@" build --network none -t bench "$CTX" >/dev/null 2>&1 ||
        { echo "bench: $name: the first build fails"; return 1; }
    out=$(times "$@" build --network none -t bench "$CTX") || return 1
    # shellcheck disable=SC2086
    CACHED_MS=$(median_ms $out)
    out=$(times "$@" build --network none --no-cache -t bench "$CTX") || return 1
    # shellcheck disable=SC2086
    FULL_MS=$(median_ms $out)
    echo "$name: cached rebuild $CACHED_MS ms, five steps with --no-cache $FULL_MS ms (medians of $RUNS)"
}

echo "bench: cove build against podman build, as $(id -un), $RUNS builds each"
measure cove "$COVE" || exit 0
c_cached=$CACHED_MS c_full=$FULL_MS
awk -v c="$c_cached" 'BEGIN { printf "cached rebuild under 100 ms: %s\n", (c < 100 ? "met" : "NOT met") }'
if [ "$HAVE_PODMAN" = 1 ]; then
    if measure podman podman_in 0; then
        ratio "fully cached rebuild" "$c_cached" "$CACHED_MS" 0.1
        ratio "five-step build, --no-cache" "$c_full" "$FULL_MS" 0.5
    fi
else
    echo "bench: podman is not installed: no comparison"
fi
exit 0
