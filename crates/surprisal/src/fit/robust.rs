//! Regression with heavy tails and with a modelled variance: each fit minimises a negative
//! log-likelihood (or, for Huber, scikit-learn's concomitant-scale objective) with Newton's method
//! ([`crate::fit::newton`]).
//!
//! ```text
//! Student-t        yᵢ = x̃ᵢ·β + σ·tᵢ,  tᵢ ~ t_ν          θ = [β, log σ, (log ν)]
//!                  NLL = −Σᵢ sᵢ log StudentT(yᵢ | ν, x̃ᵢ·β, σ)
//! Huber            min over (w, c, σ > 0) of  Σᵢ sᵢ·[σ + σ·H_ε((yᵢ − xᵢ·w − c)/σ)] + α‖w‖²
//!                  H_ε(z) = z² (|z| ≤ ε),  2ε|z| − ε² (|z| > ε)   (= 2ρ_ε, ρ the Huber loss)
//! heteroscedastic  yᵢ ~ N(x̃ᵢ·β, σᵢ²),  log σᵢ² = z̃ᵢ·γ  (Z defaults to X)   θ = [β, γ]
//!                  NLL = Σᵢ sᵢ·[½ log 2π + ½ z̃ᵢ·γ + ½ (yᵢ − x̃ᵢ·β)² e^{−z̃ᵢ·γ}]
//! ```
//!
//! (x̃ᵢ = [xᵢ, 1] with an intercept, sᵢ the observation weights, default 1.)
//!
//! The Student-t and heteroscedastic fits report standard errors from the inverse observed
//! information, ([`observed_information`]: central differences of the analytic gradient), in their
//! working parametrisation (log σ, log ν, γ).
//!
//! References: Lange, Little & Taylor (1989), *Robust statistical modeling using the t
//! distribution*; Owen (2007), *A robust hybrid of lasso and ridge regression* (the concomitant
//! scale), as implemented by `sklearn.linear_model.HuberRegressor`; Harvey (1976),
//! *Estimating regression models with multiplicative heteroscedasticity*.

use super::regressors::{Regressors, finite_vector, sample_weights};
use super::{NewtonOptions, Objective, Report, newton};
use crate::error::{Error, Result, check};
use crate::family::{self, StudentT};
use crate::loss::{self, Options, Reduction};
use crate::num::linalg::{cholesky, cholesky_inverse};

/// The observed information ∇²f(θ) of an objective f (an NLL), by central differences of its
/// analytic gradient, symmetrised: column j is (∇f(θ + hⱼeⱼ) − ∇f(θ − hⱼeⱼ)) / 2hⱼ with
/// hⱼ = ε^{1/3}·max(1, |θⱼ|) (ε the f64 machine epsilon), so the truncation and rounding errors
/// are both of order ε^{2/3} relative.
///
/// Returns the row-major `[d, d]` matrix, d = `obj.dim()`.
///
/// # Errors
/// [`Error::ShapeMismatch`] if `theta.len() != obj.dim()`.
pub fn observed_information<O: Objective + ?Sized>(obj: &mut O, theta: &[f64]) -> Result<Vec<f64>> {
    let d = obj.dim();
    check::same_len("theta", d, theta.len())?;
    let mut h = vec![0.0; d * d];
    fd_hessian(obj, theta, &mut h);
    Ok(h)
}

fn fd_hessian<O: Objective + ?Sized>(obj: &mut O, theta: &[f64], hess: &mut [f64]) {
    let d = theta.len();
    let (mut gp, mut gm) = (vec![0.0; d], vec![0.0; d]);
    let mut t = theta.to_vec();
    for j in 0..d {
        let h = f64::EPSILON.cbrt() * theta[j].abs().max(1.0);
        t[j] = theta[j] + h;
        obj.value_grad(&t, &mut gp);
        t[j] = theta[j] - h;
        obj.value_grad(&t, &mut gm);
        t[j] = theta[j];
        for i in 0..d {
            hess[i * d + j] = (gp[i] - gm[i]) / (2.0 * h);
        }
    }
    for i in 0..d {
        for j in 0..i {
            let s = 0.5 * (hess[i * d + j] + hess[j * d + i]);
            hess[i * d + j] = s;
            hess[j * d + i] = s;
        }
    }
}

