#!/usr/bin/env bash
# Bench: gavel measured against reference floors in one run on this machine (the logic is
# gavel-bench, crates/loadgen/src/bin/bench). Builds the release binaries, then runs it on
# private PostgreSQL and Redis (scripts/with-services.sh, unless DATABASE_URL / REDIS_URL
# are set), PostgreSQL at its durable settings, as production runs it.
#
# Env: BENCH_SECONDS (10), BENCH_ROUNDS (3), BENCH_CONNECTIONS (64), BENCH_WARMUP (2; 1
#      under 5 s), BENCH_SOAK_SECONDS (0: off), BENCH_BUILD (0: use target/release as is),
#      BENCH_STREAMS (10000), BENCH_RTB_SECONDS (60), BENCH_RTB_RATE (1000),
#      BENCH_WRK=true (also measure bids, GET and hello with wrk; or --check-with-wrk).
# Smoke check: BENCH_SECONDS=2 BENCH_ROUNDS=1 scripts/bench.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ "${BENCH_WRK:-false}" == true || " $* " == *" --check-with-wrk "* ]]; then
    scripts/need.sh wrk=wrk
fi
if [[ "${BENCH_BUILD:-1}" != 0 ]]; then
    SQLX_OFFLINE=true cargo build --release --bin gavel --bin gavel-loadgen --bin gavel-hello \
        --bin gavel-plain --bin gavel-bench >&2
fi
# 10,000 idle streams: a descriptor each, on both ends.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
GAVEL_PG_DURABLE=1 exec scripts/with-services.sh target/release/gavel-bench "$@"
