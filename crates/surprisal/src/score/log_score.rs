//! The log score: the mean surprisal −log p(yᵢ) of the observations under their predictive
//! distributions, for every univariate family of [`crate::family`].
//!
//! ```text
//! LogScore = −Σ wᵢ·log pᵢ(yᵢ) / Σ wᵢ                  (nats)
//!          = LogScore_nats / log 2                     (bits)
//! E_{y∼Q}[−log p(y)] = H(Q, P) = H(Q) + KL(Q ‖ P)      (lowest, H(Q), exactly at P = Q)
//! ```
//!
//! It is the NLL of the model, so it is the strictly proper scoring rule that maximum likelihood
//! minimises; the mean over rows is the empirical cross-entropy. An observation outside a
//! predictive distribution's support has log p = −inf and makes the score +inf (an infinite
//! surprisal, the log score's well-known harshness); a non-finite observation is an error.
//!
//! Reference: `scipy.stats.<family>.logpdf` / `logpmf`, averaged; `sklearn.metrics.log_loss` is
//! the same score for categorical predictions.

use super::Accumulator;
use super::regression::{WeightedMean, check_rows, weight_at};
use crate::error::{Error, Result};
use crate::family::{self, Family};
use crate::num::Real;

/// The mean log score in nats and in bits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogScoreValue<F> {
    /// −Σ wᵢ·ln pᵢ(yᵢ) / Σ wᵢ.
    pub nats: F,
    /// The same in bits: nats / ln 2.
    pub bits: F,
}

/// Streaming mean log score (see [`log_score`]); O(1) memory.
#[derive(Clone, Debug, PartialEq)]
pub struct LogScore<F> {
    mean: WeightedMean<F>,
}

impl<F: Real> Default for LogScore<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Real> LogScore<F> {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self { mean: WeightedMean::new() }
    }

    /// Adds a batch of rows whose predictive distributions are family `D` with batched parameters
    /// `params` (one slice per parameter in [`Family::PARAMS`] order, each of length n or 1) and
    /// observations `value` (length n).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming the row of a non-finite observation;
    /// [`Error::InvalidParameter`] naming the row of a parameter outside its domain or of a
    /// negative weight; [`Error::ShapeMismatch`] for parameters of other lengths. The
    /// accumulator is unchanged on error.
    pub fn update<D: Family<F>>(
        &mut self,
        params: &[&[F]],
        value: &[F],
        sample_weight: Option<&[F]>,
    ) -> Result<()> {
        let off = self.mean.rows;
        let n = check_rows(off, &[("value", value)], sample_weight)?;
        let mut lp = vec![F::zero(); n];
        family::log_prob::<F, D>(params, value, &mut lp).map_err(|e| match e {
            Error::InvalidParameter { name, value, index: Some(i), reason } => {
                Error::InvalidParameter { name, value, index: Some(off + i), reason }
            }
            other => other,
        })?;
        for (i, l) in lp.iter().enumerate() {
            self.mean.push(weight_at(sample_weight, i), -*l);
        }
        Ok(())
    }

    /// Adds one row with an already-built predictive distribution.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a non-finite observation; [`Error::InvalidParameter`] for a
    /// weight that is negative or not finite.
    pub fn update_one<D: Family<F>>(&mut self, dist: &D, value: F, weight: F) -> Result<()> {
        check_rows(self.mean.rows, &[("value", &[value])], Some(&[weight]))?;
        self.mean.push(weight, -dist.log_prob(value));
        Ok(())
    }
}

impl<F: Real> Accumulator for LogScore<F> {
    type Output = LogScoreValue<F>;
    fn merge(&mut self, other: &Self) -> Result<()> {
        self.mean.merge(&other.mean);
        Ok(())
    }
    fn finish(&self) -> Result<LogScoreValue<F>> {
        let nats = self.mean.finish()?;
        Ok(LogScoreValue { nats, bits: nats / F::LN_2() })
    }
}

/// Mean log score −Σ wᵢ·log pᵢ(yᵢ) / Σ wᵢ of family `D` predictions, in nats and bits: one batch
/// through [`LogScore`].
///
/// Model: yᵢ ∼ D(θᵢ); the score is the model's mean NLL (the empirical cross-entropy).
///
/// ```text
/// nats = −Σ wᵢ·ln p(yᵢ | θᵢ) / Σ wᵢ,   bits = nats / ln 2
/// ```
///
/// Shapes: `params[k]` of length n or 1, `value` and `sample_weight` of length n.
///
/// # Errors
/// As [`LogScore::update`]; [`Error::Empty`] for no rows or a zero total weight.
///
/// # Example
/// ```
/// use surprisal::family::Normal;
/// use surprisal::score::log_score;
/// // mpmath: mean of −log N(y | 0.5, 2²) over y = 0, 1.5, 3
/// let s = log_score::<f64, Normal<f64>>(&[&[0.5], &[2.0]], &[0.0, 1.5, 3.0], None).unwrap();
/// assert!((s.nats - 1.9245857137646180512).abs() < 1e-15);
/// assert!((s.bits - 2.7765902650139604638).abs() < 1e-14);
/// ```
pub fn log_score<F: Real, D: Family<F>>(
    params: &[&[F]],
    value: &[F],
    sample_weight: Option<&[F]>,
) -> Result<LogScoreValue<F>> {
    let mut acc = LogScore::new();
    acc.update::<D>(params, value, sample_weight)?;
    acc.finish()
}

