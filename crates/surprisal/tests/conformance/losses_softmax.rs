//! The softmax-based classification losses (PyTorch references): cross-entropy with class-index
//! and probability targets, nll, kl_div and distillation.

use crate::Handler;
use crate::case::{Case, Fail, Got};
use surprisal::loss::{self, CrossEntropyOptions, KlDivOptions, LossOutput, NllOptions, Reduction};

pub fn handlers() -> Vec<(&'static str, Handler)> {
    vec![
        ("softmax_cross_entropy", softmax_cross_entropy as Handler),
        ("softmax_cross_entropy_probs", softmax_cross_entropy_probs as Handler),
        ("nll", nll as Handler),
        ("kl_div", kl_div as Handler),
        ("distillation_kl", distillation_kl as Handler),
    ]
}

/// The output for a row loss: the scalar, or the per-row (per-entry for kl_div) values for `none`.
fn reduced(c: &Case, out: LossOutput<f64>, grad_name: &str) -> Result<Got, Fail> {
    let output = if c.reduction()? == Reduction::None { out.per_element } else { vec![out.value] };
    Ok(Got::value(output).grad(grad_name, out.grad))
}

fn weight(c: &Case) -> Option<&[f64]> {
    c.opt_input("weight").map(|w| w.data.as_slice())
}

fn ignore_index(c: &Case) -> Option<i64> {
    Some(c.f64_param("ignore_index").map_or(-100, |v| v as i64))
}

fn ce_options(c: &Case) -> Result<CrossEntropyOptions<'_, f64>, Fail> {
    let mut opts = CrossEntropyOptions::with_reduction(c.reduction()?)
        .ignore_index(ignore_index(c))
        .label_smoothing(c.f64_param("label_smoothing").unwrap_or(0.0));
    opts.weight = weight(c);
    Ok(opts)
}

fn softmax_cross_entropy(c: &Case) -> Result<Got, Fail> {
    let z = c.input("logits")?;
    let y = c.input("target")?.ints();
    let out = loss::softmax_cross_entropy(&z.data, z.cols(), &y, &ce_options(c)?)?;
    reduced(c, out, "logits")
}

fn softmax_cross_entropy_probs(c: &Case) -> Result<Got, Fail> {
    let z = c.input("logits")?;
    let q = &c.input("target")?.data;
    let out = loss::softmax_cross_entropy_probs(&z.data, z.cols(), q, &ce_options(c)?)?;
    reduced(c, out, "logits")
}

fn nll(c: &Case) -> Result<Got, Fail> {
    let lp = c.input("log_probs")?;
    let y = c.input("target")?.ints();
    let mut opts = NllOptions::with_reduction(c.reduction()?).ignore_index(ignore_index(c));
    opts.weight = weight(c);
    let out = loss::nll(&lp.data, lp.cols(), &y, &opts)?;
    reduced(c, out, "log_probs")
}

fn kl_div(c: &Case) -> Result<Got, Fail> {
    let x = c.input("input")?;
    let t = &c.input("target")?.data;
    let opts = KlDivOptions::with_reduction(c.reduction()?).log_target(c.bool_param("log_target", false));
    let out = loss::kl_div(&x.data, x.cols(), t, &opts)?;
    reduced(c, out, "input")
}

fn distillation_kl(c: &Case) -> Result<Got, Fail> {
    let s = c.input("student_logits")?;
    let t = &c.input("teacher_logits")?.data;
    let out = loss::distillation(&s.data, t, s.cols(), c.f64_param("temperature")?)?;
    Ok(Got::value(vec![out.value]).grad("student_logits", out.grad))
}
