//! The fused softmax cross-entropy rows (see the module documentation of [`crate::kernel`] for the
//! algorithm and the memory argument).
//!
//! Row path, per row (one thread owns a contiguous block of rows):
//!
//! ```text
//! guess    m' = max of the first 256 logits
//! pass A   e_c = e^{z_c − m'} → scratch, s = Σ e_c (+ the smoothing / soft-target sums)
//!          (reads the row from memory once; kept when s is finite, i.e. nothing overflowed,
//!          no NaN, no +inf; otherwise redone from the true maximum m)
//! pass B   g_c = α·e_c − β_c − [c = y]·δ        (from the L2-resident scratch, streamed out)
//! ```
//!
//! The loss and the gradient are invariant to the shift (any m' with no overflow gives the same
//! values up to rounding), so the one-pass attempt needs no separate max pass. A row with a NaN
//! or a non-finite maximum (+inf logits, all −inf) takes the scalar path of
//! [`crate::loss::softmax_cross_entropy()`] (the same edge policies, computed in f32).

use super::exp::{exp_flush, exp16};
#[cfg(target_arch = "x86_64")]
use super::pipeline::{self, Load, Put};
use super::threads::{SendPtr, block, run_blocks};
use crate::loss::CrossEntropyOptions;
use half::bf16;
use multiversion::multiversion;
use multiversion::target::target_cfg_f;
use std::ops::Range;
use std::sync::{Barrier, Mutex};

/// Entries whose maximum shifts a row's exponentials in the one-pass attempt.
pub(super) const GUESS: usize = 256;

/// The largest row + scratch + next row (bytes) for which the next row is prefetched.
const PREFETCH_BYTES: usize = 640 << 10;

/// Lanes of one chunk: 16 f32 = one 64-byte cache line = one AVX-512 register.
pub(crate) const W: usize = 16;

/// A logit storage type read by the kernels (widened to f32 exactly).
pub(crate) trait InElem: Copy + Send + Sync + 'static + Load {
    fn f(self) -> f32;
}

impl InElem for f32 {
    #[inline(always)]
    fn f(self) -> f32 {
        self
    }
}

impl InElem for bf16 {
    #[inline(always)]
    fn f(self) -> f32 {
        f32::from_bits(u32::from(self.to_bits()) << 16)
    }
}

/// The pipelined loop's loads and stores (x86-64 only; nothing elsewhere).
#[cfg(not(target_arch = "x86_64"))]
pub(crate) trait Load {}
#[cfg(not(target_arch = "x86_64"))]
impl<T> Load for T {}
#[cfg(not(target_arch = "x86_64"))]
pub(crate) trait Put {}
#[cfg(not(target_arch = "x86_64"))]
impl<T> Put for T {}

/// f32 → bf16 bits, round to nearest even, NaN kept quiet (branch-free, vectorises).
#[inline(always)]
pub(crate) fn bf16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    let rounded = (b.wrapping_add(0x7fff + ((b >> 16) & 1)) >> 16) as u16;
    if x.is_nan() { ((b >> 16) as u16) | 0x40 } else { rounded }
}

/// A gradient storage type written by the kernels.
pub(crate) trait OutElem: Copy + Send + Sync + 'static + Put {
    /// Stores one value.
    ///
    /// # Safety
    /// `p` valid for writes.
    unsafe fn put(p: *mut Self, x: f32);
    /// Stores 16 values (none of them NaN); with `nt`, with non-temporal stores (`p` then
    /// 16-byte aligned).
    ///
    /// # Safety
    /// `p` valid for 16 writes (and aligned as stated).
    unsafe fn put16(p: *mut Self, x: &[f32; W], nt: Store);
}

impl OutElem for f32 {
    #[inline(always)]
    unsafe fn put(p: *mut Self, x: f32) {
        // SAFETY: the caller's contract.
        unsafe { p.write(x) }
    }
    #[inline(always)]
    unsafe fn put16(p: *mut Self, x: &[f32; W], nt: Store) {
        #[cfg(target_arch = "x86_64")]
        if nt.stream {
            use std::arch::x86_64::{_mm_loadu_ps, _mm_stream_ps};
            // SAFETY: SSE is part of x86_64; p is 16-byte aligned and valid for 16 floats.
            unsafe {
                for k in 0..4 {
                    _mm_stream_ps(p.add(4 * k), _mm_loadu_ps(x.as_ptr().add(4 * k)));
                }
            }
            return;
        }
        let _ = nt;
        // SAFETY: the caller's contract.
        unsafe { p.cast::<[f32; W]>().write_unaligned(*x) }
    }
}

impl OutElem for bf16 {
    #[inline(always)]
    unsafe fn put(p: *mut Self, x: f32) {
        // SAFETY: the caller's contract.
        unsafe { p.write(bf16::from_bits(bf16_bits(x))) }
    }
    #[inline(always)]
    unsafe fn put16(p: *mut Self, x: &[f32; W], nt: Store) {
        #[cfg(target_arch = "x86_64")]
        if nt.bf16_hw {
            use std::arch::x86_64::{
                __m256i, _mm256_storeu_si256, _mm256_stream_si256, _mm512_cvtneps_pbh, _mm512_loadu_ps,
            };
            // SAFETY: `bf16_hw` is set only in code compiled for, and selected on, CPUs with
            // AVX-512 F + BF16; p is valid for 16 values (32-byte aligned when streaming).
            unsafe {
                let h = _mm512_cvtneps_pbh(_mm512_loadu_ps(x.as_ptr()));
                let h: __m256i = std::mem::transmute(h);
                if nt.stream {
                    _mm256_stream_si256(p.cast::<__m256i>(), h);
                } else {
                    _mm256_storeu_si256(p.cast::<__m256i>(), h);
                }
            }
            return;
        }
        // The vectorised paths never produce NaN (those rows take the scalar path), so the
        // rounding skips the NaN case.
        let mut h = [0u16; W];
        for j in 0..W {
            let b = x[j].to_bits();
            h[j] = (b.wrapping_add(0x7fff + ((b >> 16) & 1)) >> 16) as u16;
        }
        #[cfg(target_arch = "x86_64")]
        if nt.stream {
            use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_stream_si128};
            // SAFETY: SSE2 is part of x86_64; p is 16-byte aligned and valid for 16 values.
            unsafe {
                let src = h.as_ptr().cast::<__m128i>();
                let dst = p.cast::<__m128i>();
                _mm_stream_si128(dst, _mm_loadu_si128(src));
                _mm_stream_si128(dst.add(1), _mm_loadu_si128(src.add(1)));
            }
            return;
        }
        let _ = nt;
        // SAFETY: the caller's contract.
        unsafe { p.cast::<[u16; W]>().write_unaligned(h) }
    }
}

