//! Isotonic regression: the monotone least-squares fit, which for 0/1 labels is the monotone
//! maximum-likelihood estimate of a Bernoulli mean.
//!
//! ```text
//! fit       f̂ = argmin Σᵢ wᵢ·(yᵢ − f(xᵢ))²   over non-decreasing f
//! Bernoulli for yᵢ ∈ {0, 1}, f̂ also maximises Σᵢ wᵢ·[yᵢ·log f(xᵢ) + (1 − yᵢ)·log(1 − f(xᵢ))]
//!           over non-decreasing f with values in [0, 1] (Ayer et al. 1955; Brunk 1955):
//!           the weighted means of the PAVA blocks are the block-wise Bernoulli MLEs
//! solver    pool adjacent violators (PAVA): scan the points by x, merge a block into its
//!           predecessor while the predecessor's weighted mean is larger, O(N) after sorting
//! apply     linear interpolation between the fitted thresholds, inputs clipped to [x_min, x_max]
//! ```
//!
//! **scikit-learn** (`IsotonicRegression(out_of_bounds="clip")`, the `method="isotonic"`
//! calibrator of `CalibratedClassifierCV`, 1.9) semantics, followed exactly:
//! - rows of weight 0 are dropped; the rest are sorted by x, then by y;
//! - **ties** in x are pooled before the fit into one point at the first x of the run, with the
//!   weighted mean of the y's and the summed weight; "tied" means within the type's *resolution*
//!   of the run's first x, absolutely (`np.finfo(dtype).resolution`: 10⁻¹⁵ in f64, 10⁻⁶ in f32),
//!   so a tie is a true tie only for |x| of order 1 (as for probabilities);
//! - the fitted step function is kept at the first and last x of every constant run (points
//!   inside a run are redundant for interpolation); `apply` interpolates linearly between these
//!   thresholds, and clips inputs to the fitted range (constant extrapolation); one distinct x
//!   gives a constant map;
//! - NaN inputs give NaN.
//!
//! Only the increasing direction is fitted (a decreasing fit is the increasing fit of −x).

use super::temperature::RecalibrationReport;
use crate::error::{Error, Result, check};
use crate::num::{Real, xlog1py, xlogy};

/// A fitted isotonic map x ↦ f̂(x).
///
/// # Example
/// ```
/// use surprisal::calibration::IsotonicRegression;
/// let x = [1.0f64, 2.0, 3.0, 4.0, 5.0];
/// let y = [1.0, 3.0, 2.0, 4.0, 3.5];
/// let fit = IsotonicRegression::fit(&x, &y, None).unwrap();
/// // By hand: (3, 2) pool to 2.5, (4, 3.5) pool to 3.75.
/// assert_eq!(fit.apply(&[1.0, 2.0, 3.0, 4.0, 5.0]), [1.0, 2.5, 2.5, 3.75, 3.75]);
/// // Between thresholds 1 → 2: linear; outside the range: clipped.
/// assert_eq!(fit.apply(&[1.5, 0.0, 9.0]), [1.75, 1.0, 3.75]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct IsotonicRegression<F> {
    x: Vec<F>,
    y: Vec<F>,
    report: Option<RecalibrationReport<F>>,
}

