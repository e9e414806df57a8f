#!/usr/bin/env bats
# cove build: Containerfiles become images, one image per instruction,
# with a cache that a failed step leaves for the next build; multi-stage
# builds; the seed's Dockerfile (debian12 + apache2 through the NAT).
#
# The busybox builds need no registry: FROM scratch, then the host's
# busybox-static copied in.

load helpers

# The builds through the Debian mirror (apt-get install gcc, apache2) take
# minutes, not the suite's default bound.
BATS_TEST_TIMEOUT=$(( ${BATS_TEST_TIMEOUT:-120} > 900 ? BATS_TEST_TIMEOUT : 900 ))

setup() {
    image_setup
    build_ctx
}

# mirror_or_skip: the Debian mirror of the debian12 image must answer.
mirror_or_skip() {
    require_debian12
    local url=http://deb.debian.org/debian/dists/bookworm/InRelease
    curl -sf --max-time 20 -o /dev/null "$url" ||
        skip "this machine cannot reach its Debian mirror ($url)"
    cove_pull_ok "$REG/debian12:latest"
    export COVE_TIMEOUT=900
}

@test "build: STEP lines, one image per step, then everything from the cache" {
    bb_file 'MAINTAINER me' 'ENV GREETING=hello' \
        'RUN ["/bin/busybox", "sh", "-c", "echo $GREETING > /greeting"]' \
        'CMD ["/bin/busybox", "cat", "/greeting"]'
    run_cove build -t app "$CTX"
    assert_status 0
    assert_line_matches '^STEP 1/6: FROM scratch$'
    assert_line_matches '^STEP 2/6: COPY busybox /bin/busybox$'
    assert_line_matches '^STEP 6/6: CMD \["/bin/busybox", "cat", "/greeting"\]$'
    assert_line_matches '^COMMIT localhost/app:latest$'
    assert_line_matches '^Successfully tagged localhost/app:latest$'
    assert_output_not_contains "Using cache"
    id=$(tail -n 1 <<<"$output")
    [[ "$id" =~ ^[0-9a-f]{64}$ ]]
    run_cove run --rm app
    assert_status 0
    assert_output hello
    # The steps' images are intermediate: `images` shows them with -a only.
    run_cove images --format '{{.Repository}}'
    assert_output localhost/app
    run_cove images -a -q
    [ "$(wc -l <<<"$output")" = 5 ]
    # Layers for COPY and RUN only; a history entry for each step.
    run_cove image inspect --format '{{len .RootFS.Layers}} {{len .History}}' app
    assert_output "2 5"
    run_cove build -t app "$CTX"
    assert_status 0
    [ "$(grep -c '^--> Using cache ' <<<"$output")" = 5 ]
    assert_equal "$(tail -n 1 <<<"$output")" "$id"
    # No build container is left.
    run_cove ps -a -q
    assert_output ""
}

@test "build: a failure at step 4 of 6 keeps steps 1 to 3 for the next build" {
    bb_file 'ENV A=1' 'RUN ["/bin/busybox", "sh", "-c", "exit 7"]' \
        'ENV B=2' 'CMD ["/bin/busybox", "env"]'
    run_cove build -t broken "$CTX"
    assert_status 7
    assert_output_contains 'Error: building at STEP "RUN ["/bin/busybox", "sh", "-c", "exit 7"]": while running runtime: exit status 7'
    assert_output_not_contains "STEP 5/6"
    run_cove image inspect broken
    assert_status 125
    run_cove ps -a -q
    assert_output ""
    bb_file 'ENV A=1' 'RUN ["/bin/busybox", "sh", "-c", "echo fixed > /f"]' \
        'ENV B=2' 'CMD ["/bin/busybox", "cat", "/f"]'
    run_cove build -t broken "$CTX"
    assert_status 0
    # Steps 2 and 3 (COPY, ENV) from the cache; 4 runs.
    [ "$(grep -c '^--> Using cache ' <<<"$output")" = 2 ]
    run_cove run --rm broken
    assert_output fixed
}

@test "build: multi-stage from scratch, ARG before FROM, .dockerignore, --target" {
    mkdir -p "$CTX/sub"
    echo secret >"$CTX/sub/ignored.txt"
    echo keep >"$CTX/sub/keep.txt"
    echo 'sub/ignored.txt' >"$CTX/.dockerignore"
    cat >"$CTX/Containerfile" <<'EOF'
ARG BASE=scratch
FROM $BASE AS builder
COPY busybox /bin/busybox
COPY sub /data/
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox mkdir /out; /bin/busybox ls /data > /out/list"]

FROM scratch
COPY --from=builder /bin/busybox /bin/busybox
COPY --from=0 /out /out
WORKDIR /out
ENTRYPOINT ["/bin/busybox"]
CMD ["cat", "list"]
EOF
    run_cove build -t ms "$CTX"
    assert_status 0
    run_cove run --rm ms
    assert_status 0
    assert_output keep.txt
    run_cove run --rm ms pwd
    assert_output /out
    run_cove build -q --target builder -t stage1 "$CTX"
    assert_status 0
    assert_line_matches '^[0-9a-f]{64}$'
    run_cove run --rm stage1 /bin/busybox cat /out/list
    assert_output keep.txt
}

