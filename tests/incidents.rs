//! The incident lifecycle end to end, on a fake clock: plain `DateTime`s advanced by hand.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::Write;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use watchdeck::config::settings::{SourceId, Tier};
use watchdeck::incident::{
    Change, DisplayState, Hit, IncidentConfig, IncidentError, IncidentId, Incidents, Lifecycle,
    RuleRound, RuleTiming, Severity, TimelineKind, export_markdown,
};

const RULE: &str = "disk_full";

/// `secs` seconds after a fixed start.
fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_795_300_000 + secs, 0)
        .single()
        .expect("valid time")
}

fn min(m: i64) -> DateTime<Utc> {
    at(m * 60)
}

fn mins(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

fn timing(for_min: u64, clear_min: u64) -> RuleTiming {
    RuleTiming {
        for_: mins(for_min),
        clear_for: mins(clear_min),
    }
}

/// Source 7 backs every test hit.
const SRC: SourceId = SourceId(7);

fn hit(key: &str, severity: Severity) -> Hit {
    Hit {
        key: key.to_owned(),
        environment: "prod".to_owned(),
        tier: Tier::Production,
        severity,
        value: 93.5,
        summary: format!("disk {key} is 93.5% full"),
        labels: BTreeMap::from([("mount".to_owned(), key.to_owned())]),
        sources: vec![SRC],
        stale: false,
    }
}

fn round(timing: RuleTiming, hits: Vec<Hit>, holding: &[&str]) -> RuleRound {
    RuleRound {
        rule: RULE.to_owned(),
        timing,
        runbooks: vec!["clean-disk".to_owned()],
        hits,
        holding: holding.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// What a round says about the key under test.
#[derive(Debug, Clone, Copy)]
enum Obs {
    /// A fresh hit at this severity.
    H(Severity),
    /// A hit whose data is stale.
    StaleHit,
    /// In `holding` (hysteresis band).
    Hold,
    /// Absent, data fresh.
    A,
    /// Absent, and its source is stale.
    X,
    /// In `holding`, and its source is stale.
    HoldX,
}
use Obs::*;
use Severity::{Sev1, Sev2, Sev3};

fn observe(
    incidents: &mut Incidents,
    timing: RuleTiming,
    key: &str,
    obs: Obs,
    now: DateTime<Utc>,
) -> Vec<Change> {
    let mut stale = HashSet::new();
    let r = match obs {
        H(sev) => round(timing, vec![hit(key, sev)], &[]),
        StaleHit => {
            let mut h = hit(key, Sev2);
            h.stale = true;
            round(timing, vec![h], &[])
        }
        Hold => round(timing, vec![], &[key]),
        A => round(timing, vec![], &[]),
        X => {
            stale.insert(SRC);
            round(timing, vec![], &[])
        }
        HoldX => {
            stale.insert(SRC);
            round(timing, vec![], &[key])
        }
    };
    incidents.evaluate(&[r], &stale, now)
}

/// One word for the key's state: the active incident, else the pending condition, else
/// the last resolved incident, else `-`.
fn describe(incidents: &Incidents, key: &str) -> String {
    let latest = incidents
        .incidents()
        .filter(|i| i.key == key)
        .max_by_key(|i| i.id);
    match latest {
        Some(i) if i.lifecycle != Lifecycle::Resolved => {
            format!("{} {} {}", i.id, i.display_state(), i.severity)
        }
        _ if incidents.pending().any(|p| p.key == key) => "pending".to_owned(),
        Some(i) => format!("{} resolved", i.id),
        None => "-".to_owned(),
    }
}

fn change_names(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| {
            let name = match c {
                Change::Opened(_) => "opened",
                Change::Escalated { .. } => "escalated",
                Change::Deescalated { .. } => "deescalated",
                Change::Resolved(_) => "resolved",
                Change::Reopened(_) => "reopened",
                Change::BecameUnknown(_) => "unknown",
                Change::DataBack(_) => "data_back",
                Change::FlappingStarted(_) => "flapping",
                Change::FlappingStopped(_) => "steady",
            };
            format!("{name} {}", c.id())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

struct Scenario {
    name: &'static str,
    timing: RuleTiming,
    /// (minute, observation, expected state, expected changes)
    steps: &'static [(i64, Obs, &'static str, &'static str)],
}

fn run(scenarios: &[Scenario]) {
    for s in scenarios {
        let mut incidents = Incidents::new(IncidentConfig::default());
        for &(m, obs, state, changes) in s.steps {
            let got = observe(&mut incidents, s.timing, "/var", obs, min(m));
            assert_eq!(
                (
                    describe(&incidents, "/var").as_str(),
                    change_names(&got).as_str()
                ),
                (state, changes),
                "scenario {:?}, minute {m}, {obs:?}",
                s.name
            );
        }
    }
}

#[test]
fn for_holds_pending_until_it_fires() {
    run(&[
        Scenario {
            name: "held for `for` opens",
            timing: timing(5, 0),
            steps: &[
                (0, H(Sev2), "pending", ""),
                (2, H(Sev2), "pending", ""),
                (4, H(Sev2), "pending", ""),
                (5, H(Sev2), "INC-0001 open SEV2", "opened INC-0001"),
                (6, H(Sev2), "INC-0001 open SEV2", ""),
            ],
        },
        Scenario {
            name: "gone early is dropped without an ID",
            timing: timing(5, 0),
            steps: &[
                (0, H(Sev2), "pending", ""),
                (3, A, "-", ""),
                (4, H(Sev2), "pending", ""),
                (8, H(Sev2), "pending", ""),
                (9, H(Sev2), "INC-0001 open SEV2", "opened INC-0001"),
            ],
        },
        Scenario {
            name: "holding does not keep a pending condition",
            timing: timing(5, 0),
            steps: &[(0, H(Sev2), "pending", ""), (1, Hold, "-", "")],
        },
        Scenario {
            name: "for = 0 opens at once",
            timing: timing(0, 0),
            steps: &[(0, H(Sev1), "INC-0001 open SEV1", "opened INC-0001")],
        },
    ]);
}

#[test]
fn pending_is_listed_with_its_fire_time() {
    let mut incidents = Incidents::new(IncidentConfig::default());
    observe(&mut incidents, timing(5, 0), "/var", H(Sev2), min(0));
    let p: Vec<_> = incidents.pending().collect();
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].since, p[0].fires_at), (min(0), min(5)));
    assert_eq!(p[0].display_state(), DisplayState::Pending);
    assert_eq!(incidents.incidents().count(), 0);
}

#[test]
fn hysteresis_and_clearing() {
    run(&[
        Scenario {
            name: "holding keeps it open; clearing needs clear_for",
            timing: timing(0, 5),
            steps: &[
                (0, H(Sev2), "INC-0001 open SEV2", "opened INC-0001"),
                (1, Hold, "INC-0001 open SEV2", ""),
                (30, Hold, "INC-0001 open SEV2", ""),
                (31, A, "INC-0001 open SEV2", ""), // clearing starts
                (33, H(Sev2), "INC-0001 open SEV2", ""), // cancels clearing
                (34, A, "INC-0001 open SEV2", ""), // clearing starts again
                (36, Hold, "INC-0001 open SEV2", ""), // holding cancels too
                (37, A, "INC-0001 open SEV2", ""),
                (41, A, "INC-0001 open SEV2", ""),
                (42, A, "INC-0001 resolved", "resolved INC-0001"),
            ],
        },
        Scenario {
            name: "clear_for = 0 resolves on the first absent round",
            timing: timing(0, 0),
            steps: &[
                (0, H(Sev2), "INC-0001 open SEV2", "opened INC-0001"),
                (1, A, "INC-0001 resolved", "resolved INC-0001"),
            ],
        },
    ]);
}

#[test]
fn reopen_within_window_keeps_the_id() {
    run(&[Scenario {
        name: "reopen window is 30 min by default",
        timing: timing(0, 0),
        steps: &[
            (0, H(Sev2), "INC-0001 open SEV2", "opened INC-0001"),
            (1, A, "INC-0001 resolved", "resolved INC-0001"),
            (31, H(Sev3), "INC-0001 open SEV3", "reopened INC-0001"),
            (32, A, "INC-0001 resolved", "resolved INC-0001"),
            (63, H(Sev2), "INC-0002 open SEV2", "opened INC-0002"),
        ],
    }]);
    // The window is measured from the condition's return, not from when `for` elapsed.
    run(&[Scenario {
        name: "return inside the window, `for` elapsing after it",
        timing: timing(10, 0),
        steps: &[
            (0, H(Sev2), "pending", ""),
            (10, H(Sev2), "INC-0001 open SEV2", "opened INC-0001"),
            (11, A, "INC-0001 resolved", "resolved INC-0001"),
            (40, H(Sev2), "pending", ""),
            (50, H(Sev2), "INC-0001 open SEV2", "reopened INC-0001"),
        ],
    }]);
}

#[test]
fn reopened_incident_needs_a_new_ack() {
    let mut incidents = Incidents::new(IncidentConfig::default());
    let t = timing(0, 0);
    observe(&mut incidents, t, "/var", H(Sev2), min(0));
    incidents
        .acknowledge(IncidentId(1), "alice", None, min(1))
        .expect("ack");
    observe(&mut incidents, t, "/var", A, min(2));
    let err = incidents.acknowledge(IncidentId(1), "bob", None, min(3));
    assert!(matches!(err, Err(IncidentError::Resolved(IncidentId(1)))));
    observe(&mut incidents, t, "/var", H(Sev2), min(4));
    let inc = incidents.get(IncidentId(1)).expect("reopened");
    assert_eq!(inc.lifecycle, Lifecycle::Open);
    assert!(inc.ack.is_none());
    assert_eq!(inc.deadline, min(4) + chrono::Duration::hours(1));
    assert!(
        inc.timeline
            .iter()
            .any(|e| matches!(e.kind, TimelineKind::Acknowledged { .. })),
        "the old ack stays in the timeline"
    );
    assert!(matches!(
        inc.timeline.last().map(|e| &e.kind),
        Some(TimelineKind::Reopened { severity: Sev2 })
    ));
}

#[test]
fn severity_changes_stay_in_one_incident() {
    run(&[Scenario {
        name: "sev3 → sev2 → sev1 → sev3",
        timing: timing(0, 0),
        steps: &[
            (0, H(Sev3), "INC-0001 open SEV3", "opened INC-0001"),
            (1, H(Sev2), "INC-0001 open SEV2", "escalated INC-0001"),
            (2, H(Sev1), "INC-0001 open SEV1", "escalated INC-0001"),
            (3, H(Sev1), "INC-0001 open SEV1", ""),
            (4, H(Sev3), "INC-0001 open SEV3", "deescalated INC-0001"),
        ],
    }]);
}

#[test]
fn escalation_of_an_acked_incident_needs_a_new_ack() {
    let mut incidents = Incidents::new(IncidentConfig::default());
    let t = timing(0, 0);
    let id = IncidentId(1);
    observe(&mut incidents, t, "/var", H(Sev3), min(0));
    assert_eq!(incidents.get(id).map(|i| i.deadline), Some(min(24 * 60)));

    // Escalating an unacked incident can only bring the deadline closer.
    let changes = observe(&mut incidents, t, "/var", H(Sev2), min(10));
    assert_eq!(
        changes,
        vec![Change::Escalated {
            id,
            from: Sev3,
            to: Sev2
        }]
    );
    assert!(changes[0].pages());
    assert_eq!(incidents.get(id).map(|i| i.deadline), Some(min(70)));

    incidents
        .acknowledge(id, "alice", Some("looking"), min(20))
        .expect("ack");
    assert_eq!(
        incidents.get(id).map(|i| i.display_state()),
        Some(DisplayState::Acked)
    );
    // De-escalation keeps the ack and the deadline.
    observe(&mut incidents, t, "/var", H(Sev3), min(25));
    let inc = incidents.get(id).expect("incident");
    assert_eq!(
        (inc.lifecycle, inc.deadline),
        (Lifecycle::Acknowledged, min(70))
    );

    // Escalation past what was acked: back to Open, new clock from now.
    observe(&mut incidents, t, "/var", H(Sev1), min(30));
    let inc = incidents.get(id).expect("incident");
    assert_eq!(inc.lifecycle, Lifecycle::Open);
    assert!(inc.ack.is_none());
    assert_eq!(inc.deadline, min(45));
    assert_eq!(inc.remaining(min(40)), Some(chrono::Duration::minutes(5)));

    let history: Vec<_> = inc
        .timeline
        .iter()
        .filter_map(|e| match e.kind {
            TimelineKind::Opened { severity } => Some((None, severity)),
            TimelineKind::SeverityChanged { from, to } => Some((Some(from), to)),
            _ => None,
        })
        .collect();
    assert_eq!(
        history,
        vec![
            (None, Sev3),
            (Some(Sev3), Sev2),
            (Some(Sev2), Sev3),
            (Some(Sev3), Sev1)
        ]
    );
    assert_eq!(incidents.incidents().count(), 1);
    incidents
        .acknowledge(id, "bob", None, min(41))
        .expect("re-ack");
}

#[test]
fn stale_data_makes_incidents_unknown_never_resolved() {
    run(&[
        Scenario {
            name: "absent with stale source",
            timing: timing(0, 0),
            steps: &[
                (0, H(Sev2), "INC-0001 open SEV2", "opened INC-0001"),
                (1, X, "INC-0001 unknown SEV2", "unknown INC-0001"),
                (2, X, "INC-0001 unknown SEV2", ""),
                (600, X, "INC-0001 unknown SEV2", ""),
                (601, H(Sev2), "INC-0001 open SEV2", "data_back INC-0001"),
                (602, X, "INC-0001 unknown SEV2", "unknown INC-0001"),
                (
                    603,
                    A,
                    "INC-0001 resolved",
                    "data_back INC-0001, resolved INC-0001",
                ),
            ],
        },
        Scenario {
            name: "stale hit; clearing restarts after the gap",
            timing: timing(0, 5),
            steps: &[
                (0, H(Sev2), "INC-0001 open SEV2", "opened INC-0001"),
                (1, A, "INC-0001 open SEV2", ""), // clearing from minute 1
                (2, StaleHit, "INC-0001 unknown SEV2", "unknown INC-0001"),
                (7, StaleHit, "INC-0001 unknown SEV2", ""),
                (8, A, "INC-0001 open SEV2", "data_back INC-0001"), // clearing from 8
                (12, A, "INC-0001 open SEV2", ""),
                (13, A, "INC-0001 resolved", "resolved INC-0001"),
            ],
        },
        Scenario {
            name: "holding with stale source is unknown too",
            timing: timing(0, 5),
            steps: &[
                (0, H(Sev2), "INC-0001 open SEV2", "opened INC-0001"),
                (1, Hold, "INC-0001 open SEV2", ""),
                (2, HoldX, "INC-0001 unknown SEV2", "unknown INC-0001"),
                (3, Hold, "INC-0001 open SEV2", "data_back INC-0001"),
            ],
        },
        Scenario {
            name: "stale data neither starts nor drops pending",
            timing: timing(5, 0),
            steps: &[
                (0, StaleHit, "-", ""),
                (1, H(Sev2), "pending", ""),
                (3, X, "pending", ""),
                (4, StaleHit, "pending", ""),
                (6, StaleHit, "pending", ""),
                (7, H(Sev2), "INC-0001 open SEV2", "opened INC-0001"),
            ],
        },
    ]);
}

#[test]
fn unknown_incident_deadline_keeps_running() {
    let mut incidents = Incidents::new(IncidentConfig::default());
    let t = timing(0, 0);
    observe(&mut incidents, t, "/var", H(Sev1), min(0));
    observe(&mut incidents, t, "/var", X, min(1));
    let inc = incidents.get(IncidentId(1)).expect("incident");
    assert!(inc.unknown);
    assert_eq!(inc.display_state(), DisplayState::Unknown);
    assert!(!inc.breached(min(14)));
    assert!(inc.breached(min(16)));
    assert_eq!(inc.remaining(min(16)), Some(chrono::Duration::minutes(-1)));
    // Unknown incidents can be acknowledged (someone is on it even if data is missing).
    incidents
        .acknowledge(IncidentId(1), "alice", None, min(17))
        .expect("ack");
    let timeline: Vec<&str> = incidents
        .get(IncidentId(1))
        .expect("incident")
        .timeline
        .iter()
        .map(|e| e.kind.name())
        .collect();
    assert_eq!(timeline, ["opened", "became_unknown", "acknowledged"]);
}

#[test]
fn deadlines_per_severity_and_ack_stops_the_clock() {
    let config = IncidentConfig::default();
    // (severity, deadline in minutes)
    let table = [(Sev1, 15), (Sev2, 60), (Sev3, 24 * 60)];
    for (sev, deadline) in table {
        let mut incidents = Incidents::new(config.clone());
        observe(&mut incidents, timing(0, 0), "/var", H(sev), min(0));
        let id = IncidentId(1);
        let inc = incidents.get(id).expect("incident");
        assert_eq!(inc.deadline, min(deadline), "{sev}");
        assert_eq!(
            inc.remaining(min(0)),
            Some(chrono::Duration::minutes(deadline)),
            "{sev}"
        );
        assert!(
            !inc.breached(min(deadline)),
            "{sev}: on the deadline is in time"
        );
        assert!(
            inc.breached(min(deadline) + chrono::Duration::seconds(1)),
            "{sev}"
        );

        // Ack just before the deadline: clock stops, never breached afterwards.
        let ack_at = min(deadline - 1);
        incidents
            .acknowledge(id, "alice", None, ack_at)
            .expect("ack");
        let inc = incidents.get(id).expect("incident");
        assert_eq!(inc.remaining(min(deadline * 10)), None, "{sev}");
        assert!(!inc.breached(min(deadline * 10)), "{sev}");
    }

    // A late ack is a breach that stays on record.
    let mut incidents = Incidents::new(config.clone());
    observe(&mut incidents, timing(0, 0), "/var", H(Sev1), min(0));
    incidents
        .acknowledge(IncidentId(1), "alice", None, min(20))
        .expect("ack");
    assert!(incidents.get(IncidentId(1)).expect("inc").breached(min(21)));

    // Deadlines are configurable (the seed design's 2 h sev2).
    let mut config = config;
    config.deadlines[1] = mins(120);
    let mut incidents = Incidents::new(config);
    observe(&mut incidents, timing(0, 0), "/var", H(Sev2), min(0));
    assert_eq!(
        incidents.get(IncidentId(1)).map(|i| i.deadline),
        Some(min(120))
    );
}

#[test]
fn acknowledge_errors() {
    let mut incidents = Incidents::new(IncidentConfig::default());
    observe(&mut incidents, timing(0, 0), "/var", H(Sev2), min(0));
    assert!(matches!(
        incidents.acknowledge(IncidentId(9), "alice", None, min(1)),
        Err(IncidentError::NotFound(IncidentId(9)))
    ));
    assert!(matches!(
        incidents.acknowledge(IncidentId(1), "  ", None, min(1)),
        Err(IncidentError::NoUser)
    ));
    incidents
        .acknowledge(IncidentId(1), "alice", Some("on it"), min(1))
        .expect("ack");
    let err = incidents
        .acknowledge(IncidentId(1), "bob", None, min(2))
        .expect_err("already acked");
    assert_eq!(err.to_string(), "INC-0001 is already acknowledged by alice");
    let ack = incidents.get(IncidentId(1)).and_then(|i| i.ack.clone());
    assert_eq!(
        ack.map(|a| (a.by, a.at, a.note)),
        Some(("alice".to_owned(), min(1), Some("on it".to_owned())))
    );
    // The lifecycle writes its own entries; callers add notes and runbook runs.
    assert!(matches!(
        incidents.add_timeline(IncidentId(1), TimelineKind::Resolved, min(3)),
        Err(IncidentError::NotAllowed("resolved"))
    ));
}

#[test]
fn alternating_condition_flaps_and_is_held_open() {
    // `for` longer than the flicker: Prometheus would never fire; flap detection opens it.
    let mut incidents = Incidents::new(IncidentConfig::default());
    let t = timing(5, 5);
    let mut log = Vec::new();
    for m in 0..10 {
        let obs = if m % 2 == 0 { H(Sev2) } else { A };
        log.extend(observe(&mut incidents, t, "/var", obs, min(m)));
    }
    assert!(log.is_empty(), "nothing opens before flapping: {log:?}");
    assert_eq!(
        incidents.next_id(),
        IncidentId(1),
        "no ID for dropped pendings"
    );
    // Minute 9 pushed the percent state change over 50 %; the next hit opens at once.
    let changes = observe(&mut incidents, t, "/var", H(Sev2), min(10));
    assert_eq!(change_names(&changes), "opened INC-0001, flapping INC-0001");
    assert_eq!(describe(&incidents, "/var"), "INC-0001 flapping SEV2");

    // Keeps alternating well past clear_for: held open, no resolve/reopen churn.
    for m in 11..60 {
        let obs = if m % 2 == 0 { H(Sev2) } else { A };
        let changes = observe(&mut incidents, t, "/var", obs, min(m));
        assert!(changes.is_empty(), "minute {m}: {changes:?}");
    }

    // Steady problem: flapping stops once the old transitions age out.
    let mut stopped_at = None;
    for m in 60..90 {
        let changes = observe(&mut incidents, t, "/var", H(Sev2), min(m));
        if changes.contains(&Change::FlappingStopped(IncidentId(1))) {
            stopped_at = Some(m);
            break;
        }
    }
    let stopped_at = stopped_at.expect("flapping stops on a steady state");
    assert!(stopped_at - 60 < 21, "within one history window");
    assert_eq!(describe(&incidents, "/var"), "INC-0001 open SEV2");

    // Then it clears normally.
    let s = stopped_at + 1;
    observe(&mut incidents, t, "/var", A, min(s));
    let changes = observe(&mut incidents, t, "/var", A, min(s + 5));
    assert_eq!(change_names(&changes), "resolved INC-0001");
    let kinds: Vec<&str> = incidents
        .get(IncidentId(1))
        .expect("incident")
        .timeline
        .iter()
        .map(|e| e.kind.name())
        .collect();
    assert_eq!(
        kinds,
        ["opened", "flapping_started", "flapping_stopped", "resolved"]
    );
}

#[test]
fn flapping_stops_resolve_reopen_churn() {
    // for = 0 and clear_for = 0: every flicker would resolve and re-page.
    let mut incidents = Incidents::new(IncidentConfig::default());
    let t = timing(0, 0);
    let mut names = Vec::new();
    for m in 0..40 {
        let obs = if m % 2 == 0 { H(Sev1) } else { A };
        names.push(change_names(&observe(
            &mut incidents,
            t,
            "/var",
            obs,
            min(m),
        )));
    }
    assert_eq!(names[0], "opened INC-0001");
    assert_eq!(names[1], "resolved INC-0001");
    assert_eq!(names[2], "reopened INC-0001");
    assert_eq!(names[9], "flapping INC-0001", "held open from minute 9");
    assert!(names[10..].iter().all(String::is_empty), "{names:?}");
    assert_eq!(incidents.incidents().count(), 1);
}

#[test]
fn steady_and_stale_rounds_do_not_flap() {
    let mut incidents = Incidents::new(IncidentConfig::default());
    let t = timing(0, 0);
    // Fresh / stale alternation is not a state change: stale rounds are not recorded.
    for m in 0..40 {
        let obs = if m % 2 == 0 { H(Sev2) } else { X };
        observe(&mut incidents, t, "/var", obs, min(m));
    }
    assert!(!incidents.get(IncidentId(1)).expect("incident").flapping);
}

#[test]
fn tier_is_carried_not_interpreted() {
    let mut incidents = Incidents::new(IncidentConfig::default());
    let tiers = [
        ("int", Tier::Integration, Sev3),
        ("stg", Tier::Staging, Sev3),
        ("prod", Tier::Production, Sev1),
    ];
    let hits: Vec<Hit> = tiers
        .iter()
        .map(|(env, tier, sev)| Hit {
            environment: (*env).to_owned(),
            tier: *tier,
            ..hit(&format!("{env}:/var"), *sev)
        })
        .collect();
    let changes = incidents.evaluate(&[round(timing(0, 0), hits, &[])], &HashSet::new(), min(0));
    assert_eq!(changes.len(), 3);
    for (env, tier, sev) in tiers {
        let inc = incidents
            .incidents()
            .find(|i| i.environment == env)
            .expect("incident per environment");
        assert_eq!((inc.tier, inc.severity), (tier, sev));
        assert_eq!(inc.runbooks, ["clean-disk"]);
    }
}

#[test]
fn rules_missing_from_a_round_are_left_alone() {
    let mut incidents = Incidents::new(IncidentConfig::default());
    observe(&mut incidents, timing(0, 0), "/var", H(Sev2), min(0));
    let changes = incidents.evaluate(&[], &HashSet::new(), min(60));
    assert!(changes.is_empty());
    assert_eq!(describe(&incidents, "/var"), "INC-0001 open SEV2");
}

#[test]
fn resolved_incidents_are_forgotten_after_keep_resolved() {
    let mut incidents = Incidents::new(IncidentConfig::default());
    let t = timing(0, 0);
    observe(&mut incidents, t, "/var", H(Sev2), min(0));
    observe(&mut incidents, t, "/var", A, min(1));
    incidents.evaluate(&[], &HashSet::new(), min(1 + 7 * 24 * 60));
    assert_eq!(incidents.incidents().count(), 1, "exactly 7 days is kept");
    incidents.evaluate(&[], &HashSet::new(), min(2 + 7 * 24 * 60));
    assert_eq!(incidents.incidents().count(), 0);
    // IDs are never reused.
    observe(&mut incidents, t, "/var", H(Sev2), min(3 + 7 * 24 * 60));
    assert_eq!(describe(&incidents, "/var"), "INC-0002 open SEV2");
}

// ---- journal ----

fn journal_path(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("state").join("incidents.jsonl")
}

/// Opens `/a` and `/b`, acks `/a`, notes on `/b`, resolves `/c`.
fn populate(incidents: &mut Incidents) {
    let t = timing(0, 0);
    let r = round(
        t,
        vec![hit("/a", Sev1), hit("/b", Sev3), hit("/c", Sev2)],
        &[],
    );
    incidents.evaluate(&[r], &HashSet::new(), min(0));
    let r = round(t, vec![hit("/a", Sev1), hit("/b", Sev2)], &[]);
    incidents.evaluate(&[r], &HashSet::new(), min(1));
    incidents
        .acknowledge(IncidentId(1), "alice", Some("failing over"), min(2))
        .expect("ack");
    incidents
        .add_timeline(
            IncidentId(2),
            TimelineKind::Note {
                by: "bob".to_owned(),
                text: "probably the backup job".to_owned(),
            },
            min(3),
        )
        .expect("note");
}

#[test]
fn journal_survives_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = journal_path(&dir);
    let before: Vec<_> = {
        let (mut incidents, warnings) =
            Incidents::open_journal(&path, IncidentConfig::default()).expect("open");
        assert!(warnings.is_empty());
        populate(&mut incidents);
        incidents.incidents().cloned().collect()
    };
    let (mut incidents, warnings) =
        Incidents::open_journal(&path, IncidentConfig::default()).expect("reopen");
    assert!(warnings.is_empty(), "{warnings:?}");
    let after: Vec<_> = incidents.incidents().cloned().collect();
    assert_eq!(after, before, "snapshots, acks and timelines survive");
    let a = incidents.get(IncidentId(1)).expect("INC-0001");
    assert_eq!(a.lifecycle, Lifecycle::Acknowledged);
    assert_eq!(a.ack.as_ref().map(|a| a.by.as_str()), Some("alice"));
    assert_eq!(
        incidents.get(IncidentId(3)).map(|i| i.lifecycle),
        Some(Lifecycle::Resolved)
    );
    assert_eq!(incidents.next_id(), IncidentId(4));
    assert_eq!(incidents.pending().count(), 0, "pending is not persisted");

    // The restored state keeps working: `/c` returns within the window and reopens.
    let r = round(
        timing(0, 0),
        vec![
            hit("/a", Sev1),
            hit("/b", Sev2),
            hit("/c", Sev2),
            hit("/d", Sev3),
        ],
        &[],
    );
    let changes = incidents.evaluate(&[r], &HashSet::new(), min(5));
    assert_eq!(change_names(&changes), "reopened INC-0003, opened INC-0004");
    drop(incidents);
    let (incidents, _) = Incidents::open_journal(&path, IncidentConfig::default()).expect("again");
    assert_eq!(incidents.next_id(), IncidentId(5));
}

/// Append the start of a line and no more: a write cut short by a crash, or in progress.
fn append_torn_line(path: &std::path::Path) {
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("append");
    f.write_all(br#"{"record":"event","at":"2026-11-20T10:1"#)
        .expect("tear");
}

/// The journal at `path` opened, populated (see [`populate`]) and closed.
fn populated_journal(path: &std::path::Path) {
    let (mut incidents, _) =
        Incidents::open_journal(path, IncidentConfig::default()).expect("open");
    populate(&mut incidents);
}

/// One console per journal: a second writer is refused with the path (it would hand out
/// the same IDs and compact the file from under the first); a reader takes no lock and
/// changes nothing, even the torn tail of a write in progress.
#[test]
fn one_writer_per_journal_and_readers_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = journal_path(&dir);
    let (mut first, _) = Incidents::open_journal(&path, IncidentConfig::default()).expect("open");
    populate(&mut first);

    let Err(err) = Incidents::open_journal(&path, IncidentConfig::default()) else {
        panic!("a second writer is refused");
    };
    assert!(
        matches!(&err, IncidentError::JournalInUse { path: p } if *p == path),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()) && message.contains("in use"),
        "{message}"
    );
    assert!(
        Incidents::open_fresh_journal(&path, IncidentConfig::default()).is_err(),
        "nor may a fresh start empty it"
    );

    // A line being written, as a reader may catch it.
    append_torn_line(&path);
    let on_disk = fs::read(&path).expect("read");
    let (read, warnings) =
        Incidents::read_journal(&path, IncidentConfig::default()).expect("read while open");
    assert_eq!(
        read.incidents().cloned().collect::<Vec<_>>(),
        first.incidents().cloned().collect::<Vec<_>>()
    );
    assert!(warnings.iter().any(|w| w.contains("torn")), "{warnings:?}");
    assert_eq!(
        fs::read(&path).expect("read"),
        on_disk,
        "the reader cut nothing"
    );

    // The lock goes with the writer.
    drop(first);
    let (second, _) =
        Incidents::open_journal(&path, IncidentConfig::default()).expect("open after close");
    assert_eq!(second.incidents().count(), 3);

    // A missing journal reads as empty.
    let (none, warnings) =
        Incidents::read_journal(&dir.path().join("nowhere.jsonl"), IncidentConfig::default())
            .expect("missing is empty");
    assert_eq!((none.incidents().count(), warnings.len()), (0, 0));
}

