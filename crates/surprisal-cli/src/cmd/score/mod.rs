//! `surprisal score FILE`: score predictions in one streaming pass.
//!
//! Five tasks, chosen by the flags or, when none is given, detected from the column names (the
//! output says which flags it assumed):
//! - binary (`--prob COL`, the probability of class 1; targets 0 or 1),
//! - multiclass (`--probs C0,C1,…`, one probability column a class; targets are class indices
//!   `0..C`; each row sums to 1 within `--sum-tolerance`),
//! - multiclass logits (`--logits C0,C1,…`: p = softmax(z), and −log p_y = logsumexp(z) − z_y
//!   computed in log space; a logit may be `-inf`, a class ruled out, or `inf`, the +inf classes
//!   sharing the mass, as the library's `log_softmax`; a row of only −inf is an error),
//! - regression (`--mean COL`, optionally `--var COL` or `--scale COL` and `--family`),
//! - quantiles (`--quantile TAU=COL …`: pinball loss and coverage a level).
//!
//! CSV, TSV (by extension), CSV on standard input (`-`) and Parquet (by extension or content) are
//! read in blocks and scored on several threads ([`read`]); only the needed cells are parsed, and
//! the rows feed the library's streaming accumulators ([`surprisal::score`],
//! [`surprisal::calibration`]), so memory stays bounded whatever the input's size, except for the
//! adaptive calibration error, which keeps 8 bytes a row ([`ace`]; `--no-adaptive-ece` drops it).
//! `--by COL` keeps one set of accumulators a group besides the overall one. Every bad cell stops
//! the run with one line naming the file, row, column and value, before anything is printed.

mod ace;
mod read;
mod scores;
mod task;

use crate::error::{CliError, CliResult};
use crate::input;
use clap::Args;
use read::{Blocks, Setup, Source};
use scores::{Named, PIT_BINS, RegPlot, ScoreSet};
use task::{Spec, Task};

/// Arguments of `surprisal score`.
#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// CSV, TSV or Parquet file with a header row (`-` for CSV on standard input).
    pub file: String,
    /// The column of observed targets (0/1, class indices, or real values); detected from the
    /// column names (target, y, label, …) when not given.
    #[arg(long)]
    pub target: Option<String>,
    /// Binary task: the column of predicted probabilities of class 1.
    #[arg(long, conflicts_with_all = ["probs", "logits", "mean", "quantile"])]
    pub prob: Option<String>,
    /// Multiclass task: the predicted probability columns of classes 0, 1, …, comma-separated.
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["logits", "mean", "quantile"])]
    pub probs: Option<Vec<String>>,
    /// Multiclass task: the logit columns of classes 0, 1, …, comma-separated (softmax link).
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["mean", "quantile"])]
    pub logits: Option<Vec<String>>,
    /// Regression task: the column of predicted means (locations).
    #[arg(long, conflicts_with = "quantile")]
    pub mean: Option<String>,
    /// Regression: the column of predicted variances (normal family only).
    #[arg(long, requires = "mean", conflicts_with = "scale")]
    pub var: Option<String>,
    /// Regression: the column of predicted scales (normal: σ; laplace: b; student_t: scale).
    #[arg(long, requires = "mean")]
    pub scale: Option<String>,
    /// Regression: the predictive family (normal, laplace, student_t).
    #[arg(long, default_value = "normal", value_parser = crate::input::choice_name)]
    pub family: String,
    /// Regression with `--family student_t`: the degrees of freedom.
    #[arg(long)]
    pub df: Option<f64>,
    /// Quantile task: predicted quantiles as TAU=COL (e.g. `--quantile 0.1=q10 0.9=q90`).
    #[arg(long, num_args = 1.., value_name = "TAU=COL")]
    pub quantile: Vec<String>,
    /// Number of calibration bins (torchmetrics' uniform bins; equal-mass bins for the adaptive
    /// ECE) and Brier decomposition bins.
    #[arg(long, default_value_t = 15)]
    pub bins: usize,
    /// Multiclass: how far a row's probabilities may sum from 1.
    #[arg(long, default_value_t = 1e-6)]
    pub sum_tolerance: f64,
    /// Score each group of this column apart (and overall).
    #[arg(long)]
    pub by: Option<String>,
    /// Skip the adaptive (equal-mass) calibration error, which keeps 8 bytes a row; memory then
    /// stays bounded whatever the input's size.
    #[arg(long)]
    pub no_adaptive_ece: bool,
    /// Worker threads (0: one a core, at most 8).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Print JSON instead of a table (a score that is undefined or infinite is null there; the
    /// table prints `undefined` or `inf`).
    #[arg(long)]
    pub json: bool,
    /// Also draw a plot (`.png` or `.svg`): the reliability diagram of a classification (top-label
    /// for multiclass), the PIT histogram of a normal or Laplace regression with a spread column,
    /// or the histogram of residuals y − mean otherwise (which keeps one number a row).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<String>,
}

