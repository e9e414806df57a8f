#!/usr/bin/env bats
# Registries that need credentials and speak TLS with a self-signed
# certificate (tests/lib/registries.sh): htpasswd (basic) on
# $COVE_TEST_REGISTRY_TLS, bearer tokens from tests/lib/token-server.py on
# $COVE_TEST_REGISTRY_TOKEN.  login/logout, --creds, auth files, certs.d,
# --tls-verify.  Each test has its own HOME (see image_setup).

load helpers

setup() {
    image_setup
    TLS=${COVE_TEST_REGISTRY_TLS:-}
    TOKEN=${COVE_TEST_REGISTRY_TOKEN:-}
    USER_=${COVE_TEST_REGISTRY_USER:-}
    PASS=${COVE_TEST_REGISTRY_PASSWORD:-}
}

teardown() { cove_teardown; }

# trust_ca HOST:PORT: the test CA in ~/.config/containers/certs.d/HOST:PORT/.
trust_ca() {
    mkdir -p "$HOME/.config/containers/certs.d/$1"
    cp "$COVE_TEST_REGISTRY_CA" "$HOME/.config/containers/certs.d/$1/ca.crt"
}

# login_ok HOST:PORT [ARGS...]: cove login with the password on stdin.
login_ok() {
    local host=$1
    shift
    status=0
    output=$(printf '%s\n' "$PASS" | timeout -k 5 "$COVE_TIMEOUT" "$COVE" \
        login --username "$USER_" --password-stdin "$@" "$host" 2>&1) || status=$?
    assert_status 0 || return 1
    assert_line_matches '^Login Succeeded!?$'
}

auth_file() { echo "$XDG_RUNTIME_DIR/containers/auth.json"; }

# ------------------------------------------------------------ TLS

@test "tls: a self-signed registry fails verification without its CA" {
    require_tls_registry
    run_cove pull -q --creds "$USER_:$PASS" "$TLS/busybox:latest"
    assert_cove_error
    assert_output_contains "$TLS"
    assert_line_matches '^Error: .*([Cc]ertificate|x509|TLS|tls|SSL|ssl|[Vv]erif)'
    assert_store_empty
    run_cove pull -q --tls-verify=true --creds "$USER_:$PASS" "$TLS/busybox:latest"
    assert_cove_error
    assert_store_empty
}

@test "tls: the CA in ~/.config/containers/certs.d/HOST:PORT/ca.crt is trusted" {
    require_tls_registry
    trust_ca "$TLS"
    cove_pull_ok --creds "$USER_:$PASS" "$TLS/busybox:latest"
    assert_equal "$PULLED_ID" "$(reg_image_id busybox)"
}

@test "tls: --cert-dir names the CA's folder" {
    require_tls_registry
    mkdir -p "$TEST_TMP/certs"
    cp "$COVE_TEST_REGISTRY_CA" "$TEST_TMP/certs/ca.crt"
    cove_pull_ok --cert-dir "$TEST_TMP/certs" --creds "$USER_:$PASS" "$TLS/busybox:latest"
}

@test "tls: --tls-verify=false skips verification" {
    require_tls_registry
    cove_pull_ok --tls-verify=false --creds "$USER_:$PASS" "$TLS/busybox:latest"
}

@test "tls: a CA of another host's folder does not count" {
    require_tls_registry
    trust_ca "localhost:1"
    run_cove pull -q --creds "$USER_:$PASS" "$TLS/busybox:latest"
    assert_cove_error
    assert_line_matches '^Error: .*([Cc]ertificate|x509|TLS|tls|SSL|ssl|[Vv]erif)'
}

# ------------------------------------------------------------ htpasswd

@test "basic auth: a pull without credentials fails with Error: and 125" {
    require_tls_registry
    trust_ca "$TLS"
    run_cove pull -q "$TLS/busybox:latest"
    assert_cove_error
    assert_line_matches '^Error: .*([Uu]nauthori[sz]ed|[Aa]uthenticat|[Cc]redentials|[Dd]enied|401)'
    assert_store_empty
}

@test "basic auth: a wrong password fails" {
    require_tls_registry
    trust_ca "$TLS"
    run_cove pull -q --creds "$USER_:wrong-$PASS" "$TLS/busybox:latest"
    assert_cove_error
    assert_line_matches '^Error: .*([Uu]nauthori[sz]ed|[Aa]uthenticat|[Cc]redentials|[Pp]assword|[Dd]enied|401)'
    assert_store_empty
}

@test "basic auth: login --password-stdin, then pull; auth.json is 0600" {
    require_tls_registry
    trust_ca "$TLS"
    login_ok "$TLS"
    local f
    f=$(auth_file)
    [ -f "$f" ]
    assert_equal "$(stat -c %a "$f")" 600 "mode of $f"
    run jq -r --arg h "$TLS" '.auths[$h].auth' "$f"
    assert_status 0
    assert_equal "$(base64 -d <<<"$output")" "$USER_:$PASS" "auth entry"
    cove_pull_ok "$TLS/busybox:latest"
    assert_equal "$PULLED_ID" "$(reg_image_id busybox)"
}

