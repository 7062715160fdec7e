//! The demo Alertmanager's silences, as Alertmanager 0.25 keeps them: `GET
//! /api/v2/silences` lists them (expired ones too), `POST /api/v2/silences` creates one,
//! `DELETE /api/v2/silence/{id}` expires one, and an active silence whose matchers match
//! an alert's labels suppresses it.
//!
//! Every environment with an Alertmanager starts with one standing silence (the
//! dead-letter queue alert, silenced by another team); silences an operator creates live
//! in the demo's interventions. Validation answers the way Alertmanager does: a 400 with a
//! JSON string naming what is wrong, a 500 for an unknown or already expired id.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::noise::{hex, key};

/// A silence matcher as the v2 API carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Matcher {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub is_regex: bool,
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

impl Matcher {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let v = labels.get(&self.name).map_or("", String::as_str);
        let hit = if self.is_regex {
            regex::Regex::new(&format!("^(?:{})$", self.value)).is_ok_and(|re| re.is_match(v))
        } else {
            v == self.value
        };
        hit == self.is_equal
    }

    fn matches_empty(&self) -> bool {
        self.matches(&BTreeMap::new())
    }
}

/// One silence in one environment's Alertmanager.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoSilence {
    pub env: String,
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    pub created_by: String,
    pub comment: String,
    pub updated: DateTime<Utc>,
}

impl DemoSilence {
    fn state(&self, now: DateTime<Utc>) -> &'static str {
        if now >= self.ends {
            "expired"
        } else if now < self.starts {
            "pending"
        } else {
            "active"
        }
    }

    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.state(now) == "active"
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matchers.iter().all(|m| m.matches(labels))
    }
}

/// An id shaped like Alertmanager's (a UUID), derived from the seed so runs repeat.
pub fn uuid(seed: u64, identity: &str) -> String {
    let h = hex(key(seed, identity), 32);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The environment's standing silence: the dead-letter queue alert another team owns.
pub fn standing(seed: u64, env: &str, start: DateTime<Utc>) -> DemoSilence {
    DemoSilence {
        env: env.to_owned(),
        id: uuid(seed, &format!("{env}/silence")),
        matchers: vec![
            Matcher {
                name: "alertname".into(),
                value: "DeadLetterQueueNotEmpty".into(),
                is_regex: false,
                is_equal: true,
            },
            Matcher {
                name: "queue".into(),
                value: "ai_schedule_generation".into(),
                is_regex: false,
                is_equal: true,
            },
        ],
        starts: start - TimeDelta::days(1),
        ends: start + TimeDelta::days(30),
        created_by: "ai-team".into(),
        comment: "poison messages; fix ships with the next model release (AI-311)".into(),
        updated: start - TimeDelta::days(1),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Gettable<'a> {
    id: &'a str,
    status: Status,
    updated_at: String,
    comment: &'a str,
    created_by: &'a str,
    ends_at: String,
    matchers: &'a [Matcher],
    starts_at: String,
}

#[derive(Serialize)]
struct Status {
    state: &'static str,
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The body of `GET /api/v2/silences` for these silences.
pub fn list_json(silences: &[&DemoSilence], now: DateTime<Utc>) -> String {
    let list: Vec<Gettable<'_>> = silences
        .iter()
        .map(|s| Gettable {
            id: &s.id,
            status: Status {
                state: s.state(now),
            },
            updated_at: ts(s.updated),
            comment: &s.comment,
            created_by: &s.created_by,
            ends_at: ts(s.ends),
            matchers: &s.matchers,
            starts_at: ts(s.starts),
        })
        .collect();
    serde_json::to_string(&list).unwrap_or_else(|_| "[]".to_owned())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Postable {
    #[serde(default)]
    id: Option<String>,
    matchers: Vec<Matcher>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    created_by: String,
    comment: String,
}

/// Why a request was refused: the status and Alertmanager's message.
pub type Refusal = (u16, String);

/// Validate a `POST /api/v2/silences` body into a new silence.
pub fn create(
    seed: u64,
    env: &str,
    body: &[u8],
    now: DateTime<Utc>,
    serial: usize,
) -> Result<DemoSilence, Refusal> {
    let p: Postable = serde_json::from_slice(body).map_err(|e| (400, e.to_string()))?;
    if p.id.is_some() {
        return Err((404, "silence not found".into()));
    }
    let invalid = |m: &str| (400, format!("silence invalid: {m}"));
    if p.matchers.is_empty() {
        return Err(invalid("at least one matcher required"));
    }
    if p.matchers.iter().all(Matcher::matches_empty) {
        return Err(invalid(
            "at least one matcher must not match the empty string",
        ));
    }
    if p.ends_at <= p.starts_at {
        return Err(invalid("end time must not be before start time"));
    }
    if p.ends_at <= now {
        return Err(invalid("end time can't be in the past"));
    }
    if p.created_by.trim().is_empty() {
        return Err(invalid("creator information missing"));
    }
    if p.comment.trim().is_empty() {
        return Err(invalid("comment missing"));
    }
    Ok(DemoSilence {
        env: env.to_owned(),
        id: uuid(seed, &format!("{env}/created/{serial}")),
        matchers: p.matchers,
        starts: p.starts_at.max(now),
        ends: p.ends_at,
        created_by: p.created_by,
        comment: p.comment,
        updated: now,
    })
}

/// Expire `id` (Alertmanager sets its end to now).
pub fn expire(s: &mut DemoSilence, now: DateTime<Utc>) -> Result<(), Refusal> {
    if s.state(now) == "expired" {
        return Err((500, format!("silence {} already expired", s.id)));
    }
    s.ends = now;
    s.updated = now;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn validates_like_alertmanager() {
        let ok = br#"{"matchers":[{"name":"alertname","value":"X","isRegex":false,"isEqual":true}],
            "startsAt":"2027-01-15T08:00:00Z","endsAt":"2027-01-15T10:00:00Z","createdBy":"a","comment":"c"}"#;
        let s = create(1, "prod", ok, now(), 0).unwrap();
        assert!(s.is_active(now()));
        let labels = BTreeMap::from([("alertname".to_owned(), "X".to_owned())]);
        assert!(s.matches(&labels));
        let empty = br#"{"matchers":[{"name":"a","value":".*","isRegex":true}],
            "startsAt":"2027-01-15T08:00:00Z","endsAt":"2027-01-15T10:00:00Z","createdBy":"a","comment":"c"}"#;
        assert_eq!(create(1, "prod", empty, now(), 0).unwrap_err().0, 400);
        let no_comment = br#"{"matchers":[{"name":"a","value":"b"}],
            "startsAt":"2027-01-15T08:00:00Z","endsAt":"2027-01-15T10:00:00Z","createdBy":"a","comment":" "}"#;
        assert!(
            create(1, "prod", no_comment, now(), 0)
                .unwrap_err()
                .1
                .contains("comment")
        );
        let mut s = s;
        expire(&mut s, now()).unwrap();
        assert!(!s.is_active(now()));
        assert_eq!(expire(&mut s, now()).unwrap_err().0, 500);
    }
}
