#!/bin/bash
# The registries of the system tests, all on 127.0.0.1, run as root by
# tests/run around the bats run:
#
#   tests/lib/registries.sh start DIR [IMAGES_ENV]   start, push, write DIR/env
#   tests/lib/registries.sh stop DIR                 stop all, remove DIR
#
#   :5000  docker-registry, plain HTTP, anonymous          COVE_TEST_REGISTRY
#   :5001  docker-registry, TLS (self-signed) + htpasswd   COVE_TEST_REGISTRY_TLS
#   :5002  tests/lib/token-server.py (HTTP)                COVE_TEST_TOKEN_SERVER
#   :5003  docker-registry, TLS + bearer tokens from :5002 COVE_TEST_REGISTRY_TOKEN
#   :5010  tests/lib/hostile-registry.py                   COVE_TEST_HOSTILE_REGISTRY
# (ports: COVE_TEST_PORT_PLAIN, _TLS, _TOKEN_SERVER, _TOKEN, _HOSTILE).
# The three docker-registry instances share one storage directory: an
# image pushed to :5000 is served by all three.
#
# IMAGES_ENV is the output of tests/images/build.sh; its images are pushed
# with skopeo into :5000 as
#   busybox:latest, configured:latest, multiarch:latest (an index, --all),
#   busybox-v2s2:latest (Docker schema 2 manifest), debian12:latest.
# DIR/env gets KEY=VALUE lines for the tests (the registries, the user and
# password, the CA file, the sentinel directory of the hostile registry,
# and the images' facts); every file a test reads is world-readable.
set -euo pipefail

HERE=$(dirname "$(readlink -f "$0")")
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

P_PLAIN=${COVE_TEST_PORT_PLAIN:-5000}
P_TLS=${COVE_TEST_PORT_TLS:-5001}
P_TOKSRV=${COVE_TEST_PORT_TOKEN_SERVER:-5002}
P_TOKEN=${COVE_TEST_PORT_TOKEN:-5003}
P_HOSTILE=${COVE_TEST_PORT_HOSTILE:-5010}
REG_USER=cove-tester
SERVICE=cove-test-registry
ISSUER=cove-test-token-server

log() { echo "registries: $*" >&2; }
die() { echo "Error: registries: $*" >&2; exit 1; }

# spawn NAME CMD...: start CMD in the background, pid in DIR/run/NAME.pid.
spawn() {
    local name=$1
    shift
    "$@" >"$DIR/logs/$name.log" 2>&1 </dev/null &
    echo $! >"$DIR/run/$name.pid"
}

# wait_http NAME URL: up to 20 s for URL to answer any HTTP status.
wait_http() {
    local name=$1 url=$2 i code pid
    pid=$(cat "$DIR/run/$name.pid")
    for ((i = 0; i < 200; i++)); do
        code=$(curl -sk -o /dev/null -m 2 -w '%{http_code}' "$url" || true)
        if [ -n "$code" ] && [ "$code" != 000 ]; then
            log "$name is up ($url: $code)"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$DIR/logs/$name.log" >&2
            die "$name exited before answering"
        fi
        sleep 0.1
    done
    tail -n 20 "$DIR/logs/$name.log" >&2
    die "$name did not answer $url within 20 s"
}

# registry_config PORT AUTH_YAML TLS(0|1): a docker-registry config.
registry_config() {
    local port=$1 auth=$2 tls=$3
    cat <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $DIR/storage
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: cove-test-secret-$port
  headers:
    X-Content-Type-Options: [nosniff]
EOF
    if [ "$tls" = 1 ]; then
        cat <<EOF
  tls:
    certificate: $DIR/certs/server.crt
    key: $DIR/certs/server.key
EOF
    fi
    printf '%s\n' "$auth"
}

