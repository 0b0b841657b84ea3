//! Validated regressor matrices for the linear-predictor fits: a row-major `[n, p]` matrix X,
//! optionally extended by an intercept column of ones (x̃ᵢ = [xᵢ, 1]), and optional observation
//! weights. Validation happens once, here; the accessors are unchecked.

use crate::error::{Error, Result};

/// X (n × p, row-major) with an optional trailing intercept column.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Regressors<'a> {
    x: &'a [f64],
    /// Number of rows n.
    pub n: usize,
    /// Number of columns of X (without the intercept).
    pub p: usize,
    /// Whether x̃ᵢ has a trailing 1.
    pub intercept: bool,
}

impl<'a> Regressors<'a> {
    /// Checks `x.len() == n·p` and that every entry is finite.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a length other than n·p; [`Error::InvalidEntry`] naming the
    /// row and column of the first non-finite entry.
    pub fn new(name: &'static str, x: &'a [f64], n: usize, p: usize, intercept: bool) -> Result<Self> {
        if x.len() != n * p {
            return Err(Error::shape(name, &[n, p], &[x.len()]));
        }
        if let Some(k) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidEntry {
                name,
                row: k / p,
                col: Some(k % p),
                value: x[k],
                reason: "must be finite",
            });
        }
        Ok(Regressors { x, n, p, intercept })
    }

    /// Columns of x̃: p, plus one for the intercept.
    pub fn dim(&self) -> usize {
        self.p + usize::from(self.intercept)
    }

    /// Row i of X (without the intercept).
    #[inline]
    pub fn row(&self, i: usize) -> &'a [f64] {
        &self.x[i * self.p..(i + 1) * self.p]
    }

    /// x̃ᵢ · β for β of length [`Regressors::dim`].
    #[inline]
    pub fn dot(&self, i: usize, beta: &[f64]) -> f64 {
        let s: f64 = self.row(i).iter().zip(beta).map(|(a, b)| a * b).sum();
        if self.intercept { s + beta[self.p] } else { s }
    }

    /// out += c · x̃ᵢ.
    #[inline]
    pub fn axpy(&self, i: usize, c: f64, out: &mut [f64]) {
        for (o, a) in out.iter_mut().zip(self.row(i)) {
            *o += c * a;
        }
        if self.intercept {
            out[self.p] += c;
        }
    }

    /// Entry a of x̃ᵢ (the intercept column is 1).
    #[inline]
    pub fn at(&self, i: usize, a: usize) -> f64 {
        if a < self.p { self.x[i * self.p + a] } else { 1.0 }
    }

    /// h (d × d, row-major, d = dim) += c · x̃ᵢ x̃ᵢᵀ, written at block offset (r0, c0) of a matrix
    /// with `stride` columns.
    #[inline]
    pub fn outer_into(&self, i: usize, c: f64, h: &mut [f64], stride: usize, r0: usize, c0: usize) {
        let d = self.dim();
        for a in 0..d {
            let ca = c * self.at(i, a);
            if ca == 0.0 {
                continue;
            }
            let base = (r0 + a) * stride + c0;
            for b in 0..d {
                h[base + b] += ca * self.at(i, b);
            }
        }
    }

    /// Weighted least squares β̂ = (X̃ᵀSX̃)⁻¹X̃ᵀSy (a starting point for the iterative fits).
    ///
    /// # Errors
    /// [`Error::Numerical`] when X̃ᵀSX̃ is singular (collinear columns, fewer rows than columns).
    pub fn least_squares(&self, y: &[f64], w: Option<&[f64]>) -> Result<Vec<f64>> {
        let d = self.dim();
        let mut a = vec![0.0; d * d];
        let mut b = vec![0.0; d];
        for i in 0..self.n {
            let s = w.map_or(1.0, |w| w[i]);
            self.outer_into(i, s, &mut a, d, 0, 0);
            self.axpy(i, s * y[i], &mut b);
        }
        let l = crate::num::linalg::cholesky(&a, d).map_err(|_| Error::Numerical {
            what: "least-squares start",
            reason: "the weighted cross-product X'WX is singular: collinear columns or too few rows".into(),
        })?;
        crate::num::linalg::cholesky_solve(&l, d, &mut b);
        Ok(b)
    }
}

/// Checks a response vector of length n for finite entries.
pub(crate) fn finite_vector(name: &'static str, y: &[f64], n: usize) -> Result<()> {
    crate::error::check::same_len(name, n, y.len())?;
    match y.iter().position(|v| !v.is_finite()) {
        Some(i) => {
            Err(Error::InvalidEntry { name, row: i, col: None, value: y[i], reason: "must be finite" })
        }
        None => Ok(()),
    }
}

/// Checks optional observation weights: length n, finite, ≥ 0, with a positive total.
pub(crate) fn sample_weights(w: Option<&[f64]>, n: usize) -> Result<()> {
    let Some(w) = w else { return Ok(()) };
    crate::error::check::same_len("sample_weight", n, w.len())?;
    if let Some(i) = w.iter().position(|v| !v.is_finite() || *v < 0.0) {
        return Err(Error::InvalidParameter {
            name: "sample_weight",
            value: w[i],
            index: Some(i),
            reason: "must be finite and >= 0",
        });
    }
    if w.iter().sum::<f64>() <= 0.0 {
        return Err(Error::InvalidParameter {
            name: "sample_weight",
            value: 0.0,
            index: None,
            reason: "the weights must not all be 0",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_shape_and_names_row_and_column() {
        let x = [1.0, 2.0, 3.0, f64::NAN];
        let e = Regressors::new("X", &x, 2, 2, true).unwrap_err();
        assert!(matches!(e, Error::InvalidEntry { name: "X", row: 1, col: Some(1), .. }), "{e}");
        assert!(e.to_string().contains("row 1, column 1"), "{e}");
        assert!(matches!(Regressors::new("X", &x, 3, 2, true), Err(Error::ShapeMismatch { .. })));
        assert!(matches!(
            finite_vector("y", &[0.0, f64::INFINITY], 2),
            Err(Error::InvalidEntry { name: "y", row: 1, col: None, .. })
        ));
        assert!(sample_weights(Some(&[0.0, 0.0]), 2).is_err());
        assert!(sample_weights(Some(&[1.0, -1.0]), 2).is_err());
    }

    #[test]
    fn least_squares_solves_the_normal_equations_and_rejects_collinearity() {
        // y = 2x + 1 exactly.
        let x = [0.0, 1.0, 2.0, 3.0];
        let y = [1.0, 3.0, 5.0, 7.0];
        let r = Regressors::new("X", &x, 4, 1, true).unwrap();
        let b = r.least_squares(&y, None).unwrap();
        assert!((b[0] - 2.0).abs() < 1e-12 && (b[1] - 1.0).abs() < 1e-12);
        let x2 = [1.0, 2.0, 2.0, 4.0, 3.0, 6.0];
        let r2 = Regressors::new("X", &x2, 3, 2, false).unwrap();
        assert!(matches!(r2.least_squares(&y[..3], None), Err(Error::Numerical { .. })));
    }
}
