#!/bin/bash
# Provision what a normal distribution gives a desktop user, so that the
# system tests can run cove unprivileged:
#   - the test user ($COVE_TEST_USER, default covetest) with a home dir and
#     a 65536-id range in /etc/subuid and /etc/subgid;
#   - a second user ($COVE_TEST_USER2, default covetest2) with NO subordinate
#     ranges (for the "no subuid entry" fallback);
#   - /dev/fuse and /dev/net/tun usable by everybody (as on a desktop);
#   - newuidmap/newgidmap setuid root (as the uidmap package installs them).
# Run as root.  Idempotent; prints what it did.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "Error: tests/setup-user.sh must run as root (try sudo)" >&2
    exit 1
fi

user=${COVE_TEST_USER:-covetest}
user2=${COVE_TEST_USER2:-covetest2}

say() { echo "setup-user: $*"; }

# has_subid FILE USER: USER (by name or uid) has a range in FILE.
has_subid() {
    local file=$1 name=$2 uid
    uid=$(id -u "$name")
    [ -f "$file" ] && grep -Eq "^(${name}|${uid}):[0-9]+:[0-9]+$" "$file"
}

# next_free_start FILE: the first id after every range of FILE, at least
# 100000, so that a new range overlaps nobody's.
next_free_start() {
    local file=$1
    awk -F: 'BEGIN { m = 100000 }
             NF == 3 && $2 + $3 > m { m = $2 + $3 }
             END { print m }' "$file" 2>/dev/null || echo 100000
}

ensure_user() {
    local name=$1
    if id "$name" >/dev/null 2>&1; then
        say "user $name exists (uid $(id -u "$name"))"
    else
        useradd --create-home --shell /bin/bash "$name"
        say "created user $name (uid $(id -u "$name"))"
    fi
    local home
    home=$(getent passwd "$name" | cut -d: -f6)
    if [ ! -d "$home" ]; then
        mkdir -p "$home"
        chown "$name:" "$home"
        chmod 0755 "$home"
        say "created home $home"
    fi
}

ensure_user "$user"
touch /etc/subuid /etc/subgid
for kind in uid gid; do
    file=/etc/sub$kind
    if has_subid "$file" "$user"; then
        say "$user has a range in $file: $(grep -E "^($user|$(id -u "$user")):" "$file" | head -1)"
    else
        start=$(next_free_start "$file")
        usermod "--add-sub${kind}s" "$start-$((start + 65535))" "$user"
        say "added $file range $user:$start:65536"
    fi
done

# The second user must have no range at all: Debian's useradd adds one.
ensure_user "$user2"
uid2=$(id -u "$user2")
for file in /etc/subuid /etc/subgid; do
    if grep -Eq "^(${user2}|${uid2}):" "$file"; then
        sed -i -E "/^(${user2}|${uid2}):/d" "$file"
        say "removed $user2's range from $file"
    else
        say "$user2 has no range in $file"
    fi
done

for dev in /dev/fuse /dev/net/tun; do
    if [ -e "$dev" ]; then
        chmod 0666 "$dev"
        say "$dev is mode 0666"
    else
        say "$dev does not exist here (tests that need it will skip)"
    fi
done

for prog in newuidmap newgidmap; do
    path=$(command -v "$prog" || true)
    if [ -z "$path" ]; then
        echo "Error: $prog not found: install the uidmap package" >&2
        exit 1
    fi
    if [ ! -u "$path" ]; then
        chmod u+s "$path"
        say "made $path setuid root"
    fi
    [ "$(stat -c %U "$path")" = root ] && [ -u "$path" ] || {
        echo "Error: $path is not setuid root" >&2
        exit 1
    }
    say "$path is setuid root"
done