/// The demo's journal starts empty every run; IDs start over.
#[test]
fn a_fresh_journal_starts_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = journal_path(&dir);
    populated_journal(&path);
    let (fresh, warnings) =
        Incidents::open_fresh_journal(&path, IncidentConfig::default()).expect("fresh");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(fresh.incidents().count(), 0);
    assert_eq!(fresh.next_id(), IncidentId(1));
    assert!(fs::read(&path).expect("read").is_empty());
}

#[test]
fn journal_tolerates_a_torn_last_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = journal_path(&dir);
    populated_journal(&path);
    let good = fs::read(&path).expect("read");
    append_torn_line(&path);

    let (mut incidents, warnings) =
        Incidents::open_journal(&path, IncidentConfig::default()).expect("reopen");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("torn"), "{warnings:?}");
    assert_eq!(
        fs::read(&path).expect("read"),
        good,
        "the torn tail is cut off"
    );
    assert_eq!(incidents.incidents().count(), 3);

    // Appending after the cut produces clean lines: the next open has no warnings.
    incidents
        .acknowledge(IncidentId(2), "bob", None, min(10))
        .expect("ack");
    drop(incidents);
    let (incidents, warnings) =
        Incidents::open_journal(&path, IncidentConfig::default()).expect("reopen");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        incidents.get(IncidentId(2)).map(|i| i.lifecycle),
        Some(Lifecycle::Acknowledged)
    );
}

