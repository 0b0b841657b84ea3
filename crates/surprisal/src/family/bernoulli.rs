//! The Bernoulli distribution with the logit link: P(y = 1) = σ(η).
//!
//! ```text
//! log p(y | η) = y · log σ(η) + (1 − y) · log σ(−η),     y ∈ [0, 1]
//! ∂/∂η         = y − σ(η)
//! H            = σ(η)·softplus(−η) + σ(−η)·softplus(η)
//! mean σ(η), variance σ(η) σ(−η)
//! KL(η₁ ‖ η₂)  = σ(η₁)(log σ(η₁) − log σ(η₂)) + σ(−η₁)(log σ(−η₁) − log σ(−η₂))
//! KL(η ‖ Poisson(λ)) = −H + λ − σ(η) log λ
//! ```
//!
//! Its NLL is the binary cross-entropy with logits; the canonical link gives the gradient p − y.
//! Like `torch.distributions.Bernoulli` (whose log_prob is `−BCEWithLogits`), `y` may be any value
//! in [0, 1] (a soft label: the cross-entropy against Bernoulli(y)); outside [0, 1] it is −inf.
//! Logits may be ±inf (probabilities 0 and 1): products of a zero weight with an infinite log are
//! taken as 0, so log p(1 | +inf) = 0, and a KL where p puts mass where q has none is +inf.
//!
//! The conformance name of this family is `logistic_bernoulli` (parameter `logits`).
//!
//! Reference: `torch.distributions.Bernoulli(logits=η)`, `scipy.stats.bernoulli(σ(η))`.

use crate::divergence::KlDivergence;
use crate::error::{Error, Result, check};
use crate::family::{Family, Poisson, xmul};
use crate::num::{Real, log_sigmoid, sigmoid};

/// Bernoulli with log-odds η (stored as logits; build from probabilities with
/// [`Bernoulli::from_probs`]).
///
/// ```
/// use surprisal::family::{Bernoulli, Family};
/// let d = Bernoulli::from_logits(0.7f64).unwrap();
/// // mpmath: −log(1 + e^{−0.7}) and −p log p − (1 − p) log(1 − p)
/// assert!((d.log_prob(1.0) - -0.403186048885457908).abs() < 1e-15);
/// assert!((d.entropy() - 0.635454608367741626).abs() < 1e-15);
/// assert_eq!(Bernoulli::from_probs(1.0f64).unwrap().log_prob(1.0), 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bernoulli<F> {
    pub(crate) logits: F,
}

impl<F: Real> Bernoulli<F> {
    /// From log-odds η ∈ [−inf, +inf].
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] if `logits` is NaN.
    pub fn from_logits(logits: F) -> Result<Self> {
        Ok(Self { logits: check::not_nan("logits", logits)? })
    }
    /// From P(y = 1) = p ∈ [0, 1]; η = log p − log(1 − p).
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] if `p` is outside [0, 1] or NaN.
    pub fn from_probs(p: F) -> Result<Self> {
        if !(p >= F::zero() && p <= F::one()) {
            return Err(Error::param("probs", p.to_f64_lossy(), "must be in [0, 1]"));
        }
        Ok(Self { logits: p.ln() - (-p).ln_1p() })
    }
    /// η.
    pub fn logits(&self) -> F {
        self.logits
    }
    /// σ(η).
    pub fn probs(&self) -> F {
        sigmoid(self.logits)
    }
}

impl<F: Real> Family<F> for Bernoulli<F> {
    const NAME: &'static str = "logistic_bernoulli";
    const PARAMS: &'static [&'static str] = &["logits"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 1, p.len())?;
        Self::from_logits(p[0])
    }

    #[inline]
    fn log_prob(&self, y: F) -> F {
        if !(y >= F::zero() && y <= F::one()) {
            return if y.is_nan() { y } else { F::neg_infinity() };
        }
        let eta = self.logits;
        xmul(y, log_sigmoid(eta)) + xmul(F::one() - y, log_sigmoid(-eta))
    }

    #[inline]
    fn log_prob_grad(&self, y: F, grad: &mut [F]) -> F {
        let lp = self.log_prob(y);
        grad[0] = if y >= F::zero() && y <= F::one() { y - sigmoid(self.logits) } else { F::zero() };
        lp
    }

    fn entropy(&self) -> F {
        let eta = self.logits;
        -(xmul(sigmoid(eta), log_sigmoid(eta)) + xmul(sigmoid(-eta), log_sigmoid(-eta)))
    }

    fn mean(&self) -> F {
        sigmoid(self.logits)
    }

    fn variance(&self) -> F {
        sigmoid(self.logits) * sigmoid(-self.logits)
    }
}

