#!/bin/bash
# Build the test images of the system tests as OCI image layouts, cached
# under $COVE_TEST_IMAGES_CACHE (default /var/tmp/cove-test-images), one
# directory per image set keyed by a hash of its recipe: a second run finds
# them and takes a second.  Run as root (mmdebstrap in root mode).
#
#   tests/images/build.sh
#
# Prints KEY=VALUE lines on stdout for the caller to export (progress and
# logs go to stderr):
#   COVE_TEST_OCI_BUSYBOX   OCI layout with the tags
#       busybox       one layer from busybox-static (make_busybox_rootfs of
#                     tests/system/helpers.bash), Cmd ["sh"]
#       configured    busybox + a small layer; Entrypoint, Cmd, Env,
#                     WorkingDir, User, Labels, StopSignal set
#       multi-HOST, multi-OTHER   the host's arch (busybox + /arch) and a
#                     tiny other-arch image (only /arch)
#       multiarch     an image index of the two
#   COVE_TEST_OCI_DEBIAN12  OCI layout with the tag debian12 (empty when it
#                     could not be built: mmdebstrap needs Debian's archive)
#   COVE_TEST_DEBIAN12_SKIP  why it is empty
#   COVE_TEST_DEBIAN12_FACTS a file of facts about the debian12 image that
#                     the tests compare against (mtimes, ids)
#
# Only busybox-static, tar, gzip and python3 (standard library) are needed
# offline; the debian12 image needs mmdebstrap and the apt archive.
set -euo pipefail

HERE=$(dirname "$(readlink -f "$0")")
REPO=$(readlink -f "$HERE/../..")
CACHE=${COVE_TEST_IMAGES_CACHE:-/var/tmp/cove-test-images}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
MKOCI=("$PY" "$HERE/mkoci.py")

log() { echo "images: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
    echo "Error: tests/images/build.sh must run as root" >&2
    exit 1
fi

host_arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
case $host_arch in
amd64) other_arch=arm64 other_variant=v8 ;;
*) other_arch=amd64 other_variant= ;;
esac

# recipe_key FILES...: a short hash of the files that make an image set.
recipe_key() { cat "$@" | sha256sum | cut -c1-16; }

# Reproducible tars: fixed owner, order and (for the small images) mtime.
# shellcheck disable=SC2054 # the commas are tar's
TAR_FIXED=(--sort=name --numeric-owner --owner=0 --group=0
           --mtime=@1704067200 --format=pax
           --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime)

