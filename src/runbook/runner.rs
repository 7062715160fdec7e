//! The runner: takes a [`RunRequest`] and carries it out in a task of its own — lock,
//! audit intent, execution under a timeout, output, audit outcome — reporting every step
//! as a timestamped [`RunEvent`].
//!
//! It owns the order of those steps, which is what makes a run safe to start from a
//! console: nothing is spawned before the intent is on disk, nothing is recorded as
//! finished before it has ended, and a run that cannot be audited or locked is refused,
//! not run. It also owns what output looks like on its way out ([`OutputSink`]): secrets
//! redacted from the raw byte stream first, then lines split and capped, then sanitized;
//! so a secret cut in two by the line cap, or spread over two lines, still never shows.
//!
//! A failed run is data (a [`Termination`]), never a panic or an error the caller has to
//! handle.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, watch};

use super::audit::{AuditLog, AuditRecord, OutcomeRecord, RefusedRecord, RunRecord};
use super::invocation::{
    Invocation, Outcome, OutputStream, Phase, RunEvent, RunId, RunRequest, Termination,
};
use super::lock::{self, LockError, LockOwner, RunLock};
use crate::clock::Clock;
use crate::sanitize;

/// Longest output line, in bytes, before it is split (a multi-byte character is never cut).
pub const MAX_LINE_BYTES: usize = 1024;

/// Output lines kept for the outcome (the UI keeps its own, longer, buffer).
pub const LAST_LINES: usize = 20;

/// What secrets are replaced with in output.
pub const REDACTED: &str = "[redacted]";

/// The reason every run is refused with in read-only mode.
pub const READ_ONLY_REASON: &str = "read-only mode: runbook actions are disabled";

/// Where the runner sends its events: either kind of tokio channel. With a bounded
/// channel, a child that prints faster than the console reads is slowed down by its pipe
/// rather than filling memory — so the console must keep draining it: a run waiting for
/// room waits on its timeout too. A dropped receiver does not stop a run: it still
/// finishes and is audited.
#[derive(Debug, Clone)]
pub enum EventSink {
    Unbounded(mpsc::UnboundedSender<RunEvent>),
    Bounded(mpsc::Sender<RunEvent>),
}

impl EventSink {
    async fn send(&self, event: RunEvent) {
        // Err: the console is gone; the audit log still gets the outcome.
        let _ = match self {
            EventSink::Unbounded(tx) => tx.send(event).map_err(drop),
            EventSink::Bounded(tx) => tx.send(event).await.map_err(drop),
        };
    }
}

impl From<mpsc::UnboundedSender<RunEvent>> for EventSink {
    fn from(tx: mpsc::UnboundedSender<RunEvent>) -> Self {
        EventSink::Unbounded(tx)
    }
}

impl From<mpsc::Sender<RunEvent>> for EventSink {
    fn from(tx: mpsc::Sender<RunEvent>) -> Self {
        EventSink::Bounded(tx)
    }
}

/// Everything the runner needs from the console.
pub struct RunnerConfig {
    /// The audit log (the XDG data dir's `audit.jsonl`). Its directory must exist.
    pub audit_path: PathBuf,
    /// Where run locks live (the XDG runtime dir, else the state dir); created if missing.
    pub lock_dir: PathBuf,
    /// This host's name, for the audit log and lock owners: [`hostname`] gives it.
    pub host: String,
    pub events: EventSink,
    pub clock: Arc<dyn Clock>,
    /// Refuse every run without writing or spawning anything.
    pub read_only: bool,
}

/// This host's name (`gethostname`), or `localhost` if it has none that reads as text.
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Starts runs. Cheap to clone: clones share the configuration.
#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
}

struct Inner {
    audit: AuditLog,
    lock_dir: PathBuf,
    host: String,
    events: EventSink,
    clock: Arc<dyn Clock>,
    read_only: bool,
    http: super::http::Client,
}

