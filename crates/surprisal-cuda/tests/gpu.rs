//! The kernels on a device against the CPU library in f64 (`surprisal::loss`), on fresh random
//! inputs (the seed, from the clock, is printed; `SURPRISAL_CUDA_SEED` replays one): odd V,
//! extreme logits (±1e4, −inf entries, one large positive), ignored rows, label smoothing, class
//! weights, every storage type, in place and into a separate (strided) buffer, every reduction, and
//! every launch shape (one CTA per row, clusters of 2/4/8, the two-read kernel). Output buffers are
//! poisoned (0xFF bytes) first, so an element never written fails, and padding between strided
//! rows must stay poisoned. Without a driver (or NVRTC) the tests say so and pass.

#![cfg(feature = "cuda")]
#![allow(clippy::needless_range_loop)]

use half::{bf16, f16};
use std::sync::Arc;
use surprisal::loss::{
    self, CrossEntropyOptions as CpuOptions, Options as CpuElemOptions, Reduction as CpuReduction,
};
use surprisal_cuda::cudarc::driver::{CudaSlice, CudaStream, DevicePtr, DevicePtrMut};
use surprisal_cuda::{
    BCE_WORKSPACE_LEN, BceCall, CrossEntropyCall, CrossEntropyOptions, DType, Elem, Gpu, Reduction, Tuning,
    cross_entropy_workspace_len, driver_available, nvrtc_available,
};

/// splitmix64 → uniform and normal draws.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn seed() -> u64 {
    let s = std::env::var("SURPRISAL_CUDA_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    println!("seed {s} (replay with SURPRISAL_CUDA_SEED={s})");
    s
}

/// The device, or None after printing why the test is skipped.
fn device() -> Option<Gpu> {
    if !driver_available() {
        println!("skipped: no CUDA driver");
        return None;
    }
    if !nvrtc_available() {
        println!("skipped: no NVRTC library");
        return None;
    }
    match Gpu::new(0) {
        Ok(g) => Some(g),
        Err(e) => {
            println!("skipped: no CUDA driver ({e})");
            None
        }
    }
}

/// A storage type with its bit patterns.
trait Store: Elem + Copy {
    fn from64(x: f64) -> Self;
    fn to64(self) -> f64;
    fn poison() -> Self;
    fn is_poison(self) -> bool;
    /// Absolute gradient tolerance (relative to max(1, |reference|)) and loss tolerance.
    const TOL: (f64, f64);
}
impl Store for f32 {
    fn from64(x: f64) -> Self {
        x as f32
    }
    fn to64(self) -> f64 {
        f64::from(self)
    }
    fn poison() -> Self {
        f32::from_bits(u32::MAX)
    }
    fn is_poison(self) -> bool {
        self.to_bits() == u32::MAX
    }
    const TOL: (f64, f64) = (1e-5, 1e-5);
}
impl Store for bf16 {
    fn from64(x: f64) -> Self {
        bf16::from_f64(x)
    }
    fn to64(self) -> f64 {
        self.to_f64()
    }
    fn poison() -> Self {
        bf16::from_bits(u16::MAX)
    }
    fn is_poison(self) -> bool {
        self.to_bits() == u16::MAX
    }
    const TOL: (f64, f64) = (1e-2, 1e-3);
}
impl Store for f16 {
    fn from64(x: f64) -> Self {
        f16::from_f64(x)
    }
    fn to64(self) -> f64 {
        self.to_f64()
    }
    fn poison() -> Self {
        f16::from_bits(u16::MAX)
    }
    fn is_poison(self) -> bool {
        self.to_bits() == u16::MAX
    }
    const TOL: (f64, f64) = (2e-3, 1e-3);
}

fn cpu_reduction(r: Reduction) -> CpuReduction {
    match r {
        Reduction::None => CpuReduction::None,
        Reduction::Sum => CpuReduction::Sum,
        Reduction::Mean => CpuReduction::Mean,
    }
}

