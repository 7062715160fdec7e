//! The fleet's shape: environments, nodes, the exporters each node runs, health checks,
//! backup jobs and backup catalogs, and the URL layout and config that follow from them.
//!
//! Everything here is static data; adding a node is adding a row, not code.

use std::fmt::Write as _;

/// One environment of the fleet.
#[derive(Debug)]
pub struct EnvDef {
    pub name: &'static str,
    pub tier: &'static str,
    /// Environment-level health checks.
    pub health: &'static [HealthDef],
    /// Backup jobs reported through this environment's Pushgateway.
    pub backups: &'static [BackupDef],
    /// Backup catalogs served as JSON (one per service), each judged against a named
    /// retention policy.
    pub catalogs: &'static [CatalogDef],
    /// Work queues exposed on the `queues` endpoint (none: no endpoint).
    pub queues: &'static [&'static str],
    pub alertmanager: bool,
    /// Whether the web tier is deployed blue/green (exposes `deploy_traffic_weight`).
    pub blue_green: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthKind {
    /// The shop front: `{"status":"UP","checks":{…}}`.
    Storefront,
    /// The API tier behind the cloud design (PostgreSQL, Redis cluster, queues).
    Api,
    /// OpenSearch `_cluster/health`.
    Search,
}

#[derive(Debug)]
pub struct HealthDef {
    pub name: &'static str,
    pub kind: HealthKind,
}

/// A backup job: how often it runs, where, and the policy it is judged against.
#[derive(Debug)]
pub struct BackupDef {
    pub service: &'static str,
    /// Node the job runs on (the Pushgateway `instance` label).
    pub instance: &'static str,
    pub interval_secs: u64,
    pub rpo_secs: u64,
    pub size_bytes: f64,
    pub duration_secs: f64,
}

