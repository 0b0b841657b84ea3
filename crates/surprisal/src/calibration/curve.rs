//! The calibration curve (reliability curve) of a binary classifier, as scikit-learn's
//! `sklearn.calibration.calibration_curve`.
//!
//! ```text
//! edges      uniform:  b_i = i/n                 quantile:  b_i = percentile(p, 100·i/n)
//! bin of pᵢ  s(pᵢ) = #{1 ≤ i ≤ n−1 : b_i < pᵢ}   (bins (b_i, b_{i+1}], the first closed)
//! prob_true_b = (1/n_b) Σ_{s(pᵢ)=b} yᵢ     fraction of positives
//! prob_pred_b = (1/n_b) Σ_{s(pᵢ)=b} pᵢ     mean predicted probability
//! ```
//!
//! Empty bins are dropped, so the curve can have fewer than `n_bins` points. The uniform strategy
//! streams over fixed edges ([`super::BinnedCalibration`] over [`super::BinEdges::uniform`]); the
//! quantile strategy needs every prediction to place its edges, so it stores the rows
//! ([`super::QuantileCalibration`]) or takes a first pass for the edges.

use super::binning::BinEdges;
use super::reliability::{BinnedCalibration, QuantileCalibration, ReliabilityDiagram};
use crate::error::{Error, Result};
use crate::num::Real;
use crate::score::Accumulator;

/// How the bins of a calibration curve are placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// `n_bins` equal-width bins over `[0, 1]`.
    Uniform,
    /// `n_bins` equal-mass bins: the edges are quantiles of the predictions.
    Quantile,
}

impl Strategy {
    /// Parses scikit-learn's names `uniform` and `quantile`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for any other name.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "uniform" => Ok(Strategy::Uniform),
            "quantile" => Ok(Strategy::Quantile),
            other => Err(Error::InvalidOption {
                name: "strategy",
                value: other.to_string(),
                reason: "expected uniform or quantile",
            }),
        }
    }
}

/// The points of a calibration curve, one per non-empty bin, in bin order.
#[derive(Clone, Debug, PartialEq)]
pub struct CalibrationCurve<F> {
    /// Fraction of positives in each non-empty bin.
    pub prob_true: Vec<F>,
    /// Mean predicted probability in each non-empty bin.
    pub prob_pred: Vec<F>,
}

impl<F: Real> ReliabilityDiagram<F> {
    /// The calibration curve of this diagram: its non-empty bins' (accuracy, confidence).
    pub fn curve(&self) -> CalibrationCurve<F> {
        let keep = |v: &[F]| -> Vec<F> {
            v.iter().zip(&self.count).filter(|(_, c)| **c > 0).map(|(x, _)| *x).collect()
        };
        CalibrationCurve { prob_true: keep(&self.accuracy), prob_pred: keep(&self.confidence) }
    }
}

/// scikit-learn's `calibration_curve(y_true, y_prob, n_bins, strategy)`: `probs[i]` the predicted
/// probability of the positive class, `target[i] ∈ {0, 1}`.
///
/// # Errors
/// [`Error::ShapeMismatch`] for different lengths; [`Error::InvalidValue`] naming the row of a
/// probability outside `[0, 1]` or NaN, or of a label other than 0 or 1;
/// [`Error::InvalidParameter`] for `n_bins = 0`; [`Error::Empty`] for no rows.
///
/// # Example
/// ```
/// use surprisal::calibration::{calibration_curve, Strategy};
/// let p = [0.1f64, 0.3, 0.35, 0.8, 0.9];
/// let y = [0.0, 0.0, 1.0, 1.0, 1.0];
/// let c = calibration_curve(&p, &y, 2, Strategy::Uniform).unwrap();
/// // bins [0, ½] and (½, 1]: (0.1+0.3+0.35)/3 = 0.25 with 1/3 positives; (0.8+0.9)/2 = 0.85, all positive
/// assert_eq!(c.prob_true, vec![1.0 / 3.0, 1.0]);
/// assert!((c.prob_pred[0] - 0.25).abs() < 1e-15 && (c.prob_pred[1] - 0.85).abs() < 1e-15);
/// // Quantile edges percentile(p, [0, 50, 100]) = [0.1, 0.35, 0.9]: bins [0.1, 0.35] and (0.35, 0.9]
/// let q = calibration_curve(&p, &y, 2, Strategy::Quantile).unwrap();
/// assert_eq!(q.prob_true, vec![1.0 / 3.0, 1.0]);
/// ```
pub fn calibration_curve<F: Real>(
    probs: &[F],
    target: &[F],
    n_bins: usize,
    strategy: Strategy,
) -> Result<CalibrationCurve<F>> {
    let diagram = match strategy {
        Strategy::Uniform => {
            let mut acc = BinnedCalibration::new(BinEdges::uniform(n_bins)?);
            acc.update(probs, target)?;
            acc.finish()?
        }
        Strategy::Quantile => {
            let mut acc = QuantileCalibration::new(n_bins)?;
            acc.update(probs, target)?;
            acc.finish()?
        }
    };
    Ok(diagram.curve())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_bins_are_dropped() {
        let c = calibration_curve(&[0.05f64, 0.95], &[0.0, 1.0], 10, Strategy::Uniform).unwrap();
        assert_eq!(c.prob_pred, vec![0.05, 0.95]);
        assert_eq!(c.prob_true, vec![0.0, 1.0]);
    }

    #[test]
    fn right_closed_edges_and_endpoints() {
        // 0.5 is the edge between the two bins: scikit-learn puts it in the lower bin.
        let c = calibration_curve(&[0.0f64, 0.5, 1.0], &[0.0, 1.0, 1.0], 2, Strategy::Uniform).unwrap();
        assert_eq!(c.prob_pred, vec![0.25, 1.0]);
        assert_eq!(c.prob_true, vec![0.5, 1.0]);
    }

    #[test]
    fn quantile_bins_with_ties_keep_only_filled_bins() {
        // All predictions equal: every edge is 0.3 and every row falls in the first bin.
        let c =
            calibration_curve(&[0.3f64; 6], &[1.0, 0.0, 0.0, 1.0, 0.0, 0.0], 4, Strategy::Quantile).unwrap();
        assert_eq!(c.prob_pred, vec![0.3]);
        assert!((c.prob_true[0] - 1.0 / 3.0).abs() < 1e-16);
    }

    #[test]
    fn errors_name_the_row() {
        let e = calibration_curve(&[0.2f64, -0.1], &[0.0, 1.0], 5, Strategy::Uniform).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "probs", index: Some(1), .. }));
        let e = calibration_curve(&[0.2f64, f64::NAN], &[0.0, 1.0], 5, Strategy::Quantile).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "probs", index: Some(1), .. }));
        let e = calibration_curve(&[0.2f64, 0.4], &[0.0, 2.0], 5, Strategy::Uniform).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "target", index: Some(1), .. }));
        assert!(matches!(calibration_curve::<f64>(&[], &[], 5, Strategy::Uniform), Err(Error::Empty { .. })));
        assert!(calibration_curve(&[0.2f64], &[0.0], 0, Strategy::Uniform).is_err());
        assert!(Strategy::parse("kmeans").is_err());
        assert_eq!(Strategy::parse("quantile").unwrap(), Strategy::Quantile);
    }
}
