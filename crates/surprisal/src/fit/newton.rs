//! Newton's method with step halving; with the Fisher information as the Hessian this is
//! Fisher scoring, i.e. iteratively reweighted least squares (IRLS) for GLMs.
//!
//! ```text
//! d = −H(θ)⁻¹ ∇f(θ)                       (Cholesky; if H is not positive definite, H + λI with
//!                                           λ grown tenfold from 1e-10·max diag H, then twice
//!                                           the Gershgorin bound max_i Σ_{j≠i}|hᵢⱼ| − hᵢᵢ)
//! θ ← θ + t·d, t = 1, ½, ¼, …             until f(θ + t·d) ≤ f(θ) + 10⁻⁴·t·∇fᵀd (Armijo)
//! stop when ‖∇f‖∞ ≤ gtol·max(1, |f|)      (GradientTolerance; a last full step then polishes θ)
//!   or a full step changes f by ≤ ftol·max(1, |f|)   (ObjectiveTolerance)
//! a full step is also taken where f cannot resolve it (−½∇fᵀd and f(θ + d) − f(θ) both
//!   ≤ 1e-12·max(1, |f|)) and it shrinks ‖∇f‖∞: f's rounding, from terms much larger than f,
//!   can exceed ftol·|f|
//! ```

use super::{Objective, Report, Stop, inf_norm};
use crate::error::{Error, Result};
use crate::num::linalg::{cholesky, cholesky_solve};

/// The rounding of an objective relative to max(1, |f|) that a step may be lost in (see
/// [`newton`]): a likelihood sums terms far larger than itself.
const ROUNDING: f64 = 1e-12;

/// Settings of [`newton`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NewtonOptions {
    /// Maximum number of Newton steps.
    pub max_iter: usize,
    /// Gradient tolerance, relative to max(1, |f|).
    pub gtol: f64,
    /// Objective-change tolerance, relative to max(1, |f|), for a full step.
    pub ftol: f64,
    /// Maximum number of step halvings per iteration.
    pub max_halvings: usize,
}

impl Default for NewtonOptions {
    fn default() -> Self {
        NewtonOptions { max_iter: 100, gtol: 1e-10, ftol: 1e-15, max_halvings: 60 }
    }
}

