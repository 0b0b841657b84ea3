//! The Weibull distribution with shape k and scale λ, on x ≥ 0 (scipy.stats.weibull_min).
//!
//! ```text
//! log p(x | k, λ) = log k − log λ + (k − 1) log t − tᵏ,      t = x/λ, x ≥ 0
//!                 = −inf for x < 0
//! ∂/∂k            = 1/k + log t · (1 − tᵏ)
//! ∂/∂λ            = k (tᵏ − 1) / λ
//! H               = γ(1 − 1/k) + log(λ/k) + 1                 (γ the Euler–Mascheroni constant)
//! mean λΓ(1 + 1/k), variance λ²(Γ(1 + 2/k) − Γ(1 + 1/k)²)
//! KL(W(k₁, λ₁) ‖ W(k₂, λ₂)) = −H₁ − log k₂ + k₂ log λ₂ − (k₂ − 1)(log λ₁ − γ/k₁)
//!                             + (λ₁/λ₂)^{k₂} Γ(1 + k₂/k₁)
//! ```
//!
//! k = 1 is the exponential distribution with rate 1/λ; k = 2 is the Rayleigh distribution. Its
//! NLL is the survival-analysis loss of a Weibull time-to-event model (uncensored events).
//!
//! Edges: at x = 0 the density is +inf for k < 1, 1/λ for k = 1 (the term (k − 1)·log 0 is taken
//! as 0) and 0 for k > 1; x < 0 and x = +inf give −inf with zero gradient; NaN propagates.
//!
//! Reference: `scipy.stats.weibull_min(c=shape, scale=scale)`; `torch.distributions.Weibull`
//! names the shape `concentration`.

use crate::divergence::KlDivergence;
use crate::error::{Result, check};
use crate::family::Family;
use crate::num::{Real, special::EULER_GAMMA, xlogy};

/// Weibull(shape, scale) with `shape > 0`, `scale > 0`.
///
/// ```
/// use surprisal::family::{Family, Weibull};
/// let d = Weibull::new(1.5f64, 2.0).unwrap();
/// // mpmath: log(k/λ) + (k − 1)·log(x/λ) − (x/λ)^k at x = 1, and γ(1 − 1/k) + log(λ/k) + 1
/// assert!((d.log_prob(1.0) - -0.9878090533250273443).abs() < 1e-15);
/// assert!((d.entropy() - 1.480087294085625214).abs() < 1e-15);
/// assert_eq!(d.log_prob(-1.0), f64::NEG_INFINITY);
/// assert!(Weibull::new(0.0f64, 1.0).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weibull<F> {
    shape: F,
    scale: F,
}

impl<F: Real> Weibull<F> {
    /// Validated constructor.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] if `shape` or `scale` is not finite and > 0.
    pub fn new(shape: F, scale: F) -> Result<Self> {
        Ok(Self { shape: check::positive("shape", shape)?, scale: check::positive("scale", scale)? })
    }
    /// k, the shape (torch's `concentration`).
    pub fn shape(&self) -> F {
        self.shape
    }
    /// λ, the scale.
    pub fn scale(&self) -> F {
        self.scale
    }
}

impl<F: Real> Family<F> for Weibull<F> {
    const NAME: &'static str = "weibull";
    const PARAMS: &'static [&'static str] = &["shape", "scale"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 2, p.len())?;
        Self::new(p[0], p[1])
    }

    #[inline]
    fn log_prob(&self, x: F) -> F {
        if x < F::zero() || x == F::infinity() {
            return F::neg_infinity();
        }
        let (k, t) = (self.shape, x / self.scale);
        (k / self.scale).ln() + xlogy(k - F::one(), t) - t.powf(k)
    }

    #[inline]
    fn log_prob_grad(&self, x: F, grad: &mut [F]) -> F {
        if x < F::zero() || x == F::infinity() {
            grad[0] = F::zero();
            grad[1] = F::zero();
            return F::neg_infinity();
        }
        let (k, t) = (self.shape, x / self.scale);
        let u = t.powf(k);
        grad[0] = k.recip() + t.ln() * (F::one() - u);
        grad[1] = k * (u - F::one()) / self.scale;
        (k / self.scale).ln() + xlogy(k - F::one(), t) - u
    }

    fn entropy(&self) -> F {
        let k = self.shape;
        F::lit(EULER_GAMMA) * (F::one() - k.recip()) + (self.scale / k).ln() + F::one()
    }

    fn mean(&self) -> F {
        self.scale * (F::one() + self.shape.recip()).ln_gamma().exp()
    }

    fn variance(&self) -> F {
        let k = self.shape;
        let g1 = (F::one() + k.recip()).ln_gamma();
        let g2 = (F::one() + F::lit(2.0) / k).ln_gamma();
        // Γ(1 + 2/k) − Γ(1 + 1/k)² = Γ(1 + 2/k)·(1 − e^{2 log Γ(1+1/k) − log Γ(1+2/k)}).
        self.scale * self.scale * g2.exp() * -(F::lit(2.0) * g1 - g2).exp_m1()
    }
}

