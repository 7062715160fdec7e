//! Deterministic pseudo-randomness: a splitmix64 hash, per-series keys and smooth,
//! monotonic-friendly wave shapes.
//!
//! There is deliberately no stateful RNG shared between requests: every value is derived
//! by hashing (seed, series identity, time bucket), so the order of requests never
//! changes what a response contains.

/// One splitmix64 step: a strong 64-bit mixer.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over bytes; used to turn a series' identity into a number.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A stable hash of (seed, identity).
pub fn key(seed: u64, identity: &str) -> u64 {
    splitmix64(seed ^ fnv1a(identity.as_bytes()))
}

/// Derive a sub-key (e.g. per CPU, per run index) from a key.
pub fn sub(k: u64, n: u64) -> u64 {
    splitmix64(k ^ splitmix64(n.wrapping_add(0x5851_F42D_4C95_7F2D)))
}

/// Map a hash to [0, 1).
pub fn unit(h: u64) -> f64 {
    // Top 53 bits fit an f64 mantissa exactly.
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// A hash mapped to [lo, hi).
pub fn range(h: u64, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * unit(h)
}

/// Smooth value noise in [-1, 1]: random lattice values every `period` seconds,
/// cosine-interpolated in between, so gauges drift instead of jumping.
pub fn smooth(k: u64, t: f64, period: f64) -> f64 {
    let x = t / period;
    let i = x.floor();
    let frac = x - i;
    // Lattice index as i64 then u64 bit pattern: negative t (never used) still hashes.
    let i = i as i64;
    let a = unit(sub(k, i as u64)) * 2.0 - 1.0;
    let b = unit(sub(k, (i + 1) as u64)) * 2.0 - 1.0;
    let w = (1.0 - (frac * std::f64::consts::PI).cos()) / 2.0;
    a + (b - a) * w
}

/// ∫₀ᵗ rate·(1 + a·sin(ωs + φ)) ds with ω = 2π/period.
///
/// With `a < 1` the integrand is never negative, so the result is monotonic in `t`: this
/// is how counters get a gently varying rate without ever going backwards.
pub fn wavy_integral(rate: f64, a: f64, period: f64, phase: f64, t: f64) -> f64 {
    let w = std::f64::consts::TAU / period;
    rate * (t + a / w * (phase.cos() - (w * t + phase).cos()))
}

/// The instantaneous rate matching [`wavy_integral`].
pub fn wavy_rate(rate: f64, a: f64, period: f64, phase: f64, t: f64) -> f64 {
    let w = std::f64::consts::TAU / period;
    rate * (1.0 + a * (w * t + phase).sin())
}

/// Lowercase hex of `len` nibbles derived from a key (run ids, UUIDs, fingerprints).
pub fn hex(k: u64, len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut n = 0u64;
    while out.len() < len {
        out.push_str(&format!("{:016x}", sub(k, n)));
        n += 1;
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smooth_stays_in_range_and_is_deterministic() {
        let k = key(42, "x");
        for i in 0..1000 {
            let t = f64::from(i) * 7.3;
            let v = smooth(k, t, 60.0);
            assert!((-1.0..=1.0).contains(&v));
            assert_eq!(v, smooth(k, t, 60.0));
        }
    }

    #[test]
    fn wavy_integral_is_monotonic() {
        let mut last = f64::MIN;
        for i in 0..5000 {
            let v = wavy_integral(3.0, 0.9, 120.0, 1.3, f64::from(i) * 0.37);
            assert!(v >= last);
            last = v;
        }
    }

    #[test]
    fn hex_has_requested_length() {
        assert_eq!(hex(1, 40).len(), 40);
        assert_eq!(hex(1, 16).len(), 16);
    }
}
