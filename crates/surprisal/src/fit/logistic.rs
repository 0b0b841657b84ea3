//! Logistic (binary) and softmax (multinomial) regression with an L2 penalty: maximum likelihood
//! of the Bernoulli and Categorical models with a linear predictor, scikit-learn's
//! `LogisticRegression(C = 1/l2)` objective.
//!
//! ```text
//! binary    yᵢ ~ Bernoulli(σ(ηᵢ)),          ηᵢ = xᵢ·β + b
//! softmax   yᵢ ~ Categorical(softmax(ηᵢ)),  ηᵢ,k = xᵢ·w_k + b_k,  k = 0..C−1
//! objective f = Σᵢ sᵢ·NLLᵢ + ½·l2·‖coef‖²      (sᵢ the sample weights, default 1; the intercepts
//!                                               are not penalised; l2 = 1/C in scikit-learn)
//! NLLᵢ      binary: softplus(−ηᵢ) if yᵢ = 1, softplus(ηᵢ) if yᵢ = 0;  softmax: logsumexp(ηᵢ) − ηᵢ,yᵢ
//! gradient  ∂f/∂w_k = Σᵢ sᵢ (pᵢ,k − [yᵢ = k]) xᵢ + l2·w_k,   ∂f/∂b_k = Σᵢ sᵢ (pᵢ,k − [yᵢ = k])
//! Hessian   Σᵢ sᵢ x̃ᵢx̃ᵢᵀ ⊗ (diag(pᵢ) − pᵢpᵢᵀ) + l2·I on the coefficients   (x̃ᵢ = [xᵢ, 1])
//! ```
//!
//! The value and the gradient come from the named losses
//! ([`fn@crate::loss::sigmoid_binary_cross_entropy`], [`fn@crate::loss::softmax_cross_entropy`], summed):
//! this module only adds the linear predictor, the weights and the penalty. The fit is Newton's
//! method with step halving ([`fn@crate::fit::newton`]) on the exact Hessian; the objective is convex,
//! strictly so when l2 > 0.
//!
//! **Identifiability of the softmax parameters.** Adding one vector v to every w_k (or one number
//! to every b_k) leaves every probability unchanged. With l2 > 0 the penalised optimum has
//! Σ_k w_k = 0 (summing ∂f/∂w_k = 0 over k gives l2·Σ_k w_k = 0, since Σ_k (pᵢ,k − [yᵢ = k]) = 0);
//! the intercepts stay free, and the reported ones are those with Σ_k b_k = 0 (scikit-learn's
//! convention). The fit therefore works in the sum-to-zero parametrisation (w_{C−1} = −Σ_{k<C−1} w_k,
//! likewise for b), which loses nothing with a penalty and makes the unpenalised problem
//! identifiable too (then Σ_k w_k = 0 is the choice made).
//!
//! **Binary versus two-class softmax.** With two classes the softmax model depends on w₁ − w₀ only,
//! so β = w₁ − w₀ and b = b₁ − b₀. At the penalised softmax optimum w₀ = −w₁, hence β = 2w₁ and
//! ‖w₀‖² + ‖w₁‖² = ½‖β‖²: softmax regression with penalty l2 is logistic regression with penalty
//! l2/2 (and the same fit when l2 = 0).
//!
//! Non-convergence (e.g. separable data without a penalty, where the likelihood has no maximum) is
//! not an error: the [`Report`] says how the optimiser stopped.
//!
//! Reference: `sklearn.linear_model.LogisticRegression(C=1/l2, penalty="l2")` (multinomial for
//! three or more classes, one coefficient vector for two).

use super::regressors::{Regressors, sample_weights};
use super::{Objective, Report, newton};
use crate::error::{Error, Result};
use crate::fit::NewtonOptions;
use crate::loss::{self, CrossEntropyOptions, Options, Reduction};

/// Settings of [`logistic_regression`] and [`softmax_regression`].
#[derive(Clone, Copy, Debug)]
pub struct LogisticOptions<'a> {
    /// The L2 penalty l2 ≥ 0 on the coefficients (scikit-learn's 1/C). Default 1 (C = 1).
    pub l2: f64,
    /// Whether to fit intercepts (unpenalised). Default `true`.
    pub fit_intercept: bool,
    /// Observation weights sᵢ ≥ 0 (length n), or `None` for all ones.
    pub sample_weight: Option<&'a [f64]>,
    /// Settings of the Newton iteration.
    pub newton: NewtonOptions,
}

impl Default for LogisticOptions<'_> {
    fn default() -> Self {
        LogisticOptions {
            l2: 1.0,
            fit_intercept: true,
            sample_weight: None,
            newton: NewtonOptions::default(),
        }
    }
}

