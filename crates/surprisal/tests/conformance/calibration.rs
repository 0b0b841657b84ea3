//! Calibration errors (torchmetrics) and the calibration curve (scikit-learn).

use crate::Handler;
use crate::case::{Case, Fail, Got};
use surprisal::calibration::{self, Norm, Strategy};
use surprisal::num::{log_softmax, sigmoid};

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

/// The rows torchmetrics keeps: those whose target is not `ignore_index` (when given).
fn kept(c: &Case, target: &[f64]) -> Vec<bool> {
    let ignore = c.params.get("ignore_index").and_then(|v| v.as_f64());
    target.iter().map(|&t| Some(t) != ignore).collect()
}

/// torchmetrics applies a sigmoid (binary) or a softmax over each row (multiclass) when some
/// prediction is outside [0, 1]; the library itself only takes probabilities, so the conversion is
/// done here, as torchmetrics does it, before calling it.
fn outside_unit(x: &[f64]) -> bool {
    !x.iter().all(|v| (0.0..=1.0).contains(v))
}

fn binary(c: &Case) -> Result<Got, Fail> {
    let (p, y) = (&c.input("probs")?.data, &c.input("target")?.data);
    let keep = kept(c, y);
    let mut p: Vec<f64> = p.iter().zip(&keep).filter(|k| *k.1).map(|k| *k.0).collect();
    let y: Vec<f64> = y.iter().zip(&keep).filter(|k| *k.1).map(|k| *k.0).collect();
    if outside_unit(&p) {
        p.iter_mut().for_each(|v| *v = sigmoid(*v));
    }
    let e = calibration::binary_calibration_error(&p, &y, n_bins(c)?, norm(c)?)?;
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
    let target = &c.input("target")?.data;
    let keep = kept(c, target);
    let mut p64: Vec<f64> =
        probs.data.chunks(k.max(1)).zip(&keep).filter(|r| *r.1).flat_map(|r| r.0.iter().copied()).collect();
    let y: Vec<i64> = target.iter().zip(&keep).filter(|r| *r.1).map(|r| *r.0 as i64).collect();
    if outside_unit(&p64) {
        let mut lp = vec![0.0; k];
        for row in p64.chunks_mut(k.max(1)) {
            log_softmax(row, &mut lp)?;
            row.iter_mut().zip(&lp).for_each(|(v, l)| *v = l.exp());
        }
    }
    let p: Vec<f32> = p64.iter().map(|&v| v as f32).collect();
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
