//! Named losses, each a view of a family's negative log-likelihood.
//!
//! Every loss is one small function over slices that returns a [`LossOutput`]: the reduced value,
//! the per-element losses and the gradient with respect to the model's raw outputs (logits, means,
//! log-rates, variances). Each loss module also has a `likelihood(..)` function returning its
//! [`Likelihood`]: the family, the link, the fixed parameters and the affine map
//!
//! ```text
//! loss(output, target) = scale · NLL_family(target | link⁻¹(output), fixed) + shift(target)
//! ```
//!
//! element by element, or a plain statement that the loss is not the NLL of any model of the target.
//!
//! ## Reduction, weights and masks ([`Options`])
//!
//! ```text
//! eᵢ    = mᵢ · wᵢ · ℓᵢ            mᵢ ∈ {0, 1} the mask, wᵢ ≥ 0 the weight (default 1)
//! none  : value = Σᵢ eᵢ, per_element = e   (the gradient is that of the sum)
//! sum   : value = Σᵢ eᵢ
//! mean  : value = Σᵢ eᵢ / Σᵢ mᵢ            (PyTorch divides weighted losses by the count too)
//! ```
//!
//! A masked-out element, or one with weight 0, contributes exactly 0 to the value and the gradient,
//! even where its loss would be infinite or NaN; a fully masked batch gives value 0 and gradient 0.
//! Row-structured losses (cross-entropy, KL) also have `batchmean`: Σ eᵢ / number of rows.

pub mod binary_cross_entropy;
pub mod catalogue;
pub mod deviance;
pub mod distillation;
pub mod gaussian_nll;
pub mod huber;
pub mod kl_div;
pub mod l1;
pub mod log_cosh;
pub mod mse;
pub mod nll;
pub mod pinball;
pub mod poisson_nll;
pub(crate) mod rows;
pub mod sigmoid_binary_cross_entropy;
pub mod sigmoid_focal;
pub mod smooth_l1;
pub mod softmax_cross_entropy;
pub mod student_t_nll;

pub use binary_cross_entropy::binary_cross_entropy;
pub use catalogue::{NamedLoss, catalogue};
pub use deviance::{gamma_deviance, poisson_deviance, tweedie_deviance};
pub use distillation::{Distillation, distillation};
pub use gaussian_nll::{GaussianNllOutput, gaussian_nll};
pub use huber::huber;
pub use kl_div::{KlDivOptions, kl_div};
pub use l1::l1;
pub use log_cosh::log_cosh;
pub use mse::mse;
pub use nll::{NllOptions, nll};
pub use pinball::pinball;
pub use poisson_nll::{PoissonNllConfig, poisson_nll};
pub use sigmoid_binary_cross_entropy::sigmoid_binary_cross_entropy;
pub use sigmoid_focal::sigmoid_focal;
pub use smooth_l1::smooth_l1;
pub use softmax_cross_entropy::{
    CrossEntropyOptions, softmax_cross_entropy, softmax_cross_entropy_probs,
    softmax_cross_entropy_probs_view, softmax_cross_entropy_view,
};
pub use student_t_nll::{StudentTNllOutput, student_t_nll};

use crate::error::{Error, Result};
use crate::link::Link;
use crate::num::Real;

/// How per-element losses are combined into one value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// Keep per-element losses (`LossOutput::value` is their sum).
    None,
    /// Σ of the per-element losses.
    Sum,
    /// Σ of the per-element losses / number of elements not masked out.
    #[default]
    Mean,
    /// Σ of the per-element losses / number of rows (row-structured losses only).
    BatchMean,
}

impl Reduction {
    /// Parses `none`, `sum`, `mean`, `batchmean`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for any other string.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(Reduction::None),
            "sum" => Ok(Reduction::Sum),
            "mean" => Ok(Reduction::Mean),
            "batchmean" => Ok(Reduction::BatchMean),
            other => Err(Error::InvalidOption {
                name: "reduction",
                value: other.to_string(),
                reason: "expected one of none, sum, mean, batchmean",
            }),
        }
    }
}

