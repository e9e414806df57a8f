#!/usr/bin/env bats
# cove ps and container inspect: podman 4.3's columns, status strings,
# filters, --format (templates, table, json), a corrupt record, a dead
# "running" container, and the inspect document.
#
# Most tests use --rootfs containers (no registry); the last ones need the
# busybox test image (image name, ancestor=, sizes).

load helpers

# three: c1 created (labels a=b, foo=bar; a long command), r1 running
# (label a=c), e1 exited with 3, made in that order.
three() {
    run_cove create --name c1 -l a=b -l foo=bar --rootfs "$ROOTFS" \
        sh -c 'echo hello world this is long'
    assert_status 0 || return 1
    C1=$output
    run_cove run -d --name r1 -l a=c --rootfs "$ROOTFS" sleep 1000
    assert_status 0 || return 1
    R1=$output
    run_cove run --name e1 --rootfs "$ROOTFS" sh -c 'exit 3'
    assert_status 3 || return 1
    E1=$(cove_out container inspect --format '{{.Id}}' e1)
}

# names ARGS...: the NAMES column of `cove ps ARGS`, one line, spaces.
names() {
    cove_out ps --format '{{.Names}}' "$@" | paste -sd ' '
}

@test "ps: podman's columns; running only without -a; every state with -a" {
    three
    run_cove ps
    assert_status 0
    assert_line_matches '^CONTAINER ID  IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$'
    [[ "${lines[0]}" == "CONTAINER ID  "* ]]
    assert_equal "${#lines[@]}" 2 "rows"
    assert_line_matches "^${R1:0:12}  +sleep 1000  +.* ago  +Up .* ago  +r1$"
    run_cove ps -a
    assert_status 0
    assert_equal "${#lines[@]}" 4 "rows"
    assert_line_matches "^${C1:0:12}  +sh -c echo hello \\.\\.\\.  +.* ago  +Created  +c1$"
    assert_line_matches "^${E1:0:12}  +sh -c exit 3  +.* ago  +Exited \\(3\\) .* ago  +e1$"
    # Oldest first, as podman.
    assert_equal "$(names -a)" "c1 r1 e1"
}

@test "ps: -q, --no-trunc, -l, -n, --noheading, --sort" {
    three
    assert_equal "$(cove_out ps -aq | paste -sd ' ')" "${C1:0:12} ${R1:0:12} ${E1:0:12}"
    assert_equal "$(cove_out ps -q --no-trunc)" "$R1"
    assert_equal "$(cove_out ps -a --no-trunc --format '{{.Command}}' --filter name=c1)" \
        "sh -c echo hello world this is long"
    assert_equal "$(names -l)" "e1"
    assert_equal "$(names -n 2)" "r1 e1"
    assert_equal "$(names -n 0)" ""
    assert_equal "$(names -a --sort names)" "c1 e1 r1"
    run_cove ps -a --noheading
    assert_equal "${#lines[@]}" 3
    run_cove ps -q -s
    assert_cove_error
    assert_output_contains "quiet conflicts with size"
    run_cove ps -l -n 2
    assert_cove_error
    run_cove ps --sort bogus
    assert_cove_error
}

@test "ps: --filter status, name, label, id, exited, since; same key OR, keys AND" {
    three
    assert_equal "$(names --filter status=exited)" "e1"
    assert_equal "$(names --filter status=exited --filter status=created)" "c1 e1"
    assert_equal "$(names --filter status=paused)" ""
    assert_equal "$(names -a --filter name=^c)" "c1"
    assert_equal "$(names -a --filter name=c1 --filter name=r1)" "c1 r1"
    assert_equal "$(names -a --filter label=a)" "c1 r1"
    assert_equal "$(names -a --filter label=a=b)" "c1"
    assert_equal "$(names -a --filter label=a --filter name=r)" "r1"
    assert_equal "$(names -a --filter "id=^${R1:0:6}")" "r1"
    assert_equal "$(names -a --filter exited=3)" "e1"
    assert_equal "$(names -a --filter since=c1)" "r1 e1"
    run_cove ps -a --filter bogus=1
    assert_cove_error
    assert_output "Error: bogus is an invalid filter"
    run_cove ps -a --filter status=bogus
    assert_cove_error
    assert_output "Error: unknown container state: bogus: invalid argument"
}

