//! Bin edges for reliability statistics, and which bin a confidence falls in.
//!
//! ```text
//! torchmetrics   edges  b_i = linspace(0, 1, n + 1) computed in float32
//!                bins   [b_0, b_1), [b_1, b_2), …, [b_{n−1}, b_n), and [1, 1]      (n + 1 slots)
//!                slot   s(x) = #{i : b_i ≤ x} − 1          (torch.bucketize(x, b, right=True) − 1)
//! scikit-learn   edges  b_i = i · (1/n)  (uniform)  or  percentile(x, 100·i/n)  (quantile)
//!                bins   [b_0, b_1], (b_1, b_2], …, (b_{n−1}, b_n]                 (n slots)
//!                slot   s(x) = #{1 ≤ i ≤ n−1 : b_i < x}    (np.searchsorted(b[1:-1], x, "left"))
//! ```
//!
//! The two libraries disagree on the closed side of a bin, and torchmetrics puts a confidence of
//! exactly 1 in a bin of its own (its last edge is 1, so `bucketize` gives it index n); both
//! conventions are reproduced bit for bit by [`Closed::Left`] and [`Closed::Right`].
//!
//! Equal-mass (adaptive) edges are the data's quantiles ([`BinEdges::quantile`], NumPy's default
//! "linear" percentile): building them needs every value, so a streaming statistic over them is
//! two-pass or stores its values (see [`super::QuantileCalibration`]).

use crate::error::{Error, Result};
use crate::num::Real;

/// Which side of a bin is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// `[b_i, b_{i+1})`, plus one slot for values `≥ b_n` (torchmetrics: a confidence of exactly 1
    /// is in a bin of its own). `n + 1` slots for `n` bins.
    Left,
    /// `(b_i, b_{i+1}]`, the first bin closed on both sides, values outside the edges clamped to the
    /// first or last bin (scikit-learn's `np.searchsorted(edges[1:-1], x)`). `n` slots.
    Right,
}

/// Sorted bin edges `b_0 ≤ b_1 ≤ … ≤ b_n` and the side each bin is closed on.
#[derive(Clone, Debug, PartialEq)]
pub struct BinEdges<F> {
    edges: Vec<F>,
    closed: Closed,
}

fn check_n_bins(n_bins: usize) -> Result<()> {
    if n_bins == 0 { Err(Error::param("n_bins", 0.0, "must be >= 1")) } else { Ok(()) }
}

/// `torch.linspace(0, 1, steps, dtype=torch.float32)` as PyTorch's CPU kernel computes it:
/// `step = (1 − 0)/(steps − 1)` in float32, then `0 + step·i` for the first half and
/// `1 − step·(steps − 1 − i)` for the second (so both ends are exact).
///
/// PyTorch's vectorised path (AVX2 builds, 16 or more steps) forms the second half as
/// `base + k·step` instead, which can differ by one float32 ulp at some edges for `n_bins ≥ 20`;
/// the scalar formula here is the one every build uses below 16 steps.
pub fn torch_linspace_f32(steps: usize) -> Vec<f32> {
    match steps {
        0 => return Vec::new(),
        1 => return vec![0.0],
        _ => {}
    }
    let step = (1.0f32 - 0.0f32) / (steps - 1) as f32;
    let halfway = steps / 2;
    (0..steps)
        .map(|i| if i < halfway { 0.0f32 + step * i as f32 } else { 1.0f32 - step * (steps - i - 1) as f32 })
        .collect()
}

/// `np.linspace(0, 1, n + 1)`: `i · (1/n)`, the last edge set to exactly 1.
fn numpy_linspace01(n: usize) -> Vec<f64> {
    let step = 1.0 / n as f64;
    let mut e: Vec<f64> = (0..=n).map(|i| i as f64 * step + 0.0).collect();
    e[n] = 1.0;
    e
}

/// NumPy's default (`"linear"`) percentile at quantile `q ∈ [0, 1]` of `n` sorted values given by
/// their order statistics `at(k)` (0-based), with NumPy's two-sided interpolation `a + (b − a)·γ`
/// for γ < ½ and `b − (b − a)·(1 − γ)` otherwise.
fn numpy_quantile(n: usize, q: f64, at: &mut impl FnMut(usize) -> f64) -> f64 {
    let v = (n - 1) as f64 * q;
    if v >= (n - 1) as f64 {
        return at(n - 1);
    }
    if v < 0.0 {
        return at(0);
    }
    let lo = v.floor();
    let g = v - lo;
    let (a, b) = (at(lo as usize), at(lo as usize + 1));
    let d = b - a;
    if g >= 0.5 { b - d * (1.0 - g) } else { a + d * g }
}

