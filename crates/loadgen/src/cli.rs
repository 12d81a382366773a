//! Command line of `gavel-loadgen`.

use std::time::Duration;

use clap::{Parser, ValueEnum};

/// Command line.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "gavel-loadgen",
    about = "Closed- or open-loop HTTP load against a running gavel (or gavel-hello), \
             with HDR latency percentiles; one JSON object on stdout, a table on stderr"
)]
pub struct Args {
    /// Base URL of the server (loopback only in the bench script).
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// Where bidders and auctions are set up, when not at `--url` (gavel, for a run against
    /// gavel-plain on the same database).
    #[arg(long)]
    pub setup_url: Option<String>,
    /// More base URLs (other instances of the same deployment): bids are sent round-robin
    /// over `--url` and these. Set-up always goes to `--url`.
    #[arg(long = "also-url")]
    pub also_urls: Vec<String>,
    /// Bid workloads: append a line per answer to this file: `ack <bid id>` for a 201,
    /// `err <status> <code>` for anything but 201 and 409, `err transport` when no answer
    /// came (for checking afterwards that no acknowledged bid was lost).
    #[arg(long)]
    pub ack_log: Option<std::path::PathBuf>,
    /// What to send.
    #[arg(long, value_enum, default_value_t = Workload::Bids)]
    pub workload: Workload,
    /// Connections: closed loop, workers sending back to back; open loop, connections
    /// sharing the schedule (one request in flight on each).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub connections: u32,
    /// Open loop: requests per second on a fixed schedule (latency counted from each
    /// request's scheduled send time). Without it: closed loop.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Measured seconds (after the warm-up).
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Seconds of load before measuring (not counted).
    #[arg(long, default_value_t = 2.0)]
    pub warmup_seconds: f64,
    /// Per-request timeout in seconds (a timeout counts as a transport error).
    #[arg(long, default_value_t = 10.0)]
    pub timeout_seconds: f64,
    /// Auctions to create (bids-hot always uses one).
    #[arg(long, default_value_t = 100)]
    pub auctions: u32,
    /// Bidders (API keys) to create.
    #[arg(long, default_value_t = 64)]
    pub bidders: u32,
    /// Use these existing auctions instead of creating them (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub auction_ids: Vec<i64>,
    /// Use these existing bidder API keys instead of creating bidders (comma-separated).
    #[arg(
        long,
        env = "GAVEL_BIDDER_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub bidder_keys: Vec<String>,
    /// Admin token, to create bidders and auctions.
    #[arg(long, env = "GAVEL_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// `min_increment` of created auctions.
    #[arg(long, default_value = "0.05")]
    pub increment: String,
    /// `reserve_price` of created auctions.
    #[arg(long, default_value = "1.00")]
    pub reserve: String,
    /// Report the CPU time this process tree (a process and its direct children) used in
    /// the measured window, per decided request: `NAME=PID`, repeatable (e.g.
    /// `gavel=1234`, `postgres=<postmaster pid>`); trees under one name are added up.
    #[arg(long = "cpu", value_parser = crate::cpu::parse_watched)]
    pub cpu: Vec<crate::cpu::Watched>,
    /// Label copied into the report.
    #[arg(long, default_value = "run")]
    pub label: String,
    /// Bid workloads and `rtb`: a `Gavel-Deadline-Ms` on every bid (OpenRTB's `tmax`);
    /// a `503 deadline_exceeded` then counts as an error.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=60_000))]
    pub deadline_ms: Option<u32>,
    /// `rtb`: how long each auction is open, in milliseconds.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
    pub auction_ms: u64,
    /// `rtb`: bids on each auction, each from a different bidder.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub bids_per_auction: u32,
}

