//! Classification scores (scikit-learn 1.9): `log_loss`, `brier_score`, `d2_log_loss_score`.
//!
//! `probs` of shape `[n]` is the probability of the larger class (binary); `[n, C]` gives one
//! column per class of the class set (`labels` when the case has them, else the distinct targets).

use crate::Handler;
use crate::case::{Case, Fail, Got};
use serde_json::Value;
use surprisal::score::{
    self, Accumulator, BrierScale, BrierScore, Classes, D2LogLoss, LogLoss, LogLossOptions,
};

pub fn handlers() -> Vec<(&'static str, Handler)> {
    vec![("log_loss", log_loss as Handler), ("brier_score", brier_score), ("d2_log_loss_score", d2_log_loss)]
}

/// The rows of a case: targets, probabilities, number of columns (None for 1-D), weights, labels.
struct Rows {
    y: Vec<i64>,
    probs: Vec<f64>,
    cols: Option<usize>,
    weights: Option<Vec<f64>>,
    labels: Option<Vec<i64>>,
}

fn rows(c: &Case) -> Result<Rows, Fail> {
    let y = c.input("target")?.ints();
    let p = c.input("probs")?;
    let cols = match p.shape.len() {
        1 => None,
        2 => Some(p.shape[1]),
        _ => return Err(Fail::Unsupported(format!("probs of shape {:?}", p.shape))),
    };
    let weights = c.opt_input("sample_weight").map(|w| w.data.clone());
    let labels = match (c.opt_input("labels"), c.params.get("labels")) {
        (Some(a), _) => Some(a.ints()),
        (None, Some(Value::Array(v))) => Some(v.iter().filter_map(Value::as_i64).collect()),
        _ => None,
    };
    Ok(Rows { y, probs: p.data.clone(), cols, weights, labels })
}

/// The class set of binary rows: the labels, else {0, 1} when the targets are 0/1, else the
/// distinct targets (the positive class is the larger one).
fn binary_classes(r: &Rows) -> Result<Classes, Fail> {
    Ok(match &r.labels {
        Some(l) => Classes::new(l)?,
        None if r.y.iter().all(|v| *v == 0 || *v == 1) => Classes::binary(),
        None => Classes::from_targets(&r.y)?,
    })
}

fn log_loss(c: &Case) -> Result<Got, Fail> {
    let r = rows(c)?;
    let opts = LogLossOptions { normalize: c.bool_param("normalize", true), ..Default::default() };
    let w = r.weights.as_deref();
    let v = match r.cols {
        None => {
            let mut acc = LogLoss::new(binary_classes(&r)?, opts)?;
            acc.update_binary(&r.y, &r.probs, w)?;
            acc.finish()?
        }
        Some(k) => score::log_loss(&r.y, &r.probs, k, w, r.labels.as_deref(), opts)?,
    };
    Ok(Got::value(vec![v]))
}

fn brier_scale(c: &Case) -> Result<BrierScale, Fail> {
    match c.params.get("scale_by_half") {
        None => Ok(if c.bool_param("multiclass", false) { BrierScale::Full } else { BrierScale::Auto }),
        Some(Value::Bool(true)) => Ok(BrierScale::Half),
        Some(Value::Bool(false)) => Ok(BrierScale::Full),
        Some(Value::String(s)) if s == "auto" => Ok(BrierScale::Auto),
        Some(other) => Err(Fail::Unsupported(format!("scale_by_half = {other}"))),
    }
}

fn brier_score(c: &Case) -> Result<Got, Fail> {
    let r = rows(c)?;
    let w = r.weights.as_deref();
    let v = match r.cols {
        None => {
            let scale = match c.params.get("scale_by_half") {
                None => BrierScale::Auto,
                Some(_) => brier_scale(c)?,
            };
            let mut acc = BrierScore::new(binary_classes(&r)?, scale);
            acc.update_binary(&r.y, &r.probs, w)?;
            acc.finish()?
        }
        Some(k) => score::brier_score(&r.y, &r.probs, k, w, r.labels.as_deref(), brier_scale(c)?)?,
    };
    Ok(Got::value(vec![v]))
}

fn d2_log_loss(c: &Case) -> Result<Got, Fail> {
    let r = rows(c)?;
    let w = r.weights.as_deref();
    let v = match r.cols {
        None => {
            let mut acc = D2LogLoss::new(binary_classes(&r)?);
            acc.update_binary(&r.y, &r.probs, w)?;
            acc.finish()?
        }
        Some(k) => score::d2_log_loss_score(&r.y, &r.probs, k, w, r.labels.as_deref())?,
    };
    Ok(Got::value(vec![v]))
}
