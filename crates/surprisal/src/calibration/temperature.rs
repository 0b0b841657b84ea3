//! Temperature scaling: the one-parameter maximum-likelihood recalibration of a softmax classifier.
//!
//! ```text
//! model     yᵢ ~ Categorical(softmax(zᵢ / T)),  T > 0 one temperature shared by every row
//! NLL       L(T) = (1/N) Σᵢ [logsumexp(zᵢ/T) − zᵢ,yᵢ/T]          (mean Categorical NLL)
//! fit       T̂ = argmin L, by Newton's method in u = log T (s = 1/T = e^{−u}):
//!   dL/ds   = (1/N) Σᵢ Σ_c (pᵢ,c − δ_c,yᵢ)·zᵢ,c                 (the cross-entropy gradient · z)
//!   d²L/ds² = (1/N) Σᵢ Var_{pᵢ}(zᵢ)                             (≥ 0: L is convex in s)
//!   dL/du   = −s·dL/ds
//!   d²L/du² = s·dL/ds + s²·d²L/ds²
//! ```
//!
//! T multiplies nothing but the logits' scale, so the argmax (the accuracy) is unchanged; T > 1
//! softens an over-confident model, T < 1 sharpens an under-confident one (Guo et al. 2017,
//! "On Calibration of Modern Neural Networks").
//!
//! **scikit-learn** 1.8+ (`CalibratedClassifierCV(method="temperature")`, `_TemperatureScaling`)
//! fits the same likelihood in log β = −log T with bounded Brent (log β ∈ [−10, 10], from function
//! values only, so about √ε-accurate in log T); here the minimiser is solved by Newton to the
//! gradient tolerance, unbounded, and a likelihood without a finite minimiser is an error rather
//! than a bound. The recorded case `tests/data/temperature/temperature_case.json` checks the
//! agreement.
//!
//! The value and the gradient with respect to the scaled logits come from
//! [`crate::loss::softmax_cross_entropy()`] (mean reduction, no ignore index); the class
//! probabilities for the Hessian from [`crate::num::softmax`].
//!
//! **Safeguards**: Newton steps in u are capped at |Δu| ≤ 1 (T changes by at most a factor e per
//! step); where d²L/du² ≤ 0 (L is convex in s, not always in u) the step is a unit step downhill;
//! every step backtracks (Armijo, halving, up to 40 times). The fit stops when |dL/du| ≤ `tol`,
//! or when the Newton step is below the rounding of u; anything else within `max_iter` is an
//! [`Error::Numerical`]. Data the model separates perfectly (every label the arg-max with room
//! to spare) have no finite maximiser (L keeps falling as T → 0): that too is reported as an
//! error, never as a silently huge or tiny T.

use super::{Norm, binary_calibration_error, multiclass_calibration_error};
use crate::error::{Error, Result, check};
use crate::loss::{CrossEntropyOptions, softmax_cross_entropy};
use crate::num::{Real, Widen, softmax};
use crate::score::{BrierScale, brier_score, brier_score_binary};

/// Fit quality on the fitting data, before and after recalibration: the log score (the NLL the
/// fit maximises), the Brier score and the expected calibration error.
///
/// ```text
/// nll    (1/W) Σᵢ wᵢ·(−log pᵢ,yᵢ)         exact NLL from the logits (no clipping)
/// brier  scikit-learn's brier_score_loss  Σ_c (1[y = c] − p_c)² (C ≥ 3), (y − p)² (binary)
/// ece    torchmetrics' calibration error, L1 norm, ECE_BINS = 15 equal-width bins:
///        top-label confidence for C classes, P(y = 1) for binary maps (rows, not weights)
/// ```
///
/// Temperature scaling maximises the likelihood only; the Brier score and the ECE are checks
/// that the fit also improved calibration, not objectives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecalibrationReport<F> {
    /// Mean NLL of the labels under the input predictions.
    pub nll_before: F,
    /// Mean NLL of the labels under the recalibrated predictions.
    pub nll_after: F,
    /// Brier score of the input predictions ([`crate::score::brier_score`]).
    pub brier_before: F,
    /// Brier score of the recalibrated predictions.
    pub brier_after: F,
    /// ECE of the input predictions ([`super::multiclass_calibration_error`] or
    /// [`super::binary_calibration_error`], [`ECE_BINS`] bins).
    pub ece_before: F,
    /// ECE of the recalibrated predictions.
    pub ece_after: F,
}

