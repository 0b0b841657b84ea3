//! Negative log-likelihood on log-probabilities: the Categorical NLL when the model already outputs
//! log p (e.g. after a `log_softmax`).
//!
//! ```text
//! model     y ~ Categorical(p),  input = log p   (the identity on log-probabilities)
//! loss      ℓᵢ = −w[yᵢ]·log pᵢ,yᵢ                (0 for an ignored or masked row)
//! gradient  ∂ℓᵢ/∂(log pᵢ,c) = −w[yᵢ]·δ_c,yᵢ
//! reduce    none: ℓ;  sum: Σ ℓᵢ;  mean: Σ ℓᵢ / Σ w[yᵢ] over the rows neither ignored nor masked
//! ```
//!
//! `softmax_cross_entropy(z, y) = nll(log_softmax(z), y)`: the two are the same likelihood, the
//! first fused with its link.
//!
//! **PyTorch** (`torch.nn.functional.nll_loss`): same semantics for `weight`, `ignore_index`
//! (default −100) and the weighted mean. The input is not checked to be normalised (neither does
//! PyTorch); only the target's entry of each row is read.
//!
//! **Edges**: log p_y = −inf gives +inf (and +inf input gives −inf), a zero class weight gives 0
//! (0·inf = 0), every row ignored or masked (or Σ w_yᵢ = 0 under `mean`) gives loss 0 and gradient
//! 0 (PyTorch: NaN), NaN propagates.

use super::rows::{self, kept, mul0};
use super::{Likelihood, LossOutput, NllMap, Reduction, Shift};
use crate::error::{Error, Result, check};
use crate::family::Categorical;
use crate::link::Link;
use crate::num::{Real, Widen};

/// Options of [`nll`].
#[derive(Clone, Copy, Debug)]
pub struct NllOptions<'a, F> {
    /// `None`, `Sum` or `Mean` (the weighted mean).
    pub reduction: Reduction,
    /// Per-class weights (length C, finite, ≥ 0), or `None` for all ones.
    pub weight: Option<&'a [F]>,
    /// Rows whose target equals this index contribute nothing (default `Some(-100)`).
    pub ignore_index: Option<i64>,
    /// Per-row mask: `false` drops the row from the value, the gradient and the mean's divisor.
    pub mask: Option<&'a [bool]>,
}

impl<F> Default for NllOptions<'_, F> {
    fn default() -> Self {
        NllOptions { reduction: Reduction::Mean, weight: None, ignore_index: Some(-100), mask: None }
    }
}

impl<'a, F> NllOptions<'a, F> {
    /// Defaults with the given reduction.
    pub fn with_reduction(reduction: Reduction) -> Self {
        NllOptions { reduction, ..Default::default() }
    }
    /// Sets the per-class weights.
    pub fn weight(mut self, w: &'a [F]) -> Self {
        self.weight = Some(w);
        self
    }
    /// Sets (or, with `None`, disables) the ignore index.
    pub fn ignore_index(mut self, idx: Option<i64>) -> Self {
        self.ignore_index = idx;
        self
    }
    /// Sets the row mask.
    pub fn mask(mut self, m: &'a [bool]) -> Self {
        self.mask = Some(m);
        self
    }
}

/// NLL of class-index targets given log-probabilities `[N, C]` (row-major, `C = n_classes`).
///
/// `per_element` holds the N row losses (before the mean's division), `grad` the N·C entries of
/// ∂value/∂log_probs.
///
/// # Errors
/// [`Error::ShapeMismatch`] for inconsistent lengths; [`Error::ClassOutOfRange`] for a target
/// neither in `0..C` nor the ignore index; [`Error::InvalidParameter`] for a negative or
/// non-finite weight; [`Error::InvalidOption`] for `batchmean` or C = 0.
///
/// # Example
/// ```
/// use surprisal::loss::{nll, NllOptions};
/// let lp = [0.2f64.ln(), 0.8f64.ln(), 0.5f64.ln(), 0.5f64.ln()];
/// let w = [3.0, 1.0];
/// let out = nll(&lp, 2, &[1, 0], &NllOptions::default().weight(&w)).unwrap();
/// // (−1·log 0.8 − 3·log 0.5) / (1 + 3), mpmath
/// assert!((out.value - 0.5756462732485114).abs() < 1e-15);
/// ```
pub fn nll<T: Widen<F>, F: Real>(
    log_probs: &[T],
    n_classes: usize,
    target: &[i64],
    opts: &NllOptions<F>,
) -> Result<LossOutput<F>> {
    let c = n_classes;
    let n = rows::n_rows("log_probs", log_probs.len(), c)?;
    check::same_len("target", n, target.len())?;
    rows::class_weights(opts.weight, c)?;
    rows::row_mask(opts.mask, n)?;
    if opts.reduction == Reduction::BatchMean {
        return Err(Error::InvalidOption {
            name: "reduction",
            value: "batchmean".into(),
            reason: "nll takes none, sum or mean (the weighted mean)",
        });
    }
    let w = |k: usize| opts.weight.map_or(F::one(), |w| w[k]);
    let divisor = rows::class_targets(target, c, opts.ignore_index, opts.mask, opts.weight)?;
    let mut per = vec![F::zero(); n];
    let mut grad = vec![F::zero(); n * c];
    let Some(k) = rows::reduction_factor(opts.reduction, divisor) else {
        return Ok(LossOutput { value: F::zero(), per_element: per, grad });
    };
    for (i, &y) in target.iter().enumerate() {
        if !kept(opts.mask, i) || Some(y) == opts.ignore_index {
            continue;
        }
        let y = y as usize;
        let wy = w(y);
        per[i] = mul0(wy, -log_probs[i * c + y].widen());
        grad[i * c + y] = -wy * k;
    }
    let value = per.iter().copied().sum::<F>() * k;
    Ok(LossOutput { value, per_element: per, grad })
}

