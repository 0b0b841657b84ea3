//! Shared machinery of the row-structured (softmax) losses: shape and option validation, and the
//! one-pass row softmax used by the fused forward + gradient kernels.
//!
//! A row of logits z is loaded once (widened from its storage type to the compute type `F`) and
//! turned into the shifted logits and their exponentials
//!
//! ```text
//! m   = max_c z_c
//! d_c = z_c − m                 e_c = e^{d_c}        s = Σ_c e_c
//! log p_c = d_c − log s         p_c = e_c / s
//! ```
//!
//! so that every log-probability and every probability of the row costs one subtraction and one
//! exponential in total. Rows with +inf logits follow the convention of [`crate::num::log_softmax`]:
//! the k entries at +inf share the mass (d_c = 0 there, −inf elsewhere, s = k). A row whose logits
//! are all −inf has no distribution and is reported as such ([`RowSoftmax::load`] returns `None`).

use crate::error::{Error, Result};
use crate::num::{Real, Widen};

/// Number of rows of a row-major `[N, C]` buffer of length `len`.
pub(crate) fn n_rows(name: &'static str, len: usize, n_classes: usize) -> Result<usize> {
    if n_classes == 0 {
        return Err(Error::InvalidOption {
            name: "n_classes",
            value: "0".into(),
            reason: "a categorical model needs at least one class",
        });
    }
    if !len.is_multiple_of(n_classes) {
        return Err(Error::shape(name, &[len.div_ceil(n_classes), n_classes], &[len]));
    }
    Ok(len / n_classes)
}

/// Per-class weights: length `n_classes`, finite and ≥ 0.
pub(crate) fn class_weights<F: Real>(w: Option<&[F]>, n_classes: usize) -> Result<()> {
    crate::error::check::weights(w, n_classes)
}

/// A row mask of length `n`.
pub(crate) fn row_mask(mask: Option<&[bool]>, n: usize) -> Result<()> {
    if let Some(m) = mask {
        crate::error::check::same_len("mask", n, m.len())?;
    }
    Ok(())
}

/// Whether row `i` is kept by the mask.
#[inline]
pub(crate) fn kept(mask: Option<&[bool]>, i: usize) -> bool {
    mask.is_none_or(|m| m[i])
}

/// `a · b` with `0 · anything = 0` (a zero weight hides an infinite surprisal).
#[inline]
pub(crate) fn mul0<F: Real>(a: F, b: F) -> F {
    if a == F::zero() { F::zero() } else { a * b }
}

/// Scratch buffers of one row's softmax (allocated once per call, reused for every row).
pub(crate) struct RowSoftmax<F> {
    /// Shifted logits d_c = z_c − max z (0 / −inf in a row with +inf logits).
    pub d: Vec<F>,
    /// e_c = e^{d_c}.
    pub e: Vec<F>,
}

impl<F: Real> RowSoftmax<F> {
    /// Buffers for rows of `n_classes` entries.
    pub fn new(n_classes: usize) -> Self {
        RowSoftmax { d: vec![F::zero(); n_classes], e: vec![F::zero(); n_classes] }
    }

    /// Loads `row · scale` (widened to `F`) and returns `(log s, 1/s)`, or `None` when every logit
    /// is −inf. NaN logits propagate into `d`, `e` and `s`.
    pub fn load<T: Widen<F>>(&mut self, row: &[T], scale: F) -> Option<(F, F)> {
        let mut m = F::neg_infinity();
        let mut nan = false;
        for (d, &z) in self.d.iter_mut().zip(row) {
            let v = z.widen() * scale;
            nan |= v.is_nan();
            m = m.max(v);
            *d = v;
        }
        if m == F::neg_infinity() && !nan {
            return None;
        }
        let plus_inf = m == F::infinity();
        let mut s = F::zero();
        for (d, e) in self.d.iter_mut().zip(self.e.iter_mut()) {
            // +inf logits share the mass (log_softmax convention): d = 0 there, −inf elsewhere.
            *d = if plus_inf {
                if *d == F::infinity() { F::zero() } else { F::neg_infinity() }
            } else {
                *d - m
            };
            *e = d.exp();
            s = s + *e;
        }
        Some((s.ln(), s.recip()))
    }
}

/// Validates class-index targets (each in `0..n_classes` or the ignore index) and returns the
/// divisor of PyTorch's weighted mean: Σ w[yᵢ] over the rows kept by the mask and not ignored.
///
/// # Errors
/// [`crate::Error::ClassOutOfRange`] naming the row and the class.
pub(crate) fn class_targets<F: Real>(
    target: &[i64],
    n_classes: usize,
    ignore_index: Option<i64>,
    mask: Option<&[bool]>,
    weight: Option<&[F]>,
) -> Result<F> {
    let mut divisor = F::zero();
    for (i, &y) in target.iter().enumerate() {
        if Some(y) == ignore_index {
            continue;
        }
        if y < 0 || y as u64 >= n_classes as u64 {
            return Err(crate::Error::ClassOutOfRange { row: i, value: y, n_classes });
        }
        if kept(mask, i) {
            divisor = divisor + weight.map_or(F::one(), |w| w[y as usize]);
        }
    }
    Ok(divisor)
}

/// The factor a reduction applies to the summed loss and its gradient: 1/divisor for `mean`,
/// 1 otherwise; `None` when the mean has nothing to average (then loss and gradient are 0).
pub(crate) fn reduction_factor<F: Real>(reduction: super::Reduction, divisor: F) -> Option<F> {
    match reduction {
        super::Reduction::Mean if divisor == F::zero() => None,
        super::Reduction::Mean => Some(divisor.recip()),
        _ => Some(F::one()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_softmax_matches_log_softmax_including_infinities() {
        let rows: [&[f64]; 4] = [
            &[0.5, -3.0, 2.0, 1.0],
            &[30.0, -30.0, 0.0, 30.0],
            &[f64::INFINITY, 1.0, f64::INFINITY, f64::NEG_INFINITY],
            &[f64::NEG_INFINITY, 3.0, f64::NEG_INFINITY, -2.0],
        ];
        let mut r = RowSoftmax::new(4);
        for row in rows {
            let (log_s, inv_s) = r.load(row, 1.0).unwrap();
            let mut want = [0.0; 4];
            crate::num::log_softmax(row, &mut want).unwrap();
            for (c, &lp) in want.iter().enumerate() {
                let got = r.d[c] - log_s;
                assert!(got == lp || (got - lp).abs() <= 1e-14 * lp.abs().max(1.0), "{row:?}");
                assert!((r.e[c] * inv_s - lp.exp()).abs() < 1e-15);
            }
        }
        assert!(r.load(&[f64::NEG_INFINITY; 4], 1.0).is_none());
        let (ls, _) = r.load(&[f64::NAN, 0.0, 1.0, 2.0], 1.0).unwrap();
        assert!(ls.is_nan());
    }

    #[test]
    fn shape_errors() {
        assert!(n_rows("logits", 7, 3).is_err());
        assert!(n_rows("logits", 6, 0).is_err());
        assert_eq!(n_rows("logits", 6, 3).unwrap(), 2);
        assert!(class_weights(Some(&[1.0, -1.0]), 2).is_err());
        assert!(class_weights(Some(&[1.0]), 2).is_err());
        assert!(row_mask(Some(&[true]), 2).is_err());
    }
}
