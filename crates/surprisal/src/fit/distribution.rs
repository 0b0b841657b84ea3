//! Maximum-likelihood fits of the univariate families of [`crate::family`] to a sample.
//!
//! ```text
//! ℓ(θ) = Σᵢ wᵢ log p(xᵢ | θ)          (wᵢ = 1 without weights; frequency weights, W = Σ wᵢ)
//! θ̂ = argmax ℓ(θ)
//! closed forms   normal: μ̂ = x̄, σ̂² = Σ w(x − x̄)²/W      laplace: μ̂ = median, b̂ = mean |x − μ̂|
//!                exponential: λ̂ = 1/x̄      poisson: λ̂ = x̄      bernoulli: η̂ = logit x̄
//!                geometric: p̂ = 1/(1 + x̄)   log_normal: normal on log x   half_normal: σ̂² = mean x²
//!                binomial (n known): η̂ = logit(x̄/n)   inverse_gaussian: μ̂ = x̄, 1/λ̂ = mean(1/x − 1/x̄)
//!                asymmetric_laplace (τ given): μ̂ = τ-quantile, σ̂ = mean ρ_τ(x − μ̂)
//! numerical      gamma, beta, student_t, negative_binomial, weibull, cauchy, logistic, gumbel:
//!                minimise −ℓ/W over u (θ = e^u for positive θ, θ = σ(u) for θ in (0, 1)) with the
//!                analytic Family::log_prob_grad, from the method-of-moments start: L-BFGS, then
//!                Newton (Hessian by central differences of the analytic gradient) to polish
//! standard errors  SE(θ̂ⱼ) = √[(−∇²ℓ(θ̂))⁻¹]ⱼⱼ  (observed information by central differences of
//!                the analytic gradient; Fisher information for laplace / asymmetric_laplace, whose
//!                log density has a kink in the location)
//! AIC = 2k − 2ℓ(θ̂),  BIC = k·log W − 2ℓ(θ̂)   (k estimated parameters)
//! ```
//!
//! Where the maximum sits at a family's limit there is no estimate, and the error says which
//! limit: a negative binomial sample with no overdispersion (the Poisson, total_count → ∞), a
//! Student-t sample whose tails are no heavier than the normal's (ν → ∞; about half of all normal
//! samples). At the other edge the Student-t likelihood with ν free is unbounded (ν → 0 and the
//! scale → 0 at any sample value): the fit finds the local maximum where there is one, and says
//! so where a sample with much of its mass on one value leaves none; the Cauchy likelihood has no
//! maximum where half the sample or more shares one value (the scale → 0 there).
//!
//! Reference: `scipy.stats.<dist>.fit` (same estimates; SciPy has no standard errors).

use super::lbfgs::{LbfgsOptions, lbfgs};
use super::newton::{NewtonOptions, newton};
use super::{Objective, Report, Stop};
use crate::error::{Error, Result, check};
use crate::family::{self, Family};
use crate::num::linalg::{cholesky, cholesky_inverse};
use crate::num::{Real, sigmoid};

/// How a parameter is mapped to the unconstrained scale u of the numerical fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transform {
    /// θ = u (a real parameter).
    Identity,
    /// θ = eᵘ (a positive parameter).
    Log,
    /// θ = σ(u) (a parameter in (0, 1)).
    Logit,
    /// Held at its starting value (a known parameter, e.g. the binomial `total_count`).
    Fixed,
}

impl Transform {
    fn to_u(self, t: f64) -> f64 {
        match self {
            Transform::Identity | Transform::Fixed => t,
            Transform::Log => t.ln(),
            Transform::Logit => (t / (1.0 - t)).ln(),
        }
    }
    fn theta_of(self, u: f64) -> f64 {
        match self {
            Transform::Identity | Transform::Fixed => u,
            Transform::Log => u.exp(),
            Transform::Logit => sigmoid(u),
        }
    }
    /// dθ/du at θ.
    fn jacobian(self, t: f64) -> f64 {
        match self {
            Transform::Identity | Transform::Fixed => 1.0,
            Transform::Log => t,
            Transform::Logit => t * (1.0 - t),
        }
    }
}

/// A fitted family: the maximum-likelihood parameters with their standard errors.
#[derive(Clone, Debug, PartialEq)]
pub struct DistributionFit {
    /// The family's name ([`Family::NAME`]).
    pub family: &'static str,
    /// Parameter names ([`Family::PARAMS`]).
    pub names: &'static [&'static str],
    /// The estimates, in [`Family::PARAMS`] order (known parameters as given).
    pub params: Vec<f64>,
    /// Standard errors in the original parametrisation; 0 for a known (fixed) parameter.
    pub std_errors: Vec<f64>,
    /// ℓ(θ̂) = Σ wᵢ log p(xᵢ | θ̂).
    pub log_likelihood: f64,
    /// 2k − 2ℓ(θ̂), k the number of estimated parameters.
    pub aic: f64,
    /// k·log W − 2ℓ(θ̂), W the total weight (the sample size without weights).
    pub bic: f64,
    /// Number of observations.
    pub n: usize,
    /// How the optimiser stopped (a converged report with 0 iterations for a closed form).
    pub report: Report,
}

impl DistributionFit {
    /// The estimate of the parameter called `name`.
    pub fn param(&self, name: &str) -> Option<f64> {
        self.names.iter().position(|n| *n == name).map(|i| self.params[i])
    }

    /// The standard error of the parameter called `name`.
    pub fn std_error(&self, name: &str) -> Option<f64> {
        self.names.iter().position(|n| *n == name).map(|i| self.std_errors[i])
    }
}

/// Where sample values may lie.
#[derive(Clone, Copy)]
enum Support {
    Real,
    Positive,
    NonNegative,
    OpenUnit,
    Binary,
    Counts,
    UpTo(f64),
}

impl Support {
    fn contains(self, x: f64) -> bool {
        x.is_finite()
            && match self {
                Support::Real => true,
                Support::Positive => x > 0.0,
                Support::NonNegative => x >= 0.0,
                Support::OpenUnit => x > 0.0 && x < 1.0,
                Support::Binary => (0.0..=1.0).contains(&x),
                Support::Counts => x >= 0.0 && x.fract() == 0.0,
                Support::UpTo(n) => x >= 0.0 && x <= n && x.fract() == 0.0,
            }
    }
    fn reason(self) -> &'static str {
        match self {
            Support::Real => "must be finite",
            Support::Positive => "must be finite and > 0",
            Support::NonNegative => "must be finite and >= 0",
            Support::OpenUnit => "must lie in (0, 1)",
            Support::Binary => "must lie in [0, 1]",
            Support::Counts => "must be a non-negative integer",
            Support::UpTo(_) => "must be an integer in 0..=total_count",
        }
    }
}

/// A validated weighted sample.
struct Sample<'a> {
    x: &'a [f64],
    w: Vec<f64>,
    total: f64,
}

impl Sample<'_> {
    fn mean_of(&self, f: impl Fn(f64) -> f64) -> f64 {
        self.x.iter().zip(&self.w).map(|(&x, &w)| w * f(x)).sum::<f64>() / self.total
    }
    fn mean(&self) -> f64 {
        self.mean_of(|x| x)
    }
    fn var(&self) -> f64 {
        let m = self.mean();
        self.mean_of(|x| (x - m) * (x - m))
    }
    /// The lower weighted τ-quantile: the smallest x with cumulative weight ≥ τ·W.
    fn quantile(&self, tau: f64) -> f64 {
        let mut idx: Vec<usize> = (0..self.x.len()).filter(|&i| self.w[i] > 0.0).collect();
        idx.sort_by(|&a, &b| self.x[a].total_cmp(&self.x[b]));
        let mut acc = 0.0;
        for &i in &idx {
            acc += self.w[i];
            if acc >= tau * self.total {
                return self.x[i];
            }
        }
        self.x[idx[idx.len() - 1]]
    }
    fn loglik<D: Family<f64>>(&self, d: &D) -> f64 {
        self.x.iter().zip(&self.w).map(|(&x, &w)| family::xmul(w, d.log_prob(x))).sum()
    }
    /// ∇ℓ(θ) with the analytic per-observation gradient.
    fn score<D: Family<f64>>(&self, d: &D) -> Vec<f64> {
        let p = D::PARAMS.len();
        let (mut total, mut g) = (vec![0.0; p], vec![0.0; p]);
        for (&x, &w) in self.x.iter().zip(&self.w) {
            if w > 0.0 {
                d.log_prob_grad(x, &mut g);
                total.iter_mut().zip(&g).for_each(|(t, gi)| *t += w * gi);
            }
        }
        total
    }
}

