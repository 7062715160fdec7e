//! The runbook runner end to end, in process: real child processes (`/bin/sh`, `/bin/sleep`,
//! `/bin/cat`, …), a real audit file and lock directory in a temp dir, and a local HTTP
//! server for HTTP actions.
//!
//! No test asserts how fast anything is; deadlines are only there so a broken runner fails
//! instead of hanging, with wide margins.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use nix::errno::Errno;
use nix::sys::signal::killpg;
use nix::unistd::Pid;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use watchdeck::clock::ManualClock;
use watchdeck::config::settings::Tier;
use watchdeck::incident::IncidentId;
use watchdeck::runbook::audit::{
    self, AuditLog, AuditRecord, AuditTarget, HistoryState, RunRecord,
};
use watchdeck::runbook::lock::{self, LockOwner, LockStatus};
use watchdeck::runbook::runner::{self, READ_ONLY_REASON, RunHandle, Runner, RunnerConfig};
use watchdeck::runbook::{
    ExecInvocation, HttpInvocation, Invocation, Outcome, OutputStream, Phase, RunEvent, RunId,
    RunRequest, Target, TargetKind, Termination,
};
use watchdeck::secret::Secret;

/// Long enough that only a broken runner hits it.
const PATIENCE: Duration = Duration::from_secs(60);

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).unwrap()
}

/// A temp dir with the audit log and lock dir layout the console uses.
struct Dirs {
    tmp: tempfile::TempDir,
}

impl Dirs {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("data")).unwrap();
        Dirs { tmp }
    }
    fn audit(&self) -> PathBuf {
        self.tmp.path().join("data/audit.jsonl")
    }
    fn locks(&self) -> PathBuf {
        self.tmp.path().join("run/locks")
    }
    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
    fn audit_text(&self) -> String {
        std::fs::read_to_string(self.audit()).unwrap_or_default()
    }
}

/// One console: a runner and the receiving end of its events.
struct Console {
    runner: Runner,
    rx: mpsc::UnboundedReceiver<RunEvent>,
    /// Events received while looking for another run's.
    stash: Vec<RunEvent>,
}

impl Console {
    fn new(audit: &Path, locks: &Path) -> Self {
        Self::with(audit, locks, false)
    }

    fn with(audit: &Path, locks: &Path, read_only: bool) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let runner = Runner::new(RunnerConfig {
            audit_path: audit.to_owned(),
            lock_dir: locks.to_owned(),
            host: runner::hostname(),
            events: tx.into(),
            clock: ManualClock::shared(t0()),
            read_only,
        });
        Console {
            runner,
            rx,
            stash: Vec::new(),
        }
    }

    fn of(dirs: &Dirs) -> Self {
        Self::new(&dirs.audit(), &dirs.locks())
    }

    async fn next(&mut self, run: &RunId) -> RunEvent {
        if let Some(i) = self.stash.iter().position(|e| e.run() == run) {
            return self.stash.remove(i);
        }
        loop {
            let event = tokio::time::timeout(PATIENCE, self.rx.recv())
                .await
                .expect("no event from the runner in time")
                .expect("runner channel closed");
            assert_eq!(
                event_time(&event),
                t0(),
                "events are stamped from the clock"
            );
            if event.run() == run {
                return event;
            }
            self.stash.push(event);
        }
    }

    /// Every event of `run` up to and including `Finished` or `Refused`.
    async fn until_end(&mut self, run: &RunId) -> Vec<RunEvent> {
        let mut events = Vec::new();
        loop {
            let e = self.next(run).await;
            let end = matches!(e, RunEvent::Finished { .. } | RunEvent::Refused { .. });
            events.push(e);
            if end {
                return events;
            }
        }
    }

    /// Wait for the first output line of `run` matching `pred`, returning the events seen.
    async fn until_line(
        &mut self,
        run: &RunId,
        pred: impl Fn(&str) -> bool,
    ) -> (Vec<RunEvent>, String) {
        let mut events = Vec::new();
        loop {
            let e = self.next(run).await;
            if let RunEvent::Output { line, .. } = &e
                && pred(line)
            {
                let line = line.clone();
                events.push(e);
                return (events, line);
            }
            assert!(
                !matches!(e, RunEvent::Finished { .. } | RunEvent::Refused { .. }),
                "run ended before the expected line: {e:?}"
            );
            events.push(e);
        }
    }

    async fn run(&mut self, request: RunRequest) -> Vec<RunEvent> {
        let handle = self.runner.start(request);
        self.until_end(&handle.id).await
    }
}

