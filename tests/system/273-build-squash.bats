#!/usr/bin/env bats
# cove build --layers=false, --squash, --squash-all (one layer for the
# stage's changes, or for everything), ONBUILD triggers, FROM --platform
# and --platform, --format oci|docker; the shapes compared with podman's.
#
# No registry: the base image is built FROM scratch with the host's
# busybox-static.

# The $VARs and backquotes in single quotes are the container's, the
# Containerfile's and podman's messages', not this shell's.
# shellcheck disable=SC2016
load helpers

setup() {
    image_setup
    build_ctx
    echo hello >"$CTX/f"
    # The base: 2 layers, 2 history entries; /delme for a step to delete.
    cat >"$CTX/Containerfile.base" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && echo base > /basefile && echo del > /delme"]
EOF
    # Two RUNs, a COPY, a deletion of a base file, config steps.
    cat >"$CTX/Containerfile" <<'EOF'
FROM base
ENV A=1
RUN echo one > /one
COPY f /f
RUN rm /delme && echo two > /two
CMD ["cat", "/one"]
EOF
}

# build_base: the base image, tagged "base".
build_base() {
    run_cove build -q -f Containerfile.base -t base "$CTX"
    assert_status 0
}

# shape IMAGE: "LAYERS HISTORY EMPTY_LAYERS" of IMAGE.
shape() {
    local h
    run_cove image inspect --format '{{len .RootFS.Layers}} {{len .History}}' "$1"
    assert_status 0
    h=$("$COVE" image inspect --format '{{json .History}}' "$1")
    echo "$output $(grep -o '"empty_layer":true' <<<"$h" | wc -l)"
}

# check_content IMAGE: the files of every step are there, /delme is not.
check_content() {
    run_cove run --rm "$1" sh -c 'cat /one /f /two /basefile; test -e /delme || echo gone; echo A=$A'
    assert_status 0
    assert_output "$(printf 'one\nhello\ntwo\nbase\ngone\nA=1')"
}

other_arch() {
    case "$(uname -m)" in
        x86_64) echo arm64 ;;
        *) echo amd64 ;;
    esac
}

own_arch() {
    case "$(uname -m)" in
        x86_64) echo amd64 ;;
        aarch64) echo arm64 ;;
        *) uname -m ;;
    esac
}

@test "build --layers=false: the base's layers + one, no cache, no step image left" {
    build_base
    n_before=$("$COVE" images -a -q | wc -l)
    run_cove build --layers=false -t lf "$CTX"
    assert_status 0
    assert_line_matches '^STEP 5/6: RUN rm /delme && echo two > /two$'
    assert_output_not_contains "Using cache"
    # podman prints no "--> ID" per step without layers: only the result.
    [ "$(grep -c '^--> ' <<<"$output")" = 1 ]
    # 2 base layers + 1; the 5 steps' history entries all empty_layer but
    # the last, which holds the layer (podman's shape).
    [ "$(shape lf)" = "3 7 4" ]
    check_content lf
    # Only the result is kept: the steps' images are gone.
    [ "$("$COVE" images -a -q | wc -l)" = $((n_before + 1)) ]
    run_cove build --layers=false -t lf "$CTX"
    assert_status 0
    assert_output_not_contains "Using cache"
    check_content lf
    # Nothing was written to the cache either: a --layers build runs all.
    run_cove build -t cached "$CTX"
    assert_status 0
    assert_output_not_contains "Using cache"
    [ "$(shape cached)" = "5 7 2" ]
    run_cove ps -a -q
    assert_output ""
}

@test "build --squash keeps the base's layers, --squash-all makes one layer" {
    build_base
    run_cove build --squash -t sq "$CTX"
    assert_status 0
    assert_output_not_contains "Using cache"
    [ "$(shape sq)" = "3 7 4" ]
    check_content sq
    # --squash-all: one layer of everything; the base's history goes.
    run_cove build --squash-all -t sa "$CTX"
    assert_status 0
    [ "$(shape sa)" = "1 5 4" ]
    check_content sa
    run_cove run --rm sa
    assert_output one
    # A multi-stage build: each stage one layer, COPY --from still works.
    cat >"$CTX/Containerfile.ms" <<'EOF'
FROM base AS a
RUN echo x > /x && echo y > /y
FROM scratch
COPY --from=a /bin/busybox /bin/busybox
COPY --from=a /x /x
ENV Q=1
EOF
    run_cove build --layers=false -f Containerfile.ms -t ms "$CTX"
    assert_status 0
    [ "$(shape ms)" = "1 3 2" ]
    run_cove run --rm ms /bin/busybox cat /x
    assert_output x
    # podman's rules for the options.
    run_cove build --squash --layers -t x "$CTX"
    assert_cove_error
    assert_output_contains "cannot specify --squash with --layers"
    run_cove build --squash --squash-all -t x "$CTX"
    assert_cove_error
}

@test "build --layers=false: a failed step leaves no image and no container" {
    build_base
    n_before=$("$COVE" images -a -q | wc -l)
    printf 'FROM base\nRUN echo a > /a\nRUN exit 3\n' >"$CTX/Containerfile"
    run_cove build --layers=false -t broken "$CTX"
    assert_status 3
    [ "$("$COVE" images -a -q | wc -l)" = "$n_before" ]
    run_cove ps -a -q
    assert_output ""
}

