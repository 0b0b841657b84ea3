//! Mean Tweedie deviances (Normal p = 0, Poisson p = 1, Gamma p = 2, any p ≤ 0 or p ≥ 1) and the
//! D² Tweedie score.
//!
//! ```text
//! mean deviance  = Σ wᵢ·d_p(yᵢ, μᵢ) / Σ wᵢ
//! D²_p           = 1 − Σ wᵢ·d_p(yᵢ, μᵢ) / Σ wᵢ·d_p(yᵢ, ȳ),     ȳ = Σ wᵢ·yᵢ / Σ wᵢ
//!
//! d_0(y, μ) = (y − μ)²
//! d_1(y, μ) = 2·(y·log(y/μ) − y + μ)
//! d_2(y, μ) = 2·(log(μ/y) + y/μ − 1)
//! d_p(y, μ) = 2·(max(y,0)^{2−p}/((1−p)(2−p)) − y·μ^{1−p}/(1−p) + μ^{2−p}/(2−p))
//! ```
//!
//! The unit deviance d_p is the one of [`crate::loss::tweedie_deviance`] (twice the
//! log-likelihood ratio of the saturated model to the model; see [`mod@crate::loss::deviance`]
//! for its exact map to the Poisson, Gamma and Normal NLLs), evaluated at μ directly.
//!
//! Domains, as scikit-learn checks them (typed errors naming the row): p < 0: any y, μ > 0;
//! p = 0: any y and μ; 1 ≤ p < 2: y ≥ 0, μ > 0; p ≥ 2: y > 0, μ > 0; 0 < p < 1 is an
//! [`Error::InvalidParameter`] (no Tweedie distribution).
//!
//! **Streaming the null deviance.** The denominator of D² needs ȳ, known only at the end. For
//! p ≥ 0, d_p is a Bregman divergence (d_p(y, μ) = 2∫_μ^y (y − t)/t^p dt), so for any set of rows
//! Σ wᵢ·d(yᵢ, c) = Σ wᵢ·d(yᵢ, ȳ) + W·d(ȳ, c): the null deviance of two shards merges as
//!
//! ```text
//! D = D_a + D_b + W_a·d(ȳ_a, ȳ) + W_b·d(ȳ_b, ȳ)
//! ```
//!
//! which for p = 0 is exactly Chan et al.'s M₂ merge, and one row is a shard with D = 0 (West's
//! recurrence). Nothing cancels catastrophically and the memory is O(1). For p < 0 the saturated
//! term max(y,0)^{2−p} is clipped, the identity fails for negative shard means, and D is
//! assembled at the end from Σ wᵢ·max(yᵢ,0)^{2−p}, W and ȳ (exact, but it can lose digits when
//! the null deviance is tiny against Σ wᵢ·yᵢ^{2−p}); it needs ȳ > 0, the prediction domain.
//!
//! D² edge (as scikit-learn): a null deviance of 0 (a constant target) gives the IEEE value of
//! 1 − num/0 (−inf, or NaN for 0/0); fewer than two rows is an error (scikit-learn: NaN).
//!
//! References: `sklearn.metrics.mean_tweedie_deviance`, `mean_poisson_deviance`,
//! `mean_gamma_deviance`, `d2_tweedie_score`.

use super::Accumulator;
use super::regression::{WeightedMean, WeightedMoments, check_rows, nonempty, too_few_rows, weight_at};
use crate::error::{Error, Result};
use crate::loss::deviance::{check_targets, unit_deviance};
use crate::num::Real;

/// Validates the power (p ≤ 0 or p ≥ 1, finite).
fn check_power<F: Real>(power: F) -> Result<F> {
    check_targets::<F>(&[], power)?;
    Ok(power)
}

/// Validates one batch for power `p`; errors name rows counted from `offset`.
fn check_batch<F: Real>(offset: usize, y: &[F], mu: &[F], w: Option<&[F]>, p: F) -> Result<usize> {
    let n = check_rows(offset, &[("target", y), ("prediction", mu)], w)?;
    let shift = |e: Error| match e {
        Error::InvalidValue { name, value, index: Some(i), reason } => {
            Error::InvalidValue { name, value, index: Some(offset + i), reason }
        }
        other => other,
    };
    check_targets(y, p).map_err(shift)?;
    if p != F::zero()
        && let Some(i) = mu.iter().position(|m| *m <= F::zero())
    {
        return Err(Error::InvalidValue {
            name: "prediction",
            value: mu[i].to_f64_lossy(),
            index: Some(offset + i),
            reason: "must be > 0 for power != 0",
        });
    }
    Ok(n)
}

