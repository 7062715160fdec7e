//! The HTTP layer every poller shares: the clients, one bounded fetch, and the mapping of
//! transport failures to [`PollError`].
//!
//! It owns three rules: one connection pool for all verifying sources (so exporters on the
//! same host reuse connections), a single deadline covering connect + headers + body, and a
//! body size limit enforced while streaming (on decompressed bytes) so a misbehaving
//! endpoint cannot make the console allocate without bound. Credentials are read at every
//! request and never appear in an error.

use std::error::Error as StdError;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, HeaderValue};
use url::Url;

use crate::config::settings::{Auth, SourceSpec};
use crate::sanitize;
use crate::source::PollError;

/// `User-Agent` sent with every request.
pub const USER_AGENT: &str = concat!("watchdeck/", env!("CARGO_PKG_VERSION"));

/// The HTTP client could not be built (e.g. no usable TLS configuration).
#[derive(Debug, thiserror::Error)]
#[error("cannot build HTTP client: {0}")]
pub struct ClientBuildError(String);

/// The HTTP clients shared by all pollers.
///
/// Verifying sources share one `reqwest::Client` (one pool). Sources with
/// `insecure_skip_verify` get a second client, built the first time one is polled so a
/// config without such sources never creates it.
pub struct HttpClients {
    verifying: reqwest::Client,
    insecure: OnceLock<Result<reqwest::Client, String>>,
}

/// A response read in full (within `max_body`).
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    /// The canonical reason phrase for `status` ("Service Unavailable"), or empty.
    pub reason: String,
    pub body: Vec<u8>,
    /// True when the status was not 2xx and the body was cut at `max_body`: an error
    /// response is still reported by its status rather than as `BodyTooLarge`.
    pub truncated: bool,
    /// From sending the request until the body was read.
    pub duration: Duration,
}

impl Fetched {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `PollError::Status` for this response.
    pub fn status_error(&self) -> PollError {
        PollError::Status {
            status: self.status,
            reason: self.reason.clone(),
        }
    }
}

impl HttpClients {
    /// Build the shared verifying client. Installs the ring crypto provider for rustls if no
    /// provider is installed yet (an already installed one is kept).
    pub fn new() -> Result<Self, ClientBuildError> {
        // Err means a provider is already installed process-wide, which is what we need.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let verifying = builder()
            .build()
            .map_err(|e| ClientBuildError(error_chain(&e)))?;
        Ok(Self {
            verifying,
            insecure: OnceLock::new(),
        })
    }

    fn client(&self, insecure: bool) -> Result<&reqwest::Client, PollError> {
        if !insecure {
            return Ok(&self.verifying);
        }
        self.insecure
            .get_or_init(|| {
                builder()
                    .tls_danger_accept_invalid_certs(true)
                    .tls_danger_accept_invalid_hostnames(true)
                    .build()
                    .map_err(|e| error_chain(&e))
            })
            .as_ref()
            .map_err(|e| PollError::Request(format!("cannot build insecure HTTP client: {e}")))
    }

    /// GET `spec.url` (with `path_suffix` appended to its path, see [`join_path`]) and read
    /// the body, all within `spec.timeout`.
    pub async fn fetch(
        &self,
        spec: &SourceSpec,
        path_suffix: Option<&str>,
        accept: &str,
    ) -> Result<Fetched, PollError> {
        let request = self.prepare(spec, path_suffix, accept)?;
        execute(request, spec.max_body, spec.timeout).await
    }

    /// Everything before the network: pick the client, build the URL, read the secret.
    /// Errors here are about this process (a missing secret file), not about the remote
    /// service; the health checker relies on that split.
    pub(crate) fn prepare(
        &self,
        spec: &SourceSpec,
        path_suffix: Option<&str>,
        accept: &str,
    ) -> Result<reqwest::RequestBuilder, PollError> {
        let url = match path_suffix {
            Some(suffix) => join_path(&spec.url, suffix),
            None => spec.url.clone(),
        };
        self.prepare_url(spec, url, accept)
    }

