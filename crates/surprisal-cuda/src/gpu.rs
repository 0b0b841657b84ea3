//! The `cuda` feature: NVRTC compilation, the per-(device, dtype) module cache and the launches
//! (cudarc's `driver::result` / `driver::sys` layer, on the caller's stream).

use crate::{
    BCE_WORKSPACE_LEN, BceCall, CrossEntropyCall, CrossEntropyOptions, Cubin, DType, Error, Gpu,
    KERNEL_NAMES, Reduction, Result, Tuning, cross_entropy_workspace_len, kernel_source,
};
use cudarc::driver::{
    CudaContext, CudaSlice, CudaStream, DevicePtr, DevicePtrMut, DeviceRepr, ValidAsZeroBits, result as dr,
    sys,
};
use cudarc::nvrtc::{result as nr, sys as nsys};
use std::collections::HashMap;
use std::ffi::{CString, c_char, c_void};
use std::sync::{Arc, Mutex, OnceLock};

/// Whether libnvrtc can be loaded.
pub(crate) fn nvrtc_present() -> bool {
    // SAFETY: only tries to open the library.
    unsafe { nsys::is_culib_present() }
}

pub(crate) fn nvrtc_version() -> Option<(i32, i32)> {
    if !nvrtc_present() {
        return None;
    }
    let (mut major, mut minor) = (0, 0);
    // SAFETY: the library is present; the out-pointers are valid.
    unsafe { nsys::nvrtcVersion(&mut major, &mut minor) }.result().ok().map(|()| (major, minor))
}

/// Whether libcuda can be loaded.
fn driver_present() -> bool {
    // SAFETY: only tries to open the library.
    unsafe { sys::is_culib_present() }
}

/// Whether libcuda can be loaded, initialises, and reports a device.
pub(crate) fn driver_has_device() -> bool {
    driver_present() && dr::init().is_ok() && dr::device::get_count().is_ok_and(|n| n > 0)
}

fn driver_err(call: &'static str) -> impl Fn(dr::DriverError) -> Error {
    move |e| Error::Driver {
        call,
        message: e.error_name().map_or_else(|_| format!("{e:?}"), |s| s.to_string_lossy().into_owned()),
    }
}

fn c_text(v: &[c_char]) -> String {
    let bytes: Vec<u8> = v.iter().map(|&c| c as u8).take_while(|&b| b != 0).collect();
    String::from_utf8_lossy(&bytes).trim().to_string()
}

pub(crate) fn compile(dtype: DType, major: i32, minor: i32) -> Result<Cubin> {
    compile_source(kernel_source(dtype), dtype, major, minor)
}

/// [`compile`] of any source (the kernels' with checks appended, in the tests).
fn compile_source(source: String, dtype: DType, major: i32, minor: i32) -> Result<Cubin> {
    if !nvrtc_present() {
        return Err(Error::NoNvrtc("libnvrtc could not be loaded".into()));
    }
    let arch = format!("sm_{major}{minor}");
    let fail = |log: String| Error::Compile { arch: arch.clone(), dtype: dtype.name(), log };
    let src = CString::new(source).map_err(|_| fail("NUL byte in the kernel source".into()))?;
    let name = CString::new(format!("surprisal_{}.cu", dtype.name())).unwrap_or_default();
    let prog = nr::create_program(&src, Some(&name)).map_err(|e| fail(format!("{e:?}")))?;
    let opts =
        [format!("--gpu-architecture={arch}"), "-std=c++17".to_string(), "--ptxas-options=-v".to_string()];
    // SAFETY: `prog` was created above and is destroyed once below.
    unsafe {
        let res = nr::compile_program(prog, &opts);
        let log = nr::get_program_log(prog).map(|l| c_text(&l)).unwrap_or_default();
        let out = match res {
            Err(e) => Err(fail(format!("{e:?}\n{log}"))),
            Ok(()) => {
                let mut size = 0usize;
                match nsys::nvrtcGetCUBINSize(prog, &mut size).result() {
                    Err(e) => Err(fail(format!("nvrtcGetCUBINSize: {e:?}"))),
                    Ok(()) => {
                        let mut image = vec![0u8; size];
                        nsys::nvrtcGetCUBIN(prog, image.as_mut_ptr().cast::<c_char>())
                            .result()
                            .map(|()| Cubin { image, log })
                            .map_err(|e| fail(format!("nvrtcGetCUBIN: {e:?}")))
                    }
                }
            }
        };
        let _ = nr::destroy_program(prog);
        out
    }
}

