//! Generalized linear models fitted by maximum likelihood, with statsmodels' (0.15 `GLM`)
//! conventions for the start, the dispersion, the log-likelihood and the information criteria.
//!
//! Model: yᵢ has an exponential-dispersion distribution ([`GlmFamily`]) with mean μᵢ, variance
//! φ V(μᵢ)/wᵢ (wᵢ the prior or variance weights), and g(μᵢ) = ηᵢ = xᵢᵀβ + oᵢ ([`Link`], offset o,
//! exposure e meaning o = log e).
//!
//! ```text
//! objective      f(β) = ½ Σᵢ wᵢ d(yᵢ, μᵢ) + ½ λ Σ_{j ≠ intercept} βⱼ²        (NLL at φ = 1 up to a constant)
//! gradient       ∇f = −Xᵀ r + λβ,     rᵢ = wᵢ (yᵢ − μᵢ) μ'ᵢ / V(μᵢ),   μ' = dμ/dη
//! Fisher         I = Xᵀ W X + λ,      Wᵢ = wᵢ μ'ᵢ² / V(μᵢ)
//! Newton/IRLS    β ← β + t I⁻¹(Xᵀr − λβ)     (= the weighted least squares of z = η − o + (y − μ)/μ' on X)
//! start          μ⁰ = (y + ȳ)/2 ((y + ½)/2 for binomial), β⁰ = the WLS step from η⁰ = g(μ⁰)
//! deviance       D = Σ wᵢ d(yᵢ, μᵢ)                     (d: the unit deviance of the family)
//! Pearson χ²     Σ wᵢ (yᵢ − μᵢ)² / V(μᵢ)
//! dispersion     φ = 1 (bernoulli, binomial, poisson, negative_binomial), else χ² / (n − p)
//! covariance     φ I⁻¹ at β̂;  z = β̂/se,  P>|z| = 2Φ(−|z|),  95% CI β̂ ± 1.959964·se
//! log-lik        Σ ℓ(yᵢ; μᵢ, wᵢ, φ) (statsmodels' `loglike_obs`; gaussian with identity link
//!                uses the concentrated φ = Σ wᵢ(yᵢ − μᵢ)²/n)
//! AIC            −2 llf + 2k;   BIC (statsmodels' default `bic`) = D − (n − p) log n;
//!                BIC_llf = −2 llf + k log n;   k = p (+1 when α of the negative binomial is estimated)
//! ```
//!
//! The Newton engine ([`crate::fit::newton()`]) runs on centred and scaled columns (an exact
//! reparametrisation, undone on the results), which keeps ill-conditioned designs such as Longley's
//! accurate; each iteration reads X once in a fused, multi-threaded pass (value, gradient and Fisher
//! information together).
//!
//! Log-likelihood conventions (statsmodels 0.15, see [`GlmFamily`] for every formula): binomial
//! proportions with trials as variance weights give Σ wᵢ[y log μ + (1 − y) log(1 − μ) − …] (the
//! Bernoulli form scaled by w, not the binomial pmf of w·y successes); the Tweedie log-likelihood is
//! the exact density for 1 < p < 2 (a Wright–Bessel series, as statsmodels with SciPy's
//! `wright_bessel`), and NaN for other powers (statsmodels returns NaN there too unless asked for
//! its extended quasi-likelihood); gamma, inverse Gaussian and Tweedie use the Pearson dispersion.
//! statsmodels' `bic` is still the deviance form (with a FutureWarning); the log-likelihood form is
//! [`GlmResult::bic_llf`].
//!
//! Computation is in f64 (the [`Objective`] trait's type); X is row-major n × p and is never
//! copied. The pass splits the rows into at most 4 × (rayon threads) fixed blocks summed in order:
//! the same inputs and thread count give bit-identical results (and AVX2 + FMA kernels are chosen
//! at run time where the CPU has them).
//!
//! The L2 penalty leaves the intercept column unpenalised; with λ > 0 the standard errors come
//! from the penalised information (I + λ)⁻¹·φ. The negative binomial's α, when not given, is the
//! maximiser of the profile log-likelihood llf(α, β̂(α)) over log α ∈ [log 1e-8, log 1e4]
//! (golden-section search, an inner IRLS warm-started at each α).
//!
//! # Example
//! ```
//! use surprisal::fit::glm::{Glm, GlmFamily};
//! // Poisson regression with an intercept: y = counts, x = dose.
//! let x = [1.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0, 3.0];
//! let y = [1.0, 2.0, 4.0, 7.0];
//! let fit = Glm::new(GlmFamily::Poisson).intercept(0).fit(&x, 2, &y).unwrap();
//! assert!(fit.converged);
//! // Independent reference (mpmath, solving the two score equations Σ(y − μ) = 0 and
//! // Σ x(y − μ) = 0 to 30 digits): β = (0.06331967049814064, 0.63409807863786235),
//! // deviance 0.018654048477888724.
//! assert!((fit.coef[0] - 0.063_319_670_498_140_64).abs() < 1e-10);
//! assert!((fit.coef[1] - 0.634_098_078_637_862_4).abs() < 1e-10);
//! assert!((fit.deviance - 0.018_654_048_477_888_724).abs() < 1e-12);
//! ```

