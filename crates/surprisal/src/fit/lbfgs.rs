//! Limited-memory BFGS (L-BFGS) with a strong-Wolfe line search, for objectives with a gradient
//! and no (cheap) Hessian.
//!
//! ```text
//! d = −H·∇f(θ)              two-loop recursion over the last m pairs (s, y), H₀ = γI,
//!                           γ = sᵀy / yᵀy of the newest pair (first step: d = −∇f / max(1, ‖∇f‖∞))
//! θ ← θ + α·d               α from a strong-Wolfe line search (Nocedal & Wright Alg. 3.5 / 3.6,
//!                           cubic-interpolation zoom), trial α = 1 first:
//!                             f(θ + αd) ≤ f(θ) + c₁·α·∇fᵀd              c₁ = 10⁻⁴
//!                             |∇f(θ + αd)ᵀd| ≤ c₂·|∇fᵀd|                c₂ = 0.9
//! s = Δθ, y = Δ∇f           the pair is kept only if sᵀy > ε·‖s‖·‖y‖ (ε = machine epsilon)
//! stop when ‖∇f‖∞ ≤ gtol·max(1, |f|)                           (GradientTolerance)
//!   or an accepted step changes f by ≤ ftol·max(1, |f|),
//!   or the line search fails where the quasi-Newton step predicts a decrease −∇fᵀd
//!   ≤ ftol·max(1, |f|) (f is at rounding level)                  (ObjectiveTolerance)
//! ```
//!
//! The iteration is deterministic (same inputs, same iterates). Every accepted step satisfies the
//! strong Wolfe conditions; when the line search cannot find such a step (a non-smooth objective,
//! or a gradient that does not match the value) the run stops with [`Stop::LineSearchFailed`] at
//! the last accepted point. Non-finite values during the line search mean "outside the domain":
//! the step is shortened. Reference: Nocedal & Wright, *Numerical Optimization* (2nd ed.),
//! §3.5 and §7.2.

use super::{Objective, Report, Stop, inf_norm};
use crate::error::{Error, Result};
use std::collections::VecDeque;

/// Sufficient-decrease constant of the strong-Wolfe line search.
const C1: f64 = 1e-4;
/// Curvature constant of the strong-Wolfe line search.
const C2: f64 = 0.9;

/// Settings of [`lbfgs`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LbfgsOptions {
    /// Number m of curvature pairs (s, y) kept (≥ 1).
    pub memory: usize,
    /// Maximum number of iterations (accepted steps).
    pub max_iter: usize,
    /// Gradient tolerance on ‖∇f‖∞, relative to max(1, |f|).
    pub gtol: f64,
    /// Objective-change tolerance, relative to max(1, |f|).
    pub ftol: f64,
    /// Maximum number of objective evaluations per line search.
    pub max_line_search: usize,
}

impl Default for LbfgsOptions {
    fn default() -> Self {
        LbfgsOptions { memory: 10, max_iter: 1000, gtol: 1e-10, ftol: 1e-15, max_line_search: 40 }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

/// The last m curvature pairs (s, y, 1/sᵀy).
struct Memory {
    pairs: VecDeque<(Vec<f64>, Vec<f64>, f64)>,
    m: usize,
}

impl Memory {
    fn push(&mut self, s: Vec<f64>, y: Vec<f64>) {
        let sy = dot(&s, &y);
        if sy > f64::EPSILON * dot(&s, &s).sqrt() * dot(&y, &y).sqrt() {
            if self.pairs.len() == self.m {
                self.pairs.pop_front();
            }
            self.pairs.push_back((s, y, sy.recip()));
        }
    }

    /// d = −H·g by the two-loop recursion; steepest descent scaled to max-norm ≤ 1 without pairs.
    fn direction(&self, g: &[f64]) -> Vec<f64> {
        let Some((s_last, y_last, _)) = self.pairs.back() else {
            let k = inf_norm(g).recip().min(1.0);
            return g.iter().map(|v| -v * k).collect();
        };
        let mut q = g.to_vec();
        let mut alphas = Vec::with_capacity(self.pairs.len());
        for (s, y, rho) in self.pairs.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        let gamma = dot(s_last, y_last) / dot(y_last, y_last);
        q.iter_mut().for_each(|v| *v *= gamma);
        for ((s, y, rho), a) in self.pairs.iter().zip(alphas.iter().rev()) {
            let beta = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - beta) * si);
        }
        q.iter_mut().for_each(|v| *v = -*v);
        q
    }
}

