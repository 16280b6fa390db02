# shellcheck shell=bash
# docker.sh - a container engine and a local Debian base image for the container tests.
#
# Source it (scripts/test does), or run it as a command:
#   scripts/lib/docker.sh up          engine running (installed/started if needed) + the images
#                                     the tests use; prints base=TAG and pg=TAG
#   scripts/lib/docker.sh down        stops the engine if this script started it
#   scripts/lib/docker.sh base-image  prints the base image's tag, building it if absent
#   scripts/lib/docker.sh status      engine, who started it, base image
#
# Functions:
#   docker_engine_up      installs Debian's docker.io if dockerd is missing; starts containerd
#                         and dockerd itself (there is no systemd) when no engine answers on
#                         /var/run/docker.sock; records what it started in $DAXFS_DOCKER_STATE
#   docker_engine_down    stops what docker_engine_up started (and nothing else)
#   docker_base_image     makes sure the base image exists and prints its tag: a Debian
#                         minbase built with debootstrap from the host's Debian mirror and
#                         `docker import`ed; the tag is a hash of the recipe, so a changed
#                         recipe builds a new image
#
# No image registry is reachable from these machines, so nothing is ever pulled: every image
# the tests use is built from this base. `--privileged` does not work on these VMs (their
# capability bounding set lacks CAP_SYS_RESOURCE); FUSE in a container needs
# `--cap-add SYS_ADMIN --device /dev/fuse` (and an unconfined AppArmor profile where AppArmor
# is on).
#
# Environment:
#   DAXFS_DOCKER_STATE   directory for the pid files and logs of an engine started here
#                        (default /run/daxfs-docker)
#   DAXFS_BASE_MIRROR    Debian mirror for the base image (default: the host's, from
#                        /etc/apt/sources.list and /etc/apt/sources.list.d/*)
#   DAXFS_BASE_SUITE     Debian suite (default: the host's VERSION_CODENAME)

if [[ -n "${_DAXFS_DOCKER_SH:-}" ]]; then
    # shellcheck disable=SC2317 # exit when run, not sourced
    return 0 2>/dev/null || exit 0
fi
_DAXFS_DOCKER_SH=1

# shellcheck source=common.sh
source "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/common.sh"

: "${DAXFS_DOCKER_STATE:=/run/daxfs-docker}"
DAXFS_DOCKER_SOCK=/var/run/docker.sock
# Debian packages of the engine and of the image build.
DAXFS_DOCKER_PACKAGES=(docker.io containerd debootstrap iptables)

# The base image's recipe. Anything that changes the image must be in here or in
# _docker_build_base (whose text is part of the hash too).
DAXFS_BASE_REPO=daxfs-base
DAXFS_BASE_VARIANT=minbase
DAXFS_BASE_RECIPE_VERSION=1

# docker client: the one that came with docker.io if there is no other.
_docker() {
    docker "$@"
}

docker_engine_answers() {
    [[ -S "$DAXFS_DOCKER_SOCK" ]] && timeout 20 docker info >/dev/null 2>&1
}

# _wait_for CMD... : retries CMD for up to 60 s.
_docker_wait_for() {
    local i
    for ((i = 0; i < 300; i++)); do
        "$@" && return 0
        sleep 0.2
    done
    return 1
}

# Starts $2... in the background with its output in $DAXFS_DOCKER_STATE/$1.log, records its
# pid in $DAXFS_DOCKER_STATE/$1.pid.
_docker_start_daemon() {
    local name=$1
    shift
    mkdir -p -- "$DAXFS_DOCKER_STATE"
    # setsid: the daemon must not get the terminal's or the test run's signals.
    setsid "$@" >>"$DAXFS_DOCKER_STATE/$name.log" 2>&1 </dev/null &
    echo $! >"$DAXFS_DOCKER_STATE/$name.pid"
    log "started $name (pid $!, log $DAXFS_DOCKER_STATE/$name.log)"
}

# Pid recorded for $1 if that process still runs the program it was started as.
_docker_started_pid() {
    local f="$DAXFS_DOCKER_STATE/$1.pid" pid
    [[ -f "$f" ]] || return 1
    pid=$(<"$f")
    pid_alive "$pid" || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$1" || return 1
    printf '%s\n' "$pid"
}

