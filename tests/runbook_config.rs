//! Runbooks as configured: what loads, what is refused (with where and why), and how a
//! runbook becomes an invocation — every placeholder inside one argv element or one JSON
//! string, hostile values refused, secrets only in the child's environment.

use std::collections::BTreeMap;
use std::path::Path;

use watchdeck::config::settings::Tier;
use watchdeck::config::{self, ErrorKind};
use watchdeck::runbook::spec::Confirm;
use watchdeck::runbook::template::{self, Context, ResolveError};
use watchdeck::runbook::{Invocation, Phase, Target, TargetKind};

const ENVS: &str = r#"
[[environment]]
name = "production"
tier = "production"

  [[environment.health]]
  name = "web"
  url = "http://web.prod.example.internal/health"

[[environment]]
name = "staging"
tier = "staging"

  [[environment.health]]
  name = "web"
  url = "http://web.stage.example.internal/health"
"#;

fn load(runbooks: &str) -> Result<config::Settings, config::ConfigError> {
    config::load_str(
        &format!("{ENVS}\n{runbooks}"),
        Path::new("/etc/watchdeck/config.toml"),
    )
}

fn node(env: &str, name: &str) -> Target {
    Target {
        kind: TargetKind::Node,
        environment: env.into(),
        name: name.into(),
        values: BTreeMap::from([("node".into(), name.into())]),
    }
}

fn cx() -> Context<'static> {
    Context {
        phase: Phase::Run,
        user: "alice",
        incident: None,
        read_secrets: true,
    }
}

fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const RESTART: &str = r#"
[[runbook]]
name = "restart_fpm"
description = "Restart PHP-FPM on one web node"
hotkey = "R"
target = "node"
timeout = "2m"
exec = ["ssh", "-o", "BatchMode=yes", "{node}", "sudo", "systemctl", "restart", "{unit}"]
plan = ["ssh", "{node}", "systemctl", "status", "--no-pager", "{unit}"]
secret_env = { DEPLOY_TOKEN = { env = "WATCHDECK_TEST_CANARY" } }

  [[runbook.param]]
  name = "unit"
  type = "choice"
  choices = ["php8.2-fpm.service", "nginx.service"]
  default = "php8.2-fpm.service"

[[runbook]]
name = "note"
target = "node"
environments = ["staging"]
confirm = "none"
exec = ["/usr/local/bin/annotate", "--node={node}", "{text}"]

  [[runbook.param]]
  name = "text"
  type = "string"
  pattern = "[A-Za-z0-9 ;'\"$()`/-]{1,60}"

[[runbook]]
name = "shift"
target = "environment"
tiers = ["production"]
http = { method = "post", url = "https://lb.example.internal/api/{env}/weights?who={user_note}", body = { green = "{percent}", note = "{user_note}", fixed = true, list = ["{env}", 3] }, auth = { bearer_token_env = "WATCHDECK_TEST_CANARY" } }

  [[runbook.param]]
  name = "percent"
  type = "choice"
  choices = ["5", "10", "50", "100"]

  [[runbook.param]]
  name = "user_note"
  type = "string"
  pattern = ".{0,80}"
  default = "x"
"#;

#[test]
fn runbooks_load_with_their_defaults() {
    let s = load(RESTART).unwrap();
    assert_eq!(s.runbooks.len(), 3);
    let r = &s.runbooks[0];
    assert_eq!(r.name, "restart_fpm");
    assert_eq!(r.target, TargetKind::Node);
    assert_eq!(r.hotkey.as_deref(), Some("R"));
    assert_eq!(r.timeout.as_secs(), 120);
    assert_eq!(r.kill_grace.as_secs(), 10);
    assert_eq!(r.confirm_for(Tier::Production), Confirm::Typed);
    assert_eq!(r.confirm_for(Tier::Staging), Confirm::Yes);
    assert!(r.plan.is_some());
    assert!(r.applies_to("production", Tier::Production));
    let note = &s.runbooks[1];
    assert!(!note.applies_to("production", Tier::Production));
    assert_eq!(note.confirm_for(Tier::Staging), Confirm::None);
    let shift = &s.runbooks[2];
    assert!(shift.applies_to("production", Tier::Production));
    assert!(!shift.applies_to("staging", Tier::Staging));
}

