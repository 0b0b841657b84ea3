//! The softmax-based classification losses (PyTorch references): cross-entropy with class-index
//! and probability targets, nll, kl_div and distillation.

use crate::Handler;
use crate::case::{Array, Case, Fail, Got};
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

/// A PyTorch class-dim layout `[C]`, `[N, C]` or `[N, C, d₁, …]` as row-major rows of C entries
/// (one row per (n, d₁, …)), the order of PyTorch's per-row outputs.
struct ClassRows {
    data: Vec<f64>,
    n_classes: usize,
    /// Size of the trailing dimensions (1 for rank ≤ 2).
    inner: usize,
}

impl ClassRows {
    fn new(a: &Array) -> Self {
        match a.shape.len() {
            0 | 1 => ClassRows { data: a.data.clone(), n_classes: a.data.len().max(1), inner: 1 },
            2 => ClassRows { data: a.data.clone(), n_classes: a.shape[1], inner: 1 },
            _ => {
                let (c, inner) = (a.shape[1], a.shape[2..].iter().product::<usize>());
                let mut data = vec![0.0; a.data.len()];
                for (j, &v) in a.data.iter().enumerate() {
                    let (n, rest) = (j / (c * inner), j % (c * inner));
                    let (cl, l) = (rest / inner, rest % inner);
                    data[(n * inner + l) * c + cl] = v;
                }
                ClassRows { data, n_classes: c, inner }
            }
        }
    }

    /// A gradient in row layout back to PyTorch's layout.
    fn back(&self, g: Vec<f64>) -> Vec<f64> {
        if self.inner == 1 {
            return g;
        }
        let (c, inner) = (self.n_classes, self.inner);
        let mut out = vec![0.0; g.len()];
        for (j, &v) in g.iter().enumerate() {
            let (row, cl) = (j / c, j % c);
            let (n, l) = (row / inner, row % inner);
            out[n * c * inner + cl * inner + l] = v;
        }
        out
    }
}

/// The output and the gradient of a row loss, back in PyTorch's layout.
fn row_loss(c: &Case, out: LossOutput<f64>, rows: &ClassRows, grad_name: &str) -> Result<Got, Fail> {
    let grad = rows.back(out.grad);
    reduced(c, LossOutput { grad, ..out }, grad_name)
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
    let z = ClassRows::new(c.input("logits")?);
    let y = c.input("target")?.ints();
    let out = loss::softmax_cross_entropy(&z.data, z.n_classes, &y, &ce_options(c)?)?;
    row_loss(c, out, &z, "logits")
}

fn softmax_cross_entropy_probs(c: &Case) -> Result<Got, Fail> {
    let z = ClassRows::new(c.input("logits")?);
    let q = ClassRows::new(c.input("target")?);
    let out = loss::softmax_cross_entropy_probs(&z.data, z.n_classes, &q.data, &ce_options(c)?)?;
    row_loss(c, out, &z, "logits")
}

fn nll(c: &Case) -> Result<Got, Fail> {
    let lp = ClassRows::new(c.input("log_probs")?);
    let y = c.input("target")?.ints();
    let mut opts = NllOptions::with_reduction(c.reduction()?).ignore_index(ignore_index(c));
    opts.weight = weight(c);
    let out = loss::nll(&lp.data, lp.n_classes, &y, &opts)?;
    row_loss(c, out, &lp, "log_probs")
}

fn kl_div(c: &Case) -> Result<Got, Fail> {
    let x = c.input("input")?;
    let t = &c.input("target")?.data;
    let opts = KlDivOptions::with_reduction(c.reduction()?).log_target(c.bool_param("log_target", false));
    // Element-wise: `batchmean` divides by the first dimension, so a "row" is everything after it.
    let per_row = if x.shape.len() >= 2 { x.shape[1..].iter().product() } else { x.data.len().max(1) };
    let out = loss::kl_div(&x.data, per_row, t, &opts)?;
    reduced(c, out, "input")
}

fn distillation_kl(c: &Case) -> Result<Got, Fail> {
    let s = c.input("student_logits")?;
    let t = &c.input("teacher_logits")?.data;
    let n_classes = if s.shape.len() >= 2 { s.cols() } else { s.data.len().max(1) };
    let out = loss::distillation(&s.data, t, n_classes, c.f64_param("temperature")?)?;
    Ok(Got::value(vec![out.value]).grad("student_logits", out.grad))
}
