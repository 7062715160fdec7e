//! Pollers against real (local) misbehaving servers: hanging, failing, oversized, invalid
//! UTF-8, refusing; health verdicts; credentials; the in-flight bound; shutdown.
//!
//! The servers are raw `TcpListener`s writing canned HTTP/1.1 responses, which lets a test
//! do what no well-behaved framework would (hang after accept, stream forever, lie about
//! encodings). No test asserts a duration; counts are checked after generous waits.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use url::Url;

use watchdeck::config::settings::{
    Auth, BackupMetricNames, BodyCondition, CmpOp, EnvironmentSpec, General, HealthSpec,
    MetricsSpec, Placement, Preset, SecretSource, Settings, SourceId, SourceKind, SourceSpec, Tier,
};
use watchdeck::source::http::HttpClients;
use watchdeck::source::poller::{self, METRICS_ACCEPT};
use watchdeck::source::{Payload, PollError, PollReport};

const INTERVAL: Duration = Duration::from_millis(200);
const TIMEOUT: Duration = Duration::from_millis(300);
const MAX_BODY: u64 = 4096;
const GOOD_METRICS: &str = "# TYPE up gauge\nup 1\nnode_load1 0.5\n";

// ---------------------------------------------------------------------------------------
// A tiny, controllable HTTP server.

#[derive(Clone)]
enum Behaviour {
    /// Accept, read the request, never answer.
    Hang,
    /// Write these exact bytes, then close.
    Raw(Vec<u8>),
    /// Write this head (no Content-Length, `Connection: close`), then body bytes forever.
    Endless(String),
}

struct Server {
    addr: SocketAddr,
    /// Request heads as received, in order.
    requests: Arc<Mutex<Vec<String>>>,
    hits: Arc<AtomicUsize>,
}

impl Server {
    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.addr)).unwrap()
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

async fn serve(behaviour: Behaviour) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let hits = Arc::new(AtomicUsize::new(0));
    let (reqs, h) = (Arc::clone(&requests), Arc::clone(&hits));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (behaviour, reqs, h) = (behaviour.clone(), Arc::clone(&reqs), Arc::clone(&h));
            tokio::spawn(async move {
                handle(stream, behaviour, reqs, h).await;
            });
        }
    });
    Server {
        addr,
        requests,
        hits,
    }
}

