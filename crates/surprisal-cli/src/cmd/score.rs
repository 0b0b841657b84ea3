//! `surprisal score FILE --target y --prob p`: score predictions in one streaming pass.
//!
//! Three tasks, chosen by the flags:
//! - binary (`--prob COL`, the probability of class 1; targets 0 or 1),
//! - multiclass (`--probs C0,C1,…`, one probability column per class; targets are class indices
//!   `0..C`; each row sums to 1 within `--sum-tolerance`),
//! - regression (`--mean COL`, optionally `--var COL` or `--scale COL` and `--family`).
//!
//! Records are read into one reused [`csv::ByteRecord`], only the needed cells are parsed, and the
//! rows are fed to the library's streaming accumulators ([`surprisal::score`],
//! [`surprisal::calibration`]) in batches of [`BATCH`] rows, so memory stays bounded whatever the
//! file's size. `--by COL` keeps one set of accumulators per group besides the overall one. Every
//! bad cell stops the run with one line naming the file, row, column and value, before anything is
//! printed.

use crate::error::{CliError, CliResult};
use crate::input::{self, cell_error, class_index, number, probability};
use clap::Args;
use std::collections::HashMap;
use std::sync::mpsc;
use surprisal::calibration::{BinEdges, BinnedCalibration, Norm, ReliabilityDiagram};
use surprisal::family::{Laplace, Normal, StudentT};
use surprisal::score::{
    Accumulator, Accuracy, BinaryScores, BrierDecomposition, Classes, Crps, LogLoss, LogLossOptions,
    LogScore, MeanAbsoluteError, MeanSquaredError, MurphyDecomposition, R2Score,
};

/// Rows fed to the accumulators at a time.
pub const BATCH: usize = 1 << 16;

/// Arguments of `surprisal score`.
#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// CSV or TSV file with a header row (`-` for standard input).
    pub file: String,
    /// The column of observed targets (0/1, class indices, or real values).
    #[arg(long)]
    pub target: String,
    /// Binary task: the column of predicted probabilities of class 1.
    #[arg(long, conflicts_with_all = ["probs", "mean"])]
    pub prob: Option<String>,
    /// Multiclass task: the predicted probability columns of classes 0, 1, …, comma-separated.
    #[arg(long, value_delimiter = ',', conflicts_with = "mean")]
    pub probs: Option<Vec<String>>,
    /// Regression task: the column of predicted means (locations).
    #[arg(long)]
    pub mean: Option<String>,
    /// Regression: the column of predicted variances (normal family only).
    #[arg(long, requires = "mean", conflicts_with = "scale")]
    pub var: Option<String>,
    /// Regression: the column of predicted scales (normal: σ; laplace: b; student_t: scale).
    #[arg(long, requires = "mean")]
    pub scale: Option<String>,
    /// Regression: the predictive family (normal, laplace, student_t).
    #[arg(long, default_value = "normal", requires = "mean")]
    pub family: String,
    /// Regression with `--family student_t`: the degrees of freedom.
    #[arg(long)]
    pub df: Option<f64>,
    /// Number of calibration bins (torchmetrics' uniform bins) and Brier decomposition bins.
    #[arg(long, default_value_t = 15)]
    pub bins: usize,
    /// Multiclass: how far a row's probabilities may sum from 1.
    #[arg(long, default_value_t = 1e-6)]
    pub sum_tolerance: f64,
    /// Score each group of this column apart (and overall).
    #[arg(long)]
    pub by: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also draw a plot (`.png` or `.svg`): the reliability diagram of a classification (top-label
    /// for multiclass), the PIT histogram of a normal or Laplace regression with a spread column,
    /// or the histogram of residuals y − mean otherwise (which keeps one number per row).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<String>,
}

/// Bins of the PIT histogram.
const PIT_BINS: usize = 20;

/// What `--plot` needs of a regression besides the scores.
enum RegPlot {
    /// Counts of the probability integral transform F(y) in [`PIT_BINS`] equal bins of [0, 1].
    Pit(Vec<u64>),
    /// The residuals y − mean.
    Residuals(Vec<f64>),
}

impl RegPlot {
    fn new(task: &Task) -> Option<Self> {
        match task {
            Task::Regression { spread: Some(_), family: RegFamily::Normal | RegFamily::Laplace, .. } => {
                Some(RegPlot::Pit(vec![0; PIT_BINS]))
            }
            Task::Regression { .. } => Some(RegPlot::Residuals(Vec::new())),
            _ => None,
        }
    }