/// One point on the search line: α, φ(α) = f(θ + αd), φ'(α) = ∇f(θ + αd)ᵀd, and θ + αd, ∇f there.
#[derive(Clone)]
struct Point {
    alpha: f64,
    f: f64,
    dphi: f64,
    x: Vec<f64>,
    g: Vec<f64>,
}

impl Point {
    fn finite(&self) -> bool {
        self.f.is_finite() && self.dphi.is_finite()
    }
}

/// The line search along d from θ (Nocedal & Wright Alg. 3.5 with the zoom of Alg. 3.6).
struct LineSearch<'a, O: Objective + ?Sized> {
    obj: &'a mut O,
    start: Point,
    d: &'a [f64],
    evals_left: usize,
    evaluations: usize,
}

impl<O: Objective + ?Sized> LineSearch<'_, O> {
    fn eval(&mut self, alpha: f64) -> Point {
        self.evals_left -= 1;
        self.evaluations += 1;
        let x: Vec<f64> = self.start.x.iter().zip(self.d).map(|(xi, di)| xi + alpha * di).collect();
        let mut g = vec![0.0; x.len()];
        let f = self.obj.value_grad(&x, &mut g);
        let dphi = dot(&g, self.d);
        Point { alpha, f, dphi, x, g }
    }

    fn armijo(&self, p: &Point) -> bool {
        p.f <= self.start.f + C1 * p.alpha * self.start.dphi
    }

    fn curvature(&self, p: &Point) -> bool {
        p.dphi.abs() <= -C2 * self.start.dphi
    }

    /// Alg. 3.5: expand α until a strong-Wolfe point or a bracket is found.
    fn search(&mut self) -> Option<Point> {
        let mut prev = self.start.clone();
        let mut alpha = 1.0;
        while self.evals_left > 0 {
            let cur = self.eval(alpha);
            if !cur.finite() || !self.armijo(&cur) || (prev.alpha > 0.0 && cur.f >= prev.f) {
                return self.zoom(prev, cur);
            }
            if self.curvature(&cur) {
                return Some(cur);
            }
            if cur.dphi >= 0.0 {
                return self.zoom(cur, prev);
            }
            alpha = 2.0 * cur.alpha;
            prev = cur;
        }
        None
    }

    /// Alg. 3.6: `lo` satisfies sufficient decrease with the lowest f so far, and the interval
    /// between `lo` and `hi` contains strong-Wolfe points.
    fn zoom(&mut self, mut lo: Point, mut hi: Point) -> Option<Point> {
        while self.evals_left > 0 {
            let width = (hi.alpha - lo.alpha).abs();
            if width <= f64::EPSILON * lo.alpha.abs().max(hi.alpha.abs()) {
                return None;
            }
            let alpha = interpolate(&lo, &hi);
            let cur = self.eval(alpha);
            if !cur.finite() || !self.armijo(&cur) || cur.f >= lo.f {
                hi = cur;
            } else {
                if self.curvature(&cur) {
                    return Some(cur);
                }
                if cur.dphi * (hi.alpha - lo.alpha) >= 0.0 {
                    hi = lo;
                }
                lo = cur;
            }
        }
        None
    }
}