fn same_power<F: Real>(a: F, b: F) -> Result<()> {
    if a == b {
        Ok(())
    } else {
        Err(Error::InvalidOption {
            name: "power",
            value: b.to_f64_lossy().to_string(),
            reason: "cannot merge Tweedie accumulators with different powers",
        })
    }
}

/// Streaming mean Tweedie deviance Σ wᵢ·d_p(yᵢ, μᵢ) / Σ wᵢ (see [`mean_tweedie_deviance`]).
#[derive(Clone, Debug, PartialEq)]
pub struct MeanTweedieDeviance<F> {
    power: F,
    mean: WeightedMean<F>,
}

impl<F: Real> MeanTweedieDeviance<F> {
    /// An empty accumulator for Tweedie power `power`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a power in (0, 1) or not finite.
    pub fn new(power: F) -> Result<Self> {
        Ok(Self { power: check_power(power)?, mean: WeightedMean::new() })
    }

    /// The mean Poisson deviance (power 1).
    pub fn poisson() -> Self {
        Self { power: F::one(), mean: WeightedMean::new() }
    }

    /// The mean Gamma deviance (power 2).
    pub fn gamma() -> Self {
        Self { power: F::lit(2.0), mean: WeightedMean::new() }
    }

    /// Adds a batch: targets, predicted means μ, optional sample weights.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming the row of a target or prediction outside the power's
    /// domain (see the module) or not finite; otherwise as [`super::MeanSquaredError::update`].
    pub fn update(&mut self, target: &[F], prediction: &[F], sample_weight: Option<&[F]>) -> Result<()> {
        let n = check_batch(self.mean.rows, target, prediction, sample_weight, self.power)?;
        for i in 0..n {
            self.mean.push(weight_at(sample_weight, i), unit_deviance(target[i], prediction[i], self.power));
        }
        Ok(())
    }
}

impl<F: Real> Accumulator for MeanTweedieDeviance<F> {
    type Output = F;
    fn merge(&mut self, other: &Self) -> Result<()> {
        same_power(self.power, other.power)?;
        self.mean.merge(&other.mean);
        Ok(())
    }
    fn finish(&self) -> Result<F> {
        self.mean.finish()
    }
}

/// Mean Tweedie deviance Σ wᵢ·d_p(yᵢ, μᵢ) / Σ wᵢ: one batch through [`MeanTweedieDeviance`].
///
/// Model: yᵢ ∼ Tweedie(μᵢ, φ, p) (Normal, Poisson, Gamma for p = 0, 1, 2); d_p is twice the
/// NLL gap to the saturated model, times φ. Formulas, domains and errors: see the module.
///
/// # Errors
/// [`Error::InvalidParameter`] for a power in (0, 1); [`Error::InvalidValue`] for a target or
/// prediction outside the domain; [`Error::Empty`] for no rows or no weight.
///
/// Reference: `sklearn.metrics.mean_tweedie_deviance`.
///
/// # Example
/// ```
/// use surprisal::score::mean_tweedie_deviance;
/// let y = [1.0f64, 0.0, 4.0];
/// let mu = [0.5, 2.0, 3.0];
/// // sklearn.metrics.mean_tweedie_deviance(y, mu, power=1.5), evaluated in mpmath
/// let d = mean_tweedie_deviance(&y, &mu, 1.5, None).unwrap();
/// assert!((d - 2.1026477203468239648).abs() < 1e-14);
/// assert!(mean_tweedie_deviance(&y, &mu, 0.5, None).is_err());
/// assert!(mean_tweedie_deviance(&y, &[0.5, 0.0, 3.0], 1.5, None).is_err());
/// ```
pub fn mean_tweedie_deviance<F: Real>(
    target: &[F],
    prediction: &[F],
    power: F,
    sample_weight: Option<&[F]>,
) -> Result<F> {
    let mut acc = MeanTweedieDeviance::new(power)?;
    acc.update(target, prediction, sample_weight)?;
    acc.finish()
}

/// Mean Poisson deviance 2·Σ wᵢ·(yᵢ·log(yᵢ/μᵢ) − yᵢ + μᵢ) / Σ wᵢ (power 1; y ≥ 0, μ > 0).
///
/// # Errors
/// As [`mean_tweedie_deviance`].
///
/// Reference: `sklearn.metrics.mean_poisson_deviance`.
///
/// # Example
/// ```
/// use surprisal::score::mean_poisson_deviance;
/// // sklearn.metrics.mean_poisson_deviance([1, 0, 4], [0.5, 2, 3]), evaluated in mpmath
/// let d = mean_poisson_deviance(&[1.0f64, 0.0, 4.0], &[0.5, 2.0, 3.0], None).unwrap();
/// assert!((d - 1.5625836469113791981).abs() < 1e-14);
/// ```
pub fn mean_poisson_deviance<F: Real>(
    target: &[F],
    prediction: &[F],
    sample_weight: Option<&[F]>,
) -> Result<F> {
    let mut acc = MeanTweedieDeviance::poisson();
    acc.update(target, prediction, sample_weight)?;
    acc.finish()
}

