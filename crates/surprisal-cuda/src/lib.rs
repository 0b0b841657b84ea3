//! Fused softmax cross-entropy and sigmoid binary cross-entropy (loss and gradient in one kernel
//! launch sequence) on NVIDIA GPUs.
//!
//! The kernels are CUDA C ([`KERNEL_SOURCES`]), compiled at run time with NVRTC for the device's
//! own architecture (a CUBIN, `sm_XY` from its compute capability) and cached per (device, dtype).
//! The driver and NVRTC are loaded dynamically, so the crate builds without a CUDA toolkit; with
//! the cargo feature `cuda` off (the default) it still compiles and every entry point returns
//! [`Error::NotBuilt`].
//!
//! # Softmax cross-entropy ([`Gpu::cross_entropy_raw`])
//!
//! The same model, formulas and edge policies as the CPU library's
//! `surprisal::loss::softmax_cross_entropy` (and `torch.nn.functional.cross_entropy`):
//!
//! ```text
//! model     y ~ Categorical(softmax(z))
//! loss      ℓᵢ = (1 − ε)·w[yᵢ]·(−log pᵢ,yᵢ) + (ε/V)·Σ_c w_c·(−log pᵢ,c)      (0 for an ignored row)
//! gradient  ∂ℓᵢ/∂zᵢ,c = (1 − ε)·w[yᵢ]·(pᵢ,c − δ_c,yᵢ) + (ε/V)·(W·pᵢ,c − w_c),   W = Σ_c w_c
//! reduce    none: ℓ;  sum: Σ ℓᵢ;  mean: Σ ℓᵢ / Σ w[yᵢ] over the rows not ignored
//! ```
//!
//! The gradient written is that of the reduced value (for `none`, of Σ ℓᵢ). Memory traffic: the
//! logits are read once and the gradient written once (each row is kept on chip: in the shared
//! memory of one CTA, or of a thread-block cluster of 2, 4 or 8 CTAs on sm_90 and later, which
//! exchange their partial (max, Σ e) through distributed shared memory). From sm_80 each CTA
//! copies its slice into shared memory with `cp.async` and reduces each part as it lands
//! ([`Plan::copy_groups`]). Rows too long for that
//! are read twice (the second read mostly from L2). Extra memory: N + 4 floats. [`Tuning`] lists
//! the launch variants (among them a persistent, pipelined kernel with bulk copies, and stored
//! exponentials, [`Plan::store_exp`], both off by default) and [`plan`] how a launch is chosen.
//!
//! Edges (as the CPU library): the row maximum is subtracted before exponentiating; +inf logits
//! share the mass; a row of −inf only has no distribution (loss +inf where the target has mass,
//! gradient 0); a NaN logit makes its row's loss and gradient NaN; every row ignored (or Σ w_yᵢ =
//! 0 under `mean`) gives loss 0 and gradient 0. A target outside `0..V` that is not the ignore
//! index cannot be reported without a host synchronisation: its row's loss and gradient are NaN
//! (and so is a `mean`, whose divisor is then NaN).
//!
//! # Sigmoid binary cross-entropy ([`Gpu::bce_with_logits_raw`])
//!
//! ```text
//! ℓᵢ = cᵢ·(pwᵢ·yᵢ·softplus(−xᵢ) + (1 − yᵢ)·softplus(xᵢ))
//! ∂/∂xᵢ = k·cᵢ·((1 − yᵢ)·σ(xᵢ) − pwᵢ·yᵢ·σ(−xᵢ))       k = 1/n for the mean, 1 otherwise
//! ```
//!
//! as `surprisal::loss::sigmoid_binary_cross_entropy` and
//! `torch.nn.functional.binary_cross_entropy_with_logits` (`weight` c, `pos_weight` pw, both
//! broadcast over the last axis when shorter; a zero weight hides an infinite term).
//!
//! Nothing synchronises with the host: every kernel is enqueued on the caller's stream and results
//! are ready when that stream reaches them. Reductions are deterministic (fixed trees, no float
//! atomics).

use std::fmt;

#[cfg(feature = "cuda")]
mod gpu;

#[cfg(feature = "cuda")]
pub use cudarc;
#[cfg(feature = "cuda")]
pub use gpu::Elem;

/// A CUBIN and the compiler's log.
#[derive(Clone, Debug)]
pub struct Cubin {
    /// The device code image, loadable with `cuModuleLoadData`.
    pub image: Vec<u8>,
    /// NVRTC's log: warnings, if any, and ptxas's resource report for every kernel (registers,
    /// stack frame, spill stores and loads, static shared memory), as `ptxas -v` prints it.
    pub log: String,
}

/// The CUDA C sources of the kernels (shared helpers, softmax cross-entropy, sigmoid BCE), in
/// the order they are concatenated after the dtype prefix.
pub const KERNEL_SOURCES: [&str; 3] = [
    include_str!("kernels/common.cuh"),
    include_str!("kernels/cross_entropy.cu"),
    include_str!("kernels/bce.cu"),
];

/// Names of the kernels every compiled module exports.
pub const KERNEL_NAMES: [&str; 6] =
    ["ce_prepare", "ce_rows_smem", "ce_rows_online", "reduce_sum", "bce_with_logits", "ce_rows_pipelined"];

