#!/usr/bin/env bash
# The failover drill (README "Running a cluster"): on this machine, on loopback ports, a
# PostgreSQL cluster of three Patroni nodes (synchronous mode) over three etcd members,
# HAProxy routing to the primary, two gavel instances and bid load; the leader's machine
# killed, then only the new leader's PostgreSQL, then a planned switchover; the books
# checked on the final primary. The logic is crates/drill (gavel-drill); this script
# installs the engines from Debian's packages and builds it.
#
# Usage: scripts/failover.sh [--debug] [GAVEL-DRILL OPTIONS...]
#   --debug   debug builds (quicker to build; the test suite's short run uses them)
#   --short   one failover only, no single-node reference (about a minute)
#   --keep    keep the cluster's files and logs (always kept when a check fails)
# The JSON report goes to stdout; progress to stderr; exit 1 when a check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

profile=release
if [[ "${1:-}" == --debug ]]; then
    profile=debug
    shift
fi
# Patroni talks to etcd through python3-etcd (one of the DCS clients its package accepts).
scripts/need.sh patroni=patroni,python3-etcd etcd=etcd-server haproxy=haproxy

flags=()
[[ "$profile" == release ]] && flags=(--release)
SQLX_OFFLINE=true cargo build "${flags[@]}" --bin gavel --bin gavel-drill >&2
exec "target/$profile/gavel-drill" --gavel "target/$profile/gavel" "$@"