fn event_time(e: &RunEvent) -> DateTime<Utc> {
    match e {
        RunEvent::Started { at, .. }
        | RunEvent::Output { at, .. }
        | RunEvent::Finished { at, .. }
        | RunEvent::Refused { at, .. } => *at,
    }
}

fn exec(argv: &[&str]) -> Invocation {
    Invocation::Exec(ExecInvocation {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        env: vec![("WATCHDECK_ENV".into(), "staging".into())],
        secret_env: Vec::new(),
    })
}

fn sh(script: &str) -> Invocation {
    exec(&["/bin/sh", "-c", script])
}

fn request(invocation: Invocation) -> RunRequest {
    RunRequest {
        runbook: "restart-fpm".into(),
        phase: Phase::Run,
        target: Target {
            kind: TargetKind::Node,
            environment: "staging".into(),
            name: "web1".into(),
            values: BTreeMap::new(),
        },
        tier: Tier::Staging,
        params: BTreeMap::from([("reason".to_owned(), "stuck workers".to_owned())]),
        incident: Some(IncidentId(42)),
        invocation,
        timeout: Duration::from_secs(30),
        kill_grace: Duration::from_secs(2),
        user: "alice".into(),
    }
}

fn with_timeout(mut r: RunRequest, timeout_ms: u64, grace_ms: u64) -> RunRequest {
    r.timeout = Duration::from_millis(timeout_ms);
    r.kill_grace = Duration::from_millis(grace_ms);
    r
}

fn outcome(events: &[RunEvent]) -> &Outcome {
    match events.last() {
        Some(RunEvent::Finished { outcome, .. }) => outcome,
        other => panic!("run did not finish: {other:?}\nall events: {events:#?}"),
    }
}

fn refusal(events: &[RunEvent]) -> &str {
    match events {
        [RunEvent::Refused { reason, .. }] => reason,
        other => panic!("expected only a refusal, got {other:#?}"),
    }
}

fn lines(events: &[RunEvent], stream: OutputStream) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            RunEvent::Output {
                stream: s, line, ..
            } if *s == stream => Some(line.clone()),
            _ => None,
        })
        .collect()
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn no_controls(line: &str) -> bool {
    !line.chars().any(|c| {
        c.is_control()
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    })
}

// ---------------------------------------------------------------------------------------
// exec: output

#[tokio::test]
async fn stdout_and_stderr_arrive_in_order_and_sanitized() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    let script = r#"printf 'one\n'; printf '\033[31mred\033[0m \342\200\256evil\033]0;title\007\n'; printf 'err1\n' >&2; printf 'two\r\n'; printf 'err2\n' >&2; printf 'tail'"#;
    let events = c.run(request(sh(script))).await;
    assert!(matches!(events[0], RunEvent::Started { .. }));
    assert_eq!(
        lines(&events, OutputStream::Stdout),
        ["one", "red evil", "two", "tail"]
    );
    assert_eq!(lines(&events, OutputStream::Stderr), ["err1", "err2"]);
    let o = outcome(&events);
    assert_eq!(o.termination, Termination::Exited { code: 0 });
    assert!(o.last_lines.iter().all(|l| no_controls(l)));
    assert_eq!(o.last_lines.len(), 6);
}

#[tokio::test]
async fn byte_count_and_hash_are_of_the_raw_output() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    let events = c.run(request(exec(&["/bin/echo", "hello", "world"]))).await;
    let o = outcome(&events);
    assert_eq!(o.output_bytes, 12);
    assert_eq!(o.output_sha256, sha256_hex(b"hello world\n"));
    assert_eq!(o.last_lines, ["hello world"]);
}

#[tokio::test]
async fn binary_output_is_made_safe() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    let events = c
        .run(request(sh(
            r"printf 'a\000b\377\376c\n'; head -c 200000 /dev/urandom",
        )))
        .await;
    let o = outcome(&events);
    assert_eq!(o.termination, Termination::Exited { code: 0 });
    assert_eq!(o.output_bytes, 7 + 200_000);
    let out = lines(&events, OutputStream::Stdout);
    assert_eq!(out[0], "ab\u{fffd}\u{fffd}c");
    for line in &out {
        assert!(no_controls(line), "control character in {line:?}");
        assert!(line.chars().count() <= runner::MAX_LINE_BYTES);
    }
}

