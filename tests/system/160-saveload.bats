#!/usr/bin/env bats
# save, load and import: docker-archive, oci-archive and oci-dir both
# ways, interop with podman and skopeo, rootfs tarballs, and hostile
# archives.

load helpers

setup() {
    image_setup
    require_busybox_image
    cove_pull_ok "$REG/busybox:latest"
    BB_ID=$PULLED_ID
}

teardown() { cove_teardown; }

# save_rmi_load FORMAT TARGET: save busybox, remove it, load it back and
# run it.
save_rmi_load() {
    local fmt=$1 target=$2
    run_cove save --format "$fmt" -o "$target" "$REG/busybox"
    assert_status 0 || return 1
    assert_output_empty || return 1
    run_cove rmi "$REG/busybox"
    assert_status 0 || return 1
    run_cove images -q
    assert_output_empty || return 1
    run_cove load -i "$target"
    assert_status 0 || return 1
    assert_output "Loaded image: $REG/busybox:latest" || return 1
    run_cove run --rm "$REG/busybox" echo ok
    assert_status 0 || return 1
    assert_output "ok"
}

@test "save and load a docker-archive" {
    save_rmi_load docker-archive "$TEST_TMP/d.tar"
    run tar tf "$TEST_TMP/d.tar"
    assert_line_matches '^manifest\.json$'
    assert_line_matches '^[0-9a-f]{64}\.tar$'
}

@test "save and load an oci-archive" {
    save_rmi_load oci-archive "$TEST_TMP/o.tar"
    run tar xOf "$TEST_TMP/o.tar" index.json
    assert_equal "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' <<<"$output")" \
        "$REG/busybox:latest" "ref name"
}

@test "save and load an oci-dir" {
    save_rmi_load oci-dir "$TEST_TMP/odir"
    [ -f "$TEST_TMP/odir/oci-layout" ]
    [ -f "$TEST_TMP/odir/index.json" ]
}

@test "save to stdout, load from stdin, -q is quiet" {
    timeout 60 "$COVE" save "$REG/busybox" >"$TEST_TMP/s.tar"
    run_cove rmi "$REG/busybox"
    assert_status 0
    status=0
    output=$(timeout 60 "$COVE" load -q <"$TEST_TMP/s.tar" 2>&1) || status=$?
    assert_status 0
    assert_output_empty
    run_cove images --format '{{.Repository}}:{{.Tag}}'
    assert_status 0
    assert_output "$REG/busybox:latest"
}

@test "save refuses an unknown format and a missing image" {
    run_cove save --format zip -o "$TEST_TMP/x" "$REG/busybox"
    assert_cove_error
    assert_output_contains "format zip not supported"
    run_cove save -o "$TEST_TMP/x" nosuchimage
    assert_cove_error
    assert_output_contains "nosuchimage"
    [ ! -e "$TEST_TMP/x" ]
}

@test "import a rootfs tarball with --change, run it" {
    make_busybox_rootfs "$TEST_TMP/rfs"
    tar -C "$TEST_TMP/rfs" -czf "$TEST_TMP/rfs.tgz" .
    run_cove import --change 'CMD echo hello from import' -c ENV=FOO=bar \
        -m "my message" "$TEST_TMP/rfs.tgz" imported
    assert_status 0
    assert_line_matches '^[0-9a-f]{64}$'
    run_cove run --rm imported
    assert_status 0
    assert_output "hello from import"
    # shellcheck disable=SC2016 # expanded in the container
    run_cove run --rm imported sh -c 'echo $FOO'
    assert_output "bar"
    run_cove image inspect --format '{{.Config.Cmd}}' localhost/imported:latest
    assert_status 0
    assert_output "[/bin/sh -c echo hello from import]"
}

