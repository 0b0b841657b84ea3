//! Platt scaling: a two-parameter Bernoulli GLM on a classifier's score.
//!
//! ```text
//! model     yᵢ ~ Bernoulli(pᵢ),  pᵢ = σ(a·sᵢ + b)          (logit link on the affine score)
//! targets   tᵢ = yᵢ                                        (plain maximum likelihood), or Platt's
//!           tᵢ = (N₊ + 1)/(N₊ + 2) if yᵢ = 1,  1/(N₋ + 2) if yᵢ = 0    (target smoothing)
//! NLL       L(a, b) = (1/W) Σᵢ wᵢ·[tᵢ·softplus(−ηᵢ) + (1 − tᵢ)·softplus(ηᵢ)],  ηᵢ = a·sᵢ + b
//! gradient  ∂L/∂a = (1/W) Σᵢ wᵢ·(pᵢ − tᵢ)·sᵢ        ∂L/∂b = (1/W) Σᵢ wᵢ·(pᵢ − tᵢ)
//! Hessian   (1/W) Σᵢ wᵢ·pᵢ(1 − pᵢ)·[sᵢ², sᵢ; sᵢ, 1]       (Newton = IRLS for the canonical link)
//! ```
//!
//! W = Σ wᵢ, N₊ and N₋ the (weighted) counts of positives and negatives. With soft targets the
//! objective is the cross-entropy H(t, p) = H(t) + KL(t ‖ p) row by row, so the smoothed fit is the
//! maximum-likelihood fit against the soft labels t: Platt's (1999) MAP-like correction that keeps
//! p away from exactly 0 and 1 and makes the optimum finite even on separable scores.
//!
//! The value and ∂/∂η come from [`crate::loss::sigmoid_binary_cross_entropy()`] (the Bernoulli NLL
//! on logits, soft targets allowed).
//!
//! **scikit-learn** (`CalibratedClassifierCV(method="sigmoid")`, `_sigmoid_calibration`, 1.9):
//! the feature is the base model's `decision_function` when it has one (else
//! `predict_proba[:, 1]`); targets are smoothed as above (weighted counts with `sample_weight`);
//! the optimiser is L-BFGS-B with `gtol = 1e-6` on the *summed* loss (and `ftol = 64·ε`), from
//! (0, log((N₋ + 1)/(N₊ + 1))); scores with max|s| ≥ 30 are divided by max|s| first (the MLE is
//! unchanged). Its parameters have the opposite sign: p = 1/(1 + exp(A·s + B)), A = −a, B = −b.
//! scikit-learn counts any y > 0 as positive; here labels must be 0 or 1.
//! The default [`PlattOptions`] (smoothing on) is that fit, solved here to Newton precision, so it
//! agrees with scikit-learn to within scikit-learn's own stopping tolerance (see the test on the
//! recorded case `tests/data/platt/platt_case.json`).
//!
//! **Safeguards**: Newton steps backtrack (Armijo); a singular Hessian (all scores equal) gets a
//! ridge; without smoothing, scores that separate the classes (every positive scored ≥ every
//! negative, or the reverse) have no finite MLE and are a typed error, as is a fit that does not
//! converge within `max_iter`.

use super::temperature::RecalibrationReport;
use crate::error::{Error, Result, check};
use crate::loss::{Options, Reduction, sigmoid_binary_cross_entropy};
use crate::num::{Real, Widen, sigmoid};

/// Options of [`PlattScaling::fit_with`].
#[derive(Clone, Copy, Debug)]
pub struct PlattOptions<'a, F> {
    /// Platt's target smoothing (default `true`, as scikit-learn); `false` fits the plain
    /// Bernoulli likelihood of the 0/1 labels.
    pub target_smoothing: bool,
    /// Per-row weights (finite, ≥ 0), or `None` for all ones.
    pub weight: Option<&'a [F]>,
    /// Stop when max(|∂L/∂a|, |∂L/∂b|) ≤ `tol` (L the weighted mean NLL). Default √ε/100.
    pub tol: F,
    /// Newton iterations at most (default 100).
    pub max_iter: usize,
}

