//! The distribution families by name: `log_prob`, `entropy`, `kl`, with NumPy broadcasting of the
//! value and the parameters; and `explain`, a loss's declared likelihood.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use surprisal::divergence::KlDivergence;
use surprisal::family::{
    self, AsymmetricLaplace, Bernoulli, Beta, Binomial, Cauchy, Exponential, Family, Gamma, Geometric,
    Gumbel, HalfNormal, InverseGaussian, Laplace, LogNormal, Logistic, MultivariateNormal, NegativeBinomial,
    Normal, Poisson, StudentT, Weibull, categorical,
};
use surprisal::loss::{self, Likelihood, Shift};

use crate::arrays::{Arr, array, bad, float, integers, like, run, val};

/// Calls `$f::<Type>` for the univariate family named `$name`, else evaluates `$other`.
macro_rules! univariate {
    ($name:expr, $f:ident ( $($arg:expr),* ), $other:expr) => {
        match $name {
            "normal" => $f::<Normal<f64>>($($arg),*),
            "laplace" => $f::<Laplace<f64>>($($arg),*),
            "student_t" => $f::<StudentT<f64>>($($arg),*),
            "cauchy" => $f::<Cauchy<f64>>($($arg),*),
            "logistic" => $f::<Logistic<f64>>($($arg),*),
            "gumbel" => $f::<Gumbel<f64>>($($arg),*),
            "weibull" => $f::<Weibull<f64>>($($arg),*),
            "log_normal" => $f::<LogNormal<f64>>($($arg),*),
            "half_normal" => $f::<HalfNormal<f64>>($($arg),*),
            "exponential" => $f::<Exponential<f64>>($($arg),*),
            "asymmetric_laplace_quantile" | "asymmetric_laplace" => $f::<AsymmetricLaplace<f64>>($($arg),*),
            "gamma" => $f::<Gamma<f64>>($($arg),*),
            "beta" => $f::<Beta<f64>>($($arg),*),
            "inverse_gaussian" => $f::<InverseGaussian<f64>>($($arg),*),
            "logistic_bernoulli" | "bernoulli" => $f::<Bernoulli<f64>>($($arg),*),
            "binomial" => $f::<Binomial<f64>>($($arg),*),
            "poisson" => $f::<Poisson<f64>>($($arg),*),
            "negative_binomial" => $f::<NegativeBinomial<f64>>($($arg),*),
            "geometric" => $f::<Geometric<f64>>($($arg),*),
            _ => $other,
        }
    };
}

/// Other libraries' names for a parameter (torch's Weibull `concentration`).
fn aliases(name: &str) -> &'static [&'static str] {
    match name {
        "shape" => &["concentration"],
        "quantile" => &["tau"],
        _ => &[],
    }
}

/// The parameter `name` from the keyword arguments (or one of its aliases), and the key used.
fn param<'py>(
    params: Option<&Bound<'py, PyDict>>,
    family: &str,
    name: &'static str,
    all: &[&str],
) -> PyResult<(Bound<'py, PyAny>, String)> {
    if let Some(d) = params {
        for key in std::iter::once(&name).chain(aliases(name)) {
            if let Some(v) = d.get_item(key)? {
                return Ok((v, key.to_string()));
            }
        }
    }
    Err(PyTypeError::new_err(format!(
        "family {family:?} needs the parameters {} (missing `{name}`)",
        all.join(", ")
    )))
}

