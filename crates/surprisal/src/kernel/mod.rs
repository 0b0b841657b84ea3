//! Fused loss + gradient kernels at the memory limit: softmax cross-entropy over logits `[N, V]`
//! (f32 or bf16 storage), and the element-wise losses (sigmoid BCE with logits, MSE, L1, Huber).
//!
//! The semantics are exactly those of the reference implementations in [`crate::loss`]
//! ([`crate::loss::softmax_cross_entropy()`], [`crate::loss::softmax_cross_entropy_probs()`],
//! [`crate::loss::sigmoid_binary_cross_entropy()`], [`crate::loss::mse()`], [`crate::loss::l1()`],
//! [`crate::loss::huber()`]): the same reductions (torch's weighted mean Σ w\[yᵢ\] for class
//! targets), ignore index, label smoothing with class weights, probability targets, masks, and
//! the same edge policies (±inf logits, all −inf rows, 0·inf = 0, a fully masked batch gives loss
//! 0 and gradient 0). Arithmetic is f32 (bf16 logits are widened exactly); per-row losses are
//! summed in f64. The public cross-entropy of [`crate::loss`] calls these kernels when its
//! compute type is f32.
//!
//! ## The memory floor
//!
//! A loss + gradient over N·V logits must read N·V values and write N·V gradient entries; for
//! large N·V nothing else matters, so the target is the time of a copy of the same bytes. The
//! kernels read the logits from memory once and write the gradient once, with no N×V
//! intermediate: per thread, one row-sized f32 scratch (V·4 bytes, e.g. 125 KiB for V = 32000,
//! 501 KiB for V = 128256) that stays in the core's L2 cache. Peak extra memory of a call is
//! `threads · V · 4` bytes (plus N·4 for the per-row losses if asked for).
//!
//! ## Online softmax, per row
//!
//! ```text
//! guess    m' = max of the row's first 256 logits
//! pass A   e_c = e^{z_c − m'},  s = Σ_c e_c       reads the row from memory once; e goes to the
//!                                                 per-thread scratch (L2), with the smoothing sum
//!                                                 Σ w_c·(z_c − m') or the soft-target sums
//!          (if s overflowed, or the row has NaN or +inf: redo with the true maximum m, or take
//!           the scalar path of the reference)
//! pass B   g_c = α·e_c − β_c − [c = y]·δ          from the scratch, streamed to the gradient
//!          α = k·(a + b·W)/s,  β_c = k·b·w_c,  δ = k·a,   a = (1 − ε)·w[y], b = ε/V, W = Σ w_c
//! loss     ℓ = a·(log s − (z_y − m')) + b·(W·log s − Σ_{w_c>0} w_c·(z_c − m'))
//! ```
//!
//! Loss and gradient do not depend on the shift as long as nothing overflows, which is what the
//! finite sum certifies; so one pass over memory replaces the usual max pass + exp pass, and the
//! exponentials overlap the memory stream instead of following it. Here k is the reduction factor (1/Σ w\[yᵢ\] for the mean, computed from the targets before the
//! pass, so that the gradient is ∂(reduced value)/∂logits). The gradient is streamed with
//! non-temporal stores on x86-64 (the stores then do not read the destination lines first, as a
//! large `memcpy` does not); bf16 gradients are rounded with the AVX-512 BF16 instruction where
//! the CPU has it (round to nearest even; it flushes results below 2⁻¹²⁶ to zero), in software
//! otherwise. For rows that fit comfortably in L2 the next row is prefetched while the current
//! one is exponentiated. A row with NaN or a non-finite maximum (+inf logits, all −inf) takes the
//! scalar path of the reference, so the edge policies are the reference's.
//!
//! ## Pipelined rows (AVX-512)
//!
//! On x86-64 CPUs with AVX-512 (F, BW, VL, BF16), class-target rows without label smoothing (the
//! common case) take a pipelined loop: one sweep per row writes the *previous* row's gradient
//! from the scratch and, entry by entry, overwrites the scratch with this row's exponentials:
//!
//! ```text
//! sweep i, for each chunk c:   g_{i−1}[c] = α_{i−1}·e[c]                 (streamed out)
//!                              e[c] = e^{z_i[c] − m'_i},  s_i += e[c]     (read from memory)
//! then                         g_{i−1}[y_{i−1}] = α_{i−1}·e_y − δ_{i−1}    (e_y saved before)
//! ```
//!
//! so the memory reads of row i and the writes of row i − 1 run together, as in a copy, instead
//! of alternating. The shift m' is rounded to a multiple of ln2/16 and folded into the
//! exponential's table (no subtraction per entry), and the exponential drops its lower clamp (a
//! row whose sum comes out non-finite is redone with it, see [`exp`](self) below); the edge
//! policies are those of the row path.
//!
//! When N is smaller than the number of threads and V is large, each row is split into one slice
//! per thread; every slice yields a partial (m_t, s_t) and the partials merge as log-sum-exps:
//!
//! ```text
//! m = max(m_a, m_b),   s = s_a·e^{m_a − m} + s_b·e^{m_b − m}      (log s + m = logsumexp)
//! ```
//!
//! after which each thread writes its slice of the gradient.
//!
//! ## exp
//!
//! A branch-free f32 `exp` (Cody–Waite reduction with ln 2 split in two, a degree-5 minimax
//! polynomial for e^r − 1 − r on |r| ≤ ln2/2, scaling by 2ⁿ through the exponent bits in two
//! steps so that subnormal results round once). Measured against `f64::exp` on a dense sweep of
//! [−104, 89]: at most 1 ulp; exact specials exp(0) = 1, exp(−inf) = 0, exp(+inf) = inf,
//! exp(NaN) = NaN (measured maximum 0.98 ulp). The softmax passes use, on AVX-512, a table
//! variant (n/16 = x·log₂e rounded to a multiple of 1/16 by adding 1.5·2¹⁹, 2^{j/16} from a
//! 16-entry table with one `vpermps` indexed by the low bits of that sum, a cubic on
//! |r| ≤ ln2/32, `vscalefps` for 2^{⌊n/16⌋}; measured maximum 1.26 ulp, same specials) with
//! fewer and shorter dependency chains, and elsewhere the same polynomial as above with a single
//! scaling that flushes results below 2⁻¹²⁶ to zero (bit-identical to the full version above
//! that).
//!
//! ## Dispatch
//!
//! The inner loops are written over fixed-width chunks (`[f32; 16]`, one cache line) without
//! branches, so that the compiler vectorises them; each hot function is compiled for AVX-512
//! (F/BW/VL + FMA), AVX2 + FMA, NEON and a portable fallback, and the best one the CPU supports is
//! chosen at run time (the `multiversion` crate; on x86-64 an AVX-512 BF16 variant first, for the
//! bf16 gradient rounding). The FMA targets fuse the polynomial's
//! multiply-adds, so the last bit of a result may differ between targets.
//!
//! ## Threads and reproducibility
//!
//! `threads` is explicit. Rows are cut into `threads` contiguous blocks (thread t gets rows
//! `[N·t/T, N·(t+1)/T)`), each thread sums its row losses in row order into an f64 partial, and
//! the partials are added in thread order: for a given thread count (and CPU target) the results
//! are bit-identical from run to run. Every gradient entry depends on its row only; the split-row
//! path agrees with the row path to rounding.
//!
//! ## Element-wise losses
//!
//! [`mse_f32`], [`l1_f32`], [`huber_f32`] and [`sigmoid_bce_f32`] compute value and gradient in
//! one vectorised pass, threads optional, with the weights, mask and reduction of
//! [`crate::loss::Options`] (see their functions for the formulas).