mod family;
mod pass;
mod result;

pub use family::GlmFamily;
pub use result::GlmResult;

use crate::error::{Error, Result};
use crate::fit::newton::{NewtonOptions, newton};
use crate::fit::{Objective, Report};
use crate::link::Link;
use crate::num::linalg::{cholesky, cholesky_inverse, cholesky_solve};
use crate::num::xlogy;
use pass::{Design, pass};

/// The default Newton settings: the gradient tolerance is relative to ½D (≈ n), and a full step
/// that changes ½D by at most 1e-13 of itself (the rounding level of a sum of n terms) counts as
/// converged; Fisher scoring with a non-canonical link converges linearly, and at that level the
/// deviance can no longer show progress.
pub const DEFAULT_OPTIONS: NewtonOptions =
    NewtonOptions { max_iter: 100, gtol: 1e-9, ftol: 1e-13, max_halvings: 60 };

/// A GLM specification: family, link, intercept column, penalty, weights, offset and exposure.
/// Build it with [`Glm::new`] and the setters, then call [`Glm::fit`].
#[derive(Clone, Debug)]
pub struct Glm<'a> {
    family: GlmFamily,
    link: Option<Link>,
    intercept: Option<usize>,
    l2: f64,
    weights: Option<&'a [f64]>,
    offset: Option<&'a [f64]>,
    exposure: Option<&'a [f64]>,
    options: NewtonOptions,
}

impl<'a> Glm<'a> {
    /// A GLM of `family` with its default link, no intercept column declared, no penalty.
    pub fn new(family: GlmFamily) -> Self {
        Glm {
            family,
            link: None,
            intercept: None,
            l2: 0.0,
            weights: None,
            offset: None,
            exposure: None,
            options: DEFAULT_OPTIONS,
        }
    }

    /// Sets the link (default: [`GlmFamily::default_link`]).
    pub fn link(mut self, link: Link) -> Self {
        self.link = Some(link);
        self
    }

    /// Declares column `j` of X as the intercept (a constant, non-zero column): it is not
    /// penalised, the other columns are centred during the fit.
    pub fn intercept(mut self, j: usize) -> Self {
        self.intercept = Some(j);
        self
    }

    /// Declares that X has no intercept column (the default).
    pub fn no_intercept(mut self) -> Self {
        self.intercept = None;
        self
    }

    /// L2 penalty λ ≥ 0 on every coefficient but the intercept: f + ½λ Σ βⱼ².
    pub fn l2(mut self, lambda: f64) -> Self {
        self.l2 = lambda;
        self
    }

    /// Prior (variance) weights wᵢ ≥ 0: Var(yᵢ) = φ V(μᵢ)/wᵢ (for binomial proportions, the trials).
    pub fn weights(mut self, w: &'a [f64]) -> Self {
        self.weights = Some(w);
        self
    }

    /// Offset oᵢ added to the linear predictor.
    pub fn offset(mut self, o: &'a [f64]) -> Self {
        self.offset = Some(o);
        self
    }

    /// Exposure eᵢ > 0, equivalent to an offset log eᵢ (added to any offset).
    pub fn exposure(mut self, e: &'a [f64]) -> Self {
        self.exposure = Some(e);
        self
    }

