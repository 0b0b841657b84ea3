//! Every score of binary predictions in one streaming pass.
//!
//! [`BinaryScores`] is the fusion of four accumulators over the same rows: the log loss
//! ([`LogLoss`]), the Brier score with its Murphy decomposition ([`BrierDecomposition`]),
//! torchmetrics' binned calibration ([`BinnedCalibration`] over [`BinEdges::torchmetrics`]) and the
//! accuracy ([`Accuracy`]). Each batch is validated once and scored in one loop that updates all of
//! them, with the same per-row kernels and the same order of additions, so its results are those of
//! the four accumulators fed the same batches (to the last bit, as the tests check to 1e-12).
//!
//! ```text
//! log loss   Σᵢ wᵢ · (−log clip(pᵢ or 1 − pᵢ)) / Σᵢ wᵢ        (scikit-learn's ε clip)
//! Brier      Σᵢ wᵢ (pᵢ − yᵢ)² / Σᵢ wᵢ, decomposed over n_bins equal-width bins
//! ECE / MCE  over torchmetrics' float32 edges linspace(0, 1, n_bins + 1), unweighted counts
//! accuracy   Σᵢ wᵢ 1[1(pᵢ > ½) = yᵢ] / Σᵢ wᵢ
//! ```

use super::Accumulator;
use super::brier::{BrierDecomposition, MurphyDecomposition};
use super::classification::{Accuracy, LogLoss, LogLossOptions, binary_log_score};
use crate::calibration::{BinEdges, BinnedCalibration, ReliabilityDiagram};
use crate::error::{Error, Result, check};
use crate::num::Real;

/// The scores of binary predictions, as the four separate accumulators give them.
#[derive(Clone, Debug, PartialEq)]
pub struct BinaryScoresValue<F> {
    /// Rows seen.
    pub rows: usize,
    /// The weighted mean log score in nats ([`LogLoss`], scikit-learn's `log_loss`).
    pub log_loss: F,
    /// The Brier score and its Murphy decomposition ([`BrierDecomposition`]).
    pub brier: MurphyDecomposition<F>,
    /// torchmetrics' reliability diagram of the predictions ([`BinnedCalibration`], unweighted).
    pub calibration: ReliabilityDiagram<F>,
    /// The weighted accuracy of the decision p > ½ ([`Accuracy`]).
    pub accuracy: F,
}

/// Streaming log loss, Brier decomposition, calibration bins and accuracy of binary predictions
/// `p[i]` = P(yᵢ = 1), labels in {0, 1}, in one pass: one validation and one loop a batch.
///
/// ```
/// use surprisal::calibration::Norm;
/// use surprisal::score::{Accumulator, BinaryScores};
/// let mut acc = BinaryScores::<f64>::new(10).unwrap();
/// acc.update(&[1, 0, 1], &[0.9, 0.2, 0.4], None).unwrap();
/// let s = acc.finish().unwrap();
/// // mpmath: −(log 0.9 + log 0.8 + log 0.4)/3
/// assert!((s.log_loss - 0.41493159961539704).abs() < 1e-15);
/// // (0.01 + 0.04 + 0.36) / 3
/// assert!((s.brier.brier - 0.41 / 3.0).abs() < 1e-15);
/// assert!((s.accuracy - 2.0 / 3.0).abs() < 1e-15);
/// // One row a bin: ECE = (0.1 + 0.2 + 0.6) / 3
/// assert!((s.calibration.calibration_error(Norm::L1) - 0.3).abs() < 1e-7);
/// ```
#[derive(Clone, Debug)]
pub struct BinaryScores<F> {
    log: LogLoss<F>,
    brier: BrierDecomposition<F>,
    cal: BinnedCalibration<F>,
    acc: Accuracy<F>,
}

impl<F: Real> BinaryScores<F> {
    /// An empty accumulator with `n_bins` bins for both the Brier decomposition and the
    /// calibration diagram.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `n_bins == 0`.
    pub fn new(n_bins: usize) -> Result<Self> {
        Ok(Self {
            log: LogLoss::binary(LogLossOptions::default())?,
            brier: BrierDecomposition::binary(n_bins)?,
            cal: BinnedCalibration::new(BinEdges::torchmetrics(n_bins)?),
            acc: Accuracy::new(super::Classes::binary()),
        })
    }

    /// Rows seen so far.
    pub fn rows(&self) -> usize {
        self.log.rows
    }

