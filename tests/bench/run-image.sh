#!/bin/bash
# Time `cove run --rm IMAGE true` against `podman run --rm IMAGE true`
# (rootless, runc, --network none), alternately, on an image pulled from
# the local test registry beforehand (the busybox test image by default).
# Prints each time, the medians and the ratio cove/podman (target:
# <= 0.1).  A benchmark, not a test: it never fails CI (exit 0).
#
#   tests/bench/run-image.sh   (as root: builds the test images and starts
#                               the registries when COVE_TEST_REGISTRY is
#                               unset, then runs as $COVE_TEST_USER)
# Environment: COVE, COVE_BENCH_RUNS (20), COVE_BENCH_IMAGE (default
# REGISTRY/busybox:latest).
set -u

# shellcheck source=../lib/bench-common.sh
source "${BENCH_LIB:-$(dirname "$(readlink -f "$0")")/../lib}/bench-common.sh"
bench_start image "$@"

RUNS=${COVE_BENCH_RUNS:-20}
WARMUP=2

cove_run() { "$COVE" run --rm "$IMAGE" true; }
podman_run() { podman_in 0 run --rm --network none "$IMAGE" true; }

for ((i = 0; i < WARMUP; i++)); do
    cove_run >/dev/null 2>&1 </dev/null
    [ "$HAVE_PODMAN" = 1 ] && podman_run >/dev/null 2>&1 </dev/null
done
if ! cove_run >"$WORK/run.out" 2>&1 </dev/null; then
    echo "bench: cove run --rm $IMAGE true fails:"
    tail -n 5 "$WORK/run.out"
    exit 0
fi

echo "bench: run --rm $IMAGE true, $RUNS runs each, alternately, as $(id -un)"
cove_times=() podman_times=()
for ((i = 0; i < RUNS; i++)); do
    t0=$(now_us)
    cove_run >/dev/null 2>&1 </dev/null
    t1=$(now_us)
    cove_times+=("$((t1 - t0))")
    if [ "$HAVE_PODMAN" = 1 ]; then
        t0=$(now_us)
        podman_run >/dev/null 2>&1 </dev/null
        t1=$(now_us)
        podman_times+=("$((t1 - t0))")
    fi
done

cove_ms=$(median_ms "${cove_times[@]}")
echo "cove run:   $(list_ms "${cove_times[@]}") ms; median $cove_ms ms"
podman_ms=""
if [ "${#podman_times[@]}" -gt 0 ]; then
    podman_ms=$(median_ms "${podman_times[@]}")
    echo "podman run: $(list_ms "${podman_times[@]}") ms; median $podman_ms ms"
else
    echo "bench: podman is not available: no comparison"
fi
ratio "run --rm $IMAGE true" "$cove_ms" "$podman_ms" 0.1
exit 0
