#!/bin/bash
# Time `cove ps -a` against `podman ps -a` with N containers each (default
# 200, created from the same busybox rootfs, never started), as the
# unprivileged test user, in the same run.  Targets (issue 4): under 20 ms
# and under 0.1x podman.  Prints each time, the medians in ms and the ratio
# cove/podman.
# A benchmark, not a test: it never fails CI (always exits 0 unless cove is
# missing).
#
#   tests/bench/ps.sh            (as the user, or as root: then it
#                                         re-runs itself as $COVE_TEST_USER)
# Environment: COVE (default: cove in PATH), COVE_BENCH_RUNS (20),
# COVE_BENCH_CONTAINERS (200).
set -u

# shellcheck source=../lib/bench-common.sh
source "${BENCH_LIB:-$(dirname "$(readlink -f "$0")")/../lib}/bench-common.sh"
bench_start rootfs "$@"

RUNS=${COVE_BENCH_RUNS:-20}
N=${COVE_BENCH_CONTAINERS:-200}
WARMUP=2
R=$WORK/rootfs
bench_rootfs "$R"

echo "bench: $RUNS runs after $WARMUP warm-ups, as $(id -un), $N containers each"
for ((i = 0; i < N; i++)); do
    "$COVE" create --rootfs "$R" true >/dev/null 2>&1 || {
        echo "bench: cove create failed" >&2
        exit 0
    }
done
bench_time "cove ps -a ($N containers)" "$COVE" ps -a
cove_median=$MEDIAN

if [ "$HAVE_PODMAN" = 1 ]; then
    for ((i = 0; i < N; i++)); do
        podman create --network none --rootfs "$R" true >/dev/null 2>&1 || {
            echo "bench: podman create failed: no comparison" >&2
            exit 0
        }
    done
    bench_time "podman ps -a ($N containers)" podman ps -a
    podman rm -a >/dev/null 2>&1
    ratio_plain "$cove_median" "$MEDIAN"
else
    echo "bench: podman is not installed: no comparison"
fi
exit 0
