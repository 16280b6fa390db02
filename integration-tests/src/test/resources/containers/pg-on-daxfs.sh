#!/bin/bash
# pg-on-daxfs.sh STEP - PostgreSQL 15 with its data directory on a daxfs mount, inside a
# container (PostgresOnDaxfsTest runs the steps one by one and checks what they print).
#
# Steps: mount | init | bench SECONDS | crash | recover | check | stop
# Needs: DAXFS_ROOT (the repository, bind-mounted read-only, fuse-adapter/target/daxfs.jar
# built), a JDK 25 under /usr/lib/jvm, /dev/fuse and CAP_SYS_ADMIN.
set -euo pipefail

DAXFS=(env DAXFS_NO_BUILD=1 "$DAXFS_ROOT/scripts/daxfs")
IMG=/pm/pg.img  # /pm is a tmpfs of the container: the image outlives the daemon, like pmem
MNT=/mnt/pg
DATA=$MNT/data
PGBIN=/usr/lib/postgresql/15/bin
CLIENTS=4

as_pg() { runuser -u postgres -- "$@"; }
sql() { as_pg "$PGBIN/psql" -h /tmp -d bench -XAt -v ON_ERROR_STOP=1 -c "$1"; }
daemon_pids() { pgrep -f 'io.daxfs.fuse.cli.DaemonMain' || true; }

mount_daxfs() {
    mkdir -p "$MNT"
    # allow_other: PostgreSQL runs as user postgres; FUSE lets only the mounting user in without it.
    "${DAXFS[@]}" mount "$IMG" "$MNT" -o allow_other --log /pm/daemon.log
    echo "fstype=$(findmnt -n -o FSTYPE --mountpoint "$MNT")"
}

pg_start() {
    as_pg "$PGBIN/pg_ctl" -D "$DATA" -l /pm/postgres.log -w -t 300 start >/dev/null || {
        echo "pg_ctl start failed; /pm/postgres.log ends with:"
        tail -n 30 /pm/postgres.log
        return 1
    }
}

case "$1" in
    mount)
        "${DAXFS[@]}" mkfs "$IMG" --size 1G >/dev/null
        mount_daxfs
        ;;
    init)
        mkdir -p "$DATA"
        chown postgres:postgres "$DATA"
        chmod 700 "$DATA"
        as_pg "$PGBIN/initdb" -D "$DATA" -A trust --no-locale -E UTF8 >/pm/initdb.log
        # Durability settings are PostgreSQL's defaults; stated so that nobody turns them off here.
        cat >>"$DATA/postgresql.conf" <<'EOF'
