//! A scrape of series already seen allocates nothing per sample (counting allocator).

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::Utc;
use watchdeck::store::series::SeriesTable;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarding the caller's layout to the system allocator unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the pointer came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn second_scrape_of_the_same_series_does_not_allocate_per_sample() {
    let body = support::fixture("exporters/node_exporter-1.5.prom");
    let mut table = SeriesTable::new(200);
    let errors = table.ingest(&body, Utc::now());
    assert!(errors.is_empty(), "{errors:?}");
    let series = table.len();
    assert!(series > 500, "{series}");
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    table.ingest(&body, Utc::now());
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert!(
        allocations < 16,
        "{allocations} allocations re-ingesting {series} known series"
    );
}
