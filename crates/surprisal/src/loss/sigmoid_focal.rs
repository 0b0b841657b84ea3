//! Sigmoid focal loss (Lin et al. 2017): binary cross-entropy down-weighted on easy examples.
//!
//! ```text
//! p     = σ(x),  ce = −y·log p − (1 − y)·log(1 − p)  (= sigmoid binary cross-entropy)
//! m     = 1 − p_t = p·(1 − y) + (1 − p)·y            (p_t = p·y + (1 − p)·(1 − y))
//! a_t   = α·y + (1 − α)·(1 − y)   if α ≥ 0,   1 if α < 0
//! ℓ     = a_t · ce · m^γ
//! ∂ℓ/∂x = a_t · [ (p − y)·m^γ + ce·γ·m^(γ−1)·(1 − 2y)·p(1 − p) ]
//! ```
//!
//! **Not a negative log-likelihood.** Focal loss reweights the Bernoulli NLL of each element by
//! (1 − p_t)^γ, a power of the model's own prediction; the result is not −log of any density or
//! mass function of y (for γ > 0, e^{−ℓ} summed over y ∈ {0, 1} is not 1 and the factor depends
//! on the parameter being fitted), and its minimiser is not σ(x) = y for soft targets. With γ = 0
//! and α < 0 it is exactly the Bernoulli NLL. See [`likelihood`].
//!
//! Edges: x = ±inf with the agreeing hard target gives 0 loss and 0 gradient; m = 0 terms of
//! γ·m^(γ−1) (which would be 0·inf) are taken at their limit 0; γ = 0 gives m^0 = 1 and no second
//! gradient term (as PyTorch's `pow` backward).
//!
//! Matches `torchvision.ops.sigmoid_focal_loss` (`alpha`, `gamma`, reductions none/sum/mean).

use super::sigmoid_binary_cross_entropy::{check_unit_interval, mul0};
use super::{Likelihood, LossOutput, Options, pointwise, same_len2};
use crate::error::{Error, Result};
use crate::num::{Real, sigmoid, softplus};

/// ℓ and ∂ℓ/∂x for one element.
#[inline]
fn kernel<F: Real>(x: F, y: F, alpha: F, gamma: F) -> (F, F) {
    let one = F::one();
    let (p, q) = (sigmoid(x), sigmoid(-x)); // q = 1 − p without cancellation
    let ce = mul0(y, softplus(-x)) + mul0(one - y, softplus(x));
    let m = p * (one - y) + q * y;
    let mg = if gamma == F::zero() { one } else { m.powf(gamma) };
    let a_t = if alpha < F::zero() { one } else { alpha * y + (one - alpha) * (one - y) };
    let l = mul0(mg, ce);
    let dce = p - y;
    // ce·γ·m^(γ−1)·(1 − 2y)·p·q: zero when γ = 0, and at m = 0 (its limit for γ > 0: m = 0
    // only where p = y ∈ {0, 1}, where p·q = 0 too).
    let second = if gamma == F::zero() || m == F::zero() {
        F::zero()
    } else {
        mul0(gamma * m.powf(gamma - one) * (one - y - y) * p * q, ce)
    };
    (a_t * l, a_t * (dce * mg + second))
}

/// Sigmoid focal loss on logits, reduced per `opts`, with its gradient with respect to the logits.
///
/// `logits` and `targets` have the same length n (any shape, flattened); targets in [0, 1].
/// `alpha < 0` disables the class weighting (torchvision's convention); `alpha ∈ [0, 1]` weights
/// positives by α and negatives by 1 − α. `gamma ≥ 0` is the focusing exponent.
///
/// # Errors
/// [`Error::ShapeMismatch`] for inputs of other lengths; [`Error::InvalidValue`] for a target
/// outside [0, 1]; [`Error::InvalidParameter`] for `gamma` not finite and ≥ 0 or `alpha` > 1 or
/// NaN; [`Error::InvalidOption`] for `batchmean`.
///
/// # Example
/// ```
/// use surprisal::loss::{self, Options};
/// let x = [1.5f64, -0.5, 3.0];
/// let y = [1.0, 0.0, 0.0];
/// let out = loss::sigmoid_focal(&x, &y, 0.25, 2.0, &Options::mean()).unwrap();
/// // mpmath evaluation of torchvision's formula
/// assert!((out.value - 0.70902205346290605557).abs() < 1e-15);
/// ```
pub fn sigmoid_focal<F: Real>(
    logits: &[F],
    targets: &[F],
    alpha: F,
    gamma: F,
    opts: &Options<F>,
) -> Result<LossOutput<F>> {
    let n = same_len2(logits, targets)?;
    if !(gamma.is_finite() && gamma >= F::zero()) {
        return Err(Error::param("gamma", gamma.to_f64_lossy(), "must be finite and >= 0"));
    }
    if alpha.is_nan() || alpha > F::one() {
        return Err(Error::param("alpha", alpha.to_f64_lossy(), "must be <= 1 (negative disables it)"));
    }
    check_unit_interval("target", targets)?;
    let (value, per_element, [grad]) = pointwise(n, opts, |i| {
        let (l, g) = kernel(logits[i], targets[i], alpha, gamma);
        (l, [g])
    })?;
    Ok(LossOutput { value, per_element, grad })
}

