//! The asymmetric Laplace distribution in its quantile parametrisation: the model whose NLL is
//! the pinball (quantile) loss.
//!
//! ```text
//! p(x | μ, σ, τ)  = τ(1 − τ)/σ · exp(−ρ_τ(z)),     z = (x − μ)/σ,  ρ_τ(u) = u·(τ − 1{u < 0})
//! −log p          = ρ_τ(z) + log σ − log(τ(1 − τ))   (pinball loss of the residual, scaled)
//! ∂ log p/∂μ      = (τ − 1{z < 0}) / σ             (τ at z = 0: the right derivative)
//! ∂ log p/∂σ      = (ρ_τ(z) − 1) / σ
//! ∂ log p/∂τ      = 1/τ − 1/(1 − τ) − z
//! H               = 1 + log σ − log(τ(1 − τ))      (E[ρ_τ(Z)] = 1)
//! mean μ + σ(1 − 2τ)/(τ(1 − τ)), variance σ²(1 − 2τ + 2τ²)/(τ²(1 − τ)²)
//! ```
//!
//! μ is the τ-quantile of the distribution, so maximising this likelihood in μ is quantile
//! regression: with σ fixed, the NLL is the pinball loss ρ_τ(x − μ)/σ plus a constant.
//! τ = ½ is the Laplace distribution with scale 2σ.
//!
//! Edges: x = ±inf gives −inf with zero gradient; NaN propagates.
//!
//! Reference: the conformance family `asymmetric_laplace_quantile` (Koenker & Machado 1999;
//! Yu & Moyeed 2001). `scipy.stats.laplace_asymmetric` uses another parametrisation (κ).

use crate::error::{Result, check};
use crate::family::Family;
use crate::num::Real;

/// AsymmetricLaplace(loc, scale, quantile) with `scale > 0` and `0 < quantile < 1`.
///
/// ```
/// use surprisal::family::{AsymmetricLaplace, Family};
/// let d = AsymmetricLaplace::new(1.0f64, 2.0, 0.25).unwrap();
/// // mpmath: log(τ(1 − τ)/σ) − ρ_τ((x − μ)/σ) at x = 0 and x = 3; entropy 1 + log σ − log τ(1 − τ)
/// assert!((d.log_prob(0.0) - -2.742123614131616856).abs() < 1e-15);
/// assert!((d.log_prob(3.0) - -2.617123614131616856).abs() < 1e-15);
/// assert!((d.entropy() - 3.367123614131616856).abs() < 1e-15);
/// assert!(AsymmetricLaplace::new(0.0f64, 1.0, 1.0).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AsymmetricLaplace<F> {
    loc: F,
    scale: F,
    quantile: F,
}

impl<F: Real> AsymmetricLaplace<F> {
    /// Validated constructor.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] if `loc` is not finite, `scale` is not finite and > 0, or
    /// `quantile` is not in the open interval (0, 1).
    pub fn new(loc: F, scale: F, quantile: F) -> Result<Self> {
        Ok(Self {
            loc: check::finite("loc", loc)?,
            scale: check::positive("scale", scale)?,
            quantile: check::in_open("quantile", quantile, 0.0, 1.0, "must be in (0, 1)")?,
        })
    }
    /// μ, the τ-quantile.
    pub fn loc(&self) -> F {
        self.loc
    }
    /// σ.
    pub fn scale(&self) -> F {
        self.scale
    }
    /// τ, the quantile level.
    pub fn quantile(&self) -> F {
        self.quantile
    }

    /// log(τ(1 − τ)/σ), the log density at the mode.
    #[inline]
    fn log_norm(&self) -> F {
        self.quantile.ln() + (-self.quantile).ln_1p() - self.scale.ln()
    }
}

/// The pinball (check) function ρ_τ(u) = u·(τ − 1{u < 0}) ≥ 0.
#[inline]
fn pinball<F: Real>(u: F, tau: F) -> F {
    if u < F::zero() { u * (tau - F::one()) } else { u * tau }
}