#[tokio::test]
async fn long_lines_are_split_at_the_cap() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    let events = c
        .run(request(sh("head -c 3000 /dev/zero | tr '\\0' x; echo")))
        .await;
    let out = lines(&events, OutputStream::Stdout);
    let cap = runner::MAX_LINE_BYTES;
    assert_eq!(
        out.iter().map(String::len).collect::<Vec<_>>(),
        [cap, cap, 3000 - 2 * cap]
    );
}

// ---------------------------------------------------------------------------------------
// exec: how runs end

#[tokio::test]
async fn exit_codes_signals_and_spawn_failures_are_reported() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    let events = c.run(request(sh("exit 3"))).await;
    assert_eq!(
        outcome(&events).termination,
        Termination::Exited { code: 3 }
    );
    assert!(!outcome(&events).succeeded());

    let events = c.run(request(sh("kill -USR1 $$"))).await;
    assert_eq!(
        outcome(&events).termination,
        Termination::Signalled { signal: 10 }
    );

    let events = c.run(request(exec(&["/nonexistent/tool", "x"]))).await;
    match &outcome(&events).termination {
        Termination::Failed { reason } => {
            assert!(reason.contains("/nonexistent/tool"), "{reason}")
        }
        t => panic!("expected Failed, got {t:?}"),
    }
}

#[tokio::test]
async fn argv_is_passed_as_is_never_through_a_shell() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    let events = c
        .run(request(exec(&["/bin/echo", "$(touch pwned)", "a;b", "*"])))
        .await;
    assert_eq!(
        lines(&events, OutputStream::Stdout),
        ["$(touch pwned) a;b *"]
    );
}

#[tokio::test]
async fn timeout_sends_sigterm_to_the_group() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    let events = c
        .run(with_timeout(
            request(exec(&["/bin/sleep", "100"])),
            300,
            10_000,
        ))
        .await;
    assert_eq!(
        outcome(&events).termination,
        Termination::TimedOut { killed: false }
    );
    let notes = lines(&events, OutputStream::Runner);
    assert!(notes.iter().any(|l| l.contains("SIGTERM")), "{notes:?}");
}

/// The first stdout line of these scripts is `$$`: the shell is the group leader, so it is
/// the process group id.
fn pgid_from(line: &str) -> Pid {
    Pid::from_raw(line.trim().parse().unwrap())
}

#[tokio::test]
async fn a_grandchild_ignoring_sigterm_is_killed_and_nothing_of_the_group_survives() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    // The trap is set before the first line, so by the time the line is seen nothing of
    // the group will die of SIGTERM; the timeout is long enough for the shell to get there.
    let script = "trap '' TERM; echo $$; /bin/sleep 100; echo not reached";
    let handle = c.runner.start(with_timeout(request(sh(script)), 3000, 500));
    let (_, line) = c.until_line(&handle.id, |_| true).await;
    let pgid = pgid_from(&line);
    let events = c.until_end(&handle.id).await;
    assert_eq!(
        outcome(&events).termination,
        Termination::TimedOut { killed: true }
    );
    assert_eq!(
        killpg(pgid, None),
        Err(Errno::ESRCH),
        "a process of the group survived"
    );
    let notes = lines(&events, OutputStream::Runner);
    assert!(notes.iter().any(|l| l.contains("SIGKILL")), "{notes:?}");
}

#[tokio::test]
async fn a_backgrounded_grandchild_holding_stdout_does_not_outlast_the_timeout() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    let handle = c.runner.start(with_timeout(
        request(sh("echo $$; /bin/sleep 100 & echo started")),
        1000,
        5000,
    ));
    let (_, line) = c.until_line(&handle.id, |_| true).await;
    let pgid = pgid_from(&line);
    let events = tokio::time::timeout(PATIENCE, c.until_end(&handle.id))
        .await
        .expect("the run hung on its grandchild");
    assert_eq!(
        outcome(&events).termination,
        Termination::TimedOut { killed: false }
    );
    assert_eq!(killpg(pgid, None), Err(Errno::ESRCH));
}

#[tokio::test]
async fn the_run_waits_for_the_group_after_the_leader_exits() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    let events = c
        .run(request(sh("(/bin/sleep 0.3; echo late) & echo early")))
        .await;
    assert_eq!(
        outcome(&events).termination,
        Termination::Exited { code: 0 }
    );
    assert_eq!(lines(&events, OutputStream::Stdout), ["early", "late"]);
}