/// The minimiser of the cubic through (α, φ, φ') at `lo` and `hi` (Nocedal & Wright eq. 3.59),
/// kept at least 10 % of the interval away from its ends; bisection when the cubic is unusable
/// (no real minimiser, or a non-finite end).
fn interpolate(lo: &Point, hi: &Point) -> f64 {
    let (a, b) = (lo.alpha, hi.alpha);
    let mid = 0.5 * (a + b);
    if !hi.finite() {
        return mid;
    }
    let d1 = lo.dphi + hi.dphi - 3.0 * (lo.f - hi.f) / (a - b);
    let disc = d1 * d1 - lo.dphi * hi.dphi;
    if disc.is_nan() || disc < 0.0 {
        return mid;
    }
    let d2 = (b - a).signum() * disc.sqrt();
    let t = b - (b - a) * (hi.dphi + d2 - d1) / (hi.dphi - lo.dphi + 2.0 * d2);
    let (left, right) = (a.min(b), a.max(b));
    let margin = 0.1 * (right - left);
    if t.is_finite() && t >= left + margin && t <= right - margin { t } else { mid }
}

/// Minimises `obj` from `theta0` by L-BFGS with a strong-Wolfe line search.
///
/// Returns the last accepted point and a [`Report`]; a run that did not converge is still `Ok`
/// (the report says why it stopped), so the caller decides whether that is an error.
///
/// # Errors
/// [`Error::ShapeMismatch`] if `theta0.len() != obj.dim()`; [`Error::InvalidOption`] for a memory
/// of 0.
///
/// # Example
/// ```
/// use surprisal::fit::{Objective, lbfgs::{lbfgs, LbfgsOptions}};
/// // f(θ) = Σ (e^θᵢ − yᵢθᵢ): the Poisson NLL of a log-rate; the minimum is θᵢ = log yᵢ.
/// struct PoissonRates(Vec<f64>);
/// impl Objective for PoissonRates {
///     fn dim(&self) -> usize { self.0.len() }
///     fn value_grad(&mut self, t: &[f64], g: &mut [f64]) -> f64 {
///         let mut f = 0.0;
///         for i in 0..t.len() { f += t[i].exp() - self.0[i] * t[i]; g[i] = t[i].exp() - self.0[i]; }
///         f
///     }
/// }
/// let (theta, report) = lbfgs(&mut PoissonRates(vec![3.0, 0.5]), &[0.0, 0.0], &LbfgsOptions::default()).unwrap();
/// assert!(report.converged());
/// assert!((theta[0] - 3f64.ln()).abs() < 1e-8 && (theta[1] - 0.5f64.ln()).abs() < 1e-8);
/// ```
pub fn lbfgs<O: Objective + ?Sized>(
    obj: &mut O,
    theta0: &[f64],
    opts: &LbfgsOptions,
) -> Result<(Vec<f64>, Report)> {
    let (theta, report, _) = lbfgs_with_step(obj, theta0, opts)?;
    Ok((theta, report))
}

