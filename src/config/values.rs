//! Scalar value parsers used by the resolver: durations, byte sizes, URLs and names.
//!
//! Each returns the parsed value or a message that says what was expected; the resolver
//! adds the location.

use std::time::Duration;

use url::Url;

/// A humantime duration (`"750ms"`, `"1m30s"`) that is greater than zero.
pub fn duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if d.is_zero() => Err(format!(
            "duration `{text}` must be greater than zero; expected e.g. \"5s\""
        )),
        Ok(d) => Ok(d),
        Err(e) => Err(format!(
            "invalid duration `{text}`: {e}; expected e.g. \"750ms\", \"10s\", \"1m30s\", \"1h\""
        )),
    }
}

/// A humantime duration that may be zero (the `from` of a retention tier: "from age 0").
pub fn duration_or_zero(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| {
        format!("invalid duration `{text}`: {e}; expected e.g. \"0s\", \"3d\", \"7d\", \"12h\"")
    })
}

const SIZE_EXPECTED: &str = "expected an integer number of bytes or a string such as \"512KiB\", \"16MiB\", \"1GiB\", \"10MB\", \"100kB\"";

/// A byte size: a whole number followed by an optional unit (B, kB, MB, GB decimal; KiB,
/// MiB, GiB binary; units case-insensitive), greater than zero.
pub fn size_text(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits);
    let bad = || format!("invalid size `{text}`; {SIZE_EXPECTED}");
    let n: u64 = num.parse().map_err(|_| bad())?;
    let mult: u64 = match unit.trim_start().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "mb" => 1000 * 1000,
        "gb" => 1000 * 1000 * 1000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => return Err(bad()),
    };
    let bytes = n
        .checked_mul(mult)
        .ok_or_else(|| format!("size `{text}` is too large"))?;
    size_bytes(i64::try_from(bytes).unwrap_or(i64::MAX))
}

/// A byte size given as a TOML integer; must be greater than zero.
pub fn size_bytes(n: i64) -> Result<u64, String> {
    match u64::try_from(n) {
        Ok(0) | Err(_) => Err(format!(
            "size must be greater than zero (got {n}); {SIZE_EXPECTED}"
        )),
        Ok(n) => Ok(n),
    }
}

/// An absolute `http` or `https` URL with a host.
pub fn http_url(text: &str) -> Result<Url, String> {
    const EXPECTED: &str = "expected an absolute http:// or https:// URL with a host";
    if !text.contains("://") {
        return Err(format!(
            "invalid URL `{text}`: no scheme; {EXPECTED} (e.g. \"http://{text}\")"
        ));
    }
    let url = Url::parse(text).map_err(|e| format!("invalid URL `{text}`: {e}; {EXPECTED}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "unsupported URL scheme `{}` in `{text}`; {EXPECTED}",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("URL `{text}` has no host; {EXPECTED}"));
    }
    Ok(url)
}

/// A backup catalog's `url`: an http(s) URL as for any source, or a `file://` URL with an
/// absolute path.
pub fn catalog_url(text: &str) -> Result<Url, String> {
    if !text.starts_with("file:") {
        return http_url(text);
    }
    let url = Url::parse(text).map_err(|e| {
        format!("invalid URL `{text}`: {e}; expected file:///absolute/path or an http(s) URL")
    })?;
    if url.to_file_path().is_err() {
        return Err(format!(
            "URL `{text}` does not name a local file; expected file:///absolute/path (or use \
             path = \"…\")"
        ));
    }
    Ok(url)
}

/// Environment names: non-empty, `[A-Za-z0-9_.-]+`.
pub fn is_environment_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A Prometheus metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("750ms").unwrap(), Duration::from_millis(750));
        assert_eq!(duration("1m30s").unwrap(), Duration::from_secs(90));
        assert!(duration("0s").unwrap_err().contains("greater than zero"));
        assert!(
            duration("10 parsecs")
                .unwrap_err()
                .contains("invalid duration")
        );
        assert!(duration("10").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(size_text("512KiB").unwrap(), 512 * 1024);
        assert_eq!(size_text("16MiB").unwrap(), 16 * 1024 * 1024);
        assert_eq!(size_text("1GiB").unwrap(), 1 << 30);
        assert_eq!(size_text("10MB").unwrap(), 10_000_000);
        assert_eq!(size_text("100kB").unwrap(), 100_000);
        assert_eq!(size_text("100 kb").unwrap(), 100_000);
        assert_eq!(size_text("4096").unwrap(), 4096);
        assert!(size_text("0MiB").is_err());
        assert!(size_text("1.5MiB").is_err());
        assert!(size_text("16 megs").is_err());
        assert!(size_text("MiB").is_err());
        assert!(
            size_text("99999999999999GiB")
                .unwrap_err()
                .contains("too large")
        );
        assert_eq!(size_bytes(1).unwrap(), 1);
        assert!(size_bytes(0).is_err());
        assert!(size_bytes(-5).is_err());
    }

    #[test]
    fn urls() {
        assert!(http_url("https://shop.example.com/health").is_ok());
        assert!(http_url("http://10.0.0.11:9100/metrics").is_ok());
        assert!(http_url("ftp://x/").unwrap_err().contains("scheme"));
        assert!(
            http_url("shop.example.com/health")
                .unwrap_err()
                .contains("invalid URL")
        );
        assert!(http_url("http://").is_err());
    }

    #[test]
    fn catalog_urls() {
        assert!(catalog_url("http://backup01:8080/restic.json").is_ok());
        assert_eq!(
            catalog_url("file:///var/lib/watchdeck/restic.json")
                .unwrap()
                .scheme(),
            "file"
        );
        assert!(catalog_url("file://remotehost/x.json").is_err());
        assert!(catalog_url("ftp://x/").is_err());
        assert_eq!(duration_or_zero("0s").unwrap(), Duration::ZERO);
        assert!(duration_or_zero("soon").is_err());
    }

    #[test]
    fn environment_names() {
        assert!(is_environment_name("prod-eu.1_a"));
        assert!(!is_environment_name(""));
        assert!(!is_environment_name("prod eu"));
        assert!(!is_environment_name("prod/eu"));
    }
}