/// The quantile levels `q_i = i/n` of equal-mass edges (NumPy's `linspace(0, 1, n + 1)`, passed
/// through percentile's `·100 / 100` as scikit-learn does).
fn quantile_levels(n_bins: usize) -> impl Iterator<Item = f64> {
    numpy_linspace01(n_bins).into_iter().map(|q| (q * 100.0) / 100.0)
}

/// The order statistics (0-based ranks into the sorted values, ascending, without repeats) that
/// the equal-mass edges of `n` values need: at most two a quantile. A streaming caller that keeps
/// its values out of order selects just these and passes them to
/// [`BinEdges::quantile_from_order_statistics`].
pub fn quantile_ranks(n: usize, n_bins: usize) -> Vec<usize> {
    let mut ranks = Vec::new();
    if n == 0 {
        return ranks;
    }
    for q in quantile_levels(n_bins) {
        numpy_quantile(n, q, &mut |k| {
            ranks.push(k);
            0.0
        });
    }
    ranks.sort_unstable();
    ranks.dedup();
    ranks
}

impl<F: Real> BinEdges<F> {
    /// Custom edges.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`edges`, with the index) for fewer than two edges, a non-finite
    /// edge, or edges that decrease.
    pub fn new(edges: Vec<F>, closed: Closed) -> Result<Self> {
        if edges.len() < 2 {
            return Err(Error::param("edges", edges.len() as f64, "need at least two edges (one bin)"));
        }
        for (i, e) in edges.iter().enumerate() {
            if !e.is_finite() || (i > 0 && *e < edges[i - 1]) {
                return Err(Error::InvalidParameter {
                    name: "edges",
                    value: e.to_f64_lossy(),
                    index: Some(i),
                    reason: "edges must be finite and non-decreasing",
                });
            }
        }
        Ok(BinEdges { edges, closed })
    }

    /// torchmetrics' uniform bins: edges `torch.linspace(0, 1, n_bins + 1)` in float32, bins
    /// closed on the left, a confidence of exactly 1 in a slot of its own.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `n_bins = 0`.
    pub fn torchmetrics(n_bins: usize) -> Result<Self> {
        check_n_bins(n_bins)?;
        let edges = torch_linspace_f32(n_bins + 1).into_iter().map(|e| F::lit(f64::from(e))).collect();
        Ok(BinEdges { edges, closed: Closed::Left })
    }

    /// scikit-learn's uniform bins: edges `np.linspace(0, 1, n_bins + 1)`, bins closed on the right.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `n_bins = 0`.
    pub fn uniform(n_bins: usize) -> Result<Self> {
        check_n_bins(n_bins)?;
        Ok(BinEdges {
            edges: numpy_linspace01(n_bins).into_iter().map(F::lit).collect(),
            closed: Closed::Right,
        })
    }

    /// Equal-mass edges: `np.percentile(values, linspace(0, 1, n_bins + 1)·100)` (NumPy's linear
    /// interpolation, as scikit-learn's `strategy="quantile"`), bins closed on the right. Ties in
    /// the data can make edges coincide; such bins stay empty.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `n_bins = 0`; [`Error::Empty`] for no values;
    /// [`Error::InvalidValue`] (`probs`, row) for a NaN.
    pub fn quantile(values: &[F], n_bins: usize) -> Result<Self> {
        check_n_bins(n_bins)?;
        if values.is_empty() {
            return Err(Error::Empty { name: "probs" });
        }
        if let Some(i) = values.iter().position(|v| v.is_nan()) {
            return Err(Error::InvalidValue {
                name: "probs",
                value: f64::NAN,
                index: Some(i),
                reason: "must not be NaN",
            });
        }
        let mut sorted: Vec<f64> = values.iter().map(|v| v.to_f64_lossy()).collect();
        sorted.sort_by(f64::total_cmp);
        Self::quantile_from_order_statistics(sorted.len(), n_bins, |k| sorted[k])
    }

