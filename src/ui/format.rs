//! Formatting of values for cells: ages, durations, bytes, percentages. Pure functions.

use std::time::Duration;

/// `42s`, `3m05s`, `2h10m`, `3d04h`.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86400, (s % 86400) / 3600),
    }
}

/// Age of an instant relative to `now`; future instants read as `0s`.
pub fn age(at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    duration((now - at).to_std().unwrap_or_default())
}

/// `512 B`, `1.5 KiB`, `3.2 GiB`.
pub fn bytes(b: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if !b.is_finite() {
        return "—".to_owned();
    }
    let mut v = b.abs();
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    let sign = if b < 0.0 { "-" } else { "" };
    if unit == 0 {
        format!("{sign}{v:.0} {}", UNITS[unit])
    } else {
        format!("{sign}{v:.1} {}", UNITS[unit])
    }
}

pub fn percent(p: Option<f64>) -> String {
    p.map_or_else(|| "—".to_owned(), |p| format!("{p:.0}%"))
}

pub fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> String) -> String {
    v.map_or_else(|| "—".to_owned(), f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(duration(Duration::from_secs(42)), "42s");
        assert_eq!(duration(Duration::from_secs(185)), "3m05s");
        assert_eq!(duration(Duration::from_secs(7800)), "2h10m");
        assert_eq!(duration(Duration::from_secs(3 * 86400 + 4 * 3600)), "3d04h");
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(1536.0), "1.5 KiB");
        assert_eq!(bytes(f64::NAN), "—");
        assert_eq!(percent(Some(12.4)), "12%");
        assert_eq!(percent(None), "—");
    }
}