/// Minimises `obj` from `theta0` by Newton's method with step halving.
///
/// Returns the last accepted point and a [`Report`]; a run that did not converge is still `Ok`
/// (the report says why it stopped), so the caller decides whether that is an error.
///
/// # Errors
/// [`Error::ShapeMismatch`] if `theta0.len() != obj.dim()`; [`Error::InvalidOption`] if the
/// objective provides no Hessian.
///
/// # Example
/// ```
/// use surprisal::fit::{Objective, newton::{newton, NewtonOptions}};
/// // f(θ) = Σ (e^θᵢ − yᵢθᵢ): the Poisson NLL of a log-rate; the minimum is θᵢ = log yᵢ.
/// struct PoissonRates(Vec<f64>);
/// impl Objective for PoissonRates {
///     fn dim(&self) -> usize { self.0.len() }
///     fn value_grad(&mut self, t: &[f64], g: &mut [f64]) -> f64 {
///         let mut f = 0.0;
///         for i in 0..t.len() { f += t[i].exp() - self.0[i] * t[i]; g[i] = t[i].exp() - self.0[i]; }
///         f
///     }
///     fn hessian(&mut self, t: &[f64], h: &mut [f64]) -> bool {
///         let p = t.len();
///         h.iter_mut().for_each(|v| *v = 0.0);
///         for i in 0..p { h[i * p + i] = t[i].exp(); }
///         true
///     }
/// }
/// let (theta, report) = newton(&mut PoissonRates(vec![3.0, 0.5]), &[0.0, 0.0], &NewtonOptions::default()).unwrap();
/// assert!(report.converged());
/// assert!((theta[0] - 3f64.ln()).abs() < 1e-12 && (theta[1] - 0.5f64.ln()).abs() < 1e-12);
/// ```
pub fn newton<O: Objective + ?Sized>(
    obj: &mut O,
    theta0: &[f64],
    opts: &NewtonOptions,
) -> Result<(Vec<f64>, Report)> {
    let p = obj.dim();
    crate::error::check::same_len("theta0", p, theta0.len())?;
    let mut theta = theta0.to_vec();
    let mut grad = vec![0.0; p];
    let mut hess = vec![0.0; p * p];
    let mut f = obj.value_grad(&theta, &mut grad);
    let mut report = Report::start(f, &grad);
    if report.stop == Stop::NonFiniteStart {
        return Ok((theta, report));
    }
    let mut trial = vec![0.0; p];
    let mut trial_grad = vec![0.0; p];
    while report.iterations < opts.max_iter {
        let small_gradient = report.grad_norm <= opts.gtol * f.abs().max(1.0);
        if !obj.hessian(&theta, &mut hess) {
            return Err(Error::InvalidOption {
                name: "optimiser",
                value: "newton".into(),
                reason: "the objective provides no Hessian; use L-BFGS",
            });
        }
        let Some(dir) = newton_direction(&hess, &grad, p) else {
            report.stop = Stop::IndefiniteHessian;
            return Ok((theta, report));
        };
        if small_gradient {
            // Converged: one last full Newton step polishes θ (its error is squared) when f does
            // not rise beyond rounding.
            report.stop = Stop::GradientTolerance;
            for i in 0..p {
                trial[i] = theta[i] + dir[i];
            }
            let ft = obj.value_grad(&trial, &mut trial_grad);
            report.evaluations += 1;
            if ft.is_finite() && ft <= f + opts.ftol * f.abs().max(1.0) {
                report.iterations += 1;
                report.objective_change = (f - ft).abs();
                report.value = ft;
                report.grad_norm = inf_norm(&trial_grad);
                return Ok((trial, report));
            }
            return Ok((theta, report));
        }
        let slope: f64 = grad.iter().zip(&dir).map(|(g, d)| g * d).sum();
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..=opts.max_halvings {
            for i in 0..p {
                trial[i] = theta[i] + t * dir[i];
            }
            let ft = obj.value_grad(&trial, &mut trial_grad);
            report.evaluations += 1;
            if ft.is_finite() && ft <= f + 1e-4 * t * slope {
                accepted = Some(ft);
                break;
            }
            // Where the model's decrease −½∇fᵀd and the change of f are both within f's rounding
            // (from terms much larger than f it can exceed ftol·|f|), f cannot judge the step; the
            // gradient can, and a full step that shrinks it is taken.
            let rounding = ROUNDING * f.abs().max(1.0);
            if t == 1.0
                && ft.is_finite()
                && -0.5 * slope <= rounding
                && ft - f <= rounding
                && inf_norm(&trial_grad) < report.grad_norm
            {
                accepted = Some(ft);
                break;
            }
            // At rounding level a full step may not decrease f at all: that is convergence, and
            // the full Newton step is still taken (it squares the error of θ even when f cannot
            // show it).
            if t == 1.0 && ft.is_finite() && (ft - f).abs() <= opts.ftol * f.abs().max(1.0) {
                report.iterations += 1;
                report.stop = Stop::ObjectiveTolerance;
                report.objective_change = (ft - f).abs();
                report.value = ft;
                report.grad_norm = inf_norm(&trial_grad);
                return Ok((trial, report));
            }
            t *= 0.5;
        }
        let Some(ft) = accepted else {
            report.stop = Stop::LineSearchFailed;
            return Ok((theta, report));
        };
        std::mem::swap(&mut theta, &mut trial);
        std::mem::swap(&mut grad, &mut trial_grad);
        report.iterations += 1;
        report.objective_change = (f - ft).abs();
        f = ft;
        report.value = f;
        report.grad_norm = inf_norm(&grad);
        if t == 1.0 && report.objective_change <= opts.ftol * f.abs().max(1.0) {
            report.stop = Stop::ObjectiveTolerance;
            return Ok((theta, report));
        }
    }
    if report.grad_norm <= opts.gtol * f.abs().max(1.0) {
        report.stop = Stop::GradientTolerance;
    }
    Ok((theta, report))
}

