//! NumPy arrays in and out: dtype dispatch, zero-copy slices, error mapping, the GIL.
//!
//! Inputs of dtype float64 or float32 that are C-contiguous are read in place (no copy); any other
//! array-like (lists, scalars, integer arrays, non-contiguous views) is converted or copied once.
//! bfloat16 arrives as a uint16 array of bit patterns with `dtype="bfloat16"` and is read in place
//! where the library takes it natively (the logits of the cross-entropies), widened to float32
//! elsewhere.

use std::borrow::Cow;

use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{
    Element, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyFloat;
use surprisal::loss::{LossOutput, Reduction};
use surprisal::num::Real;

/// A float type both the library and NumPy know.
pub trait Float: Real + Element {}
impl<T: Real + Element> Float for T {}

/// The library's error as a Python `ValueError` carrying its message.
pub fn val(e: surprisal::Error) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A `ValueError` with this message.
pub fn bad(msg: impl Into<String>) -> PyErr {
    PyValueError::new_err(msg.into())
}

/// Elements above which a call releases the GIL while the library runs.
const DETACH_ABOVE: usize = 1 << 14;

/// Runs `f`, without the GIL when the work is large (`n` elements) enough to pay for it.
pub fn run<T: Send>(py: Python<'_>, n: usize, f: impl FnOnce() -> T + Send) -> T {
    if n > DETACH_ABOVE { py.detach(f) } else { f() }
}

/// The storage type a call dispatches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    F64,
    F32,
    Bf16,
}

/// float32 arrays compute in f32, `dtype="bfloat16"` marks uint16 bit patterns, everything else
/// is converted to float64.
pub fn kind(obj: &Bound<'_, PyAny>, dtype: Option<&str>) -> PyResult<Kind> {
    match dtype {
        None => Ok(if obj.cast::<PyArrayDyn<f32>>().is_ok() { Kind::F32 } else { Kind::F64 }),
        Some("float64") => Ok(Kind::F64),
        Some("float32") => Ok(Kind::F32),
        Some("bfloat16") => Ok(Kind::Bf16),
        Some(other) => Err(bad(format!(
            "dtype = {other:?} is not supported: expected None, \"float64\", \"float32\" or \"bfloat16\""
        ))),
    }
}

/// Any array-like as an array of `F`: read in place when it already is an `F` array, else
/// converted once by `numpy.asarray(obj, dtype)`.
pub fn like<'py, F: Element>(obj: &Bound<'py, PyAny>) -> PyResult<PyReadonlyArrayDyn<'py, F>> {
    if let Ok(a) = obj.cast::<PyArrayDyn<F>>() {
        return a.try_readonly().map_err(|e| bad(e.to_string()));
    }
    let py = obj.py();
    let a = py.import("numpy")?.call_method1("asarray", (obj, F::get_dtype(py)))?;
    let a = a.cast_into::<PyArrayDyn<F>>().map_err(|e| PyTypeError::new_err(e.to_string()))?;
    a.try_readonly().map_err(|e| bad(e.to_string()))
}

/// Class labels (or counts) as an `i64` array: integer and boolean arrays as they are; anything
/// else must hold whole finite numbers (`[0.0, 1.0]` reads as `[0, 1]`), and a value such as
/// 0.5 or NaN is a `ValueError` naming `name`, the index and the value (NumPy's cast would
/// truncate it silently).
pub fn integers<'py>(obj: &Bound<'py, PyAny>, name: &str) -> PyResult<PyReadonlyArrayDyn<'py, i64>> {
    if !is_integer(obj)? {
        let fg = like::<f64>(obj)?;
        let f = Arr::new(&fg);
        // i64 holds every whole f64 in [−2⁶³, 2⁶³).
        let whole =
            |v: f64| v.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&v);
        if let Some((i, v)) = f.data.iter().enumerate().find(|(_, v)| !whole(**v)) {
            return Err(bad(format!("`{name}` holds {v} at index {i}: labels must be whole numbers")));
        }
    }
    like::<i64>(obj)
}

/// A uint16 array holding bfloat16 bit patterns.
pub fn bits<'py>(obj: &Bound<'py, PyAny>) -> PyResult<PyReadonlyArrayDyn<'py, u16>> {
    obj.extract::<PyReadonlyArrayDyn<'py, u16>>().map_err(|_| {
        PyTypeError::new_err(
            "dtype=\"bfloat16\" needs a uint16 array of bfloat16 bit patterns \
             (e.g. tensor.view(torch.uint16).numpy())",
        )
    })
}

/// Whether `obj` holds integers (an integer or boolean array, or anything NumPy reads as one).
pub fn is_integer(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    let arr = match obj.cast::<PyUntypedArray>() {
        Ok(a) => a.clone(),
        Err(_) => {
            let np = obj.py().import("numpy")?;
            np.call_method1("asarray", (obj,))?.cast_into::<PyUntypedArray>()?
        }
    };
    Ok(matches!(arr.dtype().kind(), b'i' | b'u' | b'b'))
}

