# shellcheck shell=bash
# detached_mount JAR ARGS...: `daxfs mount` without a JVM of its own (sourced by scripts/daxfs,
# after common.sh, find_jdk and extra_opts). ARGS are what follows "mount". If they are not the
# plain form TARGET DIR [-o OPTS | -oOPTS]... [--log FILE | --log=FILE], it returns (status 0)
# and the caller runs the Java command, which knows every form. Otherwise it never returns.
#
# Keep in step with fuse-adapter's MountCommand.startDetached (the same steps in Java, for
# `java -jar daxfs.jar mount`): same daemon JVM options (DAEMON_JVM unless -Xmx/-XX:MaxRAM is
# given; the daemon's AOT cache while it is fresh), same log file, same messages.

_dm_escape_mount_path() { # as /proc/mounts writes a path: space, tab, newline, backslash octal
    local p=$1
    p=${p//\\/\\134}
    p=${p// /\\040}
    p=${p//$'\t'/\\011}
    p=${p//$'\n'/\\012}
    printf '%s' "$p"
}

# True if a file system of type $2 (any type if empty) is mounted at (escaped) mount point $1;
# builtins only (polled often).
_dm_absolute() { # an absolute, normalised path; realpath only when the path needs it
    case "$1" in
        /*/./* | /*/../* | */. | */.. | *//*) realpath -m -s -- "$1" ;;
        /*) printf '%s' "$1" ;;
        *) realpath -m -s -- "$1" ;;
    esac
}

_dm_mounted() {
    local mnt type
    while read -r _ mnt type _; do
        [[ "$mnt" == "$1" && ( -z "${2:-}" || "$type" == "$2" ) ]] && return 0
    done </proc/mounts
    return 1
}

# Sets _dm_heap_mib (no subshell: see "Every $(...) is a fork" below) to the daemon's default
# heap in MiB, as MountCommand.defaultHeap computes it: 384, or 128 plus
# 640 bytes per inode the superblock states (a daemon keeps a handle per inode it serves; a
# million files listed through 384 MiB ran out), at most half the RAM. An image or block device
# whose first bytes are not a daxfs superblock gets 384 (the daemon says what is wrong with it).
_dm_default_heap() {
    local target=$1 magic="" inodes=0 ram_kb=0 k v mib
    local -a field=()
    if [[ ( -f "$target" || -b "$target" ) && -r "$target" ]]; then
        IFS= read -r -N 8 magic <"$target" 2>/dev/null || true
        if [[ "$magic" == DAXFSv01 ]]; then
            read -r -a field < <(od -An -v -t u8 -j 96 -N 8 -- "$target" 2>/dev/null) || true
            [[ "${field[0]:-}" =~ ^[0-9]{1,12}$ ]] && inodes=${field[0]}
        fi
    fi
    while read -r k v _; do
        [[ "$k" == MemTotal: ]] && { ram_kb=$v; break; }
    done </proc/meminfo
    mib=$((128 + inodes * 640 / 1048576))
    ((ram_kb > 0 && mib > ram_kb / 2048)) && mib=$((ram_kb / 2048))
    ((mib < 384)) && mib=384
    _dm_heap_mib=$mib
}

detached_mount() {
    local jar=$1
    shift
    local target="" dir="" log="" a
    local -a opts=()
    while (($#)); do
        a=$1
        case "$a" in
            -o) (($# >= 2)) || return 0; opts+=("$2"); shift ;;
            -o?*) opts+=("${a#-o}") ;;
            --log) (($# >= 2)) || return 0; log=$2; shift ;;
            --log=*) log=${a#--log=} ;;
            -*) return 0 ;; # --foreground, --help, --version, ...: the Java command
            *)
                if [[ -z "$target" ]]; then target=$a
                elif [[ -z "$dir" ]]; then dir=$a
                else return 0
                fi ;;
        esac
        shift
    done
    [[ -n "$target" && -n "$dir" ]] || return 0

    # Every $(...) is a fork, and every external command a fork and an exec (milliseconds
    # each on a small VM, while the JVM wants the CPUs): absolute, plain paths need neither.
    local abs_target abs_dir real_dir name
    abs_target=$(_dm_absolute "$target")
    abs_dir=$(_dm_absolute "$dir")
    real_dir=$(readlink -f -- "$dir" 2>/dev/null || printf '%s' "$abs_dir")
    if [[ -z "$log" ]]; then
        name=${abs_dir//[^A-Za-z0-9._-]/_}
        log="/tmp/daxfs/$name.log"
    fi
    [[ "$log" == */* && -d "${log%/*}" ]] || mkdir -p -- "$(dirname -- "$log")" || exit 1
    local log_start=0
    [[ -s "$log" ]] && log_start=$(stat -c %s -- "$log")

    local mnt_escaped
    mnt_escaped=$(_dm_escape_mount_path "$real_dir")
    if _dm_mounted "$mnt_escaped"; then
        return 0 # busy: the Java command says so (and by whom); polling below would see that mount
    fi

    local -a jvm=("${DAXFS_JVM_FLAGS[@]}" "${DAXFS_CLI_FLAGS[@]}" "${extra_opts[@]}")
    if [[ " ${extra_opts[*]} " != *" -Xmx"* && " ${extra_opts[*]} " != *" -XX:MaxRAM"* ]]; then
        _dm_default_heap "$abs_target"
        jvm+=(-Xms64m "-Xmx${_dm_heap_mib}m" -XX:+UseSerialGC) # MountCommand.DAEMON_JVM
    fi
    local cache="$_DAXFS_ROOT/fuse-adapter/target/daxfs.aot" # aot_cache, without the fork
    if [[ -f "$cache" && "$cache" -nt "$jar" ]]; then
        jvm+=("-XX:AOTCache=$cache" "-Xlog:aot*=off" "-Xlog:cds*=off") # DaemonStartupCache
    fi
    local -a setsid=()
    [[ -x /usr/bin/setsid ]] && setsid=(/usr/bin/setsid)
    "${setsid[@]}" "$JAVA_HOME/bin/java" "${jvm[@]}" -cp "$jar" io.daxfs.fuse.cli.DaemonMain \
        "$abs_target" "$abs_dir" "${opts[@]}" </dev/null >>"$log" 2>&1 &
    local pid=$! status deadline nap
    # A 10 ms nap without starting /bin/sleep each time: a read that times out on a pipe
    # nobody writes to.
    exec {nap}<> <(:)
    deadline=$((SECONDS + 60))
    while ((SECONDS < deadline)); do
        if _dm_mounted "$mnt_escaped" fuse.daxfs; then
            echo "daxfs: mounted $target on $dir (daemon pid $pid, log $log)"
            _dm_relay_notes "$log" "$log_start" "${opts[@]}"
            exit 0
        fi
        if ! pid_alive "$pid"; then
            status=0
            wait "$pid" || status=$?
            _dm_relay_failure "$log" "$log_start" "$status"
            exit $((status == 0 ? 1 : status))
        fi
        read -r -t 0.01 -u "$nap" _ || true
    done
    kill "$pid" 2>/dev/null || true
    echo "daxfs mount: the mount did not appear within 60 s; see $log" >&2
    exit 1
}

# A read-only mount went past damage, or kept a journal replay in memory: its "daxfs mount: note:"
# lines (MountCommand.relayNotes). Only -o ro mounts have notes, so only they pay for reading the log.
_dm_relay_notes() {
    local log=$1 from=$2 o
    shift 2
    for o in "$@"; do
        if [[ ",$o," == *,ro,* ]]; then
            tail -c +"$((from + 1))" -- "$log" 2>/dev/null | grep '^daxfs mount: note: ' >&2 || true
            return 0
        fi
    done
}

# The daemon failed before mounting: its own "daxfs mount: ..." lines (the last three), or the
# end of its log if it has none (MountCommand.relayFailure).
_dm_relay_failure() {
    local log=$1 from=$2 status=$3 errors
    errors=$(tail -c +"$((from + 1))" -- "$log" 2>/dev/null | grep '^daxfs mount: ' | tail -n 3 || true)
    if [[ -n "$errors" ]]; then
        printf '%s\n' "$errors" >&2
        return 0
    fi
    {
        echo "daxfs mount: the daemon exited with status $status; its log ($log) ends with:"
        tail -n 20 -- "$log" 2>/dev/null | sed 's/^/  /'
    } >&2
}
