//! Alert parsing against real API fixtures (Alertmanager 0.25, Prometheus 2.42) and
//! hostile input, plus the full poll over HTTP with base URLs written either way.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

use watchdeck::config::settings::{SourceId, SourceKind, SourceSpec, Tier};
use watchdeck::sanitize;
use watchdeck::source::alerts::{UNNAMED, parse_alertmanager, parse_prometheus, parse_silences};
use watchdeck::source::http::HttpClients;
use watchdeck::source::poller::poll_once;
use watchdeck::source::{Payload, PollError};
use watchdeck::store::model::{Alert, AlertState};

const AM_FIXTURE: &str = include_str!("fixtures/api/alertmanager-0.25-alerts.json");
const SILENCES_FIXTURE: &str = include_str!("fixtures/api/alertmanager-0.25-silences-mixed.json");
const SILENCED_ALERTS_FIXTURE: &str =
    include_str!("fixtures/api/alertmanager-0.25-alerts-silenced.json");
const PROM_FIXTURE: &str = include_str!("fixtures/api/prometheus-2.42-alerts.json");
const SRC: SourceId = SourceId(7);

fn assert_all_clean(alerts: &[Alert]) {
    for a in alerts {
        let strings = a
            .labels
            .iter()
            .chain(a.annotations.iter())
            .flat_map(|(k, v)| [k, v])
            .chain(a.silenced_by.iter())
            .chain(a.inhibited_by.iter())
            .chain(a.fingerprint.iter())
            .chain(std::iter::once(&a.name));
        for s in strings {
            assert!(sanitize::is_clean(s), "not clean: {s:?}");
            assert!(!s.chars().any(char::is_control), "control char in {s:?}");
        }
    }
}

#[test]
fn alertmanager_fixture() {
    let alerts = parse_alertmanager(SRC, AM_FIXTURE.as_bytes()).unwrap();
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(a.source, SRC);
    assert_eq!(a.name, "BackupTooOld");
    assert_eq!(a.state, AlertState::Firing);
    assert_eq!(a.severity(), Some("warning"));
    assert_eq!(a.labels["service"], "postgresql");
    assert_eq!(a.labels.len(), 8);
    assert_eq!(
        a.annotations["summary"],
        "postgresql backup older than a day"
    );
    assert_eq!(a.fingerprint.as_deref(), Some("ee85ec7ef1c0cd45"));
    let since = Utc.with_ymd_and_hms(2026, 11, 21, 22, 32, 14).unwrap()
        + chrono::Duration::milliseconds(226);
    assert_eq!(a.since, Some(since));
    assert!(!a.is_suppressed());
}

#[test]
fn alertmanager_states_and_suppression() {
    let body = r#"[
      {"labels":{"alertname":"A"},"annotations":{},"startsAt":"2026-01-01T00:00:00Z",
       "fingerprint":"1","status":{"state":"suppressed","silencedBy":["sil-1"],"inhibitedBy":["inh-1","inh-2"]}},
      {"labels":{"alertname":"B"},"annotations":{},"startsAt":"0001-01-01T00:00:00Z",
       "fingerprint":"2","status":{"state":"unprocessed","silencedBy":[],"inhibitedBy":[]}},
      {"labels":{"job":"x"},"startsAt":"not a time",
       "status":{"state":"active"}}
    ]"#;
    let alerts = parse_alertmanager(SRC, body.as_bytes()).unwrap();
    assert_eq!(alerts[0].state, AlertState::Firing);
    assert!(alerts[0].is_suppressed());
    assert_eq!(alerts[0].silenced_by, ["sil-1"]);
    assert_eq!(alerts[0].inhibited_by, ["inh-1", "inh-2"]);
    assert_eq!(alerts[1].state, AlertState::Pending);
    // Go's zero time means "unknown".
    assert_eq!(alerts[1].since, None);
    // No alertname, no annotations, no fingerprint, bad time: still an alert.
    assert_eq!(alerts[2].name, UNNAMED);
    assert_eq!(alerts[2].state, AlertState::Firing);
    assert_eq!(alerts[2].since, None);
    assert_eq!(alerts[2].fingerprint, None);
}

#[test]
fn prometheus_fixture() {
    let alerts = parse_prometheus(SRC, PROM_FIXTURE.as_bytes()).unwrap();
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(a.name, "BackupTooOld");
    assert_eq!(a.state, AlertState::Firing);
    assert_eq!(a.labels["instance"], "127.0.0.1:19100");
    assert_eq!(
        a.annotations["summary"],
        "postgresql backup older than a day"
    );
    let since = Utc.with_ymd_and_hms(2026, 11, 21, 22, 32, 9).unwrap()
        + chrono::Duration::nanoseconds(226_266_562);
    assert_eq!(a.since, Some(since));
    assert_eq!(a.fingerprint, None);
}

