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
# - The private PostgreSQL trades durability for speed (fsync, synchronous_commit
#   and full_page_writes off), which tests can afford; GAVEL_PG_DURABLE=1 keeps
#   PostgreSQL's durable defaults (the bench: what production runs).
# - Services given via the environment are used as they are and left alone.
# - Always exported: GAVEL_TEST_PG_BIN (PostgreSQL server bin dir, so tests
#   can start extra private clusters) and GAVEL_TEST_PG_RUNAS ("postgres" when
#   running as root, since PostgreSQL refuses to run as root; empty otherwise).
# - Missing packages (postgresql, redis-server) are installed with apt-get.
#
# Starting and stopping the servers is scripts/services.sh's job (the test
# harness uses it too); this script picks the ports and cleans up.
#
# The command's exit code is propagated; whatever was started is stopped and
# the temp dir removed on exit. INT/TERM/HUP are passed on to the command, which
# is waited for before the services stop.
set -euo pipefail

SVC_LOG_TAG=with-services # read by services.sh
# shellcheck source-path=SCRIPTDIR source=services.sh
source "$(dirname "${BASH_SOURCE[0]}")/services.sh"

log() { svc_log "$@"; }
die() {
    log "error: $*"
    exit 1
}

if [[ $# -eq 0 ]]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

SVC_START_TIMEOUT=30 # seconds to wait for each service to become ready

need_pg=false
need_redis=false
[[ -z "${DATABASE_URL:-}" ]] && need_pg=true
[[ -z "${REDIS_URL:-}" ]] && need_redis=true

is_root=false
[[ $(id -u) -eq 0 ]] && is_root=true

# ---------------------------------------------------------------- packages --

PG_BIN=$(svc_find_pg_bin)

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
        PG_BIN=$(svc_find_pg_bin)
    elif $need_pg || $need_redis; then
        die "missing packages: ${missing_pkgs[*]} (install them, e.g. apt-get install ${missing_pkgs[*]})"
    fi
fi

if [[ -z "$PG_BIN" ]]; then
    $need_pg && die "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found"
    log "warning: no PostgreSQL server binaries found; GAVEL_TEST_PG_BIN will be empty"
fi

# PostgreSQL refuses to run as root: use the 'postgres' system user then
# (svc_pg_user creates it if missing).
PG_RUNAS=
if $is_root; then
    PG_RUNAS=$(svc_pg_user) || die "could not create user postgres"
fi

export GAVEL_TEST_PG_BIN="$PG_BIN"
export GAVEL_TEST_PG_RUNAS="$PG_RUNAS"

# ----------------------------------------------------------------- cleanup --

TMP_DIR=
PG_STARTED=false
REDIS_STARTED=false
CLEANED=false

stop_pg() {
    $PG_STARTED || return 0
    PG_STARTED=false
    svc_pg_stop "$TMP_DIR" fast || true
}

stop_redis() {
    $REDIS_STARTED || return 0
    REDIS_STARTED=false
    svc_redis_stop "$TMP_DIR/redis" || true
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

# The cluster's files are in $TMP_DIR/pgdata, its socket and logs in $TMP_DIR.
start_pg() {
    local attempt port rc
    for attempt in 1 2 3 4 5; do
        port=$(free_port "$NEXT_PORT")
        NEXT_PORT=$((port + 1))
        PG_STARTED=true
        rc=0
        local -a durability=(synchronous_commit=off full_page_writes=off)
        if [[ "${GAVEL_PG_DURABLE:-0}" == 1 ]]; then
            durability=(fsync=on synchronous_commit=on full_page_writes=on)
        fi
        svc_pg_start "$TMP_DIR" "$port" max_connections=400 shared_buffers=128MB \
            "${durability[@]}" || rc=$?
        if ((rc == SVC_PORT_TAKEN)); then
            log "port $port was taken, retrying (attempt $attempt)"
            continue
        fi
        ((rc == 0)) || die "PostgreSQL failed to start (log above)"
        export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
        log "PostgreSQL ready on 127.0.0.1:$port (data dir $TMP_DIR/pgdata)"
        return 0
    done
    die "could not start PostgreSQL on a free port"
}

# ------------------------------------------------------------------- Redis --

start_redis() {
    local attempt port rc
    for attempt in 1 2 3 4 5; do
        port=$(free_port "$NEXT_PORT")
        NEXT_PORT=$((port + 1))
        REDIS_STARTED=true
        rc=0
        svc_redis_start "$TMP_DIR/redis" "$port" || rc=$?
        if ((rc == SVC_PORT_TAKEN)); then
            log "port $port was taken, retrying (attempt $attempt)"
            continue
        fi
        ((rc == 0)) || die "redis-server failed to start (log above)"
        export REDIS_URL="redis://127.0.0.1:$port"
        log "Redis ready on 127.0.0.1:$port"
        return 0
    done
    die "could not start redis-server on a free port"
}

if $need_pg; then start_pg; fi
if $need_redis; then start_redis; fi

# --------------------------------------------------------------------- run --

# Not exec'd, so the traps can clean up afterwards. In the background (stdin kept), so
# that INT/TERM/HUP sent to this script alone (by a supervisor, `timeout` or CI) reach the
# command at once: bash runs no trap while it waits for a foreground command. The command
# is waited for, then the services are stopped.
child=
forward() {
    log "caught SIG$1, passing it on"
    [[ -n "$child" ]] && kill -s "$1" "$child" 2>/dev/null
}
trap 'forward INT' INT
trap 'forward TERM' TERM
trap 'forward HUP' HUP
# Bash starts background commands with INT and QUIT ignored (no job control in a script),
# and an ignored signal is inherited for good: gavel (or a nested wrapper, as in the test
# suite) could then never be stopped by a forwarded INT. `env` puts them back to default.
env --default-signal=INT,QUIT "$@" <&0 &
child=$!
rc=0
while :; do
    wait "$child" && rc=0 || rc=$?
    # A trapped signal interrupts `wait` (status > 128) while the command still runs.
    kill -0 "$child" 2>/dev/null || break
done
exit "$rc"
