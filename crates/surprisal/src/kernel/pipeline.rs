//! The pipelined row loop on x86-64 with AVX-512 (F, BW, VL, BF16) for class-target rows (with
//! or without label smoothing and class weights): one loop per row that reads this row and
//! writes the previous row's gradient.
//!
//! ```text
//! row i (target y_i, not ignored), shift m' = max of its first 256 logits:
//!   for each chunk c:   g_{i−1}[c] = α_{i−1}·e[c] − β·w_c       the previous row's gradient, from
//!                                                               the scratch, streamed out
//!                       e[c] = e^{z_i[c] − m'},  s_i += e[c]    this row, read from memory
//!                       (with smoothing: sd_i += w_c·(z_i[c] − m') where w_c > 0)
//!   g_{i−1}[y_{i−1}] = α_{i−1}·e_y − β·w_y − δ_{i−1}            one plain store after a fence
//!   ℓ_i, α_i, β, δ_i as in the row path (module documentation of `kernel`)
//! ```
//!
//! The two-pass row path ([`super::cross_entropy`]) reads a row, then writes its gradient: the
//! memory reads and writes of one thread alternate and the exponentials of a row wait for its
//! reads. Here both streams run in every iteration, as in a copy; the gradient side runs a few
//! entries ahead (its chunks start on the gradient's 64-byte lines), so every scratch entry of
//! the previous row is read before the same entry of this row is written, and one row-sized
//! scratch serves both. The shift m' is rounded to a multiple of ln2/16 and folded into the
//! exponential's 16-entry table (e^{z − m'} = 2^{⌊n/16⌋}·T'[n mod 16]·e^r with n/16 the rounded
//! z·log₂e and T' the table scaled by 2^{−m'/ln2}), so no lane subtracts the shift (for
//! |m'| ≤ 64 and no class weights with smoothing; otherwise z − m' as in the row path). The
//! exponential drops its lower clamp (−104); a row whose sum comes out
//! non-finite (overflow against the shift, NaN, ±inf logits on CPUs where those make a NaN) is
//! redone with the clamp from its true maximum, or takes the reference's scalar path (NaN,
//! non-finite maximum), exactly as in the row path. Results equal the row path's up to the last
//! bits of the exponential and of the sums' order, and do not depend on the buffers' addresses.

use super::cross_entropy::{GUESS, InElem, Io, Job, OutElem, Row, Targets, W, max_nan, slow_row, write_row};
use super::exp::{exp_m512, exp_m512_scaled, scaled_table};
use half::bf16;
use std::arch::x86_64::*;
use std::ops::Range;

/// How far ahead (bytes) the loop prefetches the row it reads, into L1.
const AHEAD_BYTES: usize = 4096;

/// Whether this CPU runs the pipelined loop.
pub(crate) fn available() -> bool {
    is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vl")
        && is_x86_feature_detected!("avx512bf16")
        && is_x86_feature_detected!("fma")
}

/// Whether a job takes the pipelined loop: class targets.
pub(crate) fn applies(job: &Job<'_>) -> bool {
    matches!(job.targets, Targets::Class(_)) && !job.scalar
}

/// `t`, or 0 where rounding took a quantity that is ≥ 0 in exact arithmetic below 0 (NaN stays).
#[inline(always)]
fn nonnegative(t: f32) -> f32 {
    if t < 0.0 { 0.0 } else { t }
}

/// A logit storage type the loop reads 16 at a time.
pub(crate) trait Load {
    /// 16 values from `p` widened to f32 (unaligned).
    ///
    /// # Safety
    /// AVX-512 F/BW/VL available; `p` valid for 16 reads.
    unsafe fn load16(p: *const Self) -> __m512;
    /// The lanes of `k` from `p` widened to f32, 0 elsewhere (reads only the lanes of `k`).
    ///
    /// # Safety
    /// As [`Load::load16`] for the lanes of `k`.
    unsafe fn load16_masked(p: *const Self, k: __mmask16) -> __m512;
}

