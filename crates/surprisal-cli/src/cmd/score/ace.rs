//! The adaptive (equal-mass) calibration error, exact, in one pass over the rows.
//!
//! Equal-mass bins are cut at quantiles of all the confidences, so no fixed-size summary gives them
//! exactly: the rows are kept, packed into one `u64` each (8 bytes a row, 80 MB for 10⁷ rows; pass
//! `--no-adaptive-ece` to keep the scorer's memory bounded whatever the input's size).
//!
//! ```text
//! key = bits(confidence) << 1 | outcome
//! ```
//!
//! A probability in [0, 1] has a clear sign bit and bit 62 (its exponent field is below 0x400), so
//! shifting its bits left by one loses nothing, and keys order exactly as the confidences do. The
//! edges need only the few order statistics [`quantile_ranks`] lists; they are selected from the
//! unsorted chunks by histograms of key ranges refined until a range is small enough to sort (two
//! passes over the keys in practice), and then every row is binned over those edges by comparing
//! keys (the bins of [`BinEdges::quantile`], closed on the right).

use surprisal::calibration::{BinEdges, ReliabilityDiagram, quantile_ranks};

/// Keys a chunk holds (chunks never reallocate, so memory is 8 bytes a row plus one chunk).
const CHUNK: usize = 1 << 16;
/// A key range with at most this many keys is collected and sorted.
const DIRECT: usize = 1 << 20;
/// Buckets of one histogram pass (as a power of two).
const BUCKET_BITS: u32 = 16;

/// The (confidence, outcome) rows of a classifier, packed as sortable keys.
#[derive(Clone, Debug, Default)]
pub struct AceStore {
    chunks: Vec<Vec<u64>>,
    n: usize,
    min: u64,
    max: u64,
}

/// The confidence of a key.
fn confidence(key: u64) -> f64 {
    f64::from_bits(key >> 1)
}

