//! Scores of predicted class probabilities: the log score (log loss), its D², and accuracy.
//!
//! ```text
//! log score    S(p, y) = −log p_y                      = Categorical NLL (Bernoulli NLL for two
//!                                                        classes: −y log p − (1 − y) log(1 − p))
//! log_loss     L = Σᵢ wᵢ S(pᵢ, yᵢ) / Σᵢ wᵢ             (normalize = true; the sum when false)
//!              E_{y∼q}[S(p, y)] = H(q, p) = H(q) + KL(q ‖ p)   → strictly proper
//! d2_log_loss  D² = 1 − Σᵢ wᵢ S(pᵢ, yᵢ) / Σᵢ wᵢ S(p̄, yᵢ),   p̄_c = Σ_{i: yᵢ = c} wᵢ / Σᵢ wᵢ
//!              (the null model predicts the weighted class frequencies of y for every row)
//! accuracy     A = Σᵢ wᵢ 1[argmax_c pᵢ,c = yᵢ] / Σᵢ wᵢ  (not strictly proper)
//! ```
//!
//! The log score is the surprisal of the observed class under the predicted distribution: the
//! log loss of a classifier is its Categorical (two classes: Bernoulli) negative log-likelihood
//! per row, and minimising its expectation is minimising KL(q ‖ p).
//!
//! # Semantics: scikit-learn 1.9
//!
//! - Classes. Labels are integers. A row of probabilities has one column per class, in the
//!   sorted order of the class set ([`Classes`]); the class set is `labels` when given, else the
//!   distinct values of `y` (`sklearn.metrics.log_loss(labels=None)`, which then needs at least
//!   two distinct values). Binary scores take one column, P(y = the larger class); for the plain
//!   `*_binary` functions the classes are {0, 1}.
//! - Clipping. Every probability is clipped to [ε, 1 − ε] with ε the machine epsilon of `F`
//!   (2⁻⁵² in f64), so a confident wrong prediction costs −log ε ≈ 36.04 nats instead of +∞.
//!   Binary rows are clipped as the two columns (1 − p, p), exactly as scikit-learn stacks them.
//! - No renormalisation. Rows that do not sum to 1 are taken as given (scikit-learn ≥ 1.5 only
//!   warns): the score is −log p_y of the row as given. This is where the score differs from the
//!   exact Categorical NLL, which is only defined for a distribution; for rows that sum to 1 and
//!   lie in [ε, 1 − ε] the two agree to rounding. The clip is the other difference: the exact NLL
//!   of p_y = 0 is +∞.
//! - Weights are finite and ≥ 0; `normalize` divides by their sum (an error when it is 0).
//! - A class outside the class set is an error ([`Error::ClassOutOfRange`]); probabilities must
//!   lie in [0, 1] and not be NaN ([`Error::InvalidValue`] with the flat index
//!   `row · n_classes + column`).
//! - `d2_log_loss_score` is NaN with fewer than two rows, as scikit-learn's. With all the weight
//!   on one class the null model predicts 1, clipped to 1 − ε, and loses W·(−log(1 − ε)) ≈ 2.2e−16·W:
//!   D² is then hugely negative, as in scikit-learn (not the 0/0 of the unclipped formula).
//! - Accuracy takes the first column of largest probability (`numpy.argmax`), so a binary
//!   p = 0.5 predicts the smaller class.
//!
//! Every score is an [`Accumulator`]: `update` with batches of rows, `merge` shards, `finish`.

use super::Accumulator;
use crate::divergence::Base;
use crate::error::{Error, Result, check};
use crate::num::Real;

// ---------------------------------------------------------------------------------------------
// Class sets and input validation (shared with the Brier score).
// ---------------------------------------------------------------------------------------------

/// The class set of a classification score: distinct integer labels in increasing order; column
/// `j` of a probability row belongs to `labels()[j]`.
///
/// ```
/// use surprisal::score::Classes;
/// let c = Classes::new(&[7, -1, 3, 7]).unwrap();
/// assert_eq!(c.labels(), &[-1, 3, 7]);
/// assert_eq!(Classes::from_targets(&[2, 0, 2]).unwrap().labels(), &[0, 2]);
/// assert!(Classes::from_targets(&[1, 1]).is_err()); // one class: pass the class set
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classes {
    labels: Vec<i64>,
}

impl Classes {
    /// The class set `labels` (sorted, duplicates removed), as scikit-learn's `labels=` argument.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] when fewer than two distinct labels are given.
    pub fn new(labels: &[i64]) -> Result<Self> {
        let mut labels = labels.to_vec();
        labels.sort_unstable();
        labels.dedup();
        if labels.len() < 2 {
            return Err(Error::InvalidOption {
                name: "labels",
                value: format!("{labels:?}"),
                reason: "a classification score needs at least two classes",
            });
        }
        Ok(Self { labels })
    }

    /// Classes `0..n_classes`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for `n_classes < 2`.
    pub fn range(n_classes: usize) -> Result<Self> {
        let labels: Vec<i64> = (0..n_classes as i64).collect();
        Self::new(&labels)
    }

    /// The two classes {0, 1}.
    pub fn binary() -> Self {
        Self { labels: vec![0, 1] }
    }

    /// The distinct values of `y` (scikit-learn with `labels=None`).
    ///
    /// # Errors
    /// [`Error::Empty`] for no rows; [`Error::InvalidOption`] when `y` holds one class only
    /// (pass the class set with [`Classes::new`]).
    pub fn from_targets(y: &[i64]) -> Result<Self> {
        if y.is_empty() {
            return Err(Error::Empty { name: "target" });
        }
        Self::new(y)
    }

    /// The labels, increasing.
    pub fn labels(&self) -> &[i64] {
        &self.labels
    }