listen_addresses = ''
unix_socket_directories = '/tmp'
fsync = on
synchronous_commit = on
full_page_writes = on
wal_sync_method = fdatasync
shared_buffers = 64MB
max_wal_size = 256MB
EOF
        pg_start
        as_pg "$PGBIN/createdb" -h /tmp bench
        as_pg "$PGBIN/pgbench" -h /tmp -i -s 4 -q bench >/pm/pgbench-init.log 2>&1
        echo "accounts=$(sql 'select count(*) from pgbench_accounts')"
        echo "datadir_fstype=$(findmnt -n -o FSTYPE --target "$DATA")"
        ;;
    bench)
        as_pg "$PGBIN/pgbench" -h /tmp -n -c "$CLIENTS" -j 2 -T "$2" bench >/pm/bench.out 2>&1
        cat /pm/bench.out
        echo "processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' /pm/bench.out)"
        ;;
    crash)
        h0=$(sql 'select count(*) from pgbench_history')
        echo "h0=$h0"
        rm -rf /pm/pgb
        mkdir -p /pm/pgb
        chown postgres /pm/pgb
        # -l: one log line per transaction that completed (COMMIT returned), written by pgbench
        # (in /pm/pgb, off the mount) - the transactions the clients saw committed.
        (
            cd /pm/pgb
            rc=0
            # -n: no vacuum first (pgbench would truncate pgbench_history).
            as_pg "$PGBIN/pgbench" -h /tmp -n -c "$CLIENTS" -j 2 -T 120 -P 1 -l bench >/pm/pgb/out 2>&1 || rc=$?
            echo "$rc" >/pm/pgb/rc
        ) &
        # Kill in the middle of the run: once at least 300 more transactions committed.
        for ((i = 0; i < 600; i++)); do
            n=$(sql 'select count(*) from pgbench_history' 2>/dev/null || echo "$h0")
            ((n - h0 >= 300)) && break
            sleep 0.1
        done
        pids=$(daemon_pids)
        [[ -n "$pids" ]] || { echo "no daxfs daemon to kill"; exit 1; }
        echo "killing daxfs daemon $pids with SIGKILL after $((n - h0)) new history rows"
        kill_time=$(date +%s.%N)
        # shellcheck disable=SC2086 # one or more pids
        kill -KILL $pids
        echo "kill_time=$kill_time"
        for ((i = 0; i < 600; i++)); do [[ -f /pm/pgb/rc ]] && break; sleep 0.2; done
        [[ -f /pm/pgb/rc ]] || { echo "pgbench did not end within 2 minutes of the kill"; pkill -KILL pgbench || true; }
        echo "pgbench_rc=$(cat /pm/pgb/rc 2>/dev/null || echo none)"
        tail -n 15 /pm/pgb/out | sed 's/^/pgbench: /'
        # Committed = log lines whose time field is a number (failed ones say "failed").
        echo "committed=$(cat /pm/pgb/pgbench_log.* 2>/dev/null | awk '$3 ~ /^[0-9]+$/' | wc -l)"
        # Field 5.6 is when each transaction ended (epoch seconds, microseconds).
        echo "committed_after_kill=$(cat /pm/pgb/pgbench_log.* 2>/dev/null |
            awk -v k="$kill_time" '$3 ~ /^[0-9]+$/ && $5 + $6 / 1e6 > k + 5' | wc -l)"
        # The database server goes down with its storage, as on a machine that lost power.
        pkill -KILL -u postgres || true
        for ((i = 0; i < 100; i++)); do pgrep -u postgres >/dev/null || break; sleep 0.1; done
        fusermount -u "$MNT" || umount -l "$MNT"
        echo "mounted_after=$(findmnt -n -o FSTYPE --mountpoint "$MNT" || true)"
        ;;
    recover)
        [[ -z "$(daemon_pids)" ]] || { echo "a daxfs daemon still runs"; exit 1; }
        mount_daxfs
        : >/pm/postgres.log
        pg_start
        grep -E 'not properly shut down|interrupted|redo (starts|done)|automatic recovery|ready to accept' /pm/postgres.log |
            sed 's/^/postgres: /'
        if grep -q 'automatic recovery in progress' /pm/postgres.log; then echo "crash_recovery=yes"; else echo "crash_recovery=no"; fi
        ;;
    check)
        echo "h1=$(sql 'select count(*) from pgbench_history')"
        set +e
        as_pg "$PGBIN/pg_amcheck" -h /tmp --install-missing --heapallindexed --parent-check bench >/pm/amcheck.out 2>&1
        echo "amcheck_rc=$?"
        set -e
        sed 's/^/pg_amcheck: /' /pm/amcheck.out | head -n 40
        # The TPC-B invariant: every transaction adds its delta to one account, teller, branch
        # and one history row, so the four sums are equal in any state a crash can leave.
        echo "sums=$(sql "select concat_ws(',', (select sum(abalance) from pgbench_accounts), (select sum(bbalance) from pgbench_branches), (select sum(tbalance) from pgbench_tellers), (select coalesce(sum(delta), 0) from pgbench_history))")"
        ;;
    stop)
        as_pg "$PGBIN/pg_ctl" -D "$DATA" -w -t 120 stop -m fast >/dev/null
        umount "$MNT"
        for ((i = 0; i < 300; i++)); do [[ -z "$(daemon_pids)" ]] && break; sleep 0.1; done
        set +e
        "${DAXFS[@]}" fsck "$IMG"
        echo "fsck_rc=$?"
        ;;
    *)
        echo "unknown step $1" >&2
        exit 2
        ;;
esac