impl<'a> LogisticOptions<'a> {
    /// Defaults with the given penalty.
    pub fn l2(l2: f64) -> Self {
        LogisticOptions { l2, ..Default::default() }
    }
    /// Sets the observation weights.
    pub fn sample_weight(mut self, w: &'a [f64]) -> Self {
        self.sample_weight = Some(w);
        self
    }
}

/// A fitted binary logistic regression.
#[derive(Clone, Debug, PartialEq)]
pub struct LogisticFit {
    /// β, length p.
    pub coef: Vec<f64>,
    /// b (0 when no intercept was fitted).
    pub intercept: f64,
    /// Σᵢ sᵢ·NLLᵢ at the fit.
    pub nll: f64,
    /// The penalised objective nll + ½·l2·‖β‖².
    pub objective: f64,
    /// How the optimiser stopped.
    pub report: Report,
}

/// A fitted softmax (multinomial) regression.
#[derive(Clone, Debug, PartialEq)]
pub struct SoftmaxFit {
    /// W, row-major `[C, p]` (row k holds w_k); Σ_k w_k = 0.
    pub coef: Vec<f64>,
    /// b, length C, with Σ_k b_k = 0 (all 0 when no intercept was fitted).
    pub intercept: Vec<f64>,
    /// Number of classes C.
    pub n_classes: usize,
    /// Number of features p.
    pub n_features: usize,
    /// Σᵢ sᵢ·NLLᵢ at the fit.
    pub nll: f64,
    /// The penalised objective nll + ½·l2·‖W‖².
    pub objective: f64,
    /// How the optimiser stopped.
    pub report: Report,
}

fn check_l2(l2: f64) -> Result<f64> {
    if l2.is_finite() && l2 >= 0.0 { Ok(l2) } else { Err(Error::param("l2", l2, "must be finite and >= 0")) }
}

/// Labels in 0..C; every class needs a positive total weight (otherwise its intercept, or its
/// coefficients without a penalty, run off to −∞).
fn check_labels(y: &[i64], n_classes: usize, w: Option<&[f64]>) -> Result<()> {
    let mut mass = vec![0.0; n_classes];
    for (i, &yi) in y.iter().enumerate() {
        if yi < 0 || yi as usize >= n_classes {
            return Err(Error::ClassOutOfRange { row: i, value: yi, n_classes });
        }
        mass[yi as usize] += w.map_or(1.0, |w| w[i]);
    }
    match mass.iter().position(|&m| m <= 0.0) {
        Some(k) => Err(Error::InvalidValue {
            name: "class",
            value: k as f64,
            index: None,
            reason: "no observation of this class has a positive weight (its intercept would run off \
                     to −∞)",
        }),
        None => Ok(()),
    }
}

fn validate<'a>(
    x: &'a [f64],
    n_features: usize,
    y: &[i64],
    opts: &LogisticOptions,
) -> Result<Regressors<'a>> {
    let n = y.len();
    if n == 0 {
        return Err(Error::Empty { name: "y" });
    }
    check_l2(opts.l2)?;
    sample_weights(opts.sample_weight, n)?;
    Regressors::new("X", x, n, n_features, opts.fit_intercept)
}

/// The binary objective over θ = [β, b].
struct Binary<'a> {
    x: Regressors<'a>,
    y: Vec<f64>,
    w: Option<&'a [f64]>,
    l2: f64,
    eta: Vec<f64>,
}

impl Binary<'_> {
    fn predictor(&mut self, theta: &[f64]) {
        for i in 0..self.x.n {
            self.eta[i] = self.x.dot(i, theta);
        }
    }
    fn penalty(&self, theta: &[f64]) -> f64 {
        0.5 * self.l2 * theta[..self.x.p].iter().map(|v| v * v).sum::<f64>()
    }
}

impl Objective for Binary<'_> {
    fn dim(&self) -> usize {
        self.x.dim()
    }
    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> f64 {
        self.predictor(theta);
        let mut opts = Options::with_reduction(Reduction::Sum);
        opts.weight = self.w;
        let Ok(out) = loss::sigmoid_binary_cross_entropy(&self.eta, &self.y, None, &opts) else {
            return f64::NAN;
        };
        grad.iter_mut().for_each(|g| *g = 0.0);
        for (i, &gi) in out.grad.iter().enumerate() {
            self.x.axpy(i, gi, grad);
        }
        for (g, t) in grad.iter_mut().zip(theta).take(self.x.p) {
            *g += self.l2 * t;
        }
        out.value + self.penalty(theta)
    }
    fn hessian(&mut self, theta: &[f64], hess: &mut [f64]) -> bool {
        self.predictor(theta);
        let d = self.x.dim();
        hess.iter_mut().for_each(|h| *h = 0.0);
        for i in 0..self.x.n {
            let p = crate::num::sigmoid(self.eta[i]);
            let s = self.w.map_or(1.0, |w| w[i]);
            self.x.outer_into(i, s * p * (1.0 - p), hess, d, 0, 0);
        }
        for a in 0..self.x.p {
            hess[a * d + a] += self.l2;
        }
        true
    }
}