# ------------------------------------------------------------ busybox set
build_busybox_set() {
    local out=$1 tmp rootfs
    tmp=$(mktemp -d /var/tmp/cove-img-build.XXXXXX)
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" RETURN
    rootfs=$tmp/rootfs
    # The same rootfs as the system tests' --rootfs ones.
    # shellcheck source=../system/helpers.bash
    (source "$REPO/tests/system/helpers.bash" && make_busybox_rootfs "$rootfs")
    tar -C "$rootfs" "${TAR_FIXED[@]}" -cf - . | gzip -n >"$tmp/busybox.tar.gz"

    # The configured image's own layer: a file owned by the image's user.
    mkdir -p "$tmp/l2/home/tester" "$tmp/l2/etc"
    echo "hello from the configured image" >"$tmp/l2/home/tester/hello.txt"
    echo configured >"$tmp/l2/etc/cove-image"
    # Owned by the image's user (1000:1000), the rest by root.
    chown -R 0:0 "$tmp/l2"
    chown -R 1000:1000 "$tmp/l2/home/tester"
    tar -C "$tmp/l2" --sort=name --numeric-owner --mtime=@1704067200 \
        --format=pax -cf - etc home | gzip -n >"$tmp/configured.tar.gz"

    mkdir -p "$tmp/a1" "$tmp/a2"
    echo "$host_arch" >"$tmp/a1/arch"
    echo "$other_arch" >"$tmp/a2/arch"
    tar -C "$tmp/a1" "${TAR_FIXED[@]}" -cf - arch | gzip -n >"$tmp/arch-host.tar.gz"
    tar -C "$tmp/a2" "${TAR_FIXED[@]}" -cf - arch | gzip -n >"$tmp/arch-other.tar.gz"

    local path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    rm -rf "$out.tmp"
    mkdir -p "$out.tmp"
    "${MKOCI[@]}" image "$out.tmp/oci" --tag busybox --arch "$host_arch" \
        --config "{\"Cmd\": [\"sh\"], \"Env\": [\"PATH=$path\"]}" \
        --layer "$tmp/busybox.tar.gz=COPY busybox-static rootfs /" >/dev/null
    "${MKOCI[@]}" image "$out.tmp/oci" --tag configured --arch "$host_arch" \
        --config '{
            "Entrypoint": ["/bin/sh", "-c"],
            "Cmd": ["echo \"cmd-ran in $(pwd) as $(id -u):$(id -g) with $GREETING\""],
            "Env": ["PATH=/usr/bin:/bin", "GREETING=hello-from-config"],
            "WorkingDir": "/home/tester",
            "User": "1000:1000",
            "StopSignal": "SIGINT",
            "Labels": {"org.cove.test": "configured"}
        }' \
        --layer "$tmp/busybox.tar.gz=COPY busybox-static rootfs /" \
        --layer "$tmp/configured.tar.gz=COPY hello.txt /home/tester/" >/dev/null
    "${MKOCI[@]}" image "$out.tmp/oci" --tag "multi-$host_arch" --arch "$host_arch" \
        --config "{\"Cmd\": [\"cat\", \"/arch\"], \"Env\": [\"PATH=$path\"]}" \
        --layer "$tmp/busybox.tar.gz" --layer "$tmp/arch-host.tar.gz" >/dev/null
    "${MKOCI[@]}" image "$out.tmp/oci" --tag "multi-$other_arch" \
        --arch "$other_arch" --variant "$other_variant" \
        --config '{"Cmd": ["/arch"]}' --layer "$tmp/arch-other.tar.gz" >/dev/null
    "${MKOCI[@]}" index "$out.tmp/oci" --tag multiarch \
        --from "multi-$host_arch" --from "multi-$other_arch" >/dev/null
    {
        echo "HOST_ARCH=$host_arch"
        echo "OTHER_ARCH=$other_arch"
    } >"$out.tmp/facts.env"
    mv "$out.tmp" "$out"
}

