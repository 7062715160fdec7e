//! Helpers shared by integration tests: fixtures and hand-built settings.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use watchdeck::config::settings::{
    BackupMetricNames, BackupPolicy, EnvironmentSpec, General, MetricsSpec, Placement, Preset,
    Settings, SourceId, SourceKind, SourceSpec, Tier,
};

pub fn fixture(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A metrics source with the given preset and placement labels.
pub fn metrics_source(
    id: u32,
    env: &str,
    name: &str,
    preset: Preset,
    labels: &[(&str, &str)],
) -> SourceSpec {
    let mut placement = Placement::default();
    let mut extra = BTreeMap::new();
    for (k, v) in labels {
        match *k {
            "node" => placement.node = Some((*v).to_owned()),
            "role" => placement.role = Some((*v).to_owned()),
            "cluster" => placement.cluster = Some((*v).to_owned()),
            "service" => placement.service = Some((*v).to_owned()),
            _ => {
                extra.insert((*k).to_owned(), (*v).to_owned());
            }
        }
    }
    placement.extra = extra;
    SourceSpec {
        id: SourceId(id),
        environment: env.to_owned(),
        tier: Tier::Production,
        name: name.to_owned(),
        url: url::Url::parse(&format!("http://127.0.0.1:9/{name}")).expect("static url"),
        kind: SourceKind::Metrics(MetricsSpec {
            preset,
            placement,
            backup_names: BackupMetricNames::default(),
        }),
        interval: Duration::from_secs(5),
        timeout: Duration::from_secs(2),
        max_body: 16 << 20,
        auth: None,
        insecure_skip_verify: false,
    }
}

/// One production environment holding `sources` (ids must be 0..n in order).
pub fn settings(sources: Vec<SourceSpec>, policies: Vec<BackupPolicy>) -> Settings {
    Settings {
        path: None,
        general: General::default(),
        environments: vec![EnvironmentSpec {
            name: "production".to_owned(),
            tier: Tier::Production,
            sources,
            backup_policies: policies,
        }],
        runbooks: Vec::new(),
    }
}
