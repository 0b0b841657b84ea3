//! The Poisson distribution with rate λ.
//!
//! ```text
//! log p(k | λ) = k log λ − λ − log Γ(k + 1),     k ∈ {0, 1, 2, …}
//! ∂/∂λ         = k/λ − 1                  (−1 at k = 0, also for λ = 0)
//! H            = −Σₖ p(k) log p(k)                                       (λ ≤ 10³)
//!              ≈ ½ log(2πeλ) − 1/(12λ) − 1/(24λ²) − 19/(360λ³)          (λ > 10³, error < 2·10⁻¹³)
//! mean λ, variance λ
//! KL(Pois(λ₁) ‖ Pois(λ₂)) = λ₁ log(λ₁/λ₂) − λ₁ + λ₂
//! KL(Pois(λ) ‖ Binomial(n, η)) = +inf    (the Poisson puts mass on every k > n; for λ = 0,
//!                                         −log q(0) = n·softplus(η); Bernoulli: n = 1)
//! ```
//!
//! Model: counts; with the log link the NLL is the Poisson GLM deviance (÷2) plus a constant
//! (`poisson_nll`). Values that are not non-negative integers have log p = −inf (SciPy's pmf;
//! torch would evaluate the formula at non-integers). λ = 0, the point mass at 0, is allowed as
//! torch and SciPy allow it: log p(0) = 0, log p(k > 0) = −inf, H = 0.
//!
//! Reference: `torch.distributions.Poisson`, `scipy.stats.poisson`; the KL pairs are those
//! registered by `torch.distributions.kl` (Poisson‖Poisson, and Poisson‖Binomial and
//! Poisson‖Bernoulli = inf).

use crate::divergence::KlDivergence;
use crate::error::{Result, check};
use crate::family::{Bernoulli, Binomial, Family, discrete_entropy, xmul};
use crate::num::{Real, softplus, xlogy};

/// Poisson(rate λ ≥ 0).
///
/// ```
/// use surprisal::family::{Family, Poisson};
/// let d = Poisson::new(3.5f64).unwrap();
/// // mpmath: 2·log 3.5 − 3.5 − log 2, and the entropy as nsum of −p log p
/// assert!((d.log_prob(2.0) - -1.687621243569209318).abs() < 1e-14);
/// assert!((d.entropy() - 2.015172522512972281).abs() < 1e-13);
/// assert_eq!(d.log_prob(2.5), f64::NEG_INFINITY);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Poisson<F> {
    rate: F,
}

impl<F: Real> Poisson<F> {
    /// Validated constructor.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] unless `rate` is finite and ≥ 0.
    pub fn new(rate: F) -> Result<Self> {
        Ok(Self { rate: check::non_negative("rate", rate)? })
    }
    /// λ.
    pub fn rate(&self) -> F {
        self.rate
    }
}

impl<F: Real> Family<F> for Poisson<F> {
    const NAME: &'static str = "poisson";
    const PARAMS: &'static [&'static str] = &["rate"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 1, p.len())?;
        Self::new(p[0])
    }

    #[inline]
    fn log_prob(&self, k: F) -> F {
        if !(k >= F::zero() && k.is_finite() && k.fract() == F::zero()) {
            return if k.is_nan() { k } else { F::neg_infinity() };
        }
        xlogy(k, self.rate) - self.rate - (k + F::one()).ln_gamma()
    }

    #[inline]
    fn log_prob_grad(&self, k: F, grad: &mut [F]) -> F {
        let lp = self.log_prob(k);
        grad[0] = if lp == F::neg_infinity() {
            F::zero()
        } else if k == F::zero() {
            -F::one()
        } else {
            k / self.rate - F::one()
        };
        lp
    }

    fn entropy(&self) -> F {
        let l = self.rate.to_f64_lossy();
        if l > 1e3 {
            let (l2, l3) = (l * l, l * l * l);
            let h = 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E * l).ln()
                - 1.0 / (12.0 * l)
                - 1.0 / (24.0 * l2)
                - 19.0 / (360.0 * l3);
            return F::lit(h);
        }
        let hi = (l + 40.0 * l.sqrt() + 40.0).ceil();
        let d = Poisson { rate: l };
        F::lit(discrete_entropy(|k| d.log_prob(k), 0.0, hi))
    }

    fn mean(&self) -> F {
        self.rate
    }

    fn variance(&self) -> F {
        self.rate
    }
}

impl<F: Real> KlDivergence<Poisson<F>> for Poisson<F> {
    type Output = F;
    fn kl(&self, q: &Poisson<F>) -> F {
        let (a, b) = (self.rate, q.rate);
        xmul(a, a.ln() - b.ln()) - a + b
    }
}

