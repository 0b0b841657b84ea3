//! Student's t distribution with `df` = ν degrees of freedom, location μ and scale σ.
//!
//! ```text
//! log p(x | ν, μ, σ) = log Γ((ν+1)/2) − log Γ(ν/2) − ½ log νπ − log σ − (ν+1)/2 · log(1 + z²/ν),
//!                      z = (x − μ)/σ
//! ∂/∂ν = ½ψ((ν+1)/2) − ½ψ(ν/2) − 1/(2ν) − ½ log(1 + z²/ν) + (ν+1) z² / (2ν(ν + z²))
//! ∂/∂μ = (ν+1) z / (σ(ν + z²))
//! ∂/∂σ = ((ν+1) z² / (ν + z²) − 1) / σ
//! H    = log σ + (ν+1)/2 · (ψ((ν+1)/2) − ψ(ν/2)) + ½ log ν + log B(ν/2, ½)
//! mean μ (ν > 1, NaN otherwise); variance σ²ν/(ν − 2) (ν > 2; +inf for 1 < ν ≤ 2; NaN for ν ≤ 1)
//! ```
//!
//! Learning σ (and ν) makes this NLL a robust regression loss: the influence of a residual,
//! ∂/∂μ, decays like 1/z instead of growing like z. As ν → ∞ it tends to the normal NLL.
//!
//! Stability: log(1 + z²/ν) is evaluated as 2 log a + log1p(1/a²) for a = |z|/√ν > 1, so huge
//! residuals give a finite log density instead of overflowing z². For ν ≥ 100 the differences
//! log Γ((ν+1)/2) − log Γ(ν/2) and ψ((ν+1)/2) − ψ(ν/2) come from their asymptotic series in 1/ν,
//! so the log density, its ν-gradient and the entropy reach the normal's for any finite ν (the
//! direct differences of two numbers of size ν log ν lose every digit as ν grows). x = ±inf gives
//! −inf with zero gradient; NaN propagates.
//!
//! Reference: `torch.distributions.StudentT` (parameters `df`, `loc`, `scale`), `scipy.stats.t`.

use crate::error::{Result, check};
use crate::family::Family;
use crate::num::Real;

/// StudentT(df, loc, scale) with `df > 0`, `scale > 0`.
///
/// ```
/// use surprisal::family::{Family, StudentT};
/// let d = StudentT::new(3.0f64, 1.0, 2.0).unwrap();
/// // mpmath: the log density at 0 and the entropy of t(3) located at 1 with scale 2
/// assert!((d.log_prob(0.0) - -1.854121445530527871).abs() < 1e-14);
/// assert!((d.entropy() - 2.466624752423236258).abs() < 1e-14);
/// assert!(StudentT::new(0.0f64, 0.0, 1.0).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StudentT<F> {
    df: F,
    loc: F,
    scale: F,
}

impl<F: Real> StudentT<F> {
    /// Validated constructor.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] if `df` or `scale` is not finite and > 0, or `loc` is
    /// not finite.
    pub fn new(df: F, loc: F, scale: F) -> Result<Self> {
        Ok(Self {
            df: check::positive("df", df)?,
            loc: check::finite("loc", loc)?,
            scale: check::positive("scale", scale)?,
        })
    }
    /// ν, the degrees of freedom.
    pub fn df(&self) -> F {
        self.df
    }
    /// μ.
    pub fn loc(&self) -> F {
        self.loc
    }
    /// σ.
    pub fn scale(&self) -> F {
        self.scale
    }

    /// The normalising constant log Γ((ν+1)/2) − log Γ(ν/2) − ½ log νπ − log σ
    /// = g(ν) − ½ log 2π − log σ (g of [`half_steps`]).
    #[inline]
    fn log_norm(&self) -> F {
        half_steps(self.df).0 - F::lit(0.5) * (F::lit(2.0) * F::PI()).ln() - self.scale.ln()
    }
}

