#!/usr/bin/env bash
# Start the gavel service locally with private PostgreSQL and Redis instances
# (see scripts/with-services.sh). Everything is thrown away on exit: Ctrl-C, or
# INT/TERM/HUP sent to this script's PID, stops gavel, then the services.
#
# Usage: scripts/run.sh [EXTRA ARGS FOR `gavel serve`...]
# Env:   PORT (default 3000), GAVEL_BIND (default 127.0.0.1: a local quick start
#        is not reachable from other machines), GAVEL_ADMIN_TOKEN (generated if
#        unset), DATABASE_URL / REDIS_URL (use existing services instead).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export SQLX_OFFLINE=true
export PORT=${PORT:-3000}
export GAVEL_BIND=${GAVEL_BIND:-127.0.0.1}

if [[ -z "${GAVEL_ADMIN_TOKEN:-}" ]]; then
    GAVEL_ADMIN_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
fi
export GAVEL_ADMIN_TOKEN

# Say which URLs this script made (a password in a URL given to it is never printed).
GAVEL_OWN_DB=false GAVEL_OWN_REDIS=false
[[ -z "${DATABASE_URL:-}" ]] && GAVEL_OWN_DB=true
[[ -z "${REDIS_URL:-}" ]] && GAVEL_OWN_REDIS=true
export GAVEL_OWN_DB GAVEL_OWN_REDIS

# Build first, so the URL and token below aren't buried in compiler output and
# no services are started if the build fails. The first build takes a few minutes.
cargo build --release --bin gavel

# shellcheck disable=SC2016 # expanded by the inner bash
exec scripts/with-services.sh bash -c '
    host=$GAVEL_BIND
    [[ $host == *:* ]] && host="[$host]"
    {
        echo
        echo "gavel:        http://$host:$PORT"
        echo "admin token:  $GAVEL_ADMIN_TOKEN"
        if $GAVEL_OWN_DB; then echo "DATABASE_URL=$DATABASE_URL"; fi
        if $GAVEL_OWN_REDIS; then echo "REDIS_URL=$REDIS_URL"; fi
        echo "(Ctrl-C stops gavel, then the private PostgreSQL and Redis)"
        echo
    } >&2
    exec target/release/gavel serve "$@"
' run.sh "$@"
