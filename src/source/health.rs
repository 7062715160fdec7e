//! Health checks: turning one HTTP exchange (or the failure to have one) into a
//! [`HealthResult`].
//!
//! It owns the verdict: up iff the status is the expected one, every JSON body condition
//! holds, and the latency is within bound. A refused connection, a timeout or an oversized
//! body is a fact about the service, so it is a *result* (down, with a reason), not a poll
//! error; only problems on our side (an unreadable secret) fail the poll itself.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::config::settings::{BodyCondition, CmpOp, HealthSpec, SourceSpec};
use crate::sanitize;
use crate::source::PollError;
use crate::source::http::{self, Fetched, HttpClients};
use crate::store::model::HealthResult;

/// Health endpoints are usually JSON; accept anything.
const ACCEPT: &str = "application/json;q=0.9,*/*;q=0.1";

/// Longest failure text kept (chars).
const MAX_FAILURE_CHARS: usize = 400;
/// Longest rendering of one JSON value inside a failure text (chars).
const MAX_VALUE_CHARS: usize = 80;

/// Run one health check. `Err` only when the request could not even be made (our side).
pub async fn check(
    clients: &HttpClients,
    spec: &SourceSpec,
    health: &HealthSpec,
) -> Result<HealthResult, PollError> {
    let request = clients.prepare(spec, None, ACCEPT)?;
    let started = Instant::now();
    let fetched = http::execute(request, spec.max_body, spec.timeout).await;
    Ok(evaluate(health, fetched, started.elapsed()))
}

/// The verdict for one exchange. `elapsed` is used as the latency when no response came.
pub fn evaluate(
    health: &HealthSpec,
    fetched: Result<Fetched, PollError>,
    elapsed: Duration,
) -> HealthResult {
    let fetched = match fetched {
        Ok(f) => f,
        Err(err) => {
            return HealthResult {
                up: false,
                status: None,
                latency: elapsed,
                failure: Some(cap(&err.to_string())),
            };
        }
    };
    let mut failures = Vec::new();
    if fetched.status != health.expect_status {
        let reason = if fetched.reason.is_empty() {
            String::new()
        } else {
            format!(" {}", fetched.reason)
        };
        failures.push(format!(
            "expected HTTP {}, got {}{reason}",
            health.expect_status, fetched.status
        ));
    }
    if !health.conditions.is_empty() {
        // Parsed once for all conditions.
        let parsed: Result<Value, String> =
            serde_json::from_slice(&fetched.body).map_err(|e| e.to_string());
        for cond in &health.conditions {
            if let Err(why) = check_condition(cond, parsed.as_ref()) {
                failures.push(why);
            }
        }
    }
    if let Some(max) = health.max_latency
        && fetched.duration > max
    {
        failures.push(format!(
            "latency {} exceeds max_latency {}",
            fmt_ms(fetched.duration),
            fmt_ms(max)
        ));
    }
    HealthResult {
        up: failures.is_empty(),
        status: Some(fetched.status),
        latency: fetched.duration,
        failure: if failures.is_empty() {
            None
        } else {
            Some(cap(&failures.join("; ")))
        },
    }
}

/// Check one condition against the parsed body (`Err` = the body was not JSON, with
/// serde's reason). The error is the full, sanitized failure message.
pub fn check_condition(cond: &BodyCondition, body: Result<&Value, &String>) -> Result<(), String> {
    let failed = |detail: String| Err(cap(&format!("condition `{}` failed: {detail}", cond.text)));
    let root = match body {
        Ok(v) => v,
        Err(e) => return failed(format!("body is not JSON ({e})")),
    };
    let path = path_text(&cond.path);
    let Some(actual) = walk(root, &cond.path) else {
        return failed(format!("{path} is missing"));
    };
    let holds = match cond.op {
        CmpOp::Eq => json_eq(actual, &cond.value),
        CmpOp::Ne => !json_eq(actual, &cond.value),
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            let (Some(a), Some(b)) = (actual.as_f64(), cond.value.as_f64()) else {
                return failed(format!("{path} is {}, not a number", show(actual)));
            };
            match cond.op {
                CmpOp::Lt => a < b,
                CmpOp::Le => a <= b,
                CmpOp::Gt => a > b,
                _ => a >= b,
            }
        }
    };
    if holds {
        Ok(())
    } else {
        failed(format!("{path} is {}", show(actual)))
    }
}