/// The covariance I⁻¹ and the standard errors √diag(I⁻¹) from an information matrix I (`[d, d]`).
///
/// # Errors
/// [`Error::Numerical`] when I is not positive definite (the fit is not at a strict minimum, or
/// the parameters are not identified).
pub fn standard_errors(info: &[f64], d: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let l = cholesky(info, d)?;
    let cov = cholesky_inverse(&l, d);
    let se = (0..d).map(|i| cov[i * d + i].sqrt()).collect();
    Ok((cov, se))
}

fn weight(w: Option<&[f64]>, i: usize) -> f64 {
    w.map_or(1.0, |w| w[i])
}

/// The median of |r| (unweighted), times 1.4826: a consistent estimate of a normal scale.
fn mad_scale(r: &[f64]) -> f64 {
    let mut a: Vec<f64> = r.iter().map(|v| v.abs()).collect();
    a.sort_by(f64::total_cmp);
    let m = a.len();
    let med = if m % 2 == 1 { a[m / 2] } else { 0.5 * (a[m / 2 - 1] + a[m / 2]) };
    1.4826 * med
}

fn residuals(x: &Regressors, y: &[f64], beta: &[f64]) -> Vec<f64> {
    (0..x.n).map(|i| y[i] - x.dot(i, beta)).collect()
}

fn exact_fit() -> Error {
    Error::Numerical {
        what: "scale estimation",
        reason: "y is an exact linear function of X: the scale has no maximum-likelihood estimate".into(),
    }
}

fn validate<'a>(
    x: &'a [f64],
    n_features: usize,
    y: &[f64],
    w: Option<&[f64]>,
    intercept: bool,
) -> Result<Regressors<'a>> {
    let n = y.len();
    if n == 0 {
        return Err(Error::Empty { name: "y" });
    }
    finite_vector("y", y, n)?;
    sample_weights(w, n)?;
    Regressors::new("X", x, n, n_features, intercept)
}

// ---------------------------------------------------------------------------------------------
// Student-t regression

/// The degrees of freedom ν of [`student_t_regression`]: fixed, or learned (through log ν) from a
/// starting value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Df {
    /// ν is given.
    Fixed(f64),
    /// ν is estimated, starting from `init`.
    Learned {
        /// The starting value of ν.
        init: f64,
    },
}

/// Settings of [`student_t_regression`].
#[derive(Clone, Copy, Debug)]
pub struct StudentTOptions<'a> {
    /// ν fixed or learned. Default: learned from 5.
    pub df: Df,
    /// Whether to fit an intercept. Default `true`.
    pub fit_intercept: bool,
    /// Observation weights sᵢ ≥ 0, or `None` for all ones.
    pub sample_weight: Option<&'a [f64]>,
    /// Settings of the Newton iteration.
    pub newton: NewtonOptions,
}

impl Default for StudentTOptions<'_> {
    fn default() -> Self {
        StudentTOptions {
            df: Df::Learned { init: 5.0 },
            fit_intercept: true,
            sample_weight: None,
            newton: NewtonOptions::default(),
        }
    }
}

/// A fitted Student-t regression.
#[derive(Clone, Debug, PartialEq)]
pub struct StudentTFit {
    /// β (without the intercept), length p.
    pub coef: Vec<f64>,
    /// The intercept (0 when none was fitted).
    pub intercept: f64,
    /// σ.
    pub scale: f64,
    /// ν (the given value when fixed).
    pub df: f64,
    /// The minimised NLL −Σᵢ sᵢ log p(yᵢ).
    pub nll: f64,
    /// The working parameters θ = [β, (intercept), log σ, (log ν when learned)].
    pub theta: Vec<f64>,
    /// Standard errors of θ, from the inverse observed information.
    pub stderr: Vec<f64>,
    /// How the optimiser stopped.
    pub report: Report,
}

