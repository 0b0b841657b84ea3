//! Calibration errors: ECE (`l1`), MCE (`max`) and RMSCE (`l2`) over binned confidences.
//!
//! ```text
//! ECE   = Σ_b (n_b/n) · |acc_b − conf_b|
//! MCE   = max_b |acc_b − conf_b|                  (empty bins count as 0)
//! RMSCE = √( Σ_b (n_b/n) · (acc_b − conf_b)² )
//!
//! binary       cᵢ = pᵢ (positive-class probability),  oᵢ = yᵢ ∈ {0, 1}
//! multiclass   cᵢ = maxₖ pᵢₖ (top label),              oᵢ = [argmaxₖ pᵢₖ = yᵢ]
//! class-wise   (1/K) Σ_k ECE_binary(p·ₖ, [y = k])     (one-vs-rest, then the mean over classes)
//! ```
//!
//! Uniform bins follow torchmetrics 1.9 (`binary_calibration_error`,
//! `multiclass_calibration_error`): edges `linspace(0, 1, n_bins + 1)` in float32, bins `[b_i,
//! b_{i+1})`, a confidence of exactly 1 in a bin of its own, sums in the input precision.
//! torchmetrics casts the multiclass confidences to float32 (`.float()` after the max): call the
//! multiclass function with `F = f32` to reproduce it, with `F = f64` for the float64 statistic.
//!
//! Adaptive (equal-mass) calibration error uses the data's quantiles as edges ([`BinEdges::quantile`])
//! so that every bin holds about n/n_bins rows; it needs all rows before binning.
//!
//! Inputs are probabilities (torchmetrics applies a sigmoid or softmax to values outside
//! `[0, 1]`; here such a value is an error naming its row). Calibration is not a likelihood: a
//! model can have zero ECE and poor log score (predicting the base rate everywhere), which is why
//! the log score and the Brier score ([`crate::score`]) are reported beside it.

use super::binning::BinEdges;
use super::reliability::{BinnedCalibration, Norm, QuantileCalibration, check_multiclass};
use crate::error::Result;
use crate::num::Real;
use crate::score::Accumulator;

/// torchmetrics' `binary_calibration_error(preds, target, n_bins, norm)`.
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] for different lengths; [`crate::Error::InvalidValue`] naming
/// the row of a probability outside `[0, 1]` or NaN, or of a label other than 0 or 1;
/// [`crate::Error::InvalidParameter`] for `n_bins = 0`; [`crate::Error::Empty`] for no rows.
///
/// # Example
/// ```
/// use surprisal::calibration::{binary_calibration_error, Norm};
/// let p = [0.1f64, 0.25, 0.3, 0.7, 0.95, 1.0];
/// let y = [0.0, 1.0, 0.0, 1.0, 1.0, 1.0];
/// // 5 bins: [0, .2): 0.1 vs 0; [.2, .4): 0.275 vs 1/2; [.6, .8): 0.7 vs 1; [.8, 1): 0.95 vs 1; {1}: 1 vs 1
/// // ECE = (0.1 + 2·0.225 + 0.3 + 0.05 + 0)/6 = 0.15 (exact rational arithmetic)
/// let ece = binary_calibration_error(&p, &y, 5, Norm::L1).unwrap();
/// assert!((ece - 0.15).abs() < 1e-15);
/// let mce = binary_calibration_error(&p, &y, 5, Norm::Max).unwrap();
/// assert!((mce - 0.3).abs() < 1e-15);
/// // RMSCE = √((0.01 + 2·0.050625 + 0.09 + 0.0025)/6) = 0.18427786989579984 (mpmath)
/// let rms = binary_calibration_error(&p, &y, 5, Norm::L2).unwrap();
/// assert!((rms - 0.18427786989579984).abs() < 1e-15);
/// ```
pub fn binary_calibration_error<F: Real>(probs: &[F], target: &[F], n_bins: usize, norm: Norm) -> Result<F> {
    let mut acc = BinnedCalibration::new(BinEdges::torchmetrics(n_bins)?);
    acc.update(probs, target)?;
    Ok(acc.finish()?.calibration_error(norm))
}

