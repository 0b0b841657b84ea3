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
//! ```
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
        }
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_and_inverse_round_trip_and_derivative_matches_finite_difference() {
        let links = [Link::Identity, Link::Log, Link::Logit, Link::Inverse, Link::Softplus];
        for link in links {
            for &eta in &[-2.5f64, -0.3, 0.4, 1.7] {
                let mu = link.inverse(eta);
                assert!((link.link(mu) - eta).abs() < 1e-12, "{link:?} at {eta}");
                let h = 6e-6;
                let fd = (link.inverse(eta + h) - link.inverse(eta - h)) / (2.0 * h);
                assert!((link.dmu_deta(eta) - fd).abs() < 1e-8 * fd.abs().max(1.0), "{link:?} at {eta}");
            }
        }
    }
}
