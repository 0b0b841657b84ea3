//! Stable numerical primitives.
//!
//! Everything here works in log space where it matters and is defined at ±inf:
//!
//! ```text
//! softplus(x)    = log(1 + eˣ)      = max(x, 0) + log1p(e^{-|x|})
//! log_sigmoid(x) = log σ(x)         = −softplus(−x)
//! logsumexp(x)   = log Σ eˣⁱ        = m + log Σ e^{xᵢ − m},  m = max x
//! log_softmax(x) = x − logsumexp(x)
//! xlogy(x, y)    = x·log y,   with 0·log y = 0 (for any y, y = 0 included)
//! xlog1py(x, y)  = x·log1p(y), with 0·log1p(y) = 0
//! log1mexp(a)    = log(1 − eᵃ) for a ≤ 0 (Mächler 2012: switch at −log 2)
//! ```
//!
//! [`Real`] is the float trait of the crate, implemented for `f32` and `f64`; the special functions
//! (lgamma, digamma, erf, erfc, log Φ) live in [`special`].

pub mod linalg;
pub mod special;

use num_traits::{Float, FloatConst};
use std::fmt::{Debug, Display};
use std::iter::Sum;

/// The floating-point types the library computes in: `f32` and `f64`.
///
/// Besides [`num_traits::Float`] it gives exact conversion of literals and the special functions,
/// which for `f32` are evaluated in `f64` and rounded once (correctly rounded to within 1 ulp).
pub trait Real: Float + FloatConst + Default + Debug + Display + Sum + Send + Sync + 'static {
    /// Converts an `f64` constant (rounding for `f32`).
    fn lit(x: f64) -> Self;
    /// Widens to `f64` (exact for both implementors).
    fn to_f64_lossy(self) -> f64;
    /// log Γ(x) for x > 0; +inf at the poles x ∈ {0, −1, −2, …}.
    fn ln_gamma(self) -> Self;
    /// ψ(x) = d/dx log Γ(x).
    fn digamma(self) -> Self;
    /// The error function.
    fn erf(self) -> Self;
    /// The complementary error function 1 − erf(x), accurate in the upper tail.
    fn erfc(self) -> Self;
}

impl Real for f64 {
    #[inline]
    fn lit(x: f64) -> Self {
        x
    }
    #[inline]
    fn to_f64_lossy(self) -> f64 {
        self
    }
    #[inline]
    fn ln_gamma(self) -> Self {
        special::ln_gamma(self)
    }
    #[inline]
    fn digamma(self) -> Self {
        special::digamma(self)
    }
    #[inline]
    fn erf(self) -> Self {
        libm::erf(self)
    }
    #[inline]
    fn erfc(self) -> Self {
        libm::erfc(self)
    }
}

impl Real for f32 {
    #[inline]
    fn lit(x: f64) -> Self {
        x as f32
    }
    #[inline]
    fn to_f64_lossy(self) -> f64 {
        self as f64
    }
    #[inline]
    fn ln_gamma(self) -> Self {
        special::ln_gamma(self as f64) as f32
    }
    #[inline]
    fn digamma(self) -> Self {
        special::digamma(self as f64) as f32
    }
    #[inline]
    fn erf(self) -> Self {
        libm::erf(self as f64) as f32
    }
    #[inline]
    fn erfc(self) -> Self {
        libm::erfc(self as f64) as f32
    }
}

/// A storage type for model outputs, widened to the compute type `R` on load: `f64 → f64`,
/// `f32 → f32`, and the half-precision types `bf16`, `f16 → f32` (f32 accumulation).
///
/// Losses that accept low-precision logits are generic over `T: Widen<F>`, so one code path serves
/// every storage type and the arithmetic always happens in `F`.
pub trait Widen<R: Real>: Copy + Send + Sync + 'static {
    /// The value in the compute type (exact: every implementor embeds in `R`).
    fn widen(self) -> R;
}

impl Widen<f64> for f64 {
    #[inline]
    fn widen(self) -> f64 {
        self
    }
}

impl Widen<f32> for f32 {
    #[inline]
    fn widen(self) -> f32 {
        self
    }
}

impl Widen<f32> for half::bf16 {
    #[inline]
    fn widen(self) -> f32 {
        self.to_f32()
    }
}

impl Widen<f32> for half::f16 {
    #[inline]
    fn widen(self) -> f32 {
        self.to_f32()
    }
}