/// Errors of this crate. No function panics on bad input or a missing library.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The crate was compiled without the `cuda` feature.
    #[error("surprisal-cuda was built without the `cuda` feature")]
    NotBuilt,
    /// The CUDA driver library (libcuda) could not be loaded, or has no device.
    #[error("no CUDA driver: {0}")]
    NoDriver(String),
    /// The NVRTC library could not be loaded.
    #[error("no NVRTC library (libnvrtc, found through LD_LIBRARY_PATH or the system's library path): {0}")]
    NoNvrtc(String),
    /// NVRTC rejected the kernel source (the compiler's log).
    #[error("NVRTC compilation for {arch} ({dtype}) failed: {log}")]
    Compile {
        /// `sm_XY`.
        arch: String,
        /// The storage type the module was specialised for.
        dtype: &'static str,
        /// The compiler log.
        log: String,
    },
    /// A driver call failed.
    #[error("CUDA driver error in {call}: {message}")]
    Driver {
        /// What was being done.
        call: &'static str,
        /// The driver's error name.
        message: String,
    },
    /// An argument is invalid (a shape, a null pointer, a misaligned pointer, ...).
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// Which argument.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Storage type of the logits (and of the gradient, which always has the logits' type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// IEEE binary32.
    F32,
    /// bfloat16 (8-bit exponent, 7-bit mantissa).
    BF16,
    /// IEEE binary16.
    F16,
}

impl DType {
    /// Every storage type.
    pub const ALL: [DType; 3] = [DType::F32, DType::BF16, DType::F16];

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::BF16 | DType::F16 => 2,
        }
    }

    /// The name used by PyTorch and by [`DType::parse`] (`float32`, `bfloat16`, `float16`).
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::BF16 => "bfloat16",
            DType::F16 => "float16",
        }
    }

    /// Parses `float32`/`f32`, `bfloat16`/`bf16`, `float16`/`f16`/`half`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for any other name.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "float32" | "f32" | "float" => Ok(DType::F32),
            "bfloat16" | "bf16" => Ok(DType::BF16),
            "float16" | "f16" | "half" => Ok(DType::F16),
            _ => Err(Error::InvalidArgument { name: "dtype", reason: format!("unsupported dtype {s:?}") }),
        }
    }

    /// The `SURPRISAL_DTYPE` code the kernel source is specialised with.
    fn code(self) -> u32 {
        match self {
            DType::F32 => 0,
            DType::BF16 => 1,
            DType::F16 => 2,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the per-row (or per-element) losses are reduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    /// Per-row (per-element) losses; the gradient is that of their sum.
    None,
    /// Σ ℓ.
    Sum,
    /// Weighted mean Σ ℓᵢ / Σ w_yᵢ (cross-entropy) or Σ ℓᵢ / n (binary cross-entropy).
    Mean,
}

impl Reduction {
    /// Parses `none`, `sum` or `mean`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for any other name.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(Reduction::None),
            "sum" => Ok(Reduction::Sum),
            "mean" => Ok(Reduction::Mean),
            _ => Err(Error::InvalidArgument {
                name: "reduction",
                reason: format!("{s:?} is not none, sum or mean"),
            }),
        }
    }

    #[cfg_attr(not(feature = "cuda"), allow(dead_code))]
    fn code(self) -> i32 {
        match self {
            Reduction::None => 0,
            Reduction::Sum => 1,
            Reduction::Mean => 2,
        }
    }
}

/// Options of the softmax cross-entropy (PyTorch's defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CrossEntropyOptions {
    /// `Mean` by default.
    pub reduction: Reduction,
    /// Rows whose target equals this index contribute nothing (default `Some(-100)`).
    pub ignore_index: Option<i64>,
    /// ε ∈ [0, 1]: the target becomes (1 − ε)·onehot(y) + ε/V.
    pub label_smoothing: f32,
}

impl Default for CrossEntropyOptions {
    fn default() -> Self {
        CrossEntropyOptions { reduction: Reduction::Mean, ignore_index: Some(-100), label_smoothing: 0.0 }
    }
}

/// One softmax cross-entropy call on raw device pointers (all in the current context of the
/// device, all `u64` device addresses; `0` means "absent" where allowed).
#[derive(Clone, Copy, Debug)]
pub struct CrossEntropyCall {
    /// Storage type of `logits` and `grad`.
    pub dtype: DType,
    /// Rows N.
    pub n: usize,
    /// Classes V (≥ 1).
    pub v: usize,
    /// Logits `[N, V]`, row i at `logits + i·logits_stride` elements, unit stride within a row.
    pub logits: u64,
    /// Row stride of the logits, in elements (≥ V).
    pub logits_stride: usize,
    /// Gradient `[N, V]` of the reduced loss, same dtype; may equal `logits` (in place, then with
    /// the same stride).
    pub grad: u64,
    /// Row stride of the gradient, in elements (≥ V).
    pub grad_stride: usize,
    /// Class indices, `i64 [N]`.
    pub targets: u64,
    /// Class weights `f32 [V]` (finite, ≥ 0), or 0 for none.
    pub weight: u64,
    /// The loss, `f32`: N row losses for [`Reduction::None`], one value otherwise.
    pub loss: u64,
    /// Scratch, `f32 [cross_entropy_workspace_len(N)]`, 16-byte aligned.
    pub workspace: u64,
    /// Reduction, ignore index and label smoothing.
    pub options: CrossEntropyOptions,
}

