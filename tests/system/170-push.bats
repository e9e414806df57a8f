#!/usr/bin/env bats
# cove push to the test registries (tests/lib/registries.sh): blobs the
# registry has are skipped, blobs of another repository of the same
# registry are mounted, the others uploaded (made again from the layer's
# tree when the store keeps no compressed blob); --format, zstd, chunked
# uploads, credentials, a missing registry, hostile answers
# (hostile-push.py beside this file), and podman pulling what cove pushed (and
# the reverse).  Every push goes to a repository of its own.

load helpers

setup() {
    image_setup
    # A repository no other test (or earlier run) used.
    NS="push$BATS_TEST_NUMBER-$$-$RANDOM"
}

teardown() {
    if [ -n "${HOSTILE_PID:-}" ]; then
        kill -TERM "$HOSTILE_PID" 2>/dev/null || true
    fi
    cove_teardown
}

# pod_q ARGS...: podman's stdout only (its warnings go to stderr).
pod_q() { timeout -k 5 120 podman "$@" 2>/dev/null; }

# The access log of the plain registry, when this user may read it.
registry_log() {
    local f
    f="$(dirname "${COVE_TEST_SENTINEL:-/nonexistent}")/logs/registry-plain.log"
    [ -r "$f" ] && echo "$f"
}

# uploads_to REPO: how many blob upload requests (PUT or PATCH of
# /v2/REPO/blobs/uploads/) the plain registry logged.
uploads_to() {
    grep -cE "\"(PUT|PATCH) /v2/$1/blobs/uploads/" "$2" || true
}

# media_type REPO:TAG: the Content-Type of the manifest the plain registry
# serves.
media_type() {
    curl -sfI -m 10 -H "Accept: $MANIFEST_ACCEPT" \
        "http://$REG/v2/${1%%:*}/manifests/${1#*:}" |
        tr -d '\r' | awk -F': ' 'tolower($1) == "content-type" { print $2 }'
}

pull_busybox() {
    require_busybox_image
    cove_pull_ok "$REG/busybox:latest"
}

@test "push: to another repository of the registry mounts every blob; podman pulls the same image" {
    pull_busybox
    local log before=0
    log=$(registry_log) || true
    run_cove push "$REG/busybox:latest" "$REG/$NS/bb:1"
    assert_status 0
    assert_line_matches '^Getting image source signatures$'
    assert_line_matches '^Copying blob sha256:[0-9a-f]{64} skipped: already exists$'
    assert_line_matches '^Copying config sha256:[0-9a-f]{64} done$'
    assert_line_matches '^Writing manifest to image destination$'
    assert_line_matches '^Storing signatures$'
    # Nothing changed: the stored manifest went as it was.
    assert_equal "$(reg_digest "$NS/bb:1")" "$(reg_digest busybox)" "manifest digest"
    if [ -n "$log" ]; then
        assert_equal "$(uploads_to "$NS/bb" "$log")" "$before" "uploads into $NS/bb"
        grep -qE "\"POST /v2/$NS/bb/blobs/uploads/\?mount=" "$log"
    fi
    podman_setup
    run pod_q pull -q "$REG/$NS/bb:1"
    assert_status 0
    assert_equal "$output" "$PULLED_ID" "podman's image id"
    run pod_q run --rm --network none "$REG/$NS/bb:1" echo pushed-ok
    assert_status 0
    assert_output "pushed-ok"
}

@test "push: a second push skips every blob" {
    pull_busybox
    run_cove push -q "$REG/busybox" "$REG/$NS/bb:1"
    assert_status 0
    assert_output_empty
    run_cove push "$REG/busybox" "$REG/$NS/bb:1"
    assert_status 0
    assert_line_matches '^Copying blob sha256:[0-9a-f]{64} skipped: already exists$'
    assert_no_line_matches '^Copying blob .* done$'
}

@test "push: without a destination, the image goes where its name says; --digestfile" {
    pull_busybox
    run_cove tag "$REG/busybox" "$REG/$NS/named:v1"
    assert_status 0
    run_cove push -q --digestfile "$TEST_TMP/digest" "$REG/$NS/named:v1"
    assert_status 0
    assert_equal "$(cat "$TEST_TMP/digest")" "$(reg_digest "$NS/named:v1")" "digest file"
    assert_equal "$(reg_image_id "$NS/named:v1")" "$PULLED_ID" "image id in the registry"
}

