//! Vector scaling: a per-class scale and bias on the logits, fitted by maximum likelihood.
//!
//! ```text
//! model     yᵢ ~ Categorical(softmax(vᵢ)),  vᵢ,c = w_c·zᵢ,c + b_c       (2C parameters)
//! NLL       L(w, b) = (1/N) Σᵢ [logsumexp(vᵢ) − vᵢ,yᵢ]                (mean Categorical NLL)
//! gradient  ∂L/∂w_c = (1/N) Σᵢ (pᵢ,c − δ_c,yᵢ)·zᵢ,c     ∂L/∂b_c = (1/N) Σᵢ (pᵢ,c − δ_c,yᵢ)
//! ```
//!
//! L is convex in (w, b) (a linear map composed with the log-partition function). Temperature
//! scaling is the special case w_c = 1/T, b = 0, so the fitted NLL is never above temperature
//! scaling's on the same data; unlike temperature scaling, vector scaling can change the arg-max.
//! The biases are identified only up to a common shift (softmax is shift-invariant): the fit
//! reports the representative with Σ_c b_c = 0. Guo et al. 2017 ("On Calibration of Modern
//! Neural Networks") introduce it next to temperature and matrix scaling.
//!
//! The value and the gradient with respect to v come from [`crate::loss::softmax_cross_entropy()`]
//! (mean reduction, no ignore index). The optimiser is [`crate::fit::lbfgs()`] (memory 10,
//! strong-Wolfe line search) from w = 1, b = 0 (the input itself), run in f64 on the objective
//! evaluated in F. It stops when max |∂L/∂θ| ≤ `tol`·max(1, L), or when L stops changing at the
//! rounding level of F, *and* the quasi-Newton step is small (≤ 10⁻³·(1 + max |θ|)).
//! Data the scaled logits separate have no finite maximiser: the NLL falls toward its infimum as
//! the scales grow, the gradient and the curvature vanish together and the step stays long; that,
//! and any other failure to converge within `max_iter`, is an [`Error::Numerical`].

use super::temperature::{RecalibrationReport, n_rows, softmax_rows, validate_categorical};
use crate::error::{Error, Result, check};
use crate::fit::lbfgs::{LbfgsOptions, lbfgs_with_step};
use crate::fit::{Objective, Stop};
use crate::loss::{CrossEntropyOptions, softmax_cross_entropy};
use crate::num::{Real, Widen};

/// Options of [`VectorScaling::fit_with`].
#[derive(Clone, Copy, Debug)]
pub struct VectorOptions<F> {
    /// Stop when max |∂L/∂θ| ≤ `tol`·max(1, L) (L the mean NLL per row). Default √ε/100.
    pub tol: F,
    /// L-BFGS iterations at most (default 1000).
    pub max_iter: usize,
}

impl<F: Real> Default for VectorOptions<F> {
    fn default() -> Self {
        VectorOptions { tol: F::epsilon().sqrt() * F::lit(1e-2), max_iter: 1000 }
    }
}

/// A fitted (or given) vector-scaling map z ↦ w ⊙ z + b, row by row.
///
/// # Example
/// ```
/// use surprisal::calibration::VectorScaling;
/// // One row per class, each scored with the same logits [1, 0]: the best map makes both
/// // classes equally likely whatever the logits, p = (½, ½).
/// let fit = VectorScaling::fit(&[1.0f64, 0.0, 1.0, 0.0], 2, &[0, 1]).unwrap();
/// let p = fit.probabilities(&[1.0, 0.0]).unwrap();
/// assert!((p[0] - 0.5).abs() < 1e-8);
/// // mpmath: the NLL of p = (½, ½) is log 2
/// assert!((fit.report().unwrap().nll_after - 0.6931471805599453).abs() < 1e-12);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct VectorScaling<F> {
    w: Vec<F>,
    b: Vec<F>,
    iterations: usize,
    report: Option<RecalibrationReport<F>>,
}