/// How the vectorised paths store the gradient.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Store {
    /// Non-temporal (streaming) stores for the aligned middle of each row.
    pub stream: bool,
    /// Round to bf16 with the AVX-512 BF16 instruction (set by the dispatcher where the target
    /// has it; it flushes subnormal results to zero, the software rounding keeps them).
    pub bf16_hw: bool,
}

/// Orders the non-temporal stores of this thread before whatever follows (the join).
#[inline(always)]
fn store_fence(nt: Store) {
    #[cfg(target_arch = "x86_64")]
    if nt.stream {
        // SAFETY: SSE is part of x86_64.
        unsafe { std::arch::x86_64::_mm_sfence() }
    }
    let _ = nt;
}

/// Asks for the cache line at `p` to be brought into L2 (a hint; never faults).
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetch is a hint and does not dereference.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T1 }>(p.cast::<i8>())
    }
    let _ = p;
}

/// Asks for the cache line at `p` to be brought into L1 (a hint; never faults).
#[inline(always)]
fn prefetch_l1<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetch is a hint and does not dereference.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>())
    }
    let _ = p;
}

/// How far ahead (bytes) the one-pass loop asks for the row it is reading, into L1 (the
/// exponentials' dependency chains start at the load; a hardware prefetch into L2 alone left the
/// loop waiting on it).
const AHEAD_BYTES: usize = 4096;

/// The targets of a call.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Targets<'a> {
    /// Class indices (length N).
    Class(&'a [i64]),
    /// Probability rows (length N·V).
    Probs(&'a [f32]),
}

/// Everything a row needs, fixed before the hot loop.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Job<'a> {
    pub v: usize,
    pub targets: Targets<'a>,
    pub weight: Option<&'a [f32]>,
    pub ignore: Option<i64>,
    pub mask: Option<&'a [bool]>,
    /// Label smoothing ε.
    pub eps: f32,
    /// ε / C.
    pub b: f32,
    /// Σ_c w_c.
    pub w_total: f32,
    /// The reduction factor (1/divisor for the mean, 1 otherwise).
    pub k: f32,
    /// Run the portable body (the scalar fallback) instead of the dispatched one.
    pub scalar: bool,
}

/// What row i asks for.
#[derive(Clone, Copy)]
pub(crate) enum Row<'a> {
    Inactive,
    Class(usize),
    Probs(&'a [f32]),
}

impl<'a> Job<'a> {
    pub(crate) fn row(&self, i: usize) -> Row<'a> {
        if !self.mask.is_none_or(|m| m[i]) {
            return Row::Inactive;
        }
        match self.targets {
            Targets::Class(t) if Some(t[i]) == self.ignore => Row::Inactive,
            Targets::Class(t) => Row::Class(t[i] as usize),
            Targets::Probs(q) => Row::Probs(&q[i * self.v..(i + 1) * self.v]),
        }
    }
    #[inline(always)]
    pub(crate) fn w(&self, c: usize) -> f32 {
        self.weight.map_or(1.0, |w| w[c])
    }
}

/// Input, output and per-row-loss pointers of one call (the output may alias the input: the
/// in-place variant; every row is read completely before any of it is written).
pub(crate) struct Io<T, O> {
    pub inp: *const T,
    pub out: *mut O,
    /// Null when the caller wants no per-row losses.
    pub per: *mut f32,
    /// Stream the gradient with non-temporal stores (not for the in-place variant).
    pub nt: Store,
}

impl<T, O> Clone for Io<T, O> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T, O> Copy for Io<T, O> {}
// SAFETY: each thread reads rows of `inp` and writes disjoint rows (or row slices) of `out` and
// `per`.
unsafe impl<T, O> Send for Io<T, O> {}
// SAFETY: as above.
unsafe impl<T, O> Sync for Io<T, O> {}

/// (max, any NaN) of a row.
#[inline(always)]
pub(super) fn max_nan<T: InElem>(z: &[T]) -> (f32, bool) {
    let mut mx = [f32::NEG_INFINITY; W];
    let mut nan = [0u32; W];
    let chunks = z.chunks_exact(W);
    let rem = chunks.remainder();
    for c in chunks {
        for j in 0..W {
            let x = c[j].f();
            mx[j] = if x > mx[j] { x } else { mx[j] };
            nan[j] |= u32::from(x.is_nan());
        }
    }
    let mut m = f32::NEG_INFINITY;
    let mut any = 0;
    for &x in rem {
        let x = x.f();
        m = if x > m { x } else { m };
        any |= u32::from(x.is_nan());
    }
    for j in 0..W {
        m = if mx[j] > m { mx[j] } else { m };
        any |= nan[j];
    }
    (m, any != 0)
}

