//! Running an [`ExecInvocation`]: a child process started directly (never through a
//! shell) in a process group of its own, its output streamed, under a timeout and a cancel
//! that reach the whole group.
//!
//! It owns the process-group discipline. Stopping a run sends SIGTERM to the group, then
//! SIGKILL to the group if anything in it outlives the grace period: a child that ignores
//! SIGTERM, or a grandchild that does, still dies. The leader exiting does not end the run
//! while the group lives on (a backgrounded grandchild), and a grandchild holding the
//! output pipes cannot make the run outlast its timeout. If the task running this is
//! dropped mid-run (the console quits), the group is killed.
//!
//! Orphaned members of the group are reparented to the nearest subreaper, else PID 1. Not
//! every PID 1 reaps (containers, some CI sandboxes), and an unreaped zombie keeps its
//! process group in existence, so [`become_subreaper`] makes this process the one they go
//! to, and they are reaped here (with `waitpid(-pgid)`, only after the leader has been
//! waited for by tokio, so the two never compete for the same child). A process that left
//! the group (`setsid`, a daemon) is not ours to wait for; it would only ever be a zombie
//! of this process once it exits.

use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::sync::watch;
use tokio::time::Instant;

use super::invocation::{ExecInvocation, OutputStream, Termination};
use super::runner::OutputSink;

/// How often the group is checked once the leader has exited.
const GROUP_POLL: Duration = Duration::from_millis(50);

/// How long output pipes are still read after the whole group is gone: a process that
/// left the group may hold them open forever.
const PIPE_DRAIN: Duration = Duration::from_millis(500);

/// After SIGKILL, how long to wait for the group to go (a process stuck in the kernel
/// cannot die until it leaves it) before the run is reported anyway.
const AFTER_KILL: Duration = Duration::from_secs(5);

/// Make this process the reaper of its descendants' orphans (Linux; elsewhere PID 1
/// reaps). Idempotent; a failure is logged and leaves draining to PID 1.
pub fn become_subreaper() {
    #[cfg(target_os = "linux")]
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        tracing::warn!(error = %e, "cannot become child subreaper; orphaned run processes are left to PID 1");
    }
}

/// Why the run is being stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Timeout,
    Cancel,
}

/// Kills the group if the run is dropped before the group was seen gone.
struct GroupGuard {
    pgid: Pid,
    armed: bool,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = killpg(self.pgid, Signal::SIGKILL);
        }
    }
}

