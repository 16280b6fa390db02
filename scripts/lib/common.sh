# shellcheck shell=bash
# Shared helpers for the daxfs shell scripts. Source it; do not execute it.
#
#   log / warn / die        messages on stderr, prefixed with the script name
#   repo_root               absolute path of the repository (from this file's location)
#   find_jdk                finds a JDK >= 25, exports JAVA_HOME and PATH, or dies
#   need_packages PKG...    installs missing Debian packages (apt-get update once)
#   build_jar [--force]     builds fuse-adapter/target/daxfs.jar if missing or stale
#   daxfs_jar               prints the jar's path
#   fuse_daemon_pids X      pids of FUSE daemons whose command line has X or that map file X
#   pid_alive PID           true if PID runs (exists and is not a zombie)
#   is_mountpoint DIR       true if DIR is a mount point (kernel's view)
#   mount_fstype DIR        file system type mounted at DIR (empty if none)
#
# Environment honoured:
#   JAVA_HOME               tried first by find_jdk
#   DAXFS_JAVA_MIN          minimum JDK feature release (default 25)
#   DAXFS_NO_APT=1          need_packages never calls apt-get; it only reports what is missing
#   DAXFS_QUIET=1           log() prints nothing (warnings and errors still do)

if [[ -n "${_DAXFS_COMMON_SH:-}" ]]; then
    return 0
fi
_DAXFS_COMMON_SH=1

: "${DAXFS_JAVA_MIN:=25}"
DAXFS_PROG=${DAXFS_PROG:-$(basename -- "$0")}

# shellcheck disable=SC2034 # used by the scripts that source this file
# Flags every daxfs JVM needs (keep in sync with daxfs.jvm.flags in the root pom.xml).
DAXFS_JVM_FLAGS=(
    --enable-native-access=ALL-UNNAMED
    --sun-misc-unsafe-memory-access=deny
    --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED
)

# Packages the tests and benchmarks use. libfuse2 is what jnr-fuse loads; fuse3 brings
# fusermount and mount.fuse (do not install Debian's "fuse": it conflicts with fuse3).
# shellcheck disable=SC2034
# fontconfig and a font: daxfs map draws text with Java2D.
DAXFS_RUNTIME_PACKAGES=(libfuse2 fuse3 util-linux procps psmisc fontconfig fonts-dejavu-core)
# shellcheck disable=SC2034
# libfuse-dev: a fuse-adapter test compiles against fuse.h to check jnr-fuse's struct layout.
# e2fsprogs (chattr, lsattr) and xfsprogs (xfs_io): the chattr and shutdown tests.
DAXFS_TEST_PACKAGES=("${DAXFS_RUNTIME_PACKAGES[@]}" fio bindfs stress-ng attr acl sqlite3 git
    python3 python3-matplotlib libfuse-dev gcc e2fsprogs xfsprogs)

log() {
    [[ "${DAXFS_QUIET:-0}" == 1 ]] && return 0
    printf '%s: %s\n' "$DAXFS_PROG" "$*" >&2
}

warn() {
    printf '%s: warning: %s\n' "$DAXFS_PROG" "$*" >&2
}

die() {
    printf '%s: error: %s\n' "$DAXFS_PROG" "$*" >&2
    exit 1
}

# Absolute path of the repository root, derived from this file (scripts/lib/common.sh),
# so it works from any working directory and through symlinks to the scripts.
# Computed once, when this file is sourced: every $(...) costs a fork (milliseconds here).
_DAXFS_ROOT=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/../.." && pwd -P)
repo_root() {
    printf '%s\n' "$_DAXFS_ROOT"
}