    /// Equal-mass edges of `n` values known through their order statistics: `kth(k)` is the k-th
    /// smallest value (0-based), asked only for the ranks [`quantile_ranks`] lists. Gives exactly
    /// [`BinEdges::quantile`] of the values, without holding them sorted.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `n_bins = 0`; [`Error::Empty`] for `n = 0`.
    pub fn quantile_from_order_statistics(
        n: usize,
        n_bins: usize,
        mut kth: impl FnMut(usize) -> f64,
    ) -> Result<Self> {
        check_n_bins(n_bins)?;
        if n == 0 {
            return Err(Error::Empty { name: "probs" });
        }
        let edges = quantile_levels(n_bins).map(|q| F::lit(numpy_quantile(n, q, &mut kth))).collect();
        Ok(BinEdges { edges, closed: Closed::Right })
    }

    /// The edges `b_0 … b_n`.
    pub fn edges(&self) -> &[F] {
        &self.edges
    }

    /// The closed side.
    pub fn closed(&self) -> Closed {
        self.closed
    }

    /// Number of bins `n` (one less than the number of edges).
    pub fn n_bins(&self) -> usize {
        self.edges.len() - 1
    }

    /// Number of slots a value can fall in: `n + 1` for [`Closed::Left`], `n` for [`Closed::Right`].
    pub fn n_slots(&self) -> usize {
        match self.closed {
            Closed::Left => self.edges.len(),
            Closed::Right => self.edges.len() - 1,
        }
    }

    /// The slot of `x` (not NaN; callers validate): see the module table.
    #[inline]
    pub fn slot(&self, x: F) -> usize {
        match self.closed {
            // bucketize(right=True) − 1, clamped below at 0.
            Closed::Left => self.edges.partition_point(|&e| e <= x).saturating_sub(1),
            // searchsorted(edges[1:-1], x, side="left").
            Closed::Right => self.edges[1..self.edges.len() - 1].partition_point(|&e| e < x),
        }
    }

    /// The lower and upper bound of slot `s` (the extra [`Closed::Left`] slot is `[b_n, b_n]`).
    pub fn slot_bounds(&self, s: usize) -> (F, F) {
        let n = self.n_bins();
        if s >= n { (self.edges[n], self.edges[n]) } else { (self.edges[s], self.edges[s + 1]) }
    }
}

/// Checks that every probability is in `[0, 1]` (not NaN), naming the row of the first bad one;
/// `cols` values per row.
pub(crate) fn check_probs<F: Real>(probs: &[F], cols: usize) -> Result<()> {
    match probs.iter().position(|p| !(*p >= F::zero() && *p <= F::one())) {
        None => Ok(()),
        Some(i) => Err(Error::InvalidValue {
            name: "probs",
            value: probs[i].to_f64_lossy(),
            index: Some(i / cols.max(1)),
            reason: "a probability must be in [0, 1] (index is the row)",
        }),
    }
}

