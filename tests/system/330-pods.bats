#!/usr/bin/env bats
# Pods: an infra container (cove-init --pause in a root filesystem of the
# pod's own) owns the pod's network (slirp, published ports) and its ipc
# and uts namespaces; members made with run/create --pod join them.  The
# pod commands: create, start, stop, restart, kill, rm, ps, inspect,
# exists, top, logs, prune; ps --pod and --filter pod=; podman's errors.

load helpers

teardown() {
    [ -n "${TEST_TMP:-}" ] && timeout 30 "$COVE" pod rm -af >/dev/null 2>&1
    cove_teardown
}

# A rootfs serving "hello-pod" with busybox httpd.
www_rootfs() {
    local r
    r=$(copy_rootfs)
    mkdir -p "$r/www"
    echo hello-pod >"$r/www/index.html"
    echo "$r"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

listening() {
    ss -ltnH "sport = :$1" | grep -q .
}

fetch() {
    curl -fsS --max-time 5 "http://127.0.0.1:$1/index.html"
}

infra_of() {
    "$COVE" pod inspect --format '{{.InfraContainerID}}' "$1"
}

@test "two containers of a pod talk over 127.0.0.1; another cannot; the host only through the pod's -p" {
    command -v python3 >/dev/null || skip "python3 is not installed"
    rootfs=$(www_rootfs)
    port=$(free_port)
    run_cove pod create --name web -p "127.0.0.1:$port:80"
    assert_status 0
    [[ "$output" =~ ^[0-9a-f]{64}$ ]]
    podid=$output
    # The port is the infra container's: its monitor listens from create.
    run_cove run -d --pod web --name httpd --rootfs "$rootfs" httpd -f -p 80 -h /www
    assert_status 0
    wait_for 10 "$COVE" exec httpd sh -c 'netstat -ltn 2>/dev/null | grep -q :80'
    run_cove run --rm --pod web --rootfs "$rootfs" wget -q -O - http://127.0.0.1:80/index.html
    assert_status 0
    assert_output hello-pod
    # Not a member: its own network namespace, nothing on its port 80.
    run_cove run --rm --rootfs "$rootfs" sh -c 'nc -w 2 127.0.0.1 80 </dev/null'
    assert_status_not 0
    wait_for 10 listening "$port"
    run fetch "$port"
    assert_output hello-pod
    # Only the published port: nothing else of the pod is on the host.
    run_cove inspect --format '{{.HostConfig.NetworkMode}}' httpd
    assert_output "container:$(infra_of web)"
    run_cove pod inspect --format '{{.Id}} {{.InfraConfig.PortBindings}}' web
    assert_output "$podid map[80/tcp:[map[HostIp:127.0.0.1 HostPort:$port]]]"
}

@test "members share the pod's uts, ipc and net namespaces, hostname and /etc/hosts" {
    run_cove pod create --name shared --hostname podhost
    assert_status 0
    run_cove run -d --pod shared --name m1 --rootfs "$ROOTFS" sleep 1000
    assert_status 0
    want=$("$COVE" exec m1 sh -c 'for n in ipc uts net; do readlink /proc/self/ns/$n; done; hostname')
    run_cove run --rm --pod shared --rootfs "$ROOTFS" \
        sh -c 'for n in ipc uts net; do readlink /proc/self/ns/$n; done; hostname'
    assert_status 0
    assert_output "$want"
    [ "${lines[3]}" = podhost ]
    run_cove run --rm --pod shared --rootfs "$ROOTFS" cat /etc/hosts
    assert_line_matches '^10\.0\.2\.100[[:space:]]+podhost$'
    # Outside the pod: other namespaces.
    run_cove run --rm --rootfs "$ROOTFS" readlink /proc/self/ns/ipc
    assert_not_equal "$output" "${want%%$'\n'*}"
    # The default hostname is the pod's name.
    run_cove pod create --name named
    run_cove run --rm --pod named --rootfs "$ROOTFS" hostname
    assert_output named
}

@test "an image member of a pod: its infra container started by run, nothing left after pod rm -f" {
    require_busybox_image
    export CONTAINERS_REGISTRIES_CONF="$TEST_TMP/registries.conf"
    write_registries_conf >"$CONTAINERS_REGISTRIES_CONF"
    COVE_TIMEOUT=120 run_cove pull -q "$COVE_TEST_REGISTRY/busybox:latest"
    assert_status 0
    run_cove pod create --name imgpod
    assert_status 0
    # The infra container is not running: run starts it first.
    run_cove run -d --pod imgpod --name srv "$COVE_TEST_REGISTRY/busybox:latest" \
        sh -c 'while :; do echo hello-image | nc -l -p 8080; done'
    assert_status 0
    wait_for 10 "$COVE" exec srv sh -c 'netstat -ltn 2>/dev/null | grep -q :8080'
    run_cove run --rm --pod imgpod "$COVE_TEST_REGISTRY/busybox:latest" \
        sh -c 'nc 127.0.0.1 8080 </dev/null; hostname'
    assert_status 0
    assert_output "hello-image
imgpod"
    run_cove pod rm -f imgpod
    assert_status 0
    assert_no_containers
    ! pgrep -f "cove-monitor [0-9a-f]{64} $TEST_TMP/" >/dev/null
}

@test "pod ps, inspect, exists: podman's columns and shapes" {
    run_cove pod create --name p1 --label team=blue
    assert_status 0
    podid=$output
    run_cove create --pod p1 --name c1 --rootfs "$ROOTFS" sleep 1000
    assert_status 0
    run_cove pod ps
    assert_status 0
    assert_line_matches '^POD ID +NAME +STATUS +CREATED +INFRA ID +# OF CONTAINERS$'
    assert_line_matches "^${podid:0:12} +p1 +Created +.* ago +[0-9a-f]{12} +2$"
    run_cove pod ps -q --no-trunc
    assert_output "$podid"
    run_cove pod ps --format '{{.Name}} {{.Status}} {{.NumberOfContainers}} {{.Labels}}'
    assert_output "p1 Created 2 map[team:blue]"
    run_cove pod ps --filter name=p1 --filter label=team=blue -q
    assert_output "${podid:0:12}"
    run_cove pod ps --filter status=running -q
    assert_output_empty
    run_cove pod ps --filter bogus=1
    assert_cove_error
    run_cove pod inspect p1
    assert_status 0
    [ "$(jq -r .Id <<<"$output")" = "$podid" ]
    [ "$(jq -r .Name <<<"$output")" = p1 ]
    [ "$(jq -r .State <<<"$output")" = Created ]
    [ "$(jq -r .Hostname <<<"$output")" = p1 ]
    [ "$(jq -r .Labels.team <<<"$output")" = blue ]
    [ "$(jq -r .CreateInfra <<<"$output")" = true ]
    [ "$(jq -r .NumContainers <<<"$output")" = 2 ]
    [ "$(jq -r '.SharedNamespaces | join(",")' <<<"$output")" = net,ipc,uts ]
    [ "$(jq -r '.Containers[1].Name' <<<"$output")" = c1 ]
    [ "$(jq -r '.Containers[0].Name' <<<"$output")" = "${podid:0:12}-infra" ]
    run_cove pod exists p1
    assert_status 0
    assert_output_empty
    run_cove pod exists "${podid:0:8}"
    assert_status 0
    run_cove pod exists nosuch
    assert_status 1
    assert_output_empty
    # The containers say which pod is theirs.
    run_cove ps -a --pod --format '{{.Names}} {{.Pod}} {{.PodName}} {{.IsInfra}}'
    assert_line_matches "^c1 ${podid:0:12} p1 false$"
    assert_line_matches "^${podid:0:12}-infra ${podid:0:12} p1 true$"
    run_cove ps -a --pod
    assert_line_matches '^CONTAINER ID .* NAMES +POD ID +PODNAME$'
    run_cove ps -a --filter pod=p1 --format '{{.Names}}'
    assert_line_matches '^c1$'
    run_cove inspect --format '{{.Pod}}' c1
    assert_output "$podid"
}

@test "pod start, stop, restart, kill: the infra container first up, last down" {
    run_cove pod create --name life
    # --init: a sleep as pid 1 would ignore kill -s TERM.
    run_cove create --pod life --init --name a --rootfs "$ROOTFS" sleep 1000
    run_cove pod start life
    assert_status 0
    podid=$(infra_of life)
    run_cove pod ps --format '{{.Status}}'
    assert_output Running
    run_cove ps --format '{{.Names}} {{.Status}}' --filter name=^a$
    assert_line_matches '^a Up '
    run_cove pod stop -t 1 life
    assert_status 0
    run_cove pod ps --format '{{.Status}}'
    assert_output Exited
    # Starting a member starts the infra container first, and the member
    # joins the new process's namespaces.
    run_cove start a
    assert_status 0
    run_cove pod ps --format '{{.Status}}'
    assert_output Running
    run_cove exec a hostname
    assert_output life
    run_cove pod restart life
    assert_status 0
    run_cove pod ps --format '{{.Status}}'
    assert_output Running
    run_cove exec a hostname
    assert_output life
    run_cove pod kill -s TERM life
    assert_status 0
    wait_for 10 sh -c "[ \"\$('$COVE' pod ps --format '{{.Status}}')\" = Exited ]"
    # Nothing running: nothing to do, no error, as podman.
    run_cove pod kill life
    assert_status 0
    assert_output_empty
    run_cove pod top life
    assert_status 0
    assert_output_empty
    # Stopped with docker's stop: the infra container's cove-init exits 0.
    run_cove pod start life
    run_cove pod stop life
    run_cove ps -a --filter pod=life --filter name=infra --format '{{.Status}}'
    assert_line_matches '^Exited \(0\)'
}

@test "pod top and pod logs" {
    run_cove pod create --name obs
    run_cove run -d --pod obs --name talker --rootfs "$ROOTFS" \
        sh -c 'echo one; echo two; echo three; exec sleep 1000'
    assert_status 0
    wait_for 10 sh -c "'$COVE' logs talker | grep -q three"
    run_cove pod top obs
    assert_status 0
    assert_line_matches '^USER +PID +PPID +%CPU +ELAPSED +TTY +TIME +COMMAND$'
    assert_line_matches '/run/cove-init -- --pause'
    # Users by name, from each container's own /etc/passwd.
    assert_line_matches '^root +[0-9]+ +[0-9]+ .*sleep 1000'
    run_cove pod logs obs
    assert_status 0
    assert_output "one
two
three"
    run_cove pod logs --tail 1 obs
    assert_output three
    run_cove pod logs -c talker obs
    assert_output_contains two
    run_cove pod logs -c nosuch obs
    assert_cove_error
    # -f ends when the container does.
    run_cove run -d --pod obs --name short --rootfs "$ROOTFS" sh -c 'sleep 1; echo bye'
    run_cove pod logs -f -c short obs
    assert_status 0
    assert_output bye
}

@test "pod rm: refused while running without -f; -f leaves no container, record, process, mount or port" {
    command -v python3 >/dev/null || skip "python3 is not installed"
    rootfs=$(www_rootfs)
    port=$(free_port)
    run_cove pod create --name gone -p "127.0.0.1:$port:80"
    podid=$output
    run_cove run -d --pod gone --name srv --rootfs "$rootfs" httpd -f -p 80 -h /www
    assert_status 0
    wait_for 10 listening "$port"
    infra=$(infra_of gone)
    run_cove pod rm gone
    assert_cove_error
    assert_output_contains "cannot remove container"
    assert_output_contains "running or paused containers cannot be removed without force"
    # The infra container goes only with its pod.
    run_cove rm -f "$infra"
    assert_cove_error
    assert_output_contains "is the infra container of pod $podid and cannot be removed without removing the pod"
    run_cove pod rm -f gone
    assert_status 0
    assert_output "$podid"
    assert_no_containers
    [ -z "$(ls -A "$XDG_DATA_HOME/cove/pods" | grep -vxE 'lock|names')" ]
    [ -z "$(ls -A "$XDG_DATA_HOME/cove/pods/names")" ]
    ! pgrep -f "cove-monitor [0-9a-f]{64} $TEST_TMP/" >/dev/null
    ! grep -q "$TEST_TMP" /proc/self/mountinfo
    ! listening "$port"
    run_cove pod exists gone
    assert_status 1
    run_cove pod rm gone
    assert_status 1
    assert_output "Error: no pod with name or ID gone found: no such pod"
    run_cove pod rm -i gone
    assert_status 0
}

@test "--pod new:NAME makes the pod; create --pod joins on start" {
    run_cove run -d --pod new:fresh --name f1 --rootfs "$ROOTFS" sleep 1000
    assert_status 0
    run_cove pod ps --format '{{.Name}} {{.Status}} {{.NumberOfContainers}}'
    assert_output "fresh Running 2"
    run_cove exec f1 hostname
    assert_output fresh
    run_cove create --pod fresh --name f2 --rootfs "$ROOTFS" sleep 1000
    assert_status 0
    run_cove pod ps --format '{{.Status}}'
    assert_output Degraded
    run_cove start f2
    run_cove exec f2 readlink /proc/self/ns/net
    net=$output
    run_cove exec f1 readlink /proc/self/ns/net
    assert_output "$net"
}

@test "errors: unknown pod, --network or -p with --pod, duplicate name, bad options" {
    run_cove run --rm --pod nosuch --rootfs "$ROOTFS" true
    assert_cove_error
    assert_output "Error: no pod with name or ID nosuch found: no such pod"
    run_cove pod create --name dup
    assert_status 0
    run_cove pod create --name dup
    assert_cove_error
    assert_output 'Error: adding pod to state: name "dup" is in use: pod already exists'
    run_cove run --rm --pod dup --network none --rootfs "$ROOTFS" true
    assert_cove_error
    assert_output_contains "networks must be defined when the pod is created"
    run_cove run --rm --pod dup -p 8080:80 --rootfs "$ROOTFS" true
    assert_cove_error
    assert_output_contains "published or exposed ports must be defined when the pod is created"
    run_cove pod create --share pid
    assert_cove_error
    run_cove pod create --name 'bad name'
    assert_cove_error
    assert_output_contains "names must match"
    run_cove pod create --infra=false -p 8080:80
    assert_cove_error
    assert_output "Error: you must have an infra container to publish port bindings to the host"
    run_cove pod start nosuch
    assert_cove_error
    run_cove pod inspect nosuch
    assert_status 125
    assert_output_contains "no such pod nosuch"
    run_cove pod
    assert_cove_error
    # Only the pod dup and its infra container are left.
    run_cove ps -aq
    [ "${#lines[@]}" -eq 1 ]
    run_cove pod ps -q
    [ "${#lines[@]}" -eq 1 ]
}

@test "concurrent pod create --name: exactly one wins" {
    for i in 1 2 3 4; do
        "$COVE" pod create --name race >"$TEST_TMP/out.$i" 2>&1 &
        pids+=($!)
    done
    ok=0
    for i in 1 2 3 4; do
        if timeout 60 tail --pid="${pids[$((i - 1))]}" -f /dev/null && wait "${pids[$((i - 1))]}"; then
            ok=$((ok + 1))
        fi
    done
    [ "$ok" -eq 1 ]
    run_cove pod ps -q
    [ "${#lines[@]}" -eq 1 ]
    run_cove ps -aq
    [ "${#lines[@]}" -eq 1 ]
}

@test "pod prune removes the stopped pods, --infra=false pods have no infra container" {
    run_cove pod create --name stopped
    run_cove pod create --name running
    run_cove run -d --pod running --rootfs "$ROOTFS" sleep 1000
    run_cove pod create --name bare --infra=false
    assert_status 0
    run_cove pod inspect --format '{{.CreateInfra}} {{.NumContainers}}' bare
    assert_output "false 0"
    run_cove pod prune -f
    assert_status 0
    [ "${#lines[@]}" -eq 2 ]
    run_cove pod ps --format '{{.Name}}'
    assert_output running
    run_cove pod prune <<<"n"
    assert_output_contains "Are you sure you want to continue?"
    run_cove pod ps --format '{{.Name}}'
    assert_output running
}

@test "rm -a removes pods with their containers, as podman" {
    run_cove pod create --name idle
    run_cove create --pod idle --name i1 --rootfs "$ROOTFS" true
    run_cove pod create --name busy
    run_cove run -d --pod busy --name b1 --rootfs "$ROOTFS" sleep 1000
    run_cove create --name loner --rootfs "$ROOTFS" true
    # Without -f: the idle pod goes, the running one is refused.
    run_cove rm -a
    assert_status_not 0
    assert_output_contains "$(infra_of busy)"
    run_cove pod ps --format '{{.Name}}'
    assert_output busy
    run_cove rm -af
    assert_status 0
    run_cove pod ps -q
    assert_output_empty
    assert_no_containers
}

@test "system check looks at the pod store: a corrupt pod record, a pod whose infra container is gone" {
    run_cove pod create --name broken
    broken=$output
    printf '{"id": "%s", "na' "$broken" >"$XDG_DATA_HOME/cove/pods/$broken/state.json"
    run_cove pod create --name halfgone
    halfgone=$output
    infra=$(infra_of halfgone)
    # What a `pod rm` killed after removing the infra container leaves.
    rm -rf "$XDG_DATA_HOME/cove/containers/$infra"
    run_cove system check
    assert_status 1
    assert_output_contains "$broken"
    assert_line_matches "^  $halfgone: pod: its infra container $infra is gone$"
    run_cove system check --repair
    assert_status 0
    assert_output_contains "(pod removed)"
    # The infra container of the corrupt pod goes with it.
    assert_output_contains "(infra container removed)"
    run_cove system check
    assert_status 0
    assert_output "No problems found"
    run_cove pod exists halfgone
    assert_status 1
    assert_no_containers
}
