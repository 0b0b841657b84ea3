//! Branch-free `exp` and `ln` on `f32`, written so that a loop over a fixed-width chunk
//! (`[f32; 16]`) vectorises: no table look-ups, no branches, no float-to-int conversion.
//!
//! ```text
//! exp(x):  x ← clamp(x, −104, 89)                      (−inf → 0, +inf → inf, NaN stays NaN)
//!          n = round(x·log₂e)    via t = x·log₂e + 1.5·2²³ (the low mantissa bits of t hold n)
//!          r = (x − n·ln2_hi) − n·ln2_lo                (Cody–Waite, |r| ≤ ln2/2, n·ln2_hi exact)
//!          e^r ≈ 1 + r + r²·P(r)                        (degree-5 P: Cephes `expf` minimax)
//!          2ⁿ = 2^⌊n/2⌋ · 2^(n−⌊n/2⌋)                   (two exponent-field scalings, so that
//!                                                        subnormal results round only once)
//! ln(x):   x = m·2ᵉ with m ∈ [√½, √2);  ln x = e·ln2 + (m−1) − (m−1)²/2 + (m−1)³·Q(m−1)
//! ```
//!
//! Accuracy (measured by the tests against `f64::exp` over a dense sweep of [−104, 89]): at most
//! 0.98 ulp from the exact value, with or without FMA; exact at 0 (`exp(0) = 1`) and at the
//! specials (−inf → 0, +inf → inf, NaN → NaN). The AVX-512 table variant `exp16_avx512` used by
//! the softmax passes: at most 1.26 ulp, the same specials.

/// a·b + c, fused when the caller's target has FMA (`FMA = true`), two roundings otherwise.
#[inline(always)]
pub(crate) fn fmadd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split so that n·LN2_HI is exact for |n| < 2⁹ (LN2_HI has 9 significant bits).
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// 1.5·2²³: adding it rounds to an integer held in the low mantissa bits.
const SHIFT: f32 = 12_582_912.0;

/// e^x for one lane (inlined into the vectorised loops; see the module documentation).
#[inline(always)]
pub(crate) fn exp<const FMA: bool>(x: f32) -> f32 {
    let x = x.clamp(-104.0, 89.0);
    let t = fmadd::<FMA>(x, LOG2E, SHIFT);
    let n = (t.to_bits() as i32).wrapping_sub(SHIFT.to_bits() as i32);
    let nf = t - SHIFT;
    let r = fmadd::<FMA>(nf, -LN2_HI, x);
    let r = fmadd::<FMA>(nf, -LN2_LO, r);
    let mut p = 1.987_569_2e-4f32;
    p = fmadd::<FMA>(p, r, 1.398_199_9e-3);
    p = fmadd::<FMA>(p, r, 8.333_452e-3);
    p = fmadd::<FMA>(p, r, 4.166_579_6e-2);
    p = fmadd::<FMA>(p, r, 1.666_666_5e-1);
    p = fmadd::<FMA>(p, r, 0.5);
    let y = fmadd::<FMA>(p, r * r, r) + 1.0;
    // n ∈ [−150, 129] after the clamp (garbage only for NaN, where y is NaN anyway).
    let n1 = n >> 1;
    let n2 = n - n1;
    let s1 = f32::from_bits(((n1 + 127) as u32 & 0xff) << 23);
    let s2 = f32::from_bits(((n2 + 127) as u32 & 0xff) << 23);
    y * s1 * s2
}

