//! Student-t NLL with a learned location and scale and given degrees of freedom.
//!
//! ```text
//! model     y ~ StudentT(ν, μ = x, σ = s), identity links for the location and the scale
//! z         = (y − μ)/σ
//! loss      ℓ(μ, σ, y) = −log t_ν(y | μ, σ)
//!                      = log Γ(ν/2) − log Γ((ν+1)/2) + ½ log(νπ) + log σ + (ν+1)/2 · log(1 + z²/ν)
//! map       ℓ = 1 · NLL (the exact NLL)
//! gradient  ∂ℓ/∂μ = −(ν+1) z / (σ(ν + z²))
//!           ∂ℓ/∂σ = (1 − (ν+1) z²/(ν + z²)) / σ
//! ```
//!
//! Heavy tails make the location estimate robust: the influence of a residual, ∂ℓ/∂μ, decays like
//! 1/r instead of growing like r (Gaussian) or staying constant (Laplace). ν → ∞ gives the
//! Gaussian NLL with a learned σ; ν = 1 the Cauchy NLL.
//!
//! Stability: log(1 + z²/ν) is evaluated as 2 log|z| − log ν + log1p(ν/z²) when |z| > √ν, so
//! residuals of 1e200 give finite losses; the gradients are written as 1/(z + ν/z) and
//! 1/(1 + ν/z²) so that they tend to 0 and to 1/σ·(−ν) without inf/inf.
//!
//! Edges: an infinite residual gives +inf loss, a 0 location gradient and scale gradient −ν/σ;
//! masked or zero-weight elements contribute 0.
//!
//! Reference: `−torch.distributions.StudentT(df, loc, scale).log_prob(target)`,
//! `scipy.stats.t.logpdf`; reductions none/sum/mean as the other element-wise losses.

use super::{Likelihood, NllMap, Options, Shift, pointwise, same_len2};
use crate::error::{Result, check};
use crate::family::{Family, StudentT};
use crate::link::Link;
use crate::num::Real;

/// The result of [`student_t_nll`]: value, per-element losses and the gradients with respect to
/// the location and the scale.
#[derive(Clone, Debug, PartialEq)]
pub struct StudentTNllOutput<F> {
    /// The reduced loss (for [`crate::loss::Reduction::None`], the sum of `per_element`).
    pub value: F,
    /// mᵢ · wᵢ · ℓᵢ for each element.
    pub per_element: Vec<F>,
    /// ∂ value / ∂ input (the location μ).
    pub grad_loc: Vec<F>,
    /// ∂ value / ∂ scale (σ).
    pub grad_scale: Vec<F>,
}

/// Student-t NLL of `target` with location `input`, scale `scale` and `df` degrees of freedom.
///
/// # Errors
/// [`crate::Error::InvalidParameter`] for `df` not finite and > 0, or a `scale` entry not finite
/// and > 0 (with its index); [`crate::Error::ShapeMismatch`] if the lengths of `input`, `target`,
/// `scale`, weight or mask differ; [`crate::Error::InvalidOption`] for `batchmean`.
///
/// # Example
/// ```
/// use surprisal::loss::{self, Options, Reduction};
/// let opts = Options::with_reduction(Reduction::Sum);
/// let out = loss::student_t_nll(&[0.0f64, 1.0], &[1.5, -1.0], &[1.0, 0.5], 3.0, &opts).unwrap();
/// // mpmath: −log t₃(1.5 | 0, 1) − log t₃(−1 | 1, ½), and its derivatives
/// assert!((out.value - 6.119515475554581).abs() < 1e-14);
/// assert!((out.grad_loc[0] - -1.1428571428571428).abs() < 1e-15);
/// assert!((out.grad_loc[1] - 1.6842105263157894).abs() < 1e-15);
/// assert!((out.grad_scale[0] - -0.7142857142857143).abs() < 1e-15);
/// assert!((out.grad_scale[1] - -4.7368421052631579).abs() < 1e-14);
/// ```
pub fn student_t_nll<F: Real>(
    input: &[F],
    target: &[F],
    scale: &[F],
    df: F,
    opts: &Options<F>,
) -> Result<StudentTNllOutput<F>> {
    let n = same_len2(input, target)?;
    check::same_len("scale", n, scale.len())?;
    let nu = check::positive("df", df)?;
    for (j, &s) in scale.iter().enumerate() {
        check::positive("scale", s).map_err(|e| e.at_index(j))?;
    }
    let half = F::lit(0.5);
    let one = F::one();
    let c = (half * nu).ln_gamma() - (half * (nu + one)).ln_gamma() + half * (nu * F::PI()).ln();
    let (sqrt_nu, ln_nu) = (nu.sqrt(), nu.ln());
    let (value, per_element, [grad_loc, grad_scale]) = pointwise(n, opts, |i| {
        let s = scale[i];
        let z = (target[i] - input[i]) / s;
        let a = z.abs();
        // log(1 + z²/ν), without overflowing z² for huge residuals.
        let l1p = if a <= sqrt_nu {
            (z * z / nu).ln_1p()
        } else {
            F::lit(2.0) * a.ln() - ln_nu + (nu / (z * z)).ln_1p()
        };
        // z/(ν + z²) = 1/(z + ν/z) and z²/(ν + z²) = 1/(1 + ν/z²): finite at z = 0 and z = ±inf.
        let zq = if z == F::zero() { F::zero() } else { one / (z + nu / z) };
        let zz = one / (one + nu / (z * z));
        let loss = c + s.ln() + half * (nu + one) * l1p;
        (loss, [-(nu + one) * zq / s, (one - (nu + one) * zz) / s])
    })?;
    Ok(StudentTNllOutput { value, per_element, grad_loc, grad_scale })
}

