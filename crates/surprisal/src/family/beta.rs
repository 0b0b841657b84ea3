//! The beta distribution Beta(a, b) on [0, 1], with a = `concentration1` (the weight of 1) and
//! b = `concentration0` (the weight of 0), as in `torch.distributions.Beta`.
//!
//! ```text
//! log p(x | a, b) = (a − 1) log x + (b − 1) log(1 − x) − log B(a, b),     0 ≤ x ≤ 1
//! log B(a, b)     = log Γ(a) + log Γ(b) − log Γ(a + b)
//! ∂/∂a            = log x − ψ(a) + ψ(a + b)
//! ∂/∂b            = log(1 − x) − ψ(b) + ψ(a + b)
//! H               = log B(a, b) − (a − 1) ψ(a) − (b − 1) ψ(b) + (a + b − 2) ψ(a + b)
//! mean a/(a + b), variance ab / ((a + b)² (a + b + 1))
//! KL(Beta(a₁, b₁) ‖ Beta(a₂, b₂)) = log B(a₂, b₂) − log B(a₁, b₁) + (a₁ − a₂) ψ(a₁)
//!                                  + (b₁ − b₂) ψ(b₁) + (a₂ − a₁ + b₂ − b₁) ψ(a₁ + b₁)
//! KL(Beta(a, b) ‖ N(μ, σ²)) = −H + ½ log(2πσ²) + (E[X²] − 2μ E[X] + μ²) / (2σ²)
//! KL(Beta(a, b) ‖ Exp(λ))   = −H − log λ + λa/(a + b)
//! KL(Beta(a, b) ‖ Γ(α, β))  = −H + log Γ(α) − α log β − (α − 1)(ψ(a) − ψ(a + b)) + βa/(a + b)
//! ```
//!
//! Model: a proportion in [0, 1]. Edges: values outside [0, 1] give −inf; at x = 0 or 1 the
//! `(a − 1)·log x` terms are `xlogy` products, so a = 1 contributes 0 there and a < 1 gives +inf.
//! `log(1 − x)` is computed as `log1p(−x)`.
//!
//! Reference: `torch.distributions.Beta`, `scipy.stats.beta(a, b)`.

use crate::divergence::KlDivergence;
use crate::error::{Result, check};
use crate::family::{Exponential, Family, Gamma, Normal};
use crate::num::{Real, xlog1py, xlogy};

/// Beta(concentration1 a > 0, concentration0 b > 0).
///
/// ```
/// use surprisal::family::{Beta, Family};
/// let d = Beta::new(2.0f64, 3.5).unwrap();
/// // mpmath: log(0.3) + 2.5·log(0.7) − log(beta(2, 3.5))
/// assert!((d.log_prob(0.3) - 0.661180201098875132).abs() < 1e-14);
/// assert_eq!(d.log_prob(1.5), f64::NEG_INFINITY);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Beta<F> {
    a: F,
    b: F,
}

impl<F: Real> Beta<F> {
    /// Validated constructor.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] unless both concentrations are finite and > 0.
    pub fn new(concentration1: F, concentration0: F) -> Result<Self> {
        Ok(Self {
            a: check::positive("concentration1", concentration1)?,
            b: check::positive("concentration0", concentration0)?,
        })
    }
    /// a, the concentration of 1.
    pub fn concentration1(&self) -> F {
        self.a
    }
    /// b, the concentration of 0.
    pub fn concentration0(&self) -> F {
        self.b
    }
    fn ln_beta(&self) -> F {
        self.a.ln_gamma() + self.b.ln_gamma() - (self.a + self.b).ln_gamma()
    }
}