impl<F: Real> Family<F> for AsymmetricLaplace<F> {
    const NAME: &'static str = "asymmetric_laplace_quantile";
    const PARAMS: &'static [&'static str] = &["loc", "scale", "quantile"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 3, p.len())?;
        Self::new(p[0], p[1], p[2])
    }

    #[inline]
    fn log_prob(&self, x: F) -> F {
        let z = (x - self.loc) / self.scale;
        self.log_norm() - pinball(z, self.quantile)
    }

    #[inline]
    fn log_prob_grad(&self, x: F, grad: &mut [F]) -> F {
        let (s, tau) = (self.scale, self.quantile);
        let z = (x - self.loc) / s;
        if z.is_infinite() {
            grad.iter_mut().for_each(|g| *g = F::zero());
            return F::neg_infinity();
        }
        let rho = pinball(z, tau);
        let slope = if z < F::zero() { tau - F::one() } else { tau };
        grad[0] = slope / s;
        grad[1] = (rho - F::one()) / s;
        grad[2] = tau.recip() - (F::one() - tau).recip() - z;
        self.log_norm() - rho
    }

    fn entropy(&self) -> F {
        F::one() - self.log_norm()
    }

    fn mean(&self) -> F {
        let tau = self.quantile;
        self.loc + self.scale * (F::one() - F::lit(2.0) * tau) / (tau * (F::one() - tau))
    }

    fn variance(&self) -> F {
        let tau = self.quantile;
        let t1 = tau * (F::one() - tau);
        let s = self.scale / t1;
        s * s * (F::one() - F::lit(2.0) * t1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::Laplace;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(m, s, t, x) in
            &[(0.0, 1.0, 0.3, 0.4), (1.5, 0.2, 0.9, -3.0), (-4.0, 7.0, 0.05, 10.0), (0.0, 1.0, 0.5, -0.2)]
        {
            check_gradient::<AsymmetricLaplace<f64>>(&[m, s, t], x, 1e-8);
        }
    }

    #[test]
    fn density_integrates_to_one_and_entropy_and_moments_by_quadrature() {
        let d = AsymmetricLaplace::new(0.5f64, 0.8, 0.2).unwrap();
        // The kink at loc is a panel boundary; the left tail decays at rate 0.8/0.8 = 1,
        // the right at 0.2/0.8.
        let (l, r, n) = ((-49.5, 0.5), (0.5, 200.5), 20000);
        let mass = integrate_density(&d, l.0, l.1, n) + integrate_density(&d, r.0, r.1, n);
        assert!((mass - 1.0).abs() < 1e-10);
        let h = integrate_entropy(&d, l.0, l.1, n) + integrate_entropy(&d, r.0, r.1, n);
        assert!((h - d.entropy()).abs() < 1e-9);
        let moment = |k: i32| integrate_moment(&d, k, l.0, l.1, n) + integrate_moment(&d, k, r.0, r.1, n);
        let (m1, m2) = (moment(1), moment(2));
        assert!((m1 - d.mean()).abs() < 1e-8);
        assert!((m2 - m1 * m1 - d.variance()).abs() < 1e-6);
    }

    #[test]
    fn nll_is_pinball_loss_plus_constant() {
        let (tau, s) = (0.3, 1.7);
        let d = AsymmetricLaplace::new(0.2f64, s, tau).unwrap();
        for x in [-4.0, 0.2, 0.5, 9.0] {
            let u: f64 = x - 0.2;
            let pin = if u < 0.0 { (tau - 1.0) * u } else { tau * u };
            let want = pin / s + s.ln() - (tau * (1.0 - tau)).ln();
            assert!((-d.log_prob(x) - want).abs() < 1e-14);
        }
    }

    #[test]
    fn median_case_is_laplace() {
        let a = AsymmetricLaplace::new(0.3f64, 0.5, 0.5).unwrap();
        let l = Laplace::new(0.3f64, 1.0).unwrap();
        for x in [-2.0, 0.3, 4.0] {
            assert!((a.log_prob(x) - l.log_prob(x)).abs() < 1e-15);
        }
        assert!((a.entropy() - l.entropy()).abs() < 1e-15);
        assert!((a.variance() - l.variance()).abs() < 1e-15);
    }

    #[test]
    fn infinite_values_give_minus_inf_not_nan() {
        let d = AsymmetricLaplace::new(0.0f64, 1.0, 0.1).unwrap();
        check_infinite_x_gives_minus_inf(&d);
        assert!(d.log_prob(f64::NAN).is_nan());
        assert!(AsymmetricLaplace::new(0.0f64, 1.0, 0.0).is_err());
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = AsymmetricLaplace::new(0.5f32, 2.0, 0.8).unwrap();
        let d64 = AsymmetricLaplace::new(0.5f64, 2.0, 0.8).unwrap();
        check_f32_agrees(&d32, &d64, &[-3.0, 0.5, 3.0], 1e-6, 1e-6);
    }
}