/// A run in flight. Dropping the handle does not stop the run.
#[derive(Debug)]
pub struct RunHandle {
    pub id: RunId,
    cancel: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunHandle {
    /// Stop the run: SIGTERM to its process group, SIGKILL after the grace period (an HTTP
    /// request is dropped). A run that has not started yet never starts. Idempotent.
    pub fn cancel(&self) {
        self.cancel.send_replace(true);
    }

    /// True once the run's task has sent its last event.
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Wait until the run's task has sent its last event.
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Runner {
    /// On Linux, also makes this process a child subreaper (see [`super::exec`]), so the
    /// leftovers of a run's process group are reaped here even where PID 1 does not reap.
    pub fn new(config: RunnerConfig) -> Runner {
        super::exec::become_subreaper();
        Runner {
            inner: Arc::new(Inner {
                audit: AuditLog::new(config.audit_path),
                lock_dir: config.lock_dir,
                host: config.host,
                events: config.events,
                clock: config.clock,
                read_only: config.read_only,
                http: super::http::Client::new(),
            }),
        }
    }

    /// The lock file a request would take (none for a plan).
    pub fn lock_path(&self, request: &RunRequest) -> Option<PathBuf> {
        request_lock_path(&self.inner.lock_dir, request)
    }

    /// Start a run in a task of its own and return at once; everything else arrives as
    /// events. Must be called within a tokio runtime (the console's run loop); outside one,
    /// the run is refused.
    /// The time on the runner's clock (what audit records and run ids use).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.clock.now()
    }

    pub fn start(&self, request: RunRequest) -> RunHandle {
        let id = new_run_id(self.inner.clock.as_ref());
        let (cancel, cancelled) = watch::channel(false);
        let inner = Arc::clone(&self.inner);
        let run = id.clone();
        let task = match tokio::runtime::Handle::try_current() {
            Ok(rt) => Some(rt.spawn(async move { inner.run(run, request, cancelled).await })),
            Err(_) => {
                let event = RunEvent::Refused {
                    run,
                    at: self.inner.clock.now(),
                    reason: "internal error: no async runtime to run in".to_owned(),
                };
                match &self.inner.events {
                    EventSink::Unbounded(tx) => drop(tx.send(event)),
                    EventSink::Bounded(tx) => drop(tx.try_send(event)),
                }
                None
            }
        };
        RunHandle { id, cancel, task }
    }
}

/// `YYYYmmdd-HHMMSS-PID-N`: the clock's time, this process and a process-wide counter, so
/// two consoles on one host (different pids) or two runs in one second never collide.
fn new_run_id(clock: &dyn Clock) -> RunId {
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    RunId(format!(
        "{}-{}-{n}",
        clock.now().format("%Y%m%d-%H%M%S"),
        std::process::id()
    ))
}

impl Inner {
    async fn run(self: Arc<Self>, run: RunId, request: RunRequest, cancel: watch::Receiver<bool>) {
        if self.read_only {
            self.refuse(&run, READ_ONLY_REASON.to_owned()).await;
            return;
        }
        if *cancel.borrow() {
            self.refuse(&run, "cancelled before it started".to_owned())
                .await;
            return;
        }
        // Lock and intent touch the disk (fsync can take a while): off the async threads.
        let this = Arc::clone(&self);
        let (r, req) = (run.clone(), request.clone());
        let prepared = tokio::task::spawn_blocking(move || this.prepare(&r, &req)).await;
        let lock = match prepared {
            Ok(Ok(lock)) => lock,
            Ok(Err(reason)) => {
                self.refuse(&run, reason).await;
                return;
            }
            Err(e) => {
                self.refuse(&run, format!("internal error: {e}")).await;
                return;
            }
        };

        self.events
            .send(RunEvent::Started {
                run: run.clone(),
                at: self.clock.now(),
            })
            .await;
        let outcome = self.execute(&run, &request, cancel).await;

        let this = Arc::clone(&self);
        let record = AuditRecord::Outcome(OutcomeRecord {
            run: run.clone(),
            at: self.clock.now(),
            outcome: outcome.clone(),
        });
        let written = tokio::task::spawn_blocking(move || this.audit.append(&record)).await;
        let failure = match written {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(e) = failure {
            tracing::error!(run = %run, error = %e, "runbook outcome not recorded");
            self.note(
                &run,
                format!("audit: the outcome could not be recorded: {e}"),
            )
            .await;
        }
        // Released before `Finished`, so a console that runs again on seeing it does not
        // find its own lock.
        drop(lock);
        self.events
            .send(RunEvent::Finished {
                run,
                at: self.clock.now(),
                outcome,
            })
            .await;
    }

    /// Lock (runs only) and write the intent. `Err` is the refusal reason.
    fn prepare(&self, run: &RunId, request: &RunRequest) -> Result<Option<RunLock>, String> {
        let lock_path = request_lock_path(&self.lock_dir, request);
        let now = self.clock.now();
        let record = RunRecord::new(run, now, &self.host, request, lock_path.as_deref());
        let lock = match &lock_path {
            None => None,
            Some(path) => match lock::acquire(path, &self.owner(run, request, now)) {
                Ok(lock) => Some(lock),
                Err(e @ LockError::Held { .. }) => {
                    let reason = e.to_string();
                    let refused = AuditRecord::Refused(RefusedRecord {
                        request: record,
                        reason: reason.clone(),
                    });
                    if let Err(e) = self.audit.append(&refused) {
                        tracing::warn!(run = %run, error = %e, "refusal not recorded");
                    }
                    return Err(reason);
                }
                Err(e) => return Err(format!("cannot take the run lock: {e}")),
            },
        };
        match self.audit.append(&AuditRecord::Intent(record)) {
            Ok(()) => Ok(lock),
            Err(e) => {
                tracing::error!(run = %run, error = %e, "runbook intent not recorded; refused");
                Err(format!("{e}; nothing was run"))
            }
        }
    }

    fn owner(
        &self,
        run: &RunId,
        request: &RunRequest,
        now: chrono::DateTime<chrono::Utc>,
    ) -> LockOwner {
        LockOwner {
            user: request.user.clone(),
            pid: std::process::id(),
            host: self.host.clone(),
            since: now,
            run: run.clone(),
        }
    }

    async fn execute(
        &self,
        run: &RunId,
        request: &RunRequest,
        mut cancel: watch::Receiver<bool>,
    ) -> Outcome {
        let started = Instant::now();
        let mut sink = OutputSink::new(
            run.clone(),
            Arc::clone(&self.clock),
            self.events.clone(),
            &request.invocation,
        );
        let termination = match &request.invocation {
            Invocation::Exec(inv) => {
                super::exec::run(
                    inv,
                    request.timeout,
                    request.kill_grace,
                    &mut cancel,
                    &mut sink,
                )
                .await
            }
            Invocation::Http(inv) => {
                self.http
                    .run(inv, request.timeout, &mut cancel, &mut sink)
                    .await
            }
        };
        let termination = match termination {
            Termination::Failed { reason } => Termination::Failed {
                reason: sanitize::clean(&sink.redact_text(&reason)).into_owned(),
            },
            t => t,
        };
        let (output_bytes, output_sha256, last_lines) = sink.finish().await;
        Outcome {
            termination,
            duration: started.elapsed(),
            output_bytes,
            output_sha256,
            last_lines,
        }
    }

    async fn refuse(&self, run: &RunId, reason: String) {
        self.events
            .send(RunEvent::Refused {
                run: run.clone(),
                at: self.clock.now(),
                reason,
            })
            .await;
    }

    async fn note(&self, run: &RunId, line: String) {
        self.events
            .send(RunEvent::Output {
                run: run.clone(),
                at: self.clock.now(),
                stream: OutputStream::Runner,
                line,
            })
            .await;
    }
}

/// A run's output on its way out: counted and hashed, secrets redacted, split into capped
/// lines, sanitized, sent as [`RunEvent::Output`], the last [`LAST_LINES`] kept for the
/// outcome.
///
/// The hash covers the output *after* redaction: a hash of raw output that held a secret
/// would let anyone with the audit log test guesses of that secret.
pub(crate) struct OutputSink {
    run: RunId,
    clock: Arc<dyn Clock>,
    events: EventSink,
    secrets: Arc<[Vec<u8>]>,
    /// stdout, stderr.
    streams: [StreamState; 2],
    bytes: u64,
    sha: Sha256,
    last: VecDeque<String>,
}

struct StreamState {
    redactor: Redactor,
    splitter: LineSplitter,
    closed: bool,
}

impl OutputSink {
    pub(crate) fn new(
        run: RunId,
        clock: Arc<dyn Clock>,
        events: EventSink,
        invocation: &Invocation,
    ) -> Self {
        let mut secrets: Vec<Vec<u8>> = invocation
            .secrets()
            .into_iter()
            .map(|s| s.expose().as_bytes().to_vec())
            .filter(|s| !s.is_empty())
            .collect();
        // Longest first, so a secret that contains another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        let secrets: Arc<[Vec<u8>]> = secrets.into();
        let stream = || StreamState {
            redactor: Redactor::new(Arc::clone(&secrets)),
            splitter: LineSplitter::default(),
            closed: false,
        };
        OutputSink {
            run,
            clock,
            events,
            streams: [stream(), stream()],
            secrets,
            bytes: 0,
            sha: Sha256::new(),
            last: VecDeque::with_capacity(LAST_LINES),
        }
    }