impl Load for f32 {
    #[inline(always)]
    unsafe fn load16(p: *const Self) -> __m512 {
        // SAFETY: the caller's contract.
        unsafe { _mm512_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn load16_masked(p: *const Self, k: __mmask16) -> __m512 {
        // SAFETY: the caller's contract.
        unsafe { _mm512_maskz_loadu_ps(k, p) }
    }
}

impl Load for bf16 {
    #[inline(always)]
    unsafe fn load16(p: *const Self) -> __m512 {
        // SAFETY: the caller's contract; bf16 → f32 is a 16-bit shift of the bits.
        unsafe {
            let h = _mm256_loadu_si256(p.cast::<__m256i>());
            _mm512_castsi512_ps(_mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(h)))
        }
    }
    #[inline(always)]
    unsafe fn load16_masked(p: *const Self, k: __mmask16) -> __m512 {
        // SAFETY: the caller's contract.
        unsafe {
            let h = _mm256_maskz_loadu_epi16(k, p.cast::<i16>());
            _mm512_castsi512_ps(_mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(h)))
        }
    }
}

/// A gradient storage type the loop writes 32 at a time.
pub(crate) trait Put {
    /// Stores `a` then `b` (32 values) at `p`; with `stream`, non-temporal (`p` 64-byte aligned).
    ///
    /// # Safety
    /// AVX-512 F/BW/VL/BF16 available; `p` valid for 32 writes.
    unsafe fn put32(p: *mut Self, a: __m512, b: __m512, stream: bool);
    /// Stores the lanes of `k` of `a` at `p` (plain stores).
    ///
    /// # Safety
    /// As [`Put::put32`] for the lanes of `k`.
    unsafe fn put16_masked(p: *mut Self, a: __m512, k: __mmask16);
}

impl Put for f32 {
    #[inline(always)]
    unsafe fn put32(p: *mut Self, a: __m512, b: __m512, stream: bool) {
        // SAFETY: the caller's contract.
        unsafe {
            if stream {
                _mm512_stream_ps(p, a);
                _mm512_stream_ps(p.add(16), b);
            } else {
                _mm512_storeu_ps(p, a);
                _mm512_storeu_ps(p.add(16), b);
            }
        }
    }
    #[inline(always)]
    unsafe fn put16_masked(p: *mut Self, a: __m512, k: __mmask16) {
        // SAFETY: the caller's contract.
        unsafe { _mm512_mask_storeu_ps(p, k, a) }
    }
}

impl Put for bf16 {
    #[inline(always)]
    unsafe fn put32(p: *mut Self, a: __m512, b: __m512, stream: bool) {
        // SAFETY: the caller's contract; round to nearest even (results below 2⁻¹²⁶ flush to 0).
        unsafe {
            let h: __m512i = std::mem::transmute(_mm512_cvtne2ps_pbh(b, a));
            if stream {
                _mm512_stream_si512(p.cast::<__m512i>(), h);
            } else {
                _mm512_storeu_si512(p.cast::<__m512i>(), h);
            }
        }
    }
    #[inline(always)]
    unsafe fn put16_masked(p: *mut Self, a: __m512, k: __mmask16) {
        // SAFETY: the caller's contract.
        unsafe {
            let h: __m256i = std::mem::transmute(_mm512_cvtneps_pbh(a));
            _mm256_mask_storeu_epi16(p.cast::<i16>(), k, h);
        }
    }
}

/// The row being exponentiated by a [`sweep`], and its shift m: e = e^{z − m}.
#[derive(Clone, Copy)]
struct Read<T> {
    z: *const T,
    shift: Shift,
}

/// A row's shift: subtracted from each logit, or (`k`) m = k·ln2/16 folded into the
/// exponential's table ([`exp_m512_scaled`]), which saves the subtraction.
#[derive(Clone, Copy)]
struct Shift {
    m: f32,
    k: Option<i32>,
}

