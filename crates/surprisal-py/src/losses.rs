//! The named losses: `reduction` ("none" gives the per-element or per-row array) and
//! `return_grad` (then `(loss, grad)`, the gradient with the input's shape).

use std::borrow::Cow;

use pyo3::prelude::*;
use surprisal::loss::{
    self, CrossEntropyOptions, KlDivOptions, LossOutput, NllOptions, Options, PoissonNllConfig, Reduction,
};
use surprisal::num::{Real, Widen};

use crate::arrays::{
    Arr, Float, Kind, bad, bits, broadcast_to, elementwise_result, integers, is_integer, kind, like,
    loss_result, opt_like, reduction, run, val,
};
use crate::by_dtype;

/// The class layout of a PyTorch-style input: `[C]`, `[N, C]` or `[N, C, d₁, …]`.
/// Returns C and the shape of one value per row (the input's shape without the class axis).
fn class_layout(shape: &[usize]) -> PyResult<(usize, Vec<usize>)> {
    match shape.len() {
        0 => Err(bad("input must have a class dimension, got a scalar")),
        1 => Ok((shape[0], vec![])),
        _ => {
            let mut rows = shape.to_vec();
            let c = rows.remove(1);
            Ok((c, rows))
        }
    }
}

/// `[N, C, d…]` data as rows of C entries, one per (n, d…); rank ≤ 2 is already in rows.
fn to_rows<'a, T: Copy>(data: Cow<'a, [T]>, shape: &[usize]) -> Cow<'a, [T]> {
    if shape.len() < 3 {
        return data;
    }
    let (c, inner) = (shape[1], shape[2..].iter().product::<usize>());
    let mut out = data.to_vec();
    for (j, &v) in data.iter().enumerate() {
        let (n, rest) = (j / (c * inner), j % (c * inner));
        let (cl, l) = (rest / inner, rest % inner);
        out[(n * inner + l) * c + cl] = v;
    }
    Cow::Owned(out)
}

/// The inverse of [`to_rows`].
fn from_rows<T: Copy>(g: Vec<T>, shape: &[usize]) -> Vec<T> {
    if shape.len() < 3 {
        return g;
    }
    let (c, inner) = (shape[1], shape[2..].iter().product::<usize>());
    let mut out = g.clone();
    for (j, &v) in g.iter().enumerate() {
        let (row, cl) = (j / c, j % c);
        let (n, l) = (row / inner, row % inner);
        out[n * c * inner + cl * inner + l] = v;
    }
    out
}

fn check_shape(name: &str, got: &[usize], want: &[usize]) -> PyResult<()> {
    if got == want {
        Ok(())
    } else {
        Err(bad(format!("shape mismatch for `{name}`: expected {want:?}, got {got:?}")))
    }
}