fn check_unknown(params: Option<&Bound<'_, PyDict>>, family: &str, names: &[&str]) -> PyResult<()> {
    if let Some(d) = params {
        for k in d.keys() {
            let k: String = k.extract()?;
            if !names.iter().any(|n| *n == k || aliases(n).contains(&k.as_str())) {
                return Err(PyTypeError::new_err(format!(
                    "family {family:?} has no parameter `{k}` (its parameters: {})",
                    names.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// Broadcasts the arrays together (NumPy rules): their data as f64 (length 1 kept as a scalar,
/// the library broadcasts it), and the broadcast shape.
fn broadcast<'py>(
    py: Python<'py>,
    objs: &[Bound<'py, PyAny>],
) -> PyResult<(Vec<numpy::PyReadonlyArrayDyn<'py, f64>>, Vec<usize>)> {
    use numpy::PyUntypedArrayMethods;
    let arrays = objs.iter().map(like::<f64>).collect::<PyResult<Vec<_>>>()?;
    let shapes: Vec<Vec<usize>> = arrays.iter().map(|a| a.shape().to_vec()).collect();
    let np = py.import("numpy")?;
    let shape: Vec<usize> = if shapes.windows(2).all(|w| w[0] == w[1]) {
        shapes[0].clone()
    } else {
        let t = PyTuple::new(py, shapes.iter().map(|s| PyTuple::new(py, s).unwrap()))?;
        np.getattr("broadcast_shapes")?.call1(t)?.extract()?
    };
    let mut out = Vec::with_capacity(arrays.len());
    for (a, s) in arrays.into_iter().zip(&shapes) {
        let size: usize = s.iter().product();
        if *s == shape || size == 1 {
            out.push(a);
        } else {
            let b = np.call_method1("broadcast_to", (a.as_any(), shape.clone()))?;
            out.push(like::<f64>(&np.call_method1("ascontiguousarray", (b,))?)?);
        }
    }
    Ok((out, shape))
}

fn univariate_log_prob<'py, D: Family<f64>>(
    py: Python<'py>,
    family: &str,
    value: &Bound<'py, PyAny>,
    params: Option<&Bound<'py, PyDict>>,
    return_grad: bool,
) -> PyResult<Bound<'py, PyAny>> {
    check_unknown(params, family, D::PARAMS)?;
    let mut objs = vec![value.clone()];
    let mut keys = Vec::new();
    for name in D::PARAMS {
        let (v, key) = param(params, family, name, D::PARAMS)?;
        objs.push(v);
        keys.push(key);
    }
    let (arrays, shape) = broadcast(py, &objs)?;
    let views: Vec<Arr<'_, f64>> = arrays.iter().map(Arr::new).collect();
    let n: usize = shape.iter().product();
    let ps: Vec<&[f64]> = views[1..].iter().map(|a| &*a.data).collect();
    let value = &views[0].data;
    let mut out = vec![0.0; n];
    if !return_grad {
        run(py, n, || family::log_prob::<f64, D>(&ps, value, &mut out)).map_err(val)?;
        return scalar_or_array(py, out, &shape);
    }
    let mut grads = vec![vec![0.0; n]; D::PARAMS.len()];
    run(py, n, || {
        let mut g: Vec<&mut [f64]> = grads.iter_mut().map(|g| g.as_mut_slice()).collect();
        family::log_prob_grad::<f64, D>(&ps, value, &mut out, &mut g)
    })
    .map_err(val)?;
    let d = PyDict::new(py);
    for (key, g) in keys.iter().zip(grads) {
        d.set_item(key, scalar_or_array(py, g, &shape)?)?;
    }
    Ok(PyTuple::new(py, [scalar_or_array(py, out, &shape)?, d.into_any()])?.into_any())
}

fn scalar_or_array<'py>(py: Python<'py>, v: Vec<f64>, shape: &[usize]) -> PyResult<Bound<'py, PyAny>> {
    if shape.is_empty() { Ok(float(py, v[0])) } else { array(py, v, shape) }
}

fn univariate_entropy<'py, D: Family<f64>>(
    py: Python<'py>,
    family: &str,
    params: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    check_unknown(params, family, D::PARAMS)?;
    let objs = D::PARAMS
        .iter()
        .map(|name| param(params, family, name, D::PARAMS).map(|p| p.0))
        .collect::<PyResult<Vec<_>>>()?;
    let (arrays, shape) = broadcast(py, &objs)?;
    let views: Vec<Arr<'_, f64>> = arrays.iter().map(Arr::new).collect();
    let ps: Vec<&[f64]> = views.iter().map(|a| &*a.data).collect();
    let mut out = vec![0.0; shape.iter().product()];
    family::entropy::<f64, D>(&ps, &mut out).map_err(val)?;
    scalar_or_array(py, out, &shape)
}

/// A required array parameter of a multivariate family.
fn need<'py>(
    params: Option<&Bound<'py, PyDict>>,
    family: &str,
    name: &'static str,
    all: &[&str],
) -> PyResult<Arr<'static, f64>> {
    let (v, _) = param(params, family, name, all)?;
    let g = like::<f64>(&v)?;
    let a = Arr::new(&g);
    Ok(Arr { data: std::borrow::Cow::Owned(a.data.into_owned()), shape: a.shape })
}

