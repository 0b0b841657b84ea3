//! Reliability diagrams: per-bin mean confidence against per-bin observed frequency, accumulated
//! in one streaming pass over fixed bin edges (or, for data-dependent edges, over stored values).
//!
//! ```text
//! bin b:   n_b = #{i : s(cᵢ) = b}
//!          conf_b = (1/n_b) Σ_{s(cᵢ)=b} cᵢ          mean confidence      (0 for an empty bin)
//!          acc_b  = (1/n_b) Σ_{s(cᵢ)=b} oᵢ          observed frequency   (0 for an empty bin)
//! ECE   (l1)   = Σ_b (n_b/n) · |acc_b − conf_b|
//! MCE   (max)  = max_b |acc_b − conf_b|              (empty bins count as 0)
//! RMSCE (l2)   = √( Σ_b (n_b/n) · (acc_b − conf_b)² )
//! ```
//!
//! For a binary classifier `cᵢ` is the predicted probability of the positive class and `oᵢ ∈ {0, 1}`
//! the label (the bin's fraction of positives); for a multiclass classifier `cᵢ = maxₖ pᵢₖ` is the
//! top-label confidence and `oᵢ = [argmaxₖ pᵢₖ = yᵢ]` whether the top label is right. A perfectly
//! calibrated predictor has `E[o | c] = c`, so every gap `acc_b − conf_b` tends to 0 as n grows
//! (ECE = O(√(bins/n)) from sampling noise alone).
//!
//! Sums are accumulated in `F` in row order, as torchmetrics' `scatter_add_` does: with `F = f32`
//! the statistics are torchmetrics' float32 ones bit for bit, with `F = f64` its float64 ones.

use super::binning::{BinEdges, check_labels, check_probs};
use crate::error::{Error, Result, check};
use crate::num::Real;
use crate::score::Accumulator;

/// Which summary of the per-bin gaps `|acc_b − conf_b|`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Norm {
    /// Expected calibration error: the count-weighted mean gap.
    L1,
    /// Maximum calibration error: the largest gap over the bins (empty bins count as 0).
    Max,
    /// Root-mean-square calibration error: the square root of the count-weighted mean squared gap.
    L2,
}

impl Norm {
    /// Parses torchmetrics' names `l1`, `max`, `l2`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for any other name.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "l1" => Ok(Norm::L1),
            "max" => Ok(Norm::Max),
            "l2" => Ok(Norm::L2),
            other => Err(Error::InvalidOption {
                name: "norm",
                value: other.to_string(),
                reason: "expected l1, max or l2",
            }),
        }
    }
}

/// The data of a reliability diagram, one entry per slot of the bin edges (ready to plot: bars
/// from `lower` to `upper` at height `accuracy`, the diagonal at `confidence`).
#[derive(Clone, Debug, PartialEq)]
pub struct ReliabilityDiagram<F> {
    /// Lower bound of each slot.
    pub lower: Vec<F>,
    /// Upper bound of each slot (the extra left-closed slot for confidence 1 is `[1, 1]`).
    pub upper: Vec<F>,
    /// Rows in each slot.
    pub count: Vec<u64>,
    /// Mean confidence of each slot, `conf_b` (0 for an empty slot, as torchmetrics).
    pub confidence: Vec<F>,
    /// Observed frequency of each slot, `acc_b` (0 for an empty slot, as torchmetrics).
    pub accuracy: Vec<F>,
}

impl<F: Real> ReliabilityDiagram<F> {
    /// Total number of rows.
    pub fn n_rows(&self) -> u64 {
        self.count.iter().sum()
    }

    /// The calibration error for `norm` (see the module formulas), computed in torchmetrics'
    /// order of operations: `acc_b` and `conf_b` as sums divided by counts, weights `n_b / n`,
    /// then one sum over the slots.
    pub fn calibration_error(&self, norm: Norm) -> F {
        let total = self.count.iter().fold(F::zero(), |s, &c| s + F::lit(c as f64));
        let gaps = self.accuracy.iter().zip(&self.confidence).map(|(&a, &c)| a - c);
        let props = self.count.iter().map(|&c| F::lit(c as f64) / total);
        match norm {
            Norm::L1 => gaps.zip(props).fold(F::zero(), |s, (g, p)| s + g.abs() * p),
            Norm::Max => gaps.fold(F::zero(), |m, g| m.max(g.abs())),
            Norm::L2 => {
                let s = gaps.zip(props).fold(F::zero(), |s, (g, p)| s + g * g * p);
                if s > F::zero() { s.sqrt() } else { F::zero() }
            }
        }
    }
}