@test "basic auth: login with a wrong password fails and writes nothing" {
    require_tls_registry
    trust_ca "$TLS"
    status=0
    output=$(echo wrong | timeout -k 5 "$COVE_TIMEOUT" "$COVE" login \
        --username "$USER_" --password-stdin "$TLS" 2>&1) || status=$?
    assert_cove_error
    assert_line_matches '^Error: .*([Uu]nauthori[sz]ed|[Aa]uthenticat|[Cc]redentials|[Pp]assword|[Dd]enied|401)'
    if [ -f "$(auth_file)" ]; then
        run jq -r --arg h "$TLS" '.auths[$h] // "none"' "$(auth_file)"
        assert_output none
    fi
}

@test "basic auth: logout removes the credentials; pull fails again" {
    require_tls_registry
    trust_ca "$TLS"
    login_ok "$TLS"
    run_cove logout "$TLS"
    assert_status 0
    run_cove pull -q "$TLS/busybox:latest"
    assert_cove_error
    assert_store_empty
}

@test "basic auth: login --authfile and pull --authfile" {
    require_tls_registry
    trust_ca "$TLS"
    login_ok "$TLS" --authfile "$TEST_TMP/my-auth.json"
    [ -f "$TEST_TMP/my-auth.json" ]
    [ ! -f "$(auth_file)" ]
    cove_pull_ok --authfile "$TEST_TMP/my-auth.json" "$TLS/busybox:latest"
}

@test "basic auth: REGISTRY_AUTH_FILE is read" {
    require_tls_registry
    trust_ca "$TLS"
    printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$TLS" \
        "$(printf '%s:%s' "$USER_" "$PASS" | base64 -w0)" >"$TEST_TMP/env-auth.json"
    REGISTRY_AUTH_FILE="$TEST_TMP/env-auth.json" cove_pull_ok "$TLS/busybox:latest"
}

@test "basic auth: docker's ~/.docker/config.json is read" {
    require_tls_registry
    trust_ca "$TLS"
    mkdir -p "$HOME/.docker"
    printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$TLS" \
        "$(printf '%s:%s' "$USER_" "$PASS" | base64 -w0)" >"$HOME/.docker/config.json"
    cove_pull_ok "$TLS/busybox:latest"
}

@test "basic auth: the password never appears in cove's output" {
    require_tls_registry
    trust_ca "$TLS"
    run_cove pull --creds "$USER_:wrong-$PASS" "$TLS/busybox:latest"
    assert_cove_error
    assert_line_matches '^Error: .*([Uu]nauthori[sz]ed|[Aa]uthenticat|[Cc]redentials|[Pp]assword|[Dd]enied|401)'
    assert_output_not_contains "$PASS"
}

# ------------------------------------------------------------ bearer tokens

@test "token auth: pull with --creds follows the Bearer challenge" {
    require_token_registry
    trust_ca "$TOKEN"
    cove_pull_ok --creds "$USER_:$PASS" "$TOKEN/busybox:latest"
    assert_equal "$PULLED_ID" "$(reg_image_id busybox)"
}

@test "token auth: an anonymous token grants nothing: Error: and 125" {
    require_token_registry
    trust_ca "$TOKEN"
    run_cove pull -q "$TOKEN/busybox:latest"
    assert_cove_error
    assert_line_matches '^Error: .*([Uu]nauthori[sz]ed|[Aa]uthenticat|[Cc]redentials|[Dd]enied|401)'
    assert_store_empty
}

@test "token auth: the token server refuses a wrong password" {
    require_token_registry
    trust_ca "$TOKEN"
    run_cove pull -q --creds "$USER_:wrong-$PASS" "$TOKEN/busybox:latest"
    assert_cove_error
    assert_line_matches '^Error: .*([Uu]nauthori[sz]ed|[Aa]uthenticat|[Cc]redentials|[Pp]assword|[Dd]enied|401)'
    assert_store_empty
}

@test "token auth: login then pull, then logout" {
    require_token_registry
    trust_ca "$TOKEN"
    login_ok "$TOKEN"
    cove_pull_ok "$TOKEN/busybox:latest"
    run_cove logout "$TOKEN"
    assert_status 0
    run_cove rmi -a
    run_cove pull -q "$TOKEN/busybox:latest"
    assert_cove_error
}

@test "token auth: an image of several layers (debian12) pulls with tokens" {
    require_token_registry
    require_debian12
    trust_ca "$TOKEN"
    cove_pull_ok --creds "$USER_:$PASS" "$TOKEN/debian12:latest"
    assert_equal "$PULLED_ID" "$(reg_image_id debian12)"
}