impl<F: Real> Default for PlattOptions<'_, F> {
    fn default() -> Self {
        PlattOptions {
            target_smoothing: true,
            weight: None,
            tol: F::epsilon().sqrt() * F::lit(1e-2),
            max_iter: 100,
        }
    }
}

/// A fitted Platt map s ↦ σ(a·s + b).
///
/// # Example
/// ```
/// use surprisal::calibration::{PlattOptions, PlattScaling};
/// let s = [-2.0f64, -1.0, 0.5, 1.0, 3.0];
/// let y = [0, 1, 0, 1, 1];
/// let plain = PlattOptions { target_smoothing: false, ..Default::default() };
/// let fit = PlattScaling::fit_with(&s, &y, &plain).unwrap();
/// // mpmath: findroot of the plain logistic-regression score equations
/// assert!((fit.a() - 0.7517078032680462).abs() < 1e-9);
/// assert!((fit.b() - 0.3539924620875467).abs() < 1e-9);
/// let p = fit.apply(&[0.0]);
/// assert!((p[0] - 1.0 / (1.0 + (-fit.b()).exp())).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PlattScaling<F> {
    a: F,
    b: F,
    iterations: usize,
    report: Option<RecalibrationReport<F>>,
}

impl<F: Real + Widen<F>> PlattScaling<F> {
    /// A map with given slope and intercept (no fit, no report).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a non-finite `a` or `b`.
    pub fn new(a: F, b: F) -> Result<Self> {
        Ok(PlattScaling { a: check::finite("a", a)?, b: check::finite("b", b)?, iterations: 0, report: None })
    }

    /// Fits (a, b) with the default [`PlattOptions`] (Platt's smoothing, as scikit-learn).
    ///
    /// Shapes: `scores` `[N]`, `labels` `[N]` in {0, 1}.
    ///
    /// # Errors
    /// See [`PlattScaling::fit_with`].
    pub fn fit(scores: &[F], labels: &[i64]) -> Result<Self> {
        Self::fit_with(scores, labels, &PlattOptions::default())
    }

    /// Fits (a, b) by Newton's method (IRLS) on the (smoothed) Bernoulli likelihood.
    ///
    /// # Errors
    /// [`Error::Empty`] for N = 0 or all weights 0; [`Error::ShapeMismatch`] for labels or
    /// weights of another length; [`Error::ClassOutOfRange`] for a label not 0 or 1;
    /// [`Error::InvalidValue`] for a non-finite score; [`Error::InvalidParameter`] for a bad weight
    /// or `tol`; [`Error::Numerical`] for separable scores without smoothing, or no convergence.
    pub fn fit_with(scores: &[F], labels: &[i64], opts: &PlattOptions<F>) -> Result<Self> {
        let n = validate_binary(scores, labels, opts.weight)?;
        check::positive("tol", opts.tol)?;
        let w = |i: usize| opts.weight.map_or(F::one(), |w| w[i]);
        let (mut n_pos, mut n_neg) = (F::zero(), F::zero());
        for (i, &y) in labels.iter().enumerate() {
            if y == 1 {
                n_pos = n_pos + w(i);
            } else {
                n_neg = n_neg + w(i);
            }
        }
        let total = n_pos + n_neg;
        if total == F::zero() {
            return Err(Error::Empty { name: "weight (all zero)" });
        }
        let targets: Vec<F> = if opts.target_smoothing {
            let (t1, t0) = ((n_pos + F::one()) / (n_pos + F::lit(2.0)), (n_neg + F::lit(2.0)).recip());
            labels.iter().map(|&y| if y == 1 { t1 } else { t0 }).collect()
        } else {
            if separated(scores, labels, opts.weight) {
                return Err(Error::Numerical {
                    what: "Platt scaling",
                    reason: "the scores separate the classes: the Bernoulli likelihood has no finite \
                             maximiser (use target smoothing)"
                        .into(),
                });
            }
            labels.iter().map(|&y| F::lit(y as f64)).collect()
        };
        let obj = Objective { scores, targets: &targets, weight: opts.weight, total };
        let (a, b, iterations) = if scores.iter().all(|&s| s == scores[0]) {
            // One distinct score: only a·s + b is identified; take a = 0, σ(b) = mean target.
            let tbar: F = (0..n).map(|i| w(i) * targets[i]).sum::<F>() / total;
            (F::zero(), tbar.ln() - (-tbar).ln_1p(), 0)
        } else {
            let b0 = ((n_pos + F::one()) / (n_neg + F::one())).ln();
            newton_2d(&obj, b0, opts)?
        };
        let hard: Vec<F> = labels.iter().map(|&y| F::lit(y as f64)).collect();
        let hard_obj = Objective { targets: &hard, ..obj };
        let nll = (hard_obj.value(F::one(), F::zero())?, hard_obj.value(a, b)?);
        let mut fit = PlattScaling { a, b, iterations, report: None };
        let before: Vec<F> = scores.iter().map(|&s| sigmoid(s)).collect();
        let after = fit.apply(scores);
        fit.report = Some(RecalibrationReport::binary(nll, &before, &after, labels, opts.weight)?);
        Ok(fit)
    }

