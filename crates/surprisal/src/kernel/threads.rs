//! The fixed partition of work over threads: thread t of T gets the contiguous block
//! `[n·t/T, n·(t+1)/T)`, so that every result combined in thread order is reproducible for a given
//! thread count.

use std::ops::Range;

/// Block `t` of `parts` contiguous blocks covering `0..n` (sizes differ by at most one).
pub(crate) fn block(n: usize, parts: usize, t: usize) -> Range<usize> {
    let lo = (n as u128 * t as u128 / parts as u128) as usize;
    let hi = (n as u128 * (t + 1) as u128 / parts as u128) as usize;
    lo..hi
}

/// Runs `f(t, block(n, threads, t))` for each t on its own scoped thread (the first on the
/// calling thread) and returns the results in thread order.
pub(crate) fn run_blocks<R: Send>(
    n: usize,
    threads: usize,
    f: impl Fn(usize, Range<usize>) -> R + Sync,
) -> Vec<R> {
    let threads = threads.max(1);
    if threads == 1 {
        return vec![f(0, 0..n)];
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = (1..threads)
            .map(|t| {
                let f = &f;
                s.spawn(move || f(t, block(n, threads, t)))
            })
            .collect();
        let mut out = vec![f(0, block(n, threads, 0))];
        out.extend(handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))));
        out
    })
}

/// A raw pointer that may cross threads: each thread writes a disjoint part of the buffer it
/// points into (the callers guarantee it).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SendPtr<T>(pub *mut T);

impl<T> SendPtr<T> {
    /// The pointer (a method, so that closures capture the whole `SendPtr`).
    #[inline(always)]
    pub(crate) fn get(self) -> *mut T {
        self.0
    }
}
// SAFETY: used only for buffers partitioned into disjoint per-thread ranges.
unsafe impl<T> Send for SendPtr<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for SendPtr<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_the_range_in_order() {
        for n in [0usize, 1, 5, 17, 1000] {
            for parts in 1..=5 {
                let mut next = 0;
                for t in 0..parts {
                    let b = block(n, parts, t);
                    assert_eq!(b.start, next);
                    assert!(b.len() <= n / parts + 1);
                    next = b.end;
                }
                assert_eq!(next, n);
            }
        }
        let r = run_blocks(10, 3, |t, b| (t, b.len()));
        assert_eq!(r, vec![(0, 3), (1, 3), (2, 4)]);
    }
}
