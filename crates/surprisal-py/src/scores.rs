//! Proper scoring rules, calibration, regression scores, information measures and the stable
//! primitives, with scikit-learn's argument order `(y_true, y_pred)`.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use surprisal::calibration::{self, Norm, Strategy};
use surprisal::divergence::{self, Base, Normalization};
use surprisal::num;
use surprisal::score::{
    self, Accumulator, BrierScale, BrierScore, Classes, D2LogLoss, LogLoss, LogLossOptions,
};

use crate::arrays::{Arr, Float, Kind, array, bad, float, integers, kind, like, run, val};

/// A `ValueError` naming the arguments as this module's functions do (scikit-learn's names):
/// the library's `target`, `probs`, `prediction`, `weight` and `member_weights` are `y_true`,
/// `y_prob`, `y_pred`, `sample_weight` and `weights` here.
fn sk(e: surprisal::Error) -> PyErr {
    val(e
        .renamed("target", "y_true")
        .renamed("probs", "y_prob")
        .renamed("prediction", "y_pred")
        .renamed("weight", "sample_weight")
        .renamed("member_weights", "weights"))
}

/// The error of y_true and y_prob whose rows disagree, naming both shapes.
fn row_mismatch(y: &[usize], p: &[usize]) -> PyErr {
    bad(format!("shape mismatch: y_true has shape {y:?} and y_prob {p:?}; they need one row each"))
}

/// The targets, the probabilities (1-D binary or 2-D one column per class) and the weights.
struct Rows<'a> {
    y: Arr<'a, i64>,
    p: Arr<'a, f64>,
    w: Option<Arr<'a, f64>>,
}

impl Rows<'_> {
    fn cols(&self) -> PyResult<Option<usize>> {
        let cols = match self.p.shape.len() {
            1 => None,
            2 => Some(self.p.shape[1]),
            _ => return Err(bad(format!("y_prob must be 1-D or 2-D, got shape {:?}", self.p.shape))),
        };
        // y_true 1-D, or a column vector (n, 1) as scikit-learn reads it.
        let column = matches!(self.y.shape[..], [_] | [_, 1]);
        if !column || self.p.shape[0] != self.y.shape[0] {
            return Err(row_mismatch(&self.y.shape, &self.p.shape));
        }
        Ok(cols)
    }

    /// scikit-learn's `UserWarning` where multiclass rows do not sum to one (|Σ − 1| > 1e-8 +
    /// √ε, numpy's `isclose`), naming how many and the first; the scores use them as given.
    fn warn_unnormalised(&self, py: Python<'_>, k: usize) -> PyResult<()> {
        let tol = 1e-8 + f64::EPSILON.sqrt();
        let sums = self.p.data.chunks(k.max(1)).map(|r| r.iter().sum::<f64>());
        let mut off = sums.enumerate().filter(|(_, s)| s.is_nan() || (s - 1.0).abs() > tol);
        let Some((first, sum)) = off.next() else {
            return Ok(());
        };
        let count = 1 + off.count();
        let rows = self.p.data.len() / k.max(1);
        let msg = format!(
            "The y_prob values do not sum to one in {count} of {rows} rows (row {first} sums to \
             {sum}); they are scored as given. Make sure to pass probabilities."
        );
        let category = py.get_type::<pyo3::exceptions::PyUserWarning>();
        PyErr::warn(py, &category, &std::ffi::CString::new(msg).expect("no NUL"), 1)
    }

    /// The class set of binary rows: the labels, else {0, 1} when the targets are 0/1, else the
    /// distinct targets (the positive class is the larger one), as scikit-learn.
    fn binary_classes(&self, labels: Option<&[i64]>) -> PyResult<Classes> {
        match labels {
            Some(l) => Classes::new(l).map_err(sk),
            None if self.y.data.iter().all(|v| *v == 0 || *v == 1) => Ok(Classes::binary()),
            None => Classes::from_targets(&self.y.data).map_err(sk),
        }
    }
}