/// f32 entries of the scratch buffer of a softmax cross-entropy call with `n` rows (the
/// reduction factor and Σ w, then the N row losses).
pub fn cross_entropy_workspace_len(n: usize) -> usize {
    n + 4
}

/// f32 entries of the scratch buffer of a binary cross-entropy call (per-block partial sums).
pub const BCE_WORKSPACE_LEN: usize = 1024;

/// One sigmoid binary cross-entropy call on raw device pointers (element-wise, flattened).
#[derive(Clone, Copy, Debug)]
pub struct BceCall {
    /// Storage type of `logits`, `targets` and `grad`.
    pub dtype: DType,
    /// Elements n.
    pub n: usize,
    /// Logits `[n]`, contiguous.
    pub logits: u64,
    /// Targets `[n]` in [0, 1] (soft targets allowed), contiguous, same dtype.
    pub targets: u64,
    /// Gradient `[n]` of the reduced loss, same dtype; may equal `logits`.
    pub grad: u64,
    /// `f32 [pos_weight_len]`, element i uses entry `i % pos_weight_len`; 0 for none.
    pub pos_weight: u64,
    /// Length of `pos_weight` (dividing n), ignored when absent.
    pub pos_weight_len: usize,
    /// Element weights `f32 [weight_len]`, element i uses entry `i % weight_len`; 0 for none.
    pub weight: u64,
    /// Length of `weight` (dividing n), ignored when absent.
    pub weight_len: usize,
    /// The loss, `f32`: n values for [`Reduction::None`], one otherwise.
    pub loss: u64,
    /// Scratch, `f32 [BCE_WORKSPACE_LEN]`.
    pub workspace: u64,
    /// Reduction (`Mean` divides by n).
    pub reduction: Reduction,
}

/// Which cross-entropy kernel runs and how it is launched (see [`plan`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The row slice is kept in shared memory (one read); otherwise it is read twice.
    pub smem: bool,
    /// The pipelined kernel (`ce_rows_pipelined`, sm_90): persistent clusters that keep `stages`
    /// slices in shared memory, the next rows' in flight as bulk copies while the current row is
    /// reduced and written. Taken only for rows of whole 16-byte packs (a 16-byte aligned logits
    /// pointer and row stride, and V a multiple of 16 bytes; [`Gpu::plan_call`]).
    pub pipelined: bool,
    /// Slices per CTA in shared memory (pipelined; 0 otherwise).
    pub stages: u32,
    /// The one-read kernel copies its slice to shared memory with `cp.async` (sm_80 and later)
    /// before pass 1, every load of the slice in flight at once, instead of through registers.
    pub async_copy: bool,
    /// Commit groups of that copy (1 to 4; 0 without `async_copy`): each thread's first groups
    /// hold `UNROLL` = 4 of its 16-byte packs each and the last the rest, and pass 1 reduces
    /// each group as soon as it has landed, while the later ones are still in flight.
    pub copy_groups: u32,
    /// Pass 1 replaces each logit of the slice in shared memory by its exponential (f32, or a
    /// scaled f16: see the kernels' `common.cuh`), so that pass 2 needs none: one exponential per
    /// element instead of two. Taken by the rows it applies to (no class weights, no label
    /// smoothing) when the slice is in shared memory before pass 1 (`async_copy` or `pipelined`).
    pub store_exp: bool,
    /// CTAs per row (a thread-block cluster when > 1).
    pub cluster: u32,
    /// 16-byte packs per CTA.
    pub packs_per_cta: usize,
    /// Threads per CTA.
    pub threads: u32,
    /// Dynamic shared memory per CTA, bytes (`stages` slices when pipelined).
    pub smem_bytes: usize,
}

/// Most slices a pipelined CTA keeps (`MAX_STAGES` in the kernels).
pub const MAX_STAGES: u32 = 4;

/// Launch tuning (defaults suit an H100 and H200). The environment overrides them when a device
/// is opened: `SURPRISAL_CUDA_SLICE_BYTES` (the slice size), `SURPRISAL_CUDA_ASYNC=0` (the
/// one-read kernel loads through registers), `SURPRISAL_CUDA_PIPELINE=1` (the pipelined kernel,
/// off by default: slower than the one-read kernel on an H200), `SURPRISAL_CUDA_STAGES` (2..4),
/// `SURPRISAL_CUDA_THREADS` (the pipelined kernel's threads per CTA, 128..512) and
/// `SURPRISAL_CUDA_STORE_EXP=1` (stored exponentials, [`Plan::store_exp`]; off by default until
/// timed on a device) and `SURPRISAL_CUDA_COPY_GROUPS` (1..4, [`Plan::copy_groups`]; 1 waits for
/// the whole slice before pass 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuning {
    /// Largest per-CTA slice kept in shared memory, bytes.
    pub max_slice_bytes: usize,
    /// Largest cluster (1, 2, 4 or 8; clusters need compute capability ≥ 9.0).
    pub max_cluster: u32,
    /// Always take the two-read kernel.
    pub force_online: bool,
    /// Take the pipelined kernel where it applies (compute capability ≥ 9.0, aligned rows).
    pub pipeline: bool,
    /// The one-read kernel copies its slice with `cp.async` (compute capability ≥ 8.0).
    pub async_copy: bool,
    /// Stored exponentials where the slice is in shared memory before pass 1 ([`Plan::store_exp`]).
    pub store_exp: bool,
    /// Commit groups of the `cp.async` copy, 1 to 4 ([`Plan::copy_groups`]).
    pub copy_groups: u32,
    /// Pipelined slices per CTA (0: as many as fit, at most [`MAX_STAGES`]).
    pub stages: u32,
    /// Most threads per CTA of the pipelined kernel.
    pub pipeline_threads: u32,
}

