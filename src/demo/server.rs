//! The HTTP side: one axum server on 127.0.0.1 answering every impersonated endpoint plus
//! the control API (`GET /control/faults`, `POST /control/repair`), and the demo
//! Alertmanager's silence writes (`POST …/silences`, `DELETE …/silence/{id}`).
//!
//! Exporter paths are looked up in a table built from the fleet; handlers take a
//! snapshot of the clock and the interventions and render from that.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};

use super::alerts::{Filter, alerts_json};
use super::catalog;
use super::clock::Clock;
use super::exporters::{self, Ctx};
use super::fleet::{self, Exporter, Route};
use super::health;
use super::silences::{self, DemoSilence, Refusal};
use super::timeline::{FaultStatus, Interventions, RepairError, RepairOutcome, RepairRequest};

const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// State shared by all handlers and the `DemoFleet` handle.
pub struct Shared {
    pub seed: u64,
    pub clock: Arc<dyn Clock>,
    pub hostile: bool,
    pub start: DateTime<Utc>,
    pub interventions: Mutex<Interventions>,
    routes: HashMap<String, Route>,
}

impl Shared {
    pub fn new(seed: u64, clock: Arc<dyn Clock>, hostile: bool) -> Self {
        let start = clock.now();
        Self {
            seed,
            clock,
            hostile,
            start,
            interventions: Mutex::new(Interventions::default()),
            routes: fleet::routes().into_iter().collect(),
        }
    }

