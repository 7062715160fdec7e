//! Sample values and timestamps: the number syntax of the exposition formats.
//!
//! Values follow Go's `strconv.ParseFloat` as exporters use it (decimal and exponent
//! notation, `NaN`, `Inf`, `+Inf`, `-Inf` in any case); hex floats are not accepted. Most
//! values on the wire are short decimals, so they take an exact fast path and only the rest
//! go through `str::parse::<f64>`.

/// Powers of ten that are exactly representable as `f64` (10^22 is the largest).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Largest integer such that it and every smaller one is exact in an `f64`.
const MAX_EXACT_INT: u64 = 1 << 53;

/// Parses a sample value.
pub(super) fn parse_value(token: &str) -> Option<f64> {
    if let Some(v) = fast_decimal(token.as_bytes()) {
        return Some(v);
    }
    // The fast path declined: too many digits, a large exponent, or a special value. Rust's
    // parser is correctly rounded and accepts `nan`/`inf`/`infinity` case-insensitively,
    // like Go. It also accepts a sign on `nan`, which Go does not; harmless.
    token.parse::<f64>().ok()
}

/// Clinger's fast path: when the decimal mantissa and the power of ten are both exact in an
/// `f64`, one IEEE multiplication or division is correctly rounded, so the result is
/// identical to a full parse. Returns `None` whenever that does not hold or the syntax is
/// anything other than `[+-]digits[.digits][(e|E)[+-]digits]`.
fn fast_decimal(b: &[u8]) -> Option<f64> {
    let mut i = 0;
    let negative = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let mut mantissa: u64 = 0;
    let mut digits = 0usize;
    let int_start = i;
    while let Some(&c) = b.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
        digits += 1;
        i += 1;
    }
    let mut any_digit = i > int_start;
    let mut exp10: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while let Some(&c) = b.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            digits += 1;
            i += 1;
        }
        exp10 -= (i - frac_start) as i64;
        any_digit |= i > frac_start;
    }
    if !any_digit {
        return None;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        let exp_negative = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let exp_start = i;
        let mut e: i64 = 0;
        while let Some(&c) = b.get(i) {
            if !c.is_ascii_digit() || i - exp_start >= 6 {
                // Six exponent digits is far outside f64 range; let the slow path decide.
                break;
            }
            e = e * 10 + i64::from(c - b'0');
            i += 1;
        }
        if i == exp_start {
            return None;
        }
        exp10 += if exp_negative { -e } else { e };
    }
    // 19 digits always fit in a u64, so the wrapping arithmetic above did not wrap.
    if i != b.len() || digits > 19 || mantissa > MAX_EXACT_INT {
        return None;
    }
    let m = mantissa as f64;
    let v = if exp10 == 0 {
        m
    } else if (0..=22).contains(&exp10) {
        m * POW10[exp10 as usize]
    } else if (-22..0).contains(&exp10) {
        m / POW10[(-exp10) as usize]
    } else {
        return None;
    };
    Some(if negative { -v } else { v })
}

/// Parses a timestamp into milliseconds since the epoch.
///
/// An integer is text-format milliseconds. Anything with a fraction or exponent is an
/// OpenMetrics timestamp in seconds.
pub(super) fn parse_timestamp_ms(token: &str) -> Option<i64> {
    let b = token.as_bytes();
    let (negative, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
        let mut ms: i64 = 0;
        for &c in digits {
            let d = i64::from(c - b'0');
            ms = ms.checked_mul(10)?;
            ms = if negative {
                ms.checked_sub(d)?
            } else {
                ms.checked_add(d)?
            };
        }
        return Some(ms);
    }
    // Only plain decimal syntax may be seconds: `NaN` or `Inf` is not a time.
    if !b
        .iter()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    let seconds = token.parse::<f64>().ok()?;
    let ms = (seconds * 1000.0).round();
    // i64::MAX is not exact in f64; staying strictly inside ±2^63 keeps the cast lossless.
    const LIMIT: f64 = 9.223_372_036_854_775e18;
    if ms.is_finite() && ms.abs() < LIMIT {
        Some(ms as i64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_agrees_with_std() {
        let cases = [
            "0",
            "-0",
            "1",
            "+1",
            "42",
            "5.902e-05",
            "0.000238536",
            "1.073741824e+09",
            "2.5276502016e+10",
            "1.7953003214832866e+09",
            "123456789012345678",
            "9007199254740993",
            "0.1",
            "0.3",
            "1e22",
            "1e23",
            "1e-22",
            "1e-23",
            ".5",
            "5.",
            "-.5e3",
            "3.14159265358979",
        ];
        for c in cases {
            let want: f64 = c.parse().unwrap();
            let got = parse_value(c).unwrap();
            assert_eq!(got.to_bits(), want.to_bits(), "{c}");
        }
    }

    #[test]
    fn fast_path_agrees_with_std_on_generated_decimals() {
        let mut x: u64 = 0x1234_5678_9abc_def1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..50_000 {
            let int = next() % 10u64.pow((next() % 17) as u32);
            let frac_digits = (next() % 12) as usize;
            let frac = next() % 10u64.pow(frac_digits as u32);
            let exp = (next() % 60) as i64 - 30;
            let sign = if next() % 2 == 0 { "-" } else { "" };
            for s in [
                format!("{sign}{int}"),
                format!("{sign}{int}.{frac:0frac_digits$}"),
                format!("{sign}{int}.{frac:0frac_digits$}e{exp}"),
                format!("{sign}{int}E+{}", exp.abs()),
            ] {
                let want: f64 = s.parse().unwrap();
                let got = parse_value(&s).unwrap();
                assert_eq!(got.to_bits(), want.to_bits(), "{s}");
            }
        }
    }

    #[test]
    fn specials_and_rejects() {
        for c in ["NaN", "nan", "NAN"] {
            assert!(parse_value(c).unwrap().is_nan(), "{c}");
        }
        for c in ["+Inf", "Inf", "inf", "+inf", "INF", "Infinity"] {
            assert_eq!(parse_value(c), Some(f64::INFINITY), "{c}");
        }
        for c in ["-Inf", "-inf", "-INF"] {
            assert_eq!(parse_value(c), Some(f64::NEG_INFINITY), "{c}");
        }
        for c in [
            "", "-", "+", ".", "e5", "1e", "1e+", "abc", "0x10", "1_0", "1..2", "1 2",
        ] {
            assert_eq!(parse_value(c), None, "{c:?}");
        }
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp_ms("1395066363000"), Some(1_395_066_363_000));
        assert_eq!(parse_timestamp_ms("-1"), Some(-1));
        assert_eq!(
            parse_timestamp_ms("1520879607.789"),
            Some(1_520_879_607_789)
        );
        assert_eq!(parse_timestamp_ms("1.5e9"), Some(1_500_000_000_000));
        assert_eq!(parse_timestamp_ms("99999999999999999999"), None);
        assert_eq!(parse_timestamp_ms("1e300"), None);
        assert_eq!(parse_timestamp_ms("NaN"), None);
        assert_eq!(parse_timestamp_ms("abc"), None);
        assert_eq!(parse_timestamp_ms(""), None);
        assert_eq!(parse_timestamp_ms("-"), None);
    }
}
