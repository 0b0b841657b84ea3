//! The Brier score and its Murphy decomposition over probability bins.
//!
//! ```text
//! Brier (one row)   B(p, y) = Σ_c (1[y = c] − p_c)²          (multiclass: summed over classes)
//! binary            B(p, y) = (y − p)²                       (= ½ · the two-column sum)
//! score             BS = Σᵢ wᵢ B(pᵢ, yᵢ) / Σᵢ wᵢ
//! expectation       E_{y∼q}[B(p, y)] = Σ_c (p_c − q_c)² + (1 − Σ_c q_c²)   → strictly proper
//! ```
//!
//! The Brier score is a proper scoring rule but not a log-likelihood: it is the squared error of
//! the one-hot outcome, the score of the quadratic (Gaussian-like) loss on the probability
//! simplex, and it stays bounded where the log score is infinite.
//!
//! # Semantics: scikit-learn 1.9 `brier_score_loss`
//!
//! The multiclass score sums the squared errors over the classes without halving (scikit-learn's
//! `scale_by_half=False`, its default for three or more classes); with `scale_by_half="auto"`
//! scikit-learn halves two-column inputs, so that a binary score is (y − p)². [`BrierScale`]
//! chooses between these. Classes, weights and validation are those of the
//! [log loss](crate::score::classification): probabilities in [0, 1], labels in the class set,
//! rows taken as given (no renormalisation, no clipping).
//!
//! # Murphy decomposition
//!
//! Predictions of each class column are grouped into `n_bins` equal-width bins of [0, 1]
//! (bin k = [k/n, (k+1)/n), the last bin closed: p = 1 falls in bin n − 1). With, per column and
//! bin b, the weight W_b, the mean prediction p̄_b, the observed frequency ō_b, the within-bin
//! variance of the predictions var_b(p) and their covariance with the outcome cov_b(p, y), and
//! ō the overall frequency of the column's class:
//!
//! ```text
//! BS = REL − RES + UNC + WBV − 2·WBC                                (exact, per column, summed)
//! REL = Σ_b (W_b/W) (p̄_b − ō_b)²       reliability (calibration error; lower is better)
//! RES = Σ_b (W_b/W) (ō_b − ō)²         resolution (higher is better)
//! UNC = ō (1 − ō)                      uncertainty of the outcome (the model cannot change it)
//! WBV = Σ_b (W_b/W) var_b(p)           within-bin variance of the predictions
//! WBC = Σ_b (W_b/W) cov_b(p, y)        within-bin covariance of prediction and outcome
//! ```
//!
//! The identity follows from writing pᵢ − yᵢ = (pᵢ − p̄_b) + (p̄_b − ō_b) + (ō_b − yᵢ) in each bin
//! and the law of total variance ō(1 − ō) = Σ_b (W_b/W) ō_b(1 − ō_b) + RES. When the predictions
//! are constant within every bin the residual WBV − 2·WBC is 0 and BS = REL − RES + UNC is
//! Murphy's (1973) decomposition; otherwise the residual is the within-bin term of Stephenson,
//! Coelho & Jolliffe (2008), reported so that the pieces always add up.
//!
//! Reference: `sklearn.metrics.brier_score_loss`; Murphy (1973), J. Appl. Meteor. 12;
//! Stephenson et al. (2008), Weather and Forecasting 23.

use super::Accumulator;
use super::classification::{
    Classes, add_rows, require_two, resolve_classes, validate_rows, weight_at, weighted_mean,
};
use crate::error::{Error, Result};
use crate::num::Real;

/// How the summed squared errors of a row are scaled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BrierScale {
    /// scikit-learn's `scale_by_half="auto"`: halve with fewer than three classes, so a binary
    /// score is (y − p)², a multiclass one the full sum.
    #[default]
    Auto,
    /// Always halve (`scale_by_half=True`).
    Half,
    /// Never halve (`scale_by_half=False`): Σ_c (1[y = c] − p_c)², 2(y − p)² for two classes.
    Full,
}