mod cross_entropy;
mod elementwise;
mod exp;
#[cfg(target_arch = "x86_64")]
mod pipeline;
mod threads;

use crate::error::{Error, Result, check};
use crate::loss::rows;
use crate::loss::{CrossEntropyOptions, Options, Reduction};
use cross_entropy::{Io, Plan, Store, class_job, probs_job};
use half::bf16;

/// Where the gradient goes: a caller's buffer of N·V entries, f32 or bf16 (rounded to nearest
/// even from the f32 result).
#[derive(Debug)]
pub enum GradOut<'a> {
    /// An f32 gradient buffer.
    F32(&'a mut [f32]),
    /// A bf16 gradient buffer.
    Bf16(&'a mut [bf16]),
}

impl GradOut<'_> {
    fn len(&self) -> usize {
        match self {
            GradOut::F32(g) => g.len(),
            GradOut::Bf16(g) => g.len(),
        }
    }
    fn zero(&mut self) {
        match self {
            GradOut::F32(g) => g.fill(0.0),
            GradOut::Bf16(g) => g.fill(bf16::ZERO),
        }
    }
}

/// The result of a kernel call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KernelOutput {
    /// The reduced loss (for `none`, the sum of the row / element losses).
    pub value: f32,
    /// Σ of the row (element) losses before the reduction's factor, accumulated in f64.
    pub total: f64,
}