/// Number of equal-width bins of the ECE in a [`RecalibrationReport`] (torchmetrics' default).
pub const ECE_BINS: usize = 15;

impl<F: Real> RecalibrationReport<F> {
    /// The report of a C-class map from the NLLs and the `[N, C]` probabilities before and after.
    pub(crate) fn categorical(
        nll: (F, F),
        probs_before: &[F],
        probs_after: &[F],
        n_classes: usize,
        labels: &[i64],
    ) -> Result<Self> {
        let classes: Vec<i64> = (0..n_classes as i64).collect();
        let brier = |p: &[F]| brier_score(labels, p, n_classes, None, Some(&classes), BrierScale::Auto);
        let ece = |p: &[F]| multiclass_calibration_error(p, n_classes, labels, ECE_BINS, Norm::L1);
        Ok(RecalibrationReport {
            nll_before: nll.0,
            nll_after: nll.1,
            brier_before: brier(probs_before)?,
            brier_after: brier(probs_after)?,
            ece_before: ece(probs_before)?,
            ece_after: ece(probs_after)?,
        })
    }

    /// The report of a binary map from the NLLs and P(y = 1) before and after (Brier weighted).
    pub(crate) fn binary(
        nll: (F, F),
        p_before: &[F],
        p_after: &[F],
        labels: &[i64],
        weight: Option<&[F]>,
    ) -> Result<Self> {
        let y: Vec<F> = labels.iter().map(|&l| F::lit(l as f64)).collect();
        let ece = |p: &[F]| binary_calibration_error(p, &y, ECE_BINS, Norm::L1);
        Ok(RecalibrationReport {
            nll_before: nll.0,
            nll_after: nll.1,
            brier_before: brier_score_binary(labels, p_before, weight)?,
            brier_after: brier_score_binary(labels, p_after, weight)?,
            ece_before: ece(p_before)?,
            ece_after: ece(p_after)?,
        })
    }
}

/// Options of the Newton fit of [`TemperatureScaling`].
#[derive(Clone, Copy, Debug)]
pub struct TemperatureOptions<F> {
    /// Stop when |dL/d log T| ≤ `tol` (L the mean NLL per row). Default √ε/100
    /// (1.5·10⁻¹⁰ in f64, 3.5·10⁻⁶ in f32).
    pub tol: F,
    /// Newton iterations at most (default 100).
    pub max_iter: usize,
}

impl<F: Real> Default for TemperatureOptions<F> {
    fn default() -> Self {
        TemperatureOptions { tol: F::epsilon().sqrt() * F::lit(1e-2), max_iter: 100 }
    }
}

/// A fitted (or given) temperature: logits z ↦ z / T.
///
/// # Example
/// ```
/// use surprisal::calibration::TemperatureScaling;
/// // Two rows, three classes.
/// let logits = [2.0f64, 0.0, -1.0, 0.5, 1.5, 0.0];
/// let fit = TemperatureScaling::fit(&logits, 3, &[1, 1]).unwrap();
/// // mpmath: findroot of d/dT mean(logsumexp(z/T) − z_y/T) from T = 1
/// assert!((fit.temperature() - 4.007801695031226).abs() < 1e-9);
/// assert!(fit.report().unwrap().nll_after <= fit.report().unwrap().nll_before);
/// let scaled = fit.apply(&[3.0, 0.0, 0.0]).unwrap();
/// assert!((scaled[0] - 3.0 / fit.temperature()).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TemperatureScaling<F> {
    temperature: F,
    n_classes: usize,
    iterations: usize,
    report: Option<RecalibrationReport<F>>,
}

impl<F: Real + Widen<F>> TemperatureScaling<F> {
    /// A map with a given temperature (no fit, no report).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `temperature` is finite and > 0;
    /// [`Error::InvalidOption`] for `n_classes` = 0.
    pub fn new(temperature: F, n_classes: usize) -> Result<Self> {
        check::positive("temperature", temperature)?;
        n_rows(0, n_classes)?;
        Ok(TemperatureScaling { temperature, n_classes, iterations: 0, report: None })
    }

