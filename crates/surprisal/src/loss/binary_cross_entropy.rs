//! Binary cross-entropy on probabilities: the Bernoulli NLL with the mean p given directly.
//!
//! ```text
//! model     y ~ Bernoulli(p), p ∈ [0, 1] given (identity link on the mean)
//! exact     ℓ(p, y) = −y·log p − (1 − y)·log(1 − p)          (0·log 0 = 0)
//!           ∂ℓ/∂p  = −y/p + (1 − y)/(1 − p)                   (0/0 terms = 0)
//! torch     ℓ(p, y) = −y·max(log p, −100) − (1 − y)·max(log1p(−p), −100)
//!           ∂ℓ/∂p  = (p − y) / max(p·(1 − p), 1e−12)
//! map       ℓ = 1 · NLL + 0   (exact without the clamp; with it, wherever p, 1 − p ≥ e^{−100})
//! ```
//!
//! - `clamp_log = true` is PyTorch's behaviour: each log is clamped at −100, so a confidently
//!   wrong prediction (p = 0, y = 1) costs 100, not +inf, and the gradient is PyTorch's, whose
//!   denominator is clamped at 1e−12 (so it stays finite at p ∈ {0, 1}).
//! - `clamp_log = false` is the exact Bernoulli NLL: ℓ = +inf where the model gives the observed
//!   outcome probability 0, with gradient ±inf there; 0·log 0 = 0 otherwise.
//! - Soft targets y ∈ [0, 1] give the cross-entropy H(y, p) = H(y) + KL(y ‖ p).
//! - Prefer [`crate::loss::sigmoid_binary_cross_entropy()`] on logits: it needs no clamp.
//!
//! Matches `torch.nn.functional.binary_cross_entropy` (with `clamp_log = true`; `weight` =
//! [`Options::weight`]; reductions none/sum/mean).

use super::sigmoid_binary_cross_entropy::{check_unit_interval, mul0};
use super::{Likelihood, LossOutput, NllMap, Options, Shift, pointwise, same_len2};
use crate::error::Result;
use crate::family::{Bernoulli, Family};
use crate::link::Link;
use crate::num::{Real, xlog1py, xlogy};

/// PyTorch's floor on each log term.
const LOG_FLOOR: f64 = -100.0;
/// PyTorch's floor on p·(1 − p) in the gradient.
const GRAD_EPS: f64 = 1e-12;

/// ℓ(p, y) and ∂ℓ/∂p for one element.
#[inline]
fn kernel<F: Real>(p: F, y: F, clamp_log: bool) -> (F, F) {
    let one = F::one();
    if clamp_log {
        let floor = F::lit(LOG_FLOOR);
        let l = -(y * p.ln().max(floor)) - (one - y) * (-p).ln_1p().max(floor);
        let g = (p - y) / (p * (one - p)).max(F::lit(GRAD_EPS));
        (l, g)
    } else {
        // −y·log p − (1 − y)·log(1 − p), with 0·log 0 = 0.
        let l = -xlogy(y, p) - xlog1py(one - y, -p);
        let g = mul0(one - y, (one - p).recip()) - mul0(y, p.recip());
        (l, g)
    }
}

/// Binary cross-entropy on probabilities, reduced per `opts`, with its gradient with respect to
/// the probabilities.
///
/// `probs` and `targets` have the same length (any shape, flattened), both in [0, 1].
/// `clamp_log = true` is PyTorch's (clamped) loss and gradient; `false` the exact Bernoulli NLL.
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] for inputs of other lengths; [`crate::Error::InvalidValue`]
/// for a probability or target outside [0, 1]; [`crate::Error::InvalidOption`] for `batchmean`.
///
/// # Example
/// ```
/// use surprisal::loss::{self, Options};
/// let p = [0.8f64, 0.3, 0.0];
/// let y = [1.0, 0.0, 0.0];
/// let out = loss::binary_cross_entropy(&p, &y, true, &Options::mean()).unwrap();
/// // mpmath: (−log 0.8 − log 0.7 − 0)/3
/// assert!((out.value - 0.1932728317509807142).abs() < 1e-15);
/// // A prediction of probability 1e−60 for the observed outcome: torch clamps −log at 100.
/// let (p, y) = ([0.8f64, 1e-60], [1.0, 1.0]);
/// let sum = Options::with_reduction(loss::Reduction::Sum);
/// let torch = loss::binary_cross_entropy(&p, &y, true, &sum).unwrap();
/// let exact = loss::binary_cross_entropy(&p, &y, false, &sum).unwrap();
/// assert!((torch.value - 100.2231435513142097).abs() < 1e-12);
/// assert!((exact.value - 138.37824913095695077).abs() < 1e-12);
/// ```
pub fn binary_cross_entropy<F: Real>(
    probs: &[F],
    targets: &[F],
    clamp_log: bool,
    opts: &Options<F>,
) -> Result<LossOutput<F>> {
    let n = same_len2(probs, targets)?;
    check_unit_interval("probs", probs)?;
    check_unit_interval("target", targets)?;
    let (value, per_element, [grad]) = pointwise(n, opts, |i| {
        let (l, g) = kernel(probs[i], targets[i], clamp_log);
        (l, [g])
    })?;
    Ok(LossOutput { value, per_element, grad })
}

