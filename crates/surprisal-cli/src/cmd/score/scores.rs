//! The accumulators of one scoring run: one set overall and one a group, each fed batches of
//! parsed rows and merged across threads.

use super::ace::AceStore;
use super::task::{RegFamily, Task};
use surprisal::calibration::{BinEdges, BinnedCalibration, Norm, ReliabilityDiagram, top_label};
use surprisal::family::{Laplace, Normal, StudentT};
use surprisal::score::{
    Accumulator, Accuracy, BinaryScores, BrierDecomposition, Classes, Crps, LogLoss, LogLossOptions,
    LogScore, MeanAbsoluteError, MeanPinballLoss, MeanSquaredError, MeanTweedieDeviance, MurphyDecomposition,
    R2Score,
};

/// Bins of the PIT histogram.
pub const PIT_BINS: usize = 20;

/// One batch of parsed rows (reused).
#[derive(Default)]
pub struct Batch {
    /// Targets as class indices (classification).
    pub y: Vec<i64>,
    /// Targets as numbers (regression and quantiles).
    pub yf: Vec<f64>,
    /// Probabilities (row-major, one or C a row), predicted means, or predicted quantiles.
    pub p: Vec<f64>,
    /// Predicted scales (regression with a spread column).
    pub s: Vec<f64>,
    /// −log p_y computed from logits (in log space, exact where exp(z) underflows).
    pub nll: Vec<f64>,
    /// Group ids (local to the thread that parsed the rows).
    pub g: Vec<u32>,
}

impl Batch {
    /// Empties the batch, keeping its memory.
    pub fn clear(&mut self) {
        self.y.clear();
        self.yf.clear();
        self.p.clear();
        self.s.clear();
        self.nll.clear();
        self.g.clear();
    }

    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.g.len()
    }

    /// Copies the rows `idx` of `src` (with `width` predictions a row) into `self`.
    pub fn gather(&mut self, src: &Batch, idx: &[u32], width: usize) {
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
            if !src.nll.is_empty() {
                self.nll.push(src.nll[i]);
            }
            self.p.extend_from_slice(&src.p[i * width..(i + 1) * width]);
            self.g.push(src.g[i]);
        }
    }
}

/// What `--plot` needs of a regression besides the scores.
#[derive(Clone)]
pub enum RegPlot {
    /// Counts of the probability integral transform F(y) in [`PIT_BINS`] equal bins of [0, 1].
    Pit(Vec<u64>),
    /// The residuals y − mean.
    Residuals(Vec<f64>),
}

impl RegPlot {
    /// The plot data a task keeps, if any.
    pub fn new(task: &Task) -> Option<Self> {
        match task {
            Task::Regression { spread: Some(_), family: RegFamily::Normal | RegFamily::Laplace, .. } => {
                Some(RegPlot::Pit(vec![0; PIT_BINS]))
            }
            Task::Regression { .. } => Some(RegPlot::Residuals(Vec::new())),
            _ => None,
        }
    }

