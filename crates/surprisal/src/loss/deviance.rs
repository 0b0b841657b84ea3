//! GLM deviances on the log link: Poisson, Gamma and Tweedie, as functions of the log-mean η.
//!
//! The unit deviance is twice the log-likelihood ratio of the saturated model (μ = y) to the
//! model at μ, times the dispersion φ:
//!
//! ```text
//! d(y, μ) = 2φ·(log p(y | μ = y, φ) − log p(y | μ, φ)),   μ = e^η   (log link)
//!
//! Tweedie power p (variance ∝ μᵖ):
//! p = 0       d = (y − μ)²                                          Normal
//! p = 1       d = 2·(y·log(y/μ) − y + μ)                            Poisson
//! p = 2       d = 2·(log(μ/y) + y/μ − 1)                            Gamma
//! otherwise   d = 2·(max(y,0)^{2−p}/((1−p)(2−p)) − y·μ^{1−p}/(1−p) + μ^{2−p}/(2−p))
//!
//! ∂d/∂η = μ·∂d/∂μ = 2·μ^{1−p}·(μ − y)          (every p)
//! ```
//!
//! Domains (as scikit-learn's `mean_tweedie_deviance`): p < 0: any y, p = 0: any y;
//! 1 ≤ p < 2: y ≥ 0; p ≥ 2: y > 0; 0 < p < 1 has no Tweedie distribution and is an error.
//! Every deviance is ≥ 0 and 0 exactly at μ = y; 0·log 0 = 0 for y = 0 (p = 1).
//!
//! The maps to the families' NLLs (φ = 1; each is exact):
//!
//! ```text
//! Poisson  d = 2·NLL_Poisson(y | rate μ) + 2·(y·log y − y − log y!)
//! Gamma    d = 2·NLL_Gamma(y | concentration 1, rate 1/μ) − 2·(log y + 1)
//!          (with concentration α: d = (2/α)·NLL + const(y); the minimiser does not depend on α)
//! Tweedie  d = 2·(−y·θ(μ) + κ(θ(μ))) + 2·max(y,0)^{2−p}/((1−p)(2−p)),
//!          θ = μ^{1−p}/(1−p), κ = μ^{2−p}/(2−p)
//! ```
//!
//! The Tweedie density is p(y | μ, φ) = a(y, φ)·exp((y·θ − κ(θ))/φ), where a(y, φ) has no closed
//! form (a series, Dunn & Smyth 2005) for p ∉ {0, 1, 2}; what is exact is the μ-dependent part
//! −(y·θ − κ), the NLL up to the target-only term −log a(y, 1). The declared Tweedie map uses that
//! kernel, and routes p = 0, 1, 2 to the Normal, Poisson and Gamma families.
//!
//! References: `sklearn.metrics.mean_tweedie_deviance`, `mean_poisson_deviance`,
//! `mean_gamma_deviance` (with `sample_weight`: Σ wᵢ·dᵢ / Σ wᵢ; use [`Options::weight`] with
//! [`super::Reduction::Sum`] and divide by Σ wᵢ), and scikit-learn's `HalfTweedieLoss` (d/2).

use super::sigmoid_binary_cross_entropy::mul0;
use super::{Likelihood, LossOutput, NllMap, Options, Shift, pointwise, same_len2};
use crate::error::{Error, Result};
use crate::family::{Family, Gamma, Normal, Poisson};
use crate::link::Link;
use crate::num::{Real, xlogy};

/// Validates the Tweedie power and the targets for it (shared with [`crate::score::deviance`]).
pub(crate) fn check_targets<F: Real>(y: &[F], power: F) -> Result<()> {
    let p = power.to_f64_lossy();
    if !power.is_finite() || (p > 0.0 && p < 1.0) {
        return Err(Error::param(
            "power",
            p,
            "the Tweedie deviance is defined for power <= 0 or power >= 1 (finite)",
        ));
    }
    let (ok, reason): (fn(f64) -> bool, &'static str) = if p <= 0.0 {
        (|v: f64| v.is_finite(), "must be finite")
    } else if p < 2.0 {
        (|v: f64| v.is_finite() && v >= 0.0, "must be finite and >= 0 for 1 <= power < 2")
    } else {
        (|v: f64| v.is_finite() && v > 0.0, "must be finite and > 0 for power >= 2")
    };
    for (i, &v) in y.iter().enumerate() {
        if !ok(v.to_f64_lossy()) {
            return Err(Error::InvalidValue {
                name: "target",
                value: v.to_f64_lossy(),
                index: Some(i),
                reason,
            });
        }
    }
    Ok(())
}

