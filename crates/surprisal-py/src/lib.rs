//! Python bindings of `surprisal` (the `surprisal._surprisal` extension module).
//!
//! The Python package `surprisal` re-exports these functions; its docstrings and type stubs live
//! in `python/surprisal/`. Every function takes NumPy arrays (or anything `numpy.asarray` reads),
//! reads contiguous float64 / float32 arrays in place, and raises `ValueError` with the library's
//! message for a bad argument (`TypeError` for an argument of the wrong type).

mod arrays;
mod cuda;
mod families;
mod fit;
mod losses;
mod scores;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _surprisal(m: &Bound<'_, PyModule>) -> PyResult<()> {
    families::register(m)?;
    fit::register(m)?;
    losses::register(m)?;
    scores::register(m)?;
    cuda::register(m)?;
    Ok(())
}