fn close(got: f64, want: f64, tol: f64) -> bool {
    if want.is_infinite() || want.is_nan() {
        return got == want || (got.is_nan() && want.is_nan());
    }
    got.is_finite() && (got - want).abs() <= tol * want.abs().max(1.0)
}

/// Random logits `[n, v]` with the extreme rows described in the module documentation, and
/// targets (some ignored with −100).
fn inputs(rng: &mut Rng, n: usize, v: usize) -> (Vec<f64>, Vec<i64>) {
    let mut z: Vec<f64> = (0..n * v).map(|_| 3.0 * rng.normal()).collect();
    let mut t: Vec<i64> = (0..n).map(|_| rng.below(v) as i64).collect();
    for i in 0..n {
        let row = &mut z[i * v..(i + 1) * v];
        match i % 5 {
            // −inf entries away from the target and one large positive logit.
            0 if v > 2 => {
                for _ in 0..v.div_ceil(10) {
                    let c = rng.below(v);
                    if c as i64 != t[i] {
                        row[c] = f64::NEG_INFINITY;
                    }
                }
                row[rng.below(v)] = 1e4;
            }
            // Huge magnitudes of both signs.
            1 => {
                for _ in 0..v.div_ceil(7) {
                    let c = rng.below(v);
                    row[c] = if rng.uniform() < 0.5 { -1e4 } else { 1e4 };
                }
            }
            // An ignored row.
            2 if n > 3 => t[i] = -100,
            _ => {}
        }
    }
    (z, t)
}

fn to_dev<T: Store>(stream: &Arc<CudaStream>, x: &[f64]) -> CudaSlice<T> {
    let h: Vec<T> = x.iter().map(|&v| T::from64(v)).collect();
    stream.clone_htod(&h).unwrap()
}

