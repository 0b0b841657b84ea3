//! `surprisal tour [--out DIR]`: the whole idea end to end, on three small data sets embedded in
//! the binary (so it runs from any directory):
//!
//! 1. Engel (food expenditure on income): least squares, least absolute deviations, Student-t and
//!    quantile regression are each the maximum-likelihood fit of a noise model; the models are
//!    ranked by 5-fold held-out NLL per observation, and each loss's declared map
//!    loss = scale·NLL + shift is checked household by household.
//! 2. Wine (3 cultivars): softmax regression with 5-fold out-of-fold probabilities, scored by log
//!    loss, Brier score, ECE and accuracy, then temperature scaling fitted by nested
//!    cross-fitting on the out-of-fold logits, and the reliability diagram as a table.
//! 3. Longley: the Gaussian GLM of the classic ill-conditioned regression against an independent
//!    least-squares solve and the exact (certified) coefficients.
//! 4. The out-of-fold wine predictions (CSV), a JSON summary and the reliability diagrams (PNG)
//!    written to `DIR` (atomically).
//!
//! Every number is computed through the library (fits, families, losses, scores, calibration).

use crate::error::{CliError, CliResult};
use clap::Args;
use ndarray::Array2;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use surprisal::calibration::{BinEdges, BinnedCalibration, Norm, ReliabilityDiagram, TemperatureScaling};
use surprisal::divergence::Base;
use surprisal::family::{AsymmetricLaplace, Family, Laplace, Normal, StudentT};
use surprisal::fit::compare::fold_assignment;
use surprisal::fit::glm::{Glm, GlmFamily};
use surprisal::fit::quantile::{QuantileOptions, quantile_regression};
use surprisal::fit::robust::{Df, StudentTOptions, student_t_regression};
use surprisal::fit::{LogisticOptions, softmax_regression};
use surprisal::loss::{self, Likelihood, Options, Reduction, Shift};
use surprisal::score::{Accumulator, BrierScale, LogLossOptions, accuracy, brier_score, log_loss};

const ENGEL: &str = include_str!("../../../../examples/data/engel.csv");
const LONGLEY: &str = include_str!("../../../../examples/data/longley.csv");
const WINE: &str = include_str!("../../../../examples/data/wine.csv");

/// Number of cross-validation folds everywhere in the tour.
const FOLDS: usize = 5;
/// Seed of every fold assignment.
const SEED: u64 = 2026;
/// Bins of the expected calibration error and the reliability table (torchmetrics' default).
const ECE_BINS: usize = 15;

/// Arguments of `surprisal tour`.
#[derive(Args, Debug)]
pub struct TourArgs {
    /// Folder for the output files (created if missing).
    #[arg(long, default_value = "surprisal-tour")]
    pub out: PathBuf,
}

/// An embedded CSV: header and numeric rows.
struct Data {
    name: &'static str,
    header: Vec<String>,
    rows: Vec<Vec<f64>>,
}

impl Data {
    fn parse(name: &'static str, text: &str) -> CliResult<Data> {
        let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
        let header: Vec<String> = r
            .headers()
            .map_err(|e| crate::input::csv_error(name, e))?
            .iter()
            .map(|s| s.trim().to_string())
            .collect();
        let mut rows = Vec::new();
        for (i, rec) in r.records().enumerate() {
            let rec = rec.map_err(|e| crate::input::csv_error(name, e))?;
            let row = rec
                .iter()
                .zip(&header)
                .map(|(cell, col)| crate::input::parse_finite(name, i + 1, col, cell))
                .collect::<CliResult<Vec<f64>>>()?;
            rows.push(row);
        }
        Ok(Data { name, header, rows })
    }

    fn column(&self, name: &str) -> CliResult<Vec<f64>> {
        let j =
            self.header.iter().position(|h| h == name).ok_or_else(|| {
                CliError::input(self.name, format!("no column `{name}` in the embedded data"))
            })?;
        Ok(self.rows.iter().map(|r| r[j]).collect())
    }
}

fn lib(context: &str) -> impl Fn(surprisal::Error) -> CliError + '_ {
    move |e| CliError::library(context, e)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Mean and standard error of the mean.
fn mean_se(v: &[f64]) -> (f64, f64) {
    let m = mean(v);
    let n = v.len() as f64;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

// ---------------------------------------------------------------------------------------------
// 1. Engel: one line, five noise models.

/// The noise model of a regression line y = a + b·x + noise.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Noise {
    Gaussian,
    Laplace,
    StudentT,
    /// Asymmetric Laplace at quantile τ.
    Ald(f64),
}

impl Noise {
    fn fit_name(self) -> String {
        match self {
            Noise::Gaussian => "least squares".into(),
            Noise::Laplace => "least abs. deviations".into(),
            Noise::StudentT => "Student-t regression".into(),
            Noise::Ald(t) => format!("quantile τ = {t}"),
        }
    }
    fn family(self) -> &'static str {
        match self {
            Noise::Gaussian => "normal",
            Noise::Laplace => "laplace",
            Noise::StudentT => "student_t",
            Noise::Ald(_) => "asymmetric_laplace",
        }
    }
    fn loss(self) -> String {
        match self {
            Noise::Gaussian => "mse".into(),
            Noise::Laplace => "l1".into(),
            Noise::StudentT => "student_t_nll".into(),
            Noise::Ald(t) => format!("pinball (τ = {t})"),
        }
    }
}