/// −H⁻¹g by Cholesky, regularising H + λI when it is not positive definite.
fn newton_direction(hess: &[f64], grad: &[f64], p: usize) -> Option<Vec<f64>> {
    let max_diag = (0..p).map(|i| hess[i * p + i].abs()).fold(0.0, f64::max).max(1e-300);
    let mut lambda = 0.0;
    for _ in 0..12 {
        let mut h = hess.to_vec();
        for i in 0..p {
            h[i * p + i] += lambda;
        }
        if let Ok(l) = cholesky(&h, p) {
            let mut d: Vec<f64> = grad.iter().map(|g| -g).collect();
            cholesky_solve(&l, p, &mut d);
            return Some(d);
        }
        lambda = if lambda == 0.0 { 1e-10 * max_diag } else { lambda * 10.0 };
    }
    // Far from a minimum the negative curvature can exceed these shifts (large off-diagonal
    // terms): twice the Gershgorin bound max_i (Σ_{j≠i} |h_ij| − h_ii) makes H + λI strictly
    // diagonally dominant, hence positive definite, and the step a scaled descent direction.
    let gershgorin = (0..p)
        .map(|i| (0..p).filter(|&j| j != i).map(|j| hess[i * p + j].abs()).sum::<f64>() - hess[i * p + i])
        .fold(0.0, f64::max);
    let mut h = hess.to_vec();
    for i in 0..p {
        h[i * p + i] += 2.0 * gershgorin.max(1e-10 * max_diag);
    }
    let l = cholesky(&h, p).ok()?;
    let mut d: Vec<f64> = grad.iter().map(|g| -g).collect();
    cholesky_solve(&l, p, &mut d);
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f(x, y) = (1 − x)² + 100(y − x²)², with its exact Hessian (indefinite away from the valley).
    struct Rosenbrock;
    impl Objective for Rosenbrock {
        fn dim(&self) -> usize {
            2
        }
        fn value_grad(&mut self, t: &[f64], g: &mut [f64]) -> f64 {
            let (x, y) = (t[0], t[1]);
            g[0] = -2.0 * (1.0 - x) - 400.0 * x * (y - x * x);
            g[1] = 200.0 * (y - x * x);
            (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
        }
        fn hessian(&mut self, t: &[f64], h: &mut [f64]) -> bool {
            let (x, y) = (t[0], t[1]);
            h.copy_from_slice(&[2.0 - 400.0 * (y - 3.0 * x * x), -400.0 * x, -400.0 * x, 200.0]);
            true
        }
    }

    #[test]
    fn minimises_rosenbrock_from_the_classic_start() {
        let (t, r) = newton(&mut Rosenbrock, &[-1.2, 1.0], &NewtonOptions::default()).unwrap();
        assert!(r.converged(), "{r:?}");
        assert!((t[0] - 1.0).abs() < 1e-8 && (t[1] - 1.0).abs() < 1e-8, "{t:?}");
        assert!(r.iterations < 50);
    }

    #[test]
    fn is_deterministic_and_reports_non_finite_start() {
        let a = newton(&mut Rosenbrock, &[-1.2, 1.0], &NewtonOptions::default()).unwrap();
        let b = newton(&mut Rosenbrock, &[-1.2, 1.0], &NewtonOptions::default()).unwrap();
        assert_eq!(a, b);
        let (_, r) = newton(&mut Rosenbrock, &[f64::NAN, 1.0], &NewtonOptions::default()).unwrap();
        assert_eq!(r.stop, Stop::NonFiniteStart);
        assert!(newton(&mut Rosenbrock, &[1.0], &NewtonOptions::default()).is_err());
    }

    /// f(x, y) = x⁴ + y⁴ + 100xy: near the origin the Hessian [[12x², 100], [100, 12y²]] has
    /// curvature −100 against a diagonal of ~0.1, beyond the tenfold shifts; the Gershgorin shift
    /// still gives a descent step, and Newton reaches a minimum x = −y = ±5 (f = −1250).
    struct Saddle;
    impl Objective for Saddle {
        fn dim(&self) -> usize {
            2
        }
        fn value_grad(&mut self, t: &[f64], g: &mut [f64]) -> f64 {
            let (x, y) = (t[0], t[1]);
            g[0] = 4.0 * x.powi(3) + 100.0 * y;
            g[1] = 4.0 * y.powi(3) + 100.0 * x;
            x.powi(4) + y.powi(4) + 100.0 * x * y
        }
        fn hessian(&mut self, t: &[f64], h: &mut [f64]) -> bool {
            h.copy_from_slice(&[12.0 * t[0] * t[0], 100.0, 100.0, 12.0 * t[1] * t[1]]);
            true
        }
    }

    #[test]
    fn strongly_indefinite_hessians_still_step_downhill() {
        let (t, r) = newton(&mut Saddle, &[0.1, 0.2], &NewtonOptions::default()).unwrap();
        assert!(r.converged(), "{r:?}");
        assert!((t[0].abs() - 5.0).abs() < 1e-9 && (t[0] + t[1]).abs() < 1e-9, "{t:?}");
        assert!((r.value + 1250.0).abs() < 1e-9, "{r:?}");
    }

    /// f(x) = Σᵢ eˣⁱ − xᵢ − 1 + c·(sin²(xᵢ + i) + cos²(xᵢ + i) − 1): the minimum at x = 0, but f
    /// is only known to the rounding of its large cancelling terms (c = 16: ~1e-14, beyond
    /// ftol·max(1, |f|) = 1e-15), as a likelihood's is; the Hessian, 1.5 times the true one as an
    /// approximate one can be, makes convergence linear. The last steps, whose decrease f cannot
    /// show, still converge.
    struct Rounded;
    impl Objective for Rounded {
        fn dim(&self) -> usize {
            3
        }
        fn value_grad(&mut self, t: &[f64], g: &mut [f64]) -> f64 {
            let c = 16.0;
            let mut f = 0.0;
            for (i, (gi, x)) in g.iter_mut().zip(t).enumerate() {
                *gi = x.exp_m1();
                let (s, k) = (x + i as f64).sin_cos();
                f += x.exp_m1() - x + c * s * s + c * k * k - c;
            }
            f
        }
        fn hessian(&mut self, t: &[f64], h: &mut [f64]) -> bool {
            h.fill(0.0);
            for i in 0..3 {
                h[i * 3 + i] = 1.5 * t[i].exp();
            }
            true
        }
    }

    #[test]
    fn converges_where_the_objective_cannot_resolve_the_last_steps() {
        for start in [[0.3, -0.2, 0.1], [1.0, 0.5, -0.7], [0.01, 0.02, -0.03]] {
            let (t, r) = newton(&mut Rounded, &start, &NewtonOptions::default()).unwrap();
            assert!(r.converged(), "{start:?}: {r:?}");
            assert!(t.iter().all(|x| x.abs() < 1e-8), "{start:?}: {t:?}");
            assert!(r.iterations < 40, "{start:?}: {r:?}");
        }
    }

    #[test]
    fn max_iterations_is_reported_not_hidden() {
        let opts = NewtonOptions { max_iter: 2, ..NewtonOptions::default() };
        let (_, r) = newton(&mut Rosenbrock, &[-1.2, 1.0], &opts).unwrap();
        assert_eq!(r.stop, Stop::MaxIterations);
        assert!(!r.converged());
    }
}
