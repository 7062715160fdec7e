//! The append-only incident journal: JSON lines, replay on open, compaction when large.
//!
//! Every line is a self-contained [`Record`]. An `event` record carries the change that
//! happened *and the full incident snapshot after it*, so replay needs no state machine:
//! the last snapshot per ID wins. A `meta` record (written first by compaction) carries
//! `next_id`, so IDs are never reused even after compaction drops the incident that held
//! the highest one.
//!
//! Durability: lines for human actions (acknowledgements, notes, runbook runs) are
//! `fsync`ed before the action is applied; machine events are written with one `write`
//! call and not synced — a crash can lose the last few of them, and the next rounds
//! recompute them from live data anyway.
//!
//! Replay tolerates damage instead of refusing to start: a torn last line (a write cut
//! short by a crash) is cut off the file with a warning, so the next append starts on a
//! clean line; a corrupt line anywhere else is skipped with a warning naming its line
//! number. Compaction rewrites the file through a temp file, `fsync` and `rename`, so a
//! crash leaves either the old file or the new one.
//!
//! One writer per journal: [`Journal::open`] holds an exclusive lock on a file beside it
//! (`<journal>.lock`, which compaction's `rename` does not replace) for as long as the
//! journal is open. A second console on the same journal would hand out the same incident
//! IDs, cut what it took for a torn line out of the other's write in progress, and compact
//! the file from under it (the other's later lines going to the replaced file); it is
//! refused instead, with the path. Readers ([`read`]: `watchdeck incidents list/export`)
//! take no lock and change nothing, so they work while a console runs.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::{Incident, IncidentId};
use super::{Change, IncidentError};

/// Journal format version, in `meta` records.
pub const VERSION: u32 = 1;

/// One line of the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub(crate) enum Record {
    Meta {
        version: u32,
        next_id: u64,
        at: DateTime<Utc>,
    },
    Event {
        at: DateTime<Utc>,
        event: Event,
        incident: Box<Incident>,
    },
}

impl Record {
    pub fn event(at: DateTime<Utc>, event: Event, incident: &Incident) -> Self {
        Record::Event {
            at,
            event,
            incident: Box::new(incident.clone()),
        }
    }
}

/// Why a line was written. Replay does not need it (the snapshot is the truth); it is
/// there for people reading the file and for tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Event {
    Opened,
    Escalated,
    Deescalated,
    Resolved,
    Reopened,
    BecameUnknown,
    DataBack,
    FlappingStarted,
    FlappingStopped,
    Acknowledged,
    Timeline,
    /// Written by compaction.
    Snapshot,
}

impl From<&Change> for Event {
    fn from(change: &Change) -> Self {
        match change {
            Change::Opened(_) => Event::Opened,
            Change::Escalated { .. } => Event::Escalated,
            Change::Deescalated { .. } => Event::Deescalated,
            Change::Resolved(_) => Event::Resolved,
            Change::Reopened(_) => Event::Reopened,
            Change::BecameUnknown(_) => Event::BecameUnknown,
            Change::DataBack(_) => Event::DataBack,
            Change::FlappingStarted(_) => Event::FlappingStarted,
            Change::FlappingStopped(_) => Event::FlappingStopped,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// One `write` call; the OS may still lose it on power failure.
    Flush,
    /// `fdatasync` before returning.
    Sync,
}

/// What replay found.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    pub incidents: Vec<(IncidentId, Incident)>,
    pub next_id: u64,
    pub warnings: Vec<String>,
}

/// The open journal file.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: File,
    /// Holds the writer's lock (released when dropped, or by the kernel if the process
    /// dies).
    _lock: File,
    /// Current size of the file.
    bytes: u64,
    /// Size that triggers compaction: the configured maximum, raised to twice the
    /// compacted size when the live incidents alone fill it, so a journal that cannot
    /// shrink is not rewritten on every append.
    compact_at: u64,
    max_bytes: u64,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> IncidentError + '_ {
    move |source| IncidentError::Journal {
        path: path.to_owned(),
        source,
    }
}

/// How [`Journal::open`] treats what the file already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Replay it and append after it.
    Replay,
    /// Empty it first (the demo, which tells its story from the start every run).
    Fresh,
}

impl Journal {
    /// Take the writer's lock, open (creating the file and its directory if needed) and
    /// replay. Fails with [`IncidentError::JournalInUse`] while another process has it open.
    pub fn open(
        path: &Path,
        max_bytes: u64,
        start: Start,
    ) -> Result<(Self, Replay), IncidentError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io_err(path))?;
        }
        let lock = lock(path)?;
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io_err(path))?;
        if start == Start::Fresh {
            file.set_len(0).map_err(io_err(path))?;
        }
        let mut data = Vec::new();
        file.read_to_end(&mut data).map_err(io_err(path))?;

        let (replay, keep_bytes, needs_newline) = replay(path, &data);
        if keep_bytes < data.len() as u64 {
            // Cut the torn tail so the next line does not get glued onto it.
            file.set_len(keep_bytes).map_err(io_err(path))?;
        }
        let mut bytes = keep_bytes;
        if needs_newline {
            file.write_all(b"\n").map_err(io_err(path))?;
            bytes += 1;
        }
        let journal = Journal {
            path: path.to_owned(),
            file,
            _lock: lock,
            bytes,
            compact_at: max_bytes,
            max_bytes,
        };
        Ok((journal, replay))
    }

    pub fn append(&mut self, record: &Record, durability: Durability) -> Result<(), IncidentError> {
        let mut line = serde_json::to_vec(record).map_err(|e| IncidentError::Journal {
            path: self.path.clone(),
            source: io::Error::other(e),
        })?;
        line.push(b'\n');
        // One write call per line, so concurrent readers (and a crash) see whole lines or
        // a torn last line, never interleaving.
        self.file.write_all(&line).map_err(io_err(&self.path))?;
        if durability == Durability::Sync {
            self.file.sync_data().map_err(io_err(&self.path))?;
        }
        self.bytes += line.len() as u64;
        Ok(())
    }

    pub fn wants_compaction(&self) -> bool {
        self.bytes > self.compact_at
    }

    /// Replace the file with `records`: temp file, fsync, rename, fsync the directory.
    pub fn compact(&mut self, records: &[Record]) -> Result<(), IncidentError> {
        let tmp = temp_path(&self.path);
        let written = write_all_synced(&tmp, records).map_err(io_err(&tmp));
        let written = match written {
            Ok(n) => n,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        fs::rename(&tmp, &self.path).map_err(io_err(&self.path))?;
        sync_dir(&self.path);
        self.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(io_err(&self.path))?;
        self.bytes = written;
        self.compact_at = self.max_bytes.max(written.saturating_mul(2));
        tracing::debug!(path = %self.path.display(), bytes = written, "incident journal compacted");
        Ok(())
    }
}