/// A fitted line with its noise scale (σ, b or σ of the family) and, for Student-t, ν.
#[derive(Clone, Copy, Debug)]
struct Line {
    a: f64,
    b: f64,
    scale: f64,
    df: f64,
    /// Whether ν had to be fixed at 4 because learning it failed.
    df_fixed: bool,
}

impl Line {
    fn at(&self, x: f64) -> f64 {
        self.a + self.b * x
    }
}

fn design(x: &[f64]) -> Array2<f64> {
    Array2::from_shape_fn((x.len(), 2), |(i, j)| if j == 0 { 1.0 } else { x[i] })
}

/// Fits the line of one noise model by maximum likelihood.
fn fit_line(noise: Noise, x: &[f64], y: &[f64]) -> surprisal::Result<Line> {
    match noise {
        Noise::Gaussian => {
            let (mx, my) = (mean(x), mean(y));
            let sxy: f64 = x.iter().zip(y).map(|(u, v)| (u - mx) * (v - my)).sum();
            let sxx: f64 = x.iter().map(|u| (u - mx) * (u - mx)).sum();
            let b = sxy / sxx;
            let a = my - b * mx;
            let ms = x.iter().zip(y).map(|(u, v)| (v - a - b * u).powi(2)).sum::<f64>() / x.len() as f64;
            Ok(Line { a, b, scale: ms.sqrt(), df: f64::NAN, df_fixed: false })
        }
        Noise::Laplace | Noise::Ald(_) => {
            let tau = if let Noise::Ald(t) = noise { t } else { 0.5 };
            let q = quantile_regression(design(x).view(), y, tau, None, &QuantileOptions::default())?;
            // The τ = ½ asymmetric Laplace with σ is the Laplace with b = 2σ = mean |r|.
            let scale = if noise == Noise::Laplace { 2.0 * q.scale } else { q.scale };
            Ok(Line { a: q.coef[0], b: q.coef[1], scale, df: f64::NAN, df_fixed: false })
        }
        Noise::StudentT => {
            let learned = student_t_regression(x, 1, y, &StudentTOptions::default());
            let (fit, df_fixed) = match learned {
                Ok(f) if f.report.stop.converged() && f.df.is_finite() => (f, false),
                _ => {
                    let opts = StudentTOptions { df: Df::Fixed(4.0), ..Default::default() };
                    (student_t_regression(x, 1, y, &opts)?, true)
                }
            };
            Ok(Line { a: fit.intercept, b: fit.coef[0], scale: fit.scale, df: fit.df, df_fixed })
        }
    }
}

/// log p(y | x) under a fitted line and its noise model, through the library's families.
fn log_prob(noise: Noise, line: &Line, x: f64, y: f64) -> surprisal::Result<f64> {
    let m = line.at(x);
    Ok(match noise {
        Noise::Gaussian => Normal::new(m, line.scale)?.log_prob(y),
        Noise::Laplace => Laplace::new(m, line.scale)?.log_prob(y),
        Noise::StudentT => StudentT::new(line.df, m, line.scale)?.log_prob(y),
        Noise::Ald(t) => AsymmetricLaplace::new(m, line.scale, t)?.log_prob(y),
    })
}

struct Scored {
    noise: Noise,
    full: Line,
    heldout: f64,
    se: f64,
    insample: f64,
    /// Held-out −log p of each row.
    nll: Vec<f64>,
}

/// Fits on all data and on each set of 4 folds; scores −log p on each held-out fold.
fn score_noise(noise: Noise, x: &[f64], y: &[f64], fold: &[usize]) -> surprisal::Result<Scored> {
    let full = fit_line(noise, x, y)?;
    let mut insample = Vec::with_capacity(x.len());
    for (&u, &v) in x.iter().zip(y) {
        insample.push(-log_prob(noise, &full, u, v)?);
    }
    let mut nll = vec![0.0; x.len()];
    for k in 0..FOLDS {
        let (tx, ty): (Vec<f64>, Vec<f64>) =
            (0..x.len()).filter(|&i| fold[i] != k).map(|i| (x[i], y[i])).unzip();
        let line = fit_line(noise, &tx, &ty)?;
        for i in (0..x.len()).filter(|&i| fold[i] == k) {
            nll[i] = -log_prob(noise, &line, x[i], y[i])?;
        }
    }
    let (heldout, se) = mean_se(&nll);
    Ok(Scored { noise, full, heldout, se, insample: mean(&insample), nll })
}