impl<F: Real + Widen<F>> VectorScaling<F> {
    /// A map with given scales and biases (no fit, no report).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for C = 0, [`Error::ShapeMismatch`] for `b` of another length than
    /// `w`, [`Error::InvalidParameter`] for a non-finite entry.
    pub fn new(w: Vec<F>, b: Vec<F>) -> Result<Self> {
        n_rows(0, w.len())?;
        check::same_len("b", w.len(), b.len())?;
        for (i, &v) in w.iter().enumerate() {
            check::finite("w", v).map_err(|e| e.at_index(i))?;
        }
        for (i, &v) in b.iter().enumerate() {
            check::finite("b", v).map_err(|e| e.at_index(i))?;
        }
        Ok(VectorScaling { w, b, iterations: 0, report: None })
    }

    /// Fits (w, b) with the default [`VectorOptions`].
    ///
    /// Shapes: `logits` row-major `[N, C]` (C = `n_classes`), `labels` `[N]` in `0..C`.
    ///
    /// # Errors
    /// See [`VectorScaling::fit_with`].
    pub fn fit(logits: &[F], n_classes: usize, labels: &[i64]) -> Result<Self> {
        Self::fit_with(logits, n_classes, labels, &VectorOptions::default())
    }

    /// Fits (w, b) by L-BFGS on the mean Categorical NLL.
    ///
    /// # Errors
    /// [`Error::Empty`] for N = 0; [`Error::ShapeMismatch`], [`Error::InvalidOption`] (C = 0),
    /// [`Error::ClassOutOfRange`], [`Error::InvalidValue`] (non-finite logit) as
    /// [`super::TemperatureScaling::fit`]; [`Error::InvalidParameter`] for a bad `tol`;
    /// [`Error::Numerical`] when the fit does not converge (e.g. separable data).
    pub fn fit_with(logits: &[F], n_classes: usize, labels: &[i64], opts: &VectorOptions<F>) -> Result<Self> {
        validate_categorical(logits, n_classes, labels)?;
        check::positive("tol", opts.tol)?;
        let c = n_classes;
        let obj = |theta: &[F]| -> Result<(F, Vec<F>)> {
            let (l, gw, gb) = objective(logits, c, labels, &theta[..c], &theta[c..])?;
            Ok((l, gw.into_iter().chain(gb).collect()))
        };
        let mut theta = vec![F::one(); c];
        theta.extend(std::iter::repeat_n(F::zero(), c));
        let nll_before = obj(&theta)?.0;
        let iterations = minimise(logits, c, labels, &mut theta, opts)?;
        let (w, mut b) = (theta[..c].to_vec(), theta[c..].to_vec());
        let mean_b = b.iter().copied().sum::<F>() / F::lit(c as f64);
        b.iter_mut().for_each(|v| *v = *v - mean_b);
        let nll_after = objective(logits, c, labels, &w, &b)?.0;
        let mut fit = VectorScaling { w, b, iterations, report: None };
        let mut before = logits.to_vec();
        softmax_rows(&mut before, c);
        let after = fit.probabilities(logits)?;
        let report = RecalibrationReport::categorical((nll_before, nll_after), &before, &after, c, labels)?;
        fit.report = Some(report);
        Ok(fit)
    }

    /// The per-class scales w.
    pub fn scale(&self) -> &[F] {
        &self.w
    }

    /// The per-class biases b (Σ_c b_c = 0 for a fitted map).
    pub fn bias(&self) -> &[F] {
        &self.b
    }

    /// L-BFGS iterations the fit took.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// The fit's report on the fitting data; `None` for a map built with [`VectorScaling::new`].
    pub fn report(&self) -> Option<RecalibrationReport<F>> {
        self.report
    }

    /// Recalibrated logits w ⊙ z + b, row-major `[N, C]`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a length not a multiple of C.
    pub fn apply(&self, logits: &[F]) -> Result<Vec<F>> {
        let c = self.w.len();
        n_rows(logits.len(), c)?;
        Ok(logits.iter().enumerate().map(|(j, &z)| self.w[j % c] * z + self.b[j % c]).collect())
    }

    /// Recalibrated probabilities softmax(w ⊙ z + b), row-major `[N, C]`.
    ///
    /// # Errors
    /// As [`VectorScaling::apply`].
    pub fn probabilities(&self, logits: &[F]) -> Result<Vec<F>> {
        let mut v = self.apply(logits)?;
        softmax_rows(&mut v, self.w.len());
        Ok(v)
    }
}

