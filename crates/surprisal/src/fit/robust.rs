//! Regression with heavy tails and with a modelled variance: each fit minimises a negative
//! log-likelihood (or, for Huber, scikit-learn's concomitant-scale objective) with Newton's method
//! ([`fn@crate::fit::newton`]).
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

impl StudentTFit {
    /// Whether ν, learned, ran off towards ∞ (the normal, the Student-t's limit): it ended beyond
    /// [`STUDENT_T_NORMAL_LIMIT`](super::STUDENT_T_NORMAL_LIMIT), and the report says
    /// [`Stop::AtLimit`](super::Stop::AtLimit). The likelihood then keeps rising with ν because
    /// the residuals' tails are no heavier than the normal's, and the fit tends to least squares.
    pub fn df_at_normal_limit(&self) -> bool {
        self.report.stop == super::Stop::AtLimit
    }
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
/// [`Error::Empty`] for n = 0; [`Error::ShapeMismatch`]; [`Error::InvalidEntry`] naming the row
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
    let (theta, mut report) = newton(&mut obj, &theta0, &opts.newton)?;
    let d = xr.dim();
    // ν learned beyond the normal limit: no maximum (the likelihood keeps rising with ν), however
    // small the gradient got; ν has no information there, the others theirs at that ν.
    let at_limit = fixed.is_none() && theta[d + 1].exp() > super::STUDENT_T_NORMAL_LIMIT;
    if at_limit {
        report.stop = super::Stop::AtLimit;
    }
    // Where many rows lie on one hyperplane, the likelihood rises without a maximum as the fit
    // passes through them and σ → 0 (for ν learned, ν → 0 with it: unbounded as soon as one row
    // is fitted exactly; for ν fixed, once the k rows fitted exactly exceed ν·(n − k)). The
    // optimiser then stops with σ far below its start.
    let no_maximum = || -> Option<Error> {
        let sigma = theta[d].exp();
        if sigma.is_nan() || sigma >= 1e-4 * s0 {
            return None;
        }
        let exact = residuals(&xr, y, &theta[..d]).iter().filter(|r| r.abs() <= 1e3 * sigma).count();
        let nu = if fixed.is_none() {
            format!(" and ν → 0 (ν = {:.3})", theta[d + 1].exp())
        } else {
            String::new()
        };
        Some(Error::Numerical {
            what: "Student-t regression",
            reason: format!(
                "the likelihood has no maximum: it rises as the scale → 0{nu} with the fit through \
                 {exact} of the {} rows (scale {sigma:.1e} where the fit stopped); fit the quantile \
                 regression (τ = 0.5, the Laplace likelihood){}",
                y.len(),
                if fixed.is_none() { " or hold ν fixed" } else { " or a larger ν" },
            ),
        })
    };
    if !report.converged()
        && !at_limit
        && let Some(e) = no_maximum()
    {
        return Err(e);
    }
    let stderr = if at_limit {
        let mut at_nu = StudentTObjective { df: Some(theta[d + 1].exp()), ..obj };
        let info = observed_information(&mut at_nu, &theta[..=d])?;
        let mut se = standard_errors(&info, d + 1)?.1;
        se.push(f64::INFINITY);
        se
    } else {
        let info = observed_information(&mut obj, &theta).map_err(|e| no_maximum().unwrap_or(e))?;
        standard_errors(&info, theta.len()).map_err(|e| no_maximum().unwrap_or(e))?.1
    };
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
/// minimiser does not depend on the start. ρ_ε and ψ_ε come from [`fn@crate::loss::huber`]. The
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
/// The value and gradient come from [`fn@crate::loss::gaussian_nll`] (`full = true`: the exact normal
/// NLL); Newton's method uses the exact Hessian above, started at least squares with a constant
/// variance. With Z = X (the default) the variance depends on the same regressors as the mean.
///
/// # Errors
/// As [`student_t_regression`]; [`Error::ShapeMismatch`] and [`Error::InvalidEntry`] also for Z
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Rng;

    /// Rows of p standard-normal features.
    fn features(rng: &mut Rng, n: usize, p: usize) -> Vec<f64> {
        (0..n * p).map(|_| rng.normal()).collect()
    }

