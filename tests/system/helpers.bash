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

# kill_containers: remove every container the test left (running ones
# killed), then kill any monitor still there (its argv names the test's
# data dir).
kill_containers() {
    local d="${XDG_DATA_HOME:-$TEST_TMP/data}/cove/containers"
    if [ -d "$d" ] && ls "$d" | grep -qE '^[0-9a-f]{64}$'; then
        timeout 30 "$COVE" rm -af >/dev/null 2>&1 || true
    fi
    pkill -KILL -f "^cove-monitor [0-9a-f]{64} $TEST_TMP/" 2>/dev/null || true
}

cove_teardown() {
    [ -n "${TEST_TMP:-}" ] && [ -d "$TEST_TMP" ] || return 0
    kill_containers
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

# assert_no_containers: cove left no container behind in its store (its
# lock file and empty names index are the store itself).
assert_no_containers() {
    local d="$XDG_DATA_HOME/cove/containers"
    if [ -d "$d" ] && [ -n "$(ls -A "$d" | grep -vxE 'lock|names')$(ls -A "$d/names" 2>/dev/null)" ]; then
        echo "expected no container in $d, found:" >&2
        ls -la "$d" >&2
        return 1
    fi
}

# ---------------------------------------------------------------- images
#
# The image tests (1NN-*.bats) run against registries that tests/run starts
# on 127.0.0.1 (tests/lib/registries.sh) with images built by
# tests/images/build.sh; it passes their addresses in COVE_TEST_* variables.
# A test whose registry or image is missing skips and says why.

# image_setup: cove_setup, plus a HOME of the test's own (certs.d,
# ~/.docker/config.json and auth files are read from HOME) with
# XDG_CONFIG_HOME inside it (podman reads certs.d from
# ~/.config/containers, cove may read $XDG_CONFIG_HOME/containers: the
# same place here), and a registries.conf of the test's own, so that the
# machine's files do not matter.  The plain-HTTP registries are
# `insecure = true` in it; the TLS ones are not.
image_setup() {
    cove_setup
    export HOME="$TEST_TMP/home"
    export XDG_CONFIG_HOME="$HOME/.config"
    mkdir -p "$XDG_CONFIG_HOME/containers"
    export CONTAINERS_REGISTRIES_CONF="$TEST_TMP/registries.conf"
    write_registries_conf >"$CONTAINERS_REGISTRIES_CONF"
    export COVE_TIMEOUT=${COVE_PULL_TIMEOUT:-120}
    # shellcheck disable=SC2034 # read by the tests
    REG=${COVE_TEST_REGISTRY:-}
    # shellcheck disable=SC2034
    HOSTILE=${COVE_TEST_HOSTILE_REGISTRY:-}
}

# write_registries_conf: the default registries.conf of the image tests.
write_registries_conf() {
    echo 'unqualified-search-registries = []'
    local r
    for r in ${COVE_TEST_REGISTRY:-} ${COVE_TEST_HOSTILE_REGISTRY:-}; do
        printf '\n[[registry]]\nlocation = "%s"\ninsecure = true\n' "$r"
    done
}

require_registry() {
    [ -n "${COVE_TEST_REGISTRY:-}" ] ||
        skip "no test registry (COVE_TEST_REGISTRY is unset: run the tests through tests/run)"
}

require_busybox_image() {
    require_registry
    [ -n "${COVE_TEST_OCI_BUSYBOX:-}" ] ||
        skip "the busybox test image was not built (tests/images/build.sh)"
}

require_debian12() {
    require_registry
    [ -n "${COVE_TEST_OCI_DEBIAN12:-}" ] ||
        skip "no debian12 test image: ${COVE_TEST_DEBIAN12_SKIP:-it was not built}"
}

require_tls_registry() {
    [ -n "${COVE_TEST_REGISTRY_TLS:-}" ] && [ -r "${COVE_TEST_REGISTRY_CA:-}" ] ||
        skip "no TLS test registry (COVE_TEST_REGISTRY_TLS/COVE_TEST_REGISTRY_CA unset)"
    require_busybox_image
}

require_token_registry() {
    [ -n "${COVE_TEST_REGISTRY_TOKEN:-}" ] && [ -r "${COVE_TEST_REGISTRY_CA:-}" ] ||
        skip "no token-auth test registry (COVE_TEST_REGISTRY_TOKEN unset)"
    require_busybox_image
}

require_hostile_registry() {
    [ -n "${COVE_TEST_HOSTILE_REGISTRY:-}" ] && [ -d "${COVE_TEST_SENTINEL:-}" ] ||
        skip "no hostile test registry (COVE_TEST_HOSTILE_REGISTRY unset)"
}

# load_facts FILE: the KEY=VALUE facts that tests/images/build.sh recorded.
load_facts() {
    local key value
    [ -r "$1" ] || return 1
    while IFS='=' read -r key value; do
        [[ "$key" =~ ^[A-Z0-9_]+$ ]] && printf -v "$key" '%s' "$value"
    done <"$1"
}

# MANIFEST_ACCEPT: the manifest types the helpers below accept.
MANIFEST_ACCEPT='application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json'

# reg_manifest REPO[:TAG] [REGISTRY]: the manifest (or index) JSON from
# the plain-HTTP registry.
reg_manifest() {
    local ref=$1 reg=${2:-$COVE_TEST_REGISTRY} repo tag
    repo=${ref%%:*}
    tag=latest
    [[ "$ref" == *:* ]] && tag=${ref#*:}
    curl -sf -m 10 -H "Accept: $MANIFEST_ACCEPT" \
        "http://$reg/v2/$repo/manifests/$tag"
}

# reg_digest REPO[:TAG]: the manifest digest (sha256:...) the registry
# serves for the tag.
reg_digest() {
    local ref=$1 repo tag
    repo=${ref%%:*}
    tag=latest
    [[ "$ref" == *:* ]] && tag=${ref#*:}
    curl -sfI -m 10 -H "Accept: $MANIFEST_ACCEPT" \
        "http://$COVE_TEST_REGISTRY/v2/$repo/manifests/$tag" |
        tr -d '\r' | awk -F': ' 'tolower($1) == "docker-content-digest" { print $2 }'
}

# reg_image_id REPO[:TAG]: the image id (64 hex digits: the digest of the
# config) of a single-platform image in the plain-HTTP registry.
reg_image_id() {
    reg_manifest "$1" | jq -r '.config.digest' | sed 's/^sha256://'
}

# reg_platform_image_id REPO[:TAG] ARCH: the same, for the ARCH entry of
# an image index.
reg_platform_image_id() {
    local digest repo=${1%%:*}
    digest=$(reg_manifest "$1" |
        jq -r --arg a "$2" '.manifests[] | select(.platform.architecture == $a) | .digest' |
        head -n 1)
    [ -n "$digest" ] || return 1
    reg_manifest "$repo:$digest" | jq -r '.config.digest' | sed 's/^sha256://'
}

# cove_pull_ok ARGS...: `cove pull -q ARGS`, which must succeed and print
# a 64-hex id; sets PULLED_ID.
cove_pull_ok() {
    run_cove pull -q "$@"
    assert_status 0 || return 1
    PULLED_ID=$(tail -n 1 <<<"$output")
    if ! [[ "$PULLED_ID" =~ ^[0-9a-f]{64}$ ]]; then
        echo "cove pull -q $*: expected a 64-hex id as the last line" >&2
        _show_output
        return 1
    fi
}

# cove_out ARGS...: stdout of a cove that must succeed, stderr apart (for
# values that are compared).
cove_out() {
    local out rc=0
    out=$(timeout -k 5 "$COVE_TIMEOUT" "$COVE" "$@" 2>"$TEST_TMP/stderr") || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "cove $*: exit $rc; stderr:" >&2
        cat "$TEST_TMP/stderr" >&2
        return 1
    fi
    printf '%s\n' "$out"
}

store_dir() { echo "${XDG_DATA_HOME}/cove"; }

# assert_store_empty: no image, no layer, no blob in the store (what a
# failed pull into an empty store must leave).
assert_store_empty() {
    local d
    d=$(store_dir)
    run_cove images -q
    assert_status 0 || return 1
    assert_output_empty || return 1
    local leftovers=""
    if [ -d "$d/layers" ]; then
        leftovers+=$(find "$d/layers" -mindepth 1 -maxdepth 1 2>/dev/null)
    fi
    if [ -d "$d/blobs" ]; then
        leftovers+=$(find "$d/blobs" -type f 2>/dev/null)
    fi
    if [ -d "$d/images" ]; then
        leftovers+=$(find "$d/images" -type f -name '[0-9a-f]*.json' 2>/dev/null)
    fi
    if [ -n "$leftovers" ]; then
        echo "expected an empty store, found:" >&2
        printf '%s\n' "$leftovers" >&2
        return 1
    fi
}

# sentinel_reset: the hostile registry's sentinel directory holds only
# `target`, a file of the test user's own (a hard link to it would succeed
# if cove let one escape).
sentinel_reset() {
    find "$COVE_TEST_SENTINEL" -mindepth 1 -maxdepth 1 -user "$(id -u)" \
        -exec rm -rf {} + 2>/dev/null || true
    echo "sentinel target" >"$COVE_TEST_SENTINEL/target"
}

# assert_sentinel_untouched: nothing appeared there, and target has one
# link and its content.
assert_sentinel_untouched() {
    local list
    list=$(ls -A "$COVE_TEST_SENTINEL")
    assert_equal "$list" target "entries of the sentinel directory" || return 1
    assert_equal "$(stat -c %h "$COVE_TEST_SENTINEL/target")" 1 \
        "link count of the sentinel target" || return 1
    assert_equal "$(cat "$COVE_TEST_SENTINEL/target")" "sentinel target" \
        "content of the sentinel target"
}

# podman_setup: rootless podman here needs runc (crun is not installed);
# the test's registries.conf (image_setup) reaches podman through
# CONTAINERS_REGISTRIES_CONF.  `pod` runs podman with a bound time.
podman_setup() {
    command -v podman >/dev/null || skip "podman is not installed"
    mkdir -p "$XDG_CONFIG_HOME/containers"
    printf '[engine]\nruntime = "runc"\n' >"$XDG_CONFIG_HOME/containers/containers.conf"
}

pod() { timeout -k 5 120 podman "$@"; }

# ---- builds ----

# build_ctx: CTX, a build context holding the host's busybox-static as
# `busybox` (the test skips without it).
build_ctx() {
    [ -n "$BUSYBOX" ] || skip "busybox-static is not installed"
    CTX="$TEST_TMP/ctx"
    mkdir -p "$CTX"
    cp "$BUSYBOX" "$CTX/busybox"
}

# bb_file LINES...: $CTX/Containerfile, FROM scratch with busybox at /bin,
# then LINES.
bb_file() {
    {
        echo 'FROM scratch'
        echo 'COPY busybox /bin/busybox'
        printf '%s\n' "$@"
    } >"$CTX/Containerfile"
}
