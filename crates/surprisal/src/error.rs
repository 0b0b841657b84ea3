//! Typed errors. Every error carries the offending value, index or shape, so that a caller can say
//! exactly what was wrong with the input without re-inspecting it.

use thiserror::Error;

/// The library's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong on user input. No function of this crate panics on bad input.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum Error {
    /// A distribution or loss parameter is outside its domain, e.g. a non-positive scale.
    #[error("invalid parameter `{name}` = {value}{}: {reason}", at(*.index))]
    InvalidParameter {
        /// Parameter name, as in the formula (`scale`, `df`, `label_smoothing`, ...).
        name: &'static str,
        /// The offending value, widened to f64.
        value: f64,
        /// Element index within a batch, when the parameter is batched.
        index: Option<usize>,
        /// What the domain is, e.g. "must be finite and > 0".
        reason: &'static str,
    },
    /// A value (target, observation) is outside the support of the model.
    #[error("invalid value `{name}` = {value}{}: {reason}", at(*.index))]
    InvalidValue {
        /// Which input (`target`, `value`, `probs`, ...).
        name: &'static str,
        /// The offending value, widened to f64.
        value: f64,
        /// Element index within the batch.
        index: Option<usize>,
        /// What the support is.
        reason: &'static str,
    },
    /// A class index is neither in `0..n_classes` nor the ignore index.
    #[error("class index {value} at row {row} is out of range 0..{n_classes}")]
    ClassOutOfRange {
        /// Row of the batch.
        row: usize,
        /// The offending class index.
        value: i64,
        /// Number of classes.
        n_classes: usize,
    },
    /// An entry of a data matrix or vector (a design matrix, a response, …) is invalid, e.g. not
    /// finite where only finite data make sense.
    #[error("invalid `{name}` = {value} at row {row}{}: {reason}", column(*.col))]
    InvalidEntry {
        /// Which input (`X`, `y`, `Z`, …).
        name: &'static str,
        /// Row (observation) of the entry.
        row: usize,
        /// Column of the entry, for a matrix.
        col: Option<usize>,
        /// The offending value.
        value: f64,
        /// What is required.
        reason: &'static str,
    },
    /// Two inputs that must agree in shape do not.
    #[error("shape mismatch for `{name}`: expected {expected:?}, got {got:?}")]
    ShapeMismatch {
        /// Which input has the wrong shape.
        name: &'static str,
        /// The shape that was required.
        expected: Vec<usize>,
        /// The shape that was given.
        got: Vec<usize>,
    },
    /// An input that must not be empty is.
    #[error("`{name}` must not be empty")]
    Empty {
        /// Which input.
        name: &'static str,
    },
    /// An option that is not meaningful for this operation, e.g. `batchmean` on a flat loss.
    #[error("option `{name}` = {value} is not supported here: {reason}")]
    InvalidOption {
        /// Option name.
        name: &'static str,
        /// The value given, as text.
        value: String,
        /// Why it is not supported.
        reason: &'static str,
    },
    /// A numerical procedure failed, e.g. a covariance matrix that is not positive definite.
    #[error("{what} failed: {reason}")]
    Numerical {
        /// What was being computed (`Cholesky factorisation of covariance`, ...).
        what: &'static str,
        /// Why it failed, with the offending quantity.
        reason: String,
    },
}

fn column(col: Option<usize>) -> String {
    match col {
        Some(c) => format!(", column {c}"),
        None => String::new(),
    }
}

fn at(index: Option<usize>) -> String {
    match index {
        Some(i) => format!(" at index {i}"),
        None => String::new(),
    }
}

impl Error {
    /// Shorthand for [`Error::InvalidParameter`] without an index.
    pub fn param(name: &'static str, value: f64, reason: &'static str) -> Self {
        Error::InvalidParameter { name, value, index: None, reason }
    }

    /// Shorthand for [`Error::ShapeMismatch`].
    pub fn shape(name: &'static str, expected: &[usize], got: &[usize]) -> Self {
        Error::ShapeMismatch { name, expected: expected.to_vec(), got: got.to_vec() }
    }