impl<F: Real> Family<F> for Beta<F> {
    const NAME: &'static str = "beta";
    const PARAMS: &'static [&'static str] = &["concentration1", "concentration0"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 2, p.len())?;
        Self::new(p[0], p[1])
    }

    #[inline]
    fn log_prob(&self, x: F) -> F {
        if !(x >= F::zero() && x <= F::one()) {
            return if x.is_nan() { x } else { F::neg_infinity() };
        }
        xlogy(self.a - F::one(), x) + xlog1py(self.b - F::one(), -x) - self.ln_beta()
    }

    #[inline]
    fn log_prob_grad(&self, x: F, grad: &mut [F]) -> F {
        let lp = self.log_prob(x);
        if lp == F::neg_infinity() && !(x >= F::zero() && x <= F::one()) {
            grad[0] = F::zero();
            grad[1] = F::zero();
            return lp;
        }
        let psi_ab = (self.a + self.b).digamma();
        grad[0] = x.ln() - self.a.digamma() + psi_ab;
        grad[1] = (-x).ln_1p() - self.b.digamma() + psi_ab;
        lp
    }

    fn entropy(&self) -> F {
        let (a, b) = (self.a, self.b);
        let two = F::lit(2.0);
        self.ln_beta() - (a - F::one()) * a.digamma() - (b - F::one()) * b.digamma()
            + (a + b - two) * (a + b).digamma()
    }

    fn mean(&self) -> F {
        self.a / (self.a + self.b)
    }

    fn variance(&self) -> F {
        let s = self.a + self.b;
        self.a * self.b / (s * s * (s + F::one()))
    }
}

impl<F: Real> KlDivergence<Beta<F>> for Beta<F> {
    type Output = F;
    fn kl(&self, q: &Beta<F>) -> F {
        let (a1, b1, a2, b2) = (self.a, self.b, q.a, q.b);
        q.ln_beta() - self.ln_beta()
            + (a1 - a2) * a1.digamma()
            + (b1 - b2) * b1.digamma()
            + (a2 - a1 + b2 - b1) * (a1 + b1).digamma()
    }
}

impl<F: Real> KlDivergence<Exponential<F>> for Beta<F> {
    type Output = F;
    fn kl(&self, q: &Exponential<F>) -> F {
        q.cross_entropy(self.mean()) - self.entropy()
    }
}

impl<F: Real> KlDivergence<Gamma<F>> for Beta<F> {
    type Output = F;
    /// −H(Beta) + E[−log Γ(X)], with E\[log X\] = ψ(a) − ψ(a + b).
    fn kl(&self, q: &Gamma<F>) -> F {
        let mean_log = self.a.digamma() - (self.a + self.b).digamma();
        q.cross_entropy(self.mean(), mean_log) - self.entropy()
    }
}

impl<F: Real> KlDivergence<Normal<F>> for Beta<F> {
    type Output = F;
    /// KL(Beta ‖ Normal) = −H(Beta) + ½ log(2πσ²) + (Var X + (E\[X\] − μ)²)/(2σ²).
    fn kl(&self, q: &Normal<F>) -> F {
        q.cross_entropy(self.mean(), self.variance()) - self.entropy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(a, b, x) in &[(0.7, 1.5, 0.3), (2.5, 0.4, 0.9), (12.0, 3.0, 0.01)] {
            check_gradient::<Beta<f64>>(&[a, b], x, 1e-7);
        }
    }

    #[test]
    fn density_integrates_to_one_and_entropy_is_expected_nll() {
        let d = Beta::new(2.3, 3.7).unwrap();
        assert!((integrate_density(&d, 0.0, 1.0, 20000) - 1.0).abs() < 1e-10);
        assert!((integrate_entropy(&d, 0.0, 1.0, 20000) - d.entropy()).abs() < 1e-9);
    }

    #[test]
    fn edges() {
        let u = Beta::new(1.0f64, 1.0).unwrap();
        assert_eq!(u.log_prob(0.0), 0.0);
        assert_eq!(u.log_prob(1.0), 0.0);
        assert_eq!(u.log_prob(-0.1), f64::NEG_INFINITY);
        assert_eq!(Beta::new(0.5f64, 2.0).unwrap().log_prob(0.0), f64::INFINITY);
        assert_eq!(Beta::new(2.0f64, 2.0).unwrap().log_prob(1.0), f64::NEG_INFINITY);
        assert!(u.log_prob(f64::NAN).is_nan());
        assert!(Beta::new(-1.0f64, 1.0).is_err());
    }

