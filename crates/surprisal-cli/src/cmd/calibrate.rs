//! `surprisal calibrate --fit CAL --apply FILE --method platt --prob p --out OUT`: fit a
//! recalibration map by maximum likelihood on a held-out calibration file, apply it to another
//! file's predictions, and write that file with the recalibrated probabilities added.
//!
//! Maps ([`surprisal::calibration`]):
//! - binary (`--prob COL`, P(y = 1); targets 0 or 1): `platt` (σ(a·logit p + b)), `temperature`
//!   (σ(logit p / T), the two-class softmax of (0, logit p)) and `isotonic` (the monotone
//!   Bernoulli MLE of y on p);
//! - multiclass (`--probs C0,C1,…` read as logits log p, or `--logits C0,C1,…`; targets are class
//!   indices `0..C`): `temperature` (softmax(z / T)) and `vector` (softmax(w ⊙ z + b)).
//!
//! The output has every column of FILE plus `<col>_calibrated` (binary) or `p_calibrated_<k>`
//! (multiclass, k = 0..C), written atomically: a failed run leaves no file behind. The command
//! prints the mean NLL, the Brier score and the ECE (`--bins` equal-width bins, L1) before and
//! after recalibration on the fitting data, and on FILE when it has the target column.
//!
//! Inputs are validated as `surprisal score` does: probabilities in [0, 1], each multiclass row
//! summing to 1 within `--sum-tolerance`, targets 0/1 or class indices; the logit-based maps need
//! probabilities strictly inside (0, 1) (a probability of 0 or 1 has no finite logit). Every bad
//! cell is one line naming the file, row, column and value (exit 1); a method that does not fit the
//! task is a usage error (exit 2).

use crate::error::{CliError, CliResult};
use crate::input::{Table, cell_error, class_index, parse_finite, probability};
use crate::output::write_atomic;
use clap::Args;
use serde_json::{Value, json};
use surprisal::calibration::{
    ECE_BINS, IsotonicRegression, Norm, PlattScaling, RecalibrationReport, TemperatureScaling, VectorScaling,
    binary_calibration_error, multiclass_calibration_error,
};
use surprisal::num::{softmax, xlog1py, xlogy};
use surprisal::score::{BrierScale, brier_score, brier_score_binary};

/// The methods by their command-line names.
pub const METHODS: [&str; 4] = ["temperature", "platt", "isotonic", "vector"];

/// Arguments of `surprisal calibrate`.
#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// The calibration file the map is fitted on (CSV or TSV with a header row, `-` for stdin).
    #[arg(long)]
    pub fit: String,
    /// The file whose predictions are recalibrated.
    #[arg(long)]
    pub apply: String,
    /// temperature, platt, isotonic (binary) or temperature, vector (multiclass).
    #[arg(long, value_parser = crate::input::choice_name)]
    pub method: String,
    /// Write FILE with the recalibrated column(s) here (atomically; `.tsv` / `.tab` for TSV).
    #[arg(long)]
    pub out: String,
    /// The column of observed targets (0/1 or class indices); required in the fitting file,
    /// optional in FILE.
    #[arg(long, default_value = "y")]
    pub target: String,
    /// Binary task: the column of predicted probabilities of class 1.
    #[arg(long, conflicts_with_all = ["probs", "logits"])]
    pub prob: Option<String>,
    /// Multiclass task: the probability columns of classes 0, 1, …, comma-separated.
    #[arg(long, value_delimiter = ',', conflicts_with = "logits")]
    pub probs: Option<Vec<String>>,
    /// Multiclass task: the logit columns of classes 0, 1, …, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub logits: Option<Vec<String>>,
    /// Number of equal-width bins of the ECE.
    #[arg(long, default_value_t = ECE_BINS)]
    pub bins: usize,
    /// Multiclass `--probs`: how far a row's probabilities may sum from 1.
    #[arg(long, default_value_t = 1e-6)]
    pub sum_tolerance: f64,
    /// Print JSON instead of a summary.
    #[arg(long)]
    pub json: bool,
}

/// Where the predictions come from.
#[derive(Debug, Clone)]
enum Source {
    /// P(y = 1).
    Prob(String),
    /// Class probabilities.
    Probs(Vec<String>),
    /// Class logits.
    Logits(Vec<String>),
}

impl Source {
    fn n_classes(&self) -> usize {
        match self {
            Source::Prob(_) => 2,
            Source::Probs(c) | Source::Logits(c) => c.len(),
        }
    }