/// Run `inv`, streaming its output into `out`, until it and its process group have ended,
/// or `timeout` has passed, or `cancel` turns true.
pub(crate) async fn run(
    inv: &ExecInvocation,
    timeout: Duration,
    kill_grace: Duration,
    cancel: &mut watch::Receiver<bool>,
    out: &mut OutputSink,
) -> Termination {
    let Some(program) = inv.argv.first() else {
        return Termination::Failed {
            reason: "nothing to run: the command is empty".to_owned(),
        };
    };
    if *cancel.borrow() {
        return Termination::Cancelled { killed: false };
    }
    let mut cmd = Command::new(program);
    cmd.args(&inv.argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    for (k, v) in &inv.env {
        cmd.env(k, v);
    }
    for (k, secret) in &inv.secret_env {
        // The one place a secret leaves the process: the child's environment.
        cmd.env(k, secret.expose());
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Termination::Failed {
                reason: format!("cannot start {program}: {e}"),
            };
        }
    };
    // `id` is only None once the child has been waited for, which has not happened yet.
    let Some(pgid) = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw)
    else {
        return Termination::Failed {
            reason: "the child has no process id".to_owned(),
        };
    };
    let mut guard = GroupGuard { pgid, armed: true };
    tracing::debug!(pgid = pgid.as_raw(), program = %program, "runbook child started");

    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let mut out_buf = vec![0u8; 8192];
    let mut err_buf = vec![0u8; 8192];
    let mut cancel_live = true;

    let mut status: Option<ExitStatus> = None;
    let mut stop: Option<Stop> = None;
    let mut killed = false;
    let mut group_gone = false;
    // The next thing to happen if nothing else does: the timeout, then the end of the
    // grace period, then giving up on a group that SIGKILL did not clear.
    let mut alarm = after(timeout);
    let mut drain_until: Option<Instant> = None;
    let mut wait_error: Option<String> = None;

    loop {
        let pipes_open = stdout.is_some() || stderr.is_some();
        if status.is_some() && group_gone {
            if !pipes_open {
                break;
            }
            let until = *drain_until.get_or_insert_with(|| Instant::now() + PIPE_DRAIN);
            if Instant::now() >= until {
                out.note("output is still held open by a process outside the run's process group; no longer reading it").await;
                break;
            }
        }
        let drain_deadline = drain_until.unwrap_or_else(|| Instant::now() + GROUP_POLL);
        tokio::select! {
            r = read_some(&mut stdout, &mut out_buf) => match r {
                Some(n) => out.push(OutputStream::Stdout, &out_buf[..n]).await,
                None => {
                    stdout = None;
                    out.close(OutputStream::Stdout).await;
                }
            },
            r = read_some(&mut stderr, &mut err_buf) => match r {
                Some(n) => out.push(OutputStream::Stderr, &err_buf[..n]).await,
                None => {
                    stderr = None;
                    out.close(OutputStream::Stderr).await;
                }
            },
            r = child.wait(), if status.is_none() && wait_error.is_none() => match r {
                Ok(s) => {
                    status = Some(s);
                    group_gone = !group_alive(pgid, true);
                }
                Err(e) => {
                    // Cannot happen short of a kernel surprise; stop the group so the run
                    // still ends, and say why.
                    wait_error = Some(e.to_string());
                    let _ = killpg(pgid, Signal::SIGKILL);
                    killed = true;
                    break;
                }
            },
            _ = tokio::time::sleep(GROUP_POLL), if status.is_some() && !group_gone => {
                group_gone = !group_alive(pgid, true);
            }
            _ = tokio::time::sleep_until(drain_deadline), if drain_until.is_some() => {}
            r = cancel.changed(), if cancel_live && stop.is_none() && !group_gone => match r {
                Ok(()) if *cancel.borrow() => {
                    stop = Some(Stop::Cancel);
                    alarm = after(kill_grace);
                    terminate(pgid, out, "cancelled").await;
                }
                Ok(()) => {}
                // The handle is gone: nobody can cancel any more.
                Err(_) => cancel_live = false,
            },
            _ = tokio::time::sleep_until(alarm), if !group_gone => {
                if stop.is_none() {
                    stop = Some(Stop::Timeout);
                    alarm = after(kill_grace);
                    let why = format!("timed out after {}", humantime::format_duration(timeout));
                    terminate(pgid, out, &why).await;
                } else if !killed {
                    // Reap first: a leader that died of SIGTERM is a zombie until waited
                    // for, and a zombie still counts as a member of the group.
                    if status.is_none()
                        && let Ok(Some(s)) = child.try_wait()
                    {
                        status = Some(s);
                    }
                    if group_alive(pgid, status.is_some()) {
                        out.note(&format!(
                            "still running {} after SIGTERM: sending SIGKILL to process group {}",
                            humantime::format_duration(kill_grace),
                            pgid
                        ))
                        .await;
                        let _ = killpg(pgid, Signal::SIGKILL);
                        killed = true;
                        alarm = after(AFTER_KILL);
                    } else {
                        group_gone = status.is_some();
                    }
                } else {
                    out.note(&format!(
                        "process group {pgid} did not go away after SIGKILL; no longer waiting for it"
                    ))
                    .await;
                    break;
                }
            }
        }
    }
    if group_gone {
        guard.armed = false;
    }
    drop(stdout);
    drop(stderr);
    out.close(OutputStream::Stdout).await;
    out.close(OutputStream::Stderr).await;

    match (stop, status, wait_error) {
        (Some(Stop::Timeout), _, _) => Termination::TimedOut { killed },
        (Some(Stop::Cancel), _, _) => Termination::Cancelled { killed },
        (None, _, Some(e)) => Termination::Failed {
            reason: format!("lost track of the child: {e}"),
        },
        (None, Some(s), None) => match (s.code(), s.signal()) {
            (Some(code), _) => Termination::Exited { code },
            (None, Some(signal)) => Termination::Signalled { signal },
            (None, None) => Termination::Failed {
                reason: format!("ended with an unknown status: {s}"),
            },
        },
        (None, None, None) => Termination::Failed {
            reason: "ended without an exit status".to_owned(),
        },
    }
}

/// `d` from now; a duration too long to add is as good as forever.
pub(crate) fn after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// SIGTERM to the whole group, said in the output.
async fn terminate(pgid: Pid, out: &mut OutputSink, why: &str) {
    out.note(&format!("{why}: sending SIGTERM to process group {pgid}"))
        .await;
    match killpg(pgid, Signal::SIGTERM) {
        Ok(()) | Err(Errno::ESRCH) => {}
        Err(e) => {
            tracing::warn!(pgid = pgid.as_raw(), error = %e, "SIGTERM to run's process group failed")
        }
    }
}

/// Some bytes from a pipe; `None` at its end (or on a read error, which ends it too). A
/// pipe already closed never resolves, so `select!` just waits on the others.
async fn read_some<R: AsyncRead + Unpin>(pipe: &mut Option<R>, buf: &mut [u8]) -> Option<usize> {
    match pipe {
        Some(p) => match p.read(buf).await {
            Ok(0) | Err(_) => None,
            Ok(n) => Some(n),
        },
        None => std::future::pending().await,
    }
}

/// Anything left in the group, zombies included. Once the leader has been waited for,
/// orphans are reaped first (ours, as subreaper), so a group of dead processes reads as
/// gone; before that, reaping could take the leader from under tokio.
fn group_alive(pgid: Pid, leader_reaped: bool) -> bool {
    if leader_reaped {
        reap_orphans(pgid);
    }
    match killpg(pgid, None) {
        Ok(()) => true,
        // EPERM: a member exists but is not ours to signal (it changed user).
        Err(e) => e == Errno::EPERM,
    }
}

/// Wait for any exited member of the group that was reparented to this process. Only
/// called after the leader itself has been waited for.
fn reap_orphans(pgid: Pid) {
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    loop {
        match waitpid(Pid::from_raw(-pgid.as_raw()), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => return,
            Ok(_) => {}
        }
    }
}
