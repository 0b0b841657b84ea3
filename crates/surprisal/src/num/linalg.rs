//! Small dense linear algebra on row-major slices: the Cholesky factorisation of a symmetric
//! positive definite matrix, triangular solves, and SPD solves and inverses. Enough for the normal
//! equations of maximum-likelihood fits (p × p with p in the tens to hundreds) and for the
//! multivariate normal; no external linear-algebra crate.
//!
//! ```text
//! A = L Lᵀ                      (L lower triangular, positive diagonal)
//! A x = b  ⇔  L z = b, Lᵀ x = z
//! log det A = 2 Σᵢ log Lᵢᵢ
//! ```

use crate::error::{Error, Result, check};
use crate::num::Real;

/// The lower Cholesky factor of a symmetric positive definite row-major `d × d` matrix.
///
/// # Errors
/// [`Error::Numerical`] naming the pivot that is not positive (the matrix is not positive
/// definite), [`Error::ShapeMismatch`] if `a.len() != d²`.
pub fn cholesky<F: Real>(a: &[F], d: usize) -> Result<Vec<F>> {
    check::same_len("matrix", d * d, a.len())?;
    let mut l = vec![F::zero(); d * d];
    for i in 0..d {
        for j in 0..=i {
            let mut s = a[i * d + j];
            for k in 0..j {
                s = s - l[i * d + k] * l[j * d + k];
            }
            if i == j {
                if !(s > F::zero() && s.is_finite()) {
                    return Err(Error::Numerical {
                        what: "Cholesky factorisation",
                        reason: format!(
                            "not positive definite: pivot {i} is {} (must be finite and > 0)",
                            s.to_f64_lossy()
                        ),
                    });
                }
                l[i * d + i] = s.sqrt();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    Ok(l)
}

/// Solves L z = b in place for lower-triangular row-major L.
pub fn forward_solve<F: Real>(l: &[F], d: usize, b: &mut [F]) {
    for i in 0..d {
        let mut s = b[i];
        for k in 0..i {
            s = s - l[i * d + k] * b[k];
        }
        b[i] = s / l[i * d + i];
    }
}

/// Solves Lᵀ y = z in place for lower-triangular row-major L.
pub fn backward_solve_t<F: Real>(l: &[F], d: usize, z: &mut [F]) {
    for i in (0..d).rev() {
        let mut s = z[i];
        for k in i + 1..d {
            s = s - l[k * d + i] * z[k];
        }
        z[i] = s / l[i * d + i];
    }
}

/// Solves A x = b in place for SPD A given its Cholesky factor L (row-major d × d).
pub fn cholesky_solve<F: Real>(l: &[F], d: usize, b: &mut [F]) {
    forward_solve(l, d, b);
    backward_solve_t(l, d, b);
}

/// A⁻¹ for SPD A given its Cholesky factor L (row-major d × d), column by column.
pub fn cholesky_inverse<F: Real>(l: &[F], d: usize) -> Vec<F> {
    let mut inv = vec![F::zero(); d * d];
    let mut col = vec![F::zero(); d];
    for j in 0..d {
        col.iter_mut().for_each(|c| *c = F::zero());
        col[j] = F::one();
        cholesky_solve(l, d, &mut col);
        for i in 0..d {
            inv[i * d + j] = col[i];
        }
    }
    inv
}

/// log det A = 2 Σ log Lᵢᵢ for SPD A given its Cholesky factor L.
pub fn cholesky_log_det<F: Real>(l: &[F], d: usize) -> F {
    (0..d).map(|i| l[i * d + i].ln()).sum::<F>() * F::lit(2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solve_inverse_and_log_det_of_a_known_matrix() {
        // A = [[4, 2, 0.4], [2, 5, 1], [0.4, 1, 3]]; det A by cofactor expansion along the first row.
        let a = [4.0, 2.0, 0.4, 2.0, 5.0, 1.0, 0.4, 1.0, 3.0];
        let det =
            4.0 * (5.0 * 3.0 - 1.0 * 1.0) - 2.0 * (2.0 * 3.0 - 1.0 * 0.4) + 0.4 * (2.0 * 1.0 - 5.0 * 0.4);
        let l = cholesky(&a, 3).unwrap();
        assert!((cholesky_log_det(&l, 3) - f64::ln(det)).abs() < 1e-14);
        let x_true = [1.0, -2.0, 0.5];
        let mut b: Vec<f64> = (0..3).map(|i| (0..3).map(|j| a[i * 3 + j] * x_true[j]).sum()).collect();
        cholesky_solve(&l, 3, &mut b);
        for (x, t) in b.iter().zip(x_true) {
            assert!((x - t).abs() < 1e-14);
        }
        let inv = cholesky_inverse(&l, 3);
        for i in 0..3 {
            for j in 0..3 {
                let e: f64 = (0..3).map(|k| a[i * 3 + k] * inv[k * 3 + j]).sum();
                assert!((e - if i == j { 1.0 } else { 0.0 }).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn not_positive_definite_is_a_typed_error() {
        let e = cholesky(&[1.0, 2.0, 2.0, 1.0], 2).unwrap_err();
        assert!(matches!(e, Error::Numerical { .. }), "{e}");
        assert!(matches!(cholesky(&[1.0, 0.0, 0.0], 2), Err(Error::ShapeMismatch { .. })));
    }
}
