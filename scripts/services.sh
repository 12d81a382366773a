#!/usr/bin/env bash
# Private, throw-away PostgreSQL clusters and Redis servers: the one place that
# knows how to start and stop them. Used two ways:
#
#   source scripts/services.sh         functions only (svc_*); sets no shell
#                                      options and starts nothing
#                                      (scripts/with-services.sh does this)
#   scripts/services.sh SUBCOMMAND ... one action (the Rust test harness's
#                                      PrivatePostgres / PrivateRedis do this)
#
# Subcommands (DIR holds one server's files; it is created if missing):
#
#   pg-start DIR PORT [NAME=VALUE...]
#       The first time, initdb into DIR/pgdata (superuser postgres, trust
#       authentication). Then start the cluster on 127.0.0.1:PORT with its unix
#       socket in DIR, fsync off and any NAME=VALUE settings, and wait until
#       pg_isready answers. Run again after pg-stop, it restarts the same cluster.
#       As root the cluster runs as the 'postgres' system user (created if
#       missing; PostgreSQL refuses root), and DIR is handed to that user.
#   pg-stop DIR [fast|immediate]
#       Stop it (default fast); kills the postmaster if pg_ctl cannot.
#   redis-start DIR PORT
#       redis-server on 127.0.0.1:PORT, daemonized, pidfile DIR/redis.pid, log
#       DIR/redis.log, no persistence (--save "" --appendonly no); waits until
#       it answers PING.
#   redis-stop DIR
#       Graceful (SIGTERM, SIGKILL after 5s); waits until it is gone.
#   redis-kill DIR
#       SIGKILL via the pidfile; waits until it is gone.
#   pg-bin
#       Print the PostgreSQL server bin dir.
#
# Stopping something that is not running succeeds.
# Exit codes: 0 done; 1 failed (the server's log is printed on stderr);
# 2 usage; 3 PORT is taken (nothing is left running: retry on another port).
#
# Env: GAVEL_TEST_PG_BIN  PostgreSQL server bin dir to prefer (else pg_config
#                         --bindir, the newest /usr/lib/postgresql/*/bin, PATH)
#      SVC_START_TIMEOUT  seconds to wait for a server to be ready (30)
#
# The functions never rely on `set -e` (a caller may run them under `if` or
# `||`, where it is off): each failure is checked and returned. Nor do they use
# a bare `return`: in a function called from a trap (with-services.sh stops
# servers from its EXIT trap), that returns the status from before the trap.

SVC_START_TIMEOUT=${SVC_START_TIMEOUT:-30}
SVC_PORT_TAKEN=3

# Prefix of messages; a script that sources this file may set its own.
SVC_LOG_TAG=${SVC_LOG_TAG:-services.sh}

svc_log() { printf '%s: %s\n' "$SVC_LOG_TAG" "$*" >&2; }

# --------------------------------------------------------------- helpers --

