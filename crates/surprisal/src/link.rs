//! Link functions: how a model's raw output η (a logit, a log-rate, …) maps to the mean or
//! parameter μ of a family, μ = g⁻¹(η), with the derivative dμ/dη needed by the chain rule.
//!
//! ```text
//! identity   μ = η                 dμ/dη = 1
//! log        μ = eᶯ                dμ/dη = eᶯ
//! logit      μ = σ(η)              dμ/dη = σ(η)(1 − σ(η))
//! inverse    μ = 1/η               dμ/dη = −1/η²
//! softplus   μ = log(1 + eᶯ)       dμ/dη = σ(η)
//! softmax    μ = softmax(η) (vector valued; see `num::softmax`), ∂μᵢ/∂ηⱼ = μᵢ(δᵢⱼ − μⱼ)
//! probit     μ = Φ(η)              dμ/dη = φ(η) = e^{−η²/2}/√(2π)
//! cloglog    μ = 1 − exp(−eᶯ)      dμ/dη = exp(η − eᶯ)
//! inverse_squared  μ = η^{−1/2}    dμ/dη = −½ η^{−3/2}     (η = 1/μ², canonical for the inverse Gaussian)
//! sqrt       μ = η²                dμ/dη = 2η              (η = √μ)
//! ```
//!
//! The probit link's g(μ) = Φ⁻¹(μ) uses Acklam's rational approximation refined by one Halley step
//! (relative error near machine precision); cloglog's μ is computed as −expm1(−eᶯ) so that small μ
//! keep their digits.
//!
//! A link is *canonical* for a family when η is that family's natural parameter; then
//! ∂NLL/∂η = (μ − y)/φ, the clean "prediction minus target" gradient (Bernoulli–logit,
//! Poisson–log, Categorical–softmax, Normal–identity).

use crate::num::{Real, sigmoid, softplus};

/// A link function g, used as μ = g⁻¹(η).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Link {
    /// μ = η.
    Identity,
    /// μ = exp(η) (log link).
    Log,
    /// μ = σ(η) (logit link).
    Logit,
    /// μ = 1/η (inverse link).
    Inverse,
    /// μ = softplus(η), a smooth positive link often used for scales.
    Softplus,
    /// μ = softmax(η) over the last axis (the multinomial logit link).
    Softmax,
    /// μ = Φ(η), the standard normal CDF (probit link).
    Probit,
    /// μ = 1 − exp(−exp(η)) (complementary log-log link).
    Cloglog,
    /// μ = η^{−1/2}, i.e. η = 1/μ² (the inverse Gaussian's canonical link).
    InverseSquared,
    /// μ = η², i.e. η = √μ (square-root link).
    Sqrt,
}