/// The vector-scaling objective at (w, b): `(L, ∂L/∂w, ∂L/∂b)` (formulas in the
/// [module documentation](self)).
///
/// # Errors
/// As [`VectorScaling::fit`] for the data; [`Error::ShapeMismatch`] for `w` or `b` not of length C.
///
/// # Example
/// ```
/// use surprisal::calibration::vector_objective;
/// let (l, gw, gb) = vector_objective(&[1.0f64, -1.0], 2, &[0], &[2.0, 1.0], &[0.0, 0.5]).unwrap();
/// // v = (2, −0.5); mpmath: L = softplus(−2.5), ∂L/∂b₀ = −σ(−2.5), ∂L/∂w₁ = σ(−2.5)·(−1)
/// assert!((l - 0.07888973429254956).abs() < 1e-15);
/// assert!((gb[0] - -0.07585818002124355).abs() < 1e-15);
/// assert!((gw[1] - -0.07585818002124355).abs() < 1e-15);
/// ```
pub fn vector_objective<F: Real + Widen<F>>(
    logits: &[F],
    n_classes: usize,
    labels: &[i64],
    w: &[F],
    b: &[F],
) -> Result<(F, Vec<F>, Vec<F>)> {
    validate_categorical(logits, n_classes, labels)?;
    check::same_len("w", n_classes, w.len())?;
    check::same_len("b", n_classes, b.len())?;
    objective(logits, n_classes, labels, w, b)
}

fn objective<F: Real + Widen<F>>(
    logits: &[F],
    c: usize,
    labels: &[i64],
    w: &[F],
    b: &[F],
) -> Result<(F, Vec<F>, Vec<F>)> {
    let v: Vec<F> = logits.iter().enumerate().map(|(j, &z)| w[j % c] * z + b[j % c]).collect();
    let opts = CrossEntropyOptions::default().ignore_index(None);
    let ce = softmax_cross_entropy(&v, c, labels, &opts)?;
    // ce.grad = ∂L/∂v (already divided by N); chain rule through v = w ⊙ z + b.
    let (mut gw, mut gb) = (vec![F::zero(); c], vec![F::zero(); c]);
    for (j, (&g, &z)) in ce.grad.iter().zip(logits).enumerate() {
        gw[j % c] = gw[j % c] + g * z;
        gb[j % c] = gb[j % c] + g;
    }
    Ok((ce.value, gw, gb))
}

/// The mean NLL as an [`Objective`] in f64 over θ = (w, b), evaluated in F.
struct VectorObjective<'a, F> {
    logits: &'a [F],
    c: usize,
    labels: &'a [i64],
    error: Option<Error>,
}

impl<F: Real + Widen<F>> Objective for VectorObjective<'_, F> {
    fn dim(&self) -> usize {
        2 * self.c
    }

    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let t: Vec<F> = theta.iter().map(|&v| F::lit(v)).collect();
        match objective(self.logits, self.c, self.labels, &t[..self.c], &t[self.c..]) {
            Ok((l, gw, gb)) => {
                for (g, v) in grad.iter_mut().zip(gw.into_iter().chain(gb)) {
                    *g = v.to_f64_lossy();
                }
                l.to_f64_lossy()
            }
            Err(e) => {
                self.error.get_or_insert(e);
                f64::NAN
            }
        }
    }
}