/// e^x with results below 2⁻¹²⁶ flushed to 0 (one exponent-field scaling instead of two): the
/// kernels' exponential of shifted logits, where such terms are below the resolution of a sum
/// that holds a 1. Same polynomial, so the same results for x ∈ [−87.3, 88) (≥ 2⁻¹²⁶);
/// −inf → 0, x ≳ 88.03 (where round(x·log₂e) = 128) → inf, NaN → NaN. The kernels only pass
/// x ≤ 0, or check the sum for overflow.
#[inline(always)]
pub(crate) fn exp_flush<const FMA: bool>(x: f32) -> f32 {
    // x ≥ −88 gives n ≥ −127, and n = −127 makes the scale's bit pattern 0: the flush.
    let x = x.clamp(-88.0, 89.0);
    let t = fmadd::<FMA>(x, LOG2E, SHIFT);
    let nf = t - SHIFT;
    let r = fmadd::<FMA>(nf, -LN2_HI, x);
    let r = fmadd::<FMA>(nf, -LN2_LO, r);
    let mut p = 1.987_569_2e-4f32;
    p = fmadd::<FMA>(p, r, 1.398_199_9e-3);
    p = fmadd::<FMA>(p, r, 8.333_452e-3);
    p = fmadd::<FMA>(p, r, 4.166_579_6e-2);
    p = fmadd::<FMA>(p, r, 1.666_666_5e-1);
    p = fmadd::<FMA>(p, r, 0.5);
    let y = fmadd::<FMA>(p, r * r, r) + 1.0;
    // bits(t) = bits(SHIFT) + n, so (bits(t) − bits(SHIFT) + 127) << 23 is 2ⁿ (n ∈ [−127, 128]).
    let scale = f32::from_bits(t.to_bits().wrapping_add((127u32).wrapping_sub(SHIFT.to_bits())) << 23);
    y * scale
}

/// 2^{j/16}, j = 0..15, rounded to f32 (the table of [`exp16`] on AVX-512).
#[cfg(target_arch = "x86_64")]
pub(crate) const EXP2_16THS: [f32; 16] = [
    1.0,
    1.044_273_8,
    1.090_507_7,
    1.138_788_6,
    1.189_207_1,
    1.241_857_8,
    1.296_839_6,
    1.354_255_6,
    std::f32::consts::SQRT_2,
    1.476_826_1,
    1.542_210_8,
    1.610_490_3,
    1.681_792_9,
    1.756_252_2,
    1.834_008_1,
    1.915_206_6,
];

/// e^x for 16 lanes with AVX-512 F (the caller guarantees the CPU has it and runs in code
/// compiled for it): [`exp_m512`] with both clamps, over arrays.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) unsafe fn exp16_avx512(x: &[f32; 16]) -> [f32; 16] {
    use std::arch::x86_64::{_mm512_loadu_ps, _mm512_storeu_ps};
    let mut out = [0f32; 16];
    // SAFETY: the caller's contract (AVX-512 F and FMA available); loads and stores are
    // unaligned and within the arrays.
    unsafe { _mm512_storeu_ps(out.as_mut_ptr(), exp_m512::<true, true>(_mm512_loadu_ps(x.as_ptr()))) };
    out
}

/// e^x for 16 lanes with AVX-512 F:
///
/// ```text
/// x ← max(x, −104) (LOWER), min(x, 89) (UPPER)   (NaN kept: the clamps return their NaN operand)
/// t = x·log₂e + 1.5·2¹⁹     rounds x·log₂e to a multiple of 1/16: t − 1.5·2¹⁹ = n/16, and the
///                           low 4 bits of t's encoding are j = n mod 16 (the index of vpermps)
/// r = x − (n/16)·ln2        (ln2 split hi/lo; (n/16)·ln2_hi is exact: 12 × 9 significant bits)
/// e^x = 2^{⌊n/16⌋} · T[j] · (1 + r + r²/2 + r³/6)    |r| ≤ ln2/32, T[j] = 2^{j/16};
///                           vscalefps(y, n/16) scales by 2^{⌊n/16⌋} with correct overflow and
///                           subnormal results
/// ```
///
/// Polynomial error r⁴/24 < 1e-8 relative; the table entries are rounded (½ ulp); measured at
/// most 1.3 ulp against `f64::exp` on [−104, 89] (see the tests). Without LOWER, x < −104 still
/// gives the right value (0) for x ≥ −2²⁰, and x = −inf gives 0 or NaN (the reduction makes a
/// NaN, which `vscalefps(NaN, −inf)` keeps on some CPUs and turns into 0 on others); without
/// UPPER, x > 89 gives +inf and x = +inf gives +inf or NaN. The kernels that drop a clamp check
/// the row's sum and redo the row with the clamps when it is not finite.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
#[inline]
pub(crate) fn exp_m512<const LOWER: bool, const UPPER: bool>(
    v: std::arch::x86_64::__m512,
) -> std::arch::x86_64::__m512 {
    // SAFETY: the table has 16 entries (a 64-byte unaligned load).
    let table = unsafe { std::arch::x86_64::_mm512_loadu_ps(EXP2_16THS.as_ptr()) };
    exp_m512_scaled::<LOWER, UPPER>(v, table)
}

