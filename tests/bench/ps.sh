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

RUNS=${COVE_BENCH_RUNS:-20}
N=${COVE_BENCH_CONTAINERS:-200}
WARMUP=2
TEST_USER=${COVE_TEST_USER:-covetest}

if [ "$(id -u)" -eq 0 ]; then
    self=$(readlink -f "$0")
    # A copy the user can read wherever the clone is.
    tmp=$(mktemp -d /tmp/cove-bench.XXXXXX)
    cp "$self" "$tmp/ps.sh"
    chmod -R a+rX "$tmp"
    cd "$tmp" || exit 0
    runuser -u "$TEST_USER" -- env -i \
        PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
        HOME="$(getent passwd "$TEST_USER" | cut -d: -f6)" \
        USER="$TEST_USER" LOGNAME="$TEST_USER" LANG=C.UTF-8 \
        COVE="${COVE:-$(command -v cove)}" COVE_BENCH_RUNS="$RUNS" \
        COVE_BENCH_CONTAINERS="$N" \
        bash "$tmp/ps.sh"
    rc=$?
    rm -rf "$tmp"
    exit "$rc"
fi

COVE=${COVE:-$(command -v cove)}
if [ -z "$COVE" ] || [ ! -x "$COVE" ]; then
    echo "bench: cove is not installed" >&2
    exit 1
fi

work=$(mktemp -d /tmp/cove-bench-user.XXXXXX)
cleanup() {
    # podman leaves a pause process per runtime dir, and files owned by
    # subordinate ids.
    if [ -f "$work/runtime/libpod/tmp/pause.pid" ]; then
        podman_env unshare rm -rf "$work/data/containers" 2>/dev/null
    fi
    # cove's pause.pid holds "PID STARTTIME", podman's just the pid.
    local f pid
    while IFS= read -r f; do
        read -r pid _ <"$f" || true  # podman writes no newline
        [ -n "$pid" ] && kill "$pid" 2>/dev/null
    done < <(find "$work/runtime" -name pause.pid -type f 2>/dev/null)
    chmod -R u+rwX "$work" 2>/dev/null
    rm -rf "$work" 2>/dev/null || "$COVE" unshare rm -rf "$work" 2>/dev/null
}
trap cleanup EXIT

# Own XDG dirs: the benchmark neither sees nor leaves the user's containers.
export XDG_DATA_HOME=$work/data XDG_CONFIG_HOME=$work/config \
       XDG_CACHE_HOME=$work/cache XDG_RUNTIME_DIR=$work/runtime
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
mkdir -m 0700 "$XDG_RUNTIME_DIR"

# The same rootfs as the system tests.
R=$work/rootfs
busybox=/bin/busybox
[ -x "$busybox" ] || busybox=/usr/bin/busybox
mkdir -p "$R"/{bin,proc,sys,dev,etc,tmp,root,run,mnt}
cp "$busybox" "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do
    [ "$a" = busybox ] || ln -sf busybox "$R/bin/$a"
done
ln -s bin "$R/sbin"
echo 'root:x:0:0:root:/root:/bin/sh' >"$R/etc/passwd"
echo 'root:x:0:' >"$R/etc/group"


# podman reads the user's own containers.conf, but stores in $work.
podman_env() { XDG_CONFIG_HOME=$HOME/.config podman "$@"; }

# bench NAME CMD...: WARMUP + RUNS runs; prints times; sets MEDIAN (ms).
# hyperfine (-N: no shell in between) when installed, else bash's clock
# ($EPOCHREALTIME: no fork of date(1) inside the timing), which adds the
# cost of bash's own fork to every run.
MEDIAN=""
bench() {
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
        hyperfine -N --style none --runs "$RUNS" --export-json "$work/h.json" \
            -- "$*" >/dev/null 2>&1 </dev/null
        mapfile -t times < <(jq '.results[0].times[] * 1000000 | floor' "$work/h.json")
    else
        for ((i = 0; i < RUNS; i++)); do
            t0=${EPOCHREALTIME/[.,]/}
            "$@" >/dev/null 2>&1 </dev/null
            t1=${EPOCHREALTIME/[.,]/}
            times+=("$((t1 - t0))")
        done
    fi
    MEDIAN=$(printf '%s\n' "${times[@]}" | sort -n |
        awk '{ a[NR] = $1 } END {
                 m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
                 printf "%.1f", m / 1000 }')
    printf '%s: %s ms each; median %s ms\n' "$name" \
        "$(printf '%s\n' "${times[@]}" |
            awk '{ printf "%s%.1f", (NR > 1 ? " " : ""), $1 / 1000 }')" \
        "$MEDIAN"
}

echo "bench: $RUNS runs after $WARMUP warm-ups, as $(id -un), $N containers each"
for ((i = 0; i < N; i++)); do
    "$COVE" create --rootfs "$R" true >/dev/null 2>&1 || {
        echo "bench: cove create failed" >&2
        exit 0
    }
done
bench "cove ps -a ($N containers)" "$COVE" ps -a
cove_median=$MEDIAN

if command -v podman >/dev/null; then
    conf=$HOME/.config/containers/containers.conf
    if [ ! -f "$conf" ]; then
        mkdir -p "$(dirname "$conf")"
        printf '[engine]\nruntime = "runc"\n' >"$conf"
        echo "bench: wrote $conf (runtime = \"runc\")"
    fi
    for ((i = 0; i < N; i++)); do
        podman_env create --network none --rootfs "$R" true >/dev/null 2>&1 || {
            echo "bench: podman create failed: no comparison" >&2
            exit 0
        }
    done
    bench "podman ps -a ($N containers)" env XDG_CONFIG_HOME="$HOME/.config" podman ps -a
    podman_median=$MEDIAN
    podman_env rm -a >/dev/null 2>&1
    if [ -n "$cove_median" ] && [ -n "$podman_median" ]; then
        awk -v c="$cove_median" -v p="$podman_median" \
            'BEGIN { printf "ratio cove/podman: %.3f\n", c / p }'
    fi
else
    echo "bench: podman is not installed: no comparison"
fi
exit 0