    /// Fits T by maximum likelihood with the default [`TemperatureOptions`].
    ///
    /// Shapes: `logits` row-major `[N, C]` (C = `n_classes`), `labels` `[N]` in `0..C`.
    ///
    /// # Errors
    /// [`Error::Empty`] for N = 0; [`Error::ShapeMismatch`] for a logits length not a multiple of
    /// C or labels of another length; [`Error::InvalidOption`] for C < 2;
    /// [`Error::ClassOutOfRange`] for a label outside `0..C`; [`Error::InvalidValue`] for a
    /// non-finite logit (with its flat index); [`Error::Numerical`] when the fit does not converge
    /// (separable data).
    pub fn fit(logits: &[F], n_classes: usize, labels: &[i64]) -> Result<Self> {
        Self::fit_with(logits, n_classes, labels, &TemperatureOptions::default())
    }

    /// [`TemperatureScaling::fit`] with explicit options.
    ///
    /// # Errors
    /// As [`TemperatureScaling::fit`], and [`Error::InvalidParameter`] for a `tol` that is not
    /// finite and > 0.
    pub fn fit_with(
        logits: &[F],
        n_classes: usize,
        labels: &[i64],
        opts: &TemperatureOptions<F>,
    ) -> Result<Self> {
        validate_categorical(logits, n_classes, labels)?;
        check::positive("tol", opts.tol)?;
        finite_optimum(logits, n_classes, labels)?;
        let obj = |u: F| temperature_objective_unchecked(logits, n_classes, labels, u);
        let (u, iterations) = newton_1d(obj, opts)?;
        let temperature = u.exp();
        let nll = (obj(F::zero())?.0, obj(u)?.0);
        let mut fit = TemperatureScaling { temperature, n_classes, iterations, report: None };
        let mut before = logits.to_vec();
        softmax_rows(&mut before, n_classes);
        let after = fit.probabilities(logits)?;
        fit.report = Some(RecalibrationReport::categorical(nll, &before, &after, n_classes, labels)?);
        Ok(fit)
    }

    /// The temperature T.
    pub fn temperature(&self) -> F {
        self.temperature
    }

    /// Newton iterations the fit took (0 for a map built with [`TemperatureScaling::new`]).
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// The fit's report on the fitting data; `None` for a map built with
    /// [`TemperatureScaling::new`].
    pub fn report(&self) -> Option<RecalibrationReport<F>> {
        self.report
    }

    /// Recalibrated logits z / T, row-major `[N, C]` like the input.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a length not a multiple of C.
    pub fn apply(&self, logits: &[F]) -> Result<Vec<F>> {
        n_rows(logits.len(), self.n_classes)?;
        let s = self.temperature.recip();
        Ok(logits.iter().map(|&z| z * s).collect())
    }

    /// Recalibrated probabilities softmax(z / T), row-major `[N, C]`.
    ///
    /// # Errors
    /// As [`TemperatureScaling::apply`].
    pub fn probabilities(&self, logits: &[F]) -> Result<Vec<F>> {
        let mut z = self.apply(logits)?;
        softmax_rows(&mut z, self.n_classes);
        Ok(z)
    }
}

/// The temperature objective at u = log T: `(L, dL/du, d²L/du²)` with L the mean Categorical NLL
/// of softmax(z·e^{−u}) (formulas in the [module documentation](self)).
///
/// # Errors
/// As [`TemperatureScaling::fit`] (validation of the inputs), and [`Error::InvalidParameter`]
/// for a non-finite `log_t`.
///
/// # Example
/// ```
/// use surprisal::calibration::temperature_objective;
/// let (l, g, h) = temperature_objective(&[1.0f64, -1.0], 2, &[0], 0.0).unwrap();
/// // mpmath: L = softplus(−2), dL/du = 2σ(−2), d²L/du² = −2σ(−2) + 4σ(2)σ(−2)
/// assert!((l - 0.12692801104297249).abs() < 1e-15);
/// assert!((g - 0.23840584404423515).abs() < 1e-15);
/// assert!((h - 0.18156849756979096).abs() < 1e-15);
/// ```
pub fn temperature_objective<F: Real + Widen<F>>(
    logits: &[F],
    n_classes: usize,
    labels: &[i64],
    log_t: F,
) -> Result<(F, F, F)> {
    validate_categorical(logits, n_classes, labels)?;
    check::finite("log_t", log_t)?;
    temperature_objective_unchecked(logits, n_classes, labels, log_t)
}

