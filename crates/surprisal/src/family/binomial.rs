//! The binomial distribution: the number of successes in n trials with log-odds η.
//!
//! ```text
//! log p(k | n, η) = log C(n, k) + k · log σ(η) + (n − k) · log σ(−η),     k ∈ {0, …, n}
//! log C(n, k)     = log Γ(n + 1) − log Γ(k + 1) − log Γ(n − k + 1)
//! ∂/∂η            = k − n σ(η)
//! ∂/∂n            = 0      (n is an integer parameter)
//! H               = −Σₖ p(k) log p(k)   (summed over the support, where the mass is not negligible)
//! mean n σ(η), variance n σ(η) σ(−η)
//! KL(Bin(n₁, η₁) ‖ Bin(n₂, η₂)) = n · KL(Bern(η₁) ‖ Bern(η₂))         n₁ = n₂ = n
//!                               = +inf                               n₁ > n₂
//!                               = Σₖ p₁(k) (log p₁(k) − log p₂(k))   n₁ < n₂ (summed)
//! ```
//!
//! Model: counts out of a known number of trials with the logit link (the binomial GLM).
//! Values that are not integers in [0, n] have log p = −inf. Logits may be ±inf (p = 0 or 1):
//! zero counts times an infinite log are 0.
//!
//! Reference: `torch.distributions.Binomial(total_count, logits=η)`, `scipy.stats.binom`; the KL
//! is torch's `_kl_binomial_binomial` for n₁ ≥ n₂ (torch declines n₁ < n₂, summed exactly here).

use crate::divergence::KlDivergence;
use crate::error::{Error, Result, check};
use crate::family::{Bernoulli, Family, discrete_entropy, xmul};
use crate::num::{Real, log_sigmoid, sigmoid};

/// Binomial(total_count n ∈ {0, 1, 2, …}, logits η).
///
/// ```
/// use surprisal::family::{Binomial, Family};
/// let d = Binomial::new(10.0f64, 0.3).unwrap();
/// // mpmath: log(binomial(10, 4)) + 4·log σ(0.3) + 6·log σ(−0.3)
/// assert!((d.log_prob(4.0) - -1.996444913967802488).abs() < 1e-14);
/// assert_eq!(d.log_prob(4.5), f64::NEG_INFINITY);
/// assert!(Binomial::new(2.5f64, 0.0).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Binomial<F> {
    total_count: F,
    logits: F,
}

impl<F: Real> Binomial<F> {
    /// Validated constructor.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] if `total_count` is not a finite non-negative integer or
    /// `logits` is NaN.
    pub fn new(total_count: F, logits: F) -> Result<Self> {
        if !(total_count.is_finite() && total_count >= F::zero() && total_count.fract() == F::zero()) {
            return Err(Error::param(
                "total_count",
                total_count.to_f64_lossy(),
                "must be a finite non-negative integer",
            ));
        }
        Ok(Self { total_count, logits: check::not_nan("logits", logits)? })
    }
    /// n.
    pub fn total_count(&self) -> F {
        self.total_count
    }
    /// η.
    pub fn logits(&self) -> F {
        self.logits
    }
}

impl<F: Real> Family<F> for Binomial<F> {
    const NAME: &'static str = "binomial";
    const PARAMS: &'static [&'static str] = &["total_count", "logits"];
    const INTEGER_PARAMS: &'static [&'static str] = &["total_count"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 2, p.len())?;
        Self::new(p[0], p[1])
    }

    #[inline]
    fn log_prob(&self, k: F) -> F {
        let n = self.total_count;
        if !(k >= F::zero() && k <= n && k.fract() == F::zero()) {
            return if k.is_nan() { k } else { F::neg_infinity() };
        }
        let eta = self.logits;
        let log_choose =
            (n + F::one()).ln_gamma() - (k + F::one()).ln_gamma() - (n - k + F::one()).ln_gamma();
        log_choose + xmul(k, log_sigmoid(eta)) + xmul(n - k, log_sigmoid(-eta))
    }

    #[inline]
    fn log_prob_grad(&self, k: F, grad: &mut [F]) -> F {
        let lp = self.log_prob(k);
        grad[0] = F::zero();
        grad[1] = if lp == F::neg_infinity() && !(k >= F::zero() && k <= self.total_count) {
            F::zero()
        } else {
            k - self.total_count * sigmoid(self.logits)
        };
        lp
    }

    fn entropy(&self) -> F {
        let d = Binomial { total_count: self.total_count.to_f64_lossy(), logits: self.logits.to_f64_lossy() };
        let (lo, hi) = d.window();
        F::lit(discrete_entropy(|k| d.log_prob(k), lo, hi))
    }

    fn mean(&self) -> F {
        self.total_count * sigmoid(self.logits)
    }

    fn variance(&self) -> F {
        self.total_count * sigmoid(self.logits) * sigmoid(-self.logits)
    }
}

