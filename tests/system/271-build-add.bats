#!/usr/bin/env bats
# cove build: ADD of local tar archives (unpacked, recognised by content),
# ADD of http(s) URLs (a server of the test's own on 127.0.0.1), heredoc
# sources of COPY and ADD, and the cache of each.  FROM scratch with the
# host's busybox-static, as 270-build.bats: no registry needed.

load helpers

setup() {
    cove_setup
    build_ctx
    HTTP_PID=
}

teardown() {
    if [ -n "${HTTP_PID:-}" ]; then
        kill "$HTTP_PID" 2>/dev/null || true
        timeout 10 tail --pid="$HTTP_PID" -f /dev/null || true
    fi
    cove_teardown
}

# in_image IMAGE SCRIPT: run SCRIPT with busybox sh in IMAGE.
in_image() {
    run_cove run --rm "$1" /bin/busybox sh -c "export PATH=/bin; busybox $2"
}

# http_serve DIR: serve DIR over http on 127.0.0.1, on a port the kernel
# chooses (so that parallel tests never clash); sets HTTP_PORT, HTTP_PID.
http_serve() {
    command -v python3 >/dev/null || skip "python3 is not installed"
    local pf="$TEST_TMP/http.port"
    python3 - "$1" "$pf" >"$TEST_TMP/http.log" 2>&1 3>&- <<'EOF' &
import functools, http.server, os, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), h)
with open(sys.argv[2] + '.tmp', 'w') as f:
    f.write(str(s.server_address[1]))
os.rename(sys.argv[2] + '.tmp', sys.argv[2])
s.serve_forever()
EOF
    HTTP_PID=$!
    wait_for 10 test -s "$pf" || { cat "$TEST_TMP/http.log" >&2; return 1; }
    HTTP_PORT=$(cat "$pf")
}

@test "build: ADD unpacks local tar archives (gzip, xz, bzip2, zstd, plain), copies other files" {
    mkdir -p "$CTX/tree/d"
    echo hello >"$CTX/tree/a.txt"
    echo deep >"$CTX/tree/d/b.txt"
    ln -s a.txt "$CTX/tree/link"
    tar -C "$CTX/tree" -czf "$CTX/t.tar.gz" .
    tar -C "$CTX/tree" -cJf "$CTX/t.xz" a.txt
    tar -C "$CTX/tree" -cjf "$CTX/t.bz2" a.txt
    tar -C "$CTX/tree" --zstd -cf "$CTX/t.zst" d
    tar -C "$CTX/tree" -cf "$CTX/plain" a.txt
    # Named like archives, but not: copied as they are.
    echo "not a tar" >"$CTX/x.tar"
    echo "not a tar either" | gzip >"$CTX/y.tar.gz"
    bb_file 'ADD t.tar.gz /opt/' 'ADD t.xz /xz' 'ADD t.bz2 t.zst plain /multi/' \
        'ADD x.tar y.tar.gz /copied/' 'COPY t.xz /notunpacked/'
    run_cove build -t addtar "$CTX"
    assert_status 0
    in_image addtar 'cat /opt/a.txt /opt/d/b.txt; readlink /opt/link; cat /xz/a.txt; ls /multi; ls /multi/d; cat /copied/x.tar; zcat /copied/y.tar.gz; ls /notunpacked'
    assert_status 0
    assert_output "hello
deep
a.txt
hello
a.txt
d
b.txt
not a tar
not a tar either
t.xz"
    # The cache: a second build runs nothing; new archive bytes run the
    # steps that ADD it again.
    run_cove build -t addtar "$CTX"
    assert_status 0
    [ "$(grep -c '^--> Using cache ' <<<"$output")" = 6 ]
    echo changed >"$CTX/tree/a.txt"
    tar -C "$CTX/tree" -czf "$CTX/t.tar.gz" .
    run_cove build -t addtar "$CTX"
    assert_status 0
    [ "$(grep -c '^--> Using cache ' <<<"$output")" = 1 ]
    in_image addtar 'cat /opt/a.txt'
    assert_output changed
}

@test "build: ADD of an archive keeps its owners (--chown overrides) and refuses to escape" {
    python3 - "$CTX" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1] + '/owned.tar', 'w') as t:
    i = tarfile.TarInfo('o.txt'); i.size = 4; i.uid = 123; i.gid = 456; i.mode = 0o640
    t.addfile(i, io.BytesIO(b'own\n'))
with tarfile.open(sys.argv[1] + '/evil.tar', 'w') as t:
    i = tarfile.TarInfo('../escape.txt'); i.size = 1
    t.addfile(i, io.BytesIO(b'x'))
EOF
    bb_file 'ADD owned.tar /o/' 'ADD --chown=7:8 owned.tar /c'
    run_cove build -t owned "$CTX"
    assert_status 0
    in_image owned 'stat -c "%u:%g %a" /o/o.txt /c/o.txt; cat /c/o.txt'
    assert_output "123:456 640
7:8 640
own"
    bb_file 'ADD evil.tar /e/'
    run_cove build -t evil "$CTX"
    assert_cove_error
    assert_output_contains 'ADD: unpack `evil.tar`'
    assert_output_contains '../escape.txt'
    run_cove image inspect evil
    assert_status 125
}