/// Streaming Brier score.
///
/// ```text
/// BS = s · Σᵢ wᵢ Σ_c (1[yᵢ = c] − pᵢ,c)² / Σᵢ wᵢ,    s = ½ or 1 by the BrierScale
/// ```
///
/// ```
/// use surprisal::score::{Accumulator, BrierScale, BrierScore, Classes};
/// let mut acc = BrierScore::<f64>::new(Classes::range(3).unwrap(), BrierScale::Auto);
/// acc.update(&[0, 2], &[0.7, 0.2, 0.1, 0.2, 0.2, 0.6], None).unwrap();
/// // ((0.3² + 0.2² + 0.1²) + (0.2² + 0.2² + 0.4²)) / 2
/// assert!((acc.finish().unwrap() - 0.19).abs() < 1e-15);
/// ```
#[derive(Clone, Debug)]
pub struct BrierScore<F> {
    classes: Classes,
    scale: BrierScale,
    sum: F,
    weight: F,
    rows: usize,
}

impl<F: Real> BrierScore<F> {
    /// An empty accumulator over `classes`.
    pub fn new(classes: Classes, scale: BrierScale) -> Self {
        Self { classes, scale, sum: F::zero(), weight: F::zero(), rows: 0 }
    }

    /// An empty accumulator over {0, 1} with the binary scale (y − p)².
    pub fn binary() -> Self {
        Self::new(Classes::binary(), BrierScale::Auto)
    }

    /// Adds rows of multiclass probabilities (`[y.len(), n_classes]` row-major). On error nothing
    /// is added.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`], [`Error::InvalidValue`] (a probability outside [0, 1]),
    /// [`Error::InvalidParameter`] (a weight), [`Error::ClassOutOfRange`].
    pub fn update(&mut self, y: &[i64], probs: &[F], weights: Option<&[F]>) -> Result<()> {
        let c = self.classes.len();
        let score = |i: usize, col| {
            let row = &probs[i * c..(i + 1) * c];
            row.iter()
                .enumerate()
                .map(|(j, &p)| {
                    let d = if j == col { F::one() - p } else { p };
                    d * d
                })
                .sum()
        };
        (self.sum, self.weight) =
            add_rows(&self.classes, y, probs, c, weights, (self.sum, self.weight), score)?;
        self.rows += y.len();
        Ok(())
    }

    /// Adds binary rows, `p[i]` the probability of the larger class (scored as the two columns
    /// (1 − p, p), as scikit-learn).
    ///
    /// # Errors
    /// As [`BrierScore::update`]; [`Error::InvalidOption`] for more than two classes.
    pub fn update_binary(&mut self, y: &[i64], p: &[F], weights: Option<&[F]>) -> Result<()> {
        require_two(&self.classes)?;
        let score = |i: usize, col| {
            let yi = if col == 1 { F::one() } else { F::zero() };
            let (d0, d1) = ((F::one() - yi) - (F::one() - p[i]), yi - p[i]);
            d0 * d0 + d1 * d1
        };
        (self.sum, self.weight) = add_rows(&self.classes, y, p, 1, weights, (self.sum, self.weight), score)?;
        self.rows += y.len();
        Ok(())
    }
}

impl<F: Real> Accumulator for BrierScore<F> {
    type Output = F;

    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.classes != other.classes || self.scale != other.scale {
            return Err(Error::InvalidOption {
                name: "brier_score",
                value: "different classes or scale".into(),
                reason: "only accumulators built with the same settings can be merged",
            });
        }
        self.sum = self.sum + other.sum;
        self.weight = self.weight + other.weight;
        self.rows += other.rows;
        Ok(())
    }

    fn finish(&self) -> Result<F> {
        let s = weighted_mean(self.sum, self.weight, self.rows)?;
        let half = match self.scale {
            BrierScale::Auto => self.classes.len() < 3,
            BrierScale::Half => true,
            BrierScale::Full => false,
        };
        Ok(if half { s * F::lit(0.5) } else { s })
    }
}