    /// Newton settings (iterations, tolerances).
    pub fn options(mut self, options: NewtonOptions) -> Self {
        self.options = options;
        self
    }

    /// Fits the model to the row-major design `x` (n × p, `x.len() = n·p`) and response `y` (n).
    ///
    /// # Errors
    /// - [`Error::ShapeMismatch`] when lengths disagree, [`Error::Empty`] for n = 0 or p = 0;
    /// - [`Error::InvalidEntry`] naming the row and column of a non-finite X, or of an intercept
    ///   column that is not constant and non-zero;
    /// - [`Error::InvalidValue`] naming the row of a y outside the family's support, of a negative
    ///   or non-finite weight, of a non-finite offset, of a non-positive exposure;
    /// - [`Error::InvalidOption`] for a link the family does not accept, an intercept index ≥ p;
    /// - [`Error::InvalidParameter`] for λ < 0, a bad tweedie power or α;
    /// - [`Error::Numerical`] when fewer rows have a positive weight than X has columns (and
    ///   λ = 0), when the columns of X are collinear (naming the column), or when the start is
    ///   outside the link's domain.
    pub fn fit(&self, x: &[f64], p: usize, y: &[f64]) -> Result<GlmResult> {
        let n = y.len();
        if n == 0 {
            return Err(Error::Empty { name: "y" });
        }
        if p == 0 {
            return Err(Error::Empty { name: "X columns" });
        }
        if x.len() != n * p {
            return Err(Error::shape("X", &[n, p], &[x.len() / p, p]));
        }
        let fam = self.family;
        fam.validate()?;
        let link = self.link.unwrap_or(fam.default_link());
        if !fam.links().contains(&link) {
            return Err(Error::InvalidOption {
                name: "link",
                value: format!("{} (family {})", link.name(), fam.name()),
                reason: "this link is not available for the family",
            });
        }
        if !(self.l2 >= 0.0 && self.l2.is_finite()) {
            return Err(Error::param("l2", self.l2, "must be finite and >= 0"));
        }
        if let Some(j) = self.intercept
            && j >= p
        {
            return Err(Error::InvalidOption {
                name: "intercept",
                value: j.to_string(),
                reason: "the intercept column index must be < p",
            });
        }
        for (i, &yi) in y.iter().enumerate() {
            if let Err(reason) = fam.check_y(yi) {
                return Err(Error::InvalidValue { name: "y", value: yi, index: Some(i), reason });
            }
        }
        if let Some(w) = self.weights {
            crate::error::check::same_len("weights", n, w.len())?;
            if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(Error::InvalidValue {
                    name: "weights",
                    value: w[i],
                    index: Some(i),
                    reason: "must be finite and >= 0",
                });
            }
        }
        let used = self.weights.map_or(n, |w| w.iter().filter(|v| **v > 0.0).count());
        if used == 0 || (used < p && self.l2 == 0.0) {
            return Err(Error::Numerical {
                what: "GLM fit",
                reason: format!(
                    "{used} of {n} rows have a positive weight, fewer than the {p} coefficients they \
                     would determine (add rows, drop columns or set an L2 penalty)"
                ),
            });
        }
        let offset = combined_offset(n, self.offset, self.exposure)?;
        let design = prepare(x, n, p, self.intercept)?;
        let data = Data { y, w: self.weights, off: offset.as_deref(), fam, link };
        let pen = penalty(&design, self.intercept, self.l2);

        let (alpha, alpha_estimated, (gamma, report, hess)) = match fam {
            GlmFamily::NegativeBinomial { alpha: None } => {
                let (alpha, fitted) = profile_alpha(&design, &data, &pen, &self.options)?;
                (alpha, true, fitted)
            }
            GlmFamily::NegativeBinomial { alpha: Some(a) } => {
                (a, false, irls(&design, &data, a, &pen, &self.options, None)?)
            }
            _ => (0.0, false, irls(&design, &data, 0.0, &pen, &self.options, None)?),
        };
        result::assemble(&design, &data, alpha, alpha_estimated, &gamma, &pen, report, hess, self.intercept)
    }
}

/// The response side of the model.
pub(crate) struct Data<'a> {
    pub y: &'a [f64],
    pub w: Option<&'a [f64]>,
    pub off: Option<&'a [f64]>,
    pub fam: GlmFamily,
    pub link: Link,
}

