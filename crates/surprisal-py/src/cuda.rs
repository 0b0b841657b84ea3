//! The GPU kernels of `surprisal-cuda` on raw device pointers (PyTorch's `data_ptr()` and
//! `torch.cuda.current_stream().cuda_stream`), used by `surprisal.torch` for CUDA tensors.
//! Everything is enqueued on the given stream; nothing waits for the GPU. Without the crate
//! feature `cuda` every call raises `RuntimeError` ("built without the `cuda` feature").

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use surprisal_cuda::{BceCall, CrossEntropyCall, CrossEntropyOptions, DType, Error, Gpu, Reduction};

fn err(e: Error) -> PyErr {
    match e {
        Error::InvalidArgument { .. } => PyValueError::new_err(e.to_string()),
        _ => PyRuntimeError::new_err(e.to_string()),
    }
}

/// The device handle of `ordinal` (opened once per process).
fn gpu(ordinal: usize) -> PyResult<Arc<Gpu>> {
    static GPUS: OnceLock<Mutex<HashMap<usize, Arc<Gpu>>>> = OnceLock::new();
    let mut map = GPUS.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    if let Some(g) = map.get(&ordinal) {
        return Ok(g.clone());
    }
    let g = Arc::new(Gpu::new(ordinal).map_err(err)?);
    map.insert(ordinal, g.clone());
    Ok(g)
}

/// Whether this build has the GPU path (the `cuda` feature).
#[pyfunction]
fn cuda_built() -> bool {
    cfg!(feature = "cuda")
}

/// Compiles the kernels for `dtype` and `sm_{major}{minor}` with NVRTC (no device needed) and
/// returns the CUBIN's size in bytes: a check that NVRTC is found from Python.
#[pyfunction]
fn cuda_nvrtc_compile(py: Python<'_>, dtype: &str, major: i32, minor: i32) -> PyResult<usize> {
    let dtype = DType::parse(dtype).map_err(err)?;
    py.detach(|| surprisal_cuda::compile_cubin(dtype, major, minor)).map(|c| c.image.len()).map_err(err)
}

/// The cross-entropy launch device `device` takes for rows of `v` elements of `dtype` (rows of
/// whole 16-byte packs, as contiguous tensors have when V·size is a multiple of 16): a dict with
/// `smem` (row slice kept in shared memory), `pipelined` (the persistent kernel with bulk copies),
/// `stages` (its slices per CTA), `async_copy` (the one-read kernel's slice copied with
/// cp.async), `copy_groups` (that copy's commit groups, each reduced as it lands), `store_exp`
/// (pass 1 stores the exponentials for pass 2), `cluster` (CTAs per row), `packs_per_cta`,
/// `threads` and `smem_bytes`. `SURPRISAL_CUDA_SLICE_BYTES`, `SURPRISAL_CUDA_ASYNC`,
/// `SURPRISAL_CUDA_COPY_GROUPS`, `SURPRISAL_CUDA_PIPELINE`, `SURPRISAL_CUDA_STAGES`,
/// `SURPRISAL_CUDA_THREADS` and `SURPRISAL_CUDA_STORE_EXP` (read when the device is first used)
/// change it.
#[pyfunction]
fn cuda_plan<'py>(
    py: Python<'py>,
    device: usize,
    dtype: &str,
    v: usize,
) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
    let p = gpu(device)?.plan(DType::parse(dtype).map_err(err)?, v);
    let d = pyo3::types::PyDict::new(py);
    d.set_item("smem", p.smem)?;
    d.set_item("pipelined", p.pipelined)?;
    d.set_item("stages", p.stages)?;
    d.set_item("async_copy", p.async_copy)?;
    d.set_item("copy_groups", p.copy_groups)?;
    d.set_item("store_exp", p.store_exp)?;
    d.set_item("cluster", p.cluster)?;
    d.set_item("packs_per_cta", p.packs_per_cta)?;
    d.set_item("threads", p.threads)?;
    d.set_item("smem_bytes", p.smem_bytes)?;
    Ok(d)
}