/// Reduction, per-element weights and mask for element-wise losses.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options<'a, F> {
    /// How to reduce.
    pub reduction: Reduction,
    /// Non-negative per-element weights (length = number of elements), or `None` for all ones.
    pub weight: Option<&'a [F]>,
    /// `false` drops an element entirely (loss and gradient 0), or `None` to keep all.
    pub mask: Option<&'a [bool]>,
}

impl<'a, F> Options<'a, F> {
    /// Mean reduction, no weights, no mask.
    pub fn mean() -> Self {
        Options { reduction: Reduction::Mean, weight: None, mask: None }
    }
    /// The given reduction, no weights, no mask.
    pub fn with_reduction(reduction: Reduction) -> Self {
        Options { reduction, weight: None, mask: None }
    }
    /// Sets the per-element weights.
    pub fn weight(mut self, w: &'a [F]) -> Self {
        self.weight = Some(w);
        self
    }
    /// Sets the mask.
    pub fn mask(mut self, m: &'a [bool]) -> Self {
        self.mask = Some(m);
        self
    }
}

/// The result of a loss: the reduced value, the per-element (weighted, masked) losses, and the
/// gradient of `value` with respect to the primary model output.
#[derive(Clone, Debug, PartialEq)]
pub struct LossOutput<F> {
    /// The reduced loss (for [`Reduction::None`], the sum of `per_element`).
    pub value: F,
    /// mᵢ · wᵢ · ℓᵢ for each element (or each row, for row-structured losses).
    pub per_element: Vec<F>,
    /// ∂ value / ∂ output, same length as the output.
    pub grad: Vec<F>,
}

/// Validates weights and mask against `n` elements and checks the reduction is element-wise.
pub(crate) fn validate_options<F: Real>(n: usize, opts: &Options<F>) -> Result<()> {
    if opts.reduction == Reduction::BatchMean {
        return Err(Error::InvalidOption {
            name: "reduction",
            value: "batchmean".into(),
            reason: "batchmean needs rows; use mean or sum for an element-wise loss",
        });
    }
    crate::error::check::weights(opts.weight, n)?;
    if let Some(m) = opts.mask {
        crate::error::check::same_len("mask", n, m.len())?;
    }
    Ok(())
}

/// The element-wise engine: calls `kernel(i) -> (ℓᵢ, [∂ℓᵢ/∂θ₁ᵢ, …, ∂ℓᵢ/∂θ_Kᵢ])` for each element
/// kept by the mask (and of non-zero weight), applies weights and the reduction, and returns
/// `(value, per_element, [grad₁, …, grad_K])`.
pub(crate) fn pointwise<F: Real, const K: usize>(
    n: usize,
    opts: &Options<F>,
    kernel: impl Fn(usize) -> (F, [F; K]),
) -> Result<(F, Vec<F>, [Vec<F>; K])> {
    validate_options(n, opts)?;
    let mut per = vec![F::zero(); n];
    let mut grads: [Vec<F>; K] = std::array::from_fn(|_| vec![F::zero(); n]);
    let mut count = 0usize;
    for i in 0..n {
        if let Some(m) = opts.mask
            && !m[i]
        {
            continue;
        }
        count += 1;
        let w = opts.weight.map_or(F::one(), |w| w[i]);
        if w == F::zero() {
            continue;
        }
        let (l, d) = kernel(i);
        per[i] = w * l;
        for (g, dk) in grads.iter_mut().zip(d) {
            g[i] = w * dk;
        }
    }
    let sum: F = per.iter().copied().sum();
    let value = match opts.reduction {
        Reduction::Mean => {
            if count == 0 {
                return Ok((F::zero(), per, grads));
            }
            let inv = F::one() / F::lit(count as f64);
            for g in grads.iter_mut() {
                g.iter_mut().for_each(|v| *v = *v * inv);
            }
            sum * inv
        }
        _ => sum,
    };
    Ok((value, per, grads))
}

/// Checks that `input` and `target` have the same length.
pub(crate) fn same_len2<F>(input: &[F], target: &[F]) -> Result<usize> {
    crate::error::check::same_len("target", input.len(), target.len())?;
    Ok(input.len())
}

