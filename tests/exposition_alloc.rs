//! Allocation budget of the streaming parser. A separate test binary because it installs a
//! counting global allocator, which must not slow down or interfere with other tests.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use watchdeck::source::exposition::{SampleRef, Visitor, parse_with};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers every operation to the system allocator and only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

struct Nothing;
impl<'a> Visitor<'a> for Nothing {
    fn sample(&mut self, _: SampleRef<'_, 'a>) {}
}

struct Sum(f64, usize);
impl<'a> Visitor<'a> for Sum {
    fn sample(&mut self, s: SampleRef<'_, 'a>) {
        self.0 += s.value;
        self.1 += s.labels.len();
    }
}

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    f();
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

#[test]
fn exposition_streaming_parse_allocates_a_constant_amount() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/exporters/node_exporter-1.5.prom"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let samples = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count();
    assert!(samples > 500);

    let n = allocations_during(|| parse_with(&text, &mut Nothing));
    // Only the label buffer growing to the widest label set (a handful of doublings).
    assert!(n <= 8, "{n} allocations for {samples} samples");

    let mut sum = Sum(0.0, 0);
    let n = allocations_during(|| parse_with(&text, &mut sum));
    assert!(n <= 8, "{n} allocations for {samples} samples");
    assert!(sum.1 > 0);

    // Ten times the input, same budget: the cost does not grow with the sample count.
    let big = text.repeat(10);
    let n = allocations_during(|| parse_with(&big, &mut Nothing));
    assert!(n <= 8, "{n} allocations for {} samples", samples * 10);
}