/// Binary logistic regression by penalised maximum likelihood (see the module documentation).
///
/// Shapes: `x` row-major `[n, p]` with `p = n_features`; `y` `[n]` with labels 0 or 1.
///
/// # Errors
/// [`Error::Empty`] for n = 0; [`Error::ShapeMismatch`] for `x` not of length n·p or weights not
/// of length n; [`Error::InvalidEntry`] naming the row and column of a non-finite regressor;
/// [`Error::ClassOutOfRange`] for a label outside {0, 1}; [`Error::InvalidValue`] when a class has
/// no observation of positive weight; [`Error::InvalidParameter`] for a negative or non-finite
/// `l2` or weight.
///
/// # Example
/// ```
/// use surprisal::fit::logistic::{logistic_regression, LogisticOptions};
/// // One binary feature, no penalty: the fit is saturated, so σ(b) and σ(β + b) are the observed
/// // frequencies 1/3 (x = 0) and 3/4 (x = 1): b = log(1/2), β = log 3 − log(1/2) = log 6.
/// let x = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
/// let y = [0, 0, 1, 1, 1, 1, 0];
/// let fit = logistic_regression(&x, 1, &y, &LogisticOptions::l2(0.0)).unwrap();
/// assert!(fit.report.converged());
/// assert!((fit.coef[0] - 1.791759469228055).abs() < 1e-10);
/// assert!((fit.intercept - -0.6931471805599453).abs() < 1e-10);
/// ```
pub fn logistic_regression(
    x: &[f64],
    n_features: usize,
    y: &[i64],
    opts: &LogisticOptions,
) -> Result<LogisticFit> {
    let xr = validate(x, n_features, y, opts)?;
    check_labels(y, 2, opts.sample_weight)?;
    let n = y.len();
    let mut obj = Binary {
        x: xr,
        y: y.iter().map(|&v| v as f64).collect(),
        w: opts.sample_weight,
        l2: opts.l2,
        eta: vec![0.0; n],
    };
    let theta0 = vec![0.0; xr.dim()];
    let (theta, report) = newton(&mut obj, &theta0, &opts.newton)?;
    let penalty = obj.penalty(&theta);
    Ok(LogisticFit {
        coef: theta[..n_features].to_vec(),
        intercept: if opts.fit_intercept { theta[n_features] } else { 0.0 },
        nll: report.value - penalty,
        objective: report.value,
        report,
    })
}

impl LogisticFit {
    /// The linear predictor ηᵢ = xᵢ·β + b for the rows of `x` (`[m, p]`).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a length not a multiple of p; [`Error::InvalidEntry`].
    pub fn decision_function(&self, x: &[f64]) -> Result<Vec<f64>> {
        let p = self.coef.len();
        let m = rows_of(x.len(), p)?;
        let xr = Regressors::new("X", x, m, p, false)?;
        Ok((0..m).map(|i| xr.dot(i, &self.coef) + self.intercept).collect())
    }

    /// P(y = 1 | xᵢ) = σ(ηᵢ) for the rows of `x`.
    ///
    /// # Errors
    /// As [`LogisticFit::decision_function`].
    pub fn predict_proba(&self, x: &[f64]) -> Result<Vec<f64>> {
        Ok(self.decision_function(x)?.into_iter().map(crate::num::sigmoid).collect())
    }
}

fn rows_of(len: usize, p: usize) -> Result<usize> {
    if p == 0 {
        return Err(Error::InvalidOption {
            name: "n_features",
            value: "0".into(),
            reason: "a model without features cannot tell how many rows a flat matrix has",
        });
    }
    if !len.is_multiple_of(p) {
        return Err(Error::shape("X", &[len / p, p], &[len]));
    }
    Ok(len / p)
}

/// The softmax objective over the free parameters θ = [W_free (C−1 rows of d), ] in the
/// sum-to-zero parametrisation: row k < C−1 of W̃ = [W, b] is θ's block k, row C−1 is −Σ of them.
struct Multinomial<'a> {
    x: Regressors<'a>,
    y: &'a [i64],
    c: usize,
    w: Option<&'a [f64]>,
    l2: f64,
    /// Full parameters W̃, `[C, d]`.
    full: Vec<f64>,
    /// Linear predictors, `[n, C]`.
    eta: Vec<f64>,
}