/// The unit deviance d(y, μ) at a prediction μ given directly (not through η), shared with
/// [`crate::score::deviance`]: (y − μ)² for p = 0 (any μ), else the log-link kernel at η = log μ
/// (μ > 0). Unchecked: the caller validates power, target and prediction.
#[inline]
pub(crate) fn unit_deviance<F: Real>(y: F, mu: F, p: F) -> F {
    if p == F::zero() {
        let r = mu - y;
        r * r
    } else {
        kernel(mu.ln(), y, p).0
    }
}

/// d(y, e^η) and ∂d/∂η for one element.
#[inline]
fn kernel<F: Real>(eta: F, y: F, p: F) -> (F, F) {
    let (one, two) = (F::one(), F::lit(2.0));
    let mu = eta.exp();
    if p == F::zero() {
        let r = mu - y;
        (r * r, two * mu * r)
    } else if p == one {
        // y·log(y/μ) = y·log y − y·η, 0 for y = 0.
        (two * (xlogy(y, y) - mul0(y, eta) - y + mu), two * (mu - y))
    } else if p == two {
        // log(μ/y) + y/μ − 1 = η − log y + y·e^{−η} − 1
        let r = y * (-eta).exp();
        (two * (eta - y.ln() + r - one), two * (one - r))
    } else {
        let (a, b) = (one - p, two - p);
        let mu1 = (a * eta).exp(); // μ^{1−p}
        let mu2 = (b * eta).exp(); // μ^{2−p}
        let sat = if y > F::zero() { y.powf(b) / (a * b) } else { F::zero() };
        (two * (sat - y * mu1 / a + mu2 / b), two * (mu2 - y * mu1))
    }
}

fn run<F: Real>(eta: &[F], target: &[F], power: F, opts: &Options<F>) -> Result<LossOutput<F>> {
    let n = same_len2(eta, target)?;
    check_targets(target, power)?;
    let (value, per_element, [grad]) = pointwise(n, opts, |i| {
        let (l, g) = kernel(eta[i], target[i], power);
        (l, [g])
    })?;
    Ok(LossOutput { value, per_element, grad })
}

/// Tweedie deviance d(y, μ = e^η) with power `power`, reduced per `opts`, with its gradient
/// 2·μ^{1−p}·(μ − y) with respect to the log-mean η.
///
/// `eta` (log-means, any finite or infinite value) and `target` have the same length n; the
/// per-element deviances and the gradient have length n. For a prediction μ given directly, pass
/// η = log μ.
///
/// # Errors
/// [`Error::InvalidParameter`] for a power in (0, 1) or not finite; [`Error::InvalidValue`] for a
/// target outside the power's domain (see the module); [`Error::ShapeMismatch`] for inputs of
/// other lengths; [`Error::InvalidOption`] for `batchmean`.
///
/// # Example
/// ```
/// use surprisal::loss::{self, Options};
/// let mu = [0.5f64, 2.0, 3.0];
/// let eta: Vec<f64> = mu.iter().map(|m| m.ln()).collect();
/// let y = [1.0, 0.0, 4.0];
/// // sklearn.metrics.mean_tweedie_deviance(y, mu, power=1.5), evaluated in mpmath
/// let out = loss::tweedie_deviance(&eta, &y, 1.5, &Options::mean()).unwrap();
/// assert!((out.value - 2.1026477203468239648).abs() < 1e-14);
/// let out = loss::tweedie_deviance(&eta, &y, -1.0, &Options::mean()).unwrap();
/// assert!((out.value - 2.9444444444444444444).abs() < 1e-14);
/// assert!(loss::tweedie_deviance(&eta, &y, 0.5, &Options::mean()).is_err());
/// ```
pub fn tweedie_deviance<F: Real>(
    eta: &[F],
    target: &[F],
    power: F,
    opts: &Options<F>,
) -> Result<LossOutput<F>> {
    run(eta, target, power, opts)
}

/// Poisson deviance 2·(y·log(y/μ) − y + μ), μ = e^η, with gradient 2·(μ − y) w.r.t. η.
///
/// # Errors
/// As [`tweedie_deviance`] with power 1 (targets finite and ≥ 0).
///
/// # Example
/// ```
/// use surprisal::loss::{self, Options};
/// let eta: Vec<f64> = [0.5f64, 2.0, 3.0].iter().map(|m| m.ln()).collect();
/// // sklearn.metrics.mean_poisson_deviance([1, 0, 4], [0.5, 2, 3]), evaluated in mpmath
/// let out = loss::poisson_deviance(&eta, &[1.0, 0.0, 4.0], &Options::mean()).unwrap();
/// assert!((out.value - 1.5625836469113791981).abs() < 1e-14);
/// ```
pub fn poisson_deviance<F: Real>(eta: &[F], target: &[F], opts: &Options<F>) -> Result<LossOutput<F>> {
    run(eta, target, F::one(), opts)
}