/// Rows of a categorical's logits (the last axis holds the classes).
fn classes(a: &Arr<'_, f64>) -> PyResult<(usize, Vec<usize>)> {
    let k = *a.shape.last().ok_or_else(|| bad("`logits` must have a class dimension"))?;
    Ok((k, a.shape[..a.shape.len() - 1].to_vec()))
}

fn mvn(params: Option<&Bound<'_, PyDict>>) -> PyResult<MultivariateNormal<f64>> {
    check_unknown(params, "multivariate_normal", &["loc", "covariance"])?;
    let all = ["loc", "covariance"];
    let loc = need(params, "multivariate_normal", "loc", &all)?;
    let cov = need(params, "multivariate_normal", "covariance", &all)?;
    MultivariateNormal::new(&loc.data, &cov.data).map_err(val)
}

/// log_prob(family, value, *, return_grad=False, **params)
#[pyfunction]
#[pyo3(signature = (family, value, *, return_grad=false, **params))]
pub fn log_prob<'py>(
    py: Python<'py>,
    family: &str,
    value: &Bound<'py, PyAny>,
    return_grad: bool,
    params: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    univariate!(
        family,
        univariate_log_prob(py, family, value, params, return_grad),
        match family {
            "categorical" => {
                check_unknown(params, family, &["logits"])?;
                let z = need(params, family, "logits", &["logits"])?;
                let (k, rows) = classes(&z)?;
                let vg = integers(value, "value")?;
                let v = Arr::new(&vg);
                if v.shape != rows {
                    return Err(bad(format!(
                        "shape mismatch for `value`: expected {rows:?}, got {:?}",
                        v.shape
                    )));
                }
                let cls: Vec<usize> =
                    v.data.iter().map(|&c| usize::try_from(c).unwrap_or(usize::MAX)).collect();
                let mut out = vec![0.0; cls.len()];
                if return_grad {
                    let mut grad = vec![0.0; z.len()];
                    categorical::log_prob_grad(&z.data, k, &cls, &mut out, &mut grad).map_err(val)?;
                    let d = PyDict::new(py);
                    d.set_item("logits", array(py, grad, &z.shape)?)?;
                    Ok(PyTuple::new(py, [scalar_or_array(py, out, &rows)?, d.into_any()])?.into_any())
                } else {
                    categorical::log_prob(&z.data, k, &cls, &mut out).map_err(val)?;
                    scalar_or_array(py, out, &rows)
                }
            }
            "multivariate_normal" => {
                let d = mvn(params)?;
                let xg = like::<f64>(value)?;
                let x = Arr::new(&xg);
                let k = d.dim();
                if x.shape.last() != Some(&k) {
                    return Err(bad(format!(
                        "shape mismatch for `value`: its last dimension must be the {k} of `loc`, got shape {:?}",
                        x.shape
                    )));
                }
                let rows = &x.shape[..x.shape.len() - 1];
                let mut out = Vec::new();
                let (mut gloc, mut gcov) = (vec![0.0; k], vec![0.0; k * k]);
                let (mut g, mut gc) = (vec![0.0; k], vec![0.0; k * k]);
                for r in x.data.chunks(k.max(1)) {
                    if return_grad {
                        out.push(d.log_prob_grad(r, &mut g, &mut gc).map_err(val)?);
                        gloc.iter_mut().zip(&g).for_each(|(a, b)| *a += b);
                        gcov.iter_mut().zip(&gc).for_each(|(a, b)| *a += b);
                    } else {
                        out.push(d.log_prob(r).map_err(val)?);
                    }
                }
                let lp = scalar_or_array(py, out, rows)?;
                if !return_grad {
                    return Ok(lp);
                }
                let gd = PyDict::new(py);
                gd.set_item("loc", array(py, gloc, &[k])?)?;
                gd.set_item("covariance", array(py, gcov, &[k, k])?)?;
                Ok(PyTuple::new(py, [lp, gd.into_any()])?.into_any())
            }
            other => Err(bad(format!("unknown family {other:?}; see surprisal.families()"))),
        }
    )
}