/// Binary cross-entropy is the Bernoulli NLL with the mean given directly: scale 1, shift 0,
/// exact for `clamp_log = false`, and for `clamp_log = true` wherever neither log is clamped
/// (p and 1 − p ≥ e^{−100}).
pub fn likelihood() -> Likelihood {
    Likelihood::Nll(NllMap {
        family: Bernoulli::<f64>::NAME,
        link: Link::Identity,
        fixed: vec![],
        scale: 1.0,
        shift: Shift::Constant(0.0),
        nll: Box::new(|out, y| -Bernoulli::from_probs(out[0]).map_or(f64::NAN, |d| d.log_prob(y))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::loss::Reduction;
    use crate::loss::testing::*;

    #[test]
    fn declared_map_holds_with_and_without_clamp() {
        let pts: Vec<(Vec<f64>, f64)> = [1e-40, 0.01, 0.3, 0.5, 0.9, 1.0 - 1e-12]
            .iter()
            .flat_map(|&p| [(vec![p], 0.0), (vec![p], 1.0)])
            .collect();
        for clamp in [true, false] {
            let per = |o: &[f64], y: f64| {
                binary_cross_entropy(&[o[0]], &[y], clamp, &Options::mean()).unwrap().value
            };
            check_declared_map(&likelihood(), &pts, per, 1e-12);
        }
    }

    #[test]
    fn gradient_matches_central_differences_for_every_option() {
        let p = [0.3, 0.62, 0.05, 0.9, 0.45, 0.7];
        let y = [0.0, 1.0, 0.25, 1.0, 0.5, 0.0];
        let w = [1.0, 0.5, 2.0, 0.0, 3.0, 1.5];
        let m = [true, true, false, true, true, true];
        for clamp in [true, false] {
            for opts in option_grid(&w, &m) {
                let out = binary_cross_entropy(&p, &y, clamp, &opts).unwrap();
                // Small step: probabilities live in (0, 1).
                for i in 0..p.len() {
                    let h = 1e-6;
                    let f = |v: f64| {
                        let mut q = p;
                        q[i] = v;
                        binary_cross_entropy(&q, &y, clamp, &opts).unwrap().value
                    };
                    let fd = (f(p[i] + h) - f(p[i] - h)) / (2.0 * h);
                    assert!(
                        (out.grad[i] - fd).abs() <= 1e-7 * fd.abs().max(1.0),
                        "{i}: {} vs {fd}",
                        out.grad[i]
                    );
                }
            }
        }
    }

    #[test]
    fn edges_zero_one_probabilities() {
        let none = Options::with_reduction(Reduction::None);
        let p = [0.0f64, 1.0, 0.0, 1.0];
        let y = [0.0, 1.0, 1.0, 0.0];
        let exact = binary_cross_entropy(&p, &y, false, &none).unwrap();
        assert_eq!(exact.per_element, vec![0.0, 0.0, f64::INFINITY, f64::INFINITY]);
        assert_eq!(exact.grad, vec![1.0, -1.0, f64::NEG_INFINITY, f64::INFINITY]);
        let torch = binary_cross_entropy(&p, &y, true, &none).unwrap();
        assert_eq!(torch.per_element, vec![0.0, 0.0, 100.0, 100.0]);
        assert_eq!(torch.grad, vec![0.0, 0.0, -1e12, 1e12]);
        // Masked infinite losses vanish.
        let opts = Options::mean().mask(&[true, true, false, false]);
        let out = binary_cross_entropy(&p, &y, false, &opts).unwrap();
        assert_eq!(out.value, 0.0);
        assert!(out.grad.iter().all(|g| g.is_finite()));
    }

    #[test]
    fn f32_agrees_with_f64_and_bad_inputs_are_typed_errors() {
        let p = [0.3f64, 0.62, 0.05];
        let y = [0.0f64, 1.0, 0.25];
        let want = binary_cross_entropy(&p, &y, true, &Options::mean()).unwrap().value;
        let p32: Vec<f32> = p.iter().map(|&v| v as f32).collect();
        let y32: Vec<f32> = y.iter().map(|&v| v as f32).collect();
        let got = binary_cross_entropy(&p32, &y32, true, &Options::mean()).unwrap().value;
        assert!((got as f64 - want).abs() < 1e-6 * want);
        let e = binary_cross_entropy(&[1.2f64], &[1.0], true, &Options::mean()).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "probs", index: Some(0), .. }));
        let e = binary_cross_entropy(&[0.2f64], &[f64::NAN], true, &Options::mean()).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "target", .. }));
        assert!(binary_cross_entropy(&[0.2f64], &[1.0, 0.0], true, &Options::mean()).is_err());
    }
}
