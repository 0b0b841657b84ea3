//! The Gumbel (maximum, type-I extreme value) distribution: scipy.stats.gumbel_r.
//!
//! ```text
//! log p(x | μ, β) = −z − e^{−z} − log β,      z = (x − μ)/β
//! ∂/∂μ            = (1 − e^{−z}) / β          (computed as −expm1(−z))
//! ∂/∂β            = (z(1 − e^{−z}) − 1) / β
//! H               = log β + γ + 1             (γ the Euler–Mascheroni constant)
//! mean μ + γβ, variance π²β²/6
//! KL(Gumbel(μ₁, β₁) ‖ Gumbel(μ₂, β₂)) = log(β₂/β₁) + (μ₁ − μ₂)/β₂ + γ(β₁/β₂ − 1)
//!                                      + e^{(μ₂−μ₁)/β₂} Γ(1 + β₁/β₂) − 1
//! E_p[−log Gumbel(X | μ, β)] = log β + (E_p[X] − μ)/β + e^{μ/β} E_p[e^{−X/β}]
//! ```
//!
//! KL pairs (those `torch.distributions.kl` registers): Gumbel‖Gumbel, Gumbel‖Normal, and +inf
//! to the Exponential, Gamma and Beta, whose support the Gumbel's exceeds; Normal‖Gumbel,
//! Exponential‖Gumbel and Gamma‖Gumbel live with their first family, through the Gumbel's
//! cross-entropy below.
//!
//! The maximum of many i.i.d. light-tailed variables is Gumbel; its NLL is a model for the loss
//! of block maxima. Softmax sampling (the Gumbel-max trick) uses its standard form.
//!
//! Edges: as z → −∞ the term e^{−z} dominates and overflows to +inf, giving log p = −inf (never
//! ∞ − ∞ = NaN); x = ±inf gives −inf with zero gradient; NaN propagates.
//!
//! Reference: `scipy.stats.gumbel_r`, `torch.distributions.Gumbel`.

use crate::divergence::KlDivergence;
use crate::error::{Result, check};
use crate::family::{Beta, Exponential, Family, Gamma, Normal};
use crate::num::{Real, special::EULER_GAMMA};

/// Gumbel(loc, scale) with `scale > 0` (the max-Gumbel, right-skewed).
///
/// ```
/// use surprisal::family::{Family, Gumbel};
/// let d = Gumbel::new(1.0f64, 2.0).unwrap();
/// // mpmath: z = −½, −z − e^{−z} − log 2; entropy log 2 + γ + 1
/// assert!((d.log_prob(0.0) - -1.841868451260073456).abs() < 1e-15);
/// assert!((d.entropy() - 2.270362845461478170).abs() < 1e-15);
/// assert!(Gumbel::new(0.0f64, f64::INFINITY).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gumbel<F> {
    loc: F,
    scale: F,
}

impl<F: Real> Gumbel<F> {
    /// Validated constructor.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] if `loc` is not finite or `scale` is not finite and > 0.
    pub fn new(loc: F, scale: F) -> Result<Self> {
        Ok(Self { loc: check::finite("loc", loc)?, scale: check::positive("scale", scale)? })
    }
    /// μ, the mode.
    pub fn loc(&self) -> F {
        self.loc
    }
    /// β.
    pub fn scale(&self) -> F {
        self.scale
    }

    /// The cross-entropy E_p[−log q(X)] of this Gumbel q under a distribution p with mean
    /// `mean` = E_p[X] and `log_mgf` = log E_p[e^{−X/β}]:
    /// log β + (E_p[X] − μ)/β + exp(μ/β + log E_p[e^{−X/β}]) (the exponent summed before `exp`,
    /// so that neither factor overflows alone).
    pub(crate) fn cross_entropy(&self, mean: F, log_mgf: F) -> F {
        let (m, b) = (self.loc, self.scale);
        b.ln() + (mean - m) / b + (m / b + log_mgf).exp()
    }
}

impl<F: Real> KlDivergence<Gumbel<F>> for Gumbel<F> {
    type Output = F;
    fn kl(&self, q: &Gumbel<F>) -> F {
        // X = μ₁ + β₁G with G standard Gumbel: E[e^{−tG}] = Γ(1 + t), t = β₁/β₂.
        let t = self.scale / q.scale;
        let log_mgf = -self.loc / q.scale + (F::one() + t).ln_gamma();
        q.cross_entropy(self.mean(), log_mgf) - self.entropy()
    }
}

impl<F: Real> KlDivergence<Normal<F>> for Gumbel<F> {
    type Output = F;
    /// KL(Gumbel ‖ Normal) = −H(Gumbel) + E[−log N(X)], with the Gumbel's mean and variance.
    fn kl(&self, q: &Normal<F>) -> F {
        q.cross_entropy(self.mean(), self.variance()) - self.entropy()
    }
}