    /// A t_ν draw for integer ν: Z / √(χ²_ν/ν).
    fn student_t(rng: &mut Rng, nu: usize) -> f64 {
        let chi2: f64 = (0..nu).map(|_| rng.normal().powi(2)).sum();
        rng.normal() / (chi2 / nu as f64).sqrt()
    }

    fn within_4_se(est: &[f64], truth: &[f64], se: &[f64]) {
        for (j, ((e, t), s)) in est.iter().zip(truth).zip(se).enumerate() {
            assert!(s.is_finite() && *s > 0.0, "stderr[{j}] = {s}");
            assert!((e - t).abs() < 4.0 * s, "θ[{j}] = {e}, true {t}, se {s}");
        }
    }

    fn check_gradient(obj: &mut dyn Objective, theta: &[f64], tol: f64) {
        let d = theta.len();
        let mut g = vec![0.0; d];
        obj.value_grad(theta, &mut g);
        for j in 0..d {
            let h = f64::EPSILON.cbrt() * theta[j].abs().max(1.0);
            let (mut a, mut b) = (theta.to_vec(), theta.to_vec());
            a[j] += h;
            b[j] -= h;
            let fd = (obj.value(&a) - obj.value(&b)) / (2.0 * h);
            assert!((g[j] - fd).abs() < tol * (1.0 + fd.abs()), "∂f/∂θ[{j}]: {} vs {fd}", g[j]);
        }
    }

    #[test]
    fn student_t_recovers_seeded_parameters_within_4_se() {
        let (n, nu, sigma) = (3000, 4, 0.7);
        let beta = [1.5, -2.0, 0.5]; // two slopes, intercept
        let mut rng = Rng(42);
        let x = features(&mut rng, n, 2);
        let y: Vec<f64> = (0..n)
            .map(|i| beta[0] * x[2 * i] + beta[1] * x[2 * i + 1] + beta[2] + sigma * student_t(&mut rng, nu))
            .collect();
        let fit = student_t_regression(&x, 2, &y, &StudentTOptions::default()).unwrap();
        assert!(fit.report.converged(), "{:?}", fit.report);
        let truth = [beta[0], beta[1], beta[2], sigma.ln(), (nu as f64).ln()];
        within_4_se(&fit.theta, &truth, &fit.stderr);
        // Fixed ν: the same model with one parameter fewer.
        let fixed = StudentTOptions { df: Df::Fixed(nu as f64), ..Default::default() };
        let fit = student_t_regression(&x, 2, &y, &fixed).unwrap();
        assert_eq!(fit.theta.len(), 4);
        within_4_se(&fit.theta, &truth[..4], &fit.stderr);
        assert_eq!(fit.df, 4.0);
    }

