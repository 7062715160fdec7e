//! The run lock: one run at a time per (runbook, environment, target), across every
//! console on the host.
//!
//! A lock is an OS advisory lock (`flock`, through `File::try_lock`) on a small file in a
//! directory the caller names (the XDG runtime dir). The kernel drops the lock when its
//! holder dies, so a console that crashed mid-run never leaves a lock that needs cleaning
//! up: a file left behind by a dead process is just a file, and the next run takes it.
//! While held, the file carries a JSON [`LockOwner`] so a second console can say who is
//! running what; the lock itself, not the file's content, is the truth.
//!
//! `flock` belongs to an open file description, so two opens in one process conflict just
//! as two processes do; and the file is opened close-on-exec, so a child that outlives its
//! run cannot keep the lock.
//!
//! Lock files are never deleted: unlinking a file someone else has open and is about to
//! lock would let two runs each lock a different inode under the same name. On release
//! the file is emptied while still locked, so a stale owner is never shown.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::invocation::RunId;

/// How often a contended lock is retried before it counts as held: someone reading the
/// history holds a shared lock for a few microseconds to probe it, and that must not refuse
/// a run.
const ATTEMPTS: u32 = 5;
const RETRY_PAUSE: Duration = Duration::from_millis(10);

/// Lock file names longer than this are shortened and made unique with a hash (most file
/// systems stop at 255 bytes).
const MAX_NAME_BYTES: usize = 200;

/// Who holds a lock, written into the lock file while it is held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockOwner {
    pub user: String,
    pub pid: u32,
    pub host: String,
    pub since: DateTime<Utc>,
    pub run: RunId,
}

impl LockOwner {
    /// "USER (pid N on HOST) since T", for the refusal message.
    pub fn describe(&self) -> String {
        format!(
            "{} (pid {} on {}) since {}",
            self.user,
            self.pid,
            self.host,
            self.since.to_rfc3339_opts(SecondsFormat::Secs, true)
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Someone else is running it. `owner` is `None` when the file could not be read (it
    /// is being written at this very moment, or was written by something else).
    #[error("{}", held_message(.owner.as_ref(), .path))]
    Held {
        owner: Option<LockOwner>,
        path: PathBuf,
    },
    #[error("run lock {}: {source}", .path.display())]
    Io { path: PathBuf, source: io::Error },
}

fn held_message(owner: Option<&LockOwner>, path: &Path) -> String {
    match owner {
        Some(owner) => format!("already running by {}", owner.describe()),
        None => format!(
            "already running in another console (lock file {})",
            path.display()
        ),
    }
}

/// Whether a lock file is held right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockStatus {
    Free,
    /// Held; the owner as written in the file, if it could be read.
    Held(Option<LockOwner>),
}

/// A held lock. Dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    file: File,
    path: PathBuf,
}

impl RunLock {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Release now (the same as dropping it).
    pub fn release(self) {}
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Emptied while still locked, so nobody reads this run as the owner afterwards;
        // closing the file (right after) releases the flock.
        if let Err(e) = self.file.set_len(0) {
            tracing::debug!(path = %self.path.display(), error = %e, "cannot empty run lock file");
        }
    }
}

/// The lock file for one (runbook, environment, target): each part percent-encoded
/// (everything outside `[A-Za-z0-9._-]`), joined with `+`, which the encoding never
/// produces, so different triples never share a name and no part can reach outside `dir`.
pub fn lock_path(dir: &Path, runbook: &str, environment: &str, target: &str) -> PathBuf {
    let mut name = [runbook, environment, target]
        .iter()
        .map(|part| encode(part))
        .collect::<Vec<_>>()
        .join("+");
    if name.len() > MAX_NAME_BYTES {
        let digest = Sha256::digest(name.as_bytes());
        let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        // The encoding is ASCII, so any byte index is a char boundary.
        name.truncate(MAX_NAME_BYTES - 17);
        name.push('-');
        name.push_str(&hash);
    }
    name.push_str(".lock");
    dir.join(name)
}

