//! The inverse Gaussian (Wald) distribution IG(μ, λ) with mean μ and shape λ.
//!
//! ```text
//! log p(x | μ, λ) = ½ log λ − ½ log 2π − (3/2) log x − λ (x − μ)² / (2μ² x),     x > 0
//! ∂/∂μ            = λ (x − μ) / μ³
//! ∂/∂λ            = 1/(2λ) − (x − μ)² / (2μ² x)
//! H               = ½ + ½ log(2π/λ) + (3/2) E[log X],
//! E[log X]        = log μ − e^{2λ/μ} E₁(2λ/μ)                (E₁ the exponential integral)
//! mean μ, variance μ³/λ
//! KL(IG(μ₁, λ₁) ‖ IG(μ₂, λ₂)) = ½ log(λ₁/λ₂) + λ₂(μ₁ − μ₂)²/(2μ₁μ₂²) + λ₂/(2λ₁) − ½
//! ```
//!
//! (The KL follows from E\[X\] = μ₁, E\[1/X\] = 1/μ₁ + 1/λ₁; the E\[log X\] terms cancel.)
//!
//! Model: first-passage time of a Brownian motion with drift; the GLM family with variance
//! function μ³. The entropy uses E[(X − μ)²/X] = μ²/λ and the derivative of the Bessel function
//! K_ν(z) in its order at ν = −½. Edges: x ≤ 0 and x = +inf give −inf.
//!
//! Reference: `scipy.stats.invgauss(mu=μ/λ, scale=λ)`.

use crate::divergence::KlDivergence;
use crate::error::{Result, check};
use crate::family::Family;
use crate::family::normal::HALF_LN_2PI;
use crate::num::Real;

/// IG(mean μ > 0, shape λ > 0).
///
/// ```
/// use surprisal::family::{Family, InverseGaussian};
/// let d = InverseGaussian::new(2.0f64, 3.0).unwrap();
/// // mpmath: the log density at 1.5, and the entropy by quadrature of −p log p
/// assert!((d.log_prob(1.5) - -1.040330051032864469).abs() < 1e-14);
/// assert!((d.entropy() - 1.516227549327558116).abs() < 1e-13);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InverseGaussian<F> {
    mean: F,
    shape: F,
}

impl<F: Real> InverseGaussian<F> {
    /// Validated constructor.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] unless `mean` and `shape` are finite and > 0.
    pub fn new(mean: F, shape: F) -> Result<Self> {
        Ok(Self { mean: check::positive("mean", mean)?, shape: check::positive("shape", shape)? })
    }
    /// μ.
    pub fn mean_param(&self) -> F {
        self.mean
    }
    /// λ.
    pub fn shape(&self) -> F {
        self.shape
    }
}

impl<F: Real> Family<F> for InverseGaussian<F> {
    const NAME: &'static str = "inverse_gaussian";
    const PARAMS: &'static [&'static str] = &["mean", "shape"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 2, p.len())?;
        Self::new(p[0], p[1])
    }

    #[inline]
    fn log_prob(&self, x: F) -> F {
        if x.is_nan() {
            return x;
        }
        if x <= F::zero() || x == F::infinity() {
            return F::neg_infinity();
        }
        let (m, l) = (self.mean, self.shape);
        // (x − μ)²/(μ² x) written as (x/μ − 1)²/x to stay finite for large μ.
        let r = x / m - F::one();
        F::lit(0.5) * l.ln() - F::lit(HALF_LN_2PI) - F::lit(1.5) * x.ln() - F::lit(0.5) * l * r * r / x
    }

    #[inline]
    fn log_prob_grad(&self, x: F, grad: &mut [F]) -> F {
        let lp = self.log_prob(x);
        if lp == F::neg_infinity() {
            grad[0] = F::zero();
            grad[1] = F::zero();
            return lp;
        }
        let (m, l) = (self.mean, self.shape);
        let r = x / m - F::one();
        grad[0] = l * r / (m * m);
        grad[1] = F::lit(0.5) / l - F::lit(0.5) * r * r / x;
        lp
    }

    fn entropy(&self) -> F {
        let (m, l) = (self.mean, self.shape);
        let z = (F::lit(2.0) * l / m).to_f64_lossy();
        let e_log_x = m.ln() - F::lit(exp_e1(z));
        F::lit(0.5 + HALF_LN_2PI) - F::lit(0.5) * l.ln() + F::lit(1.5) * e_log_x
    }

    fn mean(&self) -> F {
        self.mean
    }

    fn variance(&self) -> F {
        self.mean * self.mean * self.mean / self.shape
    }
}

