//! `surprisal bench cross-entropy`: times the fused softmax cross-entropy (loss + gradient)
//! against the memory floor, in one process, as the median of several runs after a warm-up:
//!
//! - **copy**: a parallel chunked copy of the same bytes (the logits read once, a gradient-sized
//!   buffer written once, same thread count), the floor any loss + gradient has to pay;
//! - **fused**: [`surprisal::kernel::cross_entropy_f32`] / [`surprisal::kernel::cross_entropy_bf16`];
//! - **naive**: a plain three-pass implementation (log-softmax into an N×V f32 buffer, gather the
//!   target log-probabilities, softmax − one-hot), scalar code, rows over the same threads;
//! - **candle**: candle-nn's `cross_entropy` and its backward, with the cargo feature
//!   `bench-candle` (null otherwise).
//!
//! Inputs come from a seeded generator: logits ≈ N(0, 3²), targets uniform over the classes. The
//! gradient is written as `--grad` (default: the logits' dtype, so that copy and kernel move the
//! same bytes). Peak resident memory (VmHWM, reset before each stage where the kernel allows it)
//! is reported per stage, which shows that the fused kernel allocates no N×V intermediate.

use crate::error::{CliError, CliResult};
use clap::{Args, Subcommand, ValueEnum};
use half::bf16;
use serde_json::{Value, json};
use std::time::Instant;
use surprisal::kernel::{GradOut, cross_entropy_bf16, cross_entropy_f32};
use surprisal::loss::{CrossEntropyOptions, Reduction};

/// Arguments of `surprisal bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// What to time.
    #[command(subcommand)]
    pub what: BenchWhat,
}

/// The benchmarks.
#[derive(Subcommand, Debug)]
pub enum BenchWhat {
    /// Fused softmax cross-entropy (loss + gradient) against a memory copy, a three-pass
    /// implementation and (with the `bench-candle` feature) candle-nn.
    CrossEntropy(CrossEntropyBench),
}

/// Storage type of the logits or the gradient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Dtype {
    /// 32-bit float.
    F32,
    /// bfloat16.
    Bf16,
}

impl Dtype {
    fn bytes(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::Bf16 => 2,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::Bf16 => "bf16",
        }
    }
}

/// Arguments of `surprisal bench cross-entropy`.
#[derive(Args, Debug)]
pub struct CrossEntropyBench {
    /// Number of rows N.
    #[arg(long)]
    pub rows: usize,
    /// Number of classes V.
    #[arg(long)]
    pub classes: usize,
    /// Storage type of the logits.
    #[arg(long, value_enum, default_value = "f32")]
    pub dtype: Dtype,
    /// Storage type of the gradient (default: that of the logits).
    #[arg(long, value_enum)]
    pub grad: Option<Dtype>,
    /// Threads for the copy, the fused kernel and the three-pass implementation.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Timed runs per stage (after one warm-up run); the median is reported.
    #[arg(long, default_value_t = 7)]
    pub repeats: usize,
    /// Seed of the input generator.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Skip the three-pass implementation (it needs an N×V f32 buffer).
    #[arg(long)]
    pub skip_naive: bool,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `surprisal bench`.
pub fn run(a: &BenchArgs) -> CliResult<()> {
    match &a.what {
        BenchWhat::CrossEntropy(c) => cross_entropy(c),
    }
}

/// Logits in either storage.
enum Logits {
    F32(Vec<f32>),
    Bf16(Vec<bf16>),
}

/// A gradient buffer in either storage.
enum Grad {
    F32(Vec<f32>),
    Bf16(Vec<bf16>),
}

impl Grad {
    fn out(&mut self) -> GradOut<'_> {
        match self {
            Grad::F32(g) => GradOut::F32(g),
            Grad::Bf16(g) => GradOut::Bf16(g),
        }
    }
}

/// splitmix64: a small seeded generator (one stream per block of rows).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1).
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    /// Two N(0, 1) draws (Box–Muller).
    fn normal2(&mut self) -> (f64, f64) {
        let r = (-2.0 * self.unit().ln()).sqrt();
        let t = std::f64::consts::TAU * self.unit();
        (r * t.cos(), r * t.sin())
    }
}

