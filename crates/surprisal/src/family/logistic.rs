//! The logistic distribution (scipy.stats.logistic).
//!
//! ```text
//! log p(x | μ, s) = −z − 2 log(1 + e^{−z}) − log s       z = (x − μ)/s
//!                 = −|z| − 2 log1p(e^{−|z|}) − log s     (symmetric form used here)
//! ∂/∂μ            = tanh(z/2) / s                         (= (2σ(z) − 1)/s, σ the sigmoid)
//! ∂/∂s            = (z·tanh(z/2) − 1) / s
//! H               = log s + 2
//! mean μ, variance π²s²/3
//! ```
//!
//! Its CDF is the sigmoid σ(z); the NLL grows like |z| in the tails, like the Laplace NLL, and is
//! smooth at the centre (the "log-cosh"-like robust loss: −log p = 2 log cosh(z/2) + log 4s).
//!
//! Edges: x = ±inf gives −inf with zero gradient; NaN propagates.
//!
//! Reference: `scipy.stats.logistic`; torch has no logistic distribution (it builds one as a
//! `TransformedDistribution` of a uniform).

use crate::error::{Result, check};
use crate::family::Family;
use crate::num::Real;

/// Logistic(loc, scale) with `scale > 0`.
///
/// ```
/// use surprisal::family::{Family, Logistic};
/// let d = Logistic::new(1.0f64, 2.0).unwrap();
/// // mpmath: z = −½, −z − log 2 − 2·log1p(e^{−z}); entropy log 2 + 2
/// assert!((d.log_prob(0.0) - -2.141301148920158671).abs() < 1e-15);
/// assert!((d.entropy() - 2.693147180559945309).abs() < 1e-15);
/// assert!(Logistic::new(f64::NAN, 1.0).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Logistic<F> {
    loc: F,
    scale: F,
}

impl<F: Real> Logistic<F> {
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
    /// s.
    pub fn scale(&self) -> F {
        self.scale
    }
}

impl<F: Real> Family<F> for Logistic<F> {
    const NAME: &'static str = "logistic";
    const PARAMS: &'static [&'static str] = &["loc", "scale"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 2, p.len())?;
        Self::new(p[0], p[1])
    }

    #[inline]
    fn log_prob(&self, x: F) -> F {
        let a = ((x - self.loc) / self.scale).abs();
        // e^{−|z|} ≤ 1 never overflows.
        -a - F::lit(2.0) * (-a).exp().ln_1p() - self.scale.ln()
    }

    #[inline]
    fn log_prob_grad(&self, x: F, grad: &mut [F]) -> F {
        let z = (x - self.loc) / self.scale;
        if z.is_infinite() {
            grad[0] = F::zero();
            grad[1] = F::zero();
            return F::neg_infinity();
        }
        let t = (F::lit(0.5) * z).tanh();
        grad[0] = t / self.scale;
        grad[1] = (z * t - F::one()) / self.scale;
        let a = z.abs();
        -a - F::lit(2.0) * (-a).exp().ln_1p() - self.scale.ln()
    }

    fn entropy(&self) -> F {
        self.scale.ln() + F::lit(2.0)
    }

    fn mean(&self) -> F {
        self.loc
    }

    fn variance(&self) -> F {
        let ps = F::PI() * self.scale;
        ps * ps / F::lit(3.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(m, s, x) in &[(0.0, 1.0, 0.3), (1.5, 0.2, -3.0), (-4.0, 7.0, 10.0), (0.0, 1.0, -60.0)] {
            check_gradient::<Logistic<f64>>(&[m, s], x, 1e-8);
        }
    }

    #[test]
    fn density_integrates_to_one_and_entropy_is_expected_nll() {
        let d = Logistic::new(0.7f64, 1.3).unwrap();
        assert!((integrate_density(&d, -60.0, 61.0, 8000) - 1.0).abs() < 1e-12);
        assert!((integrate_entropy(&d, -60.0, 61.0, 8000) - d.entropy()).abs() < 1e-10);
    }

    #[test]
    fn variance_by_quadrature() {
        let d = Logistic::new(0.0f64, 1.3).unwrap();
        let m2 = integrate_moment(&d, 2, -80.0, 80.0, 8000);
        assert!((m2 - d.variance()).abs() < 1e-9);
    }

    #[test]
    fn huge_and_infinite_values() {
        let d = Logistic::new(0.0f64, 1.0).unwrap();
        let mut g = [0.0; 2];
        check_infinite_x_gives_minus_inf(&d);
        assert_eq!(d.log_prob(-1e6), -1e6);
        assert_eq!(d.log_prob_grad(1e6, &mut g), -1e6);
        assert_eq!(g[0], 1.0);
        assert!(d.log_prob(f64::NAN).is_nan());
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = Logistic::new(0.5f32, 2.0).unwrap();
        let d64 = Logistic::new(0.5f64, 2.0).unwrap();
        check_f32_agrees(&d32, &d64, &[-30.0, 0.5, 3.0], 1e-5, 1e-6);
    }
}