/// Class-index (integer) or probability (float) targets for a row loss over `rows`.
enum RowTarget<'a, F: Clone + 'static> {
    Index(Arr<'a, i64>),
    Probs(Cow<'a, [F]>),
}

#[allow(clippy::too_many_arguments)]
fn cross_entropy_rows<'py, T: Widen<F> + Copy + Send + Sync, F: Float>(
    py: Python<'py>,
    logits: Cow<'_, [T]>,
    shape: &[usize],
    target: &Bound<'py, PyAny>,
    weight: Option<&Bound<'py, PyAny>>,
    ignore_index: i64,
    label_smoothing: f64,
    red: Reduction,
    return_grad: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let (c, row_shape) = class_layout(shape)?;
    let z = to_rows(logits, shape);
    let wg = opt_like::<F>(weight)?;
    let w = wg.as_ref().map(Arr::new);
    let mut opts = CrossEntropyOptions::with_reduction(red)
        .ignore_index(Some(ignore_index))
        .label_smoothing(F::lit(label_smoothing));
    opts.weight = w.as_ref().map(|a| &*a.data);
    let (ig, fg);
    let t = if is_integer(target)? {
        ig = integers(target, "target")?;
        let t = Arr::new(&ig);
        check_shape("target", &t.shape, &row_shape)?;
        RowTarget::Index(t)
    } else {
        fg = like::<F>(target)?;
        let t = Arr::new(&fg);
        check_shape("target", &t.shape, shape)?;
        RowTarget::Probs(to_rows(t.data, shape))
    };
    let out = run(py, z.len(), || match &t {
        RowTarget::Index(y) => loss::softmax_cross_entropy(&z, c, &y.data, &opts),
        RowTarget::Probs(q) => loss::softmax_cross_entropy_probs(&z, c, q, &opts),
    })
    .map_err(val)?;
    let grad = return_grad.then(|| (from_rows(out.grad, shape), shape));
    loss_result(py, red, out.value, out.per_element, &row_shape, grad)
}

/// Softmax cross-entropy, the Categorical NLL with the softmax link (`torch.nn.functional.cross_entropy`).
#[pyfunction]
#[pyo3(signature = (logits, target, *, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean", return_grad=false, dtype=None))]
#[allow(clippy::too_many_arguments)]
pub fn cross_entropy<'py>(
    py: Python<'py>,
    logits: &Bound<'py, PyAny>,
    target: &Bound<'py, PyAny>,
    weight: Option<&Bound<'py, PyAny>>,
    ignore_index: i64,
    label_smoothing: f64,
    reduction: &str,
    return_grad: bool,
    dtype: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let red = crate::arrays::reduction(reduction)?;
    match kind(logits, dtype)? {
        Kind::F64 => {
            let g = like::<f64>(logits)?;
            let z = Arr::new(&g);
            cross_entropy_rows::<f64, f64>(
                py,
                z.data,
                &z.shape,
                target,
                weight,
                ignore_index,
                label_smoothing,
                red,
                return_grad,
            )
        }
        Kind::F32 => {
            let g = like::<f32>(logits)?;
            let z = Arr::new(&g);
            cross_entropy_rows::<f32, f32>(
                py,
                z.data,
                &z.shape,
                target,
                weight,
                ignore_index,
                label_smoothing,
                red,
                return_grad,
            )
        }
        Kind::Bf16 => {
            let g = bits(logits)?;
            let z = Arr::new(&g);
            let zb = Cow::Borrowed(z.bf16());
            cross_entropy_rows::<half::bf16, f32>(
                py,
                zb,
                &z.shape,
                target,
                weight,
                ignore_index,
                label_smoothing,
                red,
                return_grad,
            )
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn nll_rows<'py, T: Widen<F> + Copy + Send + Sync, F: Float>(
    py: Python<'py>,
    log_probs: Cow<'_, [T]>,
    shape: &[usize],
    target: &Bound<'py, PyAny>,
    weight: Option<&Bound<'py, PyAny>>,
    ignore_index: i64,
    red: Reduction,
    return_grad: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let (c, row_shape) = class_layout(shape)?;
    let lp = to_rows(log_probs, shape);
    let wg = opt_like::<F>(weight)?;
    let w = wg.as_ref().map(Arr::new);
    let mut opts = NllOptions::with_reduction(red).ignore_index(Some(ignore_index));
    opts.weight = w.as_ref().map(|a| &*a.data);
    let yg = integers(target, "target")?;
    let y = Arr::new(&yg);
    check_shape("target", &y.shape, &row_shape)?;
    let out = run(py, lp.len(), || loss::nll(&lp, c, &y.data, &opts)).map_err(val)?;
    let grad = return_grad.then(|| (from_rows(out.grad, shape), shape));
    loss_result(py, red, out.value, out.per_element, &row_shape, grad)
}

/// Negative log-likelihood of class indices given log-probabilities (`torch.nn.functional.nll_loss`).
#[pyfunction]
#[pyo3(signature = (log_probs, target, *, weight=None, ignore_index=-100, reduction="mean", return_grad=false, dtype=None))]
#[allow(clippy::too_many_arguments)]
pub fn nll_loss<'py>(
    py: Python<'py>,
    log_probs: &Bound<'py, PyAny>,
    target: &Bound<'py, PyAny>,
    weight: Option<&Bound<'py, PyAny>>,
    ignore_index: i64,
    reduction: &str,
    return_grad: bool,
    dtype: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let red = crate::arrays::reduction(reduction)?;
    match kind(log_probs, dtype)? {
        Kind::F64 => {
            let g = like::<f64>(log_probs)?;
            let z = Arr::new(&g);
            nll_rows::<f64, f64>(py, z.data, &z.shape, target, weight, ignore_index, red, return_grad)
        }
        Kind::F32 => {
            let g = like::<f32>(log_probs)?;
            let z = Arr::new(&g);
            nll_rows::<f32, f32>(py, z.data, &z.shape, target, weight, ignore_index, red, return_grad)
        }
        Kind::Bf16 => {
            let g = bits(log_probs)?;
            let z = Arr::new(&g);
            nll_rows::<half::bf16, f32>(
                py,
                Cow::Borrowed(z.bf16()),
                &z.shape,
                target,
                weight,
                ignore_index,
                red,
                return_grad,
            )
        }
    }
}

/// Shared body of the element-wise losses: target (and weight) broadcast to the input's shape,
/// converted to the input's float type.
fn elementwise<'py, F: Float>(
    py: Python<'py>,
    x: Arr<'_, F>,
    target: &Bound<'py, PyAny>,
    weight: Option<&Bound<'py, PyAny>>,
    reduction: &str,
    return_grad: bool,
    f: impl Fn(&[F], &[F], &Options<F>) -> surprisal::Result<LossOutput<F>> + Send + Sync,
) -> PyResult<Bound<'py, PyAny>> {
    let red = crate::arrays::reduction(reduction)?;
    let tg = broadcast_to::<F>(target, &x.shape)?;
    let t = Arr::new(&tg);
    let wg = weight.map(|w| broadcast_to::<F>(w, &x.shape)).transpose()?;
    let w = wg.as_ref().map(Arr::new);
    let mut opts = Options::with_reduction(red);
    opts.weight = w.as_ref().map(|a| &*a.data);
    let out = run(py, x.len(), || f(&x.data, &t.data, &opts)).map_err(val)?;
    elementwise_result(py, red, out, &x.shape, return_grad)
}

