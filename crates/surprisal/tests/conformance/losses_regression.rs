//! The regression losses (PyTorch references): `l1`, `smooth_l1` (`beta`), `huber` (`delta`) and
//! `gaussian_nll` (`full`, `eps`; gradients w.r.t. `input` and `var`).

use crate::Handler;
use crate::case::{Case, Fail, Got};
use crate::losses::reduced;
use surprisal::loss::{self, Options, Reduction};

pub fn handlers() -> Vec<(&'static str, Handler)> {
    vec![("l1", l1 as Handler), ("smooth_l1", smooth_l1), ("huber", huber), ("gaussian_nll", gaussian_nll)]
}

fn l1(c: &Case) -> Result<Got, Fail> {
    let opts = Options::with_reduction(c.reduction()?);
    Ok(reduced(c, loss::l1(&c.input("input")?.data, &c.input("target")?.data, &opts)?))
}

fn smooth_l1(c: &Case) -> Result<Got, Fail> {
    let opts = Options::with_reduction(c.reduction()?);
    let beta = c.f64_param("beta")?;
    Ok(reduced(c, loss::smooth_l1(&c.input("input")?.data, &c.input("target")?.data, beta, &opts)?))
}

fn huber(c: &Case) -> Result<Got, Fail> {
    let opts = Options::with_reduction(c.reduction()?);
    let delta = c.f64_param("delta")?;
    Ok(reduced(c, loss::huber(&c.input("input")?.data, &c.input("target")?.data, delta, &opts)?))
}

fn gaussian_nll(c: &Case) -> Result<Got, Fail> {
    let reduction = c.reduction()?;
    let opts = Options::with_reduction(reduction);
    let (input, target, var) = (c.input("input")?, c.input("target")?, c.input("var")?);
    // PyTorch's var of shape input.shape[:-1] is the same as shape (…, 1): one variance per row.
    let eps = c.f64_param("eps").unwrap_or(1e-6);
    let out =
        loss::gaussian_nll(&input.data, &target.data, &var.data, c.bool_param("full", false), eps, &opts)?;
    let output = if reduction == Reduction::None { out.per_element } else { vec![out.value] };
    Ok(Got::value(output).grad("input", out.grad_input).grad("var", out.grad_var))
}
