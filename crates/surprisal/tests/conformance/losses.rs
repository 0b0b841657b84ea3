//! The named losses (PyTorch references).

use crate::Handler;
use crate::case::{Case, Fail, Got};
use surprisal::loss::{self, Options};

pub fn handlers() -> Vec<(&'static str, Handler)> {
    vec![("mse", mse as Handler)]
}

fn mse(c: &Case) -> Result<Got, Fail> {
    let x = &c.input("input")?.data;
    let y = &c.input("target")?.data;
    let opts = Options::with_reduction(c.reduction()?);
    let out = loss::mse(x, y, &opts)?;
    Ok(reduced(c, out))
}

/// The case's output for a reduced loss: the scalar value, or the per-element values for `none`.
pub fn reduced(c: &Case, out: loss::LossOutput<f64>) -> Got {
    let output =
        if matches!(c.reduction(), Ok(loss::Reduction::None)) { out.per_element } else { vec![out.value] };
    Got::value(output).grad(first_grad_name(c), out.grad)
}

fn first_grad_name(c: &Case) -> &str {
    c.grads.keys().next().map(String::as_str).unwrap_or("input")
}