/// log_loss(y_true, y_prob, *, sample_weight=None, normalize=True, labels=None)
#[pyfunction]
#[pyo3(signature = (y_true, y_prob, *, sample_weight=None, normalize=true, labels=None))]
pub fn log_loss(
    y_true: &Bound<'_, PyAny>,
    y_prob: &Bound<'_, PyAny>,
    sample_weight: Option<&Bound<'_, PyAny>>,
    normalize: bool,
    labels: Option<Vec<i64>>,
) -> PyResult<f64> {
    let (yg, pg) = (integers(y_true, "y_true")?, like::<f64>(y_prob)?);
    let wg = sample_weight.map(like::<f64>).transpose()?;
    let r = Rows { y: Arr::new(&yg), p: Arr::new(&pg), w: wg.as_ref().map(Arr::new) };
    let opts = LogLossOptions { normalize, ..Default::default() };
    let w = r.w.as_ref().map(|a| &*a.data);
    match r.cols()? {
        None => {
            let mut acc = LogLoss::new(r.binary_classes(labels.as_deref())?, opts).map_err(sk)?;
            acc.update_binary(&r.y.data, &r.p.data, w).map_err(sk)?;
            acc.finish().map_err(sk)
        }
        Some(k) => {
            r.warn_unnormalised(y_true.py(), k)?;
            score::log_loss(&r.y.data, &r.p.data, k, w, labels.as_deref(), opts).map_err(sk)
        }
    }
}

/// d2_log_loss_score(y_true, y_prob, *, sample_weight=None, labels=None)
#[pyfunction]
#[pyo3(signature = (y_true, y_prob, *, sample_weight=None, labels=None))]
pub fn d2_log_loss_score(
    y_true: &Bound<'_, PyAny>,
    y_prob: &Bound<'_, PyAny>,
    sample_weight: Option<&Bound<'_, PyAny>>,
    labels: Option<Vec<i64>>,
) -> PyResult<f64> {
    let (yg, pg) = (integers(y_true, "y_true")?, like::<f64>(y_prob)?);
    let wg = sample_weight.map(like::<f64>).transpose()?;
    let r = Rows { y: Arr::new(&yg), p: Arr::new(&pg), w: wg.as_ref().map(Arr::new) };
    let w = r.w.as_ref().map(|a| &*a.data);
    match r.cols()? {
        None => {
            let mut acc = D2LogLoss::new(r.binary_classes(labels.as_deref())?);
            acc.update_binary(&r.y.data, &r.p.data, w).map_err(sk)?;
            acc.finish().map_err(sk)
        }
        Some(k) => {
            r.warn_unnormalised(y_true.py(), k)?;
            score::d2_log_loss_score(&r.y.data, &r.p.data, k, w, labels.as_deref()).map_err(sk)
        }
    }
}

fn brier_scale(v: Option<&Bound<'_, PyAny>>) -> PyResult<BrierScale> {
    let Some(v) = v else { return Ok(BrierScale::Auto) };
    if let Ok(b) = v.extract::<bool>() {
        return Ok(if b { BrierScale::Half } else { BrierScale::Full });
    }
    match v.extract::<String>() {
        Ok(s) if s == "auto" => Ok(BrierScale::Auto),
        Ok(s) => Err(bad(format!("scale_by_half = {s:?}: expected True, False or \"auto\""))),
        Err(_) => Err(PyTypeError::new_err("scale_by_half must be a bool or \"auto\"")),
    }
}

/// brier_score(y_true, y_prob, *, sample_weight=None, labels=None, scale_by_half="auto")
#[pyfunction]
#[pyo3(signature = (y_true, y_prob, *, sample_weight=None, labels=None, scale_by_half=None))]
pub fn brier_score(
    y_true: &Bound<'_, PyAny>,
    y_prob: &Bound<'_, PyAny>,
    sample_weight: Option<&Bound<'_, PyAny>>,
    labels: Option<Vec<i64>>,
    scale_by_half: Option<&Bound<'_, PyAny>>,
) -> PyResult<f64> {
    let (yg, pg) = (integers(y_true, "y_true")?, like::<f64>(y_prob)?);
    let wg = sample_weight.map(like::<f64>).transpose()?;
    let r = Rows { y: Arr::new(&yg), p: Arr::new(&pg), w: wg.as_ref().map(Arr::new) };
    let w = r.w.as_ref().map(|a| &*a.data);
    let scale = brier_scale(scale_by_half)?;
    match r.cols()? {
        None => {
            let mut acc = BrierScore::new(r.binary_classes(labels.as_deref())?, scale);
            acc.update_binary(&r.y.data, &r.p.data, w).map_err(sk)?;
            acc.finish().map_err(sk)
        }
        Some(k) => {
            r.warn_unnormalised(y_true.py(), k)?;
            score::brier_score(&r.y.data, &r.p.data, k, w, labels.as_deref(), scale).map_err(sk)
        }
    }
}