    fn columns(&self) -> Vec<String> {
        match self {
            Source::Prob(c) => vec![c.clone()],
            Source::Probs(c) | Source::Logits(c) => c.clone(),
        }
    }
}

/// One file's predictions.
struct Preds {
    /// Binary: P(y = 1) per row; multiclass: row-major `[N, C]` probabilities.
    p: Vec<f64>,
    /// Binary: logit p per row; multiclass: row-major `[N, C]` logits.
    z: Vec<f64>,
    /// Targets, when the file has the target column.
    labels: Option<Vec<i64>>,
}

/// A fitted map.
enum Map {
    Temperature(TemperatureScaling<f64>),
    Platt(PlattScaling<f64>),
    Isotonic(IsotonicRegression<f64>),
    Vector(VectorScaling<f64>),
}

/// NLL, Brier score and ECE before and after.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// Mean NLL (before, after).
    pub nll: (f64, f64),
    /// Brier score (before, after).
    pub brier: (f64, f64),
    /// ECE (before, after).
    pub ece: (f64, f64),
}

impl From<RecalibrationReport<f64>> for Metrics {
    fn from(r: RecalibrationReport<f64>) -> Self {
        Metrics {
            nll: (r.nll_before, r.nll_after),
            brier: (r.brier_before, r.brier_after),
            ece: (r.ece_before, r.ece_after),
        }
    }
}

/// Reads and validates one file's predictions (and targets, required or when present).
fn read_preds(
    t: &Table,
    src: &Source,
    method: &str,
    target: &str,
    need_target: bool,
    tol: f64,
) -> CliResult<Preds> {
    let file = t.file.as_str();
    let c = src.n_classes();
    let cols = src.columns();
    let idx: Vec<usize> = cols.iter().map(|n| t.column_index(n)).collect::<CliResult<_>>()?;
    let labels = if need_target || t.header.iter().any(|h| h == target) {
        let j = t.column_index(target)?;
        Some(
            t.rows
                .iter()
                .enumerate()
                .map(|(i, r)| class_index(file, (i + 1) as u64, target, r[j].as_bytes(), c))
                .collect::<CliResult<Vec<_>>>()?,
        )
    } else {
        None
    };
    let n = t.rows.len();
    let mut p = Vec::with_capacity(n * c);
    let mut z = Vec::with_capacity(n * c);
    for (i, row) in t.rows.iter().enumerate() {
        let r = i + 1;
        match src {
            Source::Prob(col) => {
                let cell = &row[idx[0]];
                let v = probability(file, r as u64, col, cell.as_bytes())?;
                if method != "isotonic" && (v == 0.0 || v == 1.0) {
                    return Err(cell_error(file, r as u64, col, cell.as_bytes(), &no_logit(method)));
                }
                p.push(v);
                z.push(v.ln() - (-v).ln_1p());
            }
            Source::Probs(names) => {
                let mut sum = 0.0;
                for (name, &j) in names.iter().zip(&idx) {
                    let v = probability(file, r as u64, name, row[j].as_bytes())?;
                    sum += v;
                    p.push(v);
                }
                if (sum - 1.0).abs() > tol {
                    return Err(CliError::Input {
                        file: file.to_string(),
                        row: Some(r as u64),
                        column: Some(names.join(",")),
                        value: Some(format!("{sum}")),
                        message: format!("probabilities sum to {sum}, not 1 (within --sum-tolerance {tol})"),
                    });
                }
                for (k, (name, &j)) in names.iter().zip(&idx).enumerate() {
                    let v = p[i * c + k];
                    if v == 0.0 {
                        return Err(cell_error(file, r as u64, name, row[j].as_bytes(), &no_logit(method)));
                    }
                    z.push(v.ln());
                }
            }
            Source::Logits(names) => {
                for (name, &j) in names.iter().zip(&idx) {
                    z.push(parse_finite(file, r, name, &row[j])?);
                }
                let mut out = vec![0.0; c];
                softmax(&z[i * c..(i + 1) * c], &mut out)
                    .map_err(|e| CliError::library(format!("{file}, row {r}: softmax of the logits"), e))?;
                p.extend(out);
            }
        }
    }
    Ok(Preds { p, z, labels })
}

fn no_logit(method: &str) -> String {
    format!("a probability of 0 or 1 has no finite logit, which --method {method} needs")
}

