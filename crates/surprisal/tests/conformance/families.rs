//! `log_prob`, `entropy` and `kl` for the distribution families (`params.family`).
//!
//! Inputs are named as the family's [`Family::PARAMS`]; `kl` inputs carry `p_` and `q_` prefixes.

use crate::Handler;
use crate::case::{Case, Fail, Got};
use surprisal::divergence::KlDivergence;
use surprisal::family::{
    self, AsymmetricLaplace, Bernoulli, Beta, Binomial, Cauchy, Exponential, Family, Gamma, Geometric,
    Gumbel, HalfNormal, InverseGaussian, Laplace, LogNormal, Logistic, MultivariateNormal, NegativeBinomial,
    Normal, Poisson, StudentT, Weibull, categorical,
};

pub fn handlers() -> Vec<(&'static str, Handler)> {
    vec![("log_prob", log_prob as Handler), ("entropy", entropy), ("kl", kl)]
}

fn log_prob(c: &Case) -> Result<Got, Fail> {
    match c.str_param("family")? {
        "normal" => univariate_log_prob::<Normal<f64>>(c),
        "laplace" => univariate_log_prob::<Laplace<f64>>(c),
        "student_t" => univariate_log_prob::<StudentT<f64>>(c),
        "cauchy" => univariate_log_prob::<Cauchy<f64>>(c),
        "logistic" => univariate_log_prob::<Logistic<f64>>(c),
        "gumbel" => univariate_log_prob::<Gumbel<f64>>(c),
        "weibull" => with_alias(c, "concentration", "shape", univariate_log_prob::<Weibull<f64>>),
        "log_normal" => univariate_log_prob::<LogNormal<f64>>(c),
        "half_normal" => univariate_log_prob::<HalfNormal<f64>>(c),
        "exponential" => univariate_log_prob::<Exponential<f64>>(c),
        "asymmetric_laplace_quantile" => univariate_log_prob::<AsymmetricLaplace<f64>>(c),
        "gamma" => univariate_log_prob::<Gamma<f64>>(c),
        "beta" => univariate_log_prob::<Beta<f64>>(c),
        "inverse_gaussian" => univariate_log_prob::<InverseGaussian<f64>>(c),
        "logistic_bernoulli" => univariate_log_prob::<Bernoulli<f64>>(c),
        "binomial" => univariate_log_prob::<Binomial<f64>>(c),
        "poisson" => univariate_log_prob::<Poisson<f64>>(c),
        "negative_binomial" => univariate_log_prob::<NegativeBinomial<f64>>(c),
        "geometric" => univariate_log_prob::<Geometric<f64>>(c),
        "categorical" => categorical_log_prob(c),
        "multivariate_normal" => mvn_log_prob(c),
        other => Err(Fail::Unsupported(format!("family {other}"))),
    }
}

fn entropy(c: &Case) -> Result<Got, Fail> {
    match c.str_param("family")? {
        "normal" => univariate_entropy::<Normal<f64>>(c),
        "laplace" => univariate_entropy::<Laplace<f64>>(c),
        "student_t" => univariate_entropy::<StudentT<f64>>(c),
        "cauchy" => univariate_entropy::<Cauchy<f64>>(c),
        "logistic" => univariate_entropy::<Logistic<f64>>(c),
        "gumbel" => univariate_entropy::<Gumbel<f64>>(c),
        "weibull" => with_alias(c, "concentration", "shape", univariate_entropy::<Weibull<f64>>),
        "log_normal" => univariate_entropy::<LogNormal<f64>>(c),
        "half_normal" => univariate_entropy::<HalfNormal<f64>>(c),
        "exponential" => univariate_entropy::<Exponential<f64>>(c),
        "asymmetric_laplace_quantile" => univariate_entropy::<AsymmetricLaplace<f64>>(c),
        "gamma" => univariate_entropy::<Gamma<f64>>(c),
        "beta" => univariate_entropy::<Beta<f64>>(c),
        "inverse_gaussian" => univariate_entropy::<InverseGaussian<f64>>(c),
        "logistic_bernoulli" => univariate_entropy::<Bernoulli<f64>>(c),
        "binomial" => univariate_entropy::<Binomial<f64>>(c),
        "poisson" => univariate_entropy::<Poisson<f64>>(c),
        "negative_binomial" => univariate_entropy::<NegativeBinomial<f64>>(c),
        "geometric" => univariate_entropy::<Geometric<f64>>(c),
        "categorical" => categorical_entropy(c),
        "multivariate_normal" => mvn_entropy(c),
        other => Err(Fail::Unsupported(format!("family {other}"))),
    }
}