/// `nll` is the Categorical NLL read off log-probabilities: scale 1, shift 0, `loss(x, y) = −x_y`,
/// with the probabilities p = exp(x) (a log link per class; the input must be normalised for the
/// reading to hold, which PyTorch does not check either).
///
/// The declared `nll` takes a row of log-probabilities and the class index (as f64), and
/// renormalises the row through [`Categorical::from_logits`], so that it is the NLL of a proper
/// categorical distribution.
pub fn likelihood() -> Likelihood {
    Likelihood::Nll(NllMap {
        family: "categorical",
        link: Link::Log,
        fixed: vec![],
        scale: 1.0,
        shift: Shift::Constant(0.0),
        nll: Box::new(|log_probs, y| {
            Categorical::from_logits(log_probs)
                .and_then(|d| d.log_prob(y as usize))
                .map_or(f64::NAN, |lp| -lp)
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::testing::{REDUCTIONS, check_loss_grad};

    #[test]
    fn gradient_matches_central_differences_for_every_option() {
        let lp = [-0.3, -1.2, -2.5, -0.7, -0.01, -4.0, -1.0, -1.5, -0.9];
        let y = [2, 1, 0];
        let w = [0.5, 2.0, 1.5];
        let m = [true, true, false];
        for r in REDUCTIONS {
            for weight in [None, Some(&w[..])] {
                for ig in [Some(-100), Some(1)] {
                    for mask in [None, Some(&m[..])] {
                        let opts = NllOptions { reduction: r, weight, ignore_index: ig, mask };
                        check_loss_grad(&lp, |v| nll(v, 3, &y, &opts).unwrap(), 1e-8);
                    }
                }
            }
        }
    }

    #[test]
    fn edges_infinite_zero_weight_all_ignored_and_errors() {
        let lp = [f64::NEG_INFINITY, 0.0, 0.0, f64::NEG_INFINITY];
        let out = nll(&lp, 2, &[0, 1], &NllOptions::with_reduction(Reduction::Sum)).unwrap();
        assert_eq!(out.value, f64::INFINITY);
        let w = [0.0, 1.0];
        let out = nll(&lp, 2, &[0, 0], &NllOptions::default().weight(&w)).unwrap();
        assert_eq!((out.value, out.grad.clone()), (0.0, vec![0.0; 4]));
        let out = nll(&lp, 2, &[-100, -100], &NllOptions::default()).unwrap();
        assert_eq!((out.value, out.grad), (0.0, vec![0.0; 4]));
        let e = nll(&lp, 2, &[0, 2], &NllOptions::<f64>::default()).unwrap_err();
        assert_eq!(e, Error::ClassOutOfRange { row: 1, value: 2, n_classes: 2 });
        assert!(nll(&lp, 3, &[0], &NllOptions::<f64>::default()).is_err());
        assert!(nll(&lp, 2, &[0, 1], &NllOptions::<f64>::with_reduction(Reduction::BatchMean)).is_err());
    }

    #[test]
    fn softmax_cross_entropy_is_nll_of_log_softmax() {
        use crate::loss::{CrossEntropyOptions, softmax_cross_entropy};
        let z = [0.3, -1.2, 2.5, 7.0, -0.01, 1.0];
        let y = [2, 0];
        let w = [1.0, 0.5, 3.0];
        let mut lp = [0.0; 6];
        for i in 0..2 {
            crate::num::log_softmax(&z[3 * i..3 * i + 3], &mut lp[3 * i..3 * i + 3]).unwrap();
        }
        let a: crate::loss::LossOutput<f64> =
            softmax_cross_entropy(&z, 3, &y, &CrossEntropyOptions::default().weight(&w)).unwrap();
        let b = nll(&lp, 3, &y, &NllOptions::default().weight(&w)).unwrap();
        assert!((a.value - b.value).abs() < 1e-14);
    }

    #[test]
    fn declared_categorical_likelihood_holds_on_normalised_rows() {
        let rows = [[0.2f64, 0.3, 0.5], [0.9, 0.05, 0.05], [1.0 / 3.0; 3]];
        let points: Vec<(Vec<f64>, f64)> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.iter().map(|p| p.ln()).collect(), (i % 3) as f64))
            .collect();
        let loss = |x: &[f64], y: f64| nll(x, 3, &[y as i64], &NllOptions::<f64>::default()).unwrap().value;
        crate::loss::testing::check_declared_map(&likelihood(), &points, loss, 1e-14);
    }
}