@test "import from stdin with -q prints only the id; a bad --change fails" {
    make_busybox_rootfs "$TEST_TMP/rfs"
    tar -C "$TEST_TMP/rfs" -cf "$TEST_TMP/rfs.tar" .
    status=0
    output=$(timeout 60 "$COVE" import -q - <"$TEST_TMP/rfs.tar" 2>&1) || status=$?
    assert_status 0
    [[ "$output" =~ ^[0-9a-f]{64}$ ]]
    run_cove import -c 'BOGUS x' "$TEST_TMP/rfs.tar" bad
    assert_cove_error
    assert_output_contains 'unknown instruction BOGUS'
    run_cove images --format '{{.Repository}}'
    assert_output_not_contains "bad"
}

# hostile_docker_archive: a copy of busybox's docker-archive in
# $TEST_TMP/h, to be tampered with; then busybox is removed.
hostile_docker_archive() {
    run_cove save -o "$TEST_TMP/good.tar" "$REG/busybox"
    assert_status 0 || return 1
    mkdir "$TEST_TMP/h"
    tar -C "$TEST_TMP/h" -xf "$TEST_TMP/good.tar"
    run_cove rmi "$REG/busybox"
    assert_status 0
}

@test "load refuses a layer that does not match the config's diff_id" {
    hostile_docker_archive
    local layer
    layer=$(jq -r '.[0].Layers[0]' "$TEST_TMP/h/manifest.json")
    mkdir "$TEST_TMP/other"
    echo evil >"$TEST_TMP/other/evil"
    tar -C "$TEST_TMP/other" -cf "$TEST_TMP/h/$layer" .
    tar -C "$TEST_TMP/h" -cf "$TEST_TMP/bad.tar" .
    run_cove load -i "$TEST_TMP/bad.tar"
    assert_cove_error
    assert_output_contains "$layer"
    run_cove images -q
    assert_status 0
    assert_output_empty
}

@test "load refuses a manifest.json naming a path outside the archive" {
    hostile_docker_archive
    jq -c '.[0].Config = "../../etc/passwd"' "$TEST_TMP/h/manifest.json" \
        >"$TEST_TMP/m.json"
    mv "$TEST_TMP/m.json" "$TEST_TMP/h/manifest.json"
    tar -C "$TEST_TMP/h" -cf "$TEST_TMP/bad.tar" .
    run_cove load -i "$TEST_TMP/bad.tar"
    assert_cove_error
    assert_output_contains "leaves the archive"
    run_cove images -q
    assert_output_empty
}

@test "load refuses something that is not an image archive" {
    echo "not a tar" >"$TEST_TMP/junk"
    run_cove load -i "$TEST_TMP/junk"
    assert_cove_error
    run_cove load -i "$TEST_TMP/nosuchfile"
    assert_cove_error
    assert_output_contains "nosuchfile"
}


@test "podman loads and runs cove's docker-archive and oci-archive" {
    podman_setup
    run_cove save -o "$TEST_TMP/d.tar" "$REG/busybox"
    assert_status 0
    run_cove save --format oci-archive -o "$TEST_TMP/o.tar" "$REG/busybox"
    assert_status 0
    run pod load -i "$TEST_TMP/d.tar"
    assert_status 0
    assert_output_contains "Loaded image: $REG/busybox:latest"
    run pod run --rm --network none "$REG/busybox" echo podman-ok
    assert_status 0
    assert_output "podman-ok"
    run pod rmi -a -f
    run pod load -i "$TEST_TMP/o.tar"
    assert_status 0
    run pod run --rm --network none "$REG/busybox" echo podman-oci-ok
    assert_status 0
    assert_output "podman-oci-ok"
}

@test "cove loads and runs podman's docker-archive" {
    podman_setup
    run pod pull -q --tls-verify=false "$REG/busybox:latest"
    [ "$status" -eq 0 ] || skip "podman pull failed: $output"
    run pod save -o "$TEST_TMP/p.tar" "$REG/busybox:latest"
    assert_status 0
    run_cove rmi "$REG/busybox"
    run_cove load -i "$TEST_TMP/p.tar"
    assert_status 0
    assert_output "Loaded image: $REG/busybox:latest"
    run_cove run --rm "$REG/busybox" echo from-podman
    assert_status 0
    assert_output "from-podman"
}