#[test]
fn values_stay_inside_one_argv_element() {
    let s = load(RESTART).unwrap();
    let note = &s.runbooks[1];
    let req = template::request(
        note,
        Phase::Run,
        &node("staging", "stg-web1"),
        Tier::Staging,
        &params(&[("text", "a; rm -rf / $(id) `x` 'q'")]),
        &cx(),
    )
    .unwrap();
    let Invocation::Exec(e) = &req.invocation else {
        panic!("exec")
    };
    assert_eq!(
        e.argv,
        [
            "/usr/local/bin/annotate",
            "--node=stg-web1",
            "a; rm -rf / $(id) `x` 'q'"
        ]
    );
    let env: BTreeMap<_, _> = e.env.iter().cloned().collect();
    assert_eq!(env["WATCHDECK_ENV"], "staging");
    assert_eq!(env["WATCHDECK_TIER"], "staging");
    assert_eq!(env["WATCHDECK_NODE"], "stg-web1");
    assert_eq!(env["WATCHDECK_PARAM_TEXT"], "a; rm -rf / $(id) `x` 'q'");
    assert_eq!(env["WATCHDECK_USER"], "alice");
    assert_eq!(env["WATCHDECK_PHASE"], "run");
    assert_eq!(env["WATCHDECK_RUNBOOK"], "note");
}

#[test]
fn ssh_refuses_values_the_remote_shell_would_read() {
    let s = load(
        r#"
[[runbook]]
name = "tail"
target = "node"
exec = ["ssh", "{node}", "tail", "-n", "50", "{file}"]

  [[runbook.param]]
  name = "file"
  type = "string"
  pattern = "[a-z/;. ]+"
"#,
    )
    .unwrap();
    let rb = &s.runbooks[0];
    let ok = template::request(
        rb,
        Phase::Run,
        &node("staging", "w1"),
        Tier::Staging,
        &params(&[("file", "/var/log/syslog")]),
        &cx(),
    );
    assert!(ok.is_ok(), "{ok:?}");
    let err = template::request(
        rb,
        Phase::Run,
        &node("staging", "w1"),
        Tier::Staging,
        &params(&[("file", "/x; reboot")]),
        &cx(),
    )
    .unwrap_err();
    assert!(matches!(err, ResolveError::RemoteShell { .. }), "{err}");
}

#[test]
fn hostile_target_values_are_refused() {
    let s = load(RESTART).unwrap();
    let rb = &s.runbooks[0];
    for bad in [
        "-oProxyCommand=id",
        "a b",
        "x;reboot",
        "$(id)",
        "../etc",
        "a\nb",
        "",
    ] {
        let err = template::request(
            rb,
            Phase::Run,
            &node("production", bad),
            Tier::Production,
            &BTreeMap::new(),
            &cx(),
        )
        .unwrap_err();
        assert!(
            matches!(err, ResolveError::UnsafeValue { .. }),
            "{bad:?}: {err}"
        );
    }
}

#[test]
fn parameters_are_typed_and_unknown_ones_refused() {
    let s = load(RESTART).unwrap();
    let rb = &s.runbooks[0];
    let target = node("production", "web1");
    let go = |p: &[(&str, &str)]| {
        template::request(rb, Phase::Run, &target, Tier::Production, &params(p), &cx())
    };
    // The default applies.
    let req = go(&[]).unwrap();
    assert_eq!(req.params["unit"], "php8.2-fpm.service");
    assert!(matches!(
        go(&[("unit", "sshd.service")]).unwrap_err(),
        ResolveError::BadParam { .. }
    ));
    assert!(matches!(
        go(&[("force", "yes")]).unwrap_err(),
        ResolveError::UnknownParam(_)
    ));
    // Plans resolve the plan's argv.
    let plan = template::request(
        rb,
        Phase::Plan,
        &target,
        Tier::Production,
        &BTreeMap::new(),
        &cx(),
    )
    .unwrap();
    let Invocation::Exec(e) = &plan.invocation else {
        panic!("exec")
    };
    assert_eq!(e.argv[3..5], ["status".to_owned(), "--no-pager".to_owned()]);
}