/// torchmetrics' `multiclass_calibration_error(preds, target, num_classes, n_bins, norm)`
/// (top-label): `probs` row-major `[N, n_classes]`, `target` class indices.
///
/// # Errors
/// [`crate::Error::InvalidOption`] for `n_classes = 0`; [`crate::Error::ShapeMismatch`] for
/// lengths that do not fit; [`crate::Error::InvalidValue`] naming the row of a probability outside
/// `[0, 1]` or NaN; [`crate::Error::ClassOutOfRange`]; [`crate::Error::InvalidParameter`] for
/// `n_bins = 0`; [`crate::Error::Empty`] for no rows.
///
/// # Example
/// ```
/// use surprisal::calibration::{multiclass_calibration_error, Norm};
/// let p = [0.7f64, 0.2, 0.1, 0.3, 0.6, 0.1, 0.2, 0.3, 0.5, 0.9, 0.05, 0.05];
/// let y = [0, 0, 2, 0];
/// // top labels 0.7 (right), 0.6 (wrong), 0.5 (right), 0.9 (right); 2 bins [0, .5), [.5, 1), {1}:
/// // all in [.5, 1): conf 0.675, acc 0.75 → ECE = 0.075
/// let ece = multiclass_calibration_error(&p, 3, &y, 2, Norm::L1).unwrap();
/// assert!((ece - 0.075).abs() < 1e-15);
/// ```
pub fn multiclass_calibration_error<F: Real>(
    probs: &[F],
    n_classes: usize,
    target: &[i64],
    n_bins: usize,
    norm: Norm,
) -> Result<F> {
    let mut acc = BinnedCalibration::new(BinEdges::torchmetrics(n_bins)?);
    acc.update_top_label(probs, n_classes, target)?;
    Ok(acc.finish()?.calibration_error(norm))
}

/// Adaptive (equal-mass) calibration error of a binary classifier: the calibration error over
/// `n_bins` bins whose edges are quantiles of `probs` (bins `(b_i, b_{i+1}]`).
///
/// # Errors
/// As [`binary_calibration_error`].
///
/// # Example
/// ```
/// use surprisal::calibration::{adaptive_calibration_error, Norm};
/// let p = [0.1f64, 0.2, 0.3, 0.6, 0.7, 0.8];
/// let y = [0.0, 0.0, 1.0, 1.0, 1.0, 0.0];
/// // 2 equal-mass bins split at the median 0.45: {0.1, 0.2, 0.3} (conf 0.2, acc 1/3) and
/// // {0.6, 0.7, 0.8} (conf 0.7, acc 2/3): ACE = ½·(2/15) + ½·(1/30) = 1/12
/// let ace = adaptive_calibration_error(&p, &y, 2, Norm::L1).unwrap();
/// assert!((ace - 1.0 / 12.0).abs() < 1e-15);
/// ```
pub fn adaptive_calibration_error<F: Real>(
    probs: &[F],
    target: &[F],
    n_bins: usize,
    norm: Norm,
) -> Result<F> {
    let mut acc = QuantileCalibration::new(n_bins)?;
    acc.update(probs, target)?;
    Ok(acc.finish()?.calibration_error(norm))
}

/// Adaptive (equal-mass) top-label calibration error of a multiclass classifier.
///
/// # Errors
/// As [`multiclass_calibration_error`].
pub fn adaptive_multiclass_calibration_error<F: Real>(
    probs: &[F],
    n_classes: usize,
    target: &[i64],
    n_bins: usize,
    norm: Norm,
) -> Result<F> {
    let mut acc = QuantileCalibration::new(n_bins)?;
    acc.update_top_label(probs, n_classes, target)?;
    Ok(acc.finish()?.calibration_error(norm))
}