/// eˣ·E₁(x) for x > 0, E₁(x) = ∫₁^∞ e^{−xt}/t dt: the power series for x < 1, the continued
/// fraction (modified Lentz) otherwise; eˣE₁(x) → 1/x as x → ∞, so +inf maps to 0.
fn exp_e1(x: f64) -> f64 {
    if x == f64::INFINITY {
        return 0.0;
    }
    if x < 1.0 {
        // E₁(x) = −γ − log x − Σ_{k≥1} (−x)^k / (k·k!)
        let mut term = 1.0;
        let mut sum = 0.0;
        for k in 1..60 {
            term *= -x / k as f64;
            let t = term / k as f64;
            sum += t;
            if t.abs() < 1e-17 * sum.abs() {
                break;
            }
        }
        return x.exp() * (-crate::num::special::EULER_GAMMA - x.ln() - sum);
    }
    let tiny = 1e-300;
    let mut b = x + 1.0;
    let mut c = 1.0 / tiny;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..500 {
        let an = -((i * i) as f64);
        b += 2.0;
        d = 1.0 / (an * d + b);
        c = b + an / c;
        let del = c * d;
        h *= del;
        if (del - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

impl<F: Real> KlDivergence<InverseGaussian<F>> for InverseGaussian<F> {
    type Output = F;
    fn kl(&self, q: &InverseGaussian<F>) -> F {
        let (m1, l1, m2, l2) = (self.mean, self.shape, q.mean, q.shape);
        let half = F::lit(0.5);
        let d = (m1 - m2) / m2;
        let r = l2 / l1;
        // ½(r − 1 − log r) ≥ 0 plus the mean term λ₂(μ₁ − μ₂)²/(2μ₁μ₂²) ≥ 0.
        half * (r - F::one() - r.ln()) + half * l2 * d * d / m1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(m, l, x) in &[(2.0, 3.0, 1.5), (0.5, 0.2, 2.0), (10.0, 40.0, 7.0)] {
            check_gradient::<InverseGaussian<f64>>(&[m, l], x, 1e-7);
        }
    }

    #[test]
    fn density_integrates_to_one_and_entropy_is_expected_nll() {
        for &(m, l) in &[(1.3, 2.0), (0.8, 0.3), (1.0, 5.0)] {
            let d = InverseGaussian::new(m, l).unwrap();
            let mass = integrate_density(&d, 0.0, 80.0, 400000);
            assert!((mass - 1.0).abs() < 1e-7, "mass {mass}");
            let h = integrate_entropy(&d, 0.0, 80.0, 400000);
            assert!((h - d.entropy()).abs() < 1e-6, "{h} vs {}", d.entropy());
        }
    }

    #[test]
    fn exp_e1_against_mpmath() {
        // mpmath: exp(x)*e1(x)
        assert!((exp_e1(0.1) - 2.0146425447084516).abs() < 1e-14);
        assert!((exp_e1(3.0) - 0.2620837402553185).abs() < 1e-14);
        assert!((exp_e1(50.0) - 0.01961510993011487).abs() < 1e-15);
    }

    #[test]
    fn edges() {
        let d = InverseGaussian::new(1.0f64, 1.0).unwrap();
        assert_eq!(d.log_prob(0.0), f64::NEG_INFINITY);
        assert_eq!(d.log_prob(-1.0), f64::NEG_INFINITY);
        assert_eq!(d.log_prob(f64::INFINITY), f64::NEG_INFINITY);
        assert!(d.log_prob(1e300).is_finite() || d.log_prob(1e300) == f64::NEG_INFINITY);
        assert!(InverseGaussian::new(1.0f64, 0.0).is_err());
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = InverseGaussian::new(2.0f32, 3.0).unwrap();
        let d64 = InverseGaussian::new(2.0f64, 3.0).unwrap();
        check_f32_agrees(&d32, &d64, &[1.5], 1e-6, 1e-6);
    }

    #[test]
    fn kl_matches_quadrature() {
        let p = InverseGaussian::new(2.0f64, 3.0).unwrap();
        assert_eq!(p.kl(&p), 0.0);
        for q in [InverseGaussian::new(1.0, 0.7).unwrap(), InverseGaussian::new(3.5, 9.0).unwrap()] {
            let quad = kl_by_log_quadrature(&p, &q, -20.0, 6.0, 40000);
            assert!((p.kl(&q) - quad).abs() < 1e-10, "{} vs {quad}", p.kl(&q));
        }
    }
}
