//! Binary cross-entropy on logits: the Bernoulli NLL with the logit link.
//!
//! ```text
//! model     y ~ Bernoulli(p = σ(x)), logit link (canonical)
//! loss      ℓ(x, y) = pw·y·softplus(−x) + (1 − y)·softplus(x)
//!                   = −pw·y·log σ(x) − (1 − y)·log σ(−x)
//! NLL       −log Bernoulli(y | σ(x)) = ℓ with pw = 1
//! map       ℓ = 1 · NLL + 0                    (pw = 1, y ∈ {0, 1})
//! gradient  ∂ℓ/∂x = (1 − y)·σ(x) − pw·y·σ(−x)  = σ(x) − y when pw = 1
//! ```
//!
//! `softplus(±x)` is computed as max(±x, 0) + log1p(e^{−|x|}); log σ(x) is never formed as
//! log(σ(x)), so logits of any magnitude give finite losses (ℓ grows linearly in |x|).
//!
//! - **Soft targets** y ∈ [0, 1] are allowed: ℓ is then the cross-entropy H(y, σ(x)) =
//!   H(y) + KL(Bernoulli(y) ‖ Bernoulli(σ(x))), minimised at σ(x) = y.
//! - **pos_weight** pw ≥ 0 multiplies the positive term only. For pw ≠ 1 the loss is a
//!   *reweighted* Bernoulli likelihood (positives count pw times), not the NLL of a model of y: its
//!   minimiser is σ(x) = pw·y / (pw·y + 1 − y), the odds scaled by pw. The declared map
//!   ([`likelihood`]) is the pw = 1 case.
//! - **Edges**: x = ±inf gives 0 loss where the target agrees (a zero coefficient times an
//!   infinite softplus is taken as 0, like `xlogy`) and +inf where it does not; the gradient stays
//!   finite (σ(±inf) ∈ {0, 1}). Masked or zero-weight elements contribute exactly 0.
//! - **Precision**: logits may be stored as `f64`, `f32`, `bf16` or `f16`
//!   ([`crate::num::Widen`]); half-precision logits are widened to `f32` and accumulated there.
//!
//! Matches `torch.nn.functional.binary_cross_entropy_with_logits` (`weight` = [`Options::weight`],
//! `pos_weight`, reductions none/sum/mean).

use super::{Likelihood, LossOutput, NllMap, Options, Shift, pointwise};
use crate::error::{Error, Result, check};
use crate::family::{Bernoulli, Family};
use crate::link::Link;
use crate::num::{Real, Widen, sigmoid, softplus};

/// a·b with 0·b = 0 for every b (so a zero coefficient hides an infinite term).
#[inline]
pub(super) fn mul0<F: Real>(a: F, b: F) -> F {
    if a == F::zero() { F::zero() } else { a * b }
}

/// Checks that every entry of `x` lies in [0, 1] (NaN rejected).
pub(crate) fn check_unit_interval<F: Real>(name: &'static str, x: &[F]) -> Result<()> {
    for (i, &v) in x.iter().enumerate() {
        if !(v >= F::zero() && v <= F::one()) {
            return Err(Error::InvalidValue {
                name,
                value: v.to_f64_lossy(),
                index: Some(i),
                reason: "must lie in [0, 1]",
            });
        }
    }
    Ok(())
}

/// Checks a `pos_weight` slice: length n, or a length k dividing n (broadcast over the last axis
/// of a row-major batch), each entry finite and ≥ 0.
pub(crate) fn check_pos_weight<F: Real>(pw: &[F], n: usize) -> Result<()> {
    if pw.is_empty() || (pw.len() != n && !n.is_multiple_of(pw.len())) {
        return Err(Error::shape("pos_weight", &[n], &[pw.len()]));
    }
    for (i, &v) in pw.iter().enumerate() {
        if !v.is_finite() || v < F::zero() {
            return Err(Error::InvalidParameter {
                name: "pos_weight",
                value: v.to_f64_lossy(),
                index: Some(i),
                reason: "must be finite and >= 0",
            });
        }
    }
    Ok(())
}