    /// Attach a batch index to a parameter or value error that has none.
    pub fn at_index(self, i: usize) -> Self {
        match self {
            Error::InvalidParameter { name, value, index: None, reason } => {
                Error::InvalidParameter { name, value, index: Some(i), reason }
            }
            Error::InvalidValue { name, value, index: None, reason } => {
                Error::InvalidValue { name, value, index: Some(i), reason }
            }
            other => other,
        }
    }

    /// The same error naming the input `to` where it names `from`: for a binding whose argument
    /// names differ from the library's (`quantile` for `tau`, `sample_weight` for `weight`).
    ///
    /// ```
    /// use surprisal::Error;
    /// let e = Error::param("tau", 1.5, "must be in (0, 1)").renamed("tau", "quantile");
    /// assert_eq!(e.to_string(), "invalid parameter `quantile` = 1.5: must be in (0, 1)");
    /// ```
    pub fn renamed(mut self, from: &str, to: &'static str) -> Self {
        match &mut self {
            Error::InvalidParameter { name, .. }
            | Error::InvalidValue { name, .. }
            | Error::InvalidEntry { name, .. }
            | Error::ShapeMismatch { name, .. }
            | Error::Empty { name }
            | Error::InvalidOption { name, .. }
                if *name == from =>
            {
                *name = to;
            }
            _ => {}
        }
        self
    }
}

/// Validation helpers used by constructors (never inside hot loops).
pub(crate) mod check {
    use super::{Error, Result};
    use crate::num::Real;

    /// `x` finite and strictly positive.
    pub fn positive<F: Real>(name: &'static str, x: F) -> Result<F> {
        if x.is_finite() && x > F::zero() {
            Ok(x)
        } else {
            Err(Error::param(name, x.to_f64_lossy(), "must be finite and > 0"))
        }
    }

    /// `x` finite and ≥ 0.
    pub fn non_negative<F: Real>(name: &'static str, x: F) -> Result<F> {
        if x.is_finite() && x >= F::zero() {
            Ok(x)
        } else {
            Err(Error::param(name, x.to_f64_lossy(), "must be finite and >= 0"))
        }
    }

    /// `x` finite.
    pub fn finite<F: Real>(name: &'static str, x: F) -> Result<F> {
        if x.is_finite() { Ok(x) } else { Err(Error::param(name, x.to_f64_lossy(), "must be finite")) }
    }

    /// `x` not NaN (±inf allowed, e.g. logits).
    #[allow(dead_code)]
    pub fn not_nan<F: Real>(name: &'static str, x: F) -> Result<F> {
        if x.is_nan() { Err(Error::param(name, f64::NAN, "must not be NaN")) } else { Ok(x) }
    }

    /// `lo <= x <= hi`.
    #[allow(dead_code)]
    pub fn in_closed<F: Real>(name: &'static str, x: F, lo: f64, hi: f64, reason: &'static str) -> Result<F> {
        let v = x.to_f64_lossy();
        if v >= lo && v <= hi { Ok(x) } else { Err(Error::param(name, v, reason)) }
    }

    /// `lo < x < hi`.
    #[allow(dead_code)]
    pub fn in_open<F: Real>(name: &'static str, x: F, lo: f64, hi: f64, reason: &'static str) -> Result<F> {
        let v = x.to_f64_lossy();
        if v > lo && v < hi { Ok(x) } else { Err(Error::param(name, v, reason)) }
    }

    /// Optional non-negative finite weights of length `n`.
    pub fn weights<F: Real>(w: Option<&[F]>, n: usize) -> Result<()> {
        let Some(w) = w else { return Ok(()) };
        same_len("weight", n, w.len())?;
        match w.iter().position(|wi| !wi.is_finite() || *wi < F::zero()) {
            None => Ok(()),
            Some(i) => Err(Error::InvalidParameter {
                name: "weight",
                value: w[i].to_f64_lossy(),
                index: Some(i),
                reason: "must be finite and >= 0",
            }),
        }
    }

    /// Two lengths agree.
    pub fn same_len(name: &'static str, expected: usize, got: usize) -> Result<()> {
        if expected == got { Ok(()) } else { Err(Error::shape(name, &[expected], &[got])) }
    }
}