/// Brier score of multiclass probabilities (`sklearn.metrics.brier_score_loss`); class set and
/// layout as [`crate::score::log_loss`].
///
/// # Errors
/// As [`crate::score::log_loss`].
///
/// ```
/// use surprisal::score::{brier_score, BrierScale};
/// let probs = [0.7f64, 0.2, 0.1, 0.2, 0.2, 0.6, 0.1, 0.8, 0.1];
/// let b = brier_score(&[0, 2, 1], &probs, 3, None, None, BrierScale::Auto).unwrap();
/// // (0.14 + 0.24 + 0.06) / 3
/// assert!((b - 0.44 / 3.0).abs() < 1e-15);
/// ```
pub fn brier_score<F: Real>(
    y: &[i64],
    probs: &[F],
    n_classes: usize,
    weights: Option<&[F]>,
    labels: Option<&[i64]>,
    scale: BrierScale,
) -> Result<F> {
    let mut acc = BrierScore::new(resolve_classes(y, labels, n_classes)?, scale);
    acc.update(y, probs, weights)?;
    acc.finish()
}

/// Brier score (y − p)² of binary predictions `p[i]` = P(yᵢ = 1), labels in {0, 1}.
///
/// # Errors
/// As [`crate::score::log_loss_binary`].
///
/// ```
/// use surprisal::score::brier_score_binary;
/// let b = brier_score_binary(&[1, 0, 1], &[0.9f64, 0.2, 0.4], Some(&[1.0, 2.0, 1.0])).unwrap();
/// // (0.01 + 2·0.04 + 0.36) / 4
/// assert!((b - 0.1125).abs() < 1e-15);
/// ```
pub fn brier_score_binary<F: Real>(y: &[i64], p: &[F], weights: Option<&[F]>) -> Result<F> {
    let mut acc = BrierScore::binary();
    acc.update_binary(y, p, weights)?;
    acc.finish()
}

// ---------------------------------------------------------------------------------------------
// Murphy decomposition.
// ---------------------------------------------------------------------------------------------

/// Weighted moments of one (column, bin) cell, updated and merged without cancellation (West's
/// weighted update, Chan et al.'s pairwise merge).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Cell<F> {
    w: F,
    mean_p: F,
    mean_y: F,
    /// Σ w (p − p̄)².
    m2_p: F,
    /// Σ w (p − p̄)(y − ȳ).
    c_py: F,
}

impl<F: Real> Cell<F> {
    #[inline]
    pub(crate) fn push(&mut self, w: F, p: F, y: F) {
        if w <= F::zero() {
            return;
        }
        let wn = self.w + w;
        let dp = p - self.mean_p;
        let r = w / wn;
        self.mean_p = self.mean_p + r * dp;
        self.mean_y = self.mean_y + r * (y - self.mean_y);
        self.m2_p = self.m2_p + w * dp * (p - self.mean_p);
        self.c_py = self.c_py + w * dp * (y - self.mean_y);
        self.w = wn;
    }

    fn merge(&mut self, o: &Self) {
        if o.w <= F::zero() {
            return;
        }
        if self.w <= F::zero() {
            *self = *o;
            return;
        }
        let wn = self.w + o.w;
        let (dp, dy) = (o.mean_p - self.mean_p, o.mean_y - self.mean_y);
        let r = o.w / wn;
        let cross = self.w * o.w / wn;
        self.mean_p = self.mean_p + r * dp;
        self.mean_y = self.mean_y + r * dy;
        self.m2_p = self.m2_p + o.m2_p + dp * dp * cross;
        self.c_py = self.c_py + o.c_py + dp * dy * cross;
        self.w = wn;
    }
}

