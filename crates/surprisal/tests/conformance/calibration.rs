//! Calibration errors (torchmetrics) and the calibration curve (scikit-learn).

use crate::Handler;
use crate::case::{Case, Fail, Got};
use surprisal::calibration::{self, Norm, Strategy};

pub fn handlers() -> Vec<(&'static str, Handler)> {
    vec![
        ("binary_calibration_error", binary as Handler),
        ("multiclass_calibration_error", multiclass),
        ("calibration_curve", curve),
    ]
}

fn n_bins(c: &Case) -> Result<usize, Fail> {
    let n = c.f64_param("n_bins")?;
    if n >= 1.0 && n.fract() == 0.0 { Ok(n as usize) } else { Err(format!("bad n_bins {n}").into()) }
}

fn norm(c: &Case) -> Result<Norm, Fail> {
    Ok(Norm::parse(c.params.get("norm").and_then(|v| v.as_str()).unwrap_or("l1"))?)
}

fn binary(c: &Case) -> Result<Got, Fail> {
    let p = &c.input("probs")?.data;
    let y = &c.input("target")?.data;
    let e = calibration::binary_calibration_error(p, y, n_bins(c)?, norm(c)?)?;
    Ok(Got::value(vec![e]))
}

/// torchmetrics casts the top-label confidences to float32 (`.float()` after the max), so the
/// statistic is computed with `F = f32`.
fn multiclass(c: &Case) -> Result<Got, Fail> {
    let probs = c.input("probs")?;
    let k = probs.cols();
    if let Ok(nc) = c.f64_param("num_classes")
        && nc as usize != k
    {
        return Err(format!("num_classes {nc} but probs has {k} columns").into());
    }
    let p: Vec<f32> = probs.data.iter().map(|&v| v as f32).collect();
    let y = c.input("target")?.ints();
    let e = calibration::multiclass_calibration_error(&p, k, &y, n_bins(c)?, norm(c)?)?;
    Ok(Got::value(vec![f64::from(e)]))
}

fn curve(c: &Case) -> Result<Got, Fail> {
    let p = &c.input("probs")?.data;
    let y = &c.input("target")?.data;
    let strategy = Strategy::parse(c.params.get("strategy").and_then(|v| v.as_str()).unwrap_or("uniform"))?;
    let out = calibration::calibration_curve(p, y, n_bins(c)?, strategy)?;
    let mut got = Got::default();
    got.named.insert("prob_true".into(), out.prob_true);
    got.named.insert("prob_pred".into(), out.prob_pred);
    Ok(got)
}