/// [`exp_m512`] with its table T[j] = 2^{j/16} replaced by `table`: with
/// T'[j] = 2^{(j − κ)/16 − K}·(½ if j < κ) (κ ∈ 0..16, K an integer) the result is
/// e^{x − m} for the shift m = (16K + κ)·ln2/16, with no subtraction per lane (the kernels'
/// shifted exponentials). x itself is reduced, so the reduction is exact for |x| ≤ 1419 and the
/// result right for x ≥ −2²⁰ (0 below the shifted range).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
#[inline]
pub(crate) fn exp_m512_scaled<const LOWER: bool, const UPPER: bool>(
    v: std::arch::x86_64::__m512,
    table: std::arch::x86_64::__m512,
) -> std::arch::x86_64::__m512 {
    use std::arch::x86_64::*;
    const SHIFT16: f32 = 786_432.0; // 1.5·2¹⁹: the ulp of t is 1/16
    let v = if LOWER { _mm512_max_ps(_mm512_set1_ps(-104.0), v) } else { v };
    let v = if UPPER { _mm512_min_ps(_mm512_set1_ps(89.0), v) } else { v };
    let shift = _mm512_set1_ps(SHIFT16);
    let t = _mm512_fmadd_ps(v, _mm512_set1_ps(LOG2E), shift);
    let n16 = _mm512_sub_ps(t, shift);
    let r = _mm512_fnmadd_ps(n16, _mm512_set1_ps(LN2_HI), v);
    let r = _mm512_fnmadd_ps(n16, _mm512_set1_ps(LN2_LO), r);
    let q = _mm512_fmadd_ps(_mm512_set1_ps(1.0 / 6.0), r, _mm512_set1_ps(0.5));
    let q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0));
    let tj = _mm512_permutexvar_ps(_mm512_castps_si512(t), table);
    let y = _mm512_fmadd_ps(_mm512_mul_ps(tj, r), q, tj);
    _mm512_scalef_ps(y, n16)
}

/// The table T'[j] = 2^{(j − κ)/16 − K}·(½ if j < κ) for k = 16K + κ (see [`exp_m512_scaled`]);
/// exact from the entries of T for |K| ≤ 93 (2^{−K} and the products are then normal).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(crate) fn scaled_table(k: i32) -> std::arch::x86_64::__m512 {
    use std::arch::x86_64::{_mm512_loadu_ps, _mm512_mul_ps, _mm512_set1_ps};
    let kappa = k.rem_euclid(16);
    let scale = f32::from_bits(((127 - (k - kappa) / 16) as u32) << 23);
    let t: [f32; 16] = std::array::from_fn(|j| {
        let j = j as i32;
        if j >= kappa {
            EXP2_16THS[(j - kappa) as usize]
        } else {
            0.5 * EXP2_16THS[(j - kappa + 16) as usize]
        }
    });
    // SAFETY: a 64-byte unaligned load of the array.
    _mm512_mul_ps(unsafe { _mm512_loadu_ps(t.as_ptr()) }, _mm512_set1_ps(scale))
}