impl Map {
    fn fit(method: &str, src: &Source, d: &Preds, file: &str) -> CliResult<Map> {
        let labels = d.labels.as_deref().expect("the fitting file's targets are read");
        let c = src.n_classes();
        let lib = |e| CliError::library(format!("{file}: fitting {method} scaling"), e);
        Ok(match (method, src) {
            ("temperature", Source::Prob(_)) => {
                Map::Temperature(TemperatureScaling::fit(&two_class(&d.z), 2, labels).map_err(lib)?)
            }
            ("temperature", _) => Map::Temperature(TemperatureScaling::fit(&d.z, c, labels).map_err(lib)?),
            ("platt", _) => Map::Platt(PlattScaling::fit(&d.z, labels).map_err(lib)?),
            ("isotonic", _) => Map::Isotonic(
                IsotonicRegression::fit_calibration(&d.p, labels, None)
                    .map_err(|e| CliError::library(format!("{file}: fitting isotonic regression"), e))?,
            ),
            _ => Map::Vector(VectorScaling::fit(&d.z, c, labels).map_err(lib)?),
        })
    }

    /// The recalibrated probabilities: P(y = 1) per row (binary) or row-major `[N, C]`.
    fn apply(&self, binary: bool, d: &Preds, file: &str) -> CliResult<Vec<f64>> {
        let lib = |e| CliError::library(format!("{file}: applying the map"), e);
        Ok(match self {
            Map::Temperature(m) if binary => {
                m.probabilities(&two_class(&d.z)).map_err(lib)?.chunks(2).map(|r| r[1]).collect()
            }
            Map::Temperature(m) => m.probabilities(&d.z).map_err(lib)?,
            Map::Platt(m) => m.apply(&d.z),
            Map::Isotonic(m) => m.apply(&d.p),
            Map::Vector(m) => m.probabilities(&d.z).map_err(lib)?,
        })
    }

    fn report(&self) -> Option<RecalibrationReport<f64>> {
        match self {
            Map::Temperature(m) => m.report(),
            Map::Platt(m) => m.report(),
            Map::Isotonic(m) => m.report(),
            Map::Vector(m) => m.report(),
        }
    }

    fn parameters(&self) -> Value {
        match self {
            Map::Temperature(m) => json!({ "temperature": m.temperature() }),
            Map::Platt(m) => json!({ "a": m.a(), "b": m.b() }),
            Map::Isotonic(m) => {
                let (x, y) = m.thresholds();
                json!({ "thresholds_x": x, "thresholds_y": y })
            }
            Map::Vector(m) => json!({ "scale": m.scale(), "bias": m.bias() }),
        }
    }

    fn summary(&self) -> String {
        match self {
            Map::Temperature(m) => format!("T = {}", m.temperature()),
            Map::Platt(m) => format!("a = {}, b = {}", m.a(), m.b()),
            Map::Isotonic(m) => format!("{} thresholds", m.thresholds().0.len()),
            Map::Vector(m) => format!("w = {:?}, b = {:?}", m.scale(), m.bias()),
        }
    }
}

/// The binary logits z as the two-class logits (0, z), whose softmax is (1 − σ(z), σ(z)).
fn two_class(z: &[f64]) -> Vec<f64> {
    z.iter().flat_map(|&v| [0.0, v]).collect()
}

/// NLL, Brier score and ECE (`bins` bins) of probabilities before and after, computed with the
/// library's scores; binary when `c` = 2 with one probability per row.
pub fn metrics(
    before: &[f64],
    after: &[f64],
    c: usize,
    labels: &[i64],
    bins: usize,
) -> surprisal::Result<Metrics> {
    let n = labels.len() as f64;
    if before.len() == labels.len() {
        let y: Vec<f64> = labels.iter().map(|&l| l as f64).collect();
        let nll = |p: &[f64]| -> f64 {
            // 0 − x: a perfect fit scores +0, not −0.
            0.0 - y.iter().zip(p).map(|(&y, &p)| xlogy(y, p) + xlog1py(1.0 - y, -p)).sum::<f64>() / n
        };
        let ece = |p: &[f64]| binary_calibration_error(p, &y, bins, Norm::L1);
        let brier = |p: &[f64]| brier_score_binary(labels, p, None);
        return Ok(Metrics {
            nll: (nll(before), nll(after)),
            brier: (brier(before)?, brier(after)?),
            ece: (ece(before)?, ece(after)?),
        });
    }
    let classes: Vec<i64> = (0..c as i64).collect();
    let nll = |p: &[f64]| -> f64 {
        0.0 - labels.iter().enumerate().map(|(i, &y)| p[i * c + y as usize].ln()).sum::<f64>() / n
    };
    let brier = |p: &[f64]| brier_score(labels, p, c, None, Some(&classes), BrierScale::Auto);
    let ece = |p: &[f64]| multiclass_calibration_error(p, c, labels, bins, Norm::L1);
    Ok(Metrics {
        nll: (nll(before), nll(after)),
        brier: (brier(before)?, brier(after)?),
        ece: (ece(before)?, ece(after)?),
    })
}