# Is PID a live process? A zombie (killed, not yet reaped) counts as gone.
svc_alive() {
    local pid=$1 stat
    kill -0 "$pid" 2>/dev/null || return 1
    if stat=$(cat "/proc/$pid/stat" 2>/dev/null); then
        stat=${stat##*) }
        [[ "${stat%% *}" == Z ]] && return 1
    fi
    return 0
}

# Wait up to $2 seconds for PID $1 to be gone.
svc_wait_gone() {
    local pid=$1 i
    for ((i = 0; i < $2 * 10; i++)); do
        svc_alive "$pid" || return 0
        sleep 0.1
    done
    ! svc_alive "$pid"
}

# Size of a file in bytes (0 if missing), to read only what a start appends.
svc_size() {
    local n=0
    if [[ -f "$1" ]]; then n=$(wc -c <"$1") || n=0; fi
    printf '%d\n' "$((n))"
}

# What file $1 got past offset $2.
svc_tail_from() { tail -c "+$(($2 + 1))" "$1" 2>/dev/null || true; }

# Print DIR as an absolute path (DIR must exist).
svc_abs_dir() { (cd -- "$1" && pwd -P); }

svc_check_port() {
    [[ "$1" =~ ^[0-9]+$ ]] && (($1 > 0 && $1 < 65536)) && return 0
    svc_log "error: bad port '$1'"
    return 2
}

# ------------------------------------------------------------ PostgreSQL --

# Print the PostgreSQL server bin dir (the one containing initdb, pg_ctl and
# postgres), or nothing if none is found.
svc_find_pg_bin() {
    local d cand=()
    if [[ -n "${GAVEL_TEST_PG_BIN:-}" ]]; then
        cand+=("$GAVEL_TEST_PG_BIN")
    fi
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null || true)
        [[ -n "$d" ]] && cand+=("$d")
    fi
    # Newest versioned Debian/Ubuntu install.
    while IFS= read -r d; do
        [[ -n "$d" ]] && cand+=("$d")
    done < <(
        shopt -s nullglob
        for d in /usr/lib/postgresql/*/bin; do printf '%s\n' "$d"; done | sort -Vr
    )
    # Whatever is on PATH (resolving symlinks, e.g. /usr/local/bin/initdb).
    if d=$(command -v initdb 2>/dev/null); then
        d=$(readlink -f "$d")
        cand+=("${d%/*}")
    fi
    for d in "${cand[@]}"; do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]]; then
            printf '%s\n' "$d"
            return 0
        fi
    done
    return 0
}

# Print the user PostgreSQL must run as: 'postgres' when running as root
# (PostgreSQL refuses root; the system user is created if missing), nothing
# otherwise.
svc_pg_user() {
    [[ $(id -u) -eq 0 ]] || return 0
    if ! id -u postgres >/dev/null 2>&1; then
        svc_log "creating system user postgres"
        # A concurrent caller may have created it meanwhile: check again.
        if ! useradd --system --user-group --no-create-home \
            --home-dir /var/lib/postgresql --shell /bin/bash postgres >&2 &&
            ! id -u postgres >/dev/null 2>&1; then
            svc_log "error: could not create user postgres"
            return 1
        fi
    fi
    printf 'postgres\n'
}

# svc_pg_as USER DIR CMD...: run CMD as USER (if set) from DIR, a directory
# that USER can access.
svc_pg_as() {
    local user=$1 dir=$2
    shift 2
    if [[ -n "$user" ]]; then
        (cd -- "$dir" && runuser -u "$user" -- "$@")
    else
        "$@"
    fi
}

# svc_pg_start DIR PORT [NAME=VALUE...]: see pg-start above. Returns 0, 1, or
# $SVC_PORT_TAKEN.
svc_pg_start() {
    local dir=$1 port=$2
    shift 2
    svc_check_port "$port" || return 2
    local bin user
    bin=$(svc_find_pg_bin)
    if [[ -z "$bin" ]]; then
        svc_log "error: no PostgreSQL server binaries (initdb, pg_ctl, postgres) found"
        return 1
    fi
    user=$(svc_pg_user) || return 1
    mkdir -p -- "$dir" && dir=$(svc_abs_dir "$dir") || return 1
    if [[ -n "$user" ]]; then
        chown "$user:" "$dir" || return 1
        if ! runuser -u "$user" -- test -w "$dir"; then
            svc_log "error: $dir is out of reach of user $user (a parent directory is closed?)"
            return 1
        fi
    fi
    local data="$dir/pgdata" log="$dir/postgres.log" ctl_out="$dir/pg_ctl.out"

    if [[ ! -f "$data/PG_VERSION" ]]; then
        if ! svc_pg_as "$user" "$dir" "$bin/initdb" -D "$data" -U postgres -A trust \
            -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
            cat "$dir/initdb.log" >&2
            svc_log "error: initdb failed (log above)"
            return 1
        fi
        # The settings of each start, written below; later settings win.
        printf "\n# scripts/services.sh\ninclude_if_exists = 'services.conf'\n" \
            >>"$data/postgresql.conf" || return 1
    elif svc_pg_as "$user" "$dir" "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        svc_log "error: PostgreSQL in $data is already running"
        return 1
    fi

    local kv conf="$data/services.conf"
    {
        printf '# Written by scripts/services.sh at each start.\n'
        printf "listen_addresses = '127.0.0.1'\n"
        printf 'port = %d\n' "$port"
        printf "unix_socket_directories = '%s'\n" "${dir//\'/\'\'}"
        printf 'fsync = off\n'
        for kv in "$@"; do
            printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
        done
    } >"$conf" || return 1
    if [[ -n "$user" ]]; then chown "$user:" "$conf" || return 1; fi

    local from
    from=$(svc_size "$log")
    if ! svc_pg_as "$user" "$dir" "$bin/pg_ctl" -D "$data" -l "$log" -w \
        -t "$SVC_START_TIMEOUT" start >"$ctl_out" 2>&1; then
        # Not ready in time or exited: make sure nothing is left running.
        svc_pg_stop "$dir" immediate >/dev/null 2>&1
        if svc_tail_from "$log" "$from" |
            grep -qiE 'could not (bind|create listen)|address already in use'; then
            svc_log "port $port is taken"
            return "$SVC_PORT_TAKEN"
        fi
        cat "$ctl_out" >&2
        svc_tail_from "$log" "$from" >&2
        svc_log "error: PostgreSQL failed to start in $data (log above)"
        return 1
    fi

    local isready="$bin/pg_isready" deadline=$((SECONDS + SVC_START_TIMEOUT))
    [[ -x "$isready" ]] || isready=pg_isready
    until "$isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 2; do
        if ((SECONDS >= deadline)); then
            svc_tail_from "$log" "$from" >&2
            svc_pg_stop "$dir" immediate >/dev/null 2>&1
            svc_log "error: PostgreSQL not ready after ${SVC_START_TIMEOUT}s" \
                "(pg_isready on 127.0.0.1:$port; log above)"
            return 1
        fi
        sleep 0.2
    done
    return 0
}

# svc_pg_stop DIR [fast|immediate]: see pg-stop above.
svc_pg_stop() {
    local dir=$1 mode=${2:-fast}
    case $mode in
    fast | immediate | smart) ;;
    *)
        svc_log "error: bad shutdown mode '$mode' (fast or immediate)"
        return 2
        ;;
    esac
    [[ -f "$dir/pgdata/postmaster.pid" ]] || return 0 # not running
    local bin user data pid
    dir=$(svc_abs_dir "$dir") || return 1
    data="$dir/pgdata"
    bin=$(svc_find_pg_bin)
    user=$(svc_pg_user) || return 1
    if [[ -n "$bin" ]] &&
        svc_pg_as "$user" "$dir" "$bin/pg_ctl" -D "$data" -m "$mode" -w -t 20 stop \
            >/dev/null 2>&1; then
        return 0
    fi
    # Not stopped (or never fully started): end the postmaster directly.
    pid=$(head -n1 "$data/postmaster.pid" 2>/dev/null || true)
    if [[ "$pid" =~ ^[0-9]+$ ]] && svc_alive "$pid"; then
        kill -QUIT "$pid" 2>/dev/null
        if ! svc_wait_gone "$pid" 5; then
            kill -KILL "$pid" 2>/dev/null
            if ! svc_wait_gone "$pid" 10; then
                svc_log "error: PostgreSQL (pid $pid) in $data would not stop"
                return 1
            fi
        fi
    fi
    return 0
}

# ----------------------------------------------------------------- Redis --

# Print the pid of the redis-server whose pidfile is in DIR if it runs,
# nothing otherwise.
svc_redis_pid() {
    local pid comm
    pid=$(head -n1 "$1/redis.pid" 2>/dev/null) || return 0
    [[ "$pid" =~ ^[0-9]+$ ]] && svc_alive "$pid" || return 0
    # A stale pidfile may name a recycled pid.
    if comm=$(cat "/proc/$pid/comm" 2>/dev/null) && [[ "$comm" != redis* ]]; then
        return 0
    fi
    printf '%s\n' "$pid"
}

# svc_redis_start DIR PORT: see redis-start above. Returns 0, 1, or
# $SVC_PORT_TAKEN.
svc_redis_start() {
    local dir=$1 port=$2
    svc_check_port "$port" || return 2
    local tool
    for tool in redis-server redis-cli; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            svc_log "error: $tool not found (apt-get install redis-server)"
            return 1
        fi
    done
    mkdir -p -- "$dir" && dir=$(svc_abs_dir "$dir") || return 1
    local pidfile="$dir/redis.pid" log="$dir/redis.log" out="$dir/redis.out" pid
    pid=$(svc_redis_pid "$dir")
    if [[ -n "$pid" ]]; then
        svc_log "error: redis-server in $dir is already running (pid $pid)"
        return 1
    fi
    rm -f -- "$pidfile"

    local from
    from=$(svc_size "$log")
    if ! redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize yes --pidfile "$pidfile" --dir "$dir" --logfile "$log" \
        </dev/null >"$out" 2>&1; then
        cat "$out" >&2
        svc_tail_from "$log" "$from" >&2
        svc_log "error: redis-server failed to start (log above)"
        return 1
    fi

    # Ready once the server on PORT is the one whose pid is in the pidfile
    # (another server on that port would answer PING too).
    local deadline=$((SECONDS + SVC_START_TIMEOUT)) info
    while :; do
        pid=$(head -n1 "$pidfile" 2>/dev/null || true)
        if [[ "$pid" =~ ^[0-9]+$ ]]; then
            info=$(redis-cli -h 127.0.0.1 -p "$port" info server 2>/dev/null | tr -d '\r')
            if grep -qx "process_id:$pid" <<<"$info" &&
                [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]]; then
                return 0
            fi
        fi
        if svc_tail_from "$log" "$from" |
            grep -qiE 'address already in use|could not create server tcp'; then
            [[ "$pid" =~ ^[0-9]+$ ]] && svc_wait_gone "$pid" 5
            rm -f -- "$pidfile"
            svc_log "port $port is taken"
            return "$SVC_PORT_TAKEN"
        fi
        if [[ "$pid" =~ ^[0-9]+$ ]] && ! svc_alive "$pid"; then
            rm -f -- "$pidfile"
            svc_tail_from "$log" "$from" >&2
            svc_log "error: redis-server exited (log above)"
            return 1
        fi
        if ((SECONDS >= deadline)); then
            svc_tail_from "$log" "$from" >&2
            svc_redis_kill "$dir"
            svc_log "error: Redis not ready after ${SVC_START_TIMEOUT}s" \
                "(redis-cli -p $port ping; log above)"
            return 1
        fi
        sleep 0.1
    done
}

# svc_redis_signal DIR SIGNAL SECONDS: send SIGNAL to the server in DIR, wait
# up to SECONDS for it to be gone, else SIGKILL it.
svc_redis_signal() {
    local dir=$1 sig=$2 secs=$3 pid
    pid=$(svc_redis_pid "$dir")
    if [[ -n "$pid" ]]; then
        kill "-$sig" "$pid" 2>/dev/null
        if ! svc_wait_gone "$pid" "$secs"; then
            kill -KILL "$pid" 2>/dev/null
            if ! svc_wait_gone "$pid" 10; then
                svc_log "error: redis-server (pid $pid) in $dir would not die"
                return 1
            fi
        fi
    fi
    rm -f -- "$dir/redis.pid"
    return 0
}

# svc_redis_stop DIR: graceful stop (no data is kept anyway).
svc_redis_stop() { svc_redis_signal "$1" TERM 5; }

# svc_redis_kill DIR: SIGKILL, as a crash would.
svc_redis_kill() { svc_redis_signal "$1" KILL 10; }

# ------------------------------------------------------------ subcommands --

svc_usage() {
    cat >&2 <<'EOF'
usage: services.sh pg-start DIR PORT [NAME=VALUE...]
       services.sh pg-stop DIR [fast|immediate]
       services.sh redis-start DIR PORT
       services.sh redis-stop DIR
       services.sh redis-kill DIR
       services.sh pg-bin
EOF
    return 2
}

svc_main() {
    local cmd=${1:-}
    shift || true
    case $cmd in
    pg-start)
        (($# >= 2)) || { svc_usage; return 2; }
        svc_pg_start "$@"
        ;;
    pg-stop)
        (($# == 1 || $# == 2)) || { svc_usage; return 2; }
        svc_pg_stop "$@"
        ;;
    redis-start)
        (($# == 2)) || { svc_usage; return 2; }
        svc_redis_start "$@"
        ;;
    redis-stop | redis-kill)
        (($# == 1)) || { svc_usage; return 2; }
        "svc_${cmd/-/_}" "$1"
        ;;
    pg-bin)
        local bin
        bin=$(svc_find_pg_bin)
        [[ -n "$bin" ]] || { svc_log "error: no PostgreSQL server binaries found"; return 1; }
        printf '%s\n' "$bin"
        ;;
    -h | --help | help)
        svc_usage
        return 0
        ;;
    *)
        svc_usage
        ;;
    esac
}

# Run as a command (not sourced). No `set -e`: see above.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -uo pipefail
    svc_rc=0
    svc_main "$@" || svc_rc=$?
    exit "$svc_rc"
fi
