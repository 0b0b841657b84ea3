//! Quantile scores: the mean pinball loss and its D² (fraction of the null model's pinball loss
//! explained).
//!
//! ```text
//! ρ_α(r) = α·r            r ≥ 0         r = y − ŷ
//!        = (α − 1)·r      r < 0
//! mean pinball = Σ wᵢ·ρ_α(yᵢ − ŷᵢ) / Σ wᵢ
//! D²_α = 1 − Σ wᵢ·ρ_α(yᵢ − ŷᵢ) / Σ wᵢ·ρ_α(yᵢ − q_α),    q_α = weighted α-quantile of y
//! ```
//!
//! ρ_α is the asymmetric-Laplace NLL with scale fixed, up to an affine map (see
//! [`crate::family::AsymmetricLaplace`]); its expectation is minimised by the α-quantile, so the
//! pinball loss is a proper scoring rule for quantiles.
//!
//! The null model q_α is the constant that minimises the weighted pinball loss of the targets.
//! scikit-learn takes it from `_weighted_percentile` (the inverted weighted CDF: the smallest
//! sorted target whose cumulative weight reaches α·Σw; `np.percentile` without weights behaves
//! the same for the loss). Every minimiser gives the same denominator (the loss is flat between
//! tied candidates), so D² here equals scikit-learn's. Rows with zero weight never become q_α.
//!
//! **Memory:** the quantile of a stream is not computable in one pass with bounded memory, so
//! [`D2PinballScore`] keeps every (target, weight) pair with a non-zero weight (two floats per
//! row) and sorts them in [`Accumulator::finish`] (O(n log n)). [`MeanPinballLoss`] is O(1).
//!
//! References: `sklearn.metrics.mean_pinball_loss`, `d2_pinball_score`.

use super::Accumulator;
use super::regression::{WeightedMean, check_rows, nonempty, one_minus_ratio, too_few_rows, weight_at};
use crate::error::{Error, Result, check};
use crate::num::Real;

/// ρ_α(y − ŷ), as scikit-learn writes it: α·r for r ≥ 0, −(1 − α)·r otherwise.
#[inline]
fn pinball<F: Real>(alpha: F, r: F) -> F {
    if r >= F::zero() { alpha * r } else { (alpha - F::one()) * r }
}

fn check_alpha<F: Real>(alpha: F) -> Result<F> {
    check::in_closed("alpha", alpha, 0.0, 1.0, "must be in [0, 1]")
}

fn same_alpha<F: Real>(a: F, b: F) -> Result<()> {
    if a == b {
        Ok(())
    } else {
        Err(Error::InvalidOption {
            name: "alpha",
            value: b.to_f64_lossy().to_string(),
            reason: "cannot merge pinball accumulators with different alpha",
        })
    }
}

/// Streaming mean pinball loss (see [`mean_pinball_loss`]); O(1) memory.
#[derive(Clone, Debug, PartialEq)]
pub struct MeanPinballLoss<F> {
    alpha: F,
    mean: WeightedMean<F>,
}

impl<F: Real> MeanPinballLoss<F> {
    /// An empty accumulator for quantile level `alpha`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless 0 ≤ alpha ≤ 1.
    pub fn new(alpha: F) -> Result<Self> {
        Ok(Self { alpha: check_alpha(alpha)?, mean: WeightedMean::new() })
    }

    /// Adds a batch of rows (targets, predicted α-quantiles, optional weights).
    ///
    /// # Errors
    /// As [`super::MeanSquaredError::update`].
    pub fn update(&mut self, target: &[F], prediction: &[F], sample_weight: Option<&[F]>) -> Result<()> {
        let n = check_rows(self.mean.rows, &[("target", target), ("prediction", prediction)], sample_weight)?;
        for i in 0..n {
            self.mean.push(weight_at(sample_weight, i), pinball(self.alpha, target[i] - prediction[i]));
        }
        Ok(())
    }
}

impl<F: Real> Accumulator for MeanPinballLoss<F> {
    type Output = F;
    fn merge(&mut self, other: &Self) -> Result<()> {
        same_alpha(self.alpha, other.alpha)?;
        self.mean.merge(&other.mean);
        Ok(())
    }
    fn finish(&self) -> Result<F> {
        self.mean.finish()
    }
}