/// Replay the journal at `path` without taking the lock or changing the file: what a reader
/// sees while a console may be writing (a line being written shows as a torn last line,
/// reported and left alone). A missing file is an empty journal.
pub(crate) fn read(path: &Path) -> Result<Replay, IncidentError> {
    let data = match fs::read(path) {
        Ok(data) => data,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_err(path)(e)),
    };
    Ok(replay(path, &data).0)
}

/// The writer's lock on the journal at `path`: an exclusive lock on `<journal>.lock`.
fn lock(path: &Path) -> Result<File, IncidentError> {
    let lock_path = lock_path(path);
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(io_err(&lock_path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(IncidentError::JournalInUse {
            path: path.to_owned(),
        }),
        // A filesystem without locks should not keep the console from starting: it runs
        // as before the lock existed, and says so.
        Err(fs::TryLockError::Error(e)) if e.kind() == io::ErrorKind::Unsupported => {
            tracing::warn!(
                lock = %lock_path.display(),
                "the filesystem cannot lock the incident journal; a second console would not be stopped: {e}"
            );
            Ok(file)
        }
        Err(fs::TryLockError::Error(e)) => Err(io_err(&lock_path)(e)),
    }
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".compact.tmp");
    path.with_file_name(name)
}

fn write_all_synced(tmp: &Path, records: &[Record]) -> io::Result<u64> {
    let file = File::create(tmp)?;
    let mut out = BufWriter::new(file);
    let mut bytes = 0u64;
    for record in records {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        out.write_all(&line)?;
        bytes += line.len() as u64;
    }
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(bytes)
}

/// Make the rename durable. Best effort: not every platform can open a directory.
fn sync_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Parse the file. Returns what was found, how many leading bytes are worth keeping (all
/// but a torn last line) and whether the kept part lacks its final newline.
fn replay(path: &Path, data: &[u8]) -> (Replay, u64, bool) {
    let mut out = Replay {
        next_id: 1,
        ..Replay::default()
    };
    let mut keep = data.len() as u64;
    let mut needs_newline = false;
    let mut latest: std::collections::BTreeMap<IncidentId, Incident> = Default::default();
    let mut offset = 0usize;
    let mut number = 0usize;
    while offset < data.len() {
        number += 1;
        let rest = &data[offset..];
        let (line, terminated) = match rest.iter().position(|&b| b == b'\n') {
            Some(end) => (&rest[..end], true),
            None => (rest, false),
        };
        let start = offset;
        offset += line.len() + usize::from(terminated);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Record>(line) {
            Ok(record) => {
                // Only the last line can be unterminated.
                needs_newline = !terminated;
                match record {
                    Record::Meta { next_id, .. } => out.next_id = out.next_id.max(next_id),
                    Record::Event { incident, .. } => {
                        out.next_id = out.next_id.max(incident.id.0.saturating_add(1));
                        latest.insert(incident.id, *incident);
                    }
                }
            }
            Err(e) if !terminated => {
                let w = format!(
                    "incident journal {}: line {number} is torn (partial write, {} bytes); dropped",
                    path.display(),
                    line.len()
                );
                tracing::warn!(error = %e, "{w}");
                out.warnings.push(w);
                keep = start as u64;
                needs_newline = false;
            }
            Err(e) => {
                let w = format!(
                    "incident journal {}: line {number} is corrupt and was skipped: {e}",
                    path.display()
                );
                tracing::warn!("{w}");
                out.warnings.push(w);
            }
        }
    }
    out.incidents = latest.into_iter().collect();
    (out, keep, needs_newline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_path_sits_next_to_the_journal() {
        assert_eq!(
            temp_path(Path::new("/x/incidents.jsonl")),
            PathBuf::from("/x/incidents.jsonl.compact.tmp")
        );
    }

    #[test]
    fn empty_and_blank_files_replay_to_nothing() {
        let (r, keep, nl) = replay(Path::new("j"), b"\n\n  \n");
        assert!(r.incidents.is_empty() && r.warnings.is_empty());
        assert_eq!((r.next_id, keep, nl), (1, 5, false));
    }

    #[test]
    fn meta_raises_next_id() {
        let line = br#"{"record":"meta","version":1,"next_id":43,"at":"2026-01-01T00:00:00Z"}"#;
        let (r, _, nl) = replay(Path::new("j"), line);
        assert_eq!(r.next_id, 43);
        assert!(
            nl,
            "a whole last line without its newline is kept and terminated"
        );
    }
}
