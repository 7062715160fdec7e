//! Summary templates: `{{label}}`, `{{value}}` and `{{value|filter}}` placeholders.
//!
//! Checked when the rule file loads (so a typo is reported with its location), rendered
//! every round for every hit. A label the sample lacks renders as `?`, never an error at
//! 3 a.m.

use std::fmt::Write as _;

use super::data::{LabelSet, label};

const FILTERS: [&str; 5] = ["duration", "bytes", "percent", "int", "raw"];

/// Validate a template; on error, the byte offset of the bad placeholder and why.
pub fn check(template: &str) -> Result<(), (usize, String)> {
    let mut rest = template;
    let mut base = 0;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}") else {
            return Err((base + open, "unclosed `{{` in summary".to_owned()));
        };
        let inner = rest[open + 2..open + close].trim();
        let (name, filter) = match inner.split_once('|') {
            Some((n, f)) => (n.trim(), Some(f.trim())),
            None => (inner, None),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err((
                base + open,
                format!("`{{{{{inner}}}}}` is not a label name or `value`"),
            ));
        }
        if let Some(f) = filter {
            if name != "value" {
                return Err((base + open, format!("filter `{f}` applies only to `value`")));
            }
            if !FILTERS.contains(&f) {
                return Err((
                    base + open,
                    format!(
                        "unknown filter `{f}`; expected one of: {}",
                        FILTERS.join(", ")
                    ),
                ));
            }
        }
        base += open + close + 2;
        rest = &template[base..];
    }
    Ok(())
}

/// Fill a checked template.
pub fn render(template: &str, labels: &LabelSet, value: f64) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let inner = rest[open + 2..open + close].trim();
        let (name, filter) = match inner.split_once('|') {
            Some((n, f)) => (n.trim(), Some(f.trim())),
            None => (inner, None),
        };
        if name == "value" {
            out.push_str(&format_value(value, filter.unwrap_or("raw")));
        } else {
            out.push_str(label(labels, name).unwrap_or("?"));
        }
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    out
}

fn format_value(v: f64, filter: &str) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    match filter {
        "duration" => crate::ui::format::duration(std::time::Duration::from_secs_f64(v.max(0.0))),
        "bytes" => crate::ui::format::bytes(v),
        "percent" => format!("{:.1} %", v * 100.0),
        "int" => format!("{}", v.round() as i64),
        _ => {
            let mut s = String::new();
            if v.fract() == 0.0 && v.abs() < 1e15 {
                let _ = write!(s, "{}", v as i64);
            } else {
                let _ = write!(s, "{v:.3}");
            }
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::data::label_set;

    #[test]
    fn renders_labels_and_filters() {
        let l = label_set([("env", "prod"), ("replica", "db2")]);
        assert_eq!(
            render(
                "{{replica}} in {{env}} is {{value|duration}} behind ({{missing}})",
                &l,
                125.0
            ),
            "db2 in prod is 2m05s behind (?)"
        );
        assert_eq!(render("{{value|percent}}", &l, 0.053), "5.3 %");
        assert_eq!(render("{{ value | int }} restarts", &l, 6.4), "6 restarts");
        assert_eq!(render("{{value}}", &l, 3.0), "3");
        assert_eq!(render("{{value|bytes}}", &l, 2048.0), "2.0 KiB");
    }

    #[test]
    fn checks_placeholders() {
        assert!(check("ok {{env}} {{value|duration}}").is_ok());
        assert_eq!(check("x {{value|hours}}").map_err(|e| e.0), Err(2));
        assert!(check("x {{env|int}}").is_err());
        assert!(check("x {{env").is_err());
        assert!(check("x {{a b}}").is_err());
    }
}