async fn handle(
    mut stream: TcpStream,
    behaviour: Behaviour,
    requests: Arc<Mutex<Vec<String>>>,
    hits: Arc<AtomicUsize>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    // A TLS ClientHello (first byte 0x16) never contains a blank line: answer it at once
    // with whatever HTTP we were told to, as a plain server on a mistaken https URL would.
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.first() != Some(&0x16) {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    requests
        .lock()
        .unwrap()
        .push(String::from_utf8_lossy(&buf).into_owned());
    hits.fetch_add(1, Ordering::SeqCst);
    match behaviour {
        Behaviour::Hang => {
            // Keep the socket open (and silent) until the client gives up.
            let _ = stream.read(&mut chunk).await;
            std::future::pending::<()>().await;
        }
        Behaviour::Raw(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Behaviour::Endless(head) => {
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let block = vec![b'x'; 1024];
            // Until the client hangs up: only a streaming limit check ends this early.
            while stream.write_all(&block).await.is_ok() {}
        }
    }
}

fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Behaviour {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    Behaviour::Raw(bytes)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// A port nothing listens on: bind, note the port, drop the listener.
async fn refused_url() -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    Url::parse(&format!("http://{addr}/metrics")).unwrap()
}

// ---------------------------------------------------------------------------------------
// Settings built by hand.

fn metrics_kind() -> SourceKind {
    SourceKind::Metrics(MetricsSpec {
        preset: Preset::Generic,
        placement: Placement::default(),
        backup_names: BackupMetricNames::default(),
    })
}

fn health_kind(conditions: Vec<BodyCondition>) -> SourceKind {
    SourceKind::Health(HealthSpec {
        expect_status: 200,
        conditions,
        max_latency: None,
    })
}

fn status_is_up() -> BodyCondition {
    BodyCondition {
        text: "body.status == \"UP\"".to_owned(),
        path: vec!["status".to_owned()],
        op: CmpOp::Eq,
        value: serde_json::json!("UP"),
    }
}

fn spec(name: &str, url: Url, kind: SourceKind) -> SourceSpec {
    SourceSpec {
        id: SourceId(0),
        environment: "test".to_owned(),
        tier: Tier::Integration,
        name: name.to_owned(),
        url,
        kind,
        interval: INTERVAL,
        timeout: TIMEOUT,
        max_body: MAX_BODY,
        auth: None,
        insecure_skip_verify: false,
    }
}

/// One environment holding `sources`, ids assigned in order (as config resolution does).
fn settings(mut sources: Vec<SourceSpec>, max_in_flight: usize) -> Settings {
    for (i, s) in sources.iter_mut().enumerate() {
        s.id = SourceId(u32::try_from(i).unwrap());
    }
    Settings {
        path: None,
        general: General {
            max_in_flight,
            ..General::default()
        },
        environments: vec![EnvironmentSpec {
            name: "test".to_owned(),
            tier: Tier::Integration,
            sources,
            backup_policies: Vec::new(),
        }],
        runbooks: Vec::new(),
    }
}

fn clients() -> Arc<HttpClients> {
    Arc::new(HttpClients::new().unwrap())
}

/// Run the pollers for `settings` for `run_for`, then return every report by source.
async fn collect(settings: &Settings, run_for: Duration) -> BTreeMap<u32, Vec<PollReport>> {
    let (tx, mut rx) = mpsc::channel(1024);
    let set = poller::spawn(settings, clients(), tx);
    assert_eq!(set.len(), settings.sources().count());
    let mut by_source: BTreeMap<u32, Vec<PollReport>> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + run_for;
    while let Ok(Some(report)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        by_source.entry(report.source.0).or_default().push(report);
    }
    set.shutdown().await;
    by_source
}

fn errors(reports: &[PollReport]) -> Vec<PollError> {
    reports
        .iter()
        .map(|r| match &r.outcome {
            Err(e) => e.clone(),
            Ok(p) => panic!("expected an error, got {p:?}"),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------

/// Every kind of misbehaving exporter fails with its own error, and none of them slows the
/// healthy exporter polled alongside: the hanging one in particular.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sources_fail_precisely_and_never_delay_the_good_one() {
    let hang = serve(Behaviour::Hang).await;
    let error500 = serve(response("500 Internal Server Error", &[], b"boom")).await;
    let big = vec![b'a'; MAX_BODY as usize + 1];
    let large_cl = serve(response("200 OK", &[], &big)).await;
    let endless = serve(Behaviour::Endless(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n".to_owned(),
    ))
    .await;
    // 64 KiB of zeros gzip to well under MAX_BODY: only the decompressed size is too big.
    let bomb = gzip(&vec![b'0'; 64 * 1024]);
    assert!((bomb.len() as u64) < MAX_BODY);
    let gzip_bomb = serve(response("200 OK", &[("Content-Encoding", "gzip")], &bomb)).await;
    let bad_utf8 = serve(response("200 OK", &[], b"metric_a 1\nbad \xff\xfe 2\n")).await;
    let refused = refused_url().await;
    let good = serve(response(
        "200 OK",
        &[("Content-Type", "text/plain; version=0.0.4")],
        GOOD_METRICS.as_bytes(),
    ))
    .await;
    let good_gz = serve(response(
        "200 OK",
        &[("Content-Encoding", "gzip")],
        &gzip(GOOD_METRICS.as_bytes()),
    ))
    .await;

    let s = settings(
        vec![
            spec("hang", hang.url("/metrics"), metrics_kind()),
            spec("error500", error500.url("/metrics"), metrics_kind()),
            spec("large-cl", large_cl.url("/metrics"), metrics_kind()),
            spec("large-stream", endless.url("/metrics"), metrics_kind()),
            spec("gzip-bomb", gzip_bomb.url("/metrics"), metrics_kind()),
            spec("bad-utf8", bad_utf8.url("/metrics"), metrics_kind()),
            spec("refused", refused, metrics_kind()),
            spec("good", good.url("/metrics"), metrics_kind()),
            spec("good-gzip", good_gz.url("/metrics"), metrics_kind()),
        ],
        16,
    );
    let reports = collect(&s, Duration::from_secs(3)).await;
    let of = |i: u32| reports.get(&i).map(Vec::as_slice).unwrap_or(&[]);

    for e in errors(of(0)) {
        assert_eq!(e, PollError::Timeout(TIMEOUT));
        assert_eq!(e.to_string(), "timed out after 300ms");
    }
    for e in errors(of(1)) {
        assert_eq!(
            e,
            PollError::Status {
                status: 500,
                reason: "Internal Server Error".to_owned()
            }
        );
        assert_eq!(e.to_string(), "HTTP 500 Internal Server Error");
    }
    for i in [2, 3, 4] {
        for e in errors(of(i)) {
            assert_eq!(e, PollError::BodyTooLarge { limit: MAX_BODY }, "source {i}");
            assert_eq!(e.to_string(), "body larger than max_body (4096 bytes)");
        }
    }
    for e in errors(of(5)) {
        assert_eq!(e, PollError::InvalidUtf8 { offset: 15 });
    }
    for e in errors(of(6)) {
        let PollError::Connect(reason) = &e else {
            panic!("expected Connect, got {e:?}");
        };
        assert!(reason.contains("connection refused"), "{reason}");
        assert_eq!(e.to_string(), "connection failed: connection refused");
    }
    // Every bad source was polled repeatedly.
    for i in 0..=6 {
        assert!(of(i).len() >= 2, "source {i}: {} reports", of(i).len());
    }
    // The good ones kept their pace despite the others.
    for i in [7, 8] {
        assert!(of(i).len() >= 5, "source {i}: only {} reports", of(i).len());
        for r in of(i) {
            match &r.outcome {
                Ok(Payload::Metrics { body }) => assert_eq!(body, GOOD_METRICS),
                other => panic!("source {i}: {other:?}"),
            }
            assert_eq!(r.source, SourceId(i));
        }
    }
    // The request carried the negotiated Accept, our User-Agent, and offered gzip.
    let head = good.requests()[0].to_ascii_lowercase();
    assert!(
        head.contains(&format!("accept: {}", METRICS_ACCEPT.to_ascii_lowercase())),
        "{head}"
    );
    assert!(head.contains("user-agent: watchdeck/"), "{head}");
    assert!(head.contains("accept-encoding: gzip"), "{head}");
}

/// Transport failures below HTTP get short, specific reasons: TLS spoken to a plain HTTP
/// port is a TLS connect failure (for verifying and `insecure_skip_verify` sources alike),
/// a body cut short is a request failure that says it happened while reading the body.
#[tokio::test]
async fn transport_failures_have_specific_reasons() {
    let clients = clients();
    let plain = serve(response("200 OK", &[], b"up 1\n")).await;
    for insecure in [false, true] {
        let mut s = spec("tls", plain.url("/metrics"), metrics_kind());
        s.url.set_scheme("https").unwrap();
        s.insecure_skip_verify = insecure;
        let err = poller::poll_once(&clients, &s).await.outcome.unwrap_err();
        let PollError::Connect(reason) = &err else {
            panic!("expected Connect, got {err:?}");
        };
        assert!(reason.starts_with("TLS error: "), "{reason}");
    }

    let short = serve(Behaviour::Raw(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nup 1\n".to_vec(),
    ))
    .await;
    let err = poller::poll_once(&clients, &spec("short", short.url("/m"), metrics_kind()))
        .await
        .outcome
        .unwrap_err();
    let PollError::Request(reason) = &err else {
        panic!("expected Request, got {err:?}");
    };
    assert!(reason.starts_with("reading body: "), "{reason}");
}

/// A health endpoint that answers 503 with a DOWN body, refuses, or hangs is a successful
/// poll whose result says "down", with the reason.
#[tokio::test]
async fn health_failures_are_results_not_errors() {
    let clients = clients();
    let down = serve(response(
        "503 Service Unavailable",
        &[("Content-Type", "application/json")],
        br#"{"status":"DOWN","checks":[]}"#,
    ))
    .await;
    let up = serve(response("200 OK", &[], br#"{"status":"UP"}"#)).await;
    let not_json = serve(response("200 OK", &[], b"<html>ok</html>")).await;
    let hang = serve(Behaviour::Hang).await;
    let refused = refused_url().await;

    let check = |url: Url| spec("health", url, health_kind(vec![status_is_up()]));
    let health = |r: PollReport| match r.outcome {
        Ok(Payload::Health(h)) => h,
        other => panic!("expected a health result, got {other:?}"),
    };

    let h = health(poller::poll_once(&clients, &check(down.url("/health"))).await);
    assert!(!h.up);
    assert_eq!(h.status, Some(503));
    assert_eq!(
        h.failure.as_deref(),
        Some(
            "expected HTTP 200, got 503 Service Unavailable; \
             condition `body.status == \"UP\"` failed: body.status is \"DOWN\""
        )
    );

    let h = health(poller::poll_once(&clients, &check(up.url("/health"))).await);
    assert!(h.up, "{h:?}");
    assert_eq!((h.status, h.failure), (Some(200), None));

    let h = health(poller::poll_once(&clients, &check(not_json.url("/health"))).await);
    assert!(!h.up);
    let failure = h.failure.unwrap();
    assert!(
        failure.starts_with("condition `body.status == \"UP\"` failed: body is not JSON"),
        "{failure}"
    );

    let h = health(poller::poll_once(&clients, &check(refused)).await);
    assert!(!h.up);
    assert_eq!(h.status, None);
    assert_eq!(
        h.failure.as_deref(),
        Some("connection failed: connection refused")
    );

    let h = health(poller::poll_once(&clients, &check(hang.url("/health"))).await);
    assert!(!h.up);
    assert_eq!(h.status, None);
    assert_eq!(h.failure.as_deref(), Some("timed out after 300ms"));
}

/// Credentials reach the server, are read from their source at every poll, and never
/// appear in any error or report.
#[tokio::test]
async fn credentials_are_sent_and_never_shown() {
    const TOKEN: &str = "s3cr3t-canary-token";
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let clients = clients();
    let bearer = |url: Url, file: PathBuf| {
        let mut s = spec("secured", url, metrics_kind());
        s.auth = Some(Auth::Bearer(SecretSource::File(file)));
        s
    };

    let ok = serve(response("200 OK", &[], GOOD_METRICS.as_bytes())).await;
    let r = poller::poll_once(&clients, &bearer(ok.url("/metrics"), token_file.clone())).await;
    assert!(r.outcome.is_ok(), "{r:?}");
    let head = ok.requests()[0].clone();
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("authorization: bearer {TOKEN}").to_ascii_lowercase()),
        "{head}"
    );

    // Rotated token: picked up on the next poll without a restart.
    std::fs::write(&token_file, "rotated-token").unwrap();
    poller::poll_once(&clients, &bearer(ok.url("/metrics"), token_file.clone())).await;
    assert!(ok.requests()[1].contains("Bearer rotated-token"));
    std::fs::write(&token_file, TOKEN).unwrap();

    let mut failures = Vec::new();
    let denied = serve(response("401 Unauthorized", &[], TOKEN.as_bytes())).await;
    failures.push(poller::poll_once(&clients, &bearer(denied.url("/m"), token_file.clone())).await);
    failures
        .push(poller::poll_once(&clients, &bearer(refused_url().await, token_file.clone())).await);
    let hang = serve(Behaviour::Hang).await;
    failures.push(poller::poll_once(&clients, &bearer(hang.url("/m"), token_file.clone())).await);
    failures.push(
        poller::poll_once(
            &clients,
            &bearer(ok.url("/metrics"), dir.path().join("missing")),
        )
        .await,
    );
    let mut health = bearer(refused_url().await, token_file.clone());
    health.kind = health_kind(vec![status_is_up()]);
    failures.push(poller::poll_once(&clients, &health).await);

    let kinds: Vec<String> = failures
        .iter()
        .map(|r| match &r.outcome {
            Err(e) => format!("{e}"),
            Ok(Payload::Health(h)) => h.failure.clone().unwrap(),
            Ok(p) => panic!("unexpected success {p:?}"),
        })
        .collect();
    assert_eq!(kinds[0], "HTTP 401 Unauthorized");
    assert_eq!(kinds[1], "connection failed: connection refused");
    assert_eq!(kinds[2], "timed out after 300ms");
    assert!(
        kinds[3].starts_with("request failed: cannot read secret file"),
        "{}",
        kinds[3]
    );
    for (r, text) in failures.iter().zip(&kinds) {
        assert!(!text.contains(TOKEN), "{text}");
        assert!(!format!("{r:?}").contains(TOKEN), "{r:?}");
    }
    // The unreadable secret never reached the network.
    assert_eq!(ok.hits(), 2);

    // Basic auth, password from the environment-free file source.
    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, "hunter2").unwrap();
    let basic_srv = serve(response("200 OK", &[], GOOD_METRICS.as_bytes())).await;
    let mut basic = spec("basic", basic_srv.url("/metrics"), metrics_kind());
    basic.auth = Some(Auth::Basic {
        username: "ops".to_owned(),
        password: SecretSource::File(pw_file),
    });
    assert!(poller::poll_once(&clients, &basic).await.outcome.is_ok());
    assert!(
        basic_srv.requests()[0].contains("Basic b3BzOmh1bnRlcjI="),
        "{}",
        basic_srv.requests()[0]
    );
}

/// With `max_in_flight = 1`, a hanging source holds the only permit until its timeout;
/// the permit then passes to the waiting good source (the semaphore is FIFO), so the good
/// source is slowed to roughly one poll per hanging timeout but is never starved. Time
/// spent waiting for a permit does not count toward a source's own timeout.
#[tokio::test]
async fn one_permit_still_lets_the_good_source_through() {
    let hang = serve(Behaviour::Hang).await;
    let good = serve(response("200 OK", &[], GOOD_METRICS.as_bytes())).await;
    let s = settings(
        vec![
            spec("hang", hang.url("/metrics"), metrics_kind()),
            spec("good", good.url("/metrics"), metrics_kind()),
        ],
        1,
    );
    let reports = collect(&s, Duration::from_secs(3)).await;
    let hang_reports = &reports[&0];
    let good_reports = &reports[&1];
    assert!(hang_reports.len() >= 2);
    assert!(
        errors(hang_reports)
            .iter()
            .all(|e| *e == PollError::Timeout(TIMEOUT))
    );
    assert!(good_reports.len() >= 3, "only {}", good_reports.len());
    assert!(good_reports.iter().all(|r| r.outcome.is_ok()));
}

/// Pollers stop when the receiver goes away, and `shutdown` stops them at once.
#[tokio::test]
async fn pollers_stop_when_receiver_drops_or_on_shutdown() {
    let a = serve(response("200 OK", &[], GOOD_METRICS.as_bytes())).await;
    let s = settings(vec![spec("a", a.url("/metrics"), metrics_kind())], 4);

    let (tx, mut rx) = mpsc::channel(16);
    let set = poller::spawn(&s, clients(), tx);
    assert!(rx.recv().await.is_some());
    drop(rx);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let hits = a.hits();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        a.hits(),
        hits,
        "poller kept polling after the receiver dropped"
    );
    set.shutdown().await;

    let (tx, mut rx) = mpsc::channel(16);
    let set = poller::spawn(&s, clients(), tx);
    assert!(rx.recv().await.is_some());
    set.shutdown().await;
    let hits = a.hits();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(a.hits(), hits, "poller kept polling after shutdown");
    // Every sender is gone with the tasks.
    assert!(rx.recv().await.is_none());
}

/// `watchdeck check --for` polls each source at its own interval, as the console does:
/// a source polled faster than its interval would fill its history ring (sized for that
/// interval) too soon, and a slow one (a backup catalog) would be asked every few seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_for_polls_each_source_at_its_own_interval() {
    let body = response(
        "200 OK",
        &[("Content-Type", "text/plain; version=0.0.4")],
        GOOD_METRICS.as_bytes(),
    );
    let (fast, slow) = (serve(body.clone()).await, serve(body).await);
    let mut fast_spec = spec("fast", fast.url("/metrics"), metrics_kind());
    fast_spec.interval = Duration::from_millis(200);
    let mut slow_spec = spec("slow", slow.url("/metrics"), metrics_kind());
    slow_spec.interval = Duration::from_secs(60);
    let s = settings(vec![fast_spec, slow_spec], 8);

    let result = watchdeck::check::run(
        &s,
        watchdeck::rules::RuleSet::default_pack().unwrap(),
        Some(Duration::from_millis(1500)),
        Arc::new(watchdeck::clock::SystemClock),
    )
    .await
    .unwrap();
    assert_eq!(
        slow.hits(),
        1,
        "polled once: its next turn is after the run"
    );
    // About eight turns in 1.5 s; a slow machine may miss a few, never all.
    assert!(fast.hits() >= 3, "fast source polled {} times", fast.hits());
    assert_eq!(result.exit_code, watchdeck::check::EXIT_NONE);
}