/// A backup catalog: the service's history of backups in the generic catalog format.
#[derive(Debug)]
pub struct CatalogDef {
    pub service: &'static str,
    /// The retention preset its backup policy names.
    pub retention: &'static str,
    /// Size of a full backup, in bytes (incrementals are a few percent of it).
    pub full_bytes: f64,
    /// The daily backup of the UTC day this many days before the demo started failed,
    /// leaving one daily retention slot uncovered.
    pub failed_day_before_start: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MysqlRole {
    /// A lone server (no replication).
    Single,
    /// A Galera cluster member.
    Galera,
    /// An asynchronous replica of `primary`.
    Replica { primary: &'static str },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbRole {
    Single,
    Primary,
    Replica { primary: &'static str },
}

#[derive(Debug)]
pub struct MysqlDef {
    pub cluster: &'static str,
    pub role: MysqlRole,
}

#[derive(Debug)]
pub struct PgDef {
    pub cluster: &'static str,
    pub role: DbRole,
}

#[derive(Debug)]
pub struct RedisDef {
    pub cluster: &'static str,
    pub role: DbRole,
    /// Shard number for Redis Cluster members.
    pub shard: Option<u8>,
}

/// A host (or a managed instance) and what runs on it.
#[derive(Debug)]
pub struct NodeDef {
    pub env: &'static str,
    pub name: &'static str,
    pub role: &'static str,
    pub ip: &'static str,
    pub cpus: u32,
    pub mem_gib: u32,
    pub disk_gib: u32,
    /// Runs node_exporter (managed cache instances do not).
    pub node_exporter: bool,
    /// Web node: nginx + PHP-FPM app metrics and a per-node health endpoint.
    pub web: bool,
    pub mysql: Option<MysqlDef>,
    pub pg: Option<PgDef>,
    pub redis: Option<RedisDef>,
}

const fn host(
    env: &'static str,
    name: &'static str,
    role: &'static str,
    ip: &'static str,
) -> NodeDef {
    NodeDef {
        env,
        name,
        role,
        ip,
        cpus: 4,
        mem_gib: 16,
        disk_gib: 100,
        node_exporter: true,
        web: false,
        mysql: None,
        pg: None,
        redis: None,
    }
}

/// Web nodes come in two sizes: (CPUs, GiB of memory).
const STAGING_WEB: (u32, u32) = (4, 16);
const PROD_WEB: (u32, u32) = (8, 32);

const fn web(
    env: &'static str,
    name: &'static str,
    ip: &'static str,
    galera: &'static str,
    redis_cluster: &'static str,
    redis_role: DbRole,
    (cpus, mem_gib): (u32, u32),
) -> NodeDef {
    NodeDef {
        cpus,
        mem_gib,
        disk_gib: 200,
        web: true,
        mysql: Some(MysqlDef {
            cluster: galera,
            role: MysqlRole::Galera,
        }),
        redis: Some(RedisDef {
            cluster: redis_cluster,
            role: redis_role,
            shard: None,
        }),
        ..host(env, name, "web", ip)
    }
}

const fn pg(name: &'static str, ip: &'static str, role: DbRole) -> NodeDef {
    NodeDef {
        cpus: 8,
        mem_gib: 64,
        disk_gib: 1000,
        pg: Some(PgDef {
            cluster: "prod-pg",
            role,
        }),
        ..host("production", name, "db", ip)
    }
}

const fn rcluster(name: &'static str, ip: &'static str, shard: u8, role: DbRole) -> NodeDef {
    NodeDef {
        node_exporter: false,
        cpus: 2,
        mem_gib: 8,
        redis: Some(RedisDef {
            cluster: "prod-rcluster",
            role,
            shard: Some(shard),
        }),
        ..host("production", name, "cache", ip)
    }
}

pub static ENVIRONMENTS: &[EnvDef] = &[
    EnvDef {
        name: "integration",
        tier: "integration",
        health: &[HealthDef {
            name: "storefront",
            kind: HealthKind::Storefront,
        }],
        backups: &[],
        catalogs: &[],
        queues: &[],
        alertmanager: false,
        blue_green: false,
    },
    EnvDef {
        name: "staging",
        tier: "staging",
        health: &[
            HealthDef {
                name: "storefront",
                kind: HealthKind::Storefront,
            },
            HealthDef {
                name: "opensearch",
                kind: HealthKind::Search,
            },
        ],
        backups: &[
            BackupDef {
                service: "galera",
                instance: "stg-web1",
                interval_secs: 3600,
                rpo_secs: 4 * 3600,
                size_bytes: 3.2e8,
                duration_secs: 95.0,
            },
            BackupDef {
                service: "opensearch",
                instance: "stg-web1",
                interval_secs: 3600,
                rpo_secs: 4 * 3600,
                size_bytes: 1.1e8,
                duration_secs: 310.0,
            },
        ],
        catalogs: &[],
        queues: &[],
        alertmanager: true,
        blue_green: false,
    },
    EnvDef {
        name: "production",
        tier: "production",
        health: &[
            HealthDef {
                name: "storefront",
                kind: HealthKind::Storefront,
            },
            HealthDef {
                name: "api",
                kind: HealthKind::Api,
            },
            HealthDef {
                name: "opensearch",
                kind: HealthKind::Search,
            },
        ],
        // RPO 15 min (the cloud design): the databases are backed up every 5 minutes
        // (incremental / WAL), caches and search hourly.
        backups: &[
            BackupDef {
                service: "galera",
                instance: "prod-web1",
                interval_secs: 300,
                rpo_secs: 900,
                size_bytes: 1.2e9,
                duration_secs: 48.0,
            },
            BackupDef {
                service: "postgresql",
                instance: "prod-pg2",
                interval_secs: 300,
                rpo_secs: 900,
                size_bytes: 5.4e8,
                duration_secs: 31.0,
            },
            BackupDef {
                service: "redis",
                instance: "prod-rc1b",
                interval_secs: 3600,
                rpo_secs: 2 * 3600,
                size_bytes: 2.1e8,
                duration_secs: 12.0,
            },
            BackupDef {
                service: "opensearch",
                instance: "prod-web1",
                interval_secs: 3600,
                rpo_secs: 4 * 3600,
                size_bytes: 4.3e9,
                duration_secs: 420.0,
            },
        ],
        // The galera history has one failed nightly backup five days before the demo
        // starts: the Backups view shows a gap in the daily tier of the commerce policy.
        catalogs: &[CatalogDef {
            service: "galera",
            retention: "commerce",
            full_bytes: 1.2e9,
            failed_day_before_start: 5,
        }],
        queues: &[
            "ai_schedule_generation",
            "email_notifications",
            "order_export",
            "search_reindex",
        ],
        alertmanager: true,
        blue_green: true,
    },
];

pub static NODES: &[NodeDef] = &[
    NodeDef {
        mem_gib: 8,
        disk_gib: 80,
        mysql: Some(MysqlDef {
            cluster: "int-mysql",
            role: MysqlRole::Single,
        }),
        redis: Some(RedisDef {
            cluster: "int-redis",
            role: DbRole::Single,
            shard: None,
        }),
        ..host("integration", "int-aio", "aio", "10.10.0.10")
    },
    web(
        "staging",
        "stg-web1",
        "10.20.0.11",
        "stg-galera",
        "stg-redis",
        DbRole::Primary,
        STAGING_WEB,
    ),
    web(
        "staging",
        "stg-web2",
        "10.20.0.12",
        "stg-galera",
        "stg-redis",
        DbRole::Replica {
            primary: "stg-web1",
        },
        STAGING_WEB,
    ),
    web(
        "staging",
        "stg-web3",
        "10.20.0.13",
        "stg-galera",
        "stg-redis",
        DbRole::Replica {
            primary: "stg-web1",
        },
        STAGING_WEB,
    ),
    web(
        "production",
        "prod-web1",
        "10.30.0.11",
        "prod-galera",
        "prod-redis",
        DbRole::Primary,
        PROD_WEB,
    ),
    web(
        "production",
        "prod-web2",
        "10.30.0.12",
        "prod-galera",
        "prod-redis",
        DbRole::Replica {
            primary: "prod-web1",
        },
        PROD_WEB,
    ),
    web(
        "production",
        "prod-web3",
        "10.30.0.13",
        "prod-galera",
        "prod-redis",
        DbRole::Replica {
            primary: "prod-web1",
        },
        PROD_WEB,
    ),
    // An asynchronous reporting replica off the Galera cluster: the fleet's plain MySQL
    // replication link.
    NodeDef {
        disk_gib: 500,
        mysql: Some(MysqlDef {
            cluster: "prod-galera",
            role: MysqlRole::Replica {
                primary: "prod-web1",
            },
        }),
        ..host("production", "prod-dbr1", "db", "10.30.0.21")
    },
    pg("prod-pg1", "10.30.1.11", DbRole::Primary),
    pg(
        "prod-pg2",
        "10.30.1.12",
        DbRole::Replica {
            primary: "prod-pg1",
        },
    ),
    pg(
        "prod-pg3",
        "10.30.1.13",
        DbRole::Replica {
            primary: "prod-pg1",
        },
    ),
    rcluster("prod-rc1a", "10.30.2.11", 1, DbRole::Primary),
    rcluster(
        "prod-rc1b",
        "10.30.2.12",
        1,
        DbRole::Replica {
            primary: "prod-rc1a",
        },
    ),
    rcluster("prod-rc2a", "10.30.2.21", 2, DbRole::Primary),
    rcluster(
        "prod-rc2b",
        "10.30.2.22",
        2,
        DbRole::Replica {
            primary: "prod-rc2a",
        },
    ),
    rcluster("prod-rc3a", "10.30.2.31", 3, DbRole::Primary),
    rcluster(
        "prod-rc3b",
        "10.30.2.32",
        3,
        DbRole::Replica {
            primary: "prod-rc3a",
        },
    ),
];

pub fn env(name: &str) -> Option<&'static EnvDef> {
    ENVIRONMENTS.iter().find(|e| e.name == name)
}

pub fn node(env: &str, name: &str) -> Option<&'static NodeDef> {
    NODES.iter().find(|n| n.env == env && n.name == name)
}

pub fn nodes_in(env: &str) -> impl Iterator<Item = &'static NodeDef> + use<'_> {
    NODES.iter().filter(move |n| n.env == env)
}

/// Which exporter of a node an endpoint impersonates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exporter {
    Node,
    App,
    Mysqld,
    Postgres,
    Redis,
}

