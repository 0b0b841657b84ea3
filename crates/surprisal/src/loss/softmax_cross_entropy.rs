//! Softmax cross-entropy: the Categorical NLL with the softmax link.
//!
//! ```text
//! model     y ~ Categorical(p),  p = softmax(z)    (softmax link, canonical: ∂/∂z = p − onehot(y))
//! loss      ℓᵢ = (1 − ε)·w[yᵢ]·(−log pᵢ,yᵢ) + (ε/C)·Σ_c w_c·(−log pᵢ,c)      (0 for an ignored row)
//!              = −Σ_c w_c·q'_c·log pᵢ,c  against the mixture target q' = (1 − ε)·onehot(yᵢ) + ε/C
//!           −log pᵢ,c = logsumexp(zᵢ) − zᵢ,c       (logsumexp minus the label logit)
//! gradient  ∂ℓᵢ/∂zᵢ,c = (1 − ε)·w[yᵢ]·(pᵢ,c − δ_c,yᵢ) + (ε/C)·(W·pᵢ,c − w_c),   W = Σ_c w_c
//! reduce    none: ℓ;  sum: Σ ℓᵢ;  mean: Σ ℓᵢ / Σ w[yᵢ] over the rows neither ignored nor masked
//! ```
//!
//! With ε = 0 and no class weights this is exactly the Categorical NLL −log p_y (scale 1, shift 0).
//! With label smoothing it is the cross-entropy against the mixture target q', that is the expected
//! Categorical NLL E_{y'∼q'}[−log p_y'], the NLL of the categorical under a soft target; class
//! weights turn it into a weighted likelihood (each class's surprisal counted w_c times).
//! With probability targets q ([`softmax_cross_entropy_probs`]) the row loss is the cross-entropy
//!
//! ```text
//! H(q', p) = −Σ_c q'_c log p_c = H(q') + KL(q' ‖ p)
//! ```
//!
//! and, since H(q') does not depend on the logits, minimising it is minimising KL(q' ‖ p); its
//! minimum over p is H(q'), reached at p = q' (the loss is not 0 there unless q' is one-hot).
//!
//! **PyTorch** (`torch.nn.functional.cross_entropy`): identical semantics in every combination of
//! `weight`, `ignore_index` (default −100), `label_smoothing` and `reduction`, including the weighted
//! mean that divides by Σ w_yᵢ (not by the number of rows) also when ε > 0. Additions: a row mask
//! (a masked row is treated like an ignored one), and the edge policies below.
//!
//! **Edges** (the kernel is fused: one pass loads and shifts a row, one pass writes the loss terms
//! and the gradient; a probability is computed once per entry):
//! - shift invariance: the row maximum is subtracted before exponentiating, so logits shifted by
//!   10⁶ in f32 give the same loss (to f32 rounding of the logits themselves);
//! - z_c = −inf on a class other than the target: p_c = 0, it contributes 0 and its gradient is 0
//!   (with ε > 0 and w_c > 0 the mixture target puts mass ε/C there, so the loss is +inf);
//! - z_y = −inf on the target: loss +inf (the target is impossible under the model), the gradient
//!   stays the finite p − onehot(y); never NaN;
//! - +inf logits follow [`crate::num::log_softmax`]: the k entries at +inf share the mass (1/k
//!   each), every other class has probability 0 (loss log k if the target is one of them, +inf
//!   otherwise; gradient p − onehot(y), finite);
//! - a row whose logits are all −inf has no distribution: loss +inf, gradient 0;
//! - a zero weight (class weight or smoothing coefficient) hides an infinite surprisal: 0·inf = 0;
//! - every row ignored or masked (or Σ w_yᵢ = 0 under `mean`): loss 0, gradient 0 (PyTorch gives
//!   NaN for 0/0);
//! - NaN logits propagate.
//!
//! Storage: logits of any [`Widen`] type (f64, f32, bf16, f16); arithmetic in `F` (f32 for the
//! half-precision types). With `F = f32` and f32 or bf16 logits the work is done by the fused,
//! vectorised kernel of [`crate::kernel`] (same semantics, edge policies and errors; rows spread
//! over [`crate::kernel::default_threads`] threads); the other combinations run the generic
//! loop below.

use super::rows::{self, RowSoftmax, kept, mul0};
use super::{ExpectedNllMap, Likelihood, LossOutput, NllMap, Reduction, Shift, categorical_expected_nll};
use crate::error::{Error, Result, check};
use crate::family::Categorical;
use crate::link::Link;
use crate::num::{Real, Widen};
use ndarray::ArrayView2;

