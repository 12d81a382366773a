#!/usr/bin/env bash
# Installs or upgrades gavel as a systemd service on a Debian VM. Run as root, from a copy
# of deploy/ (it reads gavel.service and gavel.env.example beside itself):
#
#   deploy/install.sh path/to/gavel        (e.g. target/static/gavel, scripts/build-static.sh)
#
# Safe to run again; each run:
#   1. creates the system user and group `gavel` if missing;
#   2. creates /etc/gavel/gavel.env from gavel.env.example if missing (root:gavel, 0640;
#      an existing file is never touched) and stops while a CHANGE_ME is left in it;
#   3. runs `gavel migrate` with the new binary, as user gavel, with that file's settings;
#      if it fails nothing has changed and the running service is left alone;
#   4. puts the new binary at /usr/local/bin/gavel, keeping the one it replaces as
#      /usr/local/bin/gavel.previous;
#   5. installs the unit as /etc/systemd/system/gavel.service, reloads systemd, enables
#      and restarts gavel;
#   6. waits up to GAVEL_READY_TIMEOUT (60) seconds for GET /ready to answer 200 on
#      GAVEL_BIND:PORT from the env file. If it does not, and this run replaced the
#      binary, it puts the previous binary back (the new one is kept as gavel.failed),
#      restarts, and exits non-zero saying whether the previous binary is ready again.
#
# Exit codes: 0 installed and ready; 1 failed (the message says what state it left);
# 2 usage; 3 the env file needs filling in first.
#
# Env (for tests in a scratch tree, not for production): GAVEL_ROOT prefixes every path
# written; SYSTEMCTL replaces `systemctl`.
set -euo pipefail