    fn index(stream: OutputStream) -> Option<usize> {
        match stream {
            OutputStream::Stdout => Some(0),
            OutputStream::Stderr => Some(1),
            OutputStream::Runner => None,
        }
    }

    /// Raw bytes read from `stream` (stdout or stderr; the HTTP body counts as stdout).
    pub(crate) async fn push(&mut self, stream: OutputStream, data: &[u8]) {
        let Some(i) = Self::index(stream) else {
            self.note(&String::from_utf8_lossy(data)).await;
            return;
        };
        self.bytes += data.len() as u64;
        let state = &mut self.streams[i];
        let mut redacted = Vec::with_capacity(data.len());
        state.redactor.push(data, &mut redacted);
        self.sha.update(&redacted);
        let mut lines = Vec::new();
        state.splitter.push(&redacted, &mut lines);
        for line in lines {
            self.emit(stream, &line).await;
        }
    }

    /// `stream` reached its end: flush what was held back and the unterminated last line.
    pub(crate) async fn close(&mut self, stream: OutputStream) {
        let Some(i) = Self::index(stream) else {
            return;
        };
        let state = &mut self.streams[i];
        if state.closed {
            return;
        }
        state.closed = true;
        let mut redacted = Vec::new();
        state.redactor.finish(&mut redacted);
        self.sha.update(&redacted);
        let mut lines = Vec::new();
        state.splitter.push(&redacted, &mut lines);
        state.splitter.finish(&mut lines);
        for line in lines {
            self.emit(stream, &line).await;
        }
    }