/// Gamma deviance 2·(log(μ/y) + y/μ − 1), μ = e^η, with gradient 2·(1 − y/μ) w.r.t. η.
///
/// # Errors
/// As [`tweedie_deviance`] with power 2 (targets finite and > 0).
///
/// # Example
/// ```
/// use surprisal::loss::{self, Options};
/// let eta: Vec<f64> = [0.5f64, 2.0, 3.0].iter().map(|m| m.ln()).collect();
/// // sklearn.metrics.mean_gamma_deviance([1, 0.5, 4], [0.5, 2, 3]), evaluated in mpmath
/// let out = loss::gamma_deviance(&eta, &[1.0, 0.5, 4.0], &Options::mean()).unwrap();
/// assert!((out.value - 0.65919896096099842753).abs() < 1e-14);
/// ```
pub fn gamma_deviance<F: Real>(eta: &[F], target: &[F], opts: &Options<F>) -> Result<LossOutput<F>> {
    run(eta, target, F::lit(2.0), opts)
}

/// The Poisson deviance is 2·NLL_Poisson(y | e^η) + 2·(y·log y − y − log y!), exactly.
pub fn poisson_deviance_likelihood() -> Likelihood {
    Likelihood::Nll(NllMap {
        family: Poisson::<f64>::NAME,
        link: Link::Log,
        fixed: vec![],
        scale: 2.0,
        shift: Shift::PerTarget {
            formula: "2·(y·log y − y − log y!)",
            f: |y| 2.0 * (xlogy(y, y) - y - crate::num::special::ln_gamma(y + 1.0)),
        },
        nll: Box::new(|out, y| -Poisson::new(out[0].exp()).map_or(f64::NAN, |d| d.log_prob(y))),
    })
}

/// The Gamma deviance is 2·NLL_Gamma(y | concentration 1, rate e^{−η}) − 2·(log y + 1), exactly.
pub fn gamma_deviance_likelihood() -> Likelihood {
    Likelihood::Nll(NllMap {
        family: Gamma::<f64>::NAME,
        link: Link::Log,
        fixed: vec![("concentration", 1.0)],
        scale: 2.0,
        shift: Shift::PerTarget { formula: "−2·(log y + 1)", f: |y| -2.0 * (y.ln() + 1.0) },
        nll: Box::new(|out, y| -Gamma::new(1.0, (-out[0]).exp()).map_or(f64::NAN, |d| d.log_prob(y))),
    })
}