#[test]
fn journal_skips_a_corrupt_middle_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = journal_path(&dir);
    populated_journal(&path);
    let text = fs::read_to_string(&path).expect("read");
    let mut lines: Vec<&str> = text.lines().collect();
    let total = lines.len();
    lines.insert(1, "{not json at all");
    fs::write(&path, lines.join("\n") + "\n").expect("write");

    let (incidents, warnings) =
        Incidents::open_journal(&path, IncidentConfig::default()).expect("reopen");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("line 2 is corrupt"), "{warnings:?}");
    assert_eq!(incidents.incidents().count(), 3);
    assert_eq!(
        incidents.get(IncidentId(1)).map(|i| i.lifecycle),
        Some(Lifecycle::Acknowledged),
        "lines after the corrupt one are replayed"
    );
    assert_eq!(
        fs::read_to_string(&path).expect("read").lines().count(),
        total + 1,
        "replay does not rewrite the file"
    );
}

#[test]
fn journal_from_fixture_with_non_finite_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("incidents.jsonl");
    fs::copy("tests/fixtures/journal/nan.jsonl", &path).expect("fixture");
    let (incidents, warnings) =
        Incidents::open_journal(&path, IncidentConfig::default()).expect("open");
    assert!(warnings.is_empty(), "{warnings:?}");
    let inc = incidents.get(IncidentId(42)).expect("INC-0042");
    assert!(inc.value.is_nan());
    assert_eq!(inc.tier, Tier::Staging);
    assert_eq!(inc.sources, [SourceId(3)]);
    assert_eq!(incidents.next_id(), IncidentId(50), "meta next_id wins");
}

