//! The `gavel` binary: `serve` (default), `migrate`, `bidder create`.

use std::process::ExitCode;

use clap::error::ErrorKind;
use gavel_api::boot::cli::Cli;
use gavel_api::boot::commands::run;

/// jemalloc rather than the C library's allocator: measured on the bench (README, "Bench"),
/// it decides more bids per core and holds less per idle event stream (8.5 KiB against
/// 12.4); its settings (one arena, thread caches up to 32 KiB objects, freed pages
/// returned within a second) are compiled in from .cargo/config.toml.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = match Cli::parse_args(std::env::args_os()) {
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
