#!/usr/bin/env bash
# The project's single test command: formatting, lints, then the test suite
# against private PostgreSQL/Redis instances (see scripts/with-services.sh).
#
# Usage: scripts/test.sh [EXTRA CARGO TEST ARGS...]
#   e.g. scripts/test.sh -p gavel-api -- --nocapture
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'test.sh: %s\n' "$*" >&2; }

if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    command -v rustup >/dev/null 2>&1 ||
        { log "error: cargo fmt/clippy missing and rustup not found"; exit 1; }
    log "installing rustfmt and clippy components"
    rustup component add rustfmt clippy
fi

export SQLX_OFFLINE=true

# schemathesis (the HTTP fuzzer the suite runs against the served OpenAPI document), from
# PyPI into a private virtualenv under target/ (rebuilt when missing).
SCHEMATHESIS_VERSION=4.32.5
venv=target/tools/schemathesis-$SCHEMATHESIS_VERSION
if [[ ! -x "$venv/bin/schemathesis" ]]; then
    log "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        # Debian splits venv out of python3.
        command -v apt-get >/dev/null 2>&1 ||
            { log "error: python3 cannot make a virtualenv"; exit 1; }
        DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv >&2
        rm -rf "$venv"
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "schemathesis==$SCHEMATHESIS_VERSION" >&2
fi
GAVEL_SCHEMATHESIS="$(pwd)/$venv/bin/schemathesis"
export GAVEL_SCHEMATHESIS

# Debian packages of tools the tests run: promtool (in `prometheus`) checks /metrics;
# chromium and chromedriver drive the admin console.
scripts/need.sh promtool=prometheus chromium=chromium chromedriver=chromium-driver
GAVEL_PROMTOOL=$(command -v promtool)
export GAVEL_PROMTOOL
GAVEL_CHROMEDRIVER=$(command -v chromedriver)
GAVEL_CHROMIUM=$(command -v chromium)
export GAVEL_CHROMEDRIVER GAVEL_CHROMIUM

log "cargo fmt --all -- --check"
cargo fmt --all -- --check

# Clippy doesn't need the services, so run it before starting them.
log "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

log "scripts/check-deploy.sh"
scripts/check-deploy.sh

log "cargo test --workspace $*"
scripts/with-services.sh cargo test --workspace "$@"

# The failover drill, short: one failover of a loopback Patroni cluster under two gavel
# instances and bid load (about a minute; scripts/failover.sh runs the whole drill).
if (($# == 0)); then
    log "scripts/failover.sh --debug --short"
    scripts/failover.sh --debug --short >/dev/null
fi