/// The Tweedie deviance's likelihood for `power`: p = 0, 1, 2 are the Normal (σ² = ½, on the log
/// link), Poisson and Gamma maps, exact; other powers use the exponential-dispersion kernel
/// −(y·θ(μ) − κ(θ(μ))) with φ = 1, which is the Tweedie NLL up to the target-only normaliser
/// −log a(y, 1) that has no closed form, so the map is exact for that kernel (scale 2, shift
/// 2·max(y,0)^{2−p}/((1−p)(2−p))) and the full NLL differs from it by a function of y only.
pub fn tweedie_deviance_likelihood(power: f64) -> Likelihood {
    if power == 1.0 {
        return poisson_deviance_likelihood();
    }
    if power == 2.0 {
        return gamma_deviance_likelihood();
    }
    if power == 0.0 {
        let sigma = std::f64::consts::FRAC_1_SQRT_2;
        return Likelihood::Nll(NllMap {
            family: Normal::<f64>::NAME,
            link: Link::Log,
            fixed: vec![("scale", sigma)],
            scale: 1.0,
            shift: Shift::Constant(-0.5 * std::f64::consts::PI.ln()),
            nll: Box::new(move |out, y| {
                -Normal::new(out[0].exp(), sigma).map_or(f64::NAN, |d| d.log_prob(y))
            }),
        });
    }
    Likelihood::Nll(NllMap {
        family: "tweedie",
        link: Link::Log,
        fixed: vec![("power", power), ("dispersion", 1.0)],
        scale: 2.0,
        shift: Shift::PerTargetWith {
            formula: "2·max(y,0)^{2−p}/((1−p)(2−p))",
            name: "p",
            param: power,
            f: |y, p| if y > 0.0 { 2.0 * y.powf(2.0 - p) / ((1.0 - p) * (2.0 - p)) } else { 0.0 },
        },
        nll: Box::new(move |out, y| {
            let (a, b) = (1.0 - power, 2.0 - power);
            let theta = (a * out[0]).exp() / a;
            let kappa = (b * out[0]).exp() / b;
            -(y * theta - kappa)
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::Reduction;
    use crate::loss::testing::*;

    const POWERS: [f64; 8] = [-1.5, -1.0, 0.0, 1.0, 1.3, 2.0, 3.0, 4.5];

    fn targets(p: f64) -> Vec<f64> {
        if p <= 0.0 {
            vec![-1.0, 0.0, 0.3, 2.0, 5.5]
        } else if p < 2.0 {
            vec![0.0, 0.3, 1.0, 2.0, 5.0]
        } else {
            vec![0.1, 0.3, 1.0, 2.0, 5.5]
        }
    }

    #[test]
    fn declared_maps_hold() {
        for p in POWERS {
            let pts: Vec<(Vec<f64>, f64)> = [-1.5, -0.2, 0.0, 0.9, 2.0]
                .iter()
                .flat_map(|&e| targets(p).into_iter().map(move |y| (vec![e], y)))
                .filter(|(_, y)| p != 1.0 || y.fract() == 0.0)
                .collect();
            let per = |o: &[f64], y: f64| tweedie_deviance(&[o[0]], &[y], p, &Options::mean()).unwrap().value;
            check_declared_map(&tweedie_deviance_likelihood(p), &pts, per, 1e-12);
        }
    }

    #[test]
    fn gamma_deviance_is_an_affine_map_of_the_gamma_nll_for_any_concentration() {
        // d(y, μ) − (2/α)·NLL_Gamma(y | α, rate α/μ) depends on y only.
        for alpha in [0.5, 1.0, 3.0] {
            for y in [0.2f64, 1.0, 4.5] {
                let gap = |eta: f64| {
                    let d = gamma_deviance(&[eta], &[y], &Options::mean()).unwrap().value;
                    let nll = -Gamma::new(alpha, alpha * (-eta).exp()).unwrap().log_prob(y);
                    d - 2.0 / alpha * nll
                };
                let g0 = gap(0.0);
                for eta in [-2.0, -0.3, 0.8, 2.5] {
                    assert!(
                        (gap(eta) - g0).abs() < 1e-12 * g0.abs().max(1.0),
                        "alpha {alpha} y {y} eta {eta}"
                    );
                }
            }
        }
    }

    #[test]
    fn deviance_is_zero_at_the_target_and_positive_elsewhere() {
        for p in POWERS {
            for y in targets(p).into_iter().filter(|&y| y > 0.0) {
                let at = tweedie_deviance(&[y.ln()], &[y], p, &Options::mean()).unwrap();
                assert!(at.value.abs() < 1e-12 && at.grad[0].abs() < 1e-12, "p {p} y {y}: {:?}", at);
                let off = tweedie_deviance(&[y.ln() + 0.3], &[y], p, &Options::mean()).unwrap();
                assert!(off.value > 0.0);
            }
        }
    }

    #[test]
    fn gradient_matches_central_differences_for_every_option() {
        let eta = [0.3, -1.2, 1.5, 0.8, -0.01];
        let w = [1.0, 0.5, 2.0, 0.0, 3.0];
        let m = [true, true, false, true, true];
        for p in POWERS {
            let y = targets(p);
            for opts in option_grid(&w, &m) {
                check_loss_grad(&eta, |v| tweedie_deviance(v, &y, p, &opts).unwrap(), 1e-7);
            }
        }
        let y = [1.0, 0.0, 4.0, 2.0, 3.0];
        check_loss_grad(&eta, |v| poisson_deviance(v, &y, &Options::mean()).unwrap(), 1e-7);
        let y = [1.0, 0.5, 4.0, 2.0, 3.0];
        check_loss_grad(&eta, |v| gamma_deviance(v, &y, &Options::mean()).unwrap(), 1e-7);
    }

    #[test]
    fn edges_and_errors() {
        // y = 0 under Poisson: d = 2μ, finite at η = −inf (0).
        let out = poisson_deviance(
            &[f64::NEG_INFINITY, 0.0],
            &[0.0, 0.0],
            &Options::with_reduction(Reduction::None),
        )
        .unwrap();
        assert_eq!(out.per_element, vec![0.0, 2.0]);
        assert!(poisson_deviance(&[0.0f64], &[-1.0], &Options::mean()).is_err());
        assert!(gamma_deviance(&[0.0f64], &[0.0], &Options::mean()).is_err());
        assert!(tweedie_deviance(&[0.0f64], &[1.0], f64::NAN, &Options::mean()).is_err());
        let e = tweedie_deviance(&[0.0f64], &[1.0], 0.5, &Options::mean()).unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { name: "power", .. }));
        let e = tweedie_deviance(&[0.0f64, 1.0], &[1.0, -2.0], 1.5, &Options::mean()).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { name: "target", index: Some(1), .. }));
        // f32 agrees with f64.
        let a = tweedie_deviance(&[0.3f32, -0.7], &[1.0, 2.0], 1.5, &Options::mean()).unwrap().value;
        let b = tweedie_deviance(&[0.3f64, -0.7], &[1.0, 2.0], 1.5, &Options::mean()).unwrap().value;
        assert!((a as f64 - b).abs() < 1e-5 * b);
    }
}