struct StudentTObjective<'a> {
    x: Regressors<'a>,
    y: &'a [f64],
    w: Option<&'a [f64]>,
    /// `Some(ν)` when fixed.
    df: Option<f64>,
    mu: Vec<f64>,
}

impl Objective for StudentTObjective<'_> {
    fn dim(&self) -> usize {
        self.x.dim() + 1 + usize::from(self.df.is_none())
    }
    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let d = self.x.dim();
        let sigma = theta[d].exp();
        let nu = self.df.unwrap_or_else(|| theta[d + 1].exp());
        for i in 0..self.x.n {
            self.mu[i] = self.x.dot(i, theta);
        }
        let n = self.x.n;
        let (mut lp, mut g_nu, mut g_mu, mut g_sigma) =
            (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        // Outside the domain (σ or ν not finite and > 0, a non-finite mean): an infinite NLL.
        if family::log_prob_grad::<f64, StudentT<f64>>(
            &[&[nu], &self.mu, &[sigma]],
            self.y,
            &mut lp,
            &mut [&mut g_nu, &mut g_mu, &mut g_sigma],
        )
        .is_err()
        {
            return f64::INFINITY;
        }
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut f = 0.0;
        for i in 0..n {
            let s = weight(self.w, i);
            if s == 0.0 {
                continue;
            }
            f -= s * lp[i];
            self.x.axpy(i, -s * g_mu[i], &mut grad[..d]);
            // ∂/∂log σ = σ·∂/∂σ, ∂/∂log ν = ν·∂/∂ν.
            grad[d] -= s * g_sigma[i] * sigma;
            if self.df.is_none() {
                grad[d + 1] -= s * g_nu[i] * nu;
            }
        }
        f
    }
    fn hessian(&mut self, theta: &[f64], hess: &mut [f64]) -> bool {
        fd_hessian(self, theta, hess);
        true
    }
}

/// Student-t linear regression by maximum likelihood: yᵢ = x̃ᵢ·β + σ·tᵢ with tᵢ ~ t_ν, σ and
/// (optionally) ν estimated with β.
///
/// ```text
/// −log p(yᵢ) = −log Γ((ν+1)/2) + log Γ(ν/2) + ½ log νπ + log σ + (ν+1)/2 · log(1 + zᵢ²/ν),
///              zᵢ = (yᵢ − x̃ᵢ·β)/σ
/// ∂/∂β       = −Σᵢ sᵢ (ν+1) zᵢ / (σ(ν + zᵢ²)) · x̃ᵢ      (the influence decays like 1/z)
/// ∂/∂log σ   = Σᵢ sᵢ (1 − (ν+1) zᵢ²/(ν + zᵢ²))
/// ∂/∂log ν   = −ν Σᵢ sᵢ ∂log p(yᵢ)/∂ν                   (see crate::family::student_t)
/// ```
///
/// The log density and its parameter gradient are [`crate::family::StudentT`]'s; the Hessian is
/// the observed information by central differences of that gradient. Start: least squares for β,
/// 1.4826·MAD of its residuals for σ. A likelihood that keeps rising as ν → ∞ (normal data) ends
/// with a large ν and a report that may say so.
///
/// # Errors
/// [`Error::Empty`] for n = 0; [`Error::ShapeMismatch`]; [`Error::NonFiniteData`] naming the row
/// (and column) of a non-finite y or X entry; [`Error::InvalidParameter`] for a bad weight or ν;
/// [`Error::Numerical`] for collinear regressors, an exact fit (no scale), or an information matrix
/// that is not positive definite at the fit.
///
/// # Example
/// ```
/// use surprisal::fit::robust::{student_t_regression, Df, StudentTOptions};
/// let y = [-1.2, 0.3, 0.5, 2.0, 7.5, -0.4];
/// let opts = StudentTOptions { df: Df::Fixed(3.0), ..Default::default() };
/// let fit = student_t_regression(&[], 0, &y, &opts).unwrap();
/// // mpmath: the root of the t₃ score equations for (μ, σ)
/// assert!((fit.intercept - 0.442486749066109378).abs() < 1e-9);
/// assert!((fit.scale - 1.537665354635053495).abs() < 1e-9);
/// ```
pub fn student_t_regression(
    x: &[f64],
    n_features: usize,
    y: &[f64],
    opts: &StudentTOptions,
) -> Result<StudentTFit> {
    let xr = validate(x, n_features, y, opts.sample_weight, opts.fit_intercept)?;
    let (fixed, nu0) = match opts.df {
        Df::Fixed(v) => (Some(check::positive("df", v)?), v),
        Df::Learned { init } => (None, check::positive("df", init)?),
    };
    let beta0 = xr.least_squares(y, opts.sample_weight)?;
    let r = residuals(&xr, y, &beta0);
    let mut s0 = mad_scale(&r);
    if s0 <= 0.0 {
        s0 = (r.iter().map(|v| v * v).sum::<f64>() / r.len() as f64).sqrt();
    }
    if s0 <= 0.0 {
        return Err(exact_fit());
    }
    let mut theta0 = beta0;
    theta0.push(s0.ln());
    if fixed.is_none() {
        theta0.push(nu0.ln());
    }
    let mut obj = StudentTObjective { x: xr, y, w: opts.sample_weight, df: fixed, mu: vec![0.0; y.len()] };
    let (theta, report) = newton(&mut obj, &theta0, &opts.newton)?;
    let info = observed_information(&mut obj, &theta)?;
    let (_, stderr) = standard_errors(&info, theta.len())?;
    let d = xr.dim();
    Ok(StudentTFit {
        coef: theta[..n_features].to_vec(),
        intercept: if opts.fit_intercept { theta[n_features] } else { 0.0 },
        scale: theta[d].exp(),
        df: fixed.unwrap_or_else(|| theta[d + 1].exp()),
        nll: report.value,
        theta,
        stderr,
        report,
    })
}

