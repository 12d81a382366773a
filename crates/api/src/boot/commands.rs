//! The one-shot commands (`migrate`, `healthcheck`; `bidder ...` in `bidder_commands`)
//! and `serve`, as `main` runs them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use gavel_storage::{PoolSettings, Storage};

use crate::boot::cli::{Cli, Command, DatabaseArgs, ListenArgs, Options};
use crate::boot::settings::ConfigError;
use crate::boot::{server, telemetry};

/// Why a command failed: a setting (said in one line naming it), or the work itself.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A missing or bad setting.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The command could not do its work (the database unreachable, a server error…).
    #[error("{0}")]
    Failed(String),
}

/// Runs the command the line names; `serve` when none.
pub async fn run(cli: Cli) -> Result<(), CommandError> {
    match cli.command {
        Command::Serve(options) => serve(options).await,
        Command::Healthcheck(listen) => healthcheck(&listen).await,
        Command::Migrate(database) => {
            let storage = connect(&database).await?;
            storage
                .migrate()
                .await
                .map_err(|e| CommandError::Failed(format!("migration failed: {e}")))?;
            println!("migrations applied");
            Ok(())
        }
        Command::Bidder { action } => super::bidder_commands::run(action).await,
    }
}

async fn serve(options: Options) -> Result<(), CommandError> {
    let settings = options.server_settings()?;
    telemetry::init(settings.log_format);
    let state = server::build_state(&settings)?;
    let listener = server::bind(settings.listen).await?;
    tracing::info!(addr = %settings.listen, "listening");
    server::serve(
        listener,
        state,
        settings.http.clone(),
        settings.shutdown_grace,
        server::shutdown_signal(),
    )
    .await
    .map_err(|e| CommandError::Failed(format!("server error: {e}")))
}

/// A storage handle for one-shot commands: connects now, or says why not.
pub(super) async fn connect(database: &DatabaseArgs) -> Result<Storage, CommandError> {
    let storage = Storage::connect_lazy(
        database.options()?,
        &PoolSettings {
            max_connections: 2,
            acquire_timeout: Duration::from_secs(10),
        },
    );
    storage.reach().await.map_err(|_| {
        CommandError::Failed("cannot connect to the database at DATABASE_URL".into())
    })?;
    Ok(storage)
}

/// Longest `gavel healthcheck` waits for an answer.
const HEALTHCHECK_WITHIN: Duration = Duration::from_secs(2);

/// Asks the local server for `/health`: a plain HTTP/1.1 request on a fresh connection to
/// PORT on GAVEL_BIND (the loopback address when it binds every address).
async fn healthcheck(options: &ListenArgs) -> Result<(), CommandError> {
    let ip = match options.bind {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    };
    let addr = SocketAddr::new(ip, options.port);
    let ask = async {
        let mut conn = tokio::net::TcpStream::connect(addr).await?;
        conn.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await?;
        let mut head = [0u8; 12];
        conn.read_exact(&mut head).await?;
        Ok::<_, std::io::Error>(head)
    };
    match tokio::time::timeout(HEALTHCHECK_WITHIN, ask).await {
        Ok(Ok(head)) if head.starts_with(b"HTTP/1.1 200") => Ok(()),
        Ok(Ok(_)) => Err(CommandError::Failed(format!(
            "{addr} answered /health with an error"
        ))),
        Ok(Err(e)) => Err(CommandError::Failed(format!("cannot reach {addr}: {e}"))),
        Err(_) => Err(CommandError::Failed(format!(
            "no answer from {addr} within 2 s"
        ))),
    }
}
