//! Kith's global allocator, mimalloc, which suits the many small, short-lived allocations of
//! GraphQL execution and hands freed pages back to the operating system (glibc's malloc kept a
//! 3.8 GB peak resident); and [`collect`], which makes it hand them back now.
//!
//! It is built without transparent huge pages (the `no_thp` feature): where the system leaves
//! them to `madvise`, mimalloc would ask for them on its arenas, and a huge page stays whole
//! in RSS while any 4 KiB of it is live, which doubled idle RSS (42 against 21 MiB).
//!
//! mimalloc returns freed pages lazily: a thread's pages are purged by that thread's later calls
//! into the allocator, once they have been free for `purge_delay`. A worker thread that parks
//! after a burst of requests makes no further calls, so what it freed stays resident until the
//! next burst. The server calls [`collect`] on each worker when it has gone idle
//! (`kith::memory`).

pub use mimalloc::MiMalloc;

/// Give back to the operating system, now, the free memory of the calling thread's heap and
/// the free pages of every arena (program-wide). It walks the thread's pages: call it when
/// the thread has nothing better to do, not per request.
pub fn collect() {
    #[expect(
        unsafe_code,
        reason = "an FFI call: mimalloc's own entry point for returning memory"
    )]
    // SAFETY: `mi_collect` takes no pointers and touches only mimalloc's own state, which it
    // synchronises itself; mimalloc documents it as callable from any thread at any time.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}