/// A sensible thread count for `work` entries: one per 256 Ki entries, at most the number of
/// available cores (the library's losses use it; results are reproducible for a given count).
pub fn default_threads(work: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    (work / (1 << 18)).clamp(1, cores)
}

fn check_threads(threads: usize) -> Result<()> {
    if threads == 0 {
        return Err(Error::InvalidOption {
            name: "threads",
            value: "0".into(),
            reason: "at least one thread",
        });
    }
    Ok(())
}

fn check_per(per: &Option<&mut [f32]>, n: usize) -> Result<()> {
    match per {
        Some(p) => check::same_len("row_loss", n, p.len()),
        None => Ok(()),
    }
}

/// Validates a class-target call the way [`crate::loss::softmax_cross_entropy()`] does; returns
/// (N, reduction factor or `None` when there is nothing to average).
fn validate_class(
    len: usize,
    v: usize,
    target: &[i64],
    opts: &CrossEntropyOptions<f32>,
) -> Result<(usize, Option<f32>)> {
    let n = rows::n_rows("logits", len, v)?;
    check::same_len("target", n, target.len())?;
    opts.validate(n, v)?;
    if opts.reduction == Reduction::BatchMean {
        return Err(Error::InvalidOption {
            name: "reduction",
            value: "batchmean".into(),
            reason: "class-index cross-entropy takes none, sum or mean (the weighted mean)",
        });
    }
    let divisor = rows::class_targets(target, v, opts.ignore_index, opts.mask, opts.weight)?;
    Ok((n, rows::reduction_factor(opts.reduction, divisor)))
}

/// Validates a probability-target call the way [`crate::loss::softmax_cross_entropy_probs()`]
/// does; returns (N, reduction factor or `None`).
fn validate_probs(
    len: usize,
    v: usize,
    target: &[f32],
    opts: &CrossEntropyOptions<f32>,
) -> Result<(usize, Option<f32>)> {
    let n = rows::n_rows("logits", len, v)?;
    check::same_len("target", n * v, target.len())?;
    opts.validate(n, v)?;
    if let Some(j) = target.iter().position(|q| !q.is_finite() || *q < 0.0) {
        return Err(Error::InvalidValue {
            name: "target",
            value: f64::from(target[j]),
            index: Some(j),
            reason: "probability targets must be finite and >= 0",
        });
    }
    let count = (0..n).filter(|&i| opts.mask.is_none_or(|m| m[i])).count();
    Ok((
        n,
        match opts.reduction {
            Reduction::Mean | Reduction::BatchMean if count == 0 => None,
            Reduction::Mean | Reduction::BatchMean => Some(1.0 / count as f32),
            _ => Some(1.0),
        },
    ))
}

/// Runs a validated job on typed buffers.
///
/// # Safety
/// `inp` valid for n·v reads; `grad` of length n·v (checked); the in-place variant passes a grad
/// pointer equal to `inp`.
unsafe fn launch<T: cross_entropy::InElem>(
    job: &cross_entropy::Job<'_>,
    inp: *const T,
    grad: GradOut<'_>,
    per: Option<&mut [f32]>,
    n: usize,
    threads: usize,
    plan: Plan,
) -> f64 {
    let per = per.map_or(std::ptr::null_mut(), |p| p.as_mut_ptr());
    // SAFETY: the caller's contract; the buffers were checked.
    unsafe {
        match grad {
            GradOut::F32(g) => cross_entropy::run(
                job,
                Io { inp, out: g.as_mut_ptr(), per, nt: Store { stream: true, bf16_hw: false } },
                n,
                threads,
                plan,
            ),
            GradOut::Bf16(g) => cross_entropy::run(
                job,
                Io { inp, out: g.as_mut_ptr(), per, nt: Store { stream: true, bf16_hw: false } },
                n,
                threads,
                plan,
            ),
        }
    }
}

