//! The continuous ranked probability score (CRPS) of a predictive distribution F at an
//! observation y, in the units of y:
//!
//! ```text
//! CRPS(F, y) = ∫ (F(x) − 1{y ≤ x})² dx = E|X − y| − ½·E|X − X'|,     X, X' ∼ F independent
//! ```
//!
//! It is strictly proper for distributions with a finite mean and reduces to the absolute error
//! when F is a point mass. Closed forms, with z = (y − μ)/scale:
//!
//! ```text
//! Normal(μ, σ)     CRPS = σ·(z·(2Φ(z) − 1) + 2φ(z) − 1/√π)          (Gneiting et al. 2005)
//! Laplace(μ, b)    CRPS = b·(|z| + e^{−|z|} − 3/4)
//! Logistic(μ, s)   CRPS = s·(z − 2·log σ(z) − 1)                     (σ the logistic sigmoid)
//! ```
//!
//! Derivations (t = (x − μ)/scale, z ≥ 0; z < 0 follows by symmetry, z → |z|):
//!
//! ```text
//! Laplace   F = ½eᵗ (t < 0), 1 − ½e⁻ᵗ (t ≥ 0)
//!           ∫_{−∞}^{0} ¼e^{2t} + ∫_{0}^{z} (1 − ½e⁻ᵗ)² + ∫_{z}^{∞} ¼e^{−2t}
//!           = ⅛ + (z − 1 + e⁻ᶻ + ⅛ − ⅛e^{−2z}) + ⅛e^{−2z} = z + e⁻ᶻ − ¾        (times b)
//! Logistic  E|X − y| = s·(z + 2·softplus(−z)),  E|X − X'| = 2s (Gini mean difference)
//!           CRPS = s·(z + 2·softplus(−z) − 1),  2·softplus(−z) = −2·log σ(z)
//! ```
//!
//! Both closed forms (and the Normal one) are checked against quadrature of the integral.
//!
//! Ensembles (properscoring's `crps_ensemble`): F is the empirical distribution of the members
//! xⱼ with weights ωⱼ (normalised per row, equal without weights). The *standard* form uses that
//! distribution as it is; the *fair* form (Ferro 2014) takes E|X − X'| over distinct members,
//! Σ_{j≠k} ωⱼωₖ|xⱼ − xₖ| / (1 − Σ ωⱼ²): with equal weights (m/(m−1) times the pair term) and
//! members drawn independently from a distribution G, it is unbiased for CRPS(G, y), so it does
//! not reward small ensembles. properscoring computes the standard form; both are O(m log m) per row here (sorted members, cumulative weights).
//!
//! Every input must be finite, scales > 0; errors name the row. References:
//! `properscoring.crps_gaussian`, `properscoring.crps_ensemble`, scoringRules' `crps_lapl` and
//! `crps_logis`.

use super::Accumulator;
use super::regression::{WeightedMean, check_rows, weight_at};
use crate::error::{Error, Result};
use crate::num::{Real, log_sigmoid};

/// σ·(z·(2Φ(z) − 1) + 2φ(z) − 1/√π).
#[inline]
fn gaussian<F: Real>(y: F, loc: F, scale: F) -> F {
    let z = (y - loc) / scale;
    let two_cdf_minus_one = (z * F::FRAC_1_SQRT_2()).erf();
    let pdf = (-F::lit(0.5) * z * z).exp() * F::lit(0.398_942_280_401_432_7);
    scale * (z * two_cdf_minus_one + F::lit(2.0) * pdf - F::FRAC_2_SQRT_PI() * F::lit(0.5))
}

/// b·(|z| + e^{−|z|} − 3/4).
#[inline]
fn laplace<F: Real>(y: F, loc: F, scale: F) -> F {
    let a = ((y - loc) / scale).abs();
    scale * (a + (-a).exp() - F::lit(0.75))
}

/// s·(z − 2·log σ(z) − 1).
#[inline]
fn logistic<F: Real>(y: F, loc: F, scale: F) -> F {
    let z = (y - loc) / scale;
    scale * (z - F::lit(2.0) * log_sigmoid(z) - F::one())
}