/// Pass 2 for class targets: e_c = e^{z_c − m} into `e`, returns (Σ e_c, Σ_{w_c>0} w_c·(z_c − m))
/// (the second only with `SMOOTH`), prefetching the next row at `next`.
#[inline(always)]
fn exp_pass<T: InElem, const FMA: bool, const X: bool, const SMOOTH: bool>(
    z: &[T],
    m: f32,
    e: &mut [f32],
    weight: Option<&[f32]>,
    next: *const T,
) -> (f32, f32) {
    let v = z.len();
    let full = v / W * W;
    let mut s = [0f32; W];
    let mut sd = [0f32; W];
    let mut c = 0;
    if !SMOOTH {
        // Two independent chunks per iteration (two exponential chains side by side).
        let mut s2 = [0f32; W];
        while c + 2 * W <= full {
            if !next.is_null() {
                prefetch(next.wrapping_add(c));
                prefetch(next.wrapping_add(c + W));
            }
            prefetch_l1(z.as_ptr().wrapping_add(c + AHEAD_BYTES / std::mem::size_of::<T>()));
            let zc: &[T; 2 * W] = z[c..c + 2 * W].try_into().unwrap_or_else(|_| unreachable!());
            let mut d1 = [0f32; W];
            let mut d2 = [0f32; W];
            for j in 0..W {
                d1[j] = zc[j].f() - m;
                d2[j] = zc[W + j].f() - m;
            }
            let x1 = exp16::<FMA, X>(&d1);
            let x2 = exp16::<FMA, X>(&d2);
            let ec: &mut [f32; 2 * W] = (&mut e[c..c + 2 * W]).try_into().unwrap_or_else(|_| unreachable!());
            ec[..W].copy_from_slice(&x1);
            ec[W..].copy_from_slice(&x2);
            for j in 0..W {
                s[j] += x1[j];
                s2[j] += x2[j];
            }
            c += 2 * W;
        }
        for j in 0..W {
            s[j] += s2[j];
        }
    }
    while c < full {
        if !next.is_null() {
            prefetch(next.wrapping_add(c));
        }
        prefetch_l1(z.as_ptr().wrapping_add(c + AHEAD_BYTES / std::mem::size_of::<T>()));
        let zc: &[T; W] = z[c..c + W].try_into().unwrap_or_else(|_| unreachable!());
        let ec: &mut [f32; W] = (&mut e[c..c + W]).try_into().unwrap_or_else(|_| unreachable!());
        let mut d = [0f32; W];
        for j in 0..W {
            d[j] = zc[j].f() - m;
        }
        let x = exp16::<FMA, X>(&d);
        *ec = x;
        for j in 0..W {
            s[j] += x[j];
        }
        if SMOOTH {
            match weight {
                None => {
                    for j in 0..W {
                        sd[j] += zc[j].f() - m;
                    }
                }
                Some(w) => {
                    let wc: &[f32; W] = w[c..c + W].try_into().unwrap_or_else(|_| unreachable!());
                    for j in 0..W {
                        let t = wc[j] * (zc[j].f() - m);
                        sd[j] += if wc[j] > 0.0 { t } else { 0.0 };
                    }
                }
            }
        }
        c += W;
    }
    let mut st = 0f32;
    let mut sdt = 0f32;
    for c in full..v {
        let d = z[c].f() - m;
        let x = exp_flush::<FMA>(d);
        e[c] = x;
        st += x;
        if SMOOTH {
            let wc = weight.map_or(1.0, |w| w[c]);
            if wc > 0.0 {
                sdt += wc * d;
            }
        }
    }
    (s.iter().sum::<f32>() + st, sd.iter().sum::<f32>() + sdt)
}

/// Pass 2 for probability targets: e_c into `e`; returns (Σ e_c, Σ v_c, Σ_{v_c>0} v_c·(z_c − m))
/// with v_c = w_c·((1 − ε)·q_c + ε/C).
#[inline(always)]
fn probs_pass<T: InElem, const FMA: bool, const X: bool>(
    job: &Job<'_>,
    z: &[T],
    q: &[f32],
    weight: Option<&[f32]>,
    m: f32,
    e: &mut [f32],
    next: *const T,
) -> (f32, f32, f32) {
    let v = z.len();
    let full = v / W * W;
    let (a, b) = (1.0 - job.eps, job.b);
    let (mut s, mut vt, mut vd) = ([0f32; W], [0f32; W], [0f32; W]);
    let mut c = 0;
    while c < full {
        if !next.is_null() {
            prefetch(next.wrapping_add(c));
        }
        prefetch_l1(z.as_ptr().wrapping_add(c + AHEAD_BYTES / std::mem::size_of::<T>()));
        let zc: &[T; W] = z[c..c + W].try_into().unwrap_or_else(|_| unreachable!());
        let qc: &[f32; W] = q[c..c + W].try_into().unwrap_or_else(|_| unreachable!());
        let ec: &mut [f32; W] = (&mut e[c..c + W]).try_into().unwrap_or_else(|_| unreachable!());
        let mut wc = [1f32; W];
        if let Some(w) = weight {
            wc.copy_from_slice(&w[c..c + W]);
        }
        let mut d = [0f32; W];
        for j in 0..W {
            d[j] = zc[j].f() - m;
        }
        let x = exp16::<FMA, X>(&d);
        *ec = x;
        for j in 0..W {
            s[j] += x[j];
            let vc = wc[j] * (a * qc[j] + b);
            vt[j] += vc;
            vd[j] += if vc > 0.0 { vc * d[j] } else { 0.0 };
        }
        c += W;
    }
    let (mut st, mut vtt, mut vdt) = (0f32, 0f32, 0f32);
    for c in full..v {
        let d = z[c].f() - m;
        let x = exp_flush::<FMA>(d);
        e[c] = x;
        st += x;
        let vc = weight.map_or(1.0, |w| w[c]) * (a * q[c] + b);
        vtt += vc;
        if vc > 0.0 {
            vdt += vc * d;
        }
    }
    (s.iter().sum::<f32>() + st, vt.iter().sum::<f32>() + vtt, vd.iter().sum::<f32>() + vdt)
}

