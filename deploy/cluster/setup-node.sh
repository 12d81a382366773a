#!/usr/bin/env bash
# Sets up one machine of gavel's cluster from Debian 12 packages; safe to run again.
# Run as root from this directory, with the same shared variables on every machine:
#   export DB1_IP=10.0.0.11 DB2_IP=10.0.0.12 DB3_IP=10.0.0.13 CLUSTER_CIDR=10.0.0.0/24 \
#          REDIS_PRIMARY_IP=10.0.0.21
#   ROLE=db NODE_NAME=db1 NODE_IP=10.0.0.11 SUPERUSER_PASSWORD=... REPLICATION_PASSWORD=... \
#     REWIND_PASSWORD=... RESTAPI_PASSWORD=... ./setup-node.sh    # etcd + Patroni + PostgreSQL 15
#   ROLE=app NODE_IP=10.0.0.31 [WITH_SENTINEL=1] ./setup-node.sh  # HAProxy (+ Redis Sentinel)
#   ROLE=redis NODE_IP=10.0.0.21 ./setup-node.sh                  # Redis + Sentinel (the machine
#                                      # whose NODE_IP is not REDIS_PRIMARY_IP becomes the replica)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${ROLE:?set ROLE to db, app or redis}" "${NODE_IP:?set NODE_IP}"
[[ $EUID -eq 0 ]] || { echo "run as root" >&2; exit 1; }

apt_install() { # installs whichever of the packages are missing
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
}

# render TEMPLATE DEST MODE OWNER VAR...: fills the named ${VAR}s only; returns 1 if unchanged.
render() {
  local tpl=$1 dest=$2 mode=$3 owner=$4 tmp v list=
  shift 4
  for v in "$@"; do
    [[ -n ${!v:-} ]] || { echo "set $v" >&2; exit 1; }
    list+="\${$v} "
  done
  tmp=$(mktemp)
  envsubst "$list" <"$here/$tpl" >"$tmp"
  if [[ -f $dest ]] && cmp -s "$tmp" "$dest"; then rm -f "$tmp"; return 1; fi
  install -D -m "$mode" -o "${owner%:*}" -g "${owner#*:}" "$tmp" "$dest"
  rm -f "$tmp"
}

setup_sentinel() {
  apt_install redis-sentinel gettext-base
  export SENTINEL_IP=$NODE_IP
  # Only once: Sentinel rewrites its own file (current primary, peers) while it runs.
  if ! grep -q '^sentinel monitor gavel ' /etc/redis/sentinel.conf 2>/dev/null; then
    render sentinel.conf /etc/redis/sentinel.conf 640 redis:redis SENTINEL_IP REDIS_PRIMARY_IP
    systemctl restart redis-sentinel
  fi
  systemctl enable --now redis-sentinel
}

case $ROLE in
db)
  : "${NODE_NAME:?set NODE_NAME (db1, db2 or db3)}"
  # No default 15/main cluster: Patroni creates and owns the only one on port 5432.
  apt_install postgresql-common
  sed -i 's/^#\?create_main_cluster.*/create_main_cluster = false/' \
    /etc/postgresql-common/createcluster.conf
  apt_install postgresql-15 patroni etcd-server etcd-client pgbackrest gettext-base
  if [[ -d /etc/postgresql/15/main ]]; then # made before this script ran: stop it, keep its data
    pg_ctlcluster 15 main stop 2>/dev/null || true
    echo disabled >/etc/postgresql/15/main/start.conf
  fi

  if render etcd.env /etc/default/etcd 644 root:root NODE_NAME NODE_IP DB1_IP DB2_IP DB3_IP; then
    # --no-block: a new member reports ready only once a quorum of members is up.
    systemctl restart --no-block etcd
  fi
  systemctl enable etcd

  export ETCD_HOSTS="$DB1_IP:2379,$DB2_IP:2379,$DB3_IP:2379"
  install -d -m 700 -o postgres -g postgres /var/lib/postgresql/15/patroni
  if render patroni.yml /etc/patroni/config.yml 600 postgres:postgres NODE_NAME NODE_IP \
    ETCD_HOSTS CLUSTER_CIDR SUPERUSER_PASSWORD REPLICATION_PASSWORD REWIND_PASSWORD \
    RESTAPI_PASSWORD && systemctl is-active -q patroni; then
    systemctl reload patroni # SIGHUP: no restart, no failover
  fi
  systemctl enable --now patroni # Debian's unit: User=postgres, /etc/patroni/config.yml
  ;;
app)
  apt_install haproxy gettext-base
  if render haproxy.cfg /etc/haproxy/haproxy.cfg 644 root:root DB1_IP DB2_IP DB3_IP; then
    haproxy -c -q -f /etc/haproxy/haproxy.cfg
    systemctl reload-or-restart haproxy
  fi
  systemctl enable --now haproxy
  if [[ ${WITH_SENTINEL:-0} == 1 ]]; then setup_sentinel; fi
  ;;
redis)
  : "${REDIS_PRIMARY_IP:?set REDIS_PRIMARY_IP}"
  apt_install redis-server
  conf=/etc/redis/redis.conf
  # Only once, like Sentinel: after a failover Sentinel rewrites "replicaof" in this file.
  if ! grep -q '^# gavel cluster' "$conf"; then
    sed -i -e "s/^bind .*/bind $NODE_IP 127.0.0.1/" -e 's/^protected-mode .*/protected-mode no/' \
      "$conf"
    # A cache only (see README): no snapshots, bounded memory.
    printf '# gavel cluster\nsave ""\nappendonly no\nmaxmemory 256mb\nmaxmemory-policy allkeys-lru\n' >>"$conf"
    if [[ $NODE_IP != "$REDIS_PRIMARY_IP" ]]; then echo "replicaof $REDIS_PRIMARY_IP 6379" >>"$conf"; fi
    systemctl restart redis-server
  fi
  systemctl enable --now redis-server
  setup_sentinel
  ;;
*)
  echo "ROLE must be db, app or redis" >&2
  exit 1
  ;;
esac
echo "setup-node: $ROLE node $NODE_IP done"
