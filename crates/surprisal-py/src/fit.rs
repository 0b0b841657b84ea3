//! Maximum-likelihood fits: GLMs, linear quantile regression, softmax (logistic) regression and
//! temperature scaling. Designs are 2-D float64 arrays (n × p), read in place when C-contiguous.

use pyo3::prelude::*;
use surprisal::calibration::TemperatureScaling;
use surprisal::fit::glm::{Glm, GlmFamily, GlmResult};
use surprisal::fit::{
    LogisticOptions, QuantileOptions, logistic_regression, quantile_regression, softmax_regression,
};
use surprisal::link::Link;

use crate::arrays::{Arr, array, bad, integers, like, val};

fn design<'a>(x: &'a numpy::PyReadonlyArrayDyn<'_, f64>) -> PyResult<(Arr<'a, f64>, usize, usize)> {
    let a = Arr::new(x);
    match a.shape[..] {
        [n, p] => Ok((a, n, p)),
        _ => Err(bad(format!("X must be 2-D (n × p), got shape {:?}", a.shape))),
    }
}

/// A fitted GLM (statsmodels' conventions).
#[pyclass(module = "surprisal", name = "GlmFit", frozen)]
pub struct GlmFit {
    fit: GlmResult,
}

#[pymethods]
impl GlmFit {
    /// Coefficients β̂ (one per column of X).
    #[getter]
    fn coef<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        array(py, self.fit.coef.clone(), &[self.fit.coef.len()])
    }
    /// Standard errors √(φ·diag I⁻¹).
    #[getter]
    fn stderr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        array(py, self.fit.stderr.clone(), &[self.fit.stderr.len()])
    }
    /// z statistics β̂ / se.
    #[getter]
    fn z<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        array(py, self.fit.z.clone(), &[self.fit.z.len()])
    }
    /// Two-sided p-values 2Φ(−|z|).
    #[getter]
    fn p_values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        array(py, self.fit.p_values.clone(), &[self.fit.p_values.len()])
    }
    /// Fitted means μ̂.
    #[getter]
    fn mu<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        array(py, self.fit.mu.clone(), &[self.fit.mu.len()])
    }
    /// Deviance Σ wᵢ d(yᵢ, μ̂ᵢ).
    #[getter]
    fn deviance(&self) -> f64 {
        self.fit.deviance
    }
    /// Deviance of the intercept-only model.
    #[getter]
    fn null_deviance(&self) -> f64 {
        self.fit.null_deviance
    }
    /// Log-likelihood at the fit.
    #[getter]
    fn loglike(&self) -> f64 {
        self.fit.loglike
    }
    /// AIC = −2·loglike + 2k.
    #[getter]
    fn aic(&self) -> f64 {
        self.fit.aic
    }
    /// BIC, statsmodels' deviance form.
    #[getter]
    fn bic(&self) -> f64 {
        self.fit.bic
    }
    /// Pearson χ².
    #[getter]
    fn pearson_chi2(&self) -> f64 {
        self.fit.pearson_chi2
    }
    /// Dispersion φ.
    #[getter]
    fn scale(&self) -> f64 {
        self.fit.scale
    }
    /// Newton iterations used.
    #[getter]
    fn iterations(&self) -> usize {
        self.fit.iterations
    }
    /// Whether the fit converged.
    #[getter]
    fn converged(&self) -> bool {
        self.fit.converged
    }
    /// Rows whose fitted probability is numerically 0 or 1 (binomial families; 0 otherwise): the
    /// classes may be separated, and then the coefficients and standard errors are not
    /// meaningful (fit_glm warns).
    #[getter]
    fn fitted_at_bounds(&self) -> usize {
        self.fit.fitted_at_bounds()
    }
    /// A statsmodels-like summary table.
    #[pyo3(signature = (names=None))]
    fn summary(&self, names: Option<Vec<String>>) -> String {
        let n: Option<Vec<&str>> = names.as_ref().map(|v| v.iter().map(String::as_str).collect());
        self.fit.summary(n.as_deref())
    }
    fn __repr__(&self) -> String {
        format!(
            "GlmFit(family={}, link={}, coef={:?}, deviance={}, loglike={})",
            self.fit.family.name(),
            self.fit.link.name(),
            self.fit.coef,
            self.fit.deviance,
            self.fit.loglike
        )
    }
}

