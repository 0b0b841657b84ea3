//! Model comparison: which family — which loss — is right for this data?
//!
//! Each candidate family is fitted by maximum likelihood ([`super::distribution`]) and scored two
//! ways:
//!
//! ```text
//! held-out NLL   k-fold cross-validation: fit on k − 1 folds, score −log p(xᵢ | θ̂₋ₖ) on the
//!                held-out fold; report the mean over all n rows (nats per observation) and its
//!                standard error sd(NLLᵢ)/√n. This estimates the cross-entropy H(p_data, q_θ̂),
//!                so the ranking is by estimated KL(p_data ‖ q_θ̂) up to the common H(p_data).
//! AIC            2k − 2ℓ(θ̂) on the full sample (k estimated parameters); BIC = k·log n − 2ℓ(θ̂)
//! ```
//!
//! The two agree asymptotically (AIC is an estimate of 2n times the held-out cross-entropy). The
//! winning family names the loss to train with: a normal fits best → squared error; Laplace →
//! absolute error; Student-t → the Student-t NLL; logistic → log-cosh; and so on
//! ([`loss_for_family`]).
//!
//! Folds are assigned by a seeded shuffle, so a comparison is reproducible. A candidate that
//! cannot be fitted (a value outside its support, a degenerate sample) is kept in the result with
//! the reason, never dropped silently.

use super::distribution::{DistributionFit, MaximumLikelihood};
use crate::error::{Error, Result};
use crate::family;

/// A family that can be fitted and scored.
pub trait Candidate: Send + Sync {
    /// The family name.
    fn name(&self) -> &'static str;
    /// The maximum-likelihood fit on `x`.
    ///
    /// # Errors
    /// Whatever the family's fit reports (support, degenerate sample, non-convergence).
    fn fit(&self, x: &[f64]) -> Result<DistributionFit>;
    /// log p(x) under a fit of this family.
    fn log_prob(&self, fit: &DistributionFit, x: f64) -> f64;
}

struct FamilyCandidate<D>(std::marker::PhantomData<fn() -> D>);

impl<D: MaximumLikelihood> Candidate for FamilyCandidate<D> {
    fn name(&self) -> &'static str {
        D::NAME
    }
    fn fit(&self, x: &[f64]) -> Result<DistributionFit> {
        D::fit(x, None)
    }
    fn log_prob(&self, fit: &DistributionFit, x: f64) -> f64 {
        D::from_params(&fit.params).map_or(f64::NAN, |d| d.log_prob(x))
    }
}

fn boxed<D: MaximumLikelihood + 'static>() -> Box<dyn Candidate> {
    Box::new(FamilyCandidate::<D>(std::marker::PhantomData))
}

/// The families that can be compared, by name (`gaussian` is accepted for `normal`).
pub const FAMILIES: &[&str] = &[
    "normal",
    "laplace",
    "student_t",
    "cauchy",
    "logistic",
    "gumbel",
    "log_normal",
    "gamma",
    "weibull",
    "exponential",
    "inverse_gaussian",
    "half_normal",
    "beta",
    "poisson",
    "negative_binomial",
    "geometric",
];