/// Defines an element-wise loss binding `name(input, target, *, [param,] weight=None,
/// reduction="mean", return_grad=False, dtype=None)` over a library loss `f(x, y, [param,] opts)`.
macro_rules! elementwise_loss {
    ($(#[$doc:meta])* $name:ident, $f:path) => {
        $(#[$doc])*
        #[pyfunction]
        #[pyo3(signature = (input, target, *, weight=None, reduction="mean", return_grad=false, dtype=None))]
        pub fn $name<'py>(
            py: Python<'py>,
            input: &Bound<'py, PyAny>,
            target: &Bound<'py, PyAny>,
            weight: Option<&Bound<'py, PyAny>>,
            reduction: &str,
            return_grad: bool,
            dtype: Option<&str>,
        ) -> PyResult<Bound<'py, PyAny>> {
            by_dtype!(input, dtype, |x: F| elementwise::<F>(py, x, target, weight, reduction, return_grad, $f))
        }
    };
    ($(#[$doc:meta])* $name:ident, $f:path, $p:ident $(= $default:tt)?) => {
        $(#[$doc])*
        #[pyfunction]
        #[pyo3(signature = (input, target, *, $p $(= $default)?, weight=None, reduction="mean", return_grad=false, dtype=None))]
        #[allow(clippy::too_many_arguments)]
        pub fn $name<'py>(
            py: Python<'py>,
            input: &Bound<'py, PyAny>,
            target: &Bound<'py, PyAny>,
            $p: f64,
            weight: Option<&Bound<'py, PyAny>>,
            reduction: &str,
            return_grad: bool,
            dtype: Option<&str>,
        ) -> PyResult<Bound<'py, PyAny>> {
            by_dtype!(input, dtype, |x: F| elementwise::<F>(py, x, target, weight, reduction, return_grad, |x, y, o| {
                // The library calls the pinball level τ `tau`; the keyword is `quantile`.
                $f(x, y, F::lit($p), o).map_err(|e| e.renamed("tau", stringify!($p)))
            }))
        }
    };
}