    /// Number of classes (≥ 2).
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Always false: a class set has at least two classes.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Column of label `y`; [`Error::ClassOutOfRange`] naming the row otherwise.
    pub(crate) fn column(&self, y: i64, row: usize) -> Result<usize> {
        self.labels.binary_search(&y).map_err(|_| Error::ClassOutOfRange {
            row,
            value: y,
            n_classes: self.len(),
        })
    }

    /// Columns of every label of a batch (validated).
    pub(crate) fn columns(&self, y: &[i64]) -> Result<Vec<usize>> {
        y.iter().enumerate().map(|(i, &v)| self.column(v, i)).collect()
    }
}

/// Validates a batch of rows: `probs` is `[y.len(), n_classes]` row-major with every entry in
/// [0, 1], weights finite and ≥ 0 of length `y.len()`. Returns the class column of every row.
pub(crate) fn validate_rows<F: Real>(
    classes: &Classes,
    y: &[i64],
    probs: &[F],
    n_cols: usize,
    weights: Option<&[F]>,
) -> Result<Vec<usize>> {
    let n = y.len();
    if probs.len() != n * n_cols {
        let got = if n_cols > 0 && probs.len().is_multiple_of(n_cols) {
            vec![probs.len() / n_cols, n_cols]
        } else {
            vec![probs.len()]
        };
        return Err(Error::shape("probs", &[n, n_cols], &got));
    }
    check::weights(weights, n)?;
    if let Some(i) = probs.iter().position(|p| !(*p >= F::zero() && *p <= F::one())) {
        return Err(Error::InvalidValue {
            name: "probs",
            value: probs[i].to_f64_lossy(),
            index: Some(i),
            reason: "must be in [0, 1] (index = row · n_classes + column)",
        });
    }
    classes.columns(y)
}

/// Checks that a probability matrix has one column per class.
fn check_n_classes(classes: &Classes, n_rows: usize, n_classes: usize) -> Result<()> {
    if classes.len() == n_classes {
        Ok(())
    } else {
        Err(Error::shape("probs", &[n_rows, classes.len()], &[n_rows, n_classes]))
    }
}

/// The class set of a plain function: `labels` when given, else the distinct values of `y`.
pub(crate) fn resolve_classes(y: &[i64], labels: Option<&[i64]>, n_classes: usize) -> Result<Classes> {
    let classes = match labels {
        Some(l) => Classes::new(l)?,
        None => Classes::from_targets(y)?,
    };
    check_n_classes(&classes, y.len(), n_classes)?;
    Ok(classes)
}

#[inline]
pub(crate) fn weight_at<F: Real>(w: Option<&[F]>, i: usize) -> F {
    w.map_or(F::one(), |w| w[i])
}

/// Validates a batch (as [`validate_rows`]) and adds every row's weighted score to the running
/// totals `(Σ wᵢ sᵢ, Σ wᵢ)`, row by row; `score(i, col)` scores row `i`, `col` its class column.
/// Returns the new totals; on error nothing is added.
pub(crate) fn add_rows<F: Real>(
    classes: &Classes,
    y: &[i64],
    probs: &[F],
    n_cols: usize,
    weights: Option<&[F]>,
    totals: (F, F),
    score: impl Fn(usize, usize) -> F,
) -> Result<(F, F)> {
    let cols = validate_rows(classes, y, probs, n_cols, weights)?;
    let (mut sum, mut weight) = totals;
    for (i, &col) in cols.iter().enumerate() {
        let w = weight_at(weights, i);
        sum = sum + w * score(i, col);
        weight = weight + w;
    }
    Ok((sum, weight))
}

/// The weighted mean `sum / weight` of an accumulator that has seen `rows` rows.
///
/// # Errors
/// [`Error::Empty`] for no rows or zero total weight.
pub(crate) fn weighted_mean<F: Real>(sum: F, weight: F, rows: usize) -> Result<F> {
    if rows == 0 {
        return Err(Error::Empty { name: "probs" });
    }
    if weight <= F::zero() {
        return Err(Error::Empty { name: "sample_weight" });
    }
    Ok(sum / weight)
}

/// scikit-learn's clip of a probability to [ε, 1 − ε], ε = machine epsilon of `F`.
#[inline]
pub fn clip_probability<F: Real>(p: F) -> F {
    let eps = F::epsilon();
    p.max(eps).min(F::one() - eps)
}

// ---------------------------------------------------------------------------------------------
// Log score.
// ---------------------------------------------------------------------------------------------

/// The log score of one binary row: the Bernoulli NLL −log p(y | P(y = 1) = p) with p clipped to
/// [ε, 1 − ε] (unchecked kernel: `p` in [0, 1]).
///
/// ```text
/// S(p, 1) = −log p,   S(p, 0) = −log(1 − p)
/// ```
#[inline]
pub fn binary_log_score<F: Real>(positive: bool, p: F) -> F {
    // P(y = 1) is clipped to [ε, 1 − ε], so 1 − p is in [ε, 1 − ε] as well: the Bernoulli
    // log-mass log p or log(1 − p) (as `Bernoulli::log_prob`), one logarithm a row.
    let c = clip_probability(p);
    if positive { -c.ln() } else { -(-c).ln_1p() }
}

/// The log score of one multiclass row: the Categorical NLL −log p_c of class column `c`, with
/// p_c clipped to [ε, 1 − ε] and the row taken as given (not renormalised).
#[inline]
pub fn log_score<F: Real>(row: &[F], c: usize) -> F {
    -clip_probability(row[c]).ln()
}

