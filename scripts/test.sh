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

log "cargo fmt --all -- --check"
cargo fmt --all -- --check

# Clippy doesn't need the services, so run it before starting them.
log "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

log "cargo test --workspace $*"
scripts/with-services.sh cargo test --workspace "$@"