/// One ensemble row: `buf` holds (xⱼ − y, ωⱼ) with Σ ωⱼ > 0; sorted in place.
fn ensemble_row<F: Real>(buf: &mut [(F, F)], fair: bool) -> F {
    let total = buf.iter().fold(F::zero(), |s, p| s + p.1);
    buf.sort_unstable_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    let (two, one) = (F::lit(2.0), F::one());
    let (mut spread, mut abs_err, mut cum, mut sq) = (F::zero(), F::zero(), F::zero(), F::zero());
    for &(d, w) in buf.iter() {
        let w = w / total;
        cum = cum + w;
        abs_err = abs_err + w * d.abs();
        // Σ_{j,k} ωⱼωₖ|xⱼ − xₖ| = 2·Σₖ ωₖ·xₖ·(2Cₖ − ωₖ − 1) over sorted members.
        spread = spread + w * d * (two * cum - w - one);
        sq = sq + w * w;
    }
    let pairs = two * spread; // E|X − X'| with X' = X allowed
    if fair { abs_err - F::lit(0.5) * pairs / (one - sq) } else { abs_err - F::lit(0.5) * pairs }
}

fn check_scale<F: Real>(offset: usize, scale: &[F]) -> Result<()> {
    match scale.iter().position(|s| *s <= F::zero()) {
        None => Ok(()),
        Some(i) => Err(Error::InvalidParameter {
            name: "scale",
            value: scale[i].to_f64_lossy(),
            index: Some(offset + i),
            reason: "must be finite and > 0",
        }),
    }
}

/// Streaming mean CRPS Σ wᵢ·CRPS(Fᵢ, yᵢ) / Σ wᵢ over rows whose predictive distributions may
/// come from any of the families here (one `update_*` per family).
#[derive(Clone, Debug, PartialEq)]
pub struct Crps<F> {
    mean: WeightedMean<F>,
}

impl<F: Real> Default for Crps<F> {
    fn default() -> Self {
        Self::new()
    }
}

/// The closed-form kernels share one validating batch loop.
type Kernel<F> = fn(F, F, F) -> F;

