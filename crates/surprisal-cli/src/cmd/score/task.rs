//! The scoring task (from the flags, or detected from the column names) and the parsing of one
//! row into a batch.

use super::ScoreArgs;
use super::scores::Batch;
use crate::error::{CliError, CliResult};
use crate::input::{Cell, class_index_of, error_at, logit_of, number_of, probability_of};

/// The predictive family of a regression.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RegFamily {
    /// Normal (Gaussian).
    Normal,
    /// Laplace.
    Laplace,
    /// Student-t with fixed degrees of freedom.
    StudentT(f64),
}

/// What the second regression column holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Spread {
    /// A variance σ².
    Var,
    /// A scale (σ for the normal).
    Scale,
}

/// The task with its column indices.
#[derive(Clone, Debug)]
pub enum Task {
    /// Probability of class 1.
    Binary { prob: usize },
    /// Probability columns of classes 0, 1, ….
    Multi { probs: Vec<usize> },
    /// Logit columns of classes 0, 1, … (softmax link).
    Logits { logits: Vec<usize> },
    /// A predicted mean, optionally a spread, and the family.
    Regression { mean: usize, spread: Option<(Spread, usize)>, family: RegFamily },
    /// Predicted quantiles at levels τ (ascending).
    Quantile { levels: Vec<(f64, usize)> },
}

impl Task {
    /// The task's name in the output.
    pub fn name(&self) -> &'static str {
        match self {
            Task::Binary { .. } => "binary",
            Task::Multi { .. } => "multiclass",
            Task::Logits { .. } => "multiclass (logits)",
            Task::Regression { .. } => "regression",
            Task::Quantile { .. } => "quantile",
        }
    }

    /// Predictions a row holds in a batch.
    pub fn width(&self) -> usize {
        match self {
            Task::Multi { probs } => probs.len(),
            Task::Logits { logits } => logits.len(),
            Task::Quantile { levels } => levels.len(),
            _ => 1,
        }
    }

    /// Whether the task is a classification (calibration applies).
    pub fn is_classification(&self) -> bool {
        matches!(self, Task::Binary { .. } | Task::Multi { .. } | Task::Logits { .. })
    }

    /// The columns the task reads besides the target.
    pub fn columns(&self) -> Vec<usize> {
        match self {
            Task::Binary { prob } => vec![*prob],
            Task::Multi { probs } => probs.clone(),
            Task::Logits { logits } => logits.clone(),
            Task::Regression { mean, spread, .. } => {
                let mut c = vec![*mean];
                c.extend(spread.map(|s| s.1));
                c
            }
            Task::Quantile { levels } => levels.iter().map(|l| l.1).collect(),
        }
    }
}

/// Everything a worker needs to turn rows into batches.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The file name for messages.
    pub file: String,
    /// Column names.
    pub header: Vec<String>,
    /// The task.
    pub task: Task,
    /// The target column.
    pub target: usize,
    /// The group column of `--by`.
    pub by: Option<usize>,
    /// Multiclass: how far a probability row may sum from 1.
    pub sum_tolerance: f64,
    /// The flags that were detected from the column names, not given (shown in the output).
    pub detected: Option<String>,
}

/// Column names that mean "the observed target", in order of preference.
const TARGET_NAMES: [&str; 6] = ["target", "y", "label", "y_true", "truth", "observed"];
/// Column names that mean "the predicted probability of class 1".
const PROB_NAMES: [&str; 6] = ["prob", "p", "probability", "y_prob", "y_pred", "pred"];
/// Column names of a predicted mean, and of a predicted scale or variance.
const MEAN_NAMES: [&str; 3] = ["mean", "mu", "loc"];
const SCALE_NAMES: [&str; 4] = ["scale", "sd", "sigma", "std"];
const VAR_NAMES: [&str; 2] = ["var", "variance"];

