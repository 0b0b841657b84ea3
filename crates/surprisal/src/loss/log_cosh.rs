//! Log-cosh loss: the NLL of the hyperbolic-secant density, quadratic near 0 and linear in the tails.
//!
//! ```text
//! model     y ~ p(y) = 1 / (π cosh(y − x)), identity link   (∫ sech u du = π)
//! loss      ℓ(x, y) = log cosh(x − y) = |r| + softplus(−2|r|) − log 2,   r = x − y
//! NLL       −log p(y) = log cosh(y − x) + log π
//! map       ℓ = 1 · NLL − log π
//! gradient  ∂ℓ/∂x = tanh(x − y)
//! ```
//!
//! The density is the hyperbolic secant distribution with scale 2/π (mean x, variance π²/4).
//! `cosh` overflows for |r| > 710 in f64 (89 in f32); the form |r| + softplus(−2|r|) − log 2 does
//! not (log cosh r = |r| + log(1 + e^{−2|r|}) − log 2, used for |r| ≥ 1). For |r| < 1 the loss is
//! log1p(2 sinh²(r/2)), which keeps full relative accuracy down to r² ≈ 1e−300.
//!
//! Edges: an infinite residual gives an infinite loss with gradient ±1; NaN propagates; masked or
//! zero-weight elements contribute 0.
//!
//! Reference: `keras.losses.log_cosh` (x + softplus(−2x) − log 2, per element; PyTorch has no
//! log-cosh loss). Reductions none/sum/mean as the other element-wise losses.

use super::{Likelihood, LossOutput, NllMap, Options, Shift, pointwise, same_len2};
use crate::error::Result;
use crate::link::Link;
use crate::num::{Real, logsumexp, softplus};

/// log cosh(x − y), reduced per `opts`, with its gradient tanh(x − y).
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] if the lengths of `input`, `target`, weight or mask differ;
/// [`crate::Error::InvalidOption`] for `batchmean`.
///
/// # Example
/// ```
/// use surprisal::loss::{self, Options};
/// let out = loss::log_cosh(&[0.0f64, 1.0, -30.0], &[0.5, -2.0, 0.0], &Options::mean()).unwrap();
/// // mpmath: (log cosh 0.5 + log cosh 3 + log cosh 30)/3 and tanh(r)/3
/// assert!((out.value - 10.578765276992039).abs() < 1e-14);
/// assert!((out.grad[0] - -0.15403905242000325).abs() < 1e-16);
/// assert!((out.grad[1] - 0.33168491789557682).abs() < 1e-16);
/// ```
pub fn log_cosh<F: Real>(input: &[F], target: &[F], opts: &Options<F>) -> Result<LossOutput<F>> {
    let n = same_len2(input, target)?;
    let (two, half) = (F::lit(2.0), F::lit(0.5));
    let (value, per_element, [grad]) = pointwise(n, opts, |i| {
        let r = input[i] - target[i];
        let a = r.abs();
        let l = if a < F::one() {
            // log cosh r = log1p(2 sinh²(r/2)): full relative accuracy as r → 0.
            let s = (half * r).sinh();
            (two * s * s).ln_1p()
        } else {
            // log cosh r = |r| + log(1 + e^{−2|r|}) − log 2: no overflow of cosh for large |r|.
            a + softplus(-two * a) - F::LN_2()
        };
        (l, [r.tanh()])
    })?;
    Ok(LossOutput { value, per_element, grad })
}

/// Log-cosh is the NLL of p(y) = 1/(π cosh(y − x)) with identity link, shifted by −log π.
pub fn likelihood() -> Likelihood {
    Likelihood::Nll(NllMap {
        family: "hyperbolic_secant",
        link: Link::Identity,
        fixed: vec![("scale", 2.0 / std::f64::consts::PI)],
        scale: 1.0,
        shift: Shift::Constant(-std::f64::consts::PI.ln()),
        nll: Box::new(|out, y| -sech_log_prob(out[0], y)),
    })
}

/// log p(y) = −log π − log cosh(y − loc) for the density 1/(π cosh(y − loc)), with
/// log cosh u = logsumexp(u, −u) − log 2.
fn sech_log_prob(loc: f64, y: f64) -> f64 {
    let u = y - loc;
    -std::f64::consts::PI.ln() - (logsumexp(&[u, -u]) - std::f64::consts::LN_2)
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
        fn declared_map_holds(x in -1e3f64..1e3, y in -1e3f64..1e3) {
            let per = |o: &[f64], y: f64| log_cosh(&[o[0]], &[y], &Options::mean()).unwrap().value;
            check_declared_map(&likelihood(), &[(vec![x], y), (vec![x], x + 1e-3)], per, 1e-12);
        }
    }

    #[test]
    fn density_integrates_to_one_and_loss_matches_cosh_where_it_does_not_overflow() {
        let s = simpson(|x| sech_log_prob(0.3, x).exp(), -60.0, 60.0, 40_000);
        assert!((s - 1.0).abs() < 1e-12, "∫p = {s}");
        let x: [f64; 7] = [0.0, 1e-8, -1e-3, 0.5, 1.0, -3.0, 20.0];
        let out = log_cosh(&x, &[0.0; 7], &Options::with_reduction(Reduction::None)).unwrap();
        for (&l, r) in out.per_element.iter().zip(x) {
            // Small r: the series r²/2 − r⁴/12 + r⁶/45; otherwise log(cosh r) directly.
            let want = if r.abs() < 1e-2 {
                r * r / 2.0 - r.powi(4) / 12.0 + r.powi(6) / 45.0
            } else {
                r.cosh().ln()
            };
            assert!((l - want).abs() <= 2e-15 * want.abs(), "r = {r}: {l} vs {want}");
        }
    }

    #[test]
    fn gradient_matches_central_differences_for_each_reduction_weighted_and_masked() {
        let x = [0.3, -1.2, 2.5, 7.0, -0.01];
        let y = [0.0, 1.0, 2.0, -3.0, 0.5];
        let w = [1.0, 0.5, 2.0, 0.0, 3.0];
        let m = [true, true, false, true, true];
        for opts in plain_and_weighted_masked(&w, &m) {
            check_loss_grad(&x, |v| log_cosh(v, &y, &opts).unwrap(), 1e-8);
        }
    }

    #[test]
    fn edges_huge_residuals_infinities_and_masks() {
        let opts = Options::with_reduction(Reduction::None).mask(&[true, true, true, false]);
        let out =
            log_cosh(&[1e4f64, f64::NEG_INFINITY, 1e300, 0.0], &[0.0, 0.0, 0.0, f64::NAN], &opts).unwrap();
        assert!((out.per_element[0] - (1e4 - std::f64::consts::LN_2)).abs() < 1e-9);
        assert_eq!(out.per_element[1], f64::INFINITY);
        assert_eq!(out.grad, vec![1.0, -1.0, 1.0, 0.0]);
        let o32 =
            log_cosh(&[200.0f32, -0.5], &[0.0, 0.0], &Options::with_reduction(Reduction::None)).unwrap();
        assert!((o32.per_element[0] - (200.0 - std::f32::consts::LN_2)).abs() < 1e-4);
        assert!((o32.per_element[1] as f64 - 0.5f64.cosh().ln()).abs() < 1e-7);
        let out = log_cosh(&[1.0f64], &[2.0], &Options::mean().mask(&[false])).unwrap();
        assert_eq!((out.value, out.grad[0]), (0.0, 0.0));
        assert!(log_cosh(&[1.0f64], &[1.0, 2.0], &Options::mean()).is_err());
    }
}