/// Fills `out` with N(0, 3²) draws, `threads` blocks each from its own seeded stream.
fn fill_normal<T: Send>(out: &mut [T], seed: u64, threads: usize, conv: impl Fn(f64) -> T + Sync) {
    let per = out.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        for (b, chunk) in out.chunks_mut(per).enumerate() {
            let conv = &conv;
            s.spawn(move || {
                let mut g = SplitMix(seed ^ (b as u64).wrapping_mul(0xd1b5_4a32_d192_ed03));
                let mut it = chunk.iter_mut();
                while let Some(a) = it.next() {
                    let (x, y) = g.normal2();
                    *a = conv(3.0 * x);
                    if let Some(b) = it.next() {
                        *b = conv(3.0 * y);
                    }
                }
            });
        }
    });
}

/// Peak resident memory (VmHWM) in MiB, and the current (VmRSS), from /proc/self/status.
fn rss_mb() -> (Option<f64>, Option<f64>) {
    let Ok(s) = std::fs::read_to_string("/proc/self/status") else { return (None, None) };
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Resets the peak-RSS mark to the current RSS (Linux `clear_refs` 5); false where unsupported.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Memory available to the process, from /proc/meminfo (bytes).
fn mem_available() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let l = s.lines().find(|l| l.starts_with("MemAvailable:"))?;
    l.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
}

/// Median wall time in ms of `repeats` runs after one warm-up.
fn time_ms(repeats: usize, mut f: impl FnMut() -> CliResult<()>) -> CliResult<f64> {
    f()?;
    let mut t = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let s = Instant::now();
        f()?;
        t.push(s.elapsed().as_secs_f64() * 1e3);
    }
    t.sort_by(f64::total_cmp);
    Ok(t[t.len() / 2])
}

/// Copies `src` to `dst` in `threads` contiguous chunks, one per thread.
fn par_copy<T: Copy + Send + Sync>(src: &[T], dst: &mut [T], threads: usize) {
    let per = src.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        for (d, c) in dst.chunks_mut(per).zip(src.chunks(per)) {
            s.spawn(move || d.copy_from_slice(c));
        }
    });
}

/// Widens bf16 to f32 in `threads` chunks (the copy floor for a bf16 → f32 gradient).
fn par_widen(src: &[bf16], dst: &mut [f32], threads: usize) {
    let per = src.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        for (d, c) in dst.chunks_mut(per).zip(src.chunks(per)) {
            s.spawn(move || d.iter_mut().zip(c).for_each(|(o, i)| *o = i.to_f32()));
        }
    });
}

/// Narrows f32 to bf16 in `threads` chunks (the copy floor for an f32 → bf16 gradient).
fn par_narrow(src: &[f32], dst: &mut [bf16], threads: usize) {
    let per = src.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        for (d, c) in dst.chunks_mut(per).zip(src.chunks(per)) {
            s.spawn(move || d.iter_mut().zip(c).for_each(|(o, i)| *o = bf16::from_f32(*i)));
        }
    });
}