    /// Seven of ten rows on one line: with ν learned the likelihood has no maximum (σ → 0 and
    /// ν → 0 through them), and the error says so; with ν = 3 > 7/3 it has one.
    #[test]
    fn student_t_names_a_likelihood_without_maximum() {
        let x: Vec<f64> = (1..=10).map(f64::from).collect();
        let y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 9.5, 7.0, 13.0];
        let msg = student_t_regression(&x, 1, &y, &StudentTOptions::default()).unwrap_err().to_string();
        assert!(
            msg.contains("no maximum") && msg.contains("ν → 0") && msg.contains("7 of the 10 rows"),
            "{msg}"
        );
        let one = StudentTOptions { df: Df::Fixed(1.0), ..Default::default() };
        let msg = student_t_regression(&x, 1, &y, &one).unwrap_err().to_string();
        assert!(
            msg.contains("no maximum") && msg.contains("7 of the 10 rows") && msg.contains("a larger ν"),
            "{msg}"
        );
        let three = StudentTOptions { df: Df::Fixed(3.0), ..Default::default() };
        let fit = student_t_regression(&x, 1, &y, &three).unwrap();
        assert!(fit.report.converged() && fit.scale > 0.1, "{fit:?}");
    }

    /// Residuals with tails no heavier than the normal's: learned ν runs off to ∞, and the fit
    /// says so (AtLimit, not converged) however small the gradient got there; ν has no
    /// information (SE ∞), β and σ theirs at that ν, and β is least squares' up to O(1/ν).
    #[test]
    fn student_t_at_the_normal_limit_says_so() {
        let x = [0.0, 1.0, 2.0, 3.0];
        let y = [1.0, 2.0, 3.5, 4.0];
        let fit = student_t_regression(&x, 1, &y, &StudentTOptions::default()).unwrap();
        assert!(fit.df > crate::fit::STUDENT_T_NORMAL_LIMIT, "{fit:?}");
        assert_eq!(fit.report.stop, crate::fit::Stop::AtLimit);
        assert!(fit.df_at_normal_limit() && !fit.report.converged());
        assert_eq!(fit.stderr.len(), 4);
        assert_eq!(fit.stderr[3], f64::INFINITY);
        assert!(fit.stderr[..3].iter().all(|s| s.is_finite() && *s > 0.0), "{:?}", fit.stderr);
        assert!((fit.coef[0] - 1.05).abs() < 1e-3, "{fit:?}"); // Sxy/Sxx = 5.25/5
        // Held fixed, ν is never at the limit.
        let fixed = StudentTOptions { df: Df::Fixed(30.0), ..Default::default() };
        let fit = student_t_regression(&x, 1, &y, &fixed).unwrap();
        assert!(!fit.df_at_normal_limit() && fit.report.converged(), "{fit:?}");
        // A huge fixed ν converges to the normal's fit: least squares, σ² = RSS/n = 0.175/4
        // (the NLL, its constant terms ~30 against ~0.6, rounds beyond the last Newton steps).
        for nu in [1e6, 1e12] {
            let opts = StudentTOptions { df: Df::Fixed(nu), ..Default::default() };
            let fit = student_t_regression(&x, 1, &y, &opts).unwrap();
            assert!(fit.report.converged(), "ν = {nu}: {:?}", fit.report);
            assert!((fit.intercept - 1.05).abs() < 1e-5 && (fit.coef[0] - 1.05).abs() < 1e-5, "{fit:?}");
            assert!((fit.scale - (0.175f64 / 4.0).sqrt()).abs() < 1e-5, "{fit:?}");
        }
    }

    #[test]
    fn student_t_gradient_and_stationarity() {
        let mut rng = Rng(3);
        let x = features(&mut rng, 200, 1);
        let y: Vec<f64> = (0..200).map(|i| 2.0 * x[i] + student_t(&mut rng, 3)).collect();
        let w: Vec<f64> = (0..200).map(|i| 0.5 + (i % 4) as f64 * 0.5).collect();
        let xr = Regressors::new("X", &x, 200, 1, true).unwrap();
        let mut obj = StudentTObjective { x: xr, y: &y, w: Some(&w), df: None, mu: vec![0.0; 200] };
        check_gradient(&mut obj, &[1.5, 0.2, 0.1, 1.0], 1e-6);
        let opts = StudentTOptions { sample_weight: Some(&w), ..Default::default() };
        let fit = student_t_regression(&x, 1, &y, &opts).unwrap();
        let mut g = vec![0.0; 4];
        obj.value_grad(&fit.theta, &mut g);
        assert!(g.iter().all(|v| v.abs() < 1e-7), "{g:?}");
        // The finite-difference observed information matches the curvature of f along θ's axes.
        let info = observed_information(&mut obj, &fit.theta).unwrap();
        for j in 0..4 {
            let h = 1e-4;
            let (mut a, mut b) = (fit.theta.clone(), fit.theta.clone());
            a[j] += h;
            b[j] -= h;
            let f0 = obj.value(&fit.theta);
            let second = (obj.value(&a) - 2.0 * f0 + obj.value(&b)) / (h * h);
            assert!((info[j * 4 + j] - second).abs() < 1e-3 * second.abs(), "{j}");
        }
    }

    #[test]
    fn heteroscedastic_recovers_the_variance_model_within_4_se() {
        let n = 2000;
        let (beta, gamma) = ([1.0, -0.5, 2.0], [0.8, -0.4, -1.0]);
        let mut rng = Rng(7);
        let x = features(&mut rng, n, 2);
        let y: Vec<f64> = (0..n)
            .map(|i| {
                let (a, b) = (x[2 * i], x[2 * i + 1]);
                let sd = (0.5 * (gamma[0] * a + gamma[1] * b + gamma[2])).exp();
                beta[0] * a + beta[1] * b + beta[2] + sd * rng.normal()
            })
            .collect();
        let fit = heteroscedastic_regression(&x, 2, &y, &HeteroscedasticOptions::default()).unwrap();
        assert!(fit.report.converged(), "{:?}", fit.report);
        let truth = [beta[0], beta[1], beta[2], gamma[0], gamma[1], gamma[2]];
        within_4_se(&fit.theta, &truth, &fit.stderr);
        // The variance model is detected: γ₁ is many standard errors from 0.
        assert!(fit.variance_coef[0] / fit.stderr[3] > 10.0);
        // A separate Z (only the first feature) and the analytic Hessian equals the observed
        // information by central differences.
        let z: Vec<f64> = (0..n).map(|i| x[2 * i]).collect();
        let opts = HeteroscedasticOptions { variance_regressors: Some((&z, 1)), ..Default::default() };
        let fit = heteroscedastic_regression(&x, 2, &y, &opts).unwrap();
        assert_eq!(fit.theta.len(), 5);
        let xr = Regressors::new("X", &x, n, 2, true).unwrap();
        let zr = Regressors::new("Z", &z, n, 1, true).unwrap();
        let mut obj = HeteroObjective { x: xr, z: zr, y: &y, w: None, mu: vec![0.0; n], var: vec![0.0; n] };
        let t: Vec<f64> = fit.theta.iter().map(|v| v + 0.05).collect();
        check_gradient(&mut obj, &t, 1e-6);
        let mut h = vec![0.0; 25];
        obj.hessian(&t, &mut h);
        let fd = observed_information(&mut obj, &t).unwrap();
        for (a, b) in h.iter().zip(&fd) {
            assert!((a - b).abs() < 1e-6 * (1.0 + a.abs()), "{a} vs {b}");
        }
    }

    /// scikit-learn's HuberRegressor on seeded data with outliers (tests/data/huber).
    ///
    /// scikit-learn's L-BFGS-B stops at its tolerance, with a gradient g_sk ≠ 0 at its answer
    /// θ_sk (recorded). The exact minimiser is θ_sk − H⁻¹g_sk when the inlier set does not change
    /// (the objective is piecewise quadratic in (w, c) and smooth in σ), so the difference between
    /// the two answers must be that Newton step, up to its own second-order error: each entry
    /// matches within 2|H⁻¹g_sk| + 1e-9.
    #[test]
    fn huber_matches_scikit_learn() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/huber/huber_case.json");
        let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let vec = |v: &serde_json::Value| -> Vec<f64> {
            v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
        };
        for case in doc["cases"].as_array().unwrap() {
            let rows = case["X"].as_array().unwrap();
            let p = rows[0].as_array().unwrap().len();
            let x: Vec<f64> = rows.iter().flat_map(&vec).collect();
            let y = vec(&case["y"]);
            let w = case.get("sample_weight").map(vec);
            let opts = HuberOptions {
                epsilon: case["epsilon"].as_f64().unwrap(),
                alpha: case["alpha"].as_f64().unwrap(),
                sample_weight: w.as_deref(),
                ..Default::default()
            };
            let fit = huber_regression(&x, p, &y, &opts).unwrap();
            assert!(fit.report.converged(), "{:?}", fit.report);
            let mut sk = vec(&case["coef"]);
            sk.push(case["intercept"].as_f64().unwrap());
            sk.push(case["scale"].as_f64().unwrap());
            let mut ours = fit.coef.clone();
            ours.push(fit.intercept);
            ours.push(fit.scale);
            let xr = Regressors::new("X", &x, y.len(), p, true).unwrap();
            let n = y.len();
            let mut obj = HuberObjective {
                x: xr,
                y: &y,
                w: w.as_deref(),
                epsilon: opts.epsilon,
                alpha: opts.alpha,
                z: vec![0.0; n],
                zeros: vec![0.0; n],
            };
            // Our gradient at scikit-learn's answer is scikit-learn's: the same objective.
            let d = p + 2;
            let mut g = vec![0.0; d];
            let f_sk = obj.value_grad(&sk, &mut g);
            for (a, b) in g.iter().zip(vec(&case["grad_at_reference"])) {
                assert!((a - b).abs() < 1e-8 * (1.0 + b.abs()), "gradient {a} vs {b}");
            }
            assert!(fit.objective <= f_sk);
            let mut h = vec![0.0; d * d];
            obj.hessian(&sk, &mut h);
            let l = cholesky(&h, d).unwrap();
            let mut step = g.clone();
            crate::num::linalg::cholesky_solve(&l, d, &mut step);
            for j in 0..d {
                let tol = 2.0 * step[j].abs() + 1e-9;
                assert!(
                    (ours[j] - sk[j]).abs() <= tol,
                    "{} θ[{j}]: {} vs {} (tol {tol})",
                    case["name"],
                    ours[j],
                    sk[j]
                );
            }
            // And the step is small: scikit-learn's answer is close.
            assert!(step.iter().all(|s| s.abs() < 1e-2), "{step:?}");
            // Gradient zero at our fit; the analytic gradient matches central differences.
            obj.value_grad(&ours, &mut g);
            assert!(g.iter().all(|v| v.abs() < 1e-8), "{g:?}");
            check_gradient(&mut obj, &sk, 1e-6);
            let n_out = fit.outliers.iter().filter(|&&o| o).count();
            assert!(n_out >= n / 10, "{n_out} outliers");
        }
    }

    #[test]
    fn huber_resists_outliers_where_least_squares_does_not() {
        let mut rng = Rng(9);
        let n = 400;
        let x = features(&mut rng, n, 1);
        let mut y: Vec<f64> = (0..n).map(|i| 3.0 * x[i] + 1.0 + 0.3 * rng.normal()).collect();
        for yi in y.iter_mut().take(40) {
            *yi += 50.0;
        }
        let fit = huber_regression(&x, 1, &y, &HuberOptions::default()).unwrap();
        let xr = Regressors::new("X", &x, n, 1, true).unwrap();
        let ls = xr.least_squares(&y, None).unwrap();
        assert!((fit.coef[0] - 3.0).abs() < 0.1 && (fit.intercept - 1.0).abs() < 0.2, "{fit:?}");
        assert!((ls[1] - 1.0).abs() > 3.0);
    }

    #[test]
    fn typed_errors() {
        let y = [1.0, 2.0, 3.0];
        let x = [0.0, 1.0, 2.0];
        let t = StudentTOptions::default();
        assert!(matches!(student_t_regression(&[], 0, &[], &t), Err(Error::Empty { .. })));
        assert!(matches!(
            student_t_regression(&x, 1, &[1.0, f64::NAN, 3.0], &t),
            Err(Error::InvalidEntry { name: "y", row: 1, col: None, .. })
        ));
        assert!(matches!(student_t_regression(&x, 2, &y, &t), Err(Error::ShapeMismatch { .. })));
        // y exactly linear in x: no scale.
        assert!(matches!(student_t_regression(&x, 1, &[1.0, 3.0, 5.0], &t), Err(Error::Numerical { .. })));
        let bad_df = StudentTOptions { df: Df::Fixed(-1.0), ..t };
        assert!(matches!(
            student_t_regression(&x, 1, &y, &bad_df),
            Err(Error::InvalidParameter { name: "df", .. })
        ));
        let h = HuberOptions { epsilon: 0.0, ..Default::default() };
        assert!(matches!(
            huber_regression(&x, 1, &y, &h),
            Err(Error::InvalidParameter { name: "epsilon", .. })
        ));
        let h = HuberOptions { alpha: -1.0, ..Default::default() };
        assert!(matches!(
            huber_regression(&x, 1, &y, &h),
            Err(Error::InvalidParameter { name: "alpha", .. })
        ));
        let z = [0.0, f64::INFINITY, 1.0];
        let o = HeteroscedasticOptions { variance_regressors: Some((&z, 1)), ..Default::default() };
        assert!(matches!(
            heteroscedastic_regression(&x, 1, &[1.0, 2.5, 3.0], &o),
            Err(Error::InvalidEntry { name: "Z", row: 1, col: Some(0), .. })
        ));
        // Collinear columns.
        let xc = [1.0, 2.0, 2.0, 4.0, 3.0, 6.0];
        assert!(matches!(
            heteroscedastic_regression(&xc, 2, &y, &HeteroscedasticOptions::default()),
            Err(Error::Numerical { .. })
        ));
        let w = [1.0, -1.0, 1.0];
        let o = HuberOptions { sample_weight: Some(&w), ..Default::default() };
        assert!(matches!(
            huber_regression(&x, 1, &y, &o),
            Err(Error::InvalidParameter { name: "sample_weight", .. })
        ));
    }
}