@test "ps: --format templates, table and json in podman's shape" {
    three
    run_cove ps -a --filter name=c1 --format '{{.Names}} {{.State}} {{.Labels}} {{.Exited}} {{.ExitedAt}} {{.Pid}}'
    assert_status 0
    assert_output "c1 Created map[a:b foo:bar] false -62135596800 0"
    run_cove ps --format 'table {{.Names}}\t{{.Status}}'
    assert_status 0
    assert_equal "${lines[0]}" "NAMES       STATUS"
    assert_line_matches "^r1          Up .* ago$"
    cove_out ps -a --format json >"$TEST_TMP/ps.json"
    jq -e 'length == 3' "$TEST_TMP/ps.json"
    jq -e --arg id "$E1" '.[2] | .Id == $id and .Names == ["e1"] and .State == "exited"
        and .ExitCode == 3 and .Exited == true and (.Status | startswith("Exited (3) "))
        and .Command == ["sh", "-c", "exit 3"] and .Ports == null and .Size == null
        and .Mounts == [] and .Pod == "" and .IsInfra == false and (.Created | type) == "number"
        and .Labels == null' "$TEST_TMP/ps.json"
    jq -e '.[1] | .State == "running" and .Pid > 0 and .Labels == {"a": "c"}
        and .ExitedAt == -62135596800' "$TEST_TMP/ps.json"
    jq -e '.[0] | .State == "created" and .StartedAt == -62135596800' "$TEST_TMP/ps.json"
    # No container: an empty array.
    assert_equal "$(cove_out ps --filter name=nothing --format json)" "[]"
    run_cove ps --format '{{.Nope}}'
    assert_cove_error
}

@test "ps: a corrupt record is named on stderr and skipped; the others are listed" {
    three
    printf '{"id": "%s", "na' "$C1" >"$XDG_DATA_HOME/cove/containers/$C1/state.json"
    out=$(timeout 20 "$COVE" ps -a --format '{{.Names}}' 2>"$TEST_TMP/err")
    assert_equal "$out" "$(printf 'r1\ne1')"
    grep -q "^WARN\[0000\] skipping $XDG_DATA_HOME/cove/containers/$C1/state.json: " "$TEST_TMP/err" || {
        cat "$TEST_TMP/err" >&2
        false
    }
    # An empty state.json too.
    : >"$XDG_DATA_HOME/cove/containers/$E1/state.json"
    run_cove ps -a -q
    assert_status 0
    assert_output_contains "$E1/state.json"
    assert_output_contains "${R1:0:12}"
}

@test "ps: a running record whose processes died shows exited, and ps writes nothing" {
    run_cove run -d --name orphan --rootfs "$ROOTFS" sleep 1000
    id=$output
    f=$XDG_DATA_HOME/cove/containers/$id/state.json
    mon=$(pgrep -f "^cove-monitor $id ")
    pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$f")
    kill -KILL "$mon" "$pid"
    wait_for 5 bash -c "! test -d /proc/$pid && ! test -d /proc/$mon"
    before=$(sha256sum "$f")
    run_cove ps -a --format '{{.Names}} {{.Status}} {{.Pid}}'
    assert_status 0
    assert_line_matches "^orphan Exited \\(137\\) .* ago 0$"
    run_cove ps
    assert_output_not_contains orphan
    assert_equal "$(sha256sum "$f")" "$before" "state.json untouched by ps"
}