fn temperature_objective_unchecked<F: Real + Widen<F>>(
    logits: &[F],
    c: usize,
    labels: &[i64],
    u: F,
) -> Result<(F, F, F)> {
    let s = (-u).exp();
    let scaled: Vec<F> = logits.iter().map(|&z| z * s).collect();
    let opts = CrossEntropyOptions::default().ignore_index(None);
    let ce = softmax_cross_entropy(&scaled, c, labels, &opts)?;
    // dL/ds = Σ G·z with G = ∂L/∂(s·z) (already divided by N).
    let dl_ds: F = ce.grad.iter().zip(logits).map(|(&g, &z)| g * z).sum();
    // d²L/ds² = (1/N) Σᵢ Var_{pᵢ}(zᵢ), two-pass variance per row.
    let n = labels.len();
    let mut p = vec![F::zero(); c];
    let mut var = F::zero();
    for (row, srow) in logits.chunks_exact(c).zip(scaled.chunks_exact(c)) {
        softmax(srow, &mut p)?;
        let m: F = p.iter().zip(row).map(|(&pc, &z)| pc * z).sum();
        var = var + p.iter().zip(row).map(|(&pc, &z)| pc * (z - m) * (z - m)).sum::<F>();
    }
    let d2l_ds2 = var / F::lit(n as f64);
    Ok((ce.value, -s * dl_ds, s * dl_ds + s * s * d2l_ds2))
}

/// Checks that L has a finite minimiser in s = 1/T > 0 (or is constant). L is convex in s with
/// dL/ds(0) = (1/N) Σᵢ (mean_c zᵢ,c − zᵢ,yᵢ) and slope (1/N) Σᵢ (max_c zᵢ,c − zᵢ,yᵢ) as s → ∞, so
/// the minimiser is finite and positive iff the first is < 0 and the second > 0.
fn finite_optimum<F: Real>(logits: &[F], c: usize, labels: &[i64]) -> Result<()> {
    let (mut slope0, mut slope_inf, mut constant) = (F::zero(), F::zero(), true);
    let inv_c = F::lit(c as f64).recip();
    for (row, &y) in logits.chunks_exact(c).zip(labels) {
        let zy = row[y as usize];
        let max = row.iter().copied().fold(F::neg_infinity(), F::max);
        let min = row.iter().copied().fold(F::infinity(), F::min);
        constant &= max == min;
        slope0 = slope0 + (row.iter().copied().sum::<F>() * inv_c - zy);
        slope_inf = slope_inf + (max - zy);
    }
    if constant {
        return Ok(()); // L does not depend on T; the fit stays at T = 1.
    }
    if slope_inf <= F::zero() {
        return Err(Error::Numerical {
            what: "temperature scaling",
            reason: "every label is its row's arg-max (separable data): the NLL falls toward its \
                     infimum as T → 0, there is no finite temperature"
                .into(),
        });
    }
    if slope0 >= F::zero() {
        return Err(Error::Numerical {
            what: "temperature scaling",
            reason: format!(
                "the labels' logits are not above their row means on average (Σ(mean − z_y)/N = \
                 {}): the NLL is lowest as T → ∞, there is no finite temperature",
                slope0.to_f64_lossy() / (labels.len() as f64)
            ),
        });
    }
    Ok(())
}