/// Checks binary labels: each 0 or 1, naming the row of the first bad one.
pub(crate) fn check_labels<F: Real>(target: &[F]) -> Result<()> {
    match target.iter().position(|y| !(*y == F::zero() || *y == F::one())) {
        None => Ok(()),
        Some(i) => Err(Error::InvalidValue {
            name: "target",
            value: target[i].to_f64_lossy(),
            index: Some(i),
            reason: "a binary label must be 0 or 1",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_statistics_give_the_quantile_edges() {
        let mut rng = crate::testing::Rng(7);
        for (n, bins) in [(1usize, 1usize), (2, 5), (7, 3), (100, 15), (1001, 10), (64, 64)] {
            // Values with ties, so that edges can coincide.
            let v: Vec<f64> = (0..n).map(|_| (rng.uniform() * 20.0).floor() / 20.0).collect();
            let want = BinEdges::<f64>::quantile(&v, bins).unwrap();
            let mut sorted = v.clone();
            sorted.sort_by(f64::total_cmp);
            let ranks = quantile_ranks(n, bins);
            assert!(ranks.len() <= 2 * (bins + 1) && ranks.windows(2).all(|w| w[0] < w[1]));
            let got = BinEdges::<f64>::quantile_from_order_statistics(n, bins, |k| {
                assert!(ranks.contains(&k), "rank {k} not listed");
                sorted[k]
            })
            .unwrap();
            assert_eq!(got, want, "n = {n}, bins = {bins}");
        }
        assert!(BinEdges::<f64>::quantile_from_order_statistics(0, 3, |_| 0.0).is_err());
        assert!(quantile_ranks(0, 3).is_empty());
    }

    #[test]
    fn torch_linspace_matches_known_float32_edges() {
        // The kernel's float32 arithmetic redone with NumPy float32 scalars
        // (np.float32(1)/15 * 3, …): 3/15 and 6/15 land one ulp above the nearest float32.
        let e = torch_linspace_f32(16);
        assert_eq!(e[0], 0.0);
        assert_eq!(e[15], 1.0);
        assert_eq!(e[3], f32::from_bits(0.2f32.to_bits() + 1));
        assert_eq!(e[6], f32::from_bits(0.4f32.to_bits() + 1));
        // Small bin counts are the nearest float32 of i/n.
        for n in [1usize, 2, 4, 5, 8, 10] {
            let e = torch_linspace_f32(n + 1);
            for (i, v) in e.iter().enumerate() {
                assert_eq!(*v, (i as f64 / n as f64) as f32, "n={n} i={i}");
            }
        }
    }

    #[test]
    fn left_closed_slots_put_one_in_its_own_slot() {
        let b = BinEdges::<f64>::torchmetrics(5).unwrap();
        assert_eq!(b.n_slots(), 6);
        assert_eq!(b.slot(0.0), 0);
        assert_eq!(b.slot(0.19999), 0);
        assert_eq!(b.slot(f64::from(0.2f32)), 1); // the edge itself opens the next bin
        assert_eq!(b.slot(0.999_999_999), 4);
        assert_eq!(b.slot(1.0), 5);
        assert_eq!(b.slot_bounds(5), (1.0, 1.0));
        // 0.2 in f64 is below the float32 edge 0.2000000029802…: still bin 0.
        assert!(0.2 < f64::from(0.2f32));
        assert_eq!(b.slot(0.2), 0);
    }

    #[test]
    fn right_closed_slots_follow_searchsorted_left() {
        let b = BinEdges::<f64>::uniform(4).unwrap();
        assert_eq!(b.n_slots(), 4);
        assert_eq!(b.slot(0.0), 0);
        assert_eq!(b.slot(0.25), 0);
        assert_eq!(b.slot(0.250001), 1);
        assert_eq!(b.slot(1.0), 3);
        assert_eq!(b.slot(-3.0), 0);
        assert_eq!(b.slot(7.0), 3);
    }

    #[test]
    fn quantile_edges_follow_numpy_linear_percentile() {
        // np.percentile([1, 2, 3, 4, 10], [0, 25, 50, 75, 100]) = [1, 2, 3, 4, 10]
        let b = BinEdges::quantile(&[10.0f64, 2.0, 1.0, 4.0, 3.0], 4).unwrap();
        assert_eq!(b.edges(), &[1.0, 2.0, 3.0, 4.0, 10.0]);
        // np.percentile([0, 1], [0, 100/3, 200/3, 100]) = [0, 1/3, 2/3, 1]
        let b = BinEdges::quantile(&[0.0f64, 1.0], 3).unwrap();
        assert!((b.edges()[1] - 1.0 / 3.0).abs() < 1e-15 && (b.edges()[2] - 2.0 / 3.0).abs() < 1e-15);
        assert!(matches!(BinEdges::<f64>::quantile(&[], 3), Err(Error::Empty { .. })));
        assert!(matches!(
            BinEdges::quantile(&[0.1, f64::NAN], 3),
            Err(Error::InvalidValue { index: Some(1), .. })
        ));
    }

    #[test]
    fn bad_edges_and_bin_counts_are_errors() {
        assert!(BinEdges::<f64>::torchmetrics(0).is_err());
        assert!(BinEdges::<f64>::uniform(0).is_err());
        assert!(BinEdges::new(vec![0.0f64], Closed::Left).is_err());
        assert!(matches!(
            BinEdges::new(vec![0.0f64, 0.5, 0.4], Closed::Right),
            Err(Error::InvalidParameter { index: Some(2), .. })
        ));
        assert!(BinEdges::new(vec![0.0f64, f64::INFINITY], Closed::Right).is_err());
    }

    #[test]
    fn probability_and_label_checks_name_the_row() {
        assert!(check_probs(&[0.1f64, 0.2, 0.3, 1.2], 2).unwrap_err().to_string().contains("index 1"));
        assert!(matches!(
            check_probs(&[0.0f64, f64::NAN], 1),
            Err(Error::InvalidValue { index: Some(1), .. })
        ));
        assert!(matches!(check_probs(&[-0.0f64, 1.0], 1), Ok(())));
        assert!(matches!(check_labels(&[0.0f64, 1.0, 0.5]), Err(Error::InvalidValue { index: Some(2), .. })));
    }
}