/// The three-pass implementation: log-softmax into an N×V f32 buffer, gather the target
/// log-probabilities for the mean loss, then gradient = (softmax − one-hot)/N. Plain scalar loops,
/// rows split over `threads`. Returns the mean loss.
fn naive(z: &Logits, v: usize, y: &[i64], grad: &mut Grad, threads: usize) -> f64 {
    let n = y.len();
    let zf = |i: usize| -> f32 {
        match z {
            Logits::F32(x) => x[i],
            Logits::Bf16(x) => x[i].to_f32(),
        }
    };
    // Pass 1: log-softmax, row by row, into the N×V intermediate.
    let mut logp = vec![0f32; n * v];
    let rows_per = n.div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        for (b, lp) in logp.chunks_mut(rows_per * v).enumerate() {
            let zf = &zf;
            s.spawn(move || {
                for (r, row) in lp.chunks_mut(v).enumerate() {
                    let base = (b * rows_per + r) * v;
                    let mut m = f32::NEG_INFINITY;
                    for c in 0..v {
                        m = m.max(zf(base + c));
                    }
                    let mut s = 0f32;
                    for c in 0..v {
                        s += (zf(base + c) - m).exp();
                    }
                    let lse = m + s.ln();
                    for (c, o) in row.iter_mut().enumerate() {
                        *o = zf(base + c) - lse;
                    }
                }
            });
        }
    });
    // Pass 2: gather.
    // (A fold from +0, not `sum`, which starts from −0: a loss of exactly 0 prints as 0.)
    let loss =
        y.iter().enumerate().map(|(i, &t)| -f64::from(logp[i * v + t as usize])).fold(0.0, |a, b| a + b)
            / n as f64;
    // Pass 3: softmax − one-hot, scaled by the mean's 1/N.
    let k = 1.0 / n as f32;
    let put = |lp: &[f32], g: &mut [f32], i0: usize| {
        for (r, (lrow, grow)) in lp.chunks(v).zip(g.chunks_mut(v)).enumerate() {
            let t = y[i0 + r] as usize;
            for (c, (o, &l)) in grow.iter_mut().zip(lrow).enumerate() {
                *o = k * (l.exp() - if c == t { 1.0 } else { 0.0 });
            }
        }
    };
    std::thread::scope(|s| match grad {
        Grad::F32(g) => {
            for (b, (lp, gc)) in logp.chunks(rows_per * v).zip(g.chunks_mut(rows_per * v)).enumerate() {
                let put = &put;
                s.spawn(move || put(lp, gc, b * rows_per));
            }
        }
        Grad::Bf16(g) => {
            for (b, (lp, gc)) in logp.chunks(rows_per * v).zip(g.chunks_mut(rows_per * v)).enumerate() {
                let put = &put;
                s.spawn(move || {
                    let mut tmp = vec![0f32; gc.len()];
                    put(lp, &mut tmp, b * rows_per);
                    gc.iter_mut().zip(&tmp).for_each(|(o, &x)| *o = bf16::from_f32(x));
                });
            }
        }
    });
    loss
}

/// candle-nn's cross-entropy and its backward (mean reduction), on the same logits.
#[cfg(feature = "bench-candle")]
mod candle_bench {
    use super::{Logits, bf16};
    use candle_core::{DType, Device, Tensor, Var};

    /// The prepared tensors.
    pub struct Candle {
        logits: Var,
        target: Tensor,
    }

    impl Candle {
        pub fn new(z: &Logits, v: usize, y: &[i64]) -> candle_core::Result<Self> {
            let n = y.len();
            let dev = Device::Cpu;
            let t = match z {
                Logits::F32(x) => Tensor::from_slice(x, (n, v), &dev)?,
                Logits::Bf16(x) => {
                    let x: &[half::bf16] = x;
                    Tensor::from_slice(x, (n, v), &dev)?
                }
            };
            let yu: Vec<u32> = y.iter().map(|&c| c as u32).collect();
            Ok(Candle { logits: Var::from_tensor(&t)?, target: Tensor::from_vec(yu, n, &dev)? })
        }

        /// One forward + backward; returns the loss (as f64) and keeps the gradient alive until
        /// the end of the call.
        pub fn run(&self) -> candle_core::Result<f64> {
            let loss = candle_nn::loss::cross_entropy(self.logits.as_tensor(), &self.target)?;
            let grads = loss.backward()?;
            let g = grads.get(self.logits.as_tensor()).map(|g| g.dims().len());
            debug_assert_eq!(g, Some(2));
            loss.to_dtype(DType::F64)?.to_scalar::<f64>()
        }
    }

    #[allow(dead_code)]
    fn _uses(_: bf16) {}
}

fn usage(msg: impl Into<String>) -> CliError {
    CliError::Usage(msg.into())
}

