#!/usr/bin/env bash
# Functions only reached via traps look unreachable to shellcheck:
# shellcheck disable=SC2317

# Run a command with private, throw-away PostgreSQL and Redis instances.
#
# Usage: scripts/with-services.sh CMD [ARGS...]
#
# - If DATABASE_URL is unset/empty, a private PostgreSQL cluster is created in
#   a temp dir and started on a free port on 127.0.0.1; DATABASE_URL is
#   exported as postgres://postgres@127.0.0.1:PORT/postgres.
# - If REDIS_URL is unset/empty, a private redis-server is started on a free
#   port on 127.0.0.1; REDIS_URL is exported as redis://127.0.0.1:PORT.
# - Services given via the environment are used as they are and left alone.
# - Always exported: GAVEL_TEST_PG_BIN (PostgreSQL server bin dir, so tests
#   can start extra private clusters) and GAVEL_TEST_PG_RUNAS ("postgres" when
#   running as root, since PostgreSQL refuses to run as root; empty otherwise).
# - Missing packages (postgresql, redis-server) are installed with apt-get.
#
# The command's exit code is propagated; whatever was started is stopped and
# the temp dir removed on exit (also on INT/TERM/HUP).
set -euo pipefail

log() { printf 'with-services: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

if [[ $# -eq 0 ]]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

START_TIMEOUT=30 # seconds to wait for each service to become ready

need_pg=false
need_redis=false
[[ -z "${DATABASE_URL:-}" ]] && need_pg=true
[[ -z "${REDIS_URL:-}" ]] && need_redis=true

is_root=false
[[ $(id -u) -eq 0 ]] && is_root=true

# ---------------------------------------------------------------- packages --

# Print the PostgreSQL server bin dir (the one containing initdb, pg_ctl and
# postgres), or nothing if none is found.
find_pg_bin() {
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

PG_BIN=$(find_pg_bin)

missing_pkgs=()
[[ -z "$PG_BIN" ]] && missing_pkgs+=(postgresql)
if $need_redis && ! { command -v redis-server && command -v redis-cli; } >/dev/null 2>&1; then
    missing_pkgs+=(redis-server)
fi

if [[ ${#missing_pkgs[@]} -gt 0 ]]; then
    sudo=()
    can_install=false
    if command -v apt-get >/dev/null 2>&1; then
        if $is_root; then
            can_install=true
        elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
            can_install=true
        fi
    fi
    if $can_install; then
        log "installing missing packages: ${missing_pkgs[*]}"
        {
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update &&
                "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing_pkgs[@]}"
        } >&2 || die "apt-get install ${missing_pkgs[*]} failed"
        PG_BIN=$(find_pg_bin)
    elif $need_pg || $need_redis; then
        die "missing packages: ${missing_pkgs[*]} (install them, e.g. apt-get install ${missing_pkgs[*]})"
    fi
fi

if [[ -z "$PG_BIN" ]]; then
    $need_pg && die "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found"
    log "warning: no PostgreSQL server binaries found; GAVEL_TEST_PG_BIN will be empty"
fi

# PostgreSQL refuses to run as root: use the 'postgres' system user then.
PG_RUNAS=
if $is_root; then
    PG_RUNAS=postgres
    if ! id -u "$PG_RUNAS" >/dev/null 2>&1; then
        log "creating system user $PG_RUNAS"
        useradd --system --user-group --no-create-home \
            --home-dir /var/lib/postgresql --shell /bin/bash "$PG_RUNAS" ||
            die "could not create user $PG_RUNAS"
    fi
fi

export GAVEL_TEST_PG_BIN="$PG_BIN"
export GAVEL_TEST_PG_RUNAS="$PG_RUNAS"

# ----------------------------------------------------------------- cleanup --

TMP_DIR=
PG_DATA=
PG_STARTED=false
REDIS_PID=
REDIS_PORT=
CLEANED=false

# Run a command as the PostgreSQL user (from a directory it can access).
pg_run() {
    if [[ -n "$PG_RUNAS" ]]; then
        (cd "$TMP_DIR" && runuser -u "$PG_RUNAS" -- "$@")
    else
        "$@"
    fi
}

stop_pg() {
    $PG_STARTED || return 0
    PG_STARTED=false
    if ! pg_run "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 20 stop >/dev/null 2>&1; then
        # Not stopped (or never fully started): kill the postmaster directly.
        local pid
        pid=$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)
        if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
            kill -QUIT "$pid" 2>/dev/null || true
            sleep 1
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
}

stop_redis() {
    [[ -n "$REDIS_PID" ]] || return 0
    local pid=$REDIS_PID
    REDIS_PID=
    if kill -0 "$pid" 2>/dev/null; then
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
        local i
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    $CLEANED && return 0
    CLEANED=true
    set +e
    stop_redis
    stop_pg
    if [[ -n "$TMP_DIR" && -d "$TMP_DIR" ]]; then
        rm -rf -- "$TMP_DIR"
    fi
}

on_exit() {
    local rc=$?
    cleanup
    exit "$rc"
}
on_signal() {
    local sig=$1 code=$2
    trap - "$sig"
    log "caught SIG$sig, stopping services"
    cleanup
    exit "$code"
}
trap on_exit EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
trap 'on_signal HUP 129' HUP

# ------------------------------------------------------------------- ports --

port_in_use() {
    local port=$1
    if command -v ss >/dev/null 2>&1; then
        [[ -n "$(ss -Htan "sport = :$port" 2>/dev/null)" ]]
        return
    fi
    if [[ -r /proc/net/tcp ]]; then
        local hex f _sl addr _rest
        printf -v hex ':%04X' "$port"
        for f in /proc/net/tcp /proc/net/tcp6; do
            [[ -r "$f" ]] || continue
            while read -r _sl addr _rest; do
                [[ "$addr" == *"$hex" ]] && return 0
            done <"$f"
        done
        return 1
    fi
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

# Print a free TCP port, searching upward from $1.
free_port() {
    local port=$1 end=$(($1 + 500))
    for (( ; port < end && port < 65536; port++)); do
        if ! port_in_use "$port"; then
            printf '%d\n' "$port"
            return 0
        fi
    done
    die "no free TCP port found in $1..$((end - 1))"
}

# Random start offset so that concurrent runs rarely race for the same port;
# a bind failure is retried with the next port anyway.
NEXT_PORT=$((55432 + RANDOM % 1000))

# ---------------------------------------------------------------- temp dir --

if $need_pg || $need_redis; then
    TMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/gavel-services.XXXXXX")
    if [[ -n "$PG_RUNAS" ]] && $need_pg; then
        chown "$PG_RUNAS:" "$TMP_DIR"
        if ! runuser -u "$PG_RUNAS" -- test -w "$TMP_DIR"; then
            # TMPDIR not reachable by the postgres user (e.g. under /root).
            rm -rf -- "$TMP_DIR"
            TMP_DIR=$(mktemp -d /tmp/gavel-services.XXXXXX)
            chown "$PG_RUNAS:" "$TMP_DIR"
        fi
    fi
fi

# -------------------------------------------------------------- PostgreSQL --

start_pg() {
    PG_DATA="$TMP_DIR/pgdata"
    if ! pg_run "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -A trust -E UTF8 \
        --locale=C --no-sync >"$TMP_DIR/initdb.log" 2>&1; then
        cat "$TMP_DIR/initdb.log" >&2
        die "initdb failed"
    fi

    local attempt port pg_log="$TMP_DIR/postgres.log"
    for attempt in 1 2 3 4 5; do
        port=$(free_port "$NEXT_PORT")
        NEXT_PORT=$((port + 1))
        # Later settings win, so re-appending per attempt is fine.
        cat >>"$PG_DATA/postgresql.conf" <<EOF

# --- with-services.sh (attempt $attempt) ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$TMP_DIR'
max_connections = 400
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
        PG_STARTED=true
        if ! pg_run "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$pg_log" -w -t "$START_TIMEOUT" \
            start >/dev/null 2>&1; then
            if grep -qiE 'could not (bind|create listen)|address already in use' "$pg_log" 2>/dev/null; then
                log "port $port was taken, retrying"
                stop_pg
                continue
            fi
            cat "$pg_log" >&2 2>/dev/null || true
            die "PostgreSQL failed to start (log above)"
        fi
        local deadline=$((SECONDS + START_TIMEOUT))
        until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 2; do
            if ((SECONDS >= deadline)); then
                cat "$pg_log" >&2
                die "PostgreSQL not ready after ${START_TIMEOUT}s (pg_isready on 127.0.0.1:$port)"
            fi
            sleep 0.2
        done
        export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
        log "PostgreSQL ready on 127.0.0.1:$port (data dir $PG_DATA)"
        return 0
    done
    die "could not start PostgreSQL on a free port"
}

# ------------------------------------------------------------------- Redis --

start_redis() {
    local dir="$TMP_DIR/redis" attempt port redis_log redis_out
    mkdir -p "$dir"
    redis_log="$dir/redis.log"
    redis_out="$dir/redis.out"
    for attempt in 1 2 3 4 5; do
        port=$(free_port "$NEXT_PORT")
        NEXT_PORT=$((port + 1))
        : >"$redis_log"
        : >"$redis_out"
        REDIS_PORT=$port
        redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
            --daemonize no --dir "$dir" --logfile "$redis_log" \
            </dev/null >"$redis_out" 2>&1 &
        REDIS_PID=$!

        local deadline=$((SECONDS + START_TIMEOUT)) reply
        while :; do
            reply=$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)
            if [[ "$reply" == PONG ]]; then
                export REDIS_URL="redis://127.0.0.1:$port"
                log "Redis ready on 127.0.0.1:$port"
                return 0
            fi
            if ! kill -0 "$REDIS_PID" 2>/dev/null; then
                wait "$REDIS_PID" 2>/dev/null || true
                REDIS_PID=
                if grep -qiE 'address already in use|could not create server tcp' "$redis_log" "$redis_out"; then
                    log "port $port was taken, retrying"
                    continue 2
                fi
                cat "$redis_out" "$redis_log" >&2
                die "redis-server failed to start (log above)"
            fi
            if ((SECONDS >= deadline)); then
                cat "$redis_log" >&2
                die "Redis not ready after ${START_TIMEOUT}s (redis-cli -p $port ping)"
            fi
            sleep 0.1
        done
    done
    die "could not start redis-server on a free port"
}

if $need_pg; then start_pg; fi
if $need_redis; then start_redis; fi

# --------------------------------------------------------------------- run --

# Not exec'd, so the traps can clean up afterwards.
rc=0
"$@" || rc=$?
exit "$rc"
