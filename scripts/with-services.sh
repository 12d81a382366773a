#!/usr/bin/env bash
# Functions only reached via traps look unreachable to shellcheck:
# shellcheck disable=SC2317

# Run a command with private, throw-away PostgreSQL and Redis instances.
#
# Usage: scripts/with-services.sh CMD [ARGS...]
#
# - If DATABASE_URL is unset/empty, a private PostgreSQL cluster is created in a temp dir
#   and started on a free port on 127.0.0.1; DATABASE_URL is exported. Likewise Redis and
#   REDIS_URL. Services given via the environment are used as they are and left alone.
# - The private PostgreSQL trades durability for speed (fsync, synchronous_commit and
#   full_page_writes off), which tests can afford; GAVEL_PG_DURABLE=1 keeps PostgreSQL's
#   durable defaults (the bench: what production runs).
# - Always exported: GAVEL_TEST_PG_BIN (PostgreSQL server bin dir, so tests can start
#   extra private clusters) and GAVEL_TEST_PG_RUNAS ("postgres" when running as root).
# - Missing packages (postgresql, redis-server) are installed with apt-get.
#
# Starting and stopping the servers is gavel-services' job (crates/devkit, the code the
# tests' private servers use too); this script keeps the command's life: the command's
# exit code is propagated; whatever was started is stopped and the temp dir removed on
# exit. INT/TERM/HUP are passed on to the command, which is waited for before the
# services stop.
set -euo pipefail

log() { printf 'with-services: %s\n' "$*" >&2; }

if [[ $# -eq 0 ]]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SQLX_OFFLINE=true cargo build -q --manifest-path "$root/Cargo.toml" \
    -p gavel-devkit --bin gavel-services >&2
services=${CARGO_TARGET_DIR:-$root/target}/debug/gavel-services

# Under /tmp, which the postgres system user can reach (a TMPDIR under /root it cannot).
dir=$(mktemp -d /tmp/gavel-services.XXXXXX)
cleaned=false
cleanup() {
    $cleaned && return 0
    cleaned=true
    "$services" down "$dir" || true
}
on_exit() {
    local rc=$?
    cleanup
    exit "$rc"
}
on_signal() {
    trap - "$1"
    log "caught SIG$1, stopping services"
    cleanup
    exit "$2"
}
trap on_exit EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
trap 'on_signal HUP 129' HUP

exports=$("$services" up "$dir") || exit 1
eval "$exports"

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