impl Shift {
    /// The shift for `m`: folded when |m| ≤ 64 (the folded table's scale 2^{−K} is then a normal
    /// f32) and the variant `S` needs no per-entry z − m (S = 2 weights it).
    fn new<const S: u8>(m: f32) -> Self {
        let k = (S < 2 && m.abs() <= 64.0)
            .then(|| (f64::from(m) * 16.0 * std::f64::consts::LOG2_E).round() as i32);
        Shift { m, k }
    }
    /// The shift's value.
    fn value(self) -> f64 {
        self.k.map_or(f64::from(self.m), |k| f64::from(k) * std::f64::consts::LN_2 / 16.0)
    }
}

/// The row whose gradient a [`sweep`] writes: g = α·e − β·w (the label entry is fixed
/// afterwards).
#[derive(Clone, Copy)]
struct Write<O> {
    g: *mut O,
    alpha: f32,
    stream: bool,
}

/// What a block's sweeps share: V, the scratch, and label smoothing (`S` of [`sweep`]: 0 none,
/// 1 without class weights, 2 with them; β = k·ε/V).
#[derive(Clone, Copy)]
struct Ctx {
    v: usize,
    e: *mut f32,
    weight: *const f32,
    beta: f32,
}

/// One sweep over the scratch (V entries): writes the gradient of `w` from it, then (same
/// entries) exponentiates `r` into it; returns (Σ e, Σ_{w_c>0} w_c·(z_c − m)) ((0, 0) without
/// `r`; the second only with smoothing). `CLAMP` keeps the exponential's lower clamp. The
/// gradient's chunks are aligned to its 64-byte lines (plain masked stores for the entries
/// before the first line and after the last full chunk); the exponentials' chunks start at 0, so
/// the sums do not depend on the buffers' addresses.
///
/// # Safety
/// AVX-512 F/BW/VL/BF16 and FMA available; `x.e` valid for `v` reads and writes, `x.weight` for
/// `v` reads when `S` = 2, `r.z` for `v` reads, `w.g` for `v` writes; the gradient may alias
/// `r.z` only if `w` is `None`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16,fma")]
unsafe fn sweep<T: InElem, O: OutElem, const CLAMP: bool, const S: u8, const FOLD: bool>(
    x: Ctx,
    r: Option<Read<T>>,
    w: Option<Write<O>>,
) -> (f32, f32) {
    let (v, e) = (x.v, x.e);
    let m = _mm512_set1_ps(r.map_or(0.0, |r| r.shift.m));
    let table = if FOLD { scaled_table(r.and_then(|r| r.shift.k).unwrap_or(0)) } else { _mm512_setzero_ps() };
    // e^{z − m}, and the z − m (or z, folded) that the smoothing sum takes.
    let exp = |z: __m512| -> (__m512, __m512) {
        if FOLD {
            (exp_m512_scaled::<false, false>(z, table), z)
        } else {
            let d = _mm512_sub_ps(z, m);
            (exp_m512::<CLAMP, false>(d), d)
        }
    };
    let alpha = _mm512_set1_ps(w.map_or(0.0, |w| w.alpha));
    let beta = _mm512_set1_ps(x.beta);
    let zero = _mm512_setzero_ps();
    let (mut s0, mut s1, mut sd) = (zero, zero, zero);
    // The gradient of 16 entries from c, and the smoothing sum's term.
    // SAFETY (both closures): called with c + 16 ≤ v (or a mask k within v).
    let grad = |c: usize, ec: __m512, k: __mmask16| -> __m512 {
        let g = _mm512_mul_ps(alpha, ec);
        match S {
            0 => g,
            1 => _mm512_sub_ps(g, beta),
            _ => _mm512_fnmadd_ps(beta, unsafe { _mm512_maskz_loadu_ps(k, x.weight.add(c)) }, g),
        }
    };
    let smooth = |c: usize, d: __m512, k: __mmask16, sd: &mut __m512| match S {
        0 => {}
        1 => *sd = _mm512_mask_add_ps(*sd, k, *sd, d),
        _ => {
            let wc = unsafe { _mm512_maskz_loadu_ps(k, x.weight.add(c)) };
            let pos = _mm512_mask_cmp_ps_mask::<_CMP_GT_OQ>(k, wc, zero);
            *sd = _mm512_mask_add_ps(*sd, pos, *sd, _mm512_mul_ps(wc, d));
        }
    };
    // The gradient of up to 16 entries from c under a mask (the head and the tail).
    let write_part = |c: usize, len: usize| {
        let k: __mmask16 = if len >= 16 { 0xffff } else { (1u16 << len) - 1 };
        if let Some(w) = w {
            // SAFETY: c + len ≤ v, the lanes of k only.
            unsafe { O::put16_masked(w.g.add(c), grad(c, _mm512_maskz_loadu_ps(k, e.add(c)), k), k) };
        }
    };
    // The exponentials of up to 16 entries from c under a mask (the tail).
    let read_part = |c: usize, len: usize, s: &mut __m512, sd: &mut __m512| {
        let k: __mmask16 = if len >= 16 { 0xffff } else { (1u16 << len) - 1 };
        if let Some(r) = r {
            // SAFETY: c + len ≤ v, the lanes of k only.
            unsafe {
                let (ex, d) = exp(T::load16_masked(r.z.add(c), k));
                _mm512_mask_storeu_ps(e.add(c), k, ex);
                *s = _mm512_mask_add_ps(*s, k, *s, ex);
                smooth(c, d, k, sd);
            }
        }
    };
    let all: __mmask16 = 0xffff;
    let ahead = AHEAD_BYTES / std::mem::size_of::<T>();
    // The exponentials of the 32 entries from c.
    let read32 = |c: usize, s0: &mut __m512, s1: &mut __m512, sd: &mut __m512| {
        if let Some(r) = r {
            // SAFETY: c + 32 ≤ v (the prefetch is a hint and may point past the row).
            unsafe {
                let p = r.z.wrapping_add(c + ahead).cast::<i8>();
                _mm_prefetch::<_MM_HINT_T0>(p);
                if std::mem::size_of::<T>() == 4 {
                    _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(64));
                }
                let (x0, d0) = exp(T::load16(r.z.add(c)));
                let (x1, d1) = exp(T::load16(r.z.add(c + 16)));
                _mm512_storeu_ps(e.add(c), x0);
                _mm512_storeu_ps(e.add(c + 16), x1);
                *s0 = _mm512_add_ps(*s0, x0);
                *s1 = _mm512_add_ps(*s1, x1);
                smooth(c, d0, all, sd);
                smooth(c + 16, d1, all, sd);
            }
        }
    };
    // The gradient runs `head` entries ahead of the exponentials, so that its chunks start on
    // the gradient's 64-byte lines while the exponentials' chunks (and so the order of the sums)
    // do not depend on where the buffers lie; ahead is safe: an entry is read for the gradient
    // before it is overwritten.
    let head = match w {
        Some(w) => ((64 - (w.g as usize) % 64) % 64 / std::mem::size_of::<O>()).min(v),
        None => 0,
    };
    let mut c = 0;
    while c < head {
        write_part(c, (head - c).min(16));
        c += 16;
    }
    let mut c = 0;
    while c + head + 32 <= v {
        if let Some(w) = w {
            let cw = c + head;
            // SAFETY: cw + 32 ≤ v; the chunk starts on a 64-byte line of the gradient.
            unsafe {
                let g0 = grad(cw, _mm512_loadu_ps(e.add(cw)), all);
                let g1 = grad(cw + 16, _mm512_loadu_ps(e.add(cw + 16)), all);
                O::put32(w.g.add(cw), g0, g1, w.stream);
            }
        }
        read32(c, &mut s0, &mut s1, &mut sd);
        c += 32;
    }
    let mut cw = c + head;
    while cw < v {
        write_part(cw, (v - cw).min(16));
        cw += 16;
    }
    while c + 32 <= v {
        read32(c, &mut s0, &mut s1, &mut sd);
        c += 32;
    }
    if c < v {
        read_part(c, (v - c).min(16), &mut s0, &mut sd);
    }
    if c + 16 < v {
        read_part(c + 16, v - c - 16, &mut s1, &mut sd);
    }
    (_mm512_reduce_add_ps(_mm512_add_ps(s0, s1)), _mm512_reduce_add_ps(sd))
}