#[test]
fn compaction_keeps_live_incidents_and_drops_old_resolved() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = journal_path(&dir);
    let config = IncidentConfig {
        journal_max_bytes: 32 * 1024,
        keep_resolved: mins(20),
        ..IncidentConfig::default()
    };
    let (mut incidents, _) = Incidents::open_journal(&path, config.clone()).expect("open");
    let t = timing(0, 0);
    // 30 incidents that open and resolve at once (minutes 0–1), one that stays open.
    let many: Vec<Hit> = (0..30).map(|i| hit(&format!("/old{i}"), Sev3)).collect();
    incidents.evaluate(&[round(t, many, &[])], &HashSet::new(), min(0));
    incidents.evaluate(
        &[round(t, vec![hit("/live", Sev2)], &[])],
        &HashSet::new(),
        min(1),
    );
    incidents
        .acknowledge(IncidentId(31), "alice", None, min(2))
        .expect("ack");

    // Much later, short incidents on ever new keys until the file is compacted (it
    // shrinks).
    let mut m = 120;
    let mut last_size = fs::metadata(&path).expect("meta").len();
    let mut compacted = false;
    for i in 0..1000 {
        let hits = vec![hit("/live", Sev2), hit(&format!("/blip{i}"), Sev3)];
        incidents.evaluate(&[round(t, hits, &[])], &HashSet::new(), min(m));
        incidents.evaluate(
            &[round(t, vec![hit("/live", Sev2)], &[])],
            &HashSet::new(),
            min(m + 1),
        );
        m += 2;
        let size = fs::metadata(&path).expect("meta").len();
        if size < last_size {
            compacted = true;
            break;
        }
        last_size = size;
    }
    assert!(compacted, "the journal was compacted");
    let text = fs::read_to_string(&path).expect("read");
    assert!(text.starts_with(r#"{"record":"meta""#), "{text}");
    assert!(
        !dir.path()
            .join("state/incidents.jsonl.compact.tmp")
            .exists()
    );
    let next = incidents.next_id();
    let kept: Vec<_> = incidents.incidents().map(|i| i.id).collect();
    drop(incidents);

    let (incidents, warnings) = Incidents::open_journal(&path, config).expect("reopen");
    assert!(warnings.is_empty(), "{warnings:?}");
    let ids: Vec<_> = incidents.incidents().map(|i| i.id).collect();
    assert_eq!(ids, kept, "exactly what was live survives compaction");
    assert!(
        ids.iter().all(|id| id.0 > 30),
        "old resolved are gone: {ids:?}"
    );
    assert_eq!(ids.first(), Some(&IncidentId(31)));
    let live = incidents.get(IncidentId(31)).expect("live");
    assert_eq!(live.lifecycle, Lifecycle::Acknowledged);
    for inc in incidents.incidents().filter(|i| i.id.0 > 31) {
        let resolved = inc.resolved_at.expect("blips are resolved");
        assert!(
            resolved >= min(m - 1 - 20),
            "{} resolved within keep_resolved",
            inc.id
        );
    }
    assert_eq!(incidents.next_id(), next, "IDs are not reused");
}

// ---- export ----

#[test]
fn markdown_export() {
    let mut incidents = Incidents::new(IncidentConfig::default());
    let t = timing(5, 10);
    for m in 0..=5 {
        observe(&mut incidents, t, "/var", H(Sev3), min(m));
    }
    observe(&mut incidents, t, "/var", H(Sev2), min(8));
    incidents
        .acknowledge(IncidentId(1), "alice", Some("pruning | old logs"), min(12))
        .expect("ack");
    incidents
        .add_timeline(
            IncidentId(1),
            TimelineKind::RunbookRun {
                name: "clean-disk".to_owned(),
                outcome: "freed 40 GiB".to_owned(),
            },
            min(15),
        )
        .expect("runbook");
    observe(&mut incidents, t, "/var", A, min(20));
    observe(&mut incidents, t, "/var", A, min(30));
    let inc = incidents.get(IncidentId(1)).expect("incident");
    insta::assert_snapshot!(export_markdown(inc, min(90)), @r#"
# INC-0001: disk /var is 93.5% full

**▲▲ SEV2 (degradation)** · resolved · prod (production)

| Field | Value |
|---|---|
| Incident | INC-0001 |
| Rule | `disk_full` |
| Key | `/var` |
| Environment | prod (production) |
| Severity | SEV2 (degradation); worst SEV2 |
| State | resolved |
| Condition since | 2026-11-21T22:26:40Z |
| Opened | 2026-11-21T22:31:40Z |
| Response deadline | 2026-11-21T23:34:40Z (met) |
| Acknowledged | alice at 2026-11-21T22:38:40Z: pruning \| old logs |
| Resolved | 2026-11-21T22:56:40Z |
| Duration | 25m 0s |
| Last value | 93.5 |
| Labels | `mount=/var` |

## Summary

disk /var is 93.5% full

## Severity history

| Time (UTC) | Severity |
|---|---|
| 2026-11-21T22:31:40Z | SEV3 (opened) |
| 2026-11-21T22:34:40Z | SEV3 → SEV2 |

## Timeline

| Time (UTC) | Event |
|---|---|
| 2026-11-21T22:31:40Z | Opened as SEV3 (minor) |
| 2026-11-21T22:34:40Z | Escalated SEV3 → SEV2 |
| 2026-11-21T22:38:40Z | Acknowledged by alice: pruning \| old logs |
| 2026-11-21T22:41:40Z | Runbook `clean-disk` run: freed 40 GiB |
| 2026-11-21T22:56:40Z | Resolved |

## Runbooks

Linked: `clean-disk`

Run during the incident:

- 2026-11-21T22:41:40Z `clean-disk`: freed 40 GiB

## Postmortem

### Impact

_To be written._

### Root cause

_To be written._

### Action items

- [ ] _To be written._
"#);
}