/// ℓ(x, y) and ∂ℓ/∂x for one element (the unchecked kernel).
#[inline]
pub(super) fn bce_logit_kernel<F: Real>(x: F, y: F, pw: F) -> (F, F) {
    let one = F::one();
    // −log σ(x) = softplus(−x);  −log(1 − σ(x)) = −log σ(−x) = softplus(x).
    let l = mul0(pw * y, softplus(-x)) + mul0(one - y, softplus(x));
    // ∂/∂x softplus(x) = σ(x), ∂/∂x softplus(−x) = −σ(−x); σ(−x) = 1 − σ(x) without cancellation.
    let g = (one - y) * sigmoid(x) - pw * y * sigmoid(-x);
    (l, g)
}

/// Binary cross-entropy on logits, reduced per `opts`, with its gradient with respect to the logits.
///
/// `logits` and `targets` have the same length n (any row-major shape, flattened). `pos_weight`
/// is `None` (all 1), or has length n (per element), or length C with n a multiple of C: element i
/// then uses `pos_weight[i % C]` (torch's broadcast of a `[C]` pos_weight over `[.., C]` logits).
/// Targets may be soft, in [0, 1].
///
/// ```text
/// ℓᵢ = pwᵢ·yᵢ·softplus(−xᵢ) + (1 − yᵢ)·softplus(xᵢ)
/// ∂ℓᵢ/∂xᵢ = (1 − yᵢ)·σ(xᵢ) − pwᵢ·yᵢ·σ(−xᵢ)
/// ```
///
/// # Errors
/// [`Error::ShapeMismatch`] for inputs of other lengths; [`Error::InvalidValue`] for a target
/// outside [0, 1]; [`Error::InvalidParameter`] for a negative or non-finite `pos_weight` or weight;
/// [`Error::InvalidOption`] for `batchmean`.
///
/// # Example
/// ```
/// use surprisal::loss::{self, Options};
/// let x = [1.5f64, -0.5, 3.0];
/// let y = [1.0, 0.0, 1.0];
/// let out = loss::sigmoid_binary_cross_entropy(&x, &y, None, &Options::mean()).unwrap();
/// // mpmath: mean of softplus(−1.5), softplus(−0.5), softplus(−3)
/// assert!((out.value - 0.24135920457886704971).abs() < 1e-15);
/// let out = loss::sigmoid_binary_cross_entropy(&x, &y, Some(&[2.0]), &Options::mean()).unwrap();
/// // mpmath, pos_weight 2
/// assert!((out.value - 0.3246927477643652058).abs() < 1e-15);
/// assert!((out.grad[0] - -0.12161701587090422693).abs() < 1e-15);
/// ```
pub fn sigmoid_binary_cross_entropy<T: Widen<F>, F: Real>(
    logits: &[T],
    targets: &[F],
    pos_weight: Option<&[F]>,
    opts: &Options<F>,
) -> Result<LossOutput<F>> {
    let n = logits.len();
    check::same_len("target", n, targets.len())?;
    check_unit_interval("target", targets)?;
    if let Some(pw) = pos_weight {
        check_pos_weight(pw, n)?;
    }
    let (value, per_element, [grad]) = pointwise(n, opts, |i| {
        let pw = pos_weight.map_or(F::one(), |pw| pw[i % pw.len()]);
        let (l, g) = bce_logit_kernel(logits[i].widen(), targets[i], pw);
        (l, [g])
    })?;
    Ok(LossOutput { value, per_element, grad })
}