    fn update(&mut self, task: &Task, b: &Batch) {
        match self {
            RegPlot::Pit(counts) => {
                let laplace = matches!(task, Task::Regression { family: RegFamily::Laplace, .. });
                for ((y, m), s) in b.yf.iter().zip(&b.p).zip(&b.s) {
                    let z = (y - m) / s;
                    let u = if laplace {
                        if z < 0.0 { 0.5 * z.exp() } else { 1.0 - 0.5 * (-z).exp() }
                    } else {
                        surprisal::num::special::ndtr(z)
                    };
                    counts[((u * PIT_BINS as f64) as usize).min(PIT_BINS - 1)] += 1;
                }
            }
            RegPlot::Residuals(r) => r.extend(b.yf.iter().zip(&b.p).map(|(y, m)| y - m)),
        }
    }
}

/// The predictive family of a regression.
#[derive(Clone, Copy, Debug, PartialEq)]
enum RegFamily {
    Normal,
    Laplace,
    StudentT(f64),
}

/// What the second regression column holds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Spread {
    Var,
    Scale,
}

/// The task with its column indices.
#[derive(Clone, Debug)]
enum Task {
    Binary { prob: usize },
    Multi { probs: Vec<usize> },
    Regression { mean: usize, spread: Option<(Spread, usize)>, family: RegFamily },
}

/// One batch of parsed rows (reused).
#[derive(Default)]
struct Batch {
    /// Targets as class indices (classification).
    y: Vec<i64>,
    /// Targets as numbers (binary 0/1, or regression values).
    yf: Vec<f64>,
    /// Probabilities (row-major, one or C per row) or predicted means.
    p: Vec<f64>,
    /// Predicted scales (regression with a spread column).
    s: Vec<f64>,
    /// Group ids.
    g: Vec<u32>,
}

impl Batch {
    fn clear(&mut self) {
        self.y.clear();
        self.yf.clear();
        self.p.clear();
        self.s.clear();
        self.g.clear();
    }

    fn len(&self) -> usize {
        self.g.len()
    }

    /// Copies the rows `idx` of `src` (with `width` probabilities a row) into `self`.
    fn gather(&mut self, src: &Batch, idx: &[u32], width: usize) {
        self.clear();
        for &i in idx {
            let i = i as usize;
            if !src.y.is_empty() {
                self.y.push(src.y[i]);
            }
            if !src.yf.is_empty() {
                self.yf.push(src.yf[i]);
            }
            if !src.s.is_empty() {
                self.s.push(src.s[i]);
            }
            self.p.extend_from_slice(&src.p[i * width..(i + 1) * width]);
            self.g.push(src.g[i]);
        }
    }
}

/// The classification accumulators.
#[derive(Clone)]
struct ClassScores {
    log: LogLoss<f64>,
    brier: BrierDecomposition<f64>,
    cal: BinnedCalibration<f64>,
    acc: Accuracy<f64>,
    n: u64,
}

/// The regression accumulators.
#[derive(Clone)]
struct RegScores {
    mse: MeanSquaredError<f64>,
    mae: MeanAbsoluteError<f64>,
    r2: R2Score<f64>,
    log: LogScore<f64>,
    crps: Crps<f64>,
    n: u64,
}

/// One set of accumulators (overall, or one group).
#[derive(Clone)]
enum Scores {
    Binary(Box<BinaryScores<f64>>),
    Class(Box<ClassScores>),
    Reg(Box<RegScores>),
}

fn lib(file: &str) -> impl Fn(surprisal::Error) -> CliError + '_ {
    move |e| CliError::library(format!("{file}: scoring"), e)
}

impl Scores {
    fn new(task: &Task, bins: usize) -> Result<Self, surprisal::Error> {
        Ok(match task {
            Task::Binary { .. } => Scores::Binary(Box::new(BinaryScores::new(bins)?)),
            Task::Multi { probs } => {
                let classes = Classes::range(probs.len())?;
                Scores::Class(Box::new(ClassScores {
                    log: LogLoss::new(classes.clone(), LogLossOptions::default())?,
                    brier: BrierDecomposition::new(classes.clone(), bins)?,
                    cal: BinnedCalibration::new(BinEdges::torchmetrics(bins)?),
                    acc: Accuracy::new(classes),
                    n: 0,
                }))
            }
            Task::Regression { .. } => Scores::Reg(Box::new(RegScores {
                mse: MeanSquaredError::new(),
                mae: MeanAbsoluteError::new(),
                r2: R2Score::new(),
                log: LogScore::new(),
                crps: Crps::new(),
                n: 0,
            })),
        })
    }