#[tokio::test]
async fn cancel_terminates_and_escalates() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    let handle = c.runner.start(request(sh("echo up; exec /bin/sleep 100")));
    c.until_line(&handle.id, |l| l == "up").await;
    handle.cancel();
    let events = c.until_end(&handle.id).await;
    assert_eq!(
        outcome(&events).termination,
        Termination::Cancelled { killed: false }
    );

    let handle = c.runner.start(with_timeout(
        request(sh("trap '' TERM; echo up; /bin/sleep 100")),
        60_000,
        300,
    ));
    c.until_line(&handle.id, |l| l == "up").await;
    handle.cancel();
    let events = c.until_end(&handle.id).await;
    assert_eq!(
        outcome(&events).termination,
        Termination::Cancelled { killed: true }
    );
}

// ---------------------------------------------------------------------------------------
// locks

#[tokio::test]
async fn a_second_console_is_refused_with_who_holds_the_lock() {
    let dirs = Dirs::new();
    let mut first = Console::of(&dirs);
    let mut second = Console::of(&dirs);
    let running = first
        .runner
        .start(request(sh("echo up; exec /bin/sleep 100")));
    first.until_line(&running.id, |l| l == "up").await;

    let events = second.run(request(sh("echo should not run"))).await;
    let reason = refusal(&events);
    let expected = format!(
        "already running by alice (pid {} on {}) since 2026-09-21T14:13:20Z",
        std::process::id(),
        runner::hostname()
    );
    assert_eq!(reason, expected);

    // Another target is another lock; a plan takes none.
    let mut other = request(sh("true"));
    other.target.name = "web2".into();
    assert!(outcome(&second.run(other).await).succeeded());
    let mut plan = request(sh("true"));
    plan.phase = Phase::Plan;
    assert!(outcome(&second.run(plan).await).succeeded());

    running.cancel();
    first.until_end(&running.id).await;
    // Released: the next run goes.
    assert!(outcome(&second.run(request(sh("true"))).await).succeeded());

    let history = audit::read_history(&dirs.audit()).unwrap();
    assert!(
        history
            .iter()
            .any(|e| matches!(&e.state, HistoryState::Refused { reason } if *reason == expected))
    );
}

#[tokio::test]
async fn a_stale_lock_file_of_a_dead_process_does_not_block() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    let req = request(sh("true"));
    let path = c.runner.lock_path(&req).unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let stale = LockOwner {
        user: "bob".into(),
        pid: 4_000_000, // above pid_max: certainly dead
        host: runner::hostname(),
        since: t0(),
        run: RunId("old".into()),
    };
    std::fs::write(&path, serde_json::to_vec(&stale).unwrap()).unwrap();
    assert_eq!(lock::status(&path).unwrap(), LockStatus::Free);
    assert!(outcome(&c.run(req).await).succeeded());
}

#[test]
fn two_acquisitions_in_one_process_conflict() {
    let dirs = Dirs::new();
    let path = lock::lock_path(&dirs.locks(), "rb", "staging", "web1");
    let owner = |run: &str| LockOwner {
        user: "alice".into(),
        pid: std::process::id(),
        host: "h".into(),
        since: t0(),
        run: RunId(run.into()),
    };
    let held = lock::acquire(&path, &owner("a")).unwrap();
    let err = lock::acquire(&path, &owner("b")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("already running by alice (pid "),
        "{err}"
    );
    drop(held);
    lock::acquire(&path, &owner("b")).unwrap();
}

// ---------------------------------------------------------------------------------------
// audit