#[inline(always)]
pub(crate) fn exp16<const FMA: bool, const X: bool>(x: &[f32; 16]) -> [f32; 16] {
    #[cfg(target_arch = "x86_64")]
    if X {
        // SAFETY: `X` is set only in code compiled for, and selected on, AVX-512 F.
        return unsafe { exp16_avx512(x) };
    }
    let mut out = [0f32; 16];
    for j in 0..16 {
        out[j] = exp_flush::<FMA>(x[j]);
    }
    out
}

/// ln x for a positive, finite, normal `x` (the only inputs the kernels pass; others are not
/// handled).
#[inline(always)]
pub(crate) fn ln_normal<const FMA: bool>(x: f32) -> f32 {
    let bits = x.to_bits();
    // m ∈ [1, 2), then folded into [√½, √2).
    let e0 = ((bits >> 23) & 0xff) as i32 - 127;
    let m0 = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let big = m0 > std::f32::consts::SQRT_2;
    let m = if big { m0 * 0.5 } else { m0 };
    let e = (if big { e0 + 1 } else { e0 }) as f32;
    let f = m - 1.0;
    let z = f * f;
    let mut q = 7.037_683_6e-2f32;
    q = fmadd::<FMA>(q, f, -1.151_461e-1);
    q = fmadd::<FMA>(q, f, 1.167_699_9e-1);
    q = fmadd::<FMA>(q, f, -1.242_014_1e-1);
    q = fmadd::<FMA>(q, f, 1.424_932_3e-1);
    q = fmadd::<FMA>(q, f, -1.666_805_8e-1);
    q = fmadd::<FMA>(q, f, 2.000_071_4e-1);
    q = fmadd::<FMA>(q, f, -2.499_999_4e-1);
    q = fmadd::<FMA>(q, f, 3.333_333e-1);
    let mut y = q * f * z;
    y = fmadd::<FMA>(e, LN2_LO, y);
    y = fmadd::<FMA>(-0.5, z, y);
    fmadd::<FMA>(e, LN2_HI, f + y)
}