    /// Feeds one batch (already validated cell by cell).
    fn update(&mut self, task: &Task, b: &Batch) -> Result<(), surprisal::Error> {
        if b.len() == 0 {
            return Ok(());
        }
        match (self, task) {
            (Scores::Binary(c), Task::Binary { .. }) => c.update(&b.y, &b.p, None)?,
            (Scores::Class(c), Task::Multi { probs }) => {
                c.log.update(&b.y, &b.p, None)?;
                c.brier.update(&b.y, &b.p, None)?;
                c.cal.update_top_label(&b.p, probs.len(), &b.y)?;
                c.acc.update(&b.y, &b.p, None)?;
                c.n += b.len() as u64;
            }
            (Scores::Reg(r), Task::Regression { spread, family, .. }) => {
                r.mse.update(&b.yf, &b.p, None)?;
                r.mae.update(&b.yf, &b.p, None)?;
                r.r2.update(&b.yf, &b.p, None)?;
                if spread.is_some() {
                    match family {
                        RegFamily::Normal => {
                            r.log.update::<Normal<f64>>(&[&b.p, &b.s], &b.yf, None)?;
                            r.crps.update_gaussian(&b.yf, &b.p, &b.s, None)?;
                        }
                        RegFamily::Laplace => {
                            r.log.update::<Laplace<f64>>(&[&b.p, &b.s], &b.yf, None)?;
                            r.crps.update_laplace(&b.yf, &b.p, &b.s, None)?;
                        }
                        RegFamily::StudentT(df) => {
                            r.log.update::<StudentT<f64>>(&[&[*df], &b.p, &b.s], &b.yf, None)?;
                        }
                    }
                }
                r.n += b.len() as u64;
            }
            _ => unreachable!("accumulators are built for their task"),
        }
        Ok(())
    }

    /// The reliability diagram of a classification.
    fn diagram(&self) -> Option<ReliabilityDiagram<f64>> {
        match self {
            Scores::Binary(c) => c.finish().ok().map(|v| v.calibration),
            Scores::Class(c) => c.cal.finish().ok(),
            Scores::Reg(_) => None,
        }
    }

    /// The scores as (name, value) pairs; `None` for a score the rows do not define.
    fn finish(&self, task: &Task) -> Named {
        let ok = |r: Result<f64, surprisal::Error>| r.ok();
        match self {
            Scores::Binary(c) => {
                let s = c.finish().ok();
                let n = Some(c.rows() as f64);
                let nats = s.as_ref().map(|s| s.log_loss);
                let d = s.as_ref().map(|s| s.brier);
                let diagram = s.as_ref().map(|s| &s.calibration);
                let accuracy = s.as_ref().map(|s| s.accuracy);
                class_named(n, nats, d, diagram, accuracy)
            }
            Scores::Class(c) => {
                let d = c.brier.finish().ok();
                let diagram = c.cal.finish().ok();
                class_named(Some(c.n as f64), ok(c.log.finish()), d, diagram.as_ref(), ok(c.acc.finish()))
            }
            Scores::Reg(r) => {
                let mut v = vec![
                    ("n", Some(r.n as f64)),
                    ("mse", ok(r.mse.finish())),
                    ("mae", ok(r.mae.finish())),
                    ("r2", ok(r.r2.finish())),
                ];
                if let Task::Regression { spread: Some(_), family, .. } = task {
                    let l = r.log.finish().ok();
                    v.push(("nll_nats", l.map(|l| l.nats)));
                    v.push(("nll_bits", l.map(|l| l.bits)));
                    if !matches!(family, RegFamily::StudentT(_)) {
                        v.push(("crps", ok(r.crps.finish())));
                    }
                }
                v
            }
        }
    }
}

