//! Config loading end to end: the example and valid fixtures resolve to the expected
//! settings; each invalid fixture fails with a located, explained error of its kind; the
//! starter config is never overwritten; paths honour the XDG variables.

use std::path::{Path, PathBuf};
use std::time::Duration;

use watchdeck::config::settings::{
    Auth, BackupPolicy, COMMERCE_RETENTION, CmpOp, DEFAULT_INTERVAL, DEFAULT_MAX_BODY,
    DEFAULT_TIMEOUT, Preset, SecretSource, Settings, SourceId, SourceKind, SourceSpec, Tier,
};
use watchdeck::config::{self, ConfigError, ErrorKind, Paths, write_starter};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/configs")
        .join(rel)
}

fn load_ok(rel: &str) -> Settings {
    let path = fixture(rel);
    config::load(&path).unwrap_or_else(|e| panic!("{rel} should load:\n{e}"))
}

fn health(s: &SourceSpec) -> &watchdeck::config::settings::HealthSpec {
    match &s.kind {
        SourceKind::Health(h) => h,
        other => panic!("{} is {other:?}, not health", s.key()),
    }
}

fn metrics(s: &SourceSpec) -> &watchdeck::config::settings::MetricsSpec {
    match &s.kind {
        SourceKind::Metrics(m) => m,
        other => panic!("{} is {other:?}, not metrics", s.key()),
    }
}

// ----- valid configs ------------------------------------------------------------------

#[test]
fn example_config_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml");
    let s = config::load(&path).unwrap_or_else(|e| panic!("example should load:\n{e}"));
    assert_eq!(s.path.as_deref(), Some(path.as_path()));
    assert_eq!(s.general.max_in_flight, 16);

    let names: Vec<(&str, Tier)> = s
        .environments
        .iter()
        .map(|e| (e.name.as_str(), e.tier))
        .collect();
    assert_eq!(
        names,
        [
            ("integration", Tier::Integration),
            ("staging", Tier::Staging),
            ("production", Tier::Production)
        ]
    );

    // Ids are dense and in Settings::sources() order.
    for (i, src) in s.sources().enumerate() {
        assert_eq!(src.id, SourceId(i as u32), "{}", src.key());
    }

    let prod = s.environment("production").unwrap();
    let count = |kind: &str| {
        prod.sources
            .iter()
            .filter(|s| s.kind_name() == kind)
            .count()
    };
    assert_eq!(count("alertmanager"), 1);
    assert_eq!(count("prometheus_alerts"), 1);
    let preset_count = |p: Preset| {
        prod.sources
            .iter()
            .filter(|s| matches!(&s.kind, SourceKind::Metrics(m) if m.preset == p))
            .count()
    };
    assert_eq!(preset_count(Preset::Node), 3);
    assert_eq!(preset_count(Preset::Mysqld), 3, "Galera x3");
    assert_eq!(preset_count(Preset::Postgres), 3, "primary + 2 replicas");
    assert_eq!(
        preset_count(Preset::Redis),
        3 + 6,
        "commerce + 3 shards x 2"
    );
    assert_eq!(preset_count(Preset::Backup), 1);
    assert!(
        prod.backup_policies.contains(&BackupPolicy {
            service: "galera".into(),
            interval: Duration::from_secs(3600),
            rpo: Duration::from_secs(15 * 60),
            retention: COMMERCE_RETENTION.to_vec(),
        }),
        "{:?}",
        prod.backup_policies
    );

    // No inline secrets anywhere; production never skips TLS verification.
    for src in s.sources() {
        if src.tier == Tier::Production {
            assert!(!src.insecure_skip_verify, "{}", src.key());
        }
    }
    let storefront = prod
        .sources
        .iter()
        .find(|s| s.name == "storefront")
        .unwrap();
    assert_eq!(health(storefront).conditions.len(), 3);
    assert_eq!(
        health(storefront).max_latency,
        Some(Duration::from_millis(750))
    );

    let staging = s.environment("staging").unwrap();
    assert_eq!(staging.sources.len(), 5 + 9);
}

#[test]
fn example_config_is_what_write_starter_writes() {
    let on_disk =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml"))
            .unwrap();
    assert_eq!(config::EXAMPLE_CONFIG, on_disk);
}

