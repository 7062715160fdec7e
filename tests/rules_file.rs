//! Rule files: the default pack loads; user files add and override; every kind of mistake
//! is reported with file, line, column and the offending token.

use std::path::PathBuf;

use watchdeck::rules::{RuleErrorKind, RuleSet};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rules/invalid")
        .join(name)
}

#[test]
fn default_pack_loads_with_the_documented_rules() {
    let set = RuleSet::default_pack().expect("default pack is valid");
    for name in [
        "health_check_down",
        "node_down",
        "galera_quorum_lost",
        "galera_node_desynced",
        "database_primary_down",
        "replication_stopped",
        "replication_lag",
        "redis_replica_unlinked",
        "redis_all_replicas_unlinked",
        "error_rate_high",
        "response_time_high",
        "service_restarting",
        "cpu_high",
        "memory_high",
        "disk_low",
        "backup_late",
    ] {
        assert!(set.rule(name).is_some(), "default pack lacks {name}");
    }
    let c = set.incident_config();
    assert_eq!(c.deadlines[0].as_secs(), 15 * 60);
    assert_eq!(c.deadlines[1].as_secs(), 3600);
    assert_eq!(c.deadlines[2].as_secs(), 24 * 3600);
}

#[test]
fn user_files_add_rules_and_override_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mine.toml");
    std::fs::write(
        &path,
        r#"
[incidents]
deadlines = { sev2 = "2h" }

[[rule]]
name = "replication_lag"
expr = "replication_lag_seconds > 120"
severity = 2
summary = "{{replica}} lags"

[[rule]]
name = "queue_dead_letters"
expr = "queue_dead_letter_messages > 0"
for = "5m"
severity = 3
summary = "dead letters in {{queue}}"
"#,
    )
    .expect("write");
    let set = RuleSet::load(std::slice::from_ref(&path)).expect("loads");
    let lag = set.rule("replication_lag").expect("overridden rule");
    assert_eq!(lag.expr_text, "replication_lag_seconds > 120");
    assert!(
        lag.escalate.is_empty(),
        "the override replaces the whole rule"
    );
    assert!(set.rule("queue_dead_letters").is_some());
    assert_eq!(set.origins["queue_dead_letters"], path);
    assert_eq!(set.incident_config().deadlines[1].as_secs(), 7200);
    assert_eq!(
        set.incident_config().deadlines[0].as_secs(),
        900,
        "others keep defaults"
    );
}

/// (fixture, kind, line:col, a phrase of the message)
const CASES: &[(&str, RuleErrorKind, &str, &str)] = &[
    ("syntax.toml", RuleErrorKind::Syntax, "6:1", "bogus_key"),
    ("expression.toml", RuleErrorKind::Expression, "4:9", "rat"),
    (
        "duplicate_name.toml",
        RuleErrorKind::DuplicateName,
        "8:8",
        "first on line 2",
    ),
    (
        "bad_severity.toml",
        RuleErrorKind::BadSeverity,
        "4:12",
        "not 1, 2 or 3",
    ),
    (
        "bad_duration.toml",
        RuleErrorKind::BadDuration,
        "4:7",
        "five minutes",
    ),
    (
        "bad_template.toml",
        RuleErrorKind::BadTemplate,
        "5:21",
        "unknown filter `hours`",
    ),
    (
        "bad_hysteresis.toml",
        RuleErrorKind::BadHysteresis,
        "4:19",
        "clear_threshold",
    ),
    ("bad_name.toml", RuleErrorKind::BadName, "2:8", "has space"),
    (
        "scalar_expression.toml",
        RuleErrorKind::Expression,
        "3:8",
        "scalar",
    ),
];

#[test]
fn every_error_kind_names_file_line_column_and_token() {
    for (file, kind, position, phrase) in CASES {
        let err = RuleSet::load(&[fixture(file)]).expect_err(file);
        assert_eq!(err.kind(), Some(*kind), "{file}: {err}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("{file}:{position}:")),
            "{file}: expected {position} in\n{text}"
        );
        assert!(
            text.contains(phrase),
            "{file}: expected `{phrase}` in\n{text}"
        );
        assert!(
            text.contains('^'),
            "{file}: a caret points at the token\n{text}"
        );
        assert_eq!(err.exit_code(), 2);
    }
}

#[test]
fn a_missing_rule_file_is_a_clear_error() {
    let err = RuleSet::load(&[PathBuf::from("/nonexistent/rules.toml")]).expect_err("missing");
    assert!(
        err.to_string()
            .contains("cannot read rule file /nonexistent/rules.toml")
    );
}