impl<F: Real> IsotonicRegression<F> {
    /// Fits the non-decreasing least-squares map of `y` on `x` (any finite `y`).
    ///
    /// Shapes: `x`, `y` and `weight` (optional, ≥ 0) `[N]`.
    ///
    /// # Errors
    /// [`Error::Empty`] for N = 0 or all weights 0; [`Error::ShapeMismatch`] for inputs of other
    /// lengths; [`Error::InvalidValue`] for a non-finite `x` or `y` (with its index);
    /// [`Error::InvalidParameter`] for a negative or non-finite weight.
    pub fn fit(x: &[F], y: &[F], weight: Option<&[F]>) -> Result<Self> {
        let n = x.len();
        check::same_len("y", n, y.len())?;
        check::weights(weight, n)?;
        finite("x", x)?;
        finite("y", y)?;
        // Drop zero weights, sort by (x, y) (numpy's lexsort((y, x))).
        let mut rows: Vec<(F, F, F)> = (0..n)
            .map(|i| (x[i], y[i], weight.map_or(F::one(), |w| w[i])))
            .filter(|r| r.2 > F::zero())
            .collect();
        if rows.is_empty() {
            return Err(Error::Empty { name: if n == 0 { "x" } else { "weight (all zero)" } });
        }
        rows.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap().then(a.1.partial_cmp(&b.1).unwrap()));
        let (ux, uy, uw) = make_unique(&rows);
        let fitted = pava(&uy, &uw);
        // Keep the first and last point of each constant run.
        let m = ux.len();
        let keep =
            |i: usize| i == 0 || i + 1 == m || fitted[i] != fitted[i - 1] || fitted[i] != fitted[i + 1];
        let (tx, ty) = (0..m).filter(|&i| keep(i)).map(|i| (ux[i], fitted[i])).unzip();
        Ok(IsotonicRegression { x: tx, y: ty, report: None })
    }

    /// Fits an isotonic calibration map of 0/1 `labels` on `scores` (the Bernoulli monotone MLE),
    /// with a [`RecalibrationReport`] when the scores are probabilities (all in [0, 1]): the
    /// labels' mean NLL (exact: a probability of 0 on an observed label gives +inf), Brier score
    /// and ECE under the scores themselves and under the fitted map.
    ///
    /// # Errors
    /// As [`IsotonicRegression::fit`], and [`Error::ClassOutOfRange`] for a label not 0 or 1.
    pub fn fit_calibration(scores: &[F], labels: &[i64], weight: Option<&[F]>) -> Result<Self> {
        check::same_len("labels", scores.len(), labels.len())?;
        if let Some(i) = labels.iter().position(|&y| y != 0 && y != 1) {
            return Err(Error::ClassOutOfRange { row: i, value: labels[i], n_classes: 2 });
        }
        let y: Vec<F> = labels.iter().map(|&l| F::lit(l as f64)).collect();
        let mut fit = Self::fit(scores, &y, weight)?;
        if scores.iter().all(|&s| s >= F::zero() && s <= F::one()) {
            let after = fit.apply(scores);
            let nll = (bernoulli_nll(scores, &y, weight), bernoulli_nll(&after, &y, weight));
            fit.report = Some(RecalibrationReport::binary(nll, scores, &after, labels, weight)?);
        }
        Ok(fit)
    }

    /// The thresholds (x, f̂(x)) the map interpolates between, x strictly increasing.
    pub fn thresholds(&self) -> (&[F], &[F]) {
        (&self.x, &self.y)
    }

    /// The report of [`IsotonicRegression::fit_calibration`] on probability scores; `None`
    /// otherwise.
    pub fn report(&self) -> Option<RecalibrationReport<F>> {
        self.report
    }

    /// f̂ at each input: linear interpolation between the thresholds, inputs clipped to the fitted
    /// range; NaN gives NaN.
    pub fn apply(&self, x: &[F]) -> Vec<F> {
        x.iter().map(|&v| self.at(v)).collect()
    }

    fn at(&self, v: F) -> F {
        let (xs, ys) = (&self.x, &self.y);
        let last = xs.len() - 1;
        if v.is_nan() {
            return v;
        }
        if v <= xs[0] {
            return ys[0];
        }
        if v >= xs[last] {
            return ys[last];
        }
        // First threshold > v; v lies in [xs[k − 1], xs[k]).
        let k = xs.partition_point(|&t| t <= v);
        let (x0, x1, y0, y1) = (xs[k - 1], xs[k], ys[k - 1], ys[k]);
        y0 + (v - x0) * (y1 - y0) / (x1 - x0)
    }
}