impl Tuning {
    /// The built-in defaults: [`Tuning::default`] with none of the environment variables set.
    pub const BUILT_IN: Tuning = Tuning {
        max_slice_bytes: 64 << 10,
        max_cluster: 8,
        force_online: false,
        pipeline: false,
        async_copy: true,
        store_exp: false,
        copy_groups: 4,
        stages: 0,
        pipeline_threads: 512,
    };
}

impl Default for Tuning {
    /// [`Tuning::BUILT_IN`] with the environment's overrides (see [`Tuning`]).
    fn default() -> Self {
        fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
            std::env::var(name).ok().and_then(|s| s.trim().parse().ok())
        }
        let b = Tuning::BUILT_IN;
        Tuning {
            max_slice_bytes: env("SURPRISAL_CUDA_SLICE_BYTES").unwrap_or(b.max_slice_bytes),
            pipeline: env::<u32>("SURPRISAL_CUDA_PIPELINE").map_or(b.pipeline, |p| p != 0),
            async_copy: env::<u32>("SURPRISAL_CUDA_ASYNC").map_or(b.async_copy, |a| a != 0),
            store_exp: env::<u32>("SURPRISAL_CUDA_STORE_EXP").map_or(b.store_exp, |e| e != 0),
            copy_groups: env::<u32>("SURPRISAL_CUDA_COPY_GROUPS").map_or(b.copy_groups, |g| g.clamp(1, 4)),
            stages: env::<u32>("SURPRISAL_CUDA_STAGES").map_or(b.stages, |s| s.clamp(2, MAX_STAGES)),
            pipeline_threads: env::<u32>("SURPRISAL_CUDA_THREADS")
                .map_or(b.pipeline_threads, |t| t.clamp(128, 512) / 32 * 32),
            ..b
        }
    }
}

/// Shared memory the launch plans leave for the kernels' static arrays, bytes.
const STATIC_SMEM_RESERVE: usize = 2048;

/// The cross-entropy launch for rows of `v` elements of `dtype` on a device of compute capability
/// `cc_major`.x whose CTAs may use up to `smem_optin` bytes of shared memory.
///
/// From sm_90, for V·size a multiple of 16 bytes: the pipelined kernel with the smallest cluster
/// (1, 2, 4, 8) whose slice fits in the slice budget, and as many slices per CTA as fit (2 to
/// [`MAX_STAGES`]). Otherwise the smallest cluster whose per-CTA slice fits in the slice budget
/// (one-read kernel), else the two-read kernel with the largest allowed cluster.
///
/// ```text
/// packs  = ⌈(V + VEC − 1) / VEC⌉     (the worst row misalignment; VEC = 16 bytes / element size)
///          V / VEC                   (pipelined: aligned rows)
/// per    = ⌈packs / cluster⌉,  slice = 16·per bytes ≤ min(max_slice_bytes, smem_optin − 2 KiB)
/// stages = ⌊(smem_optin − 2 KiB) / slice⌋ clamped to MAX_STAGES   (pipelined, ≥ 2)
/// ```
pub fn plan(dtype: DType, v: usize, cc_major: i32, smem_optin: usize, tuning: &Tuning) -> Plan {
    let vec = 16 / dtype.size();
    let cmax = if cc_major >= 9 { tuning.max_cluster.clamp(1, 8) } else { 1 };
    let avail = smem_optin.saturating_sub(STATIC_SMEM_RESERVE);
    let budget = tuning.max_slice_bytes.min(avail);
    // The one-read and two-read kernels are built for at most 256 threads (three CTAs per SM under
    // the register budget); the pipelined one for 512 (one CTA per SM).
    let threads = |per: usize, most: u32| {
        if per >= 2048 {
            most
        } else if per >= 1024 {
            256.min(most)
        } else {
            128
        }
    };
    let clusters = [1u32, 2, 4, 8].into_iter().take_while(|&c| c <= cmax);
    if cc_major >= 9 && tuning.pipeline && !tuning.force_online && v > 0 && v.is_multiple_of(vec) {
        let packs = v / vec;
        for c in clusters.clone() {
            let per = packs.div_ceil(c as usize);
            let slice = per * 16;
            if slice > budget {
                continue;
            }
            let fit = (avail / slice).min(MAX_STAGES as usize) as u32;
            let stages = if tuning.stages > 0 { tuning.stages.min(fit) } else { fit };
            if stages >= 2 {
                let most = tuning.pipeline_threads.clamp(128, 512);
                return Plan {
                    smem: true,
                    pipelined: true,
                    stages,
                    async_copy: false,
                    copy_groups: 0,
                    store_exp: tuning.store_exp,
                    cluster: c,
                    packs_per_cta: per,
                    threads: threads(per, most),
                    smem_bytes: stages as usize * slice,
                };
            }
        }
    }
    let packs = (v + 2 * vec - 2) / vec;
    if !tuning.force_online {
        for c in clusters {
            let per = packs.div_ceil(c as usize).max(1);
            if per * 16 <= budget {
                let async_copy = tuning.async_copy && cc_major >= 8;
                return Plan {
                    smem: true,
                    pipelined: false,
                    stages: 0,
                    async_copy,
                    copy_groups: if async_copy { tuning.copy_groups.clamp(1, 4) } else { 0 },
                    store_exp: tuning.store_exp && async_copy,
                    cluster: c,
                    packs_per_cta: per,
                    threads: threads(per, 256),
                    smem_bytes: per * 16,
                };
            }
        }
    }
    let c = [8u32, 4, 2, 1].into_iter().find(|&c| c <= cmax).unwrap_or(1);
    let per = packs.div_ceil(c as usize).max(1);
    Plan {
        smem: false,
        pipelined: false,
        stages: 0,
        async_copy: false,
        copy_groups: 0,
        store_exp: false,
        cluster: c,
        packs_per_cta: per,
        threads: threads(per, 256),
        smem_bytes: 0,
    }
}