@test "build --layers=false, --squash, --squash-all: the shapes of podman's" {
    podman_setup
    build_base
    pod build -q -f "$CTX/Containerfile.base" -t base "$CTX" >/dev/null
    local i=0 opt want h
    for opt in --layers=false --squash --squash-all; do
        i=$((i + 1))
        run_cove build "$opt" -t "p$i" "$CTX"
        assert_status 0
        pod build "$opt" -t "p$i" "$CTX" >/dev/null 2>&1
        want=$(pod image inspect --format '{{len .RootFS.Layers}} {{len .History}}' "p$i")
        h=$(pod image inspect --format '{{json .History}}' "p$i")
        want="$want $(grep -o '"empty_layer":true' <<<"$h" | wc -l)"
        assert_equal "$(shape "p$i")" "$want" "$opt"
    done
}

@test "build: ONBUILD triggers run after FROM, in order, and are not inherited" {
    build_base
    cat >"$CTX/Containerfile.a" <<'EOF'
FROM base
ONBUILD RUN echo hi > /onbuild
ONBUILD COPY f /f
EOF
    run_cove build --format docker -f Containerfile.a -t trig "$CTX"
    assert_status 0
    run_cove image inspect --format '{{json .Config.OnBuild}}' trig
    assert_output '["RUN echo hi > /onbuild","COPY f /f"]'
    printf 'FROM trig\nRUN cat /onbuild /f > /both\n' >"$CTX/Containerfile.child"
    run_cove build --format docker -f Containerfile.child -t child "$CTX"
    assert_status 0
    # podman's numbering: the triggers are counted once FROM has run.
    assert_line_matches '^STEP 1/2: FROM trig$'
    assert_line_matches '^STEP 2/4: RUN echo hi > /onbuild$'
    assert_line_matches '^STEP 3/4: COPY f /f$'
    assert_line_matches '^STEP 4/4: RUN cat /onbuild /f > /both$'
    run_cove run --rm child cat /both
    assert_output "$(printf 'hi\nhello')"
    run_cove image inspect --format '{{json .Config}}' child
    assert_status 0
    assert_output_not_contains OnBuild
    # A grandchild runs no trigger.
    printf 'FROM child\nRUN test ! -e /again\n' >"$CTX/Containerfile.gc"
    run_cove build -f Containerfile.gc -t gc "$CTX"
    assert_status 0
    assert_no_line_matches 'STEP .*: RUN echo hi'
    # With the OCI format (the default), the triggers are not kept: podman's
    # warning, and a child runs none.
    run_cove build -f Containerfile.a -t trig-oci "$CTX"
    assert_status 0
    assert_output_contains 'ONBUILD is not supported for OCI image format, RUN echo hi > /onbuild will be ignored. Must use `docker` format'
    run_cove image inspect --format '{{json .Config}}' trig-oci
    assert_output_not_contains OnBuild
}

@test "build: FROM --platform and --platform take this machine's platform only" {
    build_base
    other=$(other_arch)
    own=$(own_arch)
    printf 'FROM --platform=linux/%s base\nRUN true\n' "$other" >"$CTX/Containerfile"
    run_cove build -t x "$CTX"
    assert_cove_error
    assert_output_contains "platform linux/$other is not this machine's (linux/$own)"
    assert_output_contains "cannot emulate other architectures"
    printf 'FROM --platform=linux/%s base\nRUN true\n' "$own" >"$CTX/Containerfile"
    run_cove build -t x "$CTX"
    assert_status 0
    printf 'FROM --platform=$BUILDPLATFORM base AS b\nFROM --platform=$TARGETPLATFORM b\nRUN true\n' >"$CTX/Containerfile"
    run_cove build -t x "$CTX"
    assert_status 0
    run_cove build --platform "linux/$own" -t x "$CTX"
    assert_status 0
    run_cove build --platform "linux/$other" -t x "$CTX"
    assert_cove_error
    assert_output_contains "cannot emulate other architectures"
    run_cove build --platform bogus -t x "$CTX"
    assert_cove_error
}

@test "build --format: docker keeps HEALTHCHECK and SHELL, oci drops them with podman's warnings" {
    build_base
    printf 'FROM base\nHEALTHCHECK --interval=5s CMD true\nSHELL ["/bin/sh", "-c"]\nSTOPSIGNAL SIGINT\n' >"$CTX/Containerfile"
    run_cove build --format docker -t hd "$CTX"
    assert_status 0
    assert_output_not_contains "not supported"
    run_cove image inspect --format '{{json .Config.Healthcheck}} {{json .Config.Shell}}' hd
    assert_output '{"Test":["CMD-SHELL","true"],"Interval":5000000000} ["/bin/sh","-c"]'
    run_cove build -t ho "$CTX"
    assert_status 0
    assert_output_contains 'WARN[0000] HEALTHCHECK is not supported for OCI image format and will be ignored. Must use `docker` format'
    assert_output_contains 'WARN[0000] SHELL is not supported for OCI image format, [/bin/sh -c] will be ignored. Must use `docker` format'
    run_cove image inspect --format '{{json .Config}}' ho
    assert_output '{"StopSignal":"SIGINT"}'
    BUILDAH_FORMAT=docker run_cove build -t henv "$CTX"
    assert_status 0
    assert_output_not_contains "not supported"
    run_cove build --format v2s2 -t x "$CTX"
    assert_cove_error
    assert_output_contains 'unrecognized image type "v2s2"'
}