/// One cross-entropy case through the raw API; returns a description on mismatch.
#[allow(clippy::too_many_arguments)]
fn ce_case<T: Store>(
    gpu: &Gpu,
    stream: &Arc<CudaStream>,
    rng: &mut Rng,
    n: usize,
    v: usize,
    reduction: Reduction,
    eps: f32,
    weighted: bool,
    inplace: bool,
    aligned: bool,
) -> Result<(), String> {
    let (z, t) = inputs(rng, n, v);
    let w: Vec<f64> = (0..v).map(|_| if weighted { 2.0 * rng.uniform() } else { 1.0 }).collect();
    // Quantise first: the reference sees exactly the stored values.
    let zq: Vec<f64> = z.iter().map(|&x| T::from64(x).to64()).collect();
    let wq: Vec<f64> = w.iter().map(|&x| f64::from(x as f32)).collect();
    let opts = CpuOptions::<f64> {
        reduction: cpu_reduction(reduction),
        weight: weighted.then_some(&wq[..]),
        ignore_index: Some(-100),
        label_smoothing: f64::from(eps),
        mask: None,
    };
    let want = loss::softmax_cross_entropy(&zq, v, &t, &opts).map_err(|e| e.to_string())?;

    // Strided logits (3 spare columns, or one spare 16-byte pack when `aligned`: rows of whole packs
    // take the pipelined kernel); a separate gradient with its own stride (5 spare).
    let pad = if aligned { 16 / T::DTYPE.size() } else { 3 };
    let (si, so) = if inplace { (v + pad, v + pad) } else { (v + pad, v + 5) };
    let mut zs = vec![0.0; n * si];
    for i in 0..n {
        zs[i * si..i * si + v].copy_from_slice(&zq[i * v..(i + 1) * v]);
    }
    let mut logits: CudaSlice<T> = to_dev(stream, &zs);
    let mut grad: CudaSlice<T> =
        stream.clone_htod(&vec![T::poison(); if inplace { 1 } else { n * so }]).unwrap();
    let targets = stream.clone_htod(&t).unwrap();
    let weight = stream.clone_htod(&wq.iter().map(|&x| x as f32).collect::<Vec<f32>>()).unwrap();
    let loss_len = if reduction == Reduction::None { n.max(1) } else { 1 };
    let mut lossb = stream.clone_htod(&vec![f32::from_bits(u32::MAX); loss_len]).unwrap();
    let mut ws = stream.clone_htod(&vec![f32::from_bits(u32::MAX); cross_entropy_workspace_len(n)]).unwrap();
    let plan = {
        let (lp, _a) = logits.device_ptr_mut(stream);
        let (gp, _b) = grad.device_ptr_mut(stream);
        let (tp, _c) = targets.device_ptr(stream);
        let (wp, _d) = weight.device_ptr(stream);
        let (loss_p, _e) = lossb.device_ptr_mut(stream);
        let (ws_p, _f) = ws.device_ptr_mut(stream);
        let call = CrossEntropyCall {
            dtype: T::DTYPE,
            n,
            v,
            logits: lp,
            logits_stride: si,
            grad: if inplace { lp } else { gp },
            grad_stride: so,
            targets: tp,
            weight: if weighted { wp } else { 0 },
            loss: loss_p,
            workspace: ws_p,
            options: CrossEntropyOptions { reduction, ignore_index: Some(-100), label_smoothing: eps },
        };
        // SAFETY: every buffer is a live allocation of this context of the documented extent.
        unsafe { gpu.cross_entropy_raw(&call, stream.cu_stream() as usize as u64) }
            .map_err(|e| e.to_string())?;
        gpu.plan_call(&call)
    };
    stream.synchronize().unwrap();
    let g: Vec<T> = stream.clone_dtoh(if inplace { &logits } else { &grad }).unwrap();
    let l: Vec<f32> = stream.clone_dtoh(&lossb).unwrap();
    let (gtol, ltol) = T::TOL;
    let what = format!(
        "{} n={n} v={v} {reduction:?} eps={eps} weighted={weighted} inplace={inplace} aligned={aligned} plan={plan:?}",
        T::DTYPE
    );
    for i in 0..n {
        for c in 0..so {
            let got = g[i * so + c];
            if c >= v {
                if !inplace && !got.is_poison() {
                    return Err(format!("{what}: padding ({i}, {c}) was written"));
                }
                continue;
            }
            let want_g = want.grad[i * v + c];
            let got = got.to64();
            if !got.is_finite() || (got - want_g).abs() > gtol * want_g.abs().max(1.0) {
                return Err(format!("{what}: grad ({i}, {c}) = {got}, want {want_g}"));
            }
        }
    }
    if reduction == Reduction::None {
        for i in 0..n {
            if !close(f64::from(l[i]), want.per_element[i], ltol) {
                return Err(format!("{what}: row loss {i} = {}, want {}", l[i], want.per_element[i]));
            }
        }
    } else if !close(f64::from(l[0]), want.value, ltol) {
        return Err(format!("{what}: loss = {}, want {}", l[0], want.value));
    }
    Ok(())
}

fn ce_all<T: Store>(gpu: &mut Gpu, stream: &Arc<CudaStream>, rng: &mut Rng) -> usize {
    let default = Tuning::default();
    let tunings = [
        default,
        // Small slices force clusters of 2/4/8 and the two-read kernel on modest V.
        Tuning { max_slice_bytes: 512, ..default },
        Tuning { max_slice_bytes: 4096, max_cluster: 2, ..default },
        Tuning { force_online: true, ..default },
        Tuning { force_online: true, max_cluster: 1, ..default },
        // The one-read kernel loading through registers; the pipelined kernel (three slices per
        // CTA, and two with 256 threads).
        Tuning { async_copy: false, ..default },
        // The cp.async copy in one commit group (waited for whole before pass 1).
        Tuning { copy_groups: 1, ..default },
        Tuning { pipeline: true, ..default },
        Tuning { pipeline: true, stages: 2, pipeline_threads: 256, ..default },
        // Stored exponentials (unweighted, unsmoothed rows), in the one-read and pipelined kernels.
        Tuning { store_exp: true, ..default },
        Tuning { pipeline: true, store_exp: true, ..default },
    ];
    let vec = 16 / T::DTYPE.size();
    let mut cases = 0;
    let mut failures = Vec::new();
    for tuning in tunings {
        gpu.set_tuning(tuning);
        for &(n, v) in &[
            (11usize, 1usize),
            (9, 7),
            (10, 8),
            (13, 1000),
            (6, 32001),
            (7, 32000),
            (5, 128_257),
            (5, 128_256),
        ] {
            if tuning != default && !tuning.store_exp && v > 32001 {
                continue;
            }
            // Rows of whole 16-byte packs both ways: aligned (the pipelined kernel) and not.
            let alignments: &[bool] = if v % vec == 0 { &[true, false] } else { &[false] };
            for &aligned in alignments {
                for reduction in [Reduction::None, Reduction::Sum, Reduction::Mean] {
                    for (eps, weighted) in [(0.0, false), (0.1, false), (0.0, true), (0.25, true)] {
                        for inplace in [false, true] {
                            cases += 1;
                            if let Err(e) = ce_case::<T>(
                                gpu, stream, rng, n, v, reduction, eps, weighted, inplace, aligned,
                            ) {
                                failures.push(e);
                            }
                        }
                    }
                }
            }
        }
    }
    gpu.set_tuning(default);
    assert!(failures.is_empty(), "{} of {cases} cases failed:\n{}", failures.len(), failures.join("\n"));
    cases
}