/// Streaming per-bin counts and sums over fixed [`BinEdges`]: update in batches, merge shards,
/// finish into a [`ReliabilityDiagram`].
///
/// # Example
/// ```
/// use surprisal::calibration::{BinEdges, BinnedCalibration, Norm};
/// use surprisal::score::Accumulator;
/// let mut a = BinnedCalibration::new(BinEdges::uniform(2).unwrap());
/// a.update(&[0.2f64, 0.4], &[0.0, 1.0]).unwrap();
/// let mut b = BinnedCalibration::new(BinEdges::uniform(2).unwrap());
/// b.update(&[0.9], &[1.0]).unwrap();
/// a.merge(&b).unwrap();
/// let d = a.finish().unwrap();
/// assert_eq!(d.count, vec![2, 1]);
/// // bin [0, ½]: conf 0.3, acc 0.5; bin (½, 1]: conf 0.9, acc 1.
/// // ECE = (2/3)·0.2 + (1/3)·0.1 = 1/6
/// assert!((d.calibration_error(Norm::L1) - 1.0 / 6.0).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct BinnedCalibration<F> {
    pub(crate) edges: BinEdges<F>,
    pub(crate) count: Vec<u64>,
    pub(crate) sum_confidence: Vec<F>,
    pub(crate) sum_outcome: Vec<F>,
}

impl<F: Real> BinnedCalibration<F> {
    /// An empty accumulator over `edges`.
    pub fn new(edges: BinEdges<F>) -> Self {
        let s = edges.n_slots();
        BinnedCalibration {
            edges,
            count: vec![0; s],
            sum_confidence: vec![F::zero(); s],
            sum_outcome: vec![F::zero(); s],
        }
    }

    /// The bin edges.
    pub fn edges(&self) -> &BinEdges<F> {
        &self.edges
    }

    #[inline]
    fn push(&mut self, c: F, o: F) {
        let s = self.edges.slot(c);
        self.count[s] += 1;
        self.sum_confidence[s] = self.sum_confidence[s] + c;
        self.sum_outcome[s] = self.sum_outcome[s] + o;
    }

    /// Adds a batch of binary rows: `probs[i]` the predicted probability of the positive class,
    /// `target[i] ∈ {0, 1}` the label. The batch is validated before anything is added.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for different lengths; [`Error::InvalidValue`] naming the row of a
    /// probability outside `[0, 1]` or NaN (`probs`) or a label other than 0 or 1 (`target`).
    pub fn update(&mut self, probs: &[F], target: &[F]) -> Result<()> {
        check::same_len("target", probs.len(), target.len())?;
        check_probs(probs, 1)?;
        check_labels(target)?;
        for (&c, &o) in probs.iter().zip(target) {
            self.push(c, o);
        }
        Ok(())
    }

    /// Adds a batch of multiclass rows (`probs` row-major `[N, n_classes]`, `target` class
    /// indices): each row's top-label confidence `maxₖ pᵢₖ` and whether `argmaxₖ pᵢₖ` (the first
    /// maximum) is `yᵢ`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for `n_classes = 0`; [`Error::ShapeMismatch`] for lengths that do
    /// not fit; [`Error::InvalidValue`] naming the row of a probability outside `[0, 1]` or NaN;
    /// [`Error::ClassOutOfRange`] for a target outside `0..n_classes`.
    pub fn update_top_label(&mut self, probs: &[F], n_classes: usize, target: &[i64]) -> Result<()> {
        let rows = top_label_rows(probs, n_classes, target)?;
        for (c, o) in rows {
            self.push(c, o);
        }
        Ok(())
    }

