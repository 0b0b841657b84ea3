//! The Laplace (double-exponential) distribution.
//!
//! ```text
//! log p(x | μ, b) = −|z| − log 2b,                  z = (x − μ)/b
//! ∂/∂μ            = sign(z) / b                     (0 at z = 0, the subgradient torch uses)
//! ∂/∂b            = (|z| − 1) / b
//! H               = 1 + log 2b
//! mean μ, variance 2b²
//! KL(L(μ₁, b₁) ‖ L(μ₂, b₂)) = log(b₂/b₁) + |μ₁ − μ₂|/b₂ + (b₁/b₂)·e^{−|μ₁ − μ₂|/b₁} − 1
//! KL(L(μ₁, b) ‖ N(μ₂, σ²))  = log(σ/b) + ½ log(π/2) + b²/σ² + (μ₁ − μ₂)²/(2σ²) − 1
//! ```
//!
//! Its NLL with b fixed is the absolute error up to an affine map: with b = 1,
//! −log p = |x − μ| + log 2, so the L1 loss (MAE) is this NLL minus log 2. The median is the
//! maximum-likelihood location.
//!
//! Edges: x = ±inf gives log p = −inf with zero gradient; NaN propagates.
//!
//! Reference: `torch.distributions.Laplace`, `scipy.stats.laplace`; the KL divergences are the
//! closed forms `torch.distributions.kl_divergence` registers for (Laplace, Laplace) and
//! (Laplace, Normal).

use crate::divergence::KlDivergence;
use crate::error::{Result, check};
use crate::family::{Beta, Exponential, Family, Gamma, Normal};
use crate::num::Real;

/// Laplace(loc, scale) with `scale > 0`: density e^{−|x − loc|/scale} / (2·scale).
///
/// ```
/// use surprisal::family::{Family, Laplace};
/// let d = Laplace::new(1.0f64, 2.0).unwrap();
/// // mpmath: -log(4) - 1/2 and 1 + log(4)
/// assert!((d.log_prob(0.0) - -1.886294361119890618).abs() < 1e-15);
/// assert!((d.entropy() - 2.386294361119890618).abs() < 1e-15);
/// assert!(Laplace::new(0.0f64, 0.0).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Laplace<F> {
    loc: F,
    scale: F,
}

impl<F: Real> Laplace<F> {
    /// Validated constructor.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] if `loc` is not finite or `scale` is not finite and > 0.
    pub fn new(loc: F, scale: F) -> Result<Self> {
        Ok(Self { loc: check::finite("loc", loc)?, scale: check::positive("scale", scale)? })
    }
    /// μ, the location (median).
    pub fn loc(&self) -> F {
        self.loc
    }
    /// b, the scale.
    pub fn scale(&self) -> F {
        self.scale
    }
}

impl<F: Real> Family<F> for Laplace<F> {
    const NAME: &'static str = "laplace";
    const PARAMS: &'static [&'static str] = &["loc", "scale"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 2, p.len())?;
        Self::new(p[0], p[1])
    }

    #[inline]
    fn log_prob(&self, x: F) -> F {
        let z = (x - self.loc) / self.scale;
        -z.abs() - (F::lit(2.0) * self.scale).ln()
    }

    #[inline]
    fn log_prob_grad(&self, x: F, grad: &mut [F]) -> F {
        let z = (x - self.loc) / self.scale;
        if z.is_infinite() {
            grad[0] = F::zero();
            grad[1] = F::zero();
            return F::neg_infinity();
        }
        // sign(0) = 0, as torch.sign: the subgradient at the kink.
        let s = if z > F::zero() {
            F::one()
        } else if z < F::zero() {
            -F::one()
        } else {
            z
        };
        grad[0] = s / self.scale;
        grad[1] = (z.abs() - F::one()) / self.scale;
        -z.abs() - (F::lit(2.0) * self.scale).ln()
    }

    fn entropy(&self) -> F {
        F::one() + (F::lit(2.0) * self.scale).ln()
    }

    fn mean(&self) -> F {
        self.loc
    }

    fn variance(&self) -> F {
        F::lit(2.0) * self.scale * self.scale
    }
}

impl<F: Real> KlDivergence<Laplace<F>> for Laplace<F> {
    type Output = F;
    fn kl(&self, q: &Laplace<F>) -> F {
        let r = self.scale / q.scale;
        let d = (self.loc - q.loc).abs();
        // log(b₂/b₁) + |Δ|/b₂ + (b₁/b₂)·e^{−|Δ|/b₁} − 1
        -r.ln() + d / q.scale + r * (-d / self.scale).exp() - F::one()
    }
}