# Sets _JAVA_MAJOR to the feature release (e.g. 25, 17, 8) of the java binary $1; fails if it
# cannot tell. Reads the JDK's `release` file when there is one (no JVM start, no process at
# all: a daxfs command starts faster), else asks `java -version`.
java_major_of() {
    local java=$1 line ver="" release
    _JAVA_MAJOR=""
    [[ -x "$java" ]] || return 1
    release="${java%/bin/java}/release"
    if [[ -f "$release" ]]; then
        while IFS= read -r line; do
            if [[ "$line" == JAVA_VERSION=* ]]; then
                ver=${line#JAVA_VERSION=}
                ver=${ver//\"/}
                break
            fi
        done <"$release"
    fi
    if [[ -z "$ver" ]]; then
        line=$("$java" -version 2>&1 | grep -m1 -E 'version "[^"]+"') || return 1
        ver=${line#*version \"}
        ver=${ver%%\"*}
    fi
    if [[ "$ver" == 1.* ]]; then
        ver=${ver#1.}
    fi
    ver=${ver%%[!0-9]*}
    [[ -n "$ver" ]] || return 1
    _JAVA_MAJOR=$ver
}

# Prints the feature release of the java binary $1, or nothing (java_major_of).
java_major() {
    java_major_of "$1" && printf '%s\n' "$_JAVA_MAJOR"
}

# Finds a JDK whose feature release is >= $DAXFS_JAVA_MIN: $JAVA_HOME first, then
# /usr/lib/jvm/* (newest first), then `java` on PATH. Exports JAVA_HOME and puts its
# bin/ first on PATH. Dies with a clear message if there is none.
_use_jdk() { # exports JAVA_HOME=$1 and puts its bin/ first on PATH
    JAVA_HOME=$1
    case ":$PATH:" in
        "$JAVA_HOME/bin:"*) ;;
        *) PATH="$JAVA_HOME/bin:$PATH" ;;
    esac
    export JAVA_HOME PATH
}

find_jdk() {
    local cand major java tried=()
    local -a cands=()
    # The usual case first, without listing anything: a JAVA_HOME that is new enough.
    if [[ -n "${JAVA_HOME:-}" ]] && java_major_of "$JAVA_HOME/bin/java" && ((_JAVA_MAJOR >= DAXFS_JAVA_MIN)); then
        _use_jdk "$JAVA_HOME"
        return 0
    fi
    if [[ -n "${JAVA_HOME:-}" ]]; then
        cands+=("$JAVA_HOME")
    fi
    if [[ -d /usr/lib/jvm ]]; then
        # Newest first: the JDK with the highest feature release (read from `release` files,
        # no JVM started; a glob instead of find | sort, no process started).
        local best="" best_major=0
        for cand in /usr/lib/jvm/*; do
            [[ -d "$cand" ]] && java_major_of "$cand/bin/java" || continue
            if ((_JAVA_MAJOR > best_major)); then
                best=$cand best_major=$_JAVA_MAJOR
            fi
        done
        if [[ -n "$best" ]] && ((best_major >= DAXFS_JAVA_MIN)); then
            _use_jdk "$(readlink -f -- "$best")"
            return 0
        fi
        [[ -n "$best" ]] && cands+=("$best")
    fi
    if java=$(command -v java 2>/dev/null); then
        java=$(readlink -f -- "$java")
        cands+=("$(dirname -- "$(dirname -- "$java")")")
    fi
    local seen=" " real
    for cand in "${cands[@]}"; do
        java="$cand/bin/java"
        [[ -x "$java" ]] || continue
        real=$(readlink -f -- "$java")
        [[ "$seen" == *" $real "* ]] && continue
        seen+="$real "
        major=$(java_major "$java") || continue
        tried+=("$cand (java $major)")
        if ((major >= DAXFS_JAVA_MIN)); then
            _use_jdk "$(readlink -f -- "$cand")"
            return 0
        fi
    done
    {
        printf '%s: error: daxfs needs a JDK %s or newer, and none was found.\n' "$DAXFS_PROG" "$DAXFS_JAVA_MIN"
        printf '  Looked at JAVA_HOME, /usr/lib/jvm/* and "java" on PATH.\n'
        if ((${#tried[@]})); then
            printf '  Found only:\n'
            printf '    %s\n' "${tried[@]}"
        fi
        printf '  Install a JDK %s+ (e.g. Temurin 25 under /usr/lib/jvm) or set JAVA_HOME to one.\n' "$DAXFS_JAVA_MIN"
    } >&2
    exit 1
}

# True if Debian package $1 is installed.
pkg_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

_DAXFS_APT_UPDATED=${_DAXFS_APT_UPDATED:-0}

# Installs the Debian packages among $@ that are not installed yet. Runs apt-get update
# once per process (and only when something is missing), non-interactively.
need_packages() {
    local p missing=()
    command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: need_packages only works on Debian/Ubuntu; install: $*"
    for p in "$@"; do
        pkg_installed "$p" || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    if [[ "${DAXFS_NO_APT:-0}" == 1 ]]; then
        die "missing Debian packages: ${missing[*]} (DAXFS_NO_APT=1, so not installing them)"
    fi
    local -a sudo=()
    if ((EUID != 0)); then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            die "missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}"
        fi
    fi
    log "installing Debian packages: ${missing[*]}"
    local -a apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300)
    if [[ "$_DAXFS_APT_UPDATED" != 1 ]]; then
        "${apt[@]}" update >/dev/null || die "apt-get update failed"
        _DAXFS_APT_UPDATED=1
        export _DAXFS_APT_UPDATED
    fi
    if ! "${apt[@]}" install --no-install-recommends "${missing[@]}" >/dev/null; then
        die "apt-get install ${missing[*]} failed"
    fi
    for p in "${missing[@]}"; do
        pkg_installed "$p" || die "package $p still not installed after apt-get install"
    done
}

daxfs_jar() {
    printf '%s/fuse-adapter/target/daxfs.jar\n' "$_DAXFS_ROOT"
}

# Sets MAVEN_OPTS so Maven on JDK 25 does not warn about sun.misc.Unsafe (guava).
maven_env() {
    case " ${MAVEN_OPTS:-} " in
        *" --sun-misc-unsafe-memory-access="*) ;;
        *) MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow" ;;
    esac
    export MAVEN_OPTS
}

# True if the jar is missing or older than any pom.xml or main source/resource file of the
# modules it is built from.
jar_stale() {
    local root jar newer
    root=$_DAXFS_ROOT
    jar=$(daxfs_jar)
    [[ -f "$jar" ]] || return 0
    newer=$(find "$root/pom.xml" "$root"/devdax "$root"/fs-core "$root"/lease-client "$root"/fuse-adapter \
        \( -name target -prune \) -o \
        \( -type f \( -name pom.xml -o -path '*/src/main/*' \) -newer "$jar" -print -quit \) 2>/dev/null)
    [[ -n "$newer" ]]
}

# build_jar [--if-stale|--force]: builds fuse-adapter/target/daxfs.jar (mvn -q -DskipTests package of
# fuse-adapter and the modules it needs) if it is missing or older than its sources, or always
# with --force. Serialised with a lock so concurrent callers build once.
build_jar() {
    local force=0 root jar lockfile
    case "${1:---if-stale}" in
        --force) force=1 ;;
        --if-stale) ;;
        *) die "build_jar: unknown argument $1" ;;
    esac
    root=$_DAXFS_ROOT
    jar=$(daxfs_jar)
    if ((force == 0)) && ! jar_stale; then
        return 0
    fi
    # A fresh machine has no Maven: install Debian's (need_packages dies with the reason if it cannot).
    command -v mvn >/dev/null 2>&1 || need_packages maven
    command -v mvn >/dev/null 2>&1 || die "mvn (Apache Maven) not found; install it: apt-get install maven"
    find_jdk
    maven_env
    lockfile="${TMPDIR:-/tmp}/daxfs-build-$(printf '%s' "$root" | cksum | cut -d' ' -f1).lock"
    (
        if command -v flock >/dev/null 2>&1; then
            exec 9>"$lockfile"
            flock 9
        fi
        # Another process may have built it while we waited for the lock.
        if ((force == 0)) && ! jar_stale; then
            exit 0
        fi
        if [[ -f "$jar" ]]; then
            log "rebuilding $jar ($( ((force)) && echo forced || echo sources changed))"
        else
            log "building $jar (mvn package, a few minutes the first time)"
        fi
        cd -- "$root" || exit 1
        if ! mvn -B -q -Dstyle.color=never -DskipTests -pl fuse-adapter -am package >&2; then
            die "mvn package failed; see the Maven output above"
        fi
        [[ -f "$jar" ]] || die "mvn package succeeded but $jar was not produced"
        touch -- "$jar"
    )
}

# Prints the pids (one a line) of FUSE daemons (processes holding /dev/fuse open) that are
# tied to $1: its text appears in their command line, or, if $1 is a path, they have that
# file open or mapped (an image file shows in /proc/PID/maps with its real path).
fuse_daemon_pids() {
    local needle=$1 real="" pid cmd
    [[ -e "$needle" ]] && real=$(readlink -f -- "$needle")
    while IFS= read -r pid; do
        [[ -n "$pid" ]] || continue
        pid_alive "$pid" || continue
        cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
        if [[ "$cmd" == *"$needle"* ]]; then
            printf '%s\n' "$pid"
        elif [[ -n "$real" ]] && { find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 -lname "$real" -print -quit 2>/dev/null | grep -q . ||
            grep -qF -- " $real" "/proc/$pid/maps" 2>/dev/null; }; then
            printf '%s\n' "$pid"
        fi
    done < <(find /proc/[0-9]*/fd -mindepth 1 -maxdepth 1 -lname /dev/fuse -printf '%h\n' 2>/dev/null |
        sed -n 's|^/proc/\([0-9]*\)/fd$|\1|p' | sort -un)
    return 0
}

# True if process $1 exists and is not a zombie. (Detached daemons are re-parented to
# pid 1, which in containers may never reap them, so kill -0 alone would see them forever.)
pid_alive() {
    local stat
    [[ "${1:-}" =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ "${stat%% *}" != Z && "${stat%% *}" != X ]]
}

is_mountpoint() {
    mountpoint -q -- "$1" 2>/dev/null
}

# File system type at mount point $1 (exact mount point, not the file system containing it).
mount_fstype() {
    findmnt -n -o FSTYPE --mountpoint "$(readlink -f -- "$1")" 2>/dev/null | tail -n1 || true
}

# Path of the daemon's AOT cache (read by MountCommand: DaemonStartupCache).
aot_cache() {
    printf '%s/fuse-adapter/target/daxfs.aot\n' "$_DAXFS_ROOT"
}

# Path of the command line's own AOT cache (used by scripts/daxfs: daxfs_cli_flags).
cli_aot_cache() {
    printf '%s/fuse-adapter/target/daxfs-cli.aot\n' "$_DAXFS_ROOT"
}

# shellcheck disable=SC2034
# JVM options of the daxfs command itself (scripts/daxfs), beyond DAXFS_JVM_FLAGS: the serial
# collector starts fastest, and a mount's daemon inherits these options (it uses it too).
DAXFS_CLI_FLAGS=(-XX:+UseSerialGC)

# Prints, one a line, the JVM options that make the daxfs command start from its AOT cache:
# nothing unless the cache is newer than the jar (the JVM would refuse a stale one).
daxfs_cli_aot_flags() {
    local cache
    cache=$(cli_aot_cache)
    if [[ -f "$cache" && "$cache" -nt "$(daxfs_jar)" ]]; then
        printf '%s\n' "-XX:AOTCache=$cache" "-Xlog:aot*=off" "-Xlog:cds*=off"
    fi
}

# True if both AOT caches exist and are newer than the jar.
aot_caches_fresh() {
    local jar
    jar=$(daxfs_jar)
    [[ -f "$(aot_cache)" && "$(aot_cache)" -nt "$jar" && -f "$(cli_aot_cache)" && "$(cli_aot_cache)" -nt "$jar" ]]
}

# build_aot_cache [--if-stale|--force]: trains the daemon's start-up cache (JDK AOT cache) with one
# mount of a scratch image: the daemon runs with -XX:AOTCacheOutput, a few file operations
# go through the mount, and the cache is written when the daemon exits after the unmount.
# Needs /dev/fuse and fusermount; without them (or on any failure) it warns and leaves no
# cache, which only makes mounts start slower. The JVM options must match the daemon's
# (MountCommand.DAEMON_JVM) and the class path must be the same absolute jar.
build_aot_cache() {
    local jar cache tmp pid ok=0 i
    jar=$(daxfs_jar)
    cache=$(aot_cache)
    [[ -f "$jar" ]] || die "build_aot_cache: $jar is missing"
    case "${1:---force}" in --if-stale | --force) ;; *) die "build_aot_cache: unknown argument $1" ;; esac
    if [[ "${1:-}" == --if-stale ]] && aot_caches_fresh; then
        return 0
    fi
    if [[ ! -c /dev/fuse ]] || ! command -v fusermount >/dev/null 2>&1; then
        warn "no /dev/fuse or fusermount: mounts start without the AOT cache"
        return 0
    fi
    find_jdk
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/daxfs-aot.XXXXXX")
    mkdir -p "$tmp/mnt"
    rm -f -- "$cache" "$cache.tmp"
    log "training the daemon's start-up cache ($cache)"
    "$JAVA_HOME/bin/java" "${DAXFS_JVM_FLAGS[@]}" -jar "$jar" mkfs --size 64M "$tmp/train.img" >/dev/null 2>&1 &&
        {
            "$JAVA_HOME/bin/java" "${DAXFS_JVM_FLAGS[@]}" -Xms64m -Xmx384m -XX:+UseSerialGC \
                -XX:AOTCacheOutput="$cache.tmp" -Xlog:aot*=off -Xlog:cds*=off \
                -cp "$jar" io.daxfs.fuse.cli.DaemonMain "$tmp/train.img" "$tmp/mnt" \
                >"$tmp/daemon.log" 2>&1 &
            pid=$!
            for ((i = 0; i < 600; i++)); do
                [[ "$(mount_fstype "$tmp/mnt")" == fuse.daxfs ]] && { ok=1; break; }
                pid_alive "$pid" || break
                sleep 0.05
            done
            if ((ok)); then
                # Every kind of request, enough times that the cache's method profiles (JEP 515)
                # let the JIT compile the request paths early in a real mount.
                (
                    cd "$tmp/mnt" && mkdir -p d/e && head -c 1048576 /dev/zero >d/f && cat d/f >/dev/null &&
                        ln d/f d/g && mv d/g d/h && ls -la d >/dev/null && stat d/f >/dev/null &&
                        truncate -s 4096 d/f && df . >/dev/null &&
                        for i in $(seq 1 400); do echo "$i" >"d/e/f$i"; done && ls -l d/e >/dev/null &&
                        cat d/e/* >/dev/null && rm -f d/e/* &&
                        dd if=/dev/zero of=d/big bs=1M count=24 conv=fsync status=none &&
                        dd if=d/big of=/dev/null bs=4k count=2000 status=none &&
                        dd if=/dev/zero of=d/big bs=4k count=2000 conv=notrunc status=none &&
                        setfattr -n user.t -v 1 d/big 2>/dev/null; getfattr -d d/big >/dev/null 2>&1;
                    rm -rf d
                ) || ok=0
                fusermount -u "$tmp/mnt" 2>/dev/null || ok=0
            fi
            wait "$pid" 2>/dev/null || true
        }
    if ((ok)) && [[ -s "$cache.tmp" ]]; then
        mv -f -- "$cache.tmp" "$cache"
    else
        rm -f -- "$cache.tmp"
        warn "could not train the daemon's start-up cache (see $tmp/daemon.log); mounts start without it"
        return 0
    fi
    # The command line's own cache: one detached `daxfs mount` (its daemon now starts from the
    # cache above; MountCommand never passes AOT options on), recorded as the command exits.
    cache=$(cli_aot_cache)
    rm -f -- "$cache" "$cache.tmp"
    ok=0
    if "$JAVA_HOME/bin/java" "${DAXFS_JVM_FLAGS[@]}" "${DAXFS_CLI_FLAGS[@]}" -XX:AOTCacheOutput="$cache.tmp" \
        -Xlog:aot*=off -Xlog:cds*=off -jar "$jar" mount --log "$tmp/cli-daemon.log" "$tmp/train.img" "$tmp/mnt" \
        >"$tmp/cli.log" 2>&1; then
        ok=1
        fusermount -u "$tmp/mnt" 2>/dev/null || ok=0
        for ((i = 0; i < 200; i++)); do
            [[ -z "$(fuse_daemon_pids "$tmp/train.img")" ]] && break
            sleep 0.05
        done
    fi
    if ((ok)) && [[ -s "$cache.tmp" ]]; then
        mv -f -- "$cache.tmp" "$cache"
    else
        rm -f -- "$cache.tmp"
        warn "could not train the daxfs command's start-up cache (see $tmp/cli.log)"
        return 0
    fi
    rm -rf -- "$tmp"
}