fn calibration_error_in<F: Float>(
    y_true: &Bound<'_, PyAny>,
    p: Arr<'_, F>,
    n_bins: usize,
    norm: Norm,
) -> PyResult<f64> {
    match p.shape.len() {
        1 => {
            let yg = like::<F>(y_true)?;
            let y = Arr::new(&yg);
            calibration::binary_calibration_error(&p.data, &y.data, n_bins, norm)
                .map(|v| v.to_f64_lossy())
                .map_err(sk)
        }
        2 => {
            let yg = integers(y_true, "y_true")?;
            let y = Arr::new(&yg);
            if y.len() != p.shape[0] {
                return Err(row_mismatch(&y.shape, &p.shape));
            }
            calibration::multiclass_calibration_error(&p.data, p.shape[1], &y.data, n_bins, norm)
                .map(|v| v.to_f64_lossy())
                .map_err(sk)
        }
        _ => Err(bad(format!("y_prob must be 1-D or 2-D, got shape {:?}", p.shape))),
    }
}

/// calibration_error(y_true, y_prob, *, n_bins=15, norm="l1"): torchmetrics' binned calibration
/// error (binary for 1-D `y_prob`, top-label for 2-D); float32 input computes in float32.
#[pyfunction]
#[pyo3(signature = (y_true, y_prob, *, n_bins=15, norm="l1"))]
pub fn calibration_error(
    y_true: &Bound<'_, PyAny>,
    y_prob: &Bound<'_, PyAny>,
    n_bins: usize,
    norm: &str,
) -> PyResult<f64> {
    let norm = Norm::parse(norm).map_err(sk)?;
    match kind(y_prob, None)? {
        Kind::F32 => {
            let g = like::<f32>(y_prob)?;
            calibration_error_in::<f32>(y_true, Arr::new(&g), n_bins, norm)
        }
        _ => {
            let g = like::<f64>(y_prob)?;
            calibration_error_in::<f64>(y_true, Arr::new(&g), n_bins, norm)
        }
    }
}

/// calibration_curve(y_true, y_prob, *, n_bins=5, strategy="uniform") -> (prob_true, prob_pred)
#[pyfunction]
#[pyo3(signature = (y_true, y_prob, *, n_bins=5, strategy="uniform"))]
pub fn calibration_curve<'py>(
    py: Python<'py>,
    y_true: &Bound<'py, PyAny>,
    y_prob: &Bound<'py, PyAny>,
    n_bins: usize,
    strategy: &str,
) -> PyResult<Bound<'py, PyTuple>> {
    let strategy = Strategy::parse(strategy).map_err(sk)?;
    let (yg, pg) = (like::<f64>(y_true)?, like::<f64>(y_prob)?);
    let (y, p) = (Arr::new(&yg), Arr::new(&pg));
    let c = calibration::calibration_curve(&p.data, &y.data, n_bins, strategy).map_err(sk)?;
    let (nt, np_) = (c.prob_true.len(), c.prob_pred.len());
    PyTuple::new(py, [array(py, c.prob_true, &[nt])?, array(py, c.prob_pred, &[np_])?])
}

type PairScore = fn(&[f64], &[f64], Option<&[f64]>) -> surprisal::Result<f64>;

fn pair(
    y_true: &Bound<'_, PyAny>,
    y_pred: &Bound<'_, PyAny>,
    w: Option<&Bound<'_, PyAny>>,
    f: impl Fn(&[f64], &[f64], Option<&[f64]>) -> surprisal::Result<f64>,
) -> PyResult<f64> {
    let (yg, pg) = (like::<f64>(y_true)?, like::<f64>(y_pred)?);
    let wg = w.map(like::<f64>).transpose()?;
    let (y, p, w) = (Arr::new(&yg), Arr::new(&pg), wg.as_ref().map(Arr::new));
    f(&y.data, &p.data, w.as_ref().map(|a| &*a.data)).map_err(sk)
}