/// A read-only array's data as a slice (borrowed when contiguous) and its shape.
pub struct Arr<'a, T: Clone + 'static> {
    pub data: Cow<'a, [T]>,
    pub shape: Vec<usize>,
}

impl<'a, T: Element + Copy> Arr<'a, T> {
    pub fn new(a: &'a PyReadonlyArrayDyn<'_, T>) -> Self {
        let shape = a.shape().to_vec();
        let data = match a.as_slice() {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => Cow::Owned(a.as_array().iter().copied().collect()),
        };
        Arr { data, shape }
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }
}

impl Arr<'_, u16> {
    /// The bit patterns as bfloat16 values (a reinterpretation, no copy).
    pub fn bf16(&self) -> &[half::bf16] {
        use half::slice::HalfBitsSliceExt;
        self.data.reinterpret_cast::<half::bf16>()
    }

    /// The values widened to f32 (one copy).
    pub fn widen(&self) -> Arr<'static, f32> {
        Arr { data: Cow::Owned(self.bf16().iter().map(|v| v.to_f32()).collect()), shape: self.shape.clone() }
    }
}

/// An optional array-like as an array of `F`.
pub fn opt_like<'py, F: Element>(
    obj: Option<&Bound<'py, PyAny>>,
) -> PyResult<Option<PyReadonlyArrayDyn<'py, F>>> {
    obj.map(like::<F>).transpose()
}

/// Dispatches on the storage type of `$obj`: binds `$x` to an `Arr` of `$F` (f64 or f32; bf16
/// widened to f32) and evaluates `$body`.
#[macro_export]
macro_rules! by_dtype {
    ($obj:expr, $dtype:expr, |$x:ident: $F:ident| $body:expr) => {
        match $crate::arrays::kind($obj, $dtype)? {
            $crate::arrays::Kind::F64 => {
                #[allow(dead_code)]
                type $F = f64;
                let g = $crate::arrays::like::<f64>($obj)?;
                let $x = $crate::arrays::Arr::new(&g);
                $body
            }
            $crate::arrays::Kind::F32 => {
                #[allow(dead_code)]
                type $F = f32;
                let g = $crate::arrays::like::<f32>($obj)?;
                let $x = $crate::arrays::Arr::new(&g);
                $body
            }
            $crate::arrays::Kind::Bf16 => {
                #[allow(dead_code)]
                type $F = f32;
                let g = $crate::arrays::bits($obj)?;
                let $x = $crate::arrays::Arr::new(&g).widen();
                $body
            }
        }
    };
}

/// A new NumPy array owning `data` with this shape.
pub fn array<'py, T: Element>(py: Python<'py>, data: Vec<T>, shape: &[usize]) -> PyResult<Bound<'py, PyAny>> {
    let a = ArrayD::from_shape_vec(IxDyn(shape), data).map_err(|e| bad(e.to_string()))?;
    Ok(PyArrayDyn::from_owned_array(py, a).into_any())
}

/// A scalar as a Python float.
pub fn float<'py, F: Real>(py: Python<'py>, v: F) -> Bound<'py, PyAny> {
    PyFloat::new(py, v.to_f64_lossy()).into_any()
}

/// The reduced value (a float, or the per-element array of shape `per_shape` for `none`), and with
/// `return_grad` the pair (loss, grad) with the gradient of shape `grad_shape`.
pub fn loss_result<'py, F: Float>(
    py: Python<'py>,
    reduction: Reduction,
    value: F,
    per_element: Vec<F>,
    per_shape: &[usize],
    grad: Option<(Vec<F>, &[usize])>,
) -> PyResult<Bound<'py, PyAny>> {
    let loss =
        if reduction == Reduction::None { array(py, per_element, per_shape)? } else { float(py, value) };
    match grad {
        None => Ok(loss),
        Some((g, shape)) => {
            let g = array(py, g, shape)?;
            Ok(pyo3::types::PyTuple::new(py, [loss, g])?.into_any())
        }
    }
}

/// `loss_result` for a [`LossOutput`] whose per-element losses and gradient share `shape`.
pub fn elementwise_result<'py, F: Float>(
    py: Python<'py>,
    reduction: Reduction,
    out: LossOutput<F>,
    shape: &[usize],
    return_grad: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let grad = return_grad.then_some((out.grad, shape));
    loss_result(py, reduction, out.value, out.per_element, shape, grad)
}

/// Parses a reduction name (`none`, `sum`, `mean`, and `batchmean` where accepted).
pub fn reduction(s: &str) -> PyResult<Reduction> {
    Reduction::parse(s).map_err(val)
}

/// Broadcasts an optional per-element weight of any shape NumPy can broadcast to `shape`.
pub fn broadcast_to<'py, F: Element>(
    obj: &Bound<'py, PyAny>,
    shape: &[usize],
) -> PyResult<PyReadonlyArrayDyn<'py, F>> {
    let a = like::<F>(obj)?;
    if a.shape() == shape {
        return Ok(a);
    }
    let np = obj.py().import("numpy")?;
    let b = np.call_method1("broadcast_to", (a.as_any(), shape.to_vec()))?;
    let c = np.call_method1("ascontiguousarray", (b,))?;
    like::<F>(&c)
}