fn cross_entropy(a: &CrossEntropyBench) -> CliResult<()> {
    let (n, v, t) = (a.rows, a.classes, a.threads);
    if n == 0 || v == 0 {
        return Err(usage("--rows and --classes must be > 0"));
    }
    if t == 0 || t > 1024 {
        return Err(usage("--threads must be in 1..=1024"));
    }
    if a.repeats == 0 {
        return Err(usage("--repeats must be > 0"));
    }
    if v > i64::MAX as usize {
        return Err(usage("--classes too large"));
    }
    let gdt = a.grad.unwrap_or(a.dtype);
    let entries = n.checked_mul(v).ok_or_else(|| usage(format!("--rows {n} × --classes {v} overflows")))?;
    let in_bytes = entries.checked_mul(a.dtype.bytes()).ok_or_else(|| usage("logits size overflows"))?;
    let out_bytes = entries.checked_mul(gdt.bytes()).ok_or_else(|| usage("gradient size overflows"))?;
    // Resident at once: logits, gradient, and (for the three-pass stage) the N×V f32 log-softmax
    // plus an f32 staging buffer for a bf16 gradient.
    let naive_extra =
        if a.skip_naive { 0 } else { entries.saturating_mul(4 + if gdt == Dtype::Bf16 { 4 } else { 0 }) };
    let need = in_bytes.saturating_add(out_bytes).saturating_add(naive_extra) as u64;
    if let Some(avail) = mem_available()
        && need > avail / 10 * 9
    {
        return Err(usage(format!(
            "--rows {n} --classes {v} --dtype {} needs about {:.1} GiB ({}), more than the {:.1} GiB available",
            a.dtype.name(),
            need as f64 / (1u64 << 30) as f64,
            if a.skip_naive {
                "logits + gradient"
            } else {
                "logits + gradient + the three-pass N×V buffer; try --skip-naive"
            },
            avail as f64 / (1u64 << 30) as f64
        )));
    }

    let mut stages = serde_json::Map::new();
    let mut stage_rss = |name: &str, before: (Option<f64>, Option<f64>)| {
        let after = rss_mb();
        stages.insert(
            name.to_string(),
            json!({"rss_before_mb": before.1, "peak_mb": after.0, "rss_after_mb": after.1}),
        );
    };

    // Inputs.
    let before = rss_mb();
    let logits = match a.dtype {
        Dtype::F32 => {
            let mut z = vec![0f32; entries];
            fill_normal(&mut z, a.seed, t, |x| x as f32);
            Logits::F32(z)
        }
        Dtype::Bf16 => {
            let mut z = vec![bf16::ZERO; entries];
            fill_normal(&mut z, a.seed, t, bf16::from_f64);
            Logits::Bf16(z)
        }
    };
    let mut g = SplitMix(a.seed ^ 0x5eed);
    let target: Vec<i64> = (0..n).map(|_| (g.next() % v as u64) as i64).collect();
    // The gradient buffer, written once before timing so that no stage pays its page faults.
    let mut grad = match gdt {
        Dtype::F32 => Grad::F32(vec![1f32; entries]),
        Dtype::Bf16 => Grad::Bf16(vec![bf16::ONE; entries]),
    };
    stage_rss("inputs", before);
    let peak_resettable = reset_peak();

    // (a) copy of the same bytes.
    let before = rss_mb();
    let copy_ms = time_ms(a.repeats, || {
        match (&logits, &mut grad) {
            (Logits::F32(z), Grad::F32(g)) => par_copy(z, g, t),
            (Logits::Bf16(z), Grad::Bf16(g)) => par_copy(z, g, t),
            (Logits::Bf16(z), Grad::F32(g)) => par_widen(z, g, t),
            (Logits::F32(z), Grad::Bf16(g)) => par_narrow(z, g, t),
        }
        Ok(())
    })?;
    stage_rss("copy", before);

    // (b) fused kernel.
    reset_peak();
    let before = rss_mb();
    let opts = CrossEntropyOptions::<f32>::with_reduction(Reduction::Mean);
    let mut fused_loss = 0f32;
    let fused_ms = time_ms(a.repeats, || {
        let out = match &logits {
            Logits::F32(z) => cross_entropy_f32(z, v, &target, &opts, grad.out(), None, t),
            Logits::Bf16(z) => cross_entropy_bf16(z, v, &target, &opts, grad.out(), None, t),
        }
        .map_err(|e| CliError::library("running the fused cross-entropy", e))?;
        fused_loss = out.value;
        Ok(())
    })?;
    stage_rss("fused", before);

    // (c) three passes.
    let (naive_ms, naive_loss) = if a.skip_naive {
        (None, None)
    } else {
        reset_peak();
        let before = rss_mb();
        let mut loss = 0.0;
        let ms = time_ms(a.repeats, || {
            loss = naive(&logits, v, &target, &mut grad, t);
            Ok(())
        })?;
        stage_rss("naive", before);
        (Some(ms), Some(loss))
    };

    // (d) candle.
    #[cfg(feature = "bench-candle")]
    let (candle_ms, candle_loss) = {
        reset_peak();
        let before = rss_mb();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map_err(|e| usage(format!("candle thread pool: {e}")))?;
        let c = candle_bench::Candle::new(&logits, v, &target)
            .map_err(|e| CliError::Usage(format!("candle: {e}")))?;
        let mut loss = 0.0;
        let ms = pool.install(|| {
            time_ms(a.repeats, || {
                loss = c.run().map_err(|e| CliError::Usage(format!("candle: {e}")))?;
                Ok(())
            })
        })?;
        drop(c);
        stage_rss("candle", before);
        (Some(ms), Some(loss))
    };
    #[cfg(not(feature = "bench-candle"))]
    let (candle_ms, candle_loss): (Option<f64>, Option<f64>) = (None, None);

    let moved = (in_bytes + out_bytes) as f64;
    let gbps = |ms: f64| moved / (ms * 1e-3) / 1e9;
    let ratio = |ms: Option<f64>| ms.map(|m| m / copy_ms);
    let obj = json!({
        "rows": n,
        "classes": v,
        "dtype": a.dtype.name(),
        "grad_dtype": gdt.name(),
        "threads": t,
        "repeats": a.repeats,
        "bytes_moved": moved,
        "copy_ms": copy_ms,
        "fused_ms": fused_ms,
        "naive_ms": naive_ms,
        "candle_ms": candle_ms,
        "fused_over_copy": fused_ms / copy_ms,
        "naive_over_copy": ratio(naive_ms),
        "candle_over_copy": ratio(candle_ms),
        "copy_gbps": gbps(copy_ms),
        "fused_gbps": gbps(fused_ms),
        "fused_loss": fused_loss,
        "naive_loss": naive_loss,
        "candle_loss": candle_loss,
        "peak_rss_mb": Value::Object(stages),
        "peak_rss_per_stage": peak_resettable,
    });
    if a.json {
        outln!("{obj}")?;
        return Ok(());
    }
    outln!(
        "cross-entropy N = {n}, V = {v}, logits {}, gradient {}, {t} thread(s), median of {} runs ({:.1} MB moved per run)",
        a.dtype.name(),
        gdt.name(),
        a.repeats,
        moved / 1e6
    )?;
    outln!("{:<8} {:>10} {:>9} {:>9} {:>12}", "stage", "ms", "× copy", "GB/s", "peak RSS MB")?;
    let peak = |s: &str| obj["peak_rss_mb"][s]["peak_mb"].as_f64().map_or("-".into(), |p| format!("{p:.0}"));
    for (name, ms) in
        [("copy", Some(copy_ms)), ("fused", Some(fused_ms)), ("naive", naive_ms), ("candle", candle_ms)]
    {
        match ms {
            Some(ms) => {
                outln!("{name:<8} {ms:>10.2} {:>9.2} {:>9.1} {:>12}", ms / copy_ms, gbps(ms), peak(name))?
            }
            None => outln!("{name:<8} {:>10}", "-")?,
        }
    }
    outln!("inputs peak RSS {} MB (logits + gradient)", peak("inputs"))?;
    out!("mean loss: fused {fused_loss:.6}")?;
    if let Some(l) = naive_loss {
        out!(", three-pass {l:.6}")?;
    }
    if let Some(l) = candle_loss {
        out!(", candle {l:.6}")?;
    }
    outln!()?;
    Ok(())
}
