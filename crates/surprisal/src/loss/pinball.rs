//! Pinball (quantile) loss: the asymmetric-Laplace NLL with the scale fixed.
//!
//! ```text
//! ρ_τ(u)    = u·(τ − 1{u < 0}) = max(τu, (τ − 1)u),   u = y − x,  0 < τ < 1
//! model     y ~ AsymmetricLaplace(μ = x, σ = 1, τ), identity link:
//!           p(y) = τ(1 − τ)/σ · exp(−ρ_τ((y − μ)/σ)),  P(y ≤ μ) = τ (μ is the τ-quantile)
//! loss      ℓ(x, y) = ρ_τ(y − x)
//! NLL       ρ_τ(y − x) − log(τ(1 − τ))
//! map       ℓ = 1 · NLL + log(τ(1 − τ))
//! gradient  ∂ℓ/∂x = 1{y < x} − τ;  at y = x the subgradient midpoint ½ − τ (0 for the median)
//! ```
//!
//! Minimising the summed loss over x gives a τ-quantile of the targets: the maximum-likelihood
//! location of the asymmetric Laplace. τ = ½ gives half the absolute error.
//!
//! Edges: an infinite residual gives an infinite loss with gradient −τ or 1 − τ; NaN propagates;
//! masked or zero-weight elements contribute 0.
//!
//! Reference: `sklearn.metrics.mean_pinball_loss(y, x, alpha=τ)` (the mean reduction).

use super::{Likelihood, LossOutput, NllMap, Options, Shift, pointwise, same_len2};
use crate::error::{Error, Result};
use crate::family::{AsymmetricLaplace, Family};
use crate::link::Link;
use crate::num::Real;

/// Pinball loss ρ_τ(y − x) at quantile level `tau` ∈ (0, 1), reduced per `opts`, with its
/// gradient 1{y < x} − τ (½ − τ at y = x).
///
/// # Errors
/// [`crate::Error::InvalidParameter`] if `tau` is not in (0, 1);
/// [`crate::Error::ShapeMismatch`] if the lengths of `input`, `target`, weight or mask differ;
/// [`crate::Error::InvalidOption`] for `batchmean`.
///
/// # Example
/// ```
/// use surprisal::loss::{self, Options};
/// let out = loss::pinball(&[1.0f64, 2.0, 3.0], &[2.0, 2.0, 0.0], 0.9, &Options::mean()).unwrap();
/// // sklearn.metrics.mean_pinball_loss([2, 2, 0], [1, 2, 3], alpha=0.9): (0.9 + 0 + 0.3)/3
/// assert!((out.value - 0.4).abs() < 1e-16);
/// let want = [-0.9 / 3.0, -0.4 / 3.0, 0.1 / 3.0];
/// assert!(out.grad.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-16));
/// ```
pub fn pinball<F: Real>(input: &[F], target: &[F], tau: F, opts: &Options<F>) -> Result<LossOutput<F>> {
    let n = same_len2(input, target)?;
    check_tau(tau)?;
    let one = F::one();
    let tie = F::lit(0.5) - tau;
    let (value, per_element, [grad]) = pointwise(n, opts, |i| {
        let u = target[i] - input[i];
        if u > F::zero() {
            (tau * u, [-tau])
        } else if u < F::zero() {
            ((tau - one) * u, [one - tau])
        } else {
            // u = 0 (loss 0, midpoint subgradient) or NaN (NaN loss and gradient).
            (u * tau, [tie + u])
        }
    })?;
    Ok(LossOutput { value, per_element, grad })
}

fn check_tau<F: Real>(tau: F) -> Result<F> {
    if tau > F::zero() && tau < F::one() {
        Ok(tau)
    } else {
        Err(Error::param("tau", tau.to_f64_lossy(), "must be in (0, 1)"))
    }
}

