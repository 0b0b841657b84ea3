//! Gaussian NLL with a predicted variance: the normal NLL with both parameters learned.
//!
//! ```text
//! model     y ~ N(μ = x, σ² = v), identity links for the mean and the variance
//! v̄         = max(v, eps)                          (clamped for stability, as PyTorch)
//! loss      ℓ(x, v, y) = ½(log v̄ + (x − y)²/v̄) [+ ½ log 2π if full]
//! NLL       −log N(y | x, v̄) = ½(log v̄ + (y − x)²/v̄) + ½ log 2π
//! map       ℓ = 1 · NLL − ½ log 2π    (full = false)
//!           ℓ = 1 · NLL                (full = true: the exact NLL)
//! gradient  ∂ℓ/∂x = (x − y)/v̄
//!           ∂ℓ/∂v = ½(1/v̄ − (x − y)²/v̄²)
//! ```
//!
//! With the variance learned, this is no longer an affine map of the squared error: the minimiser
//! over v of one element's loss is v = (x − y)², and the loss trades fit against spread. For a
//! fixed v it is (x − y)²/(2v) plus a constant, the map of [`crate::loss::mse`](mod@crate::loss::mse).
//!
//! Clamping follows PyTorch exactly: `v̄ = max(v, eps)` is computed without tracking gradients, so
//! the gradient w.r.t. v is the derivative at v̄ passed straight through (not 0) where v < eps.
//! Where v ≥ eps (every case where the loss is the exact NLL) this is the true gradient.
//!
//! Shapes: `input`, `target` have n elements; `var` has n (one variance per element) or n / k
//! (one variance shared by each block of k consecutive elements: PyTorch's `var` of shape
//! `(…, 1)` against `input` of shape `(…, k)`). The gradient w.r.t. `var` has `var`'s length.
//!
//! Edges: v = +inf gives +inf loss; an infinite residual gives +inf; masked or zero-weight
//! elements contribute 0. Negative or NaN variances are errors (PyTorch raises too).
//!
//! Matches `torch.nn.functional.gaussian_nll_loss` (reductions none/sum/mean, `full`, `eps`).

use super::{Likelihood, NllMap, Options, Shift, pointwise, same_len2};
use crate::error::{Error, Result, check};
use crate::family::{Family, Normal};
use crate::link::Link;
use crate::num::Real;

/// The result of [`gaussian_nll`]: value, per-element losses and the gradients with respect to
/// the predicted mean and the predicted variance.
#[derive(Clone, Debug, PartialEq)]
pub struct GaussianNllOutput<F> {
    /// The reduced loss (for [`crate::loss::Reduction::None`], the sum of `per_element`).
    pub value: F,
    /// mᵢ · wᵢ · ℓᵢ for each element.
    pub per_element: Vec<F>,
    /// ∂ value / ∂ input (the predicted mean), length n.
    pub grad_input: Vec<F>,
    /// ∂ value / ∂ var, the length of `var` (summed over the elements a variance is shared by).
    pub grad_var: Vec<F>,
}

/// Gaussian NLL of `target` under N(`input`, `var`), PyTorch's `gaussian_nll_loss`.
///
/// # Errors
/// [`crate::Error::InvalidParameter`] for `eps` not finite and > 0, or a `var` entry that is
/// negative or NaN (with its index); [`crate::Error::ShapeMismatch`] if the lengths of `input`,
/// `target`, weight or mask differ, or `var`'s length does not divide n;
/// [`crate::Error::InvalidOption`] for `batchmean`.
///
/// # Example
/// ```
/// use surprisal::loss::{self, Options};
/// let (x, y, v) = ([0.5f64, -1.0], [1.0, 0.0], [2.0, 0.5]);
/// let out = loss::gaussian_nll(&x, &y, &v, false, 1e-6, &Options::mean()).unwrap();
/// // torch.nn.functional.gaussian_nll_loss: (½(log 2 + 0.25/2) + ½(log ½ + 1/½))/2
/// assert!((out.value - 0.53125).abs() < 1e-15);
/// assert_eq!(out.grad_input, vec![-0.125, -1.0]);
/// assert_eq!(out.grad_var, vec![0.109375, -0.5]);
/// let full = loss::gaussian_nll(&x, &y, &v, true, 1e-6, &Options::mean()).unwrap();
/// // mpmath: the same plus ½ log 2π
/// assert!((full.value - 1.4501885332046727).abs() < 1e-15);
/// ```
pub fn gaussian_nll<F: Real>(
    input: &[F],
    target: &[F],
    var: &[F],
    full: bool,
    eps: F,
    opts: &Options<F>,
) -> Result<GaussianNllOutput<F>> {
    let n = same_len2(input, target)?;
    let eps = check::positive("eps", eps)?;
    let block = var_block(n, var.len())?;
    for (j, &v) in var.iter().enumerate() {
        if v.is_nan() || v < F::zero() {
            return Err(Error::InvalidParameter {
                name: "var",
                value: v.to_f64_lossy(),
                index: Some(j),
                reason: "must be >= 0",
            });
        }
    }
    let half = F::lit(0.5);
    let c = if full { F::lit(HALF_LN_2PI) } else { F::zero() };
    let (value, per_element, [grad_input, g_var]) = pointwise(n, opts, |i| {
        let v = var[i / block].max(eps);
        let r = input[i] - target[i];
        let q = r / v;
        (half * (v.ln() + r * q) + c, [q, half * (F::one() - r * q) / v])
    })?;
    let grad_var =
        if block == 1 { g_var } else { g_var.chunks(block).map(|c| c.iter().copied().sum()).collect() };
    Ok(GaussianNllOutput { value, per_element, grad_input, grad_var })
}