/// Class-target entry shared by the f32 and bf16 variants.
#[allow(clippy::too_many_arguments)]
fn class_entry<T: cross_entropy::InElem>(
    logits: &[T],
    v: usize,
    target: &[i64],
    opts: &CrossEntropyOptions<f32>,
    mut grad: GradOut<'_>,
    mut row_loss: Option<&mut [f32]>,
    threads: usize,
    plan: Plan,
    scalar: bool,
) -> Result<KernelOutput> {
    check_threads(threads)?;
    let (n, k) = validate_class(logits.len(), v, target, opts)?;
    check::same_len("grad", n * v, grad.len())?;
    check_per(&row_loss, n)?;
    let Some(k) = k else {
        grad.zero();
        if let Some(p) = row_loss.as_deref_mut() {
            p.fill(0.0);
        }
        return Ok(KernelOutput { value: 0.0, total: 0.0 });
    };
    let job = cross_entropy::Job { scalar, ..class_job(v, target, opts, k) };
    // SAFETY: logits has n·v entries, grad was checked.
    let total = unsafe { launch(&job, logits.as_ptr(), grad, row_loss, n, threads, plan) };
    Ok(KernelOutput { value: (total * f64::from(k)) as f32, total })
}

/// Probability-target entry shared by the f32 and bf16 variants.
#[allow(clippy::too_many_arguments)]
fn probs_entry<T: cross_entropy::InElem>(
    logits: &[T],
    v: usize,
    target: &[f32],
    opts: &CrossEntropyOptions<f32>,
    mut grad: GradOut<'_>,
    mut row_loss: Option<&mut [f32]>,
    threads: usize,
    plan: Plan,
    scalar: bool,
) -> Result<KernelOutput> {
    check_threads(threads)?;
    let (n, k) = validate_probs(logits.len(), v, target, opts)?;
    check::same_len("grad", n * v, grad.len())?;
    check_per(&row_loss, n)?;
    let Some(k) = k else {
        grad.zero();
        if let Some(p) = row_loss.as_deref_mut() {
            p.fill(0.0);
        }
        return Ok(KernelOutput { value: 0.0, total: 0.0 });
    };
    let job = cross_entropy::Job { scalar, ..probs_job(v, target, opts, k) };
    // SAFETY: as in `class_entry`.
    let total = unsafe { launch(&job, logits.as_ptr(), grad, row_loss, n, threads, plan) };
    Ok(KernelOutput { value: (total * f64::from(k)) as f32, total })
}

/// Fused softmax cross-entropy with class-index targets over f32 logits `[N, V]` (row-major):
/// the loss and ∂(reduced loss)/∂logits in one call, each logit read from memory once.
///
/// Semantics, formulas and edge policies: those of [`crate::loss::softmax_cross_entropy()`]
/// (reduction none/sum/mean with torch's weighted mean, `ignore_index`, label smoothing with class
/// weights, row mask). `grad` receives the N·V gradient entries (f32 or bf16); `row_loss`, if
/// given, the N row losses ℓᵢ (before the mean's division, 0 for ignored or masked rows).
/// `threads` ≥ 1 threads share the rows (see the module documentation for reproducibility).
///
/// # Errors
/// As [`crate::loss::softmax_cross_entropy()`], and [`Error::ShapeMismatch`] for a `grad` not of
/// length N·V or a `row_loss` not of length N; [`Error::InvalidOption`] for `threads` = 0.
///
/// # Example
/// ```
/// use surprisal::kernel::{cross_entropy_f32, GradOut};
/// use surprisal::loss::CrossEntropyOptions;
/// let logits = [1.0f32, 2.0, 3.0, 0.5, -1.0, 2.0];
/// let mut grad = [0f32; 6];
/// let out = cross_entropy_f32(&logits, 3, &[2, 0], &CrossEntropyOptions::default(),
///     GradOut::F32(&mut grad), None, 1).unwrap();
/// // mpmath: mean of logsumexp(row) − row[target]
/// assert!((out.value - 1.0744586305507687).abs() < 1e-6);
/// // mpmath: (softmax(row 0) − onehot(2)) / 2, entry 2
/// assert!((grad[2] + 0.167379522112589).abs() < 1e-6);
/// ```
pub fn cross_entropy_f32(
    logits: &[f32],
    v: usize,
    target: &[i64],
    opts: &CrossEntropyOptions<f32>,
    grad: GradOut<'_>,
    row_loss: Option<&mut [f32]>,
    threads: usize,
) -> Result<KernelOutput> {
    class_entry(logits, v, target, opts, grad, row_loss, threads, Plan::Auto, false)
}

