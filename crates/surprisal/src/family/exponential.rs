//! The exponential distribution with rate λ, on x ≥ 0.
//!
//! ```text
//! log p(x | λ) = log λ − λx,       x ≥ 0;   −inf for x < 0
//! ∂/∂λ         = 1/λ − x
//! H            = 1 − log λ
//! mean 1/λ, variance 1/λ²
//! KL(Exp(λ₁) ‖ Exp(λ₂))   = log(λ₁/λ₂) + λ₂/λ₁ − 1
//! KL(Exp(λ) ‖ N(μ, σ²))   = ½ log(2πσ²λ²) − 1 + (1/λ² − μ/λ + μ²/2)/σ²
//! KL(Exp(λ) ‖ Γ(α, β))    = log Γ(α) + α log(λ/β) + (α − 1)γ + β/λ − 1
//! KL(Exp(λ) ‖ Gumbel(μ, b)) = log(λb) − 1 + (1/λ − μ)/b + e^{μ/b} λb/(λb + 1)
//! KL(Exp(λ) ‖ Beta)       = +inf
//! ```
//!
//! Its NLL is the Poisson-process waiting-time loss; it is the Gamma NLL with shape 1 and the
//! Weibull NLL with shape 1.
//!
//! Edges: x < 0 and x = +inf give −inf with zero gradient; NaN propagates. (torch without
//! argument validation evaluates log λ − λx for negative x too; this is the exact NLL.)
//!
//! Reference: `torch.distributions.Exponential(rate)`, `scipy.stats.expon(scale=1/rate)`; the KL
//! divergences are the closed forms `torch.distributions.kl_divergence` registers for
//! (Exponential, Exponential), (Exponential, Normal), (Exponential, Gamma), (Exponential,
//! Gumbel) and (Exponential, Beta).

use crate::divergence::KlDivergence;
use crate::error::{Result, check};
use crate::family::{Beta, Family, Gamma, Gumbel, Normal};
use crate::num::{Real, special::EULER_GAMMA};

/// Exponential(rate) with `rate > 0`.
///
/// ```
/// use surprisal::family::{Exponential, Family};
/// use surprisal::divergence::KlDivergence;
/// let d = Exponential::new(2.0f64).unwrap();
/// // mpmath: log 2 − 1 at x = ½, entropy 1 − log 2, KL(Exp(2) ‖ Exp(½)) = log 4 + ¼ − 1
/// assert!((d.log_prob(0.5) - -0.3068528194400546906).abs() < 1e-15);
/// assert!((d.entropy() - 0.3068528194400546906).abs() < 1e-15);
/// assert!((d.kl(&Exponential::new(0.5).unwrap()) - 0.6362943611198906188).abs() < 1e-15);
/// assert!(Exponential::new(0.0f64).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exponential<F> {
    rate: F,
}

impl<F: Real> Exponential<F> {
    /// Validated constructor.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] if `rate` is not finite and > 0.
    pub fn new(rate: F) -> Result<Self> {
        Ok(Self { rate: check::positive("rate", rate)? })
    }
    /// λ, the rate (inverse mean).
    pub fn rate(&self) -> F {
        self.rate
    }
}

impl<F: Real> Family<F> for Exponential<F> {
    const NAME: &'static str = "exponential";
    const PARAMS: &'static [&'static str] = &["rate"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 1, p.len())?;
        Self::new(p[0])
    }

    #[inline]
    fn log_prob(&self, x: F) -> F {
        if x < F::zero() {
            return F::neg_infinity();
        }
        self.rate.ln() - self.rate * x
    }

    #[inline]
    fn log_prob_grad(&self, x: F, grad: &mut [F]) -> F {
        if x < F::zero() || x == F::infinity() {
            grad[0] = F::zero();
            return F::neg_infinity();
        }
        grad[0] = self.rate.recip() - x;
        self.rate.ln() - self.rate * x
    }

    fn entropy(&self) -> F {
        F::one() - self.rate.ln()
    }

    fn mean(&self) -> F {
        self.rate.recip()
    }

    fn variance(&self) -> F {
        let m = self.rate.recip();
        m * m
    }
}

impl<F: Real> KlDivergence<Exponential<F>> for Exponential<F> {
    type Output = F;
    fn kl(&self, q: &Exponential<F>) -> F {
        // r = λ₂/λ₁: −log r + r − 1 ≥ 0 with equality iff r = 1.
        let r = q.rate / self.rate;
        r - F::one() - r.ln()
    }
}

impl<F: Real> KlDivergence<Normal<F>> for Exponential<F> {
    type Output = F;
    /// −H(Exp) + E[−log N(X)], with mean 1/λ and variance 1/λ².
    fn kl(&self, q: &Normal<F>) -> F {
        q.cross_entropy(self.mean(), self.variance()) - self.entropy()
    }
}