fn encode(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for b in part.bytes() {
        if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Take the lock at `path` for `owner`, creating the directory (mode 0770, less the umask)
/// and the file (mode 0660) if needed. Never waits for a holder: a held lock is
/// [`LockError::Held`].
///
/// Group read/write on the file is what lets consoles of different users exclude each
/// other in a shared lock directory (`[general] lock_dir`, owned by the on-call group with
/// the setgid bit); in the default, per-user runtime directory nobody else can reach it.
pub fn acquire(path: &Path, owner: &LockOwner) -> Result<RunLock, LockError> {
    let io_err = |source| LockError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o770)
            .create(dir)
            .map_err(io_err)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o660)
        .open(path)
        .map_err(io_err)?;
    // The umask (typically 022) would strip group write from a file just created.
    if let Ok(meta) = file.metadata()
        && meta.uid() == nix::unistd::geteuid().as_raw()
        && meta.mode() & 0o777 != 0o660
    {
        let _ = file.set_permissions(fs::Permissions::from_mode(0o660));
    }
    let mut attempt = 0;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {
                attempt += 1;
                if attempt >= ATTEMPTS {
                    return Err(LockError::Held {
                        owner: read_owner(&mut file),
                        path: path.to_owned(),
                    });
                }
                std::thread::sleep(RETRY_PAUSE);
            }
            Err(TryLockError::Error(e)) => return Err(io_err(e)),
        }
    }
    let mut json = serde_json::to_vec(owner).map_err(|e| io_err(io::Error::other(e)))?;
    json.push(b'\n');
    file.set_len(0).map_err(io_err)?;
    file.seek(SeekFrom::Start(0)).map_err(io_err)?;
    file.write_all(&json).map_err(io_err)?;
    Ok(RunLock {
        file,
        path: path.to_owned(),
    })
}

/// Whether the lock at `path` is held now, and by whom. A missing file is free.
///
/// Probes with a shared lock held for an instant; [`acquire`] retries briefly so the probe
/// cannot refuse a run.
pub fn status(path: &Path) -> Result<LockStatus, LockError> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(LockStatus::Free),
        Err(source) => {
            return Err(LockError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    match file.try_lock_shared() {
        Ok(()) => Ok(LockStatus::Free),
        Err(TryLockError::WouldBlock) => Ok(LockStatus::Held(read_owner(&mut file))),
        Err(TryLockError::Error(source)) => Err(LockError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// The owner written in a held lock file. The holder writes it right after locking, so an
/// empty file is read once more after a pause.
fn read_owner(file: &mut File) -> Option<LockOwner> {
    for pause in [Duration::ZERO, RETRY_PAUSE * 2] {
        std::thread::sleep(pause);
        let mut text = String::new();
        if file.seek(SeekFrom::Start(0)).is_err() || file.read_to_string(&mut text).is_err() {
            return None;
        }
        if let Ok(owner) = serde_json::from_str(text.trim()) {
            return Some(owner);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(run: &str) -> LockOwner {
        LockOwner {
            user: "alice".into(),
            pid: std::process::id(),
            host: "bastion1".into(),
            since: DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
            run: RunId(run.into()),
        }
    }

    #[test]
    fn names_are_encoded_and_cannot_traverse() {
        let dir = Path::new("/run/wd");
        assert_eq!(
            lock_path(dir, "restart-fpm", "production", "web1"),
            PathBuf::from("/run/wd/restart-fpm+production+web1.lock")
        );
        let p = lock_path(dir, "../../etc", "a/b", "primary→replica");
        assert_eq!(p.parent(), Some(dir));
        let name = p.file_name().unwrap().to_str().unwrap();
        assert_eq!(name, "..%2F..%2Fetc+a%2Fb+primary%E2%86%92replica.lock");
        // `+` inside a part is encoded, so parts cannot be shifted between positions.
        assert_ne!(
            lock_path(dir, "a+b", "c", "d"),
            lock_path(dir, "a", "b+c", "d")
        );
    }

    #[test]
    fn long_names_are_shortened_uniquely() {
        let dir = Path::new("/run/wd");
        let long_a = "x".repeat(300);
        let long_b = format!("{}y", "x".repeat(299));
        let a = lock_path(dir, &long_a, "e", "t");
        let b = lock_path(dir, &long_b, "e", "t");
        assert_ne!(a, b);
        assert!(a.file_name().unwrap().len() <= MAX_NAME_BYTES + 5);
    }

    #[test]
    fn two_opens_in_one_process_conflict_and_release_frees() {
        let dir = tempfile::tempdir().unwrap();
        let path = lock_path(dir.path(), "rb", "env", "t");
        let held = acquire(&path, &owner("r1")).unwrap();
        match acquire(&path, &owner("r2")) {
            Err(LockError::Held { owner: Some(o), .. }) => assert_eq!(o.run.0, "r1"),
            other => panic!("expected Held, got {other:?}"),
        }
        assert_eq!(status(&path).unwrap(), LockStatus::Held(Some(owner("r1"))));
        drop(held);
        assert_eq!(status(&path).unwrap(), LockStatus::Free);
        assert_eq!(fs::read_to_string(&path).unwrap(), "");
        acquire(&path, &owner("r3")).unwrap();
    }

    #[test]
    fn held_message_names_user_pid_host_and_time() {
        let e = LockError::Held {
            owner: Some(owner("r1")),
            path: PathBuf::from("/x"),
        };
        let pid = std::process::id();
        assert_eq!(
            e.to_string(),
            format!("already running by alice (pid {pid} on bastion1) since 2026-09-21T14:13:20Z")
        );
    }

    #[test]
    fn missing_file_is_free() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            status(&dir.path().join("nope.lock")).unwrap(),
            LockStatus::Free
        );
    }
}
