//! The `gavel` binary: `serve` (default), `migrate`, `bidder create`.

use std::process::ExitCode;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::Parser;
use gavel_api::app::HttpOptions;
use gavel_api::config::{BidderCommand, Cli, Command, ConfigError, Options};
use gavel_api::routes::bidders::{create_bidder, CreateBidder};
use gavel_api::{server, telemetry};
use gavel_storage::{PoolSettings, Storage};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                e.exit();
            }
            let text = e.to_string();
            let line = text.lines().next().unwrap_or("invalid arguments");
            eprintln!("gavel: {}", line.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gavel: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gavel: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), ConfigError> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.options).await,
        Command::Migrate => {
            let storage = connect(&cli.options).await?;
            storage
                .migrate()
                .await
                .map_err(|e| ConfigError(format!("migration failed: {e}")))?;
            println!("migrations applied");
            Ok(())
        }
        Command::Bidder {
            action: BidderCommand::Create { name, webhook_url },
        } => {
            let storage = connect(&cli.options).await?;
            storage
                .migrate()
                .await
                .map_err(|e| ConfigError(format!("migration failed: {e}")))?;
            let created = create_bidder(
                &storage,
                CreateBidder {
                    name: Some(name),
                    webhook_url,
                },
            )
            .await
            .map_err(|e| match e {
                gavel_api::ApiError::Validation(v) => ConfigError(
                    v.iter()
                        .map(|f| format!("--{}: {}", f.field.replace('_', "-"), f.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                other => ConfigError(other.to_string()),
            })?;
            let json =
                serde_json::to_string_pretty(&created).map_err(|e| ConfigError(e.to_string()))?;
            println!("{json}");
            eprintln!("gavel: store api_key and webhook_secret now; they are not shown again");
            Ok(())
        }
    }
}

async fn serve(options: Options) -> Result<(), ConfigError> {
    let settings = options.server_settings()?;
    telemetry::init(settings.log_format);
    let state = server::build_state(&settings)?;
    let listener = server::bind(settings.listen).await?;
    tracing::info!(addr = %settings.listen, "listening");
    let http = HttpOptions {
        request_timeout: settings.request_timeout,
        cors: settings.cors.clone(),
        max_inflight: settings.max_inflight,
    };
    server::serve(
        listener,
        state,
        http,
        settings.shutdown_grace,
        server::shutdown_signal(),
    )
    .await
    .map_err(|e| ConfigError(format!("server error: {e}")))
}

/// A storage handle for one-shot commands: connects now, or says why not.
async fn connect(options: &Options) -> Result<Storage, ConfigError> {
    let storage = Storage::connect_lazy(
        options.database()?,
        &PoolSettings {
            max_connections: 2,
            acquire_timeout: Duration::from_secs(10),
        },
    );
    sqlx::query("SELECT 1")
        .execute(storage.pool())
        .await
        .map_err(|_| ConfigError("cannot connect to the database at DATABASE_URL".into()))?;
    Ok(storage)
}
