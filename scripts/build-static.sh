#!/usr/bin/env bash
# Builds a statically linked gavel (static-pie, glibc, rustls) at target/static/gavel,
# for copying onto a VM as one file. For an empty container image use deploy/Dockerfile,
# which builds against musl instead.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

host=$(rustc -vV | sed -n 's/^host: //p')
# Naming the target explicitly keeps crt-static off build scripts and proc macros,
# which cannot be linked statically.
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" SQLX_OFFLINE=true \
    cargo build --release --locked --target "$host" --bin gavel
mkdir -p target/static
cp "target/$host/release/gavel" target/static/gavel
echo "built target/static/gavel:" >&2
file target/static/gavel >&2 2>/dev/null || ldd target/static/gavel >&2 || true