impl<F: Real> KlDivergence<Binomial<F>> for Poisson<F> {
    type Output = F;
    /// +inf: the Poisson gives positive mass to counts above n, where the binomial has none;
    /// Poisson(0), the point mass at 0, has −log q(0) = n·softplus(η).
    fn kl(&self, q: &Binomial<F>) -> F {
        if self.rate == F::zero() { q.total_count() * softplus(q.logits()) } else { F::infinity() }
    }
}

impl<F: Real> KlDivergence<Bernoulli<F>> for Poisson<F> {
    type Output = F;
    /// As to the binomial with n = 1.
    fn kl(&self, q: &Bernoulli<F>) -> F {
        if self.rate == F::zero() { softplus(q.logits()) } else { F::infinity() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(l, k) in &[(3.5, 2.0), (0.1, 0.0), (250.0, 301.0)] {
            check_gradient::<Poisson<f64>>(&[l], k, 1e-8);
        }
    }

    #[test]
    fn mass_sums_to_one_and_entropy_is_expected_nll() {
        for &l in &[0.05f64, 3.5, 80.0] {
            let d = Poisson::new(l).unwrap();
            assert!((sum_counts(density(&d), 600) - 1.0).abs() < 1e-13);
            assert!((sum_counts(entropy_density(&d), 600) - d.entropy()).abs() < 1e-12);
        }
    }

    #[test]
    fn entropy_series_and_asymptotic_agree_with_mpmath() {
        // mpmath: fsum of −p log p over the bulk of the support
        let h = |l: f64| Poisson::new(l).unwrap().entropy();
        assert!((h(100.0) - 3.720_686_072_260_259).abs() < 1e-12);
        assert!((h(1000.0) - 4.872_732_797_642_850_5).abs() < 1e-11);
        assert!((h(1e4) - 6.024_100_385_442_711).abs() < 1e-14);
        // continuity at the switch between the series and the expansion
        assert!((h(1e3) - h(1e3 * (1.0 + 1e-13))).abs() < 1e-11);
    }

    #[test]
    fn edges() {
        let d = Poisson::new(2.0f64).unwrap();
        assert_eq!(d.log_prob(-1.0), f64::NEG_INFINITY);
        assert_eq!(d.log_prob(f64::INFINITY), f64::NEG_INFINITY);
        assert_eq!(d.log_prob(0.0), -2.0);
        assert!(d.log_prob(1e30).is_finite());
        assert!(Poisson::new(-1e-300f64).is_err() && Poisson::new(f64::NAN).is_err());
        // λ = 0: the point mass at 0 (SciPy: poisson(0).logpmf(0) = 0, logpmf(1) = −inf).
        let z = Poisson::new(0.0f64).unwrap();
        assert_eq!((z.log_prob(0.0), z.log_prob(1.0), z.entropy()), (0.0, f64::NEG_INFINITY, 0.0));
        let mut g = [f64::NAN];
        assert_eq!((z.log_prob_grad(0.0, &mut g), g[0]), (0.0, -1.0));
        assert_eq!((z.log_prob_grad(3.0, &mut g), g[0]), (f64::NEG_INFINITY, 0.0));
        assert_eq!((z.kl(&z), z.kl(&d), d.kl(&z)), (0.0, 2.0, f64::INFINITY));
        let b = Binomial::new(10.0f64, 0.0).unwrap();
        assert_eq!(d.kl(&b), f64::INFINITY);
    }

    #[test]
    fn kl_poisson_poisson() {
        let p = Poisson::new(3.5f64).unwrap();
        let q = Poisson::new(1.25f64).unwrap();
        assert_eq!(p.kl(&p), 0.0);
        // mpmath: 3.5·log(3.5/1.25) − 3.5 + 1.25
        assert!((p.kl(&q) - 1.353_667_960_134_053_8).abs() < 1e-14);
        let sum = kl_by_sum(&p, &q, 200);
        assert!((sum - p.kl(&q)).abs() < 1e-13);
        assert!(q.kl(&p) > 0.0);
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = Poisson::new(3.5f32).unwrap();
        let d64 = Poisson::new(3.5f64).unwrap();
        check_f32_agrees(&d32, &d64, &[2.0], 1e-6, 1e-6);
    }

    #[test]
    fn kl_to_binomial_and_bernoulli_is_infinite_but_from_the_point_mass() {
        let p = Poisson::new(2.0f64).unwrap();
        let bern = Bernoulli::from_logits(0.7f64).unwrap();
        let bin = Binomial::new(4.0f64, 0.7).unwrap();
        assert_eq!((p.kl(&bern), p.kl(&bin)), (f64::INFINITY, f64::INFINITY));
        let z = Poisson::new(0.0f64).unwrap();
        assert!((z.kl(&bern) - kl_by_sum(&z, &bern, 2)).abs() < 1e-15);
        assert!((z.kl(&bin) - kl_by_sum(&z, &bin, 5)).abs() < 1e-14);
        assert!(z.kl(&bin) > 0.0);
    }
}