/// Weighted pool-adjacent-violators: the non-decreasing sequence f minimising Σ wᵢ·(yᵢ − fᵢ)²
/// (`y` in the order of the covariate; weights > 0).
///
/// # Example
/// ```
/// use surprisal::calibration::isotonic::pava;
/// // 3 and 1 (weights 1, 3) pool to (3 + 3)/4 = 1.5.
/// assert_eq!(pava(&[3.0f64, 1.0, 2.0], &[1.0, 3.0, 1.0]), [1.5, 1.5, 2.0]);
/// ```
pub fn pava<F: Real>(y: &[F], w: &[F]) -> Vec<F> {
    // Blocks as (weighted mean, total weight, length); a new point merges backwards while the
    // previous block's mean exceeds the current one.
    let mut blocks: Vec<(F, F, usize)> = Vec::with_capacity(y.len());
    for (&yi, &wi) in y.iter().zip(w) {
        let mut cur = (yi, wi, 1usize);
        while let Some(&(m, wt, len)) = blocks.last() {
            if m <= cur.0 {
                break;
            }
            blocks.pop();
            let tot = wt + cur.1;
            cur = ((m * wt + cur.0 * cur.1) / tot, tot, len + cur.2);
        }
        blocks.push(cur);
    }
    blocks.iter().flat_map(|&(m, _, len)| std::iter::repeat_n(m, len)).collect()
}

/// scikit-learn's `_make_unique`: pools runs of x within the type's resolution of the run's
/// first x (rows sorted by x, weights > 0).
fn make_unique<F: Real>(rows: &[(F, F, F)]) -> (Vec<F>, Vec<F>, Vec<F>) {
    // np.finfo(dtype).resolution = 10^−⌊−log10 ε⌋: 1e-15 for f64, 1e-6 for f32.
    let resolution = F::lit(10f64.powi(-((-F::epsilon().to_f64_lossy().log10()).floor() as i32)));
    let (mut ux, mut uy, mut uw) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cx, mut sy, mut sw) = (rows[0].0, F::zero(), F::zero());
    for &(x, y, w) in rows {
        if x - cx >= resolution {
            ux.push(cx);
            uy.push(sy / sw);
            uw.push(sw);
            (cx, sy, sw) = (x, y * w, w);
        } else {
            sy = sy + y * w;
            sw = sw + w;
        }
    }
    ux.push(cx);
    uy.push(sy / sw);
    uw.push(sw);
    (ux, uy, uw)
}

fn finite<F: Real>(name: &'static str, v: &[F]) -> Result<()> {
    match v.iter().position(|a| !a.is_finite()) {
        None => Ok(()),
        Some(i) => Err(Error::InvalidValue {
            name,
            value: v[i].to_f64_lossy(),
            index: Some(i),
            reason: "must be finite",
        }),
    }
}