    /// [`Self::prepare`] for an API path with query parameters (form-encoded).
    pub(crate) fn prepare_query(
        &self,
        spec: &SourceSpec,
        path_suffix: &str,
        params: &[(&str, String)],
        accept: &str,
    ) -> Result<reqwest::RequestBuilder, PollError> {
        let mut url = join_path(&spec.url, path_suffix);
        url.query_pairs_mut()
            .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
        self.prepare_url(spec, url, accept)
    }

    fn prepare_url(
        &self,
        spec: &SourceSpec,
        url: Url,
        accept: &str,
    ) -> Result<reqwest::RequestBuilder, PollError> {
        let client = self.client(spec.insecure_skip_verify)?;
        let accept = HeaderValue::from_str(accept)
            .map_err(|_| PollError::Request("invalid Accept header".to_owned()))?;
        let mut request = client.get(url).header(ACCEPT, accept);
        match &spec.auth {
            None => {}
            Some(Auth::Bearer(source)) => {
                // SecretSource::read errors name the file or variable, never the value.
                let token = source.read().map_err(PollError::Request)?;
                request = request.bearer_auth(token.expose());
            }
            Some(Auth::Basic { username, password }) => {
                let password = password.read().map_err(PollError::Request)?;
                request = request.basic_auth(username, Some(password.expose()));
            }
        }
        Ok(request)
    }
}

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .gzip(true)
        // Idle connections must outlive a poll interval to be reused (this is reqwest's
        // default; stated because reuse is the point of sharing one client).
        .pool_idle_timeout(Duration::from_secs(90))
    // Redirects: reqwest's default (up to 10) applies; it drops `Authorization` when a
    // redirect leaves the original host, so a token is not handed to another server.
}

/// Append `suffix` to the path of `base`, with exactly one `/` between them whether or
/// not the base ends with one. Query and fragment of the base are dropped: they belong to
/// the base page, not to the API endpoint.
pub fn join_path(base: &Url, suffix: &str) -> Url {
    let mut url = base.clone();
    let path = format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        suffix.trim_start_matches('/')
    );
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// Send a prepared request and read its body, all under one deadline.
pub(crate) async fn execute(
    request: reqwest::RequestBuilder,
    max_body: u64,
    timeout: Duration,
) -> Result<Fetched, PollError> {
    let started = Instant::now();
    match tokio::time::timeout(timeout, send_and_read(request, max_body, started)).await {
        Ok(result) => result,
        // Dropping the future drops the connection: a hung server costs nothing further.
        Err(_) => Err(PollError::Timeout(timeout)),
    }
}

async fn send_and_read(
    request: reqwest::RequestBuilder,
    max_body: u64,
    started: Instant,
) -> Result<Fetched, PollError> {
    let mut response = request.send().await.map_err(map_reqwest_error)?;
    let status = response.status();
    let success = status.is_success();
    let too_large = PollError::BodyTooLarge { limit: max_body };
    // With gzip decoding on, reqwest reports no length for compressed bodies, so this is
    // the plain-body fast path; the streaming check below covers the rest.
    if success && response.content_length().is_some_and(|len| len > max_body) {
        return Err(too_large);
    }
    let limit = usize::try_from(max_body).unwrap_or(usize::MAX);
    // Sized up front when the length is known (never beyond the limit: the header is
    // remote input).
    let hint = response.content_length().unwrap_or(0);
    let mut body = Vec::with_capacity(usize::try_from(hint).unwrap_or(0).min(limit));
    let mut truncated = false;
    while let Some(chunk) = response.chunk().await.map_err(map_reqwest_error)? {
        if body.len().saturating_add(chunk.len()) > limit {
            if success {
                return Err(too_large);
            }
            // body.len() <= limit always holds (we stop here otherwise), and
            // room < chunk.len() because the sum exceeded the limit: the slice is in range.
            let room = limit - body.len();
            body.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_owned(),
        body,
        truncated,
        duration: started.elapsed(),
    })
}