impl<F: Real> Crps<F> {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self { mean: WeightedMean::new() }
    }

    fn closed_form(
        &mut self,
        k: Kernel<F>,
        target: &[F],
        loc: &[F],
        scale: &[F],
        sample_weight: Option<&[F]>,
        out: Option<&mut Vec<F>>,
    ) -> Result<()> {
        let off = self.mean.rows;
        let n = check_rows(off, &[("target", target), ("loc", loc), ("scale", scale)], sample_weight)?;
        check_scale(off, scale)?;
        let mut out = out;
        for i in 0..n {
            let c = k(target[i], loc[i], scale[i]);
            self.mean.push(weight_at(sample_weight, i), c);
            if let Some(o) = out.as_deref_mut() {
                o.push(c);
            }
        }
        Ok(())
    }

    /// Adds rows with Normal(loc, scale) predictions.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for inputs of other lengths; [`Error::InvalidValue`] naming the row
    /// of a non-finite target, loc or scale; [`Error::InvalidParameter`] for a scale ≤ 0 or a
    /// negative weight. The accumulator is unchanged on error.
    pub fn update_gaussian(
        &mut self,
        target: &[F],
        loc: &[F],
        scale: &[F],
        sample_weight: Option<&[F]>,
    ) -> Result<()> {
        self.closed_form(gaussian, target, loc, scale, sample_weight, None)
    }

    /// Adds rows with Laplace(loc, scale) predictions. Errors as [`Crps::update_gaussian`].
    ///
    /// # Errors
    /// As [`Crps::update_gaussian`].
    pub fn update_laplace(
        &mut self,
        target: &[F],
        loc: &[F],
        scale: &[F],
        sample_weight: Option<&[F]>,
    ) -> Result<()> {
        self.closed_form(laplace, target, loc, scale, sample_weight, None)
    }

    /// Adds rows with Logistic(loc, scale) predictions.
    ///
    /// # Errors
    /// As [`Crps::update_gaussian`].
    pub fn update_logistic(
        &mut self,
        target: &[F],
        loc: &[F],
        scale: &[F],
        sample_weight: Option<&[F]>,
    ) -> Result<()> {
        self.closed_form(logistic, target, loc, scale, sample_weight, None)
    }

    fn ensemble(
        &mut self,
        target: &[F],
        ensemble: &[F],
        member_weights: Option<&[F]>,
        fair: bool,
        sample_weight: Option<&[F]>,
        mut out: Option<&mut Vec<F>>,
    ) -> Result<()> {
        let off = self.mean.rows;
        let n = check_rows(off, &[("target", target)], sample_weight)?;
        if n == 0 {
            return Ok(());
        }
        if ensemble.is_empty() || !ensemble.len().is_multiple_of(n) {
            return Err(Error::shape("ensemble", &[n, ensemble.len().div_ceil(n).max(1)], &[ensemble.len()]));
        }
        let m = ensemble.len() / n;
        if fair && m < 2 {
            return Err(Error::InvalidOption {
                name: "fair",
                value: "true".into(),
                reason: "the fair CRPS needs at least two members",
            });
        }
        if let Some(i) = ensemble.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidValue {
                name: "ensemble",
                value: ensemble[i].to_f64_lossy(),
                index: Some(off + i / m),
                reason: "must be finite",
            });
        }
        if let Some(mw) = member_weights {
            check_rows(off, &[("member_weights", mw)], None).map_err(|e| match e {
                Error::InvalidValue { name, value, index: Some(i), reason } => {
                    Error::InvalidValue { name, value, index: Some(off + (i - off) / m), reason }
                }
                other => other,
            })?;
            if mw.len() != ensemble.len() {
                return Err(Error::shape("member_weights", &[n, m], &[mw.len()]));
            }
            for r in 0..n {
                let row = &mw[r * m..(r + 1) * m];
                if let Some(j) = row.iter().position(|w| *w < F::zero()) {
                    return Err(Error::InvalidEntry {
                        name: "member_weights",
                        value: row[j].to_f64_lossy(),
                        row: off + r,
                        col: Some(j),
                        reason: "must be >= 0",
                    });
                }
                let total = row.iter().fold(F::zero(), |s, w| s + *w);
                if total <= F::zero()
                    || (fair
                        && F::one() - row.iter().fold(F::zero(), |s, w| s + *w * *w) / (total * total)
                            <= F::zero())
                {
                    return Err(Error::InvalidParameter {
                        name: "member_weights",
                        value: total.to_f64_lossy(),
                        index: Some(off + r),
                        reason: "this row's weights sum to that; they must sum to > 0 (and weigh two \
                                 members or more, for the fair form)",
                    });
                }
            }
        }
        let mut buf = vec![(F::zero(), F::zero()); m];
        for i in 0..n {
            for (j, b) in buf.iter_mut().enumerate() {
                *b = (ensemble[i * m + j] - target[i], member_weights.map_or(F::one(), |w| w[i * m + j]));
            }
            let c = ensemble_row(&mut buf, fair);
            self.mean.push(weight_at(sample_weight, i), c);
            if let Some(o) = out.as_deref_mut() {
                o.push(c);
            }
        }
        Ok(())
    }

    /// Adds rows with ensemble predictions: `ensemble` is row-major n × m (m members per row),
    /// `member_weights` (optional) has the same shape; `fair` selects the fair form.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `ensemble` is not n × m; [`Error::InvalidValue`] naming the
    /// row of a non-finite target or member; [`Error::InvalidParameter`] for member weights that
    /// are negative or sum to 0 in a row; [`Error::InvalidOption`] for the fair form with one
    /// member.
    pub fn update_ensemble(
        &mut self,
        target: &[F],
        ensemble: &[F],
        member_weights: Option<&[F]>,
        fair: bool,
        sample_weight: Option<&[F]>,
    ) -> Result<()> {
        self.ensemble(target, ensemble, member_weights, fair, sample_weight, None)
    }
}