#[cfg(test)]
mod tests {
    use super::super::regression::testing::*;
    use super::*;
    use crate::family::{Gamma, Laplace, Normal, Poisson, StudentT};
    use crate::testing::Rng;

    fn finish_nats(a: &LogScore<f64>) -> f64 {
        a.finish().unwrap().nats
    }

    #[derive(Clone)]
    struct Nats(LogScore<f64>);
    impl Accumulator for Nats {
        type Output = f64;
        fn merge(&mut self, o: &Self) -> Result<()> {
            self.0.merge(&o.0)
        }
        fn finish(&self) -> Result<f64> {
            Ok(finish_nats(&self.0))
        }
    }

    #[test]
    fn shards_merge_to_one_pass() {
        let mut rng = Rng(51);
        let n = 120;
        let y: Vec<f64> = (0..n).map(|_| rng.normal() * 2.0).collect();
        let loc: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let scale: Vec<f64> = (0..n).map(|_| 0.3 + rng.uniform()).collect();
        let w: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let rows = |r: &mut Rng| 1 + r.below(n);
        check_merge(
            16,
            || Nats(LogScore::new()),
            rows,
            |a, s, e| {
                a.0.update::<Normal<f64>>(&[&loc[s..e], &scale[s..e]], &y[s..e], Some(&w[s..e])).unwrap();
                a.0.update::<Laplace<f64>>(&[&loc[s..e], &[1.5]], &y[s..e], None).unwrap();
            },
            1e-12,
        );
    }

    #[test]
    fn log_score_is_proper_by_monte_carlo() {
        // Expected score under the truth, estimated on common seeded draws: lowest at the truth.
        let mut rng = Rng(9);
        let n = 40000;
        let ys: Vec<f64> = (0..n).map(|_| 0.4 + 1.3 * rng.normal()).collect();
        let score = |params: &[f64]| {
            log_score::<f64, Normal<f64>>(&[&[params[0]], &[params[1]]], &ys, None).unwrap().nats
        };
        let truth = score(&[0.4, 1.3]);
        for p in [[0.6, 1.3], [0.2, 1.3], [0.4, 1.6], [0.4, 1.0]] {
            assert!(truth < score(&p), "{p:?}");
        }
        // Heavier tails than the truth lose too.
        let t = log_score::<f64, StudentT<f64>>(&[&[3.0], &[0.4], &[1.3]], &ys, None).unwrap().nats;
        assert!(truth < t);
        // Counts: Poisson(3) draws by inversion.
        let counts: Vec<f64> = (0..n)
            .map(|_| {
                let (mut k, mut p, u) = (0.0f64, (-3.0f64).exp(), rng.uniform());
                let mut c = p;
                while u > c {
                    k += 1.0;
                    p *= 3.0 / k;
                    c += p;
                }
                k
            })
            .collect();
        let ps = |rate: f64| log_score::<f64, Poisson<f64>>(&[&[rate]], &counts, None).unwrap().nats;
        assert!(ps(3.0) < ps(3.4) && ps(3.0) < ps(2.6));
        // The expected score at the truth is its entropy (Monte Carlo to a few standard errors).
        let h = Normal::new(0.4, 1.3).unwrap().entropy();
        assert!((truth - h).abs() < 0.02, "{truth} vs H = {h}");
    }

    #[test]
    fn edges_are_typed_errors_and_support_gives_infinity() {
        let none: [f64; 0] = [];
        let e = log_score::<f64, Normal<f64>>(&[&[0.0], &[1.0]], &none, None).unwrap_err();
        assert_eq!(e, Error::Empty { name: "rows" });
        let e = log_score::<f64, Normal<f64>>(&[&[0.0], &[1.0]], &[1.0, 2.0], Some(&[0.0, 0.0])).unwrap_err();
        assert_eq!(e, Error::Empty { name: "sample_weight" });
        let mut a = LogScore::new();
        a.update::<Normal<f64>>(&[&[0.0], &[1.0]], &[1.0, 2.0], None).unwrap();
        let e = a.update::<Normal<f64>>(&[&[0.0], &[1.0, -1.0]], &[1.0, 2.0], None).unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { name: "scale", index: Some(3), .. }), "{e:?}");
        let e = a.update::<Normal<f64>>(&[&[0.0], &[1.0]], &[f64::NAN], None).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "value", index: Some(2), .. }));
        // Outside the support: an infinite surprisal, not an error.
        let s = log_score::<f64, Gamma<f64>>(&[&[2.0], &[1.0]], &[1.0, -1.0], None).unwrap();
        assert_eq!(s.nats, f64::INFINITY);
        // update_one agrees with the batch path, f32 with f64.
        let mut b = LogScore::new();
        let d = Normal::new(0.0, 1.0).unwrap();
        b.update_one(&d, 1.0, 1.0).unwrap();
        b.update_one(&d, 2.0, 1.0).unwrap();
        let mut c = LogScore::new();
        c.update::<Normal<f64>>(&[&[0.0], &[1.0]], &[1.0, 2.0], None).unwrap();
        assert_eq!(b.finish().unwrap(), c.finish().unwrap());
        let s32 = log_score::<f32, Normal<f32>>(&[&[0.5], &[2.0]], &[0.0, 1.5, 3.0], None).unwrap();
        assert!((s32.nats as f64 - 1.924_585_713_764_618).abs() < 1e-6);
    }
}