impl Multinomial<'_> {
    fn expand(&mut self, theta: &[f64]) {
        let (c, d) = (self.c, self.x.dim());
        self.full[..(c - 1) * d].copy_from_slice(theta);
        for a in 0..d {
            self.full[(c - 1) * d + a] = -(0..c - 1).map(|k| theta[k * d + a]).sum::<f64>();
        }
        for i in 0..self.x.n {
            for k in 0..c {
                self.eta[i * c + k] = self.x.dot(i, &self.full[k * d..(k + 1) * d]);
            }
        }
    }
    fn penalty(&self) -> f64 {
        let d = self.x.dim();
        let mut s = 0.0;
        for k in 0..self.c {
            s += self.full[k * d..k * d + self.x.p].iter().map(|v| v * v).sum::<f64>();
        }
        0.5 * self.l2 * s
    }
}

impl Objective for Multinomial<'_> {
    fn dim(&self) -> usize {
        (self.c - 1) * self.x.dim()
    }
    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> f64 {
        self.expand(theta);
        let (c, d) = (self.c, self.x.dim());
        let opts = CrossEntropyOptions::with_reduction(Reduction::None).ignore_index(None);
        let Ok(out) = loss::softmax_cross_entropy(&self.eta, c, self.y, &opts) else {
            return f64::NAN;
        };
        // Full gradient G̃ = Σᵢ sᵢ (pᵢ − onehot(yᵢ)) ⊗ x̃ᵢ + l2·W (coefficients only).
        let mut full_grad = vec![0.0; c * d];
        let mut value = 0.0;
        for i in 0..self.x.n {
            let s = self.w.map_or(1.0, |w| w[i]);
            if s == 0.0 {
                continue;
            }
            value += s * out.per_element[i];
            for k in 0..c {
                self.x.axpy(i, s * out.grad[i * c + k], &mut full_grad[k * d..(k + 1) * d]);
            }
        }
        for k in 0..c {
            for a in 0..self.x.p {
                full_grad[k * d + a] += self.l2 * self.full[k * d + a];
            }
        }
        // Chain rule through w_{C−1} = −Σ w_k: ∂f/∂θ_k = G̃_k − G̃_{C−1}.
        for k in 0..c - 1 {
            for a in 0..d {
                grad[k * d + a] = full_grad[k * d + a] - full_grad[(c - 1) * d + a];
            }
        }
        value + self.penalty()
    }
    fn hessian(&mut self, theta: &[f64], hess: &mut [f64]) -> bool {
        self.expand(theta);
        let (c, d) = (self.c, self.x.dim());
        let m = c * d;
        let mut full = vec![0.0; m * m];
        let mut prob = vec![0.0; c];
        for i in 0..self.x.n {
            let s = self.w.map_or(1.0, |w| w[i]);
            if s == 0.0 || crate::num::softmax(&self.eta[i * c..(i + 1) * c], &mut prob).is_err() {
                continue;
            }
            for k in 0..c {
                for l in 0..c {
                    let v = if k == l { prob[k] * (1.0 - prob[k]) } else { -prob[k] * prob[l] };
                    self.x.outer_into(i, s * v, &mut full, m, k * d, l * d);
                }
            }
        }
        for k in 0..c {
            for a in 0..self.x.p {
                full[(k * d + a) * m + k * d + a] += self.l2;
            }
        }
        // H_θ = Aᵀ H̃ A with A the expansion θ ↦ W̃: block (k, l) = H̃_kl − H̃_kL − H̃_Lk + H̃_LL.
        let q = (c - 1) * d;
        let last = (c - 1) * d;
        for k in 0..c - 1 {
            for l in 0..c - 1 {
                for a in 0..d {
                    for b in 0..d {
                        let (r, s) = (k * d + a, l * d + b);
                        let (rl, sl) = (last + a, last + b);
                        hess[r * q + s] =
                            full[r * m + s] - full[r * m + sl] - full[rl * m + s] + full[rl * m + sl];
                    }
                }
            }
        }
        true
    }
}

