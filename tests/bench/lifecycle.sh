#!/bin/bash
# The container life cycle against podman (rootless, runc, --network
# none), in the same run, on the busybox test image:
#   1. `run -d IMAGE sleep 1000`, then `stop -t 0`, then `rm`, for N
#      containers (default 100), one after the other: total seconds each,
#      and the ratio cove/podman;
#   2. the monitor's private memory per idle container: Private_Dirty of
#      /proc/PID/smaps_rollup of each cove-monitor with N_IDLE (10) idle
#      containers, against podman's conmon (target: under 1 MiB).
# A benchmark, not a test: it never fails CI (exit 0).
#
#   tests/bench/lifecycle.sh   (as root: starts the registries when
#                               COVE_TEST_REGISTRY is unset, then runs as
#                               $COVE_TEST_USER)
# Environment: COVE, COVE_BENCH_RUNS (number of containers, 100),
# COVE_BENCH_IMAGE.
set -u

# shellcheck source=../lib/bench-common.sh
source "${BENCH_LIB:-$(dirname "$(readlink -f "$0")")/../lib}/bench-common.sh"
bench_start image "$@"

N=${COVE_BENCH_RUNS:-100}
N_IDLE=10

# cycle TOOL...: run -d, stop -t 0, rm, N times; prints microseconds.
cycle() {
    local i id t0 t1
    t0=$(now_us)
    for ((i = 0; i < N; i++)); do
        id=$("$@" run -d "${NETOPT[@]}" "$IMAGE" sleep 1000 2>/dev/null </dev/null) || return 1
        "$@" stop -t 0 "$id" >/dev/null 2>&1 || return 1
        "$@" rm "$id" >/dev/null 2>&1 || return 1
    done
    t1=$(now_us)
    echo $((t1 - t0))
}

echo "bench: run -d, stop -t 0, rm of $N containers of $IMAGE, as $(id -un)"
NETOPT=()
cove_us=$(cycle "$COVE") || { echo "bench: the cove cycle failed"; exit 0; }
cove_ms=$(median_ms "$cove_us")
echo "cove:   $cove_ms ms in all, $(awk -v t="$cove_us" -v n="$N" 'BEGIN { printf "%.1f", t / n / 1000 }') ms per container"
podman_ms=""
if [ "$HAVE_PODMAN" = 1 ]; then
    NETOPT=(--network none)
    if podman_us=$(cycle podman_in 0); then
        podman_ms=$(median_ms "$podman_us")
        echo "podman: $podman_ms ms in all, $(awk -v t="$podman_us" -v n="$N" 'BEGIN { printf "%.1f", t / n / 1000 }') ms per container"
    else
        echo "bench: the podman cycle failed"
    fi
fi
ratio "run -d + stop -t 0 + rm, $N containers" "$cove_ms" "$podman_ms" 0.1

# private_kib PID...: Private_Dirty of each, in KiB, one per line.
private_kib() {
    local p
    for p in "$@"; do
        awk '/^Private_Dirty:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null
    done
}

echo "bench: private memory (Private_Dirty) of the supervisor of $N_IDLE idle containers"
for ((i = 0; i < N_IDLE; i++)); do
    "$COVE" run -d "$IMAGE" sleep 1000 >/dev/null 2>&1 </dev/null
done
sleep 1
mapfile -t mons < <(pgrep -u "$(id -u)" -f "^cove-monitor [0-9a-f]{64} $XDG_DATA_HOME/")
cove_kib=$(private_kib "${mons[@]}" | sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }')
echo "cove-monitor: ${#mons[@]} processes, median Private_Dirty ${cove_kib:-?} KiB (target: under 1024 KiB)"
"$COVE" rm -af >/dev/null 2>&1
if [ "$HAVE_PODMAN" = 1 ]; then
    for ((i = 0; i < N_IDLE; i++)); do
        podman_in 0 run -d --network none "$IMAGE" sleep 1000 >/dev/null 2>&1 </dev/null
    done
    sleep 1
    mapfile -t conmons < <(pgrep -u "$(id -u)" -f "conmon .*$WORK/podman-0")
    podman_kib=$(private_kib "${conmons[@]}" | sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }')
    echo "conmon:       ${#conmons[@]} processes, median Private_Dirty ${podman_kib:-?} KiB"
    podman_in 0 rm -af -t 0 >/dev/null 2>&1
    [ -n "$cove_kib" ] && [ -n "$podman_kib" ] &&
        awk -v c="$cove_kib" -v p="$podman_kib" 'BEGIN {
            printf "monitor private memory per idle container: cove %d KiB, podman %d KiB, ratio %.3f (target cove < 1024 KiB: %s)\n",
                   c, p, c / p, (c < 1024 ? "met" : "NOT met") }'
fi
exit 0