impl Link {
    /// The link's name as used in documentation and tables.
    pub fn name(self) -> &'static str {
        match self {
            Link::Identity => "identity",
            Link::Log => "log",
            Link::Logit => "logit",
            Link::Inverse => "inverse",
            Link::Softplus => "softplus",
            Link::Softmax => "softmax",
            Link::Probit => "probit",
            Link::Cloglog => "cloglog",
            Link::InverseSquared => "inverse_squared",
            Link::Sqrt => "sqrt",
        }
    }

    /// The mean μ = g⁻¹(η) as a formula in the linear predictor written `eta`.
    ///
    /// ```
    /// use surprisal::link::Link;
    /// assert_eq!(Link::Log.mean_formula("x"), "exp(x)");
    /// assert_eq!(Link::Softmax.mean_formula("x"), "softmax(x)");
    /// assert_eq!(Link::Identity.mean_formula("η"), "η");
    /// ```
    pub fn mean_formula(self, eta: &str) -> String {
        match self {
            Link::Identity => eta.to_string(),
            Link::Log => format!("exp({eta})"),
            Link::Logit => format!("σ({eta})"),
            Link::Inverse => format!("1/{eta}"),
            Link::Softplus => format!("softplus({eta})"),
            Link::Softmax => format!("softmax({eta})"),
            Link::Probit => format!("Φ({eta})"),
            Link::Cloglog => format!("1 − exp(−exp({eta}))"),
            Link::InverseSquared => format!("{eta}^(−1/2)"),
            Link::Sqrt => format!("{eta}²"),
        }
    }

    /// The link named `name` (as printed by [`Link::name`]).
    ///
    /// # Errors
    /// [`crate::Error::InvalidOption`] for an unknown name.
    pub fn parse(name: &str) -> crate::Result<Link> {
        let all = [
            Link::Identity,
            Link::Log,
            Link::Logit,
            Link::Inverse,
            Link::Softplus,
            Link::Softmax,
            Link::Probit,
            Link::Cloglog,
            Link::InverseSquared,
            Link::Sqrt,
        ];
        all.into_iter().find(|l| l.name() == name).ok_or_else(|| crate::Error::InvalidOption {
            name: "link",
            value: name.to_string(),
            reason: "expected identity, log, logit, inverse, softplus, softmax, probit, cloglog, \
                     inverse_squared or sqrt",
        })
    }

    /// μ = g⁻¹(η) for the scalar links. For [`Link::Softmax`], which is vector valued, this is the
    /// logistic function of a two-class logit difference (softmax of (0, η) at index 1).
    pub fn inverse<F: Real>(self, eta: F) -> F {
        match self {
            Link::Identity => eta,
            Link::Log => eta.exp(),
            Link::Logit | Link::Softmax => sigmoid(eta),
            Link::Inverse => eta.recip(),
            Link::Softplus => softplus(eta),
            Link::Probit => F::lit(0.5) * (-eta * F::FRAC_1_SQRT_2()).erfc(),
            // 1 − exp(−eᶯ) = −expm1(−eᶯ): exact for small μ.
            Link::Cloglog => -(-eta.exp()).exp_m1(),
            Link::InverseSquared => eta.sqrt().recip(),
            Link::Sqrt => eta * eta,
        }
    }

    /// dμ/dη at η (scalar links; see [`Link::inverse`] for softmax).
    pub fn dmu_deta<F: Real>(self, eta: F) -> F {
        match self {
            Link::Identity => F::one(),
            Link::Log => eta.exp(),
            Link::Logit | Link::Softmax => {
                let p = sigmoid(eta);
                p * (F::one() - p)
            }
            Link::Inverse => -(eta * eta).recip(),
            Link::Softplus => sigmoid(eta),
            Link::Probit => (-F::lit(0.5) * eta * eta).exp() * F::lit(0.398_942_280_401_432_7),
            Link::Cloglog => (eta - eta.exp()).exp(),
            Link::InverseSquared => -F::lit(0.5) / (eta * eta.sqrt()),
            Link::Sqrt => F::lit(2.0) * eta,
        }
    }

    /// (μ, dμ/dη) at η together, sharing the work (one exponential for log, logit, cloglog).
    #[inline]
    pub fn inverse_deriv<F: Real>(self, eta: F) -> (F, F) {
        match self {
            Link::Log => {
                let m = eta.exp();
                (m, m)
            }
            Link::Logit => {
                let m = sigmoid(eta);
                (m, m * (F::one() - m))
            }
            Link::Identity => (eta, F::one()),
            _ => (self.inverse(eta), self.dmu_deta(eta)),
        }
    }

    /// η = g(μ), the link itself.
    pub fn link<F: Real>(self, mu: F) -> F {
        match self {
            Link::Identity => mu,
            Link::Log => mu.ln(),
            Link::Logit | Link::Softmax => mu.ln() - (-mu).ln_1p(),
            Link::Inverse => mu.recip(),
            // softplus⁻¹(μ) = log(eᵘ − 1) = μ + log(1 − e^{−μ})
            Link::Softplus => mu + crate::num::log1mexp(-mu),
            Link::Probit => F::lit(ndtri(mu.to_f64_lossy())),
            // log(−log(1 − μ))
            Link::Cloglog => (-(-mu).ln_1p()).ln(),
            Link::InverseSquared => (mu * mu).recip(),
            Link::Sqrt => mu.sqrt(),
        }
    }
}