elementwise_loss!(
    /// Mean squared error, the Normal NLL with σ² = ½ (`torch.nn.functional.mse_loss`).
    mse_loss,
    loss::mse
);
elementwise_loss!(
    /// Mean absolute error, the Laplace NLL with b = 1 (`torch.nn.functional.l1_loss`).
    l1_loss,
    loss::l1
);
elementwise_loss!(
    /// Log-cosh loss, the NLL of the hyperbolic-secant-like density.
    log_cosh_loss,
    loss::log_cosh
);
elementwise_loss!(
    /// Huber loss with threshold `delta` (`torch.nn.functional.huber_loss`).
    huber_loss,
    loss::huber,
    delta = 1.0
);
elementwise_loss!(
    /// Smooth L1 loss with threshold `beta` (`torch.nn.functional.smooth_l1_loss`).
    smooth_l1_loss,
    loss::smooth_l1,
    beta = 1.0
);
elementwise_loss!(
    /// Pinball (quantile) loss at level `quantile`, the asymmetric-Laplace NLL.
    pinball_loss,
    loss::pinball,
    quantile
);

/// Binary cross-entropy on logits, the Bernoulli NLL with the logit link
/// (`torch.nn.functional.binary_cross_entropy_with_logits`).
#[pyfunction]
#[pyo3(signature = (logits, target, *, weight=None, pos_weight=None, reduction="mean", return_grad=false, dtype=None))]
#[allow(clippy::too_many_arguments)]
pub fn binary_cross_entropy_with_logits<'py>(
    py: Python<'py>,
    logits: &Bound<'py, PyAny>,
    target: &Bound<'py, PyAny>,
    weight: Option<&Bound<'py, PyAny>>,
    pos_weight: Option<&Bound<'py, PyAny>>,
    reduction: &str,
    return_grad: bool,
    dtype: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    match kind(logits, dtype)? {
        Kind::F64 => {
            let g = like::<f64>(logits)?;
            let z = Arr::new(&g);
            bce_logits::<f64, f64>(py, z.data, &z.shape, target, weight, pos_weight, reduction, return_grad)
        }
        Kind::F32 => {
            let g = like::<f32>(logits)?;
            let z = Arr::new(&g);
            bce_logits::<f32, f32>(py, z.data, &z.shape, target, weight, pos_weight, reduction, return_grad)
        }
        Kind::Bf16 => {
            let g = bits(logits)?;
            let z = Arr::new(&g);
            let zb = Cow::Borrowed(z.bf16());
            bce_logits::<half::bf16, f32>(
                py,
                zb,
                &z.shape,
                target,
                weight,
                pos_weight,
                reduction,
                return_grad,
            )
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn bce_logits<'py, T: Widen<F> + Copy + Send + Sync, F: Float>(
    py: Python<'py>,
    z: Cow<'_, [T]>,
    shape: &[usize],
    target: &Bound<'py, PyAny>,
    weight: Option<&Bound<'py, PyAny>>,
    pos_weight: Option<&Bound<'py, PyAny>>,
    reduction: &str,
    return_grad: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let red = crate::arrays::reduction(reduction)?;
    let tg = broadcast_to::<F>(target, shape)?;
    let t = Arr::new(&tg);
    let wg = weight.map(|w| broadcast_to::<F>(w, shape)).transpose()?;
    let w = wg.as_ref().map(Arr::new);
    let pg = pos_weight.map(|w| broadcast_to::<F>(w, shape)).transpose()?;
    let pw = pg.as_ref().map(Arr::new);
    let mut opts = Options::with_reduction(red);
    opts.weight = w.as_ref().map(|a| &*a.data);
    let pw = pw.as_ref().map(|a| &*a.data);
    let out = run(py, z.len(), || loss::sigmoid_binary_cross_entropy(&z, &t.data, pw, &opts)).map_err(val)?;
    elementwise_result(py, red, out, shape, return_grad)
}

/// Binary cross-entropy on probabilities, each log clamped at −100 as PyTorch does
/// (`torch.nn.functional.binary_cross_entropy`).
#[pyfunction]
#[pyo3(signature = (probs, target, *, weight=None, reduction="mean", return_grad=false, dtype=None))]
pub fn binary_cross_entropy<'py>(
    py: Python<'py>,
    probs: &Bound<'py, PyAny>,
    target: &Bound<'py, PyAny>,
    weight: Option<&Bound<'py, PyAny>>,
    reduction: &str,
    return_grad: bool,
    dtype: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    by_dtype!(probs, dtype, |x: F| elementwise::<F>(
        py,
        x,
        target,
        weight,
        reduction,
        return_grad,
        |p, y, o| { loss::binary_cross_entropy(p, y, true, o) }
    ))
}

