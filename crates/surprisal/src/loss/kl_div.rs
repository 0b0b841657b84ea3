//! KL divergence between a target distribution and a model given by its log-probabilities
//! (PyTorch's `kl_div`).
//!
//! ```text
//! input     x = log p (the model's log-probabilities), rows of C entries
//! target    t = q (probabilities) or, with log_target, t = log q
//! pointwise ℓᵢ,c = q_c·(log q_c − x_c)          0 where q_c = 0 (0·log 0 = 0, whatever x_c is)
//! gradient  ∂ℓᵢ,c/∂x_c = −q_c
//! reduce    none: ℓ (N·C entries);  sum: Σ ℓ;  batchmean: Σ ℓ / N = mean over rows of KL(qᵢ ‖ pᵢ);
//!           mean: Σ ℓ / (N·C)
//! ```
//!
//! Summed over a row, Σ_c ℓ_c = KL(q ‖ p) = H(q, p) − H(q): the cross-entropy against q minus a
//! term that does not depend on the model, so minimising it is maximum likelihood under soft
//! targets. Only `batchmean` is the mean KL per row; PyTorch's default `mean` also divides by C.
//! [`KlDivOptions::default`] therefore uses `batchmean`.
//!
//! **PyTorch** (`torch.nn.functional.kl_div`): the same pointwise terms, reductions and gradient.
//! Differences at the edges: PyTorch gives NaN for q_c = 0 with x_c = −inf (0·inf); here such a
//! term is 0. Targets outside the simplex's support (q < 0, or NaN) are errors here; +inf input
//! with q_c > 0 gives −inf; a row mask drops rows (and shrinks the divisors).

use super::rows::{self, kept};
use super::{ExpectedNllMap, Likelihood, LossOutput, Reduction, categorical_expected_nll, target_entropy};
use crate::error::{Error, Result, check};
use crate::link::Link;
use crate::num::{Real, Widen};

/// Options of [`kl_div`].
#[derive(Clone, Copy, Debug)]
pub struct KlDivOptions<'a> {
    /// `None`, `Sum`, `Mean` (over all N·C entries) or `BatchMean` (over rows; the default).
    pub reduction: Reduction,
    /// The target is given as log-probabilities.
    pub log_target: bool,
    /// Per-row mask: `false` drops the row from the value, the gradient and the divisors.
    pub mask: Option<&'a [bool]>,
}

impl Default for KlDivOptions<'_> {
    fn default() -> Self {
        KlDivOptions { reduction: Reduction::BatchMean, log_target: false, mask: None }
    }
}

impl<'a> KlDivOptions<'a> {
    /// The given reduction, probability targets, no mask.
    pub fn with_reduction(reduction: Reduction) -> Self {
        KlDivOptions { reduction, ..Default::default() }
    }
    /// Sets whether the target is given as log-probabilities.
    pub fn log_target(mut self, yes: bool) -> Self {
        self.log_target = yes;
        self
    }
    /// Sets the row mask.
    pub fn mask(mut self, m: &'a [bool]) -> Self {
        self.mask = Some(m);
        self
    }
}

/// KL(target ‖ exp(input)) terms with PyTorch's reductions; `input` and `target` row-major
/// `[N, C]`, `C = n_classes`.
///
/// `per_element` holds the N·C pointwise terms (what PyTorch returns for `none`), `grad` the N·C
/// entries of ∂value/∂input.
///
/// # Errors
/// [`Error::ShapeMismatch`] for inconsistent lengths; [`Error::InvalidValue`] for a NaN, negative
/// or infinite probability target (or a NaN / +inf log-target), with its flat index;
/// [`Error::InvalidOption`] for C = 0.
///
/// # Example
/// ```
/// use surprisal::loss::{kl_div, KlDivOptions};
/// let log_p = [0.25f64.ln(), 0.75f64.ln()];
/// let q = [0.5, 0.5];
/// let out = kl_div(&log_p, 2, &q, &KlDivOptions::default()).unwrap();
/// // KL((½, ½) ‖ (¼, ¾)) = ½ log 2 + ½ log(2/3), mpmath
/// assert!((out.value - 0.14384103622589046).abs() < 1e-15);
/// ```
pub fn kl_div<T: Widen<F>, F: Real>(
    input: &[T],
    n_classes: usize,
    target: &[F],
    opts: &KlDivOptions,
) -> Result<LossOutput<F>> {
    let c = n_classes;
    let n = rows::n_rows("input", input.len(), c)?;
    check::same_len("target", n * c, target.len())?;
    rows::row_mask(opts.mask, n)?;
    for (j, &t) in target.iter().enumerate() {
        let ok =
            if opts.log_target { !t.is_nan() && t < F::infinity() } else { t.is_finite() && t >= F::zero() };
        if !ok {
            return Err(Error::InvalidValue {
                name: "target",
                value: t.to_f64_lossy(),
                index: Some(j),
                reason: if opts.log_target {
                    "log-probability targets must be < +inf and not NaN"
                } else {
                    "probability targets must be finite and >= 0"
                },
            });
        }
    }
    let rows_kept = (0..n).filter(|&i| kept(opts.mask, i)).count();
    let divisor = match opts.reduction {
        Reduction::Mean => rows_kept * c,
        Reduction::BatchMean => rows_kept,
        _ => 1,
    };
    let mut per = vec![F::zero(); n * c];
    let mut grad = vec![F::zero(); n * c];
    if divisor == 0 {
        return Ok(LossOutput { value: F::zero(), per_element: per, grad });
    }
    let k = F::lit(divisor as f64).recip();
    for i in (0..n).filter(|&i| kept(opts.mask, i)) {
        for j in i * c..(i + 1) * c {
            // (q, log q) from either form of the target.
            let (q, log_q) =
                if opts.log_target { (target[j].exp(), target[j]) } else { (target[j], target[j].ln()) };
            if q == F::zero() {
                continue; // 0·(log 0 − x) = 0, gradient 0
            }
            per[j] = q * (log_q - input[j].widen());
            grad[j] = -q * k;
        }
    }
    let value = per.iter().copied().sum::<F>() * k;
    Ok(LossOutput { value, per_element: per, grad })
}

