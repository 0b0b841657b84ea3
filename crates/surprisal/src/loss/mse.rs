//! Mean squared error: the Gaussian NLL with the variance fixed.
//!
//! ```text
//! model     y ~ N(μ = x, σ² = ½), identity link
//! loss      ℓ(x, y) = (x − y)²
//! NLL       −log N(y | x, ½) = (y − x)² + ½ log π
//! map       ℓ = 1 · NLL − ½ log π
//! gradient  ∂ℓ/∂x = 2(x − y)
//! ```
//!
//! Any other fixed σ gives the same minimiser: ℓ = 2σ² · NLL − σ² log(2πσ²). With a learned
//! variance the loss is no longer an affine map of this one: see [`crate::loss::gaussian_nll`](mod@crate::loss::gaussian_nll).
//!
//! Matches `torch.nn.functional.mse_loss` (reductions none/sum/mean).

use super::{Likelihood, LossOutput, NllMap, Options, Shift, pointwise, same_len2};
use crate::error::Result;
use crate::family::{Family, Normal};
use crate::link::Link;
use crate::num::Real;

/// Squared error (x − y)², reduced per `opts`, with its gradient 2(x − y).
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] if the lengths of `input`, `target`, weight or mask differ;
/// [`crate::Error::InvalidOption`] for `batchmean`.
///
/// # Example
/// ```
/// use surprisal::loss::{self, Options};
/// let out = loss::mse(&[1.0f64, 2.0, 4.0], &[1.5, 2.0, 3.0], &Options::mean()).unwrap();
/// // torch.nn.functional.mse_loss: ((−0.5)² + 0² + 1²)/3
/// assert!((out.value - 0.4166666666666667).abs() < 1e-16);
/// assert_eq!(out.grad, vec![-1.0 / 3.0, 0.0, 2.0 / 3.0]);
/// ```
pub fn mse<F: Real>(input: &[F], target: &[F], opts: &Options<F>) -> Result<LossOutput<F>> {
    let n = same_len2(input, target)?;
    let two = F::lit(2.0);
    let (value, per_element, [grad]) = pointwise(n, opts, |i| {
        let r = input[i] - target[i];
        (r * r, [two * r])
    })?;
    Ok(LossOutput { value, per_element, grad })
}

/// MSE is the normal NLL with σ = 1/√2 and identity link, shifted by −½ log π.
pub fn likelihood() -> Likelihood {
    let sigma = std::f64::consts::FRAC_1_SQRT_2;
    Likelihood::Nll(NllMap {
        family: "normal",
        link: Link::Identity,
        fixed: vec![("scale", sigma)],
        scale: 1.0,
        shift: Shift::Constant(-0.5 * std::f64::consts::PI.ln()),
        nll: Box::new(move |out, y| -Normal::new(out[0], sigma).map_or(f64::NAN, |d| d.log_prob(y))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::testing::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn declared_map_holds(x in -1e3f64..1e3, y in -1e3f64..1e3) {
            let per = |o: &[f64], y: f64| mse(&[o[0]], &[y], &Options::mean()).unwrap().value;
            check_declared_map(&likelihood(), &[(vec![x], y)], per, 1e-12);
        }
    }

    #[test]
    fn gradient_matches_central_differences_for_each_reduction() {
        let x = [0.3, -1.2, 2.5, 7.0, -0.01];
        let y = [0.0, 1.0, 2.0, -3.0, 0.5];
        let w = [1.0, 0.5, 2.0, 0.0, 3.0];
        for opts in options_with(&[(Some(&w), None)]) {
            check_loss_grad(&x, |v| mse(v, &y, &opts).unwrap(), 1e-8);
        }
    }

    #[test]
    fn f32_and_shape_errors() {
        let out = mse(&[1.0f32, 3.0], &[0.0, 0.0], &Options::mean()).unwrap();
        assert_eq!(out.value, 5.0);
        assert!(mse(&[1.0f64], &[1.0, 2.0], &Options::mean()).is_err());
    }
}