# ------------------------------------------------------------ debian12
# Layers, on purpose several and each with a feature to get right:
#   1. the minbase tree without /usr/bin's contents (symlinks such as
#      /bin -> usr/bin, files owned by group shadow, a file and a directory
#      that layer 3 removes);
#   2. /usr/bin: setuid binaries (passwd, su, mount), the hard links
#      perl/perl5.36.0 and cove-link1/cove-link2, absolute symlinks
#      (awk -> /etc/alternatives/awk);
#   3. whiteouts: /etc/motd and /etc/cove-deleted-by-upper deleted
#      (.wh.NAME), /opt/cove-opaque made opaque (.wh..wh..opq) with one new
#      file, and a new file /etc/cove-layer3.
build_debian12() {
    local out=$1 tmp rootfs
    tmp=$(mktemp -d /var/tmp/cove-img-build.XXXXXX)
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" RETURN
    rootfs=$tmp/rootfs
    log "mmdebstrap --variant=minbase bookworm (a minute or two)"
    if ! timeout 900 mmdebstrap --variant=minbase bookworm "$rootfs" \
            >"$tmp/mmdebstrap.log" 2>&1; then
        tail -n 20 "$tmp/mmdebstrap.log" >&2
        return 1
    fi
    echo "deleted by layer 3" >"$rootfs/etc/cove-deleted-by-upper"
    mkdir -p "$rootfs/opt/cove-opaque/sub"
    echo old1 >"$rootfs/opt/cove-opaque/old1"
    echo old2 >"$rootfs/opt/cove-opaque/sub/old2"
    echo "a file with two names" >"$rootfs/usr/bin/cove-link1"
    ln "$rootfs/usr/bin/cove-link1" "$rootfs/usr/bin/cove-link2"
    [ -e "$rootfs/etc/motd" ] || echo motd >"$rootfs/etc/motd"

    local -a entries
    mapfile -t entries < <(cd "$rootfs" && ls -A)
    local tar_real=(--numeric-owner --xattrs --xattrs-include='user.*'
                    --xattrs-include='security.capability' --format=pax
                    --sort=name)
    log "debian12: layer 1 (the tree without /usr/bin/*)"
    tar -C "$rootfs" "${tar_real[@]}" --anchored --exclude='usr/bin/*' \
        -cf - "${entries[@]}" | gzip -n >"$tmp/layer1.tar.gz"
    log "debian12: layer 2 (/usr/bin)"
    tar -C "$rootfs" "${tar_real[@]}" -cf - usr/bin | gzip -n >"$tmp/layer2.tar.gz"

    local l3=$tmp/l3
    mkdir -p "$l3/etc" "$l3/opt/cove-opaque"
    : >"$l3/etc/.wh.cove-deleted-by-upper"
    : >"$l3/etc/.wh.motd"
    : >"$l3/opt/cove-opaque/.wh..wh..opq"
    echo new >"$l3/opt/cove-opaque/new"
    echo "added by layer 3" >"$l3/etc/cove-layer3"
    chmod 0755 "$l3/etc" "$l3/opt" "$l3/opt/cove-opaque"
    log "debian12: layer 3 (whiteouts)"
    tar -C "$l3" "${TAR_FIXED[@]}" -cf - etc opt | gzip -n >"$tmp/layer3.tar.gz"

    rm -rf "$out.tmp"
    mkdir -p "$out.tmp"
    "${MKOCI[@]}" image "$out.tmp/oci" --tag debian12 --arch "$host_arch" \
        --config '{
            "Cmd": ["bash"],
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "LANG=C.UTF-8", "COVE_TEST_IMAGE=debian12"],
            "WorkingDir": "/root"
        }' \
        --layer "$tmp/layer1.tar.gz=mmdebstrap --variant=minbase bookworm (without /usr/bin/*)" \
        --layer "$tmp/layer2.tar.gz=COPY /usr/bin /usr/bin" \
        --layer "$tmp/layer3.tar.gz=RUN rm /etc/motd /etc/cove-deleted-by-upper; opaque /opt/cove-opaque" \
        >/dev/null
    {
        echo "DEBIAN12_PERL_MTIME=$(stat -c %Y "$rootfs/usr/bin/perl")"
        echo "DEBIAN12_SHADOW_GID=$(stat -c %g "$rootfs/etc/shadow")"
        echo "DEBIAN12_PASSWD_MODE=$(stat -c %A "$rootfs/usr/bin/passwd")"
        echo "DEBIAN12_LAYERS=3"
    } >"$out.tmp/facts.env"
    mv "$out.tmp" "$out"
}

mkdir -p "$CACHE"
chmod 0755 "$CACHE"

key=$(recipe_key "$HERE/build.sh" "$HERE/mkoci.py" "$REPO/tests/system/helpers.bash")
bb=$CACHE/busybox-$key
if [ -d "$bb/oci" ]; then
    log "busybox set: cached in $bb"
else
    log "busybox set: building $bb"
    build_busybox_set "$bb"
fi
echo "COVE_TEST_OCI_BUSYBOX=$bb/oci"
echo "COVE_TEST_IMAGE_FACTS=$bb/facts.env"

key=$(recipe_key "$HERE/build.sh" "$HERE/mkoci.py")
deb=$CACHE/debian12-$key
skip_reason=""
if [ -d "$deb/oci" ]; then
    log "debian12: cached in $deb"
elif ! command -v mmdebstrap >/dev/null; then
    skip_reason="mmdebstrap is not installed"
else
    log "debian12: building $deb"
    if ! (build_debian12 "$deb"); then
        skip_reason="mmdebstrap --variant=minbase bookworm failed (no access to Debian's archive?)"
        rm -rf "$deb.tmp"
    fi
fi
if [ -z "$skip_reason" ]; then
    echo "COVE_TEST_OCI_DEBIAN12=$deb/oci"
    echo "COVE_TEST_DEBIAN12_FACTS=$deb/facts.env"
else
    log "debian12: $skip_reason"
    echo "COVE_TEST_OCI_DEBIAN12="
    echo "COVE_TEST_DEBIAN12_SKIP=$skip_reason"
fi
# Old cache entries of other recipes: keep the two newest of each kind.
for kind in busybox debian12; do
    # shellcheck disable=SC2010 # the names are ours: KIND-HEX
    ls -dt "$CACHE/$kind"-* 2>/dev/null | grep -v '\.tmp$' | tail -n +3 |
        while IFS= read -r old; do rm -rf "$old"; done
done
chmod -R a+rX "$CACHE"