#[test]
fn integer_ranges_and_leading_dashes() {
    let s = load(
        r#"
[[runbook]]
name = "scale"
target = "environment"
exec = ["/usr/local/bin/scale", "--replicas", "{n}", "--tag", "{tag}"]

  [[runbook.param]]
  name = "n"
  type = "integer"
  min = -1
  max = 10

  [[runbook.param]]
  name = "tag"
  type = "string"
  pattern = ".*"
"#,
    )
    .unwrap();
    let rb = &s.runbooks[0];
    let env = Target {
        kind: TargetKind::Environment,
        environment: "staging".into(),
        name: "staging".into(),
        values: BTreeMap::new(),
    };
    let go = |p: &[(&str, &str)]| {
        template::request(rb, Phase::Run, &env, Tier::Staging, &params(p), &cx())
    };
    assert!(go(&[("n", "-1"), ("tag", "v1")]).is_ok());
    assert!(go(&[("n", "11"), ("tag", "v1")]).is_err());
    assert!(go(&[("n", "two"), ("tag", "v1")]).is_err());
    // Even a pattern that allows anything cannot make a value read as an option.
    let err = go(&[("n", "1"), ("tag", "--force")]).unwrap_err();
    assert!(
        err.to_string().contains("could be read as an option"),
        "{err}"
    );
    let err = go(&[("n", "1"), ("tag", "a\u{1b}[2Jb")]).unwrap_err();
    assert!(err.to_string().contains("control characters"), "{err}");
}