impl Data<'_> {
    #[inline]
    pub fn weight(&self, i: usize) -> f64 {
        self.w.map_or(1.0, |w| w[i])
    }
    #[inline]
    pub fn offset(&self, i: usize) -> f64 {
        self.off.map_or(0.0, |o| o[i])
    }
}

fn combined_offset(n: usize, offset: Option<&[f64]>, exposure: Option<&[f64]>) -> Result<Option<Vec<f64>>> {
    if offset.is_none() && exposure.is_none() {
        return Ok(None);
    }
    let mut o = vec![0.0; n];
    if let Some(off) = offset {
        crate::error::check::same_len("offset", n, off.len())?;
        for (i, (d, &v)) in o.iter_mut().zip(off).enumerate() {
            if !v.is_finite() {
                return Err(Error::InvalidValue {
                    name: "offset",
                    value: v,
                    index: Some(i),
                    reason: "must be finite",
                });
            }
            *d = v;
        }
    }
    if let Some(e) = exposure {
        crate::error::check::same_len("exposure", n, e.len())?;
        for (i, (d, &v)) in o.iter_mut().zip(e).enumerate() {
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::InvalidValue {
                    name: "exposure",
                    value: v,
                    index: Some(i),
                    reason: "must be finite and > 0",
                });
            }
            *d += v.ln();
        }
    }
    Ok(Some(o))
}

/// Scans X once (in parallel) for non-finite entries and the column statistics, and builds the
/// centring and scaling: the intercept column becomes 1, the others (x − mean)/sd when there is an
/// intercept, x/rms otherwise.
fn prepare<'a>(x: &'a [f64], n: usize, p: usize, intercept: Option<usize>) -> Result<Design<'a>> {
    use rayon::prelude::*;
    const BLOCK: usize = 4096;
    struct Stats {
        sum: Vec<f64>,
        sumsq: Vec<f64>,
        bad: Option<(usize, usize, f64)>,
    }
    // Shifted sums (by the first row) keep the variance accurate for columns like years.
    let shift: Vec<f64> = x[..p].to_vec();
    let parts: Vec<Stats> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let mut s = Stats { sum: vec![0.0; p], sumsq: vec![0.0; p], bad: None };
            for i in b * BLOCK..((b + 1) * BLOCK).min(n) {
                let xi = &x[i * p..(i + 1) * p];
                for j in 0..p {
                    let v = xi[j];
                    if !v.is_finite() && s.bad.is_none() {
                        s.bad = Some((i, j, v));
                    }
                    let d = v - shift[j];
                    s.sum[j] += d;
                    s.sumsq[j] += d * d;
                }
            }
            s
        })
        .collect();
    let mut sum = vec![0.0; p];
    let mut sumsq = vec![0.0; p];
    for s in &parts {
        if let Some((row, col, value)) = s.bad {
            return Err(Error::InvalidEntry {
                name: "X",
                row,
                col: Some(col),
                value,
                reason: "must be finite",
            });
        }
        for j in 0..p {
            sum[j] += s.sum[j];
            sumsq[j] += s.sumsq[j];
        }
    }
    let nf = n as f64;
    let mut center = vec![0.0; p];
    let mut scale = vec![1.0; p];
    for j in 0..p {
        let mean_d = sum[j] / nf;
        let var = (sumsq[j] / nf - mean_d * mean_d).max(0.0);
        let mean = shift[j] + mean_d;
        if Some(j) == intercept {
            if var > 0.0 || shift[j] == 0.0 {
                let row = (0..n).find(|&i| x[i * p + j] != shift[j]).unwrap_or(0);
                return Err(Error::InvalidEntry {
                    name: "X",
                    row,
                    col: Some(j),
                    value: x[row * p + j],
                    reason: "the intercept column must be constant and non-zero",
                });
            }
            scale[j] = 1.0 / shift[j];
        } else if intercept.is_some() {
            center[j] = mean;
            // A constant column beside the intercept is collinear with it; leave the scale at 1
            // and let the collinearity check name it.
            scale[j] = if var > 0.0 { 1.0 / var.sqrt() } else { 1.0 };
        } else {
            let rms = (var + mean * mean).sqrt();
            scale[j] = if rms > 0.0 { 1.0 / rms } else { 1.0 };
        }
    }
    Ok(Design { x, n, p, center, scale, intercept })
}

