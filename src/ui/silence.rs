//! The silence action: from an alert (Alerts tab) or an incident an external alert
//! opened (Incidents tab), open the confirmation dialog for a new Alertmanager silence —
//! matchers from the alert's labels, a duration and a required comment, authored by
//! `$USER`; from a silence row, the dialog that expires it.
//!
//! Both are built-in runbook actions ([`crate::runbook::silence`]): the same dialog
//! (Cancel focused, tier badge, exactly what will be sent), the same runner, audit log and
//! incident timeline, and the same refusal in read-only mode.

use std::collections::BTreeMap;

use chrono::Utc;

use super::alerts::{self, Row};
use super::app::{App, Mode, StatusKind, Tab};
use super::run_dialog::{BuiltinDialog, RunDialog};
use crate::config::settings::{SourceKind, SourceSpec, Tier};
use crate::incident::{Incident, IncidentId};
use crate::rules::eval::EXTERNAL_ALERT_RULE;
use crate::runbook::silence::{self, Builtin};
use crate::runbook::{Target, TargetKind};
use crate::store::model::{Alert, Silence};

impl App {
    /// The silence key on the selected row.
    pub fn start_silence(&mut self) {
        if self.read_only {
            self.set_status("read-only mode: silences are disabled", StatusKind::Error);
            return;
        }
        let dialog = match self.tab {
            Tab::Alerts => match self.selected_record().and_then(|i| alerts::row(self, i)) {
                Some(Row::Alert(a)) => self.silence_dialog(a, None),
                Some(Row::Silence(s)) => self.expire_dialog(s),
                None => Err("no alert selected".to_owned()),
            },
            Tab::Incidents => self.incident_silence_dialog(),
            _ => Err(
                "silences are made from an alert (Alerts tab, 6) or an incident an alert opened"
                    .to_owned(),
            ),
        };
        match dialog {
            Ok(d) => self.mode = Mode::RunDialog(Box::new(d)),
            Err(why) => self.set_status(why, StatusKind::Error),
        }
    }

    fn incident_silence_dialog(&self) -> Result<RunDialog, String> {
        let id = self
            .selected_incident()
            .ok_or_else(|| "no incident selected".to_owned())?;
        let incident = self
            .situation
            .incident(id)
            .ok_or_else(|| "no incident selected".to_owned())?;
        if incident.rule != EXTERNAL_ALERT_RULE {
            return Err(format!(
                "{id} comes from watchdeck's own rule {}, not from Alertmanager: nothing to silence",
                incident.rule
            ));
        }
        let alert = self
            .alert_of(incident)
            .ok_or_else(|| format!("{id}: its alert is no longer listed by Alertmanager"))?;
        self.silence_dialog(alert, Some(id))
    }

    /// The alert an external-alert incident stands for: same source, same name, and every
    /// label of the alert among the incident's.
    fn alert_of(&self, incident: &Incident) -> Option<&Alert> {
        let name = incident.labels.get("alertname")?;
        self.fleet().alerts.iter().find(|a| {
            incident.sources.contains(&a.source)
                && &a.name == name
                && a.labels
                    .iter()
                    .all(|(k, v)| incident.labels.get(k) == Some(v))
        })
    }

    /// The Alertmanager a silence goes to: the source the alert came from.
    fn alertmanager(
        &self,
        source: crate::config::settings::SourceId,
    ) -> Result<&SourceSpec, String> {
        let spec = self
            .alertmanagers
            .iter()
            .find(|s| s.id == source)
            .ok_or_else(|| {
                let what = self
                    .fleet()
                    .source(source)
                    .map_or_else(|| "this source".to_owned(), |s| s.name.clone());
                format!("{what} is not an Alertmanager: silences are made in Alertmanager")
            })?;
        if !matches!(spec.kind, SourceKind::Alertmanager) {
            return Err(format!("{} is not an Alertmanager", spec.name));
        }
        Ok(spec)
    }

    fn tier_for(&self, env: &str) -> Tier {
        self.tier_of(env).unwrap_or(Tier::Production)
    }

    fn silence_dialog(&self, a: &Alert, incident: Option<IncidentId>) -> Result<RunDialog, String> {
        let am = self.alertmanager(a.source)?;
        if !a.silenced_by.is_empty() {
            return Err(format!(
                "{} is already silenced by {}",
                a.name,
                a.silenced_by.join(", ")
            ));
        }
        let target = alert_target(am, &a.name);
        let tier = self.tier_for(&am.environment);
        let comment = incident.map_or_else(String::new, |id| format!("{id}: "));
        let b = BuiltinDialog {
            builtin: Builtin::Silence,
            alertmanager: am.clone(),
            description: format!(
                "Silence {} in Alertmanager {} ({}); its notifications stop until the silence ends or is expired",
                a.name, am.name, am.url
            ),
            target,
            tier,
            incident,
            fields: vec![
                (
                    silence::MATCHERS,
                    "name=\"value\", name=~\"regex\", != and !~ too".to_owned(),
                    silence::matchers_for(&a.labels, &a.name),
                ),
                (
                    silence::DURATION,
                    "how long: 30m, 2h, 1d".to_owned(),
                    silence::DEFAULT_DURATION.to_owned(),
                ),
                (
                    silence::COMMENT,
                    "required: why, and the incident or ticket".to_owned(),
                    comment,
                ),
            ],
            fixed: BTreeMap::new(),
        };
        let now = self.fleet().taken_at.unwrap_or_else(Utc::now);
        Ok(RunDialog::builtin(b, &self.user, now))
    }

    fn expire_dialog(&self, s: &Silence) -> Result<RunDialog, String> {
        let am = self.alertmanager(s.source)?;
        let mut target = alert_target(am, &format!("silence {}", s.id));
        target
            .values
            .insert("matchers".to_owned(), s.matchers_text());
        let b = BuiltinDialog {
            builtin: Builtin::Expire,
            alertmanager: am.clone(),
            description: format!(
                "Expire the silence {} ({}), created by {}: \"{}\". The alerts it silences notify again.",
                s.id,
                s.matchers_text(),
                s.created_by,
                s.comment
            ),
            target,
            tier: self.tier_for(&am.environment),
            incident: None,
            fields: Vec::new(),
            fixed: BTreeMap::from([(silence::SILENCE_ID.to_owned(), s.id.clone())]),
        };
        let now = self.fleet().taken_at.unwrap_or_else(Utc::now);
        Ok(RunDialog::builtin(b, &self.user, now))
    }
}

/// The target a silence action names: the alert (or silence), in the Alertmanager's
/// environment; `alertmanager` names the source so the run loop finds it again.
fn alert_target(am: &SourceSpec, name: &str) -> Target {
    Target {
        kind: TargetKind::Alert,
        environment: am.environment.clone(),
        name: name.to_owned(),
        values: BTreeMap::from([("alertmanager".to_owned(), am.name.clone())]),
    }
}