/// log(1 + u) for u ∈ [0, 1] (finite), accurate also for tiny u: with w = 1 + u rounded,
/// log1p(u) = ln(w)·u/(w − 1) (exact where w = 1: the result is u).
#[inline(always)]
pub(crate) fn log1p_unit<const FMA: bool>(u: f32) -> f32 {
    let w = 1.0 + u;
    let d = w - 1.0;
    let l = ln_normal::<FMA>(w) * (u / if d == 0.0 { 1.0 } else { d });
    if d == 0.0 { u } else { l }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in ulps between `got` and the f64 value `want` (both rounded to f32 grid spacing
    /// at `want`).
    fn ulps(got: f32, want: f64) -> f64 {
        let w32 = want as f32;
        if got == w32 {
            return 0.0;
        }
        let spacing = if w32 == 0.0 || w32.is_subnormal() {
            f64::from(f32::from_bits(1))
        } else {
            f64::from(f32::from_bits(w32.to_bits() + 1)) - f64::from(w32)
        };
        (f64::from(got) - want).abs() / spacing
    }

    fn max_exp_ulp<const FMA: bool>() -> (f64, f32) {
        let (lo, hi) = (-104.0f64, 89.0f64);
        let steps = 400_000;
        let mut worst = (0.0, 0.0f32);
        for i in 0..=steps {
            let x = (lo + (hi - lo) * i as f64 / steps as f64) as f32;
            let want = f64::from(x).exp();
            let got = exp::<FMA>(x);
            if want > f64::from(f32::MAX) {
                assert!(got.is_infinite() || ulps(got, want) <= 2.0, "exp({x}) = {got}");
                continue;
            }
            let u = ulps(got, want);
            if u > worst.0 {
                worst = (u, x);
            }
        }
        worst
    }

    #[test]
    fn exp_is_within_two_ulp_over_the_whole_range() {
        let (u_plain, x_plain) = max_exp_ulp::<false>();
        let (u_fma, x_fma) = max_exp_ulp::<true>();
        eprintln!("exp: max {u_plain} ulp at {x_plain} (no FMA), {u_fma} at {x_fma} (FMA)");
        assert!(u_plain <= 2.0, "max {u_plain} ulp at {x_plain}");
        assert!(u_fma <= 2.0, "max {u_fma} ulp at {x_fma}");
        // Every f32 in [−1, 1] on a finer grid (where the polynomial does all the work).
        for i in -200_000..=200_000 {
            let x = i as f32 / 200_000.0;
            assert!(ulps(exp::<true>(x), f64::from(x).exp()) <= 1.0, "{x}");
            assert!(ulps(exp::<false>(x), f64::from(x).exp()) <= 1.0, "{x}");
        }
    }

    #[test]
    fn exp_specials_are_exact() {
        for f in [exp::<false>, exp::<true>] {
            assert_eq!(f(0.0), 1.0);
            assert_eq!(f(-0.0), 1.0);
            assert_eq!(f(f32::NEG_INFINITY), 0.0);
            assert_eq!(f(f32::INFINITY), f32::INFINITY);
            assert_eq!(f(89.0), f32::INFINITY);
            assert_eq!(f(-104.0), 0.0);
            assert!(f(f32::NAN).is_nan());
            assert!(ulps(f(1.0), std::f64::consts::E) <= 1.0);
            // The largest finite result and the subnormal range round once.
            assert!(f(88.72).is_finite());
            assert!(ulps(f(-100.0), (-100f64).exp()) <= 1.0);
        }
    }

    #[test]
    fn exp_flush_matches_exp_above_the_normal_limit_and_flushes_below() {
        for (flush, full) in [
            (exp_flush::<true> as fn(f32) -> f32, exp::<true> as fn(f32) -> f32),
            (exp_flush::<false>, exp::<false>),
        ] {
            for i in 0..=200_000 {
                let x = -88.0 + 177.0 * i as f32 / 200_000.0;
                let (a, b) = (flush(x), full(x));
                if x >= 88.0 {
                    // n = 128 there: the single scaling overflows (the kernels then fall back).
                    assert!(a == b || a.is_infinite(), "{x}");
                } else if b >= f32::MIN_POSITIVE {
                    assert_eq!(a.to_bits(), b.to_bits(), "{x}");
                } else {
                    assert!(a == 0.0 || a == b, "{x}");
                }
            }
        }
        for f in [exp_flush::<false>, exp_flush::<true>] {
            assert_eq!(f(0.0), 1.0);
            assert_eq!(f(f32::NEG_INFINITY), 0.0);
            assert_eq!(f(-88.0), 0.0);
            assert_eq!(f(-1e30), 0.0);
            assert_eq!(f(f32::INFINITY), f32::INFINITY);
            assert_eq!(f(200.0), f32::INFINITY);
            assert!(f(f32::NAN).is_nan());
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx512_table_exp_is_within_two_ulp_and_exact_at_the_specials() {
        if !std::arch::is_x86_feature_detected!("avx512f") {
            // Not this CPU: the lane-wise path (tested above) is the one the kernels use.
            assert_eq!(exp16::<false, false>(&[0.0; 16]), [1.0; 16]);
            return;
        }
        let f = |x: f32| unsafe { exp16_avx512(&[x; 16])[0] };
        let steps = 400_000;
        let mut worst = (0.0, 0.0f32);
        for i in 0..=steps {
            let x = (-104.0 + 193.0 * i as f64 / steps as f64) as f32;
            let want = f64::from(x).exp();
            let got = f(x);
            if want > f64::from(f32::MAX) {
                assert!(got.is_infinite(), "{x}");
                continue;
            }
            let u = ulps(got, want);
            if u > worst.0 {
                worst = (u, x);
            }
        }
        assert!(worst.0 <= 2.0, "max {} ulp at {}", worst.0, worst.1);
        let mut fine = 0f64;
        for i in -100_000..=100_000 {
            let x = i as f32 / 100_000.0;
            fine = fine.max(ulps(f(x), f64::from(x).exp()));
        }
        eprintln!("table exp: max {} ulp on [-104, 89] (at {}), {fine} on [-1, 1]", worst.0, worst.1);
        assert!(fine <= 2.0, "{fine}");
        assert_eq!(f(0.0), 1.0);
        assert_eq!(f(f32::NEG_INFINITY), 0.0);
        assert_eq!(f(f32::INFINITY), f32::INFINITY);
        assert!(f(f32::NAN).is_nan());
        let lanes: [f32; 16] = std::array::from_fn(|j| j as f32 - 7.5);
        let got = unsafe { exp16_avx512(&lanes) };
        for j in 0..16 {
            assert!(ulps(got[j], f64::from(lanes[j]).exp()) <= 2.0);
        }
        // Without the clamps: the same values inside them, 0 / inf / NaN outside as documented.
        let bare = |x: f32| unsafe {
            use std::arch::x86_64::{_mm512_cvtss_f32, _mm512_set1_ps};
            _mm512_cvtss_f32(exp_m512::<false, false>(_mm512_set1_ps(std::hint::black_box(x))))
        };
        for i in 0..=steps {
            let x = (-104.0 + 193.0 * i as f64 / steps as f64) as f32;
            assert_eq!(bare(x).to_bits(), f(x).to_bits(), "{x}");
        }
        for x in [-104.5f32, -200.0, -1e4, -1e6] {
            assert_eq!(bare(x), 0.0, "{x}");
        }
        for x in [89.0f32, 100.0, 1e4, 1e6] {
            assert_eq!(bare(x), f32::INFINITY, "{x}");
        }
        // vscalefps(NaN, ∓inf) is NaN on some CPUs and 0 / inf on others: never finite and wrong.
        let (lo, hi) = (bare(f32::NEG_INFINITY), bare(f32::INFINITY));
        assert!(lo == 0.0 || lo.is_nan(), "{lo}");
        assert!(hi == f32::INFINITY || hi.is_nan(), "{hi}");
        assert!(bare(f32::NAN).is_nan());
        // The shifted variant: e^{x − k·ln2/16} against f64, for shifts across the folded range.
        for k in [-1024, -333, -17, -1, 0, 5, 16, 333, 1024] {
            let shift = f64::from(k) * std::f64::consts::LN_2 / 16.0;
            let table = unsafe { scaled_table(k) };
            let mut worst = 0f64;
            for i in 0..=20_000 {
                let x = (shift - 100.0 + 185.0 * f64::from(i) / 20_000.0) as f32;
                let got = unsafe {
                    use std::arch::x86_64::{_mm512_cvtss_f32, _mm512_set1_ps};
                    _mm512_cvtss_f32(exp_m512_scaled::<false, false>(
                        _mm512_set1_ps(std::hint::black_box(x)),
                        table,
                    ))
                };
                let want = (f64::from(x) - shift).exp();
                worst = worst.max(ulps(got, want));
            }
            assert!(worst <= 2.0, "shift {k}: {worst} ulp");
        }
    }

    #[test]
    fn ln_and_log1p_are_accurate() {
        for i in 1..100_000 {
            let x = i as f32 * 0.000_37 + 1e-3;
            let want = f64::from(x).ln();
            let got = ln_normal::<true>(x);
            assert!((f64::from(got) - want).abs() <= 2.5e-7 * want.abs().max(1.0), "ln {x}");
            let u = (i as f32 / 100_000.0).powi(3);
            let want = f64::from(u).ln_1p();
            for got in [log1p_unit::<true>(u), log1p_unit::<false>(u)] {
                assert!((f64::from(got) - want).abs() <= 3e-7 * want.abs(), "log1p {u}");
            }
        }
        assert_eq!(log1p_unit::<true>(0.0), 0.0);
        assert_eq!(log1p_unit::<true>(1e-30), 1e-30);
    }
}