#[tokio::test]
async fn the_intent_is_on_disk_before_the_child_starts() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    let audit = dirs.audit().to_string_lossy().into_owned();
    let handle = c.runner.start(request(exec(&["/bin/cat", &audit])));
    let events = c.until_end(&handle.id).await;
    assert!(outcome(&events).succeeded());
    // The line may be split at the cap: join the pieces back.
    let seen = lines(&events, OutputStream::Stdout).join("");
    assert!(seen.contains(r#"{"record":"intent","run":""#), "{seen}");
    assert!(seen.contains(&handle.id.0));

    // And the file now holds the intent and the outcome, in the documented shape.
    let text = dirs.audit_text();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    let intent = &records[0];
    assert_eq!(intent["record"], "intent");
    assert_eq!(intent["run"], handle.id.0.as_str());
    assert_eq!(intent["user"], "alice");
    assert_eq!(intent["environment"], "staging");
    assert_eq!(intent["tier"], "staging");
    assert_eq!(intent["runbook"], "restart-fpm");
    assert_eq!(intent["phase"], "run");
    assert_eq!(
        intent["target"],
        serde_json::json!({"kind": "node", "name": "web1"})
    );
    assert_eq!(
        intent["params"],
        serde_json::json!({"reason": "stuck workers"})
    );
    assert_eq!(intent["incident"], "INC-0042");
    assert_eq!(intent["invocation"]["argv"][0], "/bin/cat");
    assert_eq!(intent["pid"], std::process::id());
    let done = &records[1];
    assert_eq!(done["record"], "outcome");
    assert_eq!(
        done["outcome"]["termination"],
        serde_json::json!({"how": "exited", "code": 0})
    );
}

#[tokio::test]
async fn an_audit_log_that_cannot_be_written_refuses_the_run() {
    let dirs = Dirs::new();
    // A directory that does not exist, and one "directory" that is a file (this fails
    // even for root, whom permission bits do not stop).
    std::fs::write(dirs.path("plainfile"), "").unwrap();
    for audit in [
        dirs.path("missing/audit.jsonl"),
        dirs.path("plainfile/audit.jsonl"),
    ] {
        let mut c = Console::new(&audit, &dirs.locks());
        let marker = dirs.path("ran");
        let req = request(exec(&["/usr/bin/touch", marker.to_str().unwrap()]));
        let lock_path = c.runner.lock_path(&req).unwrap();
        let events = c.run(req).await;
        let reason = refusal(&events);
        assert!(
            reason.contains("audit log") && reason.contains("nothing was run"),
            "{reason}"
        );
        assert!(!marker.exists(), "the program ran without an audit record");
        assert_eq!(lock::status(&lock_path).unwrap(), LockStatus::Free);
    }
}

#[tokio::test]
async fn read_only_mode_refuses_everything_and_touches_nothing() {
    let dirs = Dirs::new();
    let mut c = Console::with(&dirs.audit(), &dirs.locks(), true);
    let marker = dirs.path("ran");
    for phase in [Phase::Plan, Phase::Run] {
        let mut req = request(exec(&["/usr/bin/touch", marker.to_str().unwrap()]));
        req.phase = phase;
        let events = c.run(req).await;
        assert_eq!(refusal(&events), READ_ONLY_REASON);
    }
    assert!(!marker.exists());
    assert!(!dirs.audit().exists());
    assert!(!dirs.locks().exists());
}

#[tokio::test]
async fn history_pairs_intents_and_outcomes_and_spots_interrupted_and_running_runs() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    let done = c.runner.start(request(sh("echo fine")));
    c.until_end(&done.id).await;

    // A console that died mid-run: its intent, no outcome, its lock not held.
    let log = AuditLog::new(dirs.audit());
    let dead_lock = lock::lock_path(&dirs.locks(), "failover", "staging", "db1");
    let dead = RunRecord {
        run: RunId("dead-1".into()),
        at: t0(),
        user: "bob".into(),
        host: "bastion2".into(),
        pid: 4_000_000,
        environment: "staging".into(),
        tier: "staging".into(),
        runbook: "failover".into(),
        phase: Phase::Run,
        target: AuditTarget {
            kind: TargetKind::Cluster,
            name: "db1".into(),
        },
        params: BTreeMap::new(),
        incident: None,
        invocation: serde_json::json!({"kind": "http", "method": "POST", "url": "https://x.example/failover"}),
        lock: Some(dead_lock),
    };
    log.append(&AuditRecord::Intent(dead)).unwrap();

    // One still running (in this console: it holds its lock).
    let mut live_req = request(sh("echo up; exec /bin/sleep 100"));
    live_req.target.name = "web9".into();
    let live = c.runner.start(live_req);
    c.until_line(&live.id, |l| l == "up").await;

    // And a torn last line, as a crash mid-write leaves.
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(dirs.audit())
            .unwrap();
        f.write_all(br#"{"record":"outcome","run":"dead-1","at":"2026-"#)
            .unwrap();
    }

    let report = audit::read_history_report(&dirs.audit()).unwrap();
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(report.warnings[0].contains("torn"));
    let h = &report.entries;
    assert_eq!(h.len(), 3);

    assert_eq!(h[0].run, done.id);
    assert!(matches!(&h[0].state, HistoryState::Finished { outcome, .. } if outcome.succeeded()));
    assert_eq!(h[0].user, "alice");
    assert_eq!(h[0].runbook, "restart-fpm");
    assert_eq!(h[0].phase, Phase::Run);
    assert_eq!(h[0].incident, Some(IncidentId(42)));
    assert_eq!(h[0].tier, Some(Tier::Staging));
    assert_eq!(h[0].invocation, "exec /bin/sh -c 'echo fine'");
    assert!(h[0].status().starts_with("exit 0 in "), "{}", h[0].status());

    assert_eq!(h[1].run.0, "dead-1");
    assert_eq!(h[1].state, HistoryState::Interrupted);
    assert_eq!(h[1].invocation, "POST https://x.example/failover");

    assert_eq!(h[2].run, live.id);
    assert_eq!(
        h[2].state,
        HistoryState::RunningElsewhere {
            user: "alice".into(),
            pid: std::process::id(),
            host: runner::hostname(),
        }
    );

    live.cancel();
    c.until_end(&live.id).await;
    // The torn line is never glued to the next record.
    let h = audit::read_history(&dirs.audit()).unwrap();
    assert!(matches!(&h[2].state, HistoryState::Finished { outcome, .. }
        if outcome.termination == Termination::Cancelled { killed: false }));
}

