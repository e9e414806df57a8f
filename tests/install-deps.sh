#!/bin/bash
# Install everything cove needs to build and to run its whole test suite on
# a fresh Debian 12 machine.  Run as root.  Idempotent: apt-get installs
# only what is missing.  The apt output goes to a log file; its tail is
# shown when a step fails.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "Error: tests/install-deps.sh must run as root (try sudo)" >&2
    exit 1
fi

packages=(
    # build
    meson ninja-build pkg-config gcc clang libclang-rt-14-dev
    libjansson-dev libcurl4-openssl-dev libslirp-dev libglib2.0-dev
    libseccomp-dev libcap-dev libfuse3-dev libarchive-dev zlib1g-dev libssl-dev scdoc
    # run
    fuse3 fuse-overlayfs uidmap
    # tests
    bats libcmocka-dev busybox-static man-db util-linux procps iproute2
    python3 jq curl openssl
    # interoperability tests of later issues
    docker-registry skopeo podman runc mmdebstrap
)

log=${COVE_DEPS_LOG:-/tmp/cove-install-deps.log}
: >"$log"

step() {
    local what=$1
    shift
    echo "install-deps: $what"
    if ! "$@" >>"$log" 2>&1; then
        echo "Error: install-deps: $what failed; last lines of $log:" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
}

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q -o Dpkg::Options::=--force-confdef
          -o Dpkg::Options::=--force-confold)

step "apt-get update" apt-get update -q
# Recommends are skipped: podman's would pull in a whole desktop-ish stack
# and nothing here needs them (slirp4netns/catatonit are not used by cove).
step "apt-get install ${#packages[@]} packages" \
    apt-get install "${apt_opts[@]}" --no-install-recommends "${packages[@]}"

echo "install-deps: done (log in $log)"