/// L-BFGS minimisation of the mean NLL from `theta` (updated in place); returns the iterations.
fn minimise<F: Real + Widen<F>>(
    logits: &[F],
    c: usize,
    labels: &[i64],
    theta: &mut [F],
    opts: &VectorOptions<F>,
) -> Result<usize> {
    let fail = |reason: String| Error::Numerical { what: "vector scaling (L-BFGS)", reason };
    let mut obj = VectorObjective { logits, c, labels, error: None };
    let lbfgs_opts = LbfgsOptions {
        memory: 10,
        max_iter: opts.max_iter,
        gtol: opts.tol.to_f64_lossy(),
        // Rounding level of the mean NLL in F.
        ftol: 16.0 * F::epsilon().to_f64_lossy(),
        ..LbfgsOptions::default()
    };
    let theta0: Vec<f64> = theta.iter().map(|v| v.to_f64_lossy()).collect();
    let (x, report, step) = lbfgs_with_step(&mut obj, &theta0, &lbfgs_opts)?;
    if let Some(e) = obj.error {
        return Err(e);
    }
    match report.stop {
        Stop::GradientTolerance | Stop::ObjectiveTolerance => {
            // A minimum has a small quasi-Newton step too (d ≈ H⁻¹g). A long step with a vanishing
            // gradient is an infimum at infinity: the curvature vanishes with the gradient, as on
            // data the scaled logits separate.
            let step = step.unwrap_or(0.0);
            if step > 1e-3 * (1.0 + x.iter().fold(0.0, |m: f64, v| m.max(v.abs()))) {
                return Err(fail(format!(
                    "the NLL ({}) keeps falling along a direction of vanishing curvature (step {step}): \
                     the data are separable, there is no finite maximum-likelihood fit",
                    report.value
                )));
            }
        }
        Stop::MaxIterations => {
            return Err(fail(format!(
                "no convergence in {} iterations: max |gradient| {} (separable data have no finite fit)",
                opts.max_iter, report.grad_norm
            )));
        }
        _ => {
            return Err(fail(format!(
                "line search found no decrease (mean NLL {}, max |gradient| {})",
                report.value, report.grad_norm
            )));
        }
    }
    for (t, v) in theta.iter_mut().zip(x) {
        *t = F::lit(v);
    }
    Ok(report.iterations)
}

#[cfg(test)]
mod tests {
    use super::super::TemperatureScaling;
    use super::super::temperature::testing::overconfident;
    use super::*;
    use crate::loss::testing::check_grad_fd;
    use crate::testing::Rng;

    #[test]
    fn gradient_matches_central_differences() {
        let (logits, labels) = overconfident(40, 3, 1.5, 2.0, 21);
        let w = [0.7, 1.3, -0.2];
        let b = [0.1, -0.4, 0.25];
        let (_, gw, gb) = vector_objective(&logits, 3, &labels, &w, &b).unwrap();
        let theta: Vec<f64> = w.iter().chain(&b).copied().collect();
        let grad: Vec<f64> = gw.iter().chain(&gb).copied().collect();
        let value = |t: &[f64]| vector_objective(&logits, 3, &labels, &t[..3], &t[3..]).unwrap().0;
        check_grad_fd(&theta, &grad, value, 1e-8);
    }

    #[test]
    fn never_worse_than_temperature_scaling_and_recovers_a_planted_map() {
        // True model: softmax(z) with z ~ N(0, 1.5²); the classifier reports (z − b)/w.
        let (n, c) = (20_000, 3);
        let (true_logits, labels) = overconfident(n, c, 1.5, 1.0, 5);
        let (w_true, b_true) = ([0.5, 1.0, 2.0], [0.4, 0.0, -0.4]);
        let logits: Vec<f64> =
            true_logits.iter().enumerate().map(|(j, &z)| (z - b_true[j % c]) / w_true[j % c]).collect();
        let fit = VectorScaling::fit(&logits, c, &labels).unwrap();
        let r = fit.report().unwrap();
        let t = TemperatureScaling::fit(&logits, c, &labels).unwrap();
        assert!(r.nll_after <= t.report().unwrap().nll_after + 1e-12);
        assert!(r.nll_after < r.nll_before);
        assert!(r.ece_after < r.ece_before, "{r:?}");
        // The gauge Σb = 0 and the planted biases (already centred) agree.
        assert!(fit.bias().iter().sum::<f64>().abs() < 1e-12);
        // Standard errors from the observed information (N·∇²L)⁻¹, with b₂ = −b₀ − b₁ fixing the
        // gauge; ∇²L by central differences of the analytic gradient.
        let theta: Vec<f64> = fit.scale().iter().chain(&fit.bias()[..c - 1]).copied().collect();
        let grad = |t: &[f64]| {
            let mut b = t[c..].to_vec();
            b.push(-b.iter().sum::<f64>());
            let (_, gw, gb) = vector_objective(&logits, c, &labels, &t[..c], &b).unwrap();
            // d/db_k with b_{C−1} = −Σ b: ∂L/∂b_k − ∂L/∂b_{C−1}.
            gw.into_iter().chain((0..c - 1).map(|k| gb[k] - gb[c - 1])).collect::<Vec<_>>()
        };
        let m = theta.len();
        let mut h = vec![vec![0.0; m]; m];
        for j in 0..m {
            let e = 1e-5;
            let (mut tp, mut tm) = (theta.clone(), theta.clone());
            tp[j] += e;
            tm[j] -= e;
            let (gp, gm) = (grad(&tp), grad(&tm));
            for i in 0..m {
                h[i][j] = (gp[i] - gm[i]) / (2.0 * e);
            }
        }
        let cov = invert(h);
        let truth: Vec<f64> = w_true.iter().chain(&b_true[..c - 1]).copied().collect();
        for k in 0..m {
            let se = (cov[k][k] / n as f64).sqrt();
            assert!(se < 0.05, "se {se}");
            assert!(
                (theta[k] - truth[k]).abs() <= 4.0 * se,
                "param {k}: {} vs {} (se {se})",
                theta[k],
                truth[k]
            );
        }
    }