/// The number of consecutive elements each variance is shared by.
fn var_block(n: usize, len: usize) -> Result<usize> {
    if len == n {
        Ok(1)
    } else if len > 0 && n.is_multiple_of(len) {
        Ok(n / len)
    } else {
        Err(Error::shape("var", &[n], &[len]))
    }
}

/// ½ log 2π.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// The Gaussian NLL is the normal NLL with mean and variance as outputs (identity links): exact
/// when `full`, shifted by −½ log 2π otherwise. The element's outputs are `[mean, var]`.
pub fn likelihood(full: bool) -> Likelihood {
    Likelihood::Nll(NllMap {
        family: "normal",
        link: Link::Identity,
        fixed: vec![],
        scale: 1.0,
        shift: Shift::Constant(if full { 0.0 } else { -HALF_LN_2PI }),
        nll: Box::new(|out, y| -Normal::new(out[0], out[1].sqrt()).map_or(f64::NAN, |d| d.log_prob(y))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::testing::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn declared_map_holds(x in -1e3f64..1e3, y in -1e3f64..1e3, v in 1e-3f64..1e4, full: bool) {
            let per = |o: &[f64], y: f64| {
                gaussian_nll(&[o[0]], &[y], &[o[1]], full, 1e-6, &Options::mean()).unwrap().value
            };
            check_declared_map(&likelihood(full), &[(vec![x, v], y)], per, 1e-12);
        }
    }

    #[test]
    fn gradients_match_central_differences_for_each_reduction_weighted_and_masked() {
        let x = [0.3, -1.2, 2.5, 7.0, -0.01, 0.4];
        let y = [0.0, 1.0, 2.0, -3.0, 0.5, 0.1];
        let w = [1.0, 0.5, 2.0, 0.0, 3.0, 1.0];
        let m = [true, true, false, true, true, true];
        for var in [vec![0.5, 2.0, 1.0, 3.0, 0.1, 4.0], vec![0.7, 1.5], vec![0.9]] {
            for full in [false, true] {
                for opts in plain_and_weighted_masked(&w, &m) {
                    let out = gaussian_nll(&x, &y, &var, full, 1e-6, &opts).unwrap();
                    let f =
                        |xv: &[f64], vv: &[f64]| gaussian_nll(xv, &y, vv, full, 1e-6, &opts).unwrap().value;
                    check_grad_fd(&x, &out.grad_input, |v| f(v, &var), 1e-8);
                    check_grad_fd(&var, &out.grad_var, |v| f(&x, v), 1e-7);
                }
            }
        }
    }

    #[test]
    fn clamped_variance_passes_the_gradient_at_eps_through_as_pytorch() {
        let out =
            gaussian_nll(&[1.0f64, 0.0], &[0.0, 0.0], &[0.0, 1e-9], false, 0.01, &Options::mean()).unwrap();
        // v̄ = 0.01: loss ½(log 0.01 + 1/0.01), ∂/∂v = ½(1/v̄ − 1/v̄²) for both entries' own r.
        assert!((out.per_element[0] - 0.5 * (0.01f64.ln() + 100.0)).abs() < 1e-12);
        assert!((out.grad_var[0] - 0.25 * (100.0 - 10_000.0)).abs() < 1e-9);
        assert!((out.grad_var[1] - 0.25 * 100.0).abs() < 1e-12);
        assert!((out.grad_input[0] - 50.0).abs() < 1e-12);
    }

    #[test]
    fn edges_errors_masks_and_f32() {
        let o = Options::mean();
        assert!(matches!(
            gaussian_nll(&[0.0f64, 1.0], &[0.0, 0.0], &[1.0, -1.0], false, 1e-6, &o),
            Err(Error::InvalidParameter { name: "var", index: Some(1), .. })
        ));
        assert!(gaussian_nll(&[0.0f64], &[0.0], &[f64::NAN], false, 1e-6, &o).is_err());
        assert!(gaussian_nll(&[0.0f64; 3], &[0.0; 3], &[1.0; 2], false, 1e-6, &o).is_err());
        assert!(gaussian_nll(&[0.0f64], &[0.0], &[1.0], false, 0.0, &o).is_err());
        let out = gaussian_nll(
            &[0.0f64, 5.0],
            &[0.0, 1.0],
            &[f64::INFINITY, 1.0],
            false,
            1e-6,
            &o.mask(&[true, false]),
        )
        .unwrap();
        assert_eq!(out.value, f64::INFINITY);
        assert_eq!(out.grad_input, vec![0.0, 0.0]);
        let all_masked = gaussian_nll(&[0.0f64], &[1.0], &[0.0], false, 1e-6, &o.mask(&[false])).unwrap();
        assert_eq!((all_masked.value, all_masked.grad_var[0]), (0.0, 0.0));
        let o32 =
            gaussian_nll(&[0.5f32, -1.0], &[1.0, 0.0], &[2.0, 0.5], true, 1e-6, &Options::mean()).unwrap();
        assert!((o32.value as f64 - 1.4501885332046727).abs() < 1e-6);
        assert_eq!(o32.grad_var, vec![0.109375, -0.5]);
    }
}
