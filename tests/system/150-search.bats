#!/usr/bin/env bats
# cove search against the test registry's catalog.

load helpers

setup() { image_setup; }
teardown() { cove_teardown; }

@test "search REGISTRY/TERM lists the matching repositories of the catalog" {
    require_busybox_image
    run_cove search "$REG/busy"
    assert_status 0
    assert_line_matches '^NAME[[:space:]]+DESCRIPTION$'
    assert_line_matches "^$REG/busybox[[:space:]]*\$"
    assert_no_line_matches "debian12"
}

@test "search --format and --limit" {
    require_busybox_image
    run_cove search --format '{{.Name}}|{{.Index}}' "$REG/b"
    assert_status 0
    assert_line_matches "^$REG/busybox\\|$REG\$"
    run_cove search --limit 1 --format '{{.Name}}' "$REG/"
    assert_status 0
    assert_equal "$(printf '%s\n' "$output" | grep -c .)" 1 "lines with --limit 1"
}

@test "search of a term nothing matches prints only the header" {
    require_registry
    run_cove search "$REG/no-such-repository-here"
    assert_status 0
    assert_output "NAME        DESCRIPTION"
}

@test "search with a bad --limit, and of an unreachable registry, fail with 125" {
    run_cove search --limit 0 "127.0.0.1:1/x"
    assert_cove_error
    run_cove search --tls-verify=false "127.0.0.1:1/x"
    assert_cove_error
}
