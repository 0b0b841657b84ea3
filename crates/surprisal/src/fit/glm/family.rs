//! GLM families as statsmodels defines them: variance function, unit deviance, per-observation
//! log-likelihood with variance weights and a dispersion, and the support of the response.
//!
//! ```text
//! family              V(μ)        unit deviance d(y, μ)  (the weighted deviance is Σ wᵢ d(yᵢ, μᵢ))
//! gaussian            1           (y − μ)²
//! bernoulli/binomial  μ(1 − μ)    2[y log(y/μ) + (1 − y) log((1 − y)/(1 − μ))]
//! poisson             μ           2[y log(y/μ) − (y − μ)]
//! gamma               μ²          2[(y − μ)/μ − log(y/μ)]
//! inverse_gaussian    μ³          (y − μ)²/(y μ²)
//! tweedie(p)          μᵖ          2[y^{2−p}/((1−p)(2−p)) − y μ^{1−p}/(1−p) + μ^{2−p}/(2−p)]
//! negative_binomial   μ + αμ²     2[y log(y/μ) − (y + 1/α) log((1 + αy)/(1 + αμ))]
//! ```
//!
//! At the bounds of the mean the deviances take their limits: y log(y/μ) is 0 at y = 0 for every
//! μ (0/0 included), so a row fitted exactly on a bound (μ̂ = y = 0 or 1, as separation leaves a
//! logistic fit) contributes 0, not NaN; likewise (y − μ)²/φ at y = μ in the log-likelihoods,
//! and (y − μ)²/V(μ) in Pearson's χ².
//!
//! Every unit deviance has ∂d/∂μ = −2(y − μ)/V(μ), so half the deviance is the negative
//! log-likelihood (at dispersion 1) up to a term free of μ: the IRLS objective.
//!
//! Log-likelihoods (statsmodels 0.15 `loglike_obs`, w the variance weight, φ the dispersion):
//!
//! ```text
//! gaussian          −½[w(y − μ)²/φ + log(φ/w) + log 2π]
//! binomial          w[−lgamma(y + 1) − lgamma(2 − y) + y log μ + (1 − y) log(1 − μ)]
//!                   (statsmodels' form for proportions with the trials as variance weights; it is
//!                    the Bernoulli log-likelihood scaled by w, not the binomial pmf of w·y successes)
//! poisson           w[y log μ − μ − lgamma(y + 1)]
//! gamma             s log(s y/μ) − s y/μ − lgamma(s) − log y,        s = w/φ
//! inverse_gaussian  −½[w(y − μ)²/(φ y μ²) + log(φ y³/w) + log 2π]
//! tweedie 1<p<2     (yθ − κ)/φᵢ + [y > 0]·log(W(y, φᵢ)/y), θ = μ^{1−p}/(1−p), κ = μ^{2−p}/(2−p),
//!                   φᵢ = φ/w, W = Wright's Bessel function Φ(−a, 0; x) summed as a series in log
//!                   space, a = (2−p)/(1−p), x = ((p−1)φᵢ/y)^a/((2−p)φᵢ)  (exact density, as
//!                   statsmodels with SciPy's `wright_bessel`); the Poisson form at p = 1 and
//!                   the gamma form at p = 2 (as statsmodels); NaN for other powers
//! negative_binomial w[y log(αμ) − (y + 1/α) log(1 + αμ) + lgamma(y + 1/α) − lgamma(1/α) − lgamma(y + 1)]
//! ```

use crate::error::{Error, Result};
use crate::link::Link;
use crate::num::special::ln_gamma as lgamma;
use crate::num::{logsumexp, xlog1py, xlogy};