/// The rows of a CSV source after its header, and the header.
fn open_csv(file: &str) -> CliResult<(Vec<String>, Source)> {
    let (src, size): (Box<dyn std::io::Read + Send>, Option<u64>) = if file == "-" {
        (Box::new(std::io::stdin()), None)
    } else {
        let f = std::fs::File::open(file).map_err(|e| CliError::Io { file: file.to_string(), source: e })?;
        let size = f.metadata().ok().map(|m| m.len());
        (Box::new(f), size)
    };
    let mut blocks = Blocks::new(src);
    let io = |e| CliError::Io { file: file.to_string(), source: e };
    let Some((first, plain)) = blocks.next_block().map_err(io)? else {
        return Err(CliError::input(file, "empty file: no header row"));
    };
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(input::delimiter_for(file))
        .from_reader(first.as_slice());
    let mut rec = csv::StringRecord::new();
    match r.read_record(&mut rec) {
        Ok(true) => {}
        Ok(false) => return Err(CliError::input(file, "empty file: no header row")),
        Err(e) => {
            let mut err = input::csv_error(file, e);
            if let CliError::Input { row, .. } = &mut err {
                *row = None;
            }
            return Err(err);
        }
    }
    if rec.is_empty() || (rec.len() == 1 && rec[0].trim().is_empty()) {
        return Err(CliError::input(file, "empty file: no header row"));
    }
    let header = rec.iter().map(|s| s.trim().to_string()).collect();
    // The rest of a plain block is plain (a block with a quoted header is parsed the slow way).
    let rest = first[r.position().byte() as usize..].to_vec();
    Ok((header, Source::Csv { blocks, first: (rest, plain), size }))
}

/// Runs `surprisal score`.
pub fn run(a: &ScoreArgs) -> CliResult<()> {
    let file = a.file.as_str();
    if let Some(p) = &a.plot {
        crate::plot::format_of(p)?;
    }
    let threads = match a.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()).min(8),
        t => t,
    };
    let (spec, source) = if crate::parquet::is_parquet(file) {
        let pq = crate::parquet::open(file)?;
        let spec = task::spec_of(a, file, &pq.header)?;
        let mut cols = vec![spec.target];
        cols.extend(spec.task.columns());
        for &j in &cols {
            pq.check_type(j, false)?;
        }
        if let Some(j) = spec.by {
            pq.check_type(j, true)?;
            cols.push(j);
        }
        cols.sort_unstable();
        cols.dedup();
        let rows = pq.rows();
        (spec, Source::Parquet { batches: pq.batches(&cols, read::PARQUET_BATCH)?, rows })
    } else {
        let (header, source) = open_csv(file)?;
        (task::spec_of(a, file, &header)?, source)
    };
    let setup = Setup {
        delimiter: input::delimiter_for(file),
        bins: a.bins,
        adaptive: !a.no_adaptive_ece,
        plot: a.plot.is_some(),
        threads,
    };
    let scored = read::score(&spec, setup, source)?;
    let mut groups = scored.groups;
    groups.sort_by(|x, y| x.0.cmp(&y.0));
    if let Some(path) = &a.plot {
        plot(path, a, &spec, &scored.overall, scored.plot.as_ref())?;
    }
    let finish = |s: &ScoreSet| s.finish(&spec.task, a.bins, threads);
    let overall = finish(&scored.overall);
    let groups: Vec<(String, Named)> = groups.iter().map(|(k, s)| (k.clone(), finish(s))).collect();
    print(a, &spec, overall, groups)
}