/// What the load consists of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// `POST /api/bids` over many english auctions, about 60 % accepted (an adaptive
    /// bias holds it there under moderate contention).
    Bids,
    /// Like `bids`, but 80 % of the bids are far below the current minimum.
    BidsHopeless,
    /// Like `bids`, all on one auction.
    BidsHot,
    /// Like `bids`, each with a fresh `Idempotency-Key` (what careful exchanges send).
    BidsKeyed,
    /// `GET /api/auctions/{id}` with a bidder key.
    Get,
    /// `GET /api/auctions?limit=50` with a bidder key.
    List,
    /// `GET /hello` (gavel-hello, the HTTP floor): no set-up, no key.
    Hello,
    /// The exchange's rhythm: short auctions created at `--rate` a second, each ending
    /// `--auction-ms` after creation, `--bids-per-auction` bids from different bidders,
    /// and a receiver for their notices (settlement and notice lag).
    Rtb,
}

impl Workload {
    /// The name used on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Bids => "bids",
            Workload::BidsHopeless => "bids-hopeless",
            Workload::BidsHot => "bids-hot",
            Workload::BidsKeyed => "bids-keyed",
            Workload::Get => "get",
            Workload::List => "list",
            Workload::Hello => "hello",
            Workload::Rtb => "rtb",
        }
    }

    /// Whether it places bids (201 and 409 both count as decided).
    pub fn is_bids(self) -> bool {
        matches!(
            self,
            Workload::Bids | Workload::BidsHopeless | Workload::BidsHot | Workload::BidsKeyed
        )
    }

    /// Whether it needs bidders and auctions set up before the load (`hello` needs
    /// nothing, `rtb` makes its own).
    pub fn needs_setup(self) -> bool {
        !matches!(self, Workload::Hello | Workload::Rtb)
    }
}

impl Args {
    /// Where set-up requests go.
    pub fn setup_url(&self) -> &str {
        self.setup_url.as_deref().unwrap_or(&self.url)
    }

    /// The measured window.
    pub fn measured(&self) -> Duration {
        Duration::from_secs_f64(self.seconds)
    }

    /// The warm-up before it.
    pub fn warmup(&self) -> Duration {
        Duration::from_secs_f64(self.warmup_seconds)
    }

    /// Checks what clap cannot express.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.seconds.is_finite() && self.seconds > 0.0) {
            return Err("--seconds must be > 0".into());
        }
        if !(self.warmup_seconds.is_finite() && self.warmup_seconds >= 0.0) {
            return Err("--warmup-seconds must be >= 0".into());
        }
        if !(self.timeout_seconds.is_finite() && self.timeout_seconds > 0.0) {
            return Err("--timeout-seconds must be > 0".into());
        }
        if let Some(r) = self.rate {
            if !(r.is_finite() && r > 0.0) {
                return Err("--rate must be > 0".into());
            }
        }
        if self.workload.needs_setup() && self.auctions == 0 && self.auction_ids.is_empty() {
            return Err("--auctions must be >= 1".into());
        }
        if self.workload.needs_setup() && self.bidders == 0 && self.bidder_keys.is_empty() {
            return Err("--bidders must be >= 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let a = Args::parse_from(["gavel-loadgen"]);
        assert_eq!(a.workload, Workload::Bids);
        assert_eq!(a.connections, 64);
        assert_eq!(a.rate, None);
        assert_eq!(a.auctions, 100);
        assert_eq!(a.bidders, 64);
        assert_eq!(a.measured(), Duration::from_secs(10));
        assert_eq!(a.warmup(), Duration::from_secs(2));
        assert!(a.validate().is_ok());
    }

    #[test]
    fn workload_names_match_the_cli() {
        for w in Workload::value_variants() {
            let v = w.to_possible_value().unwrap();
            assert_eq!(v.get_name(), w.name());
        }
        let a = Args::parse_from(["x", "--workload", "bids-hot", "--rate", "100"]);
        assert_eq!(a.workload, Workload::BidsHot);
        assert!(a.workload.is_bids() && a.workload.needs_setup());
        assert!(!Workload::Hello.needs_setup());
    }

    #[test]
    fn bad_numbers_are_refused() {
        let a = Args::parse_from(["x", "--rate", "0"]);
        assert!(a.validate().is_err());
        let a = Args::parse_from(["x", "--seconds", "0"]);
        assert!(a.validate().is_err());
    }
}
