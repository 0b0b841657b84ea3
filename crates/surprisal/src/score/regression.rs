//! Point-prediction regression scores: mean squared error, mean absolute error and R².
//!
//! ```text
//! MSE = Σ wᵢ·(yᵢ − ŷᵢ)² / Σ wᵢ          the Normal NLL with σ fixed, up to an affine map
//! MAE = Σ wᵢ·|yᵢ − ŷᵢ|  / Σ wᵢ          the Laplace NLL with b fixed, up to an affine map
//! R²  = 1 − Σ wᵢ·(yᵢ − ŷᵢ)² / Σ wᵢ·(yᵢ − ȳ)²,   ȳ = Σ wᵢ·yᵢ / Σ wᵢ
//! ```
//!
//! R² is the D² of the squared error: one minus the ratio of the model's deviance to the deviance
//! of the best constant (the weighted mean). Its denominator is streamed with the weighted
//! mean/M₂ recurrences (West 1979) and merged with the formula of Chan, Golub and LeVeque (1979),
//!
//! ```text
//! W = W_a + W_b,  δ = ȳ_b − ȳ_a,  ȳ = ȳ_a + δ·W_b/W,  M₂ = M₂_a + M₂_b + δ²·W_a·W_b/W
//! ```
//!
//! never as Σy² − (Σy)²/W, which cancels catastrophically when the spread is small against the
//! mean.
//!
//! Every input row must be finite (scikit-learn rejects NaN and ±inf too); the error names the
//! row, counted over every batch the accumulator has seen. Sample weights are finite and ≥ 0.
//!
//! References: `sklearn.metrics.mean_squared_error`, `mean_absolute_error`, `r2_score`.

use super::Accumulator;
use crate::error::{Error, Result, check};
use crate::num::Real;

/// Checks that every column has the length of the first and holds finite values, and that the
/// optional weights are finite and ≥ 0; `offset` is the number of rows seen in earlier batches,
/// so that errors name the row over the whole stream. Returns the number of rows.
pub(crate) fn check_rows<F: Real>(
    offset: usize,
    cols: &[(&'static str, &[F])],
    weight: Option<&[F]>,
) -> Result<usize> {
    let n = cols.first().map_or(0, |c| c.1.len());
    for &(name, col) in cols {
        check::same_len(name, n, col.len())?;
        if let Some(i) = col.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidValue {
                name,
                value: col[i].to_f64_lossy(),
                index: Some(offset + i),
                reason: "must be finite",
            });
        }
    }
    check::weights(weight, n).map_err(|e| match e {
        Error::InvalidParameter { name, value, index: Some(i), reason } => {
            Error::InvalidParameter { name, value, index: Some(offset + i), reason }
        }
        other => other,
    })?;
    Ok(n)
}

/// The weight of row `i` (1 without weights).
#[inline]
pub(crate) fn weight_at<F: Real>(weight: Option<&[F]>, i: usize) -> F {
    weight.map_or(F::one(), |w| w[i])
}

/// A weighted mean Σ wᵢ·xᵢ / Σ wᵢ over streamed rows: the shared core of every mean score.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WeightedMean<F> {
    /// Σ wᵢ.
    pub weight: F,
    /// Σ wᵢ·xᵢ.
    pub total: F,
    /// Rows seen (weighted 0 or not).
    pub rows: usize,
}

impl<F: Real> WeightedMean<F> {
    pub fn new() -> Self {
        Self { weight: F::zero(), total: F::zero(), rows: 0 }
    }

    /// Adds one row; a zero weight adds nothing to the sums (so 0·inf does not poison them).
    #[inline]
    pub fn push(&mut self, w: F, x: F) {
        self.rows += 1;
        if w != F::zero() {
            self.weight = self.weight + w;
            self.total = self.total + w * x;
        }
    }

    pub fn merge(&mut self, other: &Self) {
        self.weight = self.weight + other.weight;
        self.total = self.total + other.total;
        self.rows += other.rows;
    }