# Exit status 0 with the engine answering; otherwise prints why on stderr and returns 1.
docker_engine_up() {
    if docker_engine_answers; then
        return 0
    fi
    if ! command -v dockerd >/dev/null 2>&1 || ! command -v containerd >/dev/null 2>&1 ||
        ! command -v docker >/dev/null 2>&1; then
        need_packages "${DAXFS_DOCKER_PACKAGES[@]}" || return 1
    fi
    if ((EUID != 0)); then
        warn "no Docker engine answers on $DAXFS_DOCKER_SOCK and only root can start one"
        return 1
    fi
    # Cgroups, needed by every container (normally mounted already).
    if [[ ! -e /sys/fs/cgroup/cgroup.controllers ]] && ! mountpoint -q /sys/fs/cgroup; then
        mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null ||
            warn "/sys/fs/cgroup is not mounted and mounting cgroup2 failed"
    fi
    local csock=/run/containerd/containerd.sock
    if ! [[ -S "$csock" ]] || ! timeout 10 ctr --address "$csock" version >/dev/null 2>&1; then
        _docker_start_daemon containerd containerd
        if ! _docker_wait_for test -S "$csock"; then
            warn "containerd did not start; its log ($DAXFS_DOCKER_STATE/containerd.log) ends with:"
            tail -n 20 "$DAXFS_DOCKER_STATE/containerd.log" >&2
            return 1
        fi
    fi
    # Clear a socket or pid file a killed dockerd left behind.
    if [[ -S "$DAXFS_DOCKER_SOCK" ]] && ! pgrep -x dockerd >/dev/null; then
        rm -f -- "$DAXFS_DOCKER_SOCK" /var/run/docker.pid
    fi
    _docker_start_daemon dockerd dockerd --containerd="$csock" --host="unix://$DAXFS_DOCKER_SOCK"
    if ! _docker_wait_for docker_engine_answers; then
        warn "dockerd did not answer within 60 s; its log ($DAXFS_DOCKER_STATE/dockerd.log) ends with:"
        tail -n 20 "$DAXFS_DOCKER_STATE/dockerd.log" >&2
        docker_engine_down
        return 1
    fi
    log "Docker engine up: $(docker version --format 'server {{.Server.Version}}' 2>/dev/null)"
}

# Stops dockerd and containerd if docker_engine_up started them; leaves any other engine alone.
docker_engine_down() {
    local name pid i
    for name in dockerd containerd; do
        pid=$(_docker_started_pid "$name") || { rm -f -- "$DAXFS_DOCKER_STATE/$name.pid"; continue; }
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 300; i++)); do
            pid_alive "$pid" || break
            sleep 0.1
        done
        if pid_alive "$pid"; then
            warn "$name (pid $pid) did not stop within 30 s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f -- "$DAXFS_DOCKER_STATE/$name.pid"
        log "stopped $name (pid $pid)"
    done
    # containerd-shim processes of containers that outlived dockerd (none normally).
    return 0
}

# The first Debian mirror URI that the host's apt uses for suite $1 (deb822 .sources files
# and one-line .list files). Plain POSIX awk (a fresh machine has mawk, not gawk).
_docker_host_mirror() {
    local suite=$1 f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] || continue
        if [[ "$f" == *.sources ]]; then
            awk -v suite="$suite" '
                function flush() {
                    if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uris != "") {
                        split(uris, u, " "); print u[1]; done = 1
                    }
                    types = ""; uris = ""; suites = ""
                }
                done { next }
                /^[ \t]*$/ { flush(); next }
                $1 == "Types:" { types = substr($0, index($0, ":") + 2) }
                $1 == "URIs:" { uris = substr($0, index($0, ":") + 2) }
                $1 == "Suites:" { suites = substr($0, index($0, ":") + 2) }
                END { if (!done) flush() }
            ' "$f"
        else
            awk -v suite="$suite" '
                $1 == "deb" {
                    i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                    if ($(i + 1) == suite) print $i
                }
            ' "$f"
        fi
    done | head -n1 | grep .
}

# The recipe's text: what goes into the hash that tags the image.
_docker_base_recipe() {
    printf 'version=%s\nsuite=%s\nmirror=%s\nvariant=%s\n' "$DAXFS_BASE_RECIPE_VERSION" "$1" "$2" "$DAXFS_BASE_VARIANT"
    declare -f _docker_build_base
}

# Builds the base image $3 from suite $1 and mirror $2.
_docker_build_base() {
    local suite=$1 mirror=$2 tag=$3 root rc=0
    need_packages debootstrap || return 1
    root=$(mktemp -d "${TMPDIR:-/tmp}/daxfs-base.XXXXXX")
    log "building the base image $tag: debootstrap --variant=$DAXFS_BASE_VARIANT $suite from $mirror (about a minute)"
    if ! nice -n 10 debootstrap --variant="$DAXFS_BASE_VARIANT" "$suite" "$root" "$mirror" \
        >"$root.log" 2>&1; then
        warn "debootstrap failed; the end of its log ($root.log):"
        tail -n 20 "$root.log" >&2
        rm -rf -- "$root"
        return 1
    fi
    # The same Debian sources as the host: the release, its updates and security.
    {
        printf 'deb %s %s main\n' "$mirror" "$suite"
        printf 'deb %s %s-updates main\n' "$mirror" "$suite"
        local sec
        sec=$(_docker_host_mirror "$suite-security" 2>/dev/null || true)
        [[ -n "$sec" ]] && printf 'deb %s %s-security main\n' "$sec" "$suite"
    } >"$root/etc/apt/sources.list"
    # Smaller and quieter: no apt lists or caches in the image, no man pages on install.
    rm -rf -- "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
    printf 'path-exclude /usr/share/man/*\npath-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\n' \
        >"$root/etc/dpkg/dpkg.cfg.d/01-daxfs-nodoc"
    tar -C "$root" -c . | docker import \
        -c 'ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        -c 'CMD ["/bin/bash"]' - "$tag" >/dev/null || rc=$?
    rm -rf -- "$root" "$root.log"
    if ((rc != 0)); then
        warn "docker import of the base image failed"
        return 1
    fi
    docker tag "$tag" "$DAXFS_BASE_REPO:latest" >/dev/null
    log "built $tag"
}

