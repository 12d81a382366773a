//! gavel's HTTP API and the `gavel` binary's insides:
//!
//! - [`boot`]: the command line, settings, logging, start and graceful stop;
//! - [`http`]: the router and its layers, the one error mapping, extractors, views and
//!   routes (the only part that knows HTTP);
//! - [`workers`]: the HTTP layer's upkeep, beside the use cases' own loops.
//!
//! The use cases themselves live in the `gavel-service` crate, the rules in `gavel-domain`.
//! Only [`boot`], the composition root, names `gavel-storage` or `gavel-cache` (to build
//! them); everything else reaches them through the services (a test keeps it so).

pub mod boot;
pub mod http;
pub mod workers;

pub use boot::server;
pub use boot::settings::Settings;
pub use http::error::ApiError;
pub use http::state::{AppState, AppStateParts};
pub use http::{router, HttpOptions};

#[cfg(test)]
mod layout {
    /// Every `.rs` file under `dir`.
    fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn only_boot_names_storage_or_cache() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let offenders: Vec<String> = files
            .iter()
            .filter(|f| !f.starts_with(src.join("boot")))
            .filter(|f| {
                let text = std::fs::read_to_string(f).unwrap();
                // Spelled apart so that this file does not name them itself.
                ["storage", "cache"]
                    .iter()
                    .any(|c| text.contains(&format!("gavel_{c}")))
            })
            .map(|f| f.display().to_string())
            .collect();
        assert!(offenders.is_empty(), "outside boot/: {offenders:?}");
    }
}
