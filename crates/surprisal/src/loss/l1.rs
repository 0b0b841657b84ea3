//! Mean absolute error: the Laplace NLL with the scale fixed.
//!
//! ```text
//! model     y ~ Laplace(μ = x, b = 1), identity link
//! loss      ℓ(x, y) = |x − y|
//! NLL       −log Laplace(y | x, 1) = |y − x| + log 2
//! map       ℓ = 1 · NLL − log 2
//! gradient  ∂ℓ/∂x = sign(x − y), and 0 at x = y (as PyTorch)
//! ```
//!
//! Any other fixed b gives the same minimiser (the median): ℓ = b · NLL_b − b log 2b.
//!
//! Edges: an infinite residual gives an infinite loss with gradient ±1; x = y = ±inf gives NaN
//! (inf − inf), as PyTorch. Masked-out or zero-weight elements contribute 0.
//!
//! Matches `torch.nn.functional.l1_loss` (reductions none/sum/mean).

use super::{Likelihood, LossOutput, NllMap, Options, Shift, pointwise, same_len2};
use crate::error::Result;
use crate::family::{Family, Laplace};
use crate::link::Link;
use crate::num::Real;

/// Absolute error |x − y|, reduced per `opts`, with its gradient sign(x − y) (0 at x = y).
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] if the lengths of `input`, `target`, weight or mask differ;
/// [`crate::Error::InvalidOption`] for `batchmean`.
///
/// # Example
/// ```
/// use surprisal::loss::{self, Options};
/// let out = loss::l1(&[1.0f64, 2.0, 4.0], &[1.5, 2.0, 3.0], &Options::mean()).unwrap();
/// // torch.nn.functional.l1_loss: (0.5 + 0 + 1)/3
/// assert!((out.value - 0.5).abs() < 1e-16);
/// assert_eq!(out.grad, vec![-1.0 / 3.0, 0.0, 1.0 / 3.0]);
/// ```
pub fn l1<F: Real>(input: &[F], target: &[F], opts: &Options<F>) -> Result<LossOutput<F>> {
    let n = same_len2(input, target)?;
    let (value, per_element, [grad]) = pointwise(n, opts, |i| {
        let r = input[i] - target[i];
        (r.abs(), [sign0(r)])
    })?;
    Ok(LossOutput { value, per_element, grad })
}

/// sign(r) with sign(0) = 0 (PyTorch's `sgn`; NaN stays NaN).
#[inline]
pub(crate) fn sign0<F: Real>(r: F) -> F {
    if r > F::zero() {
        F::one()
    } else if r < F::zero() {
        -F::one()
    } else {
        r * F::zero()
    }
}

/// L1 is the Laplace NLL with b = 1 and identity link, shifted by −log 2.
pub fn likelihood() -> Likelihood {
    Likelihood::Nll(NllMap {
        family: "laplace",
        link: Link::Identity,
        fixed: vec![("scale", 1.0)],
        scale: 1.0,
        shift: Shift::Constant(-std::f64::consts::LN_2),
        nll: Box::new(|out, y| -Laplace::new(out[0], 1.0).map_or(f64::NAN, |d| d.log_prob(y))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::Reduction;
    use crate::loss::testing::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn declared_map_holds(x in -1e3f64..1e3, y in -1e3f64..1e3) {
            let per = |o: &[f64], y: f64| l1(&[o[0]], &[y], &Options::mean()).unwrap().value;
            check_declared_map(&likelihood(), &[(vec![x], y)], per, 1e-12);
        }
    }

    #[test]
    fn gradient_matches_central_differences_for_each_reduction_weighted_and_masked() {
        let x = [0.3, -1.2, 2.5, 7.0, -0.01];
        let y = [0.0, 1.0, 2.0, -3.0, 0.5];
        let w = [1.0, 0.5, 2.0, 0.0, 3.0];
        let m = [true, true, false, true, true];
        for opts in plain_and_weighted_masked(&w, &m) {
            check_loss_grad(&x, |v| l1(v, &y, &opts).unwrap(), 1e-8);
        }
    }

    #[test]
    fn edges_zero_residual_infinities_and_masks() {
        let out = l1(
            &[2.0f64, f64::INFINITY, 1.0],
            &[2.0, 0.0, f64::NAN],
            &Options::with_reduction(Reduction::Sum).mask(&[true, true, false]),
        )
        .unwrap();
        assert_eq!(out.grad, vec![0.0, 1.0, 0.0]);
        assert_eq!(out.per_element, vec![0.0, f64::INFINITY, 0.0]);
        let out = l1(&[1.0f64], &[2.0], &Options::mean().mask(&[false])).unwrap();
        assert_eq!((out.value, out.grad[0]), (0.0, 0.0));
        // Huge magnitudes: no overflow in the residual's sign.
        let out = l1(&[1e300f64], &[-1e300], &Options::mean()).unwrap();
        assert_eq!((out.value, out.grad[0]), (2e300, 1.0));
    }

    #[test]
    fn f32_agrees_with_f64_and_shape_errors() {
        let out = l1(&[1.0f32, -3.0, 0.25], &[0.0, 0.0, 0.25], &Options::mean()).unwrap();
        assert!((out.value - 4.0 / 3.0).abs() < 1e-6);
        assert_eq!(out.grad, vec![1.0 / 3.0, -1.0 / 3.0, 0.0]);
        assert!(l1(&[1.0f64], &[1.0, 2.0], &Options::mean()).is_err());
    }
}