/// Softmax (multinomial) regression by penalised maximum likelihood (see the module
/// documentation for the objective and the parametrisation).
///
/// Shapes: `x` row-major `[n, p]` with `p = n_features`; `y` `[n]` with labels in `0..n_classes`.
/// With `n_classes = 2` this is the symmetric two-class softmax model (use
/// [`logistic_regression`] for scikit-learn's binary parametrisation).
///
/// # Errors
/// As [`logistic_regression`], and [`Error::InvalidOption`] for `n_classes < 2`.
///
/// # Example
/// ```
/// use surprisal::fit::logistic::{softmax_regression, LogisticOptions};
/// // No features: the fit reproduces the class frequencies 2/10, 3/10, 5/10, so
/// // b_k = log n_k − mean_k log n_k (the sum-to-zero intercepts).
/// let y = [0, 0, 1, 1, 1, 2, 2, 2, 2, 2];
/// let fit = softmax_regression(&[], 0, &y, 3, &LogisticOptions::default()).unwrap();
/// let want = [-0.44058527999410648, -0.035120171885942100, 0.47570545188004858];
/// for (b, w) in fit.intercept.iter().zip(want) {
///     assert!((b - w).abs() < 1e-10);
/// }
/// ```
pub fn softmax_regression(
    x: &[f64],
    n_features: usize,
    y: &[i64],
    n_classes: usize,
    opts: &LogisticOptions,
) -> Result<SoftmaxFit> {
    if n_classes < 2 {
        return Err(Error::InvalidOption {
            name: "n_classes",
            value: n_classes.to_string(),
            reason: "softmax regression needs at least two classes",
        });
    }
    let xr = validate(x, n_features, y, opts)?;
    check_labels(y, n_classes, opts.sample_weight)?;
    let (n, c, d) = (y.len(), n_classes, xr.dim());
    let mut obj = Multinomial {
        x: xr,
        y,
        c,
        w: opts.sample_weight,
        l2: opts.l2,
        full: vec![0.0; c * d],
        eta: vec![0.0; n * c],
    };
    let theta0 = vec![0.0; (c - 1) * d];
    let (theta, report) = newton(&mut obj, &theta0, &opts.newton)?;
    obj.expand(&theta);
    let penalty = obj.penalty();
    let p = n_features;
    let mut coef = Vec::with_capacity(c * p);
    let mut intercept = Vec::with_capacity(c);
    for k in 0..c {
        coef.extend_from_slice(&obj.full[k * d..k * d + p]);
        intercept.push(if opts.fit_intercept { obj.full[k * d + p] } else { 0.0 });
    }
    Ok(SoftmaxFit {
        coef,
        intercept,
        n_classes: c,
        n_features: p,
        nll: report.value - penalty,
        objective: report.value,
        report,
    })
}

impl SoftmaxFit {
    /// The linear predictors ηᵢ,k for the rows of `x` (`[m, p]`), row-major `[m, C]`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a length not a multiple of p; [`Error::InvalidEntry`].
    pub fn decision_function(&self, x: &[f64]) -> Result<Vec<f64>> {
        let (p, c) = (self.n_features, self.n_classes);
        let m = if p == 0 { 1 } else { rows_of(x.len(), p)? };
        let xr = Regressors::new("X", x, m, p, false)?;
        let mut eta = vec![0.0; m * c];
        for i in 0..m {
            for k in 0..c {
                eta[i * c + k] = xr.dot(i, &self.coef[k * p..(k + 1) * p]) + self.intercept[k];
            }
        }
        Ok(eta)
    }