/// The pipelined kernel with many more rows than resident clusters: every CTA cycles through its
/// slices several times (each stage's barrier changes parity), with one CTA per row and clusters.
fn pipelined_many_rows<T: Store>(gpu: &mut Gpu, stream: &Arc<CudaStream>, rng: &mut Rng) -> usize {
    let default = Tuning::default();
    let mut cases = 0;
    let mut failures = Vec::new();
    let piped = Tuning { pipeline: true, ..default };
    let small = Tuning { max_slice_bytes: 16 << 10, stages: 2, ..piped };
    for tuning in [piped, small, Tuning { store_exp: true, ..piped }, Tuning { store_exp: true, ..small }] {
        gpu.set_tuning(tuning);
        let (n, v) = (700, 32_000);
        assert!(gpu.plan(T::DTYPE, v).pipelined, "{:?}", gpu.plan(T::DTYPE, v));
        for (reduction, eps, weighted, inplace) in
            [(Reduction::Mean, 0.0, false, true), (Reduction::None, 0.1, true, false)]
        {
            cases += 1;
            if let Err(e) = ce_case::<T>(gpu, stream, rng, n, v, reduction, eps, weighted, inplace, true) {
                failures.push(e);
            }
        }
    }
    gpu.set_tuning(default);
    assert!(failures.is_empty(), "{} of {cases} cases failed:\n{}", failures.len(), failures.join("\n"));
    cases
}

#[test]
fn the_pipelined_kernel_cycles_through_its_stages() {
    let Some(mut gpu) = device() else { return };
    if gpu.compute_capability().0 < 9 {
        println!("no pipelined kernel before sm_90");
        return;
    }
    let mut rng = Rng(seed());
    let stream = gpu.context().new_stream().unwrap();
    let n = pipelined_many_rows::<f32>(&mut gpu, &stream, &mut rng)
        + pipelined_many_rows::<bf16>(&mut gpu, &stream, &mut rng)
        + pipelined_many_rows::<f16>(&mut gpu, &stream, &mut rng);
    println!("{n} pipelined cases of 700 rows agree with the f64 reference");
}

#[test]
fn cross_entropy_matches_the_cpu_library_in_f64() {
    let Some(mut gpu) = device() else { return };
    let mut rng = Rng(seed());
    let stream = gpu.context().new_stream().unwrap();
    println!("device cc {:?}", gpu.compute_capability());
    let n = ce_all::<f32>(&mut gpu, &stream, &mut rng)
        + ce_all::<bf16>(&mut gpu, &stream, &mut rng)
        + ce_all::<f16>(&mut gpu, &stream, &mut rng);
    println!("{n} cross-entropy cases agree with the f64 reference");
}