/// Options of the log loss.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogLossOptions {
    /// Weighted mean over rows (true, scikit-learn's default) or weighted sum (false).
    pub normalize: bool,
    /// Unit of the result: nats (default, as scikit-learn) or bits, …
    pub base: Base,
}

impl Default for LogLossOptions {
    fn default() -> Self {
        Self { normalize: true, base: Base::Nats }
    }
}

impl LogLossOptions {
    /// The weighted sum instead of the mean.
    pub fn sum() -> Self {
        Self { normalize: false, base: Base::Nats }
    }
    /// The same options in another base.
    pub fn in_base(mut self, base: Base) -> Self {
        self.base = base;
        self
    }
}

/// Streaming log loss (log score): the Categorical / Bernoulli NLL of the observed classes.
///
/// ```text
/// L = Σᵢ wᵢ · (−log clip(pᵢ,yᵢ)) / Σᵢ wᵢ         (normalize; else the numerator)
/// in base b: L / ln b
/// ```
///
/// Reference: `sklearn.metrics.log_loss` (1.9). See the [module docs](self) for the clip and
/// the rows that do not sum to one.
///
/// ```
/// use surprisal::score::{Accumulator, Classes, LogLoss, LogLossOptions};
/// let mut acc = LogLoss::<f64>::new(Classes::range(3).unwrap(), LogLossOptions::default()).unwrap();
/// acc.update(&[0], &[0.7, 0.2, 0.1], None).unwrap();
/// acc.update(&[2], &[0.2, 0.2, 0.6], None).unwrap();
/// // mpmath: −(log 0.7 + log 0.6)/2
/// assert!((acc.finish().unwrap() - 0.43375028385236153).abs() < 1e-15);
/// ```
#[derive(Clone, Debug)]
pub struct LogLoss<F> {
    classes: Classes,
    opts: LogLossOptions,
    ln_base: F,
    pub(crate) sum: F,
    pub(crate) weight: F,
    pub(crate) rows: usize,
}

impl<F: Real> LogLoss<F> {
    /// An empty accumulator over `classes`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an invalid base.
    pub fn new(classes: Classes, opts: LogLossOptions) -> Result<Self> {
        let ln_base = F::lit(opts.base.ln()?);
        Ok(Self { classes, opts, ln_base, sum: F::zero(), weight: F::zero(), rows: 0 })
    }

    /// An empty accumulator over the classes {0, 1}.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an invalid base.
    pub fn binary(opts: LogLossOptions) -> Result<Self> {
        Self::new(Classes::binary(), opts)
    }

    /// The class set.
    pub fn classes(&self) -> &Classes {
        &self.classes
    }

    /// Adds rows: labels `y`, probabilities `probs` (`[y.len(), n_classes]`, row-major), optional
    /// weights. On error nothing is added.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`], [`Error::InvalidValue`] (a probability outside [0, 1]),
    /// [`Error::InvalidParameter`] (a weight), [`Error::ClassOutOfRange`].
    pub fn update(&mut self, y: &[i64], probs: &[F], weights: Option<&[F]>) -> Result<()> {
        let c = self.classes.len();
        let score = |i: usize, col| log_score(&probs[i * c..(i + 1) * c], col);
        (self.sum, self.weight) =
            add_rows(&self.classes, y, probs, c, weights, (self.sum, self.weight), score)?;
        self.rows += y.len();
        Ok(())
    }

    /// Adds binary rows: `p[i]` is the probability of the larger of the two classes.
    ///
    /// # Errors
    /// As [`LogLoss::update`]; [`Error::InvalidOption`] when the class set has more than two
    /// classes.
    pub fn update_binary(&mut self, y: &[i64], p: &[F], weights: Option<&[F]>) -> Result<()> {
        require_two(&self.classes)?;
        let score = |i: usize, col| binary_log_score(col == 1, p[i]);
        (self.sum, self.weight) = add_rows(&self.classes, y, p, 1, weights, (self.sum, self.weight), score)?;
        self.rows += y.len();
        Ok(())
    }

    /// Rows seen so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The weighted sum of log scores in nats, and the sum of weights.
    pub fn totals(&self) -> (F, F) {
        (self.sum, self.weight)
    }
}

pub(crate) fn require_two(classes: &Classes) -> Result<()> {
    if classes.len() == 2 {
        Ok(())
    } else {
        Err(Error::InvalidOption {
            name: "classes",
            value: format!("{:?}", classes.labels()),
            reason: "binary rows need exactly two classes",
        })
    }
}

fn mismatch(name: &'static str) -> Error {
    Error::InvalidOption {
        name,
        value: "different".into(),
        reason: "only accumulators built with the same settings can be merged",
    }
}

impl<F: Real> Accumulator for LogLoss<F> {
    type Output = F;

    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.classes != other.classes {
            return Err(mismatch("classes"));
        }
        if self.opts != other.opts {
            return Err(mismatch("options"));
        }
        self.sum = self.sum + other.sum;
        self.weight = self.weight + other.weight;
        self.rows += other.rows;
        Ok(())
    }

    fn finish(&self) -> Result<F> {
        if self.rows == 0 {
            return Err(Error::Empty { name: "probs" });
        }
        let nats = if self.opts.normalize {
            if self.weight <= F::zero() {
                return Err(Error::Empty { name: "sample_weight" });
            }
            self.sum / self.weight
        } else {
            self.sum
        };
        Ok(nats / self.ln_base)
    }
}

