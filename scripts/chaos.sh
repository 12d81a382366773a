#!/usr/bin/env bash
# Chaos run (README "Chaos"): bids through two gavel instances on one private PostgreSQL
# and one private Redis, while Redis is flushed, stopped and started, PostgreSQL is
# stopped and started, and one instance is killed with SIGKILL and started again; then
# the books are checked (acknowledged bids stored, english bids rising, counts and highest
# bids agreeing with the bids, auctions settled once with their notices, no answer but
# 201, 409, 503 or none). The logic is `gavel-drill chaos` (crates/drill).
#
# Usage: scripts/chaos.sh [--keep]   JSON report on stdout; exit 1 when a check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/need.sh redis-server=redis-server redis-cli=redis-tools pg_ctlcluster=postgresql
SQLX_OFFLINE=true cargo build --release --bin gavel --bin gavel-drill >&2
exec target/release/gavel-drill --gavel target/release/gavel "$@" chaos