    /// Adds a batch of multiclass rows seen one-vs-rest for class `class`: confidence `pᵢ,class`,
    /// outcome `[yᵢ = class]` (one term of the class-wise calibration error).
    ///
    /// # Errors
    /// As [`BinnedCalibration::update_top_label`], and [`Error::ClassOutOfRange`] (row 0) for
    /// `class ≥ n_classes`.
    pub fn update_one_vs_rest(
        &mut self,
        probs: &[F],
        n_classes: usize,
        target: &[i64],
        class: usize,
    ) -> Result<()> {
        check_multiclass(probs, n_classes, target)?;
        if class >= n_classes {
            return Err(Error::ClassOutOfRange { row: 0, value: class as i64, n_classes });
        }
        for (row, &y) in probs.chunks_exact(n_classes).zip(target) {
            self.push(row[class], if y == class as i64 { F::one() } else { F::zero() });
        }
        Ok(())
    }
}

impl<F: Real> Accumulator for BinnedCalibration<F> {
    type Output = ReliabilityDiagram<F>;

    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.edges != other.edges {
            return Err(Error::InvalidOption {
                name: "edges",
                value: format!("{} vs {} bins", self.edges.n_bins(), other.edges.n_bins()),
                reason: "only accumulators over the same bin edges can be merged",
            });
        }
        for s in 0..self.count.len() {
            self.count[s] += other.count[s];
            self.sum_confidence[s] = self.sum_confidence[s] + other.sum_confidence[s];
            self.sum_outcome[s] = self.sum_outcome[s] + other.sum_outcome[s];
        }
        Ok(())
    }

    fn finish(&self) -> Result<ReliabilityDiagram<F>> {
        if self.count.iter().all(|&c| c == 0) {
            return Err(Error::Empty { name: "probs" });
        }
        let mean = |sum: &[F]| -> Vec<F> {
            sum.iter()
                .zip(&self.count)
                .map(|(&s, &c)| if c == 0 { F::zero() } else { s / F::lit(c as f64) })
                .collect()
        };
        let (lower, upper) = (0..self.count.len()).map(|s| self.edges.slot_bounds(s)).unzip();
        Ok(ReliabilityDiagram {
            lower,
            upper,
            count: self.count.clone(),
            confidence: mean(&self.sum_confidence),
            accuracy: mean(&self.sum_outcome),
        })
    }
}

/// Equal-mass bins need every confidence before the first bin is known: this accumulator stores
/// the (confidence, outcome) pairs (16 bytes a row in f64) and bins them at
/// [`finish`](Accumulator::finish) over [`BinEdges::quantile`] of all confidences seen. Merging
/// concatenates, so shards give the same diagram as one pass (sums to rounding).
///
/// For data too large to store, take the edges from a first pass (or a sample) with
/// [`BinEdges::quantile`] and stream a second pass through [`BinnedCalibration`] over them.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantileCalibration<F> {
    n_bins: usize,
    confidence: Vec<F>,
    outcome: Vec<F>,
}

impl<F: Real> QuantileCalibration<F> {
    /// An empty accumulator for `n_bins` equal-mass bins.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `n_bins = 0`.
    pub fn new(n_bins: usize) -> Result<Self> {
        if n_bins == 0 {
            return Err(Error::param("n_bins", 0.0, "must be >= 1"));
        }
        Ok(QuantileCalibration { n_bins, confidence: Vec::new(), outcome: Vec::new() })
    }

    /// Stores a batch of binary rows (see [`BinnedCalibration::update`]).
    ///
    /// # Errors
    /// As [`BinnedCalibration::update`].
    pub fn update(&mut self, probs: &[F], target: &[F]) -> Result<()> {
        check::same_len("target", probs.len(), target.len())?;
        check_probs(probs, 1)?;
        check_labels(target)?;
        self.confidence.extend_from_slice(probs);
        self.outcome.extend_from_slice(target);
        Ok(())
    }

    /// Stores a batch of multiclass rows as top-label pairs (see
    /// [`BinnedCalibration::update_top_label`]).
    ///
    /// # Errors
    /// As [`BinnedCalibration::update_top_label`].
    pub fn update_top_label(&mut self, probs: &[F], n_classes: usize, target: &[i64]) -> Result<()> {
        for (c, o) in top_label_rows(probs, n_classes, target)? {
            self.confidence.push(c);
            self.outcome.push(o);
        }
        Ok(())
    }