#[test]
fn http_bodies_are_json_escaped_urls_encoded_and_secrets_kept_apart() {
    // SAFETY of the test: a variable only this test reads.
    unsafe { std::env::set_var("WATCHDECK_TEST_CANARY", "canary-3f9e") };
    let s = load(RESTART).unwrap();
    let rb = &s.runbooks[2];
    let env = Target {
        kind: TargetKind::Environment,
        environment: "production".into(),
        name: "production".into(),
        values: BTreeMap::new(),
    };
    let req = template::request(
        rb,
        Phase::Run,
        &env,
        Tier::Production,
        &params(&[("percent", "10"), ("user_note", r#"a "b" & c/d"#)]),
        &cx(),
    )
    .unwrap();
    let Invocation::Http(h) = &req.invocation else {
        panic!("http")
    };
    assert_eq!(h.method, "POST");
    assert_eq!(
        h.url.as_str(),
        "https://lb.example.internal/api/production/weights?who=a+%22b%22+%26+c%2Fd"
    );
    let body: serde_json::Value = serde_json::from_str(h.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"green": 10, "note": "a \"b\" & c/d", "fixed": true, "list": ["production", 3]})
    );
    assert_eq!(h.secret_headers.len(), 1);
    assert_eq!(h.secret_headers[0].1.expose(), "Bearer canary-3f9e");
    let shown = req.invocation.describe().join("\n");
    assert!(!shown.contains("canary"), "{shown}");
    assert!(shown.contains("Authorization: [redacted]"), "{shown}");

    // exec: the secret rides in the child's environment only.
    let restart = &s.runbooks[0];
    let req = template::request(
        restart,
        Phase::Run,
        &node("production", "web1"),
        Tier::Production,
        &BTreeMap::new(),
        &cx(),
    )
    .unwrap();
    let Invocation::Exec(e) = &req.invocation else {
        panic!("exec")
    };
    assert!(!e.argv.iter().any(|a| a.contains("canary")));
    assert!(!e.env.iter().any(|(_, v)| v.contains("canary")));
    assert_eq!(e.secret_env[0].0, "DEPLOY_TOKEN");
    assert_eq!(e.secret_env[0].1.expose(), "canary-3f9e");
    assert!(
        !req.invocation
            .to_audit_json()
            .to_string()
            .contains("canary")
    );
}

#[test]
fn runbooks_only_apply_where_configured() {
    let s = load(RESTART).unwrap();
    let note = &s.runbooks[1];
    let err = template::request(
        note,
        Phase::Run,
        &node("production", "web1"),
        Tier::Production,
        &params(&[("text", "x")]),
        &cx(),
    )
    .unwrap_err();
    assert!(matches!(err, ResolveError::NotApplicable(..)), "{err}");
    let err = template::request(
        note,
        Phase::Plan,
        &node("staging", "web1"),
        Tier::Staging,
        &params(&[("text", "x")]),
        &cx(),
    )
    .unwrap_err();
    assert!(matches!(err, ResolveError::NoPlan(_)), "{err}");
}

/// (runbook table, error kind, phrase in the message)
const MISTAKES: &[(&str, ErrorKind, &str)] = &[
    (
        r#"exec = ["/bin/sh", "-c", "systemctl restart x"]"#,
        ErrorKind::ShellCommand,
        "runs `sh -c`",
    ),
    (
        r#"exec = ["bash", "-lc", "x"]"#,
        ErrorKind::ShellCommand,
        "runs `bash -lc`",
    ),
    (
        r#"exec = ["env", "FOO=1", "sh", "-ec", "x"]"#,
        ErrorKind::ShellCommand,
        "runs `sh -ec`",
    ),
    (
        r#"exec = ["python3", "-c", "import os"]"#,
        ErrorKind::ShellCommand,
        "runs `python3 -c`",
    ),
    (
        r#"exec = ["ssh", "{node}", "su", "-c", "reboot"]"#,
        ErrorKind::ShellCommand,
        "runs `su -c`",
    ),
    (
        r#"exec = ["{node}", "restart"]"#,
        ErrorKind::BadPlaceholder,
        "the program of runbook `x` holds a placeholder",
    ),
    (
        r#"exec = ["sudo", "-n", "{node}"]"#,
        ErrorKind::BadPlaceholder,
        "`sudo` runs its argument as a command",
    ),
    (
        r#"exec = ["systemctl", "restart", "{servce}"]"#,
        ErrorKind::BadPlaceholder,
        "unknown placeholder `{servce}`",
    ),
    (
        r#"exec = ["systemctl", "restart", "{node"]"#,
        ErrorKind::BadPlaceholder,
        "unclosed `{`",
    ),
    (
        r#"exec = ["a"]
http = { url = "http://x/" }"#,
        ErrorKind::InvalidValue,
        "has both `exec` and `http`",
    ),
    (
        r#"description = "nothing to run""#,
        ErrorKind::MissingKey,
        "has neither `exec`",
    ),
    (r#"exec = []"#, ErrorKind::InvalidValue, "empty argv"),
    (
        r#"exec = ["a"]
timeout = "48h""#,
        ErrorKind::BadDuration,
        "too long",
    ),
    (
        r#"exec = ["a"]
hotkey = "Ctrl-Banana""#,
        ErrorKind::InvalidValue,
        "invalid hotkey",
    ),
    (
        r#"http = { method = "TRACE", url = "http://x/" }"#,
        ErrorKind::InvalidValue,
        "invalid method `TRACE`",
    ),
    (
        r#"http = { url = "ftp://x/{node}" }"#,
        ErrorKind::BadUrl,
        "expected an absolute http(s) URL",
    ),
    (
        r#"http = { url = "http://x/", headers = { Authorization = "Bearer abc" } }"#,
        ErrorKind::InlineSecret,
        "inline `Authorization` header",
    ),
    (
        r#"http = { url = "http://x/", body = { who = "{nobody}" } }"#,
        ErrorKind::BadPlaceholder,
        "unknown placeholder `{nobody}`",
    ),
    (
        r#"http = { url = "http://x/" }
secret_env = { A = { env = "B" } }"#,
        ErrorKind::InvalidValue,
        "`secret_env` applies to exec runbooks",
    ),
    (
        r#"exec = ["a"]
secret_env = { lower = { env = "B" } }"#,
        ErrorKind::BadSecretRef,
        "invalid secret_env variable `lower`",
    ),
    (
        r#"exec = ["a"]
secret_env = { A = { file = "f", env = "B" } }"#,
        ErrorKind::BadSecretRef,
        "expected exactly one of",
    ),
    (
        r#"exec = ["a"]
password = "hunter2""#,
        ErrorKind::InlineSecret,
        "inline secret `password`",
    ),
    (
        r#"exec = ["a"]
confirm = "maybe""#,
        ErrorKind::InvalidValue,
        "invalid confirm `maybe`",
    ),
    (
        r#"exec = ["a"]
tiers = ["prod"]"#,
        ErrorKind::InvalidTier,
        "invalid tier `prod`",
    ),
    (
        r#"exec = ["a"]
[[runbook.param]]
name = "n"
type = "integer"
min = 5
max = 1"#,
        ErrorKind::BadParam,
        "min 5 is above max 1",
    ),
    (
        r#"exec = ["a"]
[[runbook.param]]
name = "n"
type = "integer"
min = 1
max = 5
default = 9"#,
        ErrorKind::BadParam,
        "invalid default",
    ),
    (
        r#"exec = ["a"]
[[runbook.param]]
name = "node"
type = "choice"
choices = ["a"]"#,
        ErrorKind::BadParam,
        "taken by a built-in placeholder",
    ),
    (
        r#"exec = ["a"]
[[runbook.param]]
name = "c"
type = "choice"
choices = []"#,
        ErrorKind::BadParam,
        "needs a non-empty `choices`",
    ),
    (
        r#"exec = ["a"]
[[runbook.param]]
name = "c"
type = "string"
pattern = "(unclosed""#,
        ErrorKind::BadParam,
        "invalid pattern",
    ),
    (
        r#"exec = ["a"]
[[runbook.param]]
name = "c"
type = "float""#,
        ErrorKind::BadParam,
        "invalid parameter type `float`",
    ),
];

#[test]
fn runbook_mistakes_are_refused_with_a_reason() {
    let mut failures = Vec::new();
    for (body, kind, phrase) in MISTAKES {
        let text = format!("[[runbook]]\nname = \"x\"\ntarget = \"node\"\n{body}\n");
        match load(&text) {
            Ok(_) => failures.push(format!("loaded: {body}")),
            Err(e) => {
                let msg = e.to_string();
                if e.kind() != Some(*kind) || !msg.contains(phrase) {
                    failures.push(format!(
                        "{body}\n  expected {kind:?} containing {phrase:?}, got {:?}: {msg}",
                        e.kind()
                    ));
                }
                assert!(!msg.contains("hunter2"), "secret echoed: {msg}");
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn the_example_runbooks_load_with_the_example_config() {
    let example = std::fs::read_to_string("config/example.toml").unwrap();
    let runbooks = std::fs::read_to_string("config/runbooks.example.toml").unwrap();
    let s = config::load_str(
        &format!("{example}\n{runbooks}"),
        Path::new("config/example.toml"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = s.runbooks.iter().map(|r| r.name.as_str()).collect();
    for linked in [
        "restart_node",
        "resync_galera_node",
        "promote_replica",
        "resync_replica",
        "take_backup",
        "rollback",
    ] {
        assert!(names.contains(&linked), "{linked} missing from {names:?}");
    }
    watchdeck::ui::launch::runbook_keys(&watchdeck::ui::keymap::Keymap::builtin(), &s.runbooks)
        .expect("the example hotkeys do not clash with the default keymap");
    for r in &s.runbooks {
        assert!(
            r.confirm.is_some(),
            "{} states no confirmation level",
            r.name
        );
        assert!(r.plan.is_some(), "{} has no plan", r.name);
        assert!(!r.description.is_empty(), "{} has no description", r.name);
    }
}
