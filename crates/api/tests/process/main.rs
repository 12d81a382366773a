//! The `gavel` binary as ops run it: settings, sub-commands, graceful shutdown, rolling
//! upgrades.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod logs;
mod rolling;
mod server;
mod shutdown;
mod wrapper;

use std::process::Command;

use sqlx::PgPool;

fn gavel() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gavel"));
    c.env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("GAVEL_ADMIN_TOKEN")
        .env_remove("PORT")
        .env("GAVEL_LOG_FORMAT", "json");
    c
}

/// A URL for the test's own database (local trust authentication).
fn database_url(pool: &PgPool) -> String {
    let o = pool.connect_options();
    format!(
        "postgres://{}@{}:{}/{}",
        o.get_username(),
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap_or("postgres")
    )
}