/// Mean Gamma deviance 2·Σ wᵢ·(log(μᵢ/yᵢ) + yᵢ/μᵢ − 1) / Σ wᵢ (power 2; y > 0, μ > 0).
///
/// # Errors
/// As [`mean_tweedie_deviance`].
///
/// Reference: `sklearn.metrics.mean_gamma_deviance`.
///
/// # Example
/// ```
/// use surprisal::score::mean_gamma_deviance;
/// // sklearn.metrics.mean_gamma_deviance([1, 0.5, 4], [0.5, 2, 3]), evaluated in mpmath
/// let d = mean_gamma_deviance(&[1.0f64, 0.5, 4.0], &[0.5, 2.0, 3.0], None).unwrap();
/// assert!((d - 0.65919896096099842753).abs() < 1e-14);
/// ```
pub fn mean_gamma_deviance<F: Real>(
    target: &[F],
    prediction: &[F],
    sample_weight: Option<&[F]>,
) -> Result<F> {
    let mut acc = MeanTweedieDeviance::gamma();
    acc.update(target, prediction, sample_weight)?;
    acc.finish()
}

/// The streamed null-model deviance Σ wᵢ·d_p(yᵢ, ȳ).
#[derive(Clone, Debug, PartialEq)]
struct NullDeviance<F> {
    moments: WeightedMoments<F>,
    /// p ≥ 0: the Bregman-merged deviance about the running mean. p < 0: Σ wᵢ·max(yᵢ,0)^{2−p}.
    acc: F,
}

impl<F: Real> NullDeviance<F> {
    fn new() -> Self {
        Self { moments: WeightedMoments::new(), acc: F::zero() }
    }

    /// d_p(m, c), exactly 0 at m = c (also where the formula is 0·∞, e.g. m = c = 0).
    #[inline]
    fn gap(m: F, c: F, p: F) -> F {
        if m == c { F::zero() } else { unit_deviance(m, c, p) }
    }

    fn push(&mut self, w: F, y: F, p: F) {
        if w == F::zero() {
            return;
        }
        if p < F::zero() {
            self.acc = self.acc + w * y.max(F::zero()).powf(F::lit(2.0) - p);
            self.moments.push(w, y);
            return;
        }
        let (w_old, m_old) = (self.moments.weight, self.moments.mean);
        self.moments.push(w, y);
        let m = self.moments.mean;
        if w_old > F::zero() {
            self.acc = self.acc + w_old * Self::gap(m_old, m, p);
        }
        self.acc = self.acc + w * Self::gap(y, m, p);
    }

    fn merge(&mut self, other: &Self, p: F) {
        if p < F::zero() {
            self.acc = self.acc + other.acc;
            self.moments.merge(&other.moments);
            return;
        }
        if other.moments.weight == F::zero() {
            return;
        }
        if self.moments.weight == F::zero() {
            *self = other.clone();
            return;
        }
        let (wa, ma) = (self.moments.weight, self.moments.mean);
        let (wb, mb) = (other.moments.weight, other.moments.mean);
        self.moments.merge(&other.moments);
        let m = self.moments.mean;
        self.acc = self.acc + other.acc + wa * Self::gap(ma, m, p) + wb * Self::gap(mb, m, p);
    }

    /// Σ wᵢ·d_p(yᵢ, ȳ).
    fn total(&self, p: F) -> Result<F> {
        if p >= F::zero() {
            return Ok(self.acc);
        }
        let (one, two) = (F::one(), F::lit(2.0));
        let (w, m) = (self.moments.weight, self.moments.mean);
        if m <= F::zero() {
            return Err(Error::InvalidValue {
                name: "target mean",
                value: m.to_f64_lossy(),
                index: None,
                reason: "the null model's prediction (the weighted mean target) must be > 0 for power < 0",
            });
        }
        // 2·Σ wᵢ·max(yᵢ,0)^{2−p}/((1−p)(2−p)) − 2·W·ȳ^{2−p}/((1−p)(2−p))
        let k = (one - p) * (two - p);
        Ok(two * (self.acc - w * m.powf(two - p)) / k)
    }
}