impl Exporter {
    pub fn slug(self) -> &'static str {
        match self {
            Exporter::Node => "node",
            Exporter::App => "app",
            Exporter::Mysqld => "mysqld",
            Exporter::Postgres => "postgres",
            Exporter::Redis => "redis",
        }
    }

    fn preset(self) -> &'static str {
        match self {
            Exporter::App => "generic",
            other => other.slug(),
        }
    }
}

/// Everything the server can answer, keyed by path.
#[derive(Debug, Clone, Copy)]
pub enum Route {
    Metrics(&'static NodeDef, Exporter),
    NodeHealth(&'static NodeDef),
    Health(&'static EnvDef, &'static HealthDef),
    Queues(&'static EnvDef),
    Pushgateway(&'static EnvDef),
    Alerts(&'static EnvDef),
    /// `GET` lists; `POST` on the same path creates (see the server).
    Silences(&'static EnvDef),
    Catalog(&'static EnvDef, &'static CatalogDef),
}

/// The exporters a node runs, in a fixed order.
pub fn exporters(n: &NodeDef) -> Vec<Exporter> {
    let mut v = Vec::new();
    if n.node_exporter {
        v.push(Exporter::Node);
    }
    if n.web {
        v.push(Exporter::App);
    }
    if n.mysql.is_some() {
        v.push(Exporter::Mysqld);
    }
    if n.pg.is_some() {
        v.push(Exporter::Postgres);
    }
    if n.redis.is_some() {
        v.push(Exporter::Redis);
    }
    v
}

/// Every (path, route) the server answers, in config order.
pub fn routes() -> Vec<(String, Route)> {
    let mut out = Vec::new();
    for e in ENVIRONMENTS {
        for h in e.health {
            out.push((
                format!("/env/{}/health/{}", e.name, h.name),
                Route::Health(e, h),
            ));
        }
        for n in nodes_in(e.name) {
            for x in exporters(n) {
                out.push((
                    format!("/env/{}/{}/{}/metrics", e.name, n.name, x.slug()),
                    Route::Metrics(n, x),
                ));
            }
            if n.web {
                out.push((
                    format!("/env/{}/{}/health", e.name, n.name),
                    Route::NodeHealth(n),
                ));
            }
        }
        if !e.queues.is_empty() {
            out.push((format!("/env/{}/queues/metrics", e.name), Route::Queues(e)));
        }
        if !e.backups.is_empty() {
            out.push((
                format!("/env/{}/pushgateway/metrics", e.name),
                Route::Pushgateway(e),
            ));
        }
        for c in e.catalogs {
            out.push((catalog_path(e, c), Route::Catalog(e, c)));
        }
        if e.alertmanager {
            out.push((
                format!("/env/{}/alertmanager/api/v2/alerts", e.name),
                Route::Alerts(e),
            ));
            out.push((
                format!("/env/{}/alertmanager/api/v2/silences", e.name),
                Route::Silences(e),
            ));
        }
    }
    out
}

/// Where a backup catalog is served.
pub fn catalog_path(e: &EnvDef, c: &CatalogDef) -> String {
    format!("/env/{}/backups/{}/catalog.json", e.name, c.service)
}

/// A TOML basic string.
fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn inline_table(pairs: &[(&str, String)]) -> String {
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k} = {}", q(v)))
        .collect();
    format!("{{ {} }}", body.join(", "))
}

/// The placement labels of one exporter, as the config declares them.
pub fn placement(n: &NodeDef, x: Exporter) -> Vec<(&'static str, String)> {
    let mut l = vec![("node", n.name.to_owned())];
    let role_name = |r: DbRole| match r {
        DbRole::Single | DbRole::Primary => "primary",
        DbRole::Replica { .. } => "replica",
    };
    match x {
        Exporter::Node => l.push(("role", n.role.to_owned())),
        Exporter::App => {
            l.push(("role", n.role.to_owned()));
            l.push(("service", "storefront".to_owned()));
        }
        Exporter::Mysqld => {
            if let Some(m) = &n.mysql {
                let (role, primary) = match m.role {
                    MysqlRole::Single => ("primary", None),
                    MysqlRole::Galera => ("galera", None),
                    MysqlRole::Replica { primary } => ("replica", Some(primary)),
                };
                l.push(("role", role.to_owned()));
                l.push(("cluster", m.cluster.to_owned()));
                l.push(("service", "mariadb".to_owned()));
                if let Some(p) = primary {
                    l.push(("primary", p.to_owned()));
                }
            }
        }
        Exporter::Postgres => {
            if let Some(p) = &n.pg {
                l.push(("role", role_name(p.role).to_owned()));
                l.push(("cluster", p.cluster.to_owned()));
                l.push(("service", "postgresql".to_owned()));
                if let DbRole::Replica { primary } = p.role {
                    l.push(("primary", primary.to_owned()));
                }
            }
        }
        Exporter::Redis => {
            if let Some(r) = &n.redis {
                l.push(("role", role_name(r.role).to_owned()));
                l.push(("cluster", r.cluster.to_owned()));
                l.push(("service", "redis".to_owned()));
                if let DbRole::Replica { primary } = r.role {
                    l.push(("primary", primary.to_owned()));
                }
                if let Some(s) = r.shard {
                    l.push(("shard", s.to_string()));
                }
            }
        }
    }
    l
}

fn fmt_secs(s: u64) -> String {
    if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// The config (schema in the crate's config module) that points the console at a fleet
/// served from `base` (e.g. `http://127.0.0.1:41234`, no trailing slash).
pub fn config_toml(base: &str, probe_program: Option<&str>) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# Generated by `watchdeck --demo`: an embedded fleet on {base}.\n"
    );
    for e in ENVIRONMENTS {
        let _ = writeln!(
            t,
            "[[environment]]\nname = {}\ntier = {}\n",
            q(e.name),
            q(e.tier)
        );
        for h in e.health {
            let cond = match h.kind {
                HealthKind::Storefront | HealthKind::Api => "body.status == \"UP\"",
                // Yellow (replicas unassigned) still serves queries: only red is down.
                HealthKind::Search => "body.status != \"red\"",
            };
            let _ = writeln!(
                t,
                "  [[environment.health]]\n  name = {}\n  url = {}\n  expect_status = 200\n  conditions = ['{cond}']\n  max_latency = \"500ms\"\n  interval = \"2s\"\n",
                q(h.name),
                q(&format!("{base}/env/{}/health/{}", e.name, h.name)),
            );
        }
        // Per-node health endpoints exist (the load balancer's view) but are not checked
        // here: a node is covered by its node_exporter, and a health check in production
        // pages as an outage, which one web node of three is not.
        for n in nodes_in(e.name) {
            for x in exporters(n) {
                let _ = writeln!(
                    t,
                    "  [[environment.metrics]]\n  name = {}\n  url = {}\n  preset = {}\n  labels = {}\n  interval = \"2s\"\n",
                    q(&format!("{}-{}", n.name, x.slug())),
                    q(&format!(
                        "{base}/env/{}/{}/{}/metrics",
                        e.name,
                        n.name,
                        x.slug()
                    )),
                    q(x.preset()),
                    inline_table(&placement(n, x)),
                );
            }
        }
        if !e.queues.is_empty() {
            let _ = writeln!(
                t,
                "  [[environment.metrics]]\n  name = \"queues\"\n  url = {}\n  preset = \"generic\"\n  labels = {{ service = \"queues\" }}\n  interval = \"2s\"\n",
                q(&format!("{base}/env/{}/queues/metrics", e.name)),
            );
        }
        if !e.backups.is_empty() {
            let _ = writeln!(
                t,
                "  [[environment.metrics]]\n  name = \"pushgateway\"\n  url = {}\n  preset = \"backup\"\n  interval = \"2s\"\n",
                q(&format!("{base}/env/{}/pushgateway/metrics", e.name)),
            );
        }
        if e.alertmanager {
            let _ = writeln!(
                t,
                "  [[environment.alertmanager]]\n  name = \"alertmanager\"\n  url = {}\n  interval = \"2s\"\n",
                q(&format!("{base}/env/{}/alertmanager", e.name)),
            );
        }
        for c in e.catalogs {
            let _ = writeln!(
                t,
                "  [[environment.backup_catalog]]\n  name = {}\n  url = {}\n  format = \"generic\"\n  service = {}\n  interval = \"5s\"\n  timeout = \"2s\"\n",
                q(&format!("{}-catalog", c.service)),
                q(&format!("{base}{}", catalog_path(e, c))),
                q(c.service),
            );
        }
        for b in e.backups {
            let retention = e
                .catalogs
                .iter()
                .find(|c| c.service == b.service)
                .map(|c| format!("  retention = {}\n", q(c.retention)))
                .unwrap_or_default();
            let _ = writeln!(
                t,
                "  [[environment.backup_policy]]\n  service = {}\n  interval = {}\n  rpo = {}\n{retention}",
                q(b.service),
                q(&fmt_secs(b.interval_secs)),
                q(&fmt_secs(b.rpo_secs)),
            );
        }
    }
    t.push_str(&runbooks_toml(base, probe_program));
    t
}

/// The demo's runbooks: HTTP actions on the control API that repair what the fault story
/// breaks (so an incident resolves after its runbook runs), blue/green traffic steps, and
/// one `exec` runbook — watchdeck's own `probe` against a node's exporter — to show a
/// child process streaming its output.
fn runbooks_toml(base: &str, probe_program: Option<&str>) -> String {
    let repair = q(&format!("{base}/control/repair"));
    let faults = q(&format!("{base}/control/faults"));
    let mut t = String::from(
        "# Runbooks: the demo's control API stands in for ssh, the cloud API and the load \
         balancer.\n\n",
    );
    for (name, description, target, body) in [
        (
            "restart_node",
            "Restart a node that stopped answering",
            "node",
            "{ action = \"restart_node\", env = \"{env}\", target = \"{node}\" }",
        ),
        (
            "resync_galera_node",
            "Take a desynced Galera member out and let it rejoin until Synced",
            "node",
            "{ action = \"resync_galera_node\", env = \"{env}\", target = \"{node}\" }",
        ),
        (
            "resync_replica",
            "Restart replication on a replica that stopped or fell behind",
            "replication_link",
            "{ action = \"resync_replica\", env = \"{env}\", target = \"{replica}\" }",
        ),
        (
            "take_backup",
            "Start the service's backup job now",
            "backup_service",
            "{ action = \"take_backup\", env = \"{env}\", target = \"{service}\" }",
        ),
    ] {
        let _ = writeln!(
            t,
            "[[runbook]]\nname = {}\ndescription = {}\ntarget = {}\ntimeout = \"30s\"\nhttp = {{ method = \"POST\", url = {repair}, body = {body} }}\nplan_http = {{ method = \"GET\", url = {faults} }}\n",
            q(name),
            q(description),
            q(target),
        );
    }
    let _ = writeln!(
        t,
        "[[runbook]]\nname = \"shift_traffic\"\ndescription = \"Send a share of traffic to green (5 → 10 → 50 → 100 %)\"\ntarget = \"environment\"\nenvironments = [\"production\"]\ntimeout = \"30s\"\nhttp = {{ method = \"POST\", url = {repair}, body = {{ action = \"shift_traffic\", env = \"{{env}}\", percent = \"{{percent}}\" }} }}\nplan_http = {{ method = \"GET\", url = {faults} }}\n\n  [[runbook.param]]\n  name = \"percent\"\n  type = \"choice\"\n  choices = [\"5\", \"10\", \"50\", \"100\"]\n  description = \"share of traffic for green\"\n"
    );
    let _ = writeln!(
        t,
        "[[runbook]]\nname = \"rollback\"\ndescription = \"Roll back a bad release: all traffic to blue\"\ntarget = \"environment\"\nenvironments = [\"production\"]\ntimeout = \"30s\"\nhttp = {{ method = \"POST\", url = {repair}, body = {{ action = \"rollback\", env = \"{{env}}\" }} }}\nplan_http = {{ method = \"GET\", url = {faults} }}\n"
    );
    if let Some(program) = probe_program {
        let _ = writeln!(
            t,
            "[[runbook]]\nname = \"probe_node_exporter\"\ndescription = \"Fetch and parse the node's exporter the way the console does (watchdeck probe)\"\ntarget = \"node\"\nconfirm = \"yes\"\ntimeout = \"20s\"\nexec = [{}, \"probe\", {}]\n",
            q(program),
            q(&format!("{base}/env/{{env}}/{{node}}/node/metrics")),
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_are_unique_and_envs_exist() {
        let mut seen = std::collections::BTreeSet::new();
        for n in NODES {
            assert!(seen.insert((n.env, n.name)), "duplicate {}", n.name);
            assert!(env(n.env).is_some());
        }
    }

    #[test]
    fn replicas_point_at_existing_primaries() {
        for n in NODES {
            let primaries = [
                n.redis.as_ref().map(|r| r.role),
                n.pg.as_ref().map(|p| p.role),
            ];
            for p in primaries.into_iter().flatten() {
                if let DbRole::Replica { primary } = p {
                    assert!(node(n.env, primary).is_some(), "{primary}");
                }
            }
        }
    }

    #[test]
    fn config_parses_as_toml() {
        let text = config_toml("http://127.0.0.1:1", Some("/usr/bin/watchdeck"));
        let v: toml::Value = toml::from_str(&text).expect("valid toml");
        let envs = v["environment"].as_array().expect("environments");
        assert_eq!(envs.len(), ENVIRONMENTS.len());
    }
}
