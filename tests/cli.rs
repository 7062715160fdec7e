//! The binary as a user runs it: probe, info, init, and config errors with exit code 2.

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;

fn watchdeck() -> Command {
    Command::cargo_bin("watchdeck").expect("binary built")
}

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

#[test]
fn probe_json_on_every_fixture_is_valid_and_complete() {
    let dir = fixture("exporters");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures dir") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("fixture");
        let expected = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        let out = watchdeck()
            .arg("probe")
            .arg("--json")
            .arg(&path)
            .output()
            .expect("runs");
        assert!(out.status.success(), "{}", path.display());
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
        assert_eq!(
            json["samples"].as_array().map(Vec::len),
            Some(expected),
            "{}",
            path.display()
        );
        assert_eq!(
            json["errors"].as_array().map(Vec::len),
            Some(0),
            "{}",
            path.display()
        );
        assert!(json["families"].as_array().is_some_and(|f| !f.is_empty()));
        seen += 1;
    }
    assert!(seen >= 9);
}

#[test]
fn probe_reports_domain_values_for_each_preset() {
    let cases = [
        (
            "exporters/node_exporter-1.5.prom",
            "preset node",
            "node probe: cpu",
        ),
        (
            "exporters/mysqld_exporter-0.14-replica.prom",
            "preset mysqld",
            "MySQL link",
        ),
        (
            "exporters/postgres_exporter-0.11-primary.prom",
            "preset postgres",
            "PostgreSQL link",
        ),
        (
            "exporters/redis_exporter-1.45-replica.prom",
            "preset redis",
            "Redis link",
        ),
        (
            "exporters/pushgateway-1.5.prom",
            "preset backup",
            "backup opensearch",
        ),
    ];
    for (file, preset, view) in cases {
        watchdeck()
            .arg("probe")
            .arg(fixture(file))
            .assert()
            .success()
            .stdout(predicate::str::contains(preset))
            .stdout(predicate::str::contains(view))
            .stdout(predicate::str::contains("0 errors"));
    }
}

#[test]
fn probe_shows_parse_errors_with_line_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.prom");
    std::fs::write(&path, "ok 1\nbroken{a=\"x\" 1\nalso_ok 2\n").expect("write");
    watchdeck()
        .arg("probe")
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains("line 2"))
        .stdout(predicate::str::contains("2 samples, 1 errors"));
    let out = watchdeck()
        .args(["probe", "--json"])
        .arg(&path)
        .output()
        .expect("runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(json["errors"][0]["line"], 2);
}

#[test]
fn probe_json_writes_special_floats_as_strings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("f.prom");
    std::fs::write(&path, "a NaN\nb +Inf\nc -Inf\nd 1.5 1700000000000\n").expect("write");
    let out = watchdeck()
        .args(["probe", "--json"])
        .arg(&path)
        .output()
        .expect("runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let values: Vec<_> = json["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .map(|s| s["value"].clone())
        .collect();
    assert_eq!(
        values,
        [
            serde_json::json!("NaN"),
            serde_json::json!("+Inf"),
            serde_json::json!("-Inf"),
            serde_json::json!(1.5)
        ]
    );
    assert_eq!(json["samples"][3]["timestamp_ms"], 1_700_000_000_000_i64);
}

#[test]
fn probe_of_a_missing_file_fails_cleanly() {
    watchdeck()
        .args(["probe", "/nonexistent/metrics.prom"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("cannot read"));
}

#[test]
fn config_error_exits_2_with_location() {
    let path = fixture("configs/invalid/unknown_key.toml");
    watchdeck()
        .arg("--config")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown_key.toml:"))
        .stderr(predicate::str::contains("unknown key"));
}

#[test]
fn no_config_points_to_init_and_demo() {
    let home = tempfile::tempdir().expect("tempdir");
    watchdeck()
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("watchdeck init"))
        .stderr(predicate::str::contains("--demo"));
}

#[test]
fn init_writes_once_and_info_lists_paths() {
    let home = tempfile::tempdir().expect("tempdir");
    let env = |cmd: &mut Command| {
        cmd.env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_STATE_HOME", home.path().join("state"))
            .env("XDG_DATA_HOME", home.path().join("data"));
    };
    let mut init = watchdeck();
    env(&mut init);
    init.arg("init").assert().success();
    let written = home.path().join("config/watchdeck/config.toml");
    assert!(written.exists());
    let mut again = watchdeck();
    env(&mut again);
    again.arg("init").assert().code(2);
    let mut info = watchdeck();
    env(&mut info);
    info.arg("info")
        .assert()
        .success()
        .stdout(predicate::str::contains(written.to_string_lossy().as_ref()))
        .stdout(predicate::str::contains("watchdeck.log"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_a_running_demo_endpoint() {
    use watchdeck::demo::{DemoFleet, DemoOptions};
    let fleet = DemoFleet::start(DemoOptions::default())
        .await
        .expect("demo starts");
    let base = fleet.base_url();
    let cases = [
        (
            "env/production/prod-web1/node/metrics",
            "preset node",
            "node probe",
        ),
        (
            "env/production/prod-dbr1/mysqld/metrics",
            "preset mysqld",
            "MySQL link",
        ),
        (
            "env/production/prod-pg1/postgres/metrics",
            "preset postgres",
            "PostgreSQL link probe → prod-pg2",
        ),
        (
            "env/production/pushgateway/metrics",
            "preset backup",
            "backup galera",
        ),
    ];
    for (path, preset, view) in cases {
        let url = base.join(path).expect("url");
        let out = tokio::task::spawn_blocking(move || {
            watchdeck()
                .arg("probe")
                .arg(url.as_str())
                .output()
                .expect("runs")
        })
        .await
        .expect("joined");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("fetched in"), "{path}: {stdout}");
        assert!(stdout.contains(" 0 errors"), "{path}: {stdout}");
        assert!(stdout.contains(preset), "{path}: {stdout}");
        assert!(stdout.contains(view), "{path}: {stdout}");
    }
    let url = base
        .join("env/production/prod-web1/node/metrics")
        .expect("url");
    let out = tokio::task::spawn_blocking(move || {
        watchdeck()
            .args(["probe", "--json", url.as_str()])
            .output()
            .expect("runs")
    })
    .await
    .expect("joined");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert!(json["samples"].as_array().is_some_and(|s| s.len() > 20));
    fleet.shutdown().await;
}
