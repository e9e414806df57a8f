#!/bin/bash
# Time pulling the debian12 test image (3 layers, ~60 MB compressed) from
# the local test registry into an EMPTY store: `cove pull` against
# `podman pull` (rootless, overlay), alternately, in the same run.  Prints
# each time, the medians and the ratio cove/podman (target: <= 0.5).
# A benchmark, not a test: it never fails CI (exit 0).
#
#   tests/bench/pull.sh        (as root: builds the test images and starts
#                               the registries when COVE_TEST_REGISTRY is
#                               unset, then runs as $COVE_TEST_USER)
# Environment: COVE (default: cove in PATH), COVE_BENCH_RUNS (3),
# COVE_BENCH_IMAGE (default REGISTRY/debian12:latest, else busybox when the
# debian12 image could not be built).
set -u

# shellcheck source=../lib/bench-common.sh
source "${BENCH_LIB:-$(dirname "$(readlink -f "$0")")/../lib}/bench-common.sh"
bench_start registry "$@"

RUNS=${COVE_BENCH_RUNS:-3}
IMAGE=${COVE_BENCH_IMAGE:-}
if [ -z "$IMAGE" ]; then
    IMAGE=$REG/debian12:latest
    [ -n "${COVE_TEST_OCI_DEBIAN12:-}" ] || IMAGE=$REG/busybox:latest
fi
if ! curl -sf -o /dev/null -m 5 "http://$REG/v2/"; then
    echo "bench: no registry at $REG"
    exit 0
fi

echo "bench: pull $IMAGE into an empty store, $RUNS times each, as $(id -un)"
cove_times=() podman_times=()
for ((i = 1; i <= RUNS; i++)); do
    export XDG_DATA_HOME=$WORK/data-$i
    mkdir -p "$XDG_DATA_HOME"
    t0=$(now_us)
    if "$COVE" pull -q "$IMAGE" >"$WORK/cove.out" 2>&1; then
        t1=$(now_us)
        cove_times+=("$((t1 - t0))")
    else
        echo "bench: cove pull failed:"
        tail -n 5 "$WORK/cove.out"
    fi
    if [ "$HAVE_PODMAN" = 1 ]; then
        t0=$(now_us)
        if podman_in "$i" pull -q "$IMAGE" >"$WORK/podman.out" 2>&1; then
            t1=$(now_us)
            podman_times+=("$((t1 - t0))")
        else
            echo "bench: podman pull failed:"
            tail -n 5 "$WORK/podman.out"
        fi
    fi
done
for ((i = 1; i <= RUNS; i++)); do
    XDG_DATA_HOME=$WORK/data-$i remove_tree "$WORK/data-$i"
    remove_tree "$WORK/podman-$i"
done

cove_ms="" podman_ms=""
if [ "${#cove_times[@]}" -gt 0 ]; then
    cove_ms=$(median_ms "${cove_times[@]}")
    echo "cove pull:   $(list_ms "${cove_times[@]}") ms; median $cove_ms ms"
fi
if [ "${#podman_times[@]}" -gt 0 ]; then
    podman_ms=$(median_ms "${podman_times[@]}")
    echo "podman pull: $(list_ms "${podman_times[@]}") ms; median $podman_ms ms"
fi
[ "$HAVE_PODMAN" = 1 ] || echo "bench: podman is not installed: no comparison"
ratio "pull $IMAGE" "$cove_ms" "$podman_ms" 0.5
exit 0