/// A number with at most 4 decimals, trailing zeros dropped.
fn short(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn shift_text(s: &Shift) -> String {
    match s {
        Shift::Constant(c) if *c == 0.0 => String::new(),
        Shift::Constant(c) if *c < 0.0 => format!("− {:.6}", -c),
        Shift::Constant(c) => format!("+ {c:.6}"),
        Shift::PerTarget { formula, .. } => format!("+ {formula}"),
        Shift::PerTargetWith { formula, param, .. } => format!("+ {formula} (option {param})"),
    }
}

/// One checked declaration: max over rows of |loss_i − (scale·NLL_i + shift_i)|.
struct MapCheck {
    loss: String,
    map: String,
    max_dev: f64,
}

fn check_map(
    loss: String,
    decl: surprisal::Result<Likelihood>,
    outputs: &[Vec<f64>],
    y: &[f64],
    per_element: &[f64],
) -> CliResult<MapCheck> {
    let context = format!("checking the declared likelihood of {loss}");
    let Likelihood::Nll(m) = decl.map_err(lib(&context))? else {
        return Err(CliError::Usage(format!("{loss} declares no element-wise NLL")));
    };
    let fixed: Vec<String> = m.fixed.iter().map(|(n, v)| format!("{n} = {}", short(*v))).collect();
    let map = format!("{}·NLL_{}({}) {}", m.scale, m.family, fixed.join(", "), shift_text(&m.shift));
    let max_dev = outputs
        .iter()
        .zip(y)
        .zip(per_element)
        .map(|((o, &t), &l)| (l - m.predicted_loss(o, t)).abs())
        .fold(0.0, f64::max);
    Ok(MapCheck { loss, map, max_dev })
}

fn engel(out: &mut String) -> CliResult<Value> {
    let data = Data::parse("engel.csv", ENGEL)?;
    let x = data.column("income")?;
    let y = data.column("foodexp")?;
    let n = x.len();
    let fold = fold_assignment(n, FOLDS, SEED);
    let _ = writeln!(out, "1. Engel: food expenditure on income, n = {n} Belgian households (1857)");
    let _ =
        writeln!(out, "   Each regression line maximises a likelihood: the loss is the noise model's NLL.");
    let _ =
        writeln!(out, "   Models are compared by {FOLDS}-fold held-out NLL per household (fit on 4 folds,");
    let _ = writeln!(out, "   score −log p(y | x) on the fifth), nats, ± its standard error.\n");
    let noises = [Noise::Gaussian, Noise::Laplace, Noise::StudentT, Noise::Ald(0.1), Noise::Ald(0.9)];
    let mut scored = Vec::new();
    for &noise in &noises {
        let ctx = format!("engel.csv: fitting the {} line", noise.fit_name());
        scored.push(score_noise(noise, &x, &y, &fold).map_err(lib(&ctx))?);
    }
    let _ = writeln!(
        out,
        "   {:<22} {:<19} {:>9} {:>8} {:>9} {:>14} {:>8} {:>10}   loss",
        "fit", "noise model", "a", "b", "scale", "held-out NLL", "± SE", "in-sample"
    );
    let mut ranked: Vec<&Scored> = scored.iter().collect();
    ranked.sort_by(|p, q| p.heldout.total_cmp(&q.heldout));
    for s in &ranked {
        let mut fam = s.noise.family().to_string();
        if s.noise == Noise::StudentT {
            fam = format!("student_t ν={:.2}{}", s.full.df, if s.full.df_fixed { "*" } else { "" });
        }
        let _ = writeln!(
            out,
            "   {:<22} {:<19} {:>9.3} {:>8.5} {:>9.3} {:>14.4} {:>8.4} {:>10.4}   {}",
            s.noise.fit_name(),
            fam,
            s.full.a,
            s.full.b,
            s.full.scale,
            s.heldout,
            s.se,
            s.insample,
            s.noise.loss()
        );
    }
    if scored.iter().any(|s| s.full.df_fixed) {
        let _ = writeln!(out, "   * learning ν failed to converge; ν fixed at 4.");
    }
    let best = ranked[0];
    let gauss = scored.iter().find(|s| s.noise == Noise::Gaussian).expect("scored");
    // Paired differences of held-out NLL, row by row: their mean ± SE.
    let paired = |worse: &Scored| {
        let d: Vec<f64> = worse.nll.iter().zip(&best.nll).map(|(w, b)| w - b).collect();
        mean_se(&d)
    };
    let _ = writeln!(
        out,
        "\n   The data prefer the {} noise model: train with the {} loss.",
        best.noise.family(),
        best.noise.loss()
    );
    let (dg, sg) = paired(gauss);
    let _ = writeln!(
        out,
        "   Held-out NLL gain over the Gaussian (squared error): {dg:.4} ± {sg:.4} nats/household (paired SE);"
    );
    let (dr, sr) = paired(ranked[1]);
    let _ = writeln!(out, "   over the runner-up ({}): {dr:.4} ± {sr:.4}.", ranked[1].noise.family());
    if matches!(best.noise, Noise::Laplace | Noise::StudentT) {
        let _ = writeln!(
            out,
            "   (Food expenditure spreads out as income grows and has outliers: heavier tails than the Normal's win.)"
        );
    }

    // Declared maps, at each full fit's predictions.
    let line_of = |noise: Noise| scored.iter().find(|s| s.noise == noise).expect("scored").full;
    let none = Options::with_reduction(Reduction::None);
    let pred = |l: &Line| -> Vec<f64> { x.iter().map(|&u| l.at(u)).collect() };
    let one = |p: &[f64]| -> Vec<Vec<f64>> { p.iter().map(|&m| vec![m]).collect() };
    let ctx = "engel.csv: evaluating a loss";
    let mut checks = Vec::new();
    let p = pred(&line_of(Noise::Gaussian));
    let l = loss::mse(&p, &y, &none).map_err(lib(ctx))?.per_element;
    checks.push(check_map("mse".into(), Ok(loss::mse::likelihood()), &one(&p), &y, &l)?);
    let p = pred(&line_of(Noise::Laplace));
    let l = loss::l1(&p, &y, &none).map_err(lib(ctx))?.per_element;
    checks.push(check_map("l1".into(), Ok(loss::l1::likelihood()), &one(&p), &y, &l)?);
    let t = line_of(Noise::StudentT);
    let p = pred(&t);
    let sc = vec![t.scale; n];
    let l = loss::student_t_nll(&p, &y, &sc, t.df, &none).map_err(lib(ctx))?.per_element;
    let o: Vec<Vec<f64>> = p.iter().map(|&m| vec![m, t.scale]).collect();
    checks.push(check_map("student_t_nll".into(), loss::student_t_nll::likelihood(t.df), &o, &y, &l)?);
    for tau in [0.1, 0.9] {
        let p = pred(&line_of(Noise::Ald(tau)));
        let l = loss::pinball(&p, &y, tau, &none).map_err(lib(ctx))?.per_element;
        checks.push(check_map(format!("pinball τ={tau}"), loss::pinball::likelihood(tau), &one(&p), &y, &l)?);
    }
    let _ =
        writeln!(out, "\n   Declared maps loss = scale·NLL + shift, checked at each fit's {n} predictions");
    let _ = writeln!(out, "   (NLL through the family, loss through the loss function; rounding only):");
    for c in &checks {
        let _ = writeln!(out, "   {:<14} = {:<70} max|Δ| = {:.1e}", c.loss, c.map, c.max_dev);
    }
    let below = |tau: f64| {
        let l = line_of(Noise::Ald(tau));
        x.iter().zip(&y).filter(|(u, v)| **v <= l.at(**u)).count() as f64 / n as f64
    };
    let _ = writeln!(
        out,
        "   Quantile lines: {:.3} of households lie on or below the τ = 0.1 line, {:.3} below τ = 0.9.",
        below(0.1),
        below(0.9)
    );

    let models: Vec<Value> = ranked
        .iter()
        .map(|s| {
            json!({
                "fit": s.noise.fit_name(),
                "family": s.noise.family(),
                "loss": s.noise.loss(),
                "intercept": s.full.a,
                "slope": s.full.b,
                "scale": s.full.scale,
                "df": if s.noise == Noise::StudentT { json!(s.full.df) } else { Value::Null },
                "df_fixed": s.full.df_fixed,
                "heldout_nll": s.heldout,
                "heldout_se": s.se,
                "insample_nll": s.insample,
            })
        })
        .collect();
    let maps: Vec<Value> =
        checks.iter().map(|c| json!({"loss": c.loss, "map": c.map, "max_abs_dev": c.max_dev})).collect();
    Ok(json!({
        "n": n, "folds": FOLDS, "seed": SEED,
        "models": models,
        "preferred_family": best.noise.family(),
        "preferred_loss": best.noise.loss(),
        "gain_over_gaussian": {"mean": dg, "se": sg},
        "gain_over_runner_up": {"mean": dr, "se": sr},
        "declared_maps": maps,
    }))
}

// ---------------------------------------------------------------------------------------------
// 2. Wine: out-of-fold softmax probabilities, scores, temperature scaling, reliability.

const N_CLASSES: usize = 3;

/// Standardises the rows `train` of `x` (row-major, p columns) by their own mean and standard
/// deviation and applies the same map to the rows `apply`; returns (train block, apply block).
fn standardise(x: &[f64], p: usize, train: &[usize], apply: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let nt = train.len() as f64;
    let mut mu = vec![0.0; p];
    let mut sd = vec![0.0; p];
    for &i in train {
        for j in 0..p {
            mu[j] += x[i * p + j] / nt;
        }
    }
    for &i in train {
        for j in 0..p {
            sd[j] += (x[i * p + j] - mu[j]).powi(2) / nt;
        }
    }
    let sd: Vec<f64> = sd.iter().map(|v| if *v > 0.0 { v.sqrt() } else { 1.0 }).collect();
    let block = |rows: &[usize]| -> Vec<f64> {
        rows.iter()
            .flat_map(|&i| (0..p).map(|j| (x[i * p + j] - mu[j]) / sd[j]).collect::<Vec<_>>())
            .collect()
    };
    (block(train), block(apply))
}

/// Fits softmax regression (l2 = 1, standardised features) on rows `train` and returns the
/// logits of rows `test`, row-major `[test.len(), C]`.
fn softmax_logits(
    x: &[f64],
    p: usize,
    y: &[i64],
    train: &[usize],
    test: &[usize],
) -> surprisal::Result<Vec<f64>> {
    let (xt, xs) = standardise(x, p, train, test);
    let yt: Vec<i64> = train.iter().map(|&i| y[i]).collect();
    let fit = softmax_regression(&xt, p, &yt, N_CLASSES, &LogisticOptions::l2(1.0))?;
    let mut logits = Vec::with_capacity(test.len() * N_CLASSES);
    for r in 0..test.len() {
        for k in 0..N_CLASSES {
            let w = &fit.coef[k * p..(k + 1) * p];
            logits.push(
                fit.intercept[k] + w.iter().zip(&xs[r * p..(r + 1) * p]).map(|(a, b)| a * b).sum::<f64>(),
            );
        }
    }
    Ok(logits)
}

/// Out-of-fold logits of every row, row-major `[n, C]`.
fn oof_logits(x: &[f64], p: usize, y: &[i64], fold: &[usize], folds: usize) -> surprisal::Result<Vec<f64>> {
    let mut logits = vec![0.0; y.len() * N_CLASSES];
    for k in 0..folds {
        let train: Vec<usize> = (0..y.len()).filter(|&i| fold[i] != k).collect();
        let test: Vec<usize> = (0..y.len()).filter(|&i| fold[i] == k).collect();
        let z = softmax_logits(x, p, y, &train, &test)?;
        for (t, &i) in test.iter().enumerate() {
            logits[i * N_CLASSES..(i + 1) * N_CLASSES]
                .copy_from_slice(&z[t * N_CLASSES..(t + 1) * N_CLASSES]);
        }
    }
    Ok(logits)
}

struct Scores {
    nll: f64,
    bits: f64,
    brier: f64,
    ece: f64,
    accuracy: f64,
    diagram: ReliabilityDiagram<f64>,
}

fn scores(y: &[i64], probs: &[f64]) -> surprisal::Result<Scores> {
    let mut cal = BinnedCalibration::new(BinEdges::torchmetrics(ECE_BINS)?);
    cal.update_top_label(probs, N_CLASSES, y)?;
    let diagram = cal.finish()?;
    Ok(Scores {
        nll: log_loss(y, probs, N_CLASSES, None, None, LogLossOptions::default())?,
        bits: log_loss(y, probs, N_CLASSES, None, None, LogLossOptions::default().in_base(Base::Bits))?,
        brier: brier_score(y, probs, N_CLASSES, None, None, BrierScale::Auto)?,
        ece: diagram.calibration_error(Norm::L1),
        accuracy: accuracy(y, probs, N_CLASSES, None, None)?,
        diagram,
    })
}

fn scores_json(s: &Scores) -> Value {
    json!({"log_loss_nats": s.nll, "log_loss_bits": s.bits, "brier": s.brier, "ece": s.ece, "accuracy": s.accuracy})
}

fn diagram_json(d: &ReliabilityDiagram<f64>) -> Value {
    let bins: Vec<Value> = (0..d.count.len())
        .filter(|&b| d.count[b] > 0)
        .map(|b| {
            json!({"lower": d.lower[b], "upper": d.upper[b], "count": d.count[b],
                   "confidence": d.confidence[b], "accuracy": d.accuracy[b]})
        })
        .collect();
    Value::Array(bins)
}

/// The wine section's results that the files need.
struct Wine {
    summary: Value,
    y: Vec<i64>,
    fold: Vec<usize>,
    before: Vec<f64>,
    after: Vec<f64>,
    diagram_before: ReliabilityDiagram<f64>,
    diagram_after: ReliabilityDiagram<f64>,
}

fn wine(out: &mut String) -> CliResult<Wine> {
    let data = Data::parse("wine.csv", WINE)?;
    let target = data.column("target")?;
    let features: Vec<&String> = data.header.iter().filter(|h| *h != "target").collect();
    let p = features.len();
    let n = target.len();
    let mut x = Vec::with_capacity(n * p);
    for row in &data.rows {
        for (v, h) in row.iter().zip(&data.header) {
            if h != "target" {
                x.push(*v);
            }
        }
    }
    let mut y = Vec::with_capacity(n);
    for (i, &t) in target.iter().enumerate() {
        if t.fract() != 0.0 || !(0.0..N_CLASSES as f64).contains(&t) {
            return Err(CliError::Input {
                file: "wine.csv".into(),
                row: Some(i as u64 + 1),
                column: Some("target".into()),
                value: Some(t.to_string()),
                message: "not a class in 0..3".into(),
            });
        }
        y.push(t as i64);
    }
    let _ = writeln!(out, "2. Wine: 3 cultivars from {p} chemical measurements, n = {n}");
    let _ =
        writeln!(out, "   Softmax regression (l2 = 1 on standardised features) is the Categorical model;");
    let _ = writeln!(
        out,
        "   its NLL is the log loss. Probabilities are out-of-fold ({FOLDS}-fold cross-validation:"
    );
    let _ = writeln!(
        out,
        "   each row predicted by a model that never saw it; standardisation fitted per fold).\n"
    );

    let ctx = "wine.csv: softmax regression";
    let fold = fold_assignment(n, FOLDS, SEED);
    let logits = oof_logits(&x, p, &y, &fold, FOLDS).map_err(lib(ctx))?;
    let identity = TemperatureScaling::new(1.0, N_CLASSES).map_err(lib(ctx))?;
    let before = identity.probabilities(&logits).map_err(lib(ctx))?;

    // Temperature by cross-fitting on the out-of-fold logits: T for fold k is fitted on the
    // other folds' out-of-fold logits and labels, so no row's label chooses its own T.
    let ctx = "wine.csv: temperature scaling";
    let mut after = vec![0.0; n * N_CLASSES];
    let mut temps = Vec::with_capacity(FOLDS);
    for k in 0..FOLDS {
        let rest: Vec<usize> = (0..n).filter(|&i| fold[i] != k).collect();
        let z: Vec<f64> =
            rest.iter().flat_map(|&i| logits[i * N_CLASSES..(i + 1) * N_CLASSES].iter().copied()).collect();
        let yr: Vec<i64> = rest.iter().map(|&i| y[i]).collect();
        let ts = TemperatureScaling::fit(&z, N_CLASSES, &yr).map_err(lib(ctx))?;
        temps.push(ts.temperature());
        for i in (0..n).filter(|&i| fold[i] == k) {
            let row = ts.probabilities(&logits[i * N_CLASSES..(i + 1) * N_CLASSES]).map_err(lib(ctx))?;
            after[i * N_CLASSES..(i + 1) * N_CLASSES].copy_from_slice(&row);
        }
    }
    // For reference only: T fitted on all out-of-fold logits (in-sample for the temperature).
    let pooled = TemperatureScaling::fit(&logits, N_CLASSES, &y).map_err(lib(ctx))?;

    let ctx = "wine.csv: scoring";
    let sb = scores(&y, &before).map_err(lib(ctx))?;
    let sa = scores(&y, &after).map_err(lib(ctx))?;
    let _ = writeln!(out, "   {:<34} {:>12} {:>12}", "out-of-fold score", "softmax", "+ temperature");
    let rows: [(&str, f64, f64, &str); 5] = [
        ("log loss (nats)", sb.nll, sa.nll, "Categorical NLL per row"),
        ("log loss (bits)", sb.bits, sa.bits, "the same in base 2"),
        ("Brier score", sb.brier, sa.brier, "Σ_c (1[y = c] − p_c)²"),
        ("ECE (15 bins, top label)", sb.ece, sa.ece, "mean |accuracy − confidence|"),
        ("accuracy", sb.accuracy, sa.accuracy, "argmax; unchanged by T"),
    ];
    for (name, b, a, what) in rows {
        let _ = writeln!(out, "   {name:<34} {b:>12.4} {a:>12.4}   {what}");
    }
    let tt: Vec<String> = temps.iter().map(|t| format!("{t:.3}")).collect();
    let _ = writeln!(
        out,
        "\n   Temperature T (logits z ↦ z/T, fitted by maximum likelihood), cross-fitted: for each fold,"
    );
    let _ = writeln!(
        out,
        "   T is fitted on the other folds' out-of-fold predictions: T = {} (T < 1 sharpens).",
        tt.join(", ")
    );
    let _ = writeln!(
        out,
        "   Fitted on all out-of-fold logits instead (in-sample for T): T = {:.3}, NLL {:.4} → {:.4}.",
        pooled.temperature(),
        pooled.report().map_or(f64::NAN, |r| r.nll_before),
        pooled.report().map_or(f64::NAN, |r| r.nll_after)
    );

    let _ = writeln!(
        out,
        "\n   Reliability diagram (top-label confidence, {ECE_BINS} equal-width bins; non-empty bins):"
    );
    let _ = writeln!(
        out,
        "   {:<13} {:>6} {:>11} {:>9}   {:>6} {:>11} {:>9}",
        "bin", "n", "confidence", "accuracy", "n (T)", "confidence", "accuracy"
    );
    let (db, da) = (&sb.diagram, &sa.diagram);
    for b in 0..db.count.len() {
        if db.count[b] == 0 && da.count[b] == 0 {
            continue;
        }
        let cell = |d: &ReliabilityDiagram<f64>| {
            if d.count[b] == 0 {
                format!("{:>6} {:>11} {:>9}", 0, "-", "-")
            } else {
                format!("{:>6} {:>11.3} {:>9.3}", d.count[b], d.confidence[b], d.accuracy[b])
            }
        };
        let _ = writeln!(out, "   [{:.3}, {:.3}] {}   {}", db.lower[b], db.upper[b], cell(db), cell(da));
    }
    let summary = json!({
        "n": n, "features": p, "classes": N_CLASSES, "folds": FOLDS, "seed": SEED, "l2": 1.0,
        "before": scores_json(&sb),
        "after_temperature": scores_json(&sa),
        "temperatures": temps,
        "temperature_method": "cross-fitted: the temperature of fold k is fitted on the out-of-fold logits and labels of the other folds",
        "pooled_temperature": pooled.temperature(),
        "ece_bins": ECE_BINS,
        "reliability_before": diagram_json(&sb.diagram),
        "reliability_after": diagram_json(&sa.diagram),
    });
    Ok(Wine { summary, y, fold, before, after, diagram_before: sb.diagram, diagram_after: sa.diagram })
}

// ---------------------------------------------------------------------------------------------
// 3. Longley: the Gaussian GLM of an ill-conditioned regression.

/// The exact least-squares coefficients of TOTEMP on (1, GNPDEFL, GNP, UNEMP, ARMED, POP, YEAR):
/// NIST StRD's certified values (and the normal equations solved in exact rational arithmetic).
const LONGLEY_EXACT: [f64; 7] = [
    -3482258.63459582,
    15.0618722713733,
    -0.0358191792925910,
    -2.02022980381683,
    -1.03322686717359,
    -0.0511041056535807,
    1829.15146461355,
];

/// Least squares by Householder QR on centred columns (intercept recovered from the means):
/// an independent solve, not the GLM's Newton iteration. `x` is row-major n × p without the
/// intercept; returns [intercept, β…].
fn least_squares_qr(x: &[f64], p: usize, y: &[f64]) -> Option<Vec<f64>> {
    let n = y.len();
    let mx: Vec<f64> = (0..p).map(|j| (0..n).map(|i| x[i * p + j]).sum::<f64>() / n as f64).collect();
    let my = mean(y);
    let mut a: Vec<f64> = (0..n * p).map(|k| x[k] - mx[k % p]).collect();
    let mut b: Vec<f64> = y.iter().map(|v| v - my).collect();
    for k in 0..p {
        let norm = (k..n).map(|i| a[i * p + k].powi(2)).sum::<f64>().sqrt();
        if norm == 0.0 {
            return None;
        }
        let alpha = if a[k * p + k] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = (k..n).map(|i| a[i * p + k]).collect();
        v[0] -= alpha;
        let vv: f64 = v.iter().map(|t| t * t).sum();
        if vv == 0.0 {
            continue;
        }
        for j in k..p {
            let s: f64 = (k..n).map(|i| v[i - k] * a[i * p + j]).sum::<f64>() * 2.0 / vv;
            for i in k..n {
                a[i * p + j] -= s * v[i - k];
            }
        }
        let s: f64 = (k..n).map(|i| v[i - k] * b[i]).sum::<f64>() * 2.0 / vv;
        for i in k..n {
            b[i] -= s * v[i - k];
        }
    }
    let mut beta = vec![0.0; p];
    for k in (0..p).rev() {
        let s: f64 = (k + 1..p).map(|j| a[k * p + j] * beta[j]).sum();
        beta[k] = (b[k] - s) / a[k * p + k];
    }
    let intercept = my - beta.iter().zip(&mx).map(|(b, m)| b * m).sum::<f64>();
    Some(std::iter::once(intercept).chain(beta).collect())
}

fn longley(out: &mut String) -> CliResult<Value> {
    let data = Data::parse("longley.csv", LONGLEY)?;
    let y = data.column("TOTEMP")?;
    let names = ["GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"];
    let cols = names.iter().map(|c| data.column(c)).collect::<CliResult<Vec<_>>>()?;
    let n = y.len();
    let p = names.len();
    let raw: Vec<f64> = (0..n).flat_map(|i| cols.iter().map(move |c| c[i])).collect();
    let with_one: Vec<f64> =
        (0..n).flat_map(|i| std::iter::once(1.0).chain(cols.iter().map(move |c| c[i]))).collect();
    let glm = Glm::new(GlmFamily::Gaussian)
        .intercept(0)
        .fit(&with_one, p + 1, &y)
        .map_err(lib("longley.csv: fitting the Gaussian GLM"))?;
    let qr = least_squares_qr(&raw, p, &y)
        .ok_or_else(|| CliError::input("longley.csv", "a constant column: no least-squares solution"))?;
    let _ =
        writeln!(out, "3. Longley: total employment on six macroeconomic series, n = {n} years (1947–62)");
    let _ = writeln!(
        out,
        "   A Gaussian GLM with identity link is least squares (the Normal MLE). The columns are"
    );
    let _ =
        writeln!(out, "   nearly collinear (GNP, POP and YEAR move together): the classic accuracy test.\n");
    let mut labels = vec!["const"];
    labels.extend(names);
    for line in glm.summary(Some(&labels)).lines() {
        let _ = writeln!(out, "   {line}");
    }
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
    let _ = writeln!(
        out,
        "\n   {:<8} {:>22} {:>22} {:>22} {:>10}",
        "", "GLM (Newton/IRLS)", "least squares (QR)", "exact (NIST certified)", "rel. err."
    );
    let mut worst: f64 = 0.0;
    let mut worst_qr: f64 = 0.0;
    for (j, l) in labels.iter().enumerate() {
        let e = rel(glm.coef[j], LONGLEY_EXACT[j]);
        worst = worst.max(e);
        worst_qr = worst_qr.max(rel(qr[j], LONGLEY_EXACT[j]));
        let _ = writeln!(
            out,
            "   {:<8} {:>22.12e} {:>22.12e} {:>22.12e} {:>10.1e}",
            l, glm.coef[j], qr[j], LONGLEY_EXACT[j], e
        );
    }
    let agree = glm.coef.iter().zip(&qr).map(|(a, b)| rel(*a, *b)).fold(0.0, f64::max);
    let _ = writeln!(
        out,
        "   GLM vs QR least squares: max relative difference {agree:.1e}; GLM vs exact: {worst:.1e} (QR: {worst_qr:.1e})."
    );
    Ok(json!({
        "n": n,
        "columns": labels,
        "glm_coef": glm.coef,
        "glm_stderr": glm.stderr,
        "least_squares_coef": qr,
        "exact_coef": LONGLEY_EXACT,
        "max_rel_diff_glm_vs_least_squares": agree,
        "max_rel_err_glm_vs_exact": worst,
        "deviance": glm.deviance,
        "scale": glm.scale,
        "loglike": glm.loglike,
        "aic": glm.aic,
        "converged": glm.converged,
    }))
}

// ---------------------------------------------------------------------------------------------
// 4. Files.

fn io(path: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
    move |e| CliError::Io { file: path.display().to_string(), source: e }
}

fn write_predictions(path: &Path, w: &Wine) -> CliResult<()> {
    let mut s = String::from("row,fold,target,p0,p1,p2,p0_temperature,p1_temperature,p2_temperature\n");
    for i in 0..w.y.len() {
        let b = &w.before[i * N_CLASSES..(i + 1) * N_CLASSES];
        let a = &w.after[i * N_CLASSES..(i + 1) * N_CLASSES];
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{}",
            i + 1,
            w.fold[i],
            w.y[i],
            b[0],
            b[1],
            b[2],
            a[0],
            a[1],
            a[2]
        );
    }
    crate::output::write_atomic(&path.to_string_lossy(), s.as_bytes())
}

