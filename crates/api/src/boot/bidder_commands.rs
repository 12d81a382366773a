//! `gavel bidder ...`: bidder management for ops without HTTP access, through the same use
//! cases as the API (so the same rules, and the same audit lines, on stderr).

use gavel_cache::Cache;
use gavel_domain::{BidderId, BidderPatchInput, NewBidderInput};
use gavel_service::{ServiceError, ServiceSettings, Services, WebhookSettings};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::cli::{
    BidderCommand, BidderRef, DatabaseArgs, KeyCommand, LogFormat, WebhookTargetArgs,
};
use super::commands::{connect, CommandError};
use super::settings::ConfigError;
use super::telemetry;
use crate::http::views::CreatedBidderView;

/// Runs one `gavel bidder` command; what it made or changed goes to stdout as JSON.
pub async fn run(action: BidderCommand) -> Result<(), CommandError> {
    telemetry::init(LogFormat::Json);
    match action {
        BidderCommand::Create {
            name,
            webhook_url,
            database,
            webhooks,
        } => {
            let services = services(&database, Some(&webhooks)).await?;
            let created = services
                .create_bidder(NewBidderInput {
                    name: Some(name),
                    webhook_url,
                })
                .await
                .map_err(failed)?;
            print(&CreatedBidderView::from(created))?;
            eprintln!("gavel: store api_key and webhook_secret now; they are not shown again");
        }
        BidderCommand::Key {
            action:
                KeyCommand::Create {
                    bidder,
                    expire_others_in_secs,
                },
        } => {
            let services = services(&bidder.database, None).await?;
            let expire = expire_others_in_secs.map(std::time::Duration::from_secs);
            let created = services
                .create_bidder_key(id(&bidder)?, expire)
                .await
                .map_err(failed)?;
            print(&json!({
                "key_id": created.key.key_id,
                "api_key": created.api_key.expose_secret(),
                "created_at": gavel_domain::time::rfc3339_millis(&created.key.created_at),
            }))?;
            eprintln!("gavel: store api_key now; it is not shown again");
        }
        BidderCommand::Key {
            action: KeyCommand::Revoke { bidder, key_id },
        } => {
            let services = services(&bidder.database, None).await?;
            services
                .revoke_bidder_key(id(&bidder)?, key_id)
                .await
                .map_err(failed)?;
            print(&json!({"bidder_id": bidder.id, "key_id": key_id, "revoked": true}))?;
        }
        BidderCommand::Disable(bidder) => set_status(&bidder, "disabled").await?,
        BidderCommand::Enable(bidder) => set_status(&bidder, "active").await?,
    }
    Ok(())
}

async fn set_status(bidder: &BidderRef, status: &str) -> Result<(), CommandError> {
    let services = services(&bidder.database, None).await?;
    let changed = services
        .update_bidder(
            id(bidder)?,
            BidderPatchInput {
                status: Some(status.into()),
                ..Default::default()
            },
        )
        .await
        .map_err(failed)?;
    print(&crate::http::views::BidderView::from(changed))
}

/// The use cases on the database alone (no Redis, no admin token: nothing here needs them).
async fn services(
    database: &DatabaseArgs,
    webhooks: Option<&WebhookTargetArgs>,
) -> Result<Services, CommandError> {
    let storage = connect(database).await?;
    storage
        .migrate()
        .await
        .map_err(|e| CommandError::Failed(format!("migration failed: {e}")))?;
    Services::new(
        storage,
        Cache::disabled(),
        &SecretString::default(),
        ServiceSettings {
            webhooks: WebhookSettings {
                targets: webhooks.map(WebhookTargetArgs::targets).unwrap_or_default(),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .map_err(|e| CommandError::Failed(e.to_string()))
}

fn id(bidder: &BidderRef) -> Result<BidderId, CommandError> {
    BidderId::new(bidder.id).ok_or_else(|| {
        CommandError::Config(ConfigError("--id: must be a positive bidder id".into()))
    })
}

/// A use case's refusal as the command line says it: field errors name the flag.
fn failed(e: ServiceError) -> CommandError {
    match e {
        ServiceError::Invalid(v) => CommandError::Config(ConfigError(
            v.iter()
                .map(|f| format!("--{}: {}", f.field.replace('_', "-"), f.message))
                .collect::<Vec<_>>()
                .join("; "),
        )),
        ServiceError::BidderNotFound => CommandError::Failed("no such bidder (or key)".into()),
        other => CommandError::Failed(other.to_string()),
    }
}

fn print(value: &impl serde::Serialize) -> Result<(), CommandError> {
    let json =
        serde_json::to_string_pretty(value).map_err(|e| CommandError::Failed(e.to_string()))?;
    println!("{json}");
    Ok(())
}