// ---------------------------------------------------------------------------------------------
// Huber regression with concomitant scale

/// Settings of [`huber_regression`] (scikit-learn's `HuberRegressor` defaults).
#[derive(Clone, Copy, Debug)]
pub struct HuberOptions<'a> {
    /// ε > 0 (scikit-learn requires ε ≥ 1): residuals beyond ε·σ count linearly. Default 1.35.
    pub epsilon: f64,
    /// α ≥ 0, the squared-L2 penalty on w (not on the intercept). Default 1e-4.
    pub alpha: f64,
    /// Whether to fit an intercept. Default `true`.
    pub fit_intercept: bool,
    /// Observation weights sᵢ ≥ 0, or `None` for all ones.
    pub sample_weight: Option<&'a [f64]>,
    /// Settings of the Newton iteration.
    pub newton: NewtonOptions,
}

impl Default for HuberOptions<'_> {
    fn default() -> Self {
        HuberOptions {
            epsilon: 1.35,
            alpha: 1e-4,
            fit_intercept: true,
            sample_weight: None,
            newton: NewtonOptions::default(),
        }
    }
}

/// A fitted Huber regression.
#[derive(Clone, Debug, PartialEq)]
pub struct HuberFit {
    /// w, length p.
    pub coef: Vec<f64>,
    /// c (0 when none was fitted).
    pub intercept: f64,
    /// σ, the concomitant scale (scikit-learn's `scale_`).
    pub scale: f64,
    /// The minimised objective.
    pub objective: f64,
    /// Whether |yᵢ − xᵢ·w − c| > ε·σ at the fit (scikit-learn's `outliers_`).
    pub outliers: Vec<bool>,
    /// How the optimiser stopped.
    pub report: Report,
}

struct HuberObjective<'a> {
    x: Regressors<'a>,
    y: &'a [f64],
    w: Option<&'a [f64]>,
    epsilon: f64,
    alpha: f64,
    z: Vec<f64>,
    zeros: Vec<f64>,
}

