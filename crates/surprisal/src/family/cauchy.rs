//! The Cauchy distribution (Student's t with one degree of freedom).
//!
//! ```text
//! log p(x | μ, γ) = −log π − log γ − log(1 + z²),     z = (x − μ)/γ
//! ∂/∂μ            = 2z / (γ(1 + z²))
//! ∂/∂γ            = (2z²/(1 + z²) − 1) / γ
//! H               = log 4πγ
//! mean and variance do not exist: mean NaN, variance +inf (as torch)
//! KL(C(μ₁, γ₁) ‖ C(μ₂, γ₂)) = log(((γ₁ + γ₂)² + (μ₁ − μ₂)²) / (4γ₁γ₂))     (symmetric)
//! ```
//!
//! Its NLL is the log-squared ("Cauchy" or Lorentzian) robust loss log(1 + z²) up to constants.
//!
//! Stability: log(1 + z²) is computed without overflowing z²; x = ±inf gives −inf with zero
//! gradient; NaN propagates.
//!
//! Reference: `torch.distributions.Cauchy`, `scipy.stats.cauchy`.

use crate::divergence::KlDivergence;
use crate::error::{Result, check};
use crate::family::Family;
use crate::family::student_t::log1p_sq;
use crate::num::Real;

/// Cauchy(loc, scale) with `scale > 0`.
///
/// ```
/// use surprisal::family::{Cauchy, Family};
/// let d = Cauchy::new(1.0f64, 2.0).unwrap();
/// // mpmath: -log(2π) - log1p(1/4) and log(8π)
/// assert!((d.log_prob(0.0) - -2.061020617723555239).abs() < 1e-15);
/// assert!((d.entropy() - 3.224171427529236102).abs() < 1e-15);
/// assert!(Cauchy::new(0.0f64, -1.0).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cauchy<F> {
    loc: F,
    scale: F,
}

impl<F: Real> Cauchy<F> {
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
    /// γ, the scale (half width at half maximum).
    pub fn scale(&self) -> F {
        self.scale
    }
}

impl<F: Real> Family<F> for Cauchy<F> {
    const NAME: &'static str = "cauchy";
    const PARAMS: &'static [&'static str] = &["loc", "scale"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 2, p.len())?;
        Self::new(p[0], p[1])
    }

    #[inline]
    fn log_prob(&self, x: F) -> F {
        let z = (x - self.loc) / self.scale;
        -log1p_sq(z) - (F::PI() * self.scale).ln()
    }

    #[inline]
    fn log_prob_grad(&self, x: F, grad: &mut [F]) -> F {
        let z = (x - self.loc) / self.scale;
        if z.is_infinite() {
            grad[0] = F::zero();
            grad[1] = F::zero();
            return F::neg_infinity();
        }
        let z2 = z * z;
        // r = z²/(1 + z²), finite when z² overflows.
        let r = if z2 == F::zero() { F::zero() } else { F::one() / (F::one() + z2.recip()) };
        grad[0] = F::lit(2.0) * z / (F::one() + z2) / self.scale;
        grad[1] = (F::lit(2.0) * r - F::one()) / self.scale;
        -log1p_sq(z) - (F::PI() * self.scale).ln()
    }

    fn entropy(&self) -> F {
        (F::lit(4.0) * F::PI() * self.scale).ln()
    }

    fn mean(&self) -> F {
        F::nan()
    }

    fn variance(&self) -> F {
        F::infinity()
    }
}

impl<F: Real> KlDivergence<Cauchy<F>> for Cauchy<F> {
    type Output = F;
    /// Chyzak & Nielsen's closed form, written in ratios to the scales' product so that it
    /// neither overflows nor loses the small values: log(1 + ((γ₁ − γ₂)² + (μ₁ − μ₂)²)/(4γ₁γ₂)).
    fn kl(&self, q: &Cauchy<F>) -> F {
        let g = (self.scale * q.scale).sqrt();
        let (ds, dm) = ((self.scale - q.scale) / g, (self.loc - q.loc) / g);
        (F::lit(0.25) * (ds * ds + dm * dm)).ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::StudentT;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(m, s, x) in &[(0.0, 1.0, 0.3), (1.5, 0.2, -3.0), (-4.0, 7.0, 10.0), (0.0, 1.0, 400.0)] {
            check_gradient::<Cauchy<f64>>(&[m, s], x, 1e-8);
        }
    }