    /// A line from the runner itself ("sending SIGTERM", "HTTP 200 OK"); not part of the
    /// output's count, hash or last lines.
    pub(crate) async fn note(&mut self, line: &str) {
        let line = self.redact_text(line);
        let line = sanitize::clean_with_limit(&line, MAX_LINE_BYTES).into_owned();
        self.events
            .send(RunEvent::Output {
                run: self.run.clone(),
                at: self.clock.now(),
                stream: OutputStream::Runner,
                line,
            })
            .await;
    }

    /// `text` with every secret value replaced, for messages that did not come through
    /// the output streams (error reasons).
    pub(crate) fn redact_text(&self, text: &str) -> String {
        let mut r = Redactor::new(Arc::clone(&self.secrets));
        let mut out = Vec::with_capacity(text.len());
        r.push(text.as_bytes(), &mut out);
        r.finish(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    async fn emit(&mut self, stream: OutputStream, raw: &[u8]) {
        let text = String::from_utf8_lossy(raw);
        let line = sanitize::clean_with_limit(&text, MAX_LINE_BYTES).into_owned();
        if self.last.len() == LAST_LINES {
            self.last.pop_front();
        }
        self.last.push_back(line.clone());
        self.events
            .send(RunEvent::Output {
                run: self.run.clone(),
                at: self.clock.now(),
                stream,
                line,
            })
            .await;
    }

    /// Flush both streams; then the byte count, the hash (hex) and the last lines.
    pub(crate) async fn finish(mut self) -> (u64, String, Vec<String>) {
        self.close(OutputStream::Stdout).await;
        self.close(OutputStream::Stderr).await;
        let sha = self.sha.finalize();
        let hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();
        (self.bytes, hex, self.last.into_iter().collect())
    }
}

/// Replaces secret values in a byte stream, before it is split into lines — so a secret
/// that spans two reads, two lines or the line cap is still caught whole. It holds back
/// only a tail that could be the start of a secret, until more data (or the end) decides;
/// any other output passes at once, so a live line is never delayed for nothing.
struct Redactor {
    /// Longest first.
    secrets: Arc<[Vec<u8>]>,
    pending: Vec<u8>,
}

impl Redactor {
    fn new(secrets: Arc<[Vec<u8>]>) -> Self {
        Redactor {
            secrets,
            pending: Vec::new(),
        }
    }

    fn push(&mut self, data: &[u8], out: &mut Vec<u8>) {
        if self.secrets.is_empty() {
            out.extend_from_slice(data);
            return;
        }
        self.pending.extend_from_slice(data);
        self.drain(false, out);
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        self.drain(true, out);
    }

    /// The longest tail of `pending` that is a proper prefix of some secret.
    fn hold(&self) -> usize {
        let p = &self.pending;
        self.secrets
            .iter()
            .filter_map(|s| {
                let longest = s.len().saturating_sub(1).min(p.len());
                // First-byte check first: most positions fail it, and secrets can be long
                // (a key file).
                (1..=longest)
                    .rev()
                    .find(|&k| p[p.len() - k] == s[0] && p.ends_with(&s[..k]))
            })
            .max()
            .unwrap_or(0)
    }

    fn drain(&mut self, eof: bool, out: &mut Vec<u8>) {
        // A secret starting before `safe` lies wholly inside `pending` (else the tail from
        // its start would be a longer held prefix), so "no match here" is final for those
        // positions; the held tail waits for more data.
        let safe = if eof {
            self.pending.len()
        } else {
            self.pending.len() - self.hold()
        };
        let p = &self.pending;
        let mut i = 0;
        while i < safe {
            match self.secrets.iter().find(|s| p[i..].starts_with(s)) {
                Some(s) => {
                    out.extend_from_slice(REDACTED.as_bytes());
                    i += s.len();
                }
                None => {
                    out.push(p[i]);
                    i += 1;
                }
            }
        }
        self.pending.drain(..i.min(self.pending.len()));
    }
}

/// Splits a byte stream into lines at `\n` (dropping a `\r` before it) and at
/// [`MAX_LINE_BYTES`], never inside a UTF-8 character.
#[derive(Default)]
struct LineSplitter {
    buf: Vec<u8>,
}

impl LineSplitter {
    fn push(&mut self, mut data: &[u8], lines: &mut Vec<Vec<u8>>) {
        while !data.is_empty() {
            match data.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    self.buf.extend_from_slice(&data[..end]);
                    if self.buf.last() == Some(&b'\r') {
                        self.buf.pop();
                    }
                    self.split_long(lines);
                    lines.push(std::mem::take(&mut self.buf));
                    data = &data[end + 1..];
                }
                None => {
                    self.buf.extend_from_slice(data);
                    self.split_long(lines);
                    data = &[];
                }
            }
        }
    }