/// Safeguarded Newton minimisation of a smooth function of one variable from 0; returns the
/// minimiser and the iterations used.
fn newton_1d<F: Real>(
    obj: impl Fn(F) -> Result<(F, F, F)>,
    opts: &TemperatureOptions<F>,
) -> Result<(F, usize)> {
    let mut u = F::zero();
    let (mut l, mut g, mut h) = obj(u)?;
    for it in 0..opts.max_iter {
        if g.abs() <= opts.tol {
            return Ok((u, it));
        }
        let newton = h > F::zero();
        let step = if newton { -g / h } else { -g.signum() };
        let step = step.max(-F::one()).min(F::one());
        if newton && step.abs() <= F::epsilon() * (F::one() + u.abs()) {
            // The Newton step is below the rounding of u: converged to working precision.
            return Ok((u, it));
        }
        let mut alpha = F::one();
        let mut accepted = false;
        for _ in 0..40 {
            let u_new = u + alpha * step;
            let (l_new, g_new, h_new) = obj(u_new)?;
            // Armijo sufficient decrease (NaN compares false and backtracks).
            // Within rounding of the minimum (predicted decrease below the rounding of L) the
            // Newton step is taken whole: comparing values there is noise.
            let tiny = newton && (g * step).abs() <= F::lit(16.0) * F::epsilon() * (F::one() + l.abs());
            if (tiny && alpha == F::one() && l_new.is_finite())
                || l_new <= l + F::lit(1e-4) * alpha * g * step
            {
                (u, l, g, h) = (u_new, l_new, g_new, h_new);
                accepted = true;
                break;
            }
            alpha = alpha * F::lit(0.5);
        }
        if !accepted {
            // No decrease is representable: accept only if the Newton step is at noise level.
            if newton && (g / h).abs() <= F::epsilon().sqrt() * (F::one() + u.abs()) {
                return Ok((u, it));
            }
            return Err(Error::Numerical {
                what: "temperature scaling (Newton in log T)",
                reason: format!(
                    "line search found no decrease at log T = {}, dL/dlogT = {}",
                    u.to_f64_lossy(),
                    g.to_f64_lossy()
                ),
            });
        }
    }
    if g.abs() <= opts.tol {
        return Ok((u, opts.max_iter));
    }
    Err(Error::Numerical {
        what: "temperature scaling (Newton in log T)",
        reason: format!(
            "no convergence in {} iterations: log T = {}, dL/dlogT = {} (separable data have no \
             finite temperature)",
            opts.max_iter,
            u.to_f64_lossy(),
            g.to_f64_lossy()
        ),
    })
}

/// Validates `[N, C]` logits (finite, N ≥ 1, C ≥ 2) and labels in `0..C`.
pub(crate) fn validate_categorical<F: Real>(logits: &[F], n_classes: usize, labels: &[i64]) -> Result<usize> {
    let n = n_rows(logits.len(), n_classes)?;
    if n_classes < 2 {
        return Err(Error::InvalidOption {
            name: "n_classes",
            value: n_classes.to_string(),
            reason: "recalibration needs at least two classes",
        });
    }
    if n == 0 {
        return Err(Error::Empty { name: "logits" });
    }
    check::same_len("labels", n, labels.len())?;
    if let Some(j) = logits.iter().position(|z| !z.is_finite()) {
        return Err(Error::InvalidValue {
            name: "logits",
            value: logits[j].to_f64_lossy(),
            index: Some(j),
            reason: "must be finite",
        });
    }
    for (i, &y) in labels.iter().enumerate() {
        if y < 0 || y as u64 >= n_classes as u64 {
            return Err(Error::ClassOutOfRange { row: i, value: y, n_classes });
        }
    }
    Ok(n)
}

/// Number of rows of row-major `[N, C]` logits of length `len`.
pub(crate) fn n_rows(len: usize, n_classes: usize) -> Result<usize> {
    if n_classes == 0 {
        return Err(Error::InvalidOption {
            name: "n_classes",
            value: "0".into(),
            reason: "a categorical model needs at least one class",
        });
    }
    if !len.is_multiple_of(n_classes) {
        return Err(Error::shape("logits", &[len.div_ceil(n_classes), n_classes], &[len]));
    }
    Ok(len / n_classes)
}