macro_rules! pair_score {
    ($name:ident, $f:expr, $doc:literal) => {
        #[doc = $doc]
        #[pyfunction]
        #[pyo3(signature = (y_true, y_pred, *, sample_weight=None))]
        pub fn $name(
            y_true: &Bound<'_, PyAny>,
            y_pred: &Bound<'_, PyAny>,
            sample_weight: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<f64> {
            let f: PairScore = $f;
            pair(y_true, y_pred, sample_weight, f)
        }
    };
}

pair_score!(
    mean_squared_error,
    score::mean_squared_error::<f64>,
    "mean_squared_error(y_true, y_pred, *, sample_weight=None)"
);
pair_score!(
    mean_absolute_error,
    score::mean_absolute_error::<f64>,
    "mean_absolute_error(y_true, y_pred, *, sample_weight=None)"
);
pair_score!(r2_score, score::r2_score::<f64>, "r2_score(y_true, y_pred, *, sample_weight=None)");
pair_score!(
    mean_poisson_deviance,
    score::mean_poisson_deviance::<f64>,
    "mean_poisson_deviance(y_true, y_pred, *, sample_weight=None)"
);
pair_score!(
    mean_gamma_deviance,
    score::mean_gamma_deviance::<f64>,
    "mean_gamma_deviance(y_true, y_pred, *, sample_weight=None)"
);

/// mean_pinball_loss(y_true, y_pred, *, sample_weight=None, alpha=0.5)
#[pyfunction]
#[pyo3(signature = (y_true, y_pred, *, sample_weight=None, alpha=0.5))]
pub fn mean_pinball_loss(
    y_true: &Bound<'_, PyAny>,
    y_pred: &Bound<'_, PyAny>,
    sample_weight: Option<&Bound<'_, PyAny>>,
    alpha: f64,
) -> PyResult<f64> {
    pair(y_true, y_pred, sample_weight, |y, p, w| score::mean_pinball_loss(y, p, alpha, w))
}

/// d2_pinball_score(y_true, y_pred, *, sample_weight=None, alpha=0.5)
#[pyfunction]
#[pyo3(signature = (y_true, y_pred, *, sample_weight=None, alpha=0.5))]
pub fn d2_pinball_score(
    y_true: &Bound<'_, PyAny>,
    y_pred: &Bound<'_, PyAny>,
    sample_weight: Option<&Bound<'_, PyAny>>,
    alpha: f64,
) -> PyResult<f64> {
    pair(y_true, y_pred, sample_weight, |y, p, w| score::d2_pinball_score(y, p, alpha, w))
}

/// mean_tweedie_deviance(y_true, y_pred, *, sample_weight=None, power=0.0)
#[pyfunction]
#[pyo3(signature = (y_true, y_pred, *, sample_weight=None, power=0.0))]
pub fn mean_tweedie_deviance(
    y_true: &Bound<'_, PyAny>,
    y_pred: &Bound<'_, PyAny>,
    sample_weight: Option<&Bound<'_, PyAny>>,
    power: f64,
) -> PyResult<f64> {
    pair(y_true, y_pred, sample_weight, |y, p, w| score::mean_tweedie_deviance(y, p, power, w))
}

/// d2_tweedie_score(y_true, y_pred, *, sample_weight=None, power=0.0)
#[pyfunction]
#[pyo3(signature = (y_true, y_pred, *, sample_weight=None, power=0.0))]
pub fn d2_tweedie_score(
    y_true: &Bound<'_, PyAny>,
    y_pred: &Bound<'_, PyAny>,
    sample_weight: Option<&Bound<'_, PyAny>>,
    power: f64,
) -> PyResult<f64> {
    pair(y_true, y_pred, sample_weight, |y, p, w| score::d2_tweedie_score(y, p, power, w))
}

/// crps_gaussian(y_true, loc, scale) -> per-row CRPS of N(loc, scale²) predictions.
#[pyfunction]
pub fn crps_gaussian<'py>(
    py: Python<'py>,
    y_true: &Bound<'py, PyAny>,
    loc: &Bound<'py, PyAny>,
    scale: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let (yg, lg, sg) = (like::<f64>(y_true)?, like::<f64>(loc)?, like::<f64>(scale)?);
    let (y, l, s) = (Arr::new(&yg), Arr::new(&lg), Arr::new(&sg));
    let out = score::crps_gaussian(&y.data, &l.data, &s.data).map_err(sk)?;
    array(py, out, &y.shape)
}