    /// The slope a.
    pub fn a(&self) -> F {
        self.a
    }

    /// The intercept b.
    pub fn b(&self) -> F {
        self.b
    }

    /// Newton iterations the fit took.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// The fit's report on the fitting data: the labels' (weighted) mean NLL, Brier score and ECE
    /// under σ(s), the score read as a logit, and under σ(a·s + b); `None` for a map built with
    /// [`PlattScaling::new`].
    pub fn report(&self) -> Option<RecalibrationReport<F>> {
        self.report
    }

    /// Recalibrated logits a·s + b.
    pub fn apply_logit(&self, scores: &[F]) -> Vec<F> {
        scores.iter().map(|&s| self.a * s + self.b).collect()
    }

    /// Recalibrated probabilities σ(a·s + b).
    pub fn apply(&self, scores: &[F]) -> Vec<F> {
        scores.iter().map(|&s| sigmoid(self.a * s + self.b)).collect()
    }
}

/// The Platt objective at (a, b): `(L, [∂L/∂a, ∂L/∂b], [∂²/∂a², ∂²/∂a∂b, ∂²/∂b²])`, L the
/// weighted mean NLL against the targets `t` (soft targets in [0, 1] allowed; formulas in the
/// [module documentation](self)).
///
/// # Errors
/// [`Error::ShapeMismatch`], [`Error::InvalidValue`] (non-finite score, target outside [0, 1]),
/// [`Error::InvalidParameter`] (bad weight), [`Error::Empty`] (N = 0 or all weights 0).
///
/// # Example
/// ```
/// use surprisal::calibration::platt_objective;
/// let (l, g, h) = platt_objective(&[1.0f64, -2.0], &[1.0, 0.0], None, 0.5, 0.0).unwrap();
/// // mpmath: L = (softplus(−0.5) + softplus(−1))/2
/// assert!((l - 0.39366933584916476).abs() < 1e-15);
/// // ∂L/∂b = (σ(0.5) − 1 + σ(−1))/2
/// assert!((g[1] - -0.05429962371407516).abs() < 1e-15);
/// assert!(h[0] > 0.0 && h[0] * h[2] > h[1] * h[1]);
/// ```
pub fn platt_objective<F: Real + Widen<F>>(
    scores: &[F],
    targets: &[F],
    weight: Option<&[F]>,
    a: F,
    b: F,
) -> Result<(F, [F; 2], [F; 3])> {
    let n = scores.len();
    if n == 0 {
        return Err(Error::Empty { name: "scores" });
    }
    check::same_len("targets", n, targets.len())?;
    check::weights(weight, n)?;
    finite_scores(scores)?;
    let total: F = weight.map_or(F::lit(n as f64), |w| w.iter().copied().sum());
    if total == F::zero() {
        return Err(Error::Empty { name: "weight (all zero)" });
    }
    Objective { scores, targets, weight, total }.eval(a, b)
}

/// The weighted mean NLL of targets under σ(a·s + b).
#[derive(Clone, Copy)]
struct Objective<'a, F> {
    scores: &'a [F],
    targets: &'a [F],
    weight: Option<&'a [F]>,
    total: F,
}

