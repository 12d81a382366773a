#!/usr/bin/env bash
# Functions only reached via traps look unreachable to shellcheck:
# shellcheck disable=SC2317
# Chaos run: about 100,000 colliding bids through two gavel instances sharing one private
# PostgreSQL and one private Redis, while Redis is flushed, stopped and restarted,
# PostgreSQL is restarted, and one instance is killed with SIGKILL and started again.
# Then it checks the books and prints the counts:
#   - no acknowledged bid lost: every bid answered 201 is in PostgreSQL;
#   - accepted english bids, ordered by id, rise by at least the increment;
#   - each auction's bid_count and highest bid match its stored bids;
#   - the only failures are honest: 503 (database_unavailable, overloaded, timeout) or no
#     answer at all (the killed instance), never a 500 or another code.
# Exits non-zero when a check fails. All load goes to 127.0.0.1; it stops by itself.
#
# Env: CHAOS_BIDS (100000), CHAOS_RATE (bids a second, open loop; 4000),
#      CHAOS_BUILD (0 to use target/release as it is).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bids=${CHAOS_BIDS:-100000}
rate=${CHAOS_RATE:-4000}
seconds=$(((bids + rate - 1) / rate))

if [[ "${CHAOS_BUILD:-1}" != 0 ]]; then
    SQLX_OFFLINE=true cargo build --release --bin gavel --bin gavel-loadgen >&2
fi

SVC_LOG_TAG=chaos # read by services.sh
# shellcheck source-path=SCRIPTDIR source=services.sh
source scripts/services.sh