    fn split_long(&mut self, lines: &mut Vec<Vec<u8>>) {
        while self.buf.len() > MAX_LINE_BYTES {
            let cut = char_boundary_at_or_before(&self.buf, MAX_LINE_BYTES);
            lines.push(self.buf.drain(..cut).collect());
        }
    }

    /// The end of the stream: an unterminated last line is still a line.
    fn finish(&mut self, lines: &mut Vec<Vec<u8>>) {
        if !self.buf.is_empty() {
            lines.push(std::mem::take(&mut self.buf));
        }
    }
}

/// The largest cut point `<= at` that does not split a UTF-8 sequence (`buf.len() > at`).
/// Bytes that are not UTF-8 anyway are cut at `at`.
fn char_boundary_at_or_before(buf: &[u8], at: usize) -> usize {
    (0..4)
        .map(|back| at.saturating_sub(back))
        .find(|&c| c > 0 && buf.get(c).is_some_and(|b| b & 0xC0 != 0x80))
        .unwrap_or(at)
}

/// The lock file a request takes: none for a plan, which only reads.
fn request_lock_path(lock_dir: &Path, request: &RunRequest) -> Option<PathBuf> {
    (request.phase == Phase::Run).then(|| {
        lock::lock_path(
            lock_dir,
            &request.runbook,
            &request.target.environment,
            &request.target.name,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(list: &[&str]) -> Arc<[Vec<u8>]> {
        let mut v: Vec<Vec<u8>> = list.iter().map(|s| s.as_bytes().to_vec()).collect();
        v.sort_by_key(|s| std::cmp::Reverse(s.len()));
        v.into()
    }

    fn redact_in_pieces(list: &[&str], input: &[u8], piece: usize) -> String {
        let mut r = Redactor::new(secrets(list));
        let mut out = Vec::new();
        for chunk in input.chunks(piece) {
            r.push(chunk, &mut out);
        }
        r.finish(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn redactor_catches_secrets_split_across_reads() {
        let input = b"pw=hunter2 and again hunter2hunter2; hunt";
        for piece in 1..input.len() + 1 {
            assert_eq!(
                redact_in_pieces(&["hunter2"], input, piece),
                "pw=[redacted] and again [redacted][redacted]; hunt",
                "piece size {piece}"
            );
        }
    }

    #[test]
    fn redactor_holds_back_only_what_could_start_a_secret() {
        let mut r = Redactor::new(secrets(&["hunter2"]));
        let mut out = Vec::new();
        r.push(b"progress 50%\n", &mut out);
        assert_eq!(out, b"progress 50%\n");
        r.push(b"pw=hun", &mut out);
        assert_eq!(out, b"progress 50%\npw=");
        r.push(b"ter2!", &mut out);
        assert_eq!(out, b"progress 50%\npw=[redacted]!");
    }

    #[test]
    fn redactor_prefers_the_longest_secret_and_spans_newlines() {
        assert_eq!(
            redact_in_pieces(&["abc", "abcdef"], b"xabcdefx abcx", 2),
            "x[redacted]x [redacted]x"
        );
        assert_eq!(
            redact_in_pieces(&["line1\nline2"], b"a line1\nline2 b\n", 3),
            "a [redacted] b\n"
        );
        assert_eq!(redact_in_pieces(&[], b"as is", 1), "as is");
    }

    fn split(input: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut s = LineSplitter::default();
        let mut lines = Vec::new();
        for chunk in input {
            s.push(chunk, &mut lines);
        }
        s.finish(&mut lines);
        lines
    }

    #[test]
    fn splitter_handles_crlf_partial_reads_and_the_unterminated_end() {
        let lines = split(&[b"one\r\ntw", b"o\n\nthr", b"ee"]);
        assert_eq!(lines, [&b"one"[..], b"two", b"", b"three"]);
    }

    #[test]
    fn splitter_caps_long_lines_on_char_boundaries() {
        let mut long = vec![b'a'; MAX_LINE_BYTES - 1];
        long.extend_from_slice("é".as_bytes()); // straddles the cap
        long.extend_from_slice(b"tail\n");
        let lines = split(&[&long]);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), MAX_LINE_BYTES - 1);
        assert_eq!(lines[1], "étail".as_bytes());
        let huge = vec![b'x'; MAX_LINE_BYTES * 3 + 5];
        let lines = split(&[&huge]);
        assert_eq!(
            lines.iter().map(Vec::len).collect::<Vec<_>>(),
            [MAX_LINE_BYTES, MAX_LINE_BYTES, MAX_LINE_BYTES, 5]
        );
    }

    #[test]
    fn run_ids_are_unique_and_carry_the_pid() {
        let clock = crate::clock::ManualClock::new(chrono::DateTime::from_timestamp(0, 0).unwrap());
        let a = new_run_id(&clock);
        let b = new_run_id(&clock);
        assert_ne!(a, b);
        assert!(a.0.starts_with(&format!("19700101-000000-{}-", std::process::id())));
    }
}