/// Log loss of multiclass probabilities (`sklearn.metrics.log_loss`): the mean (or sum, by
/// `opts.normalize`) Categorical NLL −log p_y, probabilities clipped to [ε, 1 − ε].
///
/// `probs` is `[y.len(), n_classes]` row-major; column j belongs to the j-th smallest class of
/// `labels`, or of the distinct values of `y` when `labels` is `None`.
///
/// # Errors
/// [`Error::ShapeMismatch`] (the class set and `n_classes` disagree, or `probs` has the wrong
/// length), [`Error::InvalidValue`] (a probability outside [0, 1]), [`Error::InvalidOption`]
/// (fewer than two classes), [`Error::ClassOutOfRange`] (a label outside `labels`),
/// [`Error::InvalidParameter`] (a weight), [`Error::Empty`].
///
/// ```
/// use surprisal::score::{log_loss, LogLossOptions};
/// use surprisal::divergence::Base;
/// let probs = [0.7f64, 0.2, 0.1, 0.2, 0.2, 0.6, 0.1, 0.8, 0.1];
/// let l = log_loss(&[0, 2, 1], &probs, 3, None, None, LogLossOptions::default()).unwrap();
/// // mpmath: −(log 0.7 + log 0.6 + log 0.8)/3
/// assert!((l - 0.36354803967297761).abs() < 1e-15);
/// let bits = LogLossOptions::default().in_base(Base::Bits);
/// let b = log_loss(&[0, 2, 1], &probs, 3, None, None, bits).unwrap();
/// assert!((b - 0.52448895396110892).abs() < 1e-15);
/// ```
pub fn log_loss<F: Real>(
    y: &[i64],
    probs: &[F],
    n_classes: usize,
    weights: Option<&[F]>,
    labels: Option<&[i64]>,
    opts: LogLossOptions,
) -> Result<F> {
    let mut acc = LogLoss::new(resolve_classes(y, labels, n_classes)?, opts)?;
    acc.update(y, probs, weights)?;
    acc.finish()
}

/// Log loss of binary predictions: `p[i]` = P(yᵢ = 1), labels in {0, 1}; the mean (or sum)
/// Bernoulli NLL with p clipped to [ε, 1 − ε]. This is `sklearn.metrics.log_loss` with a 1-D
/// `y_pred` and `labels=[0, 1]`.
///
/// # Errors
/// As [`log_loss`].
///
/// ```
/// use surprisal::score::{log_loss_binary, LogLossOptions};
/// let l = log_loss_binary(&[1, 0, 1], &[0.9f64, 0.2, 0.4], None, LogLossOptions::default()).unwrap();
/// // mpmath: −(log 0.9 + log 0.8 + log 0.4)/3
/// assert!((l - 0.41493159961539704).abs() < 1e-15);
/// // A certain wrong prediction costs −log ε, not +∞.
/// let s = log_loss_binary(&[1], &[0.0f64], None, LogLossOptions::sum()).unwrap();
/// assert!((s - 36.043653389117154).abs() < 1e-12);
/// ```
pub fn log_loss_binary<F: Real>(
    y: &[i64],
    p: &[F],
    weights: Option<&[F]>,
    opts: LogLossOptions,
) -> Result<F> {
    let mut acc = LogLoss::binary(opts)?;
    acc.update_binary(y, p, weights)?;
    acc.finish()
}

// ---------------------------------------------------------------------------------------------
// D² of the log loss.
// ---------------------------------------------------------------------------------------------

/// Streaming D² log-loss score: the fraction of the null model's log loss explained.
///
/// ```text
/// D² = 1 − Σᵢ wᵢ S(pᵢ, yᵢ) / Σ_c W_c · (−log clip(W_c / W)),   W_c = Σ_{yᵢ = c} wᵢ, W = Σ_c W_c
/// ```
///
/// The denominator is the log loss of the null model that predicts the weighted class
/// frequencies for every row, i.e. W times the entropy of the weighted class distribution.
/// Reference: `sklearn.metrics.d2_log_loss_score` (1.9).
///
/// ```
/// use surprisal::score::{Accumulator, Classes, D2LogLoss};
/// let mut acc = D2LogLoss::<f64>::new(Classes::binary());
/// acc.update_binary(&[1, 0, 1, 1], &[0.9, 0.2, 0.6, 0.7], None).unwrap();
/// // mpmath: 1 − (−log .9 − log .8 − log .6 − log .7) / (−3 log .75 − log .25)
/// assert!((acc.finish().unwrap() - 0.46828655201361369).abs() < 1e-14);
/// ```
#[derive(Clone, Debug)]
pub struct D2LogLoss<F> {
    model: LogLoss<F>,
    class_weight: Vec<F>,
}

impl<F: Real> D2LogLoss<F> {
    /// An empty accumulator over `classes`.
    pub fn new(classes: Classes) -> Self {
        let class_weight = vec![F::zero(); classes.len()];
        let model = LogLoss {
            classes,
            opts: LogLossOptions::sum(),
            ln_base: F::one(),
            sum: F::zero(),
            weight: F::zero(),
            rows: 0,
        };
        Self { model, class_weight }
    }

    /// Adds rows of multiclass probabilities (see [`LogLoss::update`]).
    ///
    /// # Errors
    /// As [`LogLoss::update`].
    pub fn update(&mut self, y: &[i64], probs: &[F], weights: Option<&[F]>) -> Result<()> {
        self.model.update(y, probs, weights)?;
        self.count(y, weights);
        Ok(())
    }

    /// Adds binary rows (see [`LogLoss::update_binary`]).
    ///
    /// # Errors
    /// As [`LogLoss::update_binary`].
    pub fn update_binary(&mut self, y: &[i64], p: &[F], weights: Option<&[F]>) -> Result<()> {
        self.model.update_binary(y, p, weights)?;
        self.count(y, weights);
        Ok(())
    }

    fn count(&mut self, y: &[i64], weights: Option<&[F]>) {
        // Labels were validated by the model's update.
        for (i, &v) in y.iter().enumerate() {
            if let Ok(c) = self.model.classes.column(v, i) {
                self.class_weight[c] = self.class_weight[c] + weight_at(weights, i);
            }
        }
    }
}