    fn quad_kl<Q: Family<f64>>(p: &Beta<f64>, q: &Q) -> f64 {
        let n = 200000;
        let h = 1.0 / n as f64;
        // Midpoint rule: avoids the endpoints where log p may be ±inf.
        (0..n)
            .map(|i| {
                let x = (i as f64 + 0.5) * h;
                let lp = p.log_prob(x);
                lp.exp() * (lp - q.log_prob(x))
            })
            .sum::<f64>()
            * h
    }

    #[test]
    fn kl_beta_beta() {
        let p = Beta::new(2.0f64, 3.5).unwrap();
        let q = Beta::new(1.5f64, 1.5).unwrap();
        assert!(p.kl(&p).abs() < 1e-14);
        // mpmath quad: 0.212101286826548449767
        assert!((p.kl(&q) - 0.212_101_286_826_548_44).abs() < 1e-13);
        assert!((quad_kl(&p, &q) - p.kl(&q)).abs() < 1e-7);
        assert!(q.kl(&p) > 0.0);
    }

    #[test]
    fn kl_beta_normal() {
        let p = Beta::new(2.0f64, 3.5).unwrap();
        let q = Normal::new(0.2f64, 0.5).unwrap();
        assert!((quad_kl(&p, &q) - p.kl(&q)).abs() < 1e-8);
        assert!(p.kl(&q) > 0.0);
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = Beta::new(2.0f32, 3.5).unwrap();
        let d64 = Beta::new(2.0f64, 3.5).unwrap();
        check_f32_agrees(&d32, &d64, &[0.3], 1e-6, 1e-6);
    }

    #[test]
    fn kl_to_exponential_and_gamma_match_quadrature() {
        // x = σ(t), dx = σ(t)σ(−t) dt: smooth in t where the density is singular at 0 or 1; the
        // mass beyond t = ±36 is below 1e-12.
        let logistic = |t: f64| (1.0 / (1.0 + (-t).exp()), 1.0 / ((1.0 + (-t).exp()) * (1.0 + t.exp())));
        let quad = |p: &Beta<f64>, lq: &dyn Fn(f64) -> f64| {
            let f = |x: f64| {
                let lp = p.log_prob(x);
                lp.exp() * (lp - lq(x))
            };
            simpson_substituted(f, logistic, -36.0, 36.0, 40000)
        };
        let p = Beta::new(2.3f64, 3.7).unwrap();
        let e = Exponential::new(1.7).unwrap();
        let want = quad(&p, &|x| e.log_prob(x));
        assert!((p.kl(&e) - want).abs() < 1e-10, "{} vs {want}", p.kl(&e));
        for q in [Gamma::new(2.5, 0.8).unwrap(), Gamma::new(0.6, 2.0).unwrap()] {
            let want = quad(&p, &|x| q.log_prob(x));
            assert!((p.kl(&q) - want).abs() < 1e-10, "{} vs {want}", p.kl(&q));
        }
        // Singular at both ends (where rounding of 1 − σ(t) limits the quadrature to ~1e-8):
        // mpmath quad of p·log(p/q) over [0, ½, 1].
        let p = Beta::new(0.6f64, 0.8).unwrap();
        assert!((p.kl(&e) - 0.300_455_399_015_248_55).abs() < 1e-14);
        assert!((p.kl(&Gamma::new(2.5, 0.8).unwrap()) - 3.506_763_117_083_688).abs() < 1e-14);
        assert!((p.kl(&Gamma::new(0.6, 2.0).unwrap()) - 0.350_306_760_658_885_5).abs() < 1e-14);
    }
}
