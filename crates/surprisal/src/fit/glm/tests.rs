#![allow(clippy::needless_range_loop)]

use super::*;
use crate::testing::Rng;

/// The samplers the tests need beyond the shared ones.
trait Draws {
    fn poisson(&mut self, lambda: f64) -> f64;
    fn gamma(&mut self, shape: f64, scale: f64) -> f64;
    fn inverse_gaussian(&mut self, mu: f64, lambda: f64) -> f64;
}

impl Draws for Rng {
    fn poisson(&mut self, lambda: f64) -> f64 {
        // Multiplication method in pieces of 30 so e^{−λ} never underflows.
        let mut k = 0.0;
        let mut rest = lambda;
        while rest > 0.0 {
            let l = rest.min(30.0);
            rest -= l;
            let limit = (-l).exp();
            let mut prod = self.uniform_open();
            while prod > limit {
                k += 1.0;
                prod *= self.uniform_open();
            }
        }
        k
    }
    /// Gamma(shape, scale) by Marsaglia–Tsang (boosted for shape < 1).
    fn gamma(&mut self, shape: f64, scale: f64) -> f64 {
        if shape < 1.0 {
            return self.gamma(shape + 1.0, scale) * self.uniform_open().powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v > 0.0 && self.uniform_open().ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v * scale;
            }
        }
    }
    /// Inverse Gaussian(mean μ, shape λ) by Michael, Schucany and Haas.
    fn inverse_gaussian(&mut self, mu: f64, lambda: f64) -> f64 {
        let v = self.normal();
        let y = v * v;
        let x = mu + mu * mu * y / (2.0 * lambda)
            - mu / (2.0 * lambda) * (4.0 * mu * lambda * y + mu * mu * y * y).sqrt();
        if self.uniform_open() <= mu / (mu + x) { x } else { mu * mu / x }
    }
}

/// n rows: an intercept and two uniform(−1, 1) features.
fn design(n: usize, rng: &mut Rng) -> Vec<f64> {
    let mut x = Vec::with_capacity(3 * n);
    for _ in 0..n {
        x.extend([1.0, 2.0 * rng.uniform_open() - 1.0, 2.0 * rng.uniform_open() - 1.0]);
    }
    x
}

fn linear(x: &[f64], beta: &[f64], p: usize) -> Vec<f64> {
    x.chunks_exact(p).map(|r| r.iter().zip(beta).map(|(a, b)| a * b).sum()).collect()
}

/// Draws y from `fam` with means μ (dispersion 0.5 where the family has one, 20 trials for binomial).
fn draw(fam: GlmFamily, mu: &[f64], rng: &mut Rng) -> (Vec<f64>, Option<Vec<f64>>) {
    let phi: f64 = 0.5;
    let mut w = None;
    let y = match fam {
        GlmFamily::Gaussian => mu.iter().map(|m| m + phi.sqrt() * rng.normal()).collect(),
        GlmFamily::Bernoulli => mu.iter().map(|m| f64::from(rng.uniform_open() < *m)).collect(),
        GlmFamily::Binomial => {
            w = Some(vec![20.0; mu.len()]);
            mu.iter().map(|m| (0..20).filter(|_| rng.uniform_open() < *m).count() as f64 / 20.0).collect()
        }
        GlmFamily::Poisson => mu.iter().map(|m| rng.poisson(*m)).collect(),
        GlmFamily::Gamma => mu.iter().map(|m| rng.gamma(1.0 / phi, m * phi)).collect(),
        GlmFamily::InverseGaussian => mu.iter().map(|m| rng.inverse_gaussian(*m, 1.0 / phi)).collect(),
        GlmFamily::Tweedie { power: p } => mu
            .iter()
            .map(|m| {
                let count = rng.poisson(m.powf(2.0 - p) / (phi * (2.0 - p)));
                let shape = (2.0 - p) / (p - 1.0);
                let scale = phi * (p - 1.0) * m.powf(p - 1.0);
                (0..count as usize).map(|_| rng.gamma(shape, scale)).sum()
            })
            .collect(),
        GlmFamily::NegativeBinomial { alpha } => {
            let a = alpha.unwrap_or(0.5);
            mu.iter()
                .map(|m| {
                    let lambda = rng.gamma(1.0 / a, a * m);
                    rng.poisson(lambda)
                })
                .collect()
        }
    };
    (y, w)
}

