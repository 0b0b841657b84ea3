//! Entropy, cross-entropy and KL divergence.
//!
//! ```text
//! H(p)      = −Σ p log p                       (0·log 0 = 0)
//! H(p, q)   = −Σ p log q
//! KL(p ‖ q) =  Σ p log(p/q) = H(p, q) − H(p)   ≥ 0, = 0 iff p = q
//! ```
//!
//! Maximum likelihood minimises the empirical cross-entropy H(p̂, q_θ); since H(p̂) does not depend
//! on θ, that is the same as minimising KL(p̂ ‖ q_θ).
//!
//! Closed-form KL divergences between distribution families implement [`KlDivergence`]; each
//! implementation lives in the file of the family `p` belongs to (e.g. `family/normal.rs`).

/// Closed-form KL(self ‖ q) between two distributions, in nats.
pub trait KlDivergence<Q> {
    /// The type of the divergence (a float for univariate families).
    type Output;
    /// KL(self ‖ q) = E_self[log self(X) − log q(X)].
    fn kl(&self, q: &Q) -> Self::Output;
}