#[test]
fn cross_entropy_edge_rows_follow_the_cpu_policies() {
    let Some(mut gpu) = device() else { return };
    let d = Tuning::default();
    for tuning in [
        d,
        Tuning { pipeline: true, ..d },
        Tuning { store_exp: true, ..d },
        Tuning { pipeline: true, store_exp: true, ..d },
    ] {
        gpu.set_tuning(tuning);
        edge_rows(&gpu);
    }
}

fn edge_rows(gpu: &Gpu) {
    let stream = gpu.context().new_stream().unwrap();
    let inf = f64::INFINITY;
    // +inf entries share the mass; all −inf has no distribution; NaN propagates. With three more
    // columns (V = 8, rows of whole 16-byte packs) the same rows go through the pipelined kernel on
    // sm_90; with 259 more (V = 264) each row's slice also holds whole packs of one kind. The
    // extra columns are −inf, except in the first row, where finite ones get no mass beside +inf.
    let rows = [
        [1.0, inf, 0.0, inf, -2.0],
        [-inf, -inf, -inf, -inf, -inf],
        [0.5, f64::NAN, 1.0, 2.0, 3.0],
        [3.0, 1.0, 0.0, -inf, 2.0],
    ];
    for extra in [0usize, 3, 259] {
        let v = 5 + extra;
        let flat: Vec<f64> = rows
            .iter()
            .enumerate()
            .flat_map(|(i, r)| {
                r.iter().copied().chain(std::iter::repeat_n(if i == 0 { 0.25 } else { -inf }, extra))
            })
            .collect();
        let t = [1i64, 2, 0, 3];
        let opts = CpuOptions::<f64> { reduction: CpuReduction::None, ..Default::default() };
        let want = loss::softmax_cross_entropy(&flat, v, &t, &opts).unwrap();
        let logits: CudaSlice<f32> = to_dev(&stream, &flat);
        let targets = stream.clone_htod(&t).unwrap();
        let mut grad = stream.clone_htod(&vec![f32::from_bits(u32::MAX); 4 * v]).unwrap();
        let o = CrossEntropyOptions { reduction: Reduction::None, ..Default::default() };
        let l = gpu.cross_entropy(&stream, &logits, v, &targets, None, &o, &mut grad).unwrap();
        let l: Vec<f32> = stream.clone_dtoh(&l).unwrap();
        let g: Vec<f32> = stream.clone_dtoh(&grad).unwrap();
        let plan = gpu.plan(DType::F32, v);
        for i in 0..4 {
            assert!(
                close(f64::from(l[i]), want.per_element[i], 1e-6),
                "v={v} {plan:?} row {i}: {} vs {}",
                l[i],
                want.per_element[i]
            );
            for c in 0..v {
                let (got, w) = (f64::from(g[i * v + c]), want.grad[i * v + c]);
                assert!(
                    close(got, w, 1e-6) || (w.is_nan() && got.is_nan()),
                    "v={v} {plan:?} ({i}, {c}): {got} vs {w}"
                );
            }
        }
        // A target outside 0..V: NaN row (the CPU library reports an error instead).
        let bad = stream.clone_htod(&[1i64, v as i64 + 4, 0, 3]).unwrap();
        let l = gpu.cross_entropy(&stream, &logits, v, &bad, None, &o, &mut grad).unwrap();
        let l: Vec<f32> = stream.clone_dtoh(&l).unwrap();
        assert!(l[1].is_nan() && close(f64::from(l[0]), want.per_element[0], 1e-6), "v={v}");
        // Every row ignored: 0 and a zero gradient under the mean.
        let ign = stream.clone_htod(&[-100i64; 4]).unwrap();
        let l = gpu
            .cross_entropy(&stream, &logits, v, &ign, None, &CrossEntropyOptions::default(), &mut grad)
            .unwrap();
        assert_eq!(stream.clone_dtoh(&l).unwrap(), vec![0.0], "v={v}");
        assert!(stream.clone_dtoh(&grad).unwrap().iter().all(|&x| x == 0.0), "v={v}");
    }
}