/// A true β giving means inside the family's domain for the link (features in [−1, 1]).
fn true_beta(link: Link) -> [f64; 3] {
    match link {
        Link::Identity => [3.0, 0.5, -0.4],
        Link::Log => [0.4, 0.5, -0.3],
        Link::Logit | Link::Probit | Link::Cloglog => [0.2, 0.8, -0.6],
        Link::Inverse | Link::InverseSquared => [0.6, 0.1, -0.1],
        Link::Sqrt => [1.6, 0.3, -0.2],
        _ => unreachable!("not a GLM link"),
    }
}

fn all_families() -> Vec<GlmFamily> {
    vec![
        GlmFamily::Gaussian,
        GlmFamily::Bernoulli,
        GlmFamily::Binomial,
        GlmFamily::Poisson,
        GlmFamily::Gamma,
        GlmFamily::InverseGaussian,
        GlmFamily::Tweedie { power: 1.5 },
        GlmFamily::NegativeBinomial { alpha: Some(0.5) },
    ]
}

#[test]
fn every_family_and_link_converges_and_recovers_the_coefficients() {
    let n = 4000;
    for (k, fam) in all_families().into_iter().enumerate() {
        for &link in fam.links() {
            let mut beta = true_beta(link);
            if matches!(fam, GlmFamily::Binomial | GlmFamily::Bernoulli) && link == Link::Log {
                beta = [-1.0, 0.3, -0.2];
            }
            let mut rng = Rng(1000 + 17 * k as u64 + link as u64);
            let x = design(n, &mut rng);
            let mu: Vec<f64> = linear(&x, &beta, 3).into_iter().map(|e| link.inverse(e)).collect();
            let (y, w) = draw(fam, &mu, &mut rng);
            let mut glm = Glm::new(fam).link(link).intercept(0);
            if let Some(w) = &w {
                glm = glm.weights(w);
            }
            let fit = glm.fit(&x, 3, &y).unwrap_or_else(|e| panic!("{fam:?} {link:?}: {e}"));
            assert!(fit.converged, "{fam:?} {link:?}: {:?}", fit.report);
            for j in 0..3 {
                let dev = (fit.coef[j] - beta[j]).abs() / fit.stderr[j];
                assert!(
                    dev < 4.0,
                    "{fam:?} {link:?} β{j}: {} vs {} (se {})",
                    fit.coef[j],
                    beta[j],
                    fit.stderr[j]
                );
            }
            assert!(fit.deviance <= fit.null_deviance + 1e-9, "{fam:?} {link:?}");
            assert!(fit.loglike.is_finite(), "{fam:?} {link:?}");
        }
    }
}

#[test]
fn score_vanishes_at_the_fit() {
    let n = 1500;
    for (k, fam) in all_families().into_iter().enumerate() {
        let link = fam.links()[if fam.links().len() > 1 { 1 } else { 0 }];
        let mut beta = true_beta(link);
        if link == Link::Log && matches!(fam, GlmFamily::Bernoulli | GlmFamily::Binomial) {
            beta = [-1.0, 0.3, -0.2];
        }
        let mut rng = Rng(77 + k as u64);
        let x = design(n, &mut rng);
        let mu: Vec<f64> = linear(&x, &beta, 3).into_iter().map(|e| link.inverse(e)).collect();
        let (y, w) = draw(fam, &mu, &mut rng);
        let mut glm = Glm::new(fam).link(link).intercept(0);
        if let Some(w) = &w {
            glm = glm.weights(w);
        }
        let fit = glm.fit(&x, 3, &y).unwrap();
        // Score of the log-likelihood: Σ wᵢ (yᵢ − μᵢ) μ'ᵢ / V(μᵢ) xᵢ, with η recomputed from X β̂;
        // ~0 relative to Σ|terms| (Fisher scoring converges linearly for non-canonical links).
        let eta = linear(&x, &fit.coef, 3);
        let a = fit.alpha.unwrap_or(0.0);
        for j in 0..3 {
            let (mut s, mut scale) = (0.0, 0.0);
            for i in 0..n {
                let m = link.inverse(eta[i]);
                let t = w.as_ref().map_or(1.0, |w| w[i]) * (y[i] - m) * link.dmu_deta(eta[i])
                    / fam.variance(m, a)
                    * x[i * 3 + j];
                s += t;
                scale += t.abs();
            }
            assert!(s.abs() <= 1e-7 * scale.max(1.0), "{fam:?} {link:?} score {j} = {s} (scale {scale})");
        }
    }
}