impl HuberObjective<'_> {
    fn standardise(&mut self, theta: &[f64]) -> f64 {
        let sigma = theta[self.x.dim()];
        for i in 0..self.x.n {
            self.z[i] = (self.y[i] - self.x.dot(i, theta)) / sigma;
        }
        sigma
    }
}

impl Objective for HuberObjective<'_> {
    fn dim(&self) -> usize {
        self.x.dim() + 1
    }
    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let d = self.x.dim();
        let sigma = theta[d];
        if sigma.is_nan() || sigma <= 0.0 {
            return f64::INFINITY;
        }
        self.standardise(theta);
        // ρ_ε(zᵢ) and ψ(zᵢ) = clamp(zᵢ, −ε, ε) from the Huber loss (input z, target 0), weighted.
        let mut opts = Options::with_reduction(Reduction::None);
        opts.weight = self.w;
        let Ok(out) = loss::huber(&self.z, &self.zeros, self.epsilon, &opts) else {
            return f64::NAN;
        };
        let total: f64 = (0..self.x.n).map(|i| weight(self.w, i)).sum();
        grad.iter_mut().for_each(|g| *g = 0.0);
        // σ·H_ε(r/σ) = 2σ·ρ_ε(z):  ∂/∂(w, c) = −2ψ(z)·x̃,  ∂/∂σ = 2ρ_ε(z) − 2ψ(z)·z.
        let mut rho = 0.0;
        for i in 0..self.x.n {
            rho += out.per_element[i];
            self.x.axpy(i, -2.0 * out.grad[i], &mut grad[..d]);
            grad[d] -= 2.0 * out.grad[i] * self.z[i];
        }
        grad[d] += total + 2.0 * rho;
        let mut pen = 0.0;
        for a in 0..self.x.p {
            pen += theta[a] * theta[a];
            grad[a] += 2.0 * self.alpha * theta[a];
        }
        sigma * (total + 2.0 * rho) + self.alpha * pen
    }
    fn hessian(&mut self, theta: &[f64], hess: &mut [f64]) -> bool {
        let d = self.x.dim();
        let q = d + 1;
        let sigma = self.standardise(theta);
        hess.iter_mut().for_each(|h| *h = 0.0);
        // Inliers (|z| < ε, the Huber loss's quadratic branch) carry all the curvature:
        // r²/σ has ∂²/∂(w,c)² = 2x̃x̃ᵀ/σ, ∂²/∂(w,c)∂σ = 2z·x̃/σ, ∂²/∂σ² = 2z²/σ.
        for i in 0..self.x.n {
            let (s, z) = (weight(self.w, i), self.z[i]);
            if s == 0.0 || z.abs() >= self.epsilon {
                continue;
            }
            self.x.outer_into(i, 2.0 * s / sigma, hess, q, 0, 0);
            for a in 0..d {
                let v = 2.0 * s * z * self.x.at(i, a) / sigma;
                hess[a * q + d] += v;
                hess[d * q + a] += v;
            }
            hess[d * q + d] += 2.0 * s * z * z / sigma;
        }
        for a in 0..self.x.p {
            hess[a * q + a] += 2.0 * self.alpha;
        }
        true
    }
}