fn sample<'a>(x: &'a [f64], weights: Option<&[f64]>, support: Option<Support>) -> Result<Sample<'a>> {
    if x.is_empty() {
        return Err(Error::Empty { name: "sample" });
    }
    check::weights(weights, x.len())?;
    let support = support.unwrap_or(Support::Real);
    if let Some(i) = x.iter().position(|&v| !support.contains(v)) {
        return Err(Error::InvalidValue {
            name: "sample",
            value: x[i],
            index: Some(i),
            reason: support.reason(),
        });
    }
    let w = weights.map_or_else(|| vec![1.0; x.len()], <[f64]>::to_vec);
    let total: f64 = w.iter().sum();
    if total <= 0.0 {
        return Err(degenerate("all weights are 0"));
    }
    Ok(Sample { x, w, total })
}

fn degenerate(reason: &str) -> Error {
    Error::Numerical { what: "maximum-likelihood fit", reason: reason.to_string() }
}

/// For a location-scale fit that failed at (location, scale) = `at`, started from the scale
/// `start`: where the scale has collapsed (below 10⁻⁴ of the start) at a sample value, the error
/// that says the likelihood has no maximum there (`limit` adds the other parameters' limit;
/// `instead` names a family whose likelihood is bounded); `None` otherwise.
fn collapsed(
    s: &Sample,
    family: &str,
    at: (f64, f64),
    start: f64,
    limit: &str,
    instead: &str,
) -> Option<Error> {
    let (loc, scale) = at;
    if scale.is_nan() || scale >= 1e-4 * start {
        return None;
    }
    let nearest = |b: f64, x: f64| if b.is_nan() || (x - loc).abs() < (b - loc).abs() { x } else { b };
    let value = s.x.iter().copied().fold(f64::NAN, nearest);
    let tied: f64 = s.x.iter().zip(&s.w).filter(|&(&x, _)| x == value).map(|(_, &w)| w).sum();
    Some(degenerate(&format!(
        "the {family} likelihood has no maximum: it rises as the scale → 0{limit} at {value}, the \
         value of {tied} of the {} observations (scale {scale:.1e} where the fit stopped); fit \
         the {instead}",
        s.total
    )))
}

/// Fails unless the sample has positive variance (of `f(x)`).
fn spread(s: &Sample, f: impl Fn(f64) -> f64, family: &str) -> Result<()> {
    let m = s.mean_of(&f);
    if s.mean_of(|x| (f(x) - m).powi(2)) > 0.0 {
        Ok(())
    } else {
        Err(degenerate(&format!("all sample values are equal: no variance to fit the {family} scale")))
    }
}

/// Standard errors from the inverse observed information, by central differences of the analytic
/// score in the estimated parameters.
fn observed_std_errors<D: Family<f64>>(
    s: &Sample,
    theta: &[f64],
    transforms: &[Transform],
) -> Result<Vec<f64>> {
    let free: Vec<usize> = (0..theta.len()).filter(|&j| transforms[j] != Transform::Fixed).collect();
    let k = free.len();
    let sd = s.var().sqrt();
    let mut info = vec![0.0; k * k];
    for (b, &j) in free.iter().enumerate() {
        let h = match transforms[j] {
            Transform::Identity => 1e-5 * theta[j].abs().max(if sd > 0.0 { sd } else { 1.0 }),
            Transform::Logit => 1e-5 * theta[j].min(1.0 - theta[j]),
            _ => 1e-5 * theta[j].abs(),
        };
        let (mut tp, mut tm) = (theta.to_vec(), theta.to_vec());
        tp[j] += h;
        tm[j] -= h;
        let gp = s.score(&D::from_params(&tp)?);
        let gm = s.score(&D::from_params(&tm)?);
        for (a, &i) in free.iter().enumerate() {
            info[a * k + b] = -(gp[i] - gm[i]) / (2.0 * h);
        }
    }
    for a in 0..k {
        for b in 0..a {
            let m = 0.5 * (info[a * k + b] + info[b * k + a]);
            info[a * k + b] = m;
            info[b * k + a] = m;
        }
    }
    let l =
        cholesky(&info, k).map_err(|_| degenerate("the observed information is not positive definite"))?;
    let cov = cholesky_inverse(&l, k);
    let mut se = vec![0.0; theta.len()];
    for (a, &j) in free.iter().enumerate() {
        se[j] = cov[a * k + a].sqrt();
    }
    Ok(se)
}

fn finish<D: Family<f64>>(
    s: &Sample,
    theta: Vec<f64>,
    std_errors: Vec<f64>,
    transforms: &[Transform],
    report: Report,
) -> Result<DistributionFit> {
    let d = D::from_params(&theta)?;
    let ll = s.loglik(&d);
    let k = transforms.iter().filter(|t| **t != Transform::Fixed).count() as f64;
    Ok(DistributionFit {
        family: D::NAME,
        names: D::PARAMS,
        params: theta,
        std_errors,
        log_likelihood: ll,
        aic: 2.0 * k - 2.0 * ll,
        bic: k * s.total.ln() - 2.0 * ll,
        n: s.x.len(),
        report,
    })
}

fn closed<D: Family<f64>>(s: &Sample, theta: Vec<f64>, transforms: &[Transform]) -> Result<DistributionFit> {
    let d = D::from_params(&theta)?;
    let g = s.score(&d);
    let report = Report {
        iterations: 0,
        evaluations: 1,
        value: -s.loglik(&d) / s.total,
        grad_norm: g.iter().fold(0.0f64, |m, v| m.max(v.abs())) / s.total,
        objective_change: 0.0,
        stop: Stop::GradientTolerance,
    };
    let se = observed_std_errors::<D>(s, &theta, transforms)?;
    finish::<D>(s, theta, se, transforms, report)
}

/// −ℓ(θ(u))/W over the free parameters u, with the Hessian by central differences of the gradient.
struct Nll<'a, 'b, D> {
    s: &'a Sample<'b>,
    base: Vec<f64>,
    free: Vec<(usize, Transform)>,
    steps: Vec<f64>,
    _family: std::marker::PhantomData<D>,
}

impl<D: Family<f64>> Nll<'_, '_, D> {
    fn theta(&self, u: &[f64]) -> Vec<f64> {
        let mut t = self.base.clone();
        for (&(j, tr), &uj) in self.free.iter().zip(u) {
            t[j] = tr.theta_of(uj);
        }
        t
    }
}

impl<D: Family<f64>> Objective for Nll<'_, '_, D> {
    fn dim(&self) -> usize {
        self.free.len()
    }

    fn value_grad(&mut self, u: &[f64], grad: &mut [f64]) -> f64 {
        let theta = self.theta(u);
        let Ok(d) = D::from_params(&theta) else {
            grad.iter_mut().for_each(|g| *g = f64::NAN);
            return f64::INFINITY;
        };
        let score = self.s.score(&d);
        for (g, &(j, tr)) in grad.iter_mut().zip(&self.free) {
            *g = -score[j] * tr.jacobian(theta[j]) / self.s.total;
        }
        -self.s.loglik(&d) / self.s.total
    }