/// The diagonal penalty in the scaled coordinates: λ/sⱼ⁻² = λ sⱼ² for βⱼ = sⱼγⱼ (non-intercept).
fn penalty(d: &Design, intercept: Option<usize>, l2: f64) -> Vec<f64> {
    (0..d.p).map(|j| if Some(j) == intercept { 0.0 } else { l2 * d.scale[j] * d.scale[j] }).collect()
}

/// The IRLS objective in the scaled coordinates γ, caching the Fisher information of the last
/// evaluated point so that each Newton iteration reads X once.
pub(crate) struct GlmObjective<'a> {
    pub design: &'a Design<'a>,
    pub data: &'a Data<'a>,
    pub alpha: f64,
    pub pen: &'a [f64],
    /// Σ w c(y), the part of ½D free of μ on the canonical fast paths (0 otherwise).
    constant: f64,
    cached_at: Vec<f64>,
    cached_h: Vec<f64>,
}

impl<'a> GlmObjective<'a> {
    pub fn new(design: &'a Design<'a>, data: &'a Data<'a>, alpha: f64, pen: &'a [f64]) -> Self {
        let constant = match (data.fam, data.link) {
            (GlmFamily::Poisson, Link::Log) => pass::par_sum(data.y.len(), |i| {
                let y = data.y[i];
                data.weight(i) * (xlogy(y, y) - y)
            }),
            (GlmFamily::Bernoulli | GlmFamily::Binomial, Link::Logit) => pass::par_sum(data.y.len(), |i| {
                let y = data.y[i];
                data.weight(i) * (xlogy(y, y) + xlogy(1.0 - y, 1.0 - y))
            }),
            (GlmFamily::Gaussian, Link::Identity) => {
                pass::par_sum(data.y.len(), |i| 0.5 * data.weight(i) * data.y[i] * data.y[i])
            }
            _ => 0.0,
        };
        GlmObjective { design, data, alpha, pen, constant, cached_at: Vec::new(), cached_h: Vec::new() }
    }

    /// The Fisher information cached at γ, if γ was the last point evaluated.
    pub fn cached_information(&self, gamma: &[f64]) -> Option<Vec<f64>> {
        (self.cached_at.as_slice() == gamma).then(|| self.cached_h.clone())
    }

    /// Value, gradient and Fisher information (with the penalty) at γ.
    pub fn evaluate(&self, gamma: &[f64]) -> pass::Acc {
        let (data, alpha) = (self.data, self.alpha);
        let (fam, link) = (data.fam, data.link);
        let mut acc = match (fam, link) {
            // Canonical links: ½d = c(y) + b(η) − yη, μ' = V(μ), so r = w(μ − y) and W = wV(μ);
            // Σ w c(y) is the constant `self.constant` (no logarithm per row).
            (GlmFamily::Poisson, Link::Log) => pass(self.design, gamma, true, |i, lin| {
                let (w, y, eta) = (data.weight(i), data.y[i], lin + data.offset(i));
                let mu = eta.exp();
                mu.is_finite().then_some((w * (mu - y * eta), w * (mu - y), w * mu))
            }),
            (GlmFamily::Bernoulli | GlmFamily::Binomial, Link::Logit) => {
                pass(self.design, gamma, true, |i, lin| {
                    let (w, y, eta) = (data.weight(i), data.y[i], lin + data.offset(i));
                    let mu = crate::num::sigmoid(eta);
                    let v = w * (crate::num::softplus(eta) - y * eta);
                    v.is_finite().then_some((v, w * (mu - y), w * mu * (1.0 - mu)))
                })
            }
            (GlmFamily::Gaussian, Link::Identity) => pass(self.design, gamma, true, |i, lin| {
                let (w, y, eta) = (data.weight(i), data.y[i], lin + data.offset(i));
                Some((w * (0.5 * eta * eta - y * eta), w * (eta - y), w))
            }),
            _ => pass(self.design, gamma, true, |i, lin| {
                let eta = lin + data.offset(i);
                let (mu, dmu) = link.inverse_deriv(eta);
                if !fam.valid_mu(mu) {
                    return None;
                }
                let w = data.weight(i);
                let y = data.y[i];
                let v = fam.variance(mu, alpha);
                let dev = 0.5 * w * fam.unit_deviance(y, mu, alpha);
                let r = -w * (y - mu) * dmu / v;
                let wt = w * dmu * dmu / v;
                (dev.is_finite() && r.is_finite() && wt.is_finite()).then_some((dev, r, wt))
            }),
        };
        acc.value += self.constant;
        let p = self.design.p;
        for (j, (&l, &g)) in self.pen.iter().zip(gamma).enumerate() {
            acc.value += 0.5 * l * g * g;
            acc.grad[j] += l * g;
            acc.hess[j * p + j] += l;
        }
        acc
    }
}