fn kl(c: &Case) -> Result<Got, Fail> {
    // A cross-family pair names q's family in `q_family` (or as `p_q` in `family`).
    let p = c.str_param("family")?;
    let q = c.str_param("q_family").unwrap_or(p);
    match (p, q) {
        ("laplace", "normal") | ("laplace_normal", _) => return kl_pair::<Laplace<f64>, Normal<f64>>(c),
        ("exponential", "normal") | ("exponential_normal", _) => {
            return kl_pair::<Exponential<f64>, Normal<f64>>(c);
        }
        ("gamma", "normal") | ("gamma_normal", _) => return kl_pair::<Gamma<f64>, Normal<f64>>(c),
        ("beta", "normal") | ("beta_normal", _) => return kl_pair::<Beta<f64>, Normal<f64>>(c),
        ("poisson", "binomial") | ("poisson_binomial", _) => {
            return kl_pair::<Poisson<f64>, Binomial<f64>>(c);
        }
        _ if p != q => return Err(Fail::Unsupported(format!("kl {p} ‖ {q}"))),
        _ => {}
    }
    match p {
        "normal" => kl_pair::<Normal<f64>, Normal<f64>>(c),
        "laplace" => kl_pair::<Laplace<f64>, Laplace<f64>>(c),
        "exponential" => kl_pair::<Exponential<f64>, Exponential<f64>>(c),
        "gamma" => kl_pair::<Gamma<f64>, Gamma<f64>>(c),
        "beta" => kl_pair::<Beta<f64>, Beta<f64>>(c),
        "bernoulli" | "logistic_bernoulli" => kl_pair::<Bernoulli<f64>, Bernoulli<f64>>(c),
        "poisson" => kl_pair::<Poisson<f64>, Poisson<f64>>(c),
        "categorical" => categorical_kl(c),
        "multivariate_normal" => mvn_kl(c),
        other => Err(Fail::Unsupported(format!("family {other}"))),
    }
}

/// Runs `h` on a copy of the case whose input `alias` (another library's name for a parameter,
/// e.g. torch's Weibull `concentration`) is renamed `name`, and reports its gradient under `alias`.
fn with_alias(c: &Case, alias: &str, name: &str, h: fn(&Case) -> Result<Got, Fail>) -> Result<Got, Fail> {
    let Some(a) = c.opt_input(alias) else { return h(c) };
    let mut renamed = c.clone();
    renamed.inputs.insert(name.to_string(), a.clone());
    renamed.inputs.remove(alias);
    let mut got = h(&renamed)?;
    if let Some(g) = got.grads.remove(name) {
        got.grads.insert(alias.to_string(), g);
    }
    Ok(got)
}

/// The number of elements after broadcasting the named inputs.
fn batch_len(c: &Case, names: &[&str]) -> Result<usize, String> {
    let mut n = 1;
    for name in names {
        n = n.max(c.input(name)?.data.len());
    }
    Ok(n)
}

fn params<'a>(c: &'a Case, names: &[&str], prefix: &str) -> Result<Vec<&'a [f64]>, String> {
    names.iter().map(|p| c.input(&format!("{prefix}{p}")).map(|a| a.data.as_slice())).collect()
}

pub fn univariate_log_prob<D: Family<f64>>(c: &Case) -> Result<Got, Fail> {
    let mut names: Vec<&str> = D::PARAMS.to_vec();
    names.push("value");
    let n = batch_len(c, &names)?;
    let ps = params(c, D::PARAMS, "")?;
    let value = &c.input("value")?.data;
    let mut out = vec![0.0; n];
    let mut grads: Vec<Vec<f64>> = vec![vec![0.0; n]; D::PARAMS.len()];
    let mut gref: Vec<&mut [f64]> = grads.iter_mut().map(|g| g.as_mut_slice()).collect();
    family::log_prob_grad::<f64, D>(&ps, value, &mut out, &mut gref)?;
    let mut got = Got::value(out);
    for (name, g) in D::PARAMS.iter().zip(grads) {
        // A broadcast parameter's gradient is the sum over the elements it was broadcast to.
        let g = if c.input(name)?.data.len() == 1 && n > 1 { vec![g.iter().sum()] } else { g };
        got = got.grad(name, g);
    }
    Ok(got)
}

