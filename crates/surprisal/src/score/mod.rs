//! Proper scoring rules, deviances and D² scores: how good is a predicted distribution?
//!
//! A scoring rule S(P, y) is *proper* when the expected score under the true distribution Q,
//! E_{y∼Q}[S(P, y)], is lowest at P = Q (strictly proper: only there). The log score
//! S = −log p(y) is the NLL itself; its expectation is the cross-entropy H(Q, P) = H(Q) + KL(Q ‖ P).
//! The Brier score and the CRPS are proper too; accuracy is not.
//!
//! Every score over rows is a streaming [`Accumulator`]: rows arrive in batches through the
//! accumulator's `update`, two accumulators over disjoint shards [`merge`](Accumulator::merge),
//! and [`finish`](Accumulator::finish) gives the score, so a file of any size is scored in one pass
//! and shards can be scored apart and combined. The plain functions (`log_loss(..)`, …) are one
//! batch through the same accumulator.

/// A statistic computed over rows in one streaming pass.
///
/// Implementors also have an inherent `update(&mut self, ..)` taking a batch of rows (its
/// arguments differ from statistic to statistic). The contract, checked by property tests: for
/// any split of the rows into shards, updating one accumulator per shard and merging them gives the
/// same result as one accumulator over all rows (to rounding, 1e-12 relative).
pub trait Accumulator: Clone {
    /// What [`Accumulator::finish`] returns.
    type Output;
    /// Folds in another accumulator of the same statistic over a disjoint set of rows.
    ///
    /// # Errors
    /// [`crate::Error::InvalidOption`] when the two were built with different settings (bins,
    /// classes, powers, …).
    fn merge(&mut self, other: &Self) -> crate::Result<()>;
    /// The statistic over all rows seen so far.
    ///
    /// # Errors
    /// [`crate::Error::Empty`] when no row (or no weight) has been seen, or what the statistic
    /// itself cannot define (e.g. R² of a constant target).
    fn finish(&self) -> crate::Result<Self::Output>;
}

pub mod crps;
pub mod deviance;
pub mod log_score;
pub mod quantile;
pub mod regression;

pub use crps::{Crps, crps_ensemble, crps_gaussian, crps_laplace, crps_logistic};
pub use deviance::{
    D2TweedieScore, MeanTweedieDeviance, d2_tweedie_score, mean_gamma_deviance, mean_poisson_deviance,
    mean_tweedie_deviance,
};
pub use log_score::{LogScore, LogScoreValue, log_score};
pub use quantile::{D2PinballScore, MeanPinballLoss, d2_pinball_score, mean_pinball_loss};
pub use regression::{
    MeanAbsoluteError, MeanSquaredError, R2Score, mean_absolute_error, mean_squared_error, r2_score,
};
pub mod binary;
pub mod brier;
pub mod classification;

pub use binary::{BinaryScores, BinaryScoresValue};
pub use brier::{
    BrierDecomposition, BrierScale, BrierScore, MurphyDecomposition, brier_decomposition,
    brier_decomposition_binary, brier_score, brier_score_binary,
};
pub use classification::{
    Accuracy, Classes, D2LogLoss, LogLoss, LogLossOptions, accuracy, accuracy_binary, d2_log_loss_score,
    d2_log_loss_score_binary, log_loss, log_loss_binary,
};