impl<F: Real> KlDivergence<Bernoulli<F>> for Bernoulli<F> {
    type Output = F;
    fn kl(&self, q: &Bernoulli<F>) -> F {
        let (a, b) = (self.logits, q.logits);
        let one = xmul(sigmoid(a), log_sigmoid(a) - log_sigmoid(b));
        let zero = xmul(sigmoid(-a), log_sigmoid(-a) - log_sigmoid(-b));
        one + zero
    }
}

impl<F: Real> KlDivergence<Poisson<F>> for Bernoulli<F> {
    type Output = F;
    /// On {0, 1}: −H + E[−log Pois(k | λ)] = −H + λ − p log λ (log 0! = log 1! = 0).
    fn kl(&self, q: &Poisson<F>) -> F {
        q.rate() - xmul(sigmoid(self.logits), q.rate().ln()) - self.entropy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(eta, y) in &[(0.3, 1.0), (-2.0, 0.0), (5.0, 0.25), (-30.0, 1.0)] {
            check_gradient::<Bernoulli<f64>>(&[eta], y, 1e-8);
        }
    }

    #[test]
    fn mass_sums_to_one_and_entropy_is_expected_nll() {
        for &eta in &[-3.0f64, 0.0, 0.7, 40.0] {
            let d = Bernoulli::from_logits(eta).unwrap();
            let (l0, l1) = (d.log_prob(0.0), d.log_prob(1.0));
            assert!((l0.exp() + l1.exp() - 1.0).abs() < 1e-15);
            let h = -(l0.exp() * l0 + l1.exp() * l1);
            assert!((h - d.entropy()).abs() < 1e-15);
        }
    }

    #[test]
    fn infinite_logits_and_probs() {
        let one = Bernoulli::from_probs(1.0f64).unwrap();
        assert_eq!(one.logits(), f64::INFINITY);
        assert_eq!(one.log_prob(1.0), 0.0);
        assert_eq!(one.log_prob(0.0), f64::NEG_INFINITY);
        assert_eq!(one.entropy(), 0.0);
        let zero = Bernoulli::from_probs(0.0f64).unwrap();
        assert_eq!(zero.log_prob(0.0), 0.0);
        assert_eq!(zero.kl(&zero), 0.0);
        assert_eq!(one.kl(&zero), f64::INFINITY);
        assert_eq!(Bernoulli::from_logits(0.0f64).unwrap().log_prob(2.0), f64::NEG_INFINITY);
        // f32: a logit of 1e6 does not overflow
        let big = Bernoulli::from_logits(1e6f32).unwrap();
        assert_eq!(big.log_prob(1.0), 0.0);
        assert_eq!(big.log_prob(0.0), -1e6);
        assert!(Bernoulli::from_probs(1.5f64).is_err());
        assert!(Bernoulli::from_logits(f64::NAN).is_err());
    }

    #[test]
    fn kl_against_direct_sum() {
        let p = Bernoulli::from_logits(0.7f64).unwrap();
        let q = Bernoulli::from_logits(-1.2f64).unwrap();
        assert_eq!(p.kl(&p), 0.0);
        // mpmath: s log(s/q) + (1 − s) log((1 − s)/(1 − q))
        assert!((p.kl(&q) - 0.429_653_185_572_088_87).abs() < 1e-15);
        let sum: f64 =
            [0.0, 1.0].iter().map(|&y| p.log_prob(y).exp() * (p.log_prob(y) - q.log_prob(y))).sum();
        assert!((sum - p.kl(&q)).abs() < 1e-15);
        assert!(q.kl(&p) > 0.0);
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = Bernoulli::from_logits(0.7f32).unwrap();
        let d64 = Bernoulli::from_logits(0.7f64).unwrap();
        check_f32_agrees(&d32, &d64, &[0.3], 1e-6, 1e-6);
    }

    #[test]
    fn kl_to_poisson_is_the_sum_over_zero_and_one() {
        use crate::family::Poisson;
        for eta in [-2.0f64, 0.4, 30.0, f64::INFINITY, f64::NEG_INFINITY] {
            let p = Bernoulli::from_logits(eta).unwrap();
            for rate in [0.3, 1.0, 4.0] {
                let q = Poisson::new(rate).unwrap();
                let sum = kl_by_sum(&p, &q, 2);
                assert!((p.kl(&q) - sum).abs() < 1e-14, "η = {eta}, λ = {rate}: {} vs {sum}", p.kl(&q));
            }
            // Poisson(0) is the point mass at 0: finite only from Bernoulli(0).
            let zero = Poisson::new(0.0).unwrap();
            let want = if eta == f64::NEG_INFINITY { 0.0 } else { f64::INFINITY };
            assert_eq!(p.kl(&zero), want, "η = {eta}");
        }
    }
}