/// Follow the path through objects, and through arrays where the segment is an index.
fn walk<'a>(root: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(root, |v, seg| match v {
        Value::Object(map) => map.get(seg),
        Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// Equality where numbers compare by value (`1 == 1.0`), everything else structurally.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        _ => a == b,
    }
}

fn path_text(path: &[String]) -> String {
    let mut s = String::from("body");
    for seg in path {
        s.push('.');
        s.push_str(seg);
    }
    s
}

/// A JSON value as it appears in a message: compact, sanitized, short.
fn show(v: &Value) -> String {
    sanitize::clean_with_limit(&v.to_string(), MAX_VALUE_CHARS).into_owned()
}

fn cap(s: &str) -> String {
    sanitize::clean_with_limit(s, MAX_FAILURE_CHARS).into_owned()
}

fn fmt_ms(d: Duration) -> String {
    let ms = Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    humantime::format_duration(ms).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cond(path: &str, op: CmpOp, value: Value) -> BodyCondition {
        let segs: Vec<String> = path.split('.').skip(1).map(str::to_owned).collect();
        BodyCondition {
            text: format!("{path} {} {value}", op.as_str()),
            path: segs,
            op,
            value,
        }
    }

    #[test]
    fn condition_table() {
        let body = json!({
            "status": "UP",
            "version": 3,
            "ratio": 0.25,
            "ok": true,
            "nothing": null,
            "checks": [{"name": "db", "status": "DOWN"}, {"name": "cache", "status": "UP"}],
            "nested": {"a": {"b": 1.0}}
        });
        // (path, op, value, holds, expected detail when it fails)
        let cases: Vec<(&str, CmpOp, Value, Result<(), &str>)> = vec![
            ("body.status", CmpOp::Eq, json!("UP"), Ok(())),
            ("body.status", CmpOp::Ne, json!("DOWN"), Ok(())),
            (
                "body.status",
                CmpOp::Eq,
                json!("DOWN"),
                Err("body.status is \"UP\""),
            ),
            ("body.version", CmpOp::Eq, json!(3.0), Ok(())),
            ("body.version", CmpOp::Ge, json!(3), Ok(())),
            (
                "body.version",
                CmpOp::Gt,
                json!(3),
                Err("body.version is 3"),
            ),
            ("body.version", CmpOp::Lt, json!(4.5), Ok(())),
            (
                "body.version",
                CmpOp::Le,
                json!(2),
                Err("body.version is 3"),
            ),
            ("body.ratio", CmpOp::Lt, json!(0.5), Ok(())),
            ("body.ok", CmpOp::Eq, json!(true), Ok(())),
            ("body.ok", CmpOp::Eq, json!("true"), Err("body.ok is true")),
            ("body.nothing", CmpOp::Eq, json!(null), Ok(())),
            ("body.checks.1.status", CmpOp::Eq, json!("UP"), Ok(())),
            (
                "body.checks.0.status",
                CmpOp::Eq,
                json!("UP"),
                Err("body.checks.0.status is \"DOWN\""),
            ),
            (
                "body.checks.5.status",
                CmpOp::Eq,
                json!("UP"),
                Err("body.checks.5.status is missing"),
            ),
            (
                "body.checks.x",
                CmpOp::Eq,
                json!("UP"),
                Err("body.checks.x is missing"),
            ),
            ("body.nested.a.b", CmpOp::Eq, json!(1), Ok(())),
            (
                "body.status.deeper",
                CmpOp::Eq,
                json!(1),
                Err("body.status.deeper is missing"),
            ),
            (
                "body.missing",
                CmpOp::Ne,
                json!("x"),
                Err("body.missing is missing"),
            ),
            (
                "body.status",
                CmpOp::Gt,
                json!(1),
                Err("body.status is \"UP\", not a number"),
            ),
            (
                "body.version",
                CmpOp::Gt,
                json!("2"),
                Err("body.version is 3, not a number"),
            ),
        ];
        for (path, op, value, want) in cases {
            let c = cond(path, op, value);
            let got = check_condition(&c, Ok(&body));
            match want {
                Ok(()) => assert_eq!(got, Ok(()), "{}", c.text),
                Err(detail) => {
                    let want = format!("condition `{}` failed: {detail}", c.text);
                    assert_eq!(got, Err(want), "{}", c.text);
                }
            }
        }
    }

    #[test]
    fn non_json_body_fails_every_condition_clearly() {
        let c = cond("body.status", CmpOp::Eq, json!("UP"));
        let err = serde_json::from_slice::<Value>(b"<html>oops</html>")
            .unwrap_err()
            .to_string();
        let got = check_condition(&c, Err(&err)).unwrap_err();
        assert!(got.starts_with("condition `body.status == \"UP\"` failed: body is not JSON ("));
        assert!(got.contains("line 1 column 1"), "{got}");
    }

    #[test]
    fn hostile_values_are_sanitized_and_capped() {
        let body =
            json!({ "status": format!("\u{1b}]0;pwned\u{7}\u{1b}[31mDOWN{}", "x".repeat(500)) });
        let c = cond("body.status", CmpOp::Eq, json!("UP"));
        let got = check_condition(&c, Ok(&body)).unwrap_err();
        assert!(!got.contains('\u{1b}'), "{got:?}");
        assert!(got.chars().count() <= MAX_FAILURE_CHARS);
        assert!(got.contains('…'));
    }

    fn fetched(status: u16, body: &str, ms: u64) -> Fetched {
        Fetched {
            status,
            reason: "Service Unavailable".into(),
            body: body.as_bytes().to_vec(),
            truncated: false,
            duration: Duration::from_millis(ms),
        }
    }

    #[test]
    fn verdict_combines_status_conditions_latency() {
        let spec = HealthSpec {
            expect_status: 200,
            conditions: vec![cond("body.status", CmpOp::Eq, json!("UP"))],
            max_latency: Some(Duration::from_millis(100)),
        };
        let up = evaluate(
            &spec,
            Ok(fetched(200, r#"{"status":"UP"}"#, 5)),
            Duration::ZERO,
        );
        assert!(up.up);
        assert_eq!(up.failure, None);
        assert_eq!(up.status, Some(200));

        let down = evaluate(
            &spec,
            Ok(fetched(503, r#"{"status":"DOWN"}"#, 5)),
            Duration::ZERO,
        );
        assert!(!down.up);
        assert_eq!(
            down.failure.as_deref(),
            Some(
                "expected HTTP 200, got 503 Service Unavailable; \
                 condition `body.status == \"UP\"` failed: body.status is \"DOWN\""
            )
        );

        let slow = evaluate(
            &spec,
            Ok(fetched(200, r#"{"status":"UP"}"#, 250)),
            Duration::ZERO,
        );
        assert!(!slow.up);
        assert_eq!(
            slow.failure.as_deref(),
            Some("latency 250ms exceeds max_latency 100ms")
        );

        let refused = evaluate(
            &spec,
            Err(PollError::Connect("connection refused".into())),
            Duration::from_millis(1),
        );
        assert!(!refused.up);
        assert_eq!(refused.status, None);
        assert_eq!(
            refused.failure.as_deref(),
            Some("connection failed: connection refused")
        );
    }
}