    /// The equal-mass edges of the confidences stored so far.
    ///
    /// # Errors
    /// [`Error::Empty`] when nothing is stored.
    pub fn edges(&self) -> Result<BinEdges<F>> {
        BinEdges::quantile(&self.confidence, self.n_bins)
    }
}

impl<F: Real> Accumulator for QuantileCalibration<F> {
    type Output = ReliabilityDiagram<F>;

    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.n_bins != other.n_bins {
            return Err(Error::InvalidOption {
                name: "n_bins",
                value: format!("{} vs {}", self.n_bins, other.n_bins),
                reason: "only accumulators with the same number of bins can be merged",
            });
        }
        self.confidence.extend_from_slice(&other.confidence);
        self.outcome.extend_from_slice(&other.outcome);
        Ok(())
    }

    fn finish(&self) -> Result<ReliabilityDiagram<F>> {
        let mut acc = BinnedCalibration::new(self.edges()?);
        for (&c, &o) in self.confidence.iter().zip(&self.outcome) {
            acc.push(c, o);
        }
        acc.finish()
    }
}

/// Shapes, probability range and class indices of a multiclass batch.
pub(crate) fn check_multiclass<F: Real>(probs: &[F], n_classes: usize, target: &[i64]) -> Result<()> {
    if n_classes == 0 {
        return Err(Error::InvalidOption {
            name: "n_classes",
            value: "0".into(),
            reason: "need at least one class",
        });
    }
    check::same_len("probs", target.len() * n_classes, probs.len())?;
    check_probs(probs, n_classes)?;
    if let Some(row) = target.iter().position(|&y| y < 0 || y as u64 >= n_classes as u64) {
        return Err(Error::ClassOutOfRange { row, value: target[row], n_classes });
    }
    Ok(())
}

/// The top label of one probability row: the index of its first maximum (`np.argmax`) and that
/// maximum, the confidence top-label calibration bins; `None` for an empty row.
#[inline]
pub fn top_label<F: Real>(row: &[F]) -> Option<(usize, F)> {
    let (&first, rest) = row.split_first()?;
    let (mut k, mut m) = (0usize, first);
    for (j, &p) in rest.iter().enumerate() {
        if p > m {
            (k, m) = (j + 1, p);
        }
    }
    Some((k, m))
}

