#!/usr/bin/env bats
# cove build: RUN --mount=type=bind|cache|tmpfs, as BuildKit and podman:
# what the RUN sees, what stays out of its layer and out of the context,
# sources kept inside the context, the cache mounts kept across builds,
# and the types cove does not do refused.
#
# No registry is needed: FROM scratch, then the host's busybox-static
# copied in and installed as /bin/sh & co.

load helpers

setup() {
    image_setup
    build_ctx
}

# bb_file LINES...: a Containerfile FROM scratch with busybox's applets in
# /bin, then LINES.
bb_file() {
    {
        echo 'FROM scratch'
        echo 'COPY busybox /bin/busybox'
        echo 'RUN ["/bin/busybox", "--install", "-s", "/bin"]'
        printf '%s\n' "$@"
    } >"$CTX/Containerfile"
}

# layer_paths IMAGE [N]: the entries of IMAGE's Nth layer from the top
# (default 1: the last step's), as `cove save` writes it.
layer_paths() {
    local d layer
    d=$(mktemp -d "$TEST_TMP/save.XXXXXX")
    timeout 60 "$COVE" save -o "$d/i.tar" "$1" >/dev/null || return 1
    tar -C "$d" -xf "$d/i.tar" manifest.json
    layer=$(jq -r --argjson n "${2:-1}" '.[0].Layers[-$n]' "$d/manifest.json")
    tar -C "$d" -xf "$d/i.tar" "$layer"
    tar -tf "$d/$layer"
}

@test "build mount: a bind of the context is read by RUN, keyed on its content, not in the layer" {
    echo one >"$CTX/data.txt"
    bb_file 'RUN --mount=type=bind,target=/ctx cat /ctx/data.txt > /copied' \
        'RUN --mount=type=bind,source=data.txt,target=/deep/er/data.txt cat /deep/er/data.txt > /copied2'
    run_cove build -t bm "$CTX"
    assert_status 0
    run_cove run --rm bm sh -c 'cat /copied /copied2; ls -d /ctx /deep 2>&1'
    assert_output "one
one
ls: /ctx: No such file or directory
ls: /deep: No such file or directory"
    # Neither the targets nor the directories made to hold them are in
    # the layers; what the RUN wrote is.
    run layer_paths bm 1
    assert_status 0
    assert_output_contains copied2
    assert_output_not_contains deep
    run layer_paths bm 2
    assert_output_contains copied
    assert_output_not_contains ctx
    # Unchanged content: from the cache; changed: the step runs again.
    run_cove build -t bm "$CTX"
    assert_status 0
    [ "$(grep -c '^--> Using cache ' <<<"$output")" = 4 ]
    echo two >"$CTX/data.txt"
    run_cove build -t bm "$CTX"
    assert_status 0
    [ "$(grep -c '^--> Using cache ' <<<"$output")" = 2 ]
    run_cove run --rm bm cat /copied /copied2
    assert_output "two
two"
}

@test "build mount: a bind is read-only; rw writes go neither to the image nor to the context" {
    mkdir "$CTX/sub"
    echo orig >"$CTX/sub/f"
    chmod 0751 "$CTX/sub"
    bb_file 'RUN --mount=type=bind,source=sub,target=/w,rw stat -c %a /w > /seen && echo changed > /w/f && echo new > /w/new && rm /w/f && mkdir /w/d && cat /w/new >> /seen'
    run_cove build -t rw "$CTX"
    assert_status 0
    run_cove run --rm rw sh -c 'cat /seen; ls -d /w 2>&1'
    assert_output "751
new
ls: /w: No such file or directory"
    assert_equal "$(cat "$CTX/sub/f")" orig
    assert_equal "$(ls -A "$CTX/sub")" f
    # A single file bound rw: written, and still the context's.
    bb_file 'RUN --mount=type=bind,source=sub/f,target=/etc/f,rw echo changed > /etc/f && cat /etc/f > /seen'
    run_cove build -t rw2 "$CTX"
    assert_status 0
    run_cove run --rm rw2 cat /seen
    assert_output changed
    assert_equal "$(cat "$CTX/sub/f")" orig
    # Without rw the RUN cannot write into it.
    bb_file 'RUN --mount=type=bind,target=/ctx touch /ctx/x'
    run_cove build -t ro "$CTX"
    assert_status 1
    assert_output_contains "Read-only file system"
    [ ! -e "$CTX/x" ]
    assert_no_containers
}