/// Pinball at τ is the asymmetric-Laplace NLL (scale 1, quantile τ, identity link), shifted by
/// log(τ(1 − τ)).
///
/// # Errors
/// [`crate::Error::InvalidParameter`] if `tau` is not in (0, 1).
pub fn likelihood(tau: f64) -> Result<Likelihood> {
    check_tau(tau)?;
    Ok(Likelihood::Nll(NllMap {
        family: "asymmetric_laplace_quantile",
        link: Link::Identity,
        fixed: vec![("scale", 1.0), ("quantile", tau)],
        scale: 1.0,
        shift: Shift::Constant((tau * (1.0 - tau)).ln()),
        nll: Box::new(move |out, y| {
            -AsymmetricLaplace::new(out[0], 1.0, tau).map_or(f64::NAN, |d| d.log_prob(y))
        }),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::testing::*;
    use crate::loss::{Reduction, l1};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn declared_map_holds(x in -1e3f64..1e3, y in -1e3f64..1e3, tau in 0.01f64..0.99) {
            let per = |o: &[f64], y: f64| pinball(&[o[0]], &[y], tau, &Options::mean()).unwrap().value;
            check_declared_map(&likelihood(tau).unwrap(), &[(vec![x], y), (vec![x], x)], per, 1e-12);
        }
    }

    #[test]
    fn median_is_half_the_absolute_error() {
        let x = [0.3, -1.2, 2.5, 7.0, -0.01, 1.0];
        let y = [0.0, 1.0, 2.0, -3.0, 0.5, 1.0];
        let opts = Options::with_reduction(Reduction::None);
        let p = pinball(&x, &y, 0.5, &opts).unwrap();
        let a = l1(&x, &y, &opts).unwrap();
        for i in 0..x.len() {
            assert_eq!(p.per_element[i], 0.5 * a.per_element[i]);
            assert_eq!(p.grad[i], 0.5 * a.grad[i]);
        }
    }

    #[test]
    fn minimiser_is_the_tau_quantile() {
        // Σ ρ_τ(y − x) over x on a grid: the minimiser is the empirical τ-quantile (order statistic).
        let y = [3.0, -1.0, 0.5, 7.0, 2.0, 4.5, -2.0, 1.0, 6.0, 0.0];
        let mut sorted = y;
        sorted.sort_by(f64::total_cmp);
        for (tau, k) in [(0.15, 1), (0.25, 2), (0.45, 4), (0.75, 7), (0.85, 8)] {
            let best = sorted
                .iter()
                .map(|&x| {
                    (x, pinball(&[x; 10], &y, tau, &Options::with_reduction(Reduction::Sum)).unwrap().value)
                })
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap();
            // For τ·n not an integer, the unique minimiser is the ⌈τn⌉-th order statistic.
            assert_eq!(best.0, sorted[k], "τ = {tau}");
        }
    }

    #[test]
    fn gradient_matches_central_differences_for_each_reduction_weighted_and_masked() {
        let x = [0.3, -1.2, 2.5, 7.0, -0.01];
        let y = [0.0, 1.0, 2.0, -3.0, 0.5];
        let w = [1.0, 0.5, 2.0, 0.0, 3.0];
        let m = [true, true, false, true, true];
        for tau in [0.1, 0.5, 0.8] {
            for opts in plain_and_weighted_masked(&w, &m) {
                check_loss_grad(&x, |v| pinball(v, &y, tau, &opts).unwrap(), 1e-8);
            }
        }
    }

    #[test]
    fn edges_infinities_masks_bad_tau_and_f32() {
        let opts = Options::with_reduction(Reduction::None).mask(&[true, true, false]);
        let out = pinball(&[f64::NEG_INFINITY, 1e300, 0.0], &[0.0, -1e300, f64::NAN], 0.25, &opts).unwrap();
        assert_eq!(out.per_element[0], f64::INFINITY);
        assert!((out.per_element[1] - 1.5e300).abs() < 1e285);
        assert_eq!(out.grad, vec![-0.25, 0.75, 0.0]);
        for bad in [0.0, 1.0, -0.1, f64::NAN] {
            assert!(pinball(&[1.0], &[0.0], bad, &Options::mean()).is_err());
            assert!(likelihood(bad).is_err());
        }
        let o32 = pinball(&[1.0f32, 2.0, 3.0], &[2.0, 2.0, 0.0], 0.9, &Options::mean()).unwrap();
        assert!((o32.value - 0.4).abs() < 1e-6);
    }
}
