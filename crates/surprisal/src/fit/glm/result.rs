//! The fitted GLM: coefficients, standard errors from the Fisher information, tests, intervals,
//! deviance, log-likelihood, information criteria, and a statsmodels-like summary table.

use super::family::sq_over;
use super::pass::{Design, map_rows, par_sum};
use super::{Data, GlmFamily, GlmObjective, inverse_information, irls, prepare};
use crate::error::Result;
use crate::fit::Report;
use crate::link::Link;
use std::fmt::Write as _;

/// The 0.975 quantile of the standard normal (mpmath: 1.959963984540054).
const Z975: f64 = 1.959_963_984_540_054;

/// A fitted GLM (statsmodels' `GLMResults` quantities).
#[derive(Clone, Debug, PartialEq)]
pub struct GlmResult {
    /// The family.
    pub family: GlmFamily,
    /// The link.
    pub link: Link,
    /// Estimated coefficients β̂ (one per column of X).
    pub coef: Vec<f64>,
    /// Standard errors √diag(φ I⁻¹).
    pub stderr: Vec<f64>,
    /// z = β̂ / se.
    pub z: Vec<f64>,
    /// Two-sided normal p-values 2Φ(−|z|).
    pub p_values: Vec<f64>,
    /// 95% confidence intervals β̂ ± 1.959964·se.
    pub conf_int: Vec<[f64; 2]>,
    /// Covariance of β̂, φ I⁻¹ (row-major p × p).
    pub cov: Vec<f64>,
    /// Fitted means μ̂ᵢ.
    pub mu: Vec<f64>,
    /// Deviance Σ wᵢ d(yᵢ, μ̂ᵢ).
    pub deviance: f64,
    /// Deviance of the intercept-only model (with the offset and exposure).
    pub null_deviance: f64,
    /// Log-likelihood with statsmodels' conventions (see the module docs).
    pub loglike: f64,
    /// −2 llf + 2k.
    pub aic: f64,
    /// statsmodels' default `bic`: deviance − (n − p) log n.
    pub bic: f64,
    /// −2 llf + k log n.
    pub bic_llf: f64,
    /// Pearson χ² = Σ wᵢ (yᵢ − μ̂ᵢ)²/V(μ̂ᵢ).
    pub pearson_chi2: f64,
    /// The dispersion φ used for the standard errors.
    pub scale: f64,
    /// Number of observations n.
    pub nobs: usize,
    /// Residual degrees of freedom n − p.
    pub df_resid: usize,
    /// Model degrees of freedom p − 1.
    pub df_model: usize,
    /// The negative binomial's α (given or estimated).
    pub alpha: Option<f64>,
    /// Newton–IRLS iterations.
    pub iterations: usize,
    /// Whether Newton–IRLS converged.
    pub converged: bool,
    /// The optimiser's report.
    pub report: Report,
}

/// Σ statsmodels' `loglike_obs` at γ with dispersion `scale`.
pub(crate) fn loglike(design: &Design, data: &Data, alpha: f64, gamma: &[f64], scale: f64) -> f64 {
    let mut mu = vec![0.0; design.n];
    map_rows(design, gamma, &mut mu, |i, lin| data.link.inverse(lin + data.offset(i)));
    par_sum(design.n, |i| data.fam.loglike_obs(data.y[i], mu[i], data.weight(i), scale, alpha))
}