/// The full NVRTC source for `dtype`: the dtype prefix, then [`KERNEL_SOURCES`].
pub fn kernel_source(dtype: DType) -> String {
    let mut s = format!("#define SURPRISAL_DTYPE {}\n", dtype.code());
    for part in KERNEL_SOURCES {
        s.push_str(part);
        s.push('\n');
    }
    s
}

/// Whether the NVRTC library can be loaded (never panics).
pub fn nvrtc_available() -> bool {
    #[cfg(feature = "cuda")]
    {
        gpu::nvrtc_present()
    }
    #[cfg(not(feature = "cuda"))]
    {
        false
    }
}

/// The NVRTC library's version (major, minor), or `None` where it cannot be loaded.
pub fn nvrtc_version() -> Option<(i32, i32)> {
    #[cfg(feature = "cuda")]
    {
        gpu::nvrtc_version()
    }
    #[cfg(not(feature = "cuda"))]
    {
        None
    }
}

/// Whether the CUDA driver library can be loaded and reports at least one device (never panics).
pub fn driver_available() -> bool {
    #[cfg(feature = "cuda")]
    {
        gpu::driver_has_device()
    }
    #[cfg(not(feature = "cuda"))]
    {
        false
    }
}

/// Compiles the kernels for `dtype` and the architecture `sm_{major}{minor}` with NVRTC and
/// returns the CUBIN and the log (needs libnvrtc only, no driver or device). Options: `-std=c++17`,
/// `--ptxas-options=-v` (the resource report in [`Cubin::log`]), no fast math.
///
/// # Errors
/// [`Error::NotBuilt`], [`Error::NoNvrtc`], or [`Error::Compile`] with the compiler's log.
pub fn compile_cubin(dtype: DType, major: i32, minor: i32) -> Result<Cubin> {
    #[cfg(feature = "cuda")]
    {
        gpu::compile(dtype, major, minor)
    }
    #[cfg(not(feature = "cuda"))]
    {
        let _ = (dtype, major, minor);
        Err(Error::NotBuilt)
    }
}

/// A CUDA device: its primary context (the one PyTorch uses), compute capability and the
/// launch tuning.
pub struct Gpu {
    ordinal: usize,
    cc: (i32, i32),
    smem_optin: usize,
    #[cfg_attr(not(feature = "cuda"), allow(dead_code))]
    sm_count: u32,
    tuning: Tuning,
    #[cfg(feature = "cuda")]
    ctx: std::sync::Arc<cudarc::driver::CudaContext>,
}

impl fmt::Debug for Gpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gpu").field("ordinal", &self.ordinal).field("cc", &self.cc).finish()
    }
}

impl Gpu {
    /// Retains the primary context of device `ordinal` (checking first that the driver library
    /// can be loaded).
    ///
    /// # Errors
    /// [`Error::NotBuilt`], [`Error::NoDriver`] (no library, no such device), [`Error::Driver`].
    pub fn new(ordinal: usize) -> Result<Gpu> {
        #[cfg(feature = "cuda")]
        {
            gpu::open(ordinal)
        }
        #[cfg(not(feature = "cuda"))]
        {
            let _ = ordinal;
            Err(Error::NotBuilt)
        }
    }

    /// The device ordinal.
    pub fn ordinal(&self) -> usize {
        self.ordinal
    }

    /// Compute capability (major, minor).
    pub fn compute_capability(&self) -> (i32, i32) {
        self.cc
    }

    /// The launch tuning in use.
    pub fn tuning(&self) -> Tuning {
        self.tuning
    }

