//! Smooth L1 loss: the Huber loss divided by its threshold, hence also a Huber-density NLL.
//!
//! ```text
//! loss      ℓ_β(x, y) = ½(x − y)²/β        |x − y| < β
//!                     = |x − y| − ½β        otherwise
//!           ℓ_β = ρ_β(x − y) / β            (ρ_β the Huber function, see crate::loss::huber)
//! model     y ~ Huber(μ = x, δ = β), identity link
//! NLL       ρ_β(y − x) + log Z(β),   Z(β) = √(2π)·erf(β/√2) + (2/β)·exp(−β²/2)
//! map       ℓ_β = (1/β) · NLL − log Z(β) / β
//! gradient  ∂ℓ/∂x = clamp((x − y)/β, −1, 1)
//! β = 0     ℓ₀ = |x − y|: the L1 loss, the Laplace NLL (map of crate::loss::l1), gradient
//!           sign(x − y) with 0 at x = y
//! ```
//!
//! Edges: an infinite residual gives an infinite loss with gradient ±1; NaN propagates; masked or
//! zero-weight elements contribute 0.
//!
//! Matches `torch.nn.functional.smooth_l1_loss` (reductions none/sum/mean; β = 0 is `l1_loss`).

use super::huber::HuberDensity;
use super::l1::sign0;
use super::{Likelihood, LossOutput, NllMap, Options, Shift, pointwise, same_len2};
use crate::error::{Error, Result};
use crate::link::Link;
use crate::num::Real;

/// Smooth L1 loss with threshold `beta` ≥ 0, reduced per `opts`, with its gradient.
///
/// # Errors
/// [`crate::Error::InvalidParameter`] if `beta` is not finite and ≥ 0;
/// [`crate::Error::ShapeMismatch`] if the lengths of `input`, `target`, weight or mask differ;
/// [`crate::Error::InvalidOption`] for `batchmean`.
///
/// # Example
/// ```
/// use surprisal::loss::{self, Options};
/// let out = loss::smooth_l1(&[0.0f64, 0.5, 3.0], &[0.2, 2.0, 0.0], 2.0, &Options::mean()).unwrap();
/// // torch.nn.functional.smooth_l1_loss(beta=2): (0.01 + 0.5625 + 2.0)/3
/// assert!((out.value - 0.8575).abs() < 1e-15);
/// assert_eq!(out.grad, vec![-0.1 / 3.0, -0.75 / 3.0, 1.0 / 3.0]);
/// ```
pub fn smooth_l1<F: Real>(input: &[F], target: &[F], beta: F, opts: &Options<F>) -> Result<LossOutput<F>> {
    let n = same_len2(input, target)?;
    if !(beta.is_finite() && beta >= F::zero()) {
        return Err(Error::param("beta", beta.to_f64_lossy(), "must be finite and >= 0"));
    }
    let (value, per_element, [grad]) = if beta == F::zero() {
        pointwise(n, opts, |i| {
            let r = input[i] - target[i];
            (r.abs(), [sign0(r)])
        })?
    } else {
        let half = F::lit(0.5);
        pointwise(n, opts, |i| {
            let r = input[i] - target[i];
            let z = r.abs();
            let l = if z < beta { half * r * r / beta } else { z - half * beta };
            // PyTorch's backward: clamp, with a NaN residual passing through as NaN.
            let g = if r < -beta {
                -F::one()
            } else if r > beta {
                F::one()
            } else {
                r / beta
            };
            (l, [g])
        })?
    };
    Ok(LossOutput { value, per_element, grad })
}