impl<F: Real + Widen<F>> Objective<'_, F> {
    fn bce(&self, a: F, b: F) -> Result<crate::loss::LossOutput<F>> {
        let eta: Vec<F> = self.scores.iter().map(|&s| a * s + b).collect();
        let mut opts = Options::with_reduction(Reduction::Sum);
        opts.weight = self.weight;
        sigmoid_binary_cross_entropy(&eta, self.targets, None, &opts)
    }

    fn value(&self, a: F, b: F) -> Result<F> {
        Ok(self.bce(a, b)?.value / self.total)
    }

    fn eval(&self, a: F, b: F) -> Result<(F, [F; 2], [F; 3])> {
        let out = self.bce(a, b)?;
        // out.grad[i] = wᵢ·(pᵢ − tᵢ): the weighted residual on the linear predictor.
        let (mut ga, mut gb) = (F::zero(), F::zero());
        let (mut haa, mut hab, mut hbb) = (F::zero(), F::zero(), F::zero());
        for (i, (&s, &r)) in self.scores.iter().zip(&out.grad).enumerate() {
            ga = ga + r * s;
            gb = gb + r;
            let w = self.weight.map_or(F::one(), |w| w[i]);
            let p = sigmoid(a * s + b);
            let v = w * p * (F::one() - p);
            haa = haa + v * s * s;
            hab = hab + v * s;
            hbb = hbb + v;
        }
        let k = self.total.recip();
        Ok((out.value * k, [ga * k, gb * k], [haa * k, hab * k, hbb * k]))
    }
}

/// Newton (IRLS) from (0, b0) with Armijo backtracking and a ridge on a near-singular Hessian.
fn newton_2d<F: Real + Widen<F>>(obj: &Objective<F>, b0: F, opts: &PlattOptions<F>) -> Result<(F, F, usize)> {
    let (mut a, mut b) = (F::zero(), b0);
    let (mut l, mut g, mut h) = obj.eval(a, b)?;
    let fail = |reason: String| Error::Numerical { what: "Platt scaling (Newton-IRLS)", reason };
    for it in 0..opts.max_iter {
        if g[0].abs().max(g[1].abs()) <= opts.tol {
            return Ok((a, b, it));
        }
        // Solve H·d = −g; a ridge keeps the system positive definite.
        let mut ridge = F::zero();
        let (da, db) = loop {
            let (h00, h11) = (h[0] + ridge, h[2] + ridge);
            let det = h00 * h11 - h[1] * h[1];
            if det > F::epsilon() * h00 * h11 && h00 > F::zero() {
                break ((-g[0] * h11 + g[1] * h[1]) / det, (g[0] * h[1] - g[1] * h00) / det);
            }
            ridge = if ridge == F::zero() {
                F::epsilon().sqrt() * (h[0] + h[2] + F::epsilon())
            } else {
                ridge * F::lit(10.0)
            };
        };
        if da.abs() <= F::epsilon() * (F::one() + a.abs()) && db.abs() <= F::epsilon() * (F::one() + b.abs())
        {
            return Ok((a, b, it));
        }
        let slope = g[0] * da + g[1] * db;
        let mut alpha = F::one();
        let mut accepted = false;
        for _ in 0..40 {
            let (a_new, b_new) = (a + alpha * da, b + alpha * db);
            let (l_new, g_new, h_new) = obj.eval(a_new, b_new)?;
            // Within rounding of the minimum (predicted decrease below the rounding of L) the
            // Newton step is taken whole: comparing values there is noise.
            let tiny = slope.abs() <= F::lit(16.0) * F::epsilon() * (F::one() + l.abs());
            if (tiny && alpha == F::one() && l_new.is_finite()) || l_new <= l + F::lit(1e-4) * alpha * slope {
                (a, b, l, g, h) = (a_new, b_new, l_new, g_new, h_new);
                accepted = true;
                break;
            }
            alpha = alpha * F::lit(0.5);
        }
        if !accepted {
            // No representable decrease: accept when the Newton step is at noise level.
            let noise = F::epsilon().sqrt();
            if da.abs() <= noise * (F::one() + a.abs()) && db.abs() <= noise * (F::one() + b.abs()) {
                return Ok((a, b, it));
            }
            return Err(fail(format!(
                "line search found no decrease at (a, b) = ({}, {})",
                a.to_f64_lossy(),
                b.to_f64_lossy()
            )));
        }
    }
    if g[0].abs().max(g[1].abs()) <= opts.tol {
        return Ok((a, b, opts.max_iter));
    }
    Err(fail(format!(
        "no convergence in {} iterations: (a, b) = ({}, {}), gradient = ({}, {})",
        opts.max_iter,
        a.to_f64_lossy(),
        b.to_f64_lossy(),
        g[0].to_f64_lossy(),
        g[1].to_f64_lossy()
    )))
}