/// Focal loss is not the NLL of any model of y.
pub fn likelihood() -> Likelihood {
    Likelihood::NotNll {
        why: "focal loss multiplies the Bernoulli NLL −log p_t by (1 − p_t)^γ (and by α_t), a weight \
              that depends on the model's own prediction; exp(−loss) is not a probability mass over \
              y ∈ {0, 1} for γ > 0, so it is not the log-density of any model of y (it equals the \
              Bernoulli NLL only for γ = 0 without α weighting)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::Reduction;
    use crate::loss::testing::*;

    #[test]
    fn declares_not_nll_and_reduces_to_bce_for_gamma_zero() {
        assert!(matches!(likelihood(), Likelihood::NotNll { .. }));
        let x = [0.3f64, -1.2, 2.5, -7.0];
        let y = [0.0, 1.0, 0.25, 1.0];
        let f = sigmoid_focal(&x, &y, -1.0, 0.0, &Options::mean()).unwrap();
        let b = crate::loss::sigmoid_binary_cross_entropy(&x, &y, None, &Options::mean()).unwrap();
        assert!((f.value - b.value).abs() < 1e-15);
        for (a, c) in f.grad.iter().zip(&b.grad) {
            assert!((a - c).abs() < 1e-15);
        }
        // exp(−ℓ) over y ∈ {0, 1} does not sum to one for γ > 0: not a likelihood.
        let mass: f64 = [0.0, 1.0]
            .iter()
            .map(|&y| (-sigmoid_focal(&[0.4f64], &[y], -1.0, 2.0, &Options::mean()).unwrap().value).exp())
            .sum();
        assert!((mass - 1.0).abs() > 1e-2);
    }

    #[test]
    fn gradient_matches_central_differences_for_every_option() {
        let x = [0.3, -1.2, 2.5, 7.0, -0.01, 1.1];
        let y = [0.0, 1.0, 0.25, 1.0, 0.5, 0.0];
        let w = [1.0, 0.5, 2.0, 0.0, 3.0, 1.5];
        let m = [true, true, false, true, true, true];
        for (alpha, gamma) in [(0.25, 2.0), (-1.0, 0.0), (0.75, 1.5), (-1.0, 0.5), (0.0, 3.0)] {
            for opts in option_grid(&w, &m) {
                check_loss_grad(&x, |v| sigmoid_focal(v, &y, alpha, gamma, &opts).unwrap(), 1e-7);
            }
        }
    }

    #[test]
    fn edges_and_errors() {
        let none = Options::with_reduction(Reduction::None);
        let x = [f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, -1e300];
        let y = [1.0, 0.0, 0.0, 1.0];
        for gamma in [0.0, 0.5, 2.0] {
            let out = sigmoid_focal(&x, &y, 0.25, gamma, &none).unwrap();
            assert_eq!(&out.per_element[..2], &[0.0, 0.0]);
            assert_eq!(&out.grad[..2], &[0.0, 0.0]);
            assert_eq!(out.per_element[2], f64::INFINITY);
            assert!(out.grad.iter().all(|g| !g.is_nan()));
        }
        assert!(sigmoid_focal(&[0.0f64], &[1.0], 0.25, -1.0, &none).is_err());
        assert!(sigmoid_focal(&[0.0f64], &[1.0], 1.5, 2.0, &none).is_err());
        assert!(sigmoid_focal(&[0.0f64], &[2.0], 0.25, 2.0, &none).is_err());
        let a = sigmoid_focal(&[0.7f32, -2.0], &[1.0, 0.0], 0.25, 2.0, &Options::mean()).unwrap().value;
        let b = sigmoid_focal(&[0.7f64, -2.0], &[1.0, 0.0], 0.25, 2.0, &Options::mean()).unwrap().value;
        assert!((a as f64 - b).abs() < 1e-6 * b);
    }
}