/// entropy(family, **params)
#[pyfunction]
#[pyo3(signature = (family, **params))]
pub fn entropy<'py>(
    py: Python<'py>,
    family: &str,
    params: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    univariate!(
        family,
        univariate_entropy(py, family, params),
        match family {
            "categorical" => {
                check_unknown(params, family, &["logits"])?;
                let z = need(params, family, "logits", &["logits"])?;
                let (k, rows) = classes(&z)?;
                let mut out = vec![0.0; rows.iter().product()];
                categorical::entropy(&z.data, k, &mut out).map_err(val)?;
                scalar_or_array(py, out, &rows)
            }
            "multivariate_normal" => Ok(float(py, mvn(params)?.entropy())),
            other => Err(bad(format!("unknown family {other:?}; see surprisal.families()"))),
        }
    )
}

fn kl_pair<'py, P, Q>(
    py: Python<'py>,
    p: Option<&Bound<'py, PyDict>>,
    q: Option<&Bound<'py, PyDict>>,
    pf: &str,
    qf: &str,
) -> PyResult<Bound<'py, PyAny>>
where
    P: Family<f64> + KlDivergence<Q, Output = f64>,
    Q: Family<f64>,
{
    check_unknown(p, pf, P::PARAMS)?;
    check_unknown(q, qf, Q::PARAMS)?;
    let mut objs = Vec::new();
    for name in P::PARAMS {
        objs.push(param(p, pf, name, P::PARAMS)?.0);
    }
    for name in Q::PARAMS {
        objs.push(param(q, qf, name, Q::PARAMS)?.0);
    }
    let (arrays, shape) = broadcast(py, &objs)?;
    let views: Vec<Arr<'_, f64>> = arrays.iter().map(Arr::new).collect();
    let n: usize = shape.iter().product();
    let at = |x: &[f64], i: usize| if x.len() == 1 { x[0] } else { x[i] };
    let np = P::PARAMS.len();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let pv: Vec<f64> = views[..np].iter().map(|a| at(&a.data, i)).collect();
        let qv: Vec<f64> = views[np..].iter().map(|a| at(&a.data, i)).collect();
        let pd = P::from_params(&pv).map_err(|e| val(e.at_index(i)))?;
        let qd = Q::from_params(&qv).map_err(|e| val(e.at_index(i)))?;
        out.push(pd.kl(&qd));
    }
    scalar_or_array(py, out, &shape)
}