    /// Class probabilities softmax(ηᵢ) for the rows of `x`, row-major `[m, C]` (a model without
    /// features takes an empty `x` and gives one row).
    ///
    /// # Errors
    /// As [`SoftmaxFit::decision_function`].
    pub fn predict_proba(&self, x: &[f64]) -> Result<Vec<f64>> {
        let eta = self.decision_function(x)?;
        let c = self.n_classes;
        let mut prob = vec![0.0; eta.len()];
        for (e, p) in eta.chunks(c).zip(prob.chunks_mut(c)) {
            crate::num::softmax(e, p)?;
        }
        Ok(prob)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Rng;

    /// n rows of p standard-normal features and labels drawn from a softmax model with the given
    /// coefficients `[C, p]` and intercepts.
    fn draw(n: usize, p: usize, coef: &[f64], intercept: &[f64], seed: u64) -> (Vec<f64>, Vec<i64>) {
        let c = intercept.len();
        let mut rng = Rng(seed);
        let mut x = Vec::with_capacity(n * p);
        let mut y = Vec::with_capacity(n);
        let mut eta = vec![0.0; c];
        let mut prob = vec![0.0; c];
        for _ in 0..n {
            let row: Vec<f64> = (0..p).map(|_| rng.normal()).collect();
            for k in 0..c {
                eta[k] = intercept[k] + (0..p).map(|j| coef[k * p + j] * row[j]).sum::<f64>();
            }
            crate::num::softmax(&eta, &mut prob).unwrap();
            y.push(rng.categorical(&prob) as i64);
            x.extend(row);
        }
        (x, y)
    }

    fn central_grad(obj: &mut dyn Objective, theta: &[f64]) -> Vec<f64> {
        (0..theta.len())
            .map(|j| {
                let h = 1e-5 * theta[j].abs().max(1.0);
                let (mut a, mut b) = (theta.to_vec(), theta.to_vec());
                a[j] += h;
                b[j] -= h;
                (obj.value(&a) - obj.value(&b)) / (2.0 * h)
            })
            .collect()
    }

    #[test]
    fn binary_is_two_class_softmax_with_half_the_penalty() {
        let (x, y) = draw(300, 3, &[0.0, 0.0, 0.0, 1.0, -0.5, 0.3], &[0.0, 0.4], 11);
        for l2 in [0.0, 0.7, 5.0] {
            let soft = softmax_regression(&x, 3, &y, 2, &LogisticOptions::l2(l2)).unwrap();
            let bin = logistic_regression(&x, 3, &y, &LogisticOptions::l2(l2 / 2.0)).unwrap();
            assert!(soft.report.converged() && bin.report.converged());
            for j in 0..3 {
                // β = w₁ − w₀, and w₀ = −w₁ at the optimum.
                assert!((bin.coef[j] - (soft.coef[3 + j] - soft.coef[j])).abs() < 1e-9, "l2 {l2}");
                assert!((soft.coef[j] + soft.coef[3 + j]).abs() < 1e-12);
            }
            assert!((bin.intercept - (soft.intercept[1] - soft.intercept[0])).abs() < 1e-9);
            assert!((bin.nll - soft.nll).abs() < 1e-9 * bin.nll);
            assert!((bin.objective - soft.objective).abs() < 1e-9 * bin.objective);
        }
        // With the same penalty on both they differ: the check above is not vacuous.
        let soft = softmax_regression(&x, 3, &y, 2, &LogisticOptions::l2(5.0)).unwrap();
        let bin = logistic_regression(&x, 3, &y, &LogisticOptions::l2(5.0)).unwrap();
        assert!((bin.coef[0] - (soft.coef[3] - soft.coef[0])).abs() > 1e-4);
    }

    #[test]
    fn gradient_vanishes_at_the_fit_and_matches_central_differences() {
        let coef = [0.5, -1.0, 0.0, 0.2, 1.0, -0.3, -0.7, 0.4, 0.1, 0.8, -0.2, 0.0];
        let (x, y) = draw(400, 3, &coef, &[0.2, -0.1, 0.3, 0.0], 5);
        let w: Vec<f64> = (0..400).map(|i| 0.5 + (i % 3) as f64).collect();
        let opts = LogisticOptions::l2(0.3).sample_weight(&w);
        let fit = softmax_regression(&x, 3, &y, 4, &opts).unwrap();
        assert!(fit.report.converged(), "{:?}", fit.report);
        let xr = Regressors::new("X", &x, 400, 3, true).unwrap();
        let mut obj = Multinomial {
            x: xr,
            y: &y,
            c: 4,
            w: Some(&w),
            l2: 0.3,
            full: vec![0.0; 16],
            eta: vec![0.0; 1600],
        };
        // θ from the fit (the first C−1 rows of [W, b]).
        let mut theta = Vec::new();
        for k in 0..3 {
            theta.extend_from_slice(&fit.coef[k * 3..k * 3 + 3]);
            theta.push(fit.intercept[k]);
        }
        let mut g = vec![0.0; 12];
        let f = obj.value_grad(&theta, &mut g);
        assert!((f - fit.objective).abs() < 1e-10 * f);
        assert!(g.iter().all(|v| v.abs() < 1e-8), "{g:?}");
        // Away from the optimum the analytic gradient and Hessian match central differences.
        let t1: Vec<f64> = theta.iter().enumerate().map(|(j, v)| v + 0.1 * (j as f64 - 5.0) / 5.0).collect();
        obj.value_grad(&t1, &mut g);
        let fd = central_grad(&mut obj, &t1);
        for (a, b) in g.iter().zip(&fd) {
            assert!((a - b).abs() < 1e-6 * (1.0 + a.abs()), "{a} vs {b}");
        }
        let mut h = vec![0.0; 144];
        obj.hessian(&t1, &mut h);
        for j in 0..12 {
            let eps = 1e-6;
            let (mut a, mut b) = (t1.clone(), t1.clone());
            a[j] += eps;
            b[j] -= eps;
            let (mut ga, mut gb) = (vec![0.0; 12], vec![0.0; 12]);
            obj.value_grad(&a, &mut ga);
            obj.value_grad(&b, &mut gb);
            for r in 0..12 {
                let fd = (ga[r] - gb[r]) / (2.0 * eps);
                assert!((h[r * 12 + j] - fd).abs() < 1e-5 * (1.0 + fd.abs()), "H[{r},{j}]");
            }
        }
        // Sum-to-zero parametrisation.
        assert!(fit.intercept.iter().sum::<f64>().abs() < 1e-12);
        for j in 0..3 {
            assert!((0..4).map(|k| fit.coef[k * 3 + j]).sum::<f64>().abs() < 1e-12);
        }
        // Probabilities are rows of a distribution.
        let p = fit.predict_proba(&x[..6]).unwrap();
        assert_eq!(p.len(), 8);
        assert!((p[..4].iter().sum::<f64>() - 1.0).abs() < 1e-14);
    }

    /// The unpenalised binary fit solves the Bernoulli GLM score equations Σᵢ (yᵢ − σ(x̃ᵢβ)) x̃ᵢ = 0,
    /// here solved independently by Newton–Raphson with a Gaussian elimination written out.
    #[test]
    #[allow(clippy::needless_range_loop)]
    fn unpenalised_binary_fit_solves_the_bernoulli_score_equations() {
        let (x, y) = draw(250, 2, &[0.0, 0.0, 0.8, -1.2], &[0.0, 0.3], 21);
        let fit = logistic_regression(&x, 2, &y, &LogisticOptions::l2(0.0)).unwrap();
        let d = 3;
        let mut beta = vec![0.0; d];
        for _ in 0..50 {
            // Augmented system [I(β) | U(β)] with U the score and I the Fisher information.
            let mut a = vec![vec![0.0; d + 1]; d];
            for i in 0..250 {
                let xt = [x[2 * i], x[2 * i + 1], 1.0];
                let eta: f64 = (0..d).map(|j| xt[j] * beta[j]).sum();
                let p = 1.0 / (1.0 + (-eta).exp());
                for r in 0..d {
                    for s in 0..d {
                        a[r][s] += p * (1.0 - p) * xt[r] * xt[s];
                    }
                    a[r][d] += (y[i] as f64 - p) * xt[r];
                }
            }
            for col in 0..d {
                for r in col + 1..d {
                    let m = a[r][col] / a[col][col];
                    for s in col..=d {
                        a[r][s] -= m * a[col][s];
                    }
                }
            }
            let mut step = vec![0.0; d];
            for r in (0..d).rev() {
                step[r] = (a[r][d] - (r + 1..d).map(|s| a[r][s] * step[s]).sum::<f64>()) / a[r][r];
            }
            beta.iter_mut().zip(&step).for_each(|(b, s)| *b += s);
        }
        assert!((fit.coef[0] - beta[0]).abs() < 1e-9 && (fit.coef[1] - beta[1]).abs() < 1e-9);
        assert!((fit.intercept - beta[2]).abs() < 1e-9);
    }

    #[test]
    fn sample_weights_equal_repeated_rows() {
        let x = [0.3, -1.0, 1.2, 0.5, -0.4, 2.0];
        let y = [0, 1, 2, 1, 0, 2];
        let w = [1.0, 2.0, 1.0, 3.0, 1.0, 1.0];
        let weighted = softmax_regression(&x, 1, &y, 3, &LogisticOptions::l2(0.5).sample_weight(&w)).unwrap();
        let (mut xr, mut yr) = (Vec::new(), Vec::new());
        for i in 0..6 {
            for _ in 0..w[i] as usize {
                xr.push(x[i]);
                yr.push(y[i]);
            }
        }
        let repeated = softmax_regression(&xr, 1, &yr, 3, &LogisticOptions::l2(0.5)).unwrap();
        for (a, b) in weighted.coef.iter().zip(&repeated.coef) {
            assert!((a - b).abs() < 1e-10);
        }
        assert!((weighted.objective - repeated.objective).abs() < 1e-10);
    }

    #[test]
    fn typed_errors() {
        let o = LogisticOptions::default();
        assert!(matches!(logistic_regression(&[], 1, &[], &o), Err(Error::Empty { .. })));
        assert!(matches!(
            logistic_regression(&[1.0, 2.0], 1, &[0, 2], &o),
            Err(Error::ClassOutOfRange { row: 1, value: 2, .. })
        ));
        assert!(matches!(
            softmax_regression(&[1.0, f64::INFINITY, 0.0, 1.0], 2, &[0, 1], 2, &o),
            Err(Error::InvalidEntry { row: 0, col: Some(1), .. })
        ));
        assert!(matches!(logistic_regression(&[1.0], 1, &[0, 1], &o), Err(Error::ShapeMismatch { .. })));
        let e = logistic_regression(&[1.0, 2.0], 1, &[1, 1], &o).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value `class` = 0: no observation of this class has a positive weight (its \
             intercept would run off to −∞)"
        );
        assert!(matches!(
            logistic_regression(&[1.0, 2.0], 1, &[0, 1], &LogisticOptions::l2(-1.0)),
            Err(Error::InvalidParameter { name: "l2", .. })
        ));
        assert!(matches!(softmax_regression(&[1.0], 1, &[0], 1, &o), Err(Error::InvalidOption { .. })));
        let w = [1.0, f64::NAN];
        assert!(logistic_regression(&[1.0, 2.0], 1, &[0, 1], &o.sample_weight(&w)).is_err());
    }