/// crps_ensemble(y_true, ensemble, *, weights=None, fair=False) -> per-row CRPS of an ensemble
/// (`ensemble` of shape (n, m)).
#[pyfunction]
#[pyo3(signature = (y_true, ensemble, *, weights=None, fair=false))]
pub fn crps_ensemble<'py>(
    py: Python<'py>,
    y_true: &Bound<'py, PyAny>,
    ensemble: &Bound<'py, PyAny>,
    weights: Option<&Bound<'py, PyAny>>,
    fair: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let (yg, eg) = (like::<f64>(y_true)?, like::<f64>(ensemble)?);
    let wg = weights.map(like::<f64>).transpose()?;
    let (y, e, w) = (Arr::new(&yg), Arr::new(&eg), wg.as_ref().map(Arr::new));
    if e.shape.len() != 2 || e.shape[0] != y.len() {
        return Err(bad(format!("ensemble must have shape ({}, m), got {:?}", y.len(), e.shape)));
    }
    let out = score::crps_ensemble(&y.data, &e.data, w.as_ref().map(|a| &*a.data), fair).map_err(sk)?;
    array(py, out, &y.shape)
}

fn base(b: Option<f64>) -> Base {
    match b {
        None => Base::Nats,
        Some(2.0) => Base::Bits,
        Some(v) if v == std::f64::consts::E => Base::Nats,
        Some(v) => Base::Other(v),
    }
}

/// entropy_discrete(p, *, base=None): −Σ p log p of p normalised to sum 1 (SciPy `entropy(p)`).
#[pyfunction]
#[pyo3(signature = (p, *, base=None))]
pub fn entropy_discrete(p: &Bound<'_, PyAny>, base: Option<f64>) -> PyResult<f64> {
    let g = like::<f64>(p)?;
    let p = one_distribution("p", Arr::new(&g))?;
    divergence::entropy_discrete(&p.data, self::base(base), Normalization::Normalize).map_err(sk)
}

/// A 1-D distribution (SciPy's `entropy` would take the columns of a 2-D array; flattening it
/// would score another distribution, so that is an error).
fn one_distribution<'a>(name: &str, a: Arr<'a, f64>) -> PyResult<Arr<'a, f64>> {
    if a.shape.len() == 1 {
        Ok(a)
    } else {
        Err(bad(format!("`{name}` must be 1-D (one distribution), got shape {:?}", a.shape)))
    }
}

fn information(
    p: &Bound<'_, PyAny>,
    q: &Bound<'_, PyAny>,
    b: Option<f64>,
) -> PyResult<divergence::DiscreteInformation<f64>> {
    let (pg, qg) = (like::<f64>(p)?, like::<f64>(q)?);
    divergence::discrete_information(
        &one_distribution("p", Arr::new(&pg))?.data,
        &one_distribution("q", Arr::new(&qg))?.data,
        base(b),
        Normalization::Normalize,
    )
    .map_err(sk)
}

/// kl_discrete(p, q, *, base=None): Σ p log(p/q) after normalising p and q (SciPy `entropy(p, q)`).
#[pyfunction]
#[pyo3(signature = (p, q, *, base=None))]
pub fn kl_discrete(p: &Bound<'_, PyAny>, q: &Bound<'_, PyAny>, base: Option<f64>) -> PyResult<f64> {
    Ok(information(p, q, base)?.kl)
}

/// cross_entropy_discrete(p, q, *, base=None): −Σ p log q = H(p) + KL(p ‖ q) after normalising.
#[pyfunction]
#[pyo3(signature = (p, q, *, base=None))]
pub fn cross_entropy_discrete(
    p: &Bound<'_, PyAny>,
    q: &Bound<'_, PyAny>,
    base: Option<f64>,
) -> PyResult<f64> {
    Ok(information(p, q, base)?.cross_entropy)
}