/// [`cross_entropy_f32`] over bf16 logits (widened exactly to f32; f32 accumulation); the
/// gradient may be f32 or bf16.
///
/// # Errors
/// As [`cross_entropy_f32`].
pub fn cross_entropy_bf16(
    logits: &[bf16],
    v: usize,
    target: &[i64],
    opts: &CrossEntropyOptions<f32>,
    grad: GradOut<'_>,
    row_loss: Option<&mut [f32]>,
    threads: usize,
) -> Result<KernelOutput> {
    class_entry(logits, v, target, opts, grad, row_loss, threads, Plan::Auto, false)
}

/// [`cross_entropy_f32`] writing the gradient over the logits (each row is read completely before
/// it is overwritten; no gradient buffer at all).
///
/// # Errors
/// As [`cross_entropy_f32`]; on an error the logits are untouched.
pub fn cross_entropy_f32_inplace(
    logits: &mut [f32],
    v: usize,
    target: &[i64],
    opts: &CrossEntropyOptions<f32>,
    row_loss: Option<&mut [f32]>,
    threads: usize,
) -> Result<KernelOutput> {
    inplace(logits, v, target, opts, row_loss, threads, Plan::Auto, false)
}

#[allow(clippy::too_many_arguments)]
fn inplace(
    logits: &mut [f32],
    v: usize,
    target: &[i64],
    opts: &CrossEntropyOptions<f32>,
    mut row_loss: Option<&mut [f32]>,
    threads: usize,
    plan: Plan,
    scalar: bool,
) -> Result<KernelOutput> {
    check_threads(threads)?;
    let (n, k) = validate_class(logits.len(), v, target, opts)?;
    check_per(&row_loss, n)?;
    let Some(k) = k else {
        logits.fill(0.0);
        if let Some(p) = row_loss.as_deref_mut() {
            p.fill(0.0);
        }
        return Ok(KernelOutput { value: 0.0, total: 0.0 });
    };
    let job = cross_entropy::Job { scalar, ..class_job(v, target, opts, k) };
    let per = row_loss.map_or(std::ptr::null_mut(), |p| p.as_mut_ptr());
    let p = logits.as_mut_ptr();
    // SAFETY: input and output are the same n·v buffer; every row (slice) is read before written.
    let total = unsafe {
        cross_entropy::run(
            &job,
            Io { inp: p.cast_const(), out: p, per, nt: Store::default() },
            n,
            threads,
            plan,
        )
    };
    Ok(KernelOutput { value: (total * f64::from(k)) as f32, total })
}

/// Fused softmax cross-entropy against probability targets (soft labels) over f32 logits: the
/// semantics of [`crate::loss::softmax_cross_entropy_probs()`] (mean = batchmean = Σ ℓᵢ / rows
/// kept), gradient to `grad`, row losses to `row_loss` if given.
///
/// # Errors
/// As [`crate::loss::softmax_cross_entropy_probs()`], and the buffer / thread errors of
/// [`cross_entropy_f32`].
pub fn cross_entropy_probs_f32(
    logits: &[f32],
    v: usize,
    target: &[f32],
    opts: &CrossEntropyOptions<f32>,
    grad: GradOut<'_>,
    row_loss: Option<&mut [f32]>,
    threads: usize,
) -> Result<KernelOutput> {
    probs_entry(logits, v, target, opts, grad, row_loss, threads, Plan::Auto, false)
}

/// [`cross_entropy_probs_f32`] over bf16 logits.
///
/// # Errors
/// As [`cross_entropy_probs_f32`].
pub fn cross_entropy_probs_bf16(
    logits: &[bf16],
    v: usize,
    target: &[f32],
    opts: &CrossEntropyOptions<f32>,
    grad: GradOut<'_>,
    row_loss: Option<&mut [f32]>,
    threads: usize,
) -> Result<KernelOutput> {
    probs_entry(logits, v, target, opts, grad, row_loss, threads, Plan::Auto, false)
}

/// Validates an element-wise call; returns the reduction factor, or `None` when every element
/// is masked under `mean`.
fn elem_factor(
    n: usize,
    target_len: usize,
    opts: &Options<f32>,
    grad: usize,
    per: &Option<&mut [f32]>,
) -> Result<Option<f32>> {
    check::same_len("target", n, target_len)?;
    crate::loss::validate_options(n, opts)?;
    check::same_len("grad", n, grad)?;
    check_per(per, n)?;
    let count = opts.mask.map_or(n, |m| m.iter().filter(|&&b| b).count());
    Ok(match opts.reduction {
        Reduction::Mean if count == 0 => None,
        Reduction::Mean => Some(1.0 / count as f32),
        _ => Some(1.0),
    })
}