/// Numbered columns `{stem}{k}` or `{stem}_{k}` for k = 0, 1, … (at least two).
fn numbered(header: &[String], stems: &[&str]) -> Option<Vec<String>> {
    for stem in stems {
        for sep in ["", "_"] {
            let cols: Vec<String> = (0..)
                .map(|k| format!("{stem}{sep}{k}"))
                .take_while(|c| header.iter().any(|h| h == c))
                .collect();
            if cols.len() >= 2 {
                return Some(cols);
            }
        }
    }
    None
}

/// Quantile columns named `q0.1`, `q_0.9`, `quantile_0.5`, …
fn quantile_columns(header: &[String]) -> Vec<(f64, String)> {
    header
        .iter()
        .filter_map(|h| {
            let rest = h.strip_prefix("quantile").or_else(|| h.strip_prefix('q'))?;
            let tau: f64 = rest.trim_start_matches('_').parse().ok()?;
            (tau > 0.0 && tau < 1.0).then(|| (tau, h.clone()))
        })
        .collect()
}

/// The first of `names` that is a column of the header.
fn first_of(header: &[String], names: &[&str]) -> Option<String> {
    names.iter().find(|n| header.iter().any(|h| h == *n)).map(|n| n.to_string())
}

/// The target column: `--target`, else the first of [`TARGET_NAMES`] in the header.
fn target_of(a: &ScoreArgs, header: &[String]) -> CliResult<String> {
    if let Some(t) = &a.target {
        return Ok(t.clone());
    }
    first_of(header, &TARGET_NAMES).ok_or_else(|| {
        CliError::Usage(format!(
            "give --target COL (no column is named {}; {})",
            TARGET_NAMES.join(", "),
            crate::input::columns_text(header)
        ))
    })
}

/// The flags a detected task stands for (shown so that the user can pass them explicitly).
fn detect(a: &ScoreArgs, header: &[String]) -> CliResult<(String, String, Task0)> {
    let first = |names: &[&str]| first_of(header, names);
    let target = target_of(a, header)?;
    let found = if let Some(p) = first(&PROB_NAMES) {
        Some((format!("--prob {p}"), Task0::Prob(p)))
    } else if let Some(cols) = numbered(header, &["p", "prob", "prob_", "proba"]) {
        Some((format!("--probs {}", cols.join(",")), Task0::Probs(cols)))
    } else if let Some(cols) = numbered(header, &["logit", "logits", "z"]) {
        Some((format!("--logits {}", cols.join(",")), Task0::Logits(cols)))
    } else if let Some(m) = first(&MEAN_NAMES) {
        let (flag, spread) = match (first(&SCALE_NAMES), first(&VAR_NAMES)) {
            (Some(s), _) => (format!(" --scale {s}"), Some((Spread::Scale, s))),
            (None, Some(v)) => (format!(" --var {v}"), Some((Spread::Var, v))),
            (None, None) => (String::new(), None),
        };
        Some((format!("--mean {m}{flag}"), Task0::Mean(m, spread)))
    } else {
        let q = quantile_columns(header);
        (!q.is_empty()).then(|| {
            let flags: Vec<String> = q.iter().map(|(t, c)| format!("{t}={c}")).collect();
            (format!("--quantile {}", flags.join(" ")), Task0::Quantiles(q))
        })
    };
    match found {
        Some((flags, task)) => Ok((format!("--target {target} {flags}"), target, task)),
        None => Err(CliError::Usage(format!(
            "cannot tell the task from the columns ({}): give --prob COL, --probs C0,C1,…, \
             --logits C0,C1,…, --mean COL or --quantile TAU=COL",
            header.join(", ")
        ))),
    }
}

/// A task by column names, before they are looked up.
enum Task0 {
    Prob(String),
    Probs(Vec<String>),
    Logits(Vec<String>),
    Mean(String, Option<(Spread, String)>),
    Quantiles(Vec<(f64, String)>),
}

/// Parses `TAU=COL`.
fn quantile_flag(s: &str) -> CliResult<(f64, String)> {
    let bad = || CliError::Usage(format!("--quantile takes TAU=COL with 0 < TAU < 1, got `{s}`"));
    let (t, c) = s.split_once('=').ok_or_else(bad)?;
    let tau: f64 = t.trim().parse().map_err(|_| bad())?;
    if !(tau > 0.0 && tau < 1.0) || c.trim().is_empty() {
        return Err(bad());
    }
    Ok((tau, c.trim().to_string()))
}

