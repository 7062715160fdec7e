//! Health endpoints: the shop front and API (`{"status":"UP","checks":{…}}`, Spring-style),
//! OpenSearch `_cluster/health`, and each web node's own check.

use serde_json::{Value, json};

use super::exporters::{Ctx, pg_lag_seconds};
use super::fleet::{self, EnvDef, HealthKind, NodeDef};
use super::timeline::FaultKind;

/// (HTTP status, JSON body) of an environment-level check.
pub fn env_check(ctx: &Ctx<'_>, env: &EnvDef, kind: HealthKind) -> (u16, Value) {
    match kind {
        HealthKind::Storefront => (
            200,
            json!({"status": "UP", "checks": {"db": "UP", "redis": "UP", "search": "UP"}}),
        ),
        HealthKind::Api => {
            // The API reads from PostgreSQL replicas: a lagging one degrades it without
            // taking it down.
            let lagging = fleet::nodes_in(env.name)
                .filter(|n| n.pg.is_some())
                .any(|n| pg_lag_seconds(ctx, env.name, n.name).is_some());
            (
                200,
                json!({"status": "UP", "checks": {
                    "db": "UP",
                    "db_replicas": if lagging { "DEGRADED" } else { "UP" },
                    "queue": "UP",
                    "redis": "UP",
                }}),
            )
        }
        HealthKind::Search => search(ctx, env),
    }
}

/// OpenSearch runs on the web nodes; a down node leaves replicas unassigned.
fn search(ctx: &Ctx<'_>, env: &EnvDef) -> (u16, Value) {
    let nodes: Vec<&NodeDef> = fleet::nodes_in(env.name).filter(|n| n.web).collect();
    let alive = nodes
        .iter()
        .filter(|n| !ctx.node_down(env.name, n.name))
        .count();
    let primaries = 24;
    let missing = nodes.len() - alive;
    let unassigned = missing * primaries * 2 / nodes.len().max(1);
    let status = if alive == nodes.len() {
        "green"
    } else if alive > 0 {
        "yellow"
    } else {
        "red"
    };
    let active = primaries * 2 - unassigned;
    let pct = if primaries > 0 {
        active as f64 * 100.0 / (primaries * 2) as f64
    } else {
        100.0
    };
    (
        200,
        json!({
            "cluster_name": format!("{}-search", &env.name[..4.min(env.name.len())]),
            "status": status,
            "timed_out": false,
            "number_of_nodes": alive,
            "number_of_data_nodes": alive,
            "discovered_master": alive > 0,
            "discovered_cluster_manager": alive > 0,
            "active_primary_shards": primaries,
            "active_shards": active,
            "relocating_shards": 0,
            "initializing_shards": 0,
            "unassigned_shards": unassigned,
            "delayed_unassigned_shards": 0,
            "number_of_pending_tasks": 0,
            "number_of_in_flight_fetch": 0,
            "task_max_waiting_in_queue_millis": 0,
            "active_shards_percent_as_number": pct,
        }),
    )
}

/// A web node's own health check: 503 while the node is down.
pub fn node_check(ctx: &Ctx<'_>, n: &NodeDef) -> (u16, Value) {
    if ctx
        .fault_since(FaultKind::NodeDown, n.env, n.name)
        .is_some()
    {
        return (
            503,
            json!({"status": "DOWN", "checks": {"nginx": "DOWN", "php_fpm": "DOWN"}}),
        );
    }
    (
        200,
        json!({"status": "UP", "checks": {"nginx": "UP", "php_fpm": "UP"}}),
    )
}