impl<F: Real> Accumulator for Crps<F> {
    type Output = F;
    fn merge(&mut self, other: &Self) -> Result<()> {
        self.mean.merge(&other.mean);
        Ok(())
    }
    fn finish(&self) -> Result<F> {
        self.mean.finish()
    }
}

/// CRPS of Normal(loc, scale) predictions, one value per row (properscoring's `crps_gaussian`).
///
/// ```text
/// CRPS = σ·(z·(2Φ(z) − 1) + 2φ(z) − 1/√π),   z = (y − μ)/σ
/// ```
///
/// Shapes: `target`, `loc`, `scale` of length n; returns n values. For the (weighted) mean over
/// rows, use [`Crps::update_gaussian`].
///
/// # Errors
/// As [`Crps::update_gaussian`].
///
/// # Example
/// ```
/// use surprisal::score::crps_gaussian;
/// // mpmath: quadrature of ∫ (Φ((x − 0.3)/1.7) − 1{2.1 ≤ x})² dx
/// let c = crps_gaussian(&[2.1f64], &[0.3], &[1.7]).unwrap();
/// assert!((c[0] - 1.0938147149790086532).abs() < 1e-15);
/// ```
pub fn crps_gaussian<F: Real>(target: &[F], loc: &[F], scale: &[F]) -> Result<Vec<F>> {
    let mut out = Vec::with_capacity(target.len());
    Crps::new().closed_form(gaussian, target, loc, scale, None, Some(&mut out))?;
    Ok(out)
}

/// CRPS of Laplace(loc, scale) predictions, one value per row: b·(|z| + e^{−|z|} − 3/4).
///
/// # Errors
/// As [`Crps::update_gaussian`].
///
/// # Example
/// ```
/// use surprisal::score::crps_laplace;
/// // mpmath: quadrature of the CRPS integral for Laplace(0.3, 1.7) at y = 2.1
/// let c = crps_laplace(&[2.1f64], &[0.3], &[1.7]).unwrap();
/// assert!((c[0] - 1.1146681969367169664).abs() < 1e-15);
/// ```
pub fn crps_laplace<F: Real>(target: &[F], loc: &[F], scale: &[F]) -> Result<Vec<F>> {
    let mut out = Vec::with_capacity(target.len());
    Crps::new().closed_form(laplace, target, loc, scale, None, Some(&mut out))?;
    Ok(out)
}

/// CRPS of Logistic(loc, scale) predictions, one value per row: s·(z − 2·log σ(z) − 1).
///
/// # Errors
/// As [`Crps::update_gaussian`].
///
/// # Example
/// ```
/// use surprisal::score::crps_logistic;
/// // mpmath: quadrature of the CRPS integral for Logistic(0.3, 1.7) at y = 2.1
/// let c = crps_logistic(&[2.1f64], &[0.3], &[1.7]).unwrap();
/// assert!((c[0] - 1.1124474570516522311).abs() < 1e-15);
/// ```
pub fn crps_logistic<F: Real>(target: &[F], loc: &[F], scale: &[F]) -> Result<Vec<F>> {
    let mut out = Vec::with_capacity(target.len());
    Crps::new().closed_form(logistic, target, loc, scale, None, Some(&mut out))?;
    Ok(out)
}

