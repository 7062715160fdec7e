//! The `/` filter, the `:` command line and the prompt editor through the public API, the
//! way the UI will use them: rows behind `Subject`, text typed into a `LineEditor`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::borrow::Cow;
use std::cell::Cell;

use watchdeck::ui::command::{self, UiCommand, Vocabulary};
use watchdeck::ui::filter::{Filter, FilterErrorKind, Subject};
use watchdeck::ui::line::LineEditor;

/// Counts allocations made on the current thread while armed, so tests running in
/// parallel on other threads do not disturb the count.
struct Counting;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ARMED.try_with(Cell::get).unwrap_or(false) {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
        // SAFETY: forwarding the caller's layout to the system allocator unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the pointer came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    COUNT.with(|c| c.set(0));
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    COUNT.with(Cell::get)
}

const INCIDENT_FIELDS: &[&str] = &["sev", "env", "tier", "state", "rule", "node", "age"];

/// An incident row as the Incidents tab shows it.
struct Incident {
    sev: &'static str,
    env: &'static str,
    state: &'static str,
    rule: &'static str,
    node: &'static str,
    age: &'static str,
    text: String,
}

impl Incident {
    fn new(
        sev: &'static str,
        env: &'static str,
        state: &'static str,
        rule: &'static str,
        node: &'static str,
        age: &'static str,
    ) -> Self {
        let text = [sev, env, state, rule, node, age].join(" ");
        Self {
            sev,
            env,
            state,
            rule,
            node,
            age,
            text,
        }
    }
}

impl Subject for Incident {
    fn field(&self, name: &str) -> Option<Cow<'_, str>> {
        let value = match name {
            "sev" => self.sev,
            "env" => self.env,
            "state" => self.state,
            "rule" => self.rule,
            "node" => self.node,
            "age" => self.age,
            // `tier` is a field of the tab that this row happens not to have.
            _ => return None,
        };
        Some(Cow::Borrowed(value))
    }

    fn text(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.text)
    }
}

fn incidents() -> Vec<Incident> {
    vec![
        Incident::new(
            "sev1",
            "production",
            "open",
            "PrimaryDown",
            "pg-primary-01",
            "3m05s",
        ),
        Incident::new(
            "sev2",
            "production",
            "acked",
            "ReplicaLag",
            "pg-replica-03",
            "42m10s",
        ),
        Incident::new("sev2", "staging", "open", "DiskFull", "web-07", "2h10m"),
        Incident::new(
            "sev3",
            "integration",
            "open",
            "BackupLate",
            "backup-01",
            "3d04h",
        ),
        Incident::new(
            "sev4",
            "production",
            "resolved",
            "CertExpiry",
            "web-01",
            "12s",
        ),
    ]
}

fn nodes_matching(query: &str) -> Vec<&'static str> {
    let filter = match Filter::parse(query, INCIDENT_FIELDS) {
        Ok(f) => f,
        Err(e) => panic!("{query:?}: {e}"),
    };
    incidents()
        .iter()
        .filter(|i| filter.matches(*i))
        .map(|i| i.node)
        .collect()
}