    /// Replaces the launch tuning (results do not depend on it beyond rounding of the reductions).
    pub fn set_tuning(&mut self, tuning: Tuning) {
        self.tuning = tuning;
    }

    /// The cross-entropy launch this device takes for rows of `v` elements of `dtype`.
    pub fn plan(&self, dtype: DType, v: usize) -> Plan {
        plan(dtype, v, self.cc.0, self.smem_optin, &self.tuning)
    }

    /// The launch `call` takes: [`Gpu::plan`], without the pipelined kernel unless the logits'
    /// pointer and row stride are 16-byte aligned (its bulk copies move whole 16-byte packs).
    pub fn plan_call(&self, call: &CrossEntropyCall) -> Plan {
        let row_bytes = (call.logits_stride * call.dtype.size()) as u64;
        let whole_packs = call.logits.is_multiple_of(16) && row_bytes.is_multiple_of(16);
        let tuning = Tuning { pipeline: self.tuning.pipeline && whole_packs, ..self.tuning };
        plan(call.dtype, call.v, self.cc.0, self.smem_optin, &tuning)
    }

    /// Enqueues the softmax cross-entropy (loss and gradient) on `stream` (a `CUstream`, 0 for the
    /// legacy default stream). Nothing waits for the GPU.
    ///
    /// ```text
    /// a = (1 − ε)·w[yᵢ],  b = ε/V,  W = Σ_c w_c,  k = 1/Σ_{i not ignored} w[yᵢ] (mean) or 1
    /// ℓᵢ     = a·(log sᵢ − dᵢ,yᵢ) + b·(W·log sᵢ − Σ_{w_c>0} w_c·dᵢ,c)     dᵢ,c = zᵢ,c − max_c zᵢ,c
    /// gradᵢ,c = k·((a + b·W)·pᵢ,c − b·w_c − a·[c = yᵢ])                  pᵢ,c = e^{dᵢ,c}/sᵢ
    /// loss   = ℓ (none, N values) | Σ ℓᵢ (sum) | k·Σ ℓᵢ (mean)           ignored rows: ℓ = 0, grad = 0
    /// ```
    ///
    /// Kernels: `ce_prepare` (k and W, one block), then one launch over the rows ([`Plan`]: the
    /// row slice in shared memory, a cluster of CTAs per row from sm_90, or two reads), then
    /// `reduce_sum` (one block, deterministic) for sum and mean.
    ///
    /// # Safety
    /// Every pointer of `call` is a device address in this device's primary context, valid for the
    /// extent its field documents (rows of `stride` elements, last row V elements) until the
    /// stream has run the kernels, with the dtype given; nothing else writes them meanwhile;
    /// `grad` does not overlap `logits` unless it is exactly `logits` with the same stride;
    /// `stream` is a live stream of this context.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a shape, null or misaligned pointer or option out of range;
    /// [`Error::Compile`] / [`Error::Driver`] from compiling or launching.
    pub unsafe fn cross_entropy_raw(&self, call: &CrossEntropyCall, stream: u64) -> Result<()> {
        check_ce(call)?;
        #[cfg(feature = "cuda")]
        {
            // SAFETY: the caller's contract.
            unsafe { gpu::cross_entropy(self, call, stream) }
        }
        #[cfg(not(feature = "cuda"))]
        {
            let _ = stream;
            Err(Error::NotBuilt)
        }
    }

    /// Enqueues the sigmoid binary cross-entropy on logits (loss and gradient) on `stream`.
    ///
    /// ```text
    /// ℓᵢ = cᵢ·(pwᵢ·yᵢ·softplus(−xᵢ) + (1 − yᵢ)·softplus(xᵢ))      softplus(x) = max(x, 0) + log1p(e^{−|x|})
    /// gradᵢ = k·cᵢ·((1 − yᵢ)·σ(xᵢ) − pwᵢ·yᵢ·σ(−xᵢ))               k = 1/n (mean) or 1; 0 where cᵢ = 0
    /// loss = ℓ (none, n values) | Σ ℓᵢ (sum) | Σ ℓᵢ / n (mean)
    /// ```
    ///
    /// One grid-stride launch (per-block partial sums in a fixed order), then `reduce_sum`.
    ///
    /// # Safety
    /// As [`Gpu::cross_entropy_raw`]: every pointer valid for its documented extent on this
    /// device, `grad` either exactly `logits` or disjoint from it.
    ///
    /// # Errors
    /// As [`Gpu::cross_entropy_raw`].
    pub unsafe fn bce_with_logits_raw(&self, call: &BceCall, stream: u64) -> Result<()> {
        check_bce(call)?;
        #[cfg(feature = "cuda")]
        {
            // SAFETY: the caller's contract.
            unsafe { gpu::bce(self, call, stream) }
        }
        #[cfg(not(feature = "cuda"))]
        {
            let _ = stream;
            Err(Error::NotBuilt)
        }
    }
}

fn invalid(name: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidArgument { name, reason: reason.into() }
}

fn check_ptr(name: &'static str, p: u64, align: u64, required: bool) -> Result<()> {
    if p == 0 {
        return if required { Err(invalid(name, "null device pointer")) } else { Ok(()) };
    }
    if !p.is_multiple_of(align) {
        return Err(invalid(name, format!("address {p:#x} is not {align}-byte aligned")));
    }
    Ok(())
}