/// A row whose exponentials are in the scratch and whose gradient is still to be written.
#[derive(Clone, Copy)]
struct Pending<O> {
    g: *mut O,
    alpha: f32,
    y: usize,
    /// The label entry's correction: β·w_y + δ.
    label: f32,
}

/// Writes the pending row's gradient (alone, or in the same sweep as the next row's
/// exponentials) and its label entry α·e_y − β·w_y − δ.
///
/// # Safety
/// As [`sweep`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16,fma")]
unsafe fn finish<T: InElem, O: OutElem, const S: u8, const FOLD: bool>(
    x: Ctx,
    p: Pending<O>,
    r: Option<Read<T>>,
    stream: bool,
) -> (f32, f32) {
    // SAFETY: the caller's contract; e_y is read before the sweep overwrites it, and the fence
    // orders the streamed line before the label's plain store.
    unsafe {
        let ey = x.e.add(p.y).read();
        let w = Write { g: p.g, alpha: p.alpha, stream };
        let s = sweep::<T, O, false, S, FOLD>(x, r, Some(w));
        if stream {
            _mm_sfence();
        }
        O::put(p.g.add(p.y), p.alpha * ey - p.label);
        s
    }
}

/// The pipelined loop over a block of rows (see the module documentation); returns Σ row
/// losses (f64, row order) and writes the per-row losses when asked.
///
/// # Safety
/// [`available`] and [`applies`]; `io` valid for the rows in `rows`; `scratch` of length V + 16.
pub(crate) unsafe fn rows<T: InElem, O: OutElem>(
    job: &Job<'_>,
    io: Io<T, O>,
    rows: Range<usize>,
    scratch: &mut [f32],
) -> f64 {
    // SAFETY: the caller's contract.
    unsafe {
        match (job.b > 0.0, job.weight.is_some()) {
            (false, _) => rows_with::<T, O, 0>(job, io, rows, scratch),
            (true, false) => rows_with::<T, O, 1>(job, io, rows, scratch),
            (true, true) => rows_with::<T, O, 2>(job, io, rows, scratch),
        }
    }
}

