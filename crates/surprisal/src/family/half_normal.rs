//! The half-normal distribution: |Y| for Y ~ N(0, σ²), on x ≥ 0.
//!
//! ```text
//! log p(x | σ) = ½ log(2/π) − log σ − ½ z²,      z = x/σ, x ≥ 0
//!              = −inf for x < 0
//! ∂/∂σ         = (z² − 1) / σ
//! H            = ½ log(π/2) + log σ + ½
//! mean σ√(2/π), variance σ²(1 − 2/π)
//! KL(σ₁ ‖ σ₂)  = log(σ₂/σ₁) + σ₁²/(2σ₂²) − ½     (that of N(0, σ₁²) ‖ N(0, σ₂²))
//! ```
//!
//! A common prior for scale parameters; its NLL is the squared magnitude of a non-negative target.
//!
//! Edges: x < 0 and x = +inf give −inf with zero gradient; NaN propagates.
//!
//! Reference: `torch.distributions.HalfNormal(scale)`, `scipy.stats.halfnorm(scale=scale)`.

use crate::divergence::KlDivergence;
use crate::error::{Result, check};
use crate::family::{Family, Normal};
use crate::num::Real;

/// ½ log(2/π).
const HALF_LN_2_OVER_PI: f64 = -0.225_791_352_644_727_4;

/// HalfNormal(scale) with `scale > 0`.
///
/// ```
/// use surprisal::family::{Family, HalfNormal};
/// let d = HalfNormal::new(2.0f64).unwrap();
/// // mpmath: ½ log(2/π) − log 2 − 1/8 and ½ log(π/2) + log 2 + ½
/// assert!((d.log_prob(1.0) - -1.043938533204672742).abs() < 1e-15);
/// assert!((d.entropy() - 1.418938533204672742).abs() < 1e-15);
/// assert_eq!(d.log_prob(-1.0), f64::NEG_INFINITY);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HalfNormal<F> {
    scale: F,
}

impl<F: Real> HalfNormal<F> {
    /// Validated constructor.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] if `scale` is not finite and > 0.
    pub fn new(scale: F) -> Result<Self> {
        Ok(Self { scale: check::positive("scale", scale)? })
    }
    /// σ, the scale of the underlying normal.
    pub fn scale(&self) -> F {
        self.scale
    }
}

impl<F: Real> Family<F> for HalfNormal<F> {
    const NAME: &'static str = "half_normal";
    const PARAMS: &'static [&'static str] = &["scale"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 1, p.len())?;
        Self::new(p[0])
    }

    #[inline]
    fn log_prob(&self, x: F) -> F {
        if x < F::zero() {
            return F::neg_infinity();
        }
        let z = x / self.scale;
        F::lit(HALF_LN_2_OVER_PI) - self.scale.ln() - F::lit(0.5) * z * z
    }

    #[inline]
    fn log_prob_grad(&self, x: F, grad: &mut [F]) -> F {
        if x < F::zero() || x == F::infinity() {
            grad[0] = F::zero();
            return F::neg_infinity();
        }
        let z = x / self.scale;
        grad[0] = (z * z - F::one()) / self.scale;
        F::lit(HALF_LN_2_OVER_PI) - self.scale.ln() - F::lit(0.5) * z * z
    }

    fn entropy(&self) -> F {
        F::lit(0.5) - F::lit(HALF_LN_2_OVER_PI) + self.scale.ln()
    }

    fn mean(&self) -> F {
        self.scale * F::lit((2.0 / std::f64::consts::PI).sqrt())
    }

    fn variance(&self) -> F {
        self.scale * self.scale * F::lit(1.0 - 2.0 / std::f64::consts::PI)
    }
}

impl<F: Real> KlDivergence<HalfNormal<F>> for HalfNormal<F> {
    type Output = F;
    /// That of the normals N(0, σ₁²) ‖ N(0, σ₂²) they fold: the fold maps both alike.
    fn kl(&self, q: &HalfNormal<F>) -> F {
        let normal = |d: &HalfNormal<F>| Normal::new(F::zero(), d.scale).expect("validated scale");
        normal(self).kl(&normal(q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(s, x) in &[(1.0, 0.3), (0.2, 0.5), (7.0, 10.0), (1.0, 0.0)] {
            check_gradient::<HalfNormal<f64>>(&[s], x, 1e-8);
        }
    }

    #[test]
    fn density_integrates_to_one_and_entropy_and_moments_by_quadrature() {
        let d = HalfNormal::new(1.3f64).unwrap();
        let (lo, hi, n) = (0.0, 16.0, 8000);
        assert!((integrate_density(&d, lo, hi, n) - 1.0).abs() < 1e-12);
        assert!((integrate_entropy(&d, lo, hi, n) - d.entropy()).abs() < 1e-10);
        let (m1, m2) = (integrate_moment(&d, 1, lo, hi, n), integrate_moment(&d, 2, lo, hi, n));
        assert!((m1 - d.mean()).abs() < 1e-10);
        assert!((m2 - m1 * m1 - d.variance()).abs() < 1e-10);
    }

    #[test]
    fn out_of_support_gives_minus_inf() {
        let d = HalfNormal::new(1.0f64).unwrap();
        let mut g = [1.0];
        for x in [-1e-300, f64::NEG_INFINITY, f64::INFINITY] {
            assert_eq!(d.log_prob(x), f64::NEG_INFINITY);
            assert_eq!(d.log_prob_grad(x, &mut g), f64::NEG_INFINITY);
            assert_eq!(g, [0.0]);
        }
        assert!(d.log_prob(f64::NAN).is_nan());
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = HalfNormal::new(0.8f32).unwrap();
        let d64 = HalfNormal::new(0.8f64).unwrap();
        check_f32_agrees(&d32, &d64, &[0.0, 0.5, 3.0], 1e-5, 1e-6);
    }

    #[test]
    fn kl_matches_quadrature() {
        let p = HalfNormal::new(1.3f64).unwrap();
        assert!(p.kl(&p).abs() < 1e-15);
        for q in [HalfNormal::new(0.4).unwrap(), HalfNormal::new(5.0).unwrap()] {
            let quad = kl_by_quadrature(&p, &q, 0.0, 15.0, 20000);
            assert!((p.kl(&q) - quad).abs() < 1e-11, "{} vs {quad}", p.kl(&q));
        }
    }
}