impl<F: Real> KlDivergence<Weibull<F>> for Weibull<F> {
    type Output = F;
    /// −H(p) + E_p[−log q(X)], with E_p\[log X\] = log λ₁ − γ/k₁ and
    /// E_p\[(X/λ₂)^{k₂}\] = (λ₁/λ₂)^{k₂} Γ(1 + k₂/k₁) (taken through its log).
    fn kl(&self, q: &Weibull<F>) -> F {
        let (k1, l1, k2, l2) = (self.shape, self.scale, q.shape, q.scale);
        let mean_log = l1.ln() - F::lit(EULER_GAMMA) / k1;
        let moment = (k2 * (l1 / l2).ln() + (F::one() + k2 / k1).ln_gamma()).exp();
        -k2.ln() + k2 * l2.ln() - (k2 - F::one()) * mean_log + moment - self.entropy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(k, l, x) in &[(1.5, 2.0, 1.0), (0.6, 0.3, 0.05), (4.0, 7.0, 10.0), (1.0, 1.0, 3.0)] {
            check_gradient::<Weibull<f64>>(&[k, l], x, 1e-8);
        }
    }

    #[test]
    fn density_integrates_to_one_and_entropy_and_moments_by_quadrature() {
        // Substitute x = eʸ (dx = eʸ dy): the density behaves like x^{k−1} at 0, which Simpson on
        // x handles poorly, but p(eʸ)·eʸ is smooth and decays like e^{ky} as y → −∞.
        let d = Weibull::new(2.5f64, 1.3).unwrap();
        let (lo, hi, n) = (-30.0, 3.0, 8000);
        let p = density(&d);
        let mass = simpson_substituted(&p, exp_substitution, lo, hi, n);
        let ent = simpson_substituted(entropy_density(&d), exp_substitution, lo, hi, n);
        let m1 = simpson_substituted(|x| x * p(x), exp_substitution, lo, hi, n);
        let m2 = simpson_substituted(|x| x * x * p(x), exp_substitution, lo, hi, n);
        assert!((mass - 1.0).abs() < 1e-12);
        assert!((ent - d.entropy()).abs() < 1e-10);
        assert!((m1 - d.mean()).abs() < 1e-12);
        assert!((m2 - m1 * m1 - d.variance()).abs() < 1e-12);
    }

    #[test]
    fn shape_one_is_exponential() {
        let w = Weibull::new(1.0f64, 0.5).unwrap();
        let e = crate::family::Exponential::new(2.0f64).unwrap();
        for x in [0.0, 0.3, 4.0] {
            assert!((w.log_prob(x) - e.log_prob(x)).abs() < 1e-15);
        }
        assert!((w.entropy() - e.entropy()).abs() < 1e-15);
        assert!((w.variance() - e.variance()).abs() < 1e-15);
    }

    #[test]
    fn out_of_support_and_edges() {
        let d = Weibull::new(2.0f64, 1.0).unwrap();
        let mut g = [1.0; 2];
        for x in [-1.0, f64::NEG_INFINITY, f64::INFINITY] {
            assert_eq!(d.log_prob(x), f64::NEG_INFINITY);
            assert_eq!(d.log_prob_grad(x, &mut g), f64::NEG_INFINITY);
            assert_eq!(g, [0.0; 2]);
        }
        assert_eq!(d.log_prob(0.0), f64::NEG_INFINITY);
        assert_eq!(Weibull::new(0.5f64, 1.0).unwrap().log_prob(0.0), f64::INFINITY);
        assert!(d.log_prob(f64::NAN).is_nan());
        assert!(d.log_prob(1e200) == f64::NEG_INFINITY);
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = Weibull::new(1.7f32, 2.0).unwrap();
        let d64 = Weibull::new(1.7f64, 2.0).unwrap();
        check_f32_agrees(&d32, &d64, &[0.01, 0.5, 3.0], 1e-5, 1e-6);
    }

    #[test]
    fn kl_matches_quadrature() {
        for p in [Weibull::new(1.7f64, 2.0).unwrap(), Weibull::new(0.6, 1.3).unwrap()] {
            assert!(p.kl(&p).abs() < 1e-14, "{}", p.kl(&p));
            for q in [Weibull::new(0.8, 1.0).unwrap(), Weibull::new(3.0, 2.5).unwrap()] {
                let quad = kl_by_log_quadrature(&p, &q, -60.0, 8.0, 40000);
                assert!((p.kl(&q) - quad).abs() < 1e-10, "{} vs {quad}", p.kl(&q));
            }
        }
        // k = 1 is the exponential: the same divergence.
        let (a, b) = (Weibull::new(1.0f64, 2.0).unwrap(), Weibull::new(1.0, 0.5).unwrap());
        let ea = crate::family::Exponential::new(0.5f64).unwrap();
        assert!((a.kl(&b) - ea.kl(&crate::family::Exponential::new(2.0).unwrap())).abs() < 1e-14);
    }
}
