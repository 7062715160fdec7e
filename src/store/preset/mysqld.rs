//! mysqld_exporter → [`ReplicationLink`]s: a Galera member (wsrep status) and/or an
//! asynchronous replica (SHOW SLAVE/REPLICA STATUS).
//!
//! Knows both spellings: 0.14's `mysql_slave_status_seconds_behind_master` /
//! `…_slave_io_running` and ≥0.16's `…_seconds_behind_source` / `…_replica_io_running`.

use super::{Input, Output, expect, finite, first_named, history_values};
use crate::store::model::{LinkState, ReplicationKind, ReplicationLink};

const CLUSTER_SIZE: &str = "mysql_global_status_wsrep_cluster_size";
const LOCAL_STATE: &str = "mysql_global_status_wsrep_local_state";
/// mysqld_exporter maps `Primary` to 1 and `Non-Primary`/`Disconnected` to 0.
const CLUSTER_STATUS: &str = "mysql_global_status_wsrep_cluster_status";
const READY: &str = "mysql_global_status_wsrep_ready";
const FC_PAUSED_NS: &str = "mysql_global_status_wsrep_flow_control_paused_ns";
const FC_PAUSED: &str = "mysql_global_status_wsrep_flow_control_paused";

const BEHIND: &[&str] = &[
    "mysql_slave_status_seconds_behind_master",
    "mysql_slave_status_seconds_behind_source",
];
const IO_RUNNING: &[&str] = &[
    "mysql_slave_status_slave_io_running",
    "mysql_slave_status_replica_io_running",
];
const SQL_RUNNING: &[&str] = &[
    "mysql_slave_status_slave_sql_running",
    "mysql_slave_status_replica_sql_running",
];

/// What this preset reads.
pub(super) const METRICS: &[&str] = &[
    "mysql_up",
    CLUSTER_SIZE,
    LOCAL_STATE,
    CLUSTER_STATUS,
    READY,
    FC_PAUSED_NS,
    FC_PAUSED,
    BEHIND[0],
    BEHIND[1],
    IO_RUNNING[0],
    IO_RUNNING[1],
    SQL_RUNNING[0],
    SQL_RUNNING[1],
];

pub(super) fn derive(input: &Input<'_>, out: &mut Output) {
    expect(input, out, &[&["mysql_up"]]);
    let t = input.table;
    let role = input.role();
    let galera = t.value(CLUSTER_SIZE, &[]).is_some_and(|v| v > 0.0) || role == Some("galera");
    if galera {
        if role == Some("galera") {
            expect(
                input,
                out,
                &[&[CLUSTER_SIZE], &[LOCAL_STATE], &[CLUSTER_STATUS], &[READY]],
            );
        }
        galera_member(input, out);
    }
    let replica = first_named(t, BEHIND).is_some() || role == Some("replica");
    if replica {
        if role == Some("replica") {
            expect(input, out, &[IO_RUNNING, SQL_RUNNING]);
            // With a replication thread stopped the server reports Seconds_Behind_Master
            // as NULL and the exporter leaves the metric out: the lag is unknown, which
            // the link shows; the exporter is not missing anything.
            let stopped = |names: &[&str]| first_named(t, names).is_some_and(|s| s.value != 1.0);
            if !stopped(IO_RUNNING) && !stopped(SQL_RUNNING) {
                expect(input, out, &[BEHIND]);
            }
        }
        async_replica(input, out);
    }
}

fn galera_member(input: &Input<'_>, out: &mut Output) {
    let t = input.table;
    let local_state = t.value(LOCAL_STATE, &[]).unwrap_or(f64::NAN);
    let local_state = if local_state.is_finite() {
        local_state as i64
    } else {
        0
    };
    let flow_control_paused = t
        .named(FC_PAUSED_NS)
        .next()
        .and_then(|s| t.rate(s, chrono::Duration::seconds(60)))
        .map(|ns_per_s| ns_per_s / 1e9)
        .or_else(|| finite(t.value(FC_PAUSED, &[])));
    let cluster = input
        .metrics
        .placement
        .cluster
        .clone()
        .unwrap_or_else(|| "galera".to_owned());
    let up = input.up && t.value("mysql_up", &[]) != Some(0.0);
    out.links.push(ReplicationLink {
        environment: input.env.name.clone(),
        cluster: Some(cluster.clone()),
        kind: ReplicationKind::Galera,
        primary: cluster,
        replica: input.node_name(),
        lag_seconds: None,
        lag_bytes: None,
        state: LinkState::Galera {
            local_state: if up { local_state } else { 0 },
            local_state_name: if up {
                galera_state_name(local_state).to_owned()
            } else {
                "Unreachable".to_owned()
            },
            cluster_status: match t.value(CLUSTER_STATUS, &[]) {
                Some(v) if up && v == 1.0 => "Primary".to_owned(),
                Some(_) if up => "Non-Primary".to_owned(),
                _ => "Unknown".to_owned(),
            },
            ready: up && t.value(READY, &[]) == Some(1.0),
            cluster_size: t
                .value(CLUSTER_SIZE, &[])
                .filter(|v| v.is_finite())
                .map_or(0, |v| v as i64),
            flow_control_paused,
        },
        lag_history: Vec::new(),
        source: input.spec.id,
    });
}

/// Galera's wsrep_local_state numbers, as the MariaDB documentation names them.
pub fn galera_state_name(state: i64) -> &'static str {
    match state {
        1 => "Joining",
        2 => "Donor/Desynced",
        3 => "Joined",
        4 => "Synced",
        _ => "Unknown",
    }
}

fn async_replica(input: &Input<'_>, out: &mut Output) {
    let t = input.table;
    let behind = first_named(t, BEHIND);
    let primary = input
        .extra("primary")
        .map(str::to_owned)
        .or_else(|| {
            behind.and_then(|s| {
                s.label("master_host")
                    .or_else(|| s.label("source_host"))
                    .map(str::to_owned)
            })
        })
        .unwrap_or_else(|| "?".to_owned());
    let running = |names: &[&str]| first_named(t, names).map(|s| s.value == 1.0);
    let state = match (running(IO_RUNNING), running(SQL_RUNNING)) {
        (Some(io), Some(sql)) if input.up => LinkState::Threads {
            io_running: io,
            sql_running: sql,
        },
        _ => LinkState::Unknown,
    };
    out.links.push(ReplicationLink {
        environment: input.env.name.clone(),
        cluster: input.metrics.placement.cluster.clone(),
        kind: ReplicationKind::Mysql,
        primary,
        replica: input.node_name(),
        lag_seconds: behind
            .map(|s| s.value)
            .filter(|v| v.is_finite() && *v >= 0.0),
        lag_bytes: None,
        state,
        lag_history: behind.map(|s| history_values(t, s)).unwrap_or_default(),
        source: input.spec.id,
    });
}