/// A GLM family (the exponential-dispersion model of the response).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GlmFamily {
    /// Normal response, V(μ) = 1; dispersion σ² estimated.
    Gaussian,
    /// 0/1 response, V(μ) = μ(1 − μ); dispersion 1.
    Bernoulli,
    /// Proportions in [0, 1] with the numbers of trials given as variance weights; dispersion 1.
    Binomial,
    /// Counts, V(μ) = μ; dispersion 1.
    Poisson,
    /// Positive response, V(μ) = μ²; dispersion estimated.
    Gamma,
    /// Positive response, V(μ) = μ³; dispersion estimated.
    InverseGaussian,
    /// Tweedie with variance power p (0, or p ≥ 1), V(μ) = μᵖ; dispersion estimated.
    Tweedie {
        /// The variance power p.
        power: f64,
    },
    /// Negative binomial (NB2), V(μ) = μ + αμ²; dispersion 1. `alpha: None` estimates α by
    /// profile likelihood.
    NegativeBinomial {
        /// The overdispersion α > 0, or `None` to estimate it.
        alpha: Option<f64>,
    },
}

impl GlmFamily {
    /// The family's name as statsmodels prints it.
    pub fn name(&self) -> &'static str {
        match self {
            GlmFamily::Gaussian => "Gaussian",
            GlmFamily::Bernoulli | GlmFamily::Binomial => "Binomial",
            GlmFamily::Poisson => "Poisson",
            GlmFamily::Gamma => "Gamma",
            GlmFamily::InverseGaussian => "InverseGaussian",
            GlmFamily::Tweedie { .. } => "Tweedie",
            GlmFamily::NegativeBinomial { .. } => "NegativeBinomial",
        }
    }

    /// The family named `name` (`gaussian`, `bernoulli`, `binomial`, `poisson`, `gamma`,
    /// `inverse_gaussian`, `tweedie` with `power` (default 1, as statsmodels), `negative_binomial`
    /// with `alpha` (`None`: estimated by profile likelihood)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for an unknown name.
    pub fn parse(name: &str, power: Option<f64>, alpha: Option<f64>) -> Result<GlmFamily> {
        Ok(match name {
            "gaussian" => GlmFamily::Gaussian,
            "bernoulli" => GlmFamily::Bernoulli,
            "binomial" => GlmFamily::Binomial,
            "poisson" => GlmFamily::Poisson,
            "gamma" => GlmFamily::Gamma,
            "inverse_gaussian" => GlmFamily::InverseGaussian,
            "tweedie" => GlmFamily::Tweedie { power: power.unwrap_or(1.0) },
            "negative_binomial" => GlmFamily::NegativeBinomial { alpha },
            _ => {
                return Err(Error::InvalidOption {
                    name: "family",
                    value: name.to_string(),
                    reason: "expected gaussian, bernoulli, binomial, poisson, gamma, inverse_gaussian, \
                             tweedie or negative_binomial",
                });
            }
        })
    }

    /// The default link: canonical (identity, logit, log, inverse, inverse_squared), and log for
    /// tweedie and negative_binomial as in statsmodels (their canonical links μ^{1−p} and
    /// log(αμ/(1 + αμ)) are rarely wanted).
    pub fn default_link(&self) -> Link {
        match self {
            GlmFamily::Gaussian => Link::Identity,
            GlmFamily::Bernoulli | GlmFamily::Binomial => Link::Logit,
            GlmFamily::Poisson | GlmFamily::Tweedie { .. } | GlmFamily::NegativeBinomial { .. } => Link::Log,
            GlmFamily::Gamma => Link::Inverse,
            GlmFamily::InverseGaussian => Link::InverseSquared,
        }
    }

    /// The links this family accepts.
    pub fn links(&self) -> &'static [Link] {
        use Link::*;
        match self {
            GlmFamily::Gaussian => &[Identity, Log, Inverse],
            GlmFamily::Bernoulli | GlmFamily::Binomial => &[Logit, Probit, Cloglog, Log],
            GlmFamily::Poisson => &[Log, Identity, Sqrt],
            GlmFamily::Gamma => &[Inverse, Log, Identity],
            GlmFamily::InverseGaussian => &[InverseSquared, Inverse, Log, Identity],
            GlmFamily::Tweedie { .. } => &[Log, Identity, Sqrt],
            GlmFamily::NegativeBinomial { .. } => &[Log, Identity, Sqrt],
        }
    }

    /// Checks the family's own parameters (tweedie power, negative-binomial α).
    pub(crate) fn validate(&self) -> Result<()> {
        match *self {
            GlmFamily::Tweedie { power } if !(power == 0.0 || (power >= 1.0 && power.is_finite())) => {
                Err(Error::param("power", power, "tweedie power must be 0 or finite and >= 1"))
            }
            GlmFamily::NegativeBinomial { alpha: Some(a) } if !(a > 0.0 && a.is_finite()) => {
                Err(Error::param("alpha", a, "must be finite and > 0"))
            }
            _ => Ok(()),
        }
    }

    /// Whether the dispersion is fixed at 1 (bernoulli, binomial, poisson, negative binomial).
    pub fn fixed_scale(&self) -> bool {
        matches!(
            self,
            GlmFamily::Bernoulli
                | GlmFamily::Binomial
                | GlmFamily::Poisson
                | GlmFamily::NegativeBinomial { .. }
        )
    }

    /// Checks that `y` lies in the support, returning the reason when it does not.
    pub(crate) fn check_y(&self, y: f64) -> std::result::Result<(), &'static str> {
        let ok = y.is_finite()
            && match *self {
                GlmFamily::Gaussian => true,
                GlmFamily::Bernoulli => y == 0.0 || y == 1.0,
                GlmFamily::Binomial => (0.0..=1.0).contains(&y),
                GlmFamily::Poisson | GlmFamily::NegativeBinomial { .. } => y >= 0.0,
                GlmFamily::Gamma | GlmFamily::InverseGaussian => y > 0.0,
                GlmFamily::Tweedie { power } => {
                    if power == 0.0 {
                        true
                    } else if power < 2.0 {
                        y >= 0.0
                    } else {
                        y > 0.0
                    }
                }
            };
        if ok {
            return Ok(());
        }
        Err(match self {
            GlmFamily::Gaussian => "must be finite",
            GlmFamily::Bernoulli => "bernoulli response must be 0 or 1",
            GlmFamily::Binomial => "binomial response must be a proportion in [0, 1]",
            GlmFamily::Poisson | GlmFamily::NegativeBinomial { .. } => {
                "count response must be finite and >= 0"
            }
            GlmFamily::Gamma | GlmFamily::InverseGaussian => "response must be finite and > 0",
            GlmFamily::Tweedie { .. } => "tweedie response must be >= 0 (1 <= p < 2) or > 0 (p >= 2)",
        })
    }

    /// Whether μ is a valid mean (an invalid one makes the deviance +inf).
    #[inline]
    pub(crate) fn valid_mu(&self, mu: f64) -> bool {
        match self {
            GlmFamily::Gaussian => mu.is_finite(),
            GlmFamily::Bernoulli | GlmFamily::Binomial => mu > 0.0 && mu < 1.0,
            GlmFamily::Tweedie { power } if *power == 0.0 => mu.is_finite(),
            _ => mu > 0.0 && mu.is_finite(),
        }
    }

    /// The variance function V(μ); for negative binomial with α estimated, `alpha` is the current α.
    #[inline]
    pub(crate) fn variance(&self, mu: f64, alpha: f64) -> f64 {
        match *self {
            GlmFamily::Gaussian => 1.0,
            GlmFamily::Bernoulli | GlmFamily::Binomial => mu * (1.0 - mu),
            GlmFamily::Poisson => mu,
            GlmFamily::Gamma => mu * mu,
            GlmFamily::InverseGaussian => mu * mu * mu,
            GlmFamily::Tweedie { power } => mu.powf(power),
            GlmFamily::NegativeBinomial { .. } => mu + alpha * mu * mu,
        }
    }

    /// The unit deviance d(y, μ) (see the module table).
    #[inline]
    pub(crate) fn unit_deviance(&self, y: f64, mu: f64, alpha: f64) -> f64 {
        match *self {
            GlmFamily::Gaussian => (y - mu) * (y - mu),
            GlmFamily::Bernoulli | GlmFamily::Binomial => {
                2.0 * (ylog_ratio(y, mu) + ylog_ratio(1.0 - y, 1.0 - mu))
            }
            GlmFamily::Poisson => 2.0 * (ylog_ratio(y, mu) - (y - mu)),
            GlmFamily::Gamma => 2.0 * ((y - mu) / mu - (y / mu).ln()),
            GlmFamily::InverseGaussian => (y - mu) * (y - mu) / (y * mu * mu),
            GlmFamily::Tweedie { power: p } => {
                if p == 0.0 {
                    (y - mu) * (y - mu)
                } else if p == 1.0 {
                    2.0 * (ylog_ratio(y, mu) - (y - mu))
                } else if p == 2.0 {
                    2.0 * ((y - mu) / mu - (y / mu).ln())
                } else {
                    2.0 * (y.powf(2.0 - p) / ((1.0 - p) * (2.0 - p)) - y * mu.powf(1.0 - p) / (1.0 - p)
                        + mu.powf(2.0 - p) / (2.0 - p))
                }
            }
            GlmFamily::NegativeBinomial { .. } => {
                let ia = 1.0 / alpha;
                2.0 * (ylog_ratio(y, mu) - (y + ia) * ((1.0 + alpha * y) / (1.0 + alpha * mu)).ln())
            }
        }
    }

    /// statsmodels' per-observation log-likelihood at variance weight `w` and dispersion `scale`.
    pub(crate) fn loglike_obs(&self, y: f64, mu: f64, w: f64, scale: f64, alpha: f64) -> f64 {
        let ln2pi = (2.0 * std::f64::consts::PI).ln();
        match *self {
            GlmFamily::Gaussian => -0.5 * (w * sq_over(y - mu, scale) + (scale / w).ln() + ln2pi),
            GlmFamily::Bernoulli | GlmFamily::Binomial => {
                w * (-lgamma(y + 1.0) - lgamma(2.0 - y) + xlogy(y, mu) + xlog1py(1.0 - y, -mu))
            }
            GlmFamily::Poisson => w / scale * (xlogy(y, mu) - mu - lgamma(y + 1.0)),
            GlmFamily::Gamma => {
                let s = w / scale;
                let r = y / mu;
                s * (s * r).ln() - s * r - lgamma(s) - y.ln()
            }
            GlmFamily::InverseGaussian => {
                -0.5 * (w * sq_over(y - mu, scale * y * mu * mu) + (scale * y * y * y / w).ln() + ln2pi)
            }
            // statsmodels delegates p = 1 and p = 2 to the Poisson and gamma forms.
            GlmFamily::Tweedie { power: 1.0 } => GlmFamily::Poisson.loglike_obs(y, mu, w, scale, alpha),
            GlmFamily::Tweedie { power: 2.0 } => GlmFamily::Gamma.loglike_obs(y, mu, w, scale, alpha),
            GlmFamily::Tweedie { power } => tweedie_loglike(y, mu, scale / w, power),
            GlmFamily::NegativeBinomial { .. } => {
                let ia = 1.0 / alpha;
                w / scale
                    * (xlogy(y, alpha * mu) - (y + ia) * (alpha * mu).ln_1p() + lgamma(y + ia)
                        - lgamma(ia)
                        - lgamma(y + 1.0))
            }
        }
    }

    /// statsmodels' starting mean: (y + 0.5)/2 for bernoulli/binomial, (y + ȳ)/2 otherwise.
    #[inline]
    pub(crate) fn start_mu(&self, y: f64, ybar: f64) -> f64 {
        match self {
            GlmFamily::Bernoulli | GlmFamily::Binomial => (y + 0.5) / 2.0,
            _ => (y + ybar) / 2.0,
        }
    }
}

