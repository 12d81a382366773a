//! The settings as the README, the VM's env file template and the systemd unit present
//! them, checked against the command line itself: each default is written once (in the
//! code), and the documents must agree with it.

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use clap::CommandFactory;

    use crate::boot::cli::Cli;

    fn read(path: &str) -> String {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        std::fs::read_to_string(root.join(path)).unwrap()
    }

    /// `serve`'s settings: environment variable → default (when it has one).
    fn settings() -> HashMap<String, Option<String>> {
        let cli = Cli::command();
        let serve = cli.find_subcommand("serve").unwrap();
        serve
            .get_arguments()
            .filter_map(|a| {
                let env = a.get_env()?.to_string_lossy().into_owned();
                let default = a
                    .get_default_values()
                    .first()
                    .map(|d| d.to_string_lossy().into_owned())
                    .filter(|d| !d.is_empty());
                Some((env, default))
            })
            .collect()
    }

    /// What is between backticks in `cell`, for each ` / `-separated part.
    fn ticked(cell: &str) -> Vec<Option<String>> {
        cell.split(" / ")
            .map(|part| part.split('`').nth(1).map(str::to_string))
            .collect()
    }

    /// The README's configuration table: variable → its documented default, if any.
    fn readme_table() -> HashMap<String, Option<String>> {
        let readme = read("README.md");
        let section = readme.split("\n## Configuration").nth(1).unwrap();
        let section = section.split("\n## ").next().unwrap();
        let mut rows = HashMap::new();
        for line in section.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line.split(" | ").collect();
            let (names, defaults) = (ticked(cells[0]), ticked(cells[1]));
            for (i, name) in names.into_iter().enumerate() {
                let default = defaults.get(i).cloned().flatten();
                rows.insert(name.unwrap(), default);
            }
        }
        rows
    }

    #[test]
    fn the_readme_documents_every_setting_with_the_code_s_default() {
        let table = readme_table();
        for (env, default) in settings() {
            let documented = table
                .get(&env)
                .unwrap_or_else(|| panic!("README's configuration table has no row for {env}"));
            if let Some(default) = default {
                assert_eq!(
                    documented.as_deref(),
                    Some(default.as_str()),
                    "README's default of {env}"
                );
            }
        }
    }

    #[test]
    fn the_vm_env_template_names_every_setting() {
        let template = read("deploy/gavel.env.example");
        let named = |name: &str| {
            template
                .lines()
                .any(|l| l.trim_start_matches('#').starts_with(&format!("{name}=")))
        };
        for env in settings().keys().map(String::as_str).chain(["RUST_LOG"]) {
            assert!(named(env), "deploy/gavel.env.example: {env} is missing");
        }
        assert!(
            template.lines().any(|l| l == "GAVEL_BIND=127.0.0.1"),
            "deploy/gavel.env.example: GAVEL_BIND=127.0.0.1 expected (Caddy in front)"
        );
    }

    #[test]
    fn the_unit_waits_past_the_grace_and_allows_more_files_than_connections() {
        let unit = read("deploy/gavel.service");
        let value = |key: &str| -> u64 {
            unit.lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("deploy/gavel.service: no numeric {key}="))
        };
        let defaults = settings();
        let default = |env: &str| -> u64 { defaults[env].as_deref().unwrap().parse().unwrap() };
        assert!(value("TimeoutStopSec") > default("GAVEL_SHUTDOWN_GRACE_SECS"));
        assert!(value("LimitNOFILE") > default("GAVEL_MAX_CONNECTIONS"));
    }
}