impl<F: Real> Exponential<F> {
    /// The cross-entropy E_p[−log q(X)] of this exponential q under a distribution p on x ≥ 0
    /// with mean `mean`: λ·mean − log λ.
    pub(crate) fn cross_entropy(&self, mean: F) -> F {
        self.rate * mean - self.rate.ln()
    }
}

impl<F: Real> KlDivergence<Gamma<F>> for Exponential<F> {
    type Output = F;
    /// −H(Exp) + E[−log Γ(X)], with E\[X\] = 1/λ and E\[log X\] = −γ − log λ.
    fn kl(&self, q: &Gamma<F>) -> F {
        let ex = self.rate.recip();
        let e_log = -F::lit(EULER_GAMMA) - self.rate.ln();
        q.cross_entropy(ex, e_log) - self.entropy()
    }
}

impl<F: Real> KlDivergence<Gumbel<F>> for Exponential<F> {
    type Output = F;
    /// −H(Exp) + E[−log Gumbel(X)], with log E[e^{−X/b}] = log(λb/(λb + 1)).
    fn kl(&self, q: &Gumbel<F>) -> F {
        let lb = self.rate * q.scale();
        let log_mgf = -(lb.recip()).ln_1p();
        q.cross_entropy(self.rate.recip(), log_mgf) - self.entropy()
    }
}

crate::family::kl_infinite!(Exponential => Beta);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(r, x) in &[(1.0, 0.3), (0.2, 5.0), (7.0, 10.0), (1.0, 0.0)] {
            check_gradient::<Exponential<f64>>(&[r], x, 1e-8);
        }
    }

    #[test]
    fn density_integrates_to_one_and_entropy_is_expected_nll() {
        let d = Exponential::new(1.3f64).unwrap();
        assert!((integrate_density(&d, 0.0, 40.0, 20000) - 1.0).abs() < 1e-12);
        assert!((integrate_entropy(&d, 0.0, 40.0, 20000) - d.entropy()).abs() < 1e-10);
        assert!((d.mean() - 1.0 / 1.3).abs() < 1e-15);
    }

    #[test]
    fn kl_matches_quadrature_and_vanishes_at_equality() {
        let p = Exponential::new(1.3f64).unwrap();
        assert_eq!(p.kl(&p), 0.0);
        let q = Exponential::new(0.4f64).unwrap();
        assert!(p.kl(&q) > 0.0 && q.kl(&p) > 0.0);
        assert!((kl_by_quadrature(&p, &q, 0.0, 40.0, 20000) - p.kl(&q)).abs() < 1e-10);
    }

    #[test]
    fn kl_to_normal_matches_quadrature() {
        let p = Exponential::new(2.0f64).unwrap();
        let q = Normal::new(1.0f64, 2.0).unwrap();
        // mpmath quadrature of p·(log p − log q).
        assert!((p.kl(&q) - 1.367_732_894_324_563_4).abs() < 1e-14);
        let p = Exponential::new(0.7f64).unwrap();
        let q = Normal::new(-0.5f64, 3.0).unwrap();
        assert!((kl_by_quadrature(&p, &q, 0.0, 60.0, 20000) - p.kl(&q)).abs() < 1e-10);
    }

    #[test]
    fn out_of_support_gives_minus_inf() {
        let d = Exponential::new(1.0f64).unwrap();
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
        let d32 = Exponential::new(0.8f32).unwrap();
        let d64 = Exponential::new(0.8f64).unwrap();
        for x in [0.0, 0.5, 3.0] {
            assert!((d32.log_prob(x as f32) as f64 - d64.log_prob(x)).abs() < 1e-6);
        }
        assert!(
            (d32.kl(&Exponential::new(2.0f32).unwrap()) as f64 - d64.kl(&Exponential::new(2.0).unwrap()))
                .abs()
                < 1e-6
        );
    }

    #[test]
    fn kl_to_gamma_and_gumbel_match_quadrature() {
        let p = Exponential::new(1.3f64).unwrap();
        for q in [Gamma::new(2.5, 0.8).unwrap(), Gamma::new(0.6, 2.0).unwrap(), Gamma::new(1.0, 1.3).unwrap()]
        {
            let quad = kl_by_log_quadrature(&p, &q, -40.0, 4.5, 40000);
            assert!((p.kl(&q) - quad).abs() < 1e-10, "{} vs {quad}", p.kl(&q));
        }
        // Gamma(1, λ) is Exp(λ).
        assert!(p.kl(&Gamma::new(1.0, 1.3).unwrap()).abs() < 1e-15);
        for q in [Gumbel::new(0.5, 1.5).unwrap(), Gumbel::new(-1.0, 0.4).unwrap()] {
            let quad = kl_by_log_quadrature(&p, &q, -40.0, 4.5, 40000);
            assert!((p.kl(&q) - quad).abs() < 1e-10, "{} vs {quad}", p.kl(&q));
        }
        assert_eq!(p.kl(&Beta::new(2.0, 1.0).unwrap()), f64::INFINITY);
    }
}