/// Huber regression with a concomitant scale: scikit-learn's `HuberRegressor` objective, minimised
/// exactly.
///
/// ```text
/// f(w, c, σ) = Σᵢ sᵢ·[σ + σ·H_ε(zᵢ)] + α‖w‖²,   zᵢ = (yᵢ − xᵢ·w − c)/σ,  σ > 0
/// H_ε(z)     = z² (|z| ≤ ε),  2ε|z| − ε² (|z| > ε)   = 2ρ_ε(z), ρ_ε the Huber loss
/// ∂f/∂w      = −2 Σᵢ sᵢ ψ_ε(zᵢ) xᵢ + 2αw,   ∂f/∂c = −2 Σᵢ sᵢ ψ_ε(zᵢ),   ψ_ε(z) = clamp(z, −ε, ε)
/// ∂f/∂σ      = Σᵢ sᵢ [1 + H_ε(zᵢ) − 2ψ_ε(zᵢ) zᵢ]  = Σᵢ sᵢ [1 − zᵢ²] (inliers), Σᵢ sᵢ [1 − ε²] (outliers)
/// ```
///
/// f is jointly convex in (w, c, σ) (σ·H_ε(r/σ) is the perspective of a convex function), so its
/// minimiser does not depend on the start. ρ_ε and ψ_ε come from [`crate::loss::huber`]. The
/// minimum over σ makes the scale scale-equivariant: the objective is not a normalised NLL (the
/// Huber density's normaliser is not log σ), which is why no standard errors are reported.
/// Newton's method on the exact piecewise Hessian (inliers carry the curvature), started at least
/// squares with σ = the RMS residual, converges to f64 precision where scikit-learn's L-BFGS-B
/// stops at its tolerance.
///
/// # Errors
/// As [`student_t_regression`], and [`Error::InvalidParameter`] for ε not finite and > 0 or α
/// negative or not finite.
///
/// # Example
/// ```
/// use surprisal::fit::robust::{huber_regression, HuberOptions};
/// let y = [-1.2, 0.3, 0.5, 2.0, 7.5, -0.4];
/// let fit = huber_regression(&[], 0, &y, &HuberOptions::default()).unwrap();
/// // One outlier on each side: c is the mean of the four inliers; σ from mpmath's root of ∂f/∂σ.
/// assert!((fit.intercept - 0.6).abs() < 1e-10);
/// assert!((fit.scale - 1.139896073036853989).abs() < 1e-10);
/// assert_eq!(fit.outliers, [true, false, false, false, true, false]);
/// ```
pub fn huber_regression(x: &[f64], n_features: usize, y: &[f64], opts: &HuberOptions) -> Result<HuberFit> {
    let xr = validate(x, n_features, y, opts.sample_weight, opts.fit_intercept)?;
    let epsilon = check::positive("epsilon", opts.epsilon)?;
    if !(opts.alpha.is_finite() && opts.alpha >= 0.0) {
        return Err(Error::param("alpha", opts.alpha, "must be finite and >= 0"));
    }
    let n = y.len();
    let mut theta0 = xr.least_squares(y, opts.sample_weight)?;
    let r = residuals(&xr, y, &theta0);
    let s0 = (r.iter().map(|v| v * v).sum::<f64>() / n as f64).sqrt();
    if s0 <= 0.0 {
        return Err(exact_fit());
    }
    theta0.push(s0);
    let mut obj = HuberObjective {
        x: xr,
        y,
        w: opts.sample_weight,
        epsilon,
        alpha: opts.alpha,
        z: vec![0.0; n],
        zeros: vec![0.0; n],
    };
    let (theta, report) = newton(&mut obj, &theta0, &opts.newton)?;
    let d = xr.dim();
    let scale = theta[d];
    let outliers = residuals(&xr, y, &theta).iter().map(|r| r.abs() > epsilon * scale).collect();
    Ok(HuberFit {
        coef: theta[..n_features].to_vec(),
        intercept: if opts.fit_intercept { theta[n_features] } else { 0.0 },
        scale,
        objective: report.value,
        outliers,
        report,
    })
}

// ---------------------------------------------------------------------------------------------
// Heteroscedastic Gaussian regression

/// Settings of [`heteroscedastic_regression`].
#[derive(Clone, Copy, Debug)]
pub struct HeteroscedasticOptions<'a> {
    /// Whether both linear predictors (mean and log-variance) have an intercept. Default `true`.
    pub fit_intercept: bool,
    /// The variance regressors Z (row-major `[n, q]`, q) or `None` for Z = X.
    pub variance_regressors: Option<(&'a [f64], usize)>,
    /// Observation weights sᵢ ≥ 0, or `None` for all ones.
    pub sample_weight: Option<&'a [f64]>,
    /// Settings of the Newton iteration.
    pub newton: NewtonOptions,
}

impl Default for HeteroscedasticOptions<'_> {
    fn default() -> Self {
        HeteroscedasticOptions {
            fit_intercept: true,
            variance_regressors: None,
            sample_weight: None,
            newton: NewtonOptions::default(),
        }
    }
}