impl AceStore {
    /// Adds one row: a confidence in [0, 1] (validated by the caller) and whether it was right.
    #[inline]
    pub fn push(&mut self, confidence: f64, outcome: bool) {
        let key = (confidence.to_bits() << 1) | u64::from(outcome);
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => c.push(key),
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(key);
                self.chunks.push(c);
            }
        }
        if self.n == 0 {
            (self.min, self.max) = (key, key);
        } else {
            self.min = self.min.min(key);
            self.max = self.max.max(key);
        }
        self.n += 1;
    }

    /// Takes over the rows of `other`.
    pub fn merge(&mut self, other: AceStore) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = other;
            return;
        }
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.n += other.n;
        self.chunks.extend(other.chunks);
    }

    /// The keys in `[lo, hi]`.
    fn in_range(&self, lo: u64, hi: u64) -> impl Iterator<Item = u64> + '_ {
        self.chunks.iter().flatten().copied().filter(move |&k| k >= lo && k <= hi)
    }

    /// Selects order statistics among the `count` keys in `[lo, hi]`: `want` holds (slot in
    /// `out`, rank among those keys).
    fn select(&self, lo: u64, hi: u64, count: usize, want: &[(usize, usize)], out: &mut [u64]) {
        if count <= DIRECT {
            let mut v: Vec<u64> = self.in_range(lo, hi).collect();
            v.sort_unstable();
            for &(slot, r) in want {
                out[slot] = v[r];
            }
            return;
        }
        let span = hi - lo;
        let shift = (64 - span.leading_zeros()).saturating_sub(BUCKET_BITS);
        let mut hist = vec![0usize; (span >> shift) as usize + 1];
        for k in self.in_range(lo, hi) {
            hist[((k - lo) >> shift) as usize] += 1;
        }
        // The bucket of each wanted rank, and its rank within the bucket.
        let mut groups: Vec<(usize, Vec<(usize, usize)>)> = Vec::new();
        let (mut b, mut before) = (0usize, 0usize);
        let mut sorted = want.to_vec();
        sorted.sort_by_key(|w| w.1);
        for (slot, r) in sorted {
            while before + hist[b] <= r {
                before += hist[b];
                b += 1;
            }
            match groups.last_mut() {
                Some((g, ws)) if *g == b => ws.push((slot, r - before)),
                _ => groups.push((b, vec![(slot, r - before)])),
            }
        }
        let bucket_lo = |b: usize| lo + ((b as u64) << shift);
        let bucket_hi = |b: usize| (bucket_lo(b) + ((1u64 << shift) - 1)).min(hi);
        // Small buckets are collected together in one pass; a large one is refined on its own.
        let mut slot_of = vec![u32::MAX; hist.len()];
        let mut small: Vec<Vec<u64>> = Vec::new();
        for (b, _) in groups.iter().filter(|(b, _)| hist[*b] <= DIRECT) {
            slot_of[*b] = small.len() as u32;
            small.push(Vec::with_capacity(hist[*b]));
        }
        if !small.is_empty() {
            for k in self.in_range(lo, hi) {
                let s = slot_of[((k - lo) >> shift) as usize];
                if s != u32::MAX {
                    small[s as usize].push(k);
                }
            }
        }
        for (b, ws) in &groups {
            if hist[*b] <= DIRECT {
                let v = &mut small[slot_of[*b] as usize];
                v.sort_unstable();
                for &(slot, r) in ws {
                    out[slot] = v[r];
                }
            } else if shift == 0 {
                // A bucket one key wide: every key in it is that key.
                for &(slot, _) in ws {
                    out[slot] = bucket_lo(*b);
                }
            } else {
                self.select(bucket_lo(*b), bucket_hi(*b), hist[*b], ws, out);
            }
        }
    }

    /// The reliability diagram over `n_bins` equal-mass bins (those of
    /// [`BinEdges::quantile`]), binning on up to `threads` threads.
    pub fn finish(&self, n_bins: usize, threads: usize) -> Result<ReliabilityDiagram<f64>, surprisal::Error> {
        let ranks = quantile_ranks(self.n, n_bins);
        let mut stats = vec![0u64; ranks.len()];
        if self.n > 0 {
            let want: Vec<(usize, usize)> = ranks.iter().copied().enumerate().collect();
            self.select(self.min, self.max, self.n, &want, &mut stats);
        }
        let edges = BinEdges::<f64>::quantile_from_order_statistics(self.n, n_bins, |k| {
            confidence(stats[ranks.binary_search(&k).expect("a listed rank")])
        })?;
        // Bins (b_i, b_{i+1}]: the slot of x is #{interior edges e : e < x}, and e < x exactly
        // when (bits(e) << 1 | 1) < key (equal confidences compare equal whatever the outcome).
        let interior: Vec<u64> =
            edges.edges()[1..edges.n_bins()].iter().map(|e| (e.to_bits() << 1) | 1).collect();
        let slots = edges.n_slots();
        let per = self.chunks.len().div_ceil(threads.max(1)).max(1);
        type Sums = (Vec<u64>, Vec<f64>, Vec<f64>);
        let parts: Vec<Sums> = std::thread::scope(|s| {
            let handles: Vec<_> = self
                .chunks
                .chunks(per)
                .map(|part| {
                    let interior = &interior;
                    s.spawn(move || {
                        let (mut n, mut conf, mut hit) =
                            (vec![0u64; slots], vec![0.0; slots], vec![0.0; slots]);
                        for &k in part.iter().flatten() {
                            let b = interior.iter().map(|&e| usize::from(e < k)).sum::<usize>();
                            n[b] += 1;
                            conf[b] += confidence(k);
                            hit[b] += (k & 1) as f64;
                        }
                        (n, conf, hit)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("binning does not panic")).collect()
        });
        let (mut n, mut conf, mut hit) = (vec![0u64; slots], vec![0.0; slots], vec![0.0; slots]);
        for (pn, pc, ph) in parts {
            for b in 0..slots {
                n[b] += pn[b];
                conf[b] += pc[b];
                hit[b] += ph[b];
            }
        }
        let mean = |sum: &[f64]| -> Vec<f64> {
            sum.iter().zip(&n).map(|(&x, &c)| if c == 0 { 0.0 } else { x / c as f64 }).collect()
        };
        let (lower, upper) = (0..slots).map(|b| edges.slot_bounds(b)).unzip();
        Ok(ReliabilityDiagram { lower, upper, confidence: mean(&conf), accuracy: mean(&hit), count: n })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use surprisal::calibration::{Norm, adaptive_calibration_error};
    use surprisal::score::Accumulator;

    /// The diagram equals the library's equal-mass diagram of the same rows, for small inputs
    /// (sorted directly) and large ones with heavy ties (selected by histograms, recursively).
    #[test]
    fn matches_the_library_on_ties_and_large_inputs() {
        let mut state = 0x1234_5678_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for (n, bins, ties) in
            [(1usize, 3usize, false), (10, 4, true), (5000, 15, false), (3_300_000, 15, true)]
        {
            let mut p = Vec::with_capacity(n);
            let mut y = Vec::with_capacity(n);
            let mut store = AceStore::default();
            let mut other = AceStore::default();
            for i in 0..n {
                let u = next();
                // Ties: a third of the rows at exactly 0.5, and values on a 1e-12 grid near 0.7.
                let c = if ties && i % 3 == 0 {
                    0.5
                } else if ties && i % 3 == 1 {
                    0.7 + (i % 97) as f64 * 1e-12
                } else {
                    u
                };
                let o = next() < c;
                p.push(c);
                y.push(if o { 1.0 } else { 0.0 });
                if i % 2 == 0 { store.push(c, o) } else { other.push(c, o) }
            }
            store.merge(other);
            let got = store.finish(bins, 2).unwrap();
            let mut q = surprisal::calibration::QuantileCalibration::new(bins).unwrap();
            q.update(&p, &y).unwrap();
            let want = q.finish().unwrap();
            assert_eq!(got.count, want.count, "n = {n}");
            assert_eq!(got.lower, want.lower, "n = {n}");
            assert_eq!(got.upper, want.upper, "n = {n}");
            let (a, b) = (
                got.calibration_error(Norm::L1),
                adaptive_calibration_error(&p, &y, bins, Norm::L1).unwrap(),
            );
            // Same bins; the per-bin sums differ only in their order of addition (the error is a
            // difference of means near ½, so compare absolutely).
            assert!((a - b).abs() <= 1e-11, "n = {n}: {a} vs {b}");
        }
        assert!(AceStore::default().finish(3, 1).is_err());
    }
}