/// Whether the scores separate the classes (weakly): every positive ≥ every negative, or the
/// reverse, over rows of positive weight. Then the plain MLE is at infinity.
fn separated<F: Real>(scores: &[F], labels: &[i64], weight: Option<&[F]>) -> bool {
    let (mut pos_min, mut pos_max) = (F::infinity(), F::neg_infinity());
    let (mut neg_min, mut neg_max) = (F::infinity(), F::neg_infinity());
    for (i, (&s, &y)) in scores.iter().zip(labels).enumerate() {
        if weight.is_some_and(|w| w[i] == F::zero()) {
            continue;
        }
        if y == 1 {
            (pos_min, pos_max) = (pos_min.min(s), pos_max.max(s));
        } else {
            (neg_min, neg_max) = (neg_min.min(s), neg_max.max(s));
        }
    }
    // One class only: σ(b) → 0 or 1, also no finite maximiser.
    pos_min == F::infinity() || neg_min == F::infinity() || neg_max <= pos_min || pos_max <= neg_min
}

fn finite_scores<F: Real>(scores: &[F]) -> Result<()> {
    match scores.iter().position(|s| !s.is_finite()) {
        None => Ok(()),
        Some(i) => Err(Error::InvalidValue {
            name: "scores",
            value: scores[i].to_f64_lossy(),
            index: Some(i),
            reason: "must be finite",
        }),
    }
}

