#!/usr/bin/env bash
# Installs the Debian package of each missing command: the one way the scripts get a tool.
#
# Usage: scripts/need.sh COMMAND=PACKAGE[,PACKAGE...]...
#   e.g. scripts/need.sh patroni=patroni,python3-etcd etcd=etcd-server
# Exit 0 when every COMMAND is there afterwards; 1 otherwise (apt-get's output on stderr).
set -euo pipefail

missing=()
for pair in "$@"; do
    if ! command -v "${pair%%=*}" >/dev/null 2>&1; then
        IFS=, read -ra pkgs <<<"${pair#*=}"
        missing+=("${pkgs[@]}")
    fi
done
((${#missing[@]})) || exit 0

command -v apt-get >/dev/null 2>&1 || { echo "need.sh: missing ${missing[*]} and no apt-get" >&2; exit 1; }
sudo=()
((EUID == 0)) || sudo=(sudo -n)
echo "need.sh: installing ${missing[*]}" >&2
apt() { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@" >&2; }
# The package lists may be missing or stale on a fresh machine: update once and retry.
apt install -y --no-install-recommends "${missing[@]}" ||
    { apt update && apt install -y --no-install-recommends "${missing[@]}"; }

for pair in "$@"; do
    command -v "${pair%%=*}" >/dev/null 2>&1 ||
        { echo "need.sh: ${pair%%=*} still missing after installing ${pair#*=}" >&2; exit 1; }
done
