//! The gamma distribution Gamma(α, β) with shape (concentration) α and rate β.
//!
//! ```text
//! log p(x | α, β) = α log β − log Γ(α) + (α − 1) log x − βx,     x > 0
//! ∂/∂α            = log β − ψ(α) + log x
//! ∂/∂β            = α/β − x
//! H               = α − log β + log Γ(α) + (1 − α) ψ(α)
//! mean α/β, variance α/β²
//! KL(Γ(α₁, β₁) ‖ Γ(α₂, β₂)) = α₂ log(β₁/β₂) + log Γ(α₂) − log Γ(α₁)
//!                            + (α₁ − α₂) ψ(α₁) + (β₂ − β₁) α₁/β₁
//! KL(Γ(α, β) ‖ N(μ, σ²))   = ½ log(2πβ²σ²) − α − log Γ(α) + (α − 1) ψ(α)
//!                            + (½(α² + α)/β² − μα/β + ½μ²) / σ²
//! KL(Γ(α, β) ‖ Exp(λ))     = −H + λα/β − log λ
//! KL(Γ(α, β) ‖ Gumbel(μ, b)) = −H + log b + (α/β − μ)/b + e^{μ/b} (1 + 1/(βb))^{−α}
//! KL(Γ(α, β) ‖ Beta)       = +inf
//! E_p[−log Γ(X | α, β)]    = log Γ(α) − α log β − (α − 1) E_p[log X] + β E_p[X]
//! ```
//!
//! Model: a positive quantity whose log has a linear-plus-log density; with the log link and α
//! fixed, the NLL is the gamma deviance of a GLM up to a constant. Edges: x < 0 gives −inf; at
//! x = 0 the density is β for α = 1, +inf for α < 1 and 0 (log −inf) for α > 1, as in
//! `torch.distributions.Gamma` (whose `(α − 1)·log x` is an `xlogy`).
//!
//! Reference: `torch.distributions.Gamma`, `scipy.stats.gamma(a=α, scale=1/β)`.

use crate::divergence::KlDivergence;
use crate::error::{Result, check};
use crate::family::{Beta, Exponential, Family, Gumbel, Normal};
use crate::num::{Real, xlogy};

/// Gamma(concentration α > 0, rate β > 0).
///
/// ```
/// use surprisal::family::{Family, Gamma};
/// let d = Gamma::new(2.5f64, 1.5).unwrap();
/// // mpmath: 2.5·log 1.5 − loggamma(2.5) + 1.5·log 1.2 − 1.5·1.2, and the entropy formula
/// assert!((d.log_prob(1.2) - -0.797537765011576254).abs() < 1e-14);
/// assert!((d.entropy() - 1.324482801396889997).abs() < 1e-14);
/// assert!(Gamma::new(0.0f64, 1.0).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gamma<F> {
    concentration: F,
    rate: F,
}

impl<F: Real> Gamma<F> {
    /// Validated constructor.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] unless both parameters are finite and > 0.
    pub fn new(concentration: F, rate: F) -> Result<Self> {
        Ok(Self {
            concentration: check::positive("concentration", concentration)?,
            rate: check::positive("rate", rate)?,
        })
    }
    /// α.
    pub fn concentration(&self) -> F {
        self.concentration
    }
    /// β.
    pub fn rate(&self) -> F {
        self.rate
    }
}

impl<F: Real> Family<F> for Gamma<F> {
    const NAME: &'static str = "gamma";
    const PARAMS: &'static [&'static str] = &["concentration", "rate"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 2, p.len())?;
        Self::new(p[0], p[1])
    }

    #[inline]
    fn log_prob(&self, x: F) -> F {
        if x < F::zero() || x == F::infinity() {
            return F::neg_infinity();
        }
        let (a, b) = (self.concentration, self.rate);
        a * b.ln() - a.ln_gamma() + xlogy(a - F::one(), x) - b * x
    }

    #[inline]
    fn log_prob_grad(&self, x: F, grad: &mut [F]) -> F {
        let (a, b) = (self.concentration, self.rate);
        if x < F::zero() || x == F::infinity() {
            grad[0] = F::zero();
            grad[1] = F::zero();
            return F::neg_infinity();
        }
        grad[0] = b.ln() - a.digamma() + x.ln();
        grad[1] = a / b - x;
        self.log_prob(x)
    }

    fn entropy(&self) -> F {
        let a = self.concentration;
        a - self.rate.ln() + a.ln_gamma() + (F::one() - a) * a.digamma()
    }

    fn mean(&self) -> F {
        self.concentration / self.rate
    }

    fn variance(&self) -> F {
        self.concentration / (self.rate * self.rate)
    }
}

impl<F: Real> Gamma<F> {
    /// The cross-entropy E_p[−log q(X)] of this gamma q under a distribution p on x > 0 with
    /// `mean` = E_p[X] and `mean_log` = E_p[log X].
    pub(crate) fn cross_entropy(&self, mean: F, mean_log: F) -> F {
        let (a, b) = (self.concentration, self.rate);
        a.ln_gamma() - a * b.ln() - (a - F::one()) * mean_log + b * mean
    }
}

impl<F: Real> KlDivergence<Exponential<F>> for Gamma<F> {
    type Output = F;
    fn kl(&self, q: &Exponential<F>) -> F {
        q.cross_entropy(self.mean()) - self.entropy()
    }
}