/// (g, h) = (log Γ((ν+1)/2) − log Γ(ν/2) − ½ log(ν/2),  ψ((ν+1)/2) − ψ(ν/2) − 1/ν): for
/// ν ≥ 100 by their asymptotic series in r = 1/ν,
///
/// ```text
/// g = −r/4 + r³/24 − r⁵/20 + 17r⁷/112 + O(r⁹)      h = r²/2 − r⁴/4 + r⁶/2 + O(r⁸)
/// ```
///
/// (errors below 1e-18 and 3e-16 there, against mpmath), where the direct differences of two
/// values of size ν log ν lose every digit as ν grows (at ν = 1e15 the normal limit's log density
/// came out 3 nats off); directly below.
#[inline]
fn half_steps<F: Real>(nu: F) -> (F, F) {
    let half = F::lit(0.5);
    if nu >= F::lit(100.0) {
        let r = nu.recip();
        let r2 = r * r;
        let g = r
            * (F::lit(-0.25) + r2 * (F::lit(1.0 / 24.0) + r2 * (F::lit(-0.05) + r2 * F::lit(17.0 / 112.0))));
        let h = r2 * (half + r2 * (F::lit(-0.25) + r2 * half));
        (g, h)
    } else {
        let np1 = nu + F::one();
        let g = (half * np1).ln_gamma() - (half * nu).ln_gamma() - half * (half * nu).ln();
        let h = (half * np1).digamma() - (half * nu).digamma() - nu.recip();
        (g, h)
    }
}

/// log(1 + a²), without overflowing a² for large |a|.
#[inline]
pub(crate) fn log1p_sq<F: Real>(a: F) -> F {
    let a = a.abs();
    if a > F::one() { F::lit(2.0) * a.ln() + (F::one() / (a * a)).ln_1p() } else { (a * a).ln_1p() }
}