/// Smooth L1 with β > 0 is (1/β) times the Huber-density NLL with δ = β, shifted by −log Z(β)/β;
/// with β = 0 it is the L1 loss and declares the Laplace map of [`crate::loss::l1::likelihood`].
///
/// # Errors
/// [`crate::Error::InvalidParameter`] if `beta` is not finite and ≥ 0.
pub fn likelihood(beta: f64) -> Result<Likelihood> {
    if beta == 0.0 {
        return Ok(super::l1::likelihood());
    }
    let d =
        HuberDensity::new(0.0, beta).map_err(|_| Error::param("beta", beta, "must be finite and >= 0"))?;
    Ok(Likelihood::Nll(NllMap {
        family: "huber",
        link: Link::Identity,
        fixed: vec![("delta", beta)],
        scale: 1.0 / beta,
        shift: Shift::Constant(-d.log_norm() / beta),
        nll: Box::new(move |out, y| -HuberDensity::new(out[0], beta).map_or(f64::NAN, |d| d.log_prob(y))),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::testing::*;
    use crate::loss::{Reduction, huber, l1};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn declared_map_holds(x in -1e3f64..1e3, y in -1e3f64..1e3, beta in 0.01f64..20.0) {
            let per = |o: &[f64], y: f64| smooth_l1(&[o[0]], &[y], beta, &Options::mean()).unwrap().value;
            let pts = [(vec![x], y), (vec![x], x - 0.5 * beta)];
            check_declared_map(&likelihood(beta).unwrap(), &pts, per, 1e-11);
            check_declared_map(&likelihood(0.0).unwrap(), &pts, |o, y| smooth_l1(o, &[y], 0.0, &Options::mean()).unwrap().value, 1e-12);
        }
    }

    #[test]
    fn is_huber_over_beta_and_l1_at_zero() {
        let x: [f64; 6] = [0.3, -1.2, 2.5, 7.0, -0.01, 0.0];
        let y = [0.0, 1.0, 2.0, -3.0, 0.5, 0.0];
        let opts = Options::with_reduction(Reduction::None);
        for beta in [0.25, 1.0, 3.0] {
            let s = smooth_l1(&x, &y, beta, &opts).unwrap();
            let h = huber(&x, &y, beta, &opts).unwrap();
            for i in 0..x.len() {
                assert!((s.per_element[i] - h.per_element[i] / beta).abs() < 1e-14);
                assert!((s.grad[i] - h.grad[i] / beta).abs() < 1e-14);
            }
        }
        assert_eq!(smooth_l1(&x, &y, 0.0, &opts).unwrap(), l1(&x, &y, &opts).unwrap());
    }

    #[test]
    fn gradient_matches_central_differences_for_each_reduction_weighted_and_masked() {
        let x = [0.3, -1.2, 2.5, 7.0, -0.01, 0.9];
        let y = [0.0, 1.0, 2.0, -3.0, 0.5, 0.95];
        let w = [1.0, 0.5, 2.0, 0.0, 3.0, 1.5];
        let m = [true, true, false, true, true, true];
        for beta in [0.0, 0.25, 1.0, 4.0] {
            for opts in plain_and_weighted_masked(&w, &m) {
                check_loss_grad(&x, |v| smooth_l1(v, &y, beta, &opts).unwrap(), 1e-7);
            }
        }
    }

    #[test]
    fn edges_infinities_masks_and_bad_beta() {
        let opts = Options::with_reduction(Reduction::Sum).mask(&[true, true, false]);
        let out = smooth_l1(&[f64::INFINITY, -1e300, 0.0], &[0.0, 1e300, f64::NAN], 2.0, &opts).unwrap();
        assert_eq!(out.per_element[0], f64::INFINITY);
        assert_eq!(out.grad, vec![1.0, -1.0, 0.0]);
        let out = smooth_l1(&[1.0f64], &[2.0], 1.0, &Options::mean().mask(&[false])).unwrap();
        assert_eq!((out.value, out.grad[0]), (0.0, 0.0));
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            assert!(smooth_l1(&[1.0], &[0.0], bad, &Options::mean()).is_err());
            assert!(likelihood(bad).is_err());
        }
    }

    #[test]
    fn f32_agrees_with_f64() {
        let o32 = smooth_l1(&[0.0f32, 0.5, 3.0], &[0.2, 2.0, 0.0], 2.0, &Options::mean()).unwrap();
        assert!((o32.value as f64 - 0.8575).abs() < 1e-6);
        assert!((o32.grad[1] as f64 + 0.25).abs() < 1e-6);
    }
}