    /// Σ wᵢ·xᵢ / Σ wᵢ, or [`Error::Empty`] without rows or without weight.
    pub fn finish(&self) -> Result<F> {
        nonempty(self.rows, self.weight)?;
        Ok(self.total / self.weight)
    }
}

/// [`Error::Empty`] for no rows (`rows`) or a zero total weight (`sample_weight`).
pub(crate) fn nonempty<F: Real>(rows: usize, weight: F) -> Result<()> {
    if rows == 0 {
        Err(Error::Empty { name: "rows" })
    } else if weight <= F::zero() {
        Err(Error::Empty { name: "sample_weight" })
    } else {
        Ok(())
    }
}

/// A weighted mean and M₂ = Σ wᵢ·(yᵢ − ȳ)², streamed by West's recurrence and merged by Chan's
/// formula.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WeightedMoments<F> {
    pub weight: F,
    pub mean: F,
    pub m2: F,
}

impl<F: Real> WeightedMoments<F> {
    pub fn new() -> Self {
        Self { weight: F::zero(), mean: F::zero(), m2: F::zero() }
    }

    #[inline]
    pub fn push(&mut self, w: F, y: F) {
        if w == F::zero() {
            return;
        }
        let total = self.weight + w;
        let delta = y - self.mean;
        self.mean = self.mean + delta * (w / total);
        self.m2 = self.m2 + w * delta * (y - self.mean);
        self.weight = total;
    }

    pub fn merge(&mut self, other: &Self) {
        if other.weight == F::zero() {
            return;
        }
        if self.weight == F::zero() {
            *self = other.clone();
            return;
        }
        let total = self.weight + other.weight;
        let delta = other.mean - self.mean;
        self.mean = self.mean + delta * (other.weight / total);
        self.m2 = self.m2 + other.m2 + delta * delta * (self.weight * other.weight / total);
        self.weight = total;
    }
}

/// `1 − num/den` with scikit-learn's `force_finite` rule: `num = 0` gives 1 (a perfect fit, even
/// of a constant target), `num ≠ 0 = den` gives 0; without forcing, the IEEE value of
/// `1 − num/den` (−inf or NaN), as scikit-learn with `force_finite=False`.
pub(crate) fn one_minus_ratio<F: Real>(num: F, den: F, force_finite: bool) -> F {
    if !force_finite {
        return F::one() - num / den;
    }
    if num == F::zero() {
        F::one()
    } else if den == F::zero() {
        F::zero()
    } else {
        F::one() - num / den
    }
}

/// The error of a D² or R² over fewer than two rows, which scikit-learn reports as NaN.
pub(crate) fn too_few_rows(what: &'static str) -> Error {
    Error::Numerical { what, reason: "not well-defined with fewer than two rows".into() }
}

macro_rules! mean_error {
    ($(#[$doc:meta])* $name:ident, $label:literal, |$r:ident| $f:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name<F> {
            mean: WeightedMean<F>,
        }

        impl<F: Real> Default for $name<F> {
            fn default() -> Self {
                Self::new()
            }
        }

        impl<F: Real> $name<F> {
            #[doc = concat!("An empty ", $label, " accumulator.")]
            pub fn new() -> Self {
                Self { mean: WeightedMean::new() }
            }

            /// Adds a batch of rows: targets, predictions of the same length, optional sample
            /// weights (finite, ≥ 0).
            ///
            /// # Errors
            /// [`Error::ShapeMismatch`] for inputs of other lengths; [`Error::InvalidValue`]
            /// naming the row of a non-finite target or prediction; [`Error::InvalidParameter`]
            /// for a negative or non-finite weight. The accumulator is unchanged on error.
            pub fn update(&mut self, target: &[F], prediction: &[F], sample_weight: Option<&[F]>) -> Result<()> {
                let n = check_rows(
                    self.mean.rows,
                    &[("target", target), ("prediction", prediction)],
                    sample_weight,
                )?;
                for i in 0..n {
                    let $r = target[i] - prediction[i];
                    self.mean.push(weight_at(sample_weight, i), $f);
                }
                Ok(())
            }
        }

        impl<F: Real> Accumulator for $name<F> {
            type Output = F;
            fn merge(&mut self, other: &Self) -> Result<()> {
                self.mean.merge(&other.mean);
                Ok(())
            }
            fn finish(&self) -> Result<F> {
                self.mean.finish()
            }
        }
    };
}

