//! `logsumexp`, `log_softmax`, `log_sigmoid`, `softplus` (SciPy / NumPy references).

use crate::Handler;
use crate::case::{Case, Fail, Got};
use surprisal::num;

pub fn handlers() -> Vec<(&'static str, Handler)> {
    vec![
        ("logsumexp", logsumexp as Handler),
        ("log_softmax", log_softmax),
        ("log_sigmoid", |c| elementwise(c, num::log_sigmoid)),
        ("softplus", |c| elementwise(c, num::softplus)),
    ]
}

fn rows(c: &Case) -> Result<(Vec<f64>, usize), String> {
    let x = c.input("x")?;
    let cols = x.shape.last().copied().unwrap_or(1).max(1);
    Ok((x.data.clone(), cols))
}

fn logsumexp(c: &Case) -> Result<Got, Fail> {
    let (x, cols) = rows(c)?;
    Ok(Got::value(x.chunks(cols).map(num::logsumexp).collect()))
}

fn log_softmax(c: &Case) -> Result<Got, Fail> {
    let (x, cols) = rows(c)?;
    let mut out = vec![0.0; x.len()];
    for (xr, or) in x.chunks(cols).zip(out.chunks_mut(cols)) {
        num::log_softmax(xr, or)?;
    }
    Ok(Got::value(out))
}

fn elementwise(c: &Case, f: fn(f64) -> f64) -> Result<Got, Fail> {
    Ok(Got::value(c.input("x")?.data.iter().map(|&v| f(v)).collect()))
}