/// Streaming D² Tweedie score (see [`d2_tweedie_score`]); O(1) memory.
#[derive(Clone, Debug, PartialEq)]
pub struct D2TweedieScore<F> {
    model: MeanTweedieDeviance<F>,
    null: NullDeviance<F>,
}

impl<F: Real> D2TweedieScore<F> {
    /// An empty accumulator for Tweedie power `power`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a power in (0, 1) or not finite.
    pub fn new(power: F) -> Result<Self> {
        Ok(Self { model: MeanTweedieDeviance::new(power)?, null: NullDeviance::new() })
    }

    /// Adds a batch of rows.
    ///
    /// # Errors
    /// As [`MeanTweedieDeviance::update`].
    pub fn update(&mut self, target: &[F], prediction: &[F], sample_weight: Option<&[F]>) -> Result<()> {
        self.model.update(target, prediction, sample_weight)?;
        for (i, &y) in target.iter().enumerate() {
            self.null.push(weight_at(sample_weight, i), y, self.model.power);
        }
        Ok(())
    }
}

impl<F: Real> Accumulator for D2TweedieScore<F> {
    type Output = F;
    fn merge(&mut self, other: &Self) -> Result<()> {
        self.model.merge(&other.model)?;
        self.null.merge(&other.null, self.model.power);
        Ok(())
    }
    fn finish(&self) -> Result<F> {
        let mean = &self.model.mean;
        nonempty(mean.rows, mean.weight)?;
        if mean.rows < 2 {
            return Err(too_few_rows("D² Tweedie score"));
        }
        Ok(F::one() - mean.total / self.null.total(self.model.power)?)
    }
}

/// D² Tweedie score 1 − Σ wᵢ·d_p(yᵢ, μᵢ) / Σ wᵢ·d_p(yᵢ, ȳ): one batch through
/// [`D2TweedieScore`].
///
/// The fraction of the deviance of the intercept-only GLM (μ = ȳ, the maximum-likelihood
/// constant for every p) that the model explains; p = 0 gives R².
///
/// # Errors
/// As [`mean_tweedie_deviance`]; [`Error::Numerical`] for a single row; for p < 0,
/// [`Error::InvalidValue`] when ȳ ≤ 0 (outside the prediction domain).
///
/// Reference: `sklearn.metrics.d2_tweedie_score`.
///
/// # Example
/// ```
/// use surprisal::score::d2_tweedie_score;
/// let y = [1.0f64, 0.0, 4.0];
/// let mu = [0.5, 2.0, 3.0];
/// // sklearn.metrics.d2_tweedie_score(y, mu, power=1), evaluated in mpmath
/// let d2 = d2_tweedie_score(&y, &mu, 1.0, None).unwrap();
/// assert!((d2 - 0.21637017140865245967).abs() < 1e-14);
/// ```
pub fn d2_tweedie_score<F: Real>(
    target: &[F],
    prediction: &[F],
    power: F,
    sample_weight: Option<&[F]>,
) -> Result<F> {
    let mut acc = D2TweedieScore::new(power)?;
    acc.update(target, prediction, sample_weight)?;
    acc.finish()
}

#[cfg(test)]
mod tests {
    use super::super::regression::testing::*;
    use super::*;
    use crate::testing::Rng;

    const POWERS: [f64; 8] = [-1.5, -1.0, 0.0, 1.0, 1.3, 2.0, 3.0, 4.5];

    fn data(rng: &mut Rng, n: usize, p: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let y: Vec<f64> = (0..n)
            .map(|i| {
                let v = (0.5 * rng.normal()).exp() * 3.0;
                if (1.0..2.0).contains(&p) && i % 4 == 0 {
                    0.0
                } else if p <= 0.0 && i % 9 == 0 {
                    -v
                } else {
                    v
                }
            })
            .collect();
        let mu: Vec<f64> = y.iter().map(|v| v.abs() * (0.3 * rng.normal()).exp() + 0.1).collect();
        let w: Vec<f64> = (0..n).map(|i| if i % 6 == 1 { 0.0 } else { 0.2 + rng.uniform() }).collect();
        (y, mu, w)
    }

    /// Σ wᵢ·d(yᵢ, ȳ) by two passes, the reference for the streamed null deviance.
    fn two_pass(y: &[f64], w: &[f64], p: f64) -> f64 {
        let sw: f64 = w.iter().sum();
        let m = y.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / sw;
        y.iter().zip(w).map(|(&a, &b)| if b == 0.0 { 0.0 } else { b * unit_deviance(a, m, p) }).sum()
    }