/// Pass 3: writes g_c = chunk(c) / lane(c) for c in 0..len to `out`, minus `dy` at class `y`
/// (usize::MAX for none). The first entries up to a 64-byte boundary and the tail use plain
/// stores, the aligned middle `O::put16` (non-temporal with `nt`).
///
/// # Safety
/// `out` valid for `len` writes.
#[inline(always)]
pub(super) unsafe fn write_row<O: OutElem>(
    out: *mut O,
    len: usize,
    nt: Store,
    y: usize,
    dy: f32,
    chunk: impl Fn(usize) -> [f32; W],
    lane: impl Fn(usize) -> f32,
) {
    let size = std::mem::size_of::<O>();
    let head = (((64 - (out as usize) % 64) % 64) / size).min(len);
    let label = |c: usize, x: f32| if c == y { x - dy } else { x };
    // SAFETY (all writes below): c < len.
    for c in 0..head {
        unsafe { O::put(out.add(c), label(c, lane(c))) };
    }
    let mut c = head;
    while c + W <= len {
        let g = chunk(c);
        if y.wrapping_sub(c) < W {
            // The label's chunk (once per row): plain stores, so that the array stays in
            // registers everywhere else.
            for (j, &x) in g.iter().enumerate() {
                unsafe { O::put(out.add(c + j), label(c + j, x)) };
            }
        } else {
            unsafe { O::put16(out.add(c), &g, nt) };
        }
        c += W;
    }
    for c in c..len {
        unsafe { O::put(out.add(c), label(c, lane(c))) };
    }
}

/// `W` entries of `x` from `c` as an array.
#[inline(always)]
fn arr(x: &[f32], c: usize) -> &[f32; W] {
    x[c..c + W].try_into().unwrap_or_else(|_| unreachable!())
}

/// Writes the gradient of a class-target row from the exponentials `e` (pass 3):
/// g_c = α·e_c − β·w_c − [c = y]·δ.
///
/// # Safety
/// `out` valid for `e.len()` writes.
#[inline(always)]
unsafe fn write_class<O: OutElem>(
    job: &Job<'_>,
    out: *mut O,
    e: &[f32],
    off: usize,
    nt: Store,
    coef: [f32; 3],
    y: usize,
) {
    let [alpha, beta, delta] = coef;
    let len = e.len();
    // SAFETY: the caller's contract.
    unsafe {
        match job.weight {
            Some(w) if beta != 0.0 => {
                let w = &w[off..off + len];
                write_row(
                    out,
                    len,
                    nt,
                    y,
                    delta,
                    |c| {
                        let (ec, wc) = (arr(e, c), arr(w, c));
                        let mut g = [0f32; W];
                        for j in 0..W {
                            g[j] = alpha * ec[j] - beta * wc[j];
                        }
                        g
                    },
                    |c| alpha * e[c] - beta * w[c],
                )
            }
            _ if beta == 0.0 => write_row(
                out,
                len,
                nt,
                y,
                delta,
                |c| {
                    let ec = arr(e, c);
                    let mut g = [0f32; W];
                    for j in 0..W {
                        g[j] = alpha * ec[j];
                    }
                    g
                },
                |c| alpha * e[c],
            ),
            _ => write_row(
                out,
                len,
                nt,
                y,
                delta,
                |c| {
                    let ec = arr(e, c);
                    let mut g = [0f32; W];
                    for j in 0..W {
                        g[j] = alpha * ec[j] - beta;
                    }
                    g
                },
                |c| alpha * e[c] - beta,
            ),
        }
    }
}

/// Writes the gradient of a probability-target row: g_c = α·e_c − k·v_c.
///
/// # Safety
/// `out` valid for `e.len()` writes.
#[inline(always)]
unsafe fn write_probs<O: OutElem>(
    job: &Job<'_>,
    out: *mut O,
    e: &[f32],
    q: &[f32],
    off: usize,
    nt: Store,
    alpha: f32,
) {
    let (k, a, b) = (job.k, 1.0 - job.eps, job.b);
    let len = e.len();
    let one = [1f32; W];
    let wfull = job.weight.map(|w| &w[off..off + len]);
    // SAFETY: the caller's contract.
    unsafe {
        write_row(
            out,
            len,
            nt,
            usize::MAX,
            0.0,
            |c| {
                let (ec, qc) = (arr(e, c), arr(q, c));
                let wc = wfull.map_or(&one, |w| arr(w, c));
                let mut g = [0f32; W];
                for j in 0..W {
                    g[j] = alpha * ec[j] - k * (wc[j] * (a * qc[j] + b));
                }
                g
            },
            |c| alpha * e[c] - k * (wfull.map_or(1.0, |w| w[c]) * (a * q[c] + b)),
        )
    }
}