/// Draws the `--plot` of a finished run.
fn plot(path: &str, a: &ScoreArgs, spec: &Spec, overall: &ScoreSet, reg: Option<&RegPlot>) -> CliResult<()> {
    use crate::plot::{Bar, bars_of, histogram, reliability_diagram};
    let target = &spec.header[spec.target];
    match (&spec.task, reg) {
        (Task::Quantile { .. }, _) => {
            Err(CliError::Usage("--plot draws classifications and regressions, not quantiles".into()))
        }
        (t, _) if t.is_classification() => {
            let d = overall.diagram().ok_or_else(|| CliError::input(&a.file, "no rows to plot"))?;
            let kind = if matches!(t, Task::Binary { .. }) { "binary" } else { "top-label" };
            reliability_diagram(path, &d, &format!("Reliability of `{target}` ({kind})"))
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
                &format!("Probability integral transform of `{target}` ({} predictive)", a.family),
                "F(y): the predictive CDF at the observed value",
                &bars,
                Some((n as f64 / PIT_BINS as f64, &label)),
            )
        }
        (_, Some(RegPlot::Residuals(r))) => {
            histogram(path, &format!("Residuals of `{target}`"), "residual y − mean", &bars_of(r, 40), None)
        }
        (_, None) => unreachable!("a regression keeps its plot data"),
    }
}

fn json_of(scores: &Named) -> serde_json::Value {
    let m: serde_json::Map<String, serde_json::Value> = scores
        .iter()
        .map(|(k, v)| {
            let v = match (k.as_str(), v) {
                ("n", Some(n)) => serde_json::Value::from(*n as u64),
                (_, Some(x)) if x.is_finite() => serde_json::Value::from(*x),
                _ => serde_json::Value::Null,
            };
            (k.clone(), v)
        })
        .collect();
    serde_json::Value::Object(m)
}

fn print(a: &ScoreArgs, spec: &Spec, overall: Named, groups: Vec<(String, Named)>) -> CliResult<()> {
    let target = &spec.header[spec.target];
    if a.json {
        let mut doc = serde_json::json!({
            "file": a.file,
            "task": spec.task.name(),
            "target": target,
            "overall": json_of(&overall),
        });
        if let Some(flags) = &spec.detected {
            doc["detected"] = flags.clone().into();
        }
        if let Some(by) = &a.by {
            let g: serde_json::Map<String, serde_json::Value> =
                groups.iter().map(|(k, s)| (k.clone(), json_of(s))).collect();
            doc["by"] = by.clone().into();
            doc["groups"] = serde_json::Value::Object(g);
        }
        return outln!("{}", serde_json::to_string_pretty(&doc).expect("JSON of numbers and strings"));
    }
    let mut columns: Vec<(String, Named)> = vec![("overall".into(), overall)];
    columns.extend(groups);
    outln!("{}: {} predictions of `{target}`", a.file, spec.task.name())?;
    if let Some(flags) = &spec.detected {
        outln!("(detected from the column names: {flags})")?;
    }
    outln!()?;
    let w = columns.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0).max(14);
    out!("{:<20}", "score")?;
    for (k, _) in &columns {
        out!(" {k:>w$}")?;
    }
    outln!()?;
    for (i, (name, _)) in columns[0].1.iter().enumerate() {
        out!("{name:<20}")?;
        for (_, vals) in &columns {
            match vals[i].1 {
                Some(v) if name == "n" => out!(" {:>w$}", v as u64)?,
                Some(v) if v.is_finite() => out!(" {v:>w$.6}")?,
                // An infinite score (an observation the model gives no density) is a value.
                Some(v) if v.is_infinite() => out!(" {:>w$}", if v > 0.0 { "inf" } else { "-inf" })?,
                _ => out!(" {:>w$}", "undefined")?,
            }
        }
        outln!()?;
    }
    Ok(())
}
