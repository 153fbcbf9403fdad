//! The footprint firmware (and its host twin): see `benches/footprint.sh`.
#![cfg_attr(not(feature = "host"), no_std)]
#![cfg_attr(not(feature = "host"), no_main)]

extern crate alloc;

mod session;

use core::sync::atomic::{AtomicUsize, Ordering};

/// Bytes in use and the most ever in use, counted around the real allocator.
static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

struct Counting<A>(A);

// SAFETY: every method forwards to the wrapped allocator unchanged; the counters are plain
// atomics and never affect what is allocated.
#[allow(unsafe_code)]
unsafe impl<A: core::alloc::GlobalAlloc> core::alloc::GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { self.0.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: core::alloc::Layout) {
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { self.0.dealloc(ptr, layout) }
    }
}

fn in_use() -> usize {
    IN_USE.load(Ordering::Relaxed)
}

#[cfg(feature = "host")]
#[global_allocator]
static ALLOCATOR: Counting<std::alloc::System> = Counting(std::alloc::System);

#[cfg(feature = "host")]
fn main() {
    let mut store = session::FixedStore::new();
    let figures = session::run(&mut store, in_use);
    println!(
        "frames {} idle_heap {} peak_heap {}",
        figures.frames,
        figures.idle_heap,
        PEAK.load(Ordering::Relaxed)
    );
}

#[cfg(not(feature = "host"))]
mod firmware {
    use super::*;
    use cortex_m_rt::entry;
    use cortex_m_semihosting::{debug, hprintln};
    use embedded_alloc::LlffHeap;

    #[global_allocator]
    static ALLOCATOR: Counting<LlffHeap> = Counting(LlffHeap::empty());

    const HEAP: usize = 64 * 1024;

    #[entry]
    fn main() -> ! {
        static mut MEMORY: [core::mem::MaybeUninit<u8>; HEAP] =
            [core::mem::MaybeUninit::uninit(); HEAP];
        static mut STORE: session::FixedStore = session::FixedStore::new();
        // SAFETY: `entry` turns MEMORY into a unique `&'static mut`; it is handed to the heap
        // once and never touched again.
        #[allow(unsafe_code)]
        unsafe {
            ALLOCATOR.0.init(MEMORY.as_mut_ptr() as usize, HEAP);
        }
        let figures = session::run(STORE, in_use);
        hprintln!(
            "frames {} idle_heap {} peak_heap {}",
            figures.frames,
            figures.idle_heap,
            PEAK.load(Ordering::Relaxed)
        );
        debug::exit(debug::EXIT_SUCCESS);
        loop {}
    }

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        debug::exit(debug::EXIT_FAILURE);
        loop {}
    }
}
