//! The one-shot commands (`migrate`, `bidder create`) and `serve`, as `main` runs them.

use std::time::Duration;

use gavel_cache::Cache;
use gavel_domain::NewBidderInput;
use gavel_service::{ServiceError, Services, WebhookSettings};
use gavel_storage::{PoolSettings, Storage};
use secrecy::SecretString;

use crate::boot::cli::{BidderCommand, Cli, Command, Options};
use crate::boot::settings::ConfigError;
use crate::boot::{server, telemetry};
use crate::http::views::CreatedBidderView;

/// Runs the command the line names; `serve` when none.
pub async fn run(cli: Cli) -> Result<(), ConfigError> {
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
            let services = Services::new(storage, Cache::disabled(), &SecretString::default())
                .with_webhooks(WebhookSettings {
                    targets: cli.options.webhook_targets(),
                    ..Default::default()
                });
            let created = services
                .create_bidder(NewBidderInput {
                    name: Some(name),
                    webhook_url,
                })
                .await
                .map_err(|e| match e {
                    ServiceError::Invalid(v) => ConfigError(
                        v.iter()
                            .map(|f| format!("--{}: {}", f.field.replace('_', "-"), f.message))
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                    other => ConfigError(other.to_string()),
                })?;
            let view = CreatedBidderView::from(created);
            let json =
                serde_json::to_string_pretty(&view).map_err(|e| ConfigError(e.to_string()))?;
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
    server::serve(
        listener,
        state,
        settings.http.clone(),
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
