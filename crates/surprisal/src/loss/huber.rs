//! Huber loss: the NLL of the Huber density, Gaussian in the centre and Laplace in the tails.
//!
//! ```text
//! ρ_δ(u)    = ½u²              |u| ≤ δ
//!           = δ(|u| − ½δ)      |u| > δ
//! model     y ~ Huber(μ = x, δ), p(y) = exp(−ρ_δ(y − x)) / Z(δ), identity link
//! Z(δ)      = ∫ exp(−ρ_δ(u)) du = √(2π)·erf(δ/√2) + (2/δ)·exp(−δ²/2)
//! loss      ℓ(x, y) = ρ_δ(x − y)
//! NLL       ρ_δ(y − x) + log Z(δ)
//! map       ℓ = 1 · NLL − log Z(δ)
//! gradient  ∂ℓ/∂x = clamp(x − y, −δ, δ)
//! ```
//!
//! Z(δ): the centre contributes ∫_{−δ}^{δ} e^{−u²/2} du = √(2π)·erf(δ/√2); each tail contributes
//! ∫_δ^∞ e^{−δu + δ²/2} du = e^{−δ²/2}/δ. As δ → ∞ the density becomes N(x, 1) (the loss ½ MSE);
//! as δ → 0 the loss divided by δ becomes the absolute error (see [`crate::loss::smooth_l1`](mod@crate::loss::smooth_l1)).
//!
//! Edges: an infinite residual gives an infinite loss with gradient ±δ; NaN propagates; masked or
//! zero-weight elements contribute 0.
//!
//! Matches `torch.nn.functional.huber_loss` (reductions none/sum/mean).

use super::{Likelihood, LossOutput, NllMap, Options, Shift, pointwise, same_len2};
use crate::error::{Result, check};
use crate::link::Link;
use crate::num::Real;

/// Huber loss ρ_δ(x − y), reduced per `opts`, with its gradient clamp(x − y, −δ, δ).
///
/// # Errors
/// [`crate::Error::InvalidParameter`] if `delta` is not finite and > 0;
/// [`crate::Error::ShapeMismatch`] if the lengths of `input`, `target`, weight or mask differ;
/// [`crate::Error::InvalidOption`] for `batchmean`.
///
/// # Example
/// ```
/// use surprisal::loss::{self, Options};
/// let out = loss::huber(&[0.0f64, 0.5, 3.0], &[0.2, 2.0, 0.0], 1.0, &Options::mean()).unwrap();
/// // torch.nn.functional.huber_loss(delta=1): (0.02 + 1.0 + 2.5)/3
/// assert!((out.value - 1.1733333333333333).abs() < 1e-15);
/// assert_eq!(out.grad, vec![-0.2 / 3.0, -1.0 / 3.0, 1.0 / 3.0]);
/// ```
pub fn huber<F: Real>(input: &[F], target: &[F], delta: F, opts: &Options<F>) -> Result<LossOutput<F>> {
    let n = same_len2(input, target)?;
    let delta = check::positive("delta", delta)?;
    let half = F::lit(0.5);
    let (value, per_element, [grad]) = pointwise(n, opts, |i| {
        let r = input[i] - target[i];
        let z = r.abs();
        let l = if z < delta { half * r * r } else { delta * (z - half * delta) };
        // PyTorch's backward: clamp, with a NaN residual passing through as NaN.
        let g = if r < -delta {
            -delta
        } else if r > delta {
            delta
        } else {
            r
        };
        (l, [g])
    })?;
    Ok(LossOutput { value, per_element, grad })
}

/// Huber with δ is the NLL of the Huber density at location x with that δ, shifted by −log Z(δ).
///
/// # Errors
/// [`crate::Error::InvalidParameter`] if `delta` is not finite and > 0.
pub fn likelihood(delta: f64) -> Result<Likelihood> {
    let d = HuberDensity::new(0.0, delta)?;
    Ok(Likelihood::Nll(NllMap {
        family: "huber",
        link: Link::Identity,
        fixed: vec![("delta", delta)],
        scale: 1.0,
        shift: Shift::Constant(-d.log_norm),
        nll: Box::new(move |out, y| -HuberDensity::new(out[0], delta).map_or(f64::NAN, |d| d.log_prob(y))),
    }))
}

/// The Huber density p(y) = exp(−ρ_δ(y − loc)) / Z(δ) (unit scale).
#[derive(Clone, Copy, Debug)]
pub(crate) struct HuberDensity {
    loc: f64,
    delta: f64,
    /// log Z(δ).
    log_norm: f64,
}

