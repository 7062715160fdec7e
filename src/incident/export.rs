//! Markdown export of one incident: the starting point for a postmortem.
//!
//! Plain CommonMark with pipe tables, all times UTC in RFC 3339, so it pastes into a wiki
//! or a ticket unchanged. Text that came from the network (summaries, labels) is escaped
//! for table cells; it was sanitized of control characters before it got here.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

use super::model::{Incident, Lifecycle, TimelineKind};

/// RFC 3339, whole seconds, `Z`.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `3d 4h`, `1h 5m`, `4m 10s`, `12s`: two units are enough to read at a glance.
pub fn human_duration(d: chrono::Duration) -> String {
    let secs = d.num_seconds().max(0);
    let (days, hours, mins, s) = (
        secs / 86_400,
        secs % 86_400 / 3_600,
        secs % 3_600 / 60,
        secs % 60,
    );
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {mins}m")
    } else if mins > 0 {
        format!("{mins}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// Make text safe inside a table cell: one line, no column breaks.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// Render `incident` as of `now` (used for durations and deadlines of open incidents).
pub fn export_markdown(incident: &Incident, now: DateTime<Utc>) -> String {
    // `write!` into a String cannot fail; the results are ignored for that reason.
    let mut md = String::new();
    let i = incident;
    let sev = i.severity;
    let title = i.summary.replace(['\n', '\r'], " ");
    let _ = writeln!(md, "# {}: {}\n", i.id, title.trim());
    let _ = writeln!(
        md,
        "**{} {} ({})** · {} · {} ({})\n",
        sev.glyph(),
        sev.label(),
        sev.meaning(),
        i.display_state().as_str(),
        i.environment,
        i.tier
    );

    let worst = i
        .timeline
        .iter()
        .filter_map(|e| match &e.kind {
            TimelineKind::Opened { severity } | TimelineKind::Reopened { severity } => {
                Some(*severity)
            }
            TimelineKind::SeverityChanged { to, .. } => Some(*to),
            _ => None,
        })
        .chain([sev])
        .min()
        .unwrap_or(sev);

    let deadline = if i.breached(now) {
        format!("{} (breached)", rfc3339(i.deadline))
    } else if let Some(left) = i.remaining(now) {
        format!("{} ({} left)", rfc3339(i.deadline), human_duration(left))
    } else {
        format!("{} (met)", rfc3339(i.deadline))
    };
    let ack = match &i.ack {
        Some(a) => {
            let mut s = format!("{} at {}", cell(&a.by), rfc3339(a.at));
            if let Some(note) = &a.note {
                let _ = write!(s, ": {}", cell(note));
            }
            s
        }
        None => "not acknowledged".to_owned(),
    };
    let (resolved, duration) = match (i.lifecycle, i.resolved_at) {
        (Lifecycle::Resolved, Some(r)) => (rfc3339(r), human_duration(i.duration(now))),
        _ => (
            "not resolved".to_owned(),
            format!("{} so far", human_duration(i.duration(now))),
        ),
    };
    let labels = if i.labels.is_empty() {
        "none".to_owned()
    } else {
        i.labels
            .iter()
            .map(|(k, v)| format!("`{}={}`", cell(k), cell(v)))
            .collect::<Vec<_>>()
            .join(", ")
    };

    let _ = writeln!(md, "| Field | Value |\n|---|---|");
    let rows: [(&str, String); 14] = [
        ("Incident", i.id.to_string()),
        ("Rule", format!("`{}`", cell(&i.rule))),
        ("Key", format!("`{}`", cell(&i.key))),
        (
            "Environment",
            format!("{} ({})", cell(&i.environment), i.tier),
        ),
        (
            "Severity",
            format!(
                "{} ({}); worst {}",
                sev.label(),
                sev.meaning(),
                worst.label()
            ),
        ),
        ("State", i.display_state().as_str().to_owned()),
        ("Condition since", rfc3339(i.condition_since)),
        ("Opened", rfc3339(i.opened_at)),
        ("Response deadline", deadline),
        ("Acknowledged", ack),
        ("Resolved", resolved),
        ("Duration", duration),
        ("Last value", format!("{}", i.value)),
        ("Labels", labels),
    ];
    for (name, value) in rows {
        let _ = writeln!(md, "| {name} | {value} |");
    }

    let _ = writeln!(md, "\n## Summary\n\n{}\n", i.summary.trim());

    let _ = writeln!(
        md,
        "## Severity history\n\n| Time (UTC) | Severity |\n|---|---|"
    );
    for e in &i.timeline {
        let text = match &e.kind {
            TimelineKind::Opened { severity } => format!("{} (opened)", severity.label()),
            TimelineKind::Reopened { severity } => format!("{} (reopened)", severity.label()),
            TimelineKind::SeverityChanged { from, to } => {
                format!("{} → {}", from.label(), to.label())
            }
            _ => continue,
        };
        let _ = writeln!(md, "| {} | {text} |", rfc3339(e.at));
    }

    let _ = writeln!(md, "\n## Timeline\n\n| Time (UTC) | Event |\n|---|---|");
    for e in &i.timeline {
        let _ = writeln!(md, "| {} | {} |", rfc3339(e.at), cell(&e.kind.describe()));
    }

    let _ = writeln!(md, "\n## Runbooks\n");
    if i.runbooks.is_empty() {
        let _ = writeln!(md, "Linked: none\n");
    } else {
        let linked: Vec<String> = i.runbooks.iter().map(|r| format!("`{r}`")).collect();
        let _ = writeln!(md, "Linked: {}\n", linked.join(", "));
    }
    let runs: Vec<String> = i
        .timeline
        .iter()
        .filter_map(|e| match &e.kind {
            TimelineKind::RunbookRun { name, outcome } => {
                Some(format!("- {} `{name}`: {outcome}", rfc3339(e.at)))
            }
            _ => None,
        })
        .collect();
    if runs.is_empty() {
        let _ = writeln!(md, "Run during the incident: none recorded");
    } else {
        let _ = writeln!(md, "Run during the incident:\n\n{}", runs.join("\n"));
    }

    let _ = write!(
        md,
        "\n## Postmortem\n\n### Impact\n\n_To be written._\n\n### Root cause\n\n_To be written._\n\n### Action items\n\n- [ ] _To be written._\n"
    );
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_two_units() {
        let d = chrono::Duration::seconds;
        assert_eq!(human_duration(d(12)), "12s");
        assert_eq!(human_duration(d(250)), "4m 10s");
        assert_eq!(human_duration(d(3_900)), "1h 5m");
        assert_eq!(human_duration(d(3 * 86_400 + 4 * 3_600 + 7)), "3d 4h");
        assert_eq!(human_duration(d(-5)), "0s");
    }

    #[test]
    fn cells_cannot_break_tables() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