/// Options of [`softmax_cross_entropy`] and [`softmax_cross_entropy_probs`].
#[derive(Clone, Copy, Debug)]
pub struct CrossEntropyOptions<'a, F> {
    /// `None`, `Sum` or `Mean` (weighted mean for class-index targets, mean over rows for
    /// probability targets); `BatchMean` is accepted by the probability version only (= `Mean`).
    pub reduction: Reduction,
    /// Per-class weights w_c (length C, finite, ≥ 0), or `None` for all ones.
    pub weight: Option<&'a [F]>,
    /// Rows whose target equals this index contribute nothing (default `Some(-100)`, as PyTorch).
    /// Unused by probability targets.
    pub ignore_index: Option<i64>,
    /// ε ∈ [0, 1]: the target becomes (1 − ε)·target + ε/C.
    pub label_smoothing: F,
    /// Per-row mask: `false` drops the row from the value, the gradient and the mean's divisor.
    pub mask: Option<&'a [bool]>,
}

impl<F: Real> Default for CrossEntropyOptions<'_, F> {
    fn default() -> Self {
        CrossEntropyOptions {
            reduction: Reduction::Mean,
            weight: None,
            ignore_index: Some(-100),
            label_smoothing: F::zero(),
            mask: None,
        }
    }
}

impl<'a, F: Real> CrossEntropyOptions<'a, F> {
    /// Defaults with the given reduction.
    pub fn with_reduction(reduction: Reduction) -> Self {
        CrossEntropyOptions { reduction, ..Default::default() }
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
    /// Sets the label smoothing ε.
    pub fn label_smoothing(mut self, eps: F) -> Self {
        self.label_smoothing = eps;
        self
    }
    /// Sets the row mask.
    pub fn mask(mut self, m: &'a [bool]) -> Self {
        self.mask = Some(m);
        self
    }

    pub(crate) fn validate(&self, n: usize, n_classes: usize) -> Result<()> {
        check::in_closed("label_smoothing", self.label_smoothing, 0.0, 1.0, "must be in [0, 1]")?;
        rows::class_weights(self.weight, n_classes)?;
        rows::row_mask(self.mask, n)
    }
}

/// Softmax cross-entropy with class-index targets, fused forward and gradient (see the module
/// documentation for the formula, PyTorch semantics and edge policies).
///
/// Shapes: `logits` row-major `[N, C]` with `C = n_classes`; `target` `[N]`. The result's
/// `per_element` holds the N row losses ℓᵢ (before the mean's division), `grad` the N·C entries of
/// ∂value/∂logits.
///
/// # Errors
/// [`Error::ShapeMismatch`] for a logits length not a multiple of C, or a target, weight or mask of
/// the wrong length; [`Error::ClassOutOfRange`] for a target neither in `0..C` nor the ignore
/// index; [`Error::InvalidParameter`] for ε ∉ [0, 1] or a negative or non-finite weight;
/// [`Error::InvalidOption`] for `batchmean` or C = 0.
///
/// # Example
/// ```
/// use surprisal::loss::{softmax_cross_entropy, CrossEntropyOptions};
/// let logits = [1.0f64, 2.0, 3.0, 0.5, -1.0, 2.0];
/// let out = softmax_cross_entropy(&logits, 3, &[2, 0], &CrossEntropyOptions::default()).unwrap();
/// // mpmath: mean of logsumexp(row) − row[target]
/// assert!((out.value - 1.0744586305507687).abs() < 1e-15);
///
/// let w = [1.0, 2.0, 0.5];
/// let opts = CrossEntropyOptions::default().weight(&w).label_smoothing(0.1);
/// let out = softmax_cross_entropy(&logits, 3, &[2, 0], &opts).unwrap();
/// // mpmath, torch's formula: Σᵢ [(1−ε)·w[yᵢ]·nllᵢ,yᵢ + ε/C·Σ_c w_c·nllᵢ,c] / Σᵢ w[yᵢ]
/// assert!((out.value - 1.4730954654132835).abs() < 1e-14);
/// ```
pub fn softmax_cross_entropy<T: Widen<F>, F: Real>(
    logits: &[T],
    n_classes: usize,
    target: &[i64],
    opts: &CrossEntropyOptions<F>,
) -> Result<LossOutput<F>> {
    // f32 arithmetic on f32 or bf16 logits: the vectorised kernel (same semantics and errors).
    if let Some(out) = crate::kernel::loss_path(logits, n_classes, target, opts) {
        return out;
    }
    let c = n_classes;
    let n = rows::n_rows("logits", logits.len(), c)?;
    check::same_len("target", n, target.len())?;
    opts.validate(n, c)?;
    if opts.reduction == Reduction::BatchMean {
        return Err(Error::InvalidOption {
            name: "reduction",
            value: "batchmean".into(),
            reason: "class-index cross-entropy takes none, sum or mean (the weighted mean)",
        });
    }
    let w = |k: usize| opts.weight.map_or(F::one(), |w| w[k]);
    let active = |i: usize| kept(opts.mask, i) && Some(target[i]) != opts.ignore_index;

    // Targets and the mean's divisor first: they depend on the targets only, so the gradient scale
    // is known before the fused pass.
    let divisor = rows::class_targets(target, c, opts.ignore_index, opts.mask, opts.weight)?;
    let mut per = vec![F::zero(); n];
    let mut grad = vec![F::zero(); n * c];
    let Some(k) = rows::reduction_factor(opts.reduction, divisor) else {
        return Ok(LossOutput { value: F::zero(), per_element: per, grad });
    };

    let eps = opts.label_smoothing;
    let b = eps / F::lit(c as f64); // smoothing coefficient ε/C
    let w_total: F = (0..c).map(w).sum();
    let mut sm = RowSoftmax::<F>::new(c);
    for i in (0..n).filter(|&i| active(i)) {
        let y = target[i] as usize;
        let a = (F::one() - eps) * w(y); // coefficient of the label term
        let g = &mut grad[i * c..(i + 1) * c];
        let Some((log_s, inv_s)) = sm.load(&logits[i * c..(i + 1) * c], F::one()) else {
            // No distribution in this row: infinite surprisal wherever the target has mass.
            let has_mass = a > F::zero() || (b > F::zero() && w_total > F::zero());
            per[i] = if has_mass { F::infinity() } else { F::zero() };
            continue;
        };
        // Label term: −log p_y = log s − d_y (logsumexp minus the label logit, both shifted).
        let mut loss = mul0(a, log_s - sm.d[y]);
        // Gradient: (a + b·W)·p_c − b·w_c − a·δ_cy; the smoothing sum runs in the same pass.
        let coef = (a + b * w_total) * k;
        let mut smooth = F::zero();
        for (cl, (gc, (&d, &e))) in g.iter_mut().zip(sm.d.iter().zip(&sm.e)).enumerate() {
            let wc = w(cl);
            if b > F::zero() && wc > F::zero() {
                smooth = smooth + wc * (log_s - d);
            }
            *gc = coef * (e * inv_s) - k * b * wc;
        }
        g[y] = g[y] - k * a;
        if b > F::zero() {
            loss = loss + b * smooth;
        }
        per[i] = loss;
    }
    let value = per.iter().copied().sum::<F>() * k;
    Ok(LossOutput { value, per_element: per, grad })
}

/// Softmax cross-entropy against probability targets (soft labels), fused forward and gradient.
///
/// ```text
/// q'ᵢ      = (1 − ε)·qᵢ + ε/C
/// ℓᵢ       = −Σ_c w_c·q'ᵢ,c·log pᵢ,c   = H(q'ᵢ, pᵢ) = H(q'ᵢ) + KL(q'ᵢ ‖ pᵢ)   (no class weights)
/// ∂ℓᵢ/∂zᵢ,c = (Σ_k w_k·q'ᵢ,k)·pᵢ,c − w_c·q'ᵢ,c
/// reduce   none: ℓ;  sum: Σ ℓᵢ;  mean (= batchmean): Σ ℓᵢ / number of rows not masked
/// ```
///
/// Matches `torch.nn.functional.cross_entropy` with a floating-point target of the same shape as
/// the logits (`ignore_index` does not apply). A term with w_c·q'_c = 0 contributes 0 even where
/// log p_c = −inf; the other edge policies are those of [`softmax_cross_entropy`]. The targets need
/// not sum to 1 (PyTorch does not check), but the H + KL reading needs them to.
///
/// # Errors
/// As [`softmax_cross_entropy`], and [`Error::InvalidValue`] for a negative or non-finite target
/// (with its flat index), [`Error::ShapeMismatch`] for a target not of length N·C.
///
/// # Example
/// ```
/// use surprisal::loss::{softmax_cross_entropy_probs, CrossEntropyOptions};
/// let logits = [1.0f64, 2.0, 3.0];
/// let q = [0.2, 0.3, 0.5];
/// let out = softmax_cross_entropy_probs(&logits, 3, &q, &CrossEntropyOptions::default()).unwrap();
/// // mpmath: −Σ q_c log softmax(z)_c
/// assert!((out.value - 1.1076059644443803).abs() < 1e-15);
/// ```
pub fn softmax_cross_entropy_probs<T: Widen<F>, F: Real>(
    logits: &[T],
    n_classes: usize,
    target: &[F],
    opts: &CrossEntropyOptions<F>,
) -> Result<LossOutput<F>> {
    if let Some(out) = crate::kernel::loss_path(logits, n_classes, target, opts) {
        return out;
    }
    let c = n_classes;
    let n = rows::n_rows("logits", logits.len(), c)?;
    check::same_len("target", n * c, target.len())?;
    opts.validate(n, c)?;
    for (j, &q) in target.iter().enumerate() {
        if !q.is_finite() || q < F::zero() {
            return Err(Error::InvalidValue {
                name: "target",
                value: q.to_f64_lossy(),
                index: Some(j),
                reason: "probability targets must be finite and >= 0",
            });
        }
    }
    let count = (0..n).filter(|&i| kept(opts.mask, i)).count();
    let mut per = vec![F::zero(); n];
    let mut grad = vec![F::zero(); n * c];
    let k = match opts.reduction {
        Reduction::Mean | Reduction::BatchMean if count == 0 => {
            return Ok(LossOutput { value: F::zero(), per_element: per, grad });
        }
        Reduction::Mean | Reduction::BatchMean => F::lit(count as f64).recip(),
        _ => F::one(),
    };
    let w = |k: usize| opts.weight.map_or(F::one(), |w| w[k]);
    let eps = opts.label_smoothing;
    let b = eps / F::lit(c as f64);
    let mut sm = RowSoftmax::<F>::new(c);
    for i in (0..n).filter(|&i| kept(opts.mask, i)) {
        let q = &target[i * c..(i + 1) * c];
        // v_c = w_c·q'_c, the weight of class c's surprisal.
        let v = |cl: usize| w(cl) * ((F::one() - eps) * q[cl] + b);
        let Some((log_s, inv_s)) = sm.load(&logits[i * c..(i + 1) * c], F::one()) else {
            let has_mass = (0..c).any(|cl| v(cl) > F::zero());
            per[i] = if has_mass { F::infinity() } else { F::zero() };
            continue;
        };
        let mut loss = F::zero();
        let mut v_total = F::zero();
        for (cl, &d) in sm.d.iter().enumerate() {
            let vc = v(cl);
            v_total = v_total + vc;
            loss = loss + mul0(vc, log_s - d);
        }
        for (cl, (gc, &e)) in grad[i * c..(i + 1) * c].iter_mut().zip(&sm.e).enumerate() {
            *gc = k * (v_total * (e * inv_s) - v(cl));
        }
        per[i] = loss;
    }
    let value = per.iter().copied().sum::<F>() * k;
    Ok(LossOutput { value, per_element: per, grad })
}

/// [`softmax_cross_entropy`] on an ndarray view `[N, C]` (copied only when not in standard
/// row-major layout).
///
/// # Errors
/// As [`softmax_cross_entropy`].
pub fn softmax_cross_entropy_view<T: Widen<F>, F: Real>(
    logits: ArrayView2<T>,
    target: &[i64],
    opts: &CrossEntropyOptions<F>,
) -> Result<LossOutput<F>> {
    let c = logits.ncols();
    match logits.as_slice() {
        Some(s) => softmax_cross_entropy(s, c, target, opts),
        None => softmax_cross_entropy(&logits.iter().copied().collect::<Vec<T>>(), c, target, opts),
    }
}

/// [`softmax_cross_entropy_probs`] on ndarray views `[N, C]`.
///
/// # Errors
/// As [`softmax_cross_entropy_probs`], and [`Error::ShapeMismatch`] when the shapes differ.
pub fn softmax_cross_entropy_probs_view<T: Widen<F>, F: Real>(
    logits: ArrayView2<T>,
    target: ArrayView2<F>,
    opts: &CrossEntropyOptions<F>,
) -> Result<LossOutput<F>> {
    if logits.dim() != target.dim() {
        return Err(Error::shape("target", logits.shape(), target.shape()));
    }
    let c = logits.ncols();
    let z: Vec<T> = logits.iter().copied().collect();
    let q: Vec<F> = target.iter().copied().collect();
    softmax_cross_entropy_probs(&z, c, &q, opts)
}

/// Softmax cross-entropy (no label smoothing, no class weights) is the Categorical NLL with the
/// softmax link: scale 1, shift 0, per row `loss(z, y) = −log softmax(z)_y`.
///
/// The declared `nll` takes a row of logits and the class index (as f64) and evaluates it through
/// [`Categorical`].
pub fn likelihood() -> Likelihood {
    likelihood_smoothed(0.0)
}

/// With label smoothing ε the loss is still a categorical likelihood, under a soft target: it is
/// the cross-entropy against the mixture q' = (1 − ε)·onehot(y) + ε/C, that is the expected
/// Categorical NLL E_{y'∼q'}[−log p_y'] = (1 − ε)·NLL(y) + (ε/C)·Σ_c NLL(c) (scale 1, shift 0).
/// It equals H(q') + KL(q' ‖ p), so its minimum over the logits is H(q') > 0, reached at p = q'.
pub fn likelihood_smoothed(label_smoothing: f64) -> Likelihood {
    let eps = label_smoothing;
    Likelihood::Nll(NllMap {
        family: "categorical",
        link: Link::Softmax,
        fixed: if eps > 0.0 { vec![("label_smoothing", eps)] } else { vec![] },
        scale: 1.0,
        shift: Shift::Constant(0.0),
        nll: Box::new(move |logits, y| {
            let nll = |c: usize| categorical_nll(logits, c);
            let y = y as usize;
            if eps > 0.0 {
                let c = logits.len();
                (1.0 - eps) * nll(y) + eps / c as f64 * (0..c).map(nll).sum::<f64>()
            } else {
                nll(y)
            }
        }),
    })
}

/// Probability targets ([`softmax_cross_entropy_probs`], no class weights): per row the loss is
/// the cross-entropy H(q', p) = E_{y∼q'}[−log p_y], the expected Categorical NLL under the target
/// q' = (1 − ε)·q + ε/C (scale 1, shift 0). It equals H(q') + KL(q' ‖ p).
pub fn likelihood_probs(label_smoothing: f64) -> Likelihood {
    let eps = label_smoothing;
    Likelihood::ExpectedNll(ExpectedNllMap {
        family: "categorical",
        link: Link::Softmax,
        fixed: if eps > 0.0 { vec![("label_smoothing", eps)] } else { vec![] },
        scale: 1.0,
        shift_formula: "0",
        shift: Box::new(|_| 0.0),
        expected_nll: Box::new(move |logits, q| {
            let c = q.len() as f64;
            let mixed: Vec<f64> = q.iter().map(|&v| (1.0 - eps) * v + eps / c).collect();
            categorical_expected_nll(logits, &mixed)
        }),
    })
}

/// −log p(y) of the categorical family with the given logits (NaN where it is not defined).
fn categorical_nll(logits: &[f64], y: usize) -> f64 {
    Categorical::from_logits(logits).and_then(|d| d.log_prob(y)).map_or(f64::NAN, |lp| -lp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::testing::{REDUCTIONS, check_loss_grad};
    use half::{bf16, f16};

    const Z: [f64; 12] = [0.3, -1.2, 2.5, 0.7, -0.01, 1.0, 0.0, 0.0, 0.5, 3.0, -2.0, 0.25];
    const Y: [i64; 4] = [2, 1, 0, 1];
    const W: [f64; 3] = [0.5, 2.0, 1.5];
    const MASK: [bool; 4] = [true, true, false, true];

    fn ce(z: &[f64], y: &[i64], o: &CrossEntropyOptions<f64>) -> LossOutput<f64> {
        softmax_cross_entropy(z, 3, y, o).unwrap()
    }

    /// Every combination of reduction, class weights, ignore index, label smoothing and mask.
    fn all_options() -> Vec<CrossEntropyOptions<'static, f64>> {
        let mut v = Vec::new();
        for reduction in REDUCTIONS {
            for weight in [None, Some(&W[..])] {
                for ignore_index in [Some(-100), Some(1), None] {
                    for label_smoothing in [0.0, 0.1, 1.0] {
                        for mask in [None, Some(&MASK[..])] {
                            v.push(CrossEntropyOptions {
                                reduction,
                                weight,
                                ignore_index,
                                label_smoothing,
                                mask,
                            });
                        }
                    }
                }
            }
        }
        v
    }

    #[test]
    fn gradient_matches_central_differences_for_every_option_combination() {
        for o in all_options() {
            check_loss_grad(&Z, |v| ce(v, &Y, &o), 1e-8);
        }
    }

    #[test]
    fn probability_target_gradient_matches_central_differences() {
        let q = [0.2, 0.3, 0.5, 0.0, 1.0, 0.0, 0.6, 0.0, 0.4, 0.1, 0.1, 0.8];
        for o in all_options() {
            check_loss_grad(&Z, |v| softmax_cross_entropy_probs(v, 3, &q, &o).unwrap(), 1e-8);
        }
    }

    #[test]
    fn row_losses_follow_the_torch_formula() {
        // ℓᵢ = (1−ε)·w[yᵢ]·nll_y + ε/C·Σ_c w_c·nll_c, with nll_c = −log_softmax(zᵢ)_c.
        for o in all_options() {
            let out = ce(&Z, &Y, &o);
            let mut want_sum = 0.0;
            let mut divisor = 0.0;
            for i in 0..4 {
                let mut lp = [0.0; 3];
                crate::num::log_softmax(&Z[3 * i..3 * i + 3], &mut lp).unwrap();
                let w = |c: usize| o.weight.map_or(1.0, |w| w[c]);
                let active = o.mask.is_none_or(|m| m[i]) && Some(Y[i]) != o.ignore_index;
                let y = Y[i] as usize;
                let eps = o.label_smoothing;
                let want = if active {
                    divisor += w(y);
                    (1.0 - eps) * w(y) * -lp[y] + eps / 3.0 * (0..3).map(|c| w(c) * -lp[c]).sum::<f64>()
                } else {
                    0.0
                };
                assert!((out.per_element[i] - want).abs() < 1e-14, "{o:?} row {i}");
                want_sum += want;
            }
            let want = if o.reduction == Reduction::Mean { want_sum / divisor } else { want_sum };
            assert!((out.value - want).abs() < 1e-14, "{o:?}");
        }
    }

    #[test]
    fn label_smoothing_is_cross_entropy_against_the_mixture_target() {
        let onehot: Vec<f64> =
            Y.iter().flat_map(|&y| (0..3).map(move |c| if c == y as usize { 1.0 } else { 0.0 })).collect();
        for weight in [None, Some(&W[..])] {
            let o = CrossEntropyOptions {
                reduction: Reduction::Sum,
                weight,
                ignore_index: None,
                label_smoothing: 0.2,
                mask: None,
            };
            let a = ce(&Z, &Y, &o);
            let b = softmax_cross_entropy_probs(&Z, 3, &onehot, &o).unwrap();
            assert!((a.value - b.value).abs() < 1e-13);
            for (ga, gb) in a.grad.iter().zip(&b.grad) {
                assert!((ga - gb).abs() < 1e-15);
            }
        }
    }

    #[test]
    fn soft_target_cross_entropy_is_entropy_plus_kl() {
        let q = [0.2, 0.3, 0.5, 0.0, 1.0, 0.0, 0.6, 0.0, 0.4, 0.1, 0.1, 0.8];
        let h = softmax_cross_entropy_probs(&Z, 3, &q, &Default::default()).unwrap().value;
        let mut lp = [0.0; 12];
        for i in 0..4 {
            crate::num::log_softmax(&Z[3 * i..3 * i + 3], &mut lp[3 * i..3 * i + 3]).unwrap();
        }
        let kl = crate::loss::kl_div(&lp, 3, &q, &Default::default()).unwrap().value;
        let entropy: f64 = q.iter().map(|&v| -crate::num::xlogy(v, v)).sum::<f64>() / 4.0;
        assert!(kl > 0.0 && (h - (entropy + kl)).abs() < 1e-14);
        // Its minimum over the logits is H(q), at softmax(z) = q (logits log q).
        let q1 = [0.2, 0.3, 0.5];
        let z1: Vec<f64> = q1.iter().map(|v: &f64| v.ln() + 7.0).collect();
        let at_q = softmax_cross_entropy_probs(&z1, 3, &q1, &Default::default()).unwrap();
        let h1: f64 = q1.iter().map(|&v| -v * v.ln()).sum();
        assert!((at_q.value - h1).abs() < 1e-14 && at_q.grad.iter().all(|g| g.abs() < 1e-15));
    }

    #[test]
    fn shift_by_1e6_in_f32_gives_the_same_loss() {
        // Logits on the 1/16 grid, so that z + 1e6 is exact in f32.
        let z = [0.25f32, -1.5, 2.5, 0.0625, 3.0, -0.5];
        let shifted: Vec<f32> = z.iter().map(|v| v + 1e6).collect();
        for o in [CrossEntropyOptions::default(), CrossEntropyOptions::default().label_smoothing(0.1)] {
            let a = softmax_cross_entropy(&z, 3, &[2, 0], &o).unwrap();
            let b = softmax_cross_entropy(&shifted, 3, &[2, 0], &o).unwrap();
            assert!(((a.value - b.value) / a.value).abs() < 1e-5, "{} vs {}", a.value, b.value);
            for (ga, gb) in a.grad.iter().zip(&b.grad) {
                assert!((ga - gb).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn minus_inf_logits() {
        let ninf = f64::NEG_INFINITY;
        // On a class other than the target: probability 0, contributes 0, gradient 0.
        let a = ce(&[0.5, ninf, 2.0], &[2], &CrossEntropyOptions::default());
        let b = softmax_cross_entropy(&[0.5, 2.0], 2, &[1], &CrossEntropyOptions::<f64>::default()).unwrap();
        assert!((a.value - b.value).abs() < 1e-15);
        assert_eq!(a.grad[1], 0.0);
        // With label smoothing the mixture target has mass there: +inf, gradient still finite.
        let s = ce(&[0.5, ninf, 2.0], &[2], &CrossEntropyOptions::default().label_smoothing(0.1));
        assert_eq!(s.value, f64::INFINITY);
        assert!(s.grad.iter().all(|g| g.is_finite()));
        // ... unless that class has weight 0.
        let w = [1.0, 0.0, 1.0];
        let s = ce(&[0.5, ninf, 2.0], &[2], &CrossEntropyOptions::default().label_smoothing(0.1).weight(&w));
        assert!(s.value.is_finite());
        // On the target: +inf loss, finite gradient p − onehot, never NaN.
        let t = ce(&[0.5, ninf, 2.0], &[1], &CrossEntropyOptions::default());
        assert_eq!(t.value, f64::INFINITY);
        assert!(t.grad.iter().all(|g| g.is_finite()));
        assert_eq!(t.grad[1], -1.0);
        // A row of all −inf: no distribution, +inf loss and gradient 0.
        let r = ce(&[ninf; 3], &[0], &CrossEntropyOptions::with_reduction(Reduction::Sum));
        assert_eq!(r.value, f64::INFINITY);
        assert_eq!(r.grad, vec![0.0; 3]);
    }

    #[test]
    fn plus_inf_logits_share_the_mass() {
        let inf = f64::INFINITY;
        let o = CrossEntropyOptions::with_reduction(Reduction::Sum);
        let a = ce(&[inf, 1.0, inf], &[0], &o);
        assert!((a.value - 2f64.ln()).abs() < 1e-15);
        assert_eq!(a.grad, vec![-0.5, 0.0, 0.5]);
        let b = ce(&[inf, 1.0, inf], &[1], &o);
        assert_eq!(b.value, inf);
        assert_eq!(b.grad, vec![0.5, -1.0, 0.5]);
        let c = ce(&[inf, 1.0, f64::NEG_INFINITY], &[0], &o.label_smoothing(0.3));
        assert_eq!(c.value, inf);
        assert!(c.grad.iter().all(|g| g.is_finite()));
        let q = [0.5, 0.0, 0.5];
        let d = softmax_cross_entropy_probs(&[inf, 1.0, inf], 3, &q, &o).unwrap();
        assert!((d.value - 2f64.ln()).abs() < 1e-15);
        assert!(d.grad.iter().all(|g| *g == 0.0));
    }

    #[test]
    fn all_rows_ignored_or_masked_give_zero_loss_and_gradient() {
        let ninf = f64::NEG_INFINITY;
        let z = [ninf, 1.0, 2.0, ninf, ninf, ninf];
        for r in REDUCTIONS {
            for eps in [0.0, 0.2] {
                let o = CrossEntropyOptions::with_reduction(r).label_smoothing(eps);
                let ignored = ce(&z, &[-100, -100], &o);
                let masked = ce(&z, &[0, 1], &o.mask(&[false, false]));
                let probs = softmax_cross_entropy_probs(
                    &z,
                    3,
                    &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
                    &o.mask(&[false, false]),
                )
                .unwrap();
                for out in [ignored, masked, probs] {
                    assert_eq!(out.value, 0.0);
                    assert_eq!(out.per_element, vec![0.0; 2]);
                    assert_eq!(out.grad, vec![0.0; 6]);
                }
            }
        }
        // Zero total weight under `mean`: nothing to average, 0 rather than 0/0.
        let w = [0.0, 1.0, 1.0];
        let out = ce(&[1.0, 2.0, 3.0], &[0], &CrossEntropyOptions::default().weight(&w));
        assert_eq!((out.value, out.grad), (0.0, vec![0.0; 3]));
    }

    #[test]
    fn half_precision_logits_match_f64_to_1e_2() {
        let o64 = CrossEntropyOptions::default().label_smoothing(0.1).weight(&W);
        let w32: Vec<f32> = W.iter().map(|&v| v as f32).collect();
        let o32 = CrossEntropyOptions::default().label_smoothing(0.1f32).weight(&w32);
        let want = ce(&Z, &Y, &o64);
        let zb: Vec<bf16> = Z.iter().map(|&v| bf16::from_f64(v)).collect();
        let zh: Vec<f16> = Z.iter().map(|&v| f16::from_f64(v)).collect();
        let zf: Vec<f32> = Z.iter().map(|&v| v as f32).collect();
        for got in [
            softmax_cross_entropy(&zb, 3, &Y, &o32).unwrap(),
            softmax_cross_entropy(&zh, 3, &Y, &o32).unwrap(),
            softmax_cross_entropy(&zf, 3, &Y, &o32).unwrap(),
        ] {
            assert!(((got.value as f64 - want.value) / want.value).abs() < 1e-2);
            for (g, w) in got.grad.iter().zip(&want.grad) {
                assert!((*g as f64 - w).abs() < 1e-2 * w.abs().max(0.1));
            }
        }
        // bf16 logits shifted by 256 (exact in bf16 on this grid of step 2): same loss.
        let z = [0.0f64, 2.0, 4.0, -2.0, 4.0, 0.0];
        let base: Vec<bf16> = z.iter().map(|&v| bf16::from_f64(v)).collect();
        let shifted: Vec<bf16> = z.iter().map(|&v| bf16::from_f64(v + 256.0)).collect();
        let a: f32 = softmax_cross_entropy(&base, 3, &[0, 1], &Default::default()).unwrap().value;
        let b: f32 = softmax_cross_entropy(&shifted, 3, &[0, 1], &Default::default()).unwrap().value;
        assert!(((a - b) / a).abs() < 1e-6);
    }

    #[test]
    fn ndarray_views_match_slices() {
        let a = ndarray::Array2::from_shape_vec((4, 3), Z.to_vec()).unwrap();
        let o = CrossEntropyOptions::default().weight(&W);
        let want = ce(&Z, &Y, &o);
        assert_eq!(softmax_cross_entropy_view(a.view(), &Y, &o).unwrap(), want);
        // A non-standard layout (transposed twice through a column-major copy) is copied first.
        let f = a.t().to_owned();
        assert_eq!(softmax_cross_entropy_view(f.t(), &Y, &o).unwrap(), want);
        let q = ndarray::Array2::from_elem((4, 3), 1.0 / 3.0);
        let p = softmax_cross_entropy_probs_view(a.view(), q.view(), &o).unwrap();
        assert_eq!(p.per_element.len(), 4);
        assert!(softmax_cross_entropy_probs_view(a.view(), q.t(), &o).is_err());
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let o = CrossEntropyOptions::<f64>::default();
        let e = softmax_cross_entropy(&Z, 3, &[0, 1, 3, 0], &o).unwrap_err();
        assert_eq!(e, Error::ClassOutOfRange { row: 2, value: 3, n_classes: 3 });
        let e = softmax_cross_entropy(&Z, 3, &[0, -1, 2, 0], &o).unwrap_err();
        assert_eq!(e, Error::ClassOutOfRange { row: 1, value: -1, n_classes: 3 });
        // −100 is out of range once ignore_index is disabled.
        assert!(softmax_cross_entropy(&Z, 3, &[0, -100, 2, 0], &o.ignore_index(None)).is_err());
        assert!(matches!(softmax_cross_entropy(&Z, 5, &Y, &o), Err(Error::ShapeMismatch { .. })));
        assert!(softmax_cross_entropy(&Z, 3, &Y[..3], &o).is_err());
        assert!(softmax_cross_entropy(&Z, 3, &Y, &o.label_smoothing(1.5)).is_err());
        assert!(softmax_cross_entropy(&Z, 3, &Y, &o.weight(&[1.0, f64::NAN, 1.0])).is_err());
        assert!(softmax_cross_entropy(&Z, 3, &Y, &o.mask(&[true])).is_err());
        assert!(
            softmax_cross_entropy(&Z, 3, &Y, &CrossEntropyOptions::with_reduction(Reduction::BatchMean))
                .is_err()
        );
        assert!(softmax_cross_entropy(&Z, 0, &[], &o).is_err());
        let bad_q = [0.5, -0.5, 1.0];
        assert!(matches!(
            softmax_cross_entropy_probs(&Z[..3], 3, &bad_q, &o),
            Err(Error::InvalidValue { index: Some(1), .. })
        ));
        assert!(softmax_cross_entropy_probs(&Z, 3, &bad_q, &o).is_err());
    }

    #[test]
    fn declared_categorical_likelihood_holds_with_and_without_smoothing() {
        use crate::loss::testing::check_declared_map;
        let points: Vec<(Vec<f64>, f64)> =
            (0..4).map(|i| (Z[3 * i..3 * i + 3].to_vec(), Y[i] as f64)).collect();
        for eps in [0.0, 0.1, 0.5] {
            let decl = if eps == 0.0 { likelihood() } else { likelihood_smoothed(eps) };
            let loss = |z: &[f64], y: f64| {
                ce(z, &[y as i64], &CrossEntropyOptions::default().label_smoothing(eps)).value
            };
            check_declared_map(&decl, &points, loss, 1e-13);
        }
    }

    #[test]
    fn softmax_cross_entropy_is_the_categorical_nll_and_its_gradient() {
        use crate::family::categorical;
        use proptest::prelude::*;
        use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
        let mut runner = TestRunner::new_with_rng(
            Config::with_cases(64),
            TestRng::deterministic_rng(RngAlgorithm::ChaCha),
        );
        let rows = (1usize..6, 2usize..9).prop_flat_map(|(n, c)| {
            (Just(c), proptest::collection::vec(-30.0f64..30.0, n * c), proptest::collection::vec(0..c, n))
        });
        runner
            .run(&rows, |(c, z, y)| {
                let n = y.len();
                let yi: Vec<i64> = y.iter().map(|&v| v as i64).collect();
                let o = CrossEntropyOptions::with_reduction(Reduction::None);
                let out = softmax_cross_entropy(&z, c, &yi, &o).unwrap();
                let mut lp = vec![0.0; n];
                let mut g = vec![0.0; n * c];
                categorical::log_prob_grad(&z, c, &y, &mut lp, &mut g).unwrap();
                for (l, lpi) in out.per_element.iter().zip(&lp) {
                    prop_assert!((l + lpi).abs() <= 1e-13 * lpi.abs().max(1.0));
                }
                for (a, b) in out.grad.iter().zip(&g) {
                    prop_assert!((a + b).abs() <= 1e-15);
                }
                Ok(())
            })
            .unwrap();
    }

    proptest::proptest! {
        #[test]
        fn probability_targets_declared_expected_nll_map_holds(
            z in proptest::collection::vec(-8.0f64..8.0, 4),
            w in proptest::collection::vec(0.0f64..1.0, 4),
            eps in 0.0f64..1.0,
        ) {
            let s: f64 = w.iter().sum();
            if s > 1e-3 {
                let q: Vec<f64> = w.iter().map(|v| v / s).collect();
                let row = |o: &[f64], q: &[f64]| {
                    let opts = CrossEntropyOptions::with_reduction(Reduction::Sum).label_smoothing(eps);
                    softmax_cross_entropy_probs(o, 4, q, &opts).unwrap().value
                };
                crate::loss::testing::check_expected_map(&likelihood_probs(eps), &[(z.clone(), q)], row, 1e-12);
            }
        }
    }
}