@test "build mount: a bind's source stays inside the context" {
    echo outside >"$TEST_TMP/outside"
    ln -s "$TEST_TMP/outside" "$CTX/abs-link"
    ln -s ../outside "$CTX/rel-link"
    for src in ../outside abs-link rel-link /../outside; do
        bb_file "RUN --mount=type=bind,source=$src,target=/x cat /x"
        run_cove build -t esc "$CTX"
        assert_cove_error
        assert_output_contains "source \`$src\`"
        assert_output_contains "not in the build context"
        assert_output_not_contains "STEP 5"
    done
    # `..` and symlinks resolve as if the context were `/`: ../x is the
    # context's own x.
    echo inside >"$CTX/outside"
    bb_file 'RUN --mount=type=bind,source=../outside,target=/x cat /x > /got' \
        'RUN --mount=type=bind,source=rel-link,target=/x cat /x > /got2'
    run_cove build -t esc "$CTX"
    assert_status 0
    run_cove run --rm esc cat /got /got2
    assert_output "inside
inside"
    assert_no_containers
}

@test "build mount: a bind from= an earlier stage, read-only or with discarded writes" {
    cat >"$CTX/Containerfile" <<'EOF'
FROM scratch AS base
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN mkdir /d && echo from-base > /d/base-file

FROM base
RUN --mount=type=bind,from=base,source=/d/base-file,target=/bf cat /bf > /got
RUN --mount=type=bind,from=0,source=d,target=/bs,rw cat /bs/base-file >> /got && rm /bs/base-file && echo w > /bs/new
RUN --mount=type=bind,from=base,target=/root-of-base ls /root-of-base/d >> /got
EOF
    run_cove build -t from "$CTX"
    assert_status 0
    run_cove run --rm from sh -c 'cat /got; ls /d; ls -d /bf /bs /root-of-base 2>&1'
    assert_output "from-base
from-base
base-file
base-file
ls: /bf: No such file or directory
ls: /bs: No such file or directory
ls: /root-of-base: No such file or directory"
    # A stage that does not exist is an image: not found, a clear error.
    bb_file 'RUN --mount=type=bind,from=localhost/nosuch,target=/x true'
    run_cove build -t from2 "$CTX"
    assert_cove_error
    assert_output_contains "from=localhost/nosuch"
    assert_no_containers
}

