//! Poisson negative log-likelihood (PyTorch's `poisson_nll_loss`): counts with a predicted rate.
//!
//! ```text
//! model      y ~ Poisson(λ)
//! NLL        −log Poisson(y | λ) = λ − y·log λ + log y!
//! log_input  λ = eˣ (log link, canonical):      ℓ = eˣ − y·x             ∂ℓ/∂x = eˣ − y
//! rate input λ = x + eps (identity link):       ℓ = x − y·log(x + eps)   ∂ℓ/∂x = 1 − y/(x + eps)
//! full       ℓ += S(y) = y·log y − y + ½·log(2πy)   for y > 1 (0 for y ≤ 1)
//! map        log_input:  ℓ = NLL − log y!
//!            rate input: ℓ = NLL − log y! − eps
//!            full:       ℓ = NLL − ε(y),  ε(y) = log y! − S(y) ∈ (0, 1/(12y)) for y > 1
//! ```
//!
//! Without `full` the loss drops the target-only term log y! (it does not change the gradient or
//! the minimiser). With `full` PyTorch adds Stirling's approximation S(y) of log y! for y > 1: the
//! loss is then the NLL only up to Stirling's error ε(y) = 1/(12y) − 1/(360y³) + …, which is
//! positive and below 1/(12y) (and 0 for the counts y ∈ {0, 1}, where log y! = 0).
//!
//! Edges: y·x with y = 0 is 0 even for x = −inf (0·log 0 = 0: a zero rate explains a zero count
//! perfectly); x = −inf with y > 0 gives +inf. Large x overflows eˣ to +inf, as the NLL does.
//!
//! Matches `torch.nn.functional.poisson_nll_loss` (`log_input`, `full`, `eps`; reductions
//! none/sum/mean).

use super::sigmoid_binary_cross_entropy::mul0;
use super::{Likelihood, LossOutput, NllMap, Options, Shift, pointwise, same_len2};
use crate::error::{Error, Result};
use crate::family::{Family, Poisson};
use crate::link::Link;
use crate::num::Real;

/// The options of [`poisson_nll`]. `Default` is PyTorch's: `log_input = true`, `full = false`,
/// `eps = 1e-8`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PoissonNllConfig<F> {
    /// `true`: the input is the log-rate x = log λ; `false`: the input is the rate (plus `eps`).
    pub log_input: bool,
    /// Add Stirling's approximation of log y! for y > 1.
    pub full: bool,
    /// Added to a rate input before the log (ignored for `log_input`); finite and ≥ 0.
    pub eps: F,
}

impl<F: Real> Default for PoissonNllConfig<F> {
    fn default() -> Self {
        PoissonNllConfig { log_input: true, full: false, eps: F::lit(1e-8) }
    }
}

/// S(y) = y·log y − y + ½·log(2πy) for y > 1, else 0 (PyTorch's Stirling term).
#[inline]
fn stirling<F: Real>(y: F) -> F {
    if y > F::one() { y * y.ln() - y + F::lit(0.5) * (F::lit(2.0) * F::PI() * y).ln() } else { F::zero() }
}

/// Poisson NLL on log-rates (or rates), reduced per `opts`, with its gradient with respect to the
/// input.
///
/// `input` and `target` have the same length n (any shape, flattened); targets are counts (any
/// value ≥ 0 is accepted, as in PyTorch).
///
/// # Errors
/// [`Error::ShapeMismatch`] for inputs of other lengths; [`Error::InvalidValue`] for a negative
/// or NaN target, or (rate input) a negative or NaN rate; [`Error::InvalidParameter`] for `eps`
/// not finite and ≥ 0; [`Error::InvalidOption`] for `batchmean`.
///
/// # Example
/// ```
/// use surprisal::loss::{self, Options, PoissonNllConfig};
/// let x = [0.5f64, -1.0, 2.0];
/// let y = [1.0, 0.0, 3.0];
/// let out = loss::poisson_nll(&x, &y, &PoissonNllConfig::default(), &Options::mean()).unwrap();
/// // mpmath: mean of eˣ − y·x
/// assert!((out.value - 0.96855227026740689856).abs() < 1e-15);
/// let full = PoissonNllConfig { full: true, ..Default::default() };
/// let out = loss::poisson_nll(&x, &y, &full, &Options::mean()).unwrap();
/// assert!((out.value - 1.5565794514484257858).abs() < 1e-15);
/// ```
pub fn poisson_nll<F: Real>(
    input: &[F],
    target: &[F],
    cfg: &PoissonNllConfig<F>,
    opts: &Options<F>,
) -> Result<LossOutput<F>> {
    let n = same_len2(input, target)?;
    if !(cfg.eps.is_finite() && cfg.eps >= F::zero()) {
        return Err(Error::param("eps", cfg.eps.to_f64_lossy(), "must be finite and >= 0"));
    }
    nonnegative("target", target)?;
    if !cfg.log_input {
        nonnegative("input", input)?;
    }
    let (value, per_element, [grad]) = pointwise(n, opts, |i| {
        let (x, y) = (input[i], target[i]);
        let (mut l, g) = if cfg.log_input {
            let e = x.exp();
            (e - mul0(y, x), e - y)
        } else {
            let r = x + cfg.eps;
            (x - crate::num::xlogy(y, r), F::one() - mul0(y, r.recip()))
        };
        if cfg.full {
            l = l + stirling(y);
        }
        (l, [g])
    })?;
    Ok(LossOutput { value, per_element, grad })
}

