//! What the deploy files and the README say about the code, checked against the code
//! itself: the settings and their defaults (each written once, in the code), the env file
//! template, the systemd unit's limits, and the Grafana dashboard's queries and metrics.

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

    /// The dashboard's panels, rows' nested panels included.
    fn panels(dashboard: &serde_json::Value) -> Vec<&serde_json::Value> {
        let mut out = Vec::new();
        for p in dashboard["panels"].as_array().into_iter().flatten() {
            out.push(p);
            out.extend(p["panels"].as_array().into_iter().flatten());
        }
        out
    }

    #[test]
    fn the_dashboard_charts_every_metric_with_queries_that_parse() {
        let d: serde_json::Value =
            serde_json::from_str(&read("deploy/grafana-dashboard.json")).unwrap();
        let version = d["schemaVersion"].as_u64().unwrap_or(0);
        assert!((38..=41).contains(&version), "schemaVersion {version}");
        assert!(
            d["__inputs"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|i| i["name"] == "DS_PROMETHEUS"),
            "no DS_PROMETHEUS in __inputs"
        );
        let ds = serde_json::json!({"type": "prometheus", "uid": "${DS_PROMETHEUS}"});
        let panels = panels(&d);
        let ids: std::collections::HashSet<_> =
            panels.iter().map(|p| p["id"].to_string()).collect();
        assert_eq!(ids.len(), panels.len(), "panel ids are not unique");
        // Grafana's variables as Grafana expands them, before parsing.
        let expand = |e: &str| {
            [
                ("$__rate_interval", "1m"),
                ("$__interval", "1m"),
                ("$__range", "1h"),
                ("$job", ".*"),
                ("$instance", ".*"),
            ]
            .iter()
            .fold(e.to_string(), |q, (k, v)| q.replace(k, v))
        };
        let mut exprs = Vec::new();
        for p in panels.iter().filter(|p| p["type"] != "row") {
            let title = p["title"].as_str().unwrap_or("?");
            assert_eq!(p["datasource"], ds, "panel {title:?}: datasource");
            let targets = p["targets"].as_array().filter(|t| !t.is_empty());
            for t in targets.unwrap_or_else(|| panic!("panel {title:?}: no targets")) {
                assert_eq!(
                    t["datasource"], ds,
                    "panel {title:?}: a target's datasource"
                );
                let e = t["expr"].as_str().unwrap_or("");
                let q = expand(e);
                assert!(!q.contains('$'), "panel {title:?}: unknown variable in {e}");
                promql_parser::parser::parse(&q)
                    .unwrap_or_else(|err| panic!("panel {title:?}: {err}: {e}"));
                exprs.push(e.to_string());
            }
        }
        for v in d["templating"]["list"].as_array().into_iter().flatten() {
            if v["type"] == "query" {
                assert_eq!(v["datasource"], ds, "variable {}", v["name"]);
            }
        }
        for m in crate::http::metrics::METRICS {
            let series = match m.kind {
                crate::http::metrics::Kind::Histogram => format!("{}_bucket", m.name),
                _ => m.name.to_string(),
            };
            assert!(
                exprs.iter().any(|e| e.contains(&series)),
                "no panel shows {series}"
            );
        }
        assert!(
            exprs.iter().any(|e| e.contains("histogram_quantile")
                && e.contains("gavel_http_request_duration_seconds_bucket")
                && e.contains("route")),
            "no per-route latency quantile"
        );
    }
}