make_certs() {
    local c=$DIR/certs
    mkdir -p "$c"
    openssl req -x509 -newkey rsa:2048 -nodes -days 7 -sha256 \
        -keyout "$c/server.key" -out "$c/server.crt" -subj /CN=localhost \
        -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
        -addext basicConstraints=critical,CA:TRUE >/dev/null 2>&1 ||
        die "openssl could not make the TLS certificate"
    cp "$c/server.crt" "$c/ca.crt"
    openssl req -x509 -newkey rsa:2048 -nodes -days 7 -sha256 \
        -keyout "$c/token.key" -out "$c/token.crt" -subj "/CN=$ISSUER" \
        >/dev/null 2>&1 || die "openssl could not make the token certificate"
    chmod 0644 "$c"/*.crt
    chmod 0600 "$c"/*.key
}

make_htpasswd() {
    # docker-registry takes bcrypt only; python's crypt module (libxcrypt)
    # makes $2b$ hashes, which Go's bcrypt accepts.
    local pw=$1 hash
    hash=$("$PY" -W ignore -c '
import crypt, sys
print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))' "$pw" 2>/dev/null) ||
        hash=""
    if [ -z "$hash" ] && command -v htpasswd >/dev/null; then
        htpasswd -nbB "$REG_USER" "$pw" >"$DIR/htpasswd"
        return
    fi
    [ -n "$hash" ] || die "cannot make a bcrypt hash (python3 crypt or htpasswd -B)"
    echo "$REG_USER:$hash" >"$DIR/htpasswd"
}

# skopeo_push SRC NAME [ARGS...]
skopeo_push() {
    local src=$1 name=$2
    shift 2
    log "push $src -> $REG/$name"
    timeout 300 skopeo --insecure-policy copy -q --dest-tls-verify=false "$@" \
        "$src" "docker://$REG/$name" >>"$DIR/logs/push.log" 2>&1 || {
        tail -n 20 "$DIR/logs/push.log" >&2
        die "skopeo could not push $src to $REG/$name"
    }
}

push_images() {
    local images_env=$1 COVE_TEST_OCI_BUSYBOX="" COVE_TEST_OCI_DEBIAN12=""
    # shellcheck disable=SC1090
    source <(grep -E '^COVE_TEST_[A-Z0-9_]+=' "$images_env" | sed 's/=\(.*\)/="\1"/')
    if [ -n "$COVE_TEST_OCI_BUSYBOX" ]; then
        skopeo_push "oci:$COVE_TEST_OCI_BUSYBOX:busybox" busybox:latest
        skopeo_push "oci:$COVE_TEST_OCI_BUSYBOX:configured" configured:latest
        skopeo_push "oci:$COVE_TEST_OCI_BUSYBOX:multiarch" multiarch:latest --all
        skopeo_push "oci:$COVE_TEST_OCI_BUSYBOX:busybox" busybox-v2s2:latest \
            --format v2s2
    fi
    if [ -n "$COVE_TEST_OCI_DEBIAN12" ]; then
        skopeo_push "oci:$COVE_TEST_OCI_DEBIAN12:debian12" debian12:latest
    fi
    grep -E '^COVE_TEST_[A-Z0-9_]+=' "$images_env" >>"$DIR/env.tmp" || true
}

start() {
    command -v docker-registry >/dev/null ||
        die "docker-registry is not installed (tests/install-deps.sh)"
    local port
    for port in "$P_PLAIN" "$P_TLS" "$P_TOKSRV" "$P_TOKEN" "$P_HOSTILE"; do
        # Another run's registry would answer for ours.
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            die "127.0.0.1:$port is in use (another test run?); set COVE_TEST_PORT_* to move"
        fi
    done
    mkdir -p "$DIR"/{run,logs,storage,conf}
    chmod 0755 "$DIR"
    make_certs
    local pw
    pw=cove-pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
    make_htpasswd "$pw"
    printf '%s\n' "$pw" >"$DIR/password"
    chmod 0644 "$DIR/password" "$DIR/htpasswd"
    # The hostile registry's sentinel: like /tmp, anyone may write there,
    # so that an escape by the test user would really land and be seen.
    mkdir -p "$DIR/sentinel"
    chmod 1777 "$DIR/sentinel"

    registry_config "$P_PLAIN" "" 0 >"$DIR/conf/plain.yml"
    registry_config "$P_TLS" "auth:
  htpasswd:
    realm: cove-test
    path: $DIR/htpasswd" 1 >"$DIR/conf/tls.yml"
    registry_config "$P_TOKEN" "auth:
  token:
    realm: http://127.0.0.1:$P_TOKSRV/token
    service: $SERVICE
    issuer: $ISSUER
    rootcertbundle: $DIR/certs/token.crt" 1 >"$DIR/conf/token.yml"

    spawn registry-plain docker-registry serve "$DIR/conf/plain.yml"
    spawn registry-tls docker-registry serve "$DIR/conf/tls.yml"
    spawn token-server "$PY" "$HERE/token-server.py" --port "$P_TOKSRV" \
        --key "$DIR/certs/token.key" --cert "$DIR/certs/token.crt" \
        --issuer "$ISSUER" --service "$SERVICE" --user "$REG_USER" \
        --password-file "$DIR/password"
    spawn registry-token docker-registry serve "$DIR/conf/token.yml"
    spawn hostile "$PY" "$HERE/hostile-registry.py" --port "$P_HOSTILE" \
        --sentinel "$DIR/sentinel" --verbose
    wait_http registry-plain "http://127.0.0.1:$P_PLAIN/v2/"
    wait_http registry-tls "https://127.0.0.1:$P_TLS/v2/"
    wait_http token-server "http://127.0.0.1:$P_TOKSRV/token"
    wait_http registry-token "https://127.0.0.1:$P_TOKEN/v2/"
    wait_http hostile "http://127.0.0.1:$P_HOSTILE/v2/"

    REG=127.0.0.1:$P_PLAIN
    {
        echo "COVE_TEST_REGISTRY=127.0.0.1:$P_PLAIN"
        echo "COVE_TEST_REGISTRY_TLS=127.0.0.1:$P_TLS"
        echo "COVE_TEST_REGISTRY_TOKEN=127.0.0.1:$P_TOKEN"
        echo "COVE_TEST_TOKEN_SERVER=127.0.0.1:$P_TOKSRV"
        echo "COVE_TEST_HOSTILE_REGISTRY=127.0.0.1:$P_HOSTILE"
        echo "COVE_TEST_REGISTRY_USER=$REG_USER"
        echo "COVE_TEST_REGISTRY_PASSWORD=$pw"
        echo "COVE_TEST_REGISTRY_CA=$DIR/certs/ca.crt"
        echo "COVE_TEST_SENTINEL=$DIR/sentinel"
    } >"$DIR/env.tmp"
    if [ -n "${1:-}" ]; then
        push_images "$1"
    fi
    mv "$DIR/env.tmp" "$DIR/env"
    chmod -R a+rX "$DIR/env" "$DIR/certs"/*.crt
    log "ready; environment in $DIR/env"
}

# stop_one NAME: TERM the process of DIR/run/NAME.pid (if it is still the
# one started: its command line names the program), KILL after 5 s.
stop_one() {
    local name=$1 f=$DIR/run/$1.pid pid i
    [ -f "$f" ] || return 0
    pid=$(cat "$f")
    if [[ "$pid" =~ ^[0-9]+$ ]] &&
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
            grep -qE 'docker-registry|token-server|hostile-registry'; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

stop() {
    [ -d "$DIR" ] || return 0
    local name
    for name in hostile registry-token token-server registry-tls registry-plain; do
        stop_one "$name"
    done
    if [ -n "${1:-}" ] && [ -d "$DIR/logs" ]; then
        cp -r "$DIR/logs" "$1/registry-logs" 2>/dev/null || true
    fi
    rm -rf "$DIR"
}

cmd=${1:-}
DIR=${2:-}
[ -n "$cmd" ] && [ -n "$DIR" ] || die "usage: registries.sh start|stop DIR [IMAGES_ENV|LOGDIR]"
case $cmd in
start) start "${3:-}" ;;
stop) stop "${3:-}" ;;
*) die "unknown command $cmd" ;;
esac
