#!/usr/bin/env bash
# Builds the gavel that ships: statically linked (static-pie, glibc, rustls), with the
# `dist` profile (fat LTO, one codegen unit, stripped), at target/static/gavel, for copying
# onto a VM as one file. For an empty container image use deploy/Dockerfile, which builds
# the same profile against musl. Prints the size and what `file` says of it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

host=$(rustc -vV | sed -n 's/^host: //p')
# Naming the target explicitly keeps crt-static off build scripts and proc macros,
# which cannot be linked statically. getrandom looks the getrandom(2) wrapper up at run
# time, which a static binary cannot do, and would fall back to /dev/random: calling it
# directly lets gavel start where there is no /dev at all (an empty chroot).
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static --cfg getrandom_backend=\"linux_getrandom\"" \
    SQLX_OFFLINE=true \
    cargo build --profile dist --locked --target "$host" --bin gavel
mkdir -p target/static
cp "target/$host/dist/gavel" target/static/gavel
size=$(stat -c %s target/static/gavel)
echo "built target/static/gavel: $size bytes ($((size / 1024 / 1024)) MiB)" >&2
if command -v file >/dev/null 2>&1; then
    file target/static/gavel >&2
fi
