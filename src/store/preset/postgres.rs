//! postgres_exporter → [`ReplicationLink`]s.
//!
//! On a primary, 0.11 exposes one `pg_stat_replication_pg_wal_lsn_diff` series per attached
//! replica (byte lag, keyed by `application_name`). A replica reports seconds of lag only
//! from ≥0.13 (`pg_replication_lag_seconds`; `pg_replication_lag` from the common custom
//! query). Both sides are joined into one link by the store.

use super::{Input, Output, expect, first_named, history_values};
use crate::store::model::{LinkState, ReplicationKind, ReplicationLink};

const LSN_DIFF: &str = "pg_stat_replication_pg_wal_lsn_diff";
const LAG_SECONDS: &[&str] = &["pg_replication_lag_seconds", "pg_replication_lag"];
const IS_REPLICA: &str = "pg_replication_is_replica";

/// What this preset reads.
pub(super) const METRICS: &[&str] = &[
    "pg_up",
    LSN_DIFF,
    LAG_SECONDS[0],
    LAG_SECONDS[1],
    IS_REPLICA,
];

pub(super) fn derive(input: &Input<'_>, out: &mut Output) {
    expect(input, out, &[&["pg_up"]]);
    let t = input.table;
    let pg_up = input.up && t.value("pg_up", &[]) != Some(0.0);
    let primary_node = input.node_name();
    for s in t.named(LSN_DIFF) {
        let replica = s
            .label("application_name")
            .filter(|n| !n.is_empty() && *n != "walreceiver")
            .or_else(|| s.label("client_addr"))
            .unwrap_or("?")
            .to_owned();
        out.links.push(ReplicationLink {
            environment: input.env.name.clone(),
            cluster: input.metrics.placement.cluster.clone(),
            kind: ReplicationKind::Postgres,
            primary: primary_node.clone(),
            replica,
            lag_seconds: None,
            lag_bytes: Some(s.value).filter(|v| v.is_finite()),
            state: LinkState::Streaming {
                attached: pg_up && s.label("state") == Some("streaming"),
            },
            lag_history: history_values(t, s),
            source: input.spec.id,
        });
    }
    let is_replica = input.role() == Some("replica") || t.value(IS_REPLICA, &[]) == Some(1.0);
    if is_replica {
        let lag = first_named(t, LAG_SECONDS);
        out.links.push(ReplicationLink {
            environment: input.env.name.clone(),
            cluster: input.metrics.placement.cluster.clone(),
            kind: ReplicationKind::Postgres,
            primary: input.extra("primary").unwrap_or("?").to_owned(),
            replica: input.node_name(),
            lag_seconds: lag.map(|s| s.value).filter(|v| v.is_finite() && *v >= 0.0),
            lag_bytes: None,
            state: if pg_up {
                LinkState::Unknown
            } else {
                LinkState::Streaming { attached: false }
            },
            lag_history: lag.map(|s| history_values(t, s)).unwrap_or_default(),
            source: input.spec.id,
        });
    }
}