impl Objective for GlmObjective<'_> {
    fn dim(&self) -> usize {
        self.design.p
    }

    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let acc = self.evaluate(theta);
        grad.copy_from_slice(&acc.grad);
        self.cached_at = theta.to_vec();
        self.cached_h = acc.hess;
        acc.value
    }

    fn hessian(&mut self, theta: &[f64], hess: &mut [f64]) -> bool {
        if self.cached_at.as_slice() != theta {
            let acc = self.evaluate(theta);
            self.cached_at = theta.to_vec();
            self.cached_h = acc.hess;
        }
        hess.copy_from_slice(&self.cached_h);
        true
    }
}

/// Cholesky of the information, or a typed error naming the first column that is (numerically) a
/// linear combination of the previous ones. The check runs on the correlation form D^{-½}HD^{-½}.
pub(crate) fn factor_information(h: &[f64], p: usize) -> Result<Vec<f64>> {
    let d: Vec<f64> = (0..p).map(|j| h[j * p + j]).collect();
    let mut c = vec![0.0; p * p];
    for a in 0..p {
        for b in 0..p {
            let s = (d[a] * d[b]).sqrt();
            c[a * p + b] = if s > 0.0 { h[a * p + b] / s } else { 0.0 };
        }
    }
    // Cholesky of the correlation form with an explicit pivot threshold.
    let mut l = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..=i {
            let mut s = c[i * p + j];
            for k in 0..j {
                s -= l[i * p + k] * l[j * p + k];
            }
            if i == j {
                if !(s > 1e-11 && d[i] > 0.0 && d[i].is_finite()) {
                    return Err(Error::Numerical {
                        what: "GLM fit",
                        reason: format!(
                            "the columns of X are collinear: column {i} is (numerically) a linear combination \
                             of columns 0..{i} (or zero where the weights are positive)"
                        ),
                    });
                }
                l[i * p + i] = s.sqrt();
            } else {
                l[i * p + j] = s / l[j * p + j];
            }
        }
    }
    cholesky(h, p)
}

/// Inverse of the information (row-major p × p).
pub(crate) fn inverse_information(h: &[f64], p: usize) -> Result<Vec<f64>> {
    Ok(cholesky_inverse(&factor_information(h, p)?, p))
}

/// statsmodels' start (one WLS step from μ⁰) followed by Newton–IRLS; `warm` replaces the start.
pub(crate) fn irls(
    design: &Design,
    data: &Data,
    alpha: f64,
    pen: &[f64],
    opts: &NewtonOptions,
    warm: Option<&[f64]>,
) -> Result<Fitted> {
    let p = design.p;
    // The intercept-only start η = g(Σwy/Σw), for when statsmodels' start leaves the domain of a
    // non-canonical link (log link for a negative Gaussian response, identity for counts, …).
    let intercept_start = |k: usize| {
        let (mut wy, mut ws) = (0.0, 0.0);
        for (i, y) in data.y.iter().enumerate() {
            wy += data.weight(i) * y;
            ws += data.weight(i);
        }
        let mut start = vec![0.0; p];
        start[k] = data.link.link(wy / ws);
        start
    };
    let gamma0 = match (warm, wls_start(design, data, alpha, pen)?, design.intercept) {
        (Some(g), _, _) => g.to_vec(),
        (None, Some(g), _) => g,
        (None, None, Some(k)) => intercept_start(k),
        (None, None, None) => {
            return Err(Error::Numerical {
                what: "GLM fit",
                reason: format!(
                    "the starting mean (y + mean y)/2 is outside the domain of the {} link (declare an \
                     intercept column to start from the intercept-only fit)",
                    data.link.name()
                ),
            });
        }
    };
    let mut obj = GlmObjective::new(design, data, alpha, pen);
    let (mut gamma, mut report) = newton(&mut obj, &gamma0, opts)?;
    if let (crate::fit::Stop::NonFiniteStart, None, Some(k)) = (report.stop, warm, design.intercept) {
        (gamma, report) = newton(&mut obj, &intercept_start(k), opts)?;
    }
    if report.stop == crate::fit::Stop::NonFiniteStart {
        return Err(Error::Numerical {
            what: "GLM fit",
            reason: "the linear predictor of the start is outside the domain of the link or family".into(),
        });
    }
    if report.stop == crate::fit::Stop::IndefiniteHessian {
        let mut h = vec![0.0; p * p];
        obj.hessian(&gamma, &mut h);
        factor_information(&h, p)?;
    }
    let h = obj.cached_information(&gamma);
    Ok((gamma, report, h))
}