    fn hessian(&mut self, u: &[f64], hess: &mut [f64]) -> bool {
        let k = u.len();
        let (mut gp, mut gm) = (vec![0.0; k], vec![0.0; k]);
        for b in 0..k {
            let h = self.steps[b] * u[b].abs().max(1.0);
            let (mut up, mut um) = (u.to_vec(), u.to_vec());
            up[b] += h;
            um[b] -= h;
            self.value_grad(&up, &mut gp);
            self.value_grad(&um, &mut gm);
            for a in 0..k {
                hess[a * k + b] = (gp[a] - gm[a]) / (2.0 * h);
            }
        }
        for a in 0..k {
            for b in 0..a {
                let m = 0.5 * (hess[a * k + b] + hess[b * k + a]);
                hess[a * k + b] = m;
                hess[b * k + a] = m;
            }
        }
        hess.iter().all(|v| v.is_finite())
    }
}

/// The numerical maximum-likelihood fit of family `D` from the starting parameters `start`
/// ([`Family::PARAMS`] order), each mapped to an unconstrained scale by its [`Transform`]
/// (`Fixed` parameters keep their start value): L-BFGS, then Newton with the Hessian by central
/// differences of the analytic gradient.
///
/// # Errors
/// [`Error::Empty`] for an empty sample; [`Error::ShapeMismatch`] for `start`, `transforms` or
/// `weights` of the wrong length; [`Error::InvalidParameter`] for a bad weight or start;
/// [`Error::InvalidValue`] naming the first value with log p = −inf at the start (outside the
/// support); [`Error::Numerical`] when the optimiser does not converge or the observed information
/// at the fit is not positive definite.
///
/// # Example
/// ```
/// use surprisal::family::Gamma;
/// use surprisal::fit::distribution::{fit_numerical, Transform};
/// let x = [0.5, 1.2, 2.3, 0.8, 3.1, 1.7];
/// let fit = fit_numerical::<Gamma<f64>>(&x, None, &[1.0, 1.0], &[Transform::Log, Transform::Log]).unwrap();
/// // mpmath findroot on the score equations: log α − ψ(α) = log x̄ − mean log x, β = α / x̄
/// assert!((fit.params[0] - 2.9889934883877551).abs() < 1e-8);
/// assert!((fit.params[1] - 1.868120930242347).abs() < 1e-8);
/// ```
pub fn fit_numerical<D: Family<f64>>(
    x: &[f64],
    weights: Option<&[f64]>,
    start: &[f64],
    transforms: &[Transform],
) -> Result<DistributionFit> {
    let s = sample(x, weights, None)?;
    check::same_len("start", D::PARAMS.len(), start.len())?;
    check::same_len("transforms", D::PARAMS.len(), transforms.len())?;
    let d0 = D::from_params(start)?;
    if let Some(i) = (0..x.len()).find(|&i| {
        s.w[i] > 0.0 && {
            let lp = d0.log_prob(x[i]);
            lp.is_nan() || lp == f64::NEG_INFINITY
        }
    }) {
        return Err(Error::InvalidValue {
            name: "sample",
            value: x[i],
            index: Some(i),
            reason: "outside the support of the family",
        });
    }
    numerical::<D>(&s, start, transforms)
}

fn numerical<D: Family<f64>>(s: &Sample, start: &[f64], transforms: &[Transform]) -> Result<DistributionFit> {
    let (theta, report) = optimise::<D>(s, start, transforms)?;
    converged::<D>(s, theta, report, transforms)
}

/// The numerical fit's last θ and its report, converged or not (see [`numerical`]).
fn optimise<D: Family<f64>>(
    s: &Sample,
    start: &[f64],
    transforms: &[Transform],
) -> Result<(Vec<f64>, Report)> {
    let free: Vec<(usize, Transform)> = transforms
        .iter()
        .enumerate()
        .filter(|(_, t)| **t != Transform::Fixed)
        .map(|(j, t)| (j, *t))
        .collect();
    let u0: Vec<f64> = free.iter().map(|&(j, t)| t.to_u(start[j])).collect();
    let sd = s.var().sqrt();
    let steps = free
        .iter()
        .map(|&(j, t)| match t {
            Transform::Identity => 1e-5 * (start[j].abs().max(if sd > 0.0 { sd } else { 1.0 })).min(1.0),
            _ => 1e-5,
        })
        .collect();
    let mut obj = Nll::<D> { s, base: start.to_vec(), free, steps, _family: std::marker::PhantomData };
    let lopts = LbfgsOptions { gtol: 1e-8, ftol: 1e-14, ..LbfgsOptions::default() };
    let (u1, r1) = lbfgs(&mut obj, &u0, &lopts)?;
    // f is a sum over the sample: its rounding is far above ε·|f|, so a Newton step that changes
    // it by ≤ 10⁻¹² relative is taken as converged (the step itself still polishes θ).
    let nopts = NewtonOptions { ftol: 1e-12, ..NewtonOptions::default() };
    let (u, mut report) = newton(&mut obj, &u1, &nopts)?;
    report.iterations += r1.iterations;
    report.evaluations += r1.evaluations;
    Ok((obj.theta(&u), report))
}

/// The fit at θ with its standard errors, or an error where the optimiser did not converge.
fn converged<D: Family<f64>>(
    s: &Sample,
    theta: Vec<f64>,
    report: Report,
    transforms: &[Transform],
) -> Result<DistributionFit> {
    if !report.converged() {
        return Err(degenerate(&format!(
            "the {} fit did not converge ({:?}, max |gradient| {})",
            D::NAME,
            report.stop,
            report.grad_norm
        )));
    }
    let se = observed_std_errors::<D>(s, &theta, transforms)?;
    finish::<D>(s, theta, se, transforms, report)
}

/// Maximum-likelihood fit of a family from a sample, with optional frequency weights.
pub trait MaximumLikelihood: Family<f64> {
    /// Fits the family to `x` (weights `weights`, default 1): the closed form where one exists,
    /// the numerical fit otherwise (see the [module documentation](self)).
    ///
    /// # Errors
    /// [`Error::Empty`] for an empty sample; [`Error::ShapeMismatch`] / [`Error::InvalidParameter`]
    /// for bad weights; [`Error::InvalidValue`] naming the index of the first value outside the
    /// support; [`Error::Numerical`] for a degenerate sample (all values equal, no variance; all
    /// counts 0; ...) or a fit that does not converge.
    ///
    /// # Example
    /// ```
    /// use surprisal::family::Normal;
    /// use surprisal::fit::MaximumLikelihood;
    /// let fit = Normal::fit(&[1.0, 2.0, 3.0, 4.0], None).unwrap();
    /// // μ̂ = 2.5, σ̂ = √(5/4) (the 1/n variance), SE(μ̂) = σ̂/√n
    /// assert!((fit.param("loc").unwrap() - 2.5).abs() < 1e-15);
    /// assert!((fit.param("scale").unwrap() - 1.118033988749895).abs() < 1e-15);
    /// assert!((fit.std_error("loc").unwrap() - 0.5590169943749475).abs() < 1e-6);
    /// ```
    fn fit(x: &[f64], weights: Option<&[f64]>) -> Result<DistributionFit>;
}

use Transform::{Identity as Id, Log, Logit};

impl MaximumLikelihood for family::Normal<f64> {
    fn fit(x: &[f64], weights: Option<&[f64]>) -> Result<DistributionFit> {
        let s = sample(x, weights, Some(Support::Real))?;
        spread(&s, |x| x, "normal")?;
        closed::<Self>(&s, vec![s.mean(), s.var().sqrt()], &[Id, Log])
    }
}

impl MaximumLikelihood for family::LogNormal<f64> {
    fn fit(x: &[f64], weights: Option<&[f64]>) -> Result<DistributionFit> {
        let s = sample(x, weights, Some(Support::Positive))?;
        spread(&s, f64::ln, "log_normal")?;
        let m = s.mean_of(f64::ln);
        closed::<Self>(&s, vec![m, s.mean_of(|x| (x.ln() - m).powi(2)).sqrt()], &[Id, Log])
    }
}