/// Sigmoid focal loss (torchvision `sigmoid_focal_loss`): not the NLL of any model of y.
#[pyfunction]
#[pyo3(signature = (logits, target, *, alpha=0.25, gamma=2.0, weight=None, reduction="none", return_grad=false, dtype=None))]
#[allow(clippy::too_many_arguments)]
pub fn sigmoid_focal_loss<'py>(
    py: Python<'py>,
    logits: &Bound<'py, PyAny>,
    target: &Bound<'py, PyAny>,
    alpha: f64,
    gamma: f64,
    weight: Option<&Bound<'py, PyAny>>,
    reduction: &str,
    return_grad: bool,
    dtype: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    by_dtype!(logits, dtype, |x: F| elementwise::<F>(
        py,
        x,
        target,
        weight,
        reduction,
        return_grad,
        |z, y, o| { loss::sigmoid_focal(z, y, F::lit(alpha), F::lit(gamma), o) }
    ))
}

/// Poisson NLL (`torch.nn.functional.poisson_nll_loss`).
#[pyfunction]
#[pyo3(signature = (input, target, *, log_input=true, full=false, eps=1e-8, weight=None, reduction="mean", return_grad=false, dtype=None))]
#[allow(clippy::too_many_arguments)]
pub fn poisson_nll_loss<'py>(
    py: Python<'py>,
    input: &Bound<'py, PyAny>,
    target: &Bound<'py, PyAny>,
    log_input: bool,
    full: bool,
    eps: f64,
    weight: Option<&Bound<'py, PyAny>>,
    reduction: &str,
    return_grad: bool,
    dtype: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    by_dtype!(input, dtype, |x: F| elementwise::<F>(
        py,
        x,
        target,
        weight,
        reduction,
        return_grad,
        |x, y, o| {
            let cfg = PoissonNllConfig { log_input, full, eps: F::lit(eps) };
            loss::poisson_nll(x, y, &cfg, o)
        }
    ))
}

/// Gaussian NLL with a predicted variance (`torch.nn.functional.gaussian_nll_loss`); with
/// `return_grad` returns `(loss, grad_input, grad_var)`.
#[pyfunction]
#[pyo3(signature = (input, target, var, *, full=false, eps=1e-6, weight=None, reduction="mean", return_grad=false, dtype=None))]
#[allow(clippy::too_many_arguments)]
pub fn gaussian_nll_loss<'py>(
    py: Python<'py>,
    input: &Bound<'py, PyAny>,
    target: &Bound<'py, PyAny>,
    var: &Bound<'py, PyAny>,
    full: bool,
    eps: f64,
    weight: Option<&Bound<'py, PyAny>>,
    reduction: &str,
    return_grad: bool,
    dtype: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let red = reduction_of(reduction)?;
    by_dtype!(input, dtype, |x: F| {
        let tg = broadcast_to::<F>(target, &x.shape)?;
        let t = Arr::new(&tg);
        let vg = like::<F>(var)?;
        let v = Arr::new(&vg);
        let wg = weight.map(|w| broadcast_to::<F>(w, &x.shape)).transpose()?;
        let w = wg.as_ref().map(Arr::new);
        let mut opts = Options::with_reduction(red);
        opts.weight = w.as_ref().map(|a| &*a.data);
        let out =
            run(py, x.len(), || loss::gaussian_nll(&x.data, &t.data, &v.data, full, F::lit(eps), &opts))
                .map_err(val)?;
        let loss = loss_result::<F>(py, red, out.value, out.per_element, &x.shape, None)?;
        if return_grad {
            let gi = crate::arrays::array(py, out.grad_input, &x.shape)?;
            let gv = crate::arrays::array(py, out.grad_var, &v.shape)?;
            Ok(pyo3::types::PyTuple::new(py, [loss, gi, gv])?.into_any())
        } else {
            Ok(loss)
        }
    })
}

