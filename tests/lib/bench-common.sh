# shellcheck shell=bash
# Common part of the benchmarks (tests/bench/*.sh); sourced, not run.
#
# A benchmark starts with `bench_start image|registry|rootfs "$@"`.  As
# root it runs the script again as $COVE_TEST_USER with a clean environment
# and exits: with `image` or `registry`, bench_enter_user first makes sure
# the test registry serves the test images (when COVE_TEST_REGISTRY is
# unset: builds them with tests/images/build.sh and starts
# tests/lib/registries.sh for the run, stopped on exit); `rootfs`
# benchmarks need no registry.  As the user, bench_setup_user makes a work
# dir with its own XDG dirs and the podman helpers; with `image`,
# bench_pull then pulls IMAGE (COVE_BENCH_IMAGE, default the busybox test
# image) for both tools.  bench_time, median_ms and ratio time and print
# the results.
# Benchmarks never fail CI: errors are printed, the exit status stays 0
# (a `rootfs` benchmark exits 1 when cove is missing).

BENCH_LIB=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
BENCH_REPO=$(readlink -f "$BENCH_LIB/../..")
TEST_USER=${COVE_TEST_USER:-covetest}

# bench_start MODE ARGS...: see above; MODE is image, registry or rootfs.
bench_start() {
    local mode=$1 self
    shift
    self=$(readlink -f "$0")
    if [ "$(id -u)" -ne 0 ]; then
        bench_setup_user "$mode"
        if [ "$mode" = image ]; then
            IMAGE=${COVE_BENCH_IMAGE:-$REG/busybox:latest}
            bench_pull "$IMAGE"
        fi
        return 0
    fi
    if [ "$mode" != rootfs ]; then
        bench_enter_user "$self" "$@"
        exit 0
    fi
    BENCH_ENV=()
    bench_run_as_user "$self" "$@"
    exit
}

bench_enter_user() {
    local script=$1 regdir=""
    shift
    BENCH_ENV=()
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
        mapfile -t BENCH_ENV < <(grep -E '^COVE_TEST_[A-Z0-9_]+=' "$regdir/env")
    else
        mapfile -t BENCH_ENV < <(env | grep -E '^COVE_TEST_[A-Z0-9_]+=')
    fi
    bench_run_as_user "$script" "$@"
}

# bench_run_as_user SCRIPT ARGS...: as root, SCRIPT as $TEST_USER with a
# clean environment (plus the assignments in BENCH_ENV); returns its status.
bench_run_as_user() {
    local script=$1 tmp rc
    shift
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
            COVE_BENCH_CONTAINERS="${COVE_BENCH_CONTAINERS:-}" \
            COVE_BENCH_MB="${COVE_BENCH_MB:-}" \
            BENCH_LIB="$tmp" "${BENCH_ENV[@]}" \
            bash "$tmp/bench.sh" "$@"
    )
    rc=$?
    rm -rf "$tmp"
    return "$rc"
}

# bench_setup_user [MODE]: WORK with XDG dirs of its own (the benchmark
# neither sees nor leaves the user's containers), podman configured to use
# runc; REG is the test registry.  Exits when cove is missing (status 1 in
# rootfs MODE, else 0).
bench_setup_user() {
    COVE=${COVE:-$(command -v cove)}
    if [ -z "$COVE" ] || [ ! -x "$COVE" ]; then
        if [ "${1:-}" = rootfs ]; then
            echo "bench: cove is not installed" >&2
            exit 1
        fi
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
    REG=${COVE_TEST_REGISTRY:-127.0.0.1:5000}
    export CONTAINERS_REGISTRIES_CONF=$WORK/registries.conf
    printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$REG" \
        >"$CONTAINERS_REGISTRIES_CONF"
    # Rootless podman here needs runc (crun is not installed).
    printf '[engine]\nruntime = "runc"\n' >"$XDG_CONFIG_HOME/containers/containers.conf"
    # Read by the benchmark scripts.
    export HAVE_PODMAN=0
    if command -v podman >/dev/null; then HAVE_PODMAN=1; fi
}

# bench_pull IMAGE: IMAGE into cove's store (exits when that fails: nothing
# to time) and, with podman, into podman_in 0's (else HAVE_PODMAN=0).
bench_pull() {
    if ! "$COVE" pull -q "$1" >"$WORK/pull.out" 2>&1; then
        echo "bench: cove pull $1 failed:"
        tail -n 5 "$WORK/pull.out"
        exit 0
    fi
    if [ "$HAVE_PODMAN" = 1 ] &&
        ! podman_in 0 pull -q "$1" >"$WORK/pull.out" 2>&1; then
        echo "bench: podman pull $1 failed:"
        tail -n 5 "$WORK/pull.out"
        HAVE_PODMAN=0
    fi
}

# bench_rootfs DIR: the busybox rootfs of the system tests.
bench_rootfs() {
    local r=$1 busybox=/bin/busybox a
    [ -x "$busybox" ] || busybox=/usr/bin/busybox
    mkdir -p "$r"/{bin,proc,sys,dev,etc,tmp,root,run,mnt}
    cp "$busybox" "$r/bin/busybox"
    for a in $("$r/bin/busybox" --list); do
        [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"
    done
    ln -s bin "$r/sbin"
    echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
    echo 'root:x:0:' >"$r/etc/group"
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

# bench_time NAME CMD...: WARMUP + RUNS runs of CMD; prints the times;
# sets MEDIAN (ms, empty when CMD fails).  hyperfine (-N: no shell in
# between) when installed, else bash's clock ($EPOCHREALTIME: no fork of
# date(1) inside the timing), which adds the cost of bash's own fork to
# every run.
MEDIAN=""
bench_time() {
    local name=$1 i t0 t1 times=() failed=0
    shift
    for ((i = 0; i < WARMUP; i++)); do
        "$@" >/dev/null 2>&1 </dev/null || failed=1
    done
    if [ "$failed" = 1 ]; then
        echo "$name: the command fails: $*"
        "$@" </dev/null 2>&1 | tail -n 5
        MEDIAN=""
        return 1
    fi
    if command -v hyperfine >/dev/null && command -v jq >/dev/null; then
        hyperfine -N --style none --runs "$RUNS" --export-json "$WORK/h.json" \
            -- "$*" >/dev/null 2>&1 </dev/null
        mapfile -t times < <(jq '.results[0].times[] * 1000000 | floor' "$WORK/h.json")
    else
        for ((i = 0; i < RUNS; i++)); do
            t0=${EPOCHREALTIME/[.,]/}
            "$@" >/dev/null 2>&1 </dev/null
            t1=${EPOCHREALTIME/[.,]/}
            times+=("$((t1 - t0))")
        done
    fi
    MEDIAN=$(median_ms "${times[@]}")
    printf '%s: %s ms each; median %s ms\n' "$name" "$(list_ms "${times[@]}")" \
        "$MEDIAN"
}

# ratio_plain COVE_MS PODMAN_MS: the ratio alone, when both were measured.
ratio_plain() {
    if [ -n "$1" ] && [ -n "$2" ]; then
        awk -v c="$1" -v p="$2" 'BEGIN { printf "ratio cove/podman: %.3f\n", c / p }'
    fi
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