/// fit_glm(X, y, *, family, link=None, weights=None, offset=None, exposure=None, intercept=None,
/// l2=0.0, power=None, alpha=None)
#[pyfunction]
#[pyo3(signature = (X, y, *, family, link=None, weights=None, offset=None, exposure=None, intercept=None, l2=0.0, power=None, alpha=None))]
#[allow(non_snake_case, clippy::too_many_arguments)]
pub fn fit_glm(
    py: Python<'_>,
    X: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    family: &str,
    link: Option<&str>,
    weights: Option<&Bound<'_, PyAny>>,
    offset: Option<&Bound<'_, PyAny>>,
    exposure: Option<&Bound<'_, PyAny>>,
    intercept: Option<usize>,
    l2: f64,
    power: Option<f64>,
    alpha: Option<f64>,
) -> PyResult<GlmFit> {
    let xg = like::<f64>(X)?;
    let (x, _, p) = design(&xg)?;
    let yg = like::<f64>(y)?;
    let yv = Arr::new(&yg);
    let (wg, og, eg) = (
        weights.map(like::<f64>).transpose()?,
        offset.map(like::<f64>).transpose()?,
        exposure.map(like::<f64>).transpose()?,
    );
    let (w, o, e) = (wg.as_ref().map(Arr::new), og.as_ref().map(Arr::new), eg.as_ref().map(Arr::new));
    let fam =
        GlmFamily::parse(&family.to_lowercase(), power.or(Some(1.0)), alpha.or(Some(1.0))).map_err(val)?;
    let mut glm = Glm::new(fam).l2(l2);
    if let Some(l) = link {
        glm = glm.link(Link::parse(l).map_err(val)?);
    }
    if let Some(j) = intercept {
        glm = glm.intercept(j);
    }
    if let Some(w) = &w {
        glm = glm.weights(&w.data);
    }
    if let Some(o) = &o {
        glm = glm.offset(&o.data);
    }
    if let Some(e) = &e {
        glm = glm.exposure(&e.data);
    }
    let fit = py.detach(|| glm.fit(&x.data, p, &yv.data)).map_err(val)?;
    if let Some(msg) = fit.separation_warning() {
        let msg = std::ffi::CString::new(msg).expect("no NUL in the message");
        PyErr::warn(py, &py.get_type::<pyo3::exceptions::PyRuntimeWarning>(), &msg, 1)?;
    }
    Ok(GlmFit { fit })
}

/// A fitted linear quantile regression.
#[pyclass(module = "surprisal", name = "QuantileFit", frozen, get_all)]
pub struct QuantileFitPy {
    /// Coefficients.
    coef: Vec<f64>,
    /// The quantile level τ.
    quantile: f64,
    /// Σᵢ wᵢ ρ_τ(yᵢ − xᵢᵀβ̂), the minimised pinball loss.
    objective: f64,
    /// The asymmetric-Laplace log-likelihood at the maximum-likelihood scale.
    loglike: f64,
    /// The maximum-likelihood scale of the asymmetric Laplace.
    scale: f64,
    /// Whether the solver reached an optimum.
    converged: bool,
}

/// fit_quantile(X, y, *, quantile, weights=None): exact LP solution of min Σ wᵢ ρ_τ(yᵢ − xᵢᵀβ).
#[pyfunction]
#[pyo3(signature = (X, y, *, quantile, weights=None))]
#[allow(non_snake_case)]
pub fn fit_quantile(
    py: Python<'_>,
    X: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    quantile: f64,
    weights: Option<&Bound<'_, PyAny>>,
) -> PyResult<QuantileFitPy> {
    let xg = like::<f64>(X)?;
    let (x, n, p) = design(&xg)?;
    let yg = like::<f64>(y)?;
    let yv = Arr::new(&yg);
    let wg = weights.map(like::<f64>).transpose()?;
    let w = wg.as_ref().map(Arr::new);
    let xv = numpy::ndarray::ArrayView2::from_shape((n, p), &x.data).map_err(|e| bad(e.to_string()))?;
    let w = w.as_ref().map(|a| &*a.data);
    let fit = py
        .detach(|| quantile_regression(xv, &yv.data, quantile, w, &QuantileOptions::default()))
        .map_err(val)?;
    Ok(QuantileFitPy {
        coef: fit.coef,
        quantile: fit.quantile,
        objective: fit.objective,
        loglike: fit.loglike,
        scale: fit.scale,
        converged: fit.converged,
    })
}

/// A fitted softmax (or, for two classes, logistic) regression.
#[pyclass(module = "surprisal", name = "SoftmaxFit", frozen)]
pub struct SoftmaxFitPy {
    coef: Vec<f64>,
    coef_shape: [usize; 2],
    intercept: Vec<f64>,
    nll: f64,
    objective: f64,
    converged: bool,
}

#[pymethods]
impl SoftmaxFitPy {
    /// Coefficients, shape (1, p) for two classes (the logistic model), (C, p) otherwise.
    #[getter]
    fn coef<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        array(py, self.coef.clone(), &self.coef_shape)
    }
    /// Intercepts, shape (1,) or (C,).
    #[getter]
    fn intercept<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        array(py, self.intercept.clone(), &[self.intercept.len()])
    }
    /// Σᵢ sᵢ·NLLᵢ at the fit.
    #[getter]
    fn nll(&self) -> f64 {
        self.nll
    }
    /// The penalised objective nll + ½·l2·‖coef‖².
    #[getter]
    fn objective(&self) -> f64 {
        self.objective
    }
    /// −nll.
    #[getter]
    fn loglike(&self) -> f64 {
        -self.nll
    }
    /// Whether Newton's method converged.
    #[getter]
    fn converged(&self) -> bool {
        self.converged
    }
}