/// The candidate for a family name.
///
/// # Errors
/// [`Error::InvalidOption`] for a name not in [`FAMILIES`].
pub fn candidate(name: &str) -> Result<Box<dyn Candidate>> {
    Ok(match name {
        "normal" | "gaussian" => boxed::<family::Normal<f64>>(),
        "laplace" => boxed::<family::Laplace<f64>>(),
        "student_t" => boxed::<family::StudentT<f64>>(),
        "cauchy" => boxed::<family::Cauchy<f64>>(),
        "logistic" => boxed::<family::Logistic<f64>>(),
        "gumbel" => boxed::<family::Gumbel<f64>>(),
        "log_normal" => boxed::<family::LogNormal<f64>>(),
        "gamma" => boxed::<family::Gamma<f64>>(),
        "weibull" => boxed::<family::Weibull<f64>>(),
        "exponential" => boxed::<family::Exponential<f64>>(),
        "inverse_gaussian" => boxed::<family::InverseGaussian<f64>>(),
        "half_normal" => boxed::<family::HalfNormal<f64>>(),
        "beta" => boxed::<family::Beta<f64>>(),
        "poisson" => boxed::<family::Poisson<f64>>(),
        "negative_binomial" => boxed::<family::NegativeBinomial<f64>>(),
        "geometric" => boxed::<family::Geometric<f64>>(),
        other => {
            return Err(Error::InvalidOption {
                name: "family",
                value: other.to_string(),
                reason: "not a family that can be compared (see fit::compare::FAMILIES)",
            });
        }
    })
}

/// The loss whose minimisation is maximum likelihood under a family used as the noise model of
/// the target, with a one-line reason.
pub fn loss_for_family(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "normal" | "gaussian" => ("mse", "Normal NLL = squared error up to an affine map (σ fixed)"),
        "laplace" => ("l1", "Laplace NLL = absolute error up to an affine map (b fixed)"),
        "student_t" => ("student_t_nll", "heavy tails: the Student-t NLL bounds the influence of outliers"),
        "cauchy" => ("student_t_nll", "Cauchy = Student-t with ν = 1"),
        "logistic" => ("log_cosh", "logistic NLL = 2·log cosh(r/2s) + const: a log-cosh loss"),
        "gumbel" => ("gumbel NLL", "extreme values: no common named loss; fit the Gumbel NLL itself"),
        "log_normal" => ("mse on log y", "log-normal NLL = squared error of log y + Σ log y"),
        "gamma" => ("gamma_deviance", "Gamma NLL = Gamma deviance/2φ + const (log link)"),
        "weibull" => ("weibull NLL", "no common named loss; fit the Weibull NLL itself"),
        "exponential" => ("gamma_deviance", "exponential = Gamma with shape 1"),
        "inverse_gaussian" => ("tweedie_deviance(3)", "inverse Gaussian = Tweedie power 3"),
        "half_normal" => ("mse", "half-normal NLL = squared magnitude up to an affine map"),
        "beta" => ("beta NLL", "proportions: no common named loss; fit the Beta NLL itself"),
        "poisson" => ("poisson_nll", "Poisson NLL on a log-rate (= Poisson deviance/2 + const)"),
        "negative_binomial" => ("negative binomial NLL", "over-dispersed counts: the NB NLL"),
        "geometric" => ("geometric NLL", "counts of failures: the geometric NLL"),
        _ => return None,
    })
}

/// One candidate's scores.
#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    /// Family name.
    pub family: &'static str,
    /// Mean held-out NLL over all rows, nats per observation.
    pub heldout_nll: f64,
    /// Its standard error, sd(NLLᵢ)/√n.
    pub heldout_se: f64,
    /// The fit on the full sample (parameters, standard errors, log-likelihood, AIC, BIC).
    pub fit: DistributionFit,
}

/// The outcome for one candidate: scored, or why it could not be.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Fitted and scored on every fold.
    Scored(Scored),
    /// Not fitted; the error says why (e.g. a value outside the family's support).
    Failed {
        /// Family name.
        family: &'static str,
        /// The error's message.
        reason: String,
    },
}

/// A comparison: the scored candidates ranked by held-out NLL (best first), then the failures.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Number of observations.
    pub n: usize,
    /// Number of folds.
    pub folds: usize,
    /// Scored candidates, best (lowest held-out NLL) first.
    pub ranked: Vec<Scored>,
    /// Candidates that could not be fitted, with reasons.
    pub failed: Vec<(&'static str, String)>,
}

impl Comparison {
    /// The best family by AIC (which may differ from the held-out ranking in small samples).
    pub fn best_by_aic(&self) -> Option<&Scored> {
        self.ranked.iter().min_by(|a, b| a.fit.aic.total_cmp(&b.fit.aic))
    }
}