@test "build: COPY with wildcards, to a directory and to a file; --chown, --chmod; WORKDIR" {
    printf 'a\n' >"$CTX/one.txt"
    printf 'b\n' >"$CTX/two.txt"
    printf 'c\n' >"$CTX/other.md"
    bb_file 'WORKDIR /app' 'COPY *.txt ./texts/' 'COPY o*.md single.md' \
        'COPY --chown=7:8 --chmod=600 one.txt owned' \
        'CMD ["/bin/busybox", "sh", "-c", "/bin/busybox ls texts; /bin/busybox cat single.md; /bin/busybox stat -c \"%u:%g %a\" owned"]'
    run_cove build -t glob "$CTX"
    assert_status 0
    run_cove run --rm glob
    assert_status 0
    assert_output "one.txt
two.txt
c
7:8 600"
    bb_file 'COPY *.nomatch /x/'
    run_cove build -t glob2 "$CTX"
    assert_status 125
    assert_output_contains "no source files were specified"
}

@test "build: --build-arg, --label, -q, --iidfile, --no-cache, a Containerfile on stdin" {
    bb_file 'ARG WHO=nobody' \
        'RUN ["/bin/busybox", "sh", "-c", "echo $WHO > /who"]' \
        'CMD ["/bin/busybox", "cat", "/who"]'
    run_cove build -q --build-arg WHO=tester --label team=a \
        --iidfile "$TEST_TMP/iid" -t args "$CTX"
    assert_status 0
    assert_line_matches '^[0-9a-f]{64}$'
    assert_output_not_contains STEP
    assert_equal "$(cat "$TEST_TMP/iid")" "sha256:$output"
    run_cove run --rm args
    assert_output tester
    run_cove image inspect --format '{{.Config.Labels.team}}' args
    assert_output a
    run_cove build --no-cache -t args "$CTX"
    assert_status 0
    assert_output_not_contains "Using cache"
    run_cove build -t stdin -f - "$CTX" <"$CTX/Containerfile"
    assert_status 0
    run_cove run --rm stdin
    assert_output nobody
}

@test "build: a syntax error names the file and line, and builds nothing" {
    printf 'FROM scratch\nCOPY busybox /bin/busybox\nBOGUS x\n' >"$CTX/Containerfile"
    run_cove images -q -a
    local before=$output
    run_cove build -t bad "$CTX"
    assert_status 125
    assert_output_contains "Containerfile:3"
    assert_output_not_contains "STEP"
    run_cove images -q -a
    assert_output "$before"
    rm "$CTX/Containerfile"
    run_cove build "$CTX"
    assert_status 125
    assert_output_contains "no Containerfile or Dockerfile"
    bb_file 'CMD ["x"]'
    run_cove build --target nosuch "$CTX"
    assert_status 125
    assert_output_contains 'the target "nosuch" was not found'
    run_cove build -t 'Bad:Name:x' "$CTX"
    assert_status 125
}

@test "build: multi-stage: a C program compiled in debian12, copied into scratch, one layer" {
    mirror_or_skip
    cat >"$CTX/hello.c" <<'EOF'
#include <stdio.h>
int main (void) { puts ("hello from a static binary"); return 0; }
EOF
    cat >"$CTX/Containerfile" <<EOF
FROM $REG/debian12 AS build
RUN apt-get update -q && apt-get install -y -q --no-install-recommends gcc libc6-dev
COPY hello.c /src/
RUN gcc -static -O2 -o /src/hello /src/hello.c

FROM scratch
COPY --from=build /src/hello /hello
CMD ["/hello"]
EOF
    run_cove build -t hello "$CTX"
    assert_status 0
    run_cove image inspect --format '{{len .RootFS.Layers}}' hello
    assert_output 1
    run_cove run --rm hello
    assert_status 0
    assert_output "hello from a static binary"
}

@test "build: the seed's Dockerfile: apache2 in debian12, run with -p, answered; rebuilt from the cache" {
    mirror_or_skip
    cat >"$CTX/Dockerfile" <<EOF
FROM $REG/debian12
MAINTAINER Cove Tester <tester@example.com>
RUN apt-get update && apt-get install -y -q apache2
EXPOSE 80
CMD ["apache2ctl", "-D", "FOREGROUND"]
EOF
    rm -f "$CTX/busybox"
    run_cove build -t web "$CTX"
    assert_status 0
    assert_line_matches '^STEP 5/5: CMD \["apache2ctl", "-D", "FOREGROUND"\]$'
    id=$(tail -n 1 <<<"$output")
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    run_cove run -d --name web -p "127.0.0.1:$port:80" web
    assert_status 0
    wait_for 30 curl -sf -o /dev/null "http://127.0.0.1:$port/"
    run curl -sf "http://127.0.0.1:$port/"
    assert_status 0
    assert_output_contains "Apache2 Debian Default Page"
    run_cove rm -f web
    run_cove build -t web "$CTX"
    assert_status 0
    [ "$(grep -c '^--> Using cache ' <<<"$output")" = 4 ]
    assert_equal "$(tail -n 1 <<<"$output")" "$id"
}