fn bce_case<T: Store>(
    gpu: &Gpu,
    stream: &Arc<CudaStream>,
    rng: &mut Rng,
    n: usize,
    cols: usize,
) -> Result<usize, String> {
    let mut cases = 0;
    for reduction in [Reduction::None, Reduction::Sum, Reduction::Mean] {
        for (pw_on, w_on, inplace) in
            [(false, false, false), (true, false, true), (true, true, false), (false, true, true)]
        {
            cases += 1;
            let x: Vec<f64> = (0..n)
                .map(|i| match i % 11 {
                    0 => 60.0,
                    1 => -60.0,
                    _ => 4.0 * rng.normal(),
                })
                .map(|x| T::from64(x).to64())
                .collect();
            let y: Vec<f64> = (0..n)
                .map(|i| if i % 3 == 0 { rng.uniform() } else { (rng.uniform() < 0.5) as u8 as f64 })
                .map(|x| T::from64(x).to64())
                .collect();
            let pw: Vec<f64> = (0..cols).map(|_| f64::from((3.0 * rng.uniform()) as f32)).collect();
            let w: Vec<f64> = (0..n)
                .map(|i| if i % 5 == 0 { 0.0 } else { f64::from((2.0 * rng.uniform()) as f32) })
                .collect();
            let opts = CpuElemOptions {
                reduction: cpu_reduction(reduction),
                weight: w_on.then_some(&w[..]),
                mask: None,
            };
            let want = loss::sigmoid_binary_cross_entropy(&x, &y, pw_on.then_some(&pw[..]), &opts)
                .map_err(|e| e.to_string())?;
            let mut xd: CudaSlice<T> = to_dev(stream, &x);
            let yd: CudaSlice<T> = to_dev(stream, &y);
            let mut gd: CudaSlice<T> = stream.clone_htod(&vec![T::poison(); n]).unwrap();
            let pwd = stream.clone_htod(&pw.iter().map(|&p| p as f32).collect::<Vec<_>>()).unwrap();
            let wd = stream.clone_htod(&w.iter().map(|&p| p as f32).collect::<Vec<_>>()).unwrap();
            let loss_len = if reduction == Reduction::None { n } else { 1 };
            let mut ld = stream.clone_htod(&vec![f32::from_bits(u32::MAX); loss_len]).unwrap();
            let mut ws = stream.clone_htod(&vec![f32::from_bits(u32::MAX); BCE_WORKSPACE_LEN]).unwrap();
            {
                let (xp, _a) = xd.device_ptr_mut(stream);
                let (yp, _b) = yd.device_ptr(stream);
                let (gp, _c) = gd.device_ptr_mut(stream);
                let (pp, _d) = pwd.device_ptr(stream);
                let (wp, _e) = wd.device_ptr(stream);
                let (lp, _f) = ld.device_ptr_mut(stream);
                let (sp, _g) = ws.device_ptr_mut(stream);
                let call = BceCall {
                    dtype: T::DTYPE,
                    n,
                    logits: xp,
                    targets: yp,
                    grad: if inplace { xp } else { gp },
                    pos_weight: if pw_on { pp } else { 0 },
                    pos_weight_len: cols,
                    weight: if w_on { wp } else { 0 },
                    weight_len: n,
                    loss: lp,
                    workspace: sp,
                    reduction,
                };
                // SAFETY: every buffer is a live allocation of this context of the documented extent.
                unsafe { gpu.bce_with_logits_raw(&call, stream.cu_stream() as usize as u64) }
                    .map_err(|e| e.to_string())?;
            }
            stream.synchronize().unwrap();
            let g: Vec<T> = stream.clone_dtoh(if inplace { &xd } else { &gd }).unwrap();
            let l: Vec<f32> = stream.clone_dtoh(&ld).unwrap();
            let (gtol, ltol) = T::TOL;
            let what = format!("bce {} n={n} {reduction:?} pw={pw_on} w={w_on} inplace={inplace}", T::DTYPE);
            for i in 0..n {
                let (got, w) = (g[i].to64(), want.grad[i]);
                if !got.is_finite() || (got - w).abs() > gtol * w.abs().max(1.0) {
                    return Err(format!("{what}: grad {i} = {got}, want {w}"));
                }
            }
            if reduction == Reduction::None {
                for i in 0..n {
                    if !close(f64::from(l[i]), want.per_element[i], ltol.max(1e-5)) {
                        return Err(format!("{what}: loss {i} = {}, want {}", l[i], want.per_element[i]));
                    }
                }
            } else if !close(f64::from(l[0]), want.value, ltol.max(1e-5)) {
                return Err(format!("{what}: loss = {}, want {}", l[0], want.value));
            }
        }
    }
    Ok(cases)
}