/// Mean pinball loss Σ wᵢ·ρ_α(yᵢ − ŷᵢ) / Σ wᵢ: one batch through [`MeanPinballLoss`].
///
/// Model: yᵢ ∼ AsymmetricLaplace(ŷᵢ, scale fixed, quantile α); ŷᵢ is the predicted α-quantile.
///
/// ```text
/// ρ_α(r) = max(α·r, (α − 1)·r),   r = y − ŷ
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] for α outside [0, 1]; otherwise as
/// [`super::mean_squared_error`].
///
/// Reference: `sklearn.metrics.mean_pinball_loss`.
///
/// # Example
/// ```
/// use surprisal::score::mean_pinball_loss;
/// // α = 0.1: rows 0.1·2, 0.9·1, 0 → 1.1/3 (exact rational)
/// let l = mean_pinball_loss(&[3.0f64, 1.0, 2.0], &[1.0, 2.0, 2.0], 0.1, None).unwrap();
/// assert!((l - 1.1 / 3.0).abs() < 1e-15);
/// ```
pub fn mean_pinball_loss<F: Real>(
    target: &[F],
    prediction: &[F],
    alpha: F,
    sample_weight: Option<&[F]>,
) -> Result<F> {
    let mut acc = MeanPinballLoss::new(alpha)?;
    acc.update(target, prediction, sample_weight)?;
    acc.finish()
}

/// Streaming D² pinball score (see [`d2_pinball_score`]).
///
/// Memory: keeps (target, weight) for every row of non-zero weight (the null model is a weighted
/// quantile, which no bounded summary gives exactly).
#[derive(Clone, Debug, PartialEq)]
pub struct D2PinballScore<F> {
    model: MeanPinballLoss<F>,
    kept: Vec<(F, F)>,
}

impl<F: Real> D2PinballScore<F> {
    /// An empty accumulator for quantile level `alpha`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless 0 ≤ alpha ≤ 1.
    pub fn new(alpha: F) -> Result<Self> {
        Ok(Self { model: MeanPinballLoss::new(alpha)?, kept: Vec::new() })
    }

    /// Adds a batch of rows.
    ///
    /// # Errors
    /// As [`MeanPinballLoss::update`].
    pub fn update(&mut self, target: &[F], prediction: &[F], sample_weight: Option<&[F]>) -> Result<()> {
        self.model.update(target, prediction, sample_weight)?;
        for (i, &y) in target.iter().enumerate() {
            let w = weight_at(sample_weight, i);
            if w != F::zero() {
                self.kept.push((y, w));
            }
        }
        Ok(())
    }
}

/// The smallest sorted target whose cumulative weight reaches α·W (the inverted weighted CDF),
/// a minimiser of Σ wᵢ·ρ_α(yᵢ − q). `kept` is sorted in place; every weight is > 0.
fn weighted_quantile<F: Real>(kept: &mut [(F, F)], alpha: F, total: F) -> F {
    kept.sort_unstable_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    let goal = alpha * total;
    let mut cum = F::zero();
    for &(y, w) in kept.iter() {
        cum = cum + w;
        if cum >= goal {
            return y;
        }
    }
    kept[kept.len() - 1].0
}

impl<F: Real> Accumulator for D2PinballScore<F> {
    type Output = F;
    fn merge(&mut self, other: &Self) -> Result<()> {
        self.model.merge(&other.model)?;
        self.kept.extend_from_slice(&other.kept);
        Ok(())
    }
    fn finish(&self) -> Result<F> {
        let mean = &self.model.mean;
        nonempty(mean.rows, mean.weight)?;
        if mean.rows < 2 {
            return Err(too_few_rows("D² pinball score"));
        }
        let alpha = self.model.alpha;
        let mut kept = self.kept.clone();
        let q = weighted_quantile(&mut kept, alpha, mean.weight);
        let null = kept.iter().fold(F::zero(), |s, &(y, w)| s + w * pinball(alpha, y - q));
        Ok(one_minus_ratio(mean.total, null, true))
    }
}

/// D² pinball score 1 − Σ wᵢ·ρ_α(yᵢ − ŷᵢ) / Σ wᵢ·ρ_α(yᵢ − q_α): one batch through
/// [`D2PinballScore`].
///
/// The fraction of the pinball loss of the best constant quantile (the weighted α-quantile of the
/// targets) that the model removes; α = ½ gives D² of the absolute error.
///
/// ```text
/// D²_α = 1 − Σ wᵢ·ρ_α(yᵢ − ŷᵢ) / min_q Σ wᵢ·ρ_α(yᵢ − q)
/// constant-loss edge (scikit-learn): numerator 0 → 1, denominator 0 (else) → 0
/// ```
///
/// # Errors
/// As [`mean_pinball_loss`]; [`Error::Numerical`] for a single row (scikit-learn: NaN).
///
/// Reference: `sklearn.metrics.d2_pinball_score`.
///
/// # Example
/// ```
/// use surprisal::score::d2_pinball_score;
/// // α = ½: q = median = 2; null loss ½·(1 + 0 + 1) = 1, model loss ½·(0 + 1 + 0) = ½ → D² = ½
/// let d2 = d2_pinball_score(&[1.0f64, 2.0, 3.0], &[1.0, 3.0, 3.0], 0.5, None).unwrap();
/// assert!((d2 - 0.5).abs() < 1e-15);
/// ```
pub fn d2_pinball_score<F: Real>(
    target: &[F],
    prediction: &[F],
    alpha: F,
    sample_weight: Option<&[F]>,
) -> Result<F> {
    let mut acc = D2PinballScore::new(alpha)?;
    acc.update(target, prediction, sample_weight)?;
    acc.finish()
}