impl MaximumLikelihood for family::HalfNormal<f64> {
    fn fit(x: &[f64], weights: Option<&[f64]>) -> Result<DistributionFit> {
        let s = sample(x, weights, Some(Support::NonNegative))?;
        let m2 = s.mean_of(|x| x * x);
        if m2 <= 0.0 {
            return Err(degenerate("all sample values are 0: no half_normal scale"));
        }
        closed::<Self>(&s, vec![m2.sqrt()], &[Log])
    }
}

impl MaximumLikelihood for family::Exponential<f64> {
    fn fit(x: &[f64], weights: Option<&[f64]>) -> Result<DistributionFit> {
        let s = sample(x, weights, Some(Support::NonNegative))?;
        let m = s.mean();
        if m <= 0.0 {
            return Err(degenerate("all sample values are 0: the exponential rate is infinite"));
        }
        closed::<Self>(&s, vec![1.0 / m], &[Log])
    }
}

impl MaximumLikelihood for family::Poisson<f64> {
    fn fit(x: &[f64], weights: Option<&[f64]>) -> Result<DistributionFit> {
        let s = sample(x, weights, Some(Support::Counts))?;
        let m = s.mean();
        if m <= 0.0 {
            return Err(degenerate("all counts are 0: the Poisson rate is 0"));
        }
        closed::<Self>(&s, vec![m], &[Log])
    }
}

impl MaximumLikelihood for family::Geometric<f64> {
    fn fit(x: &[f64], weights: Option<&[f64]>) -> Result<DistributionFit> {
        let s = sample(x, weights, Some(Support::Counts))?;
        let m = s.mean();
        if m <= 0.0 {
            return Err(degenerate("all counts are 0: the geometric probability is 1"));
        }
        closed::<Self>(&s, vec![1.0 / (1.0 + m)], &[Logit])
    }
}

impl MaximumLikelihood for family::Bernoulli<f64> {
    fn fit(x: &[f64], weights: Option<&[f64]>) -> Result<DistributionFit> {
        let s = sample(x, weights, Some(Support::Binary))?;
        let m = s.mean();
        if m <= 0.0 || m >= 1.0 {
            return Err(degenerate("all outcomes are equal: the Bernoulli logit is infinite"));
        }
        closed::<Self>(&s, vec![(m / (1.0 - m)).ln()], &[Id])
    }
}

impl MaximumLikelihood for family::InverseGaussian<f64> {
    fn fit(x: &[f64], weights: Option<&[f64]>) -> Result<DistributionFit> {
        let s = sample(x, weights, Some(Support::Positive))?;
        spread(&s, |x| x, "inverse_gaussian")?;
        let m = s.mean();
        let inv_shape = s.mean_of(|x| 1.0 / x - 1.0 / m);
        if inv_shape <= 0.0 {
            return Err(degenerate("no spread in the sample: the inverse_gaussian shape is infinite"));
        }
        closed::<Self>(&s, vec![m, 1.0 / inv_shape], &[Log, Log])
    }
}

/// Laplace-type fits: the Fisher information (the log density has a kink in the location).
fn fit_asymmetric<D: Family<f64>>(s: &Sample, params: Vec<f64>, loc_info: f64) -> Result<DistributionFit> {
    let scale = params[1];
    let mut se = vec![0.0; params.len()];
    se[0] = scale / (loc_info * s.total).sqrt();
    se[1] = scale / s.total.sqrt();
    let d = D::from_params(&params)?;
    let report = Report {
        iterations: 0,
        evaluations: 1,
        value: -s.loglik(&d) / s.total,
        grad_norm: s.score(&d)[1].abs() / s.total,
        objective_change: 0.0,
        stop: Stop::GradientTolerance,
    };
    let mut transforms = vec![Id, Log];
    transforms.resize(params.len(), Transform::Fixed);
    finish::<D>(s, params, se, &transforms, report)
}

impl MaximumLikelihood for family::Laplace<f64> {
    fn fit(x: &[f64], weights: Option<&[f64]>) -> Result<DistributionFit> {
        let s = sample(x, weights, Some(Support::Real))?;
        let loc = s.quantile(0.5);
        let b = s.mean_of(|x| (x - loc).abs());
        if b <= 0.0 {
            return Err(degenerate("all sample values are equal: no variance to fit the laplace scale"));
        }
        // Fisher information per observation: 1/b² for both the location and the scale.
        fit_asymmetric::<Self>(&s, vec![loc, b], 1.0)
    }
}

/// Fits the asymmetric Laplace distribution at the known quantile level τ: the location is the
/// weighted τ-quantile and the scale the mean pinball loss ρ_τ(x − μ̂).
///
/// # Errors
/// As [`MaximumLikelihood::fit`]; [`Error::InvalidParameter`] for τ outside (0, 1).
pub fn fit_asymmetric_laplace(x: &[f64], weights: Option<&[f64]>, quantile: f64) -> Result<DistributionFit> {
    check::in_open("quantile", quantile, 0.0, 1.0, "must lie in (0, 1)")?;
    let s = sample(x, weights, Some(Support::Real))?;
    let loc = s.quantile(quantile);
    let scale = s.mean_of(|x| {
        let u = x - loc;
        u * (quantile - if u < 0.0 { 1.0 } else { 0.0 })
    });
    if scale <= 0.0 {
        return Err(degenerate("all sample values are equal: no spread to fit the asymmetric_laplace scale"));
    }
    // Fisher information per observation: τ(1 − τ)/σ² for the location, 1/σ² for the scale.
    fit_asymmetric::<family::AsymmetricLaplace<f64>>(
        &s,
        vec![loc, scale, quantile],
        quantile * (1.0 - quantile),
    )
}

/// Fits the binomial logit with a known `total_count` n: η̂ = logit(x̄/n).
///
/// # Errors
/// As [`MaximumLikelihood::fit`]; [`Error::InvalidParameter`] for n not a positive integer.
pub fn fit_binomial(x: &[f64], weights: Option<&[f64]>, total_count: f64) -> Result<DistributionFit> {
    if !(total_count.is_finite() && total_count >= 1.0 && total_count.fract() == 0.0) {
        return Err(Error::param("total_count", total_count, "must be a positive integer"));
    }
    let s = sample(x, weights, Some(Support::UpTo(total_count)))?;
    let m = s.mean() / total_count;
    if m <= 0.0 || m >= 1.0 {
        return Err(degenerate("all counts are 0 or all equal total_count: the binomial logit is infinite"));
    }
    closed::<family::Binomial<f64>>(&s, vec![total_count, (m / (1.0 - m)).ln()], &[Transform::Fixed, Id])
}

/// Mean and variance of a sample with spread.
fn moments(s: &Sample, family: &str) -> Result<(f64, f64)> {
    spread(s, |x| x, family)?;
    Ok((s.mean(), s.var()))
}

impl MaximumLikelihood for family::Gamma<f64> {
    fn fit(x: &[f64], weights: Option<&[f64]>) -> Result<DistributionFit> {
        let s = sample(x, weights, Some(Support::Positive))?;
        let (m, v) = moments(&s, "gamma")?;
        numerical::<Self>(&s, &[m * m / v, m / v], &[Log, Log])
    }
}

impl MaximumLikelihood for family::Beta<f64> {
    fn fit(x: &[f64], weights: Option<&[f64]>) -> Result<DistributionFit> {
        let s = sample(x, weights, Some(Support::OpenUnit))?;
        let (m, v) = moments(&s, "beta")?;
        let c = (m * (1.0 - m) / v - 1.0).max(0.1);
        numerical::<Self>(&s, &[m * c, (1.0 - m) * c], &[Log, Log])
    }
}