impl<F: Real> Family<F> for StudentT<F> {
    const NAME: &'static str = "student_t";
    const PARAMS: &'static [&'static str] = &["df", "loc", "scale"];

    fn from_params(p: &[F]) -> Result<Self> {
        check::same_len("params", 3, p.len())?;
        Self::new(p[0], p[1], p[2])
    }

    #[inline]
    fn log_prob(&self, x: F) -> F {
        let z = (x - self.loc) / self.scale;
        let l = log1p_sq(z / self.df.sqrt());
        self.log_norm() - F::lit(0.5) * (self.df + F::one()) * l
    }

    #[inline]
    fn log_prob_grad(&self, x: F, grad: &mut [F]) -> F {
        let (nu, s, half) = (self.df, self.scale, F::lit(0.5));
        let z = (x - self.loc) / s;
        if z.is_infinite() {
            grad.iter_mut().for_each(|g| *g = F::zero());
            return F::neg_infinity();
        }
        let l = log1p_sq(z / nu.sqrt());
        let z2 = z * z;
        // r = z²/(ν + z²) = 1/(1 + ν/z²), finite even when z² overflows.
        let r = if z2 == F::zero() { F::zero() } else { F::one() / (F::one() + nu / z2) };
        let np1 = nu + F::one();
        // ½(ψ((ν+1)/2) − ψ(ν/2)) − 1/(2ν) = ½h.
        grad[0] = half * half_steps(nu).1 - half * l + half * np1 * r / nu;
        grad[1] = np1 * z / (nu + z2) / s;
        grad[2] = (np1 * r - F::one()) / s;
        self.log_norm() - half * np1 * l
    }

    fn entropy(&self) -> F {
        let half = F::lit(0.5);
        let nu = self.df;
        // With log B(ν/2, ½) = ½ log π − g − ½ log(ν/2) and ψ((ν+1)/2) − ψ(ν/2) = h + 1/ν (g, h
        // of [`half_steps`]): H = log σ + ½ log 2π + (ν+1)/2 · (h + 1/ν) − g, which tends to the
        // normal's log σ + ½ log 2πe as ν → ∞.
        let (g, h) = half_steps(nu);
        self.scale.ln() + half * (F::lit(2.0) * F::PI()).ln() + half * (nu + F::one()) * (h + nu.recip()) - g
    }

    fn mean(&self) -> F {
        if self.df > F::one() { self.loc } else { F::nan() }
    }

    fn variance(&self) -> F {
        let nu = self.df;
        if nu > F::lit(2.0) {
            self.scale * self.scale * nu / (nu - F::lit(2.0))
        } else if nu > F::one() {
            F::infinity()
        } else {
            F::nan()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::testing::*;

    #[test]
    fn gradient_matches_central_differences() {
        for &(nu, m, s, x) in
            &[(3.0, 0.0, 1.0, 0.3), (1.5, 1.5, 0.2, -3.0), (30.0, -4.0, 7.0, 10.0), (0.7, 0.0, 2.0, 50.0)]
        {
            check_gradient::<StudentT<f64>>(&[nu, m, s], x, 1e-7);
        }
    }

    #[test]
    fn density_integrates_to_one_and_entropy_is_expected_nll() {
        // Substitute x = μ + σ tan θ, dx = σ sec²θ dθ, so the heavy tails become a finite interval.
        let d = StudentT::new(2.5f64, 0.3, 1.4).unwrap();
        let n = 20000;
        let (lo, hi) = (-std::f64::consts::FRAC_PI_2, std::f64::consts::FRAC_PI_2);
        let phi = |t: f64| (0.3 + 1.4 * t.tan(), 1.4 / (t.cos() * t.cos()));
        let mass = simpson_substituted(density(&d), phi, lo, hi, n);
        let ent = simpson_substituted(entropy_density(&d), phi, lo, hi, n);
        assert!((mass - 1.0).abs() < 1e-9);
        assert!((ent - d.entropy()).abs() < 1e-8);
    }

    #[test]
    fn large_df_tends_to_normal() {
        // The gaps to the normal are O(1/ν): below 1e-7 from ν = 1e8 on, and every digit of the
        // normal's values (1e-15) where 1/ν is below rounding, up to the largest f64.
        let n = crate::family::Normal::new(0.5f64, 2.0).unwrap();
        for (nu, tol) in
            [(1e8, 1e-7), (1e12, 1e-11), (1e15, 1e-14), (1e17, 1e-15), (1e50, 1e-15), (f64::MAX, 1e-15)]
        {
            let t = StudentT::new(nu, 0.5, 2.0).unwrap();
            for x in [1.7, -30.0, 0.5] {
                // The gap itself is about z⁴/(4ν) (z = (x − 0.5)/2).
                let z4 = ((x - 0.5) / 2.0f64).powi(4);
                let (a, b) = (t.log_prob(x), n.log_prob(x));
                assert!((a - b).abs() < tol * (1.0 + z4), "ν {nu}, x {x}: {a} vs {b}");
            }
            assert!((t.entropy() - n.entropy()).abs() < tol, "ν {nu}: {} vs {}", t.entropy(), n.entropy());
            let mut g = [0.0; 3];
            t.log_prob_grad(1.7, &mut g);
            assert!(g[0].abs() < 1e-15 && g[0].is_finite(), "ν {nu}: ∂/∂ν = {}", g[0]);
        }
    }

    /// The series and the direct branch of `half_steps` meet at ν = 100, and both match
    /// mpmath's log Γ((ν+1)/2) − log Γ(ν/2) − ½ log(ν/2) and ψ((ν+1)/2) − ψ(ν/2) − 1/ν.
    #[test]
    fn half_steps_match_mpmath_on_both_branches() {
        // mpmath (60 digits): ν, g, h
        let want = [
            (3.0f64, -0.08195031641883697f64, 0.052961027786557285f64),
            (99.0, -0.0025252095884189044, 5.1012600510313356e-05),
            (100.0, -0.002499958338331816, 4.9997500499787654e-05),
            (1e6, -2.499999999999583e-07, 4.9999999999975e-13),
        ];
        for (nu, g, h) in want {
            let (gg, hh) = half_steps(nu);
            // The direct branch carries the rounding of log Γ at ν/2 (≈ 1e-14 at ν = 99).
            assert!((gg - g).abs() < if nu < 100.0 { 5e-14 } else { 1e-18 }, "g({nu}) = {gg}, want {g}");
            assert!((hh - h).abs() < 1e-15, "h({nu}) = {hh}, want {h}");
        }
    }

    #[test]
    fn moments_follow_df() {
        let d = StudentT::new(4.0f64, 1.0, 2.0).unwrap();
        assert_eq!(d.mean(), 1.0);
        assert_eq!(d.variance(), 8.0);
        assert_eq!(StudentT::new(1.5f64, 0.0, 1.0).unwrap().variance(), f64::INFINITY);
        assert!(StudentT::new(1.0f64, 0.0, 1.0).unwrap().mean().is_nan());
    }

    #[test]
    fn huge_and_infinite_values() {
        let d = StudentT::new(3.0f64, 0.0, 1.0).unwrap();
        let mut g = [0.0; 3];
        check_infinite_x_gives_minus_inf(&d);
        // z = 1e200: z² overflows, the log density −2·log(1e200) + const does not.
        let lp = d.log_prob_grad(1e200, &mut g);
        assert!(lp.is_finite() && g.iter().all(|v| v.is_finite()));
        let lp32 = StudentT::new(3.0f32, 0.0, 1.0).unwrap().log_prob(1e30);
        assert!(lp32.is_finite());
        assert!(d.log_prob(f64::NAN).is_nan());
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = StudentT::new(2.5f32, 0.5, 2.0).unwrap();
        let d64 = StudentT::new(2.5f64, 0.5, 2.0).unwrap();
        check_f32_agrees(&d32, &d64, &[-30.0, 0.5, 3.0], 1e-5, 1e-5);
    }
}