/// Reads the task from the arguments, or detects it from the header when no task flag is given.
pub fn spec_of(a: &ScoreArgs, file: &str, header: &[String]) -> CliResult<Spec> {
    if a.bins == 0 {
        return Err(CliError::Usage("--bins must be at least 1".into()));
    }
    if a.sum_tolerance.is_nan() || a.sum_tolerance < 0.0 {
        return Err(CliError::Usage(format!("--sum-tolerance must be >= 0, got {}", a.sum_tolerance)));
    }
    let col = |name: &str| -> CliResult<usize> {
        header.iter().position(|h| h == name).ok_or_else(|| {
            CliError::input(file, format!("no column `{name}` ({})", crate::input::columns_text(header)))
        })
    };
    let given = a.prob.is_some() || a.probs.is_some() || a.logits.is_some() || a.mean.is_some();
    let (detected, target, task0) = if given || !a.quantile.is_empty() {
        let target = target_of(a, header)?;
        let t = if let Some(p) = &a.prob {
            Task0::Prob(p.clone())
        } else if let Some(ps) = &a.probs {
            Task0::Probs(ps.clone())
        } else if let Some(ls) = &a.logits {
            Task0::Logits(ls.clone())
        } else if let Some(m) = &a.mean {
            let spread = match (&a.var, &a.scale) {
                (Some(v), _) => Some((Spread::Var, v.clone())),
                (None, Some(s)) => Some((Spread::Scale, s.clone())),
                (None, None) => None,
            };
            Task0::Mean(m.clone(), spread)
        } else {
            Task0::Quantiles(a.quantile.iter().map(|q| quantile_flag(q)).collect::<CliResult<_>>()?)
        };
        // Where only the target was detected, say so as for a detected task.
        (a.target.is_none().then(|| format!("--target {target}")), target, t)
    } else {
        let (flags, target, t) = detect(a, header)?;
        (Some(flags), target, t)
    };
    let family = family_of(a)?;
    let task = match task0 {
        Task0::Prob(p) => Task::Binary { prob: col(&p)? },
        Task0::Probs(ps) | Task0::Logits(ps) if ps.len() < 2 => {
            return Err(CliError::Usage("--probs and --logits need at least two columns".into()));
        }
        Task0::Probs(ps) => Task::Multi { probs: ps.iter().map(|p| col(p)).collect::<CliResult<_>>()? },
        Task0::Logits(ls) => Task::Logits { logits: ls.iter().map(|p| col(p)).collect::<CliResult<_>>()? },
        Task0::Mean(m, spread) => {
            if matches!(spread, Some((Spread::Var, _))) && family != RegFamily::Normal {
                return Err(CliError::Usage("--var applies to --family normal; give --scale".into()));
            }
            let spread = spread.map(|(k, c)| col(&c).map(|j| (k, j))).transpose()?;
            Task::Regression { mean: col(&m)?, spread, family }
        }
        Task0::Quantiles(mut qs) => {
            qs.sort_by(|x, y| x.0.total_cmp(&y.0));
            if let Some(w) = qs.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(CliError::Usage(format!(
                    "--quantile levels must differ: {} is given for `{}` and for `{}`",
                    w[0].0, w[0].1, w[1].1
                )));
            }
            Task::Quantile {
                levels: qs.iter().map(|(t, c)| col(c).map(|j| (*t, j))).collect::<CliResult<_>>()?,
            }
        }
    };
    if a.mean.is_none()
        && !matches!(task, Task::Regression { .. })
        && (a.family != "normal" || a.df.is_some())
    {
        return Err(CliError::Usage("--family and --df apply to regression (--mean)".into()));
    }
    Ok(Spec {
        file: file.to_string(),
        header: header.to_vec(),
        target: col(&target)?,
        by: a.by.as_deref().map(col).transpose()?,
        task,
        sum_tolerance: a.sum_tolerance,
        detected,
    })
}