/// Row-wise softmax in place (rows of `c` entries).
pub(crate) fn softmax_rows<F: Real>(z: &mut [F], c: usize) {
    let mut p = vec![F::zero(); c];
    for row in z.chunks_exact_mut(c) {
        // Lengths agree by construction.
        let _ = softmax(row, &mut p);
        row.copy_from_slice(&p);
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Seeded over-confident data for the recalibration tests.

    use crate::testing::Rng;

    /// N rows of a C-class model: true logits ~ N(0, σ²) per entry, labels drawn from their
    /// softmax, returned logits multiplied by `inflate` (an over-confident model for inflate > 1).
    pub fn overconfident(n: usize, c: usize, sigma: f64, inflate: f64, seed: u64) -> (Vec<f64>, Vec<i64>) {
        let mut rng = Rng(seed);
        let mut logits = Vec::with_capacity(n * c);
        let mut labels = Vec::with_capacity(n);
        let mut p = vec![0.0; c];
        for _ in 0..n {
            let z: Vec<f64> = (0..c).map(|_| sigma * rng.normal()).collect();
            crate::num::softmax(&z, &mut p).unwrap();
            labels.push(rng.categorical(&p) as i64);
            logits.extend(z.iter().map(|v| v * inflate));
        }
        (logits, labels)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::loss::testing::central_diff;

    #[test]
    fn recovers_temperature_three_within_sampling_error() {
        let (n, c) = (20_000, 4);
        let (logits, labels) = overconfident(n, c, 1.5, 3.0, 7);
        let fit = TemperatureScaling::fit(&logits, c, &labels).unwrap();
        let t = fit.temperature();
        // The standard error of log T̂ is 1/√(N·I), I the Fisher information per row in u = log T,
        // estimated by the observed information d²L/du² at the optimum.
        let (_, g, h) = temperature_objective(&logits, c, &labels, t.ln()).unwrap();
        assert!(g.abs() <= 1e-9);
        let se = 1.0 / (n as f64 * h).sqrt();
        assert!(se < 0.02, "se = {se}: sample too small for the check to mean anything");
        assert!((t.ln() - 3f64.ln()).abs() <= 4.0 * se, "T = {t}, se(log T) = {se}");
        let r = fit.report().unwrap();
        assert!(r.nll_after < r.nll_before);
        // Calibration follows: the over-confident model's ECE is cut to the level of binning noise.
        assert!(r.ece_before > 0.1, "{r:?}");
        assert!(r.ece_after < 0.02 && r.ece_after < r.ece_before / 5.0, "{r:?}");
        assert!(r.brier_after < r.brier_before, "{r:?}");
        // The scaled logits are exactly z / T.
        let z = fit.apply(&logits[..c]).unwrap();
        for k in 0..c {
            assert_eq!(z[k], logits[k] / t);
        }
    }

    #[test]
    fn matches_recorded_scikit_learn_temperature() {
        // scikit-learn's `_TemperatureScaling` (bounded Brent on log β = −log T, from function
        // values only) is within about √(2ε·L/L'') of the exact minimiser in log T; allow 10×.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/temperature/temperature_case.json");
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for case in json["cases"].as_array().unwrap() {
            let c = case["n_classes"].as_u64().unwrap() as usize;
            let logits: Vec<f64> =
                case["logits"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            let labels: Vec<i64> =
                case["labels"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
            let t_sk = case["temperature"].as_f64().unwrap();
            let fit = TemperatureScaling::fit(&logits, c, &labels).unwrap();
            let (l, g, h) = temperature_objective(&logits, c, &labels, fit.temperature().ln()).unwrap();
            assert!(g.abs() <= 1e-9);
            let tol = 10.0 * (2.0 * f64::EPSILON * l / h).sqrt();
            let diff = (fit.temperature().ln() - t_sk.ln()).abs();
            assert!(
                diff <= tol,
                "{}: T = {} vs {t_sk} (|Δ log T| = {diff}, tol {tol})",
                case["name"],
                fit.temperature()
            );
        }
    }

    #[test]
    fn objective_derivatives_match_central_differences() {
        let (logits, labels) = overconfident(50, 5, 2.0, 1.7, 11);
        for &u in &[-1.3, -0.2, 0.0, 0.4, 1.9] {
            let (_, g, h) = temperature_objective(&logits, 5, &labels, u).unwrap();
            let l = |v: f64| temperature_objective(&logits, 5, &labels, v).unwrap().0;
            let dl = |v: f64| temperature_objective(&logits, 5, &labels, v).unwrap().1;
            let fd_g = central_diff(l, u);
            let fd_h = central_diff(dl, u);
            assert!((g - fd_g).abs() <= 1e-8 * fd_g.abs().max(1.0), "u = {u}: {g} vs {fd_g}");
            assert!((h - fd_h).abs() <= 1e-8 * fd_h.abs().max(1.0), "u = {u}: {h} vs {fd_h}");
        }
    }

    #[test]
    fn underconfident_model_gets_temperature_below_one() {
        let (logits, labels) = overconfident(5000, 3, 2.0, 0.5, 3);
        let fit = TemperatureScaling::fit(&logits, 3, &labels).unwrap();
        assert!(fit.temperature() < 0.6 && fit.temperature() > 0.4, "T = {}", fit.temperature());
    }

    #[test]
    fn f32_agrees_with_f64() {
        let (logits, labels) = overconfident(2000, 4, 1.5, 2.0, 5);
        let l32: Vec<f32> = logits.iter().map(|&v| v as f32).collect();
        let t64 = TemperatureScaling::fit(&logits, 4, &labels).unwrap().temperature();
        let t32 = TemperatureScaling::fit(&l32, 4, &labels).unwrap().temperature();
        assert!(((t32 as f64) - t64).abs() <= 1e-4 * t64, "{t32} vs {t64}");
    }

    #[test]
    fn constant_rows_leave_the_temperature_at_one() {
        // Every row uniform: L does not depend on T, the gradient is 0 at T = 1.
        let fit = TemperatureScaling::fit(&[0.5f64, 0.5, 2.0, 2.0], 2, &[0, 1]).unwrap();
        assert_eq!(fit.temperature(), 1.0);
        assert_eq!(fit.iterations(), 0);
    }

    #[test]
    fn separable_data_is_a_typed_error() {
        // Every label is the arg-max: the likelihood grows without bound as T → 0.
        let err = TemperatureScaling::fit(&[3.0f64, 0.0, 0.0, 2.0], 2, &[0, 1]).unwrap_err();
        assert!(matches!(err, Error::Numerical { .. }), "{err}");
        // Labels against the logits: the best temperature is infinite.
        let err = TemperatureScaling::fit(&[3.0f64, 0.0, 0.0, 2.0, 1.0, 0.0], 2, &[1, 0, 0]).unwrap_err();
        assert!(matches!(err, Error::Numerical { .. }), "{err}");
        // The iteration cap is a typed error too.
        let (logits, labels) = overconfident(100, 3, 2.0, 3.0, 1);
        let opts = TemperatureOptions { tol: 1e-300, max_iter: 1 };
        let err = TemperatureScaling::fit_with(&logits, 3, &labels, &opts).unwrap_err();
        assert!(matches!(err, Error::Numerical { .. }), "{err}");
    }

    #[test]
    fn typed_errors() {
        assert_eq!(TemperatureScaling::<f64>::fit(&[], 3, &[]).unwrap_err(), Error::Empty { name: "logits" });
        assert_eq!(
            TemperatureScaling::fit(&[1.0f64, 0.0, 0.0, 1.0], 2, &[0, 2]).unwrap_err(),
            Error::ClassOutOfRange { row: 1, value: 2, n_classes: 2 }
        );
        assert!(matches!(
            TemperatureScaling::fit(&[1.0f64, 0.0, 0.0, 1.0], 2, &[-1, 0]).unwrap_err(),
            Error::ClassOutOfRange { row: 0, value: -1, .. }
        ));
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let err = TemperatureScaling::fit(&[1.0, 0.0, bad, 1.0], 2, &[0, 1]).unwrap_err();
            assert!(matches!(err, Error::InvalidValue { name: "logits", index: Some(2), .. }), "{err}");
        }
        assert!(matches!(
            TemperatureScaling::fit(&[1.0f64, 0.0, 0.0], 2, &[0]).unwrap_err(),
            Error::ShapeMismatch { .. }
        ));
        assert!(matches!(
            TemperatureScaling::fit(&[1.0f64, 0.0], 2, &[0, 1]).unwrap_err(),
            Error::ShapeMismatch { .. }
        ));
        assert!(matches!(
            TemperatureScaling::fit(&[1.0f64, 2.0], 1, &[0, 0]).unwrap_err(),
            Error::InvalidOption { .. }
        ));
        assert!(matches!(
            TemperatureScaling::<f64>::new(0.0, 2).unwrap_err(),
            Error::InvalidParameter { .. }
        ));
        assert!(matches!(TemperatureScaling::<f64>::new(1.0, 0).unwrap_err(), Error::InvalidOption { .. }));
        let opts = TemperatureOptions { tol: -1.0, max_iter: 10 };
        assert!(TemperatureScaling::fit_with(&[1.0f64, 0.0], 2, &[0], &opts).is_err());
        assert!(temperature_objective(&[1.0f64, 0.0], 2, &[0], f64::NAN).is_err());
    }
}