    /// Adds a batch.
    pub fn update(&mut self, task: &Task, b: &Batch) {
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

    /// Adds the data of another thread.
    pub fn merge(&mut self, other: RegPlot) {
        match (self, other) {
            (RegPlot::Pit(a), RegPlot::Pit(b)) => a.iter_mut().zip(b).for_each(|(x, y)| *x += y),
            (RegPlot::Residuals(a), RegPlot::Residuals(b)) => a.extend(b),
            _ => unreachable!("one task, one kind of plot"),
        }
    }
}

/// The multiclass accumulators.
#[derive(Clone)]
pub struct ClassScores {
    /// Log loss of probability rows (`None` for logits, whose NLL is summed in log space).
    log: Option<LogLoss<f64>>,
    /// Σ −log p_y from logits.
    nll: f64,
    brier: BrierDecomposition<f64>,
    cal: BinnedCalibration<f64>,
    acc: Accuracy<f64>,
    n: u64,
}

/// The regression accumulators.
#[derive(Clone)]
pub struct RegScores {
    mse: MeanSquaredError<f64>,
    mae: MeanAbsoluteError<f64>,
    r2: R2Score<f64>,
    log: LogScore<f64>,
    crps: Crps<f64>,
    /// Mean Poisson and Gamma deviances, dropped (undefined) at the first row outside their domain.
    poisson: Option<MeanTweedieDeviance<f64>>,
    gamma: Option<MeanTweedieDeviance<f64>>,
    n: u64,
}

/// The quantile accumulators, one a level.
#[derive(Clone)]
pub struct QuantScores {
    pinball: Vec<MeanPinballLoss<f64>>,
    /// Rows with y ≤ q_τ, a level.
    covered: Vec<u64>,
    /// Rows whose predicted quantiles decrease with τ.
    crossed: u64,
    n: u64,
}

/// One set of accumulators (overall, or one group).
#[derive(Clone)]
pub enum Scores {
    /// Binary classification, fused.
    Binary(Box<BinaryScores<f64>>),
    /// Multiclass (probabilities or logits).
    Class(Box<ClassScores>),
    /// Regression.
    Reg(Box<RegScores>),
    /// Quantiles.
    Quant(Box<QuantScores>),
}

/// A set of accumulators with the rows kept for the adaptive calibration error.
#[derive(Clone)]
pub struct ScoreSet {
    /// The streaming scores.
    pub scores: Scores,
    /// The (confidence, outcome) rows of a classification, unless `--no-adaptive-ece`.
    pub ace: Option<AceStore>,
}

/// Named scores, `None` where the rows do not define one.
pub type Named = Vec<(String, Option<f64>)>;

impl ScoreSet {
    /// Empty accumulators for a task.
    pub fn new(task: &Task, bins: usize, adaptive: bool) -> Result<Self, surprisal::Error> {
        let scores = match task {
            Task::Binary { .. } => Scores::Binary(Box::new(BinaryScores::new(bins)?)),
            Task::Multi { probs: cols } | Task::Logits { logits: cols } => {
                let classes = Classes::range(cols.len())?;
                let log = match task {
                    Task::Multi { .. } => Some(LogLoss::new(classes.clone(), LogLossOptions::default())?),
                    _ => None,
                };
                Scores::Class(Box::new(ClassScores {
                    log,
                    nll: 0.0,
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
                poisson: Some(MeanTweedieDeviance::new(1.0)?),
                gamma: Some(MeanTweedieDeviance::new(2.0)?),
                n: 0,
            })),
            Task::Quantile { levels } => Scores::Quant(Box::new(QuantScores {
                pinball: levels.iter().map(|l| MeanPinballLoss::new(l.0)).collect::<Result<_, _>>()?,
                covered: vec![0; levels.len()],
                crossed: 0,
                n: 0,
            })),
        };
        let ace = (adaptive && task.is_classification()).then(AceStore::default);
        Ok(ScoreSet { scores, ace })
    }

    /// Feeds one batch (already validated cell by cell).
    pub fn update(&mut self, task: &Task, b: &Batch) -> Result<(), surprisal::Error> {
        if b.len() == 0 {
            return Ok(());
        }
        if let Some(store) = &mut self.ace {
            match task {
                Task::Binary { .. } => b.y.iter().zip(&b.p).for_each(|(&y, &p)| store.push(p, y == 1)),
                _ => {
                    for (row, &y) in b.p.chunks_exact(task.width()).zip(&b.y) {
                        let (k, m) = top_label(row).expect("at least two classes");
                        store.push(m, k as i64 == y);
                    }
                }
            }
        }
        match (&mut self.scores, task) {
            (Scores::Binary(c), Task::Binary { .. }) => c.update(&b.y, &b.p, None)?,
            (Scores::Class(c), Task::Multi { probs: cols } | Task::Logits { logits: cols }) => {
                match &mut c.log {
                    Some(log) => log.update(&b.y, &b.p, None)?,
                    None => c.nll += b.nll.iter().sum::<f64>(),
                }
                c.brier.update(&b.y, &b.p, None)?;
                c.cal.update_top_label(&b.p, cols.len(), &b.y)?;
                c.acc.update(&b.y, &b.p, None)?;
                c.n += b.len() as u64;
            }
            (Scores::Reg(r), Task::Regression { spread, family, .. }) => {
                r.mse.update(&b.yf, &b.p, None)?;
                r.mae.update(&b.yf, &b.p, None)?;
                r.r2.update(&b.yf, &b.p, None)?;
                for d in [&mut r.poisson, &mut r.gamma] {
                    if d.as_mut().is_some_and(|d| d.update(&b.yf, &b.p, None).is_err()) {
                        *d = None;
                    }
                }
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
            (Scores::Quant(q), Task::Quantile { levels }) => {
                let k = levels.len();
                let mut col = Vec::with_capacity(b.len());
                for (l, (pinball, covered)) in q.pinball.iter_mut().zip(&mut q.covered).enumerate() {
                    col.clear();
                    col.extend(b.p.iter().skip(l).step_by(k));
                    pinball.update(&b.yf, &col, None)?;
                    *covered += b.yf.iter().zip(&col).filter(|(y, q)| y <= q).count() as u64;
                }
                q.crossed += b.p.chunks_exact(k).filter(|r| r.windows(2).any(|w| w[1] < w[0])).count() as u64;
                q.n += b.len() as u64;
            }
            _ => unreachable!("accumulators are built for their task"),
        }
        Ok(())
    }

    /// Adds the accumulators of another thread (same task).
    pub fn merge(&mut self, other: ScoreSet) -> Result<(), surprisal::Error> {
        match (&mut self.scores, &other.scores) {
            (Scores::Binary(a), Scores::Binary(b)) => a.merge(b)?,
            (Scores::Class(a), Scores::Class(b)) => {
                if let (Some(x), Some(y)) = (&mut a.log, &b.log) {
                    x.merge(y)?;
                }
                a.nll += b.nll;
                a.brier.merge(&b.brier)?;
                a.cal.merge(&b.cal)?;
                a.acc.merge(&b.acc)?;
                a.n += b.n;
            }
            (Scores::Reg(a), Scores::Reg(b)) => {
                a.mse.merge(&b.mse)?;
                a.mae.merge(&b.mae)?;
                a.r2.merge(&b.r2)?;
                a.log.merge(&b.log)?;
                a.crps.merge(&b.crps)?;
                for (x, y) in [(&mut a.poisson, &b.poisson), (&mut a.gamma, &b.gamma)] {
                    match (x.as_mut(), y) {
                        (Some(x), Some(y)) => x.merge(y)?,
                        _ => *x = None,
                    }
                }
                a.n += b.n;
            }
            (Scores::Quant(a), Scores::Quant(b)) => {
                for (x, y) in a.pinball.iter_mut().zip(&b.pinball) {
                    x.merge(y)?;
                }
                a.covered.iter_mut().zip(&b.covered).for_each(|(x, y)| *x += y);
                a.crossed += b.crossed;
                a.n += b.n;
            }
            _ => unreachable!("one task, one kind of accumulator"),
        }
        match (&mut self.ace, other.ace) {
            (Some(a), Some(b)) => a.merge(b),
            (a @ None, b) => *a = b,
            _ => {}
        }
        Ok(())
    }

    /// The reliability diagram of a classification (torchmetrics' uniform bins).
    pub fn diagram(&self) -> Option<ReliabilityDiagram<f64>> {
        match &self.scores {
            Scores::Binary(c) => c.finish().ok().map(|v| v.calibration),
            Scores::Class(c) => c.cal.finish().ok(),
            _ => None,
        }
    }

    /// The scores as (name, value) pairs; `None` for a score the rows do not define.
    pub fn finish(&self, task: &Task, bins: usize, threads: usize) -> Named {
        let ok = |r: Result<f64, surprisal::Error>| r.ok();
        let ace = || {
            self.ace
                .as_ref()
                .and_then(|s| s.finish(bins, threads).ok())
                .map(|d| d.calibration_error(Norm::L1))
        };
        let named = |v: Vec<(&str, Option<f64>)>| v.into_iter().map(|(k, x)| (k.to_string(), x)).collect();
        match &self.scores {
            Scores::Binary(c) => {
                let s = c.finish().ok();
                let nats = s.as_ref().map(|s| s.log_loss);
                let d = s.as_ref().map(|s| s.brier);
                let diagram = s.as_ref().map(|s| &s.calibration);
                let accuracy = s.as_ref().map(|s| s.accuracy);
                class_named(
                    Some(c.rows() as f64),
                    nats,
                    d,
                    diagram,
                    self.ace.as_ref().map(|_| ace()),
                    accuracy,
                )
            }
            Scores::Class(c) => {
                let d = c.brier.finish().ok();
                let diagram = c.cal.finish().ok();
                let nats = match &c.log {
                    Some(log) => ok(log.finish()),
                    None => (c.n > 0).then(|| c.nll / c.n as f64),
                };
                let adaptive = self.ace.as_ref().map(|_| ace());
                class_named(Some(c.n as f64), nats, d, diagram.as_ref(), adaptive, ok(c.acc.finish()))
            }
            Scores::Reg(r) => {
                let mut v = vec![
                    ("n", Some(r.n as f64)),
                    ("mse", ok(r.mse.finish())),
                    ("mae", ok(r.mae.finish())),
                    ("r2", ok(r.r2.finish())),
                    ("poisson_deviance", r.poisson.as_ref().and_then(|d| d.finish().ok())),
                    ("gamma_deviance", r.gamma.as_ref().and_then(|d| d.finish().ok())),
                ];
                if let Task::Regression { spread: Some(_), family, .. } = task {
                    let l = r.log.finish().ok();
                    v.push(("nll_nats", l.map(|l| l.nats)));
                    v.push(("nll_bits", l.map(|l| l.bits)));
                    if !matches!(family, RegFamily::StudentT(_)) {
                        v.push(("crps", ok(r.crps.finish())));
                    }
                }
                named(v)
            }
            Scores::Quant(q) => {
                let Task::Quantile { levels } = task else { unreachable!("quantile scores") };
                let mut v: Named = vec![("n".to_string(), Some(q.n as f64))];
                for (l, (tau, _)) in levels.iter().enumerate() {
                    v.push((format!("pinball_{tau}"), ok(q.pinball[l].finish())));
                    v.push((format!("coverage_{tau}"), (q.n > 0).then(|| q.covered[l] as f64 / q.n as f64)));
                }
                if levels.len() > 1 {
                    v.push(("crossing_rate".to_string(), (q.n > 0).then(|| q.crossed as f64 / q.n as f64)));
                }
                v
            }
        }
    }
}

/// The named scores of a classification task.
fn class_named(
    n: Option<f64>,
    nats: Option<f64>,
    d: Option<MurphyDecomposition<f64>>,
    diagram: Option<&ReliabilityDiagram<f64>>,
    adaptive: Option<Option<f64>>,
    accuracy: Option<f64>,
) -> Named {
    let mut v = vec![
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
    ];
    if let Some(a) = adaptive {
        v.push(("adaptive_ece", a));
    }
    v.push(("accuracy", accuracy));
    v.into_iter().map(|(k, x)| (k.to_string(), x)).collect()
}