#[allow(clippy::too_many_arguments)]
fn elem_entry(
    kind: elementwise::Kind,
    x: &[f32],
    t: &[f32],
    pos_weight: Option<&[f32]>,
    opts: &Options<f32>,
    grad: &mut [f32],
    mut per: Option<&mut [f32]>,
    threads: usize,
    scalar: bool,
) -> Result<KernelOutput> {
    check_threads(threads)?;
    let Some(k) = elem_factor(x.len(), t.len(), opts, grad.len(), &per)? else {
        grad.fill(0.0);
        if let Some(p) = per.as_deref_mut() {
            p.fill(0.0);
        }
        return Ok(KernelOutput { value: 0.0, total: 0.0 });
    };
    let e = elementwise::Elem { kind, x, t, pos_weight, weight: opts.weight, mask: opts.mask, k, scalar };
    let total = elementwise::run(&e, grad, per, threads);
    Ok(KernelOutput { value: (total * f64::from(k)) as f32, total })
}

/// Fused mean squared error (x − y)² with gradient 2(x − y), the semantics of
/// [`crate::loss::mse()`]; the gradient of the reduced value goes to `grad`, the weighted
/// per-element losses to `per_element` if given.
///
/// # Errors
/// As [`crate::loss::mse()`], and [`Error::ShapeMismatch`] for buffers of the wrong length,
/// [`Error::InvalidOption`] for `threads` = 0.
///
/// # Example
/// ```
/// use surprisal::kernel::mse_f32;
/// use surprisal::loss::Options;
/// let mut g = [0f32; 3];
/// let out = mse_f32(&[1.0, 2.0, 4.0], &[1.5, 2.0, 3.0], &Options::mean(), &mut g, None, 1).unwrap();
/// // ((−0.5)² + 0² + 1²)/3
/// assert!((out.value - 0.4166666666666667).abs() < 1e-7);
/// assert_eq!(g, [-1.0 / 3.0, 0.0, 2.0 / 3.0]);
/// ```
pub fn mse_f32(
    input: &[f32],
    target: &[f32],
    opts: &Options<f32>,
    grad: &mut [f32],
    per_element: Option<&mut [f32]>,
    threads: usize,
) -> Result<KernelOutput> {
    elem_entry(elementwise::Kind::Mse, input, target, None, opts, grad, per_element, threads, false)
}

/// Fused absolute error |x − y| with gradient sign(x − y) (0 at x = y), the semantics of
/// [`crate::loss::l1()`].
///
/// # Errors
/// As [`mse_f32`].
pub fn l1_f32(
    input: &[f32],
    target: &[f32],
    opts: &Options<f32>,
    grad: &mut [f32],
    per_element: Option<&mut [f32]>,
    threads: usize,
) -> Result<KernelOutput> {
    elem_entry(elementwise::Kind::L1, input, target, None, opts, grad, per_element, threads, false)
}

/// Fused Huber loss ρ_δ(x − y) with gradient clamp(x − y, −δ, δ), the semantics of
/// [`crate::loss::huber()`].
///
/// # Errors
/// As [`mse_f32`], and [`Error::InvalidParameter`] if `delta` is not finite and > 0.
#[allow(clippy::too_many_arguments)]
pub fn huber_f32(
    input: &[f32],
    target: &[f32],
    delta: f32,
    opts: &Options<f32>,
    grad: &mut [f32],
    per_element: Option<&mut [f32]>,
    threads: usize,
) -> Result<KernelOutput> {
    let delta = check::positive("delta", delta)?;
    elem_entry(elementwise::Kind::Huber(delta), input, target, None, opts, grad, per_element, threads, false)
}