/// Deterministic fold of each row: a seeded Fisher–Yates shuffle (SplitMix64) dealt round-robin.
pub fn fold_assignment(n: usize, folds: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    let mut fold = vec![0; n];
    for (rank, &row) in order.iter().enumerate() {
        fold[row] = rank % folds;
    }
    fold
}

/// Fits and scores one candidate: held-out NLL over `folds` folds and the full-sample fit.
///
/// # Errors
/// The first fit error (full sample or fold).
pub fn score(candidate: &dyn Candidate, x: &[f64], fold: &[usize], folds: usize) -> Result<Scored> {
    score_located(candidate, x, fold, folds).map_err(|(_, e)| e)
}

/// Where a fit of [`score`] failed: the full sample (`None`), or the fold held out (`Some(k)`)
/// with the number of rows trained on.
type FitFailure = (Option<(usize, usize)>, Error);

/// [`score`], saying which fit failed.
fn score_located(
    candidate: &dyn Candidate,
    x: &[f64],
    fold: &[usize],
    folds: usize,
) -> std::result::Result<Scored, FitFailure> {
    let full = candidate.fit(x).map_err(|e| (None, e))?;
    let mut nll = vec![0.0; x.len()];
    for k in 0..folds {
        let train: Vec<f64> = x.iter().zip(fold).filter(|(_, f)| **f != k).map(|(v, _)| *v).collect();
        let fit = candidate.fit(&train).map_err(|e| (Some((k, train.len())), e))?;
        for (i, v) in x.iter().enumerate() {
            if fold[i] == k {
                nll[i] = -candidate.log_prob(&fit, *v);
            }
        }
    }
    let n = x.len() as f64;
    let mean = nll.iter().sum::<f64>() / n;
    let var = nll.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    let se = if mean.is_finite() { (var / n).sqrt() } else { f64::NAN };
    Ok(Scored { family: candidate.name(), heldout_nll: mean, heldout_se: se, fit: full })
}