/// Summed over a row, `kl_div` is KL(q ‖ p) = E_{y∼q}[−log p_y] − H(q): the expected Categorical
/// NLL of the model (input = log p, the log link) under the target q, shifted by −H(q), which does
/// not depend on the model. For a one-hot q it is exactly −log p_y, the NLL.
pub fn likelihood() -> Likelihood {
    Likelihood::ExpectedNll(ExpectedNllMap {
        family: "categorical",
        link: Link::Log,
        fixed: vec![],
        scale: 1.0,
        shift_formula: "−H(q)",
        shift: Box::new(|q| -target_entropy(q)),
        expected_nll: Box::new(categorical_expected_nll),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::testing::check_loss_grad;

    #[test]
    fn gradient_matches_central_differences_for_every_option() {
        let x = [-0.3, -1.2, -2.5, -0.7, -0.01, -4.0];
        let q = [0.2, 0.0, 0.8, 0.5, 0.25, 0.25];
        let log_q: Vec<f64> = q.iter().map(|v: &f64| v.ln()).collect();
        let m = [false, true];
        for r in [Reduction::None, Reduction::Sum, Reduction::Mean, Reduction::BatchMean] {
            for log_target in [false, true] {
                for mask in [None, Some(&m[..])] {
                    let t = if log_target { &log_q[..] } else { &q[..] };
                    let opts = KlDivOptions { reduction: r, log_target, mask };
                    check_loss_grad(&x, |v| kl_div(v, 3, t, &opts).unwrap(), 1e-8);
                }
            }
        }
    }

    #[test]
    fn kl_is_nonnegative_and_zero_at_equality_and_log_target_agrees() {
        let q = [0.1, 0.6, 0.3];
        let lq: Vec<f64> = q.iter().map(|v: &f64| v.ln()).collect();
        let same = kl_div(&lq, 3, &q, &KlDivOptions::default()).unwrap();
        assert!(same.value.abs() < 1e-16);
        let x = [0.5f64.ln(), 0.25f64.ln(), 0.25f64.ln()];
        let a = kl_div(&x, 3, &q, &KlDivOptions::default()).unwrap();
        let b = kl_div(&x, 3, &lq, &KlDivOptions::default().log_target(true)).unwrap();
        assert!(a.value > 0.0 && (a.value - b.value).abs() < 1e-15);
    }

    #[test]
    fn edges_zero_target_with_minus_inf_input_masks_and_errors() {
        let x = [f64::NEG_INFINITY, 0.0];
        let out = kl_div(&x, 2, &[0.0, 1.0], &KlDivOptions::with_reduction(Reduction::Sum)).unwrap();
        assert_eq!(out.value, 0.0);
        assert_eq!(out.grad, vec![0.0, -1.0]);
        let out =
            kl_div(&x, 2, &[f64::NEG_INFINITY, 0.0], &KlDivOptions::default().log_target(true)).unwrap();
        assert_eq!(out.value, 0.0);
        let out = kl_div(&x, 2, &[1.0, 0.0], &KlDivOptions::default()).unwrap();
        assert_eq!(out.value, f64::INFINITY);
        let out = kl_div(&x, 2, &[1.0, 0.0], &KlDivOptions::default().mask(&[false])).unwrap();
        assert_eq!((out.value, out.grad), (0.0, vec![0.0; 2]));
        assert!(kl_div(&x, 2, &[-0.1, 1.1], &KlDivOptions::default()).is_err());
        assert!(kl_div(&x, 2, &[f64::NAN, 0.0], &KlDivOptions::default().log_target(true)).is_err());
        assert!(kl_div(&x, 2, &[1.0], &KlDivOptions::default()).is_err());
    }

    proptest::proptest! {
        #[test]
        fn declared_expected_nll_map_holds(
            z in proptest::collection::vec(-8.0f64..8.0, 4),
            w in proptest::collection::vec(0.0f64..1.0, 4),
            zero in 0usize..5,
        ) {
            // input = log_softmax(z); a target with possibly one zero entry (0·log 0 = 0).
            let mut lp = [0.0; 4];
            crate::num::log_softmax(&z, &mut lp).unwrap();
            let mut q = w.clone();
            if zero < 4 { q[zero] = 0.0; }
            let s: f64 = q.iter().sum();
            if s > 1e-3 {
                q.iter_mut().for_each(|v| *v /= s);
                let row = |o: &[f64], q: &[f64]| {
                    kl_div(o, 4, q, &KlDivOptions::with_reduction(Reduction::Sum)).unwrap().value
                };
                crate::loss::testing::check_expected_map(&likelihood(), &[(lp.to_vec(), q)], row, 1e-12);
            }
        }
    }
}