/// kl(family, p, q, *, q_family=None): closed-form KL(p ‖ q), `p` and `q` dicts of parameters.
#[pyfunction]
#[pyo3(signature = (family, p, q, *, q_family=None))]
pub fn kl<'py>(
    py: Python<'py>,
    family: &str,
    p: &Bound<'py, PyDict>,
    q: &Bound<'py, PyDict>,
    q_family: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let qf = q_family.unwrap_or(family);
    let (p, q) = (Some(p), Some(q));
    match (family, qf) {
        ("normal", "normal") => kl_pair::<Normal<f64>, Normal<f64>>(py, p, q, family, qf),
        ("laplace", "laplace") => kl_pair::<Laplace<f64>, Laplace<f64>>(py, p, q, family, qf),
        ("exponential", "exponential") => kl_pair::<Exponential<f64>, Exponential<f64>>(py, p, q, family, qf),
        ("gamma", "gamma") => kl_pair::<Gamma<f64>, Gamma<f64>>(py, p, q, family, qf),
        ("beta", "beta") => kl_pair::<Beta<f64>, Beta<f64>>(py, p, q, family, qf),
        ("poisson", "poisson") => kl_pair::<Poisson<f64>, Poisson<f64>>(py, p, q, family, qf),
        ("binomial", "binomial") => kl_pair::<Binomial<f64>, Binomial<f64>>(py, p, q, family, qf),
        ("bernoulli" | "logistic_bernoulli", "bernoulli" | "logistic_bernoulli") => {
            kl_pair::<Bernoulli<f64>, Bernoulli<f64>>(py, p, q, family, qf)
        }
        ("laplace", "normal") => kl_pair::<Laplace<f64>, Normal<f64>>(py, p, q, family, qf),
        ("exponential", "normal") => kl_pair::<Exponential<f64>, Normal<f64>>(py, p, q, family, qf),
        ("gamma", "normal") => kl_pair::<Gamma<f64>, Normal<f64>>(py, p, q, family, qf),
        ("beta", "normal") => kl_pair::<Beta<f64>, Normal<f64>>(py, p, q, family, qf),
        ("poisson", "binomial") => kl_pair::<Poisson<f64>, Binomial<f64>>(py, p, q, family, qf),
        ("poisson", "bernoulli" | "logistic_bernoulli") => {
            kl_pair::<Poisson<f64>, Bernoulli<f64>>(py, p, q, family, qf)
        }
        ("bernoulli" | "logistic_bernoulli", "poisson") => {
            kl_pair::<Bernoulli<f64>, Poisson<f64>>(py, p, q, family, qf)
        }
        ("gumbel", "gumbel") => kl_pair::<Gumbel<f64>, Gumbel<f64>>(py, p, q, family, qf),
        ("gumbel", "normal") => kl_pair::<Gumbel<f64>, Normal<f64>>(py, p, q, family, qf),
        ("normal", "gumbel") => kl_pair::<Normal<f64>, Gumbel<f64>>(py, p, q, family, qf),
        ("exponential", "gamma") => kl_pair::<Exponential<f64>, Gamma<f64>>(py, p, q, family, qf),
        ("exponential", "gumbel") => kl_pair::<Exponential<f64>, Gumbel<f64>>(py, p, q, family, qf),
        ("gamma", "exponential") => kl_pair::<Gamma<f64>, Exponential<f64>>(py, p, q, family, qf),
        ("gamma", "gumbel") => kl_pair::<Gamma<f64>, Gumbel<f64>>(py, p, q, family, qf),
        ("beta", "exponential") => kl_pair::<Beta<f64>, Exponential<f64>>(py, p, q, family, qf),
        ("beta", "gamma") => kl_pair::<Beta<f64>, Gamma<f64>>(py, p, q, family, qf),
        ("geometric", "geometric") => kl_pair::<Geometric<f64>, Geometric<f64>>(py, p, q, family, qf),
        ("half_normal", "half_normal") => kl_pair::<HalfNormal<f64>, HalfNormal<f64>>(py, p, q, family, qf),
        ("cauchy", "cauchy") => kl_pair::<Cauchy<f64>, Cauchy<f64>>(py, p, q, family, qf),
        ("log_normal", "log_normal") => kl_pair::<LogNormal<f64>, LogNormal<f64>>(py, p, q, family, qf),
        ("weibull", "weibull") => kl_pair::<Weibull<f64>, Weibull<f64>>(py, p, q, family, qf),
        ("inverse_gaussian", "inverse_gaussian") => {
            kl_pair::<InverseGaussian<f64>, InverseGaussian<f64>>(py, p, q, family, qf)
        }
        // p puts mass outside q's support: +inf (after validating both sets of parameters).
        ("normal", "exponential") => kl_pair::<Normal<f64>, Exponential<f64>>(py, p, q, family, qf),
        ("normal", "gamma") => kl_pair::<Normal<f64>, Gamma<f64>>(py, p, q, family, qf),
        ("normal", "beta") => kl_pair::<Normal<f64>, Beta<f64>>(py, p, q, family, qf),
        ("laplace", "exponential") => kl_pair::<Laplace<f64>, Exponential<f64>>(py, p, q, family, qf),
        ("laplace", "gamma") => kl_pair::<Laplace<f64>, Gamma<f64>>(py, p, q, family, qf),
        ("laplace", "beta") => kl_pair::<Laplace<f64>, Beta<f64>>(py, p, q, family, qf),
        ("gumbel", "exponential") => kl_pair::<Gumbel<f64>, Exponential<f64>>(py, p, q, family, qf),
        ("gumbel", "gamma") => kl_pair::<Gumbel<f64>, Gamma<f64>>(py, p, q, family, qf),
        ("gumbel", "beta") => kl_pair::<Gumbel<f64>, Beta<f64>>(py, p, q, family, qf),
        ("exponential", "beta") => kl_pair::<Exponential<f64>, Beta<f64>>(py, p, q, family, qf),
        ("gamma", "beta") => kl_pair::<Gamma<f64>, Beta<f64>>(py, p, q, family, qf),
        ("categorical", "categorical") => {
            let zp = need(p, family, "logits", &["logits"])?;
            let zq = need(q, family, "logits", &["logits"])?;
            let (k, rows) = classes(&zp)?;
            let mut out = vec![0.0; rows.iter().product()];
            categorical::kl(&zp.data, &zq.data, k, &mut out).map_err(val)?;
            scalar_or_array(py, out, &rows)
        }
        ("multivariate_normal", "multivariate_normal") => Ok(float(py, mvn(p)?.kl(&mvn(q)?).map_err(val)?)),
        _ => Err(bad(format!("no closed-form KL({family} ‖ {qf}) in the library"))),
    }
}