/// The pieces of the Brier score over probability bins (see the [module docs](self)):
/// `brier = reliability − resolution + uncertainty + within_bin_variance − 2·within_bin_covariance`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MurphyDecomposition<F> {
    /// The Brier score itself (binary: (y − p)²; multiclass: the sum over classes), computed
    /// directly from the rows.
    pub brier: F,
    /// REL = Σ_b (W_b/W)(p̄_b − ō_b)².
    pub reliability: F,
    /// RES = Σ_b (W_b/W)(ō_b − ō)².
    pub resolution: F,
    /// UNC = ō(1 − ō) (summed over class columns).
    pub uncertainty: F,
    /// WBV = Σ_b (W_b/W) var_b(p).
    pub within_bin_variance: F,
    /// WBC = Σ_b (W_b/W) cov_b(p, y).
    pub within_bin_covariance: F,
}

impl<F: Real> MurphyDecomposition<F> {
    /// The within-bin term WBV − 2·WBC = BS − (REL − RES + UNC); 0 when predictions are constant
    /// within bins.
    pub fn residual(&self) -> F {
        self.within_bin_variance - F::lit(2.0) * self.within_bin_covariance
    }
}

/// Streaming Murphy decomposition of the Brier score over `n_bins` equal-width probability bins,
/// per class column (one column, P(y = 1), for binary rows).
///
/// ```
/// use surprisal::score::{Accumulator, BrierDecomposition};
/// let mut acc = BrierDecomposition::<f64>::binary(10).unwrap();
/// // Two bins, constant predictions in each: the residual term is 0.
/// acc.update_binary(&[1, 0, 0, 1, 1, 0], &[0.25, 0.25, 0.25, 0.75, 0.75, 0.75], None).unwrap();
/// let d = acc.finish().unwrap();
/// // REL = (0.25 − 1/3)², RES = (1/3 − 1/2)², UNC = 1/4
/// assert!((d.reliability - 1.0 / 144.0).abs() < 1e-15);
/// assert!((d.resolution - 1.0 / 36.0).abs() < 1e-15);
/// assert!((d.brier - (d.reliability - d.resolution + d.uncertainty)).abs() < 1e-15);
/// ```
#[derive(Clone, Debug)]
pub struct BrierDecomposition<F> {
    classes: Classes,
    binary: bool,
    pub(crate) n_bins: usize,
    pub(crate) cells: Vec<Cell<F>>,
    pub(crate) sum: F,
    pub(crate) weight: F,
    pub(crate) rows: usize,
}

impl<F: Real> BrierDecomposition<F> {
    /// Binary rows (labels {0, 1}, one column P(y = 1)).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `n_bins == 0`.
    pub fn binary(n_bins: usize) -> Result<Self> {
        Self::build(Classes::binary(), true, n_bins)
    }

    /// Multiclass rows over `classes`, one decomposition per class column, summed.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `n_bins == 0`.
    pub fn new(classes: Classes, n_bins: usize) -> Result<Self> {
        Self::build(classes, false, n_bins)
    }

    fn build(classes: Classes, binary: bool, n_bins: usize) -> Result<Self> {
        if n_bins == 0 {
            return Err(Error::param("n_bins", 0.0, "must be >= 1"));
        }
        let cols = if binary { 1 } else { classes.len() };
        Ok(Self {
            classes,
            binary,
            n_bins,
            cells: vec![Cell::default(); cols * n_bins],
            sum: F::zero(),
            weight: F::zero(),
            rows: 0,
        })
    }

    #[inline]
    pub(crate) fn bin(&self, p: F) -> usize {
        let k = (p * F::lit(self.n_bins as f64)).floor().to_f64_lossy() as usize;
        k.min(self.n_bins - 1)
    }

    fn wrong_kind(&self) -> Error {
        Error::InvalidOption {
            name: "rows",
            value: if self.binary { "multiclass".into() } else { "binary".into() },
            reason: "the decomposition was built for the other kind of rows",
        }
    }