/// What a loss is the negative log-likelihood of.
#[derive(Debug)]
pub enum Likelihood {
    /// The loss is an affine map of a family's NLL, element by element.
    Nll(NllMap),
    /// The loss is an affine map of an *expected* NLL under a soft target distribution q over the
    /// family's support (soft-target cross-entropy, KL to a target, distillation), row by row.
    ExpectedNll(ExpectedNllMap),
    /// The loss is not the NLL of any model of the target; the text says why.
    NotNll {
        /// Why not (e.g. focal loss reweights the Bernoulli NLL by a power of the prediction).
        why: &'static str,
    },
}

/// Shift term of the affine map.
#[derive(Clone, Copy, Debug)]
pub enum Shift {
    /// The same constant for every element.
    Constant(f64),
    /// Depends on the target only (e.g. the −log y! dropped by the Poisson loss).
    PerTarget {
        /// The formula, as text.
        formula: &'static str,
        /// The function of the target.
        f: fn(f64) -> f64,
    },
    /// Depends on the target and on one option of the loss (e.g. the Tweedie power, or the `eps`
    /// added to a Poisson rate): `f(target, param)`.
    PerTargetWith {
        /// The formula, as text.
        formula: &'static str,
        /// The option's symbol in the formula (`p`, `eps`).
        name: &'static str,
        /// The option's value.
        param: f64,
        /// The function of the target and the option.
        f: fn(f64, f64) -> f64,
    },
}

impl Shift {
    /// The shift for one target value.
    pub fn at(&self, target: f64) -> f64 {
        match *self {
            Shift::Constant(c) => c,
            Shift::PerTarget { f, .. } => f(target),
            Shift::PerTargetWith { f, param, .. } => f(target, param),
        }
    }
}

/// The NLL of one target given one element's raw outputs.
pub type ElementNll = Box<dyn Fn(&[f64], f64) -> f64 + Send + Sync>;

/// The declared relation `loss = scale · NLL + shift` with its model.
pub struct NllMap {
    /// Family name (`"normal"`, `"bernoulli"`, …).
    pub family: &'static str,
    /// How the raw output becomes the family's parameter.
    pub link: Link,
    /// Parameters held fixed by the loss (name, value), e.g. the normal scale 1/√2 for mse.
    pub fixed: Vec<(&'static str, f64)>,
    /// Multiplicative factor on the NLL.
    pub scale: f64,
    /// Additive term.
    pub shift: Shift,
    /// The family's NLL of one target given the element's raw outputs, computed through the family
    /// (not by the loss's own formula), so that the declared map can be checked.
    pub nll: ElementNll,
}

impl std::fmt::Debug for NllMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NllMap")
            .field("family", &self.family)
            .field("link", &self.link)
            .field("fixed", &self.fixed)
            .field("scale", &self.scale)
            .field("shift", &self.shift)
            .finish_non_exhaustive()
    }
}

/// The expected NLL of one row of raw outputs under a target distribution q (a probability row).
pub type RowExpectedNll = Box<dyn Fn(&[f64], &[f64]) -> f64 + Send + Sync>;

/// A function of the target distribution q alone (e.g. its entropy).
pub type TargetShift = Box<dyn Fn(&[f64]) -> f64 + Send + Sync>;

/// The declared relation, row by row, for a loss on soft targets q:
///
/// ```text
/// loss(output, q) = scale · E_{y∼q}[NLL_family(y | link⁻¹(output), fixed)] + shift(q)
/// ```
///
/// Since E_q\[NLL\] = H(q, p) = H(q) + KL(q ‖ p), a loss that is the KL has shift −scale·H(q), and
/// minimising any of them over the model is maximum likelihood under soft targets.
pub struct ExpectedNllMap {
    /// Family name (`"categorical"`).
    pub family: &'static str,
    /// How a row of raw outputs becomes the family's parameters.
    pub link: Link,
    /// Parameters held fixed by the loss (name, value), e.g. the temperature.
    pub fixed: Vec<(&'static str, f64)>,
    /// Multiplicative factor on the expected NLL.
    pub scale: f64,
    /// The shift as a formula in q, e.g. `"−H(q)"`.
    pub shift_formula: &'static str,
    /// The shift as a function of q.
    pub shift: TargetShift,
    /// E_{y∼q}[NLL(y | outputs)], computed through the family (not the loss's own formula).
    pub expected_nll: RowExpectedNll,
}

impl std::fmt::Debug for ExpectedNllMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExpectedNllMap")
            .field("family", &self.family)
            .field("link", &self.link)
            .field("fixed", &self.fixed)
            .field("scale", &self.scale)
            .field("shift", &self.shift_formula)
            .finish_non_exhaustive()
    }
}

