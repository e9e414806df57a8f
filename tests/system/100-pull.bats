#!/usr/bin/env bats
# cove pull from a real registry (docker-registry on 127.0.0.1, started by
# tests/run): output contract, ids, digests, manifest lists and platforms,
# Docker schema 2, TLS settings, and a pull killed midway.

load helpers

setup() { image_setup; }

teardown() {
    if [ -n "${PULL_PGID:-}" ]; then
        kill -KILL -- "-$PULL_PGID" 2>/dev/null || true
    fi
    cove_teardown
}

@test "pull prints progress on stderr and the 64-hex image id on stdout" {
    require_busybox_image
    local want
    want=$(reg_image_id busybox)
    [ -n "$want" ]
    run_cove pull "$REG/busybox:latest"
    assert_status 0
    # stdout alone: the id, and nothing else.
    local out
    out=$(cove_out pull "$REG/busybox:latest")
    assert_equal "$out" "$want" "stdout of a second pull"
}

@test "pull's progress names the blobs it copies" {
    require_busybox_image
    local layer
    layer=$(reg_manifest busybox | jq -r '.layers[0].digest')
    run_cove pull "$REG/busybox:latest"
    assert_status 0
    # podman: "Copying blob 2fc8b55fab64 done" (or a bar on a terminal).
    assert_line_matches "^Copying blob (sha256:)?${layer:7:12}"
}

@test "pull -q prints only the image id: the config's digest" {
    require_busybox_image
    cove_pull_ok "$REG/busybox:latest"
    assert_equal "$PULLED_ID" "$(reg_image_id busybox)" "image id"
    assert_equal "${#lines[@]}" 1 "lines printed by pull -q"
}

@test "pull without a tag pulls :latest" {
    require_busybox_image
    cove_pull_ok "$REG/busybox"
    assert_equal "$PULLED_ID" "$(reg_image_id busybox)"
    run_cove images --format '{{.Repository}}:{{.Tag}}'
    assert_status 0
    assert_output "$REG/busybox:latest"
}

@test "pull by digest checks the manifest and keeps the digest" {
    require_busybox_image
    local digest
    digest=$(reg_digest busybox)
    [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]]
    cove_pull_ok "$REG/busybox@$digest"
    assert_equal "$PULLED_ID" "$(reg_image_id busybox)"
    run_cove images --digests --format '{{.Digest}}'
    assert_status 0
    assert_output_contains "$digest"
}

@test "pull by a digest the registry does not have fails (125)" {
    require_busybox_image
    run_cove pull -q "$REG/busybox@sha256:$(printf '0%.0s' {1..64})"
    assert_cove_error
    assert_store_empty
}

@test "pull of a tag the registry does not have fails, naming it" {
    require_busybox_image
    run_cove pull -q "$REG/busybox:no-such-tag"
    assert_cove_error
    assert_output_contains "no-such-tag"
    assert_store_empty
}

@test "pull of a repository the registry does not have fails" {
    require_registry
    run_cove pull -q "$REG/no-such-repository"
    assert_cove_error
    assert_output_contains "no-such-repository"
    assert_store_empty
}

@test "pull from an address where no registry listens fails quickly" {
    run_cove pull -q --tls-verify=false 127.0.0.1:9/busybox
    assert_cove_error
    assert_output_contains "127.0.0.1:9"
    assert_store_empty
}

@test "a second pull of the same image downloads nothing and gives the same id" {
    require_busybox_image
    cove_pull_ok "$REG/busybox:latest"
    local first=$PULLED_ID
    touch "$TEST_TMP/mark"
    sleep 1
    run_cove pull "$REG/busybox:latest"
    assert_status 0
    assert_equal "$(tail -n 1 <<<"$output")" "$first"
    # No new blob or layer: nothing was downloaded or unpacked again.
    run find "$(store_dir)/blobs" "$(store_dir)/layers" -newer "$TEST_TMP/mark" \
        -type f -not -name '*.lock'
    assert_output_empty
}

@test "a Docker schema 2 manifest pulls" {
    require_busybox_image
    run curl -sf -H "Accept: $MANIFEST_ACCEPT" \
        "http://$REG/v2/busybox-v2s2/manifests/latest"
    assert_status 0
    assert_output_contains "application/vnd.docker.distribution.manifest.v2+json"
    cove_pull_ok "$REG/busybox-v2s2:latest"
    assert_equal "$PULLED_ID" "$(reg_image_id busybox-v2s2)"
    run_cove run --rm "$REG/busybox-v2s2:latest" echo v2s2-ran
    assert_status 0
    assert_output v2s2-ran
}

@test "a manifest list pulls the host's platform by default" {
    require_busybox_image
    load_facts "$COVE_TEST_IMAGE_FACTS"
    cove_pull_ok "$REG/multiarch:latest"
    assert_equal "$PULLED_ID" "$(reg_platform_image_id multiarch "$HOST_ARCH")"
    run_cove image inspect --format '{{.Os}}/{{.Architecture}}' "$REG/multiarch"
    assert_status 0
    assert_output "linux/$HOST_ARCH"
    run_cove run --rm "$REG/multiarch"
    assert_status 0
    assert_output "$HOST_ARCH"
}

