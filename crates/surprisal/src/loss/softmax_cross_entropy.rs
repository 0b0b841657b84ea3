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
//! mean that divides by Σ w[yᵢ] (not by the number of rows) also when ε > 0. Additions: a row mask
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
//! - every row ignored or masked (or Σ w[yᵢ] = 0 under `mean`): loss 0, gradient 0 (PyTorch gives
//!   NaN for 0/0);
//! - NaN logits propagate.
//!
//! Storage: logits of any [`Widen`] type (f64, f32, bf16, f16); arithmetic in `F` (f32 for the
//! half-precision types).

use super::rows::{self, RowSoftmax, kept, mul0};
use super::{LossOutput, Reduction};
use crate::error::{Error, Result, check};
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

    fn validate(&self, n: usize, n_classes: usize) -> Result<()> {
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
    let mut divisor = F::zero();
    for (i, &y) in target.iter().enumerate() {
        if Some(y) == opts.ignore_index {
            continue;
        }
        if y < 0 || y as u64 >= c as u64 {
            return Err(Error::ClassOutOfRange { row: i, value: y, n_classes: c });
        }
        if kept(opts.mask, i) {
            divisor = divisor + w(y as usize);
        }
    }
    let mut per = vec![F::zero(); n];
    let mut grad = vec![F::zero(); n * c];
    let k = match opts.reduction {
        Reduction::Mean if divisor == F::zero() => {
            return Ok(LossOutput { value: F::zero(), per_element: per, grad });
        }
        Reduction::Mean => divisor.recip(),
        _ => F::one(),
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