/// Class-wise calibration error: the mean over classes k of the binary calibration error of
/// `p·ₖ` against `[y = k]` (torchmetrics bins), so every class's probabilities are judged, not only
/// the top label's.
///
/// # Errors
/// As [`multiclass_calibration_error`].
///
/// # Example
/// ```
/// use surprisal::calibration::{classwise_calibration_error, Norm};
/// let p = [0.8f64, 0.2, 0.4, 0.6];
/// let y = [0, 0];
/// // class 0: p = 0.8, 0.4 vs 1, 1 (2 bins: 0.4 in [0, .5), 0.8 in [.5, 1)): (0.2 + 0.6)/2 = 0.4
/// // class 1: p = 0.2, 0.6 vs 0, 0: (0.2 + 0.6)/2 = 0.4; mean 0.4
/// let cw = classwise_calibration_error(&p, 2, &y, 2, Norm::L1).unwrap();
/// assert!((cw - 0.4).abs() < 1e-15);
/// ```
pub fn classwise_calibration_error<F: Real>(
    probs: &[F],
    n_classes: usize,
    target: &[i64],
    n_bins: usize,
    norm: Norm,
) -> Result<F> {
    check_multiclass(probs, n_classes, target)?;
    let edges = BinEdges::torchmetrics(n_bins)?;
    let mut total = F::zero();
    for k in 0..n_classes {
        let mut acc = BinnedCalibration::new(edges.clone());
        acc.update_one_vs_rest(probs, n_classes, target, k)?;
        total = total + acc.finish()?.calibration_error(norm);
    }
    Ok(total / F::lit(n_classes as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use proptest::prelude::Rng;
    use proptest::test_runner::{RngAlgorithm, TestRng};

    /// A uniform draw in [0, 1) from the top 53 bits.
    fn unif(r: &mut TestRng) -> f64 {
        (r.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn rng(seed: u8) -> TestRng {
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32])
    }

    /// y ~ Bernoulli(f(p)) with p ~ U(0, 1).
    fn sample(n: usize, seed: u8, f: impl Fn(f64) -> f64) -> (Vec<f64>, Vec<f64>) {
        let mut r = rng(seed);
        let p: Vec<f64> = (0..n).map(|_| unif(&mut r)).collect();
        let y = p.iter().map(|&pi| f64::from(u8::from(unif(&mut r) < f(pi)))).collect();
        (p, y)
    }

    #[test]
    fn calibrated_data_has_small_ece_shrinking_with_n() {
        let mut last = f64::INFINITY;
        for (n, bound) in [(1_000usize, 0.08), (10_000, 0.025), (100_000, 0.008)] {
            let (p, y) = sample(n, 3, |p| p);
            let ece = binary_calibration_error(&p, &y, 10, Norm::L1).unwrap();
            let ace = adaptive_calibration_error(&p, &y, 10, Norm::L1).unwrap();
            // Sampling noise alone: E|acc_b − conf_b| ≈ √(p(1−p)/n_b) ≤ √(0.25·10/n).
            assert!(ece < bound && ace < bound, "n={n}: ece {ece}, ace {ace}");
            assert!(ece < last, "n={n}: {ece} !< {last}");
            last = ece;
        }
    }

    #[test]
    fn miscalibrated_data_shows_the_expected_gap() {
        // An overconfident model: the true frequency is p², so the gap is E[p − p²] = 1/2 − 1/3 = 1/6
        // over p ~ U(0, 1) (the gap p − p² ≥ 0 never changes sign, so binning loses almost nothing:
        // with 20 bins the binned ECE is 1/6 − Σ_b Var-within-bin terms ≈ 1/6 − 1/(6·20²)).
        let (p, y) = sample(200_000, 5, |p| p * p);
        let ece = binary_calibration_error(&p, &y, 20, Norm::L1).unwrap();
        let expected = 1.0 / 6.0 - 1.0 / (6.0 * 400.0);
        assert!((ece - expected).abs() < 0.005, "{ece} vs {expected}");
        // MCE: the largest gap, near p = ½ where p − p² = ¼.
        let mce = binary_calibration_error(&p, &y, 20, Norm::Max).unwrap();
        assert!((mce - 0.25).abs() < 0.02, "{mce}");
        // RMSCE ≥ ECE (Jensen) and ≈ √E[(p − p²)²] = √(1/30).
        let rms = binary_calibration_error(&p, &y, 20, Norm::L2).unwrap();
        assert!(rms >= ece && (rms - (1.0f64 / 30.0).sqrt()).abs() < 0.005, "{rms}");
    }

    #[test]
    fn multiclass_top_label_on_calibrated_softmax_data() {
        // Three classes, probabilities from a random softmax, y ~ Categorical(p): top-label
        // calibrated by construction, so the ECE is small; classwise ECE too.
        let mut r = rng(9);
        let (n, k) = (20_000usize, 3usize);
        let mut probs = Vec::with_capacity(n * k);
        let mut target = Vec::with_capacity(n);
        for _ in 0..n {
            let z: Vec<f64> = (0..k).map(|_| 3.0 * (unif(&mut r) - 0.5)).collect();
            let s: f64 = z.iter().map(|v| v.exp()).sum();
            let row: Vec<f64> = z.iter().map(|v| v.exp() / s).collect();
            let u = unif(&mut r);
            let mut cum = 0.0;
            let mut yi = k - 1;
            for (j, pj) in row.iter().enumerate() {
                cum += pj;
                if u < cum {
                    yi = j;
                    break;
                }
            }
            probs.extend(row);
            target.push(yi as i64);
        }
        let ece = multiclass_calibration_error(&probs, k, &target, 15, Norm::L1).unwrap();
        let cw = classwise_calibration_error(&probs, k, &target, 15, Norm::L1).unwrap();
        let ace = adaptive_multiclass_calibration_error(&probs, k, &target, 15, Norm::L1).unwrap();
        assert!(ece < 0.03 && cw < 0.03 && ace < 0.03, "{ece} {cw} {ace}");
        // Sharpening the probabilities (temperature ½) makes the model overconfident.
        let sharp: Vec<f64> = probs
            .chunks(k)
            .flat_map(|row| {
                let s: f64 = row.iter().map(|p| p * p).sum();
                row.iter().map(move |p| p * p / s).collect::<Vec<_>>()
            })
            .collect();
        let ece_sharp = multiclass_calibration_error(&sharp, k, &target, 15, Norm::L1).unwrap();
        assert!(ece_sharp > 0.05 && ece_sharp > 3.0 * ece, "{ece_sharp} vs {ece}");
    }

    #[test]
    fn classwise_of_two_classes_is_the_binary_error() {
        // With two classes and bins symmetric about ½, the one-vs-rest errors of class 0 and 1
        // mirror each other only approximately (left-closed bins are not symmetric), so compare
        // class 1 alone against the binary error of p₁ directly.
        let (p, y) = sample(500, 11, |p| p);
        let probs: Vec<f64> = p.iter().flat_map(|&pi| [1.0 - pi, pi]).collect();
        let target: Vec<i64> = y.iter().map(|&v| v as i64).collect();
        let mut acc = BinnedCalibration::new(BinEdges::torchmetrics(10).unwrap());
        acc.update_one_vs_rest(&probs, 2, &target, 1).unwrap();
        let one = acc.finish().unwrap().calibration_error(Norm::L1);
        assert_eq!(one, binary_calibration_error(&p, &y, 10, Norm::L1).unwrap());
        let cw = classwise_calibration_error(&probs, 2, &target, 10, Norm::L1).unwrap();
        assert!((cw - one).abs() < 0.02);
    }

    #[test]
    fn edge_inputs() {
        // Exactly 0 and 1 with matching labels: perfectly calibrated.
        assert_eq!(
            binary_calibration_error(&[0.0f64, 1.0, 1.0], &[0.0, 1.0, 1.0], 15, Norm::L1).unwrap(),
            0.0
        );
        assert_eq!(binary_calibration_error(&[0.0f64, 1.0], &[0.0, 1.0], 15, Norm::L2).unwrap(), 0.0);
        // 1 with label 0 in its own bin: gap 1, weight ½.
        assert_eq!(binary_calibration_error(&[0.0f64, 1.0], &[0.0, 0.0], 15, Norm::L1).unwrap(), 0.5);
        assert_eq!(binary_calibration_error(&[0.0f64, 1.0], &[0.0, 0.0], 15, Norm::Max).unwrap(), 1.0);
        // Out-of-range, NaN and bad labels name the row.
        let e =
            binary_calibration_error(&[0.2f64, 0.3, 1.0000001], &[0.0, 1.0, 1.0], 10, Norm::L1).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "probs", index: Some(2), .. }));
        let e = multiclass_calibration_error(&[0.5f64, 0.5, f64::NAN, 0.5], 2, &[0, 1], 10, Norm::L1)
            .unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "probs", index: Some(1), .. }));
        let e = classwise_calibration_error(&[0.5f64, 0.5, -0.5, 0.5], 2, &[0, 1], 10, Norm::L1).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "probs", index: Some(1), .. }));
        assert!(matches!(binary_calibration_error::<f64>(&[], &[], 10, Norm::L1), Err(Error::Empty { .. })));
        assert!(binary_calibration_error(&[0.5f64], &[1.0], 0, Norm::L1).is_err());
        assert!(adaptive_calibration_error(&[0.5f64, f64::INFINITY], &[1.0, 1.0], 3, Norm::L1).is_err());
    }
}