/// One row of the fast path (finite maximum, no NaN). Returns the row loss.
///
/// # Safety
/// `out` valid for `z.len()` writes, not overlapping `z` except exactly (in place).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn fast_row<T: InElem, O: OutElem, const FMA: bool, const X: bool>(
    job: &Job<'_>,
    row: Row<'_>,
    (zp, v): (*const T, usize),
    m: f32,
    scratch: &mut [f32],
    out: *mut O,
    nt: Store,
    next: *const T,
) -> Option<f32> {
    // A local borrow (not an argument), last used before the row is written.
    // SAFETY: the caller's contract.
    let z = unsafe { std::slice::from_raw_parts(zp, v) };
    let e = &mut scratch[..v];
    match row {
        Row::Class(y) => {
            let a = (1.0 - job.eps) * job.w(y);
            let b = job.b;
            let (s, sd) = if b > 0.0 {
                exp_pass::<T, FMA, X, true>(z, m, e, job.weight, next)
            } else {
                exp_pass::<T, FMA, X, false>(z, m, e, job.weight, next)
            };
            if !(s.is_finite() && s > 0.0) {
                return None;
            }
            let dy = z[y].f() - m;
            let log_s = s.ln();
            let inv_s = 1.0 / s;
            let mut loss = if a == 0.0 { 0.0 } else { a * (log_s - dy) };
            if b > 0.0 {
                loss += b * (job.w_total * log_s - sd);
            }
            let coef = (a + b * job.w_total) * job.k;
            // SAFETY: the caller's contract; z is not used after this point.
            unsafe { write_class(job, out, e, 0, nt, [coef * inv_s, job.k * b, job.k * a], y) };
            Some(loss)
        }
        Row::Probs(q) => {
            let (s, vt, vd) = probs_pass::<T, FMA, X>(job, z, q, job.weight, m, e, next);
            if !(s.is_finite() && s > 0.0) {
                return None;
            }
            let log_s = s.ln();
            let loss = vt * log_s - vd;
            // SAFETY: as above.
            unsafe { write_probs(job, out, e, q, 0, nt, job.k * vt / s) };
            Some(loss)
        }
        Row::Inactive => Some(0.0),
    }
}

/// The scalar path for rows with NaN or a non-finite maximum: exactly the reference
/// computation of [`crate::loss::softmax_cross_entropy()`] in f32, plain stores.
///
/// # Safety
/// `out` valid for `z.len()` writes.
pub(super) unsafe fn slow_row<O: OutElem>(job: &Job<'_>, row: Row<'_>, z: &[f32], out: *mut O) -> f32 {
    let v = z.len();
    let mut sm = crate::loss::rows::RowSoftmax::<f32>::new(v);
    let k = job.k;
    let b = job.b;
    let mut g = vec![0f32; v];
    let loss = match (row, sm.load(z, 1.0)) {
        (Row::Inactive, _) => 0.0,
        (Row::Class(y), None) => {
            let a = (1.0 - job.eps) * job.w(y);
            if a > 0.0 || (b > 0.0 && job.w_total > 0.0) { f32::INFINITY } else { 0.0 }
        }
        (Row::Probs(q), None) => {
            let any = (0..v).any(|c| job.w(c) * ((1.0 - job.eps) * q[c] + b) > 0.0);
            if any { f32::INFINITY } else { 0.0 }
        }
        (Row::Class(y), Some((log_s, inv_s))) => {
            let a = (1.0 - job.eps) * job.w(y);
            let mut loss = crate::loss::rows::mul0(a, log_s - sm.d[y]);
            let coef = (a + b * job.w_total) * k;
            let mut smooth = 0f32;
            for (cl, (gc, (&d, &e))) in g.iter_mut().zip(sm.d.iter().zip(&sm.e)).enumerate() {
                let wc = job.w(cl);
                if b > 0.0 && wc > 0.0 {
                    smooth += wc * (log_s - d);
                }
                *gc = coef * (e * inv_s) - k * b * wc;
            }
            g[y] -= k * a;
            if b > 0.0 {
                loss += b * smooth;
            }
            loss
        }
        (Row::Probs(q), Some((log_s, inv_s))) => {
            let vf = |cl: usize| job.w(cl) * ((1.0 - job.eps) * q[cl] + b);
            let mut loss = 0f32;
            let mut v_total = 0f32;
            for (cl, &d) in sm.d.iter().enumerate() {
                let vc = vf(cl);
                v_total += vc;
                loss += crate::loss::rows::mul0(vc, log_s - d);
            }
            for (cl, (gc, &e)) in g.iter_mut().zip(&sm.e).enumerate() {
                *gc = k * (v_total * (e * inv_s) - vf(cl));
            }
            loss
        }
    };
    for (c, &x) in g.iter().enumerate() {
        // SAFETY: c < v.
        unsafe { O::put(out.add(c), x) };
    }
    loss
}