@test "build: ADD of a URL: mode 600, Last-Modified as mtime, never unpacked, --checksum" {
    mkdir -p "$TEST_TMP/www"
    echo "remote content" >"$TEST_TMP/www/file.txt"
    touch -d '2020-01-02 03:04:05 UTC' "$TEST_TMP/www/file.txt"
    tar -C "$TEST_TMP/www" -czf "$TEST_TMP/www/remote.tar.gz" file.txt
    http_serve "$TEST_TMP/www"
    local u="http://127.0.0.1:$HTTP_PORT" sum
    sum=$(sha256sum "$TEST_TMP/www/remote.tar.gz" | cut -d' ' -f1)
    bb_file "ADD $u/file.txt /dl/" "ADD $u/file.txt /named.txt" \
        "ADD --checksum=sha256:$sum $u/remote.tar.gz?x=1 /r/" \
        "ADD --chown=5:6 --chmod=644 $u/file.txt /c.txt"
    run_cove build -t addurl "$CTX"
    assert_status 0
    in_image addurl 'stat -c "%n %a %u:%g %Y" /dl/file.txt /named.txt /r/remote.tar.gz /c.txt; cat /named.txt'
    assert_status 0
    local mt
    mt=$(date -d '2020-01-02 03:04:05 UTC' +%s)
    assert_line_matches "^/dl/file.txt 600 0:0 $mt\$"
    assert_line_matches "^/named.txt 600 0:0 $mt\$"
    assert_line_matches '^/r/remote.tar.gz 600 0:0 [0-9]+$'
    assert_line_matches "^/c.txt 644 5:6 $mt\$"
    assert_line_matches '^remote content$'
    # Downloaded again at each build; the same bytes: the cache.
    run_cove build -t addurl "$CTX"
    assert_status 0
    [ "$(grep -c '^--> Using cache ' <<<"$output")" = 5 ]
    echo "new content" >"$TEST_TMP/www/file.txt"
    run_cove build -t addurl "$CTX"
    assert_status 0
    [ "$(grep -c '^--> Using cache ' <<<"$output")" = 1 ]
    in_image addurl 'cat /named.txt'
    assert_output "new content"
}

@test "build: ADD of a URL: a checksum mismatch, a 404, a refused connection fail the build" {
    mkdir -p "$TEST_TMP/www"
    echo "remote content" >"$TEST_TMP/www/file.txt"
    http_serve "$TEST_TMP/www"
    local u="http://127.0.0.1:$HTTP_PORT"
    bb_file "ADD --checksum=sha256:$(printf '0%.0s' {1..64}) $u/file.txt /f"
    run_cove build -t bad "$CTX"
    assert_cove_error
    assert_output_contains "download \`$u/file.txt\`: checksum mismatch: expected sha256:000"
    run_cove image inspect bad
    assert_status 125
    run_cove images --format '{{.Repository}}'
    assert_output_not_contains localhost/bad
    bb_file "ADD $u/missing.txt /f"
    run_cove build -t bad "$CTX"
    assert_cove_error
    assert_output_contains "download \`$u/missing.txt\`: HTTP status 404"
    # A port nothing listens on: the server's own, once stopped.
    kill "$HTTP_PID"
    timeout 10 tail --pid="$HTTP_PID" -f /dev/null
    HTTP_PID=
    run_cove build -t bad "$CTX"
    assert_cove_error
    assert_output_contains "download \`$u/missing.txt\`: Failed to connect"
    bb_file 'ADD ftp://127.0.0.1/x /f'
    run_cove build -t bad "$CTX"
    assert_cove_error
    assert_output_contains "only http and https URLs are supported"
    bb_file "COPY $u/file.txt /f"
    run_cove build -t bad "$CTX"
    assert_cove_error
    assert_output_contains "source can't be a URL for COPY"
    run_cove image inspect bad
    assert_status 125
}

@test "build: COPY and ADD heredocs: files named after them, variables expanded unless quoted; the cache" {
    cat >"$CTX/Containerfile" <<'XEOF'
FROM scratch
COPY busybox /bin/busybox
ARG NAME=world
COPY <<EOF /greet.txt
hello $NAME "quoted" ${NAME:-x}
EOF
COPY <<"EOF" /raw.txt
kept $NAME
EOF
ADD <<one <<two /hd/
first
one
second
two
COPY --chmod=600 <<script.sh /bin/
echo from a heredoc
script.sh
XEOF
    run_cove build -t heredoc "$CTX"
    assert_status 0
    in_image heredoc 'cat /greet.txt /raw.txt /hd/one /hd/two; stat -c "%n %a %u:%g" /greet.txt /hd/one /bin/script.sh; sh /bin/script.sh'
    assert_status 0
    assert_output 'hello world "quoted" world
kept $NAME
first
second
/greet.txt 644 0:0
/hd/one 644 0:0
/bin/script.sh 600 0:0
from a heredoc'
    run_cove build -t heredoc "$CTX"
    assert_status 0
    [ "$(grep -c '^--> Using cache ' <<<"$output")" = 5 ]
    # Another ARG value: the expanded heredoc (and only it) is new.
    run_cove build --build-arg NAME=you -t heredoc "$CTX"
    assert_status 0
    assert_output_contains 'STEP 4/7: COPY <<EOF /greet.txt'
    in_image heredoc 'cat /greet.txt'
    assert_output 'hello you "quoted" you'
}