@test "push: --format oci and v2s2 set the manifest's media type" {
    pull_busybox
    run_cove push -q --format v2s2 "$REG/busybox" "$REG/$NS/f:v2s2"
    assert_status 0
    assert_equal "$(media_type "$NS/f:v2s2")" \
        "application/vnd.docker.distribution.manifest.v2+json" "v2s2 type"
    assert_equal "$(reg_manifest "$NS/f:v2s2" | jq -r '.layers[0].mediaType')" \
        "application/vnd.docker.image.rootfs.diff.tar.gzip" "v2s2 layer type"
    assert_equal "$(reg_manifest "$NS/f:v2s2" | jq -r '.config.mediaType')" \
        "application/vnd.docker.container.image.v1+json" "v2s2 config type"
    run_cove push -q --format oci "$REG/busybox" "$REG/$NS/f:oci"
    assert_status 0
    assert_equal "$(media_type "$NS/f:oci")" \
        "application/vnd.oci.image.manifest.v1+json" "oci type"
    # The same image either way.
    assert_equal "$(reg_image_id "$NS/f:v2s2")" "$PULLED_ID"
    assert_equal "$(reg_image_id "$NS/f:oci")" "$PULLED_ID"
    run_cove push --format v2s1 "$REG/busybox" "$REG/$NS/f:v2s1"
    assert_cove_error
}

@test "push: --compression-format zstd remakes the layer; v2s2 with zstd is refused" {
    pull_busybox
    podman_setup
    run_cove push --compression-format zstd "$REG/busybox" "$REG/$NS/z:1"
    assert_status 0
    assert_line_matches '^Copying blob sha256:[0-9a-f]{64} done$'
    assert_equal "$(reg_manifest "$NS/z:1" | jq -r '.layers[0].mediaType')" \
        "application/vnd.oci.image.layer.v1.tar+zstd" "layer type"
    run pod_q run --rm --network none "$REG/$NS/z:1" cat /etc/passwd
    assert_status 0
    assert_output_contains "root:x:0:0"
    run_cove push --format v2s2 --compression-format zstd "$REG/busybox" "$REG/$NS/z:2"
    assert_cove_error
    assert_line_matches '^Error: .*zstd.*'
    run curl -sf -o /dev/null -H "Accept: $MANIFEST_ACCEPT" "http://$REG/v2/$NS/z/manifests/2"
    assert_status_not 0
}

@test "push: a loaded image (no compressed blob kept) is pushed from its layers" {
    pull_busybox
    podman_setup
    run_cove save -o "$TEST_TMP/bb.tar" "$REG/busybox"
    assert_status 0
    run_cove rmi "$REG/busybox"
    assert_status 0
    run_cove load -q -i "$TEST_TMP/bb.tar"
    assert_status 0
    local id
    id=$(cove_out images -q --no-trunc | head -n 1 | sed 's/^sha256://')
    run_cove push "$REG/busybox" "$REG/$NS/loaded:1"
    assert_status 0
    assert_line_matches '^Copying blob sha256:[0-9a-f]{64} done$'
    # cove save wrote the layer with the same writer: same diff_id, same id.
    assert_equal "$(reg_image_id "$NS/loaded:1")" "$id" "image id"
    run pod_q run --rm --network none "$REG/$NS/loaded:1" echo loaded-ok
    assert_status 0
    assert_output "loaded-ok"
}