/// fit_softmax(X, y, *, l2=1.0, fit_intercept=True, sample_weight=None, n_classes=None):
/// scikit-learn's LogisticRegression objective with l2 = 1/C.
#[pyfunction]
#[pyo3(signature = (X, y, *, l2=1.0, fit_intercept=true, sample_weight=None, n_classes=None))]
#[allow(non_snake_case)]
pub fn fit_softmax(
    py: Python<'_>,
    X: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    l2: f64,
    fit_intercept: bool,
    sample_weight: Option<&Bound<'_, PyAny>>,
    n_classes: Option<usize>,
) -> PyResult<SoftmaxFitPy> {
    let xg = like::<f64>(X)?;
    let (x, _, p) = design(&xg)?;
    let yg = integers(y, "y")?;
    let yv = Arr::new(&yg);
    let wg = sample_weight.map(like::<f64>).transpose()?;
    let w = wg.as_ref().map(Arr::new);
    if let Some((i, c)) = yv.data.iter().enumerate().find(|(_, c)| **c < 0) {
        return Err(bad(format!("`y` holds {c} at index {i}: class labels are 0, 1, …")));
    }
    let k = n_classes.unwrap_or_else(|| yv.data.iter().copied().max().map_or(0, |m| (m + 1) as usize));
    let mut opts = LogisticOptions { l2, fit_intercept, ..Default::default() };
    opts.sample_weight = w.as_ref().map(|a| &*a.data);
    if k == 2 {
        let f = py.detach(|| logistic_regression(&x.data, p, &yv.data, &opts)).map_err(val)?;
        Ok(SoftmaxFitPy {
            coef: f.coef,
            coef_shape: [1, p],
            intercept: vec![f.intercept],
            nll: f.nll,
            objective: f.objective,
            converged: f.report.converged(),
        })
    } else {
        let f = py.detach(|| softmax_regression(&x.data, p, &yv.data, k, &opts)).map_err(val)?;
        Ok(SoftmaxFitPy {
            coef: f.coef,
            coef_shape: [k, p],
            intercept: f.intercept,
            nll: f.nll,
            objective: f.objective,
            converged: f.report.converged(),
        })
    }
}

/// A fitted temperature: p = softmax(z / T).
#[pyclass(module = "surprisal", name = "TemperatureScaling", frozen)]
pub struct Temperature {
    inner: TemperatureScaling<f64>,
}

#[pymethods]
impl Temperature {
    /// The temperature T.
    #[getter]
    fn temperature(&self) -> f64 {
        self.inner.temperature()
    }
    /// Mean NLL of the labels before and after, as (before, after).
    #[getter]
    fn nll(&self) -> Option<(f64, f64)> {
        self.inner.report().map(|r| (r.nll_before, r.nll_after))
    }
    /// The logits divided by T.
    fn apply<'py>(&self, py: Python<'py>, logits: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let g = like::<f64>(logits)?;
        let z = Arr::new(&g);
        array(py, self.inner.apply(&z.data).map_err(val)?, &z.shape)
    }
    /// softmax(z / T) row by row.
    fn probabilities<'py>(&self, py: Python<'py>, logits: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let g = like::<f64>(logits)?;
        let z = Arr::new(&g);
        array(py, self.inner.probabilities(&z.data).map_err(val)?, &z.shape)
    }
    fn __repr__(&self) -> String {
        format!("TemperatureScaling(temperature={})", self.inner.temperature())
    }
}

/// temperature_scale(logits, y): the temperature T > 0 minimising the NLL of softmax(z / T).
#[pyfunction]
pub fn temperature_scale(
    py: Python<'_>,
    logits: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
) -> PyResult<Temperature> {
    let g = like::<f64>(logits)?;
    let z = Arr::new(&g);
    if z.shape.len() != 2 {
        return Err(bad(format!("logits must be 2-D (n × C), got shape {:?}", z.shape)));
    }
    let yg = integers(y, "y")?;
    let yv = Arr::new(&yg);
    let c = z.shape[1];
    let inner = py.detach(|| TemperatureScaling::fit(&z.data, c, &yv.data)).map_err(val)?;
    Ok(Temperature { inner })
}

/// Registers the fits.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<GlmFit>()?;
    m.add_class::<QuantileFitPy>()?;
    m.add_class::<SoftmaxFitPy>()?;
    m.add_class::<Temperature>()?;
    m.add_function(wrap_pyfunction!(fit_glm, m)?)?;
    m.add_function(wrap_pyfunction!(fit_quantile, m)?)?;
    m.add_function(wrap_pyfunction!(fit_softmax, m)?)?;
    m.add_function(wrap_pyfunction!(temperature_scale, m)?)?;
    Ok(())
}