/// log(1 + eˣ), computed as max(x, 0) + log1p(e^{−|x|}); softplus(−inf) = 0, softplus(+inf) = +inf.
#[inline]
pub fn softplus<F: Real>(x: F) -> F {
    if x.is_nan() {
        return x;
    }
    // e^{-|x|} never overflows, so this is exact-ish everywhere.
    x.max(F::zero()) + (-x.abs()).exp().ln_1p()
}

/// log σ(x) = −softplus(−x); log_sigmoid(−inf) = −inf, log_sigmoid(+inf) = 0.
#[inline]
pub fn log_sigmoid<F: Real>(x: F) -> F {
    -softplus(-x)
}

/// The logistic function σ(x) = 1 / (1 + e^{−x}), evaluated without overflow on either side.
#[inline]
pub fn sigmoid<F: Real>(x: F) -> F {
    if x >= F::zero() {
        F::one() / (F::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (F::one() + e)
    }
}

/// x·log(y) with the convention 0·log(y) = 0 for every y (SciPy's `xlogy`, except that NaN in `y`
/// still propagates when x ≠ 0).
#[inline]
pub fn xlogy<F: Real>(x: F, y: F) -> F {
    if x == F::zero() && !y.is_nan() { F::zero() } else { x * y.ln() }
}

/// x·log1p(y) with the convention 0·log1p(y) = 0.
#[inline]
pub fn xlog1py<F: Real>(x: F, y: F) -> F {
    if x == F::zero() && !y.is_nan() { F::zero() } else { x * y.ln_1p() }
}

/// log(1 − eᵃ) for a ≤ 0, accurate near both ends (Mächler 2012): `log(−expm1(a))` for
/// a > −log 2, `log1p(−eᵃ)` otherwise. log1mexp(0) = −inf; a > 0 gives NaN.
#[inline]
pub fn log1mexp<F: Real>(a: F) -> F {
    if a > -F::LN_2() { (-a.exp_m1()).ln() } else { (-a.exp()).ln_1p() }
}

/// log Σᵢ e^{xᵢ}, shifted by the maximum. Empty or all −inf input gives −inf; any +inf gives +inf;
/// NaN propagates.
pub fn logsumexp<F: Real>(x: &[F]) -> F {
    let m = x.iter().copied().fold(F::neg_infinity(), |a, b| if b > a || b.is_nan() { b } else { a });
    if m.is_nan() || m.is_infinite() {
        // −inf: every term is zero (or the slice is empty); +inf: the sum is infinite; NaN: NaN.
        return if x.iter().any(|v| v.is_nan()) { F::nan() } else { m };
    }
    let s: F = x.iter().map(|&v| (v - m).exp()).sum();
    m + s.ln()
}

/// log softmax along a row: `out[i] = x[i] − logsumexp(x)`. A row that is all −inf gives NaN
/// (there is no distribution); a +inf entry gives 0 there and −inf elsewhere (other +inf entries
/// share the mass: −log k each).
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] when `out.len() != x.len()`.
pub fn log_softmax<F: Real>(x: &[F], out: &mut [F]) -> crate::Result<()> {
    crate::error::check::same_len("out", x.len(), out.len())?;
    log_softmax_unchecked(x, out);
    Ok(())
}

/// [`log_softmax`] without the length check (`out.len() == x.len()` is the caller's duty).
pub(crate) fn log_softmax_unchecked<F: Real>(x: &[F], out: &mut [F]) {
    let m = x.iter().copied().fold(F::neg_infinity(), F::max);
    if m == F::infinity() {
        let k = F::lit(x.iter().filter(|v| **v == F::infinity()).count() as f64);
        for (o, &v) in out.iter_mut().zip(x) {
            *o = if v == F::infinity() { -k.ln() } else { F::neg_infinity() };
        }
        return;
    }
    let lse = logsumexp(x);
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v - lse;
    }
}