@test "push: a layer over 32 MiB goes in PATCH chunks and arrives whole" {
    require_busybox_image
    podman_setup
    local rfs="$TEST_TMP/rfs" sum log
    mkdir -p "$rfs"
    head -c $((40 * 1024 * 1024)) /dev/urandom >"$rfs/big"
    sum=$(sha256sum "$rfs/big" | cut -d' ' -f1)
    cp "$BUSYBOX" "$rfs/sha256sum"
    tar -C "$rfs" -cf "$TEST_TMP/rfs.tar" .
    run_cove import "$TEST_TMP/rfs.tar" big
    assert_status 0
    run_cove push "localhost/big" "$REG/$NS/big:1"
    assert_status 0
    log=$(registry_log) || true
    if [ -n "$log" ]; then
        [ "$(grep -cE "\"PATCH /v2/$NS/big/blobs/uploads/" "$log")" -ge 2 ]
    fi
    run pod_q run --rm --network none "$REG/$NS/big:1" /sha256sum /big
    assert_status 0
    assert_output_contains "$sum"
}

@test "push: podman commits and pushes, cove pulls and runs it with the change" {
    pull_busybox
    podman_setup
    run pod run --name "c$NS" --network none "$REG/busybox" sh -c 'echo changed-by-podman >/marker'
    assert_status 0
    run pod commit -q "c$NS" "$REG/$NS/committed:1"
    assert_status 0
    run pod push -q --tls-verify=false "$REG/$NS/committed:1"
    assert_status 0
    pod rm -f "c$NS" >/dev/null 2>&1 || true
    cove_pull_ok "$REG/$NS/committed:1"
    run_cove run --rm "$REG/$NS/committed:1" cat /marker
    assert_status 0
    assert_output "changed-by-podman"
}

@test "push: a cove commit is pushed with its base layers mounted; podman sees the change" {
    pull_busybox
    podman_setup
    run_cove run --name "c$NS" "$REG/busybox" sh -c 'echo changed-by-cove >/marker'
    assert_status 0
    run_cove commit "c$NS" "$REG/$NS/committed:1"
    [ "$status" -eq 0 ] || skip "cove commit is not available: $output"
    local id
    id=$(cove_out images -q --no-trunc "$REG/$NS/committed:1" | sed 's/^sha256://')
    run_cove push "$REG/$NS/committed:1"
    assert_status 0
    # The busybox layer was mounted (the store knows where it came from);
    # the committed layer was uploaded from the blob commit kept.
    local base
    base=$(reg_manifest busybox | jq -r '.layers[0].digest')
    assert_line_matches "^Copying blob $base skipped: already exists$"
    assert_line_matches '^Copying blob sha256:[0-9a-f]{64} done$'
    assert_equal "$(reg_image_id "$NS/committed:1")" "$id" "image id"
    run pod_q run --rm --network none "$REG/$NS/committed:1" cat /marker
    assert_status 0
    assert_output "changed-by-cove"
}

@test "push: to a missing registry fails with 125 and leaves the store as it was" {
    pull_busybox
    local before after
    before=$(cd "$(store_dir)" && find . -path ./tmp -prune -o -print | sort)
    run_cove push "$REG/busybox" "127.0.0.1:1/$NS/x:1"
    assert_cove_error
    assert_line_matches '^Error: .*pinging container registry 127\.0\.0\.1:1'
    after=$(cd "$(store_dir)" && find . -path ./tmp -prune -o -print | sort)
    assert_equal "$after" "$before" "store content"
    run_cove push "$REG/busybox" "$NS-no-registry"
    assert_cove_error
    run_cove push "no-such-image" "$REG/$NS/x:1"
    assert_cove_error
    assert_output_contains "image not known"
}

# ------------------------------------------------------------ credentials

trust_ca() {
    mkdir -p "$HOME/.config/containers/certs.d/$1"
    cp "$COVE_TEST_REGISTRY_CA" "$HOME/.config/containers/certs.d/$1/ca.crt"
}