impl<F: Real> KlDivergence<Normal<F>> for Laplace<F> {
    type Output = F;
    /// −H(Laplace) + E[−log N(X)], with mean μ₁ and variance 2b².
    fn kl(&self, q: &Normal<F>) -> F {
        q.cross_entropy(self.mean(), self.variance()) - self.entropy()
    }
}

crate::family::kl_infinite!(Laplace => Exponential, Gamma, Beta);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(m, s, x) in &[(0.0, 1.0, 0.3), (1.5, 0.2, -3.0), (-4.0, 7.0, 10.0), (2.0, 0.5, 2.2)] {
            check_gradient::<Laplace<f64>>(&[m, s], x, 1e-8);
        }
    }

    #[test]
    fn density_integrates_to_one_and_entropy_is_expected_nll() {
        // The kink at loc is a panel boundary, so Simpson stays accurate.
        let d = Laplace::new(0.5, 1.3).unwrap();
        let total = integrate_density(&d, -49.5, 0.5, 4000) + integrate_density(&d, 0.5, 50.5, 4000);
        assert!((total - 1.0).abs() < 1e-10);
        let h = integrate_entropy(&d, -49.5, 0.5, 4000) + integrate_entropy(&d, 0.5, 50.5, 4000);
        assert!((h - d.entropy()).abs() < 1e-9);
    }

    #[test]
    fn mean_and_variance_closed_forms() {
        let d = Laplace::new(-0.7f64, 0.9).unwrap();
        assert_eq!(d.mean(), -0.7);
        assert!((d.variance() - 2.0 * 0.81).abs() < 1e-15);
    }

    #[test]
    fn kl_matches_quadrature_and_vanishes_at_equality() {
        let p = Laplace::new(0.3f64, 1.2).unwrap();
        assert!(p.kl(&p).abs() < 1e-15);
        let q = Laplace::new(-1.0, 0.7).unwrap();
        assert!(p.kl(&q) > 0.0 && q.kl(&p) > 0.0);
        // Panels break at both kinks (−1 and 0.3).
        let quad = kl_by_quadrature(&p, &q, -60.0, -1.0, 20000)
            + kl_by_quadrature(&p, &q, -1.0, 0.3, 2000)
            + kl_by_quadrature(&p, &q, 0.3, 60.3, 20000);
        assert!((quad - p.kl(&q)).abs() < 1e-9, "{quad} vs {}", p.kl(&q));
        // mpmath: KL(Laplace(0, 1) ‖ Laplace(1, 2)).
        let a = Laplace::new(0.0f64, 1.0).unwrap();
        assert!((a.kl(&Laplace::new(1.0, 2.0).unwrap()) - 0.377_086_901_145_666_47).abs() < 1e-15);
    }

    #[test]
    fn kl_to_normal_matches_quadrature() {
        let p = Laplace::new(0.0f64, 1.0).unwrap();
        let q = Normal::new(1.0, 2.0).unwrap();
        // mpmath quadrature of p·(log p − log q).
        assert!((p.kl(&q) - 0.293_938_533_204_672_7).abs() < 1e-15);
        let p = Laplace::new(0.4f64, 0.6).unwrap();
        let q = Normal::new(-0.3, 0.9).unwrap();
        let quad = kl_by_quadrature(&p, &q, -40.0, 0.4, 20000) + kl_by_quadrature(&p, &q, 0.4, 40.8, 20000);
        assert!((quad - p.kl(&q)).abs() < 1e-9);
        assert!(p.kl(&q) > 0.0);
    }

    #[test]
    fn infinite_values_give_minus_inf_not_nan() {
        let d = Laplace::new(0.0f64, 1.0).unwrap();
        check_infinite_x_gives_minus_inf(&d);
        assert!(d.log_prob(f64::NAN).is_nan());
        assert!((d.log_prob(1e300) + 1e300).abs() <= 1e300 * f64::EPSILON);
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = Laplace::new(0.5f32, 2.0).unwrap();
        let d64 = Laplace::new(0.5f64, 2.0).unwrap();
        check_f32_agrees(&d32, &d64, &[-3.0, 0.5, 3.0], 1e-6, 1e-6);
    }

    #[test]
    fn kl_to_half_line_families_is_infinite() {
        let p = Laplace::new(0.0f64, 1.0).unwrap();
        assert_eq!(p.kl(&Exponential::new(1.0).unwrap()), f64::INFINITY);
        assert_eq!(p.kl(&Gamma::new(2.0, 1.0).unwrap()), f64::INFINITY);
        assert_eq!(p.kl(&Beta::new(2.0, 1.0).unwrap()), f64::INFINITY);
    }
}