/// Solves A x = b by Gaussian elimination with partial pivoting (independent of the library).
fn gauss_solve(mut a: Vec<f64>, mut b: Vec<f64>, p: usize) -> Vec<f64> {
    for c in 0..p {
        let piv = (c..p).max_by(|&i, &j| a[i * p + c].abs().total_cmp(&a[j * p + c].abs())).unwrap();
        for k in 0..p {
            a.swap(c * p + k, piv * p + k);
        }
        b.swap(c, piv);
        for r in c + 1..p {
            let f = a[r * p + c] / a[c * p + c];
            for k in c..p {
                a[r * p + k] -= f * a[c * p + k];
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; p];
    for r in (0..p).rev() {
        let s: f64 = (r + 1..p).map(|k| a[r * p + k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r * p + r];
    }
    x
}

#[test]
fn gaussian_identity_is_least_squares_with_the_concentrated_loglike() {
    let (n, p) = (300, 4);
    let mut rng = Rng(5);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for _ in 0..n {
        let r = [1.0, rng.normal(), 3.0 * rng.uniform_open(), rng.normal() + 10.0];
        y.push(1.0 + 2.0 * r[1] - r[2] + 0.5 * r[3] + rng.normal());
        x.extend(r);
    }
    let mut xtx = vec![0.0; p * p];
    let mut xty = vec![0.0; p];
    for i in 0..n {
        for a in 0..p {
            xty[a] += x[i * p + a] * y[i];
            for b in 0..p {
                xtx[a * p + b] += x[i * p + a] * x[i * p + b];
            }
        }
    }
    let beta = gauss_solve(xtx.clone(), xty, p);
    let fit = Glm::new(GlmFamily::Gaussian).intercept(0).fit(&x, p, &y).unwrap();
    for j in 0..p {
        assert!((fit.coef[j] - beta[j]).abs() < 1e-10 * beta[j].abs().max(1.0), "{:?} vs {beta:?}", fit.coef);
    }
    let rss: f64 = (0..n).map(|i| (y[i] - linear(&x[i * p..(i + 1) * p], &beta, p)[0]).powi(2)).sum();
    assert!((fit.deviance - rss).abs() < 1e-9 * rss);
    let s2 = rss / n as f64;
    let ll = -0.5 * n as f64 * ((2.0 * std::f64::consts::PI * s2).ln() + 1.0);
    assert!((fit.loglike - ll).abs() < 1e-9 * ll.abs(), "{} vs {ll}", fit.loglike);
    // Standard errors: σ̂² (XᵀX)⁻¹ with σ̂² = RSS/(n − p).
    for j in 0..p {
        let mut e = vec![0.0; p];
        e[j] = 1.0;
        let col = gauss_solve(xtx.clone(), e, p);
        let se = (col[j] * rss / (n - p) as f64).sqrt();
        assert!((fit.stderr[j] - se).abs() < 1e-9 * se, "{} vs {se}", fit.stderr[j]);
    }
    assert!((fit.aic - (-2.0 * ll + 2.0 * p as f64)).abs() < 1e-9 * fit.aic.abs());
}

fn poisson_data(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut rng = Rng(seed);
    let x = design(n, &mut rng);
    let expo: Vec<f64> = (0..n).map(|_| 0.5 + 2.0 * rng.uniform_open()).collect();
    let eta = linear(&x, &[0.2, 0.5, -0.4], 3);
    let y = eta.iter().zip(&expo).map(|(e, t)| rng.poisson(t * e.exp())).collect();
    (x, y, expo)
}

#[test]
fn exposure_is_an_offset_of_its_log() {
    let (x, y, expo) = poisson_data(800, 9);
    let off: Vec<f64> = expo.iter().map(|e| e.ln()).collect();
    let a = Glm::new(GlmFamily::Poisson).intercept(0).exposure(&expo).fit(&x, 3, &y).unwrap();
    let b = Glm::new(GlmFamily::Poisson).intercept(0).offset(&off).fit(&x, 3, &y).unwrap();
    for j in 0..3 {
        assert!((a.coef[j] - b.coef[j]).abs() < 1e-12 && (a.stderr[j] - b.stderr[j]).abs() < 1e-12);
    }
    assert!((a.loglike - b.loglike).abs() < 1e-9 && (a.null_deviance - b.null_deviance).abs() < 1e-9);
    // The null model with an offset is the intercept-only fit: its deviance is at least the full one.
    assert!(a.null_deviance > a.deviance);
    let ones = vec![1.0; 800];
    let null = Glm::new(GlmFamily::Poisson).intercept(0).offset(&off).fit(&ones, 1, &y).unwrap();
    assert!((a.null_deviance - null.deviance).abs() < 1e-9 * null.deviance);
}

#[test]
fn integer_weights_equal_duplicated_rows() {
    let (x, y, _) = poisson_data(300, 11);
    let w: Vec<f64> = (0..300).map(|i| (i % 3 + 1) as f64).collect();
    let (mut xd, mut yd) = (Vec::new(), Vec::new());
    for i in 0..300 {
        for _ in 0..w[i] as usize {
            xd.extend_from_slice(&x[i * 3..i * 3 + 3]);
            yd.push(y[i]);
        }
    }
    let a = Glm::new(GlmFamily::Poisson).intercept(0).weights(&w).fit(&x, 3, &y).unwrap();
    let b = Glm::new(GlmFamily::Poisson).intercept(0).fit(&xd, 3, &yd).unwrap();
    for j in 0..3 {
        assert!((a.coef[j] - b.coef[j]).abs() < 1e-10 && (a.stderr[j] - b.stderr[j]).abs() < 1e-10);
    }
    assert!((a.deviance - b.deviance).abs() < 1e-8 && (a.loglike - b.loglike).abs() < 1e-8);
}

#[test]
fn l2_penalty_shrinks_the_slopes_and_leaves_the_intercept_free() {
    let (x, y, _) = poisson_data(600, 13);
    let mut last = f64::INFINITY;
    for lambda in [0.0, 10.0, 100.0, 1e3] {
        let fit = Glm::new(GlmFamily::Poisson).intercept(0).l2(lambda).fit(&x, 3, &y).unwrap();
        let norm = fit.coef[1].hypot(fit.coef[2]);
        assert!(norm < last, "λ = {lambda}: {norm} ≥ {last}");
        last = norm;
    }
    // With a huge penalty the slopes vanish and the intercept is the intercept-only MLE log ȳ.
    let fit = Glm::new(GlmFamily::Poisson).intercept(0).l2(1e12).fit(&x, 3, &y).unwrap();
    let ybar = y.iter().sum::<f64>() / y.len() as f64;
    assert!(fit.coef[1].abs() < 1e-8 && fit.coef[2].abs() < 1e-8, "{:?}", fit.coef);
    assert!((fit.coef[0] - ybar.ln()).abs() < 1e-7, "{} vs {}", fit.coef[0], ybar.ln());
}

#[test]
fn typed_errors_name_the_problem() {
    let (x, mut y, _) = poisson_data(50, 3);
    let poisson = Glm::new(GlmFamily::Poisson).intercept(0);
    y[7] = -1.0;
    match poisson.fit(&x, 3, &y) {
        Err(Error::InvalidValue { name: "y", index: Some(7), .. }) => {}
        other => panic!("{other:?}"),
    }
    y[7] = 1.0;
    let mut xc = x.clone();
    for i in 0..50 {
        xc[i * 3 + 2] = 2.0 * xc[i * 3 + 1] + 1.0;
    }
    let e = poisson.fit(&xc, 3, &y).unwrap_err();
    assert!(
        matches!(&e, Error::Numerical { reason, .. } if reason.contains("collinear") && reason.contains("column 2")),
        "{e}"
    );
    let mut xn = x.clone();
    xn[4 * 3 + 1] = f64::NAN;
    match poisson.fit(&xn, 3, &y) {
        Err(Error::InvalidEntry { name: "X", row: 4, col: Some(1), .. }) => {}
        other => panic!("{other:?}"),
    }
    let e = Glm::new(GlmFamily::Poisson).link(Link::Probit).fit(&x, 3, &y).unwrap_err();
    assert!(matches!(&e, Error::InvalidOption { name: "link", .. }), "{e}");
    let e = Glm::new(GlmFamily::Bernoulli).fit(&x, 3, &y).unwrap_err();
    assert!(matches!(&e, Error::InvalidValue { name: "y", .. }), "{e}");
    assert!(matches!(poisson.fit(&x, 3, &y[..40]), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(poisson.l2(-1.0).fit(&x, 3, &y), Err(Error::InvalidParameter { .. })));
    assert!(matches!(
        Glm::new(GlmFamily::Tweedie { power: 0.5 }).fit(&x, 3, &y),
        Err(Error::InvalidParameter { name: "power", .. })
    ));
    // Too few rows with a positive weight for the coefficients: said so, not a collinearity or
    // a start outside the domain (an L2 penalty determines them).
    let zero = vec![0.0; 50];
    let mut two = zero.clone();
    two[3] = 1.0;
    two[9] = 2.5;
    let poisson = || Glm::new(GlmFamily::Poisson).intercept(0);
    for (w, used) in [(&zero, 0), (&two, 2)] {
        let e = poisson().weights(w).fit(&x, 3, &y).unwrap_err();
        let want = format!("{used} of 50 rows have a positive weight, fewer than the 3 coefficients");
        assert!(e.to_string().contains(&want), "{e}");
    }
    let e = poisson().fit(&x[..6], 3, &y[..2]).unwrap_err();
    assert!(e.to_string().contains("2 of 2 rows"), "{e}");
    assert!(poisson().l2(1.0).weights(&two).fit(&x, 3, &y).is_ok());
}

#[test]
fn negative_binomial_alpha_by_profile_likelihood() {
    let n = 3000;
    let mut rng = Rng(21);
    let x = design(n, &mut rng);
    let mu: Vec<f64> = linear(&x, &[1.0, 0.5, -0.3], 3).into_iter().map(f64::exp).collect();
    let (y, _) = draw(GlmFamily::NegativeBinomial { alpha: Some(0.5) }, &mu, &mut rng);
    let fit = Glm::new(GlmFamily::NegativeBinomial { alpha: None }).intercept(0).fit(&x, 3, &y).unwrap();
    let a = fit.alpha.unwrap();
    assert!((a - 0.5).abs() < 0.1, "alpha {a}");
    // The profile maximum: the log-likelihood at α̂ beats nearby fixed α.
    for f in [0.9, 1.1] {
        let other =
            Glm::new(GlmFamily::NegativeBinomial { alpha: Some(a * f) }).intercept(0).fit(&x, 3, &y).unwrap();
        assert!(fit.loglike >= other.loglike, "{} < {} at {}", fit.loglike, other.loglike, a * f);
    }
    assert!((fit.aic - (-2.0 * fit.loglike + 8.0)).abs() < 1e-9);
}

#[test]
fn fits_are_deterministic_and_the_summary_has_the_table() {
    let (x, y, _) = poisson_data(5000, 17);
    let a = Glm::new(GlmFamily::Poisson).intercept(0).fit(&x, 3, &y).unwrap();
    let b = Glm::new(GlmFamily::Poisson).intercept(0).fit(&x, 3, &y).unwrap();
    assert_eq!(a, b);
    let s = a.summary(Some(&["const", "a", "b"]));
    for key in ["coef", "std err", "P>|z|", "[0.025", "Deviance:", "Log-Likelihood:", "Poisson", "const"] {
        assert!(s.contains(key), "{key} missing from\n{s}");
    }
    // p-values and intervals agree with the z statistics.
    for j in 0..3 {
        assert!(
            (a.conf_int[j][1] - a.conf_int[j][0] - 2.0 * 1.959_963_984_540_054 * a.stderr[j]).abs() < 1e-12
        );
        assert!(a.p_values[j] >= 0.0 && a.p_values[j] <= 1.0);
    }
}

/// Separated classes: the fit stops with fitted probabilities on the bounds; the deviance,
/// Pearson's χ² and BIC stay finite (statsmodels: 4.4e-9, 2.2e-9 and −2.77 for these rows, from
/// coefficients that stopped elsewhere) and the rows at the bounds are counted.
#[test]
fn separated_classes_leave_finite_statistics_and_are_reported() {
    let x = [1.0, 1.0, 1.0, 2.0, 1.0, 3.0, 1.0, 4.0];
    let y = [0.0, 0.0, 1.0, 1.0];
    let r = Glm::new(GlmFamily::Bernoulli).intercept(0).fit(&x, 2, &y).unwrap();
    assert!(r.coef[1] > 20.0, "{:?}", r.coef);
    assert!(r.deviance >= 0.0 && r.deviance < 1e-6, "{}", r.deviance);
    assert!(r.pearson_chi2 >= 0.0 && r.pearson_chi2 < 1e-6, "{}", r.pearson_chi2);
    assert!((r.bic - (r.deviance - 2.0 * 4f64.ln())).abs() < 1e-9, "{}", r.bic);
    assert!(r.loglike <= 0.0 && r.loglike > -1e-6);
    assert!(r.fitted_at_bounds() >= 1 && r.fitted_at_bounds() <= 4);
    // Overlapping classes: no row at a bound.
    let y = [0.0, 1.0, 0.0, 1.0];
    let r = Glm::new(GlmFamily::Bernoulli).intercept(0).fit(&x, 2, &y).unwrap();
    assert_eq!(r.fitted_at_bounds(), 0);
    assert!(r.deviance.is_finite() && r.deviance > 0.0);
    // Other families never count rows.
    let r = Glm::new(GlmFamily::Poisson).intercept(0).fit(&x, 2, &[0.0, 0.0, 1.0, 3.0]).unwrap();
    assert_eq!(r.fitted_at_bounds(), 0);
}

/// No residual degrees of freedom: the dispersion is 0/0 (NaN) and so are the standard errors
/// and tests built on it, never a standard error of 0; an exact fit has an unbounded likelihood.
#[test]
fn no_residual_degrees_of_freedom_leave_the_errors_undefined() {
    let r = Glm::new(GlmFamily::Gaussian).no_intercept().fit(&[2.0], 1, &[3.0]).unwrap();
    assert!((r.coef[0] - 1.5).abs() < 1e-15);
    assert_eq!(r.df_resid, 0);
    assert!(r.scale.is_nan());
    assert!(r.stderr[0].is_nan() && r.z[0].is_nan() && r.p_values[0].is_nan());
    assert!(r.conf_int[0][0].is_nan() && r.conf_int[0][1].is_nan());
    assert_eq!(r.deviance, 0.0);
    assert_eq!(r.loglike, f64::INFINITY);
    // One residual degree of freedom and a residual: every quantity finite.
    let r = Glm::new(GlmFamily::Gaussian).no_intercept().fit(&[1.0, 2.0], 1, &[1.0, 3.0]).unwrap();
    assert!(r.scale > 0.0 && r.stderr[0] > 0.0 && r.loglike.is_finite());
}

#[test]
fn results_are_reproducible_for_a_given_thread_count() {
    let (x, y, _) = poisson_data(20_000, 23);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| Glm::new(GlmFamily::Poisson).intercept(0).fit(&x, 3, &y).unwrap())
    };
    for threads in [1, 3] {
        assert_eq!(run(threads), run(threads), "{threads} threads");
    }
    // Different thread counts partition the rows differently: equal to rounding.
    let (a, b) = (run(1), run(3));
    for j in 0..3 {
        assert!((a.coef[j] - b.coef[j]).abs() < 1e-12, "{} vs {}", a.coef[j], b.coef[j]);
    }
}

#[test]
fn tweedie_and_binomial_loglikes_follow_statsmodels() {
    // Binomial proportions with trials as variance weights: statsmodels' llf is Σ wᵢ times the
    // Bernoulli-form term, so duplicating a row's weight doubles its contribution.
    let fam = GlmFamily::Binomial;
    let one = fam.loglike_obs(0.25, 0.4, 1.0, 1.0, 0.0);
    assert!((fam.loglike_obs(0.25, 0.4, 8.0, 1.0, 0.0) - 8.0 * one).abs() < 1e-12);
    // y ∈ {0, 1}: the Bernoulli log-mass (mpmath: log 0.4 = -0.91629073187415506).
    assert!((fam.loglike_obs(1.0, 0.4, 1.0, 1.0, 0.0) + 0.916_290_731_874_155).abs() < 1e-14);
    // Tweedie at y = 0: log P(Y = 0) = −μ^{2−p}/(φ(2−p)) (mpmath: −1.3^{0.6}/(0.8·0.6) = -2.4385113087960823).
    let t = GlmFamily::Tweedie { power: 1.4 }.loglike_obs(0.0, 1.3, 1.0, 0.8, 0.0);
    assert!((t + 2.438_511_308_796_082).abs() < 1e-12, "{t}");
}
