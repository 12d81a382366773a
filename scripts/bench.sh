#!/usr/bin/env bash
# Bench: the same bid load (many bidders racing on a few english auctions, most bids unable
# to win) against gavel with the Redis fast path and without it, one after the other in
# one run on this machine. Prints each run's figures, their ratio, and each server's peak
# memory. Uses private PostgreSQL/Redis unless DATABASE_URL/REDIS_URL are set.
#
# Env: BENCH_SECONDS (default 10), BENCH_CONCURRENCY (64), BENCH_HOPELESS (0.8).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export SQLX_OFFLINE=true
cargo build --release --bin gavel --bin gavel-loadgen >&2

# shellcheck disable=SC2016 # expanded by the inner bash
exec scripts/with-services.sh bash -c '
set -euo pipefail
secs=${BENCH_SECONDS:-10}
conc=${BENCH_CONCURRENCY:-64}
hopeless=${BENCH_HOPELESS:-0.8}
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d " \n")

free_port() {
    local p
    while :; do
        p=$(( 20000 + RANDOM % 20000 ))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}

run() {
    local label=$1 redis=$2 port pid rss
    port=$(free_port)
    env REDIS_URL="$redis" PORT="$port" GAVEL_BIND=127.0.0.1 GAVEL_ADMIN_TOKEN="$token" \
        GAVEL_RATE_LIMIT=0 RUST_LOG=warn target/release/gavel serve >/dev/null 2>&1 &
    pid=$!
    target/release/gavel-loadgen --url "http://127.0.0.1:$port" --admin-token "$token" \
        --seconds "$secs" --concurrency "$conc" --hopeless-share "$hopeless" --label "$label"
    rss=$(awk "/VmHWM/ {print \$2}" "/proc/$pid/status")
    echo "{\"label\":\"$label\",\"server_peak_rss_kib\":$rss}"
    kill -TERM "$pid"; wait "$pid" || true
}

fast=$(run redis-fast-path "$REDIS_URL")
plain=$(run postgres-only "")
printf "%s\n" "$fast" "$plain"
rps() { grep -o "\"requests_per_sec\":[0-9.]*" <<<"$1" | cut -d: -f2; }
p99() { grep -o "\"p99\":[0-9.]*" <<<"$1" | cut -d: -f2; }
awk -v a="$(rps "$fast")" -v b="$(rps "$plain")" -v c="$(p99 "$fast")" -v d="$(p99 "$plain")" \
    "BEGIN { printf \"throughput ratio (fast path / postgres only): %.2f\\np99 latency ratio (fast path / postgres only): %.2f\\n\", a / b, (d > 0 ? c / d : 0) }"
'