pub(crate) fn open(ordinal: usize) -> Result<Gpu> {
    if !driver_present() {
        return Err(Error::NoDriver("libcuda could not be loaded".into()));
    }
    dr::init().map_err(|e| Error::NoDriver(format!("cuInit: {e:?}")))?;
    let count = dr::device::get_count().map_err(|e| Error::NoDriver(format!("cuDeviceGetCount: {e:?}")))?;
    if ordinal >= count.max(0) as usize {
        return Err(Error::NoDriver(format!("device {ordinal} does not exist ({count} devices)")));
    }
    let ctx = CudaContext::new(ordinal).map_err(driver_err("cuDevicePrimaryCtxRetain"))?;
    let cc = ctx.compute_capability().map_err(driver_err("cuDeviceGetAttribute"))?;
    let optin = ctx
        .attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)
        .map_err(driver_err("cuDeviceGetAttribute"))?;
    let sms = ctx
        .attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
        .map_err(driver_err("cuDeviceGetAttribute"))?;
    Ok(Gpu {
        ordinal,
        cc,
        smem_optin: optin.max(0) as usize,
        sm_count: sms.max(1) as u32,
        tuning: Tuning::default(),
        ctx,
    })
}

/// A loaded module and its kernels (kept with a reference to the context it lives in).
struct Module {
    funcs: [sys::CUfunction; 6],
    /// Resident clusters of the pipelined kernel per (threads, smem bytes, cluster).
    resident: Mutex<HashMap<(u32, usize, u32), u32>>,
    _ctx: Arc<CudaContext>,
}

impl Module {
    /// How many clusters of `plan`'s shape of kernel `f` the device runs at once (the occupancy
    /// API; cached per shape), at least 1.
    fn resident_clusters(&self, gpu: &Gpu, f: sys::CUfunction, plan: &crate::Plan) -> Result<u32> {
        let key = (plan.threads, plan.smem_bytes, plan.cluster);
        let mut cache = self.resident.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(&r) = cache.get(&key) {
            return Ok(r);
        }
        let r = if plan.cluster == 1 {
            let mut per_sm = 0i32;
            // SAFETY: `f` is a function of this module; the out-pointer is valid.
            unsafe {
                sys::cuOccupancyMaxActiveBlocksPerMultiprocessor(
                    &mut per_sm,
                    f,
                    plan.threads as i32,
                    plan.smem_bytes,
                )
            }
            .result()
            .map_err(driver_err("cuOccupancyMaxActiveBlocksPerMultiprocessor"))?;
            per_sm.max(0) as u32 * gpu.sm_count
        } else {
            let mut attr = cluster_attr(plan.cluster);
            let grid = plan.cluster * gpu.sm_count;
            let cfg = launch_config(grid, plan.threads, plan.smem_bytes as u32, plan.cluster, 0, &mut attr);
            let mut clusters = 0i32;
            // SAFETY: `f` is a function of this module; `cfg` and `attr` outlive the call.
            unsafe { sys::cuOccupancyMaxActiveClusters(&mut clusters, f, &cfg) }
                .result()
                .map_err(driver_err("cuOccupancyMaxActiveClusters"))?;
            clusters.max(0) as u32
        };
        let r = r.max(1);
        cache.insert(key, r);
        Ok(r)
    }
}