/// f32 entries of the scratch buffer `cuda_cross_entropy` needs for `n` rows.
#[pyfunction]
fn cuda_cross_entropy_workspace_len(n: usize) -> usize {
    surprisal_cuda::cross_entropy_workspace_len(n)
}

/// f32 entries of the scratch buffer `cuda_bce_with_logits` needs.
#[pyfunction]
fn cuda_bce_workspace_len() -> usize {
    surprisal_cuda::BCE_WORKSPACE_LEN
}

/// Enqueues the fused softmax cross-entropy (loss and gradient) on `stream` of device `device`.
/// Pointers are device addresses (0 = no class weights); strides in elements.
#[pyfunction]
#[pyo3(signature = (device, stream, dtype, n, v, logits, logits_stride, grad, grad_stride, targets, weight, loss, workspace, reduction, ignore_index, label_smoothing))]
#[allow(clippy::too_many_arguments)]
fn cuda_cross_entropy(
    py: Python<'_>,
    device: usize,
    stream: u64,
    dtype: &str,
    n: usize,
    v: usize,
    logits: u64,
    logits_stride: usize,
    grad: u64,
    grad_stride: usize,
    targets: u64,
    weight: u64,
    loss: u64,
    workspace: u64,
    reduction: &str,
    ignore_index: Option<i64>,
    label_smoothing: f32,
) -> PyResult<()> {
    let call = CrossEntropyCall {
        dtype: DType::parse(dtype).map_err(err)?,
        n,
        v,
        logits,
        logits_stride,
        grad,
        grad_stride,
        targets,
        weight,
        loss,
        workspace,
        options: CrossEntropyOptions {
            reduction: Reduction::parse(reduction).map_err(err)?,
            ignore_index,
            label_smoothing,
        },
    };
    let g = gpu(device)?;
    // SAFETY: the caller (surprisal.torch) passes live CUDA tensors of the documented shapes and
    // dtypes on `device`, and the device's current stream.
    py.detach(|| unsafe { g.cross_entropy_raw(&call, stream) }).map_err(err)
}

/// Enqueues the sigmoid binary cross-entropy on logits (loss and gradient) on `stream`.
#[pyfunction]
#[pyo3(signature = (device, stream, dtype, n, logits, targets, grad, pos_weight, pos_weight_len, weight, weight_len, loss, workspace, reduction))]
#[allow(clippy::too_many_arguments)]
fn cuda_bce_with_logits(
    py: Python<'_>,
    device: usize,
    stream: u64,
    dtype: &str,
    n: usize,
    logits: u64,
    targets: u64,
    grad: u64,
    pos_weight: u64,
    pos_weight_len: usize,
    weight: u64,
    weight_len: usize,
    loss: u64,
    workspace: u64,
    reduction: &str,
) -> PyResult<()> {
    let call = BceCall {
        dtype: DType::parse(dtype).map_err(err)?,
        n,
        logits,
        targets,
        grad,
        pos_weight,
        pos_weight_len,
        weight,
        weight_len,
        loss,
        workspace,
        reduction: Reduction::parse(reduction).map_err(err)?,
    };
    let g = gpu(device)?;
    // SAFETY: as in `cuda_cross_entropy`.
    py.detach(|| unsafe { g.bce_with_logits_raw(&call, stream) }).map_err(err)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cuda_built, m)?)?;
    m.add_function(wrap_pyfunction!(cuda_nvrtc_compile, m)?)?;
    m.add_function(wrap_pyfunction!(cuda_plan, m)?)?;
    m.add_function(wrap_pyfunction!(cuda_cross_entropy_workspace_len, m)?)?;
    m.add_function(wrap_pyfunction!(cuda_bce_workspace_len, m)?)?;
    m.add_function(wrap_pyfunction!(cuda_cross_entropy, m)?)?;
    m.add_function(wrap_pyfunction!(cuda_bce_with_logits, m)?)?;
    Ok(())
}