/// The regression family of the flags.
fn family_of(a: &ScoreArgs) -> CliResult<RegFamily> {
    Ok(match (a.family.as_str(), a.df) {
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
    })
}

impl Spec {
    /// The name of column `j`.
    #[inline]
    fn name(&self, j: usize) -> &str {
        &self.header[j]
    }

    /// Parses and checks one row (`row` counted from 1 within the current block) into `b`.
    #[inline]
    pub fn push<'c>(&self, row: u64, cell: impl Fn(usize) -> Cell<'c>, b: &mut Batch) -> CliResult<()> {
        let file = self.file.as_str();
        let t = cell(self.target);
        let tname = self.name(self.target);
        match &self.task {
            Task::Binary { prob } => {
                b.y.push(class_index_of(file, row, tname, t, 2)?);
                b.p.push(probability_of(file, row, self.name(*prob), cell(*prob))?);
            }
            Task::Multi { probs } => {
                b.y.push(class_index_of(file, row, tname, t, probs.len())?);
                let mut sum = 0.0;
                for &j in probs {
                    let p = probability_of(file, row, self.name(j), cell(j))?;
                    sum += p;
                    b.p.push(p);
                }
                if (sum - 1.0).abs() > self.sum_tolerance {
                    let cols: Vec<&str> = probs.iter().map(|&j| self.name(j)).collect();
                    return Err(CliError::Input {
                        file: file.to_string(),
                        row: Some(row),
                        column: Some(cols.join("+")),
                        value: Some(format!("{sum}")),
                        message: format!(
                            "probabilities sum to {sum}, not 1 (within --sum-tolerance {})",
                            self.sum_tolerance
                        ),
                    });
                }
            }
            Task::Logits { logits } => {
                let y = class_index_of(file, row, tname, t, logits.len())?;
                b.y.push(y);
                let start = b.p.len();
                for &j in logits {
                    b.p.push(logit_of(file, row, self.name(j), cell(j))?);
                }
                let z = &mut b.p[start..];
                // One pass: logsumexp is −inf exactly when every logit is, +inf when one is.
                let lse = surprisal::num::logsumexp(z);
                if lse == f64::NEG_INFINITY {
                    return Err(CliError::Input {
                        file: file.to_string(),
                        row: Some(row),
                        column: Some(logits.iter().map(|&j| self.name(j)).collect::<Vec<_>>().join("+")),
                        value: Some("-inf".into()),
                        message: "every logit is −inf: softmax gives no distribution".into(),
                    });
                }
                if lse == f64::INFINITY {
                    // The library's policy: the +inf classes share the mass, the others get 0.
                    let zc = z.to_vec();
                    surprisal::num::log_softmax(&zc, z).expect("one length");
                    b.nll.push(-z[y as usize]);
                    z.iter_mut().for_each(|v| *v = v.exp());
                } else {
                    // log pᵧ = zᵧ − logsumexp(z); the row becomes softmax(z) in place.
                    b.nll.push(lse - z[y as usize]);
                    for v in z.iter_mut() {
                        *v = (*v - lse).exp();
                    }
                }
            }
            Task::Regression { mean, spread, .. } => {
                b.yf.push(number_of(file, row, tname, t)?);
                b.p.push(number_of(file, row, self.name(*mean), cell(*mean))?);
                if let Some((kind, j)) = spread {
                    let c = cell(*j);
                    let v = number_of(file, row, self.name(*j), c)?;
                    if v <= 0.0 {
                        let what =
                            if *kind == Spread::Var { "variance must be > 0" } else { "scale must be > 0" };
                        return Err(error_at(file, row, self.name(*j), c, what));
                    }
                    b.s.push(if *kind == Spread::Var { v.sqrt() } else { v });
                }
            }
            Task::Quantile { levels } => {
                b.yf.push(number_of(file, row, tname, t)?);
                for &(_, j) in levels {
                    b.p.push(number_of(file, row, self.name(j), cell(j))?);
                }
            }
        }
        Ok(())
    }
}