@test "push: the token registry refuses without credentials, takes them from login" {
    require_token_registry
    pull_busybox
    local tok=$COVE_TEST_REGISTRY_TOKEN
    trust_ca "$tok"
    run_cove push "$REG/busybox" "$tok/$NS/tok:1"
    assert_cove_error
    assert_line_matches '^Error: .*([Uu]nauthori[sz]ed|[Aa]uthenticat|[Dd]enied|401)'
    status=0
    output=$(printf '%s\n' "$COVE_TEST_REGISTRY_PASSWORD" | timeout -k 5 "$COVE_TIMEOUT" \
        "$COVE" login --username "$COVE_TEST_REGISTRY_USER" --password-stdin "$tok" 2>&1) ||
        status=$?
    assert_status 0
    run_cove push "$REG/busybox" "$tok/$NS/tok:1"
    assert_status 0
    # Pushed again to another repository of the token registry: mounted
    # from the first (the token asked for pull on it too), not uploaded.
    run_cove tag "$REG/busybox" "$tok/$NS/tok:1"
    assert_status 0
    run_cove push "$tok/$NS/tok:1" "$tok/$NS/tok2:1"
    assert_status 0
    assert_line_matches '^Copying blob sha256:[0-9a-f]{64} skipped: already exists$'
    assert_no_line_matches '^Copying blob .* done$'
    run_cove untag "$tok/$NS/tok:1"
    # Another registry (it shares the plain one's storage, but cove cannot
    # know): the layer was made again from the tree, so the id is new.
    run_cove rmi -a
    cove_pull_ok "$tok/$NS/tok:1"
    assert_equal "$PULLED_ID" "$(reg_image_id "$NS/tok:1")"
    run_cove run --rm "$tok/$NS/tok:1" echo token-ok
    assert_status 0
    assert_output "token-ok"
}

@test "push: --creds on the htpasswd registry; a wrong password fails" {
    require_tls_registry
    pull_busybox
    local tls=$COVE_TEST_REGISTRY_TLS
    trust_ca "$tls"
    run_cove push --creds "$COVE_TEST_REGISTRY_USER:wrong" "$REG/busybox" "$tls/$NS/b:1"
    assert_cove_error
    run_cove push -q --creds "$COVE_TEST_REGISTRY_USER:$COVE_TEST_REGISTRY_PASSWORD" \
        "$REG/busybox" "$tls/$NS/b:1"
    assert_status 0
    reg_manifest "$NS/b:1" | jq -e '.layers | length == 1'
    # A second push finds every blob there.
    run_cove push --creds "$COVE_TEST_REGISTRY_USER:$COVE_TEST_REGISTRY_PASSWORD" \
        "$REG/busybox" "$tls/$NS/b:1"
    assert_status 0
    assert_no_line_matches '^Copying blob .* done$'
}

# ------------------------------------------------------------ hostile

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_hostile_push() {
    HP=$(free_port)
    HP2=$(free_port)
    HLOG="$TEST_TMP/hostile.log"
    : >"$HLOG"
    python3 "$BATS_TEST_DIRNAME/hostile-push.py" --port "$HP" --port2 "$HP2" \
        --log "$HLOG" >"$TEST_TMP/hostile.out" 2>&1 &
    HOSTILE_PID=$!
    wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$HP/v2/"
    printf '\n[[registry]]\nlocation = "127.0.0.1:%s"\ninsecure = true\n' "$HP" \
        >>"$CONTAINERS_REGISTRIES_CONF"
}

# hostile_push REPO ERE: the push fails with an Error line matching ERE,
# and nothing reached the other port.
hostile_push() {
    run_cove push "$REG/busybox" "127.0.0.1:$HP/$1:1"
    assert_cove_error || return 1
    local line
    line=$(grep '^Error: ' <<<"$output")
    if ! [[ "$line" =~ $2 ]]; then
        echo "the error does not name the problem (/$2/): $line" >&2
        return 1
    fi
    if grep -q "^$HP2 " "$HLOG"; then
        echo "a request reached the other host:" >&2
        cat "$HLOG" >&2
        return 1
    fi
}

@test "push: hostile answers are refused cleanly" {
    pull_busybox
    start_hostile_push
    run_cove push -q "$REG/busybox" "127.0.0.1:$HP/good:1"
    assert_status 0
    hostile_push offhost 'upload location .* is not on http://127\.0\.0\.1'
    hostile_push otherscheme 'upload location'
    hostile_push hugebody 'larger than'
    hostile_push badstatus 'unexpected status 200'
    hostile_push liedigest 'stored sha256:[0-9a-f]{64} as sha256:0{64}'
    hostile_push redirect 'unexpected status 307'
    hostile_push denied 'denied'
}