/// Compares families on a sample by k-fold held-out NLL and AIC.
///
/// # Errors
/// [`Error::InvalidOption`] for an unknown family name or `folds` outside `2..=n`;
/// [`Error::Empty`] for an empty sample or no family; [`Error::InvalidValue`] for a non-finite value
/// (naming the row). A family that cannot be fitted is reported in `failed`, not an error.
///
/// # Example
/// ```
/// use surprisal::fit::compare::compare;
/// // Heavy-tailed data: a Laplace sample (inverse CDF on a regular grid).
/// let x: Vec<f64> = (1..400).map(|i| {
///     let u = i as f64 / 400.0;
///     if u < 0.5 { (2.0 * u).ln() } else { -(2.0 * (1.0 - u)).ln() }
/// }).collect();
/// let c = compare(&x, &["normal", "laplace"], 5, 7).unwrap();
/// assert_eq!(c.ranked[0].family, "laplace");
/// ```
pub fn compare(x: &[f64], families: &[&str], folds: usize, seed: u64) -> Result<Comparison> {
    if x.is_empty() {
        return Err(Error::Empty { name: "sample" });
    }
    if families.is_empty() {
        return Err(Error::Empty { name: "families" });
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidValue {
            name: "sample",
            value: x[i],
            index: Some(i),
            reason: "must be finite",
        });
    }
    if folds < 2 || folds > x.len() {
        return Err(Error::InvalidOption {
            name: "folds",
            value: folds.to_string(),
            reason: "must be between 2 and the number of observations",
        });
    }
    let candidates = families.iter().map(|f| candidate(f)).collect::<Result<Vec<_>>>()?;
    let fold = fold_assignment(x.len(), folds, seed);
    let mut ranked = Vec::new();
    let mut failed = Vec::new();
    for c in &candidates {
        match score_located(c.as_ref(), x, &fold, folds) {
            Ok(s) => ranked.push(s),
            Err((None, e)) => failed.push((c.name(), e.to_string())),
            // The full sample fits, a training split does not: say which, or the reason (a
            // sample property) would read as the whole sample's.
            Err((Some((k, rows)), e)) => failed.push((
                c.name(),
                format!("without fold {} of {folds} (fitted on {rows} of the {} rows): {e}", k + 1, x.len()),
            )),
        }
    }
    ranked.sort_by(|a, b| a.heldout_nll.total_cmp(&b.heldout_nll));
    Ok(Comparison { n: x.len(), folds, ranked, failed })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seeded uniforms in (0, 1) from SplitMix64 (the same generator as the folds).
    fn uniforms(n: usize, seed: u64) -> Vec<f64> {
        let f = fold_assignment(n, n, seed); // a permutation of 0..n
        f.iter().map(|&k| (k as f64 + 0.5) / n as f64).collect()
    }

    fn laplace_sample(n: usize) -> Vec<f64> {
        uniforms(n, 1)
            .iter()
            .map(|&u| if u < 0.5 { (2.0 * u).ln() } else { -(2.0 * (1.0 - u)).ln() })
            .collect()
    }

    fn normal_sample(n: usize) -> Vec<f64> {
        // Inverse normal CDF by bisection on ndtr: exact quantiles of a standard normal.
        uniforms(n, 2)
            .iter()
            .map(|&u| {
                let (mut lo, mut hi) = (-10.0, 10.0);
                for _ in 0..80 {
                    let mid = 0.5 * (lo + hi);
                    if crate::num::special::ndtr(mid) < u { lo = mid } else { hi = mid }
                }
                2.0 + 3.0 * 0.5 * (lo + hi)
            })
            .collect()
    }

    #[test]
    fn the_generating_family_wins_by_heldout_nll_and_aic() {
        let x = laplace_sample(2000);
        let c = compare(&x, &["normal", "laplace", "logistic"], 5, 11).unwrap();
        assert_eq!(c.ranked[0].family, "laplace", "{c:?}");
        assert_eq!(c.best_by_aic().unwrap().family, "laplace");
        let x = normal_sample(2000);
        let c = compare(&x, &["laplace", "gaussian", "cauchy"], 5, 11).unwrap();
        assert_eq!(c.ranked[0].family, "normal", "{c:?}");
        assert_eq!(c.best_by_aic().unwrap().family, "normal");
    }

    #[test]
    fn heldout_nll_is_the_mean_of_per_fold_fits_scored_on_the_held_out_rows() {
        // The normal fit is closed form: recompute every fold by hand.
        let x = normal_sample(60);
        let fold = fold_assignment(x.len(), 4, 3);
        let s = score(candidate("normal").unwrap().as_ref(), &x, &fold, 4).unwrap();
        let mut nll = Vec::new();
        for k in 0..4 {
            let train: Vec<f64> = (0..x.len()).filter(|&i| fold[i] != k).map(|i| x[i]).collect();
            let m = train.iter().sum::<f64>() / train.len() as f64;
            let v = train.iter().map(|t| (t - m) * (t - m)).sum::<f64>() / train.len() as f64;
            for i in (0..x.len()).filter(|&i| fold[i] == k) {
                nll.push(0.5 * (2.0 * std::f64::consts::PI * v).ln() + 0.5 * (x[i] - m).powi(2) / v);
            }
        }
        let mean = nll.iter().sum::<f64>() / nll.len() as f64;
        assert!((s.heldout_nll - mean).abs() < 1e-12 * mean.abs().max(1.0));
        let var = nll.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (nll.len() as f64 - 1.0);
        assert!((s.heldout_se - (var / nll.len() as f64).sqrt()).abs() < 1e-12);
        // AIC of the full fit: 2k − 2ℓ.
        assert!((s.fit.aic - (4.0 - 2.0 * s.fit.log_likelihood)).abs() < 1e-9);
    }

    /// The full sample is overdispersed (one count of 50), a training split without the 50 is
    /// not: the failure names the fold, so that the reason is not read as the whole sample's.
    #[test]
    fn a_family_that_fails_on_a_fold_only_is_reported_with_the_fold() {
        let x = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 3.0, 50.0];
        assert!(candidate("negative_binomial").unwrap().fit(&x).is_ok());
        let fold = fold_assignment(x.len(), 2, 2026);
        let k = fold[9]; // the fold holding the 50: without it, the training split is overdispersed no more
        let c = compare(&x, &["negative_binomial", "poisson"], 2, 2026).unwrap();
        assert_eq!(c.ranked.len(), 1);
        let (family, reason) = &c.failed[0];
        assert_eq!(*family, "negative_binomial");
        let want = format!("without fold {} of 2 (fitted on 5 of the 10 rows): ", k + 1);
        assert!(
            reason.starts_with(&want) && reason.contains("variance does not exceed the mean"),
            "{reason}"
        );
        // A failure on the full sample has no fold.
        let c = compare(&[1.0, 2.0, 1.0, 2.0], &["negative_binomial"], 2, 1).unwrap();
        assert!(!c.failed[0].1.contains("fold"), "{}", c.failed[0].1);
    }

    #[test]
    fn folds_are_balanced_deterministic_and_cover_every_row() {
        let a = fold_assignment(103, 5, 42);
        assert_eq!(a, fold_assignment(103, 5, 42));
        assert_ne!(a, fold_assignment(103, 5, 43));
        for k in 0..5 {
            let c = a.iter().filter(|&&f| f == k).count();
            assert!(c == 20 || c == 21, "fold {k} has {c} rows");
        }
    }

    #[test]
    fn families_that_cannot_fit_are_reported_not_dropped() {
        let x = normal_sample(200); // has negative values: gamma and poisson cannot fit
        let c = compare(&x, &["normal", "gamma", "poisson"], 5, 1).unwrap();
        assert_eq!(c.ranked.len(), 1);
        let names: Vec<_> = c.failed.iter().map(|(f, _)| *f).collect();
        assert_eq!(names, vec!["gamma", "poisson"]);
        assert!(c.failed.iter().all(|(_, why)| !why.is_empty()));
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        assert!(matches!(compare(&[], &["normal"], 2, 0), Err(Error::Empty { .. })));
        assert!(matches!(compare(&[1.0, 2.0], &["nope"], 2, 0), Err(Error::InvalidOption { .. })));
        assert!(matches!(compare(&[1.0, 2.0], &["normal"], 3, 0), Err(Error::InvalidOption { .. })));
        assert!(matches!(
            compare(&[1.0, f64::NAN], &["normal"], 2, 0),
            Err(Error::InvalidValue { index: Some(1), .. })
        ));
        for f in FAMILIES {
            assert!(candidate(f).is_ok(), "{f}");
            assert!(loss_for_family(f).is_some(), "{f}");
        }
    }

    #[test]
    fn on_engel_food_expenditure_a_right_skewed_family_beats_the_normal() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/engel.csv");
        let text = std::fs::read_to_string(path).expect("bundled engel.csv");
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = header.iter().position(|h| *h == "foodexp").unwrap();
        let y: Vec<f64> = lines.map(|l| l.split(',').nth(col).unwrap().parse().unwrap()).collect();
        let c = compare(&y, &["normal", "log_normal", "gamma"], 5, 2026).unwrap();
        assert_ne!(c.ranked[0].family, "normal", "{c:?}");
        let normal = c.ranked.iter().find(|s| s.family == "normal").unwrap();
        assert!(
            c.ranked[0].heldout_nll
                < normal.heldout_nll - 2.0 * normal.heldout_se.max(c.ranked[0].heldout_se) / 2.0
        );
    }
}