impl ExpectedNllMap {
    /// scale · E_q[NLL(y | outputs)] + shift(q): what the row's loss must equal.
    pub fn predicted_loss(&self, outputs: &[f64], q: &[f64]) -> f64 {
        self.scale * (self.expected_nll)(outputs, q) + (self.shift)(q)
    }
}

/// E_{y∼q}[−log p(y)] for a categorical p given by its logits, through the family; 0·(+inf) = 0.
pub(crate) fn categorical_expected_nll(logits: &[f64], q: &[f64]) -> f64 {
    use crate::family::Categorical;
    match Categorical::from_logits(logits) {
        Err(_) => f64::NAN,
        Ok(d) => q
            .iter()
            .enumerate()
            .filter(|(_, qy)| **qy != 0.0)
            .map(|(y, qy)| qy * d.log_prob(y).map_or(f64::NAN, |lp| -lp))
            .sum(),
    }
}

/// H(q) = −Σ q log q in nats, with 0·log 0 = 0.
pub(crate) fn target_entropy(q: &[f64]) -> f64 {
    q.iter().map(|&v| -crate::num::xlogy(v, v)).sum()
}

impl NllMap {
    /// scale · NLL(target | outputs) + shift(target): what the loss must equal element by element.
    pub fn predicted_loss(&self, outputs: &[f64], target: f64) -> f64 {
        self.scale * (self.nll)(outputs, target) + self.shift.at(target)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Shared test helpers for losses.
    use super::*;

    /// Checks a soft-target loss's declared map at the given (row outputs, target distribution)
    /// points: `row_loss(outputs, q) == scale · E_q[NLL] + shift(q)` to `tol` relative.
    pub fn check_expected_map(
        decl: &Likelihood,
        points: &[(Vec<f64>, Vec<f64>)],
        row_loss: impl Fn(&[f64], &[f64]) -> f64,
        tol: f64,
    ) {
        let Likelihood::ExpectedNll(map) = decl else { panic!("loss declares no expected NLL") };
        for (outputs, q) in points {
            let got = row_loss(outputs, q);
            let want = map.predicted_loss(outputs, q);
            assert!(
                (got - want).abs() <= tol * want.abs().max(1.0),
                "{} map: outputs {outputs:?}, q {q:?}: loss {got} vs scale·E[NLL] + shift {want}",
                map.family
            );
        }
    }

    /// Checks an element-wise loss's declared map at the given (outputs, target) points:
    /// `loss(outputs, target) == scale · NLL + shift` to `tol` relative.
    pub fn check_declared_map(
        decl: &Likelihood,
        points: &[(Vec<f64>, f64)],
        loss: impl Fn(&[f64], f64) -> f64,
        tol: f64,
    ) {
        let Likelihood::Nll(map) = decl else { panic!("loss declares no likelihood") };
        for (outputs, y) in points {
            let got = loss(outputs, *y);
            let want = map.predicted_loss(outputs, *y);
            assert!(
                (got - want).abs() <= tol * want.abs().max(1.0),
                "{} map: outputs {outputs:?}, target {y}: loss {got} vs scale·NLL + shift {want}",
                map.family
            );
        }
    }

    /// The element-wise reductions.
    pub const REDUCTIONS: [Reduction; 3] = [Reduction::None, Reduction::Sum, Reduction::Mean];

    /// An optional per-element weight and an optional mask.
    pub type WeightMask<'a> = (Option<&'a [f64]>, Option<&'a [bool]>);

    /// `Options` for every element-wise reduction with each (weight, mask) pair in `pairs`.
    pub fn options_with<'a>(pairs: &[WeightMask<'a>]) -> Vec<Options<'a, f64>> {
        let mut out = Vec::with_capacity(REDUCTIONS.len() * pairs.len());
        for r in REDUCTIONS {
            for &(weight, mask) in pairs {
                out.push(Options { reduction: r, weight, mask });
            }
        }
        out
    }

    /// `Options` for every element-wise reduction × (no weight, `w`) × (no mask, `m`).
    pub fn option_grid<'a>(w: &'a [f64], m: &'a [bool]) -> Vec<Options<'a, f64>> {
        options_with(&[(None, None), (Some(w), None), (None, Some(m)), (Some(w), Some(m))])
    }

    /// `Options` for every element-wise reduction, plain and with both `w` and `m`.
    pub fn plain_and_weighted_masked<'a>(w: &'a [f64], m: &'a [bool]) -> Vec<Options<'a, f64>> {
        options_with(&[(None, None), (Some(w), Some(m))])
    }

    /// Central-difference gradient of a scalar function of one coordinate.
    pub fn central_diff(f: impl Fn(f64) -> f64, x: f64) -> f64 {
        let h = f64::EPSILON.cbrt() * x.abs().max(1.0);
        (f(x + h) - f(x - h)) / (2.0 * h)
    }

    /// Checks the gradient that `loss(input)` returns against central differences of its value.
    pub fn check_loss_grad(input: &[f64], loss: impl Fn(&[f64]) -> LossOutput<f64>, tol: f64) {
        check_grad_fd(input, &loss(input).grad, |v| loss(v).value, tol);
    }

    /// Checks `grad` against central differences of `value(input)` for every coordinate.
    pub fn check_grad_fd(input: &[f64], grad: &[f64], value: impl Fn(&[f64]) -> f64, tol: f64) {
        for i in 0..input.len() {
            let fd = central_diff(
                |v| {
                    let mut x = input.to_vec();
                    x[i] = v;
                    value(&x)
                },
                input[i],
            );
            assert!(
                (grad[i] - fd).abs() <= tol * fd.abs().max(1.0),
                "coordinate {i}: analytic {} vs finite difference {fd}",
                grad[i]
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fully_masked_batch_gives_zero_value_and_gradient() {
        let opts = Options::mean().mask(&[false, false, false]);
        let (v, per, [g]) = pointwise::<f64, 1>(3, &opts, |_| (f64::NAN, [f64::INFINITY])).unwrap();
        assert_eq!(v, 0.0);
        assert_eq!(per, vec![0.0; 3]);
        assert_eq!(g, vec![0.0; 3]);
    }

    #[test]
    fn zero_weight_hides_infinite_loss_and_mean_counts_unmasked() {
        let w = [1.0, 0.0, 2.0];
        let m = [true, true, false];
        let opts = Options::mean().weight(&w).mask(&m);
        let (v, per, [g]) =
            pointwise::<f64, 1>(3, &opts, |i| ([3.0, f64::INFINITY, 5.0][i], [1.0; 1])).unwrap();
        assert_eq!(per, vec![3.0, 0.0, 0.0]);
        assert_eq!(v, 1.5);
        assert_eq!(g, vec![0.5, 0.0, 0.0]);
    }

    #[test]
    fn bad_options_are_typed_errors() {
        let w = [1.0, -1.0];
        let e = pointwise::<f64, 1>(2, &Options::mean().weight(&w), |_| (0.0, [0.0])).unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { name: "weight", index: Some(1), .. }));
        let e = pointwise::<f64, 1>(3, &Options::mean().weight(&w), |_| (0.0, [0.0])).unwrap_err();
        assert!(matches!(e, Error::ShapeMismatch { name: "weight", .. }));
        let opts = Options::<f64>::with_reduction(Reduction::BatchMean);
        assert!(pointwise::<f64, 1>(1, &opts, |_| (0.0, [0.0])).is_err());
        assert!(Reduction::parse("avg").is_err());
    }
}