/// β from the scaled coordinates γ: βⱼ = sⱼγⱼ, β_int = s_int(γ_int − Σ cⱼsⱼγⱼ); returned as the
/// matrix T with β = Tγ.
fn transform(design: &Design, intercept: Option<usize>) -> Vec<f64> {
    let p = design.p;
    let mut t = vec![0.0; p * p];
    for j in 0..p {
        t[j * p + j] = design.scale[j];
    }
    if let Some(k) = intercept {
        for j in 0..p {
            if j != k {
                t[k * p + j] = -design.scale[k] * design.center[j] * design.scale[j];
            }
        }
    }
    t
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn assemble(
    design: &Design,
    data: &Data,
    alpha: f64,
    alpha_estimated: bool,
    gamma: &[f64],
    pen: &[f64],
    report: Report,
    hess: Option<Vec<f64>>,
    intercept: Option<usize>,
) -> Result<GlmResult> {
    let (n, p) = (design.n, design.p);
    let (fam, link) = (data.fam, data.link);
    let mut mu = vec![0.0; n];
    map_rows(design, gamma, &mut mu, |i, lin| link.inverse(lin + data.offset(i)));
    let deviance = par_sum(n, |i| data.weight(i) * fam.unit_deviance(data.y[i], mu[i], alpha));
    let pearson = par_sum(n, |i| data.weight(i) * sq_over(data.y[i] - mu[i], fam.variance(mu[i], alpha)));
    let wsum = par_sum(n, |i| data.weight(i));
    let wy = par_sum(n, |i| data.weight(i) * data.y[i]);
    let df_resid = n.saturating_sub(p);
    let scale = if fam.fixed_scale() { 1.0 } else { pearson / df_resid as f64 };

    // Covariance: φ (Xᵀ W X + λ)⁻¹ in γ, mapped to β.
    let h = match hess {
        Some(h) => h,
        None => GlmObjective::new(design, data, alpha, pen).evaluate(gamma).hess,
    };
    let cov_g = inverse_information(&h, p)?;
    let t = transform(design, intercept);
    let mut tc = vec![0.0; p * p];
    for a in 0..p {
        for b in 0..p {
            tc[a * p + b] = (0..p).map(|k| t[a * p + k] * cov_g[k * p + b]).sum();
        }
    }
    let mut cov = vec![0.0; p * p];
    for a in 0..p {
        for b in 0..p {
            cov[a * p + b] = scale * (0..p).map(|k| tc[a * p + k] * t[b * p + k]).sum::<f64>();
        }
    }
    let coef: Vec<f64> = (0..p).map(|a| (0..p).map(|k| t[a * p + k] * gamma[k]).sum()).collect();
    // A variance below 0 by rounding is 0; NaN (no dispersion from zero residual degrees of
    // freedom) stays NaN.
    let stderr: Vec<f64> =
        (0..p).map(|j| if cov[j * p + j] < 0.0 { 0.0 } else { cov[j * p + j].sqrt() }).collect();
    let z: Vec<f64> = coef.iter().zip(&stderr).map(|(c, s)| c / s).collect();
    let p_values = z.iter().map(|z| libm::erfc(z.abs() * std::f64::consts::FRAC_1_SQRT_2)).collect();
    let conf_int = coef.iter().zip(&stderr).map(|(c, s)| [c - Z975 * s, c + Z975 * s]).collect();

    // statsmodels: gaussian with identity link reports the concentrated log-likelihood.
    let ll_scale = if fam == GlmFamily::Gaussian && link == Link::Identity {
        par_sum(n, |i| data.weight(i) * (data.y[i] - mu[i]).powi(2)) / n as f64
    } else {
        scale
    };
    let llf = par_sum(n, |i| fam.loglike_obs(data.y[i], mu[i], data.weight(i), ll_scale, alpha));

    let null_deviance = if data.off.is_none() {
        let m0 = wy / wsum;
        par_sum(n, |i| data.weight(i) * fam.unit_deviance(data.y[i], m0, alpha))
    } else {
        let ones = vec![1.0; n];
        let d0 = prepare(&ones, n, 1, Some(0))?;
        let (g0, _, _) = irls(&d0, data, alpha, &[0.0], &super::DEFAULT_OPTIONS, None)?;
        let mut m0 = vec![0.0; n];
        map_rows(&d0, &g0, &mut m0, |i, lin| link.inverse(lin + data.offset(i)));
        par_sum(n, |i| data.weight(i) * fam.unit_deviance(data.y[i], m0[i], alpha))
    };

    let k = (p + usize::from(alpha_estimated)) as f64;
    let nf = n as f64;
    Ok(GlmResult {
        family: fam,
        link,
        coef,
        stderr,
        z,
        p_values,
        conf_int,
        cov,
        mu,
        deviance,
        null_deviance,
        loglike: llf,
        aic: -2.0 * llf + 2.0 * k,
        bic: deviance - df_resid as f64 * nf.ln(),
        bic_llf: -2.0 * llf + k * nf.ln(),
        pearson_chi2: pearson,
        scale,
        nobs: n,
        df_resid,
        df_model: p.saturating_sub(1),
        alpha: matches!(fam, GlmFamily::NegativeBinomial { .. }).then_some(alpha),
        iterations: report.iterations,
        converged: report.converged(),
        report,
    })
}

impl GlmResult {
    /// Rows whose fitted probability is numerically 0 or 1, within 10ε of the bound (Bernoulli and
    /// binomial families; 0 for the others), R's `glm` test. Any such row in a logistic fit
    /// usually means the classes are (quasi-)separated: the likelihood keeps rising as the
    /// coefficients grow, its maximum is not attained, and the coefficients, standard errors and
    /// tests stop where the iterations did (statsmodels warns of perfect separation).
    pub fn fitted_at_bounds(&self) -> usize {
        if !matches!(self.family, GlmFamily::Bernoulli | GlmFamily::Binomial) {
            return 0;
        }
        let eps = 10.0 * f64::EPSILON;
        self.mu.iter().filter(|&&m| m < eps || m > 1.0 - eps).count()
    }

    /// The warning for rows fitted at probability 0 or 1 ([`Self::fitted_at_bounds`]), if any.
    pub fn separation_warning(&self) -> Option<String> {
        let at_bounds = self.fitted_at_bounds();
        (at_bounds > 0).then(|| {
            format!(
                "fitted probabilities numerically 0 or 1 in {at_bounds} of {} rows: the classes may be \
                 separated, and then the maximum likelihood is not attained and the coefficients and \
                 standard errors are not meaningful",
                self.nobs
            )
        })
    }

    /// A statsmodels-like summary: header statistics, then one row per coefficient
    /// (coef, std err, z, P>|z|, [0.025, 0.975]). `names` labels the columns (default x0, x1, …).
    pub fn summary(&self, names: Option<&[&str]>) -> String {
        let mut s = String::new();
        let rule = "=".repeat(78);
        let thin = "-".repeat(78);
        let _ = writeln!(s, "{:^78}", "Generalized Linear Model Regression Results");
        let _ = writeln!(s, "{rule}");
        let fam = match self.family {
            GlmFamily::Tweedie { power } => format!("Tweedie(p={power})"),
            f => f.name().to_string(),
        };
        let rows: [(&str, String, &str, String); 6] = [
            ("Model:", "GLM".into(), "No. Observations:", self.nobs.to_string()),
            ("Model Family:", fam, "Df Residuals:", self.df_resid.to_string()),
            ("Link Function:", self.link.name().into(), "Df Model:", self.df_model.to_string()),
            ("Method:", "IRLS".into(), "Scale:", format!("{:.6}", self.scale)),
            (
                "No. Iterations:",
                self.iterations.to_string(),
                "Log-Likelihood:",
                format!("{:.4}", self.loglike),
            ),
            ("Converged:", self.converged.to_string(), "Deviance:", format!("{:.4}", self.deviance)),
        ];
        for (a, b, c, d) in rows {
            let _ = writeln!(s, "{a:<18}{b:>20}   {c:<20}{d:>17}");
        }
        let _ = writeln!(
            s,
            "{:<18}{:>20}   {:<20}{:>17}",
            "AIC:",
            format!("{:.4}", self.aic),
            "Pearson chi2:",
            format!("{:.4}", self.pearson_chi2)
        );
        let _ = writeln!(
            s,
            "{:<18}{:>20}   {:<20}{:>17}",
            "BIC (deviance):",
            format!("{:.4}", self.bic),
            "Null deviance:",
            format!("{:.4}", self.null_deviance)
        );
        if let Some(a) = self.alpha {
            let _ = writeln!(s, "{:<18}{:>20}", "alpha:", format!("{a:.6}"));
        }
        let _ = writeln!(s, "{rule}");
        let _ = writeln!(
            s,
            "{:<14}{:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "", "coef", "std err", "z", "P>|z|", "[0.025", "0.975]"
        );
        let _ = writeln!(s, "{thin}");
        for j in 0..self.coef.len() {
            let name = names.and_then(|n| n.get(j)).map(|n| n.to_string()).unwrap_or_else(|| format!("x{j}"));
            let _ = writeln!(
                s,
                "{:<14}{:>10} {:>10} {:>10} {:>10.3} {:>10} {:>10}",
                name,
                num(self.coef[j]),
                num(self.stderr[j]),
                format!("{:.3}", self.z[j]),
                self.p_values[j],
                num(self.conf_int[j][0]),
                num(self.conf_int[j][1])
            );
        }
        let _ = writeln!(s, "{rule}");
        s
    }
}

/// Four significant decimals like statsmodels, switching to scientific notation for tiny or huge
/// magnitudes.
fn num(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e6).contains(&a) { format!("{v:.3e}") } else { format!("{v:.4}") }
}