/// The row path over a block of rows (the portable body; `FMA` selects fused multiply-adds).
///
/// # Safety
/// `io` valid for the rows in `rows`.
#[inline(always)]
unsafe fn rows_body<T: InElem, O: OutElem, const FMA: bool, const X: bool>(
    job: &Job<'_>,
    io: Io<T, O>,
    rows: Range<usize>,
    n: usize,
    scratch: &mut [f32],
) -> f64 {
    let v = job.v;
    // Prefetch the next row while this one is exponentiated, when row + scratch + next row fit
    // in a 1 MiB L2 with room to spare; larger rows rely on the hardware prefetcher.
    let next_row = v * (2 * std::mem::size_of::<T>() + 4) <= PREFETCH_BYTES;
    let mut total = 0f64;
    for i in rows {
        // SAFETY: row i lies inside the buffers (the caller's contract).
        let (zp, op) = unsafe { (io.inp.add(i * v), io.out.add(i * v)) };
        let next = if i + 1 < n && next_row { zp.wrapping_add(v) } else { std::ptr::null() };
        let row = job.row(i);
        let loss = match row {
            Row::Inactive => {
                // SAFETY: as above.
                unsafe { write_row(op, v, io.nt, usize::MAX, 0.0, |_| [0.0; W], |_| 0.0) };
                0.0
            }
            _ => {
                // One pass: the shift is the maximum of the first entries, and the pass is
                // kept when the sum of exponentials came out finite (no overflow, no NaN, no
                // +inf); otherwise the row is redone from its true maximum.
                // SAFETY: as above; the slices are not used once the row is written.
                let guess = max_nan(unsafe { std::slice::from_raw_parts(zp, v.min(GUESS)) }).0;
                let quick = if guess.is_finite() {
                    // SAFETY: as above.
                    unsafe { fast_row::<T, O, FMA, X>(job, row, (zp, v), guess, scratch, op, io.nt, next) }
                } else {
                    None
                };
                match quick {
                    Some(l) => l,
                    None => {
                        // SAFETY: as above.
                        let z = unsafe { std::slice::from_raw_parts(zp, v) };
                        let (m, nan) = max_nan(z);
                        if nan || !m.is_finite() {
                            let zf: Vec<f32> = z.iter().map(|x| x.f()).collect();
                            // SAFETY: as above.
                            unsafe { slow_row(job, row, &zf, op) }
                        } else {
                            // With the true maximum the sum lies in [1, V]: always finite.
                            // SAFETY: as above.
                            unsafe {
                                fast_row::<T, O, FMA, X>(job, row, (zp, v), m, scratch, op, io.nt, next)
                            }
                            .unwrap_or(f32::NAN)
                        }
                    }
                }
            }
        };
        if !io.per.is_null() {
            // SAFETY: i < n.
            unsafe { io.per.add(i).write(loss) };
        }
        total += f64::from(loss);
    }
    store_fence(io.nt);
    total
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512bf16+fma",
    "x86_64+avx512f+avx512bw+avx512vl+fma",
    "x86_64+avx2+fma",
    "aarch64+neon"
))]
fn rows_dispatch<T: InElem, O: OutElem>(
    job: &Job<'_>,
    io: Io<T, O>,
    rows: Range<usize>,
    n: usize,
    scratch: &mut [f32],
) -> f64 {
    let io = Io { nt: Store { bf16_hw: target_cfg_f!(target_feature = "avx512bf16"), ..io.nt }, ..io };
    // SAFETY: the buffers were checked by the public entry points.
    unsafe {
        match (target_cfg_f!(target_feature = "avx512f"), target_cfg_f!(target_feature = "fma")) {
            (true, _) => rows_body::<T, O, true, true>(job, io, rows, n, scratch),
            (false, true) => rows_body::<T, O, true, false>(job, io, rows, n, scratch),
            (false, false) => rows_body::<T, O, false, false>(job, io, rows, n, scratch),
        }
    }
}

/// One thread's partial of a split row.
#[derive(Clone, Copy, Debug, Default)]
struct Partial {
    m: f32,
    s: f32,
    nan: bool,
    /// Σ v_c over the slice (probability targets).
    vt: f32,
    /// Σ w_c·(z_c − m) (class targets with smoothing) or Σ v_c·(z_c − m) (probabilities), taken
    /// against the merged maximum.
    sd: f32,
}

/// Phase A of a split row over one slice: its (max, NaN, Σ e^{z − m_t}, Σ v).
#[inline(always)]
fn split_stats_body<T: InElem, const FMA: bool, const X: bool>(
    job: &Job<'_>,
    row: Row<'_>,
    z: &[T],
    off: usize,
    e: &mut [f32],
) -> Partial {
    let (m, nan) = max_nan(z);
    let mut p = Partial { m, nan, ..Default::default() };
    if nan || m == f32::INFINITY {
        return p; // the row takes the scalar path
    }
    if m == f32::NEG_INFINITY {
        // No mass in this slice (s_t = 0), but its soft-target weights still count.
        if let Row::Probs(q) = row {
            p.vt = (off..off + z.len()).map(|c| job.w(c) * ((1.0 - job.eps) * q[c] + job.b)).sum();
        }
        return p;
    }
    let e = &mut e[..z.len()];
    match row {
        Row::Probs(q) => {
            let w = job.weight.map(|w| &w[off..off + z.len()]);
            let (s, vt, _) =
                probs_pass::<T, FMA, X>(job, z, &q[off..off + z.len()], w, m, e, std::ptr::null());
            p.s = s;
            p.vt = vt;
        }
        _ => p.s = exp_pass::<T, FMA, X, false>(z, m, e, None, std::ptr::null()).0,
    }
    p
}