    /// Adds binary rows, `p[i]` = P(yᵢ = 1).
    ///
    /// # Errors
    /// As [`BrierScore::update_binary`]; [`Error::InvalidOption`] for a multiclass accumulator.
    pub fn update_binary(&mut self, y: &[i64], p: &[F], weights: Option<&[F]>) -> Result<()> {
        if !self.binary {
            return Err(self.wrong_kind());
        }
        let cols = validate_rows(&self.classes, y, p, 1, weights)?;
        for (i, &col) in cols.iter().enumerate() {
            let yi = if col == 1 { F::one() } else { F::zero() };
            let w = weight_at(weights, i);
            let d = p[i] - yi;
            self.sum = self.sum + w * d * d;
            self.weight = self.weight + w;
            let b = self.bin(p[i]);
            self.cells[b].push(w, p[i], yi);
        }
        self.rows += y.len();
        Ok(())
    }

    /// Adds multiclass rows (`[y.len(), n_classes]` row-major).
    ///
    /// # Errors
    /// As [`BrierScore::update`]; [`Error::InvalidOption`] for a binary accumulator.
    pub fn update(&mut self, y: &[i64], probs: &[F], weights: Option<&[F]>) -> Result<()> {
        if self.binary {
            return Err(self.wrong_kind());
        }
        let c = self.classes.len();
        let cols = validate_rows(&self.classes, y, probs, c, weights)?;
        for (i, &col) in cols.iter().enumerate() {
            let w = weight_at(weights, i);
            for j in 0..c {
                let p = probs[i * c + j];
                let yj = if j == col { F::one() } else { F::zero() };
                let d = p - yj;
                self.sum = self.sum + w * d * d;
                let b = self.bin(p);
                self.cells[j * self.n_bins + b].push(w, p, yj);
            }
            self.weight = self.weight + w;
        }
        self.rows += y.len();
        Ok(())
    }
}

impl<F: Real> Accumulator for BrierDecomposition<F> {
    type Output = MurphyDecomposition<F>;

    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.classes != other.classes || self.binary != other.binary || self.n_bins != other.n_bins {
            return Err(Error::InvalidOption {
                name: "brier_decomposition",
                value: "different classes or bins".into(),
                reason: "only accumulators built with the same settings can be merged",
            });
        }
        for (a, b) in self.cells.iter_mut().zip(&other.cells) {
            a.merge(b);
        }
        self.sum = self.sum + other.sum;
        self.weight = self.weight + other.weight;
        self.rows += other.rows;
        Ok(())
    }

    fn finish(&self) -> Result<MurphyDecomposition<F>> {
        let brier = weighted_mean(self.sum, self.weight, self.rows)?;
        let total = self.weight;
        let z = F::zero();
        let mut out = MurphyDecomposition {
            brier,
            reliability: z,
            resolution: z,
            uncertainty: z,
            within_bin_variance: z,
            within_bin_covariance: z,
        };
        for column in self.cells.chunks(self.n_bins) {
            let o: F = column.iter().map(|c| c.w * c.mean_y).sum::<F>() / total;
            for c in column.iter().filter(|c| c.w > z) {
                let f = c.w / total;
                let gap = c.mean_p - c.mean_y;
                let spread = c.mean_y - o;
                out.reliability = out.reliability + f * gap * gap;
                out.resolution = out.resolution + f * spread * spread;
                out.within_bin_variance = out.within_bin_variance + c.m2_p / total;
                out.within_bin_covariance = out.within_bin_covariance + c.c_py / total;
            }
            out.uncertainty = out.uncertainty + o * (F::one() - o);
        }
        Ok(out)
    }
}

/// Murphy decomposition of the Brier score of binary predictions over `n_bins` bins.
///
/// # Errors
/// As [`brier_score_binary`]; [`Error::InvalidParameter`] for `n_bins == 0`.
pub fn brier_decomposition_binary<F: Real>(
    y: &[i64],
    p: &[F],
    weights: Option<&[F]>,
    n_bins: usize,
) -> Result<MurphyDecomposition<F>> {
    let mut acc = BrierDecomposition::binary(n_bins)?;
    acc.update_binary(y, p, weights)?;
    acc.finish()
}