#[test]
fn filters_select_the_rows_an_engineer_means() {
    let cases: &[(&str, &[&str])] = &[
        (
            "",
            &[
                "pg-primary-01",
                "pg-replica-03",
                "web-07",
                "backup-01",
                "web-01",
            ],
        ),
        ("sev<=2 env=prod", &["pg-primary-01", "pg-replica-03"]),
        ("severity<=2 !state=acked", &["pg-primary-01", "web-07"]),
        ("env!=prod", &["web-07", "backup-01"]),
        ("node~web", &["web-07", "web-01"]),
        ("node!~web state=open", &["pg-primary-01", "backup-01"]),
        ("age>10m", &["pg-replica-03", "web-07", "backup-01"]),
        ("age>1d", &["backup-01"]),
        ("age<1m", &["web-01"]),
        ("pgrep", &["pg-replica-03"]),
        ("\"disk\"", &["web-07"]),
        ("rule~\"lag\"", &["pg-replica-03"]),
        ("sev=2", &["pg-replica-03", "web-07"]),
        (
            "sev=sev",
            &[
                "pg-primary-01",
                "pg-replica-03",
                "web-07",
                "backup-01",
                "web-01",
            ],
        ),
        // No row has a tier: tests on it fail, their inversions hold.
        ("tier=prod", &[]),
        (
            "tier!=prod",
            &[
                "pg-primary-01",
                "pg-replica-03",
                "web-07",
                "backup-01",
                "web-01",
            ],
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(nodes_matching(query), *expected, "{query:?}");
    }
}

#[test]
fn matching_does_not_allocate_per_row() {
    let rows = incidents();
    let filter = match Filter::parse(
        "sev<=3 env=PROD node~REPLICA !state=resolved age>1m pgrep rule!~cert \"lag\"",
        INCIDENT_FIELDS,
    ) {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    };
    let mut matched = 0;
    let allocations = allocations_during(|| {
        for _ in 0..100 {
            matched += rows.iter().filter(|r| filter.matches(*r)).count();
        }
    });
    assert_eq!(matched, 100);
    assert_eq!(allocations, 0);
    // The counter does see allocations on this thread.
    assert!(allocations_during(|| drop(std::hint::black_box(vec![1u8]))) > 0);
}

#[test]
fn unknown_fields_point_at_the_typo_and_suggest() {
    let nodes = ["env", "node", "cluster", "role", "up", "cpu", "mem", "disk"];
    let Err(err) = Filter::parse("env=prod clustr=a cpu>90", &nodes) else {
        panic!("parsed");
    };
    assert_eq!(err.column, 10);
    assert!(matches!(
        &err.kind,
        FilterErrorKind::UnknownField { suggestion: Some(s), .. } if s == "cluster"
    ));
    assert_eq!(
        err.to_string(),
        "col 10: unknown field \"clustr\" (did you mean \"cluster\"? fields: env, node, cluster, role, up, cpu, mem, disk)"
    );
    // Incident fields do not exist on the Nodes tab.
    assert!(Filter::parse("sev<=2", &nodes).is_err());
}

#[test]
fn typed_text_becomes_a_filter_and_its_indicator() {
    let mut editor = LineEditor::new();
    editor.insert_str("Severity<=2   env=prod node~web");
    editor.delete_word_back();
    editor.insert_str("!state=acked");
    let filter = match Filter::parse(editor.text(), INCIDENT_FIELDS) {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(filter.describe(), "sev<=2 env=prod state!=acked");
    assert_eq!(filter.to_string(), filter.describe());
    assert!(!filter.is_empty());
    editor.push_history(editor.text().to_owned().as_str());
    editor.clear();
    assert!(editor.history_prev());
    assert_eq!(editor.text(), "Severity<=2   env=prod !state=acked");
}

#[test]
fn colon_filter_hands_its_query_to_the_filter_parser() {
    let vocab = Vocabulary {
        environments: vec!["production".into(), "staging".into()],
        tabs: ["overview", "incidents", "nodes"]
            .map(String::from)
            .to_vec(),
        themes: vec!["dark".into(), "mono".into()],
        columns: vec!["sev".into(), "age".into()],
    };
    let Ok(UiCommand::Filter(query)) = command::parse(":fi sev<=1 \"primary\"", &vocab) else {
        panic!("not a filter command");
    };
    let filter = match Filter::parse(&query, INCIDENT_FIELDS) {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    };
    let matched: Vec<_> = incidents()
        .into_iter()
        .filter(|i| filter.matches(i))
        .map(|i| i.node)
        .collect();
    assert_eq!(matched, ["pg-primary-01"]);

    assert_eq!(
        command::parse(":env prod", &vocab),
        Ok(UiCommand::Env(Some("production".into())))
    );
    let completion = command::complete(":en", true, &vocab);
    assert_eq!(command::apply_completion(":en", &completion), ":env ");
    let completion = command::complete(":env ", true, &vocab);
    assert_eq!(completion.candidates, ["production", "staging", "all"]);
}