impl HuberDensity {
    /// Validated constructor: `loc` finite, `delta` finite and > 0.
    pub(crate) fn new(loc: f64, delta: f64) -> Result<Self> {
        let loc = check::finite("loc", loc)?;
        let delta = check::positive("delta", delta)?;
        let centre = (2.0 * std::f64::consts::PI).sqrt() * Real::erf(delta / std::f64::consts::SQRT_2);
        let tails = 2.0 / delta * (-0.5 * delta * delta).exp();
        Ok(Self { loc, delta, log_norm: (centre + tails).ln() })
    }

    /// log Z(δ), the log normalising constant.
    pub(crate) fn log_norm(&self) -> f64 {
        self.log_norm
    }

    /// log p(y).
    pub(crate) fn log_prob(&self, y: f64) -> f64 {
        let u = (y - self.loc).abs();
        let rho = if u <= self.delta { 0.5 * u * u } else { self.delta * u - 0.5 * self.delta * self.delta };
        -rho - self.log_norm
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::testing::simpson;
    use crate::loss::Reduction;
    use crate::loss::testing::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn declared_map_holds(x in -1e3f64..1e3, y in -1e3f64..1e3, delta in 0.01f64..20.0) {
            let per = |o: &[f64], y: f64| huber(&[o[0]], &[y], delta, &Options::mean()).unwrap().value;
            check_declared_map(&likelihood(delta).unwrap(), &[(vec![x], y), (vec![x], x + 0.5 * delta)], per, 1e-12);
        }
    }

    #[test]
    fn huber_density_integrates_to_one_with_closed_form_constant() {
        for &delta in &[0.05, 0.5, 1.0, 1.345, 3.0, 10.0] {
            let d = HuberDensity::new(0.7, delta).unwrap();
            // Composite Simpson over ±(δ-scaled tails): the tails decay like e^{−δ|u|}.
            let half_width = 40.0 / delta.min(1.0) + 10.0;
            let s = simpson(|x| d.log_prob(x).exp(), 0.7 - half_width, 0.7 + half_width, 200_000);
            assert!((s - 1.0).abs() < 1e-9, "δ = {delta}: ∫p = {s}");
        }
        // mpmath: log(sqrt(2π)·erf(1/√2) + 2·exp(−1/2)), checked against quadrature there.
        assert!((HuberDensity::new(0.0, 1.0).unwrap().log_norm() - 1.073058590713392).abs() < 1e-15);
        assert!(HuberDensity::new(0.0, 0.0).is_err());
    }

    #[test]
    fn gradient_matches_central_differences_for_each_reduction_weighted_and_masked() {
        let x = [0.3, -1.2, 2.5, 7.0, -0.01, 0.9];
        let y = [0.0, 1.0, 2.0, -3.0, 0.5, 0.95];
        let w = [1.0, 0.5, 2.0, 0.0, 3.0, 1.5];
        let m = [true, true, false, true, true, true];
        for delta in [0.25, 1.0, 4.0] {
            for opts in plain_and_weighted_masked(&w, &m) {
                check_loss_grad(&x, |v| huber(v, &y, delta, &opts).unwrap(), 1e-7);
            }
        }
    }

    #[test]
    fn edges_infinities_masks_and_bad_delta() {
        let opts = Options::with_reduction(Reduction::Sum).mask(&[true, true, false]);
        let out = huber(&[f64::INFINITY, -1e300, 0.0], &[0.0, 1e300, f64::NAN], 2.0, &opts).unwrap();
        assert_eq!(out.per_element[0], f64::INFINITY);
        assert_eq!(out.grad, vec![2.0, -2.0, 0.0]);
        assert_eq!(out.per_element[1], 2.0 * (2e300 - 1.0));
        let out = huber(&[1.0f64], &[2.0], 1.0, &Options::mean().mask(&[false])).unwrap();
        assert_eq!((out.value, out.grad[0]), (0.0, 0.0));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(huber(&[1.0], &[0.0], bad, &Options::mean()).is_err());
            assert!(likelihood(bad).is_err());
        }
    }

    #[test]
    fn f32_agrees_with_f64() {
        let x = [0.0f32, 0.5, 3.0];
        let y = [0.2f32, 2.0, 0.0];
        let o32 = huber(&x, &y, 1.0, &Options::mean()).unwrap();
        let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let y64: Vec<f64> = y.iter().map(|&v| v as f64).collect();
        let o64 = huber(&x64, &y64, 1.0, &Options::mean()).unwrap();
        assert!((o32.value as f64 - o64.value).abs() < 1e-6);
        for (a, b) in o32.grad.iter().zip(&o64.grad) {
            assert!((*a as f64 - b).abs() < 1e-6);
        }
    }
}