impl MaximumLikelihood for family::StudentT<f64> {
    fn fit(x: &[f64], weights: Option<&[f64]>) -> Result<DistributionFit> {
        let s = sample(x, weights, Some(Support::Real))?;
        spread(&s, |x| x, "student_t")?;
        let (loc, iqr) = (s.quantile(0.5), s.quantile(0.75) - s.quantile(0.25));
        let scale = if iqr > 0.0 { iqr / 1.5 } else { s.var().sqrt() };
        let transforms = [Log, Id, Log];
        let (theta, report) = optimise::<Self>(&s, &[5.0, loc, scale], &transforms)?;
        // The normal is the limit ν → ∞. Where the sample's tails are no heavier than the normal's
        // the likelihood keeps rising with ν and has no maximum: the optimiser stops unconverged
        // with ν far out.
        if theta[0] > super::STUDENT_T_NORMAL_LIMIT {
            return Err(degenerate(&format!(
                "the student_t likelihood keeps rising as ν → ∞ (ν = {:.3e} where the fit stopped): \
                 the sample's tails are no heavier than the normal's, the student_t's limit; fit \
                 the normal",
                theta[0]
            )));
        }
        // The other edge: with ν free the likelihood is unbounded as ν → 0 and the scale → 0 at
        // a sample value (Fernández and Steel, 1999); a sample with much of its mass on one value
        // sends the optimiser there.
        let (at, nu) = ((theta[1], theta[2]), format!(" and ν → 0 (ν = {:.3})", theta[0]));
        converged::<Self>(&s, theta, report, &transforms)
            .map_err(|e| collapsed(&s, "student_t", at, scale, &nu, "laplace").unwrap_or(e))
    }
}

impl MaximumLikelihood for family::Cauchy<f64> {
    fn fit(x: &[f64], weights: Option<&[f64]>) -> Result<DistributionFit> {
        let s = sample(x, weights, Some(Support::Real))?;
        spread(&s, |x| x, "cauchy")?;
        let (loc, iqr) = (s.quantile(0.5), s.quantile(0.75) - s.quantile(0.25));
        let scale = if iqr > 0.0 { iqr / 2.0 } else { s.var().sqrt() };
        let (theta, report) = optimise::<Self>(&s, &[loc, scale], &[Id, Log])?;
        let at = (theta[0], theta[1]);
        // With at least half the sample on one value the likelihood has no maximum: it rises
        // (without bound where more than half) as the scale → 0 there (Copas, 1975).
        converged::<Self>(&s, theta, report, &[Id, Log])
            .map_err(|e| collapsed(&s, "cauchy", at, scale, "", "laplace").unwrap_or(e))
    }
}

impl MaximumLikelihood for family::Logistic<f64> {
    fn fit(x: &[f64], weights: Option<&[f64]>) -> Result<DistributionFit> {
        let s = sample(x, weights, Some(Support::Real))?;
        let (m, v) = moments(&s, "logistic")?;
        numerical::<Self>(&s, &[m, v.sqrt() * 3f64.sqrt() / std::f64::consts::PI], &[Id, Log])
    }
}

impl MaximumLikelihood for family::Gumbel<f64> {
    fn fit(x: &[f64], weights: Option<&[f64]>) -> Result<DistributionFit> {
        let s = sample(x, weights, Some(Support::Real))?;
        let (m, v) = moments(&s, "gumbel")?;
        let beta = v.sqrt() * 6f64.sqrt() / std::f64::consts::PI;
        numerical::<Self>(&s, &[m - crate::num::special::EULER_GAMMA * beta, beta], &[Id, Log])
    }
}

impl MaximumLikelihood for family::Weibull<f64> {
    fn fit(x: &[f64], weights: Option<&[f64]>) -> Result<DistributionFit> {
        let s = sample(x, weights, Some(Support::Positive))?;
        let (m, v) = moments(&s, "weibull")?;
        let k = (v.sqrt() / m).powf(-1.086).clamp(0.05, 50.0);
        let scale = m / Real::ln_gamma(1.0 + 1.0 / k).exp();
        numerical::<Self>(&s, &[k, scale], &[Log, Log])
    }
}

impl MaximumLikelihood for family::NegativeBinomial<f64> {
    fn fit(x: &[f64], weights: Option<&[f64]>) -> Result<DistributionFit> {
        let s = sample(x, weights, Some(Support::Counts))?;
        let (m, v) = (s.mean(), s.var());
        if m <= 0.0 {
            return Err(degenerate("all counts are 0: the negative binomial mean is 0"));
        }
        if v <= m {
            return Err(degenerate(
                "the sample variance does not exceed the mean: no overdispersion, the negative \
                 binomial fit tends to the Poisson (total_count → ∞)",
            ));
        }
        let r = m * m / (v - m);
        numerical::<Self>(&s, &[r, (m / r).ln()], &[Log, Id])
    }
}

/// The maximum-likelihood fit of a categorical distribution: the (weighted) class frequencies.
#[derive(Clone, Debug, PartialEq)]
pub struct CategoricalFit {
    /// p̂_c = W_c / W, the weighted share of class c.
    pub probs: Vec<f64>,
    /// SE(p̂_c) = √(p̂_c(1 − p̂_c)/W).
    pub std_errors: Vec<f64>,
    /// ℓ(p̂) = Σ_c W_c log p̂_c (0·log 0 = 0).
    pub log_likelihood: f64,
    /// AIC = 2(C − 1) − 2ℓ.
    pub aic: f64,
    /// BIC = (C − 1)·log W − 2ℓ.
    pub bic: f64,
    /// Number of observations.
    pub n: usize,
}

/// Fits a categorical distribution over `n_classes` classes to class labels by maximum
/// likelihood: p̂_c = W_c / W (a class never seen gets probability 0).
///
/// # Errors
/// [`Error::Empty`] for no observation or `n_classes == 0`; [`Error::ClassOutOfRange`] naming the
/// row of a label outside `0..n_classes`; [`Error::ShapeMismatch`] or [`Error::InvalidParameter`] for bad weights; [`Error::Numerical`]
/// when every weight is 0.
///
/// # Example
/// ```
/// use surprisal::fit::distribution::fit_categorical;
/// let f = fit_categorical(&[0, 2, 2, 1, 2], 3, None).unwrap();
/// assert_eq!(f.probs, vec![0.2, 0.2, 0.6]);
/// // ℓ = 2·log 0.2 + 3·log 0.6
/// assert!((f.log_likelihood - (2.0 * 0.2f64.ln() + 3.0 * 0.6f64.ln())).abs() < 1e-14);
/// ```
pub fn fit_categorical(
    classes: &[usize],
    n_classes: usize,
    weights: Option<&[f64]>,
) -> Result<CategoricalFit> {
    if classes.is_empty() {
        return Err(Error::Empty { name: "sample" });
    }
    if n_classes == 0 {
        return Err(Error::Empty { name: "classes" });
    }
    check::weights(weights, classes.len())?;
    let mut counts = vec![0.0; n_classes];
    for (i, &c) in classes.iter().enumerate() {
        if c >= n_classes {
            return Err(Error::ClassOutOfRange { row: i, value: c as i64, n_classes });
        }
        counts[c] += weights.map_or(1.0, |w| w[i]);
    }
    let total: f64 = counts.iter().sum();
    if total <= 0.0 {
        return Err(degenerate("all weights are 0"));
    }
    let probs: Vec<f64> = counts.iter().map(|c| c / total).collect();
    let std_errors = probs.iter().map(|p| (p * (1.0 - p) / total).sqrt()).collect();
    let log_likelihood: f64 = counts.iter().zip(&probs).map(|(&c, &p)| crate::num::xlogy(c, p)).sum();
    let k = (n_classes - 1) as f64;
    Ok(CategoricalFit {
        probs,
        std_errors,
        log_likelihood,
        aic: 2.0 * k - 2.0 * log_likelihood,
        bic: k * total.ln() - 2.0 * log_likelihood,
        n: classes.len(),
    })
}