// SAFETY: CUfunction handles are plain driver handles, usable from any thread once the context is
// current; the module is never unloaded.
unsafe impl Send for Module {}
// SAFETY: as above (launching does not mutate the handle).
unsafe impl Sync for Module {}

type Cache = Mutex<HashMap<(usize, DType), Arc<Module>>>;

fn module(gpu: &Gpu, dtype: DType) -> Result<Arc<Module>> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    if let Some(m) = cache.get(&(gpu.ordinal, dtype)) {
        return Ok(m.clone());
    }
    let cubin = compile(dtype, gpu.cc.0, gpu.cc.1)?;
    gpu.ctx.bind_to_thread().map_err(driver_err("cuCtxSetCurrent"))?;
    // SAFETY: the image is a CUBIN produced by NVRTC for this device's architecture.
    let m = unsafe { dr::module::load_data(cubin.image.as_ptr().cast::<c_void>()) }
        .map_err(driver_err("cuModuleLoadData"))?;
    let mut funcs = [std::ptr::null_mut(); 6];
    for (f, name) in funcs.iter_mut().zip(KERNEL_NAMES) {
        let cname = CString::new(name).unwrap_or_default();
        // SAFETY: `m` is the module just loaded.
        *f = unsafe { dr::module::get_function(m, cname) }.map_err(driver_err("cuModuleGetFunction"))?;
    }
    let module = Arc::new(Module { funcs, resident: Mutex::default(), _ctx: gpu.ctx.clone() });
    cache.insert((gpu.ordinal, dtype), module.clone());
    Ok(module)
}

/// The kernels' argument block of the cross-entropy (layout of `CeArgs` in cross_entropy.cu).
#[repr(C)]
#[derive(Clone, Copy)]
struct CeArgs {
    logits: u64,
    grad: u64,
    targets: u64,
    weight: u64,
    row_loss: u64,
    scal: u64,
    n: i64,
    v: i64,
    stride_in: i64,
    stride_out: i64,
    ignore_index: i64,
    has_ignore: i32,
    eps: f32,
    cluster: i32,
    per: i32,
    stages: i32,
    async_copy: i32,
    store_exp: i32,
    copy_groups: i32,
}

/// Layout of `BceArgs` in bce.cu.
#[repr(C)]
#[derive(Clone, Copy)]
struct BceArgs {
    x: u64,
    t: u64,
    grad: u64,
    pos_weight: u64,
    weight: u64,
    out: u64,
    n: i64,
    pw_len: i64,
    w_len: i64,
    k: f32,
    per_element: i32,
}

fn arg<T>(x: &T) -> *mut c_void {
    (x as *const T).cast_mut().cast::<c_void>()
}

/// cuLaunchKernelEx on `stream`, with a cluster of `cluster` CTAs along x when > 1.
///
/// # Safety
/// `f` a kernel of a loaded module whose parameters are those `params` point to.
unsafe fn launch(
    f: sys::CUfunction,
    grid: u32,
    block: u32,
    smem: u32,
    cluster: u32,
    stream: u64,
    params: &mut [*mut c_void],
) -> Result<()> {
    let mut attr = cluster_attr(cluster);
    let cfg = launch_config(grid, block, smem, cluster, stream, &mut attr);
    // SAFETY: the caller's contract; `cfg`, `attr` and `params` outlive the call.
    unsafe { sys::cuLaunchKernelEx(&cfg, f, params.as_mut_ptr(), std::ptr::null_mut()) }
        .result()
        .map_err(driver_err("cuLaunchKernelEx"))
}

/// The launch attribute for clusters of `cluster` CTAs along x.
fn cluster_attr(cluster: u32) -> sys::CUlaunchAttribute {
    // SAFETY: an all-zero launch attribute is a valid bit pattern (plain C data).
    let mut attr: sys::CUlaunchAttribute = unsafe { std::mem::zeroed() };
    attr.id = sys::CUlaunchAttributeID::CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    attr.value.clusterDim = sys::CUlaunchAttributeValue_union__bindgen_ty_1 { x: cluster, y: 1, z: 1 };
    attr
}