impl<F: Real> Binomial<F> {
    /// The indices [lo, hi] outside which the mass is below double precision.
    fn window(&self) -> (f64, f64) {
        let n = self.total_count.to_f64_lossy();
        let p = sigmoid(self.logits.to_f64_lossy());
        let (m, sd) = (n * p, (n * p * (1.0 - p)).sqrt());
        ((m - 40.0 * sd - 10.0).max(0.0).floor(), (m + 40.0 * sd + 10.0).min(n).ceil())
    }
}

impl<F: Real> KlDivergence<Binomial<F>> for Binomial<F> {
    type Output = F;
    fn kl(&self, q: &Binomial<F>) -> F {
        let (n1, n2) = (self.total_count, q.total_count);
        if n1 > n2 {
            return F::infinity();
        }
        if n1 == n2 {
            let b1 = Bernoulli { logits: self.logits };
            let b2 = Bernoulli { logits: q.logits };
            return xmul(n1, b1.kl(&b2));
        }
        let p = Binomial { total_count: n1.to_f64_lossy(), logits: self.logits.to_f64_lossy() };
        let r = Binomial { total_count: n2.to_f64_lossy(), logits: q.logits.to_f64_lossy() };
        let (lo, hi) = p.window();
        let mut s = 0.0;
        let mut k = lo;
        while k <= hi {
            let lp = p.log_prob(k);
            if lp > f64::NEG_INFINITY {
                s += lp.exp() * (lp - r.log_prob(k));
            }
            k += 1.0;
        }
        F::lit(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(n, eta, k) in &[(10.0, 0.3, 4.0), (1.0, -2.0, 0.0), (50.0, 3.0, 50.0)] {
            check_gradient::<Binomial<f64>>(&[n, eta], k, 1e-8);
        }
    }

    #[test]
    fn mass_sums_to_one_and_entropy_is_expected_nll() {
        let d = Binomial::new(30.0f64, -0.4).unwrap();
        let p = density(&d);
        assert!((sum_counts(&p, 31) - 1.0).abs() < 1e-13);
        assert!((sum_counts(entropy_density(&d), 31) - d.entropy()).abs() < 1e-13);
        let mean = sum_counts(|k| k * p(k), 31);
        assert!((mean - d.mean()).abs() < 1e-12);
    }

    #[test]
    fn kl_binomial_binomial() {
        let p = Binomial::new(12.0f64, 0.4).unwrap();
        let q = Binomial::new(12.0f64, -1.0).unwrap();
        assert!(p.kl(&p).abs() < 1e-15);
        let direct = |p: &Binomial<f64>, q: &Binomial<f64>| kl_by_sum(p, q, p.total_count() as usize + 1);
        assert!((p.kl(&q) - direct(&p, &q)).abs() < 1e-13);
        assert!(p.kl(&q) > 0.0 && q.kl(&p) > 0.0);
        let wide = Binomial::new(20.0f64, 0.1).unwrap();
        assert!((p.kl(&wide) - direct(&p, &wide)).abs() < 1e-13);
        assert_eq!(wide.kl(&p), f64::INFINITY);
        // mpmath: Σ_k p(k) log(p(k)/q(k)) for Bin(3, ½) ‖ Bin(5, ½)
        let a = Binomial::new(3.0f64, 0.0).unwrap();
        let b = Binomial::new(5.0f64, 0.0).unwrap();
        assert!((a.kl(&b) - 0.4554218139611624).abs() < 1e-14);
    }

    #[test]
    fn edges() {
        let d = Binomial::new(5.0f64, f64::INFINITY).unwrap();
        assert_eq!(d.log_prob(5.0), 0.0);
        assert_eq!(d.log_prob(4.0), f64::NEG_INFINITY);
        assert_eq!(d.entropy(), 0.0);
        let d = Binomial::new(0.0f64, 1.0).unwrap();
        assert_eq!(d.log_prob(0.0), 0.0);
        assert_eq!(d.log_prob(-1.0), f64::NEG_INFINITY);
        assert_eq!(d.log_prob(1.0), f64::NEG_INFINITY);
        // A large count: the entropy approaches the normal one, ½ log(2πe·npq).
        let d = Binomial::new(1e8f64, 0.0).unwrap();
        let gauss = 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E * 0.25e8).ln();
        assert!((d.entropy() - gauss).abs() < 1e-6);
        assert!(Binomial::new(-1.0f64, 0.0).is_err());
        assert!(Binomial::new(3.0f64, f64::NAN).is_err());
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = Binomial::new(10.0f32, 0.3).unwrap();
        let d64 = Binomial::new(10.0f64, 0.3).unwrap();
        check_f32_agrees(&d32, &d64, &[4.0], 1e-6, 1e-6);
    }
}
