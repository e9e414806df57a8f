# shellcheck shell=bash
# Common part of the image benchmarks (tests/bench/pull.sh, run-image.sh);
# sourced, not run.
#
# As root, bench_enter_user SCRIPT ARGS... makes sure the test registry
# serves the test images (when COVE_TEST_REGISTRY is unset: builds them with
# tests/images/build.sh and starts tests/lib/registries.sh for the run,
# stopped on exit), then runs SCRIPT again as $COVE_TEST_USER with a clean
# environment and returns its status.  As the user, bench_setup_user makes
# a work dir with its own XDG dirs and the podman helpers; median and ratio
# print the results.  Benchmarks never fail CI: errors are printed, the
# exit status stays 0.

BENCH_LIB=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
BENCH_REPO=$(readlink -f "$BENCH_LIB/../..")
TEST_USER=${COVE_TEST_USER:-covetest}

bench_enter_user() {
    local script=$1 regdir="" tmp rc env_lines=()
    shift
    if [ -z "${COVE_TEST_REGISTRY:-}" ]; then
        regdir=$(mktemp -d /tmp/cove-bench-reg.XXXXXX)
        # shellcheck disable=SC2064
        trap "'$BENCH_LIB/registries.sh' stop '$regdir' >/dev/null 2>&1" EXIT
        echo "bench: building the test images and starting the registries"
        if ! "$BENCH_REPO/tests/images/build.sh" >"$regdir.images" 2>"$regdir.log" ||
            ! "$BENCH_LIB/registries.sh" start "$regdir" "$regdir.images" \
                >>"$regdir.log" 2>&1; then
            echo "bench: the test registry could not be set up:"
            tail -n 20 "$regdir.log"
            rm -f "$regdir.images" "$regdir.log"
            return 0
        fi
        rm -f "$regdir.images" "$regdir.log"
        mapfile -t env_lines < <(grep -E '^COVE_TEST_[A-Z0-9_]+=' "$regdir/env")
    else
        mapfile -t env_lines < <(env | grep -E '^COVE_TEST_[A-Z0-9_]+=')
    fi
    # A copy the user can read wherever the clone is.
    tmp=$(mktemp -d /tmp/cove-bench.XXXXXX)
    cp "$script" "$tmp/bench.sh"
    cp "$BENCH_LIB/bench-common.sh" "$tmp/bench-common.sh"
    chmod -R a+rX "$tmp"
    (
        cd "$tmp" || exit 0
        runuser -u "$TEST_USER" -- env -i \
            PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
            HOME="$(getent passwd "$TEST_USER" | cut -d: -f6)" \
            USER="$TEST_USER" LOGNAME="$TEST_USER" LANG=C.UTF-8 \
            COVE="${COVE:-$(command -v cove)}" \
            COVE_BENCH_RUNS="${COVE_BENCH_RUNS:-}" \
            COVE_BENCH_IMAGE="${COVE_BENCH_IMAGE:-}" \
            BENCH_LIB="$tmp" "${env_lines[@]}" \
            bash "$tmp/bench.sh" "$@"
    )
    rc=$?
    rm -rf "$tmp"
    return "$rc"
}

# bench_setup_user: WORK with XDG dirs of its own; podman_cmd prints the
# podman command line with its own --root/--runroot under WORK.
bench_setup_user() {
    COVE=${COVE:-$(command -v cove)}
    if [ -z "$COVE" ] || [ ! -x "$COVE" ]; then
        echo "bench: cove is not installed"
        exit 0
    fi
    WORK=$(mktemp -d /tmp/cove-bench-user.XXXXXX)
    trap bench_cleanup EXIT
    export XDG_DATA_HOME=$WORK/data XDG_CONFIG_HOME=$WORK/config \
           XDG_CACHE_HOME=$WORK/cache XDG_RUNTIME_DIR=$WORK/runtime
    mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME/containers" "$XDG_CACHE_HOME"
    mkdir -m 0700 "$XDG_RUNTIME_DIR"
    # Both tools: the test registry is plain HTTP.
    export CONTAINERS_REGISTRIES_CONF=$WORK/registries.conf
    printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' \
        "${COVE_TEST_REGISTRY:-127.0.0.1:5000}" >"$CONTAINERS_REGISTRIES_CONF"
    # Rootless podman here needs runc (crun is not installed).
    printf '[engine]\nruntime = "runc"\n' >"$XDG_CONFIG_HOME/containers/containers.conf"
    # Read by the benchmark scripts.
    export HAVE_PODMAN=0
    if command -v podman >/dev/null; then HAVE_PODMAN=1; fi
}

# podman with its store under WORK/podman-N (N: $1).
podman_in() {
    local n=$1
    shift
    podman --root "$WORK/podman-$n/root" --runroot "$WORK/podman-$n/runroot" \
        --storage-driver overlay "$@"
}

# remove_tree DIR: a store whose files belong to subordinate ids.
remove_tree() {
    rm -rf "$1" 2>/dev/null && return 0
    "$COVE" unshare rm -rf "$1" 2>/dev/null ||
        podman unshare rm -rf "$1" 2>/dev/null || true
}

bench_cleanup() {
    local f pid
    # podman's and cove's pause processes of this run's runtime dir.
    while IFS= read -r f; do
        read -r pid _ <"$f" || true
        [[ "$pid" =~ ^[0-9]+$ ]] && kill "$pid" 2>/dev/null
    done < <(find "$WORK" -name pause.pid -type f 2>/dev/null)
    chmod -R u+rwX "$WORK" 2>/dev/null
    remove_tree "$WORK"
}

# now_us: microseconds since the epoch (no fork).
now_us() { echo "${EPOCHREALTIME/[.,]/}"; }

# median_ms US...: the median of microsecond times, in ms.
median_ms() {
    printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END {
        if (NR == 0) { print ""; exit }
        m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
        printf "%.1f", m / 1000 }'
}

# list_ms US...: the times in ms, space-separated.
list_ms() {
    printf '%s\n' "$@" | awk '{ printf "%s%.1f", (NR > 1 ? " " : ""), $1 / 1000 }'
}

# ratio NAME COVE_MS PODMAN_MS TARGET
ratio() {
    if [ -n "$2" ] && [ -n "$3" ]; then
        awk -v n="$1" -v c="$2" -v p="$3" -v t="$4" 'BEGIN {
            r = c / p
            printf "%s: cove %.1f ms, podman %.1f ms, ratio cove/podman %.3f (target <= %s: %s)\n",
                   n, c, p, r, t, (r <= t ? "met" : "NOT met") }'
    fi
}