# Prints the base image's tag (repository:hash), building the image if it is absent.
docker_base_image() {
    local suite mirror hash tag
    suite=${DAXFS_BASE_SUITE:-$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")}
    [[ -n "$suite" ]] || { warn "cannot tell the Debian suite (no VERSION_CODENAME in /etc/os-release); set DAXFS_BASE_SUITE"; return 1; }
    mirror=${DAXFS_BASE_MIRROR:-$(_docker_host_mirror "$suite" || true)}
    [[ -n "$mirror" ]] || { warn "no Debian mirror for $suite in /etc/apt/sources.list*; set DAXFS_BASE_MIRROR"; return 1; }
    hash=$(_docker_base_recipe "$suite" "$mirror" | sha256sum | cut -c1-12)
    tag="$DAXFS_BASE_REPO:$hash"
    if ! docker image inspect "$tag" >/dev/null 2>&1; then
        _docker_build_base "$suite" "$mirror" "$tag" >&2 || return 1
    fi
    printf '%s\n' "$tag"
}

# The image of the PostgreSQL container test (and the two-container test): the base plus
# Debian's PostgreSQL 15 (postgres, pgbench, pg_amcheck, amcheck) and what daxfs needs at run
# time (libfuse2, fuse3, util-linux, procps, psmisc). The JDK is not in it: the tests bind-mount
# the host's read-only. Dockerfile text, after its FROM line:
DAXFS_PG_DOCKERFILE='RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends postgresql-15 libfuse2 fuse3 util-linux procps psmisc \
 && rm -rf /var/lib/apt/lists/*'

# docker_derived_image NAME BASE_TAG DOCKERFILE_BODY: builds NAME:HASH FROM BASE_TAG unless it
# exists (HASH covers the base tag and the Dockerfile) and prints the tag.
docker_derived_image() {
    local name=$1 base=$2 body=$3 tag df
    tag="$name:$(printf '%s\n%s\n' "$base" "$body" | sha256sum | cut -c1-12)"
    if ! docker image inspect "$tag" >/dev/null 2>&1; then
        log "building $tag from $base (docker build; apt-get inside, about a minute)"
        df=$(printf 'FROM %s\n%s\n' "$base" "$body")
        if ! printf '%s\n' "$df" | nice -n 10 docker build -q -t "$tag" - >"$DAXFS_DOCKER_STATE/build-$name.log" 2>&1; then
            warn "docker build of $tag failed; the end of its log ($DAXFS_DOCKER_STATE/build-$name.log):"
            tail -n 20 "$DAXFS_DOCKER_STATE/build-$name.log" >&2
            return 1
        fi
        docker tag "$tag" "$name:latest" >/dev/null
    fi
    printf '%s\n' "$tag"
}

# Prints "base=TAG" and "pg=TAG", building what is missing (engine must be up).
docker_test_images() {
    local base pg
    base=$(docker_base_image) || return 1
    mkdir -p -- "$DAXFS_DOCKER_STATE"
    pg=$(docker_derived_image daxfs-pg "$base" "$DAXFS_PG_DOCKERFILE") || return 1
    printf 'base=%s\npg=%s\n' "$base" "$pg"
}

docker_status() {
    local name pid
    if docker_engine_answers; then
        echo "engine: running ($(docker version --format 'server {{.Server.Version}}' 2>/dev/null))"
    else
        echo "engine: not answering on $DAXFS_DOCKER_SOCK"
    fi
    for name in containerd dockerd; do
        if pid=$(_docker_started_pid "$name"); then echo "$name: started by daxfs, pid $pid"; fi
    done
    if docker_engine_answers; then
        docker image ls "$DAXFS_BASE_REPO" 2>/dev/null
    fi
}

# Run as a command.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    DAXFS_PROG=docker
    case "${1:-}" in
        up) docker_engine_up && docker_test_images ;;
        down) docker_engine_down ;;
        base-image) docker_engine_up && docker_base_image ;;
        status) docker_status ;;
        *)
            sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            [[ "${1:-}" == -h || "${1:-}" == --help ]]
            ;;
    esac
fi