/// A one-dimensional launch of `grid` CTAs of `block` threads; `attr` (from [`cluster_attr`]) is
/// attached when `cluster` > 1 and must outlive the configuration's use.
fn launch_config(
    grid: u32,
    block: u32,
    smem: u32,
    cluster: u32,
    stream: u64,
    attr: &mut sys::CUlaunchAttribute,
) -> sys::CUlaunchConfig {
    sys::CUlaunchConfig {
        gridDimX: grid,
        gridDimY: 1,
        gridDimZ: 1,
        blockDimX: block,
        blockDimY: 1,
        blockDimZ: 1,
        sharedMemBytes: smem,
        hStream: stream as usize as sys::CUstream,
        attrs: if cluster > 1 { attr } else { std::ptr::null_mut() },
        numAttrs: u32::from(cluster > 1),
    }
}

/// # Safety
/// [`Gpu::cross_entropy_raw`]'s contract (the call already validated).
pub(crate) unsafe fn cross_entropy(gpu: &Gpu, c: &CrossEntropyCall, stream: u64) -> Result<()> {
    gpu.ctx.bind_to_thread().map_err(driver_err("cuCtxSetCurrent"))?;
    let m = module(gpu, c.dtype)?;
    let plan = gpu.plan_call(c);
    let opts = c.options;
    let row_loss = if opts.reduction == Reduction::None { c.loss } else { c.workspace + 16 };
    let a = CeArgs {
        logits: c.logits,
        grad: c.grad,
        targets: c.targets,
        weight: c.weight,
        row_loss,
        scal: c.workspace,
        n: c.n as i64,
        v: c.v as i64,
        stride_in: c.logits_stride as i64,
        stride_out: c.grad_stride as i64,
        ignore_index: opts.ignore_index.unwrap_or(0),
        has_ignore: i32::from(opts.ignore_index.is_some()),
        eps: opts.label_smoothing,
        cluster: plan.cluster as i32,
        per: plan.packs_per_cta as i32,
        stages: plan.stages as i32,
        async_copy: i32::from(plan.async_copy),
        store_exp: i32::from(plan.store_exp),
        copy_groups: plan.copy_groups as i32,
    };
    let red = opts.reduction.code();
    // SAFETY: the kernels' parameters are (CeArgs, int), (CeArgs), (u64, i64, u64, float, u64).
    unsafe {
        launch(m.funcs[0], 1, 1024, 0, 1, stream, &mut [arg(&a), arg(&red)])?;
        if c.n > 0 {
            let f = if plan.pipelined {
                m.funcs[5]
            } else if plan.smem {
                m.funcs[1]
            } else {
                m.funcs[2]
            };
            if plan.smem {
                dr::function::set_function_attribute(
                    f,
                    sys::CUfunction_attribute::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                    plan.smem_bytes as i32,
                )
                .map_err(driver_err("cuFuncSetAttribute"))?;
            }
            let grid = if plan.pipelined {
                // Persistent: as many clusters as can be resident at once, at most one per row.
                let resident = m.resident_clusters(gpu, f, &plan)?;
                (c.n as u32).min(resident) * plan.cluster
            } else {
                (c.n as u32) * plan.cluster
            };
            launch(f, grid, plan.threads, plan.smem_bytes as u32, plan.cluster, stream, &mut [arg(&a)])?;
        }
        if opts.reduction != Reduction::None {
            let (n, scal, one) = (c.n as i64, c.workspace, 1f32);
            launch(
                m.funcs[3],
                1,
                1024,
                0,
                1,
                stream,
                &mut [arg(&row_loss), arg(&n), arg(&scal), arg(&one), arg(&c.loss)],
            )?;
        }
    }
    Ok(())
}

