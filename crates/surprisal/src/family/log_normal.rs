//! The log-normal distribution: log X ~ N(μ, σ²), on x > 0.
//!
//! ```text
//! log p(x | μ, σ) = −log x − log σ − ½ log 2π − ½ z²,      z = (log x − μ)/σ, x > 0
//!                 = −inf for x ≤ 0
//! ∂/∂μ            = z / σ
//! ∂/∂σ            = (z² − 1) / σ
//! H               = μ + ½ + ½ log 2π + log σ
//! mean e^{μ + σ²/2}, variance (e^{σ²} − 1)·e^{2μ + σ²}
//! KL(LN(μ₁, σ₁) ‖ LN(μ₂, σ₂)) = KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²))     (KL is invariant under x ↦ log x)
//! ```
//!
//! Its NLL is the squared error of log x (the normal NLL of log x) plus the Jacobian term log x:
//! fitting μ by least squares on log-targets is maximum likelihood for this model.
//!
//! Edges: x ≤ 0 and x = +inf give −inf with zero gradient; NaN propagates.
//!
//! Reference: `torch.distributions.LogNormal(loc, scale)`, `scipy.stats.lognorm(s=scale,
//! scale=exp(loc))`.

use crate::divergence::KlDivergence;
use crate::error::{Result, check};
use crate::family::normal::HALF_LN_2PI;
use crate::family::{Family, Normal};
use crate::num::Real;

/// LogNormal(loc, scale) with `scale > 0`: the law of e^Y for Y ~ N(loc, scale²).
///
/// ```
/// use surprisal::family::{Family, LogNormal};
/// let d = LogNormal::new(0.5f64, 0.8).unwrap();
/// // mpmath: the log density at x = 2 and the entropy
/// assert!((d.log_prob(2.0) - -1.418087344761545938).abs() < 1e-15);
/// assert!((d.entropy() - 1.695794981890463042).abs() < 1e-15);
/// assert_eq!(d.log_prob(0.0), f64::NEG_INFINITY);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogNormal<F> {
    loc: F,
    scale: F,
}

impl<F: Real> LogNormal<F> {
    /// Validated constructor.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] if `loc` is not finite or `scale` is not finite and > 0.
    pub fn new(loc: F, scale: F) -> Result<Self> {
        Ok(Self { loc: check::finite("loc", loc)?, scale: check::positive("scale", scale)? })
    }
    /// μ, the mean of log X.
    pub fn loc(&self) -> F {
        self.loc
    }
    /// σ, the standard deviation of log X.
    pub fn scale(&self) -> F {
        self.scale
    }
}

impl<F: Real> Family<F> for LogNormal<F> {
    const NAME: &'static str = "log_normal";
    const PARAMS: &'static [&'static str] = &["loc", "scale"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 2, p.len())?;
        Self::new(p[0], p[1])
    }

    #[inline]
    fn log_prob(&self, x: F) -> F {
        if x <= F::zero() || x == F::infinity() {
            return F::neg_infinity();
        }
        let y = x.ln();
        let z = (y - self.loc) / self.scale;
        -y - F::lit(0.5) * z * z - self.scale.ln() - F::lit(HALF_LN_2PI)
    }

    #[inline]
    fn log_prob_grad(&self, x: F, grad: &mut [F]) -> F {
        if x <= F::zero() || x == F::infinity() {
            grad[0] = F::zero();
            grad[1] = F::zero();
            return F::neg_infinity();
        }
        let y = x.ln();
        let z = (y - self.loc) / self.scale;
        grad[0] = z / self.scale;
        grad[1] = (z * z - F::one()) / self.scale;
        -y - F::lit(0.5) * z * z - self.scale.ln() - F::lit(HALF_LN_2PI)
    }

    fn entropy(&self) -> F {
        self.loc + F::lit(0.5 + HALF_LN_2PI) + self.scale.ln()
    }

    fn mean(&self) -> F {
        (self.loc + F::lit(0.5) * self.scale * self.scale).exp()
    }

    fn variance(&self) -> F {
        let s2 = self.scale * self.scale;
        s2.exp_m1() * (F::lit(2.0) * self.loc + s2).exp()
    }
}

impl<F: Real> KlDivergence<LogNormal<F>> for LogNormal<F> {
    type Output = F;
    fn kl(&self, q: &LogNormal<F>) -> F {
        let n = |d: &LogNormal<F>| Normal::new(d.loc, d.scale).expect("validated parameters");
        n(self).kl(&n(q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(m, s, x) in &[(0.0, 1.0, 0.3), (1.5, 0.2, 3.0), (-4.0, 2.0, 10.0), (0.0, 0.5, 1e-5)] {
            check_gradient::<LogNormal<f64>>(&[m, s], x, 1e-8);
        }
    }

    #[test]
    fn density_integrates_to_one_and_entropy_and_mean_by_quadrature() {
        // Substitute x = eʸ (dx = eʸ dy) so the skewed density becomes a smooth one on ℝ.
        let d = LogNormal::new(0.3f64, 0.7).unwrap();
        let (lo, hi, n) = (-10.0, 10.6, 8000);
        let p = density(&d);
        let mass = simpson_substituted(&p, exp_substitution, lo, hi, n);
        let ent = simpson_substituted(entropy_density(&d), exp_substitution, lo, hi, n);
        let m1 = simpson_substituted(|x| x * p(x), exp_substitution, lo, hi, n);
        assert!((mass - 1.0).abs() < 1e-12);
        assert!((ent - d.entropy()).abs() < 1e-10);
        assert!((m1 - d.mean()).abs() < 1e-10);
    }

    #[test]
    fn out_of_support_gives_minus_inf() {
        let d = LogNormal::new(0.0f64, 1.0).unwrap();
        let mut g = [1.0; 2];
        for x in [-1.0, 0.0, f64::NEG_INFINITY, f64::INFINITY] {
            assert_eq!(d.log_prob(x), f64::NEG_INFINITY);
            assert_eq!(d.log_prob_grad(x, &mut g), f64::NEG_INFINITY);
            assert_eq!(g, [0.0; 2]);
        }
        assert!(d.log_prob(f64::NAN).is_nan());
        assert!(d.log_prob(1e300).is_finite() && d.log_prob(1e-300).is_finite());
        assert!((d.variance() - (1f64.exp() - 1.0) * 1f64.exp()).abs() < 1e-14);
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = LogNormal::new(0.5f32, 0.8).unwrap();
        let d64 = LogNormal::new(0.5f64, 0.8).unwrap();
        check_f32_agrees(&d32, &d64, &[0.01, 0.5, 3.0], 1e-5, 1e-6);
    }

    #[test]
    fn kl_matches_quadrature() {
        let p = LogNormal::new(0.2f64, 0.6).unwrap();
        assert!(p.kl(&p).abs() < 1e-15);
        for q in [LogNormal::new(-0.5, 1.1).unwrap(), LogNormal::new(1.0, 0.3).unwrap()] {
            let quad = kl_by_log_quadrature(&p, &q, -12.0, 8.0, 40000);
            assert!((p.kl(&q) - quad).abs() < 1e-10, "{} vs {quad}", p.kl(&q));
        }
    }
}
