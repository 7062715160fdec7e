//! Health body conditions: the small `body.<path> <op> <literal>` language.
//!
//! Owns parsing a condition string into a [`BodyCondition`]; evaluating it against a
//! response body is the health poller's business.
//!
//! Grammar: `body` followed by zero or more `.segment` (segments `[A-Za-z0-9_-]+`; `body`
//! alone is the whole body), optional spaces, an operator `== != < <= > >=`, optional
//! spaces, and a JSON literal: a double-quoted string, a number, `true`, `false` or `null`.
//! The ordering operators need a number.

use super::settings::{BodyCondition, CmpOp};

/// Why a condition failed to parse: a byte offset into the condition text and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionError {
    pub offset: usize,
    pub message: String,
}

fn err(offset: usize, message: impl Into<String>) -> ConditionError {
    ConditionError {
        offset,
        message: message.into(),
    }
}

fn is_segment_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Parse one condition as written in the config.
pub fn parse(text: &str) -> Result<BodyCondition, ConditionError> {
    let lead = text.len() - text.trim_start().len();
    let mut pos = lead;
    let rest = &text[pos..];
    if !rest.starts_with("body") || rest[4..].starts_with(is_segment_char) {
        return Err(err(
            pos,
            "a condition must start with `body` (e.g. `body.status == \"UP\"`)",
        ));
    }
    pos += 4;

    let mut path = Vec::new();
    while text[pos..].starts_with('.') {
        pos += 1;
        let seg_len = text[pos..]
            .find(|c: char| !is_segment_char(c))
            .unwrap_or(text.len() - pos);
        if seg_len == 0 {
            return Err(err(
                pos,
                "expected a path segment ([A-Za-z0-9_-]+) after `.`",
            ));
        }
        path.push(text[pos..pos + seg_len].to_owned());
        pos += seg_len;
    }

    pos += text[pos..].len() - text[pos..].trim_start().len();
    let ops = [
        ("==", CmpOp::Eq),
        ("!=", CmpOp::Ne),
        ("<=", CmpOp::Le),
        (">=", CmpOp::Ge),
        ("<", CmpOp::Lt),
        (">", CmpOp::Gt),
    ];
    let Some(&(op_text, op)) = ops.iter().find(|(s, _)| text[pos..].starts_with(s)) else {
        return Err(err(
            pos,
            "expected a comparison operator (==, !=, <, <=, >, >=) after the path",
        ));
    };
    pos += op_text.len();

    pos += text[pos..].len() - text[pos..].trim_start().len();
    let literal = text[pos..].trim_end();
    if literal.is_empty() {
        return Err(err(
            pos,
            "expected a JSON literal after the operator: a \"string\", a number, true, false or null",
        ));
    }
    let value: serde_json::Value = serde_json::from_str(literal).map_err(|_| {
        let hint = if literal.starts_with('\'') {
            " (strings take double quotes)"
        } else if literal.chars().next().is_some_and(char::is_alphabetic) {
            " (strings take double quotes: \"UP\")"
        } else {
            ""
        };
        err(
            pos,
            format!(
                "`{literal}` is not a JSON literal; expected a \"string\", a number, true, false or null{hint}"
            ),
        )
    })?;
    if value.is_array() || value.is_object() {
        return Err(err(
            pos,
            "arrays and objects cannot be compared; expected a \"string\", a number, true, false or null",
        ));
    }
    if matches!(op, CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge) && !value.is_number() {
        return Err(err(
            pos,
            format!(
                "`{}` compares numbers; expected a number after it",
                op.as_str()
            ),
        ));
    }

    Ok(BodyCondition {
        text: text.to_owned(),
        path,
        op,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_paths_ops_and_literals() {
        let c = parse(r#"body.status == "UP""#).unwrap();
        assert_eq!(c.path, ["status"]);
        assert_eq!(c.op, CmpOp::Eq);
        assert_eq!(c.value, json!("UP"));

        let c = parse("body.queue.depth<1000").unwrap();
        assert_eq!(c.path, ["queue", "depth"]);
        assert_eq!(c.op, CmpOp::Lt);
        assert_eq!(c.value, json!(1000));

        let c = parse("body.checks.0.ok != false").unwrap();
        assert_eq!(c.path, ["checks", "0", "ok"]);
        assert_eq!((c.op, c.value), (CmpOp::Ne, json!(false)));

        let c = parse("body >= -1.5").unwrap();
        assert!(c.path.is_empty());
        assert_eq!((c.op, c.value), (CmpOp::Ge, json!(-1.5)));

        assert_eq!(parse("body.x <= 2").unwrap().op, CmpOp::Le);
        assert_eq!(parse("body.x > 2").unwrap().op, CmpOp::Gt);
        assert_eq!(parse("body.x == null").unwrap().value, json!(null));
    }

    #[test]
    fn rejects_malformed_conditions_with_offsets() {
        assert_eq!(parse("status == 1").unwrap_err().offset, 0);
        assert_eq!(parse("bodyx == 1").unwrap_err().offset, 0);
        assert_eq!(parse("body..x == 1").unwrap_err().offset, 5);
        assert_eq!(parse("body.x = 1").unwrap_err().offset, 7);
        assert_eq!(parse("body.x ==").unwrap_err().offset, 9);
        let e = parse("body.status == UP").unwrap_err();
        assert_eq!(e.offset, 15);
        assert!(e.message.contains("double quotes"), "{}", e.message);
        assert!(parse("body.x == [1]").is_err());
        assert!(parse(r#"body.x < "a""#).is_err());
        assert!(parse("body.x == 1 2").is_err());
    }
}
