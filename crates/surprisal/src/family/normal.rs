//! The normal (Gaussian) distribution N(μ, σ²).
//!
//! ```text
//! log p(x | μ, σ) = −½ z² − log σ − ½ log 2π,        z = (x − μ)/σ
//! ∂/∂μ            = z / σ
//! ∂/∂σ            = (z² − 1) / σ
//! H               = ½ + ½ log 2π + log σ
//! mean μ, variance σ²
//! KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)) = log(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²) / (2σ₂²) − ½
//! KL(N(μ, σ²) ‖ Gumbel(m, β)) = log(β/σ) + (μ − m)/β + e^{(m−μ)/β + σ²/(2β²)} − ½(1 + log 2π)
//! E_p[−log N(X | μ, σ²)]      = ½ log 2πσ² + (Var_p X + (E_p X − μ)²)/(2σ²)
//! ```
//!
//! KL to the Exponential, Gamma and Beta is +inf (their support is a part of the real line).
//!
//! Its NLL with σ fixed is the squared error up to an affine map: with σ² = ½,
//! −log p = (x − μ)² + ½ log π, so `mse` = NLL − ½ log π (see [`mod@crate::loss::mse`]).
//!
//! Reference: `torch.distributions.Normal`, `scipy.stats.norm`.

use crate::divergence::KlDivergence;
use crate::error::{Result, check};
use crate::family::{Beta, Exponential, Family, Gamma, Gumbel};
use crate::num::Real;

/// N(loc, scale²) with `scale > 0`.
///
/// ```
/// use surprisal::family::{Family, Normal};
/// let d = Normal::new(1.0f64, 2.0).unwrap();
/// // scipy.stats.norm(1, 2).logpdf(0.0) and .entropy()
/// assert!((d.log_prob(0.0) - -1.737085713764618).abs() < 1e-15);
/// assert!((d.entropy() - 2.112085713764618).abs() < 1e-15);
/// assert!(Normal::new(0.0f64, -1.0).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normal<F> {
    loc: F,
    scale: F,
}

impl<F: Real> Normal<F> {
    /// Validated constructor.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] if `loc` is not finite or `scale` is not finite and > 0.
    pub fn new(loc: F, scale: F) -> Result<Self> {
        Ok(Self { loc: check::finite("loc", loc)?, scale: check::positive("scale", scale)? })
    }
    /// μ.
    pub fn loc(&self) -> F {
        self.loc
    }
    /// σ.
    pub fn scale(&self) -> F {
        self.scale
    }
}

impl<F: Real> Family<F> for Normal<F> {
    const NAME: &'static str = "normal";
    const PARAMS: &'static [&'static str] = &["loc", "scale"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 2, p.len())?;
        Self::new(p[0], p[1])
    }

    #[inline]
    fn log_prob(&self, x: F) -> F {
        let z = (x - self.loc) / self.scale;
        -F::lit(0.5) * z * z - self.scale.ln() - F::lit(HALF_LN_2PI)
    }

    #[inline]
    fn log_prob_grad(&self, x: F, grad: &mut [F]) -> F {
        let z = (x - self.loc) / self.scale;
        grad[0] = z / self.scale;
        grad[1] = (z * z - F::one()) / self.scale;
        -F::lit(0.5) * z * z - self.scale.ln() - F::lit(HALF_LN_2PI)
    }

    fn entropy(&self) -> F {
        F::lit(0.5 + HALF_LN_2PI) + self.scale.ln()
    }

    fn mean(&self) -> F {
        self.loc
    }

    fn variance(&self) -> F {
        self.scale * self.scale
    }
}

/// ½ log 2π.
pub(crate) const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

impl<F: Real> Normal<F> {
    /// The cross-entropy E_p[−log q(X)] of this normal q under any p with mean `mean` and
    /// variance `var`: ½ log 2πσ² + (var + (mean − μ)²)/(2σ²).
    pub(crate) fn cross_entropy(&self, mean: F, var: F) -> F {
        let d = (mean - self.loc) / self.scale;
        self.scale.ln() + F::lit(HALF_LN_2PI) + F::lit(0.5) * (var / (self.scale * self.scale) + d * d)
    }
}

impl<F: Real> KlDivergence<Gumbel<F>> for Normal<F> {
    type Output = F;
    /// KL(Normal ‖ Gumbel) = −H(Normal) + E[−log Gumbel(X)], with log E[e^{−X/β}] =
    /// −μ/β + σ²/(2β²) (the normal's moment-generating function).
    fn kl(&self, q: &Gumbel<F>) -> F {
        let r = self.scale / q.scale();
        let log_mgf = -self.loc / q.scale() + F::lit(0.5) * r * r;
        q.cross_entropy(self.loc, log_mgf) - self.entropy()
    }
}

crate::family::kl_infinite!(Normal => Exponential, Gamma, Beta);

impl<F: Real> KlDivergence<Normal<F>> for Normal<F> {
    type Output = F;
    fn kl(&self, q: &Normal<F>) -> F {
        let r = self.scale / q.scale;
        let d = (self.loc - q.loc) / q.scale;
        // log(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²)/(2σ₂²) − ½, written in ratios to avoid overflow.
        -r.ln() + F::lit(0.5) * (r * r + d * d - F::one())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(m, s, x) in &[(0.0, 1.0, 0.3), (1.5, 0.2, -3.0), (-4.0, 7.0, 10.0)] {
            check_gradient::<Normal<f64>>(&[m, s], x, 1e-8);
        }
    }

    #[test]
    fn density_integrates_to_one_and_entropy_is_expected_nll() {
        let d = Normal::new(0.7, 1.3).unwrap();
        assert!((integrate_density(&d, -15.0, 16.0, 4000) - 1.0).abs() < 1e-12);
        assert!((integrate_entropy(&d, -15.0, 16.0, 4000) - d.entropy()).abs() < 1e-10);
    }

    #[test]
    fn kl_is_nonnegative_and_zero_at_equality() {
        let p = Normal::new(0.3f64, 1.2).unwrap();
        assert!(p.kl(&p).abs() < 1e-15);
        let q = Normal::new(-1.0, 0.4).unwrap();
        assert!(p.kl(&q) > 0.0 && q.kl(&p) > 0.0);
        // KL by quadrature of p·(log p − log q).
        let quad = kl_by_quadrature(&p, &q, -20.0, 20.0, 20000);
        assert!((quad - p.kl(&q)).abs() < 1e-9);
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = Normal::new(0.5f32, 2.0).unwrap();
        let d64 = Normal::new(0.5f64, 2.0).unwrap();
        assert!((d32.log_prob(3.0) as f64 - d64.log_prob(3.0)).abs() < 1e-6);
    }

    #[test]
    fn kl_to_gumbel_matches_quadrature_and_other_supports_are_infinite() {
        let p = Normal::new(0.4f64, 0.8).unwrap();
        for q in [Gumbel::new(-0.2, 1.5).unwrap(), Gumbel::new(1.0, 0.5).unwrap()] {
            let quad = kl_by_quadrature(&p, &q, -12.0, 13.0, 40000);
            assert!((p.kl(&q) - quad).abs() < 1e-10, "{} vs {quad}", p.kl(&q));
        }
        assert_eq!(p.kl(&Exponential::new(1.0).unwrap()), f64::INFINITY);
        assert_eq!(p.kl(&Gamma::new(2.0, 1.0).unwrap()), f64::INFINITY);
        assert_eq!(p.kl(&Beta::new(2.0, 1.0).unwrap()), f64::INFINITY);
    }
}
