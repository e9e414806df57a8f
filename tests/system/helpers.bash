# Common set-up of cove's system tests (bats).
#
# The tests run the installed cove binary ($COVE) as an unprivileged user.
# Every test gets its own XDG directories under a fresh `mktemp -d`, so no
# test sees another's containers; every wait is bounded.
#
# A .bats file does `load helpers` and gets setup_file/setup/teardown from
# here; a file that needs more defines its own and calls the cove_* ones.

COVE=${COVE:-cove}
# Upper bound of one cove invocation, in seconds.
COVE_TIMEOUT=${COVE_TIMEOUT:-30}

# The busybox binary of busybox-static (statically linked: it runs in a
# rootfs without a libc).
BUSYBOX=${BUSYBOX:-}
if [ -z "$BUSYBOX" ]; then
    for b in /bin/busybox /usr/bin/busybox; do
        if [ -x "$b" ]; then BUSYBOX=$b; break; fi
    done
fi

# ---------------------------------------------------------------- rootfs

# make_busybox_rootfs DIR: a minimal root filesystem with busybox and a
# user database: root 0, tester 1000 (also in group extra 2000), nobody
# 65534.
make_busybox_rootfs() {
    local dir=$1 applet
    [ -n "$BUSYBOX" ] || { echo "busybox-static is not installed" >&2; return 1; }
    mkdir -p "$dir"/{bin,proc,sys,dev,etc,tmp,root,mnt,run,var/tmp,home/tester,usr}
    cp "$BUSYBOX" "$dir/bin/busybox"
    for applet in $("$dir/bin/busybox" --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
    done
    ln -sfn bin "$dir/sbin"
    ln -sfn ../bin "$dir/usr/bin"
    ln -sfn ../bin "$dir/usr/sbin"
    chmod 1777 "$dir/tmp" "$dir/var/tmp"
    chmod 0700 "$dir/root"
    cat >"$dir/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
tester:x:1000:1000::/home/tester:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
    cat >"$dir/etc/group" <<'EOF'
root:x:0:
tester:x:1000:
extra:x:2000:tester
nogroup:x:65534:
EOF
}

# ---------------------------------------------------------------- set-up

# One rootfs per .bats file, made once: tests that change it must copy it
# (copy_rootfs).
cove_setup_file() {
    export ROOTFS="$BATS_FILE_TMPDIR/rootfs"
    if [ ! -d "$ROOTFS" ]; then
        make_busybox_rootfs "$ROOTFS"
    fi
}

cove_setup() {
    TEST_TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/cove-test.XXXXXX")
    export TEST_TMP
    export XDG_DATA_HOME="$TEST_TMP/data"
    export XDG_CONFIG_HOME="$TEST_TMP/config"
    export XDG_RUNTIME_DIR="$TEST_TMP/runtime"
    export XDG_CACHE_HOME="$TEST_TMP/cache"
    mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
    mkdir -m 0700 "$XDG_RUNTIME_DIR"
    # Nothing of the caller's environment leaks into cove.
    unset COVE_SUBUID_FILE COVE_SUBGID_FILE CONTAINERS_REGISTRIES_CONF \
          REGISTRY_AUTH_FILE DBUS_SESSION_BUS_ADDRESS
}

# kill_pause_processes: cove (like podman) keeps the user namespace alive
# in a pause process recorded in XDG_RUNTIME_DIR; each test has its own
# runtime dir, so each test's pause process is killed at its end.  The file
# holds "PID [STARTTIME]"; the start time guards against a reused pid.
kill_pause_processes() {
    local f pid start now
    while IFS= read -r f; do
        read -r pid start <"$f" || true
        [[ "$pid" =~ ^[0-9]+$ ]] || continue
        if [ -n "${start:-}" ]; then
            now=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null |
                awk '{ print $20 }')
            [ "$now" = "$start" ] || continue
        fi
        kill -KILL "$pid" 2>/dev/null || true
    done < <(find "$TEST_TMP" -name pause.pid -type f 2>/dev/null)
}

cove_teardown() {
    [ -n "${TEST_TMP:-}" ] && [ -d "$TEST_TMP" ] || return 0
    kill_pause_processes
    # Files a container created belong to subordinate ids: remove them
    # from inside the user namespace when a plain rm cannot.
    chmod -R u+rwX "$TEST_TMP" 2>/dev/null
    rm -rf "$TEST_TMP" 2>/dev/null && return 0
    # The unshare needs a runtime dir of its own, and leaves a pause
    # process there too.
    local rt
    rt=$(mktemp -d "${BATS_TMPDIR:-/tmp}/cove-rm.XXXXXX")
    chmod 0700 "$rt"
    XDG_RUNTIME_DIR=$rt timeout 10 "$COVE" unshare rm -rf "$TEST_TMP" \
        >/dev/null 2>&1 || true
    TEST_TMP=$rt kill_pause_processes
    rm -rf "$rt" 2>/dev/null || true
}