/// Validates binary scores, labels in {0, 1} and optional weights; returns N ≥ 1.
pub(crate) fn validate_binary<F: Real>(scores: &[F], labels: &[i64], weight: Option<&[F]>) -> Result<usize> {
    let n = scores.len();
    if n == 0 {
        return Err(Error::Empty { name: "scores" });
    }
    check::same_len("labels", n, labels.len())?;
    check::weights(weight, n)?;
    finite_scores(scores)?;
    if let Some(i) = labels.iter().position(|&y| y != 0 && y != 1) {
        return Err(Error::ClassOutOfRange { row: i, value: labels[i], n_classes: 2 });
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::testing::check_grad_fd;

    struct Case {
        name: String,
        scores: Vec<f64>,
        labels: Vec<i64>,
        weights: Option<Vec<f64>>,
        a: f64,
        b: f64,
        probabilities: Vec<f64>,
    }

    fn cases() -> Vec<Case> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/platt/platt_case.json");
        let text = std::fs::read_to_string(path).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let f = |v: &serde_json::Value| {
            v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect::<Vec<_>>()
        };
        json["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| Case {
                name: c["name"].as_str().unwrap().to_string(),
                scores: f(&c["scores"]),
                labels: c["labels"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect(),
                weights: if c["weights"].is_null() { None } else { Some(f(&c["weights"])) },
                a: c["a"].as_f64().unwrap(),
                b: c["b"].as_f64().unwrap(),
                probabilities: f(&c["probabilities"]),
            })
            .collect()
    }

    #[test]
    fn matches_recorded_scikit_learn_fits() {
        for case in cases() {
            let opts = PlattOptions { weight: case.weights.as_deref(), ..Default::default() };
            let fit = PlattScaling::fit_with(&case.scores, &case.labels, &opts).unwrap();
            // scikit-learn stops L-BFGS-B at a gradient of ~1e-6 on the summed loss, so its answer
            // is off the exact optimum by about one Newton step d = −H⁻¹g, H and g at its answer.
            // The exact optimum must lie within 2‖d‖ of it, and be one Newton step from it to
            // second order: O(‖d‖²), plus our own stopping error (mean gradient ≤ 1.5e-10, times
            // ‖H⁻¹‖ of order 10 here: ≤ 1e-9).
            let w_total: f64 = case.weights.as_ref().map_or(case.scores.len() as f64, |w| w.iter().sum());
            let n_pos: f64 = (0..case.labels.len())
                .filter(|&i| case.labels[i] == 1)
                .map(|i| case.weights.as_ref().map_or(1.0, |w| w[i]))
                .sum();
            let n_neg = w_total - n_pos;
            let t: Vec<f64> = case
                .labels
                .iter()
                .map(|&y| if y == 1 { (n_pos + 1.0) / (n_pos + 2.0) } else { 1.0 / (n_neg + 2.0) })
                .collect();
            let (_, g, h) =
                platt_objective(&case.scores, &t, case.weights.as_deref(), case.a, case.b).unwrap();
            let det = h[0] * h[2] - h[1] * h[1];
            let d = [-(h[2] * g[0] - h[1] * g[1]) / det, -(h[0] * g[1] - h[1] * g[0]) / det];
            let dn = d[0].hypot(d[1]);
            assert!(dn < 1e-4, "{}: scikit-learn's answer is {dn} from the optimum", case.name);
            let (da, db) = (fit.a() - case.a, fit.b() - case.b);
            assert!(da.hypot(db) <= 2.0 * dn + 1e-9, "{}: off by ({da}, {db}), Newton step {d:?}", case.name);
            let second_order = 10.0 * dn * dn + 1e-9;
            assert!(
                (da - d[0]).abs() <= second_order && (db - d[1]).abs() <= second_order,
                "{}: ({da}, {db}) vs {d:?}",
                case.name
            );
            // Probabilities: |Δp| ≤ ¼·(|Δa|·|s| + |Δb|).
            let p = fit.apply(&case.scores);
            for (i, (&pi, &qi)) in p.iter().zip(&case.probabilities).enumerate() {
                let bound = 0.25 * (da.abs() * case.scores[i].abs() + db.abs()) + 1e-15;
                assert!((pi - qi).abs() <= bound, "{} row {i}: {pi} vs {qi}", case.name);
            }
            let r = fit.report().unwrap();
            assert!(r.nll_after.is_finite() && r.nll_before.is_finite());
            assert!(r.brier_after.is_finite() && r.ece_after.is_finite());
        }
    }

    #[test]
    fn objective_gradient_and_hessian_match_central_differences() {
        let s = [-2.0, -0.3, 0.1, 0.8, 1.7, 3.2];
        let t = [0.1, 0.9, 0.1, 0.9, 0.9, 0.1];
        let w = [1.0, 0.5, 2.0, 1.5, 0.0, 1.0];
        for &(a, b) in &[(0.0, 0.0), (1.3, -0.4), (-0.7, 2.0)] {
            let (_, g, h) = platt_objective(&s, &t, Some(&w), a, b).unwrap();
            let value = |x: &[f64]| platt_objective(&s, &t, Some(&w), x[0], x[1]).unwrap().0;
            check_grad_fd(&[a, b], &g, value, 1e-8);
            let ga = |x: &[f64]| platt_objective(&s, &t, Some(&w), x[0], x[1]).unwrap().1[0];
            check_grad_fd(&[a, b], &[h[0], h[1]], ga, 1e-8);
            let gb = |x: &[f64]| platt_objective(&s, &t, Some(&w), x[0], x[1]).unwrap().1[1];
            check_grad_fd(&[a, b], &[h[1], h[2]], gb, 1e-8);
        }
    }

    #[test]
    fn plain_fit_solves_the_score_equations_and_recovers_a_known_glm() {
        // Labels drawn from σ(2·s − 1): the plain MLE is consistent.
        let mut rng = crate::testing::Rng(3);
        let n = 20_000;
        let s: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let y: Vec<i64> = s.iter().map(|&si| i64::from(rng.uniform() < sigmoid(2.0 * si - 1.0))).collect();
        let opts = PlattOptions { target_smoothing: false, ..Default::default() };
        let fit = PlattScaling::fit_with(&s, &y, &opts).unwrap();
        let t: Vec<f64> = y.iter().map(|&v| v as f64).collect();
        let (_, g, h) = platt_objective(&s, &t, None, fit.a(), fit.b()).unwrap();
        assert!(g[0].abs() < 1e-10 && g[1].abs() < 1e-10);
        // Standard errors from the inverse Fisher information (N·H)⁻¹.
        let det = h[0] * h[2] - h[1] * h[1];
        let (se_a, se_b) = ((h[2] / det / n as f64).sqrt(), (h[0] / det / n as f64).sqrt());
        assert!((fit.a() - 2.0).abs() < 4.0 * se_a, "a = {}, se {se_a}", fit.a());
        assert!((fit.b() + 1.0).abs() < 4.0 * se_b, "b = {}, se {se_b}", fit.b());
        let r = fit.report().unwrap();
        assert!(r.nll_after < r.nll_before);
        // σ(s) is a miscalibrated reading of σ(2s − 1): the refit cuts the ECE and the Brier score.
        assert!(r.ece_after < r.ece_before / 3.0 && r.brier_after < r.brier_before, "{r:?}");
    }

    #[test]
    fn f32_agrees_with_f64() {
        let case = &cases()[0];
        let s32: Vec<f32> = case.scores.iter().map(|&v| v as f32).collect();
        let fit = PlattScaling::fit(&s32, &case.labels).unwrap();
        assert!((fit.a() as f64 - case.a).abs() < 1e-4 && (fit.b() as f64 - case.b).abs() < 1e-4);
    }

    #[test]
    fn separable_scores_need_smoothing() {
        let s = [-2.0f64, -1.0, 1.0, 2.0];
        let y = [0, 0, 1, 1];
        let plain = PlattOptions { target_smoothing: false, ..Default::default() };
        assert!(matches!(PlattScaling::fit_with(&s, &y, &plain).unwrap_err(), Error::Numerical { .. }));
        let fit = PlattScaling::fit(&s, &y).unwrap();
        // With smoothed targets (t₊ = 3/4, t₋ = 1/4) the optimum is finite and the fitted
        // probabilities stay strictly inside (0, 1), on the right side of ½.
        for (p, &yi) in fit.apply(&s).iter().zip(&y) {
            assert!(*p > 0.0 && *p < 1.0);
            assert!(if yi == 1 { *p > 0.5 } else { *p < 0.5 });
        }
    }

    #[test]
    fn constant_scores_give_the_smoothed_base_rate() {
        let fit = PlattScaling::fit(&[0.3f64; 4], &[1, 0, 1, 1]).unwrap();
        assert_eq!(fit.a(), 0.0);
        // t₊ = 4/5, t₋ = 1/3; mean = (3·4/5 + 1/3)/4 = 41/60.
        assert!((sigmoid(fit.b()) - 41.0 / 60.0).abs() < 1e-15);
    }

    #[test]
    fn typed_errors() {
        assert_eq!(PlattScaling::<f64>::fit(&[], &[]).unwrap_err(), Error::Empty { name: "scores" });
        assert_eq!(
            PlattScaling::fit(&[0.0f64, 1.0], &[0, 2]).unwrap_err(),
            Error::ClassOutOfRange { row: 1, value: 2, n_classes: 2 }
        );
        assert!(matches!(
            PlattScaling::fit(&[0.0f64, f64::NAN], &[0, 1]).unwrap_err(),
            Error::InvalidValue { index: Some(1), .. }
        ));
        assert!(matches!(PlattScaling::fit(&[0.0f64, 1.0], &[0]).unwrap_err(), Error::ShapeMismatch { .. }));
        let w = [0.0, 0.0];
        let opts = PlattOptions { weight: Some(&w), ..Default::default() };
        assert!(matches!(
            PlattScaling::fit_with(&[0.0f64, 1.0], &[0, 1], &opts).unwrap_err(),
            Error::Empty { .. }
        ));
        let w = [1.0, -1.0];
        let opts = PlattOptions { weight: Some(&w), ..Default::default() };
        assert!(matches!(
            PlattScaling::fit_with(&[0.0f64, 1.0], &[0, 1], &opts).unwrap_err(),
            Error::InvalidParameter { .. }
        ));
        assert!(PlattScaling::new(f64::INFINITY, 0.0).is_err());
    }
}