// ---------------------------------------------------------------------------------------
// secrets

fn canary() -> String {
    let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
    format!("canary-{}", &sha256_hex(seed.as_bytes())[..20])
}

fn with_secret(inv: Invocation, canary: &str) -> Invocation {
    match inv {
        Invocation::Exec(mut e) => {
            e.secret_env.push(("CANARY".into(), Secret::new(canary)));
            Invocation::Exec(e)
        }
        other => other,
    }
}

#[tokio::test]
async fn the_secret_canary_reaches_the_child_environment_and_nothing_else() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    let canary = canary();
    let mut all_events = Vec::new();

    // 1. The child has it: it checks the value's hash and exits 0 only on a match, never
    //    printing it. The hash is all its argv carries.
    let check = r#"test "$(printf %s "$CANARY" | sha256sum | cut -c1-64)" = "$1""#;
    let right = sha256_hex(canary.as_bytes());
    let events = c
        .run(request(with_secret(
            exec(&["/bin/sh", "-c", check, "sh", &right]),
            &canary,
        )))
        .await;
    assert_eq!(
        outcome(&events).termination,
        Termination::Exited { code: 0 }
    );
    all_events.extend(events);
    // … and the check is not vacuous.
    let wrong = sha256_hex(b"something else");
    let events = c
        .run(request(with_secret(
            exec(&["/bin/sh", "-c", check, "sh", &wrong]),
            &canary,
        )))
        .await;
    assert_eq!(
        outcome(&events).termination,
        Termination::Exited { code: 1 }
    );
    all_events.extend(events);

    // 2. A child that prints its argv and environment, the secret on both streams, glued to
    //    other text, and straddling the line cap: output shows `[redacted]`.
    let script = r#"echo "$0 $@"; echo "$CANARY"; echo "pre${CANARY}post" >&2; /usr/bin/env; printf '%1020s%s\n' '' "$CANARY"; echo "pid $$"; exec /bin/sleep 100"#;
    let handle = c.runner.start(request(with_secret(
        exec(&["/bin/sh", "-c", script, "sh", "visible-arg"]),
        &canary,
    )));
    let (events, line) = c.until_line(&handle.id, |l| l.starts_with("pid ")).await;
    all_events.extend(events);
    let pid: u32 = line["pid ".len()..].parse().unwrap();
    // The line comes before the shell's `exec`, and while the exec replaces the process,
    // /proc shows `sleep` as its name before its new environment is in place (a read then
    // comes back empty; seen under load). Wait until both are.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let (cmdline, environ) = loop {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        if comm == "sleep\n" && !environ.is_empty() {
            break (
                std::fs::read(format!("/proc/{pid}/cmdline")).unwrap(),
                environ,
            );
        }
        assert!(
            std::time::Instant::now() < deadline,
            "pid {pid} never settled as sleep"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let bytes_contain =
        |hay: &[u8], needle: &str| hay.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(!bytes_contain(&cmdline, &canary), "the canary is in argv");
    assert!(bytes_contain(&environ, &format!("CANARY={canary}")));
    assert!(bytes_contain(&environ, "WATCHDECK_ENV=staging"));
    handle.cancel();
    let events = c.until_end(&handle.id).await;
    all_events.extend(events);

    let out = lines(&all_events, OutputStream::Stdout);
    assert!(out.iter().any(|l| l == "sh visible-arg"), "{out:?}");
    assert!(out.iter().any(|l| l == "[redacted]"));
    assert!(
        out.iter().any(|l| l == "CANARY=[redacted]"),
        "env output: {out:?}"
    );
    assert!(lines(&all_events, OutputStream::Stderr).contains(&"pre[redacted]post".to_owned()));

    // Nowhere: not in any event, not in the audit log (the random part alone included,
    // so a secret cut in two would be caught too).
    let random = &canary["canary-".len()..];
    let everything = format!("{all_events:?}");
    assert!(
        !everything.contains(random),
        "the canary leaked into events"
    );
    let audit = dirs.audit_text();
    assert!(
        audit.contains("CANARY"),
        "the audit names the secret variable"
    );
    assert!(
        !audit.contains(random),
        "the canary leaked into the audit log"
    );
}