/// Fused binary cross-entropy with logits (pos_weight, weights, mask), the semantics of
/// [`crate::loss::sigmoid_binary_cross_entropy()`]:
///
/// ```text
/// ℓᵢ = pwᵢ·yᵢ·softplus(−xᵢ) + (1 − yᵢ)·softplus(xᵢ)
/// ∂ℓᵢ/∂xᵢ = (1 − yᵢ)·σ(xᵢ) − pwᵢ·yᵢ·σ(−xᵢ)
/// ```
///
/// `pos_weight` is `None`, of length n, or of a length C dividing n (element i uses
/// `pos_weight[i % C]`).
///
/// # Errors
/// As [`crate::loss::sigmoid_binary_cross_entropy()`], and the buffer / thread errors of
/// [`mse_f32`].
#[allow(clippy::too_many_arguments)]
pub fn sigmoid_bce_f32(
    logits: &[f32],
    targets: &[f32],
    pos_weight: Option<&[f32]>,
    opts: &Options<f32>,
    grad: &mut [f32],
    per_element: Option<&mut [f32]>,
    threads: usize,
) -> Result<KernelOutput> {
    check::same_len("target", logits.len(), targets.len())?;
    crate::loss::sigmoid_binary_cross_entropy::check_unit_interval("target", targets)?;
    if let Some(pw) = pos_weight {
        crate::loss::sigmoid_binary_cross_entropy::check_pos_weight(pw, logits.len())?;
    }
    elem_entry(elementwise::Kind::Bce, logits, targets, pos_weight, opts, grad, per_element, threads, false)
}

/// The fused path of [`crate::loss::softmax_cross_entropy()`] and
/// [`crate::loss::softmax_cross_entropy_probs()`]: `Some` when the compute type is f32 and the
/// logits are f32 or bf16 (then the kernel's result, on [`default_threads`] threads), `None`
/// otherwise (the caller runs the generic path).
pub(crate) fn loss_path<T: crate::num::Widen<F>, F: crate::num::Real, Q: Copy + 'static>(
    logits: &[T],
    v: usize,
    target: &[Q],
    opts: &CrossEntropyOptions<F>,
) -> Option<Result<crate::loss::LossOutput<F>>> {
    use std::any::{Any, TypeId};
    if TypeId::of::<F>() != TypeId::of::<f32>() {
        return None;
    }
    // SAFETY: F is f32 (checked above), so the options have the same layout.
    let o: &CrossEntropyOptions<f32> =
        unsafe { &*std::ptr::from_ref(opts).cast::<CrossEntropyOptions<f32>>() };
    let n = logits.len().checked_div(v).unwrap_or(0);
    let mut per = vec![0f32; n];
    let mut grad = vec![0f32; n * v];
    let threads = default_threads(logits.len());
    let is = |id: TypeId| TypeId::of::<T>() == id;
    let classes = TypeId::of::<Q>() == TypeId::of::<i64>();
    // SAFETY (the casts below): the TypeIds were compared, so the element types are identical.
    let res = if is(TypeId::of::<f32>()) {
        let z = unsafe { std::slice::from_raw_parts(logits.as_ptr().cast::<f32>(), logits.len()) };
        if classes {
            let y = unsafe { std::slice::from_raw_parts(target.as_ptr().cast::<i64>(), target.len()) };
            cross_entropy_f32(z, v, y, o, GradOut::F32(&mut grad), Some(&mut per), threads)
        } else {
            let q = unsafe { std::slice::from_raw_parts(target.as_ptr().cast::<f32>(), target.len()) };
            cross_entropy_probs_f32(z, v, q, o, GradOut::F32(&mut grad), Some(&mut per), threads)
        }
    } else if is(TypeId::of::<bf16>()) {
        let z = unsafe { std::slice::from_raw_parts(logits.as_ptr().cast::<bf16>(), logits.len()) };
        if classes {
            let y = unsafe { std::slice::from_raw_parts(target.as_ptr().cast::<i64>(), target.len()) };
            cross_entropy_bf16(z, v, y, o, GradOut::F32(&mut grad), Some(&mut per), threads)
        } else {
            let q = unsafe { std::slice::from_raw_parts(target.as_ptr().cast::<f32>(), target.len()) };
            cross_entropy_probs_bf16(z, v, q, o, GradOut::F32(&mut grad), Some(&mut per), threads)
        }
    } else {
        return None;
    };
    Some(res.map(|out| {
        let r: Box<dyn Any> = Box::new(crate::loss::LossOutput { value: out.value, per_element: per, grad });
        // F is f32, so the downcast succeeds.
        *r.downcast::<crate::loss::LossOutput<F>>().unwrap_or_else(|_| unreachable!())
    }))
}

#[cfg(test)]
mod tests;
