//! The geometric distribution: the number of failures before the first success, with success
//! probability p.
//!
//! ```text
//! log p(k | p) = k log(1 − p) + log p,     k ∈ {0, 1, 2, …}
//! ∂/∂p         = 1/p − k/(1 − p)
//! H            = (−(1 − p) log(1 − p) − p log p) / p
//! mean (1 − p)/p, variance (1 − p)/p²
//! KL(p₁ ‖ p₂)  = log(p₁/p₂) + (1 − p₁)/p₁ · log((1 − p₁)/(1 − p₂))
//! ```
//!
//! Values that are not non-negative integers have log p = −inf. At p = 1 all mass sits on 0
//! (`k·log(1 − p)` is a zero-safe product, so log p(0) = 0).
//!
//! Reference: `torch.distributions.Geometric(probs=p)`, `scipy.stats.geom(p, loc=−1)`.

use crate::divergence::KlDivergence;
use crate::error::{Error, Result, check};
use crate::family::{Family, xmul};
use crate::num::{Real, xlog1py};

/// Geometric(probs p ∈ (0, 1]), counting failures before the first success.
///
/// ```
/// use surprisal::family::{Family, Geometric};
/// let d = Geometric::new(0.3f64).unwrap();
/// // mpmath: 2·log 0.7 + log 0.3, and (−0.7·log 0.7 − 0.3·log 0.3)/0.3
/// assert!((d.log_prob(2.0) - -1.917322692203400756).abs() < 1e-14);
/// assert!((d.entropy() - 2.036214340182978254).abs() < 1e-14);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Geometric<F> {
    probs: F,
}

impl<F: Real> Geometric<F> {
    /// Validated constructor.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] unless 0 < p ≤ 1.
    pub fn new(probs: F) -> Result<Self> {
        if !(probs > F::zero() && probs <= F::one()) {
            return Err(Error::param("probs", probs.to_f64_lossy(), "must be in (0, 1]"));
        }
        Ok(Self { probs })
    }
    /// p.
    pub fn probs(&self) -> F {
        self.probs
    }
}

impl<F: Real> Family<F> for Geometric<F> {
    const NAME: &'static str = "geometric";
    const PARAMS: &'static [&'static str] = &["probs"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 1, p.len())?;
        Self::new(p[0])
    }

    #[inline]
    fn log_prob(&self, k: F) -> F {
        if !(k >= F::zero() && k.is_finite() && k.fract() == F::zero()) {
            return if k.is_nan() { k } else { F::neg_infinity() };
        }
        xlog1py(k, -self.probs) + self.probs.ln()
    }

    #[inline]
    fn log_prob_grad(&self, k: F, grad: &mut [F]) -> F {
        let lp = self.log_prob(k);
        let p = self.probs;
        grad[0] =
            if lp == F::neg_infinity() { F::zero() } else { p.recip() - xmul(k, (F::one() - p).recip()) };
        lp
    }

    fn entropy(&self) -> F {
        let p = self.probs;
        -(xlog1py(F::one() - p, -p) + p * p.ln()) / p
    }

    fn mean(&self) -> F {
        (F::one() - self.probs) / self.probs
    }

    fn variance(&self) -> F {
        (F::one() - self.probs) / (self.probs * self.probs)
    }
}

impl<F: Real> KlDivergence<Geometric<F>> for Geometric<F> {
    type Output = F;
    /// E\[k\] = (1 − p₁)/p₁ weighs log((1 − p₁)/(1 − p₂)) as a zero-safe product: p₁ = 1 gives
    /// −log p₂, p₂ = 1 < 1/p₁ gives +inf.
    fn kl(&self, q: &Geometric<F>) -> F {
        let (a, b) = (self.probs, q.probs);
        (a / b).ln() + xmul(self.mean(), (-a).ln_1p() - (-b).ln_1p())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(p, k) in &[(0.3, 2.0), (0.05, 0.0), (0.7, 11.0)] {
            check_gradient::<Geometric<f64>>(&[p], k, 1e-7);
        }
    }

    #[test]
    fn mass_sums_to_one_and_entropy_is_expected_nll() {
        for &p in &[0.05f64, 0.3, 0.9, 1.0] {
            let d = Geometric::new(p).unwrap();
            assert!((sum_counts(density(&d), 2000) - 1.0).abs() < 1e-13);
            assert!((sum_counts(entropy_density(&d), 2000) - d.entropy()).abs() < 1e-12);
        }
    }

    #[test]
    fn edges() {
        let d = Geometric::new(1.0f64).unwrap();
        assert_eq!(d.log_prob(0.0), 0.0);
        assert_eq!(d.log_prob(1.0), f64::NEG_INFINITY);
        assert_eq!(d.entropy(), 0.0);
        assert_eq!(Geometric::new(0.5f64).unwrap().log_prob(1.5), f64::NEG_INFINITY);
        assert!(Geometric::new(0.0f64).is_err());
        assert!(Geometric::new(1.5f64).is_err());
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = Geometric::new(0.3f32).unwrap();
        let d64 = Geometric::new(0.3f64).unwrap();
        check_f32_agrees(&d32, &d64, &[2.0], 1e-6, 1e-6);
    }

    #[test]
    fn kl_matches_the_sum_and_handles_p_one() {
        let p = Geometric::new(0.3f64).unwrap();
        assert!(p.kl(&p).abs() < 1e-15);
        for q in [Geometric::new(0.7).unwrap(), Geometric::new(0.05).unwrap()] {
            let sum = kl_by_sum(&p, &q, 400);
            assert!((p.kl(&q) - sum).abs() < 1e-13, "{} vs {sum}", p.kl(&q));
            assert!((q.kl(&p) - kl_by_sum(&q, &p, 2000)).abs() < 1e-12);
        }
        // p = 1 is the point mass at 0: KL = −log q(0) = −log p₂; to it, +inf.
        let one = Geometric::new(1.0f64).unwrap();
        assert!((one.kl(&p) + 0.3f64.ln()).abs() < 1e-15);
        assert_eq!(p.kl(&one), f64::INFINITY);
        assert_eq!(one.kl(&one), 0.0);
    }
}
