#!/usr/bin/env bats
# The local image commands on images pulled from the test registry:
# images (table, -q, --digests, --no-trunc, --format, --filter), tag,
# untag, rmi, image inspect, history, image prune.

load helpers

setup() {
    image_setup
    require_busybox_image
    cove_pull_ok "$REG/busybox:latest"
    BB_ID=$PULLED_ID
}

teardown() { cove_teardown; }

@test "images prints the table REPOSITORY TAG IMAGE ID CREATED SIZE" {
    run_cove images
    assert_status 0
    assert_line_matches '^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$'
    assert_line_matches "^$REG/busybox +latest +${BB_ID:0:12} +.+ +[0-9.]+ (B|kB|MB)$"
    assert_equal "${#lines[@]}" 2 "lines"
}

@test "image ls and image list are images" {
    run_cove image ls --format '{{.ID}}'
    assert_status 0
    assert_output "${BB_ID:0:12}"
    run_cove image list -q
    assert_status 0
    assert_output "${BB_ID:0:12}"
}

@test "images -q prints the 12-hex id; with --no-trunc sha256:64-hex" {
    run_cove images -q
    assert_status 0
    assert_output "${BB_ID:0:12}"
    run_cove images -q --no-trunc
    assert_status 0
    assert_output "sha256:$BB_ID"
}

@test "images --no-trunc shows the full id in the table" {
    run_cove images --no-trunc
    assert_status 0
    assert_line_matches "^$REG/busybox +latest +sha256:$BB_ID "
}

@test "images --digests adds a DIGEST column with the manifest digest" {
    local digest
    digest=$(reg_digest busybox)
    run_cove images --digests
    assert_status 0
    assert_line_matches '^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE$'
    assert_line_matches "^$REG/busybox +latest +$digest +${BB_ID:0:12} "
}

@test "images --format takes Go templates of the fields" {
    run_cove images --format '{{.Repository}}:{{.Tag}}'
    assert_status 0
    assert_output "$REG/busybox:latest"
    run_cove images --format '{{.Id}} {{.Dangling}}'
    assert_status 0
    assert_output "$BB_ID false"
    run_cove images --format 'table {{.Repository}} {{.Tag}}'
    assert_status 0
    assert_line_matches '^REPOSITORY +TAG$'
    assert_line_matches "^$REG/busybox +latest$"
}

@test "images --format json is podman's array with Id, RepoTags, RepoDigests" {
    local digest
    digest=$(reg_digest busybox)
    run_cove images --format json
    assert_status 0
    echo "$output" >"$TEST_TMP/images.json"
    run jq -r '.[0].Id, .[0].RepoTags[0], .[0].RepoDigests[0], (.[0].Size > 0), length' \
        "$TEST_TMP/images.json"
    assert_status 0
    assert_output "$BB_ID
$REG/busybox:latest
$REG/busybox@$digest
true
1"
}

@test "images --filter reference= selects by name" {
    cove_pull_ok "$REG/configured:latest"
    local cf=$PULLED_ID
    run_cove images --format '{{.Repository}}' --filter "reference=$REG/busybox"
    assert_status 0
    assert_output "$REG/busybox"
    run_cove images -q --filter "reference=$REG/configured:latest"
    assert_status 0
    assert_output "${cf:0:12}"
    run_cove images -q "$REG/configured"
    assert_status 0
    assert_output "${cf:0:12}"
    run_cove images -q --filter "reference=$REG/nothing-like-this"
    assert_status 0
    assert_output_empty
}

@test "images --filter dangling=true lists only nameless images" {
    run_cove images -q --filter dangling=true
    assert_status 0
    assert_output_empty
    run_cove untag "$REG/busybox:latest"
    assert_status 0
    run_cove images -q --filter dangling=true
    assert_status 0
    assert_output "${BB_ID:0:12}"
}

@test "tag adds a name; images shows one row per name with the same id" {
    run_cove tag "$REG/busybox:latest" "$REG/busybox:v2"
    assert_status 0
    assert_output_empty
    run_cove tag "$REG/busybox" mybox
    assert_status 0
    run_cove images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
    assert_status 0
    assert_line_matches "^$REG/busybox:latest ${BB_ID:0:12}$"
    assert_line_matches "^$REG/busybox:v2 ${BB_ID:0:12}$"
    # A short name given to tag is in localhost/, as podman does.
    assert_line_matches "^localhost/mybox:latest ${BB_ID:0:12}$"
    assert_equal "${#lines[@]}" 3 "rows"
}

@test "tag by image id and by id prefix" {
    run_cove tag "$BB_ID" localhost/byid:1
    assert_status 0
    run_cove tag "${BB_ID:0:6}" localhost/byprefix:1
    assert_status 0
    run_cove images -q --filter reference=localhost/byid:1
    assert_output "${BB_ID:0:12}"
    run_cove images -q --filter reference=localhost/byprefix:1
    assert_output "${BB_ID:0:12}"
}

@test "tag of an unknown image fails (125)" {
    run_cove tag "$REG/nothing:latest" localhost/x:1
    assert_cove_error
    assert_output_contains "$REG/nothing"
}

@test "untag NAME removes that name only; untag IMAGE removes them all" {
    run_cove tag "$REG/busybox" localhost/one:1 localhost/two:2
    assert_status 0
    run_cove untag "$REG/busybox" localhost/one:1
    assert_status 0
    run_cove images --format '{{.Repository}}:{{.Tag}}'
    assert_output_not_contains "localhost/one:1"
    assert_output_contains "localhost/two:2"
    run_cove untag "$BB_ID"
    assert_status 0
    run_cove images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
    assert_status 0
    assert_output "<none>:<none> ${BB_ID:0:12}"
}