/// Phase B of a split row over one slice: writes the gradient slice and returns the slice's
/// smoothing / soft-target sum against the merged (m, s).
///
/// # Safety
/// `out` valid for `z.len()` writes.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn split_write_body<T: InElem, O: OutElem, const FMA: bool, const X: bool>(
    job: &Job<'_>,
    row: Row<'_>,
    (zp, len): (*const T, usize),
    off: usize,
    ms: (f32, f32, f32),
    e: &mut [f32],
    out: *mut O,
    nt: Store,
) -> f32 {
    let (m, s, vt) = ms;
    // A local borrow, last used before the slice is written (the output may alias it).
    // SAFETY: the caller's contract.
    let z = unsafe { std::slice::from_raw_parts(zp, len) };
    let e = &mut e[..len];
    let null = std::ptr::null();
    match row {
        Row::Class(y) => {
            let a = (1.0 - job.eps) * job.w(y);
            let b = job.b;
            let w = job.weight.map(|w| &w[off..off + len]);
            let sd = if b > 0.0 {
                exp_pass::<T, FMA, X, true>(z, m, e, w, null).1
            } else {
                exp_pass::<T, FMA, X, false>(z, m, e, w, null).1
            };
            let coef = (a + b * job.w_total) * job.k;
            let yl = y.wrapping_sub(off);
            // SAFETY: the caller's contract.
            unsafe { write_class(job, out, e, off, nt, [coef / s, job.k * b, job.k * a], yl) };
            sd
        }
        Row::Probs(q) => {
            let q = &q[off..off + len];
            let w = job.weight.map(|w| &w[off..off + len]);
            let (_, _, vd) = probs_pass::<T, FMA, X>(job, z, q, w, m, e, null);
            // SAFETY: the caller's contract.
            unsafe { write_probs(job, out, e, q, off, nt, job.k * vt / s) };
            vd
        }
        Row::Inactive => {
            // SAFETY: the caller's contract.
            unsafe { write_row(out, len, nt, usize::MAX, 0.0, |_| [0.0; W], |_| 0.0) };
            0.0
        }
    }
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+fma", "x86_64+avx2+fma", "aarch64+neon"))]
fn split_stats_dispatch<T: InElem>(
    job: &Job<'_>,
    row: Row<'_>,
    z: &[T],
    off: usize,
    e: &mut [f32],
) -> Partial {
    match (target_cfg_f!(target_feature = "avx512f"), target_cfg_f!(target_feature = "fma")) {
        (true, _) => split_stats_body::<T, true, true>(job, row, z, off, e),
        (false, true) => split_stats_body::<T, true, false>(job, row, z, off, e),
        (false, false) => split_stats_body::<T, false, false>(job, row, z, off, e),
    }
}

#[allow(clippy::too_many_arguments)]
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512bf16+fma",
    "x86_64+avx512f+avx512bw+avx512vl+fma",
    "x86_64+avx2+fma",
    "aarch64+neon"
))]
fn split_write_dispatch<T: InElem, O: OutElem>(
    job: &Job<'_>,
    row: Row<'_>,
    z: (SendPtr<T>, usize),
    off: usize,
    ms: (f32, f32, f32),
    e: &mut [f32],
    out: SendPtr<O>,
    nt: Store,
) -> f32 {
    let z = (z.0.0.cast_const(), z.1);
    let nt = Store { bf16_hw: target_cfg_f!(target_feature = "avx512bf16"), ..nt };
    // SAFETY: `out` points at the slice's gradient (the split driver's contract).
    unsafe {
        match (target_cfg_f!(target_feature = "avx512f"), target_cfg_f!(target_feature = "fma")) {
            (true, _) => split_write_body::<T, O, true, true>(job, row, z, off, ms, e, out.0, nt),
            (false, true) => split_write_body::<T, O, true, false>(job, row, z, off, ms, e, out.0, nt),
            (false, false) => split_write_body::<T, O, false, false>(job, row, z, off, ms, e, out.0, nt),
        }
    }
}

fn lock<X>(m: &Mutex<X>) -> std::sync::MutexGuard<'_, X> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Merges the slices' (m_t, s_t) in thread order: m = max m_t, s = Σ s_t·e^{m_t − m}.
fn merge(parts: &[Partial]) -> (f32, f32, bool) {
    let nan = parts.iter().any(|p| p.nan);
    let m = parts.iter().fold(f32::NEG_INFINITY, |m, p| if p.m > m { p.m } else { m });
    let s = parts.iter().filter(|p| p.m > f32::NEG_INFINITY).map(|p| p.s * (p.m - m).exp()).sum::<f32>();
    (m, s, nan)
}

/// How the rows are spread over threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Choose: split rows when N < threads and V ≥ [`SPLIT_MIN_CLASSES`].
    Auto,
    /// Whole rows per thread.
    #[cfg_attr(not(test), allow(dead_code))]
    Rows,
    /// Every row split over all threads.
    #[cfg_attr(not(test), allow(dead_code))]
    Split,
    /// Whole rows per thread, always by the two-pass row path (never the pipelined loop).
    #[cfg_attr(not(test), allow(dead_code))]
    TwoPass,
}

/// The smallest V for which the automatic plan splits rows over threads.
pub(crate) const SPLIT_MIN_CLASSES: usize = 4096;

/// Runs the kernel over all rows; returns Σ row losses (f64, in row order within a thread,
/// threads in order).
///
/// # Safety
/// `io.inp` valid for n·v reads, `io.out` for n·v writes, `io.per` null or valid for n writes;
/// the output may alias the input exactly (in place) but nothing else.
pub(crate) unsafe fn run<T: InElem, O: OutElem>(
    job: &Job<'_>,
    io: Io<T, O>,
    n: usize,
    threads: usize,
    plan: Plan,
) -> f64 {
    let v = job.v;
    let threads = threads.max(1);
    let split = match plan {
        Plan::Auto => threads > 1 && n < threads && v >= SPLIT_MIN_CLASSES,
        Plan::Rows | Plan::TwoPass => false,
        Plan::Split => threads > 1,
    };
    if !split {
        #[cfg(target_arch = "x86_64")]
        let pipelined = plan != Plan::TwoPass && pipeline::applies(job) && pipeline::available();
        let partials = run_blocks(n, threads, |_, rows| {
            #[allow(clippy::redundant_locals)]
            #[allow(clippy::redundant_locals)]
            let io = io; // the whole `Io` (Sync), not its raw-pointer fields
            let mut scratch = vec![0f32; v];
            // SAFETY: the caller's contract; blocks are disjoint.
            unsafe {
                #[cfg(target_arch = "x86_64")]
                if pipelined {
                    scratch.resize(v + 16, 0.0);
                    return pipeline::rows::<T, O>(job, io, rows, &mut scratch);
                }
                if job.scalar {
                    rows_body::<T, O, false, false>(job, io, rows, n, &mut scratch)
                } else {
                    rows_dispatch::<T, O>(job, io, rows, n, &mut scratch)
                }
            }
        });
        return partials.iter().sum();
    }
    // SAFETY: as above.
    unsafe { run_split(job, io, n, threads) }
}