impl<F: Real> Accumulator for D2LogLoss<F> {
    type Output = F;

    fn merge(&mut self, other: &Self) -> Result<()> {
        self.model.merge(&other.model)?;
        for (a, b) in self.class_weight.iter_mut().zip(&other.class_weight) {
            *a = *a + *b;
        }
        Ok(())
    }

    /// NaN with fewer than two rows (as scikit-learn).
    ///
    /// # Errors
    /// [`Error::Empty`] for zero total weight; [`Error::Numerical`] when the null model's loss is
    /// zero (not reached for weights > 0: the clip keeps it ≥ W·(−log(1 − ε))).
    fn finish(&self) -> Result<F> {
        if self.model.rows < 2 {
            return Ok(F::nan());
        }
        let total: F = self.class_weight.iter().copied().sum();
        if total <= F::zero() {
            return Err(Error::Empty { name: "sample_weight" });
        }
        let null: F = self
            .class_weight
            .iter()
            .filter(|w| **w > F::zero())
            .map(|&w| w * -clip_probability(w / total).ln())
            .sum();
        if null == F::zero() {
            return Err(Error::Numerical {
                what: "d2_log_loss_score",
                reason: "the null model's log loss is 0 (all the weight is on one class)".into(),
            });
        }
        Ok(F::one() - self.model.sum / null)
    }
}

/// D² log-loss score of multiclass probabilities (`sklearn.metrics.d2_log_loss_score`); class set
/// and layout as [`log_loss`].
///
/// # Errors
/// As [`log_loss`]; [`Error::Numerical`] when the null model's loss is 0.
///
/// ```
/// use surprisal::score::d2_log_loss_score;
/// let probs = [0.7f64, 0.2, 0.1, 0.2, 0.2, 0.6, 0.1, 0.8, 0.1];
/// let d2 = d2_log_loss_score(&[0, 2, 1], &probs, 3, None, None).unwrap();
/// // mpmath: 1 − (−log .7 − log .6 − log .8) / (3 log 3)
/// assert!((d2 - 0.66908431352636607).abs() < 1e-15);
/// ```
pub fn d2_log_loss_score<F: Real>(
    y: &[i64],
    probs: &[F],
    n_classes: usize,
    weights: Option<&[F]>,
    labels: Option<&[i64]>,
) -> Result<F> {
    let mut acc = D2LogLoss::new(resolve_classes(y, labels, n_classes)?);
    acc.update(y, probs, weights)?;
    acc.finish()
}

/// D² log-loss score of binary predictions `p[i]` = P(yᵢ = 1), labels in {0, 1}.
///
/// # Errors
/// As [`d2_log_loss_score`].
pub fn d2_log_loss_score_binary<F: Real>(y: &[i64], p: &[F], weights: Option<&[F]>) -> Result<F> {
    let mut acc = D2LogLoss::new(Classes::binary());
    acc.update_binary(y, p, weights)?;
    acc.finish()
}

// ---------------------------------------------------------------------------------------------
// Accuracy.
// ---------------------------------------------------------------------------------------------

/// Streaming top-label accuracy: the weighted fraction of rows whose most probable class is the
/// observed one (first column on ties, as `numpy.argmax`; binary rows predict the larger class
/// when p > ½).
///
/// Accuracy is a score of the decision, not of the distribution: it is proper but not strictly
/// proper (every p with the same top label has the same expected accuracy).
///
/// ```
/// use surprisal::score::{Accumulator, Accuracy, Classes};
/// let mut acc = Accuracy::<f64>::new(Classes::binary());
/// acc.update_binary(&[1, 0, 1, 0], &[0.9, 0.2, 0.4, 0.5], None).unwrap();
/// assert_eq!(acc.finish().unwrap(), 0.75);
/// ```
#[derive(Clone, Debug)]
pub struct Accuracy<F> {
    classes: Classes,
    pub(crate) correct: F,
    pub(crate) weight: F,
    pub(crate) rows: usize,
}

impl<F: Real> Accuracy<F> {
    /// An empty accumulator over `classes`.
    pub fn new(classes: Classes) -> Self {
        Self { classes, correct: F::zero(), weight: F::zero(), rows: 0 }
    }

    /// Adds rows of multiclass probabilities (layout as [`LogLoss::update`]).
    ///
    /// # Errors
    /// As [`LogLoss::update`].
    pub fn update(&mut self, y: &[i64], probs: &[F], weights: Option<&[F]>) -> Result<()> {
        let c = self.classes.len();
        let hit = |i: usize, col| indicator::<F>(top_label(&probs[i * c..(i + 1) * c]) == col);
        (self.correct, self.weight) =
            add_rows(&self.classes, y, probs, c, weights, (self.correct, self.weight), hit)?;
        self.rows += y.len();
        Ok(())
    }

    /// Adds binary rows, `p[i]` the probability of the larger class.
    ///
    /// # Errors
    /// As [`LogLoss::update_binary`].
    pub fn update_binary(&mut self, y: &[i64], p: &[F], weights: Option<&[F]>) -> Result<()> {
        require_two(&self.classes)?;
        let half = F::lit(0.5);
        let hit = |i: usize, col| indicator::<F>(usize::from(p[i] > half) == col);
        (self.correct, self.weight) =
            add_rows(&self.classes, y, p, 1, weights, (self.correct, self.weight), hit)?;
        self.rows += y.len();
        Ok(())
    }
}

/// 1 for a hit, 0 otherwise (w · 1 = w and w · 0 = 0 exactly, so the sums are those of the hits).
#[inline]
fn indicator<F: Real>(hit: bool) -> F {
    if hit { F::one() } else { F::zero() }
}

