//! # surprisal
//!
//! Every loss function is the negative log-likelihood — the *surprisal*, −log p — of a named
//! probabilistic model of the target. Choosing a loss is choosing a model:
//!
//! ```text
//! mse                    = Normal NLL, σ fixed        (identity link)
//! l1                     = Laplace NLL, b fixed
//! pinball(τ)             = asymmetric-Laplace NLL
//! binary cross-entropy   = Bernoulli NLL              (logit link: ∂/∂η = p − y)
//! softmax cross-entropy  = Categorical NLL            (softmax link: ∂/∂η = p − y)
//! gaussian_nll           = Normal NLL with learned variance
//! ```
//!
//! Maximum likelihood = minimum empirical cross-entropy = minimum KL(p̂ ‖ q_θ), because
//! H(p̂, q) = H(p̂) + KL(p̂ ‖ q) and H(p̂) does not depend on the model.
//!
//! Modules: [`num`] (stable primitives), [`family`] (distributions), [`link`], [`loss`] (named
//! losses, each declaring its [`loss::Likelihood`]), [`divergence`] (entropy, cross-entropy, KL),
//! [`score`] (proper scoring rules, deviances, D²; streaming accumulators), [`calibration`]
//! (reliability, calibration errors, recalibration by maximum likelihood), [`fit`] (maximum-likelihood
//! fitting: optimisers, GLMs, quantile and softmax regression, distribution fits).

#![warn(missing_docs)]

pub mod calibration;
pub mod divergence;
pub mod error;
pub mod family;
pub mod fit;
pub mod kernel;
pub mod link;
pub mod loss;
pub mod num;
pub mod score;
#[cfg(test)]
pub(crate) mod testing;

pub use error::{Error, Result};