fn last_axis(x: &Arr<'_, f64>) -> usize {
    x.shape.last().copied().unwrap_or(1).max(1)
}

/// logsumexp(x): log Σ exp over the last axis (a float for 1-D input).
#[pyfunction]
pub fn logsumexp<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let g = like::<f64>(x)?;
    let x = Arr::new(&g);
    let c = last_axis(&x);
    let out: Vec<f64> = run(py, x.len(), || x.data.chunks(c).map(num::logsumexp).collect());
    if x.shape.len() <= 1 {
        return Ok(float(py, out.first().copied().unwrap_or(f64::NEG_INFINITY)));
    }
    array(py, out, &x.shape[..x.shape.len() - 1])
}

/// log_softmax(x): x − logsumexp(x) over the last axis.
#[pyfunction]
pub fn log_softmax<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let g = like::<f64>(x)?;
    let x = Arr::new(&g);
    let c = last_axis(&x);
    let mut out = vec![0.0; x.len()];
    run(py, x.len(), || -> surprisal::Result<()> {
        for (xr, or) in x.data.chunks(c).zip(out.chunks_mut(c)) {
            num::log_softmax(xr, or)?;
        }
        Ok(())
    })
    .map_err(sk)?;
    array(py, out, &x.shape)
}

fn elementwise<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    f: fn(f64) -> f64,
) -> PyResult<Bound<'py, PyAny>> {
    let g = like::<f64>(x)?;
    let x = Arr::new(&g);
    let out: Vec<f64> = run(py, x.len(), || x.data.iter().map(|&v| f(v)).collect());
    if x.shape.is_empty() {
        return Ok(float(py, out[0]));
    }
    array(py, out, &x.shape)
}

/// log_sigmoid(x) = −softplus(−x), element-wise.
#[pyfunction]
pub fn log_sigmoid<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    elementwise(py, x, num::log_sigmoid)
}

/// softplus(x) = log(1 + eˣ), element-wise.
#[pyfunction]
pub fn softplus<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    elementwise(py, x, num::softplus)
}

/// Registers the scores.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(log_loss, m)?)?;
    m.add_function(wrap_pyfunction!(d2_log_loss_score, m)?)?;
    m.add_function(wrap_pyfunction!(brier_score, m)?)?;
    m.add_function(wrap_pyfunction!(calibration_error, m)?)?;
    m.add_function(wrap_pyfunction!(calibration_curve, m)?)?;
    m.add_function(wrap_pyfunction!(mean_squared_error, m)?)?;
    m.add_function(wrap_pyfunction!(mean_absolute_error, m)?)?;
    m.add_function(wrap_pyfunction!(r2_score, m)?)?;
    m.add_function(wrap_pyfunction!(mean_poisson_deviance, m)?)?;
    m.add_function(wrap_pyfunction!(mean_gamma_deviance, m)?)?;
    m.add_function(wrap_pyfunction!(mean_pinball_loss, m)?)?;
    m.add_function(wrap_pyfunction!(d2_pinball_score, m)?)?;
    m.add_function(wrap_pyfunction!(mean_tweedie_deviance, m)?)?;
    m.add_function(wrap_pyfunction!(d2_tweedie_score, m)?)?;
    m.add_function(wrap_pyfunction!(crps_gaussian, m)?)?;
    m.add_function(wrap_pyfunction!(crps_ensemble, m)?)?;
    m.add_function(wrap_pyfunction!(entropy_discrete, m)?)?;
    m.add_function(wrap_pyfunction!(kl_discrete, m)?)?;
    m.add_function(wrap_pyfunction!(cross_entropy_discrete, m)?)?;
    m.add_function(wrap_pyfunction!(logsumexp, m)?)?;
    m.add_function(wrap_pyfunction!(log_softmax, m)?)?;
    m.add_function(wrap_pyfunction!(log_sigmoid, m)?)?;
    m.add_function(wrap_pyfunction!(softplus, m)?)?;
    Ok(())
}
