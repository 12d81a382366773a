//! Start-up and shut-down: the command line, settings, logging, the one-shot commands,
//! and running the server until a signal.

mod bidder_commands;
pub mod cli;
pub mod commands;
pub mod connections;
mod documented;
pub mod server;
pub mod settings;
pub mod telemetry;