/// Runs `surprisal tour`.
pub fn run(a: &TourArgs) -> CliResult<()> {
    // The folder first, so that a bad --out fails before the tour's work, not after it.
    let dir = &a.out;
    if dir.exists() && !dir.is_dir() {
        return Err(CliError::input(
            &dir.to_string_lossy(),
            "exists and is not a folder (--out names the folder the tour writes its files into)",
        ));
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut out = String::new();
    let _ = writeln!(out, "surprisal tour: every loss is the negative log-likelihood of a model.");
    let _ = writeln!(
        out,
        "Fit by minimising a loss = fit by maximum likelihood; compare losses = compare models.\n"
    );
    let engel = engel(&mut out)?;
    out!("{out}")?;
    out.clear();
    let _ = writeln!(out);
    let wine = wine(&mut out)?;
    out!("{out}")?;
    out.clear();
    let _ = writeln!(out);
    let longley = longley(&mut out)?;
    out!("{out}")?;

    let pred_path = dir.join("wine_predictions.csv");
    write_predictions(&pred_path, &wine)?;
    let summary_path = dir.join("summary.json");
    let doc = json!({
        "engel": engel,
        "wine": wine.summary,
        "longley": longley,
        "files": {
            "wine_predictions": "wine_predictions.csv",
            "reliability": "reliability.png",
            "reliability_temperature": "reliability_temperature.png",
        },
    });
    let text = serde_json::to_string_pretty(&doc).expect("JSON of numbers and strings");
    crate::output::write_atomic(&summary_path.to_string_lossy(), (text + "\n").as_bytes())?;
    let plot_path = dir.join("reliability.png");
    let plot_t_path = dir.join("reliability_temperature.png");
    crate::plot::reliability_diagram(
        &plot_path.to_string_lossy(),
        &wine.diagram_before,
        "Wine: out-of-fold softmax regression",
    )?;
    crate::plot::reliability_diagram(
        &plot_t_path.to_string_lossy(),
        &wine.diagram_after,
        "Wine: out-of-fold softmax regression, temperature-scaled",
    )?;
    let shown = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()).display().to_string();
    outln!("\n4. Files")?;
    outln!(
        "   {}   out-of-fold wine probabilities (before and after temperature scaling)",
        shown(&pred_path)
    )?;
    outln!("   {}   every number above, as JSON", shown(&summary_path))?;
    outln!("   {}   the wine reliability diagram", shown(&plot_path))?;
    outln!("   {}   the same after temperature scaling", shown(&plot_t_path))?;
    Ok(())
}
