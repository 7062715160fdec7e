//! redis_exporter → [`ReplicationLink`]s, one per replica.
//!
//! The replica knows its link state (`redis_master_link_up`), how long since it last heard
//! from its primary (`redis_master_last_io_seconds_ago`, used as seconds of lag) and its
//! own offset; the primary knows its `redis_master_repl_offset`. Byte lag is the difference,
//! joined across the two sources by [`join_offsets`] after every preset has run.

use super::{Input, Output, expect, first_named, history_values};
use crate::store::model::{LinkState, ReplicationKind, ReplicationLink};

/// A primary's replication offset, for the cross-source join.
#[derive(Debug, Clone)]
pub struct Offset {
    pub environment: String,
    pub node: String,
    pub master_repl_offset: f64,
}

/// What this preset reads.
pub(super) const METRICS: &[&str] = &[
    "redis_up",
    "redis_connected_slaves",
    "redis_instance_info",
    "redis_master_repl_offset",
    "redis_master_link_up",
    "redis_slave_repl_offset",
    "redis_master_last_io_seconds_ago",
    "redis_slave_info",
];

pub(super) fn derive(input: &Input<'_>, out: &mut Output) {
    expect(input, out, &[&["redis_up"], &["redis_connected_slaves"]]);
    let t = input.table;
    let role_label = t
        .named("redis_instance_info")
        .next()
        .and_then(|s| s.label("role"))
        .map(str::to_owned);
    let is_replica = input.role() == Some("replica") || role_label.as_deref() == Some("slave");
    if !is_replica {
        if let Some(offset) = t.value("redis_master_repl_offset", &[]) {
            out.redis_offsets.push(Offset {
                environment: input.env.name.clone(),
                node: input.node_name(),
                master_repl_offset: offset,
            });
        }
        return;
    }
    if input.role() == Some("replica") {
        expect(
            input,
            out,
            &[&["redis_master_link_up"], &["redis_slave_repl_offset"]],
        );
    }
    let redis_up = input.up && t.value("redis_up", &[]) != Some(0.0);
    let link_up = t.value("redis_master_link_up", &[]).map(|v| v == 1.0);
    let last_io = first_named(t, &["redis_master_last_io_seconds_ago"]);
    let primary = input
        .extra("primary")
        .map(str::to_owned)
        .or_else(|| {
            t.named("redis_slave_info").next().and_then(|s| {
                Some(format!(
                    "{}:{}",
                    s.label("master_host")?,
                    s.label("master_port")?
                ))
            })
        })
        .unwrap_or_else(|| "?".to_owned());
    out.links.push(ReplicationLink {
        environment: input.env.name.clone(),
        cluster: input.metrics.placement.cluster.clone(),
        kind: ReplicationKind::Redis,
        primary,
        replica: input.node_name(),
        lag_seconds: if link_up == Some(true) {
            last_io
                .map(|s| s.value)
                .filter(|v| v.is_finite() && *v >= 0.0)
        } else {
            None
        },
        // Negative until joined: the replica's own offset, replaced by the difference.
        lag_bytes: t.value("redis_slave_repl_offset", &[]).map(|v| -v),
        state: match link_up {
            Some(up) if redis_up => LinkState::Link { up },
            _ if !redis_up && input.up => LinkState::Link { up: false },
            _ => LinkState::Unknown,
        },
        lag_history: last_io.map(|s| history_values(t, s)).unwrap_or_default(),
        source: input.spec.id,
    });
}

/// Turn each Redis replica's stashed offset into byte lag against its primary's offset.
pub fn join_offsets(links: &mut [ReplicationLink], offsets: &[Offset]) {
    for link in links
        .iter_mut()
        .filter(|l| l.kind == ReplicationKind::Redis)
    {
        let Some(neg_replica_offset) = link.lag_bytes else {
            continue;
        };
        link.lag_bytes = offsets
            .iter()
            .find(|o| o.environment == link.environment && o.node == link.primary)
            .map(|o| (o.master_repl_offset + neg_replica_offset).max(0.0));
    }
}
