//! Runbook actions: what an engineer can run from the console, and running it safely.
//!
//! The layer is split so that nothing unresolved can reach execution:
//! - [`spec`]: a runbook as configured (validated at load: no shell `-c`, typed
//!   parameters, known placeholders, confirmation level);
//! - [`template`]: turns a spec, a target and parameter values into an [`Invocation`] —
//!   every placeholder substituted inside one argv element or one JSON string, never
//!   able to become a second argument or a command;
//! - [`runner`]: takes a [`RunRequest`] (a resolved invocation plus who, where and why),
//!   takes the lock, writes the audit intent, runs it in its own task (and, for `exec`,
//!   its own process group) under a timeout, streams [`RunEvent`]s back, writes the
//!   outcome; [`exec`], [`http`], [`lock`] and [`audit`] are its parts;
//! - [`silence`]: Alertmanager silences, built in, sent through the same runner.
//!
//! The UI never runs anything itself: it builds a request, shows it for confirmation and
//! hands it to the runner through the run loop; events come back as timestamped messages.

pub mod audit;
pub mod exec;
pub mod http;
pub mod invocation;
pub mod lock;
pub mod runner;
pub mod silence;
pub mod spec;
pub mod template;

pub use invocation::{
    ExecInvocation, HttpInvocation, Invocation, Outcome, OutputStream, Phase, RunEvent, RunId,
    RunRequest, Target, TargetKind, Termination,
};