/// y·log(y/μ), with its limit 0 at y = 0 for every μ ≥ 0, 0·log(0/0) included (a fitted mean
/// on the bound its observation sits on, as a separated logistic fit leaves it); NaN for a NaN μ.
#[inline]
fn ylog_ratio(y: f64, mu: f64) -> f64 {
    if y == 0.0 && !mu.is_nan() { 0.0 } else { y * (y / mu).ln() }
}

/// r²/d, with its limit 0 at r = 0 for every d ≥ 0 (an observation fitted exactly, where the
/// variance or the dispersion is 0); NaN for a NaN d.
#[inline]
pub(crate) fn sq_over(r: f64, d: f64) -> f64 {
    if r == 0.0 && !d.is_nan() { 0.0 } else { r * r / d }
}

/// The exact Tweedie log density for 1 < p < 2 at dispersion `phi` (statsmodels with SciPy's
/// `wright_bessel`); NaN for other powers.
fn tweedie_loglike(y: f64, mu: f64, phi: f64, p: f64) -> f64 {
    if !(p > 1.0 && p < 2.0) {
        return f64::NAN;
    }
    let theta = mu.powf(1.0 - p) / (1.0 - p);
    let kappa = mu.powf(2.0 - p) / (2.0 - p);
    let mut ll = (y * theta - kappa) / phi;
    if y > 0.0 {
        let a = (2.0 - p) / (1.0 - p); // < 0
        let ln_x = a * ((p - 1.0) * phi / y).ln() - ((2.0 - p) * phi).ln();
        ll += log_wright_bessel(-a, ln_x) - y.ln();
    }
    ll
}