/// First index of the largest entry.
fn top_label<F: Real>(row: &[F]) -> usize {
    let mut best = 0;
    for (j, &v) in row.iter().enumerate().skip(1) {
        if v > row[best] {
            best = j;
        }
    }
    best
}

impl<F: Real> Accumulator for Accuracy<F> {
    type Output = F;

    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.classes != other.classes {
            return Err(mismatch("classes"));
        }
        self.correct = self.correct + other.correct;
        self.weight = self.weight + other.weight;
        self.rows += other.rows;
        Ok(())
    }

    fn finish(&self) -> Result<F> {
        weighted_mean(self.correct, self.weight, self.rows)
    }
}

/// Top-label accuracy of multiclass probabilities; class set and layout as [`log_loss`].
///
/// # Errors
/// As [`log_loss`].
pub fn accuracy<F: Real>(
    y: &[i64],
    probs: &[F],
    n_classes: usize,
    weights: Option<&[F]>,
    labels: Option<&[i64]>,
) -> Result<F> {
    let mut acc = Accuracy::new(resolve_classes(y, labels, n_classes)?);
    acc.update(y, probs, weights)?;
    acc.finish()
}

/// Accuracy of binary predictions `p[i]` = P(yᵢ = 1) thresholded at p > ½, labels in {0, 1}.
///
/// # Errors
/// As [`log_loss_binary`].
pub fn accuracy_binary<F: Real>(y: &[i64], p: &[F], weights: Option<&[F]>) -> Result<F> {
    let mut acc = Accuracy::new(Classes::binary());
    acc.update_binary(y, p, weights)?;
    acc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::divergence::{Normalization, discrete_information};
    use crate::family::{Bernoulli, Categorical, Family};
    use crate::testing::Rng;

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(1e-300)
    }

    /// Random multiclass data: labels, row-major probabilities, weights.
    fn data(rng: &mut Rng, n: usize, c: usize) -> (Vec<i64>, Vec<f64>, Vec<f64>) {
        let mut y = Vec::new();
        let mut p = Vec::new();
        let mut w = Vec::new();
        for _ in 0..n {
            let row = rng.simplex(c, 0.01);
            y.push(rng.categorical(&row) as i64);
            p.extend(row);
            w.push(0.1 + 3.0 * rng.uniform());
        }
        (y, p, w)
    }

    #[test]
    fn log_score_is_the_categorical_and_bernoulli_nll() {
        let mut rng = Rng(11);
        for _ in 0..50 {
            let row = rng.simplex(5, 0.0);
            let d = Categorical::from_probs(&row).unwrap();
            for c in 0..5 {
                let exact = -d.log_prob(c).unwrap();
                assert!(rel(log_score(&row, c), exact) < 1e-13);
            }
            let p = rng.uniform();
            let b = Bernoulli::from_probs(p).unwrap();
            assert!(rel(binary_log_score(true, p), -p.ln()) < 1e-13);
            assert!(rel(binary_log_score(false, p), -b.log_prob(0.0)) < 1e-13);
        }
    }

    #[test]
    fn clipping_matches_scikit_learn_at_the_edges() {
        let eps = f64::EPSILON;
        let big = -eps.ln();
        assert_eq!(binary_log_score(true, 0.0), big);
        assert_eq!(binary_log_score(false, 1.0), big);
        assert!(rel(binary_log_score(true, 1.0), -(1.0 - eps).ln()) < 1e-12);
        assert_eq!(log_score(&[0.0, 1.0], 0), big);
        // f32 clips at its own epsilon.
        assert_eq!(binary_log_score(true, 0.0f32), -f32::EPSILON.ln());
        // Rows that do not sum to one are not renormalised: −log p_y of the row as given.
        let l = log_loss(&[0, 1], &[0.5, 0.25, 0.5, 0.25], 2, None, None, LogLossOptions::default()).unwrap();
        assert!(rel(l, -(0.5f64.ln() + 0.25f64.ln()) / 2.0) < 1e-15);
    }

    #[test]
    fn binary_equals_two_column_multiclass() {
        let mut rng = Rng(3);
        let (mut y, mut p1, mut p2, mut w) = (vec![], vec![], vec![], vec![]);
        for _ in 0..40 {
            let p = rng.uniform();
            y.push(i64::from(rng.uniform() < p));
            p1.push(p);
            p2.extend([1.0 - p, p]);
            w.push(rng.uniform());
        }
        for opts in [LogLossOptions::default(), LogLossOptions::sum()] {
            let a = log_loss_binary(&y, &p1, Some(&w), opts).unwrap();
            let b = log_loss(&y, &p2, 2, Some(&w), Some(&[0, 1]), opts).unwrap();
            assert!(rel(a, b) < 1e-12);
        }
        let a = d2_log_loss_score_binary(&y, &p1, Some(&w)).unwrap();
        let b = d2_log_loss_score(&y, &p2, 2, Some(&w), None).unwrap();
        assert!((a - b).abs() < 1e-12);
    }

    #[test]
    fn labels_define_the_columns() {
        // y never shows class 5: without labels the class set is {1, 3}, a 3-column row is an error.
        let y = [1, 3, 1];
        let probs = [0.6, 0.3, 0.1, 0.2, 0.7, 0.1, 0.5, 0.25, 0.25];
        assert!(matches!(
            log_loss(&y, &probs, 3, None, None, LogLossOptions::default()),
            Err(Error::ShapeMismatch { .. })
        ));
        let l = log_loss(&y, &probs, 3, None, Some(&[5, 3, 1]), LogLossOptions::default()).unwrap();
        assert!(rel(l, -(0.6f64.ln() + 0.7f64.ln() + 0.5f64.ln()) / 3.0) < 1e-15);
        assert!(matches!(
            log_loss(&[1, 4, 1], &probs, 3, None, Some(&[1, 3, 5]), LogLossOptions::default()),
            Err(Error::ClassOutOfRange { row: 1, value: 4, .. })
        ));
    }

    #[test]
    fn typed_errors() {
        let o = LogLossOptions::default();
        assert!(matches!(
            log_loss_binary(&[1, 0], &[0.5, 1.5], None, o),
            Err(Error::InvalidValue { name: "probs", index: Some(1), .. })
        ));
        assert!(matches!(
            log_loss_binary(&[1, 0], &[0.5, f64::NAN], None, o),
            Err(Error::InvalidValue { index: Some(1), .. })
        ));
        assert!(matches!(
            log_loss_binary(&[1, 2], &[0.5, 0.5], None, o),
            Err(Error::ClassOutOfRange { row: 1, .. })
        ));
        assert!(matches!(
            log_loss(&[0, 1], &[0.5; 5], 2, None, None, o),
            Err(Error::ShapeMismatch { name: "probs", .. })
        ));
        assert!(matches!(
            log_loss_binary(&[1, 0], &[0.5, 0.5], Some(&[1.0, -1.0]), o),
            Err(Error::InvalidParameter { name: "weight", index: Some(1), .. })
        ));
        assert!(matches!(log_loss_binary::<f64>(&[], &[], None, o), Err(Error::Empty { .. })));
        assert!(matches!(log_loss_binary(&[1], &[0.5], Some(&[0.0]), o), Err(Error::Empty { .. })));
        assert!(matches!(log_loss(&[1, 1], &[0.5; 4], 2, None, None, o), Err(Error::InvalidOption { .. })));
        // An error leaves the accumulator unchanged.
        let mut acc = LogLoss::<f64>::binary(o).unwrap();
        acc.update_binary(&[1], &[0.5], None).unwrap();
        assert!(acc.update_binary(&[1, 0], &[0.5, 2.0], None).is_err());
        assert_eq!(acc.rows(), 1);
        // Merging different settings is refused.
        let other = LogLoss::<f64>::binary(LogLossOptions::sum()).unwrap();
        assert!(acc.merge(&other).is_err());
        // d2: fewer than two rows is NaN; one class only is an error.
        assert!(d2_log_loss_score_binary(&[1], &[0.5f64], None).unwrap().is_nan());
        // All the weight on one class: the clipped null model still loses −log(1 − ε) per row.
        let d2 = d2_log_loss_score_binary(&[1, 1], &[0.5, 0.7], None).unwrap();
        let null = -2.0 * (1.0 - f64::EPSILON).ln();
        assert!(rel(d2, 1.0 - -(0.5f64.ln() + 0.7f64.ln()) / null) < 1e-12);
    }

    #[test]
    fn bits_and_sum() {
        let (y, p) = ([1, 0, 1], [0.9f64, 0.2, 0.4]);
        let nats = log_loss_binary(&y, &p, None, LogLossOptions::default()).unwrap();
        let bits = log_loss_binary(&y, &p, None, LogLossOptions::default().in_base(Base::Bits)).unwrap();
        let sum = log_loss_binary(&y, &p, None, LogLossOptions::sum()).unwrap();
        assert!(rel(bits, nats / std::f64::consts::LN_2) < 1e-15);
        assert!(rel(sum, 3.0 * nats) < 1e-15);
    }

    #[test]
    fn d2_null_model_is_weighted_class_frequencies() {
        let mut rng = Rng(5);
        let (y, p, w) = data(&mut rng, 60, 4);
        let d2 = d2_log_loss_score(&y, &p, 4, Some(&w), None).unwrap();
        let mut freq = [0.0; 4];
        for (yi, wi) in y.iter().zip(&w) {
            freq[*yi as usize] += wi;
        }
        let total: f64 = w.iter().sum();
        let null: Vec<f64> = (0..60).flat_map(|_| freq.iter().map(|f| f / total)).collect();
        let num = log_loss(&y, &p, 4, Some(&w), None, LogLossOptions::sum()).unwrap();
        let den = log_loss(&y, &null, 4, Some(&w), None, LogLossOptions::sum()).unwrap();
        assert!((d2 - (1.0 - num / den)).abs() < 1e-13);
        // The null model itself scores D² = 0.
        assert!(d2_log_loss_score(&y, &null, 4, Some(&w), None).unwrap().abs() < 1e-13);
    }

    #[test]
    fn shards_merged_equal_one_pass() {
        let mut rng = Rng(2024);
        for trial in 0..20 {
            let c = 2 + trial % 4;
            let n = 50 + rng.below(100);
            let (y, p, w) = data(&mut rng, n, c);
            let classes = Classes::range(c).unwrap();
            let mut whole_l = LogLoss::new(classes.clone(), LogLossOptions::default()).unwrap();
            let mut whole_d = D2LogLoss::new(classes.clone());
            let mut whole_a = Accuracy::new(classes.clone());
            whole_l.update(&y, &p, Some(&w)).unwrap();
            whole_d.update(&y, &p, Some(&w)).unwrap();
            whole_a.update(&y, &p, Some(&w)).unwrap();
            // Random cut points, one accumulator per shard, merged in order.
            let mut cuts: Vec<usize> = (0..rng.below(6)).map(|_| rng.below(n + 1)).collect();
            cuts.extend([0, n]);
            cuts.sort_unstable();
            let mut merged_l = LogLoss::new(classes.clone(), LogLossOptions::default()).unwrap();
            let mut merged_d = D2LogLoss::new(classes.clone());
            let mut merged_a = Accuracy::new(classes.clone());
            for win in cuts.windows(2) {
                let (a, b) = (win[0], win[1]);
                let mut l = LogLoss::new(classes.clone(), LogLossOptions::default()).unwrap();
                let mut d = D2LogLoss::new(classes.clone());
                let mut ac = Accuracy::new(classes.clone());
                l.update(&y[a..b], &p[a * c..b * c], Some(&w[a..b])).unwrap();
                d.update(&y[a..b], &p[a * c..b * c], Some(&w[a..b])).unwrap();
                ac.update(&y[a..b], &p[a * c..b * c], Some(&w[a..b])).unwrap();
                merged_l.merge(&l).unwrap();
                merged_d.merge(&d).unwrap();
                merged_a.merge(&ac).unwrap();
            }
            assert!(rel(merged_l.finish().unwrap(), whole_l.finish().unwrap()) < 1e-12);
            assert!(rel(merged_d.finish().unwrap(), whole_d.finish().unwrap()) < 1e-12);
            assert!(rel(merged_a.finish().unwrap(), whole_a.finish().unwrap()) < 1e-12);
        }
    }

    /// E_{y∼q}[S(p, y)] computed exactly over the classes.
    fn expected(q: &[f64], score: impl Fn(usize) -> f64) -> f64 {
        q.iter().enumerate().map(|(c, qc)| qc * score(c)).sum()
    }

    #[test]
    fn log_score_is_strictly_proper() {
        let mut rng = Rng(77);
        for trial in 0..200 {
            let c = 2 + trial % 5;
            let q = rng.simplex(c, 0.02);
            let at_q = expected(&q, |k| log_score(&q, k));
            // Its expectation is the cross-entropy H(q, p) = H(q) + KL(q ‖ p).
            let info = discrete_information(&q, &q, Base::Nats, Normalization::default()).unwrap();
            assert!(rel(at_q, info.cross_entropy) < 1e-12);
            for _ in 0..5 {
                let p = rng.simplex(c, 0.02);
                let at_p = expected(&q, |k| log_score(&p, k));
                let info = discrete_information(&q, &p, Base::Nats, Normalization::default()).unwrap();
                assert!(rel(at_p, info.cross_entropy) < 1e-12);
                assert!(at_p > at_q, "E_q S(p) = {at_p} <= E_q S(q) = {at_q}");
            }
            // Binary: perturbations of the positive-class probability.
            let pq = q[0];
            let eq = |p: f64| pq * binary_log_score(true, p) + (1.0 - pq) * binary_log_score(false, p);
            for d in [-0.01, 0.01, -0.2, 0.2] {
                let p = (pq + d).clamp(1e-6, 1.0 - 1e-6);
                assert!(eq(p) > eq(pq));
            }
        }
    }

    #[test]
    fn monte_carlo_log_loss_converges_to_cross_entropy() {
        // Sampled rows from q, scored by p: the mean log loss estimates H(q, p).
        let mut rng = Rng(9);
        let (q, p) = (rng.simplex(3, 0.05), rng.simplex(3, 0.05));
        let n = 200_000;
        let y: Vec<i64> = (0..n).map(|_| rng.categorical(&q) as i64).collect();
        let probs: Vec<f64> = (0..n).flat_map(|_| p.iter().copied()).collect();
        let l = log_loss(&y, &probs, 3, None, Some(&[0, 1, 2]), LogLossOptions::default()).unwrap();
        let h = discrete_information(&q, &p, Base::Nats, Normalization::default()).unwrap().cross_entropy;
        assert!((l - h).abs() < 0.02, "{l} vs {h}");
    }

    #[test]
    fn accuracy_is_not_strictly_proper() {
        // q = (0.7, 0.3): any p with the same top label ties with p = q.
        let q = [0.7, 0.3];
        let acc = |p: &[f64]| expected(&q, |k| f64::from(u8::from(top_label(p) == k)));
        assert_eq!(acc(&q), 0.7);
        assert_eq!(acc(&[0.9, 0.1]), acc(&q));
        assert_eq!(acc(&[0.51, 0.49]), acc(&q));
        // ...while the log score separates them.
        let ls = |p: &[f64]| expected(&q, |k| log_score(p, k));
        assert!(ls(&[0.9, 0.1]) > ls(&q));
        // It is still proper: no p does better than q.
        assert!(acc(&[0.2, 0.8]) < acc(&q));
    }

    #[test]
    fn accuracy_values_and_ties() {
        // Ties go to the first column (numpy.argmax).
        let a = accuracy(&[0, 1], &[0.4, 0.4, 0.2, 0.3, 0.3, 0.4], 3, None, Some(&[0, 1, 2])).unwrap();
        assert_eq!(a, 0.5);
        assert_eq!(accuracy_binary(&[0, 1], &[0.5, 0.5], None).unwrap(), 0.5);
        let w = accuracy_binary(&[1, 1], &[0.9, 0.1], Some(&[3.0, 1.0])).unwrap();
        assert_eq!(w, 0.75);
    }

    #[test]
    fn f32_agrees_with_f64() {
        let mut rng = Rng(1);
        let (y, p, w) = data(&mut rng, 100, 3);
        let p32: Vec<f32> = p.iter().map(|&v| v as f32).collect();
        let w32: Vec<f32> = w.iter().map(|&v| v as f32).collect();
        let a = log_loss(&y, &p, 3, Some(&w), Some(&[0, 1, 2]), LogLossOptions::default()).unwrap();
        let b = log_loss(&y, &p32, 3, Some(&w32), Some(&[0, 1, 2]), LogLossOptions::default()).unwrap();
        assert!(rel(f64::from(b), a) < 1e-5);
    }
}
