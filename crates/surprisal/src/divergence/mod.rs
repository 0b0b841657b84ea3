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
//!
//! For discrete distributions over a common finite support, [`discrete_information`] returns
//! H(p), H(p, q) and KL(p ‖ q) from one pass ([`DiscreteInformation`], with
//! `cross_entropy = entropy + kl` by construction), and [`entropy_discrete`] H(p) alone; both in
//! nats, bits or any [`Base`], with SciPy's normalisation or an exact-sum check
//! ([`Normalization`]). Conventions: 0·log 0 = 0, KL = +inf where p > 0 = q.

/// Closed-form KL(self ‖ q) between two distributions, in nats.
pub trait KlDivergence<Q> {
    /// The type of the divergence (a float for univariate families).
    type Output;
    /// KL(self ‖ q) = E_self[log self(X) − log q(X)].
    fn kl(&self, q: &Q) -> Self::Output;
}

// ---------------------------------------------------------------------------------------------
// Discrete distributions over a common finite support.
// ---------------------------------------------------------------------------------------------

use crate::error::{Error, Result};
use crate::num::{Real, xlogy};

/// The unit of information: the base of the logarithm.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Base {
    /// Natural logarithm (nats).
    #[default]
    Nats,
    /// Base 2 (bits, shannons).
    Bits,
    /// Any base b > 0, b ≠ 1 (e.g. 10 for hartleys).
    Other(f64),
}

impl Base {
    /// ln b: divide a quantity in nats by this to express it in base b.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a base that is not finite, ≤ 0 or 1.
    pub fn ln(self) -> Result<f64> {
        match self {
            Base::Nats => Ok(1.0),
            Base::Bits => Ok(std::f64::consts::LN_2),
            Base::Other(b) if b.is_finite() && b > 0.0 && b != 1.0 => Ok(b.ln()),
            Base::Other(b) => Err(Error::param("base", b, "must be finite, > 0 and != 1")),
        }
    }
}

/// What to do with inputs that do not sum to one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Normalization {
    /// Divide p (and q) by their sums first, as `scipy.stats.entropy` does (any non-negative
    /// vector with a positive finite sum is accepted).
    Normalize,
    /// Take p and q as given; each must sum to 1 within `tol` (absolute), else an error.
    Exact {
        /// Allowed |Σ p − 1|.
        tol: f64,
    },
}

impl Default for Normalization {
    /// [`Normalization::Exact`] with tolerance 1e−6.
    fn default() -> Self {
        Normalization::Exact { tol: 1e-6 }
    }
}

/// Entropy, cross-entropy and KL divergence of two discrete distributions, computed together so
/// that `cross_entropy == entropy + kl` holds by construction (it is computed as that sum).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DiscreteInformation<F> {
    /// H(p) = −Σ p log p.
    pub entropy: F,
    /// H(p, q) = −Σ p log q = H(p) + KL(p ‖ q).
    pub cross_entropy: F,
    /// KL(p ‖ q) = Σ p log(p/q) ≥ 0.
    pub kl: F,
}

/// Validates one distribution and returns the factor to multiply it by (1/Σ, or 1 for exact).
fn scale_of<F: Real>(name: &'static str, p: &[F], norm: Normalization) -> Result<F> {
    if p.is_empty() {
        return Err(Error::Empty { name });
    }
    for (i, &v) in p.iter().enumerate() {
        if !(v.is_finite() && v >= F::zero()) {
            return Err(Error::InvalidValue {
                name,
                value: v.to_f64_lossy(),
                index: Some(i),
                reason: "must be finite and >= 0",
            });
        }
    }
    let s: F = p.iter().copied().sum();
    match norm {
        Normalization::Normalize => {
            if s > F::zero() && s.is_finite() {
                Ok(s.recip())
            } else {
                Err(Error::InvalidValue {
                    name,
                    value: s.to_f64_lossy(),
                    index: None,
                    reason: "must have a positive, finite sum",
                })
            }
        }
        Normalization::Exact { tol } => {
            if (s.to_f64_lossy() - 1.0).abs() <= tol {
                Ok(F::one())
            } else {
                Err(Error::InvalidValue {
                    name,
                    value: s.to_f64_lossy(),
                    index: None,
                    reason: "must sum to 1 (this value is the sum); use Normalization::Normalize to rescale",
                })
            }
        }
    }
}

/// p·log(p/q) in nats with 0·log(0/q) = 0 and p·log(p/0) = +inf for p > 0 (SciPy's `rel_entr`).
#[inline]
fn rel_entr<F: Real>(p: F, q: F) -> F {
    if p == F::zero() {
        F::zero()
    } else if q == F::zero() {
        F::infinity()
    } else {
        let r = p / q;
        // The ratio can overflow or underflow where the logs do not.
        if r.is_finite() && r > F::zero() { p * r.ln() } else { p * (p.ln() - q.ln()) }
    }
}