/// Φ⁻¹(p), the standard normal quantile: Acklam's rational approximation (relative error 1.15e-9)
/// refined by one Halley step on Φ(x) − p. ndtri(0) = −inf, ndtri(1) = +inf, NaN outside [0, 1].
pub fn ndtri(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383_577_518_672_69e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let x = if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (-p).ln_1p()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    // Halley step on Φ(x) − p, with the error taken in the tail that keeps its digits.
    let e =
        if x < 0.0 { crate::num::special::ndtr(x) - p } else { (1.0 - p) - crate::num::special::ndtr(-x) };
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (0.5 * x * x).exp();
    x - u / (1.0 + 0.5 * x * u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_and_inverse_round_trip_and_derivative_matches_finite_difference() {
        let links = [
            Link::Identity,
            Link::Log,
            Link::Logit,
            Link::Inverse,
            Link::Softplus,
            Link::Probit,
            Link::Cloglog,
        ];
        for link in links {
            for &eta in &[-2.5f64, -0.3, 0.4, 1.7] {
                let mu = link.inverse(eta);
                assert!((link.link(mu) - eta).abs() < 1e-12, "{link:?} at {eta}");
                let h = 6e-6;
                let fd = (link.inverse(eta + h) - link.inverse(eta - h)) / (2.0 * h);
                assert!((link.dmu_deta(eta) - fd).abs() < 1e-8 * fd.abs().max(1.0), "{link:?} at {eta}");
                let (m, dm) = link.inverse_deriv(eta);
                assert!(
                    (m - mu).abs() <= 1e-15 * mu.abs() && (dm - link.dmu_deta(eta)).abs() <= 1e-15 * dm.abs()
                );
            }
        }
        // Links defined for η > 0 only.
        for link in [Link::InverseSquared, Link::Sqrt] {
            for &eta in &[0.05f64, 0.3, 1.7, 12.0] {
                let mu = link.inverse(eta);
                assert!((link.link(mu) - eta).abs() < 1e-12 * eta.max(1.0), "{link:?} at {eta}");
                let h = 6e-6 * eta;
                let fd = (link.inverse(eta + h) - link.inverse(eta - h)) / (2.0 * h);
                assert!((link.dmu_deta(eta) - fd).abs() < 1e-7 * fd.abs().max(1.0), "{link:?} at {eta}");
            }
        }
    }

    #[test]
    fn new_links_match_independent_values() {
        // mpmath: ncdf(0.7) = 0.75803634777692697, npdf(0.7) = 0.31225393336676127,
        // 1 − exp(−e^{0.7}) = 0.86651320334191612, exp(0.7 − e^{0.7}) = 0.26880939818177736.
        assert!((Link::Probit.inverse(0.7f64) - 0.758_036_347_776_927).abs() < 1e-15);
        assert!((Link::Probit.dmu_deta(0.7f64) - 0.312_253_933_366_761_27).abs() < 1e-15);
        assert!((Link::Cloglog.inverse(0.7f64) - 0.866_513_203_341_916_1).abs() < 1e-15);
        assert!((Link::Cloglog.dmu_deta(0.7f64) - 0.268_809_398_181_777_36).abs() < 1e-15);
        // Cloglog keeps the digits of tiny μ: 1 − exp(−e^{−40}) ≈ e^{−40}.
        assert!((Link::Cloglog.inverse(-40.0f64) / (-40f64).exp() - 1.0).abs() < 1e-15);
        // mpmath: −sqrt(2)·erfinv(1 − 2·1e-10) = −6.3613409024040557, probit(0.975) = 1.959963984540054.
        assert!((ndtri(1e-10) + 6.361_340_902_404_056).abs() < 1e-13);
        assert!((ndtri(0.975) - 1.959_963_984_540_054).abs() < 1e-14);
        assert!(ndtri(0.0) == f64::NEG_INFINITY && ndtri(1.0) == f64::INFINITY && ndtri(1.5).is_nan());
        for l in [Link::Probit, Link::Cloglog, Link::InverseSquared, Link::Sqrt] {
            assert_eq!(Link::parse(l.name()).unwrap(), l);
        }
        assert!(Link::parse("nope").is_err());
        // f32 agrees with f64.
        assert!((Link::Probit.inverse(0.7f32) as f64 - 0.758_036_347_776_927).abs() < 1e-7);
    }
}