    #[test]
    fn shards_merge_to_one_pass_and_match_two_passes() {
        let mut rng = Rng(31);
        for p in POWERS {
            let (y, mu, w) = data(&mut rng, 120, p);
            let n = |r: &mut Rng| 2 + r.below(119);
            let mk = || MeanTweedieDeviance::new(p).unwrap();
            check_merge(12, mk, n, |a, s, e| a.update(&y[s..e], &mu[s..e], Some(&w[s..e])).unwrap(), 1e-12);
            let mk = || D2TweedieScore::new(p).unwrap();
            check_merge(13, mk, n, |a, s, e| a.update(&y[s..e], &mu[s..e], Some(&w[s..e])).unwrap(), 1e-12);
            check_merge(14, mk, n, |a, s, e| a.update(&y[s..e], &mu[s..e], None).unwrap(), 1e-12);
            let mut acc = D2TweedieScore::new(p).unwrap();
            acc.update(&y, &mu, Some(&w)).unwrap();
            let want = two_pass(&y, &w, p);
            let got = acc.null.total(p).unwrap();
            assert!((got - want).abs() <= 1e-12 * want, "p {p}: {got} vs {want}");
        }
    }

    #[test]
    fn d2_at_power_zero_is_r2_and_poisson_gamma_are_tweedie() {
        let mut rng = Rng(2);
        let (y, mu, w) = data(&mut rng, 40, 1.5);
        let a = d2_tweedie_score(&y, &mu, 0.0, Some(&w)).unwrap();
        let b = super::super::r2_score(&y, &mu, Some(&w)).unwrap();
        assert!((a - b).abs() < 1e-13);
        let a = mean_poisson_deviance(&y, &mu, Some(&w)).unwrap();
        assert!((a - mean_tweedie_deviance(&y, &mu, 1.0, Some(&w)).unwrap()).abs() < 1e-15);
        let y2: Vec<f64> = y.iter().map(|v| v + 0.5).collect();
        let a = mean_gamma_deviance(&y2, &mu, None).unwrap();
        assert!((a - mean_tweedie_deviance(&y2, &mu, 2.0, None).unwrap()).abs() < 1e-15);
    }

    #[test]
    fn edges_are_typed_errors() {
        assert!(matches!(
            MeanTweedieDeviance::new(0.5f64),
            Err(Error::InvalidParameter { name: "power", .. })
        ));
        assert!(D2TweedieScore::new(f64::INFINITY).is_err());
        let none: [f64; 0] = [];
        assert_eq!(mean_poisson_deviance(&none, &none, None).unwrap_err(), Error::Empty { name: "rows" });
        let e = mean_gamma_deviance(&[1.0f64, 2.0], &[1.0, 1.0], Some(&[0.0, 0.0])).unwrap_err();
        assert_eq!(e, Error::Empty { name: "sample_weight" });
        let mut acc = MeanTweedieDeviance::poisson();
        acc.update(&[1.0f64], &[1.0], None).unwrap();
        let e = acc.update(&[1.0, -1.0], &[1.0, 1.0], None).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "target", index: Some(2), .. }), "{e:?}");
        let e = acc.update(&[1.0, 1.0], &[1.0, f64::NAN], None).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "prediction", index: Some(2), .. }), "{e:?}");
        let e = mean_tweedie_deviance(&[1.0f64, 1.0], &[1.0, -1.0], -1.0, None).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "prediction", index: Some(1), .. }));
        // p = 0 allows any prediction.
        assert_eq!(mean_tweedie_deviance(&[1.0f64], &[-1.0], 0.0, None).unwrap(), 4.0);
        assert!(matches!(d2_tweedie_score(&[1.0f64], &[1.0], 1.0, None), Err(Error::Numerical { .. })));
        let mut a = D2TweedieScore::new(1.0f64).unwrap();
        assert!(a.merge(&D2TweedieScore::new(2.0).unwrap()).is_err());
        // All-zero Poisson targets: null deviance 0, D² = 1 − num/0 as scikit-learn.
        assert_eq!(d2_tweedie_score(&[0.0f64, 0.0], &[1.0, 1.0], 1.0, None).unwrap(), f64::NEG_INFINITY);
        // p < 0 with a non-positive mean target has no null model.
        assert!(d2_tweedie_score(&[-1.0f64, -2.0], &[1.0, 1.0], -1.0, None).is_err());
        let f = d2_tweedie_score(&[1.0f32, 2.0, 4.0], &[1.5, 2.0, 3.0], 1.5, None).unwrap() as f64;
        let g = d2_tweedie_score(&[1.0f64, 2.0, 4.0], &[1.5, 2.0, 3.0], 1.5, None).unwrap();
        assert!((f - g).abs() < 1e-5);
    }
}
