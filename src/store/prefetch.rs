//! Software prefetch: ask for the cache lines of memory that will be read soon, without
//! waiting for them.
//!
//! Why: a rule round reads a few hundred bytes from each of thousands of series tables
//! that the round's scrapes have pushed out of cache, and each read is a chain of
//! dependent misses (table → scrape-time ring → history rows). Asking for the next
//! sources' lines while this one is computed overlaps those misses instead of paying them
//! one after another. A load used as a prefetch (`black_box(*p)`) holds the core's
//! reorder window until the line arrives, which caps how many can be in flight; the
//! prefetch instruction retires at once.
//!
//! This is the crate's only `unsafe`, and it cannot misbehave: a prefetch is a hint that
//! never faults, never writes, and is free to be dropped.

/// The bytes of a cache line on every machine watchdeck targets.
const LINE: usize = 64;

/// Ask for the cache line holding `p`. Any address is allowed, valid or not.
#[inline(always)]
pub fn line<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` is a hint: it does not fault on any address (invalid ones are
    // dropped), reads nothing into the program's state and writes nothing; SSE, which
    // provides it, is part of the x86_64 baseline every Rust x86_64 target enables.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Ask for every cache line of `items`.
#[inline]
pub fn slice<T>(items: &[T]) {
    let bytes = std::mem::size_of_val(items);
    if bytes == 0 {
        return;
    }
    let start = items.as_ptr().cast::<u8>();
    // The last line is asked for through the last byte, so a slice that starts in the
    // middle of a line and ends in the next is covered.
    let mut offset = 0;
    while offset < bytes {
        line(start.wrapping_add(offset));
        offset += LINE;
    }
    line(start.wrapping_add(bytes - 1));
}

/// Ask for every cache line of one value (a struct whose fields point elsewhere).
#[inline]
pub fn object<T>(value: &T) {
    slice(std::slice::from_ref(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prefetching is only a hint: any slice, empty or not, and addresses nobody owns are
    /// accepted and change nothing.
    #[test]
    fn prefetching_changes_nothing() {
        let values: Vec<u64> = (0..100).collect();
        slice(&values);
        slice(&values[3..70]);
        slice::<u64>(&[]);
        object(&values);
        line(std::ptr::null::<u8>());
        line(std::ptr::without_provenance::<u8>(usize::MAX));
        assert_eq!(values.iter().sum::<u64>(), 4950);
    }
}