/// # Safety
/// [`Gpu::bce_with_logits_raw`]'s contract (the call already validated).
pub(crate) unsafe fn bce(gpu: &Gpu, c: &BceCall, stream: u64) -> Result<()> {
    gpu.ctx.bind_to_thread().map_err(driver_err("cuCtxSetCurrent"))?;
    let m = module(gpu, c.dtype)?;
    let blocks = c.n.div_ceil(256).clamp(1, BCE_WORKSPACE_LEN) as u32;
    let none = c.reduction == Reduction::None;
    let k = if c.reduction == Reduction::Mean && c.n > 0 { 1.0 / c.n as f32 } else { 1.0 };
    let a = BceArgs {
        x: c.logits,
        t: c.targets,
        grad: c.grad,
        pos_weight: c.pos_weight,
        weight: c.weight,
        out: if none { c.loss } else { c.workspace },
        n: c.n as i64,
        pw_len: c.pos_weight_len as i64,
        w_len: c.weight_len as i64,
        k,
        per_element: i32::from(none),
    };
    // SAFETY: the kernels' parameters are (BceArgs) and (u64, i64, u64, float, u64).
    unsafe {
        if c.n > 0 {
            launch(m.funcs[4], blocks, 256, 0, 1, stream, &mut [arg(&a)])?;
        }
        if !none {
            let parts: i64 = if c.n > 0 { i64::from(blocks) } else { 0 };
            let no_scal = 0u64;
            launch(
                m.funcs[3],
                1,
                1024,
                0,
                1,
                stream,
                &mut [arg(&c.workspace), arg(&parts), arg(&no_scal), arg(&k), arg(&c.loss)],
            )?;
        }
    }
    Ok(())
}

/// A storage type of the safe API (`f32`, `half::bf16`, `half::f16`).
pub trait Elem: DeviceRepr + ValidAsZeroBits + Copy {
    /// Its [`DType`].
    const DTYPE: DType;
}
impl Elem for f32 {
    const DTYPE: DType = DType::F32;
}
impl Elem for half::bf16 {
    const DTYPE: DType = DType::BF16;
}
impl Elem for half::f16 {
    const DTYPE: DType = DType::F16;
}

fn shape_err(name: &'static str, want: usize, got: usize) -> Error {
    Error::InvalidArgument { name, reason: format!("length {got}, expected {want}") }
}

impl Gpu {
    /// The device's primary context (for allocating buffers and creating streams).
    pub fn context(&self) -> &Arc<CudaContext> {
        &self.ctx
    }

    fn check_stream(&self, stream: &CudaStream) -> Result<()> {
        if stream.context().cu_ctx() != self.ctx.cu_ctx() {
            return Err(Error::InvalidArgument {
                name: "stream",
                reason: "belongs to another context".into(),
            });
        }
        Ok(())
    }

    fn ce_shapes(len: usize, v: usize, targets: usize, weight: Option<usize>) -> Result<usize> {
        if v == 0 || !len.is_multiple_of(v) {
            return Err(Error::InvalidArgument {
                name: "logits",
                reason: format!("length {len} is not a multiple of V = {v} (V ≥ 1)"),
            });
        }
        let n = len / v;
        if targets != n {
            return Err(shape_err("targets", n, targets));
        }
        if let Some(w) = weight.filter(|&w| w != v) {
            return Err(shape_err("weight", v, w));
        }
        Ok(n)
    }