/// CRPS of ensemble predictions, one value per row (properscoring's `crps_ensemble` for
/// `fair = false`).
///
/// ```text
/// standard  CRPS = Σⱼ ωⱼ|xⱼ − y| − ½·Σⱼ Σₖ ωⱼωₖ|xⱼ − xₖ|
/// fair      CRPS = Σⱼ ωⱼ|xⱼ − y| − ½·Σ_{j≠k} ωⱼωₖ|xⱼ − xₖ| / (1 − Σⱼ ωⱼ²)
/// ```
///
/// Shapes: `target` n, `ensemble` row-major n × m, `member_weights` n × m (normalised per row).
///
/// # Errors
/// As [`Crps::update_ensemble`].
///
/// # Example
/// ```
/// use surprisal::score::crps_ensemble;
/// // members {0, 1, 3}, y = ½: E|X − y| = 7/6, E|X − X'| = 4/3 (all pairs) or 2 (distinct)
/// let c = crps_ensemble(&[0.5f64], &[0.0, 1.0, 3.0], None, false).unwrap();
/// assert!((c[0] - 0.5).abs() < 1e-15);
/// let fair = crps_ensemble(&[0.5f64], &[0.0, 1.0, 3.0], None, true).unwrap();
/// assert!((fair[0] - 1.0 / 6.0).abs() < 1e-15);
/// ```
pub fn crps_ensemble<F: Real>(
    target: &[F],
    ensemble: &[F],
    member_weights: Option<&[F]>,
    fair: bool,
) -> Result<Vec<F>> {
    let mut out = Vec::with_capacity(target.len());
    Crps::new().ensemble(target, ensemble, member_weights, fair, None, Some(&mut out))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::regression::testing::*;
    use super::*;
    use crate::testing::Rng;

    /// ∫ (F(x) − 1{y ≤ x})² dx by composite Simpson on [y − 60s, y] and [y, y + 60s], each split
    /// at `kink` (the loc, where the Laplace density has a corner) when it falls inside.
    fn crps_quadrature(cdf: impl Fn(f64) -> f64, y: f64, s: f64, kink: f64) -> f64 {
        let simpson = |a: f64, b: f64, f: &dyn Fn(f64) -> f64| {
            let n = 20000;
            let h = (b - a) / n as f64;
            let mut t = f(a) + f(b);
            for i in 1..n {
                t += if i % 2 == 1 { 4.0 } else { 2.0 } * f(a + i as f64 * h);
            }
            t * h / 3.0
        };
        let split = |a: f64, b: f64, f: &dyn Fn(f64) -> f64| {
            if a < kink && kink < b { simpson(a, kink, f) + simpson(kink, b, f) } else { simpson(a, b, f) }
        };
        let lo = |x: f64| cdf(x).powi(2);
        let hi = |x: f64| (1.0 - cdf(x)).powi(2);
        split(y - 60.0 * s, y, &lo) + split(y, y + 60.0 * s, &hi)
    }

    #[test]
    fn closed_forms_match_quadrature() {
        let normal_cdf = |x: f64, m: f64, s: f64| 0.5 * libm::erfc(-(x - m) / s / std::f64::consts::SQRT_2);
        let laplace_cdf = |x: f64, m: f64, b: f64| {
            if x < m { 0.5 * ((x - m) / b).exp() } else { 1.0 - 0.5 * (-(x - m) / b).exp() }
        };
        let logistic_cdf = |x: f64, m: f64, s: f64| 1.0 / (1.0 + (-(x - m) / s).exp());
        for &(y, m, s) in &[(2.1, 0.3, 1.7), (-3.0, 0.5, 0.4), (0.2, 0.2, 2.0), (10.0, -1.0, 3.0)] {
            let q = crps_quadrature(|x| normal_cdf(x, m, s), y, s, m);
            assert!(
                (crps_gaussian(&[y], &[m], &[s]).unwrap()[0] - q).abs() < 1e-10 * q,
                "normal {y} {m} {s}"
            );
            let q = crps_quadrature(|x| laplace_cdf(x, m, s), y, s, m);
            assert!(
                (crps_laplace(&[y], &[m], &[s]).unwrap()[0] - q).abs() < 1e-10 * q,
                "laplace {y} {m} {s}"
            );
            let q = crps_quadrature(|x| logistic_cdf(x, m, s), y, s, m);
            assert!(
                (crps_logistic(&[y], &[m], &[s]).unwrap()[0] - q).abs() < 1e-10 * q,
                "logistic {y} {m} {s}"
            );
        }
    }

    #[test]
    fn ensemble_matches_the_pairwise_definition_and_the_step_function_integral() {
        let mut rng = Rng(41);
        for _ in 0..30 {
            let m = 1 + rng.below(9);
            let y = rng.normal() * 2.0;
            let x: Vec<f64> = (0..m).map(|_| rng.normal() * 2.0).collect();
            let w: Vec<f64> = (0..m).map(|_| rng.uniform() + 0.05).collect();
            let sw: f64 = w.iter().sum();
            let e1: f64 = x.iter().zip(&w).map(|(a, b)| b * (a - y).abs()).sum::<f64>() / sw;
            let mut e2 = 0.0;
            let mut off = 0.0;
            for j in 0..m {
                for k in 0..m {
                    e2 += w[j] * w[k] * (x[j] - x[k]).abs() / (sw * sw);
                    if j != k {
                        off += w[j] * w[k] / (sw * sw);
                    }
                }
            }
            let std = crps_ensemble(&[y], &x, Some(&w), false).unwrap()[0];
            assert!((std - (e1 - 0.5 * e2)).abs() < 1e-13, "{std} vs {}", e1 - 0.5 * e2);
            // The empirical CDF's integral gives the standard form too.
            let cdf = |t: f64| x.iter().zip(&w).filter(|(a, _)| **a <= t).map(|(_, b)| b).sum::<f64>() / sw;
            let lo = x.iter().chain([&y]).fold(f64::INFINITY, |a, b| a.min(*b)) - 1.0;
            let hi = x.iter().chain([&y]).fold(f64::NEG_INFINITY, |a, b| a.max(*b)) + 1.0;
            let mut pts: Vec<f64> = x.iter().copied().chain([y, lo, hi]).collect();
            pts.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let exact: f64 = pts
                .windows(2)
                .map(|p| {
                    let mid = 0.5 * (p[0] + p[1]);
                    let h = if y <= mid { 1.0 } else { 0.0 };
                    (cdf(mid) - h).powi(2) * (p[1] - p[0])
                })
                .sum();
            assert!((std - exact).abs() < 1e-12, "{std} vs integral {exact}");
            if m >= 2 {
                let fair = crps_ensemble(&[y], &x, Some(&w), true).unwrap()[0];
                assert!((fair - (e1 - 0.5 * e2 / off)).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn shards_merge_to_one_pass() {
        let mut rng = Rng(42);
        let n = 90;
        let y: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let loc: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let scale: Vec<f64> = (0..n).map(|_| 0.2 + rng.uniform()).collect();
        let w: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let ens: Vec<f64> = (0..n * 4).map(|_| rng.normal()).collect();
        let rows = |r: &mut Rng| 1 + r.below(n);
        check_merge(
            15,
            Crps::new,
            rows,
            |a, s, e| {
                a.update_gaussian(&y[s..e], &loc[s..e], &scale[s..e], Some(&w[s..e])).unwrap();
                a.update_laplace(&y[s..e], &loc[s..e], &scale[s..e], None).unwrap();
                a.update_logistic(&y[s..e], &loc[s..e], &scale[s..e], Some(&w[s..e])).unwrap();
                a.update_ensemble(&y[s..e], &ens[4 * s..4 * e], None, true, Some(&w[s..e])).unwrap();
            },
            1e-12,
        );
    }

    /// Mean CRPS of predictions over seeded draws from the truth.
    fn mean_crps(ys: &[f64], k: Kernel<f64>, loc: f64, scale: f64) -> f64 {
        let mut a = Crps::new();
        let n = ys.len();
        a.closed_form(k, ys, &vec![loc; n], &vec![scale; n], None, None).unwrap();
        a.finish().unwrap()
    }

    #[test]
    fn crps_is_proper_by_monte_carlo() {
        let mut rng = Rng(7);
        let n = 40000;
        let (m, s) = (0.4, 1.3);
        // Draws from each family by inverting its CDF.
        let u: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let normal: Vec<f64> = (0..n).map(|_| m + s * rng.normal()).collect();
        let laplace_ys: Vec<f64> = u
            .iter()
            .map(|&p| if p < 0.5 { m + s * (2.0 * p).ln() } else { m - s * (2.0 - 2.0 * p).ln() })
            .collect();
        let logistic_ys: Vec<f64> = u.iter().map(|&p| m + s * (p / (1.0 - p)).ln()).collect();
        for (ys, k) in [(&normal, gaussian as Kernel<f64>), (&laplace_ys, laplace), (&logistic_ys, logistic)]
        {
            let truth = mean_crps(ys, k, m, s);
            for (dm, ds) in [(0.2, 1.0), (-0.2, 1.0), (0.0, 1.25), (0.0, 0.8)] {
                let other = mean_crps(ys, k, m + dm, s * ds);
                assert!(truth < other, "{truth} !< {other} at shift {dm}, scale factor {ds}");
            }
        }
        // An ensemble drawn from the truth beats a shifted one, in both forms.
        let ens: Vec<f64> = (0..n * 8).map(|_| m + s * rng.normal()).collect();
        let shifted: Vec<f64> = ens.iter().map(|v| v + 0.3).collect();
        for fair in [false, true] {
            let a: f64 = crps_ensemble(&normal, &ens, None, fair).unwrap().iter().sum();
            let b: f64 = crps_ensemble(&normal, &shifted, None, fair).unwrap().iter().sum();
            assert!(a < b);
        }
    }

    #[test]
    fn edges_are_typed_errors() {
        let none: [f64; 0] = [];
        assert_eq!(Crps::<f64>::new().finish().unwrap_err(), Error::Empty { name: "rows" });
        assert!(crps_gaussian(&none, &none, &none).unwrap().is_empty());
        let e = crps_gaussian(&[1.0f64, 2.0], &[0.0, 0.0], &[1.0, 0.0]).unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { name: "scale", index: Some(1), .. }));
        let e = crps_laplace(&[1.0f64, f64::NAN], &[0.0, 0.0], &[1.0, 1.0]).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "target", index: Some(1), .. }));
        let e = crps_ensemble(&[1.0f64, 2.0], &[0.0, 1.0, f64::NAN, 2.0], None, false).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "ensemble", index: Some(1), .. }), "{e:?}");
        assert!(matches!(
            crps_ensemble(&[1.0f64, 2.0], &[0.0, 1.0, 2.0], None, false),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(crps_ensemble(&[1.0f64], &[0.0], None, true), Err(Error::InvalidOption { .. })));
        let e = crps_ensemble(&[1.0f64], &[0.0, 1.0], Some(&[0.0, 0.0]), false).unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { name: "member_weights", index: Some(0), .. }));
        // A negative weight is named with its row and member, not through its row's sum.
        let e = crps_ensemble(&[1.0f64, 2.0], &[0.0, 1.0, 2.0, 3.0], Some(&[1.0, 1.0, 2.0, -0.5]), false);
        let want = Error::InvalidEntry {
            name: "member_weights",
            row: 1,
            col: Some(1),
            value: -0.5,
            reason: "must be >= 0",
        };
        assert_eq!(e.unwrap_err(), want);
        // A one-member ensemble is the absolute error; a point-like Normal approaches it too.
        assert_eq!(crps_ensemble(&[1.0f64], &[3.5], None, false).unwrap()[0], 2.5);
        assert!((crps_gaussian(&[1.0f64], &[3.5], &[1e-9]).unwrap()[0] - 2.5).abs() < 1e-8);
        // Far tails: finite and ≈ |y − μ| − scale·const.
        let c = crps_logistic(&[1e6f64], &[0.0], &[1.0]).unwrap()[0];
        assert!((c - (1e6 - 1.0)).abs() < 1e-6);
        let c32 = crps_gaussian(&[2.1f32], &[0.3], &[1.7]).unwrap()[0] as f64;
        assert!((c32 - 1.093_814_714_979_008_7).abs() < 1e-6);
    }
}