#[test]
fn prometheus_states() {
    let body = r#"{"status":"success","data":{"alerts":[
        {"labels":{"alertname":"P"},"annotations":{},"state":"pending","activeAt":"2026-01-01T00:00:00Z","value":"1"},
        {"labels":{"alertname":"I"},"annotations":{},"state":"inactive","value":"0"}
    ]}}"#;
    let alerts = parse_prometheus(SRC, body.as_bytes()).unwrap();
    assert_eq!(alerts[0].state, AlertState::Pending);
    assert_eq!(alerts[1].state, AlertState::Inactive);
    assert_eq!(alerts[1].since, None);
}

#[test]
fn prometheus_error_envelope() {
    let body = r#"{"status":"error","errorType":"unavailable","error":"TSDB not ready"}"#;
    assert_eq!(
        parse_prometheus(SRC, body.as_bytes()),
        Err(PollError::Decode("unavailable: TSDB not ready".to_owned()))
    );
    let hostile = serde_json::json!({
        "status": "error",
        "errorType": "bad_data",
        "error": "\u{1b}[2J\u{1b}]0;title\u{7}wiped"
    })
    .to_string();
    assert_eq!(
        parse_prometheus(SRC, hostile.as_bytes()),
        Err(PollError::Decode("bad_data: wiped".to_owned()))
    );
}

#[test]
fn malformed_json_reports_line_and_column() {
    let body = "[\n  {\"labels\": {\"alertname\": \"A\"},\n   \"status\": {\"state\": \"active\"}\n  ,,\n]";
    let Err(PollError::Decode(msg)) = parse_alertmanager(SRC, body.as_bytes()) else {
        panic!("expected a decode error");
    };
    assert!(msg.contains("line 4 column 4"), "{msg}");

    let Err(PollError::Decode(msg)) = parse_prometheus(SRC, b"{\"status\":") else {
        panic!("expected a decode error");
    };
    assert!(msg.contains("line 1 column 10"), "{msg}");

    // Wrong shape: an object where a list belongs.
    let Err(PollError::Decode(msg)) = parse_alertmanager(SRC, PROM_FIXTURE.as_bytes()) else {
        panic!("expected a decode error");
    };
    assert!(
        msg.contains("expected a sequence at line 1 column"),
        "{msg}"
    );

    // A type error quoting a hostile string is sanitized.
    // (serde quotes the offending string in "invalid type" errors.)
    let body =
        serde_json::json!([{"labels": "\u{1b}[31mred", "status": {"state": "active"}}]).to_string();
    let Err(PollError::Decode(msg)) = parse_alertmanager(SRC, body.as_bytes()) else {
        panic!("expected a decode error");
    };
    assert!(msg.contains("invalid type: string"), "{msg}");
    assert!(!msg.chars().any(char::is_control), "{msg:?}");

    let quoting =
        serde_json::json!([{"labels": {"x": "\u{1b}]52;c;ZXZpbA==\u{7}", "alertname": 5}}])
            .to_string();
    let Err(PollError::Decode(msg)) = parse_alertmanager(SRC, quoting.as_bytes()) else {
        panic!("expected a decode error");
    };
    assert!(!msg.chars().any(char::is_control), "{msg:?}");
}