@test "build mount: a cache mount outlives the build, is shared by id, and stays out of images" {
    bb_file 'RUN --mount=type=cache,target=/cache,id=c1,uid=1000,gid=1001,mode=0750 stat -c "%u %g %a" /cache > /perm && echo first > /cache/stamp' \
        'RUN --mount=type=cache,target=/var/cache/t echo t > /var/cache/t/x'
    run_cove build -t c1 "$CTX"
    assert_status 0
    run_cove run --rm c1 sh -c 'cat /perm; ls -d /cache /var 2>&1'
    assert_output "1000 1001 750
ls: /cache: No such file or directory
ls: /var: No such file or directory"
    run layer_paths c1 1
    assert_output_not_contains var
    run layer_paths c1 2
    assert_output_not_contains cache
    # The cache is a directory of the user's store, named by its id (the
    # target when there is none); c1 belongs to uid 1000 of the user
    # namespace.
    local d="$XDG_DATA_HOME/cove/build-cache-mounts"
    run_cove unshare cat "$d/c1/stamp"
    assert_output first
    [ -f "$d/%2Fvar%2Fcache%2Ft/x" ]
    # Another Containerfile, another build without the cache, another
    # target: the same cache by id; uid/gid/mode only apply to a new one.
    bb_file 'RUN --mount=type=cache,target=/elsewhere,id=c1,mode=0700 cat /elsewhere/stamp > /seen && stat -c "%u %a" /elsewhere >> /seen && echo second >> /elsewhere/stamp' \
        'RUN --mount=type=cache,target=/var/cache/t,sharing=locked cat /var/cache/t/x >> /seen'
    run_cove build --no-cache -t c2 "$CTX"
    assert_status 0
    run_cove run --rm c2 sh -c 'cat /seen; ls -d /elsewhere 2>&1'
    assert_output "first
1000 750
t
ls: /elsewhere: No such file or directory"
    run_cove unshare cat "$d/c1/stamp"
    assert_output "first
second"
    # Read-only cache mount.
    bb_file 'RUN --mount=type=cache,target=/c,id=c1,ro touch /c/y'
    run_cove build -t c3 "$CTX"
    assert_status 1
    assert_output_contains "Read-only file system"
}

@test "build mount: sharing=locked runs one RUN at a time on a cache" {
    bb_file 'RUN --mount=type=cache,target=/c,sharing=locked echo start >> /c/log && sleep 2 && echo end >> /c/log'
    timeout 120 "$COVE" build -q --no-cache -t l1 "$CTX" >"$TEST_TMP/b1" 2>&1 &
    local p1=$!
    timeout 120 "$COVE" build -q --no-cache -t l2 "$CTX" >"$TEST_TMP/b2" 2>&1 &
    local p2=$!
    local s1=0 s2=0
    wait "$p1" || s1=$?
    wait "$p2" || s2=$?
    [ "$s1" = 0 ] || { cat "$TEST_TMP/b1"; false; }
    [ "$s2" = 0 ] || { cat "$TEST_TMP/b2"; false; }
    assert_equal "$(cat "$XDG_DATA_HOME/cove/build-cache-mounts/%2Fc/log")" "start
end
start
end"
    # The same locked cache twice in one RUN does not wait for itself.
    bb_file 'RUN --mount=type=cache,target=/c,sharing=locked --mount=type=cache,id=/c,target=/d,sharing=private wc -l < /d/log > /n'
    run_cove build -t l3 "$CTX"
    assert_status 0
    run_cove run --rm l3 cat /n
    assert_output 4
}

@test "build mount: a tmpfs is empty, sized, and not in the layer" {
    echo ctx-file >"$CTX/f"
    bb_file 'RUN --mount=type=tmpfs,target=/tt,size=1m ls -A /tt | wc -l > /n && df -k /tt | tail -n 1 | tr -s " " | cut -d " " -f 2 >> /n && echo x > /tt/y'
    run_cove build -t t "$CTX"
    assert_status 0
    run_cove run --rm t sh -c 'cat /n; ls -d /tt 2>&1'
    assert_output "0
1024
ls: /tt: No such file or directory"
    run layer_paths t 1
    assert_output_not_contains tt
}

@test "build mount: secret, ssh and what cove does not do are refused with exit 125" {
    for m in type=secret,id=foo type=ssh type=cache,target=/c,from=x \
             type=bogus,target=/x type=bind type=bind,target=/; do
        bb_file "RUN --mount=$m true"
        run_cove build -t no "$CTX"
        assert_cove_error
    done
    bb_file 'RUN --mount=type=secret,id=foo cat /run/secrets/foo'
    run_cove build -t no "$CTX"
    assert_cove_error
    assert_output_contains "type=secret mounts are not supported"
    bb_file 'RUN --mount=type=ssh true'
    run_cove build -t no "$CTX"
    assert_output_contains "type=ssh mounts are not supported"
    assert_no_containers
}
