# shellcheck shell=bash
# xfstests.sh - what scripts/xfstests and scripts/fsstress share: finding the user's xfstests
# checkout, the mount helper, the images, the test users. Source it after common.sh.
#
# Nothing here downloads or builds xfstests: XFSTESTS_DIR must be a checkout the user built
# (make). See docs/xfstests.md.

# Sets XT_DIR to the xfstests checkout ($1 or $XFSTESTS_DIR) and checks that it is built.
xt_find_checkout() {
    local d=${1:-${XFSTESTS_DIR:-}}
    [[ -n "$d" ]] || die "set XFSTESTS_DIR (or --xfstests DIR) to a built xfstests checkout (git clone of xfstests-dev, then make); see docs/xfstests.md"
    [[ -d "$d" ]] || die "XFSTESTS_DIR=$d is not a directory"
    XT_DIR=$(readlink -f -- "$d")
    [[ -x "$XT_DIR/check" && -d "$XT_DIR/tests/generic" ]] || die "$XT_DIR does not look like an xfstests checkout (no ./check or tests/generic)"
    [[ -x "$XT_DIR/ltp/fsstress" && -x "$XT_DIR/ltp/fsx" ]] || die "$XT_DIR is not built (no ltp/fsstress or ltp/fsx): run make in it"
}

# The daxfs jar and the JDK, built from this checkout if stale (the daemon runs this jar).
xt_prepare_daxfs() {
    ((EUID == 0)) || die "must run as root (it mounts file systems and, for xfstests, runs tests as other users)"
    [[ -c /dev/fuse ]] || die "/dev/fuse is missing"
    need_packages "${DAXFS_RUNTIME_PACKAGES[@]}"
    find_jdk
    build_jar --if-stale
}

# mount -t fuse.daxfs goes through /sbin/mount.fuse.daxfs. Makes it this checkout's helper for
# the run; a link to another checkout is put back by xt_restore_helper.
XT_HELPER_SAVED=""
xt_install_helper() {
    local helper="$_DAXFS_ROOT/scripts/mount.fuse.daxfs" installed=/sbin/mount.fuse.daxfs
    if [[ -L "$installed" && "$(readlink -f -- "$installed")" == "$(readlink -f -- "$helper")" ]]; then
        return 0
    fi
    if [[ -e "$installed" || -L "$installed" ]]; then
        XT_HELPER_SAVED=$(readlink -- "$installed" 2>/dev/null || true)
        [[ -n "$XT_HELPER_SAVED" ]] || die "$installed exists and is not a symlink; move it away first"
        warn "$installed points to $XT_HELPER_SAVED; using $helper for this run (put back at the end)"
    else
        XT_HELPER_SAVED="-"
    fi
    ln -sfn -- "$helper" "$installed"
}

xt_restore_helper() {
    case "$XT_HELPER_SAVED" in
        "") ;;
        -) rm -f -- /sbin/mount.fuse.daxfs ;;
        *) ln -sfn -- "$XT_HELPER_SAVED" /sbin/mount.fuse.daxfs ;;
    esac
    XT_HELPER_SAVED=""
}

# xt_mkfs IMAGE SIZE: a fresh daxfs on IMAGE (sparse file), replacing what was there.
xt_mkfs() {
    local img=$1 size=$2
    mkdir -p -- "$(dirname -- "$img")"
    # A fresh file: mkfs --force keeps an existing file's size (docs/xfstests.md).
    rm -f -- "$img"
    DAXFS_QUIET=1 "$_DAXFS_ROOT/scripts/daxfs" mkfs "$img" --size "$size" >/dev/null ||
        die "daxfs mkfs $img --size $size failed"
}

# xt_unmount DIR: unmounts DIR if it is a daxfs mount and waits for its daemon to exit.
xt_unmount() {
    local dir=$1 src i pids
    [[ -d "$dir" ]] || return 0
    [[ -n "$(mount_fstype "$dir")" ]] || return 0
    src=$(findmnt -n -o SOURCE --mountpoint "$dir" | tail -n1)
    umount -- "$dir" 2>/dev/null || fusermount -u -z -- "$dir" 2>/dev/null || umount -l -- "$dir"
    [[ -n "$src" && -e "$src" ]] || return 0
    for ((i = 0; i < 300; i++)); do
        pids=$(fuse_daemon_pids "$src")
        [[ -z "$pids" ]] && return 0
        sleep 0.1
    done
    warn "the daemon of $src did not exit within 30 s after the unmount: killing it"
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
}

# xt_fsck IMAGE: prints daxfs fsck's verdict; returns its exit code.
xt_fsck() {
    local rc=0 out
    out=$(DAXFS_QUIET=1 "$_DAXFS_ROOT/scripts/daxfs" fsck "$1" 2>&1) || rc=$?
    printf '%s\n' "$out" | tail -n 5 | sed 's/^/  /'
    return "$rc"
}

# The users and groups xfstests runs tests as (fsgqa, fsgqa2, 123456-fsgqa); made when
# missing. Tests that need them are "not run" otherwise.
xt_make_users() {
    local u
    for u in fsgqa fsgqa2 123456-fsgqa; do
        getent group "$u" >/dev/null || groupadd "$u" || warn "groupadd $u failed"
        if ! getent passwd "$u" >/dev/null; then
            useradd -m -g "$u" -s /bin/bash "$u" || warn "useradd $u failed"
            log "created user $u (xfstests runs some tests as this user)"
        fi
    done
}