pub fn univariate_entropy<D: Family<f64>>(c: &Case) -> Result<Got, Fail> {
    let n = batch_len(c, D::PARAMS)?;
    let ps = params(c, D::PARAMS, "")?;
    let mut out = vec![0.0; n];
    family::entropy::<f64, D>(&ps, &mut out)?;
    Ok(Got::value(out))
}

/// KL between two univariate families, element by element with broadcasting.
pub fn kl_pair<P, Q>(c: &Case) -> Result<Got, Fail>
where
    P: Family<f64> + KlDivergence<Q, Output = f64>,
    Q: Family<f64>,
{
    let pn: Vec<String> = P::PARAMS.iter().map(|p| format!("p_{p}")).collect();
    let qn: Vec<String> = Q::PARAMS.iter().map(|p| format!("q_{p}")).collect();
    let all: Vec<&str> = pn.iter().chain(&qn).map(|s| s.as_str()).collect();
    let n = batch_len(c, &all)?;
    let pp = params(c, P::PARAMS, "p_")?;
    let qp = params(c, Q::PARAMS, "q_")?;
    let at = |x: &[f64], i: usize| if x.len() == 1 { x[0] } else { x[i] };
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let pv: Vec<f64> = pp.iter().map(|x| at(x, i)).collect();
        let qv: Vec<f64> = qp.iter().map(|x| at(x, i)).collect();
        let p = P::from_params(&pv)?;
        let q = Q::from_params(&qv)?;
        out.push(p.kl(&q));
    }
    Ok(Got::value(out))
}

/// Categorical inputs: `logits` of shape `[.., C]` (rows over the leading dimensions).
fn categorical_rows(c: &Case, name: &str) -> Result<(Vec<f64>, usize, usize), String> {
    let a = c.input(name)?;
    let k = *a.shape.last().ok_or_else(|| format!("`{name}` must have a class dimension"))?;
    Ok((a.data.clone(), k, a.data.len() / k.max(1)))
}

fn categorical_log_prob(c: &Case) -> Result<Got, Fail> {
    let (logits, k, n) = categorical_rows(c, "logits")?;
    let classes: Vec<usize> = c.input("value")?.data.iter().map(|&v| v as usize).collect();
    let mut out = vec![0.0; n];
    let mut grad = vec![0.0; logits.len()];
    categorical::log_prob_grad(&logits, k, &classes, &mut out, &mut grad)?;
    Ok(Got::value(out).grad("logits", grad))
}

fn categorical_entropy(c: &Case) -> Result<Got, Fail> {
    let (logits, k, n) = categorical_rows(c, "logits")?;
    let mut out = vec![0.0; n];
    categorical::entropy(&logits, k, &mut out)?;
    Ok(Got::value(out))
}

fn categorical_kl(c: &Case) -> Result<Got, Fail> {
    let (p, k, n) = categorical_rows(c, "p_logits")?;
    let (q, _, _) = categorical_rows(c, "q_logits")?;
    let mut out = vec![0.0; n];
    categorical::kl(&p, &q, k, &mut out)?;
    Ok(Got::value(out))
}

fn mvn(c: &Case, prefix: &str) -> Result<MultivariateNormal<f64>, Fail> {
    let loc = &c.input(&format!("{prefix}loc"))?.data;
    let cov = &c.input(&format!("{prefix}covariance"))?.data;
    Ok(MultivariateNormal::new(loc, cov)?)
}

/// `value` of shape `[d]` or `[n, d]`: one log density per row; gradients with respect to `loc`
/// and `covariance` summed over the rows.
fn mvn_log_prob(c: &Case) -> Result<Got, Fail> {
    let d = mvn(c, "")?;
    let value = &c.input("value")?.data;
    let mut out = Vec::new();
    let k = d.dim();
    let (mut gloc, mut gcov) = (vec![0.0; k], vec![0.0; k * k]);
    let (mut g, mut gc) = (vec![0.0; k], vec![0.0; k * k]);
    for x in value.chunks(k) {
        out.push(d.log_prob_grad(x, &mut g, &mut gc)?);
        for (a, b) in gloc.iter_mut().zip(&g) {
            *a += b;
        }
        for (a, b) in gcov.iter_mut().zip(&gc) {
            *a += b;
        }
    }
    Ok(Got::value(out).grad("loc", gloc).grad("covariance", gcov))
}

fn mvn_entropy(c: &Case) -> Result<Got, Fail> {
    Ok(Got::value(vec![mvn(c, "")?.entropy()]))
}

fn mvn_kl(c: &Case) -> Result<Got, Fail> {
    Ok(Got::value(vec![mvn(c, "p_")?.kl(&mvn(c, "q_")?)?]))
}