@test "rmi of one of two names untags; rmi of the last removes the image and its layers" {
    run_cove tag "$REG/busybox" localhost/keep:1
    assert_status 0
    run_cove rmi localhost/keep:1
    assert_status 0
    assert_output "Untagged: localhost/keep:1"
    run_cove images -q
    assert_output "${BB_ID:0:12}"
    run_cove rmi "$REG/busybox:latest"
    assert_status 0
    assert_line_matches "^Untagged: $REG/busybox:latest$"
    assert_line_matches "^Deleted: $BB_ID$"
    assert_store_empty
}

@test "rmi by id prefix; image rm is rmi" {
    run_cove image rm "${BB_ID:0:8}"
    assert_status 0
    assert_line_matches "^Deleted: $BB_ID$"
    assert_store_empty
}

@test "rmi of an unknown image exits 1 with an Error: line" {
    run_cove rmi "$REG/nothing:latest"
    assert_status 1
    assert_line_matches '^Error: .*image not known'
    run_cove images -q
    assert_output "${BB_ID:0:12}"
}

@test "rmi of a layer shared by two images keeps it for the other" {
    cove_pull_ok "$REG/configured:latest"
    local cf=$PULLED_ID
    run_cove rmi "$REG/busybox:latest"
    assert_status 0
    run_cove images -q
    assert_output "${cf:0:12}"
    # The shared busybox layer is still there: the configured image runs.
    run_cove run --rm "$REG/configured" 'cat /home/tester/hello.txt; ls /bin/busybox'
    assert_status 0
    assert_output "hello from the configured image
/bin/busybox"
}

@test "rmi -a removes every image" {
    cove_pull_ok "$REG/configured:latest"
    run_cove rmi -a
    assert_status 0
    assert_store_empty
}

@test "image inspect prints podman's JSON: Id, RepoTags, RepoDigests, Config, RootFS, Size" {
    load_facts "$COVE_TEST_IMAGE_FACTS"
    local digest
    digest=$(reg_digest busybox)
    run_cove image inspect "$REG/busybox"
    assert_status 0
    echo "$output" >"$TEST_TMP/inspect.json"
    run jq -r '.[0] | .Id, .RepoTags[0], .RepoDigests[0], .Digest,
                     (.Config.Cmd | join(" ")), .Architecture, .Os,
                     .RootFS.Type, (.RootFS.Layers | length), (.Size > 0),
                     (.Config.Env[] | select(startswith("PATH=")) | "has-path")' \
        "$TEST_TMP/inspect.json"
    assert_status 0
    assert_output "$BB_ID
$REG/busybox:latest
$REG/busybox@$digest
$digest
sh
$HOST_ARCH
linux
layers
1
true
has-path"
}

@test "image inspect --format and inspect of an unknown image" {
    run_cove image inspect --format '{{.Id}} {{index .RepoTags 0}}' "$REG/busybox"
    assert_status 0
    assert_output "$BB_ID $REG/busybox:latest"
    run_cove image inspect "$REG/nothing"
    assert_cove_error
}

@test "image inspect's RootFS.Layers are the config's diff_ids" {
    cove_pull_ok "$REG/configured:latest"
    local want
    want=$(curl -sf "http://$REG/v2/configured/blobs/sha256:$PULLED_ID" |
        jq -r '.rootfs.diff_ids[]')
    [ -n "$want" ]
    run_cove image inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' \
        "$REG/configured"
    assert_status 0
    assert_equal "$(grep . <<<"$output")" "$want" "RootFS.Layers"
}

@test "inspect (no type) finds an image" {
    run_cove inspect --format '{{.Id}}' "$REG/busybox"
    assert_status 0
    assert_output "$BB_ID"
}

@test "history prints one row per history entry, newest first" {
    cove_pull_ok "$REG/configured:latest"
    run_cove history "$REG/configured"
    assert_status 0
    assert_line_matches '^ID +CREATED +CREATED BY +SIZE +COMMENT$'
    # Two layers and one empty config step: three rows after the header.
    assert_equal "${#lines[@]}" 4 "lines"
    assert_line_matches 'cove test config'
    assert_line_matches 'COPY hello.txt /home/tester/'
    run_cove history --format '{{.CreatedBy}}' --no-trunc "$REG/configured"
    assert_status 0
    assert_output "cove test config
COPY hello.txt /home/tester/
COPY busybox-static rootfs /"
}

@test "history -q prints the ids; the top row is the image" {
    run_cove history -q --no-trunc "$REG/busybox"
    assert_status 0
    assert_equal "${lines[0]}" "$BB_ID" "first row"
}

@test "image prune removes dangling images only" {
    cove_pull_ok "$REG/configured:latest"
    local cf=$PULLED_ID
    run_cove untag "$REG/busybox"
    assert_status 0
    run_cove image prune -f
    assert_status 0
    assert_output_contains "$BB_ID"
    run_cove images --format '{{.Id}}'
    assert_output "$cf"
}

@test "tag moving the last name of an image leaves it dangling" {
    cove_pull_ok "$REG/configured:latest"
    local cf=$PULLED_ID
    # localhost/moving:1 first names busybox, then configured.
    run_cove tag "$REG/busybox" localhost/moving:1
    run_cove untag "$REG/busybox" "$REG/busybox:latest"
    run_cove tag "$REG/configured" localhost/moving:1
    assert_status 0
    run_cove images --format '{{.Repository}}:{{.Tag}} {{.Id}}'
    assert_line_matches "^localhost/moving:1 $cf$"
    # configured is built on busybox: without a name busybox is an
    # intermediate image, which podman's `images` shows with -a only.
    assert_output_not_contains "$BB_ID"
    run_cove images -a --format '{{.Repository}}:{{.Tag}} {{.Id}}'
    assert_line_matches "^<none>:<none> $BB_ID$"
}