/// [`rows`] for one smoothing variant `S` (see [`Ctx`]).
///
/// # Safety
/// As [`rows`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16,fma")]
unsafe fn rows_with<T: InElem, O: OutElem, const S: u8>(
    job: &Job<'_>,
    io: Io<T, O>,
    rows: Range<usize>,
    scratch: &mut [f32],
) -> f64 {
    let v = job.v;
    // A 64-byte aligned scratch: the exponentials' chunks (from entry 0) are stored on whole
    // lines; the gradient's chunks, aligned to the gradient's lines, read it unaligned.
    let off = (16 - scratch.as_ptr() as usize / 4 % 16) % 16;
    let x = Ctx {
        v,
        e: scratch[off..off + v].as_mut_ptr(),
        weight: job.weight.map_or(std::ptr::null(), |w| w.as_ptr()),
        beta: job.k * job.b,
    };
    let stream = io.nt.stream;
    let mut pending: Option<Pending<O>> = None;
    let mut total = 0f64;
    for i in rows {
        // SAFETY (whole loop body): row i lies inside the buffers (the caller's contract); the
        // scratch holds V entries; a row's gradient is written only after its logits are read.
        let (zp, gp) = unsafe { (io.inp.add(i * v), io.out.add(i * v)) };
        let loss = match job.row(i) {
            Row::Class(y) => 'row: {
                let guess = max_nan(unsafe { std::slice::from_raw_parts(zp, v.min(GUESS)) }).0;
                let read = Read { z: zp, shift: Shift::new::<S>(guess) };
                let folded = read.shift.k.is_some();
                let (s, sd) = match (guess.is_finite(), pending.take(), folded) {
                    (false, p, _) => {
                        pending = p;
                        (f32::NAN, 0.0)
                    }
                    (true, Some(p), true) => unsafe { finish::<T, O, S, true>(x, p, Some(read), stream) },
                    (true, Some(p), false) => unsafe { finish::<T, O, S, false>(x, p, Some(read), stream) },
                    (true, None, true) => unsafe { sweep::<T, O, false, S, true>(x, Some(read), None) },
                    (true, None, false) => unsafe { sweep::<T, O, false, S, false>(x, Some(read), None) },
                };
                let (shift, s, sd) = if s.is_finite() && s > 0.0 {
                    (read.shift, s, sd)
                } else {
                    if let Some(p) = pending.take() {
                        unsafe { finish::<T, O, S, false>(x, p, None, stream) };
                    }
                    let z = unsafe { std::slice::from_raw_parts(zp, v) };
                    let (m, nan) = max_nan(z);
                    if nan || !m.is_finite() {
                        let zf: Vec<f32> = z.iter().map(|x| x.f()).collect();
                        // The reference's scalar path; no pending row.
                        break 'row unsafe { slow_row(job, Row::Class(y), &zf, gp) };
                    }
                    // With the true maximum, subtracted and clamped, the sum lies in [1, V].
                    let shift = Shift { m, k: None };
                    let (s, sd) =
                        unsafe { sweep::<T, O, true, S, false>(x, Some(Read { z: zp, shift }), None) };
                    (shift, s, sd)
                };
                // The row path's formulas (see the module documentation of `kernel`); a folded
                // shift's smoothing sum is Σ z_c, from which V·m is taken here.
                let (a, b) = ((1.0 - job.eps) * job.w(y), job.b);
                let dy = (f64::from(unsafe { zp.add(y).read() }.f()) - shift.value()) as f32;
                let sd =
                    if shift.k.is_some() { (f64::from(sd) - v as f64 * shift.value()) as f32 } else { sd };
                let log_s = s.ln();
                // −log p_y = ln s − dy. With the shift m' not the row's maximum, these two are
                // nearly equal for a confident row, and their difference can come out a few 1e-8
                // below 0; ln(s/e_y), with e_y = e^{dy} as stored in the scratch and summed into s,
                // is ≥ 0 (s holds e_y and terms ≥ 0) and exactly 0 when the other terms vanish
                // (V = 1). ln s − dy where e_y is subnormal or the ratio overflows.
                let e_y = unsafe { x.e.add(y).read() };
                let ratio = s / e_y;
                let nll = if e_y >= f32::MIN_POSITIVE && ratio.is_finite() { ratio.ln() } else { log_s - dy };
                let mut loss = if a == 0.0 { 0.0 } else { a * nll };
                if S > 0 {
                    // Σ_{w_c>0} w_c·(−log p_c) ≥ 0, kept so against the same cancellation.
                    loss += b * nonnegative(job.w_total * log_s - sd);
                }
                let alpha = (a + b * job.w_total) * job.k / s;
                let label = x.beta * if S == 2 { job.w(y) } else { 1.0 } + job.k * a;
                pending = Some(Pending { g: gp, alpha, y, label });
                loss
            }
            _ => {
                // Ignored or masked: a zero gradient row (the pending row stays in the scratch).
                unsafe { write_row(gp, v, io.nt, usize::MAX, 0.0, |_| [0.0; W], |_| 0.0) };
                0.0
            }
        };
        if !io.per.is_null() {
            // SAFETY: i < n.
            unsafe { io.per.add(i).write(loss) };
        }
        total += f64::from(loss);
    }
    if let Some(p) = pending {
        // SAFETY: as above.
        unsafe { finish::<T, O, S, false>(x, p, None, stream) };
    }
    if stream {
        _mm_sfence();
    }
    total
}
