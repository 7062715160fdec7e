//! Sending an [`HttpInvocation`]: one request under the run's timeout, its status as the
//! run's [`Termination::Http`], its body streamed into the output as lines.
//!
//! The client is built like the pollers' (rustls with the ring provider) but on its own:
//! actions do not follow redirects — a redirected POST silently turning into a GET
//! elsewhere is not what an engineer confirmed — so a 3xx is reported as it is. TLS
//! certificates are verified unless the invocation says otherwise (a silence to an
//! Alertmanager source configured with `insecure_skip_verify`). Secret headers are marked
//! sensitive and leave the process only in the request. Cancelling drops the request (and
//! its connection).

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use tokio::sync::watch;

use super::invocation::{HttpInvocation, OutputStream, Termination};
use super::runner::OutputSink;
use crate::source::http::{USER_AGENT, map_reqwest_error};

/// Most of a response body shown; the rest is not read.
pub const MAX_BODY_BYTES: u64 = 1024 * 1024;

/// The HTTP clients for actions, each built on first use (a console that never sends one
/// never builds it): one verifying certificates, and one that does not, for silences sent
/// to an Alertmanager source configured with `insecure_skip_verify`.
#[derive(Default)]
pub(crate) struct Client {
    client: OnceLock<Result<reqwest::Client, String>>,
    insecure: OnceLock<Result<reqwest::Client, String>>,
}

impl Client {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn get(&self, insecure: bool) -> Result<&reqwest::Client, String> {
        let cell = if insecure {
            &self.insecure
        } else {
            &self.client
        };
        cell.get_or_init(|| {
            // Err means a provider is already installed process-wide, which will do.
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder()
                .user_agent(USER_AGENT)
                .redirect(reqwest::redirect::Policy::none())
                .danger_accept_invalid_certs(insecure)
                .build()
                .map_err(|e| format!("cannot build HTTP client: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
    }

    /// Send `inv` and stream the answer into `out`.
    pub(crate) async fn run(
        &self,
        inv: &HttpInvocation,
        timeout: Duration,
        cancel: &mut watch::Receiver<bool>,
        out: &mut OutputSink,
    ) -> Termination {
        if *cancel.borrow() {
            return Termination::Cancelled { killed: false };
        }
        let (client, request) = match self.build(inv) {
            Ok(r) => r,
            Err(reason) => return Termination::Failed { reason },
        };
        let deadline = super::exec::after(timeout);
        let termination = tokio::select! {
            t = send(client, request, out) => t,
            _ = tokio::time::sleep_until(deadline) => {
                out.note(&format!("timed out after {}: request dropped", humantime::format_duration(timeout))).await;
                Termination::TimedOut { killed: false }
            }
            _ = cancelled(cancel) => {
                out.note("cancelled: request dropped").await;
                Termination::Cancelled { killed: false }
            }
        };
        out.close(OutputStream::Stdout).await;
        termination
    }

    fn build(&self, inv: &HttpInvocation) -> Result<(&reqwest::Client, reqwest::Request), String> {
        let client = self.get(inv.insecure_skip_verify)?;
        let method = reqwest::Method::from_bytes(inv.method.as_bytes())
            .map_err(|_| format!("invalid HTTP method {:?}", inv.method))?;
        let mut request = client.request(method, inv.url.clone());
        let mut has_content_type = false;
        for (name, value) in &inv.headers {
            let name = header_name(name)?;
            has_content_type |= name == CONTENT_TYPE;
            let value = HeaderValue::from_str(value)
                .map_err(|_| format!("invalid value for header {name}"))?;
            request = request.header(name, value);
        }
        for (name, secret) in &inv.secret_headers {
            let name = header_name(name)?;
            // The one place a secret header leaves the process. The error names the
            // header, never the value.
            let mut value = HeaderValue::from_str(secret.expose())
                .map_err(|_| format!("invalid value for secret header {name}"))?;
            value.set_sensitive(true);
            request = request.header(name, value);
        }
        if let Some(body) = &inv.body {
            if !has_content_type {
                request = request.header(CONTENT_TYPE, "application/json");
            }
            request = request.body(body.clone());
        }
        let request = request
            .build()
            .map_err(|e| format!("invalid request: {}", map_reqwest_error(e)))?;
        Ok((client, request))
    }
}

fn header_name(name: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("invalid header name {name:?}"))
}

async fn send(
    client: &reqwest::Client,
    request: reqwest::Request,
    out: &mut OutputSink,
) -> Termination {
    let mut response = match client.execute(request).await {
        Ok(r) => r,
        Err(e) => {
            return Termination::Failed {
                reason: map_reqwest_error(e).to_string(),
            };
        }
    };
    let status = response.status();
    out.note(&format!(
        "HTTP {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    ))
    .await;
    // A JSON answer is shown pretty-printed (one field per line reads in a narrow pane;
    // one 1000-character line does not), so it is gathered first; anything else streams.
    let json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let mut gathered = json.then(Vec::new);
    let mut read = 0u64;
    loop {
        match response.chunk().await {
            Ok(Some(chunk))
                if gathered.is_some() && read + (chunk.len() as u64) <= MAX_BODY_BYTES =>
            {
                read += chunk.len() as u64;
                if let Some(g) = gathered.as_mut() {
                    g.extend_from_slice(&chunk);
                }
            }
            Ok(Some(chunk)) if gathered.is_some() => {
                // Too big to gather: show what came as it is, then go on streaming.
                if let Some(g) = gathered.take() {
                    out.push(OutputStream::Stdout, &g).await;
                }
                let room = MAX_BODY_BYTES - read;
                let take = chunk.len().min(room as usize);
                read += take as u64;
                out.push(OutputStream::Stdout, &chunk[..take]).await;
                if take < chunk.len() {
                    out.close(OutputStream::Stdout).await;
                    out.note(&format!("response body cut at {MAX_BODY_BYTES} bytes"))
                        .await;
                    break;
                }
            }
            Ok(Some(chunk)) => {
                let room = MAX_BODY_BYTES - read;
                if chunk.len() as u64 > room {
                    // room < chunk.len(), so the range is inside the chunk.
                    out.push(OutputStream::Stdout, &chunk[..room as usize])
                        .await;
                    out.close(OutputStream::Stdout).await;
                    out.note(&format!("response body cut at {MAX_BODY_BYTES} bytes"))
                        .await;
                    break;
                }
                read += chunk.len() as u64;
                out.push(OutputStream::Stdout, &chunk).await;
            }
            Ok(None) => {
                if let Some(g) = gathered.take() {
                    let pretty = serde_json::from_slice::<serde_json::Value>(&g)
                        .ok()
                        .and_then(|v| serde_json::to_vec_pretty(&v).ok());
                    out.push(OutputStream::Stdout, pretty.as_deref().unwrap_or(&g))
                        .await;
                }
                break;
            }
            Err(e) => {
                if let Some(g) = gathered.take() {
                    out.push(OutputStream::Stdout, &g).await;
                }
                // The status came: the action was received. Say the body broke off.
                out.close(OutputStream::Stdout).await;
                out.note(&format!(
                    "response body cut short: {}",
                    map_reqwest_error(e)
                ))
                .await;
                break;
            }
        }
    }
    Termination::Http {
        status: status.as_u16(),
    }
}

/// Resolves once `cancel` is true; never, if its sender is gone without cancelling.
pub(crate) async fn cancelled(cancel: &mut watch::Receiver<bool>) {
    loop {
        if *cancel.borrow_and_update() {
            return;
        }
        if cancel.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