/// Validates a cross-entropy call (shapes, pointers, options) without touching the device.
fn check_ce(c: &CrossEntropyCall) -> Result<()> {
    let size = c.dtype.size() as u64;
    if c.v == 0 {
        return Err(invalid("v", "a categorical model needs at least one class"));
    }
    if c.logits_stride < c.v {
        return Err(invalid("logits_stride", format!("{} < V = {}", c.logits_stride, c.v)));
    }
    if c.grad_stride < c.v {
        return Err(invalid("grad_stride", format!("{} < V = {}", c.grad_stride, c.v)));
    }
    if c.grad == c.logits && c.grad_stride != c.logits_stride {
        return Err(invalid("grad_stride", "an in-place gradient must have the logits' stride"));
    }
    if c.n.checked_mul(8).is_none_or(|x| x > i32::MAX as usize) || c.v > 1 << 30 {
        return Err(invalid("n", format!("N = {}, V = {} exceed the launch limits", c.n, c.v)));
    }
    check_ptr("logits", c.logits, size, true)?;
    check_ptr("grad", c.grad, size, true)?;
    check_ptr("targets", c.targets, 8, true)?;
    check_ptr("weight", c.weight, 4, false)?;
    check_ptr("loss", c.loss, 4, true)?;
    check_ptr("workspace", c.workspace, 16, true)?;
    let eps = c.options.label_smoothing;
    if !(0.0..=1.0).contains(&eps) {
        return Err(invalid("label_smoothing", format!("{eps} is not in [0, 1]")));
    }
    Ok(())
}