fn metrics_json(m: &Metrics) -> Value {
    json!({
        "nll_before": m.nll.0, "nll_after": m.nll.1,
        "brier_before": m.brier.0, "brier_after": m.brier.1,
        "ece_before": m.ece.0, "ece_after": m.ece.1,
    })
}

/// The task and its usage checks.
fn source_of(a: &CalibrateArgs) -> CliResult<Source> {
    if !METHODS.contains(&a.method.as_str()) {
        return Err(CliError::Usage(format!(
            "unknown method `{}` (methods: {})",
            a.method,
            METHODS.join(", ")
        )));
    }
    if a.bins == 0 {
        return Err(CliError::Usage("--bins must be at least 1".into()));
    }
    if a.sum_tolerance.is_nan() || a.sum_tolerance < 0.0 {
        return Err(CliError::Usage(format!("--sum-tolerance must be >= 0, got {}", a.sum_tolerance)));
    }
    let src = match (&a.prob, &a.probs, &a.logits) {
        (Some(p), None, None) => Source::Prob(p.clone()),
        (None, Some(ps), None) => Source::Probs(ps.clone()),
        (None, None, Some(zs)) => Source::Logits(zs.clone()),
        _ => {
            return Err(CliError::Usage(
                "give --prob COL (binary), --probs C0,C1,… or --logits C0,C1,… (multiclass)".into(),
            ));
        }
    };
    if src.n_classes() < 2 {
        return Err(CliError::Usage("--probs and --logits need at least two columns".into()));
    }
    let ok = match src {
        Source::Prob(_) => ["temperature", "platt", "isotonic"].contains(&a.method.as_str()),
        _ => ["temperature", "vector"].contains(&a.method.as_str()),
    };
    if !ok {
        return Err(CliError::Usage(match src {
            Source::Prob(_) => format!(
                "--method {} does not apply to a binary --prob (binary methods: temperature, platt, isotonic)",
                a.method
            ),
            _ => format!(
                "--method {} does not apply to multiclass predictions (multiclass methods: temperature, vector)",
                a.method
            ),
        }));
    }
    Ok(src)
}