    /// Softmax cross-entropy of row-major `logits` `[N, v]` into `grad` (same shape), enqueued on
    /// `stream`; returns the loss buffer (N row losses for `Reduction::None`, else one value),
    /// ready when the stream reaches it.
    ///
    /// # Errors
    /// Shape mismatches and options as [`Gpu::cross_entropy_raw`].
    #[allow(clippy::too_many_arguments)]
    pub fn cross_entropy<T: Elem>(
        &self,
        stream: &Arc<CudaStream>,
        logits: &CudaSlice<T>,
        v: usize,
        targets: &CudaSlice<i64>,
        weight: Option<&CudaSlice<f32>>,
        options: &CrossEntropyOptions,
        grad: &mut CudaSlice<T>,
    ) -> Result<CudaSlice<f32>> {
        self.check_stream(stream)?;
        let n = Self::ce_shapes(logits.len(), v, targets.len(), weight.map(|w| w.len()))?;
        if grad.len() != logits.len() {
            return Err(shape_err("grad", logits.len(), grad.len()));
        }
        let (lp, _g1) = logits.device_ptr(stream);
        let (gp, _g3) = grad.device_ptr_mut(stream);
        // SAFETY: logits and gradient are live allocations of this context of N·v entries,
        // borrowed (the gradient mutably) until the call returns.
        unsafe { self.ce_enqueue::<T>(stream, n, v, (lp, gp), targets, weight, options) }
    }

    /// As [`Gpu::cross_entropy`], the gradient overwriting the logits.
    ///
    /// # Errors
    /// As [`Gpu::cross_entropy`].
    pub fn cross_entropy_inplace<T: Elem>(
        &self,
        stream: &Arc<CudaStream>,
        logits: &mut CudaSlice<T>,
        v: usize,
        targets: &CudaSlice<i64>,
        weight: Option<&CudaSlice<f32>>,
        options: &CrossEntropyOptions,
    ) -> Result<CudaSlice<f32>> {
        self.check_stream(stream)?;
        let n = Self::ce_shapes(logits.len(), v, targets.len(), weight.map(|w| w.len()))?;
        let (lp, _g1) = logits.device_ptr_mut(stream);
        // SAFETY: the logits are a live allocation of this context of N·v entries, borrowed
        // exclusively until the call returns; the gradient overwrites them.
        unsafe { self.ce_enqueue::<T>(stream, n, v, (lp, lp), targets, weight, options) }
    }

    /// Enqueues the cross-entropy of the logits at `ptrs.0` into the gradient at `ptrs.1` (equal
    /// for in place) with fresh loss and workspace buffers; returns the loss buffer.
    ///
    /// # Safety
    /// Both pointers address N·v entries of `T` in this context that stay alive and unused by
    /// others until the stream has run the call (the callers hold their borrows).
    #[allow(clippy::too_many_arguments)]
    unsafe fn ce_enqueue<T: Elem>(
        &self,
        stream: &Arc<CudaStream>,
        n: usize,
        v: usize,
        ptrs: (u64, u64),
        targets: &CudaSlice<i64>,
        weight: Option<&CudaSlice<f32>>,
        options: &CrossEntropyOptions,
    ) -> Result<CudaSlice<f32>> {
        let (mut loss, mut ws) = self.ce_buffers(stream, n, options.reduction)?;
        let (tp, _g2) = targets.device_ptr(stream);
        let wp = weight.map(|w| w.device_ptr(stream));
        let (loss_p, _g4) = loss.device_ptr_mut(stream);
        let (ws_p, _g5) = ws.device_ptr_mut(stream);
        let call = CrossEntropyCall {
            dtype: T::DTYPE,
            n,
            v,
            logits: ptrs.0,
            logits_stride: v,
            grad: ptrs.1,
            grad_stride: v,
            targets: tp,
            weight: wp.as_ref().map_or(0, |w| w.0),
            loss: loss_p,
            workspace: ws_p,
            options: *options,
        };
        // SAFETY: the caller's contract for the logits and gradient; the other buffers are live
        // allocations of this context of the documented lengths, their guards order them on
        // `stream`.
        unsafe { self.cross_entropy_raw(&call, stream.cu_stream() as usize as u64)? };
        drop((_g2, wp, _g4, _g5));
        Ok(loss)
    }