impl<F: Real> KlDivergence<Gumbel<F>> for Gamma<F> {
    type Output = F;
    /// −H(Γ) + E[−log Gumbel(X)], with log E[e^{−X/b}] = −α log(1 + 1/(βb)).
    fn kl(&self, q: &Gumbel<F>) -> F {
        let log_mgf = -self.concentration * (self.rate * q.scale()).recip().ln_1p();
        q.cross_entropy(self.mean(), log_mgf) - self.entropy()
    }
}

crate::family::kl_infinite!(Gamma => Beta);

impl<F: Real> KlDivergence<Gamma<F>> for Gamma<F> {
    type Output = F;
    fn kl(&self, q: &Gamma<F>) -> F {
        let (a1, b1, a2, b2) = (self.concentration, self.rate, q.concentration, q.rate);
        a2 * (b1 / b2).ln() + a2.ln_gamma() - a1.ln_gamma() + (a1 - a2) * a1.digamma() + (b2 - b1) * (a1 / b1)
    }
}

impl<F: Real> KlDivergence<Normal<F>> for Gamma<F> {
    type Output = F;
    /// KL(Gamma ‖ Normal) = −H(Gamma) − E[log N(X)], with E\[X\] = α/β and Var X = α/β².
    fn kl(&self, q: &Normal<F>) -> F {
        q.cross_entropy(self.mean(), self.variance()) - self.entropy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(a, b, x) in &[(0.7, 1.5, 0.3), (2.5, 0.2, 8.0), (12.0, 3.0, 4.1)] {
            check_gradient::<Gamma<f64>>(&[a, b], x, 1e-7);
        }
    }

    #[test]
    fn density_integrates_to_one_and_entropy_is_expected_nll() {
        let d = Gamma::new(3.2, 1.7).unwrap();
        assert!((integrate_density(&d, 0.0, 40.0, 20000) - 1.0).abs() < 1e-10);
        assert!((integrate_entropy(&d, 0.0, 40.0, 20000) - d.entropy()).abs() < 1e-9);
        assert!((d.mean() - 3.2 / 1.7).abs() < 1e-15);
    }

    #[test]
    fn edges_at_zero_and_negative_values() {
        let one = Gamma::new(1.0f64, 2.0).unwrap();
        assert!((one.log_prob(0.0) - 2.0f64.ln()).abs() < 1e-15);
        assert_eq!(Gamma::new(0.5f64, 1.0).unwrap().log_prob(0.0), f64::INFINITY);
        assert_eq!(Gamma::new(2.0f64, 1.0).unwrap().log_prob(0.0), f64::NEG_INFINITY);
        assert_eq!(one.log_prob(-1.0), f64::NEG_INFINITY);
        assert_eq!(one.log_prob(f64::INFINITY), f64::NEG_INFINITY);
        assert!(Gamma::new(1.0f64, f64::INFINITY).is_err());
    }

    #[test]
    fn kl_gamma_gamma_vs_quadrature() {
        let p = Gamma::new(2.5f64, 1.5).unwrap();
        let q = Gamma::new(1.0f64, 0.5).unwrap();
        assert!(p.kl(&p).abs() < 1e-14);
        // mpmath quad of p·(log p − log q) over (0, ∞).
        assert!((p.kl(&q) - 0.201_997_712_496_388_65).abs() < 1e-13);
        assert!(q.kl(&p) > 0.0);
    }

    #[test]
    fn kl_gamma_normal_vs_quadrature() {
        let p = Gamma::new(3.0f64, 2.0).unwrap();
        let q = Normal::new(1.0f64, 0.8).unwrap();
        let quad = kl_by_quadrature(&p, &q, 0.0, 40.0, 40000);
        assert!((quad - p.kl(&q)).abs() < 1e-9, "{quad} vs {}", p.kl(&q));
        assert!(p.kl(&q) > 0.0);
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = Gamma::new(2.5f32, 1.5).unwrap();
        let d64 = Gamma::new(2.5f64, 1.5).unwrap();
        check_f32_agrees(&d32, &d64, &[1.2], 1e-6, 1e-6);
    }

    #[test]
    fn kl_to_exponential_and_gumbel_match_quadrature() {
        for p in [Gamma::new(2.5f64, 1.5).unwrap(), Gamma::new(0.7, 0.9).unwrap()] {
            let e = Exponential::new(0.8).unwrap();
            let quad = kl_by_log_quadrature(&p, &e, -60.0, 4.5, 40000);
            assert!((p.kl(&e) - quad).abs() < 1e-10, "{} vs {quad}", p.kl(&e));
            for q in [Gumbel::new(0.5, 1.5).unwrap(), Gumbel::new(-1.0, 0.6).unwrap()] {
                let quad = kl_by_log_quadrature(&p, &q, -60.0, 4.5, 40000);
                assert!((p.kl(&q) - quad).abs() < 1e-10, "{} vs {quad}", p.kl(&q));
            }
            assert_eq!(p.kl(&Beta::new(2.0, 1.0).unwrap()), f64::INFINITY);
        }
        // Gamma(1, λ) is Exp(λ).
        let one = Gamma::new(1.0f64, 0.8).unwrap();
        assert!(one.kl(&Exponential::new(0.8).unwrap()).abs() < 1e-15);
    }
}