/// Named scores, `None` where the rows do not define one.
type Named = Vec<(&'static str, Option<f64>)>;

/// The named scores of a classification task.
fn class_named(
    n: Option<f64>,
    nats: Option<f64>,
    d: Option<MurphyDecomposition<f64>>,
    diagram: Option<&ReliabilityDiagram<f64>>,
    accuracy: Option<f64>,
) -> Named {
    vec![
        ("n", n),
        ("nll_nats", nats),
        ("nll_bits", nats.map(|v| v / std::f64::consts::LN_2)),
        ("brier", d.map(|d| d.brier)),
        ("brier_reliability", d.map(|d| d.reliability)),
        ("brier_resolution", d.map(|d| d.resolution)),
        ("brier_uncertainty", d.map(|d| d.uncertainty)),
        ("brier_within_bin", d.map(|d| d.residual())),
        ("ece", diagram.map(|g| g.calibration_error(Norm::L1))),
        ("mce", diagram.map(|g| g.calibration_error(Norm::Max))),
        ("accuracy", accuracy),
    ]
}

/// Reads the task from the arguments (usage errors for bad combinations).
fn task_of(a: &ScoreArgs, col: &dyn Fn(&str) -> CliResult<usize>) -> CliResult<Task> {
    if a.bins == 0 {
        return Err(CliError::Usage("--bins must be at least 1".into()));
    }
    if a.sum_tolerance.is_nan() || a.sum_tolerance < 0.0 {
        return Err(CliError::Usage(format!("--sum-tolerance must be >= 0, got {}", a.sum_tolerance)));
    }
    if let Some(p) = &a.prob {
        return Ok(Task::Binary { prob: col(p)? });
    }
    if let Some(ps) = &a.probs {
        if ps.len() < 2 {
            return Err(CliError::Usage("--probs needs at least two columns".into()));
        }
        return Ok(Task::Multi { probs: ps.iter().map(|p| col(p)).collect::<CliResult<_>>()? });
    }
    if let Some(m) = &a.mean {
        let family = match (a.family.as_str(), a.df) {
            ("normal" | "gaussian", None) => RegFamily::Normal,
            ("laplace", None) => RegFamily::Laplace,
            ("student_t", Some(df)) if df > 0.0 && df.is_finite() => RegFamily::StudentT(df),
            ("student_t", Some(df)) => {
                return Err(CliError::Usage(format!("--df must be a positive number, got {df}")));
            }
            ("student_t", None) => return Err(CliError::Usage("--family student_t needs --df".into())),
            ("normal" | "gaussian" | "laplace", Some(_)) => {
                return Err(CliError::Usage("--df applies to --family student_t only".into()));
            }
            (f, _) => {
                return Err(CliError::Usage(format!(
                    "unknown family `{f}` (families: normal, laplace, student_t)"
                )));
            }
        };
        let spread = match (&a.var, &a.scale) {
            (Some(v), _) => {
                if family != RegFamily::Normal {
                    return Err(CliError::Usage("--var applies to --family normal; give --scale".into()));
                }
                Some((Spread::Var, col(v)?))
            }
            (None, Some(s)) => Some((Spread::Scale, col(s)?)),
            (None, None) => None,
        };
        return Ok(Task::Regression { mean: col(m)?, spread, family });
    }
    Err(CliError::Usage(
        "give --prob COL (binary), --probs C0,C1,… (multiclass) or --mean COL (regression)".into(),
    ))
}

/// Runs `surprisal score`.
pub fn run(a: &ScoreArgs) -> CliResult<()> {
    let file = a.file.as_str();
    if let Some(p) = &a.plot {
        crate::plot::format_of(p)?;
    }
    let mut r = input::reader(file)?;
    let header = input::header(file, &mut r)?;
    let col = |name: &str| -> CliResult<usize> {
        header.iter().position(|h| h == name).ok_or_else(|| {
            CliError::input(file, format!("no column `{name}` (columns: {})", header.join(", ")))
        })
    };
    let task = task_of(a, &col)?;
    let target = col(&a.target)?;
    let by = a.by.as_deref().map(&col).transpose()?;
    let name = |j: usize| header[j].as_str();
    let width = match &task {
        Task::Multi { probs } => probs.len(),
        _ => 1,
    };

    let mut names: Vec<String> = Vec::new();
    let mut group_ids: HashMap<Box<[u8]>, u32> = HashMap::new();
    let mut batch = Batch::default();
    let mut rec = csv::ByteRecord::new();
    let mut row: u64 = 0;

    // Parsing and scoring overlap: full batches go to a scoring thread, which sends them back
    // emptied for reuse (at most a few batches exist at a time).
    let (tx, rx) = mpsc::sync_channel::<Batch>(2);
    let (back_tx, back_rx) = mpsc::channel::<Batch>();
    let task_ref = &task;
    let bins = a.bins;
    let want_plot = a.plot.is_some();
    type Scored = (Scores, Vec<Scores>, Option<RegPlot>);
    let scored = std::thread::scope(|sc| -> CliResult<Scored> {
        let worker = sc.spawn(move || -> CliResult<Scored> {
            let task = task_ref;
            let mut overall = Scores::new(task, bins).map_err(lib(file))?;
            let mut reg_plot = if want_plot { RegPlot::new(task) } else { None };
            let mut groups: Vec<Scores> = Vec::new();
            let mut members: Vec<Vec<u32>> = Vec::new();
            let mut scratch = Batch::default();
            for mut batch in rx {
                overall.update(task, &batch).map_err(lib(file))?;
                if let Some(rp) = &mut reg_plot {
                    rp.update(task, &batch);
                }
                if by.is_some() {
                    let n_groups = batch.g.iter().max().map_or(0, |&g| g as usize + 1);
                    while groups.len() < n_groups {
                        groups.push(Scores::new(task, bins).map_err(lib(file))?);
                        members.push(Vec::new());
                    }
                    for m in members.iter_mut() {
                        m.clear();
                    }
                    for (i, &g) in batch.g.iter().enumerate() {
                        members[g as usize].push(i as u32);
                    }
                    for (g, m) in members.iter().enumerate() {
                        if !m.is_empty() {
                            scratch.gather(&batch, m, width);
                            groups[g].update(task, &scratch).map_err(lib(file))?;
                        }
                    }
                }
                batch.clear();
                // The reader may be gone already; then the batch is dropped.
                let _ = back_tx.send(batch);
            }
            Ok((overall, groups, reg_plot))
        });
        let tx = tx;
        // Hands a full batch to the scoring thread; a send fails only when that thread stopped
        // on an error, which `join` then reports.
        let send = |batch: &mut Batch| -> bool {
            let next = back_rx.try_recv().unwrap_or_default();
            tx.send(std::mem::replace(batch, next)).is_ok()
        };
        let parsed = (|| -> CliResult<()> {
            loop {
                match r.read_byte_record(&mut rec) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => return Err(input::csv_error(file, e)),
                }
                row += 1;
                let t = &rec[target];
                match &task {
                    Task::Binary { prob } => {
                        let y = class_index(file, row, name(target), t, 2)?;
                        batch.y.push(y);
                        batch.p.push(probability(file, row, name(*prob), &rec[*prob])?);
                    }
                    Task::Multi { probs } => {
                        batch.y.push(class_index(file, row, name(target), t, probs.len())?);
                        let mut sum = 0.0;
                        for &j in probs {
                            let p = probability(file, row, name(j), &rec[j])?;
                            sum += p;
                            batch.p.push(p);
                        }
                        if (sum - 1.0).abs() > a.sum_tolerance {
                            let cols: Vec<&str> = probs.iter().map(|&j| name(j)).collect();
                            return Err(CliError::Input {
                                file: file.to_string(),
                                row: Some(row),
                                column: Some(cols.join("+")),
                                value: Some(format!("{sum}")),
                                message: format!(
                                    "probabilities sum to {sum}, not 1 (within --sum-tolerance {})",
                                    a.sum_tolerance
                                ),
                            });
                        }
                    }
                    Task::Regression { mean, spread, .. } => {
                        batch.yf.push(number(file, row, name(target), t)?);
                        batch.p.push(number(file, row, name(*mean), &rec[*mean])?);
                        if let Some((kind, j)) = spread {
                            let cell = &rec[*j];
                            let v = number(file, row, name(*j), cell)?;
                            if v <= 0.0 {
                                let what = if *kind == Spread::Var { "variance" } else { "scale" };
                                return Err(cell_error(
                                    file,
                                    row,
                                    name(*j),
                                    cell,
                                    &format!("{what} must be > 0"),
                                ));
                            }
                            batch.s.push(if *kind == Spread::Var { v.sqrt() } else { v });
                        }
                    }
                }
                let g = match by {
                    None => 0,
                    Some(j) => {
                        let key = &rec[j];
                        match group_ids.get(key) {
                            Some(&g) => g,
                            None => {
                                let text = std::str::from_utf8(key).map_err(|_| {
                                    cell_error(
                                        file,
                                        row,
                                        name(j),
                                        key,
                                        "not valid UTF-8 text (is this a CSV file?)",
                                    )
                                })?;
                                let g = names.len() as u32;
                                names.push(text.trim().to_string());
                                group_ids.insert(key.into(), g);
                                g
                            }
                        }
                    }
                };
                batch.g.push(g);
                if batch.len() == BATCH && !send(&mut batch) {
                    return Ok(());
                }
            }
            if row == 0 {
                return Err(CliError::input(file, "no data rows (only a header)"));
            }
            send(&mut batch);
            Ok(())
        })();
        drop(tx);
        let scored = worker.join().expect("the scoring thread does not panic");
        parsed?;
        scored
    })?;
    let (overall, group_scores, reg_plot) = scored;
    let mut groups: Vec<(String, Scores)> = names.into_iter().zip(group_scores).collect();
    groups.sort_by(|x, y| x.0.cmp(&y.0));
    if let Some(path) = &a.plot {
        plot(path, a, &task, &overall, reg_plot.as_ref())?;
    }
    print(a, &task, &overall, &groups);
    Ok(())
}