    fn ce_buffers(
        &self,
        stream: &Arc<CudaStream>,
        n: usize,
        reduction: Reduction,
    ) -> Result<(CudaSlice<f32>, CudaSlice<f32>)> {
        let loss_len = if reduction == Reduction::None { n.max(1) } else { 1 };
        let loss = stream.alloc_zeros::<f32>(loss_len).map_err(driver_err("cuMemAlloc"))?;
        let ws =
            stream.alloc_zeros::<f32>(cross_entropy_workspace_len(n)).map_err(driver_err("cuMemAlloc"))?;
        Ok((loss, ws))
    }

    /// Sigmoid binary cross-entropy of `logits` against `targets` (same length and dtype) into
    /// `grad`, enqueued on `stream`; `pos_weight` / `weight` of a length dividing n (broadcast
    /// over the last axis). Returns the loss buffer (n values for `Reduction::None`, else one).
    ///
    /// # Errors
    /// Shape mismatches, as [`Gpu::bce_with_logits_raw`].
    #[allow(clippy::too_many_arguments)]
    pub fn bce_with_logits<T: Elem>(
        &self,
        stream: &Arc<CudaStream>,
        logits: &CudaSlice<T>,
        targets: &CudaSlice<T>,
        pos_weight: Option<&CudaSlice<f32>>,
        weight: Option<&CudaSlice<f32>>,
        reduction: Reduction,
        grad: &mut CudaSlice<T>,
    ) -> Result<CudaSlice<f32>> {
        self.check_stream(stream)?;
        let n = logits.len();
        if targets.len() != n {
            return Err(shape_err("targets", n, targets.len()));
        }
        if grad.len() != n {
            return Err(shape_err("grad", n, grad.len()));
        }
        let loss_len = if reduction == Reduction::None { n.max(1) } else { 1 };
        let mut loss = stream.alloc_zeros::<f32>(loss_len).map_err(driver_err("cuMemAlloc"))?;
        let mut ws = stream.alloc_zeros::<f32>(BCE_WORKSPACE_LEN).map_err(driver_err("cuMemAlloc"))?;
        let (xp, _g1) = logits.device_ptr(stream);
        let (tp, _g2) = targets.device_ptr(stream);
        let pw = pos_weight.map(|p| (p.device_ptr(stream), p.len()));
        let w = weight.map(|p| (p.device_ptr(stream), p.len()));
        let (gp, _g3) = grad.device_ptr_mut(stream);
        let (loss_p, _g4) = loss.device_ptr_mut(stream);
        let (ws_p, _g5) = ws.device_ptr_mut(stream);
        let call = BceCall {
            dtype: T::DTYPE,
            n,
            logits: xp,
            targets: tp,
            grad: gp,
            pos_weight: pw.as_ref().map_or(0, |p| p.0.0),
            pos_weight_len: pw.as_ref().map_or(0, |p| p.1),
            weight: w.as_ref().map_or(0, |p| p.0.0),
            weight_len: w.as_ref().map_or(0, |p| p.1),
            loss: loss_p,
            workspace: ws_p,
            reduction,
        };
        // SAFETY: every buffer is a live allocation of this context of the documented length.
        unsafe { self.bce_with_logits_raw(&call, stream.cu_stream() as usize as u64)? };
        drop((_g1, _g2, pw, w, _g3, _g4, _g5));
        Ok(loss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;
    use std::mem::{offset_of, size_of};

    /// `static_assert`s that the CUDA argument blocks have this file's layout (size and every
    /// field's offset), and that each kernel takes the parameters its launch passes.
    fn abi_checks() -> String {
        // NVRTC has no standard headers and no offsetof: a field's offset is the first byte a
        // marker written into that field alone shows in the zeroed block (__builtin_bit_cast is
        // constexpr), and is_same is spelled out.
        let mut s = String::from(
            "\n// ABI checks\n\
             template <class A, class B> struct same_type { static constexpr bool value = false; };\n\
             template <class A> struct same_type<A, A> { static constexpr bool value = true; };\n\
             template <class T> struct raw_bytes { unsigned char b[sizeof(T)]; };\n\
             template <class F> __device__ constexpr F marker() {\n\
               raw_bytes<F> m{};\n\
               for (unsigned i = 0; i < sizeof(F); i++) m.b[i] = 0xA5;\n\
               return __builtin_bit_cast(F, m);\n\
             }\n\
             template <class T> __device__ constexpr int first_marked(const T& t) {\n\
               const raw_bytes<T> x = __builtin_bit_cast(raw_bytes<T>, t);\n\
               for (unsigned i = 0; i < sizeof(T); i++) if (x.b[i] == 0xA5) return (int)i;\n\
               return -1;\n\
             }\n",
        );
        let mut field = |ty: &str, name: &str, off: usize| {
            let _ = writeln!(
                s,
                "__device__ constexpr int offset_{ty}_{name}() {{ {ty} a{{}}; a.{name} = marker<decltype(a.{name})>(); \
                 return first_marked(a); }}\n\
                 static_assert(offset_{ty}_{name}() == {off}, \"{ty}.{name} not at offset {off}\");"
            );
        };
        macro_rules! fields {
            ($t:ident: $($f:ident),*) => { $( field(stringify!($t), stringify!($f), offset_of!($t, $f)); )* };
        }
        fields!(CeArgs: logits, grad, targets, weight, row_loss, scal, n, v, stride_in, stride_out, ignore_index,
            has_ignore, eps, cluster, per, stages, async_copy, store_exp, copy_groups);
        fields!(BceArgs: x, t, grad, pos_weight, weight, out, n, pw_len, w_len, k, per_element);
        let _ = writeln!(s, "static_assert(sizeof(CeArgs) == {}, \"CeArgs size\");", size_of::<CeArgs>());
        let _ = writeln!(s, "static_assert(sizeof(BceArgs) == {}, \"BceArgs size\");", size_of::<BceArgs>());
        // The launches pass (CeArgs, i32), (CeArgs), (u64, i64, u64, f32, u64) and (BceArgs).
        let sig = [
            ("ce_prepare", "CeArgs, int"),
            ("ce_rows_smem", "CeArgs"),
            ("ce_rows_online", "CeArgs"),
            ("reduce_sum", "unsigned long long, long long, unsigned long long, float, unsigned long long"),
            ("bce_with_logits", "BceArgs"),
            ("ce_rows_pipelined", "CeArgs"),
        ];
        assert_eq!(sig.map(|(k, _)| k), KERNEL_NAMES, "one signature per kernel, in module order");
        for (kernel, params) in sig {
            let _ = writeln!(
                s,
                "static_assert(same_type<decltype(&{kernel}), void (*)({params})>::value, \"{kernel}({params})\");"
            );
        }
        s
    }

    #[test]
    fn the_kernels_argument_blocks_and_parameters_match_the_launches() {
        if !nvrtc_present() {
            println!("skipped: no NVRTC library");
            return;
        }
        for dtype in DType::ALL {
            let src = kernel_source(dtype) + &abi_checks();
            if let Err(e) = compile_source(src, dtype, 9, 0) {
                panic!("{e}");
            }
        }
        // The checks can fail: a field moved by four bytes is caught.
        let right = r#"offset_CeArgs_logits() == 0, "CeArgs.logits not at offset 0""#;
        let checks = abi_checks();
        assert!(checks.contains(right), "{checks}");
        let moved = checks.replace(right, r#"offset_CeArgs_logits() == 4, "CeArgs.logits not at offset 4""#);
        let err = compile_source(kernel_source(DType::F32) + &moved, DType::F32, 9, 0).unwrap_err();
        assert!(err.to_string().contains("not at offset 4"), "{err}");
    }
}