@test "pull --platform linux/OTHER selects the other entry of the list" {
    require_busybox_image
    load_facts "$COVE_TEST_IMAGE_FACTS"
    cove_pull_ok --platform "linux/$OTHER_ARCH" "$REG/multiarch:latest"
    assert_equal "$PULLED_ID" "$(reg_platform_image_id multiarch "$OTHER_ARCH")"
    run_cove image inspect --format '{{.Architecture}}' "$REG/multiarch"
    assert_status 0
    assert_output "$OTHER_ARCH"
}

@test "pull --arch OTHER is the same as --platform linux/OTHER" {
    require_busybox_image
    load_facts "$COVE_TEST_IMAGE_FACTS"
    cove_pull_ok --arch "$OTHER_ARCH" "$REG/multiarch:latest"
    assert_equal "$PULLED_ID" "$(reg_platform_image_id multiarch "$OTHER_ARCH")"
}

@test "pull --platform of an absent platform fails, naming it" {
    require_busybox_image
    run_cove pull -q --platform linux/s390x "$REG/multiarch:latest"
    assert_cove_error
    assert_output_contains "s390x"
    assert_store_empty
}

@test "pull of a plain-HTTP registry needs --tls-verify=false or insecure" {
    require_busybox_image
    # No registries.conf entry: cove speaks HTTPS to an HTTP server.
    echo 'unqualified-search-registries = []' >"$CONTAINERS_REGISTRIES_CONF"
    run_cove pull -q "$REG/busybox:latest"
    assert_cove_error
    assert_store_empty
    cove_pull_ok --tls-verify=false "$REG/busybox:latest"
    assert_equal "$PULLED_ID" "$(reg_image_id busybox)"
}

@test "a short name resolves through unqualified-search-registries" {
    require_busybox_image
    printf 'unqualified-search-registries = ["%s"]\n\n[[registry]]\nlocation = "%s"\ninsecure = true\n' \
        "$REG" "$REG" >"$CONTAINERS_REGISTRIES_CONF"
    cove_pull_ok busybox
    assert_equal "$PULLED_ID" "$(reg_image_id busybox)"
    run_cove images --format '{{.Repository}}:{{.Tag}}'
    assert_output "$REG/busybox:latest"
}

@test "a blocked registry is refused" {
    require_busybox_image
    printf '[[registry]]\nlocation = "%s"\ninsecure = true\nblocked = true\n' \
        "$REG" >"$CONTAINERS_REGISTRIES_CONF"
    run_cove pull -q "$REG/busybox:latest"
    assert_cove_error
    assert_line_matches '^Error: .*[Bb]locked'
    assert_store_empty
}

@test "a mirror in registries.conf is tried before the location" {
    require_busybox_image
    # The location has nothing listening; the mirror is the test registry.
    printf '[[registry]]\nprefix = "mirrored.example"\nlocation = "127.0.0.1:9"\ninsecure = true\n\n[[registry.mirror]]\nlocation = "%s"\ninsecure = true\n' \
        "$REG" >"$CONTAINERS_REGISTRIES_CONF"
    cove_pull_ok mirrored.example/busybox:latest
    assert_equal "$PULLED_ID" "$(reg_image_id busybox)"
}

@test "pull of an image of several layers: debian12" {
    require_debian12
    cove_pull_ok "$REG/debian12:latest"
    assert_equal "$PULLED_ID" "$(reg_image_id debian12)"
    run_cove image inspect --format '{{len .RootFS.Layers}}' "$REG/debian12"
    assert_status 0
    assert_output 3
}

@test "kill -9 of a pull midway leaves a store that works, and the pull can be redone" {
    require_hostile_registry
    # The hostile registry's `slow` image stalls halfway through its layer
    # for 20 s; `slowcopy` is the same image (same digests) without it.
    setsid "$COVE" pull -q "$HOSTILE/slow:latest" \
        >"$TEST_TMP/pull.out" 2>"$TEST_TMP/pull.err" </dev/null &
    PULL_PGID=$!
    # Bounded: the store exists once the pull has started; the layer is
    # then 2 s into its 20 s stall.
    wait_for 10 test -d "$(store_dir)" || true
    sleep 2
    kill -0 "$PULL_PGID"   # still in the stall
    kill -KILL -- "-$PULL_PGID"
    wait "$PULL_PGID" 2>/dev/null || true
    PULL_PGID=""
    run_cove images
    assert_status 0
    run_cove images -q
    assert_status 0
    assert_output_empty
    cove_pull_ok "$HOSTILE/slowcopy:latest"
    run_cove images --format '{{.Id}}'
    assert_status 0
    assert_output "$PULLED_ID"
}