#[cfg(test)]
mod tests {
    use super::super::regression::testing::*;
    use super::*;
    use crate::testing::Rng;

    #[test]
    fn shards_merge_to_one_pass() {
        let mut rng = Rng(21);
        let y: Vec<f64> = (0..150).map(|_| rng.normal() * 3.0).collect();
        let p: Vec<f64> = y.iter().map(|v| v + rng.normal()).collect();
        let w: Vec<f64> = (0..150).map(|i| if i % 5 == 0 { 0.0 } else { rng.uniform() }).collect();
        let n = |r: &mut Rng| 2 + r.below(149);
        for alpha in [0.1, 0.5, 0.93] {
            let mk = || MeanPinballLoss::new(alpha).unwrap();
            check_merge(7, mk, n, |a, s, e| a.update(&y[s..e], &p[s..e], Some(&w[s..e])).unwrap(), 1e-12);
            let mk = || D2PinballScore::new(alpha).unwrap();
            check_merge(8, mk, n, |a, s, e| a.update(&y[s..e], &p[s..e], Some(&w[s..e])).unwrap(), 1e-12);
            check_merge(9, mk, n, |a, s, e| a.update(&y[s..e], &p[s..e], None).unwrap(), 1e-12);
        }
    }

    #[test]
    fn null_model_minimises_the_pinball_loss() {
        // The chosen q is no worse than any target or any point between targets.
        let mut rng = Rng(3);
        for _ in 0..20 {
            let n = 1 + rng.below(30);
            let y: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
            let w: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
            let alpha = rng.uniform();
            let total: f64 = w.iter().sum();
            let mut kept: Vec<(f64, f64)> = y.iter().copied().zip(w.iter().copied()).collect();
            let q = weighted_quantile(&mut kept, alpha, total);
            let loss = |c: f64| y.iter().zip(&w).map(|(a, b)| b * pinball(alpha, a - c)).sum::<f64>();
            for c in y.iter().flat_map(|v| [*v, v + 1e-3, v - 1e-3]) {
                assert!(loss(q) <= loss(c) + 1e-12, "alpha {alpha}: q {q} loses to {c}");
            }
        }
    }

    #[test]
    fn edges_are_typed_errors() {
        assert!(MeanPinballLoss::new(1.5f64).is_err());
        assert!(matches!(D2PinballScore::new(f64::NAN), Err(Error::InvalidParameter { name: "alpha", .. })));
        let none: [f64; 0] = [];
        assert_eq!(d2_pinball_score(&none, &none, 0.5, None).unwrap_err(), Error::Empty { name: "rows" });
        assert!(matches!(d2_pinball_score(&[1.0f64], &[1.0], 0.5, None), Err(Error::Numerical { .. })));
        let e = d2_pinball_score(&[1.0f64, f64::NAN], &[1.0, 1.0], 0.5, None).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "target", index: Some(1), .. }));
        let mut a = D2PinballScore::new(0.5f64).unwrap();
        assert!(a.merge(&D2PinballScore::new(0.4).unwrap()).is_err());
        // Constant target: a perfect model scores 1, another 0.
        assert_eq!(d2_pinball_score(&[2.0f64, 2.0], &[2.0, 2.0], 0.3, None).unwrap(), 1.0);
        assert_eq!(d2_pinball_score(&[2.0f64, 2.0], &[2.0, 3.0], 0.3, None).unwrap(), 0.0);
        // A zero-weight row is never the null model.
        let d =
            d2_pinball_score(&[-100.0f64, 1.0, 2.0], &[0.0, 1.0, 2.0], 0.0, Some(&[0.0, 1.0, 1.0])).unwrap();
        assert_eq!(d, 1.0);
        let f = d2_pinball_score(&[1.0f32, 2.0, 4.0], &[1.5, 2.0, 3.0], 0.7, None).unwrap() as f64;
        let g = d2_pinball_score(&[1.0f64, 2.0, 4.0], &[1.5, 2.0, 3.0], 0.7, None).unwrap();
        assert!((f - g).abs() < 1e-6);
    }
}