/// The split-row path: each row's V entries are cut into `threads` slices; phase A computes each
/// slice's (m_t, s_t), a barrier, every thread merges them in the same order, phase B writes each
/// slice's gradient. Row losses are assembled afterwards in row order.
///
/// # Safety
/// As [`run`].
unsafe fn run_split<T: InElem, O: OutElem>(job: &Job<'_>, io: Io<T, O>, n: usize, threads: usize) -> f64 {
    let v = job.v;
    let parts = Mutex::new(vec![Partial::default(); n * threads]);
    let slow = Mutex::new(vec![None::<f32>; n]);
    // The label logits, read before anything is written (the output may alias the input).
    let zy: Vec<f32> = (0..n)
        .map(|i| match job.row(i) {
            // SAFETY: y < v was validated.
            Row::Class(y) => unsafe { io.inp.add(i * v + y).read().f() },
            _ => 0.0,
        })
        .collect();
    let barrier = Barrier::new(threads);
    run_blocks(threads, threads, |t, _| {
        #[allow(clippy::redundant_locals)]
        let io = io; // the whole `Io` (Sync), not its raw-pointer fields
        let slice = block(v, threads, t);
        let mut e = vec![0f32; slice.len()];
        for i in 0..n {
            let row = job.row(i);
            // SAFETY: row i, slice t lies inside the input.
            let zp = unsafe { io.inp.add(i * v + slice.start) };
            let p = {
                // SAFETY: as above; a local borrow that ends before anything is written.
                let z = unsafe { std::slice::from_raw_parts(zp, slice.len()) };
                if job.scalar {
                    split_stats_body::<T, false, false>(job, row, z, slice.start, &mut e)
                } else {
                    split_stats_dispatch::<T>(job, row, z, slice.start, &mut e)
                }
            };
            let zs = (SendPtr(zp.cast_mut()), slice.len());
            lock(&parts)[i * threads + t] = p;
            barrier.wait();
            let row_parts: Vec<Partial> = lock(&parts)[i * threads..(i + 1) * threads].to_vec();
            let (m, s, nan) = merge(&row_parts);
            let vt: f32 = row_parts.iter().map(|p| p.vt).sum();
            if matches!(row, Row::Inactive) || (!nan && m.is_finite()) {
                // SAFETY: slice t of row i is this thread's alone.
                let out = SendPtr(unsafe { io.out.add(i * v + slice.start) });
                let sd = if job.scalar {
                    // SAFETY: as above.
                    unsafe {
                        split_write_body::<T, O, false, false>(
                            job,
                            row,
                            (zp, zs.1),
                            slice.start,
                            (m, s, vt),
                            &mut e,
                            out.0,
                            io.nt,
                        )
                    }
                } else {
                    split_write_dispatch::<T, O>(job, row, zs, slice.start, (m, s, vt), &mut e, out, io.nt)
                };
                lock(&parts)[i * threads + t].sd = sd;
            } else if t == 0 {
                // SAFETY: row i is read completely before thread 0 writes it; the other threads
                // skip it.
                let zf: Vec<f32> = (0..v).map(|c| unsafe { io.inp.add(i * v + c).read().f() }).collect();
                let loss = unsafe { slow_row(job, row, &zf, io.out.add(i * v)) };
                slow.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(loss);
            }
        }
        store_fence(io.nt);
    });
    let parts = parts.into_inner().unwrap_or_else(|p| p.into_inner());
    let slow = slow.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut total = 0f64;
    for i in 0..n {
        let row_parts = &parts[i * threads..(i + 1) * threads];
        let loss = match (job.row(i), slow[i]) {
            (Row::Inactive, _) => 0.0,
            (_, Some(l)) => l,
            (Row::Class(y), None) => {
                let (m, s, _) = merge(row_parts);
                let log_s = s.ln();
                let a = (1.0 - job.eps) * job.w(y);
                let mut loss = if a == 0.0 { 0.0 } else { a * (log_s - (zy[i] - m)) };
                if job.b > 0.0 {
                    let sd: f32 = row_parts.iter().map(|p| p.sd).sum();
                    loss += job.b * (job.w_total * log_s - sd);
                }
                loss
            }
            (Row::Probs(_), None) => {
                let (_, s, _) = merge(row_parts);
                let vt: f32 = row_parts.iter().map(|p| p.vt).sum();
                let vd: f32 = row_parts.iter().map(|p| p.sd).sum();
                vt * s.ln() - vd
            }
        };
        if !io.per.is_null() {
            // SAFETY: i < n.
            unsafe { io.per.add(i).write(loss) };
        }
        total += f64::from(loss);
    }
    total
}

/// Builds the job of a class-target call from validated options.
pub(crate) fn class_job<'a>(
    v: usize,
    target: &'a [i64],
    opts: &CrossEntropyOptions<'a, f32>,
    k: f32,
) -> Job<'a> {
    let w_total = opts.weight.map_or(v as f32, |w| w.iter().sum());
    Job {
        v,
        targets: Targets::Class(target),
        weight: opts.weight,
        ignore: opts.ignore_index,
        mask: opts.mask,
        eps: opts.label_smoothing,
        b: opts.label_smoothing / v as f32,
        w_total,
        k,
        scalar: false,
    }
}

/// Builds the job of a probability-target call from validated options.
pub(crate) fn probs_job<'a>(
    v: usize,
    target: &'a [f32],
    opts: &CrossEntropyOptions<'a, f32>,
    k: f32,
) -> Job<'a> {
    Job { targets: Targets::Probs(target), ignore: None, ..class_job(v, &[], opts, k) }
}