log() { printf 'install.sh: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

usage() {
    echo "usage: $0 PATH/TO/gavel" >&2
    exit 2
}

[[ $# -eq 1 && "$1" != -* ]] || usage

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
src=$(readlink -f -- "$1") || die "no such file: $1"
cd /

root=${GAVEL_ROOT:-}
read -r -a systemctl <<<"${SYSTEMCTL:-systemctl}"
ready_timeout=${GAVEL_READY_TIMEOUT:-60}

user=gavel
etc_dir=$root/etc/gavel
env_file=$etc_dir/gavel.env
bin=$root/usr/local/bin/gavel
unit_file=$root/etc/systemd/system/gavel.service
unit=gavel.service

[[ $(id -u) -eq 0 ]] || die "run as root"
[[ -f "$src" && -x "$src" ]] || die "$src is not an executable file"
for f in gavel.service gavel.env.example; do
    [[ -f "$here/$f" ]] || die "$here/$f is missing (run install.sh from a copy of deploy/)"
done
version=$("$src" --version 2>/dev/null) || die "$src does not run on this host (wrong architecture?)"
log "installing $version"

# ------------------------------------------------------------------ user --

if ! getent group "$user" >/dev/null; then
    log "creating system group $user"
    groupadd --system "$user"
fi
if ! id -u "$user" >/dev/null 2>&1; then
    log "creating system user $user"
    useradd --system --gid "$user" --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin --comment "gavel auction backend" "$user"
fi

# -------------------------------------------------------------- env file --

install -d -m 0750 -o root -g "$user" "$etc_dir"
if [[ ! -e "$env_file" ]]; then
    install -m 0640 -o root -g "$user" "$here/gavel.env.example" "$env_file"
    log "created $env_file from the template"
fi
if grep -qE '^[^#]*CHANGE_ME' "$env_file"; then
    log "fill in $env_file first (the CHANGE_ME placeholders: DATABASE_URL's password,"
    log "GAVEL_ADMIN_TOKEN, ...), then run this again"
    exit 3
fi

# Prints the value of setting $1 in the env file (the last one wins, as in systemd),
# or $2 when it is not set there.
env_get() {
    local line value=$2
    while IFS= read -r line || [[ -n "$line" ]]; do
        line=${line#"${line%%[![:space:]]*}"}
        if [[ "$line" == "$1="* ]]; then
            value=${line#*=}
            value=${value%"${value##*[![:space:]]}"}
            if [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]]; then
                value=${BASH_REMATCH[1]}
            fi
        fi
    done <"$env_file"
    printf '%s\n' "$value"
}

# Runs "$@" as the gavel user with the env file's settings in its environment (the same
# NAME=value lines systemd reads; comments and blank lines skipped, quotes removed).
run_as_gavel() {
    (
        local line name value
        while IFS= read -r line || [[ -n "$line" ]]; do
            line=${line#"${line%%[![:space:]]*}"}
            [[ -z "$line" || "$line" == [\#\;]* ]] && continue
            [[ "$line" =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
            name=${BASH_REMATCH[1]}
            value=${BASH_REMATCH[2]}
            value=${value%"${value##*[![:space:]]}"}
            if [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]]; then
                value=${BASH_REMATCH[1]}
            fi
            export "$name=$value"
        done <"$env_file"
        exec runuser -u "$user" -- "$@"
    )
}

port=$(env_get PORT 3000)
host=$(env_get GAVEL_BIND 0.0.0.0)
case $host in
0.0.0.0) host=127.0.0.1 ;;
:: | "[::]") host=::1 ;;
esac

# True when GET /ready on host:port answers 200 within 3 s.
ready_once() {
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 3 bash -c '
        exec 3<>"/dev/tcp/$0/$1" || exit 1
        printf "GET /ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" >&3
        IFS= read -r status <&3 && [[ "$status" == "HTTP/1."[01]" 200"* ]]
    ' "$host" "$port" 2>/dev/null
}

# Waits up to $ready_timeout seconds for /ready.
wait_ready() {
    local deadline=$((SECONDS + ready_timeout))
    log "waiting up to ${ready_timeout}s for http://$host:$port/ready"
    until ready_once; do
        ((SECONDS < deadline)) || return 1
        sleep 1
    done
}

restart() {
    "${systemctl[@]}" daemon-reload
    "${systemctl[@]}" enable --quiet "$unit"
    "${systemctl[@]}" restart "$unit"
}

show_logs() {
    if [[ -z "$root" ]] && command -v journalctl >/dev/null 2>&1; then
        journalctl -u "$unit" -n 30 --no-pager -o cat >&2 || true
    fi
}

# --------------------------------------------------------------- migrate --

install -d -m 0755 "$(dirname "$bin")" "$(dirname "$unit_file")"
install -m 0755 "$src" "$bin.new"
log "gavel migrate (as $user, with $env_file)"
if ! run_as_gavel "$bin.new" migrate >&2; then
    rm -f -- "$bin.new"
    die "gavel migrate failed: nothing changed, the running service (if any) is untouched"
fi

# ---------------------------------------------------------------- binary --

replaced=false
if [[ -e "$bin" ]] && cmp -s "$bin" "$bin.new"; then
    rm -f -- "$bin.new"
    log "$bin is already this binary"
else
    if [[ -e "$bin" ]]; then
        install -m 0755 "$bin" "$bin.previous"
        replaced=true
        log "kept the previous binary as $bin.previous"
    fi
    mv -f -- "$bin.new" "$bin"
fi

# ------------------------------------------------------------------ unit --

install -m 0644 "$here/gavel.service" "$unit_file"
log "restarting $unit"
restart

if wait_ready; then
    log "gavel is ready: $version"
    exit 0
fi

show_logs
if ! $replaced; then
    die "gavel is not ready after ${ready_timeout}s (no previous binary to go back to);" \
        "see journalctl -u gavel and $env_file"
fi

log "the new binary is not ready after ${ready_timeout}s: rolling back to $bin.previous"
install -m 0755 "$bin" "$bin.failed"
install -m 0755 "$bin.previous" "$bin.new"
mv -f -- "$bin.new" "$bin"
restart
if wait_ready; then
    die "upgrade to $version failed and was rolled back: the previous binary is ready" \
        "again (the failed one is $bin.failed)"
fi
show_logs
die "upgrade to $version failed, and the previous binary is not ready either. If this" \
    "release applied migrations the previous binary may refuse the newer schema: fix" \
    "forward, or restore the database from backup. See journalctl -u gavel."