/// The maximum-likelihood fit of a multivariate normal: the (weighted) sample mean and the
/// sample covariance with divisor W (not W − 1).
#[derive(Clone, Debug, PartialEq)]
pub struct MultivariateNormalFit {
    /// μ̂ = Σ wᵢxᵢ / W.
    pub loc: Vec<f64>,
    /// Σ̂ = Σ wᵢ(xᵢ − μ̂)(xᵢ − μ̂)ᵀ / W, row-major d × d.
    pub covariance: Vec<f64>,
    /// SE(μ̂ⱼ) = √(Σ̂ⱼⱼ / W).
    pub loc_std_errors: Vec<f64>,
    /// ℓ = −(W/2)(d log 2π + log det Σ̂ + d).
    pub log_likelihood: f64,
    /// AIC = 2(d + d(d + 1)/2) − 2ℓ.
    pub aic: f64,
    /// BIC = (d + d(d + 1)/2)·log W − 2ℓ.
    pub bic: f64,
    /// Number of observations.
    pub n: usize,
}

/// Fits a d-dimensional normal to the rows of `x` (row-major n × d) by maximum likelihood.
///
/// # Errors
/// [`Error::Empty`] for no row or d = 0; [`Error::ShapeMismatch`] when `x.len()` is not a multiple
/// of d; [`Error::InvalidEntry`] naming the row and column of a non-finite entry; weight errors;
/// [`Error::Numerical`] when Σ̂ is singular (fewer distinct points than d + 1, or collinear
/// coordinates).
///
/// # Example
/// ```
/// use surprisal::fit::distribution::fit_multivariate_normal;
/// // Points (0, 0), (2, 0), (0, 2), (2, 2): mean (1, 1), covariance I.
/// let f = fit_multivariate_normal(&[0.0, 0.0, 2.0, 0.0, 0.0, 2.0, 2.0, 2.0], 2, None).unwrap();
/// assert_eq!(f.loc, vec![1.0, 1.0]);
/// assert_eq!(f.covariance, vec![1.0, 0.0, 0.0, 1.0]);
/// // ℓ = −(4/2)(2 log 2π + 0 + 2)
/// assert!((f.log_likelihood - -2.0 * (2.0 * (2.0 * std::f64::consts::PI).ln() + 2.0)).abs() < 1e-12);
/// ```
pub fn fit_multivariate_normal(
    x: &[f64],
    d: usize,
    weights: Option<&[f64]>,
) -> Result<MultivariateNormalFit> {
    if d == 0 || x.is_empty() {
        return Err(Error::Empty { name: "sample" });
    }
    if !x.len().is_multiple_of(d) {
        return Err(Error::shape("sample", &[x.len() / d + 1, d], &[x.len()]));
    }
    let n = x.len() / d;
    if let Some(k) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidEntry {
            name: "sample",
            row: k / d,
            col: Some(k % d),
            value: x[k],
            reason: "must be finite",
        });
    }
    check::weights(weights, n)?;
    let w = |i: usize| weights.map_or(1.0, |w| w[i]);
    let total: f64 = (0..n).map(w).sum();
    if total <= 0.0 {
        return Err(degenerate("all weights are 0"));
    }
    let mut loc = vec![0.0; d];
    for (i, row) in x.chunks(d).enumerate() {
        loc.iter_mut().zip(row).for_each(|(m, v)| *m += w(i) * v);
    }
    loc.iter_mut().for_each(|m| *m /= total);
    let mut covariance = vec![0.0; d * d];
    for (i, row) in x.chunks(d).enumerate() {
        for a in 0..d {
            for b in 0..=a {
                covariance[a * d + b] += w(i) * (row[a] - loc[a]) * (row[b] - loc[b]);
            }
        }
    }
    for a in 0..d {
        for b in 0..=a {
            covariance[a * d + b] /= total;
            covariance[b * d + a] = covariance[a * d + b];
        }
    }
    let chol = cholesky(&covariance, d).map_err(|_| {
        degenerate("the sample covariance is singular (too few points, or collinear coordinates)")
    })?;
    let log_det = crate::num::linalg::cholesky_log_det(&chol, d);
    let dd = d as f64;
    let log_likelihood = -0.5 * total * (dd * (2.0 * std::f64::consts::PI).ln() + log_det + dd);
    let k = dd + dd * (dd + 1.0) / 2.0;
    let loc_std_errors = (0..d).map(|j| (covariance[j * d + j] / total).sqrt()).collect();
    Ok(MultivariateNormalFit {
        loc,
        covariance,
        loc_std_errors,
        log_likelihood,
        aic: 2.0 * k - 2.0 * log_likelihood,
        bic: k * total.ln() - 2.0 * log_likelihood,
        n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::*;
    use crate::testing::Rng;

    /// The further draws the samples need.
    trait Draws {
        fn exp1(&mut self) -> f64;
        fn gamma(&mut self, a: f64) -> f64;
        fn poisson(&mut self, rate: f64) -> f64;
    }

    impl Draws for Rng {
        fn exp1(&mut self) -> f64 {
            -(1.0 - self.uniform()).ln()
        }
        /// Gamma(α, 1) by Marsaglia–Tsang.
        fn gamma(&mut self, a: f64) -> f64 {
            if a < 1.0 {
                return self.gamma(a + 1.0) * self.uniform().powf(1.0 / a);
            }
            let d = a - 1.0 / 3.0;
            let c = 1.0 / (9.0 * d).sqrt();
            loop {
                let z = self.normal();
                let v = (1.0 + c * z).powi(3);
                if v > 0.0 && (1.0 - self.uniform()).ln() < 0.5 * z * z + d - d * v + d * v.ln() {
                    return d * v;
                }
            }
        }
        fn poisson(&mut self, rate: f64) -> f64 {
            // Counting unit-rate arrivals in [0, rate].
            let (mut t, mut k) = (self.exp1(), 0.0);
            while t < rate {
                t += self.exp1();
                k += 1.0;
            }
            k
        }
    }

    fn draw(n: usize, seed: u64, f: impl Fn(&mut Rng) -> f64) -> Vec<f64> {
        let mut rng = Rng(seed);
        (0..n).map(|_| f(&mut rng)).collect()
    }

    fn assert_recovers(fit: &DistributionFit, truth: &[f64]) {
        assert!(fit.report.converged(), "{fit:?}");
        for (j, (&t, (&e, &se))) in truth.iter().zip(fit.params.iter().zip(&fit.std_errors)).enumerate() {
            if se == 0.0 {
                assert_eq!(e, t, "{}: known parameter {j}", fit.family);
                continue;
            }
            assert!(se > 0.0 && se.is_finite(), "{fit:?}");
            assert!((e - t).abs() <= 4.0 * se, "{} {}: {e} vs {t} (se {se})", fit.family, fit.names[j]);
        }
    }

    fn score_at<D: Family<f64>>(x: &[f64], fit: &DistributionFit) -> Vec<f64> {
        let s = sample(x, None, None).unwrap();
        s.score(&D::from_params(&fit.params).unwrap())
    }

    fn check<D: MaximumLikelihood>(x: &[f64], truth: &[f64], score_tol: f64) -> DistributionFit {
        let fit = D::fit(x, None).unwrap();
        assert_recovers(&fit, truth);
        assert_eq!((fit.family, fit.names, fit.n), (D::NAME, D::PARAMS, x.len()));
        for (j, g) in score_at::<D>(x, &fit).iter().enumerate() {
            assert!(g.abs() <= score_tol * x.len() as f64, "{}: ∂ℓ/∂{} = {g}", D::NAME, D::PARAMS[j]);
        }
        let k = fit.std_errors.iter().filter(|s| **s > 0.0).count() as f64;
        assert!((fit.aic - (2.0 * k - 2.0 * fit.log_likelihood)).abs() < 1e-9);
        assert!((fit.bic - (k * (x.len() as f64).ln() - 2.0 * fit.log_likelihood)).abs() < 1e-9);
        fit
    }

    #[test]
    fn closed_forms_recover_the_parameters() {
        let n = 4000;
        check::<Normal<f64>>(&draw(n, 1, |r| 1.5 + 2.0 * r.normal()), &[1.5, 2.0], 1e-9);
        check::<LogNormal<f64>>(&draw(n, 2, |r| (0.3 + 0.7 * r.normal()).exp()), &[0.3, 0.7], 1e-9);
        check::<HalfNormal<f64>>(&draw(n, 3, |r| (1.7 * r.normal()).abs()), &[1.7], 1e-9);
        check::<Exponential<f64>>(&draw(n, 4, |r| r.exp1() / 2.5), &[2.5], 1e-9);
        check::<Poisson<f64>>(&draw(n, 5, |r| r.poisson(3.2)), &[3.2], 1e-9);
        let p: f64 = 0.3;
        check::<Geometric<f64>>(&draw(n, 6, |r| (r.exp1() / -(1.0 - p).ln()).floor()), &[p], 1e-9);
        check::<Bernoulli<f64>>(
            &draw(n, 7, |r| f64::from(u8::from(r.uniform() < sigmoid(0.8)))),
            &[0.8],
            1e-9,
        );
        check::<InverseGaussian<f64>>(
            &draw(n, 8, |r| {
                // Michael, Schucany & Haas (1976).
                let (mu, lam) = (1.5, 4.0);
                let y = r.normal().powi(2);
                let x = mu + mu * mu * y / (2.0 * lam)
                    - mu / (2.0 * lam) * (4.0 * mu * lam * y + mu * mu * y * y).sqrt();
                if r.uniform() <= mu / (mu + x) { x } else { mu * mu / x }
            }),
            &[1.5, 4.0],
            1e-9,
        );
        // Laplace: the score in the location is a step function; only the scale's vanishes.
        let x = draw(n + 1, 9, |r| -1.0 + 0.8 * (r.exp1() - r.exp1()));
        let fit = Laplace::fit(&x, None).unwrap();
        assert_recovers(&fit, &[-1.0, 0.8]);
        assert!(score_at::<Laplace<f64>>(&x, &fit)[1].abs() < 1e-9 * n as f64);
        let tau = 0.25;
        let x = draw(n, 10, |r| {
            // Inverse CDF of the asymmetric Laplace at level τ (location 2, scale 0.5).
            let u = r.uniform();
            if u < tau {
                2.0 + 0.5 / (1.0 - tau) * (u / tau).ln()
            } else {
                2.0 - 0.5 / tau * ((1.0 - u) / (1.0 - tau)).ln()
            }
        });
        let fit = fit_asymmetric_laplace(&x, None, tau).unwrap();
        assert_recovers(&fit, &[2.0, 0.5, tau]);
        let fit = fit_binomial(
            &draw(n, 11, |r| (0..12).filter(|_| r.uniform() < sigmoid(-0.4)).count() as f64),
            None,
            12.0,
        )
        .unwrap();
        assert_recovers(&fit, &[12.0, -0.4]);
    }

    #[test]
    fn numerical_fits_recover_the_parameters() {
        let n = 4000;
        check::<Gamma<f64>>(&draw(n, 21, |r| r.gamma(2.5) / 1.5), &[2.5, 1.5], 1e-7);
        check::<Beta<f64>>(
            &draw(n, 22, |r| {
                let (a, b) = (r.gamma(2.0), r.gamma(5.0));
                a / (a + b)
            }),
            &[2.0, 5.0],
            1e-7,
        );
        check::<StudentT<f64>>(
            &draw(n, 23, |r| 1.0 + 0.5 * r.normal() / (r.gamma(2.0) / 2.0).sqrt()),
            &[4.0, 1.0, 0.5],
            1e-7,
        );
        check::<Cauchy<f64>>(
            &draw(n, 24, |r| -2.0 + 0.3 * (std::f64::consts::PI * (r.uniform() - 0.5)).tan()),
            &[-2.0, 0.3],
            1e-7,
        );
        check::<Logistic<f64>>(
            &draw(n, 25, |r| {
                let u = r.uniform().max(1e-300);
                0.5 + 1.2 * (u / (1.0 - u)).ln()
            }),
            &[0.5, 1.2],
            1e-7,
        );
        check::<Gumbel<f64>>(&draw(n, 26, |r| 3.0 - 2.0 * r.exp1().ln()), &[3.0, 2.0], 1e-7);
        check::<Weibull<f64>>(&draw(n, 27, |r| 2.0 * r.exp1().powf(1.0 / 1.7)), &[1.7, 2.0], 1e-7);
        // Negative binomial as a gamma mixture of Poissons: rate ~ Gamma(r, 1)·e^η.
        let (r0, eta) = (3.0, 0.4f64);
        check::<NegativeBinomial<f64>>(
            &draw(n, 28, |r| {
                let rate = r.gamma(r0) * eta.exp();
                r.poisson(rate)
            }),
            &[r0, eta],
            1e-7,
        );
    }

    #[test]
    fn closed_forms_equal_the_numerical_mle() {
        let cases: Vec<(DistributionFit, DistributionFit)> = vec![
            {
                let x = draw(500, 31, |r| 1.0 + 3.0 * r.normal());
                (
                    Normal::fit(&x, None).unwrap(),
                    fit_numerical::<Normal<f64>>(&x, None, &[0.0, 1.0], &[Id, Log]).unwrap(),
                )
            },
            {
                let x = draw(500, 32, |r| r.exp1() * 4.0);
                (
                    Exponential::fit(&x, None).unwrap(),
                    fit_numerical::<Exponential<f64>>(&x, None, &[1.0], &[Log]).unwrap(),
                )
            },
            {
                let x = draw(500, 33, |r| r.poisson(2.0));
                (
                    Poisson::fit(&x, None).unwrap(),
                    fit_numerical::<Poisson<f64>>(&x, None, &[1.0], &[Log]).unwrap(),
                )
            },
            {
                let x = draw(500, 34, |r| (r.exp1() / 0.5).floor());
                (
                    Geometric::fit(&x, None).unwrap(),
                    fit_numerical::<Geometric<f64>>(&x, None, &[0.5], &[Logit]).unwrap(),
                )
            },
            {
                let x = draw(500, 35, |r| (0.5 * r.normal()).exp());
                (
                    LogNormal::fit(&x, None).unwrap(),
                    fit_numerical::<LogNormal<f64>>(&x, None, &[0.0, 1.0], &[Id, Log]).unwrap(),
                )
            },
            {
                let x = draw(500, 36, |r| r.gamma(3.0));
                (
                    InverseGaussian::fit(&x, None).unwrap(),
                    fit_numerical::<InverseGaussian<f64>>(&x, None, &[1.0, 1.0], &[Log, Log]).unwrap(),
                )
            },
            {
                let x = draw(500, 37, |r| f64::from(u8::from(r.uniform() < 0.3)));
                (
                    Bernoulli::fit(&x, None).unwrap(),
                    fit_numerical::<Bernoulli<f64>>(&x, None, &[0.0], &[Id]).unwrap(),
                )
            },
        ];
        for (closed, numeric) in cases {
            for (a, b) in closed.params.iter().zip(&numeric.params) {
                assert!((a - b).abs() <= 1e-7 * a.abs().max(1.0), "{}: {a} vs {b}", closed.family);
            }
            for (a, b) in closed.std_errors.iter().zip(&numeric.std_errors) {
                assert!((a - b).abs() <= 1e-5 * a, "{}: se {a} vs {b}", closed.family);
            }
            assert!(
                (closed.log_likelihood - numeric.log_likelihood).abs() < 1e-9 * closed.log_likelihood.abs()
            );
        }
    }

    #[test]
    fn weights_are_frequency_weights() {
        let x = [0.5, 1.2, 2.3, 0.8];
        let w = [1.0, 2.0, 0.0, 3.0];
        let repeated = [0.5, 1.2, 1.2, 0.8, 0.8, 0.8];
        for (a, b) in [
            (Gamma::fit(&x, Some(&w)).unwrap(), Gamma::fit(&repeated, None).unwrap()),
            (Normal::fit(&x, Some(&w)).unwrap(), Normal::fit(&repeated, None).unwrap()),
            (Laplace::fit(&x, Some(&w)).unwrap(), Laplace::fit(&repeated, None).unwrap()),
        ] {
            for (p, q) in a.params.iter().zip(&b.params) {
                assert!((p - q).abs() < 1e-8, "{a:?} {b:?}");
            }
            assert!((a.log_likelihood - b.log_likelihood).abs() < 1e-9);
            assert!((a.bic - b.bic).abs() < 1e-9);
        }
    }

    /// Normal samples: the Student-t fit either finds a finite ν̂ (the sample's tails happen to be
    /// heavier) or says that ν → ∞, the normal limit, never a bare non-convergence.
    #[test]
    fn student_t_on_normal_samples_finds_nu_or_the_normal_limit() {
        let (mut finite, mut limit) = (0, 0);
        for seed in 0..16 {
            let x = draw(200, 500 + seed, |r| 1.0 + 2.0 * r.normal());
            match StudentT::fit(&x, None) {
                Ok(f) => {
                    finite += 1;
                    assert!(f.report.converged() && f.params[0] < 1e3, "{f:?}");
                }
                Err(e) => {
                    limit += 1;
                    let msg = e.to_string();
                    assert!(msg.contains("ν → ∞") && msg.contains("fit the normal"), "{msg}");
                }
            }
        }
        assert!(finite > 0 && limit > 0, "{finite} finite, {limit} at the limit");
    }

    /// Much of the sample on one value: the Student-t (ν free) and Cauchy likelihoods rise as
    /// the scale → 0 there, and the error says so with the count, never a bare non-convergence;
    /// a sample with a few ties still fits.
    #[test]
    fn location_scale_fits_name_a_value_that_holds_the_sample() {
        let zeros = [0.0, 0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 0.0, 3.0, 0.0];
        let no_max = |r: Result<DistributionFit>, family: &str, count: &str| {
            let msg = r.unwrap_err().to_string();
            let want = format!("the {family} likelihood has no maximum: it rises as the scale → 0");
            assert!(msg.contains(&want) && msg.contains(count) && msg.contains("fit the laplace"), "{msg}");
        };
        no_max(StudentT::fit(&zeros, None), "student_t", "at 0, the value of 7 of the 10 observations");
        no_max(Cauchy::fit(&zeros, None), "cauchy", "at 0, the value of 7 of the 10 observations");
        // Exactly half on one value: the Cauchy likelihood's supremum is the limit, not a maximum.
        no_max(Cauchy::fit(&[0.0, 0.0, 1.0, 2.0], None), "cauchy", "the value of 2 of the 4 observations");
        // Frequency weights count.
        no_max(
            Cauchy::fit(&[5.0, 6.0, 8.0], Some(&[2.0, 1.0, 1.0])),
            "cauchy",
            "at 5, the value of 2 of the 4",
        );
        // Fewer than half tied: the Cauchy maximum exists, with the scale well away from 0.
        let f = Cauchy::fit(&[0.0, 0.0, 1.0, 2.0, 3.5], None).unwrap();
        assert!(f.report.converged() && f.params[1] > 0.1, "{f:?}");
        // The Laplace likelihood is bounded: the suggested fit exists.
        assert!(Laplace::fit(&zeros, None).is_ok());
    }

    #[test]
    fn typed_errors() {
        assert_eq!(Normal::fit(&[], None).unwrap_err(), Error::Empty { name: "sample" });
        assert!(matches!(
            Gamma::fit(&[1.0, 2.0, -0.5], None).unwrap_err(),
            Error::InvalidValue { index: Some(2), .. }
        ));
        assert!(matches!(
            Poisson::fit(&[1.0, 2.5], None).unwrap_err(),
            Error::InvalidValue { index: Some(1), .. }
        ));
        assert!(matches!(
            Beta::fit(&[0.2, 1.0], None).unwrap_err(),
            Error::InvalidValue { index: Some(1), .. }
        ));
        assert!(matches!(
            fit_binomial(&[3.0, 13.0], None, 12.0).unwrap_err(),
            Error::InvalidValue { index: Some(1), .. }
        ));
        assert!(matches!(
            Normal::fit(&[1.0, f64::NAN], None).unwrap_err(),
            Error::InvalidValue { index: Some(1), .. }
        ));
        for e in [
            Normal::fit(&[2.0; 5], None).unwrap_err(),
            Gamma::fit(&[2.0; 5], None).unwrap_err(),
            Laplace::fit(&[2.0; 5], None).unwrap_err(),
            StudentT::fit(&[2.0; 5], None).unwrap_err(),
            Poisson::fit(&[0.0; 5], None).unwrap_err(),
            Bernoulli::fit(&[1.0; 5], None).unwrap_err(),
            fit_asymmetric_laplace(&[2.0; 5], None, 0.3).unwrap_err(),
        ] {
            assert!(matches!(&e, Error::Numerical { reason, .. } if !reason.is_empty()), "{e}");
        }
        assert!(Normal::fit(&[1.0, 2.0], Some(&[1.0])).is_err());
        assert!(Normal::fit(&[1.0, 2.0], Some(&[1.0, -1.0])).is_err());
        assert!(fit_asymmetric_laplace(&[1.0, 2.0], None, 1.0).is_err());
        assert!(fit_binomial(&[1.0, 2.0], None, 2.5).is_err());
    }

    #[test]
    fn categorical_and_multivariate_normal_fits_match_their_families() {
        use crate::family::{Categorical, MultivariateNormal};
        let y = [0usize, 1, 1, 2, 1, 0, 1, 1];
        let w = [1.0, 2.0, 0.5, 1.0, 1.0, 3.0, 0.0, 1.0];
        let f = fit_categorical(&y, 4, Some(&w)).unwrap();
        let d = Categorical::from_probs(&f.probs).unwrap();
        let ll: f64 =
            y.iter().zip(&w).map(|(&c, &wi)| if wi > 0.0 { wi * d.log_prob(c).unwrap() } else { 0.0 }).sum();
        assert!((f.log_likelihood - ll).abs() < 1e-12);
        assert_eq!(f.probs[3], 0.0);
        assert!(matches!(fit_categorical(&[0, 5], 3, None), Err(Error::ClassOutOfRange { row: 1, .. })));

        // MVN: the log-likelihood equals the family's summed log density at the fit, and the
        // fit beats nearby parameters.
        let x = [0.3, 1.2, -0.5, 2.0, 1.1, 0.9, 0.0, -0.4, 2.2, 1.7, -1.0, 0.1];
        let f = fit_multivariate_normal(&x, 2, None).unwrap();
        let ll = |loc: &[f64], cov: &[f64]| -> f64 {
            let m = MultivariateNormal::new(loc, cov).unwrap();
            x.chunks(2).map(|r| m.log_prob(r).unwrap()).sum()
        };
        assert!((f.log_likelihood - ll(&f.loc, &f.covariance)).abs() < 1e-10);
        for (dl, dc) in [(0.01, 0.0), (0.0, 0.01), (-0.02, -0.01)] {
            let loc = [f.loc[0] + dl, f.loc[1]];
            let cov = [f.covariance[0] + dc, f.covariance[1], f.covariance[2], f.covariance[3] + dc];
            assert!(ll(&loc, &cov) < f.log_likelihood);
        }
        // Three collinear points in 2-D: singular covariance.
        assert!(matches!(
            fit_multivariate_normal(&[0.0, 0.0, 1.0, 1.0, 2.0, 2.0], 2, None),
            Err(Error::Numerical { .. })
        ));
        assert!(matches!(
            fit_multivariate_normal(&[0.0, f64::NAN], 2, None),
            Err(Error::InvalidEntry { row: 0, col: Some(1), .. })
        ));
    }
}