log() { printf 'chaos: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

dir=$(mktemp -d /tmp/gavel-chaos.XXXXXX)
chmod 755 "$dir"
gavel_pids=()
cleanup() {
    local p
    for p in "${gavel_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    svc_redis_kill "$dir/redis" >/dev/null 2>&1 || true
    svc_pg_stop "$dir/pg" immediate >/dev/null 2>&1 || true
    rm -rf -- "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_port=$(free_port)
redis_port=$(free_port)
svc_pg_start "$dir/pg" "$pg_port" || die "PostgreSQL did not start"
svc_redis_start "$dir/redis" "$redis_port" || die "Redis did not start"
db="postgres://postgres@127.0.0.1:$pg_port/postgres"
pg_bin=$(svc_find_pg_bin)
psql_() { "$pg_bin/psql" -qAtX -v ON_ERROR_STOP=1 "$db" "$@"; }
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')

# start_gavel NAME PORT: starts an instance, records its pid in gavel_pids[NAME].
declare -A pid_of
start_gavel() {
    env DATABASE_URL="$db" REDIS_URL="redis://127.0.0.1:$redis_port" PORT="$2" \
        GAVEL_BIND=127.0.0.1 GAVEL_ADMIN_TOKEN="$token" GAVEL_RATE_LIMIT=0 RUST_LOG=warn \
        GAVEL_DB_ACQUIRE_TIMEOUT_MS=1000 GAVEL_REQUEST_TIMEOUT_MS=5000 \
        target/release/gavel serve >>"$dir/$1.log" 2>&1 &
    pid_of[$1]=$!
    gavel_pids+=("$!")
}
wait_ready() {
    local i
    for ((i = 0; i < 100; i++)); do
        curl -sf "http://127.0.0.1:$1/ready" >/dev/null && return 0
        sleep 0.2
    done
    die "instance on port $1 not ready"
}

port_a=$(free_port)
port_b=$(free_port)
start_gavel a "$port_a"
start_gavel b "$port_b"
wait_ready "$port_a"
wait_ready "$port_b"

log "$bids bids at $rate/s over two instances (${seconds}s), with faults"
target/release/gavel-loadgen --url "http://127.0.0.1:$port_a" \
    --also-url "http://127.0.0.1:$port_b" --admin-token "$token" \
    --workload bids --auctions 10 --bidders 32 --connections 64 \
    --rate "$rate" --seconds "$seconds" --warmup-seconds 0 --timeout-seconds 8 \
    --ack-log "$dir/answers" >"$dir/report.json" 2>"$dir/loadgen.err" &
loadgen=$!

fault() {
    sleep "$1"
    shift
    log "fault: $*"
}
{
    fault 3 "redis FLUSHALL"
    "$(dirname "$(command -v redis-cli)")/redis-cli" -p "$redis_port" flushall >/dev/null
    fault 2 "redis stopped"
    svc_redis_stop "$dir/redis" >/dev/null
    fault 3 "redis started again"
    svc_redis_start "$dir/redis" "$redis_port" >/dev/null
    fault 3 "PostgreSQL stopped"
    svc_pg_stop "$dir/pg" fast >/dev/null
    fault 2 "PostgreSQL started again"
    svc_pg_start "$dir/pg" "$pg_port" >/dev/null
    fault 3 "instance b killed (SIGKILL)"
    kill -9 "${pid_of[b]}"
} 2>&1 | sed 's/^/  /' >&2
sleep 2
log "fault: instance b started again"
start_gavel b "$port_b"
sleep 2
"$(dirname "$(command -v redis-cli)")/redis-cli" -p "$redis_port" flushall >/dev/null
log "fault: redis FLUSHALL"
wait "$loadgen" || die "the load generator failed: $(cat "$dir/loadgen.err")"

# ------------------------------------------------------------------ checks --

failed=0
check() { # check NAME VALUE: VALUE must be 0
    if [[ "$2" == 0 ]]; then
        printf '  %-58s ok\n' "$1"
    else
        printf '  %-58s FAILED (%s)\n' "$1" "$2"
        failed=1
    fi
}
grep '^ack ' "$dir/answers" | cut -d' ' -f2 >"$dir/acked"
psql_ -c "CREATE TEMP TABLE acked (id BIGINT)" -c "\\copy acked FROM '$dir/acked'" \
    -c "SELECT count(*) FROM acked a LEFT JOIN bids b ON b.id = a.id WHERE b.id IS NULL" \
    >"$dir/lost"
lost=$(tail -n1 "$dir/lost")
not_rising=$(psql_ -c "
    SELECT count(*) FROM (
        SELECT b.amount - lag(b.amount) OVER (PARTITION BY b.auction_id ORDER BY b.id) AS step,
               a.min_increment
        FROM bids b JOIN auctions a ON a.id = b.auction_id WHERE a.kind = 'english') s
    WHERE step < min_increment")
off_books=$(psql_ -c "
    SELECT count(*) FROM auctions a
    WHERE a.bid_count <> (SELECT count(*) FROM bids WHERE auction_id = a.id)
       OR a.highest_bid_id IS DISTINCT FROM
          (SELECT id FROM bids WHERE auction_id = a.id ORDER BY amount DESC, id LIMIT 1)")
dishonest=$(grep '^err ' "$dir/answers" |
    grep -cvE '^err (503 (database_unavailable|overloaded|timeout)|transport)$' || true)

stored=$(psql_ -c "SELECT count(*) FROM bids")
acked=$(wc -l <"$dir/acked")
echo
echo "chaos run: $bids bids at $rate/s through two instances"
python3 - "$dir/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"  sent {r['total_requests']}, answers by status: {json.dumps(r['status'], sort_keys=True)}")
PY
echo "  acknowledged (201): $acked; stored bids: $stored"
grep '^err ' "$dir/answers" | sort | uniq -c | sort -rn | sed 's/^/  /' || true
echo "checks:"
check "acknowledged bids missing from PostgreSQL" "$lost"
check "english bids (by id) rising by less than the increment" "$not_rising"
check "auctions whose bid_count or highest bid disagree with bids" "$off_books"
check "answers other than 201, 409, 503 or no answer" "$dishonest"
exit "$failed"