    /// Adds binary rows: labels `y` in {0, 1}, `p[i]` = P(yᵢ = 1) in [0, 1], optional weights
    /// (finite, ≥ 0; they weigh every score but the calibration diagram, which counts rows as
    /// torchmetrics does). The batch is validated before anything is added.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for different lengths, [`Error::InvalidParameter`] (a weight),
    /// [`Error::InvalidValue`] (a probability outside [0, 1] or NaN, with its row),
    /// [`Error::ClassOutOfRange`] (a label other than 0 or 1).
    pub fn update(&mut self, y: &[i64], p: &[F], weights: Option<&[F]>) -> Result<()> {
        let n = y.len();
        check::same_len("probs", n, p.len())?;
        check::weights(weights, n)?;
        validate(y, p)?;
        match weights {
            None => self.add(y, p, |_| F::one()),
            Some(w) => self.add(y, p, |i| w[i]),
        }
        Ok(())
    }

    /// The fused loop over validated rows.
    #[inline(always)]
    fn add(&mut self, y: &[i64], p: &[F], weight: impl Fn(usize) -> F) {
        let (mut log_sum, mut brier_sum, mut correct, mut total) =
            (self.log.sum, self.brier.sum, self.acc.correct, self.log.weight);
        let n_bins = self.brier.n_bins;
        let scale = F::lit(n_bins as f64);
        let half = F::lit(0.5);
        let edges = self.cal.edges.edges();
        let last = edges.len() - 1;
        let cells = &mut self.brier.cells[..n_bins];
        let (count, sum_c, sum_o) =
            (&mut self.cal.count[..], &mut self.cal.sum_confidence[..], &mut self.cal.sum_outcome[..]);
        for (i, (&yi, &pi)) in y.iter().zip(p).enumerate() {
            let w = weight(i);
            let positive = yi == 1;
            let yf = if positive { F::one() } else { F::zero() };
            log_sum = log_sum + w * binary_log_score(positive, pi);
            let d = pi - yf;
            brier_sum = brier_sum + w * d * d;
            // BrierDecomposition's bin: floor(p · n), p = 1 in the last bin.
            let k = (pi * scale).floor().to_f64_lossy() as usize;
            cells[k.min(n_bins - 1)].push(w, pi, yf);
            // BinEdges::slot (left-closed): the last edge ≤ p, found from the same guess; the
            // float32 edges differ from k/n by less than a bin, so each loop runs at most once.
            let mut s = k.min(last);
            while s > 0 && edges[s] > pi {
                s -= 1;
            }
            while s < last && edges[s + 1] <= pi {
                s += 1;
            }
            count[s] += 1;
            sum_c[s] = sum_c[s] + pi;
            sum_o[s] = sum_o[s] + yf;
            let hit = (pi > half) == positive;
            correct = correct + w * if hit { F::one() } else { F::zero() };
            total = total + w;
        }
        let rows = y.len();
        (self.log.sum, self.log.weight, self.log.rows) = (log_sum, total, self.log.rows + rows);
        (self.brier.sum, self.brier.weight, self.brier.rows) = (brier_sum, total, self.brier.rows + rows);
        (self.acc.correct, self.acc.weight, self.acc.rows) = (correct, total, self.acc.rows + rows);
    }
}

/// One pass over a batch: every probability in [0, 1] (not NaN) and every label 0 or 1. The
/// errors are those of the separate accumulators (probabilities first).
fn validate<F: Real>(y: &[i64], p: &[F]) -> Result<()> {
    let (zero, one) = (F::zero(), F::one());
    let bad_p = |v: F| !(v >= zero && v <= one);
    let bad_y = |v: i64| (v as u64) > 1;
    // Branch-free scan; the rare bad batch is searched again for the first bad row.
    let any_bad = y.iter().zip(p).fold(false, |acc, (&yi, &pi)| acc | bad_p(pi) | bad_y(yi));
    if !any_bad {
        return Ok(());
    }
    if let Some(i) = p.iter().position(|&v| bad_p(v)) {
        return Err(Error::InvalidValue {
            name: "probs",
            value: p[i].to_f64_lossy(),
            index: Some(i),
            reason: "must be in [0, 1] (index = row · n_classes + column)",
        });
    }
    match y.iter().position(|&v| bad_y(v)) {
        Some(i) => Err(Error::ClassOutOfRange { row: i, value: y[i], n_classes: 2 }),
        None => Ok(()),
    }
}