crate::family::kl_infinite!(Gumbel => Exponential, Gamma, Beta);

impl<F: Real> Family<F> for Gumbel<F> {
    const NAME: &'static str = "gumbel";
    const PARAMS: &'static [&'static str] = &["loc", "scale"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 2, p.len())?;
        Self::new(p[0], p[1])
    }

    #[inline]
    fn log_prob(&self, x: F) -> F {
        let z = (x - self.loc) / self.scale;
        if z == F::neg_infinity() {
            return z;
        }
        -z - (-z).exp() - self.scale.ln()
    }

    #[inline]
    fn log_prob_grad(&self, x: F, grad: &mut [F]) -> F {
        let z = (x - self.loc) / self.scale;
        if z.is_infinite() {
            grad[0] = F::zero();
            grad[1] = F::zero();
            return F::neg_infinity();
        }
        let one_m = -(-z).exp_m1();
        grad[0] = one_m / self.scale;
        grad[1] = (z * one_m - F::one()) / self.scale;
        -z - (-z).exp() - self.scale.ln()
    }

    fn entropy(&self) -> F {
        self.scale.ln() + F::lit(EULER_GAMMA + 1.0)
    }

    fn mean(&self) -> F {
        self.loc + F::lit(EULER_GAMMA) * self.scale
    }

    fn variance(&self) -> F {
        let ps = F::PI() * self.scale;
        ps * ps / F::lit(6.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(m, s, x) in &[(0.0, 1.0, 0.3), (1.5, 0.2, 0.9), (-4.0, 7.0, 10.0), (0.0, 1.0, 30.0)] {
            check_gradient::<Gumbel<f64>>(&[m, s], x, 1e-8);
        }
    }

    #[test]
    fn density_integrates_to_one_and_entropy_and_mean_by_quadrature() {
        let d = Gumbel::new(0.7f64, 1.3).unwrap();
        let (lo, hi) = (-10.0, 60.0);
        assert!((integrate_density(&d, lo, hi, 8000) - 1.0).abs() < 1e-12);
        assert!((integrate_entropy(&d, lo, hi, 8000) - d.entropy()).abs() < 1e-10);
        let m = integrate_moment(&d, 1, lo, hi, 8000);
        assert!((m - d.mean()).abs() < 1e-10);
    }

    #[test]
    fn huge_and_infinite_values() {
        let d = Gumbel::new(0.0f64, 1.0).unwrap();
        let mut g = [0.0; 2];
        for x in [f64::INFINITY, f64::NEG_INFINITY, -1e3] {
            assert_eq!(d.log_prob(x), f64::NEG_INFINITY, "x = {x}");
            assert!(!d.log_prob_grad(x, &mut g).is_nan());
        }
        assert!(Gumbel::new(0.0f32, 1.0).unwrap().log_prob(f32::NEG_INFINITY) == f32::NEG_INFINITY);
        assert_eq!(d.log_prob(1e6), -1e6);
        assert!(d.log_prob(f64::NAN).is_nan());
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = Gumbel::new(0.5f32, 2.0).unwrap();
        let d64 = Gumbel::new(0.5f64, 2.0).unwrap();
        check_f32_agrees(&d32, &d64, &[-3.0, 0.5, 30.0], 1e-5, 1e-6);
    }

    #[test]
    fn kl_pairs_match_quadrature() {
        let p = Gumbel::new(0.3f64, 1.2).unwrap();
        assert!(p.kl(&p).abs() < 1e-14);
        for q in [Gumbel::new(-0.5, 0.7).unwrap(), Gumbel::new(2.0, 3.0).unwrap()] {
            let quad = kl_by_quadrature(&p, &q, -8.0, 60.0, 40000);
            assert!((p.kl(&q) - quad).abs() < 1e-10, "{} vs {quad}", p.kl(&q));
        }
        let n = Normal::new(1.0, 2.5).unwrap();
        let quad = kl_by_quadrature(&p, &n, -8.0, 60.0, 40000);
        assert!((p.kl(&n) - quad).abs() < 1e-10, "{} vs {quad}", p.kl(&n));
        // Far apart the exponential term is large but finite.
        let far = Gumbel::new(30.0, 1.0).unwrap();
        assert!(p.kl(&far).is_finite() && p.kl(&far) > 1e12);
        assert_eq!(p.kl(&Exponential::new(1.0).unwrap()), f64::INFINITY);
        assert_eq!(p.kl(&Gamma::new(2.0, 1.0).unwrap()), f64::INFINITY);
        assert_eq!(p.kl(&Beta::new(2.0, 1.0).unwrap()), f64::INFINITY);
    }
}