mean_error!(
    /// Streaming mean squared error Σ wᵢ·(yᵢ − ŷᵢ)² / Σ wᵢ (see [`mean_squared_error`]).
    MeanSquaredError, "mean squared error", |r| r * r
);

mean_error!(
    /// Streaming mean absolute error Σ wᵢ·|yᵢ − ŷᵢ| / Σ wᵢ (see [`mean_absolute_error`]).
    MeanAbsoluteError, "mean absolute error", |r| r.abs()
);

/// Mean squared error Σ wᵢ·(yᵢ − ŷᵢ)² / Σ wᵢ: one batch through [`MeanSquaredError`].
///
/// Model: yᵢ ∼ N(ŷᵢ, σ²) with σ fixed; the mean NLL is MSE/(2σ²) + ½·log(2πσ²).
///
/// ```text
/// MSE = Σ wᵢ·(yᵢ − ŷᵢ)² / Σ wᵢ          (wᵢ = 1 without weights)
/// ```
///
/// Shapes: `target`, `prediction` and `sample_weight` have the same length n.
///
/// # Errors
/// [`Error::Empty`] for n = 0 or a zero total weight; the errors of [`MeanSquaredError::update`].
///
/// Reference: `sklearn.metrics.mean_squared_error`.
///
/// # Example
/// ```
/// use surprisal::score::mean_squared_error;
/// let y = [3.0f64, -0.5, 2.0, 7.0];
/// let p = [2.5, 0.0, 2.0, 8.0];
/// // (0.25 + 0.25 + 0 + 1)/4, and with weights (0.25 + 0.5 + 0 + 3)/7 (exact rationals)
/// assert!((mean_squared_error(&y, &p, None).unwrap() - 0.375).abs() < 1e-15);
/// let w = [1.0, 2.0, 1.0, 3.0];
/// assert!((mean_squared_error(&y, &p, Some(&w)).unwrap() - 3.75 / 7.0).abs() < 1e-15);
/// ```
pub fn mean_squared_error<F: Real>(target: &[F], prediction: &[F], sample_weight: Option<&[F]>) -> Result<F> {
    let mut acc = MeanSquaredError::new();
    acc.update(target, prediction, sample_weight)?;
    acc.finish()
}

/// Mean absolute error Σ wᵢ·|yᵢ − ŷᵢ| / Σ wᵢ: one batch through [`MeanAbsoluteError`].
///
/// Model: yᵢ ∼ Laplace(ŷᵢ, b) with b fixed; the mean NLL is MAE/b + log(2b).
///
/// ```text
/// MAE = Σ wᵢ·|yᵢ − ŷᵢ| / Σ wᵢ
/// ```
///
/// # Errors
/// As [`mean_squared_error`].
///
/// Reference: `sklearn.metrics.mean_absolute_error`.
///
/// # Example
/// ```
/// use surprisal::score::mean_absolute_error;
/// // (0.5 + 0.5 + 0 + 1)/4 = 0.5
/// let mae = mean_absolute_error(&[3.0f64, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0], None).unwrap();
/// assert!((mae - 0.5).abs() < 1e-15);
/// ```
pub fn mean_absolute_error<F: Real>(
    target: &[F],
    prediction: &[F],
    sample_weight: Option<&[F]>,
) -> Result<F> {
    let mut acc = MeanAbsoluteError::new();
    acc.update(target, prediction, sample_weight)?;
    acc.finish()
}