/// [`lbfgs`], also returning ‖d‖∞ of the quasi-Newton step d = −H·∇f at the returned point (`None`
/// when no curvature pair was kept). At a finite minimiser this step is small; a long step with a
/// vanishing gradient means the infimum lies at infinity (e.g. separable classification data).
pub(crate) fn lbfgs_with_step<O: Objective + ?Sized>(
    obj: &mut O,
    theta0: &[f64],
    opts: &LbfgsOptions,
) -> Result<(Vec<f64>, Report, Option<f64>)> {
    let p = obj.dim();
    crate::error::check::same_len("theta0", p, theta0.len())?;
    if opts.memory == 0 {
        return Err(Error::InvalidOption {
            name: "memory",
            value: "0".into(),
            reason: "L-BFGS needs at least one curvature pair",
        });
    }
    let mut theta = theta0.to_vec();
    let mut grad = vec![0.0; p];
    let mut f = obj.value_grad(&theta, &mut grad);
    let mut report = Report::start(f, &grad);
    if report.stop == Stop::NonFiniteStart {
        return Ok((theta, report, None));
    }
    let mut memory = Memory { pairs: VecDeque::with_capacity(opts.memory), m: opts.memory };
    loop {
        let scale = f.abs().max(1.0);
        if report.grad_norm <= opts.gtol * scale {
            report.stop = Stop::GradientTolerance;
            break;
        }
        if report.iterations >= opts.max_iter {
            report.stop = Stop::MaxIterations;
            break;
        }
        let mut d = memory.direction(&grad);
        let mut slope = dot(&grad, &d);
        if slope.is_nan() || slope >= 0.0 {
            // Not a descent direction (rounding in stale curvature): restart from steepest descent.
            memory.pairs.clear();
            d = memory.direction(&grad);
            slope = dot(&grad, &d);
        }
        let start = Point { alpha: 0.0, f, dphi: slope, x: theta.clone(), g: grad.clone() };
        let mut ls =
            LineSearch { obj: &mut *obj, start, d: &d, evals_left: opts.max_line_search, evaluations: 0 };
        let accepted = ls.search();
        report.evaluations += ls.evaluations;
        let Some(next) = accepted else {
            // At rounding level f cannot show a decrease: when the quasi-Newton step predicts one
            // below the tolerance, that is convergence, not a failure.
            let converged = !memory.pairs.is_empty() && -slope <= opts.ftol * scale;
            report.stop = if converged { Stop::ObjectiveTolerance } else { Stop::LineSearchFailed };
            break;
        };
        let s: Vec<f64> = next.x.iter().zip(&theta).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = next.g.iter().zip(&grad).map(|(a, b)| a - b).collect();
        memory.push(s, y);
        report.iterations += 1;
        report.objective_change = (f - next.f).abs();
        (theta, grad, f) = (next.x, next.g, next.f);
        report.value = f;
        report.grad_norm = inf_norm(&grad);
        if report.objective_change <= opts.ftol * f.abs().max(1.0) {
            report.stop = Stop::ObjectiveTolerance;
            break;
        }
    }
    let step = (!memory.pairs.is_empty()).then(|| inf_norm(&memory.direction(&grad)));
    Ok((theta, report, step))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::newton::{NewtonOptions, newton};
    use crate::testing::Rng;

    /// Extended Rosenbrock: Σᵢ 100(x₂ᵢ − x₂ᵢ₋₁²)² + (1 − x₂ᵢ₋₁)² (the 2-D function for p = 2).
    struct Rosenbrock(usize);
    impl Objective for Rosenbrock {
        fn dim(&self) -> usize {
            self.0
        }
        fn value_grad(&mut self, t: &[f64], g: &mut [f64]) -> f64 {
            let mut f = 0.0;
            for i in (0..t.len()).step_by(2) {
                let (x, y) = (t[i], t[i + 1]);
                f += (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2);
                g[i] = -2.0 * (1.0 - x) - 400.0 * x * (y - x * x);
                g[i + 1] = 200.0 * (y - x * x);
            }
            f
        }
    }

    fn classic_start(p: usize) -> Vec<f64> {
        (0..p).map(|i| if i % 2 == 0 { -1.2 } else { 1.0 }).collect()
    }

    #[test]
    fn minimises_rosenbrock_in_2_and_10_dimensions() {
        for p in [2, 10] {
            let (t, r) = lbfgs(&mut Rosenbrock(p), &classic_start(p), &LbfgsOptions::default()).unwrap();
            assert!(r.converged(), "{r:?}");
            assert!(t.iter().all(|v| (v - 1.0).abs() < 1e-7), "{t:?}");
            assert!(r.value < 1e-14 && r.iterations < 200, "{r:?}");
        }
    }

    /// f(x) = ½ Σ λᵢ (xᵢ − cᵢ)² with λ log-spaced over [1, 10⁶] (condition number 10⁶).
    struct Quadratic {
        lambda: Vec<f64>,
        c: Vec<f64>,
    }
    impl Objective for Quadratic {
        fn dim(&self) -> usize {
            self.c.len()
        }
        fn value_grad(&mut self, t: &[f64], g: &mut [f64]) -> f64 {
            let mut f = 0.0;
            for i in 0..t.len() {
                let r = t[i] - self.c[i];
                f += 0.5 * self.lambda[i] * r * r;
                g[i] = self.lambda[i] * r;
            }
            f
        }
    }

    #[test]
    fn reaches_the_exact_minimiser_of_an_ill_conditioned_quadratic() {
        let p = 6;
        let lambda: Vec<f64> = (0..p).map(|i| 10f64.powf(6.0 * i as f64 / (p - 1) as f64)).collect();
        let c: Vec<f64> = (0..p).map(|i| (i as f64 * 0.7).sin() + 0.5).collect();
        let mut q = Quadratic { lambda: lambda.clone(), c: c.clone() };
        // Only the gradient criterion: ‖∇f‖∞ ≤ gtol bounds the error of coordinate i by gtol / λᵢ.
        let opts = LbfgsOptions { gtol: 1e-9, ftol: 0.0, ..LbfgsOptions::default() };
        let (t, r) = lbfgs(&mut q, &vec![0.0; p], &opts).unwrap();
        assert_eq!(r.stop, Stop::GradientTolerance, "{r:?}");
        for i in 0..p {
            let err = (t[i] - c[i]).abs();
            assert!(err <= 1e-9 / lambda[i] + 1e-15, "{i}: {} vs {} {r:?}", t[i], c[i]);
        }
        assert!(r.value < 1e-18, "{r:?}");
    }

    /// Mean logistic-regression NLL (1/n) Σ softplus(xᵢᵀβ) − yᵢ xᵢᵀβ, with its Hessian.
    struct Logistic {
        x: Vec<[f64; 3]>,
        y: Vec<f64>,
    }
    impl Objective for Logistic {
        fn dim(&self) -> usize {
            3
        }
        fn value_grad(&mut self, b: &[f64], g: &mut [f64]) -> f64 {
            g.iter_mut().for_each(|v| *v = 0.0);
            let n = self.y.len() as f64;
            let mut f = 0.0;
            for (xi, &yi) in self.x.iter().zip(&self.y) {
                let eta: f64 = (0..3).map(|k| xi[k] * b[k]).sum();
                f += crate::num::softplus(eta) - yi * eta;
                let r = crate::num::sigmoid(eta) - yi;
                (0..3).for_each(|k| g[k] += r * xi[k] / n);
            }
            f / n
        }
        fn hessian(&mut self, b: &[f64], h: &mut [f64]) -> bool {
            h.iter_mut().for_each(|v| *v = 0.0);
            let n = self.y.len() as f64;
            for xi in &self.x {
                let eta: f64 = (0..3).map(|k| xi[k] * b[k]).sum();
                let w = crate::num::sigmoid(eta) * crate::num::sigmoid(-eta) / n;
                (0..9).for_each(|j| h[j] += w * xi[j / 3] * xi[j % 3]);
            }
            true
        }
    }

    #[test]
    fn logistic_regression_agrees_with_newton() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for _ in 0..500 {
            let xi = [1.0, 4.0 * rng.uniform() - 2.0, 2.0 * rng.uniform() - 1.0];
            let p = crate::num::sigmoid(0.3 + 1.5 * xi[1] - 2.0 * xi[2]);
            y.push(f64::from(u8::from(rng.uniform() < p)));
            x.push(xi);
        }
        let mut obj = Logistic { x, y };
        let (tn, rn) = newton(&mut obj, &[0.0; 3], &NewtonOptions::default()).unwrap();
        let (tl, rl) = lbfgs(&mut obj, &[0.0; 3], &LbfgsOptions::default()).unwrap();
        assert!(rn.converged() && rl.converged(), "{rn:?} {rl:?}");
        for (a, b) in tn.iter().zip(&tl) {
            assert!((a - b).abs() < 1e-8, "{tn:?} vs {tl:?}");
        }
    }

    #[test]
    fn every_accepted_step_satisfies_the_strong_wolfe_conditions() {
        // The run is deterministic, so stopping after k iterations gives the k-th iterate.
        for p in [2, 10] {
            let start = classic_start(p);
            let (_, full) = lbfgs(&mut Rosenbrock(p), &start, &LbfgsOptions::default()).unwrap();
            let mut x = start.clone();
            let mut g = vec![0.0; p];
            let mut f = Rosenbrock(p).value_grad(&x, &mut g);
            for k in 1..=full.iterations {
                let opts = LbfgsOptions { max_iter: k, ..LbfgsOptions::default() };
                let (xn, r) = lbfgs(&mut Rosenbrock(p), &start, &opts).unwrap();
                assert_eq!(r.iterations, k);
                let mut gn = vec![0.0; p];
                let fnew = Rosenbrock(p).value_grad(&xn, &mut gn);
                // In terms of s = α·d: f(x + s) ≤ f(x) + c₁·∇fᵀs and |∇f(x + s)ᵀs| ≤ c₂·|∇fᵀs|.
                let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
                let (slope, slope_new) = (dot(&g, &s), dot(&gn, &s));
                assert!(slope < 0.0, "iteration {k}: not a descent step");
                assert!(fnew <= f + C1 * slope, "iteration {k}: sufficient decrease");
                assert!(slope_new.abs() <= C2 * slope.abs(), "iteration {k}: curvature");
                (x, g, f) = (xn, gn, fnew);
            }
        }
    }

    #[test]
    fn is_deterministic() {
        let a = lbfgs(&mut Rosenbrock(10), &classic_start(10), &LbfgsOptions::default()).unwrap();
        let b = lbfgs(&mut Rosenbrock(10), &classic_start(10), &LbfgsOptions::default()).unwrap();
        assert_eq!(a, b);
    }

    /// f(x) = |x − c|, with the right derivative at the kink: no point of the line satisfies the
    /// curvature condition.
    struct Kink;
    impl Objective for Kink {
        fn dim(&self) -> usize {
            1
        }
        fn value_grad(&mut self, t: &[f64], g: &mut [f64]) -> f64 {
            let r = t[0] - 0.123_456_7;
            g[0] = if r >= 0.0 { 1.0 } else { -1.0 };
            r.abs()
        }
    }

    #[test]
    fn report_fields() {
        let opts = LbfgsOptions { max_iter: 3, ..LbfgsOptions::default() };
        let (_, r) = lbfgs(&mut Rosenbrock(2), &[-1.2, 1.0], &opts).unwrap();
        assert_eq!(r.stop, Stop::MaxIterations);
        assert_eq!(r.iterations, 3);
        assert!(!r.converged() && r.evaluations >= 4);

        let (t, r) = lbfgs(&mut Kink, &[1.0], &LbfgsOptions::default()).unwrap();
        assert_eq!(r.stop, Stop::LineSearchFailed, "{r:?}");
        assert!(!r.converged());
        assert!(r.evaluations <= 1 + LbfgsOptions::default().max_line_search);
        assert_eq!(r.value, Kink.value(&t));

        let (_, r) = lbfgs(&mut Rosenbrock(2), &[f64::NAN, 1.0], &LbfgsOptions::default()).unwrap();
        assert_eq!(r.stop, Stop::NonFiniteStart);
        assert_eq!(r.evaluations, 1);

        assert!(lbfgs(&mut Rosenbrock(2), &[1.0], &LbfgsOptions::default()).is_err());
        let bad = LbfgsOptions { memory: 0, ..LbfgsOptions::default() };
        assert!(matches!(lbfgs(&mut Rosenbrock(2), &[1.0, 1.0], &bad), Err(Error::InvalidOption { .. })));

        // Already at the minimum: zero iterations, converged.
        let (t, r) = lbfgs(&mut Rosenbrock(2), &[1.0, 1.0], &LbfgsOptions::default()).unwrap();
        assert_eq!((t, r.iterations, r.stop), (vec![1.0, 1.0], 0, Stop::GradientTolerance));
    }

    #[test]
    fn steps_back_into_the_domain_on_non_finite_values() {
        // f(θ) = θ − log θ (minimum at 1), +inf for θ ≤ 0: the first trial step overshoots.
        struct LogBarrier;
        impl Objective for LogBarrier {
            fn dim(&self) -> usize {
                1
            }
            fn value_grad(&mut self, t: &[f64], g: &mut [f64]) -> f64 {
                g[0] = 1.0 - 1.0 / t[0];
                if t[0] > 0.0 { t[0] - t[0].ln() } else { f64::INFINITY }
            }
        }
        let (t, r) = lbfgs(&mut LogBarrier, &[20.0], &LbfgsOptions::default()).unwrap();
        assert!(r.converged(), "{r:?}");
        assert!((t[0] - 1.0).abs() < 1e-9, "{t:?}");
    }
}
