//! Special functions in `f64` (the `f32` versions in [`super::Real`] evaluate these and round).
//!
//! ```text
//! ln_gamma(x)  = log |Γ(x)|                  (libm's lgamma)
//! digamma(x)   = ψ(x) = Γ'(x)/Γ(x)           (asymptotic series after recurrence to x > 8;
//!                                              reflection ψ(1−x) − π·cot(πx) for x < 0)
//! log_ndtr(x)  = log Φ(x), Φ the standard normal CDF
//!              = log1p(−erfc(x/√2)/2)         for x > 0
//!              = log(erfc(−x/√2)/2)           for −20 < x ≤ 0
//!              = −x²/2 − log(−x) − ½log 2π + log(1 − 1/x² + 3/x⁴ − 15/x⁶ + 105/x⁸)   for x ≤ −20
//! ```

use std::f64::consts::PI;

/// The Euler–Mascheroni constant γ = −ψ(1).
pub(crate) const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// log |Γ(x)|; +inf at the poles 0, −1, −2, …; log Γ(+inf) = +inf.
#[inline]
pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// The digamma function ψ(x). NaN at the poles x ∈ {0, −1, −2, …}; ψ(+inf) = +inf.
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x == f64::NEG_INFINITY {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return f64::INFINITY;
    }
    if x <= 0.0 {
        if x == x.floor() {
            return f64::NAN;
        }
        // Reflection: ψ(x) = ψ(1 − x) − π / tan(πx).
        return digamma(1.0 - x) - PI / (PI * x).tan();
    }
    let mut acc = 0.0;
    let mut p = x;
    while p < 8.0 {
        acc -= 1.0 / p;
        p += 1.0;
    }
    // Asymptotic expansion: ψ(p) ~ log p − 1/(2p) − Σ B₂ₖ/(2k p²ᵏ).
    let q = 1.0 / p;
    let q2 = q * q;
    let series = q2
        * (1.0 / 12.0
            - q2 * (1.0 / 120.0
                - q2 * (1.0 / 252.0
                    - q2 * (1.0 / 240.0 - q2 * (1.0 / 132.0 - q2 * (691.0 / 32760.0 - q2 / 12.0))))));
    acc + p.ln() - 0.5 * q - series
}

/// log Φ(x), the log of the standard normal CDF, accurate in both tails (no underflow to −inf for
/// finite x). log_ndtr(−inf) = −inf, log_ndtr(+inf) = 0.
pub fn log_ndtr(x: f64) -> f64 {
    let s = std::f64::consts::FRAC_1_SQRT_2;
    if x.is_nan() {
        return x;
    }
    if x > 0.0 {
        (-0.5 * libm::erfc(x * s)).ln_1p()
    } else if x > -20.0 {
        (0.5 * libm::erfc(-x * s)).ln()
    } else if x == f64::NEG_INFINITY {
        f64::NEG_INFINITY
    } else {
        let r = 1.0 / (x * x);
        let tail = 1.0 - r * (1.0 - r * (3.0 - r * (15.0 - r * 105.0)));
        -0.5 * x * x - (-x).ln() - 0.5 * (2.0 * PI).ln() + tail.ln()
    }
}

/// The standard normal CDF Φ(x) = erfc(−x/√2)/2.
#[inline]
pub fn ndtr(x: f64) -> f64 {
    0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digamma_known_values() {
        // ψ(1) = −γ, ψ(1/2) = −γ − 2 log 2, ψ(n+1) = H_n − γ.
        let g = 0.577_215_664_901_532_9_f64;
        assert!((digamma(1.0) + g).abs() < 4e-15);
        assert!((digamma(0.5) + g + 2.0 * 2f64.ln()).abs() < 1e-14);
        let h10: f64 = (1..=10).map(|k| 1.0 / k as f64).sum();
        assert!((digamma(11.0) - (h10 - g)).abs() < 1e-14);
        // Reflection: ψ(−0.5) = ψ(1.5) + π·cot(−0.5π)… = 2 − γ − 2 log 2 + 0.
        assert!((digamma(-0.5) - (2.0 - g - 2.0 * 2f64.ln())).abs() < 1e-13);
        assert!(digamma(0.0).is_nan() && digamma(-3.0).is_nan());
        assert!((digamma(1e-300) + 1e300).abs() / 1e300 < 1e-15);
        assert!((digamma(1e300) - 1e300f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn digamma_is_derivative_of_ln_gamma() {
        for &x in &[0.1f64, 0.7, 1.3, 2.5, 7.9, 8.1, 30.0, 1e4] {
            let h = 1e-5 * x.max(1.0);
            let fd = (ln_gamma(x + h) - ln_gamma(x - h)) / (2.0 * h);
            assert!((digamma(x) - fd).abs() < 1e-8 * fd.abs().max(1.0), "x = {x}");
        }
    }

    #[test]
    fn log_ndtr_tails() {
        assert_eq!(log_ndtr(0.0), 0.5f64.ln());
        // Reference values from mpmath: log Φ(−30), log Φ(−40), log Φ(10).
        assert!((log_ndtr(-30.0) - -454.321_243_956_343_2).abs() < 1e-10);
        assert!((log_ndtr(-40.0) - -804.608_442_013_753_8).abs() < 1e-10);
        assert!((log_ndtr(10.0) - -7.619_853_024_160_526e-24).abs() < 1e-36);
        // Continuity at the switch point −20.
        let (a, b) = (log_ndtr(-20.0 + 1e-9), log_ndtr(-20.0 - 1e-9));
        assert!((a - b).abs() < 1e-6);
        assert_eq!(log_ndtr(f64::NEG_INFINITY), f64::NEG_INFINITY);
        assert_eq!(log_ndtr(f64::INFINITY), 0.0);
        assert!(log_ndtr(-1e10).is_finite());
    }
}