/// Entropy H(p) = −Σ p log p of a discrete distribution, in `base` (0·log 0 = 0).
///
/// # Errors
/// [`Error::Empty`] for an empty `p`; [`Error::InvalidValue`] for a negative or non-finite entry,
/// or for a sum other than 1 under [`Normalization::Exact`] (0 or non-finite under `Normalize`);
/// [`Error::InvalidParameter`] for a bad base.
///
/// # Example
/// ```
/// use surprisal::divergence::{Base, Normalization, entropy_discrete};
/// // scipy.stats.entropy([2, 1, 1, 0], base=2)
/// let h = entropy_discrete(&[2.0f64, 1.0, 1.0, 0.0], Base::Bits, Normalization::Normalize).unwrap();
/// assert!((h - 1.5).abs() < 1e-15);
/// ```
pub fn entropy_discrete<F: Real>(p: &[F], base: Base, norm: Normalization) -> Result<F> {
    let ln_b = F::lit(base.ln()?);
    let s = scale_of("p", p, norm)?;
    let h: F = p.iter().map(|&v| -xlogy(v * s, v * s)).sum();
    Ok(h / ln_b)
}

/// Entropy H(p), cross-entropy H(p, q) and KL(p ‖ q) of two discrete distributions over the same
/// support, in `base`, in one pass.
///
/// ```text
/// H(p)      = −Σ p log p                    0·log 0 = 0
/// KL(p ‖ q) =  Σ p log(p/q)                 = +inf where p > 0 = q
/// H(p, q)   =  H(p) + KL(p ‖ q)             (= −Σ p log q)
/// ```
///
/// With [`Normalization::Normalize`] p and q are first divided by their sums (`scipy.stats.entropy`);
/// with [`Normalization::Exact`] they must already sum to 1.
///
/// # Errors
/// [`Error::ShapeMismatch`] when `q.len() != p.len()`; otherwise as [`entropy_discrete`], for
/// either input.
///
/// # Example
/// ```
/// use surprisal::divergence::{Base, Normalization, discrete_information};
/// let p = [0.5f64, 0.25, 0.25, 0.0];
/// let q = [0.25f64; 4];
/// let nats = discrete_information(&p, &q, Base::Nats, Normalization::default()).unwrap();
/// // mpmath: H(p) = 1.5·log 2, KL = ½·log 2, H(p, q) = log 4
/// assert!((nats.entropy - 1.0397207708399179641).abs() < 1e-15);
/// assert!((nats.kl - 0.34657359027997265471).abs() < 1e-15);
/// assert!((nats.cross_entropy - 1.3862943611198906188).abs() < 1e-15);
/// let bits = discrete_information(&p, &q, Base::Bits, Normalization::default()).unwrap();
/// assert!((bits.entropy - 1.5).abs() < 1e-15 && (bits.kl - 0.5).abs() < 1e-15);
/// ```
pub fn discrete_information<F: Real>(
    p: &[F],
    q: &[F],
    base: Base,
    norm: Normalization,
) -> Result<DiscreteInformation<F>> {
    crate::error::check::same_len("q", p.len(), q.len())?;
    let ln_b = F::lit(base.ln()?);
    let sp = scale_of("p", p, norm)?;
    let sq = scale_of("q", q, norm)?;
    let (mut h, mut kl) = (F::zero(), F::zero());
    for (&a, &b) in p.iter().zip(q) {
        let (a, b) = (a * sp, b * sq);
        h = h - xlogy(a, a);
        kl = kl + rel_entr(a, b);
    }
    // Rounding can leave a KL of −1 ulp-ish between nearly equal distributions; KL ≥ 0 exactly.
    let kl = kl.max(F::zero()) / ln_b;
    let entropy = h / ln_b;
    Ok(DiscreteInformation { entropy, cross_entropy: entropy + kl, kl })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn normalise(v: &[f64]) -> Vec<f64> {
        let s: f64 = v.iter().sum();
        v.iter().map(|x| x / s).collect()
    }

    proptest! {
        #[test]
        fn decomposition_and_gibbs_inequality(
            a in proptest::collection::vec(0.0f64..10.0, 1..12),
            seed in 0.01f64..5.0,
        ) {
            prop_assume!(a.iter().sum::<f64>() > 1e-3);
            let p = normalise(&a);
            let q = normalise(&a.iter().enumerate().map(|(i, x)| x + seed * (1.0 + i as f64)).collect::<Vec<_>>());
            let r = discrete_information(&p, &q, Base::Nats, Normalization::default()).unwrap();
            // H(p, q) by its own definition, −Σ p log q.
            let direct: f64 = p.iter().zip(&q).map(|(&x, &y)| -xlogy(x, y)).sum();
            prop_assert!((r.cross_entropy - direct).abs() <= 1e-12 * direct.abs().max(1.0));
            prop_assert!(r.kl >= 0.0 && r.entropy >= 0.0);
            prop_assert!(r.entropy <= (p.len() as f64).ln() + 1e-12);
            let same = discrete_information(&p, &p, Base::Nats, Normalization::default()).unwrap();
            prop_assert!(same.kl.abs() < 1e-12);
            prop_assert_eq!(r.cross_entropy, r.entropy + r.kl);
            let bits = discrete_information(&p, &q, Base::Bits, Normalization::default()).unwrap();
            prop_assert!((bits.kl - r.kl / 2f64.ln()).abs() <= 1e-12 * r.kl.max(1.0));
        }
    }

    #[test]
    fn kl_is_infinite_where_q_misses_mass_and_zero_terms_vanish() {
        let r =
            discrete_information(&[0.5f64, 0.5, 0.0], &[1.0, 0.0, 0.0], Base::Nats, Normalization::default())
                .unwrap();
        assert_eq!(r.kl, f64::INFINITY);
        assert_eq!(r.cross_entropy, f64::INFINITY);
        assert!((r.entropy - 2f64.ln()).abs() < 1e-15);
        // q > 0 = p: no contribution.
        let r =
            discrete_information(&[1.0f64, 0.0], &[0.5, 0.5], Base::Nats, Normalization::default()).unwrap();
        assert!((r.kl - 2f64.ln()).abs() < 1e-15 && r.entropy == 0.0);
        // Tiny q: the ratio overflows, the logs do not.
        let r = discrete_information(
            &[0.5f64, 0.5],
            &[1e-320, 1.0],
            Base::Nats,
            Normalization::Exact { tol: 1e-12 },
        )
        .unwrap();
        assert!(r.kl.is_finite() && r.kl > 300.0);
    }

    #[test]
    fn normalisation_is_scale_free_across_magnitudes() {
        let shape = [1.0f64, 2.0, 3.0, 0.0, 4.0];
        let q = [2.0f64, 2.0, 1.0, 1.0, 4.0];
        let want = discrete_information(&shape, &q, Base::Nats, Normalization::Normalize).unwrap();
        for scale in [1e-30, 1e-300, 1e30, 1e300] {
            let p: Vec<f64> = shape.iter().map(|v| v * scale).collect();
            let qs: Vec<f64> = q.iter().map(|v| v / scale).collect();
            let got = discrete_information(&p, &qs, Base::Nats, Normalization::Normalize).unwrap();
            assert!((got.entropy - want.entropy).abs() < 1e-14, "scale {scale}");
            assert!((got.kl - want.kl).abs() < 1e-14, "scale {scale}");
        }
    }

    #[test]
    fn normalisation_bases_and_errors() {
        let a = [2.0f64, 1.0, 1.0];
        let h = entropy_discrete(&a, Base::Other(4.0), Normalization::Normalize).unwrap();
        assert!((h - 0.75).abs() < 1e-15);
        let e = entropy_discrete(&a, Base::Nats, Normalization::default()).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "p", index: None, .. }));
        let e = entropy_discrete(&[0.5f64, -0.1, 0.6], Base::Nats, Normalization::Normalize).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "p", index: Some(1), .. }));
        assert!(matches!(
            entropy_discrete::<f64>(&[], Base::Nats, Normalization::Normalize),
            Err(Error::Empty { .. })
        ));
        assert!(entropy_discrete(&[0.0f64, 0.0], Base::Nats, Normalization::Normalize).is_err());
        assert!(entropy_discrete(&[1.0f64], Base::Other(1.0), Normalization::Normalize).is_err());
        let e =
            discrete_information(&[0.5f64, 0.5], &[1.0], Base::Nats, Normalization::default()).unwrap_err();
        assert!(matches!(e, Error::ShapeMismatch { name: "q", .. }));
        let e = discrete_information(&[0.5f64, 0.5], &[1.0, f64::NAN], Base::Nats, Normalization::Normalize)
            .unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "q", index: Some(1), .. }));
        // f32 agrees with f64.
        let r32 =
            discrete_information(&[0.2f32, 0.3, 0.5], &[0.1, 0.6, 0.3], Base::Bits, Normalization::default())
                .unwrap();
        let r64 =
            discrete_information(&[0.2f64, 0.3, 0.5], &[0.1, 0.6, 0.3], Base::Bits, Normalization::default())
                .unwrap();
        assert!((r32.kl as f64 - r64.kl).abs() < 1e-6 && (r32.entropy as f64 - r64.entropy).abs() < 1e-6);
    }
}