/// Weighted mean Bernoulli NLL −[y·log p + (1 − y)·log(1 − p)] with 0·log 0 = 0.
fn bernoulli_nll<F: Real>(p: &[F], y: &[F], weight: Option<&[F]>) -> F {
    let (mut s, mut wt) = (F::zero(), F::zero());
    for i in 0..p.len() {
        let w = weight.map_or(F::one(), |w| w[i]);
        if w == F::zero() {
            continue;
        }
        s = s - w * (xlogy(y[i], p[i]) + xlog1py(F::one() - y[i], -p[i]));
        wt = wt + w;
    }
    s / wt
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Rng;

    /// The exact minimiser by enumeration: the isotonic fit is constant on contiguous blocks, at
    /// each block's weighted mean; try every partition, keep the monotone one of least error.
    fn brute_force(y: &[f64], w: &[f64]) -> (Vec<f64>, f64) {
        let n = y.len();
        let mut best = (vec![], f64::INFINITY);
        for cuts in 0u32..(1 << (n - 1)) {
            let mut f = vec![0.0; n];
            let mut start = 0;
            let mut prev = f64::NEG_INFINITY;
            let mut ok = true;
            for end in 1..=n {
                if end == n || cuts & (1 << (end - 1)) != 0 {
                    let sw: f64 = w[start..end].iter().sum();
                    let m = (start..end).map(|i| w[i] * y[i]).sum::<f64>() / sw;
                    ok &= m >= prev - 1e-12;
                    prev = m;
                    f[start..end].iter_mut().for_each(|v| *v = m);
                    start = end;
                }
            }
            let sse: f64 = (0..n).map(|i| w[i] * (y[i] - f[i]).powi(2)).sum();
            if ok && sse < best.1 {
                best = (f, sse);
            }
        }
        best
    }

    #[test]
    fn pava_equals_brute_force_on_small_random_inputs() {
        let mut rng = Rng(42);
        for trial in 0..300 {
            let n = 1 + trial % 8;
            let y: Vec<f64> = (0..n).map(|_| (rng.normal() * 4.0).round() / 2.0).collect();
            let w: Vec<f64> = (0..n).map(|_| 0.1 + 2.0 * rng.uniform()).collect();
            let f = pava(&y, &w);
            assert!(f.windows(2).all(|p| p[0] <= p[1]), "not monotone: {f:?}");
            let sse: f64 = (0..n).map(|i| w[i] * (y[i] - f[i]).powi(2)).sum();
            let (g, best) = brute_force(&y, &w);
            assert!((sse - best).abs() <= 1e-12 * best.max(1.0), "y {y:?} w {w:?}: {sse} vs {best}");
            for (a, b) in f.iter().zip(&g) {
                assert!((a - b).abs() <= 1e-12, "y {y:?}: {f:?} vs {g:?}");
            }
            // No monotone perturbation does better.
            for _ in 0..5 {
                let mut h: Vec<f64> = f.iter().map(|v| v + 0.05 * rng.normal()).collect();
                for i in 1..n {
                    h[i] = h[i].max(h[i - 1]);
                }
                let sh: f64 = (0..n).map(|i| w[i] * (y[i] - h[i]).powi(2)).sum();
                assert!(sh >= sse - 1e-12);
            }
        }
    }

    #[test]
    fn matches_recorded_scikit_learn_isotonic() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/isotonic/isotonic_case.json");
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let f = |v: &serde_json::Value| {
            v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect::<Vec<_>>()
        };
        for case in json["cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let w = if case["weights"].is_null() { None } else { Some(f(&case["weights"])) };
            let fit = IsotonicRegression::fit(&f(&case["x"]), &f(&case["y"]), w.as_deref()).unwrap();
            let (tx, ty) = fit.thresholds();
            // Same pooled points and the same trimming: thresholds equal; block means to rounding.
            assert_eq!(tx, f(&case["x_thresholds"]), "{name}");
            for (a, b) in ty.iter().zip(f(&case["y_thresholds"])) {
                assert!((a - b).abs() <= 1e-13 * b.abs().max(1.0), "{name}: {a} vs {b}");
            }
            for (a, b) in fit.apply(&f(&case["queries"])).iter().zip(f(&case["predictions"])) {
                assert!((a - b).abs() <= 1e-13 * b.abs().max(1.0), "{name}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn fit_on_unsorted_input_with_ties_pools_them_first() {
        // x = 2 appears twice (y 4 and 0, weights 1 and 3): one point, y = 1, weight 4.
        let x = [3.0f64, 2.0, 1.0, 2.0];
        let y = [5.0, 4.0, 2.0, 0.0];
        let w = [1.0, 1.0, 1.0, 3.0];
        let fit = IsotonicRegression::fit(&x, &y, Some(&w)).unwrap();
        // Points (1, 2, w1), (2, 1, w4), (3, 5, w1): PAVA pools the first two to 6/5.
        let (tx, ty) = fit.thresholds();
        assert_eq!(tx, [1.0, 2.0, 3.0]);
        assert_eq!(ty, [1.2, 1.2, 5.0]);
        // Zero-weight rows are ignored.
        let w0 = [1.0, 1.0, 1.0, 0.0];
        let fit0 = IsotonicRegression::fit(&x, &y, Some(&w0)).unwrap();
        assert_eq!(fit0.thresholds().1, [2.0, 4.0, 5.0]);
    }

    #[test]
    fn ties_within_resolution_pool_like_scikit_learn() {
        // 0.5 and 0.5 + 4.4e-16 are within 1e-15: one point at 0.5.
        let x = [0.5f64, 0.5 + 4.0 * f64::EPSILON, 0.7];
        let fit = IsotonicRegression::fit(&x, &[1.0, 0.0, 1.0], None).unwrap();
        assert_eq!(fit.thresholds(), (&[0.5, 0.7][..], &[0.5, 1.0][..]));
        // 1e-14 apart: distinct.
        let fit = IsotonicRegression::fit(&[0.5f64, 0.5 + 1e-14, 0.7], &[0.0, 1.0, 1.0], None).unwrap();
        assert_eq!(fit.thresholds().0.len(), 3);
    }

    #[test]
    fn redundant_thresholds_are_trimmed_without_changing_the_map() {
        let x: Vec<f64> = (0..10).map(f64::from).collect();
        let y = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 2.0, 2.0];
        let fit = IsotonicRegression::fit(&x, &y, None).unwrap();
        let f = pava(&y, &[1.0; 10]);
        assert_eq!(fit.apply(&x), f);
        assert_eq!(fit.thresholds().0, [0.0, 2.0, 3.0, 7.0, 8.0, 9.0]);
    }

    #[test]
    fn calibration_report_and_bernoulli_mle() {
        let mut rng = Rng(9);
        let n = 2000;
        let s: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        // True probability s², scores s: miscalibrated but monotone.
        let y: Vec<i64> = s.iter().map(|&v| i64::from(rng.uniform() < v * v)).collect();
        let fit = IsotonicRegression::fit_calibration(&s, &y, None).unwrap();
        let r = fit.report().unwrap();
        assert!(r.nll_after < r.nll_before, "{r:?}");
        // Isotonic fits are calibrated on their own bins by construction; the 15-bin ECE is small.
        assert!(r.ece_after < r.ece_before / 3.0 && r.brier_after < r.brier_before, "{r:?}");
        let p = fit.apply(&s);
        assert!(p.iter().all(|&v| (0.0..=1.0).contains(&v)));
        // Bernoulli MLE property: on each fitted level, the mean label equals the level.
        let (tx, ty) = fit.thresholds();
        assert!(tx.windows(2).all(|w| w[0] < w[1]) && ty.windows(2).all(|w| w[0] <= w[1]));
        let level = ty[ty.len() / 2];
        let rows: Vec<usize> = (0..n).filter(|&i| p[i] == level).collect();
        let mean = rows.iter().map(|&i| y[i] as f64).sum::<f64>() / rows.len() as f64;
        assert!((mean - level).abs() < 1e-12);
        // Scores outside [0, 1]: no probability reading, no report.
        let z: Vec<f64> = s.iter().map(|v| 4.0 * v - 2.0).collect();
        assert!(IsotonicRegression::fit_calibration(&z, &y, None).unwrap().report().is_none());
    }

    #[test]
    fn single_point_and_nan_and_f32() {
        let fit = IsotonicRegression::fit(&[1.0f64, 1.0], &[0.0, 1.0], None).unwrap();
        assert_eq!(fit.apply(&[-5.0, 1.0, 7.0]), [0.5, 0.5, 0.5]);
        assert!(fit.apply(&[f64::NAN])[0].is_nan());
        let fit32 = IsotonicRegression::fit(&[1.0f32, 2.0, 3.0], &[2.0, 1.0, 3.0], None).unwrap();
        assert_eq!(fit32.apply(&[1.0, 2.5]), [1.5, 2.25]);
    }

    #[test]
    fn typed_errors() {
        assert_eq!(IsotonicRegression::<f64>::fit(&[], &[], None).unwrap_err(), Error::Empty { name: "x" });
        assert!(matches!(
            IsotonicRegression::fit(&[1.0f64, 2.0], &[0.0, 1.0], Some(&[0.0, 0.0])).unwrap_err(),
            Error::Empty { .. }
        ));
        assert!(matches!(
            IsotonicRegression::fit(&[1.0f64, f64::NAN], &[0.0, 1.0], None).unwrap_err(),
            Error::InvalidValue { name: "x", index: Some(1), .. }
        ));
        assert!(matches!(
            IsotonicRegression::fit(&[1.0f64, 2.0], &[f64::INFINITY, 1.0], None).unwrap_err(),
            Error::InvalidValue { name: "y", index: Some(0), .. }
        ));
        assert!(matches!(
            IsotonicRegression::fit(&[1.0f64], &[0.0, 1.0], None).unwrap_err(),
            Error::ShapeMismatch { .. }
        ));
        assert!(matches!(
            IsotonicRegression::fit(&[1.0f64, 2.0], &[0.0, 1.0], Some(&[1.0, -1.0])).unwrap_err(),
            Error::InvalidParameter { .. }
        ));
        assert_eq!(
            IsotonicRegression::fit_calibration(&[0.1f64, 0.2], &[0, 3], None).unwrap_err(),
            Error::ClassOutOfRange { row: 1, value: 3, n_classes: 2 }
        );
    }
}