@test "skopeo copies cove's oci-archive to the registry, cove pulls it back" {
    command -v skopeo >/dev/null || skip "skopeo is not installed"
    run_cove save --format oci-archive -o "$TEST_TMP/o.tar" "$REG/busybox"
    assert_status 0
    run timeout 120 skopeo copy --dest-tls-verify=false \
        "oci-archive:$TEST_TMP/o.tar" "docker://$REG/cove-saved:$BATS_TEST_NUMBER"
    assert_status 0
    cove_pull_ok "$REG/cove-saved:$BATS_TEST_NUMBER"
    run_cove run --rm "$REG/cove-saved:$BATS_TEST_NUMBER" echo via-skopeo
    assert_status 0
    assert_output "via-skopeo"
}

@test "cove loads skopeo's docker-archive and oci-archive of the test image" {
    command -v skopeo >/dev/null || skip "skopeo is not installed"
    run_cove rmi -a -f
    run timeout 120 skopeo copy -q "oci:$COVE_TEST_OCI_BUSYBOX:busybox" \
        "docker-archive:$TEST_TMP/sd.tar:skbox:1"
    assert_status 0
    run timeout 120 skopeo copy -q "oci:$COVE_TEST_OCI_BUSYBOX:busybox" \
        "oci-archive:$TEST_TMP/so.tar:skbox2"
    assert_status 0
    run_cove load -i "$TEST_TMP/sd.tar"
    assert_status 0
    assert_output "Loaded image: docker.io/library/skbox:1"
    run_cove load -i "$TEST_TMP/so.tar"
    assert_status 0
    assert_output "Loaded image: localhost/skbox2:latest"
    # The same config: one image with both names, the id of the registry's.
    run_cove images -q --no-trunc
    assert_output "sha256:$BB_ID"
    run_cove run --rm skbox:1 echo ok
    assert_status 0
    assert_output "ok"
}

@test "save refuses to write to a terminal, load to read from one" {
    command -v script >/dev/null || skip "script(1) is not installed"
    status=0
    output=$(timeout 60 script -qec "$COVE save $REG/busybox" /dev/null 2>&1) || status=$?
    assert_cove_error
    assert_output_contains "refusing to save to terminal"
    status=0
    output=$(timeout 60 script -qec "$COVE load" /dev/null 2>&1) || status=$?
    assert_cove_error
    assert_output_contains "cannot read from terminal"
}

@test "save of several images writes shared layers once; load gives every name" {
    run_cove tag "$REG/busybox" other:2
    assert_status 0
    run_cove save -o "$TEST_TMP/m.tar" "$REG/busybox" localhost/other:2
    assert_status 0
    run tar tf "$TEST_TMP/m.tar"
    assert_equal "$(grep -c '\.tar$' <<<"$output")" 1 "layer files"
    run_cove rmi -a -f
    run_cove load -i "$TEST_TMP/m.tar"
    assert_status 0
    assert_output "Loaded image: $REG/busybox:latest
Loaded image: localhost/other:2"
    run_cove run --rm other:2 echo ok
    assert_output "ok"
}

@test "debian12 survives save and load: setuid bits, whiteouts, opaque dirs" {
    require_debian12
    cove_pull_ok "$REG/debian12"
    local fmt
    for fmt in docker-archive oci-archive; do
        run_cove save --format "$fmt" -o "$TEST_TMP/deb.tar" "$REG/debian12"
        assert_status 0
        run_cove rmi -f "$REG/debian12"
        assert_status 0
        run_cove load -i "$TEST_TMP/deb.tar"
        assert_status 0
        assert_output "Loaded image: $REG/debian12:latest"
        # shellcheck disable=SC2016 # expanded in the container
        run_cove run --rm "$REG/debian12" sh -c \
            'apt-get --version | head -n 1 | cut -d" " -f1
             stat -c "%A" /usr/bin/passwd
             for f in /etc/motd /etc/cove-deleted-by-upper /etc/.wh.motd; do
                 if [ -e "$f" ]; then echo "present: $f"; fi
             done
             ls -A /opt/cove-opaque'
        assert_status 0
        assert_output "apt
-rwsr-xr-x
new"
    done
}
