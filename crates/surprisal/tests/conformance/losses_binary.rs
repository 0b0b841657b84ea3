//! Binary and count losses (PyTorch, torchvision), and the
//! discrete information measures (SciPy).

use crate::Handler;
use crate::case::{Case, Fail, Got};
use crate::losses::reduced;
use surprisal::divergence::{self, Base, Normalization};
use surprisal::loss::{self, Options, PoissonNllConfig};

pub fn handlers() -> Vec<(&'static str, Handler)> {
    vec![
        ("sigmoid_binary_cross_entropy", sigmoid_bce as Handler),
        ("binary_cross_entropy", bce),
        ("sigmoid_focal", focal),
        ("poisson_nll", poisson_nll),
        ("entropy_discrete", entropy_discrete),
        ("kl_discrete", kl_discrete),
        ("cross_entropy_discrete", cross_entropy_discrete),
    ]
}

/// The case's per-element weight, broadcast over a row-major batch of `n` elements the way torch
/// broadcasts a trailing-shape weight (element i takes `weight[i % len]`).
fn weight(c: &Case, n: usize) -> Option<Vec<f64>> {
    c.opt_input("weight").map(|w| (0..n).map(|i| w.data[i % w.data.len().max(1)]).collect())
}

fn options<'a>(c: &Case, weight: Option<&'a [f64]>) -> Result<Options<'a, f64>, Fail> {
    let mut opts = Options::with_reduction(c.reduction()?);
    if let Some(w) = weight {
        opts = opts.weight(w);
    }
    Ok(opts)
}

fn sigmoid_bce(c: &Case) -> Result<Got, Fail> {
    let x = &c.input("logits")?.data;
    let w = weight(c, x.len());
    let y = &c.input("target")?.data;
    let pw = c.opt_input("pos_weight").map(|a| a.data.as_slice());
    let out = loss::sigmoid_binary_cross_entropy(x, y, pw, &options(c, w.as_deref())?)?;
    Ok(reduced(c, out))
}

fn bce(c: &Case) -> Result<Got, Fail> {
    let p = &c.input("probs")?.data;
    let w = weight(c, p.len());
    let y = &c.input("target")?.data;
    let out = loss::binary_cross_entropy(p, y, true, &options(c, w.as_deref())?)?;
    Ok(reduced(c, out))
}

fn focal(c: &Case) -> Result<Got, Fail> {
    let x = &c.input("logits")?.data;
    let w = weight(c, x.len());
    let y = &c.input("target")?.data;
    let out =
        loss::sigmoid_focal(x, y, c.f64_param("alpha")?, c.f64_param("gamma")?, &options(c, w.as_deref())?)?;
    Ok(reduced(c, out))
}

fn poisson_nll(c: &Case) -> Result<Got, Fail> {
    let x = &c.input("input")?.data;
    let w = weight(c, x.len());
    let y = &c.input("target")?.data;
    let cfg = PoissonNllConfig {
        log_input: c.bool_param("log_input", true),
        full: c.bool_param("full", false),
        eps: c.f64_param("eps").unwrap_or(1e-8),
    };
    let out = loss::poisson_nll(x, y, &cfg, &options(c, w.as_deref())?)?;
    Ok(reduced(c, out))
}

/// `params.base`: "e" or a number (2 = bits).
fn base(c: &Case) -> Result<Base, Fail> {
    match c.params.get("base") {
        None => Ok(Base::Nats),
        Some(v) if v.as_str() == Some("e") => Ok(Base::Nats),
        Some(v) => match v.as_f64() {
            Some(2.0) => Ok(Base::Bits),
            Some(b) => Ok(Base::Other(b)),
            None => Err(Fail::Error(format!("bad base {v}"))),
        },
    }
}

fn information(c: &Case) -> Result<divergence::DiscreteInformation<f64>, Fail> {
    let p = &c.input("p")?.data;
    let q = &c.input("q")?.data;
    Ok(divergence::discrete_information(p, q, base(c)?, Normalization::Normalize)?)
}

fn entropy_discrete(c: &Case) -> Result<Got, Fail> {
    let p = &c.input("p")?.data;
    Ok(Got::value(vec![divergence::entropy_discrete(p, base(c)?, Normalization::Normalize)?]))
}

fn kl_discrete(c: &Case) -> Result<Got, Fail> {
    Ok(Got::value(vec![information(c)?.kl]))
}

fn cross_entropy_discrete(c: &Case) -> Result<Got, Fail> {
    Ok(Got::value(vec![information(c)?.cross_entropy]))
}
