//! The loopback cluster's configuration: `deploy/cluster/`'s settings with one machine's
//! ports and directories per node.

/// One Patroni node on loopback: `deploy/cluster/patroni.yml`'s settings (synchronous
/// mode, durable PostgreSQL, pg_rewind, slots), with one machine's ports and directories
/// and trust authentication (nothing but loopback reaches it).
pub(super) const PATRONI_YML: &str = r#"scope: gavel-drill
namespace: /service/
name: {name}
restapi:
  listen: 127.0.0.1:{rest_port}
  connect_address: 127.0.0.1:{rest_port}
etcd:
  hosts: {etcd_hosts}
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 2
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_level: replica
        wal_log_hints: "on"
        hot_standby: "on"
        max_connections: 100
        max_wal_senders: 10
        max_replication_slots: 10
        fsync: "on"
        synchronous_commit: "on"
        full_page_writes: "on"
        shared_buffers: 64MB
  initdb:
    - encoding: UTF8
    - locale: C
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:{pg_port}
  connect_address: 127.0.0.1:{pg_port}
  bin_dir: {bin_dir}
  data_dir: {data_dir}
  pgpass: {pgpass}
  authentication:
    superuser:
      username: postgres
      password: drill
    replication:
      username: replicator
      password: drill
    rewind:
      username: rewind
      password: drill
  parameters:
    unix_socket_directories: {socket_dir}
"#;

/// HAProxy beside gavel: `deploy/cluster/haproxy.cfg`'s checks, on loopback.
pub(super) const HAPROXY_CFG: &str = r#"global
    maxconn 1024
defaults
    mode tcp
    retries 2
    timeout connect 2s
    timeout client 30m
    timeout server 30m
    timeout check 1s
listen stats
    mode http
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /
listen postgres_primary
    bind 127.0.0.1:{port}
    option httpchk GET /primary
    http-check expect status 200
    default-server inter 1s fall 2 rise 2 on-marked-down shutdown-sessions
{servers}"#;