/// Murphy decomposition of the multiclass Brier score (summed over classes, one-vs-rest per
/// class column) over `n_bins` bins; class set and layout as [`brier_score`].
///
/// # Errors
/// As [`brier_score`]; [`Error::InvalidParameter`] for `n_bins == 0`.
pub fn brier_decomposition<F: Real>(
    y: &[i64],
    probs: &[F],
    n_classes: usize,
    weights: Option<&[F]>,
    labels: Option<&[i64]>,
    n_bins: usize,
) -> Result<MurphyDecomposition<F>> {
    let mut acc = BrierDecomposition::new(resolve_classes(y, labels, n_classes)?, n_bins)?;
    acc.update(y, probs, weights)?;
    acc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Rng;

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(1e-300)
    }

    fn identity_gap(d: &MurphyDecomposition<f64>) -> f64 {
        (d.brier - (d.reliability - d.resolution + d.uncertainty + d.residual())).abs()
    }

    fn binary_data(rng: &mut Rng, n: usize) -> (Vec<i64>, Vec<f64>, Vec<f64>) {
        let mut y = vec![];
        let mut p = vec![];
        let mut w = vec![];
        for _ in 0..n {
            let pi = rng.uniform();
            // Outcomes from a miscalibrated truth, so that REL > 0.
            y.push(i64::from(rng.uniform() < pi * pi));
            p.push(pi);
            w.push(0.1 + rng.uniform());
        }
        (y, p, w)
    }

    #[test]
    fn decomposition_adds_up_exactly() {
        let mut rng = Rng(8);
        for n_bins in [1, 3, 10, 25] {
            let (y, p, w) = binary_data(&mut rng, 300);
            let d = brier_decomposition_binary(&y, &p, Some(&w), n_bins).unwrap();
            assert!(identity_gap(&d) < 1e-13, "{d:?}");
            assert!(rel(d.brier, brier_score_binary(&y, &p, Some(&w)).unwrap()) < 1e-13);
            assert!(d.reliability >= 0.0 && d.resolution >= 0.0 && d.within_bin_variance >= 0.0);
            // The residual is not zero when predictions vary within bins.
            assert!(d.residual().abs() > 1e-6);
        }
        for c in [3, 5] {
            let mut y = vec![];
            let mut probs = vec![];
            for _ in 0..200 {
                let row = rng.simplex(c, 0.0);
                y.push(rng.categorical(&row) as i64);
                probs.extend(row);
            }
            let labels: Vec<i64> = (0..c as i64).collect();
            let d = brier_decomposition(&y, &probs, c, None, Some(&labels), 10).unwrap();
            assert!(identity_gap(&d) < 1e-13);
            let b = brier_score(&y, &probs, c, None, Some(&labels), BrierScale::Full).unwrap();
            assert!(rel(d.brier, b) < 1e-13);
        }
    }

    #[test]
    fn constant_within_bins_gives_murphy_exactly() {
        let mut rng = Rng(21);
        let n_bins = 5;
        // Predictions at bin centres only.
        let (mut y, mut p, mut w) = (vec![], vec![], vec![]);
        for _ in 0..500 {
            let k = rng.below(n_bins);
            let pi = (k as f64 + 0.5) / n_bins as f64;
            y.push(i64::from(rng.uniform() < 0.2 + 0.5 * pi));
            p.push(pi);
            w.push(0.5 + rng.uniform());
        }
        let d = brier_decomposition_binary(&y, &p, Some(&w), n_bins).unwrap();
        assert!(d.within_bin_variance.abs() < 1e-15 && d.within_bin_covariance.abs() < 1e-15);
        assert!((d.brier - (d.reliability - d.resolution + d.uncertainty)).abs() < 1e-14);
        // Uncertainty is the Bernoulli variance of the weighted base rate.
        let o = y.iter().zip(&w).map(|(yi, wi)| *yi as f64 * wi).sum::<f64>() / w.iter().sum::<f64>();
        assert!(rel(d.uncertainty, o * (1.0 - o)) < 1e-13);
    }

    #[test]
    fn binning_edges() {
        let acc = BrierDecomposition::<f64>::binary(10).unwrap();
        assert_eq!(acc.bin(0.0), 0);
        assert_eq!(acc.bin(0.1), 1); // left-closed
        assert_eq!(acc.bin(0.0999), 0);
        assert_eq!(acc.bin(1.0), 9); // last bin closed
        assert!(BrierDecomposition::<f64>::binary(0).is_err());
    }

    #[test]
    fn shards_merged_equal_one_pass() {
        let mut rng = Rng(99);
        for _ in 0..20 {
            let n = 40 + rng.below(200);
            let (y, p, w) = binary_data(&mut rng, n);
            let mut whole_b = BrierScore::binary();
            let mut whole_d = BrierDecomposition::binary(7).unwrap();
            whole_b.update_binary(&y, &p, Some(&w)).unwrap();
            whole_d.update_binary(&y, &p, Some(&w)).unwrap();
            let mut cuts: Vec<usize> = (0..rng.below(6)).map(|_| rng.below(n + 1)).collect();
            cuts.extend([0, n]);
            cuts.sort_unstable();
            let mut mb = BrierScore::binary();
            let mut md = BrierDecomposition::binary(7).unwrap();
            for win in cuts.windows(2) {
                let (a, b) = (win[0], win[1]);
                let mut sb = BrierScore::binary();
                let mut sd = BrierDecomposition::binary(7).unwrap();
                sb.update_binary(&y[a..b], &p[a..b], Some(&w[a..b])).unwrap();
                sd.update_binary(&y[a..b], &p[a..b], Some(&w[a..b])).unwrap();
                mb.merge(&sb).unwrap();
                md.merge(&sd).unwrap();
            }
            assert!(rel(mb.finish().unwrap(), whole_b.finish().unwrap()) < 1e-12);
            let (x, z) = (md.finish().unwrap(), whole_d.finish().unwrap());
            for (a, b) in [
                (x.brier, z.brier),
                (x.reliability, z.reliability),
                (x.resolution, z.resolution),
                (x.uncertainty, z.uncertainty),
                (x.within_bin_variance, z.within_bin_variance),
                (x.within_bin_covariance, z.within_bin_covariance),
            ] {
                assert!((a - b).abs() <= 1e-12 * b.abs().max(1e-3), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn multiclass_shards_merged_equal_one_pass() {
        let mut rng = Rng(314);
        for trial in 0..10 {
            let c = 3 + trial % 3;
            let n = 30 + rng.below(100);
            let (mut y, mut probs, mut w) = (vec![], vec![], vec![]);
            for _ in 0..n {
                let row = rng.simplex(c, 0.0);
                y.push(rng.categorical(&row) as i64);
                probs.extend(row);
                w.push(0.2 + rng.uniform());
            }
            let classes = Classes::range(c).unwrap();
            let mut whole_b = BrierScore::new(classes.clone(), BrierScale::Auto);
            let mut whole_d = BrierDecomposition::new(classes.clone(), 6).unwrap();
            whole_b.update(&y, &probs, Some(&w)).unwrap();
            whole_d.update(&y, &probs, Some(&w)).unwrap();
            let cut = rng.below(n + 1);
            let mut mb = BrierScore::new(classes.clone(), BrierScale::Auto);
            let mut md = BrierDecomposition::new(classes.clone(), 6).unwrap();
            for (a, b) in [(0, cut), (cut, n)] {
                let mut sb = BrierScore::new(classes.clone(), BrierScale::Auto);
                let mut sd = BrierDecomposition::new(classes.clone(), 6).unwrap();
                sb.update(&y[a..b], &probs[a * c..b * c], Some(&w[a..b])).unwrap();
                sd.update(&y[a..b], &probs[a * c..b * c], Some(&w[a..b])).unwrap();
                mb.merge(&sb).unwrap();
                md.merge(&sd).unwrap();
            }
            assert!(rel(mb.finish().unwrap(), whole_b.finish().unwrap()) < 1e-12);
            let (x, z) = (md.finish().unwrap(), whole_d.finish().unwrap());
            assert!(rel(x.brier, z.brier) < 1e-12 && rel(x.reliability, z.reliability) < 1e-12);
            assert!(rel(x.resolution, z.resolution) < 1e-12 && rel(x.uncertainty, z.uncertainty) < 1e-12);
            assert!(identity_gap(&x) < 1e-13);
        }
    }

    #[test]
    fn brier_is_strictly_proper() {
        let mut rng = Rng(4242);
        for trial in 0..200 {
            let c = 2 + trial % 5;
            let q = rng.simplex(c, 0.0);
            // E_{y∼q}[B(p, y)] exactly, through the accumulator's row score.
            let expect = |p: &[f64]| -> f64 {
                (0..c)
                    .map(|k| {
                        let mut acc = BrierScore::new(Classes::range(c).unwrap(), BrierScale::Full);
                        acc.update(&[k as i64], p, None).unwrap();
                        q[k] * acc.finish().unwrap()
                    })
                    .sum()
            };
            let at_q = expect(&q);
            // Closed form at p = q: 1 − Σ q².
            assert!(rel(at_q, 1.0 - q.iter().map(|v| v * v).sum::<f64>()) < 1e-12);
            for _ in 0..5 {
                let p = rng.simplex(c, 0.0);
                let gap: f64 = p.iter().zip(&q).map(|(a, b)| (a - b) * (a - b)).sum();
                let at_p = expect(&p);
                assert!(at_p > at_q);
                assert!((at_p - at_q - gap).abs() < 1e-12);
            }
            // Binary.
            let qb = q[0];
            let eb = |p: f64| {
                qb * brier_score_binary(&[1], &[p], None).unwrap()
                    + (1.0 - qb) * brier_score_binary(&[0], &[p], None).unwrap()
            };
            for d in [-0.05, 0.05, -0.3, 0.3] {
                let p = (qb + d).clamp(0.0, 1.0);
                assert!(eb(p) > eb(qb));
            }
        }
    }

    #[test]
    fn scales_and_binary_equivalence() {
        let (y, p) = ([1, 0, 1], [0.9f64, 0.2, 0.4]);
        let two: Vec<f64> = p.iter().flat_map(|&v| [1.0 - v, v]).collect();
        let b = brier_score_binary(&y, &p, None).unwrap();
        let auto = brier_score(&y, &two, 2, None, None, BrierScale::Auto).unwrap();
        let full = brier_score(&y, &two, 2, None, None, BrierScale::Full).unwrap();
        assert!(rel(auto, b) < 1e-15 && rel(full, 2.0 * b) < 1e-15);
        let mut half = BrierScore::new(Classes::range(3).unwrap(), BrierScale::Half);
        half.update(&[0], &[0.5, 0.5, 0.0], None).unwrap();
        assert!(rel(half.finish().unwrap(), 0.25) < 1e-15);
    }

    #[test]
    fn typed_errors() {
        assert!(matches!(
            brier_score_binary(&[1, 0], &[0.5, -0.1], None),
            Err(Error::InvalidValue { name: "probs", index: Some(1), .. })
        ));
        assert!(matches!(
            brier_score(&[0, 1, 2], &[0.5; 6], 2, None, None, BrierScale::Auto),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            brier_score_binary(&[3], &[0.5], None),
            Err(Error::ClassOutOfRange { row: 0, value: 3, .. })
        ));
        let mut d = BrierDecomposition::<f64>::binary(4).unwrap();
        assert!(d.update(&[0], &[0.5, 0.5], None).is_err());
        assert!(d.finish().is_err());
    }

    #[test]
    fn f32_agrees_with_f64() {
        let mut rng = Rng(6);
        let (y, p, w) = binary_data(&mut rng, 100);
        let p32: Vec<f32> = p.iter().map(|&v| v as f32).collect();
        let w32: Vec<f32> = w.iter().map(|&v| v as f32).collect();
        let a = brier_score_binary(&y, &p, Some(&w)).unwrap();
        let b = brier_score_binary(&y, &p32, Some(&w32)).unwrap();
        assert!(rel(f64::from(b), a) < 1e-5);
    }
}