    fn interventions(&self) -> Interventions {
        // A poisoned lock means a handler panicked while holding it; the data is plain
        // values and still consistent, so keep serving.
        self.interventions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// (now, elapsed seconds since start, never negative).
    fn now(&self) -> (DateTime<Utc>, f64) {
        let now = self.clock.now();
        let ms = (now - self.start).num_milliseconds().max(0);
        (now, ms as f64 / 1000.0)
    }

    pub fn faults(&self) -> Vec<FaultStatus> {
        let (_, e) = self.now();
        self.interventions().statuses(self.start, e)
    }

    pub fn repair(&self, req: &RepairRequest) -> Result<RepairOutcome, RepairError> {
        let (_, e) = self.now();
        let out = self
            .interventions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .apply(req, e);
        match &out {
            Ok(o) => {
                tracing::info!(action = %o.action, env = %o.env, repaired = ?o.repaired, "demo repair")
            }
            Err(err) => tracing::debug!(%err, "demo repair refused"),
        }
        out
    }

    /// The standing silence and those operators created, in one environment.
    fn silences_of(&self, iv: &Interventions, env: &str) -> Vec<DemoSilence> {
        let mut out = vec![silences::standing(self.seed, env, self.start)];
        out.extend(iv.silences.iter().filter(|s| s.env == env).cloned());
        out
    }

    /// `POST …/api/v2/silences`: create a silence, as Alertmanager answers it.
    pub fn create_silence(&self, env: &str, body: &[u8]) -> Result<String, Refusal> {
        let (now, _) = self.now();
        let mut iv = self.interventions.lock().unwrap_or_else(|e| e.into_inner());
        let silence = silences::create(self.seed, env, body, now, iv.silences.len())?;
        let id = silence.id.clone();
        tracing::info!(%env, %id, by = %silence.created_by, "demo silence created");
        iv.silences.push(silence);
        Ok(id)
    }

    /// `DELETE …/api/v2/silence/{id}`.
    pub fn expire_silence(&self, env: &str, id: &str) -> Result<(), Refusal> {
        let (now, _) = self.now();
        let mut iv = self.interventions.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = iv.silences.iter_mut().find(|s| s.env == env && s.id == id) {
            return silences::expire(s, now);
        }
        if silences::standing(self.seed, env, self.start).id == id {
            return Err((
                403,
                "the demo's standing silence belongs to another team; expire one you created"
                    .to_owned(),
            ));
        }
        Err((500, "silence not found".to_owned()))
    }

    /// Render the endpoint at `path`, or `None` if there is none.
    pub fn render(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Option<(u16, &'static str, String)> {
        let route = *self.routes.get(path)?;
        let (now, e) = self.now();
        let iv = self.interventions();
        let ctx = Ctx {
            seed: self.seed,
            now,
            now_s: now.timestamp_millis() as f64 / 1000.0,
            start_s: self.start.timestamp_millis() as f64 / 1000.0,
            e,
            iv: &iv,
            hostile: self.hostile,
        };
        let json = "application/json";
        Some(match route {
            Route::Metrics(n, x) => {
                if ctx.node_down(n.env, n.name) {
                    return Some((
                        503,
                        "text/plain; charset=utf-8",
                        format!("{} is down\n", n.name),
                    ));
                }
                let body = match x {
                    Exporter::Node => exporters::node_exporter(&ctx, n),
                    Exporter::App => exporters::app(&ctx, n),
                    Exporter::Mysqld => exporters::mysqld(&ctx, n),
                    Exporter::Postgres => exporters::postgres(&ctx, n),
                    Exporter::Redis => exporters::redis(&ctx, n),
                };
                (200, TEXT_FORMAT, body)
            }
            Route::Queues(env) => (200, TEXT_FORMAT, exporters::queues(&ctx, env)),
            Route::Pushgateway(env) => (200, TEXT_FORMAT, exporters::pushgateway(&ctx, env)),
            Route::NodeHealth(n) => {
                let (status, body) = health::node_check(&ctx, n);
                (status, json, body.to_string())
            }
            Route::Health(env, h) => {
                let (status, body) = health::env_check(&ctx, env, h.kind);
                (status, json, body.to_string())
            }
            Route::Alerts(env) => {
                let silences = self.silences_of(&iv, env.name);
                let silences: Vec<&DemoSilence> = silences.iter().collect();
                (
                    200,
                    json,
                    alerts_json(&ctx, env, Filter::from_query(query), &silences),
                )
            }
            Route::Silences(env) => {
                let silences = self.silences_of(&iv, env.name);
                let silences: Vec<&DemoSilence> = silences.iter().collect();
                (200, json, silences::list_json(&silences, now))
            }
            Route::Catalog(env, c) => (200, json, catalog::catalog_json(&ctx, env, c)),
        })
    }
}

fn respond(status: u16, content_type: &'static str, body: String) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

fn json_response<T: serde::Serialize>(status: u16, value: &T) -> Response {
    let body = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned());
    respond(status, "application/json", body)
}

async fn dispatch(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return silence_write(&shared, &method, uri.path(), &body);
    }
    let query: Vec<(String, String)> = query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    match shared.render(uri.path(), &query) {
        Some((status, ct, body)) => respond(status, ct, body),
        None => json_response(
            404,
            &serde_json::json!({"error": format!("no demo endpoint at {}", uri.path())}),
        ),
    }
}

/// Alertmanager's write endpoints: `POST /env/{env}/alertmanager/api/v2/silences` and
/// `DELETE /env/{env}/alertmanager/api/v2/silence/{id}`. Errors are JSON strings, as
/// Alertmanager sends them.
fn silence_write(shared: &Shared, method: &Method, path: &str, body: &[u8]) -> Response {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let refused = |(status, msg): Refusal| json_response(status, &msg);
    match (method, parts.as_slice()) {
        (m, ["env", env, "alertmanager", "api", "v2", "silences"])
            if *m == Method::POST && fleet::env(env).is_some_and(|e| e.alertmanager) =>
        {
            match shared.create_silence(env, body) {
                Ok(id) => json_response(200, &serde_json::json!({ "silenceID": id })),
                Err(r) => refused(r),
            }
        }
        (m, ["env", env, "alertmanager", "api", "v2", "silence", id])
            if *m == Method::DELETE && fleet::env(env).is_some_and(|e| e.alertmanager) =>
        {
            // Ids are UUIDs: nothing in them is percent-encoded.
            match shared.expire_silence(env, id) {
                Ok(()) => respond(200, "application/json", String::new()),
                Err(r) => refused(r),
            }
        }
        _ => json_response(
            405,
            &serde_json::json!({"error": format!("{method} is not served at {path}")}),
        ),
    }
}

async fn faults(State(shared): State<Arc<Shared>>) -> Response {
    json_response(200, &shared.faults())
}

async fn repair(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let req: RepairRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return json_response(
                400,
                &serde_json::json!({"ok": false, "error": format!("bad request body: {e}")}),
            );
        }
    };
    match shared.repair(&req) {
        Ok(out) => json_response(
            200,
            &serde_json::json!({
                "ok": true,
                "action": out.action,
                "env": out.env,
                "target": out.target,
                "repaired": out.repaired,
                "message": out.message,
            }),
        ),
        Err(err) => json_response(
            err.status(),
            &serde_json::json!({"ok": false, "error": err.to_string()}),
        ),
    }
}

async fn index() -> impl IntoResponse {
    let paths: Vec<String> = fleet::routes().into_iter().map(|(p, _)| p).collect();
    json_response(
        200,
        &serde_json::json!({"endpoints": paths, "control": ["/control/faults", "/control/repair"]}),
    )
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/control/faults", get(faults))
        .route("/control/repair", post(repair))
        .fallback(dispatch)
        .with_state(shared)
}