    #[test]
    fn separable_data_without_penalty_is_reported_not_an_error() {
        let x = [-2.0, -1.0, 1.0, 2.0];
        let y = [0, 0, 1, 1];
        let opts = LogisticOptions {
            l2: 0.0,
            newton: NewtonOptions { max_iter: 30, ..Default::default() },
            ..Default::default()
        };
        let fit = logistic_regression(&x, 1, &y, &opts).unwrap();
        assert!(fit.coef[0] > 5.0 && fit.coef[0].is_finite());
        // With a penalty the same data have a finite, converged optimum.
        let fit = logistic_regression(&x, 1, &y, &LogisticOptions::l2(1.0)).unwrap();
        assert!(fit.report.converged());
    }

    /// L-BFGS on the same objective (no Hessian) reaches the Newton fit: the optimum is the
    /// objective's, not an artefact of the optimiser.
    #[test]
    fn lbfgs_on_the_same_objective_agrees_with_newton() {
        let coef = [0.5, -1.0, 0.2, 1.0, -0.7, 0.4];
        let (x, y) = draw(300, 2, &coef, &[0.2, -0.1, 0.3], 17);
        let fit = softmax_regression(&x, 2, &y, 3, &LogisticOptions::l2(0.5)).unwrap();
        let xr = Regressors::new("X", &x, 300, 2, true).unwrap();
        let mut obj =
            Multinomial { x: xr, y: &y, c: 3, w: None, l2: 0.5, full: vec![0.0; 9], eta: vec![0.0; 900] };
        let (theta, report) =
            crate::fit::lbfgs(&mut obj, &[0.0; 6], &crate::fit::LbfgsOptions::default()).unwrap();
        assert!(report.converged(), "{report:?}");
        obj.expand(&theta);
        for k in 0..3 {
            for a in 0..2 {
                assert!((obj.full[k * 3 + a] - fit.coef[k * 2 + a]).abs() < 1e-7);
            }
            assert!((obj.full[k * 3 + 2] - fit.intercept[k]).abs() < 1e-7);
        }
        assert!(fit.objective <= report.value + 1e-12 * report.value);
    }