    #[test]
    fn density_integrates_to_one_and_entropy_is_expected_nll() {
        // x = μ + γ sinh t (dx = γ cosh t dt): the integrand decays like e^{−|t|}.
        let d = Cauchy::new(0.3f64, 1.4).unwrap();
        let (lo, hi, n) = (-45.0, 45.0, 20000);
        let phi = |t: f64| (0.3 + 1.4 * t.sinh(), 1.4 * t.cosh());
        let mass = simpson_substituted(density(&d), phi, lo, hi, n);
        let ent = simpson_substituted(entropy_density(&d), phi, lo, hi, n);
        assert!((mass - 1.0).abs() < 1e-12);
        assert!((ent - d.entropy()).abs() < 1e-10);
    }

    #[test]
    fn is_student_t_with_one_degree_of_freedom() {
        let c = Cauchy::new(0.5f64, 2.0).unwrap();
        let t = StudentT::new(1.0f64, 0.5, 2.0).unwrap();
        for x in [-100.0, 0.0, 0.5, 3.0] {
            assert!((c.log_prob(x) - t.log_prob(x)).abs() < 1e-14);
        }
        assert!((c.entropy() - t.entropy()).abs() < 1e-13);
        assert!(c.mean().is_nan() && c.variance() == f64::INFINITY);
    }

    #[test]
    fn huge_and_infinite_values() {
        let d = Cauchy::new(0.0f64, 1.0).unwrap();
        let mut g = [0.0; 2];
        check_infinite_x_gives_minus_inf(&d);
        let lp = d.log_prob_grad(1e200, &mut g);
        assert!((lp - (-400.0 * 10f64.ln() - std::f64::consts::PI.ln())).abs() < 1e-12);
        assert!((g[1] - 1.0).abs() < 1e-15 && g[0] >= 0.0);
        assert!(Cauchy::new(0.0f32, 1.0).unwrap().log_prob(1e30).is_finite());
        assert!(d.log_prob(f64::NAN).is_nan());
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = Cauchy::new(0.5f32, 2.0).unwrap();
        let d64 = Cauchy::new(0.5f64, 2.0).unwrap();
        check_f32_agrees(&d32, &d64, &[-30.0, 0.5, 3.0], 1e-6, 1e-6);
    }

    #[test]
    fn kl_matches_quadrature_and_is_symmetric() {
        let p = Cauchy::new(0.3f64, 1.2).unwrap();
        assert_eq!(p.kl(&p), 0.0);
        for q in [Cauchy::new(-2.0, 0.5).unwrap(), Cauchy::new(1.0, 7.0).unwrap()] {
            // x = μ₁ + γ₁ tan θ: p dx = dθ/π, and log(p/q) stays bounded as θ → ±π/2.
            let half = std::f64::consts::FRAC_PI_2 - 1e-10;
            let phi = |t: f64| (0.3 + 1.2 * t.tan(), 1.2 / t.cos().powi(2));
            let f = |x: f64| {
                let lp = p.log_prob(x);
                lp.exp() * (lp - q.log_prob(x))
            };
            let quad = simpson_substituted(f, phi, -half, half, 200000);
            assert!((p.kl(&q) - quad).abs() < 1e-9, "{} vs {quad}", p.kl(&q));
            assert!((p.kl(&q) - q.kl(&p)).abs() < 1e-15);
        }
        // Nearby: the log1p form keeps the small divergence's digits (mpmath: log(1 + 1e-20/5.76)).
        let (a, b) = (Cauchy::new(0.0f64, 1.2).unwrap(), Cauchy::new(1e-10, 1.2).unwrap());
        assert!((a.kl(&b) / 1.736_111_111_111_111e-21 - 1.0).abs() < 1e-14);
    }
}