setup_file() { cove_setup_file; }
setup() { cove_setup; }
teardown() { cove_teardown; }

# copy_rootfs: a private copy of the file's rootfs for a test that changes
# it; prints its path.
copy_rootfs() {
    local dst="$TEST_TMP/rootfs"
    cp -a "$ROOTFS" "$dst"
    echo "$dst"
}

# ---------------------------------------------------------------- running

# run_cove ARGS...: like bats `run` of cove (sets status, output with
# stderr merged, lines without empty ones), bounded by $COVE_TIMEOUT: a hung
# cove exits 124 and fails the test instead of hanging the suite.  Not
# bats' own `run`, which warns about every exit status 127 (BW01): cove
# returns 127 by contract.
run_cove() {
    status=0
    output=$(timeout -k 5 "$COVE_TIMEOUT" "$COVE" "$@" 2>&1) || status=$?
    lines=()
    # shellcheck disable=SC2034 # read by the tests
    IFS=$'\n' read -d '' -r -a lines <<<"$output" || true
}

# host_subid FILE: "START COUNT" of the current user's range in FILE.
host_subid() {
    awk -F: -v u="$(id -un)" -v n="$(id -u)" \
        '($1 == u || $1 == n) && NF == 3 { print $2, $3; exit }' "$1"
}

# netdev_names: interface names of /proc/net/dev text on stdin, sorted.
netdev_names() {
    awk -F: 'NR > 2 && NF > 1 { gsub(/[ \t\r]/, "", $1); print $1 }' | sort
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
    local limit=$(($1 * 10)) i=0
    shift
    while ! "$@"; do
        i=$((i + 1))
        [ "$i" -lt "$limit" ] || return 1
        sleep 0.1
    done
}

# ---------------------------------------------------------------- asserts

_show_output() {
    echo "----- status: ${status:-unset}, output:" >&2
    printf '%s\n' "${output:-}" >&2
    echo "-----" >&2
}

assert_status() {
    if [ "${status:-}" != "$1" ]; then
        echo "expected exit status $1, got ${status:-unset}" >&2
        _show_output
        return 1
    fi
}

assert_status_not() {
    if [ "${status:-}" = "$1" ]; then
        echo "expected an exit status other than $1" >&2
        _show_output
        return 1
    fi
}

assert_output() {
    if [ "$output" != "$1" ]; then
        echo "expected output: '$1'" >&2
        _show_output
        return 1
    fi
}

assert_output_empty() {
    if [ -n "$output" ]; then
        echo "expected no output" >&2
        _show_output
        return 1
    fi
}

assert_output_contains() {
    if [[ "$output" != *"$1"* ]]; then
        echo "expected output to contain: '$1'" >&2
        _show_output
        return 1
    fi
}

assert_output_not_contains() {
    if [[ "$output" == *"$1"* ]]; then
        echo "expected output not to contain: '$1'" >&2
        _show_output
        return 1
    fi
}

# assert_line_matches ERE: some line of the output matches.
assert_line_matches() {
    local line
    while IFS= read -r line; do
        [[ "$line" =~ $1 ]] && return 0
    done <<<"$output"
    echo "expected a line matching: /$1/" >&2
    _show_output
    return 1
}

assert_no_line_matches() {
    local line
    while IFS= read -r line; do
        if [[ "$line" =~ $1 ]]; then
            echo "expected no line matching: /$1/, found: '$line'" >&2
            _show_output
            return 1
        fi
    done <<<"$output"
}

# assert_equal ACTUAL EXPECTED [WHAT]
assert_equal() {
    if [ "$1" != "$2" ]; then
        echo "${3:-value}: expected '$2', got '$1'" >&2
        _show_output
        return 1
    fi
}

assert_not_equal() {
    if [ "$1" = "$2" ]; then
        echo "${3:-value}: expected something other than '$2'" >&2
        _show_output
        return 1
    fi
}

# assert_cove_error: cove itself failed: exit 125 and exactly one line
# starting with "Error: ".
assert_cove_error() {
    assert_status 125 || return 1
    local n
    n=$(grep -c '^Error: ' <<<"$output" || true)
    if [ "$n" -ne 1 ]; then
        echo "expected exactly one 'Error: ' line, found $n" >&2
        _show_output
        return 1
    fi
}

# assert_no_containers: cove left no container behind in its store.
assert_no_containers() {
    local d="$XDG_DATA_HOME/cove/containers"
    if [ -d "$d" ] && [ -n "$(ls -A "$d")" ]; then
        echo "expected no container in $d, found:" >&2
        ls -la "$d" >&2
        return 1
    fi
}