fn nonnegative<F: Real>(name: &'static str, x: &[F]) -> Result<()> {
    for (i, &v) in x.iter().enumerate() {
        if v.is_nan() || v < F::zero() {
            return Err(Error::InvalidValue {
                name,
                value: v.to_f64_lossy(),
                index: Some(i),
                reason: "must be >= 0",
            });
        }
    }
    Ok(())
}

fn ln_factorial(y: f64) -> f64 {
    crate::num::special::ln_gamma(y + 1.0)
}

/// The Poisson likelihood of [`poisson_nll`] under `cfg` (see the module's map):
/// log link with shift −log y!; rate input: identity link at λ = x + eps with shift −log y! − eps;
/// `full`: shift −log y! for y ≤ 1 and 0 for y > 1, exact only up to Stirling's error
/// ε(y) ∈ (0, 1/(12y)) (the loss is NLL − ε(y)).
pub fn likelihood(cfg: &PoissonNllConfig<f64>) -> Likelihood {
    let eps = cfg.eps;
    let log_input = cfg.log_input;
    let shift = match (cfg.full, log_input) {
        (false, true) => Shift::PerTarget { formula: "−log y!", f: |y| -ln_factorial(y) },
        (false, false) => Shift::PerTargetWith {
            formula: "−log y! − eps",
            name: "eps",
            param: eps,
            f: |y, eps| -ln_factorial(y) - eps,
        },
        (true, true) => Shift::PerTarget {
            formula: "−log y! for y ≤ 1, 0 for y > 1 (up to Stirling's error ε(y) < 1/(12y))",
            f: |y| if y > 1.0 { 0.0 } else { -ln_factorial(y) },
        },
        (true, false) => Shift::PerTargetWith {
            formula: "−eps − log y! for y ≤ 1, −eps for y > 1 (up to Stirling's error ε(y) < 1/(12y))",
            name: "eps",
            param: eps,
            f: |y, eps| if y > 1.0 { -eps } else { -ln_factorial(y) - eps },
        },
    };
    Likelihood::Nll(NllMap {
        family: Poisson::<f64>::NAME,
        link: if log_input { Link::Log } else { Link::Identity },
        fixed: if log_input { vec![] } else { vec![("eps", eps)] },
        scale: 1.0,
        shift,
        nll: Box::new(move |out, y| {
            let rate = if log_input { out[0].exp() } else { out[0] + eps };
            -Poisson::new(rate).map_or(f64::NAN, |d| d.log_prob(y))
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::Reduction;
    use crate::loss::testing::*;

    fn configs() -> Vec<PoissonNllConfig<f64>> {
        let mut v = Vec::new();
        for log_input in [true, false] {
            for full in [false, true] {
                for eps in [1e-8, 0.5] {
                    v.push(PoissonNllConfig { log_input, full, eps });
                }
            }
        }
        v
    }

    #[test]
    fn declared_map_holds_exactly_without_full_and_within_stirling_error_with_it() {
        let counts = [0.0, 1.0, 2.0, 3.0, 7.0, 40.0, 1000.0];
        for cfg in configs() {
            let outs: &[f64] =
                if cfg.log_input { &[-3.0, -0.2, 0.0, 1.5, 6.0] } else { &[0.0, 0.1, 1.0, 4.5, 300.0] };
            let pts: Vec<(Vec<f64>, f64)> =
                outs.iter().flat_map(|&x| counts.iter().map(move |&y| (vec![x], y))).collect();
            let per = |o: &[f64], y: f64| poisson_nll(&[o[0]], &[y], &cfg, &Options::mean()).unwrap().value;
            if !cfg.full {
                check_declared_map(&likelihood(&cfg), &pts, per, 1e-12);
                continue;
            }
            let Likelihood::Nll(map) = likelihood(&cfg) else { panic!() };
            for (o, y) in &pts {
                // ℓ = NLL − ε(y) with 0 < ε(y) < 1/(12y) for y > 1 (Robbins 1955), ε = 0 else.
                let gap = map.predicted_loss(o, *y) - per(o, *y);
                let bound = if *y > 1.0 { 1.0 / (12.0 * y) } else { 0.0 };
                let slack = 1e-12 * per(o, *y).abs().max(1.0);
                assert!(gap > -slack && gap < bound + slack, "x {o:?} y {y}: gap {gap}, bound {bound}");
                if *y > 1.0 {
                    assert!(gap > 1.0 / (12.0 * y + 1.0) - slack);
                }
            }
        }
    }

    #[test]
    fn loss_plus_log_factorial_is_a_probability_mass_over_the_counts() {
        // Σ_y exp(−(ℓ(x, y) + log y!)) = 1: the loss is the Poisson NLL less log y!.
        for &x in &[-2.0f64, 0.0, 1.3, 3.0] {
            let cfg = PoissonNllConfig::default();
            let mass: f64 = (0..200)
                .map(|k| {
                    let y = k as f64;
                    let l = poisson_nll(&[x], &[y], &cfg, &Options::mean()).unwrap().value;
                    (-(l + ln_factorial(y))).exp()
                })
                .sum();
            assert!((mass - 1.0).abs() < 1e-13, "x = {x}: {mass}");
        }
    }

    #[test]
    fn gradient_matches_central_differences_for_every_option() {
        let y = [0.0, 1.0, 3.0, 7.0, 2.0, 0.5];
        let w = [1.0, 0.5, 2.0, 0.0, 3.0, 1.5];
        let m = [true, true, false, true, true, true];
        for cfg in configs() {
            let x: [f64; 6] = if cfg.log_input {
                [0.3, -1.2, 2.5, 1.0, -0.01, 1.1]
            } else {
                [0.3, 1.2, 2.5, 7.0, 0.9, 1.1]
            };
            for opts in option_grid(&w, &m) {
                check_loss_grad(&x, |v| poisson_nll(v, &y, &cfg, &opts).unwrap(), 1e-7);
            }
        }
    }

    #[test]
    fn edges_zero_rates_and_errors() {
        let none = Options::with_reduction(Reduction::None);
        let cfg = PoissonNllConfig::default();
        let out = poisson_nll(&[f64::NEG_INFINITY, f64::NEG_INFINITY], &[0.0, 2.0], &cfg, &none).unwrap();
        assert_eq!(out.per_element, vec![0.0, f64::INFINITY]);
        assert_eq!(out.grad, vec![0.0, -2.0]);
        let rate = PoissonNllConfig { log_input: false, full: false, eps: 0.0 };
        let out = poisson_nll(&[0.0, 0.0], &[0.0, 2.0], &rate, &none).unwrap();
        assert_eq!(out.per_element, vec![0.0, f64::INFINITY]);
        assert_eq!(out.grad, vec![1.0, f64::NEG_INFINITY]);
        assert!(poisson_nll(&[0.0f64], &[-1.0], &cfg, &none).is_err());
        assert!(poisson_nll(&[-1.0f64], &[1.0], &rate, &none).is_err());
        let bad = PoissonNllConfig { eps: -1.0, ..rate };
        assert!(poisson_nll(&[1.0f64], &[1.0], &bad, &none).is_err());
        let a = poisson_nll(&[0.7f32, -2.0], &[3.0, 0.0], &PoissonNllConfig::default(), &Options::mean())
            .unwrap();
        let b = poisson_nll(&[0.7f64, -2.0], &[3.0, 0.0], &cfg, &Options::mean()).unwrap();
        assert!((a.value as f64 - b.value).abs() < 1e-6 * b.value.abs().max(1.0));
    }
}