/// Validated (top-label confidence, top-label correct) pairs of a multiclass batch; the argmax is
/// the first maximum, as `torch.max(dim=1)`.
pub(crate) fn top_label_rows<F: Real>(probs: &[F], n_classes: usize, target: &[i64]) -> Result<Vec<(F, F)>> {
    check_multiclass(probs, n_classes, target)?;
    Ok(probs
        .chunks_exact(n_classes)
        .zip(target)
        .map(|(row, &y)| {
            let (k, m) = top_label(row).expect("n_classes >= 1 (checked)");
            (m, if k as i64 == y { F::one() } else { F::zero() })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    fn rel_close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * a.abs().max(b.abs()) || a == b
    }

    fn diagrams_close(a: &ReliabilityDiagram<f64>, b: &ReliabilityDiagram<f64>) -> bool {
        a.count == b.count
            && a.lower == b.lower
            && a.upper == b.upper
            && a.confidence.iter().zip(&b.confidence).all(|(x, y)| rel_close(*x, *y, 1e-12))
            && a.accuracy.iter().zip(&b.accuracy).all(|(x, y)| rel_close(*x, *y, 1e-12))
    }

    #[test]
    fn shards_merged_equal_one_pass() {
        let cfg = Config { cases: 64, ..Config::default() };
        let mut runner = TestRunner::new_with_rng(cfg, TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
        let strat = (
            proptest::collection::vec((0.0f64..=1.0, proptest::bool::ANY), 1..300),
            proptest::collection::vec(0usize..300, 0..6),
            1usize..20,
        );
        runner
            .run(&strat, |(rows, cuts, n_bins)| {
                let p: Vec<f64> = rows.iter().map(|r| r.0).collect();
                let y: Vec<f64> = rows.iter().map(|r| f64::from(u8::from(r.1))).collect();
                let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (p.len() + 1)).collect();
                cuts.push(0);
                cuts.push(p.len());
                cuts.sort_unstable();
                for edges in [BinEdges::torchmetrics(n_bins).unwrap(), BinEdges::uniform(n_bins).unwrap()] {
                    let mut one = BinnedCalibration::new(edges.clone());
                    one.update(&p, &y).unwrap();
                    let mut merged = BinnedCalibration::new(edges.clone());
                    let mut quant = QuantileCalibration::new(n_bins).unwrap();
                    for w in cuts.windows(2) {
                        let mut shard = BinnedCalibration::new(edges.clone());
                        shard.update(&p[w[0]..w[1]], &y[w[0]..w[1]]).unwrap();
                        merged.merge(&shard).unwrap();
                        let mut q = QuantileCalibration::new(n_bins).unwrap();
                        q.update(&p[w[0]..w[1]], &y[w[0]..w[1]]).unwrap();
                        quant.merge(&q).unwrap();
                    }
                    let (a, b) = (one.finish().unwrap(), merged.finish().unwrap());
                    prop_assert!(diagrams_close(&a, &b));
                    for norm in [Norm::L1, Norm::Max, Norm::L2] {
                        prop_assert!(rel_close(a.calibration_error(norm), b.calibration_error(norm), 1e-12));
                    }
                    let mut qone = QuantileCalibration::new(n_bins).unwrap();
                    qone.update(&p, &y).unwrap();
                    prop_assert!(diagrams_close(&qone.finish().unwrap(), &quant.finish().unwrap()));
                }
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn merging_different_edges_is_an_error() {
        let mut a = BinnedCalibration::<f64>::new(BinEdges::uniform(3).unwrap());
        let b = BinnedCalibration::<f64>::new(BinEdges::uniform(4).unwrap());
        assert!(matches!(a.merge(&b), Err(Error::InvalidOption { .. })));
        let mut c = BinnedCalibration::<f64>::new(BinEdges::torchmetrics(3).unwrap());
        let d = BinnedCalibration::<f64>::new(BinEdges::uniform(3).unwrap());
        assert!(c.merge(&d).is_err());
        let mut q = QuantileCalibration::<f64>::new(3).unwrap();
        assert!(q.merge(&QuantileCalibration::new(4).unwrap()).is_err());
    }

    #[test]
    fn empty_accumulators_and_bad_rows_are_errors() {
        let a = BinnedCalibration::<f64>::new(BinEdges::torchmetrics(5).unwrap());
        assert!(matches!(a.finish(), Err(Error::Empty { .. })));
        assert!(matches!(QuantileCalibration::<f64>::new(5).unwrap().finish(), Err(Error::Empty { .. })));
        assert!(QuantileCalibration::<f64>::new(0).is_err());
        let mut a = a;
        let e = a.update(&[0.5, 1.5, 0.2], &[1.0, 0.0, 1.0]).unwrap_err();
        assert_eq!(
            e,
            Error::InvalidValue { name: "probs", value: 1.5, index: Some(1), reason: e_reason(&e) }
        );
        // The failed batch added nothing.
        assert!(matches!(a.finish(), Err(Error::Empty { .. })));
        let e = a.update_top_label(&[0.5, 0.5, 0.2, f64::NAN], 2, &[0, 1]).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "probs", index: Some(1), .. }));
        let e = a.update_top_label(&[0.5, 0.5, 0.2, 0.8], 2, &[0, 2]).unwrap_err();
        assert_eq!(e, Error::ClassOutOfRange { row: 1, value: 2, n_classes: 2 });
        assert!(matches!(a.update_top_label(&[0.5, 0.5, 0.2], 2, &[0, 1]), Err(Error::ShapeMismatch { .. })));
        assert!(matches!(a.update_top_label(&[], 0, &[]), Err(Error::InvalidOption { .. })));
        assert!(a.update_one_vs_rest(&[0.5, 0.5], 2, &[0], 2).is_err());
        assert!(matches!(a.update(&[0.5], &[0.5]), Err(Error::InvalidValue { name: "target", .. })));
    }

    fn e_reason(e: &Error) -> &'static str {
        match e {
            Error::InvalidValue { reason, .. } => reason,
            _ => "",
        }
    }

    #[test]
    fn top_label_takes_the_first_maximum() {
        let rows = top_label_rows(&[0.4f64, 0.4, 0.2, 0.1, 0.3, 0.6], 3, &[1, 2]).unwrap();
        assert_eq!(rows, vec![(0.4, 0.0), (0.6, 1.0)]);
    }

    #[test]
    fn all_rows_in_one_bin() {
        let mut a = BinnedCalibration::new(BinEdges::torchmetrics(10).unwrap());
        a.update(&[0.51f64, 0.52, 0.53, 0.54], &[1.0, 0.0, 1.0, 1.0]).unwrap();
        let d = a.finish().unwrap();
        assert_eq!(d.count.iter().filter(|&&c| c > 0).count(), 1);
        assert_eq!(d.count[5], 4);
        // One bin: every norm is the single gap |0.75 − 0.525| = 0.225.
        for norm in [Norm::L1, Norm::Max, Norm::L2] {
            assert!((d.calibration_error(norm) - 0.225).abs() < 1e-15, "{norm:?}");
        }
    }

    #[test]
    fn probabilities_zero_and_one_and_empty_bins() {
        let mut a = BinnedCalibration::new(BinEdges::torchmetrics(4).unwrap());
        a.update(&[0.0f64, 0.0, 1.0, 1.0, 1.0], &[0.0, 0.0, 1.0, 1.0, 0.0]).unwrap();
        let d = a.finish().unwrap();
        // 0 in the first bin, 1 in its own slot [1, 1]; bins 1..=3 empty with zero gap.
        assert_eq!(d.count, vec![2, 0, 0, 0, 3]);
        assert_eq!((d.lower[4], d.upper[4]), (1.0, 1.0));
        assert_eq!(d.confidence, vec![0.0, 0.0, 0.0, 0.0, 1.0]);
        // Gap only in the last slot: |2/3 − 1| = 1/3, weight 3/5.
        assert!((d.calibration_error(Norm::L1) - 0.2).abs() < 1e-15);
        assert!((d.calibration_error(Norm::Max) - 1.0 / 3.0).abs() < 1e-15);
        assert!((d.calibration_error(Norm::L2) - (0.6f64 / 9.0).sqrt()).abs() < 1e-15);
        // A perfectly calibrated diagram has zero error in every norm (RMSCE's √ at 0 is 0).
        let mut a = BinnedCalibration::new(BinEdges::torchmetrics(4).unwrap());
        a.update(&[0.0f64, 1.0], &[0.0, 1.0]).unwrap();
        let d = a.finish().unwrap();
        for norm in [Norm::L1, Norm::Max, Norm::L2] {
            assert_eq!(d.calibration_error(norm), 0.0);
        }
    }

    #[test]
    fn f32_and_f64_agree_to_float32_precision() {
        let p: Vec<f64> = (0..200).map(|i| ((i * 37) % 101) as f64 / 101.0).collect();
        let y: Vec<f64> = (0..200).map(|i| f64::from(u8::from((i * 13) % 7 < 4))).collect();
        let mut a = BinnedCalibration::new(BinEdges::torchmetrics(10).unwrap());
        a.update(&p, &y).unwrap();
        let pf: Vec<f32> = p.iter().map(|&v| v as f32).collect();
        let yf: Vec<f32> = y.iter().map(|&v| v as f32).collect();
        let mut b = BinnedCalibration::new(BinEdges::torchmetrics(10).unwrap());
        b.update(&pf, &yf).unwrap();
        let (da, db) = (a.finish().unwrap(), b.finish().unwrap());
        assert_eq!(da.count, db.count);
        for norm in [Norm::L1, Norm::Max, Norm::L2] {
            let (x, z) = (da.calibration_error(norm), f64::from(db.calibration_error(norm)));
            assert!((x - z).abs() < 1e-6 * x.abs().max(1e-3), "{norm:?}: {x} vs {z}");
        }
    }

    #[test]
    fn norm_parse() {
        assert_eq!(Norm::parse("l1").unwrap(), Norm::L1);
        assert_eq!(Norm::parse("max").unwrap(), Norm::Max);
        assert_eq!(Norm::parse("l2").unwrap(), Norm::L2);
        assert!(Norm::parse("l3").is_err());
    }
}