/// Turn a reqwest error into a short reason. The top-level reqwest message names the URL
/// (which may carry user info), so only its sources are used.
pub(crate) fn map_reqwest_error(err: reqwest::Error) -> PollError {
    let err = err.without_url();
    if err.is_timeout() {
        // Only reachable if a per-request timeout were set; ours is the outer deadline.
        return PollError::Request("timed out".to_owned());
    }
    let mut reason = error_chain(&err);
    if err.is_body() || err.is_decode() {
        // The response had started: say so, "connection reset" alone reads like a connect
        // failure.
        reason = format!("reading body: {reason}");
    }
    if err.is_connect() || is_tls(&err) {
        PollError::Connect(reason)
    } else {
        PollError::Request(reason)
    }
}

fn is_tls(err: &(dyn StdError + 'static)) -> bool {
    causes(err).any(|e| e.is::<rustls::Error>())
}

/// `err` and everything below it. `io::Error::source` skips the error an `io::Error`
/// wraps (it returns the wrapped error's *source*), and TLS failures arrive as a rustls
/// error inside two `io::Error`s, so wrapped errors are visited through `get_ref`.
fn causes<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |&e: &&'a (dyn StdError + 'static)| match e
        .downcast_ref::<std::io::Error>()
    {
        Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
        None => e.source(),
    })
}

/// Describe the most specific cause below a (reqwest) error.
///
/// Wrapper layers ("error sending request", "client error (Connect)") say nothing an
/// operator can act on, so the innermost errors are kept: a TLS error is named as such,
/// an I/O error kind becomes a short lowercase phrase ("connection refused"), a DNS
/// failure keeps the resolver's message, and otherwise the innermost two messages are
/// joined.
pub(crate) fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut messages: Vec<String> = Vec::new();
    let mut dns = false;
    for e in causes(err).skip(1) {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return clip(&format!("TLS error: {tls}"));
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(phrase) = io_phrase(io.kind())
        {
            return phrase.to_owned();
        }
        let text = e.to_string();
        dns |= text == "dns error";
        // hyper-util's "client error (Connect)" only names the stage.
        if !text.starts_with("client error (") && messages.last() != Some(&text) {
            messages.push(text);
        }
    }
    let reason = match messages.as_slice() {
        [] => err.to_string(),
        [only] => only.clone(),
        // The resolver's own words are the innermost message.
        [.., last] if dns => format!("dns error: {last}"),
        [.., a, b] => format!("{a}: {b}"),
    };
    clip(&reason)
}

fn io_phrase(kind: std::io::ErrorKind) -> Option<&'static str> {
    use std::io::ErrorKind as K;
    Some(match kind {
        K::ConnectionRefused => "connection refused",
        K::ConnectionReset => "connection reset by peer",
        K::ConnectionAborted => "connection aborted",
        K::NotConnected => "not connected",
        K::AddrNotAvailable => "address not available",
        K::NetworkUnreachable => "network unreachable",
        K::HostUnreachable => "host unreachable",
        K::UnexpectedEof => "connection closed unexpectedly",
        K::BrokenPipe => "broken pipe",
        K::TimedOut => "connect timed out",
        _ => return None,
    })
}

/// Error texts can quote remote data (a TLS alert, a resolver message): sanitize and cap.
fn clip(s: &str) -> String {
    sanitize::clean_with_limit(s, 200).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_path_handles_slashes() {
        let cases = [
            ("http://am:9093", "http://am:9093/api/v2/alerts"),
            ("http://am:9093/", "http://am:9093/api/v2/alerts"),
            (
                "http://h/alertmanager",
                "http://h/alertmanager/api/v2/alerts",
            ),
            (
                "http://h/alertmanager/",
                "http://h/alertmanager/api/v2/alerts",
            ),
            ("http://h/am//?x=1#f", "http://h/am/api/v2/alerts"),
        ];
        for (base, want) in cases {
            let base = Url::parse(base).unwrap();
            assert_eq!(join_path(&base, "api/v2/alerts").as_str(), want, "{base}");
            assert_eq!(join_path(&base, "/api/v2/alerts").as_str(), want, "{base}");
        }
    }

    #[test]
    fn user_agent_names_version() {
        assert!(USER_AGENT.starts_with("watchdeck/"));
        assert!(USER_AGENT.len() > "watchdeck/".len());
    }
}