fn reduction_of(s: &str) -> PyResult<Reduction> {
    reduction(s)
}

/// KL divergence with log-probability input (`torch.nn.functional.kl_div`); `batchmean` divides
/// by the first dimension.
#[pyfunction]
#[pyo3(signature = (input, target, *, reduction="mean", log_target=false, return_grad=false, dtype=None))]
pub fn kl_div<'py>(
    py: Python<'py>,
    input: &Bound<'py, PyAny>,
    target: &Bound<'py, PyAny>,
    reduction: &str,
    log_target: bool,
    return_grad: bool,
    dtype: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let red = reduction_of(reduction)?;
    by_dtype!(input, dtype, |x: F| {
        let tg = broadcast_to::<F>(target, &x.shape)?;
        let t = Arr::new(&tg);
        let per_row = if x.shape.len() >= 2 { x.shape[1..].iter().product() } else { x.len().max(1) };
        let opts = KlDivOptions::with_reduction(red).log_target(log_target);
        let out = run(py, x.len(), || loss::kl_div(&x.data, per_row, &t.data, &opts)).map_err(val)?;
        elementwise_result(py, red, out, &x.shape, return_grad)
    })
}

/// Knowledge distillation: T²·KL(softmax(teacher/T) ‖ softmax(student/T)), the batch mean.
#[pyfunction]
#[pyo3(signature = (student_logits, teacher_logits, *, temperature=1.0, return_grad=false, dtype=None))]
pub fn distillation_kl<'py>(
    py: Python<'py>,
    student_logits: &Bound<'py, PyAny>,
    teacher_logits: &Bound<'py, PyAny>,
    temperature: f64,
    return_grad: bool,
    dtype: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    by_dtype!(student_logits, dtype, |s: F| {
        let tg = like::<F>(teacher_logits)?;
        let t = Arr::new(&tg);
        check_shape("teacher_logits", &t.shape, &s.shape)?;
        let c = s.shape.last().copied().unwrap_or(1).max(1);
        let out =
            run(py, s.len(), || loss::distillation(&s.data, &t.data, c, F::lit(temperature))).map_err(val)?;
        let grad = return_grad.then_some((out.grad, s.shape.as_slice()));
        loss_result(py, Reduction::Mean, out.value, vec![], &[], grad)
    })
}

/// Registers the losses.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cross_entropy, m)?)?;
    m.add_function(wrap_pyfunction!(nll_loss, m)?)?;
    m.add_function(wrap_pyfunction!(binary_cross_entropy_with_logits, m)?)?;
    m.add_function(wrap_pyfunction!(binary_cross_entropy, m)?)?;
    m.add_function(wrap_pyfunction!(sigmoid_focal_loss, m)?)?;
    m.add_function(wrap_pyfunction!(mse_loss, m)?)?;
    m.add_function(wrap_pyfunction!(l1_loss, m)?)?;
    m.add_function(wrap_pyfunction!(log_cosh_loss, m)?)?;
    m.add_function(wrap_pyfunction!(huber_loss, m)?)?;
    m.add_function(wrap_pyfunction!(smooth_l1_loss, m)?)?;
    m.add_function(wrap_pyfunction!(pinball_loss, m)?)?;
    m.add_function(wrap_pyfunction!(poisson_nll_loss, m)?)?;
    m.add_function(wrap_pyfunction!(gaussian_nll_loss, m)?)?;
    m.add_function(wrap_pyfunction!(kl_div, m)?)?;
    m.add_function(wrap_pyfunction!(distillation_kl, m)?)?;
    Ok(())
}