#[test]
fn hostile_labels_and_annotations_come_out_clean() {
    let nasty_summary = "\u{1b}[2J\u{1b}[H\u{1b}[0;31mDISK FULL\u{1b}[0m\u{1b}]0;owned\u{7}\u{1b}]52;c;ZXZpbA==\u{1b}\\ on \u{202e}db1\u{200b}\nsecond line";
    let am = serde_json::json!([{
        "labels": {
            "alertname": "Disk\u{1b}[5mFull",
            "sev\u{1b}[1merity": "crit\u{7}ical",
            "host": "\u{1b}]8;;http://evil\u{1b}\\db1\u{1b}]8;;\u{1b}\\"
        },
        "annotations": {
            "summary": nasty_summary,
            "runbook": "x".repeat(5000)
        },
        "startsAt": "2026-01-01T00:00:00Z",
        "fingerprint": "ab\u{1b}[Kcd",
        "status": {"state": "suppressed", "silencedBy": ["s\u{1b}[1m1"], "inhibitedBy": []}
    }]);
    let alerts = parse_alertmanager(SRC, am.to_string().as_bytes()).unwrap();
    assert_all_clean(&alerts);
    let a = &alerts[0];
    assert_eq!(a.name, "DiskFull");
    assert_eq!(a.labels["severity"], "critical");
    assert_eq!(a.labels["host"], "db1");
    assert_eq!(a.annotations["summary"], "DISK FULL on db1⏎second line");
    assert!(a.annotations["runbook"].chars().count() <= sanitize::DEFAULT_MAX_CHARS);
    assert_eq!(a.fingerprint.as_deref(), Some("abcd"));
    assert_eq!(a.silenced_by, ["s1"]);

    let prom = serde_json::json!({"status": "success", "data": {"alerts": [{
        "labels": {"alertname": "Disk\u{9b}31mFull", "\u{1b}[1mteam": "ops"},
        "annotations": {"summary": nasty_summary},
        "state": "firing", "activeAt": "2026-01-01T00:00:00Z", "value": "1e+00"
    }]}});
    let alerts = parse_prometheus(SRC, prom.to_string().as_bytes()).unwrap();
    assert_all_clean(&alerts);
    assert_eq!(alerts[0].name, "DiskFull");
    assert_eq!(alerts[0].labels["team"], "ops");
    assert_eq!(
        alerts[0].annotations["summary"],
        "DISK FULL on db1⏎second line"
    );
}

// ---------------------------------------------------------------------------------------
// Over HTTP.

/// Serve `status` + `body` to every request; record each request line.
async fn serve(status: &'static str, body: &'static str) -> (Url, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&lines);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf);
                seen.lock()
                    .unwrap()
                    .push(head.lines().next().unwrap_or("").to_owned());
                let resp = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(resp.as_bytes()).await;
            });
        }
    });
    (Url::parse(&format!("http://{addr}")).unwrap(), lines)
}

fn spec(url: Url, kind: SourceKind) -> SourceSpec {
    SourceSpec {
        id: SRC,
        environment: "prod".to_owned(),
        tier: Tier::Production,
        name: "alerts".to_owned(),
        url,
        kind,
        interval: Duration::from_secs(5),
        timeout: Duration::from_secs(2),
        max_body: 1 << 20,
        auth: None,
        insecure_skip_verify: false,
    }
}

#[tokio::test]
async fn polls_alertmanager_and_prometheus_with_any_base_url() {
    let clients = HttpClients::new().unwrap();
    let (am, am_lines) = serve("200 OK", AM_FIXTURE).await;
    let (prom, prom_lines) = serve("200 OK", PROM_FIXTURE).await;
    for base in ["", "/", "/am", "/am/"] {
        let r = poll_once(
            &clients,
            &spec(am.join(base).unwrap(), SourceKind::Alertmanager),
        )
        .await;
        let Ok(Payload::Alerts { alerts, .. }) = r.outcome else {
            panic!("{base:?}: {:?}", r.outcome);
        };
        assert_eq!(alerts[0].name, "BackupTooOld");

        let r = poll_once(
            &clients,
            &spec(prom.join(base).unwrap(), SourceKind::PrometheusAlerts),
        )
        .await;
        let Ok(Payload::Alerts { alerts, .. }) = r.outcome else {
            panic!("{base:?}: {:?}", r.outcome);
        };
        assert_eq!(alerts[0].state, AlertState::Firing);
    }
    assert_eq!(
        *am_lines.lock().unwrap(),
        [
            "GET /api/v2/alerts HTTP/1.1",
            "GET /api/v2/silences HTTP/1.1",
            "GET /api/v2/alerts HTTP/1.1",
            "GET /api/v2/silences HTTP/1.1",
            "GET /am/api/v2/alerts HTTP/1.1",
            "GET /am/api/v2/silences HTTP/1.1",
            "GET /am/api/v2/alerts HTTP/1.1",
            "GET /am/api/v2/silences HTTP/1.1"
        ]
    );
    assert_eq!(
        *prom_lines.lock().unwrap(),
        [
            "GET /api/v1/alerts HTTP/1.1",
            "GET /api/v1/alerts HTTP/1.1",
            "GET /am/api/v1/alerts HTTP/1.1",
            "GET /am/api/v1/alerts HTTP/1.1"
        ]
    );
}