/// A fitted heteroscedastic Gaussian regression.
#[derive(Clone, Debug, PartialEq)]
pub struct HeteroscedasticFit {
    /// β (mean coefficients without the intercept), length p.
    pub coef: Vec<f64>,
    /// The mean's intercept (0 when none was fitted).
    pub intercept: f64,
    /// γ (log-variance coefficients without the intercept), length q.
    pub variance_coef: Vec<f64>,
    /// The log-variance intercept (0 when none was fitted).
    pub variance_intercept: f64,
    /// The minimised NLL (with ½ log 2π per unit weight).
    pub nll: f64,
    /// The working parameters θ = [β, (intercept), γ, (variance intercept)].
    pub theta: Vec<f64>,
    /// Standard errors of θ, from the inverse observed information.
    pub stderr: Vec<f64>,
    /// How the optimiser stopped.
    pub report: Report,
}

struct HeteroObjective<'a> {
    x: Regressors<'a>,
    z: Regressors<'a>,
    y: &'a [f64],
    w: Option<&'a [f64]>,
    mu: Vec<f64>,
    var: Vec<f64>,
}

impl HeteroObjective<'_> {
    fn predictors(&mut self, theta: &[f64]) {
        let d = self.x.dim();
        for i in 0..self.x.n {
            self.mu[i] = self.x.dot(i, &theta[..d]);
            self.var[i] = self.z.dot(i, &theta[d..]).exp();
        }
    }
}

impl Objective for HeteroObjective<'_> {
    fn dim(&self) -> usize {
        self.x.dim() + self.z.dim()
    }
    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> f64 {
        self.predictors(theta);
        let d = self.x.dim();
        let mut opts = Options::with_reduction(Reduction::Sum);
        opts.weight = self.w;
        // The exact normal NLL (full = true); the clamp at the smallest normal f64 never binds
        // for a variance that has not underflowed.
        let Ok(out) = loss::gaussian_nll(&self.mu, self.y, &self.var, true, f64::MIN_POSITIVE, &opts) else {
            return f64::NAN;
        };
        grad.iter_mut().for_each(|g| *g = 0.0);
        for i in 0..self.x.n {
            self.x.axpy(i, out.grad_input[i], &mut grad[..d]);
            // ∂/∂γ through σᵢ² = exp(z̃ᵢ·γ): ∂ℓ/∂σᵢ² · σᵢ² · z̃ᵢ.
            self.z.axpy(i, out.grad_var[i] * self.var[i], &mut grad[d..]);
        }
        out.value
    }
    fn hessian(&mut self, theta: &[f64], hess: &mut [f64]) -> bool {
        self.predictors(theta);
        let (d, q) = (self.x.dim(), self.dim());
        hess.iter_mut().for_each(|h| *h = 0.0);
        // ℓ = ½η + ½r²e^{−η}: ∂²/∂μ² = e^{−η}, ∂²/∂μ∂η = r·e^{−η}, ∂²/∂η² = ½r²e^{−η}.
        for i in 0..self.x.n {
            let s = weight(self.w, i);
            if s == 0.0 {
                continue;
            }
            let (r, iv) = (self.y[i] - self.mu[i], 1.0 / self.var[i]);
            self.x.outer_into(i, s * iv, hess, q, 0, 0);
            self.z.outer_into(i, 0.5 * s * r * r * iv, hess, q, d, d);
            for a in 0..d {
                for b in 0..self.z.dim() {
                    let v = s * r * iv * self.x.at(i, a) * self.z.at(i, b);
                    hess[a * q + d + b] += v;
                    hess[(d + b) * q + a] += v;
                }
            }
        }
        true
    }
}

