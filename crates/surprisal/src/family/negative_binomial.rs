//! The negative binomial distribution in torch's parametrisation: the number of successes k
//! before `total_count` = r failures, each trial a success with probability p = σ(η).
//!
//! ```text
//! log p(k | r, η) = log Γ(k + r) − log Γ(k + 1) − log Γ(r) + r · log σ(−η) + k · log σ(η)
//!                                                                      k ∈ {0, 1, 2, …}
//! ∂/∂r            = ψ(k + r) − ψ(r) + log σ(−η)
//! ∂/∂η            = k σ(−η) − r σ(η)
//! H               = −Σₖ p(k) log p(k)   (summed until the remaining mass is negligible)
//! mean r eᵑ = r p/(1 − p), variance mean/(1 − p)
//! ```
//!
//! Model: over-dispersed counts, a Poisson whose rate is gamma distributed (NB2 with dispersion
//! 1/r; in SciPy's `nbinom(n, q)` the roles are swapped: n = r, q = 1 − p = σ(−η)). `total_count` is
//! a real r > 0 with a gradient. Values that are not non-negative integers have log p = −inf.
//!
//! Reference: `torch.distributions.NegativeBinomial(total_count, logits=η)`,
//! `scipy.stats.nbinom(r, σ(−η))`.

use crate::error::{Result, check};
use crate::family::{Family, discrete_entropy, xmul};
use crate::num::{Real, log_sigmoid, sigmoid};

/// NegativeBinomial(total_count r > 0, logits η < +inf).
///
/// ```
/// use surprisal::family::{Family, NegativeBinomial};
/// let d = NegativeBinomial::new(4.5f64, -0.4).unwrap();
/// // mpmath: loggamma(7.5) − loggamma(4) − loggamma(4.5) + 4.5·log σ(0.4) + 3·log σ(−0.4)
/// assert!((d.log_prob(3.0) - -1.758746196311408943).abs() < 1e-14);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NegativeBinomial<F> {
    total_count: F,
    logits: F,
}

impl<F: Real> NegativeBinomial<F> {
    /// Validated constructor.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] unless `total_count` is finite and > 0 and `logits` is
    /// finite (η = +inf, p = 1, has no distribution; η = −inf is the point mass at 0 and is
    /// excluded too, to keep the gradient defined).
    pub fn new(total_count: F, logits: F) -> Result<Self> {
        Ok(Self {
            total_count: check::positive("total_count", total_count)?,
            logits: check::finite("logits", logits)?,
        })
    }
    /// r.
    pub fn total_count(&self) -> F {
        self.total_count
    }
    /// η.
    pub fn logits(&self) -> F {
        self.logits
    }
}

impl<F: Real> Family<F> for NegativeBinomial<F> {
    const NAME: &'static str = "negative_binomial";
    const PARAMS: &'static [&'static str] = &["total_count", "logits"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 2, p.len())?;
        Self::new(p[0], p[1])
    }

    #[inline]
    fn log_prob(&self, k: F) -> F {
        if !(k >= F::zero() && k.is_finite() && k.fract() == F::zero()) {
            return if k.is_nan() { k } else { F::neg_infinity() };
        }
        let (r, eta) = (self.total_count, self.logits);
        (k + r).ln_gamma() - (k + F::one()).ln_gamma() - r.ln_gamma()
            + r * log_sigmoid(-eta)
            + xmul(k, log_sigmoid(eta))
    }

    #[inline]
    fn log_prob_grad(&self, k: F, grad: &mut [F]) -> F {
        let lp = self.log_prob(k);
        if lp == F::neg_infinity() {
            grad[0] = F::zero();
            grad[1] = F::zero();
            return lp;
        }
        let (r, eta) = (self.total_count, self.logits);
        grad[0] = (k + r).digamma() - r.digamma() + log_sigmoid(-eta);
        grad[1] = k * sigmoid(-eta) - r * sigmoid(eta);
        lp
    }

    fn entropy(&self) -> F {
        let d = NegativeBinomial {
            total_count: self.total_count.to_f64_lossy(),
            logits: self.logits.to_f64_lossy(),
        };
        let (m, v) = (d.mean(), d.variance());
        // The tail decays geometrically with ratio p; 60 standard deviations past the mean, plus
        // enough geometric steps for a mass below 1e-30, cover the support to double precision.
        let p = sigmoid(d.logits);
        let geo = 70.0 / -(p.ln()).min(-1e-300);
        let hi = (m + 60.0 * v.sqrt() + geo + 50.0).min(1e8).ceil();
        F::lit(discrete_entropy(|k| d.log_prob(k), 0.0, hi))
    }

    fn mean(&self) -> F {
        self.total_count * self.logits.exp()
    }

    fn variance(&self) -> F {
        self.mean() / sigmoid(-self.logits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(r, eta, k) in &[(4.5, -0.4, 3.0), (0.3, 1.0, 0.0), (20.0, 2.0, 69.0)] {
            check_gradient::<NegativeBinomial<f64>>(&[r, eta], k, 1e-7);
        }
    }

    #[test]
    fn mass_sums_to_one_and_entropy_is_expected_nll() {
        for &(r, eta) in &[(4.5f64, -0.4f64), (0.5, 1.5), (30.0, -3.0)] {
            let d = NegativeBinomial::new(r, eta).unwrap();
            let p = density(&d);
            let mass = sum_counts(&p, 5000);
            assert!((mass - 1.0).abs() < 1e-12, "mass {mass}");
            assert!((sum_counts(entropy_density(&d), 5000) - d.entropy()).abs() < 1e-11);
            let mean = sum_counts(|k| k * p(k), 5000);
            assert!((mean - d.mean()).abs() < 1e-10 * d.mean().max(1.0));
        }
    }

    #[test]
    fn edges() {
        let d = NegativeBinomial::new(2.0f64, 0.0).unwrap();
        assert_eq!(d.log_prob(-1.0), f64::NEG_INFINITY);
        assert_eq!(d.log_prob(0.5), f64::NEG_INFINITY);
        assert!((d.log_prob(0.0) - 2.0 * 0.5f64.ln()).abs() < 1e-15);
        assert!(NegativeBinomial::new(0.0f64, 0.0).is_err());
        assert!(NegativeBinomial::new(1.0f64, f64::INFINITY).is_err());
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = NegativeBinomial::new(4.5f32, -0.4).unwrap();
        let d64 = NegativeBinomial::new(4.5f64, -0.4).unwrap();
        check_f32_agrees(&d32, &d64, &[3.0], 1e-6, 1e-6);
    }
}