/// The Student-t NLL is the exact NLL of StudentT(ν = `df`, loc, scale) with identity links; the
/// element's outputs are `[loc, scale]`.
///
/// # Errors
/// [`crate::Error::InvalidParameter`] for `df` not finite and > 0.
pub fn likelihood(df: f64) -> Result<Likelihood> {
    check::positive("df", df)?;
    Ok(Likelihood::Nll(NllMap {
        family: "student_t",
        link: Link::Identity,
        fixed: vec![("df", df)],
        scale: 1.0,
        shift: Shift::Constant(0.0),
        nll: Box::new(move |out, y| -StudentT::new(df, out[0], out[1]).map_or(f64::NAN, |d| d.log_prob(y))),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::loss::Reduction;
    use crate::loss::testing::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn declared_map_holds(x in -1e3f64..1e3, y in -1e3f64..1e3, s in 1e-2f64..1e2, df in 0.2f64..200.0) {
            let per = |o: &[f64], y: f64| {
                student_t_nll(&[o[0]], &[y], &[o[1]], df, &Options::mean()).unwrap().value
            };
            check_declared_map(&likelihood(df).unwrap(), &[(vec![x, s], y)], per, 1e-11);
        }
    }

    #[test]
    fn gradients_match_central_differences_for_each_reduction_weighted_and_masked() {
        let x = [0.3, -1.2, 2.5, 7.0, -0.01, 0.4];
        let y = [0.0, 1.0, 2.0, -3.0, 0.5, 0.4];
        let s = [0.5, 2.0, 1.0, 3.0, 0.1, 4.0];
        let w = [1.0, 0.5, 2.0, 0.0, 3.0, 1.0];
        let m = [true, true, false, true, true, true];
        for df in [0.7, 3.0, 50.0] {
            for opts in plain_and_weighted_masked(&w, &m) {
                let out = student_t_nll(&x, &y, &s, df, &opts).unwrap();
                let f = |xv: &[f64], sv: &[f64]| student_t_nll(xv, &y, sv, df, &opts).unwrap().value;
                check_grad_fd(&x, &out.grad_loc, |v| f(v, &s), 1e-7);
                check_grad_fd(&s, &out.grad_scale, |v| f(&x, v), 1e-7);
            }
        }
    }

    #[test]
    fn large_df_approaches_the_gaussian_nll() {
        let out = student_t_nll(&[0.3f64], &[1.1], &[0.7], 1e8, &Options::mean()).unwrap();
        let z: f64 = (1.1 - 0.3) / 0.7;
        let gauss = 0.5 * z * z + 0.7f64.ln() + 0.5 * (2.0 * std::f64::consts::PI).ln();
        assert!((out.value - gauss).abs() < 1e-7);
    }

    #[test]
    fn edges_huge_residuals_errors_masks_and_f32() {
        let opts = Options::with_reduction(Reduction::None);
        let out = student_t_nll(&[0.0f64, 0.0], &[1e200, f64::INFINITY], &[1.0, 1.0], 3.0, &opts).unwrap();
        // 2 log 1e200 dominates; finite, not inf.
        assert!(out.per_element[0].is_finite() && out.per_element[0] > 900.0);
        assert_eq!(out.per_element[1], f64::INFINITY);
        assert_eq!(out.grad_loc[1], 0.0);
        assert_eq!(out.grad_scale[1], -3.0);
        assert!(out.grad_loc[0].abs() < 1e-199);
        assert!(matches!(
            student_t_nll(&[0.0f64, 0.0], &[0.0, 0.0], &[1.0, 0.0], 3.0, &opts),
            Err(Error::InvalidParameter { name: "scale", index: Some(1), .. })
        ));
        assert!(student_t_nll(&[0.0f64], &[0.0], &[1.0], 0.0, &opts).is_err());
        assert!(student_t_nll(&[0.0f64], &[0.0], &[1.0, 1.0], 1.0, &opts).is_err());
        assert!(likelihood(-1.0).is_err());
        let masked =
            student_t_nll(&[0.0f64], &[f64::NAN], &[1.0], 2.0, &Options::mean().mask(&[false])).unwrap();
        assert_eq!((masked.value, masked.grad_loc[0], masked.grad_scale[0]), (0.0, 0.0, 0.0));
        let o32 = student_t_nll(
            &[0.0f32, 1.0],
            &[1.5, -1.0],
            &[1.0, 0.5],
            3.0,
            &Options::with_reduction(Reduction::Sum),
        )
        .unwrap();
        assert!((o32.value as f64 - 6.119515475554581).abs() < 1e-5);
    }
}