/// Streaming coefficient of determination R² (see [`r2_score`]).
///
/// Keeps Σ wᵢ·(yᵢ − ŷᵢ)², and the weighted mean and M₂ of y (Chan et al.); O(1) memory.
#[derive(Clone, Debug, PartialEq)]
pub struct R2Score<F> {
    force_finite: bool,
    sse: WeightedMean<F>,
    moments: WeightedMoments<F>,
}

impl<F: Real> Default for R2Score<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Real> R2Score<F> {
    /// An empty accumulator with scikit-learn's default `force_finite = true`.
    pub fn new() -> Self {
        Self { force_finite: true, sse: WeightedMean::new(), moments: WeightedMoments::new() }
    }

    /// Sets `force_finite`: `true` (the default) maps a constant target to 1 (perfect
    /// predictions) or 0; `false` gives the raw 1 − SSE/0 (−inf, or NaN for 0/0).
    pub fn force_finite(mut self, force_finite: bool) -> Self {
        self.force_finite = force_finite;
        self
    }

    /// Adds a batch of rows.
    ///
    /// # Errors
    /// As [`MeanSquaredError::update`].
    pub fn update(&mut self, target: &[F], prediction: &[F], sample_weight: Option<&[F]>) -> Result<()> {
        let n = check_rows(self.sse.rows, &[("target", target), ("prediction", prediction)], sample_weight)?;
        for i in 0..n {
            let w = weight_at(sample_weight, i);
            let r = target[i] - prediction[i];
            self.sse.push(w, r * r);
            self.moments.push(w, target[i]);
        }
        Ok(())
    }
}

impl<F: Real> Accumulator for R2Score<F> {
    type Output = F;

    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.force_finite != other.force_finite {
            return Err(Error::InvalidOption {
                name: "force_finite",
                value: other.force_finite.to_string(),
                reason: "cannot merge R² accumulators with different force_finite",
            });
        }
        self.sse.merge(&other.sse);
        self.moments.merge(&other.moments);
        Ok(())
    }

    fn finish(&self) -> Result<F> {
        nonempty(self.sse.rows, self.sse.weight)?;
        if self.sse.rows < 2 {
            return Err(too_few_rows("R²"));
        }
        Ok(one_minus_ratio(self.sse.total, self.moments.m2, self.force_finite))
    }
}

/// Coefficient of determination R² = 1 − Σ wᵢ·(yᵢ − ŷᵢ)² / Σ wᵢ·(yᵢ − ȳ)²: one batch through
/// [`R2Score`].
///
/// R² is the fraction of the squared-error deviance of the best constant prediction (the weighted
/// mean ȳ) that the model removes: the D² score of the Normal model with σ fixed.
///
/// ```text
/// R² = 1 − Σ wᵢ·(yᵢ − ŷᵢ)² / Σ wᵢ·(yᵢ − ȳ)²,     ȳ = Σ wᵢ·yᵢ / Σ wᵢ
/// constant target (denominator 0), scikit-learn's force_finite = True:
///   R² = 1 if every prediction is exact, 0 otherwise
/// ```
///
/// The denominator is exactly 0 only when every weighted target is the same number (the
/// streamed M₂ is then exactly 0). For the IEEE value use [`R2Score::force_finite`]`(false)`.
///
/// # Errors
/// [`Error::Empty`] for no rows or a zero total weight; [`Error::Numerical`] for a single row
/// (scikit-learn returns NaN with a warning); the errors of [`MeanSquaredError::update`].
///
/// Reference: `sklearn.metrics.r2_score`.
///
/// # Example
/// ```
/// use surprisal::score::r2_score;
/// let y = [3.0f64, -0.5, 2.0, 7.0];
/// let p = [2.5, 0.0, 2.0, 8.0];
/// // 1 − 1.5/29.1875 (exact rational; scikit-learn's doc example gives 0.948...)
/// assert!((r2_score(&y, &p, None).unwrap() - (1.0 - 1.5 / 29.1875)).abs() < 1e-15);
/// // constant target: 1 for a perfect fit, 0 otherwise
/// assert_eq!(r2_score(&[2.0f64, 2.0], &[2.0, 2.0], None).unwrap(), 1.0);
/// assert_eq!(r2_score(&[2.0f64, 2.0], &[2.0, 2.5], None).unwrap(), 0.0);
/// ```
pub fn r2_score<F: Real>(target: &[F], prediction: &[F], sample_weight: Option<&[F]>) -> Result<F> {
    let mut acc = R2Score::new();
    acc.update(target, prediction, sample_weight)?;
    acc.finish()
}