@test "container inspect: podman's document and --format" {
    mkdir -p "$TEST_TMP/vol"
    run_cove create --name m1 -l k=v -v "$TEST_TMP/vol:/data:ro" --tmpfs /t \
        -w /tmp -t --restart on-failure:3 --rootfs "$ROOTFS" sleep 1000
    assert_status 0
    id=$output
    cove_out container inspect m1 >"$TEST_TMP/i.json"
    jq -e --arg id "$id" 'length == 1 and (.[0] | .Id == $id and .Name == "m1"
        and .State.Status == "created" and .State.Running == false and .State.Pid == 0
        and .State.StartedAt == "0001-01-01T00:00:00Z" and .Path == "sleep" and .Args == ["1000"]
        and .OCIRuntime == "cove" and .Config.Labels == {"k": "v"} and .Config.Tty == true
        and .Config.WorkingDir == "/tmp" and .Config.Cmd == ["sleep", "1000"]
        and .HostConfig.RestartPolicy == {"Name": "on-failure", "MaximumRetryCount": 3}
        and .HostConfig.Tmpfs["/t"] != null and (.Created | test("^[0-9-]+T[0-9:.]+(Z|[+-][0-9:]+)$"))
        and (.Mounts | length) == 1 and .Mounts[0].Type == "bind" and .Mounts[0].Destination == "/data"
        and .Mounts[0].RW == false and (.HostConfig.Binds[0] | startswith("'"$TEST_TMP"'/vol:/data:ro"))
        and .State.OOMKilled == false and (.HostConfig | has("LogConfig")) and (.Config | has("StopTimeout")))' \
        "$TEST_TMP/i.json"
    # 5-space indentation, as podman.
    grep -q '^     {$' "$TEST_TMP/i.json"
    run_cove container inspect --format '{{.State.Status}} {{.Name}} {{.Config.Labels}}' m1
    assert_output "created m1 map[k:v]"
    run_cove container inspect --format '{{json .Mounts}}' m1
    assert_output_contains '"Destination":"/data"'
    run_cove start m1
    assert_status 0
    run_cove container inspect --format '{{.State.Status}} {{.State.Running}} {{gt .State.Pid 0}} {{gt .State.ConmonPid 0}}' m1
    assert_output "running true true true"
    run_cove stop -t 0 m1
    run_cove container inspect -l --format '{{.State.Status}} {{.State.ExitCode}} {{.Name}}'
    assert_output "exited 137 m1"
}

@test "inspect: containers first, then images; --type; unknown names" {
    run_cove create --name c1 --rootfs "$ROOTFS" true
    id=$output
    run_cove inspect --format '{{.Id}}' c1
    assert_status 0
    assert_output "$id"
    run_cove inspect --type container --format '{{.Name}}' "${id:0:12}"
    assert_output c1
    run_cove container inspect nosuch
    assert_status 125
    assert_output_contains "Error: inspecting object: no such container nosuch"
    run_cove inspect nosuch
    assert_status 125
    assert_output_contains 'Error: inspecting object: no such object: "nosuch"'
    # What was found is printed, then the failure.
    out=$(timeout 20 "$COVE" inspect --format '{{.Name}}' c1 nosuch 2>/dev/null) || true
    assert_equal "$out" c1
    run_cove inspect --type bogus c1
    assert_cove_error
    run_cove container inspect
    assert_cove_error
}

@test "ps and inspect of an image's container: IMAGE, ancestor=, --size" {
    image_setup
    require_busybox_image
    cove_pull_ok "$REG/busybox:latest"
    run_cove run -d --name b1 "$REG/busybox" sh -c 'echo 12345678901 >/file; sleep 1000'
    assert_status 0
    run_cove create --name r0 --rootfs "$ROOTFS" true
    assert_equal "$(names -a --filter ancestor=busybox)" "b1"
    assert_equal "$(names -a --filter ancestor="$REG/busybox:latest")" "b1"
    assert_equal "$(names -a --filter ancestor="${PULLED_ID:0:12}")" "b1"
    run_cove ps --format '{{.Image}} {{.ImageID}}'
    assert_output "$REG/busybox:latest ${PULLED_ID:0:12}"
    wait_for 10 bash -c "'$COVE' exec b1 cat /file >/dev/null 2>&1"
    run_cove ps -s --filter name=b1 --format '{{.Size}}'
    assert_status 0
    assert_line_matches '^[0-9.]+[kM]?B \(virtual [0-9.]+[kM]?B\)$'
    run_cove container inspect -s --format '{{.ImageName}} {{.Image}} {{gt .SizeRootFs .SizeRw}}' b1
    assert_output "$REG/busybox:latest $PULLED_ID true"
}
