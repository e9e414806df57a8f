#!/bin/bash
# Time `cove run --rootfs R true` against `podman run --rm --rootfs R true`,
# as the unprivileged test user, on the same busybox rootfs in the same run.
# Prints each time, the medians in ms and the ratio cove/podman.
# A benchmark, not a test: it never fails CI (always exits 0 unless cove is
# missing).
#
#   tests/bench/run-rootfs.sh            (as the user, or as root: then it
#                                         re-runs itself as $COVE_TEST_USER)
# Environment: COVE (default: cove in PATH), COVE_BENCH_RUNS (20).
set -u

# shellcheck source=../lib/bench-common.sh
source "${BENCH_LIB:-$(dirname "$(readlink -f "$0")")/../lib}/bench-common.sh"
bench_start rootfs "$@"

RUNS=${COVE_BENCH_RUNS:-20}
WARMUP=2
R=$WORK/rootfs
bench_rootfs "$R"

echo "bench: $RUNS runs after $WARMUP warm-ups, as $(id -un), rootfs $R"
bench_time "cove run --rootfs R true" "$COVE" run --rootfs "$R" true
cove_median=$MEDIAN

if [ "$HAVE_PODMAN" = 1 ]; then
    bench_time "podman run --rm --rootfs R true" \
        podman run --rm --network none --rootfs "$R" true
    ratio_plain "$cove_median" "$MEDIAN"
else
    echo "bench: podman is not installed: no comparison"
fi
exit 0