/// Binary cross-entropy on logits is the Bernoulli NLL with the logit link, exactly (scale 1,
/// shift 0), for hard targets and pos_weight = 1. With pos_weight ≠ 1 it is a reweighted
/// likelihood (positives counted pos_weight times), which no affine map of one NLL describes.
pub fn likelihood() -> Likelihood {
    Likelihood::Nll(NllMap {
        family: Bernoulli::<f64>::NAME,
        link: Link::Logit,
        fixed: vec![],
        scale: 1.0,
        shift: Shift::Constant(0.0),
        nll: Box::new(|out, y| -Bernoulli::from_logits(out[0]).map_or(f64::NAN, |d| d.log_prob(y))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::Reduction;
    use crate::loss::testing::*;
    use half::{bf16, f16};

    #[test]
    fn declared_map_holds_on_hard_targets() {
        let pts: Vec<(Vec<f64>, f64)> = [-30.0, -2.0, -0.1, 0.0, 0.7, 5.0, 40.0]
            .iter()
            .flat_map(|&x| [(vec![x], 0.0), (vec![x], 1.0)])
            .collect();
        let per = |o: &[f64], y: f64| {
            sigmoid_binary_cross_entropy(&[o[0]], &[y], None, &Options::mean()).unwrap().value
        };
        check_declared_map(&likelihood(), &pts, per, 1e-13);
    }

    #[test]
    fn exp_of_minus_loss_is_a_probability_mass_over_the_two_outcomes() {
        for &x in &[-40.0f64, -3.0, -0.5, 0.0, 0.2, 4.0, 35.0] {
            let mass: f64 = [0.0, 1.0]
                .iter()
                .map(|&y| {
                    (-sigmoid_binary_cross_entropy(&[x], &[y], None, &Options::mean()).unwrap().value).exp()
                })
                .sum();
            assert!((mass - 1.0).abs() < 1e-15, "x = {x}: {mass}");
        }
    }

    #[test]
    fn gradient_matches_central_differences_for_every_option() {
        let x = [0.3, -1.2, 2.5, 7.0, -0.01, 1.1];
        let y = [0.0, 1.0, 0.25, 1.0, 0.5, 0.0];
        let w = [1.0, 0.5, 2.0, 0.0, 3.0, 1.5];
        let m = [true, true, false, true, true, true];
        let pws: [Option<&[f64]>; 3] = [None, Some(&[2.5]), Some(&[0.5, 3.0])];
        for pw in pws {
            for opts in option_grid(&w, &m) {
                check_loss_grad(&x, |v| sigmoid_binary_cross_entropy(v, &y, pw, &opts).unwrap(), 1e-8);
            }
        }
    }

    #[test]
    fn soft_targets_are_minimised_at_the_target_and_pos_weight_shifts_the_odds() {
        // ∂ℓ/∂x = 0 at σ(x) = y (pw = 1) and at σ(x) = pw·y/(pw·y + 1 − y) otherwise.
        let y = 0.3f64;
        let x0 = (y / (1.0 - y)).ln();
        let g = sigmoid_binary_cross_entropy(&[x0], &[y], None, &Options::mean()).unwrap().grad[0];
        assert!(g.abs() < 1e-15);
        let pw = 4.0;
        let x1 = (pw * y / (1.0 - y)).ln();
        let g = sigmoid_binary_cross_entropy(&[x1], &[y], Some(&[pw]), &Options::mean()).unwrap().grad[0];
        assert!(g.abs() < 1e-15);
    }

    #[test]
    fn edges_infinite_and_huge_logits_never_nan() {
        let x = [f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY, 1e300, -1e300];
        let y = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let out =
            sigmoid_binary_cross_entropy(&x, &y, None, &Options::with_reduction(Reduction::None)).unwrap();
        assert_eq!(out.per_element, vec![0.0, 0.0, f64::INFINITY, f64::INFINITY, 0.0, 1e300]);
        assert_eq!(out.grad, vec![0.0, 0.0, 1.0, -1.0, 0.0, -1.0]);
        // Linear growth, no overflow: ℓ(−800, 1) = 800.
        let out = sigmoid_binary_cross_entropy(&[-800.0f64], &[1.0], None, &Options::mean()).unwrap();
        assert_eq!(out.value, 800.0);
        // All masked: 0 value, 0 gradient, even with infinite losses underneath.
        let opts = Options::mean().mask(&[false, false]);
        let out = sigmoid_binary_cross_entropy(&x[2..4], &y[2..4], None, &opts).unwrap();
        assert_eq!((out.value, out.grad), (0.0, vec![0.0, 0.0]));
    }

    #[test]
    fn f32_and_half_precision_logits_agree_with_f64() {
        let x64 = [0.3f64, -1.2, 2.5, 7.0, -0.01, 11.0, -256.0];
        let y = [0.0f64, 1.0, 0.25, 1.0, 0.5, 0.0, 1.0];
        let want = sigmoid_binary_cross_entropy(&x64, &y, None, &Options::mean()).unwrap();
        let y32: Vec<f32> = y.iter().map(|&v| v as f32).collect();
        let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
        let got = sigmoid_binary_cross_entropy(&x32, &y32, None, &Options::mean()).unwrap();
        assert!((got.value as f64 - want.value).abs() < 1e-6 * want.value);
        // bf16 / f16 storage: compare against f64 on the same (rounded) logits, within 1e-2.
        let xb: Vec<bf16> = x64.iter().map(|&v| bf16::from_f64(v)).collect();
        let xb64: Vec<f64> = xb.iter().map(|v| v.to_f64()).collect();
        let want_b = sigmoid_binary_cross_entropy(&xb64, &y, None, &Options::mean()).unwrap();
        let got = sigmoid_binary_cross_entropy(&xb, &y32, None, &Options::mean()).unwrap();
        assert!((got.value as f64 - want_b.value).abs() <= 1e-2 * want_b.value);
        for (g, w) in got.grad.iter().zip(&want_b.grad) {
            assert!((*g as f64 - w).abs() <= 1e-2 * w.abs().max(1e-3));
        }
        // and against the unrounded f64 logits, within bf16's resolution.
        assert!((got.value as f64 - want.value).abs() <= 1e-2 * want.value);
        let xh: Vec<f16> = x32[..6].iter().map(|&v| f16::from_f32(v)).collect();
        let want_h = sigmoid_binary_cross_entropy(&x64[..6], &y[..6], None, &Options::mean()).unwrap();
        let got = sigmoid_binary_cross_entropy(&xh, &y32[..6], None, &Options::mean()).unwrap();
        assert!((got.value as f64 - want_h.value).abs() <= 1e-2 * want_h.value);
        // bf16 logits at ±256: exact linear losses and saturated gradients.
        let xb = [bf16::from_f32(256.0), bf16::from_f32(-256.0)];
        let out =
            sigmoid_binary_cross_entropy(&xb, &[0.0f32, 1.0], None, &Options::with_reduction(Reduction::Sum))
                .unwrap();
        assert_eq!((out.value, out.grad), (512.0, vec![1.0, -1.0]));
        // f32 logits shifted by 1e6 stay finite.
        let out = sigmoid_binary_cross_entropy(
            &[1e6f32, -1e6],
            &[0.0, 0.0],
            None,
            &Options::with_reduction(Reduction::Sum),
        )
        .unwrap();
        assert_eq!(out.value, 1e6);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let e = sigmoid_binary_cross_entropy(&[0.0f64], &[1.5], None, &Options::mean()).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "target", index: Some(0), .. }));
        let e = sigmoid_binary_cross_entropy(
            &[0.0f64, 1.0, 2.0],
            &[1.0, 0.0, 1.0],
            Some(&[1.0, 2.0]),
            &Options::mean(),
        )
        .unwrap_err();
        assert!(matches!(e, Error::ShapeMismatch { name: "pos_weight", .. }));
        let e = sigmoid_binary_cross_entropy(&[0.0f64], &[1.0], Some(&[-1.0]), &Options::mean()).unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { name: "pos_weight", .. }));
        assert!(sigmoid_binary_cross_entropy(&[0.0f64], &[1.0, 0.0], None, &Options::mean()).is_err());
    }
}