/// log Φ(ρ, 0; x) = log Σ_{k≥1} x^k/(k! Γ(ρk)) for ρ > 0, given log x; the terms are summed in log
/// space from k = 1 until they have fallen 40 nats below the largest.
fn log_wright_bessel(rho: f64, ln_x: f64) -> f64 {
    let mut terms = Vec::new();
    let mut best = f64::NEG_INFINITY;
    let mut k = 1.0f64;
    loop {
        let t = k * ln_x - lgamma(k + 1.0) - lgamma(rho * k);
        terms.push(t);
        if t > best {
            best = t;
        } else if t < best - 40.0 || k > 1e6 {
            break;
        }
        k += 1.0;
    }
    logsumexp(&terms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deviance_derivative_is_minus_two_residual_over_variance() {
        let fams = [
            GlmFamily::Gaussian,
            GlmFamily::Binomial,
            GlmFamily::Poisson,
            GlmFamily::Gamma,
            GlmFamily::InverseGaussian,
            GlmFamily::Tweedie { power: 1.5 },
            GlmFamily::Tweedie { power: 3.0 },
            GlmFamily::NegativeBinomial { alpha: Some(0.7) },
        ];
        for f in fams {
            for &(y, mu) in &[(0.3, 0.6), (0.8, 0.25), (0.5, 0.5)] {
                let h = 1e-6;
                let fd = (f.unit_deviance(y, mu + h, 0.7) - f.unit_deviance(y, mu - h, 0.7)) / (2.0 * h);
                let want = -2.0 * (y - mu) / f.variance(mu, 0.7);
                assert!((fd - want).abs() < 1e-6 * want.abs().max(1.0), "{f:?} {y} {mu}: {fd} vs {want}");
                assert!(f.unit_deviance(y, y, 0.7).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn deviances_take_their_limits_at_the_bounds_of_the_mean() {
        let nb = GlmFamily::NegativeBinomial { alpha: Some(0.7) };
        for f in [GlmFamily::Bernoulli, GlmFamily::Binomial] {
            // Fitted exactly on the bound: 0, as the limit from inside; on the other bound: +inf.
            assert_eq!(f.unit_deviance(1.0, 1.0, 0.0), 0.0);
            assert_eq!(f.unit_deviance(0.0, 0.0, 0.0), 0.0);
            assert_eq!(f.unit_deviance(1.0, 0.0, 0.0), f64::INFINITY);
            assert_eq!(f.unit_deviance(0.0, 1.0, 0.0), f64::INFINITY);
            // Near the bound the deviance tends to 0 continuously: 2·log(1/(1 − δ)) ≈ 2δ.
            let d = f.unit_deviance(1.0, 1.0 - 1e-12, 0.0);
            assert!((d - 2e-12).abs() < 1e-15, "{d}");
            assert!(f.unit_deviance(1.0, f64::NAN, 0.0).is_nan());
        }
        for f in [GlmFamily::Poisson, GlmFamily::Tweedie { power: 1.0 }, nb] {
            assert_eq!(f.unit_deviance(0.0, 0.0, 0.7), 0.0, "{f:?}");
            assert_eq!(f.unit_deviance(2.0, 0.0, 0.7), f64::INFINITY, "{f:?}");
            assert!(f.unit_deviance(0.0, f64::NAN, 0.7).is_nan(), "{f:?}");
        }
        // An exact fit at dispersion 0: the Gaussian density is unbounded there (+inf), not NaN.
        assert_eq!(GlmFamily::Gaussian.loglike_obs(1.5, 1.5, 1.0, 0.0, 0.0), f64::INFINITY);
        assert_eq!(GlmFamily::InverseGaussian.loglike_obs(1.5, 1.5, 1.0, 0.0, 0.0), f64::INFINITY);
    }

    #[test]
    fn loglikes_match_independent_values() {
        // mpmath: gamma pdf with shape 1/φ = 2, rate 2/3 (mean 3) at y = 2.5: -1.5613061510088404;
        // inverse Gaussian (mean 2, shape λ = 1/φ = 4) at y = 1.5:
        // ½log(λ/(2π y³)) − λ(y − μ)²/(2μ²y) = -0.91732234814030734.
        let g = GlmFamily::Gamma.loglike_obs(2.5, 3.0, 1.0, 0.5, 0.0);
        assert!((g + 1.561_306_151_008_840_4).abs() < 1e-13, "{g}");
        let ig = GlmFamily::InverseGaussian.loglike_obs(1.5, 2.0, 1.0, 0.25, 0.0);
        assert!((ig + 0.917_322_348_140_307_3).abs() < 1e-13, "{ig}");
        // Negative binomial (α = 0.5, μ = 2) at y = 3: mpmath
        // log(Γ(5)/(Γ(2)Γ(4))) + 2 log(1/(1+1)) + 3 log(1/(1+1)) = log(4) − 5 log 2 = -2.0794415416798359.
        let nb = GlmFamily::NegativeBinomial { alpha: Some(0.5) }.loglike_obs(3.0, 2.0, 1.0, 1.0, 0.5);
        assert!((nb + 2.079_441_541_679_835_9).abs() < 1e-13, "{nb}");
    }

    #[test]
    fn tweedie_density_integrates_to_one() {
        // P(Y = 0) = exp(−κ/φ) plus the integral of the continuous part over y > 0.
        let (mu, phi, p) = (1.3f64, 0.8, 1.4);
        let p0 = tweedie_loglike(0.0, mu, phi, p).exp();
        let n = 20000;
        let (lo, hi) = (1e-9f64, 25.0);
        let h = (hi - lo) / n as f64;
        let f = |y: f64| tweedie_loglike(y, mu, phi, p).exp();
        let mut s = f(lo) + f(hi);
        for i in 1..n {
            s += f(lo + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        let total = p0 + s * h / 3.0;
        assert!((total - 1.0).abs() < 2e-4, "{total}");
        assert!(tweedie_loglike(1.0, 1.0, 1.0, 2.5).is_nan());
    }
}