/// Gaussian regression with a log-linear variance model, by maximum likelihood.
///
/// ```text
/// yᵢ ~ N(μᵢ, σᵢ²),  μᵢ = x̃ᵢ·β,  log σᵢ² = z̃ᵢ·γ
/// NLL      = Σᵢ sᵢ·[½ log 2π + ½ log σᵢ² + ½ (yᵢ − μᵢ)²/σᵢ²]
/// ∂/∂β     = −Σᵢ sᵢ (yᵢ − μᵢ)/σᵢ² · x̃ᵢ
/// ∂/∂γ     = Σᵢ sᵢ ½ (1 − (yᵢ − μᵢ)²/σᵢ²) · z̃ᵢ
/// Hessian  ββ: Σ sᵢ x̃x̃ᵀ/σᵢ²,  βγ: Σ sᵢ rᵢ x̃z̃ᵀ/σᵢ²,  γγ: Σ sᵢ ½ rᵢ² z̃z̃ᵀ/σᵢ²
/// ```
///
/// The value and gradient come from [`crate::loss::gaussian_nll`] (`full = true`: the exact normal
/// NLL); Newton's method uses the exact Hessian above, started at least squares with a constant
/// variance. With Z = X (the default) the variance depends on the same regressors as the mean.
///
/// # Errors
/// As [`student_t_regression`]; [`Error::ShapeMismatch`] and [`Error::NonFiniteData`] also for Z
/// (named `Z`).
///
/// # Example
/// ```
/// use surprisal::fit::robust::{heteroscedastic_regression, HeteroscedasticOptions};
/// // A group indicator in both models: the fit is saturated, so each group gets its mean and its
/// // mean squared deviation: group 0 {1, 2, 6} (mean 3, variance 14/3), group 1 {0, 4} (2, 4).
/// let x = [0.0, 0.0, 0.0, 1.0, 1.0];
/// let y = [1.0, 2.0, 6.0, 0.0, 4.0];
/// let fit = heteroscedastic_regression(&x, 1, &y, &HeteroscedasticOptions::default()).unwrap();
/// assert!((fit.intercept - 3.0).abs() < 1e-10 && (fit.coef[0] - -1.0).abs() < 1e-10);
/// assert!((fit.variance_intercept - (14.0f64 / 3.0).ln()).abs() < 1e-10);
/// assert!((fit.variance_coef[0] - (4.0f64 * 3.0 / 14.0).ln()).abs() < 1e-10);
/// ```
pub fn heteroscedastic_regression(
    x: &[f64],
    n_features: usize,
    y: &[f64],
    opts: &HeteroscedasticOptions,
) -> Result<HeteroscedasticFit> {
    let xr = validate(x, n_features, y, opts.sample_weight, opts.fit_intercept)?;
    let (zdata, q) = opts.variance_regressors.unwrap_or((x, n_features));
    let zr = Regressors::new("Z", zdata, y.len(), q, opts.fit_intercept)?;
    let beta0 = xr.least_squares(y, opts.sample_weight)?;
    let r = residuals(&xr, y, &beta0);
    let (sw, sr): (f64, f64) = (0..y.len())
        .map(|i| (weight(opts.sample_weight, i), weight(opts.sample_weight, i) * r[i] * r[i]))
        .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    if sr <= 0.0 {
        return Err(exact_fit());
    }
    let mut theta0 = beta0;
    let mut gamma0 = vec![0.0; zr.dim()];
    if opts.fit_intercept {
        gamma0[q] = (sr / sw).ln();
    }
    theta0.extend(gamma0);
    let n = y.len();
    let mut obj =
        HeteroObjective { x: xr, z: zr, y, w: opts.sample_weight, mu: vec![0.0; n], var: vec![0.0; n] };
    let (theta, report) = newton(&mut obj, &theta0, &opts.newton)?;
    let info = observed_information(&mut obj, &theta)?;
    let (_, stderr) = standard_errors(&info, theta.len())?;
    let d = xr.dim();
    Ok(HeteroscedasticFit {
        coef: theta[..n_features].to_vec(),
        intercept: if opts.fit_intercept { theta[n_features] } else { 0.0 },
        variance_coef: theta[d..d + q].to_vec(),
        variance_intercept: if opts.fit_intercept { theta[d + q] } else { 0.0 },
        nll: report.value,
        theta,
        stderr,
        report,
    })
}