impl<F: Real> Accumulator for BinaryScores<F> {
    type Output = BinaryScoresValue<F>;

    fn merge(&mut self, other: &Self) -> Result<()> {
        self.log.merge(&other.log)?;
        self.brier.merge(&other.brier)?;
        self.cal.merge(&other.cal)?;
        self.acc.merge(&other.acc)
    }

    /// # Errors
    /// [`Error::Empty`] for no rows or a zero total weight.
    fn finish(&self) -> Result<BinaryScoresValue<F>> {
        Ok(BinaryScoresValue {
            rows: self.log.rows,
            log_loss: self.log.finish()?,
            brier: self.brier.finish()?,
            calibration: self.cal.finish()?,
            accuracy: self.acc.finish()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::Classes;
    use crate::testing::Rng;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1e-300) || a == b
    }

    fn assert_same(got: &BinaryScoresValue<f64>, want: &BinaryScoresValue<f64>) {
        assert_eq!(got.rows, want.rows);
        assert!(close(got.log_loss, want.log_loss), "{} {}", got.log_loss, want.log_loss);
        assert!(close(got.accuracy, want.accuracy));
        let (g, w) = (&got.brier, &want.brier);
        for (a, b) in [
            (g.brier, w.brier),
            (g.reliability, w.reliability),
            (g.resolution, w.resolution),
            (g.uncertainty, w.uncertainty),
            (g.within_bin_variance, w.within_bin_variance),
            (g.within_bin_covariance, w.within_bin_covariance),
        ] {
            assert!(close(a, b), "{a} {b}");
        }
        let (g, w) = (&got.calibration, &want.calibration);
        assert_eq!(g.count, w.count);
        assert_eq!(g.lower, w.lower);
        assert_eq!(g.upper, w.upper);
        for (a, b) in g.confidence.iter().zip(&w.confidence).chain(g.accuracy.iter().zip(&w.accuracy)) {
            assert!(close(*a, *b), "{a} {b}");
        }
    }

    /// Labels, probabilities and optional weights of one batch.
    type Batch = (Vec<i64>, Vec<f64>, Option<Vec<f64>>);

    /// The four separate accumulators over the same batches.
    fn separate(batches: &[Batch], n_bins: usize) -> BinaryScoresValue<f64> {
        let mut log = LogLoss::binary(LogLossOptions::default()).unwrap();
        let mut brier = BrierDecomposition::binary(n_bins).unwrap();
        let mut cal = BinnedCalibration::new(BinEdges::torchmetrics(n_bins).unwrap());
        let mut acc = Accuracy::new(Classes::binary());
        for (y, p, w) in batches {
            let yf: Vec<f64> = y.iter().map(|&v| v as f64).collect();
            log.update_binary(y, p, w.as_deref()).unwrap();
            brier.update_binary(y, p, w.as_deref()).unwrap();
            cal.update(p, &yf).unwrap();
            acc.update_binary(y, p, w.as_deref()).unwrap();
        }
        BinaryScoresValue {
            rows: log.rows(),
            log_loss: log.finish().unwrap(),
            brier: brier.finish().unwrap(),
            calibration: cal.finish().unwrap(),
            accuracy: acc.finish().unwrap(),
        }
    }

    /// Random rows, with probabilities on and around the bin edges, 0 and 1.
    fn data(rng: &mut Rng, n: usize, n_bins: usize) -> (Vec<i64>, Vec<f64>, Vec<f64>) {
        let edges = BinEdges::<f64>::torchmetrics(n_bins).unwrap();
        let mut y = vec![];
        let mut p = vec![];
        let mut w = vec![];
        for _ in 0..n {
            let pi = match rng.below(6) {
                0 => edges.edges()[rng.below(n_bins + 1)],
                1 => rng.below(n_bins + 1) as f64 / n_bins as f64,
                2 => [0.0, 1.0, 0.5][rng.below(3)],
                _ => rng.uniform(),
            };
            y.push(i64::from(rng.uniform() < pi * pi));
            p.push(pi);
            w.push(if rng.below(10) == 0 { 0.0 } else { 0.1 + rng.uniform() });
        }
        (y, p, w)
    }

    #[test]
    fn equals_the_separate_accumulators_over_random_shards() {
        let mut rng = Rng(42);
        for case in 0..40 {
            let n_bins = 1 + rng.below(25);
            let n = 1 + rng.below(600);
            let (y, p, w) = data(&mut rng, n, n_bins);
            let weighted = case % 2 == 1;
            // Random cut points: batches, then shards of consecutive batches.
            let mut cuts: Vec<usize> = (0..rng.below(6)).map(|_| rng.below(n + 1)).collect();
            cuts.extend([0, n]);
            cuts.sort_unstable();
            let batches: Vec<_> = cuts
                .windows(2)
                .map(|c| {
                    let r = c[0]..c[1];
                    (y[r.clone()].to_vec(), p[r.clone()].to_vec(), weighted.then(|| w[r].to_vec()))
                })
                .collect();
            let want = separate(&batches, n_bins);

            let mut one = BinaryScores::new(n_bins).unwrap();
            for (y, p, w) in &batches {
                one.update(y, p, w.as_deref()).unwrap();
            }
            assert_same(&one.finish().unwrap(), &want);

            let mut merged = BinaryScores::new(n_bins).unwrap();
            for (y, p, w) in &batches {
                let mut shard = BinaryScores::new(n_bins).unwrap();
                shard.update(y, p, w.as_deref()).unwrap();
                merged.merge(&shard).unwrap();
            }
            assert_same(&merged.finish().unwrap(), &want);
            assert_same(&merged.finish().unwrap(), &one.finish().unwrap());
        }
    }

    #[test]
    fn bad_rows_are_errors_and_add_nothing() {
        let mut acc = BinaryScores::<f64>::new(15).unwrap();
        acc.update(&[1], &[0.5], None).unwrap();
        let before = acc.finish().unwrap();
        for (y, p) in
            [(vec![0, 1], vec![0.2, 1.5]), (vec![0, 1], vec![f64::NAN, 0.5]), (vec![0], vec![-0.0 - 1e-9])]
        {
            let e = acc.update(&y, &p, None).unwrap_err();
            assert!(matches!(e, Error::InvalidValue { name: "probs", .. }), "{e:?}");
        }
        let e = acc.update(&[0, 2], &[0.2, 0.3], None).unwrap_err();
        assert!(matches!(e, Error::ClassOutOfRange { row: 1, value: 2, .. }), "{e:?}");
        let e = acc.update(&[-1], &[0.2], None).unwrap_err();
        assert!(matches!(e, Error::ClassOutOfRange { row: 0, value: -1, .. }), "{e:?}");
        assert!(acc.update(&[0, 1], &[0.2], None).is_err());
        assert!(acc.update(&[0], &[0.2], Some(&[-1.0])).is_err());
        assert!(acc.update(&[0], &[0.2], Some(&[f64::INFINITY])).is_err());
        assert_eq!(acc.finish().unwrap(), before);
    }

    #[test]
    fn empty_and_weightless_are_errors() {
        let mut acc = BinaryScores::<f64>::new(5).unwrap();
        assert!(matches!(acc.finish(), Err(Error::Empty { .. })));
        acc.update(&[1], &[0.3], Some(&[0.0])).unwrap();
        assert!(matches!(acc.finish(), Err(Error::Empty { .. })));
        assert!(BinaryScores::<f64>::new(0).is_err());
        let mut other = BinaryScores::<f64>::new(6).unwrap();
        other.update(&[1], &[0.3], None).unwrap();
        assert!(acc.merge(&other).is_err());
    }

    #[test]
    fn f32_matches_f64_to_float_rounding() {
        let mut rng = Rng(7);
        let (y, p, _) = data(&mut rng, 500, 15);
        let p32: Vec<f32> = p.iter().map(|&v| v as f32).collect();
        let mut a = BinaryScores::<f64>::new(15).unwrap();
        a.update(&y, &p32.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(), None).unwrap();
        let mut b = BinaryScores::<f32>::new(15).unwrap();
        b.update(&y, &p32, None).unwrap();
        let (a, b) = (a.finish().unwrap(), b.finish().unwrap());
        assert_eq!(a.calibration.count, b.calibration.count);
        assert!((a.log_loss - f64::from(b.log_loss)).abs() < 1e-4);
        assert!((a.brier.brier - f64::from(b.brier.brier)).abs() < 1e-5);
        assert!((a.accuracy - f64::from(b.accuracy)).abs() < 1e-6);
    }
}
