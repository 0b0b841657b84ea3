//! Benchmark of the GLM fit: seeded synthetic Poisson data with a log link, n rows × p columns
//! (an intercept and p − 1 standard normal features), fitted by Newton–IRLS.
//!
//! Prints the median fit time of 3 runs, the iterations, the time of one plain pass that reads X
//! once (a memory-bandwidth floor, measured in the same process), the ratio
//! fit_time / (iterations × pass_time), and the peak resident memory (VmHWM).
//!
//! Run with `cargo run --release -p surprisal --example bench_glm -- --rows 1000000 --cols 20`.

use rayon::prelude::*;
use std::time::Instant;
use surprisal::fit::glm::{Glm, GlmFamily};

/// SplitMix64: a small seeded generator (reproducible data without extra dependencies).
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform on (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
    /// Poisson(λ) by inversion (λ is small here).
    fn poisson(&mut self, lambda: f64) -> f64 {
        let u = self.uniform();
        let (mut k, mut p) = (0u32, (-lambda).exp());
        let mut cdf = p;
        while u > cdf && k < 10_000 {
            k += 1;
            p *= lambda / k as f64;
            cdf += p;
        }
        k as f64
    }
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// User + system CPU seconds of this process so far (from /proc/self/stat, 100 ticks a second).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let n = arg("--rows", 1_000_000);
    let p = arg("--cols", 20).max(1);
    let mut rng = Rng(20_261_123);
    let beta: Vec<f64> =
        (0..p).map(|j| if j == 0 { 0.5 } else { 0.3 * rng.normal() / (p as f64).sqrt() }).collect();
    let mut x = vec![0.0; n * p];
    let mut y = vec![0.0; n];
    for i in 0..n {
        let row = &mut x[i * p..(i + 1) * p];
        row[0] = 1.0;
        for v in row.iter_mut().skip(1) {
            *v = rng.normal();
        }
        let eta: f64 = row.iter().zip(&beta).map(|(a, b)| a * b).sum();
        y[i] = rng.poisson(eta.exp());
    }
    println!("data: {n} rows × {p} columns, Poisson with log link, {} threads", rayon::current_num_threads());

    let glm = Glm::new(GlmFamily::Poisson).intercept(0);
    let mut times = Vec::new();
    let mut fit = None;
    let cpu0 = cpu_seconds();
    for _ in 0..3 {
        let t = Instant::now();
        let f = glm.fit(&x, p, &y).expect("fit");
        times.push(t.elapsed().as_secs_f64());
        fit = Some(f);
    }
    let cpu = cpu_seconds().zip(cpu0).map(|(b, a)| (b - a) / 3.0);
    let fit = fit.unwrap();
    let fit_time = median(times);

    // The floor: one parallel pass reading X once (η = Xβ summed), same blocks of rows.
    let mut pass_times = Vec::new();
    let mut sink = 0.0;
    for _ in 0..3 {
        let t = Instant::now();
        sink += x
            .par_chunks(4096 * p)
            .map(|c| {
                c.chunks_exact(p)
                    .map(|r| r.iter().zip(&fit.coef).map(|(a, b)| a * b).sum::<f64>())
                    .sum::<f64>()
            })
            .collect::<Vec<f64>>()
            .iter()
            .sum::<f64>();
        pass_times.push(t.elapsed().as_secs_f64());
    }
    let pass_time = median(pass_times);
    let max_err = fit.coef.iter().zip(&beta).map(|(a, b)| (a - b).abs() / 1.0).fold(0.0, f64::max);
    println!(
        "fit: {fit_time:.3} s (median of 3), {} iterations, converged {}",
        fit.iterations, fit.converged
    );
    if let Some(c) = cpu {
        println!("CPU time per fit (all threads): {c:.3} s; load average: {}", load_average());
    }
    println!(
        "plain pass over X: {:.4} s; ratio fit / (iterations × pass) = {:.2}",
        pass_time,
        fit_time / (fit.iterations as f64 * pass_time)
    );
    println!("max |β̂ − β| = {max_err:.2e} (sink {sink:.3e})");
    match peak_memory_mib() {
        Some(m) => {
            println!("peak memory (VmHWM): {m:.0} MiB (X alone: {:.0} MiB)", (n * p * 8) as f64 / 1048576.0)
        }
        None => println!("peak memory: unavailable"),
    }
}