/// A fit in the scaled coordinates: γ̂, the optimiser's report, the information cached at γ̂.
type Fitted = (Vec<f64>, Report, Option<Vec<f64>>);

/// statsmodels' start: one weighted least-squares step from μ⁰ = (y + ȳ)/2 ((y + ½)/2 for
/// binomial), or `None` when μ⁰ is outside the link's domain.
fn wls_start(design: &Design, data: &Data, alpha: f64, pen: &[f64]) -> Result<Option<Vec<f64>>> {
    let p = design.p;
    let ybar = data.y.iter().sum::<f64>() / data.y.len() as f64;
    let (fam, link) = (data.fam, data.link);
    let zeros = vec![0.0; p];
    let acc = pass(design, &zeros, true, |i, _| {
        let y = data.y[i];
        let mu = fam.start_mu(y, ybar);
        let eta = link.link(mu);
        let dmu = link.dmu_deta(eta);
        let w = data.weight(i);
        let wt = w * dmu * dmu / fam.variance(mu, alpha);
        let z = eta - data.offset(i) + (y - mu) / dmu;
        (wt.is_finite() && z.is_finite()).then_some((0.0, wt * z, wt))
    });
    if !acc.value.is_finite() {
        return Ok(None);
    }
    let mut h = acc.hess;
    for j in 0..p {
        h[j * p + j] += pen[j];
    }
    let l = factor_information(&h, p)?;
    let mut g = acc.grad;
    cholesky_solve(&l, p, &mut g);
    Ok(Some(g))
}

/// α of the negative binomial by maximising the profile log-likelihood over log α.
fn profile_alpha(design: &Design, data: &Data, pen: &[f64], opts: &NewtonOptions) -> Result<(f64, Fitted)> {
    let mut warm: Option<Vec<f64>> = None;
    let mut eval = |log_a: f64| -> Result<(f64, Fitted)> {
        let a = log_a.exp();
        let fitted = irls(design, data, a, pen, opts, warm.as_deref())?;
        let ll = result::loglike(design, data, a, &fitted.0, 1.0);
        warm = Some(fitted.0.clone());
        Ok((if ll.is_finite() { -ll } else { f64::INFINITY }, fitted))
    };
    let (mut lo, mut hi) = ((1e-8f64).ln(), (1e4f64).ln());
    let ratio = 0.5 * (5f64.sqrt() - 1.0);
    let mut c = hi - ratio * (hi - lo);
    let mut d = lo + ratio * (hi - lo);
    let mut fc = eval(c)?.0;
    let mut fd = eval(d)?.0;
    while hi - lo > 1e-7 {
        if fc <= fd {
            hi = d;
            d = c;
            fd = fc;
            c = hi - ratio * (hi - lo);
            fc = eval(c)?.0;
        } else {
            lo = c;
            c = d;
            fc = fd;
            d = lo + ratio * (hi - lo);
            fd = eval(d)?.0;
        }
    }
    let log_a = 0.5 * (lo + hi);
    let (_, fitted) = eval(log_a)?;
    Ok((log_a.exp(), fitted))
}

#[cfg(test)]
mod tests;