/// Runs `surprisal calibrate`.
pub fn run(a: &CalibrateArgs) -> CliResult<()> {
    crate::output::refuse_stdout("--out", &a.out)?;
    let src = source_of(a)?;
    let (method, c) = (a.method.as_str(), src.n_classes());
    let binary = matches!(src, Source::Prob(_));
    let new_cols: Vec<String> = match &src {
        Source::Prob(p) => vec![format!("{p}_calibrated")],
        _ => (0..c).map(|k| format!("p_calibrated_{k}")).collect(),
    };

    let cal = Table::read(&a.fit)?;
    let cal_d = read_preds(&cal, &src, method, &a.target, true, a.sum_tolerance)?;
    let data = Table::read(&a.apply)?;
    let data_d = read_preds(&data, &src, method, &a.target, false, a.sum_tolerance)?;
    if let Some(dup) = new_cols.iter().find(|n| data.header.contains(n)) {
        return Err(CliError::input(
            &a.apply,
            format!("has a column `{dup}` already: the output would repeat it"),
        ));
    }

    let map = Map::fit(method, &src, &cal_d, &a.fit)?;
    let cal_labels = cal_d.labels.as_deref().expect("read with the target");
    let fit_metrics: Metrics = match map.report() {
        Some(r) if a.bins == ECE_BINS => r.into(),
        _ => {
            let after = map.apply(binary, &cal_d, &a.fit)?;
            metrics(&cal_d.p, &after, c, cal_labels, a.bins)
                .map_err(|e| CliError::library(format!("{}: scoring the fit", a.fit), e))?
        }
    };
    let out_p = map.apply(binary, &data_d, &a.apply)?;
    let apply_metrics = match &data_d.labels {
        Some(l) => Some(metrics(&data_d.p, &out_p, c, l, a.bins).map_err(|e| {
            CliError::library(format!("{}: scoring the recalibrated predictions", a.apply), e)
        })?),
        None => None,
    };

    // The output: every column of FILE, then the recalibrated probabilities.
    let width = new_cols.len();
    let mut w =
        csv::WriterBuilder::new().delimiter(crate::input::delimiter_for(&a.out)).from_writer(Vec::new());
    let io = |e: csv::Error| CliError::Io { file: a.out.clone(), source: std::io::Error::other(e) };
    w.write_record(data.header.iter().chain(&new_cols)).map_err(io)?;
    for (i, row) in data.rows.iter().enumerate() {
        let vals = out_p[i * width..(i + 1) * width].iter().map(|v| format!("{v}"));
        w.write_record(row.iter().cloned().chain(vals)).map_err(io)?;
    }
    let bytes = w.into_inner().map_err(|e| CliError::Io { file: a.out.clone(), source: e.into_error() })?;
    write_atomic(&a.out, &bytes)?;

    let task = if binary { "binary" } else { "multiclass" };
    if a.json {
        let doc = json!({
            "method": method,
            "task": task,
            "n_classes": c,
            "target": a.target,
            "bins": a.bins,
            "parameters": map.parameters(),
            "fit": { "file": a.fit, "rows": cal.rows.len(), "metrics": metrics_json(&fit_metrics) },
            "apply": {
                "file": a.apply,
                "rows": data.rows.len(),
                "metrics": apply_metrics.as_ref().map(metrics_json),
            },
            "out": a.out,
            "columns": new_cols,
        });
        outln!("{}", serde_json::to_string_pretty(&doc).expect("JSON of numbers and strings"))?;
        return Ok(());
    }
    outln!(
        "{method} scaling of {task} predictions, fitted on {} ({} rows): {}",
        a.fit,
        cal.rows.len(),
        map.summary()
    )?;
    outln!("wrote {} ({} rows) with {}", a.out, data.rows.len(), new_cols.join(", "))?;
    outln!()?;
    outln!("{:<8} {:<8} {:>12} {:>12}", "data", "score", "before", "after")?;
    let mut table = vec![("fit", fit_metrics)];
    if let Some(m) = apply_metrics {
        table.push(("apply", m));
    }
    for (name, m) in table {
        for (score, (b, af)) in [("nll", m.nll), ("brier", m.brier), ("ece", m.ece)] {
            outln!("{name:<8} {score:<8} {b:>12.6} {af:>12.6}")?;
        }
    }
    if apply_metrics.is_none() {
        outln!("({} has no column `{}`: no scores after applying)", a.apply, a.target)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_match_the_library_report_at_the_default_bins() {
        // Binary: an over-confident score; Platt's report against the same numbers here.
        let z: Vec<f64> = (0..40).map(|i| (i as f64 - 20.0) / 4.0).collect();
        let y: Vec<i64> = (0..40).map(|i| i64::from((i * 7 % 11) < 2 * (i / 8) + 1)).collect();
        let fit = PlattScaling::fit(&z, &y).unwrap();
        let p: Vec<f64> = z.iter().map(|&v| surprisal::num::sigmoid(v)).collect();
        let m = metrics(&p, &fit.apply(&z), 2, &y, ECE_BINS).unwrap();
        let r: Metrics = fit.report().unwrap().into();
        for (a, b) in [(m.nll, r.nll), (m.brier, r.brier), (m.ece, r.ece)] {
            assert!((a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-12, "{a:?} vs {b:?}");
        }
        // Multiclass: temperature scaling of three-class logits.
        let logits: Vec<f64> = (0..60).map(|i| ((i * 37 % 17) as f64 - 8.0) / 2.0).collect();
        // The arg-max for most rows, another class for every fourth: a finite temperature.
        let labels: Vec<i64> = logits
            .chunks(3)
            .enumerate()
            .map(|(i, r)| {
                let top = (0..3).max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap() as i64;
                if i % 4 == 0 { (top + 1) % 3 } else { top }
            })
            .collect();
        let t = TemperatureScaling::fit(&logits, 3, &labels).unwrap();
        let mut before = vec![0.0; 60];
        for (zr, pr) in logits.chunks(3).zip(before.chunks_mut(3)) {
            softmax(zr, pr).unwrap();
        }
        let m = metrics(&before, &t.probabilities(&logits).unwrap(), 3, &labels, ECE_BINS).unwrap();
        let r: Metrics = t.report().unwrap().into();
        for (a, b) in [(m.nll, r.nll), (m.brier, r.brier), (m.ece, r.ece)] {
            assert!((a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-12, "{a:?} vs {b:?}");
        }
    }
}