#[test]
fn minimal_fixture_gets_every_default() {
    let s = load_ok("valid/minimal.toml");
    assert_eq!(s.general.max_in_flight, 16);
    assert_eq!(s.general.theme, "dark");
    assert!(s.general.bell_on_sev1);
    assert!(!s.general.mouse);
    let env = &s.environments[0];
    assert_eq!((env.name.as_str(), env.tier), ("lab", Tier::Integration));
    assert!(env.backup_policies.is_empty());
    let [src] = env.sources.as_slice() else {
        panic!("one source expected: {:?}", env.sources)
    };
    assert_eq!(src.id, SourceId(0));
    assert_eq!(src.key(), "lab/app");
    assert_eq!(src.tier, Tier::Integration);
    assert_eq!(src.url.as_str(), "http://localhost:8080/health");
    assert_eq!(src.interval, DEFAULT_INTERVAL);
    assert_eq!(src.timeout, DEFAULT_TIMEOUT);
    assert_eq!(src.max_body, DEFAULT_MAX_BODY);
    assert!(src.auth.is_none());
    assert!(!src.insecure_skip_verify);
    let h = health(src);
    assert_eq!(h.expect_status, 200);
    assert!(h.conditions.is_empty());
    assert_eq!(h.max_latency, None);
}

#[test]
fn full_fixture_resolves_every_key() {
    let path = fixture("valid/full.toml");
    let s = load_ok("valid/full.toml");
    assert_eq!(s.general.max_in_flight, 4);
    assert_eq!(s.general.theme, "themes/solarized.toml");
    assert!(!s.general.bell_on_sev1);
    assert!(s.general.mouse);

    // Ids: health, then metrics, then alertmanager, then prometheus_alerts, each in file
    // order, environment by environment — not the order the tables appear in the file.
    let order: Vec<(u32, String, &str)> = s
        .sources()
        .map(|s| (s.id.0, s.key(), s.kind_name()))
        .collect();
    let expected = [
        (0, "stage-eu.1/shop", "health"),
        (1, "stage-eu.1/db1-mysqld", "metrics"),
        (2, "stage-eu.1/backups", "metrics"),
        (3, "stage-eu.1/misc", "metrics"),
        (4, "stage-eu.1/am", "alertmanager"),
        (5, "stage-eu.1/prom", "prometheus_alerts"),
        (6, "prod/shop", "health"),
    ];
    let expected: Vec<(u32, String, &str)> = expected
        .iter()
        .map(|&(i, k, n)| (i, k.to_owned(), n))
        .collect();
    assert_eq!(order, expected);

    let stage = &s.environments[0];
    let shop = &stage.sources[0];
    assert_eq!(shop.tier, Tier::Staging);
    assert_eq!(shop.interval, Duration::from_secs(10));
    assert_eq!(shop.timeout, Duration::from_secs(3));
    assert_eq!(shop.max_body, 512 * 1024);
    assert!(shop.insecure_skip_verify, "allowed outside production");
    match &shop.auth {
        Some(Auth::Bearer(SecretSource::File(p))) => {
            assert_eq!(p, &path.parent().unwrap().join("secrets/stage.token"));
        }
        other => panic!("expected a bearer file, got {other:?}"),
    }
    let h = health(shop);
    assert_eq!(h.expect_status, 204);
    assert_eq!(h.max_latency, Some(Duration::from_millis(750)));
    let conds: Vec<(&[String], CmpOp, &serde_json::Value)> = h
        .conditions
        .iter()
        .map(|c| (c.path.as_slice(), c.op, &c.value))
        .collect();
    assert_eq!(conds[0].0, ["status"]);
    assert_eq!(
        (conds[0].1, conds[0].2),
        (CmpOp::Eq, &serde_json::json!("UP"))
    );
    assert_eq!(conds[1].0, ["checks", "0", "latency_ms"]);
    assert_eq!(
        (conds[1].1, conds[1].2),
        (CmpOp::Le, &serde_json::json!(250.5))
    );
    assert!(conds[2].0.is_empty());
    assert_eq!(h.conditions[0].text, r#"body.status == "UP""#);

    let db = &stage.sources[1];
    assert_eq!(db.max_body, 1_048_576);
    assert_eq!(db.interval, DEFAULT_INTERVAL);
    let m = metrics(db);
    assert_eq!(m.preset, Preset::Mysqld);
    assert_eq!(m.placement.node.as_deref(), Some("db1"));
    assert_eq!(m.placement.role.as_deref(), Some("db"));
    assert_eq!(m.placement.cluster.as_deref(), Some("commerce"));
    assert_eq!(m.placement.service.as_deref(), Some("galera"));
    assert_eq!(
        m.placement.extra.iter().collect::<Vec<_>>(),
        [
            (&"rack".to_owned(), &"r1".to_owned()),
            (&"zone".to_owned(), &"a".to_owned())
        ]
    );

    let backups = &stage.sources[2];
    let m = metrics(backups);
    assert_eq!(m.preset, Preset::Backup);
    assert_eq!(m.backup_names.last_success, "job_last_ok_seconds");
    assert_eq!(m.backup_names.service_label, "job");
    assert_eq!(
        m.backup_names.last_size, "backup_last_size_bytes",
        "default"
    );
    assert_eq!(m.backup_names.push_time, "push_time_seconds", "default");
    match &backups.auth {
        Some(Auth::Basic { username, password }) => {
            assert_eq!(username, "push");
            assert_eq!(
                password,
                &SecretSource::File("/etc/watchdeck/push.password".into())
            );
        }
        other => panic!("expected basic auth, got {other:?}"),
    }

    let misc = metrics(&stage.sources[3]);
    assert_eq!(misc.preset, Preset::Generic);
    assert_eq!(misc.placement, Default::default());

    let am = &stage.sources[4];
    assert_eq!(am.url.as_str(), "http://alertmanager:9093/");
    assert_eq!(am.interval, Duration::from_secs(60));
    assert_eq!(am.timeout, Duration::from_secs(10));

    match &stage.sources[5].auth {
        Some(Auth::Basic { username, password }) => {
            assert_eq!(username, "watchdeck");
            assert_eq!(password, &SecretSource::Env("PROM_PASSWORD".into()));
        }
        other => panic!("expected basic auth, got {other:?}"),
    }

    let prod = &s.environments[1];
    assert_eq!(prod.tier, Tier::Production);
    assert!(matches!(
        &prod.sources[0].auth,
        Some(Auth::Bearer(SecretSource::Env(v))) if v == "WATCHDECK_PROD_TOKEN"
    ));
    assert_eq!(
        prod.backup_policies,
        [
            BackupPolicy {
                service: "galera".into(),
                interval: Duration::from_secs(3600),
                rpo: Duration::from_secs(900),
                retention: Vec::new(),
            },
            BackupPolicy {
                service: "postgres".into(),
                interval: Duration::from_secs(86400),
                rpo: Duration::from_secs(4 * 3600 + 1800),
                retention: Vec::new(),
            },
        ]
    );
}

#[test]
fn secrets_are_not_read_at_load_time() {
    // The referenced file and variable do not exist; loading still succeeds.
    let text = r#"
[[environment]]
name = "p"
tier = "production"
  [[environment.health]]
  name = "a"
  url = "https://a.example/health"
  auth = { bearer_token_file = "does/not/exist.token" }
  [[environment.health]]
  name = "b"
  url = "https://b.example/health"
  auth = { bearer_token_env = "WATCHDECK_TEST_SURELY_UNSET_VARIABLE" }
"#;
    let s = config::load_str(text, Path::new("/etc/watchdeck/config.toml")).unwrap();
    let srcs: Vec<&SourceSpec> = s.sources().collect();
    assert!(matches!(
        &srcs[0].auth,
        Some(Auth::Bearer(SecretSource::File(p))) if p == Path::new("/etc/watchdeck/does/not/exist.token")
    ));
}

// ----- invalid configs ----------------------------------------------------------------

/// One fixture per error kind: (file stem, kind, line, column, phrase in the message).
const INVALID: &[(&str, ErrorKind, usize, usize, &str)] = &[
    ("syntax", ErrorKind::Syntax, 3, 8, "TOML syntax error"),
    (
        "unknown_key",
        ErrorKind::UnknownKey,
        9,
        3,
        "unknown key `intervall` in [[environment.metrics]]; expected one of: name, url, preset",
    ),
    (
        "wrong_type",
        ErrorKind::WrongType,
        9,
        14,
        "wrong type for `interval`: found integer `10`, expected a duration string",
    ),
    (
        "missing_key",
        ErrorKind::MissingKey,
        6,
        3,
        "missing required key `url` in [[environment.health]]",
    ),
    (
        "bad_url",
        ErrorKind::BadUrl,
        8,
        9,
        "invalid URL `web1.prod.example.internal:9100/metrics`: no scheme",
    ),
    (
        "bad_duration",
        ErrorKind::BadDuration,
        9,
        14,
        "invalid duration `10 parsecs`",
    ),
    (
        "bad_size",
        ErrorKind::BadSize,
        9,
        14,
        "invalid size `16 megs`",
    ),
    (
        "invalid_tier",
        ErrorKind::InvalidTier,
        4,
        8,
        "invalid tier `prod` for environment `prod`; expected one of: integration, staging, production",
    ),
    (
        "invalid_preset",
        ErrorKind::InvalidPreset,
        9,
        12,
        "invalid preset `node_exporter`; expected one of: node, mysqld, postgres, redis, backup, generic",
    ),
    (
        "duplicate_environment",
        ErrorKind::DuplicateEnvironment,
        7,
        8,
        "duplicate environment name `prod` (first defined at line 3)",
    ),
    (
        "duplicate_source",
        ErrorKind::DuplicateSource,
        11,
        10,
        "duplicate source name `web1` in environment `prod` (first defined at line 7)",
    ),
    (
        "insecure_in_production",
        ErrorKind::InsecureInProduction,
        9,
        26,
        "insecure_skip_verify = true is refused in production-tier environment `prod`",
    ),
    (
        "inline_secret",
        ErrorKind::InlineSecret,
        9,
        12,
        "inline secret `token`",
    ),
    (
        "bad_auth",
        ErrorKind::BadAuth,
        9,
        43,
        "ambiguous auth: both `bearer_token_env` and `username` given",
    ),
    (
        "bad_secret_ref",
        ErrorKind::BadSecretRef,
        9,
        32,
        "empty path in `bearer_token_file`",
    ),
    (
        "bad_condition",
        ErrorKind::BadCondition,
        9,
        59,
        "bad body condition `body.checks.db != DOWN`",
    ),
    (
        "invalid_environment_name",
        ErrorKind::InvalidEnvironmentName,
        3,
        8,
        "invalid environment name `prod eu`",
    ),
    (
        "invalid_source_name",
        ErrorKind::InvalidSourceName,
        7,
        10,
        "empty source name",
    ),
    (
        "backup_metrics_on_non_backup",
        ErrorKind::BackupMetricsOnNonBackup,
        10,
        20,
        "backup_metrics only applies to preset = \"backup\"",
    ),
    (
        "max_in_flight_zero",
        ErrorKind::InvalidMaxInFlight,
        3,
        17,
        "max_in_flight must be at least 1 (got 0)",
    ),
    (
        "invalid_status",
        ErrorKind::InvalidStatus,
        9,
        19,
        "expect_status 42 is not an HTTP status; expected 100..=599",
    ),
    (
        "timeout_exceeds_interval",
        ErrorKind::TimeoutExceedsInterval,
        10,
        13,
        "timeout 10s is longer than interval 5s",
    ),
    (
        "duplicate_backup_policy",
        ErrorKind::DuplicateBackupPolicy,
        12,
        13,
        "duplicate backup policy for service `galera` in environment `prod` (first defined at line 7)",
    ),
    (
        "bad_catalog_location",
        ErrorKind::BadCatalogLocation,
        9,
        3,
        "both `url` and `path` given; expected exactly one of url = \"http(s)://…\" or path",
    ),
    (
        "invalid_catalog_format",
        ErrorKind::InvalidCatalogFormat,
        9,
        12,
        "invalid catalog format `borg`; expected one of: auto, restic, walg, pgbackrest, generic",
    ),
    (
        "unknown_retention_preset",
        ErrorKind::UnknownRetentionPreset,
        10,
        15,
        "unknown retention preset `gold`; expected one of: commerce",
    ),
    (
        "invalid_retention_tier",
        ErrorKind::InvalidRetentionTier,
        12,
        28,
        "retention tier from 7days is not before to 3days",
    ),
    (
        "no_environments",
        ErrorKind::NoEnvironments,
        1,
        1,
        "no environments configured",
    ),
    (
        "duplicate_runbook",
        ErrorKind::DuplicateRunbook,
        16,
        8,
        "duplicate runbook name `restart_fpm` (first defined at line 11)",
    ),
    (
        "shell_command",
        ErrorKind::ShellCommand,
        13,
        42,
        "runbook `restart_fpm` runs `bash -c`: a command string is interpreted by bash",
    ),
    (
        "bad_placeholder",
        ErrorKind::BadPlaceholder,
        13,
        49,
        "`{node}` is supplied by node targets, and runbook `take_backup` has target = \"backup_service\"",
    ),
    (
        "bad_param",
        ErrorKind::BadParam,
        15,
        3,
        "string parameter `version` of runbook `deploy` needs an allowlist `pattern`",
    ),
    (
        "unsafe_confirm",
        ErrorKind::UnsafeConfirm,
        13,
        11,
        "confirm = \"none\" on runbook `failover`, which can run in a production environment",
    ),
    (
        "unknown_environment",
        ErrorKind::UnknownEnvironment,
        13,
        17,
        "runbook `restart_fpm` names environment `prod`, which is not configured",
    ),
    (
        "invalid_value",
        ErrorKind::InvalidValue,
        3,
        9,
        "empty theme",
    ),
];

#[test]
fn every_invalid_fixture_fails_with_a_located_error_of_its_kind() {
    let mut failures = Vec::new();
    for &(stem, kind, line, col, phrase) in INVALID {
        let path = fixture(&format!("invalid/{stem}.toml"));
        let err = match config::load(&path) {
            Ok(_) => {
                failures.push(format!("{stem}: loaded without error"));
                continue;
            }
            Err(e) => e,
        };
        let msg = err.to_string();
        let located = format!("{stem}.toml:{line}:{col}: ");
        if err.kind() != Some(kind)
            || !msg.contains(&located)
            || !msg.contains(phrase)
            || err.exit_code() != 2
        {
            failures.push(format!(
                "{stem}: expected {kind:?} at {located:?} containing {phrase:?}, got {:?}:\n{msg}",
                err.kind()
            ));
        }
        // The offending line is quoted with a caret under the column.
        let lines: Vec<&str> = msg.lines().collect();
        let source = std::fs::read_to_string(&path).unwrap();
        let mut quoted = source.lines().nth(line - 1).unwrap_or_default().to_owned();
        if kind == ErrorKind::InlineSecret {
            // The secret is never echoed.
            assert!(!msg.contains("s3cr3t"), "{msg}");
            quoted = "  auth = { token = [redacted]".to_owned();
        }
        if lines.len() != 4
            || lines[2] != format!("{line} | {quoted}")
            || lines[3].find('^') != Some(line.to_string().len() + 3 + col - 1)
        {
            failures.push(format!("{stem}: bad excerpt:\n{msg}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn every_error_kind_has_a_fixture() {
    // Keep this list in step with ErrorKind: each kind is demonstrated by one fixture.
    let dir = fixture("invalid");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = INVALID.iter().map(|t| format!("{}.toml", t.0)).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
    let mut kinds: Vec<String> = INVALID.iter().map(|t| format!("{:?}", t.1)).collect();
    kinds.dedup();
    assert_eq!(kinds.len(), INVALID.len(), "one fixture per kind");
}

#[test]
fn more_auth_mistakes() {
    let cases = [
        (
            r#"auth = { password_file = "p" }"#,
            "incomplete auth: `password_file` given without `username`",
        ),
        (
            r#"auth = { username = "u" }"#,
            "incomplete auth: `username` given without `password_file` or `password_env`",
        ),
        (r#"auth = {}"#, "empty auth table"),
        (
            r#"auth = { bearer_token_file = "f", bearer_token_env = "E" }"#,
            "ambiguous auth: both `bearer_token_file` and `bearer_token_env` given",
        ),
        (
            r#"auth = { username = "u", password_file = "f", password_env = "E" }"#,
            "ambiguous auth: both `password_file` and `password_env` given",
        ),
        (
            r#"auth = { bearer_token_env = "" }"#,
            "invalid environment variable name `` in `bearer_token_env`",
        ),
        (
            r#"auth = { username = "u", password = "hunter2" }"#,
            "inline secret `password` in `auth` of [[environment.health]]",
        ),
        (
            r#"bearer_token = "abc""#,
            "inline secret `bearer_token` in [[environment.health]]",
        ),
    ];
    for (line, phrase) in cases {
        let text = format!(
            "[[environment]]\nname = \"p\"\ntier = \"staging\"\n[[environment.health]]\nname = \"a\"\nurl = \"http://a/\"\n{line}\n"
        );
        let err = config::load_str(&text, Path::new("c.toml")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("c.toml:7:"), "{line}: {msg}");
        assert!(msg.contains(phrase), "{line}: {msg}");
        assert!(!msg.contains("hunter2") && !msg.contains("abc"), "{msg}");
    }
}

#[test]
fn more_structure_mistakes() {
    let cases = [
        // A top-level typo.
        (
            "[genral]\n",
            "c.toml:1:2: unknown key `genral` in the top level",
        ),
        // A source kind typo in a header.
        (
            "[[environment]]\nname = \"p\"\ntier = \"staging\"\n[[environment.helth]]\n",
            "c.toml:4:15: unknown key `helth` in [[environment]]; expected one of: name, tier, health, metrics",
        ),
        // Single brackets where an array of tables is expected.
        (
            "[[environment]]\nname = \"p\"\ntier = \"staging\"\n[environment.health]\nname = \"a\"\n",
            "wrong type for `health`: found a table, expected an array; write [[environment.health]]",
        ),
        // A label that is not a string.
        (
            "[[environment]]\nname = \"p\"\ntier = \"staging\"\n[[environment.metrics]]\nname = \"a\"\nurl = \"http://a/\"\nlabels = { node = 1 }\n",
            "c.toml:7:19: wrong type for `node`: found integer `1`, expected a string",
        ),
        // A size of the wrong type.
        (
            "[[environment]]\nname = \"p\"\ntier = \"staging\"\n[[environment.health]]\nname = \"a\"\nurl = \"http://a/\"\nmax_body = true\n",
            "expected a size: an integer number of bytes or a string such as \"16MiB\"",
        ),
        // A timeout that only exceeds the interval because of the default.
        (
            "[[environment]]\nname = \"p\"\ntier = \"staging\"\n[[environment.health]]\nname = \"a\"\nurl = \"http://a/\"\ninterval = \"1s\"\n",
            "c.toml:7:12: timeout 2s (the default) is longer than interval 1s",
        ),
        (
            "[[environment]]\nname = \"p\"\ntier = \"staging\"\n[[environment.health]]\nname = \"a\"\nurl = \"ftp://a/\"\n",
            "unsupported URL scheme `ftp`",
        ),
        ("", "c.toml:1:1: no environments configured"),
        // Non-ASCII before a value does not upset the key lookup.
        (
            "[[environment]]\nname = \"p\"\ntier = \"staging\"\n[[environment.metrics]]\nname = \"a\"\nurl = \"http://a/\"\nlabels = { \"zoné\" = 1 }\n",
            "c.toml:7:21: wrong type for `zoné`",
        ),
        // An unknown key in [general].
        (
            "[general]\nthemes = \"x\"\n",
            "c.toml:2:1: unknown key `themes` in [general]; expected one of: max_in_flight, theme, bell_on_sev1, mouse",
        ),
    ];
    for (text, phrase) in cases {
        let msg = config::load_str(text, Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains(phrase), "expected {phrase:?} in:\n{msg}");
    }
}

#[test]
fn error_messages_read_like_a_compiler() {
    let read = |stem: &str| {
        let path = format!("tests/fixtures/configs/invalid/{stem}.toml");
        let text = std::fs::read_to_string(fixture(&format!("invalid/{stem}.toml"))).unwrap();
        config::load_str(&text, Path::new(&path))
            .unwrap_err()
            .to_string()
    };
    insta::assert_snapshot!("unknown_key", read("unknown_key"));
    insta::assert_snapshot!("duplicate_source", read("duplicate_source"));
    insta::assert_snapshot!("bad_condition", read("bad_condition"));
}

#[test]
fn read_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let err = config::load(&missing).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(err.to_string().contains("nope.toml"), "{err}");
    assert_eq!(err.exit_code(), 2);
}

// ----- starter config and paths -------------------------------------------------------

#[test]
fn write_starter_creates_dirs_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/config.toml");
    write_starter(&path).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        config::EXAMPLE_CONFIG
    );
    config::load(&path).expect("the starter config loads");

    std::fs::write(&path, "# mine\n").unwrap();
    let err = write_starter(&path).unwrap_err();
    assert!(matches!(err, ConfigError::AlreadyExists { .. }), "{err:?}");
    assert!(err.to_string().contains("refusing to overwrite"), "{err}");
    assert_eq!(err.exit_code(), 2);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
}

/// Runs `Paths::discover` in a child process (this same test binary) with XDG variables
/// set, so no test mutates this process's environment.
#[test]
#[cfg(target_os = "linux")]
fn paths_honour_xdg_variables() {
    const CHILD: &str = "WATCHDECK_TEST_PATHS_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let p = Paths::discover().unwrap();
        let var = |v: &str| PathBuf::from(std::env::var_os(v).unwrap());
        assert_eq!(p.config_dir, var("XDG_CONFIG_HOME").join("watchdeck"));
        assert_eq!(
            p.config_file,
            var("XDG_CONFIG_HOME").join("watchdeck/config.toml")
        );
        assert_eq!(
            p.themes_dir,
            var("XDG_CONFIG_HOME").join("watchdeck/themes")
        );
        assert_eq!(
            p.keymap_file,
            var("XDG_CONFIG_HOME").join("watchdeck/keymap.toml")
        );
        assert_eq!(p.data_dir, var("XDG_DATA_HOME").join("watchdeck"));
        assert_eq!(p.state_dir, var("XDG_STATE_HOME").join("watchdeck"));
        assert_eq!(
            p.log_file,
            var("XDG_STATE_HOME").join("watchdeck/watchdeck.log")
        );
        match std::env::var_os("XDG_RUNTIME_DIR") {
            Some(r) => assert_eq!(p.runtime_dir, PathBuf::from(r).join("watchdeck")),
            None => assert_eq!(p.runtime_dir, p.state_dir),
        }
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let b = base.path();
    let run = |runtime: Option<&Path>| {
        let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
        cmd.args(["--exact", "paths_honour_xdg_variables", "--test-threads=1"])
            .env(CHILD, "1")
            .env("HOME", b.join("home"))
            .env("XDG_CONFIG_HOME", b.join("cfg"))
            .env("XDG_DATA_HOME", b.join("data"))
            .env("XDG_STATE_HOME", b.join("state"));
        match runtime {
            Some(r) => cmd.env("XDG_RUNTIME_DIR", r),
            None => cmd.env_remove("XDG_RUNTIME_DIR"),
        };
        let out = cmd.output().unwrap();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "child failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(Some(&b.join("run")));
    run(None);
}

// ----- backup catalogs and retention --------------------------------------------------

const CATALOG_ENV: &str = "[[environment]]\nname = \"prod\"\ntier = \"production\"\n";

#[test]
fn catalogs_and_retention_resolve() {
    use watchdeck::config::settings::{
        CatalogFormat, DEFAULT_CATALOG_INTERVAL, DEFAULT_CATALOG_TIMEOUT, RetentionTier,
    };
    let text = format!(
        "{CATALOG_ENV}
  [[environment.backup_catalog]]
  name = \"galera-restic\"
  url = \"http://backup01:8080/restic-snapshots.json\"
  format = \"restic\"
  service = \"galera\"
  interval = \"5m\"

  [[environment.backup_catalog]]
  name = \"pg\"
  path = \"catalogs/pgbackrest.json\"
  service = \"postgres\"

  [[environment.backup_policy]]
  service = \"galera\"
  interval = \"1h\"
  rpo = \"15m\"
  retention = \"commerce\"

  [[environment.backup_policy]]
  service = \"postgres\"
  interval = \"1h\"
  rpo = \"15m\"
  retention = [
    {{ every = \"1h\", from = \"0s\", to = \"3d\" }},
    {{ every = \"1d\", from = \"3d\", to = \"7d\" }},
  ]
"
    );
    let s = config::load_str(&text, Path::new("/etc/watchdeck/config.toml")).unwrap();
    let prod = &s.environments[0];
    let [restic, pg] = &prod.sources[..] else {
        panic!("{:?}", prod.sources)
    };
    assert_eq!(restic.kind_name(), "backup_catalog");
    let SourceKind::BackupCatalog(c) = &restic.kind else {
        panic!()
    };
    assert_eq!(
        (c.format, c.service.as_str()),
        (CatalogFormat::Restic, "galera")
    );
    assert_eq!(restic.interval, Duration::from_secs(300));
    assert_eq!(restic.timeout, DEFAULT_CATALOG_TIMEOUT);
    let SourceKind::BackupCatalog(c) = &pg.kind else {
        panic!()
    };
    assert_eq!(c.format, CatalogFormat::Auto);
    assert_eq!(pg.interval, DEFAULT_CATALOG_INTERVAL);
    // A relative path is anchored to the config file's directory.
    assert_eq!(
        pg.url.as_str(),
        "file:///etc/watchdeck/catalogs/pgbackrest.json"
    );
    assert_eq!(prod.backup_policies[0].retention, COMMERCE_RETENTION);
    assert_eq!(prod.backup_policies[0].retention.len(), 5);
    let day = Duration::from_secs(86_400);
    assert_eq!(
        prod.backup_policies[1].retention,
        [
            RetentionTier {
                every: Duration::from_secs(3600),
                from: Duration::ZERO,
                to: 3 * day
            },
            RetentionTier {
                every: day,
                from: 3 * day,
                to: 7 * day
            },
        ]
    );
}

#[test]
fn commerce_preset_is_the_seed_policy() {
    let day = Duration::from_secs(86_400);
    let tiers: Vec<(Duration, Duration, Duration)> = COMMERCE_RETENTION
        .iter()
        .map(|t| (t.every, t.from, t.to))
        .collect();
    assert_eq!(
        tiers,
        [
            (Duration::from_secs(3600), Duration::ZERO, 3 * day),
            (day, 3 * day, 7 * day),
            (7 * day, 7 * day, 42 * day),
            (14 * day, 49 * day, 84 * day),
            (30 * day, 60 * day, 150 * day),
        ]
    );
}

#[test]
fn example_config_has_catalogs() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml");
    let s = config::load(&path).unwrap();
    let prod = s.environment("production").unwrap();
    let catalogs: Vec<(&str, &str)> = prod
        .sources
        .iter()
        .filter_map(|src| match &src.kind {
            SourceKind::BackupCatalog(c) => Some((src.name.as_str(), c.service.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        catalogs,
        [
            ("galera-restic", "galera"),
            ("postgres-pgbackrest", "postgres")
        ]
    );
    for service in ["galera", "postgres"] {
        let p = prod
            .backup_policies
            .iter()
            .find(|p| p.service == service)
            .unwrap();
        assert_eq!(p.retention, COMMERCE_RETENTION, "{service}");
    }
}

#[test]
fn more_catalog_and_retention_mistakes() {
    let catalog = |body: &str| {
        format!(
            "{CATALOG_ENV}[[environment.backup_catalog]]\nname = \"c\"\nservice = \"galera\"\n{body}\n"
        )
    };
    let policy = |retention: &str| {
        format!(
            "{CATALOG_ENV}[[environment.backup_policy]]\nservice = \"galera\"\ninterval = \"1h\"\nrpo = \"15m\"\nretention = {retention}\n"
        )
    };
    let cases = [
        (
            catalog(""),
            ErrorKind::BadCatalogLocation,
            "neither `url` nor `path` given",
        ),
        (
            catalog("path = \"\""),
            ErrorKind::BadCatalogLocation,
            "empty path",
        ),
        (
            catalog("url = \"ftp://backup01/x.json\""),
            ErrorKind::BadUrl,
            "unsupported URL scheme `ftp`",
        ),
        (
            catalog("url = \"file://backup01/x.json\""),
            ErrorKind::BadUrl,
            "does not name a local file",
        ),
        (
            catalog("url = \"http://b/x\"\nservice = \"\"").replace("service = \"galera\"\n", ""),
            ErrorKind::InvalidValue,
            "empty service name",
        ),
        (
            policy("[{ every = \"5d\", from = \"3d\", to = \"7d\" }]"),
            ErrorKind::InvalidRetentionTier,
            "every 5days is longer than the tier itself (3days to 7days)",
        ),
        (
            policy("[]"),
            ErrorKind::InvalidRetentionTier,
            "empty retention array",
        ),
        (
            policy("[{ every = \"0s\", from = \"0s\", to = \"7d\" }]"),
            ErrorKind::BadDuration,
            "must be greater than zero",
        ),
        (
            policy("[{ every = \"1d\", from = \"soon\", to = \"7d\" }]"),
            ErrorKind::BadDuration,
            "invalid duration `soon`",
        ),
        (
            policy("[{ every = \"1d\", from = \"0s\", to = \"7d\", keep = 3 }]"),
            ErrorKind::UnknownKey,
            "unknown key `keep` in `retention` of [[environment.backup_policy]]",
        ),
        (
            policy("[{ every = \"1d\", to = \"7d\" }]"),
            ErrorKind::MissingKey,
            "missing required key `from`",
        ),
        (
            policy("7"),
            ErrorKind::WrongType,
            "expected a retention preset name such as \"commerce\" or an array of tiers",
        ),
    ];
    for (text, kind, phrase) in cases {
        let err = config::load_str(&text, Path::new("c.toml")).unwrap_err();
        let msg = err.to_string();
        assert_eq!(err.kind(), Some(kind), "{text}\n{msg}");
        assert!(msg.contains(phrase), "{text}\n{msg}");
    }
}