// ---------------------------------------------------------------------------------------
// http

mod server {
    use std::net::SocketAddr;
    use std::time::Duration;

    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::Path;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::{get, post};

    /// A local server: `POST /action` wants `x-token: <token>` and echoes the body;
    /// `/status/{code}` answers with that code; `/slow` never answers in time;
    /// `/leak` echoes the token back in its body.
    pub async fn start(token: String) -> SocketAddr {
        let check = token.clone();
        let app = Router::new()
            .route(
                "/action",
                post(move |headers: HeaderMap, body: Bytes| {
                    let check = check.clone();
                    async move {
                        let ok = headers.get("x-token").and_then(|v| v.to_str().ok())
                            == Some(check.as_str());
                        let json = headers.get("content-type").and_then(|v| v.to_str().ok())
                            == Some("application/json");
                        if ok && json {
                            (
                                StatusCode::OK,
                                format!("got {}\n\u{1b}[2Jdone", String::from_utf8_lossy(&body)),
                            )
                        } else {
                            (StatusCode::UNAUTHORIZED, "bad token\n".to_owned())
                        }
                    }
                }),
            )
            .route(
                "/status/{code}",
                get(|Path(code): Path<u16>| async move {
                    (
                        StatusCode::from_u16(code).unwrap(),
                        format!("status {code}\n"),
                    )
                }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(300)).await;
                    "late"
                }),
            )
            .route(
                "/leak",
                get(|headers: HeaderMap| async move {
                    let t = headers.get("x-token").unwrap().to_str().unwrap().to_owned();
                    format!("your token is {t}\n")
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    }
}

fn http(method: &str, url: &str, token: &str, body: Option<&str>) -> Invocation {
    Invocation::Http(HttpInvocation {
        method: method.into(),
        url: url.parse().unwrap(),
        headers: vec![("x-request-from".into(), "watchdeck".into())],
        secret_headers: vec![("x-token".into(), Secret::new(token))],
        body: body.map(str::to_owned),
        insecure_skip_verify: false,
    })
}

#[tokio::test]
async fn http_actions_send_the_secret_header_and_stream_the_body() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    let token = canary();
    let addr = server::start(token.clone()).await;
    let url = format!("http://{addr}/action");

    let events = c
        .run(request(http(
            "POST",
            &url,
            &token,
            Some(r#"{"node":"web1"}"#),
        )))
        .await;
    let o = outcome(&events);
    assert_eq!(o.termination, Termination::Http { status: 200 });
    assert!(o.succeeded());
    assert_eq!(
        lines(&events, OutputStream::Stdout),
        [r#"got {"node":"web1"}"#, "done"]
    );
    assert!(lines(&events, OutputStream::Runner).contains(&"HTTP 200 OK".to_owned()));

    let events = c
        .run(request(http("POST", &url, "wrong", Some("{}"))))
        .await;
    assert_eq!(
        outcome(&events).termination,
        Termination::Http { status: 401 }
    );
    assert!(!outcome(&events).succeeded());

    let events = c
        .run(request(http(
            "GET",
            &format!("http://{addr}/status/503"),
            &token,
            None,
        )))
        .await;
    assert_eq!(
        outcome(&events).termination,
        Termination::Http { status: 503 }
    );
    assert_eq!(lines(&events, OutputStream::Stdout), ["status 503"]);

    // A server that sends the secret back gets it redacted.
    let events = c
        .run(request(http(
            "GET",
            &format!("http://{addr}/leak"),
            &token,
            None,
        )))
        .await;
    assert_eq!(
        lines(&events, OutputStream::Stdout),
        ["your token is [redacted]"]
    );
    let random = &token["canary-".len()..];
    assert!(!dirs.audit_text().contains(random));
}

#[tokio::test]
async fn http_connection_refused_is_a_failure() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/action");
    let events = c
        .run(request(http("POST", &url, "tok-unused", Some("{}"))))
        .await;
    match &outcome(&events).termination {
        Termination::Failed { reason } => assert!(reason.contains("connect"), "{reason}"),
        t => panic!("expected Failed, got {t:?}"),
    }
}

#[tokio::test]
async fn http_timeout_and_cancel_drop_the_request() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    let addr = server::start("tok-slow".into()).await;
    let url = format!("http://{addr}/slow");
    let events = c
        .run(with_timeout(
            request(http("GET", &url, "tok-slow", None)),
            300,
            0,
        ))
        .await;
    assert_eq!(
        outcome(&events).termination,
        Termination::TimedOut { killed: false }
    );

    let handle: RunHandle = c.runner.start(request(http("GET", &url, "tok-slow", None)));
    assert!(matches!(c.next(&handle.id).await, RunEvent::Started { .. }));
    handle.cancel();
    let events = c.until_end(&handle.id).await;
    assert_eq!(
        outcome(&events).termination,
        Termination::Cancelled { killed: false }
    );
}