#[tokio::test]
async fn alert_api_failures() {
    let clients = HttpClients::new().unwrap();

    // Prometheus's error envelope on a 503 says more than the status.
    let (prom, _) = serve(
        "503 Service Unavailable",
        r#"{"status":"error","errorType":"unavailable","error":"rule manager not ready"}"#,
    )
    .await;
    let r = poll_once(&clients, &spec(prom, SourceKind::PrometheusAlerts)).await;
    assert_eq!(
        r.outcome.unwrap_err(),
        PollError::Decode("unavailable: rule manager not ready".to_owned())
    );

    // No envelope: the status it is.
    let (am, _) = serve("502 Bad Gateway", "<html>proxy</html>").await;
    let r = poll_once(&clients, &spec(am.clone(), SourceKind::Alertmanager)).await;
    assert_eq!(
        r.outcome.unwrap_err(),
        PollError::Status {
            status: 502,
            reason: "Bad Gateway".to_owned()
        }
    );
    let r = poll_once(&clients, &spec(am, SourceKind::PrometheusAlerts)).await;
    assert_eq!(r.outcome.unwrap_err().to_string(), "HTTP 502 Bad Gateway");

    // 200 with garbage.
    let (am, _) = serve("200 OK", "[{\"labels\":").await;
    let r = poll_once(&clients, &spec(am, SourceKind::Alertmanager)).await;
    let Err(PollError::Decode(msg)) = r.outcome else {
        panic!("{:?}", r.outcome);
    };
    assert!(msg.contains("line 1 column 11"), "{msg}");
}

#[test]
fn parses_real_alertmanager_silences() {
    let silences = parse_silences(SRC, SILENCES_FIXTURE.as_bytes()).unwrap();
    assert_eq!(silences.len(), 3);
    let active: Vec<_> = silences.iter().filter(|s| !s.is_expired()).collect();
    let expired: Vec<_> = silences.iter().filter(|s| s.is_expired()).collect();
    assert_eq!(active.len(), 2, "{silences:#?}");
    assert_eq!(expired.len(), 1);
    for s in &silences {
        assert!(!s.id.is_empty());
        assert!(!s.matchers.is_empty());
        assert!(s.starts_at.is_some() && s.ends_at.is_some());
        assert!(s.starts_at <= s.ends_at);
        assert!(!s.matchers_text().is_empty());
        assert_eq!(s.source, SRC);
    }
    // Authors and comments as typed; the expired one in this capture was made without.
    assert_eq!(active[0].created_by, "alice");
    assert_eq!(active[0].comment, "resyncing db2, INC-0042");
}

#[test]
fn silenced_alert_carries_the_silence_id() {
    let alerts = parse_alertmanager(SRC, SILENCED_ALERTS_FIXTURE.as_bytes()).unwrap();
    let silenced: Vec<_> = alerts
        .iter()
        .filter(|a| !a.silenced_by.is_empty())
        .collect();
    assert!(!silenced.is_empty(), "{alerts:#?}");
    assert!(silenced.iter().all(|a| a.state == AlertState::Firing));
}

#[test]
fn silence_matchers_read_as_promql() {
    let body = r#"[{"id":"x","matchers":[
        {"name":"alertname","value":"A","isRegex":false,"isEqual":true},
        {"name":"env","value":"prod.*","isRegex":true,"isEqual":true},
        {"name":"job","value":"n","isRegex":false,"isEqual":false},
        {"name":"i","value":"a|b","isRegex":true}],
        "startsAt":"2026-01-01T00:00:00Z","endsAt":"2026-01-01T01:00:00Z",
        "createdBy":"ops\u001b[31m","comment":"c\u202e","status":{"state":"active"}}]"#;
    let s = &parse_silences(SRC, body.as_bytes()).unwrap()[0];
    assert_eq!(
        s.matchers_text(),
        r#"alertname="A", env=~"prod.*", job!="n", i=~"a|b""#
    );
    assert!(sanitize::is_clean(&s.created_by) && sanitize::is_clean(&s.comment));
    assert!(parse_silences(SRC, b"{}").is_err());
    assert!(parse_silences(SRC, b"[{\"id\":1}]").is_err());
}

#[tokio::test]
async fn broken_silence_listing_keeps_the_alerts() {
    let clients = HttpClients::new().unwrap();
    // The same body for both paths: alerts parse, the silence listing does not.
    let (am, _) = serve("200 OK", AM_FIXTURE).await;
    let r = poll_once(&clients, &spec(am, SourceKind::Alertmanager)).await;
    let Ok(Payload::Alerts { alerts, silences }) = r.outcome else {
        panic!("{:?}", r.outcome);
    };
    assert!(!alerts.is_empty());
    let err = silences.expect("silences polled").unwrap_err();
    assert!(err.starts_with("silences:"), "{err}");
}