/// Draws the `--plot` of a finished run.
fn plot(path: &str, a: &ScoreArgs, task: &Task, overall: &Scores, reg: Option<&RegPlot>) -> CliResult<()> {
    use crate::plot::{Bar, bars_of, histogram, reliability_diagram};
    match (task, reg) {
        (Task::Binary { .. } | Task::Multi { .. }, _) => {
            let d = overall.diagram().ok_or_else(|| CliError::input(&a.file, "no rows to plot"))?;
            let kind = if matches!(task, Task::Binary { .. }) { "binary" } else { "top-label" };
            reliability_diagram(path, &d, &format!("Reliability of `{}` ({kind})", a.target))
        }
        (_, Some(RegPlot::Pit(counts))) => {
            let n: u64 = counts.iter().sum();
            let bars: Vec<Bar> = counts
                .iter()
                .enumerate()
                .map(|(k, &c)| Bar {
                    lower: k as f64 / PIT_BINS as f64,
                    upper: (k + 1) as f64 / PIT_BINS as f64,
                    count: c as f64,
                })
                .collect();
            let label = format!("calibrated (uniform): {:.1} a bin", n as f64 / PIT_BINS as f64);
            histogram(
                path,
                &format!("Probability integral transform of `{}` ({} predictive)", a.target, a.family),
                "F(y): the predictive CDF at the observed value",
                &bars,
                Some((n as f64 / PIT_BINS as f64, &label)),
            )
        }
        (_, Some(RegPlot::Residuals(r))) => histogram(
            path,
            &format!("Residuals of `{}`", a.target),
            "residual y − mean",
            &bars_of(r, 40),
            None,
        ),
        (_, None) => unreachable!("a regression keeps its plot data"),
    }
}