/// A TLS server with the self-signed certificate in `tests/fixtures/tls/`: reads one
/// request, answers 200 with a silence id.
mod tls {
    use std::net::SocketAddr;
    use std::sync::Arc;

    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::TlsAcceptor;

    pub async fn start() -> SocketAddr {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");
        let cert = CertificateDer::from_pem_file(format!("{dir}/self-signed.crt")).unwrap();
        let key = PrivateKeyDer::from_pem_file(format!("{dir}/self-signed.key")).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A verifying client hangs up during the handshake: nothing to serve.
                    let Ok(mut stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        request.extend_from_slice(&buf[..n]);
                        if complete(&request) {
                            break;
                        }
                    }
                    let body = r#"{"silenceID":"tls-1"}"#;
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        addr
    }

    /// Headers read, and as much body as Content-Length says.
    fn complete(request: &[u8]) -> bool {
        let text = String::from_utf8_lossy(request);
        let Some(end) = text.find("\r\n\r\n") else {
            return false;
        };
        let length = text[..end]
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        request.len() >= end + 4 + length
    }
}

/// An HTTP action verifies the server's certificate unless its invocation says otherwise
/// (a silence sent to an Alertmanager source configured with `insecure_skip_verify`), and
/// the dialog's preview says so.
#[tokio::test]
async fn http_actions_verify_certificates_unless_told_not_to() {
    let dirs = Dirs::new();
    let mut c = Console::of(&dirs);
    let addr = tls::start().await;
    let url = format!("https://{addr}/api/v2/silences");
    let silence = |insecure: bool| {
        let mut inv = http("POST", &url, "am-token-0123", Some("{}"));
        if let Invocation::Http(h) = &mut inv {
            h.insecure_skip_verify = insecure;
        }
        inv
    };

    let events = c.run(request(silence(false))).await;
    match &outcome(&events).termination {
        Termination::Failed { reason } => {
            assert!(reason.contains("invalid peer certificate"), "{reason}")
        }
        other => panic!("expected a TLS failure, got {other:?}"),
    }

    let inv = silence(true);
    assert!(
        inv.describe()
            .iter()
            .any(|l| l.contains("TLS certificate not verified")),
        "{:?}",
        inv.describe()
    );
    assert_eq!(inv.to_audit_json()["insecure_skip_verify"], true);
    let events = c.run(request(inv)).await;
    let o = outcome(&events);
    assert_eq!(o.termination, Termination::Http { status: 200 });
    assert_eq!(
        lines(&events, OutputStream::Stdout),
        ["{", r#"  "silenceID": "tls-1""#, "}"]
    );
}