/// softmax along a row: `out[i] = e^{x[i] − logsumexp(x)}` (see [`log_softmax`] for ±inf).
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] when `out.len() != x.len()`.
pub fn softmax<F: Real>(x: &[F], out: &mut [F]) -> crate::Result<()> {
    log_softmax(x, out)?;
    for o in out.iter_mut() {
        *o = o.exp();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softplus_and_log_sigmoid_at_extremes() {
        assert_eq!(softplus(f64::NEG_INFINITY), 0.0);
        assert_eq!(softplus(f64::INFINITY), f64::INFINITY);
        assert_eq!(log_sigmoid(f64::NEG_INFINITY), f64::NEG_INFINITY);
        assert_eq!(log_sigmoid(f64::INFINITY), 0.0);
        // log σ(−800) = −800 − log1p(e^{−800}) = −800 exactly in f64.
        assert_eq!(log_sigmoid(-800.0f64), -800.0);
        // softplus(−40) ≈ e^{−40}: relative accuracy, not absolute.
        let want = (-40.0f64).exp();
        assert!(((softplus(-40.0f64) - want) / want).abs() < 1e-15);
        assert!((softplus(-40.0f32) / (-40.0f32).exp() - 1.0).abs() < 1e-6);
        assert!(softplus(f64::NAN).is_nan());
    }

    #[test]
    fn sigmoid_is_symmetric_and_saturates_without_nan() {
        for &x in &[-1e300, -745.0, -30.0, -1.0, 0.0, 1.0, 30.0, 745.0, 1e300] {
            let s = sigmoid(x);
            assert!((s + sigmoid(-x) - 1.0f64).abs() < 1e-15, "x = {x}");
            assert!((0.0..=1.0).contains(&s));
        }
        assert_eq!(sigmoid(f64::INFINITY), 1.0);
        assert_eq!(sigmoid(f64::NEG_INFINITY), 0.0);
    }

    #[test]
    fn xlogy_zero_conventions() {
        assert_eq!(xlogy(0.0f64, 0.0), 0.0);
        assert_eq!(xlogy(0.0f64, f64::INFINITY), 0.0);
        assert!(xlogy(0.0f64, f64::NAN).is_nan());
        assert_eq!(xlogy(2.0f64, 0.0), f64::NEG_INFINITY);
        assert_eq!(xlog1py(0.0f64, -1.0), 0.0);
        assert!((xlog1py(3.0f64, 1e-20) - 3e-20).abs() < 1e-35);
    }

    #[test]
    fn log1mexp_matches_direct_formula_where_that_is_accurate() {
        for &a in &[-1e-10f64, -0.1, -0.693, -0.694, -1.0, -5.0, -40.0, -800.0] {
            let direct = (1.0 - a.exp()).ln();
            let got = log1mexp(a);
            if a < -1e-3 && a > -30.0 {
                assert!((got - direct).abs() < 1e-14 * direct.abs().max(1.0), "a = {a}");
            }
            // log1mexp(−800) = −e^{−800} underflows to −0.
            assert!(got.is_finite() && got <= 0.0);
        }
        // Near 0: log(1 − e^a) ≈ log(−a).
        assert!((log1mexp(-1e-10f64) - (1e-10f64).ln()).abs() < 1e-9);
        assert_eq!(log1mexp(0.0f64), f64::NEG_INFINITY);
    }

    #[test]
    fn logsumexp_is_shift_invariant_and_handles_infinities() {
        let x = [1.0f64, 2.0, 3.0];
        let want = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
        assert!((logsumexp(&x) - want).abs() < 1e-15);
        let shifted: Vec<f64> = x.iter().map(|v| v + 1e300).collect();
        assert!((logsumexp(&shifted) - (want + 1e300)).abs() <= 1e300 * f64::EPSILON);
        let small: Vec<f64> = x.iter().map(|v| v - 1e300).collect();
        assert!(logsumexp(&small).is_finite());
        assert_eq!(logsumexp::<f64>(&[]), f64::NEG_INFINITY);
        assert_eq!(logsumexp(&[f64::NEG_INFINITY, f64::NEG_INFINITY]), f64::NEG_INFINITY);
        assert_eq!(logsumexp(&[f64::NEG_INFINITY, 0.0]), 0.0);
        assert_eq!(logsumexp(&[f64::INFINITY, 0.0]), f64::INFINITY);
        assert!(logsumexp(&[f64::NAN, 0.0]).is_nan());
        assert!(logsumexp(&[0.0, f64::NAN]).is_nan());
    }

    #[test]
    fn log_softmax_sums_to_one_and_handles_infinities() {
        let x = [0.5f32, -3.0, 1e6, 2.0];
        let mut out = [0.0f32; 4];
        log_softmax(&x, &mut out).unwrap();
        assert_eq!(out[2], 0.0);
        let mut p = [0.0f64; 3];
        softmax(&[1.0, 2.0, f64::NEG_INFINITY], &mut p).unwrap();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert_eq!(p[2], 0.0);
        let mut q = [0.0f64; 3];
        log_softmax(&[f64::INFINITY, 1.0, f64::INFINITY], &mut q).unwrap();
        assert_eq!(q, [-(2f64.ln()), f64::NEG_INFINITY, -(2f64.ln())]);
        assert!(log_softmax(&[1.0f64], &mut q).is_err());
    }
}