#[test]
fn bce_with_logits_matches_the_cpu_library_in_f64() {
    let Some(gpu) = device() else { return };
    let mut rng = Rng(seed());
    let stream = gpu.context().new_stream().unwrap();
    let mut cases = 0;
    for &(n, cols) in &[(1usize, 1usize), (7 * 13, 13), (300_007, 1), (1 << 20, 16)] {
        cases += bce_case::<f32>(&gpu, &stream, &mut rng, n, cols).unwrap();
        cases += bce_case::<bf16>(&gpu, &stream, &mut rng, n, cols).unwrap();
        cases += bce_case::<f16>(&gpu, &stream, &mut rng, n, cols).unwrap();
    }
    println!("{cases} binary cross-entropy cases agree with the f64 reference");
}

#[test]
fn the_safe_api_checks_shapes_and_runs_in_place() {
    let Some(gpu) = device() else { return };
    let stream = gpu.context().new_stream().unwrap();
    let z = [1.0f64, 2.0, 3.0, 0.5, -1.0, 2.0];
    let mut logits: CudaSlice<bf16> = to_dev(&stream, &z);
    let targets = stream.clone_htod(&[2i64, 0]).unwrap();
    let o = CrossEntropyOptions::default();
    let mut grad: CudaSlice<bf16> = stream.alloc_zeros(6).unwrap();
    assert!(gpu.cross_entropy(&stream, &logits, 4, &targets, None, &o, &mut grad).is_err());
    let l = gpu.cross_entropy_inplace(&stream, &mut logits, 3, &targets, None, &o).unwrap();
    // mpmath: mean of logsumexp(row) − row[target]
    let l = stream.clone_dtoh(&l).unwrap()[0];
    assert!((f64::from(l) - 1.0744586305507687).abs() < 1e-3, "{l}");
}

#[test]
fn results_are_bitwise_reproducible() {
    let Some(mut gpu) = device() else { return };
    let stream = gpu.context().new_stream().unwrap();
    let mut rng = Rng(seed());
    let (n, v) = (64, 50_000);
    let (z, t) = inputs(&mut rng, n, v);
    let logits: CudaSlice<bf16> = to_dev(&stream, &z);
    let targets = stream.clone_htod(&t).unwrap();
    let o = CrossEntropyOptions { label_smoothing: 0.1, ..Default::default() };
    // The pipelined kernel, clusters of 4 and the two-read kernel: reductions in a fixed order, no
    // atomics.
    for tuning in [
        Tuning::default(),
        Tuning { pipeline: true, ..Tuning::default() },
        Tuning { max_slice_bytes: 32 << 10, ..Tuning::default() },
        Tuning { max_slice_bytes: 32 << 10, async_copy: false, ..Tuning::default() },
        Tuning { force_online: true, ..Tuning::default() },
    ] {
        gpu.set_tuning(tuning);
        let mut runs = Vec::new();
        for _ in 0..3 {
            let mut grad: CudaSlice<bf16> = stream.alloc_zeros(n * v).unwrap();
            let l = gpu.cross_entropy(&stream, &logits, v, &targets, None, &o, &mut grad).unwrap();
            let l = stream.clone_dtoh(&l).unwrap()[0].to_bits();
            let g: Vec<u16> = stream.clone_dtoh(&grad).unwrap().iter().map(|x| x.to_bits()).collect();
            runs.push((l, g));
        }
        assert!(runs.iter().all(|r| *r == runs[0]), "{tuning:?}: results differ between runs");
    }
}
