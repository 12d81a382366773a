#!/usr/bin/env bash
# Start the gavel service locally with private PostgreSQL and Redis instances
# (see scripts/with-services.sh). Everything is thrown away on exit.
#
# Usage: scripts/run.sh [EXTRA ARGS FOR `gavel serve`...]
# Env:   PORT (default 3000), GAVEL_ADMIN_TOKEN (generated if unset),
#        DATABASE_URL / REDIS_URL (use existing services instead).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export SQLX_OFFLINE=true

if [[ -z "${GAVEL_ADMIN_TOKEN:-}" ]]; then
    GAVEL_ADMIN_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
fi
export GAVEL_ADMIN_TOKEN

# Build first, so the URL and token below aren't buried in compiler output and
# no services are started if the build fails.
cargo build --release --bin gavel

# shellcheck disable=SC2016 # expanded by the inner bash
exec scripts/with-services.sh bash -c '
    {
        echo
        echo "gavel: http://127.0.0.1:${PORT:-3000}"
        echo "admin token: $GAVEL_ADMIN_TOKEN"
        echo
    } >&2
    exec cargo run --release --bin gavel -- serve "$@"
' run.sh "$@"