/// Validates a binary cross-entropy call.
fn check_bce(c: &BceCall) -> Result<()> {
    let size = c.dtype.size() as u64;
    check_ptr("logits", c.logits, size, true)?;
    check_ptr("targets", c.targets, size, true)?;
    check_ptr("grad", c.grad, size, true)?;
    check_ptr("pos_weight", c.pos_weight, 4, false)?;
    check_ptr("weight", c.weight, 4, false)?;
    check_ptr("loss", c.loss, 4, true)?;
    check_ptr("workspace", c.workspace, 4, true)?;
    for (name, p, len) in [("pos_weight", c.pos_weight, c.pos_weight_len), ("weight", c.weight, c.weight_len)]
    {
        if p != 0 && (len == 0 || (c.n > 0 && !c.n.is_multiple_of(len))) {
            return Err(invalid(name, format!("length {len} does not divide n = {}", c.n)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> CrossEntropyCall {
        CrossEntropyCall {
            dtype: DType::BF16,
            n: 4,
            v: 10,
            logits: 0x1000,
            logits_stride: 10,
            grad: 0x2000,
            grad_stride: 10,
            targets: 0x3000,
            weight: 0,
            loss: 0x4000,
            workspace: 0x5000,
            options: CrossEntropyOptions::default(),
        }
    }

    #[test]
    fn plans_follow_the_slice_budget() {
        let t = Tuning::BUILT_IN;
        let h100 = 227 << 10;
        // 128256 bf16 = 250.5 KiB: four CTAs of ≤ 64 KiB.
        let p = plan(DType::BF16, 128_256, 9, h100, &t);
        assert_eq!((p.smem, p.pipelined, p.cluster, p.threads), (true, false, 4, 256));
        assert!(p.smem_bytes <= 64 << 10 && p.packs_per_cta * 4 * 8 >= 128_256 + 7);
        // 32000 bf16 fits one CTA.
        let p = plan(DType::BF16, 32_000, 9, h100, &t);
        assert_eq!((p.smem, p.cluster), (true, 1));
        // f32 rows of 128256 need 8 CTAs; larger ones the two-read kernel.
        assert_eq!(plan(DType::F32, 128_256, 9, h100, &t).cluster, 8);
        let p = plan(DType::F32, 1 << 20, 9, h100, &t);
        assert_eq!((p.smem, p.cluster, p.smem_bytes), (false, 8, 0));
        // No clusters before sm_90.
        let p = plan(DType::BF16, 128_256, 8, 163 << 10, &t);
        assert_eq!((p.smem, p.cluster), (false, 1));
        assert_eq!(
            plan(DType::BF16, 1, 8, 163 << 10, &t),
            Plan {
                smem: true,
                pipelined: false,
                stages: 0,
                async_copy: true,
                copy_groups: 4,
                store_exp: false,
                cluster: 1,
                packs_per_cta: 1,
                threads: 128,
                smem_bytes: 16
            }
        );
        let forced = Tuning { force_online: true, ..t };
        assert!(!plan(DType::BF16, 7, 9, h100, &forced).smem);
        // cp.async from sm_80, and only when asked.
        assert!(plan(DType::BF16, 32_000, 8, 163 << 10, &t).async_copy);
        assert!(!plan(DType::BF16, 32_000, 7, 96 << 10, &t).async_copy);
        assert!(!plan(DType::BF16, 32_000, 9, h100, &Tuning { async_copy: false, ..t }).async_copy);
        // Its commit groups: as asked (1..4), none without cp.async.
        assert_eq!(plan(DType::BF16, 32_000, 9, h100, &Tuning { copy_groups: 1, ..t }).copy_groups, 1);
        assert_eq!(plan(DType::BF16, 32_000, 9, h100, &Tuning { copy_groups: 9, ..t }).copy_groups, 4);
        assert_eq!(plan(DType::BF16, 32_000, 7, 96 << 10, &t).copy_groups, 0);
        // Stored exponentials only when asked, and only where the slice is in shared memory first.
        let ex = Tuning { store_exp: true, ..t };
        assert!(plan(DType::BF16, 128_256, 9, h100, &ex).store_exp);
        assert!(!plan(DType::BF16, 128_256, 9, h100, &Tuning { async_copy: false, ..ex }).store_exp);
        assert!(!plan(DType::F32, 1 << 20, 9, h100, &ex).store_exp);
        assert!(!plan(DType::BF16, 32_000, 7, 96 << 10, &ex).store_exp);

        // The pipelined kernel: sm_90, V·size a multiple of 16 bytes.
        let t = Tuning { pipeline: true, ..t };
        // 128256 bf16: exactly 16032 packs, four CTAs of 4008 packs, three slices each.
        let p = plan(DType::BF16, 128_256, 9, h100, &t);
        assert_eq!(
            p,
            Plan {
                smem: true,
                pipelined: true,
                stages: 3,
                async_copy: false,
                copy_groups: 0,
                store_exp: false,
                cluster: 4,
                packs_per_cta: 4008,
                threads: 512,
                smem_bytes: 3 * 4008 * 16
            }
        );
        // 32000 bf16: one CTA per row, three slices; two when asked.
        let p = plan(DType::BF16, 32_000, 9, h100, &t);
        assert_eq!((p.pipelined, p.cluster, p.stages, p.smem_bytes), (true, 1, 3, 3 * 64_000));
        let p = plan(DType::BF16, 32_000, 9, h100, &Tuning { stages: 2, ..t });
        assert_eq!((p.pipelined, p.stages, p.smem_bytes), (true, 2, 2 * 64_000));
        // Short rows: four slices, fewer threads.
        let p = plan(DType::F32, 1000, 9, h100, &t);
        assert_eq!((p.pipelined, p.cluster, p.stages, p.threads, p.packs_per_cta), (true, 1, 4, 128, 250));
        // Not a whole number of packs, sm_80, or switched off: the other kernels.
        assert!(!plan(DType::BF16, 50_257, 9, h100, &t).pipelined);
        assert!(!plan(DType::BF16, 32_000, 8, 163 << 10, &t).pipelined);
        assert!(!plan(DType::BF16, 32_000, 9, h100, &Tuning { pipeline: false, ..t }).pipelined);
        assert!(plan(DType::BF16, 32_000, 9, h100, &Tuning { store_exp: true, ..t }).store_exp);
        // Rows too long for two slices per CTA in the largest cluster: not pipelined.
        let p = plan(DType::F32, 1 << 20, 9, h100, &t);
        assert_eq!((p.pipelined, p.smem), (false, false));
    }

    #[test]
    fn calls_are_validated_before_any_device_work() {
        assert!(check_ce(&call()).is_ok());
        let bad = [
            CrossEntropyCall { v: 0, ..call() },
            CrossEntropyCall { logits_stride: 9, ..call() },
            CrossEntropyCall { grad: 0x1000, grad_stride: 12, ..call() },
            CrossEntropyCall { logits: 0x1001, ..call() },
            CrossEntropyCall { targets: 0x3004, ..call() },
            CrossEntropyCall { workspace: 0x5004, ..call() },
            CrossEntropyCall { loss: 0, ..call() },
            CrossEntropyCall {
                options: CrossEntropyOptions { label_smoothing: 1.5, ..Default::default() },
                ..call()
            },
        ];
        for c in bad {
            assert!(matches!(check_ce(&c), Err(Error::InvalidArgument { .. })), "{c:?}");
        }
        let b = BceCall {
            dtype: DType::F32,
            n: 12,
            logits: 0x100,
            targets: 0x200,
            grad: 0x300,
            pos_weight: 0x400,
            pos_weight_len: 5,
            weight: 0,
            weight_len: 0,
            loss: 0x500,
            workspace: 0x600,
            reduction: Reduction::Mean,
        };
        assert!(check_bce(&b).is_err());
        assert!(check_bce(&BceCall { pos_weight_len: 4, ..b }).is_ok());
    }

    #[test]
    fn names_parse() {
        for d in DType::ALL {
            assert_eq!(DType::parse(d.name()).unwrap(), d);
        }
        assert!(DType::parse("int8").is_err());
        assert_eq!(Reduction::parse("sum").unwrap(), Reduction::Sum);
        assert!(Reduction::parse("batchmean").is_err());
        assert!(kernel_source(DType::F16).starts_with("#define SURPRISAL_DTYPE 2\n"));
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn without_the_feature_every_entry_point_says_so() {
        assert_eq!(Gpu::new(0).unwrap_err(), Error::NotBuilt);
        assert_eq!(compile_cubin(DType::F32, 9, 0).unwrap_err(), Error::NotBuilt);
        assert!(!nvrtc_available() && !driver_available());
    }
}