    #[test]
    fn binary_logistic_glm_equals_two_class_softmax_up_to_parametrisation() {
        use crate::fit::glm::{Glm, GlmFamily};
        use crate::link::Link;
        // Non-separable data with an intercept column for the GLM.
        let x1 = [-1.5, -0.7, -0.2, 0.1, 0.4, 0.9, 1.3, 2.0, -2.2, 0.6, 1.1, -0.3];
        let y = [0i64, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1];
        let design: Vec<f64> = x1.iter().flat_map(|&v| [1.0, v]).collect();
        let yf: Vec<f64> = y.iter().map(|&v| v as f64).collect();
        let glm = Glm::new(GlmFamily::Bernoulli).link(Link::Logit).intercept(0).fit(&design, 2, &yf).unwrap();
        let opts = LogisticOptions { l2: 0.0, ..LogisticOptions::default() };
        let soft = softmax_regression(&x1, 1, &y, 2, &opts).unwrap();
        // Softmax logits (b₀ + w₀x, b₁ + w₁x): only differences are identified;
        // the logistic parameters are (b₁ − b₀, w₁ − w₀).
        let b = soft.intercept[1] - soft.intercept[0];
        let w = soft.coef[1] - soft.coef[0];
        assert!((glm.coef[0] - b).abs() < 1e-8, "{} vs {b}", glm.coef[0]);
        assert!((glm.coef[1] - w).abs() < 1e-8, "{} vs {w}", glm.coef[1]);
        assert!((glm.loglike + soft.nll).abs() < 1e-9);
    }
}