fn names<D: Family<f64>>() -> (&'static str, &'static [&'static str]) {
    (D::NAME, D::PARAMS)
}

/// families() -> {name: (parameter names)}
#[pyfunction]
pub fn families(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    let all = [
        names::<Normal<f64>>(),
        names::<Laplace<f64>>(),
        names::<StudentT<f64>>(),
        names::<Cauchy<f64>>(),
        names::<Logistic<f64>>(),
        names::<Gumbel<f64>>(),
        names::<Weibull<f64>>(),
        names::<LogNormal<f64>>(),
        names::<HalfNormal<f64>>(),
        names::<Exponential<f64>>(),
        names::<AsymmetricLaplace<f64>>(),
        names::<Gamma<f64>>(),
        names::<Beta<f64>>(),
        names::<InverseGaussian<f64>>(),
        names::<Bernoulli<f64>>(),
        names::<Binomial<f64>>(),
        names::<Poisson<f64>>(),
        names::<NegativeBinomial<f64>>(),
        names::<Geometric<f64>>(),
        ("categorical", &["logits"][..]),
        ("multivariate_normal", &["loc", "covariance"][..]),
    ];
    for (name, params) in all {
        d.set_item(name, PyTuple::new(py, params)?)?;
    }
    Ok(d)
}

/// explain(loss_name) -> dict describing the loss's declared likelihood.
#[pyfunction]
pub fn explain<'py>(py: Python<'py>, loss_name: &str) -> PyResult<Bound<'py, PyDict>> {
    let Some(entry) = loss::catalogue::lookup(loss_name) else {
        let known: Vec<&str> = loss::catalogue().iter().map(|l| l.name).collect();
        return Err(bad(format!("unknown loss {loss_name:?}; known: {}", known.join(", "))));
    };
    let d = PyDict::new(py);
    d.set_item("name", entry.name)?;
    d.set_item("summary", entry.summary)?;
    d.set_item("settings", entry.settings)?;
    let fixed = |f: &[(&str, f64)]| -> PyResult<Bound<'py, PyDict>> {
        let fd = PyDict::new(py);
        for (k, v) in f {
            fd.set_item(*k, *v)?;
        }
        Ok(fd)
    };
    match &entry.likelihood {
        Likelihood::Nll(m) => {
            d.set_item("kind", "nll")?;
            d.set_item("family", m.family)?;
            d.set_item("link", m.link.name())?;
            d.set_item("fixed", fixed(&m.fixed)?)?;
            d.set_item("scale", m.scale)?;
            match m.shift {
                Shift::Constant(c) => d.set_item("shift", c)?,
                Shift::PerTarget { formula, .. } | Shift::PerTargetWith { formula, .. } => {
                    d.set_item("shift", formula)?
                }
            }
        }
        Likelihood::ExpectedNll(m) => {
            d.set_item("kind", "expected_nll")?;
            d.set_item("family", m.family)?;
            d.set_item("link", m.link.name())?;
            d.set_item("fixed", fixed(&m.fixed)?)?;
            d.set_item("scale", m.scale)?;
            d.set_item("shift", m.shift_formula)?;
        }
        Likelihood::NotNll { why } => {
            d.set_item("kind", "not_nll")?;
            d.set_item("why", *why)?;
        }
    }
    Ok(d)
}

/// losses() -> the names of the catalogued losses.
#[pyfunction]
pub fn losses(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    PyList::new(py, loss::catalogue().iter().map(|l| l.name))
}

/// Registers the families.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(log_prob, m)?)?;
    m.add_function(wrap_pyfunction!(entropy, m)?)?;
    m.add_function(wrap_pyfunction!(kl, m)?)?;
    m.add_function(wrap_pyfunction!(families, m)?)?;
    m.add_function(wrap_pyfunction!(explain, m)?)?;
    m.add_function(wrap_pyfunction!(losses, m)?)?;
    Ok(())
}