    /// Gauss–Jordan inverse of a small positive definite matrix.
    fn invert(mut a: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
        let m = a.len();
        let mut inv: Vec<Vec<f64>> =
            (0..m).map(|i| (0..m).map(|j| f64::from(u8::from(i == j))).collect()).collect();
        for col in 0..m {
            let p = a[col][col];
            assert!(p > 0.0);
            for j in 0..m {
                a[col][j] /= p;
                inv[col][j] /= p;
            }
            for r in 0..m {
                if r != col {
                    let f = a[r][col];
                    for j in 0..m {
                        a[r][j] -= f * a[col][j];
                        inv[r][j] -= f * inv[col][j];
                    }
                }
            }
        }
        inv
    }

    #[test]
    fn apply_and_probabilities() {
        let fit = VectorScaling::new(vec![2.0f64, 0.5], vec![1.0, -1.0]).unwrap();
        assert_eq!(fit.apply(&[1.0, 2.0, -1.0, 0.0]).unwrap(), [3.0, 0.0, -1.0, -1.0]);
        let p = fit.probabilities(&[1.0, 2.0]).unwrap();
        assert!((p[0] - 1.0 / (1.0 + (-3.0f64).exp())).abs() < 1e-15);
        assert!(fit.apply(&[1.0, 2.0, 3.0]).is_err());
    }

    #[test]
    fn f32_agrees_with_f64() {
        let (logits, labels) = overconfident(3000, 3, 1.5, 2.0, 8);
        let l32: Vec<f32> = logits.iter().map(|&v| v as f32).collect();
        let f64fit = VectorScaling::fit(&logits, 3, &labels).unwrap();
        let f32fit = VectorScaling::fit(&l32, 3, &labels).unwrap();
        for (a, b) in f64fit.scale().iter().zip(f32fit.scale()) {
            assert!((a - *b as f64).abs() < 2e-3, "{a} vs {b}");
        }
    }

    #[test]
    fn separable_data_and_typed_errors() {
        let err = VectorScaling::fit(&[3.0f64, 0.0, 0.0, 2.0], 2, &[0, 1]).unwrap_err();
        assert!(matches!(err, Error::Numerical { .. }), "{err}");
        assert_eq!(VectorScaling::<f64>::fit(&[], 2, &[]).unwrap_err(), Error::Empty { name: "logits" });
        assert!(matches!(
            VectorScaling::fit(&[1.0f64, 0.0], 2, &[5]).unwrap_err(),
            Error::ClassOutOfRange { row: 0, value: 5, .. }
        ));
        assert!(matches!(
            VectorScaling::fit(&[1.0f64, f64::NAN], 2, &[0]).unwrap_err(),
            Error::InvalidValue { index: Some(1), .. }
        ));
        assert!(VectorScaling::new(vec![1.0f64], vec![0.0, 1.0]).is_err());
        assert!(VectorScaling::new(vec![f64::NAN], vec![0.0]).is_err());
        assert!(VectorScaling::<f64>::new(vec![], vec![]).is_err());
        let mut rng = Rng(1);
        let z: Vec<f64> = (0..6).map(|_| rng.normal()).collect();
        assert!(vector_objective(&z, 3, &[0, 1], &[1.0, 1.0], &[0.0; 3]).is_err());
    }
}