#[cfg(test)]
pub(crate) mod testing {
    //! The shard/merge property shared by the score tests.
    use super::super::Accumulator;

    use crate::testing::Rng;

    /// Random cut points splitting `0..n` into contiguous shards (some possibly empty).
    pub fn random_shards(rng: &mut Rng, n: usize) -> Vec<(usize, usize)> {
        let k = 1 + rng.below(6);
        let mut cuts: Vec<usize> = (0..k - 1).map(|_| rng.below(n + 1)).collect();
        cuts.push(0);
        cuts.push(n);
        cuts.sort_unstable();
        cuts.windows(2).map(|w| (w[0], w[1])).collect()
    }

    /// For 20 seeded random data sets and shardings: one accumulator over all rows equals the
    /// merge of one accumulator per shard, to `rel` relative.
    pub fn check_merge<A: Accumulator<Output = f64>>(
        seed: u64,
        make: impl Fn() -> A,
        data: impl Fn(&mut Rng) -> usize,
        update: impl Fn(&mut A, usize, usize),
        rel: f64,
    ) {
        let mut rng = Rng(seed);
        for round in 0..20 {
            let n = data(&mut rng);
            let mut whole = make();
            update(&mut whole, 0, n);
            let mut merged = make();
            for (a, b) in random_shards(&mut rng, n) {
                let mut part = make();
                update(&mut part, a, b);
                merged.merge(&part).unwrap();
            }
            let (x, y) = (whole.finish().unwrap(), merged.finish().unwrap());
            assert!((x - y).abs() <= rel * x.abs().max(1e-300), "round {round}: one pass {x} vs merged {y}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::testing::Rng;

    fn data(rng: &mut Rng, n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let y: Vec<f64> = (0..n).map(|_| 3.0 + 2.0 * rng.normal()).collect();
        let p: Vec<f64> = y.iter().map(|v| v + rng.normal()).collect();
        let w: Vec<f64> = (0..n).map(|i| if i % 7 == 3 { 0.0 } else { rng.uniform() * 3.0 }).collect();
        (y, p, w)
    }

    #[test]
    fn shards_merge_to_one_pass() {
        let mut rng = Rng(11);
        let (y, p, w) = data(&mut rng, 200);
        let n = |r: &mut Rng| 2 + r.below(199);
        check_merge(
            1,
            MeanSquaredError::new,
            n,
            |a, s, e| a.update(&y[s..e], &p[s..e], Some(&w[s..e])).unwrap(),
            1e-12,
        );
        check_merge(
            2,
            MeanAbsoluteError::new,
            n,
            |a, s, e| a.update(&y[s..e], &p[s..e], None).unwrap(),
            1e-12,
        );
        check_merge(
            3,
            R2Score::new,
            n,
            |a, s, e| a.update(&y[s..e], &p[s..e], Some(&w[s..e])).unwrap(),
            1e-12,
        );
        check_merge(4, R2Score::new, n, |a, s, e| a.update(&y[s..e], &p[s..e], None).unwrap(), 1e-12);
    }

    #[test]
    fn r2_matches_a_two_pass_reference_and_survives_a_large_offset() {
        let mut rng = Rng(5);
        let (y, p, w) = data(&mut rng, 101);
        let sw: f64 = w.iter().sum();
        let mean = y.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() / sw;
        let den: f64 = y.iter().zip(&w).map(|(a, b)| b * (a - mean).powi(2)).sum();
        let num: f64 = y.iter().zip(&p).zip(&w).map(|((a, q), b)| b * (a - q).powi(2)).sum();
        let r2 = r2_score(&y, &p, Some(&w)).unwrap();
        assert!((r2 - (1.0 - num / den)).abs() < 1e-13);
        // Shifting targets and predictions by 1e9 leaves R² unchanged (Σy² − (Σy)²/n would not).
        let ys: Vec<f64> = y.iter().map(|v| v + 1e9).collect();
        let ps: Vec<f64> = p.iter().map(|v| v + 1e9).collect();
        let shifted = r2_score(&ys, &ps, Some(&w)).unwrap();
        assert!((shifted - r2).abs() < 1e-6, "{shifted} vs {r2}");
    }

    #[test]
    fn edges_are_typed_errors() {
        let none: [f64; 0] = [];
        assert_eq!(mean_squared_error(&none, &none, None).unwrap_err(), Error::Empty { name: "rows" });
        assert_eq!(
            mean_absolute_error(&[1.0f64, 2.0], &[1.0, 1.0], Some(&[0.0, 0.0])).unwrap_err(),
            Error::Empty { name: "sample_weight" }
        );
        assert_eq!(
            r2_score(&[1.0f64, 2.0], &[1.0, 1.0], Some(&[0.0, 0.0])).unwrap_err(),
            Error::Empty { name: "sample_weight" }
        );
        assert!(matches!(r2_score(&[1.0f64], &[1.0], None), Err(Error::Numerical { .. })));
        // A NaN is named with its row over the whole stream.
        let mut acc = MeanSquaredError::new();
        acc.update(&[1.0f64, 2.0], &[1.0, 2.0], None).unwrap();
        let e = acc.update(&[1.0, 2.0, 3.0], &[1.0, f64::NAN, 3.0], None).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "prediction", index: Some(3), .. }), "{e:?}");
        let e = r2_score(&[1.0f64, 2.0], &[1.0, 2.0], Some(&[1.0, -1.0])).unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { name: "weight", index: Some(1), .. }));
        assert!(matches!(mean_squared_error(&[1.0f64], &[1.0, 2.0], None), Err(Error::ShapeMismatch { .. })));
        // Zero-weight rows do not count, even when their error is huge.
        let m = mean_squared_error(&[0.0f64, 1.0], &[1e300, 0.0], Some(&[0.0, 2.0])).unwrap();
        assert_eq!(m, 1.0);
        // Constant target: force_finite on and off.
        let mut acc = R2Score::new().force_finite(false);
        acc.update(&[2.0f64, 2.0, 2.0], &[2.0, 2.0, 2.5], None).unwrap();
        assert_eq!(acc.finish().unwrap(), f64::NEG_INFINITY);
        let e = acc.merge(&R2Score::new()).unwrap_err();
        assert!(matches!(e, Error::InvalidOption { name: "force_finite", .. }));
    }

    #[test]
    fn f32_agrees_with_f64() {
        let y = [1.5f32, -2.0, 0.25, 4.0];
        let p = [1.0f32, -1.0, 0.5, 3.0];
        let y64: Vec<f64> = y.iter().map(|&v| v as f64).collect();
        let p64: Vec<f64> = p.iter().map(|&v| v as f64).collect();
        let a = r2_score(&y, &p, None).unwrap() as f64;
        let b = r2_score(&y64, &p64, None).unwrap();
        assert!((a - b).abs() < 1e-6);
        let a = mean_squared_error(&y, &p, None).unwrap() as f64;
        assert!((a - mean_squared_error(&y64, &p64, None).unwrap()).abs() < 1e-6);
    }
}