fn task_name(task: &Task) -> &'static str {
    match task {
        Task::Binary { .. } => "binary",
        Task::Multi { .. } => "multiclass",
        Task::Regression { .. } => "regression",
    }
}

fn json_of(scores: Named) -> serde_json::Value {
    let m: serde_json::Map<String, serde_json::Value> = scores
        .into_iter()
        .map(|(k, v)| {
            let v = match (k, v) {
                ("n", Some(n)) => serde_json::Value::from(n as u64),
                (_, Some(x)) if x.is_finite() => serde_json::Value::from(x),
                _ => serde_json::Value::Null,
            };
            (k.to_string(), v)
        })
        .collect();
    serde_json::Value::Object(m)
}

fn print(a: &ScoreArgs, task: &Task, overall: &Scores, groups: &[(String, Scores)]) {
    if a.json {
        let mut doc = serde_json::json!({
            "file": a.file,
            "task": task_name(task),
            "target": a.target,
            "overall": json_of(overall.finish(task)),
        });
        if let Some(by) = &a.by {
            let g: serde_json::Map<String, serde_json::Value> =
                groups.iter().map(|(k, s)| (k.clone(), json_of(s.finish(task)))).collect();
            doc["by"] = by.clone().into();
            doc["groups"] = serde_json::Value::Object(g);
        }
        println!("{}", serde_json::to_string_pretty(&doc).expect("JSON of numbers and strings"));
        return;
    }
    let mut columns: Vec<(String, Named)> = vec![("overall".into(), overall.finish(task))];
    columns.extend(groups.iter().map(|(k, s)| (k.clone(), s.finish(task))));
    println!("{}: {} predictions of `{}`", a.file, task_name(task), a.target);
    println!();
    let w = columns.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0).max(14);
    print!("{:<20}", "score");
    for (k, _) in &columns {
        print!(" {k:>w$}");
    }
    println!();
    for (i, (name, _)) in columns[0].1.iter().enumerate() {
        print!("{name:<20}");
        for (_, vals) in &columns {
            match vals[i].1 {
                Some(v) if *name == "n" => print!(" {:>w$}", v as u64),
                Some(v) if v.is_finite() => print!(" {v:>w$.6}"),
                _ => print!(" {:>w$}", "undefined"),
            }
        }
        println!();
    }
}
